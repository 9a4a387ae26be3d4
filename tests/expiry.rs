//! Issued-at and expiry are enforced at the exact second, with the leeway.

use sealed_session::{Error, Key, KeyEntry, Keyring, Refusal, SealError, Sealer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const T0: u64 = 1_800_000_000;

/// A clock the test moves by hand.
#[derive(Clone)]
struct Manual(Arc<AtomicU64>);

impl Manual {
    fn at(secs: u64) -> Self {
        Manual(Arc::new(AtomicU64::new(secs)))
    }
    fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }
    fn clock(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let now = self.0.clone();
        move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst))
    }
}

fn sealer(clock: &Manual, ttl: u64, leeway: u64) -> Sealer {
    let key = Key::insecure_from_bytes(&[9u8; 32]);
    Sealer::new(Keyring::new([KeyEntry::new(1, key)]).expect("ring"))
        .with_ttl(Duration::from_secs(ttl))
        .with_leeway(Duration::from_secs(leeway))
        .with_clock(clock.clock())
}

#[test]
fn a_value_opens_until_its_expiry_and_not_at_it() {
    let clock = Manual::at(T0);
    let sealer = sealer(&clock, 3600, 0);
    let value = sealer.seal_bytes(b"s").expect("seals");
    let opened = sealer.open_bytes(&value).expect("opens");
    assert_eq!(opened.issued_at, UNIX_EPOCH + Duration::from_secs(T0));
    assert_eq!(
        opened.expires_at,
        UNIX_EPOCH + Duration::from_secs(T0 + 3600)
    );
    clock.set(T0 + 3599);
    assert!(sealer.open_bytes(&value).is_ok());
    clock.set(T0 + 3600);
    assert_eq!(
        sealer.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Expired))
    );
    clock.set(u64::MAX / 2);
    assert_eq!(
        sealer.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Expired))
    );
}

#[test]
fn leeway_extends_both_ends_by_exactly_its_length() {
    let clock = Manual::at(T0);
    let sealer = sealer(&clock, 3600, 60);
    let value = sealer.seal_bytes(b"s").expect("seals");
    clock.set(T0 + 3600 + 59);
    assert!(sealer.open_bytes(&value).is_ok());
    clock.set(T0 + 3600 + 60);
    assert_eq!(
        sealer.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Expired))
    );
    // Another server whose clock is behind.
    clock.set(T0 - 60);
    assert!(sealer.open_bytes(&value).is_ok());
    clock.set(T0 - 61);
    assert_eq!(
        sealer.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::NotYetValid))
    );
}

/// The idle timeout is an expiry like the TTL: enforced with the leeway.
/// A copied cookie unused for `idle` still opens for up to the leeway more
/// (browsers drop it at `Max-Age`); a leeway of zero ends it at `idle`.
#[test]
fn the_idle_timeout_is_enforced_with_the_leeway() {
    for leeway in [60, 0] {
        let clock = Manual::at(T0);
        let sealer = sealer(&clock, 3600, leeway)
            .with_idle_timeout(Duration::from_secs(300), Duration::from_secs(60));
        let value = sealer.seal_bytes(b"s").expect("seals");
        clock.set(T0 + 300 + leeway - 1);
        assert!(sealer.open_bytes(&value).is_ok(), "leeway {leeway}");
        clock.set(T0 + 300 + leeway);
        assert_eq!(
            sealer.open_bytes(&value).err(),
            Some(Error::Refused(Refusal::Expired)),
            "leeway {leeway}"
        );
    }
}

/// An idle timeout also bounds what a value sealed without it, or under a
/// longer one, may have left to run: the envelope does not say when the
/// value was last used, so one expiring later than `idle` plus the leeway
/// from now was not sealed under this timeout, and is refused as a value
/// sealed under a longer TTL is (`LifetimeTooLong`). Turning the timeout on
/// or lowering it thus ends the longer sessions at once, instead of
/// letting a copy go unused until its TTL. A value within the bound opens.
#[test]
fn an_idle_timeout_bounds_values_sealed_without_it() {
    let clock = Manual::at(T0);
    let idle = |secs| {
        sealer(&clock, 3600, 60)
            .with_idle_timeout(Duration::from_secs(secs), Duration::from_secs(60))
    };
    let without = sealer(&clock, 3600, 60).seal_bytes(b"s").expect("seals");
    let longer = idle(600).seal_bytes(b"s").expect("seals");
    let own = idle(300).seal_bytes(b"s").expect("seals");
    // At T0: 3600 s and 600 s left, over 300 + 60.
    for value in [&without, &longer] {
        assert_eq!(
            idle(300).open_bytes(value).err(),
            Some(Error::Refused(Refusal::LifetimeTooLong))
        );
    }
    assert!(idle(300).open_bytes(&own).is_ok());
    // Once no more than 360 s are left, each opens.
    clock.set(T0 + 3600 - 361);
    assert_eq!(
        idle(300).open_bytes(&without).err(),
        Some(Error::Refused(Refusal::LifetimeTooLong))
    );
    clock.set(T0 + 3600 - 360);
    assert!(idle(300).open_bytes(&without).is_ok());
    clock.set(T0 + 600 - 360);
    assert!(idle(300).open_bytes(&longer).is_ok());
    // The value sealed without it still opens where there is none.
    clock.set(T0 + 1);
    assert!(sealer(&clock, 3600, 60).open_bytes(&without).is_ok());
}

#[test]
fn a_value_from_the_future_is_not_yet_valid_without_leeway() {
    let clock = Manual::at(T0);
    let sealer = sealer(&clock, 3600, 0);
    let value = sealer.seal_bytes(b"s").expect("seals");
    clock.set(T0 - 1);
    assert_eq!(
        sealer.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::NotYetValid))
    );
    clock.set(0);
    assert_eq!(
        sealer.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::NotYetValid))
    );
    clock.set(T0);
    assert!(sealer.open_bytes(&value).is_ok());
}

#[test]
fn the_opener_enforces_the_sealed_expiry_not_its_own_ttl() {
    let clock = Manual::at(T0);
    let short = sealer(&clock, 60, 0);
    let long = sealer(&clock, 86_400, 0);
    let value = short.seal_bytes(b"s").expect("seals");
    clock.set(T0 + 60);
    assert_eq!(
        long.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Expired))
    );
}

#[test]
fn a_zero_ttl_value_is_already_expired() {
    let clock = Manual::at(T0);
    let sealer = sealer(&clock, 0, 0);
    let value = sealer.seal_bytes(b"s").expect("seals");
    assert_eq!(
        sealer.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Expired))
    );
}

#[test]
fn extreme_clocks_do_not_panic() {
    for now in [0, 1, u64::from(u32::MAX), u64::MAX / 4] {
        let clock = Manual::at(now);
        let s = sealer(&clock, u64::MAX / 8, u64::MAX / 8);
        if let Ok(value) = s.seal_bytes(b"s") {
            assert!(s.open_bytes(&value).is_ok());
        }
        let s = sealer(&clock, u64::MAX, u64::MAX).with_ttl(Duration::MAX);
        match s.seal_bytes(b"s") {
            Ok(value) => assert!(matches!(
                s.open_bytes(&value),
                Ok(_) | Err(Error::Refused(Refusal::Expired))
            )),
            Err(e) => assert_eq!(e, Error::Seal(SealError::TimeRange)),
        }
    }
}

/// The opener's own TTL bounds a value too: a value sealed with the
/// longest lifetime the opener accepts (its TTL plus leeway) is refused as
/// `Expired` at `issued_at + ttl + leeway`, before its own expiry plus the
/// leeway has come.
#[test]
fn the_openers_ttl_ends_a_value_before_its_own_expiry() {
    let clock = Manual::at(T0);
    let long = sealer(&clock, 3660, 0);
    let opener = sealer(&clock, 3600, 60);
    let value = long.seal_bytes(b"s").expect("seals");
    clock.set(T0 + 3659);
    opener.open_bytes(&value).expect("opens a second before");
    clock.set(T0 + 3660);
    assert!(matches!(
        opener.open_bytes(&value),
        Err(Error::Refused(Refusal::Expired))
    ));
    // The value's own expiry plus the leeway is a minute later still.
    clock.set(T0 + 3660 + 59);
    assert!(matches!(
        opener.open_bytes(&value),
        Err(Error::Refused(Refusal::Expired))
    ));
}

/// The TTL counts whole seconds: a fraction of a second is dropped, from
/// the lifetime a value carries and from what the sealer reports.
#[test]
fn the_ttl_counts_whole_seconds() {
    let clock = Manual::at(T0);
    let key = || Key::insecure_from_bytes(&[9u8; 32]);
    for (ttl, secs) in [(1500, 1), (500, 0), (86_400_999, 86_400)] {
        let sealer = Sealer::new(Keyring::new([KeyEntry::new(1, key())]).expect("ring"))
            .with_ttl(Duration::from_millis(ttl))
            .with_clock(clock.clock());
        assert_eq!(sealer.ttl(), Duration::from_secs(secs));
        let opened = sealer
            .open_bytes(&sealer.seal_bytes(b"s").expect("seals"))
            .expect("opens within the leeway");
        let lifetime = opened
            .expires_at
            .duration_since(opened.issued_at)
            .expect("expires after it is issued");
        assert_eq!(lifetime, Duration::from_secs(secs), "{ttl} ms");
    }
}

/// The idle timeout is lowered to the TTL and the refresh interval to the
/// idle timeout, whatever order the builder calls come in.
#[test]
fn the_idle_timeout_is_lowered_to_the_ttl_and_the_refresh_to_it() {
    let clock = Manual::at(T0);
    let secs = Duration::from_secs;
    let refresh_over_idle = sealer(&clock, 3600, 0).with_idle_timeout(secs(60), secs(600));
    assert_eq!(refresh_over_idle.idle_timeout(), Some((secs(60), secs(60))));
    let idle_over_ttl = sealer(&clock, 3600, 0)
        .with_idle_timeout(secs(7200), secs(60))
        .with_ttl(secs(30));
    assert_eq!(idle_over_ttl.idle_timeout(), Some((secs(30), secs(30))));
    // A fresh seal lives the lowered idle time: 30 s, not 7200 s and not 0.
    let value = idle_over_ttl.seal_bytes(b"s").expect("seals");
    clock.set(T0 + 29);
    idle_over_ttl.open_bytes(&value).expect("opens before 30 s");
    clock.set(T0 + 30);
    assert_eq!(
        idle_over_ttl.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Expired))
    );
}

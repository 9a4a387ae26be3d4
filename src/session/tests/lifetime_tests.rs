//! The absolute lifetime across writes, renewal, and the size check
//! against the keyring's largest envelope. (A re-seal that no longer fits,
//! and its error event: tests/common/checks/logging.rs, over HTTP.)

use super::*;
use crate::key::{Algorithm, Key};
use crate::keyring::{KeyEntry, Keyring};
use crate::sealer::Sealer;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

const START: u64 = 1_800_000_000;
const HOUR: u64 = 3600;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A one-hour session over `keyring`, read at the time in `clock`.
fn config(keyring: Arc<Keyring>, clock: &Arc<AtomicU64>) -> SessionConfig {
    let clock = Arc::clone(clock);
    let sealer = Sealer::from_shared(keyring)
        .with_ttl(Duration::from_secs(HOUR))
        .with_clock(move || at(clock.load(Ordering::SeqCst)));
    SessionConfig::new(sealer).expect("valid")
}

fn cookie_of(header: &str) -> String {
    header.split(';').next().expect("name=value").to_owned()
}

fn max_age(header: &str) -> u64 {
    header
        .rsplit_once("Max-Age=")
        .expect("Max-Age")
        .1
        .parse()
        .expect("seconds")
}

/// A stolen cookie kept alive by a writing route (a visit counter)
/// still ends one TTL after login: every write keeps the first
/// `issued_at` and expiry, and `Max-Age` counts down to it.
#[test]
fn absolute_lifetime_writes_keep_issued_at() {
    let clock = Arc::new(AtomicU64::new(START));
    let c = config(Arc::new(Keyring::ephemeral().expect("rng")), &clock);
    let s = Session::<u64>::load(&c, []);
    s.set(0).expect("small");
    assert_eq!(s.issued_at(), Some(at(START)));
    assert_eq!(s.expires_at(), Some(at(START + HOUR)));
    let mut header = s.finish_one().expect("changed");
    assert_eq!(max_age(&header), HOUR);
    for minute in (10..60).step_by(10) {
        clock.store(START + minute * 60, Ordering::SeqCst);
        let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
        assert_eq!(s.issued_at(), Some(at(START)), "minute {minute}");
        assert_eq!(s.expires_at(), Some(at(START + HOUR)));
        s.update(|n| *n += 1).expect("small");
        assert_eq!(s.issued_at(), Some(at(START)));
        header = s.finish_one().expect("changed");
        assert_eq!(max_age(&header), HOUR - minute * 60);
    }
    // Past the lifetime and the leeway: no session, the cookie removed.
    clock.store(START + HOUR + 61, Ordering::SeqCst);
    let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
    assert!(s.is_empty());
    assert_eq!(s.finish_one(), Some(c.removal_cookie()));
}

/// `renew` (login, privilege change) gives the session a fresh
/// `issued_at`; a write after it keeps the new one.
#[test]
fn renew_starts_a_new_lifetime() {
    let clock = Arc::new(AtomicU64::new(START));
    let c = config(Arc::new(Keyring::ephemeral().expect("rng")), &clock);
    let s = Session::<String>::load(&c, []);
    s.set("anonymous cart".into()).expect("small");
    let header = s.finish_one().expect("changed");

    clock.store(START + 600, Ordering::SeqCst);
    let s = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
    assert_eq!(s.issued_at(), Some(at(START)));
    s.renew().expect("re-seals");
    assert_eq!(s.issued_at(), Some(at(START + 600)));
    s.set("ada".into()).expect("small");
    assert_eq!(s.issued_at(), Some(at(START + 600)));
    let header = s.finish_one().expect("changed");
    assert_eq!(max_age(&header), HOUR);
    let s = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
    assert_eq!(s.get().as_deref(), Some("ada"));
    assert_eq!(s.expires_at(), Some(at(START + 600 + HOUR)));

    // Renewing an empty session writes nothing; its next store is fresh.
    let s = Session::<String>::load(&c, []);
    s.renew().expect("nothing to seal");
    assert_eq!(s.issued_at(), None);
    assert_eq!(s.finish_one(), None);
}

/// The largest string that `set` accepts under `keyring`.
fn largest_accepted(keyring: &Arc<Keyring>, clock: &Arc<AtomicU64>) -> usize {
    let c = config(Arc::clone(keyring), clock);
    let s = Session::<String>::load(&c, []);
    let mut len = 2000;
    while s.set("x".repeat(len + 1)).is_ok() {
        len += 1;
    }
    len
}

/// A session that fits under an AES-256-GCM key with id 1 but not
/// under the XChaCha20-Poly1305 key 300 the keyring already holds for
/// the next rotation is refused at `set`, not logged out at the
/// rotation. What `set` accepts is re-sealed under key 300 when it
/// activates.
#[test]
fn set_checks_the_largest_envelope_of_the_keyring() {
    let clock = Arc::new(AtomicU64::new(START));
    let aes = KeyEntry::new(1, Key::try_generate().expect("rng")).algorithm(Algorithm::Aes256Gcm);
    let only_aes = Arc::new(Keyring::new([aes.clone()]).expect("keyring"));
    let next =
        KeyEntry::new(300, Key::try_generate().expect("rng")).activate_at(at(START + HOUR / 2));
    let both = Arc::new(Keyring::new([aes, next]).expect("keyring"));

    let fits_aes = largest_accepted(&only_aes, &clock);
    let fits_both = largest_accepted(&both, &clock);
    assert!(fits_both + 10 < fits_aes, "{fits_both} vs {fits_aes}");
    let c = config(Arc::clone(&both), &clock);
    let s = Session::<String>::load(&c, []);
    assert!(matches!(
        s.set("x".repeat(fits_aes)),
        Err(Error::Seal(SealError::TooLarge {
            max: MAX_COOKIE_BYTES,
            ..
        }))
    ));
    s.set("x".repeat(fits_both)).expect("fits every key");
    let header = s.finish_one().expect("changed");
    assert!(header.len() < MAX_COOKIE_BYTES);

    // After the activation the value is re-sealed under key 300, and
    // the new cookie still fits.
    clock.store(START + HOUR / 2 + 1, Ordering::SeqCst);
    let s = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
    let resealed = s.finish_one().expect("re-sealed under key 300");
    assert!(resealed.len() <= MAX_COOKIE_BYTES, "{}", resealed.len());
    assert!(resealed.len() > header.len());
}

/// A one-hour session with a ten-minute idle timeout, refreshed at most
/// once a minute, on `clock`.
fn idle_config(clock: &Arc<AtomicU64>) -> SessionConfig {
    let clock = Arc::clone(clock);
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"))
        .with_ttl(Duration::from_secs(HOUR))
        .with_idle_timeout(Duration::from_secs(600), Duration::from_secs(60))
        .with_clock(move || at(clock.load(Ordering::SeqCst)));
    SessionConfig::new(sealer).expect("valid")
}

/// Idle expiry under the absolute cap: a session unused for its idle time
/// expires; reads extend it, re-sealing at most once per refresh interval
/// (no Set-Cookie on every read); writes always extend it; never past the
/// TTL from issued_at. Max-Age follows.
#[test]
fn idle_sessions_expire_and_use_extends_them_up_to_the_cap() {
    let clock = Arc::new(AtomicU64::new(START));
    let c = idle_config(&clock);
    let s = Session::<u64>::load(&c, []);
    s.set(1).expect("small");
    assert_eq!(s.expires_at(), Some(at(START + 600)));
    let mut header = s.finish_one().expect("changed");
    assert_eq!(max_age(&header), 600);

    // A read 30 s later: nothing to gain yet, so no Set-Cookie.
    clock.store(START + 30, Ordering::SeqCst);
    let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
    assert_eq!(s.get(), Some(1));
    assert_eq!(s.finish_one(), None);

    // Reads every 5 minutes keep it alive, each re-sealed to now + 10 min,
    // with the same issued_at, until the absolute cap.
    let mut t = START;
    loop {
        t += 300;
        clock.store(t, Ordering::SeqCst);
        let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
        if t + 61 >= START + HOUR + 60 {
            break;
        }
        assert_eq!(s.get(), Some(1), "read at +{}", t - START);
        assert_eq!(s.issued_at(), Some(at(START)));
        if let Some(next) = s.finish_one() {
            let left = (START + HOUR).min(t + 600) - t;
            assert_eq!(max_age(&next), left, "at +{}", t - START);
            header = next;
        }
    }
    // Past the absolute lifetime nothing opens, however recently it was used.
    clock.store(START + HOUR + 61, Ordering::SeqCst);
    let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
    assert!(s.is_empty(), "absolute cap");

    // A fresh session left alone past its idle time (and the leeway) is gone.
    clock.store(START, Ordering::SeqCst);
    let s = Session::<u64>::load(&c, []);
    s.set(2).expect("small");
    let header = s.finish_one().expect("changed");
    clock.store(START + 600 + 61, Ordering::SeqCst);
    let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
    assert!(s.is_empty(), "idle timeout");
    assert_eq!(s.finish_one(), Some(c.removal_cookie()));
}

/// A read re-seals once it gains at least the refresh interval: not 59 s
/// after the seal (the expiry, rounded down to whole minutes, would not
/// move), exactly at 60 s (a minute more).
#[test]
fn a_read_reseals_once_it_gains_the_refresh_interval() {
    assert_eq!(START % 60, 0, "the expiry rounds to whole minutes");
    let clock = Arc::new(AtomicU64::new(START));
    let c = idle_config(&clock);
    let s = Session::<u64>::load(&c, []);
    s.set(1).expect("small");
    let header = s.finish_one().expect("stored");
    for (after, reseals) in [(59, false), (60, true)] {
        clock.store(START + after, Ordering::SeqCst);
        let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
        assert_eq!(s.get(), Some(1));
        match s.finish_one() {
            Some(next) => {
                assert!(reseals, "+{after} s: {next}");
                assert_eq!(max_age(&next), 600, "+{after} s");
            }
            None => assert!(!reseals, "+{after} s: not re-sealed"),
        }
    }
}

/// A session cookie sealed without an idle timeout (before it was turned
/// on) and loaded under one: no session, and the cookie is removed, since
/// nothing tells how long it went unused; its user logs in again.
#[test]
fn a_cookie_sealed_without_the_idle_timeout_is_refused_under_it() {
    let clock = Arc::new(AtomicU64::new(START));
    let keyring = Arc::new(Keyring::ephemeral().expect("rng"));
    let before = config(Arc::clone(&keyring), &clock);
    let s = Session::<u64>::load(&before, []);
    s.set(1).expect("small");
    let header = s.finish_one().expect("stored");
    let idle = {
        let clock = Arc::clone(&clock);
        let sealer = Sealer::from_shared(keyring)
            .with_ttl(Duration::from_secs(HOUR))
            .with_idle_timeout(Duration::from_secs(600), Duration::from_secs(60))
            .with_clock(move || at(clock.load(Ordering::SeqCst)));
        SessionConfig::new(sealer).expect("valid")
    };
    clock.store(START + 60, Ordering::SeqCst);
    let s = Session::<u64>::load(&idle, [cookie_of(&header).as_bytes()]);
    assert!(s.is_empty());
    assert_eq!(s.finish_one(), Some(idle.removal_cookie()));
}

/// The CSRF cookie is sealed without the session's idle timeout: its
/// `Max-Age` is the session's absolute lifetime, and the token minted when
/// the session began still passes after three idle timeouts of a session
/// kept alive by reads every five minutes (with the idle timeout on the
/// CSRF cookie, it would stop opening after ten minutes: a 403 for a user
/// who never left).
#[test]
fn the_csrf_cookie_outlives_the_idle_timeout_of_a_session_in_use() {
    let clock = Arc::new(AtomicU64::new(START));
    let c = idle_config(&clock);
    let s = Session::<u64>::load(&c, []);
    s.set(1).expect("small");
    let token = s.csrf_token().expect("a token");
    let headers = s.finish();
    let find = |headers: &[String], name: &str| {
        headers
            .iter()
            .find(|h| h.starts_with(&format!("{name}=")))
            .cloned()
    };
    let mut session = find(&headers, "session").expect("the session cookie");
    let csrf = find(&headers, "session-csrf").expect("the CSRF cookie");
    assert_eq!(max_age(&csrf), HOUR);
    assert_eq!(max_age(&session), 600);
    let mut t = START;
    while t < START + 1800 {
        t += 300;
        clock.store(t, Ordering::SeqCst);
        let cookies = [cookie_of(&session), cookie_of(&csrf)];
        let s = Session::<u64>::load(&c, cookies.iter().map(|c| c.as_bytes()));
        assert_eq!(s.get(), Some(1), "at +{}", t - START);
        assert_eq!(s.verify_csrf_token(&token), Ok(()), "at +{}", t - START);
        if let Some(next) = find(&s.finish(), "session") {
            session = next;
        }
    }
}

/// A client that replays one cookie without storing its refreshed value
/// gets the same re-sealed value within a refresh interval: the idle
/// refresh spends one nonce per interval, not one per request.
#[test]
fn idle_refresh_of_a_replayed_cookie_is_deterministic() {
    let clock = Arc::new(AtomicU64::new(START));
    let c = idle_config(&clock);
    let s = Session::<u64>::load(&c, []);
    s.set(1).expect("small");
    let old = cookie_of(&s.finish_one().expect("changed"));
    let mut refreshed = std::collections::BTreeSet::new();
    for second in 200..250 {
        clock.store(START + second, Ordering::SeqCst);
        let s = Session::<u64>::load(&c, [old.as_bytes()]);
        refreshed.insert(cookie_of(&s.finish_one().expect("worth a refresh")));
    }
    // 200..239 s and 240..249 s: the expiry moves once, at a multiple of
    // the refresh interval.
    assert_eq!(refreshed.len(), 2, "{refreshed:?}");
}

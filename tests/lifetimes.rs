//! Lifetimes are bounded by the opener, not by what a value says: a leaked
//! old key cannot mint a long-lived session, writes keep the first
//! `issued_at` (an absolute lifetime), and configured times stay
//! representable.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::{Error, Key, KeyEntry, Keyring, Refusal, Sealer, DEFAULT_LEEWAY, MAX_TTL};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct User {
    name: String,
    admin: bool,
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

const NOW: u64 = 1_800_000_000;
const DAY: Duration = Duration::from_secs(86_400);

/// An attacker who holds old key 1 (still listed, no longer sealing) seals
/// `admin` for 100 years, or backdated with a long life. The server refuses
/// both (`LifetimeTooLong`), so one request cannot re-seal such a value
/// under the current key with a forged expiry that outlives the removal of
/// key 1. What the attacker can still mint opens for at most the server's
/// TTL, and its re-seal keeps that bound.
#[test]
fn leaked_old_key_cannot_mint_a_long_lived_session() {
    let old = Key::try_generate().expect("rng");
    let server_ring = Arc::new(
        Keyring::new([
            KeyEntry::new(1, old.clone()),
            KeyEntry::new(2, Key::try_generate().expect("rng")),
        ])
        .expect("keyring"),
    );
    let server = Sealer::from_shared(server_ring.clone())
        .with_ttl(DAY)
        .with_clock(|| at(NOW));
    let attacker_ring = Keyring::new([KeyEntry::new(1, old)]).expect("keyring");
    let admin = User {
        name: "mallory".into(),
        admin: true,
    };

    let century = Sealer::new(attacker_ring)
        .with_ttl(Duration::from_secs(100 * 365 * 86_400))
        .with_clock(|| at(NOW));
    let forged = century.seal(&admin).expect("seals");
    assert_eq!(
        server.open::<User>(&forged),
        Err(Error::Refused(Refusal::LifetimeTooLong))
    );

    let backdated = century.clone().with_clock(|| at(NOW - 50 * 365 * 86_400));
    let forged = backdated.seal(&admin).expect("seals");
    assert_eq!(
        server.open::<User>(&forged),
        Err(Error::Refused(Refusal::LifetimeTooLong))
    );

    // Backdated with a lifetime the server allows: expired.
    let day_old = century
        .clone()
        .with_ttl(DAY)
        .with_clock(|| at(NOW - 2 * 86_400));
    let forged = day_old.seal(&admin).expect("seals");
    assert_eq!(
        server.open::<User>(&forged),
        Err(Error::Refused(Refusal::Expired))
    );

    // Within the server's TTL it opens (the key is listed), and its re-seal
    // under key 2 ends no later than the server's TTL from now.
    let fresh = century.clone().with_ttl(DAY).seal(&admin).expect("seals");
    let opened = server.open::<User>(&fresh).expect("opens");
    assert!(opened.needs_reseal);
    let resealed = server.reseal(&opened).expect("re-seals");
    let reopened = server.open::<User>(&resealed).expect("opens");
    assert!(reopened.expires_at <= at(NOW) + DAY);

    // A reseal of an Opened whose times were edited is refused too.
    let mut edited = server.open::<User>(&fresh).expect("opens");
    edited.expires_at = at(NOW + 10 * 365 * 86_400);
    assert_eq!(
        server.reseal(&edited),
        Err(Error::Refused(Refusal::LifetimeTooLong))
    );

    // The leeway is the only slack.
    let slack = century
        .clone()
        .with_ttl(DAY + DEFAULT_LEEWAY)
        .seal(&admin)
        .expect("seals");
    assert!(server.open::<User>(&slack).is_ok());
    let over = century
        .clone()
        .with_ttl(DAY + DEFAULT_LEEWAY + Duration::from_secs(1))
        .seal(&admin)
        .expect("seals");
    assert_eq!(
        server.open::<User>(&over),
        Err(Error::Refused(Refusal::LifetimeTooLong))
    );
}

/// Writing to a session keeps its first `issued_at`: a stolen value kept
/// alive by a writing route still ends at the absolute lifetime. Only a
/// fresh seal (a renewal, for login) restarts it.
#[test]
fn absolute_lifetime_survives_writes() {
    let keyring = Arc::new(Keyring::ephemeral().expect("rng"));
    let sealer_at = |secs: u64| {
        Sealer::from_shared(keyring.clone())
            .with_ttl(DAY)
            .with_clock(move || at(secs))
    };
    let first = sealer_at(NOW).seal(&1u32).expect("seals");
    let mut value = first;
    // A write every hour for 23 hours: same issued_at, same expiry.
    for hour in 1..24 {
        let sealer = sealer_at(NOW + hour * 3600);
        let opened = sealer.open::<u32>(&value).expect("opens");
        assert_eq!(opened.issued_at, at(NOW));
        assert_eq!(opened.expires_at, at(NOW) + DAY);
        value = sealer
            .seal_issued_at(&(opened.value + 1), opened.issued_at)
            .expect("seals");
    }
    // Past the lifetime (and the leeway) nothing opens, and a write is
    // refused instead of starting the session over.
    let late = sealer_at(NOW + 86_400 + 61);
    assert_eq!(
        late.open::<u32>(&value),
        Err(Error::Refused(Refusal::Expired))
    );
    assert_eq!(
        late.seal_issued_at(&99u32, at(NOW)),
        Err(Error::Refused(Refusal::Expired))
    );
    // A renewal starts a new lifetime.
    let renewed = late.seal(&99u32).expect("seals");
    assert_eq!(
        late.open::<u32>(&renewed).expect("opens").issued_at,
        at(NOW + 86_400 + 61)
    );
    // An issued_at in the future is refused.
    assert_eq!(
        sealer_at(NOW).seal_issued_at(&1u32, at(NOW + 3600)),
        Err(Error::Refused(Refusal::NotYetValid))
    );
}

/// A TTL past what `SystemTime` can hold used to be clamped only when the
/// value was opened (its `expires_at` shown before its `issued_at`), so a
/// re-seal shortened it. The TTL is bounded when configured instead: the
/// expiry is exact and a re-seal keeps it.
#[test]
fn ttl_is_bounded_at_configuration() {
    let keyring = Arc::new(
        Keyring::new([
            KeyEntry::new(1, Key::try_generate().expect("rng")),
            KeyEntry::new(2, Key::try_generate().expect("rng")).activate_at(at(NOW + 10)),
        ])
        .expect("keyring"),
    );
    let sealer = Sealer::from_shared(keyring.clone())
        .with_ttl(Duration::MAX)
        .with_leeway(Duration::MAX)
        .with_clock(|| at(NOW));
    let value = sealer.seal(&"forever-ish").expect("seals");
    let opened = sealer.open::<String>(&value).expect("opens");
    assert_eq!(opened.expires_at, at(NOW) + MAX_TTL);
    assert!(opened.expires_at > opened.issued_at);
    let later = sealer.clone().with_clock(|| at(NOW + 20));
    let opened = later.open::<String>(&value).expect("opens");
    assert!(opened.needs_reseal);
    let resealed = later.reseal(&opened).expect("re-seals");
    let reopened = later.open::<String>(&resealed).expect("opens");
    assert_eq!(reopened.expires_at, at(NOW) + MAX_TTL);
    assert_eq!(reopened.issued_at, at(NOW));
}

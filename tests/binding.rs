//! A value sealed for one cookie name or purpose opens for no other.

use sealed_session::{Error, Key, KeyEntry, Keyring, Refusal, Sealer};
use std::sync::Arc;

fn ring() -> Arc<Keyring> {
    let key = Key::try_generate().expect("os rng");
    Arc::new(Keyring::new([KeyEntry::new(1, key)]).expect("ring"))
}

#[test]
fn another_cookie_name_does_not_open() {
    let ring = ring();
    let session = Sealer::from_shared(ring.clone()).with_name("session");
    let value = session.seal_bytes(b"user=1").expect("seals");
    for other in ["Session", "session ", "csrf", "__Host-session", ""] {
        let sealer = Sealer::from_shared(ring.clone()).with_name(other);
        assert_eq!(
            sealer.open_bytes(&value).err(),
            Some(Error::Refused(Refusal::Authentication)),
            "{other:?}"
        );
    }
    assert!(session.open_bytes(&value).is_ok());
}

#[test]
fn another_purpose_does_not_open() {
    let ring = ring();
    let v1 = Sealer::from_shared(ring.clone()).with_purpose("app/session/v1");
    let value = v1.seal_bytes(b"user=1").expect("seals");
    let v2 = Sealer::from_shared(ring.clone()).with_purpose("app/session/v2");
    assert_eq!(
        v2.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Authentication))
    );
    assert!(v1.open_bytes(&value).is_ok());
}

/// The defaults are the name `session` and the empty purpose: a default
/// sealer's values open with those given explicitly, and not with another
/// name or any purpose.
#[test]
fn the_defaults_are_session_and_the_empty_purpose() {
    let ring = ring();
    let default = Sealer::from_shared(ring.clone());
    assert_eq!((default.name(), default.purpose()), ("session", ""));
    let value = default.seal_bytes(b"user=1").expect("seals");
    let explicit = Sealer::from_shared(ring.clone())
        .with_name("session")
        .with_purpose("");
    assert!(explicit.open_bytes(&value).is_ok());
    for other in [
        Sealer::from_shared(ring.clone()).with_purpose("v1"),
        Sealer::from_shared(ring.clone()).with_name("sid"),
    ] {
        assert_eq!(
            other.open_bytes(&value).err(),
            Some(Error::Refused(Refusal::Authentication))
        );
    }
}

#[test]
fn name_and_purpose_cannot_trade_bytes() {
    // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    let ring = ring();
    let a = Sealer::from_shared(ring.clone())
        .with_name("ab")
        .with_purpose("c");
    let b = Sealer::from_shared(ring.clone())
        .with_name("a")
        .with_purpose("bc");
    let value = a.seal_bytes(b"x").expect("seals");
    assert_eq!(
        b.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Authentication))
    );
}

#[test]
fn the_same_key_id_with_another_secret_does_not_open() {
    let a = Sealer::new(
        Keyring::new([KeyEntry::new(1, Key::try_generate().expect("rng"))]).expect("ring"),
    );
    let b = Sealer::new(
        Keyring::new([KeyEntry::new(1, Key::try_generate().expect("rng"))]).expect("ring"),
    );
    let value = a.seal_bytes(b"x").expect("seals");
    assert_eq!(
        b.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::Authentication))
    );
}

//! Key rotation: old keys open and ask for a re-seal, the newest active key
//! seals, removed keys revoke, schedules switch at the exact second.

use sealed_session::{
    Algorithm, ConfigError, Error, Key, KeyEntry, KeyId, Keyring, Refusal, Sealer,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const T0: u64 = 1_800_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn key(byte: u8) -> Key {
    Key::insecure_from_bytes(&[byte; 32])
}

fn manual(
    secs: u64,
) -> (
    Arc<AtomicU64>,
    impl Fn() -> SystemTime + Send + Sync + 'static,
) {
    let now = Arc::new(AtomicU64::new(secs));
    let read = now.clone();
    (now, move || at(read.load(Ordering::SeqCst)))
}

fn sealer(entries: Vec<KeyEntry>, now: u64) -> Sealer {
    Sealer::new(Keyring::new(entries).expect("ring"))
        .with_ttl(Duration::from_secs(86_400))
        .with_leeway(Duration::ZERO)
        .with_clock(move || at(now))
}

#[test]
fn an_old_key_opens_and_asks_for_a_reseal_that_keeps_the_expiry() {
    let old = sealer(vec![KeyEntry::new(1, key(1))], T0);
    let value = old.seal_bytes(b"cart=3").expect("seals");

    // Later, key 2 (AES-GCM this time) is added and seals.
    let new = sealer(
        vec![
            KeyEntry::new(1, key(1)),
            KeyEntry::new(2, key(2)).algorithm(Algorithm::Aes256Gcm),
        ],
        T0 + 3600,
    );
    let opened = new.open_bytes(&value).expect("old key still opens");
    assert_eq!(opened.key_id, KeyId(1));
    assert!(opened.needs_reseal);
    assert_eq!(opened.value, b"cart=3");

    let resealed = new.reseal_bytes(&opened).expect("reseals");
    let again = new.open_bytes(&resealed).expect("opens");
    assert_eq!(again.key_id, KeyId(2));
    assert!(!again.needs_reseal);
    assert_eq!(again.value, b"cart=3");
    assert_eq!(again.issued_at, opened.issued_at);
    assert_eq!(
        again.expires_at,
        at(T0 + 86_400),
        "a rotation never extends a session"
    );

    // The typed path does the same.
    let typed = old.seal(&("ada", 7u32)).expect("seals");
    let opened = new.open::<(String, u32)>(&typed).expect("opens");
    assert!(opened.needs_reseal);
    let again = new
        .open::<(String, u32)>(&new.reseal(&opened).expect("reseals"))
        .expect("opens");
    assert_eq!(
        (again.key_id, again.expires_at),
        (KeyId(2), opened.expires_at)
    );
}

#[test]
fn removing_a_key_revokes_its_values() {
    let both = sealer(vec![KeyEntry::new(1, key(1)), KeyEntry::new(2, key(2))], T0);
    let only_one = sealer(vec![KeyEntry::new(1, key(1))], T0);
    let value = only_one.seal_bytes(b"x").expect("seals");
    assert!(both.open_bytes(&value).is_ok());
    let without = sealer(vec![KeyEntry::new(2, key(2))], T0);
    assert_eq!(
        without.open_bytes(&value).err(),
        Some(Error::Refused(Refusal::UnknownKey(KeyId(1))))
    );
}

#[test]
fn a_scheduled_key_starts_sealing_at_its_activation_second() {
    let (now, clock) = manual(T0);
    let ring = Keyring::new([
        KeyEntry::new(1, key(1)),
        KeyEntry::new(2, key(2)).activate_at(at(T0 + 100)),
    ])
    .expect("ring");
    let sealer = Sealer::new(ring)
        .with_leeway(Duration::ZERO)
        .with_clock(clock);

    let before = sealer.seal_bytes(b"x").expect("seals");
    assert_eq!(sealer.keyring().sealing_key_id(at(T0 + 99)), Ok(KeyId(1)));
    now.store(T0 + 99, Ordering::SeqCst);
    let last_old = sealer.seal_bytes(b"x").expect("seals");
    assert_eq!(
        sealer.open_bytes(&last_old).expect("opens").key_id,
        KeyId(1)
    );
    // The scheduled key opens before it seals (deploy first, switch later).
    assert!(!sealer.open_bytes(&before).expect("opens").needs_reseal);

    now.store(T0 + 100, Ordering::SeqCst);
    let first_new = sealer.seal_bytes(b"x").expect("seals");
    let opened = sealer.open_bytes(&first_new).expect("opens");
    assert_eq!(opened.key_id, KeyId(2));
    assert!(!opened.needs_reseal);
    // From the switch on, values of the old key ask for a re-seal.
    assert!(sealer.open_bytes(&before).expect("opens").needs_reseal);
}

#[test]
fn the_highest_active_id_seals_whatever_the_listing_order() {
    let entries = || {
        vec![
            KeyEntry::new(3, key(3)),
            KeyEntry::new(10, key(10)).activate_at(at(T0 + 50)),
            KeyEntry::new(7, key(7)).algorithm(Algorithm::Aes256Gcm),
            KeyEntry::new(1, key(1)),
        ]
    };
    let mut reversed = entries();
    reversed.reverse();
    let mut rotated = entries();
    rotated.rotate_left(2);
    for list in [entries(), reversed, rotated] {
        let ring = Keyring::new(list).expect("ring");
        assert_eq!(ring.sealing_key_id(at(T0)), Ok(KeyId(7)));
        assert_eq!(ring.sealing_key_id(at(T0 + 50)), Ok(KeyId(10)));
        assert_eq!(ring.ids().collect::<Vec<_>>(), [1, 3, 7, 10].map(KeyId));
        // A value sealed by one ordering opens under every other.
        let a = Sealer::new(ring).with_clock(|| at(T0));
        let b = sealer(entries(), T0);
        let value = a.seal_bytes(b"x").expect("seals");
        assert_eq!(b.open_bytes(&value).expect("opens").key_id, KeyId(7));
    }
}

#[test]
fn no_key_may_seal_before_the_first_activation() {
    let ring = Keyring::new([KeyEntry::new(5, key(5)).activate_at(at(T0))]).expect("ring");
    let sealer = Sealer::new(ring).with_clock(|| at(T0 - 1));
    assert_eq!(
        sealer.seal_bytes(b"x").err(),
        Some(Error::Config(ConfigError::NoSealingKey))
    );
}

#[test]
fn a_reseal_of_an_expired_value_is_refused() {
    let (now, clock) = manual(T0);
    let sealer = Sealer::new(Keyring::new([KeyEntry::new(1, key(1))]).expect("ring"))
        .with_ttl(Duration::from_secs(10))
        .with_leeway(Duration::ZERO)
        .with_clock(clock);
    let opened = sealer
        .open_bytes(&sealer.seal_bytes(b"x").expect("seals"))
        .expect("opens");
    now.store(T0 + 10, Ordering::SeqCst);
    assert_eq!(
        sealer.reseal_bytes(&opened).err(),
        Some(Error::Refused(Refusal::Expired))
    );
}

#[test]
fn servers_with_skewed_clocks_do_not_undo_a_rotation() {
    // Server A's clock passed key 2's activation, server B's is 5 s behind.
    let entries = || {
        vec![
            KeyEntry::new(1, key(1)),
            KeyEntry::new(2, key(2)).activate_at(at(T0)),
        ]
    };
    let a = sealer(entries(), T0 + 2);
    let b = sealer(entries(), T0 - 3).with_leeway(Duration::from_secs(60));
    let from_a = a.seal_bytes(b"x").expect("seals");
    let on_b = b.open_bytes(&from_a).expect("opens on b");
    assert_eq!(on_b.key_id, KeyId(2));
    assert!(!on_b.needs_reseal, "b must not re-seal under the older key");
    let from_b = b.seal_bytes(b"x").expect("seals");
    assert!(a.open_bytes(&from_b).expect("opens on a").needs_reseal);
}

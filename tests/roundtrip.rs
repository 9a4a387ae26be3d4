//! Sealed values open to what was sealed, for both algorithms and all sizes.

use proptest::prelude::*;
use sealed_session::{Algorithm, Error, Key, KeyEntry, Keyring, Refusal, SealError, Sealer};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Session {
    user_id: u64,
    username: String,
    roles: Vec<String>,
    csrf_token: [u8; 32],
    flash: Option<String>,
}

fn sealer(algorithm: Algorithm) -> Sealer {
    let key = Key::try_generate().expect("os rng");
    Sealer::new(Keyring::new([KeyEntry::new(1, key).algorithm(algorithm)]).expect("ring"))
}

const ALGORITHMS: [Algorithm; 2] = [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm];

#[test]
fn typed_sessions_round_trip_with_both_algorithms() {
    for algorithm in ALGORITHMS {
        let sealer = sealer(algorithm);
        let session = Session {
            user_id: 4_211_337,
            username: "alice@example.com".into(),
            roles: vec!["admin".into(), "editor".into()],
            csrf_token: [7; 32],
            flash: Some("Welcome back!".into()),
        };
        let value = sealer.seal(&session).expect("seals");
        let opened = sealer.open::<Session>(&value).expect("opens");
        assert_eq!(opened.value, session);
        assert_eq!(opened.key_id.0, 1);
        assert!(!opened.needs_reseal);
        assert_eq!(
            opened
                .expires_at
                .duration_since(opened.issued_at)
                .expect("after"),
            sealer.ttl()
        );
    }
}

#[test]
fn empty_small_and_3kb_payloads_round_trip() {
    for algorithm in ALGORITHMS {
        let sealer = sealer(algorithm);
        for len in [0usize, 1, 15, 16, 17, 88, 1000, 3000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
            let value = sealer.seal_bytes(&payload).expect("seals");
            assert!(
                value.len() <= 4096,
                "{len} bytes gave {} chars",
                value.len()
            );
            assert_eq!(sealer.open_bytes(&value).expect("opens").value, payload);
            // Typed: a String of the same length.
            let text = "x".repeat(len);
            let value = sealer.seal(&text).expect("seals");
            assert_eq!(sealer.open::<String>(&value).expect("opens").value, text);
        }
    }
}

#[test]
fn values_are_cookie_safe_and_each_seal_is_fresh() {
    let sealer = sealer(Algorithm::default());
    let a = sealer.seal_bytes(b"same").expect("seals");
    let b = sealer.seal_bytes(b"same").expect("seals");
    assert_ne!(a, b, "a fresh nonce per seal");
    for value in [a, b] {
        assert!(value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}

#[test]
fn payloads_over_the_maximum_are_refused_at_seal_time() {
    for algorithm in ALGORITHMS {
        let sealer = sealer(algorithm).with_max_len(200);
        let mut fits = 0;
        for len in 0..200 {
            match sealer.seal_bytes(&vec![0u8; len]) {
                Ok(value) => {
                    assert!(value.len() <= 200);
                    fits = len;
                }
                Err(Error::Seal(SealError::TooLarge { max, .. })) => assert_eq!(max, 200),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        // The largest payload that fits yields a value right at the limit.
        let value = sealer.seal_bytes(&vec![0u8; fits]).expect("fits");
        assert!(value.len() > 196, "{}", value.len());
        let too_big = "y".repeat(500);
        assert!(matches!(
            sealer.seal(&too_big),
            Err(Error::Seal(SealError::TooLarge { .. }))
        ));
    }
}

#[test]
fn a_value_of_another_type_is_a_decode_error() {
    let sealer = sealer(Algorithm::default());
    let value = sealer.seal(&"not a number").expect("seals");
    assert_eq!(
        sealer.open::<u64>(&value).err(),
        Some(Error::Refused(Refusal::Decode))
    );
    // Trailing bytes after the decoded value are refused as well.
    let value = sealer.seal(&(1u8, 2u8)).expect("seals");
    assert_eq!(
        sealer.open::<u8>(&value).err(),
        Some(Error::Refused(Refusal::Decode))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_payload_name_and_purpose_round_trip(
        payload in proptest::collection::vec(any::<u8>(), 0..2000),
        name in "[A-Za-z0-9_-]{1,24}",
        purpose in ".{0,40}",
        aes in any::<bool>(),
    ) {
        let algorithm = if aes { Algorithm::Aes256Gcm } else { Algorithm::XChaCha20Poly1305 };
        let sealer = sealer(algorithm).with_name(&name).with_purpose(&purpose);
        let value = sealer.seal_bytes(&payload).expect("seals");
        prop_assert_eq!(sealer.open_bytes(&value).expect("opens").value, payload);
    }
}

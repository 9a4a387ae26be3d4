//! Known-answer vectors (`tests/vectors/v1.txt`, written by an independent
//! implementation) and values frozen from released versions
//! (`tests/vectors/frozen.txt`) open through the public API, forever; the
//! authentic-but-malformed values of `tests/vectors/v1_malformed.txt` fail
//! with exactly the error SECURITY.md names.
//!
//! The keys of v1.txt and frozen.txt are patterns on purpose (0, 1, 2, ...;
//! 32 times 0x42), which the randomness check refuses: they are loaded with
//! `Key::insecure_from_bytes`, the one path without it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sealed_session::{Algorithm, Error, Key, KeyEntry, KeyId, Keyring, Refusal, Sealer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn blocks(text: &str) -> Vec<HashMap<&str, &str>> {
    text.split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect::<HashMap<_, _>>()
        })
        .filter(|b| !b.is_empty())
        .collect()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn number(block: &HashMap<&str, &str>, field: &str) -> u64 {
    block[field].parse().expect("number")
}

/// A published test key, loaded without the randomness check.
fn test_key(base64url: &str) -> Key {
    let bytes = URL_SAFE_NO_PAD.decode(base64url).expect("base64url");
    Key::insecure_from_bytes(&bytes.try_into().expect("32 bytes"))
}

/// A keyring spec of published test keys (`ID:ALGORITHM:KEY` entries
/// separated by spaces), loaded without the randomness check.
fn test_keyring(spec: &str) -> Keyring {
    Keyring::new(spec.split_whitespace().map(|entry| {
        let mut fields = entry.split(':');
        let (Some(id), Some(alg), Some(key), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            panic!("entry {entry:?}");
        };
        let algorithm: Algorithm = alg.parse().expect("algorithm");
        KeyEntry::new(id.parse::<u32>().expect("id"), test_key(key)).algorithm(algorithm)
    }))
    .expect("keyring")
}

#[test]
fn known_answer_vectors_open() {
    let all = blocks(include_str!("vectors/v1.txt"));
    assert_eq!(all.len(), 5);
    for v in all {
        let algorithm: Algorithm = v["algorithm"].parse().expect("algorithm");
        let id = number(&v, "key_id") as u32;
        let key = test_key(v["key"]);
        let ring = Keyring::new([KeyEntry::new(id, key).algorithm(algorithm)]).expect("ring");
        let issued_at = number(&v, "issued_at");
        let expires_at = number(&v, "expires_at");
        // The opener's TTL must cover the value's lifetime: a value is
        // never trusted beyond the sealer's own limit.
        let sealer = Sealer::new(ring)
            .with_name(v["name"])
            .with_purpose(v["purpose"])
            .with_ttl(Duration::from_secs(expires_at - issued_at))
            .with_leeway(Duration::ZERO)
            .with_clock(move || at(issued_at));
        let opened = sealer.open_bytes(v["value"]).expect(v["comment"]);
        assert_eq!(opened.value, hex(v["payload"]), "{}", v["comment"]);
        assert_eq!(opened.key_id, KeyId(id));
        assert_eq!(
            (opened.issued_at, opened.expires_at),
            (at(issued_at), at(expires_at))
        );
        // And at the expiry second it no longer opens.
        let late = sealer.with_clock(move || at(expires_at));
        assert_eq!(
            late.open_bytes(v["value"]).err(),
            Some(Error::Refused(Refusal::Expired))
        );
    }
}

/// The session every benchmark uses (see benches/common).
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Session {
    user_id: u64,
    username: String,
    roles: Vec<String>,
    csrf_token: [u8; 32],
    issued_at: u64,
    flash: Option<String>,
}

fn small_session() -> Session {
    Session {
        user_id: 4_211_337,
        username: "alice@example.com".into(),
        roles: vec!["admin".into(), "editor".into()],
        csrf_token: [7; 32],
        issued_at: 1_764_000_000,
        flash: Some("Welcome back!".into()),
    }
}

#[test]
fn frozen_values_from_released_versions_still_open() {
    let all = blocks(include_str!("vectors/frozen.txt"));
    assert!(all.len() >= 4);
    for v in all {
        let ring = test_keyring(v["keyring"]);
        let issued_at = number(&v, "issued_at");
        let lifetime = number(&v, "expires_at") - issued_at;
        let sealer = Sealer::new(ring)
            .with_name(v["name"])
            .with_purpose(v["purpose"])
            .with_ttl(Duration::from_secs(lifetime))
            .with_clock(move || at(issued_at + 1));
        let opened = sealer.open_bytes(v["value"]).expect(v["comment"]);
        assert_eq!(opened.value, hex(v["payload"]), "{}", v["comment"]);
        assert_eq!(opened.expires_at, at(number(&v, "expires_at")));
        if v["comment"].contains("typed") {
            let typed = sealer.open::<Session>(v["value"]).expect("typed");
            assert_eq!(typed.value, small_session());
        }
    }
}

#[test]
fn the_benchmark_vector_is_the_small_session_in_postcard() {
    let v = blocks(include_str!("vectors/v1.txt"))
        .into_iter()
        .find(|v| v["comment"].contains("benchmark"))
        .expect("benchmark vector");
    let sealer = Sealer::new(Keyring::new([KeyEntry::new(7, test_key(v["key"]))]).expect("ring"))
        .with_name(v["name"])
        .with_purpose(v["purpose"])
        .with_ttl(Duration::from_secs(14 * 86_400))
        .with_clock(move || at(1_764_000_000));
    let opened = sealer
        .open::<Session>(v["value"])
        .expect("opens as the session");
    assert_eq!(opened.value, small_session());
    // 88 bytes of postcard make a 184-character value with XChaCha20-Poly1305.
    assert_eq!(hex(v["payload"]).len(), 88);
    assert_eq!(v["value"].len(), 184);
}

/// Finding 12: SECURITY.md's step 6 named no error for bad times inside an
/// authentic value. They are `Malformed`: non-canonical, cut off, longer
/// than 10 bytes, over a u64, or summing past a u64. The values were sealed
/// by the reference implementation (tests/vectors/reference_v1.py
/// --malformed), so they pass authentication; the control at the edge of
/// the range is not malformed.
#[test]
fn bad_times_inside_an_authentic_value_are_malformed() {
    let all = blocks(include_str!("vectors/v1_malformed.txt"));
    assert!(all.len() >= 12);
    let mut malformed = 0;
    for v in all {
        let algorithm: Algorithm = v["algorithm"].parse().expect("algorithm");
        let id = number(&v, "key_id") as u32;
        // Random-looking keys: they load through the checked path.
        let key = Key::from_base64(v["key"]).expect("key");
        let ring =
            Arc::new(Keyring::new([KeyEntry::new(id, key).algorithm(algorithm)]).expect("ring"));
        let expected = match v["error"] {
            "Malformed" => Error::Refused(Refusal::Malformed),
            "NotYetValid" => Error::Refused(Refusal::NotYetValid),
            other => panic!("unknown error {other}"),
        };
        malformed += usize::from(expected == Error::Refused(Refusal::Malformed));
        for now in [0, 1_800_000_000, u64::from(u32::MAX) * 4] {
            let sealer = Sealer::from_shared(Arc::clone(&ring))
                .with_name(v["name"])
                .with_purpose(v["purpose"])
                .with_clock(move || at(now));
            assert_eq!(
                sealer.open_bytes(v["value"]).err(),
                Some(expected.clone()),
                "{} (opened at {now})",
                v["comment"]
            );
        }
        // Under another purpose the same value is an authentication
        // failure: the times are read only after authentication.
        let other = Sealer::from_shared(ring)
            .with_name(v["name"])
            .with_purpose("another/v1");
        assert_eq!(
            other.open_bytes(v["value"]).err(),
            Some(Error::Refused(Refusal::Authentication)),
            "{}",
            v["comment"]
        );
    }
    assert!(malformed >= 12);
}

/// Envelope v2 (padded): the known-answer vectors of
/// `tests/vectors/v2.txt`, written by `tests/vectors/reference_v2.py`, open
/// through the public API with their payload and times, whether the opener
/// pads or not; the authentic values with a bad payload length or padding
/// are `Malformed`, and the control opens.
#[test]
fn v2_vectors_open_and_bad_padding_is_malformed() {
    let all = blocks(include_str!("vectors/v2.txt"));
    let (mut opened_count, mut malformed) = (0, 0);
    for v in all {
        let algorithm: Algorithm = v["algorithm"].parse().expect("algorithm");
        let id = number(&v, "key_id") as u32;
        if let Some(error) = v.get("error") {
            let key = Key::from_base64(v["key"]).expect("key");
            let ring = Keyring::new([KeyEntry::new(id, key).algorithm(algorithm)]).expect("ring");
            let sealer = Sealer::new(ring)
                .with_name(v["name"])
                .with_purpose(v["purpose"])
                .with_clock(|| at(1_800_000_000));
            match *error {
                "Malformed" => {
                    malformed += 1;
                    assert_eq!(
                        sealer.open_bytes(v["value"]).err(),
                        Some(Error::Refused(Refusal::Malformed)),
                        "{}",
                        v["comment"]
                    );
                }
                "Opens" => assert_eq!(
                    sealer.open_bytes(v["value"]).expect(v["comment"]).value,
                    b"ab"
                ),
                other => panic!("unknown error {other}"),
            }
            continue;
        }
        let ring = Keyring::new([KeyEntry::new(id, test_key(v["key"])).algorithm(algorithm)])
            .expect("ring");
        let (issued_at, expires_at) = (number(&v, "issued_at"), number(&v, "expires_at"));
        let sealer = Sealer::new(ring)
            .with_name(v["name"])
            .with_purpose(v["purpose"])
            .with_ttl(Duration::from_secs(expires_at - issued_at))
            .with_clock(move || at(issued_at));
        let info = sealed_session::EnvelopeInfo::inspect(v["value"]).expect("inspects");
        assert_eq!((info.version, info.key_id), (2, KeyId(id)));
        for opener in [
            sealer.clone(),
            sealer
                .clone()
                .with_padding(sealed_session::Padding::power_of_two()),
        ] {
            let opened = opener.open_bytes(v["value"]).expect(v["comment"]);
            assert_eq!(opened.value, hex(v["payload"]), "{}", v["comment"]);
            assert_eq!(
                (opened.issued_at, opened.expires_at),
                (at(issued_at), at(expires_at))
            );
        }
        // The plaintext is what SECURITY.md says: times, the payload's
        // length, the payload, then `padding` zero bytes.
        let plaintext = hex(v["plaintext"]);
        let padding: usize = v["padding"].parse().expect("padding");
        assert!(plaintext.ends_with(
            &hex(v["payload"])
                .into_iter()
                .chain(vec![0; padding])
                .collect::<Vec<_>>()
        ));
        opened_count += 1;
    }
    assert_eq!((opened_count, malformed), (4, 6));
}

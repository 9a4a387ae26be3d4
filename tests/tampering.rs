//! Any change to a sealed value is rejected: every bit, every length, every
//! re-encoding.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use sealed_session::{Algorithm, Error, Key, KeyEntry, KeyId, Keyring, Refusal, Sealer};
use std::time::{Duration, UNIX_EPOCH};

const ALGORITHMS: [Algorithm; 2] = [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm];

fn sealer(algorithm: Algorithm) -> Sealer {
    let key = Key::try_generate().expect("os rng");
    // Two keys, so a flipped key id can also land on a key that exists.
    let other = Key::try_generate().expect("os rng");
    Sealer::new(
        Keyring::new([
            KeyEntry::new(1, key).algorithm(algorithm),
            KeyEntry::new(0, other).algorithm(algorithm),
        ])
        .expect("ring"),
    )
}

fn assert_rejected(sealer: &Sealer, value: &str, what: &str) {
    match sealer.open_bytes(value) {
        Ok(opened) => panic!("{what}: accepted {:?}", opened.value),
        Err(
            Error::Refused(Refusal::Malformed)
            | Error::Refused(Refusal::Authentication)
            | Error::Refused(Refusal::UnknownKey(_))
            | Error::Refused(Refusal::UnsupportedVersion(_))
            | Error::Refused(Refusal::TooLong { .. }),
        ) => {}
        Err(other) => panic!("{what}: unexpected error {other:?}"),
    }
}

#[test]
fn flipping_any_bit_of_the_envelope_is_rejected() {
    for algorithm in ALGORITHMS {
        let sealer = sealer(algorithm);
        let value = sealer.seal_bytes(b"user_id=42;role=admin").expect("seals");
        let bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
        for i in 0..bin.len() * 8 {
            let mut bad = bin.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert_rejected(&sealer, &URL_SAFE_NO_PAD.encode(&bad), &format!("bit {i}"));
        }
        assert!(sealer.open_bytes(&value).is_ok());
    }
}

#[test]
fn flipping_any_bit_of_the_text_is_rejected() {
    let sealer = sealer(Algorithm::default());
    let value = sealer.seal_bytes(b"x").expect("seals");
    for (i, byte) in value.bytes().enumerate() {
        for bit in 0..8 {
            let mut bad = value.clone().into_bytes();
            bad[i] = byte ^ (1 << bit);
            // Not UTF-8 any more: the value cannot be a &str at all.
            if let Ok(bad) = String::from_utf8(bad) {
                assert_rejected(&sealer, &bad, &format!("char {i} bit {bit}"));
            }
        }
    }
}

#[test]
fn truncating_at_every_length_is_rejected() {
    for algorithm in ALGORITHMS {
        let sealer = sealer(algorithm);
        let value = sealer.seal_bytes(b"some session").expect("seals");
        for len in 0..value.len() {
            assert_rejected(&sealer, &value[..len], &format!("truncated to {len}"));
        }
        let bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
        for len in 0..bin.len() {
            assert_rejected(
                &sealer,
                &URL_SAFE_NO_PAD.encode(&bin[..len]),
                &format!("{len} bytes"),
            );
        }
    }
}

/// An envelope must hold at least the nonce and the 16-byte tag after the
/// key id: one byte fewer is `Malformed` (refused before any decryption),
/// exactly that is decrypted (and fails `Authentication`).
#[test]
fn an_envelope_shorter_than_nonce_and_tag_is_malformed() {
    for algorithm in ALGORITHMS {
        let sealer = sealer(algorithm);
        let least = 2 + algorithm.nonce_len() + 16;
        let envelope = |len: usize| {
            let mut bin = vec![0x5a; len];
            bin[..2].copy_from_slice(&[1, 1]);
            URL_SAFE_NO_PAD.encode(&bin)
        };
        assert_eq!(
            sealer.open_bytes(&envelope(least - 1)),
            Err(Error::Refused(Refusal::Malformed)),
            "{algorithm}"
        );
        assert_eq!(
            sealer.open_bytes(&envelope(least)),
            Err(Error::Refused(Refusal::Authentication)),
            "{algorithm}"
        );
    }
}

#[test]
fn appending_is_rejected() {
    let sealer = sealer(Algorithm::default());
    let value = sealer.seal_bytes(b"some session").expect("seals");
    let bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
    for byte in 0..=255u8 {
        let mut longer = bin.clone();
        longer.push(byte);
        assert_rejected(
            &sealer,
            &URL_SAFE_NO_PAD.encode(&longer),
            &format!("byte {byte}"),
        );
    }
    for c in "AZaz09-_=+/. ;\"".chars() {
        assert_rejected(&sealer, &format!("{value}{c}"), &format!("char {c:?}"));
        assert_rejected(&sealer, &format!("{c}{value}"), &format!("leading {c:?}"));
    }
}

#[test]
fn other_base64_encodings_of_the_same_bytes_are_rejected() {
    let sealer = sealer(Algorithm::default());
    // Seal until the value has a character where the alphabets differ and a
    // length that needs padding.
    let (value, bin) = (0..1000)
        .map(|_| {
            let value = sealer.seal_bytes(b"abc").expect("seals");
            let bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
            (value, bin)
        })
        .find(|(value, bin)| value.contains(['-', '_']) && bin.len() % 3 != 0)
        .expect("some value needs padding and uses - or _");
    for other in [
        URL_SAFE.encode(&bin),
        STANDARD.encode(&bin),
        STANDARD_NO_PAD.encode(&bin),
    ] {
        assert_ne!(other, value);
        assert_rejected(&sealer, &other, &format!("re-encoded as {other}"));
    }
    // Non-zero unused bits in the last character decode to the same bytes
    // with a lenient decoder: refused here.
    let last = value.chars().last().expect("non-empty");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let pos = alphabet.find(last).expect("base64url char");
    let unused_bits = if bin.len() % 3 == 1 { 4 } else { 2 };
    for low in 1..(1 << unused_bits) {
        let c = alphabet.as_bytes()[(pos & !((1 << unused_bits) - 1)) | low] as char;
        let mut bad = value.clone();
        bad.pop();
        bad.push(c);
        assert_rejected(&sealer, &bad, "non-canonical trailing bits");
    }
    // Whitespace, quotes and percent-encoding are not stripped.
    for bad in [
        format!(" {value}"),
        format!("{value}\n"),
        format!("\"{value}\""),
        value.replace('-', "%2D"),
    ] {
        if bad != value {
            assert_rejected(&sealer, &bad, "decorated");
        }
    }
}

#[test]
fn a_non_canonical_key_id_is_rejected() {
    // Key id 1 written as two LEB128 bytes (0x81 0x00) must not open.
    let sealer = sealer(Algorithm::default());
    let value = sealer.seal_bytes(b"x").expect("seals");
    let bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
    assert_eq!(bin[1], 1);
    let mut bad = vec![bin[0], 0x81, 0x00];
    bad.extend_from_slice(&bin[2..]);
    assert_eq!(
        sealer.open_bytes(&URL_SAFE_NO_PAD.encode(&bad)).err(),
        Some(Error::Refused(Refusal::Malformed))
    );
}

#[test]
fn other_versions_are_refused_by_number() {
    let sealer = sealer(Algorithm::default());
    let value = sealer.seal_bytes(b"x").expect("seals");
    let mut bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
    for version in [0u8, 3, 0x80, 0xff] {
        bin[0] = version;
        assert_eq!(
            sealer.open_bytes(&URL_SAFE_NO_PAD.encode(&bin)).err(),
            Some(Error::Refused(Refusal::UnsupportedVersion(version)))
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_mutation_is_rejected(
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
        aes in any::<bool>(),
    ) {
        let algorithm = if aes { Algorithm::Aes256Gcm } else { Algorithm::XChaCha20Poly1305 };
        let sealer = sealer(algorithm);
        let value = sealer.seal_bytes(&payload).expect("seals");
        let mut bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
        let original = bin.clone();
        for (index, byte, kind) in edits {
            match kind {
                0 => { let i = index.index(bin.len()); bin[i] ^= byte | 1; }
                1 => { let i = index.index(bin.len() + 1); bin.insert(i, byte); }
                _ => { if !bin.is_empty() { let i = index.index(bin.len()); bin.remove(i); } }
            }
        }
        prop_assume!(bin != original);
        let mutated = URL_SAFE_NO_PAD.encode(&bin);
        // Failing is not enough: Expired, NotYetValid or Decode (or Ok)
        // would mean the mutated value passed authentication.
        let result = sealer.open_bytes(&mutated).map(|opened| opened.value);
        prop_assert!(
            matches!(
                result,
                Err(Error::Refused(Refusal::Malformed)
                    | Error::Refused(Refusal::Authentication)
                    | Error::Refused(Refusal::UnknownKey(_))
                    | Error::Refused(Refusal::UnsupportedVersion(_))
                    | Error::Refused(Refusal::TooLong { .. }))
            ),
            "{:?}",
            result
        );
    }
}

/// Unsigned LEB128, as the envelope writes key ids.
fn leb128(mut n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

/// Two ids holding the same secret (an operator who re-lists a key under a
/// new id, which SECURITY.md forbids but nothing can detect): a value sealed
/// under one id must not open relabeled as the other, because the key id
/// as sent is associated data. Same algorithm and different algorithms;
/// ids of the same and of different LEB128 lengths, in both directions.
#[test]
fn relabeled_key_id_with_the_same_secret_is_rejected() {
    let secret = Key::try_generate().expect("os rng");
    let later = UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100
    for (from, to) in [
        (1u32, 2u32),
        (2, 1),
        (1, 0),
        (1, 300),
        (300, 1),
        (1, u32::MAX),
    ] {
        for (from_alg, to_alg) in [
            (Algorithm::XChaCha20Poly1305, Algorithm::XChaCha20Poly1305),
            (Algorithm::Aes256Gcm, Algorithm::Aes256Gcm),
            (Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm),
            (Algorithm::Aes256Gcm, Algorithm::XChaCha20Poly1305),
        ] {
            let mut other = KeyEntry::new(to, secret.clone()).algorithm(to_alg);
            if to > from {
                other = other.activate_at(later); // so `from` seals
            }
            let sealer = Sealer::new(
                Keyring::new([
                    KeyEntry::new(from, secret.clone()).algorithm(from_alg),
                    other,
                ])
                .expect("ring"),
            );
            let what = format!("{from} ({from_alg}) -> {to} ({to_alg})");
            let value = sealer.seal_bytes(b"user_id=42;role=admin").expect("seals");
            let opened = sealer.open_bytes(&value).expect("opens as sealed");
            assert_eq!(opened.key_id, KeyId(from), "{what}");

            let bin = URL_SAFE_NO_PAD.decode(&value).expect("base64url");
            let id_len = leb128(from).len();
            assert_eq!(&bin[1..1 + id_len], &leb128(from)[..], "{what}");
            let mut relabeled = vec![bin[0]];
            relabeled.extend_from_slice(&leb128(to));
            relabeled.extend_from_slice(&bin[1 + id_len..]);
            assert_eq!(
                sealer.open_bytes(&URL_SAFE_NO_PAD.encode(&relabeled)).err(),
                Some(Error::Refused(Refusal::Authentication)),
                "{what}"
            );
        }
    }
}

//! Known-answer vectors: sealing with the nonce fixed must give exactly
//! the values in `tests/vectors/v1.txt` (`tests/vectors.rs` opens them).

use super::*;
use crate::{Algorithm, Key, KeyEntry};

struct Vector<'a> {
    fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Vector<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("vector lacks {name}"))
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn vectors(text: &str) -> Vec<Vector<'_>> {
    text.split("\n\n")
        .map(|block| Vector {
            fields: block
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("key = value");
                    (k.trim(), v.trim())
                })
                .collect(),
        })
        .filter(|v| !v.fields.is_empty())
        .collect()
}

/// A vector's sealer (its key under its id and algorithm, its name and
/// purpose, a clock at its `issued_at`), and its times.
fn vector_sealer(v: &Vector<'_>) -> (Sealer, Times) {
    let algorithm: Algorithm = v.get("algorithm").parse().expect("algorithm");
    let id: u32 = v.get("key_id").parse().expect("id");
    // Vector keys are patterned on purpose: only the unchecked
    // constructor takes them.
    let key_bytes: [u8; 32] = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        v.get("key"),
    )
    .expect("base64url")
    .try_into()
    .expect("32 bytes");
    let key = Key::insecure_from_bytes(&key_bytes);
    let issued_at: u64 = v.get("issued_at").parse().expect("issued_at");
    let expires_at: u64 = v.get("expires_at").parse().expect("expires_at");
    let keyring = Keyring::new([KeyEntry::new(id, key).algorithm(algorithm)]).expect("ring");
    let sealer = Sealer::new(keyring)
        .with_name(v.get("name"))
        .with_purpose(v.get("purpose"))
        .with_clock(move || UnixTime::from_secs(issued_at).to_system());
    let times = Times {
        issued_at: UnixTime::from_secs(issued_at),
        expires_at: UnixTime::from_secs(expires_at),
    };
    (sealer, times)
}

#[test]
fn sealing_with_a_fixed_nonce_gives_the_known_answers() {
    let text = include_str!("../../tests/vectors/v1.txt");
    let all = vectors(text);
    assert!(all.len() >= 4, "vectors file is incomplete");
    for v in all {
        let (sealer, times) = vector_sealer(&v);
        let id: u32 = v.get("key_id").parse().expect("id");
        let payload = hex(v.get("payload"));
        let nonce = hex(v.get("nonce"));
        let value = sealer
            .seal_at(
                times.issued_at,
                times,
                NonceSource::Fixed(&nonce),
                |buf, room| bytes_into(&payload, buf, room),
            )
            .expect("seals")
            .value;
        assert_eq!(value, v.get("value"), "vector {}", v.get("comment"));
        // The documented associated data and plaintext, byte for byte.
        let mut aad = vec![1u8];
        let mut id_bytes = Vec::new();
        let mut n = id;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                id_bytes.push(byte);
                break;
            }
            id_bytes.push(byte | 0x80);
        }
        aad.extend_from_slice(&id_bytes);
        aad.extend_from_slice(&sealer.context.0);
        assert_eq!(aad, hex(v.get("aad")), "aad of {}", v.get("comment"));
    }
}

/// The seal side of `tests/vectors/v2.txt` (written by the independent
/// `reference_v2.py`): with the vector's nonce and a padding class of the
/// vector's whole plaintext length, sealing gives the vector's value byte
/// for byte. (`tests/vectors.rs` opens them.)
#[test]
fn sealing_padded_with_a_fixed_nonce_gives_the_v2_known_answers() {
    let text = include_str!("../../tests/vectors/v2.txt");
    let mut sealed = 0;
    for v in vectors(text) {
        if v.fields.iter().any(|(k, _)| *k == "error") {
            // Authentic but malformed: made by hand, never by a sealer.
            continue;
        }
        let plaintext = hex(v.get("plaintext"));
        let (sealer, times) = vector_sealer(&v);
        let sealer = sealer.with_padding(crate::Padding::multiple_of(plaintext.len()));
        let payload = hex(v.get("payload"));
        let padding: usize = v.get("padding").parse().expect("padding");
        assert!(
            plaintext.ends_with(&vec![0; padding]),
            "{}",
            v.get("comment")
        );
        let value = sealer
            .seal_at(
                times.issued_at,
                times,
                NonceSource::Fixed(&hex(v.get("nonce"))),
                |buf, room| bytes_into(&payload, buf, room),
            )
            .expect("seals")
            .value;
        assert_eq!(value, v.get("value"), "vector {}", v.get("comment"));
        sealed += 1;
    }
    assert!(sealed >= 4, "only {sealed} v2 vectors sealed");
}

/// `Sealed::worst_len` is exactly the length of the same message sealed
/// under the keyring's largest envelope (a key with a longer id and a
/// longer nonce than the key that seals), padded or not, for several
/// payload lengths; and a value's own length when its key has the
/// largest envelope.
#[cfg(feature = "cookie")]
#[test]
fn worst_len_is_the_length_under_the_largest_envelope() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let sealer = |entries: Vec<KeyEntry>, padding: Padding| {
        Sealer::new(Keyring::new(entries).expect("keyring"))
            .with_padding(padding)
            .with_clock(move || now)
    };
    let aes =
        || KeyEntry::new(1, Key::try_generate().expect("rng")).algorithm(Algorithm::Aes256Gcm);
    let xchacha = || KeyEntry::new(300, Key::try_generate().expect("rng"));
    let later = now + Duration::from_secs(3600);
    for padding in [Padding::NONE, Padding::multiple_of(64)] {
        let both = sealer(vec![aes(), xchacha().activate_at(later)], padding);
        let largest = sealer(vec![xchacha()], padding);
        for len in [0, 1, 2, 3, 100, 1000] {
            let payload = "x".repeat(len);
            let sealed = both.seal_value(&payload, None).expect("seals");
            let worst = largest.seal(&payload).expect("seals").len();
            assert_eq!(sealed.worst_len(), worst, "{len} bytes, {padding:?}");
            assert!(sealed.value.len() < worst);
            let own = largest.seal_value(&payload, None).expect("seals");
            assert_eq!(own.worst_len(), own.value.len());
        }
    }
}

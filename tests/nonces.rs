//! Nonces: the random parts of every nonce are unpredictable in every byte,
//! no two seals share one, and a re-seal spends no new nonce.
//!
//! These attack the claims of SECURITY.md ("Nonces", and the threat model's
//! nonce reuse): per-thread streams with a random 128-bit prefix then a
//! counter (XChaCha20-Poly1305) or random 96-bit nonces (AES-256-GCM);
//! synthetic nonces random in every byte; and "a replayed old-key value does
//! not make a key spend nonces".

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sealed_session::{Algorithm, Key, KeyEntry, KeyId, Keyring, NonceScheme, Sealer};

const SAMPLES: usize = 4096;

fn sealer(algorithm: Algorithm) -> Sealer {
    let key = Key::try_generate().expect("os rng");
    let keyring = Keyring::new([KeyEntry::new(1, key).algorithm(algorithm)]).expect("keyring");
    // One fixed second and one payload: only the nonce's randomness can
    // make two seals differ.
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Sealer::new(keyring).with_clock(move || now)
}

fn nonce(value: &str, algorithm: Algorithm) -> Vec<u8> {
    let bin = URL_SAFE_NO_PAD.decode(value).expect("base64url");
    // version, key id 1 (one byte), then the nonce.
    bin[2..2 + algorithm.nonce_len()].to_vec()
}

/// Every byte position in `positions` takes (almost) every value, and every
/// bit is set about half the time, over [`SAMPLES`] nonces.
fn assert_random(nonces: &[Vec<u8>], positions: std::ops::Range<usize>, label: &str) {
    assert_eq!(nonces.len(), SAMPLES);
    for position in positions {
        let values: HashSet<u8> = nonces.iter().map(|n| n[position]).collect();
        // Expected about 255.9 distinct values; missing more than 16 has
        // a probability far below 2^-100 for uniform bytes.
        assert!(
            values.len() >= 240,
            "{label}: nonce byte {position} took only {} values",
            values.len()
        );
        for bit in 0..8 {
            let set = nonces
                .iter()
                .filter(|n| n[position] >> bit & 1 == 1)
                .count();
            // Mean 2048, standard deviation 32: a margin of 12 sigma.
            assert!(
                (1664..=2432).contains(&set),
                "{label}: nonce byte {position} bit {bit} set {set} times of {SAMPLES}"
            );
        }
    }
}

/// Random in every byte over 4096 seals of one message in one second:
/// synthetic nonces of both algorithms, and AES-256-GCM's per-thread
/// stream. A nonce with only some bytes random, or one derived from the
/// message alone, fails this.
#[test]
fn nonces_are_random_in_every_byte() {
    for (algorithm, scheme) in [
        (Algorithm::XChaCha20Poly1305, NonceScheme::Synthetic),
        (Algorithm::Aes256Gcm, NonceScheme::Synthetic),
        (Algorithm::Aes256Gcm, NonceScheme::PerThread),
    ] {
        let sealer = sealer(algorithm).with_nonces(scheme);
        let nonces: Vec<Vec<u8>> = (0..SAMPLES)
            .map(|_| nonce(&sealer.seal(&"one message").expect("seals"), algorithm))
            .collect();
        let distinct: HashSet<&Vec<u8>> = nonces.iter().collect();
        let label = format!("{algorithm}, {scheme:?}");
        assert_eq!(distinct.len(), SAMPLES, "{label}: a nonce repeated");
        assert_random(&nonces, 0..algorithm.nonce_len(), &label);
    }
}

/// XChaCha20-Poly1305's per-thread stream: a prefix random in every byte
/// across 4096 streams (4096 keys), then a counter from zero under it.
#[test]
fn xchacha_streams_are_a_random_prefix_then_a_counter() {
    let algorithm = Algorithm::XChaCha20Poly1305;
    let mut firsts = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let sealer = sealer(algorithm);
        let first = nonce(&sealer.seal(&"one message").expect("seals"), algorithm);
        let second = nonce(&sealer.seal(&"one message").expect("seals"), algorithm);
        assert_eq!(first[16..], 0u64.to_le_bytes(), "counter from zero");
        assert_eq!(second[..16], first[..16], "one prefix per stream");
        assert_eq!(second[16..], 1u64.to_le_bytes(), "then one");
        firsts.push(first);
    }
    let prefixes: HashSet<&[u8]> = firsts.iter().map(|n| &n[..16]).collect();
    assert_eq!(prefixes.len(), SAMPLES, "a prefix repeated");
    assert_random(&firsts, 0..16, "xchacha20poly1305 prefixes");
}

/// A client that replays one old-key value on every request (the adapters
/// re-seal it each time) makes the current key seal the same output again:
/// 300 re-seals, one value, so one nonce spent, not 300. The key's counters
/// see every seal.
#[test]
fn replayed_old_key_value_spends_no_new_nonce() {
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::XChaCha20Poly1305] {
        let activation = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let keyring = Keyring::new([
            KeyEntry::new(1, Key::try_generate().expect("rng")).algorithm(algorithm),
            KeyEntry::new(2, Key::try_generate().expect("rng"))
                .algorithm(algorithm)
                .activate_at(activation),
        ])
        .expect("keyring");
        let shared = std::sync::Arc::new(keyring);
        let before = Sealer::from_shared(shared.clone())
            .with_clock(move || activation - Duration::from_secs(10));
        let old = before.seal(&"a session").expect("seals under key 1");
        let after = Sealer::from_shared(shared.clone()).with_clock(move || activation);
        let resealed: HashSet<String> = (0..300)
            .map(|_| {
                let opened = after.open::<String>(&old).expect("opens");
                assert!(opened.needs_reseal);
                after.reseal(&opened).expect("re-seals")
            })
            .collect();
        assert_eq!(
            resealed.len(),
            1,
            "{algorithm}: re-seals of one value differ"
        );
        let stats = shared.stats(KeyId(2)).expect("key 2");
        assert_eq!((stats.seals, stats.reseals), (300, 300));
        assert_eq!(shared.stats(KeyId(1)).expect("key 1").seals, 1);
        // Fresh seals still differ.
        let a = after.seal(&"a session").expect("seals");
        let b = after.seal(&"a session").expect("seals");
        assert_ne!(a, b);
        assert_eq!(shared.stats(KeyId(2)).expect("key 2").seals, 302);
        // A re-seal of a *different* value (another old cookie) gets its own
        // nonce.
        let other = before.seal(&"another session").expect("seals");
        let other = after
            .reseal(&after.open::<String>(&other).expect("opens"))
            .expect("re-seals");
        let one = resealed.iter().next().expect("one");
        assert_ne!(nonce(&other, algorithm)[..], nonce(one, algorithm)[..]);
    }
}

/// A re-seal's nonce is derived from the whole message, its associated
/// data included: the same payload with the same times re-sealed under one
/// key for cookies of different names, or purposes, gets different nonces
/// (under AES-256-GCM one nonce for two messages would give away the
/// authentication key), while re-sealing one value twice gives one value.
#[test]
fn resealed_values_of_different_contexts_get_different_nonces() {
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::XChaCha20Poly1305] {
        let (keyring, activation) = rotating(algorithm, Key::try_generate().expect("rng"));
        // Of other lengths, and of one length differing in a byte.
        let contexts = [
            ("session", ""),
            ("other", ""),
            ("session", "v1"),
            ("session", "v2"),
            ("sessioN", "v1"),
        ];
        let nonces: HashSet<Vec<u8>> = contexts
            .iter()
            .map(|&(name, purpose)| {
                let at = |t| {
                    Sealer::from_shared(keyring.clone())
                        .with_name(name)
                        .with_purpose(purpose)
                        .with_clock(move || t)
                };
                let before = at(activation - Duration::from_secs(10));
                let after = at(activation);
                let old = before.seal(&"a session").expect("seals under key 1");
                let opened = after.open::<String>(&old).expect("opens");
                let resealed = after.reseal(&opened).expect("re-seals");
                assert_eq!(after.reseal(&opened).expect("re-seals"), resealed);
                nonce(&resealed, algorithm)
            })
            .collect();
        assert_eq!(nonces.len(), contexts.len(), "{algorithm}");
    }
}

/// A keyring of two keys of `algorithm`: key 1, then `next` as key 2 from
/// the activation time it returns on (what re-seals there).
fn rotating(algorithm: Algorithm, next: Key) -> (std::sync::Arc<Keyring>, SystemTime) {
    let activation = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let keyring = Keyring::new([
        KeyEntry::new(1, Key::try_generate().expect("rng")).algorithm(algorithm),
        KeyEntry::new(2, next)
            .algorithm(algorithm)
            .activate_at(activation),
    ])
    .expect("keyring");
    (std::sync::Arc::new(keyring), activation)
}

/// The unsigned LEB128 encoding of `n`.
fn leb128(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// A re-seal's nonce is the hash SECURITY.md gives ("Synthetic nonces"),
/// computed here from that text with the blake3 crate over the message as
/// the envelope lays it out: a zero seed, the plaintext (both times, then
/// the payload), the associated data (version, key id, name, purpose) and
/// its length. A nonce that left out any part (the times, say) fails it.
#[test]
fn a_resealed_nonce_is_the_documented_hash_of_the_whole_message() {
    const CONTEXT: &str = "sealed-session 2026-11-27 synthetic nonce key v1";
    let secret = [0x42u8; 32];
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::XChaCha20Poly1305] {
        let (keyring, activation) = rotating(algorithm, Key::insecure_from_bytes(&secret));
        let (name, purpose) = ("sid", "shop/v1");
        let at = |t| {
            Sealer::from_shared(keyring.clone())
                .with_name(name)
                .with_purpose(purpose)
                .with_clock(move || t)
        };
        let old = at(activation - Duration::from_secs(10))
            .seal(&"a session")
            .expect("seals under key 1");
        let after = at(activation);
        let opened = after.open::<String>(&old).expect("opens");
        let resealed = after.reseal(&opened).expect("re-seals");

        let issued_at = unix_secs(opened.issued_at);
        let lifetime = unix_secs(opened.expires_at) - issued_at;
        let mut plaintext = leb128(issued_at);
        plaintext.extend(leb128(lifetime));
        plaintext.extend(leb128(9));
        plaintext.extend(b"a session");
        let mut aad = vec![1, 2];
        for part in [name, purpose] {
            aad.extend(leb128(part.len() as u64));
            aad.extend(part.as_bytes());
        }
        let n = algorithm.nonce_len();
        let mut message = vec![0u8; n];
        message.extend(&plaintext);
        message.extend(&aad);
        message.extend((aad.len() as u64).to_le_bytes());
        let nonce_key = blake3::derive_key(CONTEXT, &secret);
        let expected = blake3::keyed_hash(&nonce_key, &message);
        assert_eq!(
            nonce(&resealed, algorithm),
            expected.as_bytes()[..n],
            "{algorithm}"
        );
    }
}

/// Messages that differ only in their times get different nonces: an
/// idle-timeout refresh re-seals one payload with one `issued_at` and a
/// later expiry, and users whose sessions hold the same value differ only
/// in their times when they are re-sealed after a rotation (under
/// AES-256-GCM one nonce for two messages would give away the
/// authentication key).
#[test]
fn resealed_values_of_other_times_get_different_nonces() {
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::XChaCha20Poly1305] {
        let (keyring, activation) = rotating(algorithm, Key::try_generate().expect("rng"));
        let sealer = |t, ttl| {
            Sealer::from_shared(keyring.clone())
                .with_ttl(Duration::from_secs(ttl))
                .with_clock(move || t)
        };
        let after = sealer(activation, 86_400);
        // Issued at other seconds, or at one second with another expiry.
        let olds = [
            sealer(activation - Duration::from_secs(10), 3_600),
            sealer(activation - Duration::from_secs(20), 3_600),
            sealer(activation - Duration::from_secs(10), 7_200),
        ]
        .map(|before| before.seal(&"a session").expect("seals under key 1"));
        let nonces: HashSet<Vec<u8>> = olds
            .iter()
            .map(|old| {
                let opened = after.open::<String>(old).expect("opens");
                nonce(&after.reseal(&opened).expect("re-seals"), algorithm)
            })
            .collect();
        assert_eq!(nonces.len(), olds.len(), "{algorithm}");
    }
}

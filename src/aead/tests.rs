//! The per-thread nonce streams: what each thread's nonces look like, that
//! threads never share a stream, that a stream is drawn again at the end
//! of its counter, and that every value they seal opens.

use std::collections::HashSet;
use std::sync::Barrier;

use rand::RngCore as _;

use super::*;
use crate::key::Key;

const AAD: &[u8] = b"header and context";

/// Seals `plaintext` from the calling thread's stream, checks it opens
/// through the ordinary (per-message) path, and returns its nonce. Sixteen
/// zero bytes are sealed after `plaintext`, so the check that it was
/// encrypted in place cannot fail by chance (a 1-byte ciphertext equals
/// its plaintext once in 256 seals).
fn seal_and_open(cipher: &Cipher, plaintext: &[u8]) -> Vec<u8> {
    let plaintext = &[plaintext, &[0u8; 16]].concat()[..];
    let mut nonce = vec![0u8; cipher.algorithm().nonce_len()];
    let mut body = plaintext.to_vec();
    let mut tag = [0u8; TAG_LEN];
    cipher
        .encrypt_per_thread(&mut nonce, AAD, &mut body, &mut tag)
        .expect("seals");
    assert_ne!(body, plaintext, "encrypted in place");
    cipher
        .decrypt(&nonce, AAD, &mut body, &tag)
        .expect("opens through the per-message path");
    assert_eq!(body, plaintext);
    nonce
}

fn cipher(algorithm: Algorithm) -> Cipher {
    Cipher::new(algorithm, &Key::try_generate().expect("os rng"))
}

#[test]
fn an_xchacha_stream_is_a_prefix_then_a_counter() {
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    let nonces: Vec<Vec<u8>> = (0..5).map(|i| seal_and_open(&cipher, &[i; 40])).collect();
    for (n, nonce) in nonces.iter().enumerate() {
        assert_eq!(
            nonce[..16],
            nonces[0][..16],
            "one prefix per thread and key"
        );
        assert_eq!(nonce[16..], (n as u64).to_le_bytes(), "then a counter");
    }
    assert_ne!(nonces[0][..16], [0u8; 16]);
    // Another key, another stream.
    let other = seal_and_open(&self::cipher(Algorithm::XChaCha20Poly1305), b"x");
    assert_ne!(other[..16], nonces[0][..16]);
}

#[test]
fn threads_never_share_a_stream() {
    for algorithm in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
        let cipher = cipher(algorithm);
        let threads = 8;
        let each = 200;
        // Every thread has sealed once before any goes on, so all hold a
        // stream at once. (A thread that has exited hands its stream to
        // the next new thread, which goes on counting: never two at once.)
        let barrier = Barrier::new(threads);
        let nonces: Vec<Vec<Vec<u8>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let first = seal_and_open(&cipher, b"first");
                        barrier.wait();
                        let rest =
                            (1..each).map(|i| seal_and_open(&cipher, &(i as u32).to_le_bytes()));
                        std::iter::once(first).chain(rest).collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let all: HashSet<&Vec<u8>> = nonces.iter().flatten().collect();
        assert_eq!(all.len(), threads * each, "{algorithm}: a nonce repeated");
        if algorithm == Algorithm::XChaCha20Poly1305 {
            let prefixes: HashSet<&[u8]> = nonces.iter().map(|n| &n[0][..16]).collect();
            assert_eq!(prefixes.len(), threads, "one prefix per thread");
        }
    }
}

#[test]
fn a_stream_is_drawn_again_before_its_counter_ends() {
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    let first = seal_and_open(&cipher, b"first");
    {
        let cell = cipher.streams.get().expect("this thread's stream");
        let mut stream = cell.borrow_mut();
        let StreamNonces::XChaCha { next, .. } = &mut stream.nonces else {
            panic!("an XChaCha stream");
        };
        *next = u64::MAX - 1;
    }
    let last = seal_and_open(&cipher, b"last");
    assert_eq!(last[..16], first[..16]);
    assert_eq!(last[16..], (u64::MAX - 1).to_le_bytes());
    // The counter's last value is never used: a new prefix instead.
    let next = seal_and_open(&cipher, b"next");
    assert_ne!(next[..16], first[..16], "a new stream");
    assert_eq!(next[16..], 0u64.to_le_bytes());
}

#[test]
fn aes_stream_nonces_are_random() {
    let cipher = cipher(Algorithm::Aes256Gcm);
    let nonces: Vec<Vec<u8>> = (0..64).map(|i| seal_and_open(&cipher, &[i; 3])).collect();
    let distinct: HashSet<&Vec<u8>> = nonces.iter().collect();
    assert_eq!(distinct.len(), nonces.len());
    // No byte position is constant across 64 random nonces (a fixed
    // prefix or a counter's high bytes would be): each position stays
    // the same 63 times running with probability 2^-504.
    for i in 0..12 {
        assert!(
            nonces.iter().any(|n| n[i] != nonces[0][i]),
            "byte {i} never changes"
        );
    }
}

#[test]
fn a_stream_left_by_an_exited_thread_goes_on_counting() {
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    let seal_in_a_thread = || {
        std::thread::scope(|s| {
            s.spawn(|| seal_and_open(&cipher, b"x"))
                .join()
                .expect("thread")
        })
    };
    let first = seal_in_a_thread();
    let second = seal_in_a_thread();
    // The second thread starts after the first has exited. It takes over
    // the first one's stream and goes on counting, or (when another
    // thread of the test run took that slot meanwhile) draws its own.
    assert_eq!(first[16..], 0u64.to_le_bytes());
    if second[..16] == first[..16] {
        assert_eq!(second[16..], 1u64.to_le_bytes(), "went on counting");
    } else {
        assert_eq!(second[16..], 0u64.to_le_bytes(), "a stream of its own");
    }
}

/// Seals `plaintext` under a random 24-byte nonce (as a synthetic or a
/// foreign stream's nonce would be); returns nonce, ciphertext and tag.
fn seal_random(cipher: &Cipher, plaintext: &[u8]) -> (Vec<u8>, Vec<u8>, [u8; TAG_LEN]) {
    let mut nonce = vec![0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let mut body = plaintext.to_vec();
    let tag = cipher.encrypt(&nonce, AAD, &mut body).expect("seals");
    (nonce, body, tag)
}

fn cached_prefixes(cipher: &Cipher) -> Vec<[u8; 16]> {
    cipher.subkeys.get().map_or_else(Vec::new, |cell| {
        cell.borrow().entries.iter().map(|k| k.prefix).collect()
    })
}

fn prefix_of(nonce: &[u8]) -> [u8; 16] {
    nonce[..16].try_into().expect("16 bytes")
}

fn opens(cipher: &Cipher, (nonce, body, tag): &(Vec<u8>, Vec<u8>, [u8; TAG_LEN])) -> Vec<u8> {
    let mut opened = body.clone();
    cipher.decrypt(nonce, AAD, &mut opened, tag).expect("opens");
    opened
}

#[test]
fn opening_keeps_the_subkeys_of_authentic_prefixes_only() {
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    let (nonce, body, tag) = seal_random(&cipher, b"a session");
    // A forgery under a new prefix is refused and leaves nothing behind.
    let mut forged = body.clone();
    forged[0] ^= 1;
    assert_eq!(cipher.decrypt(&nonce, AAD, &mut forged, &tag), Err(Failed));
    assert!(cached_prefixes(&cipher).is_empty());
    // The authentic value opens, and its prefix's subkey is kept.
    let mut opened = body.clone();
    cipher
        .decrypt(&nonce, AAD, &mut opened, &tag)
        .expect("opens");
    assert_eq!(opened, b"a session");
    assert_eq!(
        cached_prefixes(&cipher),
        [<[u8; 16]>::try_from(&nonce[..16]).expect("16")]
    );
    // Through the kept subkey: the same value opens again, and a forgery
    // under the same prefix (another tail, another body) is refused.
    let mut again = body.clone();
    cipher
        .decrypt(&nonce, AAD, &mut again, &tag)
        .expect("opens");
    assert_eq!(again, b"a session");
    let mut other_tail = nonce.clone();
    other_tail[23] ^= 1;
    let mut copy = body.clone();
    assert_eq!(
        cipher.decrypt(&other_tail, AAD, &mut copy, &tag),
        Err(Failed)
    );
    let mut copy = body;
    copy[3] ^= 0x40;
    assert_eq!(cipher.decrypt(&nonce, AAD, &mut copy, &tag), Err(Failed));
    assert_eq!(cached_prefixes(&cipher).len(), 1);
}

#[test]
fn each_thread_keeps_its_eight_most_recently_used_prefixes() {
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    let values: Vec<_> = (0..20u8).map(|i| seal_random(&cipher, &[i; 9])).collect();
    for round in 0..2 {
        for (i, value) in values.iter().enumerate() {
            assert_eq!(
                opens(&cipher, value),
                [i as u8; 9],
                "round {round}, value {i}"
            );
        }
    }
    let kept: HashSet<[u8; 16]> = cached_prefixes(&cipher).into_iter().collect();
    let last: HashSet<[u8; 16]> = values[12..].iter().map(|v| prefix_of(&v.0)).collect();
    assert_eq!(kept, last, "the last eight opened");
    // A prefix opened between every new one stays, however many come.
    let hot = &values[0];
    opens(&cipher, hot);
    for value in &values[1..] {
        opens(&cipher, value);
        opens(&cipher, hot);
    }
    assert!(cached_prefixes(&cipher).contains(&prefix_of(&hot.0)));
    // Another thread keeps its own: this one's do not change.
    let before = cached_prefixes(&cipher);
    std::thread::scope(|s| {
        s.spawn(|| opens(&cipher, &values[5]));
    });
    assert_eq!(cached_prefixes(&cipher), before);
}

#[test]
fn forgeries_leave_a_full_set_of_subkeys_alone() {
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    for i in 0..SUBKEYS as u8 {
        opens(&cipher, &seal_random(&cipher, &[i; 5]));
    }
    let kept = cached_prefixes(&cipher);
    assert_eq!(kept.len(), SUBKEYS);
    for i in 0..3 * SUBKEYS as u8 {
        let (nonce, mut body, tag) = seal_random(&cipher, &[i; 5]);
        body[0] ^= 1;
        assert_eq!(cipher.decrypt(&nonce, AAD, &mut body, &tag), Err(Failed));
    }
    assert_eq!(cached_prefixes(&cipher), kept);
}

#[test]
fn subkeys_are_kept_per_whole_prefix_and_per_key() {
    // Prefixes that differ only in their first or their last byte.
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    let mut nonce = vec![0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    for at in [0, 15] {
        let mut values = Vec::new();
        for flip in [0u8, 1] {
            let mut n = nonce.clone();
            n[at] ^= flip;
            let mut body = vec![flip; 7];
            let tag = cipher.encrypt(&n, AAD, &mut body).expect("seals");
            values.push((n, body, tag));
        }
        for _ in 0..2 {
            for (flip, value) in values.iter().enumerate() {
                assert_eq!(opens(&cipher, value), vec![flip as u8; 7], "byte {at}");
            }
        }
    }
    // Two keys, one prefix: each opens its own value, never the other's.
    let other = self::cipher(Algorithm::XChaCha20Poly1305);
    let mut body = b"under the other key".to_vec();
    let tag = other.encrypt(&nonce, AAD, &mut body).expect("seals");
    let theirs = (nonce.clone(), body, tag);
    let mut body = b"under this key".to_vec();
    let tag = cipher.encrypt(&nonce, AAD, &mut body).expect("seals");
    let ours = (nonce, body, tag);
    for _ in 0..2 {
        assert_eq!(opens(&cipher, &ours), b"under this key");
        assert_eq!(opens(&other, &theirs), b"under the other key");
        let mut crossed = theirs.1.clone();
        assert_eq!(
            cipher.decrypt(&theirs.0, AAD, &mut crossed, &theirs.2),
            Err(Failed)
        );
    }
}

#[test]
fn kept_subkeys_never_move() {
    let cipher = cipher(Algorithm::XChaCha20Poly1305);
    opens(&cipher, &seal_random(&cipher, b"first"));
    let at = |cipher: &Cipher| {
        let cell = cipher.subkeys.get().expect("this thread's");
        let kept = cell.borrow();
        (kept.entries.as_ptr() as usize, kept.entries.capacity())
    };
    let first = at(&cipher);
    assert_eq!(first.1, SUBKEYS);
    for i in 0..3 * SUBKEYS as u8 {
        opens(&cipher, &seal_random(&cipher, &[i; 3]));
    }
    assert_eq!(
        at(&cipher),
        first,
        "reallocated: copies of subkeys left behind"
    );
}

/// The RustCrypto backend (the one without `ring`) wipes a stream's subkey
/// and its XChaCha key copy when they are dropped, as SECURITY.md says of
/// our copies (ring's are not wiped, and SECURITY.md says so).
#[cfg(target_os = "linux")]
#[test]
fn zeroization_rust_crypto_subkeys_are_wiped_on_drop() {
    use crate::zeroize_tests::{
        holds_any_of, pattern, read_memory, read_memory_into, reading_memory,
    };
    let _alone = reading_memory();
    let key: [u8; 32] = pattern(32).try_into().expect("32 bytes");
    let prefix: [u8; 16] = pattern(16).try_into().expect("16 bytes");
    let subkey = backend::hchacha20(&key, &prefix);
    let xchacha = Box::new(backend::rust_crypto::XChaCha::new(&key));
    let subkeyed = Box::new(xchacha.subkeyed(&prefix));
    let regions = [
        (
            &*xchacha as *const _ as usize,
            core::mem::size_of_val(&*xchacha),
            key,
        ),
        (
            &*subkeyed as *const _ as usize,
            core::mem::size_of_val(&*subkeyed),
            subkey,
        ),
    ];
    for (addr, len, secret) in regions {
        assert!(
            holds_any_of(&read_memory(addr, len), &secret),
            "reads the live secret"
        );
    }
    let mut after: Vec<Vec<u8>> = regions.iter().map(|r| vec![0u8; r.1]).collect();
    drop(subkeyed);
    drop(xchacha);
    for ((addr, _, secret), after) in regions.into_iter().zip(&mut after) {
        read_memory_into(addr, after);
        assert!(
            !holds_any_of(after, &secret),
            "left in freed memory: {after:02x?}"
        );
    }
}

/// The RustCrypto backend's AES-256-GCM (without `ring`) wipes its key
/// schedule when dropped: the first two round keys of AES-256 are the key
/// itself, so none of it may remain where the cipher was.
#[cfg(target_os = "linux")]
#[test]
fn zeroization_rust_crypto_aes_key_schedule_is_wiped_on_drop() {
    use crate::zeroize_tests::{
        holds_any_of, pattern, read_memory, read_memory_into, reading_memory,
    };
    let _alone = reading_memory();
    let key: [u8; 32] = pattern(32).try_into().expect("32 bytes");
    let aes = Box::new(backend::rust_crypto::Aes::new(&key));
    let (addr, len) = (&*aes as *const _ as usize, core::mem::size_of_val(&*aes));
    assert!(
        holds_any_of(&read_memory(addr, len), &key),
        "reads the live key schedule"
    );
    let mut after = vec![0u8; len];
    drop(aes);
    read_memory_into(addr, &mut after);
    assert!(
        !holds_any_of(&after, &key),
        "key schedule left in freed memory"
    );
}

/// Our other copies of key material are wiped on drop as well: the key of
/// a cipher's synthetic nonces, and (with `ring`) the 32-byte XChaCha20 key
/// the ring backend keeps to derive subkeys from.
#[cfg(target_os = "linux")]
#[test]
fn zeroization_key_copies_are_wiped_on_drop() {
    use crate::zeroize_tests::{
        holds_any_of, pattern, read_memory, read_memory_into, reading_memory,
    };
    let _alone = reading_memory();
    let secret = || -> [u8; 32] { pattern(32).try_into().expect("32 bytes") };
    let nonce_secret = secret();
    let nonce_key = Box::new(NonceKey(nonce_secret));
    #[cfg_attr(not(feature = "ring"), allow(unused_mut))]
    let mut regions = vec![(
        &*nonce_key as *const NonceKey as usize,
        core::mem::size_of::<NonceKey>(),
        nonce_secret,
    )];
    #[cfg(feature = "ring")]
    let ring_key = {
        let key = secret();
        let xchacha = Box::new(backend::ring::XChaCha::new(&key));
        regions.push((
            &*xchacha as *const _ as usize,
            core::mem::size_of_val(&*xchacha),
            key,
        ));
        xchacha
    };
    for &(addr, len, secret) in &regions {
        assert!(
            holds_any_of(&read_memory(addr, len), &secret),
            "reads the live secret"
        );
    }
    let mut after: Vec<Vec<u8>> = regions.iter().map(|r| vec![0u8; r.1]).collect();
    drop(nonce_key);
    #[cfg(feature = "ring")]
    drop(ring_key);
    for ((addr, _, secret), after) in regions.into_iter().zip(&mut after) {
        read_memory_into(addr, after);
        assert!(
            !holds_any_of(after, &secret),
            "left in freed memory: {after:02x?}"
        );
    }
}

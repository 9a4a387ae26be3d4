//! The shared workloads against what Rust applications use today, in one
//! run: `cookie` 0.18 PrivateJar with serde_json (what actix-session,
//! axum-extra and tower-cookies do), `fernet`, `branca` and `pasetors`
//! v4.local (each with serde_json, as their users encode sessions), and a
//! "floor" group: the AEAD alone with a fixed nonce (RustCrypto, and ring
//! with the default `ring` feature), postcard alone and base64 alone, whose
//! sum is the least any design of this kind can cost.
//!
//! `cargo bench --bench peers` in `benches/speed`; then `python3 summary.py`
//! there prints the table of medians and ratios.

use std::hint::black_box;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[path = "../../common/mod.rs"]
mod common;
mod schemes;

use schemes::{peers, Peer};

fn bench_peer<T, P: Peer>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    peer: &P,
    value: &T,
) where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let sealed = peer.seal(value);
    assert_eq!(peer.open::<T>(&sealed).as_ref(), Some(value), "{name}");
    group.bench_function(format!("{name}/seal"), |b| {
        b.iter(|| peer.seal(black_box(value)));
    });
    group.bench_function(format!("{name}/open"), |b| {
        b.iter(|| peer.open::<T>(black_box(&sealed)).expect("opens"));
    });
}

/// The parts of a seal and an open, each alone.
fn bench_floor<T>(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    use aes_gcm::aead::{AeadInPlace, KeyInit};

    let payload = postcard::to_allocvec(value).expect("serializes");
    // The plaintext: issued-at and lifetime (8 bytes as LEB128) and payload.
    let mut plaintext = vec![0x80, 0xa2, 0x8a, 0xc8, 0x06, 0x80, 0xa3, 0x05];
    plaintext.extend_from_slice(&payload);
    let aad = b"\x01\x01\x07session\x10bench/session/v1";
    let mut buf = [0u8; 1024];
    group.bench_function("floor/postcard/ser", |b| {
        b.iter(|| {
            postcard::to_slice(black_box(value), &mut buf)
                .expect("fits")
                .len()
        });
    });
    group.bench_function("floor/postcard/de", |b| {
        b.iter(|| postcard::from_bytes::<T>(black_box(&payload)).expect("decodes"));
    });

    let xchacha = chacha20poly1305::XChaCha20Poly1305::new(&common::KEY.into());
    let aes = aes_gcm::Aes256Gcm::new(&common::KEY.into());
    let x_nonce = [9u8; 24];
    let a_nonce = [9u8; 12];
    let mut work = plaintext.clone();
    group.bench_function("floor/xchacha20poly1305/encrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(&plaintext);
            xchacha
                .encrypt_in_place_detached(&x_nonce.into(), aad, black_box(&mut work))
                .expect("encrypts")
        });
    });
    let x_tag = {
        work.copy_from_slice(&plaintext);
        xchacha
            .encrypt_in_place_detached(&x_nonce.into(), aad, &mut work)
            .expect("encrypts")
    };
    let x_cipher = work.clone();
    group.bench_function("floor/xchacha20poly1305/decrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(&x_cipher);
            xchacha
                .decrypt_in_place_detached(&x_nonce.into(), aad, black_box(&mut work), &x_tag)
                .expect("decrypts")
        });
    });
    group.bench_function("floor/aes256gcm/encrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(&plaintext);
            aes.encrypt_in_place_detached(&a_nonce.into(), aad, black_box(&mut work))
                .expect("encrypts")
        });
    });
    let a_tag = {
        work.copy_from_slice(&plaintext);
        aes.encrypt_in_place_detached(&a_nonce.into(), aad, &mut work)
            .expect("encrypts")
    };
    let a_cipher = work.clone();
    group.bench_function("floor/aes256gcm/decrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(&a_cipher);
            aes.decrypt_in_place_detached(&a_nonce.into(), aad, black_box(&mut work), &a_tag)
                .expect("decrypts")
        });
    });

    #[cfg(feature = "ring")]
    bench_ring_floor(group, &plaintext, aad);

    // An envelope's length: version, key id, XChaCha nonce, body, tag.
    let envelope = vec![5u8; 1 + 1 + 24 + plaintext.len() + 16];
    let encoded = URL_SAFE_NO_PAD.encode(&envelope);
    group.bench_function("floor/base64/encode", |b| {
        b.iter(|| URL_SAFE_NO_PAD.encode(black_box(&envelope)));
    });
    let mut out = vec![0u8; envelope.len() + 3];
    group.bench_function("floor/base64/decode", |b| {
        b.iter(|| {
            URL_SAFE_NO_PAD
                .decode_slice(black_box(&encoded), &mut out)
                .expect("decodes")
        });
    });
}

/// The same AEADs through ring, the backend the crate uses with its
/// default `ring` feature: XChaCha20-Poly1305 is HChaCha20 then ring's
/// ChaCha20-Poly1305.
#[cfg(feature = "ring")]
fn bench_ring_floor(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    plaintext: &[u8],
    aad: &[u8],
) {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, CHACHA20_POLY1305};

    let x_nonce = [9u8; 24];
    let xchacha = |nonce: &[u8; 24]| {
        let subkey = chacha20::hchacha::<chacha20::cipher::consts::U10>(
            &common::KEY.into(),
            (&nonce[..16]).into(),
        );
        let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &subkey).expect("key"));
        let mut inner = [0u8; 12];
        inner[4..].copy_from_slice(&nonce[16..]);
        (key, Nonce::assume_unique_for_key(inner))
    };
    let aes = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &common::KEY).expect("key"));
    let mut work = plaintext.to_vec();
    group.bench_function("floor/xchacha20poly1305-ring/encrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(plaintext);
            let (key, nonce) = xchacha(black_box(&x_nonce));
            key.seal_in_place_separate_tag(nonce, Aad::from(aad), black_box(&mut work))
                .expect("encrypts")
        });
    });
    work.copy_from_slice(plaintext);
    let (key, nonce) = xchacha(&x_nonce);
    let x_tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut work)
        .expect("encrypts");
    let x_cipher = work.clone();
    group.bench_function("floor/xchacha20poly1305-ring/decrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(&x_cipher);
            let (key, nonce) = xchacha(black_box(&x_nonce));
            key.open_in_place_separate_tag(nonce, Aad::from(aad), x_tag, black_box(&mut work), 0..)
                .map(|p| p.len())
                .expect("decrypts")
        });
    });
    group.bench_function("floor/aes256gcm-ring/encrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(plaintext);
            aes.seal_in_place_separate_tag(
                Nonce::assume_unique_for_key([9; 12]),
                Aad::from(aad),
                black_box(&mut work),
            )
            .expect("encrypts")
        });
    });
    work.copy_from_slice(plaintext);
    let a_tag = aes
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key([9; 12]),
            Aad::from(aad),
            &mut work,
        )
        .expect("encrypts");
    let a_cipher = work.clone();
    group.bench_function("floor/aes256gcm-ring/decrypt", |b| {
        b.iter(|| {
            work.copy_from_slice(&a_cipher);
            aes.open_in_place_separate_tag(
                Nonce::assume_unique_for_key([9; 12]),
                Aad::from(aad),
                a_tag,
                black_box(&mut work),
                0..,
            )
            .map(|p| p.len())
            .expect("decrypts")
        });
    });
}

fn bench_size<T>(c: &mut Criterion, size: &str, value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let mut group = c.benchmark_group(size);
    group.throughput(Throughput::Bytes(common::postcard_len(value) as u64));
    for (name, peer) in peers() {
        with_peer!(&peer, p => bench_peer(&mut group, name, p, value));
    }
    bench_floor(&mut group, value);
    group.finish();
}

/// Prints the length of each scheme's sealed value, small and large.
fn print_lengths() {
    let small = common::small();
    let large = common::large();
    println!(
        "postcard payload: small {} bytes, large {} bytes",
        common::postcard_len(&small),
        common::postcard_len(&large)
    );
    println!(
        "json payload: small {} bytes, large {} bytes",
        serde_json::to_vec(&small).expect("json").len(),
        serde_json::to_vec(&large).expect("json").len()
    );
    println!(
        "{:<24} {:>12} {:>12}",
        "sealed value (chars)", "small", "large"
    );
    for (name, peer) in peers() {
        let (s, l) = with_peer!(&peer, p => (p.seal(&small).len(), p.seal(&large).len()));
        println!("{name:<24} {s:>12} {l:>12}");
    }
}

fn main() {
    print_lengths();
    let mut c = Criterion::default().configure_from_args();
    bench_size(&mut c, "small", &common::small());
    bench_size(&mut c, "large", &common::large());
    c.final_summary();
}

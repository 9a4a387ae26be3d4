//! The AEAD implementations behind [`Cipher`](super::Cipher).
//!
//! RustCrypto (`chacha20poly1305`, `aes-gcm`) is the portable path. With the
//! `ring` feature (on by default) sealing and opening go through `ring`'s
//! assembly instead: on x86-64 it is several times faster for cookie-sized
//! messages (RustCrypto's Poly1305 sets up its AVX2 state for every
//! message). Both compute exactly XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha)
//! and AES-256-GCM, so the choice never changes a sealed value: the tests
//! below seal with each and open with the other, and the known-answer
//! vectors pin whichever is built.

use crate::key::KEY_LEN;

/// Length of the authentication tag of both algorithms.
pub(crate) const TAG_LEN: usize = 16;
/// Nonce lengths.
pub(crate) const XCHACHA_NONCE_LEN: usize = 24;
pub(crate) const AES_NONCE_LEN: usize = 12;

/// The parts of an XChaCha20 nonce: the prefix HChaCha20 turns into a
/// subkey, and the tail ChaCha20 takes as its nonce.
pub(crate) const PREFIX_LEN: usize = 16;
pub(crate) const TAIL_LEN: usize = XCHACHA_NONCE_LEN - PREFIX_LEN;

/// An XChaCha nonce's two parts: the prefix HChaCha20 takes, the tail
/// ChaCha20 takes.
pub(crate) fn split_nonce(nonce: &[u8; XCHACHA_NONCE_LEN]) -> (&[u8; PREFIX_LEN], &[u8; TAIL_LEN]) {
    let (prefix, tail) = nonce.split_at(PREFIX_LEN);
    // Both lengths come from the constants that make up XCHACHA_NONCE_LEN.
    #[allow(clippy::expect_used)]
    (
        prefix.try_into().expect("16 bytes"),
        tail.try_into().expect("8 bytes"),
    )
}

/// HChaCha20 (draft-irtf-cfrg-xchacha §2.2): the subkey of `key` for a
/// nonce prefix. The caller zeroizes it.
pub(crate) fn hchacha20(key: &[u8; KEY_LEN], prefix: &[u8; PREFIX_LEN]) -> [u8; KEY_LEN] {
    chacha20::hchacha::<chacha20::cipher::consts::U10>(key.into(), prefix.into()).into()
}

/// An AEAD failure: a message beyond the algorithm's length limit when
/// sealing, a forgery when opening. Carries nothing, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failed;

/// RustCrypto: pure Rust, zeroizes its key schedules on drop.
#[cfg(any(not(feature = "ring"), test))]
pub(crate) mod rust_crypto {
    use aes_gcm::aead::AeadInPlace;
    use aes_gcm::{Aes256Gcm, KeyInit as _};
    use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};
    use zeroize::Zeroize as _;

    use super::{
        hchacha20, Failed, AES_NONCE_LEN, KEY_LEN, PREFIX_LEN, TAG_LEN, TAIL_LEN, XCHACHA_NONCE_LEN,
    };

    /// XChaCha20-Poly1305 under one key (and the key itself, zeroized on
    /// drop, for [`XChaCha::subkeyed`]).
    pub(crate) struct XChaCha(XChaCha20Poly1305, [u8; KEY_LEN]);

    impl Drop for XChaCha {
        fn drop(&mut self) {
            self.1.zeroize();
        }
    }

    impl XChaCha {
        pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
            XChaCha(XChaCha20Poly1305::new(key.into()), *key)
        }

        /// The ChaCha20-Poly1305 that seals every nonce starting with `prefix`.
        pub(crate) fn subkeyed(&self, prefix: &[u8; PREFIX_LEN]) -> Subkeyed {
            let mut subkey = hchacha20(&self.1, prefix);
            let aead = ChaCha20Poly1305::new((&subkey).into());
            subkey.zeroize();
            Subkeyed(aead)
        }

        pub(crate) fn seal(
            &self,
            nonce: &[u8; XCHACHA_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &mut [u8; TAG_LEN],
        ) -> Result<(), Failed> {
            *tag = self
                .0
                .encrypt_in_place_detached(nonce.into(), aad, buf)
                .map_err(|_| Failed)?
                .into();
            Ok(())
        }

        pub(crate) fn open(
            &self,
            nonce: &[u8; XCHACHA_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), Failed> {
            self.0
                .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
                .map_err(|_| Failed)
        }
    }

    /// The second half of XChaCha20-Poly1305 for one nonce prefix:
    /// ChaCha20-Poly1305 under `HChaCha20(key, prefix)`.
    pub(crate) struct Subkeyed(ChaCha20Poly1305);

    impl Subkeyed {
        /// Seals under the XChaCha nonce `prefix || tail`.
        pub(crate) fn seal(
            &self,
            tail: &[u8; TAIL_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &mut [u8; TAG_LEN],
        ) -> Result<(), Failed> {
            let mut inner = [0u8; AES_NONCE_LEN];
            inner[4..].copy_from_slice(tail);
            *tag = self
                .0
                .encrypt_in_place_detached(&inner.into(), aad, buf)
                .map_err(|_| Failed)?
                .into();
            Ok(())
        }

        /// Opens under the XChaCha nonce `prefix || tail`.
        pub(crate) fn open(
            &self,
            tail: &[u8; TAIL_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), Failed> {
            let mut inner = [0u8; AES_NONCE_LEN];
            inner[4..].copy_from_slice(tail);
            self.0
                .decrypt_in_place_detached(&inner.into(), aad, buf, tag.into())
                .map_err(|_| Failed)
        }
    }

    /// AES-256-GCM under one key.
    pub(crate) struct Aes(Aes256Gcm);

    impl Aes {
        pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
            Aes(Aes256Gcm::new(key.into()))
        }

        pub(crate) fn seal(
            &self,
            nonce: &[u8; AES_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &mut [u8; TAG_LEN],
        ) -> Result<(), Failed> {
            *tag = self
                .0
                .encrypt_in_place_detached(nonce.into(), aad, buf)
                .map_err(|_| Failed)?
                .into();
            Ok(())
        }

        pub(crate) fn open(
            &self,
            nonce: &[u8; AES_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), Failed> {
            self.0
                .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
                .map_err(|_| Failed)
        }
    }
}

/// `ring`: XChaCha20-Poly1305 as HChaCha20 (from the `chacha20` crate)
/// followed by ring's ChaCha20-Poly1305, which is exactly how
/// draft-irtf-cfrg-xchacha defines it; AES-256-GCM directly.
///
/// ring does not zeroize its key schedules on drop: the AES-256-GCM key
/// schedule (and, for XChaCha, the per-message subkey ring copies) may stay
/// in freed memory. The 32-byte XChaCha key itself is ours and is zeroized.
#[cfg(feature = "ring")]
pub(crate) mod ring {
    use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM, CHACHA20_POLY1305};
    use zeroize::Zeroize;

    use super::{
        hchacha20, split_nonce, Failed, AES_NONCE_LEN, KEY_LEN, PREFIX_LEN, TAG_LEN, TAIL_LEN,
        XCHACHA_NONCE_LEN,
    };

    /// XChaCha20-Poly1305 under one key.
    pub(crate) struct XChaCha([u8; KEY_LEN]);

    impl Drop for XChaCha {
        fn drop(&mut self) {
            self.0.zeroize();
        }
    }

    impl XChaCha {
        pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
            XChaCha(*key)
        }

        /// The ChaCha20-Poly1305 that seals every nonce starting with `prefix`.
        pub(crate) fn subkeyed(&self, prefix: &[u8; PREFIX_LEN]) -> Subkeyed {
            let mut subkey = hchacha20(&self.0, prefix);
            let key = UnboundKey::new(&CHACHA20_POLY1305, &subkey);
            subkey.zeroize();
            // ring refuses only keys of the wrong length; subkeys are 32 bytes.
            #[allow(clippy::expect_used)]
            Subkeyed(LessSafeKey::new(
                key.expect("ChaCha20-Poly1305 takes 32-byte keys"),
            ))
        }

        /// The per-message ChaCha20-Poly1305 key and nonce:
        /// `HChaCha20(key, nonce[..16])` and `0^4 || nonce[16..]`.
        fn derive(&self, nonce: &[u8; XCHACHA_NONCE_LEN]) -> (Subkeyed, Nonce) {
            let (prefix, tail) = split_nonce(nonce);
            (self.subkeyed(prefix), inner_nonce(tail))
        }

        pub(crate) fn seal(
            &self,
            nonce: &[u8; XCHACHA_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &mut [u8; TAG_LEN],
        ) -> Result<(), Failed> {
            let (key, nonce) = self.derive(nonce);
            seal(&key.0, nonce, aad, buf, tag)
        }

        pub(crate) fn open(
            &self,
            nonce: &[u8; XCHACHA_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), Failed> {
            let (key, nonce) = self.derive(nonce);
            open(&key.0, nonce, aad, buf, tag)
        }
    }

    /// The second half of XChaCha20-Poly1305 for one nonce prefix:
    /// ChaCha20-Poly1305 under `HChaCha20(key, prefix)`.
    pub(crate) struct Subkeyed(LessSafeKey);

    impl Subkeyed {
        /// Seals under the XChaCha nonce `prefix || tail`.
        pub(crate) fn seal(
            &self,
            tail: &[u8; TAIL_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &mut [u8; TAG_LEN],
        ) -> Result<(), Failed> {
            seal(&self.0, inner_nonce(tail), aad, buf, tag)
        }

        /// Opens under the XChaCha nonce `prefix || tail`.
        pub(crate) fn open(
            &self,
            tail: &[u8; TAIL_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), Failed> {
            open(&self.0, inner_nonce(tail), aad, buf, tag)
        }
    }

    /// ChaCha20-Poly1305's nonce for an XChaCha nonce's tail: `0^4 || tail`.
    fn inner_nonce(tail: &[u8; TAIL_LEN]) -> Nonce {
        let mut inner = [0u8; AES_NONCE_LEN];
        inner[4..].copy_from_slice(tail);
        Nonce::assume_unique_for_key(inner)
    }

    /// AES-256-GCM under one key.
    pub(crate) struct Aes(LessSafeKey);

    impl Aes {
        pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
            let key = UnboundKey::new(&AES_256_GCM, key);
            // ring refuses only keys of the wrong length; ours are 32 bytes.
            #[allow(clippy::expect_used)]
            Aes(LessSafeKey::new(
                key.expect("AES-256-GCM takes 32-byte keys"),
            ))
        }

        pub(crate) fn seal(
            &self,
            nonce: &[u8; AES_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &mut [u8; TAG_LEN],
        ) -> Result<(), Failed> {
            seal(&self.0, Nonce::assume_unique_for_key(*nonce), aad, buf, tag)
        }

        pub(crate) fn open(
            &self,
            nonce: &[u8; AES_NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), Failed> {
            open(&self.0, Nonce::assume_unique_for_key(*nonce), aad, buf, tag)
        }
    }

    /// Seals `buf` in place and writes the tag to `tag`: a tag returned in
    /// a `Result` sits one byte off its alignment, and the callers copied
    /// it out in pieces whose loads spanned two stores and stalled.
    fn seal(
        key: &LessSafeKey,
        nonce: Nonce,
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8; TAG_LEN],
    ) -> Result<(), Failed> {
        let sealed = key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
            .map_err(|_| Failed)?;
        tag.copy_from_slice(sealed.as_ref());
        Ok(())
    }

    fn open(
        key: &LessSafeKey,
        nonce: Nonce,
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Failed> {
        key.open_in_place_separate_tag(nonce, Aad::from(aad), Tag::from(*tag), buf, 0..)
            .map(|_| ())
            .map_err(|_| Failed)
    }
}

#[cfg(all(test, feature = "ring"))]
mod tests {
    //! Both backends compute the same function: each opens what the other
    //! seals, byte for byte, and both refuse the same forgeries.
    use super::*;
    use rand::RngCore as _;

    fn random<const N: usize>() -> [u8; N] {
        let mut out = [0u8; N];
        rand::rng().fill_bytes(&mut out);
        out
    }

    /// Seals with `a`, checks `b` gives the same bytes and opens them, then
    /// flips each kind of input and checks `b` refuses it.
    macro_rules! cross_check {
        ($portable:ty, $fast:ty, $nonce_len:expr) => {{
            for len in (0..300).step_by(7).chain([1024, 4096]) {
                let key = random::<KEY_LEN>();
                let nonce = random::<{ $nonce_len }>();
                let aad = random::<37>();
                let aad = &aad[..len % 38];
                let mut plaintext = vec![0u8; len];
                rand::rng().fill_bytes(&mut plaintext);
                let portable = <$portable>::new(&key);
                let fast = <$fast>::new(&key);

                let mut by_portable = plaintext.clone();
                let mut tag_p = [0u8; TAG_LEN];
                portable
                    .seal(&nonce, aad, &mut by_portable, &mut tag_p)
                    .expect("seals");
                let mut by_fast = plaintext.clone();
                let mut tag_f = [0u8; TAG_LEN];
                fast.seal(&nonce, aad, &mut by_fast, &mut tag_f)
                    .expect("seals");
                assert_eq!(by_portable, by_fast, "ciphertext, {len} bytes");
                assert_eq!(tag_p, tag_f, "tag, {len} bytes");

                // Each opens the other's value.
                let mut buf = by_portable.clone();
                fast.open(&nonce, aad, &mut buf, &tag_p)
                    .expect("fast opens portable");
                assert_eq!(buf, plaintext);
                let mut buf = by_fast.clone();
                portable
                    .open(&nonce, aad, &mut buf, &tag_f)
                    .expect("portable opens fast");
                assert_eq!(buf, plaintext);

                // And both refuse a flipped tag, ciphertext, nonce or aad.
                let mut bad_tag = tag_p;
                bad_tag[len % TAG_LEN] ^= 1;
                let mut bad_nonce = nonce;
                bad_nonce[len % $nonce_len] ^= 0x80;
                let mut bad_aad = aad.to_vec();
                bad_aad.push(0);
                for i in ["portable", "fast"] {
                    let open = |n: &[u8; $nonce_len], a: &[u8], b: &mut [u8], t: &[u8; TAG_LEN]| {
                        if i == "fast" {
                            fast.open(n, a, b, t)
                        } else {
                            portable.open(n, a, b, t)
                        }
                    };
                    let mut buf = by_portable.clone();
                    assert_eq!(
                        open(&nonce, aad, &mut buf, &bad_tag),
                        Err(Failed),
                        "{i}: tag"
                    );
                    let mut buf = by_portable.clone();
                    assert_eq!(
                        open(&bad_nonce, aad, &mut buf, &tag_p),
                        Err(Failed),
                        "{i}: nonce"
                    );
                    let mut buf = by_portable.clone();
                    assert_eq!(
                        open(&nonce, &bad_aad, &mut buf, &tag_p),
                        Err(Failed),
                        "{i}: aad"
                    );
                    if len > 0 {
                        let mut buf = by_portable.clone();
                        buf[len / 2] ^= 4;
                        assert_eq!(
                            open(&nonce, aad, &mut buf, &tag_p),
                            Err(Failed),
                            "{i}: body"
                        );
                    }
                }
            }
        }};
    }

    #[test]
    fn xchacha_backends_agree_both_ways() {
        cross_check!(rust_crypto::XChaCha, ring::XChaCha, XCHACHA_NONCE_LEN);
    }

    /// A subkeyed seal (what the per-thread nonce streams use) is exactly
    /// XChaCha20-Poly1305 under the whole nonce `prefix || tail`, on both
    /// backends.
    #[test]
    fn subkeyed_seals_are_xchacha_seals() {
        for len in (0..300).step_by(13).chain([4096]) {
            let key = random::<KEY_LEN>();
            let nonce = random::<XCHACHA_NONCE_LEN>();
            let (prefix, tail) = nonce.split_at(PREFIX_LEN);
            let prefix: &[u8; PREFIX_LEN] = prefix.try_into().expect("16 bytes");
            let tail: &[u8; TAIL_LEN] = tail.try_into().expect("8 bytes");
            let aad = random::<29>();
            let mut plaintext = vec![0u8; len];
            rand::rng().fill_bytes(&mut plaintext);
            let whole = rust_crypto::XChaCha::new(&key);
            let mut expected = plaintext.clone();
            let mut tag = [0u8; TAG_LEN];
            whole
                .seal(&nonce, &aad, &mut expected, &mut tag)
                .expect("seals");
            let ring_key = ring::XChaCha::new(&key);
            type Seal<'a> = &'a dyn Fn(&mut [u8], &mut [u8; TAG_LEN]) -> Result<(), Failed>;
            let subkeyed: [(&str, Seal<'_>); 2] = [
                ("ring", &|b, t| {
                    ring_key.subkeyed(prefix).seal(tail, &aad, b, t)
                }),
                ("rust_crypto", &|b, t| {
                    whole.subkeyed(prefix).seal(tail, &aad, b, t)
                }),
            ];
            for (which, seal) in subkeyed {
                let mut body = plaintext.clone();
                let mut got = [0u8; TAG_LEN];
                assert_eq!(seal(&mut body, &mut got), Ok(()), "{which}: seals");
                assert_eq!(got, tag, "{which}: tag, {len} bytes");
                assert_eq!(body, expected, "{which}: ciphertext, {len} bytes");
                whole.open(&nonce, &aad, &mut body, &tag).expect("opens");
                assert_eq!(body, plaintext);
            }
            // And a subkeyed open (what a kept subkey does) on each backend.
            let mut body = expected.clone();
            ring_key
                .subkeyed(prefix)
                .open(tail, &aad, &mut body, &tag)
                .expect("ring opens");
            assert_eq!(body, plaintext);
            let mut body = expected.clone();
            whole
                .subkeyed(prefix)
                .open(tail, &aad, &mut body, &tag)
                .expect("rust_crypto opens");
            assert_eq!(body, plaintext);
            let mut bad_tag = tag;
            bad_tag[0] ^= 1;
            let mut body = expected.clone();
            assert_eq!(
                ring_key
                    .subkeyed(prefix)
                    .open(tail, &aad, &mut body, &bad_tag),
                Err(Failed)
            );
            let mut body = expected.clone();
            assert_eq!(
                whole.subkeyed(prefix).open(tail, &aad, &mut body, &bad_tag),
                Err(Failed)
            );
        }
    }

    #[test]
    fn aes_backends_agree_both_ways() {
        cross_check!(rust_crypto::Aes, ring::Aes, AES_NONCE_LEN);
    }

    /// draft-irtf-cfrg-xchacha-03, A.3.1: the AEAD_XChaCha20_Poly1305 example.
    #[test]
    fn xchacha_known_answer() {
        fn hex(text: &str) -> Vec<u8> {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
                .collect()
        }
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let key: [u8; 32] = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
            .try_into()
            .expect("32 bytes");
        let nonce: [u8; 24] = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
            .try_into()
            .expect("24 bytes");
        let expected = hex(concat!(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb",
            "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452",
            "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9",
            "21f9664c97637da9768812f615c68b13b52e",
        ));
        let tag = hex("c0875924c1c7987947deafd8780acf49");
        let mut buf = plaintext.to_vec();
        let mut got = [0u8; TAG_LEN];
        ring::XChaCha::new(&key)
            .seal(&nonce, &aad, &mut buf, &mut got)
            .expect("seals");
        assert_eq!(buf, expected);
        assert_eq!(got.to_vec(), tag);
    }
}

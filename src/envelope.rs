//! Envelope v1: the wire format. Nothing here knows serde.
//!
//! ```text
//! value     = base64url-nopad(envelope)
//! envelope  = version(0x01) || key_id(LEB128 u32) || nonce || ciphertext || tag(16)
//! plaintext = issued_at(LEB128 u64) || lifetime(LEB128 u64) || payload
//! aad       = version || key_id (the bytes as sent)
//!             || LEB128(len(name)) || name || LEB128(len(purpose)) || purpose
//! ```
//! SECURITY.md describes it in full, with test vectors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use core::cell::RefCell;
use rand::RngCore as _;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::key::{Algorithm, Key, KeyId};

/// The only envelope version this release writes and opens.
pub(crate) const VERSION: u8 = 1;
mod backend;
#[cfg(feature = "ring")]
use backend::ring as aead;
#[cfg(not(feature = "ring"))]
use backend::rust_crypto as aead;
/// Length of the authentication tag of both algorithms.
pub(crate) use backend::TAG_LEN;
/// The longest LEB128 encoding of a `u32` / `u64`.
const MAX_U32_LEN: usize = 5;
const MAX_U64_LEN: usize = 10;
/// Bytes reserved up front when sealing: more than any cookie needs.
const SEAL_RESERVE: usize = 16 * 1024;

/// A key made ready for one algorithm (key schedule computed once), with
/// the key that derives its synthetic nonces.
pub(crate) struct Cipher {
    aead: Aead,
    nonce_key: NonceKey,
}

enum Aead {
    XChaCha(aead::XChaCha),
    Aes(Box<aead::Aes>),
}

/// The BLAKE3 key that turns a message into its nonce, derived from the
/// secret key (BLAKE3's key derivation mode with a context string of its
/// own, so it is independent of the AEAD key). Zeroized on drop.
struct NonceKey([u8; 32]);

impl Drop for NonceKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The context string of the nonce key's derivation. Changing it changes
/// no value on the wire (openers never derive nonces), only which nonces a
/// sealer picks.
const NONCE_KEY_CONTEXT: &str = "sealed-session 2026-11-27 synthetic nonce key v1";

/// How a seal picks its nonce.
#[derive(Clone, Copy, Debug)]
pub(crate) enum NonceSource<'a> {
    /// A fresh seal: fresh random bytes enter the nonce's hash with the
    /// whole message.
    Fresh,
    /// A re-seal: the nonce is a function of the whole message alone, so
    /// re-sealing the same value twice gives the same output and spends no
    /// new nonce.
    Deterministic,
    /// Known-answer tests only: exactly these bytes.
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(&'a [u8]),
}

impl Cipher {
    pub(crate) fn new(algorithm: Algorithm, key: &Key) -> Self {
        let bytes = key.bytes();
        let aead = match algorithm {
            Algorithm::XChaCha20Poly1305 => Aead::XChaCha(aead::XChaCha::new(bytes)),
            Algorithm::Aes256Gcm => Aead::Aes(Box::new(aead::Aes::new(bytes))),
        };
        Cipher {
            aead,
            nonce_key: NonceKey(blake3::derive_key(NONCE_KEY_CONTEXT, bytes)),
        }
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        match self.aead {
            Aead::XChaCha(_) => Algorithm::XChaCha20Poly1305,
            Aead::Aes(_) => Algorithm::Aes256Gcm,
        }
    }

    /// The synthetic nonce of a message, from the bytes laid out as
    /// `seed || plaintext || aad || u64le(len(aad))` (the layout [`seal`]
    /// builds in place): `BLAKE3-keyed(nonce_key, those bytes)`, truncated
    /// to the nonce's length. `seed` is as long as the nonce: fresh random
    /// bytes for a fresh seal, zeros for a re-seal. The length suffix makes
    /// the layout unambiguous, whatever the name and purpose.
    ///
    /// Two seals under one key share a nonce only if their seeds *and*
    /// their whole messages are equal, and then they produce the same
    /// ciphertext, which reveals nothing new. A generator state duplicated
    /// by `fork` (or a cloned virtual machine) therefore never reuses a
    /// nonce for two different messages, and re-sealing the same value
    /// again spends no new nonce.
    fn synthetic_nonce(&self, laid_out: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.nonce_key.0, laid_out)
    }

    fn encrypt(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let tag = match &self.aead {
            Aead::XChaCha(c) => nonce.try_into().map(|n| c.seal(n, aad, buf)),
            Aead::Aes(c) => nonce.try_into().map(|n| c.seal(n, aad, buf)),
        };
        // Only fails for messages beyond the algorithms' length limits (the
        // nonce length follows from the algorithm), which no capped seal
        // reaches.
        match tag {
            Ok(Ok(tag)) => Ok(tag),
            _ => Err(Error::Encode),
        }
    }

    fn decrypt(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::Authentication)?;
        let result = match &self.aead {
            Aead::XChaCha(c) => nonce.try_into().map(|n| c.open(n, aad, buf, tag)),
            Aead::Aes(c) => nonce.try_into().map(|n| c.open(n, aad, buf, tag)),
        };
        match result {
            Ok(Ok(())) => Ok(()),
            _ => Err(Error::Authentication),
        }
    }
}

/// The cookie name and purpose, encoded once as the tail of the associated
/// data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Context(pub(crate) Vec<u8>);

impl Context {
    pub(crate) fn new(name: &str, purpose: &str) -> Self {
        let mut out = Vec::with_capacity(name.len() + purpose.len() + 2 * MAX_U64_LEN);
        for part in [name, purpose] {
            put_varint(&mut out, part.len() as u64);
            out.extend_from_slice(part.as_bytes());
        }
        Context(out)
    }
}

/// Times carried inside the ciphertext, in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
}

/// Appends the canonical LEB128 encoding of `n`.
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a canonical LEB128 value of at most `max_len` bytes and at most
/// `limit`; returns it and the number of bytes read.
fn get_varint(input: &[u8], max_len: usize, limit: u64) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    for (i, &byte) in input.iter().enumerate().take(max_len) {
        let bits = u64::from(byte & 0x7f);
        let shifted = bits.checked_shl(7 * i as u32)?;
        if shifted >> (7 * i as u32) != bits {
            return None; // bits beyond 64
        }
        n |= shifted;
        if byte & 0x80 == 0 {
            // Canonical: no trailing zero group (except the value 0 itself).
            if i > 0 && byte == 0 {
                return None;
            }
            return (n <= limit).then_some((n, i + 1));
        }
    }
    None
}

thread_local! {
    /// Per-thread working buffer: no allocation per seal or open once warm.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on an empty buffer with at least `capacity` bytes reserved (so it
/// never reallocates while holding plaintext, if `f` stays within
/// `capacity`), then zeroizes what `f` left in it: also when `f` panics
/// (a `Serialize` or `Deserialize` impl may), through a drop guard.
fn with_scratch<R>(capacity: usize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    /// Zeroizes and empties the buffer when dropped, unwinding included.
    struct Wipe<'a>(&'a mut Vec<u8>);
    impl Drop for Wipe<'_> {
        fn drop(&mut self) {
            self.0.as_mut_slice().zeroize();
            self.0.clear();
        }
    }
    fn run<R>(buf: &mut Vec<u8>, capacity: usize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        buf.clear();
        buf.reserve(capacity);
        let guard = Wipe(buf);
        f(guard.0)
    }
    let mut slot = Some(f);
    let done = SCRATCH
        .try_with(|cell| match (cell.try_borrow_mut(), slot.take()) {
            (Ok(mut buf), Some(f)) => Some(run(&mut buf, capacity, f)),
            (_, f) => {
                slot = f;
                None
            }
        })
        .ok()
        .flatten();
    match (done, slot) {
        (Some(result), _) => result,
        // Re-entered (a `Serialize` impl that seals) or thread exiting.
        (None, Some(f)) => run(&mut Vec::new(), capacity, f),
        (None, None) => unreachable!("the closure either ran `f` or put it back"),
    }
}

/// The address and capacity of this thread's scratch buffer, for the tests
/// that read the memory it held.
#[cfg(test)]
pub(crate) fn scratch_region() -> (usize, usize) {
    SCRATCH.with(|cell| {
        let buf = cell.borrow();
        (buf.as_ptr() as usize, buf.capacity())
    })
}

/// A postcard output that refuses to grow past a fixed length, so a too
/// large payload fails fast. It keeps `tail` bytes of spare capacity for
/// what is appended after the payload, and grows by hand, zeroizing the
/// old allocation, so plaintext is never left behind by a reallocation.
pub(crate) struct Capped<'a> {
    buf: &'a mut Vec<u8>,
    cap: usize,
    tail: usize,
}

impl Capped<'_> {
    /// A shorter-lived handle on the same buffer (postcard takes its output
    /// by value).
    pub(crate) fn reborrow(&mut self) -> Capped<'_> {
        Capped {
            buf: self.buf,
            cap: self.cap,
            tail: self.tail,
        }
    }

    /// Appends `data`, or fails with [`Error::TooLarge`] past the capacity.
    // Inlined into serde's code for `T`: postcard calls this once per field
    // and varint, and a call per piece was a quarter of a small seal.
    #[inline]
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<()> {
        let len = self.buf.len().saturating_add(data.len());
        if len > self.cap {
            return Err(Error::TooLarge { len, max: self.cap });
        }
        if len.saturating_add(self.tail) > self.buf.capacity() {
            self.grow(len);
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Moves the contents to a larger allocation (at least `len` plus the
    /// tail, at most the cap plus the tail) and zeroizes the old one.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, len: usize) {
        let target = len
            .max(self.buf.capacity().saturating_mul(2))
            .min(self.cap)
            .saturating_add(self.tail);
        let mut bigger = Vec::with_capacity(target);
        bigger.extend_from_slice(self.buf);
        self.buf.as_mut_slice().zeroize();
        core::mem::swap(self.buf, &mut bigger);
    }
}

impl postcard::ser_flavors::Flavor for Capped<'_> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.write(data)
            .map_err(|_| postcard::Error::SerializeBufferFull)
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Largest binary envelope whose base64url form fits in `max_len` characters.
const fn max_binary_len(max_len: usize) -> usize {
    max_len / 4 * 3 + (max_len % 4).saturating_sub(1)
}

/// Length of the binary envelope whose unpadded base64url form is `n`
/// characters long (for canonical encodings).
pub(crate) const fn decoded_len(n: usize) -> usize {
    n / 4 * 3 + (n % 4).saturating_sub(1)
}

/// The bytes an envelope adds around its plaintext under key `id` of
/// `algorithm`: version, key id, nonce and tag.
pub(crate) const fn overhead(id: KeyId, algorithm: Algorithm) -> usize {
    let mut id_len = 1;
    let mut rest = id.0 >> 7;
    while rest > 0 {
        id_len += 1;
        rest >>= 7;
    }
    1 + id_len + algorithm.nonce_len() + TAG_LEN
}

/// Length of the base64url (unpadded) form of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n / 3 * 4 + (n % 3 * 4).div_ceil(3)
}

/// Seals a payload written by `payload` into a value of at most `max_len`
/// bytes, with a nonce picked as `nonce` says.
#[allow(clippy::too_many_arguments)]
pub(crate) fn seal(
    key_id: KeyId,
    cipher: &Cipher,
    context: &Context,
    times: Times,
    max_len: usize,
    nonce: NonceSource<'_>,
    payload: impl FnOnce(&mut Capped<'_>) -> Result<()>,
) -> Result<String> {
    let lifetime = times
        .expires_at
        .checked_sub(times.issued_at)
        .ok_or(Error::TimeRange)?;
    let nonce_len = cipher.algorithm().nonce_len();
    let max_bin = max_binary_len(max_len);
    // Room after the body for the tag, or for the associated data and its
    // length appended while sealing.
    let tail = TAG_LEN.max(1 + MAX_U32_LEN + context.0.len() + 8);
    // Reserve for a typical value, not for the configured maximum, which
    // may be huge: Capped grows the buffer (safely) if the payload needs it.
    let capacity = max_bin.min(SEAL_RESERVE).saturating_add(tail);
    with_scratch(capacity, |buf| {
        buf.push(VERSION);
        put_varint(buf, u64::from(key_id.0));
        let header_len = buf.len();
        let nonce_at = buf.len();
        buf.resize(nonce_at + nonce_len, 0);
        let body_at = buf.len();
        // The nonce's seed, replaced by the nonce once the message is known.
        match nonce {
            NonceSource::Fresh => rand::rng().fill_bytes(&mut buf[nonce_at..body_at]),
            NonceSource::Deterministic => {}
            NonceSource::Fixed(fixed) => buf[nonce_at..body_at].copy_from_slice(fixed),
        }
        put_varint(buf, times.issued_at);
        put_varint(buf, lifetime);
        let cap = max_bin.saturating_sub(TAG_LEN);
        if buf.len() > cap {
            return Err(Error::TooLarge {
                len: encoded_len(buf.len() + TAG_LEN),
                max: max_len,
            });
        }
        payload(&mut Capped { buf, cap, tail }).map_err(|e| match e {
            Error::TooLarge { .. } => Error::TooLarge {
                len: encoded_len(max_bin + 1),
                max: max_len,
            },
            other => other,
        })?;
        let body_end = buf.len();
        // Associated data: the header as sent, then name and purpose.
        buf.extend_from_within(..header_len);
        buf.extend_from_slice(&context.0);
        let aad_end = buf.len();
        if !matches!(nonce, NonceSource::Fixed(_)) {
            let aad_len = (aad_end - body_end) as u64;
            buf.extend_from_slice(&aad_len.to_le_bytes());
            let derived = cipher.synthetic_nonce(&buf[nonce_at..]);
            buf.truncate(aad_end);
            buf[nonce_at..body_at].copy_from_slice(&derived.as_bytes()[..nonce_len]);
        }
        let (envelope, aad) = buf.split_at_mut(body_end);
        let (head, body) = envelope.split_at_mut(body_at);
        let tag = cipher.encrypt(&head[nonce_at..], aad, body)?;
        buf.truncate(body_end);
        buf.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(&buf[..]))
    })
}

/// What an opened envelope says about itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) key_id: KeyId,
    pub(crate) times: Times,
}

/// Reads the key id of a decoded envelope (after the version byte).
fn parse_header(bin: &[u8]) -> Result<(KeyId, usize)> {
    match bin.first() {
        None => return Err(Error::Malformed),
        Some(&VERSION) => {}
        Some(&other) => return Err(Error::UnsupportedVersion(other)),
    }
    let (id, n) =
        get_varint(&bin[1..], MAX_U32_LEN, u64::from(u32::MAX)).ok_or(Error::Malformed)?;
    let id = u32::try_from(id).map_err(|_| Error::Malformed)?;
    Ok((KeyId(id), 1 + n))
}

/// Opens `value`: bounds its length, decodes, finds the key with `lookup`,
/// authenticates and decrypts, then hands the header and payload to `f`.
/// The plaintext is zeroized before this returns.
pub(crate) fn open<'k, R>(
    value: &str,
    max_len: usize,
    context: &Context,
    lookup: impl FnOnce(KeyId) -> Option<&'k Cipher>,
    f: impl FnOnce(Header, &[u8]) -> Result<R>,
) -> Result<R> {
    // Bounded work: nothing is decoded past the maximum.
    if value.len() > max_len {
        return Err(Error::TooLarge {
            len: value.len(),
            max: max_len,
        });
    }
    // The decoder's own (conservative) estimate of the decoded length.
    let bin_len = value.len().div_ceil(4) * 3;
    let capacity = bin_len + 1 + MAX_U32_LEN + context.0.len();
    with_scratch(capacity, |buf| {
        buf.resize(bin_len, 0);
        let n = URL_SAFE_NO_PAD
            .decode_slice(value.as_bytes(), &mut buf[..])
            .map_err(|_| Error::Malformed)?;
        buf.truncate(n);
        let (key_id, header_len) = parse_header(buf)?;
        let cipher = lookup(key_id).ok_or(Error::UnknownKey(key_id))?;
        let nonce_len = cipher.algorithm().nonce_len();
        if buf.len() < header_len + nonce_len + TAG_LEN {
            return Err(Error::Malformed);
        }
        let tag_at = buf.len() - TAG_LEN;
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&buf[tag_at..]);
        buf.truncate(tag_at);
        buf.extend_from_within(..header_len);
        buf.extend_from_slice(&context.0);
        let (envelope, aad) = buf.split_at_mut(tag_at);
        let (head, body) = envelope.split_at_mut(header_len + nonce_len);
        cipher.decrypt(&head[header_len..], aad, body, &tag)?;
        let (issued_at, a) = get_varint(body, MAX_U64_LEN, u64::MAX).ok_or(Error::Malformed)?;
        let (lifetime, b) =
            get_varint(&body[a..], MAX_U64_LEN, u64::MAX).ok_or(Error::Malformed)?;
        let expires_at = issued_at.checked_add(lifetime).ok_or(Error::Malformed)?;
        let header = Header {
            key_id,
            times: Times {
                issued_at,
                expires_at,
            },
        };
        f(header, &body[a + b..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_canonical() {
        for n in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            assert_eq!(
                get_varint(&out, MAX_U64_LEN, u64::MAX),
                Some((n, out.len()))
            );
        }
        // Zero written in two bytes, and trailing zero groups, are refused.
        assert_eq!(get_varint(&[0x80, 0x00], MAX_U64_LEN, u64::MAX), None);
        assert_eq!(get_varint(&[0x81, 0x00], MAX_U64_LEN, u64::MAX), None);
        // Too long, or over the limit.
        assert_eq!(get_varint(&[0xff; 6], MAX_U32_LEN, u64::MAX), None);
        assert_eq!(
            get_varint(
                &[0xff, 0xff, 0xff, 0xff, 0x1f],
                MAX_U32_LEN,
                u64::from(u32::MAX)
            ),
            None
        );
        assert_eq!(
            get_varint(
                &[0xff, 0xff, 0xff, 0xff, 0x0f],
                MAX_U32_LEN,
                u64::from(u32::MAX)
            ),
            Some((u64::from(u32::MAX), 5))
        );
        // Bits past 64.
        let mut big = [0xffu8; 10];
        big[9] = 0x02;
        assert_eq!(get_varint(&big, MAX_U64_LEN, u64::MAX), None);
        assert_eq!(get_varint(&[], MAX_U64_LEN, u64::MAX), None);
        assert_eq!(get_varint(&[0x80], MAX_U64_LEN, u64::MAX), None);
    }

    #[test]
    fn length_arithmetic_matches_the_encoder() {
        for n in 0..200 {
            let encoded = URL_SAFE_NO_PAD.encode(vec![0u8; n]);
            assert_eq!(encoded_len(n), encoded.len());
            assert!(max_binary_len(encoded.len()) >= n);
            assert!(encoded_len(max_binary_len(encoded.len())) <= encoded.len());
        }
    }
}

//! Envelopes v1 and v2: the byte format of a sealed value, and nothing
//! else (no serde, no clock, no choice of key: the sealer brings those).
//!
//! ```text
//! value     = base64url-nopad(envelope)
//! envelope  = version(0x01 or 0x02) || key_id(LEB128 u32) || nonce || ciphertext || tag(16)
//! plaintext = issued_at(LEB128 u64) || lifetime(LEB128 u64) || payload            (v1)
//! plaintext = issued_at || lifetime || LEB128(len(payload)) || payload || 00...  (v2, padded)
//! aad       = version || key_id (the bytes as sent)
//!             || LEB128(len(name)) || name || LEB128(len(purpose)) || purpose
//! ```
//! SECURITY.md describes it in full, with test vectors. A sealer without
//! padding writes v1, one with padding v2; both always open.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The base64url (unpadded, canonical) engine of seals and opens: the
/// `base64` crate's vectorized one where the CPU has the instructions
/// (AVX2, NEON; detected once), its scalar one otherwise. Both accept and
/// produce exactly the same texts (`base64_engines_agree` below compares
/// them), so nothing on the wire depends on the machine.
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
))]
fn b64() -> &'static impl base64::Engine {
    static ENGINE: std::sync::LazyLock<base64::engine::simd::Simd> =
        std::sync::LazyLock::new(|| {
            base64::engine::simd::Simd::url_safe(base64::engine::general_purpose::NO_PAD)
        });
    &*ENGINE
}

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
fn b64() -> &'static impl base64::Engine {
    &URL_SAFE_NO_PAD
}

use crate::aead::{Cipher, NonceSource, StreamFailed, TAG_LEN};
use crate::error::{Error, Refusal, Result, SealError};
use crate::key::{Algorithm, KeyId};
use crate::time::UnixTime;

/// The envelope version of unpadded values.
pub(crate) const VERSION: u8 = 1;
/// The envelope version of padded values: the payload's length, then the
/// payload, then zero bytes up to the size class.
pub(crate) const VERSION_PADDED: u8 = 2;
/// The longest LEB128 encoding of a `u32` / `u64`.
const MAX_U32_LEN: usize = 5;
const MAX_U64_LEN: usize = 10;
/// Bytes reserved up front when sealing: more than any cookie needs.
const SEAL_RESERVE: usize = 16 * 1024;

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

/// Times carried inside the ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) issued_at: UnixTime,
    pub(crate) expires_at: UnixTime,
}

/// How a sealer pads the plaintext of what it seals, so that a value's
/// length tells only its size class, not the session's exact size (see
/// [`Sealer::with_padding`](crate::Sealer::with_padding)). The default is
/// no padding.
///
/// ```
/// use sealed_session::Padding;
/// assert_eq!(Padding::multiple_of(256).padded_len(10), Some(256));
/// assert_eq!(Padding::multiple_of(256).padded_len(257), Some(512));
/// assert_eq!(Padding::power_of_two().padded_len(300), Some(512));
/// assert_eq!(Padding::NONE.padded_len(300), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Padding(Class);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Class {
    #[default]
    None,
    Multiple(usize),
    PowerOfTwo,
}

impl Padding {
    /// No padding: values are sealed as envelope v1.
    pub const NONE: Padding = Padding(Class::None);

    /// Pads the plaintext to the next multiple of `n` bytes (`n` at least
    /// 1). Costs `n / 2` plaintext bytes on average, at most `n - 1`, plus
    /// one to three bytes for the payload's length; in the cookie, 4/3 of
    /// that.
    pub fn multiple_of(n: usize) -> Padding {
        Padding(Class::Multiple(n.max(1)))
    }

    /// Pads the plaintext to the next power of two: few classes (one per
    /// doubling), at the cost of up to as much padding as content.
    pub fn power_of_two() -> Padding {
        Padding(Class::PowerOfTwo)
    }

    /// Whether values are padded (and so sealed as envelope v2).
    pub fn is_padded(&self) -> bool {
        self.0 != Class::None
    }

    /// The plaintext length a plaintext of `len` bytes (times, payload
    /// length and payload) is padded to, or `None` without padding (or
    /// past `usize`).
    pub fn padded_len(&self, len: usize) -> Option<usize> {
        match self.0 {
            Class::None => None,
            Class::Multiple(n) => len.div_ceil(n).checked_mul(n),
            Class::PowerOfTwo => len.checked_next_power_of_two(),
        }
    }
}

/// Where a payload writer may write: up to `cap` bytes in the buffer in
/// all, always keeping `tail` bytes of spare capacity for what the envelope
/// appends after the payload (so plaintext never moves unwiped).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Room {
    pub(crate) cap: usize,
    pub(crate) tail: usize,
}

/// Why a payload writer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadError {
    /// The payload does not fit its room: the value would be too long.
    Overflow,
    /// The payload could not be encoded.
    Encode,
}

/// Appends the canonical LEB128 encoding of `n`.
// Up to five bytes (every time and lifetime until 3058) as one copy of a
// known length: a push per byte was 150 instructions of a small seal.
// `always`: a seal writes three (key id, time, lifetime), and with a plain
// `#[inline]` each stayed a call.
#[inline(always)]
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    let more = |shift: u32| (n >> shift) as u8 | 0x80;
    let last = |shift: u32| (n >> shift) as u8;
    match n {
        0..0x80 => out.push(n as u8),
        0x80..0x4000 => out.extend_from_slice(&[more(0), last(7)]),
        0x4000..0x20_0000 => out.extend_from_slice(&[more(0), more(7), last(14)]),
        0x20_0000..0x1000_0000 => out.extend_from_slice(&[more(0), more(7), more(14), last(21)]),
        0x1000_0000..0x8_0000_0000 => {
            out.extend_from_slice(&[more(0), more(7), more(14), more(21), last(28)]);
        }
        _ => {
            while n >= 0x80 {
                out.push((n as u8) | 0x80);
                n >>= 7;
            }
            out.push(n as u8);
        }
    }
}

/// Reads a canonical LEB128 value of at most `max_len` bytes and at most
/// `limit`; returns it and the number of bytes read.
// `always`: an open reads three (key id, time, lifetime), and as a call
// each returned its `Option` through memory (32 instructions an open).
#[inline(always)]
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

/// Largest binary envelope whose base64url form fits in `max_len` bytes:
/// the decoded length of a text of that length.
const fn max_binary_len(max_len: usize) -> usize {
    decoded_len(max_len)
}

/// Length of the binary envelope whose unpadded base64url form is `n`
/// bytes long (for canonical encodings; for a length no canonical text
/// has, that of the longest canonical text shorter than `n`).
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

/// Length of the base64url (unpadded) form of `n` bytes; `usize::MAX` when
/// that passes `usize` (a length only ever reported as too large).
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n / 3)
        .saturating_mul(4)
        .saturating_add((n % 3 * 4).div_ceil(3))
}

/// The tail a seal keeps free after the payload: room for the tag, or for
/// the associated data and its length appended while sealing.
fn seal_tail(context: &Context) -> usize {
    TAG_LEN.max(1 + MAX_U32_LEN + context.0.len() + 8)
}

/// The buffer capacity to reserve for sealing a value of at most `max_len`
/// bytes: enough for a typical value, not for the configured maximum,
/// which may be huge (the payload writer grows the buffer safely); and
/// room for the zeros [`encode`] may add.
pub(crate) fn seal_capacity(max_len: usize, context: &Context) -> usize {
    max_binary_len(max_len)
        .min(SEAL_RESERVE)
        .saturating_add(seal_tail(context))
        .max(VECTOR_MIN)
}

/// The buffer capacity to reserve for opening `value`.
pub(crate) fn open_capacity(value: &str, context: &Context) -> usize {
    value.len().div_ceil(4) * 3 + 1 + MAX_U32_LEN + context.0.len()
}

/// Why [`seal`] failed: the [`Error`] it stands for, less the maximum
/// length, which the caller has. Two words, so that a seal's outcome comes
/// back in registers: returned through memory as a whole `Result`, it was
/// copied from one layout into the next on its way out of the scratch
/// buffer, and loads that spanned two of those stores stalled (3% of a
/// small seal's time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SealFailure {
    /// [`SealError::TimeRange`].
    TimeRange,
    /// [`Error::Rng`].
    Rng,
    /// [`SealError::Encode`].
    Encode,
    /// [`SealError::TooLarge`] with this `len`.
    TooLarge(usize),
}

impl SealFailure {
    /// The error, for a sealer whose maximum length is `max_len`.
    #[cold]
    pub(crate) fn error(self, max_len: usize) -> Error {
        match self {
            SealFailure::TimeRange => SealError::TimeRange.into(),
            SealFailure::Rng => Error::Rng,
            SealFailure::Encode => SealError::Encode.into(),
            SealFailure::TooLarge(len) => SealError::TooLarge { len, max: max_len }.into(),
        }
    }
}

/// The key that seals: its id (written in clear) and its cipher.
#[derive(Clone, Copy)]
pub(crate) struct SealingKey<'k> {
    pub(crate) id: KeyId,
    pub(crate) cipher: &'k Cipher,
}

/// Seals, in `buf` (empty, with [`seal_capacity`] reserved), a payload
/// written by `payload` into a value of at most `max_len` bytes, with a
/// nonce picked as `nonce` says.
///
/// The layout is built in place: `header || seed || plaintext`, then the
/// associated data and its length after it, so the synthetic nonce hashes
/// one contiguous run; then the seed is replaced by the nonce, the
/// plaintext encrypted in place, and the tag replaces the associated data.
/// With `padding`, the envelope is v2: the payload's length goes before
/// the payload and zero bytes after it.
// The envelope's inputs, each its own: grouping them would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn seal(
    buf: &mut Vec<u8>,
    key: SealingKey<'_>,
    context: &Context,
    times: Times,
    max_len: usize,
    padding: Padding,
    nonce: NonceSource<'_>,
    payload: impl FnOnce(&mut Vec<u8>, Room) -> Result<(), PayloadError>,
    out: &mut String,
) -> Result<(), SealFailure> {
    let lifetime = times
        .expires_at
        .since(times.issued_at)
        .ok_or(SealFailure::TimeRange)?;
    let nonce_len = key.cipher.algorithm().nonce_len();
    let max_bin = max_binary_len(max_len);
    let too_large = SealFailure::TooLarge;
    buf.push(if padding.is_padded() {
        VERSION_PADDED
    } else {
        VERSION
    });
    put_varint(buf, u64::from(key.id.0));
    let header_len = buf.len();
    let nonce_at = buf.len();
    buf.resize(nonce_at + nonce_len, 0);
    let body_at = buf.len();
    // The nonce's seed, replaced by the nonce once the message is known.
    nonce
        .seed(&mut buf[nonce_at..body_at])
        .map_err(|_| SealFailure::Rng)?;
    put_varint(buf, times.issued_at.secs());
    put_varint(buf, lifetime);
    let cap = max_bin.saturating_sub(TAG_LEN);
    if buf.len() > cap {
        return Err(too_large(encoded_len(buf.len() + TAG_LEN)));
    }
    let room = Room {
        cap,
        tail: seal_tail(context),
    };
    let payload_at = buf.len();
    payload(buf, room).map_err(|e| match e {
        // The value would be at least one byte longer than the maximum.
        PayloadError::Overflow => too_large(encoded_len(max_bin + 1)),
        PayloadError::Encode => SealFailure::Encode,
    })?;
    if padding.is_padded() {
        pad(buf, body_at, payload_at, padding, room).map_err(too_large)?;
    }
    let body_end = buf.len();
    // Associated data: the header as sent, then name and purpose.
    buf.extend_from_within(..header_len);
    buf.extend_from_slice(&context.0);
    let aad_end = buf.len();
    let spans = Spans {
        nonce_at,
        body_at,
        body_end,
        aad_end,
    };
    // Written in place by the per-thread path: returned in a `Result`, the
    // tag came back one byte off its alignment and was copied out in
    // pieces that the next loads spanned.
    let mut tag = [0u8; TAG_LEN];
    match nonce {
        NonceSource::PerThread => {
            let (envelope, aad) = buf.split_at_mut(body_end);
            let (head, body) = envelope.split_at_mut(body_at);
            match key
                .cipher
                .encrypt_per_thread(&mut head[nonce_at..], aad, body, &mut tag)
            {
                Ok(()) => {}
                // A thread tearing down its thread-local storage cannot
                // reach its stream (nothing was written): a synthetic
                // nonce from fresh random bytes instead.
                Err(StreamFailed::Unreachable) => {
                    NonceSource::Fresh
                        .seed(&mut buf[nonce_at..body_at])
                        .map_err(|_| SealFailure::Rng)?;
                    tag = encrypt_synthetic(buf, key, spans)?;
                }
                Err(StreamFailed::Rng) => return Err(SealFailure::Rng),
                Err(StreamFailed::Aead) => return Err(SealFailure::Encode),
            }
        }
        NonceSource::Fresh | NonceSource::Deterministic => {
            tag = encrypt_synthetic(buf, key, spans)?;
        }
        NonceSource::Fixed(_) => tag = encrypt(buf, key, spans)?,
    }
    buf.truncate(body_end);
    buf.extend_from_slice(&tag);
    encode(buf, out)
}

/// Where [`seal`] laid out the parts of the message in its buffer:
/// `header || nonce || body || associated data`.
#[derive(Clone, Copy)]
struct Spans {
    nonce_at: usize,
    body_at: usize,
    body_end: usize,
    aad_end: usize,
}

/// Encrypts the body in `buf` laid out as `spans` say under a nonce
/// derived from the seed at its place and the whole message (the seed is
/// replaced by the nonce); returns the tag. Leaves the associated data
/// after the body.
fn encrypt_synthetic(
    buf: &mut Vec<u8>,
    key: SealingKey<'_>,
    spans: Spans,
) -> Result<[u8; TAG_LEN], SealFailure> {
    let Spans {
        nonce_at,
        body_at,
        body_end,
        aad_end,
    } = spans;
    let aad_len = (aad_end - body_end) as u64;
    buf.extend_from_slice(&aad_len.to_le_bytes());
    let derived = key.cipher.synthetic_nonce(&buf[nonce_at..]);
    buf.truncate(aad_end);
    buf[nonce_at..body_at].copy_from_slice(&derived.as_bytes()[..body_at - nonce_at]);
    encrypt(buf, key, spans)
}

/// Encrypts the body in `buf` laid out as `spans` say under the nonce at
/// its place; returns the tag.
fn encrypt(
    buf: &mut [u8],
    key: SealingKey<'_>,
    spans: Spans,
) -> Result<[u8; TAG_LEN], SealFailure> {
    let (envelope, aad) = buf.split_at_mut(spans.body_end);
    let (head, body) = envelope.split_at_mut(spans.body_at);
    key.cipher
        .encrypt(
            &head[spans.nonce_at..],
            &aad[..spans.aad_end - spans.body_end],
            body,
        )
        .map_err(|_| SealFailure::Encode)
}

/// Where base64's engine is vectorized ([`vectorized`]), shorter inputs
/// are encoded by [`encode_short`], and from here to [`VECTOR_MIN`] the
/// engine gets them padded (one vectorized encode took about the same
/// time from 80 to 128 bytes on x86-64, and ours grows with the length).
const PAD_FROM: usize = 80;

/// base64's vectorized encoder starts at 128 input bytes (its private
/// `SIMD_MIN_INPUT_ENCODE` in 0.23; were it to change, the text would stay
/// the same and only the padding would stop paying). Below that its scalar
/// path took 970 instructions for a 128-byte envelope, ours about 600, so
/// without vectors ours encodes everything shorter.
const VECTOR_MIN: usize = 128;

/// Whether [`b64`] encodes with vector instructions (from [`VECTOR_MIN`]
/// bytes on): the same check its engine made when it was built.
fn vectorized() -> bool {
    #[cfg(target_arch = "x86_64")]
    let vector = std::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    let vector = cfg!(all(target_arch = "aarch64", target_feature = "neon"));
    vector
}

/// The value's text: unpadded base64url of the envelope in `buf`, written
/// into an allocation of its length (up to three bytes more where it was
/// padded, below), filled in place, not allocated zeroed.
/// [`SealFailure::Encode`] if the encoder did not fill it (it always does),
/// rather than a value of anything else.
///
/// Where base64's engine is vectorized, an envelope of [`PAD_FROM`] to
/// [`VECTOR_MIN`] bytes is encoded with zero bytes after it up to
/// [`VECTOR_MIN`], so that the vectorized engine takes it, and the text is
/// cut to the envelope's own length. base64 writes every three bytes as
/// four characters from those bytes alone, and the last one or two bytes
/// as the leading two or three characters of their group with zeros: the
/// cut text is the envelope's text, character for character. The zeros
/// are removed from `buf` again.
fn encode(buf: &mut Vec<u8>, out: &mut String) -> Result<(), SealFailure> {
    encode_with(buf, vectorized, out)
}

/// [`encode`], asking `vector` whether base64's engine is vectorized only
/// for an envelope it would pad for it.
fn encode_with(
    buf: &mut Vec<u8>,
    vector: impl FnOnce() -> bool,
    text_out: &mut String,
) -> Result<(), SealFailure> {
    let bin_len = buf.len();
    let len = encoded_len(bin_len);
    let padded = if bin_len >= VECTOR_MIN {
        bin_len
    } else if bin_len >= PAD_FROM && vector() {
        VECTOR_MIN
    } else {
        let mut out = zeroed(len);
        encode_short(buf, &mut out);
        return text(out, text_out);
    };
    buf.resize(padded, 0);
    let full = encoded_len(padded);
    let mut out = zeroed(full);
    let written = b64().encode_slice(&buf[..], &mut out);
    buf.truncate(bin_len);
    if written != Ok(full) {
        return Err(SealFailure::Encode);
    }
    out.truncate(len);
    text(out, text_out)
}

/// `len` zero bytes in an allocation of exactly that size. `vec![0; len]`
/// is a calloc, about 120 instructions more here than a malloc and an
/// inline fill of 150 bytes.
fn zeroed(len: usize) -> Vec<u8> {
    #[allow(clippy::slow_vector_initialization)]
    let mut out = Vec::with_capacity(len);
    out.resize(len, 0);
    out
}

/// Puts the text of `bytes`, which hold only base64 characters, in `out`:
/// the check is all `from_utf8` does.
fn text(bytes: Vec<u8>, out: &mut String) -> Result<(), SealFailure> {
    match String::from_utf8(bytes) {
        Ok(text) => {
            *out = text;
            Ok(())
        }
        Err(_) => Err(SealFailure::Encode),
    }
}

/// The base64url alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The two characters of every 12-bit value (8 KiB): one lookup per two
/// characters.
static PAIRS: [[u8; 2]; 4096] = {
    let mut pairs = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        pairs[i] = [ALPHABET[i >> 6], ALPHABET[i & 63]];
        i += 1;
    }
    pairs
};

/// Unpadded base64url of `bin` into `out`, which is exactly
/// [`encoded_len`]`(bin.len())` bytes long: six bytes to eight characters
/// (read as one big-endian word), then three bytes to four, then the last
/// one or two bytes to two or three characters.
fn encode_short(bin: &[u8], out: &mut [u8]) {
    let pair = |n: u64| PAIRS[(n & 0xfff) as usize];
    let (mut i, mut o) = (0, 0);
    // Eight bytes are read for six: the loop stops two bytes early.
    while let (Some(src), Some(dst)) = (bin.get(i..i + 8), out.get_mut(o..o + 8)) {
        let Ok(word) = <[u8; 8]>::try_from(src) else {
            break;
        };
        let n = u64::from_be_bytes(word) >> 16;
        let [a, b, c, d] = [pair(n >> 36), pair(n >> 24), pair(n >> 12), pair(n)];
        dst.copy_from_slice(&[a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1]]);
        i += 6;
        o += 8;
    }
    let mut groups = bin[i..].chunks_exact(3);
    let mut quads = out[o..].chunks_exact_mut(4);
    for (group, quad) in (&mut groups).zip(&mut quads) {
        let n = u64::from(group[0]) << 16 | u64::from(group[1]) << 8 | u64::from(group[2]);
        let [a, b] = [pair(n >> 12), pair(n)];
        quad.copy_from_slice(&[a[0], a[1], b[0], b[1]]);
    }
    let tail = quads.into_remainder();
    match *groups.remainder() {
        [x] => {
            let a = pair(u64::from(x) << 4);
            tail.copy_from_slice(&a);
        }
        [x, y] => {
            let n = u64::from(x) << 10 | u64::from(y) << 2;
            let a = pair(n >> 6);
            tail.copy_from_slice(&[a[0], a[1], ALPHABET[(n & 63) as usize]]);
        }
        _ => {}
    }
}

/// Makes the payload at `payload_at..` of the plaintext at `body_at..`
/// a padded one: its length (LEB128) before it, zero bytes after it up to
/// `padding`'s class. Grows the buffer by hand, wiping the old one, so
/// plaintext is never left behind by a reallocation. `Err` with the
/// length the value would have if that passes the room's cap.
fn pad(
    buf: &mut Vec<u8>,
    body_at: usize,
    payload_at: usize,
    padding: Padding,
    room: Room,
) -> Result<(), usize> {
    use zeroize::Zeroize as _;
    let payload_len = buf.len() - payload_at;
    let mut prefix = [0u8; MAX_U64_LEN];
    let mut n = 0;
    let mut rest = payload_len as u64;
    loop {
        let byte = (rest & 0x7f) as u8;
        rest >>= 7;
        prefix[n] = byte | if rest > 0 { 0x80 } else { 0 };
        n += 1;
        if rest == 0 {
            break;
        }
    }
    let plain = buf.len() - body_at + n;
    let padded = padding.padded_len(plain).unwrap_or(usize::MAX);
    let end = body_at.saturating_add(padded);
    if end > room.cap {
        return Err(encoded_len(end.saturating_add(TAG_LEN)));
    }
    let needed = end.saturating_add(room.tail);
    if buf.capacity() < needed {
        // A class past what can be allocated (a configuration such as
        // `multiple_of(usize::MAX / 2)` under a huge `max_len`) is too
        // large, not a capacity-overflow panic.
        let mut bigger = Vec::new();
        if bigger.try_reserve_exact(needed).is_err() {
            return Err(encoded_len(end.saturating_add(TAG_LEN)));
        }
        bigger.extend_from_slice(buf);
        buf.as_mut_slice().zeroize();
        core::mem::swap(buf, &mut bigger);
    }
    buf.resize(end, 0);
    buf.copy_within(payload_at..payload_at + payload_len, payload_at + n);
    buf[payload_at..payload_at + n].copy_from_slice(&prefix[..n]);
    Ok(())
}

/// What a sealed value says in clear, read without any key: the envelope
/// version, the id of the key it names, and its lengths. Nothing here is
/// authenticated until the value opens (the version and key id are
/// authenticated then), so use it to look, never to decide.
///
/// ```
/// use sealed_session::{EnvelopeInfo, Error, KeyEntry, Key, Keyring, Refusal, Sealer};
/// let sealer = Sealer::new(Keyring::new([KeyEntry::new(7, Key::try_generate()?)])?);
/// let value = sealer.seal(&"ada")?;
/// let info = EnvelopeInfo::inspect(&value)?;
/// assert_eq!((info.version, info.key_id.0, info.len), (1, 7, value.len()));
/// assert_eq!(
///     EnvelopeInfo::inspect("not a sealed value"),
///     Err(Error::Refused(Refusal::Malformed))
/// );
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeInfo {
    /// The envelope format version (this release writes and opens 1, and
    /// 2 for padded values).
    pub version: u8,
    /// The id of the key the value names (the key that sealed it, if it is
    /// authentic).
    pub key_id: KeyId,
    /// Length of the value, in bytes (a sealed value is ASCII).
    pub len: usize,
    /// Length of the binary envelope the value decodes to.
    pub binary_len: usize,
}

/// The shortest nonce of any algorithm (AES-256-GCM's).
const MIN_NONCE_LEN: usize = Algorithm::Aes256Gcm.nonce_len();
const _: () = assert!(MIN_NONCE_LEN <= Algorithm::XChaCha20Poly1305.nonce_len());

/// Characters [`EnvelopeInfo::inspect`] decodes at a time (a multiple of
/// 4, so every chunk but the last decodes on its own).
const INSPECT_CHUNK: usize = 1024;
const _: () = assert!(INSPECT_CHUNK.is_multiple_of(4));

impl EnvelopeInfo {
    /// Reads what `value` says in clear, checking only what needs no key:
    /// that it is canonical unpadded base64url, that its version is one
    /// this release opens, that its key id is a canonical LEB128 `u32`,
    /// and that it is at least as long as the shortest envelope (header,
    /// a 12-byte nonce and a 16-byte tag). Steps 2 to 4 of opening, in
    /// SECURITY.md's "Envelope v1: exact layout", without the key.
    ///
    /// Any input is safe: it never panics, works in time linear in the
    /// length of `value` and in constant memory, and keeps nothing of it.
    /// Unlike [`Sealer::open`](crate::Sealer::open) it has no maximum
    /// length: bound the input first where it comes from a client.
    ///
    /// # Errors
    /// [`Refusal::Malformed`] for anything that is not such an envelope,
    /// [`Refusal::UnsupportedVersion`] for another envelope version.
    pub fn inspect(value: &str) -> Result<EnvelopeInfo> {
        let mut header = [0u8; 1 + MAX_U32_LEN];
        let mut header_filled = 0;
        let mut binary_len = 0usize;
        let mut chunk = [0u8; INSPECT_CHUNK / 4 * 3];
        for text in value.as_bytes().chunks(INSPECT_CHUNK) {
            let n = URL_SAFE_NO_PAD
                .decode_slice(text, &mut chunk[..])
                .map_err(|_| Refusal::Malformed)?;
            let take = (header.len() - header_filled).min(n);
            header[header_filled..header_filled + take].copy_from_slice(&chunk[..take]);
            header_filled += take;
            binary_len += n;
        }
        let (version, key_id, header_len) = parse_header(&header[..header_filled])?;
        if binary_len < header_len + MIN_NONCE_LEN + TAG_LEN {
            return Err(Refusal::Malformed.into());
        }
        Ok(EnvelopeInfo {
            version,
            key_id,
            len: value.len(),
            binary_len,
        })
    }
}

/// What an opened envelope says about itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) key_id: KeyId,
    pub(crate) times: Times,
}

/// Reads the version and key id of a decoded envelope; returns them and
/// the header's length.
fn parse_header(bin: &[u8]) -> Result<(u8, KeyId, usize), Refusal> {
    let version = match bin.first() {
        None => return Err(Refusal::Malformed),
        Some(&v @ (VERSION | VERSION_PADDED)) => v,
        Some(&other) => return Err(Refusal::UnsupportedVersion(other)),
    };
    let (id, n) =
        get_varint(&bin[1..], MAX_U32_LEN, u64::from(u32::MAX)).ok_or(Refusal::Malformed)?;
    let id = u32::try_from(id).map_err(|_| Refusal::Malformed)?;
    Ok((version, KeyId(id), 1 + n))
}

/// Opens `value` in `buf` (empty, with [`open_capacity`] reserved): bounds
/// its length, decodes, finds the key with `lookup`, authenticates and
/// decrypts, then hands the header and payload to `f`. The caller wipes
/// `buf` afterwards.
pub(crate) fn open<'k, R>(
    buf: &mut Vec<u8>,
    value: &str,
    max_len: usize,
    context: &Context,
    lookup: impl FnOnce(KeyId) -> Option<&'k Cipher>,
    f: impl FnOnce(Header, &[u8]) -> Result<R>,
) -> Result<R> {
    // Bounded work: nothing is decoded past the maximum.
    if value.len() > max_len {
        return Err(Refusal::TooLong {
            len: value.len(),
            max: max_len,
        }
        .into());
    }
    // The decoder's own (conservative) estimate of the decoded length.
    buf.resize(value.len().div_ceil(4) * 3, 0);
    let n = b64()
        .decode_slice(value.as_bytes(), &mut buf[..])
        .map_err(|_| Refusal::Malformed)?;
    buf.truncate(n);
    let (version, key_id, header_len) = parse_header(buf)?;
    let cipher = lookup(key_id).ok_or(Refusal::UnknownKey(key_id))?;
    let nonce_len = cipher.algorithm().nonce_len();
    if buf.len() < header_len + nonce_len + TAG_LEN {
        return Err(Refusal::Malformed.into());
    }
    let tag_at = buf.len() - TAG_LEN;
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&buf[tag_at..]);
    buf.truncate(tag_at);
    buf.extend_from_within(..header_len);
    buf.extend_from_slice(&context.0);
    let (envelope, aad) = buf.split_at_mut(tag_at);
    let (head, body) = envelope.split_at_mut(header_len + nonce_len);
    cipher
        .decrypt(&head[header_len..], aad, body, &tag)
        .map_err(|_| Refusal::Authentication)?;
    let (issued_at, a) = get_varint(body, MAX_U64_LEN, u64::MAX).ok_or(Refusal::Malformed)?;
    let (lifetime, b) = get_varint(&body[a..], MAX_U64_LEN, u64::MAX).ok_or(Refusal::Malformed)?;
    let issued_at = UnixTime::from_secs(issued_at);
    let expires_at = issued_at.checked_add(lifetime).ok_or(Refusal::Malformed)?;
    let header = Header {
        key_id,
        times: Times {
            issued_at,
            expires_at,
        },
    };
    let rest = &body[a + b..];
    let payload = if version == VERSION_PADDED {
        unpad(rest).ok_or(Refusal::Malformed)?
    } else {
        rest
    };
    f(header, payload)
}

/// The payload of a v2 plaintext after its times: `LEB128(len) || payload
/// || padding`, the padding all zero bytes. `None` if the length is not
/// canonical or passes the end, or a padding byte is not zero.
fn unpad(rest: &[u8]) -> Option<&[u8]> {
    let (len, n) = get_varint(rest, MAX_U64_LEN, rest.len() as u64)?;
    let rest = &rest[n..];
    let len = usize::try_from(len).ok().filter(|&len| len <= rest.len())?;
    let (payload, padding) = rest.split_at(len);
    padding.iter().all(|&b| b == 0).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

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

    /// What [`EnvelopeInfo::inspect`] must say, computed the plain way:
    /// decode the whole value at once.
    fn inspect_reference(value: &str) -> Result<EnvelopeInfo> {
        let bin = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| Refusal::Malformed)?;
        let (version, key_id, header_len) = parse_header(&bin)?;
        if bin.len() < header_len + 12 + TAG_LEN {
            return Err(Refusal::Malformed.into());
        }
        Ok(EnvelopeInfo {
            version,
            key_id,
            len: value.len(),
            binary_len: bin.len(),
        })
    }

    #[test]
    fn inspect_reads_the_clear_part_of_sealed_values() {
        use crate::{Key, KeyEntry, Keyring, Sealer};
        for algorithm in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
            for id in [0, 1, 127, 128, 300, u32::MAX] {
                let key = Key::try_generate().expect("a key");
                let keyring =
                    Keyring::new([KeyEntry::new(id, key).algorithm(algorithm)]).expect("keyring");
                let sealer = Sealer::new(keyring);
                for payload in [&b""[..], b"ada", &[7u8; 2000][..]] {
                    let value = sealer.seal_bytes(payload).expect("seals");
                    let info = EnvelopeInfo::inspect(&value).expect("inspects");
                    assert_eq!(info.version, 1);
                    assert_eq!(info.key_id, KeyId(id));
                    assert_eq!(info.len, value.len());
                    assert_eq!(info.binary_len, decoded_len(value.len()));
                    assert_eq!(Ok(info), inspect_reference(&value));
                }
            }
        }
    }

    #[test]
    fn inspect_refuses_what_is_not_an_envelope() {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let body = [0u8; 64];
        let with_header = |header: &[u8], body_len: usize| {
            let mut bin = header.to_vec();
            bin.extend_from_slice(&body[..body_len]);
            b64(&bin)
        };
        let malformed = Err(Error::from(Refusal::Malformed));
        // Exactly the shortest envelope, then one byte short of it.
        assert!(EnvelopeInfo::inspect(&with_header(&[1, 5], 28)).is_ok());
        assert_eq!(EnvelopeInfo::inspect(&with_header(&[1, 5], 27)), malformed);
        assert_eq!(
            EnvelopeInfo::inspect(&with_header(&[1, 0xac, 0x02], 28)).map(|i| i.key_id),
            Ok(KeyId(300))
        );
        for bad in [
            String::new(),
            "A".into(),
            "AQ".into(),
            "not a sealed value".into(),
            format!("{}=", with_header(&[1, 5], 28)),
            with_header(&[1, 5], 28).replace('A', "+"),
            // A key id that is overlong, non-canonical or over a u32.
            with_header(&[1, 0x80, 0x00], 28),
            with_header(&[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 28),
            with_header(&[1, 0xff, 0xff, 0xff, 0xff, 0x1f], 28),
            // A length that is no base64 length, and non-zero unused bits.
            format!("{}A", with_header(&[1, 5], 28)),
            format!("{}B", &with_header(&[1, 5], 29)[..41]),
        ] {
            assert_eq!(EnvelopeInfo::inspect(&bad), malformed, "{bad:?}");
            assert_eq!(inspect_reference(&bad), malformed, "{bad:?}");
        }
        for version in [0u8, 3, 0xff] {
            assert_eq!(
                EnvelopeInfo::inspect(&with_header(&[version, 5], 28)),
                Err(Error::from(Refusal::UnsupportedVersion(version)))
            );
        }
    }

    #[test]
    fn inspect_checks_every_chunk_of_a_long_value() {
        let mut bin = vec![1u8, 9];
        bin.resize(3000, 0x5a);
        let value = URL_SAFE_NO_PAD.encode(&bin);
        assert!(value.len() > 2 * INSPECT_CHUNK);
        let info = EnvelopeInfo::inspect(&value).expect("inspects");
        assert_eq!((info.key_id, info.binary_len), (KeyId(9), 3000));
        for at in [
            INSPECT_CHUNK - 1,
            INSPECT_CHUNK,
            INSPECT_CHUNK + 1,
            value.len() - 1,
        ] {
            let mut bad = value.clone().into_bytes();
            bad[at] = b'.';
            let bad = String::from_utf8(bad).expect("ascii");
            assert_eq!(
                EnvelopeInfo::inspect(&bad),
                Err(Error::from(Refusal::Malformed)),
                "{at}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn inspect_agrees_with_decoding_at_once(text in ".{0,1400}") {
            proptest::prop_assert_eq!(EnvelopeInfo::inspect(&text), inspect_reference(&text));
        }

        #[test]
        fn inspect_agrees_on_any_binary_envelope(bin in proptest::collection::vec(proptest::num::u8::ANY, 0..1600)) {
            let value = URL_SAFE_NO_PAD.encode(&bin);
            proptest::prop_assert_eq!(EnvelopeInfo::inspect(&value), inspect_reference(&value));
            let mut versioned = vec![1u8];
            versioned.extend_from_slice(&bin);
            let value = URL_SAFE_NO_PAD.encode(&versioned);
            proptest::prop_assert_eq!(EnvelopeInfo::inspect(&value), inspect_reference(&value));
        }
    }

    #[test]
    fn padding_classes() {
        let m = Padding::multiple_of(100);
        assert_eq!(
            [1, 100, 101, 200].map(|n| m.padded_len(n)),
            [Some(100), Some(100), Some(200), Some(200)]
        );
        assert_eq!(Padding::multiple_of(0), Padding::multiple_of(1));
        assert_eq!(Padding::multiple_of(1).padded_len(37), Some(37));
        let p = Padding::power_of_two();
        assert_eq!(
            [1, 2, 3, 64, 65].map(|n| p.padded_len(n)),
            [Some(1), Some(2), Some(4), Some(64), Some(128)]
        );
        assert_eq!(p.padded_len(usize::MAX), None);
        assert_eq!(Padding::multiple_of(4096).padded_len(usize::MAX), None);
        assert!(!Padding::default().is_padded());
    }

    #[test]
    fn unpad_is_strict() {
        assert_eq!(unpad(&[0]), Some(&[][..]));
        assert_eq!(unpad(&[2, 7, 8]), Some(&[7, 8][..]));
        assert_eq!(unpad(&[2, 7, 8, 0, 0, 0]), Some(&[7, 8][..]));
        for bad in [
            &[][..],             // no length
            &[3, 7, 8],          // longer than what follows
            &[2, 7, 8, 0, 1],    // padding that is not zero
            &[2, 7, 8, 0x80],    // padding that is not zero
            &[0x82, 0x00, 7, 8], // a length that is not canonical
            &[0xff; 11],         // a length past ten bytes
        ] {
            assert_eq!(unpad(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn padded_values_are_v2_of_their_class_and_open_everywhere() {
        use crate::{Key, KeyEntry, Keyring, Sealer};
        for algorithm in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
            let key = Key::try_generate().expect("a key");
            let ring = Keyring::new([KeyEntry::new(3, key).algorithm(algorithm)]).expect("ring");
            let plain = Sealer::new(ring);
            // Plaintexts of 8 bytes of times, the payload's length and the
            // payload: all within one class of each.
            for (padding, class) in [
                (Padding::multiple_of(64), [0usize, 1, 20, 54]),
                (Padding::power_of_two(), [33, 40, 50, 54]),
            ] {
                let padded = plain.clone().with_padding(padding);
                let mut lens = Vec::new();
                for len in class {
                    let payload = vec![0xa5; len];
                    let value = padded.seal_bytes(&payload).expect("seals");
                    let info = EnvelopeInfo::inspect(&value).expect("inspects");
                    assert_eq!(info.version, 2);
                    lens.push(value.len());
                    // Opened by a sealer with and without padding.
                    for opener in [&plain, &padded] {
                        assert_eq!(opener.open_bytes(&value).expect("opens").value, payload);
                    }
                }
                assert!(
                    lens.windows(2).all(|w| w[0] == w[1]),
                    "{padding:?}: {lens:?}"
                );
                let big = padded.seal_bytes(&[1; 100]).expect("seals");
                assert!(big.len() > lens[0], "the next class is longer");
            }
            // Without padding: v1, as before.
            let value = plain.seal_bytes(b"ada").expect("seals");
            assert_eq!(EnvelopeInfo::inspect(&value).expect("inspects").version, 1);
        }
    }

    #[test]
    fn padding_counts_towards_the_maximum_and_grows_safely() {
        use crate::{Keyring, Sealer};
        let sealer = Sealer::new(Keyring::ephemeral().expect("rng"))
            .with_max_len(45_000)
            .with_padding(Padding::power_of_two());
        // Grows the buffer past the reserve while padding (16 KiB of
        // plaintext padded to 32 KiB needs more than it).
        let payload = vec![7u8; 17_000];
        let value = sealer.seal_bytes(&payload).expect("fits 45,000");
        assert_eq!(decoded_len(value.len()), 32_768 + 1 + 1 + 24 + 16);
        assert_eq!(sealer.open_bytes(&value).expect("opens").value, payload);
        // 20,000 bytes pad to 32 KiB as well; 33,000 would pad to 64 KiB.
        assert!(sealer.seal_bytes(&[7u8; 20_000]).is_ok());
        assert!(matches!(
            sealer.seal_bytes(&[7u8; 33_000]),
            Err(Error::Seal(SealError::TooLarge { .. }))
        ));
    }

    /// `put_varint` is LEB128 at every length boundary, and `get_varint`
    /// reads back what it wrote.
    #[test]
    fn varints_are_leb128_at_every_boundary() {
        let reference = |mut n: u64| {
            let mut out = Vec::new();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(byte);
                    return out;
                }
                out.push(byte | 0x80);
            }
        };
        for bits in 0..64u32 {
            let edge = 1u64 << bits;
            for n in [
                edge - 1,
                edge,
                edge + 1,
                edge.wrapping_mul(3) / 2,
                u64::MAX - edge,
            ] {
                let mut out = Vec::new();
                put_varint(&mut out, n);
                assert_eq!(out, reference(n), "{n}");
                assert_eq!(
                    get_varint(&out, MAX_U64_LEN, u64::MAX),
                    Some((n, out.len()))
                );
            }
        }
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

    /// The value's text is base64's URL_SAFE_NO_PAD, on every side of the
    /// encoders' thresholds (ours below [`PAD_FROM`], base64's padded to
    /// [`VECTOR_MIN`] from there where it is vectorized and ours where it
    /// is not, base64's as it is from there), both ways on every machine:
    /// every length to 400 bytes, with random bytes, and every byte value
    /// in every position of the short groups and of the last groups of
    /// padded envelopes. The envelope is left as it was (the padding
    /// removed).
    #[test]
    fn value_text_is_unpadded_base64url() {
        use rand::RngCore as _;
        let check = |bytes: &[u8]| {
            for vector in [false, true] {
                let mut buf = bytes.to_vec();
                let mut text = String::new();
                let n = bytes.len();
                assert_eq!(encode_with(&mut buf, || vector, &mut text), Ok(()));
                assert_eq!(text, URL_SAFE_NO_PAD.encode(bytes), "{n} bytes, {vector}");
                assert_eq!(buf, bytes, "the envelope after encoding");
            }
            let mut buf = bytes.to_vec();
            let mut text = String::new();
            assert_eq!(encode(&mut buf, &mut text), Ok(()));
            assert_eq!(text, URL_SAFE_NO_PAD.encode(bytes));
        };
        for n in 0..400 {
            let mut bytes = vec![0u8; n];
            rand::rng().fill_bytes(&mut bytes);
            check(&bytes);
        }
        let lengths = (1..=14).chain([PAD_FROM, PAD_FROM + 1, PAD_FROM + 2]);
        for n in lengths.chain(VECTOR_MIN - 3..VECTOR_MIN) {
            for at in n.saturating_sub(14)..n {
                for byte in 0..=255u8 {
                    let mut bytes = vec![0x5a; n];
                    bytes[at] = byte;
                    check(&bytes);
                }
            }
        }
    }

    /// Every byte value at every position of a valid text long enough for
    /// several vector blocks (and every cut of its end): the engine of
    /// opens ([`b64`]: vectorized where the CPU has AVX2 or NEON) gives the
    /// same bytes or the same error as the scalar one. On a CPU without
    /// them [`b64`] is the scalar engine, and the test says so.
    #[test]
    fn vectorized_decoding_refuses_exactly_what_the_scalar_one_does() {
        if !vectorized() {
            eprintln!("no vector engine on this CPU: the scalar one is compared with itself");
        }
        let simd = b64();
        let bytes: Vec<u8> = (0..150u32).map(|i| (i * 37 + 11) as u8).collect();
        let text = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(simd.encode(&bytes), text);
        type Decoded = Result<Vec<u8>, base64::DecodeSliceError>;
        fn decode(engine: &impl base64::Engine, input: &[u8]) -> Decoded {
            let mut out = vec![0u8; input.len().div_ceil(4) * 3];
            engine
                .decode_slice(input, &mut out)
                .map(|n| out[..n].to_vec())
        }
        let ours = |input: &[u8]| decode(simd, input);
        let scalar = |input: &[u8]| decode(&URL_SAFE_NO_PAD, input);
        let mut input = text.clone().into_bytes();
        for at in 0..input.len() {
            let original = input[at];
            for byte in 0..=255u8 {
                input[at] = byte;
                assert_eq!(ours(&input), scalar(&input), "{at} {byte}");
            }
            input[at] = original;
        }
        for cut in 0..8 {
            let short = &input[..input.len() - cut];
            assert_eq!(ours(short), scalar(short), "cut {cut}");
        }
    }

    proptest::proptest! {
        /// The engine of seals and opens and the scalar one agree on every
        /// input: the same text for any bytes, and the same bytes or the
        /// same refusal for any text (canonical trailing bits included).
        #[test]
        fn base64_engines_agree(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..1500),
            text in "[A-Za-z0-9_=+/ -]{0,1500}",
            cut in 0usize..4,
        ) {
            let encoded = b64().encode(&bytes);
            proptest::prop_assert_eq!(&encoded, &URL_SAFE_NO_PAD.encode(&bytes));
            // A valid text, one cut short, and a text of any symbols.
            let short = &encoded[..encoded.len().saturating_sub(cut)];
            for input in [encoded.as_str(), short, text.as_str()] {
                let mut ours = vec![0u8; input.len().div_ceil(4) * 3];
                let mut theirs = ours.clone();
                let a = b64().decode_slice(input, &mut ours[..]).map(|n| ours[..n].to_vec());
                let b = URL_SAFE_NO_PAD
                    .decode_slice(input, &mut theirs[..])
                    .map(|n| theirs[..n].to_vec());
                proptest::prop_assert_eq!(a.is_ok(), b.is_ok(), "{:?}", input);
                if let (Ok(a), Ok(b)) = (a, b) {
                    proptest::prop_assert_eq!(a, b);
                }
            }
        }
    }
}

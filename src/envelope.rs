//! Envelope v1: the byte format of a sealed value, and nothing else (no
//! serde, no clock, no choice of key: the sealer brings those).
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

use crate::aead::{Cipher, NonceSource, TAG_LEN};
use crate::error::{Refusal, Result, SealError};
use crate::key::{Algorithm, KeyId};
use crate::time::UnixTime;

/// The only envelope version this release writes and opens.
pub(crate) const VERSION: u8 = 1;
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

/// Largest binary envelope whose base64url form fits in `max_len` bytes.
const fn max_binary_len(max_len: usize) -> usize {
    max_len / 4 * 3 + (max_len % 4).saturating_sub(1)
}

/// Length of the binary envelope whose unpadded base64url form is `n`
/// bytes long (for canonical encodings).
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

/// The tail a seal keeps free after the payload: room for the tag, or for
/// the associated data and its length appended while sealing.
fn seal_tail(context: &Context) -> usize {
    TAG_LEN.max(1 + MAX_U32_LEN + context.0.len() + 8)
}

/// The buffer capacity to reserve for sealing a value of at most `max_len`
/// bytes: enough for a typical value, not for the configured maximum,
/// which may be huge (the payload writer grows the buffer safely).
pub(crate) fn seal_capacity(max_len: usize, context: &Context) -> usize {
    max_binary_len(max_len)
        .min(SEAL_RESERVE)
        .saturating_add(seal_tail(context))
}

/// The buffer capacity to reserve for opening `value`.
pub(crate) fn open_capacity(value: &str, context: &Context) -> usize {
    value.len().div_ceil(4) * 3 + 1 + MAX_U32_LEN + context.0.len()
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
pub(crate) fn seal(
    buf: &mut Vec<u8>,
    key: SealingKey<'_>,
    context: &Context,
    times: Times,
    max_len: usize,
    nonce: NonceSource<'_>,
    payload: impl FnOnce(&mut Vec<u8>, Room) -> Result<(), PayloadError>,
) -> Result<String> {
    let lifetime = times
        .expires_at
        .since(times.issued_at)
        .ok_or(SealError::TimeRange)?;
    let nonce_len = key.cipher.algorithm().nonce_len();
    let max_bin = max_binary_len(max_len);
    let too_large = |len: usize| SealError::TooLarge { len, max: max_len };
    buf.push(VERSION);
    put_varint(buf, u64::from(key.id.0));
    let header_len = buf.len();
    let nonce_at = buf.len();
    buf.resize(nonce_at + nonce_len, 0);
    let body_at = buf.len();
    // The nonce's seed, replaced by the nonce once the message is known.
    nonce.seed(&mut buf[nonce_at..body_at]);
    put_varint(buf, times.issued_at.secs());
    put_varint(buf, lifetime);
    let cap = max_bin.saturating_sub(TAG_LEN);
    if buf.len() > cap {
        return Err(too_large(encoded_len(buf.len() + TAG_LEN)).into());
    }
    let room = Room {
        cap,
        tail: seal_tail(context),
    };
    payload(buf, room).map_err(|e| match e {
        // The value would be at least one byte longer than the maximum.
        PayloadError::Overflow => too_large(encoded_len(max_bin + 1)),
        PayloadError::Encode => SealError::Encode,
    })?;
    let body_end = buf.len();
    // Associated data: the header as sent, then name and purpose.
    buf.extend_from_within(..header_len);
    buf.extend_from_slice(&context.0);
    let aad_end = buf.len();
    if nonce.is_synthetic() {
        let aad_len = (aad_end - body_end) as u64;
        buf.extend_from_slice(&aad_len.to_le_bytes());
        let derived = key.cipher.synthetic_nonce(&buf[nonce_at..]);
        buf.truncate(aad_end);
        buf[nonce_at..body_at].copy_from_slice(&derived.as_bytes()[..nonce_len]);
    }
    let (envelope, aad) = buf.split_at_mut(body_end);
    let (head, body) = envelope.split_at_mut(body_at);
    let tag = key
        .cipher
        .encrypt(&head[nonce_at..], aad, body)
        .map_err(|_| SealError::Encode)?;
    buf.truncate(body_end);
    buf.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(&buf[..]))
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
    /// The envelope format version (this release writes and opens 1).
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
        let (key_id, header_len) = parse_header(&header[..header_filled])?;
        if binary_len < header_len + MIN_NONCE_LEN + TAG_LEN {
            return Err(Refusal::Malformed.into());
        }
        Ok(EnvelopeInfo {
            version: VERSION,
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

/// Reads the key id of a decoded envelope (after the version byte).
fn parse_header(bin: &[u8]) -> Result<(KeyId, usize), Refusal> {
    match bin.first() {
        None => return Err(Refusal::Malformed),
        Some(&VERSION) => {}
        Some(&other) => return Err(Refusal::UnsupportedVersion(other)),
    }
    let (id, n) =
        get_varint(&bin[1..], MAX_U32_LEN, u64::from(u32::MAX)).ok_or(Refusal::Malformed)?;
    let id = u32::try_from(id).map_err(|_| Refusal::Malformed)?;
    Ok((KeyId(id), 1 + n))
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
    let n = URL_SAFE_NO_PAD
        .decode_slice(value.as_bytes(), &mut buf[..])
        .map_err(|_| Refusal::Malformed)?;
    buf.truncate(n);
    let (key_id, header_len) = parse_header(buf)?;
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
    f(header, &body[a + b..])
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
        let (key_id, header_len) = parse_header(&bin)?;
        if bin.len() < header_len + 12 + TAG_LEN {
            return Err(Refusal::Malformed.into());
        }
        Ok(EnvelopeInfo {
            version: 1,
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
        for version in [0u8, 2, 0xff] {
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
    fn length_arithmetic_matches_the_encoder() {
        for n in 0..200 {
            let encoded = URL_SAFE_NO_PAD.encode(vec![0u8; n]);
            assert_eq!(encoded_len(n), encoded.len());
            assert!(max_binary_len(encoded.len()) >= n);
            assert!(encoded_len(max_binary_len(encoded.len())) <= encoded.len());
        }
    }
}

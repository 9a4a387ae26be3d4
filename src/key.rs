//! Secret keys, key ids and algorithms.

use core::fmt;
use core::str::FromStr;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::TryRngCore as _;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, KeyProblem, Result};

/// Length of every key, in bytes.
pub const KEY_LEN: usize = 32;
const _: () = assert!(KEY_LEN == 32);

/// A 32-byte secret key.
///
/// Keys are random bytes, never passwords: make one with
/// [`Key::try_generate`] (or the `sealed-session keygen` command), or load one with
/// [`Key::from_base64`] or `TryFrom<&[u8]>`. The bytes are zeroized when the
/// key is dropped, and `Debug` never prints them.
///
/// Loading refuses keys that are obviously not random, with
/// [`KeyProblem::Weak`]: fewer than 14 distinct byte values, 11 bytes in a row
/// that step evenly (`00 00 00 ...`, `01 02 03 ...`), bytes that repeat with
/// a period of 16 or less, bytes that are all ASCII letters, digits, space,
/// `-`, `_` or `.` (typed text); and, for base64 text, fewer than 12 distinct
/// characters or 16 characters in a row that step evenly through the
/// alphabet (`AAAA...`, `ABCD...`). A key of 32 random bytes trips one of
/// these with probability below 2^-62. The check cannot recognise every
/// non-random key (a typed passphrase can pass it): it catches placeholders,
/// patterns and text, not bad habits.
///
/// ```
/// use sealed_session::Key;
/// let key = Key::try_generate()?;
/// assert_eq!(format!("{key:?}"), "Key(<redacted>)");
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Key {}

impl Key {
    /// Zero bytes: written over stale copies of keys (never used to seal).
    pub(crate) fn zeroed() -> Self {
        Key([0; KEY_LEN])
    }

    /// A fresh key from the operating system's random number generator.
    /// Every key it returns passes the randomness check of
    /// [`Key::from_base64`].
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness, or
    /// gives bytes that fail the randomness check twice in a row (a working
    /// generator does that with probability below 2^-124).
    pub fn try_generate() -> Result<Self> {
        for _ in 0..2 {
            let mut bytes = [0u8; KEY_LEN];
            rand::rngs::OsRng
                .try_fill_bytes(&mut bytes)
                .map_err(|_| Error::Rng)?;
            let key = Key(bytes);
            bytes.zeroize();
            if !bytes_are_patterned(&key.0) {
                return Ok(key);
            }
        }
        Err(Error::Rng)
    }

    /// A key of exactly these bytes, **without the randomness check**.
    ///
    /// For published test vectors (whose keys are patterns on purpose), for
    /// tests that need fixed keys, and for keeping an old key that the check
    /// refuses able to open while it is rotated out. Never for a key that
    /// seals new values: a key this function is needed for is guessable.
    ///
    /// ```
    /// use sealed_session::{Error, Key, KeyProblem};
    /// assert_eq!(Key::try_from(&[7u8; 32][..]).err(), Some(Error::from(KeyProblem::Weak)));
    /// let known_answer_key = Key::insecure_from_bytes(&[7u8; 32]);
    /// # let _ = known_answer_key;
    /// ```
    pub fn insecure_from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Key(*bytes)
    }

    /// Parses a key from base64: url-safe or standard alphabet, with or
    /// without padding (what `sealed-session keygen` or
    /// `openssl rand -base64 32` print). Surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`KeyProblem::Encoding`] if the text is not base64 (bad characters,
    /// wrong padding, two alphabets mixed, non-zero unused bits),
    /// [`KeyProblem::Length`] if it decodes to another number of bytes than
    /// 32, [`KeyProblem::Weak`] if the key is obviously not random (see
    /// [`Key`]). No error repeats the input.
    pub fn from_base64(text: &str) -> Result<Self> {
        let text = text.trim();
        // Room for one byte too many, so a too-long key is reported as such.
        let mut buf = zeroize::Zeroizing::new([0u8; KEY_LEN + 4]);
        if text.len() > 48 {
            return Err(not_a_key(text));
        }
        let engines = [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD];
        let Some(len) = engines
            .iter()
            .find_map(|engine| engine.decode_slice(text, &mut buf[..]).ok())
        else {
            return Err(not_a_key(text));
        };
        let key = Key::try_from(&buf[..len])?;
        if text_is_patterned(text.trim_end_matches('=')) {
            return Err(Error::from(KeyProblem::Weak));
        }
        Ok(key)
    }

    /// The key encoded as unpadded base64url, the form keyring spec strings
    /// use. Handle the result as the secret it is.
    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// Why `text`, which no engine decodes, is not a base64 key. Base64
/// characters of a wrong count are reported as the number of bytes they
/// would be, which tells an operator more than "not base64"; but the right
/// count of characters (43, or 44 with padding) is an encoding problem,
/// never "32 bytes, expected 32".
fn not_a_key(text: &str) -> Error {
    let digits = text.trim_end_matches('=');
    let padding = text.len() - digits.len();
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b"-_+/".contains(&b);
    if digits.is_empty() || !digits.bytes().all(alphabet) {
        return Error::from(KeyProblem::Encoding);
    }
    if padding > 0 && (padding > 2 || !text.len().is_multiple_of(4)) {
        return Error::from(KeyProblem::Encoding);
    }
    match digits.len() * 6 / 8 {
        KEY_LEN => Error::from(KeyProblem::Encoding),
        len => Error::from(KeyProblem::Length(len)),
    }
}

impl TryFrom<&[u8]> for Key {
    type Error = Error;

    /// # Errors
    /// [`KeyProblem::Length`] unless `bytes` is exactly 32 bytes long,
    /// [`KeyProblem::Weak`] if they are obviously not random (see [`Key`]).
    fn try_from(bytes: &[u8]) -> Result<Self> {
        let key = Key::from_slice(bytes)?;
        if bytes_are_patterned(&key.0) {
            return Err(Error::from(KeyProblem::Weak));
        }
        Ok(key)
    }
}

impl Key {
    /// Exactly 32 bytes, without the randomness check.
    fn from_slice(bytes: &[u8]) -> Result<Self> {
        let array: &[u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::from(KeyProblem::Length(bytes.len())))?;
        Ok(Key(*array))
    }
}

// The randomness check.
//
// Each rule below is a property that 32 uniformly random bytes have with a
// negligible, computed probability; a key is refused if it has any of them.
// The probabilities add up (union bound) to less than 2^-62.4, so a real
// random key is refused about once in 6 * 10^18 keys: never, in practice
// (and `try_generate` draws again if it ever happens).
//
// On the 32 bytes:
//
// 1. Fewer than 14 distinct values. The number of distinct values among 32
//    draws from 256 has P(<= 13) = sum over j <= 13 of
//    S(32, j) * 256!/(256-j)! / 256^32 = 2^-68.25 (S: Stirling numbers of
//    the second kind; computed exactly). A random key has about 30.
// 2. 11 bytes in a row in arithmetic progression mod 256 (step 0 is a run
//    of one byte, step 1 a counter). For each of the 22 places such a
//    stretch can start, the first two bytes fix the other nine:
//    22 * 256^-9 = 22 * 2^-72 < 2^-67.5.
// 3. A period p of 1 to 16 (byte i equals byte i + p throughout, as in a
//    16-byte key written twice): 32 - p bytes are fixed, so
//    sum over p of 256^-(32-p) < 2^-127.
// 4. Every byte is an ASCII letter, digit, space, '-', '_' or '.' (66 of
//    256 values): (66/256)^32 = 2^-62.58. All printable ASCII (95 values)
//    would be (95/256)^32 = 2^-45.8: too likely to be a rule.
//
// On the base64 text (without padding), whose first 42 characters carry
// 252 uniformly random bits, so are 42 independent uniform draws from the
// 64-character alphabet (the 43rd holds the last 4 bits):
//
// 5. Fewer than 12 distinct characters. P(<= 11 distinct among 42 draws
//    from 64) = 2^-67.56 (computed as in rule 1); the 43rd character can
//    only add one. A random key's text has about 31.
// 6. 16 characters in a row whose alphabet positions step evenly mod 64
//    (`AAAA...`, `ABCD...`, `acegi...`): the first two fix the other 14, so
//    at most 27 * 64^-14 for the windows within the first 42 characters plus
//    64^-13 / 16 for the last window: < 2^-78.
//
// Total: 2^-68.25 + 2^-67.5 + 2^-127 + 2^-62.58 + 2^-67.56 + 2^-78 < 2^-62.4.

/// Rules 1 to 4 of the randomness check.
fn bytes_are_patterned(bytes: &[u8; KEY_LEN]) -> bool {
    let mut seen = [0u64; 4];
    for &b in bytes {
        seen[usize::from(b >> 6)] |= 1 << (b & 63);
    }
    let distinct: u32 = seen.iter().map(|w| w.count_ones()).sum();
    seen.zeroize();
    distinct < 14
        || has_even_stretch(bytes, 0xff, 11)
        || (1..=16).any(|p| bytes[p..].iter().zip(bytes).all(|(a, b)| a == b))
        || bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b" -_.".contains(b))
}

/// Rules 5 and 6 of the randomness check, on base64 `digits` (no padding)
/// that decoded to 32 bytes.
fn text_is_patterned(digits: &str) -> bool {
    let mut positions = [0u8; 48];
    let mut seen = 0u64;
    let mut n = 0;
    for (slot, c) in positions.iter_mut().zip(digits.bytes()) {
        *slot = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            _ => 63,
        };
        seen |= 1 << *slot;
        n += 1;
    }
    let patterned = seen.count_ones() < 12 || has_even_stretch(&positions[..n], 63, 16);
    positions.zeroize();
    seen.zeroize();
    patterned
}

/// Whether `len` values in a row step evenly: each differs from the one
/// before by the same amount, modulo `mask + 1`.
fn has_even_stretch(values: &[u8], mask: u8, len: usize) -> bool {
    let mut run = 1;
    let mut step = None;
    for pair in values.windows(2) {
        let d = pair[1].wrapping_sub(pair[0]) & mask;
        if step == Some(d) {
            run += 1;
        } else {
            step = Some(d);
            run = 2;
        }
        if run >= len {
            return true;
        }
    }
    false
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// An operator-chosen key id, sent in clear (and authenticated) in every
/// sealed value so the opener looks the key up instead of trying keys.
///
/// Among the keys whose activation time has passed, the one with the highest
/// id seals. Choose small increasing numbers (1, 2, 3, ...): ids below 128
/// take one byte in the sealed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u32);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u32> for KeyId {
    fn from(id: u32) -> Self {
        KeyId(id)
    }
}

/// The AEAD a key is used with. It is a property of the key in the keyring,
/// never read from a sealed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// XChaCha20-Poly1305: 192-bit random nonces, no practical per-key
    /// message limit. The default.
    #[default]
    XChaCha20Poly1305,
    /// AES-256-GCM with 96-bit random nonces: rotate the key before it seals
    /// 2^32 values (see SECURITY.md).
    Aes256Gcm,
}

impl Algorithm {
    /// The name used in keyring spec strings.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::XChaCha20Poly1305 => "xchacha20poly1305",
            Algorithm::Aes256Gcm => "aes256gcm",
        }
    }

    /// Length of this algorithm's nonce, in bytes.
    pub const fn nonce_len(self) -> usize {
        match self {
            Algorithm::XChaCha20Poly1305 => 24,
            Algorithm::Aes256Gcm => 12,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Parses exactly `xchacha20poly1305` or `aes256gcm`, the names
    /// [`Algorithm::name`] gives and keyring spec strings use: no other
    /// case, no `-` or `_` (`AES-256-GCM` is refused), no surrounding
    /// whitespace. One spelling everywhere, so a name that works in one
    /// place works in every other.
    ///
    /// # Errors
    /// [`KeyProblem::Algorithm`] for anything else.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "xchacha20poly1305" => Ok(Algorithm::XChaCha20Poly1305),
            "aes256gcm" => Ok(Algorithm::Aes256Gcm),
            _ => Err(Error::from(KeyProblem::Algorithm)),
        }
    }
}

#[cfg(test)]
mod tests;

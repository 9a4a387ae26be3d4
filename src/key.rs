//! Secret keys, key ids and algorithms.

use core::fmt;
use core::str::FromStr;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::TryRngCore as _;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};

/// Length of every key, in bytes.
pub const KEY_LEN: usize = 32;
const _: () = assert!(KEY_LEN == 32);

/// A 32-byte secret key.
///
/// Keys are random bytes, never passwords: make one with
/// [`Key::try_generate`] (or `cargo run --example keygen`), or load one with
/// [`Key::from_base64`] or `TryFrom<&[u8]>`. The bytes are zeroized when the
/// key is dropped, and `Debug` never prints them.
///
/// Loading refuses keys that are obviously not random, with
/// [`Error::WeakKey`]: fewer than 14 distinct byte values, 11 bytes in a row
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
    /// use sealed_session::{Error, Key};
    /// assert_eq!(Key::try_from(&[7u8; 32][..]).err(), Some(Error::WeakKey));
    /// let known_answer_key = Key::insecure_from_bytes(&[7u8; 32]);
    /// # let _ = known_answer_key;
    /// ```
    pub fn insecure_from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Key(*bytes)
    }

    /// Parses a key from base64: url-safe or standard alphabet, with or
    /// without padding (what `cargo run --example keygen` or
    /// `openssl rand -base64 32` print). Surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`Error::KeyEncoding`] if the text is not base64 (bad characters,
    /// wrong padding, two alphabets mixed, non-zero unused bits),
    /// [`Error::KeyLength`] if it decodes to another number of bytes than
    /// 32, [`Error::WeakKey`] if the key is obviously not random (see
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
            return Err(Error::WeakKey);
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
        return Error::KeyEncoding;
    }
    if padding > 0 && (padding > 2 || !text.len().is_multiple_of(4)) {
        return Error::KeyEncoding;
    }
    match digits.len() * 6 / 8 {
        KEY_LEN => Error::KeyEncoding,
        len => Error::KeyLength(len),
    }
}

impl TryFrom<&[u8]> for Key {
    type Error = Error;

    /// # Errors
    /// [`Error::KeyLength`] unless `bytes` is exactly 32 bytes long,
    /// [`Error::WeakKey`] if they are obviously not random (see [`Key`]).
    fn try_from(bytes: &[u8]) -> Result<Self> {
        let key = Key::from_slice(bytes)?;
        if bytes_are_patterned(&key.0) {
            return Err(Error::WeakKey);
        }
        Ok(key)
    }
}

impl Key {
    /// Exactly 32 bytes, without the randomness check.
    fn from_slice(bytes: &[u8]) -> Result<Self> {
        let array: &[u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::KeyLength(bytes.len()))?;
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
    /// [`Error::UnknownAlgorithm`] for anything else.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "xchacha20poly1305" => Ok(Algorithm::XChaCha20Poly1305),
            "aes256gcm" => Ok(Algorithm::Aes256Gcm),
            _ => Err(Error::UnknownAlgorithm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key from `openssl rand -base64 32`, used as random-looking filler.
    const RANDOM: &str = "9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ";

    fn random_bytes() -> [u8; KEY_LEN] {
        *Key::from_base64(RANDOM).expect("a random key").bytes()
    }

    #[test]
    fn debug_does_not_leak_key() {
        let key = Key::insecure_from_bytes(&[0xAB; 32]);
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains("171"), "{shown}");
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
        assert!(!shown.contains(&key.to_base64()), "{shown}");
    }

    #[test]
    fn base64_forms_parse_to_the_same_key() {
        let key = Key::try_generate().expect("os rng");
        let b = key.bytes();
        for text in [
            URL_SAFE_NO_PAD.encode(b),
            URL_SAFE.encode(b),
            STANDARD.encode(b),
            STANDARD_NO_PAD.encode(b),
        ] {
            assert_eq!(Key::from_base64(&text).expect("parses").bytes(), b);
        }
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        for len in [0usize, 1, 16, 31, 33, 64] {
            let bytes = vec![1u8; len];
            assert_eq!(Key::try_from(&bytes[..]).err(), Some(Error::KeyLength(len)));
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            assert!(matches!(
                Key::from_base64(&text),
                Err(Error::KeyLength(_)) | Err(Error::KeyEncoding)
            ));
        }
        assert_eq!(
            Key::from_base64("not base64!").err(),
            Some(Error::KeyEncoding)
        );
    }

    #[test]
    fn generated_keys_differ() {
        let a = Key::try_generate().expect("os rng");
        let b = Key::try_generate().expect("os rng");
        assert_ne!(a.bytes(), b.bytes());
    }

    /// Finding 10: all-zero keys, counters, repeats and typed text loaded
    /// as keys. Each rule of the check, just over and just under its
    /// threshold, through every loading path.
    #[test]
    fn weak_keys_are_refused() {
        let refused = |bytes: &[u8; KEY_LEN], what: &str| {
            assert_eq!(
                Key::try_from(&bytes[..]).err(),
                Some(Error::WeakKey),
                "{what}"
            );
            for engine in [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD] {
                let text = engine.encode(bytes);
                assert_eq!(
                    Key::from_base64(&text).err(),
                    Some(Error::WeakKey),
                    "{what}"
                );
            }
        };
        let accepted = |bytes: &[u8; KEY_LEN], what: &str| {
            assert!(Key::try_from(&bytes[..]).is_ok(), "{what}");
            let text = URL_SAFE_NO_PAD.encode(bytes);
            assert!(Key::from_base64(&text).is_ok(), "{what}");
        };
        let random = random_bytes();
        accepted(&random, "random");

        // The classic placeholders.
        refused(&[0; 32], "all zero (AAAA...)");
        refused(&[0xff; 32], "all ones");
        assert_eq!(
            Key::from_base64(&"A".repeat(43)).err(),
            Some(Error::WeakKey)
        );
        assert_eq!(
            Key::from_base64(&format!("{}=", "A".repeat(43))).err(),
            Some(Error::WeakKey)
        );

        // Rule 1: fewer than 14 distinct byte values.
        let mut palette = Vec::new();
        for b in random {
            if !palette.contains(&b) {
                palette.push(b);
            }
        }
        for (distinct, weak) in [(13, true), (14, false)] {
            let key: [u8; KEY_LEN] = core::array::from_fn(|i| {
                if i < distinct {
                    palette[i]
                } else {
                    palette[usize::from(random[i]) % distinct]
                }
            });
            let what = format!("{distinct} distinct bytes");
            if weak {
                refused(&key, &what);
            } else {
                accepted(&key, &what);
            }
        }

        // Rule 2: 11 bytes in a row stepping evenly (a run, a counter).
        for (len, weak) in [(11, true), (10, false)] {
            let mut run = random;
            run[5..5 + len].fill(0x5c);
            let mut counter = random;
            for (i, b) in counter[20..20 + len].iter_mut().enumerate() {
                *b = 0x10 + 3 * i as u8;
            }
            for (key, what) in [(run, "run"), (counter, "counter")] {
                let what = format!("{what} of {len}");
                if weak {
                    refused(&key, &what);
                } else {
                    accepted(&key, &what);
                }
            }
        }
        // (Not 0, 1, 2, ...: that is a known-answer vector's key, which
        // this module's test build lets through; tests/keyring_spec.rs
        // checks that every other build refuses it.)
        let counting: [u8; KEY_LEN] = core::array::from_fn(|i| 100 + i as u8);
        refused(&counting, "100, 101, 102, ...");
        let descending: [u8; KEY_LEN] = core::array::from_fn(|i| 200u8.wrapping_sub(7 * i as u8));
        refused(&descending, "200, 193, 186, ...");

        // Rule 3: a period of at most 16 (a 16-byte key written twice).
        for (period, weak) in [(16, true), (15, true), (17, false)] {
            let key: [u8; KEY_LEN] = core::array::from_fn(|i| random[i % period]);
            let what = format!("period {period}");
            if weak {
                refused(&key, &what);
            } else {
                accepted(&key, &what);
            }
        }

        // Rule 4: typed text as raw bytes (a passphrase, a hex string).
        refused(b"my very secret session key 12345", "a phrase");
        refused(b"0123456789abcdef0123456789abcdef", "hex digits");
        refused(b"correct-horse.battery_staple_xyz", "words");
        let mut almost = *b"my very secret session key 12345";
        almost[31] = 0xf0;
        accepted(&almost, "31 text bytes and one other");

        // Rule 5: base64 text of fewer than 12 distinct characters.
        let text = "changemepleasechangemepleasechangemepleaseA";
        let bytes = URL_SAFE_NO_PAD.decode(text).expect("base64");
        assert!(Key::try_from(&bytes[..]).is_ok(), "the bytes alone pass");
        assert_eq!(Key::from_base64(text).err(), Some(Error::WeakKey));
        let text = "changemepleasechangemepleasechangemepleaxeA";
        assert!(Key::from_base64(text).is_ok(), "12 distinct characters");

        // Rule 6: 16 characters stepping evenly through the alphabet.
        let text = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopA";
        let bytes = URL_SAFE_NO_PAD.decode(text).expect("base64");
        assert!(Key::try_from(&bytes[..]).is_ok(), "the bytes alone pass");
        assert_eq!(Key::from_base64(text).err(), Some(Error::WeakKey));
        for (prefix, weak) in [("ABCDEFGHIJKLMNOP", true), ("ABCDEFGHIJKLMNO", false)] {
            let text = format!("{prefix}{}", &RANDOM[prefix.len()..]);
            assert_eq!(Key::from_base64(&text).is_err(), weak, "{text}");
        }
        let text = format!("acegikmoqsuwy0246{}", &RANDOM[17..]);
        assert_eq!(Key::from_base64(&text).err(), Some(Error::WeakKey));

        // The check never shows the key, and the escape hatch still works.
        assert_eq!(
            Error::WeakKey.to_string(),
            "key is not random: generate one with `openssl rand -base64 32`"
        );
        assert_eq!(Key::insecure_from_bytes(&[0; 32]).bytes(), &[0; 32]);
    }

    /// The check refuses a random key with probability below 2^-62: 10,000
    /// generated keys all pass it, through every loading path.
    #[test]
    fn generated_keys_always_pass_the_randomness_check() {
        for _ in 0..10_000 {
            let key = Key::try_generate().expect("os rng");
            let bytes = key.bytes();
            assert!(Key::try_from(&bytes[..]).is_ok());
            assert!(Key::from_base64(&key.to_base64()).is_ok());
            assert!(Key::from_base64(&STANDARD.encode(bytes)).is_ok());
        }
    }

    /// Finding 12: a key with the right number of base64 characters but
    /// wrong padding (or trailing bits, or mixed alphabets) was reported as
    /// "key is 32 bytes, expected 32".
    #[test]
    fn bad_padding_is_an_encoding_error_not_a_length() {
        let key = Key::try_generate().expect("os rng");
        let unpadded = key.to_base64();
        assert_eq!(unpadded.len(), 43);
        assert!(
            Key::from_base64(&format!("{unpadded}=")).is_ok(),
            "right padding"
        );
        for bad in [
            format!("{unpadded}=="),
            format!("{unpadded}==="),
            format!("{unpadded}===="),
            format!("{}=", &unpadded[..42]),
            format!("{}==", &unpadded[..41]),
            format!("{}=A", &unpadded[..42]),
        ] {
            assert_eq!(
                Key::from_base64(&bad).err(),
                Some(Error::KeyEncoding),
                "{bad}"
            );
        }
        // Non-zero unused bits in the last character.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = unpadded.as_bytes()[42];
        let at = alphabet.iter().position(|&c| c == last).expect("base64url");
        for low in 1..4 {
            let mut bad = unpadded.clone();
            bad.pop();
            bad.push(char::from(alphabet[(at & !3) | low]));
            assert_eq!(
                Key::from_base64(&bad).err(),
                Some(Error::KeyEncoding),
                "{bad}"
            );
        }
        // The two alphabets mixed in one key.
        let mixed = format!("-+{}", &unpadded[2..]);
        assert_eq!(Key::from_base64(&mixed).err(), Some(Error::KeyEncoding));
        // A wrong length is still reported as one, and never as 32.
        assert_eq!(
            Key::from_base64(&unpadded[..42]).err(),
            Some(Error::KeyLength(31))
        );
        assert_eq!(
            Key::from_base64(&format!("{unpadded}AA")).err(),
            Some(Error::KeyLength(33))
        );
    }

    #[test]
    fn key_length_errors_never_say_32() {
        let key = Key::try_generate().expect("os rng");
        let text = format!("{}{}", key.to_base64(), key.to_base64());
        for end in 0..=text.len() {
            for tail in ["", "=", "==", "===", "!", "=A"] {
                let candidate = format!("{}{tail}", &text[..end]);
                assert_ne!(
                    Key::from_base64(&candidate).err(),
                    Some(Error::KeyLength(KEY_LEN)),
                    "{candidate}"
                );
            }
        }
    }

    /// Finding 12: `AES-256-GCM`, `XChaCha20-Poly1305` and other spellings
    /// the documentation does not list were accepted.
    #[test]
    fn algorithm_spellings_outside_the_docs_are_refused() {
        for alg in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
            assert_eq!(alg.name().parse::<Algorithm>(), Ok(alg));
            assert_eq!(alg.to_string().parse::<Algorithm>(), Ok(alg));
        }
        for other in [
            "AES-256-GCM",
            "AES256GCM",
            "aes_256_gcm",
            "aes-256-gcm",
            "XChaCha20-Poly1305",
            "XCHACHA20POLY1305",
            "xchacha20_poly1305",
            " aes256gcm",
            "aes256gcm ",
            "aes128gcm",
            "chacha20poly1305",
            "",
        ] {
            assert_eq!(
                other.parse::<Algorithm>(),
                Err(Error::UnknownAlgorithm),
                "{other:?}"
            );
        }
    }
}

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
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn try_generate() -> Result<Self> {
        let mut bytes = [0u8; KEY_LEN];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| Error::Rng)?;
        let key = Key(bytes);
        bytes.zeroize();
        Ok(key)
    }

    /// Parses a key from base64: url-safe or standard alphabet, with or
    /// without padding (what `cargo run --example keygen` or
    /// `openssl rand -base64 32` print). Surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`Error::KeyEncoding`] if the text is not base64 (bad characters,
    /// wrong padding, two alphabets mixed, non-zero unused bits),
    /// [`Error::KeyLength`] if it decodes to another number of bytes than
    /// 32. Neither error repeats the input.
    pub fn from_base64(text: &str) -> Result<Self> {
        let text = text.trim();
        // Room for one byte too many, so a too-long key is reported as such.
        let mut buf = zeroize::Zeroizing::new([0u8; KEY_LEN + 4]);
        if text.len() > 48 {
            return Err(not_a_key(text));
        }
        let engines = [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD];
        match engines
            .iter()
            .find_map(|engine| engine.decode_slice(text, &mut buf[..]).ok())
        {
            Some(len) => Key::try_from(&buf[..len]),
            None => Err(not_a_key(text)),
        }
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
    /// [`Error::KeyLength`] unless `bytes` is exactly 32 bytes long.
    fn try_from(bytes: &[u8]) -> Result<Self> {
        let array: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::KeyLength(bytes.len()))?;
        Ok(Key(array))
    }
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

    #[test]
    fn debug_does_not_leak_key() {
        let key = Key::try_from(&[0xAB; 32][..]).expect("32 bytes");
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

//! The crate's one error type.

use crate::key::KeyId;

/// Everything that can go wrong in this crate.
///
/// Open failures are distinguished (malformed, unknown key, authentication
/// failed, expired, not yet valid, undecodable) so a server can log *why* a
/// cookie was refused. None of them should be shown to the client: the
/// adapters answer every one of them as "no session".
///
/// No variant carries secret material or any part of an input value; a
/// keyring error names the entry (by position) and the problem, never the
/// text of the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The value is not a well-formed envelope: not canonical unpadded
    /// base64url, too short, or a header that does not parse.
    #[error("malformed sealed value")]
    Malformed,

    /// The envelope announces a format version this release cannot open.
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u8),

    /// The value is longer than the configured maximum. When opening, it was
    /// rejected before any decoding; when sealing, nothing was produced.
    #[error("sealed value of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// The length of the value (or of the value it would have produced).
        len: usize,
        /// The configured maximum.
        max: usize,
    },

    /// The value names a key id the keyring does not hold (never held it,
    /// or the key was removed to revoke its cookies).
    #[error("no key with id {0} in the keyring")]
    UnknownKey(KeyId),

    /// Decryption failed: the value was tampered with, sealed under another
    /// cookie name or purpose, or sealed under a different key with the
    /// same id.
    #[error("authentication failed")]
    Authentication,

    /// The value authenticated but its lifetime is over.
    #[error("sealed value has expired")]
    Expired,

    /// The value authenticated but claims a longer lifetime than this
    /// sealer gives (its TTL plus leeway): it was sealed under a longer TTL,
    /// or by someone holding a key (perhaps a leaked old one) who chose its
    /// times. Never trusted beyond the sealer's own limit.
    #[error("sealed value claims a longer lifetime than this sealer allows")]
    LifetimeTooLong,

    /// The value authenticated but claims to be issued in the future
    /// (beyond the configured leeway).
    #[error("sealed value is not yet valid")]
    NotYetValid,

    /// The value authenticated but its payload does not decode as the
    /// requested type (the session struct changed without a new purpose).
    #[error("payload does not decode as the requested type")]
    Decode,

    /// The session value could not be serialized.
    #[error("payload could not be serialized")]
    Encode,

    /// The keyring holds no key that may seal at this time (every key has
    /// an activation time in the future).
    #[error("no key in the keyring may seal at this time")]
    NoSealingKey,

    /// The keyring holds no key at all.
    #[error("the keyring is empty")]
    EmptyKeyring,

    /// Two keys in the keyring share an id.
    #[error("duplicate key id {0} in the keyring")]
    DuplicateKeyId(KeyId),

    /// One entry of a keyring spec string is wrong. `entry` counts from 1.
    #[error("keyring entry {entry}: {problem}")]
    KeyringEntry {
        /// Position of the entry in the spec string, counting from 1.
        entry: usize,
        /// What is wrong with it.
        problem: EntryProblem,
    },

    /// Key material had the wrong length (never 32).
    #[error("key is {0} bytes, expected 32")]
    KeyLength(usize),

    /// An algorithm name is not one this crate knows.
    #[error("unknown algorithm (expected xchacha20poly1305 or aes256gcm)")]
    UnknownAlgorithm,

    /// Key material was not valid base64.
    #[error("key is not valid base64")]
    KeyEncoding,

    /// Key material is obviously not random: a repeated, sequential or
    /// text-like pattern (the check is documented on
    /// [`Key`](crate::Key)). A random key is refused with probability below
    /// 2^-62.
    #[error("key is not random: generate one with `openssl rand -base64 32`")]
    WeakKey,

    /// Cookie attributes that break a cookie rule (set up once, at start-up).
    #[error("cookie configuration: {0}")]
    Cookie(CookieProblem),

    /// The environment variable holding the keyring is missing or is not
    /// valid Unicode.
    #[error("keyring environment variable is not set or not valid unicode")]
    Env,

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,

    /// A time could not be represented (before 1970, or past the range of
    /// the envelope's clock).
    #[error("time out of range")]
    TimeRange,
}

/// What is wrong with one entry of a keyring spec string.
///
/// The entry's own text is never repeated: it may hold key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryProblem {
    /// The entry does not have the form `ID:ALGORITHM:KEY[@ACTIVATION]`.
    #[error("expected ID:ALGORITHM:KEY or ID:ALGORITHM:KEY@ACTIVATION")]
    Shape,
    /// The id is not a whole number from 0 to 4294967295.
    #[error("key id is not a whole number from 0 to 4294967295")]
    Id,
    /// The algorithm is not one this crate knows.
    #[error("unknown algorithm (expected xchacha20poly1305 or aes256gcm)")]
    Algorithm,
    /// The key is not valid base64 (url-safe or standard, padded or not).
    #[error("key is not valid base64")]
    KeyEncoding,
    /// The key decodes to the wrong number of bytes.
    #[error("key is {0} bytes, expected 32")]
    KeyLength(usize),
    /// The key is obviously not random (see [`Error::WeakKey`]).
    #[error("key is not random: generate one with `openssl rand -base64 32`")]
    WeakKey,
    /// The activation time is neither unix seconds nor
    /// `YYYY-MM-DDTHH:MM:SSZ` from 1970 on.
    #[error("activation time is neither unix seconds nor YYYY-MM-DDTHH:MM:SSZ from 1970 on")]
    Activation,
}

/// Which cookie rule a session cookie's configuration breaks. These are
/// configuration mistakes, found once at start-up, never per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieProblem {
    /// The cookie name is empty or not an RFC 6265 cookie-name token.
    #[error("cookie name is empty or not a token")]
    Name,
    /// The path does not start with `/` or holds `;` or control characters.
    #[error("cookie path must start with '/' and hold no ';' or control characters")]
    Path,
    /// The domain is empty or holds `;`, whitespace or control characters.
    #[error("cookie domain is empty or holds ';', whitespace or control characters")]
    Domain,
    /// A `__Host-` name needs `Secure`, `Path=/` and no `Domain`.
    #[error("a __Host- cookie must be Secure, have Path=/ and no Domain")]
    HostPrefix,
    /// A `__Secure-` name needs `Secure`.
    #[error("a __Secure- cookie must be Secure")]
    SecurePrefix,
    /// `SameSite=None` needs `Secure` (browsers drop it otherwise).
    #[error("SameSite=None requires Secure")]
    SameSiteNone,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

//! The crate's one error type, grouped by who is at fault (as rustls does):
//! a value from outside that is refused, a value that cannot be stored, the
//! operator's or the application's configuration, and the operating system.

use crate::key::KeyId;

/// Everything that can go wrong in this crate, grouped by trust boundary.
///
/// - [`Error::Refused`]: a sealed value from outside (the client's cookie)
///   did not open. Routine for a server; the adapters answer every refusal
///   as "no session" and log the reason, never the value.
/// - [`Error::Seal`]: a value could not be sealed (stored), for example a
///   session too large for a cookie. The handler decides what to answer.
/// - [`Error::Config`]: the keyring, a key, an environment variable, the
///   cookie attributes or a missing session layer: a person must fix
///   something, and the message says what.
/// - [`Error::Rng`]: the operating system's random generator failed.
///
/// No variant carries secret material or any part of an input value; a
/// keyring error names the entry (by position) and the problem, never the
/// text of the entry.
///
/// `?` works with it where an application needs it: it is an axum
/// `IntoResponse` (feature `axum`) and an actix-web `ResponseError`
/// (feature `actix`), answering with an empty body, `413 Payload Too Large`
/// for [`SealError::TooLarge`] and `500 Internal Server Error` otherwise;
/// and it converts into [`std::io::Error`] for an actix `main`.
///
/// ```
/// use sealed_session::{Error, Keyring, Refusal, Sealer};
/// let sealer = Sealer::new(Keyring::ephemeral()?);
/// let refused = sealer.open::<String>("garbage").unwrap_err();
/// assert_eq!(refused, Error::Refused(Refusal::Malformed));
/// assert!(refused.refusal().is_some_and(Refusal::is_routine));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
// A word-sized tag puts every variant's fields on an 8-byte boundary. With
// the default byte tag, rustc moved a `Result<String, Error>` (as a seal
// returns it through its layers) as 31 bytes from offset 1: two 16-byte
// copies that overlap, and loads that straddle two earlier stores, which
// the CPU cannot forward (about 30 ns of stalls per small seal).
#[repr(u64)]
pub enum Error {
    /// A sealed value was refused when opening (see [`Refusal`]).
    #[error("sealed value refused: {0}")]
    Refused(#[from] Refusal),
    /// A value could not be sealed (see [`SealError`]).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Something a person must fix in the configuration (see
    /// [`ConfigError`]).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The operating system's random number generator failed: when
    /// generating a key, or when a thread needed a new nonce stream (see
    /// [`NonceScheme::PerThread`](crate::NonceScheme::PerThread)).
    #[error("the operating system's random number generator failed")]
    Rng,
}

impl Error {
    /// The refusal, if this is one.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Error::Refused(refusal) => Some(*refusal),
            _ => None,
        }
    }

    /// True for a session too large for its cookie ([`SealError::TooLarge`]).
    pub fn is_too_large(&self) -> bool {
        matches!(self, Error::Seal(SealError::TooLarge { .. }))
    }
}

/// The variant and its fields, then the message: `Config(EnvNotSet { var:
/// "SESSION_KEYS" }): SESSION_KEYS is not set: ...`. A `main` that returns
/// the error, or an `io::Error` or a boxed error made from it, prints its
/// `Debug`, so the person starting the server reads what to fix.
impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Refused(refusal) => f.debug_tuple("Refused").field(refusal).finish()?,
            Error::Seal(error) => f.debug_tuple("Seal").field(error).finish()?,
            Error::Config(error) => f.debug_tuple("Config").field(error).finish()?,
            Error::Rng => f.write_str("Rng")?,
        }
        write!(f, ": {self}")
    }
}

impl From<Error> for std::io::Error {
    /// For `main` functions that return `std::io::Result` (actix-web's
    /// usual one): its message (`Display`) names what to fix, and so does
    /// the `Debug` a `main` that returns it prints (the crate's error's,
    /// which ends with that message). The crate's error stays inside
    /// (`get_ref` and `downcast_ref`).
    fn from(error: Error) -> Self {
        let kind = match error {
            Error::Config(_) => std::io::ErrorKind::InvalidInput,
            Error::Refused(_) => std::io::ErrorKind::InvalidData,
            Error::Seal(_) | Error::Rng => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, error)
    }
}

/// Why a sealed value did not open. Each reason is distinct, for the
/// server's logs; none is ever shown to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Not a well-formed envelope: not canonical unpadded base64url, too
    /// short, a header that does not parse, or (inside an authentic value)
    /// times that do not parse.
    #[error("malformed")]
    Malformed,
    /// The envelope announces a format version this release cannot open.
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u8),
    /// Longer than the configured maximum: refused before any decoding.
    #[error("{len} bytes, over the maximum of {max}")]
    TooLong {
        /// The length of the value, in bytes.
        len: usize,
        /// The configured maximum, in bytes.
        max: usize,
    },
    /// The value names a key id the keyring does not hold (never held it,
    /// or the key was removed to revoke its values).
    #[error("no key with id {0} in the keyring")]
    UnknownKey(KeyId),
    /// Decryption failed: the value was tampered with, sealed under another
    /// cookie name or purpose, or under a different key with the same id.
    #[error("authentication failed")]
    Authentication,
    /// The value authenticated but its lifetime is over.
    #[error("expired")]
    Expired,
    /// The value authenticated but claims to be issued in the future
    /// (beyond the leeway): a server whose clock is ahead sealed it.
    #[error("not yet valid")]
    NotYetValid,
    /// The value authenticated but claims a longer lifetime than this
    /// sealer gives (its TTL plus leeway; with an inactivity timeout, also
    /// no more than that timeout plus leeway left to run): it was sealed
    /// under a longer TTL or without the timeout, or by someone holding a
    /// key (perhaps a leaked old one) who chose its times. Never trusted
    /// beyond the sealer's own limit.
    #[error("claims a longer lifetime than this sealer allows")]
    LifetimeTooLong,
    /// The value authenticated but its payload does not decode as the
    /// requested type (the session struct changed without a new purpose).
    #[error("payload does not decode as the requested type")]
    Decode,
    /// The value authenticated but was issued before the keyring's
    /// `revoke-before` cutoff: everyone logged out at once.
    #[error("issued before the keyring's revoke-before cutoff")]
    Revoked,
    /// The value authenticated but the application's own check refused it
    /// (for example: this user's sessions are valid only after a time).
    #[error("refused by the application's check")]
    RevokedSubject,
}

impl Refusal {
    /// True for what a server sees every day and need not look at: a value
    /// that expired or was revoked on purpose, browser junk (malformed,
    /// another envelope version, too long). Everything else points at tampering, a revoked or leaked key,
    /// clocks apart or a schema change without a new purpose; the adapters
    /// log those at warn level and routine ones at debug.
    pub const fn is_routine(self) -> bool {
        matches!(
            self,
            Refusal::Expired
                | Refusal::Malformed
                | Refusal::UnsupportedVersion(_)
                | Refusal::TooLong { .. }
                | Refusal::Revoked
                | Refusal::RevokedSubject
        )
    }
}

/// Why a value could not be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The sealed value, or the whole `Set-Cookie` header that would carry
    /// it, is longer than allowed. Nothing was produced.
    #[error(
        "session too large: {len} bytes or more, over the maximum of {max}; store less in the \
         session"
    )]
    ///
    /// `len` and `max` are in one unit, that of the limit that binds: the
    /// sealed value's characters against the sealer's `max_len` (for a
    /// payload that did not fit its buffer `len` is a lower bound, which
    /// is why the message says "or more"); the
    /// `Set-Cookie` header's bytes against `MAX_COOKIE_BYTES`; with
    /// chunking, the sealed value's characters against the longest value
    /// `Chunking::max_cookies` cookies hold, or the `Cookie` header bytes
    /// the chunks would take against `Chunking::budget`.
    TooLarge {
        /// The length it would have, in the unit of `max`.
        len: usize,
        /// The limit that binds.
        max: usize,
    },
    /// The value could not be serialized (its `Serialize` impl failed).
    #[error("the session value could not be serialized")]
    Encode,
    /// A time could not be represented (past the range of the envelope's
    /// clock).
    #[error("time out of range")]
    TimeRange,
}

/// Something a person must fix: the message says what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The environment variable that should hold the keyring is not set.
    #[error(
        "{var} is not set: set it to a keyring spec such as the line `sealed-session keygen` prints (install it with `cargo install sealed-session --features cli`; from a checkout, `cargo run --features cli --bin sealed-session -- keygen`)"
    )]
    EnvNotSet {
        /// The variable's name.
        var: Box<str>,
    },
    /// The environment variable that should hold the keyring is not
    /// Unicode.
    #[error("{var} is not valid Unicode: a keyring spec is ASCII")]
    EnvNotUnicode {
        /// The variable's name.
        var: Box<str>,
    },
    /// A keyring file could not be read.
    #[error("cannot read the keyring file {path}: {kind}")]
    KeyringFile {
        /// The file's path as given; not shown if it looks like key
        /// material (a keyring spec or a bare key given where the path
        /// belongs).
        path: Box<str>,
        /// Why it could not be read.
        kind: std::io::ErrorKind,
    },
    /// The keyring holds no key at all.
    #[error("the keyring is empty: list at least one ID:ALGORITHM:KEY entry")]
    EmptyKeyring,
    /// Two keys in the keyring share an id.
    #[error("two keys in the keyring have id {0}: give every key its own id")]
    DuplicateKeyId(KeyId),
    /// One entry of a keyring spec string is wrong. `entry` counts from 1.
    #[error("keyring entry {entry}: {problem}")]
    Entry {
        /// Position of the entry in the spec, counting from 1.
        entry: usize,
        /// What is wrong with it.
        problem: KeyProblem,
    },
    /// A key (given through the API, not a spec) is wrong.
    #[error("{0}")]
    Key(KeyProblem),
    /// The keyring holds no key that may seal now: every key's activation
    /// time is in the future.
    #[error(
        "no key in the keyring may seal now: every activation time is in the future (add a key without one, or with one in the past)"
    )]
    NoSealingKey,
    /// The keyring's `revoke-before` cutoff is more than a minute ahead of
    /// this server's clock: it would refuse every new session until then.
    #[error(
        "the keyring's revoke-before time is in the future: it would refuse every new session until then (give the current time)"
    )]
    CutoffInFuture,
    /// An origin given to `CsrfGuard::with_allowed_origin` is not `http://` or `https://` and a host (and port) alone.
    #[error(
        "an allowed origin must be http:// or https:// followed by a host and an optional port, nothing else (as browsers send it in Origin)"
    )]
    AllowedOrigin,
    /// Cookie attributes that break a cookie rule.
    #[error("cookie configuration: {0}")]
    Cookie(CookieProblem),
    /// A handler asked for a `Session<T>` where no session layer or
    /// middleware for that `T` runs: its writes would be lost, so this is
    /// reported instead of handing out a detached session.
    #[error(
        "no Session<{type_name}> in this request: wrap this handler in the session layer or middleware for that same type"
    )]
    MissingSession {
        /// The session type asked for.
        type_name: &'static str,
    },
}

impl ConfigError {
    /// The error for a missing `Session<T>`.
    pub fn missing_session<T>() -> Self {
        ConfigError::MissingSession {
            type_name: core::any::type_name::<T>(),
        }
    }
}

/// What is wrong with a key, or with one entry of a keyring spec.
///
/// The key's or the entry's own text is never repeated: it may hold key
/// material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProblem {
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
    Encoding,
    /// The key decodes to the wrong number of bytes (never 32).
    #[error("key is {0} bytes, expected 32")]
    Length(usize),
    /// The key is obviously not random: a repeated, sequential or
    /// text-like pattern (the check is documented on
    /// [`Key`](crate::Key)). A random key is refused with probability below
    /// 2^-62.
    #[error("key is not random: generate one with `openssl rand -base64 32`")]
    Weak,
    /// The activation time is neither unix seconds nor
    /// `YYYY-MM-DDTHH:MM:SSZ` from 1970 on.
    #[error("activation time is neither unix seconds nor YYYY-MM-DDTHH:MM:SSZ from 1970 on")]
    Activation,
    /// A `revoke-before=TIME` entry whose time is neither unix seconds nor
    /// `YYYY-MM-DDTHH:MM:SSZ` from 1970 on, or a second such entry.
    #[error(
        "revoke-before= takes unix seconds or YYYY-MM-DDTHH:MM:SSZ from 1970 on, once per keyring"
    )]
    RevokeBefore,
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

impl From<CookieProblem> for Error {
    fn from(problem: CookieProblem) -> Self {
        Error::Config(ConfigError::Cookie(problem))
    }
}

impl From<KeyProblem> for Error {
    fn from(problem: KeyProblem) -> Self {
        Error::Config(ConfigError::Key(problem))
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_to_fix() {
        let env = Error::from(ConfigError::EnvNotSet {
            var: "SESSION_KEYS".into(),
        });
        assert!(
            env.to_string().starts_with("SESSION_KEYS is not set"),
            "{env}"
        );
        let io = std::io::Error::from(env.clone());
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(io.to_string(), env.to_string());
        let entry = Error::from(ConfigError::Entry {
            entry: 2,
            problem: KeyProblem::Length(31),
        });
        assert_eq!(
            entry.to_string(),
            "keyring entry 2: key is 31 bytes, expected 32"
        );
        let refused = Error::from(Refusal::UnknownKey(KeyId(3)));
        assert_eq!(
            refused.to_string(),
            "sealed value refused: no key with id 3 in the keyring"
        );
        // As a `std::io::Error`: a refused value is bad data, the others
        // (sealing, the generator) a failure of its own kind.
        for (error, kind) in [
            (refused, std::io::ErrorKind::InvalidData),
            (SealError::Encode.into(), std::io::ErrorKind::Other),
            (Error::Rng, std::io::ErrorKind::Other),
        ] {
            assert_eq!(std::io::Error::from(error).kind(), kind);
        }
        assert!(Error::from(SealError::TooLarge {
            len: 5000,
            max: 4096
        })
        .is_too_large());
    }

    #[test]
    fn routine_refusals_are_the_everyday_ones() {
        assert!(Refusal::Expired.is_routine());
        assert!(Refusal::Malformed.is_routine());
        assert!(Refusal::TooLong {
            len: 5000,
            max: 4096
        }
        .is_routine());
        assert!(Refusal::UnsupportedVersion(9).is_routine());
        assert!(Refusal::Revoked.is_routine());
        assert!(Refusal::RevokedSubject.is_routine());
        assert!(!Refusal::Authentication.is_routine());
        assert!(!Refusal::UnknownKey(KeyId(1)).is_routine());
        assert!(!Refusal::NotYetValid.is_routine());
        assert!(!Refusal::LifetimeTooLong.is_routine());
        assert!(!Refusal::Decode.is_routine());
    }
}

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The core, in the order data flows down: sealer -> source -> keyring ->
// envelope -> aead. ARCHITECTURE.md draws it.
mod aead;
mod envelope;
mod error;
mod key;
mod keyring;
mod sealer;
mod source;
mod time;
#[cfg(test)]
mod zeroize_tests;

// The cookie layer: the cookie itself (a leaf) and the session above it.
#[cfg(feature = "cookie")]
mod cookie;
#[cfg(feature = "cookie")]
mod session;

// The adapters, one feature each.
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
/// The tower adapter under its earlier name: the `hyper` feature is an
/// alias of `tower`, and `sealed_session::hyper` of [`tower`].
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod hyper {
    pub use crate::tower::*;
}

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;

pub use envelope::{EnvelopeInfo, Padding};
pub use error::{ConfigError, CookieProblem, Error, KeyProblem, Refusal, Result, SealError};
pub use key::{Algorithm, Key, KeyId, KEY_LEN};
pub use keyring::{
    Fingerprint, KeyCheck, KeyEntry, KeyInfo, KeyStats, Keyring, Refusals, MAX_CUTOFF_AHEAD,
};
pub use sealer::{
    NonceScheme, Opened, Sealer, DEFAULT_LEEWAY, DEFAULT_MAX_LEN, DEFAULT_TTL, MAX_TTL,
};
pub use source::LiveKeyring;
pub use time::{Clock, SystemClock};

#[cfg(feature = "cookie")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie")))]
pub use self::cookie::{
    Chunking, CookieOptions, SameSite, DEFAULT_CHUNK_BUDGET, DEFAULT_MAX_CHUNKS, MAX_CHUNKS,
    MAX_COOKIE_BYTES, MAX_SAME_NAME_COOKIES,
};
#[cfg(feature = "cookie")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie")))]
pub use self::session::{
    CsrfFailure, CsrfGuard, Session, SessionConfig, CSRF_FIELD, CSRF_HEADER, DEFAULT_FLASH_TTL,
    DEFAULT_FORM_LIMIT,
};

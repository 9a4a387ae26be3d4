#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod envelope;
mod error;
mod key;
mod keyring;
mod sealer;
#[cfg(test)]
mod zeroize_tests;

#[cfg(feature = "cookie")]
mod cookie;
#[cfg(feature = "cookie")]
mod session;

#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod hyper;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;

pub use error::{CookieProblem, EntryProblem, Error, Result};
pub use key::{Algorithm, Key, KeyId, KEY_LEN};
pub use keyring::{KeyEntry, KeyStats, Keyring};
pub use sealer::{
    Clock, Opened, Sealer, SystemClock, DEFAULT_LEEWAY, DEFAULT_MAX_LEN, DEFAULT_TTL, MAX_TTL,
};

#[cfg(feature = "cookie")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie")))]
pub use self::cookie::{
    CookieOptions, SameSite, SessionConfig, MAX_COOKIE_BYTES, MAX_SAME_NAME_COOKIES,
};
#[cfg(feature = "cookie")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie")))]
pub use self::session::{MissingSession, Session};

//! Where a sealer's keyring comes from while serving.
//!
//! Every seal and open reads the keyring through [`Source::with`], once per
//! operation, and uses that one keyring for the whole operation (its key
//! choice, lookup and re-seal decision). Today a source is one fixed
//! keyring; a keyring that is replaced while serving (reloaded from a file,
//! or swapped through the API) plugs in here, without touching the sealer
//! above or the envelope below.

use core::fmt;
use std::sync::Arc;

use crate::keyring::Keyring;

/// A sealer's keyring, as it reads it per operation.
#[derive(Clone)]
pub(crate) enum Source {
    /// One keyring for the sealer's whole life.
    Fixed(Arc<Keyring>),
}

impl Source {
    /// Runs `f` with the keyring in force now.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Keyring) -> R) -> R {
        match self {
            Source::Fixed(keyring) => f(keyring),
        }
    }

    /// The keyring in force now, to keep.
    pub(crate) fn current(&self) -> Arc<Keyring> {
        match self {
            Source::Fixed(keyring) => Arc::clone(keyring),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|keyring| fmt::Debug::fmt(keyring, f))
    }
}

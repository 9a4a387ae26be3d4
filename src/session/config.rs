//! [`SessionConfig`]: a sealer and the attributes of its cookie.

use core::any::Any;
use core::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::cookie::{self, CookieOptions, MAX_COOKIE_BYTES};
use crate::error::{Result, SealError};
use crate::sealer::Sealer;

/// A [`Sealer`] together with the [`CookieOptions`] of its cookie: all an
/// adapter needs to read the session cookie from a request and to write
/// one. Cheap to clone.
///
/// ```
/// use sealed_session::{CookieOptions, Keyring, Sealer, SessionConfig};
/// let sealer = Sealer::new(Keyring::ephemeral()?).with_name("__Host-session");
/// let config = SessionConfig::new(sealer)?;
/// assert_eq!(config.name(), "__Host-session");
/// // A __Host- cookie cannot have a Domain.
/// let bad = SessionConfig::with_options(
///     Sealer::new(Keyring::ephemeral()?).with_name("__Host-session"),
///     CookieOptions::default().with_domain("example.com"),
/// );
/// assert!(bad.is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionConfig {
    inner: Arc<ConfigInner>,
}

struct ConfigInner {
    sealer: Sealer,
    options: CookieOptions,
    check: Option<Check>,
}

/// The application's per-subject check, for one session type.
type Check = Arc<dyn Fn(&dyn Any, SystemTime) -> bool + Send + Sync>;

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("sealer", &self.inner.sealer)
            .field("options", &self.inner.options)
            .field("check", &self.inner.check.is_some())
            .finish()
    }
}

impl SessionConfig {
    /// The sealer with the default (secure) [`CookieOptions`].
    ///
    /// # Errors
    /// [`ConfigError::Cookie`](crate::ConfigError::Cookie) with
    /// [`CookieProblem::Name`](crate::CookieProblem::Name) if the sealer's
    /// name is not a valid cookie name.
    pub fn new(sealer: Sealer) -> Result<Self> {
        SessionConfig::with_options(sealer, CookieOptions::default())
    }

    /// The sealer with the given cookie attributes, checked against the
    /// cookie name's prefix.
    ///
    /// # Errors
    /// [`ConfigError::Cookie`](crate::ConfigError::Cookie) naming the first
    /// rule broken: invalid name, path
    /// or domain; a `__Host-` name that is not `Secure`, `Path=/` and
    /// host-only; a `__Secure-` name that is not `Secure`; `SameSite=None`
    /// without `Secure`.
    pub fn with_options(sealer: Sealer, options: CookieOptions) -> Result<Self> {
        cookie::check(sealer.name(), &options)?;
        Ok(SessionConfig {
            inner: Arc::new(ConfigInner {
                sealer,
                options,
                check: None,
            }),
        })
    }

    /// Adds the application's per-subject check: after a cookie opens as a
    /// `Session<T>`, `check(&value, issued_at)` decides whether it still
    /// stands. `false` makes it an empty session and removes the cookie, as
    /// for any refused cookie (logged as
    /// [`Refusal::RevokedSubject`](crate::Refusal::RevokedSubject)).
    ///
    /// This is per-user revocation without a store of ours: keep, per
    /// user, a "sessions valid after" time (set at logout-everywhere, a
    /// password change, a ban) and compare it with `issued_at`, which a
    /// session keeps across writes and renews only at
    /// [`Session::renew`](crate::Session::renew) (call it at login). The
    /// check runs on every request that carries a session, so keep it
    /// cheap: read a cache refreshed in the background rather than a
    /// database. Sessions of another type than `T` are not checked.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::{Arc, RwLock};
    /// use std::time::SystemTime;
    /// use sealed_session::{Keyring, Sealer, SessionConfig};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct User { name: String }
    ///
    /// // Refreshed from the database by a background task.
    /// let valid_after: Arc<RwLock<HashMap<String, SystemTime>>> = Arc::default();
    /// let cache = Arc::clone(&valid_after);
    /// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?))?
    ///     .with_check(move |user: &User, issued_at| {
    ///         cache
    ///             .read()
    ///             .map(|m| m.get(&user.name).is_none_or(|after| issued_at >= *after))
    ///             .unwrap_or(true)
    ///     });
    /// # let _ = config;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_check<T: 'static>(
        self,
        check: impl Fn(&T, SystemTime) -> bool + Send + Sync + 'static,
    ) -> Self {
        let check: Check = Arc::new(move |value: &dyn Any, issued_at| {
            value
                .downcast_ref::<T>()
                .is_none_or(|value| check(value, issued_at))
        });
        SessionConfig {
            inner: Arc::new(ConfigInner {
                sealer: self.inner.sealer.clone(),
                options: self.inner.options.clone(),
                check: Some(check),
            }),
        }
    }

    /// Whether the application's check lets `value` (issued at
    /// `issued_at`) stand; true without a check.
    pub(crate) fn passes_check(&self, value: &dyn Any, issued_at: SystemTime) -> bool {
        self.inner
            .check
            .as_ref()
            .is_none_or(|check| check(value, issued_at))
    }

    /// The sealer.
    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// The cookie attributes.
    pub fn options(&self) -> &CookieOptions {
        &self.inner.options
    }

    /// The cookie name (the sealer's name).
    pub fn name(&self) -> &str {
        self.inner.sealer.name()
    }

    /// The `Set-Cookie` header value that stores the sealed `value` for
    /// `max_age` (ignored when the options are not persistent; rounded down
    /// to whole seconds).
    /// Fails with [`SealError::TooLarge`] if the whole header value (name,
    /// value and attributes) is longer than [`MAX_COOKIE_BYTES`]; `len` is
    /// its length.
    pub(crate) fn set_cookie(&self, value: &str, max_age: Duration) -> Result<String> {
        let options = &self.inner.options;
        let max_age = options.is_persistent().then_some(max_age);
        let header = cookie::format(self.name(), value, options, max_age);
        if header.len() > MAX_COOKIE_BYTES {
            return Err(SealError::TooLarge {
                len: header.len(),
                max: MAX_COOKIE_BYTES,
            }
            .into());
        }
        Ok(header)
    }

    /// The `Set-Cookie` header value that removes the cookie: an empty
    /// value with the same name, `Path`, `Domain` and other attributes, and
    /// `Max-Age=0` (a browser only removes a cookie whose name, path and
    /// domain match).
    pub(crate) fn removal_cookie(&self) -> String {
        cookie::format(self.name(), "", &self.inner.options, Some(Duration::ZERO))
    }
}

//! [`SessionConfig`]: a sealer and the attributes of its cookie.

use core::any::Any;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
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

#[derive(Clone)]
struct ConfigInner {
    sealer: Sealer,
    /// The sealer of the flash cookie: the session's one with the flash
    /// cookie's name and the flash TTL.
    flash: Sealer,
    /// The sealer of the CSRF cookie: the session's one with the CSRF
    /// cookie's name and without an idle timeout.
    csrf: Sealer,
    options: CookieOptions,
    check: Option<Check>,
    async_check: Option<AsyncCheck>,
}

/// Default lifetime of a flash message: ten minutes, enough for the
/// redirect that follows it, short enough that a flash nobody read does
/// not linger.
pub const DEFAULT_FLASH_TTL: Duration = Duration::from_secs(10 * 60);

/// What the flash cookie's name adds to the session cookie's name.
const FLASH_SUFFIX: &str = "-flash";

/// What the CSRF cookie's name adds to the session cookie's name.
const CSRF_SUFFIX: &str = "-csrf";

/// The application's per-subject check, for one session type.
type Check = Arc<dyn Fn(&dyn Any, SystemTime) -> bool + Send + Sync>;

/// The future of an asynchronous per-subject check: whether the session
/// still stands.
pub(crate) type CheckFuture = Pin<Box<dyn Future<Output = bool> + Send>>;

/// The application's asynchronous per-subject check, for one session type:
/// called with the value (borrowed only while the future is made) and its
/// `issued_at`.
type AsyncCheck = Arc<dyn Fn(&dyn Any, SystemTime) -> CheckFuture + Send + Sync>;

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("sealer", &self.inner.sealer)
            .field("flash_ttl", &self.inner.flash.ttl())
            .field("options", &self.inner.options)
            .field("check", &self.inner.check.is_some())
            .field("async_check", &self.inner.async_check.is_some())
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
    /// cookie name's prefix. With [`CookieOptions::with_chunking`], the
    /// sealer's [`Sealer::max_len`] is set to the chunking budget.
    ///
    /// # Errors
    /// [`ConfigError::Cookie`](crate::ConfigError::Cookie) naming the first
    /// rule broken: invalid name, path
    /// or domain; a `__Host-` name that is not `Secure`, `Path=/` and
    /// host-only; a `__Secure-` name that is not `Secure`; `SameSite=None`
    /// without `Secure`. The flash and CSRF cookies' names (the cookie name
    /// and `-flash` or `-csrf`, see [`SessionConfig::flash_name`] and
    /// [`SessionConfig::csrf_name`]) are checked likewise.
    pub fn with_options(sealer: Sealer, options: CookieOptions) -> Result<Self> {
        cookie::check(sealer.name(), &options)?;
        let flash = flash_sealer(&sealer, DEFAULT_FLASH_TTL);
        cookie::check(flash.name(), &options)?;
        let csrf = csrf_sealer(&sealer);
        cookie::check(csrf.name(), &options)?;
        // A chunked session's value may be as long as the budget; the flash
        // and CSRF cookies keep the sealer's own maximum (each is one cookie).
        let sealer = match options.chunking() {
            Some(chunking) => sealer.with_max_len(chunking.budget()),
            None => sealer,
        };
        Ok(SessionConfig {
            inner: Arc::new(ConfigInner {
                sealer,
                flash,
                csrf,
                options,
                check: None,
                async_check: None,
            }),
        })
    }

    /// How long a flash message opens after
    /// [`Session::set_flash`](crate::Session::set_flash) sealed it (and the
    /// flash cookie's `Max-Age`): [`DEFAULT_FLASH_TTL`] unless set here (or
    /// the sealer's inactivity timeout, if that is shorter). A flash not
    /// read by then is gone. At most [`MAX_TTL`](crate::MAX_TTL).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sealed_session::{Keyring, Sealer, SessionConfig};
    /// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?))?
    ///     .with_flash_ttl(Duration::from_secs(60));
    /// assert_eq!(config.flash_ttl(), Duration::from_secs(60));
    /// assert_eq!(config.flash_name(), "session-flash");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_flash_ttl(self, ttl: Duration) -> Self {
        // The flash keeps its own maximum (the session's may be a chunking
        // budget; a flash is one cookie).
        let flash = flash_sealer(&self.inner.sealer, ttl).with_max_len(self.inner.flash.max_len());
        self.rebuilt(|inner| inner.flash = flash)
    }

    /// A new configuration (not [`SessionConfig::same_as`] this one) with
    /// `change` applied to a copy of this one's settings.
    fn rebuilt(&self, change: impl FnOnce(&mut ConfigInner)) -> Self {
        let mut inner = ConfigInner::clone(&self.inner);
        change(&mut inner);
        SessionConfig {
            inner: Arc::new(inner),
        }
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
    /// database. A session of another type than `T` is refused (with an
    /// error event: the check was written for another session type), so a
    /// mistyped check never lets sessions through unchecked. A second check
    /// adds to the first: both must pass.
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
        // Fails closed: a check written for another type than the
        // session's refuses the session (and says so), rather than letting
        // every session through unchecked. A second check adds to the first.
        let earlier = self.inner.check.clone();
        let check: Check = Arc::new(move |value: &dyn Any, issued_at| {
            let passes = match value.downcast_ref::<T>() {
                Some(value) => check(value, issued_at),
                None => {
                    tracing::error!(
                        check_type = core::any::type_name::<T>(),
                        "a session check is written for another type than the session's; \
                         the session is refused"
                    );
                    false
                }
            };
            passes
                && earlier
                    .as_ref()
                    .is_none_or(|earlier| earlier(value, issued_at))
        });
        self.rebuilt(|inner| inner.check = Some(check))
    }

    /// Adds an asynchronous per-subject check, for a lookup that has to
    /// wait (a database or a shared cache): after a cookie opens as a
    /// `Session<T>`, the adapter (`tower`,
    /// `actix`) awaits `check(&value, issued_at)` before
    /// the handler runs. `false` makes it an empty session and removes the
    /// cookie, as [`SessionConfig::with_check`] does (logged as
    /// [`Refusal::RevokedSubject`](crate::Refusal::RevokedSubject)).
    ///
    /// `check` gets the value by reference and must return an owned future:
    /// clone what the lookup needs (the user id) before the `async` block.
    /// It runs on every request that carries a session, and the handler
    /// waits for it: answer from a cache where you can (an in-process map
    /// refreshed in the background, with the database only on a miss), and
    /// bound the lookup's time yourself. A check written for another type
    /// than the session's refuses every session (with an error event).
    /// Several checks, synchronous or not, must all pass; the synchronous
    /// ones run first, and the asynchronous ones only for a session they
    /// let stand. Empty and refused sessions are not checked.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use sealed_session::{Keyring, Sealer, SessionConfig};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct User { id: u64 }
    ///
    /// /// The user's "sessions valid after" time, from your database.
    /// async fn valid_after(user_id: u64) -> Option<SystemTime> {
    ///     # let _ = user_id;
    ///     None
    /// }
    ///
    /// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?))?
    ///     .with_async_check(|user: &User, issued_at: SystemTime| {
    ///         let id = user.id;
    ///         async move { valid_after(id).await.is_none_or(|after| issued_at >= after) }
    ///     });
    /// # let _ = config;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_async_check<T: 'static, F, Fut>(self, check: F) -> Self
    where
        F: Fn(&T, SystemTime) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        // Fails closed on another type, and adds to an earlier check, as
        // `with_check` does. Both futures are made now, while the value is
        // borrowed, and awaited in turn.
        let earlier = self.inner.async_check.clone();
        let check: AsyncCheck = Arc::new(move |value: &dyn Any, issued_at| {
            let this: CheckFuture = match value.downcast_ref::<T>() {
                Some(value) => Box::pin(check(value, issued_at)),
                None => {
                    tracing::error!(
                        check_type = core::any::type_name::<T>(),
                        "an async session check is written for another type than the \
                         session's; the session is refused"
                    );
                    Box::pin(core::future::ready(false))
                }
            };
            match earlier.as_ref().map(|earlier| earlier(value, issued_at)) {
                Some(earlier) => Box::pin(async move { earlier.await && this.await }),
                None => this,
            }
        });
        self.rebuilt(|inner| inner.async_check = Some(check))
    }

    /// The future of the asynchronous check for `value` (issued at
    /// `issued_at`), or `None` without one.
    pub(crate) fn async_check(
        &self,
        value: &dyn Any,
        issued_at: SystemTime,
    ) -> Option<CheckFuture> {
        self.inner
            .async_check
            .as_ref()
            .map(|check| check(value, issued_at))
    }

    /// Whether `self` and `other` are one configuration (clones of the
    /// same `SessionConfig`).
    pub(crate) fn same_as(&self, other: &SessionConfig) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
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

    /// The flash cookie's name: the cookie name and `-flash` (so a
    /// `__Host-` session name gives a `__Host-` flash name). Do not give
    /// another cookie of the application this name.
    pub fn flash_name(&self) -> &str {
        self.inner.flash.name()
    }

    /// How long a flash message opens after it was set.
    pub fn flash_ttl(&self) -> Duration {
        self.inner.flash.ttl()
    }

    /// The sealer of flash messages: the session's sealer (keyring, purpose,
    /// clock, leeway) with the flash cookie's name and the flash TTL.
    pub(crate) fn flash_sealer(&self) -> &Sealer {
        &self.inner.flash
    }

    /// The CSRF cookie's name: the cookie name and `-csrf` (see
    /// [`Session::csrf_token`](crate::Session::csrf_token)). Do not give
    /// another cookie of the application this name.
    pub fn csrf_name(&self) -> &str {
        self.inner.csrf.name()
    }

    /// The sealer of the CSRF cookie: the session's sealer with the CSRF
    /// cookie's name and no idle timeout (the cookie lives as long as the
    /// session's absolute lifetime).
    pub(crate) fn csrf_sealer(&self) -> &Sealer {
        &self.inner.csrf
    }

    /// The `Set-Cookie` header value that stores the sealed `value` for
    /// `max_age` (ignored when the options are not persistent; rounded down
    /// to whole seconds).
    /// Fails with [`SealError::TooLarge`] if the whole header value (name,
    /// value and attributes) is longer than [`MAX_COOKIE_BYTES`]; `len` is
    /// its length.
    pub(crate) fn set_cookie(&self, value: &str, max_age: Duration) -> Result<String> {
        self.set_cookie_named(self.name(), value, max_age)
    }

    /// [`SessionConfig::set_cookie`] for the cookie `name` (the session's
    /// or the flash cookie's).
    pub(crate) fn set_cookie_named(
        &self,
        name: &str,
        value: &str,
        max_age: Duration,
    ) -> Result<String> {
        let options = &self.inner.options;
        let max_age = options.is_persistent().then_some(max_age);
        let header = cookie::format(name, value, options, max_age);
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
        self.removal_cookie_named(self.name())
    }

    /// The `Set-Cookie` header value that removes the cookie `name` (the
    /// flash or CSRF cookie), as [`SessionConfig::removal_cookie`] does for
    /// the session's.
    pub(crate) fn removal_cookie_named(&self, name: &str) -> String {
        cookie::format(name, "", &self.inner.options, Some(Duration::ZERO))
    }
}

/// The sealer of flash messages for a session's `sealer`: the same keyring,
/// purpose, clock and leeway, bound to the flash cookie's name (so a
/// session value never opens as a flash, nor a flash as a session), and
/// `ttl`.
fn flash_sealer(sealer: &Sealer, ttl: Duration) -> Sealer {
    let name = format!("{}{FLASH_SUFFIX}", sealer.name());
    sealer.clone().with_name(&name).with_ttl(ttl)
}

/// The sealer of the CSRF cookie for a session's `sealer`: the same
/// keyring, purpose, clock, leeway and TTL, bound to the CSRF cookie's
/// name, without an idle timeout: the secret belongs to the session's
/// whole absolute lifetime.
fn csrf_sealer(sealer: &Sealer) -> Sealer {
    let name = format!("{}{CSRF_SUFFIX}", sealer.name());
    sealer.clone().with_name(&name).without_idle_timeout()
}

//! The typed session handle and the one place that decides what the
//! response's `Set-Cookie` is. Nothing here knows an HTTP framework.

use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::cookie::{named_values, SessionConfig, MAX_COOKIE_BYTES, MAX_SAME_NAME_COOKIES};
use crate::envelope::Times;
use crate::error::{Error, Result};
use crate::keyring::{system_time, unix_secs_saturating};
use crate::sealer::Opened;

/// The session of one request: a typed handle that an adapter puts into
/// the request and the handler reads and writes.
///
/// Clones share the same session. [`Session::set`] and [`Session::update`]
/// seal the new value at once and check the final `Set-Cookie` header
/// against [`MAX_COOKIE_BYTES`](crate::MAX_COOKIE_BYTES), so a session that
/// is too large is an error the handler sees and answers; nothing can fail
/// after the handler has returned.
///
/// What the request brought:
/// - no cookie: an empty session, nothing written unless the handler
///   stores something;
/// - a cookie that does not open (malformed, tampered, expired, unknown key,
///   another name or purpose, does not decode as `T`): an empty session,
///   and the response removes the cookie unless the handler stores a new
///   one; a `tracing` event says why (no cookie value in it);
/// - a cookie that is not yet valid ([`Error::NotYetValid`]: authentic, but
///   sealed by a server whose clock is ahead of ours by more than the
///   sealer's leeway): an empty session for this request, and nothing
///   removed unless the handler stores a new one. It is someone's live
///   session, which opens here once the clocks agree; removing it would
///   let a lagging server log out its peers' fresh sessions. A warn event
///   says so;
/// - a valid cookie sealed with a key that no longer seals: the response
///   carries it re-sealed under the current key, with its original expiry;
/// - a valid cookie left untouched: no `Set-Cookie` at all.
///
/// A cookie is ours when its name is the cookie name byte for byte, as
/// [`SessionConfig::request_values`] reads the headers: `\u{2000}session`
/// or `Session` is another cookie, and is neither used nor removed.
///
/// **Several cookies with the session's name** (a sibling subdomain can
/// plant one, "cookie tossing"): each is tried, in order, and one that is
/// not yet valid counts as one that opens (it is authentic: a planted
/// cookie must not take the place of the user's own fresh session). If
/// exactly one opens, it is the session, or, if it is not yet valid, the
/// session is empty and nothing is removed. If two or more open, none is
/// used (the session is empty) and nothing is removed: a removal could only
/// reach the cookie at our own path and domain and would leave the planted
/// one in force. If none opens, the session is empty and the response
/// removes the cookie at our path and domain. More than
/// [`MAX_SAME_NAME_COOKIES`] are ignored unopened (nothing removed). A
/// `__Host-` cookie name rules tossing out.
///
/// **Nested layers** (an outer layer or middleware and another on a
/// sub-router or scope, both for `Session<T>` and the same cookie name):
/// the outermost one loads the session and alone decides the cookie; the
/// inner ones find it in the request and pass it on untouched, so the
/// handler's write is the one `Set-Cookie` for that cookie, never followed
/// by a removal or re-seal from another layer. (Inner layers for other
/// cookie names, with the same `T`, hold their own sessions; the handler
/// sees the innermost one.)
///
/// Adapters call [`Session::load`] before the handler and
/// [`Session::finish`] after it; handlers use [`Session::get`],
/// [`Session::set`], [`Session::update`] and [`Session::clear`].
///
/// ```
/// use sealed_session::{Keyring, Sealer, Session, SessionConfig};
///
/// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?))?;
/// // A request without a cookie:
/// let session = Session::<u32>::load(&config, []);
/// assert_eq!(session.get(), None);
/// assert_eq!(session.update(|n| { *n += 1; *n })?, 1);
/// let set_cookie = session.finish().expect("changed, so a cookie is written");
///
/// // The next request sends it back:
/// let cookie = set_cookie.split(';').next().expect("name=value");
/// let session = Session::<u32>::load(&config, [cookie.as_bytes()]);
/// assert_eq!(session.get(), Some(1));
/// assert_eq!(session.finish(), None); // untouched: no Set-Cookie
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    config: SessionConfig,
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    /// When the session was first issued and when it expires: from the
    /// cookie that opened, or from the last store. `None` for an empty
    /// session, or after [`Session::renew`]: the next store starts a new
    /// lifetime.
    times: Option<Times>,
    status: Status,
    finished: bool,
}

/// What the response must do about the cookie. Every transition happens in
/// [`Session::load`] or a handler call; [`Session::finish`] is the only
/// place that turns it into a header.
#[derive(Debug)]
enum Status {
    /// Nothing to write: no cookie came, or a valid current one did, or the
    /// request was ambiguous (several valid cookies of our name), or the
    /// only authentic one is not yet valid (a peer's clock is ahead).
    Unchanged,
    /// The cookie that came did not open: remove it.
    Refused,
    /// A valid cookie sealed with a key that no longer seals: re-seal the
    /// value under the current key, keeping these times.
    Stale(Opened<()>),
    /// The handler stored a value: this `Set-Cookie` header value.
    Changed(String),
    /// The handler cleared the session: remove the cookie.
    Cleared,
}

impl<T> Clone for Session<T> {
    fn clone(&self) -> Self {
        Session {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Session")
            .field("cookie", &self.shared.config.cookie_name())
            .field("is_empty", &state.value.is_none())
            .field("status", &StatusName(&state.status))
            .finish_non_exhaustive()
    }
}

/// The status without the sealed value.
struct StatusName<'a>(&'a Status);

impl fmt::Debug for StatusName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Status::Unchanged => "Unchanged",
            Status::Refused => "Refused",
            Status::Stale(_) => "Stale",
            Status::Changed(_) => "Changed",
            Status::Cleared => "Cleared",
        })
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic elsewhere while holding the lock leaves a consistent state:
        // every transition is a single assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Serialize + DeserializeOwned> Session<T> {
    /// Reads the session cookie from the request's `Cookie` header values
    /// (every one of them, in order; see the type's docs for several
    /// cookies of the same name) and opens it.
    ///
    /// Never fails: a cookie that does not open is an empty session (and a
    /// `tracing` event at debug or warn level saying why).
    pub fn load<'a>(
        config: &SessionConfig,
        cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    ) -> Self {
        let (opened, status) = open_request(config, cookie_headers);
        let (value, times) = opened.unzip();
        Session {
            shared: Arc::new(Shared {
                config: config.clone(),
                state: Mutex::new(State {
                    value,
                    times,
                    status,
                    finished: false,
                }),
            }),
        }
    }

    /// What an adapter does before the handler: the session it loads,
    /// puts into the request and finishes after the handler; or `None`
    /// when `existing`, the `Session<T>` already in the request, is for the
    /// same cookie name. Then an outer layer or middleware for the same
    /// type and cookie loaded it and alone finishes it, and the handler
    /// uses that one: one decision per cookie, so no second `Set-Cookie`
    /// for it can follow (and undo) the handler's write.
    #[cfg(any(feature = "hyper", feature = "actix"))]
    pub(crate) fn begin<'a>(
        config: &SessionConfig,
        existing: Option<&Session<T>>,
        cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<Self> {
        let outer = existing.is_some_and(|s| s.config().cookie_name() == config.cookie_name());
        (!outer).then(|| Session::load(config, cookie_headers))
    }

    /// Stores `value`: seals it now and keeps the `Set-Cookie` header for
    /// the response.
    ///
    /// The session keeps the `issued_at` it was first sealed with, so
    /// storing never extends its absolute lifetime ([`Sealer::ttl`]
    /// counted from `issued_at`); only [`Session::renew`] starts a new one.
    ///
    /// The size is checked against the largest envelope the keyring can
    /// produce (its longest key id and nonce), not only the current key's:
    /// a session that fits now still fits when a scheduled key with a
    /// longer envelope starts sealing, so a rotation never logs it out.
    ///
    /// # Errors
    /// [`Error::TooLarge`] if the sealed value or the whole `Set-Cookie`
    /// header would be too long under any key of the keyring,
    /// [`Error::Encode`] if `value` does not serialize,
    /// [`Error::NoSealingKey`], [`Error::Expired`] if the session's absolute
    /// lifetime ended meanwhile. On error the session is left as it was.
    ///
    /// [`Sealer::ttl`]: crate::Sealer::ttl
    pub fn set(&self, value: T) -> Result<()> {
        let issued_at = self.issued_at_secs();
        let (header, times) = self.seal(&value, issued_at)?;
        let mut state = self.shared.lock();
        warn_if_finished(&state);
        state.value = Some(value);
        state.times = Some(times);
        state.status = Status::Changed(header);
        Ok(())
    }

    /// Starts a new lifetime for the session: a fresh `issued_at` (now) and
    /// expiry. Call it at login and on privilege changes, so a session
    /// from before (perhaps fixed by an attacker) and a logged-in one never
    /// share an `issued_at`, and per-user "sessions valid after" checks can
    /// tell them apart. A value the session holds is sealed again at once;
    /// the next [`Session::set`] or [`Session::update`] is sealed fresh in
    /// any case.
    ///
    /// # Errors
    /// As [`Session::set`], for the value held. On error the session is
    /// left as it was.
    pub fn renew(&self) -> Result<()> {
        let held = {
            let mut state = self.shared.lock();
            warn_if_finished(&state);
            state.times = None;
            state.value.as_ref().map(|value| self.seal(value, None))
        };
        if let Some(sealed) = held {
            let (header, times) = sealed?;
            let mut state = self.shared.lock();
            state.times = Some(times);
            state.status = Status::Changed(header);
        }
        Ok(())
    }

    /// When the session was first issued (its cookie sealed fresh), or
    /// `None` for an empty session or one just renewed and not yet
    /// stored.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.shared.lock().times.map(|t| system_time(t.issued_at))
    }

    /// When the session stops opening (before the sealer's leeway), or
    /// `None` as for [`Session::issued_at`].
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.shared.lock().times.map(|t| system_time(t.expires_at))
    }

    fn issued_at_secs(&self) -> Option<u64> {
        self.shared.lock().times.map(|t| t.issued_at)
    }

    /// Changes a copy of the value (`T::default()` for an empty session)
    /// and stores it as [`Session::set`] does; returns what `f` returns.
    /// Two clones updating at the same time: the last store wins.
    ///
    /// # Errors
    /// As [`Session::set`]. On error the session is left as it was.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R>
    where
        T: Default + Clone,
    {
        // No lock is held while `f` runs: it may use the session too.
        let (mut value, issued_at) = {
            let state = self.shared.lock();
            (
                state.value.clone().unwrap_or_default(),
                state.times.map(|t| t.issued_at),
            )
        };
        let out = f(&mut value);
        let (header, times) = self.seal(&value, issued_at)?;
        let mut state = self.shared.lock();
        warn_if_finished(&state);
        state.value = Some(value);
        state.times = Some(times);
        state.status = Status::Changed(header);
        Ok(out)
    }

    /// Forgets the value; the response removes the cookie.
    pub fn clear(&self) {
        let mut state = self.shared.lock();
        warn_if_finished(&state);
        state.value = None;
        state.times = None;
        state.status = Status::Cleared;
    }

    /// A copy of the value, or `None` for an empty session.
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.shared.lock().value.clone()
    }

    /// True when the session holds no value.
    pub fn is_empty(&self) -> bool {
        self.shared.lock().value.is_none()
    }

    /// The configuration this session was loaded with.
    pub fn config(&self) -> &SessionConfig {
        &self.shared.config
    }

    /// Decides the response's `Set-Cookie` header value, if any. Adapters
    /// call it once, after the handler returned: it is the one place where
    /// the session's status becomes a header.
    ///
    /// - stored by the handler: the cookie sealed when it was stored;
    /// - cleared by the handler, or cookies that were all refused (see the
    ///   type's docs): the removal cookie ([`SessionConfig::removal_cookie`]);
    /// - a valid cookie under a key that no longer seals: the value
    ///   re-sealed under the current key with its original expiry (if that
    ///   fails, a warn event and no header: the old cookie still opens as
    ///   long as its key is in the keyring);
    /// - otherwise `None`.
    ///
    /// A write to the session after this call is lost; it logs a warning.
    pub fn finish(&self) -> Option<String> {
        let mut state = self.shared.lock();
        state.finished = true;
        let config = &self.shared.config;
        match core::mem::replace(&mut state.status, Status::Unchanged) {
            Status::Unchanged => None,
            Status::Changed(header) => Some(header),
            Status::Refused | Status::Cleared => Some(config.removal_cookie()),
            Status::Stale(opened) => {
                let value = state.value.as_ref()?;
                let opened = opened.map(|()| value);
                let resealed = config.sealer().reseal(&opened).and_then(|sealed| {
                    let left = opened
                        .expires_at
                        .duration_since(config.sealer().now())
                        .unwrap_or(Duration::ZERO);
                    config.set_cookie(&sealed, left)
                });
                match resealed {
                    Ok(header) => Some(header),
                    Err(Error::Expired) => Some(config.removal_cookie()),
                    Err(error) => {
                        // Its user is logged out when the old key is
                        // removed: an operator must hear of it.
                        tracing::error!(
                            cookie = config.cookie_name(),
                            key_id = %opened.key_id,
                            %error,
                            "session cookie could not be re-sealed under the current key; \
                             it stops opening when its key is removed"
                        );
                        None
                    }
                }
            }
        }
    }

    /// Seals `value` (keeping `issued_at`, or fresh for `None`) into its
    /// `Set-Cookie` header, checked against the largest envelope of the
    /// keyring.
    fn seal(&self, value: &T, issued_at: Option<u64>) -> Result<(String, Times)> {
        let config = &self.shared.config;
        let sealer = config.sealer();
        let sealed = sealer.seal_value(value, issued_at)?;
        if sealed.worst_len > sealer.max_len_chars() {
            return Err(Error::TooLarge {
                len: sealed.worst_len,
                max: sealer.max_len_chars(),
            });
        }
        let left = system_time(sealed.times.expires_at)
            .duration_since(sealer.now())
            .unwrap_or(Duration::ZERO);
        let header = config.set_cookie(&sealed.value, left)?;
        let worst_header = header.len() - sealed.value.len() + sealed.worst_len;
        if worst_header > MAX_COOKIE_BYTES {
            return Err(Error::TooLarge {
                len: worst_header,
                max: MAX_COOKIE_BYTES,
            });
        }
        Ok((header, sealed.times))
    }
}

fn warn_if_finished<T>(state: &State<T>) {
    if state.finished {
        tracing::warn!("session changed after the response was written: the change is lost");
    }
}

/// Opens the request's cookie(s), following the rules in [`Session`]'s docs.
fn open_request<'a, T: DeserializeOwned>(
    config: &SessionConfig,
    cookie_headers: impl IntoIterator<Item = &'a [u8]>,
) -> (Option<(T, Times)>, Status) {
    let name = config.cookie_name();
    // One more than the maximum is enough to know there are too many: the
    // rest of the headers is not even read.
    let candidates: Vec<_> = cookie_headers
        .into_iter()
        .flat_map(|header| named_values(header, name))
        .take(MAX_SAME_NAME_COOKIES + 1)
        .collect();
    if candidates.is_empty() {
        return (None, Status::Unchanged);
    }
    if candidates.len() > MAX_SAME_NAME_COOKIES {
        tracing::warn!(
            cookie = name,
            max = MAX_SAME_NAME_COOKIES,
            "too many cookies with the session's name; all ignored"
        );
        return (None, Status::Unchanged);
    }
    let mut found: Option<Opened<T>> = None;
    // Cookies that authenticated: the one that opened, and any not yet
    // valid (live sessions that a server whose clock is ahead sealed).
    let mut authentic = 0_usize;
    for value in &candidates {
        // A value of ours that is not UTF-8 is not a sealed value.
        let opened = match value {
            Ok(value) => config.sealer().open::<T>(value),
            Err(_) => Err(Error::Malformed),
        };
        match opened {
            Ok(opened) => {
                authentic += 1;
                found = Some(opened);
            }
            Err(Error::NotYetValid) => {
                authentic += 1;
                tracing::warn!(
                    cookie = name,
                    error = %Error::NotYetValid,
                    "session cookie ignored, not removed (is a server's clock ahead of ours?)"
                );
            }
            Err(error) => log_refused(name, &error),
        }
        if authentic > 1 {
            tracing::warn!(
                cookie = name,
                count = candidates.len(),
                "several valid cookies with the session's name (cookie tossing?); none used"
            );
            return (None, Status::Unchanged);
        }
    }
    match found {
        Some(opened) => {
            let times = Times {
                issued_at: unix_secs_saturating(opened.issued_at),
                expires_at: unix_secs_saturating(opened.expires_at),
            };
            let (value, opened) = split(opened);
            let status = if opened.needs_reseal {
                tracing::debug!(
                    cookie = name,
                    key_id = %opened.key_id,
                    "session cookie sealed with a retired key; re-sealing"
                );
                Status::Stale(opened)
            } else {
                Status::Unchanged
            };
            (Some((value, times)), status)
        }
        // The only cookie that authenticated is not yet valid: a peer's
        // fresh session. Removing it would log its user out (and could
        // only reach the cookie at our own path and domain anyway): ignore
        // it; it opens here once our clock catches up.
        None if authentic > 0 => (None, Status::Unchanged),
        // With several candidates one may have been planted by someone
        // else, but none opened, so removing ours loses nothing.
        None => (None, Status::Refused),
    }
}

fn split<T>(opened: Opened<T>) -> (T, Opened<()>) {
    let Opened {
        value,
        issued_at,
        expires_at,
        key_id,
        needs_reseal,
    } = opened;
    let meta = Opened {
        value: (),
        issued_at,
        expires_at,
        key_id,
        needs_reseal,
    };
    (value, meta)
}

/// One event per refused cookie: the reason, never the value. Warn level
/// for what points at tampering or a misconfiguration (authentication
/// failed, unknown key, undecodable: a schema change without a new
/// purpose), debug for the rest. (A cookie that is not yet valid is not
/// refused but ignored, with its own warn event.)
fn log_refused(name: &str, error: &Error) {
    match error {
        // Routine: sessions end, and browsers send junk.
        Error::Expired
        | Error::Malformed
        | Error::UnsupportedVersion(_)
        | Error::TooLarge { .. } => {
            tracing::debug!(cookie = name, %error, "session cookie refused");
        }
        _ => tracing::warn!(cookie = name, %error, "session cookie refused"),
    }
}

/// The error of asking for a [`Session<T>`] where no session layer or
/// middleware for that `T` put one: the handler's write would be lost, so
/// this is reported instead of handing out a detached session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "no Session<{type_name}> in this request: wrap this handler in the session layer or middleware for that same type"
)]
pub struct MissingSession {
    type_name: &'static str,
}

impl MissingSession {
    /// The error for a missing `Session<T>`.
    pub fn new<T>() -> Self {
        MissingSession {
            type_name: core::any::type_name::<T>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookie::CookieOptions;
    use crate::key::Key;
    use crate::keyring::{KeyEntry, Keyring};
    use crate::sealer::Sealer;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    fn config() -> SessionConfig {
        SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("rng"))).expect("valid")
    }

    fn cookie_of(header: &str) -> String {
        header.split(';').next().expect("name=value").to_owned()
    }

    #[test]
    fn empty_request_writes_nothing() {
        let s = Session::<String>::load(&config(), []);
        assert!(s.is_empty());
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn set_then_load() {
        let c = config();
        let s = Session::<String>::load(&c, []);
        s.set("ada".into()).expect("small");
        let header = s.finish().expect("changed");
        assert!(header.starts_with("session="));
        let again = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
        assert_eq!(again.get().as_deref(), Some("ada"));
        assert_eq!(again.finish(), None);
    }

    #[test]
    fn bad_cookie_is_removed_unless_replaced() {
        let c = config();
        let s = Session::<String>::load(&c, [b"session=garbage".as_slice()]);
        assert!(s.is_empty());
        assert_eq!(s.finish(), Some(c.removal_cookie()));

        let s = Session::<String>::load(&c, [b"session=garbage".as_slice()]);
        s.set("new".into()).expect("small");
        let header = s.finish().expect("changed");
        assert_ne!(header, c.removal_cookie());
    }

    #[test]
    fn undecodable_is_refused() {
        let c = config();
        let s = Session::<String>::load(&c, []);
        s.set("not a number".into()).expect("small");
        let cookie = cookie_of(&s.finish().expect("changed"));
        let s = Session::<(u64, u64, u64)>::load(&c, [cookie.as_bytes()]);
        assert!(s.is_empty());
        assert_eq!(s.finish(), Some(c.removal_cookie()));
    }

    #[test]
    fn too_large_leaves_session_as_it_was() {
        let c = config();
        let s = Session::<String>::load(&c, []);
        s.set("kept".into()).expect("small");
        let err = s.set("x".repeat(4000)).expect_err("too large");
        assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
        assert_eq!(s.get().as_deref(), Some("kept"));
        let err = s
            .update(|v: &mut String| v.push_str(&"y".repeat(4000)))
            .expect_err("too large");
        assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
        assert_eq!(s.get().as_deref(), Some("kept"));
        let header = s.finish().expect("changed");
        assert!(header.len() <= crate::MAX_COOKIE_BYTES);
        let again = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
        assert_eq!(again.get().as_deref(), Some("kept"));
    }

    #[test]
    fn header_limit_counts_attributes() {
        // A value that fits the sealer's own limit but not with attributes.
        let c = SessionConfig::with_options(
            Sealer::new(Keyring::ephemeral().expect("rng")),
            CookieOptions::default().domain(&"d".repeat(200)),
        )
        .expect("valid");
        let s = Session::<Vec<u8>>::load(&c, []);
        // Find the largest payload that seals within 4096 characters alone.
        let mut n = 2900;
        while c.sealer().seal(&vec![0u8; n + 1]).is_ok() {
            n += 1;
        }
        let err = s.set(vec![0u8; n]).expect_err("header too long");
        assert!(
            matches!(err, Error::TooLarge { max: 4096, len } if len > 4096),
            "{err:?}"
        );
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn update_may_use_the_session() {
        let s = Session::<u8>::load(&config(), []);
        s.set(1).expect("small");
        let seen = s.update(|v| {
            let before = s.get();
            *v += 1;
            before
        });
        assert_eq!(seen.expect("small"), Some(1));
        assert_eq!(s.get(), Some(2));
    }

    #[test]
    fn clear_removes() {
        let c = config();
        let s = Session::<u8>::load(&c, []);
        s.set(1).expect("small");
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.finish(), Some(c.removal_cookie()));
    }

    #[test]
    fn duplicate_names() {
        let c = config();
        let seal = |v: u8| {
            let s = Session::<u8>::load(&c, []);
            s.set(v).expect("small");
            cookie_of(&s.finish().expect("changed"))
        };
        let (one, two) = (seal(1), seal(2));
        // Garbage before and after a valid one: the valid one is used and
        // nothing is removed.
        let h = format!("session=junk; {one}; session=more-junk");
        let s = Session::<u8>::load(&c, [h.as_bytes()]);
        assert_eq!(s.get(), Some(1));
        assert_eq!(s.finish(), None);
        // Two valid ones, in either order and across headers: ambiguous.
        for headers in [
            vec![format!("{one}; {two}")],
            vec![two.clone(), one.clone()],
        ] {
            let s = Session::<u8>::load(&c, headers.iter().map(|h| h.as_bytes()));
            assert!(s.is_empty());
            assert_eq!(s.finish(), None, "nothing removed when ambiguous");
        }
        // The same valid cookie twice is still two cookies.
        let h = format!("{one}; {one}");
        assert!(Session::<u8>::load(&c, [h.as_bytes()]).is_empty());
        // Too many: ignored unopened.
        let many = [one.as_str(); MAX_SAME_NAME_COOKIES + 1].join("; ");
        let s = Session::<u8>::load(&c, [many.as_bytes()]);
        assert!(s.is_empty());
        assert_eq!(s.finish(), None);
    }

    /// A server whose clock lags its peers' by more than the leeway must
    /// not delete their fresh sessions.
    #[test]
    fn not_yet_valid_cookie_is_ignored_not_removed() {
        let ring = Arc::new(Keyring::ephemeral().expect("rng"));
        let at = |secs: u64| move || UNIX_EPOCH + Duration::from_secs(secs);
        let now = 1_800_000_000;
        let ours = Sealer::from_shared(Arc::clone(&ring)).clock(at(now));
        let c = SessionConfig::new(ours).expect("valid");
        // Two minutes ahead: past the default leeway of one minute.
        let peer = Sealer::from_shared(Arc::clone(&ring)).clock(at(now + 120));
        let early = format!("session={}", peer.seal(&1_u8).expect("small"));
        let valid = format!("session={}", c.sealer().seal(&2_u8).expect("small"));
        let load = |h: &str| {
            let s = Session::<u8>::load(&c, [h.as_bytes()]);
            (s.get(), s.finish())
        };

        let (loaded, lines) = crate::session::capture::capture(|| load(&early));
        assert_eq!(loaded, (None, None), "empty, and not removed");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("WARN"), "{lines:?}");
        assert!(lines[0].contains("not yet valid"), "{lines:?}");
        assert!(lines[0].contains("not removed"), "{lines:?}");
        assert!(!lines[0].contains(&early[8..24]), "{lines:?}");

        // Refused cookies beside it: still nothing removed, since the
        // removal would reach whichever of them sits at our path.
        let h = format!("session=junk; {early}; session=more-junk");
        assert_eq!(load(&h), (None, None));
        // Beside a valid one, in either order: two authentic cookies,
        // ambiguous as with two valid ones (a planted valid cookie must
        // not replace the user's own fresh session).
        assert_eq!(load(&format!("{early}; {valid}")), (None, None));
        assert_eq!(load(&format!("{valid}; {early}")), (None, None));
        // The handler may still store a session, which replaces it.
        let s = Session::<u8>::load(&c, [early.as_bytes()]);
        s.set(3).expect("small");
        let header = s.finish().expect("changed");
        let again = Session::<u8>::load(&c, [cookie_of(&header).as_bytes()]);
        assert_eq!(again.get(), Some(3));
        // Within the leeway it opens; once our clock catches up, the
        // ignored cookie opens too.
        let near = Sealer::from_shared(Arc::clone(&ring)).clock(at(now + 60));
        let near = format!("session={}", near.seal(&4_u8).expect("small"));
        assert_eq!(load(&near), (Some(4), None));
        let later =
            SessionConfig::new(Sealer::from_shared(ring).clock(at(now + 60))).expect("valid");
        assert_eq!(
            Session::<u8>::load(&later, [early.as_bytes()]).get(),
            Some(1)
        );
    }

    /// Nested layers: an inner one for the same cookie reuses the outer
    /// session and finishes nothing; one for another cookie name, even
    /// with the same `T`, holds its own.
    #[test]
    #[cfg(any(feature = "hyper", feature = "actix"))]
    fn begin_reuses_an_outer_session_for_the_same_cookie_only() {
        let ring = Arc::new(Keyring::ephemeral().expect("rng"));
        let c = SessionConfig::new(Sealer::from_shared(Arc::clone(&ring))).expect("valid");
        let outer = Session::<u8>::begin(&c, None, [b"session=junk".as_slice()]).expect("first");
        assert!(Session::<u8>::begin(&c, Some(&outer), [b"session=junk".as_slice()]).is_none());
        let same_name = SessionConfig::new(Sealer::from_shared(Arc::clone(&ring))).expect("valid");
        assert!(Session::<u8>::begin(&same_name, Some(&outer), []).is_none());
        let other = SessionConfig::new(Sealer::from_shared(ring).name("admin")).expect("valid");
        let inner = Session::<u8>::begin(&other, Some(&outer), []).expect("another cookie");
        inner.set(1).expect("small");
        assert!(outer.is_empty());
        assert_eq!(outer.finish(), Some(c.removal_cookie()));
    }

    #[test]
    fn stale_key_is_resealed_keeping_expiry() {
        let now = Arc::new(AtomicU64::new(1_800_000_000));
        let clock = {
            let now = Arc::clone(&now);
            move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst))
        };
        let k1 = Key::try_generate().expect("rng");
        let k2 = Key::try_generate().expect("rng");
        let switch = UNIX_EPOCH + Duration::from_secs(1_800_000_100);
        let ring = Keyring::new([
            KeyEntry::new(1, k1),
            KeyEntry::new(2, k2).activate_at(switch),
        ])
        .expect("keyring");
        let sealer = Sealer::new(ring)
            .ttl(Duration::from_secs(1000))
            .clock(clock);
        let c = SessionConfig::new(sealer).expect("valid");

        let s = Session::<u8>::load(&c, []);
        s.set(9).expect("small");
        let old = cookie_of(&s.finish().expect("changed"));
        let old_value = old.trim_start_matches("session=");
        assert!(
            !c.sealer()
                .open::<u8>(old_value)
                .expect("opens")
                .needs_reseal
        );

        now.store(1_800_000_400, Ordering::SeqCst);
        let s = Session::<u8>::load(&c, [old.as_bytes()]);
        assert_eq!(s.get(), Some(9));
        let header = s.finish().expect("re-sealed");
        assert!(header.ends_with("Max-Age=600"), "{header}");
        let new = cookie_of(&header);
        let opened = c
            .sealer()
            .open::<u8>(new.trim_start_matches("session="))
            .expect("opens");
        assert_eq!(opened.value, 9);
        assert_eq!(opened.key_id, crate::KeyId(2));
        assert!(!opened.needs_reseal);
        let first = c.sealer().open::<u8>(old_value).expect("opens");
        assert_eq!(opened.expires_at, first.expires_at);
        assert_eq!(opened.issued_at, first.issued_at);
        let _: SystemTime = opened.expires_at;
    }

    #[test]
    fn debug_shows_no_value() {
        let s = Session::<String>::load(&config(), []);
        s.set("secret-user-data".into()).expect("small");
        let debug = format!("{s:?}");
        assert!(!debug.contains("secret-user-data"), "{debug}");
        assert!(debug.contains("Changed"), "{debug}");
    }

    #[test]
    fn session_is_send_and_sync() {
        fn assert_send_sync<X: Send + Sync + 'static>() {}
        assert_send_sync::<Session<String>>();
    }

    fn events(f: impl FnOnce()) -> Vec<String> {
        crate::session::capture::capture(f).1
    }

    #[test]
    fn refusals_are_logged_without_the_value() {
        let c = config();
        let s = Session::<String>::load(&c, []);
        s.set("ada".into()).expect("small");
        let valid = cookie_of(&s.finish().expect("changed"));
        let value = valid.trim_start_matches("session=").to_owned();
        let mut tampered = value.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");

        let lines = events(|| {
            Session::<String>::load(&c, [format!("session={tampered}").as_bytes()]);
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("WARN"), "{lines:?}");
        assert!(lines[0].contains("authentication failed"), "{lines:?}");
        assert!(lines[0].contains("cookie=\"session\""), "{lines:?}");
        // No piece of the value appears in the event.
        for chunk in tampered.as_bytes().chunks(8) {
            let chunk = core::str::from_utf8(chunk).expect("ASCII");
            assert!(!lines[0].contains(chunk), "{lines:?}");
        }

        let lines = events(|| {
            Session::<String>::load(&c, [b"session=junk".as_slice()]);
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("DEBUG"), "{lines:?}");
        assert!(lines[0].contains("session cookie refused"), "{lines:?}");
        assert!(!lines[0].contains("junk"), "{lines:?}");

        let h = format!("{valid}; {valid}");
        let lines = events(|| {
            Session::<String>::load(&c, [h.as_bytes()]);
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("WARN"), "{lines:?}");
        assert!(lines[0].contains("several valid cookies"), "{lines:?}");
        assert!(!lines[0].contains(&value[..16]), "{lines:?}");
    }

    #[test]
    fn missing_session_names_the_type() {
        let e = MissingSession::new::<Vec<u8>>().to_string();
        assert!(e.contains("Session<alloc::vec::Vec<u8>>"), "{e}");
    }
}

#[cfg(test)]
mod lifetime_tests {
    //! The absolute lifetime across writes, renewal, and the size check
    //! against the keyring's largest envelope.
    use super::*;
    use crate::key::{Algorithm, Key};
    use crate::keyring::{KeyEntry, Keyring};
    use crate::sealer::Sealer;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::UNIX_EPOCH;

    const START: u64 = 1_800_000_000;
    const HOUR: u64 = 3600;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// A one-hour session over `keyring`, read at the time in `clock`.
    fn config(keyring: Arc<Keyring>, clock: &Arc<AtomicU64>) -> SessionConfig {
        let clock = Arc::clone(clock);
        let sealer = Sealer::from_shared(keyring)
            .ttl(Duration::from_secs(HOUR))
            .clock(move || at(clock.load(Ordering::SeqCst)));
        SessionConfig::new(sealer).expect("valid")
    }

    fn cookie_of(header: &str) -> String {
        header.split(';').next().expect("name=value").to_owned()
    }

    fn max_age(header: &str) -> u64 {
        header
            .rsplit_once("Max-Age=")
            .expect("Max-Age")
            .1
            .parse()
            .expect("seconds")
    }

    /// A stolen cookie kept alive by a writing route (a visit counter)
    /// still ends one TTL after login: every write keeps the first
    /// `issued_at` and expiry, and `Max-Age` counts down to it.
    #[test]
    fn absolute_lifetime_writes_keep_issued_at() {
        let clock = Arc::new(AtomicU64::new(START));
        let c = config(Arc::new(Keyring::ephemeral().expect("rng")), &clock);
        let s = Session::<u64>::load(&c, []);
        s.set(0).expect("small");
        assert_eq!(s.issued_at(), Some(at(START)));
        assert_eq!(s.expires_at(), Some(at(START + HOUR)));
        let mut header = s.finish().expect("changed");
        assert_eq!(max_age(&header), HOUR);
        for minute in (10..60).step_by(10) {
            clock.store(START + minute * 60, Ordering::SeqCst);
            let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
            assert_eq!(s.issued_at(), Some(at(START)), "minute {minute}");
            assert_eq!(s.expires_at(), Some(at(START + HOUR)));
            s.update(|n| *n += 1).expect("small");
            assert_eq!(s.issued_at(), Some(at(START)));
            header = s.finish().expect("changed");
            assert_eq!(max_age(&header), HOUR - minute * 60);
        }
        // Past the lifetime and the leeway: no session, the cookie removed.
        clock.store(START + HOUR + 61, Ordering::SeqCst);
        let s = Session::<u64>::load(&c, [cookie_of(&header).as_bytes()]);
        assert!(s.is_empty());
        assert_eq!(s.finish(), Some(c.removal_cookie()));
    }

    /// `renew` (login, privilege change) gives the session a fresh
    /// `issued_at`; a write after it keeps the new one.
    #[test]
    fn renew_starts_a_new_lifetime() {
        let clock = Arc::new(AtomicU64::new(START));
        let c = config(Arc::new(Keyring::ephemeral().expect("rng")), &clock);
        let s = Session::<String>::load(&c, []);
        s.set("anonymous cart".into()).expect("small");
        let header = s.finish().expect("changed");

        clock.store(START + 600, Ordering::SeqCst);
        let s = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
        assert_eq!(s.issued_at(), Some(at(START)));
        s.renew().expect("re-seals");
        assert_eq!(s.issued_at(), Some(at(START + 600)));
        s.set("ada".into()).expect("small");
        assert_eq!(s.issued_at(), Some(at(START + 600)));
        let header = s.finish().expect("changed");
        assert_eq!(max_age(&header), HOUR);
        let s = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
        assert_eq!(s.get().as_deref(), Some("ada"));
        assert_eq!(s.expires_at(), Some(at(START + 600 + HOUR)));

        // Renewing an empty session writes nothing; its next store is fresh.
        let s = Session::<String>::load(&c, []);
        s.renew().expect("nothing to seal");
        assert_eq!(s.issued_at(), None);
        assert_eq!(s.finish(), None);
    }

    /// The largest string that `set` accepts under `keyring`.
    fn largest_accepted(keyring: &Arc<Keyring>, clock: &Arc<AtomicU64>) -> usize {
        let c = config(Arc::clone(keyring), clock);
        let s = Session::<String>::load(&c, []);
        let mut len = 2000;
        while s.set("x".repeat(len + 1)).is_ok() {
            len += 1;
        }
        len
    }

    /// A session that fits under an AES-256-GCM key with id 1 but not
    /// under the XChaCha20-Poly1305 key 300 the keyring already holds for
    /// the next rotation is refused at `set`, not logged out at the
    /// rotation. What `set` accepts is re-sealed under key 300 when it
    /// activates.
    #[test]
    fn set_checks_the_largest_envelope_of_the_keyring() {
        let clock = Arc::new(AtomicU64::new(START));
        let aes =
            KeyEntry::new(1, Key::try_generate().expect("rng")).algorithm(Algorithm::Aes256Gcm);
        let only_aes = Arc::new(Keyring::new([aes.clone()]).expect("keyring"));
        let next =
            KeyEntry::new(300, Key::try_generate().expect("rng")).activate_at(at(START + HOUR / 2));
        let both = Arc::new(Keyring::new([aes, next]).expect("keyring"));

        let fits_aes = largest_accepted(&only_aes, &clock);
        let fits_both = largest_accepted(&both, &clock);
        assert!(fits_both + 10 < fits_aes, "{fits_both} vs {fits_aes}");
        let c = config(Arc::clone(&both), &clock);
        let s = Session::<String>::load(&c, []);
        assert!(matches!(
            s.set("x".repeat(fits_aes)),
            Err(Error::TooLarge {
                max: MAX_COOKIE_BYTES,
                ..
            })
        ));
        s.set("x".repeat(fits_both)).expect("fits every key");
        let header = s.finish().expect("changed");
        assert!(header.len() < MAX_COOKIE_BYTES);

        // After the activation the value is re-sealed under key 300, and
        // the new cookie still fits.
        clock.store(START + HOUR / 2 + 1, Ordering::SeqCst);
        let s = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
        let resealed = s.finish().expect("re-sealed under key 300");
        assert!(resealed.len() <= MAX_COOKIE_BYTES, "{}", resealed.len());
        assert!(resealed.len() > header.len());
    }

    /// A key added and activated at once (no check at `set` could foresee
    /// it) can make a stored session too large to re-seal: that user is
    /// logged out when the old key goes, so it is an error event, not a
    /// warning.
    #[test]
    fn unsendable_reseal_is_logged_as_an_error() {
        let clock = Arc::new(AtomicU64::new(START));
        let aes =
            KeyEntry::new(1, Key::try_generate().expect("rng")).algorithm(Algorithm::Aes256Gcm);
        let before = Arc::new(Keyring::new([aes.clone()]).expect("keyring"));
        let len = largest_accepted(&before, &clock);
        let s = Session::<String>::load(&config(Arc::clone(&before), &clock), []);
        s.set("x".repeat(len)).expect("fits");
        let header = s.finish().expect("changed");

        let after = Arc::new(
            Keyring::new([aes, KeyEntry::new(300, Key::try_generate().expect("rng"))])
                .expect("keyring"),
        );
        let c = config(after, &clock);
        let (written, lines) = crate::session::capture::capture(|| {
            Session::<String>::load(&c, [cookie_of(&header).as_bytes()]).finish()
        });
        assert_eq!(written, None, "nothing unsendable is written");
        let errors: Vec<_> = lines.iter().filter(|l| l.starts_with("ERROR")).collect();
        assert_eq!(errors.len(), 1, "{lines:?}");
        assert!(errors[0].contains("could not be re-sealed"), "{lines:?}");
        assert!(errors[0].contains("key_id=1"), "{lines:?}");
        assert!(!errors[0].contains(&header[8..40]), "{lines:?}");
    }
}

/// Test support shared by the adapters' unit tests: the `tracing` events a
/// closure emits on this thread.
#[cfg(test)]
pub(crate) mod capture {
    use core::fmt;
    use std::sync::{Arc, Mutex};

    /// Collects events as `LEVEL field=value ...` lines.
    struct Capture(Arc<Mutex<Vec<String>>>);

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Fields<'a>(&'a mut String);
            impl tracing::field::Visit for Fields<'_> {
                fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
                    self.0.push_str(&format!(" {}={:?}", field.name(), value));
                }
            }
            let mut line = event.metadata().level().to_string();
            event.record(&mut Fields(&mut line));
            self.0.lock().expect("not poisoned").push(line);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// Runs `f` and returns its result with the events it emitted on this
    /// thread.
    pub(crate) fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = tracing::subscriber::with_default(Capture(Arc::clone(&lines)), f);
        let lines = lines.lock().expect("not poisoned").clone();
        (out, lines)
    }
}

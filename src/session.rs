//! The session: its configuration ([`SessionConfig`]: a sealer and the
//! cookie's attributes), the typed handle handlers use ([`Session`]), and
//! the crate-private protocol every adapter follows: `begin` (the request's
//! `Cookie` headers to a `Session<T>`) and `finish` (the session's status to
//! every `Set-Cookie` value to append), with the one [`SessionFuture`]
//! both adapters return (awaiting the application's asynchronous check,
//! `pending_check`, between the two when there is one). Nothing here
//! knows an HTTP framework.

// Without an adapter feature only the configuration types are used: the
// protocol below serves the adapters.
#![cfg_attr(not(any(feature = "tower", feature = "actix")), allow(dead_code))]

use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::cookie::MAX_COOKIE_BYTES;
use crate::envelope::Times;
use crate::error::{Error, Refusal, Result, SealError};
use crate::sealer::{serde_copy, Opened};
use crate::time::UnixTime;
use csrf::Csrf;
use flash::{Flash, Incoming};

mod chunked;
mod config;
mod csrf;
mod flash;
mod request;
#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) use config::CheckFuture;
pub use config::{SessionConfig, DEFAULT_FLASH_TTL};
#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) use csrf::{form_token, log_refused as log_refused_csrf, Facts, Next};
pub use csrf::{CsrfFailure, CsrfGuard, CSRF_FIELD, CSRF_HEADER, DEFAULT_FORM_LIMIT};

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
/// - a cookie that is not yet valid ([`Refusal::NotYetValid`]: authentic, but
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
/// A cookie is ours when its name is the cookie name byte for byte (the
/// `Cookie` header is read strictly: pairs split at `;`, only SP and HTAB
/// trimmed): `\u{2000}session` or `Session` is another cookie, and is
/// neither used nor removed.
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
/// [`MAX_SAME_NAME_COOKIES`](crate::MAX_SAME_NAME_COOKIES) are ignored unopened (nothing removed). A
/// `__Host-` cookie name rules tossing out in current browsers (older ones
/// accepted a nameless cookie such as `=__Host-session=x` from a sibling
/// subdomain and sent it back as ours).
///
/// The flash and CSRF cookies follow the same rule where it matters: of
/// several with one name (one may be planted), none is removed for coming
/// with the others, and the one that opens is used when it is needed: the
/// flash [`Session::take_flash`] takes (none if two open), the CSRF cookies
/// of this session a token is checked against (one planted beside an
/// empty session belongs to it too: a token of either passes).
///
/// **A session over several cookies**
/// ([`CookieOptions::with_chunking`](crate::CookieOptions::with_chunking)):
/// the chunks the request carried are put together in every way their
/// names allow (at most [`MAX_SAME_NAME_COOKIES`](crate::MAX_SAME_NAME_COOKIES)
/// ways, or none is used), and the rules above apply to those ways as to
/// several cookies of one name. A response that writes fewer chunks than
/// the request carried removes the others; one that removes the session
/// removes every chunk the request carried. SECURITY.md ("Sessions over
/// several cookies") has the exact rule.
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
/// Handlers use [`Session::get`], [`Session::with`], [`Session::set`],
/// [`Session::update`], [`Session::clear`] and [`Session::renew`], and
/// [`Session::set_flash`] and [`Session::take_flash`] for one-shot messages
/// (in a cookie of their own, see there); the
/// adapters (`tower`, `actix`) load it before
/// the handler and write its cookie after it. A clone is a handle to the
/// same session; a write through one kept past the response (by a spawned
/// task) cannot reach the client: it is lost, and once the response's
/// cookies were written, a warn event naming the cookie says so.
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
    /// The flash cookie, apart from `status`: no flash operation touches
    /// the session cookie.
    flash: Flash,
    /// The CSRF cookie, apart from `status` likewise.
    csrf: Csrf,
    /// The chunk cookies (index 1 on, a bit each) the request carried:
    /// what a write of fewer chunks, or a removal, removes.
    chunks: u32,
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
    /// A valid cookie whose inactivity timeout a re-seal now would extend
    /// by at least the refresh interval: re-seal it, keeping `issued_at`.
    Touched,
    /// The handler stored a value: these `Set-Cookie` header values (one,
    /// or one per chunk).
    Changed(Vec<String>),
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
            .field("cookie", &self.shared.config.name())
            .field("is_empty", &state.value.is_none())
            .field("status", &StatusName(&state.status))
            .field("flash_in", &state.flash.incoming.name())
            .field("flash_set", &state.flash.outgoing.is_some())
            .field("csrf", &state.csrf)
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
            Status::Touched => "Touched",
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

impl<T: Serialize + DeserializeOwned + 'static> Session<T> {
    /// Reads the session cookie from the request's `Cookie` header values
    /// (every one of them, in order; see the type's docs for several
    /// cookies of the same name) and opens it.
    ///
    /// Never fails: a cookie that does not open is an empty session (and a
    /// `tracing` event at debug or warn level saying why).
    pub(crate) fn load<'a, I>(config: &SessionConfig, cookie_headers: I) -> Self
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        // One pass over each header: the session's cookies are picked out,
        // and the rest are offered to the flash and CSRF readers.
        let mut flash = request::OneCookieReader::flash(config);
        let mut csrf = request::OneCookieReader::csrf(config);
        let mut others = |name: &[u8], value: &[u8]| {
            let _ = flash.offer(name, value) || csrf.offer(name, value);
        };
        let (opened, status, chunks) = request::open_request(config, cookie_headers, &mut others);
        let incoming = flash.finish();
        let csrf = Csrf::came(csrf.finish());
        let (value, times) = opened.unzip();
        Session {
            shared: Arc::new(Shared {
                config: config.clone(),
                state: Mutex::new(State {
                    value,
                    times,
                    status,
                    flash: Flash {
                        incoming,
                        outgoing: None,
                    },
                    csrf,
                    chunks,
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
    #[cfg(any(feature = "tower", feature = "actix"))]
    pub(crate) fn begin<'a, I>(
        config: &SessionConfig,
        existing: Option<&Session<T>>,
        cookie_headers: I,
    ) -> Option<Self>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let outer = existing.filter(|s| s.config().name() == config.name());
        if let Some(outer) = outer {
            if !outer.config().same_as(config) {
                // One decision per cookie: the outer layer's. Its settings
                // (check, lifetimes, purpose) are the ones in force here,
                // which the inner layer's author may not expect.
                tracing::error!(
                    cookie = config.name(),
                    "nested session layers for one cookie with different configurations; \
                     the outer one decides and the inner one is ignored"
                );
            }
            return None;
        }
        Some(Session::load(config, cookie_headers))
    }

    /// What an adapter awaits after [`Session::begin`] and before the
    /// handler: the application's asynchronous check of the value that
    /// opened ([`SessionConfig::with_async_check`]), or `None` when there
    /// is none or nothing to check (an empty or refused session). On
    /// `false` the adapter calls [`Session::refuse_subject`].
    #[cfg(any(feature = "tower", feature = "actix"))]
    pub(crate) fn pending_check(&self) -> Option<CheckFuture> {
        let state = self.shared.lock();
        let value = state.value.as_ref()?;
        let issued_at = state.times?.issued_at.to_system();
        self.shared.config.async_check(value, issued_at)
    }

    /// Turns the session into a refused one: its subject failed the
    /// asynchronous check. The value and times are forgotten and the
    /// response removes the cookie, as for any cookie that did not open.
    #[cfg(any(feature = "tower", feature = "actix"))]
    pub(crate) fn refuse_subject(&self) {
        let mut state = self.shared.lock();
        state.value = None;
        state.times = None;
        state.status = Status::Refused;
        drop(state);
        request::log_refused(
            self.shared.config.name(),
            &Error::from(Refusal::RevokedSubject),
        );
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
    /// [`SealError::TooLarge`] if the sealed value or the whole `Set-Cookie`
    /// header would be too long under any key of the keyring (with
    /// chunking: if its chunks would pass the cookie count or the budget),
    /// [`SealError::Encode`] if `value` does not serialize,
    /// [`ConfigError::NoSealingKey`](crate::ConfigError::NoSealingKey),
    /// [`Refusal::Expired`] if the session's absolute lifetime ended
    /// meanwhile. On error the session is left as it was.
    ///
    /// [`Sealer::ttl`]: crate::Sealer::ttl
    pub fn set(&self, value: T) -> Result<()> {
        let issued_at = self.issued_at_secs();
        let (header, times) = self.seal(&value, issued_at)?;
        let mut state = self.shared.lock();
        warn_if_finished(&self.shared.config, &state);
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
    /// any case. The request's CSRF cookie is retired (removed by the
    /// response; see [`Session::csrf_token`]).
    ///
    /// # Errors
    /// As [`Session::set`], for the value held. On error the session is
    /// left as it was.
    pub fn renew(&self) -> Result<()> {
        let mut state = self.shared.lock();
        warn_if_finished(&self.shared.config, &state);
        match state.value.as_ref().map(|value| self.seal(value, None)) {
            // Sealed first: on error the session is left as it was.
            Some(sealed) => {
                let (header, times) = sealed?;
                state.times = Some(times);
                state.status = Status::Changed(header);
            }
            None => state.times = None,
        }
        state.csrf.retire();
        Ok(())
    }

    /// When the session was first issued (its cookie sealed fresh), or
    /// `None` for an empty session or one just renewed and not yet
    /// stored.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.shared.lock().times.map(|t| t.issued_at.to_system())
    }

    /// When the session stops opening (before the sealer's leeway), or
    /// `None` as for [`Session::issued_at`].
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.shared.lock().times.map(|t| t.expires_at.to_system())
    }

    fn issued_at_secs(&self) -> Option<UnixTime> {
        self.shared.lock().times.map(|t| t.issued_at)
    }

    /// Changes a copy of the value (`T::default()` for an empty session)
    /// and stores it as [`Session::set`] does; returns what `f` returns.
    /// Two clones updating at the same time: the last store wins.
    ///
    /// `T` need not be `Clone`: the copy is made through `T`'s own
    /// `Serialize` and `Deserialize` (in the sealer's wiped buffer), so `f`
    /// may read the session (it sees the value before the update) and a
    /// failed store leaves the session as it was. So `f` sees what the
    /// cookie would hold: a field that `T`'s serde impls skip comes to `f`
    /// as its default, as it would after any round trip through the
    /// cookie. (Those impls run while the session is locked: they must not
    /// use the session.)
    ///
    /// # Errors
    /// As [`Session::set`]; [`SealError::Encode`] also if the value does not
    /// serialize, or does not deserialize from all of its own serialization
    /// (as the cookie would not open: see [`Refusal::Decode`]). On error the
    /// session is left as it was.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R>
    where
        T: Default,
    {
        // No lock is held while `f` runs: it may use the session too.
        let (copy, issued_at) = {
            let state = self.shared.lock();
            // A session's value fits its cookie, so its serialization
            // fits the sealer's maximum.
            let max = self.shared.config.sealer().max_len();
            let copy = match &state.value {
                Some(value) => Some(serde_copy(value, max).ok_or(SealError::Encode)?),
                None => None,
            };
            (copy, state.times.map(|t| t.issued_at))
        };
        let mut value = copy.unwrap_or_default();
        let out = f(&mut value);
        let (header, times) = self.seal(&value, issued_at)?;
        let mut state = self.shared.lock();
        warn_if_finished(&self.shared.config, &state);
        state.value = Some(value);
        state.times = Some(times);
        state.status = Status::Changed(header);
        Ok(out)
    }

    /// Forgets the value; the response removes the cookie. At logout this
    /// also drops the flash messages: a flash cookie the request carried is
    /// removed (and no longer taken), and a flash set earlier in this
    /// request is not sent. A flash set after `clear` is sent ("you are
    /// logged out"). The CSRF cookie goes too: the request's is removed and
    /// a token made earlier in this request is not backed by a cookie; one
    /// made after `clear` is (for the login form).
    pub fn clear(&self) {
        let mut state = self.shared.lock();
        warn_if_finished(&self.shared.config, &state);
        state.value = None;
        state.times = None;
        state.status = Status::Cleared;
        state.flash.outgoing = None;
        if !matches!(state.flash.incoming, Incoming::Absent) {
            state.flash.incoming = Incoming::Spent;
        }
        state.csrf.clear();
    }

    /// A copy of the value, or `None` for an empty session.
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.shared.lock().value.clone()
    }

    /// Reads the value (or `None` for an empty session) without cloning it:
    /// `f` runs with the session locked, so it must not use the session
    /// itself.
    ///
    /// ```no_run
    /// # fn handler(session: sealed_session::Session<(String, Vec<u64>)>) {
    /// let name_len = session.with(|v| v.map_or(0, |(name, _cart)| name.len()));
    /// # }
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        f(self.shared.lock().value.as_ref())
    }

    /// True when the session holds no value.
    pub fn is_empty(&self) -> bool {
        self.shared.lock().value.is_none()
    }

    /// The configuration this session was loaded with.
    pub fn config(&self) -> &SessionConfig {
        &self.shared.config
    }

    /// Decides the response's `Set-Cookie` header values. Adapters call it
    /// once, after the handler returned (through [`ResponseFuture`]): it is
    /// the one place where the session's status becomes headers, and each
    /// value it returns is appended to the response as one `Set-Cookie`.
    ///
    /// - stored by the handler: the cookie sealed when it was stored;
    /// - cleared by the handler, or cookies that were all refused (see the
    ///   type's docs): the removal cookie (same name, `Path` and `Domain`,
    ///   `Max-Age=0`);
    /// - a valid cookie under a key that no longer seals: the value
    ///   re-sealed under the current key with its original expiry (if that
    ///   fails, an error event and no header: the old cookie still opens as
    ///   long as its key is in the keyring);
    /// - otherwise nothing.
    ///
    /// Whenever one of the above is written, the removal of every chunk
    /// cookie (`NAME.1` to `NAME.15`, chunking on or off) the request
    /// carried and the write does not store follows it.
    ///
    /// Then, for the flash cookie (never instead of the above):
    ///
    /// - a flash set by the handler: its cookie;
    /// - a flash that came and was taken, refused or cleared: its removal
    ///   cookie;
    /// - otherwise (none came, or it came and was not taken) nothing.
    ///
    /// Then the CSRF cookie's (see [`Session::csrf_token`]).
    ///
    /// A write to the session after this call is lost; it logs a warning.
    pub(crate) fn finish(&self) -> Vec<String> {
        let mut session = self.decide().unwrap_or_default();
        if !session.is_empty() {
            // Chunks the request carried beyond what was just written (or
            // removed) are stale: remove them.
            let chunks = self.shared.lock().chunks;
            let stale = self.shared.config.chunk_removals(chunks, session.len());
            session.extend(stale);
        }
        let flash = self.decide_flash();
        let csrf = self.decide_csrf();
        let mut headers: Vec<String> = session.into_iter().chain(flash).chain(csrf).collect();
        // Removals last (a stable sort keeps the rest in order): curl
        // (7.88 at least) keeps a cookie whose removal another
        // `Set-Cookie` follows in the same response, so a logout that set
        // its "logged out" flash after the removal left curl's jar logged
        // in. Browsers do not mind the order of cookies of different names.
        // The session's own removal last of all: where a response removes
        // several cookies, curl takes only the last removal, and the
        // session is the one that matters (its other cookies are bound to
        // it or ignored without it).
        let name = self.shared.config.name();
        headers.sort_by_key(|header| {
            let removal = is_removal(header);
            (
                removal,
                removal && header.split_once('=').is_some_and(|(n, _)| n == name),
            )
        });
        headers
    }

    fn decide(&self) -> Option<Vec<String>> {
        let mut state = self.shared.lock();
        state.finished = true;
        let config = &self.shared.config;
        match core::mem::replace(&mut state.status, Status::Unchanged) {
            Status::Unchanged => None,
            Status::Changed(header) => Some(header),
            Status::Refused | Status::Cleared => Some(vec![config.removal_cookie()]),
            Status::Touched => {
                let value = state.value.as_ref()?;
                let issued_at = state.times.map(|t| t.issued_at);
                // Deterministic: the expiry is rounded to the refresh
                // interval, so a cookie replayed within one interval re-seals
                // to the same value and spends no new nonce.
                let touched = chunked::seal_cookies(config, value, issued_at, true);
                match touched {
                    Ok((header, times)) => {
                        state.times = Some(times);
                        Some(header)
                    }
                    // Expired meanwhile, or revoked: the cookie is refused on
                    // its next request anyway.
                    Err(Error::Refused(_)) => None,
                    Err(error) => {
                        tracing::error!(
                            cookie = config.name(),
                            %error,
                            "session cookie could not be re-sealed to extend its idle timeout"
                        );
                        None
                    }
                }
            }
            Status::Stale(opened) => {
                let value = state.value.as_ref()?;
                let opened = opened.map(|()| value);
                let resealed = config.sealer().reseal(&opened).and_then(|sealed| {
                    let left = opened
                        .expires_at
                        .duration_since(config.sealer().now())
                        .unwrap_or(Duration::ZERO);
                    config.session_cookies(&sealed, left)
                });
                match resealed {
                    Ok(header) => Some(header),
                    Err(Error::Refused(Refusal::Expired)) => Some(vec![config.removal_cookie()]),
                    Err(error) => {
                        // Its user is logged out when the old key is
                        // removed: an operator must hear of it.
                        tracing::error!(
                            cookie = config.name(),
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
    fn seal(&self, value: &T, issued_at: Option<UnixTime>) -> Result<(Vec<String>, Times)> {
        chunked::seal_cookies(&self.shared.config, value, issued_at, false)
    }
}

/// Seals `value` with `sealer` (keeping `issued_at`, or fresh for `None`)
/// into the `Set-Cookie` header of cookie `name`, checked against the
/// largest envelope of the keyring.
fn seal_header<V: Serialize + ?Sized>(
    config: &SessionConfig,
    sealer: &crate::sealer::Sealer,
    name: &str,
    value: &V,
    issued_at: Option<UnixTime>,
    deterministic: bool,
) -> Result<(String, Times)> {
    let (sealed, left) = seal_within_max(sealer, value, issued_at, deterministic)?;
    let header = config.set_cookie_named(name, &sealed.value, left)?;
    let worst_header = header.len() - sealed.value.len() + sealed.worst_len();
    if worst_header > MAX_COOKIE_BYTES {
        return Err(SealError::TooLarge {
            len: worst_header,
            max: MAX_COOKIE_BYTES,
        }
        .into());
    }
    Ok((header, sealed.times))
}

/// Seals `value` with `sealer` (keeping `issued_at`, or fresh for `None`),
/// checked against the sealer's maximum under the largest envelope of the
/// keyring; with the time the value has left (its cookie's `Max-Age`).
fn seal_within_max<V: Serialize + ?Sized>(
    sealer: &crate::sealer::Sealer,
    value: &V,
    issued_at: Option<UnixTime>,
    deterministic: bool,
) -> Result<(crate::sealer::Sealed, Duration)> {
    let sealed = sealer.seal_value_with(value, issued_at, deterministic)?;
    if sealed.worst_len() > sealer.max_len() {
        return Err(SealError::TooLarge {
            len: sealed.worst_len(),
            max: sealer.max_len(),
        }
        .into());
    }
    let left = sealed
        .times
        .expires_at
        .to_system()
        .duration_since(sealer.now())
        .unwrap_or(Duration::ZERO);
    Ok((sealed, left))
}

fn warn_if_finished<T>(config: &SessionConfig, state: &State<T>) {
    if state.finished {
        tracing::warn!(
            cookie = config.name(),
            "session changed after the response was written: the change is lost"
        );
    }
}

#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) use self::future::AppendSetCookie;

#[cfg(any(feature = "axum", feature = "actix"))]
mod answer;
#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) mod future;
#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) use self::future::sealed as future_sealed;
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) use answer::{log_answered, status_code};

#[cfg(test)]
pub(crate) mod tests;

/// Whether a `Set-Cookie` header value is one of our removals: an empty
/// value (every cookie we set holds a sealed value, never empty).
fn is_removal(header: &str) -> bool {
    header
        .split_once('=')
        .is_some_and(|(_, rest)| rest.is_empty() || rest.starts_with(';'))
}

//! CSRF protection without server-side state: a per-session secret in a
//! sealed cookie of its own (`<name>-csrf`), masked tokens for forms and
//! headers, and the framework-free half of the guard (which requests it
//! checks, the `Sec-Fetch-Site` and `Origin` rules, where the token is).
//! The adapters' guards (`tower::CsrfLayer`, `actix::CsrfMiddleware`) only
//! read a request into [`Facts`] and, for a form, its body.

use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::TryRngCore as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::{Zeroize as _, Zeroizing};

use super::flash::Incoming;
use super::{seal_header, warn_if_finished, Session};
use crate::error::{ConfigError, Error, Result};
use crate::sealer::Opened;
use crate::time::UnixTime;

/// What a CSRF cookie holds: the secret, and the `issued_at` (seconds) of
/// the session it belongs to (`None`: an empty session).
type CsrfValue = ([u8; SECRET_LEN], Option<u64>);

/// Bytes of the per-session secret, and of a token's mask.
const SECRET_LEN: usize = 32;

/// The request header a guard reads the token from.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The form field (`application/x-www-form-urlencoded`) a guard reads the
/// token from when the header is absent.
pub const CSRF_FIELD: &str = "csrf_token";

/// How much of a form body a guard reads at most, unless set with
/// [`CsrfGuard::with_form_limit`]: 64 KiB.
pub const DEFAULT_FORM_LIMIT: usize = 64 * 1024;

/// Why a CSRF guard refused a request (or
/// [`Session::verify_csrf_token`] a token). The guard answers every one
/// with an empty `403 Forbidden`, which carries this reason in its
/// extensions (for the application's own layer, see
/// `tower::CsrfLayer` and
/// `actix::CsrfMiddleware`), and logs it at
/// warn level (debug for [`CsrfFailure::is_routine`] ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrfFailure {
    /// `Sec-Fetch-Site` says the request came from another site (or a
    /// sibling subdomain: `same-site`), and its `Origin` is not allowed.
    #[error("Sec-Fetch-Site says the request is cross-site")]
    CrossSite,
    /// `Origin` names another origin than this server's (or is `null`),
    /// and is not allowed.
    #[error("Origin is not this server's origin nor an allowed one")]
    OriginMismatch,
    /// No token in the `x-csrf-token` header nor in a urlencoded form's
    /// `csrf_token` field.
    #[error("no CSRF token in the request")]
    MissingToken,
    /// The request carried no CSRF cookie that opens (none, tampered,
    /// expired, sealed for another cookie, or more than
    /// [`MAX_SAME_NAME_COOKIES`](crate::MAX_SAME_NAME_COOKIES) of them).
    #[error("no valid CSRF cookie in the request")]
    MissingCookie,
    /// The CSRF cookie belongs to another session than the request's: the
    /// session was renewed (login), cleared, or replaced since the token
    /// was issued, or it ended at an idle timeout (the CSRF cookie lives to
    /// the session's absolute lifetime).
    #[error("the CSRF cookie belongs to another session")]
    OtherSession,
    /// The token does not match the request's CSRF cookie: a token of
    /// another session or browser, or a tampered one.
    #[error("the CSRF token does not match the CSRF cookie")]
    WrongToken,
    /// The form body is longer than the guard reads
    /// ([`CsrfGuard::with_form_limit`]).
    #[error("the form is larger than the CSRF guard reads")]
    FormTooLarge,
    /// The form body could not be read (the client went away).
    #[error("the form body could not be read")]
    FormUnreadable,
}

impl CsrfFailure {
    /// True for the refusals an expired or ended session gives a form
    /// posted after it ([`CsrfFailure::MissingCookie`],
    /// [`CsrfFailure::OtherSession`]): the guard logs them at debug level,
    /// the others (which point at another site, a bug or tampering) at
    /// warn.
    pub fn is_routine(self) -> bool {
        matches!(self, CsrfFailure::MissingCookie | CsrfFailure::OtherSession)
    }
}

/// What a CSRF guard checks, shared by the adapters' guards
/// (`tower::CsrfLayer`,
/// `actix::CsrfMiddleware`). Cheap to
/// clone.
///
/// Safe methods (`GET`, `HEAD`, `OPTIONS`, `TRACE`) pass unchecked: they
/// must not change anything. Every other method must pass, in order:
///
/// 1. **`Sec-Fetch-Site`**, when the browser sends it: `same-origin` and
///    `none` (the user's own navigation) pass; `same-site` and
///    `cross-site` pass only with an allowed `Origin`
///    ([`CsrfGuard::with_allowed_origin`]); anything else is refused.
/// 2. **`Origin`**, when there is no `Sec-Fetch-Site`: it must be an
///    allowed origin, or name this server: its host and port equal the
///    request's `Host` (or URI authority). `null` is refused.
/// 3. **The token**, always: from the `x-csrf-token` header, or else from
///    the `csrf_token` field of an `application/x-www-form-urlencoded`
///    body (read up to [`CsrfGuard::with_form_limit`] and handed on
///    intact). It must match the request's CSRF cookie, which must belong
///    to the request's session ([`Session::csrf_token`] says how).
///
/// Requests without either header (older browsers, other clients) are
/// judged by the token alone. A failure is an empty `403 Forbidden` that
/// carries the [`CsrfFailure`] in its extensions, and an event with it
/// (never a token or cookie value).
/// This follows the OWASP CSRF cheat sheet: a synchronizer token bound to
/// the session, plus the Fetch Metadata and origin checks.
///
/// ```
/// use sealed_session::CsrfGuard;
/// let guard = CsrfGuard::new()
///     .with_allowed_origin("https://app.example.com")?
///     .with_form_limit(16 * 1024);
/// # let _ = guard;
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CsrfGuard {
    /// Lowercase `scheme://host[:port]`.
    allowed_origins: Vec<Box<str>>,
    form_limit: usize,
}

impl Default for CsrfGuard {
    fn default() -> Self {
        CsrfGuard::new()
    }
}

impl CsrfGuard {
    /// A guard for this server's own origin only, reading forms up to
    /// [`DEFAULT_FORM_LIMIT`].
    pub fn new() -> Self {
        CsrfGuard {
            allowed_origins: Vec::new(),
            form_limit: DEFAULT_FORM_LIMIT,
        }
    }

    /// Also lets unsafe requests from `origin` (`scheme://host[:port]`, as
    /// browsers send it in `Origin`, such as a front end on another
    /// subdomain) past the `Sec-Fetch-Site` and `Origin` checks. They
    /// still need a valid token. Compared without regard to case, with the
    /// scheme's default port left out (`https://a.example:443` is
    /// `https://a.example`). Behind a proxy that rewrites `Host`, list the
    /// site's own public origin here, or browsers without
    /// `Sec-Fetch-Site` are refused.
    ///
    /// # Errors
    /// [`ConfigError::AllowedOrigin`] if `origin` is not `http://` or
    /// `https://` followed by a host (and port) alone.
    pub fn with_allowed_origin(mut self, origin: &str) -> Result<Self> {
        let origin = origin.to_ascii_lowercase();
        let (scheme, authority) = match origin.split_once("://") {
            Some((scheme @ ("http" | "https"), authority)) => (scheme, authority),
            _ => return Err(ConfigError::AllowedOrigin.into()),
        };
        let valid = !authority.is_empty()
            && !authority.ends_with(':')
            && authority
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
        if !valid {
            return Err(ConfigError::AllowedOrigin.into());
        }
        // Browsers leave the scheme's default port out of `Origin`.
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let authority = authority.strip_suffix(default_port).unwrap_or(authority);
        self.allowed_origins
            .push(format!("{scheme}://{authority}").into_boxed_str());
        Ok(self)
    }

    /// How much of a urlencoded form body the guard reads to find the
    /// token when the header is absent: a longer form is refused
    /// ([`CsrfFailure::FormTooLarge`]). Send the token in the
    /// `x-csrf-token` header for larger bodies.
    #[must_use]
    pub fn with_form_limit(mut self, limit: usize) -> Self {
        self.form_limit = limit;
        self
    }

    /// The form limit.
    pub fn form_limit(&self) -> usize {
        self.form_limit
    }

    fn is_allowed(&self, origin: &[u8]) -> bool {
        self.allowed_origins
            .iter()
            .any(|allowed| origin.eq_ignore_ascii_case(allowed.as_bytes()))
    }

    /// The first steps of the guard, on the request's head: whether it
    /// passes at once, which token to verify, or whether the form body
    /// must be read for it.
    pub(crate) fn screen<'a>(&self, facts: &Facts<'a>) -> Result<Next<'a>, CsrfFailure> {
        if matches!(facts.method, "GET" | "HEAD" | "OPTIONS" | "TRACE") {
            return Ok(Next::Pass);
        }
        let allowed_origin = facts.origin.is_some_and(|o| self.is_allowed(o));
        match facts.sec_fetch_site {
            Some(b"same-origin" | b"none") => {}
            Some(_) if allowed_origin => {}
            Some(_) => return Err(CsrfFailure::CrossSite),
            None => match facts.origin {
                Some(_) if allowed_origin => {}
                Some(origin) if same_origin(origin, facts.host) => {}
                Some(_) => return Err(CsrfFailure::OriginMismatch),
                None => {}
            },
        }
        match (facts.token, facts.content_type) {
            (Some(token), _) => Ok(Next::Verify(token)),
            (None, Some(content_type)) if is_urlencoded(content_type) => Ok(Next::ReadForm),
            (None, _) => Err(CsrfFailure::MissingToken),
        }
    }
}

/// What a guard reads from a request's head.
pub(crate) struct Facts<'a> {
    pub(crate) method: &'a str,
    pub(crate) sec_fetch_site: Option<&'a [u8]>,
    pub(crate) origin: Option<&'a [u8]>,
    /// The `Host` header, or the URI's authority (HTTP/2).
    pub(crate) host: Option<&'a [u8]>,
    /// The `x-csrf-token` header.
    pub(crate) token: Option<&'a [u8]>,
    pub(crate) content_type: Option<&'a [u8]>,
}

/// What a guard does after [`CsrfGuard::screen`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next<'a> {
    /// A safe method: call the inner service.
    Pass,
    /// Verify this token (from the header) against the session.
    Verify(&'a [u8]),
    /// Read the form body and verify its `csrf_token` field.
    ReadForm,
}

/// Whether `origin` (`scheme://host[:port]`) names the host and port of
/// `host` (the request's `Host`). The scheme is not compared: behind a
/// proxy that ends TLS the server cannot know it.
fn same_origin(origin: &[u8], host: Option<&[u8]>) -> bool {
    let Some(host) = host else { return false };
    let authority = [&b"https://"[..], b"http://"].iter().find_map(|scheme| {
        let head = origin.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| &origin[scheme.len()..])
    });
    authority.is_some_and(|a| !a.is_empty() && a.eq_ignore_ascii_case(host))
}

/// `application/x-www-form-urlencoded`, with parameters or not.
fn is_urlencoded(content_type: &[u8]) -> bool {
    let essence = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    essence.eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
}

/// The `csrf_token` field of a urlencoded form body: the first one. Not
/// percent-decoded: a token is base64url, which forms send as it is.
pub(crate) fn form_token(body: &[u8]) -> Option<&[u8]> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let value = pair.strip_prefix(CSRF_FIELD.as_bytes())?;
        value.strip_prefix(b"=")
    })
}

/// The event for a request a guard refused: the reason, the method and
/// the session cookie's name; for a refusal by `Sec-Fetch-Site` or
/// `Origin`, also those headers and the `Host` they were compared with
/// (public values, escaped, at most [`SHOWN_LEN`] bytes each), so that an
/// operator behind a proxy sees what to allow. Never a token, a cookie's
/// value or the path.
///
/// Warn level, but debug for [`CsrfFailure::is_routine`] refusals (a form
/// posted after its session expired or ended), as for the session cookie's
/// routine refusals: every user back from an idle timeout makes one.
pub(crate) fn log_refused(
    failure: CsrfFailure,
    method: &str,
    cookie: &str,
    facts: Option<&Facts<'_>>,
) {
    match (failure, facts) {
        (CsrfFailure::CrossSite | CsrfFailure::OriginMismatch, Some(facts)) => tracing::warn!(
            cookie,
            %failure,
            method,
            sec_fetch_site = ?shown(facts.sec_fetch_site),
            origin = ?shown(facts.origin),
            host = ?shown(facts.host),
            "request refused by the CSRF guard"
        ),
        _ if failure.is_routine() => {
            tracing::debug!(cookie, %failure, method, "request refused by the CSRF guard");
        }
        _ => tracing::warn!(cookie, %failure, method, "request refused by the CSRF guard"),
    }
}

/// The most bytes of a header a refusal's event shows.
const SHOWN_LEN: usize = 200;

/// A header for an event: its text (invalid UTF-8 replaced), cut at
/// [`SHOWN_LEN`] bytes; `None` if it did not come.
fn shown(header: Option<&[u8]>) -> Option<String> {
    header.map(|value| {
        let mut text = String::from_utf8_lossy(&value[..value.len().min(SHOWN_LEN)]).into_owned();
        if value.len() > SHOWN_LEN {
            text.push_str("...");
        }
        text
    })
}

/// The per-session secret, wiped when dropped.
type Secret = Zeroizing<[u8; SECRET_LEN]>;

/// The CSRF cookie of one request: what came, what was made of it, and a
/// secret minted for the response.
#[derive(Default)]
pub(super) struct Csrf {
    /// The cookie as it came (unopened until a token or check needs it).
    pub(super) incoming: Incoming,
    /// The incoming cookie once opened: its secret and the `issued_at`
    /// (seconds) of the session it belongs to (`None`: an empty session).
    /// Of several cookies, each that opened.
    opened: Vec<(Secret, Option<u64>)>,
    /// The incoming cookie re-sealed under the current key (it was sealed
    /// under a key that no longer seals), keeping its times.
    resealed: Option<String>,
    /// A secret minted by [`Session::csrf_token`] in this request, the
    /// session it was sealed for and its `Set-Cookie` header.
    fresh: Option<Fresh>,
}

struct Fresh {
    secret: Secret,
    bound: Option<u64>,
    header: String,
}

impl Csrf {
    /// The CSRF cookie as the request carried it.
    pub(super) fn came(incoming: Incoming) -> Self {
        Csrf {
            incoming,
            ..Csrf::default()
        }
    }

    /// At logout: the request's cookie is removed, a secret minted so far
    /// is dropped.
    pub(super) fn clear(&mut self) {
        self.retire();
        self.fresh = None;
    }

    /// At a renew (login): the request's cookie is removed, whatever
    /// session it was bound to (a renew within the second of the
    /// session's first seal keeps its `issued_at`); a secret minted in
    /// this request is ours and follows the new session.
    pub(super) fn retire(&mut self) {
        self.resealed = None;
        let came = !self.opened.is_empty() || !matches!(self.incoming, Incoming::Absent);
        self.opened.clear();
        self.incoming = if came {
            Incoming::Spent
        } else {
            Incoming::Absent
        };
    }
}

impl fmt::Debug for Csrf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csrf")
            .field("incoming", &self.incoming.name())
            .field("opened", &self.opened.len())
            .field("resealed", &self.resealed.is_some())
            .field("fresh", &self.fresh.is_some())
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Session<T> {
    /// A CSRF token for this session, to put into a form (a hidden field
    /// named [`CSRF_FIELD`], `csrf_token`) or to send in the
    /// [`CSRF_HEADER`] header (`x-csrf-token`) of unsafe requests, which a
    /// CSRF guard (`tower::CsrfLayer`,
    /// `actix::CsrfMiddleware`) or
    /// [`Session::verify_csrf_token`] checks.
    ///
    /// The secret behind it is 32 random bytes from the operating system,
    /// kept in a cookie of its own, `<name>-csrf`
    /// ([`SessionConfig::csrf_name`](crate::SessionConfig::csrf_name)),
    /// with the session cookie's attributes (`HttpOnly`: scripts never
    /// read it), sealed under the session's keyring and purpose and bound
    /// to its name: any server holding the keyring checks it, with no
    /// server-side state. It belongs to one session: sealed with the
    /// session's `issued_at` (or "no session"), it is refused once the
    /// session is cleared, first stored, or renewed ([`Session::renew`], at
    /// login: the response also removes the request's CSRF cookie), and
    /// the next `csrf_token` makes a new one. It lives as long
    /// as the session's absolute lifetime. Call `csrf_token` after
    /// [`Session::renew`] or the first [`Session::set`] in a handler: a
    /// secret minted in the same request follows the session's final
    /// `issued_at`, one that came with the request does not.
    ///
    /// Each call returns another string (the secret XORed with a fresh
    /// random mask, 86 base64url characters), so a token in a compressed
    /// page does not leak through the page's length (BREACH); all of them
    /// stay valid together. The mask comes from the operating system's
    /// generator, so a forked worker's tokens are not its parent's.
    ///
    /// ```no_run
    /// # fn page(session: sealed_session::Session<u64>) -> sealed_session::Result<String> {
    /// let token = session.csrf_token()?;
    /// Ok(format!(
    ///     r#"<form method="post" action="/transfer">
    ///          <input type="hidden" name="csrf_token" value="{token}">
    ///          <button>Send</button>
    ///        </form>"#
    /// ))
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system's generator fails,
    /// [`ConfigError::NoSealingKey`]; on error nothing changes.
    pub fn csrf_token(&self) -> Result<String> {
        let mut state = self.shared.lock();
        if let Some(fresh) = &state.csrf.fresh {
            return mask(&fresh.secret);
        }
        let current = state.times.map(|t| t.issued_at.secs());
        self.open_csrf(&mut state.csrf);
        // The secret of the cookie of this session: of several (one may be
        // planted beside an empty session) the first, the same one at
        // every page while the browser sends them in one order, so that
        // earlier pages' tokens keep passing; `verify_csrf` takes a token
        // of any of them.
        let ours = state
            .csrf
            .opened
            .iter()
            .find(|(_, bound)| *bound == current);
        if let Some((secret, _)) = ours {
            return mask(secret);
        }
        let mut secret = Secret::default();
        rand::rngs::OsRng
            .try_fill_bytes(&mut secret[..])
            .map_err(|_| Error::Rng)?;
        let token = mask(&secret)?;
        let header = seal_csrf(&self.shared.config, &secret, current)?;
        warn_if_finished(&self.shared.config, &state);
        state.csrf.fresh = Some(Fresh {
            secret,
            bound: current,
            header,
        });
        Ok(token)
    }

    /// Checks a CSRF token (from [`Session::csrf_token`]) against the
    /// request's CSRF cookie, as the guards do after their header checks.
    /// For a handler that reads the token itself (a multipart form, a
    /// JSON field); a guard already did it for the requests it passed.
    ///
    /// # Errors
    /// [`CsrfFailure::MissingCookie`], [`CsrfFailure::OtherSession`] or
    /// [`CsrfFailure::WrongToken`].
    pub fn verify_csrf_token(&self, token: &str) -> Result<(), CsrfFailure> {
        self.verify_csrf(token.as_bytes())
    }

    pub(crate) fn verify_csrf(&self, token: &[u8]) -> Result<(), CsrfFailure> {
        let mut state = self.shared.lock();
        let current = state.times.map(|t| t.issued_at.secs());
        self.open_csrf(&mut state.csrf);
        let opened = &state.csrf.opened;
        if opened.is_empty() {
            return Err(CsrfFailure::MissingCookie);
        }
        let mut ours = opened
            .iter()
            .filter(|(_, bound)| *bound == current)
            .peekable();
        if ours.peek().is_none() {
            return Err(CsrfFailure::OtherSession);
        }
        // Of several of this session's (one may be planted beside an
        // empty session), the token may be of any.
        if ours.any(|(secret, _)| unmask_matches(token, secret)) {
            Ok(())
        } else {
            Err(CsrfFailure::WrongToken)
        }
    }

    /// Opens the CSRF cookie that came, once. One that does not open is
    /// used up: the response removes it (unless a new one replaces it). Of
    /// several, each that opens is kept and none is removed (see
    /// [`Incoming::Several`]).
    fn open_csrf(&self, csrf: &mut Csrf) {
        let config = &self.shared.config;
        let open = |sealed: &str| {
            let opened = config.csrf_sealer().open::<CsrfValue>(sealed);
            if let Err(error) = &opened {
                super::request::log_refused_named(config.csrf_name(), "CSRF", error);
            }
            opened.ok()
        };
        let keep = |csrf: &mut Csrf, mut opened: Opened<CsrfValue>| {
            let secret = Zeroizing::new(opened.value.0);
            opened.value.0.zeroize();
            csrf.opened.push((secret, opened.value.1));
        };
        match core::mem::take(&mut csrf.incoming) {
            Incoming::Sealed(sealed) => match open(&sealed) {
                Some(opened) => {
                    if opened.needs_reseal {
                        // As for the session cookie: the same secret and
                        // times under the current key, so removing the old
                        // key does not break the forms already rendered.
                        csrf.resealed = reseal_csrf(config, &opened);
                    }
                    keep(csrf, opened);
                }
                None => csrf.incoming = Incoming::Spent,
            },
            Incoming::Several(values) => {
                // Room for all first: a reallocation would free the
                // secrets pushed so far unwiped.
                csrf.opened.reserve_exact(values.len());
                // Not re-sealed: the one written back would be ours only
                // if no other of this session came.
                for sealed in &values {
                    if let Some(opened) = open(sealed) {
                        keep(csrf, opened);
                    }
                }
            }
            other => csrf.incoming = other,
        }
    }

    /// The CSRF cookie's header for the response, after the session's:
    /// a secret minted in this request (sealed again if the session's
    /// `issued_at` changed after it was minted); the removal of one that
    /// came and did not open, or of any at logout ([`Session::clear`]) or
    /// renew; the one that came, re-sealed under the current key, if it was
    /// opened (by a token or a check) and its key no longer seals;
    /// otherwise nothing.
    pub(super) fn decide_csrf(&self) -> Option<String> {
        let mut state = self.shared.lock();
        let current = state.times.map(|t| t.issued_at.secs());
        let csrf = core::mem::take(&mut state.csrf);
        drop(state);
        let config = &self.shared.config;
        match csrf {
            Csrf {
                fresh: Some(fresh), ..
            } if fresh.bound == current => Some(fresh.header),
            Csrf {
                fresh: Some(fresh), ..
            } => match seal_csrf(config, &fresh.secret, current) {
                Ok(header) => Some(header),
                Err(error) => {
                    tracing::error!(
                        cookie = config.csrf_name(),
                        %error,
                        "CSRF cookie could not be sealed for the session's new lifetime"
                    );
                    matches!(csrf.incoming, Incoming::Spent)
                        .then(|| config.removal_cookie_named(config.csrf_name()))
                }
            },
            Csrf {
                incoming: Incoming::Spent,
                ..
            } => Some(config.removal_cookie_named(config.csrf_name())),
            Csrf {
                resealed: Some(header),
                ..
            } => Some(header),
            Csrf { .. } => None,
        }
    }
}

/// The `Set-Cookie` header of the CSRF cookie holding `secret` for the
/// session issued at `bound` (sealed with that `issued_at`, so it expires
/// with the session; fresh for `None`).
fn seal_csrf(config: &super::SessionConfig, secret: &Secret, bound: Option<u64>) -> Result<String> {
    let payload = (&**secret, bound);
    let (header, _) = seal_header(
        config,
        config.csrf_sealer(),
        config.csrf_name(),
        &payload,
        bound.map(UnixTime::from_secs),
        false,
    )?;
    Ok(header)
}

/// The CSRF cookie that came, `opened` under a key that no longer seals,
/// re-sealed under the current key with its own times; `None` (and an
/// error event) if that fails: it keeps opening while its key is listed.
fn reseal_csrf(config: &super::SessionConfig, opened: &Opened<CsrfValue>) -> Option<String> {
    let sealer = config.csrf_sealer();
    let left = opened
        .expires_at
        .duration_since(sealer.now())
        .unwrap_or_default();
    let resealed = sealer
        .reseal(opened)
        .and_then(|value| config.set_cookie_named(config.csrf_name(), &value, left));
    match resealed {
        Ok(header) => Some(header),
        Err(error) => {
            tracing::error!(
                cookie = config.csrf_name(),
                key_id = %opened.key_id,
                %error,
                "CSRF cookie could not be re-sealed under the current key"
            );
            None
        }
    }
}

/// A masked token: a fresh random mask, then the secret XORed with it,
/// base64url without padding.
///
/// The mask comes from the operating system, not from a generator in the
/// process: a forked worker holds a copy of its parent's generators, and
/// would hand out the very masks its parent hands out next.
fn mask(secret: &Secret) -> Result<String> {
    let mut bytes = Zeroizing::new([0_u8; 2 * SECRET_LEN]);
    let (mask, masked) = bytes.split_at_mut(SECRET_LEN);
    rand::rngs::OsRng
        .try_fill_bytes(mask)
        .map_err(|_| Error::Rng)?;
    for ((out, m), s) in masked.iter_mut().zip(mask.iter()).zip(secret.iter()) {
        *out = m ^ s;
    }
    Ok(URL_SAFE_NO_PAD.encode(&bytes[..]))
}

/// Whether `token` unmasks to `secret`, compared without an early exit.
fn unmask_matches(token: &[u8], secret: &Secret) -> bool {
    let mut bytes = Zeroizing::new([0_u8; 2 * SECRET_LEN]);
    // A token has exactly 86 characters: anything else is no token (and
    // never reaches the decoder's buffer size).
    if token.len() != 86
        || URL_SAFE_NO_PAD.decode_slice(token, &mut bytes[..]) != Ok(2 * SECRET_LEN)
    {
        return false;
    }
    let (mask, masked) = bytes.split_at(SECRET_LEN);
    let diff = mask
        .iter()
        .zip(masked)
        .zip(secret.iter())
        .fold(0_u8, |acc, ((m, x), s)| acc | (m ^ x ^ s));
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests;

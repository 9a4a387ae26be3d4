//! The cookie itself, a leaf: its attributes, strict `Cookie` header
//! parsing and `Set-Cookie` formatting. Nothing here knows an HTTP
//! framework, a sealer or a session. Both by hand: the `cookie` crate's
//! parser trims Unicode whitespace from names, which would read a name a
//! browser keeps apart from ours (`\u{2000}__Host-session`) as ours, and
//! its formatter took a fifth of a request's work in the session layer
//! (a test keeps our `Set-Cookie` identical to its).

// Without an adapter feature only the configuration types are used: the
// protocol below serves the adapters.
#![cfg_attr(not(any(feature = "tower", feature = "actix")), allow(dead_code))]

use std::time::Duration;

use crate::error::CookieProblem;

mod chunks;
pub(crate) use chunks::{chunk_bit, chunk_name, cut, plan, Carried};
pub use chunks::{Chunking, DEFAULT_CHUNK_BUDGET, DEFAULT_MAX_CHUNKS, MAX_CHUNKS};

/// The most bytes a `Set-Cookie` header value may have: the cookie's name,
/// value and attributes together. Browsers keep at least this much per
/// cookie (RFC 6265 §6.1) and may drop anything longer without a word, so a
/// longer cookie is never sent: storing such a session fails with
/// [`SealError::TooLarge`](crate::SealError::TooLarge) instead.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The most cookies carrying the session's name that one request may hold
/// before all of them are ignored unopened (bounded work per request).
pub const MAX_SAME_NAME_COOKIES: usize = 8;

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SameSite {
    /// Sent only on requests from the same site.
    Strict,
    /// Sent on same-site requests and on top-level navigations from other
    /// sites (the default: links into the site keep the user logged in,
    /// cross-site form posts do not carry the session).
    #[default]
    Lax,
    /// Sent on every request, cross-site included. Requires `Secure`.
    None,
}

impl SameSite {
    /// The attribute as `Set-Cookie` writes it.
    fn attribute(self) -> &'static str {
        match self {
            SameSite::Strict => "; SameSite=Strict",
            SameSite::Lax => "; SameSite=Lax",
            SameSite::None => "; SameSite=None",
        }
    }
}

/// The attributes of the session cookie. The defaults are the secure ones:
/// `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, no `Domain` (host-only),
/// and a `Max-Age` equal to the time the sealed value has left (the
/// sealer's TTL for a freshly sealed value).
///
/// The cookie's *name* is not set here: it is the [`Sealer`](crate::Sealer)'s name, which
/// is bound into every sealed value. A name starting with `__Host-` (for
/// example `Sealer::new(keyring).with_name("__Host-session")`) is recommended:
/// browsers then refuse the cookie unless it is `Secure`, has `Path=/` and
/// no `Domain`, so a sibling subdomain cannot plant a cookie of that name
/// ("cookie tossing"). [`SessionConfig::new`](crate::SessionConfig::new) enforces those rules, and the
/// `Secure` rule for `__Secure-` names.
///
/// ```
/// use sealed_session::{CookieOptions, SameSite};
/// let options = CookieOptions::default()
///     .with_same_site(SameSite::Strict)
///     .with_path("/app");
/// assert_eq!(options.path(), "/app");
/// assert_eq!(options.same_site(), SameSite::Strict);
/// assert!(options.is_secure());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieOptions {
    path: String,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    persistent: bool,
    chunking: Option<Chunking>,
}

impl Default for CookieOptions {
    fn default() -> Self {
        CookieOptions {
            path: "/".into(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            persistent: true,
            chunking: None,
        }
    }
}

impl CookieOptions {
    /// The `Path` attribute (default `/`). Must start with `/`.
    #[must_use]
    pub fn with_path(mut self, path: &str) -> Self {
        self.path = path.into();
        self
    }

    /// The `Domain` attribute (default: none, a host-only cookie). Setting
    /// it sends the cookie to every subdomain too; not allowed with a
    /// `__Host-` name.
    #[must_use]
    pub fn with_domain(mut self, domain: &str) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The `Secure` attribute (default `true`): the browser sends the
    /// cookie over HTTPS only (and to `http://localhost`, which Chrome and
    /// Firefox treat as secure). Turn it off only for plain-HTTP development
    /// on other hosts.
    #[must_use]
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The `HttpOnly` attribute (default `true`): scripts cannot read the
    /// cookie.
    #[must_use]
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The `SameSite` attribute (default [`SameSite::Lax`]).
    #[must_use]
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Whether the cookie carries a `Max-Age` (default `true`: the time
    /// the sealed value has left). With `false` it is a browser-session
    /// cookie, dropped when the browser closes; the sealed value still
    /// expires after the sealer's TTL either way.
    #[must_use]
    pub fn with_persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// Writes a session too large for one cookie over several, as
    /// `chunking` says (default: off, and a session whose `Set-Cookie`
    /// would pass [`MAX_COOKIE_BYTES`] is refused when it is stored). A
    /// session that fits one cookie is written as without chunking. The
    /// session's sealer then seals and opens values up to
    /// [`Chunking::budget`] bytes long ([`SessionConfig::with_options`]
    /// sets its [`Sealer::max_len`] to the budget).
    ///
    /// Every server that reads the session must have chunking on, with
    /// the same or a larger [`Chunking::max_cookies`] and
    /// [`Chunking::budget`]: one without chunking, or with a lower maximum
    /// than the session was written with, refuses it (an empty session, its
    /// cookies removed), and one with a smaller budget refuses a value
    /// longer than its budget the same way.
    ///
    /// The chunk names `NAME.1` to `NAME.15` belong to the session, with
    /// chunking on or off, and must not be used by other cookies of the
    /// application: whenever a response writes or removes the session
    /// cookie, it also removes every one of them the request carried that
    /// is not part of what it writes (so lowering the maximum, or turning
    /// chunking off, leaves no chunk behind). A response that does not
    /// touch the session cookie removes none, and without such cookies in
    /// the request nothing changes on the wire.
    ///
    /// ```
    /// use sealed_session::{Chunking, CookieOptions, Keyring, Sealer, SessionConfig};
    /// let options = CookieOptions::default().with_chunking(Chunking::default());
    /// let sealer = Sealer::new(Keyring::ephemeral()?).with_name("__Host-session");
    /// let config = SessionConfig::with_options(sealer, options)?;
    /// assert_eq!(config.sealer().max_len(), sealed_session::DEFAULT_CHUNK_BUDGET);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// [`SessionConfig::with_options`]: crate::SessionConfig::with_options
    /// [`Sealer::max_len`]: crate::Sealer::max_len
    #[must_use]
    pub fn with_chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = Some(chunking);
        self
    }

    /// How a session larger than one cookie is written, if it may be.
    pub fn chunking(&self) -> Option<Chunking> {
        self.chunking
    }

    /// How many cookies the session is read from and written to: 1
    /// without chunking.
    pub(crate) fn max_chunks(&self) -> usize {
        self.chunking.map_or(1, |c| c.max_cookies())
    }

    /// The `Path` attribute.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `Domain` attribute, if any.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Whether the cookie is `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether the cookie is `HttpOnly`.
    pub fn is_http_only(&self) -> bool {
        self.http_only
    }

    /// The `SameSite` attribute.
    pub fn same_site(&self) -> SameSite {
        self.same_site
    }

    /// Whether the cookie carries a `Max-Age`.
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }
}

/// The `Set-Cookie` header value for the cookie `name` = `value` with
/// `options`, and a `Max-Age` when `max_age` is given (rounded down to whole
/// seconds). `name` and `options` must have passed [`check`].
///
/// Written here, in one allocation, in the form (attribute order and
/// spelling) the `cookie` crate gives: a test compares the two on every
/// combination of options.
pub(crate) fn format(
    name: &str,
    value: &str,
    options: &CookieOptions,
    max_age: Option<Duration>,
) -> String {
    // "; HttpOnly; SameSite=Strict; Secure; Path=; Domain=; Max-Age=" and
    // 19 digits: 82 bytes.
    let domain = options
        .domain
        .as_deref()
        .map(|d| d.strip_prefix('.').unwrap_or(d));
    let mut out = String::with_capacity(
        name.len() + 1 + value.len() + options.path.len() + domain.map_or(0, str::len) + 82,
    );
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    if options.http_only {
        out.push_str("; HttpOnly");
    }
    out.push_str(options.same_site.attribute());
    if options.secure {
        out.push_str("; Secure");
    }
    out.push_str("; Path=");
    out.push_str(&options.path);
    if let Some(domain) = domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    if let Some(max_age) = max_age {
        let secs = max_age.as_secs().min(i64::MAX as u64);
        out.push_str("; Max-Age=");
        push_decimal(&mut out, secs);
    }
    out
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// RFC 6265 `cookie-name` is an RFC 7230 token.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The `name=value` pairs of one `Cookie` header value, left to right, as
/// bytes: every cookie of the header in one pass, for the session layer to
/// pick its own (the session's, its chunks', the flash and CSRF cookies')
/// by comparing names with its own byte for byte.
///
/// Strict on purpose (DESIGN decision 11): the header is split at `;`; in
/// each piece the name is what comes before the first `=` and the value
/// what comes after it, each trimmed of SP and HTAB only, which is what a
/// browser trims when it stores a cookie (RFC 6265 §5.2). So any other
/// byte, a Unicode space included, makes a name another name. A piece
/// without `=` (a nameless cookie, or an empty piece) is skipped. The value
/// is not unquoted or percent-decoded, and decoded as UTF-8 only by the
/// reader whose name it carries, so a neighbour's bytes never hide ours.
/// Never allocates.
pub(crate) fn pairs(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    pieces(header).filter_map(|piece| {
        let eq = piece.iter().position(|&b| b == b'=')?;
        Some((trim_sp_htab(&piece[..eq]), trim_sp_htab(&piece[eq + 1..])))
    })
}

/// The values of the cookies called `name` in one `Cookie` header value,
/// read by [`pairs`], as UTF-8; `name` must be a token (as [`check`] makes
/// sure).
#[cfg(test)]
pub(crate) fn named_values<'h, 'n>(
    header: &'h [u8],
    name: &'n str,
) -> impl Iterator<Item = Result<&'h str, core::str::Utf8Error>> + use<'h, 'n> {
    debug_assert!(is_token(name));
    pairs(header)
        .filter(move |(pair_name, _)| *pair_name == name.as_bytes())
        .map(|(_, value)| core::str::from_utf8(value))
}

/// The pieces of `header` between `;`s, as `header.split(|&b| b == b';')`
/// gives them, found eight bytes at a time: a sealed value is a few hundred
/// bytes without a `;`, and the session layer reads every header.
pub(crate) fn pieces(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(header);
    core::iter::from_fn(move || {
        let bytes = rest?;
        match find_semicolon(bytes) {
            Some(at) => {
                rest = Some(&bytes[at + 1..]);
                Some(&bytes[..at])
            }
            None => {
                rest = None;
                Some(bytes)
            }
        }
    })
}

/// The position of the first `;` in `bytes`: eight bytes at a time (a
/// word whose bytes are XORed with `;` has a zero byte where a `;` was;
/// the lowest byte the classic zero-byte test flags is always a real
/// one), then byte by byte.
fn find_semicolon(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const SEMICOLONS: u64 = ONES * b';' as u64;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let x = u64::from_le_bytes(le) ^ SEMICOLONS;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter().position(|&b| b == b';').map(|i| at + i)
}

/// `s` without leading and trailing SP and HTAB (RFC 5234 `WSP`), and
/// nothing else: not the other ASCII or Unicode whitespace.
fn trim_sp_htab(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn is_attribute_safe(s: &str) -> bool {
    s.chars().all(|c| c != ';' && !c.is_control())
}

fn has_prefix_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Checks a cookie name and its attributes against the cookie rules: a
/// token name, a safe path and domain, the `__Host-` and `__Secure-` prefix
/// rules (compared case-insensitively, as browsers do) and `SameSite=None`
/// only with `Secure`.
pub(crate) fn check(name: &str, o: &CookieOptions) -> Result<(), CookieProblem> {
    if !is_token(name) {
        return Err(CookieProblem::Name);
    }
    if !o.path.starts_with('/') || !is_attribute_safe(&o.path) {
        return Err(CookieProblem::Path);
    }
    if let Some(domain) = &o.domain {
        // One leading dot is allowed (and dropped when written), as
        // browsers ignore it; more is no domain.
        let domain = domain.strip_prefix('.').unwrap_or(domain);
        if domain.is_empty()
            || domain.starts_with('.')
            || !is_attribute_safe(domain)
            || domain.chars().any(char::is_whitespace)
        {
            return Err(CookieProblem::Domain);
        }
    }
    // Browsers compare these prefixes case-insensitively.
    if has_prefix_ignore_case(name, "__Host-") && (!o.secure || o.path != "/" || o.domain.is_some())
    {
        return Err(CookieProblem::HostPrefix);
    }
    if has_prefix_ignore_case(name, "__Secure-") && !o.secure {
        return Err(CookieProblem::SecurePrefix);
    }
    if o.same_site == SameSite::None && !o.secure {
        return Err(CookieProblem::SameSiteNone);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The word-at-a-time split gives what `split` on `;` gives, for
        /// any bytes (`;` made likely).
        #[test]
        fn pieces_are_split_at_every_semicolon(
            header in proptest::collection::vec(
                proptest::prop_oneof![proptest::strategy::Just(b';'), proptest::num::u8::ANY],
                0..200,
            ),
        ) {
            let ours: Vec<&[u8]> = pieces(&header).collect();
            let std: Vec<&[u8]> = header.split(|&b| b == b';').collect();
            proptest::prop_assert_eq!(ours, std);
        }
    }

    /// The form the `cookie` crate writes, for the same cookie.
    fn by_the_cookie_crate(
        name: &str,
        value: &str,
        options: &CookieOptions,
        max_age: Option<Duration>,
    ) -> String {
        let mut cookie = ::cookie::Cookie::new(name, value);
        cookie.set_http_only(options.http_only);
        cookie.set_same_site(match options.same_site {
            SameSite::Strict => ::cookie::SameSite::Strict,
            SameSite::Lax => ::cookie::SameSite::Lax,
            SameSite::None => ::cookie::SameSite::None,
        });
        cookie.set_secure(options.secure);
        cookie.set_path(options.path.as_str());
        if let Some(domain) = &options.domain {
            cookie.set_domain(domain.as_str());
        }
        if let Some(max_age) = max_age {
            let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            cookie.set_max_age(::cookie::time::Duration::seconds(secs));
        }
        cookie.to_string()
    }

    #[test]
    fn formatted_as_the_cookie_crate_does() {
        for same_site in [SameSite::Strict, SameSite::Lax, SameSite::None] {
            for (secure, http_only) in [(true, true), (true, false), (false, true), (false, false)]
            {
                for domain in [None, Some("example.com"), Some(".example.com")] {
                    for path in ["/", "/app/x"] {
                        for max_age in [None, Some(0), Some(59), Some(86_400), Some(u64::MAX)] {
                            let mut options = CookieOptions::default()
                                .with_same_site(same_site)
                                .with_secure(secure)
                                .with_http_only(http_only)
                                .with_path(path);
                            if let Some(domain) = domain {
                                options = options.with_domain(domain);
                            }
                            let max_age = max_age.map(Duration::from_secs);
                            for (name, value) in [("session", "AQEx-_9"), ("__Host-s.1", "")] {
                                assert_eq!(
                                    format(name, value, &options, max_age),
                                    by_the_cookie_crate(name, value, &options, max_age),
                                    "{options:?} {max_age:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    fn header(name: &str, value: &str, options: &CookieOptions, max_age: Option<u64>) -> String {
        format(name, value, options, max_age.map(Duration::from_secs))
    }

    #[test]
    fn defaults_are_secure() {
        assert_eq!(
            header("session", "abc", &CookieOptions::default(), Some(86_400)),
            "session=abc; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400"
        );
    }

    #[test]
    fn removal_keeps_path_and_domain() {
        let options = CookieOptions::default()
            .with_path("/app")
            .with_domain("example.com");
        assert_eq!(
            header("s", "", &options, Some(0)),
            "s=; HttpOnly; SameSite=Lax; Secure; Path=/app; Domain=example.com; Max-Age=0"
        );
    }

    #[test]
    fn prefix_rules_are_enforced() {
        let d = CookieOptions::default;
        let host = |o| check("__Host-s", &o);
        assert_eq!(host(d()), Ok(()));
        assert_eq!(host(d().with_secure(false)), Err(CookieProblem::HostPrefix));
        assert_eq!(host(d().with_path("/a")), Err(CookieProblem::HostPrefix));
        assert_eq!(
            host(d().with_domain("example.com")),
            Err(CookieProblem::HostPrefix)
        );
        assert_eq!(
            check("__host-s", &d().with_secure(false)),
            Err(CookieProblem::HostPrefix)
        );
        assert_eq!(
            check("__Secure-s", &d().with_secure(false)),
            Err(CookieProblem::SecurePrefix)
        );
        let none = d().with_same_site(SameSite::None).with_secure(false);
        assert_eq!(check("s", &none), Err(CookieProblem::SameSiteNone));
    }

    #[test]
    fn attribute_injection_is_refused() {
        let d = CookieOptions::default;
        assert_eq!(check("a;b", &d()), Err(CookieProblem::Name));
        assert_eq!(check("a b", &d()), Err(CookieProblem::Name));
        assert_eq!(check("", &d()), Err(CookieProblem::Name));
        assert_eq!(check("a=b", &d()), Err(CookieProblem::Name));
        for path in ["/; Domain=x", "/\r\nX: y", "app"] {
            assert_eq!(
                check("s", &d().with_path(path)),
                Err(CookieProblem::Path),
                "{path:?}"
            );
        }
        for domain in ["a.com; Secure", "", "a .com", ".", "..a.com"] {
            assert_eq!(
                check("s", &d().with_domain(domain)),
                Err(CookieProblem::Domain),
                "{domain:?}"
            );
        }
        assert_eq!(check("s", &d().with_domain(".a.com")), Ok(()));
    }

    /// Our values in one header, `Err` shown as `None`.
    fn values<'h>(header: &'h [u8], name: &str) -> Vec<Option<&'h str>> {
        named_values(header, name).map(Result::ok).collect()
    }

    #[test]
    fn values_in_order_and_junk_skipped() {
        let headers: [&[u8]; 4] = [
            b"session=one; other=x",
            b"\xff\xfe session=bad-utf8",
            b"junk;;=;  session = two ; Session=case",
            b"sessionx=no; xsession=no",
        ];
        let all: Vec<_> = headers.iter().flat_map(|h| values(h, "session")).collect();
        assert_eq!(all, [Some("one"), Some("two")]);
    }

    /// A browser keeps a name behind a Unicode space apart from ours and
    /// lets any sibling subdomain set it, so it must not read as our
    /// `__Host-` cookie (the `cookie` crate's parser trims such spaces).
    #[test]
    fn unicode_whitespace_name_is_not_host_prefixed_session() {
        let name = "__Host-session";
        for space in [
            "\u{2000}", "\u{00A0}", "\u{FEFF}", "\u{3000}", "\u{85}", "\u{200B}",
        ] {
            for header in [
                format!("{space}__Host-session=planted"),
                format!("__Host-session{space}=planted"),
                format!("a=1; {space}__Host-session=planted; b=2"),
                format!("a=1;{space} __Host-session =planted"),
            ] {
                assert_eq!(values(header.as_bytes(), name), [], "{header:?}");
            }
        }
        // Other ASCII whitespace is not trimmed either: a browser trims SP
        // and HTAB only.
        for space in ["\n", "\r", "\x0b", "\x0c"] {
            let header = format!("{space}__Host-session=planted");
            assert_eq!(values(header.as_bytes(), name), [], "{header:?}");
        }
        // Next to a planted one, ours is the only value.
        let header = "\u{2000}__Host-session=planted; __Host-session=ours";
        assert_eq!(values(header.as_bytes(), name), [Some("ours")]);
    }

    #[test]
    fn only_sp_and_htab_are_trimmed() {
        let v = |h: &'static str| values(h.as_bytes(), "s");
        assert_eq!(v("s=a"), [Some("a")]);
        assert_eq!(v(" \t s \t = \t a \t ;"), [Some("a")]);
        assert_eq!(v("\ts=a\t;\ts=b"), [Some("a"), Some("b")]);
        assert_eq!(v("s=a b"), [Some("a b")], "inside a value: kept");
        assert_eq!(v("s=\u{2000}a\u{2000}"), [Some("\u{2000}a\u{2000}")]);
        assert_eq!(v("s =a; S=b; s\u{A0}=c"), [Some("a")]);
    }

    #[test]
    fn empty_pairs_equals_and_quotes() {
        let v = |h: &'static str| values(h.as_bytes(), "s");
        assert_eq!(v(""), []);
        assert_eq!(v(";;; ;\t;"), []);
        assert_eq!(v("s"), [], "no `=`: a nameless cookie, not ours");
        assert_eq!(v("=s; =; s"), []);
        assert_eq!(v("s="), [Some("")], "ours, empty: refused later");
        assert_eq!(v("s=="), [Some("=")]);
        assert_eq!(
            v("s=a=b=; t=s=c"),
            [Some("a=b=")],
            "value after the first `=`"
        );
        assert_eq!(v("s=\"a\""), [Some("\"a\"")], "quotes are kept");
        assert_eq!(
            v("s=\"a;b\""),
            [Some("\"a")],
            "`;` ends a pair, quoted or not"
        );
        assert_eq!(v(";s=a;;s=b;"), [Some("a"), Some("b")]);
    }

    #[test]
    fn non_utf8_neighbours_hide_nothing() {
        let v = |h: &'static [u8]| values(h, "s");
        assert_eq!(v(b"\xff=\xfe; s=a"), [Some("a")], "before");
        assert_eq!(v(b"s=a; t=\xff\xfe"), [Some("a")], "after");
        assert_eq!(v(b"\xc3=1;s=a;\xff"), [Some("a")], "both");
        assert_eq!(v(b"t\xff=1; s=a"), [Some("a")], "in a name");
        assert_eq!(
            v(b"\xffs=a; s\xff=b"),
            [],
            "a name with other bytes is not ours"
        );
        // Our own value that is not UTF-8: still ours, an `Err`.
        assert_eq!(v(b"s=a\xff; s=b"), [None, Some("b")]);
        // A multi-byte character split by `;` does not matter either.
        assert_eq!(v(b"t=\xe2\x80;s=a;\x80"), [Some("a")]);
    }

    #[test]
    fn names_compare_byte_for_byte() {
        let v = |h: &'static str| values(h.as_bytes(), "__Host-s");
        assert_eq!(v("__host-s=a; __HOST-S=b; __Host-s=c"), [Some("c")]);
        assert_eq!(v("__Host-s%20=a; %5F_Host-s=b"), []);
    }
}

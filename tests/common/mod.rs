//! The acceptance suite every adapter runs: real servers on 127.0.0.1:0,
//! a real HTTP client (hyper's own client connection) and a tiny cookie jar.
//!
//! # Plugging in an adapter
//!
//! An adapter's test file (`tests/hyper.rs`, `tests/actix.rs`, ...) does:
//!
//! ```ignore
//! mod common;
//! use common::{route, TestServer, TestSession};
//!
//! fn start(config: sealed_session::SessionConfig) -> TestServer { ... }
//!
//! acceptance_suite!(start);
//! ```
//!
//! `start` must, when called from inside a tokio runtime, start a server on
//! `127.0.0.1:0` (its own runtime or thread is fine) using `config` for the
//! session with `Session<TestSession>`, and return its address plus a
//! guard that stops it when dropped. The server implements this contract:
//!
//! - every path except `/no-layer` is wrapped by the adapter's session
//!   layer/middleware; its handler takes the `Session<TestSession>` the
//!   adapter's way and answers `route(path_and_query, &session)`: the
//!   status code and the body (text/plain) it returns, nothing else;
//! - paths under `/nested/` are wrapped, inside that one, by a second
//!   layer/middleware with the same config (as on a nested router or
//!   scope); `route` serves them as the same path without `/nested`;
//! - `GET /no-layer` is served *without* the layer/middleware; its handler
//!   asks for `Session<TestSession>` the adapter's way, must get the
//!   adapter's missing-session error, and answers `500` with an empty body.
//!
//! The suite then checks everything on the wire: `Set-Cookie` headers,
//! statuses and bodies.

#![allow(dead_code)]

pub(crate) mod capture;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{COOKIE, HOST, SET_COOKIE};
use hyper_util::rt::TokioIo;
use sealed_session::{
    CookieOptions, Error, Key, KeyEntry, KeyId, Keyring, Refusal, SameSite, SealError, Sealer,
    Session, SessionConfig, MAX_COOKIE_BYTES, MAX_SAME_NAME_COOKIES,
};
use serde::{Deserialize, Serialize};

/// The session every adapter's test server holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TestSession {
    pub(crate) username: Option<String>,
    pub(crate) counter: u64,
    pub(crate) blob: String,
}

/// The routes every adapter's test server answers (see the module docs).
///
/// - `/set?username=NAME`: stores the username; `200 ok`.
/// - `/get`: `200 USERNAME:COUNTER` (`:0` for an empty session); never writes.
/// - `/count`: increments the counter; `200 COUNTER`.
/// - `/logout`: clears the session; `200 ok`.
/// - `/big?len=N`: stores a blob of N bytes; `200 ok`, or `413` with an
///   empty body when the session would not fit in a cookie.
pub(crate) fn route(path_and_query: &str, session: &Session<TestSession>) -> (u16, String) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let path = path.strip_prefix("/nested").unwrap_or(path);
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or("")
            .to_owned()
    };
    let stored = |result: Result<(), Error>| match result {
        Ok(()) => (200, "ok".to_owned()),
        Err(Error::Seal(SealError::TooLarge { .. })) => (413, String::new()),
        Err(_) => (500, String::new()),
    };
    match path {
        "/set" => stored(session.update(|s| s.username = Some(param("username")))),
        "/get" => {
            let s = session.get().unwrap_or_default();
            (
                200,
                format!("{}:{}", s.username.unwrap_or_default(), s.counter),
            )
        }
        "/count" => match session.update(|s| {
            s.counter += 1;
            s.counter
        }) {
            Ok(n) => (200, n.to_string()),
            Err(_) => (500, String::new()),
        },
        "/logout" => {
            session.clear();
            (200, "ok".to_owned())
        }
        "/big" => {
            let len = param("len").parse().unwrap_or(0);
            stored(session.update(|s| s.blob = "x".repeat(len)))
        }
        _ => (404, String::new()),
    }
}

/// A running test server; dropping it stops the server.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    _guard: Box<dyn Send>,
}

impl TestServer {
    pub(crate) fn new(addr: SocketAddr, guard: impl Send + 'static) -> Self {
        TestServer {
            addr,
            _guard: Box::new(guard),
        }
    }
}

/// How an adapter starts its test server.
pub(crate) type Start = fn(SessionConfig) -> TestServer;

/// One response as the client saw it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) body: String,
}

impl Reply {
    /// The one `Set-Cookie` of this response.
    #[track_caller]
    pub(crate) fn only_cookie(&self) -> &str {
        assert_eq!(self.set_cookies.len(), 1, "{self:?}");
        &self.set_cookies[0]
    }
}

/// `GET path` with the given `Cookie` header values (one header each).
pub(crate) async fn get(addr: SocketAddr, path: &str, cookie_headers: &[String]) -> Reply {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the test server");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1 handshake");
        let conn = tokio::spawn(conn);
        let mut req = hyper::Request::get(path).header(HOST, "localhost");
        for value in cookie_headers {
            req = req.header(COOKIE, value);
        }
        let req = req.body(Empty::<Bytes>::new()).expect("valid request");
        let res = sender.send_request(req).await.expect("response");
        let status = res.status().as_u16();
        let set_cookies = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII Set-Cookie").to_owned())
            .collect();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        drop(sender);
        conn.await.expect("connection task").expect("connection");
        Reply {
            status,
            set_cookies,
            body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
        }
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("request finished in time")
}

/// A minimal cookie jar: names to values, no paths or domains.
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar(BTreeMap<String, String>);

impl Jar {
    /// Stores or removes what the response's `Set-Cookie` headers say.
    pub(crate) fn apply(&mut self, reply: &Reply) {
        for header in &reply.set_cookies {
            let (pair, attrs) = header.split_once(';').unwrap_or((header, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            let removed = attrs
                .split(';')
                .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            if removed {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The `Cookie` header values to send (one header, or none).
    pub(crate) fn headers(&self) -> Vec<String> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        vec![pairs.join("; ")]
    }

    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    /// `GET path` with this jar's cookies; the reply's cookies go back in.
    pub(crate) async fn get(&mut self, addr: SocketAddr, path: &str) -> Reply {
        let reply = get(addr, path, &self.headers()).await;
        self.apply(&reply);
        reply
    }
}

/// A clock the test moves by hand, shared by every sealer of a test.
#[derive(Clone)]
pub(crate) struct TestClock(Arc<AtomicU64>);

/// 2030-03-17T17:46:40Z: any fixed time works.
pub(crate) const T0: u64 = 1_900_000_000;
pub(crate) const TTL: Duration = Duration::from_secs(3600);

impl TestClock {
    pub(crate) fn new() -> Self {
        TestClock(Arc::new(AtomicU64::new(T0)))
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    pub(crate) fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }

    /// A sealer for cookie `name` over `keyring`, on this clock, with the
    /// suite's TTL and purpose.
    pub(crate) fn sealer(&self, keyring: &Arc<Keyring>, name: &str) -> Sealer {
        let clock = self.clone();
        Sealer::from_shared(Arc::clone(keyring))
            .with_name(name)
            .with_purpose("sealed-session/acceptance/v1")
            .with_ttl(TTL)
            .with_clock(move || clock.now())
    }
}

fn key() -> Key {
    Key::try_generate().expect("random key")
}

fn one_key_ring() -> Arc<Keyring> {
    Arc::new(Keyring::new([KeyEntry::new(1, key())]).expect("keyring"))
}

fn config(sealer: Sealer) -> SessionConfig {
    SessionConfig::new(sealer).expect("valid config")
}

/// The `Set-Cookie` header a server sends to store `value` for `max_age`
/// under `config`, written out here from the options (an independent
/// reading of the format every adapter must produce).
pub(crate) fn set_cookie(config: &SessionConfig, value: &str, max_age: Duration) -> String {
    let o = config.options();
    let mut header = format!("{}={value}", config.name());
    if o.is_http_only() {
        header.push_str("; HttpOnly");
    }
    header.push_str(match o.same_site() {
        SameSite::Strict => "; SameSite=Strict",
        SameSite::Lax => "; SameSite=Lax",
        _ => "; SameSite=None",
    });
    if o.is_secure() {
        header.push_str("; Secure");
    }
    header.push_str(&format!("; Path={}", o.path()));
    if let Some(domain) = o.domain() {
        header.push_str(&format!("; Domain={domain}"));
    }
    if o.is_persistent() {
        header.push_str(&format!("; Max-Age={}", max_age.as_secs()));
    }
    header
}

/// The `Set-Cookie` header that removes the session cookie of `config`.
pub(crate) fn removal_cookie(config: &SessionConfig) -> String {
    let header = set_cookie(config, "", Duration::ZERO);
    if config.options().is_persistent() {
        header
    } else {
        format!("{header}; Max-Age=0")
    }
}

/// The value part of a `Set-Cookie` header.
pub(crate) fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().expect("name=value");
    pair.split_once('=').expect("name=value").1
}

/// The attributes of a `Set-Cookie` header, without `Max-Age`.
fn attributes_but_max_age(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.to_ascii_lowercase().starts_with("max-age="))
        .collect()
}

// ---------------------------------------------------------------- checks

/// Set then get across requests; an untouched session writes no cookie.
pub(crate) async fn set_then_get(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();

    let r = jar.get(server.addr, "/get").await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "no session, no cookie: {r:?}");

    let r = jar.get(server.addr, "/set?username=ada").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    assert!(r.only_cookie().starts_with("session="), "{r:?}");

    for _ in 0..3 {
        let r = jar.get(server.addr, "/get").await;
        assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
        assert!(r.set_cookies.is_empty(), "untouched session: {r:?}");
    }
}

/// A per-visitor counter: every visitor counts alone.
pub(crate) async fn counter(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let (mut alice, mut bob) = (Jar::default(), Jar::default());
    for n in 1..=3 {
        let r = alice.get(server.addr, "/count").await;
        assert_eq!((r.status, r.body.clone()), (200, n.to_string()));
        r.only_cookie();
    }
    let r = bob.get(server.addr, "/count").await;
    assert_eq!(r.body, "1");
    let r = alice.get(server.addr, "/get").await;
    assert_eq!(r.body, ":3");
}

/// The default attributes are the secure ones, Max-Age is the TTL.
pub(crate) async fn secure_defaults(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let r = get(server.addr, "/set?username=ada", &[]).await;
    let header = r.only_cookie();
    let attrs = attributes_but_max_age(header);
    assert_eq!(
        attrs,
        ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"],
        "{header}"
    );
    assert!(
        header.ends_with(&format!("; Max-Age={}", TTL.as_secs())),
        "{header}"
    );

    // A __Host- cookie works end to end.
    let server = start(config(clock.sealer(&one_key_ring(), "__Host-sid")));
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/set?username=grace").await;
    assert!(r.only_cookie().starts_with("__Host-sid="), "{r:?}");
    assert_eq!(jar.get(server.addr, "/get").await.body, "grace:0");
}

/// Logout removes the cookie with the same Path, Domain and attributes.
pub(crate) async fn logout_removes_the_cookie(start: Start) {
    let clock = TestClock::new();
    let options = CookieOptions::default()
        .with_domain("example.test")
        .with_same_site(SameSite::Strict);
    let config = SessionConfig::with_options(clock.sealer(&one_key_ring(), "session"), options)
        .expect("valid config");
    let removal = removal_cookie(&config);
    let server = start(config);
    let mut jar = Jar::default();
    let set = jar.get(server.addr, "/set?username=ada").await;
    let set = set.only_cookie().to_owned();

    let r = jar.get(server.addr, "/logout").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    let header = r.only_cookie();
    assert_eq!(header, removal);
    assert!(header.starts_with("session=;"), "{header}");
    assert!(header.ends_with("; Max-Age=0"), "{header}");
    assert_eq!(attributes_but_max_age(header), attributes_but_max_age(&set));
    assert!(jar.value("session").is_none());

    let r = jar.get(server.addr, "/get").await;
    assert_eq!(r.body, ":0");
    assert!(r.set_cookies.is_empty());
}

/// Tampered, wrong-name, unknown-key and garbage cookies: an empty session,
/// a 200, and the bad cookie removed. A handler that stores a new session
/// replaces it instead.
pub(crate) async fn bad_cookies_are_an_empty_session(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let sealer = clock.sealer(&ring, "session");
    let config = config(sealer.clone());
    let removal = removal_cookie(&config);
    let server = start(config);

    let valid = sealer
        .seal(&TestSession {
            username: Some("ada".into()),
            ..TestSession::default()
        })
        .expect("seal");
    let mut tampered = valid.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    let other_name = clock
        .sealer(&ring, "other")
        .seal(&TestSession::default())
        .expect("seal");
    let other_purpose = Sealer::from_shared(Arc::clone(&ring))
        .with_name("session")
        .with_purpose("another-app")
        .seal(&TestSession::default())
        .expect("seal");
    let unknown_key = clock
        .sealer(
            &Arc::new(Keyring::new([KeyEntry::new(99, key())]).expect("keyring")),
            "session",
        )
        .seal(&TestSession::default())
        .expect("seal");
    let same_id_other_key = clock
        .sealer(&one_key_ring(), "session")
        .seal(&TestSession::default())
        .expect("seal");
    let undecodable = sealer.seal(&[u64::MAX; 3]).expect("seal");

    let bad = [
        tampered,
        other_name,
        other_purpose,
        unknown_key,
        same_id_other_key,
        undecodable,
        "garbage".to_owned(),
        "%%%not-base64%%%".to_owned(),
        String::new(),
        "\"quoted\"".to_owned(),
        "A".repeat(10_000),
    ];
    for value in &bad {
        let headers = [format!("session={value}")];
        let r = get(server.addr, "/get", &headers).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, ":0"),
            "value {value:.40}"
        );
        assert_eq!(r.set_cookies, [removal.as_str()], "value {value:.40}");

        let r = get(server.addr, "/set?username=new", &headers).await;
        assert_eq!(r.status, 200);
        let header = r.only_cookie();
        assert_ne!(header, removal);
        let opened = sealer
            .open::<TestSession>(cookie_value(header))
            .expect("a new valid cookie");
        assert_eq!(opened.value.username.as_deref(), Some("new"));
    }

    // Our value under another cookie's name is not our cookie: ignored,
    // and nothing to remove.
    let r = get(server.addr, "/get", &[format!("other={valid}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "{r:?}");

    // The genuine cookie still works.
    let r = get(server.addr, "/get", &[format!("session={valid}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    assert!(r.set_cookies.is_empty());
}

/// A refused cookie is logged: one warn-level "session cookie refused"
/// event that names the cookie and the reason, and holds no piece of the
/// cookie's value (the server's log must not become a store of session
/// values, even refused ones).
pub(crate) async fn refused_cookie_is_logged_without_its_value(start: Start) {
    // A name no other test of this binary uses: the capture is shared.
    const NAME: &str = "refusal-logged";
    capture::install();
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), NAME);
    let config = config(sealer.clone());
    let removal = removal_cookie(&config);
    let server = start(config);
    let mut tampered = sealer
        .seal(&TestSession::default())
        .expect("seal")
        .into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");

    let r = get(server.addr, "/get", &[format!("{NAME}={tampered}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert_eq!(r.set_cookies, [removal]);
    // The event is emitted before the handler runs, so before the reply.
    let lines = capture::lines_with(&format!("cookie={NAME:?}"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("WARN "), "{line}");
    assert!(line.contains("message=session cookie refused"), "{line}");
    assert!(
        line.contains("error=sealed value refused: authentication failed"),
        "{line}"
    );
    // No event at all, of this test or another, holds a piece of it.
    for chunk in tampered.as_bytes().chunks(8) {
        let chunk = std::str::from_utf8(chunk).expect("ASCII");
        let leaks = capture::lines_with(chunk);
        assert!(leaks.is_empty(), "{chunk:?} of the value in {leaks:?}");
    }
}

/// An expired cookie (by the injected clock) is an empty session and is
/// removed.
pub(crate) async fn expired_cookie(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "session"));
    let removal = removal_cookie(&config);
    let server = start(config);
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    let cookie = jar.headers();

    clock.advance(TTL - Duration::from_secs(1));
    assert_eq!(get(server.addr, "/get", &cookie).await.body, "ada:0");

    // Past the TTL and the sealer's default leeway (one minute).
    clock.advance(Duration::from_secs(62));
    let r = get(server.addr, "/get", &cookie).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert_eq!(r.set_cookies, [removal]);
}

/// A cookie sealed by a peer whose clock is ahead by more than the leeway
/// is not yet valid here: an empty session, and not removed (a lagging
/// server must not delete its peers' fresh sessions). Beside a valid
/// cookie it makes the request ambiguous; a write replaces it; it opens
/// once the clocks agree.
pub(crate) async fn not_yet_valid_cookie_is_ignored_not_removed(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let ours = clock.sealer(&ring, "session");
    let server = start(config(ours.clone()));
    let ahead = clock.clone();
    // Two minutes ahead: past the sealer's default leeway of one minute.
    let peer = clock
        .sealer(&ring, "session")
        .with_clock(move || ahead.now() + Duration::from_secs(120));
    let user = |name: &str| TestSession {
        username: Some(name.into()),
        ..TestSession::default()
    };
    let fresh = peer.seal(&user("ada")).expect("seal");
    assert_eq!(
        ours.open::<TestSession>(&fresh).err(),
        Some(Error::Refused(Refusal::NotYetValid))
    );
    let cookie = [format!("session={fresh}")];

    let r = get(server.addr, "/get", &cookie).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "not removed: {r:?}");
    let r = get(
        server.addr,
        "/get",
        &[format!("session=junk; {}", cookie[0])],
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "not removed beside junk: {r:?}");

    // Beside a valid cookie (planted?): two authentic cookies, none used.
    let planted = ours.seal(&user("mallory")).expect("seal");
    for header in [
        format!("session={planted}; session={fresh}"),
        format!("session={fresh}; session={planted}"),
    ] {
        let r = get(server.addr, "/get", &[header]).await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"));
        assert!(r.set_cookies.is_empty(), "{r:?}");
    }

    // The handler's write replaces it: one Set-Cookie, the handler's.
    let r = get(server.addr, "/set?username=grace", &cookie).await;
    let opened = ours
        .open::<TestSession>(cookie_value(r.only_cookie()))
        .expect("the handler's cookie");
    assert_eq!(opened.value.username.as_deref(), Some("grace"));

    // Once this server's clock catches up, the same cookie is the session.
    clock.advance(Duration::from_secs(120));
    let r = get(server.addr, "/get", &cookie).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
}

/// A cookie sealed with a key that no longer seals comes back re-sealed
/// under the current key with the same expiry; afterwards nothing is sent.
pub(crate) async fn rotation_on_the_wire(start: Start) {
    let clock = TestClock::new();
    let (k1, k2) = (key(), key());
    let old_ring = Arc::new(Keyring::new([KeyEntry::new(1, k1.clone())]).expect("keyring"));
    let new_ring =
        Arc::new(Keyring::new([KeyEntry::new(1, k1), KeyEntry::new(2, k2)]).expect("keyring"));
    let old = clock.sealer(&old_ring, "session");
    let new = clock.sealer(&new_ring, "session");
    let server = start(config(new.clone()));

    let issued = old
        .seal(&TestSession {
            username: Some("ada".into()),
            counter: 5,
            ..TestSession::default()
        })
        .expect("seal");
    let before = old.open::<TestSession>(&issued).expect("opens");
    clock.advance(Duration::from_secs(600));

    let r = get(server.addr, "/get", &[format!("session={issued}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:5"));
    let header = r.only_cookie().to_owned();
    assert!(
        header.ends_with(&format!("; Max-Age={}", TTL.as_secs() - 600)),
        "keeps the expiry: {header}"
    );
    let after = new
        .open::<TestSession>(cookie_value(&header))
        .expect("re-sealed value opens");
    assert_eq!(after.key_id, KeyId(2));
    assert!(!after.needs_reseal);
    assert_eq!(after.value, before.value);
    assert_eq!(after.expires_at, before.expires_at);
    assert_eq!(after.issued_at, before.issued_at);

    let r = get(
        server.addr,
        "/get",
        &[format!("session={}", cookie_value(&header))],
    )
    .await;
    assert_eq!(r.body, "ada:5");
    assert!(
        r.set_cookies.is_empty(),
        "current key: nothing to write: {r:?}"
    );
}

/// A client that replays one old-key cookie on a read-only route gets the
/// same re-sealed value every time: the current key spends one nonce on it,
/// not one per request (its counters still see every seal).
pub(crate) async fn replayed_old_key_cookie_spends_one_nonce(start: Start) {
    let clock = TestClock::new();
    let (k1, k2) = (key(), key());
    let old_ring = Arc::new(Keyring::new([KeyEntry::new(1, k1.clone())]).expect("keyring"));
    let new_ring =
        Arc::new(Keyring::new([KeyEntry::new(1, k1), KeyEntry::new(2, k2)]).expect("keyring"));
    let old = clock.sealer(&old_ring, "session");
    let server = start(config(clock.sealer(&new_ring, "session")));
    let issued = old
        .seal(&TestSession {
            username: Some("ada".into()),
            ..TestSession::default()
        })
        .expect("seal");

    let mut resealed = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let r = get(server.addr, "/get", &[format!("session={issued}")]).await;
        assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
        resealed.insert(cookie_value(r.only_cookie()).to_owned());
    }
    assert_eq!(resealed.len(), 1, "one old value re-seals to one new value");
    let stats = new_ring.stats(KeyId(2)).expect("key 2");
    assert_eq!((stats.seals, stats.reseals), (50, 50));
}

/// A stolen cookie kept alive by a route that writes (the counter) still
/// ends one TTL after it was issued: every write keeps the first
/// `issued_at`, and `Max-Age` counts down to the same expiry.
pub(crate) async fn writes_keep_the_absolute_lifetime(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/set?username=ada").await;
    assert!(r
        .only_cookie()
        .ends_with(&format!("; Max-Age={}", TTL.as_secs())));
    for step in 1..6 {
        clock.advance(Duration::from_secs(600));
        let r = jar.get(server.addr, "/count").await;
        assert_eq!(r.body, step.to_string());
        let left = TTL.as_secs() - step * 600;
        assert!(
            r.only_cookie().ends_with(&format!("; Max-Age={left}")),
            "write {step}: {r:?}"
        );
    }
    // Past the lifetime and the leeway: gone, whatever was written.
    clock.advance(Duration::from_secs(600 + 61));
    let r = jar.get(server.addr, "/count").await;
    assert_eq!(r.body, "1", "a fresh session: {r:?}");
    let r = jar.get(server.addr, "/get").await;
    assert_eq!(r.body, ":1", "the username is gone");
}

/// The handler gets the size error and answers; no broken cookie is sent,
/// and the session keeps its previous value.
pub(crate) async fn oversized_session(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let config = config(sealer.clone());
    let server = start(config.clone());
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;

    // The first blob length whose Set-Cookie would pass 4096 bytes.
    let fits = |len: usize| {
        let session = TestSession {
            username: Some("ada".into()),
            counter: 0,
            blob: "x".repeat(len),
        };
        sealer
            .seal(&session)
            .is_ok_and(|v| set_cookie(&config, &v, TTL).len() <= sealed_session::MAX_COOKIE_BYTES)
    };
    let limit = (2000..5000)
        .find(|&n| !fits(n))
        .expect("a limit below 5000");

    let r = jar
        .get(server.addr, &format!("/big?len={}", limit - 1))
        .await;
    assert_eq!(r.status, 200);
    let header = r.only_cookie();
    assert!(header.len() <= MAX_COOKIE_BYTES, "{}", header.len());
    assert!(
        header.len() > MAX_COOKIE_BYTES - 8,
        "the limit is the header's"
    );

    for len in [limit, limit + 1, 1_000_000] {
        let r = jar.get(server.addr, &format!("/big?len={len}")).await;
        assert_eq!((r.status, r.body.as_str()), (413, ""), "len {len}");
        assert!(r.set_cookies.is_empty(), "no broken cookie: {r:?}");
    }
    let r = jar.get(server.addr, "/get").await;
    assert_eq!(r.body, "ada:0");
    let kept = sealer
        .open::<TestSession>(jar.value("session").expect("cookie kept"))
        .expect("opens");
    assert_eq!(kept.value.blob.len(), limit - 1);
}

/// Two servers with the same keyring open each other's cookies.
pub(crate) async fn two_servers_share_sessions(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let a = start(config(clock.sealer(&ring, "session")));
    let b = start(config(clock.sealer(&ring, "session")));
    let mut jar = Jar::default();
    jar.get(a.addr, "/set?username=ada").await;
    assert_eq!(jar.get(b.addr, "/get").await.body, "ada:0");
    assert_eq!(jar.get(b.addr, "/count").await.body, "1");
    assert_eq!(jar.get(a.addr, "/count").await.body, "2");
    assert_eq!(jar.get(a.addr, "/get").await.body, "ada:2");

    // A server with another keyring does not.
    let c = start(config(clock.sealer(&one_key_ring(), "session")));
    let r = jar.get(c.addr, "/get").await;
    assert_eq!(r.body, ":0");
}

/// A scheduled rotation across two servers loses no session: every request
/// before, during and after the switch sees its session, and the cookies
/// move to the new key.
pub(crate) async fn scheduled_rotation_across_servers(start: Start) {
    let clock = TestClock::new();
    let switch = UNIX_EPOCH + Duration::from_secs(T0 + 300);
    let ring = Arc::new(
        Keyring::new([
            KeyEntry::new(1, key()),
            KeyEntry::new(2, key()).activate_at(switch),
        ])
        .expect("keyring"),
    );
    let servers = [
        start(config(clock.sealer(&ring, "session"))),
        start(config(clock.sealer(&ring, "session"))),
    ];
    let probe = clock.sealer(&ring, "session");
    // Two visitors: one writes on every visit, one only reads.
    let (mut writer, mut reader) = (Jar::default(), Jar::default());
    writer.get(servers[0].addr, "/set?username=w").await;
    reader.get(servers[1].addr, "/set?username=r").await;
    let mut count = 0;
    for step in 0..24 {
        let server = servers[step % 2].addr;
        count += 1;
        let r = writer.get(server, "/count").await;
        assert_eq!(r.body, count.to_string(), "step {step}");
        let r = reader.get(server, "/get").await;
        assert_eq!(r.body, "r:0", "step {step}");
        let expected_key = if clock.now() >= switch { 2 } else { 1 };
        for jar in [&writer, &reader] {
            let opened = probe
                .open::<TestSession>(jar.value("session").expect("cookie"))
                .expect("the jar's cookie opens");
            assert_eq!(opened.key_id, KeyId(expected_key), "step {step}");
        }
        clock.advance(Duration::from_secs(25));
    }
    assert!(clock.now() > switch, "the loop crossed the switch");
}

/// Several cookies with our name (cookie tossing): exactly one that opens
/// is used; two that open are ambiguous, empty, and nothing is removed.
pub(crate) async fn cookie_tossing(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let server = start(config(sealer.clone()));
    let seal = |name: &str| {
        sealer
            .seal(&TestSession {
                username: Some(name.into()),
                ..TestSession::default()
            })
            .expect("seal")
    };
    let (victim, attacker) = (seal("victim"), seal("attacker"));

    for headers in [
        vec![format!("session={attacker}; session={victim}")],
        vec![format!("session={victim}; session={attacker}")],
        vec![format!("session={victim}"), format!("session={attacker}")],
    ] {
        let r = get(server.addr, "/get", &headers).await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"), "{headers:?}");
        assert!(r.set_cookies.is_empty(), "nothing removed: {r:?}");
    }
    for headers in [
        vec![format!("session=planted-garbage; session={victim}")],
        vec![format!("session={victim}; session=planted-garbage")],
        vec!["session=x".to_owned(), format!("other=1; session={victim}")],
    ] {
        let r = get(server.addr, "/get", &headers).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "victim:0"),
            "{headers:?}"
        );
        assert!(r.set_cookies.is_empty(), "{r:?}");
    }
}

/// The cap on cookies with our name (`MAX_SAME_NAME_COOKIES`) counts
/// cookies, distinct ones too, across headers: at the cap, with exactly
/// one valid among them, that one is the session; one over the cap, with
/// exactly one valid, all are ignored unopened: no session, nothing removed.
pub(crate) async fn same_name_cap_counts_distinct_cookies(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let sealer = clock.sealer(&ring, "session");
    let server = start(config(sealer.clone()));
    let ada = TestSession {
        username: Some("ada".into()),
        ..TestSession::default()
    };
    let valid = sealer.seal(&ada).expect("seal");
    let past = clock.clone();
    let expired = clock
        .sealer(&ring, "session")
        .with_clock(move || past.now() - 2 * TTL);
    // Distinct cookies that do not open: expired (authentic), tampered,
    // and junk.
    let refused = |i: usize| match i % 3 {
        0 => expired.seal(&ada).expect("seal"),
        1 => {
            let mut v = sealer.seal(&ada).expect("seal").into_bytes();
            v[20] = if v[20] == b'A' { b'B' } else { b'A' };
            String::from_utf8(v).expect("ASCII")
        }
        _ => format!("junk{i}"),
    };
    for (n, opens) in [
        (MAX_SAME_NAME_COOKIES, true),
        (MAX_SAME_NAME_COOKIES + 1, false),
    ] {
        for at in [0, n / 2, n - 1] {
            let mut values: Vec<String> = (0..n - 1).map(refused).collect();
            values.insert(at, valid.clone());
            let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
            assert_eq!(distinct.len(), n);
            let pairs: Vec<String> = values.iter().map(|v| format!("session={v}")).collect();
            // In one header, and split over two.
            for headers in [
                vec![pairs.join("; ")],
                vec![pairs[..3].join("; "), pairs[3..].join("; ")],
            ] {
                let r = get(server.addr, "/get", &headers).await;
                let expected = if opens { "ada:0" } else { ":0" };
                assert_eq!(
                    (r.status, r.body.as_str()),
                    (200, expected),
                    "{n} cookies, valid at {at}"
                );
                assert!(
                    r.set_cookies.is_empty(),
                    "{n} cookies, valid at {at}: {r:?}"
                );
            }
        }
    }
}

/// Nested layers for the same session type and cookie (an outer one and
/// one on a nested router or scope) make one decision for the cookie: at
/// most one `Set-Cookie` for it, and after a write, the handler's. Before,
/// the outer layer's removal of a refused cookie, or its re-seal of a
/// stale one, came after the inner handler's write, and the browser kept
/// the old value or none.
pub(crate) async fn two_layers_for_the_same_type_make_one_decision(start: Start) {
    let clock = TestClock::new();
    let (k1, k2) = (key(), key());
    let old_ring = Arc::new(Keyring::new([KeyEntry::new(1, k1.clone())]).expect("keyring"));
    let ring =
        Arc::new(Keyring::new([KeyEntry::new(1, k1), KeyEntry::new(2, k2)]).expect("keyring"));
    let sealer = clock.sealer(&ring, "session");
    let config = config(sealer.clone());
    let removal = removal_cookie(&config);
    let server = start(config);
    let ada = TestSession {
        username: Some("ada".into()),
        ..TestSession::default()
    };
    let stale = clock.sealer(&old_ring, "session").seal(&ada).expect("seal");
    let current = sealer.seal(&ada).expect("seal");
    let refused = [
        "session=garbage".to_owned(),
        format!("session={}", &current[..current.len() - 1]),
    ];

    // A write while the request carried a refused or a stale cookie: one
    // Set-Cookie, the handler's.
    for cookie in refused.iter().chain([&format!("session={stale}")]) {
        let r = get(
            server.addr,
            "/nested/set?username=grace",
            std::slice::from_ref(cookie),
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (200, "ok"), "{cookie:.30}");
        let opened = sealer
            .open::<TestSession>(cookie_value(r.only_cookie()))
            .expect("the handler's write");
        assert_eq!(opened.value.username.as_deref(), Some("grace"));
    }
    // A refused cookie and no write: one removal.
    for cookie in &refused {
        let r = get(server.addr, "/nested/get", std::slice::from_ref(cookie)).await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"));
        assert_eq!(r.set_cookies, [removal.as_str()], "{cookie:.30}");
    }
    // A stale cookie and no write: one re-seal, of the same session.
    let r = get(server.addr, "/nested/get", &[format!("session={stale}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    let resealed = sealer
        .open::<TestSession>(cookie_value(r.only_cookie()))
        .expect("re-sealed");
    assert_eq!((resealed.key_id, resealed.value), (KeyId(2), ada));
    // A valid cookie: the inner handler sees it; logout removes it once;
    // untouched, nothing is written.
    let mut jar = Jar::default();
    jar.set("session", &current);
    let r = jar.get(server.addr, "/nested/count").await;
    assert_eq!((r.status, r.body.as_str()), (200, "1"));
    r.only_cookie();
    let r = jar.get(server.addr, "/nested/get").await;
    assert_eq!((r.body.as_str(), r.set_cookies.len()), ("ada:1", 0));
    let r = jar.get(server.addr, "/nested/logout").await;
    assert_eq!(r.set_cookies, [removal.as_str()]);
    assert_eq!(jar.value("session"), None);
}

/// A handler that asks for the session without the layer gets an error
/// (the test server answers it with an empty 500), not a session whose
/// writes vanish.
pub(crate) async fn missing_layer_is_an_error(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let r = get(server.addr, "/no-layer", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (500, ""));
    assert!(r.set_cookies.is_empty());
}

/// Generates one `#[tokio::test]` per acceptance check for an adapter's
/// `start` function (see the module docs).
#[macro_export]
macro_rules! acceptance_suite {
    ($start:path) => {
        $crate::acceptance_suite!(@tests $start;
            set_then_get,
            counter,
            secure_defaults,
            logout_removes_the_cookie,
            bad_cookies_are_an_empty_session,
            refused_cookie_is_logged_without_its_value,
            expired_cookie,
            not_yet_valid_cookie_is_ignored_not_removed,
            rotation_on_the_wire,
            replayed_old_key_cookie_spends_one_nonce,
            writes_keep_the_absolute_lifetime,
            oversized_session,
            two_servers_share_sessions,
            scheduled_rotation_across_servers,
            cookie_tossing,
            same_name_cap_counts_distinct_cookies,
            two_layers_for_the_same_type_make_one_decision,
            missing_layer_is_an_error,
        );
    };
    (@tests $start:path; $($check:ident,)*) => {
        $(
            #[tokio::test]
            async fn $check() {
                $crate::common::$check($start).await;
            }
        )*
    };
}

//! Hostile `Cookie` headers, sent over a real connection to a server whose
//! every route answers its `Session<String>`'s value, or `-` for no session.
//! Shared by `tests/hostile_hyper.rs` and `tests/hostile_actix.rs`, which
//! only differ in the server they start.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{HeaderValue, COOKIE, HOST, SET_COOKIE};
use hyper::Request;
use hyper_util::rt::TokioIo;
use sealed_session::{Keyring, Sealer, SessionConfig};

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) body: String,
}

/// `GET /` with one `Cookie` header per element of `cookies` (raw bytes);
/// `None` if the server closed the connection instead of answering.
pub(crate) async fn try_get(addr: SocketAddr, cookies: &[&[u8]]) -> Option<Reply> {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1 handshake");
        tokio::spawn(conn);
        let mut req = Request::get("/").header(HOST, "localhost");
        for cookie in cookies {
            req = req.header(
                COOKIE,
                HeaderValue::from_bytes(cookie).expect("a valid header value"),
            );
        }
        let req = req.body(Empty::<Bytes>::new()).expect("valid request");
        let res = sender.send_request(req).await.ok()?;
        let status = res.status().as_u16();
        let set_cookies = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII").to_owned())
            .collect();
        let body = res.into_body().collect().await.ok()?.to_bytes();
        Some(Reply {
            status,
            set_cookies,
            body: String::from_utf8(body.to_vec()).expect("UTF-8"),
        })
    };
    tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("answered in time")
}

pub(crate) async fn get(addr: SocketAddr, cookies: &[&[u8]]) -> Reply {
    try_get(addr, cookies).await.expect("a response")
}

pub(crate) fn config() -> SessionConfig {
    SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("os rng"))).expect("valid name")
}

/// A config for the cookie `__Host-session`.
pub(crate) fn host_config() -> SessionConfig {
    let sealer = Sealer::new(Keyring::ephemeral().expect("os rng")).with_name("__Host-session");
    SessionConfig::new(sealer).expect("valid name")
}

/// A browser keeps `\u{2000}__Host-session` (a Unicode space, then our
/// name) as a name of its own, without the `__Host-` rules, so a sibling
/// subdomain may set it. Carrying a valid `__Host-session` value, it must
/// not be read as our cookie: no session (the value is not accepted), and
/// nothing to remove; next to the real cookie it changes nothing.
/// `config` is the server's, named `__Host-session`.
pub(crate) async fn unicode_whitespace_name_is_not_host_prefixed_session(
    addr: SocketAddr,
    config: &SessionConfig,
) {
    assert_eq!(config.name(), "__Host-session");
    let seal = |who: &str| config.sealer().seal(&who.to_owned()).expect("seals");
    let (planted, ours) = (seal("attacker"), seal("victim"));

    let r = get(addr, &[format!("__Host-session={ours}").as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "victim"));

    for space in ["\u{2000}", "\u{00A0}", "\u{FEFF}", "\u{3000}"] {
        for header in [
            format!("{space}__Host-session={planted}"),
            format!("__Host-session{space}={planted}"),
            format!("theme=dark; {space}__Host-session={planted}"),
        ] {
            let r = get(addr, &[header.as_bytes()]).await;
            assert_eq!((r.status, r.body.as_str()), (200, "-"), "{header:?}");
            assert!(
                r.set_cookies.is_empty(),
                "not ours: {header:?} {:?}",
                r.set_cookies
            );
        }
        // Planted next to the victim's cookie, in either order and header:
        // the victim keeps their session (not two sessions, no logout).
        let plant = format!("{space}__Host-session={planted}");
        let real = format!("__Host-session={ours}");
        for headers in [
            vec![format!("{plant}; {real}")],
            vec![format!("{real}; {plant}")],
            vec![plant.clone(), real.clone()],
        ] {
            let headers: Vec<&[u8]> = headers.iter().map(|h| h.as_bytes()).collect();
            let r = get(addr, &headers).await;
            assert_eq!((r.status, r.body.as_str()), (200, "victim"), "{plant:?}");
            assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
        }
    }
}

/// A cookie whose bytes are not UTF-8 next to ours, in the same header,
/// before or after it: the session is still found, nothing written.
/// (A browser sends whatever bytes another site's script or server put
/// into a cookie.) `config` is the server's, named `session`.
pub(crate) async fn non_utf8_neighbour_cookie_does_not_hide_the_session(
    addr: SocketAddr,
    config: &SessionConfig,
) {
    let valid = config.sealer().seal(&"ada".to_owned()).expect("seals");
    let ours = format!("session={valid}");
    for header in [
        [b"legacy=\xff\xfe; ".as_slice(), ours.as_bytes()].concat(),
        [ours.as_bytes(), b"; legacy=caf\xe9".as_slice()].concat(),
        [
            b"\xe9t\xe9=1; ".as_slice(),
            ours.as_bytes(),
            b"; x=\xff".as_slice(),
        ]
        .concat(),
    ] {
        let r = get(addr, &[&header]).await;
        assert_eq!((r.status, r.body.as_str()), (200, "ada"), "{header:?}");
        assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
    }
}

/// Runs every hostile header against the server at `addr`, which serves
/// `config`. `crowd` is how many other cookies fit around ours under the
/// framework's own head limit.
pub(crate) async fn hostile_cookie_headers_are_no_session(
    addr: SocketAddr,
    config: &SessionConfig,
    crowd: usize,
) {
    // The default options' removal cookie, written out.
    assert_eq!(config.name(), "session");
    let removal = "session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0".to_owned();
    let valid = config.sealer().seal(&"ada".to_owned()).expect("seals");
    let ours = format!("session={valid}");

    let r = get(addr, &[ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));
    assert!(r.set_cookies.is_empty());

    // Thousands of other cookies around ours: found.
    let mut others = (0..crowd)
        .map(|i| format!("c{i}=v{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    others.push_str(&format!("; {ours}"));
    let r = get(addr, &[others.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));

    // 10,000 cookies of our name (short ones: the whole header must stay
    // under the framework's limit): ignored unopened, nothing written.
    let same = vec!["session=x"; 10_000].join("; ");
    let r = get(addr, &[same.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert!(r.set_cookies.is_empty());

    // Bytes that are not UTF-8 (obs-text is valid in a header value).
    let mut bad = ours.clone().into_bytes();
    bad.extend_from_slice(&[0xff, 0xfe]);
    let r = get(addr, &[&bad]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    let r = get(addr, &[&bad, ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));

    // Empty, padded, over-long: refused, and the cookie is removed.
    for value in [
        String::new(),
        format!("{valid}="),
        format!("{valid}=="),
        "A".repeat(64 * 1024),
    ] {
        let header = format!("session={value}");
        let r = get(addr, &[header.as_bytes()]).await;
        assert_eq!((r.status, r.body.as_str()), (200, "-"), "{value:.20}");
        assert_eq!(r.set_cookies, [removal.as_str()]);
    }

    // A 1 MiB header: the framework's own head limit answers (431, or a
    // closed connection) before the adapter runs; if it reaches the adapter
    // it is no session. Never a session, and the server stays up.
    let huge = format!("session={}", "A".repeat(1 << 20));
    if let Some(r) = try_get(addr, &[huge.as_bytes()]).await {
        assert!(
            r.status == 431 || (r.status == 200 && r.body == "-"),
            "status {}",
            r.status
        );
        assert!(r.set_cookies.iter().all(|c| *c == removal));
    }
    let r = get(addr, &[ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));
}

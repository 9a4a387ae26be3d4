//! Hostile `Cookie` headers over a real connection: each is answered as
//! "no session" (or refused by the framework's own request-head limit
//! before the adapter runs), and the server keeps serving.

use crate::common::{
    config, get_bytes, one_key_ring, try_get_bytes, Start, TestClock, TestSession,
};

/// The `GET /who` answer and `Set-Cookie` headers for these raw `Cookie`
/// headers.
async fn who(addr: std::net::SocketAddr, cookies: &[&[u8]]) -> (u16, String, Vec<String>) {
    let r = get_bytes(addr, "/who", cookies).await;
    (r.status, r.body, r.set_cookies)
}

/// Thousands of cookies around ours, ten thousand of our name, bytes that
/// are not UTF-8, empty, padded and over-long values, a 1 MiB header: never
/// a session that was not sent, the session that was sent found, refused
/// values removed, and the server still up.
pub(crate) async fn hostile_cookie_headers_are_no_session(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "session"));
    let server = start(config.clone());
    let addr = server.addr;
    // The default options' removal cookie, written out.
    let removal = "session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0".to_owned();
    let ada = TestSession {
        username: Some("ada".to_owned()),
        ..TestSession::default()
    };
    let valid = config.sealer().seal(&ada).expect("seals");
    let ours = format!("session={valid}");

    let (status, body, set_cookies) = who(addr, &[ours.as_bytes()]).await;
    assert_eq!((status, body.as_str()), (200, "ada"));
    assert!(set_cookies.is_empty());

    // Thousands of other cookies around ours (as many as the framework's
    // head limit lets through): found.
    let mut others = (0..server.crowd)
        .map(|i| format!("c{i}=v{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    others.push_str(&format!("; {ours}"));
    let (status, body, _) = who(addr, &[others.as_bytes()]).await;
    assert_eq!((status, body.as_str()), (200, "ada"));

    // 10,000 cookies of our name (short ones: the whole header must stay
    // under the framework's limit): ignored unopened, nothing written.
    let same = vec!["session=x"; 10_000].join("; ");
    let (status, body, set_cookies) = who(addr, &[same.as_bytes()]).await;
    assert_eq!((status, body.as_str()), (200, "-"));
    assert!(set_cookies.is_empty());

    // Bytes that are not UTF-8 (obs-text is valid in a header value).
    let mut bad = ours.clone().into_bytes();
    bad.extend_from_slice(&[0xff, 0xfe]);
    let (status, body, _) = who(addr, &[&bad]).await;
    assert_eq!((status, body.as_str()), (200, "-"));
    let (status, body, _) = who(addr, &[&bad, ours.as_bytes()]).await;
    assert_eq!((status, body.as_str()), (200, "ada"));

    // Empty, padded, over-long: refused, and the cookie is removed.
    for value in [
        String::new(),
        format!("{valid}="),
        format!("{valid}=="),
        "A".repeat(64 * 1024),
    ] {
        let header = format!("session={value}");
        let (status, body, set_cookies) = who(addr, &[header.as_bytes()]).await;
        assert_eq!((status, body.as_str()), (200, "-"), "{value:.20}");
        assert_eq!(set_cookies, [removal.as_str()]);
    }

    // A 1 MiB header: the framework's own head limit answers (431, or a
    // closed connection) before the adapter runs; if it reaches the adapter
    // it is no session. Never a session, and the server stays up.
    let huge = format!("session={}", "A".repeat(1 << 20));
    if let Some(r) = try_get_bytes(addr, "/who", &[huge.as_bytes()]).await {
        assert!(
            r.status == 431 || (r.status == 200 && r.body == "-"),
            "status {}",
            r.status
        );
        assert!(r.set_cookies.iter().all(|c| *c == removal));
    }
    let (status, body, _) = who(addr, &[ours.as_bytes()]).await;
    assert_eq!((status, body.as_str()), (200, "ada"));
}

/// A cookie whose bytes are not UTF-8 next to ours, in the same header,
/// before or after it: the session is still found, nothing written.
/// (A browser sends whatever bytes another site's script or server put
/// into a cookie.)
pub(crate) async fn non_utf8_neighbour_cookie_does_not_hide_the_session(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "session"));
    let server = start(config.clone());
    let ada = TestSession {
        username: Some("ada".to_owned()),
        ..TestSession::default()
    };
    let valid = config.sealer().seal(&ada).expect("seals");
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
        let (status, body, set_cookies) = who(server.addr, &[&header]).await;
        assert_eq!((status, body.as_str()), (200, "ada"), "{header:?}");
        assert!(set_cookies.is_empty(), "{set_cookies:?}");
    }
}

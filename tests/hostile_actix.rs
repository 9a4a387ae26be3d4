//! Hostile `Cookie` headers sent over a real connection to an actix-web
//! server on 127.0.0.1:0 with the actix adapter: each is answered as "no
//! session" (or refused by actix's own request-head limit, 128 KiB, before
//! the adapter runs), and the server keeps serving.
#![cfg(feature = "actix")]

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{HeaderValue, COOKIE, HOST, SET_COOKIE};
use hyper::Request;
use hyper_util::rt::TokioIo;
use sealed_session::actix::SessionMiddleware;
use sealed_session::{Keyring, Sealer, Session, SessionConfig};

/// Answers the session's value, or `-` for no session.
async fn handler(session: Session<String>) -> String {
    session.get().unwrap_or_else(|| "-".to_owned())
}

struct Server {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn start(config: SessionConfig) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(SessionMiddleware::<String>::new(config.clone()))
                .default_service(web::to(handler))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .expect("listen on the bound socket")
        .run();
        tx.send(server.handle()).expect("test is waiting");
        let _ = system.block_on(server);
    });
    let handle = rx.recv().expect("server started");
    Server { addr, handle }
}

struct Reply {
    status: u16,
    set_cookies: Vec<String>,
    body: String,
}

/// `GET /` with one `Cookie` header per element of `cookies` (raw bytes);
/// `None` if the server closed the connection instead of answering.
async fn try_get(addr: SocketAddr, cookies: &[&[u8]]) -> Option<Reply> {
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

async fn get(addr: SocketAddr, cookies: &[&[u8]]) -> Reply {
    try_get(addr, cookies).await.expect("a response")
}

fn config() -> SessionConfig {
    SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("os rng"))).expect("valid name")
}

#[tokio::test]
async fn hostile_cookie_headers_are_no_session() {
    let config = config();
    let removal = config.removal_cookie();
    let valid = config.sealer().seal(&"ada".to_owned()).expect("seals");
    let server = start(config.clone());
    let ours = format!("session={valid}");

    let r = get(server.addr, &[ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));
    assert!(r.set_cookies.is_empty());

    // 5,000 other cookies around ours (the whole head must stay under
    // actix's limit): found.
    let mut crowd = (0..5_000)
        .map(|i| format!("c{i}=v{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    crowd.push_str(&format!("; {ours}"));
    let r = get(server.addr, &[crowd.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));

    // 10,000 cookies of our name: ignored unopened, nothing written.
    let same = vec!["session=x"; 10_000].join("; ");
    let r = get(server.addr, &[same.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert!(r.set_cookies.is_empty());

    // Bytes that are not UTF-8 (obs-text is valid in a header value).
    let mut bad = ours.clone().into_bytes();
    bad.extend_from_slice(&[0xff, 0xfe]);
    let r = get(server.addr, &[&bad]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    let r = get(server.addr, &[&bad, ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));

    // Empty, padded, over-long: refused, and the cookie is removed.
    for value in [
        String::new(),
        format!("{valid}="),
        format!("{valid}=="),
        "A".repeat(64 * 1024),
    ] {
        let header = format!("session={value}");
        let r = get(server.addr, &[header.as_bytes()]).await;
        assert_eq!((r.status, r.body.as_str()), (200, "-"), "{value:.20}");
        assert_eq!(r.set_cookies, [removal.as_str()]);
    }

    // A 1 MiB header: actix's own head limit answers (431, or closes the
    // connection) before the adapter runs; never a session, never a
    // cookie, and the server stays up.
    let huge = format!("session={}", "A".repeat(1 << 20));
    if let Some(r) = try_get(server.addr, &[huge.as_bytes()]).await {
        assert_eq!(r.status, 431);
        assert!(r.set_cookies.is_empty());
    }
    let r = get(server.addr, &[ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));
}

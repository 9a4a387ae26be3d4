//! Hostile `Cookie` headers sent over a real connection to a hyper server on
//! 127.0.0.1:0 with the tower adapter: each is answered as "no session"
//! (or refused by hyper's own header limit before the adapter runs), and
//! the server keeps serving.
#![cfg(feature = "hyper")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, COOKIE, HOST, SET_COOKIE};
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sealed_session::hyper::{SessionExt, SessionLayer};
use sealed_session::{Keyring, Sealer, SessionConfig};
use tower::{service_fn, Layer};

const MIB: usize = 1 << 20;

/// Answers the session's value, or `-` for no session.
async fn handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let session = req.session::<String>().expect("the layer is installed");
    let body = session.get().unwrap_or_else(|| "-".to_owned());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(config: SessionConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let service = SessionLayer::<String>::new(config).layer(service_fn(handler));
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                // A refused request may end the connection: not a failure.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { addr, task }
}

struct Reply {
    status: u16,
    set_cookies: Vec<String>,
    body: String,
}

/// `GET /` with one `Cookie` header per element of `cookies` (raw bytes).
async fn get(addr: SocketAddr, cookies: &[&[u8]]) -> Reply {
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
        let res = sender.send_request(req).await.expect("a response");
        let status = res.status().as_u16();
        let set_cookies = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII").to_owned())
            .collect();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            set_cookies,
            body: String::from_utf8(body.to_vec()).expect("UTF-8"),
        }
    };
    tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("answered in time")
}

fn config() -> SessionConfig {
    SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("os rng"))).expect("valid name")
}

#[tokio::test]
async fn hostile_cookie_headers_are_no_session() {
    let config = config();
    let removal = config.removal_cookie();
    let valid = config.sealer().seal(&"ada".to_owned()).expect("seals");
    let server = start(config.clone()).await;
    let ours = format!("session={valid}");

    let r = get(server.addr, &[ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));
    assert!(r.set_cookies.is_empty());

    // 10,000 other cookies around ours: found.
    let mut crowd = (0..10_000)
        .map(|i| format!("c{i}=v{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    crowd.push_str(&format!("; {ours}"));
    let r = get(server.addr, &[crowd.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));

    // 10,000 cookies of our name (short ones: the whole header must stay
    // under hyper's limit): ignored unopened, nothing written.
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

    // A 1 MiB header: hyper's own header limit answers before the adapter
    // runs; either way there is no session, and the server stays up.
    let huge = format!("session={}", "A".repeat(MIB));
    let r = get(server.addr, &[huge.as_bytes()]).await;
    assert!(
        r.status == 431 || (r.status == 200 && r.body == "-"),
        "status {}",
        r.status
    );
    assert!(r.set_cookies.iter().all(|c| *c == removal));
    let r = get(server.addr, &[ours.as_bytes()]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada"));
}

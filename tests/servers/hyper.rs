//! The harness's contract (see `tests/common/mod.rs`) served by the tower
//! adapter under plain hyper 1 on 127.0.0.1:0, the session taken with
//! `SessionExt` (no `?` on the crate's error here: hyper has no error
//! response, so the error routes are not served).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sealed_session::tower::{CsrfBody, CsrfLayer, SessionExt, SessionLayer};
use sealed_session::{ConfigError, CsrfFailure, CsrfGuard, Error, SessionConfig};
use tower::util::MapResponseLayer;
use tower::{service_fn, Layer, ServiceExt};

use crate::common::{other_purpose, route, route_unsafe, TestServer, TestSession};

/// The requests the handlers inside the CSRF guard see: the guard wraps
/// the body (a form it read, or the body itself).
type Req = Request<CsrfBody<Incoming>>;

type Reply = Result<Response<Full<Bytes>>, Infallible>;

fn respond(status: u16, body: String) -> Reply {
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response"))
}

async fn handler(req: Req) -> Reply {
    match req.uri().path() {
        "/other-type" => return other_type(req),
        "/ext" => return ext(req),
        _ => {}
    }
    let session = req
        .session::<TestSession>()
        .expect("SessionLayer<TestSession> is installed");
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let (status, body) = if req.method() == Method::GET {
        route(&path, &session)
    } else {
        let body = req
            .into_body()
            .collect()
            .await
            .expect("in memory")
            .to_bytes();
        route_unsafe(&path, &String::from_utf8_lossy(&body), &session)
    };
    respond(status, body)
}

/// `/other-type`: no layer runs for `Session<u8>`.
fn other_type(req: Req) -> Reply {
    match req.session::<u8>() {
        Ok(_) => respond(200, "a session without its layer".into()),
        Err(_missing) => respond(500, String::new()),
    }
}

/// `/ext`, before the handler (in the layer's inner service): the session
/// through `SessionExt for Request`.
fn ext_before(req: &Req) {
    if let Ok(session) = req.session::<TestSession>() {
        let _ = session.update(|s| s.counter += 1);
    }
}

/// `/ext` in the handler: the session through `SessionExt for Parts`, the
/// missing type through `SessionExt for Extensions`.
fn ext(req: Req) -> Reply {
    let (parts, _body) = req.into_parts();
    let missing = parts.extensions.session::<u16>().err();
    let counted = parts.session::<TestSession>().map(|session| {
        session.update(|s| {
            s.counter += 1;
            s.counter
        })
    });
    match (counted, missing) {
        (Ok(Ok(n)), Some(Error::Config(e))) if e == ConfigError::missing_session::<u16>() => {
            respond(200, n.to_string())
        }
        _ => respond(500, String::new()),
    }
}

async fn no_layer(req: Request<Incoming>) -> Reply {
    match req.session::<TestSession>() {
        Ok(_) => respond(200, "a session without the layer".into()),
        Err(_missing) => respond(500, String::new()),
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Between the CSRF guard and the session layer: a refusal of the guard,
/// read from its `403`'s extensions, answered with a new `403` that names
/// it in `x-csrf-failure`.
fn mark_refusal<B: Default>(response: Response<B>) -> Response<B> {
    match response.extensions().get::<CsrfFailure>() {
        Some(failure) => Response::builder()
            .status(403)
            .header("x-csrf-failure", format!("{failure:?}"))
            .body(B::default())
            .expect("valid response"),
        None => response,
    }
}

/// Call from inside a tokio runtime: the server runs as a task on it.
pub(crate) fn start(config: SessionConfig) -> TestServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("local address");
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    // Under /nested/ a second layer for the same session and cookie, as on
    // a nested router.
    let nested = SessionLayer::<TestSession>::new(config.clone()).layer(service_fn(handler));
    // Under /nested-other/ one for the same cookie with another purpose.
    let nested_other =
        SessionLayer::<TestSession>::new(other_purpose(&config)).layer(service_fn(handler));
    let guarded = CsrfLayer::<TestSession>::new(CsrfGuard::new());
    let marked = MapResponseLayer::new(mark_refusal);
    let layered = SessionLayer::<TestSession>::new(config).layer(marked.layer(guarded.layer(
        service_fn(move |req: Req| {
            let nested = nested.clone();
            let nested_other = nested_other.clone();
            async move {
                if req.uri().path() == "/ext" {
                    ext_before(&req);
                }
                if req.uri().path().starts_with("/nested/") {
                    nested.oneshot(req).await
                } else if req.uri().path().starts_with("/nested-other/") {
                    nested_other.oneshot(req).await
                } else {
                    handler(req).await
                }
            }
        }),
    )));
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let layered = layered.clone();
            let service = service_fn(move |req: Request<Incoming>| {
                let layered = layered.clone();
                async move {
                    if req.uri().path() == "/no-layer" {
                        no_layer(req).await
                    } else {
                        layered.oneshot(req).await
                    }
                }
            });
            tokio::spawn(async move {
                let io = TokioIo::new(stream);
                let service = TowerToHyperService::new(service);
                // A client that goes away mid-request is not a test failure.
                let _ = http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    // hyper reads request heads of up to about 400 KiB.
    TestServer::new(addr, 10_000, AbortOnDrop(server))
}

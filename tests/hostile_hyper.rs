//! Hostile `Cookie` headers sent over a real connection to a hyper server on
//! 127.0.0.1:0 with the tower adapter: each is answered as "no session"
//! (or refused by hyper's own header limit before the adapter runs), and
//! the server keeps serving.
#![cfg(feature = "hyper")]

#[path = "common/hostile.rs"]
mod hostile;

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sealed_session::tower::{SessionExt, SessionLayer};
use sealed_session::SessionConfig;
use tower::{service_fn, Layer};

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

#[tokio::test]
async fn hostile_cookie_headers_are_no_session() {
    let config = hostile::config();
    let server = start(config.clone()).await;
    hostile::hostile_cookie_headers_are_no_session(server.addr, &config, 10_000).await;
}

#[tokio::test]
async fn unicode_whitespace_name_is_not_host_prefixed_session() {
    let config = hostile::host_config();
    let server = start(config.clone()).await;
    hostile::unicode_whitespace_name_is_not_host_prefixed_session(server.addr, &config).await;
}

#[tokio::test]
async fn non_utf8_neighbour_cookie_does_not_hide_the_session() {
    let config = hostile::config();
    let server = start(config.clone()).await;
    hostile::non_utf8_neighbour_cookie_does_not_hide_the_session(server.addr, &config).await;
}

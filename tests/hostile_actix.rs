//! Hostile `Cookie` headers sent over a real connection to an actix-web
//! server on 127.0.0.1:0 with the actix adapter: each is answered as "no
//! session" (or refused by actix's own request-head limit, 128 KiB, before
//! the adapter runs), and the server keeps serving.
#![cfg(feature = "actix")]

#[path = "common/hostile.rs"]
mod hostile;

use std::net::SocketAddr;
use std::sync::mpsc;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use sealed_session::actix::SessionMiddleware;
use sealed_session::{Session, SessionConfig};

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

#[tokio::test]
async fn hostile_cookie_headers_are_no_session() {
    let config = hostile::config();
    let server = start(config.clone());
    // Fewer cookies around ours: actix's request head is limited to 128 KiB.
    hostile::hostile_cookie_headers_are_no_session(server.addr, &config, 5_000).await;
}

#[tokio::test]
async fn unicode_whitespace_name_is_not_host_prefixed_session() {
    let config = hostile::host_config();
    let server = start(config.clone());
    hostile::unicode_whitespace_name_is_not_host_prefixed_session(server.addr, &config).await;
}

#[tokio::test]
async fn non_utf8_neighbour_cookie_does_not_hide_the_session() {
    let config = hostile::config();
    let server = start(config.clone());
    hostile::non_utf8_neighbour_cookie_does_not_hide_the_session(server.addr, &config).await;
}

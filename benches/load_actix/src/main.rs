//! Requests per second of a minimal actix-web handler that reads and writes
//! a session on every request (the small workload of `benches/common`),
//! with sealed-session's middleware versus actix-session's
//! `CookieSessionStore`, plus the same handler without any session as the
//! baseline. Loopback only, bounded in time and count.
//!
//! The server runs one actix worker on its own thread; the load generator
//! is a single-threaded tokio runtime with keep-alive HTTP/1 connections,
//! each carrying its own cookie (so every request opens the cookie the
//! previous one set, and seals a new one). Run it through
//! `benches/load_actix.sh`.

#[path = "../../common/mod.rs"]
mod common;
#[path = "../../common/load_report.rs"]
mod load_report;

use load_report::Measured;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{COOKIE, HOST, SET_COOKIE};
use hyper_util::rt::TokioIo;
use sealed_session::{Algorithm, SessionConfig};

use common::{small, Session as Workload};

/// The hard limits, whatever the arguments say.
const MAX_SECONDS: u64 = 60;
const MAX_CONNECTIONS: usize = 256;
const MAX_REQUESTS: u64 = 5_000_000;
const MAX_ROUNDS: u64 = 10;

#[derive(Clone, Copy)]
enum Variant {
    Bare,
    Sealed(Algorithm),
    ActixSession,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "no session (baseline)",
            Variant::Sealed(Algorithm::Aes256Gcm) => "sealed-session, AES-256-GCM",
            Variant::Sealed(_) => "sealed-session, XChaCha20-Poly1305",
            Variant::ActixSession => "actix-session CookieSessionStore",
        }
    }

    fn writes_cookie(self) -> bool {
        !matches!(self, Variant::Bare)
    }
}

async fn bare() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// One read and one write of the session.
async fn sealed(session: sealed_session::Session<Workload>) -> HttpResponse {
    let mut value = session.get().unwrap_or_else(small);
    value.issued_at += 1;
    match session.set(value) {
        Ok(()) => HttpResponse::Ok().body("ok"),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// The same with actix-session: one read and one write.
async fn actix_session(session: actix_session::Session) -> HttpResponse {
    let mut value = session
        .get::<Workload>("s")
        .ok()
        .flatten()
        .unwrap_or_else(small);
    value.issued_at += 1;
    match session.insert("s", value) {
        Ok(()) => HttpResponse::Ok().body("ok"),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Starts one actix worker on 127.0.0.1:0 serving `variant` on every path.
fn start(variant: Variant) -> (SocketAddr, ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    // actix-session's key: 64 bytes, fixed (never a real secret).
    let actix_key = actix_web::cookie::Key::from(&[0x42; 64]);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        let server = HttpServer::new(move || {
            // Both with their defaults apart from the cookie name.
            let sealed_mw = |algorithm| {
                let config = SessionConfig::new(common::sealer(algorithm)).expect("valid config");
                sealed_session::actix::SessionMiddleware::<Workload>::new(config)
            };
            let app = App::new();
            match variant {
                Variant::Bare => app.service(web::scope("").default_service(web::to(bare))),
                Variant::Sealed(algorithm) => app.service(
                    web::scope("")
                        .wrap(sealed_mw(algorithm))
                        .default_service(web::to(sealed)),
                ),
                Variant::ActixSession => app.service(
                    web::scope("")
                        .wrap(
                            actix_session::SessionMiddleware::builder(
                                actix_session::storage::CookieSessionStore::default(),
                                actix_key.clone(),
                            )
                            .cookie_name(common::NAME.to_owned())
                            .build(),
                        )
                        .default_service(web::to(actix_session)),
                ),
            }
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .expect("listen")
        .run();
        tx.send(server.handle()).expect("main thread waits");
        let _ = system.block_on(server);
    });
    (addr, rx.recv().expect("server started"))
}

/// One keep-alive connection sending `GET /` with its cookie until `end`.
async fn connection(
    addr: SocketAddr,
    variant: Variant,
    measure_from: Instant,
    end: Instant,
    counted: Arc<AtomicU64>,
) -> usize {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut cookie: Option<String> = None;
    let mut cookie_len = 0;
    while Instant::now() < end && counted.load(Ordering::Relaxed) < MAX_REQUESTS {
        let mut req = hyper::Request::get("/").header(HOST, "localhost");
        if let Some(c) = &cookie {
            req = req.header(COOKIE, c.as_str());
        }
        let req = req.body(Empty::<Bytes>::new()).expect("request");
        let res = sender.send_request(req).await.expect("response");
        assert_eq!(res.status(), 200, "{}", variant.name());
        if let Some(set) = res.headers().get(SET_COOKIE) {
            let set = set.to_str().expect("ASCII");
            cookie_len = set.len();
            cookie = set.split(';').next().map(str::to_owned);
        } else {
            assert!(
                !variant.writes_cookie(),
                "{}: no Set-Cookie",
                variant.name()
            );
        }
        res.into_body().collect().await.expect("body");
        if Instant::now() >= measure_from {
            counted.fetch_add(1, Ordering::Relaxed);
        }
    }
    cookie_len
}

fn measure(variant: Variant, connections: usize, warmup: Duration, seconds: Duration) -> Measured {
    let (addr, handle) = start(variant);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let counted = Arc::new(AtomicU64::new(0));
    let cookie_len = runtime.block_on(async {
        let measure_from = Instant::now() + warmup;
        let end = measure_from + seconds;
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(connection(
                    addr,
                    variant,
                    measure_from,
                    end,
                    Arc::clone(&counted),
                ))
            })
            .collect();
        let mut cookie_len = 0;
        for task in tasks {
            cookie_len = cookie_len.max(task.await.expect("connection task"));
        }
        cookie_len
    });
    drop(handle.stop(false));
    Measured {
        requests: counted.load(Ordering::Relaxed),
        seconds: seconds.as_secs_f64(),
        cookie_len,
    }
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = arg(&args, "--seconds", 3).clamp(1, MAX_SECONDS);
    let warmup = arg(&args, "--warmup", 1).min(MAX_SECONDS);
    let rounds = arg(&args, "--rounds", 3).clamp(1, MAX_ROUNDS);
    let connections = usize::try_from(arg(&args, "--connections", 32))
        .expect("a count")
        .clamp(1, MAX_CONNECTIONS);
    println!(
        "actix-web, 1 worker; loopback load: {connections} keep-alive connections, \
         {warmup} s warm-up and {seconds} s measured per variant and round, {rounds} \
         rounds (variants interleaved; the median round is shown, and the cost over the baseline also paired within each round); every session \
         request opens the previous cookie and seals a new one (small workload)\n"
    );
    let variants = [
        Variant::Bare,
        Variant::Sealed(Algorithm::XChaCha20Poly1305),
        Variant::Sealed(Algorithm::Aes256Gcm),
        Variant::ActixSession,
    ];
    let mut runs: Vec<Vec<Measured>> = variants.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (variant, runs) in variants.iter().zip(&mut runs) {
            runs.push(measure(
                *variant,
                connections,
                Duration::from_secs(warmup),
                Duration::from_secs(seconds),
            ));
        }
    }
    load_report::print(variants.into_iter().map(Variant::name).zip(runs));
}

//! Requests per second of a minimal hyper 1 handler that reads and writes a
//! session on every request (the small workload of `benches/common`), with
//! sealed-session's `SessionLayer` (each algorithm), against the same
//! handler without any session as the baseline. Loopback only, bounded in
//! time and count.
//!
//! The server is a single-threaded tokio runtime on its own thread; the load
//! generator is another, with keep-alive HTTP/1 connections, each carrying
//! its own cookie (so every request opens the cookie the previous one set,
//! and seals a new one). Run it through `benches/load_hyper.sh`.

#[path = "../../common/mod.rs"]
mod common;
#[path = "../../common/load_report.rs"]
mod load_report;

use load_report::Measured;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{COOKIE, HOST, SET_COOKIE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sealed_session::tower::{SessionExt, SessionLayer};
use sealed_session::{Algorithm, SessionConfig};
use tower::{service_fn, Layer};

use common::{small, Session as Workload};

/// The hard limits, whatever the arguments say.
const MAX_SECONDS: u64 = 60;
const MAX_CONNECTIONS: usize = 256;
const MAX_REQUESTS: u64 = 5_000_000;
const MAX_ROUNDS: u64 = 10;

type Reply = Result<Response<Full<Bytes>>, Infallible>;

#[derive(Clone, Copy)]
enum Variant {
    Bare,
    Sealed(Algorithm),
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "no session (baseline)",
            Variant::Sealed(Algorithm::Aes256Gcm) => "SessionLayer, AES-256-GCM",
            Variant::Sealed(_) => "SessionLayer, XChaCha20-Poly1305",
        }
    }
}

fn ok() -> Reply {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

async fn bare(_req: Request<Incoming>) -> Reply {
    ok()
}

/// One read and one write of the session.
async fn sealed(req: Request<Incoming>) -> Reply {
    let Ok(session) = req.session::<Workload>() else {
        return error();
    };
    let mut value = session.get().unwrap_or_else(small);
    value.issued_at += 1;
    match session.set(value) {
        Ok(()) => ok(),
        Err(_) => error(),
    }
}

fn error() -> Reply {
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    Ok(res)
}

/// Starts a server on 127.0.0.1:0 serving `variant` on every path, on its
/// own thread; it stops when the returned sender is dropped.
fn start(variant: Variant) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("local address");
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let layer = match variant {
                Variant::Bare => None,
                Variant::Sealed(algorithm) => Some(SessionLayer::<Workload>::new(
                    SessionConfig::new(common::sealer(algorithm)).expect("valid config"),
                )),
            };
            ready_tx.send(()).expect("main thread waits");
            loop {
                let stream = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                    _ = &mut stop_rx => break,
                };
                let _ = stream.set_nodelay(true);
                let io = TokioIo::new(stream);
                let builder = hyper::server::conn::http1::Builder::new();
                match &layer {
                    None => {
                        let service = TowerToHyperService::new(service_fn(bare));
                        tokio::spawn(async move { builder.serve_connection(io, service).await });
                    }
                    Some(layer) => {
                        let service = TowerToHyperService::new(layer.layer(service_fn(sealed)));
                        tokio::spawn(async move { builder.serve_connection(io, service).await });
                    }
                }
            }
        });
    });
    ready_rx.recv().expect("server started");
    (addr, stop_tx)
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
        let mut req = Request::get("/").header(HOST, "localhost");
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
                matches!(variant, Variant::Bare),
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
    let (addr, stop) = start(variant);
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
    drop(stop);
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
        "hyper 1, one single-threaded server runtime; loopback load: {connections} keep-alive \
         connections, {warmup} s warm-up and {seconds} s measured per variant and round, \
         {rounds} rounds (variants interleaved; the median round is shown, and the cost over the baseline also paired within each round); every session \
         request opens the previous cookie and seals a new one (small workload)\n"
    );
    let variants = [
        Variant::Bare,
        Variant::Sealed(Algorithm::XChaCha20Poly1305),
        Variant::Sealed(Algorithm::Aes256Gcm),
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

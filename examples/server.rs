//! The demo server: cookie sessions in a browser, like the classic Flask
//! sessions tutorial, served by hyper 1 on http://localhost:3000.
//!
//! ```text
//! cargo run --example server --features tower
//! ```
//!
//! - `/`        counts your visits; `/?username=NAME` stores a username
//! - `/get`     reads the username back
//! - `/fill?bytes=N` stores N bytes of filler (at most 100,000): past one
//!   cookie the session is written over several (`session`, `session.1`,
//!   ...; chunking is on), and past the chunking budget (7,168 bytes of
//!   `Cookie` header) the handler hears `TooLarge` and answers 413; a
//!   smaller N shrinks it again and removes the cookies it no longer needs
//! - `/login`   a form that stores a username (POST)
//! - `/logout`  clears the session
//!
//! A demo of sessions, kept short: `/?username=` and `/logout` change the
//! session on GET, and no route has the CSRF guard, against the rules of
//! README's CSRF section. `examples/axum.rs` puts its forms behind the
//! guard, as an application must.
//!
//! Keys come from the file named by `SESSION_KEYS_FILE` (re-read every
//! second: rotate and revoke without a restart), else from `SESSION_KEYS`
//! (see `Keyring`'s `FromStr` for the format). Without either the server
//! makes a key that lives only in this process, and says why that is not
//! for production. It listens on `127.0.0.1:$PORT` (default 3000).
//!
//! Logging out one user everywhere: with `REVOKED_FILE` set, the server
//! re-reads that file every second. Each line is `USERNAME UNIX_SECONDS`
//! (`#` starts a comment): that user's sessions issued before that time are
//! refused, on every server reading the same file; logging in again works,
//! because a login starts a new session lifetime (`Session::renew`). Like
//! the keyring, a change is applied once two reads in a row find it. A
//! content with a bad line is not applied (the previous one stays) and is
//! reported on stderr.
//!
//! The cookie keeps the secure defaults, `Secure` included: there is no
//! switch to turn it off here. Chrome, Firefox and Edge treat
//! `http://localhost` (and `http://127.0.0.1`) as a secure origin and keep
//! `Secure` cookies from it over plain HTTP, and so does curl 7.79 or later
//! (`curl -c jar -b jar http://localhost:3000/`), so the demo works without
//! TLS there. Safari does not: use another browser, or put TLS in front.
//! curl (7.88 at least) keeps a cookie whose removal is not the last
//! `Set-Cookie` of its response; the session's own removal comes last, so
//! `/logout` logs curl out too, but its jar may keep the session's other
//! removed cookies (chunks, which nothing reads without the first).

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, LOCATION};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sealed_session::tower::{SessionExt, SessionLayer};
use sealed_session::{Chunking, CookieOptions, Sealer, Session, SessionConfig};
use serde::{Deserialize, Serialize};

#[path = "common/keys.rs"]
mod keys;
use tower::{service_fn, Layer};

/// What this site keeps about a visitor, sealed into the cookie.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Visitor {
    username: Option<String>,
    visits: u64,
    /// What `/fill?bytes=N` stores on the hyper demo: N bytes that make
    /// the session span several cookies.
    filler: String,
}

type Reply = Result<Response<Full<Bytes>>, Infallible>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    keys::log_events();
    let keyring = keys::keyring()?;

    // In production prefer a `__Host-` name ("__Host-session"): browsers
    // then refuse a cookie of that name planted by a subdomain.
    let sealer = Sealer::from_live(&keyring)
        .with_name("session")
        .with_purpose("sealed-session-demo/visitor/v2");
    // A session too large for one cookie goes over several (see `/fill`).
    let options = CookieOptions::default().with_chunking(Chunking::default());
    let mut config = SessionConfig::with_options(sealer, options)?;
    if let Some(path) = std::env::var_os("REVOKED_FILE") {
        let revoked = watch_revoked(PathBuf::from(path))?;
        // A session stands unless its user was revoked after it was issued.
        config = config.with_check(move |visitor: &Visitor, issued_at| {
            let revoked = revoked.read().unwrap_or_else(PoisonError::into_inner);
            visitor
                .username
                .as_ref()
                .and_then(|name| revoked.get(name))
                .is_none_or(|since| issued_at >= *since)
        });
    }
    let layer = SessionLayer::<Visitor>::new(config);

    let addr = keys::addr()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // The port bound (`PORT=0` asks the system for a free one).
    let port = listener.local_addr()?.port();
    println!("listening on http://localhost:{port} (open it in Chrome, Firefox or Edge)");
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(layer.layer(service_fn(handle)));
        tokio::spawn(async move {
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {error}");
            }
        });
    }
}

async fn handle(req: Request<Incoming>) -> Reply {
    let session = match req.session::<Visitor>() {
        Ok(session) => session,
        // Only if the layer above were missing: say so instead of losing
        // what the visitor stores.
        Err(missing) => {
            eprintln!("{missing}");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "");
        }
    };
    let query = req.uri().query().unwrap_or("").to_owned();
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => index(&session, &query),
        (&Method::GET, "/get") => {
            let name = session.get().and_then(|v| v.username);
            match name {
                Some(name) => text(StatusCode::OK, &format!("username: {name}")),
                None => text(StatusCode::OK, "no username in the session"),
            }
        }
        (&Method::GET, "/fill") => fill(&session, &query),
        (&Method::GET, "/login") => html(
            StatusCode::OK,
            "<h1>Log in</h1>\
             <form method=post action=/login>\
             <input name=username placeholder=username autofocus> <button>Log in</button>\
             </form>",
        ),
        (&Method::POST, "/login") => {
            // Small forms only: 4 KiB is more than a cookie can hold anyway.
            let body = match Limited::new(req.into_body(), 4096).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "form too large"),
            };
            let form = String::from_utf8_lossy(&body);
            match form_value(&form, "username").filter(|n| !n.is_empty()) {
                Some(name) => store_name(&session, name),
                None => redirect("/login"),
            }
        }
        (&Method::GET, "/logout") => {
            session.clear();
            redirect("/")
        }
        _ => text(StatusCode::NOT_FOUND, "not found"),
    }
}

/// `/`: counts the visit, stores `?username=` if given.
fn index(session: &Session<Visitor>, query: &str) -> Reply {
    if let Some(name) = form_value(query, "username").filter(|n| !n.is_empty()) {
        return store_name(session, name);
    }
    let visitor = match session.update(|v| {
        v.visits += 1;
        v.clone()
    }) {
        Ok(visitor) => visitor,
        // The handler hears about a session too large for a cookie.
        Err(error) => return text(StatusCode::PAYLOAD_TOO_LARGE, &error.to_string()),
    };
    let greeting = match &visitor.username {
        Some(name) => format!(
            "Logged in as <b>{}</b>. <a href=/logout>Log out</a>",
            escape(name)
        ),
        None => "You are not logged in. <a href=/login>Log in</a>".to_owned(),
    };
    html(
        StatusCode::OK,
        &format!(
            "<h1>sealed-session demo</h1>\
             <p>{greeting}</p>\
             <p>You have visited this page {visits} time(s).</p>\
             <form action=/ method=get>\
             <input name=username placeholder=username> <button>Store username</button>\
             </form>\
             <p><a href=/get>/get</a> reads it back.</p>\
             <p><a href=/fill?bytes=5000>/fill?bytes=5000</a> makes the session span two \
             cookies; <a href=/fill?bytes=0>/fill?bytes=0</a> shrinks it back to one.</p>",
            visits = visitor.visits,
        ),
    )
}

/// `/fill?bytes=N`: stores N bytes of filler, keeping the rest.
fn fill(session: &Session<Visitor>, query: &str) -> Reply {
    let Some(bytes) = form_value(query, "bytes")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n <= 100_000)
    else {
        return text(StatusCode::BAD_REQUEST, "give ?bytes=N, N at most 100000");
    };
    match session.update(|v| v.filler = "x".repeat(bytes)) {
        Ok(()) => text(StatusCode::OK, &format!("stored {bytes} bytes of filler")),
        // Past the chunking budget: the handler hears it, nothing is sent.
        Err(error) => text(StatusCode::PAYLOAD_TOO_LARGE, &error.to_string()),
    }
}

/// A login: a new session lifetime (a fresh `issued_at`, so a revocation
/// of this user from before it does not apply), then the username.
fn store_name(session: &Session<Visitor>, name: String) -> Reply {
    match session
        .renew()
        .and_then(|()| session.update(|v| v.username = Some(name)))
    {
        Ok(()) => redirect("/"),
        Err(error) => text(StatusCode::PAYLOAD_TOO_LARGE, &error.to_string()),
    }
}

/// Per user, the time before which their sessions are refused.
type Revoked = Arc<RwLock<HashMap<String, SystemTime>>>;

/// Reads `path` (see the module docs) now, then every second in a
/// background thread, and applies a change once two reads in a row find
/// it, as the keyring's watcher does: a list read while it is half written
/// could lack a user, or end in a line cut short (`ada 17` parses, as a
/// cutoff in 1970).
fn watch_revoked(path: PathBuf) -> Result<Revoked, Box<dyn std::error::Error>> {
    let mut last = std::fs::read_to_string(&path)
        .map_err(|e| format!("REVOKED_FILE {}: {e}", path.display()))?;
    let revoked = Revoked::new(RwLock::new(parse_revoked(&last)?));
    let shared = Arc::clone(&revoked);
    let mut pending: Option<String> = None;
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) if text == last => {
                pending = None;
                continue;
            }
            Ok(text) if pending.as_ref() != Some(&text) => {
                pending = Some(text);
                continue;
            }
            Ok(text) => text,
            Err(e) => {
                eprintln!("REVOKED_FILE {}: {e}; keeping the last one", path.display());
                pending = None;
                continue;
            }
        };
        pending = None;
        match parse_revoked(&text) {
            Ok(map) => *shared.write().unwrap_or_else(PoisonError::into_inner) = map,
            Err(e) => eprintln!("REVOKED_FILE {}: {e}; not applied", path.display()),
        }
        last = text;
    });
    Ok(revoked)
}

/// `USERNAME UNIX_SECONDS` lines, `#` comments.
fn parse_revoked(text: &str) -> Result<HashMap<String, SystemTime>, String> {
    let mut map = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split_once('#').map_or(line, |(before, _)| before);
        let mut words = line.split_whitespace();
        let (name, secs) = match (words.next(), words.next(), words.next()) {
            (None, _, _) => continue,
            (Some(name), Some(secs), None) => (name, secs),
            _ => return Err(format!("line {}: expected USERNAME UNIX_SECONDS", n + 1)),
        };
        let since = secs
            .parse()
            .ok()
            .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
            .ok_or_else(|| format!("line {}: not a unix time", n + 1))?;
        map.insert(name.to_owned(), since);
    }
    Ok(map)
}

fn html(status: StatusCode, body: &str) -> Reply {
    let page = format!("<!doctype html><meta charset=utf-8><title>sealed-session</title>{body}");
    Ok(Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(page)))
        .unwrap_or_default())
}

fn text(status: StatusCode, body: &str) -> Reply {
    Ok(Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap_or_default())
}

fn redirect(to: &'static str) -> Reply {
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(LOCATION, to)
        .body(Full::default())
        .unwrap_or_default())
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The first value of `name` in an `application/x-www-form-urlencoded`
/// string (a query or a form body), decoded.
fn form_value(form: &str, name: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key)? == name).then(|| decode(value)).flatten()
    })
}

fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let digit = |b: u8| char::from(b).to_digit(16);
                let (hi, lo) = (digit(bytes.next()?)?, digit(bytes.next()?)?);
                u8::try_from(hi * 16 + lo).ok()?
            }
            b => b,
        });
    }
    String::from_utf8(out).ok()
}

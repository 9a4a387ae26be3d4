//! The demo server of `examples/server.rs` (cookie sessions in a browser,
//! like the classic Flask sessions tutorial), served by actix-web 4 on
//! http://localhost:3000. Same routes, same cookie (name, purpose and
//! chunking: the two demos open each other's sessions), same keys
//! (`SESSION_KEYS_FILE`, `SESSION_KEYS`); it does not read `REVOKED_FILE`.
//!
//! ```text
//! cargo run --example actix --features actix
//! ```
//!
//! - `/`        counts your visits; `/?username=NAME` stores a username
//! - `/get`     reads the username back
//! - `/login`   a form that stores a username (POST)
//! - `/logout`  clears the session
//! - `/fill?bytes=N` stores N bytes of filler, N at most 100,000 (chunking
//!   is on: the session spans as many cookies as it needs, a smaller N
//!   shrinks it again, and past the chunking budget the handler gets the
//!   error: a 413, nothing sent)
//!
//! A demo of sessions, kept short: `/?username=` and `/logout` change the
//! session on GET, and no route has the CSRF guard, against the rules of
//! README's CSRF section. `examples/axum.rs` puts its forms behind the
//! guard, as an application must (`sealed_session::actix::CsrfMiddleware`
//! here).
//!
//! Keys come from the file named by `SESSION_KEYS_FILE` (re-read every
//! second: rotate and revoke without a restart), else from `SESSION_KEYS`
//! (see `Keyring`'s `FromStr` for the format). Without either the server
//! makes a key that lives only in this process, and says why that is not
//! for production. It listens on `127.0.0.1:$PORT` (default 3000). With the same
//! `SESSION_KEYS`, this server and the hyper demo open each other's
//! cookies (run one at a time: both listen on port 3000).
//!
//! The cookie keeps the secure defaults, `Secure` included: Chrome, Firefox
//! and Edge treat `http://localhost` (and `http://127.0.0.1`) as a secure
//! origin and keep `Secure` cookies from it over plain HTTP, and so does
//! curl 7.79 or later (`curl -c jar -b jar http://localhost:3000/`). Safari
//! does not: use another browser, or put TLS in front. curl (7.88 at least)
//! keeps a cookie whose removal is not the last `Set-Cookie` of its
//! response; the session's own removal comes last, so a logout logs curl
//! out too, but its jar may keep the session's other removed cookies (the
//! CSRF cookie of the ended session, which nothing accepts).

use actix_web::http::header::{ContentType, LOCATION};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};
use sealed_session::actix::SessionMiddleware;
use sealed_session::{Chunking, CookieOptions, Sealer, Session, SessionConfig};
use serde::{Deserialize, Serialize};

#[path = "common/keys.rs"]
mod keys;

/// What this site keeps about a visitor, sealed into the cookie.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Visitor {
    username: Option<String>,
    visits: u64,
    /// What `/fill?bytes=N` stores: N bytes that make the session span
    /// several cookies.
    filler: String,
}

/// `?username=` or the login form's field.
#[derive(Debug, Deserialize)]
struct Name {
    username: Option<String>,
}

/// `/fill?bytes=N`.
#[derive(Debug, Deserialize)]
struct Fill {
    bytes: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    keys::log_events();
    let keyring = keys::keyring()?;
    let addr = keys::addr()?;

    // In production prefer a `__Host-` name ("__Host-session"): browsers
    // then refuse a cookie of that name planted by a subdomain.
    let sealer = Sealer::from_live(&keyring)
        .with_name("session")
        .with_purpose("sealed-session-demo/visitor/v2");
    // Chunking on, as on the hyper demo, so both read the same cookies.
    let options = CookieOptions::default().with_chunking(Chunking::default());
    let config = SessionConfig::with_options(sealer, options)?;

    // Every worker gets a clone of the same configuration, so of the same
    // keyring: they all open each other's cookies.
    let server = HttpServer::new(move || {
        App::new()
            // Small forms only: 4 KiB is more than a cookie can hold anyway.
            .app_data(web::FormConfig::default().limit(4096))
            .wrap(SessionMiddleware::<Visitor>::new(config.clone()))
            .route("/", web::get().to(index))
            .route("/get", web::get().to(get))
            .route("/login", web::get().to(login_form))
            .route("/login", web::post().to(login))
            .route("/logout", web::get().to(logout))
            .route("/fill", web::get().to(fill))
            .default_service(web::to(not_found))
    })
    .bind(addr)?;
    // The port bound (`PORT=0` asks the system for a free one).
    let port = server.addrs().first().map_or(addr.port(), |a| a.port());
    println!("listening on http://localhost:{port} (open it in Chrome, Firefox or Edge)");
    actix_web::rt::System::new().block_on(server.run())?;
    Ok(())
}

/// `/`: counts the visit, stores `?username=` if given.
async fn index(session: Session<Visitor>, query: web::Query<Name>) -> HttpResponse {
    if let Some(name) = query.into_inner().username.filter(|n| !n.is_empty()) {
        return store_name(&session, name);
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
    html(&format!(
        "<h1>sealed-session demo</h1>\
         <p>{greeting}</p>\
         <p>You have visited this page {visits} time(s).</p>\
         <form action=/ method=get>\
         <input name=username placeholder=username> <button>Store username</button>\
         </form>\
         <p><a href=/get>/get</a> reads it back.</p>",
        visits = visitor.visits,
    ))
}

async fn get(session: Session<Visitor>) -> HttpResponse {
    match session.get().and_then(|v| v.username) {
        Some(name) => text(StatusCode::OK, &format!("username: {name}")),
        None => text(StatusCode::OK, "no username in the session"),
    }
}

async fn login_form() -> HttpResponse {
    html(
        "<h1>Log in</h1>\
         <form method=post action=/login>\
         <input name=username placeholder=username autofocus> <button>Log in</button>\
         </form>",
    )
}

async fn login(session: Session<Visitor>, form: web::Form<Name>) -> HttpResponse {
    match form.into_inner().username.filter(|n| !n.is_empty()) {
        Some(name) => store_name(&session, name),
        None => redirect("/login"),
    }
}

async fn logout(session: Session<Visitor>) -> HttpResponse {
    session.clear();
    redirect("/")
}

/// `/fill?bytes=N`: N bytes of filler (at most 100,000), which the session
/// carries over as many cookies as it needs.
async fn fill(session: Session<Visitor>, query: web::Query<Fill>) -> HttpResponse {
    let Some(bytes) = query
        .into_inner()
        .bytes
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

async fn not_found() -> HttpResponse {
    text(StatusCode::NOT_FOUND, "not found")
}

/// A login: a new session lifetime (a fresh `issued_at`, so the session's
/// lifetime starts at the login), then the username.
fn store_name(session: &Session<Visitor>, name: String) -> HttpResponse {
    match session
        .renew()
        .and_then(|()| session.update(|v| v.username = Some(name)))
    {
        Ok(()) => redirect("/"),
        Err(error) => text(StatusCode::PAYLOAD_TOO_LARGE, &error.to_string()),
    }
}

fn html(body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(format!(
            "<!doctype html><meta charset=utf-8><title>sealed-session</title>{body}"
        ))
}

fn text(status: StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::plaintext())
        .body(body.to_owned())
}

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to))
        .finish()
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

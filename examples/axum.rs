//! The demo on axum: a `Router` with state, the session as an extractor,
//! `?` on the crate's `Error` in handlers, and the whole flow of a site
//! with accounts: login and logout forms protected against CSRF, flash
//! messages after their redirects, and an idle timeout.
//!
//! ```text
//! cargo run --example axum --features axum
//! ```
//!
//! - `GET /`          counts your visits, shows a flash message if one came
//! - `GET /login`     the login form (with its CSRF token)
//! - `POST /login`    `username=NAME&csrf_token=TOKEN`: a fresh session
//!   (`renew`), the name, a "welcome" flash, `303` to `/whoami`
//! - `GET /whoami`    who you are and since when, and the logout form
//! - `POST /logout`   `csrf_token=TOKEN`: clears the session, a "logged
//!   out" flash, `303` to `/`
//!
//! Every `POST` goes through the CSRF guard: without a valid token (or
//! from another site) it is an empty `403` and a warn event.
//!
//! Keys and address as for the other demos: `SESSION_KEYS_FILE` (watched),
//! else `SESSION_KEYS`, else a key of this process only; `PORT` (default
//! 3000). `IDLE_SECS` sets the idle timeout (default 1800: a session not
//! used for 30 minutes ends; try 10). `RUST_LOG` filters the printed events
//! (default `info`).

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{Form, State};
use axum::response::{Html, Redirect};
use axum::routing::get;
use axum::Router;
use sealed_session::tower::{CsrfLayer, SessionLayer};
use sealed_session::{Chunking, CookieOptions, CsrfGuard, Error, Sealer, Session, SessionConfig};
use serde::{Deserialize, Serialize};

#[path = "common/keys.rs"]
mod keys;

/// What this site keeps about a visitor, sealed into the cookie.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Visitor {
    username: Option<String>,
    visits: u64,
    /// What `/fill?bytes=N` stores on the hyper demo: N bytes that make
    /// the session span several cookies.
    filler: String,
}

/// The one-shot notices of this site, sent as flash messages.
#[derive(Debug, Serialize, Deserialize)]
enum Notice {
    Welcome(String),
    LoggedOut,
}

/// The application's own state, next to the session layer.
struct AppState {
    site: &'static str,
}

/// The login form's fields (the guard already checked `csrf_token`).
#[derive(Deserialize)]
struct Login {
    username: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    keys::log_events();
    let keyring = keys::keyring()?;
    let addr = keys::addr()?;
    let idle = match std::env::var("IDLE_SECS") {
        Ok(secs) => secs
            .parse()
            .map_err(|_| format!("IDLE_SECS={secs:?} is not a number of seconds"))?,
        Err(_) => 30 * 60,
    };
    // Re-seal (and send `Set-Cookie`) at most once per tenth of the idle
    // time, so a read does not rewrite the cookie on every request.
    let refresh = Duration::from_secs((idle / 10).max(1));
    // In production prefer a `__Host-` name ("__Host-session"): browsers
    // then refuse a cookie of that name planted by a subdomain.
    let sealer = Sealer::from_live(&keyring)
        .with_name("session")
        .with_purpose("sealed-session-demo/visitor/v2")
        .with_ttl(Duration::from_secs(12 * 3600))
        .with_idle_timeout(Duration::from_secs(idle), refresh);
    let state = Arc::new(AppState {
        site: "sealed-session on axum",
    });
    let app = Router::new()
        .route("/", get(count))
        .route("/login", get(login_form).post(login))
        .route("/whoami", get(whoami))
        .route("/logout", axum::routing::post(logout))
        // The guard inside the session layer (the last layer added is the
        // outermost): it reads the request's session.
        .layer(CsrfLayer::<Visitor>::new(CsrfGuard::new()))
        .layer(SessionLayer::<Visitor>::new(SessionConfig::with_options(
            sealer,
            // Chunking on, as on the hyper demo, so both read the same cookies.
            CookieOptions::default().with_chunking(Chunking::default()),
        )?))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // The port bound (`PORT=0` picks a free one).
    println!(
        "listening on http://localhost:{}",
        listener.local_addr()?.port()
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// The flash message the request carried, as a line of text.
fn notice(session: &Session<Visitor>) -> String {
    match session.take_flash::<Notice>() {
        Some(Notice::Welcome(name)) => format!("[welcome, {name}]\n"),
        Some(Notice::LoggedOut) => "[you are logged out]\n".to_owned(),
        None => String::new(),
    }
}

/// `GET /`: counts the visit. A session too large for its cookie would be
/// an empty 413 through `?` (it cannot happen with this small struct).
async fn count(
    State(state): State<Arc<AppState>>,
    session: Session<Visitor>,
) -> Result<String, Error> {
    let notice = notice(&session);
    let visits = session.update(|v| {
        v.visits += 1;
        v.visits
    })?;
    Ok(format!("{notice}{}: visit number {visits}\n", state.site))
}

/// `GET /login`: the form, with the session's CSRF token.
async fn login_form(session: Session<Visitor>) -> Result<Html<String>, Error> {
    let token = session.csrf_token()?;
    Ok(Html(format!(
        "<form method=\"post\" action=\"/login\">\n\
         <input name=\"username\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <button>Log in</button>\n\
         </form>\n"
    )))
}

/// `POST /login`: a new lifetime for the session (so no session from
/// before the login, perhaps fixed by someone else, carries over; it also
/// retires the CSRF secret of the anonymous session), the name, and a
/// welcome for the page after the redirect.
async fn login(session: Session<Visitor>, Form(login): Form<Login>) -> Result<Redirect, Error> {
    session.renew()?;
    session.update(|v| v.username = Some(login.username.clone()))?;
    session.set_flash(&Notice::Welcome(login.username))?;
    Ok(Redirect::to("/whoami"))
}

/// `GET /whoami`: reads without cloning the session, and offers the
/// logout form.
async fn whoami(session: Session<Visitor>) -> Result<Html<String>, Error> {
    let notice = notice(&session);
    let name = session.with(|v| v.and_then(|v| v.username.clone()));
    let since = session
        .issued_at()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let Some(name) = name else {
        return Ok(Html(format!("{notice}nobody: log in at /login\n")));
    };
    let token = session.csrf_token()?;
    Ok(Html(format!(
        "{notice}{name}, logged in since unix time {since}\n\
         <form method=\"post\" action=\"/logout\">\n\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{token}\">\n\
         <button>Log out</button>\n\
         </form>\n"
    )))
}

/// `POST /logout`: the response removes the session's cookies, and a
/// flash says so on the page after the redirect.
async fn logout(session: Session<Visitor>) -> Result<Redirect, Error> {
    session.clear();
    session.set_flash(&Notice::LoggedOut)?;
    Ok(Redirect::to("/"))
}

//! The demo on axum: a `Router` with state, the session as an extractor,
//! and `?` on the crate's `Error` in handlers.
//!
//! ```text
//! cargo run --example axum --features axum
//! ```
//!
//! - `/`                    counts your visits
//! - `/login?username=NAME` logs in (a fresh session: `renew`, then store)
//! - `/whoami`              who you are, and since when
//! - `/logout`              clears the session
//!
//! Keys and address as for the other demos: `SESSION_KEYS_FILE` (watched),
//! else `SESSION_KEYS`, else a key of this process only; `PORT` (default
//! 3000). `RUST_LOG` filters the printed events (default `info`).

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use sealed_session::tower::SessionLayer;
use sealed_session::{Chunking, CookieOptions, Error, Sealer, Session, SessionConfig};
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

/// The application's own state, next to the session layer.
struct AppState {
    site: &'static str,
}

#[derive(Deserialize)]
struct Login {
    username: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    keys::log_events();
    let keyring = keys::keyring()?;
    let addr = keys::addr()?;
    // In production prefer a `__Host-` name ("__Host-session"): browsers
    // then refuse a cookie of that name planted by a subdomain.
    let sealer = Sealer::from_live(&keyring)
        .with_name("session")
        .with_purpose("sealed-session-demo/visitor/v2")
        .with_ttl(Duration::from_secs(12 * 3600))
        .with_idle_timeout(Duration::from_secs(30 * 60), Duration::from_secs(60));
    let state = Arc::new(AppState {
        site: "sealed-session on axum",
    });
    let app = Router::new()
        .route("/", get(count))
        .route("/login", get(login))
        .route("/whoami", get(whoami))
        .route("/logout", get(logout))
        .layer(SessionLayer::<Visitor>::new(SessionConfig::with_options(
            sealer,
            // Chunking on, as on the hyper demo, so both read the same cookies.
            CookieOptions::default().with_chunking(Chunking::default()),
        )?))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://localhost:{}", addr.port());
    axum::serve(listener, app).await?;
    Ok(())
}

/// `/`: counts the visit. A session too large for its cookie would be an
/// empty 413 through `?` (it cannot happen with this small struct).
async fn count(
    State(state): State<Arc<AppState>>,
    session: Session<Visitor>,
) -> Result<String, Error> {
    let visits = session.update(|v| {
        v.visits += 1;
        v.visits
    })?;
    Ok(format!("{}: visit number {visits}\n", state.site))
}

/// `/login?username=NAME`: a new lifetime for the session, then the name.
async fn login(session: Session<Visitor>, Query(login): Query<Login>) -> Result<Redirect, Error> {
    session.renew()?;
    session.update(|v| v.username = Some(login.username))?;
    Ok(Redirect::to("/whoami"))
}

/// `/whoami`: reads without cloning the session.
async fn whoami(session: Session<Visitor>) -> String {
    let name = session.with(|v| v.and_then(|v| v.username.clone()));
    let since = session
        .issued_at()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    match name {
        Some(name) => format!("{name}, logged in since unix time {since}\n"),
        None => "nobody: /login?username=NAME\n".to_owned(),
    }
}

/// `/logout`: the response removes the cookie.
async fn logout(session: Session<Visitor>) -> Redirect {
    session.clear();
    Redirect::to("/")
}

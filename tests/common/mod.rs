//! The one HTTP harness of the integration tests: real servers on
//! 127.0.0.1:0 (`tests/servers/`, one file per server), a real HTTP client
//! (hyper's own client connection) with a tiny cookie jar (`client.rs`), a
//! clock the tests move by hand and the cookie formats written out
//! (`clock.rs`), the process-wide log capture (`capture.rs`), and the
//! acceptance checks every server passes (`checks/`, by topic).
//!
//! # Plugging in a server
//!
//! A server's test file (`tests/hyper.rs`, `tests/axum.rs`,
//! `tests/actix.rs`) does:
//!
//! ```ignore
//! #[macro_use]
//! mod common;
//! #[path = "servers/actix.rs"]
//! mod actix_server;
//!
//! acceptance_suite!(actix_server::start);
//! ```
//!
//! `start` must, when called from inside a tokio runtime, start a server on
//! `127.0.0.1:0` (its own runtime or thread is fine) using `config` for the
//! session with `Session<TestSession>`, and return a [`TestServer`]: its
//! address, how many short cookies fit into one request head under the
//! framework's own limit, and a guard that stops it when dropped. Each
//! check starts the servers it needs. The server implements this contract:
//!
//! - every path except `/no-layer` is wrapped by the adapter's session
//!   layer/middleware; unless listed below, its handler takes the
//!   `Session<TestSession>` the adapter's way and answers
//!   [`route`]`(path_and_query, &session)`: the status code and the body
//!   (text/plain) it returns, nothing else;
//! - paths under `/nested/` are wrapped, inside that one, by a second
//!   layer/middleware with the same config (as on a nested router or
//!   scope), and paths under `/nested-other/` by one for the same cookie
//!   with another purpose ([`other_purpose`]); `route` serves them as the
//!   same path without the prefix;
//! - `GET /no-layer` is served *without* the layer/middleware; its handler
//!   asks for `Session<TestSession>` the adapter's way, must get the
//!   adapter's missing-session error, and answers `500` with an empty body
//!   (an adapter with an error response answers with it);
//! - `GET /other-type`, under the layer, asks for a `Session<u8>`, for
//!   which no layer runs, and answers the missing-session error likewise;
//! - `GET /ext` takes the session through the adapter's `SessionExt` twice:
//!   before the handler (in a middleware or service around it, from the
//!   framework's request type there), where it increments the counter, and
//!   in the handler (from another request type of the framework where
//!   there is one), where it increments it again, checks that asking for
//!   `Session<u16>` there is `ConfigError::missing_session::<u16>()`, and
//!   answers `200 COUNTER` (`500` if a check failed);
//! - servers of frameworks where `?` on [`Error`] answers a request (axum
//!   and actix-web; not plain hyper) also serve these routes, whose
//!   handlers use `?` and answer `200` with a non-empty body if it did not
//!   return:
//!   - `GET /error/too-large`, under the layer: [`store_too_much`]`(&session)?`,
//!     a session too large for its cookie (so an empty `413`);
//!   - `GET /error/config?var=NAME`: `Keyring::from_env(NAME)?` for a
//!     variable that is not set (an empty `500`);
//!   - `GET /error/keyring`: [`leaky_keyring`]`()?`, a spec whose key is
//!     31 bytes (an empty `500`; the key's text is in no event).
//!
//! The suite then checks everything on the wire: `Set-Cookie` headers,
//! statuses and bodies, and, for events, the log of the test binary.

#![allow(dead_code)]

pub(crate) mod capture;
mod checks;
mod client;
mod clock;
pub(crate) mod example;

#[allow(unused_imports)]
pub(crate) use checks::*;
pub(crate) use client::*;
pub(crate) use clock::*;

use std::net::SocketAddr;

use sealed_session::{Error, Keyring, SealError, Session, SessionConfig};
use serde::{Deserialize, Serialize};

/// The session every adapter's test server holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TestSession {
    pub(crate) username: Option<String>,
    pub(crate) counter: u64,
    pub(crate) blob: String,
}

/// The value of query parameter `name` in `query` (`""` if absent).
pub(crate) fn param(query: &str, name: &str) -> String {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("")
        .to_owned()
}

/// The sessions `/keep` kept past their responses.
pub(crate) static KEPT: std::sync::Mutex<Vec<Session<TestSession>>> =
    std::sync::Mutex::new(Vec::new());

/// The routes every adapter's test server answers (see the module docs).
///
/// - `/set?username=NAME`: stores the username; `200 ok`.
/// - `/get`: `200 USERNAME:COUNTER` (`:0` for an empty session); never writes.
/// - `/who`: `200 USERNAME`, or `200 -` for an empty session; never writes.
/// - `/count`: increments the counter; `200 COUNTER`.
/// - `/logout`: clears the session; `200 ok`.
/// - `/big?len=N`: stores a blob of N bytes; `200 ok`, or `413` with an
///   empty body when the session would not fit in a cookie.
/// - `/blob`: `200 LEN`, the length of the stored blob; never writes.
/// - `/flash?msg=TEXT`: sets the flash message `TEXT` (a `String`); `303
///   ok`, as before a redirect (or `413`/`500` with an empty body); never
///   writes the session.
/// - `/show-flash`: takes the flash message; `200 TEXT`, or `200 -` when
///   there is none; never writes the session.
/// - `/csrf-form`: `200 TOKEN`, a CSRF token of the session
///   (`Session::csrf_token`), or `500` with an empty body.
/// - `/keep`: keeps a clone of the session in [`KEPT`], past the response
///   (as a spawned task would); `200 kept`.
///
/// Every other method than `GET` goes through the adapter's CSRF guard
/// (with `CsrfGuard::new()`, inside the session layer) to [`route_unsafe`].
/// Between the two, a layer of the server answers the guard's refusals its
/// own way, as an application may: it replaces the guard's `403` with a
/// new empty `403` whose `x-csrf-failure` header is the `Debug` of the
/// `CsrfFailure` that the guard's response carries in its extensions. The
/// session layer outside still adds its cookies to that new response.
pub(crate) fn route(path_and_query: &str, session: &Session<TestSession>) -> (u16, String) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let path = ["/nested-other", "/nested"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))
        .unwrap_or(path);
    let stored = |result: Result<(), Error>| match result {
        Ok(()) => (200, "ok".to_owned()),
        Err(Error::Seal(SealError::TooLarge { .. })) => (413, String::new()),
        Err(_) => (500, String::new()),
    };
    match path {
        "/set" => stored(session.update(|s| s.username = Some(param(query, "username")))),
        "/get" => {
            let s = session.get().unwrap_or_default();
            (
                200,
                format!("{}:{}", s.username.unwrap_or_default(), s.counter),
            )
        }
        "/who" => match session.get() {
            Some(s) => (200, s.username.unwrap_or_default()),
            None => (200, "-".to_owned()),
        },
        "/count" => match session.update(|s| {
            s.counter += 1;
            s.counter
        }) {
            Ok(n) => (200, n.to_string()),
            Err(_) => (500, String::new()),
        },
        "/logout" => {
            session.clear();
            (200, "ok".to_owned())
        }
        "/big" => {
            let len = param(query, "len").parse().unwrap_or(0);
            stored(session.update(|s| s.blob = "x".repeat(len)))
        }
        "/blob" => (
            200,
            session.with(|s| s.map_or(0, |s| s.blob.len())).to_string(),
        ),
        "/flash" => match stored(session.set_flash(&param(query, "msg"))) {
            (200, body) => (303, body),
            failed => failed,
        },
        "/show-flash" => (
            200,
            session
                .take_flash::<String>()
                .unwrap_or_else(|| "-".to_owned()),
        ),
        "/csrf-form" => match session.csrf_token() {
            Ok(token) => (200, token),
            Err(_) => (500, String::new()),
        },
        "/keep" => {
            // A handle kept past the response, as a spawned task would.
            KEPT.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(session.clone());
            (200, "kept".to_owned())
        }
        _ => (404, String::new()),
    }
}

/// The routes of the other methods (`POST`, `PUT`, ...), behind the CSRF
/// guard, given the request body (a urlencoded form, or anything):
///
/// - `/csrf-post`: `200 posted NOTE`, the body's `note` field (so the
///   handler sees the body the guard read);
/// - `/csrf-login`: stores the body's `username` and renews the session
///   (a new `issued_at`, as at login); `200 ok`;
/// - anything else: `200 done`.
pub(crate) fn route_unsafe(
    path_and_query: &str,
    body: &str,
    session: &Session<TestSession>,
) -> (u16, String) {
    let path = path_and_query.split('?').next().unwrap_or_default();
    match path {
        "/csrf-post" => (200, format!("posted {}", param(body, "note"))),
        "/csrf-login" => {
            let stored = session
                .update(|s| s.username = Some(param(body, "username")))
                .and_then(|()| session.renew());
            match stored {
                Ok(()) => (200, "ok".to_owned()),
                Err(_) => (500, String::new()),
            }
        }
        _ => (200, "done".to_owned()),
    }
}

/// The username `/error/too-large` stores with its blob: in no event.
pub(crate) const SECRET_USERNAME: &str = "secret-user-7f3a";

/// The key text of `/error/keyring`'s spec (31 bytes once decoded): in no
/// event.
pub(crate) const LEAKY_KEY: &str = "c2VjcmV0LWtleS1tYXRlcmlhbC1vZi0zMS1ieXRlcw";

/// What `/error/too-large` does: stores a session far too large for a
/// cookie.
///
/// # Errors
/// Always `SealError::TooLarge`.
pub(crate) fn store_too_much(session: &Session<TestSession>) -> Result<(), Error> {
    session.update(|s| {
        s.username = Some(SECRET_USERNAME.to_owned());
        s.blob = SECRET_USERNAME.repeat(1000);
    })
}

/// What `/error/after-write` does: counts a visit in the session, then
/// fails with a configuration error.
///
/// # Errors
/// Always `ConfigError::EmptyKeyring`.
pub(crate) fn write_then_fail(session: &Session<TestSession>) -> Result<(), Error> {
    session.update(|s| s.counter += 1)?;
    Err(sealed_session::ConfigError::EmptyKeyring.into())
}

/// What `/error/keyring` does: parses a spec with a 31-byte key.
///
/// # Errors
/// Always `ConfigError::Entry` (entry 1, a key of 31 bytes).
pub(crate) fn leaky_keyring() -> Result<Keyring, Error> {
    format!("1:xchacha20poly1305:{LEAKY_KEY}").parse()
}

/// What `/error/kind?kind=NAME` returns: the errors a handler may meet
/// with `?` besides a session too large and a configuration error:
/// `encode` (a `Serialize` impl failed), `time` (a time out of range),
/// `refused` (a session whose lifetime ended during the request),
/// anything else the operating system's generator failing.
pub(crate) fn error_of_kind(kind: &str) -> Error {
    match kind {
        "encode" => SealError::Encode.into(),
        "time" => SealError::TimeRange.into(),
        "refused" => sealed_session::Refusal::Expired.into(),
        _ => Error::Rng,
    }
}

/// A running test server; dropping it stops the server.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    /// How many short cookies (`c1=v1; c2=v2; ...`, 10,000 at most) fit
    /// into one request head under the framework's own limit, with a
    /// session cookie beside them.
    pub(crate) crowd: usize,
    _guard: Box<dyn Send>,
}

impl TestServer {
    pub(crate) fn new(addr: SocketAddr, crowd: usize, guard: impl Send + 'static) -> Self {
        TestServer {
            addr,
            crowd,
            _guard: Box::new(guard),
        }
    }
}

/// How an adapter starts its test server.
pub(crate) type Start = fn(SessionConfig) -> TestServer;

/// Generates one `#[tokio::test]` per acceptance check for an adapter's
/// `start` function (see the module docs).
#[macro_export]
macro_rules! acceptance_suite {
    ($start:path) => {
        $crate::acceptance_suite!(@tests $start;
            // checks/lifecycle.rs
            set_then_get,
            counter,
            secure_defaults,
            logout_removes_the_cookie,
            bad_cookies_are_an_empty_session,
            expired_cookie,
            not_yet_valid_cookie_is_ignored_not_removed,
            writes_keep_the_absolute_lifetime,
            oversized_session,
            two_layers_for_the_same_type_make_one_decision,
            nested_layers_of_other_configurations_log_an_error,
            missing_layer_is_an_error,
            session_ext_outside_the_handler,
            // checks/rotation.rs
            rotation_on_the_wire,
            replayed_old_key_cookie_spends_one_nonce,
            two_servers_share_sessions,
            scheduled_rotation_across_servers,
            // checks/tossing.rs
            cookie_tossing,
            same_name_cap_counts_distinct_cookies,
            unicode_whitespace_name_is_not_host_prefixed_session,
            // checks/hostile.rs
            hostile_cookie_headers_are_no_session,
            non_utf8_neighbour_cookie_does_not_hide_the_session,
            // checks/logging.rs
            refused_cookie_is_logged_without_its_value,
            routine_refusal_is_logged_at_debug,
            several_valid_cookies_are_logged_without_their_value,
            not_yet_valid_cookie_is_logged_as_a_warning,
            unsendable_reseal_is_logged_as_an_error,
            write_after_the_response_is_logged_and_lost,
            // checks/flash.rs
            flash_is_read_once_after_a_redirect,
            unread_flash_survives_other_requests,
            foreign_tampered_and_planted_flashes_do_not_open,
            logout_removes_the_flash,
            flash_under_nested_layers_is_one_decision,
            refused_flash_is_logged_without_its_value,
            // checks/csrf.rs
            csrf_form_round_trip,
            csrf_missing_or_bad_token_is_forbidden,
            csrf_token_of_another_session_is_forbidden,
            csrf_cross_site_requests_are_forbidden,
            csrf_works_across_servers_with_one_keyring,
            csrf_secret_changes_at_login_and_goes_at_logout,
            csrf_form_after_the_session_expired_is_missing_its_cookie,
            csrf_cookies_planted_beside_ours_do_not_block_forms,
            csrf_token_only_from_the_header_or_a_urlencoded_form,
            csrf_form_sent_in_chunks,
            csrf_refusal_events_hold_no_token_or_cookie,
            // checks/revocation.rs
            async_check_logs_out_a_revoked_subject,
            async_check_of_another_type_fails_closed,
            check_of_another_type_fails_closed,
            // checks/chunks.rs
            large_sessions_round_trip_in_chunks,
            shrinking_removes_stale_chunks,
            lowered_max_or_chunking_off_removes_old_chunks,
            chunks_that_do_not_belong_together_are_refused,
            chunk_budget_is_enforced_at_set,
            padding_hides_sizes_within_a_class,
        );
    };
    (@tests $start:path; $($check:ident,)*) => {
        $(
            #[tokio::test]
            async fn $check() {
                $crate::common::$check($start).await;
            }
        )*
    };
}

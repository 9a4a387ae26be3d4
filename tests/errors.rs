//! `?` on the crate's `Error` where applications use it, over real HTTP:
//! in axum handlers (an `axum::Router`, `tests/servers/axum.rs`) and in
//! actix-web handlers (`tests/servers/actix.rs`), through the error routes
//! of the harness's contract; and in actix's usual `std::io::Result<()>`
//! `main`. Every answer is empty (`413` for a session too large for its
//! cookie, `500` otherwise); the reason goes to the server's log, at warn
//! level for `413` and error level for `500`, without secrets.
//!
//! The events these checks read carry nothing that only one check uses,
//! so every check here that reads the log takes its turn
//! (`capture::alone`).
#![cfg(any(feature = "axum", feature = "actix"))]

#[cfg(feature = "actix")]
#[path = "servers/actix.rs"]
mod actix_server;
#[cfg(feature = "axum")]
#[path = "servers/axum.rs"]
mod axum_server;
mod common;

use common::{
    capture, config, get, one_key_ring, Jar, Start, TestClock, TestSession, LEAKY_KEY,
    SECRET_USERNAME,
};

/// The event of an error a handler returned (one per answer).
const ANSWERED: &str = "message=handler answered a session error";

fn start_server(start: Start) -> common::TestServer {
    start(config(TestClock::new().sealer(&one_key_ring(), "session")))
}

/// Asserts that no line holds a piece of `secret`.
#[track_caller]
fn assert_not_in(lines: &[String], secret: &str) {
    for chunk in secret.as_bytes().chunks(8) {
        let chunk = std::str::from_utf8(chunk).expect("ASCII");
        let leaks: Vec<_> = lines.iter().filter(|l| l.contains(chunk)).collect();
        assert!(leaks.is_empty(), "{chunk:?} of a secret in {leaks:?}");
    }
}

/// A session too large for its cookie, stored with `?`: an empty `413`,
/// no cookie, the session as it was, and one warn event with the reason
/// and not the session's content.
async fn too_large_is_an_empty_413(start: Start) {
    let log = capture::alone().await;
    let server = start_server(start);
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/set?username=ada").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    r.only_cookie();

    let r = jar.get(server.addr, "/error/too-large").await;
    assert_eq!((r.status, r.body.as_str()), (413, ""), "{r:?}");
    assert!(r.set_cookies.is_empty(), "nothing stored: {r:?}");
    assert_eq!(jar.get(server.addr, "/get").await.body, "ada:0");

    let lines = log.lines();
    let answered: Vec<_> = lines.iter().filter(|l| l.contains(ANSWERED)).collect();
    assert_eq!(answered.len(), 1, "{lines:?}");
    let line = answered[0];
    assert!(line.starts_with("WARN "), "{line}");
    assert!(line.contains("status=413"), "{line}");
    assert!(line.contains("error=session too large: "), "{line}");
    assert!(!lines.iter().any(|l| l.starts_with("ERROR ")), "{lines:?}");
    assert_not_in(&lines, SECRET_USERNAME);
}

/// A handler that changes the session and then returns an error with `?`:
/// the error response (an empty `500`) still carries the session's cookie,
/// and the change is kept.
async fn an_error_after_a_write_keeps_the_write(start: Start) {
    let log = capture::alone().await;
    let server = start_server(start);
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/set?username=ada").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));

    let r = jar.get(server.addr, "/error/after-write").await;
    assert_eq!((r.status, r.body.as_str()), (500, ""), "{r:?}");
    let cookie = r.only_cookie();
    assert!(
        cookie.starts_with("session=") && !cookie.contains("Max-Age=0;"),
        "{cookie}"
    );
    assert_eq!(jar.get(server.addr, "/get").await.body, "ada:1");
    let lines = log.lines();
    assert_eq!(
        lines.iter().filter(|l| l.contains(ANSWERED)).count(),
        1,
        "{lines:?}"
    );
}

/// A configuration error returned with `?` (a keyring variable that is not
/// set, a spec with a bad key): an empty `500`, no cookie, and one error
/// event each that says what to fix and holds no key material.
async fn config_error_is_an_empty_500(start: Start) {
    const VAR: &str = "SEALED_SESSION_TEST_KEYS_NEVER_SET";
    assert!(std::env::var_os(VAR).is_none(), "{VAR} must not be set");
    let log = capture::alone().await;
    let server = start_server(start);

    let r = get(server.addr, &format!("/error/config?var={VAR}"), &[]).await;
    assert_eq!((r.status, r.body.as_str()), (500, ""), "{r:?}");
    assert!(r.set_cookies.is_empty(), "{r:?}");
    let lines = log.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("ERROR "), "{lines:?}");
    assert!(lines[0].contains(ANSWERED), "{lines:?}");
    assert!(lines[0].contains("status=500"), "{lines:?}");
    assert!(
        lines[0].contains(&format!("error={VAR} is not set: ")),
        "{lines:?}"
    );

    let r = get(server.addr, "/error/keyring", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (500, ""), "{r:?}");
    assert!(r.set_cookies.is_empty(), "{r:?}");
    let lines = log.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].starts_with("ERROR "), "{lines:?}");
    assert!(lines[1].contains("status=500"), "{lines:?}");
    assert!(
        lines[1].contains("error=keyring entry 1: key is 31 bytes, expected 32"),
        "{lines:?}"
    );
    assert_not_in(&lines, LEAKY_KEY);
}

/// Every other error a handler returns with `?`: a `Serialize` impl that
/// failed, a time out of range, a session refused during the request (its
/// lifetime ended), the operating system's generator failing. Each is an
/// empty `500` (a fault of the server, for its 5xx alerts, not the
/// client's), with no cookie and one error event with the reason.
async fn other_errors_are_an_empty_500(start: Start) {
    let log = capture::alone().await;
    let server = start_server(start);
    let kinds = [
        ("encode", "the session value could not be serialized"),
        ("time", "time out of range"),
        ("refused", "sealed value refused: expired"),
        (
            "rng",
            "the operating system's random number generator failed",
        ),
    ];
    for (seen, (kind, message)) in kinds.into_iter().enumerate() {
        let r = get(server.addr, &format!("/error/kind?kind={kind}"), &[]).await;
        assert_eq!((r.status, r.body.as_str()), (500, ""), "{kind}: {r:?}");
        assert!(r.set_cookies.is_empty(), "{kind}: {r:?}");
        let lines = log.lines();
        assert_eq!(lines.len(), seen + 1, "{kind}: {lines:?}");
        let line = &lines[seen];
        assert!(line.starts_with("ERROR "), "{line}");
        assert!(line.contains(ANSWERED), "{line}");
        assert!(line.contains("status=500"), "{line}");
        assert!(line.contains(&format!("error={message}")), "{line}");
    }
}

/// The session extractor where no layer or middleware for its type runs
/// (none at all, or one for another type): the handler is not called, the
/// answer is an empty `500` without a cookie, and one error event names
/// the missing `Session<T>`. With the layer, a write reaches the response
/// and nothing is logged.
async fn missing_session_is_an_empty_500(start: Start) {
    let log = capture::alone().await;
    let server = start_server(start);
    let test_session = std::any::type_name::<TestSession>();
    let mut seen = 0;
    for (path, missing) in [("/no-layer", test_session), ("/other-type", "u8")] {
        let r = get(server.addr, path, &[]).await;
        assert_eq!((r.status, r.body.as_str()), (500, ""), "{path}: {r:?}");
        assert!(
            r.set_cookies.is_empty(),
            "no write, no cookie: {path} {r:?}"
        );
        let lines = log.lines();
        assert_eq!(lines.len(), seen + 1, "{path}: {lines:?}");
        let line = &lines[seen];
        assert!(line.starts_with("ERROR "), "{line}");
        assert!(line.contains(ANSWERED), "{line}");
        assert!(line.contains("status=500"), "{line}");
        assert!(
            line.contains(&format!("error=no Session<{missing}> in this request")),
            "{line}"
        );
        seen += 1;
    }

    let r = get(server.addr, "/set?username=ada", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    r.only_cookie();
    assert_eq!(log.lines().len(), seen, "{:?}", log.lines());
}

/// One `#[tokio::test]` per check above for a server's `start`.
macro_rules! error_checks {
    ($start:path) => {
        #[tokio::test]
        async fn too_large_is_an_empty_413() {
            super::too_large_is_an_empty_413($start).await;
        }

        #[tokio::test]
        async fn config_error_is_an_empty_500() {
            super::config_error_is_an_empty_500($start).await;
        }

        #[tokio::test]
        async fn an_error_after_a_write_keeps_the_write() {
            super::an_error_after_a_write_keeps_the_write($start).await;
        }

        #[tokio::test]
        async fn other_errors_are_an_empty_500() {
            super::other_errors_are_an_empty_500($start).await;
        }

        #[tokio::test]
        async fn missing_session_is_an_empty_500() {
            super::missing_session_is_an_empty_500($start).await;
        }
    };
}

#[cfg(feature = "axum")]
mod in_axum_handlers {
    error_checks!(crate::axum_server::start);
}

#[cfg(feature = "actix")]
mod in_actix_handlers {
    error_checks!(crate::actix_server::start);
}

/// `main` functions of the usual actix shape that use `?` on the crate's
/// errors at start-up.
#[cfg(feature = "actix")]
mod actix_main {
    use std::io;

    use actix_web::{web, App, HttpResponse, HttpServer};
    use sealed_session::actix::SessionMiddleware;
    use sealed_session::{ConfigError, CookieProblem, Error, Keyring, Sealer, SessionConfig};

    use crate::common::TestSession;

    /// Never set: `main` fails at its first `?` instead of serving.
    const KEYS_VAR: &str = "SEALED_SESSION_TEST_MAIN_KEYS_NEVER_SET";

    /// An application's `main`: keys from the environment, the cookie
    /// configuration checked, then the server.
    #[actix_web::main]
    async fn main() -> io::Result<()> {
        let sealer = Sealer::new(Keyring::from_env(KEYS_VAR)?).with_name("__Host-session");
        let config = SessionConfig::new(sealer)?;
        serve(config).await
    }

    /// The same with a keyring that loads and a cookie name that is not a
    /// token: it fails at `SessionConfig::new(...)?`.
    #[actix_web::main]
    async fn main_with_a_bad_cookie_name() -> io::Result<()> {
        let sealer = Sealer::new(Keyring::ephemeral()?).with_name("session id");
        let config = SessionConfig::new(sealer)?;
        serve(config).await
    }

    async fn serve(config: SessionConfig) -> io::Result<()> {
        HttpServer::new(move || {
            App::new()
                .wrap(SessionMiddleware::<TestSession>::new(config.clone()))
                .default_service(web::to(HttpResponse::Ok))
        })
        .bind(("127.0.0.1", 0))?
        .run()
        .await
    }

    /// The crate's error inside an `io::Error`.
    fn inner(error: &io::Error) -> Option<&Error> {
        error.get_ref()?.downcast_ref::<Error>()
    }

    #[test]
    fn unset_keys_variable_is_an_invalid_input_that_names_it() {
        assert!(
            std::env::var_os(KEYS_VAR).is_none(),
            "{KEYS_VAR} must not be set"
        );
        let error = main().expect_err("the variable is not set");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{KEYS_VAR} is not set: ")),
            "{message}"
        );
        // What a `main` that returns it prints: its `Debug`, which ends
        // with the message.
        let printed = format!("{error:?}");
        assert!(printed.contains(&format!(": {message}")), "{printed}");
        assert_eq!(
            inner(&error),
            Some(&Error::Config(ConfigError::EnvNotSet {
                var: KEYS_VAR.into()
            }))
        );
    }

    #[test]
    fn bad_cookie_name_is_an_invalid_input_that_names_it() {
        let error = main_with_a_bad_cookie_name().expect_err("not a token");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            error.to_string(),
            "cookie configuration: cookie name is empty or not a token"
        );
        let printed = format!("{error:?}");
        assert!(
            printed.contains(": cookie configuration: cookie name is empty or not a token"),
            "{printed}"
        );
        assert_eq!(inner(&error), Some(&Error::from(CookieProblem::Name)));
    }
}

/// A `main` that returns the crate's error, or a boxed error made from it
/// (an axum application's usual one), prints its `Debug`: that ends with
/// the message, which names what to fix.
mod plain_main {
    use sealed_session::{Error, Keyring, Sealer};

    /// Never set.
    const KEYS_VAR: &str = "SEALED_SESSION_TEST_PLAIN_MAIN_KEYS_NEVER_SET";

    fn main() -> Result<(), Error> {
        let _sealer = Sealer::new(Keyring::from_env(KEYS_VAR)?);
        Ok(())
    }

    fn boxed_main() -> Result<(), Box<dyn std::error::Error>> {
        let _sealer = Sealer::new(Keyring::from_env(KEYS_VAR)?);
        Ok(())
    }

    #[test]
    fn what_main_prints_names_what_to_fix() {
        assert!(std::env::var_os(KEYS_VAR).is_none());
        let plain = main().expect_err("not set");
        let message = plain.to_string();
        assert!(message.starts_with(&format!("{KEYS_VAR} is not set: ")));
        let boxed = boxed_main().expect_err("not set");
        for printed in [format!("{plain:?}"), format!("{boxed:?}")] {
            assert!(printed.starts_with("Config(EnvNotSet"), "{printed}");
            assert!(printed.ends_with(&format!(": {message}")), "{printed}");
        }
        let spec = "1:xchacha20poly1305:c2hvcnQ"
            .parse::<Keyring>()
            .expect_err("a short key");
        assert_eq!(
            format!("{spec:?}"),
            format!("Config(Entry {{ entry: 1, problem: Length(5) }}): {spec}")
        );
    }
}

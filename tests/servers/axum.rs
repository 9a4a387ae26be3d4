//! The harness's contract (see `tests/common/mod.rs`) served by an
//! `axum::Router` with the tower adapter's `SessionLayer` on 127.0.0.1:0,
//! the session taken as an extractor, error routes included (their
//! handlers use `?`, answered by the crate's `IntoResponse`).

use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{from_fn, map_response, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sealed_session::tower::{CsrfLayer, SessionExt, SessionLayer};
use sealed_session::{ConfigError, CsrfFailure, CsrfGuard, Error, Keyring, Session, SessionConfig};

use crate::common::{
    error_of_kind, leaky_keyring, other_purpose, param, route, route_unsafe, store_too_much,
    write_then_fail, TestServer, TestSession,
};

type Reply = (StatusCode, String);

fn respond(status: u16, body: String) -> Reply {
    (StatusCode::from_u16(status).expect("a status code"), body)
}

/// Everything under the layer without a route of its own.
async fn handler(method: Method, uri: Uri, session: Session<TestSession>, body: String) -> Reply {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let (status, body) = if method == Method::GET {
        route(path, &session)
    } else {
        route_unsafe(path, &body, &session)
    };
    respond(status, body)
}

/// `/no-layer`: served without the layer. The extractor fails, so this
/// body never runs; axum answers the extractor's rejection.
async fn no_layer(_session: Session<TestSession>) -> Reply {
    respond(200, "a session without the layer".into())
}

/// `/other-type`: no layer runs for `Session<u8>`; the same.
async fn other_type(_session: Session<u8>) -> Reply {
    respond(200, "a session without its layer".into())
}

/// `/ext` before the handler (a middleware inside the session layer): the
/// session through `SessionExt for Request`.
async fn ext_before(req: Request, next: Next) -> Response {
    if let Ok(session) = req.session::<TestSession>() {
        let _ = session.update(|s| s.counter += 1);
    }
    next.run(req).await
}

/// `/ext` in the handler: the session through `SessionExt for Parts`, the
/// missing type through `SessionExt for Extensions`.
async fn ext(parts: Parts) -> Reply {
    let missing = parts.extensions.session::<u16>().err();
    let counted = parts.session::<TestSession>().map(|session| {
        session.update(|s| {
            s.counter += 1;
            s.counter
        })
    });
    match (counted, missing) {
        (Ok(Ok(n)), Some(Error::Config(e))) if e == ConfigError::missing_session::<u16>() => {
            respond(200, n.to_string())
        }
        _ => respond(500, String::new()),
    }
}

/// `/error/too-large`.
async fn too_large(session: Session<TestSession>) -> Result<&'static str, Error> {
    store_too_much(&session)?;
    Ok("stored")
}

/// `/error/config?var=NAME`.
async fn config_error(uri: Uri) -> Result<&'static str, Error> {
    let _keyring = Keyring::from_env(&param(uri.query().unwrap_or(""), "var"))?;
    Ok("the variable is set")
}

/// `/error/after-write`: a write to the session, then an error.
async fn after_write(session: Session<TestSession>) -> Result<&'static str, Error> {
    write_then_fail(&session)?;
    Ok("not reached")
}

/// `/error/kind?kind=NAME`.
async fn error_kind(uri: Uri) -> Result<&'static str, Error> {
    Err(error_of_kind(&param(uri.query().unwrap_or(""), "kind")))
}

/// `/error/keyring`.
async fn keyring_error() -> Result<&'static str, Error> {
    let _keyring = leaky_keyring()?;
    Ok("the spec parsed")
}

/// Between the CSRF guard and the session layer: a refusal of the guard,
/// read from its `403`'s extensions, answered with a new `403` that names
/// it in `x-csrf-failure`.
async fn mark_refusal(response: Response) -> Response {
    match response.extensions().get::<CsrfFailure>() {
        Some(failure) => {
            let value = HeaderValue::from_str(&format!("{failure:?}")).expect("a header value");
            (StatusCode::FORBIDDEN, [("x-csrf-failure", value)]).into_response()
        }
        None => response,
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Call from inside a tokio runtime: the server runs as a task on it.
pub(crate) fn start(config: SessionConfig) -> TestServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("local address");
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    // Under /nested/ a second layer for the same session and cookie.
    let nested = Router::new()
        .fallback(handler)
        .layer(SessionLayer::<TestSession>::new(config.clone()));
    // Under /nested-other/ one for the same cookie with another purpose.
    let nested_other = Router::new()
        .fallback(handler)
        .layer(SessionLayer::<TestSession>::new(other_purpose(&config)));
    let layered = Router::new()
        .route("/other-type", get(other_type))
        .route("/ext", get(ext).layer(from_fn(ext_before)))
        .route("/error/too-large", get(too_large))
        .route("/error/config", get(config_error))
        .route("/error/keyring", get(keyring_error))
        .route("/error/kind", get(error_kind))
        .route("/error/after-write", get(after_write))
        .nest("/nested", nested)
        .nest("/nested-other", nested_other)
        .fallback(handler)
        .layer(CsrfLayer::<TestSession>::new(CsrfGuard::new()))
        .layer(map_response(mark_refusal))
        .layer(SessionLayer::<TestSession>::new(config));
    let app = Router::new()
        .route("/no-layer", get(no_layer))
        .merge(layered);
    let server = tokio::spawn(async move {
        // Ends when the guard aborts it.
        let _ = axum::serve(listener, app).await;
    });
    // hyper (under axum) reads request heads of up to about 400 KiB.
    TestServer::new(addr, 10_000, AbortOnDrop(server))
}

//! The harness's contract (see `tests/common/mod.rs`) served by actix-web 4
//! on 127.0.0.1:0, on its own thread and actix System, error routes
//! included (their handlers use `?`, answered by the crate's
//! `ResponseError`).

use std::sync::mpsc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServerHandle, Service, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use sealed_session::actix::{CsrfMiddleware, SessionExt, SessionMiddleware};
use sealed_session::{ConfigError, CsrfFailure, CsrfGuard, Error, Keyring, Session, SessionConfig};

use crate::common::{
    error_of_kind, leaky_keyring, other_purpose, param, route, route_unsafe, store_too_much,
    write_then_fail, TestServer, TestSession,
};

fn respond(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).expect("a status code");
    HttpResponse::build(status)
        .content_type("text/plain")
        .body(body)
}

/// Everything under the middleware without a route of its own.
async fn handler(
    req: HttpRequest,
    session: Session<TestSession>,
    body: web::Bytes,
) -> HttpResponse {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let (status, body) = if req.method() == Method::GET {
        route(path, &session)
    } else {
        route_unsafe(path, &String::from_utf8_lossy(&body), &session)
    };
    respond(status, body)
}

/// `/no-layer`: served without the middleware. The extractor fails, so
/// this body never runs; actix answers the extractor's error.
async fn no_layer(_session: Session<TestSession>) -> HttpResponse {
    respond(200, "a session without the middleware".into())
}

/// `/other-type`: no middleware runs for `Session<u8>`; the same.
async fn other_type(_session: Session<u8>) -> HttpResponse {
    respond(200, "a session without its middleware".into())
}

/// `/ext` before the handler (a middleware inside the session
/// middleware): the session through `SessionExt for ServiceRequest`.
fn ext_before(req: &ServiceRequest) {
    if let Ok(session) = req.session::<TestSession>() {
        let _ = session.update(|s| s.counter += 1);
    }
}

/// `/ext` in the handler: the session through `SessionExt for HttpRequest`.
async fn ext(req: HttpRequest) -> HttpResponse {
    let missing = req.session::<u16>().err();
    let counted = req.session::<TestSession>().map(|session| {
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
async fn too_large(session: Session<TestSession>) -> Result<HttpResponse, Error> {
    store_too_much(&session)?;
    Ok(respond(200, "stored".into()))
}

/// `/error/config?var=NAME`.
async fn config_error(req: HttpRequest) -> Result<HttpResponse, Error> {
    let _keyring = Keyring::from_env(&param(req.query_string(), "var"))?;
    Ok(respond(200, "the variable is set".into()))
}

/// `/error/after-write`: a write to the session, then an error.
async fn after_write(session: Session<TestSession>) -> Result<HttpResponse, Error> {
    write_then_fail(&session)?;
    Ok(respond(200, "not reached".into()))
}

/// `/error/kind?kind=NAME`.
async fn error_kind(req: HttpRequest) -> Result<HttpResponse, Error> {
    Err(error_of_kind(&param(req.query_string(), "kind")))
}

/// `/error/keyring`.
async fn keyring_error() -> Result<HttpResponse, Error> {
    let _keyring = leaky_keyring()?;
    Ok(respond(200, "the spec parsed".into()))
}

/// Between the CSRF guard and the session middleware: a refusal of the
/// guard, read from its `403`'s extensions, answered with a new `403` that
/// names it in `x-csrf-failure`.
fn mark_refusal<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> ServiceResponse<BoxBody> {
    let failure = response
        .response()
        .extensions()
        .get::<CsrfFailure>()
        .copied();
    match failure {
        Some(failure) => response
            .into_response(
                HttpResponse::Forbidden()
                    .insert_header(("x-csrf-failure", format!("{failure:?}")))
                    .finish(),
            )
            .map_into_boxed_body(),
        None => response.map_into_boxed_body(),
    }
}

/// Stops the server when dropped.
struct StopOnDrop(ServerHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // The stop command is sent now; its completion future is not
        // needed.
        drop(self.0.stop(false));
    }
}

pub(crate) fn start(config: SessionConfig) -> TestServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (handle_tx, handle_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        let server = HttpServer::new(move || {
            App::new()
                .route("/no-layer", web::get().to(no_layer))
                .service(
                    web::scope("")
                        // The guard inside the session middleware (the last
                        // `wrap` is the outermost).
                        .wrap(CsrfMiddleware::<TestSession>::new(CsrfGuard::new()))
                        .wrap_fn(|req, srv| {
                            let response = srv.call(req);
                            async move { Ok(mark_refusal(response.await?)) }
                        })
                        .wrap(SessionMiddleware::<TestSession>::new(config.clone()))
                        // A second middleware for the same session and
                        // cookie on a nested scope.
                        .service(
                            web::scope("/nested")
                                .wrap(SessionMiddleware::<TestSession>::new(config.clone()))
                                .default_service(web::to(handler)),
                        )
                        // And one for the same cookie with another purpose.
                        .service(
                            web::scope("/nested-other")
                                .wrap(SessionMiddleware::<TestSession>::new(other_purpose(
                                    &config,
                                )))
                                .default_service(web::to(handler)),
                        )
                        .route("/other-type", web::get().to(other_type))
                        .service(
                            web::resource("/ext")
                                .wrap_fn(|req, srv| {
                                    ext_before(&req);
                                    srv.call(req)
                                })
                                .route(web::get().to(ext)),
                        )
                        .route("/error/too-large", web::get().to(too_large))
                        .route("/error/config", web::get().to(config_error))
                        .route("/error/keyring", web::get().to(keyring_error))
                        .route("/error/kind", web::get().to(error_kind))
                        .route("/error/after-write", web::get().to(after_write))
                        .default_service(web::to(handler)),
                )
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .expect("listen on the bound socket")
        .run();
        handle_tx.send(server.handle()).expect("test is waiting");
        // Ends when the guard stops the server.
        let _ = system.block_on(server);
    });
    let handle = handle_rx.recv().expect("server started");
    // Fewer cookies than under hyper: actix reads request heads of up to
    // 128 KiB.
    TestServer::new(addr, 5_000, StopOnDrop(handle))
}

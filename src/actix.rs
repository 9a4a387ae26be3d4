//! The actix-web 4 adapter: a [`SessionMiddleware`] and the [`Session<T>`]
//! extractor.
//!
//! The middleware reads the session cookie before the handler runs and puts
//! a [`Session<T>`] into the request's extensions; the handler takes it as
//! an extractor argument (or with [`SessionExt::session`]). When the inner
//! service's response is ready the middleware asks the session which
//! `Set-Cookie` values, if any, to append. Bodies pass
//! through untouched, whatever their type.
//!
//! Middlewares may nest (`App::wrap` and `Scope::wrap` with the same
//! `SessionMiddleware<T>`): for the same `T` and cookie name, the outermost
//! one loads and finishes the session and the inner ones pass it on, so
//! the response carries at most one `Set-Cookie` for the cookie.
//!
//! Everything else is the shared cookie layer, the same as under the tower
//! adapter: storing seals at once and returns the size error to the
//! handler; `Set-Cookie` goes out only on change, clear or re-seal; a
//! cookie that does not open is an empty session (never an error
//! response); the attributes come from [`SessionConfig`].
//!
//! A handler that extracts a `Session<T>` where no middleware for that
//! session type ran is not called: the extractor fails with
//! [`ConfigError::MissingSession`], which actix answers with an empty `500
//! Internal Server Error` and an error-level `tracing` event. A session whose writes
//! would be lost is never handed out. (Extracting `Option<Session<T>>`
//! turns that into `None`, silently: only do so on purpose.)
//!
//! [`Error`] is an actix `ResponseError`, so `?` works in handlers: an
//! empty `413 Payload Too Large` for a session too large for its cookie, an
//! empty `500` otherwise, and an event in the server's log. It also
//! converts into `std::io::Error`, so `?` works in actix's usual
//! `std::io::Result<()>` `main`.
//!
//! A handler's error (`Result<_, E>` with `E: ResponseError`) reaches the
//! middleware as an error response like any other, so it carries the
//! session's cookie if the handler changed the session first. An `Err`
//! from a middleware inside this one passes through unchanged, without a
//! cookie, as with the tower adapter.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use sealed_session::actix::SessionMiddleware;
//! use sealed_session::{Keyring, Sealer, Session, SessionConfig};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Clone, Default)]
//! struct Visits { count: u64 }
//!
//! async fn count(session: Session<Visits>) -> String {
//!     match session.update(|v| { v.count += 1; v.count }) {
//!         Ok(count) => format!("visit number {count}"),
//!         Err(_) => "the session is full".to_owned(),
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let sealer = Sealer::new(Keyring::from_env("SESSION_KEYS")?).with_name("__Host-session");
//!     let config = SessionConfig::new(sealer)?;
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(SessionMiddleware::<Visits>::new(config.clone()))
//!             .route("/", web::get().to(count))
//!     })
//!     .bind("127.0.0.1:3000")?
//!     .run()
//!     .await
//! }
//! ```

use core::fmt;
use core::future::{ready, Ready};
use core::marker::PhantomData;
use std::rc::Rc;

use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderValue, COOKIE, SET_COOKIE};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ConfigError, Error};
pub use crate::session::future::{ResponseFuture, SessionFuture};

mod csrf;
use crate::session::{AppendSetCookie, Session, SessionConfig};
pub use csrf::{CsrfFuture, CsrfMiddleware, CsrfService};

/// An actix-web middleware ([`Transform`]) that gives every request a
/// [`Session<T>`] and writes the session cookie into the response when
/// needed. Wrap an `App`, a `Scope` or a `Resource` with it.
///
/// ```
/// use actix_web::{test, web, App, HttpResponse};
/// use sealed_session::actix::SessionMiddleware;
/// use sealed_session::{Keyring, Sealer, Session, SessionConfig};
///
/// async fn login(session: Session<String>) -> HttpResponse {
///     match session.set("ada".to_owned()) {
///         Ok(()) => HttpResponse::Ok().finish(),
///         Err(_) => HttpResponse::PayloadTooLarge().finish(),
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?).with_name("__Host-session"))?;
/// actix_web::rt::System::new().block_on(async {
///     let app = test::init_service(
///         App::new()
///             .wrap(SessionMiddleware::<String>::new(config))
///             .route("/login", web::post().to(login)),
///     )
///     .await;
///     let res = test::call_service(&app, test::TestRequest::post().uri("/login").to_request()).await;
///     let set_cookie = res.headers().get("set-cookie").expect("stored, so a cookie");
///     assert!(set_cookie.to_str()?.starts_with("__Host-session="));
///     Ok(())
/// })
/// # }
/// ```
pub struct SessionMiddleware<T> {
    config: SessionConfig,
    session_type: PhantomData<fn() -> T>,
}

impl<T> SessionMiddleware<T> {
    /// A middleware that reads and writes the cookie described by `config`,
    /// holding a `T`.
    pub fn new(config: SessionConfig) -> Self {
        SessionMiddleware {
            config,
            session_type: PhantomData,
        }
    }
}

impl<T> Clone for SessionMiddleware<T> {
    fn clone(&self) -> Self {
        SessionMiddleware::new(self.config.clone())
    }
}

impl<T> fmt::Debug for SessionMiddleware<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("config", &self.config)
            .finish()
    }
}

impl<S, T, B> Transform<S, ServiceRequest> for SessionMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = S::Error;
    type Transform = SessionService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            inner: Rc::new(service),
            config: self.config.clone(),
            session_type: PhantomData,
        }))
    }
}

/// The [`Service`] made by [`SessionMiddleware`]: loads the [`Session<T>`]
/// into the request's extensions, calls the inner service, and appends the
/// session's `Set-Cookie` values to its response.
///
/// The inner service is shared (`Rc`) with the future of a request whose
/// asynchronous check ([`SessionConfig::with_async_check`]) it awaits
/// before calling it.
pub struct SessionService<S, T> {
    inner: Rc<S>,
    config: SessionConfig,
    session_type: PhantomData<fn() -> T>,
}

impl<S: fmt::Debug, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

impl<S, T, B> Service<ServiceRequest> for SessionService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = S::Error;
    type Future = SessionFuture<S::Future, T, Rc<S>, ServiceRequest>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // None under an outer middleware for the same cookie: it finishes.
        let session = Session::<T>::begin(
            &self.config,
            req.extensions().get(),
            req.headers().get_all(COOKIE).map(HeaderValue::as_bytes),
        );
        if let Some(session) = &session {
            req.extensions_mut().insert(session.clone());
        }
        match (session.as_ref().and_then(Session::pending_check), session) {
            (Some(check), Some(session)) => {
                let inner = Rc::clone(&self.inner);
                SessionFuture::checking(check, inner, req, |inner, req| inner.call(req), session)
            }
            (_, session) => SessionFuture::responding(self.inner.call(req), session),
        }
    }
}

impl<B> crate::session::future_sealed::Sealed for ServiceResponse<B> {}

impl<B> AppendSetCookie for ServiceResponse<B> {
    fn append_set_cookie(&mut self, value: String) {
        match HeaderValue::try_from(value) {
            Ok(value) => self.headers_mut().append(SET_COOKIE, value),
            // Unreachable with a checked SessionConfig: names, paths and
            // domains with control characters are refused, and sealed
            // values are base64url.
            Err(_) => tracing::error!("session Set-Cookie is not a valid header value"),
        }
    }
}

/// The session that [`SessionMiddleware<T>`] loaded for this request.
///
/// Fails with [`ConfigError::MissingSession`] (an empty `500` and an error
/// event) when no `SessionMiddleware<T>` with this `T` wraps the handler.
impl<T: 'static> FromRequest for Session<T> {
    type Error = Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(req.session())
    }
}

/// An empty response: `413 Payload Too Large` for a session too large for
/// its cookie, `500 Internal Server Error` for everything else. The reason
/// goes to the server's log (an error event; a warn event for 413), never
/// to the client.
impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(crate::session::status_code(self))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        crate::session::log_answered(self, status.as_u16());
        HttpResponse::new(status)
    }
}

/// Takes the [`Session<T>`] that [`SessionMiddleware<T>`] put into a
/// request, outside of an extractor (in another middleware, a guard, ...).
///
/// Implemented for [`HttpRequest`] and [`ServiceRequest`].
///
/// ```
/// use sealed_session::actix::SessionExt;
/// use sealed_session::{ConfigError, Error};
///
/// // Without the middleware, asking for the session is an error, not a
/// // session whose changes would be lost.
/// let req = actix_web::test::TestRequest::default().to_http_request();
/// assert_eq!(
///     req.session::<u64>().unwrap_err(),
///     Error::Config(ConfigError::missing_session::<u64>()),
/// );
/// ```
pub trait SessionExt {
    /// The session of this request.
    ///
    /// # Errors
    /// [`ConfigError::MissingSession`] if no [`SessionMiddleware<T>`] with
    /// this `T` ran before.
    fn session<T: 'static>(&self) -> Result<Session<T>, Error>;
}

impl SessionExt for HttpRequest {
    fn session<T: 'static>(&self) -> Result<Session<T>, Error> {
        self.extensions()
            .get::<Session<T>>()
            .cloned()
            .ok_or_else(|| ConfigError::missing_session::<T>().into())
    }
}

impl SessionExt for ServiceRequest {
    fn session<T: 'static>(&self) -> Result<Session<T>, Error> {
        self.request().session()
    }
}

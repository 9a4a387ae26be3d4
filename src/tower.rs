//! The tower adapter (feature `tower`, or its alias `hyper`): a [`SessionLayer`] over `http::Request` /
//! `http::Response`, for hyper 1 (through `hyper-util`), axum, and any other
//! tower stack.
//!
//! The layer reads the session cookie before the inner service runs and
//! puts a [`Session<T>`] into the request's extensions; the handler takes it
//! out with [`SessionExt::session`] (or, with the `axum` feature, as an
//! extractor). When the inner service's response is ready the layer asks
//! the session which `Set-Cookie` values, if any, to append.
//! Bodies pass through untouched, whatever their type.
//!
//! Layers may nest (an outer `SessionLayer<T>` and another on a nested
//! router): for the same `T` and cookie name, the outermost one loads and
//! finishes the session and the inner ones pass it on, so the response
//! carries at most one `Set-Cookie` for the cookie.
//!
//! A handler that asks for a session where no layer for that session type
//! ran gets [`ConfigError::MissingSession`] (the axum extractor answers it
//! with an empty `500 Internal Server Error` and an error event), never a
//! detached session whose writes would be lost.
//!
//! With the `axum` feature, [`Error`] is an axum `IntoResponse`, so `?`
//! works in handlers: an empty `413 Payload Too Large` for a session too
//! large for its cookie, an empty `500` otherwise, and an event in the
//! server's log.
//!
//! # hyper
//!
//! ```no_run
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use hyper::{body::Incoming, server::conn::http1, Request, Response};
//! use hyper_util::{rt::TokioIo, service::TowerToHyperService};
//! use sealed_session::tower::{SessionExt, SessionLayer};
//! use sealed_session::{Keyring, Sealer, SessionConfig};
//! use tower::{service_fn, Layer};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Clone, Default)]
//! struct Visits { count: u64 }
//!
//! async fn handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     let session = req.session::<Visits>().expect("SessionLayer<Visits> is installed");
//!     let body = match session.update(|v| { v.count += 1; v.count }) {
//!         Ok(count) => format!("visit number {count}"),
//!         Err(_) => "the session is full".to_owned(),
//!     };
//!     Ok(Response::new(Full::new(Bytes::from(body))))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sealer = Sealer::new(Keyring::from_env("SESSION_KEYS")?).with_name("__Host-session");
//! let layer = SessionLayer::<Visits>::new(SessionConfig::new(sealer)?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     let service = TowerToHyperService::new(layer.layer(service_fn(handler)));
//!     tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
//! }
//! # }
//! ```
//!
//! # axum
//!
//! With the `axum` feature, `Session<T>` is an extractor and the crate's
//! `Error` a response, so `?` works in handlers:
//!
//! ```
//! # #[cfg(feature = "axum")]
//! # async fn app() -> Result<axum::Router, sealed_session::Error> {
//! use axum::{routing::get, Router};
//! use sealed_session::{tower::SessionLayer, Error, Keyring, Sealer, Session, SessionConfig};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Clone, Default)]
//! struct Visits { count: u64 }
//!
//! async fn count(session: Session<Visits>) -> Result<String, Error> {
//!     let count = session.update(|v| { v.count += 1; v.count })?;
//!     Ok(format!("visit number {count}"))
//! }
//!
//! let sealer = Sealer::new(Keyring::from_env("SESSION_KEYS")?).with_name("__Host-session");
//! let app = Router::new()
//!     .route("/", get(count))
//!     .layer(SessionLayer::<Visits>::new(SessionConfig::new(sealer)?));
//! # Ok(app)
//! # }
//! ```

use core::fmt;
use core::marker::PhantomData;
use core::task::{Context, Poll};

use http::header::{COOKIE, SET_COOKIE};
use http::{Extensions, HeaderValue, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::{ConfigError, Error};
pub use crate::session::future::{ResponseFuture, SessionFuture};

mod csrf;
use crate::session::{AppendSetCookie, Session, SessionConfig};
pub use csrf::{CsrfBody, CsrfFuture, CsrfLayer, CsrfService};

/// A tower [`Layer`] that gives every request a [`Session<T>`] and writes
/// the session cookie into the response when needed.
///
/// ```
/// use sealed_session::tower::SessionLayer;
/// use sealed_session::{Keyring, Sealer, SessionConfig};
/// use tower::{service_fn, Layer};
///
/// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?))?;
/// let service = SessionLayer::<String>::new(config).layer(service_fn(
///     |_req: http::Request<()>| async { Ok::<_, std::convert::Infallible>(http::Response::new(())) },
/// ));
/// # drop(service);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionLayer<T> {
    config: SessionConfig,
    session_type: PhantomData<fn() -> T>,
}

impl<T> SessionLayer<T> {
    /// A layer that reads and writes the cookie described by `config`,
    /// holding a `T`.
    pub fn new(config: SessionConfig) -> Self {
        SessionLayer {
            config,
            session_type: PhantomData,
        }
    }
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        SessionLayer::new(self.config.clone())
    }
}

impl<T> fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("config", &self.config)
            .finish()
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.config.clone())
    }
}

/// The [`Service`] made by [`SessionLayer`]: loads the [`Session<T>`] into
/// the request's extensions, calls the inner service, and appends the
/// session's `Set-Cookie` values to its response.
pub struct SessionService<S, T> {
    inner: S,
    config: SessionConfig,
    session_type: PhantomData<fn() -> T>,
}

impl<S, T> SessionService<S, T> {
    /// Wraps `inner` (what [`SessionLayer::layer`] does).
    pub fn new(inner: S, config: SessionConfig) -> Self {
        SessionService {
            inner,
            config,
            session_type: PhantomData,
        }
    }
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        SessionService::new(self.inner.clone(), self.config.clone())
    }
}

impl<S: fmt::Debug, T> fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

/// `S: Clone` lets the service await an asynchronous check
/// ([`SessionConfig::with_async_check`]) before it calls the inner service:
/// the future takes the inner service that was polled ready and leaves a
/// clone in its place, as tower services that await before calling do.
/// (hyper's `TowerToHyperService` and axum need `Clone` services anyway.)
/// Without such a check nothing is cloned or boxed.
impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = SessionFuture<S::Future, T, S, Request<ReqBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let cookies = req.headers().get_all(COOKIE).iter();
        // None under an outer layer for the same cookie: it finishes.
        let session = Session::<T>::begin(
            &self.config,
            req.extensions().get(),
            cookies.map(HeaderValue::as_bytes),
        );
        if let Some(session) = &session {
            req.extensions_mut().insert(session.clone());
        }
        match (session.as_ref().and_then(Session::pending_check), session) {
            (Some(check), Some(session)) => {
                // The ready service goes with the request; a clone waits
                // for the next `poll_ready`.
                let clone = self.inner.clone();
                let inner = core::mem::replace(&mut self.inner, clone);
                SessionFuture::checking(
                    check,
                    inner,
                    req,
                    |mut inner, req| inner.call(req),
                    session,
                )
            }
            (_, session) => SessionFuture::responding(self.inner.call(req), session),
        }
    }
}

impl<B> crate::session::future_sealed::Sealed for Response<B> {}

impl<B> AppendSetCookie for Response<B> {
    fn append_set_cookie(&mut self, value: String) {
        match HeaderValue::try_from(value) {
            Ok(value) => {
                self.headers_mut().append(SET_COOKIE, value);
            }
            // Unreachable with a checked SessionConfig: names, paths and
            // domains with control characters are refused, and sealed
            // values are base64url.
            Err(_) => tracing::error!("session Set-Cookie is not a valid header value"),
        }
    }
}

/// Takes the [`Session<T>`] that [`SessionLayer<T>`] put into a request.
///
/// Implemented for `http::Request<B>`, `http::request::Parts` and
/// `http::Extensions`.
///
/// ```
/// use sealed_session::tower::SessionExt;
/// use sealed_session::{ConfigError, Error};
///
/// // Without the layer, asking for the session is an error, not a
/// // session whose changes would be lost.
/// let req = http::Request::new(());
/// assert_eq!(
///     req.session::<u64>().unwrap_err(),
///     Error::Config(ConfigError::missing_session::<u64>()),
/// );
/// ```
pub trait SessionExt {
    /// The session of this request.
    ///
    /// # Errors
    /// [`ConfigError::MissingSession`] if no [`SessionLayer<T>`] with this
    /// `T` ran before the handler.
    fn session<T: Send + 'static>(&self) -> Result<Session<T>, Error>;
}

impl SessionExt for Extensions {
    fn session<T: Send + 'static>(&self) -> Result<Session<T>, Error> {
        self.get::<Session<T>>()
            .cloned()
            .ok_or_else(|| ConfigError::missing_session::<T>().into())
    }
}

impl<B> SessionExt for Request<B> {
    fn session<T: Send + 'static>(&self) -> Result<Session<T>, Error> {
        self.extensions().session()
    }
}

impl SessionExt for http::request::Parts {
    fn session<T: Send + 'static>(&self) -> Result<Session<T>, Error> {
        self.extensions.session()
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Sync, T: Send + 'static> axum_core::extract::FromRequestParts<S> for Session<T> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.session()
    }
}

/// An empty response: `413 Payload Too Large` for a session too large for
/// its cookie, `500 Internal Server Error` for everything else. The reason
/// goes to the server's log (an error event; a warn event for 413), never
/// to the client.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum_core::response::IntoResponse for Error {
    fn into_response(self) -> axum_core::response::Response {
        let status = crate::session::status_code(&self);
        crate::session::log_answered(&self, status);
        http::StatusCode::from_u16(status)
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
            .into_response()
    }
}

#[cfg(all(test, feature = "axum"))]
mod axum_tests {
    use super::*;
    use axum_core::extract::FromRequestParts;
    use axum_core::response::IntoResponse;

    #[tokio::test]
    async fn extractor_without_layer_is_an_empty_500() {
        let (mut parts, ()) = Request::new(()).into_parts();
        let rejection = Session::<u8>::from_request_parts(&mut parts, &())
            .await
            .expect_err("no layer");
        let response = rejection.into_response();
        assert_eq!(response.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("body")
            .to_bytes();
        assert!(body.is_empty());
    }

    #[tokio::test]
    async fn extractor_finds_the_layers_session() {
        use crate::{Keyring, Sealer};
        let config =
            SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("rng"))).expect("valid");
        let mut req = Request::new(());
        req.extensions_mut()
            .insert(Session::<u8>::load(&config, []));
        let (mut parts, ()) = req.into_parts();
        let session = Session::<u8>::from_request_parts(&mut parts, &())
            .await
            .expect("layer ran");
        session.set(3).expect("small");
        let again = parts.session::<u8>().expect("same session");
        assert_eq!(again.get(), Some(3));
    }
}

//! The actix-web CSRF guard: [`CsrfMiddleware`], wrapped by a
//! [`SessionMiddleware`] for the same session type.

use core::fmt;
use core::future::{ready, Future, Ready};
use core::marker::PhantomData;
use core::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BodyStream, EitherBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE, HOST, ORIGIN};
use actix_web::{HttpMessage, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ConfigError;
use crate::session::{form_token, log_refused_csrf, CsrfGuard, Facts, Next, Session};
use crate::session::{CsrfFailure, CSRF_HEADER};

#[cfg(doc)]
use super::SessionMiddleware;

/// An actix-web middleware that refuses unsafe requests (`POST`, `PUT`,
/// `PATCH`, `DELETE`, ...) without a valid CSRF token, as [`CsrfGuard`]
/// describes, with an empty `403 Forbidden` and an event saying why.
/// Safe methods pass untouched.
///
/// The `403` carries the [`CsrfFailure`] in its extensions, so a middleware
/// between the guard and the session middleware can answer a refusal its
/// own way: a `.wrap_fn` right after `.wrap(CsrfMiddleware)` that reads
/// `response.response().extensions().get::<CsrfFailure>()` (a redirect to
/// the login page for [`CsrfFailure::MissingCookie`] and
/// [`CsrfFailure::OtherSession`], which an expired session gives). Inside
/// the session middleware, its answer still gets the session's cookies.
///
/// It reads the request's [`Session<T>`], so the [`SessionMiddleware<T>`]
/// must wrap it: `.wrap(CsrfMiddleware)` *before* `.wrap(SessionMiddleware)`
/// (the last `wrap` is the outermost). Without that session the request
/// is answered with an empty `500` and an error event.
///
/// For a urlencoded form without the `x-csrf-token` header, it reads the
/// body (up to [`CsrfGuard::with_form_limit`]) and hands it on intact to
/// the handler's `web::Form` extractor.
///
/// ```
/// use actix_web::{web, App};
/// use sealed_session::actix::{CsrfMiddleware, SessionMiddleware};
/// use sealed_session::{CsrfGuard, Keyring, Sealer, Session, SessionConfig};
///
/// async fn submit() -> &'static str { "only with a valid token" }
///
/// # fn main() -> Result<(), sealed_session::Error> {
/// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?))?;
/// let app = App::new()
///     .route("/transfer", web::post().to(submit))
///     .wrap(CsrfMiddleware::<u64>::new(CsrfGuard::new()))
///     .wrap(SessionMiddleware::<u64>::new(config));
/// # drop(app);
/// # Ok(())
/// # }
/// ```
pub struct CsrfMiddleware<T> {
    guard: Arc<CsrfGuard>,
    session_type: PhantomData<fn() -> T>,
}

impl<T> CsrfMiddleware<T> {
    /// A guard for requests whose session is a `Session<T>`.
    pub fn new(guard: CsrfGuard) -> Self {
        CsrfMiddleware {
            guard: Arc::new(guard),
            session_type: PhantomData,
        }
    }
}

impl<T> Clone for CsrfMiddleware<T> {
    fn clone(&self) -> Self {
        CsrfMiddleware {
            guard: Arc::clone(&self.guard),
            session_type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for CsrfMiddleware<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfMiddleware")
            .field("guard", &self.guard)
            .finish()
    }
}

impl<S, T, B> Transform<S, ServiceRequest> for CsrfMiddleware<T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CsrfService<S, T>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CsrfService {
            inner: Rc::new(service),
            guard: Arc::clone(&self.guard),
            session_type: PhantomData,
        }))
    }
}

/// The [`Service`] made by [`CsrfMiddleware`].
pub struct CsrfService<S, T> {
    inner: Rc<S>,
    guard: Arc<CsrfGuard>,
    session_type: PhantomData<fn() -> T>,
}

impl<S: fmt::Debug, T> fmt::Debug for CsrfService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfService")
            .field("inner", &self.inner)
            .field("guard", &self.guard)
            .finish()
    }
}

/// The future of a [`CsrfService`].
pub type CsrfFuture<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>>>;

impl<S, T, B> Service<ServiceRequest> for CsrfService<S, T>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
    T: Serialize + DeserializeOwned + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = CsrfFuture<B>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let inner = Rc::clone(&self.inner);
        let Some(session) = req.extensions().get::<Session<T>>().cloned() else {
            let error = crate::Error::from(ConfigError::missing_session::<T>());
            tracing::error!(
                %error,
                "CSRF guard without its session middleware: the session middleware goes outside \
                 the guard (`.wrap(SessionMiddleware)` after `.wrap(CsrfMiddleware)`)"
            );
            return Box::pin(ready(Ok(req
                .into_response(HttpResponse::InternalServerError().finish())
                .map_into_right_body())));
        };
        let headers = req.headers();
        let host = headers
            .get(HOST)
            .map(HeaderValue::as_bytes)
            .or_else(|| req.uri().authority().map(|a| a.as_str().as_bytes()));
        let facts = Facts {
            method: req.method().as_str(),
            sec_fetch_site: headers.get("sec-fetch-site").map(HeaderValue::as_bytes),
            origin: headers.get(ORIGIN).map(HeaderValue::as_bytes),
            host,
            token: headers.get(CSRF_HEADER).map(HeaderValue::as_bytes),
            content_type: headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes),
        };
        let verdict = match self.guard.screen(&facts) {
            Ok(Next::Pass) => Ok(None),
            Ok(Next::Verify(token)) => session.verify_csrf(token).map(|()| None),
            Ok(Next::ReadForm) => Ok(Some(self.guard.form_limit())),
            Err(failure) => Err(failure),
        };
        match verdict {
            Ok(None) => {
                let response = inner.call(req);
                Box::pin(async move { Ok(response.await?.map_into_left_body()) })
            }
            Ok(Some(limit)) => Box::pin(check_form(inner, req, session, limit)),
            Err(failure) => {
                log_refused_csrf(failure, facts.method, session.config().name(), Some(&facts));
                Box::pin(ready(Ok(forbid(req, failure))))
            }
        }
    }
}

/// The guard's `403` for `req`, with `failure` in its extensions, and its
/// event.
fn refuse<B>(
    req: ServiceRequest,
    cookie: &str,
    failure: CsrfFailure,
) -> ServiceResponse<EitherBody<B>> {
    log_refused_csrf(failure, req.method().as_str(), cookie, None);
    forbid(req, failure)
}

/// The guard's `403` for `req`, with `failure` in its extensions.
fn forbid<B>(req: ServiceRequest, failure: CsrfFailure) -> ServiceResponse<EitherBody<B>> {
    let mut response = HttpResponse::Forbidden().finish();
    // For a middleware outside the guard that answers refusals its own way.
    response.extensions_mut().insert(failure);
    req.into_response(response).map_into_right_body()
}

/// Reads a form's body, verifies its token, puts the body back and calls
/// `inner`.
async fn check_form<S, T, B>(
    inner: Rc<S>,
    mut req: ServiceRequest,
    session: Session<T>,
    limit: usize,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    T: Serialize + DeserializeOwned + 'static,
{
    let cookie = session.config().name();
    let payload = BodyStream::new(req.take_payload());
    let bytes = match actix_web::body::to_bytes_limited(payload, limit).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Ok(refuse(req, cookie, CsrfFailure::FormUnreadable)),
        Err(_) => return Ok(refuse(req, cookie, CsrfFailure::FormTooLarge)),
    };
    let checked = form_token(&bytes)
        .ok_or(CsrfFailure::MissingToken)
        .and_then(|token| session.verify_csrf(token));
    if let Err(failure) = checked {
        return Ok(refuse(req, cookie, failure));
    }
    req.set_payload(Payload::from(bytes));
    Ok(inner.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, web, App};

    /// Without the session middleware the guard answers every request
    /// with an empty 500, and the handler never runs.
    #[actix_web::test]
    async fn guard_without_its_session_middleware_is_an_empty_500() {
        let app = test::init_service(
            App::new()
                .wrap(CsrfMiddleware::<u8>::new(CsrfGuard::new()))
                .default_service(web::to(|| async { "handled" })),
        )
        .await;
        for req in [test::TestRequest::get(), test::TestRequest::post()] {
            let res = test::call_service(&app, req.to_request()).await;
            assert_eq!(res.status(), 500);
            assert!(test::read_body(res).await.is_empty());
        }
    }
}

//! The tower CSRF guard: [`CsrfLayer`], inside a [`SessionLayer`] for the
//! same session type.

use core::fmt;
use core::future::{poll_fn, Future};
use core::marker::PhantomData;
use core::pin::{pin, Pin};
use core::task::{Context, Poll};
use std::sync::Arc;

use bytes::{Buf as _, Bytes};
use http::header::{CONTENT_TYPE, HOST, ORIGIN};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::ConfigError;
use crate::session::{form_token, log_refused_csrf, CsrfGuard, Facts, Next, Session};
use crate::session::{CsrfFailure, CSRF_HEADER};

#[cfg(doc)]
use super::SessionLayer;

/// A tower [`Layer`] that refuses unsafe requests (`POST`, `PUT`, `PATCH`,
/// `DELETE`, ...) without a valid CSRF token, as [`CsrfGuard`] describes,
/// with an empty `403 Forbidden` and an event saying why. Safe methods
/// pass untouched.
///
/// The `403` carries the [`CsrfFailure`] in its extensions, so a layer
/// between the guard and the session layer can answer a refusal its own
/// way: with axum, `.layer(axum::middleware::map_response(f))` right after
/// `.layer(CsrfLayer)`, where `f` reads
/// `response.extensions().get::<CsrfFailure>()` (a redirect to the login
/// page for [`CsrfFailure::MissingCookie`] and [`CsrfFailure::OtherSession`],
/// which an expired session gives). Inside the session layer, its answer
/// still gets the session's cookies.
///
/// It reads the request's [`Session<T>`], so it goes *inside* the
/// [`SessionLayer<T>`] (in axum, `.layer(CsrfLayer)` *before*
/// `.layer(SessionLayer)`: the last layer added is the outermost). Without
/// that session the request is answered with an empty `500` and an error
/// event, as a missing session is everywhere.
///
/// The inner service gets the request with its body wrapped in a
/// [`CsrfBody`]: the body itself, or, for a urlencoded form without the
/// `x-csrf-token` header, the bytes the guard read to find the token (at
/// most [`CsrfGuard::with_form_limit`]; trailers of such a body are
/// dropped). axum's routes take any body, so in axum nothing changes; a
/// plain hyper service takes `Request<CsrfBody<Incoming>>`.
///
/// ```
/// # #[cfg(feature = "axum")]
/// # fn app() -> Result<axum::Router, sealed_session::Error> {
/// use axum::{routing::{get, post}, Form, Router};
/// use sealed_session::tower::{CsrfLayer, SessionLayer};
/// use sealed_session::{CsrfGuard, Error, Keyring, Sealer, Session, SessionConfig};
///
/// async fn form(session: Session<u64>) -> Result<String, Error> {
///     let token = session.csrf_token()?;
///     Ok(format!(r#"<form method="post"><input type="hidden" name="csrf_token" value="{token}"></form>"#))
/// }
/// async fn submit() -> &'static str { "only with a valid token" }
///
/// let config = SessionConfig::new(Sealer::new(Keyring::ephemeral()?))?;
/// let app = Router::new()
///     .route("/", get(form).post(submit))
///     .layer(CsrfLayer::<u64>::new(CsrfGuard::new()))
///     .layer(SessionLayer::<u64>::new(config));
/// # Ok(app)
/// # }
/// ```
pub struct CsrfLayer<T> {
    guard: Arc<CsrfGuard>,
    session_type: PhantomData<fn() -> T>,
}

impl<T> CsrfLayer<T> {
    /// A guard for requests whose session is a `Session<T>`.
    pub fn new(guard: CsrfGuard) -> Self {
        CsrfLayer {
            guard: Arc::new(guard),
            session_type: PhantomData,
        }
    }
}

impl<T> Clone for CsrfLayer<T> {
    fn clone(&self) -> Self {
        CsrfLayer {
            guard: Arc::clone(&self.guard),
            session_type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for CsrfLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfLayer")
            .field("guard", &self.guard)
            .finish()
    }
}

impl<S, T> Layer<S> for CsrfLayer<T> {
    type Service = CsrfService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        CsrfService {
            inner,
            guard: Arc::clone(&self.guard),
            session_type: PhantomData,
        }
    }
}

/// The [`Service`] made by [`CsrfLayer`].
pub struct CsrfService<S, T> {
    inner: S,
    guard: Arc<CsrfGuard>,
    session_type: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for CsrfService<S, T> {
    fn clone(&self) -> Self {
        CsrfService {
            inner: self.inner.clone(),
            guard: Arc::clone(&self.guard),
            session_type: PhantomData,
        }
    }
}

impl<S: fmt::Debug, T> fmt::Debug for CsrfService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfService")
            .field("inner", &self.inner)
            .field("guard", &self.guard)
            .finish()
    }
}

/// The future of a form whose body the guard reads before it calls the
/// inner service.
type Reading<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

pin_project_lite::pin_project! {
    /// The future of a [`CsrfService`]: the inner service's response, or
    /// the guard's own answer.
    pub struct CsrfFuture<F, R, E> {
        #[pin]
        kind: Kind<F, R, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F, R, E> {
        // Passed on the request's head: the inner service's future.
        Inner { #[pin] future: F },
        // Refused on the request's head.
        Answered { response: Option<R> },
        // A form: its body is read, then the inner service is called.
        Reading { future: Reading<R, E> },
    }
}

impl<F, R, E> fmt::Debug for CsrfFuture<F, R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfFuture").finish_non_exhaustive()
    }
}

impl<F, R, E> Future for CsrfFuture<F, R, E>
where
    F: Future<Output = Result<R, E>>,
{
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Answered { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => panic!("CsrfFuture polled after it completed"),
            },
            KindProj::Reading { future } => future.as_mut().poll(cx),
        }
    }
}

pin_project_lite::pin_project! {
    /// The body a [`CsrfService`] hands its inner service: the request's
    /// own (`B`), or the form the guard read whole to find its token. An
    /// [`http_body::Body`] with the same data and error types as `B`.
    pub struct CsrfBody<B> {
        #[pin]
        inner: BodyKind<B>,
    }
}

pin_project_lite::pin_project! {
    #[project = BodyKindProj]
    enum BodyKind<B> {
        Passed { #[pin] body: B },
        Read { bytes: Option<Bytes> },
    }
}

impl<B> CsrfBody<B> {
    fn passed(body: B) -> Self {
        CsrfBody {
            inner: BodyKind::Passed { body },
        }
    }

    fn read(bytes: Bytes) -> Self {
        CsrfBody {
            inner: BodyKind::Read {
                bytes: (!bytes.is_empty()).then_some(bytes),
            },
        }
    }
}

impl<B> fmt::Debug for CsrfBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            BodyKind::Passed { .. } => "Passed",
            BodyKind::Read { .. } => "Read",
        };
        f.debug_struct("CsrfBody")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl<B: Body<Data = Bytes>> Body for CsrfBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().inner.project() {
            BodyKindProj::Passed { body } => body.poll_frame(cx),
            BodyKindProj::Read { bytes } => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            BodyKind::Passed { body } => body.is_end_stream(),
            BodyKind::Read { bytes } => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            BodyKind::Passed { body } => body.size_hint(),
            BodyKind::Read { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

/// An empty response with `status`.
fn answer<B: Default>(status: StatusCode) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = status;
    response
}

/// The guard's empty `403` for `failure`, which it carries in its
/// extensions for a layer outside the guard that answers refusals its own
/// way.
fn forbidden<B: Default>(failure: CsrfFailure) -> Response<B> {
    let mut response = answer(StatusCode::FORBIDDEN);
    response.extensions_mut().insert(failure);
    response
}

/// `S: Clone`: for a form, the future takes the inner service that was
/// polled ready and leaves a clone in its place, as with the session
/// layer's asynchronous check.
impl<S, T, B, ResBody> Service<Request<B>> for CsrfService<S, T>
where
    S: Service<Request<CsrfBody<B>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    ResBody: Default + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = CsrfFuture<S::Future, Response<ResBody>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let answered = |response| CsrfFuture {
            kind: Kind::Answered {
                response: Some(response),
            },
        };
        let Some(session) = req.extensions().get::<Session<T>>().cloned() else {
            let error = crate::Error::from(ConfigError::missing_session::<T>());
            tracing::error!(
                %error,
                "CSRF guard without its session layer: the session layer goes outside the guard \
                 (in axum, `.layer(SessionLayer)` after `.layer(CsrfLayer)`)"
            );
            return answered(answer(StatusCode::INTERNAL_SERVER_ERROR));
        };
        let headers = req.headers();
        let facts = Facts {
            method: req.method().as_str(),
            sec_fetch_site: headers.get("sec-fetch-site").map(|v| v.as_bytes()),
            origin: headers.get(ORIGIN).map(|v| v.as_bytes()),
            host: headers
                .get(HOST)
                .map(|v| v.as_bytes())
                .or_else(|| req.uri().authority().map(|a| a.as_str().as_bytes())),
            token: headers.get(CSRF_HEADER).map(|v| v.as_bytes()),
            content_type: headers.get(CONTENT_TYPE).map(|v| v.as_bytes()),
        };
        let refused = |failure| {
            log_refused_csrf(
                failure,
                req.method().as_str(),
                session.config().name(),
                Some(&facts),
            );
            answered(forbidden(failure))
        };
        match self.guard.screen(&facts) {
            Ok(Next::Pass) => {}
            Ok(Next::Verify(token)) => {
                if let Err(failure) = session.verify_csrf(token) {
                    return refused(failure);
                }
            }
            Ok(Next::ReadForm) => {
                let clone = self.inner.clone();
                let inner = core::mem::replace(&mut self.inner, clone);
                let limit = self.guard.form_limit();
                return CsrfFuture {
                    kind: Kind::Reading {
                        future: Box::pin(check_form(inner, req, session, limit)),
                    },
                };
            }
            Err(failure) => return refused(failure),
        }
        CsrfFuture {
            kind: Kind::Inner {
                future: self.inner.call(req.map(CsrfBody::passed)),
            },
        }
    }
}

/// Reads a form's body, verifies its token, and calls `inner` with the
/// request and the bytes read as its body.
async fn check_form<S, T, B, ResBody>(
    mut inner: S,
    req: Request<B>,
    session: Session<T>,
    limit: usize,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<CsrfBody<B>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    ResBody: Default,
    T: Serialize + DeserializeOwned + 'static,
{
    let (parts, body) = req.into_parts();
    let checked = match read_limited(body, limit).await {
        Ok(bytes) => {
            let token = form_token(&bytes).ok_or(CsrfFailure::MissingToken);
            token.and_then(|t| session.verify_csrf(t)).map(|()| bytes)
        }
        Err(failure) => Err(failure),
    };
    match checked {
        Ok(bytes) => {
            let req = Request::from_parts(parts, CsrfBody::read(Bytes::from(bytes)));
            inner.call(req).await
        }
        Err(failure) => {
            log_refused_csrf(
                failure,
                parts.method.as_str(),
                session.config().name(),
                None,
            );
            Ok(forbidden(failure))
        }
    }
}

/// The whole body, or a failure once it passes `limit` bytes.
async fn read_limited<B: Body>(body: B, limit: usize) -> Result<Vec<u8>, CsrfFailure> {
    if body.size_hint().lower() > limit as u64 {
        return Err(CsrfFailure::FormTooLarge);
    }
    let mut body = pin!(body);
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|_| CsrfFailure::FormUnreadable)?;
        if let Ok(mut data) = frame.into_data() {
            if bytes.len().saturating_add(data.remaining()) > limit {
                return Err(CsrfFailure::FormTooLarge);
            }
            while data.has_remaining() {
                let chunk = data.chunk();
                bytes.extend_from_slice(chunk);
                let read = chunk.len();
                data.advance(read);
            }
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::CsrfGuard;

    #[derive(Clone)]
    struct Ok200;

    impl<B> Service<Request<B>> for Ok200 {
        type Response = Response<String>;
        type Error = core::convert::Infallible;
        type Future = core::future::Ready<Result<Response<String>, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<B>) -> Self::Future {
            core::future::ready(Ok(Response::new("handled".to_owned())))
        }
    }

    /// A session that carries a CSRF cookie, and a token for it.
    fn session_with_token() -> (Session<u8>, String) {
        use crate::{Keyring, Sealer, SessionConfig};
        let config =
            SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("rng"))).expect("valid");
        let first = Session::<u8>::load(&config, []);
        let token = first.csrf_token().expect("minted");
        let header = first.finish().pop().expect("the CSRF cookie");
        let pair = header.split(';').next().expect("name=value").to_owned();
        (Session::<u8>::load(&config, [pair.as_bytes()]), token)
    }

    /// A body without a size hint that yields `chunks` pieces of `piece`
    /// bytes, then an error if `fail`.
    struct Streamed {
        piece: usize,
        chunks: usize,
        fail: bool,
    }

    impl Body for Streamed {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.chunks == 0 {
                let fail = core::mem::take(&mut self.fail);
                return Poll::Ready(fail.then(|| Err(std::io::Error::other("gone"))));
            }
            self.chunks -= 1;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; self.piece])))))
        }
    }

    /// A POST of a urlencoded form whose body is `body`, with `session`.
    fn form_post<B>(body: B, session: &Session<u8>) -> Request<B> {
        let mut req = Request::builder()
            .method("POST")
            .uri("/")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .expect("valid");
        req.extensions_mut().insert(session.clone());
        req
    }

    /// A form streamed without a length is cut off at the limit, and a body
    /// that fails midway is refused; neither reaches the inner service.
    #[tokio::test]
    async fn streamed_forms_are_bounded_and_broken_ones_refused() {
        let (session, _) = session_with_token();
        let guard = CsrfGuard::new().with_form_limit(1000);
        let mut service = CsrfLayer::<u8>::new(guard).layer(Ok200);
        for (piece, chunks, fail, what) in [
            (100, 11, false, "1,100 bytes in pieces"),
            (5000, 1, false, "one piece over"),
            (10, 2, true, "an error after 20 bytes"),
        ] {
            let body = Streamed {
                piece,
                chunks,
                fail,
            };
            assert_eq!(body.size_hint().upper(), None);
            let response = service
                .call(form_post(body, &session))
                .await
                .expect("infallible");
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
        }
        assert_eq!(
            read_limited(
                Streamed {
                    piece: 100,
                    chunks: 11,
                    fail: false
                },
                1000
            )
            .await,
            Err(CsrfFailure::FormTooLarge)
        );
        assert_eq!(
            read_limited(
                Streamed {
                    piece: 10,
                    chunks: 2,
                    fail: true
                },
                1000
            )
            .await,
            Err(CsrfFailure::FormUnreadable)
        );
        assert_eq!(
            read_limited(
                Streamed {
                    piece: 100,
                    chunks: 10,
                    fail: false
                },
                1000
            )
            .await
            .map(|b| b.len()),
            Ok(1000)
        );
    }

    /// Without a `Host` header (HTTP/2), the URI's authority names this
    /// server for the `Origin` check; an allowed origin passes through the
    /// layer too, with a token.
    #[tokio::test]
    async fn origin_is_checked_against_the_authority_and_allowed_origins() {
        let (session, token) = session_with_token();
        let post = |uri: &str, origin: &str| {
            let mut req = Request::builder()
                .method("POST")
                .uri(uri)
                .header("origin", origin)
                .header(CSRF_HEADER, token.as_str())
                .body(http_body_util::Empty::<Bytes>::new())
                .expect("valid");
            req.extensions_mut().insert(session.clone());
            req
        };
        let mut plain = CsrfLayer::<u8>::new(CsrfGuard::new()).layer(Ok200);
        let mut allowing = CsrfLayer::<u8>::new(
            CsrfGuard::new()
                .with_allowed_origin("https://front.example")
                .expect("valid"),
        )
        .layer(Ok200);
        for (uri, origin, plain_status, allowing_status) in [
            ("https://app.example/x", "https://app.example", 200, 200),
            ("https://app.example/x", "https://evil.example", 403, 403),
            ("https://app.example/x", "https://front.example", 403, 200),
            ("/x", "https://app.example", 403, 403),
        ] {
            let got = plain.call(post(uri, origin)).await.expect("infallible");
            assert_eq!(got.status().as_u16(), plain_status, "{uri} {origin}");
            let got = allowing.call(post(uri, origin)).await.expect("infallible");
            assert_eq!(got.status().as_u16(), allowing_status, "{uri} {origin}");
        }
    }

    /// Without the session layer the guard answers every request with an
    /// empty 500 (a missing session is loud everywhere), and never calls
    /// the inner service.
    #[tokio::test]
    async fn guard_without_its_session_layer_is_an_empty_500() {
        let mut service = CsrfLayer::<u8>::new(CsrfGuard::new()).layer(Ok200);
        for method in ["GET", "POST"] {
            let req = Request::builder()
                .method(method)
                .body(http_body_util::Full::new(Bytes::new()))
                .expect("valid");
            let response = service.call(req).await.expect("infallible");
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(response.body().is_empty(), "{method}");
        }
    }
}

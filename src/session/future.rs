//! The future both adapters return: the inner service's response, with
//! the session's `Set-Cookie` values appended once it is ready.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Session;

/// A response an adapter can append `Set-Cookie` values to. Sealed:
/// implemented by the adapters for their frameworks' response types.
pub trait AppendSetCookie: sealed::Sealed {
    /// Appends one `Set-Cookie` header with this value.
    fn append_set_cookie(&mut self, value: String);
}

pub(crate) mod sealed {
    /// Only this crate's adapters implement [`AppendSetCookie`](super::AppendSetCookie).
    pub trait Sealed {}
}

pin_project_lite::pin_project! {
    /// The future of a session service: the inner service's response
    /// with the session's `Set-Cookie` values appended (none when an
    /// outer layer owns the session).
    pub struct ResponseFuture<F, T> {
        #[pin]
        inner: F,
        session: Option<Session<T>>,
    }
}

impl<F, T> ResponseFuture<F, T> {
    pub(crate) fn new(inner: F, session: Option<Session<T>>) -> Self {
        ResponseFuture { inner, session }
    }
}

impl<F, T> fmt::Debug for ResponseFuture<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, T, R, E> Future for ResponseFuture<F, T>
where
    F: Future<Output = Result<R, E>>,
    T: Serialize + DeserializeOwned + 'static,
    R: AppendSetCookie,
{
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(session) = this.session.take() {
            for value in session.finish() {
                response.append_set_cookie(value);
            }
        }
        Poll::Ready(Ok(response))
    }
}

/// How an adapter calls its inner service once the check has passed or
/// refused: with the inner service (a ready clone, or a shared handle)
/// and the request.
pub(crate) type CallInner<S, Req, F> = fn(S, Req) -> F;

pin_project_lite::pin_project! {
    /// The future of a session service: the inner service's response with
    /// the session's `Set-Cookie` values appended, as [`ResponseFuture`];
    /// when the application's asynchronous check applies
    /// ([`SessionConfig::with_async_check`](crate::SessionConfig::with_async_check)),
    /// the check is awaited first and the inner service called after it.
    pub struct SessionFuture<F, T, S, Req> {
        #[pin]
        state: State<F, T, S, Req>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, T, S, Req> {
        // Calling the inner service (the only state without a check).
        Responding {
            #[pin]
            response: ResponseFuture<F, T>,
        },
        // Awaiting the check; then the inner service is called.
        Checking {
            check: super::CheckFuture,
            pending: Option<(S, Req, CallInner<S, Req, F>)>,
            session: Option<Session<T>>,
        },
    }
}

impl<F, T, S, Req> SessionFuture<F, T, S, Req> {
    pub(crate) fn responding(inner: F, session: Option<Session<T>>) -> Self {
        SessionFuture {
            state: State::Responding {
                response: ResponseFuture::new(inner, session),
            },
        }
    }

    pub(crate) fn checking(
        check: super::CheckFuture,
        inner: S,
        req: Req,
        call: CallInner<S, Req, F>,
        session: Session<T>,
    ) -> Self {
        SessionFuture {
            state: State::Checking {
                check,
                pending: Some((inner, req, call)),
                session: Some(session),
            },
        }
    }
}

impl<F, T, S, Req> fmt::Debug for SessionFuture<F, T, S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Responding { .. } => "Responding",
            State::Checking { .. } => "Checking",
        };
        f.debug_struct("SessionFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl<F, T, S, Req, R, E> Future for SessionFuture<F, T, S, Req>
where
    F: Future<Output = Result<R, E>>,
    T: Serialize + DeserializeOwned + 'static,
    R: AppendSetCookie,
{
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Responding { response } => return response.poll(cx),
                StateProj::Checking {
                    check,
                    pending,
                    session,
                } => {
                    let passes = ready!(check.as_mut().poll(cx));
                    let (Some((inner, req, call)), Some(session)) =
                        (pending.take(), session.take())
                    else {
                        // Only after a panic in the inner service's call.
                        panic!("SessionFuture polled after its inner service was called");
                    };
                    if !passes {
                        session.refuse_subject();
                    }
                    let response = call(inner, req);
                    state.set(State::Responding {
                        response: ResponseFuture::new(response, Some(session)),
                    });
                }
            }
        }
    }
}

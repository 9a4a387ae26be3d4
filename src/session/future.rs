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

//! How an adapter answers an [`Error`] a handler returned with `?`: the
//! status (the body is always empty) and the event for the server's log.

use crate::error::Error;

/// The HTTP status an adapter answers an [`Error`] with when a handler
/// returns it (`?`): `413 Payload Too Large` for a session too large for
/// its cookie, `500 Internal Server Error` for everything else. The body is
/// always empty: a client learns nothing.
pub(crate) fn status_code(error: &Error) -> u16 {
    if error.is_too_large() {
        413
    } else {
        500
    }
}

/// The event for an error a handler returned: the reason, for the
/// server's log (never with a value or a key).
pub(crate) fn log_answered(error: &Error, status: u16) {
    if status == 413 {
        tracing::warn!(%error, status, "handler answered a session error");
    } else {
        tracing::error!(%error, status, "handler answered a session error");
    }
}

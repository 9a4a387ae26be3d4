//! Flash messages: one-shot messages in a cookie of their own, so that
//! setting or reading one never rewrites the session cookie.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{request, seal_header, warn_if_finished, Session};
use crate::error::Result;
#[cfg(doc)]
use crate::error::{ConfigError, Refusal, SealError};
#[cfg(doc)]
use crate::SessionConfig;

/// The flash cookie of one request: what came, and what the handler set.
/// [`Session::finish`] turns it into at most one header, after the session
/// cookie's.
#[derive(Default)]
pub(super) struct Flash {
    pub(super) incoming: Incoming,
    /// The `Set-Cookie` header value of a flash the handler set.
    pub(super) outgoing: Option<String>,
}

/// The flash cookie the request carried.
#[derive(Default)]
pub(super) enum Incoming {
    /// None came: nothing to remove.
    #[default]
    Absent,
    /// One came, not opened yet ([`Session::take_flash`] opens it): left
    /// alone unless taken, so it survives until it is read or expires.
    Sealed(String),
    /// Several came with different values (a sibling domain may have
    /// planted some), not opened yet: the ones that might open (UTF-8, not
    /// too long), none if more came than a name may. Of these, the one
    /// that opens (for the CSRF cookie: and belongs to the session) is
    /// used; none is removed for coming with others, since a removal would
    /// reach only the cookie at our own path and domain, ours, and leave a
    /// planted one in place.
    Several(Vec<String>),
    /// One came and is used up: taken, refused, or cleared. The response
    /// removes it.
    Spent,
}

impl Incoming {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Incoming::Absent => "Absent",
            Incoming::Sealed(_) => "Sealed",
            Incoming::Several(_) => "Several",
            Incoming::Spent => "Spent",
        }
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Session<T> {
    /// Sets a flash message: a one-shot message for the next request that
    /// reads it (typically the one after a redirect), which takes it with
    /// [`Session::take_flash`]. `M` is the application's choice (a
    /// `String`, or an enum of its notices); the reader names the same
    /// type.
    ///
    /// The message travels in a cookie of its own, named after the session
    /// cookie with `-flash` ([`SessionConfig::flash_name`](crate::SessionConfig::flash_name)), with the same
    /// attributes, sealed under the same keyring and purpose but bound to
    /// that name (a session value never opens as a flash, nor a flash as a
    /// session), for [`SessionConfig::flash_ttl`](crate::SessionConfig::flash_ttl). Setting or taking a
    /// flash never rewrites the session cookie, and works for an empty
    /// session too. A second `set_flash` in the same request replaces the
    /// first; [`Session::clear`] drops one set before it;
    /// [`Session::renew`] leaves flashes alone.
    ///
    /// Like [`Session::set`], it seals at once, so a message too large for
    /// its cookie is an error the handler sees.
    ///
    /// ```no_run
    /// # use sealed_session::Session;
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// enum Notice { Saved, LoggedOut }
    ///
    /// # fn handlers(session: Session<u64>) -> sealed_session::Result<()> {
    /// // POST /profile: save, set the notice, answer 303 See Other.
    /// session.set_flash(&Notice::Saved)?;
    /// // GET /profile, after the redirect: read it once.
    /// if let Some(Notice::Saved) = session.take_flash::<Notice>() {
    ///     // show "saved"
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`SealError::TooLarge`] if the sealed message or its whole
    /// `Set-Cookie` header would be too long under any key of the keyring,
    /// [`SealError::Encode`] if `message` does not serialize,
    /// [`ConfigError::NoSealingKey`](crate::ConfigError::NoSealingKey). On
    /// error nothing changes.
    pub fn set_flash<M: Serialize + ?Sized>(&self, message: &M) -> Result<()> {
        let config = &self.shared.config;
        let (header, _) = seal_header(
            config,
            config.flash_sealer(),
            config.flash_name(),
            message,
            None,
            false,
        )?;
        let mut state = self.shared.lock();
        warn_if_finished(&self.shared.config, &state);
        state.flash.outgoing = Some(header);
        Ok(())
    }

    /// Takes the flash message the request carried (see
    /// [`Session::set_flash`]): opened now, once. The response removes its
    /// cookie, so no later request sees it; a flash that is not taken is
    /// left alone and survives until a request takes it or it expires.
    ///
    /// `None` when the request carried no flash, when it was already taken
    /// (or removed by [`Session::clear`]), or when it does not open as an
    /// `M` (tampered, expired, sealed for another cookie name or purpose,
    /// another type): such a flash is removed too, with a `tracing` event
    /// saying why (never its value). Of several flash cookies (one may be
    /// planted by a sibling domain) the one that opens is taken; `None` if
    /// two do. A flash set in this same request is for the next one and is
    /// not returned.
    pub fn take_flash<M: DeserializeOwned>(&self) -> Option<M> {
        let sealed = {
            let mut state = self.shared.lock();
            match core::mem::replace(&mut state.flash.incoming, Incoming::Spent) {
                Incoming::Sealed(sealed) => {
                    warn_if_finished(&self.shared.config, &state);
                    vec![sealed]
                }
                Incoming::Several(values) => {
                    warn_if_finished(&self.shared.config, &state);
                    values
                }
                other => {
                    state.flash.incoming = other;
                    return None;
                }
            }
        };
        let config = &self.shared.config;
        let mut taken = None;
        for value in &sealed {
            match config.flash_sealer().open::<M>(value) {
                // Two that open: neither is taken (one was planted).
                Ok(_) if taken.is_some() => return None,
                Ok(opened) => taken = Some(opened.value),
                Err(error) => request::log_refused_named(config.flash_name(), "flash", &error),
            }
        }
        taken
    }

    pub(super) fn decide_flash(&self) -> Option<String> {
        let flash = core::mem::take(&mut self.shared.lock().flash);
        match flash {
            Flash {
                outgoing: Some(header),
                ..
            } => Some(header),
            Flash {
                incoming: Incoming::Spent,
                ..
            } => Some(
                self.shared
                    .config
                    .removal_cookie_named(self.shared.config.flash_name()),
            ),
            Flash { .. } => None,
        }
    }
}

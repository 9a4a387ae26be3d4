//! Reading a request: which of its cookies is the session, following the
//! rules in [`Session`]'s docs, and the event for each refused one.

use serde::de::DeserializeOwned;

use super::{Incoming, SessionConfig, Status};
use crate::cookie::{chunk_bit, pairs, Carried, MAX_SAME_NAME_COOKIES};
use crate::envelope::Times;
use crate::error::{Error, Refusal};
use crate::sealer::Opened;
use crate::time::UnixTime;

#[cfg(doc)]
use super::Session;

/// Opens the request's cookie(s), following the rules in [`Session`]'s
/// docs; also says which chunk cookies (index 1 on, a bit each) it carried.
/// Every other cookie of the headers goes to `others` (name, value): one
/// pass over each header reads them all.
pub(super) fn open_request<'a, T: DeserializeOwned + 'static>(
    config: &SessionConfig,
    cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    others: &mut dyn FnMut(&[u8], &[u8]),
) -> (Option<(T, Times)>, Status, u32) {
    let max_chunks = config.options().max_chunks();
    if max_chunks > 1 {
        let carried = Carried::read_with(cookie_headers, config.name(), max_chunks, others);
        let chunks = carried.chunk_set();
        let (opened, status) = match carried.assemble(config.sealer().max_len()) {
            _ if carried.is_empty() => (None, Status::Unchanged),
            Some(candidates) => open_candidates(config, candidates.into_iter()),
            None => {
                too_many(config.name());
                (None, Status::Unchanged)
            }
        };
        return (opened, status, chunks);
    }
    let name = config.name();
    // Without chunking, chunk cookies (`NAME.1`, ...) are never read, only
    // noted: a server that turned chunking off, or lowered the maximum,
    // removes them when it writes the session cookie.
    let mut chunks = 0;
    // One more than the maximum is enough to know there are too many; on
    // the stack, not allocated.
    let mut candidates: [&[u8]; MAX_SAME_NAME_COOKIES + 1] = [&[]; MAX_SAME_NAME_COOKIES + 1];
    let mut count = 0;
    for header in cookie_headers {
        for (pair_name, value) in pairs(header) {
            if pair_name == name.as_bytes() {
                if let Some(slot) = candidates.get_mut(count) {
                    *slot = value;
                    count += 1;
                }
            } else if let Some(bit) = chunk_bit(pair_name, name) {
                chunks |= bit;
            } else {
                others(pair_name, value);
            }
        }
    }
    if count == 0 {
        return (None, Status::Unchanged, chunks);
    }
    if count > MAX_SAME_NAME_COOKIES {
        too_many(name);
        return (None, Status::Unchanged, chunks);
    }
    // A value of ours that is not UTF-8 is not a sealed value.
    let candidates = candidates[..count]
        .iter()
        .map(|value| core::str::from_utf8(value).map_err(|_| Refusal::Malformed));
    let (opened, status) = open_candidates(config, candidates);
    (opened, status, chunks)
}

fn too_many(name: &str) {
    tracing::warn!(
        cookie = name,
        max = MAX_SAME_NAME_COOKIES,
        "too many cookies with the session's name; all ignored"
    );
}

/// Opens the candidate values (each cookie of our name, or each way the
/// chunks put one together), following the rules in [`Session`]'s docs.
fn open_candidates<T: DeserializeOwned + 'static, V: AsRef<str>>(
    config: &SessionConfig,
    candidates: impl ExactSizeIterator<Item = Result<V, Refusal>>,
) -> (Option<(T, Times)>, Status) {
    let name = config.name();
    let count = candidates.len();
    let mut found: Option<Opened<T>> = None;
    // Cookies that authenticated: the one that opened, and any not yet
    // valid (live sessions that a server whose clock is ahead sealed).
    let mut authentic = 0_usize;
    for value in candidates {
        let opened = match value {
            Ok(value) => config.sealer().open::<T>(value.as_ref()),
            Err(refusal) => Err(Error::from(refusal)),
        };
        match opened {
            Ok(opened) => {
                authentic += 1;
                found = Some(opened);
            }
            Err(Error::Refused(Refusal::NotYetValid)) => {
                authentic += 1;
                tracing::warn!(
                    cookie = name,
                    error = %Error::from(Refusal::NotYetValid),
                    "session cookie ignored, not removed (is a server's clock ahead of ours?)"
                );
            }
            Err(error) => log_refused(name, &error),
        }
        if authentic > 1 {
            tracing::warn!(
                cookie = name,
                count,
                "several valid cookies with the session's name (cookie tossing?); none used"
            );
            return (None, Status::Unchanged);
        }
    }
    match found {
        // The application's per-subject check, on the one value that opened.
        Some(opened) if !config.passes_check(&opened.value, opened.issued_at) => {
            log_refused(name, &Error::from(Refusal::RevokedSubject));
            (None, Status::Refused)
        }
        Some(opened) => {
            let times = Times {
                issued_at: UnixTime::from_system(opened.issued_at).unwrap_or_default(),
                expires_at: UnixTime::from_system(opened.expires_at).unwrap_or_default(),
            };
            let (value, opened) = split(opened);
            let sealer = config.sealer();
            let status = if opened.needs_reseal {
                tracing::debug!(
                    cookie = name,
                    key_id = %opened.key_id,
                    "session cookie sealed with a retired key; re-sealing"
                );
                Status::Stale(opened)
            } else if sealer.idle_timeout().is_some()
                // A clock read only for sessions with an idle timeout.
                && sealer.worth_refreshing(times, UnixTime::from_system(sealer.now()).unwrap_or_default())
            {
                Status::Touched
            } else {
                Status::Unchanged
            };
            (Some((value, times)), status)
        }
        // The only cookie that authenticated is not yet valid: a peer's
        // fresh session. Removing it would log its user out (and could
        // only reach the cookie at our own path and domain anyway): ignore
        // it; it opens here once our clock catches up.
        None if authentic > 0 => (None, Status::Unchanged),
        // With several candidates one may have been planted by someone
        // else, but none opened, so removing ours loses nothing.
        None => (None, Status::Refused),
    }
}

fn split<T>(opened: Opened<T>) -> (T, Opened<()>) {
    let Opened {
        value,
        issued_at,
        expires_at,
        key_id,
        needs_reseal,
    } = opened;
    let meta = Opened {
        value: (),
        issued_at,
        expires_at,
        key_id,
        needs_reseal,
    };
    (value, meta)
}

/// One event per refused cookie: the reason, never the value. Warn level
/// for what points at tampering or a misconfiguration (authentication
/// failed, unknown key, undecodable: a schema change without a new
/// purpose), debug for the rest. (A cookie that is not yet valid is not
/// refused but ignored, with its own warn event.)
pub(super) fn log_refused(name: &str, error: &Error) {
    if error.refusal().is_some_and(Refusal::is_routine) {
        tracing::debug!(cookie = name, %error, "session cookie refused");
    } else {
        tracing::warn!(cookie = name, %error, "session cookie refused");
    }
}

/// A cookie of the session's beside the session cookie (the flash or the
/// CSRF cookie), read unopened (see [`Session::take_flash`] and
/// [`Session::csrf_token`]) one `Cookie` header at a time beside the
/// session cookie's reading. One alone that is not UTF-8 or is longer than
/// its sealer opens is used up at once, so the response removes it.
/// Several with different values (one may be planted) are kept, unopened,
/// as [`Incoming::Several`]: the one that opens is used then, and none is
/// removed for coming with the others. More than
/// [`MAX_SAME_NAME_COOKIES`] are none.
pub(super) struct OneCookieReader<'c> {
    name: &'c str,
    /// What the cookie is, for events: "flash", "CSRF".
    what: &'static str,
    max_len: usize,
    seen: usize,
    incoming: Incoming,
}

impl<'c> OneCookieReader<'c> {
    /// The flash cookie's reader.
    pub(super) fn flash(config: &'c SessionConfig) -> Self {
        OneCookieReader::new(
            config.flash_name(),
            "flash",
            config.flash_sealer().max_len(),
        )
    }

    /// The CSRF cookie's reader.
    pub(super) fn csrf(config: &'c SessionConfig) -> Self {
        OneCookieReader::new(config.csrf_name(), "CSRF", config.csrf_sealer().max_len())
    }

    fn new(name: &'c str, what: &'static str, max_len: usize) -> Self {
        OneCookieReader {
            name,
            what,
            max_len,
            seen: 0,
            incoming: Incoming::Absent,
        }
    }

    /// Offers one cookie of the request; true if it is this reader's.
    pub(super) fn offer(&mut self, pair_name: &[u8], value: &[u8]) -> bool {
        if pair_name != self.name.as_bytes() {
            return false;
        }
        if self.seen > MAX_SAME_NAME_COOKIES {
            return true;
        }
        self.seen += 1;
        if self.seen > MAX_SAME_NAME_COOKIES {
            tracing::warn!(
                cookie = self.name,
                max = MAX_SAME_NAME_COOKIES,
                "more {} cookies than a name may have (cookie tossing?); none used",
                self.what
            );
            self.incoming = Incoming::Several(Vec::new());
            return true;
        }
        let value = match core::str::from_utf8(value) {
            Ok(value) if value.len() <= self.max_len => Some(value),
            Ok(value) => {
                log_refused_named(
                    self.name,
                    self.what,
                    &Error::from(Refusal::TooLong {
                        len: value.len(),
                        max: self.max_len,
                    }),
                );
                None
            }
            Err(_) => {
                log_refused_named(self.name, self.what, &Error::from(Refusal::Malformed));
                None
            }
        };
        self.incoming = match (core::mem::take(&mut self.incoming), value) {
            (Incoming::Absent, Some(value)) => Incoming::Sealed(value.to_owned()),
            (Incoming::Absent, None) => Incoming::Spent,
            // The same cookie twice (another path or domain): one cookie.
            (Incoming::Sealed(first), Some(value)) if first == value => Incoming::Sealed(first),
            (first, value) => {
                let mut values = match first {
                    Incoming::Sealed(first) => {
                        self.warn_several();
                        vec![first]
                    }
                    Incoming::Several(values) => values,
                    Incoming::Absent | Incoming::Spent => {
                        self.warn_several();
                        Vec::new()
                    }
                };
                if let Some(value) = value.filter(|v| !values.iter().any(|seen| seen == v)) {
                    values.push(value.to_owned());
                }
                Incoming::Several(values)
            }
        };
        true
    }

    fn warn_several(&self) {
        tracing::warn!(
            cookie = self.name,
            "several {} cookies (cookie tossing?); the one that opens is used, none removed",
            self.what
        );
    }

    pub(super) fn finish(self) -> Incoming {
        self.incoming
    }
}

/// One event per refused flash or CSRF cookie (`what`), as [`log_refused`]
/// for the session's.
pub(super) fn log_refused_named(name: &str, what: &'static str, error: &Error) {
    if error.refusal().is_some_and(Refusal::is_routine) {
        tracing::debug!(cookie = name, %error, "{what} cookie refused");
    } else {
        tracing::warn!(cookie = name, %error, "{what} cookie refused");
    }
}

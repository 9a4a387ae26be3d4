//! The session cookie as one or several `Set-Cookie` values: without
//! chunking, the one cookie it always was; with
//! [`CookieOptions::with_chunking`](crate::CookieOptions::with_chunking),
//! as many chunks as the sealed value needs (cut by `cookie::plan`), and
//! the removal of the chunks a request carried that a write leaves stale.

use core::time::Duration;

use serde::Serialize;

use super::{seal_header, seal_within_max, SessionConfig};
use crate::cookie::{self, chunk_name, Chunking, MAX_CHUNKS};
use crate::envelope::Times;
use crate::error::{Result, SealError};
use crate::time::UnixTime;

/// Seals `value` (keeping `issued_at`, or fresh for `None`) into the
/// session cookie's `Set-Cookie` values, checked against the largest
/// envelope of the keyring: under it too, the value must fit one cookie
/// (without chunking) or the chunking's cookies and budget.
pub(super) fn seal_cookies<V: Serialize + ?Sized>(
    config: &SessionConfig,
    value: &V,
    issued_at: Option<UnixTime>,
    deterministic: bool,
) -> Result<(Vec<String>, Times)> {
    let sealer = config.sealer();
    let Some(chunking) = config.options().chunking() else {
        let (header, times) = seal_header(
            config,
            sealer,
            config.name(),
            value,
            issued_at,
            deterministic,
        )?;
        return Ok((vec![header], times));
    };
    let (sealed, left) = seal_within_max(sealer, value, issued_at, deterministic)?;
    // The worst case must fit the cookies and the budget, so a rotation to
    // a key with a longer envelope never makes a stored session too large.
    config.plan(sealed.worst_len(), &chunking, left)?;
    let headers = config.chunk_cookies(&sealed.value, &chunking, left)?;
    Ok((headers, sealed.times))
}

impl SessionConfig {
    /// The `Set-Cookie` values that store the sealed `value` for `max_age`:
    /// one cookie, or its chunks with chunking on.
    ///
    /// # Errors
    /// [`SealError::TooLarge`] if it does not fit one cookie (without
    /// chunking) or the chunking's cookies and budget.
    pub(crate) fn session_cookies(&self, value: &str, max_age: Duration) -> Result<Vec<String>> {
        match self.options().chunking() {
            None => self.set_cookie(value, max_age).map(|header| vec![header]),
            Some(chunking) => self.chunk_cookies(value, &chunking, max_age),
        }
    }

    /// How a value of `len` bytes is cut into chunks stored for `max_age`.
    fn plan(&self, len: usize, chunking: &Chunking, max_age: Duration) -> Result<Vec<usize>> {
        let options = self.options();
        let max_age = options.is_persistent().then_some(max_age);
        let empty_header =
            |i| cookie::format(&chunk_name(self.name(), i), "", options, max_age).len();
        cookie::plan(len, self.name(), chunking, empty_header)
            .map_err(|(len, max)| SealError::TooLarge { len, max }.into())
    }

    /// The chunks' `Set-Cookie` values for the sealed `value`.
    fn chunk_cookies(
        &self,
        value: &str,
        chunking: &Chunking,
        max_age: Duration,
    ) -> Result<Vec<String>> {
        let plan = self.plan(value.len(), chunking, max_age)?;
        cookie::cut(value, &plan)
            .iter()
            .enumerate()
            .map(|(i, piece)| self.set_cookie_named(&chunk_name(self.name(), i), piece, max_age))
            .collect()
    }

    /// The removal cookies of the chunks in `carried` (a bit per chunk
    /// index, as `Carried::chunk_set` gives) from index `from` on: the
    /// chunks a request carried that a write of `from` cookies, or a
    /// removal (`from` 1), leaves stale.
    pub(crate) fn chunk_removals(&self, carried: u32, from: usize) -> Vec<String> {
        (from.max(1)..MAX_CHUNKS)
            .filter(|&i| carried & (1 << i) != 0)
            .map(|i| {
                cookie::format(
                    &chunk_name(self.name(), i),
                    "",
                    self.options(),
                    Some(Duration::ZERO),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

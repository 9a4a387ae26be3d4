//! A sealer's time policy: when a value expires (the absolute lifetime and
//! the inactivity timeout), and the checks on a value's times after it
//! authenticates.

use std::time::Duration;

use super::{Opened, Sealer};
use crate::envelope::Times;
use crate::error::{Refusal, Result, SealError};
use crate::time::UnixTime;

impl Sealer {
    /// An inactivity timeout under the absolute lifetime: a value expires
    /// `idle` after it was last sealed, and never later than
    /// [`Sealer::ttl`] after its `issued_at`. Each use extends it: the
    /// adapters re-seal a session that is read, but at most once per
    /// `refresh` (a read does not mean a `Set-Cookie` on every request: a
    /// session read continuously lives `idle` past its last re-seal, that
    /// is at least `idle - refresh` past its last use); a write always
    /// re-seals. `Max-Age` follows the value's expiry. `idle` is lowered to
    /// the TTL and `refresh` to `idle`.
    ///
    /// ```
    /// # use sealed_session::{Keyring, Sealer};
    /// use std::time::Duration;
    /// let sealer = Sealer::new(Keyring::ephemeral()?)
    ///     .with_ttl(Duration::from_secs(12 * 3600))         // never past 12 h
    ///     .with_idle_timeout(Duration::from_secs(30 * 60),  // 30 min unused: gone
    ///                        Duration::from_secs(60));      // re-seal at most once a minute
    /// let opened = sealer.open::<u8>(&sealer.seal(&1)?)?;
    /// let life = opened.expires_at.duration_since(opened.issued_at).expect("later");
    /// assert_eq!(life, Duration::from_secs(30 * 60));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn with_idle_timeout(mut self, idle: Duration, refresh: Duration) -> Self {
        let idle = idle.as_secs().min(self.ttl);
        self.idle = Some((idle, refresh.as_secs().min(idle)));
        self
    }

    /// The inactivity timeout and the re-seal interval, if set (see
    /// [`Sealer::with_idle_timeout`]).
    pub fn idle_timeout(&self) -> Option<(Duration, Duration)> {
        self.idle
            .map(|(idle, refresh)| (Duration::from_secs(idle), Duration::from_secs(refresh)))
    }

    /// When a value issued at `issued_at` and sealed (again) at `now`
    /// expires: the absolute lifetime, or sooner the inactivity timeout.
    pub(crate) fn expiry(&self, issued_at: UnixTime, now: UnixTime) -> Result<UnixTime> {
        let absolute = issued_at
            .checked_add(self.ttl)
            .ok_or(SealError::TimeRange)?;
        Ok(match self.idle {
            Some((idle, _)) => absolute.min(now.saturating_add(idle)),
            None => absolute,
        })
    }

    /// With an inactivity timeout: whether a session that expires at
    /// `expires_at` is worth re-sealing now (it would gain at least the
    /// refresh interval).
    #[cfg(feature = "cookie")]
    pub(crate) fn worth_refreshing(&self, times: Times, now: UnixTime) -> bool {
        let Some((_, refresh)) = self.idle else {
            return false;
        };
        self.expiry(times.issued_at, now)
            .ok()
            .and_then(|new| new.since(times.expires_at))
            .is_some_and(|gain| gain >= refresh.max(1))
    }

    pub(super) fn fresh_times(&self, now: UnixTime) -> Result<Times> {
        Ok(Times {
            issued_at: now,
            expires_at: self.expiry(now, now)?,
        })
    }

    pub(super) fn kept_times<T>(&self, opened: &Opened<T>, now: UnixTime) -> Result<Times> {
        let time = |t| UnixTime::from_system(t).ok_or(SealError::TimeRange);
        let times = Times {
            issued_at: time(opened.issued_at)?,
            expires_at: time(opened.expires_at)?,
        };
        self.check_times_at(times, now)?;
        Ok(times)
    }

    /// The checks on a value's times, after authentication: not issued in
    /// the future, not expired, and never a longer life than this sealer
    /// gives, however the value was sealed.
    pub(super) fn check_times_at(&self, times: Times, now: UnixTime) -> Result<(), Refusal> {
        if times.issued_at > now.saturating_add(self.leeway) {
            return Err(Refusal::NotYetValid);
        }
        let lifetime = times.expires_at.since(times.issued_at).unwrap_or(0);
        if lifetime > self.ttl.saturating_add(self.leeway) {
            return Err(Refusal::LifetimeTooLong);
        }
        if now >= times.expires_at.saturating_add(self.leeway)
            || now
                >= times
                    .issued_at
                    .saturating_add(self.ttl)
                    .saturating_add(self.leeway)
        {
            return Err(Refusal::Expired);
        }
        Ok(())
    }
}

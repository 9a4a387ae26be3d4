//! A sealer's time policy: when a value expires (the absolute lifetime and
//! the inactivity timeout), and the checks on a value's times after it
//! authenticates.

use std::time::Duration;

use super::{Opened, Sealer, MAX_TTL};
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
    /// the TTL and `refresh` to `idle`. The inactivity expiry is rounded
    /// down to a multiple of `refresh` (so it is between `idle - refresh`
    /// and `idle` after the seal), which makes a re-seal within one
    /// interval give the same value: a client that replays a cookie without
    /// keeping its refreshed value costs one seal per interval.
    ///
    /// Opening refuses a value with more than `idle` (plus the leeway) left
    /// to run, with [`Refusal::LifetimeTooLong`]: one sealed without the
    /// timeout or under a longer one, since nothing in it tells how long it
    /// went unused. Turning the timeout on, or lowering it, therefore ends
    /// those sessions at once (their users log in again), as shortening the
    /// TTL does; during the rolling deploy that turns it on, also those
    /// that servers still without it seal meanwhile.
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
    /// // 30 minutes, rounded down to a whole minute (see below).
    /// assert!(life <= Duration::from_secs(30 * 60) && life > Duration::from_secs(29 * 60));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn with_idle_timeout(mut self, idle: Duration, refresh: Duration) -> Self {
        // Lowered to the TTL (and the refresh to the idle time) where they
        // are used, so the order of the builder calls does not matter.
        self.idle = Some((idle.min(MAX_TTL).as_secs(), refresh.min(MAX_TTL).as_secs()));
        self
    }

    /// The sealer without an inactivity timeout.
    #[cfg(feature = "cookie")]
    pub(crate) fn without_idle_timeout(mut self) -> Self {
        self.idle = None;
        self
    }

    /// The inactivity timeout and the re-seal interval, if set (see
    /// [`Sealer::with_idle_timeout`]).
    pub fn idle_timeout(&self) -> Option<(Duration, Duration)> {
        self.idle_secs()
            .map(|(idle, refresh)| (Duration::from_secs(idle), Duration::from_secs(refresh)))
    }

    /// When a value issued at `issued_at` and sealed (again) at `now`
    /// expires: the absolute lifetime, or sooner the inactivity timeout.
    ///
    /// The inactivity expiry is rounded down to a multiple of the refresh
    /// interval, so every re-seal within one interval gives the same
    /// message: re-sealed deterministically, a cookie replayed without
    /// storing its refreshed value makes the key spend one nonce per
    /// interval, not one per request.
    pub(crate) fn expiry(&self, issued_at: UnixTime, now: UnixTime) -> Result<UnixTime> {
        let absolute = issued_at
            .checked_add(self.ttl)
            .ok_or(SealError::TimeRange)?;
        Ok(match self.idle_secs() {
            Some((idle, refresh)) => {
                let idle_end = now.saturating_add(idle).secs();
                let snapped = idle_end - idle_end % refresh.max(1);
                absolute.min(UnixTime::from_secs(snapped.max(now.secs())))
            }
            None => absolute,
        })
    }

    /// The inactivity timeout and refresh interval in seconds, lowered to
    /// the TTL and to the timeout.
    #[inline]
    fn idle_secs(&self) -> Option<(u64, u64)> {
        self.idle.map(|(idle, refresh)| {
            let idle = idle.min(self.ttl);
            (idle, refresh.min(idle))
        })
    }

    /// With an inactivity timeout: whether a session that expires at
    /// `expires_at` is worth re-sealing now (it would gain at least the
    /// refresh interval).
    #[cfg(feature = "cookie")]
    pub(crate) fn worth_refreshing(&self, times: Times, now: UnixTime) -> bool {
        let Some((_, refresh)) = self.idle_secs() else {
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
    /// gives, however the value was sealed: with an inactivity timeout, no
    /// more than `idle` (plus the leeway) left to run from now. A value
    /// this sealer sealed at any time up to now expires by then; one
    /// sealed without the timeout, or under a longer one, is refused, as a
    /// value sealed under a longer TTL is: the envelope does not say when
    /// it was last used.
    // Inlined: every open makes these checks, and as a call (which its
    // idle-timeout bound made it) an open took 40 instructions more.
    #[inline]
    pub(super) fn check_times_at(&self, times: Times, now: UnixTime) -> Result<(), Refusal> {
        if times.issued_at > now.saturating_add(self.leeway) {
            return Err(Refusal::NotYetValid);
        }
        let lifetime = times.expires_at.since(times.issued_at).unwrap_or(0);
        if lifetime > self.ttl.saturating_add(self.leeway) {
            return Err(Refusal::LifetimeTooLong);
        }
        if let Some((idle, _)) = self.idle_secs() {
            if times.expires_at > now.saturating_add(idle).saturating_add(self.leeway) {
                return Err(Refusal::LifetimeTooLong);
            }
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

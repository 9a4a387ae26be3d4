//! The sealer: cookie name, purpose, lifetimes and clock around the
//! envelope. It reads its keyring through a [`Source`] once per operation,
//! and does its work in a wiped per-thread buffer (`buffer`).

use core::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::aead::NonceSource;
use crate::envelope::{self, Context, Padding, PayloadError, Room, SealingKey, Times};
use crate::error::{Refusal, Result, SealError};
use crate::key::KeyId;
use crate::keyring::Keyring;
use crate::source::{LiveKeyring, Source};
use crate::time::{Clock, SystemClock, UnixTime};

mod buffer;
mod read;
#[cfg(test)]
mod shapes;
mod times;
mod wire;
#[cfg(test)]
pub(crate) use buffer::scratch_region;
#[cfg(feature = "cookie")]
pub(crate) use buffer::serde_copy;
use buffer::{bytes_into, postcard_into, with_scratch};

/// Default lifetime of a sealed value: one day.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default tolerated clock difference between servers: one minute.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// Default longest value accepted or produced, in bytes (a sealed value is
/// ASCII, so also in characters). A browser keeps at most 4096 bytes for a
/// cookie's name, value and attributes together.
pub const DEFAULT_MAX_LEN: usize = 4096;
/// The longest lifetime and leeway a [`Sealer`] accepts: 200 years (of 365
/// days). Longer settings are lowered to it, so every time a sealer
/// computes stays far inside what `SystemTime` (and so
/// [`Opened::expires_at`]) represents.
pub const MAX_TTL: Duration = Duration::from_secs(200 * 365 * 24 * 60 * 60);

/// Seals values into cookie-safe strings and opens them again.
///
/// A sealer binds every value to its cookie `name` and `purpose` (your
/// application's name and session schema version): a value sealed for one
/// does not open for another, so a changed session struct never decodes
/// stale bytes when the purpose changes with it. Cheap to clone; share one
/// per cookie.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sealed_session::{Keyring, Sealer};
/// use std::time::Duration;
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Session { user_id: u64, name: String }
///
/// let sealer = Sealer::new(Keyring::ephemeral()?)
///     .with_name("session")
///     .with_purpose("my-app/session/v1")
///     .with_ttl(Duration::from_secs(14 * 86_400));
/// let value = sealer.seal(&Session { user_id: 7, name: "ada".into() })?;
/// let opened = sealer.open::<Session>(&value)?;
/// assert_eq!(opened.value.name, "ada");
/// assert!(!opened.needs_reseal);
/// assert_eq!(sealer.ttl(), Duration::from_secs(14 * 86_400));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct Sealer {
    source: Source,
    name: Arc<str>,
    purpose: Arc<str>,
    context: Arc<Context>,
    ttl: u64,
    /// Inactivity timeout and the least extension worth a re-seal, in
    /// seconds; `None` for sessions without one.
    idle: Option<(u64, u64)>,
    leeway: u64,
    max_len: usize,
    padding: Padding,
    nonces: NonceScheme,
    /// `None`: the [`SystemClock`], read without a call through `dyn`.
    clock: Option<Arc<dyn Clock>>,
}

/// How a sealer picks the nonce of a fresh seal ([`Sealer::with_nonces`]).
/// Re-seals ([`Sealer::reseal`], and the adapters' re-seals under a newer
/// key) always derive theirs from the message, so replaying one old value
/// spends no new nonce. Openers never care: values sealed either way open
/// the same. SECURITY.md ("Nonces") has both constructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NonceScheme {
    /// Each thread draws its own nonce stream per key from the operating
    /// system: a random 16-byte prefix then a counter with
    /// XChaCha20-Poly1305, random 12-byte nonces from a generator seeded
    /// by the OS with AES-256-GCM. A process that forks is detected
    /// (`pthread_atfork`) and its child draws new streams before its first
    /// seal; if the operating system gives it no randomness then, its seals
    /// fail with [`Error::Rng`](crate::Error::Rng) rather than continue the
    /// parent's stream. Not safe across a *restored VM snapshot* that runs
    /// more than once (every copy continues the same streams), nor in a
    /// child made without the C library's `fork` (see SECURITY.md): use
    /// [`NonceScheme::Synthetic`] there.
    #[default]
    PerThread,
    /// Each nonce is a keyed BLAKE3 hash of fresh random bytes and the
    /// whole message: a duplicated generator (a `fork`, a VM snapshot
    /// restored twice, anything) repeats a nonce only together with the
    /// whole message, which repeats the ciphertext and reveals nothing.
    /// Costs a hash of the message per seal and, with XChaCha20-Poly1305,
    /// an HChaCha20 per seal (about 3,200 more instructions for a small
    /// session, 9,000 for a large one: see the README's performance
    /// section).
    Synthetic,
}

/// An opened value and what the envelope said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Opened<T> {
    /// The value.
    pub value: T,
    /// When it was sealed (for a re-sealed value: when it was first sealed).
    pub issued_at: SystemTime,
    /// When it stops opening (plus the sealer's leeway).
    pub expires_at: SystemTime,
    /// The key that sealed it.
    pub key_id: KeyId,
    /// True when that key is older (has a lower id) than the key that seals
    /// now: seal it again with [`Sealer::reseal`] (the adapters do this on
    /// their own). A value of a newer key (one whose activation this
    /// server's clock has not reached yet) is left alone.
    pub needs_reseal: bool,
}

impl<T> Opened<T> {
    /// Applies `f` to the value, keeping the rest.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Opened<U> {
        Opened {
            value: f(self.value),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            key_id: self.key_id,
            needs_reseal: self.needs_reseal,
        }
    }
}

/// What the cookie layer needs to know of a seal.
#[derive(Debug)]
#[cfg_attr(not(feature = "cookie"), allow(dead_code))]
pub(crate) struct Sealed {
    /// The sealed value.
    pub(crate) value: String,
    /// Its times.
    pub(crate) times: Times,
    /// How many more bytes the keyring's largest envelope (longest key id
    /// and nonce) adds than the one that sealed it.
    growth: usize,
}

impl Sealed {
    /// The length the same message would have if the keyring's largest
    /// envelope sealed it: what a re-seal after a rotation within this
    /// keyring may need. Worked out only when asked (a plain
    /// [`Sealer::seal`] does not; it was 2% of a small seal's instructions).
    #[cfg(feature = "cookie")]
    pub(crate) fn worst_len(&self) -> usize {
        envelope::encoded_len(envelope::decoded_len(self.value.len()) + self.growth)
    }
}

impl Sealer {
    /// A sealer over `keyring`, for a cookie named `session`, with an empty
    /// purpose, [`DEFAULT_TTL`], [`DEFAULT_LEEWAY`], [`DEFAULT_MAX_LEN`] and
    /// the system clock.
    pub fn new(keyring: Keyring) -> Self {
        Sealer::from_shared(Arc::new(keyring))
    }

    /// As [`Sealer::new`], sharing a keyring with other sealers.
    pub fn from_shared(keyring: Arc<Keyring>) -> Self {
        Sealer {
            source: Source::Fixed(keyring),
            name: Arc::from("session"),
            purpose: Arc::from(""),
            context: Arc::new(Context::new("session", "")),
            ttl: DEFAULT_TTL.as_secs(),
            idle: None,
            leeway: DEFAULT_LEEWAY.as_secs(),
            max_len: DEFAULT_MAX_LEN,
            padding: Padding::NONE,
            nonces: NonceScheme::PerThread,
            clock: None,
        }
    }

    /// As [`Sealer::new`], over a keyring replaced while serving: every
    /// seal and open uses the keyring in force when it starts.
    pub fn from_live(keyring: &LiveKeyring) -> Self {
        let mut sealer = Sealer::from_shared(keyring.current());
        sealer.source = Source::Live(keyring.clone());
        sealer
    }

    /// The cookie name values are bound to (authenticated, not sent inside
    /// the value).
    #[must_use]
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self.context = Arc::new(Context::new(&self.name, &self.purpose));
        self
    }

    /// The purpose values are bound to: your application and the version of
    /// your session schema, for example `"shop/session/v3"`. Change it when
    /// the session struct changes incompatibly: old values then fail to open
    /// (as [`Refusal::Authentication`]) instead of decoding into wrong
    /// fields.
    #[must_use]
    pub fn with_purpose(mut self, purpose: &str) -> Self {
        self.purpose = Arc::from(purpose);
        self.context = Arc::new(Context::new(&self.name, &self.purpose));
        self
    }

    /// How long a sealed value opens, in whole seconds counted from its
    /// `issued_at` (a fraction of a second is dropped): the absolute
    /// lifetime of a session. A fresh seal is
    /// issued now; [`Sealer::seal_issued_at`] (what the adapters use for
    /// every write to an existing session) and [`Sealer::reseal`] keep the
    /// first `issued_at`, so writing to a session never extends it. At most
    /// [`MAX_TTL`] (a longer value is lowered to it).
    ///
    /// Opening refuses a value whose sealed lifetime is longer than this
    /// (plus the leeway) with [`Refusal::LifetimeTooLong`]: a value is never
    /// trusted beyond this sealer's own limit, even if it was sealed with a
    /// key (perhaps a leaked one) under a longer one. Shortening the TTL
    /// therefore refuses the values sealed under the longer one.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.min(MAX_TTL).as_secs();
        self
    }

    /// How far the clocks of the servers sharing the keyring may disagree:
    /// a value opens from `issued_at - leeway` until `expires_at + leeway`.
    /// At most [`MAX_TTL`] (a longer value is lowered to it).
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(MAX_TTL).as_secs();
        self
    }

    /// The longest value sealed or opened, in bytes (a sealed value is
    /// ASCII, so bytes and characters agree for it; hostile input is
    /// measured in bytes). Longer values are refused before any decoding.
    #[must_use]
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Pads the plaintext of every value this sealer seals to a size class
    /// (default [`Padding::NONE`]), so a value's length tells the class,
    /// not the session's exact size. Padded values are sealed as envelope
    /// v2, which releases before padding cannot open: turn it on once
    /// every server that opens the values has this release. Every release
    /// with padding opens both versions, padded or not, whatever its own
    /// setting. The padding counts towards [`Sealer::max_len`] (and the
    /// cookie's size); SECURITY.md has the measured cost.
    ///
    /// ```
    /// use sealed_session::{EnvelopeInfo, Keyring, Padding, Sealer};
    /// let sealer = Sealer::new(Keyring::ephemeral()?).with_padding(Padding::multiple_of(128));
    /// let (short, long) = (sealer.seal(&"ada")?, sealer.seal(&"ada lovelace, countess")?);
    /// assert_eq!(short.len(), long.len());
    /// assert_eq!(EnvelopeInfo::inspect(&short)?.version, 2);
    /// assert_eq!(sealer.open::<String>(&long)?.value, "ada lovelace, countess");
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn with_padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// How fresh seals pick their nonces (default
    /// [`NonceScheme::PerThread`]). Choose [`NonceScheme::Synthetic`] when
    /// the process may run from a memory snapshot restored more than once
    /// (Firecracker or other microVM snapshots, AWS Lambda SnapStart, a VM
    /// cloned while running).
    ///
    /// ```
    /// use sealed_session::{Keyring, NonceScheme, Sealer};
    /// let sealer = Sealer::new(Keyring::ephemeral()?).with_nonces(NonceScheme::Synthetic);
    /// assert_eq!(sealer.open::<u32>(&sealer.seal(&7u32)?)?.value, 7);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    #[must_use]
    pub fn with_nonces(mut self, nonces: NonceScheme) -> Self {
        self.nonces = nonces;
        self
    }

    /// How this sealer picks the nonces of fresh seals.
    pub fn nonces(&self) -> NonceScheme {
        self.nonces
    }

    /// The nonce source of a fresh seal.
    fn fresh(&self) -> NonceSource<'static> {
        match self.nonces {
            NonceScheme::PerThread => NonceSource::PerThread,
            NonceScheme::Synthetic => NonceSource::Fresh,
        }
    }

    /// How this sealer pads what it seals.
    pub fn padding(&self) -> Padding {
        self.padding
    }

    /// Replaces the clock (for tests: any `Fn() -> SystemTime`).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The purpose.
    pub fn purpose(&self) -> &str {
        &self.purpose
    }

    /// The lifetime, counted from `issued_at`.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl)
    }

    /// The tolerated clock difference.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway)
    }

    /// The longest value sealed or opened, in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The keyring in force now.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.source.current()
    }

    /// The current time by the sealer's clock.
    pub fn now(&self) -> SystemTime {
        match &self.clock {
            None => SystemClock.now(),
            Some(clock) => clock.now(),
        }
    }

    /// [`Sealer::now`] in whole seconds: what a seal or an open reads.
    fn unix_now(&self) -> UnixTime {
        match &self.clock {
            None => UnixTime::system_now(),
            Some(clock) => UnixTime::now(&**clock),
        }
    }

    /// Seals `value` (postcard-encoded) for [`Sealer::ttl`] from now, under
    /// the key that seals now.
    ///
    /// # Errors
    /// [`SealError::TooLarge`] if the sealed value would be longer than
    /// [`Sealer::max_len`], [`SealError::Encode`] if `value` does not
    /// serialize, [`ConfigError::NoSealingKey`](crate::ConfigError::NoSealingKey),
    /// [`Error::Rng`](crate::Error::Rng) if the thread needs a new nonce
    /// stream (its first seal under a key, or its first after a fork) and the
    /// operating system gives no randomness (nothing is sealed; the next seal
    /// tries again).
    /// ([`Refusal::Revoked`] only for a kept `issued_at` before the keyring's
    /// cutoff, see [`Sealer::seal_issued_at`].)
    pub fn seal<T: Serialize + ?Sized>(&self, value: &T) -> Result<String> {
        let now = self.unix_now();
        let times = self.fresh_times(now)?;
        self.seal_then(
            now,
            times,
            self.fresh(),
            |buf, room| postcard_into(value, buf, room),
            |value, _, _| value,
        )
    }

    /// Seals raw bytes, for callers with their own encoding.
    ///
    /// # Errors
    /// As [`Sealer::seal`].
    pub fn seal_bytes(&self, payload: &[u8]) -> Result<String> {
        let now = self.unix_now();
        let times = self.fresh_times(now)?;
        self.seal_at(now, times, self.fresh(), |buf, room| {
            bytes_into(payload, buf, room)
        })
        .map(|sealed| sealed.value)
    }

    /// Seals a new `value` for a session first issued at `issued_at` (an
    /// [`Opened::issued_at`]): it keeps that `issued_at` and expires
    /// [`Sealer::ttl`] after it (or sooner, at the inactivity timeout from
    /// now, see [`Sealer::with_idle_timeout`]), so a session that keeps being
    /// written still ends at its absolute lifetime. Sealing fresh instead (with
    /// [`Sealer::seal`]) is a *renewal*: do that at login and on privilege
    /// changes.
    ///
    /// ```
    /// # use sealed_session::{Keyring, Sealer};
    /// let sealer = Sealer::new(Keyring::ephemeral()?);
    /// let first = sealer.open::<u32>(&sealer.seal(&1)?)?;
    /// let second = sealer.open::<u32>(&sealer.seal_issued_at(&2, first.issued_at)?)?;
    /// assert_eq!(second.issued_at, first.issued_at);
    /// assert_eq!(second.expires_at, first.expires_at);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Sealer::seal`]; [`Refusal::Expired`] if the session's lifetime
    /// is over, [`Refusal::NotYetValid`] if `issued_at` is in the future
    /// (beyond the leeway).
    pub fn seal_issued_at<T: Serialize + ?Sized>(
        &self,
        value: &T,
        issued_at: SystemTime,
    ) -> Result<String> {
        let issued_at = UnixTime::from_system(issued_at).ok_or(SealError::TimeRange)?;
        self.seal_value(value, Some(issued_at))
            .map(|sealed| sealed.value)
    }

    /// Seals `opened.value` again under the key that seals now, keeping its
    /// issue and expiry times: a key rotation never extends a session.
    ///
    /// The nonce is derived from the whole message, without fresh
    /// randomness: re-sealing the same value again gives the same output,
    /// so a client that replays one old-key value on every request makes
    /// the key spend no new nonce.
    ///
    /// # Errors
    /// As [`Sealer::seal`]; [`Refusal::Expired`] if it has expired
    /// meanwhile, [`Refusal::LifetimeTooLong`] if its times claim a longer
    /// lifetime than this sealer allows.
    pub fn reseal<T: Serialize>(&self, opened: &Opened<T>) -> Result<String> {
        let now = self.unix_now();
        let times = self.kept_times(opened, now)?;
        self.seal_at(now, times, NonceSource::Deterministic, |buf, room| {
            postcard_into(&opened.value, buf, room)
        })
        .map(|sealed| sealed.value)
    }

    /// [`Sealer::reseal`] for values opened with [`Sealer::open_bytes`].
    ///
    /// # Errors
    /// As [`Sealer::reseal`].
    pub fn reseal_bytes(&self, opened: &Opened<Vec<u8>>) -> Result<String> {
        let now = self.unix_now();
        let times = self.kept_times(opened, now)?;
        self.seal_at(now, times, NonceSource::Deterministic, |buf, room| {
            bytes_into(&opened.value, buf, room)
        })
        .map(|sealed| sealed.value)
    }

    /// Seals `value` with a fresh `issued_at` (`None`) or a kept one, and
    /// says what it sealed: for the cookie layer.
    pub(crate) fn seal_value<T: Serialize + ?Sized>(
        &self,
        value: &T,
        issued_at: Option<UnixTime>,
    ) -> Result<Sealed> {
        self.seal_value_with(value, issued_at, false)
    }

    /// [`Sealer::seal_value`], with a nonce derived from the message alone
    /// when `deterministic` (for re-seals that only move the expiry).
    pub(crate) fn seal_value_with<T: Serialize + ?Sized>(
        &self,
        value: &T,
        issued_at: Option<UnixTime>,
        deterministic: bool,
    ) -> Result<Sealed> {
        let nonce = if deterministic {
            NonceSource::Deterministic
        } else {
            self.fresh()
        };
        let now = self.unix_now();
        let times = match issued_at {
            None => self.fresh_times(now)?,
            Some(issued_at) => {
                let times = Times {
                    issued_at,
                    expires_at: self.expiry(issued_at, now)?,
                };
                self.check_times_at(times, now)?;
                times
            }
        };
        self.seal_at(now, times, nonce, |buf, room| {
            postcard_into(value, buf, room)
        })
    }

    /// Opens a value sealed by [`Sealer::seal`] with the same name and
    /// purpose under a key of this keyring.
    ///
    /// # Errors
    /// [`Error::Refused`](crate::Error::Refused) with the reason:
    /// [`Refusal::TooLong`] (checked before decoding), `Malformed`,
    /// `UnsupportedVersion`, `UnknownKey`, `Authentication`, `Expired`,
    /// `NotYetValid`, `LifetimeTooLong`, `Revoked` (issued before the
    /// keyring's `revoke-before` cutoff), or `Decode` (authentic, but not a
    /// `T`).
    pub fn open<T: DeserializeOwned>(&self, value: &str) -> Result<Opened<T>> {
        self.open_with(value, |payload| read::decode(payload))
    }

    /// Opens `value` as [`Sealer::open`] does, then asks the application's
    /// `check` whether it still stands: `false` refuses it with
    /// [`Refusal::RevokedSubject`]. This is per-subject revocation without a
    /// store of ours: keep, per user, a "sessions valid after" time (set it
    /// at logout-everywhere, a password change, a ban) and compare it with
    /// [`Opened::issued_at`]; cache it as the application sees fit (a short
    /// TTL cache is usually enough, since sessions then renew at login with a
    /// fresh `issued_at`).
    ///
    /// ```
    /// # use sealed_session::{Error, Keyring, Refusal, Sealer};
    /// # use std::time::{Duration, SystemTime};
    /// let sealer = Sealer::new(Keyring::ephemeral()?);
    /// let value = sealer.seal(&("ada".to_owned(), 7u64))?;
    /// // ada logged out everywhere a minute from now: sessions issued before
    /// // then no longer stand.
    /// let valid_after = SystemTime::now() + Duration::from_secs(60);
    /// let refused = sealer
    ///     .open_checked::<(String, u64)>(&value, |s| s.issued_at >= valid_after)
    ///     .unwrap_err();
    /// assert_eq!(refused, Error::Refused(Refusal::RevokedSubject));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Sealer::open`], and [`Refusal::RevokedSubject`].
    pub fn open_checked<T: DeserializeOwned>(
        &self,
        value: &str,
        check: impl FnOnce(&Opened<T>) -> bool,
    ) -> Result<Opened<T>> {
        let opened = self.open::<T>(value)?;
        if check(&opened) {
            Ok(opened)
        } else {
            Err(Refusal::RevokedSubject.into())
        }
    }

    /// Opens a value sealed by [`Sealer::seal_bytes`].
    ///
    /// # Errors
    /// As [`Sealer::open`], but never [`Refusal::Decode`].
    pub fn open_bytes(&self, value: &str) -> Result<Opened<Vec<u8>>> {
        self.open_with(value, |payload| Ok(payload.to_vec()))
    }

    /// Seals under the key that seals at `now`. Every seal and re-seal
    /// reads the clock once (for its times, its expiry check and its key)
    /// and the keyring once.
    fn seal_at(
        &self,
        now: UnixTime,
        times: Times,
        nonce: NonceSource<'_>,
        payload: impl FnOnce(&mut Vec<u8>, Room) -> Result<(), PayloadError>,
    ) -> Result<Sealed> {
        self.seal_then(now, times, nonce, payload, |value, times, growth| Sealed {
            value,
            times,
            growth: growth(),
        })
    }

    /// [`Sealer::seal_at`], handing the value, its times and its growth
    /// (worked out if asked) to `done`. The plain seals keep the value
    /// alone, and returned straight it is never moved between layouts.
    #[inline]
    fn seal_then<R>(
        &self,
        now: UnixTime,
        times: Times,
        nonce: NonceSource<'_>,
        payload: impl FnOnce(&mut Vec<u8>, Room) -> Result<(), PayloadError>,
        done: impl FnOnce(String, Times, &dyn Fn() -> usize) -> R,
    ) -> Result<R> {
        self.source.with(|keyring| {
            let mut times = times;
            if let Some(cut) = keyring.cutoff().filter(|cut| times.issued_at < *cut) {
                if times.issued_at != now {
                    // A kept issued_at from before a revocation cutoff (a
                    // session loaded just before the keyring changed) is not
                    // sealed again.
                    return Err(Refusal::Revoked.into());
                }
                // A fresh seal on a server whose clock lags the host that
                // wrote the cutoff (keyrings refuse cutoffs further ahead
                // than a minute): issued at the cutoff instead, so it opens
                // everywhere; the lifetime is unchanged.
                let shift = cut.since(times.issued_at).unwrap_or(0);
                times = Times {
                    issued_at: cut,
                    expires_at: times.expires_at.saturating_add(shift),
                };
            }
            let slot = keyring.sealing_slot(now)?;
            let key = SealingKey {
                id: slot.id,
                cipher: &slot.cipher,
            };
            let capacity = envelope::seal_capacity(self.max_len, &self.context);
            // The value is put where it is kept, and only the outcome goes
            // back through the scratch buffer's `Option`s and `Result`s:
            // copying a whole `Result<String>` from one layout to the next
            // stalled on loads that spanned two stores.
            let mut value = String::new();
            with_scratch(capacity, |buf| {
                envelope::seal(
                    buf,
                    key,
                    &self.context,
                    times,
                    self.max_len,
                    self.padding,
                    nonce,
                    payload,
                    &mut value,
                )
            })
            .map_err(|failure| failure.error(self.max_len))?;
            slot.count_seal(matches!(nonce, NonceSource::Deterministic), now);
            let growth = || {
                keyring
                    .max_overhead()
                    .saturating_sub(envelope::overhead(slot.id, slot.algorithm))
            };
            Ok(done(value, times, &growth))
        })
    }

    fn open_with<T>(
        &self,
        value: &str,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Opened<T>> {
        let now = self.unix_now();
        // Bounded work and memory: nothing is reserved or decoded for a
        // value past the maximum.
        if value.len() > self.max_len {
            return Err(Refusal::TooLong {
                len: value.len(),
                max: self.max_len,
            }
            .into());
        }
        self.source.with(|keyring| {
            let capacity = envelope::open_capacity(value, &self.context);
            let mut named = None;
            // The header comes out beside the value, not with it: a
            // `(Header, T)` handed back through the closures was taken
            // apart and put together again, each move's loads stalling on
            // the stores of the one before.
            let mut head = None;
            // So are the value and the error: returned, each was copied
            // from one `Result` or `Option` into the next on its way out,
            // as the header was, and the loads of a copy stalled on the
            // stores of the one before.
            let mut decoded = None;
            let mut refused = None;
            with_scratch(capacity, |buf| {
                let opened = envelope::open(
                    buf,
                    value,
                    self.max_len,
                    &self.context,
                    |id| {
                        let slot = keyring.slot(id)?;
                        named = Some(slot);
                        Some(&slot.cipher)
                    },
                    |header, payload| {
                        // Times are checked only now, after authentication.
                        self.check_times_at(header.times, now)?;
                        if keyring
                            .cutoff()
                            .is_some_and(|cut| header.times.issued_at < cut)
                        {
                            return Err(Refusal::Revoked.into());
                        }
                        head = Some(header);
                        decoded = Some(decode(payload)?);
                        Ok(())
                    },
                );
                if let Err(error) = opened {
                    refused = Some(error);
                }
            });
            if let Some(slot) = named {
                slot.count_open(refused.as_ref().map_or(Ok(()), Err));
            }
            if let Some(error) = refused {
                return Err(error);
            }
            // Both set by every open that succeeds.
            let (Some(header), Some(value)) = (head, decoded) else {
                return Err(Refusal::Malformed.into());
            };
            // Only an older key asks for a re-seal: a value of a newer key
            // comes from a server whose clock already passed that key's
            // activation, and sealing it back under the older key would
            // undo the rotation.
            let needs_reseal = keyring
                .sealing_slot(now)
                .is_ok_and(|s| header.key_id < s.id);
            Ok(Opened {
                value,
                issued_at: header.times.issued_at.to_system(),
                expires_at: header.times.expires_at.to_system(),
                key_id: header.key_id,
                needs_reseal,
            })
        })
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("name", &self.name)
            .field("purpose", &self.purpose)
            .field("ttl", &self.ttl)
            .field("leeway", &self.leeway)
            .field("max_len", &self.max_len)
            .field("padding", &self.padding)
            .field("nonces", &self.nonces)
            .field("keyring", &self.source)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;

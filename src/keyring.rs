//! The keyring: every key opens, exactly one seals.

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod counters;
use counters::{Count, Counters};
use std::time::SystemTime;

use crate::aead::Cipher;
use crate::error::{ConfigError, Error, KeyProblem, Refusal, Result};
use crate::key::{Algorithm, Key, KeyId};
use crate::time::UnixTime;

/// One key of a [`Keyring`]: an id, an algorithm, the secret, and an optional
/// activation time before which it opens but does not seal.
///
/// ```
/// use sealed_session::{Algorithm, Key, KeyEntry};
/// use std::time::{Duration, UNIX_EPOCH};
/// let entry = KeyEntry::new(2, Key::try_generate()?)
///     .algorithm(Algorithm::Aes256Gcm)
///     .activate_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct KeyEntry {
    id: KeyId,
    algorithm: Algorithm,
    key: Key,
    activation: Option<UnixTime>,
    /// `activate_at` was given a time before 1970: [`Keyring::new`]
    /// refuses the entry.
    activation_before_1970: bool,
}

impl KeyEntry {
    /// A key with id `id`, sealing with XChaCha20-Poly1305 from now on.
    pub fn new(id: impl Into<KeyId>, key: Key) -> Self {
        KeyEntry {
            id: id.into(),
            algorithm: Algorithm::default(),
            key,
            activation: None,
            activation_before_1970: false,
        }
    }

    /// Sets the algorithm this key is used with.
    #[must_use]
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The key opens at once but seals only from `at` on (if it then has the
    /// highest id among keys that may seal). Sub-second parts are dropped
    /// (the key seals from the start of that second).
    ///
    /// A time before 1970 is refused, as it is in a keyring spec string:
    /// [`Keyring::new`] fails with [`KeyProblem::Activation`]. No rotation is
    /// scheduled before 1970, so such a time is a bug in how it was
    /// computed, and reading it as "active since forever" would make the key
    /// seal at once.
    #[must_use]
    pub fn activate_at(mut self, at: SystemTime) -> Self {
        self.activation = UnixTime::from_system(at);
        self.activation_before_1970 = self.activation.is_none();
        self
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.id
    }
}

impl fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("KeyEntry");
        d.field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .field("activation", &self.activation.map(UnixTime::secs));
        if self.activation_before_1970 {
            d.field("activation_before_1970", &true);
        }
        d.finish_non_exhaustive()
    }
}

pub(crate) struct Slot {
    pub(crate) id: KeyId,
    pub(crate) algorithm: Algorithm,
    pub(crate) activation: Option<UnixTime>,
    pub(crate) cipher: Cipher,
    /// A one-way check value of the secret (see [`Keyring::fingerprint`]).
    check: [u8; 8],
    /// What the key did, shared with the same key's slot in the keyrings
    /// that replace this one (see [`Keyring::inherit_stats`]).
    stats: Arc<SlotStats>,
}

/// A key's counters. On lines of its own: every count reads the pointer
/// to the shards here, so nothing written often may share them.
#[repr(C, align(128))]
struct SlotStats {
    /// Seals, re-seals, opens and refusals by reason, counted per thread
    /// group so that cores sealing at once do not share a line.
    counts: Counters,
    /// Unix seconds of the last seal, 0 for never.
    last_sealed: AtomicU64,
    /// Zeros to the end of the lines, written: padding would be copied
    /// into the heap from the stack with whatever an earlier frame left
    /// there (as a counter shard's padding once carried key bytes).
    fill: [u8; STATS_FILL],
}

/// The bytes [`SlotStats`] fills after its fields.
const STATS_FILL: usize = 128 - size_of::<Counters>() - size_of::<AtomicU64>();

const _: () = assert!(size_of::<SlotStats>() == 128);

impl Slot {
    fn new(entry: &KeyEntry) -> Self {
        let mut check = [0u8; 8];
        check.copy_from_slice(&blake3::derive_key(KEY_CHECK_CONTEXT, entry.key.bytes())[..8]);
        Slot {
            id: entry.id,
            algorithm: entry.algorithm,
            activation: entry.activation,
            cipher: Cipher::new(entry.algorithm, &entry.key),
            check,
            stats: Arc::new(SlotStats {
                counts: Counters::new(),
                last_sealed: AtomicU64::new(0),
                fill: [0; STATS_FILL],
            }),
        }
    }

    /// Counts one seal (a re-seal if `reseal`) at `now`.
    pub(crate) fn count_seal(&self, reseal: bool, now: UnixTime) {
        let stats = &*self.stats;
        stats.counts.add(Count::Seals);
        if reseal {
            stats.counts.add(Count::Reseals);
        }
        // A read first: the second changes once a second, and a `fetch_max`
        // is a write every seal to a line every sealing core shares.
        if stats.last_sealed.load(Ordering::Relaxed) < now.secs() {
            stats.last_sealed.fetch_max(now.secs(), Ordering::Relaxed);
        }
    }

    /// Counts one open of a value naming this key: opened, or refused
    /// for `reason`.
    pub(crate) fn count_open(&self, outcome: core::result::Result<(), &Error>) {
        self.stats.counts.add(match outcome {
            Ok(()) => Count::Opens,
            Err(error) => match error.refusal() {
                Some(Refusal::Authentication) => Count::Authentication,
                Some(Refusal::Expired) => Count::Expired,
                Some(Refusal::NotYetValid) => Count::NotYetValid,
                Some(Refusal::LifetimeTooLong) => Count::LifetimeTooLong,
                Some(Refusal::Revoked) => Count::Revoked,
                Some(Refusal::Decode) => Count::Decode,
                _ => Count::OtherRefusal,
            },
        });
    }
}

/// How far ahead of a server's clock a `revoke-before` cutoff may be: the
/// clock difference tolerated between the host that wrote it and the
/// servers. A keyring whose cutoff is later would refuse every new session
/// until then (usually a mistyped date, or a local time written with a
/// `Z`), so it is refused ([`ConfigError::CutoffInFuture`]).
pub const MAX_CUTOFF_AHEAD: std::time::Duration = std::time::Duration::from_secs(CUTOFF_SLACK);

/// [`MAX_CUTOFF_AHEAD`] in seconds.
const CUTOFF_SLACK: u64 = 60;

/// Values naming one key that were refused, by reason (see
/// [`KeyStats::refused`]). A rise in `authentication` points at tampering
/// or at servers holding different secrets under one id; `not_yet_valid`
/// at clocks apart; `lifetime_too_long` at values sealed under a longer TTL
/// (or by a leaked key); `revoked` follows a `revoke-before` cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Refusals {
    /// Failed authentication (tampered, another secret under the same id,
    /// another cookie name or purpose).
    pub authentication: u64,
    /// Expired.
    pub expired: u64,
    /// Issued in the future beyond the leeway.
    pub not_yet_valid: u64,
    /// A longer lifetime than the opener allows.
    pub lifetime_too_long: u64,
    /// Issued before the keyring's `revoke-before` cutoff.
    pub revoked: u64,
    /// Authentic but not the requested type.
    pub decode: u64,
    /// Anything else once the key was found (a malformed payload).
    pub other: u64,
}

impl From<&Counters> for Refusals {
    fn from(c: &Counters) -> Self {
        Refusals {
            authentication: c.get(Count::Authentication),
            expired: c.get(Count::Expired),
            not_yet_valid: c.get(Count::NotYetValid),
            lifetime_too_long: c.get(Count::LifetimeTooLong),
            revoked: c.get(Count::Revoked),
            decode: c.get(Count::Decode),
            other: c.get(Count::OtherRefusal),
        }
    }
}

impl Slot {
    /// Shares `old`'s counters: the same key (id and secret) in a keyring
    /// that replaces `old`'s. Shared rather than copied, so that what an
    /// operation still under way on `old`'s keyring counts is not lost.
    fn inherit(&mut self, old: &Slot) {
        self.stats = Arc::clone(&old.stats);
    }
}

impl Keyring {
    /// Carries the counters of every key that `old` also holds (same id,
    /// same secret) over to this keyring, which replaces it: a reload does
    /// not reset what a key sealed, nor when it last did, and a seal or an
    /// open still running on `old` (they keep the keyring they began with)
    /// counts where this keyring reads.
    pub(crate) fn inherit_stats(&mut self, old: &Keyring) {
        for slot in &mut self.slots {
            if let Some(previous) = old.slot(slot.id).filter(|o| o.check == slot.check) {
                slot.inherit(previous);
            }
        }
    }
}

/// The context of the key check values in a fingerprint: a one-way,
/// domain-separated hash of a random 256-bit key, which tells two secrets
/// apart without saying anything usable about either.
const KEY_CHECK_CONTEXT: &str = "sealed-session 2026-11-27 key check value v1";

/// What one key of a [`Keyring`] has sealed since the keyring was made (in
/// this process), or, in a [`LiveKeyring`](crate::LiveKeyring), since the
/// key (same id, same secret) was last added to it: the keyrings that
/// replace one share the counters of the keys they keep, so a keyring gone
/// out of force goes on reading them, and a key removed and added again
/// starts from zero. Read it with [`Keyring::stats`].
///
/// `seals` counts every seal, re-seals included. For an AES-256-GCM key it
/// is an upper bound on the random nonces the key spent here: a re-seal
/// derives its nonce from the message, so re-sealing the same value again
/// repeats the same output instead of spending a new nonce. Add the counts
/// of every process that holds the key to follow its budget (SECURITY.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct KeyStats {
    /// Values sealed with this key, re-seals included.
    pub seals: u64,
    /// Values re-sealed with this key (sealed before under an older key).
    pub reseals: u64,
    /// Values of this key that opened.
    pub opens: u64,
    /// Values naming this key that were refused, all reasons together.
    pub refusals: u64,
    /// The same, by reason.
    pub refused: Refusals,
    /// When this key last sealed, if it has. A key that no longer seals is
    /// safe to remove once every server's last seal plus the longest TTL
    /// and the leeway has passed: no value it sealed still opens.
    pub last_sealed_at: Option<SystemTime>,
}

/// The context of [`Keyring::fingerprint`]'s hash.
const FINGERPRINT_CONTEXT: &str = "sealed-session 2026-11-27 keyring fingerprint v1";

/// A keyring's fingerprint ([`Keyring::fingerprint`]): 16 hex digits, no
/// key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 8]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A one-way check value of one key's secret ([`KeyInfo::check`]): 16 hex
/// digits of a domain-separated BLAKE3 hash of the 32 secret bytes. Two
/// keys with the same check value hold the same secret (to 2^-64); it says
/// nothing usable about the secret itself, so it may be printed and
/// logged, as a key check value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyCheck([u8; 8]);

impl fmt::Display for KeyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The public parts of one key of a [`Keyring`] ([`Keyring::keys`]):
/// everything but its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key's id.
    pub id: KeyId,
    /// The AEAD it is used with.
    pub algorithm: Algorithm,
    /// When it may start sealing; `None` for a key without an activation
    /// time (it may seal at once).
    pub activation: Option<SystemTime>,
    /// A check value of its secret: equal for equal secrets, and nothing
    /// more.
    pub check: KeyCheck,
}

/// A set of keys. Every key opens values sealed with it; exactly one key
/// seals, chosen by one rule that does not depend on the order keys are
/// listed in:
///
/// > **The key that seals at time *t* is the key with the highest id among
/// > those with no activation time or an activation time at or before *t*.**
///
/// So every server holding the same keys picks the same sealing key, and a
/// rotation can be shipped ahead of time: add a key with a higher id and an
/// activation time after the deploy is everywhere, and every server switches
/// at that second. Removing a key revokes every value sealed with it.
///
/// ```
/// use sealed_session::Keyring;
/// // What `sealed-session keygen` prints, usually read from SESSION_KEYS.
/// let spec = "1:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ \
///             2:xchacha20poly1305:Fw6w2bqeiVI8y5_RoS3lXRkGIxEXeVHC2C7uF93r0Zw@2030-01-01T00:00:00Z";
/// let keyring: Keyring = spec.parse()?;
/// assert_eq!(keyring.len(), 2);
/// # Ok::<(), sealed_session::Error>(())
/// ```
pub struct Keyring {
    /// Sorted by id, ids unique.
    slots: Vec<Slot>,
    /// Values issued before this time are refused (`revoke-before=`).
    revoked_before: Option<UnixTime>,
    /// The most bytes any key adds around a plaintext (kept, so a seal
    /// does not go over the keys to learn it).
    max_overhead: usize,
}

impl Keyring {
    /// A keyring of the given keys.
    ///
    /// The entries are moved in: where the caller held them (a `Vec`'s
    /// allocation, an array on the stack) copies of their keys stay until
    /// that memory is used again. A keyring parsed from a spec
    /// (`Keyring::from_str`, `from_env`, `from_file`, and every reload of
    /// a watched file) moves no key, and leaves none in freed memory.
    ///
    /// # Errors
    /// [`ConfigError::EmptyKeyring`] for no keys,
    /// [`ConfigError::DuplicateKeyId`] if two keys share an id,
    /// [`ConfigError::Key`] with [`KeyProblem::Activation`] if a key's
    /// activation time is before 1970.
    pub fn new(entries: impl IntoIterator<Item = KeyEntry>) -> Result<Self> {
        let entries = entries.into_iter();
        let mut list = Vec::with_capacity(entries.size_hint().0);
        for entry in entries {
            push_wiping(&mut list, entry);
        }
        Self::from_entries(&list)
    }

    /// [`Keyring::new`] from entries the caller keeps, and drops (wiping
    /// their keys) where they are: no key is moved, so none is left behind.
    pub(crate) fn from_entries(entries: &[KeyEntry]) -> Result<Self> {
        let mut slots: Vec<Slot> = Vec::with_capacity(entries.len());
        for e in entries {
            if e.activation_before_1970 {
                return Err(Error::from(KeyProblem::Activation));
            }
            slots.push(Slot::new(e));
        }
        if slots.is_empty() {
            return Err(ConfigError::EmptyKeyring.into());
        }
        slots.sort_by_key(|s| s.id);
        if let Some(pair) = slots.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(ConfigError::DuplicateKeyId(pair[0].id).into());
        }
        let max_overhead = slots
            .iter()
            .map(|s| crate::envelope::overhead(s.id, s.algorithm))
            .max()
            .unwrap_or(0);
        Ok(Keyring {
            slots,
            revoked_before: None,
            max_overhead,
        })
    }

    /// A keyring of one freshly generated key that exists only in this
    /// process. Every value it seals stops opening when the process exits,
    /// and other processes (workers, servers) cannot open them: for tests and
    /// local development only.
    ///
    /// # Errors
    /// [`Error::Rng`] if the operating system cannot provide randomness.
    pub fn ephemeral() -> Result<Self> {
        Keyring::new([KeyEntry::new(1, Key::try_generate()?)])
    }

    /// Parses the keyring from the environment variable `var` (see the
    /// [`FromStr`](core::str::FromStr) impl for the format), and checks that
    /// a key may seal now.
    ///
    /// # Errors
    /// [`ConfigError::EnvNotSet`] or [`ConfigError::EnvNotUnicode`] (naming
    /// the variable); otherwise as the `FromStr` impl.
    pub fn from_env(var: &str) -> Result<Self> {
        let spec = std::env::var(var).map_err(|e| match e {
            std::env::VarError::NotPresent => ConfigError::EnvNotSet { var: var.into() },
            std::env::VarError::NotUnicode(_) => ConfigError::EnvNotUnicode { var: var.into() },
        })?;
        zeroize::Zeroizing::new(spec).parse()
    }

    /// Number of keys (never zero: a keyring holds at least one key).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The ids of the keys, in increasing order.
    pub fn ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.slots.iter().map(|s| s.id)
    }

    /// The public parts of every key (id, algorithm, activation time and a
    /// check value of the secret, never the secret), in increasing order of
    /// id: for tools that show or compare keyrings.
    ///
    /// ```
    /// use sealed_session::{Algorithm, KeyId, Keyring};
    /// let spec = "1:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ \
    ///             2:aes256gcm:Fw6w2bqeiVI8y5_RoS3lXRkGIxEXeVHC2C7uF93r0Zw@2030-01-01T00:00:00Z";
    /// let keyring: Keyring = spec.parse()?;
    /// let keys: Vec<_> = keyring.keys().collect();
    /// assert_eq!((keys[1].id, keys[1].algorithm), (KeyId(2), Algorithm::Aes256Gcm));
    /// assert!(keys[0].activation.is_none() && keys[1].activation.is_some());
    /// assert_ne!(keys[0].check, keys[1].check);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = KeyInfo> + '_ {
        self.slots.iter().map(|s| KeyInfo {
            id: s.id,
            algorithm: s.algorithm,
            activation: s.activation.map(UnixTime::to_system),
            check: KeyCheck(s.check),
        })
    }

    /// The algorithm of key `id`, if the keyring holds it.
    pub fn algorithm(&self, id: KeyId) -> Option<Algorithm> {
        self.slot(id).map(|s| s.algorithm)
    }

    /// What key `id` has sealed and opened (see [`KeyStats`] for the
    /// keyrings of a [`LiveKeyring`](crate::LiveKeyring)), if the keyring
    /// holds it.
    ///
    /// ```
    /// use sealed_session::{Keyring, KeyId, Sealer};
    /// let sealer = Sealer::new(Keyring::ephemeral()?);
    /// sealer.seal(&"hello")?;
    /// assert_eq!(sealer.keyring().stats(KeyId(1)).map(|s| s.seals), Some(1));
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn stats(&self, id: KeyId) -> Option<KeyStats> {
        self.slot(id).map(|s| {
            let (counts, last) = (&s.stats.counts, s.stats.last_sealed.load(Ordering::Relaxed));
            KeyStats {
                seals: counts.get(Count::Seals),
                reseals: counts.get(Count::Reseals),
                opens: counts.get(Count::Opens),
                refusals: Count::REFUSALS.iter().map(|&c| counts.get(c)).sum(),
                refused: Refusals::from(counts),
                last_sealed_at: (last > 0).then(|| UnixTime::from_secs(last).to_system()),
            }
        })
    }

    /// Refuses every value issued before `at` ([`Refusal::Revoked`]),
    /// whatever key sealed it: "log everyone out" without removing a key.
    /// New values (issued from `at` on) open as before. The same as a
    /// `revoke-before=TIME` entry in a spec; a time before 1970 revokes
    /// nothing.
    ///
    /// [`Refusal::Revoked`]: crate::Refusal::Revoked
    #[must_use]
    pub fn with_revoke_before(mut self, at: SystemTime) -> Self {
        self.revoked_before = UnixTime::from_system(at);
        self
    }

    /// Refuses a cutoff more than a minute after `now`: it would refuse
    /// every new session until then (usually a mistyped date).
    pub(crate) fn check_cutoff(&self, now: SystemTime) -> Result<()> {
        let now = UnixTime::from_system(now).unwrap_or_default();
        match self.revoked_before {
            Some(cut) if cut > now.saturating_add(CUTOFF_SLACK) => {
                Err(ConfigError::CutoffInFuture.into())
            }
            _ => Ok(()),
        }
    }

    /// When a server first accepts this keyring: `now` if it does now;
    /// else once a key may seal ([`ConfigError::NoSealingKey`] before its
    /// first activation) and the `revoke-before` cutoff is at most
    /// [`MAX_CUTOFF_AHEAD`] ahead ([`ConfigError::CutoffInFuture`] before),
    /// whichever is later. A live keyring watching a file applies a keyring
    /// refused for its time then.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use sealed_session::Keyring;
    /// let spec = "2:xchacha20poly1305:Fw6w2bqeiVI8y5_RoS3lXRkGIxEXeVHC2C7uF93r0Zw@2999-01-01T00:00:00Z";
    /// let keyring = Keyring::parse_planned(spec)?;
    /// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(32_472_144_000);
    /// assert_eq!(keyring.accepted_from(SystemTime::now()), at);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn accepted_from(&self, now: SystemTime) -> SystemTime {
        let sealing = match self.sealing_key_id(now) {
            Ok(_) => now,
            Err(_) => self
                .slots
                .iter()
                .filter_map(|s| s.activation)
                .min()
                .map_or(now, UnixTime::to_system),
        };
        let cutoff = self
            .revoked_before()
            .and_then(|cut| cut.checked_sub(MAX_CUTOFF_AHEAD))
            .filter(|&from| from > now)
            .unwrap_or(now);
        sealing.max(cutoff)
    }

    /// The revocation cutoff, if any (see [`Keyring::with_revoke_before`]).
    pub fn revoked_before(&self) -> Option<SystemTime> {
        self.revoked_before.map(UnixTime::to_system)
    }

    pub(crate) fn cutoff(&self) -> Option<UnixTime> {
        self.revoked_before
    }

    /// A short fingerprint of everything that decides what this keyring
    /// seals and opens: each key's id, algorithm, activation time and a
    /// one-way check value of its secret (a domain-separated BLAKE3 hash,
    /// which tells two secrets apart and reveals nothing usable about
    /// either), and the revocation cutoff. Servers with the same
    /// fingerprint hold the same keyring; it is logged on every load and
    /// reload, so an operator can see that every replica holds a new key
    /// before it activates.
    ///
    /// ```
    /// # use sealed_session::Keyring;
    /// let spec = "1:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ";
    /// let a: Keyring = spec.parse()?;
    /// let b: Keyring = format!("{spec}\n# a comment changes nothing").parse()?;
    /// assert_eq!(a.fingerprint(), b.fingerprint());
    /// assert_eq!(a.fingerprint().to_string().len(), 16);
    /// # Ok::<(), sealed_session::Error>(())
    /// ```
    pub fn fingerprint(&self) -> Fingerprint {
        let mut hasher = blake3::Hasher::new_derive_key(FINGERPRINT_CONTEXT);
        for slot in &self.slots {
            hasher.update(&slot.id.0.to_le_bytes());
            hasher.update(slot.algorithm.name().as_bytes());
            hasher.update(&[0]);
            match slot.activation {
                Some(at) => hasher.update(&[1]).update(&at.secs().to_le_bytes()),
                None => hasher.update(&[0]),
            };
            hasher.update(&slot.check);
        }
        match self.revoked_before {
            Some(cut) => hasher.update(&[1]).update(&cut.secs().to_le_bytes()),
            None => hasher.update(&[0]),
        };
        let mut out = [0u8; 8];
        out.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
        Fingerprint(out)
    }

    /// The most bytes any key of this keyring adds around a plaintext.
    pub(crate) fn max_overhead(&self) -> usize {
        self.max_overhead
    }

    /// The id of the key that seals at `now` (see the rule above).
    ///
    /// # Errors
    /// [`ConfigError::NoSealingKey`] if every key's activation time is after
    /// `now`.
    pub fn sealing_key_id(&self, now: SystemTime) -> Result<KeyId> {
        let now = UnixTime::from_system(now).unwrap_or_default();
        self.sealing_slot(now).map(|s| s.id)
    }

    pub(crate) fn sealing_slot(&self, now: UnixTime) -> Result<&Slot> {
        self.slots
            .iter()
            .rev()
            .find(|s| s.activation.is_none_or(|at| at <= now))
            .ok_or(ConfigError::NoSealingKey.into())
    }

    pub(crate) fn slot(&self, id: KeyId) -> Option<&Slot> {
        self.slots
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.slots[i])
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entry<'a>(&'a Slot);
        impl fmt::Debug for Entry<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Key")
                    .field("id", &self.0.id)
                    .field("algorithm", &self.0.algorithm)
                    .field("activation", &self.0.activation.map(UnixTime::secs))
                    .finish_non_exhaustive()
            }
        }
        f.debug_list()
            .entries(self.slots.iter().map(Entry))
            .finish()
    }
}

/// Appends `entry` to `list`, moving the entries to a larger allocation by
/// hand when it is full and wiping the old one: a `Vec`'s own growth would
/// free the old allocation with every key it held still in it.
pub(crate) fn push_wiping(list: &mut Vec<KeyEntry>, entry: KeyEntry) {
    if list.len() == list.capacity() {
        let mut bigger = Vec::with_capacity((list.capacity() * 2).max(4));
        bigger.append(list);
        // `append` moved them bitwise: the old allocation still holds them.
        wipe_spare(list);
        *list = bigger;
    }
    list.push(entry);
}

/// Overwrites the whole allocation of an emptied `list` (which `append`
/// left holding bitwise copies of what it moved), then frees it.
fn wipe_spare(list: &mut Vec<KeyEntry>) {
    // Entries whose keys are zero bytes, written over the stale copies.
    list.resize_with(list.capacity(), || KeyEntry::new(0, Key::zeroed()));
    list.clear();
    list.shrink_to(0);
}

mod path_text;
mod spec;
pub(crate) use spec::shown_path;

//! Where a sealer's keyring comes from while serving: one fixed keyring, or
//! a [`LiveKeyring`] that is replaced while serving (through the API, or by
//! reloading a file).
//!
//! Every seal and open reads the keyring through [`Source::with`], once per
//! operation, and uses that one keyring for the whole operation (its key
//! choice, lookup, cutoff and re-seal decision). A replacement is in force
//! from the next operation on; operations under way finish with the keyring
//! they started with.

use core::fmt;
use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::error::{ConfigError, Error, Result};
use crate::keyring::Keyring;
use crate::time::UnixTime;
use crate::time::{Clock as _, SystemClock};

/// A sealer's keyring, as it reads it per operation.
#[derive(Clone)]
pub(crate) enum Source {
    /// One keyring for the sealer's whole life.
    Fixed(Arc<Keyring>),
    /// A keyring replaced while serving.
    Live(LiveKeyring),
}

impl Source {
    /// Runs `f` with the keyring in force now.
    // One call of `f` (its body is a whole seal or open), not one per
    // source: the compiler then inlines it into its caller.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Keyring) -> R) -> R {
        let guard;
        let keyring: &Keyring = match self {
            Source::Fixed(keyring) => keyring,
            Source::Live(live) => {
                guard = live.inner.current.load();
                &guard
            }
        };
        f(keyring)
    }

    /// The keyring in force now, to keep.
    pub(crate) fn current(&self) -> Arc<Keyring> {
        match self {
            Source::Fixed(keyring) => Arc::clone(keyring),
            Source::Live(live) => live.current(),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|keyring| fmt::Debug::fmt(keyring, f))
    }
}

/// A keyring that can be replaced while serving. Clones share it; give one
/// to every [`Sealer`](crate::Sealer) with
/// [`Sealer::from_live`](crate::Sealer::from_live), and each of their seals
/// and opens uses the keyring in force when it starts.
///
/// A replacement that cannot seal now (every key's activation in the
/// future) is refused, and the keyring in force stays. Every keyring put in
/// force is logged (`tracing`, info level) with its
/// [fingerprint](Keyring::fingerprint), never with key material, so an
/// operator can check that every replica holds the same keys.
///
/// ```
/// use sealed_session::{Keyring, LiveKeyring, Sealer};
/// let live = LiveKeyring::new(Keyring::ephemeral()?)?;
/// let sealer = Sealer::from_live(&live);
/// let value = sealer.seal(&"ada")?;
/// // Rotate: the next operation seals under the new keyring. (Replacing
/// // the keys outright, as here, revokes what the old ones sealed.)
/// live.replace(Keyring::ephemeral()?)?;
/// assert!(sealer.open::<String>(&value).is_err());
/// # Ok::<(), sealed_session::Error>(())
/// ```
#[derive(Clone)]
pub struct LiveKeyring {
    inner: Arc<Inner>,
}

struct Inner {
    current: ArcSwap<Keyring>,
    /// Held by a replacement from its load of the keyring in force to its
    /// store of the next: two replacements at once (the file watcher and
    /// the API) take turns, so neither builds on a keyring the other has
    /// already replaced (which would drop the other's keyring, with the
    /// counts of keys only it held). Operations never take it.
    replacing: std::sync::Mutex<()>,
}

impl LiveKeyring {
    /// A live keyring, starting with `keyring`.
    ///
    /// # Errors
    /// [`ConfigError::NoSealingKey`] if no key of `keyring` may seal now,
    /// [`ConfigError::CutoffInFuture`] if its `revoke-before` cutoff is more
    /// than a minute ahead (as [`LiveKeyring::replace`]).
    pub fn new(keyring: Keyring) -> Result<Self> {
        keyring.sealing_key_id(SystemClock.now())?;
        keyring.check_cutoff(SystemClock.now())?;
        log_in_force(&keyring, "loaded");
        Ok(LiveKeyring {
            inner: Arc::new(Inner {
                current: ArcSwap::from_pointee(keyring),
                replacing: std::sync::Mutex::new(()),
            }),
        })
    }

    /// The keyring in force now.
    pub fn current(&self) -> Arc<Keyring> {
        self.inner.current.load_full()
    }

    /// Puts `keyring` in force from the next operation on, for every sealer
    /// sharing this live keyring (applications with their own secret store
    /// call this when it changes).
    ///
    /// # Errors
    /// [`ConfigError::NoSealingKey`] if no key of `keyring` may seal now,
    /// [`ConfigError::CutoffInFuture`] if its `revoke-before` cutoff is more
    /// than a minute ahead: then nothing changes.
    pub fn replace(&self, mut keyring: Keyring) -> Result<()> {
        keyring.sealing_key_id(SystemClock.now())?;
        keyring.check_cutoff(SystemClock.now())?;
        // A replacement that panicked left nothing half done to guard.
        let _turn = self
            .inner
            .replacing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old = self.current();
        log_stats(&old);
        keyring.inherit_stats(&old);
        log_in_force(&keyring, "replaced");
        self.inner.current.store(Arc::new(keyring));
        Ok(())
    }

    /// Reads the keyring from `path` (see [`Keyring::from_file`]) and keeps
    /// reading it every second in a background thread: a change is in force
    /// once two reads in a row found it in one write of the file (the same
    /// modification time, length and inode; or three reads in a row, whatever
    /// the writes), within about two seconds, on every sealer sharing this
    /// live keyring, without a restart. The file is
    /// read by its path each time, so an edit in place, an atomic rename
    /// over it, and the symlink swap that Kubernetes secret volumes make are
    /// all seen. Two reads, so that an edit in place read half written is
    /// not applied: its first half may parse (the old keys without the new
    /// one) and refuse every cookie of a key it lacks. A writer that stays
    /// half done for a whole second may still get its half applied: write
    /// a temporary file and rename it over the keyring's. Two quick edits
    /// that leave the same half are told apart by the file's modification
    /// time, where the file system keeps it finer than a second. (A file
    /// rewritten with another content at every read, more often than once
    /// a second, is never applied.)
    ///
    /// A new content that does not parse, that leaves no key able to seal,
    /// or whose `revoke-before` is more than a minute ahead, is not applied:
    /// the keyring in force stays, and an error event says why (never with
    /// key material), once. One refused only for its time (no key active
    /// yet, the cutoff ahead) is tried again at every read and applied when
    /// its time comes, as a server started then would load it. A file that
    /// cannot be read is reported the same way. The thread ends when the
    /// last clone of this live keyring is dropped.
    ///
    /// # Errors
    /// As [`Keyring::from_file`], for the first reading: a server must not
    /// start without keys.
    pub fn watch_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::watch_file_every(path, Duration::from_secs(1))
    }

    /// [`LiveKeyring::watch_file`], reading the file every `interval`.
    ///
    /// # Errors
    /// As [`LiveKeyring::watch_file`].
    pub fn watch_file_every(path: impl AsRef<Path>, interval: Duration) -> Result<Self> {
        // Not a busy loop, whatever the caller asks.
        let interval = interval.max(Duration::from_millis(10));
        let path = path.as_ref().to_path_buf();
        let (text, _) = read_stamped(&path)?;
        let live = LiveKeyring::new(text.parse()?)?;
        let weak = Arc::downgrade(&live.inner);
        std::thread::Builder::new()
            .name("sealed-session keyring watcher".into())
            .spawn(move || watch(&weak, &path, text, interval))
            .map_err(|e| ConfigError::KeyringFile {
                path: "(watcher thread)".into(),
                kind: e.kind(),
            })?;
        Ok(live)
    }
}

impl fmt::Debug for LiveKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LiveKeyring").field(&self.current()).finish()
    }
}

/// The file's text, wiped when dropped, and its [`Stamp`] (read from the
/// file opened, so both are of one file); no stamp if the file's length is
/// not the text's (it changed while it was read).
fn read_stamped(path: &Path) -> Result<(zeroize::Zeroizing<String>, Option<Stamp>)> {
    let failed = |e: std::io::Error| {
        Error::from(ConfigError::KeyringFile {
            path: crate::keyring::shown_path(path),
            kind: e.kind(),
        })
    };
    let mut file = std::fs::File::open(path).map_err(failed)?;
    let stamp = Stamp::of(&file.metadata().map_err(failed)?);
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut file, &mut text).map_err(failed)?;
    let whole = u64::try_from(text.len()).is_ok_and(|len| len == stamp.len);
    Ok((text, whole.then_some(stamp)))
}

/// What tells two writes of one content apart: the file's modification
/// time, length and (on Unix) device and inode. An edit in place, a rename
/// over the file and a symlink swap each change one of them, where the file
/// system keeps fine modification times (not FAT, HFS+, some network file
/// systems: there two quick edits of one length in one second look alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
    inode: (u64, u64),
}

impl Stamp {
    fn of(metadata: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = (
            std::os::unix::fs::MetadataExt::dev(metadata),
            std::os::unix::fs::MetadataExt::ino(metadata),
        );
        #[cfg(not(unix))]
        let inode = (0, 0);
        Stamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
            inode,
        }
    }
}

/// The watcher thread: re-reads `path` every `interval` while the live
/// keyring exists, and applies a changed content that parses and can seal,
/// as [`Settle`] decides.
fn watch(live: &Weak<Inner>, path: &Path, last: zeroize::Zeroizing<String>, interval: Duration) {
    let mut unreadable = false;
    let mut settle = Settle::new(last);
    loop {
        std::thread::sleep(interval);
        let Some(inner) = live.upgrade() else {
            return;
        };
        let (text, stamp) = match read_stamped(path) {
            Ok((text, Some(stamp))) => (text, stamp),
            // Written while it was read: read it again next time.
            Ok((_, None)) => {
                settle.unreadable();
                continue;
            }
            Err(error) => {
                // Reported once, until the file can be read again.
                if !unreadable {
                    tracing::error!(%error, "keyring file not read; the keyring in force stays");
                }
                unreadable = true;
                settle.unreadable();
                continue;
            }
        };
        unreadable = false;
        let Some(text) = settle.read(text, stamp) else {
            continue;
        };
        let live = LiveKeyring { inner };
        let applied = text
            .parse::<Keyring>()
            .and_then(|keyring| live.replace(keyring));
        match applied {
            Ok(()) => settle.applied(),
            Err(error) => {
                let for_now = matches!(
                    error,
                    Error::Config(ConfigError::NoSealingKey | ConfigError::CutoffInFuture)
                );
                if !settle.refused(for_now) {
                    continue;
                }
                // Refused for its time (still pending): when it will be
                // applied, and which keys in force it drops then, worked
                // out once, for the report.
                let planned = settle
                    .pending()
                    .filter(|_| for_now)
                    .and_then(|text| Keyring::parse_planned(text).ok());
                let applies_at = planned
                    .as_ref()
                    .map(|keyring| keyring.accepted_from(SystemClock.now()));
                // A key in force is kept only by the same id with the same
                // secret and algorithm (an id reused for a new key drops
                // the old one as surely).
                let removes: Vec<u32> = planned.as_ref().map_or_else(Vec::new, |planned| {
                    let current = live.current();
                    current
                        .keys()
                        .filter(|key| {
                            planned.keys().all(|kept| {
                                (kept.id, kept.algorithm, kept.check)
                                    != (key.id, key.algorithm, key.check)
                            })
                        })
                        .map(|key| key.id.0)
                        .collect()
                });
                match applies_at.and_then(UnixTime::from_system) {
                    Some(at) if removes.is_empty() => tracing::error!(
                        path = %crate::keyring::shown_path(path),
                        %error,
                        applies_at = at.secs(),
                        "keyring file changed but is not applied yet; the keyring in force \
                         stays until applies_at (unix seconds), and then this one is applied"
                    ),
                    Some(at) => tracing::error!(
                        path = %crate::keyring::shown_path(path),
                        %error,
                        applies_at = at.secs(),
                        ?removes,
                        "keyring file changed but is not applied yet; the keyring in force \
                         stays until applies_at (unix seconds), and then this one is applied: \
                         it lacks keys in force now (removes), so the values they sealed stop \
                         opening then"
                    ),
                    None => tracing::error!(
                        path = %crate::keyring::shown_path(path),
                        %error,
                        "keyring file changed but is not applied; the keyring in force stays"
                    ),
                }
            }
        }
    }
}

/// When the watcher applies what it reads.
///
/// A changed content is applied once two reads in a row found it, in one
/// write of the file (the same [`Stamp`]), or three reads in a row whatever
/// the writes: a file edited in place may be read while it is half written,
/// and the half that parses (the old key, not yet the new one) would refuse
/// every cookie of the missing key, and remove it. A writer would have to
/// stay half done for a whole interval; the same half read in two edits is
/// two writes. Three reads of one content are applied all the same, for a
/// file rewritten with the same bytes at every read (a sidecar), or on a
/// file system whose stamps move by themselves. A failed read starts the
/// count again.
///
/// A content refused for good (it does not parse) is reported once and
/// not tried again until the file changes. One refused for its time (no
/// key is active yet, a `revoke-before` too far ahead) is reported once
/// and tried again at every read, so it is applied when its time comes,
/// as a server started then would load it: the fleet does not split.
struct Settle {
    /// The content in force, or the last one refused for good.
    last: zeroize::Zeroizing<String>,
    /// A content that differs from `last`, read at the last read.
    pending: Option<Pending>,
    /// The last content whose refusal was reported.
    reported: Option<zeroize::Zeroizing<String>>,
}

/// [`Settle::pending`]: a content, the write it was last read in, and how
/// many reads in a row found it.
struct Pending {
    text: zeroize::Zeroizing<String>,
    stamp: Stamp,
    reads: u8,
}

/// Reads in a row of one content that apply it whatever its writes.
const SAME_TEXT_READS: u8 = 3;

impl Settle {
    fn new(in_force: zeroize::Zeroizing<String>) -> Self {
        Settle {
            last: in_force,
            pending: None,
            reported: None,
        }
    }

    /// Takes a read of the file: the content to apply now, if any.
    fn read(&mut self, text: zeroize::Zeroizing<String>, stamp: Stamp) -> Option<&str> {
        if *text == *self.last {
            self.pending = None;
            return None;
        }
        let again = self.pending.as_ref().is_some_and(|p| *p.text == *text);
        if !again {
            self.pending = Some(Pending {
                text,
                stamp,
                reads: 1,
            });
            return None;
        }
        let p = self.pending.as_mut()?;
        p.reads = p.reads.saturating_add(1);
        let settled = p.stamp == stamp || p.reads >= SAME_TEXT_READS;
        p.stamp = stamp;
        settled.then_some(p.text.as_str())
    }

    /// The content read and not yet in force, if any.
    fn pending(&self) -> Option<&str> {
        self.pending.as_ref().map(|p| p.text.as_str())
    }

    /// A read failed: the next content must be read twice again.
    fn unreadable(&mut self) {
        self.pending = None;
    }

    /// The content [`Settle::read`] gave is in force.
    fn applied(&mut self) {
        if let Some(p) = self.pending.take() {
            self.last = p.text;
        }
        self.reported = None;
    }

    /// The content [`Settle::read`] gave was refused, `for_now` (for its
    /// time: tried again at the next read) or for good. Whether to report
    /// it: once per content.
    fn refused(&mut self, for_now: bool) -> bool {
        let Some(Pending { text, .. }) = &self.pending else {
            return false;
        };
        let report = self.reported.as_ref().is_none_or(|r| **r != **text);
        if report {
            self.reported = Some(text.clone());
        }
        if !for_now {
            if let Some(p) = self.pending.take() {
                self.last = p.text;
            }
        }
        report
    }
}

/// One event per key of a keyring going out of force: what it sealed and
/// opened here, and when it last sealed (a key no longer sealing is safe
/// to remove once every server's last seal plus the longest TTL and the
/// leeway has passed).
fn log_stats(keyring: &Keyring) {
    for id in keyring.ids() {
        if let Some(stats) = keyring.stats(id) {
            let last_sealed = stats
                .last_sealed_at
                .and_then(crate::time::UnixTime::from_system)
                .map(crate::time::UnixTime::secs);
            tracing::info!(
                key_id = id.0,
                seals = stats.seals,
                reseals = stats.reseals,
                opens = stats.opens,
                refusals = stats.refusals,
                ?last_sealed,
                "key counters of the keyring going out of force"
            );
        }
    }
}

/// The event for a keyring put in force: its fingerprint and key ids.
fn log_in_force(keyring: &Keyring, how: &str) {
    let ids: Vec<u32> = keyring.ids().map(|id| id.0).collect();
    let sealing = keyring
        .sealing_key_id(SystemClock.now())
        .map(|id| id.0)
        .ok();
    tracing::info!(
        fingerprint = %keyring.fingerprint(),
        ?ids,
        ?sealing,
        how,
        "keyring in force"
    );
}

#[cfg(test)]
mod tests {
    use super::{read_stamped, Settle, Stamp};
    use zeroize::Zeroizing;

    /// The stamp of write number `n`.
    fn write(n: u64) -> Stamp {
        Stamp {
            modified: None,
            len: 0,
            inode: (0, n),
        }
    }

    /// Feeds reads (a content and the write it came from) to `settle`; the
    /// content it would apply at each.
    fn reads(settle: &mut Settle, texts: &[(&str, u64)]) -> Vec<Option<String>> {
        texts
            .iter()
            .map(|(t, n)| {
                settle
                    .read(Zeroizing::new((*t).to_owned()), write(*n))
                    .map(str::to_owned)
            })
            .collect()
    }

    fn settle() -> Settle {
        Settle::new(Zeroizing::new("L".to_owned()))
    }

    fn applies(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn a_change_is_applied_at_its_second_read_in_a_row() {
        let mut s = settle();
        assert_eq!(reads(&mut s, &[("L", 0), ("A", 1)]), [None, None]);
        assert_eq!(reads(&mut s, &[("A", 1)]), [applies("A")]);
        s.applied();
        assert_eq!(reads(&mut s, &[("A", 1), ("A", 2)]), [None, None]);
    }

    #[test]
    fn a_change_read_once_between_others_is_never_applied() {
        let mut s = settle();
        // Half written, then whole: the half was read once.
        assert_eq!(
            reads(&mut s, &[("H", 1), ("L", 2), ("H", 3), ("B", 4), ("H", 5)]),
            vec![None; 5]
        );
        // The same half in two edits, each read once: two writes.
        let mut s = settle();
        assert_eq!(reads(&mut s, &[("H", 6), ("H", 8)]), [None, None]);
        // The same write read twice is applied (a writer half done for a
        // whole interval).
        assert_eq!(reads(&mut s, &[("H", 8)]), [applies("H")]);
        let mut s = settle();
        // Back to the content in force drops what was pending.
        assert_eq!(
            reads(&mut s, &[("A", 1), ("L", 2), ("A", 3)]),
            vec![None; 3]
        );
        // A failed read in between starts the count again.
        s.unreadable();
        assert_eq!(reads(&mut s, &[("A", 3), ("A", 3)]), [None, applies("A")]);
    }

    /// One content at three reads in a row, each from another write (a
    /// sidecar that rewrites the same bytes at every read, stamps that
    /// move by themselves): applied at the third.
    #[test]
    fn one_content_read_three_times_in_a_row_is_applied_whatever_its_writes() {
        let mut s = settle();
        assert_eq!(
            reads(&mut s, &[("A", 1), ("A", 2), ("A", 3)]),
            [None, None, applies("A")]
        );
        // Another content between starts the count again.
        let mut s = settle();
        assert_eq!(
            reads(&mut s, &[("A", 1), ("A", 2), ("B", 3), ("A", 4), ("A", 5)]),
            vec![None; 5]
        );
    }

    #[test]
    fn a_content_refused_for_good_is_reported_once_and_not_tried_again() {
        let mut s = settle();
        assert_eq!(
            reads(&mut s, &[("bad", 1), ("bad", 1)]),
            [None, applies("bad")]
        );
        assert!(s.refused(false), "reported");
        assert_eq!(
            reads(&mut s, &[("bad", 1), ("bad", 1), ("bad", 2)]),
            vec![None; 3]
        );
        // Fixed: applied at its second read.
        assert_eq!(reads(&mut s, &[("B", 3), ("B", 3)]), [None, applies("B")]);
        s.applied();
        // The same bad content again is a new change, reported again.
        assert_eq!(
            reads(&mut s, &[("bad", 4), ("bad", 4)]),
            [None, applies("bad")]
        );
        assert!(s.refused(false));
    }

    #[test]
    fn a_content_refused_for_its_time_is_tried_at_every_read_and_reported_once() {
        let mut s = settle();
        assert_eq!(reads(&mut s, &[("T", 1), ("T", 1)]), [None, applies("T")]);
        assert!(s.refused(true), "reported");
        for _ in 0..3 {
            assert_eq!(reads(&mut s, &[("T", 1)]), [applies("T")], "tried again");
            assert!(!s.refused(true), "reported once");
        }
        // Its time came.
        assert_eq!(reads(&mut s, &[("T", 1)]), [applies("T")]);
        s.applied();
        assert_eq!(reads(&mut s, &[("T", 1), ("T", 2)]), [None, None]);
        // Replaced by another before its time: that one is read twice.
        let mut s = settle();
        assert_eq!(reads(&mut s, &[("T", 1), ("T", 1)]), [None, applies("T")]);
        assert!(s.refused(true));
        assert_eq!(reads(&mut s, &[("U", 2), ("U", 2)]), [None, applies("U")]);
        assert!(s.refused(true), "another content is reported");
    }

    /// The watcher's reads tell two writes of one content apart: a
    /// rewrite in place (a later modification time: retried for up to 3 s,
    /// for file systems that keep whole seconds), a rename over the file
    /// (another inode).
    #[test]
    fn reads_tell_writes_of_one_content_apart() {
        let dir = std::env::temp_dir().join(format!("sealed-session-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("keys");
        let stamp = || {
            let (text, stamp) = read_stamped(&path).expect("reads");
            assert_eq!(*text, "same");
            stamp.expect("read whole")
        };
        std::fs::write(&path, "same").expect("write");
        let first = stamp();
        assert_eq!(stamp(), first, "no write");
        let started = std::time::Instant::now();
        let second = loop {
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::fs::write(&path, "same").expect("write");
            let now = stamp();
            if now != first || started.elapsed() > std::time::Duration::from_secs(3) {
                break now;
            }
        };
        assert_ne!(second, first, "a rewrite in place");
        let tmp = dir.join("keys.tmp");
        std::fs::write(&tmp, "same").expect("write");
        std::fs::rename(&tmp, &path).expect("rename");
        assert_ne!(stamp(), second, "a rename");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    /// A read whose length is not the one the file's metadata gave (the
    /// file changed while it was read) has no stamp, so the watcher counts
    /// it as no read. A file under /proc is such a file at every read: its
    /// metadata says 0 bytes, its read gives more.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_read_of_another_length_than_the_file_has_no_stamp() {
        let path = std::path::Path::new("/proc/self/status");
        let (text, stamp) = read_stamped(path).expect("reads");
        assert!(!text.is_empty());
        assert_eq!(std::fs::metadata(path).expect("metadata").len(), 0);
        assert_eq!(stamp, None);
    }
}

//! A key's counters (seals, re-seals, opens, refusals by reason), split
//! over shards of their own cache lines.
//!
//! Every seal and every open counts, so with one set of counters every core
//! that seals or opens under a key writes the same cache line, each write a
//! locked add that must first take the line from the core that wrote it
//! last. Here each of the first threads to count (in any key) owns a shard,
//! which only it writes: a plain read and write, no locked add (a locked
//! add waits for every store before it to land, and a seal has just made
//! many). The threads after those count in shared shards, spread over them
//! by thread, with locked adds, which keep them exact. A read adds the
//! shards up.
//!
//! The thread's slot is a plain number in a thread-local with no
//! destructor, so counting works from any thread-local's destructor too
//! (where `thread_local::ThreadLocal`, or anything with a destructor, may
//! already be gone). An owned shard's number is given out once: the count
//! of owners stops at [`MAX_OWNED`] rather than wrap, so a shard never has
//! two writers, even after its thread has exited.

use core::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// What a key counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Count {
    Seals,
    Reseals,
    Opens,
    Authentication,
    Expired,
    NotYetValid,
    LifetimeTooLong,
    Revoked,
    Decode,
    OtherRefusal,
}

/// How many things a key counts.
const COUNTS: usize = 10;

impl Count {
    /// The refusals, in the order of [`Refusals`](super::Refusals)' fields.
    pub(crate) const REFUSALS: [Count; 7] = [
        Count::Authentication,
        Count::Expired,
        Count::NotYetValid,
        Count::LifetimeTooLong,
        Count::Revoked,
        Count::Decode,
        Count::OtherRefusal,
    ];
}

/// One shard: every count, alone on its cache lines (128 bytes: two lines,
/// as adjacent-line prefetchers pair them). Sixteen words, of which
/// [`COUNTS`] count: a shard with padding after its counts was built on
/// the stack and copied whole into the heap, padding included, and the
/// padding carried whatever an earlier stack frame had left there (a
/// parsed keyring's key bytes, the memory-scan test found).
#[derive(Default)]
#[repr(align(128))]
struct Shard([AtomicU64; 16]);

const _: () = assert!(COUNTS <= 16 && size_of::<Shard>() == 128);

/// A key's counts: a shard for each of the first [`owned_shards`] threads
/// to count, then the shards the later threads share.
pub(crate) struct Counters {
    owned: Box<[Shard]>,
    /// A power of two of them.
    shared: Box<[Shard]>,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Counters {
            owned: (0..owned_shards()).map(|_| Shard::default()).collect(),
            shared: (0..shared_shards()).map(|_| Shard::default()).collect(),
        }
    }

    /// Counts one `what`: in the calling thread's own shard if it has one,
    /// else in a shared one.
    #[inline]
    pub(crate) fn add(&self, what: Count) {
        let slot = thread_slot();
        match self.owned.get(slot) {
            Some(own) => {
                // This thread alone writes it: readers see each count whole.
                let count = &own.0[what as usize];
                count.store(
                    count.load(Ordering::Relaxed).wrapping_add(1),
                    Ordering::Relaxed,
                );
            }
            None => {
                // A power of two: the mask picks a shard in range.
                let shared = &self.shared[slot & (self.shared.len() - 1)];
                shared.0[what as usize].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The count of `what` over every shard.
    pub(crate) fn get(&self, what: Count) -> u64 {
        self.owned
            .iter()
            .chain(self.shared.iter())
            .fold(0u64, |sum, shard| {
                sum.wrapping_add(shard.0[what as usize].load(Ordering::Relaxed))
            })
    }
}

/// The most threads that own a shard (in every key).
const MAX_OWNED: usize = 64;

/// The machine's parallelism.
fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// How many threads own a shard in each key: twice the machine's
/// parallelism (a server's workers, and as many threads again that count
/// once in a while: the main thread, a blocking pool), at least 8 and at
/// most [`MAX_OWNED`] (1 to 8 KiB a key).
fn owned_shards() -> usize {
    static OWNED: OnceLock<usize> = OnceLock::new();
    *OWNED.get_or_init(|| parallelism().saturating_mul(2).clamp(8, MAX_OWNED))
}

/// How many shared shards each key has: the machine's parallelism, up to
/// the next power of two, at most 64 (up to 8 KiB more a key).
fn shared_shards() -> usize {
    static SHARED: OnceLock<usize> = OnceLock::new();
    *SHARED.get_or_init(|| parallelism().next_power_of_two().min(64))
}

/// The calling thread's slot: below [`MAX_OWNED`], the shard it owns (if
/// its key has that many); from there, a number that spreads the threads
/// after the owners over the shared shards.
#[inline]
fn thread_slot() -> usize {
    thread_local! {
        static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    static OWNERS: AtomicUsize = AtomicUsize::new(0);
    static LATER: AtomicUsize = AtomicUsize::new(0);
    SLOT.try_with(|slot| match slot.get() {
        usize::MAX => {
            let new = new_slot(&OWNERS, &LATER);
            slot.set(new);
            new
        }
        known => known,
    })
    // Without its thread-local the thread counts in a shared shard.
    .unwrap_or(MAX_OWNED)
}

/// A new thread's slot: the next owned one while there are any left (the
/// count stops at [`MAX_OWNED`] and never wraps back to them), then the
/// next one after them (wrapping within the slots that are not owned).
fn new_slot(owners: &AtomicUsize, later: &AtomicUsize) -> usize {
    match owners.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
        (n < MAX_OWNED).then_some(n + 1)
    }) {
        Ok(owned) => owned,
        Err(_) => {
            let n = later.fetch_add(1, Ordering::Relaxed);
            MAX_OWNED + n % (usize::MAX - MAX_OWNED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shard is a whole number of 128-byte blocks, aligned to one, so no
    /// two shards (and nothing else) share a cache line.
    #[test]
    fn shards_have_lines_of_their_own() {
        assert_eq!(align_of::<Shard>(), 128);
        assert_eq!(size_of::<Shard>() % 128, 0);
        let counters = Counters::new();
        assert!((8..=64).contains(&counters.owned.len()));
        for pair in counters.owned.windows(2) {
            let (a, b) = (
                &pair[0] as *const Shard as usize,
                &pair[1] as *const Shard as usize,
            );
            assert_eq!(b - a, size_of::<Shard>());
        }
        assert!(counters.shared.len().is_power_of_two());
        assert!(counters.shared.len() <= 64);
    }

    /// An owned slot is given out once: after [`MAX_OWNED`] threads, every
    /// new one gets a shared slot, however many follow (the count of later
    /// threads wrapping included), and never usize::MAX (a slot not yet
    /// given out).
    #[test]
    fn owned_slots_are_given_out_once() {
        let (owners, later) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let first: Vec<usize> = (0..MAX_OWNED).map(|_| new_slot(&owners, &later)).collect();
        assert_eq!(first, (0..MAX_OWNED).collect::<Vec<_>>());
        for _ in 0..1000 {
            let slot = new_slot(&owners, &later);
            assert!((MAX_OWNED..usize::MAX).contains(&slot), "{slot}");
        }
        // The later threads' count about to wrap, and wrapped.
        later.store(usize::MAX - 2, Ordering::Relaxed);
        for _ in 0..5 {
            let slot = new_slot(&owners, &later);
            assert!((MAX_OWNED..usize::MAX).contains(&slot), "{slot}");
        }
        assert_eq!(owners.load(Ordering::Relaxed), MAX_OWNED);
    }

    /// Threads that count at once get different slots, and so, as many
    /// as there are shards, different shards.
    #[test]
    fn threads_get_slots_of_their_own() {
        let mine = thread_slot();
        assert_eq!(thread_slot(), mine, "a thread keeps its slot");
        let others: Vec<usize> = (0..4)
            .map(|_| std::thread::spawn(thread_slot).join().expect("joins"))
            .collect();
        let mut all = others.clone();
        all.push(mine);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 5, "{others:?} and {mine}");
    }

    /// Counts from many threads add up exactly, in whatever shards they
    /// landed: more threads count at once than own shards, so shared
    /// shards are written by several at a time.
    #[test]
    fn counts_add_up_over_shards() {
        let counters = Counters::new();
        let threads = 3 * owned_shards();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..20_000 {
                        counters.add(Count::Seals);
                        counters.add(Count::Decode);
                    }
                });
            }
        });
        counters.add(Count::Opens);
        let each = threads as u64 * 20_000;
        assert_eq!(counters.get(Count::Seals), each);
        assert_eq!(counters.get(Count::Decode), each);
        assert!(
            counters
                .shared
                .iter()
                .any(|s| s.0[Count::Seals as usize].load(Ordering::Relaxed) > 0),
            "a shared shard was used"
        );
        assert_eq!(counters.get(Count::Opens), 1);
        assert_eq!(counters.get(Count::Reseals), 0);
    }
}

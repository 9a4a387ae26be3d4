//! A key's counters (seals, re-seals, opens, refusals by reason), split
//! over shards of their own cache lines.
//!
//! Every seal and every open counts, so with one set of counters every core
//! that seals or opens under a key writes the same cache line, each write a
//! locked add that must first take the line from the core that wrote it
//! last. Here each of the first threads to count (in any key) has a shard
//! of its own, which only it writes: a plain read and write, no locked add
//! (a locked add waits for every store before it to land, and a seal has
//! just made many: 4% of a small seal's time). Threads past those share
//! one more shard, with locked adds, which keep it exact. A read adds the
//! shards up.
//!
//! The thread's number is a plain number in a thread-local with no
//! destructor, so counting works from any thread-local's destructor too
//! (where `thread_local::ThreadLocal`, or anything with a destructor, may
//! already be gone). Numbers are never given out twice, so a shard never
//! has two writers, even after its thread has exited.

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
/// as adjacent-line prefetchers pair them).
#[derive(Default)]
#[repr(align(128))]
struct Shard([AtomicU64; COUNTS]);

/// A key's counts: a shard for each of the first [`owned_shards`] threads
/// to count, then the shard every later thread shares.
pub(crate) struct Counters {
    owned: Box<[Shard]>,
    shared: Box<Shard>,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Counters {
            owned: (0..owned_shards()).map(|_| Shard::default()).collect(),
            shared: Box::default(),
        }
    }

    /// Counts one `what`: in the calling thread's own shard if it has one,
    /// else in the shared one.
    #[inline]
    pub(crate) fn add(&self, what: Count) {
        match self.owned.get(thread_index()) {
            Some(own) => {
                // This thread alone writes it: readers see each count whole.
                let count = &own.0[what as usize];
                count.store(
                    count.load(Ordering::Relaxed).wrapping_add(1),
                    Ordering::Relaxed,
                );
            }
            None => {
                self.shared.0[what as usize].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The count of `what` over every shard.
    pub(crate) fn get(&self, what: Count) -> u64 {
        self.owned
            .iter()
            .chain([&*self.shared])
            .fold(0u64, |sum, shard| {
                sum.wrapping_add(shard.0[what as usize].load(Ordering::Relaxed))
            })
    }
}

/// How many threads have a shard of their own in each key: twice the
/// machine's parallelism (a server's workers, and as many threads again
/// that count once in a while: the main thread, a blocking pool), at least
/// 8 and at most 64 (1 to 8 KiB a key).
fn owned_shards() -> usize {
    static OWNED: OnceLock<usize> = OnceLock::new();
    *OWNED.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .saturating_mul(2)
            .clamp(8, 64)
    })
}

/// The calling thread's number, given out in order of first count, so that
/// threads counting at once land in different shards.
#[inline]
fn thread_index() -> usize {
    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    INDEX
        .try_with(|index| match index.get() {
            usize::MAX => {
                let new = NEXT.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1);
                index.set(new);
                new
            }
            known => known,
        })
        // Without its thread-local the thread counts in the shared shard.
        .unwrap_or(usize::MAX)
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
        assert_eq!(&*counters.shared as *const Shard as usize % 128, 0);
    }

    /// Threads that count at once get different numbers, and so, as many
    /// as there are shards, different shards.
    #[test]
    fn threads_get_numbers_of_their_own() {
        let mine = thread_index();
        assert_eq!(thread_index(), mine, "a thread keeps its number");
        let others: Vec<usize> = (0..4)
            .map(|_| std::thread::spawn(thread_index).join().expect("joins"))
            .collect();
        let mut all = others.clone();
        all.push(mine);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 5, "{others:?} and {mine}");
    }

    /// Counts from many threads add up exactly, in whatever shards they
    /// landed: more threads count at once than have shards of their own,
    /// so the shared shard is written by several at a time.
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
            counters.shared.0[Count::Seals as usize].load(Ordering::Relaxed) > 0,
            "the shared shard was used"
        );
        assert_eq!(counters.get(Count::Opens), 1);
        assert_eq!(counters.get(Count::Reseals), 0);
    }
}

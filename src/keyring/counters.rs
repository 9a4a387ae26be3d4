//! A key's counters (seals, re-seals, opens, refusals by reason), split
//! over shards of their own cache lines.
//!
//! Every seal and every open counts, so with one set of counters every core
//! that seals or opens under a key writes the same cache line, each write a
//! locked add that must first take the line from the core that wrote it
//! last. Here each thread counts in one shard, chosen once per thread, and
//! a read adds the shards up. Threads beyond the number of shards share
//! them, which the atomic adds keep exact.
//!
//! The thread's shard is a plain number in a thread-local with no
//! destructor, so counting works from any thread-local's destructor too
//! (where `thread_local::ThreadLocal`, or anything with a destructor, may
//! already be gone).

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

/// A key's counts, over [`shards`] shards.
pub(crate) struct Counters(Box<[Shard]>);

impl Counters {
    pub(crate) fn new() -> Self {
        Counters((0..shards()).map(|_| Shard::default()).collect())
    }

    /// Counts one `what`, in the calling thread's shard.
    #[inline]
    pub(crate) fn add(&self, what: Count) {
        // `shards()` is a power of two: the mask picks a shard in range.
        let shard = &self.0[thread_index() & (self.0.len() - 1)];
        shard.0[what as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The count of `what` over every shard.
    pub(crate) fn get(&self, what: Count) -> u64 {
        self.0.iter().fold(0u64, |sum, shard| {
            sum.wrapping_add(shard.0[what as usize].load(Ordering::Relaxed))
        })
    }
}

/// How many shards each key has: the machine's parallelism, up to the next
/// power of two, at most 64 (8 KiB a key).
fn shards() -> usize {
    static SHARDS: OnceLock<usize> = OnceLock::new();
    *SHARDS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .next_power_of_two()
            .min(64)
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
        .unwrap_or(0)
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
        assert!(counters.0.len().is_power_of_two());
        assert!(counters.0.len() <= 64);
        for pair in counters.0.windows(2) {
            let (a, b) = (
                &pair[0] as *const Shard as usize,
                &pair[1] as *const Shard as usize,
            );
            assert_eq!(b - a, size_of::<Shard>());
        }
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
    /// landed.
    #[test]
    fn counts_add_up_over_shards() {
        let counters = Counters::new();
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        counters.add(Count::Seals);
                        counters.add(Count::Decode);
                    }
                });
            }
        });
        counters.add(Count::Opens);
        assert_eq!(counters.get(Count::Seals), 6000);
        assert_eq!(counters.get(Count::Decode), 6000);
        assert_eq!(counters.get(Count::Opens), 1);
        assert_eq!(counters.get(Count::Reseals), 0);
    }
}

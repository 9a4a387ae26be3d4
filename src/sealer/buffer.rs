//! The sealer's working memory: a per-thread scratch buffer that is wiped
//! after every use (unwinding included), and the payload writers that fill
//! it (`wire`) without ever reallocating plaintext unwiped.

use core::cell::RefCell;

use serde::Serialize;
use zeroize::Zeroize;

#[cfg(feature = "cookie")]
use super::read;
use super::wire::{self, Capped};
use crate::envelope::{PayloadError, Room};

thread_local! {
    /// Per-thread working buffer: no allocation per seal or open once warm.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on an empty buffer with at least `capacity` bytes reserved (so it
/// never reallocates while holding plaintext, if `f` stays within
/// `capacity`), then zeroizes what `f` left in it: also when `f` panics
/// (a `Serialize` or `Deserialize` impl may), through a drop guard.
#[inline]
pub(crate) fn with_scratch<R>(capacity: usize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    /// Zeroizes and empties the buffer when dropped, unwinding included.
    struct Wipe<'a>(&'a mut Vec<u8>);
    impl Drop for Wipe<'_> {
        fn drop(&mut self) {
            self.0.as_mut_slice().zeroize();
            self.0.clear();
        }
    }
    #[inline(always)]
    fn run<R>(buf: &mut Vec<u8>, capacity: usize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        buf.clear();
        buf.reserve(capacity);
        let guard = Wipe(buf);
        f(guard.0)
    }
    // The result is written where it is kept, not returned through
    // `try_with`'s `Result` and an `Option` inside it: each was one more
    // copy of it from one layout into the next, whose loads stalled on
    // stores of other widths (35 instructions of a small seal, and more of
    // its time than that).
    let mut slot = Some(f);
    let mut done = None;
    let _ = SCRATCH.try_with(|cell| {
        if let Ok(mut buf) = cell.try_borrow_mut() {
            if let Some(f) = slot.take() {
                done = Some(run(&mut buf, capacity, f));
            }
        }
    });
    match (done, slot) {
        (Some(result), _) => result,
        // Re-entered (a `Serialize` impl that seals) or thread exiting.
        (None, Some(f)) => run(&mut Vec::new(), capacity, f),
        (None, None) => unreachable!("the closure either ran `f` or left it"),
    }
}

/// The address and capacity of this thread's scratch buffer, for the tests
/// that read the memory it held.
#[cfg(test)]
pub(crate) fn scratch_region() -> (usize, usize) {
    SCRATCH.with(|cell| {
        let buf = cell.borrow();
        (buf.as_ptr() as usize, buf.capacity())
    })
}

/// Serializes `value` in postcard's wire format into `buf`, within `room`.
pub(crate) fn postcard_into<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut Vec<u8>,
    room: Room,
) -> Result<(), PayloadError> {
    wire::serialize(value, buf, room)
}

/// A copy of `value` made through its own serde impls (postcard's format,
/// through the wiped scratch buffer), for a type that is not `Clone`;
/// `None` if it does not serialize within `cap` bytes or does not
/// deserialize from all of its own serialization (as opening its cookie
/// would refuse it).
#[cfg(feature = "cookie")]
pub(crate) fn serde_copy<T: Serialize + serde::de::DeserializeOwned>(
    value: &T,
    cap: usize,
) -> Option<T> {
    with_scratch(cap.min(1024), |buf| {
        postcard_into(value, buf, Room { cap, tail: 0 }).ok()?;
        read::from_bytes(buf).ok()
    })
}

/// Writes raw bytes into `buf`, within `room`.
pub(crate) fn bytes_into(
    payload: &[u8],
    buf: &mut Vec<u8>,
    room: Room,
) -> Result<(), PayloadError> {
    Capped::new(buf, room).write(payload)
}

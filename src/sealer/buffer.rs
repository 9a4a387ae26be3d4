//! The sealer's working memory: a per-thread scratch buffer that is wiped
//! after every use (unwinding included), and the postcard output that
//! writes a payload into it without ever reallocating plaintext unwiped.

use core::cell::RefCell;

use serde::Serialize;
use zeroize::Zeroize;

use crate::envelope::{PayloadError, Room};

thread_local! {
    /// Per-thread working buffer: no allocation per seal or open once warm.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on an empty buffer with at least `capacity` bytes reserved (so it
/// never reallocates while holding plaintext, if `f` stays within
/// `capacity`), then zeroizes what `f` left in it: also when `f` panics
/// (a `Serialize` or `Deserialize` impl may), through a drop guard.
pub(crate) fn with_scratch<R>(capacity: usize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    /// Zeroizes and empties the buffer when dropped, unwinding included.
    struct Wipe<'a>(&'a mut Vec<u8>);
    impl Drop for Wipe<'_> {
        fn drop(&mut self) {
            self.0.as_mut_slice().zeroize();
            self.0.clear();
        }
    }
    fn run<R>(buf: &mut Vec<u8>, capacity: usize, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        buf.clear();
        buf.reserve(capacity);
        let guard = Wipe(buf);
        f(guard.0)
    }
    let mut slot = Some(f);
    let done = SCRATCH
        .try_with(|cell| match (cell.try_borrow_mut(), slot.take()) {
            (Ok(mut buf), Some(f)) => Some(run(&mut buf, capacity, f)),
            (_, f) => {
                slot = f;
                None
            }
        })
        .ok()
        .flatten();
    match (done, slot) {
        (Some(result), _) => result,
        // Re-entered (a `Serialize` impl that seals) or thread exiting.
        (None, Some(f)) => run(&mut Vec::new(), capacity, f),
        (None, None) => unreachable!("the closure either ran `f` or put it back"),
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

/// Serializes `value` with postcard into `buf`, within `room`.
pub(crate) fn postcard_into<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut Vec<u8>,
    room: Room,
) -> Result<(), PayloadError> {
    let mut out = Capped { buf, room };
    postcard::serialize_with_flavor(value, out.reborrow()).map_err(|e| match e {
        postcard::Error::SerializeBufferFull => PayloadError::Overflow,
        _ => PayloadError::Encode,
    })
}

/// A copy of `value` made through its own serde impls (postcard, through
/// the wiped scratch buffer), for a type that is not `Clone`; `None` if it
/// does not serialize within `cap` bytes or does not deserialize from its
/// own serialization.
#[cfg(feature = "cookie")]
pub(crate) fn serde_copy<T: Serialize + serde::de::DeserializeOwned>(
    value: &T,
    cap: usize,
) -> Option<T> {
    with_scratch(cap.min(1024), |buf| {
        postcard_into(value, buf, Room { cap, tail: 0 }).ok()?;
        postcard::from_bytes(buf).ok()
    })
}

/// Writes raw bytes into `buf`, within `room`.
pub(crate) fn bytes_into(
    payload: &[u8],
    buf: &mut Vec<u8>,
    room: Room,
) -> Result<(), PayloadError> {
    Capped { buf, room }.write(payload)
}

/// A postcard output that refuses to grow past a fixed length, so a too
/// large payload fails fast. It keeps `tail` bytes of spare capacity for
/// what is appended after the payload, and grows by hand, zeroizing the
/// old allocation, so plaintext is never left behind by a reallocation.
struct Capped<'a> {
    buf: &'a mut Vec<u8>,
    room: Room,
}

impl Capped<'_> {
    /// A shorter-lived handle on the same buffer (postcard takes its output
    /// by value).
    fn reborrow(&mut self) -> Capped<'_> {
        Capped {
            buf: self.buf,
            room: self.room,
        }
    }

    /// Appends `data`, or fails with [`PayloadError::Overflow`] past the
    /// room's cap.
    // Inlined into serde's code for `T`: postcard calls this once per field
    // and varint, and a call per piece was a quarter of a small seal.
    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<(), PayloadError> {
        let len = self.buf.len().saturating_add(data.len());
        if len > self.room.cap {
            return Err(PayloadError::Overflow);
        }
        if len.saturating_add(self.room.tail) > self.buf.capacity() {
            self.grow(len);
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Moves the contents to a larger allocation (at least `len` plus the
    /// tail, at most the cap plus the tail) and zeroizes the old one.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, len: usize) {
        let target = len
            .max(self.buf.capacity().saturating_mul(2))
            .min(self.room.cap)
            .saturating_add(self.room.tail);
        let mut bigger = Vec::with_capacity(target);
        bigger.extend_from_slice(self.buf);
        self.buf.as_mut_slice().zeroize();
        core::mem::swap(self.buf, &mut bigger);
    }
}

impl postcard::ser_flavors::Flavor for Capped<'_> {
    type Output = ();

    // One byte at a time is how serde hands postcard every `u8` of an
    // array (a `[u8; 32]` is 32 calls): a push, not a copy of a slice.
    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        let len = self.buf.len();
        if len >= self.room.cap {
            return Err(postcard::Error::SerializeBufferFull);
        }
        if len + self.room.tail >= self.buf.capacity() {
            self.grow(len + 1);
        }
        self.buf.push(data);
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.write(data)
            .map_err(|_| postcard::Error::SerializeBufferFull)
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

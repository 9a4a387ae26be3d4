//! The payload writer: a serde serializer that writes postcard 1.x's wire
//! format straight into the capped buffer.
//!
//! The format is frozen (other servers open sealed values with
//! `postcard::from_bytes`), so the output is postcard's byte for byte,
//! down to the bytes written before an error. postcard's own serializer
//! hands its output every varint as a slice, a bounds check, a capacity
//! check and a `memcpy` call each: most of the instructions of a seal whose
//! value holds a few hundred integers. Here a varint's bytes are made in
//! registers and written as one copy of a fixed length.

use core::fmt;

use serde::ser::{self, Serialize};
use zeroize::Zeroize;

use crate::envelope::{PayloadError, Room};

#[cfg(test)]
mod tests;

/// Serializes `value` in postcard's wire format into `buf`, within `room`.
pub(super) fn serialize<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut Vec<u8>,
    room: Room,
) -> Result<(), PayloadError> {
    value
        .serialize(&mut Capped::new(buf, room))
        .map_err(|Error(e)| e)
}

/// An output that refuses to grow past a fixed length, so a too large
/// payload fails fast. It keeps `tail` bytes of spare capacity for what is
/// appended after the payload, and grows by hand, zeroizing the old
/// allocation, so plaintext is never left behind by a reallocation: every
/// write first makes room for itself, so `Vec`'s own growth never runs.
///
/// It holds the buffer itself while it writes, and puts it back where it
/// came from when dropped (unwinding included, so the caller's wipe still
/// sees it). Holding a `&mut Vec` instead, every byte written had to be
/// followed by a reload of that reference and then of the length through
/// it (the byte might have been written over either): a chain of a store
/// and a load per byte, which made serde's 32 calls for a `[u8; 32]` a
/// tenth of a small seal.
pub(super) struct Capped<'a> {
    buf: Vec<u8>,
    home: &'a mut Vec<u8>,
    room: Room,
    /// How long the buffer may get with neither a check of the cap nor a
    /// grow: the cap, or the capacity less the tail where that is lower.
    /// Kept here so a write compares its end with one number.
    clear: usize,
}

impl Drop for Capped<'_> {
    fn drop(&mut self) {
        core::mem::swap(self.home, &mut self.buf);
    }
}

impl<'a> Capped<'a> {
    /// Writes into `home`, within `room`.
    pub(super) fn new(home: &'a mut Vec<u8>, room: Room) -> Self {
        let buf = core::mem::take(home);
        let clear = clear_len(&buf, room);
        Capped {
            buf,
            home,
            room,
            clear,
        }
    }

    /// Appends `data`, or fails with [`PayloadError::Overflow`] past the
    /// room's cap.
    // Inlined into serde's code for `T`, as are the writes below: one is
    // made per field, and a call per piece was a quarter of a small seal.
    #[inline]
    pub(super) fn write(&mut self, data: &[u8]) -> Result<(), PayloadError> {
        let len = self.buf.len().saturating_add(data.len());
        if len > self.clear {
            self.make_room(len)?;
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Appends one byte (a `u8`, a `bool`, an `Option`'s tag; serde hands
    /// over every `u8` of an array this way).
    #[inline]
    fn push(&mut self, byte: u8) -> Result<(), PayloadError> {
        let len = self.buf.len() + 1;
        if len > self.clear {
            self.make_room(len)?;
        }
        self.buf.push(byte);
        Ok(())
    }

    /// Appends the LEB128 encoding of `n`.
    // Chooses the length from the value and writes that many bytes as one
    // fixed-size copy: no loop, no slice of unknown length, one check of
    // the room. Values past five bytes (past 2^35) take a call, so no
    // `u32` ever does: a call anywhere in serde's loop over a sequence of
    // them made the compiler save and restore registers around every
    // element (a large seal's cart of `(u32, u16)` was 7-9% slower with
    // the call at three bytes). `always`:
    // with a plain `#[inline]` the compiler kept this a call, which cost a
    // large seal half of what writing in place saves.
    #[inline(always)]
    fn varint(&mut self, n: u64) -> Result<(), PayloadError> {
        if n < 1 << 7 {
            self.push(n as u8)
        } else if n < 1 << 14 {
            self.write(&[n as u8 | 0x80, (n >> 7) as u8])
        } else if n < 1 << 21 {
            self.write(&[n as u8 | 0x80, (n >> 7) as u8 | 0x80, (n >> 14) as u8])
        } else if n < 1 << 35 {
            let b = |shift: u32| (n >> shift) as u8 | 0x80;
            if n < 1 << 28 {
                self.write(&[b(0), b(7), b(14), (n >> 21) as u8])
            } else {
                self.write(&[b(0), b(7), b(14), b(21), (n >> 28) as u8])
            }
        } else {
            self.varint_long(n)
        }
    }

    /// [`Capped::varint`] of a value of six bytes or more.
    #[inline(never)]
    fn varint_long(&mut self, n: u64) -> Result<(), PayloadError> {
        self.varint_u128(u128::from(n))
    }

    /// Appends the LEB128 encoding of a `u128`, a byte at a time.
    fn varint_u128(&mut self, mut n: u128) -> Result<(), PayloadError> {
        let len = self.buf.len().saturating_add(varint_len(n));
        if len > self.clear {
            self.make_room(len)?;
        }
        while n >= 0x80 {
            self.buf.push(n as u8 | 0x80);
            n >>= 7;
        }
        self.buf.push(n as u8);
        Ok(())
    }

    /// Makes the buffer take `len` bytes in all: [`PayloadError::Overflow`]
    /// past the cap, a grow if the capacity would leave less than the tail.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, len: usize) -> Result<(), PayloadError> {
        if len > self.room.cap {
            return Err(PayloadError::Overflow);
        }
        if len.saturating_add(self.room.tail) > self.buf.capacity() {
            self.grow(len);
        }
        Ok(())
    }

    /// Moves the contents to a larger allocation (at least `len` plus the
    /// tail, at most the cap plus the tail) and zeroizes the old one.
    fn grow(&mut self, len: usize) {
        let target = len
            .max(self.buf.capacity().saturating_mul(2))
            .min(self.room.cap)
            .saturating_add(self.room.tail);
        let mut bigger = Vec::with_capacity(target);
        bigger.extend_from_slice(&self.buf);
        self.buf.as_mut_slice().zeroize();
        core::mem::swap(&mut self.buf, &mut bigger);
        self.clear = clear_len(&self.buf, self.room);
    }
}

/// [`Capped::clear`] for `buf` and `room`.
fn clear_len(buf: &Vec<u8>, room: Room) -> usize {
    room.cap.min(buf.capacity().saturating_sub(room.tail))
}

/// The length of the LEB128 encoding of `n`.
fn varint_len(n: u128) -> usize {
    let bits = (u128::BITS - (n | 1).leading_zeros()) as usize;
    bits.div_ceil(7)
}

/// A [`PayloadError`] as serde needs an error to be. A `Serialize` impl's
/// own error (`ser::Error::custom`) is [`PayloadError::Encode`].
#[derive(Debug)]
pub(super) struct Error(PayloadError);

impl From<PayloadError> for Error {
    fn from(e: PayloadError) -> Self {
        Error(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            PayloadError::Overflow => "the payload does not fit its room",
            PayloadError::Encode => "the payload could not be encoded",
        })
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Error(PayloadError::Encode)
    }
}

type Result<T = (), E = Error> = core::result::Result<T, E>;

/// postcard's zigzag encodings of the signed integers.
fn zigzag_i16(n: i16) -> u16 {
    ((n << 1) ^ (n >> 15)) as u16
}

fn zigzag_i32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

fn zigzag_i64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn zigzag_i128(n: i128) -> u128 {
    ((n << 1) ^ (n >> 127)) as u128
}

// Each method writes what postcard 1's `Serializer` writes, in the same
// pieces (a piece that does not fit is not written at all): the format is
// postcard's, and so is what an impl that goes on after an error sees.
impl<'a> ser::Serializer for &mut Capped<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    #[inline]
    fn is_human_readable(&self) -> bool {
        false
    }

    #[inline]
    fn serialize_bool(self, v: bool) -> Result {
        Ok(self.push(u8::from(v))?)
    }

    #[inline]
    fn serialize_i8(self, v: i8) -> Result {
        Ok(self.push(v as u8)?)
    }

    #[inline]
    fn serialize_i16(self, v: i16) -> Result {
        Ok(self.varint(u64::from(zigzag_i16(v)))?)
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result {
        Ok(self.varint(u64::from(zigzag_i32(v)))?)
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result {
        Ok(self.varint(zigzag_i64(v))?)
    }

    #[inline]
    fn serialize_i128(self, v: i128) -> Result {
        Ok(self.varint_u128(zigzag_i128(v))?)
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result {
        Ok(self.push(v)?)
    }

    #[inline]
    fn serialize_u16(self, v: u16) -> Result {
        Ok(self.varint(u64::from(v))?)
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result {
        Ok(self.varint(u64::from(v))?)
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result {
        Ok(self.varint(v)?)
    }

    #[inline]
    fn serialize_u128(self, v: u128) -> Result {
        Ok(self.varint_u128(v)?)
    }

    #[inline]
    fn serialize_f32(self, v: f32) -> Result {
        Ok(self.write(&v.to_bits().to_le_bytes())?)
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result {
        Ok(self.write(&v.to_bits().to_le_bytes())?)
    }

    #[inline]
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result {
        self.serialize_bytes(v.as_bytes())
    }

    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.varint(v.len() as u64)?;
        Ok(self.write(v)?)
    }

    #[inline]
    fn serialize_none(self) -> Result {
        Ok(self.push(0)?)
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        self.push(1)?;
        value.serialize(self)
    }

    #[inline]
    fn serialize_unit(self) -> Result {
        Ok(())
    }

    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Ok(())
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
    ) -> Result {
        Ok(self.varint(u64::from(variant_index))?)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result {
        self.varint(u64::from(variant_index))?;
        value.serialize(self)
    }

    // postcard needs the length first, so a sequence of unknown length
    // does not encode.
    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self> {
        let len = len.ok_or(PayloadError::Encode)?;
        self.varint(len as u64)?;
        Ok(self)
    }

    #[inline]
    fn serialize_tuple(self, _len: usize) -> Result<Self> {
        Ok(self)
    }

    #[inline]
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self> {
        Ok(self)
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self> {
        self.varint(u64::from(variant_index))?;
        Ok(self)
    }

    // As a sequence: the length must be known.
    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self> {
        let len = len.ok_or(PayloadError::Encode)?;
        self.varint(len as u64)?;
        Ok(self)
    }

    #[inline]
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self> {
        Ok(self)
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self> {
        self.varint(u64::from(variant_index))?;
        Ok(self)
    }

    // A string of the formatted text, formatted twice as postcard does:
    // once to count its length, which goes first, once to write it (each
    // piece `value` hands over is written as it comes).
    //
    // Two departures from postcard, neither for a value it encodes: a
    // piece past the cap is `Overflow`, the value being too large (postcard
    // reports a formatting error, and writes on if `value` ignores it);
    // text whose second formatting differs in length from the first is
    // `Encode` (postcard writes the first length before the second text, a
    // value that decodes as neither).
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result {
        use fmt::Write as _;

        /// Counts the bytes of the formatted text.
        struct Count(usize);
        impl fmt::Write for Count {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 = self.0.saturating_add(s.len());
                Ok(())
            }
        }

        /// Writes the formatted text, remembering a piece that did not fit.
        struct Text<'b, 'a> {
            out: &'b mut Capped<'a>,
            overflow: bool,
        }
        impl fmt::Write for Text<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.out.write(s.as_bytes()).map_err(|_| {
                    self.overflow = true;
                    fmt::Error
                })
            }
        }

        let mut count = Count(0);
        write!(count, "{value}").map_err(|_| PayloadError::Encode)?;
        self.varint(count.0 as u64)?;
        let start = self.buf.len();
        let mut text = Text {
            out: self,
            overflow: false,
        };
        let written = write!(text, "{value}");
        if text.overflow {
            return Err(PayloadError::Overflow.into());
        }
        if written.is_err() || self.buf.len() - start != count.0 {
            return Err(PayloadError::Encode.into());
        }
        Ok(())
    }
}

impl ser::SerializeSeq for &mut Capped<'_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    #[inline]
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeTuple for &mut Capped<'_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    #[inline]
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Capped<'_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    #[inline]
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut Capped<'_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    #[inline]
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeMap for &mut Capped<'_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        key.serialize(&mut **self)
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    #[inline]
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Capped<'_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _key: &'static str, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    #[inline]
    fn end(self) -> Result {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Capped<'_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _key: &'static str, value: &T) -> Result {
        value.serialize(&mut **self)
    }

    #[inline]
    fn end(self) -> Result {
        Ok(())
    }
}

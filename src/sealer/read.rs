//! The payload reader: a serde deserializer of postcard 1.x's wire format,
//! the mirror of the writer in `wire`.
//!
//! It reads exactly what postcard's `take_from_bytes` reads, value for
//! value, and refuses what it refuses, down to where a refused read leaves
//! the input for an impl that goes on after an error, and to which visitor
//! method it calls (the tests and the `payload` fuzz target compare the
//! two). What it does not keep is postcard's error: a
//! typed open refuses undecodable bytes only as [`Refusal::Decode`], so
//! its error carries nothing. That is most of why it is faster: postcard's
//! error is a byte, which a `Result<T, postcard::Error>` keeps among the
//! value's bytes, so the move of a value just decoded was split at that
//! byte into unaligned copies whose loads straddle the stores that had just
//! written it, and the CPU could not forward them. With an error of no
//! bytes a decoded value moves as itself.

use core::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer as _, Visitor};

use crate::error::Refusal;

#[cfg(test)]
mod tests;

/// Reads a `T` from all of `input`: bytes left over refuse it, as they do
/// `postcard::take_from_bytes` with a non-empty rest.
#[cfg(any(test, feature = "cookie"))]
pub(super) fn from_bytes<'de, T: de::Deserialize<'de>>(input: &'de [u8]) -> Result<T, Invalid> {
    read_all(input, Invalid)
}

/// [`from_bytes`] with the error an open returns, [`Refusal::Decode`].
///
/// The value is moved once, into the result: mapping the error of
/// [`from_bytes`] instead was a second move of it, whose loads stalled on
/// the stores that had just written it.
pub(super) fn decode<'de, T: de::Deserialize<'de>>(input: &'de [u8]) -> crate::Result<T> {
    read_all(input, Refusal::Decode.into())
}

/// Reads a `T` from all of `input`, or fails with `invalid`.
#[inline(always)]
fn read_all<'de, T: de::Deserialize<'de>, E>(input: &'de [u8], invalid: E) -> Result<T, E> {
    let mut reader = Reader { input, at: 0 };
    match T::deserialize(&mut reader) {
        Ok(value) if reader.at == input.len() => Ok(value),
        _ => Err(invalid),
    }
}

/// The input is not a value of the type asked for. It carries nothing (see
/// the module's documentation); a `Deserialize` impl's own message is
/// dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Invalid;

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the payload is not a value of the type asked for")
    }
}

impl std::error::Error for Invalid {}

impl de::Error for Invalid {
    #[cold]
    fn custom<M: fmt::Display>(_: M) -> Self {
        Invalid
    }
}

/// The input and how far it has been read: a read moves one index (the
/// input itself is never written), as a cursor would.
pub(super) struct Reader<'de> {
    input: &'de [u8],
    at: usize,
}

impl<'de> Reader<'de> {
    #[inline]
    fn byte(&mut self) -> Result<u8, Invalid> {
        let byte = *self.input.get(self.at).ok_or(Invalid)?;
        self.at += 1;
        Ok(byte)
    }

    #[inline]
    fn take(&mut self, len: usize) -> Result<&'de [u8], Invalid> {
        let end = self.at.checked_add(len).ok_or(Invalid)?;
        let taken = self.input.get(self.at..end).ok_or(Invalid)?;
        self.at = end;
        Ok(taken)
    }

    /// How many bytes are left to read.
    fn left(&self) -> usize {
        self.input.len() - self.at
    }

    /// A LEB128 value of at most `BITS` bits (64 at most), as postcard
    /// reads it: at most as many bytes as `BITS` needs, the last of them
    /// holding no bits past `BITS`; a longer encoding than needed (a zero
    /// last group) is read.
    // Inlined with its loop unrolled (`BITS` is a constant): serde's loop
    // over a sequence of `u32`s calls it once per element, and a call
    // there cost more than the decoding. Away from the end of the input it
    // reads from a window of the longest encoding's length: no bounds
    // check per byte, and one move of the index.
    #[inline(always)]
    fn varint<const BITS: u32>(&mut self) -> Result<u64, Invalid> {
        let max_len = BITS.div_ceil(7) as usize;
        let Some(window) = self.input.get(self.at..self.at + max_len) else {
            return self.varint_near_end::<BITS>();
        };
        let mut value = 0;
        for (i, &byte) in window.iter().enumerate() {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                if i == max_len - 1 && byte >> (BITS as usize - 7 * i) != 0 {
                    break;
                }
                self.at += i + 1;
                return Ok(value);
            }
        }
        // Refused having read the whole window, as postcard does (an impl
        // that goes on after an error reads on from there).
        self.at += max_len;
        Err(Invalid)
    }

    /// [`Reader::varint`] where fewer bytes are left than its longest
    /// encoding takes: a byte at a time, to the end. (So the last byte of a
    /// longest encoding, whose bits [`Reader::varint`] checks, is never
    /// reached here.)
    #[inline(never)]
    fn varint_near_end<const BITS: u32>(&mut self) -> Result<u64, Invalid> {
        let mut value = 0;
        for i in 0..BITS.div_ceil(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(Invalid)
    }

    /// [`Reader::varint`] of 64 bits: one byte in place, more in a call.
    #[inline]
    fn varint64(&mut self) -> Result<u64, Invalid> {
        match self.input.get(self.at) {
            Some(&byte) if byte < 0x80 => {
                self.at += 1;
                Ok(u64::from(byte))
            }
            _ => self.varint64_long(),
        }
    }

    /// [`Reader::varint64`] past one byte.
    #[inline(never)]
    fn varint64_long(&mut self) -> Result<u64, Invalid> {
        self.varint::<64>()
    }

    /// [`Reader::varint`] of a `u128`.
    fn u128(&mut self) -> Result<u128, Invalid> {
        const MAX_LEN: u32 = u128::BITS.div_ceil(7);
        let mut value = 0;
        for i in 0..MAX_LEN {
            let byte = self.byte()?;
            value |= u128::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                if i == MAX_LEN - 1 && byte >> (u128::BITS - 7 * i) != 0 {
                    return Err(Invalid);
                }
                return Ok(value);
            }
        }
        Err(Invalid)
    }

    #[inline]
    fn u16(&mut self) -> Result<u16, Invalid> {
        // At most 16 bits: checked by `varint`.
        Ok(self.varint::<16>()? as u16)
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, Invalid> {
        Ok(self.varint::<32>()? as u32)
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, Invalid> {
        self.varint64()
    }

    /// A length: a varint of the target's `usize`, as postcard reads it.
    #[inline]
    fn len(&mut self) -> Result<usize, Invalid> {
        let len = if usize::BITS == 64 {
            self.varint64()?
        } else {
            self.varint::<{ usize::BITS }>()?
        };
        usize::try_from(len).map_err(|_| Invalid)
    }

    /// A length and that many bytes.
    #[inline]
    fn bytes(&mut self) -> Result<&'de [u8], Invalid> {
        let len = self.len()?;
        self.take(len)
    }

    #[inline]
    fn str(&mut self) -> Result<&'de str, Invalid> {
        core::str::from_utf8(self.bytes()?).map_err(|_| Invalid)
    }

    #[inline]
    fn seq(&mut self, len: usize) -> Seq<'_, 'de> {
        Seq { reader: self, len }
    }
}

/// Zigzag: the signed value of an unsigned varint.
macro_rules! unzigzag {
    ($n:expr, $signed:ty) => {
        (($n >> 1) as $signed) ^ -(($n & 1) as $signed)
    };
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = Invalid;

    fn is_human_readable(&self) -> bool {
        false
    }

    /// postcard is not self-describing.
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Invalid> {
        Err(Invalid)
    }

    #[inline]
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        match self.byte()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => Err(Invalid),
        }
    }

    #[inline]
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_i8(self.byte()? as i8)
    }

    #[inline]
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let n = self.u16()?;
        visitor.visit_i16(unzigzag!(n, i16))
    }

    #[inline]
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let n = self.u32()?;
        visitor.visit_i32(unzigzag!(n, i32))
    }

    #[inline]
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let n = self.u64()?;
        visitor.visit_i64(unzigzag!(n, i64))
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let n = self.u128()?;
        visitor.visit_i128(unzigzag!(n, i128))
    }

    #[inline]
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_u8(self.byte()?)
    }

    #[inline]
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_u16(self.u16()?)
    }

    #[inline]
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_u32(self.u32()?)
    }

    #[inline]
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_u64(self.u64()?)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_u128(self.u128()?)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let bytes = self.take(4)?.try_into().map_err(|_| Invalid)?;
        visitor.visit_f32(f32::from_le_bytes(bytes))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let bytes = self.take(8)?.try_into().map_err(|_| Invalid)?;
        visitor.visit_f64(f64::from_le_bytes(bytes))
    }

    /// A `char` as its UTF-8 text, which must be that one character. A
    /// length past four is refused before its bytes are read, as postcard
    /// refuses it (such bytes could only hold more than one character, but
    /// an impl that goes on after an error would read on from elsewhere).
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let len = self.len()?;
        if len > 4 {
            return Err(Invalid);
        }
        let mut chars = core::str::from_utf8(self.take(len)?)
            .map_err(|_| Invalid)?
            .chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(Invalid),
        }
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_borrowed_str(self.str()?)
    }

    /// The string where it lies, as `visit_str`, as postcard hands it over
    /// (a visitor that keeps it copies it; one that does not leaves no
    /// copy of plaintext behind).
    #[inline]
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_str(self.str()?)
    }

    #[inline]
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_borrowed_bytes(self.bytes()?)
    }

    #[inline]
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_bytes(self.bytes()?)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        match self.byte()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            _ => Err(Invalid),
        }
    }

    /// A unit is not written at all.
    #[inline]
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_unit()
    }

    #[inline]
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_unit()
    }

    #[inline]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_newtype_struct(self)
    }

    #[inline]
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let len = self.len()?;
        visitor.visit_seq(self.seq(len))
    }

    #[inline]
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_seq(self.seq(len))
    }

    #[inline]
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_seq(self.seq(len))
    }

    #[inline]
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let len = self.len()?;
        visitor.visit_map(self.seq(len))
    }

    /// A struct is its fields in order, as a tuple.
    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_seq(self.seq(fields.len()))
    }

    #[inline]
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_enum(self)
    }

    /// Names are never written.
    fn deserialize_identifier<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Invalid> {
        Err(Invalid)
    }

    /// Nothing can be skipped in a format that does not describe itself.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Invalid> {
        Err(Invalid)
    }
}

/// The elements of a sequence, tuple or struct, or the entries of a map:
/// `len` more to read.
struct Seq<'a, 'de> {
    reader: &'a mut Reader<'de>,
    len: usize,
}

impl Seq<'_, '_> {
    /// The length, unless the bytes left could not hold that many
    /// elements of a byte each: then `None`, so that a collection
    /// reserves nothing from a length it cannot have (postcard's hint).
    fn hint(&self) -> Option<usize> {
        (self.len <= self.reader.left()).then_some(self.len)
    }
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Invalid;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Invalid> {
        if self.len == 0 {
            return Ok(None);
        }
        self.len -= 1;
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        self.hint()
    }
}

impl<'de> de::MapAccess<'de> for Seq<'_, 'de> {
    type Error = Invalid;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Invalid> {
        if self.len == 0 {
            return Ok(None);
        }
        self.len -= 1;
        seed.deserialize(&mut *self.reader).map(Some)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Invalid> {
        seed.deserialize(&mut *self.reader)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len)
    }
}

/// An enum: its variant's index (a `u32` varint), then its content.
impl<'de> de::EnumAccess<'de> for &mut Reader<'de> {
    type Error = Invalid;
    type Variant = Self;

    #[inline]
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Invalid> {
        let index = self.u32()?;
        let variant = seed.deserialize(index.into_deserializer())?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Reader<'de> {
    type Error = Invalid;

    #[inline]
    fn unit_variant(self) -> Result<(), Invalid> {
        Ok(())
    }

    #[inline]
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Invalid> {
        seed.deserialize(self)
    }

    #[inline]
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_seq(self.seq(len))
    }

    #[inline]
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_seq(self.seq(fields.len()))
    }
}

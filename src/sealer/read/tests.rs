//! The reader against postcard 1 itself: what postcard writes for
//! generated values of every serde shape reads back as the same value, and
//! any bytes at all (arbitrary, or postcard's bytes truncated, extended or
//! changed) read as what postcard reads from them, or are refused where
//! postcard refuses them. Varints of every width at every length, both in
//! the middle of the input and at its end.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use proptest::prelude::*;
use serde::de::{DeserializeOwned, SeqAccess};
use serde::{Deserialize, Deserializer, Serialize};

use super::*;
use crate::sealer::shapes::{leaf, text, Bytes, Leaf, Newtype, Record, TupleStruct, UnitStruct};

/// What postcard reads from `bytes` as a `T` when all of them are one:
/// what `Sealer::open` accepted before it had a reader of its own.
fn postcard_reads<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Some(value),
        _ => None,
    }
}

/// The reader and postcard read `bytes` alike: both refuse them, or both
/// read a value, the same one. Values are compared by what postcard writes
/// for them (a NaN is not equal to itself).
fn agree<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<(), TestCaseError> {
    let written = |value: &T| postcard::to_allocvec(value).expect("a read value writes");
    let ours = from_bytes::<T>(bytes).ok();
    let theirs = postcard_reads::<T>(bytes);
    prop_assert_eq!(
        ours.as_ref().map(written),
        theirs.as_ref().map(written),
        "{} from {:02x?}",
        core::any::type_name::<T>(),
        bytes
    );
    Ok(())
}

/// Every serde shape a derived or std type reads with (maps ordered, so
/// that a value read twice writes the same bytes).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Value {
    Leaf(Leaf),
    // Recursive.
    Option(Option<Box<Value>>),
    Seq(Vec<Value>),
    Map(BTreeMap<String, Value>),
    IntMap(BTreeMap<i64, Value>),
    TupleVariant(u16, Box<Value>, f32),
    StructVariant {
        a: u32,
        b: Option<Box<Value>>,
        c: Vec<i8>,
    },
}

fn value() -> impl Strategy<Value = Value> {
    leaf()
        .prop_map(Value::Leaf)
        .prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::option::of(inner.clone()).prop_map(|v| Value::Option(v.map(Box::new))),
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Seq),
                proptest::collection::btree_map(text(), inner.clone(), 0..6).prop_map(Value::Map),
                proptest::collection::btree_map(any::<i64>(), inner.clone(), 0..6)
                    .prop_map(Value::IntMap),
                (any::<u16>(), inner.clone(), any::<f32>())
                    .prop_map(|(a, v, c)| Value::TupleVariant(a, Box::new(v), c)),
                (any::<u32>(), proptest::option::of(inner), any::<Vec<i8>>()).prop_map(
                    |(a, b, c)| {
                        Value::StructVariant {
                            a,
                            b: b.map(Box::new),
                            c,
                        }
                    }
                ),
            ]
        })
}

/// A `T` that may fail, then a `u8` whatever came of it: an impl that goes
/// on after an error, and so sees where the failed read left the input.
#[derive(Serialize, Debug)]
struct Lenient<T>(Option<T>, u8);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(core::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Visit<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("two elements")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lenient<T>, A::Error> {
                let first = seq.next_element::<T>().ok().flatten();
                let second = seq
                    .next_element::<u8>()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Ok(Lenient(first, second))
            }
        }
        d.deserialize_tuple(2, Visit(core::marker::PhantomData))
    }
}

/// Which `Deserializer` method `M` asks for, and what the reader gave its
/// visitor: the method of the visitor it called, what it was given, and a
/// sequence's or map's size hint. Postcard's answers are the reference.
#[derive(Serialize, Debug)]
struct Probe<const M: u8>(String);

impl<'de, const M: u8> Deserialize<'de> for Probe<M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("anything")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(format!("str {v:?}"))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<String, E> {
                Ok(format!("borrowed str {v:?}"))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
                Ok(format!("string {v:?}"))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<String, E> {
                Ok(format!("bytes {v:?}"))
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<String, E> {
                Ok(format!("borrowed bytes {v:?}"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<String, E> {
                Ok("unit".into())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
                Ok(format!("u64 {v}"))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
                Ok(format!("newtype {}", u8::deserialize(d)?))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
                let mut out = format!("seq {:?}", seq.size_hint());
                while let Some(x) = seq.next_element::<u8>()? {
                    out += &format!(" {x}");
                }
                Ok(out)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
                let mut out = format!("map {:?}", map.size_hint());
                while let Some((k, v)) = map.next_entry::<u8, u8>()? {
                    out += &format!(" {k}:{v}");
                }
                Ok(out)
            }
        }
        match M {
            0 => d.deserialize_str(Visit),
            1 => d.deserialize_string(Visit),
            2 => d.deserialize_bytes(Visit),
            3 => d.deserialize_byte_buf(Visit),
            4 => d.deserialize_seq(Visit),
            5 => d.deserialize_map(Visit),
            6 => d.deserialize_tuple(3, Visit),
            7 => d.deserialize_newtype_struct("N", Visit),
            8 => d.deserialize_unit_struct("U", Visit),
            9 => d.deserialize_identifier(Visit),
            10 => d.deserialize_ignored_any(Visit),
            _ => d.deserialize_any(Visit),
        }
        .map(Probe)
    }
}

/// Every [`Probe`] of `bytes` agrees with postcard's.
fn probes_agree(bytes: &[u8]) -> Result<(), TestCaseError> {
    agree::<Probe<0>>(bytes)?;
    agree::<Probe<1>>(bytes)?;
    agree::<Probe<2>>(bytes)?;
    agree::<Probe<3>>(bytes)?;
    agree::<Probe<4>>(bytes)?;
    agree::<Probe<5>>(bytes)?;
    agree::<Probe<6>>(bytes)?;
    agree::<Probe<7>>(bytes)?;
    agree::<Probe<8>>(bytes)?;
    agree::<Probe<9>>(bytes)?;
    agree::<Probe<10>>(bytes)?;
    agree::<Probe<11>>(bytes)
}

/// A change to a value's bytes: cut short, a byte changed, bytes put in.
#[derive(Debug, Clone)]
enum Change {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        any::<usize>().prop_map(Change::Truncate),
        (any::<usize>(), 1u8..).prop_map(|(at, x)| Change::Flip(at, x)),
        (
            any::<usize>(),
            proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(0x80), Just(0xff), Just(0)],
                1..12
            )
        )
            .prop_map(|(at, b)| Change::Insert(at, b)),
    ]
}

impl Change {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match *self {
            Change::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
            Change::Flip(at, x) if !bytes.is_empty() => {
                let len = bytes.len();
                bytes[at % len] ^= x;
            }
            Change::Flip(..) => {}
            Change::Insert(at, ref more) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, more.iter().copied());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// What postcard writes reads back as the value written.
    #[test]
    fn reads_what_postcard_writes(value in value()) {
        let bytes = postcard::to_allocvec(&value).expect("postcard writes it");
        let read = from_bytes::<Value>(&bytes);
        prop_assert!(read.is_ok(), "refused {:?}", value);
        let written = postcard::to_allocvec(&read.expect("read")).expect("writes");
        prop_assert_eq!(written, bytes);
    }

    /// What postcard writes, changed: read as postcard reads it.
    #[test]
    fn changed_bytes_read_as_postcard_reads_them(
        value in value(),
        changes in proptest::collection::vec(change(), 1..4),
    ) {
        let mut bytes = postcard::to_allocvec(&value).expect("postcard writes it");
        for change in &changes {
            change.apply(&mut bytes);
        }
        agree::<Value>(&bytes)?;
    }

    /// Any bytes at all, as several types: read as postcard reads them.
    #[test]
    fn any_bytes_read_as_postcard_reads_them(
        bytes in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(0x80), Just(0xff), Just(0), Just(1)],
            0..48,
        ),
    ) {
        agree::<Value>(&bytes)?;
        agree::<Record>(&bytes)?;
        agree::<(u16, u32, u64, u128, usize)>(&bytes)?;
        agree::<(i16, i32, i64, i128, isize, i8)>(&bytes)?;
        agree::<(bool, char, Option<String>, f32, f64)>(&bytes)?;
        agree::<Vec<(u32, u16)>>(&bytes)?;
        agree::<BTreeMap<u8, Option<u8>>>(&bytes)?;
        agree::<(Bytes, IpAddr, Duration)>(&bytes)?;
        agree::<(UnitStruct, Newtype, TupleStruct, ())>(&bytes)?;
        agree::<Lenient<u32>>(&bytes)?;
        agree::<Lenient<char>>(&bytes)?;
        agree::<Lenient<String>>(&bytes)?;
        probes_agree(&bytes)?;
    }
}

/// Runs `check` on every varint encoding shape up to one byte longer than
/// any width takes (19 bytes for a `u128`): every continuation byte
/// pattern, then a last byte at and around each width's limit.
fn every_varint(mut check: impl FnMut(&[u8])) {
    for len in 1..=20 {
        for more in [0x80u8, 0xff, 0x81] {
            for last in [0u8, 1, 2, 3, 4, 0x0f, 0x10, 0x3f, 0x40, 0x7f, 0x80, 0xff] {
                let mut bytes = vec![more; len - 1];
                bytes.push(last);
                check(&bytes);
            }
        }
    }
}

/// Every varint read as postcard reads it, for every width: at the end of
/// the input (read a byte at a time) and with more input after it (read
/// from a window), with each width's limit on its last byte.
#[test]
fn varints_read_as_postcard_reads_them() {
    /// `T` from the varint alone, and from it followed by 24 more bytes.
    fn both<T: DeserializeOwned + Serialize>(varint: &[u8]) {
        agree::<T>(varint).expect("at the end");
        let mut followed = varint.to_vec();
        followed.extend_from_slice(&[7; 24]);
        agree::<(T, [u8; 24])>(&followed).expect("followed");
    }
    every_varint(|v| {
        both::<u16>(v);
        both::<u32>(v);
        both::<u64>(v);
        both::<u128>(v);
        both::<usize>(v);
        both::<i16>(v);
        both::<i32>(v);
        both::<i64>(v);
        both::<i128>(v);
        both::<isize>(v);
        // Lengths: of a sequence, a string, bytes, a map, a char; and an
        // enum's variant index.
        both::<Vec<u8>>(v);
        both::<String>(v);
        both::<Bytes>(v);
        both::<BTreeMap<u8, u8>>(v);
        both::<char>(v);
        both::<Value>(v);
        // Where a refused varint leaves the input.
        both::<Lenient<u16>>(v);
        both::<Lenient<u32>>(v);
        both::<Lenient<u64>>(v);
        both::<Lenient<u128>>(v);
        both::<Lenient<char>>(v);
        both::<Lenient<String>>(v);
        probes_agree(v).expect("probes");
    });
}

/// A `&str` and a `&[u8]` are borrowed from the input, as postcard lends
/// them.
#[test]
fn borrows_text_and_bytes() {
    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    struct Borrowed<'a> {
        text: &'a str,
        bytes: &'a [u8],
    }
    let written = Borrowed {
        text: "ünïcødé",
        bytes: &[0, 1, 0xff],
    };
    let bytes = postcard::to_allocvec(&written).expect("writes");
    let read: Borrowed<'_> = from_bytes(&bytes).expect("reads");
    assert_eq!(read, written);
    assert!(bytes.as_ptr_range().contains(&read.text.as_ptr()));
    assert!(bytes.as_ptr_range().contains(&read.bytes.as_ptr()));
    assert_eq!(postcard::from_bytes::<Borrowed<'_>>(&bytes), Ok(read));
}

/// A sequence's length is a hint only while the bytes left could hold it,
/// so a length the input cannot have reserves nothing; what reads such a
/// length is refused when the bytes run out.
#[test]
fn lengths_past_the_input_are_no_hint() {
    let mut reader = Reader {
        input: &[1, 2, 3],
        at: 1,
    };
    assert_eq!(SeqAccess::size_hint(&reader.seq(2)), Some(2));
    assert_eq!(SeqAccess::size_hint(&reader.seq(3)), None);
    assert_eq!(SeqAccess::size_hint(&reader.seq(usize::MAX)), None);
    // A length of 2^62 before three bytes.
    let huge = [
        0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 1, 2, 3,
    ];
    assert_eq!(from_bytes::<Vec<u64>>(&huge), Err(Invalid));
    assert_eq!(from_bytes::<String>(&huge), Err(Invalid));
    assert_eq!(from_bytes::<BTreeMap<u8, u8>>(&huge), Err(Invalid));
}

/// The refusal has no bytes, so a `Result` of a decoded value is the
/// value's size, with no error beside it to split its moves.
#[test]
fn a_refusal_adds_nothing_to_a_result() {
    assert_eq!(size_of::<Invalid>(), 0);
    assert_eq!(size_of::<Result<Record, Invalid>>(), size_of::<Record>());
    assert_eq!(size_of::<Result<Value, Invalid>>(), size_of::<Value>());
}

/// Bytes left after the value refuse it (postcard's `from_bytes` would
/// ignore them; `Sealer::open` refused them through `take_from_bytes`).
#[test]
fn bytes_left_over_refuse_the_value() {
    assert_eq!(from_bytes::<u8>(&[5]), Ok(5));
    assert_eq!(from_bytes::<u8>(&[5, 0]), Err(Invalid));
    assert_eq!(from_bytes::<()>(&[]), Ok(()));
    assert_eq!(from_bytes::<()>(&[0]), Err(Invalid));
}

/// What postcard does not support, refused: a type that asks what comes
/// next, or names its fields.
#[test]
fn self_describing_reads_are_refused() {
    #[derive(Deserialize, Debug)]
    #[serde(untagged)]
    #[allow(dead_code)] // never read: never decoded
    enum Untagged {
        _A(u8),
    }
    #[derive(Deserialize, Debug)]
    #[serde(tag = "t")]
    enum Internal {
        _A { _x: u8 },
    }
    assert!(from_bytes::<Untagged>(&[1]).is_err());
    assert!(from_bytes::<Internal>(&[0, 1]).is_err());
    assert!(from_bytes::<serde::de::IgnoredAny>(&[1]).is_err());
    assert!(postcard::from_bytes::<Untagged>(&[1]).is_err());
}

/// A refused varint leaves the input after its longest length, as
/// postcard's byte-at-a-time read does; a `char` of more than four bytes
/// is refused before they are read.
#[test]
fn a_refused_read_leaves_the_input_where_postcard_does() {
    // A u16 whose third byte passes 16 bits, then 5.
    let bytes = [0x80, 0x80, 0x04, 0x05];
    let read = from_bytes::<Lenient<u16>>(&bytes).map(|l| (l.0, l.1));
    assert_eq!(read, Ok((None, 5)));
    agree::<Lenient<u16>>(&bytes).expect("as postcard");
    // A char of five bytes, then 7: refused (the 'a' is read as the u8,
    // and bytes are left over).
    let bytes = [0x05, b'a', b'b', b'c', b'd', b'e', 0x07];
    assert!(from_bytes::<Lenient<char>>(&bytes).is_err());
    agree::<Lenient<char>>(&bytes).expect("as postcard");
}

/// The visitor methods the reader calls, with what, are postcard's: a
/// borrowed text or bytes where the input can lend them, a copy where the
/// type asked for one; a map's size hint always, a sequence's while the
/// input could hold it.
#[test]
fn visitors_are_called_as_postcard_calls_them() {
    for bytes in [
        &[0x00][..],
        &[0x02, b'h', b'i'],
        &[0x02, 0xff, 0xfe],
        &[0x03, 1, 2, 3],
        &[0x02, 1, 2, 3, 4],
        &[0x09, 1, 2],
        &[0x2a],
        &[],
    ] {
        probes_agree(bytes).expect("as postcard");
    }
    assert_eq!(
        from_bytes::<Probe<0>>(&[2, b'h', b'i']).map(|p| p.0),
        Ok("borrowed str \"hi\"".to_owned())
    );
    assert_eq!(
        from_bytes::<Probe<1>>(&[2, b'h', b'i']).map(|p| p.0),
        Ok("str \"hi\"".to_owned())
    );
    assert!(
        from_bytes::<Probe<5>>(&[9, 1, 2]).is_err(),
        "nine entries cannot be read from two bytes"
    );
}

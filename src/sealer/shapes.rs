//! Values of every serde shape a derived or std type writes and reads with,
//! and their generators: what the payload writer's and reader's tests
//! (`wire/tests.rs`, `read/tests.rs`) both check against postcard.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use proptest::prelude::*;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes through `serialize_bytes` and `deserialize_byte_buf` (what
/// `serde_bytes` does).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bytes(pub(super) Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl Visitor<'_> for Visit {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(super) struct UnitStruct;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(super) struct Newtype(pub(super) u32);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(super) struct TupleStruct(pub(super) i16, pub(super) Option<u64>, pub(super) char);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(super) struct Record {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) scores: Vec<i32>,
    pub(super) token: [u8; 32],
    pub(super) ratio: f64,
    pub(super) flag: Option<bool>,
}

/// The values without recursion.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(super) enum Leaf {
    Unit,
    Bool(bool),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    U128(u128),
    Usize(usize),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    I128(i128),
    Isize(isize),
    F32(f32),
    F64(f64),
    Char(char),
    String(String),
    Bytes(Bytes),
    UnitTuple(()),
    UnitStruct(UnitStruct),
    Newtype(Newtype),
    Tuple((u8, i64, String)),
    TupleStruct(TupleStruct),
    Record(Record),
    Pairs(Vec<(u32, u16)>),
    Nested(Vec<Vec<u16>>),
    Array([u8; 32]),
    // std types that read differently from a format that is not human
    // readable.
    Ip(IpAddr),
    Duration(Duration),
}

/// Integers at and around every power of two (both sides of every LEB128
/// length), or anywhere; cast to narrower types they are the same at their
/// widths.
pub(super) fn edgy() -> impl Strategy<Value = u128> {
    prop_oneof![
        any::<u128>(),
        any::<u64>().prop_map(u128::from),
        any::<u16>().prop_map(u128::from),
        (0u32..128, -2i128..=2, any::<bool>()).prop_map(|(k, d, neg)| {
            let n = (1u128 << k).wrapping_add(d as u128);
            if neg {
                n.wrapping_neg()
            } else {
                n
            }
        }),
    ]
}

pub(super) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(any::<char>(), 0..200).prop_map(String::from_iter),
        (0usize..300).prop_map(|n| "é".repeat(n)),
    ]
}

pub(super) fn character() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        // Both sides of every UTF-8 length, and the last.
        prop::sample::select(
            "\0a\u{7f}\u{80}é\u{7ff}\u{800}€\u{ffff}\u{10000}𝄞\u{10ffff}"
                .chars()
                .collect::<Vec<_>>()
        ),
    ]
}

const F32_EDGES: [u32; 6] = [0, 1 << 31, 0x7f80_0000, 0xff80_0000, 0x7fc0_0001, 1];
const F64_EDGES: [u64; 6] = [0, 1 << 63, 0x7ff << 52, 0xfff << 52, (0x7ff8 << 48) | 1, 1];

/// Any [`Leaf`], integers at their edges.
pub(super) fn leaf() -> impl Strategy<Value = Leaf> {
    // Any bits, or zero, minus zero, the infinities, a NaN with a payload
    // and the least subnormal.
    let bits32 = prop_oneof![any::<u32>(), prop::sample::select(&F32_EDGES[..])];
    let bits64 = prop_oneof![any::<u64>(), prop::sample::select(&F64_EDGES[..])];
    prop_oneof![
        Just(Leaf::Unit),
        any::<bool>().prop_map(Leaf::Bool),
        edgy().prop_map(|n| Leaf::U8(n as u8)),
        edgy().prop_map(|n| Leaf::U16(n as u16)),
        edgy().prop_map(|n| Leaf::U32(n as u32)),
        edgy().prop_map(|n| Leaf::U64(n as u64)),
        edgy().prop_map(Leaf::U128),
        edgy().prop_map(|n| Leaf::Usize(n as usize)),
        edgy().prop_map(|n| Leaf::I8(n as i8)),
        edgy().prop_map(|n| Leaf::I16(n as i16)),
        edgy().prop_map(|n| Leaf::I32(n as i32)),
        edgy().prop_map(|n| Leaf::I64(n as i64)),
        edgy().prop_map(|n| Leaf::I128(n as i128)),
        edgy().prop_map(|n| Leaf::Isize(n as isize)),
        bits32.prop_map(|b| Leaf::F32(f32::from_bits(b))),
        bits64.prop_map(|b| Leaf::F64(f64::from_bits(b))),
        character().prop_map(Leaf::Char),
        text().prop_map(Leaf::String),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| Leaf::Bytes(Bytes(b))),
        Just(Leaf::UnitTuple(())),
        Just(Leaf::UnitStruct(UnitStruct)),
        edgy().prop_map(|n| Leaf::Newtype(Newtype(n as u32))),
        (edgy(), edgy(), text()).prop_map(|(a, b, c)| Leaf::Tuple((a as u8, b as i64, c))),
        (edgy(), proptest::option::of(edgy()), character()).prop_map(|(a, b, c)| {
            Leaf::TupleStruct(TupleStruct(a as i16, b.map(|b| b as u64), c))
        }),
        (
            edgy(),
            text(),
            proptest::collection::vec(edgy(), 0..20),
            any::<[u8; 32]>(),
            any::<f64>(),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(|(id, name, scores, token, ratio, flag)| {
                Leaf::Record(Record {
                    id: id as u64,
                    name,
                    scores: scores.into_iter().map(|s| s as i32).collect(),
                    token,
                    ratio,
                    flag,
                })
            }),
        proptest::collection::vec((edgy(), edgy()), 0..200).prop_map(|v| {
            Leaf::Pairs(v.into_iter().map(|(a, b)| (a as u32, b as u16)).collect())
        }),
        proptest::collection::vec(proptest::collection::vec(any::<u16>(), 0..10), 0..10)
            .prop_map(Leaf::Nested),
        any::<[u8; 32]>().prop_map(Leaf::Array),
        any::<IpAddr>().prop_map(Leaf::Ip),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Leaf::Duration(Duration::new(s, n))),
    ]
}

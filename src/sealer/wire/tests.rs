//! The writer against postcard 1 itself: generated values of every serde
//! shape (every primitive at its varint boundaries, strings, bytes,
//! options, units, newtypes, tuples, enums of every variant kind, nested
//! sequences, maps, arrays, `collect_str`, unknown lengths, failing
//! impls) give postcard's bytes, and fail where postcard fails and as it
//! fails (but for `collect_str`'s departures), within every cap, after any
//! prefix, with any starting capacity and tail.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use proptest::prelude::*;
use serde::ser::{self as serde_ser, SerializeMap as _, SerializeSeq as _, SerializeTuple as _};
use serde::{Serialize, Serializer};

use super::*;

/// postcard's serializer over a capped output with the writer's rules (a
/// piece that does not fit is not written), noting whether the cap stopped
/// it: postcard reports that inside `collect_str` as a formatting error.
struct Reference<'a> {
    out: &'a mut Vec<u8>,
    cap: usize,
    hit_cap: &'a mut bool,
}

impl postcard::ser_flavors::Flavor for Reference<'_> {
    type Output = ();

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.try_extend(&[byte])
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if self.out.len() + data.len() > self.cap {
            *self.hit_cap = true;
            return Err(postcard::Error::SerializeBufferFull);
        }
        self.out.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// What postcard writes for `value` within `cap` bytes (also when it
/// fails), and how the writer must end.
fn reference<T: Serialize + ?Sized>(value: &T, cap: usize) -> (Vec<u8>, Result<(), PayloadError>) {
    let mut out = Vec::new();
    let mut hit_cap = false;
    let flavor = Reference {
        out: &mut out,
        cap,
        hit_cap: &mut hit_cap,
    };
    let result = match postcard::serialize_with_flavor(value, flavor) {
        Ok(()) => Ok(()),
        Err(postcard::Error::SerializeBufferFull) => Err(PayloadError::Overflow),
        // The one departure (see `collect_str`): a string past the cap is
        // too large, not unencodable.
        Err(postcard::Error::CollectStrError) if hit_cap => Err(PayloadError::Overflow),
        Err(_) => Err(PayloadError::Encode),
    };
    (out, result)
}

/// Writes `value` after `prefix` into a buffer of `capacity`, within
/// `prefix.len() + payload_cap` bytes and `tail`, and checks it against
/// postcard: the same result, the same bytes (also before an error), the
/// prefix kept and the tail free.
fn check<T: Serialize + ?Sized>(
    value: &T,
    prefix: &[u8],
    capacity: usize,
    payload_cap: usize,
    tail: usize,
) -> Result<(), TestCaseError> {
    let (expected, expected_result) = reference(value, payload_cap);
    let mut buf = Vec::with_capacity(capacity);
    buf.extend_from_slice(prefix);
    let room = Room {
        cap: prefix.len().saturating_add(payload_cap),
        tail,
    };
    let result = serialize(value, &mut buf, room);
    prop_assert_eq!(result, expected_result, "cap {}", payload_cap);
    prop_assert_eq!(&buf[..prefix.len()], prefix);
    prop_assert_eq!(&buf[prefix.len()..], &expected[..], "cap {}", payload_cap);
    if result.is_ok() {
        prop_assert!(
            buf.capacity() - buf.len() >= tail,
            "tail {} not free: {} of {}",
            tail,
            buf.len(),
            buf.capacity()
        );
    }
    Ok(())
}

/// Bytes through `serialize_bytes` (what `serde_bytes` does).
#[derive(Debug, Clone)]
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

#[derive(Serialize, Debug, Clone)]
struct UnitStruct;

#[derive(Serialize, Debug, Clone)]
struct Newtype(u32);

#[derive(Serialize, Debug, Clone)]
struct TupleStruct(i16, Option<u64>, char);

#[derive(Serialize, Debug, Clone)]
struct Record {
    id: u64,
    name: String,
    scores: Vec<i32>,
    token: [u8; 32],
    ratio: f64,
    flag: Option<bool>,
}

/// Text handed over in pieces, through `collect_str`.
#[derive(Debug, Clone)]
struct Shown(Vec<String>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            if i % 2 == 0 {
                f.write_str(part)?;
            } else {
                write!(f, "{part:>7}|{i}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Shown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A variant of any index, of any kind (derived enums only reach small
/// indices).
#[derive(Debug, Clone)]
struct RawVariant {
    index: u32,
    kind: u8,
    payload: u16,
}

impl Serialize for RawVariant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde_ser::{SerializeStructVariant as _, SerializeTupleVariant as _};
        match self.kind % 4 {
            0 => s.serialize_unit_variant("Raw", self.index, "V"),
            1 => s.serialize_newtype_variant("Raw", self.index, "V", &self.payload),
            2 => {
                let mut t = s.serialize_tuple_variant("Raw", self.index, "V", 2)?;
                t.serialize_field(&self.payload)?;
                t.serialize_field(&-i32::from(self.payload))?;
                t.end()
            }
            _ => {
                let mut t = s.serialize_struct_variant("Raw", self.index, "V", 1)?;
                t.serialize_field("p", &self.payload)?;
                t.end()
            }
        }
    }
}

/// A sequence or map that does not say its length.
#[derive(Debug, Clone)]
struct Unsized {
    map: bool,
    items: Vec<u8>,
}

impl Serialize for Unsized {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.map {
            let mut m = s.serialize_map(None)?;
            for item in &self.items {
                m.serialize_entry(item, item)?;
            }
            m.end()
        } else {
            let mut q = s.serialize_seq(None)?;
            for item in &self.items {
                q.serialize_element(item)?;
            }
            q.end()
        }
    }
}

/// Writes some bytes, then fails.
#[derive(Debug, Clone)]
struct Fails(Vec<u8>);

impl Serialize for Fails {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.0)?;
        Err(serde_ser::Error::custom("refused"))
    }
}

#[derive(Serialize, Debug, Clone)]
enum Value {
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
    Str(&'static str),
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
    Shown(Shown),
    Raw(RawVariant),
    Unsized(Unsized),
    Fails(Fails),
    // Recursive.
    Option(Option<Box<Value>>),
    Seq(Vec<Value>),
    BTree(BTreeMap<String, Value>),
    Hash(HashMap<i64, Value>),
    TupleVariant(u16, Box<Value>, f32),
    StructVariant {
        a: u32,
        b: Option<Box<Value>>,
        c: Vec<i8>,
    },
}

/// Integers at and around every power of two (both sides of every LEB128
/// length), or anywhere; cast to narrower types they are the same at their
/// widths.
pub(in crate::sealer) fn edgy() -> impl Strategy<Value = u128> {
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

pub(in crate::sealer) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(any::<char>(), 0..200).prop_map(String::from_iter),
        (0usize..300).prop_map(|n| "é".repeat(n)),
    ]
}

pub(in crate::sealer) fn character() -> impl Strategy<Value = char> {
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

fn leaf() -> impl Strategy<Value = Value> {
    // Any bits, or zero, minus zero, the infinities, a NaN with a payload
    // and the least subnormal.
    let bits32 = prop_oneof![any::<u32>(), prop::sample::select(&F32_EDGES[..]),];
    let bits64 = prop_oneof![any::<u64>(), prop::sample::select(&F64_EDGES[..]),];
    prop_oneof![
        Just(Value::Unit),
        any::<bool>().prop_map(Value::Bool),
        edgy().prop_map(|n| Value::U8(n as u8)),
        edgy().prop_map(|n| Value::U16(n as u16)),
        edgy().prop_map(|n| Value::U32(n as u32)),
        edgy().prop_map(|n| Value::U64(n as u64)),
        edgy().prop_map(Value::U128),
        edgy().prop_map(|n| Value::Usize(n as usize)),
        edgy().prop_map(|n| Value::I8(n as i8)),
        edgy().prop_map(|n| Value::I16(n as i16)),
        edgy().prop_map(|n| Value::I32(n as i32)),
        edgy().prop_map(|n| Value::I64(n as i64)),
        edgy().prop_map(|n| Value::I128(n as i128)),
        edgy().prop_map(|n| Value::Isize(n as isize)),
        bits32.prop_map(|b| Value::F32(f32::from_bits(b))),
        bits64.prop_map(|b| Value::F64(f64::from_bits(b))),
        character().prop_map(Value::Char),
        text().prop_map(Value::String),
        prop::sample::select(vec![
            "",
            "ascii",
            "ünïcødé",
            "日本語",
            "🦀 crab",
            "\0\u{80}"
        ])
        .prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::Bytes(Bytes(b))),
        Just(Value::UnitTuple(())),
        Just(Value::UnitStruct(UnitStruct)),
        edgy().prop_map(|n| Value::Newtype(Newtype(n as u32))),
        (edgy(), edgy(), text()).prop_map(|(a, b, c)| Value::Tuple((a as u8, b as i64, c))),
        (edgy(), proptest::option::of(edgy()), character()).prop_map(|(a, b, c)| {
            Value::TupleStruct(TupleStruct(a as i16, b.map(|b| b as u64), c))
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
                Value::Record(Record {
                    id: id as u64,
                    name,
                    scores: scores.into_iter().map(|s| s as i32).collect(),
                    token,
                    ratio,
                    flag,
                })
            }),
        proptest::collection::vec((edgy(), edgy()), 0..200).prop_map(|v| {
            Value::Pairs(v.into_iter().map(|(a, b)| (a as u32, b as u16)).collect())
        }),
        proptest::collection::vec(proptest::collection::vec(any::<u16>(), 0..10), 0..10)
            .prop_map(Value::Nested),
        any::<[u8; 32]>().prop_map(Value::Array),
        proptest::collection::vec(text(), 0..5).prop_map(|p| Value::Shown(Shown(p))),
        (edgy(), any::<u8>(), any::<u16>()).prop_map(|(index, kind, payload)| {
            Value::Raw(RawVariant {
                index: index as u32,
                kind,
                payload,
            })
        }),
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(map, items)| Value::Unsized(Unsized { map, items })),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Fails(Fails(b))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::option::of(inner.clone()).prop_map(|v| Value::Option(v.map(Box::new))),
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Seq),
            proptest::collection::btree_map(text(), inner.clone(), 0..6).prop_map(Value::BTree),
            proptest::collection::hash_map(any::<i64>(), inner.clone(), 0..6).prop_map(Value::Hash),
            (any::<u16>(), inner.clone(), any::<f32>()).prop_map(|(a, v, c)| Value::TupleVariant(
                a,
                Box::new(v),
                c
            )),
            (any::<u32>(), proptest::option::of(inner), any::<Vec<i8>>()).prop_map(|(a, b, c)| {
                Value::StructVariant {
                    a,
                    b: b.map(Box::new),
                    c,
                }
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// postcard's bytes, or postcard's error, with no cap and under every
    /// cap around the value's length and one anywhere below it.
    #[test]
    fn writes_what_postcard_writes(
        value in value(),
        prefix in proptest::collection::vec(any::<u8>(), 0..24),
        capacity in 0usize..160,
        tail in 0usize..80,
        anywhere in any::<usize>(),
    ) {
        let (full, full_result) = reference(&value, usize::MAX);
        match postcard::to_allocvec(&value) {
            Ok(bytes) => {
                prop_assert_eq!(&bytes, &full);
                prop_assert_eq!(full_result, Ok(()));
            }
            Err(_) => prop_assert_eq!(full_result, Err(PayloadError::Encode)),
        }
        check(&value, &prefix, capacity, usize::MAX - prefix.len(), tail)?;
        let len = full.len();
        for cap in [len + 1, len, len.saturating_sub(1), anywhere % (len + 1)] {
            check(&value, &prefix, capacity, cap, tail)?;
        }
    }
}

/// Every length of varint of every width, both sides of each boundary.
#[test]
fn varints_at_every_boundary() {
    for k in 0..128u32 {
        for d in [-1i128, 0, 1] {
            let n = (1u128 << k).wrapping_add(d as u128);
            check(&n, &[], 0, usize::MAX, 0).expect("u128");
            check(&(n as u64), &[], 0, usize::MAX, 0).expect("u64");
            check(&(n as u32), &[], 0, usize::MAX, 0).expect("u32");
            check(&(n as u16), &[], 0, usize::MAX, 0).expect("u16");
            check(&(n as usize), &[], 0, usize::MAX, 0).expect("usize");
            check(&(n as i128), &[], 0, usize::MAX, 0).expect("i128");
            check(&(n as i64), &[], 0, usize::MAX, 0).expect("i64");
            check(&(n as i32), &[], 0, usize::MAX, 0).expect("i32");
            check(&(n as i16), &[], 0, usize::MAX, 0).expect("i16");
            check(&(n as i128).wrapping_neg(), &[], 0, usize::MAX, 0).expect("-i128");
            check(&(n as i64).wrapping_neg(), &[], 0, usize::MAX, 0).expect("-i64");
        }
    }
    for n in [i128::MIN, i128::MAX, 0, -1] {
        check(&n, &[], 0, usize::MAX, 0).expect("i128 ends");
    }
}

/// Every cap and starting capacity for the benchmarks' large value shape,
/// with the seal's tail: the cap is never passed, the tail always free.
#[test]
fn every_cap_of_a_cart() {
    let cart: Vec<(u32, u16)> = (0..40u16)
        .map(|i| (20_000 + u32::from(i) * 7_919, 150 + (i % 9) * 100))
        .collect();
    let len = postcard::to_allocvec(&cart).expect("postcard").len();
    for cap in 0..=len + 2 {
        for capacity in [0, 1, 7, 64, len] {
            check(&cart, b"hdr", capacity, cap, 57).expect("cart");
        }
    }
}

/// Formats as `first` the first time and `second` after.
struct Changes {
    first: &'static str,
    second: &'static str,
    seen: core::cell::Cell<bool>,
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = if self.seen.replace(true) {
            self.second
        } else {
            self.first
        };
        f.write_str(text)
    }
}

/// Fails to format.
struct Unformattable;

impl fmt::Display for Unformattable {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Err(fmt::Error)
    }
}

/// Any `Display` through `collect_str`.
struct Collect<T>(T);

impl<T: fmt::Display> Serialize for Collect<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// `collect_str` where postcard would write a value that does not decode as
/// the text: refused. A `Display` that fails is refused as postcard
/// refuses it.
#[test]
fn collect_str_refuses_what_postcard_would_garble() {
    let room = Room {
        cap: usize::MAX,
        tail: 0,
    };
    for (first, second) in [("short", "longer text"), ("longer text", "short")] {
        let changes = || {
            Collect(Changes {
                first,
                second,
                seen: core::cell::Cell::new(false),
            })
        };
        let result = serialize(&changes(), &mut Vec::new(), room);
        assert_eq!(result, Err(PayloadError::Encode), "{first} then {second}");
        // postcard writes the first length and the second text.
        let garbled = postcard::to_allocvec(&changes()).expect("postcard writes it");
        assert_eq!(usize::from(garbled[0]), first.len());
        assert_eq!(&garbled[1..], second.as_bytes());
    }
    let result = serialize(&Collect(Unformattable), &mut Vec::new(), room);
    assert_eq!(result, Err(PayloadError::Encode));
    assert!(matches!(
        postcard::to_allocvec(&Collect(Unformattable)),
        Err(postcard::Error::CollectStrError)
    ));
    // Past the cap: too large, where postcard says unformattable.
    let mut buf = Vec::new();
    let result = serialize(&Collect("twelve bytes"), &mut buf, Room { cap: 5, tail: 0 });
    assert_eq!(result, Err(PayloadError::Overflow));
    assert_eq!(
        buf,
        [12],
        "the length, then nothing of a piece that does not fit"
    );
}

#[test]
fn unknown_lengths_and_failing_impls_do_not_encode() {
    let room = Room {
        cap: usize::MAX,
        tail: 0,
    };
    for map in [false, true] {
        let value = Unsized {
            map,
            items: vec![1, 2],
        };
        assert_eq!(
            serialize(&value, &mut Vec::new(), room),
            Err(PayloadError::Encode)
        );
    }
    assert_eq!(
        serialize(&Fails(vec![1, 2, 3]), &mut Vec::new(), room),
        Err(PayloadError::Encode)
    );
    // The cap comes first when it is reached first, as in postcard.
    assert_eq!(
        serialize(
            &Fails(vec![1, 2, 3]),
            &mut Vec::new(),
            Room { cap: 2, tail: 0 }
        ),
        Err(PayloadError::Overflow)
    );
}

#[test]
fn is_not_human_readable() {
    struct Asks;
    impl Serialize for Asks {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let readable = s.is_human_readable();
            s.serialize_bool(readable)
        }
    }
    let mut buf = Vec::new();
    let room = Room {
        cap: usize::MAX,
        tail: 0,
    };
    serialize(&Asks, &mut buf, room).expect("writes");
    assert_eq!(buf, postcard::to_allocvec(&Asks).expect("postcard"));
    assert_eq!(buf, [0]);
}

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
use crate::sealer::shapes::{self, edgy, text, Leaf};

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
    Leaf(Leaf),
    Str(&'static str),
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

/// The shared values ([`Leaf`], most of them), and the shapes only a
/// writer has: a borrowed text, `collect_str`, variants of any index,
/// sequences of unknown length, impls that fail.
fn leaf() -> impl Strategy<Value = Value> {
    let text_ref = prop::sample::select(vec![
        "",
        "ascii",
        "ünïcødé",
        "日本語",
        "🦀 crab",
        "\0\u{80}",
    ]);
    prop_oneof![
        28 => shapes::leaf().prop_map(Value::Leaf),
        1 => text_ref.prop_map(Value::Str),
        1 => proptest::collection::vec(text(), 0..5).prop_map(|p| Value::Shown(Shown(p))),
        1 => (edgy(), any::<u8>(), any::<u16>()).prop_map(|(index, kind, payload)| {
            Value::Raw(RawVariant {
                index: index as u32,
                kind,
                payload,
            })
        }),
        1 => (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(map, items)| Value::Unsized(Unsized { map, items })),
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Fails(Fails(b))),
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

//! Zeroization, checked by reading the memory that held a secret through
//! `/proc/self/mem` (no `unsafe`): after a key is dropped, and after a seal
//! or open, including one whose `Serialize` or `Deserialize` panicked and
//! one whose payload outgrew the buffer, the bytes are gone. Linux only.
#![cfg(target_os = "linux")]

use std::io::{Read as _, Seek as _, SeekFrom};

use serde::{Deserialize, Serialize};

use crate::sealer::scratch_region;
use crate::{Key, KeyId, Keyring, Sealer};

/// Reads `len` bytes of this process's memory at `addr`.
pub(crate) fn read_memory(addr: usize, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    read_memory_into(addr, &mut out);
    out
}

/// Fills `out` with this process's memory at `addr`. To read memory after
/// the block that held it is freed, allocate `out` before freeing it: a
/// buffer allocated afterwards may be that very block (the allocator hands
/// a freed block of the size asked straight back), and the test would read
/// its own buffer.
pub(crate) fn read_memory_into(addr: usize, out: &mut [u8]) {
    let mut mem = std::fs::File::open("/proc/self/mem").expect("/proc/self/mem");
    mem.seek(SeekFrom::Start(addr as u64)).expect("seek");
    mem.read_exact(out).expect("read");
}

/// A secret of `len` random non-zero bytes, fresh for each call: tests run
/// in parallel threads, and memory another test freed (holding its own
/// secret) may be handed to this thread's buffer, so a fixed pattern could
/// be found where this test never put it.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    use rand::RngCore as _;
    let mut out = vec![0u8; len];
    rand::rng().fill_bytes(&mut out);
    out.iter_mut().for_each(|b| *b |= 1);
    out
}

/// Whether any 8 consecutive bytes of `secret` occur in `memory`.
pub(crate) fn holds_any_of(memory: &[u8], secret: &[u8]) -> bool {
    let windows: std::collections::HashSet<&[u8]> = secret.windows(8).collect();
    memory.windows(8).any(|m| windows.contains(m))
}

/// The scratch buffer's whole allocation.
fn scratch_memory() -> Vec<u8> {
    let (addr, capacity) = scratch_region();
    assert!(capacity > 0, "the scratch buffer was never used");
    read_memory(addr, capacity)
}

#[test]
fn zeroization_key_bytes_are_wiped_on_drop() {
    let _alone = reading_memory();
    let secret = pattern(32);
    let key = Box::new(Key::try_from(&secret[..]).expect("32 bytes"));
    let addr = key.bytes().as_ptr() as usize;
    assert_eq!(read_memory(addr, 32), secret, "reads the live key");
    let mut after = vec![0u8; 32];
    drop(key);
    // The allocator may reuse the first 16 bytes of the freed block for its
    // own pointers; none of the key may remain anywhere in it.
    read_memory_into(addr, &mut after);
    assert!(
        !holds_any_of(&after, &secret),
        "key bytes left in freed memory: {after:02x?}"
    );
}

#[test]
fn zeroization_scratch_buffer_holds_no_plaintext_after_open() {
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let secret = pattern(200);
    let value = sealer.seal_bytes(&secret).expect("seals");
    let opened = sealer.open_bytes(&value).expect("opens");
    assert_eq!(opened.value, secret);
    assert!(
        !holds_any_of(&scratch_memory(), &secret),
        "plaintext left in the scratch buffer after open"
    );
}

/// Seals postcard's string of 48 letters (the last replaced by `last`, if
/// given), opens it with `open`, and panics if 8 of the letters in a row
/// are left anywhere in the process but this thread's stack, where the
/// payload is, straight from the operating system.
fn open_string_then_search(last: Option<u8>, open: impl FnOnce(&Sealer, &str)) {
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let mut payload = [0u8; 49];
    rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut payload).expect("os rng");
    payload[0] = 48;
    payload[1..].iter_mut().for_each(|b| *b = b'a' + *b % 26);
    if let Some(last) = last {
        payload[48] = last;
    }
    let value = sealer.seal_bytes(&payload).expect("seals");
    open(&sealer, &value);
    let stack = &payload as *const _ as usize;
    if let Some(addr) = writable_memory_holding(&[&payload[1..48]], &[stack]) {
        panic!("the string's copy left in memory at {addr:#x}");
    }
    zeroize::Zeroize::zeroize(&mut payload);
}

/// A string that fails the UTF-8 check (its last byte is none a UTF-8
/// text holds) leaves no copy of itself in the process's heaps.
#[test]
fn zeroization_a_string_that_is_not_utf8_leaves_no_copy() {
    open_string_then_search(Some(0xff), |sealer, value| {
        assert_eq!(
            sealer.open::<String>(value).map(|o| o.value),
            Err(crate::Error::Refused(crate::Refusal::Decode))
        );
    });
}

/// A type that asks for an owned string (`deserialize_string`) but whose
/// visitor only borrows it (`visit_str`) leaves no copy of it in the
/// process's heaps: the reader lends the string where it lies, in the
/// buffer that is wiped.
#[test]
fn zeroization_a_string_only_borrowed_leaves_no_copy() {
    struct Len(usize);
    impl<'de> Deserialize<'de> for Len {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit;
            impl serde::de::Visitor<'_> for Visit {
                type Value = Len;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Len, E> {
                    Ok(Len(v.len()))
                }
            }
            d.deserialize_string(Visit)
        }
    }
    open_string_then_search(None, |sealer, value| {
        assert_eq!(sealer.open::<Len>(value).map(|o| o.value.0), Ok(48));
    });
}

/// A seal alone wipes the buffer as well. The plaintext is encrypted in
/// place, so what a seal would leave there is its envelope: none of it
/// may remain.
#[test]
fn zeroization_scratch_buffer_is_wiped_after_a_seal() {
    use base64::Engine as _;
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let secret = pattern(200);
    let value = sealer.seal_bytes(&secret).expect("seals");
    let envelope = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&value)
        .expect("base64url");
    // The ciphertext and tag: random-looking, so an 8-byte window of them
    // is found only where they were left. (The nonce's counter is mostly
    // zero bytes, which wiped memory and other data hold anyway.)
    let nonce_end = 2 + sealer
        .keyring()
        .algorithm(KeyId(1))
        .expect("key 1")
        .nonce_len();
    assert!(
        !holds_any_of(&scratch_memory(), &envelope[nonce_end..]),
        "the ciphertext left in the scratch buffer after a seal"
    );
}

/// Warms the scratch buffer with a tiny seal of `sealer`, then seals a
/// secret of `len` bytes with `seal`, which must outgrow it: the buffer
/// moves, the allocation it left holds none of the secret, and the value
/// opens (`open`) to it.
fn outgrowing_leaves_none_behind(
    sealer: &Sealer,
    len: usize,
    seal: impl Fn(&Sealer, &[u8]) -> String,
    open: impl Fn(&Sealer, &str) -> Vec<u8>,
) {
    // A seal reserves 16 KiB (and its tail).
    seal(sealer, &[0]);
    let (addr, capacity) = scratch_region();
    let mut old = vec![0u8; capacity];
    let secret = pattern(len);
    let value = seal(sealer, &secret);
    assert_ne!(scratch_region().0, addr, "the buffer moved");
    read_memory_into(addr, &mut old);
    assert!(
        !holds_any_of(&old, &secret),
        "plaintext left in the allocation it outgrew"
    );
    assert_eq!(open(sealer, &value), secret);
}

/// A sequence of bytes, written a byte at a time, that outgrows the
/// reservation midway: its first 16 KiB move to a larger allocation.
#[test]
fn zeroization_a_payload_that_outgrows_the_buffer_leaves_none_behind() {
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng")).with_max_len(100_000);
    outgrowing_leaves_none_behind(
        &sealer,
        24_000,
        |s, secret| s.seal(&secret).expect("seals"),
        |s, value| s.open::<Vec<u8>>(value).expect("opens").value,
    );
}

/// The same when the padding (not the payload) outgrows the reservation: a
/// 12,000-byte payload fits the 16 KiB a seal reserves, padded to a power
/// of two it does not, and the padding moves the plaintext to a larger
/// allocation, wiping the old one.
#[test]
fn zeroization_padding_that_outgrows_the_buffer_leaves_none_behind() {
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"))
        .with_max_len(100_000)
        .with_padding(crate::Padding::power_of_two());
    outgrowing_leaves_none_behind(
        &sealer,
        12_000,
        |s, secret| s.seal_bytes(secret).expect("seals"),
        |s, value| s.open_bytes(value).expect("opens").value,
    );
}

/// Serializes a secret, then panics before the seal can finish.
struct PanicsMidway(Vec<u8>);

impl Serialize for PanicsMidway {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&self.0)?;
        panic!("a Serialize impl that panics after writing its secret");
    }
}

#[test]
fn zeroization_survives_a_panicking_serialize() {
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let secret = pattern(200);
    let value = PanicsMidway(secret.clone());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sealer.seal(&value)));
    assert!(result.is_err(), "the Serialize impl panics");
    assert!(
        !holds_any_of(&scratch_memory(), &secret),
        "plaintext left in the scratch buffer after a panic"
    );
    // The buffer is usable again.
    assert!(sealer.seal(&1u8).is_ok());
}

/// Panics whenever it is deserialized.
#[derive(Debug)]
struct PanicsOnOpen;

impl<'de> Deserialize<'de> for PanicsOnOpen {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        panic!("a Deserialize impl that panics");
    }
}

#[test]
fn zeroization_survives_a_panicking_deserialize() {
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let secret = pattern(200);
    let value = sealer.seal_bytes(&secret).expect("seals");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sealer.open::<PanicsOnOpen>(&value)
    }));
    assert!(result.is_err(), "the Deserialize impl panics");
    assert!(
        !holds_any_of(&scratch_memory(), &secret),
        "plaintext left in the scratch buffer after a panic"
    );
}

/// Seals, as its `Serialize`, a secret with the same sealer on the same
/// thread (a value that carries a sealed token of its own).
struct SealsInside<'a> {
    sealer: &'a Sealer,
    secret: Vec<u8>,
}

impl Serialize for SealsInside<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let inner = self
            .sealer
            .seal_bytes(&self.secret)
            .map_err(S::Error::custom)?;
        serializer.serialize_str(&inner)
    }
}

/// A seal inside a `Serialize` impl, while the outer seal holds the
/// thread's buffer, gets a buffer of its own: both values open, the outer
/// seal's buffer is still the thread's afterwards, and it holds neither
/// plaintext.
#[test]
fn zeroization_a_seal_inside_a_seal_has_a_buffer_of_its_own() {
    let _alone = reading_memory();
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    sealer.seal(&0u8).expect("seals");
    let (addr, capacity) = scratch_region();
    let secret = pattern(200);
    let outer = sealer
        .seal(&SealsInside {
            sealer: &sealer,
            secret: secret.clone(),
        })
        .expect("seals");
    assert_eq!(scratch_region(), (addr, capacity), "the thread's buffer");
    // Read now: an open below may move the buffer into memory that held
    // the inner seal's text, which the `Serialize` impl dropped unwiped.
    let memory = scratch_memory();
    let inner = sealer.open::<String>(&outer).expect("opens").value;
    assert_eq!(sealer.open_bytes(&inner).expect("opens").value, secret);
    assert!(!holds_any_of(&memory, &secret), "the inner plaintext left");
    // The inner value's text past its header and nonce: the nonce's first
    // 16 bytes are this thread's stream prefix, which the outer value
    // shares (public, and in the buffer's sealed output).
    assert!(
        !holds_any_of(&memory, &inner.as_bytes()[40..]),
        "the outer plaintext left"
    );
}

/// Held by every test that reads this process's memory, for as long as it
/// runs: what a test reads (another thread's stack, a freed block that
/// another test's thread was then handed) is copied into a buffer of its
/// own, where a search of the whole process running at the same time
/// ([`writable_memory_holding`]) would find the other test's secrets.
static READING_MEMORY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// [`READING_MEMORY`], held until the guard is dropped (also after a test
/// that held it panicked).
pub(crate) fn reading_memory() -> std::sync::MutexGuard<'static, ()> {
    READING_MEMORY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where in this process's private writable memory (its heaps, and the
/// stacks of other threads) any 8 consecutive bytes of one of `secrets`
/// lie, outside the mappings that hold an address of `skip` (this
/// thread's stack, which holds the secrets themselves): the address of
/// the first found, if any. Read in pieces through a buffer of a mapping of
/// its own (skipped too).
fn writable_memory_holding(secrets: &[&[u8]], skip: &[usize]) -> Option<usize> {
    const PIECE: usize = 1 << 20;
    // Every 8-byte window of the secrets, sorted, and a table of their
    // first two bytes that rules out almost every position with one load:
    // both on this thread's stack, which is not searched (in a heap, the
    // windows would be found there).
    let mut windows = [0u64; 512];
    let mut count = 0;
    for w in secrets.iter().flat_map(|secret| secret.windows(8)) {
        windows[count] = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        count += 1;
    }
    let windows = &mut windows[..count];
    windows.sort_unstable();
    let mut first = [false; 1 << 16];
    for w in windows.iter() {
        first[(*w & 0xffff) as usize] = true;
    }
    // Larger than the allocator hands out of a heap: a mapping of its own.
    let mut buffer = vec![0u8; PIECE + 8];
    let skip: Vec<usize> = skip
        .iter()
        .copied()
        .chain([buffer.as_ptr() as usize])
        .collect();
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    let mut mem = std::fs::File::open("/proc/self/mem").expect("/proc/self/mem");
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        if perms != "rw-p" || skip.iter().any(|a| (start..end).contains(a)) {
            continue;
        }
        // Pieces overlapping by 7 bytes, so no window is cut in two.
        let mut at = start;
        while at < end {
            let len = (end - at).min(PIECE + 7);
            let piece = &mut buffer[..len];
            if mem.seek(SeekFrom::Start(at as u64)).is_err() || mem.read_exact(piece).is_err() {
                break;
            }
            for (offset, w) in piece.windows(8).enumerate() {
                if first[usize::from(u16::from_le_bytes([w[0], w[1]]))]
                    && windows
                        .binary_search(&u64::from_le_bytes(w.try_into().expect("8 bytes")))
                        .is_ok()
                {
                    return Some(at + offset);
                }
            }
            at += PIECE;
        }
    }
    None
}

/// Parsing a keyring (what `SESSION_KEYS`, a keyring file and every
/// reload of a watched one do) and dropping it leaves no copy of any key
/// in the process's heaps: not in the entries moved into the keyring, nor
/// in a list that grew while they were added.
#[test]
fn zeroization_a_parsed_keyring_leaves_no_key_behind() {
    use base64::Engine as _;
    use zeroize::Zeroize as _;
    let _alone = reading_memory();
    for n in [1, 9] {
        // The raw keys on this thread's stack, which is not searched,
        // straight from the operating system: the thread's generator
        // would keep a copy in its buffer on the heap.
        let mut keys = [[0u8; 32]; 9];
        for key in keys.iter_mut().take(n) {
            rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, key).expect("os rng");
        }
        let spec: String = (0..n)
            .map(|i| {
                let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(keys[i]);
                format!("{}:xchacha20poly1305:{text}\n", i + 1)
            })
            .collect();
        let keyring: Keyring = spec.parse().expect("parses");
        assert_eq!(keyring.len(), n);
        drop(keyring);
        let secrets: Vec<&[u8]> = keys.iter().take(n).map(|k| &k[..]).collect();
        let stack = &keys as *const _ as usize;
        if let Some(addr) = writable_memory_holding(&secrets, &[stack]) {
            panic!("a key of {n} left in memory at {addr:#x}");
        }
        keys.zeroize();
    }
}

/// A list of keyring entries that grows (`Keyring::new` from an iterator
/// without a length) moves them by hand and wipes the allocation it
/// leaves: no key stays in the freed block.
#[test]
fn zeroization_a_growing_list_of_entries_wipes_what_it_leaves() {
    use crate::keyring::{push_wiping, KeyEntry};
    use zeroize::Zeroize as _;
    let _alone = reading_memory();
    let mut list = Vec::new();
    let mut secrets = Vec::new();
    let mut checked = 0;
    for i in 0..9u32 {
        let secret = pattern(32);
        let key = Key::try_from(&secret[..]).expect("32 bytes");
        secrets.push(secret);
        let grows = list.len() == list.capacity() && !list.is_empty();
        let old = (
            list.as_ptr() as usize,
            list.capacity() * core::mem::size_of::<KeyEntry>(),
        );
        // Allocated before the old block is freed (see `read_memory_into`).
        let mut after = vec![0u8; old.1];
        push_wiping(&mut list, KeyEntry::new(i, key));
        if grows {
            read_memory_into(old.0, &mut after);
            for secret in &secrets[..i as usize] {
                assert!(
                    !holds_any_of(&after, secret),
                    "a key left where the list was"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 2, "the list grew {checked} times");
    assert_eq!(
        list.iter().map(KeyEntry::id).collect::<Vec<_>>(),
        (0..9).map(KeyId).collect::<Vec<_>>()
    );
    secrets.iter_mut().for_each(|s| s.zeroize());
}

//! The session protocol over several cookies: what `load` reads from chunk
//! cookies and what `finish` writes and removes.

use std::collections::BTreeMap;

use super::super::Session;
use super::*;
use crate::cookie::{CookieOptions, DEFAULT_CHUNK_BUDGET, MAX_COOKIE_BYTES, MAX_SAME_NAME_COOKIES};
use crate::error::{Error, Refusal};
use crate::keyring::Keyring;
use crate::sealer::Sealer;

fn config_named(name: &str, chunking: Chunking) -> SessionConfig {
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng")).with_name(name);
    let options = CookieOptions::default().with_chunking(chunking);
    SessionConfig::with_options(sealer, options).expect("valid")
}

fn config() -> SessionConfig {
    config_named("s", Chunking::default())
}

/// A browser's cookies: what `Set-Cookie` values store and remove.
#[derive(Default, Clone, Debug)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn apply(&mut self, set_cookies: &[String]) {
        for header in set_cookies {
            let pair = header.split(';').next().expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            if header.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        pairs.join("; ")
    }

    fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// One request: loads, runs `f`, applies the response.
    fn request<R>(
        &mut self,
        c: &SessionConfig,
        f: impl FnOnce(&Session<String>) -> R,
    ) -> (R, Vec<String>) {
        let header = self.header();
        let s = Session::<String>::load(c, [header.as_bytes()]);
        let out = f(&s);
        let set = s.finish();
        self.apply(&set);
        (out, set)
    }
}

fn store(jar: &mut Jar, c: &SessionConfig, len: usize) -> Result<()> {
    jar.request(c, |s| s.set("x".repeat(len))).0
}

fn read(jar: &mut Jar, c: &SessionConfig) -> Option<usize> {
    jar.request(c, |s| s.get().map(|v| v.len())).0
}

#[test]
fn a_large_session_goes_over_several_cookies_and_back() {
    let c = config();
    let mut jar = Jar::default();
    store(&mut jar, &c, 5000).expect("fits the default budget");
    assert_eq!(jar.names(), ["s", "s.1"]);
    assert!(jar.0["s"].starts_with("2."));
    let (len, set) = jar.request(&c, |s| s.get().map(|v| v.len()));
    assert_eq!(len, Some(5000));
    assert!(set.is_empty(), "read only: nothing written {set:?}");
    assert!(jar.header().len() <= DEFAULT_CHUNK_BUDGET);
}

#[test]
fn every_chunk_fits_its_cookie_and_the_budget_is_enforced() {
    let c = config_named(
        "__Host-session",
        Chunking::default().with_max_cookies(4).with_budget(14_000),
    );
    let mut jar = Jar::default();
    let (stored, set) = jar.request(&c, |s| s.set("x".repeat(10_000)));
    stored.expect("10 KB under a 14,000-byte budget");
    assert_eq!(set.len(), 4);
    for (i, header) in set.iter().enumerate() {
        assert!(header.len() <= MAX_COOKIE_BYTES, "{}", header.len());
        let expected = chunk_name("__Host-session", i);
        assert!(header.starts_with(&format!("{expected}=")), "{header}");
        assert!(header.contains("; Secure; Path=/"), "{header}");
    }
    assert_eq!(read(&mut jar, &c), Some(10_000));
    // Past the budget: refused at `set`, the session as it was.
    let (refused, set) = jar.request(&c, |s| s.set("x".repeat(11_000)));
    assert!(
        matches!(
            refused,
            Err(Error::Seal(SealError::TooLarge { max: 14_000, .. }))
        ),
        "{refused:?}"
    );
    assert!(set.is_empty());
    assert_eq!(read(&mut jar, &c), Some(10_000));
}

/// At the most chunks a session may take (16: two-digit counts and
/// names), the largest session that fits is written over all of them,
/// each `Set-Cookie` within a cookie's 4096 bytes (the first begins with
/// the count, `16.`), the `Cookie` header within the budget, and read
/// back; a byte more is refused. So is a session past the budget with
/// room for more cookies.
#[test]
fn sixteen_chunks_with_two_digit_counts_each_fit_their_cookie() {
    let name = "__Host-session";
    let c = config_named(
        name,
        Chunking::default().with_max_cookies(16).with_budget(80_000),
    );
    let fits = |len: usize| store(&mut Jar::default(), &c, len).is_ok();
    let (mut low, mut high) = (1, 80_000);
    assert!(fits(low) && !fits(high));
    while high - low > 1 {
        let mid = (low + high) / 2;
        if fits(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    let mut jar = Jar::default();
    let (stored, set) = jar.request(&c, |s| s.set("x".repeat(low)));
    stored.expect("the largest that fits");
    assert_eq!(
        set.len(),
        16,
        "{:?}",
        set.iter().map(String::len).collect::<Vec<_>>()
    );
    for (i, header) in set.iter().enumerate() {
        assert!(
            header.len() <= MAX_COOKIE_BYTES,
            "chunk {i}: {}",
            header.len()
        );
        assert!(
            header.starts_with(&format!("{}=", chunk_name(name, i))),
            "{header:.40}"
        );
    }
    assert!(set[0].starts_with(&format!("{name}=16.")), "{:.40}", set[0]);
    // Full: the largest chunk is within a few bytes of a cookie's limit.
    let longest = set.iter().map(String::len).max().expect("chunks");
    assert!(longest > MAX_COOKIE_BYTES - 8, "{longest}");
    assert!(jar.header().len() <= 80_000);
    assert_eq!(read(&mut jar, &c), Some(low));

    // The budget binds before the cookies do.
    let tight = config_named(
        name,
        Chunking::default().with_max_cookies(16).with_budget(20_000),
    );
    let mut jar = Jar::default();
    assert!(store(&mut jar, &tight, 30_000).is_err());
    store(&mut jar, &tight, 10_000).expect("within the budget");
    assert!(jar.header().len() <= 20_000);
    assert_eq!(read(&mut jar, &tight), Some(10_000));
}

/// Chunk names at or past the reader's maximum are only noted for
/// removal, not counted toward the cap of one name's cookies: nine planted
/// `s.5` cookies beside a reader of four chunks do not make the session
/// none (SECURITY.md, reading chunks, step 2).
#[test]
fn names_only_noted_for_removal_do_not_count_toward_the_cap() {
    let c = config_named("s", Chunking::default().with_max_cookies(4));
    let mut jar = Jar::default();
    store(&mut jar, &c, 10).expect("one cookie");
    let planted = ["s.5=x"; MAX_SAME_NAME_COOKIES + 1].join("; ");
    let header = format!("{}; {planted}", jar.header());
    let s = Session::<String>::load(&c, [header.as_bytes()]);
    assert_eq!(s.get().map(|v| v.len()), Some(10), "the session opens");
    // Beside the planted ones, one more cookie of a name that is read
    // past the cap is none, as the rule says.
    let many = ["s.1=x"; MAX_SAME_NAME_COOKIES + 1].join("; ");
    let header = format!("{}; {many}", jar.header());
    let s = Session::<String>::load(&c, [header.as_bytes()]);
    assert_eq!(s.get(), None, "a read name past the cap");
}

#[test]
fn a_smaller_write_removes_the_stale_chunks() {
    let c = config_named("s", Chunking::default().with_budget(14_000));
    let mut jar = Jar::default();
    store(&mut jar, &c, 10_000).expect("fits");
    assert_eq!(jar.names(), ["s", "s.1", "s.2", "s.3"]);
    let (_, set) = jar.request(&c, |s| s.set("x".repeat(5000)));
    assert_eq!(set.len(), 4, "two chunks and two removals: {set:?}");
    assert_eq!(jar.names(), ["s", "s.1"]);
    store(&mut jar, &c, 10).expect("fits");
    assert_eq!(jar.names(), ["s"]);
    assert!(!jar.0["s"].contains('.'), "one cookie: the value itself");
    assert_eq!(read(&mut jar, &c), Some(10));
}

#[test]
fn clearing_removes_every_chunk() {
    let c = config();
    let mut jar = Jar::default();
    store(&mut jar, &c, 5000).expect("fits");
    let ((), set) = jar.request(&c, Session::clear);
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(set.iter().all(|h| h.contains("Max-Age=0")));
    assert!(jar.0.is_empty());
}

#[test]
fn chunks_of_two_writes_missing_or_moved_do_not_open() {
    let c = config();
    let (mut one, mut two) = (Jar::default(), Jar::default());
    store(&mut one, &c, 5000).expect("fits");
    store(&mut two, &c, 5000).expect("fits");
    let refused = |jar: Jar| {
        let mut jar = jar;
        let chunks = jar.0.keys().filter(|n| n.starts_with("s.")).count();
        let (value, set) = jar.request(&c, |s| s.get());
        assert_eq!(value, None);
        // The first chunk's removal, and every other chunk carried.
        assert_eq!(set.len(), 1 + chunks, "{set:?}");
        assert!(set.iter().all(|h| h.contains("Max-Age=0")), "{set:?}");
        assert!(jar.0.is_empty(), "{:?}", jar.names());
    };
    let mut mixed = one.clone();
    mixed.0.insert("s.1".into(), two.0["s.1"].clone());
    refused(mixed);
    let mut missing = one.clone();
    missing.0.remove("s.1");
    refused(missing);
    let mut no_first = one.clone();
    no_first.0.remove("s");
    refused(no_first);
    // The pieces swapped between the names.
    let mut swapped = one.clone();
    let first = one.0["s"].clone();
    let (count, piece) = first.split_once('.').expect("count");
    swapped
        .0
        .insert("s".into(), format!("{count}.{}", one.0["s.1"]));
    swapped.0.insert("s.1".into(), piece.to_owned());
    refused(swapped);
    // A count that claims one more chunk, and one planted to match.
    let mut planted = one.clone();
    planted.0.insert("s".into(), format!("3.{piece}"));
    planted.0.insert("s.2".into(), "AAAA".into());
    refused(planted);
    // The genuine jars still open.
    assert_eq!(read(&mut one, &c), Some(5000));
    assert_eq!(read(&mut two, &c), Some(5000));
}

#[test]
fn a_planted_extra_chunk_is_never_part_of_the_session() {
    let c = config();
    let mut jar = Jar::default();
    store(&mut jar, &c, 5000).expect("fits");
    // A chunk past the count the first chunk announces: ignored, the
    // session is the one written; the next write removes it.
    let mut planted = jar.clone();
    planted.0.insert("s.2".into(), "AAAA".into());
    let (len, set) = planted.request(&c, |s| s.get().map(|v| v.len()));
    assert_eq!((len, set.len()), (Some(5000), 0));
    store(&mut planted, &c, 5001).expect("fits");
    assert_eq!(planted.names(), ["s", "s.1"]);
    // A second cookie for a chunk name (a header can carry both): the
    // only way that opens is the session; nothing is removed.
    let header = format!("{}; s.1=AAAA", jar.header());
    let s = Session::<String>::load(&c, [header.as_bytes()]);
    assert_eq!(s.get().map(|v| v.len()), Some(5000));
    assert_eq!(s.finish(), Vec::<String>::new());
    // The same chunk twice: two ways open, so none is used, nothing removed.
    let header = format!("{}; s.1={}", jar.header(), jar.0["s.1"]);
    let s = Session::<String>::load(&c, [header.as_bytes()]);
    assert_eq!(s.get(), None);
    assert_eq!(s.finish(), Vec::<String>::new());
}

#[test]
fn a_one_cookie_session_is_written_as_without_chunking() {
    let chunked = config();
    let plain = SessionConfig::new(chunked.sealer().clone().with_max_len(4096)).expect("valid");
    let value = chunked.sealer().seal(&"ada".to_owned()).expect("seals");
    let max_age = core::time::Duration::from_secs(60);
    assert_eq!(
        chunked.session_cookies(&value, max_age).expect("fits"),
        [plain.set_cookie(&value, max_age).expect("fits")]
    );
    // And each opens the other's.
    let header = format!("s={value}");
    for c in [&chunked, &plain] {
        let s = Session::<String>::load(c, [header.as_bytes()]);
        assert_eq!(s.get().as_deref(), Some("ada"));
    }
}

#[test]
fn without_chunking_chunk_cookies_are_not_read() {
    let chunked = config();
    let plain = SessionConfig::new(chunked.sealer().clone().with_max_len(4096)).expect("valid");
    let mut jar = Jar::default();
    store(&mut jar, &chunked, 5000).expect("fits");
    // A server without chunking refuses the first chunk like any value that
    // does not open, and removes the chunk it carried with it: nothing of
    // the session is left behind.
    let header = jar.header();
    let s = Session::<String>::load(&plain, [header.as_bytes()]);
    assert_eq!(s.get(), None);
    assert_eq!(
        s.finish(),
        // The session's own removal last (see `Session::finish`).
        [
            plain.chunk_removals(0b10, 1).remove(0),
            plain.removal_cookie(),
        ]
    );
    assert!(plain.chunk_removals(0b10, 1)[0].starts_with("s.1=; "));
    // Without chunk cookies in the request, nothing changes on the wire.
    let s = Session::<String>::load(&plain, [b"s=AAAA; s.x=1; s.01=1; t.1=1".as_slice()]);
    assert_eq!(s.finish(), [plain.removal_cookie()]);
    // And still refuses a session too large for one cookie.
    let s = Session::<String>::load(&plain, []);
    assert!(matches!(
        s.set("x".repeat(5000)),
        Err(Error::Seal(SealError::TooLarge { .. }))
    ));
}

/// When the cookie count binds, `TooLarge` says so in sealed-value bytes:
/// the value's real length, and the longest value the cookies hold (the
/// budget binding is `plan_enforces_count_and_budget`'s). Never an
/// overflow, whatever the budget.
#[test]
fn too_large_reports_what_binds() {
    for budget in [100_000, usize::MAX] {
        let c = config_named(
            "s",
            Chunking::default().with_max_cookies(2).with_budget(budget),
        );
        let s = Session::<String>::load(&c, []);
        let Err(Error::Seal(SealError::TooLarge { len, max })) = s.set("x".repeat(9000)) else {
            panic!("too large for two cookies");
        };
        let four = Chunking::default().with_max_cookies(4).with_budget(budget);
        let plan = c.plan(len, &four, Duration::ZERO);
        assert!(plan.is_ok(), "{len} is a real sealed length");
        assert!((12_000..12_200).contains(&len), "{len}");
        // The longest value two cookies hold: one byte more does not fit.
        let two = Chunking::default().with_max_cookies(2).with_budget(budget);
        let ttl = c.sealer().ttl();
        assert_eq!(
            c.plan(max, &two, ttl).map(|p| p.len()).ok(),
            Some(2),
            "{max}"
        );
        assert!(c.plan(max + 1, &two, ttl).is_err(), "{max}");
        assert!((8000..8192).contains(&max), "{max}");
    }
    let c = config_named("s", Chunking::default());
    let s = Session::<String>::load(&c, []);
    let Err(Error::Seal(SealError::TooLarge { len, max })) = s.set("x".repeat(6000)) else {
        panic!("over the budget");
    };
    // Longer than the sealer's maximum (the budget) already when sealing:
    // at least one byte more, as for any value over `max_len`.
    assert_eq!(max, DEFAULT_CHUNK_BUDGET);
    assert!(len > max, "{len}");
}

/// Hostile chunk sets (megabyte chunks, counts past the maximum, empty
/// pieces, too many ways) are no session, and the response removes what
/// was carried. (That a way is measured before it is copied is
/// `length_is_bounded_before_joining`'s; allocations are not counted here.)
#[test]
fn hostile_chunk_sets_are_no_session() {
    let c = config();
    let removal_all = |extra: &[usize]| {
        // The session's own removal last (see `Session::finish`).
        let mut v: Vec<String> = extra
            .iter()
            .map(|&i| {
                crate::cookie::format(&chunk_name("s", i), "", c.options(), Some(Duration::ZERO))
            })
            .collect();
        v.push(c.removal_cookie());
        v
    };
    let big = "A".repeat(1 << 20);
    for (header, removed) in [
        (format!("s=2.{big}; s.1={big}"), vec![1]),
        (format!("s=4.A; s.1={big}; s.2=A; s.3=A"), vec![1, 2, 3]),
        ("s=2.; s.1=".to_owned(), vec![1]),
        ("s=99.A; s.1=A".to_owned(), vec![1]),
        ("s=2.A; s.1=A; s.99=A; s.4=A".to_owned(), vec![1, 4]),
    ] {
        let s = Session::<String>::load(&c, [header.as_bytes()]);
        assert_eq!(s.get(), None);
        assert_eq!(
            s.finish(),
            removal_all(&removed),
            "{}",
            &header[..header.len().min(40)]
        );
    }
    // Too many ways to put one together: ignored unopened, nothing removed.
    let header = "s=3.A; s.1=A; s.1=B; s.1=C; s.2=A; s.2=B; s.2=C";
    let s = Session::<String>::load(&c, [header.as_bytes()]);
    assert_eq!((s.get(), s.finish()), (None, vec![]));
}

/// The chunk vectors of `tests/vectors/chunks.txt`, written by the
/// independent `tests/vectors/reference_v2.py` from SECURITY.md's rule:
/// each Cookie header puts together the value it names (or none), and
/// loads as the session it names (or none).
#[test]
fn chunk_vectors_reassemble_as_the_reference_does() {
    use std::time::{SystemTime, UNIX_EPOCH};

    use crate::key::Key;
    use crate::keyring::KeyEntry;

    let text = include_str!("../../../tests/vectors/chunks.txt");
    let mut seen = 0;
    for block in text.split("\n\n") {
        let fields: BTreeMap<&str, &str> = block
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(" = "))
            .collect();
        let Some(comment) = fields.get("comment") else {
            continue;
        };
        let mut entry = fields["keyring"].split(':');
        let (Some(id), Some(_), Some(key)) = (entry.next(), entry.next(), entry.next()) else {
            panic!("keyring of {comment}");
        };
        let key = Key::from_base64(key).expect("a random-looking key");
        let ring =
            Keyring::new([KeyEntry::new(id.parse::<u32>().expect("id"), key)]).expect("ring");
        let now: u64 = fields["issued_at"].parse().expect("time");
        let sealer = Sealer::new(ring)
            .with_name(fields["name"])
            .with_purpose(fields["purpose"])
            .with_ttl(Duration::from_secs(3600))
            .with_clock(move || -> SystemTime { UNIX_EPOCH + Duration::from_secs(now + 1) });
        let max: usize = fields["max_chunks"].parse().expect("max");
        let c = SessionConfig::with_options(
            sealer,
            CookieOptions::default().with_chunking(Chunking::default().with_max_cookies(max)),
        )
        .expect("valid");
        let header = fields["cookie"];
        let carried = crate::cookie::Carried::read([header.as_bytes()], c.name(), max);
        assert_eq!(
            c.sealer().max_len().to_string(),
            fields["max_len"],
            "{comment}"
        );
        let assembled = carried.assemble(c.sealer().max_len());
        let counts = assembled.as_ref().map_or(("none".to_owned(), 0), |ways| {
            let too_long = ways
                .iter()
                .filter(|w| matches!(w, Err(Refusal::TooLong { .. })))
                .count();
            (ways.len().to_string(), too_long)
        });
        assert_eq!(
            (counts.0.as_str(), counts.1.to_string().as_str()),
            (fields["ways"], fields["too_long"]),
            "{comment}"
        );
        let ways = assembled.unwrap_or_default();
        if fields["value"] != "-" {
            assert!(
                ways.iter().any(|w| w.as_deref() == Ok(fields["value"])),
                "{comment}"
            );
        }
        let s = Session::<String>::load(&c, [header.as_bytes()]);
        let expected = Some(fields["session"]).filter(|s| *s != "-");
        assert_eq!(s.get().as_deref(), expected, "{comment}");
        seen += 1;
    }
    assert_eq!(seen, 18);
}

/// The budget is checked against the keyring's largest envelope, so a
/// session that fits now still fits when a scheduled key with a longer
/// envelope starts sealing: its re-seal fits the budget and cookies.
#[test]
fn the_budget_holds_for_the_largest_envelope_of_the_keyring() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{SystemTime, UNIX_EPOCH};

    use crate::key::{Algorithm, Key};
    use crate::keyring::KeyEntry;

    const START: u64 = 1_900_000_000;
    let at = |secs: u64| -> SystemTime { UNIX_EPOCH + Duration::from_secs(secs) };
    let clock = Arc::new(AtomicU64::new(START));
    let aes = KeyEntry::new(1, Key::try_generate().expect("rng")).algorithm(Algorithm::Aes256Gcm);
    let next = KeyEntry::new(300, Key::try_generate().expect("rng")).activate_at(at(START + 1800));
    let config_of = |ring: Keyring| {
        let clock = Arc::clone(&clock);
        let sealer = Sealer::new(ring).with_clock(move || at(clock.load(Ordering::SeqCst)));
        let options = CookieOptions::default().with_chunking(Chunking::default());
        SessionConfig::with_options(sealer, options).expect("valid")
    };
    let only_aes = config_of(Keyring::new([aes.clone()]).expect("keyring"));
    let both = config_of(Keyring::new([aes, next]).expect("keyring"));
    let largest = |c: &SessionConfig| {
        let fits = |n: usize| Session::<String>::load(c, []).set("x".repeat(n)).is_ok();
        let (mut lo, mut hi) = (100, 10_000);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let (fits_aes, fits_both) = (largest(&only_aes), largest(&both));
    assert!(fits_both + 10 < fits_aes, "{fits_both} vs {fits_aes}");
    let s = Session::<String>::load(&both, []);
    assert!(matches!(
        s.set("x".repeat(fits_aes)),
        Err(Error::Seal(SealError::TooLarge {
            max: DEFAULT_CHUNK_BUDGET,
            ..
        }))
    ));
    let mut jar = Jar::default();
    store(&mut jar, &both, fits_both).expect("fits every key");
    let before = jar.header().len();
    // After the activation the value is re-sealed under key 300: longer,
    // and still within the cookies and the budget.
    clock.store(START + 1801, Ordering::SeqCst);
    let (len, set) = jar.request(&both, |s| s.get().map(|v| v.len()));
    assert_eq!(len, Some(fits_both));
    assert!(!set.is_empty(), "re-sealed");
    assert!(set.iter().all(|h| h.len() <= MAX_COOKIE_BYTES));
    assert!(jar.header().len() > before);
    assert!(
        jar.header().len() <= DEFAULT_CHUNK_BUDGET,
        "{}",
        jar.header().len()
    );
    assert_eq!(read(&mut jar, &both), Some(fits_both));
}

/// The chunking budget is the session's maximum, never the flash's or the
/// CSRF cookie's: each is one cookie, whatever the flash TTL.
#[test]
fn the_flash_keeps_one_cookie_s_maximum() {
    let c = config();
    assert_eq!(c.sealer().max_len(), DEFAULT_CHUNK_BUDGET);
    assert_eq!(c.flash_sealer().max_len(), crate::DEFAULT_MAX_LEN);
    assert_eq!(c.csrf_sealer().max_len(), crate::DEFAULT_MAX_LEN);
    let c = c.with_flash_ttl(Duration::from_secs(60));
    assert_eq!(c.flash_sealer().max_len(), crate::DEFAULT_MAX_LEN);
    assert_eq!(c.csrf_sealer().max_len(), crate::DEFAULT_MAX_LEN);
    assert_eq!(c.sealer().max_len(), DEFAULT_CHUNK_BUDGET);
    let s = Session::<String>::load(&c, []);
    assert!(matches!(
        s.set_flash(&"x".repeat(5000)),
        Err(Error::Seal(SealError::TooLarge { .. }))
    ));
}

/// A chunked session sealed by a server whose clock is ahead (not yet
/// valid here) counts as authentic, as one cookie would: no session for
/// this request, and nothing removed. A `__Secure-` name keeps its prefix
/// on every chunk too. An idle refresh re-seals into chunks.
#[test]
fn not_yet_valid_chunks_stay_and_idle_refreshes_rechunk() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{SystemTime, UNIX_EPOCH};

    const START: u64 = 1_900_000_000;
    let keyring = Arc::new(Keyring::ephemeral().expect("rng"));
    let config_at = |clock: &Arc<AtomicU64>| {
        let clock = Arc::clone(clock);
        let sealer = Sealer::from_shared(Arc::clone(&keyring))
            .with_name("__Secure-s")
            .with_idle_timeout(Duration::from_secs(600), Duration::from_secs(60))
            .with_clock(move || -> SystemTime {
                UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst))
            });
        let options = CookieOptions::default().with_chunking(Chunking::default());
        SessionConfig::with_options(sealer, options).expect("valid")
    };
    let (ahead, here) = (
        Arc::new(AtomicU64::new(START + 600)),
        Arc::new(AtomicU64::new(START)),
    );
    let mut jar = Jar::default();
    store(&mut jar, &config_at(&ahead), 5000).expect("fits");
    assert_eq!(jar.names(), ["__Secure-s", "__Secure-s.1"]);
    let (value, set) = jar.request(&config_at(&here), |s| s.get());
    assert_eq!((value, set), (None, vec![]), "ignored, not removed");
    assert_eq!(jar.names(), ["__Secure-s", "__Secure-s.1"]);

    // Here, once the clocks agree: a read after the refresh interval
    // re-seals it, into chunks again, with a later expiry.
    here.store(START + 700, Ordering::SeqCst);
    let before = jar.clone();
    let (len, set) = jar.request(&config_at(&here), |s| s.get().map(|v| v.len()));
    assert_eq!(len, Some(5000));
    assert_eq!(set.len(), 2, "{set:?}");
    assert_ne!(jar.0, before.0, "re-sealed");
    assert_eq!(read(&mut jar, &config_at(&here)), Some(5000));
}

/// `DEFAULT_CHUNK_BUDGET`'s claim: a session at the full default budget,
/// the CSRF cookie and a flash of up to `FLASH_ROOM` bytes of message fit
/// one `Cookie:` line of Apache's 8,190 bytes (nginx allows 8,192), with
/// `OTHER_ROOM` bytes to spare for the site's own cookies; a flash near its
/// own maximum does not.
#[test]
fn the_default_budget_leaves_room_for_csrf_and_a_short_flash() {
    const LINE: usize = 8190;
    const FLASH_ROOM: usize = 300;
    const OTHER_ROOM: usize = 256;
    let c = config_named("__Host-session", Chunking::default());
    let fits = |n: usize| Session::<String>::load(&c, []).set("x".repeat(n)).is_ok();
    let (mut lo, mut hi) = (100, 10_000);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let line = |flash: usize| {
        let mut jar = Jar::default();
        jar.request(&c, |s| {
            s.set("x".repeat(lo)).expect("fits");
            s.set_flash(&"m".repeat(flash)).expect("a flash");
            s.csrf_token().expect("a token");
        });
        assert_eq!(jar.0.len(), 4, "{:?}", jar.names());
        let session: usize = jar
            .0
            .iter()
            .filter(|(n, _)| *n == "__Host-session" || n.starts_with("__Host-session."))
            .map(|(n, v)| n.len() + 1 + v.len() + 2)
            .sum::<usize>()
            - 2;
        assert!(
            session <= DEFAULT_CHUNK_BUDGET && session > DEFAULT_CHUNK_BUDGET - 64,
            "{session} {:?}",
            jar.names()
        );
        let csrf = "__Host-session-csrf=".len() + jar.0["__Host-session-csrf"].len();
        assert!((80..=160).contains(&csrf), "the CSRF cookie: {csrf}");
        "Cookie: ".len() + jar.header().len()
    };
    let with_short_flash = line(FLASH_ROOM);
    assert!(with_short_flash + OTHER_ROOM <= LINE, "{with_short_flash}");
    assert!(line(2000) > LINE, "a long flash passes the line");
}

/// `with_chunking`'s rule: a reader with a smaller budget than the writer
/// refuses a value longer than its budget (an empty session) and removes
/// its cookies, every chunk included.
#[test]
fn a_reader_with_a_smaller_budget_refuses_and_removes() {
    let large = config_named("s", Chunking::default().with_budget(14_000));
    let small = SessionConfig::with_options(
        large.sealer().clone().with_max_len(0),
        CookieOptions::default().with_chunking(Chunking::default()),
    )
    .expect("valid");
    assert_eq!(small.sealer().max_len(), DEFAULT_CHUNK_BUDGET);
    let mut jar = Jar::default();
    store(&mut jar, &large, 8000).expect("fits the larger budget");
    assert_eq!(jar.names(), ["s", "s.1", "s.2"]);
    assert_eq!(read(&mut jar, &small), None);
    assert!(jar.names().is_empty(), "{:?}", jar.names());
}

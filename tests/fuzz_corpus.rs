//! Replays every file of `fuzz/corpus/<target>/` through the body of that
//! fuzz target (`tests/fuzz_bodies/mod.rs`, the same code the targets run),
//! so the seed corpus and every crash added to it guard against regressions
//! on the stable toolchain, without cargo-fuzz.

mod fuzz_bodies;

use std::fs;
use std::path::{Path, PathBuf};

use fuzz_bodies::*;
use sealed_session::{Algorithm, Sealer};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target)
}

/// Runs `body` on every file of the target's corpus; returns how many.
fn replay(target: &str, body: impl Fn(&[u8])) -> usize {
    let dir = corpus_dir(target);
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    for path in &paths {
        // Shown with the failure if the body panics.
        println!("replaying {}", path.display());
        body(&fs::read(path).expect("corpus file"));
    }
    paths.len()
}

#[test]
fn open_corpus_replays() {
    let n = replay("open", open);
    assert!(n >= 10, "only {n} seeds");
}

#[test]
fn keyring_corpus_replays() {
    let n = replay("keyring", keyring_spec);
    assert!(n >= 10, "only {n} seeds");
}

#[test]
fn payload_corpus_replays() {
    let n = replay("payload", payload);
    assert!(n >= 5, "only {n} seeds");
}

#[test]
fn roundtrip_corpus_replays() {
    let n = replay("roundtrip", roundtrip_bytes);
    assert!(n >= 5, "only {n} seeds");
}

#[cfg(feature = "tower")]
#[test]
fn cookie_header_corpus_replays() {
    let n = replay("cookie_header", cookie_header);
    assert!(n >= 10, "only {n} seeds");
}

/// Every registered sealed value is in the `open` corpus, so the replay
/// above checks its outcome; and the register covers every outcome.
#[test]
fn register_matches_the_open_corpus() {
    let seeds: Vec<String> = fs::read_dir(corpus_dir("open"))
        .expect("open corpus")
        .map(|e| fs::read_to_string(e.expect("entry").path()).unwrap_or_default())
        .collect();
    let register = register();
    for r in &register {
        assert!(seeds.contains(&r.value), "{} is not in the corpus", r.value);
    }
    for kind in [
        "ok",
        "decode",
        "expired",
        "not-yet-valid",
        "authentication",
        "unknown-key",
    ] {
        assert!(
            register.iter().any(|r| r.bytes == kind || r.typed == kind),
            "no registered value gives {kind}"
        );
    }
}

/// Writes the sealed seeds of the `open` corpus, their register, and the
/// `cookie_header` seeds that carry sealed values. The
/// nonces are random, so every run writes different values: run it only when
/// the envelope changes, and commit both the corpus and `sealed.txt`.
///
/// `cargo test --test fuzz_corpus -- --ignored regenerate_open_seeds`
#[test]
#[ignore = "rewrites committed files"]
fn regenerate_open_seeds() {
    use std::time::Duration;

    let dir = corpus_dir("open");
    for entry in fs::read_dir(&dir).expect("open corpus") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("sealed-") {
            fs::remove_file(&path).expect("remove old seed");
        }
    }

    let session = seed_session();
    let encoded = postcard::to_allocvec(&session).expect("postcard");
    let xchacha = || sealer(keyring(&[(1, Algorithm::XChaCha20Poly1305, XCHACHA_KEY)]));
    let aes = || sealer(keyring(&[(2, Algorithm::Aes256Gcm, AES_KEY)]));
    let at = |s: Sealer, secs: i64| {
        s.with_clock(move || {
            let now = now();
            if secs < 0 {
                now - Duration::from_secs(secs.unsigned_abs())
            } else {
                now + Duration::from_secs(secs.unsigned_abs())
            }
        })
    };
    let day = 86_400;

    /// File name, value, bytes outcome, typed outcome, payload.
    type Seed = (String, String, &'static str, &'static str, Option<Vec<u8>>);
    let mut seeds: Vec<Seed> = Vec::new();
    for (alg, s) in [("xchacha", xchacha()), ("aes", aes())] {
        let name = |what: &str| format!("sealed-{alg}-{what}");
        let typed = s.seal(&session).expect("seal");
        seeds.push((name("typed"), typed, "ok", "ok", Some(encoded.clone())));
        let raw: &[u8] = b"\xff\xfe raw bytes \x00";
        let bytes = s.seal_bytes(raw).expect("seal");
        seeds.push((name("bytes"), bytes, "ok", "decode", Some(raw.to_vec())));
        let empty = s.seal_bytes(b"").expect("seal");
        seeds.push((name("empty"), empty, "ok", "decode", Some(Vec::new())));
        let expired = at(s.clone(), -2 * day).seal(&session).expect("seal");
        seeds.push((name("expired"), expired, "expired", "expired", None));
        let future = at(s.clone(), day).seal(&session).expect("seal");
        seeds.push((
            name("future"),
            future,
            "not-yet-valid",
            "not-yet-valid",
            None,
        ));
        let purpose = s
            .clone()
            .with_purpose("fuzz/v2")
            .seal(&session)
            .expect("seal");
        seeds.push((
            name("other-purpose"),
            purpose,
            "authentication",
            "authentication",
            None,
        ));
        let cookie = s.clone().with_name("other").seal(&session).expect("seal");
        seeds.push((
            name("other-name"),
            cookie,
            "authentication",
            "authentication",
            None,
        ));
    }
    let absent = sealer(keyring(&[(3, Algorithm::XChaCha20Poly1305, ABSENT_KEY)]))
        .seal(&session)
        .expect("seal");
    seeds.push((
        "sealed-absent-key".into(),
        absent,
        "unknown-key",
        "unknown-key",
        None,
    ));
    let impostor = sealer(keyring(&[(1, Algorithm::XChaCha20Poly1305, IMPOSTOR_KEY)]))
        .seal(&session)
        .expect("seal");
    seeds.push((
        "sealed-impostor-key".into(),
        impostor,
        "authentication",
        "authentication",
        None,
    ));

    let mut register = String::from(
        "# Written by tests/fuzz_corpus.rs (regenerate_open_seeds): every sealed value in\n\
         # fuzz/corpus/open/ and what opening it with fuzz_bodies::open_keyring() must give.\n\
         # VALUE BYTES_OUTCOME TYPED_OUTCOME PAYLOAD_HEX\n",
    );
    for (file, value, bytes, typed, payload) in &seeds {
        fs::write(dir.join(file), value).expect("write seed");
        let payload = payload.as_deref().map_or_else(|| "-".to_owned(), hex);
        register.push_str(&format!("{value} {bytes} {typed} {payload}\n"));
    }
    // The cookie_header seeds that carry sealed values.
    let value =
        |file: &str| -> &str { &seeds.iter().find(|s| s.0 == file).expect("sealed above").1 };
    let (a, x) = (value("sealed-aes-typed"), value("sealed-xchacha-typed"));
    let ((a1, a2), (x1, x2)) = (a.split_at(a.len() / 2), x.split_at(x.len() / 2));
    let cookie_seeds = [
        ("current-key", format!("session={a}")),
        ("retired-key-reseals", format!("session={x}")),
        ("among-others", format!("theme=dark; session={a}; lang=en")),
        ("second-header", format!("theme=dark\nsession={x}")),
        ("two-valid-tossing", format!("session={a}; session={x}")),
        ("one-valid-one-bad", format!("session=garbage; session={a}")),
        (
            "expired",
            format!("session={}", value("sealed-aes-expired")),
        ),
        (
            "undecodable",
            format!("session={}", value("sealed-aes-bytes")),
        ),
        (
            "other-purpose",
            format!("session={}", value("sealed-xchacha-other-purpose")),
        ),
        ("other-name", format!("other={a}")),
        ("name-case", format!("Session={a}")),
        ("quoted", format!("session=\"{a}\"")),
        ("spaces", format!(" session = {a} ")),
        ("padded", format!("session={a}=")),
        (
            "eight-with-valid",
            format!("{}session={a}", "session=x; ".repeat(7)),
        ),
        (
            "not-yet-valid",
            format!("session={}", value("sealed-xchacha-future")),
        ),
        (
            "not-yet-valid-beside-valid",
            format!("session={}; session={a}", value("sealed-aes-future")),
        ),
        ("unicode-space-name", format!("\u{2000}session={a}")),
        (
            "unicode-space-beside",
            format!("\u{3000}session={x}; session={a}"),
        ),
        // Chunks (read as such by the target's chunked configuration).
        ("chunked-two", format!("session=2.{a1}; session.1={a2}")),
        ("chunked-retired", format!("session=2.{x1}\nsession.1={x2}")),
        (
            "chunked-planted-past-count",
            format!("session=2.{a1}; session.1={a2}; session.2=AAAA; session.7=B"),
        ),
        (
            "chunked-count-past-max",
            format!(
                "session=6.{a1}; session.1={a2}; session.2=A; session.3=A; session.4=A; session.5=A"
            ),
        ),
        (
            "chunked-too-many-ways",
            format!(
                "session=3.{a1}; session.1={a2}; session.1=x; session.1=y; \
                 session.2=; session.2=A; session.2=B"
            ),
        ),
        (
            "chunk-names-beside-one-cookie",
            format!("session={a}; session.1=x; session.15=y; session.16=z; session.01=w"),
        ),
    ];
    let cookie_dir = corpus_dir("cookie_header");
    for (file, text) in cookie_seeds {
        fs::write(cookie_dir.join(file), text).expect("write seed");
    }
    let mut non_utf8 = format!("session={a}").into_bytes();
    non_utf8.push(0xff);
    fs::write(cookie_dir.join("non-utf8"), non_utf8).expect("write seed");
    let mut neighbour = b"legacy=\xff\xfe; ".to_vec();
    neighbour.extend_from_slice(format!("session={a}").as_bytes());
    fs::write(cookie_dir.join("non-utf8-neighbour"), neighbour).expect("write seed");

    let register_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_bodies/sealed.txt");
    fs::write(register_path, register).expect("write register");
}

/// The keyring target's leak check does catch a key shown in an error.
#[test]
#[should_panic(expected = "key material from the input is shown")]
fn the_key_material_check_bites() {
    let spec = format!("1:nope:{XCHACHA_KEY}");
    assert_no_key_material(&spec, &format!("entry 1 ({XCHACHA_KEY}) is wrong"));
}

/// A weak key shown in an error is still caught, although it does not load.
#[test]
#[should_panic(expected = "key material from the input is shown")]
fn the_key_material_check_bites_for_weak_keys() {
    let weak = "A".repeat(43);
    let spec = format!("1:xchacha20poly1305:{weak}");
    assert_no_key_material(&spec, &format!("entry 1 ({weak}) is weak"));
}

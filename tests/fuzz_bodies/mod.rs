//! The bodies of the fuzz targets in `fuzz/fuzz_targets/`.
//!
//! Each target there is one line that calls a function here, and
//! `tests/fuzz_corpus.rs` replays every file of `fuzz/corpus/<target>/`
//! through the same function on the stable toolchain. Every body is an
//! oracle, not only a panic detector: it asserts what must hold for any
//! input.
#![allow(dead_code)]

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbitrary::{Arbitrary, Unstructured};
use sealed_session::{
    Algorithm, ConfigError, EnvelopeInfo, Error, Key, KeyEntry, KeyId, KeyProblem, Keyring, Opened,
    Refusal, SealError, Sealer, DEFAULT_LEEWAY, DEFAULT_TTL, MAX_TTL,
};

/// Test keys. They are public (they are in this file): never use them for
/// anything but these tests.
pub(crate) const XCHACHA_KEY: &str = "FloxLh64_YZsGMtOj9gK-51pqqiZv-S0IoJomVgQNX0";
/// Test key for AES-256-GCM (id 2).
pub(crate) const AES_KEY: &str = "UywXnOjb773he_G5ObcjfwXIpG96DRkkA1GhlkrnEOc";
/// A key with id 3, which the opening keyring does not hold.
pub(crate) const ABSENT_KEY: &str = "ACpyfz-GVIVwqBc6SluVq_kflyO_jXxAJxGyMvHtjcM";
/// Other bytes under id 1: values sealed with it must fail authentication.
pub(crate) const IMPOSTOR_KEY: &str = "Z-mPE-gubDdR4bSN2ksIfH79OP6mwGKk5OZciLC9NXE";

/// The fixed time of every sealer here (2027-01-15T08:00:00Z), so the seed
/// corpus never expires.
pub(crate) const NOW_SECS: u64 = 1_800_000_000;
/// Cookie name of the `open` target's sealer.
pub(crate) const NAME: &str = "session";
/// Purpose of the `open` target's sealer.
pub(crate) const PURPOSE: &str = "fuzz/v1";
/// `max_len` of the second `open` sealer, which must refuse longer values
/// before decoding and otherwise agree with the first.
pub(crate) const SMALL_MAX: usize = 96;

/// The register of every sealed value in `fuzz/corpus/open/`, with what
/// opening it must give. Written by `tests/fuzz_corpus.rs`
/// (`regenerate_open_seeds`); one value a line:
/// `VALUE BYTES_OUTCOME TYPED_OUTCOME PAYLOAD_HEX` (`-` for no payload).
pub(crate) const REGISTER: &str = include_str!("sealed.txt");

/// The session type the typed seeds hold.
#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Eq, Clone)]
pub(crate) struct SeedSession {
    pub(crate) user_id: u64,
    pub(crate) name: String,
    pub(crate) roles: Vec<String>,
}

/// The session every typed seed holds.
pub(crate) fn seed_session() -> SeedSession {
    SeedSession {
        user_id: 42,
        name: "ada".into(),
        roles: vec!["admin".into(), "billing".into()],
    }
}

/// The fixed clock.
pub(crate) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// Parses one of the test keys.
pub(crate) fn key(text: &str) -> Key {
    Key::from_base64(text).expect("the test keys are valid")
}

/// A keyring of `(id, algorithm, key)` entries.
pub(crate) fn keyring(entries: &[(u32, Algorithm, &str)]) -> Keyring {
    Keyring::new(
        entries
            .iter()
            .map(|&(id, alg, k)| KeyEntry::new(id, key(k)).algorithm(alg)),
    )
    .expect("distinct ids")
}

/// A sealer with the fixed clock, name and purpose.
pub(crate) fn sealer(keyring: Keyring) -> Sealer {
    Sealer::new(keyring)
        .with_name(NAME)
        .with_purpose(PURPOSE)
        .with_clock(now)
}

/// The `open` target's keyring: id 1 XChaCha20-Poly1305, id 2 AES-256-GCM.
pub(crate) fn open_keyring() -> Keyring {
    keyring(&[
        (1, Algorithm::XChaCha20Poly1305, XCHACHA_KEY),
        (2, Algorithm::Aes256Gcm, AES_KEY),
    ])
}

struct OpenState {
    sealer: Sealer,
    small: Sealer,
    /// The same key bytes under the same ids, algorithms swapped: nothing
    /// was ever sealed under these pairs.
    swapped: Sealer,
    register: Vec<Registered>,
}

/// One line of [`REGISTER`].
pub(crate) struct Registered {
    pub(crate) value: String,
    pub(crate) bytes: String,
    pub(crate) typed: String,
    pub(crate) payload: Option<Vec<u8>>,
}

/// Parses [`REGISTER`].
pub(crate) fn register() -> Vec<Registered> {
    REGISTER
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut f = line.split(' ');
            let (Some(value), Some(bytes), Some(typed), Some(payload), None) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                panic!("bad register line: {line}");
            };
            Registered {
                value: value.to_owned(),
                bytes: bytes.to_owned(),
                typed: typed.to_owned(),
                payload: (payload != "-").then(|| unhex(payload)),
            }
        })
        .collect()
}

fn open_state() -> &'static OpenState {
    static STATE: OnceLock<OpenState> = OnceLock::new();
    STATE.get_or_init(|| OpenState {
        sealer: sealer(open_keyring()),
        small: sealer(open_keyring()).with_max_len(SMALL_MAX),
        swapped: sealer(keyring(&[
            (1, Algorithm::Aes256Gcm, XCHACHA_KEY),
            (2, Algorithm::XChaCha20Poly1305, AES_KEY),
        ])),
        register: register(),
    })
}

/// How an open ended, in the register's words.
pub(crate) fn outcome<T>(result: &Result<Opened<T>, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(Error::Refused(Refusal::Expired)) => "expired",
        Err(Error::Refused(Refusal::NotYetValid)) => "not-yet-valid",
        Err(Error::Refused(Refusal::Decode)) => "decode",
        Err(Error::Refused(Refusal::Authentication)) => "authentication",
        Err(Error::Refused(Refusal::UnknownKey(_))) => "unknown-key",
        Err(Error::Refused(Refusal::Malformed)) => "malformed",
        Err(_) => "other",
    }
}

/// `open` target: arbitrary bytes, as UTF-8 when they are and through a
/// lossy conversion when they are not, opened as raw bytes and as a typed
/// session.
///
/// The oracle: the keys are fixed but unknown to the fuzzer, and every value
/// ever sealed under them is listed in [`REGISTER`] with the outcome it must
/// have. A listed value must give exactly that outcome; any other input must
/// fail *before* authentication succeeds (malformed, too large, unsupported
/// version, unknown key, authentication failed). An `Ok`, `Expired`,
/// `NotYetValid` or `Decode` for an unlisted input means an input that was
/// never sealed got through authentication: a forgery, or an encoding
/// malleability (padding, trailing bits, another alphabet) that let a
/// sealed value open in a second spelling.
pub(crate) fn open(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        open_str(text);
    }
    if let Cow::Owned(lossy) = String::from_utf8_lossy(data) {
        open_str(&lossy);
    }
}

fn open_str(text: &str) {
    let state = open_state();
    let listed = state.register.iter().find(|r| r.value == text);
    let bytes = state.sealer.open_bytes(text);
    let typed = state.sealer.open::<SeedSession>(text);
    match listed {
        Some(r) => {
            assert_eq!(outcome(&bytes), r.bytes, "open_bytes of a registered value");
            assert_eq!(outcome(&typed), r.typed, "open of a registered value");
            if let (Ok(opened), Some(payload)) = (&bytes, &r.payload) {
                assert_eq!(&opened.value, payload);
                assert_eq!(opened.issued_at, now());
                assert_eq!(opened.expires_at, now() + DEFAULT_TTL);
            }
        }
        None => {
            check_unsealed(&bytes, text, state.sealer.max_len());
            check_unsealed(&typed, text, state.sealer.max_len());
        }
    }
    check_inspect(text, &bytes, state.sealer.max_len());
    // The length gate: refused before decoding, otherwise no difference.
    let small = state.small.open_bytes(text);
    if text.len() > SMALL_MAX {
        assert_eq!(
            small,
            Err(Error::Refused(Refusal::TooLong {
                len: text.len(),
                max: SMALL_MAX
            }))
        );
    } else {
        assert_eq!(small, bytes);
    }
    // The algorithm is the keyring's, never the value's.
    let swapped = state.swapped.open_bytes(text);
    check_unsealed(&swapped, text, state.swapped.max_len());
}

/// What a value says in clear ([`EnvelopeInfo::inspect`]) agrees with what
/// opening it gave.
fn check_inspect(text: &str, opened: &Result<Opened<Vec<u8>>, Error>, max: usize) {
    let info = EnvelopeInfo::inspect(text);
    if let Ok(info) = &info {
        assert!(matches!(info.version, 1 | 2), "{info:?}");
        assert_eq!(info.len, text.len());
    }
    if text.len() > max {
        return;
    }
    match (&info, opened) {
        (Ok(info), Ok(opened)) => assert_eq!(info.key_id, opened.key_id),
        (Ok(info), Err(Error::Refused(Refusal::UnknownKey(id)))) => assert_eq!(info.key_id, *id),
        // Refused by the key: too short for its nonce, not authentic, or
        // authentic with times or a cutoff that refuse it.
        (Ok(_), Err(Error::Refused(refusal))) => assert!(
            !matches!(
                refusal,
                Refusal::UnsupportedVersion(_) | Refusal::TooLong { .. }
            ),
            "inspect accepted what open refused as {refusal:?}"
        ),
        (Err(Error::Refused(Refusal::Malformed)), Err(Error::Refused(refusal))) => assert!(
            matches!(refusal, Refusal::Malformed | Refusal::UnknownKey(_)),
            "inspect refused as malformed what open refused as {refusal:?}"
        ),
        (Err(Error::Refused(Refusal::UnsupportedVersion(v))), Err(refused)) => {
            assert_eq!(*refused, Error::Refused(Refusal::UnsupportedVersion(*v)))
        }
        (info, opened) => panic!("inspect gave {info:?}, open {opened:?}"),
    }
}

/// What may happen to a value that was never sealed under the keyring.
fn check_unsealed<T: core::fmt::Debug>(result: &Result<Opened<T>, Error>, text: &str, max: usize) {
    match result {
        Err(Error::Refused(Refusal::TooLong { len, max: m })) => {
            assert_eq!((*len, *m), (text.len(), max));
            assert!(text.len() > max);
        }
        Err(Error::Refused(Refusal::Malformed) | Error::Refused(Refusal::Authentication)) => {
            assert!(text.len() <= max)
        }
        Err(Error::Refused(Refusal::UnsupportedVersion(v))) => assert_ne!(*v, 1),
        Err(Error::Refused(Refusal::UnknownKey(id))) => {
            assert!(*id != KeyId(1) && *id != KeyId(2), "{id}")
        }
        other => panic!("a value never sealed got past authentication: {other:?} for {text:?}"),
    }
}

/// `keyring` target: arbitrary spec strings. Never panics; a failure is one
/// of the documented errors; neither an error (Display, Debug) nor a parsed
/// keyring's Debug contains any piece of the input that is a 32-byte key.
pub(crate) fn keyring_spec(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        keyring_str(text);
    }
    if let Cow::Owned(lossy) = String::from_utf8_lossy(data) {
        keyring_str(&lossy);
    }
}

fn keyring_str(spec: &str) {
    match spec.parse::<Keyring>() {
        Ok(keyring) => {
            assert!(keyring.len() > 0);
            let ids: Vec<KeyId> = keyring.ids().collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
            assert_no_key_material(spec, &format!("{keyring:?} {keyring:#?}"));
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Config(ConfigError::Entry { .. })
                        | Error::Config(ConfigError::EmptyKeyring)
                        | Error::Config(ConfigError::DuplicateKeyId(_))
                        | Error::Config(ConfigError::NoSealingKey)
                ),
                "{e:?}"
            );
            assert_no_key_material(spec, &format!("{e} {e:?} {e:#?}"));
        }
    }
}

/// Fails if `shown` contains a piece of `input` that parses as a key.
/// Keys are 43 (unpadded) or 44 (padded) characters, so it is enough to
/// look at every window of that length of `shown`.
pub(crate) fn assert_no_key_material(input: &str, shown: &str) {
    if input.len() < 43 {
        return;
    }
    for len in [43, 44] {
        for (i, _) in shown.char_indices() {
            let Some(window) = shown.get(i..i + len) else {
                continue;
            };
            // A weak key is key material too: the randomness check must not
            // blind this oracle.
            let is_key = matches!(
                Key::from_base64(window),
                Ok(_) | Err(Error::Config(ConfigError::Key(KeyProblem::Weak)))
            );
            assert!(
                !(is_key && input.contains(window)),
                "key material from the input is shown: {shown:?}"
            );
        }
    }
}

/// Input of the `roundtrip` target.
#[derive(Arbitrary, Debug)]
pub(crate) struct RoundtripInput {
    /// Seal with the AES-256-GCM key (id 2) rather than XChaCha20-Poly1305.
    pub(crate) aes: bool,
    /// The sealer's `max_len` is the exact sealed length plus this.
    pub(crate) slack: i8,
    /// The sealing time in unix seconds (the fixed time if the platform's
    /// `SystemTime` cannot hold it), the lifetime in seconds, and when,
    /// relative to sealing, the value is opened.
    pub(crate) issued_at: u64,
    pub(crate) ttl: u64,
    pub(crate) open_after: i64,
    pub(crate) name: String,
    pub(crate) purpose: String,
    /// Another name and purpose the value must not open under.
    pub(crate) other: String,
    /// Where to replace one character of the sealed value, and with what.
    pub(crate) tamper_at: u16,
    pub(crate) tamper_with: u8,
    pub(crate) payload: Vec<u8>,
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn varint_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// The sealed length of `payload_len` bytes issued at `issued_at` for `ttl`
/// seconds, from the envelope layout in SECURITY.md (not from the crate's
/// own arithmetic).
pub(crate) fn sealed_len(
    id: u32,
    algorithm: Algorithm,
    issued_at: u64,
    ttl: u64,
    payload_len: usize,
) -> usize {
    let bin = 1
        + varint_len(u64::from(id))
        + algorithm.nonce_len()
        + varint_len(issued_at)
        + varint_len(ttl)
        + payload_len
        + 16;
    (bin * 8).div_ceil(6)
}

/// `secs` after 1970 as a `SystemTime`, if the platform can hold it.
fn at(secs: u64) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

fn roundtrip_keyrings() -> &'static [Arc<Keyring>; 4] {
    static RINGS: OnceLock<[Arc<Keyring>; 4]> = OnceLock::new();
    RINGS.get_or_init(|| {
        [
            Arc::new(keyring(&[(1, Algorithm::XChaCha20Poly1305, XCHACHA_KEY)])),
            Arc::new(keyring(&[(2, Algorithm::Aes256Gcm, AES_KEY)])),
            // The same ids and key bytes with the other algorithm.
            Arc::new(keyring(&[(1, Algorithm::Aes256Gcm, XCHACHA_KEY)])),
            Arc::new(keyring(&[(2, Algorithm::XChaCha20Poly1305, AES_KEY)])),
        ]
    })
}

/// `roundtrip` target, from raw fuzzer bytes (decoded as the fuzz target
/// does, so the corpus replays identically).
pub(crate) fn roundtrip_bytes(data: &[u8]) {
    if let Ok(input) = RoundtripInput::arbitrary_take_rest(Unstructured::new(data)) {
        roundtrip(&input);
    }
}

/// `roundtrip` target: seal then open gives the payload back, at exactly the
/// length the envelope layout predicts, and `TooLarge` exactly when that
/// length is over `max_len`; `TimeRange` exactly when the expiry does not
/// fit in 64 bits; opened at another time, it opens exactly when that time
/// is within the lifetime and leeway. The value does not open under another
/// name, another purpose, name and purpose swapped, the same key bytes with
/// the other algorithm, or with any one character replaced.
pub(crate) fn roundtrip(input: &RoundtripInput) {
    let rings = roundtrip_keyrings();
    let (id, algorithm, ring, swapped) = if input.aes {
        (2, Algorithm::Aes256Gcm, &rings[1], &rings[3])
    } else {
        (1, Algorithm::XChaCha20Poly1305, &rings[0], &rings[2])
    };
    let (issued_at, issued) = match at(input.issued_at) {
        Some(t) => (input.issued_at, t),
        None => (NOW_SECS, now()),
    };
    // A sealer lowers its TTL to MAX_TTL.
    let ttl = input.ttl.min(MAX_TTL.as_secs());
    let expected_len = sealed_len(id, algorithm, issued_at, ttl, input.payload.len());
    let max_len = expected_len.saturating_add_signed(isize::from(input.slack));
    // Both nonce schemes, picked by a field that is there anyway (so the
    // corpus keeps decoding as before).
    let nonces = if input.purpose.len() % 2 == 1 {
        sealed_session::NonceScheme::Synthetic
    } else {
        sealed_session::NonceScheme::PerThread
    };
    let sealer = Sealer::from_shared(Arc::clone(ring))
        .with_name(&input.name)
        .with_purpose(&input.purpose)
        .with_clock(move || issued)
        .with_ttl(Duration::from_secs(ttl))
        .with_max_len(max_len)
        .with_nonces(nonces);
    let Some(expires_at) = issued_at.checked_add(ttl) else {
        assert_eq!(
            sealer.seal_bytes(&input.payload),
            Err(Error::Seal(SealError::TimeRange))
        );
        return;
    };

    let sealed = match sealer.seal_bytes(&input.payload) {
        Ok(sealed) => {
            assert!(expected_len <= max_len, "{expected_len} > {max_len}");
            sealed
        }
        Err(Error::Seal(SealError::TooLarge { max, .. })) => {
            assert!(expected_len > max_len, "{expected_len} <= {max_len}");
            assert_eq!(max, max_len);
            return;
        }
        Err(e) => panic!("seal_bytes: {e:?}"),
    };
    assert_eq!(sealed.len(), expected_len);
    assert!(sealed.bytes().all(|b| BASE64URL.contains(&b)), "{sealed}");

    let opened = sealer.open_bytes(&sealed).expect("a sealed value opens");
    assert_eq!(opened.value, input.payload);
    assert_eq!(opened.key_id, KeyId(id));
    assert_eq!(opened.issued_at, issued);
    if let Some(expires) = at(expires_at) {
        assert_eq!(opened.expires_at, expires);
    }
    assert!(!opened.needs_reseal);

    // Opened at another time: within [issued - leeway, expires + leeway).
    let later = i128::from(issued_at) + i128::from(input.open_after);
    let later = u64::try_from(later.max(0)).unwrap_or(u64::MAX);
    if let Some(later_time) = at(later) {
        let leeway = DEFAULT_LEEWAY.as_secs();
        let result = sealer
            .clone()
            .with_clock(move || later_time)
            .open_bytes(&sealed);
        if issued_at > later.saturating_add(leeway) {
            assert_eq!(result, Err(Error::Refused(Refusal::NotYetValid)));
        } else if later >= expires_at.saturating_add(leeway) {
            assert_eq!(result, Err(Error::Refused(Refusal::Expired)));
        } else {
            assert_eq!(result.map(|o| o.value), Ok(input.payload.clone()));
        }
    }

    // An opener with a shorter TTL (beyond the leeway) refuses it: a value
    // is never trusted beyond the opener's own limit.
    let leeway = DEFAULT_LEEWAY.as_secs();
    if ttl > leeway {
        let shorter = sealer
            .clone()
            .with_ttl(Duration::from_secs(ttl - leeway - 1));
        assert_eq!(
            shorter.open_bytes(&sealed),
            Err(Error::Refused(Refusal::LifetimeTooLong))
        );
    }

    // Bound to name and purpose, with no ambiguity between the two.
    if input.other != input.name {
        let other = sealer.clone().with_name(&input.other);
        assert_eq!(
            other.open_bytes(&sealed),
            Err(Error::Refused(Refusal::Authentication))
        );
    }
    if input.other != input.purpose {
        let other = sealer.clone().with_purpose(&input.other);
        assert_eq!(
            other.open_bytes(&sealed),
            Err(Error::Refused(Refusal::Authentication))
        );
    }
    if input.name != input.purpose {
        let other = sealer
            .clone()
            .with_name(&input.purpose)
            .with_purpose(&input.name);
        assert_eq!(
            other.open_bytes(&sealed),
            Err(Error::Refused(Refusal::Authentication))
        );
    }
    // The algorithm comes from the keyring, not from the value.
    let other = Sealer::from_shared(Arc::clone(swapped))
        .with_name(&input.name)
        .with_purpose(&input.purpose)
        .with_clock(now)
        .with_max_len(max_len);
    assert!(matches!(
        other.open_bytes(&sealed),
        Err(Error::Refused(Refusal::Authentication) | Error::Refused(Refusal::Malformed))
    ));

    // Any one character replaced: refused (the encoding is canonical, so
    // no second spelling of the same bytes exists).
    let at = usize::from(input.tamper_at) % sealed.len();
    let with = BASE64URL[usize::from(input.tamper_with) % 64];
    if sealed.as_bytes()[at] != with {
        let mut tampered = sealed.clone().into_bytes();
        tampered[at] = with;
        let tampered = String::from_utf8(tampered).expect("ASCII");
        let result = sealer.open_bytes(&tampered);
        assert!(
            matches!(
                result,
                Err(Error::Refused(Refusal::Malformed)
                    | Error::Refused(Refusal::Authentication)
                    | Error::Refused(Refusal::UnknownKey(_))
                    | Error::Refused(Refusal::UnsupportedVersion(_)))
            ),
            "{result:?}"
        );
    }

    // The typed path carries the same bytes.
    let typed = (input.name.clone(), input.payload.clone());
    if let Ok(sealed) = sealer.seal(&typed) {
        let opened = sealer
            .open::<(String, Vec<u8>)>(&sealed)
            .expect("a sealed value opens");
        assert_eq!(opened.value, typed);
    }

    roundtrip_padded(input, &sealer, id, issued_at, ttl);
}

/// The padded half of `roundtrip`: the same input sealed with padding
/// (envelope v2), the class taken from `tamper_with` (0: a power of two,
/// else a multiple of `tamper_with * 8` bytes) and `max_len` from `slack`
/// around the padded length. The sealed length is exactly SECURITY.md's v2
/// layout, `TooLarge` exactly when that is over `max_len`; the value opens
/// to the payload (under an unpadded sealer too: every opener opens v2),
/// says version 2, and refuses any one character replaced.
fn roundtrip_padded(input: &RoundtripInput, sealer: &Sealer, id: u32, issued_at: u64, ttl: u64) {
    use sealed_session::Padding;
    let n = match input.tamper_with {
        0 => None,
        n => Some(usize::from(n) * 8),
    };
    let padding = n.map_or(Padding::power_of_two(), Padding::multiple_of);
    let plain = varint_len(issued_at)
        + varint_len(ttl)
        + varint_len(input.payload.len() as u64)
        + input.payload.len();
    let class = match n {
        None => plain.next_power_of_two(),
        Some(n) => plain.div_ceil(n) * n,
    };
    let algorithm = if input.aes {
        Algorithm::Aes256Gcm
    } else {
        Algorithm::XChaCha20Poly1305
    };
    let bin = 1 + varint_len(u64::from(id)) + algorithm.nonce_len() + class + 16;
    let expected_len = (bin * 8).div_ceil(6);
    let max_len = expected_len.saturating_add_signed(isize::from(input.slack));
    let padded_sealer = sealer.clone().with_max_len(max_len).with_padding(padding);
    let sealed = match padded_sealer.seal_bytes(&input.payload) {
        Ok(sealed) => {
            assert!(expected_len <= max_len, "{expected_len} > {max_len}");
            sealed
        }
        Err(Error::Seal(SealError::TooLarge { .. })) => {
            assert!(expected_len > max_len, "{expected_len} <= {max_len}");
            return;
        }
        Err(e) => panic!("seal_bytes padded: {e:?}"),
    };
    assert_eq!(sealed.len(), expected_len, "padded to {class}");
    let opened = padded_sealer
        .open_bytes(&sealed)
        .expect("a padded value opens");
    assert_eq!(opened.value, input.payload);
    let unpadded = sealer.clone().with_max_len(max_len);
    assert_eq!(
        unpadded.open_bytes(&sealed).map(|o| o.value),
        Ok(input.payload.clone())
    );
    assert_eq!(
        EnvelopeInfo::inspect(&sealed).map(|i| i.version).ok(),
        Some(2)
    );
    let at = usize::from(input.tamper_at) % sealed.len();
    let with = BASE64URL[usize::from(input.tamper_at.wrapping_add(1)) % 64];
    if sealed.as_bytes()[at] != with {
        let mut tampered = sealed.into_bytes();
        tampered[at] = with;
        let tampered = String::from_utf8(tampered).expect("ASCII");
        assert!(padded_sealer.open_bytes(&tampered).is_err());
    }
}

/// `cookie_header` target: arbitrary bytes as the `Cookie` header values
/// of one request (split at `\n`: several headers; a piece that is not a
/// valid header value cannot reach a server and is dropped), sent through
/// the tower adapter, with the `open` target's keyring, name, purpose and
/// clock: once without chunking, once with `Chunking::default()` (four
/// cookies).
///
/// The oracle, with the register of sealed values and a reference reading
/// of the headers written here (pairs split at `;`, SP and HTAB trimmed,
/// names compared byte for byte; with chunking, the chunks put together as
/// SECURITY.md's "Sessions over several cookies" says): the session holds
/// a value exactly when there are at most `MAX_SAME_NAME_COOKIES`
/// candidates and exactly one of them is a registered value that opens or
/// is not yet valid, and it is one that opens: then it is the registered
/// session; the response's `Set-Cookie` for the session is nothing, the
/// removal cookie, or that session re-sealed under the current key, each
/// exactly when the rules in `Session`'s docs say so, followed by the
/// removal of every chunk name (`session.1` to `session.15`) the request
/// carried, exactly when one of those is written.
#[cfg(feature = "tower")]
pub(crate) fn cookie_header(data: &[u8]) {
    use sealed_session::{Chunking, CookieOptions, SessionConfig};

    static PLAIN: OnceLock<SessionConfig> = OnceLock::new();
    static CHUNKED: OnceLock<SessionConfig> = OnceLock::new();
    let plain = PLAIN
        .get_or_init(|| SessionConfig::new(sealer(open_keyring())).expect("a valid cookie name"));
    let chunked = CHUNKED.get_or_init(|| {
        let options = CookieOptions::default().with_chunking(Chunking::default());
        SessionConfig::with_options(sealer(open_keyring()), options).expect("a valid cookie name")
    });
    let headers: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|h| http::HeaderValue::from_bytes(h).is_ok())
        .collect();
    cookie_header_with(plain, &headers, 1);
    cookie_header_with(chunked, &headers, Chunking::default().max_cookies());
}

/// The reference reading of one header's pieces: name and value, each
/// trimmed of SP and HTAB only; pieces without `=` skipped.
#[cfg(feature = "tower")]
fn pairs<'h>(headers: &[&'h [u8]]) -> Vec<(&'h [u8], &'h [u8])> {
    fn trim(mut s: &[u8]) -> &[u8] {
        while let [b' ' | b'\t', rest @ ..] = s {
            s = rest;
        }
        while let [rest @ .., b' ' | b'\t'] = s {
            s = rest;
        }
        s
    }
    headers
        .iter()
        .flat_map(|h| h.split(|&b| b == b';'))
        .filter_map(|piece| {
            let eq = piece.iter().position(|&b| b == b'=')?;
            Some((trim(&piece[..eq]), trim(&piece[eq + 1..])))
        })
        .collect()
}

/// The chunk index of a pair name, by SECURITY.md's rule: `NAME` is 0,
/// `NAME.i` is `i` for a decimal without sign or leading zero, 1 to 15.
#[cfg(feature = "tower")]
fn chunk_of(name: &[u8]) -> Option<usize> {
    let rest = name.strip_prefix(NAME.as_bytes())?;
    if rest.is_empty() {
        return Some(0);
    }
    let digits = core::str::from_utf8(rest.strip_prefix(b".")?).ok()?;
    let i: usize = digits.parse().ok()?;
    (digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
        && (1..=15).contains(&i))
    .then_some(i)
}

/// The candidate values of a request (`Err` for one that cannot open:
/// not UTF-8, a bad count, a missing chunk), or `None` when there are too
/// many and none is used, by the reference reading: `max` 1 is one cookie
/// per value; more puts chunks together.
#[cfg(feature = "tower")]
fn candidates(pairs: &[(&[u8], &[u8])], max: usize) -> Option<Vec<Result<String, ()>>> {
    use sealed_session::MAX_SAME_NAME_COOKIES as CAP;
    let of = |i: usize| -> Vec<&[u8]> {
        pairs
            .iter()
            .filter(|(n, _)| chunk_of(n) == Some(i))
            .map(|(_, v)| *v)
            .collect()
    };
    let chunks: Vec<Vec<&[u8]>> = (0..max).map(of).collect();
    if chunks.iter().any(|c| c.len() > CAP) {
        return None;
    }
    let text = |v: &[u8]| core::str::from_utf8(v).map(str::to_owned).map_err(|_| ());
    let mut ways = Vec::new();
    for first in &chunks[0] {
        let Ok(first) = core::str::from_utf8(first) else {
            ways.push(Err(()));
            continue;
        };
        let Some((count, piece)) = first.split_once('.') else {
            ways.push(Ok(first.to_owned()));
            continue;
        };
        let count = count
            .parse::<usize>()
            .ok()
            .filter(|_| count.bytes().all(|b| b.is_ascii_digit()) && !count.starts_with('0'))
            .filter(|n| (2..=max).contains(n));
        let Some(count) = count else {
            ways.push(Err(()));
            continue;
        };
        let rest = &chunks[1..count];
        if rest.iter().any(Vec::is_empty) {
            ways.push(Err(()));
            continue;
        }
        // Every choice of one value per chunk name, in index order.
        let mut joined: Vec<Result<String, ()>> = vec![Ok(piece.to_owned())];
        for values in rest {
            joined = joined
                .iter()
                .flat_map(|so_far| {
                    values.iter().map(move |v| {
                        let mut s = so_far.clone()?;
                        s.push_str(&text(v)?);
                        Ok(s)
                    })
                })
                .collect();
            if joined.len() > CAP {
                return None;
            }
        }
        ways.extend(joined);
        if ways.len() > CAP {
            return None;
        }
    }
    // One-way first chunks count too.
    (ways.len() <= CAP).then_some(ways)
}

/// One request through the tower adapter under `config` (`max` cookies),
/// checked against the reference reading of `headers`.
#[cfg(feature = "tower")]
fn cookie_header_with(config: &sealed_session::SessionConfig, headers: &[&[u8]], max: usize) {
    use sealed_session::tower::{SessionExt, SessionLayer};
    use sealed_session::{Session, DEFAULT_MAX_LEN};
    use std::future::Future as _;
    use std::sync::Mutex;
    use std::task::{Context, Poll, Waker};
    use tower_layer::Layer as _;
    use tower_service::Service;

    /// The handler: records what the session held.
    #[derive(Clone)]
    struct Handler(Arc<Mutex<Option<Option<SeedSession>>>>);

    impl Service<http::Request<()>> for Handler {
        type Response = http::Response<()>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<http::Response<()>, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: http::Request<()>) -> Self::Future {
            let session: Session<SeedSession> = req.session().expect("the layer ran");
            *self.0.lock().expect("not poisoned") = Some(session.get());
            std::future::ready(Ok(http::Response::new(())))
        }
    }

    let pairs = pairs(headers);
    let read = |name: &str| -> Vec<Result<&str, core::str::Utf8Error>> {
        pairs
            .iter()
            .filter(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| core::str::from_utf8(v))
            .collect()
    };
    let values = read(NAME);
    // The flash and CSRF cookies, read in the same pass: never taken or
    // checked here, so each is removed only when it came alone and cannot
    // be one at all (not UTF-8, or too long to be a sealed value). Several
    // (one may be planted) are never removed for that. Each is one cookie,
    // chunking or not.
    let unusable = |name: &str| {
        let found = read(name);
        found.len() == 1 && found[0].map_or(true, |f| f.len() > DEFAULT_MAX_LEN)
    };
    let flash_removed = unusable(&format!("{NAME}-flash"));
    let csrf_removed = unusable(&format!("{NAME}-csrf"));
    let names: usize = headers.iter().map(|h| count(h, NAME.as_bytes())).sum();
    assert!(
        values.len() <= names,
        "{} values, {names} names",
        values.len()
    );
    for value in values.iter().flatten() {
        assert!(
            headers.iter().any(|h| find(h, value.as_bytes())),
            "{value:?} is not in the headers"
        );
    }
    // The chunk names carried (1 to 15), whatever the maximum.
    let mut carried: Vec<usize> = pairs
        .iter()
        .filter_map(|(n, _)| chunk_of(n))
        .filter(|&i| i > 0)
        .collect();
    carried.sort_unstable();
    carried.dedup();
    // What is read: the session's own name alone without chunking; with
    // it, any chunk name (one past the maximum included: it is refused).
    let came = if max > 1 {
        !values.is_empty() || !carried.is_empty()
    } else {
        !values.is_empty()
    };
    let ways = candidates(&pairs, max);

    let register = &open_state().register;
    let registered =
        |v: &str, outcome: &str| register.iter().any(|r| r.value == v && r.typed == outcome);
    let ways_ok: Vec<&str> = ways
        .iter()
        .flatten()
        .flatten()
        .map(String::as_str)
        .collect();
    let opening: Vec<&str> = ways_ok
        .iter()
        .copied()
        .filter(|v| registered(v, "ok"))
        .collect();
    // Authentic but not yet valid: ignored, never removed.
    let early = ways_ok
        .iter()
        .filter(|v| registered(v, "not-yet-valid"))
        .count();
    let authentic = opening.len() + early;
    let candidates = came && ways.is_some();
    let expect_session = candidates && authentic == 1 && opening.len() == 1;

    // One request through the adapter.
    let seen = Arc::new(Mutex::new(None));
    let mut service =
        SessionLayer::<SeedSession>::new(config.clone()).layer(Handler(Arc::clone(&seen)));
    let mut request = http::Request::new(());
    for header in headers {
        let value = http::HeaderValue::from_bytes(header).expect("filtered");
        request.headers_mut().append(http::header::COOKIE, value);
    }
    let mut future = std::pin::pin!(service.call(request));
    let Poll::Ready(Ok(response)) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("the handler answers at once");
    };
    let got = seen
        .lock()
        .expect("not poisoned")
        .take()
        .expect("the handler ran");
    assert_eq!(got.is_some(), expect_session, "{values:?} max {max}");
    if let Some(got) = &got {
        assert_eq!(got, &seed_session());
    }

    let all: Vec<&str> = response
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect();
    let flash_prefix = format!("{NAME}-flash=");
    let csrf_prefix = format!("{NAME}-csrf=");
    let chunk_prefix = format!("{NAME}.");
    let (flash_cookies, rest): (Vec<&str>, Vec<&str>) =
        all.iter().partition(|h| h.starts_with(&flash_prefix));
    let (csrf_cookies, rest): (Vec<&str>, Vec<&str>) =
        rest.iter().partition(|h| h.starts_with(&csrf_prefix));
    let (chunk_cookies, set_cookies): (Vec<&str>, Vec<&str>) =
        rest.iter().partition(|h| h.starts_with(&chunk_prefix));
    assert!(
        set_cookies.len() <= 1 && flash_cookies.len() <= 1 && csrf_cookies.len() <= 1,
        "one decision per cookie: {all:?}"
    );
    let flash_removal = "session-flash=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0";
    assert_eq!(
        flash_cookies.first().copied(),
        flash_removed.then_some(flash_removal),
        "flash cookies"
    );
    let csrf_removal = "session-csrf=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0";
    assert_eq!(
        csrf_cookies.first().copied(),
        csrf_removed.then_some(csrf_removal),
        "CSRF cookies"
    );
    // Every registered session fits one cookie, so a re-seal is one cookie
    // and every carried chunk name is removed with whatever is written.
    let chunk_removals: Vec<String> = if set_cookies.is_empty() {
        Vec::new()
    } else {
        carried
            .iter()
            .map(|i| format!("{NAME}.{i}=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"))
            .collect()
    };
    assert_eq!(chunk_cookies, chunk_removals, "chunk removals, max {max}");
    let stale = expect_session
        && config
            .sealer()
            .open::<SeedSession>(opening[0])
            .expect("registered as opening")
            .needs_reseal;
    let removal = "session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0";
    match set_cookies.first() {
        None => assert!(!candidates || authentic >= 2 || (authentic == 1 && !stale)),
        Some(&h) if h == removal => {
            assert!(
                candidates && authentic == 0,
                "removal for {values:?} max {max}"
            );
        }
        Some(h) => {
            assert!(stale, "unexpected Set-Cookie {h:?}");
            let value = h
                .strip_prefix("session=")
                .and_then(|rest| rest.split(';').next())
                .expect("session=VALUE; attributes");
            let opened = config
                .sealer()
                .open::<SeedSession>(value)
                .expect("the re-sealed value opens");
            assert_eq!(opened.value, seed_session());
            assert!(!opened.needs_reseal);
            assert_eq!(opened.issued_at, now());
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// A unit struct, a newtype and a tuple struct, for [`Shapes`].
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub(crate) struct Marker;
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub(crate) struct Wrapper(u32);
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub(crate) struct Couple(u8, i16);

/// The shapes derived and std types read with, for the `payload` target:
/// integers of every width, floats, chars, strings, byte sequences,
/// options, unit, unit struct, newtype, tuple struct, struct variant,
/// sequences, arrays, maps, enums and recursion. (Borrowed texts and bytes,
/// and the methods no derive calls, are the reader's unit tests' part.)
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub(crate) enum Shapes {
    Unit,
    Flag(bool),
    Small(u8, i8),
    Ints(u16, u32, u64, usize),
    Signed(i16, i32, i64, isize),
    Wide(u128, i128),
    Floats(f32, f64),
    Char(char),
    Text(String),
    Bytes(Vec<u8>),
    Pairs(Vec<(u32, u16)>),
    Array([u8; 4]),
    Map(std::collections::BTreeMap<String, u8>),
    Ip(std::net::IpAddr),
    Maybe(Option<Box<Shapes>>),
    List(Vec<Shapes>),
    Record {
        a: u8,
        b: Option<String>,
        c: Box<Shapes>,
    },
    Structs(Marker, Wrapper, Couple),
}

/// `payload` target: arbitrary bytes as the payload of a sealed value,
/// opened as several types.
///
/// The oracle is postcard 1 itself, whose format the payload is: a typed
/// open gives a value exactly when `postcard::take_from_bytes` reads one
/// from all of the bytes, the same value (compared by what postcard writes
/// for it), and is refused as `Decode` exactly when postcard refuses the
/// bytes or leaves some unread.
pub(crate) fn payload(data: &[u8]) {
    static SEALER: OnceLock<Sealer> = OnceLock::new();
    let sealer = SEALER.get_or_init(|| sealer(open_keyring()).with_max_len(1 << 16));
    let Ok(value) = sealer.seal_bytes(data) else {
        return; // past even this `max_len`
    };
    read_as::<SeedSession>(sealer, &value, data);
    read_as::<Shapes>(sealer, &value, data);
    read_as::<(u16, u32, u64, usize, u128)>(sealer, &value, data);
    read_as::<(i16, i32, i64, isize, i128)>(sealer, &value, data);
    read_as::<(bool, char, Option<String>, f32)>(sealer, &value, data);
    read_as::<Vec<(u32, u16)>>(sealer, &value, data);
    read_as::<std::collections::BTreeMap<u16, Vec<u8>>>(sealer, &value, data);
}

fn read_as<T>(sealer: &Sealer, value: &str, payload: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + core::fmt::Debug,
{
    let written = |v: &T| postcard::to_allocvec(v).expect("a read value writes");
    let opened = match sealer.open::<T>(value) {
        Ok(opened) => Some(opened.value),
        Err(Error::Refused(Refusal::Decode)) => None,
        Err(other) => panic!("a sealed value refused as {other:?}"),
    };
    let reference = match postcard::take_from_bytes::<T>(payload) {
        Ok((read, [])) => Some(read),
        _ => None,
    };
    assert_eq!(
        opened.as_ref().map(written),
        reference.as_ref().map(written),
        "{} from {}: opened {opened:?}, postcard {reference:?}",
        core::any::type_name::<T>(),
        hex(payload),
    );
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

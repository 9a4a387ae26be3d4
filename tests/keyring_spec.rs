//! Keyring spec strings: every error names the entry and the problem and
//! never repeats secret material; Debug shows no keys.

use sealed_session::{
    Algorithm, ConfigError, Error, Key, KeyEntry, KeyId, KeyProblem, Keyring, Sealer,
};
use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

const K1: &str = "9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ";
const K2: &str = "Fw6w2bqeiVI8y5_RoS3lXRkGIxEXeVHC2C7uF93r0Zw";
/// 32 bytes of typed text, base64url: refused as not random.
const WEAK: &str = "bXkgdmVyeSBzZWNyZXQgc2Vzc2lvbiBrZXkgMTIzNDU";

fn entry_error(spec: &str) -> (usize, KeyProblem) {
    match spec.parse::<Keyring>() {
        Err(Error::Config(ConfigError::Entry { entry, problem })) => (entry, problem),
        other => panic!("{spec:?}: expected an entry error, got {other:?}"),
    }
}

#[test]
fn a_valid_spec_parses_in_any_separator_style() {
    for spec in [
        format!("1:xchacha20poly1305:{K1},2:aes256gcm:{K2}"),
        format!("  1:xchacha20poly1305:{K1}\n\t2:aes256gcm:{K2}\n"),
        format!("1:xchacha20poly1305:{K1}, 2:aes256gcm:{K2}@1"),
        format!("2:aes256gcm:{K2}@2030-01-01T00:00:00Z 1:xchacha20poly1305:{K1}"),
    ] {
        let ring: Keyring = spec.parse().expect("parses");
        assert_eq!(ring.len(), 2);
        assert_eq!(ring.algorithm(KeyId(2)), Some(Algorithm::Aes256Gcm));
        assert_eq!(ring.algorithm(KeyId(1)), Some(Algorithm::XChaCha20Poly1305));
    }
}

/// What Windows editors write: a byte-order mark first, `\r\n` line ends.
/// The same keyring, not "entry 1: key id is not a whole number".
#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_the_same_keyring() {
    let plain = format!("1:xchacha20poly1305:{K1}\n2:aes256gcm:{K2}\n");
    let windows = format!("\u{feff}1:xchacha20poly1305:{K1}\r\n2:aes256gcm:{K2}\r\n");
    let plain: Keyring = plain.parse().expect("parses");
    let windows: Keyring = windows.parse().expect("parses");
    assert_eq!(windows.fingerprint(), plain.fingerprint());
    // Only at the start: elsewhere it is a bad entry.
    assert_eq!(
        entry_error(&format!(
            "1:xchacha20poly1305:{K1} \u{feff}2:aes256gcm:{K2}"
        ))
        .0,
        2
    );
}

#[test]
fn standard_base64_and_padding_are_accepted_for_keys() {
    // What `openssl rand -base64 32` prints.
    let spec = "4:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ=";
    assert!(spec.parse::<Keyring>().is_ok());
    let spec = "4:xchacha20poly1305:Fw6w2bqeiVI8y5/RoS3lXRkGIxEXeVHC2C7uF93r0Zw=";
    assert!(spec.parse::<Keyring>().is_ok());
}

/// Ids run from 0 to 4294967295: both ends parse, seal, open, and name
/// their key in the value (4294967296 is refused, below).
#[test]
fn ids_from_zero_to_u32_max_seal_and_open() {
    for id in [0u32, 127, 128, u32::MAX] {
        let ring: Keyring = format!("{id}:xchacha20poly1305:{K1}")
            .parse()
            .expect("parses");
        let sealer = Sealer::new(ring);
        let value = sealer.seal(&"a session").expect("seals");
        let opened = sealer.open::<String>(&value).expect("opens");
        assert_eq!(
            (opened.key_id, opened.value.as_str()),
            (KeyId(id), "a session")
        );
        let info = sealed_session::EnvelopeInfo::inspect(&value).expect("clear part");
        assert_eq!(info.key_id, KeyId(id));
    }
}

#[test]
fn each_bad_entry_is_named_with_its_problem() {
    let ok = format!("1:xchacha20poly1305:{K1}");
    let cases: Vec<(String, KeyProblem)> = vec![
        (format!("{ok},x:xchacha20poly1305:{K2}"), KeyProblem::Id),
        (format!("{ok},-2:xchacha20poly1305:{K2}"), KeyProblem::Id),
        (
            format!("{ok},4294967296:xchacha20poly1305:{K2}"),
            KeyProblem::Id,
        ),
        (format!("{ok},:xchacha20poly1305:{K2}"), KeyProblem::Id),
        (format!("{ok},2:aes128gcm:{K2}"), KeyProblem::Algorithm),
        (format!("{ok},2:{K2}"), KeyProblem::Shape),
        (format!("{ok},2:aes256gcm:{K2}:extra"), KeyProblem::Shape),
        (
            format!("{ok},2:aes256gcm:{}", &K2[..42]),
            KeyProblem::Length(31),
        ),
        (format!("{ok},2:aes256gcm:{K2}AA"), KeyProblem::Length(33)),
        (format!("{ok},2:aes256gcm:{K1}{K2}"), KeyProblem::Length(64)),
        (
            format!("{ok},2:aes256gcm:not*base64*at*all*but*long*enough*to*be*a*key"),
            KeyProblem::Encoding,
        ),
        (
            format!("{ok},2:aes256gcm:{K2}@tomorrow"),
            KeyProblem::Activation,
        ),
        (
            format!("{ok},2:aes256gcm:{K2}@2030-02-30T00:00:00Z"),
            KeyProblem::Activation,
        ),
        (format!("{ok},2:aes256gcm:{K2}@"), KeyProblem::Activation),
        (
            format!("{ok},2:aes256gcm:{K2}@1969-12-31T23:59:59Z"),
            KeyProblem::Activation,
        ),
        (format!("{ok},2:AES-256-GCM:{K2}"), KeyProblem::Algorithm),
        (format!("{ok},2:aes256gcm:{K2}=="), KeyProblem::Encoding),
        (
            format!("{ok},2:aes256gcm:{}", "A".repeat(43)),
            KeyProblem::Weak,
        ),
    ];
    for (spec, problem) in cases {
        assert_eq!(entry_error(&spec), (2, problem), "{spec}");
    }
    assert_eq!(entry_error(&format!("junk {ok}")), (1, KeyProblem::Shape));
}

#[test]
fn ring_level_problems_are_clear_errors() {
    assert_eq!(
        "".parse::<Keyring>().err(),
        Some(Error::Config(ConfigError::EmptyKeyring))
    );
    assert_eq!(
        " , \n".parse::<Keyring>().err(),
        Some(Error::Config(ConfigError::EmptyKeyring))
    );
    assert_eq!(
        format!("3:xchacha20poly1305:{K1} 3:aes256gcm:{K2}")
            .parse::<Keyring>()
            .err(),
        Some(Error::Config(ConfigError::DuplicateKeyId(KeyId(3))))
    );
    assert_eq!(
        format!("3:xchacha20poly1305:{K1}@2999-01-01T00:00:00Z")
            .parse::<Keyring>()
            .err(),
        Some(Error::Config(ConfigError::NoSealingKey))
    );
    assert_eq!(
        Keyring::new([]).err(),
        Some(Error::Config(ConfigError::EmptyKeyring))
    );
}

#[test]
fn from_env_reads_the_variable_and_reports_a_missing_one() {
    std::env::set_var(
        "SEALED_SESSION_TEST_KEYS",
        format!("1:xchacha20poly1305:{K1}"),
    );
    assert_eq!(
        Keyring::from_env("SEALED_SESSION_TEST_KEYS")
            .expect("parses")
            .len(),
        1
    );
    let missing = Keyring::from_env("SEALED_SESSION_TEST_NOT_SET").expect_err("not set");
    assert_eq!(
        missing,
        Error::Config(ConfigError::EnvNotSet {
            var: "SEALED_SESSION_TEST_NOT_SET".into()
        })
    );
    // The message names the variable and what to put in it.
    assert!(
        missing
            .to_string()
            .starts_with("SEALED_SESSION_TEST_NOT_SET is not set: set it to a keyring spec"),
        "{missing}"
    );
}

/// Every rendering of every error, and of every Debug, is free of the keys.
#[test]
fn no_secret_material_in_errors_or_debug() {
    let k1 = Key::from_base64(K1).expect("key");
    let fragments = [
        K1,
        &K1[..20],
        &K1[20..],
        K2,
        &K2[..20],
        &K2[20..],
        WEAK,
        &WEAK[..20],
        &WEAK[20..],
    ];
    let mut rendered = vec![format!("{k1:?}"), format!("{k1:#?}")];
    let specs = [
        format!("1:xchacha20poly1305:{K1}x"),
        format!("1:xchacha20poly1305:{K1}=="),
        format!("1:xchacha20poly1305:{WEAK}"),
        format!("1:AES-256-GCM:{K1}"),
        format!("1:xchacha20poly1305:{K1}{K2}"),
        format!("{K1}:xchacha20poly1305:{K2}"),
        format!("1:{K1}:{K2}"),
        format!("1:xchacha20poly1305:{K1}@{K2}"),
        K1.to_string(),
        format!("{K1}:{K2}"),
        format!("1:xchacha20poly1305:{K1},1:xchacha20poly1305:{K2}"),
    ];
    for spec in &specs {
        let err = spec.parse::<Keyring>().expect_err("bad spec");
        rendered.push(err.to_string());
        rendered.push(format!("{err:?}"));
    }
    let ring: Keyring = format!("1:xchacha20poly1305:{K1} 2:aes256gcm:{K2}@1")
        .parse()
        .expect("ok");
    rendered.push(format!("{ring:?} {ring:#?}"));
    let sealer = Sealer::new(ring);
    rendered.push(format!("{sealer:?} {sealer:#?}"));
    for key in [K1, K2] {
        let entry = KeyEntry::new(1, Key::from_base64(key).expect("key"));
        rendered.push(format!("{entry:?} {entry:#?}"));
    }
    let forms: Vec<String> = [K1, K2, WEAK]
        .iter()
        .flat_map(|key| key_forms(&URL_SAFE_NO_PAD.decode(key).expect("base64url")))
        .collect();
    for text in &rendered {
        for fragment in fragments {
            assert!(!text.contains(fragment), "{text:?} contains key material");
        }
        // Nor the raw bytes in any other form (numbers compared with the
        // whitespace of any indentation taken out).
        let squashed: String = text.split_whitespace().collect();
        for form in &forms {
            assert!(
                !text.contains(form.as_str()) && !squashed.contains(form.as_str()),
                "{text:?} contains {form:?}"
            );
        }
    }
}

/// Every four bytes of `key` as a `Debug` list of numbers, decimal or hex
/// (without spaces), as hex digits in either case, and every six of them
/// as base64 in both alphabets, at every alignment.
fn key_forms(key: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut forms = Vec::new();
    for w in key.windows(4) {
        for list in [
            format!("{w:?}"),
            format!("{w:x?}"),
            format!("{w:X?}"),
            format!("{w:#x?}"),
            format!("{w:#X?}"),
        ] {
            let list: String = list.split_whitespace().collect();
            forms.push(list.trim_matches(['[', ']']).to_owned());
        }
        let hex: String = w.iter().map(|b| format!("{b:02x}")).collect();
        forms.push(hex.to_uppercase());
        forms.push(hex);
    }
    for w in key.windows(6) {
        forms.push(URL_SAFE_NO_PAD.encode(w));
        forms.push(STANDARD_NO_PAD.encode(w));
    }
    forms
}

/// Finding 12: a key of the right length with wrong padding was reported
/// as "key is 32 bytes, expected 32".
#[test]
fn bad_padding_is_an_encoding_error_not_a_length() {
    for key in [
        format!("{K1}=="),
        format!("{K1}==="),
        format!("{}={}", &K1[..21], &K1[21..]),
        format!("{}=", &K2[..42]),
    ] {
        let spec = format!("1:xchacha20poly1305:{key}");
        assert_eq!(entry_error(&spec), (1, KeyProblem::Encoding), "{key}");
        let shown = spec.parse::<Keyring>().expect_err("bad").to_string();
        assert!(!shown.contains("32 bytes"), "{shown}");
    }
    assert!(format!("1:xchacha20poly1305:{K1}=")
        .parse::<Keyring>()
        .is_ok());
}

/// Finding 12: spellings the documentation does not list
/// (`AES-256-GCM`, other case, `-`/`_`) were accepted in specs.
#[test]
fn algorithm_spellings_outside_the_docs_are_refused() {
    for alg in ["xchacha20poly1305", "aes256gcm"] {
        assert!(format!("1:{alg}:{K1}").parse::<Keyring>().is_ok(), "{alg}");
    }
    for alg in [
        "AES-256-GCM",
        "AES256GCM",
        "aes_256_gcm",
        "XChaCha20-Poly1305",
        "XCHACHA20POLY1305",
        "xchacha20-poly1305",
    ] {
        assert_eq!(
            entry_error(&format!("1:{alg}:{K1}")),
            (1, KeyProblem::Algorithm),
            "{alg}"
        );
    }
}

/// Finding 12: `KeyEntry::activate_at` said times before 1970 count as
/// 1970, while specs refused them. Both refuse them now.
#[test]
fn activation_before_1970_is_refused_everywhere() {
    let key = || Key::from_base64(K1).expect("key");
    let before = UNIX_EPOCH - Duration::from_secs(1);
    assert_eq!(
        Keyring::new([KeyEntry::new(1, key()).activate_at(before)]).err(),
        Some(Error::Config(ConfigError::Key(KeyProblem::Activation)))
    );
    assert_eq!(
        Keyring::new([
            KeyEntry::new(1, key()),
            KeyEntry::new(2, Key::from_base64(K2).expect("key")).activate_at(before),
        ])
        .err(),
        Some(Error::Config(ConfigError::Key(KeyProblem::Activation)))
    );
    let ring = Keyring::new([KeyEntry::new(1, key()).activate_at(UNIX_EPOCH)]).expect("1970");
    assert_eq!(ring.sealing_key_id(UNIX_EPOCH).ok(), Some(KeyId(1)));
    // A later call replaces an earlier one.
    let entry = KeyEntry::new(1, key())
        .activate_at(before)
        .activate_at(UNIX_EPOCH);
    assert!(Keyring::new([entry]).is_ok());
    // The same times in a spec.
    for at in ["1969-12-31T23:59:59Z", "-1", "0000-01-01T00:00:00Z"] {
        assert_eq!(
            entry_error(&format!("1:xchacha20poly1305:{K1}@{at}")),
            (1, KeyProblem::Activation),
            "{at}"
        );
    }
    for at in ["1970-01-01T00:00:00Z", "0"] {
        assert!(format!("1:xchacha20poly1305:{K1}@{at}")
            .parse::<Keyring>()
            .is_ok());
    }
}

/// Finding 10: weak keys in a spec are refused, named by entry and problem,
/// never by their text; generated keys always pass.
#[test]
fn weak_keys_are_refused() {
    let ok = format!("1:xchacha20poly1305:{K1}");
    let weak = [
        "A".repeat(43),                                            // 32 zero bytes
        format!("{}=", "A".repeat(43)),                            // the same, padded
        "_".repeat(42) + "8",                                      // 32 0xff bytes
        WEAK.to_string(), // "my very secret session key 12345"
        "changemepleasechangemepleasechangemepleaseA".to_string(), // typed as base64
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopA".to_string(), // the alphabet
    ];
    for key in &weak {
        let spec = format!("{ok} 2:aes256gcm:{key}");
        assert_eq!(entry_error(&spec), (2, KeyProblem::Weak), "{key}");
        let err = spec.parse::<Keyring>().expect_err("weak");
        assert_eq!(
            err.to_string(),
            "keyring entry 2: key is not random: generate one with `openssl rand -base64 32`"
        );
        assert_eq!(
            Key::from_base64(key).err(),
            Some(Error::Config(ConfigError::Key(KeyProblem::Weak))),
            "{key}"
        );
    }
    // The known-answer vectors' keys are patterns on purpose: refused on
    // every checked path, usable only through the unchecked constructor.
    for v in include_str!("vectors/v1.txt").lines() {
        if let Some(key) = v.strip_prefix("key = ") {
            assert_eq!(
                Key::from_base64(key).err(),
                Some(Error::Config(ConfigError::Key(KeyProblem::Weak))),
                "{key}"
            );
            let spec = format!("1:xchacha20poly1305:{key}");
            assert_eq!(entry_error(&spec), (1, KeyProblem::Weak), "{key}");
        }
    }
    assert_eq!(
        Key::try_from(&[0u8; 32][..]).err(),
        Some(Error::Config(ConfigError::Key(KeyProblem::Weak)))
    );
    assert!(Keyring::new([KeyEntry::new(1, Key::insecure_from_bytes(&[0; 32]))]).is_ok());
    // Generated keys always pass, in a spec too.
    for id in 0..1000u32 {
        let key = Key::try_generate().expect("os rng");
        let spec = format!("{id}:xchacha20poly1305:{}", key.to_base64());
        assert!(spec.parse::<Keyring>().is_ok());
    }
}

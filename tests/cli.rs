//! The operator command, run as the real binary: each subcommand's output,
//! its exit status, and that no output ever holds key material (keygen's
//! own fresh key aside).
#![cfg(feature = "cli")]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sealed_session::{Algorithm, ConfigError, Error, Key, KeyId, Keyring, Sealer};

const BIN: &str = env!("CARGO_BIN_EXE_sealed-session");

/// What one run printed, and its exit status.
#[derive(Debug)]
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn has_line(&self, prefix: &str) -> bool {
        self.stdout.lines().any(|l| l.starts_with(prefix))
    }

    fn line(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{}", self.stdout))
    }

    fn warnings(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("warning["))
            .collect()
    }
}

/// Runs the command with `args`, `stdin` and `env`, with neither keyring
/// variable set unless `env` sets it.
fn run_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("SESSION_KEYS")
        .env_remove("SESSION_KEYS_FILE")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(input) = stdin {
        let written = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes());
        // A command that refuses its arguments exits without reading.
        if let Err(e) = written {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writes stdin: {e}"
            );
        }
    }
    let out = child.wait_with_output().expect("the binary runs");
    let run = Run {
        status: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).expect("utf-8"),
        stderr: String::from_utf8(out.stderr).expect("utf-8"),
    };
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    run
}

fn run(args: &[&str]) -> Run {
    run_with(args, None, &[])
}

/// Fails if any 8 characters in a row of any key appear in any output.
fn assert_no_key_material(runs: &[&Run], keys: &[&str]) {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    for run in runs {
        for key in keys {
            // The key as given, and its bytes as hex (how check values
            // print) and as standard base64.
            let mut forms: Vec<String> = key
                .as_bytes()
                .windows(8)
                .map(|w| std::str::from_utf8(w).expect("ascii").to_owned())
                .collect();
            if let Ok(bytes) = URL_SAFE_NO_PAD.decode(key) {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                forms.extend(
                    hex.as_bytes()
                        .windows(12)
                        .map(|w| std::str::from_utf8(w).expect("ascii").to_owned()),
                );
                forms.extend(bytes.windows(6).map(|w| STANDARD_NO_PAD.encode(w)));
            }
            let (stdout, stderr) = (run.stdout.to_lowercase(), run.stderr.to_lowercase());
            for form in &forms {
                // Hex in either case; the rest as it is.
                let found = if form.bytes().all(|b| b.is_ascii_hexdigit()) {
                    stdout.contains(form.as_str()) || stderr.contains(form.as_str())
                } else {
                    run.stdout.contains(form.as_str()) || run.stderr.contains(form.as_str())
                };
                assert!(!found, "key material {form:?} in {run:?}");
            }
        }
    }
}

fn fresh_key() -> String {
    Key::try_generate().expect("a key").to_base64()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A time the command printed, read back through the keyring spec parser
/// (which takes the same form).
fn parse_time(text: &str, any_key: &str) -> SystemTime {
    let spec = format!("1:xchacha20poly1305:{any_key} revoke-before={text}");
    Keyring::parse_planned(&spec)
        .expect("a time in spec form")
        .revoked_before()
        .expect("a cutoff")
}

/// A directory for one test's keyring files, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("sealed-session-cli-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Dir(dir)
    }

    fn file(&self, name: &str, content: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("writes");
        path.to_str().expect("utf-8 path").to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// keygen

#[test]
fn keygen_prints_an_entry_a_server_accepts() {
    let first = run(&["keygen"]);
    assert_eq!(first.status, 0, "{first:?}");
    let entry = first.stdout.trim();
    assert_eq!(first.stdout.lines().count(), 1);
    // Parsed as a server parses SESSION_KEYS, randomness check included.
    let keyring: Keyring = entry.parse().expect("a keyring");
    assert_eq!(keyring.ids().collect::<Vec<_>>(), [KeyId(1)]);
    assert_eq!(
        keyring.algorithm(KeyId(1)),
        Some(Algorithm::XChaCha20Poly1305)
    );
    let key = entry.rsplit(':').next().expect("a key");
    assert!(Key::from_base64(key).is_ok());
    assert_ne!(
        run(&["keygen"]).stdout,
        first.stdout,
        "a fresh key each time"
    );

    let planned = run(&[
        "keygen",
        "--id",
        "7",
        "--aes256gcm",
        "--activate-at",
        "2030-01-01T00:00:00Z",
    ]);
    assert_eq!(planned.status, 0, "{planned:?}");
    let entry = planned.stdout.trim();
    assert!(entry.starts_with("7:aes256gcm:") && entry.ends_with("@2030-01-01T00:00:00Z"));
    let keyring = Keyring::parse_planned(entry).expect("a planned keyring");
    let info = keyring.keys().next().expect("one key");
    assert_eq!((info.id, info.algorithm), (KeyId(7), Algorithm::Aes256Gcm));
    assert_eq!(
        info.activation,
        Some(UNIX_EPOCH + Duration::from_secs(1_893_456_000))
    );

    // Both ends of the id range.
    for id in ["0", "4294967295"] {
        let run = run(&["keygen", "--id", id]);
        assert_eq!(run.status, 0, "{run:?}");
        let keyring: Keyring = run.stdout.trim().parse().expect("a keyring");
        let id: u32 = id.parse().expect("a number");
        assert_eq!(keyring.ids().collect::<Vec<_>>(), [KeyId(id)]);
    }
}

#[test]
fn keygen_refuses_bad_arguments_with_status_2() {
    for args in [
        &["keygen", "--id", "x"][..],
        &["keygen", "--id", "4294967296"],
        &["keygen", "--id"],
        &["keygen", "--activate-at", "tomorrow"],
        &["keygen", "--bogus"],
        &["keygen", "extra"],
        &["keygen", "--aes256gcm=yes"],
        &["no-such-command"],
        &[],
    ] {
        let run = run(args);
        assert_eq!(run.status, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
        assert!(run.stderr.starts_with("sealed-session: "), "{run:?}");
    }
    let help = run(&["help"]);
    assert_eq!(help.status, 0);
    for command in ["keygen", "inspect", "fingerprint", "check"] {
        assert!(help.stdout.contains(command));
    }
}

// inspect

/// A sealer over a keyring of fresh keys, returning the keys too.
fn keyring_spec(entries: &[(u32, &str, Option<u64>)]) -> (String, Vec<String>) {
    let mut spec = String::new();
    let mut keys = Vec::new();
    for &(id, algorithm, activation) in entries {
        let key = fresh_key();
        spec.push_str(&format!("{id}:{algorithm}:{key}"));
        if let Some(at) = activation {
            spec.push_str(&format!("@{at}"));
        }
        spec.push('\n');
        keys.push(key);
    }
    (spec, keys)
}

const PAYLOAD: &[u8] = b"user=ada;role=admin";

#[test]
fn inspect_without_a_keyring_shows_the_clear_part_only() {
    let (spec, keys) = keyring_spec(&[(300, "xchacha20poly1305", None)]);
    let value = Sealer::new(spec.parse().expect("keyring"))
        .seal_bytes(PAYLOAD)
        .expect("seals");
    let run = run(&["inspect", &value]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.line("version: "), "version: 1");
    assert_eq!(run.line("key id: "), "key id: 300");
    let binary = URL_SAFE_NO_PAD.decode(&value).expect("base64").len();
    assert_eq!(
        run.line("length: "),
        format!("length: {} bytes ({binary} bytes binary)", value.len())
    );
    assert!(run.line("authenticates: ").contains("not checked"));
    assert!(!run.has_line("issued at: "));
    assert!(!run.stdout.contains("ada"));
    // --show-payload needs the keyring.
    let refused = run_with(&["inspect", &value, "--show-payload"], None, &[]);
    assert_eq!(refused.status, 2, "{refused:?}");
    // The value from standard input.
    let piped = run_with(&["inspect", "-"], Some(&format!("{value}\n")), &[]);
    assert_eq!(piped.stdout, run.stdout);
    assert_no_key_material(
        &[&run, &refused, &piped],
        &keys.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn inspect_with_the_keyring_authenticates_and_shows_times_and_status() {
    let dir = Dir::new("inspect-keys");
    let (spec, keys) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let path = dir.file("keys", &spec);
    let issued = UNIX_EPOCH + Duration::from_secs(unix_now() - 3600);
    let sealer = Sealer::new(spec.parse().expect("keyring"))
        .with_name("sid")
        .with_purpose("shop/v1")
        .with_clock(move || issued);
    let value = sealer.seal_bytes(PAYLOAD).expect("seals");
    let args = [
        "inspect",
        &value,
        "--keys-file",
        &path,
        "--name",
        "sid",
        "--purpose",
        "shop/v1",
    ];

    let run = run(&args);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.line("authenticates: "), "authenticates: yes");
    let time = |prefix: &str| parse_time(&run.line(prefix)[prefix.len()..], &keys[0]);
    assert_eq!(time("issued at: "), issued);
    assert_eq!(time("expires at: "), issued + Duration::from_secs(86_400));
    assert_eq!(run.line("state: "), "state: valid");
    assert_eq!(
        run.line("key status: "),
        "key status: in the keyring, seals now"
    );
    assert!(run.line("revoked: ").starts_with("revoked: no"));
    assert_eq!(
        run.line("payload: "),
        format!(
            "payload: {} bytes (hidden: --show-payload prints it)",
            PAYLOAD.len()
        )
    );
    assert!(!run.stdout.contains("ada") && !run.stdout.contains("757365723d616461"));

    let shown = run_with(&[&args[..], &["--show-payload"]].concat(), None, &[]);
    assert_eq!(shown.status, 0, "{shown:?}");
    assert_eq!(
        shown.line("payload hex: "),
        "payload hex: 757365723d6164613b726f6c653d61646d696e"
    );
    assert_eq!(
        shown.line("payload text: "),
        "payload text: \"user=ada;role=admin\""
    );

    // The default name and purpose are not what it was sealed for.
    let wrong = run_with(&["inspect", &value, "--keys-file", &path], None, &[]);
    assert_eq!(wrong.status, 1, "{wrong:?}");
    assert!(wrong
        .line("authenticates: ")
        .starts_with("authenticates: no"));
    assert!(wrong.line("checked for: ").contains("\"session\""));
    assert!(!wrong.has_line("issued at: ") && !wrong.stdout.contains("ada"));

    // The keyring from standard input, given as a spec.
    let piped = run_with(
        &[
            &args[..2],
            &["--keys-file", "-", "--name", "sid", "--purpose", "shop/v1"],
        ]
        .concat(),
        Some(&spec),
        &[],
    );
    assert_eq!(piped.line("authenticates: "), "authenticates: yes");
    let inline = run_with(
        &[
            &args[..2],
            &["--keys", spec.trim(), "--name=sid", "--purpose=shop/v1"],
        ]
        .concat(),
        None,
        &[],
    );
    assert_eq!(inline.line("authenticates: "), "authenticates: yes");

    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_no_key_material(&[&run, &shown, &wrong, &piped, &inline], &keys);
}

#[test]
fn inspect_reports_a_tampered_value_as_not_authenticating() {
    let (spec, keys) = keyring_spec(&[(1, "aes256gcm", None)]);
    let value = Sealer::new(spec.parse().expect("keyring"))
        .seal_bytes(PAYLOAD)
        .expect("seals");
    let mut bytes = value.clone().into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).expect("ascii");
    let run = run(&[
        "inspect",
        &tampered,
        "--keys",
        spec.trim(),
        "--show-payload",
    ]);
    assert_eq!(run.status, 1, "{run:?}");
    assert_eq!(run.line("key id: "), "key id: 1");
    assert!(run
        .line("authenticates: ")
        .starts_with("authenticates: no (tampered"));
    assert!(!run.has_line("issued at: ") && !run.has_line("payload"));
    assert_no_key_material(&[&run], &[&keys[0]]);
}

#[test]
fn inspect_shows_the_times_of_expired_and_revoked_values() {
    let (spec, keys) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let three_days_ago = UNIX_EPOCH + Duration::from_secs(unix_now() - 3 * 86_400);
    let expired = Sealer::new(spec.parse().expect("keyring"))
        .with_clock(move || three_days_ago)
        .seal_bytes(PAYLOAD)
        .expect("seals");
    let run_expired = run(&["inspect", &expired, "--keys", &spec]);
    assert_eq!(run_expired.status, 1, "{run_expired:?}");
    assert_eq!(run_expired.line("authenticates: "), "authenticates: yes");
    assert!(run_expired.line("state: ").starts_with("state: expired"));
    let issued = run_expired.line("issued at: ")["issued at: ".len()..].to_owned();
    assert_eq!(parse_time(&issued, &keys[0]), three_days_ago);

    // A cutoff an hour from now revokes a value sealed now.
    let fresh = Sealer::new(spec.parse().expect("keyring"))
        .seal_bytes(PAYLOAD)
        .expect("seals");
    let revoking = format!("{spec} revoke-before={}", unix_now() + 3600);
    let run_revoked = run(&["inspect", &fresh, "--keys", &revoking]);
    assert_eq!(run_revoked.status, 1, "{run_revoked:?}");
    assert_eq!(run_revoked.line("authenticates: "), "authenticates: yes");
    assert_eq!(run_revoked.line("state: "), "state: valid");
    assert!(run_revoked.line("revoked: ").starts_with("revoked: yes"));
    assert!(run_revoked.has_line("issued at: "));
    assert_no_key_material(&[&run_expired, &run_revoked], &[&keys[0]]);
}

/// `inspect` checks a value's times as a server with `--ttl` and
/// `--leeway` (default 1d and 1m) does: a value sealed with a 30-day
/// lifetime authenticates, but a server with the default TTL refuses it
/// (`LifetimeTooLong`, what a leaked key's forgery looks like), so it is
/// `refused`, exit 1; with `--ttl 30d` it is valid. A value issued longer
/// ago than the TTL plus the leeway is expired even before its own expiry.
#[test]
fn inspect_checks_the_times_against_the_servers_ttl() {
    let (spec, keys) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let long = Sealer::new(spec.parse().expect("keyring"))
        .with_ttl(Duration::from_secs(30 * 86_400))
        .seal_bytes(PAYLOAD)
        .expect("seals");
    let default = run(&["inspect", &long, "--keys", &spec]);
    assert_eq!(default.status, 1, "{default:?}");
    assert_eq!(default.line("authenticates: "), "authenticates: yes");
    assert_eq!(
        default.line("assuming: "),
        "assuming: the servers' ttl 1d, leeway 1m (--ttl, --leeway)"
    );
    let state = default.line("state: ");
    assert!(
        state.starts_with("state: refused (it claims a lifetime of 30d"),
        "{state}"
    );
    assert!(state.contains("LifetimeTooLong"), "{state}");
    let month = run(&["inspect", &long, "--keys", &spec, "--ttl", "30d"]);
    assert_eq!(month.status, 0, "{month:?}");
    assert_eq!(month.line("state: "), "state: valid");
    // A day's lifetime, against servers with a 23-hour TTL: it claims more.
    let day = Sealer::new(spec.parse().expect("keyring"))
        .seal_bytes(PAYLOAD)
        .expect("seals");
    let shorter = run(&["inspect", &day, "--keys", &spec, "--ttl", "23h"]);
    assert_eq!(shorter.status, 1, "{shorter:?}");
    assert!(shorter.line("state: ").starts_with("state: refused"));
    // Within the leeway it is not: 23h59m plus a minute.
    let within = run(&[
        "inspect", &day, "--keys", &spec, "--ttl", "1439m", "--leeway", "1m",
    ]);
    assert_eq!(within.line("state: "), "state: valid", "{within:?}");
    // A lifetime of a day and half an hour, within a 1-day TTL plus an
    // hour of leeway, issued a day and 70 minutes ago: not expired by its
    // own expiry, but issued longer ago than the TTL plus the leeway.
    let issued = UNIX_EPOCH + Duration::from_secs(unix_now() - 86_400 - 70 * 60);
    let old = Sealer::new(spec.parse().expect("keyring"))
        .with_ttl(Duration::from_secs(86_400 + 30 * 60))
        .with_clock(move || issued)
        .seal_bytes(PAYLOAD)
        .expect("seals");
    let past = run(&[
        "inspect", &old, "--keys", &spec, "--ttl", "1d", "--leeway", "1h",
    ]);
    assert_eq!(past.status, 1, "{past:?}");
    assert!(past
        .line("state: ")
        .starts_with("state: expired (issued more than the ttl of 1d"));
    // Without a keyring, the times are not checked: --ttl needs one.
    let alone = run(&["inspect", &long, "--ttl", "30d"]);
    assert_eq!(alone.status, 2, "{alone:?}");
    assert_no_key_material(&[&default, &month, &shorter, &within, &past], &[&keys[0]]);
}

#[test]
fn inspect_reports_the_key_status_against_the_keyring() {
    let (old, old_keys) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let (two, two_keys) = keyring_spec(&[(2, "xchacha20poly1305", None)]);
    let (later, later_keys) = keyring_spec(&[(3, "xchacha20poly1305", Some(unix_now() + 86_400))]);
    let value = Sealer::new(old.parse().expect("keyring"))
        .seal_bytes(PAYLOAD)
        .expect("seals");
    // Key 1 is older than the sealing key 2: a server re-seals the value.
    let rotated = run(&["inspect", &value, "--keys", &format!("{old}{two}")]);
    assert_eq!(rotated.status, 0, "{rotated:?}");
    assert!(rotated
        .line("key status: ")
        .starts_with("key status: in the keyring, older than the sealing key 2: needs re-seal"));
    // A value of key 3, which seals only tomorrow here: newer, left alone.
    let newer_value = Sealer::new(
        later
            .replace(&format!("@{}", unix_now() + 86_400), "")
            .parse()
            .expect("keyring"),
    )
    .seal_bytes(PAYLOAD)
    .expect("seals");
    let newer = run(&["inspect", &newer_value, "--keys", &format!("{old}{later}")]);
    assert_eq!(newer.status, 0, "{newer:?}");
    assert!(newer
        .line("key status: ")
        .starts_with("key status: in the keyring, newer than the sealing key 1"));
    // A keyring without key 1.
    let unknown = run(&["inspect", &value, "--keys", &two]);
    assert_eq!(unknown.status, 1, "{unknown:?}");
    assert!(unknown
        .line("authenticates: ")
        .starts_with("authenticates: unknown"));
    assert!(unknown
        .line("key status: ")
        .starts_with("key status: unknown"));
    let keys: Vec<&str> = [&old_keys, &two_keys, &later_keys]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    assert_no_key_material(&[&rotated, &newer, &unknown], &keys);
}

/// A session over several cookies: `inspect` takes the chunks' values in
/// order (the first begins with their count) and opens the whole; given
/// the first alone, it says what else it needs.
#[test]
fn inspect_puts_a_chunked_session_back_together() {
    let (spec, keys) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let value = Sealer::new(spec.parse().expect("keyring"))
        .seal_bytes(&[7; 3000])
        .expect("seals");
    let (a, b) = value.split_at(value.len() / 2);
    let (b, c) = b.split_at(b.len() / 2);
    let first = format!("3.{a}");
    let whole = run(&["inspect", &first, b, c, "--keys", &spec]);
    assert_eq!(whole.status, 0, "{whole:?}");
    assert_eq!(whole.line("authenticates: "), "authenticates: yes");
    let from_stdin = run_with(
        &["inspect", "-", "--keys", &spec],
        Some(&format!("{first}\r\n{b}\r\n{c}\r\n")),
        &[],
    );
    assert_eq!(from_stdin.line("authenticates: "), "authenticates: yes");
    // After --, as a chunk may begin with '-'.
    let after_dashes = run(&["inspect", "--keys", &spec, "--", &first, b, c]);
    assert_eq!(after_dashes.line("authenticates: "), "authenticates: yes");
    // Counts the servers refuse: a leading zero, more than 16 cookies.
    let zero = run(&["inspect", &format!("03.{a}"), b, c, "--keys", &spec]);
    assert_eq!(zero.status, 1, "{zero:?}");
    assert!(
        zero.stderr.contains("chunk count that no session has"),
        "{zero:?}"
    );
    let pieces: Vec<String> = value
        .as_bytes()
        .chunks(value.len().div_ceil(17))
        .map(|p| String::from_utf8(p.to_vec()).expect("ASCII"))
        .collect();
    assert_eq!(pieces.len(), 17);
    let seventeen = run_with(
        &["inspect", "-", "--keys", &spec],
        Some(&format!("17.{}", pieces.join(" "))),
        &[],
    );
    assert_eq!(seventeen.status, 1, "{seventeen:?}");
    // - reads every value: not beside others.
    let mixed = run(&["inspect", &first, "-", "--keys", &spec]);
    assert_eq!(mixed.status, 2, "{mixed:?}");
    let alone = run(&["inspect", &first, "--keys", &spec]);
    assert_eq!(alone.status, 1, "{alone:?}");
    assert!(
        alone.stderr.contains("stored over 3 cookies")
            && alone.stderr.contains("NAME, NAME.1, ... NAME.2"),
        "{alone:?}"
    );
    // In the wrong order: the pieces do not open.
    let swapped = run(&["inspect", &first, c, b, "--keys", &spec]);
    assert_eq!(swapped.status, 1, "{swapped:?}");
    // Several values without a count first: a usage error.
    let uncounted = run(&["inspect", a, b, "--keys", &spec]);
    assert_eq!(uncounted.status, 2, "{uncounted:?}");
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_no_key_material(
        &[
            &whole,
            &from_stdin,
            &after_dashes,
            &zero,
            &seventeen,
            &mixed,
            &alone,
            &swapped,
            &uncounted,
        ],
        &keys,
    );
}

#[test]
fn inspect_refuses_garbage_clearly_without_panicking() {
    let version_3 = URL_SAFE_NO_PAD.encode([&[3u8, 1][..], &[0u8; 40]].concat());
    let long = "A".repeat(100_000);
    let garbage = [
        "",
        "garbage!",
        "AAAA",
        "A",
        "session=AQFAQUJDREVGR0hJSktMTU5PUFFSU1RVVldUnaKq1mDaExGb5yLM4FwiB1ZiIPfJJg4",
        "AQFAQUJDREVGR0hJSktMTU5PUFFSU1RVVldUnaKq1mDaExGb5yLM4FwiB1ZiIPfJJg4=",
        "🍪",
        &version_3,
        &long,
    ];
    for value in garbage {
        let run = run(&["inspect", "--", value]);
        assert_eq!(run.status, 1, "{value:?}: {run:?}");
        if value == version_3 {
            assert!(run.line("version: ").starts_with("version: 3 (unsupported"));
        } else if value == long || value == "AAAA" {
            // Zero bytes: an envelope of version 0.
            assert!(run.line("version: ").starts_with("version: 0 (unsupported"));
        } else {
            assert!(run.stdout.is_empty(), "{run:?}");
            assert!(run.stderr.contains("not a sealed value"), "{run:?}");
        }
    }
    // With a keyring too.
    let (spec, keys) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let run = run(&["inspect", "garbage!", "--keys", &spec]);
    assert_eq!(run.status, 1, "{run:?}");
    assert_no_key_material(&[&run], &[&keys[0]]);
    // A keyring that does not parse is a usage error, named by entry.
    let bad = run_with(
        &["inspect", "AAAA", "--keys", "1:xchacha20poly1305:short"],
        None,
        &[],
    );
    assert_eq!(bad.status, 2, "{bad:?}");
    assert!(bad.stderr.contains("keyring entry 1"), "{bad:?}");
}

// fingerprint

#[test]
fn fingerprint_matches_the_library_and_prints_no_key_material() {
    let dir = Dir::new("fingerprint");
    let soon = unix_now() + 86_400;
    let (spec, keys) =
        keyring_spec(&[(1, "xchacha20poly1305", None), (2, "aes256gcm", Some(soon))]);
    let spec = format!("{spec}revoke-before=2026-01-01T00:00:00Z\n");
    let keyring: Keyring = spec.parse().expect("keyring");
    let path = dir.file("keys", &spec);

    let run = run(&["fingerprint", "--keys-file", &path]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(
        run.line("fingerprint: "),
        format!("fingerprint: {}", keyring.fingerprint())
    );
    let checks: Vec<String> = keyring.keys().map(|k| k.check.to_string()).collect();
    assert_eq!(
        run.line("key 1: "),
        format!(
            "key 1: xchacha20poly1305, active, seals now, check {}",
            checks[0]
        )
    );
    let key_2 = run.line("key 2: ");
    assert!(
        key_2.starts_with("key 2: aes256gcm, activates ") && key_2.contains("does not seal now")
    );
    assert_eq!(run.line("sealing key: "), "sealing key: 1");
    assert!(run
        .line("revoke-before: ")
        .starts_with("revoke-before: 2026-01-01T00:00:00Z"));
    assert_eq!(run.line("keyring: "), format!("keyring: file {path}"));
    assert_eq!(run.line("keys: "), "keys: 2");
    // A key activated in the past seals now; the older one does not.
    let (past, past_keys) = keyring_spec(&[
        (1, "xchacha20poly1305", None),
        (2, "xchacha20poly1305", Some(1_700_000_000)),
    ]);
    let after = run_with(&["fingerprint", "--keys", &past], None, &[]);
    assert_eq!(after.status, 0, "{after:?}");
    assert!(after
        .line("key 1: ")
        .starts_with("key 1: xchacha20poly1305, active, does not seal now, check "));
    assert!(after.line("key 2: ").starts_with(
        "key 2: xchacha20poly1305, active since 2023-11-14T22:13:20Z, seals now, check "
    ));
    assert_eq!(after.line("keyring: "), "keyring: --keys");
    assert_no_key_material(
        &[&after],
        &past_keys.iter().map(String::as_str).collect::<Vec<_>>(),
    );

    // From the environment: SESSION_KEYS_FILE first, then SESSION_KEYS.
    let (other, other_keys) = keyring_spec(&[(5, "xchacha20poly1305", None)]);
    let other_print = other.parse::<Keyring>().expect("keyring").fingerprint();
    let both = run_with(
        &["fingerprint"],
        None,
        &[("SESSION_KEYS_FILE", &path), ("SESSION_KEYS", &other)],
    );
    assert_eq!(both.line("fingerprint: "), run.line("fingerprint: "));
    let env = run_with(&["fingerprint"], None, &[("SESSION_KEYS", &other)]);
    assert_eq!(
        env.line("fingerprint: "),
        format!("fingerprint: {other_print}")
    );
    assert_eq!(both.line("keyring: "), format!("keyring: file {path}"));
    let none = run_with(&["fingerprint"], None, &[]);
    assert_eq!(none.status, 2, "{none:?}");
    // From standard input.
    let stdin = run_with(&["fingerprint", "--keys-file", "-"], Some(&spec), &[]);
    assert_eq!(stdin.status, 0, "{stdin:?}");
    assert_eq!(stdin.line("fingerprint: "), run.line("fingerprint: "));
    // A keyring that does not parse (a fourth entry, after two keys and
    // the cutoff, with a key of 31 bytes): status 2, the entry's position
    // and problem, never its text.
    let short = URL_SAFE_NO_PAD.encode([7u8; 31]);
    let bad = format!("{spec}3:xchacha20poly1305:{short}\n");
    let bad_path = dir.file("bad", &bad);
    let refused = run_with(&["fingerprint", "--keys-file", &bad_path], None, &[]);
    assert_eq!(refused.status, 2, "{refused:?}");
    assert!(refused.stderr.contains("keyring entry 4:"), "{refused:?}");
    assert!(refused.stderr.contains("31 bytes"), "{refused:?}");

    let mut keys: Vec<&str> = keys.iter().chain(&other_keys).map(String::as_str).collect();
    keys.push(&short);
    assert_no_key_material(&[&run, &both, &env, &none, &stdin, &refused], &keys);
}

/// `fingerprint` says when a server would refuse the keyring it prints
/// (exit status 1): a `revoke-before` more than a minute ahead (usually a
/// local time written with a `Z`), or no key active yet. The file is what
/// `fingerprint` reads; a running server keeps the keyring in force. A
/// cutoff of now passes.
#[test]
fn fingerprint_says_when_a_server_refuses_the_keyring() {
    let (spec, keys) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let cutoff = unix_now() + 2 * 3600;
    let ahead = format!("{spec}revoke-before={cutoff}\n");
    let refused = run(&["fingerprint", "--keys", &ahead]);
    assert_eq!(refused.status, 1, "{refused:?}");
    assert!(refused.has_line("fingerprint: "), "{refused:?}");
    let line = refused.line("refused: ");
    assert!(
        line.starts_with("refused: a server refuses this keyring (")
            && line.contains("revoke-before time is in the future"),
        "{line}"
    );
    // Until the cutoff is a minute ahead: then a watching server applies it.
    let from = line
        .split_once(") until ")
        .and_then(|(_, rest)| rest.split(';').next())
        .expect("until TIME");
    let keys_text = keys.first().expect("a key");
    assert_eq!(
        parse_time(from, keys_text),
        UNIX_EPOCH + Duration::from_secs(cutoff - 60),
        "{line}"
    );
    assert_eq!(
        ahead.parse::<Keyring>().err(),
        Some(Error::Config(ConfigError::CutoffInFuture)),
        "the library refuses what the command says it refuses"
    );

    let later = keyring_spec(&[(1, "xchacha20poly1305", Some(unix_now() + 86_400))]).0;
    let inactive = run(&["fingerprint", "--keys", &later]);
    assert_eq!(inactive.status, 1, "{inactive:?}");
    assert_eq!(
        inactive.line("sealing key: "),
        "sealing key: none (no key is active yet)"
    );
    assert!(inactive
        .line("refused: ")
        .contains("no key in the keyring may seal now"));

    // Both at once: both said (a server's parse stops at the first).
    let both = format!("{later}revoke-before={}\n", unix_now() + 2 * 3600);
    let twice = run(&["fingerprint", "--keys", &both]);
    assert_eq!(twice.status, 1, "{twice:?}");
    let reasons: Vec<&str> = twice
        .stdout
        .lines()
        .filter(|l| l.starts_with("refused: "))
        .collect();
    assert_eq!(reasons.len(), 2, "{twice:?}");
    assert!(reasons[0].contains("no key in the keyring may seal now"));
    assert!(reasons[1].contains("revoke-before time is in the future"));

    let now = format!("{spec}revoke-before={}\n", unix_now());
    let accepted = run(&["fingerprint", "--keys", &now]);
    assert_eq!(accepted.status, 0, "{accepted:?}");
    assert!(!accepted.has_line("refused: "), "{accepted:?}");
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_no_key_material(&[&refused, &inactive, &twice, &accepted], &keys);
}

// check

/// Runs `check` on two keyring specs (as files), with extra arguments.
fn check(old: &str, new: &str, extra: &[&str]) -> Run {
    let dir = Dir::new(&format!(
        "check-{}",
        fresh_key()[..8].replace(['-', '_'], "x")
    ));
    let old_path = dir.file("old", old);
    let new_path = dir.file("new", new);
    run_with(
        &[&["check", &old_path, &new_path][..], extra].concat(),
        None,
        &[],
    )
}

fn entry(id: u32, algorithm: &str, key: &str, activation: Option<u64>) -> String {
    match activation {
        Some(at) => format!("{id}:{algorithm}:{key}@{at}\n"),
        None => format!("{id}:{algorithm}:{key}\n"),
    }
}

#[test]
fn check_passes_a_clean_rotation() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let old = entry(1, "xchacha20poly1305", &k1, None);
    let new = format!(
        "{old}{}",
        entry(2, "xchacha20poly1305", &k2, Some(unix_now() + 3600))
    );
    let run = check(&old, &new, &[]);
    assert_eq!(run.status, 0, "{run:?}");
    assert!(run.warnings().is_empty(), "{run:?}");
    assert!(run.has_line("change: key 2 added (xchacha20poly1305, activates "));
    assert_eq!(run.line("result: "), "result: no warnings");

    // Retiring a key that stopped sealing three days ago, with a 1-day TTL.
    let three_days_ago = unix_now() - 3 * 86_400;
    let old = format!(
        "{}{}",
        entry(1, "xchacha20poly1305", &k1, None),
        entry(2, "xchacha20poly1305", &k2, Some(three_days_ago))
    );
    let new = entry(2, "xchacha20poly1305", &k2, Some(three_days_ago));
    let retire = check(&old, &new, &["--ttl", "1d"]);
    assert_eq!(retire.status, 0, "{retire:?}");
    assert!(retire
        .line("note[removed-key]: ")
        .contains("key 1 is removed"));
    assert_no_key_material(&[&run, &retire], &[&k1, &k2]);
}

#[test]
fn check_warns_about_removing_a_key_that_may_have_values() {
    let (k1, k2) = (fresh_key(), fresh_key());
    // Key 2 took over two days ago: with a 7-day TTL, key 1's values live on.
    let two_days_ago = unix_now() - 2 * 86_400;
    let old = format!(
        "{}{}",
        entry(1, "xchacha20poly1305", &k1, None),
        entry(2, "xchacha20poly1305", &k2, Some(two_days_ago))
    );
    let new = entry(2, "xchacha20poly1305", &k2, Some(two_days_ago));
    let run = check(&old, &new, &["--ttl", "7d"]);
    assert_eq!(run.status, 1, "{run:?}");
    assert_eq!(run.warnings().len(), 1, "{run:?}");
    let warning = run.line("warning[removed-key-in-use]: ");
    assert!(warning.contains("key 1 is removed"), "{warning}");
    assert!(warning.contains("ttl + leeway"), "{warning}");
    assert_eq!(run.line("result: "), "result: 1 warning");
    // The sealing key itself, removed.
    let now = check(&entry(1, "xchacha20poly1305", &k1, None), &new, &[]);
    assert!(now
        .line("warning[removed-key-in-use]: ")
        .contains("key 1 is removed"));
    assert_no_key_material(&[&run, &now], &[&k1, &k2]);
}

/// A removal is judged over the period a server may still seal under OLD
/// with the key, and its values live on: from `ttl + leeway` ago (a key
/// that stopped sealing 30 s inside that is in use, 30 s outside it is
/// not) until the change reaches every replica, `now + window + leeway`
/// (a key withdrawn 5 minutes before it activates still seals on the
/// replicas the change has not reached in a 10-minute window, not in a
/// 2-minute one).
#[test]
fn check_counts_the_leeway_and_the_window_in_a_removal() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let retired = |secs_ago: u64| {
        let since = unix_now() - secs_ago;
        let old = format!(
            "{}{}",
            entry(1, "xchacha20poly1305", &k1, None),
            entry(2, "xchacha20poly1305", &k2, Some(since))
        );
        let new = entry(2, "xchacha20poly1305", &k2, Some(since));
        check(&old, &new, &["--ttl", "1h", "--leeway", "1m"])
    };
    let inside = retired(3600 + 30);
    assert_eq!(inside.status, 1, "{inside:?}");
    assert!(inside
        .line("warning[removed-key-in-use]: ")
        .contains("key 1 is removed"));
    let outside = retired(3600 + 90);
    assert_eq!(outside.status, 0, "{outside:?}");
    assert!(outside
        .line("note[removed-key]: ")
        .contains("key 1 is removed"));

    let old = format!(
        "{}{}",
        entry(1, "xchacha20poly1305", &k1, None),
        entry(2, "xchacha20poly1305", &k2, Some(unix_now() + 300))
    );
    let new = entry(1, "xchacha20poly1305", &k1, None);
    let wide = check(&old, &new, &["--window", "10m"]);
    assert_eq!(wide.status, 1, "{wide:?}");
    assert!(wide
        .line("warning[removed-key-in-use]: ")
        .contains("key 2 is removed"));
    let narrow = check(&old, &new, &["--window", "2m"]);
    assert_eq!(narrow.status, 0, "{narrow:?}");
    assert!(narrow
        .line("note[removed-key]: ")
        .contains("key 2 is removed before its activation"));
    assert_no_key_material(&[&inside, &outside, &wide, &narrow], &[&k1, &k2]);
}

/// Removing a key whose successor has no activation time: the keyrings
/// cannot tell when the removed key last sealed, and `check` says so (and
/// where to look) rather than calling the removal safe or unsafe.
#[test]
fn check_says_when_it_cannot_know_when_a_removed_key_last_sealed() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let old = format!(
        "{}{}",
        entry(1, "xchacha20poly1305", &k1, None),
        entry(2, "xchacha20poly1305", &k2, None)
    );
    let new = entry(2, "xchacha20poly1305", &k2, None);
    let run = check(&old, &new, &["--ttl", "1d"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert!(run.warnings().is_empty(), "{run:?}");
    let note = run.line("note[removed-key]: ");
    assert!(note.contains("key 1 is removed"), "{note}");
    assert!(note.contains("has no activation time"), "{note}");
    assert!(note.contains("cannot say when key 1 last sealed"), "{note}");
    assert!(note.contains("KeyStats::last_sealed_at"), "{note}");
    assert_eq!(run.line("result: "), "result: no warnings");
    assert_no_key_material(&[&run], &[&k1, &k2]);
}

#[test]
fn check_warns_about_an_activation_inside_the_propagation_window() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let old = entry(1, "xchacha20poly1305", &k1, None);
    let in_5_minutes = format!(
        "{old}{}",
        entry(2, "xchacha20poly1305", &k2, Some(unix_now() + 300))
    );
    let run = check(&old, &in_5_minutes, &[]);
    assert_eq!(run.status, 1, "{run:?}");
    assert_eq!(run.warnings().len(), 1, "{run:?}");
    assert!(run
        .line("warning[activation-too-soon]: ")
        .contains("key 2 is new and seals from "));
    // A shorter window makes it fine.
    assert_eq!(check(&old, &in_5_minutes, &["--window", "90s"]).status, 0);
    // No activation time at all: it seals at once.
    let at_once = format!("{old}{}", entry(2, "xchacha20poly1305", &k2, None));
    let run_at_once = check(&old, &at_once, &["--window", "10m"]);
    assert!(run_at_once
        .line("warning[activation-too-soon]: ")
        .contains("seals at once (it has no activation time)"));
    assert_no_key_material(&[&run, &run_at_once], &[&k1, &k2]);
}

/// Without `--ttl` and `--window`, `check` assumes a day and ten minutes
/// (and a minute of leeway), says so, and reasons with them.
#[test]
fn check_defaults_are_a_day_of_ttl_and_ten_minutes_of_window() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let old = entry(1, "xchacha20poly1305", &k1, None);
    let removal = |hours_ago: u64| {
        let since = unix_now() - hours_ago * 3600;
        let old = format!("{old}{}", entry(2, "xchacha20poly1305", &k2, Some(since)));
        check(&old, &entry(2, "xchacha20poly1305", &k2, Some(since)), &[])
    };
    let safe = removal(30);
    assert_eq!(safe.status, 0, "{safe:?}");
    assert!(safe
        .line("assuming: ")
        .starts_with("assuming: ttl 1d, leeway 1m, propagation window 10m, now "));
    assert!(safe
        .line("note[removed-key]: ")
        .contains("key 1 is removed"));
    let unsafe_run = removal(12);
    assert_eq!(unsafe_run.status, 1, "{unsafe_run:?}");
    assert!(unsafe_run
        .line("warning[removed-key-in-use]: ")
        .contains("key 1 is removed"));
    let added = |minutes: u64| {
        let at = unix_now() + minutes * 60;
        check(
            &old,
            &format!("{old}{}", entry(2, "xchacha20poly1305", &k2, Some(at))),
            &[],
        )
    };
    let inside = added(9);
    assert_eq!(inside.status, 1, "{inside:?}");
    assert!(inside.has_line("warning[activation-too-soon]: "));
    let outside = added(11);
    assert_eq!(outside.status, 0, "{outside:?}");
    assert_no_key_material(&[&safe, &unsafe_run, &inside, &outside], &[&k1, &k2]);
}

#[test]
fn check_warns_about_an_id_reused_for_another_key() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let old = entry(1, "xchacha20poly1305", &k1, None);
    let other_secret = entry(1, "xchacha20poly1305", &k2, None);
    let run = check(&old, &other_secret, &[]);
    assert_eq!(run.status, 1, "{run:?}");
    assert_eq!(run.warnings().len(), 1, "{run:?}");
    assert!(run
        .line("warning[id-reused]: ")
        .contains("key 1 holds other key material in NEW (another secret)"));
    let other_algorithm = entry(1, "aes256gcm", &k1, None);
    let run_alg = check(&old, &other_algorithm, &[]);
    assert!(run_alg
        .line("warning[id-reused]: ")
        .contains("algorithm xchacha20poly1305 -> aes256gcm"));
    assert_no_key_material(&[&run, &run_alg], &[&k1, &k2]);
}

#[test]
fn check_warns_about_a_move_to_a_smaller_nonce() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let old = entry(1, "xchacha20poly1305", &k1, None);
    let new = format!(
        "{old}{}",
        entry(2, "aes256gcm", &k2, Some(unix_now() + 3600))
    );
    let run = check(&old, &new, &[]);
    assert_eq!(run.status, 1, "{run:?}");
    assert_eq!(run.warnings().len(), 1, "{run:?}");
    let warning = run.line("warning[smaller-nonce]: ");
    assert!(warning
        .contains("from key 1 (xchacha20poly1305, 24-byte nonces) to key 2 (aes256gcm, 12-byte"));
    assert!(warning.contains("2^32"));
    // The same plan through --old-keys / --new-keys.
    let flags = run_with(
        &["check", "--old-keys", &old, "--new-keys", &new],
        None,
        &[],
    );
    assert_eq!(flags.warnings(), run.warnings());
    assert_no_key_material(&[&run, &flags], &[&k1, &k2]);
}

#[test]
fn check_warns_about_a_keyring_that_cannot_seal() {
    let (k1, k2) = (fresh_key(), fresh_key());
    let old = entry(1, "xchacha20poly1305", &k1, None);
    let tomorrow = format!("1:xchacha20poly1305:{k1}@{}\n", unix_now() + 86_400);
    let run = check(&old, &tomorrow, &[]);
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run
        .line("warning[cannot-seal]: ")
        .starts_with("warning[cannot-seal]: no key of NEW is active now"));
    let empty = check(&old, "# every key removed\n", &[]);
    assert_eq!(empty.status, 1, "{empty:?}");
    assert!(empty
        .line("warning[cannot-seal]: ")
        .contains("NEW holds no key"));
    assert!(empty.has_line("new: ") && empty.line("new: ").ends_with("no keys"));
    assert_no_key_material(&[&run, &empty], &[&k1, &k2]);
}

/// A NEW keyring whose `revoke-before` is more than a minute ahead: every
/// server refuses it (`cutoff-in-future`). Within the minute it passes.
#[test]
fn check_warns_about_a_cutoff_in_the_future() {
    let k1 = fresh_key();
    let old = entry(1, "xchacha20poly1305", &k1, None);
    let ahead = format!("{old}revoke-before={}\n", unix_now() + 2 * 3600);
    let run = check(&old, &ahead, &[]);
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run
        .line("warning[cutoff-in-future]: ")
        .starts_with("warning[cutoff-in-future]: NEW's revoke-before ("));
    assert_eq!(run.line("result: "), "result: 1 warning");
    // With no key active yet as well: both warnings.
    let later = entry(1, "xchacha20poly1305", &k1, Some(unix_now() + 86_400));
    let both = check(
        &old,
        &format!("{later}revoke-before={}\n", unix_now() + 2 * 3600),
        &[],
    );
    assert!(both.has_line("warning[cannot-seal]: "), "{both:?}");
    assert!(both.has_line("warning[cutoff-in-future]: "), "{both:?}");
    let now = format!("{old}revoke-before={}\n", unix_now() + 30);
    let passes = check(&old, &now, &[]);
    assert_eq!(passes.status, 0, "{passes:?}");
    assert!(
        !passes.has_line("warning[cutoff-in-future]: "),
        "{passes:?}"
    );
    assert_no_key_material(&[&run, &both, &passes], &[&k1]);
}

/// A `revoke-before` removed or moved back lets the values it refused
/// open again: `cutoff-lowered`, until they have expired anyway (the
/// cutoff plus the TTL and the leeway).
#[test]
fn check_warns_about_a_cutoff_removed_or_moved_back() {
    let k1 = fresh_key();
    let key = entry(1, "xchacha20poly1305", &k1, None);
    let cut = |secs: u64| format!("{key}revoke-before={secs}\n");
    let hour_ago = unix_now() - 3600;
    let removed = check(&cut(hour_ago), &key, &[]);
    assert_eq!(removed.status, 1, "{removed:?}");
    assert!(removed
        .line("warning[cutoff-lowered]: ")
        .contains("NEW none of them"));
    let earlier = check(&cut(hour_ago), &cut(hour_ago - 600), &[]);
    assert_eq!(earlier.status, 1, "{earlier:?}");
    assert!(earlier
        .line("warning[cutoff-lowered]: ")
        .contains("NEW only those before"));
    // Raised: a revocation, noted, not warned.
    let raised = check(&cut(hour_ago), &cut(hour_ago + 600), &[]);
    assert_eq!(raised.status, 0, "{raised:?}");
    // Past the TTL and the leeway, nothing it refused is still valid.
    let old_cut = check(&cut(hour_ago), &key, &["--ttl", "59m"]);
    assert_eq!(old_cut.status, 0, "{old_cut:?}");
    assert!(
        !old_cut.has_line("warning[cutoff-lowered]: "),
        "{old_cut:?}"
    );
    let still = check(&cut(hour_ago), &key, &["--ttl", "60m"]);
    assert!(still.has_line("warning[cutoff-lowered]: "), "{still:?}");
    // The leeway counts with the TTL (`--leeway`, default a minute).
    let longer = check(&cut(hour_ago), &key, &["--ttl", "58m", "--leeway", "3m"]);
    assert!(longer.has_line("warning[cutoff-lowered]: "), "{longer:?}");
    assert!(
        longer.has_line("assuming: ttl 58m, leeway 3m"),
        "{longer:?}"
    );
    let shorter = check(&cut(hour_ago), &key, &["--ttl", "60m", "--leeway", "0s"]);
    assert_eq!(shorter.status, 0, "{shorter:?}");
    // OLD's cutoff too far ahead was never in force: fixing it is no
    // lowering (it is what the servers wait for).
    let mistyped = check(&cut(unix_now() + 2 * 3600), &cut(unix_now()), &[]);
    assert!(
        !mistyped.has_line("warning[cutoff-lowered]: "),
        "{mistyped:?}"
    );
    assert_no_key_material(
        &[&removed, &earlier, &raised, &old_cut, &still, &mistyped],
        &[&k1],
    );
}

#[test]
fn check_refuses_bad_arguments_and_keyrings_with_status_2() {
    let k1 = fresh_key();
    let old = entry(1, "xchacha20poly1305", &k1, None);
    for (new, extra) in [
        (old.clone(), &["--window", "10"][..]),
        (old.clone(), &["--ttl", "1y"]),
        (format!("{old}2:xchacha20poly1305:{}\n", &k1[..20]), &[]),
        (old.clone(), &["--bogus"]),
    ] {
        let run = check(&old, &new, extra);
        assert_eq!(run.status, 2, "{extra:?}: {run:?}");
        assert!(run.stdout.is_empty());
        assert_no_key_material(&[&run], &[&k1]);
    }
    let missing = run(&["check", "/nonexistent/old"]);
    assert_eq!(missing.status, 2, "{missing:?}");
    // Specs given where files belong are not repeated.
    let specs = run(&["check", &old, &old]);
    assert_eq!(specs.status, 2, "{specs:?}");
    let spec_file = run(&["fingerprint", "--keys-file", &old]);
    assert_eq!(spec_file.status, 2, "{spec_file:?}");
    assert_no_key_material(&[&specs, &spec_file], &[&k1]);
    let both_stdin = run_with(&["check", "-", "-"], Some(&old), &[]);
    assert_eq!(both_stdin.status, 2, "{both_stdin:?}");
}

/// A bare key given where a file path belongs is never echoed back in the
/// "cannot read" message; nor is a huge duration a panic.
#[test]
fn a_key_given_as_a_path_is_not_echoed_and_huge_durations_are_bounded() {
    let key = fresh_key();
    let fingerprint = run(&["fingerprint", "--keys-file", &key]);
    let check = run(&["check", &key, &key]);
    for r in [&fingerprint, &check] {
        assert_eq!(r.status, 2, "{} {}", r.stdout, r.stderr);
    }
    assert_no_key_material(&[&fingerprint, &check], &[&key]);
    let (spec, _) = keyring_spec(&[(1, "xchacha20poly1305", None)]);
    let dir = std::env::temp_dir().join(format!("sealed-session-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("keys");
    std::fs::write(&path, &spec).expect("write");
    let path = path.to_str().expect("UTF-8 path");
    let huge = run(&["check", path, path, "--window", "18446744073709551615s"]);
    assert!(
        huge.status == 0 || huge.status == 1,
        "{} {}",
        huge.stdout,
        huge.stderr
    );
    assert!(!huge.stderr.contains("panicked"), "{}", huge.stderr);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

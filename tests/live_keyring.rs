//! Keys for a fleet: a keyring reloaded from a file while serving (edits,
//! atomic renames and symlink swaps), replaced through the API, revocation
//! cutoffs, fingerprints and per-key counters.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "common/capture.rs"]
#[allow(dead_code)]
mod capture;

use sealed_session::{
    ConfigError, Error, Key, KeyEntry, KeyId, Keyring, LiveKeyring, Refusal, Sealer,
};

/// A fresh directory of this test process.
fn scratch_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sealed-session-live-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn entry(id: u32) -> String {
    format!(
        "{id}:xchacha20poly1305:{}",
        Key::try_generate().expect("rng").to_base64()
    )
}

/// Writes `text` to `path` the way deploy tools do: a temporary file, then
/// an atomic rename over the old one.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

/// Waits (at most 5 s) until `done` holds; returns how long it took.
fn within_5s(mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "not in force within 5 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

fn sealing_id(sealer: &Sealer) -> KeyId {
    sealer
        .keyring()
        .sealing_key_id(SystemTime::now())
        .expect("a key seals")
}

#[test]
fn a_keyring_file_is_reloaded_while_serving() {
    let dir = scratch_dir();
    let path = dir.join("keys");
    let (one, two) = (entry(1), entry(2));
    std::fs::write(&path, format!("# the fleet's keys\n{one}\n")).expect("write");
    let live = LiveKeyring::watch_file_every(&path, Duration::from_millis(50)).expect("loads");
    let sealer = Sealer::from_live(&live);
    let old = sealer.seal(&"ada").expect("seals");
    assert_eq!(sealing_id(&sealer), KeyId(1));

    // Add key 2, active at once: in force within a moment, no restart.
    replace_file(&path, &format!("{one}\n{two}\n"));
    let took = within_5s(|| sealing_id(&sealer) == KeyId(2));
    eprintln!("reload in force after {took:?}");
    let opened = sealer.open::<String>(&old).expect("key 1 still opens");
    assert!(opened.needs_reseal);

    // A file that does not parse changes nothing.
    let before = live.current().fingerprint();
    replace_file(&path, "this is not a keyring");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(live.current().fingerprint(), before);
    // Nor does one that leaves no key able to seal.
    replace_file(&path, &format!("{}@4102444800\n", entry(9)));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(live.current().fingerprint(), before);

    // Retire key 1: its values stop opening.
    replace_file(&path, &format!("{two}\n"));
    within_5s(|| sealer.keyring().len() == 1);
    assert_eq!(
        sealer.open::<String>(&old),
        Err(Error::Refused(Refusal::UnknownKey(KeyId(1))))
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// Kubernetes secret volumes publish a new version by swapping a symlink
/// (`..data`) to a new directory; the file's path stays the same.
#[cfg(unix)]
#[test]
fn a_symlink_swap_is_seen() {
    use std::os::unix::fs::symlink;
    let dir = scratch_dir();
    let (one, two) = (entry(1), entry(2));
    for (version, text) in [("v1", one.clone()), ("v2", format!("{one}\n{two}"))] {
        std::fs::create_dir_all(dir.join(version)).expect("dir");
        std::fs::write(dir.join(version).join("keys"), text).expect("write");
    }
    symlink("v1", dir.join("..data")).expect("symlink");
    symlink("..data/keys", dir.join("keys")).expect("symlink");
    let live =
        LiveKeyring::watch_file_every(dir.join("keys"), Duration::from_millis(50)).expect("loads");
    let sealer = Sealer::from_live(&live);
    assert_eq!(sealing_id(&sealer), KeyId(1));
    // The swap: a new link, renamed over the old one.
    symlink("v2", dir.join("..data_tmp")).expect("symlink");
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("swap");
    within_5s(|| sealing_id(&sealer) == KeyId(2));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn the_api_replaces_the_keyring_for_every_sealer_sharing_it() {
    let live = LiveKeyring::new(Keyring::ephemeral().expect("rng")).expect("seals");
    let (a, b) = (
        Sealer::from_live(&live),
        Sealer::from_live(&live).with_name("other"),
    );
    let next: Keyring = format!("{}\n{}", entry(7), entry(8))
        .parse()
        .expect("parses");
    let fingerprint = next.fingerprint();
    live.replace(next).expect("applies");
    assert_eq!(a.keyring().fingerprint(), fingerprint);
    assert_eq!(sealing_id(&b), KeyId(8));
    // A keyring that cannot seal now is refused; the one in force stays.
    let future = Keyring::new([KeyEntry::new(9, Key::try_generate().expect("rng"))
        .activate_at(SystemTime::now() + Duration::from_secs(3600))])
    .expect("keyring");
    assert_eq!(
        live.replace(future),
        Err(Error::Config(ConfigError::NoSealingKey))
    );
    assert_eq!(live.current().fingerprint(), fingerprint);
}

/// `revoke-before=TIME` refuses every value issued before TIME, whatever
/// key sealed it, in a spec, a file, or through the API; later values open.
#[test]
fn revoke_before_refuses_every_earlier_value() {
    let key = entry(1);
    let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
    let ring: Keyring = key.parse().expect("parses");
    let early = Sealer::new(ring).with_clock(move || at(1_700_000_000));
    let value = early.seal(&"before").expect("seals");

    let cut = "2023-11-14T23:13:20Z"; // 1_700_000_000 + 3600 s
    let revoked: Keyring = format!("{key}\nrevoke-before={cut}")
        .parse()
        .expect("parses");
    assert_eq!(revoked.revoked_before(), Some(at(1_700_003_600)));
    let late = Sealer::new(revoked).with_clock(move || at(1_700_007_200));
    assert_eq!(
        late.open::<String>(&value),
        Err(Error::Refused(Refusal::Revoked))
    );
    let fresh = late.seal(&"after").expect("new logins work");
    assert_eq!(late.open::<String>(&fresh).expect("opens").value, "after");
    // A write to a session issued before the cutoff is refused too.
    assert_eq!(
        late.seal_issued_at(&"rewrite", at(1_700_000_000)),
        Err(Error::Refused(Refusal::Revoked))
    );

    // Through the API, on a live keyring.
    let live = LiveKeyring::new(key.parse().expect("parses")).expect("seals");
    let sealer = Sealer::from_live(&live).with_clock(move || at(1_700_007_200));
    assert!(sealer.open::<String>(&value).is_ok());
    let ring: Keyring = key.parse().expect("parses");
    live.replace(ring.with_revoke_before(at(1_700_003_600)))
        .expect("applies");
    assert_eq!(
        sealer.open::<String>(&value),
        Err(Error::Refused(Refusal::Revoked))
    );

    // A cutoff more than a minute ahead would refuse every new session:
    // refused, in a spec and through the API.
    let future = SystemTime::now() + Duration::from_secs(3600);
    let secs = future
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert_eq!(
        format!("{key} revoke-before={secs}")
            .parse::<Keyring>()
            .err(),
        Some(Error::Config(ConfigError::CutoffInFuture))
    );
    let ring: Keyring = key.parse().expect("parses");
    assert_eq!(
        live.replace(ring.with_revoke_before(future)),
        Err(Error::Config(ConfigError::CutoffInFuture))
    );
    let ring: Keyring = key.parse().expect("parses");
    assert_eq!(
        LiveKeyring::new(ring.with_revoke_before(future)).err(),
        Some(Error::Config(ConfigError::CutoffInFuture))
    );

    // Malformed or repeated cutoffs name the entry.
    for spec in [
        format!("{key} revoke-before=yesterday"),
        format!("{key} revoke-before=1 revoke-before=2"),
    ] {
        assert!(matches!(
            spec.parse::<Keyring>(),
            Err(Error::Config(ConfigError::Entry { .. }))
        ));
    }
}

/// A server whose clock is behind a `revoke-before` cutoff (a keyring
/// allows one up to a minute ahead) still logs users in: its fresh seals
/// are issued at the cutoff, their lifetime unchanged, so they open there
/// and on a server already past it. A value issued at the cutoff opens,
/// one issued a second before is revoked.
#[test]
fn a_server_behind_the_cutoff_still_logs_users_in() {
    let key = entry(1);
    let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
    let cut = 1_700_003_600;
    let revoked = || {
        key.parse::<Keyring>()
            .expect("parses")
            .with_revoke_before(at(cut))
    };
    let behind = Sealer::new(revoked()).with_clock(move || at(cut - 30));
    let past = Sealer::new(revoked()).with_clock(move || at(cut + 10));
    let fresh = behind.seal(&"login").expect("seals");
    for (sealer, which) in [(&behind, "behind"), (&past, "past")] {
        let opened = sealer
            .open::<String>(&fresh)
            .unwrap_or_else(|e| panic!("{which}: {e}"));
        assert_eq!(opened.value, "login", "{which}");
        assert_eq!(opened.issued_at, at(cut), "{which}");
        assert_eq!(opened.expires_at, at(cut) + behind.ttl(), "{which}");
    }

    let unrevoked =
        |secs| Sealer::new(key.parse::<Keyring>().expect("parses")).with_clock(move || at(secs));
    let at_cut = unrevoked(cut).seal(&"at").expect("seals");
    assert_eq!(past.open::<String>(&at_cut).expect("opens").value, "at");
    let before = unrevoked(cut - 1).seal(&"before").expect("seals");
    assert_eq!(
        past.open::<String>(&before),
        Err(Error::Refused(Refusal::Revoked))
    );
}

/// `watch_file` reads the file every second, and applies a change the
/// second read in a row finds: a change written just after a read is in
/// force two reads later, about two seconds later (a default of 1.5 s or
/// more fails this; a busy machine gets 0.9 s of slack).
#[test]
fn the_default_watch_reads_the_file_every_second() {
    let dir = scratch_dir();
    let path = dir.join("keys");
    let (one, two, three) = (entry(1), entry(2), entry(3));
    std::fs::write(&path, format!("{one}\n")).expect("write");
    let live = LiveKeyring::watch_file(&path).expect("loads");
    // A first change, seen as soon as it is in force: just after a read.
    replace_file(&path, &format!("{one}\n{two}\n"));
    within_5s(|| live.current().len() == 2);
    replace_file(&path, &format!("{one}\n{two}\n{three}\n"));
    let took = within_5s(|| live.current().len() == 3);
    assert!(
        took < Duration::from_millis(2900),
        "the second read came after {took:?}"
    );
    drop(live);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// A file edited in place, read while half written: the half that parses
/// (key 1 alone, while key 2 seals) would refuse and remove every cookie
/// of key 2. A change is applied only once two reads in a row find it, so
/// a half that stays less than one interval is never applied (the rule
/// itself is unit-tested in `src/source.rs`; this checks the watcher
/// follows it). Each round keeps the half for 40% of the interval: one
/// read in a row at most (reads are at least an interval apart, and the
/// test thread has 360 ms of slack), and at least one read in the rounds
/// almost surely (a watcher that applies a change at its first read fails
/// a round with a chance of 40%, one of six with 95%).
#[test]
fn a_half_written_file_is_not_applied() {
    const INTERVAL: Duration = Duration::from_millis(600);
    let dir = scratch_dir();
    let path = dir.join("keys");
    let (one, two) = (entry(1), entry(2));
    let whole = format!("{one}\n{two}\n");
    std::fs::write(&path, &whole).expect("write");
    let live = LiveKeyring::watch_file_every(&path, INTERVAL).expect("loads");
    assert_eq!(live.current().len(), 2);
    for round in 0..6 {
        // In place, as an editor or `>` does: the first line, then the rest.
        std::fs::write(&path, format!("{one}\n")).expect("write");
        let half_since = Instant::now();
        while half_since.elapsed() < INTERVAL * 4 / 10 {
            assert_eq!(live.current().len(), 2, "round {round}: the half applied");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::fs::write(&path, &whole).expect("write");
        let whole_since = Instant::now();
        while whole_since.elapsed() < INTERVAL * 2 {
            assert_eq!(live.current().len(), 2, "round {round}: the half applied");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    drop(live);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// A keyring refused only for its time (no key active yet) is tried again
/// at every read, reported once, and applied when its time comes, as a
/// server started then would load it: running and restarted servers do
/// not end up with different keyrings.
#[test]
fn a_keyring_refused_for_its_time_is_applied_when_its_time_comes() {
    capture::install();
    let dir = scratch_dir();
    let path = dir.join("keys");
    std::fs::write(&path, format!("{}\n", entry(1))).expect("write");
    let live = LiveKeyring::watch_file_every(&path, Duration::from_millis(50)).expect("loads");
    let soon = SystemTime::now() + Duration::from_secs(2);
    let secs = soon
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + 1;
    // Key 2 alone, active in two or three seconds: no key seals now.
    let two = entry(2);
    replace_file(&path, &format!("{two}@{secs}\n"));
    let path_text = path.display().to_string();
    within_5s(|| !capture::lines_with(&path_text).is_empty());
    let ids = || live.current().ids().collect::<Vec<_>>();
    assert_eq!(ids(), [KeyId(1)], "refused before its time");
    let took = within_5s(|| ids() == [KeyId(2)]);
    assert!(
        SystemTime::now() >= UNIX_EPOCH + Duration::from_secs(secs),
        "applied before its time, after {took:?}"
    );
    let refused = capture::lines_with(&path_text);
    assert_eq!(refused.len(), 1, "reported once: {refused:?}");
    assert!(
        refused[0].contains("no key in the keyring may seal now"),
        "{refused:?}"
    );
    assert!(
        refused[0].contains(&format!("applies_at={secs}")),
        "says when: {refused:?}"
    );
    assert!(
        refused[0].contains("removes=[1]"),
        "says it drops key 1, in force then: {refused:?}"
    );
    // A cutoff too far ahead, keeping key 2: refused for its time too,
    // and it drops no key.
    let cutoff = secs + 120;
    replace_file(&path, &format!("{two}@{secs}\nrevoke-before={cutoff}\n"));
    within_5s(|| capture::lines_with(&path_text).len() == 2);
    let refused = capture::lines_with(&path_text);
    assert!(refused[1].contains("applies_at="), "{refused:?}");
    assert!(!refused[1].contains("removes"), "{refused:?}");
    // The same with id 2 holding another secret: the key in force is
    // dropped all the same.
    replace_file(
        &path,
        &format!("{}@{secs}\nrevoke-before={cutoff}\n", entry(2)),
    );
    within_5s(|| capture::lines_with(&path_text).len() == 3);
    let refused = capture::lines_with(&path_text);
    assert!(refused[2].contains("removes=[2]"), "{refused:?}");
    drop(live);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// A cutoff refuses a value of an older key still listed, which would
/// otherwise open and ask to be re-sealed under the key that seals now:
/// "whatever key sealed it".
#[test]
fn revoke_before_refuses_values_of_an_older_listed_key_rather_than_resealing_them() {
    let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
    let (one, two) = (entry(1), entry(2));
    let spec = format!("{one} {two}@1700001000");
    let ring: Keyring = spec.parse().expect("parses");
    let early = Sealer::new(ring).with_clock(move || at(1_700_000_000));
    let value = early.seal(&"before").expect("seals under key 1");
    let later = Sealer::new(spec.parse().expect("parses")).with_clock(move || at(1_700_002_000));
    let opened = later
        .open::<String>(&value)
        .expect("opens without a cutoff");
    assert!(opened.needs_reseal, "key 2 seals now");

    let revoked: Keyring = format!("{spec} revoke-before=1700001500")
        .parse()
        .expect("parses");
    let late = Sealer::new(revoked).with_clock(move || at(1_700_002_000));
    assert_eq!(
        late.open::<String>(&value),
        Err(Error::Refused(Refusal::Revoked))
    );
    // A value of the key that seals now, issued before the cutoff, too.
    let before_cut = Sealer::new(spec.parse().expect("parses"))
        .with_clock(move || at(1_700_001_200))
        .seal(&"key 2, before the cutoff")
        .expect("seals under key 2");
    assert_eq!(
        late.open::<String>(&before_cut),
        Err(Error::Refused(Refusal::Revoked))
    );
}

/// A reload during a seal or an open loses none of the key's counts: the
/// operation uses the keyring in force when it began, and counts where the
/// keyring that replaced it reads (`seals` stays an upper bound on the
/// nonces a key spent). The value's `Serialize` and `Deserialize` replace
/// the keyring, so the reload lands between the start and the count.
#[test]
fn a_reload_during_an_operation_loses_none_of_its_counts() {
    struct Reloads<'a>(&'a LiveKeyring, &'a str);
    impl serde::Serialize for Reloads<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0
                .replace(self.1.parse().expect("parses"))
                .expect("applies");
            s.serialize_str("a session")
        }
    }
    thread_local! {
        static DURING_OPEN: std::cell::RefCell<Option<(LiveKeyring, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    struct ReloadsOnOpen;
    impl<'de> serde::Deserialize<'de> for ReloadsOnOpen {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            DURING_OPEN.with(|slot| {
                if let Some((live, spec)) = slot.borrow().as_ref() {
                    live.replace(spec.parse().expect("parses"))
                        .expect("applies");
                }
            });
            String::deserialize(d).map(|_| ReloadsOnOpen)
        }
    }

    let (one, two, three) = (entry(1), entry(2), entry(3));
    let live = LiveKeyring::new(one.parse().expect("parses")).expect("seals");
    let sealer = Sealer::from_live(&live);
    let with_two = format!("{one} {two}@2100-01-01T00:00:00Z");
    let value = sealer.seal(&Reloads(&live, &with_two)).expect("seals");
    assert_eq!(live.current().len(), 2, "reloaded during the seal");
    let stats = live.current().stats(KeyId(1)).expect("key 1");
    assert_eq!(stats.seals, 1, "the seal that spanned the reload");
    assert!(stats.last_sealed_at.is_some());

    let with_three = format!("{with_two} {three}@2100-01-01T00:00:00Z");
    DURING_OPEN.with(|slot| *slot.borrow_mut() = Some((live.clone(), with_three)));
    sealer.open::<ReloadsOnOpen>(&value).expect("opens");
    DURING_OPEN.with(|slot| *slot.borrow_mut() = None);
    assert_eq!(live.current().len(), 3, "reloaded during the open");
    let stats = live.current().stats(KeyId(1)).expect("key 1");
    assert_eq!(
        (stats.seals, stats.opens),
        (1, 1),
        "the open that spanned it"
    );
}

/// The fingerprint covers ids, algorithms, activations, cutoffs and which
/// secret each id holds, not the order, comments or spelling of the spec,
/// and never shows key material.
#[test]
fn fingerprints_tell_keyrings_apart_without_key_material() {
    let (one, two) = (entry(1), entry(2));
    let a: Keyring = format!("{one} {two}").parse().expect("parses");
    let b: Keyring = format!("# comment\n{two}\n\n{one},")
        .parse()
        .expect("parses");
    assert_eq!(a.fingerprint(), b.fingerprint());
    let other_secret: Keyring = format!("{one} {}", entry(2)).parse().expect("parses");
    assert_ne!(a.fingerprint(), other_secret.fingerprint());
    let scheduled: Keyring = format!("{one} {two}@4102444800").parse().expect("parses");
    assert_ne!(a.fingerprint(), scheduled.fingerprint());
    let cut: Keyring = format!("{one} {two} revoke-before=1700000000")
        .parse()
        .expect("parses");
    assert_ne!(a.fingerprint(), cut.fingerprint());
    // Each part of each key, alone: replicas that differ in any of them
    // refuse some of each other's cookies, and must not look alike.
    let aes = two.replace("xchacha20poly1305", "aes256gcm");
    let other_id = format!("3{}", &two[1..]);
    let pairs = [
        (format!("{one} {two}"), format!("{one} {aes}")),
        (format!("{one} {two}"), format!("{one} {other_id}")),
        (
            format!("{one} {two}@4102444800"),
            format!("{one} {two}@4102444801"),
        ),
        (
            format!("{one} {two} revoke-before=1700000000"),
            format!("{one} {two} revoke-before=1700000001"),
        ),
    ];
    for (x, y) in pairs {
        let (x, y): (Keyring, Keyring) = (x.parse().expect("parses"), y.parse().expect("parses"));
        assert_ne!(x.fingerprint(), y.fingerprint(), "{x:?} / {y:?}");
    }
    let shown = a.fingerprint().to_string();
    assert_eq!(shown.len(), 16);
    for entry in [&one, &two] {
        let key = entry.rsplit(':').next().expect("key");
        assert!(!shown.contains(&key[..8]));
    }
}

/// Per key: seals, re-seals, opens, refusals and the last seal, so the time
/// a retired key becomes safe to remove is known.
#[test]
fn stats_count_what_each_key_did() {
    let ring: Keyring = format!("{} {}@1800000000", entry(1), entry(2))
        .parse()
        .expect("parses");
    let shared = std::sync::Arc::new(ring);
    let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
    let before = Sealer::from_shared(shared.clone()).with_clock(move || at(1_799_999_000));
    let after = Sealer::from_shared(shared.clone()).with_clock(move || at(1_800_000_100));
    let value = before.seal(&1u8).expect("seals");
    let opened = after.open::<u8>(&value).expect("opens");
    after.reseal(&opened).expect("re-seals");
    let mut tampered = value.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    assert!(after.open::<u8>(&tampered).is_err());

    // Expired, by the clock of a server a day later.
    let day_later = Sealer::from_shared(shared.clone()).with_clock(move || at(1_800_200_000));
    assert!(day_later.open::<u8>(&value).is_err());

    // Not yet valid, by a server whose clock is behind by more than the
    // leeway; too long a lifetime for a server with a shorter TTL; not the
    // type asked for.
    let behind = Sealer::from_shared(shared.clone()).with_clock(move || at(1_799_998_000));
    assert!(behind.open::<u8>(&value).is_err());
    let shorter = Sealer::from_shared(shared.clone())
        .with_ttl(Duration::from_secs(3600))
        .with_clock(move || at(1_799_999_000));
    assert!(shorter.open::<u8>(&value).is_err());
    assert!(before.open::<String>(&value).is_err());

    let one = shared.stats(KeyId(1)).expect("key 1");
    assert_eq!((one.seals, one.opens, one.refusals), (1, 1, 5));
    assert_eq!((one.refused.authentication, one.refused.expired), (1, 1));
    let r = one.refused;
    assert_eq!(
        (
            r.not_yet_valid,
            r.lifetime_too_long,
            r.decode,
            r.revoked,
            r.other
        ),
        (1, 1, 1, 0, 0)
    );
    assert_eq!(one.last_sealed_at, Some(at(1_799_999_000)));
    let two = shared.stats(KeyId(2)).expect("key 2");
    assert_eq!((two.seals, two.reseals), (1, 1));
    assert_eq!(two.last_sealed_at, Some(at(1_800_000_100)));
}

/// Per-subject revocation: the application's check runs after a value
/// opens, and refuses exactly the subject it names.
#[test]
fn open_checked_refuses_exactly_the_revoked_subject() {
    let sealer = Sealer::new(Keyring::ephemeral().expect("rng"));
    let ada = sealer.seal(&("ada".to_owned(), 1u64)).expect("seals");
    let bob = sealer.seal(&("bob".to_owned(), 2u64)).expect("seals");
    let valid_after = SystemTime::now() + Duration::from_secs(60);
    let check = |s: &sealed_session::Opened<(String, u64)>| {
        s.value.0 != "ada" || s.issued_at >= valid_after
    };
    assert_eq!(
        sealer.open_checked(&ada, check),
        Err(Error::Refused(Refusal::RevokedSubject))
    );
    assert_eq!(
        sealer.open_checked(&bob, check).expect("bob stays").value.0,
        "bob"
    );
}

#[test]
fn a_missing_keyring_file_is_an_error_naming_it() {
    let dir = scratch_dir();
    let path = dir.join("absent");
    let error = LiveKeyring::watch_file(&path).expect_err("no file");
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert!(
        error.to_string().contains("cannot read the keyring file"),
        "{error}"
    );
    assert!(error.to_string().contains("absent"), "{error}");
}

/// A keyring given where its file's path belongs (a spec in
/// `SESSION_KEYS_FILE` instead of `SESSION_KEYS`, or a bare key) is not
/// read as a path and never repeated: the error says why without it.
#[test]
fn a_spec_given_as_a_keyring_path_is_not_repeated() {
    let spec = entry(1);
    let key = spec.rsplit(':').next().expect("key").to_owned();
    for path in [spec.clone(), key.clone(), format!("{spec} {}", entry(2))] {
        let errors = [
            LiveKeyring::watch_file(&path).expect_err("no such file"),
            Keyring::from_file(&path).expect_err("no such file"),
        ];
        for error in errors {
            for text in [error.to_string(), format!("{error:?}")] {
                assert!(text.contains("cannot read the keyring file"), "{text}");
                assert!(text.contains("not shown"), "{text}");
                for piece in key.as_bytes().chunks(8) {
                    let piece = std::str::from_utf8(piece).expect("ASCII");
                    assert!(!text.contains(piece), "{piece:?} in {text}");
                }
            }
        }
    }
}

/// A reload keeps the counters of the keys it keeps (same id and secret),
/// so a retiring key's last seal survives edits of the file.
#[test]
fn a_reload_keeps_the_counters_of_the_keys_it_keeps() {
    let (one, two) = (entry(1), entry(2));
    let live = LiveKeyring::new(one.parse().expect("parses")).expect("seals");
    let sealer = Sealer::from_live(&live);
    sealer.seal(&"ada").expect("seals");
    let before = live.current().stats(KeyId(1)).expect("key 1");
    assert_eq!(before.seals, 1);
    live.replace(format!("{one} {two}").parse().expect("parses"))
        .expect("applies");
    let after = live.current().stats(KeyId(1)).expect("key 1");
    assert_eq!(
        (after.seals, after.last_sealed_at),
        (1, before.last_sealed_at)
    );
    // Another secret under id 1 starts from zero.
    live.replace(format!("{} {two}", entry(1)).parse().expect("parses"))
        .expect("applies");
    assert_eq!(live.current().stats(KeyId(1)).expect("key 1").seals, 0);
    // So does the first key, added back after that replacement removed
    // it, though it sealed before (SECURITY.md: the counts run since the
    // key was last added).
    live.replace(format!("{one} {two}").parse().expect("parses"))
        .expect("applies");
    let back = live.current().stats(KeyId(1)).expect("key 1");
    assert_eq!((back.seals, back.last_sealed_at), (0, None));
}

/// Counts made on many threads add up exactly, whichever threads made
/// them: also once those threads have exited, on threads that come after
/// them, and through a reload.
#[test]
fn stats_add_up_across_threads() {
    let (one, two) = (entry(1), entry(2));
    let live = LiveKeyring::new(one.parse().expect("parses")).expect("seals");
    let sealer = Sealer::from_live(&live);
    let value = sealer.seal(&7u32).expect("seals");
    let (threads, each) = (8, 250);
    let run = |sealer: &Sealer| {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..each {
                        sealer.seal(&7u32).expect("seals");
                        sealer.open::<u32>(&value).expect("opens");
                        assert!(sealer.open::<u32>(&value[1..]).is_err());
                    }
                });
            }
        });
    };
    run(&sealer);
    let stats = live.current().stats(KeyId(1)).expect("key 1");
    let n = (threads * each) as u64;
    assert_eq!((stats.seals, stats.opens), (n + 1, n));
    // A value one character short is malformed before a key is named;
    // one with a flipped tag byte names key 1 and fails authentication.
    let mut forged = value.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ASCII");
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| assert!(sealer.open::<u32>(&forged).is_err()));
        }
    });
    let stats = live.current().stats(KeyId(1)).expect("key 1");
    assert_eq!(stats.refused.authentication, threads as u64);
    // New threads (which may take over the exited ones' slots) add on.
    run(&sealer);
    live.replace(format!("{one} {two}").parse().expect("parses"))
        .expect("applies");
    let stats = live.current().stats(KeyId(1)).expect("key 1");
    assert_eq!((stats.seals, stats.opens), (2 * n + 1, 2 * n));
    assert_eq!(stats.refusals, threads as u64);
}

/// A file the watcher cannot read (deleted, say) is reported once, with an
/// error event naming it, and the keyring in force stays; written again in
/// place (not renamed over), it is read and applied.
#[test]
fn an_unreadable_keyring_file_is_reported_and_an_edit_in_place_applied() {
    capture::install();
    let dir = scratch_dir();
    let path = dir.join("keys");
    let (one, two) = (entry(1), entry(2));
    std::fs::write(&path, format!("{one}\n")).expect("write");
    let live = LiveKeyring::watch_file_every(&path, Duration::from_millis(20)).expect("loads");
    let path_text = path.display().to_string();
    std::fs::remove_file(&path).expect("delete");
    within_5s(|| !capture::lines_with(&path_text).is_empty());
    // Several reads later, still one event, and the keyring unchanged.
    std::thread::sleep(Duration::from_millis(200));
    let events = capture::lines_with(&path_text);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert!(events[0].starts_with("ERROR"), "{events:?}");
    assert!(events[0].contains("keyring file not read"), "{events:?}");
    assert_eq!(live.current().len(), 1);
    std::fs::write(&path, format!("{one}\n{two}\n")).expect("write in place");
    within_5s(|| live.current().len() == 2);
    drop(live);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// A replacement logs the counters of every key of the keyring going out
/// of force (what it sealed and opened here, and its last seal: what tells
/// an operator a key may be removed) and the keyring put in force, with
/// its fingerprint.
#[test]
fn a_replacement_logs_the_old_keys_counters_and_the_new_fingerprint() {
    capture::install();
    let (old_id, new_id) = (4_000_000_001u32, 4_000_000_002u32);
    let live = LiveKeyring::new(entry(old_id).parse().expect("parses")).expect("seals");
    let sealer = Sealer::from_live(&live);
    let value = sealer.seal(&"one").expect("seals");
    sealer.seal(&"two").expect("seals");
    sealer.open::<String>(&value).expect("opens");
    let new: Keyring = entry(new_id).parse().expect("parses");
    let fingerprint = new.fingerprint().to_string();
    live.replace(new).expect("applies");

    let counters = capture::lines_with(&format!("key_id={old_id}"));
    assert_eq!(counters.len(), 1, "{counters:#?}");
    let line = &counters[0];
    assert!(line.starts_with("INFO"), "{line}");
    assert!(line.contains("going out of force"), "{line}");
    for field in [
        "seals=2",
        "reseals=0",
        "opens=1",
        "refusals=0",
        "last_sealed=Some(",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    let in_force = capture::lines_with(&fingerprint);
    assert_eq!(in_force.len(), 1, "{in_force:#?}");
    assert!(in_force[0].starts_with("INFO"), "{in_force:?}");
    assert!(in_force[0].contains("keyring in force"), "{in_force:?}");
    assert!(in_force[0].contains("\"replaced\""), "{in_force:?}");
    assert!(
        in_force[0].contains(&format!("sealing=Some({new_id})")),
        "{in_force:?}"
    );
}

/// Replacements from several threads at once (the watcher and the API, or
/// an application that replaces from several places) take turns: each
/// builds on the keyring the one before it put in force. So every keyring
/// put in force is logged going out of force exactly once, with its own
/// counters; none is skipped (its counts lost) and none logged twice.
#[test]
fn replacements_at_once_take_turns() {
    capture::install();
    const BASE: u32 = 3_900_000_000;
    let (threads, each) = (4u32, 25u32);
    let live = LiveKeyring::new(entry(BASE).parse().expect("parses")).expect("seals");
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let live = live.clone();
            scope.spawn(move || {
                let sealer = Sealer::from_live(&live);
                for i in 0..each {
                    let id = BASE + 1 + thread * each + i;
                    live.replace(entry(id).parse().expect("parses"))
                        .expect("applies");
                    sealer.seal(&"x").expect("seals");
                }
            });
        }
    });
    let last = live.current().ids().next().expect("one key").0;
    let ours = BASE..=BASE + threads * each;
    let mut logged: Vec<u32> = capture::lines_with("going out of force")
        .iter()
        .filter_map(|line| {
            let id = line.split("key_id=").nth(1)?.split(' ').next()?;
            id.parse().ok()
        })
        .filter(|id| ours.contains(id))
        .collect();
    logged.sort_unstable();
    let expected: Vec<u32> = ours.clone().filter(|id| *id != last).collect();
    assert_eq!(logged, expected, "each keyring replaced logged once");
}

/// What the watcher logs: every keyring put in force (with its fingerprint)
/// and every change it does not apply (with the reason), never key material.
#[test]
fn the_watcher_logs_what_it_applies_and_what_it_refuses() {
    capture::install();
    let dir = scratch_dir();
    let path = dir.join("keys");
    let (one, two) = (entry(1), entry(2));
    std::fs::write(&path, format!("{one}\n")).expect("write");
    let live = LiveKeyring::watch_file_every(&path, Duration::from_millis(50)).expect("loads");
    let first = live.current().fingerprint().to_string();
    replace_file(&path, &format!("{one}\n{two}\n"));
    within_5s(|| live.current().len() == 2);
    let second = live.current().fingerprint().to_string();
    // A bad line that holds a key: refused, and the key is not repeated.
    let bad_key = Key::try_generate().expect("rng").to_base64();
    replace_file(&path, &format!("{one}\n{two}\n3:nonsense:{bad_key}\n"));
    let path_text = path.display().to_string();
    within_5s(|| !capture::lines_with(&path_text).is_empty());

    let in_force: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|f| capture::lines_with(f.as_str()))
        .collect();
    assert!(in_force.len() >= 2, "{in_force:?}");
    assert!(in_force
        .iter()
        .all(|l| l.starts_with("INFO") && l.contains("keyring in force")));
    let refused = capture::lines_with(&path_text);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].starts_with("ERROR"), "{refused:?}");
    assert!(refused[0].contains("not applied"), "{refused:?}");
    assert!(refused[0].contains("keyring entry 3"), "{refused:?}");
    // A file that parses but leaves no key able to seal now: refused with
    // an error event too, and the keyring in force stays.
    let four = entry(4);
    let later = format!("{four}@2100-01-01T00:00:00Z");
    replace_file(&path, &format!("{later}\n"));
    within_5s(|| capture::lines_with(&path_text).len() == 2);
    let refused = capture::lines_with(&path_text);
    assert!(refused[1].starts_with("ERROR"), "{refused:?}");
    assert!(refused[1].contains("not applied"), "{refused:?}");
    assert!(
        refused[1].contains("no key in the keyring may seal now"),
        "{refused:?}"
    );
    assert_eq!(live.current().fingerprint().to_string(), second);
    let everything = capture::lines_with("");
    for key in [
        &bad_key,
        one.rsplit(':').next().expect("key"),
        two.rsplit(':').next().expect("key"),
        four.rsplit(':').next().expect("key"),
    ] {
        for window in key.as_bytes().windows(8) {
            let window = std::str::from_utf8(window).expect("ASCII");
            assert!(
                everything.iter().all(|l| !l.contains(window)),
                "key material in the log"
            );
        }
    }
    drop(live);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

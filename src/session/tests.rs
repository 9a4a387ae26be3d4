//! Unit tests of the session protocol: what `begin`/`load` read and what
//! `finish` writes, lifetimes across writes, and the size check.

use super::*;

/// The one `Set-Cookie` value `finish` decides, if any.
impl<T: Serialize + DeserializeOwned + 'static> Session<T> {
    fn finish_one(&self) -> Option<String> {
        let mut values = self.finish();
        assert!(values.len() <= 1, "one cookie, one decision: {values:?}");
        values.pop()
    }
}

use crate::cookie::{CookieOptions, MAX_SAME_NAME_COOKIES};
use crate::key::Key;
use crate::keyring::{KeyEntry, Keyring};
use crate::sealer::Sealer;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

fn config() -> SessionConfig {
    SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("rng"))).expect("valid")
}

/// A clock the test sets by hand (seconds since 1970 in `now`), starting
/// at `start`.
fn manual_clock(
    start: u64,
) -> (
    Arc<AtomicU64>,
    impl Fn() -> SystemTime + Clone + Send + Sync,
) {
    let now = Arc::new(AtomicU64::new(start));
    let clock = {
        let now = Arc::clone(&now);
        move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst))
    };
    (now, clock)
}

fn cookie_of(header: &str) -> String {
    header.split(';').next().expect("name=value").to_owned()
}

#[test]
fn empty_request_writes_nothing() {
    let s = Session::<String>::load(&config(), []);
    assert!(s.is_empty());
    assert_eq!(s.finish_one(), None);
}

#[test]
fn set_then_load() {
    let c = config();
    let s = Session::<String>::load(&c, []);
    s.set("ada".into()).expect("small");
    let header = s.finish_one().expect("changed");
    assert!(header.starts_with("session="));
    let again = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
    assert_eq!(again.get().as_deref(), Some("ada"));
    assert_eq!(again.finish_one(), None);
}

#[test]
fn bad_cookie_is_removed_unless_replaced() {
    let c = config();
    let s = Session::<String>::load(&c, [b"session=garbage".as_slice()]);
    assert!(s.is_empty());
    assert_eq!(s.finish_one(), Some(c.removal_cookie()));

    let s = Session::<String>::load(&c, [b"session=garbage".as_slice()]);
    s.set("new".into()).expect("small");
    let header = s.finish_one().expect("changed");
    assert_ne!(header, c.removal_cookie());
}

#[test]
fn undecodable_is_refused() {
    let c = config();
    let s = Session::<String>::load(&c, []);
    s.set("not a number".into()).expect("small");
    let cookie = cookie_of(&s.finish_one().expect("changed"));
    let s = Session::<(u64, u64, u64)>::load(&c, [cookie.as_bytes()]);
    assert!(s.is_empty());
    assert_eq!(s.finish_one(), Some(c.removal_cookie()));
}

#[test]
fn too_large_leaves_session_as_it_was() {
    let c = config();
    let s = Session::<String>::load(&c, []);
    s.set("kept".into()).expect("small");
    let err = s.set("x".repeat(4000)).expect_err("too large");
    assert!(
        matches!(err, Error::Seal(SealError::TooLarge { .. })),
        "{err:?}"
    );
    assert_eq!(s.get().as_deref(), Some("kept"));
    let err = s
        .update(|v: &mut String| v.push_str(&"y".repeat(4000)))
        .expect_err("too large");
    assert!(
        matches!(err, Error::Seal(SealError::TooLarge { .. })),
        "{err:?}"
    );
    assert_eq!(s.get().as_deref(), Some("kept"));
    let header = s.finish_one().expect("changed");
    assert!(header.len() <= crate::MAX_COOKIE_BYTES);
    let again = Session::<String>::load(&c, [cookie_of(&header).as_bytes()]);
    assert_eq!(again.get().as_deref(), Some("kept"));
}

/// `with_persistent(false)`: browser-session cookies, with no `Max-Age`,
/// for the session, its flash and its CSRF cookie; a removal still ends
/// the cookie at once (`Max-Age=0`).
#[test]
fn non_persistent_cookies_carry_no_max_age() {
    let c = SessionConfig::with_options(
        Sealer::new(Keyring::ephemeral().expect("rng")),
        CookieOptions::default().with_persistent(false),
    )
    .expect("valid");
    let s = Session::<String>::load(&c, []);
    s.set("ada".to_owned()).expect("small");
    s.set_flash("welcome").expect("small");
    s.csrf_token().expect("a token");
    let headers = s.finish();
    assert_eq!(headers.len(), 3, "{headers:?}");
    for header in &headers {
        assert!(!header.contains("Max-Age"), "{header}");
    }
    let session = headers
        .iter()
        .find(|h| h.starts_with("session="))
        .expect("the session cookie");
    let s = Session::<String>::load(&c, [cookie_of(session).as_bytes()]);
    s.clear();
    let removal = s.finish_one().expect("a removal");
    assert!(removal.ends_with("Max-Age=0"), "{removal}");
    // The default is persistent: the time the value has left (a day, less
    // the fraction of the second it was sealed in).
    let s = Session::<String>::load(&config(), []);
    s.set("ada".to_owned()).expect("small");
    let header = s.finish_one().expect("changed");
    let max_age: u64 = header
        .rsplit_once("Max-Age=")
        .and_then(|(_, secs)| secs.parse().ok())
        .expect("a Max-Age");
    assert!((86_398..=86_400).contains(&max_age), "{header}");
}

#[test]
fn header_limit_counts_attributes() {
    // A value that fits the sealer's own limit but not with attributes.
    let c = SessionConfig::with_options(
        Sealer::new(Keyring::ephemeral().expect("rng")),
        CookieOptions::default().with_domain(&"d".repeat(200)),
    )
    .expect("valid");
    let s = Session::<Vec<u8>>::load(&c, []);
    // Find the largest payload that seals within 4096 characters alone.
    let mut n = 2900;
    while c.sealer().seal(&vec![0u8; n + 1]).is_ok() {
        n += 1;
    }
    let err = s.set(vec![0u8; n]).expect_err("header too long");
    assert!(
        matches!(err, Error::Seal(SealError::TooLarge { max: 4096, len }) if len > 4096),
        "{err:?}"
    );
    assert_eq!(s.finish_one(), None);
}

#[test]
fn update_may_use_the_session() {
    let s = Session::<u8>::load(&config(), []);
    s.set(1).expect("small");
    let seen = s.update(|v| {
        let before = s.get();
        *v += 1;
        before
    });
    assert_eq!(seen.expect("small"), Some(1));
    assert_eq!(s.get(), Some(2));
}

#[test]
fn clear_removes() {
    let c = config();
    let s = Session::<u8>::load(&c, []);
    s.set(1).expect("small");
    s.clear();
    assert!(s.is_empty());
    assert_eq!(s.finish_one(), Some(c.removal_cookie()));
}

#[test]
fn duplicate_names() {
    let c = config();
    let seal = |v: u8| {
        let s = Session::<u8>::load(&c, []);
        s.set(v).expect("small");
        cookie_of(&s.finish_one().expect("changed"))
    };
    let (one, two) = (seal(1), seal(2));
    // Garbage before and after a valid one: the valid one is used and
    // nothing is removed.
    let h = format!("session=junk; {one}; session=more-junk");
    let s = Session::<u8>::load(&c, [h.as_bytes()]);
    assert_eq!(s.get(), Some(1));
    assert_eq!(s.finish_one(), None);
    // Two valid ones, in either order and across headers: ambiguous.
    for headers in [
        vec![format!("{one}; {two}")],
        vec![two.clone(), one.clone()],
    ] {
        let s = Session::<u8>::load(&c, headers.iter().map(|h| h.as_bytes()));
        assert!(s.is_empty());
        assert_eq!(s.finish_one(), None, "nothing removed when ambiguous");
    }
    // The same valid cookie twice is still two cookies.
    let h = format!("{one}; {one}");
    assert!(Session::<u8>::load(&c, [h.as_bytes()]).is_empty());
    // Too many: ignored unopened.
    let many = [one.as_str(); MAX_SAME_NAME_COOKIES + 1].join("; ");
    let s = Session::<u8>::load(&c, [many.as_bytes()]);
    assert!(s.is_empty());
    assert_eq!(s.finish_one(), None);
}

/// A server whose clock lags its peers' by more than the leeway must
/// not delete their fresh sessions.
#[test]
fn not_yet_valid_cookie_is_ignored_not_removed() {
    let ring = Arc::new(Keyring::ephemeral().expect("rng"));
    let at = |secs: u64| move || UNIX_EPOCH + Duration::from_secs(secs);
    let now = 1_800_000_000;
    let ours = Sealer::from_shared(Arc::clone(&ring)).with_clock(at(now));
    let c = SessionConfig::new(ours).expect("valid");
    // Two minutes ahead: past the default leeway of one minute.
    let peer = Sealer::from_shared(Arc::clone(&ring)).with_clock(at(now + 120));
    let early = format!("session={}", peer.seal(&1_u8).expect("small"));
    let valid = format!("session={}", c.sealer().seal(&2_u8).expect("small"));
    let load = |h: &str| {
        let s = Session::<u8>::load(&c, [h.as_bytes()]);
        (s.get(), s.finish_one())
    };

    // (Its warn event: tests/common/checks/logging.rs, over HTTP.)
    assert_eq!(load(&early), (None, None), "empty, and not removed");

    // Refused cookies beside it: still nothing removed, since the
    // removal would reach whichever of them sits at our path.
    let h = format!("session=junk; {early}; session=more-junk");
    assert_eq!(load(&h), (None, None));
    // Beside a valid one, in either order: two authentic cookies,
    // ambiguous as with two valid ones (a planted valid cookie must
    // not replace the user's own fresh session).
    assert_eq!(load(&format!("{early}; {valid}")), (None, None));
    assert_eq!(load(&format!("{valid}; {early}")), (None, None));
    // The handler may still store a session, which replaces it.
    let s = Session::<u8>::load(&c, [early.as_bytes()]);
    s.set(3).expect("small");
    let header = s.finish_one().expect("changed");
    let again = Session::<u8>::load(&c, [cookie_of(&header).as_bytes()]);
    assert_eq!(again.get(), Some(3));
    // Within the leeway it opens; once our clock catches up, the
    // ignored cookie opens too.
    let near = Sealer::from_shared(Arc::clone(&ring)).with_clock(at(now + 60));
    let near = format!("session={}", near.seal(&4_u8).expect("small"));
    assert_eq!(load(&near), (Some(4), None));
    let later =
        SessionConfig::new(Sealer::from_shared(ring).with_clock(at(now + 60))).expect("valid");
    assert_eq!(
        Session::<u8>::load(&later, [early.as_bytes()]).get(),
        Some(1)
    );
}

/// Nested layers: an inner one for the same cookie reuses the outer
/// session and finishes nothing; one for another cookie name, even
/// with the same `T`, holds its own.
#[test]
#[cfg(any(feature = "hyper", feature = "actix"))]
fn begin_reuses_an_outer_session_for_the_same_cookie_only() {
    let ring = Arc::new(Keyring::ephemeral().expect("rng"));
    let c = SessionConfig::new(Sealer::from_shared(Arc::clone(&ring))).expect("valid");
    let outer = Session::<u8>::begin(&c, None, [b"session=junk".as_slice()]).expect("first");
    assert!(Session::<u8>::begin(&c, Some(&outer), [b"session=junk".as_slice()]).is_none());
    let same_name = SessionConfig::new(Sealer::from_shared(Arc::clone(&ring))).expect("valid");
    assert!(Session::<u8>::begin(&same_name, Some(&outer), []).is_none());
    let other = SessionConfig::new(Sealer::from_shared(ring).with_name("admin")).expect("valid");
    let inner = Session::<u8>::begin(&other, Some(&outer), []).expect("another cookie");
    inner.set(1).expect("small");
    assert!(outer.is_empty());
    assert_eq!(outer.finish_one(), Some(c.removal_cookie()));
}

#[test]
fn stale_key_is_resealed_keeping_expiry() {
    let (now, clock) = manual_clock(1_800_000_000);
    let k1 = Key::try_generate().expect("rng");
    let k2 = Key::try_generate().expect("rng");
    let switch = UNIX_EPOCH + Duration::from_secs(1_800_000_100);
    let ring = Keyring::new([
        KeyEntry::new(1, k1),
        KeyEntry::new(2, k2).activate_at(switch),
    ])
    .expect("keyring");
    let sealer = Sealer::new(ring)
        .with_ttl(Duration::from_secs(1000))
        .with_clock(clock);
    let c = SessionConfig::new(sealer).expect("valid");

    let s = Session::<u8>::load(&c, []);
    s.set(9).expect("small");
    let old = cookie_of(&s.finish_one().expect("changed"));
    let old_value = old.trim_start_matches("session=");
    assert!(
        !c.sealer()
            .open::<u8>(old_value)
            .expect("opens")
            .needs_reseal
    );

    now.store(1_800_000_400, Ordering::SeqCst);
    let s = Session::<u8>::load(&c, [old.as_bytes()]);
    assert_eq!(s.get(), Some(9));
    let header = s.finish_one().expect("re-sealed");
    assert!(header.ends_with("Max-Age=600"), "{header}");
    let new = cookie_of(&header);
    let opened = c
        .sealer()
        .open::<u8>(new.trim_start_matches("session="))
        .expect("opens");
    assert_eq!(opened.value, 9);
    assert_eq!(opened.key_id, crate::KeyId(2));
    assert!(!opened.needs_reseal);
    let first = c.sealer().open::<u8>(old_value).expect("opens");
    assert_eq!(opened.expires_at, first.expires_at);
    assert_eq!(opened.issued_at, first.issued_at);
    let _: SystemTime = opened.expires_at;
}

#[test]
fn debug_shows_no_value() {
    let s = Session::<String>::load(&config(), []);
    s.set("secret-user-data".into()).expect("small");
    let debug = format!("{s:?}");
    assert!(!debug.contains("secret-user-data"), "{debug}");
    assert!(debug.contains("Changed"), "{debug}");
}

#[test]
fn session_is_send_and_sync() {
    fn assert_send_sync<X: Send + Sync + 'static>() {}
    assert_send_sync::<Session<String>>();
}

#[test]
fn missing_session_names_the_type() {
    let e = crate::ConfigError::missing_session::<Vec<u8>>().to_string();
    assert!(e.contains("Session<alloc::vec::Vec<u8>>"), "{e}");
}

mod hostile;

mod lifetime_tests;

/// The application's per-subject check: a session whose subject is revoked
/// is empty and its cookie removed; another subject's session stands; a
/// renewed session (fresh issued_at) passes again.
#[test]
fn subject_check_logs_out_exactly_that_subject() {
    use std::sync::Mutex;
    let revoked_after: Arc<Mutex<Option<SystemTime>>> = Arc::default();
    let cutoff = Arc::clone(&revoked_after);
    let c = SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("rng")))
        .expect("valid")
        .with_check(move |name: &String, issued_at| {
            name != "ada"
                || cutoff
                    .lock()
                    .expect("not poisoned")
                    .is_none_or(|after| issued_at >= after)
        });
    let cookie_for = |name: &str| {
        let s = Session::<String>::load(&c, []);
        s.set(name.to_owned()).expect("small");
        cookie_of(&s.finish_one().expect("changed"))
    };
    let (ada, bob) = (cookie_for("ada"), cookie_for("bob"));
    *revoked_after.lock().expect("not poisoned") =
        Some(SystemTime::now() + Duration::from_secs(3600));
    let s = Session::<String>::load(&c, [ada.as_bytes()]);
    assert!(s.is_empty(), "ada is logged out");
    assert_eq!(s.finish_one(), Some(c.removal_cookie()));
    let s = Session::<String>::load(&c, [bob.as_bytes()]);
    assert_eq!(s.get().as_deref(), Some("bob"), "bob stays");
    assert_eq!(s.finish_one(), None);
    // A check written for another type fails closed: the session is
    // refused, not let through unchecked.
    let n = Session::<u32>::load(&c, []);
    n.set(1).expect("small");
    let n = cookie_of(&n.finish_one().expect("changed"));
    assert_eq!(Session::<u32>::load(&c, [n.as_bytes()]).get(), None);
    // A second check adds to the first: both must pass.
    let both = c.clone().with_check(|name: &String, _| name != "bob");
    assert!(Session::<String>::load(&both, [bob.as_bytes()]).is_empty());
    assert!(Session::<String>::load(&both, [ada.as_bytes()]).is_empty());
    let carol = cookie_for("carol");
    assert_eq!(
        Session::<String>::load(&both, [carol.as_bytes()])
            .get()
            .as_deref(),
        Some("carol")
    );
}

/// Flash messages: status logic of the flash cookie, apart from the
/// session's.
mod flash {
    use super::*;

    fn flash_of(c: &SessionConfig, message: &str) -> String {
        let s = Session::<String>::load(c, []);
        s.set_flash(message).expect("small");
        let mut out = s.finish();
        assert_eq!(out.len(), 1, "only the flash cookie: {out:?}");
        let header = out.pop().expect("one");
        assert!(header.starts_with("session-flash="), "{header}");
        cookie_of(&header)
    }

    #[test]
    fn set_then_take_once_removes_it() {
        let c = config();
        let flash = flash_of(&c, "saved");
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        assert_eq!(s.take_flash::<String>().as_deref(), Some("saved"));
        assert_eq!(s.take_flash::<String>(), None, "once");
        assert_eq!(
            s.finish(),
            [c.removal_cookie_named(c.flash_name())],
            "no session cookie"
        );
    }

    /// A second `set_flash` in one request replaces the first, and a flash
    /// set in a request is for the next one: `take_flash` in the same
    /// request does not return it (the one the request carried, it does).
    #[test]
    fn the_last_flash_set_is_for_the_next_request() {
        let c = config();
        let carried = flash_of(&c, "carried");
        let s = Session::<String>::load(&c, [carried.as_bytes()]);
        s.set_flash("first").expect("small");
        s.set_flash("second").expect("small");
        assert_eq!(s.take_flash::<String>().as_deref(), Some("carried"));
        assert_eq!(s.take_flash::<String>(), None);
        let out = s.finish();
        assert_eq!(out.len(), 1, "{out:?}");
        let next = Session::<String>::load(&c, [cookie_of(&out[0]).as_bytes()]);
        assert_eq!(next.take_flash::<String>().as_deref(), Some("second"));
        let s = Session::<String>::load(&c, []);
        s.set_flash("fresh").expect("small");
        assert_eq!(
            s.take_flash::<String>(),
            None,
            "not in the request that set it"
        );
    }

    #[test]
    fn not_taken_is_left_alone() {
        let c = config();
        let flash = flash_of(&c, "saved");
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        assert!(s.finish().is_empty());
    }

    #[test]
    fn flash_beside_a_session_never_rewrites_it() {
        let c = config();
        let s = Session::<String>::load(&c, []);
        s.set("ada".into()).expect("small");
        let session = cookie_of(&s.finish_one().expect("changed"));
        let flash = flash_of(&c, "hi");
        let header = format!("{session}; {flash}");
        let s = Session::<String>::load(&c, [header.as_bytes()]);
        assert_eq!(s.get().as_deref(), Some("ada"));
        assert_eq!(s.take_flash::<String>().as_deref(), Some("hi"));
        assert_eq!(s.finish(), [c.removal_cookie_named(c.flash_name())]);
        // Setting one leaves the session cookie alone too.
        let s = Session::<String>::load(&c, [session.as_bytes()]);
        s.set_flash("again").expect("small");
        let out = s.finish();
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].starts_with("session-flash="), "{out:?}");
    }

    #[test]
    fn refused_flashes_are_none_and_removed() {
        let c = config();
        // A session value planted as the flash: bound to another name.
        let s = Session::<String>::load(&c, []);
        s.set("hi".into()).expect("small");
        let session_value = cookie_of(&s.finish_one().expect("changed"))
            .split_once('=')
            .expect("pair")
            .1
            .to_owned();
        let flash = flash_of(&c, "hi");
        let flash_value = flash.split_once('=').expect("pair").1;
        // And a flash planted as the session.
        let s = Session::<String>::load(&c, [format!("session={flash_value}").as_bytes()]);
        assert!(s.is_empty());
        assert_eq!(s.finish_one(), Some(c.removal_cookie()));
        let mut tampered = flash_value.to_owned().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");
        let cases = [
            format!("session-flash={session_value}"),
            format!("session-flash={tampered}"),
            "session-flash=garbage".to_owned(),
        ];
        for case in &cases {
            let s = Session::<String>::load(&c, [case.as_bytes()]);
            assert_eq!(s.take_flash::<String>(), None, "{case}");
            assert_eq!(
                s.finish(),
                [c.removal_cookie_named(c.flash_name())],
                "{case}"
            );
        }
        // Another type: refused and removed.
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        assert_eq!(s.take_flash::<u8>(), None);
        assert_eq!(s.finish(), [c.removal_cookie_named(c.flash_name())]);
        // Another cookie name's flash does not open here.
        let other = SessionConfig::new(c.sealer().clone().with_name("other")).expect("valid");
        let o = Session::<String>::load(&other, []);
        o.set_flash("elsewhere").expect("small");
        let elsewhere = o.finish().pop().expect("flash");
        let elsewhere_value = cookie_of(&elsewhere)
            .split_once('=')
            .expect("pair")
            .1
            .to_owned();
        let planted = format!("session-flash={elsewhere_value}");
        let s = Session::<String>::load(&c, [planted.as_bytes()]);
        assert_eq!(s.take_flash::<String>(), None);
    }

    /// Several flash cookies (one may be planted by a sibling domain): the
    /// one that opens is taken, and the response removes ours as for one;
    /// two that open are neither taken; the same value twice is one
    /// cookie; more than a name may have are none. Untaken, none is
    /// removed: a removal would reach only ours.
    #[test]
    fn of_several_flashes_the_one_that_opens_is_taken() {
        let c = config();
        let flash = flash_of(&c, "hi");
        let other = flash_of(&c, "planted");
        let removal = c.removal_cookie_named(c.flash_name());
        let many = ["session-flash=garbage"; MAX_SAME_NAME_COOKIES].join("; ");
        for (what, cookies, taken) in [
            (
                "ours and garbage",
                format!("session-flash=x; {flash}"),
                Some("hi"),
            ),
            (
                "garbage and ours",
                format!("{flash}; session-flash=x"),
                Some("hi"),
            ),
            ("the same twice", format!("{flash}; {flash}"), Some("hi")),
            ("two that open", format!("{flash}; {other}"), None),
            ("too many", format!("{flash}; {many}"), None),
        ] {
            let s = Session::<String>::load(&c, [cookies.as_bytes()]);
            assert!(s.finish().is_empty(), "{what}: untaken, left alone");
            let s = Session::<String>::load(&c, [cookies.as_bytes()]);
            assert_eq!(s.take_flash::<String>().as_deref(), taken, "{what}");
            assert_eq!(s.finish(), core::slice::from_ref(&removal), "{what}");
        }
    }

    #[test]
    fn expires_after_its_ttl() {
        let now = Arc::new(AtomicU64::new(2_000_000_000));
        let clock = Arc::clone(&now);
        let c = SessionConfig::new(
            Sealer::new(Keyring::ephemeral().expect("rng"))
                .with_clock(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst))),
        )
        .expect("valid")
        .with_flash_ttl(Duration::from_secs(120));
        assert_eq!(c.flash_ttl(), Duration::from_secs(120));
        let s = Session::<String>::load(&c, []);
        s.set_flash("soon gone").expect("small");
        let header = s.finish().pop().expect("flash");
        assert!(header.ends_with("; Max-Age=120"), "{header}");
        let flash = cookie_of(&header);
        now.fetch_add(120 + 61, Ordering::SeqCst);
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        assert_eq!(s.take_flash::<String>(), None);
        assert_eq!(s.finish(), [c.removal_cookie_named(c.flash_name())]);
    }

    /// README: a flash lasts the flash TTL, or the idle timeout if that
    /// is shorter; after the idle timeout it no longer opens.
    #[test]
    fn lasts_no_longer_than_the_idle_timeout() {
        let now = Arc::new(AtomicU64::new(2_000_000_000));
        let clock = Arc::clone(&now);
        let c = SessionConfig::new(
            Sealer::new(Keyring::ephemeral().expect("rng"))
                .with_idle_timeout(Duration::from_secs(30), Duration::from_secs(10))
                .with_clock(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst))),
        )
        .expect("valid");
        assert_eq!(c.flash_ttl(), crate::DEFAULT_FLASH_TTL);
        let s = Session::<String>::load(&c, []);
        s.set_flash("soon gone").expect("small");
        let header = s.finish().pop().expect("flash");
        assert!(header.ends_with("; Max-Age=30"), "{header}");
        let flash = cookie_of(&header);
        now.fetch_add(29, Ordering::SeqCst);
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        assert_eq!(s.take_flash::<String>().as_deref(), Some("soon gone"));
        now.fetch_add(1 + 61, Ordering::SeqCst);
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        assert_eq!(s.take_flash::<String>(), None);
    }

    #[test]
    fn clear_drops_flashes_renew_keeps_them() {
        let c = config();
        let flash = flash_of(&c, "hi");
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        s.clear();
        assert_eq!(s.take_flash::<String>(), None);
        // The session's own removal last (curl takes only a response's
        // last removal).
        assert_eq!(
            s.finish(),
            [c.removal_cookie_named(c.flash_name()), c.removal_cookie()]
        );
        // A flash set before clear is dropped, one set after it is sent.
        let s = Session::<String>::load(&c, []);
        s.set_flash("dropped").expect("small");
        s.clear();
        assert_eq!(s.finish(), [c.removal_cookie()]);
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        s.clear();
        s.set_flash("logged out").expect("small");
        let out = s.finish();
        assert_eq!(out.len(), 2, "{out:?}");
        // The removal last (curl keeps a cookie whose removal another
        // `Set-Cookie` follows).
        assert!(out[0].starts_with("session-flash=") && !out[0].ends_with("Max-Age=0"));
        assert_eq!(out[1], c.removal_cookie());
        // Renew leaves a flash to be taken.
        let s = Session::<String>::load(&c, [flash.as_bytes()]);
        s.renew().expect("empty");
        assert_eq!(s.take_flash::<String>().as_deref(), Some("hi"));
    }

    #[test]
    fn too_large_is_the_handlers_error() {
        let c = config();
        let s = Session::<String>::load(&c, []);
        let err = s.set_flash(&"x".repeat(5000)).expect_err("too large");
        assert!(
            matches!(err, Error::Seal(SealError::TooLarge { .. })),
            "{err:?}"
        );
        assert!(s.finish().is_empty());
    }

    #[test]
    fn host_prefix_names_and_checks() {
        let c = SessionConfig::new(
            Sealer::new(Keyring::ephemeral().expect("rng")).with_name("__Host-sid"),
        )
        .expect("valid");
        assert_eq!(c.flash_name(), "__Host-sid-flash");
        let s = Session::<u8>::load(&c, []);
        s.set_flash(&1u8).expect("small");
        assert!(s.finish()[0].starts_with("__Host-sid-flash="));
    }
}

/// The CSRF cookie: minted by `csrf_token`, bound to the session's
/// `issued_at`, checked by `verify_csrf_token`, apart from the session
/// cookie.
mod csrf {
    use super::*;
    use crate::session::CsrfFailure;

    /// The CSRF `Cookie` pair and a token of a request that only asked
    /// for a token, on top of `cookies`.
    fn mint(c: &SessionConfig, cookies: &str) -> (String, String) {
        let s = Session::<String>::load(c, [cookies.as_bytes()]);
        let token = s.csrf_token().expect("minted");
        let out = s.finish();
        let header = out
            .iter()
            .find(|h| h.starts_with("session-csrf="))
            .expect("a CSRF cookie");
        (cookie_of(header), token)
    }

    fn session_cookie(c: &SessionConfig) -> String {
        let s = Session::<String>::load(c, []);
        s.set("ada".into()).expect("small");
        cookie_of(&s.finish_one().expect("stored"))
    }

    /// Several CSRF cookies (without `__Host-` a sibling domain may plant
    /// some, and a removal would reach only ours): none is removed, and the
    /// token passes with the one of this session, so a planted cookie
    /// (garbage, another session's) cannot make every form fail. Beside an
    /// empty session a planted cookie belongs to it too: a token of either
    /// passes, and a new token mints a cookie of ours. The same value twice
    /// is one cookie; more than a name may have are none.
    #[test]
    fn of_several_csrf_cookies_those_of_this_session_are_used() {
        let c = config();
        let session = session_cookie(&c);
        let (ours, token) = mint(&c, &session);
        let (anonymous, anonymous_token) = mint(&c, "");
        let many = ["session-csrf=garbage"; MAX_SAME_NAME_COOKIES].join("; ");
        for (what, cookies, verified) in [
            ("garbage first", format!("session-csrf=x; {ours}"), Ok(())),
            ("garbage last", format!("{ours}; session-csrf=x"), Ok(())),
            ("another session's", format!("{anonymous}; {ours}"), Ok(())),
            ("the same twice", format!("{ours}; {ours}"), Ok(())),
            (
                "too many",
                format!("{ours}; {many}"),
                Err(CsrfFailure::MissingCookie),
            ),
            (
                "only others'",
                format!("{anonymous}; session-csrf=x"),
                Err(CsrfFailure::OtherSession),
            ),
        ] {
            let cookies = format!("{session}; {cookies}");
            let s = Session::<String>::load(&c, [cookies.as_bytes()]);
            assert_eq!(s.verify_csrf_token(&token), verified, "{what}");
            assert!(
                s.verify_csrf_token(&anonymous_token).is_err(),
                "{what}: another session's token"
            );
            assert!(s.finish().is_empty(), "{what}: none removed");
            // A page: where the token passed, another of ours and no new
            // cookie; elsewhere a new cookie.
            let s = Session::<String>::load(&c, [cookies.as_bytes()]);
            let again = s.csrf_token().expect("a token");
            if verified.is_ok() {
                assert_eq!(s.verify_csrf_token(&again), Ok(()), "{what}");
            }
            assert_eq!(s.finish().is_empty(), verified.is_ok(), "{what}");
        }
        // Beside an empty session, the victim's and a planted one both
        // belong to it.
        let (theirs, their_token) = mint(&c, "");
        let two = format!("{anonymous}; {theirs}");
        let s = Session::<String>::load(&c, [two.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&anonymous_token), Ok(()));
        assert_eq!(s.verify_csrf_token(&their_token), Ok(()));
        assert_eq!(s.verify_csrf_token(&token), Err(CsrfFailure::WrongToken));
        assert!(s.finish().is_empty());
        // Each page masks the first of them, with no new cookie, so the
        // tokens of earlier pages keep passing.
        let page = || {
            let s = Session::<String>::load(&c, [two.as_bytes()]);
            let token = s.csrf_token().expect("a token");
            assert!(s.finish().is_empty(), "no new cookie");
            token
        };
        let (first, second) = (page(), page());
        let s = Session::<String>::load(&c, [two.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&first), Ok(()));
        assert_eq!(s.verify_csrf_token(&second), Ok(()));
    }

    /// README ("CSRF protection"): a form posted after its session
    /// expired is `OtherSession` after an idle timeout (the CSRF cookie
    /// lives to the TTL) and `MissingCookie` at the TTL (the CSRF cookie
    /// expires with the session; `tests/common/checks/csrf.rs` shows it
    /// over HTTP).
    #[test]
    fn a_form_after_an_idle_timeout_is_of_another_session() {
        let (now, clock) = manual_clock(2_000_000_000);
        let c = SessionConfig::new(
            Sealer::new(Keyring::ephemeral().expect("rng"))
                .with_ttl(Duration::from_secs(3600))
                .with_idle_timeout(Duration::from_secs(300), Duration::from_secs(60))
                .with_clock(clock),
        )
        .expect("valid");
        let session = session_cookie(&c);
        let (csrf, token) = mint(&c, &session);
        let both = format!("{session}; {csrf}");
        let s = Session::<String>::load(&c, [both.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
        // Past the idle timeout and the leeway: the session is gone, its
        // CSRF cookie is not.
        now.fetch_add(300 + 60, Ordering::SeqCst);
        let s = Session::<String>::load(&c, [both.as_bytes()]);
        assert!(s.is_empty());
        assert_eq!(s.verify_csrf_token(&token), Err(CsrfFailure::OtherSession));
        // Past the TTL and the leeway: the CSRF cookie is gone too.
        now.fetch_add(3600, Ordering::SeqCst);
        let s = Session::<String>::load(&c, [both.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Err(CsrfFailure::MissingCookie));
    }

    #[test]
    fn minted_once_then_reused_with_fresh_masks() {
        let c = config();
        let (csrf, token) = mint(&c, "");
        let s = Session::<String>::load(&c, [csrf.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
        let again = s.csrf_token().expect("reused");
        assert_ne!(again, token);
        assert_eq!(s.verify_csrf_token(&again), Ok(()));
        // Debug, plain and pretty, holds neither the token, the cookie,
        // nor the secret opened from it in any rendering of its bytes.
        let opened = c
            .csrf_sealer()
            .open::<([u8; 32], Option<u64>)>(&csrf["session-csrf=".len()..])
            .expect("opens");
        let secret = opened.value.0;
        for dbg in [format!("{s:?}"), format!("{s:#?}")] {
            assert!(
                !dbg.contains(&token[..12]) && !dbg.contains(&csrf[14..30]),
                "{dbg}"
            );
            let squashed: String = dbg.split_whitespace().collect();
            for w in secret.windows(4) {
                for form in [format!("{w:?}"), format!("{w:x?}"), format!("{w:X?}")] {
                    let form: String = form.split_whitespace().collect();
                    let form = form.trim_matches(['[', ']']);
                    assert!(!squashed.contains(form), "{form} in {dbg}");
                }
                let hex: String = w.iter().map(|b| format!("{b:02x}")).collect();
                assert!(!dbg.to_lowercase().contains(&hex), "{hex} in {dbg}");
            }
        }
        assert!(s.finish().is_empty(), "no new cookie");
    }

    #[test]
    fn bound_to_the_session_it_was_minted_for() {
        let c = config();
        let ada = session_cookie(&c);
        let (csrf, token) = mint(&c, &ada);
        let both = format!("{ada}; {csrf}");
        let s = Session::<String>::load(&c, [both.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
        // Without the session, or after a renew, it belongs to another.
        let s = Session::<String>::load(&c, [csrf.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Err(CsrfFailure::OtherSession));
        // A renew retires it, even within the second of the session's
        // first seal (same issued_at), and the response removes it.
        let s = Session::<String>::load(&c, [both.as_bytes()]);
        s.renew().expect("renewed");
        assert_eq!(s.verify_csrf_token(&token), Err(CsrfFailure::MissingCookie));
        let out = s.finish();
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1], c.removal_cookie_named(c.csrf_name()));
    }

    #[test]
    fn minted_before_a_login_follows_the_new_session() {
        let c = config();
        let s = Session::<String>::load(&c, []);
        let token = s.csrf_token().expect("minted");
        s.set("ada".into()).expect("small");
        let out = s.finish();
        assert_eq!(out.len(), 2, "{out:?}");
        let cookies = format!("{}; {}", cookie_of(&out[0]), cookie_of(&out[1]));
        let s = Session::<String>::load(&c, [cookies.as_bytes()]);
        assert_eq!(s.get().as_deref(), Some("ada"));
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
    }

    #[test]
    fn came_before_a_login_is_not_carried_into_it() {
        let c = config();
        let (csrf, token) = mint(&c, "");
        let s = Session::<String>::load(&c, [csrf.as_bytes()]);
        s.set("ada".into()).expect("small");
        let after = s.csrf_token().expect("a new one");
        let out = s.finish();
        let new_csrf = out
            .iter()
            .find(|h| h.starts_with("session-csrf="))
            .expect("a new CSRF cookie");
        assert_ne!(cookie_of(new_csrf), csrf);
        let cookies = format!("{}; {}", cookie_of(&out[0]), cookie_of(new_csrf));
        let s = Session::<String>::load(&c, [cookies.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&after), Ok(()));
        assert_eq!(s.verify_csrf_token(&token), Err(CsrfFailure::WrongToken));
    }

    #[test]
    fn refused_cookies_are_removed_unless_replaced() {
        let c = config();
        let (csrf, token) = mint(&c, "");
        let mut tampered = csrf.clone().into_bytes();
        let at = tampered.len() - 5;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");
        // A flash planted as the CSRF cookie, and another name's cookie.
        let flash = {
            let s = Session::<String>::load(&c, []);
            s.set_flash("hi").expect("small");
            s.finish()[0].replacen("session-flash=", "session-csrf=", 1)
        };
        let other = SessionConfig::new(c.sealer().clone().with_name("other")).expect("valid");
        let (foreign, _) = {
            let s = Session::<String>::load(&other, []);
            s.csrf_token().expect("minted");
            let h = s.finish().pop().expect("one");
            (h.replacen("other-csrf=", "session-csrf=", 1), ())
        };
        let removal = c.removal_cookie_named(c.csrf_name());
        for (what, cookie) in [
            ("tampered", tampered),
            ("a flash", cookie_of(&flash)),
            ("another cookie name's", cookie_of(&foreign)),
            ("garbage", "session-csrf=garbage".to_owned()),
        ] {
            let s = Session::<String>::load(&c, [cookie.as_bytes()]);
            assert_eq!(
                s.verify_csrf_token(&token),
                Err(CsrfFailure::MissingCookie),
                "{what}"
            );
            assert_eq!(s.finish(), core::slice::from_ref(&removal), "{what}");
            let s = Session::<String>::load(&c, [cookie.as_bytes()]);
            let fresh = s.csrf_token().expect("replaced");
            let out = s.finish();
            assert_eq!(out.len(), 1, "{what}: {out:?}");
            assert_ne!(out[0], removal, "{what}");
            let s = Session::<String>::load(&c, [cookie_of(&out[0]).as_bytes()]);
            assert_eq!(s.verify_csrf_token(&fresh), Ok(()), "{what}");
        }
        // Unchecked, an intact one is left alone.
        let s = Session::<String>::load(&c, [csrf.as_bytes()]);
        assert!(s.finish().is_empty());
    }

    /// README: the first store of an empty session retires a token made
    /// before it (the CSRF cookie was bound to "no session"); a token
    /// taken after the write passes.
    #[test]
    fn the_first_store_retires_an_earlier_token() {
        let c = config();
        let (csrf, early) = mint(&c, "");
        // A write alone: the CSRF cookie stays, bound to no session.
        let s = Session::<String>::load(&c, [csrf.as_bytes()]);
        s.set("ada".into()).expect("small");
        let session = cookie_of(&s.finish_one().expect("stored"));
        let jar = format!("{session}; {csrf}");
        let s = Session::<String>::load(&c, [jar.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&early), Err(CsrfFailure::OtherSession));
        // A token taken after the write passes (with its new cookie).
        let s = Session::<String>::load(&c, [csrf.as_bytes()]);
        s.set("ada".into()).expect("small");
        let fresh = s.csrf_token().expect("after the write");
        let jar = s
            .finish()
            .iter()
            .map(|h| cookie_of(h))
            .collect::<Vec<_>>()
            .join("; ");
        let s = Session::<String>::load(&c, [jar.as_bytes()]);
        assert!(s.verify_csrf_token(&early).is_err());
        assert_eq!(s.verify_csrf_token(&fresh), Ok(()));
    }

    #[test]
    fn clear_removes_it_and_a_later_token_is_new() {
        let c = config();
        let ada = session_cookie(&c);
        let (csrf, _) = mint(&c, &ada);
        let both = format!("{ada}; {csrf}");
        let s = Session::<String>::load(&c, [both.as_bytes()]);
        s.clear();
        let removal = c.removal_cookie_named(c.csrf_name());
        assert_eq!(s.finish(), [removal, c.removal_cookie()]);
        let s = Session::<String>::load(&c, [both.as_bytes()]);
        s.csrf_token().expect("before logout");
        s.clear();
        let token = s.csrf_token().expect("for the login form");
        let out = s.finish();
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1], c.removal_cookie(), "the removal last");
        let s = Session::<String>::load(&c, [cookie_of(&out[0]).as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
    }

    /// A CSRF cookie sealed under a key that no longer seals is re-sealed
    /// under the current one (same secret, same expiry) when it is opened,
    /// so removing the old key later breaks no rendered form; not when it
    /// came with others (SECURITY.md, cookie tossing).
    #[test]
    fn retired_key_cookie_is_resealed_keeping_its_secret() {
        let (now, clock) = manual_clock(1_800_000_000);
        let k1 = Key::try_generate().expect("rng");
        let k2 = Key::try_generate().expect("rng");
        let ring = |entries: Vec<KeyEntry>| {
            let sealer = Sealer::new(Keyring::new(entries).expect("keyring"))
                .with_ttl(Duration::from_secs(1000))
                .with_clock(clock.clone());
            SessionConfig::new(sealer).expect("valid")
        };
        let old = ring(vec![KeyEntry::new(1, k1.clone())]);
        let (csrf, token) = mint(&old, "");
        let both = ring(vec![KeyEntry::new(1, k1), KeyEntry::new(2, k2.clone())]);
        now.store(1_800_000_300, Ordering::SeqCst);

        // Not opened: left alone.
        let s = Session::<String>::load(&both, [csrf.as_bytes()]);
        assert!(s.finish().is_empty());
        // Among several (one planted beside it): the token passes, and
        // nothing is written, since a re-seal at our path would replace
        // the user's cookie with whichever one was re-sealed.
        let (planted, _) = mint(&old, "");
        let several = format!("{csrf}; {planted}");
        let s = Session::<String>::load(&both, [several.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
        assert!(s.csrf_token().is_ok());
        assert!(s.finish().is_empty(), "no re-seal among several");
        // Checked: re-sealed under key 2, same expiry.
        let s = Session::<String>::load(&both, [csrf.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
        let out = s.finish();
        assert_eq!(out.len(), 1, "{out:?}");
        let resealed = cookie_of(&out[0]);
        let value = |c: &str| c["session-csrf=".len()..].to_owned();
        let before = both.csrf_sealer().open_bytes(&value(&csrf)).expect("opens");
        let after = both
            .csrf_sealer()
            .open_bytes(&value(&resealed))
            .expect("opens");
        assert_eq!(after.key_id.to_string(), "2");
        assert!(!after.needs_reseal);
        assert_eq!(after.expires_at, before.expires_at);
        // The old key gone, the token still passes with the new cookie.
        let new = ring(vec![KeyEntry::new(2, k2)]);
        let s = Session::<String>::load(&new, [resealed.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()));
        assert!(s.finish().is_empty());
    }

    /// The binding's limits, as SECURITY.md states them: a CSRF cookie of
    /// "no session" passes beside any browser's "no session", and one
    /// bound to a session passes beside another session issued in the same
    /// second (the binding is the `issued_at` second); a second apart, it
    /// does not.
    #[test]
    fn binding_is_the_issued_at_second_or_no_session() {
        let (now, clock) = manual_clock(1_800_000_000);
        let c =
            SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("rng")).with_clock(clock))
                .expect("valid");
        let (anonymous, token) = mint(&c, "");
        let s = Session::<String>::load(&c, [anonymous.as_bytes()]);
        assert_eq!(s.verify_csrf_token(&token), Ok(()), "any anonymous browser");

        let attacker = session_cookie(&c);
        let victim_same_second = session_cookie(&c);
        now.fetch_add(1, Ordering::SeqCst);
        let victim_later = session_cookie(&c);
        let (planted, token) = mint(&c, &attacker);
        for (victim, passes) in [(victim_same_second, true), (victim_later, false)] {
            let cookies = format!("{victim}; {planted}");
            let s = Session::<String>::load(&c, [cookies.as_bytes()]);
            assert_eq!(s.verify_csrf_token(&token).is_ok(), passes);
        }
    }

    #[test]
    fn expires_with_the_session() {
        let c = config();
        let ada = session_cookie(&c);
        let s = Session::<String>::load(&c, [ada.as_bytes()]);
        let expires = s.expires_at().expect("a session");
        s.csrf_token().expect("minted");
        let header = s
            .finish()
            .into_iter()
            .find(|h| h.starts_with("session-csrf="))
            .expect("minted");
        let value = cookie_of(&header)["session-csrf=".len()..].to_owned();
        let opened = c.csrf_sealer().open_bytes(&value).expect("opens");
        assert_eq!(opened.expires_at, expires);
    }
}

/// `update` without `Clone`: the copy goes through the type's serde impls.
#[test]
fn update_needs_no_clone() {
    #[derive(Default, serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Cart {
        items: Vec<String>,
    }
    let c = config();
    let s = Session::<Cart>::load(&c, []);
    let n = s
        .update(|cart| {
            cart.items.push("tea".into());
            cart.items.len()
        })
        .expect("small");
    assert_eq!(n, 1);
    let n = s
        .update(|cart| {
            // The session still reads as before the update.
            assert_eq!(s.with(|v| v.map(|c| c.items.len())), Some(1));
            cart.items.push("milk".into());
            cart.items.len()
        })
        .expect("small");
    assert_eq!(n, 2);
    // Too large: the session is left as it was.
    let err = s.update(|cart| cart.items.push("x".repeat(10_000)));
    assert!(err.is_err());
    s.with(|v| {
        assert_eq!(
            v.map(|c| c.items.as_slice()),
            Some(&["tea".to_owned(), "milk".to_owned()][..])
        )
    });
    let header = s.finish_one().expect("stored");
    let again = Session::<Cart>::load(&c, [cookie_of(&header).as_bytes()]);
    again.with(|v| assert_eq!(v.map(|c| c.items.len()), Some(2)));
}

/// `update` hands `f` what the cookie would hold: a field the serde impls
/// skip arrives as its default.
#[test]
fn update_sees_skipped_fields_as_the_cookie_would() {
    #[derive(Default, serde::Serialize, serde::Deserialize)]
    struct Counted {
        n: u32,
        #[serde(skip)]
        scratch: u32,
    }
    let s = Session::<Counted>::load(&config(), []);
    s.set(Counted { n: 1, scratch: 7 }).expect("small");
    let seen = s.update(|c| (c.n, c.scratch)).expect("small");
    assert_eq!(seen, (1, 0));
}

/// A type that writes more than it reads back (a field skipped only when
/// deserializing) would not open from its own cookie (the bytes left over
/// refuse it as `Decode`), so `update` refuses it up front and leaves the
/// session as it was.
#[test]
fn update_refuses_a_type_that_does_not_read_what_it_writes() {
    #[derive(Default, serde::Serialize, serde::Deserialize)]
    struct Lopsided {
        n: u32,
        #[serde(skip_deserializing)]
        written_only: u32,
    }
    let c = config();
    let s = Session::<Lopsided>::load(&c, []);
    s.set(Lopsided {
        n: 1,
        written_only: 7,
    })
    .expect("set does not read back");
    let err = s.update(|v| v.n += 1).expect_err("reads back less");
    assert_eq!(err, Error::Seal(SealError::Encode));
    s.with(|v| assert_eq!(v.map(|v| v.n), Some(1)));
    // What `update` refuses is what opening the cookie refuses.
    let header = s.finish_one().expect("stored");
    let opened = c
        .sealer()
        .open::<Lopsided>(cookie_of(&header).split_once('=').expect("pair").1)
        .map(|o| o.value.n);
    assert_eq!(opened, Err(Error::Refused(Refusal::Decode)));
}

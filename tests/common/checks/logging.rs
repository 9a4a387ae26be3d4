//! What the server's log says about sessions: the reason, at the level it
//! deserves, and never a piece of a cookie's value. The log is the test
//! binary's (`capture.rs`), shared by the checks running in parallel, so
//! each check here uses a cookie name no other check uses and reads only
//! the events that name it.

use std::sync::Arc;
use std::time::Duration;

use sealed_session::{Algorithm, KeyEntry, Keyring, MAX_COOKIE_BYTES};

use crate::common::{
    capture, config, get, key, one_key_ring, removal_cookie, set_cookie, Start, TestClock,
    TestSession, TTL,
};

/// The events so far that name cookie `name`.
fn events_of(name: &str) -> Vec<String> {
    capture::lines_with(&format!("cookie={name:?}"))
}

/// Asserts that no event at all, of this check or another, holds a piece
/// of `value`.
#[track_caller]
fn assert_not_logged(value: &str) {
    for chunk in value.as_bytes().chunks(8) {
        let chunk = std::str::from_utf8(chunk).expect("ASCII");
        let leaks = capture::lines_with(chunk);
        assert!(leaks.is_empty(), "{chunk:?} of the value in {leaks:?}");
    }
}

fn user(name: &str) -> TestSession {
    TestSession {
        username: Some(name.to_owned()),
        ..TestSession::default()
    }
}

/// A refused cookie is logged: one warn-level "session cookie refused"
/// event that names the cookie and the reason, and holds no piece of the
/// cookie's value (the server's log must not become a store of session
/// values, even refused ones).
pub(crate) async fn refused_cookie_is_logged_without_its_value(start: Start) {
    // A name no other test of this binary uses: the capture is shared.
    const NAME: &str = "refusal-logged";
    capture::install();
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), NAME);
    let config = config(sealer.clone());
    let removal = removal_cookie(&config);
    let server = start(config);
    let mut tampered = sealer
        .seal(&TestSession::default())
        .expect("seal")
        .into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");

    let r = get(server.addr, "/get", &[format!("{NAME}={tampered}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert_eq!(r.set_cookies, [removal]);
    // The event is emitted before the handler runs, so before the reply.
    let lines = capture::lines_with(&format!("cookie={NAME:?}"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("WARN "), "{line}");
    assert!(line.contains("message=session cookie refused"), "{line}");
    assert!(
        line.contains("error=sealed value refused: authentication failed"),
        "{line}"
    );
    // No event at all, of this test or another, holds a piece of it.
    assert_not_logged(&tampered);
}

/// A routine refusal (browser junk, an expired value) is logged at debug
/// level, not warn: one "session cookie refused" event naming the cookie,
/// without the value.
pub(crate) async fn routine_refusal_is_logged_at_debug(start: Start) {
    const NAME: &str = "refusal-routine";
    capture::install();
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), NAME));
    let removal = removal_cookie(&config);
    let server = start(config);

    let r = get(server.addr, "/get", &[format!("{NAME}=junk")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert_eq!(r.set_cookies, [removal]);
    let lines = events_of(NAME);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("DEBUG "), "{line}");
    assert!(line.contains("message=session cookie refused"), "{line}");
    // "junk" decodes as base64: a routine "unsupported envelope version".
    assert!(line.contains("error=sealed value refused: "), "{line}");
    assert!(!line.contains("junk"), "{line}");
}

/// Two valid cookies of our name (cookie tossing; the same one twice
/// counts as two): one warn event per request saying so, naming the
/// cookie and neither value.
pub(crate) async fn several_valid_cookies_are_logged_without_their_value(start: Start) {
    const NAME: &str = "tossing-logged";
    capture::install();
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), NAME);
    let server = start(config(sealer.clone()));
    let (one, two) = (
        sealer.seal(&user("ada")).expect("seal"),
        sealer.seal(&user("mallory")).expect("seal"),
    );

    for (n, header) in [
        format!("{NAME}={one}; {NAME}={two}"),
        format!("{NAME}={one}; {NAME}={one}"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = get(server.addr, "/get", &[header]).await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"));
        assert!(r.set_cookies.is_empty(), "{r:?}");
        let lines = events_of(NAME);
        assert_eq!(lines.len(), n + 1, "{lines:?}");
        let line = &lines[n];
        assert!(line.starts_with("WARN "), "{line}");
        assert!(line.contains("several valid cookies"), "{line}");
        assert!(line.contains("count=2"), "{line}");
    }
    assert_not_logged(&one);
    assert_not_logged(&two);
}

/// A cookie that is not yet valid (a peer's clock is ahead by more than
/// the leeway) is ignored with one warn event that says so and that it
/// was not removed, without the value.
pub(crate) async fn not_yet_valid_cookie_is_logged_as_a_warning(start: Start) {
    const NAME: &str = "not-yet-valid-logged";
    capture::install();
    let clock = TestClock::new();
    let ring = one_key_ring();
    let server = start(config(clock.sealer(&ring, NAME)));
    let ahead = clock.clone();
    // Two minutes ahead: past the sealer's default leeway of one minute.
    let peer = clock
        .sealer(&ring, NAME)
        .with_clock(move || ahead.now() + Duration::from_secs(120));
    let early = peer.seal(&user("ada")).expect("seal");

    let r = get(server.addr, "/get", &[format!("{NAME}={early}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "not removed: {r:?}");
    let lines = events_of(NAME);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("WARN "), "{line}");
    assert!(line.contains("not yet valid"), "{line}");
    assert!(line.contains("not removed"), "{line}");
    assert_not_logged(&early);
}

/// A key added and activated at once (no check when the session was
/// stored could foresee it) can make a stored session too large to
/// re-seal: that user is logged out when the old key goes, so it is an
/// error event (naming the cookie and the old key, not the value), and
/// nothing unsendable is written.
pub(crate) async fn unsendable_reseal_is_logged_as_an_error(start: Start) {
    const NAME: &str = "reseal-too-large";
    capture::install();
    let clock = TestClock::new();
    let aes = KeyEntry::new(1, key()).algorithm(Algorithm::Aes256Gcm);
    let before = Arc::new(Keyring::new([aes.clone()]).expect("keyring"));
    let after = Arc::new(Keyring::new([aes, KeyEntry::new(300, key())]).expect("keyring"));
    // The largest session whose cookie fits under key 1 alone.
    let old = clock.sealer(&before, NAME);
    let old_config = config(old.clone());
    let session = |len: usize| TestSession {
        blob: "x".repeat(len),
        ..user("ada")
    };
    let fits = |len: usize| {
        old.seal(&session(len))
            .is_ok_and(|v| set_cookie(&old_config, &v, TTL).len() <= MAX_COOKIE_BYTES)
    };
    let len = (2000..5000)
        .find(|&n| !fits(n))
        .expect("a limit below 5000")
        - 1;
    let value = old.seal(&session(len)).expect("fits");
    let server = start(config(clock.sealer(&after, NAME)));

    let r = get(server.addr, "/get", &[format!("{NAME}={value}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    assert!(r.set_cookies.is_empty(), "nothing unsendable: {r:?}");
    let lines = events_of(NAME);
    let errors: Vec<_> = lines.iter().filter(|l| l.starts_with("ERROR ")).collect();
    assert_eq!(errors.len(), 1, "{lines:?}");
    assert!(errors[0].contains("could not be re-sealed"), "{lines:?}");
    assert!(errors[0].contains("key_id=1"), "{lines:?}");
    assert_not_logged(&value);
}

/// A session written after its response went out (a handle a spawned task
/// kept): the write cannot reach the client, so it is lost, and a warn
/// event naming the cookie says so. (`/keep` is this check's alone: the
/// handle it pops is the one its request kept.)
pub(crate) async fn write_after_the_response_is_logged_and_lost(start: Start) {
    const NAME: &str = "late-write";
    const EVENT: &str = "session changed after the response was written";
    capture::install();
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), NAME)));
    let mut jar = crate::common::Jar::default();
    let r = jar.get(server.addr, "/set?username=ada").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));

    let late = || {
        let lines = events_of(NAME);
        lines
            .into_iter()
            .filter(|line| line.contains(EVENT))
            .collect::<Vec<_>>()
    };
    assert!(late().is_empty());
    let r = jar.get(server.addr, "/keep").await;
    assert_eq!((r.status, r.body.as_str()), (200, "kept"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
    assert!(
        capture::lines_with(EVENT).is_empty(),
        "a write in time warned"
    );
    let kept = crate::common::KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .pop()
        .expect("the handler kept its session");
    kept.update(|s| s.username = Some("mallory".to_owned()))
        .expect("the write itself succeeds");
    let lines = late();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("WARN "), "{}", lines[0]);
    assert!(lines[0].contains("the change is lost"), "{}", lines[0]);

    // The client never saw it.
    let r = jar.get(server.addr, "/get").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
}

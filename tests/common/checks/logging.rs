//! What the server's log says about sessions: the reason, at the level it
//! deserves, and never a piece of a cookie's value. The log is the test
//! binary's (`capture.rs`), shared by the checks running in parallel, so
//! each check here uses a cookie name no other check uses and reads only
//! the events that name it.

use crate::common::{
    capture, config, get, one_key_ring, removal_cookie, Start, TestClock, TestSession,
};

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
    for chunk in tampered.as_bytes().chunks(8) {
        let chunk = std::str::from_utf8(chunk).expect("ASCII");
        let leaks = capture::lines_with(chunk);
        assert!(leaks.is_empty(), "{chunk:?} of the value in {leaks:?}");
    }
}

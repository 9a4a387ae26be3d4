//! Flash messages on the wire: set before a redirect, read exactly once
//! after it, in a cookie of their own that never rewrites the session's;
//! refused when they come from elsewhere; gone at logout.

use sealed_session::{SessionConfig, DEFAULT_FLASH_TTL};

use crate::common::{
    attributes_but_max_age, capture, config, cookie_value, get, one_key_ring, removal_cookie, Jar,
    Start, TestClock, TTL,
};

/// The `Set-Cookie` header that removes the flash cookie of `config`: the
/// session's removal cookie under the flash cookie's name.
fn flash_removal_cookie(config: &SessionConfig) -> String {
    let removal = removal_cookie(config);
    let rest = removal
        .strip_prefix(config.name())
        .expect("starts with the name");
    format!("{}{rest}", config.flash_name())
}

/// A flash set before a redirect is read by the next request that takes
/// it, once: that response removes the flash cookie and writes no session
/// cookie; the request after it sees no flash. The flash cookie has the
/// session cookie's attributes and the flash TTL as Max-Age.
pub(crate) async fn flash_is_read_once_after_a_redirect(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "session"));
    let removal = flash_removal_cookie(&config);
    let server = start(config);
    let mut jar = Jar::default();
    let session = jar.get(server.addr, "/set?username=ada").await;
    let session = session.only_cookie().to_owned();

    let r = jar.get(server.addr, "/flash?msg=saved").await;
    assert_eq!((r.status, r.body.as_str()), (303, "ok"));
    let flash = r.only_cookie();
    assert!(flash.starts_with("session-flash="), "{flash}");
    assert_eq!(
        attributes_but_max_age(flash),
        attributes_but_max_age(&session)
    );
    assert!(
        flash.ends_with(&format!("; Max-Age={}", DEFAULT_FLASH_TTL.as_secs())),
        "{flash}"
    );

    // After the redirect: read once, removed, the session cookie untouched.
    let r = jar.get(server.addr, "/show-flash").await;
    assert_eq!((r.status, r.body.as_str()), (200, "saved"));
    assert_eq!(r.only_cookie(), removal, "no session Set-Cookie");
    assert!(jar.value("session-flash").is_none());

    let r = jar.get(server.addr, "/show-flash").await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
    assert_eq!(jar.get(server.addr, "/who").await.body, "ada");

    // A client that replays the flash it was given (before it expires)
    // reads it again: the flash is not a nonce.
    let replay = get(
        server.addr,
        "/show-flash",
        &[format!("session-flash={}", cookie_value(flash))],
    )
    .await;
    assert_eq!(replay.body, "saved");
}

/// A flash that is not taken survives requests that do not read it, even
/// ones that write the session, and is read later.
pub(crate) async fn unread_flash_survives_other_requests(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/flash?msg=later").await;
    assert_eq!(r.status, 303);
    r.only_cookie();
    let flash = jar.value("session-flash").expect("flash kept").to_owned();

    let r = jar.get(server.addr, "/get").await;
    assert!(r.set_cookies.is_empty(), "{r:?}");
    let r = jar.get(server.addr, "/count").await;
    assert!(r.only_cookie().starts_with("session="), "{r:?}");
    assert_eq!(jar.value("session-flash"), Some(flash.as_str()));

    let r = jar.get(server.addr, "/show-flash").await;
    assert_eq!(r.body, "later");
    assert_eq!(jar.get(server.addr, "/get").await.body, ":1");
}

/// A flash sealed for another cookie name, a tampered flash, a session
/// value planted as the flash, and garbage: no flash, and the response
/// removes the flash cookie. A flash planted as the session is no session.
pub(crate) async fn foreign_tampered_and_planted_flashes_do_not_open(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let config = config(clock.sealer(&ring, "session"));
    let removal = flash_removal_cookie(&config);
    let session_removal = removal_cookie(&config);
    let server = start(config);
    // Same keyring and purpose, another cookie name.
    let other = start(self::config(clock.sealer(&ring, "other")));

    let foreign = get(other.addr, "/flash?msg=elsewhere", &[]).await;
    let foreign = cookie_value(foreign.only_cookie()).to_owned();
    let own = get(server.addr, "/flash?msg=mine", &[]).await;
    let own = cookie_value(own.only_cookie()).to_owned();
    let session = get(server.addr, "/set?username=ada", &[]).await;
    let session = cookie_value(session.only_cookie()).to_owned();
    let mut tampered = own.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");

    for (what, value) in [
        ("another cookie name's flash", &foreign),
        ("a tampered flash", &tampered),
        ("a session value", &session),
        ("garbage", &"garbage".to_owned()),
    ] {
        let r = get(
            server.addr,
            "/show-flash",
            &[format!("session-flash={value}")],
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (200, "-"), "{what}");
        assert_eq!(r.set_cookies, std::slice::from_ref(&removal), "{what}");
    }

    // The flash planted as the session cookie is no session.
    let r = get(server.addr, "/who", &[format!("session={own}")]).await;
    assert_eq!(r.body, "-");
    assert_eq!(r.set_cookies, [session_removal]);

    // The genuine one still opens.
    let r = get(
        server.addr,
        "/show-flash",
        &[format!("session-flash={own}")],
    )
    .await;
    assert_eq!(r.body, "mine");
}

/// Logout removes the session cookie and a flash cookie the request
/// carried; the flash is not read afterwards.
pub(crate) async fn logout_removes_the_flash(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "__Host-sid"));
    // The session's own removal last (curl takes only a response's last).
    let removals = [flash_removal_cookie(&config), removal_cookie(&config)];
    let server = start(config);
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada")
        .await
        .only_cookie();
    let r = jar.get(server.addr, "/flash?msg=hello").await;
    assert!(r.only_cookie().starts_with("__Host-sid-flash="), "{r:?}");

    let r = jar.get(server.addr, "/logout").await;
    assert_eq!(r.set_cookies, removals);
    assert!(jar.value("__Host-sid-flash").is_none());
    let r = jar.get(server.addr, "/show-flash").await;
    assert_eq!(r.body, "-");
    assert!(r.set_cookies.is_empty(), "{r:?}");
}

/// Under nested layers for the same session and cookie (the `/nested/`
/// routes), setting and taking a flash is still one decision per cookie:
/// one flash `Set-Cookie`, then one removal.
pub(crate) async fn flash_under_nested_layers_is_one_decision(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "session"));
    let removal = flash_removal_cookie(&config);
    let server = start(config);
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/nested/flash?msg=deep").await;
    assert_eq!(r.status, 303);
    assert!(r.only_cookie().starts_with("session-flash="), "{r:?}");
    let r = jar.get(server.addr, "/nested/show-flash").await;
    assert_eq!(r.body, "deep");
    assert_eq!(r.only_cookie(), removal);
    let r = jar.get(server.addr, "/nested/show-flash").await;
    assert_eq!(r.body, "-");
    assert!(r.set_cookies.is_empty(), "{r:?}");
}

/// A refused flash cookie is logged: a warn event that names the flash
/// cookie and the reason, with no piece of the value; an expired one at
/// debug level (routine).
pub(crate) async fn refused_flash_is_logged_without_its_value(start: Start) {
    const NAME: &str = "flash-logged";
    capture::install();
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), NAME)));
    let own = get(server.addr, "/flash?msg=secret-notice", &[]).await;
    let own = cookie_value(own.only_cookie()).to_owned();
    let mut tampered = own.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    let flash_cookie = format!("{NAME}-flash");
    let r = get(
        server.addr,
        "/show-flash",
        &[format!("{flash_cookie}={tampered}")],
    )
    .await;
    assert_eq!(r.body, "-");
    // Ten minutes and the leeway (a minute) after it was set, well inside
    // the session's own TTL, the flash no longer opens; a second before,
    // it does (taking it then would spend it, so that is read with a copy
    // of the cookie sent as another request's).
    assert_eq!(DEFAULT_FLASH_TTL, std::time::Duration::from_secs(600));
    assert!(DEFAULT_FLASH_TTL + std::time::Duration::from_secs(60) < TTL);
    clock.advance(std::time::Duration::from_secs(600 + 60 - 1));
    let r = get(
        server.addr,
        "/show-flash",
        &[format!("{flash_cookie}={own}")],
    )
    .await;
    assert_eq!(r.body, "secret-notice");
    clock.advance(std::time::Duration::from_secs(1));
    let r = get(
        server.addr,
        "/show-flash",
        &[format!("{flash_cookie}={own}")],
    )
    .await;
    assert_eq!(r.body, "-");

    let events = capture::lines_with(&format!("cookie={flash_cookie:?}"));
    assert_eq!(events.len(), 2, "{events:#?}");
    assert!(events[0].starts_with("WARN "), "{events:?}");
    assert!(events[0].contains("flash cookie refused"), "{events:?}");
    assert!(events[0].contains("authentication failed"), "{events:?}");
    assert!(events[1].starts_with("DEBUG "), "{events:?}");
    assert!(events[1].contains("expired"), "{events:?}");
    for chunk in own.as_bytes().chunks(8) {
        let chunk = std::str::from_utf8(chunk).expect("ASCII");
        assert!(capture::lines_with(chunk).is_empty(), "{chunk:?} logged");
    }
}

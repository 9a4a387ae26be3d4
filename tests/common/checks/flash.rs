//! Flash messages on the wire: set before a redirect, read exactly once
//! after it, in a cookie of their own that never rewrites the session's;
//! refused when they come from elsewhere; gone at logout.

use sealed_session::{SessionConfig, DEFAULT_FLASH_TTL};

use crate::common::{
    attributes_but_max_age, config, cookie_value, get, one_key_ring, removal_cookie, Jar, Start,
    TestClock,
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
    let removals = [removal_cookie(&config), flash_removal_cookie(&config)];
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

//! A session's life on the wire: stored, read, counted, removed, expired,
//! refused, too large, under nested layers, without a layer, and taken
//! through `SessionExt`.

use std::sync::Arc;
use std::time::Duration;

use sealed_session::{
    CookieOptions, Error, KeyEntry, KeyId, Keyring, Refusal, SameSite, Sealer, SessionConfig,
    MAX_COOKIE_BYTES,
};

use crate::common::{
    attributes_but_max_age, capture, config, cookie_value, get, key, one_key_ring, removal_cookie,
    set_cookie, Jar, Start, TestClock, TestSession, TTL,
};

/// Set then get across requests; an untouched session writes no cookie.
pub(crate) async fn set_then_get(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();

    let r = jar.get(server.addr, "/get").await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "no session, no cookie: {r:?}");

    let r = jar.get(server.addr, "/set?username=ada").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    assert!(r.only_cookie().starts_with("session="), "{r:?}");

    for _ in 0..3 {
        let r = jar.get(server.addr, "/get").await;
        assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
        assert!(r.set_cookies.is_empty(), "untouched session: {r:?}");
    }
}

/// A per-visitor counter: every visitor counts alone.
pub(crate) async fn counter(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let (mut alice, mut bob) = (Jar::default(), Jar::default());
    for n in 1..=3 {
        let r = alice.get(server.addr, "/count").await;
        assert_eq!((r.status, r.body.clone()), (200, n.to_string()));
        r.only_cookie();
    }
    let r = bob.get(server.addr, "/count").await;
    assert_eq!(r.body, "1");
    let r = alice.get(server.addr, "/get").await;
    assert_eq!(r.body, ":3");
}

/// The default attributes are the secure ones, Max-Age is the TTL.
pub(crate) async fn secure_defaults(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let r = get(server.addr, "/set?username=ada", &[]).await;
    let header = r.only_cookie();
    let attrs = attributes_but_max_age(header);
    assert_eq!(
        attrs,
        ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"],
        "{header}"
    );
    assert!(
        header.ends_with(&format!("; Max-Age={}", TTL.as_secs())),
        "{header}"
    );

    // A __Host- cookie works end to end.
    let server = start(config(clock.sealer(&one_key_ring(), "__Host-sid")));
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/set?username=grace").await;
    assert!(r.only_cookie().starts_with("__Host-sid="), "{r:?}");
    assert_eq!(jar.get(server.addr, "/get").await.body, "grace:0");
}

/// Logout removes the cookie with the same Path, Domain and attributes.
pub(crate) async fn logout_removes_the_cookie(start: Start) {
    let clock = TestClock::new();
    let options = CookieOptions::default()
        .with_domain("example.test")
        .with_same_site(SameSite::Strict);
    let config = SessionConfig::with_options(clock.sealer(&one_key_ring(), "session"), options)
        .expect("valid config");
    let removal = removal_cookie(&config);
    let server = start(config);
    let mut jar = Jar::default();
    let set = jar.get(server.addr, "/set?username=ada").await;
    let set = set.only_cookie().to_owned();

    let r = jar.get(server.addr, "/logout").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    let header = r.only_cookie();
    assert_eq!(header, removal);
    assert!(header.starts_with("session=;"), "{header}");
    assert!(header.ends_with("; Max-Age=0"), "{header}");
    assert_eq!(attributes_but_max_age(header), attributes_but_max_age(&set));
    assert!(jar.value("session").is_none());

    let r = jar.get(server.addr, "/get").await;
    assert_eq!(r.body, ":0");
    assert!(r.set_cookies.is_empty());
}

/// Tampered, wrong-name, unknown-key and garbage cookies: an empty session,
/// a 200, and the bad cookie removed. A handler that stores a new session
/// replaces it instead.
pub(crate) async fn bad_cookies_are_an_empty_session(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let sealer = clock.sealer(&ring, "session");
    let config = config(sealer.clone());
    let removal = removal_cookie(&config);
    let server = start(config);

    let valid = sealer
        .seal(&TestSession {
            username: Some("ada".into()),
            ..TestSession::default()
        })
        .expect("seal");
    let mut tampered = valid.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    let other_name = clock
        .sealer(&ring, "other")
        .seal(&TestSession::default())
        .expect("seal");
    let other_purpose = Sealer::from_shared(Arc::clone(&ring))
        .with_name("session")
        .with_purpose("another-app")
        .seal(&TestSession::default())
        .expect("seal");
    let unknown_key = clock
        .sealer(
            &Arc::new(Keyring::new([KeyEntry::new(99, key())]).expect("keyring")),
            "session",
        )
        .seal(&TestSession::default())
        .expect("seal");
    let same_id_other_key = clock
        .sealer(&one_key_ring(), "session")
        .seal(&TestSession::default())
        .expect("seal");
    let undecodable = sealer.seal(&[u64::MAX; 3]).expect("seal");

    let bad = [
        tampered,
        other_name,
        other_purpose,
        unknown_key,
        same_id_other_key,
        undecodable,
        "garbage".to_owned(),
        "%%%not-base64%%%".to_owned(),
        String::new(),
        "\"quoted\"".to_owned(),
        "A".repeat(10_000),
    ];
    for value in &bad {
        let headers = [format!("session={value}")];
        let r = get(server.addr, "/get", &headers).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, ":0"),
            "value {value:.40}"
        );
        assert_eq!(r.set_cookies, [removal.as_str()], "value {value:.40}");

        let r = get(server.addr, "/set?username=new", &headers).await;
        assert_eq!(r.status, 200);
        let header = r.only_cookie();
        assert_ne!(header, removal);
        let opened = sealer
            .open::<TestSession>(cookie_value(header))
            .expect("a new valid cookie");
        assert_eq!(opened.value.username.as_deref(), Some("new"));
    }

    // Our value under another cookie's name is not our cookie: ignored,
    // and nothing to remove.
    let r = get(server.addr, "/get", &[format!("other={valid}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "{r:?}");

    // The genuine cookie still works.
    let r = get(server.addr, "/get", &[format!("session={valid}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    assert!(r.set_cookies.is_empty());
}

/// An expired cookie (by the injected clock) is an empty session and is
/// removed.
pub(crate) async fn expired_cookie(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "session"));
    let removal = removal_cookie(&config);
    let server = start(config);
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    let cookie = jar.headers();

    clock.advance(TTL - Duration::from_secs(1));
    assert_eq!(get(server.addr, "/get", &cookie).await.body, "ada:0");

    // Past the TTL and the sealer's default leeway (one minute).
    clock.advance(Duration::from_secs(62));
    let r = get(server.addr, "/get", &cookie).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert_eq!(r.set_cookies, [removal]);
}

/// A cookie sealed by a peer whose clock is ahead by more than the leeway
/// is not yet valid here: an empty session, and not removed (a lagging
/// server must not delete its peers' fresh sessions). Beside a valid
/// cookie it makes the request ambiguous; a write replaces it; it opens
/// once the clocks agree.
pub(crate) async fn not_yet_valid_cookie_is_ignored_not_removed(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let ours = clock.sealer(&ring, "session");
    let server = start(config(ours.clone()));
    let ahead = clock.clone();
    // Two minutes ahead: past the sealer's default leeway of one minute.
    let peer = clock
        .sealer(&ring, "session")
        .with_clock(move || ahead.now() + Duration::from_secs(120));
    let user = |name: &str| TestSession {
        username: Some(name.into()),
        ..TestSession::default()
    };
    let fresh = peer.seal(&user("ada")).expect("seal");
    assert_eq!(
        ours.open::<TestSession>(&fresh).err(),
        Some(Error::Refused(Refusal::NotYetValid))
    );
    let cookie = [format!("session={fresh}")];

    let r = get(server.addr, "/get", &cookie).await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "not removed: {r:?}");
    let r = get(
        server.addr,
        "/get",
        &[format!("session=junk; {}", cookie[0])],
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    assert!(r.set_cookies.is_empty(), "not removed beside junk: {r:?}");

    // Beside a valid cookie (planted?): two authentic cookies, none used.
    let planted = ours.seal(&user("mallory")).expect("seal");
    for header in [
        format!("session={planted}; session={fresh}"),
        format!("session={fresh}; session={planted}"),
    ] {
        let r = get(server.addr, "/get", &[header]).await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"));
        assert!(r.set_cookies.is_empty(), "{r:?}");
    }

    // The handler's write replaces it: one Set-Cookie, the handler's.
    let r = get(server.addr, "/set?username=grace", &cookie).await;
    let opened = ours
        .open::<TestSession>(cookie_value(r.only_cookie()))
        .expect("the handler's cookie");
    assert_eq!(opened.value.username.as_deref(), Some("grace"));

    // Once this server's clock catches up, the same cookie is the session.
    clock.advance(Duration::from_secs(120));
    let r = get(server.addr, "/get", &cookie).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
}

/// A stolen cookie kept alive by a route that writes (the counter) still
/// ends one TTL after it was issued: every write keeps the first
/// `issued_at`, and `Max-Age` counts down to the same expiry.
pub(crate) async fn writes_keep_the_absolute_lifetime(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/set?username=ada").await;
    assert!(r
        .only_cookie()
        .ends_with(&format!("; Max-Age={}", TTL.as_secs())));
    for step in 1..6 {
        clock.advance(Duration::from_secs(600));
        let r = jar.get(server.addr, "/count").await;
        assert_eq!(r.body, step.to_string());
        let left = TTL.as_secs() - step * 600;
        assert!(
            r.only_cookie().ends_with(&format!("; Max-Age={left}")),
            "write {step}: {r:?}"
        );
    }
    // Past the lifetime and the leeway: gone, whatever was written.
    clock.advance(Duration::from_secs(600 + 61));
    let r = jar.get(server.addr, "/count").await;
    assert_eq!(r.body, "1", "a fresh session: {r:?}");
    let r = jar.get(server.addr, "/get").await;
    assert_eq!(r.body, ":1", "the username is gone");
}

/// The handler gets the size error and answers; no broken cookie is sent,
/// and the session keeps its previous value.
pub(crate) async fn oversized_session(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let config = config(sealer.clone());
    let server = start(config.clone());
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;

    // The first blob length whose Set-Cookie would pass 4096 bytes.
    let fits = |len: usize| {
        let session = TestSession {
            username: Some("ada".into()),
            counter: 0,
            blob: "x".repeat(len),
        };
        sealer
            .seal(&session)
            .is_ok_and(|v| set_cookie(&config, &v, TTL).len() <= sealed_session::MAX_COOKIE_BYTES)
    };
    let limit = (2000..5000)
        .find(|&n| !fits(n))
        .expect("a limit below 5000");

    let r = jar
        .get(server.addr, &format!("/big?len={}", limit - 1))
        .await;
    assert_eq!(r.status, 200);
    let header = r.only_cookie();
    assert!(header.len() <= MAX_COOKIE_BYTES, "{}", header.len());
    assert!(
        header.len() > MAX_COOKIE_BYTES - 8,
        "the limit is the header's"
    );

    for len in [limit, limit + 1, 1_000_000] {
        let r = jar.get(server.addr, &format!("/big?len={len}")).await;
        assert_eq!((r.status, r.body.as_str()), (413, ""), "len {len}");
        assert!(r.set_cookies.is_empty(), "no broken cookie: {r:?}");
    }
    let r = jar.get(server.addr, "/get").await;
    assert_eq!(r.body, "ada:0");
    let kept = sealer
        .open::<TestSession>(jar.value("session").expect("cookie kept"))
        .expect("opens");
    assert_eq!(kept.value.blob.len(), limit - 1);
}

/// Nested layers for the same session type and cookie (an outer one and
/// one on a nested router or scope) make one decision for the cookie: at
/// most one `Set-Cookie` for it, and after a write, the handler's. Before,
/// the outer layer's removal of a refused cookie, or its re-seal of a
/// stale one, came after the inner handler's write, and the browser kept
/// the old value or none.
pub(crate) async fn two_layers_for_the_same_type_make_one_decision(start: Start) {
    let clock = TestClock::new();
    let (k1, k2) = (key(), key());
    let old_ring = Arc::new(Keyring::new([KeyEntry::new(1, k1.clone())]).expect("keyring"));
    let ring =
        Arc::new(Keyring::new([KeyEntry::new(1, k1), KeyEntry::new(2, k2)]).expect("keyring"));
    let sealer = clock.sealer(&ring, "session");
    let config = config(sealer.clone());
    let removal = removal_cookie(&config);
    let server = start(config);
    let ada = TestSession {
        username: Some("ada".into()),
        ..TestSession::default()
    };
    let stale = clock.sealer(&old_ring, "session").seal(&ada).expect("seal");
    let current = sealer.seal(&ada).expect("seal");
    let refused = [
        "session=garbage".to_owned(),
        format!("session={}", &current[..current.len() - 1]),
    ];

    // A write while the request carried a refused or a stale cookie: one
    // Set-Cookie, the handler's.
    for cookie in refused.iter().chain([&format!("session={stale}")]) {
        let r = get(
            server.addr,
            "/nested/set?username=grace",
            std::slice::from_ref(cookie),
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (200, "ok"), "{cookie:.30}");
        let opened = sealer
            .open::<TestSession>(cookie_value(r.only_cookie()))
            .expect("the handler's write");
        assert_eq!(opened.value.username.as_deref(), Some("grace"));
    }
    // A refused cookie and no write: one removal.
    for cookie in &refused {
        let r = get(server.addr, "/nested/get", std::slice::from_ref(cookie)).await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"));
        assert_eq!(r.set_cookies, [removal.as_str()], "{cookie:.30}");
    }
    // A stale cookie and no write: one re-seal, of the same session.
    let r = get(server.addr, "/nested/get", &[format!("session={stale}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    let resealed = sealer
        .open::<TestSession>(cookie_value(r.only_cookie()))
        .expect("re-sealed");
    assert_eq!((resealed.key_id, resealed.value), (KeyId(2), ada));
    // A valid cookie: the inner handler sees it; logout removes it once;
    // untouched, nothing is written.
    let mut jar = Jar::default();
    jar.set("session", &current);
    let r = jar.get(server.addr, "/nested/count").await;
    assert_eq!((r.status, r.body.as_str()), (200, "1"));
    r.only_cookie();
    let r = jar.get(server.addr, "/nested/get").await;
    assert_eq!((r.body.as_str(), r.set_cookies.len()), ("ada:1", 0));
    let r = jar.get(server.addr, "/nested/logout").await;
    assert_eq!(r.set_cookies, [removal.as_str()]);
    assert_eq!(jar.value("session"), None);
}

/// A handler that asks for the session without the layer, or under a
/// layer for another session type, gets an error (the test server answers
/// it with an empty 500), not a session whose writes vanish.
pub(crate) async fn missing_layer_is_an_error(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    for path in ["/no-layer", "/other-type"] {
        let r = get(server.addr, path, &[]).await;
        assert_eq!((r.status, r.body.as_str()), (500, ""), "{path}");
        assert!(
            r.set_cookies.is_empty(),
            "no write, no cookie: {path} {r:?}"
        );
    }
}

/// Outside the extractor (a middleware, a guard, a service before the
/// handler), the adapter's `SessionExt` finds the layer's session: before
/// the handler and in it, the same one (a write before the handler is seen
/// in it, and both writes reach the cookie), and a type without a layer is
/// the missing-session error there too (the server checks it).
pub(crate) async fn session_ext_outside_the_handler(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let server = start(config(sealer.clone()));
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/ext").await;
    assert_eq!((r.status, r.body.as_str()), (200, "2"), "{r:?}");
    let opened = sealer
        .open::<TestSession>(cookie_value(r.only_cookie()))
        .expect("opens");
    assert_eq!(opened.value.counter, 2);
    let r = jar.get(server.addr, "/ext").await;
    assert_eq!((r.status, r.body.as_str()), (200, "4"), "{r:?}");
    assert_eq!(jar.get(server.addr, "/get").await.body, ":4");
}

/// An inner layer for the same cookie with another configuration (here
/// another purpose; a stricter check would be the same): the outer one
/// decides, and since the inner one's settings (its check, its lifetimes)
/// are then not in force, one error event says so, per request. Nested
/// layers of one configuration log nothing.
pub(crate) async fn nested_layers_of_other_configurations_log_an_error(start: Start) {
    const NAME: &str = "nested-differ";
    capture::install();
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), NAME)));
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    let events = || capture::lines_with(&format!("cookie={NAME:?}"));

    let r = jar.get(server.addr, "/nested/get").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
    assert!(events().is_empty(), "{:#?}", events());
    for n in 1..=2 {
        let r = jar.get(server.addr, "/nested-other/get").await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "ada:0"),
            "the outer one decides"
        );
        let lines = events();
        assert_eq!(lines.len(), n, "{lines:#?}");
        assert!(lines[n - 1].starts_with("ERROR "), "{lines:?}");
        assert!(
            lines[n - 1]
                .contains("nested session layers for one cookie with different configurations"),
            "{lines:?}"
        );
    }
}

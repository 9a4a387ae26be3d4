//! CSRF protection on the wire: the adapter's guard (inside the session
//! layer, `CsrfGuard::new()`) in front of the harness's `route_unsafe`
//! routes, with tokens from `GET /csrf-form`. Refusals are an empty `403`
//! carrying the `CsrfFailure` in its extensions (the test servers answer it
//! with a `403` of their own that names it in `x-csrf-failure`) and a warn
//! event with the reason; safe methods pass.

use sealed_session::CsrfGuard;

use crate::common::{
    capture, config, get, one_key_ring, removal_cookie, send, Jar, Req, Start, TestClock, TTL,
};

/// A urlencoded form to `/csrf-post` with `note=hi` and `token`.
fn form(token: &str) -> Req<'static> {
    Req::form("/csrf-post", &format!("note=hi&csrf_token={token}"))
}

/// Asserts an empty `403` for the guard's refusal `failure` (the `Debug`
/// of a `CsrfFailure`): the server's own answer to the `403` whose
/// extensions carried it.
#[track_caller]
fn assert_forbidden(r: &crate::common::Reply, what: &str, failure: &str) {
    assert_eq!((r.status, r.body.as_str()), (403, ""), "{what}: {r:?}");
    assert_eq!(r.csrf_failure.as_deref(), Some(failure), "{what}: {r:?}");
}

/// Asserts a response the guard let through (no `CsrfFailure` on it).
#[track_caller]
fn assert_passed(r: &crate::common::Reply, what: &str) {
    assert_eq!(
        (r.status, r.csrf_failure.as_deref()),
        (200, None),
        "{what}: {r:?}"
    );
}

/// A token from the form page, in a hidden field of a urlencoded form,
/// passes, and the handler reads the whole body the guard read; the same
/// token in the `x-csrf-token` header passes for any body. The page sets
/// the `<name>-csrf` cookie once (with the session cookie's attributes);
/// later pages reuse it with another token string each time, and all of
/// them pass. Safe methods pass without a token.
pub(crate) async fn csrf_form_round_trip(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "__Host-session"));
    let server = start(config);
    let mut jar = Jar::default();

    let page = jar.get(server.addr, "/csrf-form").await;
    assert_eq!(page.status, 200);
    let cookie = page.only_cookie();
    assert!(cookie.starts_with("__Host-session-csrf="), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let token = page.body.clone();
    assert_eq!(token.len(), 86);

    let r = jar.send(server.addr, &form(&token)).await;
    assert_eq!((r.status, r.body.as_str()), (200, "posted hi"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
    assert_passed(&r, "a token in the form");

    // The header carries it for any body (a fetch() with JSON).
    let json = Req {
        body: r#"{"note":"json"}"#.to_owned(),
        ..Req::form("/csrf-post", "")
    }
    .header("content-type", "application/json")
    .header("x-csrf-token", &token);
    let r = jar.send(server.addr, &json).await;
    assert_eq!((r.status, r.body.as_str()), (200, "posted "));
    for method in ["PUT", "PATCH", "DELETE"] {
        let r = jar
            .send(
                server.addr,
                &Req::get("/anything")
                    .method(method)
                    .header("x-csrf-token", &token),
            )
            .await;
        assert_eq!((r.status, r.body.as_str()), (200, "done"), "{method}");
    }

    // The next page reuses the cookie, with another token string.
    let again = jar.get(server.addr, "/csrf-form").await;
    assert!(again.set_cookies.is_empty(), "{again:?}");
    assert_ne!(again.body, token);
    for t in [&token, &again.body] {
        let r = jar.send(server.addr, &form(t)).await;
        assert_eq!(r.status, 200);
    }

    // Safe methods need nothing.
    let r = get(server.addr, "/who", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    let r = send(server.addr, &Req::get("/who").method("HEAD"), &[]).await;
    assert_eq!(r.status, 200);
}

/// Unsafe requests without a token, with a token but no CSRF cookie, with
/// a tampered token, with the token in the query string only, with a
/// form too large for the guard, or with a tampered CSRF cookie, are an
/// empty `403`, each with a warn event that gives the reason and the
/// method and holds no token; the tampered cookie is removed, with a warn
/// event of its own that holds no piece of it.
pub(crate) async fn csrf_missing_or_bad_token_is_forbidden(start: Start) {
    const NAME: &str = "csrf-refusals";
    capture::install();
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), NAME)));
    let mut jar = Jar::default();
    let token = jar.get(server.addr, "/csrf-form").await.body;

    let r = jar
        .send(server.addr, &Req::form("/csrf-post", "note=x"))
        .await;
    assert_forbidden(&r, "no token in the form", "MissingToken");
    let r = jar
        .send(server.addr, &Req::get("/csrf-post").method("POST"))
        .await;
    assert_forbidden(&r, "no token, no body", "MissingToken");
    let r = jar
        .send(server.addr, &Req::get("/x").method("DELETE"))
        .await;
    assert_forbidden(&r, "DELETE without a token", "MissingToken");
    let path = format!("/csrf-post?csrf_token={token}");
    let r = jar.send(server.addr, &Req::form(&path, "note=x")).await;
    assert_forbidden(&r, "token in the query string only", "MissingToken");
    let r = send(server.addr, &form(&token), &[]).await;
    assert_forbidden(&r, "no CSRF cookie", "MissingCookie");
    let mut tampered = token.clone().into_bytes();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    let r = jar.send(server.addr, &form(&tampered)).await;
    assert_forbidden(&r, "tampered token", "WrongToken");
    // The guard reads 64 KiB of a form: a form of exactly that passes, a
    // byte more is refused.
    assert_eq!(CsrfGuard::new().form_limit(), 64 * 1024);
    let sized = |len: usize| {
        let head = format!("csrf_token={token}&note=");
        format!("{head}{}", "x".repeat(len - head.len()))
    };
    let r = jar
        .send(server.addr, &Req::form("/csrf-post", &sized(64 * 1024)))
        .await;
    assert_eq!(r.status, 200, "a form of exactly the guard's limit");
    let r = jar
        .send(server.addr, &Req::form("/csrf-post", &sized(64 * 1024 + 1)))
        .await;
    assert_forbidden(&r, "a form over the guard's limit", "FormTooLarge");

    // A tampered CSRF cookie: refused (logged without its value) and
    // removed.
    let cookie = jar
        .value(&format!("{NAME}-csrf"))
        .expect("minted")
        .to_owned();
    let mut bad = cookie.clone().into_bytes();
    bad[30] = if bad[30] == b'A' { b'B' } else { b'A' };
    let bad = String::from_utf8(bad).expect("ASCII");
    let mut tampered_jar = jar.clone();
    tampered_jar.set(&format!("{NAME}-csrf"), &bad);
    let r = tampered_jar.send(server.addr, &form(&token)).await;
    assert_forbidden(&r, "a tampered CSRF cookie", "MissingCookie");
    assert!(
        r.set_cookies
            .iter()
            .any(|c| c.starts_with(&format!("{NAME}-csrf=;")) && c.contains("Max-Age=0")),
        "{r:?}"
    );
    let cookie_events = capture::lines_with(&format!("cookie=\"{NAME}-csrf\""));
    assert_eq!(cookie_events.len(), 1, "{cookie_events:#?}");
    assert!(cookie_events[0].starts_with("WARN "), "{cookie_events:?}");
    assert!(
        cookie_events[0].contains("CSRF cookie refused"),
        "{cookie_events:?}"
    );
    assert!(
        cookie_events[0].contains("authentication failed"),
        "{cookie_events:?}"
    );
    for chunk in bad.as_bytes().chunks(8) {
        let chunk = std::str::from_utf8(chunk).expect("ASCII");
        assert!(capture::lines_with(chunk).is_empty(), "{chunk:?} logged");
    }

    let events = capture::lines_with(&format!("cookie={NAME:?}"));
    // Warn level, but debug for the routine refusal of a form whose
    // session (and so its CSRF cookie) is gone.
    let reasons = [
        ("no CSRF token in the request", "POST", "WARN "),
        ("no CSRF token in the request", "POST", "WARN "),
        ("no CSRF token in the request", "DELETE", "WARN "),
        ("no CSRF token in the request", "POST", "WARN "),
        ("no valid CSRF cookie in the request", "POST", "DEBUG "),
        (
            "the CSRF token does not match the CSRF cookie",
            "POST",
            "WARN ",
        ),
        (
            "the form is larger than the CSRF guard reads",
            "POST",
            "WARN ",
        ),
        ("no valid CSRF cookie in the request", "POST", "DEBUG "),
    ];
    assert_eq!(events.len(), reasons.len(), "{events:#?}");
    for (event, (reason, method, level)) in events.iter().zip(reasons) {
        assert!(event.starts_with(level), "{event}");
        assert!(
            event.contains("request refused by the CSRF guard"),
            "{event}"
        );
        assert!(event.contains(reason), "{event}");
        assert!(event.contains(&format!("method={method:?}")), "{event}");
        assert!(!event.contains(&token[..20]), "{event}");
    }
}

/// A token taken from one session's page does not pass with another
/// browser's cookies (its own CSRF cookie, or none), and a CSRF cookie
/// planted beside another session (cookie tossing) with its token does not
/// pass either: it belongs to a session issued at another time.
pub(crate) async fn csrf_token_of_another_session_is_forbidden(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut victim = Jar::default();
    victim.get(server.addr, "/set?username=ada").await;
    victim.get(server.addr, "/csrf-form").await;
    // The binding is the session's issued_at, in seconds (SECURITY.md).
    clock.advance(std::time::Duration::from_secs(1));
    let mut attacker = Jar::default();
    attacker.get(server.addr, "/set?username=mallory").await;
    let attackers_token = attacker.get(server.addr, "/csrf-form").await.body;
    assert_eq!(
        attacker
            .send(server.addr, &form(&attackers_token))
            .await
            .status,
        200
    );

    let r = victim.send(server.addr, &form(&attackers_token)).await;
    assert_forbidden(&r, "another session's token", "WrongToken");
    // The attacker's CSRF cookie planted beside the victim's session: it
    // belongs to the attacker's session.
    let mut planted = victim.clone();
    planted.set(
        "session-csrf",
        attacker.value("session-csrf").expect("attacker's cookie"),
    );
    let r = planted.send(server.addr, &form(&attackers_token)).await;
    assert_forbidden(&r, "a planted CSRF cookie with its token", "OtherSession");
    let victims_token = victim.get(server.addr, "/csrf-form").await.body;
    assert_eq!(
        victim.send(server.addr, &form(&victims_token)).await.status,
        200
    );
}

/// With a valid token and cookie, a cross-site request is still refused:
/// by `Sec-Fetch-Site` (`cross-site`, `same-site`), or, without it, by an
/// `Origin` that is not the server's (another host, another port, `null`).
/// Its own origin, and `Sec-Fetch-Site: same-origin` or `none`, pass.
pub(crate) async fn csrf_cross_site_requests_are_forbidden(start: Start) {
    const NAME: &str = "csrf-cross-site";
    capture::install();
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), NAME)));
    let mut jar = Jar::default();
    let token = jar.get(server.addr, "/csrf-form").await.body;

    for (header, value, refused) in [
        ("sec-fetch-site", "cross-site", Some("CrossSite")),
        ("sec-fetch-site", "same-site", Some("CrossSite")),
        ("sec-fetch-site", "same-origin", None),
        ("sec-fetch-site", "none", None),
        ("origin", "https://evil.example", Some("OriginMismatch")),
        ("origin", "http://localhost:1", Some("OriginMismatch")),
        ("origin", "null", Some("OriginMismatch")),
        // The client sends `Host: localhost`.
        ("origin", "http://localhost", None),
        ("origin", "https://LOCALHOST", None),
    ] {
        let r = jar
            .send(server.addr, &form(&token).header(header, value))
            .await;
        let what = format!("{header}: {value}");
        match refused {
            None => assert_passed(&r, &what),
            Some(failure) => assert_forbidden(&r, &what, failure),
        }
    }
    // Each refusal is a warn event with its reason, and the headers it
    // judged and the `Host` they were compared with (what an operator
    // behind a proxy needs to allow an origin).
    let events = capture::lines_with(&format!("cookie={NAME:?}"));
    let cross_site = "Sec-Fetch-Site says the request is cross-site";
    let origin = "Origin is not this server's origin nor an allowed one";
    let reasons = [
        (
            cross_site,
            r#"sec_fetch_site=Some("cross-site") origin=None"#,
        ),
        (
            cross_site,
            r#"sec_fetch_site=Some("same-site") origin=None"#,
        ),
        (
            origin,
            r#"sec_fetch_site=None origin=Some("https://evil.example")"#,
        ),
        (
            origin,
            r#"sec_fetch_site=None origin=Some("http://localhost:1")"#,
        ),
        (origin, r#"sec_fetch_site=None origin=Some("null")"#),
    ];
    assert_eq!(events.len(), reasons.len(), "{events:#?}");
    for (event, (reason, headers)) in events.iter().zip(reasons) {
        assert!(event.starts_with("WARN "), "{event}");
        assert!(event.contains(reason), "{event}");
        assert!(event.contains("method=\"POST\""), "{event}");
        assert!(event.contains(headers), "{event}");
        assert!(event.contains(r#"host=Some("localhost")"#), "{event}");
    }
}

/// Any server holding the keyring checks another's token and cookie; a
/// server with another keyring refuses them (its cookie does not open).
pub(crate) async fn csrf_works_across_servers_with_one_keyring(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let a = start(config(clock.sealer(&ring, "session")));
    let b = start(config(clock.sealer(&ring, "session")));
    let other = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();
    jar.get(a.addr, "/set?username=ada").await;
    let token = jar.get(a.addr, "/csrf-form").await.body;

    let r = jar.send(b.addr, &form(&token)).await;
    assert_eq!((r.status, r.body.as_str()), (200, "posted hi"));
    let token_b = jar.get(b.addr, "/csrf-form").await;
    assert!(token_b.set_cookies.is_empty(), "B reuses A's cookie");
    assert_eq!(jar.send(a.addr, &form(&token_b.body)).await.status, 200);

    let r = jar.send(other.addr, &form(&token)).await;
    assert_forbidden(&r, "another keyring", "MissingCookie");
}

/// Login (a renewed session) retires the CSRF secret of the anonymous
/// session: the login response removes its cookie, the login form's token
/// no longer passes, and the next page issues a new cookie whose token
/// does. Logout removes the CSRF cookie.
pub(crate) async fn csrf_secret_changes_at_login_and_goes_at_logout(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "session"));
    let csrf_removal = removal_cookie(&config).replacen("session=", "session-csrf=", 1);
    let server = start(config);
    let mut jar = Jar::default();
    let login_token = jar.get(server.addr, "/csrf-form").await.body;
    let anonymous = jar.value("session-csrf").expect("cookie").to_owned();

    let login = Req::form(
        "/csrf-login",
        &format!("username=ada&csrf_token={login_token}"),
    );
    let r = jar.send(server.addr, &login).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    assert!(r.set_cookies.contains(&csrf_removal), "retired: {r:?}");
    assert_eq!(jar.get(server.addr, "/who").await.body, "ada");

    let r = jar.send(server.addr, &form(&login_token)).await;
    assert_forbidden(
        &r,
        "the anonymous session's token after login",
        "MissingCookie",
    );
    let page = jar.get(server.addr, "/csrf-form").await;
    assert!(page.only_cookie().starts_with("session-csrf="), "{page:?}");
    assert_ne!(jar.value("session-csrf"), Some(anonymous.as_str()));
    assert_eq!(jar.send(server.addr, &form(&page.body)).await.status, 200);

    let r = jar.get(server.addr, "/logout").await;
    assert!(r.set_cookies.contains(&csrf_removal), "{r:?}");
    assert!(jar.value("session-csrf").is_none());
    let r = jar.send(server.addr, &form(&page.body)).await;
    assert_forbidden(&r, "after logout", "MissingCookie");
}

/// A form posted after its session expired (the browser still sending
/// both cookies) is refused as `MissingCookie`: the CSRF cookie expires
/// with the session. That is the refusal an application turns into a
/// redirect to its login page (README, "CSRF protection").
pub(crate) async fn csrf_form_after_the_session_expired_is_missing_its_cookie(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    let token = jar.get(server.addr, "/csrf-form").await.body;
    assert_passed(&jar.send(server.addr, &form(&token)).await, "in time");

    // Past the TTL and the leeway (a minute).
    clock.advance(TTL + std::time::Duration::from_secs(61));
    let mut stale = jar.clone();
    let r = stale.send(server.addr, &form(&token)).await;
    assert_forbidden(&r, "after the session expired", "MissingCookie");
    // A browser that dropped both at their Max-Age: the same.
    let r = send(server.addr, &form(&token), &[]).await;
    assert_forbidden(&r, "without cookies", "MissingCookie");
    assert_eq!(jar.get(server.addr, "/who").await.body, "-");
}

/// A CSRF cookie planted beside the user's (cookie tossing from a sibling
/// domain, without `__Host-`): garbage, or another session's valid CSRF
/// cookie. The user's forms still pass, every time, and no response
/// removes the user's own CSRF cookie (a removal would reach only it,
/// never the planted one).
pub(crate) async fn csrf_cookies_planted_beside_ours_do_not_block_forms(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut attacker = Jar::default();
    attacker.get(server.addr, "/csrf-form").await;
    let attackers = attacker.value("session-csrf").expect("minted").to_owned();
    for planted in ["planted-garbage".to_owned(), attackers] {
        let planted = format!("session-csrf={planted}");
        let mut jar = Jar::default();
        jar.get(server.addr, "/set?username=ada").await;
        // The jar's cookies and the planted one, in a header of its own.
        let with_planted = |jar: &Jar| {
            let mut headers = jar.headers();
            headers.push(planted.clone());
            headers
        };
        let page = send(server.addr, &Req::get("/csrf-form"), &with_planted(&jar)).await;
        assert_eq!(page.status, 200, "{planted}");
        jar.apply(&page);
        assert!(
            jar.value("session-csrf").is_some(),
            "{planted}: minted ours"
        );
        for round in 0..2 {
            let r = send(server.addr, &form(&page.body), &with_planted(&jar)).await;
            assert_passed(&r, &format!("{planted}, round {round}"));
            assert_eq!(r.body, "posted hi");
            assert!(r.set_cookies.is_empty(), "{planted}: {r:?}");
        }
        // A later page reuses our cookie.
        let again = send(server.addr, &Req::get("/csrf-form"), &with_planted(&jar)).await;
        assert!(again.set_cookies.is_empty(), "{planted}: {again:?}");
        let r = send(server.addr, &form(&again.body), &with_planted(&jar)).await;
        assert_passed(&r, &planted);
    }
}

/// The guard reads the token from the `x-csrf-token` header or from a
/// urlencoded form only (README): in a multipart form, a JSON body or a
/// `text/plain` body it is no token (`MissingToken`), and the same bodies
/// pass with the header. A header, even an empty one, is the token: the
/// form's is not looked at.
pub(crate) async fn csrf_token_only_from_the_header_or_a_urlencoded_form(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();
    let token = jar.get(server.addr, "/csrf-form").await.body;
    let boundary = "sealedsessionboundary";
    let multipart = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"csrf_token\"\r\n\r\n\
         {token}\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"note\"\r\n\r\n\
         hi\r\n--{boundary}--\r\n"
    );
    let bodies = [
        (
            format!("multipart/form-data; boundary={boundary}"),
            multipart,
        ),
        (
            "application/json".to_owned(),
            format!(r#"{{"csrf_token":"{token}","note":"hi"}}"#),
        ),
        (
            "text/plain".to_owned(),
            format!("csrf_token={token}&note=hi"),
        ),
    ];
    for (content_type, body) in &bodies {
        let req = || Req {
            method: "POST",
            path: "/csrf-post",
            headers: vec![("content-type", content_type.clone())],
            body: body.clone(),
            chunks: None,
        };
        let r = jar.send(server.addr, &req()).await;
        assert_forbidden(&r, content_type, "MissingToken");
        let r = jar
            .send(server.addr, &req().header("x-csrf-token", &token))
            .await;
        assert_passed(&r, content_type);
    }
    let r = jar
        .send(server.addr, &form(&token).header("x-csrf-token", ""))
        .await;
    assert_forbidden(&r, "an empty header beside the form's token", "WrongToken");
}

/// A form sent with `Transfer-Encoding: chunked` (no length: a streaming
/// upload, or a proxy that re-chunks), in pieces that cut the token apart:
/// the guard reads it all, the token passes and the handler reads the
/// same whole body; a wrong token in pieces is refused; a chunked form
/// past the guard's limit is `FormTooLarge`, read no further than that.
pub(crate) async fn csrf_form_sent_in_chunks(start: Start) {
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), "session")));
    let mut jar = Jar::default();
    let token = jar.get(server.addr, "/csrf-form").await.body;

    for size in [1, 7, 64] {
        let r = jar.send(server.addr, &form(&token).in_chunks(size)).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "posted hi"),
            "pieces of {size}: {r:?}"
        );
        assert_passed(&r, "a chunked form");
    }
    let mut wrong = token.clone().into_bytes();
    wrong[40] = if wrong[40] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).expect("ASCII");
    let r = jar.send(server.addr, &form(&wrong).in_chunks(7)).await;
    assert_forbidden(&r, "a wrong token in a chunked form", "WrongToken");

    let head = format!("csrf_token={token}&note=");
    let over = format!("{head}{}", "x".repeat(64 * 1024 + 1 - head.len()));
    let r = jar
        .send(server.addr, &Req::form("/csrf-post", &over).in_chunks(4096))
        .await;
    assert_forbidden(&r, "a chunked form over the guard's limit", "FormTooLarge");
    let exact = &over[..64 * 1024];
    let r = jar
        .send(server.addr, &Req::form("/csrf-post", exact).in_chunks(4096))
        .await;
    assert_eq!(r.status, 200, "a chunked form of exactly the limit: {r:?}");
}

/// No refusal event holds a token or a cookie value, wherever the token
/// came (the `x-csrf-token` header, the form, a body the guard does not
/// read) and whatever the refusal: cross-site, a foreign `Origin`, a wrong
/// token, a token it did not look for, a CSRF cookie of another session,
/// a form too large; all with the user's session and CSRF cookies on the
/// request. Every 8 characters of each are looked for in every event.
pub(crate) async fn csrf_refusal_events_hold_no_token_or_cookie(start: Start) {
    const NAME: &str = "csrf-quiet";
    capture::install();
    let clock = TestClock::new();
    let server = start(config(clock.sealer(&one_key_ring(), NAME)));
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    let token = jar.get(server.addr, "/csrf-form").await.body;
    // Another second: a CSRF cookie is bound to its session's issue time.
    clock.advance(std::time::Duration::from_secs(1));
    let mut other = Jar::default();
    other.get(server.addr, "/set?username=eve").await;
    let other_token = other.get(server.addr, "/csrf-form").await.body;
    let csrf_name = format!("{NAME}-csrf");
    let mut tampered = token.clone().into_bytes();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");

    let both = |req: Req<'static>, t: &str| req.header("x-csrf-token", t);
    let too_large = format!("csrf_token={token}&note={}", "x".repeat(64 * 1024));
    let json = Req {
        body: format!(r#"{{"csrf_token":"{token}"}}"#),
        ..Req::form("/csrf-post", "")
    }
    .header("content-type", "application/json");
    let mut crossed = jar.clone();
    crossed.set(&csrf_name, other.value(&csrf_name).expect("minted"));
    let cases = [
        (
            &jar,
            both(form(&token), &token).header("sec-fetch-site", "cross-site"),
            "CrossSite",
        ),
        (
            &jar,
            both(form(&token), &token).header("origin", "https://evil.example"),
            "OriginMismatch",
        ),
        (&jar, both(form(&token), &tampered), "WrongToken"),
        (&jar, form(&tampered), "WrongToken"),
        (&jar, json, "MissingToken"),
        (&crossed, both(form(&token), &token), "OtherSession"),
        (&jar, Req::form("/csrf-post", &too_large), "FormTooLarge"),
    ];
    for (jar, req, failure) in &cases {
        let r = send(server.addr, req, &jar.headers()).await;
        assert_forbidden(&r, failure, failure);
    }
    let events = capture::lines_with(&format!("cookie={NAME:?}"));
    assert!(events.len() >= cases.len(), "{events:#?}");
    let secrets = [
        token.as_str(),
        &tampered,
        &other_token,
        jar.value(NAME).expect("session"),
        jar.value(&csrf_name).expect("minted"),
        other.value(NAME).expect("session"),
        other.value(&csrf_name).expect("minted"),
    ];
    for secret in secrets {
        for chunk in secret.as_bytes().chunks(8) {
            let chunk = std::str::from_utf8(chunk).expect("ASCII");
            assert!(capture::lines_with(chunk).is_empty(), "{chunk:?} logged");
        }
    }
}

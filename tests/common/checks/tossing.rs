//! Cookies that others plant under our name (cookie tossing from a sibling
//! subdomain), or under a name a lax parser reads as ours.

use sealed_session::MAX_SAME_NAME_COOKIES;

use crate::common::{config, get, get_bytes, one_key_ring, Start, TestClock, TestSession, TTL};

/// Several cookies with our name (cookie tossing): exactly one that opens
/// is used; two that open are ambiguous, empty, and nothing is removed.
pub(crate) async fn cookie_tossing(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let server = start(config(sealer.clone()));
    let seal = |name: &str| {
        sealer
            .seal(&TestSession {
                username: Some(name.into()),
                ..TestSession::default()
            })
            .expect("seal")
    };
    let (victim, attacker) = (seal("victim"), seal("attacker"));

    for headers in [
        vec![format!("session={attacker}; session={victim}")],
        vec![format!("session={victim}; session={attacker}")],
        vec![format!("session={victim}"), format!("session={attacker}")],
    ] {
        let r = get(server.addr, "/get", &headers).await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"), "{headers:?}");
        assert!(r.set_cookies.is_empty(), "nothing removed: {r:?}");
    }
    for headers in [
        vec![format!("session=planted-garbage; session={victim}")],
        vec![format!("session={victim}; session=planted-garbage")],
        vec!["session=x".to_owned(), format!("other=1; session={victim}")],
    ] {
        let r = get(server.addr, "/get", &headers).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "victim:0"),
            "{headers:?}"
        );
        assert!(r.set_cookies.is_empty(), "{r:?}");
    }
}

/// The cap on cookies with our name (`MAX_SAME_NAME_COOKIES`) counts
/// cookies, distinct ones too, across headers: at the cap, with exactly
/// one valid among them, that one is the session; one over the cap, with
/// exactly one valid, all are ignored unopened: no session, nothing removed.
pub(crate) async fn same_name_cap_counts_distinct_cookies(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let sealer = clock.sealer(&ring, "session");
    let server = start(config(sealer.clone()));
    let ada = TestSession {
        username: Some("ada".into()),
        ..TestSession::default()
    };
    let valid = sealer.seal(&ada).expect("seal");
    let past = clock.clone();
    let expired = clock
        .sealer(&ring, "session")
        .with_clock(move || past.now() - 2 * TTL);
    // Distinct cookies that do not open: expired (authentic), tampered,
    // and junk.
    let refused = |i: usize| match i % 3 {
        0 => expired.seal(&ada).expect("seal"),
        1 => {
            let mut v = sealer.seal(&ada).expect("seal").into_bytes();
            v[20] = if v[20] == b'A' { b'B' } else { b'A' };
            String::from_utf8(v).expect("ASCII")
        }
        _ => format!("junk{i}"),
    };
    for (n, opens) in [
        (MAX_SAME_NAME_COOKIES, true),
        (MAX_SAME_NAME_COOKIES + 1, false),
    ] {
        for at in [0, n / 2, n - 1] {
            let mut values: Vec<String> = (0..n - 1).map(refused).collect();
            values.insert(at, valid.clone());
            let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
            assert_eq!(distinct.len(), n);
            let pairs: Vec<String> = values.iter().map(|v| format!("session={v}")).collect();
            // In one header, and split over two.
            for headers in [
                vec![pairs.join("; ")],
                vec![pairs[..3].join("; "), pairs[3..].join("; ")],
            ] {
                let r = get(server.addr, "/get", &headers).await;
                let expected = if opens { "ada:0" } else { ":0" };
                assert_eq!(
                    (r.status, r.body.as_str()),
                    (200, expected),
                    "{n} cookies, valid at {at}"
                );
                assert!(
                    r.set_cookies.is_empty(),
                    "{n} cookies, valid at {at}: {r:?}"
                );
            }
        }
    }
}

/// A browser keeps `\u{2000}__Host-session` (a Unicode space, then our
/// name) as a name of its own, without the `__Host-` rules, so a sibling
/// subdomain may set it. Carrying a valid `__Host-session` value, it must
/// not be read as our cookie: no session (the value is not accepted), and
/// nothing to remove; next to the real cookie it changes nothing.
pub(crate) async fn unicode_whitespace_name_is_not_host_prefixed_session(start: Start) {
    let clock = TestClock::new();
    let config = config(clock.sealer(&one_key_ring(), "__Host-session"));
    let server = start(config.clone());
    let addr = server.addr;
    let seal = |who: &str| {
        let session = TestSession {
            username: Some(who.to_owned()),
            ..TestSession::default()
        };
        config.sealer().seal(&session).expect("seals")
    };
    let (planted, ours) = (seal("attacker"), seal("victim"));

    let r = get(addr, "/who", &[format!("__Host-session={ours}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "victim"));

    for space in ["\u{2000}", "\u{00A0}", "\u{FEFF}", "\u{3000}"] {
        for header in [
            format!("{space}__Host-session={planted}"),
            format!("__Host-session{space}={planted}"),
            format!("theme=dark; {space}__Host-session={planted}"),
        ] {
            let r = get_bytes(addr, "/who", &[header.as_bytes()]).await;
            assert_eq!((r.status, r.body.as_str()), (200, "-"), "{header:?}");
            assert!(
                r.set_cookies.is_empty(),
                "not ours: {header:?} {:?}",
                r.set_cookies
            );
        }
        // Planted next to the victim's cookie, in either order and header:
        // the victim keeps their session (not two sessions, no logout).
        let plant = format!("{space}__Host-session={planted}");
        let real = format!("__Host-session={ours}");
        for headers in [
            vec![format!("{plant}; {real}")],
            vec![format!("{real}; {plant}")],
            vec![plant.clone(), real.clone()],
        ] {
            let r = get(addr, "/who", &headers).await;
            assert_eq!((r.status, r.body.as_str()), (200, "victim"), "{plant:?}");
            assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
        }
    }
}

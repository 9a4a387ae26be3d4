//! Unit tests of the guard's decisions on a request's head, the form
//! field, allowed origins and token masking.

use super::*;
use rand::RngCore as _;

fn facts<'a>(method: &'a str) -> Facts<'a> {
    Facts {
        method,
        sec_fetch_site: None,
        origin: None,
        host: Some(b"example.com"),
        token: Some(b"t"),
        content_type: None,
    }
}

#[test]
fn safe_methods_pass_unchecked() {
    let guard = CsrfGuard::new();
    for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
        let f = Facts {
            sec_fetch_site: Some(b"cross-site"),
            token: None,
            ..facts(method)
        };
        assert_eq!(guard.screen(&f), Ok(Next::Pass), "{method}");
    }
    for method in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND", "get"] {
        let f = Facts {
            token: None,
            ..facts(method)
        };
        assert_eq!(guard.screen(&f), Err(CsrfFailure::MissingToken), "{method}");
    }
}

#[test]
fn fetch_metadata_decides_when_present() {
    let guard = CsrfGuard::new();
    let allowed = CsrfGuard::new()
        .with_allowed_origin("https://App.example.com")
        .expect("valid");
    for (site, origin, want_plain, want_allowed) in [
        (&b"same-origin"[..], None, true, true),
        (b"none", None, true, true),
        (b"same-site", None, false, false),
        (b"cross-site", None, false, false),
        (
            b"cross-site",
            Some(&b"https://evil.example"[..]),
            false,
            false,
        ),
        (b"cross-site", Some(b"https://app.example.com"), false, true),
        (b"same-site", Some(b"https://APP.example.com"), false, true),
        (b"Same-Origin", None, false, false),
        (b"", None, false, false),
        // Sec-Fetch-Site wins over an Origin that looks like ours.
        (b"cross-site", Some(b"https://example.com"), false, false),
    ] {
        let f = Facts {
            sec_fetch_site: Some(site),
            origin,
            ..facts("POST")
        };
        let expect = |pass| {
            if pass {
                Ok(Next::Verify(b"t"))
            } else {
                Err(CsrfFailure::CrossSite)
            }
        };
        assert_eq!(guard.screen(&f), expect(want_plain), "{site:?} {origin:?}");
        assert_eq!(
            allowed.screen(&f),
            expect(want_allowed),
            "{site:?} {origin:?}"
        );
    }
}

#[test]
fn origin_must_name_this_host_without_fetch_metadata() {
    let guard = CsrfGuard::new();
    for (origin, host, pass) in [
        (&b"https://example.com"[..], Some(&b"example.com"[..]), true),
        (b"http://EXAMPLE.com", Some(b"example.com"), true),
        (b"https://example.com:8443", Some(b"example.com:8443"), true),
        (b"https://example.com:8443", Some(b"example.com"), false),
        (b"https://example.com", Some(b"example.com:8443"), false),
        (b"https://evil.com", Some(b"example.com"), false),
        (b"https://example.com.evil.com", Some(b"example.com"), false),
        (b"null", Some(b"example.com"), false),
        (b"example.com", Some(b"example.com"), false),
        (b"ftp://example.com", Some(b"example.com"), false),
        (b"https://", Some(b""), false),
        (b"https://example.com", None, false),
    ] {
        let f = Facts {
            origin: Some(origin),
            host,
            ..facts("POST")
        };
        let want = if pass {
            Ok(Next::Verify(&b"t"[..]))
        } else {
            Err(CsrfFailure::OriginMismatch)
        };
        assert_eq!(guard.screen(&f), want, "{origin:?} {host:?}");
    }
}

#[test]
fn token_comes_from_the_header_or_a_urlencoded_form() {
    let guard = CsrfGuard::new();
    for (content_type, want) in [
        (
            &b"application/x-www-form-urlencoded"[..],
            Ok(Next::ReadForm),
        ),
        (
            b"Application/X-WWW-Form-Urlencoded ; charset=UTF-8",
            Ok(Next::ReadForm),
        ),
        (
            b"multipart/form-data; boundary=x",
            Err(CsrfFailure::MissingToken),
        ),
        (b"application/json", Err(CsrfFailure::MissingToken)),
        (b"text/plain", Err(CsrfFailure::MissingToken)),
    ] {
        let f = Facts {
            token: None,
            content_type: Some(content_type),
            ..facts("POST")
        };
        assert_eq!(guard.screen(&f), want, "{content_type:?}");
    }
    // The header wins.
    let f = Facts {
        content_type: Some(b"application/x-www-form-urlencoded"),
        ..facts("POST")
    };
    assert_eq!(guard.screen(&f), Ok(Next::Verify(b"t")));
}

#[test]
fn form_field_is_found_by_its_exact_name() {
    assert_eq!(form_token(b"a=1&csrf_token=abc&b=2"), Some(&b"abc"[..]));
    assert_eq!(form_token(b"csrf_token=abc"), Some(&b"abc"[..]));
    assert_eq!(form_token(b"csrf_token=x&csrf_token=y"), Some(&b"x"[..]));
    assert_eq!(form_token(b"xcsrf_token=abc"), None);
    assert_eq!(form_token(b"csrf_tokens=abc"), None);
    assert_eq!(form_token(b"csrf_token"), None);
    assert_eq!(form_token(b""), None);
}

#[test]
fn allowed_origins_are_checked_at_configuration() {
    for bad in [
        "",
        "example.com",
        "https://",
        "https://example.com/",
        "https://example.com/path",
        "javascript:alert(1)",
        "https://ex ample.com",
        "null",
        "https://example.com:",
        "ftp://example.com",
        "https:/example.com",
    ] {
        assert_eq!(
            CsrfGuard::new().with_allowed_origin(bad).err(),
            Some(Error::Config(ConfigError::AllowedOrigin)),
            "{bad}"
        );
    }
    for good in [
        "https://a.example.com",
        "http://localhost:8080",
        "https://[::1]:3000",
    ] {
        assert!(CsrfGuard::new().with_allowed_origin(good).is_ok(), "{good}");
    }
    // What browsers send matches, default ports or case aside.
    for (allowed, sent, pass) in [
        (
            "https://A.example.com:443",
            &b"https://a.example.com"[..],
            true,
        ),
        ("http://a.example.com:80", b"http://a.example.com", true),
        (
            "https://a.example.com:8443",
            b"https://a.example.com:8443",
            true,
        ),
        (
            "https://a.example.com:8443",
            b"https://a.example.com",
            false,
        ),
        ("https://a.example.com", b"http://a.example.com", false),
    ] {
        let guard = CsrfGuard::new()
            .with_allowed_origin(allowed)
            .expect("valid");
        let f = Facts {
            sec_fetch_site: Some(b"cross-site"),
            origin: Some(sent),
            ..facts("POST")
        };
        let want = if pass {
            Ok(Next::Verify(&b"t"[..]))
        } else {
            Err(CsrfFailure::CrossSite)
        };
        assert_eq!(guard.screen(&f), want, "{allowed} {sent:?}");
    }
}

#[test]
fn masked_tokens_differ_and_all_unmask() {
    let mut secret = Secret::default();
    rand::rng().fill_bytes(&mut secret[..]);
    let a = mask(&secret).expect("os rng");
    let b = mask(&secret).expect("os rng");
    assert_ne!(a, b);
    assert_eq!(a.len(), 86);
    assert!(unmask_matches(a.as_bytes(), &secret));
    assert!(unmask_matches(b.as_bytes(), &secret));
    let mut other = Secret::default();
    rand::rng().fill_bytes(&mut other[..]);
    assert!(!unmask_matches(a.as_bytes(), &other));
    // Every single-character change is refused.
    for i in 0..a.len() {
        let mut t = a.clone().into_bytes();
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        assert!(!unmask_matches(&t, &secret), "position {i}");
    }
    for bad in [&b""[..], &a.as_bytes()[..85], b"=", &[0xff; 86]] {
        assert!(!unmask_matches(bad, &secret));
    }
    let long = format!("{a}A");
    assert!(!unmask_matches(long.as_bytes(), &secret));
}

/// A refusal's event shows the headers it judged as text, invalid UTF-8
/// replaced, cut at `SHOWN_LEN` bytes.
#[test]
fn refusal_events_show_headers_cut_and_as_text() {
    assert_eq!(shown(None), None);
    assert_eq!(
        shown(Some(b"https://a.example")).as_deref(),
        Some("https://a.example")
    );
    assert_eq!(shown(Some(b"x\xffy")).as_deref(), Some("x\u{fffd}y"));
    let long = shown(Some(&[b'a'; SHOWN_LEN + 1])).expect("shown");
    assert_eq!(long, format!("{}...", "a".repeat(SHOWN_LEN)));
    assert_eq!(
        shown(Some(&[b'a'; SHOWN_LEN])).expect("shown").len(),
        SHOWN_LEN
    );
}

/// The routine refusals (logged at debug) are those of a form whose
/// session expired or ended; the rest point at another site, a bug or
/// tampering (warn).
#[test]
fn routine_refusals_are_those_of_an_ended_session() {
    use CsrfFailure::*;
    for failure in [MissingCookie, OtherSession] {
        assert!(failure.is_routine(), "{failure:?}");
    }
    for failure in [
        CrossSite,
        OriginMismatch,
        MissingToken,
        WrongToken,
        FormTooLarge,
        FormUnreadable,
    ] {
        assert!(!failure.is_routine(), "{failure:?}");
    }
}

mod arbitrary_input {
    //! The guard's parsers on any bytes a client can send (its headers,
    //! its form body, its token): never a panic, and the decisions the
    //! docs give. The fuzz targets drive the session layer's cookie
    //! parsing; this drives the guard's.

    use proptest::prelude::*;

    use super::super::*;

    /// Header values: any bytes, or near-misses of the ones that matter.
    fn header() -> impl Strategy<Value = Option<Vec<u8>>> {
        let near = prop::sample::select(vec![
            &b"same-origin"[..],
            b"none",
            b"cross-site",
            b"same-site",
            b"https://example.com",
            b"http://example.com:8080",
            b"HTTPS://EXAMPLE.COM",
            b"https://",
            b"null",
            b"application/x-www-form-urlencoded; charset=utf-8",
            b"example.com",
            b"",
        ])
        .prop_map(<[u8]>::to_vec);
        prop::option::of(prop_oneof![
            near,
            prop::collection::vec(any::<u8>(), 0..300),
        ])
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "GET", "HEAD", "OPTIONS", "TRACE", "POST", "DELETE", "get"
            ])
            .prop_map(str::to_owned),
            "[A-Za-z]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_request_head_is_a_decision(
            method in method(),
            site in header(),
            origin in header(),
            host in header(),
            token in header(),
            content_type in header(),
            allowed in prop::bool::ANY,
        ) {
            let guard = if allowed {
                CsrfGuard::new()
                    .with_allowed_origin("https://example.com")
                    .expect("an origin")
            } else {
                CsrfGuard::new()
            };
            let facts = Facts {
                method: &method,
                sec_fetch_site: site.as_deref(),
                origin: origin.as_deref(),
                host: host.as_deref(),
                token: token.as_deref(),
                content_type: content_type.as_deref(),
            };
            let next = guard.screen(&facts);
            if matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE") {
                prop_assert_eq!(next, Ok(Next::Pass));
            } else {
                match next {
                    Ok(Next::Verify(t)) => prop_assert_eq!(Some(t), token.as_deref()),
                    Ok(Next::ReadForm) => prop_assert!(token.is_none()),
                    Ok(Next::Pass) => prop_assert!(false, "an unsafe method passed"),
                    Err(CsrfFailure::CrossSite) => prop_assert!(site.is_some()),
                    Err(CsrfFailure::OriginMismatch) => {
                        prop_assert!(site.is_none() && origin.is_some());
                    }
                    Err(CsrfFailure::MissingToken) => prop_assert!(token.is_none()),
                    Err(other) => prop_assert!(false, "{other:?} from the head alone"),
                }
                if let Err(failure) = next {
                    // Its event, with whatever bytes the headers held.
                    log_refused(failure, &method, "session", Some(&facts));
                }
            }
        }

        #[test]
        fn any_form_body_gives_its_first_token_field(
            body in prop::collection::vec(any::<u8>(), 0..400),
            token in "[A-Za-z0-9_-]{0,90}",
            at in 0usize..4,
        ) {
            // A body of its own, or one with a token field put in it.
            let mut pairs: Vec<Vec<u8>> = body.split(|&b| b == b'&').map(<[u8]>::to_vec).collect();
            let with_field = !pairs.iter().any(|p| p.starts_with(b"csrf_token="));
            if with_field {
                let at = at.min(pairs.len());
                pairs.insert(at, format!("csrf_token={token}").into_bytes());
            }
            let body = pairs.join(&b'&');
            let found = form_token(&body);
            let first = pairs.iter().find_map(|p| p.strip_prefix(b"csrf_token="));
            prop_assert_eq!(found, first);
            if with_field {
                prop_assert_eq!(found, Some(token.as_bytes()));
            }
        }

        #[test]
        fn any_token_but_the_secrets_own_is_refused(
            token in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..200),
                "[A-Za-z0-9_-]{86}".prop_map(String::into_bytes),
            ],
            at in 0usize..86,
        ) {
            let secret = Secret::new([7; SECRET_LEN]);
            prop_assert!(!unmask_matches(&token, &secret));
            // A token masked from the secret passes; any character of it
            // changed, it does not.
            let own = mask(&secret).expect("os rng").into_bytes();
            prop_assert!(unmask_matches(&own, &secret));
            let mut changed = own.clone();
            changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
            prop_assert!(!unmask_matches(&changed, &secret));
        }
    }
}

//! Sessions over several cookies (`CookieOptions::with_chunking`) on the
//! wire: large sessions round-trip, every chunk fits its cookie, a smaller
//! write removes the stale chunks, chunks that do not belong together are
//! refused, the budget is enforced when the handler stores the session;
//! and padding (`Sealer::with_padding`) hides sizes within a class.

use sealed_session::{
    Chunking, CookieOptions, Padding, Sealer, SessionConfig, DEFAULT_CHUNK_BUDGET, MAX_COOKIE_BYTES,
};

use crate::common::{cookie_value, one_key_ring, Jar, Start, TestClock};

fn chunked(sealer: Sealer, chunking: Chunking) -> SessionConfig {
    SessionConfig::with_options(sealer, CookieOptions::default().with_chunking(chunking))
        .expect("valid config")
}

/// The names of a response's `Set-Cookie` values that store a cookie, and
/// of those that remove one.
fn stored_and_removed(set_cookies: &[String]) -> (Vec<&str>, Vec<&str>) {
    fn name(h: &str) -> &str {
        h.split_once('=').map_or("", |(n, _)| n)
    }
    let removed = |h: &&String| h.ends_with("; Max-Age=0");
    (
        set_cookies
            .iter()
            .filter(|h| !removed(h))
            .map(|h| name(h))
            .collect(),
        set_cookies
            .iter()
            .filter(|h| removed(h))
            .map(|h| name(h))
            .collect(),
    )
}

/// A 10 KB session round-trips under a budget raised for it, with a
/// `__Host-` name kept on every chunk, each `Set-Cookie` within 4,096
/// bytes; a 5,000-byte one goes over two or more cookies under the default
/// budget and is read back.
pub(crate) async fn large_sessions_round_trip_in_chunks(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "__Host-session");
    let raised = Chunking::default().with_budget(14_000);
    let server = start(chunked(sealer, raised));
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    let r = jar.get(server.addr, "/big?len=10000").await;
    assert_eq!(r.status, 200, "{r:?}");
    let (stored, removed) = stored_and_removed(&r.set_cookies);
    assert_eq!(
        stored,
        [
            "__Host-session",
            "__Host-session.1",
            "__Host-session.2",
            "__Host-session.3"
        ]
    );
    assert!(removed.is_empty());
    for header in &r.set_cookies {
        assert!(header.len() <= MAX_COOKIE_BYTES, "{}", header.len());
        assert!(header.contains("; Secure; Path=/;"), "{header}");
    }
    let r = jar.get(server.addr, "/blob").await;
    assert_eq!((r.status, r.body.as_str()), (200, "10000"));
    assert!(r.set_cookies.is_empty(), "read only: {r:?}");
    assert_eq!(jar.get(server.addr, "/get").await.body, "ada:0");

    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let server = start(chunked(sealer, Chunking::default()));
    let mut jar = Jar::default();
    let r = jar.get(server.addr, "/big?len=5000").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.set_cookies.len() >= 2, "{r:?}");
    let sent: usize = jar.headers().iter().map(String::len).sum();
    assert!(sent <= DEFAULT_CHUNK_BUDGET, "{sent}");
    let r = jar.get(server.addr, "/blob").await;
    assert_eq!((r.status, r.body.as_str()), (200, "5000"));
}

/// Shrinking a chunked session to one cookie removes the other chunks
/// (and clearing removes them all); a one-cookie session is the plain
/// sealed value.
pub(crate) async fn shrinking_removes_stale_chunks(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let server = start(chunked(sealer, Chunking::default().with_budget(14_000)));
    let mut jar = Jar::default();
    jar.get(server.addr, "/big?len=10000").await;
    assert!(jar.value("session.3").is_some());
    let r = jar.get(server.addr, "/big?len=5000").await;
    let (stored, removed) = stored_and_removed(&r.set_cookies);
    assert_eq!(
        (stored, removed),
        (vec!["session", "session.1"], vec!["session.2", "session.3"])
    );
    let r = jar.get(server.addr, "/big?len=10").await;
    let (stored, removed) = stored_and_removed(&r.set_cookies);
    assert_eq!((stored, removed), (vec!["session"], vec!["session.1"]));
    assert!(!jar.value("session").expect("stored").contains('.'));
    assert_eq!(jar.headers().len(), 1);
    assert!(
        !jar.headers()[0].contains("session.1"),
        "{:?}",
        jar.headers()
    );
    assert_eq!(jar.get(server.addr, "/blob").await.body, "10");

    jar.get(server.addr, "/big?len=5000").await;
    let r = jar.get(server.addr, "/logout").await;
    let (stored, removed) = stored_and_removed(&r.set_cookies);
    assert_eq!((stored, removed), (vec![], vec!["session.1", "session"]));
}

/// Chunks mixed from two writes, a missing chunk, a count changed to take
/// in a planted chunk, or pieces swapped: no session, and every chunk
/// carried is removed. A planted chunk past the count, or a second cookie
/// for a chunk name, is never part of the session.
pub(crate) async fn chunks_that_do_not_belong_together_are_refused(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let server = start(chunked(sealer, Chunking::default()));
    let (mut one, mut two) = (Jar::default(), Jar::default());
    one.get(server.addr, "/set?username=one").await;
    one.get(server.addr, "/big?len=5000").await;
    two.get(server.addr, "/set?username=two").await;
    two.get(server.addr, "/big?len=5000").await;
    let (first, second) = (
        one.value("session").expect("chunk 0").to_owned(),
        one.value("session.1").expect("chunk 1").to_owned(),
    );
    let (count, piece) = first.split_once('.').expect("a count");
    assert_eq!(count, "2");

    let mut mixed = one.clone();
    mixed.set("session.1", two.value("session.1").expect("chunk 1"));
    let mut missing = Jar::default();
    missing.set("session", &first);
    let mut counted = one.clone();
    counted.set("session", &format!("3.{piece}"));
    counted.set("session.2", "AAAA");
    let mut swapped = Jar::default();
    swapped.set("session", &format!("2.{second}"));
    swapped.set("session.1", piece);
    for (case, mut jar, removed) in [
        ("mixed", mixed, vec!["session.1", "session"]),
        ("missing", missing, vec!["session"]),
        (
            "counted",
            counted,
            vec!["session.1", "session.2", "session"],
        ),
        ("swapped", swapped, vec!["session.1", "session"]),
    ] {
        let r = jar.get(server.addr, "/get").await;
        assert_eq!((r.status, r.body.as_str()), (200, ":0"), "{case}");
        assert_eq!(
            stored_and_removed(&r.set_cookies),
            (vec![], removed),
            "{case}"
        );
    }

    // Planted past the count: ignored; the next write removes it.
    let mut planted = one.clone();
    planted.set("session.2", "AAAA");
    let r = planted.get(server.addr, "/get").await;
    assert_eq!((r.body.as_str(), r.set_cookies.len()), ("one:0", 0));
    let r = planted.get(server.addr, "/count").await;
    let (stored, removed) = stored_and_removed(&r.set_cookies);
    assert_eq!(
        (stored, removed),
        (vec!["session", "session.1"], vec!["session.2"])
    );
    // A second cookie for chunk 1 in another header: the way that opens
    // is the session.
    let headers = vec![one.headers()[0].clone(), "session.1=AAAA".to_owned()];
    let r = crate::common::get(server.addr, "/get", &headers).await;
    assert_eq!((r.body.as_str(), r.set_cookies.len()), ("one:0", 0));
    assert_eq!(two.get(server.addr, "/get").await.body, "two:0");
}

/// The budget is enforced when the handler stores the session: a `413`
/// (from `SealError::TooLarge`), no `Set-Cookie`, the session as it was.
pub(crate) async fn chunk_budget_is_enforced_at_set(start: Start) {
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), "session");
    let server = start(chunked(sealer, Chunking::default()));
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    for len in [6000, 20_000, 1_000_000] {
        let r = jar.get(server.addr, &format!("/big?len={len}")).await;
        assert_eq!((r.status, r.body.as_str()), (413, ""), "{len}");
        assert!(r.set_cookies.is_empty(), "{r:?}");
    }
    // Fewer cookies than the budget would need: the count binds too.
    let sealer = clock.sealer(&one_key_ring(), "session");
    let two = Chunking::default().with_max_cookies(2).with_budget(100_000);
    let server = start(chunked(sealer, two));
    let r = jar.get(server.addr, "/big?len=7000").await;
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(jar.get(server.addr, "/big?len=5000").await.status, 200);
}

/// With padding, two sessions of different sizes within one size class
/// give cookies of the same length; a session of the next class is longer.
pub(crate) async fn padding_hides_sizes_within_a_class(start: Start) {
    let clock = TestClock::new();
    let sealer = clock
        .sealer(&one_key_ring(), "session")
        .with_padding(Padding::multiple_of(256));
    let server = start(crate::common::config(sealer));
    let mut lens = Vec::new();
    for username in ["a", "a-much-longer-username-than-the-first-one"] {
        let r = Jar::default()
            .get(server.addr, &format!("/set?username={username}"))
            .await;
        lens.push(cookie_value(r.only_cookie()).len());
    }
    assert_eq!(lens[0], lens[1], "one class, one length");
    let r = Jar::default().get(server.addr, "/big?len=300").await;
    assert!(cookie_value(r.only_cookie()).len() > lens[0]);
    // And a padded session reads back.
    let mut jar = Jar::default();
    jar.get(server.addr, "/set?username=ada").await;
    assert_eq!(jar.get(server.addr, "/get").await.body, "ada:0");
}

/// A server whose `max_cookies` was lowered, or that turned chunking off,
/// removes every chunk a request carries (up to `NAME.15`) when it writes
/// or removes the session cookie, not only the chunks it reads; a request
/// it only reads removes nothing.
pub(crate) async fn lowered_max_or_chunking_off_removes_old_chunks(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let six = Chunking::default().with_max_cookies(6).with_budget(30_000);
    let wide = start(chunked(clock.sealer(&ring, "session"), six));
    let four = start(chunked(
        clock.sealer(&ring, "session"),
        Chunking::default().with_budget(30_000),
    ));
    let off = start(crate::common::config(clock.sealer(&ring, "session")));
    let all_six = [
        "session",
        "session.1",
        "session.2",
        "session.3",
        "session.4",
        "session.5",
    ];

    // Six cookies, read by a server allowed four: refused, all six removed.
    let mut jar = Jar::default();
    let r = jar.get(wide.addr, "/big?len=17000").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(stored_and_removed(&r.set_cookies).0, all_six);
    let r = jar.get(four.addr, "/get").await;
    assert_eq!((r.status, r.body.as_str()), (200, ":0"));
    // The session's own removal last (curl takes only a response's last).
    let mut removed = all_six[1..].to_vec();
    removed.push(all_six[0]);
    assert_eq!(
        stored_and_removed(&r.set_cookies),
        (vec![], removed.clone())
    );
    assert!(jar.headers().is_empty(), "{:?}", jar.headers());

    // The same, read by a server without chunking.
    jar.get(wide.addr, "/big?len=17000").await;
    let r = jar.get(off.addr, "/get").await;
    assert_eq!(r.body, ":0");
    assert_eq!(stored_and_removed(&r.set_cookies), (vec![], removed));
    assert!(jar.headers().is_empty(), "{:?}", jar.headers());

    // Left-over chunks beside a session that opens: a read removes nothing,
    // the next write removes them, with chunking off or a lower maximum.
    for server in [&off, &four] {
        let mut jar = Jar::default();
        jar.get(server.addr, "/set?username=ada").await;
        jar.set("session.1", "AAAA");
        jar.set("session.5", "AAAA");
        let r = jar.get(server.addr, "/get").await;
        assert_eq!((r.body.as_str(), r.set_cookies.len()), ("ada:0", 0));
        let r = jar.get(server.addr, "/count").await;
        assert_eq!(
            stored_and_removed(&r.set_cookies),
            (vec!["session"], vec!["session.1", "session.5"])
        );
        assert_eq!(jar.headers().len(), 1);
        assert!(
            !jar.headers()[0].contains("session."),
            "{:?}",
            jar.headers()
        );
        // Names that are not chunks are never touched.
        jar.set("session.16", "AAAA");
        jar.set("session.01", "AAAA");
        let r = jar.get(server.addr, "/count").await;
        assert_eq!(
            stored_and_removed(&r.set_cookies),
            (vec!["session"], vec![])
        );
    }
}

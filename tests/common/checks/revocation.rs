//! Per-subject revocation by an asynchronous check
//! (`SessionConfig::with_async_check`), which the adapter awaits after the
//! cookie opened and before the handler runs.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::common::{
    capture, config, get, one_key_ring, removal_cookie, Start, TestClock, TestSession,
};

/// A future that is pending once (waking itself) and then ready: a check
/// that really awaits, on any runtime (actix-web runs its own).
struct Yield(bool);

impl Future for Yield {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn user(name: &str) -> TestSession {
    TestSession {
        username: Some(name.to_owned()),
        ..TestSession::default()
    }
}

/// A subject the async check refuses is logged out (an empty session and
/// the removal cookie, one debug event naming the reason); another stays,
/// untouched; the check runs once per request that carries a session
/// (not for an empty one, and once under nested layers), after awaiting;
/// it adds to a synchronous check and to another asynchronous one (all
/// must pass); and a handler can still log in anew on
/// the request whose session was refused.
pub(crate) async fn async_check_logs_out_a_revoked_subject(start: Start) {
    const NAME: &str = "async-revoked";
    capture::install();
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), NAME);
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let config = config(sealer.clone())
        .with_check(|s: &TestSession, _| s.username.as_deref() != Some("eve"))
        .with_async_check(move |s: &TestSession, _issued_at| {
            counted.fetch_add(1, Ordering::SeqCst);
            let name = s.username.clone();
            async move {
                Yield(false).await;
                name.as_deref() != Some("mallory")
            }
        })
        .with_async_check(|s: &TestSession, _issued_at| {
            let name = s.username.clone();
            async move { name.as_deref() != Some("trudy") }
        });
    let removal = removal_cookie(&config);
    let server = start(config);
    let cookie = |name: &str| format!("{NAME}={}", sealer.seal(&user(name)).expect("seal"));

    let r = get(server.addr, "/who", &[cookie("alice")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "alice"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let r = get(server.addr, "/nested/who", &[cookie("alice")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "alice"));
    assert!(r.set_cookies.is_empty(), "{r:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "once under nested layers");

    let r = get(server.addr, "/who", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "no check without a session"
    );

    let before = capture::lines_with(&format!("cookie={NAME:?}")).len();
    let r = get(server.addr, "/who", &[cookie("mallory")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert_eq!(r.set_cookies, std::slice::from_ref(&removal));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let lines = capture::lines_with(&format!("cookie={NAME:?}"));
    assert_eq!(lines.len(), before + 1, "{lines:?}");
    let line = &lines[before];
    assert!(line.starts_with("DEBUG "), "{line}");
    assert!(line.contains("message=session cookie refused"), "{line}");
    assert!(
        line.contains("error=sealed value refused: refused by the application's check"),
        "{line}"
    );

    // The synchronous check refuses first; the async one is not asked.
    let r = get(server.addr, "/who", &[cookie("eve")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert_eq!(r.set_cookies, std::slice::from_ref(&removal));
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // A second async check must pass too: the first lets trudy through.
    let r = get(server.addr, "/who", &[cookie("trudy")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert_eq!(r.set_cookies, std::slice::from_ref(&removal));
    assert_eq!(calls.load(Ordering::SeqCst), 4);

    // A refused session is an empty one the handler may store into.
    let r = get(server.addr, "/set?username=bob", &[cookie("mallory")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    let fresh = r.only_cookie();
    assert!(fresh.starts_with(&format!("{NAME}=")), "{fresh}");
    assert_ne!(fresh, removal);
}

/// A check written for another type than the session's, added by `with`
/// to the config of cookie `name`: every session is refused (fails
/// closed), and an error event says `event`.
async fn mistyped_check_fails_closed(
    start: Start,
    name: &str,
    with: impl FnOnce(sealed_session::SessionConfig) -> sealed_session::SessionConfig,
    event: &str,
) {
    capture::install();
    let clock = TestClock::new();
    let sealer = clock.sealer(&one_key_ring(), name);
    let config = with(config(sealer.clone()));
    let removal = removal_cookie(&config);
    let server = start(config);
    let cookie = format!("{name}={}", sealer.seal(&user("alice")).expect("seal"));

    let r = get(server.addr, "/who", &[cookie]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "-"));
    assert_eq!(r.set_cookies, [removal]);
    let errors = capture::lines_with(event);
    assert!(errors.iter().any(|l| l.starts_with("ERROR ")), "{errors:?}");
}

/// An async check written for another type than the session's refuses
/// every session (fails closed) with an error event.
pub(crate) async fn async_check_of_another_type_fails_closed(start: Start) {
    mistyped_check_fails_closed(
        start,
        "async-mistyped",
        |c| c.with_async_check(|_: &u8, _| async { true }),
        "async session check is written for another type",
    )
    .await;
}

/// The same for a check (`with_check`).
pub(crate) async fn check_of_another_type_fails_closed(start: Start) {
    mistyped_check_fails_closed(
        start,
        "sync-mistyped",
        |c| c.with_check(|_: &u8, _| true),
        "message=a session check is written for another type",
    )
    .await;
}

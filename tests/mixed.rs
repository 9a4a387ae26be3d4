//! One hyper server and one actix-web server with the same keyring: the
//! cookie of either opens on the other, and a scheduled rotation across
//! both loses no session. Both adapters write byte-for-byte the same
//! cookie attributes, from the shared cookie layer.
#![cfg(all(feature = "tower", feature = "actix"))]

#[macro_use]
mod common;
#[path = "servers/actix.rs"]
mod actix_server;
#[path = "servers/hyper.rs"]
mod hyper_server;

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use common::{cookie_value, get, Jar, TestClock, TestServer, TestSession};
use sealed_session::{CookieOptions, Key, KeyEntry, KeyId, Keyring, SameSite, SessionConfig};

thread_local! {
    /// Which adapter `alternate` starts next. Each test runs on its own
    /// thread (and its tokio runtime on that thread), so tests running in
    /// parallel do not disturb each other's order.
    static NEXT_IS_ACTIX: Cell<bool> = const { Cell::new(false) };
}

/// Starts hyper and actix servers in turn, beginning as `begin_with` says.
fn alternate(config: SessionConfig) -> TestServer {
    let actix = NEXT_IS_ACTIX.with(|next| next.replace(!next.get()));
    if actix {
        actix_server::start(config)
    } else {
        hyper_server::start(config)
    }
}

fn begin_with(actix: bool) {
    NEXT_IS_ACTIX.with(|next| next.set(actix));
}

fn ring() -> Arc<Keyring> {
    Arc::new(Keyring::new([KeyEntry::new(1, Key::try_generate().expect("rng"))]).expect("keyring"))
}

/// The shared suite's two-server checks with a hyper server first and an
/// actix one second (the third server, with another keyring, is hyper).
#[tokio::test]
async fn hyper_then_actix_share_sessions() {
    begin_with(false);
    common::two_servers_share_sessions(alternate).await;
}

/// The same with the actix server first.
#[tokio::test]
async fn actix_then_hyper_share_sessions() {
    begin_with(true);
    common::two_servers_share_sessions(alternate).await;
}

/// A scheduled key switch while a visitor alternates between a hyper and
/// an actix server: no request loses its session, and the cookies move
/// to the new key on both.
#[tokio::test]
async fn scheduled_rotation_hyper_then_actix() {
    begin_with(false);
    common::scheduled_rotation_across_servers(alternate).await;
}

/// The same with the actix server first.
#[tokio::test]
async fn scheduled_rotation_actix_then_hyper() {
    begin_with(true);
    common::scheduled_rotation_across_servers(alternate).await;
}

/// Set on one, read and changed on the other, in both directions; the
/// cookies of both carry the same attributes, and a logout on either
/// removes the cookie the other set.
#[tokio::test]
async fn cookies_cross_in_both_directions() {
    let clock = TestClock::new();
    let ring = ring();
    let options = CookieOptions::default()
        .with_domain("example.test")
        .with_same_site(SameSite::Strict);
    let config = || {
        SessionConfig::with_options(clock.sealer(&ring, "session"), options.clone())
            .expect("valid config")
    };
    let hyper = hyper_server::start(config());
    let actix = actix_server::start(config());
    let probe = clock.sealer(&ring, "session");

    for (first, second) in [(hyper.addr, actix.addr), (actix.addr, hyper.addr)] {
        let mut jar = Jar::default();
        let set = jar.get(first, "/set?username=ada").await;
        let value = cookie_value(set.only_cookie()).to_owned();
        let opened = probe.open::<TestSession>(&value).expect("opens");
        assert_eq!(opened.value.username.as_deref(), Some("ada"));

        let r = jar.get(second, "/get").await;
        assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
        assert!(r.set_cookies.is_empty(), "untouched: {r:?}");

        let changed = jar.get(second, "/count").await;
        assert_eq!(changed.body, "1");
        assert_eq!(jar.get(first, "/get").await.body, "ada:1");

        // Same attributes, whichever adapter wrote them.
        let attributes = |h: &str| h.split_once(';').expect("attributes").1.to_owned();
        assert_eq!(
            attributes(set.only_cookie()),
            attributes(changed.only_cookie())
        );

        let r = jar.get(first, "/logout").await;
        assert_eq!(r.only_cookie(), common::removal_cookie(&config()));
        assert_eq!(jar.get(second, "/get").await.body, ":0");
    }
}

/// A cookie sealed under a retired key, sent to each adapter, comes back
/// re-sealed under the current key with the same expiry, and the other
/// adapter opens it without writing anything.
#[tokio::test]
async fn reseal_on_one_opens_on_the_other() {
    let clock = TestClock::new();
    let (k1, k2) = (
        Key::try_generate().expect("rng"),
        Key::try_generate().expect("rng"),
    );
    let old = Arc::new(Keyring::new([KeyEntry::new(1, k1.clone())]).expect("keyring"));
    let new =
        Arc::new(Keyring::new([KeyEntry::new(1, k1), KeyEntry::new(2, k2)]).expect("keyring"));
    let config = || SessionConfig::new(clock.sealer(&new, "session")).expect("valid config");
    let hyper = hyper_server::start(config());
    let actix = actix_server::start(config());
    let issued = clock
        .sealer(&old, "session")
        .seal(&TestSession {
            username: Some("ada".into()),
            ..TestSession::default()
        })
        .expect("seal");
    clock.advance(Duration::from_secs(60));

    let mut resealed = Vec::new();
    for (first, second) in [(hyper.addr, actix.addr), (actix.addr, hyper.addr)] {
        let r = get(first, "/get", &[format!("session={issued}")]).await;
        assert_eq!(r.body, "ada:0");
        let header = r.only_cookie().to_owned();
        let value = cookie_value(&header).to_owned();
        let opened = clock
            .sealer(&new, "session")
            .open::<TestSession>(&value)
            .expect("opens");
        assert_eq!(opened.key_id, KeyId(2));

        let r = get(second, "/get", &[format!("session={value}")]).await;
        assert_eq!(r.body, "ada:0");
        assert!(r.set_cookies.is_empty(), "current key: {r:?}");
        resealed.push(header);
    }
    // Both re-sealed with the same Max-Age (the original expiry).
    let max_age = |h: &str| h.rsplit_once("; ").expect("attributes").1.to_owned();
    assert_eq!(max_age(&resealed[0]), max_age(&resealed[1]));
}

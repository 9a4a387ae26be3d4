//! Keys change under live sessions: re-seals on the wire, one nonce per
//! replayed old value, servers sharing a keyring, a scheduled rotation
//! across two servers.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use sealed_session::{KeyEntry, KeyId, Keyring};

use crate::common::{
    config, cookie_value, get, key, one_key_ring, Jar, Start, TestClock, TestSession, T0, TTL,
};

/// A cookie sealed with a key that no longer seals comes back re-sealed
/// under the current key with the same expiry; afterwards nothing is sent.
pub(crate) async fn rotation_on_the_wire(start: Start) {
    let clock = TestClock::new();
    let (k1, k2) = (key(), key());
    let old_ring = Arc::new(Keyring::new([KeyEntry::new(1, k1.clone())]).expect("keyring"));
    let new_ring =
        Arc::new(Keyring::new([KeyEntry::new(1, k1), KeyEntry::new(2, k2)]).expect("keyring"));
    let old = clock.sealer(&old_ring, "session");
    let new = clock.sealer(&new_ring, "session");
    let server = start(config(new.clone()));

    let issued = old
        .seal(&TestSession {
            username: Some("ada".into()),
            counter: 5,
            ..TestSession::default()
        })
        .expect("seal");
    let before = old.open::<TestSession>(&issued).expect("opens");
    clock.advance(Duration::from_secs(600));

    let r = get(server.addr, "/get", &[format!("session={issued}")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ada:5"));
    let header = r.only_cookie().to_owned();
    assert!(
        header.ends_with(&format!("; Max-Age={}", TTL.as_secs() - 600)),
        "keeps the expiry: {header}"
    );
    let after = new
        .open::<TestSession>(cookie_value(&header))
        .expect("re-sealed value opens");
    assert_eq!(after.key_id, KeyId(2));
    assert!(!after.needs_reseal);
    assert_eq!(after.value, before.value);
    assert_eq!(after.expires_at, before.expires_at);
    assert_eq!(after.issued_at, before.issued_at);

    let r = get(
        server.addr,
        "/get",
        &[format!("session={}", cookie_value(&header))],
    )
    .await;
    assert_eq!(r.body, "ada:5");
    assert!(
        r.set_cookies.is_empty(),
        "current key: nothing to write: {r:?}"
    );
}

/// A client that replays one old-key cookie on a read-only route gets the
/// same re-sealed value every time: the current key spends one nonce on it,
/// not one per request (its counters still see every seal).
pub(crate) async fn replayed_old_key_cookie_spends_one_nonce(start: Start) {
    let clock = TestClock::new();
    let (k1, k2) = (key(), key());
    let old_ring = Arc::new(Keyring::new([KeyEntry::new(1, k1.clone())]).expect("keyring"));
    let new_ring =
        Arc::new(Keyring::new([KeyEntry::new(1, k1), KeyEntry::new(2, k2)]).expect("keyring"));
    let old = clock.sealer(&old_ring, "session");
    let server = start(config(clock.sealer(&new_ring, "session")));
    let issued = old
        .seal(&TestSession {
            username: Some("ada".into()),
            ..TestSession::default()
        })
        .expect("seal");

    let mut resealed = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let r = get(server.addr, "/get", &[format!("session={issued}")]).await;
        assert_eq!((r.status, r.body.as_str()), (200, "ada:0"));
        resealed.insert(cookie_value(r.only_cookie()).to_owned());
    }
    assert_eq!(resealed.len(), 1, "one old value re-seals to one new value");
    let stats = new_ring.stats(KeyId(2)).expect("key 2");
    assert_eq!((stats.seals, stats.reseals), (50, 50));
}

/// Two servers with the same keyring open each other's cookies.
pub(crate) async fn two_servers_share_sessions(start: Start) {
    let clock = TestClock::new();
    let ring = one_key_ring();
    let a = start(config(clock.sealer(&ring, "session")));
    let b = start(config(clock.sealer(&ring, "session")));
    let mut jar = Jar::default();
    jar.get(a.addr, "/set?username=ada").await;
    assert_eq!(jar.get(b.addr, "/get").await.body, "ada:0");
    assert_eq!(jar.get(b.addr, "/count").await.body, "1");
    assert_eq!(jar.get(a.addr, "/count").await.body, "2");
    assert_eq!(jar.get(a.addr, "/get").await.body, "ada:2");

    // A server with another keyring does not.
    let c = start(config(clock.sealer(&one_key_ring(), "session")));
    let r = jar.get(c.addr, "/get").await;
    assert_eq!(r.body, ":0");
}

/// A scheduled rotation across two servers loses no session: every request
/// before, during and after the switch sees its session, and the cookies
/// move to the new key.
pub(crate) async fn scheduled_rotation_across_servers(start: Start) {
    let clock = TestClock::new();
    let switch = UNIX_EPOCH + Duration::from_secs(T0 + 300);
    let ring = Arc::new(
        Keyring::new([
            KeyEntry::new(1, key()),
            KeyEntry::new(2, key()).activate_at(switch),
        ])
        .expect("keyring"),
    );
    let servers = [
        start(config(clock.sealer(&ring, "session"))),
        start(config(clock.sealer(&ring, "session"))),
    ];
    let probe = clock.sealer(&ring, "session");
    // Two visitors: one writes on every visit, one only reads.
    let (mut writer, mut reader) = (Jar::default(), Jar::default());
    writer.get(servers[0].addr, "/set?username=w").await;
    reader.get(servers[1].addr, "/set?username=r").await;
    let mut count = 0;
    for step in 0..24 {
        let server = servers[step % 2].addr;
        count += 1;
        let r = writer.get(server, "/count").await;
        assert_eq!(r.body, count.to_string(), "step {step}");
        let r = reader.get(server, "/get").await;
        assert_eq!(r.body, "r:0", "step {step}");
        let expected_key = if clock.now() >= switch { 2 } else { 1 };
        for jar in [&writer, &reader] {
            let opened = probe
                .open::<TestSession>(jar.value("session").expect("cookie"))
                .expect("the jar's cookie opens");
            assert_eq!(opened.key_id, KeyId(expected_key), "step {step}");
        }
        clock.advance(Duration::from_secs(25));
    }
    assert!(clock.now() > switch, "the loop crossed the switch");
}

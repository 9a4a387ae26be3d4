//! The axum demo (`examples/axum.rs`) as a process on a free port, driven
//! through the flow its docs and the README describe: the login form and
//! its CSRF token, a refused login without it, the login, the welcome
//! flash once after the redirect, the logout with a retired token refused
//! and with a current one accepted, and the logged-out flash; and a
//! session planted before the login does not carry its lifetime over.
#![cfg(feature = "axum")]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::{Jar, Req};

/// Kills the demo when dropped.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the axum demo that `cargo test` built next to this test, on a
/// free port, and returns it with its address.
fn start_demo() -> (Demo, SocketAddr) {
    start_example("axum")
}

/// Starts the demo `name` (built next to this test) on a free port, with
/// a fixed key.
fn start_example(name: &str) -> (Demo, SocketAddr) {
    start_example_with(name, &[])
}

/// [`start_example`] with more environment variables.
fn start_example_with(name: &str, env: &[(&str, &str)]) -> (Demo, SocketAddr) {
    let key = "1:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ";
    let started = spawn_example(name, Some(key), env);
    (started.demo, started.addr)
}

/// A demo process, its address, and the lines of its standard error.
struct Started {
    demo: Demo,
    addr: SocketAddr,
    stderr: Receiver<String>,
}

/// Starts the demo `name` (built next to this test) on a free port, with
/// `SESSION_KEYS` set to `keys` (none set if `None`) and `env`, and waits
/// (at most 20 s) for the line that gives its port.
fn spawn_example(name: &str, keys: Option<&str>, env: &[(&str, &str)]) -> Started {
    let binary = common::example::built_example(name);
    let mut command = Command::new(&binary);
    command
        .env_remove("IDLE_SECS")
        .env_remove("SESSION_KEYS_FILE")
        .env_remove("SESSION_KEYS")
        .env("RUST_LOG", "off")
        .envs(env.iter().copied())
        .env("PORT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // RUST_LOG given as empty: not set at all (the demos' default filter).
    if env
        .iter()
        .any(|&(name, value)| name == "RUST_LOG" && value.is_empty())
    {
        command.env_remove("RUST_LOG");
    }
    if let Some(keys) = keys {
        command.env("SESSION_KEYS", keys);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped");
    let stderr = lines_of(child.stderr.take().expect("piped"));
    let demo = Demo(child);
    let line = lines_of(stdout)
        .recv_timeout(Duration::from_secs(20))
        .expect("the demo's first line within 20 s");
    let addr = SocketAddr::from(([127, 0, 0, 1], port_in(&line)));
    Started { demo, addr, stderr }
}

/// The lines of `stream`, read on a thread of their own, so that a test
/// waiting for one can give up (and fail) rather than hang.
fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (lines, got) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    got
}

/// The port in a demo's first line, `listening on http://localhost:PORT`
/// (and maybe more words).
fn port_in(line: &str) -> u16 {
    line.split("localhost:")
        .nth(1)
        .map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or("")
        })
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// The demo's login form, for ada, with `token`.
fn login_as_ada(token: &str) -> Req<'static> {
    Req::form("/login", &format!("username=ada&csrf_token={token}"))
}

/// The hidden `csrf_token` field of a page.
fn token(page: &str) -> String {
    let start = page
        .find("name=\"csrf_token\" value=\"")
        .expect("a token field")
        + 25;
    page[start..].split('"').next().expect("quoted").to_owned()
}

#[tokio::test]
async fn login_csrf_flash_logout() {
    let (_demo, addr) = start_demo();
    let mut jar = Jar::default();

    let page = jar.get(addr, "/login").await;
    assert_eq!(page.status, 200);
    assert!(jar.value("session-csrf").is_some(), "{page:?}");
    let login_token = token(&page.body);

    let r = jar.send(addr, &Req::form("/login", "username=ada")).await;
    assert_eq!((r.status, r.body.as_str()), (403, ""), "no token");
    let r = jar
        .send(
            addr,
            &login_as_ada(&login_token).header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(r.status, 403, "another site");

    let r = jar.send(addr, &login_as_ada(&login_token)).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(jar.value("session").is_some() && jar.value("session-flash").is_some());

    let page = jar.get(addr, "/whoami").await;
    assert!(
        page.body.starts_with("[welcome, ada]\nada, logged in"),
        "{page:?}"
    );
    let logout_token = token(&page.body);
    let page = jar.get(addr, "/whoami").await;
    assert!(
        page.body.starts_with("ada, logged in"),
        "the flash once: {page:?}"
    );

    let logout = |t: &str| Req::form("/logout", &format!("csrf_token={t}"));
    let r = jar.send(addr, &logout(&login_token)).await;
    assert_eq!(r.status, 403, "the login form's token, retired at login");
    let r = jar.send(addr, &logout(&logout_token)).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(jar.value("session").is_none() && jar.value("session-csrf").is_none());

    let page = jar.get(addr, "/").await;
    assert_eq!(
        page.body,
        "[you are logged out]\nsealed-session on axum: visit number 1\n"
    );
    assert_eq!(
        jar.get(addr, "/whoami").await.body,
        "nobody: log in at /login\n"
    );
}

/// Without `SESSION_KEYS` and `SESSION_KEYS_FILE` the demo serves with a
/// key of its own process, and warns first that its sessions end with it
/// and do not open on another worker (SECURITY.md: "a random per-process
/// key with several workers").
#[tokio::test]
async fn without_keys_the_demo_warns_that_its_key_is_its_own() {
    let started = spawn_example("axum", None, &[]);
    // The warning comes before the server listens.
    let mut warning = String::new();
    while let Ok(line) = started.stderr.recv_timeout(Duration::from_secs(10)) {
        warning.push_str(&line);
        warning.push('\n');
        if warning.contains("export SESSION_KEYS=") {
            break;
        }
    }
    assert!(warning.starts_with("WARNING: "), "{warning}");
    assert!(warning.contains("exists only in this process"), "{warning}");
    assert!(
        warning.contains("cannot open this one's cookies"),
        "{warning}"
    );
    let mut jar = Jar::default();
    assert_eq!(
        jar.get(started.addr, "/").await.status,
        200,
        "it serves all the same"
    );
}

/// The demos log the crate's events (README: "Install a subscriber to see
/// them; the demos do"): by default a tampered cookie's refusal, a warn
/// event naming the cookie and not its value; the routine refusal of an
/// expired one only with `RUST_LOG=sealed_session=debug`.
#[tokio::test]
async fn the_demos_log_refused_cookies() {
    let keys = "1:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ";
    let keyring: sealed_session::Keyring = keys.parse().expect("the demo's key");
    let sealer = sealed_session::Sealer::new(keyring)
        .with_name("session")
        .with_purpose("sealed-session-demo/visitor/v2");
    // Sealed an hour ago, with a minute's lifetime: expired.
    let then = std::time::SystemTime::now() - Duration::from_secs(3600);
    let expired = sealer
        .with_ttl(Duration::from_secs(60))
        .with_clock(move || then)
        .seal(&Visitor {
            username: None,
            visits: 1,
            filler: String::new(),
        })
        .expect("seals");
    let mut jar = Jar::default();
    let started = spawn_example("server", Some(keys), &[("RUST_LOG", "")]);
    jar.get(started.addr, "/").await;
    let value = jar.value("session").expect("a session").to_owned();
    let mut tampered = value.clone().into_bytes();
    tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    for cookie in [&tampered, &expired] {
        let r = common::get(started.addr, "/", &[format!("session={cookie}")]).await;
        assert_eq!(r.status, 200, "{r:?}");
    }
    let mut lines = Vec::new();
    while let Ok(line) = started.stderr.recv_timeout(Duration::from_millis(500)) {
        lines.push(line);
    }
    let refused: Vec<&String> = lines.iter().filter(|l| l.contains("refused")).collect();
    assert_eq!(
        refused.len(),
        1,
        "the tampered one only, by default: {lines:#?}"
    );
    assert!(refused[0].contains("WARN"), "{refused:?}");
    assert!(refused[0].contains("session"), "{refused:?}");
    for cookie in [&tampered, &value] {
        for piece in cookie.as_bytes().chunks(8) {
            let piece = std::str::from_utf8(piece).expect("ASCII");
            assert!(!lines.iter().any(|l| l.contains(piece)), "{piece:?} logged");
        }
    }
    drop(started);

    let started = spawn_example(
        "server",
        Some(keys),
        &[("RUST_LOG", "sealed_session=debug")],
    );
    let r = common::get(started.addr, "/", &[format!("session={expired}")]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let mut lines = Vec::new();
    while let Ok(line) = started.stderr.recv_timeout(Duration::from_millis(500)) {
        lines.push(line);
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("DEBUG") && l.contains("refused") && l.contains("expired")),
        "{lines:#?}"
    );
}

/// The hyper and actix demos carry a session over as many cookies as it
/// needs (`/fill?bytes=N`, the README's "try it in a browser"), and shrink
/// it again: the chunks it no longer needs are removed.
#[cfg(all(feature = "tower", feature = "actix"))]
#[tokio::test]
async fn the_demos_fill_and_shrink_a_session_over_several_cookies() {
    for demo in ["server", "actix"] {
        let (_demo, addr) = start_example(demo);
        let mut jar = Jar::default();
        let r = jar.get(addr, "/fill?bytes=5000").await;
        assert_eq!(r.status, 200, "{demo}: {r:?}");
        assert!(jar.value("session").is_some(), "{demo}");
        assert!(jar.value("session.1").is_some(), "{demo}: a second chunk");
        assert_eq!(jar.get(addr, "/get").await.status, 200, "{demo}");
        let r = jar.get(addr, "/fill?bytes=0").await;
        assert_eq!(r.status, 200, "{demo}: {r:?}");
        assert!(jar.value("session").is_some(), "{demo}");
        assert!(jar.value("session.1").is_none(), "{demo}: chunk removed");
        for bad in ["100001", "many"] {
            let r = jar.get(addr, &format!("/fill?bytes={bad}")).await;
            assert_eq!(r.status, 400, "{demo}: {r:?}");
            assert!(r.body.contains("at most 100000"), "{demo}: {r:?}");
        }
    }
}

/// The hyper and actix-web demos with one `SESSION_KEYS` open each other's
/// cookies (the README: "same routes, same cookie"), a session over
/// several cookies included, both ways.
#[tokio::test]
async fn the_hyper_and_actix_demos_open_each_others_cookies() {
    let (_server, hyper_addr) = start_example("server");
    let (_actix, actix_addr) = start_example("actix");
    for (from, to, name) in [
        (hyper_addr, actix_addr, "ada"),
        (actix_addr, hyper_addr, "grace"),
    ] {
        let mut jar = Jar::default();
        let r = jar.get(from, &format!("/?username={name}")).await;
        assert!([200, 303].contains(&r.status), "{r:?}");
        let r = jar.get(to, "/get").await;
        assert_eq!(r.body, format!("username: {name}"), "one cookie");
        let r = jar.get(from, "/fill?bytes=5000").await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(jar.value("session.1").is_some(), "a second chunk");
        let r = jar.get(to, "/get").await;
        assert_eq!(r.body, format!("username: {name}"), "two cookies");
    }
}

/// The axum demo's idle timeout is `IDLE_SECS` (default 1800): the session
/// cookie a login sets lives that long (its expiry snapped down to the
/// refresh interval, a tenth of it, and `Max-Age` counts whole seconds
/// left: between nine tenths and all of it).
#[tokio::test]
async fn the_axum_demos_idle_timeout_is_idle_secs() {
    for (env, idle) in [(Some("120"), 120u64), (None, 1800)] {
        let vars: Vec<(&str, &str)> = env.map(|secs| ("IDLE_SECS", secs)).into_iter().collect();
        let (_demo, addr) = start_example_with("axum", &vars);
        let mut jar = Jar::default();
        let page = jar.get(addr, "/login").await;
        let login = format!("username=ada&csrf_token={}", token(&page.body));
        let r = jar.send(addr, &Req::form("/login", &login)).await;
        assert_eq!(r.status, 303, "{r:?}");
        let session = r
            .set_cookies
            .iter()
            .find(|c| c.starts_with("session="))
            .expect("the session cookie");
        let max_age: u64 = session
            .rsplit_once("Max-Age=")
            .and_then(|(_, secs)| secs.split(';').next()?.parse().ok())
            .expect("a Max-Age");
        assert!(
            idle - idle / 10 <= max_age && max_age <= idle,
            "{env:?}: {session}"
        );
    }
}

/// The demo's session value, as `examples/axum.rs` defines it.
#[derive(serde::Serialize)]
struct Visitor {
    username: Option<String>,
    visits: u64,
    filler: String,
}

/// Login renews the session (SECURITY.md: call `renew` at login, so no
/// session from before it, perhaps fixed by someone else, carries over):
/// a session issued an hour ago, sealed as the demo seals, planted before
/// the login, is logged in with a lifetime that begins at the login.
#[tokio::test]
async fn the_demos_login_starts_a_new_lifetime() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let (_demo, addr) = start_demo();
    let keyring: sealed_session::Keyring =
        "1:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ"
            .parse()
            .expect("the demo's key");
    let sealer = sealed_session::Sealer::new(keyring)
        .with_name("session")
        .with_purpose("sealed-session-demo/visitor/v2")
        .with_ttl(Duration::from_secs(12 * 3600))
        .with_idle_timeout(Duration::from_secs(30 * 60), Duration::from_secs(180));
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let fixed = Visitor {
        username: None,
        visits: 3,
        filler: String::new(),
    };
    let planted = sealer.seal_issued_at(&fixed, hour_ago).expect("seals");
    let mut jar = Jar::default();
    jar.set("session", &planted);
    let page = jar.get(addr, "/");
    assert!(
        page.await.body.contains("visit number 4"),
        "the planted session opens"
    );

    let login_token = token(&jar.get(addr, "/login").await.body);
    let r = jar.send(addr, &login_as_ada(&login_token)).await;
    assert_eq!(r.status, 303, "{r:?}");
    let page = jar.get(addr, "/whoami").await;
    let since: u64 = page
        .body
        .split("logged in since unix time ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("{page:?}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert!(
        since + 60 >= now,
        "issued at {since}, not at the login ({now}): the planted lifetime carried over"
    );
}

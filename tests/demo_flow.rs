//! The axum demo (`examples/axum.rs`) as a process on a free port, driven
//! through the flow its docs and the README describe: the login form and
//! its CSRF token, a refused login without it, the login, the welcome
//! flash once after the redirect, the logout with a retired token refused
//! and with a current one accepted, and the logged-out flash.
#![cfg(feature = "axum")]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use common::{Jar, Req};

/// Kills the demo when dropped.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo that `cargo test` built next to this test, on a free
/// port, and returns it with its address.
fn start_demo() -> (Demo, SocketAddr) {
    let binary = common::example::built_example("axum");
    let mut child = Command::new(&binary)
        .env_remove("SESSION_KEYS_FILE")
        .env(
            "SESSION_KEYS",
            "1:xchacha20poly1305:9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ",
        )
        .env("PORT", "0")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped");
    let demo = Demo(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the demo's first line");
    let port: u16 = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (demo, SocketAddr::from(([127, 0, 0, 1], port)))
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
            &Req::form("/login", &format!("username=ada&csrf_token={login_token}"))
                .header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(r.status, 403, "another site");

    let r = jar
        .send(
            addr,
            &Req::form("/login", &format!("username=ada&csrf_token={login_token}")),
        )
        .await;
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
    let binary = common::example::built_example("axum");
    let mut child = Command::new(&binary)
        .env_remove("SESSION_KEYS_FILE")
        .env_remove("SESSION_KEYS")
        .env("PORT", "0")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let demo = Demo(child);
    // The warning comes before the server listens. Read on a thread of its
    // own, so that a demo that printed nothing fails the test rather than
    // hang it.
    let (lines, got) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut warning = String::new();
    while let Ok(line) = got.recv_timeout(std::time::Duration::from_secs(10)) {
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
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the demo's first line");
    let port: u16 = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut jar = Jar::default();
    assert_eq!(
        jar.get(addr, "/").await.status,
        200,
        "it serves all the same"
    );
    drop(demo);
}

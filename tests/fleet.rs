//! A fleet: three demo servers (`examples/server.rs`, each its own process
//! on 127.0.0.1) that share nothing but one keyring file and one revocation
//! file, and 50 users, each with their own cookie jar, whose requests go to
//! every server in turn the whole time the files change:
//!
//! - a. key 1 alone; every user logs in and reads the username back;
//! - b. key 2 added, activating a few seconds later;
//! - c. from its activation, every session comes back sealed under key 2;
//! - d. key 1 removed: no session lost;
//! - e. a file that does not parse: nothing changes;
//! - f. `revoke-before=NOW`: every earlier session refused, new logins work;
//! - g. one user in `REVOKED_FILE`: that user alone is logged out, and can
//!   log in again.
//!
//! After each change it waits, with traffic going, until every server shows
//! the change (a probe cookie opens, or stops opening, on each of them),
//! at most 5 s. It counts lost sessions and answers with a status of 500 or
//! more (both must be 0) and prints its figures, which is why it runs without
//! the test harness (that would capture them). It runs the demo binary that
//! `cargo test --all-features` builds next to it, talks HTTP/1.1 over plain
//! `TcpStream`s with timeouts, stops by itself within 90 s and kills every
//! server it started, also when it fails.

#[path = "common/example.rs"]
mod example;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sealed_session::{Key, Keyring, Sealer};
use serde::Serialize;

const SERVERS: usize = 3;
const USERS: usize = 50;
/// Threads sending a round of requests (one request per user).
const THREADS: usize = 10;
/// The whole test, the servers' start included.
const DEADLINE: Duration = Duration::from_secs(90);
/// The longest a file change may take to be in force on every server (they
/// re-read the files every second).
const PHASE: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// From writing key 2 to its activation, in seconds (at least this minus
/// one): more than [`PHASE`], so a reload in time is in force everywhere
/// before the activation, as a deploy must be.
const ACTIVATION_DELAY: u64 = 6;
/// How long a file that does not parse is watched (two re-reads and more).
const BAD_FILE_WATCH: Duration = Duration::from_millis(2500);
/// The user logged out alone in phase g.
const VICTIM: usize = 7;
/// What `/get` answers without a session.
const NO_USERNAME: &str = "no username in the session";

static START: OnceLock<Instant> = OnceLock::new();
static REQUESTS: AtomicU64 = AtomicU64::new(0);
static SERVER_ERRORS: AtomicU64 = AtomicU64::new(0);
/// The latest second in which a login was answered.
static LAST_LOGIN: AtomicU64 = AtomicU64::new(0);

/// The demo's session (`Visitor` in `examples/server.rs`), to seal probes.
#[derive(Serialize)]
struct Visitor {
    username: Option<String>,
    visits: u64,
    filler: String,
}

fn main() {
    START.get_or_init(Instant::now);
    let mut fleet = Fleet::new();
    let key1 = entry(1);
    let key2 = entry(2);
    fleet.write_keys(&format!("# the fleet's keys\n{key1}\n"));
    fleet.write_revoked("# USERNAME UNIX_SECONDS\n");
    for _ in 0..SERVERS {
        fleet.start_server();
    }
    let ports = fleet.ports();
    let ports = ports.as_slice();
    let mut users: Vec<User> = (0..USERS).map(User::new).collect();
    let mut figures = String::new();

    // a. Key 1 alone: every user logs in and reads back.
    let logged_in = round(&mut users, |u| {
        u.log_in(ports) && u.read(ports) == Seen::Own
    });
    for (user, ok) in users.iter_mut().zip(&logged_in) {
        user.lost |= !ok;
    }
    assert!(
        users.iter().all(|u| u.key_id() == Some(1)),
        "a: sealed under key 1"
    );
    let a_ok = logged_in.iter().filter(|ok| **ok).count();
    writeln!(
        figures,
        "a. key 1: {a_ok} of {USERS} users logged in and read back"
    )
    .expect("string");
    // A session sealed under key 1, kept to see key 1 go in phase d.
    let key1_probe = users[0].cookie.clone().expect("user0 has a session");
    let rotation = |u: &mut User| {
        if u.read(ports) != Seen::Own {
            u.lost = true;
        }
    };

    // b. Key 2 added, activating a few seconds later. A probe sealed under
    // key 2 (as a server would after the activation) opens on a server once
    // the server has read the new file.
    let activation = now_secs() + ACTIVATION_DELAY;
    fleet.write_keys(&format!(
        "# the fleet's keys; key 2 seals from its activation\n{key1}\n{key2}@{activation}\n"
    ));
    let activates_after = (UNIX_EPOCH + Duration::from_secs(activation))
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let key2_probe = probe(&key2, "probe");
    let probe_opens = "username: probe";
    let b_took = until_in_force("b (key 2 added)", &mut users, rotation, |_| {
        every_server_shows(ports, &key2_probe, probe_opens)
    });
    assert!(
        now_secs() < activation,
        "b: key 2 was read by every server only after its activation; this machine needs a \
         longer ACTIVATION_DELAY"
    );
    // Until the activation, key 1 still seals everywhere.
    while now_secs() < activation {
        round(&mut users, rotation);
        time_left();
        if now_secs() < activation {
            assert!(
                users.iter().all(|u| u.key_id() == Some(1)),
                "b: a session was sealed under key 2 before its activation"
            );
        }
    }
    writeln!(
        figures,
        "b. key 2 added: opens on every server {b_took:.2?} after the write, \
         activates {activates_after:.1?} after it"
    )
    .expect("string");

    // c. From the activation, every session comes back under key 2.
    let c_took = until_in_force(
        "c (sessions re-sealed under key 2)",
        &mut users,
        |u| {
            let stale = u.key_id() != Some(2);
            rotation(u);
            u.before_key2 += usize::from(stale);
        },
        |users| users.iter().all(|u| u.key_id() == Some(2)),
    );
    let most_requests = users.iter().map(|u| u.before_key2).max().unwrap_or(0);
    assert!(
        most_requests <= 3,
        "c: a session took {most_requests} requests to be re-sealed"
    );
    writeln!(
        figures,
        "c. key 2 active: every session re-sealed under key 2 {c_took:.2?} after the \
         activation had passed, at most {most_requests} request(s) per user"
    )
    .expect("string");

    // d. Key 1 removed: its values stop opening, no user loses a session.
    fleet.write_keys(&format!("# the fleet's keys\n{key2}@{activation}\n"));
    let d_took = until_in_force("d (key 1 removed)", &mut users, rotation, |_| {
        every_server_shows(ports, &key1_probe, NO_USERNAME)
    });
    writeln!(
        figures,
        "d. key 1 removed: in force on every server {d_took:.2?} after the write"
    )
    .expect("string");

    // e. A file cut in half (a bad deploy): not applied, nothing changes.
    fleet.write_keys(&format!(
        "# the fleet's keys\n{}\n",
        &key2[..key2.len() / 2]
    ));
    let watched = Instant::now();
    while watched.elapsed() < BAD_FILE_WATCH {
        round(&mut users, rotation);
        time_left();
    }
    assert!(
        every_server_shows(ports, &key2_probe, probe_opens),
        "e: key 2 still opens"
    );
    fleet.assert_running("e");
    writeln!(
        figures,
        "e. unparseable file: not applied, sessions kept (watched {BAD_FILE_WATCH:.1?})"
    )
    .expect("string");

    // f. revoke-before=NOW: every earlier session is refused, new logins work.
    wait_past(LAST_LOGIN.load(Ordering::SeqCst), &mut users, rotation);
    let lost_before_f = lost(&users);
    let some_session = users[1].cookie.clone().expect("user1 has a session");
    let cutoff = now_secs();
    fleet.write_keys(&format!(
        "# the fleet's keys\n{key2}@{activation}\nrevoke-before={cutoff}\n"
    ));
    let revoked_traffic = |u: &mut User| {
        if u.read(ports) == Seen::Refused {
            u.refused = true;
        }
    };
    let f_took = until_in_force("f (revoke-before)", &mut users, revoked_traffic, |_| {
        every_server_shows(ports, &some_session, NO_USERNAME)
    });
    round(&mut users, revoked_traffic);
    let none_left = users.iter().all(|u| u.cookie.is_none());
    assert!(
        none_left,
        "f: a session from before the cutoff is still held"
    );
    let f_refused = users.iter().filter(|u| u.refused).count();
    let relogged = round(&mut users, |u| {
        u.log_in(ports) && u.read(ports) == Seen::Own
    });
    let f_relogged = relogged.iter().filter(|ok| **ok).count();
    writeln!(
        figures,
        "f. revoke-before=now: in force on every server {f_took:.2?} after the write; \
         {f_refused} of {USERS} sessions refused, {f_relogged} of {USERS} new logins read back"
    )
    .expect("string");
    assert_eq!(f_refused, USERS, "f: every earlier session is refused");
    assert_eq!(f_relogged, USERS, "f: every new login works");

    // g. One user revoked in REVOKED_FILE: that user alone is logged out.
    wait_past(LAST_LOGIN.load(Ordering::SeqCst), &mut users, rotation);
    for user in &mut users {
        user.refused = false;
    }
    let victim = users[VICTIM].name.clone();
    let victim_session = users[VICTIM]
        .cookie
        .clone()
        .expect("the victim has a session");
    let since = now_secs();
    fleet.write_revoked(&format!(
        "# USERNAME UNIX_SECONDS: sessions issued before are refused\n{victim} {since}\n"
    ));
    let per_user = |u: &mut User| {
        if u.index == VICTIM {
            revoked_traffic(u);
        } else {
            rotation(u);
        }
    };
    let g_took = until_in_force("g (one user revoked)", &mut users, per_user, |_| {
        every_server_shows(ports, &victim_session, NO_USERNAME)
    });
    // Every user asks every server once more.
    for _ in 0..SERVERS {
        round(&mut users, per_user);
    }
    let g_refused: Vec<String> = users
        .iter()
        .filter(|u| u.refused || u.cookie.is_none())
        .map(|u| u.name.clone())
        .collect();
    let victim_back = users[VICTIM].log_in(ports) && users[VICTIM].read(ports) == Seen::Own;
    writeln!(
        figures,
        "g. {victim} revoked: in force on every server {g_took:.2?} after the write; \
         sessions refused: {g_refused:?}; {victim} logged in again: {victim_back}"
    )
    .expect("string");
    assert_eq!(
        g_refused,
        std::slice::from_ref(&victim),
        "g: exactly the victim"
    );
    assert!(victim_back, "g: the victim logs in again");
    fleet.assert_running("the end");

    let lost_total = lost(&users);
    let requests = REQUESTS.load(Ordering::SeqCst);
    let errors = SERVER_ERRORS.load(Ordering::SeqCst);
    let elapsed = START.get_or_init(Instant::now).elapsed();
    println!(
        "fleet: {SERVERS} servers (processes), {USERS} users, {requests} requests in \
         {elapsed:.1?}; sessions lost: {lost_total} (before revocations: {lost_before_f}); \
         responses >= 500: {errors}"
    );
    for line in figures.lines() {
        println!("fleet: {line}");
    }
    assert_eq!(lost_total, 0, "sessions lost");
    assert_eq!(errors, 0, "responses with a status of 500 or more");
}

/// Seconds since the epoch, now.
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Time left before the global deadline; fails the test once it has passed.
fn time_left() -> Duration {
    let left = DEADLINE.saturating_sub(START.get_or_init(Instant::now).elapsed());
    assert!(!left.is_zero(), "the fleet test ran past its {DEADLINE:?}");
    left
}

/// A fresh keyring entry.
fn entry(id: u32) -> String {
    let key = Key::try_generate().expect("os rng");
    format!("{id}:xchacha20poly1305:{}", key.to_base64())
}

/// A session for `username` sealed as a server holding `entry` seals it.
fn probe(entry: &str, username: &str) -> String {
    let keyring: Keyring = entry.parse().expect("the entry parses");
    Sealer::new(keyring)
        .with_name("session")
        .with_purpose("sealed-session-demo/visitor/v2")
        .seal(&Visitor {
            username: Some(username.to_owned()),
            visits: 0,
            filler: String::new(),
        })
        .expect("seals")
}

/// Whether `/get` with `cookie` (and no jar) answers `expected` on every
/// server.
fn every_server_shows(ports: &[u16], cookie: &str, expected: &str) -> bool {
    ports
        .iter()
        .all(|&port| http_get(port, "/get", Some(cookie)).body == expected)
}

/// Rounds of `traffic` until `in_force` holds after one; how long that took from the
/// call (at most [`PHASE`]).
fn until_in_force(
    what: &str,
    users: &mut [User],
    traffic: impl Fn(&mut User) + Sync,
    mut in_force: impl FnMut(&[User]) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        round(users, &traffic);
        if in_force(users) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < PHASE,
            "{what}: not in force on every server within {PHASE:?}"
        );
        time_left();
    }
}

/// Rounds of `traffic` until the clock is past `second`, so that a time
/// written now is later than every session issued until then (issue times
/// are whole seconds).
fn wait_past(second: u64, users: &mut [User], traffic: impl Fn(&mut User) + Sync) {
    while now_secs() <= second {
        round(users, &traffic);
        time_left();
    }
}

fn lost(users: &[User]) -> usize {
    users.iter().filter(|u| u.lost).count()
}

/// One request per user, from [`THREADS`] threads; the results in the
/// users' order.
fn round<R: Send>(users: &mut [User], each: impl Fn(&mut User) -> R + Sync) -> Vec<R> {
    let each = &each;
    let chunk = users.len().div_ceil(THREADS).max(1);
    std::thread::scope(|scope| {
        let threads: Vec<_> = users
            .chunks_mut(chunk)
            .map(|part| scope.spawn(move || part.iter_mut().map(each).collect::<Vec<R>>()))
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// A user: a name, a cookie jar of one cookie, and the next server to ask.
struct User {
    index: usize,
    name: String,
    cookie: Option<String>,
    sent: usize,
    /// Lost a session to a key change (must never happen).
    lost: bool,
    /// Had a session refused (by a revocation).
    refused: bool,
    /// Requests answered while the session was not yet under key 2.
    before_key2: usize,
}

/// What `/get` showed a user.
#[derive(Debug, PartialEq)]
enum Seen {
    Own,
    /// No username, where the user held a session cookie.
    Refused,
    /// No username and no session cookie.
    Nothing,
    ServerError,
}

impl User {
    fn new(index: usize) -> Self {
        User {
            index,
            name: format!("user{index}"),
            cookie: None,
            // Users start on different servers, then go round.
            sent: index,
            lost: false,
            refused: false,
            before_key2: 0,
        }
    }

    /// A request to the next server, through this user's jar.
    fn get(&mut self, ports: &[u16], path: &str) -> Reply {
        let port = ports[self.sent % ports.len()];
        self.sent += 1;
        let reply = http_get(port, path, self.cookie.as_deref());
        match &reply.cookie {
            Change::Kept => {}
            Change::Set(value) => self.cookie = Some(value.clone()),
            Change::Removed => self.cookie = None,
        }
        reply
    }

    /// `/?username=NAME`: true if answered with a redirect and a session.
    fn log_in(&mut self, ports: &[u16]) -> bool {
        let reply = self.get(ports, &format!("/?username={}", self.name));
        LAST_LOGIN.fetch_max(now_secs(), Ordering::SeqCst);
        reply.status == 303 && self.cookie.is_some()
    }

    /// `/get`.
    fn read(&mut self, ports: &[u16]) -> Seen {
        let had = self.cookie.is_some();
        let reply = self.get(ports, "/get");
        let own = format!("username: {}", self.name);
        match (reply.status, reply.body.as_str()) {
            (500.., _) => Seen::ServerError,
            (200, body) if body == own => Seen::Own,
            (200, NO_USERNAME) if had => Seen::Refused,
            (200, NO_USERNAME) => Seen::Nothing,
            (status, body) => panic!("{}: /get answered {status} {body:?}", self.name),
        }
    }

    /// The id of the key that sealed this user's cookie, read from the
    /// envelope: unpadded base64url, version byte 0x01, then the key id in
    /// LEB128.
    fn key_id(&self) -> Option<u32> {
        let bytes = URL_SAFE_NO_PAD.decode(self.cookie.as_ref()?).ok()?;
        let (&version, rest) = bytes.split_first()?;
        assert_eq!(version, 0x01, "envelope version");
        let mut id = 0u32;
        for (i, &byte) in rest.iter().take(5).enumerate() {
            id |= u32::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some(id);
            }
        }
        None
    }
}

struct Reply {
    status: u16,
    body: String,
    cookie: Change,
}

/// What a reply did to the session cookie.
enum Change {
    Kept,
    Set(String),
    Removed,
}

/// `GET path` on `127.0.0.1:port`, HTTP/1.1, one connection per request,
/// every step bounded by a timeout.
fn http_get(port: u16, path: &str, cookie: Option<&str>) -> Reply {
    let timeout = REQUEST_TIMEOUT.min(time_left());
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .unwrap_or_else(|e| panic!("connecting to the server on port {port}: {e}"));
    stream.set_read_timeout(Some(timeout)).expect("timeout");
    stream.set_write_timeout(Some(timeout)).expect("timeout");
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(value) = cookie {
        write!(request, "Cookie: session={value}\r\n").expect("string");
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("sending to port {port}: {e}"));
    let mut raw = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("reading from port {port}: {e}"));
    REQUESTS.fetch_add(1, Ordering::SeqCst);

    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("port {port}: not an HTTP response: {text:?}"));
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("port {port}: no status line: {head:?}"));
    if status >= 500 {
        SERVER_ERRORS.fetch_add(1, Ordering::SeqCst);
    }
    let mut change = Change::Kept;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("set-cookie") {
                change = set_cookie(value.trim()).unwrap_or(change);
            }
        }
    }
    Reply {
        status,
        body: body.to_owned(),
        cookie: change,
    }
}

/// What a `Set-Cookie` header does to the `session` cookie, if it is about
/// that cookie.
fn set_cookie(header: &str) -> Option<Change> {
    let mut parts = header.split(';').map(str::trim);
    let value = parts.next()?.strip_prefix("session=")?;
    let removed = value.is_empty() || parts.any(|a| a.eq_ignore_ascii_case("max-age=0"));
    Some(if removed {
        Change::Removed
    } else {
        Change::Set(value.to_owned())
    })
}

/// The servers and their files; dropping it kills every server and removes
/// the files (also when the test fails).
struct Fleet {
    dir: PathBuf,
    binary: PathBuf,
    servers: Vec<Server>,
}

struct Server {
    child: Child,
    port: u16,
    stderr: PathBuf,
}

impl Fleet {
    fn new() -> Self {
        let binary = server_binary();
        let dir = std::env::temp_dir().join(format!("sealed-session-fleet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut builder = std::fs::DirBuilder::new();
        // The keyring file holds keys: readable by this user only.
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).expect("a fresh temporary directory");
        Fleet {
            dir,
            binary,
            servers: Vec::new(),
        }
    }

    fn keys(&self) -> PathBuf {
        self.dir.join("keys")
    }

    fn revoked(&self) -> PathBuf {
        self.dir.join("revoked")
    }

    fn write_keys(&self, text: &str) {
        write_atomically(&self.keys(), text);
    }

    fn write_revoked(&self, text: &str) {
        write_atomically(&self.revoked(), text);
    }

    fn ports(&self) -> Vec<u16> {
        self.servers.iter().map(|s| s.port).collect()
    }

    /// Starts a server on a port the system picks (`PORT=0`) and waits
    /// until it says which one it listens on.
    fn start_server(&mut self) {
        let n = self.servers.len();
        let stdout = self.dir.join(format!("server{n}.out"));
        let stderr = self.dir.join(format!("server{n}.err"));
        let child = Command::new(&self.binary)
            .env_remove("SESSION_KEYS")
            .env("SESSION_KEYS_FILE", self.keys())
            .env("REVOKED_FILE", self.revoked())
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("stdout file"))
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary.display()));
        // Listed at once, so that `Drop` stops it whatever happens next.
        self.servers.push(Server {
            child,
            port: 0,
            stderr,
        });
        let server = self.servers.last_mut().expect("just pushed");
        let started = Instant::now();
        server.port = loop {
            let out = std::fs::read_to_string(&stdout).unwrap_or_default();
            if let Some(port) = listening_port(&out) {
                break port;
            }
            if let Some(status) = server.child.try_wait().expect("child status") {
                let err = std::fs::read_to_string(&server.stderr).unwrap_or_default();
                panic!("the server exited ({status}) at start: {err}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the server did not start within 10 s"
            );
            time_left();
            std::thread::sleep(Duration::from_millis(20));
        };
    }

    /// Every server is still running.
    fn assert_running(&mut self, when: &str) {
        for server in &mut self.servers {
            let status = server.child.try_wait().expect("child status");
            assert!(status.is_none(), "{when}: a server exited: {status:?}");
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
        if std::thread::panicking() {
            for server in &self.servers {
                let err = std::fs::read_to_string(&server.stderr).unwrap_or_default();
                eprintln!("--- stderr of the server on port {}:\n{err}", server.port);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The demo server that `cargo test` builds.
fn server_binary() -> PathBuf {
    example::built_example("server")
}

/// The port in the demo's `listening on http://localhost:PORT` line, once
/// the line is whole.
fn listening_port(out: &str) -> Option<u16> {
    let rest = out.split("listening on http://localhost:").nth(1)?;
    let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    // The line may still be on its way: the port is read once a character
    // after it has arrived.
    (digits.len() < rest.len()).then(|| digits.parse().ok())?
}

/// Writes `text` to `path` as deploy tools do: a temporary file, then an
/// atomic rename over the old one.
fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

//! The watcher thread of `LiveKeyring::watch_file` ends when the last
//! clone of its live keyring is dropped, and not before.
//!
//! A test binary of its own: it counts the process's watcher threads by
//! name, and other watchers in the same process would change the count.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use sealed_session::{Key, LiveKeyring, Sealer};

/// The watcher threads of this process, by their name as Linux keeps it
/// (the first 15 bytes of "sealed-session keyring watcher").
fn watchers() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.starts_with("sealed-session"))
        .count()
}

/// Waits up to 5 s for `watchers()` to be `n`; the count it ends on.
fn settles_at(n: usize) -> usize {
    let started = Instant::now();
    loop {
        let now = watchers();
        if now == n || started.elapsed() > Duration::from_secs(5) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_watcher_thread_ends_with_the_last_clone() {
    let dir = std::env::temp_dir().join(format!("sealed-session-watcher-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The key file holds a key: readable by this user only.
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&dir)
        .expect("scratch dir");
    let path = dir.join("keys");
    let key = Key::try_generate().expect("rng").to_base64();
    std::fs::write(&path, format!("1:xchacha20poly1305:{key}\n")).expect("write");
    assert_eq!(watchers(), 0, "no watcher before the first");

    let live = LiveKeyring::watch_file_every(&path, Duration::from_millis(10)).expect("loads");
    // The thread names itself once it runs.
    assert_eq!(settles_at(1), 1, "one watcher per watched file");
    let clone = live.clone();
    let sealer = Sealer::from_live(&live);
    drop(live);
    // The watcher reads the file 20 times in this sleep: it goes on while a
    // clone and a sealer hold the live keyring.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(watchers(), 1, "the watcher ended while a clone was alive");
    drop(clone);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(watchers(), 1, "the watcher ended while a sealer used it");
    sealer.seal(&"still sealing").expect("seals");

    drop(sealer);
    assert_eq!(
        settles_at(0),
        0,
        "the watcher thread outlived its live keyring by 5 s"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

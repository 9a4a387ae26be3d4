//! Nonces stay unique across `fork(2)`.
//!
//! rand's `ThreadRng` is not reseeded in a forked child: a parent that
//! sealed before forking and its child draw the same "random" bytes. Prefork
//! servers, or this crate inside a forking Python server, do exactly that.
//! Nonces are synthetic (a keyed hash of fresh random bytes *and* the whole
//! message), so the duplicated generator can only repeat a nonce together
//! with the whole message, which repeats the whole ciphertext and reveals
//! nothing.
//!
//! This test really forks. It first shows that the generator state is
//! duplicated (so the test has teeth), then that parent and child sealing
//! different sessions in the same second get different nonces, and that the
//! same session sealed by both is the same value. It runs without the test
//! harness, so the process is single-threaded when it forks.

// fork(2), waitpid(2) and _exit(2): the only unsafe code in the project.
#![allow(unsafe_code)]

#[cfg(target_os = "linux")]
fn main() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use rand::RngCore as _;
    use sealed_session::{Algorithm, Key, KeyEntry, Keyring, Sealer};
    use std::io::{Read as _, Write as _};
    use std::time::{Duration, UNIX_EPOCH};

    let mut passed = 0;
    for algorithm in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
        let key = Key::try_generate().expect("os rng");
        let keyring = Keyring::new([KeyEntry::new(1, key).algorithm(algorithm)]).expect("keyring");
        // One fixed second for both processes: their times are equal, so
        // only the payload tells their messages apart.
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let sealer = Sealer::new(keyring)
            .with_name("session")
            .with_clock(move || now);
        // The parent seals before forking: its generator is seeded and in use.
        sealer.seal(&"before the fork").expect("seals");

        let (mut reader, mut writer) = std::io::pipe().expect("pipe");
        // SAFETY: the process is single-threaded here (no test harness), so
        // the child may allocate and use thread-locals before it exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            drop(reader);
            let mut drawn = [0u8; 16];
            rand::rng().fill_bytes(&mut drawn);
            let own = sealer.seal(&"the child's session").expect("seals");
            let same = sealer.seal(&"one session").expect("seals");
            let line = format!("{}\n{own}\n{same}\n", URL_SAFE_NO_PAD.encode(drawn));
            let code = i32::from(writer.write_all(line.as_bytes()).is_err());
            drop(writer);
            // SAFETY: ends the child at once, without running the parent's
            // exit handlers a second time.
            unsafe { libc::_exit(code) };
        }
        drop(writer);
        let mut drawn = [0u8; 16];
        rand::rng().fill_bytes(&mut drawn);
        let own = sealer.seal(&"the parent's session").expect("seals");
        let same = sealer.seal(&"one session").expect("seals");
        let mut from_child = String::new();
        reader
            .read_to_string(&mut from_child)
            .expect("child's output");
        let mut status = 0;
        // SAFETY: waits for the child this process just forked.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid, "waitpid");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child failed"
        );
        let lines: Vec<&str> = from_child.lines().collect();
        assert_eq!(lines.len(), 3, "child's output: {from_child:?}");

        // The test has teeth: the child's generator is the parent's.
        assert_eq!(
            lines[0],
            URL_SAFE_NO_PAD.encode(drawn),
            "the generator state was not duplicated by fork: this test no longer shows anything"
        );
        let nonce = |value: &str| {
            let bin = URL_SAFE_NO_PAD.decode(value).expect("base64url");
            // version, key id 1 (one byte), then the nonce.
            bin[2..2 + algorithm.nonce_len()].to_vec()
        };
        assert_ne!(
            nonce(lines[1]),
            nonce(&own),
            "{algorithm}: parent and child sealed different sessions under one nonce"
        );
        assert_eq!(
            lines[2], same,
            "{algorithm}: the same message from parent and child must be the same value"
        );
        assert_eq!(
            sealer.open::<String>(lines[1]).expect("opens").value,
            "the child's session"
        );
        println!("fork: {algorithm}: parent and child nonces differ for different sessions");
        passed += 1;
    }
    println!("test result: ok. {passed} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("fork: skipped (Linux only)");
}

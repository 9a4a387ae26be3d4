//! Nonces stay unique across `fork(2)`.
//!
//! A forked child holds a copy of its parent's memory: rand's `ThreadRng`
//! and the sealer's per-thread nonce streams included. Prefork servers, or
//! this crate inside a forking Python server, do exactly that.
//!
//! - [`NonceScheme::PerThread`] (the default): the child detects the fork
//!   and draws new streams from the operating system before its first
//!   seal. Every nonce of parent and child differs, and with XChaCha20 the
//!   parent's stream visibly goes on where the child's copy would have.
//! - [`NonceScheme::Synthetic`]: nonces are a keyed hash of fresh random
//!   bytes *and* the whole message, so the duplicated generator can only
//!   repeat a nonce together with the whole message, which repeats the
//!   whole ciphertext and reveals nothing.
//!
//! This test really forks. It first shows that the generator state is
//! duplicated (so the test has teeth), then that parent and child sealing
//! in the same second get different nonces. Then, per algorithm: a child
//! whose operating system generator fails after the fork (a seccomp filter
//! on `getrandom`) fails its seals rather than continue its parent's
//! stream; and forks from threads, of a process whose stream an exited
//! thread left, and a grandchild, never repeat a nonce; and parent and
//! child mask one CSRF secret into different tokens. It runs without the
//! test harness, so the process is single-threaded when it first forks.
//!
//! [`NonceScheme::PerThread`]: sealed_session::NonceScheme::PerThread
//! [`NonceScheme::Synthetic`]: sealed_session::NonceScheme::Synthetic

// fork(2), waitpid(2) and _exit(2): the only unsafe code in the project.
#![allow(unsafe_code)]

#[cfg(target_os = "linux")]
fn main() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use rand::RngCore as _;
    use sealed_session::{Algorithm, Key, KeyEntry, Keyring, NonceScheme, Sealer};
    use std::time::{Duration, UNIX_EPOCH};

    let mut passed = 0;
    for scheme in [NonceScheme::PerThread, NonceScheme::Synthetic] {
        for algorithm in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
            let key = Key::try_generate().expect("os rng");
            let keyring =
                Keyring::new([KeyEntry::new(1, key).algorithm(algorithm)]).expect("keyring");
            // One fixed second for both processes: their times are equal, so
            // only the payload tells their messages apart.
            let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            let sealer = Sealer::new(keyring)
                .with_name("session")
                .with_nonces(scheme)
                .with_clock(move || now);
            let nonce = |value: &str| {
                let bin = URL_SAFE_NO_PAD.decode(value).expect("base64url");
                // version, key id 1 (one byte), then the nonce.
                bin[2..2 + algorithm.nonce_len()].to_vec()
            };
            // The parent seals before forking: its generator is seeded and in
            // use, and so is its nonce stream under this key.
            let before = nonce(&sealer.seal(&"before the fork").expect("seals"));
            // rand's thread generator is seeded and in use too (the
            // per-thread scheme never touches it).
            rand::rng().next_u32();

            // The process is single-threaded here (no test harness).
            let from_child = in_child(|| {
                let mut drawn = [0u8; 16];
                rand::rng().fill_bytes(&mut drawn);
                let own = sealer.seal(&"the child's session").expect("seals");
                let same = sealer.seal(&"one session").expect("seals");
                format!("{}\n{own}\n{same}\n", URL_SAFE_NO_PAD.encode(drawn))
            });
            let mut drawn = [0u8; 16];
            rand::rng().fill_bytes(&mut drawn);
            let own = sealer.seal(&"the parent's session").expect("seals");
            let same = sealer.seal(&"one session").expect("seals");
            let lines: Vec<&str> = from_child.lines().collect();
            assert_eq!(lines.len(), 3, "child's output: {from_child:?}");

            // The test has teeth: the child's memory is the parent's, its
            // random generator included.
            assert_eq!(
                lines[0],
                URL_SAFE_NO_PAD.encode(drawn),
                "the generator state was not duplicated by fork: this test no longer shows anything"
            );
            let label = format!("{algorithm}, {scheme:?}");
            assert_ne!(
                nonce(lines[1]),
                nonce(&own),
                "{label}: parent and child sealed different sessions under one nonce"
            );
            match scheme {
                NonceScheme::PerThread => {
                    // Every nonce of either process differs from the others:
                    // the child drew a new stream rather than continue the
                    // copy of its parent's.
                    let all = [
                        before.clone(),
                        nonce(&own),
                        nonce(&same),
                        nonce(lines[1]),
                        nonce(lines[2]),
                    ];
                    for (i, a) in all.iter().enumerate() {
                        for b in &all[i + 1..] {
                            assert_ne!(a, b, "{label}: a nonce repeated across fork");
                        }
                    }
                    if algorithm == Algorithm::XChaCha20Poly1305 {
                        // The parent's stream went on from where it was
                        // (prefix, then counter 1, then 2): the child's copy
                        // would have given exactly these nonces.
                        let mut next = before[..16].to_vec();
                        next.extend_from_slice(&1u64.to_le_bytes());
                        assert_eq!(nonce(&own), next, "{label}: the parent's stream went on");
                        assert_ne!(
                            nonce(lines[1])[..16],
                            before[..16],
                            "{label}: the child kept its parent's nonce prefix"
                        );
                    }
                }
                NonceScheme::Synthetic => assert_eq!(
                    lines[2], same,
                    "{label}: the same message from parent and child must be the same value"
                ),
                _ => unreachable!("the schemes this test loops over"),
            }
            assert_eq!(
                sealer.open::<String>(lines[1]).expect("opens").value,
                "the child's session"
            );
            println!("fork: {label}: no nonce repeated across fork");
            passed += 1;
        }
    }
    #[cfg(feature = "tower")]
    {
        csrf_masks_differ_across_fork();
        passed += 1;
    }
    #[cfg(not(feature = "tower"))]
    println!("fork: CSRF masks skipped (needs --features tower)");
    for algorithm in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
        if fails_closed_without_randomness(algorithm) {
            passed += 1;
        }
        threads_and_grandchildren(algorithm);
        passed += 1;
    }
    println!("test result: ok. {passed} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}

/// The nonce of a value sealed under key 1 (a one-byte id).
#[cfg(target_os = "linux")]
fn nonce_of(value: &str, algorithm: sealed_session::Algorithm) -> Vec<u8> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let bin = URL_SAFE_NO_PAD.decode(value).expect("base64url");
    bin[2..2 + algorithm.nonce_len()].to_vec()
}

#[cfg(target_os = "linux")]
fn sealer_of(algorithm: sealed_session::Algorithm) -> sealed_session::Sealer {
    use sealed_session::{Key, KeyEntry, Keyring, Sealer};
    let keyring =
        Keyring::new([KeyEntry::new(1, Key::try_generate().expect("os rng")).algorithm(algorithm)])
            .expect("keyring");
    Sealer::new(keyring).with_name("session")
}

/// Forks; runs `child` in the child and sends back what it returns; returns
/// that.
#[cfg(target_os = "linux")]
fn in_child(child: impl FnOnce() -> String) -> String {
    use std::io::{Read as _, Write as _};
    let (mut reader, mut writer) = std::io::pipe().expect("pipe");
    // SAFETY: no other thread of this process holds a lock the child needs
    // (the callers fork from a thread while the others wait in `join` or do
    // not exist), and glibc's `fork` resets the allocator's locks.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(reader);
        let out = child();
        let code = i32::from(writer.write_all(out.as_bytes()).is_err());
        drop(writer);
        // SAFETY: ends the child at once, without running the parent's exit
        // handlers a second time.
        unsafe { libc::_exit(code) };
    }
    drop(writer);
    let mut out = String::new();
    reader.read_to_string(&mut out).expect("child's output");
    let mut status = 0;
    // SAFETY: waits for the child this process just forked.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid, "waitpid");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed"
    );
    out
}

/// Makes every `getrandom` system call of this process fail with EIO (a
/// seccomp filter); false if the kernel or a sandbox refuses the filter.
#[cfg(target_os = "linux")]
fn block_getrandom() -> bool {
    const RET_ERRNO: u32 = 0x0005_0000;
    const RET_ALLOW: u32 = 0x7fff_0000;
    let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    // Load the system call's number; if it is getrandom, fail it with EIO.
    let filter = [
        op(0x20, 0, 0, 0),
        op(0x15, 0, 1, libc::SYS_getrandom as u32),
        op(0x06, 0, 0, RET_ERRNO | libc::EIO as u32),
        op(0x06, 0, 0, RET_ALLOW),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: plain prctl calls; the filter outlives the call that copies it.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            && libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &program as *const libc::sock_fprog as libc::c_ulong,
                0,
                0,
            ) == 0
    }
}

/// A child whose operating system generator fails after the fork (a
/// sandbox applied after fork, no file descriptors left) must fail its
/// seals, never go on with its parent's stream: two failing seals in a
/// row, the second one too. Fails if the filter cannot be installed,
/// unless `SEALED_SESSION_NO_SECCOMP` is set (then false).
#[cfg(target_os = "linux")]
fn fails_closed_without_randomness(algorithm: sealed_session::Algorithm) -> bool {
    use sealed_session::Error;
    let sealer = sealer_of(algorithm);
    sealer.seal(&"before the fork").expect("seals");
    let out = in_child(|| {
        if !block_getrandom() {
            return "unsupported".to_owned();
        }
        let first = sealer.seal(&"the child's session");
        let second = sealer.seal(&"the child's next session");
        format!("{:?}\n{:?}", first.map(|_| ()), second.map(|_| ()))
    });
    if out == "unsupported" {
        // Not a pass: SECURITY.md's claim goes untested. Only where the
        // machine has no seccomp, and someone says so, is it skipped.
        assert!(
            std::env::var_os("SEALED_SESSION_NO_SECCOMP").is_some(),
            "fork: {algorithm}: seccomp refused here, so a child without randomness cannot be \
             tried; set SEALED_SESSION_NO_SECCOMP=1 to skip this check on such a machine"
        );
        println!("fork: {algorithm}: no seccomp here (SEALED_SESSION_NO_SECCOMP): not tried");
        return false;
    }
    let expected = format!(
        "{:?}\n{:?}",
        Err::<(), _>(Error::Rng),
        Err::<(), _>(Error::Rng)
    );
    assert_eq!(
        out, expected,
        "{algorithm}: a child without randomness sealed"
    );
    // The parent's stream is untouched and goes on.
    sealer.seal(&"the parent's session").expect("seals");
    println!("fork: {algorithm}: a child without randomness fails its seals");
    true
}

/// Forks from a thread that never sealed, in a process whose stream was
/// left by an exited thread, and a grandchild from a thread of the child:
/// every nonce of all three processes differs.
#[cfg(target_os = "linux")]
fn threads_and_grandchildren(algorithm: sealed_session::Algorithm) {
    let sealer = sealer_of(algorithm);
    let in_thread = |f: &(dyn Fn() -> String + Sync)| {
        std::thread::scope(|s| s.spawn(f).join().expect("thread"))
    };
    let seal = |message: &str| sealer.seal(&message).expect("seals");
    let before = in_thread(&|| seal("sealed by a thread that exited"));
    let from_child = in_thread(&|| {
        in_child(|| {
            let child = in_thread(&|| seal("the child's thread"));
            let from_grandchild = in_thread(&|| {
                let grandchild = in_child(|| seal("the grandchild"));
                format!("{}\n{grandchild}", seal("the child's other thread"))
            });
            format!("{child}\n{from_grandchild}")
        })
    });
    let parent = in_thread(&|| seal("the parent's thread"));
    let mut all = vec![nonce_of(&before, algorithm), nonce_of(&parent, algorithm)];
    all.extend(from_child.lines().map(|v| nonce_of(v, algorithm)));
    assert_eq!(all.len(), 5, "{from_child:?}");
    let distinct: std::collections::HashSet<&Vec<u8>> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "{algorithm}: a nonce repeated");
    println!("fork: {algorithm}: threads, children and grandchildren never share a nonce");
}

/// A forked worker's CSRF tokens are not its parent's (SECURITY.md: no two
/// pages carry the same token string). Parent and child each answer a
/// request that carries the same CSRF cookie after the fork, so both mask
/// the same secret; a mask drawn from a generator in the process (rand's
/// thread generator, seeded by the first request, before the fork) would
/// be the same in both. Through the tower layer, polled by hand: no
/// runtime, so no threads.
#[cfg(all(target_os = "linux", feature = "tower"))]
fn csrf_masks_differ_across_fork() {
    use core::future::Future as _;
    use core::task::{Context, Poll, Waker};
    use sealed_session::tower::{SessionExt, SessionLayer};
    use sealed_session::{Keyring, Sealer, SessionConfig};
    use tower::{service_fn, Layer as _, Service as _};

    let config =
        SessionConfig::new(Sealer::new(Keyring::ephemeral().expect("rng"))).expect("valid");
    let csrf_name = config.csrf_name().to_owned();
    let mut service =
        SessionLayer::<String>::new(config).layer(service_fn(|req: hyper::Request<()>| {
            let session = req.session::<String>().expect("the layer ran");
            let token = session.csrf_token().expect("a token");
            std::future::ready(Ok::<_, std::convert::Infallible>(hyper::Response::new(
                token,
            )))
        }));
    let mut call = |cookie: &str| {
        let mut request = hyper::Request::builder();
        if !cookie.is_empty() {
            request = request.header(hyper::header::COOKIE, cookie);
        }
        let mut future = std::pin::pin!(service.call(request.body(()).expect("valid")));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(Ok(response)) => response,
            _ => panic!("the handler answers at once"),
        }
    };
    let first = call("");
    let cookie = first
        .headers()
        .get_all(hyper::header::SET_COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find(|h| h.starts_with(&format!("{csrf_name}=")))
        .and_then(|h| h.split(';').next())
        .expect("the first answer sets the CSRF cookie")
        .to_owned();
    let first = first.into_body();
    let from_child = in_child(|| call(&cookie).into_body());
    let own = call(&cookie).into_body();
    assert_eq!(from_child.len(), 86, "child's token: {from_child:?}");
    let tokens = [&first, &own, &from_child];
    for (i, a) in tokens.iter().enumerate() {
        for b in &tokens[i + 1..] {
            assert_ne!(a, b, "a CSRF token repeated across fork");
        }
    }
    println!("fork: CSRF tokens of parent and child differ");
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("fork: skipped (Linux only)");
}

//! Seals and opens from a thread-local's destructor, run while the thread
//! tears down its thread-local storage: after `thread_local`'s own
//! per-thread state (which the nonce streams and kept subkeys use) and
//! rand's thread generator are gone. They must work, not panic: a panic
//! in a thread-local's destructor aborts the whole process.
//!
//! A seal there takes a synthetic nonce from fresh random bytes: two
//! seals of one message get two nonces.
//!
//! Each case runs on a thread of its own whose first thread-local is the
//! one whose destructor seals and opens, so it is destroyed last (the C
//! library runs them in reverse order of registration). Before the thread
//! ends it seals and opens once, so every piece of per-thread state exists
//! and is then torn down before the destructor runs.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Once};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sealed_session::{Algorithm, Key, KeyEntry, Keyring, NonceScheme, Sealer};

/// What a destructor did: the value it sealed, what opening it and the
/// value sealed before teardown gave, and a second value it sealed.
type Outcome = (
    Result<String, sealed_session::Error>,
    Option<Result<u32, sealed_session::Error>>,
    Result<u32, sealed_session::Error>,
    Result<String, sealed_session::Error>,
);

/// Seals and opens when dropped, and reports on `report`.
struct Late {
    sealer: Sealer,
    earlier: String,
    report: mpsc::Sender<Outcome>,
}

impl Drop for Late {
    fn drop(&mut self) {
        let sealed = self.sealer.seal(&41u32);
        let reopened = sealed
            .as_ref()
            .ok()
            .map(|v| self.sealer.open::<u32>(v).map(|o| o.value));
        let earlier = self.sealer.open::<u32>(&self.earlier).map(|o| o.value);
        let second = self.sealer.seal(&41u32);
        let _ = self.report.send((sealed, reopened, earlier, second));
    }
}

std::thread_local! {
    static LATE: RefCell<Option<Late>> = const { RefCell::new(None) };
}

fn sealer(algorithm: Algorithm, nonces: NonceScheme) -> Sealer {
    let key = Key::try_generate().expect("os rng");
    let keyring = Keyring::new([KeyEntry::new(1, key).algorithm(algorithm)]).expect("keyring");
    Sealer::new(keyring).with_nonces(nonces)
}

/// Another crate's per-thread values, through which a thread can take over
/// an exited thread's `thread_local` id (and with it that thread's slots in
/// this crate's streams and kept subkeys) before it ever seals.
static OTHER: thread_local::ThreadLocal<()> = thread_local::ThreadLocal::new();

fn run(algorithm: Algorithm, nonces: NonceScheme, take_over: bool) -> Outcome {
    let sealer = sealer(algorithm, nonces);
    let earlier = sealer.seal(&7u32).expect("seals");
    if take_over {
        // A thread that fills its slots and exits, giving its id back.
        let first = sealer.clone();
        let value = earlier.clone();
        std::thread::spawn(move || {
            first.seal(&1u32).expect("seals");
            first.open::<u32>(&value).expect("opens");
        })
        .join()
        .expect("the first thread ran");
    }
    let (report, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        // Registered first, so destroyed after everything below.
        LATE.with(|late| {
            *late.borrow_mut() = Some(Late {
                sealer: sealer.clone(),
                earlier: earlier.clone(),
                report,
            })
        });
        if take_over {
            // The lowest free id: most likely the first thread's.
            OTHER.get_or(|| ());
        }
        // Every piece of per-thread state the destructor would use.
        sealer.seal(&1u32).expect("seals");
        assert_eq!(sealer.open::<u32>(&earlier).expect("opens").value, 7);
    })
    .join()
    .expect("the thread and its destructors ran without a panic");
    outcome.recv().expect("the destructor reported")
}

/// Panics anywhere in this test binary (both tests expect none): a panic
/// caught inside the crate still counts, and one in a destructor aborts.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn check(take_over: bool) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
    for algorithm in [Algorithm::XChaCha20Poly1305, Algorithm::Aes256Gcm] {
        for nonces in [NonceScheme::PerThread, NonceScheme::Synthetic] {
            let (sealed, reopened, earlier, second) = run(algorithm, nonces, take_over);
            let case = format!("{algorithm:?}, {nonces:?}");
            assert!(sealed.is_ok(), "{case}: {sealed:?}");
            assert_eq!(reopened, Some(Ok(41)), "{case}");
            assert_eq!(earlier, Ok(7), "{case}");
            // Synthetic nonces from fresh random bytes: one message sealed
            // twice gets two nonces, neither of them zeros.
            let nonces = [&sealed, &second].map(|value| {
                let value = value.as_ref().expect("sealed");
                let bin = URL_SAFE_NO_PAD.decode(value).expect("base64url");
                bin[2..2 + algorithm.nonce_len()].to_vec()
            });
            assert_ne!(nonces[0], nonces[1], "{case}");
            for nonce in &nonces {
                assert!(nonce.iter().any(|&b| b != 0), "{case}: {nonce:?}");
            }
        }
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "nothing panicked");
}

#[test]
fn seals_and_opens_from_a_thread_local_destructor() {
    check(false);
}

/// The same on a thread that took over an exited thread's `thread_local`
/// id, and so its filled slots, through another crate before it sealed:
/// its first seal finds a stream without ever having asked for one.
#[test]
fn seals_and_opens_from_a_destructor_on_a_thread_that_took_over_an_id() {
    check(true);
}

/// The one case that still panics: a thread whose *first* seal comes from
/// a destructor, after another crate's `thread_local` use has released its
/// id. With unwinding on, the crate catches the panic (the hook reports
/// it) and the seal succeeds, with a synthetic nonce. Run in a child
/// process of this test binary, since the panic hook reports to the
/// process and the other tests count panics.
#[test]
fn a_first_seal_in_teardown_after_another_crate_is_caught() {
    if std::env::var_os("TEARDOWN_FIRST_USE").is_some() {
        first_use_in_teardown();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "a_first_seal_in_teardown_after_another_crate_is_caught",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TEARDOWN_FIRST_USE", "1")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stderr}", out.status);
    assert!(
        stdout.contains("first seal in teardown: 41"),
        "{stdout}\n{stderr}"
    );
}

/// The child's part: a thread takes an id through another crate, never
/// seals, and seals and opens for the first time from a destructor that
/// runs after `thread_local` released that id.
fn first_use_in_teardown() {
    let sealer = sealer(Algorithm::XChaCha20Poly1305, NonceScheme::PerThread);
    let earlier = sealer.seal(&7u32).expect("seals");
    let (report, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        LATE.with(|cell| {
            *cell.borrow_mut() = Some(Late {
                sealer,
                earlier,
                report,
            })
        });
        // An id from another crate, released before `LATE` is dropped;
        // this thread never seals before then.
        OTHER.get_or(|| ());
    })
    .join()
    .expect("the thread and its destructors ran");
    let (sealed, reopened, earlier, _) = outcome.recv().expect("the destructor reported");
    assert!(sealed.is_ok(), "{sealed:?}");
    assert_eq!(earlier, Ok(7));
    println!(
        "first seal in teardown: {}",
        reopened.expect("sealed").expect("opens")
    );
}

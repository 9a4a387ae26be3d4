//! The workloads every bench measures, defined once.
//!
//! `Session` is a typical login session; `LargeSession` is the same plus a
//! shopping cart of 150 items (840 bytes of postcard).
//!
//! Shared by path (`#[path]`) with the criterion benches (`benches/speed`),
//! the load crates (`benches/load_*`) and `tests/allocs.rs`, so it belongs
//! to none of them.
#![allow(dead_code)] // each bench binary uses a different part

use std::time::Duration;

use sealed_session::{Algorithm, Key, KeyEntry, Keyring, Sealer};
use serde::{Deserialize, Serialize};

/// The small workload's type.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub(crate) struct Session {
    pub(crate) user_id: u64,
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    pub(crate) csrf_token: [u8; 32],
    pub(crate) issued_at: u64,
    pub(crate) flash: Option<String>,
}

/// The large workload's type: `Session` plus a cart.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub(crate) struct LargeSession {
    pub(crate) user_id: u64,
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    pub(crate) csrf_token: [u8; 32],
    pub(crate) issued_at: u64,
    pub(crate) flash: Option<String>,
    pub(crate) cart: Vec<(u32, u16)>,
}

/// The small value (88 bytes of postcard).
pub(crate) fn small() -> Session {
    Session {
        user_id: 4_211_337,
        username: "alice@example.com".into(),
        roles: vec!["admin".into(), "editor".into()],
        csrf_token: [7u8; 32],
        issued_at: 1_764_000_000,
        flash: Some("Welcome back!".into()),
    }
}

/// The large value: the small one plus 150 cart items (840 bytes of
/// postcard: each item is a 3-byte product id and a 2-byte quantity).
pub(crate) fn large() -> LargeSession {
    let s = small();
    LargeSession {
        user_id: s.user_id,
        username: s.username,
        roles: s.roles,
        csrf_token: s.csrf_token,
        issued_at: s.issued_at,
        flash: s.flash,
        cart: (0..150u16)
            .map(|i| (20_000 + u32::from(i) * 7_919, 150 + (i % 9) * 100))
            .collect(),
    }
}

/// The fixed key every bench uses (never a real secret; a pattern, so it
/// is loaded without the randomness check).
pub(crate) const KEY: [u8; 32] = [0x42; 32];

/// The cookie name and purpose every bench binds values to.
pub(crate) const NAME: &str = "session";
pub(crate) const PURPOSE: &str = "bench/session/v1";

/// A sealer with one key of `algorithm`, a one-day lifetime and the system
/// clock, as an application would configure it.
pub(crate) fn sealer(algorithm: Algorithm) -> Sealer {
    let key = Key::insecure_from_bytes(&KEY);
    let keyring = Keyring::new([KeyEntry::new(1, key).algorithm(algorithm)]).expect("keyring");
    Sealer::new(keyring)
        .with_name(NAME)
        .with_purpose(PURPOSE)
        .with_ttl(Duration::from_secs(86_400))
}

/// Both algorithms, with the names used in bench ids.
pub(crate) const ALGORITHMS: [(Algorithm, &str); 2] = [
    (Algorithm::XChaCha20Poly1305, "xchacha20poly1305"),
    (Algorithm::Aes256Gcm, "aes256gcm"),
];

/// The postcard length of a value.
pub(crate) fn postcard_len<T: Serialize>(value: &T) -> usize {
    postcard::to_allocvec(value).expect("serializes").len()
}

//! What the checks build their servers and cookies from: a clock the test
//! moves by hand, keys and keyrings, configurations, and the `Set-Cookie`
//! formats written out independently of the library.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::{Key, KeyEntry, Keyring, SameSite, Sealer, SessionConfig};

/// A clock the test moves by hand, shared by every sealer of a test.
#[derive(Clone)]
pub(crate) struct TestClock(Arc<AtomicU64>);

/// 2030-03-17T17:46:40Z: any fixed time works.
pub(crate) const T0: u64 = 1_900_000_000;
pub(crate) const TTL: Duration = Duration::from_secs(3600);

impl TestClock {
    pub(crate) fn new() -> Self {
        TestClock(Arc::new(AtomicU64::new(T0)))
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    pub(crate) fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }

    /// A sealer for cookie `name` over `keyring`, on this clock, with the
    /// suite's TTL and purpose.
    pub(crate) fn sealer(&self, keyring: &Arc<Keyring>, name: &str) -> Sealer {
        let clock = self.clone();
        Sealer::from_shared(Arc::clone(keyring))
            .with_name(name)
            .with_purpose("sealed-session/acceptance/v1")
            .with_ttl(TTL)
            .with_clock(move || clock.now())
    }
}

pub(crate) fn key() -> Key {
    Key::try_generate().expect("random key")
}

pub(crate) fn one_key_ring() -> Arc<Keyring> {
    Arc::new(Keyring::new([KeyEntry::new(1, key())]).expect("keyring"))
}

pub(crate) fn config(sealer: Sealer) -> SessionConfig {
    SessionConfig::new(sealer).expect("valid config")
}

/// The configuration of the test servers' `/nested-other/` layer: the
/// same cookie as `config`, another purpose.
pub(crate) fn other_purpose(config: &SessionConfig) -> SessionConfig {
    SessionConfig::new(config.sealer().clone().with_purpose("nested-other")).expect("valid config")
}

/// The `Set-Cookie` header a server sends to store `value` for `max_age`
/// under `config`, written out here from the options (an independent
/// reading of the format every adapter must produce).
pub(crate) fn set_cookie(config: &SessionConfig, value: &str, max_age: Duration) -> String {
    let o = config.options();
    let mut header = format!("{}={value}", config.name());
    if o.is_http_only() {
        header.push_str("; HttpOnly");
    }
    header.push_str(match o.same_site() {
        SameSite::Strict => "; SameSite=Strict",
        SameSite::Lax => "; SameSite=Lax",
        _ => "; SameSite=None",
    });
    if o.is_secure() {
        header.push_str("; Secure");
    }
    header.push_str(&format!("; Path={}", o.path()));
    if let Some(domain) = o.domain() {
        header.push_str(&format!("; Domain={domain}"));
    }
    if o.is_persistent() {
        header.push_str(&format!("; Max-Age={}", max_age.as_secs()));
    }
    header
}

/// The `Set-Cookie` header that removes the session cookie of `config`.
pub(crate) fn removal_cookie(config: &SessionConfig) -> String {
    let header = set_cookie(config, "", Duration::ZERO);
    if config.options().is_persistent() {
        header
    } else {
        format!("{header}; Max-Age=0")
    }
}

/// The value part of a `Set-Cookie` header.
pub(crate) fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().expect("name=value");
    pair.split_once('=').expect("name=value").1
}

/// The attributes of a `Set-Cookie` header, without `Max-Age`.
pub(crate) fn attributes_but_max_age(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.to_ascii_lowercase().starts_with("max-age="))
        .collect()
}

//! The sealing schemes the benches compare: sealed-session itself and
//! what Rust applications use today, each behind one `Peer` trait. Shared
//! by path with `peers.rs` (criterion) and `interleaved.rs` (same-moment
//! ratios).
#![allow(dead_code)] // each bench uses a different part

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::common;

const TTL: u32 = 86_400;

/// One sealing scheme under test.
pub(crate) trait Peer {
    fn seal<T: Serialize>(&self, value: &T) -> String;
    fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T>;
}

pub(crate) struct Ours(pub(crate) sealed_session::Sealer);

impl Peer for Ours {
    fn seal<T: Serialize>(&self, value: &T) -> String {
        self.0.seal(value).expect("seals")
    }
    fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        self.0.open(value).ok().map(|o| o.value)
    }
}

/// `cookie` PrivateJar (AES-256-GCM, 96-bit random nonce, base64 standard)
/// over serde_json, a jar per request as the frameworks do.
pub(crate) struct CookieJar(pub(crate) cookie::Key);

impl Peer for CookieJar {
    fn seal<T: Serialize>(&self, value: &T) -> String {
        let json = serde_json::to_string(value).expect("serializes");
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(&self.0)
            .add(cookie::Cookie::new(common::NAME, json));
        jar.get(common::NAME).expect("added").value().to_owned()
    }
    fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        let mut jar = cookie::CookieJar::new();
        jar.add_original(cookie::Cookie::new(common::NAME, value.to_owned()));
        let cookie = jar.private(&self.0).get(common::NAME)?;
        serde_json::from_str(cookie.value()).ok()
    }
}

/// Fernet (AES-128-CBC + HMAC-SHA256, RustCrypto backend) over serde_json.
pub(crate) struct Fernet(fernet::Fernet);

impl Peer for Fernet {
    fn seal<T: Serialize>(&self, value: &T) -> String {
        let json = serde_json::to_vec(value).expect("serializes");
        self.0.encrypt(&json)
    }
    fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        let json = self.0.decrypt_with_ttl(value, u64::from(TTL)).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// Branca (XChaCha20-Poly1305 by orion, base62) over serde_json.
pub(crate) struct Branca([u8; 32]);

fn now_u32() -> u32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    u32::try_from(secs).expect("before 2106")
}

impl Peer for Branca {
    fn seal<T: Serialize>(&self, value: &T) -> String {
        let json = serde_json::to_vec(value).expect("serializes");
        branca::encode(&json, &self.0, now_u32()).expect("encodes")
    }
    fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        let json = branca::decode(value, &self.0, TTL).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// PASETO v4.local (XChaCha20 + BLAKE2b by orion) over serde_json, the
/// cookie name and purpose as implicit assertion.
pub(crate) struct Paseto(pasetors::keys::SymmetricKey<pasetors::version4::V4>);

const IMPLICIT: &[u8] = b"session|bench/session/v1";

impl Peer for Paseto {
    fn seal<T: Serialize>(&self, value: &T) -> String {
        let json = serde_json::to_vec(value).expect("serializes");
        pasetors::version4::LocalToken::encrypt(&self.0, &json, None, Some(IMPLICIT))
            .expect("encrypts")
    }
    fn open<T: DeserializeOwned>(&self, value: &str) -> Option<T> {
        use pasetors::token::UntrustedToken;
        let token =
            UntrustedToken::<pasetors::Local, pasetors::version4::V4>::try_from(value).ok()?;
        let trusted =
            pasetors::version4::LocalToken::decrypt(&self.0, &token, None, Some(IMPLICIT)).ok()?;
        serde_json::from_str(trusted.payload()).ok()
    }
}

/// Every scheme under test, with the name used in bench ids.
pub(crate) fn peers() -> Vec<(&'static str, AnyPeer)> {
    let fernet_key = base64::engine::general_purpose::URL_SAFE.encode(common::KEY);
    vec![
        (
            "sealed-session-xchacha",
            AnyPeer::Ours(Ours(common::sealer(common::ALGORITHMS[0].0))),
        ),
        (
            "sealed-session-aesgcm",
            AnyPeer::Ours(Ours(common::sealer(common::ALGORITHMS[1].0))),
        ),
        (
            "cookie-private-json",
            AnyPeer::Cookie(CookieJar(cookie::Key::from(&[0x42; 64]))),
        ),
        (
            "fernet-json",
            AnyPeer::Fernet(Fernet(
                fernet::Fernet::new(&fernet_key).expect("fernet key"),
            )),
        ),
        ("branca-json", AnyPeer::Branca(Branca(common::KEY))),
        (
            "paseto-v4-local-json",
            AnyPeer::Paseto(Paseto(
                pasetors::keys::SymmetricKey::from(&common::KEY).expect("paseto key"),
            )),
        ),
    ]
}

/// The generic methods keep `Peer` from being a trait object.
pub(crate) enum AnyPeer {
    Ours(Ours),
    Cookie(CookieJar),
    Fernet(Fernet),
    Branca(Branca),
    Paseto(Paseto),
}

#[macro_export]
macro_rules! with_peer {
    ($peer:expr, $p:ident => $body:expr) => {
        match $peer {
            $crate::schemes::AnyPeer::Ours($p) => $body,
            $crate::schemes::AnyPeer::Cookie($p) => $body,
            $crate::schemes::AnyPeer::Fernet($p) => $body,
            $crate::schemes::AnyPeer::Branca($p) => $body,
            $crate::schemes::AnyPeer::Paseto($p) => $body,
        }
    };
}

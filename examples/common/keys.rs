//! Where both demo servers get their keys and address.

use sealed_session::{ConfigError, Error, Key, Keyring, LiveKeyring};

/// The keyring the demo serves with:
///
/// - `SESSION_KEYS_FILE` set: the file, re-read every second, so adding,
///   activating, retiring and revoking keys needs no restart;
/// - else `SESSION_KEYS`: fixed for the process's life;
/// - else a key that exists only in this process, with a warning.
pub(crate) fn keyring() -> Result<LiveKeyring, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("SESSION_KEYS_FILE") {
        return Ok(LiveKeyring::watch_file(path)?);
    }
    let keyring = match Keyring::from_env("SESSION_KEYS") {
        Ok(keyring) => keyring,
        Err(Error::Config(ConfigError::EnvNotSet { .. })) => {
            let suggestion = Key::try_generate()?.to_base64();
            eprintln!(
                "WARNING: neither SESSION_KEYS_FILE nor SESSION_KEYS is set, so this server uses \
                 a key that exists only in this process.\n\
                 Every session ends when it restarts, and a second worker or server (which would \
                 make its own key) cannot open this one's cookies: users would be logged out at \
                 random. For anything but a quick try, give every server the same keys, e.g.\n\
                 \n    export SESSION_KEYS='1:xchacha20poly1305:{suggestion}'\n"
            );
            Keyring::ephemeral()?
        }
        Err(error) => return Err(error.into()),
    };
    Ok(LiveKeyring::new(keyring)?)
}

/// Prints the crate's events to stderr: `RUST_LOG` filters them (default
/// `info`: keyrings put in force, and refused cookies that point at
/// tampering, a revoked or unknown key, clocks apart or a schema change;
/// `RUST_LOG=sealed_session=debug` adds the routine refusals, such as
/// expired cookies).
pub(crate) fn log_events() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// `127.0.0.1:PORT`, with `PORT` from the environment (default 3000).
pub(crate) fn addr() -> Result<std::net::SocketAddr, Box<dyn std::error::Error>> {
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT={port:?} is not a port"))?,
        Err(_) => 3000u16,
    };
    Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
}

//! Prints a fresh keyring entry for `SESSION_KEYS`.
//!
//! ```text
//! cargo run --example keygen                       # 1:xchacha20poly1305:<32 random bytes>
//! cargo run --example keygen -- --id 2 --aes256gcm --activate-at 2027-01-01T00:00:00Z
//! ```
//!
//! The entry is a secret: put it in your secret store, not in a repository.

use sealed_session::{Algorithm, ConfigError, Error, Key, Keyring};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut id: u32 = 1;
    let mut algorithm = Algorithm::XChaCha20Poly1305;
    let mut activation: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--id" => match args.next().and_then(|v| v.parse().ok()) {
                Some(v) => id = v,
                None => return usage("--id takes a whole number from 0 to 4294967295"),
            },
            "--aes256gcm" => algorithm = Algorithm::Aes256Gcm,
            "--xchacha20poly1305" => algorithm = Algorithm::XChaCha20Poly1305,
            "--activate-at" => match args.next() {
                Some(v) => activation = Some(v),
                None => return usage("--activate-at takes unix seconds or YYYY-MM-DDTHH:MM:SSZ"),
            },
            "-h" | "--help" => return usage(""),
            _ => return usage("unknown argument"),
        }
    }
    let key = match Key::try_generate() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("keygen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut entry = format!("{id}:{algorithm}:{}", key.to_base64());
    if let Some(at) = activation {
        entry.push('@');
        entry.push_str(&at);
    }
    // Check the entry parses exactly as a server will parse it (next to a
    // stand-in key that may seal now, in case the activation is in the
    // future; a fresh one, as a patterned key would be refused as weak).
    let stand_in = match Key::try_generate() {
        Ok(key) => format!(
            "{}:xchacha20poly1305:{}",
            u32::from(id == 0),
            key.to_base64()
        ),
        Err(e) => {
            eprintln!("keygen: {e}");
            return ExitCode::FAILURE;
        }
    };
    match format!("{entry} {stand_in}").parse::<Keyring>() {
        Ok(_) => {}
        Err(Error::Config(ConfigError::Entry { problem, .. })) => {
            return usage(&problem.to_string())
        }
        Err(e) => return usage(&e.to_string()),
    }
    println!("{entry}");
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    if !problem.is_empty() {
        eprintln!("keygen: {problem}");
    }
    eprintln!(
        "usage: keygen [--id N] [--xchacha20poly1305 | --aes256gcm] [--activate-at TIME]\n\
         prints ID:ALGORITHM:KEY[@TIME]; join entries with spaces or commas in SESSION_KEYS"
    );
    if problem.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

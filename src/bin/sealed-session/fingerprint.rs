//! `fingerprint`: what identifies a keyring, to compare replicas. No key
//! material.

use std::time::SystemTime;

use sealed_session::{KeyInfo, Keyring};

use crate::args::{self, Arg, Args};
use crate::keys::KeysFrom;
use crate::{text, Fail, Report};

pub(crate) fn run(mut args: Args) -> Result<Report, Fail> {
    let mut from = None;
    while let Some(arg) = args.next()? {
        match &arg {
            Arg::Flag(flag) if flag == "--keys" => from = Some(KeysFrom::Spec(args.value(flag)?)),
            Arg::Flag(flag) if flag == "--keys-file" => {
                from = Some(KeysFrom::File(args.value(flag)?.to_string()));
            }
            Arg::Flag(flag) if crate::is_help(flag) => return Ok(crate::usage()),
            _ => return Err(args::unexpected("fingerprint", &arg)),
        }
    }
    let from = match from {
        Some(from) => from,
        None => KeysFrom::from_env()?,
    };
    let (keyring, refusals) = from.load_judged()?;
    let now = SystemTime::now();
    let mut report = Report::new();
    report.line(format!("fingerprint: {}", keyring.fingerprint()));
    report.line(format!("keyring: {}", from.describe()));
    report.line(format!("keys: {}", keyring.len()));
    let sealing = keyring.sealing_key_id(now).ok();
    for key in keyring.keys() {
        let seals = if Some(key.id) == sealing {
            "seals now"
        } else {
            "does not seal now"
        };
        report.line(format!(
            "key {}: {}, {}, {seals}, check {}",
            key.id,
            key.algorithm,
            activation(&key, now),
            key.check
        ));
    }
    report.line(match sealing {
        Some(id) => format!("sealing key: {id}"),
        None => "sealing key: none (no key is active yet)".into(),
    });
    report.line(revoke_before(&keyring));
    // The fingerprint is the file's: a server that refuses the file keeps
    // (or starts with) no such keyring.
    let accepted = keyring.accepted_from(now);
    let until = if accepted > now {
        format!(
            " until {}; a running one keeps the keyring in force until then (and applies this \
             one then, if it watches the file)",
            text::time(accepted)
        )
    } else {
        "; a running one keeps the keyring in force".to_owned()
    };
    for error in &refusals {
        report.line(format!(
            "refused: a server refuses this keyring ({error}){until}"
        ));
        report.status = 1;
    }
    Ok(report)
}

/// `active`, `active since TIME` or `activates TIME`.
pub(crate) fn activation(key: &KeyInfo, now: SystemTime) -> String {
    match key.activation {
        None => "active".into(),
        Some(at) if at <= now => format!("active since {}", text::time(at)),
        Some(at) => format!("activates {}", text::time(at)),
    }
}

/// The `revoke-before:` line.
pub(crate) fn revoke_before(keyring: &Keyring) -> String {
    match keyring.revoked_before() {
        None => "revoke-before: none".into(),
        Some(at) => format!(
            "revoke-before: {} (values issued before it are refused)",
            text::time(at)
        ),
    }
}

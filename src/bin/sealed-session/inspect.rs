//! `inspect`: what a sealed value says, in clear and, with the keyring,
//! once opened. The payload only on request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::{
    EnvelopeInfo, Error, KeyId, Keyring, Opened, Refusal, Sealer, DEFAULT_LEEWAY, DEFAULT_TTL,
    MAX_TTL,
};
use zeroize::Zeroizing;

use crate::args::{self, Arg, Args};
use crate::keys::{self, KeysFrom};
use crate::{text, Fail, Report};

/// What to inspect, and with what.
struct Options {
    value: Zeroizing<String>,
    keys: Option<KeysFrom>,
    name: String,
    purpose: String,
    show_payload: bool,
    /// The servers' TTL and leeway, which a value's times must keep.
    ttl: Duration,
    leeway: Duration,
}

pub(crate) fn run(mut args: Args) -> Result<Report, Fail> {
    let Some(options) = options(&mut args)? else {
        return Ok(crate::usage());
    };
    // A keyring that does not parse is a usage error, whatever the value.
    let keyring = options.keys.as_ref().map(KeysFrom::load).transpose()?;
    let mut report = Report::new();
    let info = match EnvelopeInfo::inspect(&options.value) {
        Ok(info) => info,
        Err(Error::Refused(Refusal::UnsupportedVersion(version))) => {
            report.line(format!(
                "version: {version} (unsupported: this release reads versions 1 and 2)"
            ));
            report.line(format!("length: {} bytes", options.value.len()));
            report.status = 1;
            return Ok(report);
        }
        Err(_) => {
            return Err(Fail::Failed(
                "inspect: not a sealed value (malformed: a sealed value is unpadded base64url \
                 of a version byte, a key id, a nonce, the ciphertext and a 16-byte tag)"
                    .into(),
            ))
        }
    };
    report.line(format!("version: {}", info.version));
    report.line(format!("key id: {}", info.key_id));
    report.line(format!(
        "length: {} bytes ({} bytes binary)",
        info.len, info.binary_len
    ));
    let Some(keyring) = keyring else {
        report
            .line("authenticates: not checked (no keyring: give --keys-file PATH or --keys SPEC)");
        return Ok(report);
    };
    report.line(format!(
        "checked for: name {:?}, purpose {:?}",
        options.name, options.purpose
    ));
    report.line(format!(
        "assuming: the servers' ttl {}, leeway {} (--ttl, --leeway)",
        text::duration(options.ttl),
        text::duration(options.leeway)
    ));
    open(&options, &info, keyring, &mut report);
    Ok(report)
}

/// The options, or `None` for `--help`.
fn options(args: &mut Args) -> Result<Option<Options>, Fail> {
    let mut values: Vec<Zeroizing<String>> = Vec::new();
    let mut keys = None;
    let mut name = None;
    let mut purpose = None;
    let mut show_payload = false;
    let mut ttl = None;
    let mut leeway = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Positional(v) if values.len() < MAX_CHUNKS => values.push(v),
            Arg::Flag(flag) if flag == "--keys" => keys = Some(KeysFrom::Spec(args.value(&flag)?)),
            Arg::Flag(flag) if flag == "--keys-file" => {
                keys = Some(KeysFrom::File(args.value(&flag)?.to_string()));
            }
            Arg::Flag(flag) if flag == "--name" => name = Some(args.value(&flag)?.to_string()),
            Arg::Flag(flag) if flag == "--purpose" => {
                purpose = Some(args.value(&flag)?.to_string());
            }
            Arg::Flag(flag) if flag == "--show-payload" => show_payload = true,
            Arg::Flag(flag) if flag == "--ttl" => {
                ttl = Some(text::duration_arg("inspect", &flag, &args.value(&flag)?)?);
            }
            Arg::Flag(flag) if flag == "--leeway" => {
                leeway = Some(text::duration_arg("inspect", &flag, &args.value(&flag)?)?);
            }
            Arg::Flag(flag) if crate::is_help(&flag) => return Ok(None),
            arg => return Err(args::unexpected("inspect", &arg)),
        }
    }
    let Some(first) = values.first() else {
        return Err(Fail::Usage(
            "inspect: give the VALUE to inspect (- reads it from standard input)".into(),
        ));
    };
    let times = ttl.is_some() || leeway.is_some();
    if keys.is_none() && (name.is_some() || purpose.is_some() || show_payload || times) {
        return Err(Fail::Usage(
            "inspect: --name, --purpose, --show-payload, --ttl and --leeway need a keyring \
             (--keys-file PATH or --keys SPEC)"
                .into(),
        ));
    }
    if values.len() > 1 && values.iter().any(|v| v.as_str() == "-") {
        return Err(Fail::Usage(
            "inspect: - reads every value from standard input: give it alone".into(),
        ));
    }
    let values = if first.as_str() == "-" {
        if keys.as_ref().is_some_and(KeysFrom::is_stdin) {
            return Err(Fail::Usage(
                "inspect: standard input cannot hold both the value and the keyring".into(),
            ));
        }
        let text = keys::read_stdin("the value")?;
        text.split_whitespace()
            .map(|v| Zeroizing::new(v.to_owned()))
            .collect()
    } else {
        values
    };
    Ok(Some(Options {
        value: joined(&values)?,
        keys,
        name: name.unwrap_or_else(|| "session".into()),
        purpose: purpose.unwrap_or_default(),
        show_payload,
        ttl: ttl.unwrap_or(DEFAULT_TTL),
        leeway: leeway.unwrap_or(DEFAULT_LEEWAY),
    }))
}

/// The most cookies a session is stored over: the library's `MAX_CHUNKS`
/// (of its `cookie` feature, which this command does not need).
const MAX_CHUNKS: usize = 16;

/// The sealed value in `values`: one cookie's value, or the values of a
/// session's chunks in order (`NAME`'s, which begins with their count and
/// a dot, then `NAME.1`'s, ...), put back together. The count is read as
/// the servers read it: 2 to [`MAX_CHUNKS`], no leading zero.
fn joined(values: &[Zeroizing<String>]) -> Result<Zeroizing<String>, Fail> {
    let Some((first, rest)) = values.split_first() else {
        return Err(Fail::Usage("inspect: give the VALUE to inspect".into()));
    };
    let first = first.trim();
    if first.contains('=') {
        return Err(Fail::Failed(
            "inspect: not a sealed value (it holds '=': give the cookie's value alone, not \
             NAME=VALUE)"
                .into(),
        ));
    }
    let count = first
        .split_once('.')
        .filter(|(count, _)| !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()))
        .map(|(count, piece)| {
            let n = count
                .parse::<usize>()
                .ok()
                .filter(|n| (2..=MAX_CHUNKS).contains(n) && !count.starts_with('0'));
            (n, piece)
        });
    match count {
        None if rest.is_empty() => Ok(Zeroizing::new(first.to_owned())),
        None => Err(Fail::Usage(
            "inspect: several values are the chunks of one session, the first beginning with \
             their count (N.): this first value has none"
                .into(),
        )),
        Some((Some(n), piece)) if n == values.len() => {
            let mut value = Zeroizing::new(piece.to_owned());
            for more in rest {
                value.push_str(more.trim());
            }
            Ok(value)
        }
        Some((Some(n), _)) => Err(Fail::Failed(format!(
            "inspect: this is a session stored over {n} cookies (chunking), and {} of them {} \
             given: give the values of {} in that order (after --, as one may begin with -)",
            values.len(),
            if values.len() == 1 { "is" } else { "are" },
            if n == 2 {
                "NAME and NAME.1".to_owned()
            } else {
                format!("NAME, NAME.1, ... NAME.{}", n - 1)
            }
        ))),
        Some((None, _)) => Err(Fail::Failed(
            "inspect: not a sealed value (it begins with a chunk count that no session has)".into(),
        )),
    }
}

/// Opens the value with `keyring` and reports what it holds.
fn open(options: &Options, info: &EnvelopeInfo, keyring: Keyring, report: &mut Report) {
    let now = SystemTime::now();
    let id = info.key_id;
    let Some(algorithm) = keyring.algorithm(id) else {
        report.line(format!(
            "authenticates: unknown (no key {id} in the keyring)"
        ));
        report.line(format!(
            "key status: unknown (key {id} is not in the keyring: removed, or the value comes from another keyring)"
        ));
        report.status = 1;
        return;
    };
    let key_status = key_status(&keyring, id, now);
    let cutoff = keyring.revoked_before();
    // Open without the cutoff (a time before 1970 revokes nothing) and with
    // the longest lifetime and leeway a sealer allows, so that a revoked or
    // expired value still shows its times; both are compared below.
    let keyring = match UNIX_EPOCH.checked_sub(Duration::from_secs(1)) {
        Some(before_1970) => keyring.with_revoke_before(before_1970),
        None => keyring,
    };
    let sealer = Sealer::new(keyring)
        .with_name(&options.name)
        .with_purpose(&options.purpose)
        .with_ttl(MAX_TTL)
        .with_leeway(MAX_TTL)
        .with_max_len(options.value.len());
    let opened = match sealer.open_bytes(&options.value) {
        Ok(opened) => opened.map(Zeroizing::new),
        Err(error) => {
            report.line(refused(&error, info, algorithm.nonce_len()));
            report.line(key_status);
            report.status = 1;
            return;
        }
    };
    report.line("authenticates: yes");
    report.line(format!("issued at: {}", text::time(opened.issued_at)));
    report.line(format!("expires at: {}", text::time(opened.expires_at)));
    let (state, valid) = state(&opened, now, options.ttl, options.leeway);
    report.line(format!("state: {state}"));
    report.line(key_status);
    let revoked = match cutoff {
        None => "revoked: no (the keyring has no revoke-before cutoff)".to_owned(),
        Some(cut) if opened.issued_at < cut => format!(
            "revoked: yes (issued before the keyring's revoke-before cutoff {})",
            text::time(cut)
        ),
        Some(cut) => format!(
            "revoked: no (issued at or after the revoke-before cutoff {})",
            text::time(cut)
        ),
    };
    let is_revoked = revoked.starts_with("revoked: yes");
    report.line(revoked);
    if !valid || is_revoked {
        report.status = 1;
    }
    let payload = &opened.value;
    if !options.show_payload {
        report.line(format!(
            "payload: {} bytes (hidden: --show-payload prints it)",
            payload.len()
        ));
        return;
    }
    report.line(format!("payload: {} bytes", payload.len()));
    report.line(format!("payload hex: {}", text::hex(payload)));
    match std::str::from_utf8(payload) {
        Ok(s) => report.line(format!("payload text: {s:?}")),
        Err(_) => report.line("payload text: none (not UTF-8)"),
    }
}

/// Whether the value's times let it open now on a server with `ttl` and
/// `leeway` (the checks a server makes, SECURITY.md); and the line that
/// says so.
fn state(
    opened: &Opened<Zeroizing<Vec<u8>>>,
    now: SystemTime,
    ttl: Duration,
    leeway: Duration,
) -> (String, bool) {
    let past = |t: SystemTime| t.checked_add(leeway).is_some_and(|end| now >= end);
    let lifetime = opened
        .expires_at
        .duration_since(opened.issued_at)
        .unwrap_or_default();
    if opened.issued_at > now + leeway {
        let line = format!(
            "not yet valid (issued in the future, past the leeway of {})",
            text::duration(leeway)
        );
        (line, false)
    } else if lifetime > ttl + leeway {
        let line = format!(
            "refused (it claims a lifetime of {}, over the ttl of {} plus the leeway: a server \
             with that ttl refuses it as LifetimeTooLong; sealed under a longer ttl, or by a \
             holder of the key who chose its times)",
            text::duration(lifetime),
            text::duration(ttl)
        );
        (line, false)
    } else if past(opened.expires_at) {
        let line = format!(
            "expired (at {}, plus the leeway of {})",
            text::time(opened.expires_at),
            text::duration(leeway)
        );
        (line, false)
    } else if opened.issued_at.checked_add(ttl).is_some_and(past) {
        let line = format!(
            "expired (issued more than the ttl of {} plus the leeway ago)",
            text::duration(ttl)
        );
        (line, false)
    } else {
        ("valid".into(), true)
    }
}

/// What the keyring says of key `id`.
fn key_status(keyring: &Keyring, id: KeyId, now: SystemTime) -> String {
    match keyring.sealing_key_id(now) {
        Ok(sealing) if sealing == id => "key status: in the keyring, seals now".into(),
        Ok(sealing) if id < sealing => format!(
            "key status: in the keyring, older than the sealing key {sealing}: needs re-seal \
             (a server re-seals it when it next opens it)"
        ),
        Ok(sealing) => format!(
            "key status: in the keyring, newer than the sealing key {sealing} (not active yet \
             here): opens, not re-sealed"
        ),
        Err(_) => "key status: in the keyring, but no key of this keyring seals now".into(),
    }
}

/// The `authenticates:` line for a value that did not open.
fn refused(error: &Error, info: &EnvelopeInfo, nonce_len: usize) -> String {
    let id = info.key_id;
    match error.refusal() {
        Some(Refusal::Authentication) => format!(
            "authenticates: no (tampered, another secret under key id {id}, \
             or sealed for another cookie name or purpose)"
        ),
        Some(Refusal::Malformed) if info.binary_len < 1 + varint_len(id.0) + nonce_len + 16 => {
            format!("authenticates: no (too short for the nonce and tag of key {id}'s algorithm)")
        }
        Some(Refusal::Malformed) => "authenticates: yes, but its times do not parse \
            (not sealed by this library: a holder of the key made it)"
            .into(),
        Some(Refusal::LifetimeTooLong) => "authenticates: yes, but it claims a lifetime of \
            over 400 years (not sealed by this library: a holder of the key made it)"
            .into(),
        Some(Refusal::NotYetValid) => "authenticates: yes, but it claims to be issued over \
            200 years from now (not sealed by this library: a holder of the key made it)"
            .into(),
        Some(Refusal::Expired) => "authenticates: yes, expired over 200 years ago".into(),
        _ => format!("authenticates: no ({error})"),
    }
}

/// Bytes of the LEB128 encoding of `n`.
fn varint_len(n: u32) -> usize {
    let mut len = 1;
    let mut rest = n >> 7;
    while rest > 0 {
        len += 1;
        rest >>= 7;
    }
    len
}

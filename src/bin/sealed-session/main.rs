//! `sealed-session`: the operator's command for sealed-session keyrings and
//! values.
//!
//! ```text
//! sealed-session keygen [--id N] [--aes256gcm] [--activate-at TIME]
//! sealed-session inspect VALUE [VALUE...] [--keys-file PATH | --keys SPEC] [--name NAME] [--purpose PURPOSE] [--show-payload] [--ttl DURATION] [--leeway DURATION]
//! sealed-session fingerprint [--keys-file PATH | --keys SPEC]
//! sealed-session check OLD NEW [--window DURATION] [--ttl DURATION] [--leeway DURATION]
//! ```
//!
//! Install it with `cargo install sealed-session --features cli`. It prints
//! key material only where it generates a key (`keygen`).
#![forbid(unsafe_code)]

mod args;
mod check;
mod fingerprint;
mod inspect;
mod keygen;
mod keys;
mod text;

use std::io::Write as _;
use std::process::ExitCode;

use zeroize::Zeroizing;

use args::{Arg, Args};

const USAGE: &str = "\
usage: sealed-session COMMAND [ARGS]

commands:
  keygen [--id N] [--xchacha20poly1305 | --aes256gcm] [--activate-at TIME]
      Print a fresh keyring entry ID:ALGORITHM:KEY[@TIME] (the only command
      that prints key material). TIME is unix seconds or YYYY-MM-DDTHH:MM:SSZ.

  inspect VALUE [VALUE...] [KEYS] [--name NAME] [--purpose PURPOSE] [--show-payload]
          [--ttl DURATION] [--leeway DURATION]
      Print what a sealed value says in clear (envelope version, key id,
      length). With a keyring: whether it authenticates for that cookie name
      (default session) and purpose (default empty), its times (checked as
      a server with --ttl, default 1d, and --leeway, default 1m, checks
      them), its key's status and the revoke-before cutoff. The payload only with
      --show-payload. VALUE - reads the value from standard input. A
      session over several cookies (chunking): give the cookies' values in
      order, NAME's first (it begins with their count, N.), then NAME.1's...
      after -- (a value may begin with -), or - and all of them on standard
      input, separated by whitespace.
      Exit status 1 if the value does not open (or, without a keyring, is
      not an envelope).

  fingerprint [KEYS]
      Print the keyring's fingerprint and each key's id, algorithm,
      activation and check value (never the key). Without KEYS, the keyring
      a server reads: the file SESSION_KEYS_FILE names, else SESSION_KEYS.
      Exit status 1 if a server refuses the keyring (no key active yet, or
      a revoke-before more than a minute ahead).

  check OLD NEW [--window DURATION] [--ttl DURATION] [--leeway DURATION]
  check --old-keys SPEC --new-keys SPEC [...]
      Check a planned change from keyring file OLD to keyring file NEW (- for
      standard input) and print a warning for each risk: a removed key that
      may still have unexpired values, a new key sealing before the
      propagation window (default 10m) is over, an id reused for another
      key, a move to AES-256-GCM's smaller nonce, a keyring that cannot
      seal, a revoke-before more than a minute ahead, a revoke-before
      removed or moved back while what it refused may still be valid. --ttl
      is the longest session TTL (default 1d), --leeway the largest
      sealer's leeway (default 1m). Exit status 1 if there is any warning.

KEYS is --keys-file PATH (- for standard input) or --keys SPEC (a spec on the
command line is visible in the process list: prefer a file).
DURATION is a whole number with s, m, h or d: 90s, 10m, 24h, 14d.
Exit status 2 for a usage error or a keyring that does not parse.
";

/// Why a command did not run to its end.
pub(crate) enum Fail {
    /// Wrong arguments, or input that cannot be read or parsed: status 2.
    Usage(String),
    /// The command ran and failed: status 1.
    Failed(String),
}

/// What a command prints on standard output, and its exit status (0, or 1
/// for "the answer is no": a value that does not open, a plan with
/// warnings, a keyring a server refuses).
pub(crate) struct Report {
    /// The lines, wiped when dropped (keygen's holds a key).
    pub(crate) out: Zeroizing<String>,
    /// The exit status.
    pub(crate) status: u8,
}

impl Report {
    pub(crate) fn new() -> Self {
        Report {
            out: Zeroizing::new(String::new()),
            status: 0,
        }
    }

    /// Adds one line.
    pub(crate) fn line(&mut self, line: impl AsRef<str>) {
        self.out.push_str(line.as_ref());
        self.out.push('\n');
    }
}

fn main() -> ExitCode {
    let result = Args::from_env().and_then(run);
    match result {
        Ok(report) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(report.out.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::from(report.status)
        }
        Err(Fail::Usage(message)) => {
            eprintln!("sealed-session: {message}");
            eprintln!("(sealed-session help shows the usage)");
            ExitCode::from(2)
        }
        Err(Fail::Failed(message)) => {
            eprintln!("sealed-session: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut args: Args) -> Result<Report, Fail> {
    let command = match args.next()? {
        Some(Arg::Positional(command)) => command,
        Some(Arg::Flag(flag)) if flag == "-h" || flag == "--help" => return Ok(usage()),
        Some(Arg::Flag(flag)) if flag == "-V" || flag == "--version" => {
            let mut report = Report::new();
            report.line(format!("sealed-session {}", env!("CARGO_PKG_VERSION")));
            return Ok(report);
        }
        Some(arg) => return Err(args::unexpected("sealed-session", &arg)),
        None => return Err(Fail::Usage("no command given".into())),
    };
    match command.as_str() {
        "keygen" => keygen::run(args),
        "inspect" => inspect::run(args),
        "fingerprint" => fingerprint::run(args),
        "check" => check::run(args),
        "help" => Ok(usage()),
        _ => Err(Fail::Usage(
            "unknown command (commands: keygen, inspect, fingerprint, check, help)".into(),
        )),
    }
}

fn usage() -> Report {
    let mut report = Report::new();
    report.out.push_str(USAGE);
    report
}

/// `--help` within a subcommand.
pub(crate) fn is_help(flag: &str) -> bool {
    flag == "-h" || flag == "--help"
}

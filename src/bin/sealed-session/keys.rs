//! Where the command reads a keyring: `--keys SPEC`, `--keys-file PATH`
//! (`-` for standard input), or the environment a server reads. The spec
//! text is wiped once parsed, and no message repeats it.

use std::time::SystemTime;

use sealed_session::{ConfigError, Error, Keyring};
use zeroize::Zeroizing;

use crate::Fail;

/// Where a keyring comes from.
pub(crate) enum KeysFrom {
    /// A spec given on the command line (visible to other users in the
    /// process list: prefer a file or standard input).
    Spec(Zeroizing<String>),
    /// A file, or standard input for `-`.
    File(String),
    /// An environment variable holding a spec.
    Env(&'static str),
}

impl KeysFrom {
    /// Where the keyring a server would read comes from: the file named by
    /// `SESSION_KEYS_FILE`, else `SESSION_KEYS`.
    pub(crate) fn from_env() -> Result<Self, Fail> {
        match std::env::var("SESSION_KEYS_FILE") {
            Ok(path) => return Ok(KeysFrom::File(path)),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Fail::Usage("SESSION_KEYS_FILE is not valid Unicode".into()))
            }
            Err(std::env::VarError::NotPresent) => {}
        }
        if std::env::var_os("SESSION_KEYS").is_some() {
            return Ok(KeysFrom::Env("SESSION_KEYS"));
        }
        Err(Fail::Usage(
            "no keyring: give --keys-file PATH (or - for standard input) or --keys SPEC, \
             or set SESSION_KEYS_FILE or SESSION_KEYS"
                .into(),
        ))
    }

    /// Whether this reads standard input.
    pub(crate) fn is_stdin(&self) -> bool {
        matches!(self, KeysFrom::File(path) if path == "-")
    }

    /// Where, for messages and output: never the spec itself.
    pub(crate) fn describe(&self) -> String {
        match self {
            KeysFrom::Spec(_) => "--keys".into(),
            KeysFrom::File(path) if path == "-" => "standard input".into(),
            // A spec given where a path belongs is not repeated.
            KeysFrom::File(path) if looks_like_a_spec(path) => {
                "a file whose name looks like a keyring spec or a key (a spec goes after --keys)"
                    .into()
            }
            KeysFrom::File(path) => format!("file {path}"),
            KeysFrom::Env(var) => format!("environment variable {var}"),
        }
    }

    /// The spec text.
    fn read(&self) -> Result<Zeroizing<String>, Fail> {
        match self {
            KeysFrom::Spec(spec) => Ok(spec.clone()),
            KeysFrom::File(path) if path == "-" => read_stdin("the keyring"),
            KeysFrom::File(path) => std::fs::read_to_string(path)
                .map(Zeroizing::new)
                .map_err(|e| Fail::Usage(format!("cannot read {}: {e}", self.describe()))),
            KeysFrom::Env(var) => std::env::var(var).map(Zeroizing::new).map_err(|_| {
                Fail::Usage(format!(
                    "{var} is not valid Unicode: a keyring spec is ASCII"
                ))
            }),
        }
    }

    /// The keyring, parsed as a server parses it, except that it need not
    /// seal now ([`Keyring::parse_planned`]): the commands report that
    /// instead of refusing it.
    pub(crate) fn load(&self) -> Result<Keyring, Fail> {
        Keyring::parse_planned(&self.read()?).map_err(|e| self.error(&e))
    }

    /// As [`KeysFrom::load`], but an empty keyring is `None` rather than an
    /// error (for the NEW keyring of `check`, where it is a finding).
    pub(crate) fn load_maybe_empty(&self) -> Result<Option<Keyring>, Fail> {
        match Keyring::parse_planned(&self.read()?) {
            Ok(keyring) => Ok(Some(keyring)),
            Err(Error::Config(ConfigError::EmptyKeyring)) => Ok(None),
            Err(e) => Err(self.error(&e)),
        }
    }

    /// As [`KeysFrom::load`], with every reason a server would refuse the
    /// keyring now ([`refusals`]).
    pub(crate) fn load_judged(&self) -> Result<(Keyring, Vec<Error>), Fail> {
        let text = self.read()?;
        let keyring = Keyring::parse_planned(&text).map_err(|e| self.error(&e))?;
        let refusals = refusals(&keyring, &text, SystemTime::now());
        Ok((keyring, refusals))
    }

    fn error(&self, e: &Error) -> Fail {
        Fail::Usage(format!("keyring from {}: {e}", self.describe()))
    }
}

/// Why a server would refuse `keyring` (parsed from `text`) at `now`,
/// every reason: no key seals yet, a `revoke-before` cutoff more than
/// [`MAX_CUTOFF_AHEAD`](sealed_session::MAX_CUTOFF_AHEAD) ahead. A server
/// parses its keyring as [`Keyring::from_str`] does, which stops at the
/// first; whatever else it refuses comes from it.
pub(crate) fn refusals(keyring: &Keyring, text: &str, now: SystemTime) -> Vec<Error> {
    let mut reasons = Vec::new();
    if keyring.sealing_key_id(now).is_err() {
        reasons.push(Error::Config(ConfigError::NoSealingKey));
    }
    if cutoff_ahead(keyring, now) {
        reasons.push(Error::Config(ConfigError::CutoffInFuture));
    }
    if reasons.is_empty() {
        reasons.extend(text.parse::<Keyring>().err());
    }
    reasons
}

/// Whether `keyring`'s `revoke-before` is further ahead of `now` than a
/// server accepts.
pub(crate) fn cutoff_ahead(keyring: &Keyring, now: SystemTime) -> bool {
    keyring
        .revoked_before()
        .is_some_and(|at| at > now + sealed_session::MAX_CUTOFF_AHEAD)
}

#[path = "../../keyring/path_text.rs"]
mod path_text;
use path_text::looks_like_a_spec;

/// All of standard input, wiped when dropped.
pub(crate) fn read_stdin(what: &str) -> Result<Zeroizing<String>, Fail> {
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| Fail::Usage(format!("cannot read {what} from standard input: {e}")))?;
    Ok(text)
}

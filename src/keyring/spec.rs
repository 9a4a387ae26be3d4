//! The keyring spec: what `SESSION_KEYS` and a keyring file hold.

use core::str::FromStr;
use std::path::Path;

use super::{KeyEntry, Keyring};
use crate::error::{ConfigError, Error, KeyProblem, Result};
use crate::key::{Algorithm, Key};
use crate::time::UnixTime;
use crate::time::{Clock as _, SystemClock};

impl FromStr for Keyring {
    type Err = Error;

    /// Parses a keyring spec: entries separated by commas and/or whitespace
    /// (so one per line works too, with `\n` or `\r\n`), `#` starting a
    /// comment to the end of its line, a leading byte-order mark ignored,
    /// each entry `ID:ALGORITHM:KEY` or `ID:ALGORITHM:KEY@ACTIVATION`, or at
    /// most once `revoke-before=TIME`, where
    ///
    /// - `ID` is a whole number from 0 to 4294967295,
    /// - `ALGORITHM` is exactly `xchacha20poly1305` or `aes256gcm` (see
    ///   [`Algorithm`]'s `FromStr`),
    /// - `KEY` is 32 random bytes in base64 (url-safe or standard, padded or
    ///   not); keys that are obviously not random are refused (see [`Key`]),
    /// - `ACTIVATION` is unix seconds or `YYYY-MM-DDTHH:MM:SSZ` (UTC), from
    ///   1970 on;
    /// - `revoke-before=TIME` (same time forms) refuses every value issued
    ///   before `TIME`, whatever key sealed it (see
    ///   [`Keyring::with_revoke_before`]).
    ///
    /// At least one key must be able to seal now (by the system clock), so a
    /// misconfigured server fails at start-up rather than at its first
    /// request.
    ///
    /// # Errors
    /// [`ConfigError::Entry`] naming the entry (from 1) and the problem,
    /// never its text; [`ConfigError::EmptyKeyring`],
    /// [`ConfigError::DuplicateKeyId`], [`ConfigError::NoSealingKey`],
    /// [`ConfigError::CutoffInFuture`] for a `revoke-before` time more than
    /// a minute ahead.
    fn from_str(spec: &str) -> Result<Self> {
        let keyring = Keyring::parse_planned(spec)?;
        keyring.sealing_key_id(SystemClock.now())?;
        keyring.check_cutoff(SystemClock.now())?;
        Ok(keyring)
    }
}

impl Keyring {
    /// Parses a keyring spec as [`Keyring::from_str`] does, but without
    /// requiring a key that may seal now: for tools that look at a keyring
    /// planned for later (`sealed-session check` compares one with the
    /// keyring in force). A server loads its keyring with
    /// [`Keyring::from_str`], [`Keyring::from_env`] or
    /// [`Keyring::from_file`], which refuse a keyring that cannot seal.
    ///
    /// ```
    /// use sealed_session::{ConfigError, Error, Keyring};
    /// let spec = "2:xchacha20poly1305:Fw6w2bqeiVI8y5_RoS3lXRkGIxEXeVHC2C7uF93r0Zw@2999-01-01T00:00:00Z";
    /// assert_eq!(spec.parse::<Keyring>().err(), Some(Error::Config(ConfigError::NoSealingKey)));
    /// assert_eq!(Keyring::parse_planned(spec)?.len(), 1);
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Keyring::from_str`], but never [`ConfigError::NoSealingKey`].
    pub fn parse_planned(spec: &str) -> Result<Self> {
        // A byte-order mark, as Windows editors may write at the start.
        let spec = spec.strip_prefix('\u{feff}').unwrap_or(spec);
        let mut cutoff: Option<UnixTime> = None;
        let words = spec
            .lines()
            .map(|line| line.split_once('#').map_or(line, |(before, _)| before))
            .flat_map(|line| line.split(|c: char| c == ',' || c.is_whitespace()))
            .filter(|e| !e.is_empty());
        // Room for every entry up front: a list that grew would have moved
        // keys and freed the old copies.
        let mut entries = Vec::with_capacity(words.clone().count());
        for (i, text) in words.enumerate() {
            let entry_error = |problem| {
                Error::from(ConfigError::Entry {
                    entry: i + 1,
                    problem,
                })
            };
            if let Some(time) = text.strip_prefix("revoke-before=") {
                let time = UnixTime::parse(time)
                    .filter(|_| cutoff.is_none())
                    .ok_or_else(|| entry_error(KeyProblem::RevokeBefore))?;
                cutoff = Some(time);
                continue;
            }
            super::push_wiping(&mut entries, parse_entry(text).map_err(entry_error)?);
        }
        // Built from the entries where they lie, which are then dropped
        // (wiping their keys) in place.
        let mut keyring = Keyring::from_entries(&entries)?;
        keyring.revoked_before = cutoff;
        Ok(keyring)
    }

    /// Reads a keyring spec from a file (see the [`FromStr`] impl: one
    /// entry per line and `#` comments are welcome). Keep the file readable
    /// only by the server's user: it holds the keys.
    ///
    /// To have a running server pick up changes to the file, use
    /// [`LiveKeyring::watch_file`](crate::LiveKeyring::watch_file).
    ///
    /// # Errors
    /// [`ConfigError::KeyringFile`] if the file cannot be read (naming the
    /// path and the reason); otherwise as [`Keyring::from_str`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::KeyringFile {
            path: shown_path(path),
            kind: e.kind(),
        })?;
        zeroize::Zeroizing::new(text).parse()
    }
}

/// A keyring file's path as errors and events show it: as given, unless it
/// looks like key material given where a path belongs (a spec in
/// `SESSION_KEYS_FILE` instead of `SESSION_KEYS`), which is never shown.
pub(crate) fn shown_path(path: &Path) -> Box<str> {
    let text = zeroize::Zeroizing::new(path.display().to_string());
    if super::path_text::looks_like_a_spec(&text) {
        "(not shown: it looks like a keyring spec or a key, not a path; give the path of a file that \
         holds it)"
            .into()
    } else {
        text.as_str().into()
    }
}

fn parse_entry(text: &str) -> core::result::Result<KeyEntry, KeyProblem> {
    let (main, activation) = match text.split_once('@') {
        Some((main, at)) => (
            main,
            Some(UnixTime::parse(at).ok_or(KeyProblem::Activation)?),
        ),
        None => (text, None),
    };
    let mut fields = main.split(':');
    let (Some(id), Some(alg), Some(key), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(KeyProblem::Shape);
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(KeyProblem::Id);
    }
    let id: u32 = id.parse().map_err(|_| KeyProblem::Id)?;
    let algorithm: Algorithm = alg.parse().map_err(|_| KeyProblem::Algorithm)?;
    let key = Key::from_base64(key).map_err(|e| match e {
        Error::Config(ConfigError::Key(problem)) => problem,
        _ => KeyProblem::Encoding,
    })?;
    let mut entry = KeyEntry::new(id, key).algorithm(algorithm);
    entry.activation = activation;
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigError;
    use crate::key::KeyId;

    const K1: &str = "9a3J0pbhrYJk3nJmGOqlXzAf8cpvZ0Ob3NbzaJ1dlWQ";
    const K2: &str = "Fw6w2bqeiVI8y5_RoS3lXRkGIxEXeVHC2C7uF93r0Zw";

    #[test]
    fn a_planned_keyring_parses_like_a_served_one_but_may_not_seal_yet() {
        let now = format!("1:xchacha20poly1305:{K1} 2:aes256gcm:{K2}@1 revoke-before=5");
        let planned = Keyring::parse_planned(&now).expect("parses");
        let served: Keyring = now.parse().expect("parses");
        assert_eq!(planned.fingerprint(), served.fingerprint());
        assert_eq!(planned.revoked_before(), served.revoked_before());

        let later = format!("3:xchacha20poly1305:{K1}@2999-01-01T00:00:00Z");
        assert_eq!(
            later.parse::<Keyring>().err(),
            Some(Error::Config(ConfigError::NoSealingKey))
        );
        let planned = Keyring::parse_planned(&later).expect("parses");
        assert!(planned
            .sealing_key_id(std::time::SystemTime::now())
            .is_err());
        // Every other error stays.
        assert!(matches!(
            Keyring::parse_planned(&format!("{later} x")),
            Err(Error::Config(ConfigError::Entry { entry: 2, .. }))
        ));
        assert_eq!(
            Keyring::parse_planned("# nothing").err(),
            Some(Error::Config(ConfigError::EmptyKeyring))
        );
    }

    #[test]
    fn key_infos_show_everything_but_the_secret() {
        let spec = format!("7:aes256gcm:{K1}@2999-01-01T00:00:00Z 1:xchacha20poly1305:{K1} 2:xchacha20poly1305:{K2}");
        let keyring: Keyring = spec.parse().expect("parses");
        let keys: Vec<_> = keyring.keys().collect();
        let ids: Vec<_> = keys.iter().map(|k| k.id).collect();
        assert_eq!(ids, [KeyId(1), KeyId(2), KeyId(7)]);
        assert_eq!(keys[2].algorithm, Algorithm::Aes256Gcm);
        assert_eq!(
            keys[2]
                .activation
                .map(|t| UnixTime::from_system(t).map(UnixTime::secs)),
            Some(UnixTime::parse("2999-01-01T00:00:00Z").map(UnixTime::secs))
        );
        assert_eq!(keys[0].activation, None);
        // The same secret under two ids has one check value; another secret
        // has another.
        assert_eq!(keys[0].check, keys[2].check);
        assert_ne!(keys[0].check, keys[1].check);
        let check = keys[0].check.to_string();
        assert_eq!(check.len(), 16);
        assert!(check.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!format!("{keys:?}").contains(&K1[..8]));
    }
}

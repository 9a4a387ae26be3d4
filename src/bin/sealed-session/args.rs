//! The command line, read by hand: a handful of subcommands and flags do
//! not need a parser crate. Every argument is wiped when dropped, as one
//! may be a keyring spec.

use std::collections::VecDeque;

use zeroize::Zeroizing;

use crate::Fail;

/// The arguments after the subcommand.
pub(crate) struct Args {
    rest: VecDeque<Zeroizing<String>>,
    /// The `VALUE` of a `--flag=VALUE` just read, for [`Args::value`].
    inline: Option<(String, Zeroizing<String>)>,
    /// After `--`, everything is positional.
    positional_only: bool,
}

/// One argument.
pub(crate) enum Arg {
    /// `--name` or `-n` (for `--name=VALUE`, the value waits for
    /// [`Args::value`]).
    Flag(String),
    /// Anything else, `-` (standard input) included.
    Positional(Zeroizing<String>),
}

impl Args {
    /// The process's arguments; non-Unicode ones are refused.
    pub(crate) fn from_env() -> Result<Self, Fail> {
        let rest = std::env::args_os()
            .skip(1)
            .map(|a| {
                a.into_string()
                    .map(Zeroizing::new)
                    .map_err(|_| Fail::Usage("an argument is not valid Unicode".into()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Args {
            rest,
            inline: None,
            positional_only: false,
        })
    }

    /// The next argument.
    ///
    /// # Errors
    /// A `--flag=VALUE` whose value was not taken: the flag takes none.
    pub(crate) fn next(&mut self) -> Result<Option<Arg>, Fail> {
        if let Some((flag, _)) = self.inline.take() {
            return Err(Fail::Usage(format!("{flag} takes no value")));
        }
        let Some(arg) = self.rest.pop_front() else {
            return Ok(None);
        };
        if self.positional_only || arg.as_str() == "-" || !arg.starts_with('-') {
            return Ok(Some(Arg::Positional(arg)));
        }
        if arg.as_str() == "--" {
            self.positional_only = true;
            return self.next();
        }
        match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                self.inline = Some((flag.to_owned(), Zeroizing::new(value.to_owned())));
                Ok(Some(Arg::Flag(flag.to_owned())))
            }
            _ => Ok(Some(Arg::Flag(arg.to_string()))),
        }
    }

    /// The value of `flag`: after `=`, or the next argument.
    ///
    /// # Errors
    /// No value follows.
    pub(crate) fn value(&mut self, flag: &str) -> Result<Zeroizing<String>, Fail> {
        if let Some((_, value)) = self.inline.take() {
            return Ok(value);
        }
        self.rest
            .pop_front()
            .ok_or_else(|| Fail::Usage(format!("{flag} needs a value")))
    }
}

/// The error for an argument the subcommand does not know.
pub(crate) fn unexpected(command: &str, arg: &Arg) -> Fail {
    match arg {
        Arg::Flag(flag)
            if flag.len() <= 32
                && flag
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Fail::Usage(format!("{command}: unknown option {flag}"))
        }
        // Anything else may be a value given where a flag was expected.
        Arg::Flag(_) => Fail::Usage(format!(
            "{command}: unknown option (an argument starting with '-'; put -- before a value that starts with '-')"
        )),
        // Never repeated: it may be a secret.
        Arg::Positional(_) => Fail::Usage(format!("{command}: too many arguments")),
    }
}

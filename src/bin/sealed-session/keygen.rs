//! `keygen`: a fresh keyring entry, the one place key material is printed.

use sealed_session::{Algorithm, ConfigError, Error, Key, Keyring};
use zeroize::Zeroizing;

use crate::args::{self, Arg, Args};
use crate::{Fail, Report};

pub(crate) fn run(mut args: Args) -> Result<Report, Fail> {
    let mut id: u32 = 1;
    let mut algorithm = Algorithm::XChaCha20Poly1305;
    let mut activation: Option<Zeroizing<String>> = None;
    while let Some(arg) = args.next()? {
        match &arg {
            Arg::Flag(flag) if flag == "--id" => {
                id = args.value(flag)?.parse().map_err(|_| {
                    Fail::Usage("keygen: --id takes a whole number from 0 to 4294967295".into())
                })?;
            }
            Arg::Flag(flag) if flag == "--aes256gcm" => algorithm = Algorithm::Aes256Gcm,
            Arg::Flag(flag) if flag == "--xchacha20poly1305" => {
                algorithm = Algorithm::XChaCha20Poly1305;
            }
            Arg::Flag(flag) if flag == "--activate-at" => activation = Some(args.value(flag)?),
            Arg::Flag(flag) if crate::is_help(flag) => return Ok(crate::usage()),
            _ => return Err(args::unexpected("keygen", &arg)),
        }
    }
    let key = Key::try_generate().map_err(|e| Fail::Failed(format!("keygen: {e}")))?;
    let mut entry = Zeroizing::new(format!("{id}:{algorithm}:{}", key.to_base64()));
    if let Some(at) = activation {
        entry.push('@');
        entry.push_str(&at);
    }
    // The entry parses exactly as a server will parse it (the randomness
    // check included), whether or not its activation has passed.
    match Keyring::parse_planned(&entry) {
        Ok(_) => {}
        Err(Error::Config(ConfigError::Entry { problem, .. })) => {
            return Err(Fail::Usage(format!("keygen: {problem}")))
        }
        Err(e) => return Err(Fail::Failed(format!("keygen: {e}"))),
    }
    let mut report = Report::new();
    report.line(&*entry);
    Ok(report)
}

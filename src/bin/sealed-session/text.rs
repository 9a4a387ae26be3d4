//! Times, durations and bytes as the command prints and reads them.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whole unix seconds of `t` (0 before 1970).
pub(crate) fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `t` in RFC 3339, UTC, whole seconds: `2027-01-01T00:00:00Z`, the form
/// keyring specs take.
pub(crate) fn time(t: SystemTime) -> String {
    let secs = unix(t);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The date `days` after 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// algorithm, for days from the epoch on).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Parses `90s`, `10m`, `24h` or `14d`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let unit = match text.as_bytes().last()? {
        b's' => 1,
        b'm' => 60,
        b'h' => 3600,
        b'd' => 86_400,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(unit).map(Duration::from_secs)
}

/// The duration argument of `command`'s `flag`, bounded like a sealer's
/// TTL, so no sum with it can overflow.
pub(crate) fn duration_arg(
    command: &str,
    flag: &str,
    value: &str,
) -> Result<Duration, crate::Fail> {
    parse_duration(value)
        .map(|d| d.min(sealed_session::MAX_TTL))
        .ok_or_else(|| {
            crate::Fail::Usage(format!(
                "{command}: {flag} takes a duration such as 90s, 10m, 24h or 14d"
            ))
        })
}

/// `d` in the largest unit that states it exactly: `14d`, `10m`, `90s`.
pub(crate) fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match [(86_400, 'd'), (3600, 'h'), (60, 'm')]
        .into_iter()
        .find(|&(unit, _)| secs > 0 && secs.is_multiple_of(unit))
    {
        Some((unit, suffix)) => format!("{}{suffix}", secs / unit),
        None => format!("{secs}s"),
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_keyring_specs_write_them() {
        let at = |secs| time(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_868_800), "2000-03-01T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(1_795_714_347), "2026-11-26T17:32:27Z");
        assert_eq!(at(32_503_680_000), "3000-01-01T00:00:00Z");
        // The farthest dates compute without overflow.
        assert!(civil_from_days(u64::MAX / 86_400).0 > 500_000_000_000);
    }

    #[test]
    fn durations_round_trip() {
        for (text, secs) in [
            ("90s", 90),
            ("10m", 600),
            ("24h", 86_400),
            ("14d", 1_209_600),
        ] {
            assert_eq!(parse_duration(text), Some(Duration::from_secs(secs)));
        }
        assert_eq!(duration(Duration::from_secs(86_400)), "1d");
        assert_eq!(duration(Duration::from_secs(7200)), "2h");
        assert_eq!(duration(Duration::from_secs(90)), "90s");
        assert_eq!(duration(Duration::ZERO), "0s");
        for bad in [
            "",
            "10",
            "m",
            "-1m",
            "1.5h",
            "10 m",
            "10M",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}

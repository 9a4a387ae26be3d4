//! Time as the crate counts it: whole unix seconds ([`UnixTime`]), the
//! clock a sealer reads, and the times written in keyring specs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a [`Sealer`](crate::Sealer) reads the time. [`SystemClock`] unless
/// replaced with [`Sealer::with_clock`](crate::Sealer::with_clock); any
/// `Fn() -> SystemTime + Send + Sync` is a clock.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock. On Linux and Android it is read at the
/// kernel's coarse resolution (`CLOCK_REALTIME_COARSE`: the time of the
/// last timer tick, 1 to 10 ms old), which costs a third of a precise read;
/// every time a sealer keeps is in whole seconds. Elsewhere, or where the
/// system refuses the coarse clock, it is [`SystemTime::now`]. In the
/// second a key activates, something that asks the keyring with
/// `SystemTime::now()` (the command-line tool does) may name the new key
/// up to a tick before a sealer starts sealing with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        or_precise(coarse::since_epoch())
    }
}

/// The time of a coarse reading, or the precise clock's where there was
/// none.
fn or_precise(coarse: Option<Duration>) -> SystemTime {
    coarse.map_or_else(SystemTime::now, |d| UNIX_EPOCH + d)
}

/// The coarse wall clock as a time since 1970, or `None` where there is
/// none: another system, a clock the system refuses (a seccomp policy
/// that allows only some clocks, say: rustix's infallible `clock_gettime`
/// would panic there) or a time before 1970.
mod coarse {
    use std::time::Duration;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(super) fn since_epoch() -> Option<Duration> {
        use rustix::time::{clock_gettime_dynamic, ClockId, DynamicClockId};
        let t = clock_gettime_dynamic(DynamicClockId::Known(ClockId::RealtimeCoarse)).ok()?;
        // i64 on this target; the conversions keep other targets' widths.
        #[allow(clippy::useless_conversion)]
        from_parts(t.tv_sec.into(), t.tv_nsec.into())
    }

    /// A reading's seconds and nanoseconds as a time since 1970; `None`
    /// before 1970 or for nanoseconds out of range.
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    pub(super) fn from_parts(secs: i64, nanos: i64) -> Option<Duration> {
        let nanos = u32::try_from(nanos).ok().filter(|n| *n < 1_000_000_000)?;
        Some(Duration::new(u64::try_from(secs).ok()?, nanos))
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(super) fn since_epoch() -> Option<Duration> {
        None
    }
}

impl<F: Fn() -> SystemTime + Send + Sync + 'static> Clock for F {
    fn now(&self) -> SystemTime {
        self()
    }
}

/// Whole seconds since 1970-01-01T00:00:00Z: the unit of every time the
/// envelope carries and the keyring compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct UnixTime(u64);

/// A late `SystemTime` every platform represents, for times past what
/// this one does.
const LATEST: u64 = u32::MAX as u64 * 64;

impl UnixTime {
    pub(crate) const fn from_secs(secs: u64) -> Self {
        UnixTime(secs)
    }

    pub(crate) const fn secs(self) -> u64 {
        self.0
    }

    /// `t` in whole seconds (sub-second parts dropped), or `None` before
    /// 1970.
    pub(crate) fn from_system(t: SystemTime) -> Option<Self> {
        t.duration_since(UNIX_EPOCH)
            .ok()
            .map(|d| UnixTime(d.as_secs()))
    }

    /// The time a clock says now; a clock set before 1970 counts as 1970.
    pub(crate) fn now(clock: &dyn Clock) -> Self {
        UnixTime::from_system(clock.now()).unwrap_or_default()
    }

    /// The time [`SystemClock`] says now, without the `SystemTime` in
    /// between; a clock set before 1970 counts as 1970.
    pub(crate) fn system_now() -> Self {
        UnixTime::from_coarse(coarse::since_epoch())
    }

    /// The seconds of a coarse reading, or of the precise clock where there
    /// was none.
    fn from_coarse(coarse: Option<Duration>) -> Self {
        match coarse {
            Some(d) => UnixTime(d.as_secs()),
            None => UnixTime::from_system(SystemTime::now()).unwrap_or_default(),
        }
    }

    /// As a `SystemTime` (a time past what this platform represents is
    /// shown as a late one that every platform does; no sealer produces
    /// one, and no opener accepts one).
    pub(crate) fn to_system(self) -> SystemTime {
        UNIX_EPOCH
            .checked_add(Duration::from_secs(self.0))
            .unwrap_or(UNIX_EPOCH + Duration::from_secs(LATEST))
    }

    pub(crate) fn checked_add(self, secs: u64) -> Option<Self> {
        self.0.checked_add(secs).map(UnixTime)
    }

    pub(crate) fn saturating_add(self, secs: u64) -> Self {
        UnixTime(self.0.saturating_add(secs))
    }

    /// Seconds from `earlier` to `self`, or `None` if `earlier` is later.
    pub(crate) fn since(self, earlier: UnixTime) -> Option<u64> {
        self.0.checked_sub(earlier.0)
    }

    /// Parses a time as keyring specs write it: unix seconds, or
    /// `YYYY-MM-DDTHH:MM:SSZ` (UTC, from 1970 on).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse().ok().map(UnixTime);
        }
        let b = text.as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return None;
        }
        let num = |r: core::ops::Range<usize>| -> Option<u64> {
            let s = &text[r];
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())
                .flatten()
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if y < 1970
            || !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || s > 59
        {
            return None;
        }
        Some(UnixTime(
            days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s,
        ))
    }
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date (proleptic Gregorian, y >= 1970).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<u64> {
        UnixTime::parse(text).map(UnixTime::secs)
    }

    /// The system clock is never ahead of the precise wall clock, and
    /// behind it by at most a timer tick (10 ms at the kernel's slowest
    /// tick rate; 100 ms allowed for a loaded test machine), in both of its
    /// forms: the `SystemTime` a caller sees and the seconds a seal keeps.
    #[test]
    fn system_clock_is_the_wall_clock_within_a_tick() {
        let slack = Duration::from_millis(100);
        for _ in 0..1000 {
            let before = SystemTime::now();
            let coarse = SystemClock.now();
            let secs = UnixTime::system_now();
            let after = SystemTime::now();
            assert!(coarse <= after, "{coarse:?} is ahead of {after:?}");
            assert!(coarse + slack >= before, "{coarse:?} lags {before:?}");
            let whole = |t: SystemTime| UnixTime::from_system(t).expect("after 1970");
            assert!(secs <= whole(after));
            assert!(secs >= whole(before - slack));
        }
    }

    /// Where the system refuses the coarse clock (`since_epoch` is `None`:
    /// another system, a seccomp policy, a reading before 1970), both forms
    /// of the system clock read the precise one; a coarse reading is used
    /// as it is.
    #[test]
    fn a_refused_coarse_clock_falls_back_to_the_precise_one() {
        for _ in 0..100 {
            let before = SystemTime::now();
            let precise = or_precise(None);
            let secs = UnixTime::from_coarse(None);
            let after = SystemTime::now();
            assert!(before <= precise && precise <= after, "{precise:?}");
            let whole = |t: SystemTime| UnixTime::from_system(t).expect("after 1970");
            assert!(whole(before) <= secs && secs <= whole(after), "{secs:?}");
        }
        let reading = Duration::new(1_800_000_000, 999_999_999);
        assert_eq!(or_precise(Some(reading)), UNIX_EPOCH + reading);
        assert_eq!(
            UnixTime::from_coarse(Some(reading)),
            UnixTime(1_800_000_000)
        );
    }

    /// A reading before 1970 or with nanoseconds out of range is no
    /// reading (the precise clock is read instead).
    #[test]
    fn coarse_readings_out_of_range_are_refused() {
        assert_eq!(
            coarse::from_parts(1_800_000_000, 999_999_999),
            Some(Duration::new(1_800_000_000, 999_999_999))
        );
        assert_eq!(coarse::from_parts(0, 0), Some(Duration::ZERO));
        assert_eq!(coarse::from_parts(-1, 0), None);
        assert_eq!(coarse::from_parts(1, -1), None);
        assert_eq!(coarse::from_parts(1, 1_000_000_000), None);
        assert_eq!(coarse::from_parts(1, i64::MAX), None);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse("2026-11-26T17:32:27Z"), Some(1_795_714_347));
        assert_eq!(parse("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        assert_eq!(parse("1800000000"), Some(1_800_000_000));
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-26 17:32:27Z",
            "2026-11-26T24:00:00Z",
            "2026-11-26T17:32:27",
            "1969-12-31T23:59:59Z",
            "+026-11-26T17:32:27Z",
            "2026-1-026T17:32:27Z",
            "-5",
            "99999999999999999999999",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn system_time_round_trips_and_stays_representable() {
        let t = UnixTime::from_secs(1_800_000_000);
        assert_eq!(UnixTime::from_system(t.to_system()), Some(t));
        assert_eq!(
            UnixTime::from_system(UNIX_EPOCH - Duration::from_secs(1)),
            None
        );
        assert!(UnixTime::from_secs(u64::MAX).to_system() > t.to_system());
    }
}

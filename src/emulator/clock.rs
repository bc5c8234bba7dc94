//! Time as the emulator sees it: a monotonic instant for deadlines (SMS code lifetime, the
//! approve→success delay, payment expiry) and the wall clock for the dates it reports.
//!
//! Every store operation takes a [`Now`] instead of reading the clock itself, so unit tests can
//! step time forward without sleeping. Dates are written as the gateway writes them,
//! `YYYY-MM-DD HH:MM:SS`, in Kazakhstan time (UTC+5, one zone for the whole country since 2024).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Kazakhstan's offset from UTC.
const UTC_OFFSET_SECS: i64 = 5 * 3600;

/// One reading of both clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub instant: Instant,
    pub wall: SystemTime,
}

impl Now {
    pub fn current() -> Self {
        Self {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    /// The same reading moved forward: how tests let time pass.
    #[cfg(test)]
    pub fn plus(self, by: Duration) -> Self {
        Self {
            instant: self.instant + by,
            wall: self.wall + by,
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` in Kazakhstan time.
pub(crate) fn gateway_date(at: SystemTime) -> String {
    let secs = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    } + UTC_OFFSET_SECS;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whole seconds, rounded up, for messages like "wait 3 s".
pub(crate) fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_kazakhstan_time() {
        assert_eq!(gateway_date(UNIX_EPOCH), "1970-01-01 05:00:00");
        // 2026-11-23T10:00:00Z
        let at = UNIX_EPOCH + Duration::from_secs(1_795_428_000);
        assert_eq!(gateway_date(at), "2026-11-23 15:00:00");
        // 2024-02-29T20:30:59Z crosses midnight local time into March 1st.
        let at = UNIX_EPOCH + Duration::from_secs(1_709_238_659);
        assert_eq!(gateway_date(at), "2024-03-01 01:30:59");
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(secs_ceil(Duration::from_millis(2001)), 3);
        assert_eq!(secs_ceil(Duration::from_secs(2)), 2);
        assert_eq!(secs_ceil(Duration::ZERO), 0);
    }
}

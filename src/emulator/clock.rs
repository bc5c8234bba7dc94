//! Time as the emulator sees it: a monotonic instant for deadlines (SMS code lifetime, the
//! approve→success delay, payment expiry) and the wall clock for the dates it reports.
//!
//! Every store operation takes a [`Now`] instead of reading the clock itself, so unit tests can
//! step time forward without sleeping. Dates are written as the gateway writes them,
//! `YYYY-MM-DD HH:MM:SS`, in Kazakhstan time (UTC+5, one zone for the whole country since 2024).

use std::time::{Duration, Instant, SystemTime};

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
    crate::utc::gateway_format(crate::utc::unix_seconds(at) + UTC_OFFSET_SECS)
}

/// Whole seconds, rounded up, for messages like "wait 3 s".
pub(crate) fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

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

//! Calendar arithmetic for the few dates the harness writes: `now()` in templates and the
//! emulator's `pg_create_date` (`YYYY-MM-DD HH:MM:SS`), and cassette timestamps
//! (`2026-11-23T10:00:00Z`). A few lines of Howard Hinnant's algorithms instead of a date
//! crate: nothing here needs time zones beyond a fixed offset.
//!
//! Durations as people write them (`250ms`, `2s`, `1m`, `7d`) are read here too, in
//! `duration`: the one grammar for scenarios, `harness.yaml` and the emulator's configuration,
//! at the bottom layer so each can use it.

mod duration;

pub use duration::{DurationError, format_duration, parse_duration};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (negative before it).
pub fn unix_seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `YYYY-MM-DD HH:MM:SS` for seconds since the epoch (already shifted to the wanted zone).
pub fn gateway_format(seconds: i64) -> String {
    let (date, (h, m, s)) = split(seconds);
    format!("{date} {h:02}:{m:02}:{s:02}")
}

/// `2026-11-23T10:00:00Z`.
pub fn timestamp(at: SystemTime) -> String {
    let (date, (h, m, s)) = split(unix_seconds(at));
    format!("{date}T{h:02}:{m:02}:{s:02}Z")
}

/// Reads what [`timestamp`] writes, and nothing else: a date that does not exist
/// (`2026-02-30`), a year outside 1970–9999 or extra parts are `None`, never a guess.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let inner = text.strip_suffix('Z')?;
    let (date, time) = inner.split_once('T')?;
    let numbers = |part: &str, separator: char| -> Option<[i64; 3]> {
        let mut parts = part.split(separator).map(|p| p.parse::<i64>().ok());
        let values = [parts.next()??, parts.next()??, parts.next()??];
        parts.next().is_none().then_some(values)
    };
    let [y, m, d] = numbers(date, '-')?;
    let [h, min, s] = numbers(time, ':')?;
    let in_range = (1970..=9999).contains(&y)
        && (1..=12).contains(&m)
        && (1..=31).contains(&d)
        && (0..24).contains(&h)
        && (0..60).contains(&min)
        && (0..60).contains(&s);
    if !in_range {
        return None;
    }
    let seconds = days_from_civil(y, m, d) * 86_400 + h * 3600 + min * 60 + s;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).ok()?);
    // Day 31 of a 30-day month would roll over: only the spelling that round-trips exists.
    (timestamp(at) == text).then_some(at)
}

/// (`YYYY-MM-DD`, (hours, minutes, seconds)).
fn split(seconds: i64) -> (String, (i64, i64, i64)) {
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        (of_day / 3600, of_day % 3600 / 60, of_day % 60),
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian: shift to eras of 400
/// years starting in March, so the leap day is the era's last day.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_dates() {
        assert_eq!(gateway_format(0), "1970-01-01 00:00:00");
        assert_eq!(gateway_format(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(gateway_format(951_868_799), "2000-02-29 23:59:59");
        assert_eq!(gateway_format(1_709_164_800), "2024-02-29 00:00:00");
        assert_eq!(gateway_format(1_798_761_599), "2026-12-31 23:59:59");
        assert_eq!(gateway_format(4_107_542_400), "2100-03-01 00:00:00");
        assert_eq!(gateway_format(-1), "1969-12-31 23:59:59");
    }

    #[test]
    fn only_real_timestamps_parse() {
        for bad in [
            "garbage",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T10:00:00:00Z",
            "99999999999999999-01-01T00:00:00Z",
            "2026-11-23T10:00:00",
            "2026-1-23T10:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert!(parse_timestamp("2024-02-29T23:59:59Z").is_some());
    }

    #[test]
    fn timestamps_round_trip() {
        for seconds in [0u64, 951_782_400, 1_795_428_000, 4_102_444_799] {
            let time = UNIX_EPOCH + Duration::from_secs(seconds);
            let text = timestamp(time);
            assert_eq!(parse_timestamp(&text), Some(time), "{text}");
        }
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}

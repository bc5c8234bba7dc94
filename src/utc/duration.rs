//! Durations as people write them in scenarios, `harness.yaml` and the emulator's
//! configuration: a whole number and a unit, `250ms`, `2s`, `1m` (or `1min`), `1h`, `7d` (and a
//! bare `0`). The one grammar for every duration a user writes: `poll.interval`, the pause
//! between calls of a target, the maximum age of cassettes, the emulator's timings.

use std::time::Duration;

/// A duration that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "failed to read duration `{0}`: expected a whole number and a unit, like 250ms, 2s, 1m or 7d"
)]
pub struct DurationError(pub String);

/// Reads `250ms`, `2s`, `1m`, `1h`, `7d` or `0`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError(text.to_owned());
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| error())?;
    let millis_per_unit: u64 = match unit.trim_start() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "" if number == 0 => 0,
        _ => return Err(error()),
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(error)
}

/// Writes a duration back in the largest unit that divides it exactly (`1500ms`, `2s`, `7d`).
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0ms".to_owned();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if millis.is_multiple_of(size) {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_read() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("5min"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(" 15 s "), Ok(Duration::from_secs(15)));
    }

    #[test]
    fn bad_durations_are_errors() {
        for bad in [
            "",
            "ms",
            "5",
            "1.5s",
            "-1s",
            "2w",
            "10 sec",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            parse_duration("2w").unwrap_err().to_string(),
            "failed to read duration `2w`: expected a whole number and a unit, like 250ms, 2s, 1m or 7d"
        );
    }

    #[test]
    fn formatting_round_trips() {
        for text in ["0ms", "250ms", "1500ms", "2s", "1m", "1h", "7d"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}

//! Run modes: where answers come from and what happens to cassettes.
//!
//! | mode | network | cassettes |
//! |---|---|---|
//! | `replay` (default) | never | read; a missing one fails and says how to record it |
//! | `record` | live target | written, replacing the old one atomically |
//! | `once` | only for cases with no cassette | read, or written when missing |
//! | `live` | live target | untouched |
//! | `drift` | live target | read and compared with the live answers, never written |

use std::fmt;

/// The environment variable that chooses the mode when `--mode` is not given.
pub const MODE_ENV: &str = crate::env::MODE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[non_exhaustive]
pub enum Mode {
    #[default]
    Replay,
    Record,
    Once,
    Live,
    Drift,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to read mode `{0}`: expected replay, record, once, live or drift")]
pub struct ModeError(pub String);

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, ModeError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "replay" => Ok(Mode::Replay),
            "record" => Ok(Mode::Record),
            "once" => Ok(Mode::Once),
            "live" => Ok(Mode::Live),
            "drift" => Ok(Mode::Drift),
            _ => Err(ModeError(text.to_owned())),
        }
    }

    /// The mode from `FPH_MODE`, or replay when it is unset or empty.
    pub fn from_env() -> Result<Mode, ModeError> {
        match std::env::var(MODE_ENV) {
            Ok(text) if !text.trim().is_empty() => Mode::parse(&text),
            _ => Ok(Mode::Replay),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Replay => "replay",
            Mode::Record => "record",
            Mode::Once => "once",
            Mode::Live => "live",
            Mode::Drift => "drift",
        }
    }

    /// True when some case may reach the target over the network.
    pub fn may_go_live(self) -> bool {
        !matches!(self, Mode::Replay)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_name() {
        for mode in [
            Mode::Replay,
            Mode::Record,
            Mode::Once,
            Mode::Live,
            Mode::Drift,
        ] {
            assert_eq!(Mode::parse(mode.name()), Ok(mode));
        }
        assert_eq!(Mode::parse(" LIVE "), Ok(Mode::Live));
        assert!(Mode::parse("playback").is_err());
        assert!(!Mode::Replay.may_go_live());
        assert!(Mode::Once.may_go_live());
    }
}

//! Colour on or off: `--color always|never|auto`; `auto` means a terminal without `NO_COLOR`.

#[cfg(feature = "cli")]
use std::io::IsTerminal;

/// The `--color` choice.
#[cfg(feature = "cli")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Whether to paint, decided once per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub enabled: bool,
}

impl Style {
    pub const PLAIN: Style = Style { enabled: false };

    /// Resolves the choice for standard output.
    #[cfg(feature = "cli")]
    pub fn for_stdout(choice: ColorChoice) -> Style {
        let enabled = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os(crate::env::NO_COLOR).is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Style { enabled }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_style_adds_no_escape_codes() {
        assert_eq!(Style::PLAIN.red("x"), "x");
        assert_eq!(Style { enabled: true }.red("x"), "\x1b[31mx\x1b[0m");
    }

    #[test]
    #[cfg(feature = "cli")]
    fn always_and_never_decide_whatever_the_terminal() {
        assert!(!Style::for_stdout(ColorChoice::Never).enabled);
        assert!(Style::for_stdout(ColorChoice::Always).enabled);
    }
}

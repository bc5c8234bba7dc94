//! Why the emulator could not start, stop, or read its configuration: one error for the
//! whole emulator, so the configuration (built in every build) and the server (only with the
//! `emulator` cargo feature) report alike.

use std::io;
use std::net::SocketAddr;

use super::config_problem::ConfigProblem;

/// How [`EmulatorError::InvalidConfig`] opens.
pub(crate) const INVALID_CONFIG: &str = "failed to use the emulator configuration";

/// Why the emulator could not start (or stop, or read its configuration). A message names
/// what failed; the cause is the error's source, so a chain printed with `{:#}` says it
/// once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    #[error("failed to listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("failed to start the emulator's runtime")]
    Runtime(#[source] io::Error),
    #[error("failed to read the emulator configuration {path}")]
    ReadConfig {
        path: String,
        #[source]
        source: io::Error,
    },
    /// A configuration the emulator cannot use: YAML it cannot read, or a setting it cannot
    /// run with; from a file, at the place of the value. Boxed: it carries the file's text
    /// for the snippet.
    #[error("{INVALID_CONFIG}: {0}")]
    InvalidConfig(Box<ConfigProblem>),
    #[error("failed to stop the emulator: its server thread panicked")]
    Panicked,
    /// This build has no emulator server (the `emulator` cargo feature is off).
    #[error(
        "this build of freedompay-harness has no emulator: enable its `emulator` feature, e.g. `freedompay-harness = {{ version = \"…\", features = [\"emulator\"] }}`, or run in replay mode or against another target"
    )]
    Unavailable,
}

impl EmulatorError {
    /// A rich diagnostic (file, line, column, the offending YAML) for a configuration file
    /// with YAML it cannot read or a value it cannot use; `None` for other errors.
    #[cfg(feature = "emulator")]
    pub fn report(&self) -> Option<miette::Report> {
        match self {
            EmulatorError::InvalidConfig(problem) => problem.diagnostic().map(miette::Report::new),
            _ => None,
        }
    }
}

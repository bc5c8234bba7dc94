//! The emulator of a build without the `emulator` cargo feature: the same names, so a session
//! is built the same way in every build, but [`Emulator::start`] refuses and no
//! [`RunningEmulator`] can exist. A live run on the `emulator` target fails when it starts,
//! naming the feature; replay never starts an emulator.

use url::Url;

use super::config::EmulatorConfig;
use super::error::EmulatorError;

/// Starts nothing in this build.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Always [`EmulatorError::Unavailable`].
    pub fn start(_config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        Err(EmulatorError::Unavailable)
    }
}

/// Cannot be made in this build: [`Emulator::start`] is the only way, and it refuses.
#[derive(Debug)]
pub struct RunningEmulator {
    never: Never,
}

#[derive(Debug, Clone, Copy)]
enum Never {}

impl RunningEmulator {
    pub fn base_url(&self) -> Url {
        match self.never {}
    }

    pub fn payment_sms_code(&self, _id: u64) -> Option<String> {
        match self.never {}
    }
}

//! The process exit codes of `fph`, in one place (documented in the README).

/// Every case passed (or the command did what it was asked).
pub const SUCCESS: u8 = 0;
/// At least one case failed.
pub const FAILED: u8 = 1;
/// Bad input: usage, configuration, scenario or cassette.
pub const BAD_INPUT: u8 = 2;
/// `fph drift` found the gateway answering differently from the recordings.
pub const DRIFT: u8 = 3;
/// fph could not do its work for a reason that is not the user's input: a file that cannot
/// be written, a port that cannot be bound, a runtime that cannot start.
pub const SETUP_FAILED: u8 = 4;
/// A bug in fph itself (a panic).
pub const INTERNAL: u8 = 101;
/// Interrupted by Ctrl-C or SIGTERM: 128 + SIGINT, as shells report it.
pub const INTERRUPTED: u8 = 130;

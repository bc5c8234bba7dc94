//! Every environment variable fph reads, named once (the README's table lists them with their
//! meaning). The modules that read them alias these names where their users look for them
//! (`runner::mode::MODE_ENV`, `review::UPDATE_ENV`, …).

/// The run mode: replay, record, once, live, drift.
pub const MODE: &str = "FPH_MODE";
/// The target: a name from `harness.yaml`, a built-in one, or a URL.
pub const TARGET: &str = "FPH_TARGET";
/// Comma-separated tags: only scenarios carrying one of them run (`cargo test`).
pub const TAG: &str = "FPH_TAG";
/// `html=DIR`: a `cargo test` run of the harness also writes `DIR/index.html`.
pub const REPORT: &str = "FPH_REPORT";
/// What to do with expected bodies an answer no longer matches: no, new, always.
pub const UPDATE: &str = "FPH_UPDATE";
/// The public address that forwards to the run's callback receiver, for a remote target
/// (`fph run --callback-base-url`, and the `cargo test` harness).
pub const CALLBACK_BASE_URL: &str = "FPH_CALLBACK_BASE_URL";
/// The port the run's callback receiver listens on at 127.0.0.1 (what the forwarder behind
/// `FPH_CALLBACK_BASE_URL` points at); unset: any free port.
pub const CALLBACK_PORT: &str = "FPH_CALLBACK_PORT";
/// The merchant id for live runs; never read from a file.
pub const MERCHANT_ID: &str = "FREEDOMPAY_MERCHANT_ID";
/// The merchant secret for live runs; never read from a file, never written anywhere.
pub const SECRET_KEY: &str = "FREEDOMPAY_SECRET_KEY";
/// Set by CI systems: nothing is written for review, and progress output is off.
pub const CI: &str = "CI";
/// Any non-empty value turns colour off (<https://no-color.org>).
#[cfg(feature = "cli")]
pub const NO_COLOR: &str = "NO_COLOR";

//! freedompay-harness: contract tests and replay for the Freedom Pay Mobile balance API.
//!
//! The library behind the `fph` command. The data flows one way:
//!
//! - [`scenario`] reads YAML scenarios and `harness.yaml` into a validated model (every error
//!   points at file:line:column); [`template`] renders their `{{ … }}` values and keeps every
//!   generated value so a replay can freeze it.
//! - [`runner`] executes a case step by step — adds `pg_merchant_id`, `pg_salt`, `pg_sig`,
//!   sends through a [`transport`] (live HTTP, or a cassette player), checks the answer's
//!   signature and expectations — and returns plain data
//!   ([`CaseOutcome`](runner::CaseOutcome)); a [`Session`](runner::Session) picks the
//!   transport per case from the mode (replay, record, once, live, drift).
//! - [`report`] formats outcomes (human, JSON lines, JUnit); [`check`] compares XML answers
//!   semantically; [`drift`] classifies what a gateway answers differently.
//! - [`harness`] turns every case into a `cargo test` trial; [`emulator`] is a real Freedom
//!   Pay gateway server for offline runs; [`gateway`] is what Freedom Pay itself is: the
//!   `pg_sig` rule, the XML answers, the calls and the hosts.
//! - [`text_file`] reads every file a user writes as text, refusing non-text with its place.
//! - [`schema`] prints the JSON Schemas of the on-disk formats, generated from the loader's
//!   own types, for editors.
//! - [`review`] is the update workflow for expected files (`FPH_UPDATE`, `*.new` proposals,
//!   accept and reject).
//!
//! ```
//! use freedompay_harness::gateway::{signature, Fields, SecretKey};
//!
//! let fields: Fields = [("pg_merchant_id", "552170"), ("pg_payment_id", "12345"), ("pg_salt", "molbulak")]
//!     .into_iter()
//!     .collect();
//! let sig = signature::sign("get_status3.php", &fields, &SecretKey::new("Test_Secret_Key_123"));
//! assert_eq!(sig.as_str(), "ac4a6d8f21d5015c415b644d27d449a1");
//! ```

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod bench;
pub mod check;
pub mod drift;
pub mod emulator;
pub mod exit_code;
pub mod gateway;
pub mod harness;
pub mod report;
pub mod review;
pub mod run;
pub mod runner;
pub mod scenario;
pub mod schema;
pub mod secret_guard;
pub mod template;
pub mod text_file;
pub mod transport;
pub mod utc;

#[cfg(test)]
mod properties;

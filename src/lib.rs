//! freedompay-harness: contract tests and replay for the Freedom Pay Mobile balance API.
//!
//! The library behind the `fph` command, and what a merchant's own test crate uses.
//!
//! # The public API
//!
//! Public is what a merchant's test crate would use; everything else is `pub(crate)`, so the
//! compiler finds what nothing uses:
//!
//! - [`Harness`], [`HarnessBuilder`], [`Mode`]: scenarios as `cargo test` trials ([`harness`]
//!   has the settings and their environment variables).
//! - [`gateway`]: Freedom Pay itself — the `pg_sig` rule, fields, XML answers, encodings, the
//!   callbacks to the merchant and their reply contract: a merchant signs and checks with it
//!   in its own tests.
//! - [`emulator`]: a Freedom Pay gateway started in-process ([`emulator::Emulator`], built
//!   from an [`emulator::EmulatorConfig`]).
//! - [`runner`]: the outcome of a case as plain data ([`runner::CaseOutcome`], its steps,
//!   typed failures and [`runner::Warning`]s), and the [`runner::Session`] that runs a case
//!   outside libtest; [`scenario`]: the model a session runs (loading scenarios and
//!   `harness.yaml`, spans, diagnostics).
//! - [`exit_code`]: the process exit codes.
//!
//! Outcome and configuration types are `#[non_exhaustive]`: read their fields, build them
//! from `Default` with `with_*` methods (or get them from the [`Harness`]).
//! Not public, because a merchant's crate has no use for them: the transports and cassettes,
//! templates, the XML comparison, reporters, the update workflow, drift, the proxy, bench,
//! schemas, and the CLI (`cli` is `#[doc(hidden)]`: the `fph` binary's half, and the door
//! this package's own CLI tests and bench use).
//!
//! # The module map
//!
//! The data flows one way — scenario → runner → outcome → reporters — and each module imports
//! only the layers below it (ARCHITECTURE.md; a test in `src/architecture.rs` enforces it):
//!
//! - `gateway` is what Freedom Pay itself is. `utc`, `text_file`, `exit_code` are small
//!   shared facts; `yaml_mistake` explains a YAML file serde-saphyr refused, the same way for
//!   scenarios, `harness.yaml` and the emulator's configuration.
//! - `scenario` reads YAML scenarios and `harness.yaml` into a validated model (every error
//!   points at file:line:column); `template` renders their `{{ … }}` values and keeps every
//!   generated value so a replay can freeze it; `check` compares XML answers semantically;
//!   `secret_guard` finds the merchant secret in any encoding.
//! - `transport` sends a signed request (live HTTP) or replays it (cassette player), and
//!   writes cassettes; `review` is the update workflow for expected files; `emulator` is a
//!   real Freedom Pay gateway server for offline runs.
//! - `runner` executes a case step by step and returns plain data (`CaseOutcome`, with typed
//!   failures that carry the span of the YAML that asked); a `Session` picks the transport
//!   per case from the mode. `drift` compares a live run with its recording.
//! - `report` renders outcomes (human with scenario snippets, JSON lines, JUnit, HTML), drift
//!   and review diffs, and says every failure and warning in words (`report::text`); it runs
//!   nothing.
//! - `run` is the layer the entry points share: drift mode, the `cargo test` trial, and the
//!   `RunSummary` that decides the exit code.
//! - `proxy` records any client's calls through a forwarding proxy, matches calls against
//!   such a recording for the emulator's replay, and makes scenarios of recordings.
//! - `harness` turns every case into a `cargo test` trial; `bench` measures; `schema`
//!   prints the JSON Schemas of the on-disk formats for editors; `cli` is the `fph` command.
//!
//! Cargo features (all on by default; a test crate that only replays takes
//! `default-features = false` and compiles no HTTP client, TLS, server or CLI):
//!
//! | feature | what it adds |
//! |---|---|
//! | `live` | live, record, once and drift runs: the HTTP client and TLS |
//! | `emulator` | the gateway emulator's server ([`emulator::Emulator`]), `proxy` and `bench`; implies `live` |
//! | `junit` | `report::junit`, JUnit XML from outcomes |
//! | `cli` | the `fph` binary and `schema` (schemars); implies the other three |
//!
//! A run that needs a feature the build lacks fails when it starts, naming the feature.
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

#[cfg(test)]
mod architecture;
// `fph bench` and `fph proxy` are commands: nothing else in the library uses them.
#[cfg(feature = "cli")]
pub(crate) mod bench;
pub(crate) mod check;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[cfg_attr(
    not(feature = "cli"),
    expect(
        dead_code,
        reason = "`fph diff-recordings` compares whole trees; a trial compares one case"
    )
)]
pub(crate) mod drift;
pub mod emulator;
pub(crate) mod env;
pub mod exit_code;
pub mod gateway;
pub mod harness;
pub(crate) mod html;
#[cfg(feature = "cli")]
pub(crate) mod proxy;
pub(crate) mod report;
#[cfg_attr(
    not(any(feature = "cli", test)),
    expect(
        dead_code,
        reason = "`fph review` accepts and rejects; a trial only proposes"
    )
)]
pub(crate) mod review;
pub(crate) mod run;
pub mod runner;
pub mod scenario;
#[cfg(feature = "cli")]
pub(crate) mod schema;
pub(crate) mod secret_guard;
pub(crate) mod template;
pub(crate) mod text_file;
pub(crate) mod transport;
pub(crate) mod utc;
pub(crate) mod yaml_mistake;

pub use harness::{Harness, HarnessBuilder};
pub use runner::Mode;

#[cfg(test)]
mod properties;

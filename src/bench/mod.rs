//! Speed and memory measurements behind `fph bench`. Nothing here prints: every phase returns
//! [`Figures`], which the command line writes as one `fph-bench key=value …` line.
//!
//! **The synthetic suite.** [`generate`] writes `cases` cases under a directory, shaped like a
//! real suite: scenario files of [`ROWS_PER_SCENARIO`] matrix rows each (the shipped
//! `sms_approval.yaml` has five; merchants group a flow's phones and amounts the same way),
//! every case five calls of the SMS flow — init, pay, resend code, approve, status (resend
//! comes before approve because the gateway only resends a code for a payment still waiting
//! for one) — with `matches`, `one_of` and equality checks, captures, and a status poll:
//!
//! ```text
//! DIR/scenarios/bench_00000.yaml … bench_NNNNN.yaml
//! DIR/recordings/bench_00000/operator=…,phone=…,amount=….yaml   (after the record phase)
//! DIR/bench-suite.txt           `cases=N`: what was generated, so a kept directory is reused
//! ```
//!
//! **Phases.** `record` runs the suite against an in-process emulator through the normal
//! [`Session`] in record mode, so the cassettes are real; `parse` reads and parses every
//! cassette ([`Cassette::load`]) on the same scheduler replay uses: the floor replay cannot
//! beat; `replay` runs the suite offline; `live` runs it against an in-process emulator with
//! `jobs` cases at a time; `emulator` measures the emulator alone answering status requests
//! over keep-alive connections from a deliberately thin raw-HTTP client: the ceiling for
//! `live`; `client` sends the same status requests through the harness's own HTTP client
//! (the live transport: reqwest, signed multipart) and nothing else: the ceiling `live` would
//! meet if the runner's work cost nothing, so the gap to the emulator's rate splits into the
//! HTTP client's part and the runner's; `proxy` sends the emulator phase's status requests
//! through a recording proxy (`fph proxy`) in front of the emulator, every exchange recorded,
//! to compare with the emulator served directly. `init-empty` and `init-cap` time the same batch of
//! init + pay pairs (each payment finished at once, so the cap can always make room) on an
//! emulator with an empty store and on one first filled to its cap (`max_payments`, 100,000)
//! with finished payments: at the cap every init evicts one, and the two should cost about
//! the same. Scenario loading and session start are timed apart
//! (`setup_s`) from the run itself (`wall_s`). Each phase is meant to run in its own process
//! so that [`peak_memory_kib`] (the kernel's `VmHWM`) belongs to that phase alone.
//!
//! **Modules.** `suite` generates and loads the synthetic suite; `figures` is what every phase
//! returns; `suite_phases` runs the suite through a session (`record`, `replay`, `live`) and
//! `parse` is the cassette-parsing floor; the ceilings `emulator_ceiling` and
//! `client_ceiling` and the store-cap pair `store_cap` drive load through `requests` (signed
//! demo-merchant requests and a thin raw-HTTP client), measured by the shared `meter`.

mod client_ceiling;
mod emulator_ceiling;
mod figures;
mod meter;
mod parse;
mod requests;
mod store_cap;
mod suite;
mod suite_phases;

pub use client_ceiling::client;
pub use emulator_ceiling::{emulator, proxy};
pub use figures::{Figures, Phase};
pub use parse::parse_floor;
pub use store_cap::{CAP_PAIRS, init_pairs};
pub use suite::{ROWS_PER_SCENARIO, Suite, generate};
pub use suite_phases::{live, record, replay};

use std::path::PathBuf;

use crate::runner::SessionError;

/// A benchmark that could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("failed to write the benchmark suite at {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("failed to load the benchmark suite in {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("failed to start the benchmark session: {0}")]
    Session(#[from] SessionError),
    #[error("failed to start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("failed to run the benchmark: {failed} of {total} cases failed; the first:\n{details}")]
    Failed {
        failed: usize,
        total: usize,
        details: String,
    },
    #[error("failed to start the emulator: {0}")]
    Emulator(String),
    #[error("failed to talk to the emulator: {0}")]
    Client(String),
}

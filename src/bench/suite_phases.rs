//! The phases that run the suite through a normal [`Session`]: `record` against an in-process
//! emulator, `replay` from the cassettes, `live` against an in-process emulator.

use crate::run::{Resolved, RunConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::emulator::EmulatorConfig;
use crate::gateway::Encoding;
use crate::report::{Style, failure_details};
use crate::review::{UpdatePolicy, Updates};
use crate::runner::mode::Mode;
use crate::runner::suite::{PlannedCase, run_all};
use crate::runner::{CaseOutcome, Session};
use crate::scenario::Scenario;

use super::BenchError;
use super::figures::{Figures, Phase, Tally};
use super::suite::{Loaded, Suite, load};

/// What a timed run over the suite starts from: a session and the runtime `fph run` builds,
/// the scenarios and the planned cases, and how long getting there took (`setup_s`).
pub(super) struct Ready {
    pub(super) session: Arc<Session>,
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) scenarios: Arc<Vec<Scenario>>,
    pub(super) planned: Vec<PlannedCase>,
    pub(super) setup: Duration,
}

/// Loads the suite and starts a session in `mode` over it.
pub(super) fn start(suite: &Suite, mode: Mode, encoding: Encoding) -> Result<Ready, BenchError> {
    let started = Instant::now();
    let loaded = load(suite)?;
    let session = Arc::new(session(
        suite,
        &loaded,
        mode,
        loaded.planned.len(),
        encoding,
    )?);
    let runtime = runtime()?;
    Ok(Ready {
        session,
        runtime,
        scenarios: Arc::new(loaded.scenarios),
        planned: loaded.planned,
        setup: started.elapsed(),
    })
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    // The same runtime `fph run` builds: one worker per CPU.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)
}

fn session(
    suite: &Suite,
    loaded: &Loaded,
    mode: Mode,
    cases: usize,
    encoding: Encoding,
) -> Result<Session, BenchError> {
    // The emulator's demo merchant, whatever the environment says: figures must not depend
    // on who runs them. A benchmark never writes expected bodies.
    let run = RunConfig {
        mode,
        target: Some("emulator".to_owned()),
        recordings: Some(suite.recordings()),
        updates: Updates::new(UpdatePolicy::No),
        credentials_from_env: false,
        emulator: EmulatorConfig {
            // Every case makes a payment; none may be evicted while its case still runs.
            max_payments: (cases + 1000).max(EmulatorConfig::default().max_payments),
            ..EmulatorConfig::default()
        },
        ..RunConfig::default()
    };
    let Resolved { mut options, .. } =
        run.resolve(&loaded.config, &suite.scenarios())
            .map_err(|e| BenchError::Load {
                path: suite.scenarios(),
                reason: e.to_string(),
            })?;
    options.target.encoding = encoding;
    Ok(Session::start(options, &loaded.scenarios)?)
}

/// Runs every case of the suite in `mode` with `jobs` at a time; fails when any case does.
fn run_suite(
    suite: &Suite,
    mode: Mode,
    phase: Phase,
    jobs: usize,
    encoding: Encoding,
) -> Result<Figures, BenchError> {
    let ready = start(suite, mode, encoding)?;
    let cases = ready.planned.len();
    let started = Instant::now();
    let mut tally = Tally::default();
    let kept = ready.runtime.block_on(run_all(
        ready.session,
        ready.scenarios,
        ready.planned,
        jobs,
        false,
        |outcome: CaseOutcome| {
            let requests = outcome.steps.iter().map(|s| s.attempts.len()).sum();
            let failure = (!outcome.passed()).then_some(|| failure_details(&outcome, Style::PLAIN));
            tally.case(requests, failure);
        },
    ));
    let wall = started.elapsed();
    drop(kept);
    tally.figures(phase, encoding, jobs, cases, ready.setup, wall)
}

/// Records every case against an in-process emulator (record mode of a normal session).
pub fn record(suite: &Suite, jobs: usize) -> Result<Figures, BenchError> {
    let figures = run_suite(
        suite,
        Mode::Record,
        Phase::Record,
        jobs,
        Encoding::Multipart,
    )?;
    let marker = suite.recordings().join(".complete");
    std::fs::write(&marker, "").map_err(|e| BenchError::Write {
        path: marker,
        reason: e.to_string(),
    })?;
    Ok(figures)
}

/// Replays every case from its cassette.
pub fn replay(suite: &Suite, jobs: usize) -> Result<Figures, BenchError> {
    run_suite(
        suite,
        Mode::Replay,
        Phase::Replay,
        jobs,
        Encoding::Multipart,
    )
}

/// Runs every case against an in-process emulator, `jobs` at a time, its requests sent in
/// `encoding`.
pub fn live(suite: &Suite, jobs: usize, encoding: Encoding) -> Result<Figures, BenchError> {
    run_suite(suite, Mode::Live, Phase::Live, jobs, encoding)
}

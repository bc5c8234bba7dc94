//! The `parse` phase: reading and parsing every cassette on the scheduler replay uses, and
//! nothing else — the floor replay cannot beat.

use std::sync::Arc;
use std::time::Instant;

use crate::gateway::Encoding;
use crate::runner::mode::Mode;
use crate::runner::suite::for_each_case;
use crate::transport::cassette::Cassette;

use super::BenchError;
use super::figures::{Figures, Phase, Tally};
use super::suite::Suite;
use super::suite_phases::start;

/// Reads and parses every cassette of the suite, `jobs` at a time on the scheduler replay
/// uses, and nothing else: what replay would cost with a free runner.
pub fn parse_floor(suite: &Suite, jobs: usize) -> Result<Figures, BenchError> {
    // A replay session does nothing but hold the configuration; `for_each_case` wants one.
    let ready = start(suite, Mode::Replay, Encoding::Multipart)?;
    let cases = ready.planned.len();
    let recordings = Arc::new(suite.recordings());
    let started = Instant::now();
    let mut tally = Tally::default();
    let results = ready.runtime.block_on(for_each_case(
        ready.session,
        ready.scenarios,
        ready.planned,
        jobs,
        |loaded: &Result<usize, String>| match loaded {
            Ok(interactions) => tally.case(*interactions, None::<fn() -> String>),
            Err(error) => tally.case(0, Some(|| error.clone())),
        },
        move |_, scenario, case| {
            let path = Cassette::path_for(&recordings, &scenario.stem, &scenario.cases[case].name);
            async move {
                Cassette::load(&path)
                    .map(|c| c.interactions.len())
                    .map_err(|e| e.to_string())
            }
        },
    ));
    let wall = started.elapsed();
    drop(results);
    tally.figures(
        Phase::Parse,
        Encoding::Multipart,
        jobs,
        cases,
        ready.setup,
        wall,
    )
}

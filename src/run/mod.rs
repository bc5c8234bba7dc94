//! A run: the layer above the runner that the CLI and the `cargo test` harness share. It runs
//! cases on a [`Session`] in their mode — drift mode compares with the cassettes here
//! ([`drift`]), since the runner and the drift comparison know nothing of each other — and
//! says how a run ended ([`RunSummary`], which decides the exit code).
//!
//! It returns data; reporters (`crate::report`) render it.

pub mod config;
pub mod drift;
#[cfg(feature = "cli")]
mod summary;

use std::sync::Arc;

pub use config::{Resolved, RunConfig, RunConfigError};
#[cfg(feature = "cli")]
pub use drift::DriftResult;
pub use drift::{OnDrift, drift_case};
#[cfg(feature = "cli")]
pub use summary::RunSummary;

use crate::runner::{Mode, Session};
use crate::scenario::{Case, Scenario};

/// One case as a `cargo test` trial sees it: `Ok` when it passed, else the message that says
/// everything needed to fix it (libtest-mimic captures nothing else). In drift mode, a case
/// fails when the gateway answers differently than recorded.
pub async fn trial(session: &Arc<Session>, scenario: &Scenario, case: &Case) -> Result<(), String> {
    use crate::report::drift::trial_message;
    if session.mode() == Mode::Drift {
        let on_drift = OnDrift::Propose(crate::review::Updates::default());
        let result = drift_case(session, scenario, case, on_drift).await;
        return if result.report.error.is_none() && !result.report.drifted() {
            Ok(())
        } else {
            Err(trial_message(&result.report))
        };
    }
    verdict(&session.run(scenario, case).await)
}

/// A case's outcome as a trial's verdict: `Ok` when it passed, else everything needed to fix
/// it.
pub fn verdict(outcome: &crate::runner::CaseOutcome) -> Result<(), String> {
    use crate::report::{Style, failure_details};
    if outcome.passed() {
        Ok(())
    } else {
        Err(failure_details(outcome, Style::PLAIN))
    }
}

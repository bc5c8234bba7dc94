//! A case in drift mode: run it live, compare every step's answer with its cassette
//! ([`crate::drift`]), and — when it drifted — re-record it (`--accept`), offer the new
//! recording for review (`FPH_UPDATE=new`), or leave it. A gateway that did not answer
//! properly has not changed: its answers never replace a recording.

use std::sync::Arc;

use crate::drift::{self, Acceptance, CaseDrift, LiveRun, LiveStep};
use crate::report::text;
use crate::review::Updates;
use crate::runner::{CaseOutcome, Session};
use crate::scenario::{Case, Scenario};
use crate::transport::cassette::{Cassette, CassetteError};

/// What to do with a case that drifted.
#[derive(Debug, Clone, Copy)]
pub enum OnDrift {
    /// Re-record its cassette (`fph drift --accept`).
    #[cfg_attr(
        not(feature = "cli"),
        expect(dead_code, reason = "only `fph drift` accepts")
    )]
    Accept,
    /// Offer the new recording as `<cassette>.new`, as the update policy says.
    Propose(Updates),
}

/// A case run in drift mode.
#[derive(Debug)]
pub struct DriftResult {
    pub report: CaseDrift,
    /// What became of the cassette, when the case drifted.
    #[cfg_attr(
        not(feature = "cli"),
        expect(dead_code, reason = "only `fph drift` reports it")
    )]
    pub accepted: Option<Acceptance>,
}

/// Runs `case` live on `session` and compares it with its cassette; the cassette is written
/// only as `on_drift` says, and only from a proper answer.
pub async fn drift_case(
    session: &Arc<Session>,
    scenario: &Scenario,
    case: &Case,
    on_drift: OnDrift,
) -> DriftResult {
    let path = session.cassette_path(scenario, case);
    let mut report = CaseDrift {
        name: scenario.case_id(case),
        cassette: path.clone(),
        drifts: Vec::new(),
        error: None,
        bad_input: false,
    };
    let cassette = match Cassette::load(&path) {
        Ok(cassette) => Some(cassette),
        Err(CassetteError::Io { .. }) if !path.exists() => {
            report.error = Some(format!(
                "no cassette at {} to compare with: {}",
                path.display(),
                crate::runner::session::record_hint(scenario, case)
            ));
            None
        }
        Err(error) => {
            report.error = Some(error.to_string());
            report.bad_input = true;
            None
        }
    };
    let outcome = session.live(scenario, case).await;
    if let Some(cassette) = cassette {
        let ignore = &session.config().drift_ignore;
        report.drifts = drift::compare_live(&live_run(&outcome), &cassette, ignore);
    }
    let accepted = report
        .drifted()
        .then(|| accept(session, scenario, case, &outcome, on_drift));
    DriftResult { report, accepted }
}

fn accept(
    session: &Session,
    scenario: &Scenario,
    case: &Case,
    outcome: &CaseOutcome,
    on_drift: OnDrift,
) -> Acceptance {
    // Recording an outage would replace a good cassette with an error page.
    if let Some((step, failure)) = outcome.improper_answer() {
        let reason = failure.map_or_else(|| "no answer".to_owned(), text::step_failure);
        return Acceptance::Kept(format!(
            "the gateway did not answer properly: step `{}`: {reason}",
            step.id
        ));
    }
    let path = session.cassette_path(scenario, case);
    match on_drift {
        OnDrift::Accept => match session.save(scenario, case, outcome) {
            Ok(()) => Acceptance::Rerecorded(path),
            Err(error) => Acceptance::Kept(error.to_string()),
        },
        OnDrift::Propose(updates) => match session
            .recording(scenario, case, outcome)
            .file_text(&path, scenario.dir())
        {
            Ok(yaml) => Acceptance::Proposed(updates.offer(&path, &yaml)),
            Err(error) => Acceptance::Kept(format!("failed to write the new recording: {error}")),
        },
    }
}

/// The live run as drift compares it: each step's final answer redacted as the recorder
/// redacts a cassette's, or why there is none worth comparing.
fn live_run(outcome: &CaseOutcome) -> LiveRun {
    let steps = outcome
        .steps
        .iter()
        .map(|step| {
            // The last exchange: the request (or callback) and what came back (or the reply).
            let exchange = step
                .attempts
                .last()
                .and_then(|a| Some((&a.request, a.response.as_ref()?)));
            let answer = match (&step.failure, exchange) {
                // No answer worth comparing: the gateway's fault, or a request never built.
                (Some(failure), _)
                    if failure.is_improper_answer()
                        || matches!(failure, crate::runner::StepFailure::Template { .. }) =>
                {
                    Err(text::step_failure(failure))
                }
                // A callback: what the gateway said is its fields, not the scenario's reply.
                (_, Some((callback, _)))
                    if callback.direction == crate::transport::Direction::Incoming =>
                {
                    Ok(drift::callback_body(
                        &outcome.redactor.redact_fields(&callback.fields),
                    ))
                }
                (_, Some((_, response))) => Ok(outcome.redactor.redact_body(&response.body)),
                (_, None) => Err("no answer".to_owned()),
            };
            LiveStep {
                id: step.id.clone(),
                answer,
            }
        })
        .collect();
    LiveRun {
        steps,
        generated: outcome.generated.clone(),
    }
}

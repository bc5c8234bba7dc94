//! The words for what the runner returns as data: step failures, case problems, signature
//! problems. Every reporter (human, JSON, JUnit, the `cargo test` trial message) says a
//! failure the same way because they all ask here.

use crate::runner::{BodyMismatch, CaseProblem, SignatureProblem, StepFailure};
use crate::transport::TransportError;

/// One sentence (several lines only for an answer's signed string) saying why a step failed.
/// A body mismatch is only its headline here: [`super::human::body_mismatch`] shows the diff.
pub fn step_failure(failure: &StepFailure) -> String {
    match failure {
        StepFailure::Template { message, .. } => format!("failed to build the request: {message}"),
        StepFailure::Transport(
            error @ (TransportError::CallbackTimeout { .. }
            | TransportError::CallbackMalformed { .. }
            | TransportError::CallbackSignature { .. }
            | TransportError::NoReceiver { .. }),
        ) => format!("no callback: {error}"),
        StepFailure::Transport(error) => format!("no answer: {error}"),
        StepFailure::HttpStatus(status) => format!("the gateway answered HTTP {status}"),
        StepFailure::NotXml { reason, .. } => format!("the answer is not XML: {reason}"),
        StepFailure::Signature(problem) => format!("bad answer signature: {}", signature(problem)),
        StepFailure::Capture { variable, path, .. } => {
            format!("failed to capture `{variable}`: the answer has no <{path}>")
        }
        StepFailure::PollExhausted { attempts, .. } => {
            format!("`poll.until` did not hold after {attempts} attempts")
        }
        StepFailure::BodyUnreadable { file, reason, .. } => {
            format!("expect_body: failed to read {}: {reason}", file.display())
        }
        StepFailure::BodyMismatch(mismatch) => body_mismatch(mismatch),
        StepFailure::Contract { url, rules } => {
            let broken = rules.iter().filter(|r| r.failed()).count();
            let mut said = format!(
                "the handler at {url} broke the callback contract ({broken} rule{}):",
                if broken == 1 { "" } else { "s" }
            );
            for rule in rules {
                said.push_str(&format!("\n  {rule}"));
            }
            said
        }
    }
}

/// `the answer differs from bodies/init.xml (2 differences)`.
pub fn body_mismatch(mismatch: &BodyMismatch) -> String {
    let count = mismatch.differences.len();
    format!(
        "the answer differs from {} ({count} difference{})",
        mismatch.file.display(),
        if count == 1 { "" } else { "s" }
    )
}

/// What is wrong with an answer's `pg_sig`.
pub fn signature(problem: &SignatureProblem) -> String {
    match problem {
        SignatureProblem::Missing { unsigned_codes } => format!(
            "the answer has no pg_sig (only the errors {} may be unsigned: unknown merchant, bad signature)",
            unsigned_codes.join(", ")
        ),
        SignatureProblem::Mismatch {
            expected,
            actual,
            signed_string,
        } => format!(
            "pg_sig {actual} does not match the answer's fields (computed {expected}); signed string: {signed_string}"
        ),
    }
}

/// Why a case stopped outside its steps, and what to do about it.
pub fn case_problem(problem: &CaseProblem) -> String {
    match problem {
        CaseProblem::NoCassette { path, hint } => {
            format!("no cassette at {}: {hint}", path.display())
        }
        CaseProblem::BadCassette { reason, .. } => reason.clone(),
        CaseProblem::DamagedAnswer {
            path,
            at,
            step,
            reason,
        } => {
            let at = match at {
                Some((line, column)) => format!("{}:{line}:{column}", path.display()),
                None => path.display().to_string(),
            };
            format!(
                "{at}: the recorded answer to step `{step}` is damaged ({reason}); the gateway did not send this: restore the cassette or re-record it"
            )
        }
        CaseProblem::StaleCassette { path, hint } => format!(
            "the cassette {} is stale: it was recorded from an older version of the scenario; {hint}",
            path.display()
        ),
        CaseProblem::OldCassette { path, days } => format!(
            "the cassette {} was recorded {days} days ago, more than cassette_max_age allows; re-record it",
            path.display()
        ),
        CaseProblem::RecordingLacks { missing } => format!(
            "the recording has no value for {}: the scenario changed since it was recorded; re-record it",
            missing.join(", ")
        ),
        CaseProblem::NotSaved { path, reason } => {
            format!("failed to write the cassette {}: {reason}", path.display())
        }
    }
}

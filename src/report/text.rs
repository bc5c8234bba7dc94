//! The words for what the runner returns as data: step failures, case problems, signature
//! problems, warnings. Every reporter (human, JSON, JUnit, HTML, the `cargo test` trial
//! message) says a failure or a warning the same way because they all ask here.

use std::path::Path;

use crate::runner::{BodyMismatch, CaseProblem, SignatureProblem, StepFailure, Warning};
use crate::secret_guard::PLACEHOLDER;
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
        CaseProblem::OldCassette { path, days } => old_cassette(path, *days),
        CaseProblem::RecordingLacks { missing } => format!(
            "the recording has no value for {}: the scenario changed since it was recorded; re-record it",
            missing.join(", ")
        ),
        CaseProblem::NotSaved { path, reason } => {
            format!("failed to write the cassette {}: {reason}", path.display())
        }
    }
}

/// One sentence saying what a warning is about.
pub fn warning(warning: &Warning) -> String {
    match warning {
        Warning::OldCassette { path, days } => old_cassette(path, *days),
        Warning::NotRecorded { step, path } => format!(
            "not recorded: the gateway did not answer step `{step}` properly; the cassette {} is left as it was",
            path.display()
        ),
        Warning::SecretReplaced { found } => secret_replaced(found),
    }
}

/// A cassette older than `cassette_max_age`: a warning, or with `fail_too_old` the problem
/// that fails the case.
fn old_cassette(path: &Path, days: u64) -> String {
    format!(
        "the cassette {} was recorded {days} days ago, more than cassette_max_age allows; re-record it",
        path.display()
    )
}

/// The merchant secret was found (in the forms `found` names) and replaced: a case's warning,
/// or the run's when the CLI ends.
pub fn secret_replaced(found: &[String]) -> String {
    format!(
        "{} appeared in what this run wrote or printed and was replaced by {PLACEHOLDER}; check the scenario's values and the gateway's answers",
        found.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn an_old_cassette_reads_the_same_as_a_warning_and_as_a_problem() {
        let path = PathBuf::from("recordings/pay/default.yaml");
        let said = warning(&Warning::OldCassette {
            path: path.clone(),
            days: 40,
        });
        assert_eq!(
            said,
            "the cassette recordings/pay/default.yaml was recorded 40 days ago, more than cassette_max_age allows; re-record it"
        );
        assert_eq!(
            case_problem(&CaseProblem::OldCassette { path, days: 40 }),
            said
        );
    }

    #[test]
    fn every_warning_names_what_to_look_at() {
        let not_recorded = warning(&Warning::NotRecorded {
            step: "pay".into(),
            path: PathBuf::from("recordings/pay/default.yaml"),
        });
        assert_eq!(
            not_recorded,
            "not recorded: the gateway did not answer step `pay` properly; the cassette recordings/pay/default.yaml is left as it was"
        );
        let secret = warning(&Warning::SecretReplaced {
            found: vec!["the merchant secret key (raw)".into(), "its MD5".into()],
        });
        assert!(
            secret.starts_with(
                "the merchant secret key (raw) and its MD5 appeared in what this run wrote or printed and was replaced by [REDACTED]"
            ),
            "{secret}"
        );
    }
}

//! JUnit XML (`--junit FILE`) for CI dashboards: a test suite per scenario file, a test
//! case per scenario case (with `file` and, for a failure, `line` attributes, so CI annotates
//! the scenario line), the failure details as the failure description.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::runner::{CaseOutcome, CaseStatus};

use super::human::failure_details;
use super::style::Style;

/// The JUnit document for these outcomes.
pub fn report(outcomes: &[CaseOutcome]) -> Result<String, String> {
    let mut report = Report::new("fph");
    let mut suites: Vec<TestSuite> = Vec::new();
    for outcome in outcomes {
        let status = if outcome.passed() {
            TestCaseStatus::success()
        } else {
            // An errored case (no verdict: no proper answer, nothing to compare) is a JUnit
            // error, as a test that panicked is; a wrong answer is a failure.
            let kind = match outcome.status() {
                CaseStatus::Errored => NonSuccessKind::Error,
                _ => NonSuccessKind::Failure,
            };
            let mut status = TestCaseStatus::non_success(kind);
            let message = match outcome.failed_step() {
                Some(step) => format!("step `{}` failed", step.id),
                None => outcome
                    .problem
                    .as_ref()
                    .map(super::text::case_problem)
                    .unwrap_or_default(),
            };
            status.set_message(message);
            status.set_description(failure_details(outcome, Style::PLAIN));
            status
        };
        let mut case = TestCase::new(outcome.case.clone(), status);
        case.set_classname(outcome.scenario.clone());
        case.set_time(outcome.elapsed);
        // Where CI annotations point: the scenario file, and the line that failed.
        case.extra.insert(
            "file".into(),
            outcome.source.file.display().to_string().into(),
        );
        if let Some(span) = outcome.failure_span() {
            case.extra
                .insert("line".into(), span.line.to_string().into());
        }
        match suites
            .iter_mut()
            .find(|s| s.name.as_str() == outcome.scenario)
        {
            Some(suite) => {
                suite.add_test_case(case);
            }
            None => {
                let mut suite = TestSuite::new(outcome.scenario.clone());
                suite.add_test_case(case);
                suites.push(suite);
            }
        }
    }
    report.add_test_suites(suites);
    report.to_string().map_err(|e| e.to_string())
}

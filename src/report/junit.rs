//! JUnit XML (`--junit FILE`) for CI dashboards: a test suite per scenario file, a test
//! case per scenario case (with `file` and, for a failure, `line` attributes, so CI annotates
//! the scenario line), the failure details as the failure description. Cases a `--fail-fast`
//! stop did not start are there too, skipped, so the dashboard counts every selected case.
//! A case's warnings (an old cassette, a step not recorded, a secret replaced) go to its
//! `system-err`, one `warning: …` line each, as the human report prints them.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::runner::{CaseOutcome, CaseStatus};

use super::human::failure_details;
use super::style::Style;

/// The JUnit document for these outcomes, and the cases (`scenario::case`) not run.
pub fn report(outcomes: &[CaseOutcome], not_run: &[String]) -> Result<String, String> {
    let mut report = Report::new("fph");
    let mut suites: Vec<TestSuite> = Vec::new();
    let mut add = |suite_name: &str, case: TestCase| match suites
        .iter_mut()
        .find(|s| s.name.as_str() == suite_name)
    {
        Some(suite) => {
            suite.add_test_case(case);
        }
        None => {
            let mut suite = TestSuite::new(suite_name);
            suite.add_test_case(case);
            suites.push(suite);
        }
    };
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
        if !outcome.warnings.is_empty() {
            let said: Vec<String> = outcome
                .warnings
                .iter()
                .map(|w| format!("warning: {}", super::text::warning(w)))
                .collect();
            case.set_system_err(said.join("\n"));
        }
        add(&outcome.scenario, case);
    }
    for full_name in not_run {
        let (scenario, case_name) = full_name.split_once("::").unwrap_or((full_name, ""));
        let mut status = TestCaseStatus::skipped();
        status.set_message("not run: --fail-fast stopped after a failure");
        let mut case = TestCase::new(case_name, status);
        case.set_classname(scenario);
        add(scenario, case);
    }
    report.add_test_suites(suites);
    report.to_string().map_err(|e| e.to_string())
}

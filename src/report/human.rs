//! The human report: one line per case, and for a failure everything needed to fix it — the
//! step, expected against actual values, the request fields, the answer pretty-printed.
//! The same failure text is the message of a failing `cargo test` trial.

use std::fmt::Write as _;
use std::time::Duration;

use crate::gateway::Document;
use crate::runner::{CaseOutcome, StepFailure, StepOutcome};

use super::style::Style;

/// `PASS scenario::case (12 ms)` or `FAIL …`.
pub fn case_line(outcome: &CaseOutcome, style: Style) -> String {
    let status = if outcome.passed() {
        style.green("PASS")
    } else {
        style.red("FAIL")
    };
    format!(
        "{status} {} {}",
        outcome.full_name(),
        style.dim(&format!("({})", millis(outcome.elapsed)))
    )
}

/// The case line followed, for a failure, by the indented details.
pub fn case_report(outcome: &CaseOutcome, style: Style) -> String {
    let mut out = case_line(outcome, style);
    out.push('\n');
    for warning in &outcome.warnings {
        let _ = writeln!(out, "    {} {warning}", style.yellow("warning:"));
    }
    if !outcome.passed() {
        for line in failure_details(outcome, style).lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

/// Why a case failed: the error or failing step, checks, request and answer.
/// Redacted values are masked in every piece shown, before any colour is added.
pub fn failure_details(outcome: &CaseOutcome, style: Style) -> String {
    let mask = |text: &str| outcome.redactor.mask(text);
    let mut out = String::new();
    if let Some(error) = &outcome.error {
        let _ = writeln!(out, "{}", style.red(&mask(error)));
    }
    let Some(step) = outcome.failed_step() else {
        return out;
    };
    let path = step
        .attempts
        .last()
        .map(|a| a.request.path.as_str())
        .unwrap_or("");
    let _ = writeln!(
        out,
        "{} `{}` ({} {path}, attempt {})",
        style.bold("step"),
        step.id,
        step.call,
        step.attempts.len().max(1)
    );
    match &step.failure {
        // Painted line by line: the diff has colours of its own.
        Some(StepFailure::BodyMismatch(mismatch)) => {
            for line in mismatch.render(style).lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        Some(failure) => {
            let text = mask(&failure.to_string()).replace('\n', "\n  ");
            let _ = writeln!(out, "  {}", style.red(&text));
        }
        None => {}
    }
    for check in step.checks.iter().filter(|c| !c.passed) {
        let actual = match &check.actual {
            Some(value) => format!("{value:?}"),
            None => "(absent)".to_owned(),
        };
        let _ = writeln!(out, "  {}:", check.path);
        let _ = writeln!(out, "    expected: {}", style.green(&mask(&check.expected)));
        let _ = writeln!(out, "    actual:   {}", style.red(&mask(&actual)));
    }
    write_exchange(&mut out, step, style, &mask);
    out
}

fn write_exchange(
    out: &mut String,
    step: &StepOutcome,
    style: Style,
    mask: &dyn Fn(&str) -> String,
) {
    let Some(attempt) = step.attempts.last() else {
        return;
    };
    let _ = writeln!(out, "  {}", style.bold("request fields:"));
    for (name, value) in attempt.request.fields.to_form_pairs() {
        let _ = writeln!(out, "    {name}={}", mask(&value));
    }
    let Some(response) = &attempt.response else {
        return;
    };
    let _ = writeln!(
        out,
        "  {} (HTTP {}, {}):",
        style.bold("answer"),
        response.status,
        millis(response.elapsed)
    );
    // The canonical print when it parses (stable, indented); otherwise the body as it came.
    let body = match Document::parse(response.body.as_bytes()) {
        Ok(document) => document.pretty(),
        Err(_) => response.body.clone(),
    };
    for line in mask(&body).lines().take(60) {
        let _ = writeln!(out, "    {line}");
    }
}

/// `3 passed, 1 failed, 4 total in 0.12 s`.
pub fn summary_line(outcomes: &[CaseOutcome], elapsed: Duration, style: Style) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    summary_counts(outcomes.len() - failed, failed, elapsed, style)
}

/// [`summary_line`] from counts, for a run that kept no outcomes.
pub fn summary_counts(passed: usize, failed: usize, elapsed: Duration, style: Style) -> String {
    let failed_text = format!("{failed} failed");
    format!(
        "{}, {}, {} total in {:.2} s",
        style.green(&format!("{passed} passed")),
        if failed > 0 {
            style.red(&failed_text)
        } else {
            failed_text
        },
        passed + failed,
        elapsed.as_secs_f64()
    )
}

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

//! The human report: one line per case, and for a failure everything needed to fix it — the
//! step, expected against actual values with the place in the scenario that asked for them
//! (`--> file:line:column`, the line, a caret under the value), the request fields, the
//! answer pretty-printed. The same failure text is the message of a failing `cargo test`
//! trial.
//!
//! What a gateway sent is shown, never obeyed: bytes that control a terminal (ESC, BEL, the
//! other C0 and C1 controls) are written as `\x1b`-style escapes, and a body is cut after
//! [`SHOWN_BODY_LIMIT`] bytes, so an answer can neither repaint the screen nor flood it.

use std::fmt::Write as _;
use std::time::Duration;

use crate::gateway::Document;
use crate::runner::{BodyMismatch, CaseOutcome, CheckResult, StepFailure, StepOutcome};
use crate::transport::Direction;

use super::diff::unified_diff;
use super::snippet;
use super::style::Style;
use super::text;

/// How much of an answer body the report prints.
pub const SHOWN_BODY_LIMIT: usize = 8 * 1024;

/// `text` safe to print: control characters other than line feed and tab escaped.
pub fn terminal_safe(text: &str) -> String {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(unsafe_char) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            let code = u32::from(c);
            if code <= 0xff {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first `limit` bytes of `text` (cut at a character boundary) and how many were left out.
pub(crate) fn truncated(text: &str, limit: usize) -> (&str, usize) {
    if text.len() <= limit {
        return (text, 0);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], text.len() - end)
}

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

/// `--verbose`: a request as it goes out — `→ case step (call /path, attempt N)` and its
/// fields (already masked by the runner's observer).
pub fn sent_request(case: &str, request: &crate::transport::Request, style: Style) -> String {
    let mut out = format!(
        "{} {case} {} ({} {}, attempt {})\n",
        style.dim("→"),
        request.step,
        request.operation.name(),
        request.path,
        request.attempt
    );
    for (name, value) in request.fields.to_form_pairs() {
        let _ = writeln!(out, "    {name}={}", terminal_safe(&value));
    }
    out
}

/// `--verbose`: the answer to a request — `← case step: HTTP 200 in 3 ms` and its body (cut
/// like the report's), or why none came.
pub fn received_answer(
    case: &str,
    request: &crate::transport::Request,
    answer: Result<&crate::transport::Response, &crate::transport::TransportError>,
    style: Style,
) -> String {
    match answer {
        Ok(response) => {
            let (body, left_out) = truncated(&response.body, SHOWN_BODY_LIMIT);
            let mut out = format!(
                "{} {case} {}: HTTP {} in {}\n",
                style.dim("←"),
                request.step,
                response.status,
                millis(response.elapsed)
            );
            for line in terminal_safe(body).lines() {
                let _ = writeln!(out, "    {line}");
            }
            if left_out > 0 {
                let _ = writeln!(out, "    … {left_out} more bytes");
            }
            out
        }
        Err(error) => format!(
            "{} {case} {}: {}\n",
            style.red("←"),
            request.step,
            terminal_safe(&error.to_string())
        ),
    }
}

/// `SKIP scenario::case (not run)`: a case a `--fail-fast` stop did not start.
pub fn not_run_line(full_name: &str, style: Style) -> String {
    format!(
        "{} {full_name} {}",
        style.yellow("SKIP"),
        style.dim("(not run: --fail-fast stopped after a failure)")
    )
}

/// The case line followed, for a failure, by the indented details.
pub fn case_report(outcome: &CaseOutcome, style: Style) -> String {
    let mut out = case_line(outcome, style);
    out.push('\n');
    for warning in &outcome.warnings {
        let _ = writeln!(
            out,
            "    {} {}",
            style.yellow("warning:"),
            text::warning(warning)
        );
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
    // Masked whole, then cut: a value cut in two would not be recognised.
    let capped = |text: &str| {
        let (shown, left_out) = truncated(text, SHOWN_BODY_LIMIT);
        let mut safe = terminal_safe(shown);
        if left_out > 0 {
            safe.push_str(&format!(" … ({left_out} more bytes not shown)"));
        }
        safe
    };
    let mask = |text: &str| capped(&outcome.redactor.mask(text));
    let mut out = String::new();
    if let Some(problem) = &outcome.problem {
        let _ = writeln!(out, "{}", style.red(&mask(&text::case_problem(problem))));
    }
    let Some(step) = outcome.failed_step() else {
        return out;
    };
    // `(pay /mfs/pay, attempt 1)`; a wait names no path of the gateway's.
    let path = match (&step.action, step.attempts.last()) {
        (crate::scenario::Action::Call(_), Some(attempt)) => format!(" {}", attempt.request.path),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{} `{}` ({}{path}, attempt {})",
        style.bold("step"),
        step.id,
        step.action,
        step.attempts.len().max(1)
    );
    let point = |out: &mut String, span, label: &str| {
        let shown = snippet::render(
            &outcome.source.file,
            &outcome.source.text,
            span,
            label,
            style,
            &mask,
        );
        for line in shown.iter().flat_map(|s| s.lines()) {
            let _ = writeln!(out, "   {line}");
        }
    };
    match &step.failure {
        // Painted line by line: the diff has colours of its own.
        Some(StepFailure::BodyMismatch(mismatch)) => {
            point(&mut out, mismatch.span, "expect_body");
            for line in body_mismatch(mismatch, style).lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        Some(failure) => {
            let said = mask(&text::step_failure(failure)).replace('\n', "\n  ");
            let _ = writeln!(out, "  {}", style.red(&said));
            if let Some(span) = failure.span() {
                point(&mut out, span, &failure_label(failure));
            }
        }
        None => {}
    }
    for check in step.checks.iter().filter(|c| !c.passed) {
        let (expected, actual) = shown_check(outcome, check);
        let (expected, actual) = (capped(&expected), capped(&actual));
        let _ = writeln!(out, "  {}:", check.path);
        let _ = writeln!(out, "    expected: {}", style.green(&expected));
        let _ = writeln!(out, "    actual:   {}", style.red(&actual));
        let label = format!("expected {expected}, actual {actual}");
        point(&mut out, check.span, &label);
    }
    // A request field is masked by its name (a value equal to the merchant id in another
    // field is that field's own), the answer as a cassette writes it.
    let field = |name: &str, value: &str| terminal_safe(&outcome.redactor.mask_field(name, value));
    let answer = |body: &str| terminal_safe(&outcome.redactor.redact_body(body));
    write_exchange(&mut out, step, style, &answer, &field);
    out
}

/// A check as every report shows it, masked (see "What reports show" in `redact.rs`): the
/// expectation as text about the check's field, the actual value as the answer's — quoted,
/// or `(absent)`.
pub(crate) fn shown_check(outcome: &CaseOutcome, check: &CheckResult) -> (String, String) {
    let redactor = &outcome.redactor;
    let actual = match &check.actual {
        Some(value) => format!("{:?}", redactor.mask_answer(&check.path, value)),
        None => "(absent)".to_owned(),
    };
    (redactor.mask_about(&check.path, &check.expected), actual)
}

/// The short label under the caret for a failure that points into the scenario.
fn failure_label(failure: &StepFailure) -> String {
    match failure {
        StepFailure::Template { .. } => "this template".to_owned(),
        StepFailure::Capture { path, .. } => format!("the answer has no <{path}>"),
        StepFailure::PollExhausted { attempts, .. } => {
            format!("did not hold after {attempts} attempts")
        }
        StepFailure::BodyUnreadable { .. } => "this file".to_owned(),
        _ => String::new(),
    }
}

/// How an answer differs from its expected body: the headline, the differences by path, the
/// unified diff (coloured when `style` allows) and what the update policy did about it.
pub fn body_mismatch(mismatch: &BodyMismatch, style: Style) -> String {
    let mut out = style.red(&format!("{}:", text::body_mismatch(mismatch)));
    out.push('\n');
    for difference in &mismatch.differences {
        out.push_str(&format!("  {difference}\n"));
    }
    out.push_str(&unified_diff(
        &mismatch.expected,
        &mismatch.proposed,
        (&mismatch.file.display().to_string(), "answer"),
        style,
    ));
    out.push_str(&style.yellow(&mismatch.update.to_string()));
    out
}

fn write_exchange(
    out: &mut String,
    step: &StepOutcome,
    style: Style,
    answer_text: &dyn Fn(&str) -> String,
    field: &dyn Fn(&str, &str) -> String,
) {
    let Some(attempt) = step.attempts.last() else {
        return;
    };
    // A callback came in and the scenario answered it: the same two halves, other names.
    let (request, answer) = match attempt.request.direction {
        Direction::Outgoing => ("request fields:", "answer"),
        Direction::Incoming => ("callback fields:", "reply"),
    };
    let _ = writeln!(out, "  {}", style.bold(request));
    for (name, value) in attempt.request.fields.to_form_pairs() {
        let _ = writeln!(out, "    {name}={}", field(&name, &value));
    }
    let Some(response) = &attempt.response else {
        return;
    };
    let _ = writeln!(
        out,
        "  {} (HTTP {}, {}):",
        style.bold(answer),
        response.status,
        millis(response.elapsed)
    );
    // The canonical print when it parses (stable, indented); otherwise the body as it came.
    // Only the head of a large body is shown (and parsed): the whole is in the cassette.
    let (head, left_out) = truncated(&response.body, SHOWN_BODY_LIMIT);
    let body = match Document::parse(head.as_bytes()) {
        Ok(document) if left_out == 0 => document.pretty(),
        _ => head.to_owned(),
    };
    let shown = answer_text(&body);
    let lines: Vec<&str> = shown.lines().collect();
    for line in lines.iter().take(60) {
        let _ = writeln!(out, "    {line}");
    }
    if lines.len() > 60 || left_out > 0 {
        let _ = writeln!(
            out,
            "    {}",
            style.dim(&format!(
                "… (not all shown: the answer is {} bytes)",
                response.body.len()
            ))
        );
    }
}

/// `3 passed, 1 failed, 4 total in 0.12 s`, from counts (a run keeps no outcomes).
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::gateway::{Encoding, Fields, Operation};
    use crate::runner::{Attempt, CaseOutcome, ScenarioSource, StepFailure, StepOutcome};
    use crate::scenario::Span;
    use crate::transport::redact::Redactor;
    use crate::transport::{Request, Response};

    use super::*;

    fn failed_with_answer(body: String) -> CaseOutcome {
        let mut fields = Fields::new();
        fields.push("pg_payment_id", "1\u{1b}[2J");
        let request = Request {
            step: "status".into(),
            attempt: 1,
            operation: Operation::Status,
            path: "/get_status3.php".into(),
            fields,
            encoding: Encoding::Multipart,
            signed_by_harness: true,
            direction: crate::transport::Direction::Outgoing,
        };
        let response = Response {
            status: 200,
            content_type: None,
            body: body.clone(),
            elapsed: Duration::ZERO,
        };
        CaseOutcome {
            scenario: "s".into(),
            scenario_name: "s".into(),
            case: "default".into(),
            steps: vec![StepOutcome {
                id: "status".into(),
                action: crate::scenario::Action::Call(Operation::Status),
                span: Span::UNKNOWN,
                attempts: vec![Attempt {
                    request,
                    response: Some(response),
                }],
                checks: Vec::new(),
                captures: Vec::new(),
                failure: Some(StepFailure::NotXml {
                    reason: format!("not XML: {}", &body[..40]),
                    first_bytes: body[..40].to_owned(),
                }),
                elapsed: Duration::ZERO,
            }],
            generated: Vec::new(),
            problem: None,
            source: ScenarioSource {
                file: "s.yaml".into(),
                text: "".into(),
            },
            span: Span::UNKNOWN,
            warnings: Vec::new(),
            redactor: Redactor::new(Vec::new()),
            elapsed: Duration::ZERO,
        }
    }

    /// Regression (safety 15.4): a 1 GiB answer was printed whole, terminal controls and all.
    #[test]
    fn regression_15_4_answers_are_shown_capped_and_escaped() {
        let body = format!(
            "\u{1b}]0;owned\u{7}\u{1b}[31m<html>{}\u{9b}2J",
            "x".repeat(4 * 1024 * 1024)
        );
        let size = body.len();
        let report = failure_details(&failed_with_answer(body), Style::PLAIN);
        assert!(
            !report.contains(['\u{1b}', '\u{7}', '\u{9b}']),
            "controls reach the terminal"
        );
        assert!(
            report.contains("\\x1b]0;owned\\x07\\x1b[31m<html>"),
            "{report:.300}"
        );
        assert!(report.contains("pg_payment_id=1\\x1b[2J"), "{report:.300}");
        assert!(
            report.len() < 3 * SHOWN_BODY_LIMIT,
            "{} bytes",
            report.len()
        );
        assert!(report.contains(&format!("not all shown: the answer is {size} bytes")));
    }

    /// Regression: with merchant id `1` the report showed `{{merchant_id}}` in check lines and
    /// scenario snippets that merely held a `1`. It is masked where it is the merchant id (the
    /// request field, the check on `pg_merchant_id`, the gateway's error description) and
    /// nowhere else.
    #[test]
    fn short_merchant_ids_are_masked_in_reports_only_where_they_are_the_merchant_id() {
        use crate::runner::CheckResult;
        use crate::scenario::{Redaction, RedactionRule};

        let body = "<response><pg_status>error</pg_status><pg_error_code>1</pg_error_code>\
             <pg_error_description>merchant 1 not found</pg_error_description></response>";
        let mut outcome = failed_with_answer(body.to_owned());
        let source = "name: s\nsteps:\n  - id: status\n    call: status\n    expect: { pg_error_code: \"1\", pg_merchant_id: \"1\" }\n";
        outcome.source.text = source.into();
        let at = |needle: &str| {
            let offset = source.find(needle).unwrap();
            Span::at_offset(source, offset, 3)
        };
        let step = &mut outcome.steps[0];
        step.failure = None;
        step.attempts[0].request.fields = [("pg_merchant_id", "1"), ("pg_payment_id", "1")]
            .into_iter()
            .collect();
        step.checks = vec![
            CheckResult {
                path: "pg_error_code".into(),
                expected: "\"1\"".into(),
                actual: Some("2".into()),
                passed: false,
                span: at("\"1\", pg_merchant_id"),
            },
            CheckResult {
                path: "pg_merchant_id".into(),
                expected: "\"1\"".into(),
                actual: None,
                passed: false,
                span: at("\"1\" }"),
            },
        ];
        let mut redactor = Redactor::new(vec![Redaction {
            rule: RedactionRule::Field("pg_merchant_id".into()),
            placeholder: "merchant_id".into(),
        }]);
        redactor.learn(&step.attempts[0].request.fields.to_form_pairs());
        outcome.redactor = redactor;
        let report = failure_details(&outcome, Style::PLAIN);
        // Shown as written: a check on another field, the scenario's line, another field.
        assert!(
            report.contains("pg_error_code:\n    expected: \"1\"\n    actual:   \"2\""),
            "{report}"
        );
        assert!(
            report.contains("expect: { pg_error_code: \"1\", pg_merchant_id: \"1\" }"),
            "{report}"
        );
        assert!(report.contains("pg_payment_id=1\n"), "{report}");
        assert!(
            report.contains("<pg_error_code>1</pg_error_code>"),
            "{report}"
        );
        // Masked: where it is the merchant id.
        assert!(
            report.contains("pg_merchant_id:\n    expected: \"{{merchant_id}}\""),
            "{report}"
        );
        assert!(
            report.contains("pg_merchant_id={{merchant_id}}"),
            "{report}"
        );
        assert!(
            report.contains("merchant {{merchant_id}} not found"),
            "{report}"
        );
    }

    #[test]
    fn plain_text_is_left_alone() {
        assert_eq!(terminal_safe("a\tb\nв"), "a\tb\nв");
        assert_eq!(terminal_safe("a\rb\u{0}"), "a\\x0db\\x00");
    }
}

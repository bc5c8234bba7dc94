//! JSON lines: one object per case, for machines (`--report json`). Written by hand: the
//! shape is small and fixed, and it keeps serde_json out of the build.

use std::fmt::Write as _;

use crate::runner::CaseOutcome;
use crate::scenario::Span;

use super::text;

/// One line of JSON for a case.
pub fn case_line(outcome: &CaseOutcome) -> String {
    let mut out = String::from("{\"type\":\"case\"");
    let _ = write!(out, ",\"name\":{}", quote(&outcome.full_name()));
    let _ = write!(out, ",\"scenario\":{}", quote(&outcome.scenario));
    let _ = write!(out, ",\"case\":{}", quote(&outcome.case));
    let _ = write!(out, ",\"passed\":{}", outcome.passed());
    let _ = write!(out, ",\"elapsed_ms\":{}", outcome.elapsed.as_millis());
    if let Some(problem) = &outcome.problem {
        let _ = write!(out, ",\"error\":{}", quote(&text::case_problem(problem)));
    }
    if !outcome.warnings.is_empty() {
        let warnings: Vec<String> = outcome.warnings.iter().map(|w| quote(w)).collect();
        let _ = write!(out, ",\"warnings\":[{}]", warnings.join(","));
    }
    out.push_str(",\"steps\":[");
    for (i, step) in outcome.steps.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"id\":{},\"call\":{},\"passed\":{},\"attempts\":{},\"elapsed_ms\":{}",
            quote(&step.id),
            quote(step.call.name()),
            step.passed(),
            step.attempts.len(),
            step.elapsed.as_millis()
        );
        if let Some(failure) = &step.failure {
            let _ = write!(out, ",\"failure\":{}", quote(&text::step_failure(failure)));
            if let Some(span) = failure.span() {
                position(&mut out, outcome, span);
            }
        }
        out.push_str(",\"checks\":[");
        for (j, check) in step.checks.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let actual = check.actual.as_deref().map_or("null".to_owned(), quote);
            let _ = write!(
                out,
                "{{\"path\":{},\"expected\":{},\"actual\":{actual},\"passed\":{}",
                quote(&check.path),
                quote(&check.expected),
                check.passed
            );
            position(&mut out, outcome, check.span);
            out.push('}');
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    out
}

/// The line for a case a `--fail-fast` stop did not start.
pub fn not_run_line(full_name: &str) -> String {
    let (scenario, case) = full_name.split_once("::").unwrap_or((full_name, ""));
    format!(
        "{{\"type\":\"case\",\"name\":{},\"scenario\":{},\"case\":{},\"status\":\"not_run\",\"passed\":false,\"steps\":[]}}",
        quote(full_name),
        quote(scenario),
        quote(case)
    )
}

/// `,"file":…,"line":…,"column":…` for a known place in the scenario.
fn position(out: &mut String, outcome: &CaseOutcome, span: Span) {
    if span.is_known() {
        let _ = write!(
            out,
            ",\"file\":{},\"line\":{},\"column\":{}",
            quote(&outcome.source.file.display().to_string()),
            span.line,
            span.column
        );
    }
}

/// A JSON string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_control_characters() {
        assert_eq!(quote("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }
}

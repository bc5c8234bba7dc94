//! JSON lines: one object per case, then one summary, for machines (`--report json`). The
//! schema is `docs/report-json.md`; every line carries `"version":` [`SCHEMA_VERSION`], so
//! any line read alone (`head -1`, a stream cut by Ctrl-C) says what it is. Written by hand:
//! the shape is small and fixed.

use std::fmt::Write as _;

use crate::runner::CaseOutcome;
use crate::scenario::Span;

use super::text;

/// The version of the line format (`docs/report-json.md`): raised when a field changes
/// meaning or goes away; new fields may appear without a new version.
pub const SCHEMA_VERSION: u32 = 1;

/// One line of JSON for a case.
pub fn case_line(outcome: &CaseOutcome) -> String {
    let mut out = format!("{{\"type\":\"case\",\"version\":{SCHEMA_VERSION}");
    let _ = write!(out, ",\"name\":{}", quote(&outcome.full_name()));
    let _ = write!(out, ",\"scenario\":{}", quote(&outcome.scenario));
    let _ = write!(out, ",\"case\":{}", quote(&outcome.case));
    let _ = write!(out, ",\"status\":\"{}\"", outcome.status().name());
    let _ = write!(out, ",\"passed\":{}", outcome.passed());
    let _ = write!(
        out,
        ",\"scenario_file\":{}",
        quote(&outcome.source.file.display().to_string())
    );
    if let Some(span) = outcome.failure_span() {
        // Where the case failed, as the human report's first `-->` points.
        position(&mut out, outcome, span);
    }
    let _ = write!(out, ",\"elapsed_ms\":{}", outcome.elapsed.as_millis());
    // Masked as the human report masks (see "What reports show" in `redact.rs`).
    let mask = |text: &str| quote(&outcome.redactor.mask(text));
    if let Some(problem) = &outcome.problem {
        let _ = write!(out, ",\"error\":{}", mask(&text::case_problem(problem)));
    }
    if !outcome.warnings.is_empty() {
        let warnings: Vec<String> = outcome
            .warnings
            .iter()
            .map(|w| mask(&text::warning(w)))
            .collect();
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
            quote(step.action.name()),
            step.passed(),
            step.attempts.len(),
            step.elapsed.as_millis()
        );
        if let Some(failure) = &step.failure {
            let _ = write!(out, ",\"failure\":{}", mask(&text::step_failure(failure)));
            if let Some(span) = failure.span() {
                position(&mut out, outcome, span);
            }
        }
        out.push_str(",\"checks\":[");
        for (j, check) in step.checks.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let redactor = &outcome.redactor;
            let actual = check.actual.as_deref().map_or("null".to_owned(), |actual| {
                quote(&redactor.mask_answer(&check.path, actual))
            });
            let _ = write!(
                out,
                "{{\"path\":{},\"expected\":{},\"actual\":{actual},\"passed\":{}",
                quote(&check.path),
                quote(&redactor.mask_about(&check.path, &check.expected)),
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
        "{{\"type\":\"case\",\"version\":{SCHEMA_VERSION},\"name\":{},\"scenario\":{},\"case\":{},\"status\":\"not_run\",\"passed\":false,\"steps\":[]}}",
        quote(full_name),
        quote(scenario),
        quote(case)
    )
}

/// What a run counted, for the last line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    pub not_run: usize,
    pub interrupted: bool,
    pub elapsed: std::time::Duration,
}

/// The last line of a run: `{"type":"summary",…}`.
pub fn summary_line(counts: &Counts, mode: &str, target: &str) -> String {
    format!(
        "{{\"type\":\"summary\",\"version\":{SCHEMA_VERSION},\"mode\":{},\"target\":{},\"passed\":{},\"failed\":{},\"errored\":{},\"not_run\":{},\"interrupted\":{},\"elapsed_ms\":{}}}",
        quote(mode),
        quote(target),
        counts.passed,
        counts.failed,
        counts.errored,
        counts.not_run,
        counts.interrupted,
        counts.elapsed.as_millis()
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

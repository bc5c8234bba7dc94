//! The HTML report (`fph run --report html=DIR`): one self-contained `index.html` — inline
//! CSS and JS, nothing fetched, so it works opened from disk or as a CI artifact. A summary,
//! a table of cases to filter by text and status, and per case its steps: the request
//! fields, the answer, each check (expected, actual, and the scenario's `file:line:column`),
//! the coloured diff of an expected body, the callbacks the gateway sent and the scenario's
//! replies, timings.
//!
//! Everything that came from a scenario or a gateway is HTML-escaped, and every text shown
//! passes the case's redactor first, as in the human report (the secret guard already
//! scrubbed the outcomes).

pub use crate::html::escape;
use std::fmt::Write as _;
use std::time::Duration;

use crate::gateway::Document;
use crate::runner::{CaseOutcome, CaseStatus, StepFailure, StepOutcome};
use crate::scenario::Span;

use super::diff::unified_diff;
use super::human::SHOWN_BODY_LIMIT;
use super::style::Style;
use super::text;

/// What the report says about the run as a whole.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// `replay`, `live`, …
    pub mode: String,
    /// The target's name (or, for a replay, what the recordings were made against).
    pub target: String,
    pub elapsed: Duration,
    /// Cases a `--fail-fast` stop did not start (`scenario::case`).
    pub not_run: Vec<String>,
}

const CSS: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2125;background:#f6f7f9}
header{background:#1d2125;color:#fff;padding:16px 24px}
header h1{margin:0 0 6px;font-size:20px}
.counts span{margin-right:14px;font-weight:600}
.passed .badge,.count.passed{color:#1a7f37}.failed .badge,.count.failed{color:#cf222e}
.errored .badge,.count.errored{color:#9a6700}.not_run .badge,.count.not_run{color:#6e7781}
header .count.passed{color:#4ac26b}header .count.failed{color:#ff8182}header .count.errored{color:#eac54f}
main{padding:16px 24px}
#controls{margin-bottom:12px;display:flex;gap:8px}
#filter{flex:1;padding:6px 8px;font-size:14px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
tr.case.failed,tr.case.errored{background:#fff5f5}
section.case-detail{background:#fff;border:1px solid #d0d7de;border-left:6px solid #1a7f37;margin:16px 0;padding:8px 16px}
section.case-detail.failed{border-left-color:#cf222e}section.case-detail.errored{border-left-color:#9a6700}
pre{background:#f6f8fa;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-all}
pre.diff span{display:block;min-height:1.2em}pre.diff .del{color:#cf222e;background:#ffebe9}
pre.diff .add{color:#1a7f37;background:#dafbe1}pre.diff .hunk{color:#6e7781}
.where{font-family:ui-monospace,monospace;color:#57606a}
.problem,.failure{color:#cf222e;font-weight:600}
td.check-failed{color:#cf222e}td.check-passed{color:#1a7f37}
.hidden{display:none}
"#;

const JS: &str = r#"
(function(){
  var filter=document.getElementById('filter'),status=document.getElementById('status');
  function apply(){
    var text=filter.value.toLowerCase(),want=status.value;
    document.querySelectorAll('[data-status]').forEach(function(el){
      var show=(!want||el.dataset.status===want)&&(!text||el.dataset.name.toLowerCase().indexOf(text)>=0);
      el.classList.toggle('hidden',!show);
    });
  }
  filter.addEventListener('input',apply);status.addEventListener('change',apply);
  document.body.dataset.ready='yes';
})();
"#;

fn status_name(outcome: &CaseOutcome) -> &'static str {
    outcome.status().name()
}

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

/// The whole `index.html` for these outcomes.
pub fn report(outcomes: &[CaseOutcome], run: &RunInfo) -> String {
    let count = |status: CaseStatus| outcomes.iter().filter(|o| o.status() == status).count();
    let (passed, failed, errored) = (
        count(CaseStatus::Passed),
        count(CaseStatus::Failed),
        count(CaseStatus::Errored),
    );
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>fph report: {passed} passed, {failed} failed, {errored} errored</title>\
         <style>{CSS}</style></head><body>\n<header><h1>fph run report</h1>\
         <div class=\"counts\" id=\"summary\"><span class=\"count passed\">{passed} passed</span>\
         <span class=\"count failed\">{failed} failed</span>\
         <span class=\"count errored\">{errored} errored</span>"
    );
    if !run.not_run.is_empty() {
        let _ = write!(
            out,
            "<span class=\"count not_run\">{} not run</span>",
            run.not_run.len()
        );
    }
    let _ = write!(
        out,
        "</div><div>{} mode, target {}, {} cases in {:.2} s</div></header>\n<main>\
         <div id=\"controls\"><input id=\"filter\" type=\"search\" placeholder=\"Filter cases by name\">\
         <select id=\"status\"><option value=\"\">every status</option><option>passed</option>\
         <option>failed</option><option>errored</option><option value=\"not_run\">not run</option></select></div>\n\
         <table id=\"cases\"><thead><tr><th>case</th><th>status</th><th>time</th><th>where it failed</th></tr></thead><tbody>\n",
        escape(&run.mode),
        escape(&run.target),
        outcomes.len() + run.not_run.len(),
        run.elapsed.as_secs_f64()
    );
    for (i, outcome) in outcomes.iter().enumerate() {
        let status = status_name(outcome);
        let place = outcome
            .failure_span()
            .map(|span| location(outcome, span))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr class=\"case {status}\" data-status=\"{status}\" data-name=\"{name}\">\
             <td><a href=\"#case-{i}\">{name}</a></td><td class=\"badge\">{status}</td>\
             <td>{}</td><td class=\"where\">{}</td></tr>",
            millis(outcome.elapsed),
            escape(&place),
            name = escape(&outcome.full_name()),
        );
    }
    for name in &run.not_run {
        let _ = writeln!(
            out,
            "<tr class=\"case not_run\" data-status=\"not_run\" data-name=\"{name}\"><td>{name}</td>\
             <td class=\"badge\">not run</td><td></td><td></td></tr>",
            name = escape(name)
        );
    }
    out.push_str("</tbody></table>\n");
    for (i, outcome) in outcomes.iter().enumerate() {
        case_section(&mut out, i, outcome);
    }
    let _ = writeln!(out, "</main><script>{JS}</script></body></html>");
    out
}

/// `file:line:column` of a span in the case's scenario.
fn location(outcome: &CaseOutcome, span: Span) -> String {
    format!(
        "{}:{}:{}",
        outcome.source.file.display(),
        span.line,
        span.column
    )
}

fn case_section(out: &mut String, index: usize, outcome: &CaseOutcome) {
    let mask = |text: &str| escape(&outcome.redactor.mask(text));
    let status = status_name(outcome);
    let _ = writeln!(
        out,
        "<section class=\"case-detail {status}\" id=\"case-{index}\" data-status=\"{status}\" data-name=\"{name}\">\
         <h2><span class=\"badge\">{status}</span> {name} <small>({})</small></h2>\
         <div class=\"where\">{}</div>",
        millis(outcome.elapsed),
        escape(&outcome.source.file.display().to_string()),
        name = escape(&outcome.full_name()),
    );
    if let Some(problem) = &outcome.problem {
        let _ = writeln!(
            out,
            "<p class=\"problem\">{}</p>",
            mask(&text::case_problem(problem))
        );
    }
    for warning in &outcome.warnings {
        let _ = writeln!(
            out,
            "<p class=\"warning\">warning: {}</p>",
            mask(&text::warning(warning))
        );
    }
    for step in &outcome.steps {
        step_details(out, outcome, step, &mask);
    }
    out.push_str("</section>\n");
}

fn step_details(
    out: &mut String,
    outcome: &CaseOutcome,
    step: &StepOutcome,
    mask: &dyn Fn(&str) -> String,
) {
    let passed = step.passed();
    let _ = writeln!(
        out,
        "<details class=\"step\"{}><summary>step <b>{}</b> ({}, {} attempt{}, {}) {}</summary>",
        if passed { "" } else { " open" },
        escape(&step.id),
        escape(step.action.name()),
        step.attempts.len(),
        if step.attempts.len() == 1 { "" } else { "s" },
        millis(step.elapsed),
        if passed {
            "passed"
        } else {
            "<b class=\"failure\">failed</b>"
        },
    );
    if let Some(failure) = &step.failure {
        let _ = write!(
            out,
            "<p class=\"failure\">{}",
            mask(&text::step_failure(failure))
        );
        if let Some(span) = failure.span() {
            let _ = write!(
                out,
                " <span class=\"where\">at {}</span>",
                escape(&location(outcome, span))
            );
        }
        out.push_str("</p>\n");
        if let StepFailure::BodyMismatch(mismatch) = failure {
            let diff = unified_diff(
                &mismatch.expected,
                &mismatch.proposed,
                (&mismatch.file.display().to_string(), "answer"),
                Style::PLAIN,
            );
            out.push_str("<pre class=\"diff\">");
            for line in diff.lines() {
                let class = if line.starts_with("---") || line.starts_with("+++") {
                    "head"
                } else if line.starts_with('-') {
                    "del"
                } else if line.starts_with('+') {
                    "add"
                } else if line.starts_with("@@") {
                    "hunk"
                } else {
                    "same"
                };
                // Block spans, one per line: a newline too would double the spacing.
                let _ = write!(out, "<span class=\"{class}\">{}</span>", mask(line));
            }
            out.push_str("</pre>\n");
        }
    }
    if !step.checks.is_empty() {
        out.push_str(
            "<table class=\"checks\"><tr><th>check</th><th>expected</th><th>actual</th><th>verdict</th><th>scenario</th></tr>\n",
        );
        for check in &step.checks {
            let (expected, actual) = super::human::shown_check(outcome, check);
            let verdict = if check.passed { "passed" } else { "failed" };
            let place = if check.span.is_known() {
                location(outcome, check.span)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "<tr class=\"check {verdict}\"><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"check-{verdict}\">{verdict}</td><td class=\"where\">{}</td></tr>",
                escape(&check.path),
                escape(&expected),
                escape(&actual),
                escape(&place)
            );
        }
        out.push_str("</table>\n");
    }
    for (n, attempt) in step.attempts.iter().enumerate() {
        // A callback came in and the scenario replied: the same two halves, other names.
        let (request, answer) = match attempt.request.direction {
            crate::transport::Direction::Outgoing => ("request", "answer"),
            crate::transport::Direction::Incoming => ("callback", "reply"),
        };
        // An outgoing request names its call and route; a callback's path is its kind
        // (`CallbackWait::received`), so the kind alone heads it: "result callback 1".
        let what = match attempt.request.direction {
            crate::transport::Direction::Outgoing => format!(
                "{request} {} <span class=\"where\">{} {}</span>",
                n + 1,
                escape(attempt.request.operation.name()),
                escape(&attempt.request.path)
            ),
            crate::transport::Direction::Incoming => format!(
                "{} {request} {}",
                escape(attempt.request.operation.name()),
                n + 1
            ),
        };
        let _ = writeln!(out, "<h4>{what}</h4><pre class=\"request\">");
        for (name, value) in attempt.request.fields.to_form_pairs() {
            let value = outcome.redactor.mask_field(&name, &value);
            let _ = writeln!(out, "{}={}", escape(&name), escape(&value));
        }
        out.push_str("</pre>\n");
        let Some(response) = &attempt.response else {
            out.push_str("<p class=\"failure\">no answer</p>\n");
            continue;
        };
        let (head, left_out) = super::human::truncated(&response.body, SHOWN_BODY_LIMIT);
        let body = match Document::parse(head.as_bytes()) {
            Ok(document) if left_out == 0 => document.pretty(),
            _ => head.to_owned(),
        };
        let _ = writeln!(
            out,
            "<h4>{answer} <span class=\"where\">HTTP {}, {}</span></h4><pre class=\"answer\">{}{}</pre>",
            response.status,
            millis(response.elapsed),
            escape(&outcome.redactor.redact_body(&body)),
            if left_out > 0 {
                format!("\n… {left_out} more bytes not shown")
            } else {
                String::new()
            }
        );
    }
    out.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<b a=\"x\" b='y'>&</b>"),
            "&lt;b a=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/b&gt;"
        );
    }
}

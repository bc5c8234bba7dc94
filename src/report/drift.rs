//! Drift reports: what the gateway answers differently than recorded, per case (`DRIFT`,
//! `SAME`, `ERROR` with one line per difference), as JSON lines, and the summary table by
//! kind. `fph drift`, `fph diff-recordings` and a drift-mode `cargo test` trial all say it
//! this way.

use crate::drift::{self, Acceptance, CaseDrift, Drift, DriftKind};

use super::json::quote;
use super::style::Style;

/// One difference, as a line: `step `pay`: status changed pg_status: "need_approve" → "ok"`.
pub fn drift_line(drift: &Drift) -> String {
    let show = |v: &Option<String>| {
        v.as_deref()
            .map_or("(absent)".to_owned(), |v| format!("{v:?}"))
    };
    let step = &drift.step;
    let kind = drift.kind;
    let path = &drift.path;
    match kind {
        DriftKind::StepNowFails => format!(
            "step `{step}`: {kind}: {}",
            drift.live.as_deref().unwrap_or("")
        ),
        DriftKind::FieldAdded => format!("step `{step}`: {kind} {path}: {}", show(&drift.live)),
        DriftKind::FieldRemoved => {
            format!(
                "step `{step}`: {kind} {path} (was {})",
                show(&drift.recorded)
            )
        }
        _ => format!(
            "step `{step}`: {kind} {path}: {} → {}",
            show(&drift.recorded),
            show(&drift.live)
        ),
    }
}

/// What became of the cassette, in words.
pub fn acceptance(acceptance: &Acceptance) -> String {
    match acceptance {
        Acceptance::Rerecorded(path) => format!("re-recorded {}", path.display()),
        Acceptance::Kept(reason) => format!("not re-recorded: {reason}"),
        Acceptance::Proposed(update) => update.to_string(),
    }
}

/// `DRIFT name` (or `SAME `, `ERROR`), then the error, the differences and the acceptance.
pub fn human(report: &CaseDrift, accepted: Option<&Acceptance>, style: Style) -> String {
    let mut out = String::new();
    let status = if report.error.is_some() {
        style.red("ERROR")
    } else if report.drifted() {
        style.yellow("DRIFT")
    } else {
        style.green("SAME ")
    };
    out.push_str(&format!("{status} {}\n", report.name));
    if let Some(error) = &report.error {
        out.push_str(&format!("    {error}\n"));
    }
    for drift in &report.drifts {
        out.push_str(&format!("    {}\n", drift_line(drift)));
    }
    if let Some(accepted) = accepted {
        out.push_str(&format!("    {}\n", acceptance(accepted)));
    }
    out
}

/// `N of M cases drifted` and a table of differences by kind.
pub fn summary(reports: &[CaseDrift], style: Style) -> String {
    let drifted = reports.iter().filter(|r| r.drifted()).count();
    let mut out = format!("\n{drifted} of {} cases drifted\n", reports.len());
    let counts = drift::summary(reports);
    if !counts.is_empty() {
        out.push_str("\n| kind | differences |\n|---|---|\n");
        for (kind, count) in counts {
            out.push_str(&format!("| {} | {count} |\n", style.bold(kind.name())));
        }
    }
    out
}

/// One JSON line for a case's drift.
pub fn json(report: &CaseDrift) -> String {
    let drifts: Vec<String> = report
        .drifts
        .iter()
        .map(|d| {
            format!(
                "{{\"step\":{},\"kind\":{},\"path\":{},\"recorded\":{},\"live\":{}}}",
                quote(&d.step),
                quote(d.kind.name()),
                quote(&d.path),
                d.recorded.as_deref().map_or("null".to_owned(), quote),
                d.live.as_deref().map_or("null".to_owned(), quote),
            )
        })
        .collect();
    format!(
        "{{\"type\":\"drift\",\"name\":{},\"cassette\":{},\"drifted\":{},\"error\":{},\"drifts\":[{}]}}",
        quote(&report.name),
        quote(&report.cassette.display().to_string()),
        report.drifted(),
        report.error.as_deref().map_or("null".to_owned(), quote),
        drifts.join(",")
    )
}

/// The failure message of a drift-mode `cargo test` trial: the error, or every difference.
pub fn trial_message(report: &CaseDrift) -> String {
    match &report.error {
        Some(error) => error.clone(),
        None => {
            let lines: Vec<String> = report
                .drifts
                .iter()
                .map(|d| format!("  {}", drift_line(d)))
                .collect();
            format!(
                "the gateway answers differently than recorded in {}:\n{}",
                report.cassette.display(),
                lines.join("\n")
            )
        }
    }
}

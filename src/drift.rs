//! Drift: what the gateway answers differently since a case was recorded.
//!
//! A drift check runs a case live and compares each step's final answer with the recorded
//! one, semantically (see [`crate::check`]). Volatile fields — salts, signatures, payment and
//! order ids, dates, redirect URLs — are ignored by default; a volatile value that changed is
//! also substituted back wherever else the live answer quotes it (an error description naming
//! the payment id), so only real changes remain. Differences are classified:
//!
//! | kind | meaning |
//! |---|---|
//! | `status changed` | `pg_status` or `pg_payment_status` has another value |
//! | `field added` / `field removed` | an element appeared or disappeared |
//! | `value changed` | an element has another value |
//! | `type changed` | a number became text, or text a number |
//! | `step now fails` | no answer, not XML, a bad signature, or the step did not run |
//!
//! The same comparison serves `fph diff-recordings OLD NEW` (two sets of cassettes).
//!
//! This module only compares: its inputs are cassettes and [`LiveRun`]s, plain data that the
//! layer above builds from a run (`crate::run`), and its outputs are [`Drift`]s that
//! reporters render (`crate::report::drift`). It runs nothing and prints nothing.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::check::{CompareOptions, DifferenceKind, compare};
use crate::gateway::{Document, Fields};
use crate::transport::Direction;
use crate::transport::cassette::{Cassette, Interaction};

/// How an answer drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DriftKind {
    StatusChanged,
    FieldAdded,
    FieldRemoved,
    ValueChanged,
    TypeChanged,
    StepNowFails,
}

impl DriftKind {
    pub const ALL: [DriftKind; 6] = [
        DriftKind::StatusChanged,
        DriftKind::FieldAdded,
        DriftKind::FieldRemoved,
        DriftKind::ValueChanged,
        DriftKind::TypeChanged,
        DriftKind::StepNowFails,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DriftKind::StatusChanged => "status changed",
            DriftKind::FieldAdded => "field added",
            DriftKind::FieldRemoved => "field removed",
            DriftKind::ValueChanged => "value changed",
            DriftKind::TypeChanged => "type changed",
            DriftKind::StepNowFails => "step now fails",
        }
    }
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One difference in one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub step: String,
    pub kind: DriftKind,
    /// The element path, or empty for a whole-step failure.
    pub path: String,
    pub recorded: Option<String>,
    pub live: Option<String>,
}

/// What became of a drifted case's cassette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// `--accept`: the cassette was re-recorded from the live run.
    Rerecorded(PathBuf),
    /// Left as it was, and why (the gateway did not answer properly, writing failed).
    Kept(String),
    /// Offered to the review workflow as `<cassette>.new` (or not, as the update policy says).
    Proposed(crate::review::UpdateOutcome),
}

/// The drift of one case.
#[derive(Debug, Clone)]
pub struct CaseDrift {
    /// `scenario::case`.
    pub name: String,
    pub cassette: PathBuf,
    pub drifts: Vec<Drift>,
    /// The comparison could not be made (no cassette, an unreadable one).
    pub error: Option<String>,
    /// True when `error` is bad input (an unreadable cassette).
    pub bad_input: bool,
}

impl CaseDrift {
    pub fn drifted(&self) -> bool {
        !self.drifts.is_empty()
    }
}

/// A live run of one case, as drift compares it with the case's cassette.
#[derive(Debug, Clone, Default)]
pub struct LiveRun {
    /// The steps that ran, in order.
    pub steps: Vec<LiveStep>,
    /// Generated values (order ids, salts) by key, as the run made them.
    pub generated: Vec<(String, String)>,
}

/// One step of a live run.
#[derive(Debug, Clone)]
pub struct LiveStep {
    pub id: String,
    /// The final answer's body, redacted as a cassette's is; or why the gateway gave no
    /// answer worth comparing (no answer, not HTTP 200, not XML, a bad signature).
    pub answer: Result<String, String>,
}

/// Compares a live run with the case's cassette.
pub fn compare_live(live: &LiveRun, cassette: &Cassette, ignore: &[String]) -> Vec<Drift> {
    // Generated values (order ids, salts) differ on every run; where an answer quotes one, the
    // recorded value is put back before comparing.
    let generated: Vec<(String, String)> = live
        .generated
        .iter()
        .filter_map(|(key, value)| Some((value.clone(), cassette.bindings.get(key)?.to_owned())))
        .collect();
    let mut drifts = Vec::new();
    for step_id in step_ids(cassette) {
        let recorded =
            last_interaction(cassette, &step_id).expect("step ids come from the cassette");
        let live_step = live.steps.iter().find(|s| s.id == step_id);
        let Some(live_step) = live_step else {
            drifts.push(step_fails(
                &step_id,
                "the step did not run: an earlier step failed",
            ));
            // Later steps cannot run either; one line says it.
            break;
        };
        let live_body = match &live_step.answer {
            Ok(body) => body,
            Err(reason) => {
                drifts.push(step_fails(&step_id, reason));
                break;
            }
        };
        drifts.extend(compare_bodies(
            &step_id,
            &gateway_said(recorded),
            live_body,
            ignore,
            &generated,
        ));
    }
    drifts
}

/// What the gateway said in an interaction: its answer to a call, or — for a callback it
/// sent — the callback's fields, as a `<response>` of them ([`callback_body`]). The reply to a
/// callback is the scenario's, not the gateway's: drift never compares it.
fn gateway_said(interaction: &Interaction) -> std::borrow::Cow<'_, str> {
    match interaction.direction {
        Direction::Outgoing => std::borrow::Cow::Borrowed(&interaction.response.body),
        Direction::Incoming => match Fields::from_form_pairs(interaction.request.fields.iter()) {
            Ok(fields) => std::borrow::Cow::Owned(callback_body(&fields)),
            Err(_) => std::borrow::Cow::Borrowed(""),
        },
    }
}

/// A callback's fields as drift compares them: one XML document, like an answer.
pub fn callback_body(fields: &Fields) -> String {
    Document::response(fields).pretty()
}

/// Compares two cassettes of the same case (`fph diff-recordings`).
pub fn compare_cassettes(old: &Cassette, new: &Cassette, ignore: &[String]) -> Vec<Drift> {
    let mut drifts = Vec::new();
    for step_id in step_ids(old) {
        let recorded = last_interaction(old, &step_id).expect("step ids come from the cassette");
        match last_interaction(new, &step_id) {
            Some(now) => {
                let generated: Vec<(String, String)> = new
                    .bindings
                    .iter()
                    .filter_map(|(key, value)| {
                        Some((value.to_owned(), old.bindings.get(key)?.to_owned()))
                    })
                    .collect();
                drifts.extend(compare_bodies(
                    &step_id,
                    &gateway_said(recorded),
                    &gateway_said(now),
                    ignore,
                    &generated,
                ));
            }
            None => drifts.push(step_fails(&step_id, "the new recording has no such step")),
        }
    }
    drifts
}

/// Step ids of a cassette in first-seen order.
fn step_ids(cassette: &Cassette) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for interaction in &cassette.interactions {
        if !ids.contains(&interaction.step) {
            ids.push(interaction.step.clone());
        }
    }
    ids
}

fn last_interaction<'a>(cassette: &'a Cassette, step: &str) -> Option<&'a Interaction> {
    cassette
        .interactions
        .iter()
        .filter(|i| i.step == step)
        .max_by_key(|i| i.attempt)
}

fn step_fails(step: &str, why: &str) -> Drift {
    Drift {
        step: step.to_owned(),
        kind: DriftKind::StepNowFails,
        path: String::new(),
        recorded: None,
        live: Some(why.to_owned()),
    }
}

/// `substitutions`: (live value, recorded value) pairs to put back in the live body first.
fn compare_bodies(
    step: &str,
    recorded: &str,
    live: &str,
    ignore: &[String],
    substitutions: &[(String, String)],
) -> Vec<Drift> {
    let recorded_doc = match Document::parse_response_str(recorded) {
        Ok(doc) => doc,
        // A recorded non-XML answer compares as text.
        Err(_) if recorded == live => return Vec::new(),
        Err(_) => {
            return vec![step_fails(
                step,
                "the recorded answer is not XML and the live one differs",
            )];
        }
    };
    let live_doc = match Document::parse_response_str(live) {
        Ok(doc) => doc,
        Err(error) => return vec![step_fails(step, &error.to_string())],
    };
    // Volatile values that changed are put back where the live answer quotes them elsewhere.
    let mut substituted = live.to_owned();
    for (now, then) in substitutions {
        if now != then && now.len() >= 4 {
            substituted = substituted.replace(now.as_str(), then);
        }
    }
    for path in ignore {
        if let (Some(old), Some(new)) = (recorded_doc.text(path), live_doc.text(path))
            && old != new
            && new.len() >= 4
        {
            substituted = substituted.replace(new, old);
        }
    }
    let live_doc = Document::parse_response_str(&substituted).unwrap_or(live_doc);
    compare(
        &recorded_doc,
        &live_doc,
        &CompareOptions::ignoring(ignore.iter().cloned()),
    )
    .into_iter()
    .map(|d| {
        let is_status = matches!(d.path.as_str(), "pg_status" | "pg_payment_status");
        let kind = match d.kind {
            _ if is_status && d.expected.is_some() && d.actual.is_some() => {
                DriftKind::StatusChanged
            }
            DifferenceKind::Added => DriftKind::FieldAdded,
            DifferenceKind::Removed => DriftKind::FieldRemoved,
            DifferenceKind::Changed => DriftKind::ValueChanged,
            DifferenceKind::TypeChanged => DriftKind::TypeChanged,
        };
        Drift {
            step: step.to_owned(),
            kind,
            path: d.path,
            recorded: d.expected,
            live: d.actual,
        }
    })
    .collect()
}

/// `kind: count` pairs over every case, in the order of [`DriftKind::ALL`], zeros left out.
pub fn summary(cases: &[CaseDrift]) -> Vec<(DriftKind, usize)> {
    DriftKind::ALL
        .into_iter()
        .map(|kind| {
            let count = cases
                .iter()
                .flat_map(|c| &c.drifts)
                .filter(|d| d.kind == kind)
                .count();
            (kind, count)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// Compares two recordings directories cassette by cassette (`fph diff-recordings`): each
/// cassette of `old` with the one at the same place in `new`, then those only `new` has.
pub fn compare_trees(
    old_dir: &Path,
    new_dir: &Path,
    ignore: &[String],
) -> Result<Vec<CaseDrift>, TreeError> {
    let read = |dir: &Path| {
        cassettes_under(dir).map_err(|source| TreeError {
            dir: dir.to_owned(),
            source,
        })
    };
    let (old, new) = (read(old_dir)?, read(new_dir)?);
    let name = |relative: &Path| {
        relative
            .with_extension("")
            .display()
            .to_string()
            .replacen('/', "::", 1)
    };
    let mut reports = Vec::new();
    for (relative, old_path) in &old {
        let mut report = CaseDrift {
            name: name(relative),
            cassette: old_path.clone(),
            drifts: Vec::new(),
            error: None,
            bad_input: false,
        };
        let new_path = new_dir.join(relative);
        match (Cassette::load(old_path), Cassette::load(&new_path)) {
            (Ok(before), Ok(after)) => report.drifts = compare_cassettes(&before, &after, ignore),
            (Err(error), _) | (_, Err(error)) if new_path.exists() => {
                report.error = Some(error.to_string());
                report.bad_input = true;
            }
            _ => {
                report.error = Some(format!(
                    "{} has no {}",
                    new_dir.display(),
                    relative.display()
                ))
            }
        }
        reports.push(report);
    }
    for (relative, _) in new.iter().filter(|(r, _)| !old.iter().any(|(o, _)| o == r)) {
        reports.push(CaseDrift {
            name: name(relative),
            cassette: new_dir.join(relative),
            drifts: Vec::new(),
            error: Some(format!("new in {}", new_dir.display())),
            bad_input: false,
        });
    }
    Ok(reports)
}

/// A recordings directory that could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("failed to read {}: {source}", dir.display())]
pub struct TreeError {
    pub dir: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Every cassette below a recordings directory, as (`scenario/case.yaml` relative path, path).
pub fn cassettes_under(dir: &Path) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut found = Vec::new();
    for scenario in std::fs::read_dir(dir)? {
        let scenario = scenario?.path();
        if !scenario.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&scenario)? {
            let file = file?.path();
            // Cassette names never start with a dot: those are temporary or foreign files.
            let hidden = file
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden && file.extension().is_some_and(|e| e == "yaml") {
                let relative = file.strip_prefix(dir).unwrap_or(&file).to_owned();
                found.push((relative, file));
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore() -> Vec<String> {
        crate::gateway::VOLATILE_FIELDS
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn kinds(recorded: &str, live: &str) -> Vec<(DriftKind, String)> {
        compare_bodies(
            "s",
            recorded,
            live,
            &ignore(),
            &[("ord-9".into(), "ord-1".into())],
        )
        .into_iter()
        .map(|d| (d.kind, d.path))
        .collect()
    }

    const BASE: &str = "<response><pg_status>ok</pg_status><pg_payment_id>1111</pg_payment_id><pg_amount>150</pg_amount><pg_error_description>payment 1111 is fine</pg_error_description><pg_salt>a</pg_salt></response>";

    #[test]
    fn volatile_values_are_ignored_and_substituted() {
        let live = BASE.replace("1111", "2222").replace(">a<", ">b<");
        assert!(kinds(BASE, &live).is_empty());
        let quoting = BASE.replace("is fine", "of ord-1 is fine");
        assert!(kinds(&quoting, &quoting.replace("ord-1", "ord-9")).is_empty());
    }

    #[test]
    fn each_kind_of_change_is_classified() {
        assert_eq!(
            kinds(BASE, &BASE.replace(">ok<", ">error<")),
            [(DriftKind::StatusChanged, "pg_status".into())]
        );
        assert_eq!(
            kinds(
                BASE,
                &BASE.replace("<pg_salt>", "<pg_new>x</pg_new><pg_salt>")
            ),
            [(DriftKind::FieldAdded, "pg_new".into())]
        );
        assert_eq!(
            kinds(BASE, &BASE.replace("<pg_amount>150</pg_amount>", "")),
            [(DriftKind::FieldRemoved, "pg_amount".into())]
        );
        assert_eq!(
            kinds(BASE, &BASE.replace(">150<", ">151<")),
            [(DriftKind::ValueChanged, "pg_amount".into())]
        );
        assert_eq!(
            kinds(BASE, &BASE.replace(">150<", ">n/a<")),
            [(DriftKind::TypeChanged, "pg_amount".into())]
        );
        assert_eq!(
            kinds(BASE, "<html>502</html>")[0].0,
            DriftKind::StepNowFails
        );
    }
}

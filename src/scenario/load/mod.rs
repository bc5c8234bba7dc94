//! Reading scenario files: YAML → raw serde types → validated [`Scenario`], in one step, with
//! one diagnostic per file pointing at the first offending value.
//!
//! Beyond YAML syntax and types (serde-saphyr's errors, located), the loader refuses: unknown
//! keys (with a did-you-mean hint), unknown calls, duplicate step ids, `poll` on a call that is
//! not idempotent, `capture` of a field the call never returns, regexes that do not compile,
//! matrix rows with different columns, templates that do not parse, and template variables
//! that no var, matrix column, earlier capture or built-in defines — so a typo fails in
//! `fph lint` and not halfway through a recording session that moves test money.
//!
//! [`load_paths`] takes files and directories (one level deep, `*.yaml` and `*.yml`, skipping
//! `harness.yaml`), sorted by path, and keeps going after a bad file so `fph lint` reports
//! every broken file at once.
//!
//! The loader is split by what it reads: `files` finds and reads scenario files, `matrix`
//! turns `vars` and `matrix` into cases, `steps` reads steps (calls, polls, captures,
//! expected bodies), `matchers` reads `expect` matchers, and `templates` checks every
//! templated value against the variables in scope. This module holds the [`Loader`] they all
//! extend and the walk over one scenario.

mod files;
mod matchers;
mod matrix;
mod steps;
mod templates;
#[cfg(test)]
mod tests;

pub use files::{load_file, load_paths, load_str, scenario_files};
pub(crate) use matchers::regex_problem;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::Spanned;

use crate::gateway::Encoding;
use crate::template::BUILTIN_VARIABLES;
use crate::utc::parse_duration;

use super::diagnostic::{ErrorKind, ScenarioError, Span, did_you_mean};
use super::model::{Scenario, Step};
use super::raw::RawScenario;
use templates::Scope;

/// Characters that cannot be part of a case name: it names a cassette file on every OS.
const NOT_IN_FILE_NAMES: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// Turns raw values into model values, with diagnostics pointing into one YAML source.
pub(crate) struct Loader<'a> {
    pub(crate) file: &'a Path,
    pub(crate) source: &'a Arc<str>,
}

impl Loader<'_> {
    pub(crate) fn span<T>(&self, value: &Spanned<T>) -> Span {
        Span::from_location(&value.referenced, self.source)
    }

    pub(crate) fn error(
        &self,
        kind: ErrorKind,
        title: impl Into<String>,
        span: Span,
    ) -> ScenarioError {
        ScenarioError::new(kind, title, self.file, Some(self.source), span)
    }

    fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        if let Some(format) = &raw.format
            && format.value != 1
        {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("unsupported scenario format {}", format.value),
                    self.span(format),
                )
                .with_label("this version")
                .with_help("this fph reads scenario format 1"));
        }
        if raw.name.value.trim().is_empty() {
            return Err(self
                .error(ErrorKind::InvalidValue, "the scenario name is empty", self.span(&raw.name))
                .with_help("name the scenario for reports, e.g. `name: Kcell payment confirmed by SMS code`"));
        }

        let mut vars = Vec::with_capacity(raw.vars.0.len());
        for (name, value) in &raw.vars.0 {
            self.check_name(name, "variable")?;
            self.check_literal(value, "vars")?;
            vars.push((name.value.clone(), value.value.clone()));
        }
        let (mut cases, columns) = self.cases(&raw, &vars)?;
        if let Some(encoding) = &raw.encoding {
            for (index, case) in cases.iter_mut().enumerate() {
                let row = raw.matrix.as_ref().and_then(|m| m.value.get(index));
                case.encoding = Some(self.case_encoding(encoding, case, row)?);
            }
        }

        if raw.steps.value.is_empty() {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    "the scenario has no steps",
                    self.span(&raw.steps),
                )
                .with_help("add at least one step: `- id: init` with `call: init`"));
        }
        let mut scope = Scope {
            defined: BUILTIN_VARIABLES
                .iter()
                .map(|s| s.to_string())
                .chain(vars.iter().map(|(name, _)| name.clone()))
                .chain(columns)
                .collect(),
            captured_by: raw
                .steps
                .value
                .iter()
                .flat_map(|step| {
                    step.value
                        .capture
                        .0
                        .iter()
                        .map(|(var, _)| (var.value.clone(), step.value.id.value.clone()))
                })
                .collect(),
        };
        let mut steps: Vec<Step> = Vec::with_capacity(raw.steps.value.len());
        let mut ids: HashMap<String, Span> = HashMap::new();
        for step in &raw.steps.value {
            let step = self.step(&step.value, &scope, &mut ids)?;
            scope
                .defined
                .extend(step.capture.iter().map(|c| c.variable.clone()));
            steps.push(step);
        }

        let stem = self.stem()?;
        Ok(Scenario {
            name: raw.name.value,
            file: self.file.to_owned(),
            stem,
            tags: raw.tags.into_iter().map(|t| t.value).collect(),
            vars,
            cases,
            steps,
            source: Arc::clone(self.source),
        })
    }

    /// The file stem, which names the scenario's recordings directory
    /// (`recordings/<stem>/`): it must be one plain name, so nothing is written outside
    /// `recordings/` (a file `...yaml` has the stem `..`).
    fn stem(&self) -> Result<String, ScenarioError> {
        let stem = self
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let plain = !stem.is_empty()
            && !stem.starts_with('.')
            && !stem
                .chars()
                .any(|c| NOT_IN_FILE_NAMES.contains(&c) || c.is_control());
        if plain {
            return Ok(stem);
        }
        Err(self
            .error(
                ErrorKind::InvalidValue,
                format!(
                    "the file name `{}` cannot name a recordings directory",
                    self.file
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ),
                Span::at_offset(self.source, 0, 0),
            )
            .with_label("recorded under recordings/<file stem>/")
            .with_help("rename the file: a stem that is not empty, does not start with `.` and has none of / \\ : * ? \" < > |"))
    }

    /// An encoding name; `value` is the text to read (the written one, or a matrix value).
    pub(crate) fn encoding(
        &self,
        at: &Spanned<String>,
        value: &str,
    ) -> Result<Encoding, ScenarioError> {
        value.parse().map_err(|_| {
            let names = Encoding::ALL.map(Encoding::name);
            self.error(
                ErrorKind::InvalidValue,
                format!("unknown encoding `{value}`"),
                self.span(at),
            )
            .with_label("not an encoding")
            .with_help(match did_you_mean(value, names.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("encodings are {}", Encoding::names()),
            })
        })
    }

    pub(crate) fn duration(&self, raw: &Spanned<String>) -> Result<Duration, ScenarioError> {
        parse_duration(&raw.value).map_err(|_| {
            self.error(
                ErrorKind::InvalidValue,
                format!("`{}` is not a duration", raw.value),
                self.span(raw),
            )
            .with_label("expected a duration")
            .with_help("write a whole number and a unit: 250ms, 2s, 1m, 1h or 7d")
        })
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

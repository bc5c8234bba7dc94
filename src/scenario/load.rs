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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde_saphyr::Spanned;

use crate::gateway::{Encoding, Fields, Operation};
use crate::template::{self, BUILTIN_VARIABLES, FUNCTIONS, TemplateError};

use super::config::CONFIG_FILES;
use super::diagnostic::{ErrorKind, ScenarioError, Span, did_you_mean};
use super::duration::parse_duration;
use super::model::{
    Capture, Case, DEFAULT_CASE, DEFAULT_POLL_ATTEMPTS, DEFAULT_POLL_INTERVAL, ExpectBody,
    Expectation, Matcher, Number, Poll, Scenario, Step, Template, cassette_file_name, is_templated,
};
use super::raw::{
    Entries, RawCall, RawExpectBody, RawMatcher, RawMatcherRules, RawPoll, RawScalar, RawScenario,
    RawStep,
};

/// Fields every answer may carry, whatever the call: the status, the signature, and the
/// error fields of a failed call.
const ALWAYS_RETURNED: [&str; 5] = [
    "pg_status",
    "pg_salt",
    "pg_sig",
    "pg_error_code",
    "pg_error_description",
];

/// The compiled regex for `pattern`, shared by every scenario of the process that uses the
/// same pattern: a compiled regex and the search caches it grows on first use take tens of
/// kilobytes, and a large suite repeats the same few patterns (`^\d+$`) in every file.
/// Bounded by the number of distinct patterns, which the scenario files fix.
fn shared_regex(pattern: &str) -> Result<Arc<Regex>, regex::Error> {
    static COMPILED: std::sync::Mutex<Option<HashMap<String, Arc<Regex>>>> =
        std::sync::Mutex::new(None);
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    let compiled = compiled.get_or_insert_with(HashMap::new);
    if let Some(regex) = compiled.get(pattern) {
        return Ok(Arc::clone(regex));
    }
    let regex = Arc::new(Regex::new(pattern)?);
    compiled.insert(pattern.to_owned(), Arc::clone(&regex));
    Ok(regex)
}

/// Reads and validates one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = crate::text_file::read(path).map_err(|error| {
        if error.not_found {
            ScenarioError::io(path, "scenario", &std::io::ErrorKind::NotFound.into())
        } else {
            ScenarioError::text_file(&error, "scenario")
        }
    })?;
    load_str(path, &text)
}

/// Validates scenario YAML that claims to come from `path` (used for diagnostics, the stem,
/// and resolving `expect_body` files). The file itself is not read.
pub fn load_str(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let source: Arc<str> = Arc::from(text);
    let raw: RawScenario = serde_saphyr::from_str(&source)
        .map_err(|error| ScenarioError::from_yaml(&error, path, &source, &[]))?;
    Loader {
        file: path,
        source: &source,
    }
    .scenario(raw)
}

/// Loads every scenario under `paths` (files, or directories read one level deep for
/// `*.yaml`/`*.yml` other than `harness.yaml`), sorted by path. Bad files become errors and
/// the rest still load.
pub fn load_paths(paths: &[PathBuf]) -> (Vec<Scenario>, Vec<ScenarioError>) {
    let (files, mut errors) = scenario_files(paths);
    let mut scenarios: Vec<Scenario> = Vec::with_capacity(files.len());
    for file in files {
        match load_file(&file) {
            Ok(scenario) => {
                if let Some(first) = scenarios.iter().find(|s| s.stem == scenario.stem) {
                    errors.push(
                        ScenarioError::new(
                            ErrorKind::DuplicateScenario,
                            format!(
                                "scenario `{}` has the same file stem as {}",
                                scenario.stem,
                                first.file.display()
                            ),
                            &scenario.file,
                            None,
                            Span::UNKNOWN,
                        )
                        .with_help(format!(
                            "recordings are kept per file stem (recordings/{}/); rename one of the files",
                            scenario.stem
                        )),
                    );
                } else {
                    scenarios.push(scenario);
                }
            }
            Err(error) => errors.push(error),
        }
    }
    (scenarios, errors)
}

/// The scenario files under `paths`, sorted, and errors for paths that cannot be read.
pub fn scenario_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<ScenarioError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(error) => {
                    errors.push(ScenarioError::io(path, "scenario directory", &error));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let file = entry.path();
                // Anything named like a scenario but a directory is read, so a FIFO, a
                // dangling link or a link loop is reported rather than skipped.
                if is_scenario_file(&file) && !file.is_dir() {
                    files.push(file);
                }
            }
        } else if std::fs::symlink_metadata(path).is_ok() {
            if !is_config_file(path) {
                files.push(path.clone());
            }
        } else {
            errors.push(ScenarioError::io(
                path,
                "scenario",
                &std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn is_scenario_file(path: &Path) -> bool {
    let yaml = path
        .extension()
        .is_some_and(|ext| ext == "yaml" || ext == "yml");
    yaml && !is_config_file(path)
}

fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| CONFIG_FILES.contains(&name))
}

/// Characters that cannot be part of a case name: it names a cassette file on every OS.
const NOT_IN_FILE_NAMES: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// The variables a template may use at one point of the scenario.
struct Scope {
    defined: HashSet<String>,
    /// Every capture of the scenario and the step that makes it, to explain a variable used
    /// before the step that captures it.
    captured_by: HashMap<String, String>,
}

impl Scope {
    fn is_defined(&self, name: &str) -> bool {
        self.defined.contains(name)
    }
}

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

    /// A name templates refer to: an identifier that is neither a built-in nor a function.
    pub(crate) fn check_name(
        &self,
        name: &Spanned<String>,
        what: &str,
    ) -> Result<(), ScenarioError> {
        let text = name.value.as_str();
        let identifier = crate::template::is_identifier(text) && !text.starts_with("__");
        if !identifier {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{text}` cannot be a {what} name"),
                    self.span(name),
                )
                .with_label("not an identifier")
                .with_help(format!(
                    "templates refer to it as `{{{{ name }}}}`: use letters, digits and `_`, e.g. `{}`",
                    text.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                        .trim_start_matches('_')
                )));
        }
        if BUILTIN_VARIABLES.contains(&text) {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{text}` is a built-in variable"),
                    self.span(name),
                )
                .with_label(format!("this {what} would hide it"))
                .with_help(format!(
                    "the built-ins are {}; pick another name",
                    BUILTIN_VARIABLES.join(", ")
                )));
        }
        if FUNCTIONS.contains(&text) {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{text}` is a template function"),
                    self.span(name),
                )
                .with_label(format!("this {what} would hide `{text}()`"))
                .with_help("pick another name"));
        }
        Ok(())
    }

    /// `vars` and matrix values are taken as written; template syntax there would be sent to
    /// the gateway verbatim, which is never what was meant.
    fn check_literal(&self, value: &Spanned<String>, section: &str) -> Result<(), ScenarioError> {
        if is_templated(&value.value) {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{section}` values are not templates"),
                    self.span(value),
                )
                .with_label("this would be sent as written")
                .with_help("use the template in the step's `form:` instead, e.g. `pg_order_id: \"{{ order_id() }}\"`"));
        }
        Ok(())
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

    /// The scenario's `encoding:` for one case: a name, or `{{ name }}` of a var or matrix
    /// column (a matrix over encodings).
    fn case_encoding(
        &self,
        raw: &Spanned<String>,
        case: &Case,
        row: Option<&Spanned<Entries<String>>>,
    ) -> Result<Encoding, ScenarioError> {
        let text = raw.value.trim();
        if !is_templated(text) {
            return self.encoding(raw, text);
        }
        let name = text
            .strip_prefix("{{")
            .and_then(|t| t.strip_suffix("}}"))
            .map(str::trim)
            .filter(|name| template::is_identifier(name));
        let Some(name) = name else {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    "`encoding` takes a name or one variable",
                    self.span(raw),
                )
                .with_label("not an encoding")
                .with_help(format!(
                    "write one of {}, or `\"{{{{ encoding }}}}\"` with a matrix column `encoding`",
                    Encoding::names()
                )));
        };
        let Some((_, value)) = case.bindings.iter().find(|(var, _)| var == name) else {
            return Err(self
                .error(
                    ErrorKind::UndefinedVariable,
                    format!("`{name}` is not defined"),
                    self.span(raw),
                )
                .with_label("no var or matrix column has this name")
                .with_help("define it under `vars:` or as a matrix column"));
        };
        // Point at the matrix value when the row sets it: that is what to correct.
        let cell = row.and_then(|row| row.value.0.iter().find(|(key, _)| key.value == name));
        match cell {
            Some((_, cell)) => self
                .encoding(cell, value)
                .map_err(|e| e.with_secondary(self.span(raw), "the scenario's encoding")),
            None => self.encoding(raw, value),
        }
    }

    /// The cases (one per matrix row, or `default`) and the matrix's column names.
    fn cases(
        &self,
        raw: &RawScenario,
        vars: &[(String, String)],
    ) -> Result<(Vec<Case>, Vec<String>), ScenarioError> {
        let Some(matrix) = &raw.matrix else {
            let case = Case {
                name: DEFAULT_CASE.to_owned(),
                bindings: vars.to_vec(),
                encoding: None,
                span: Span::UNKNOWN,
            };
            return Ok((vec![case], Vec::new()));
        };
        let rows = &matrix.value;
        let Some(first) = rows.first() else {
            return Err(self
                .error(ErrorKind::Matrix, "the matrix has no rows", self.span(matrix))
                .with_help("remove `matrix:` for a single case, or add rows like `- { operator: KCELLKZT }`"));
        };
        let columns: Vec<&str> = first
            .value
            .0
            .iter()
            .map(|(k, _)| k.value.as_str())
            .collect();
        if columns.is_empty() {
            return Err(self
                .error(ErrorKind::Matrix, "matrix row 1 has no columns", self.span(first))
                .with_help("a row binds variables, e.g. `- { operator: KCELLKZT, phone: \"77017777777\" }`"));
        }
        for (name, _) in &first.value.0 {
            self.check_name(name, "matrix column")?;
        }
        for (index, row) in rows.iter().enumerate() {
            let keys: Vec<&str> = row.value.0.iter().map(|(k, _)| k.value.as_str()).collect();
            let missing: Vec<&str> = columns
                .iter()
                .copied()
                .filter(|c| !keys.contains(c))
                .collect();
            let extra: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| !columns.contains(k))
                .collect();
            if !missing.is_empty() || !extra.is_empty() {
                let mut differences = Vec::new();
                if !missing.is_empty() {
                    differences.push(format!("lacks {}", quoted_list(&missing)));
                }
                if !extra.is_empty() {
                    differences.push(format!("has an extra {}", quoted_list(&extra)));
                }
                // Point at the stray key when there is one: usually a misspelt column.
                let stray = row
                    .value
                    .0
                    .iter()
                    .find(|(k, _)| extra.contains(&k.value.as_str()));
                let at = stray.map_or(self.span(row), |(key, _)| self.span(key));
                let typo = stray
                    .and_then(|(key, _)| did_you_mean(&key.value, missing.iter().copied()))
                    .map(|best| format!("did you mean `{best}`? "))
                    .unwrap_or_default();
                return Err(self
                    .error(
                        ErrorKind::Matrix,
                        format!("matrix row {} has different columns from row 1", index + 1),
                        at,
                    )
                    .with_label(format!("this row {}", differences.join(" and ")))
                    .with_secondary(self.span(first), "row 1")
                    .with_help(format!(
                        "{typo}every row binds the same variables ({}); put a shared value in `vars:`",
                        columns.join(", ")
                    )));
            }
            for (_, value) in &row.value.0 {
                self.check_literal(value, "matrix")?;
            }
        }

        let value_of = |row: &Entries<String>, column: &str| -> String {
            row.0
                .iter()
                .find(|(k, _)| k.value == column)
                .map(|(_, v)| v.value.clone())
                .unwrap_or_default()
        };
        // Name cases by the columns that tell rows apart; constant columns only add noise.
        let varying: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|column| {
                let first_value = value_of(&first.value, column);
                rows.iter()
                    .any(|row| value_of(&row.value, column) != first_value)
            })
            .collect();
        let naming = if varying.is_empty() {
            columns.clone()
        } else {
            varying
        };

        let mut cases: Vec<Case> = Vec::with_capacity(rows.len());
        // Each case's cassette file name and the row that has it.
        let mut files: HashMap<String, usize> = HashMap::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            for (key, value) in &row.value.0 {
                if naming.contains(&key.value.as_str())
                    && value
                        .value
                        .chars()
                        .any(|c| NOT_IN_FILE_NAMES.contains(&c) || c.is_control())
                {
                    return Err(self
                        .error(
                            ErrorKind::Matrix,
                            format!(
                                "`{}` cannot be part of a case name",
                                value.value.escape_debug()
                            ),
                            self.span(value),
                        )
                        .with_label("names the case and its cassette file")
                        .with_help(format!(
                            "case names are file names: avoid {} and control characters",
                            NOT_IN_FILE_NAMES.iter().collect::<String>()
                        )));
                }
            }
            let name = naming
                .iter()
                .map(|column| format!("{column}={}", value_of(&row.value, column)))
                .collect::<Vec<_>>()
                .join(",");
            if let Some(same) = cases.iter().position(|case| case.name == name) {
                return Err(self
                    .error(
                        ErrorKind::Matrix,
                        format!("matrix rows {} and {} are identical", same + 1, index + 1),
                        self.span(row),
                    )
                    .with_label("the same values again")
                    .with_secondary(cases[same].span, format!("row {}", same + 1))
                    .with_help("remove the repeated row"));
            }
            // Two names, one file: the second recording would overwrite the first.
            let file_name = cassette_file_name(&name);
            if let Some(&same) = files.get(&file_name) {
                return Err(self
                    .error(
                        ErrorKind::Matrix,
                        format!(
                            "matrix rows {} and {} would share one cassette file, `{file_name}.yaml`",
                            same + 1,
                            index + 1
                        ),
                        self.span(row),
                    )
                    .with_label(format!("case `{name}`"))
                    .with_secondary(cases[same].span, format!("case `{}`", cases[same].name))
                    .with_help("case names become file names with characters other than letters, digits, `.`, `-`, `_`, `=` and `,` turned into `_`; make the rows differ in those"));
            }
            files.insert(file_name, index);
            let mut bindings: Vec<(String, String)> = vars
                .iter()
                .map(|(name, value)| {
                    let value = if columns.contains(&name.as_str()) {
                        value_of(&row.value, name)
                    } else {
                        value.clone()
                    };
                    (name.clone(), value)
                })
                .collect();
            for (key, value) in &row.value.0 {
                if !vars.iter().any(|(name, _)| *name == key.value) {
                    bindings.push((key.value.clone(), value.value.clone()));
                }
            }
            cases.push(Case {
                name,
                bindings,
                encoding: None,
                span: self.span(row),
            });
        }
        Ok((cases, columns.into_iter().map(str::to_owned).collect()))
    }

    fn step(
        &self,
        raw: &RawStep,
        scope: &Scope,
        ids: &mut HashMap<String, Span>,
    ) -> Result<Step, ScenarioError> {
        let id_span = self.span(&raw.id);
        let id = raw.id.value.clone();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(self
                .error(ErrorKind::InvalidValue, format!("`{id}` cannot be a step id"), id_span)
                .with_label("not a step id")
                .with_help("step ids key recorded interactions: use letters, digits, `_` and `-`, e.g. `init`, `pay-2`"));
        }
        if let Some(first) = ids.get(&id) {
            return Err(self
                .error(ErrorKind::DuplicateStepId, format!("duplicate step id `{id}`"), id_span)
                .with_label("used again here")
                .with_secondary(*first, "first used here")
                .with_help(format!(
                    "step ids key the recorded interactions and must be unique; rename this one, e.g. `{id}-2`"
                )));
        }
        ids.insert(id.clone(), id_span);

        let call = self.call(&raw.call)?;

        let mut form = Vec::with_capacity(raw.form.0.len());
        let mut form_shape = Fields::new();
        for (name, value) in &raw.form.0 {
            if let Err(error) = form_shape.insert_form_key(&name.value, "") {
                return Err(self
                    .error(ErrorKind::InvalidValue, error.to_string(), self.span(name))
                    .with_label("this form key")
                    .with_help("nested fields are written `name[key][key]`, e.g. `pg_receipt_positions[0][count]`"));
            }
            form.push((name.value.clone(), self.template(value, scope)?));
        }

        let poll = match &raw.poll {
            Some(poll) => Some(self.poll(poll, &raw.call, &call, scope)?),
            None => None,
        };

        let expect = self.expectations(&raw.expect, scope)?;

        let expect_body = match &raw.expect_body {
            Some(body) => Some(self.expect_body(body)?),
            None => None,
        };

        let mut capture = Vec::with_capacity(raw.capture.0.len());
        for (var, path) in &raw.capture.0 {
            self.check_name(var, "capture")?;
            self.check_capture(&call, path)?;
            capture.push(Capture {
                variable: var.value.clone(),
                path: path.value.clone(),
                span: self.span(path),
            });
        }

        let encoding = match &raw.encoding {
            Some(encoding) => Some(self.encoding(encoding, &encoding.value)?),
            None => None,
        };

        Ok(Step {
            id,
            call,
            form,
            expect,
            expect_body,
            capture,
            poll,
            encoding,
            span: id_span,
        })
    }

    fn call(&self, raw: &Spanned<RawCall>) -> Result<Operation, ScenarioError> {
        match &raw.value {
            RawCall::Name(name) => Operation::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Operation::NAMED.iter().map(Operation::name).collect();
                let hint = match did_you_mean(name, names.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`? "),
                    None => String::new(),
                };
                self.error(
                    ErrorKind::UnknownCall,
                    format!("unknown call `{name}`"),
                    self.span(raw),
                )
                .with_label("not a Freedom Pay call")
                .with_help(format!(
                    "{hint}calls are {}, or `{{ path: /script.php }}` for any other script",
                    names.join(", ")
                ))
            }),
            RawCall::Path(path) => {
                let text = path.value.trim();
                if !text.starts_with('/') || text.len() < 2 || text.contains(char::is_whitespace) {
                    return Err(self
                        .error(
                            ErrorKind::InvalidValue,
                            format!("`{}` is not a script path", path.value),
                            self.span(path),
                        )
                        .with_label("expected a path")
                        .with_help("write the path on the gateway host, starting with `/`, e.g. `/revoke.php`"));
                }
                Ok(Operation::Other(text.to_owned()))
            }
        }
    }

    fn poll(
        &self,
        raw: &Spanned<RawPoll>,
        raw_call: &Spanned<RawCall>,
        call: &Operation,
        scope: &Scope,
    ) -> Result<Poll, ScenarioError> {
        if !call.is_idempotent() {
            return Err(self
                .error(
                    ErrorKind::PollNotIdempotent,
                    format!("`poll` is not allowed on `{call}`"),
                    self.span(raw),
                )
                .with_label("this would repeat the call")
                .with_secondary(self.span(raw_call), "a call that is not idempotent")
                .with_help(format!(
                    "only idempotent calls (status) may be polled: repeating `{call}` could charge the payer twice; poll with a separate `status` step"
                )));
        }
        let attempts = match &raw.value.attempts {
            Some(attempts) if attempts.value == 0 => {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        "`attempts` must be at least 1",
                        self.span(attempts),
                    )
                    .with_help("the first call counts as an attempt"));
            }
            Some(attempts) => attempts.value,
            None => DEFAULT_POLL_ATTEMPTS,
        };
        let interval = match &raw.value.interval {
            Some(interval) => self.duration(interval)?,
            None => DEFAULT_POLL_INTERVAL,
        };
        if raw.value.until.value.0.is_empty() {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    "`poll.until` is empty",
                    self.span(&raw.value.until),
                )
                .with_help(
                    "say what ends the polling, e.g. `until: { pg_payment_status: success }`",
                ));
        }
        Ok(Poll {
            until: self.expectations(&raw.value.until.value, scope)?,
            attempts,
            interval,
            span: self.span(raw),
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

    fn expectations(
        &self,
        entries: &Entries<RawMatcher>,
        scope: &Scope,
    ) -> Result<Vec<Expectation>, ScenarioError> {
        let mut out = Vec::with_capacity(entries.0.len());
        for (path, matcher) in &entries.0 {
            let span = self.span(matcher);
            let path_text = path.value.trim();
            if path_text.is_empty() || path_text.split('/').any(str::is_empty) {
                return Err(self
                    .error(ErrorKind::InvalidValue, format!("`{}` is not a field path", path.value), self.span(path))
                    .with_help("name a response field, with `/` between nested elements: `pg_refund_payments/pg_refund_payment/pg_amount`"));
            }
            out.push(Expectation {
                path: path_text.to_owned(),
                matcher: self.matcher(matcher, scope)?,
                span,
            });
        }
        Ok(out)
    }

    fn matcher(&self, raw: &Spanned<RawMatcher>, scope: &Scope) -> Result<Matcher, ScenarioError> {
        let span = self.span(raw);
        let rules = match &raw.value {
            RawMatcher::Equals(RawScalar::Text(text)) => {
                let template = self.template(
                    &Spanned::new(text.clone(), raw.referenced, raw.defined),
                    scope,
                )?;
                return Ok(Matcher::Equals(template));
            }
            RawMatcher::Equals(RawScalar::Plain(lossy)) => {
                // `150.00` unquoted is read as a number; compare with the text as written.
                let written = span.text(self.source).trim();
                let text = if written.is_empty() {
                    lossy.as_str()
                } else {
                    written
                };
                return Ok(Matcher::Equals(Template::new(text, span)));
            }
            RawMatcher::Rules(rules) => rules.as_ref(),
        };
        let RawMatcherRules {
            matches,
            one_of,
            present,
            absent,
            gte,
            lte,
        } = rules;
        let given: Vec<&str> = [
            ("matches", matches.is_some()),
            ("one_of", one_of.is_some()),
            ("present", present.is_some()),
            ("absent", absent.is_some()),
            ("gte/lte", gte.is_some() || lte.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, is_given)| is_given.then_some(name))
        .collect();
        if given.len() != 1 {
            let title = if given.is_empty() {
                "the matcher is empty".to_owned()
            } else {
                format!("a matcher cannot combine {}", quoted_list(&given))
            };
            return Err(self
                .error(ErrorKind::InvalidValue, title, span)
                .with_help("a matcher is one of { matches: REGEX }, { one_of: [...] }, { present: true }, { absent: true }, { gte: N, lte: N }"));
        }
        if let Some(pattern) = matches {
            return shared_regex(&pattern.value)
                .map(Matcher::Matches)
                .map_err(|error| {
                    self.error(
                        ErrorKind::BadRegex,
                        format!("invalid regex `{}`", pattern.value),
                        self.span(pattern),
                    )
                    .with_label("this pattern")
                    .with_help(regex_problem(&error))
                });
        }
        if let Some(options) = one_of {
            if options.value.is_empty() {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        "`one_of` is empty",
                        self.span(options),
                    )
                    .with_help("list the accepted values, e.g. `{ one_of: [ok, process] }`"));
            }
            let mut templates = Vec::with_capacity(options.value.len());
            for option in &options.value {
                templates.push(self.template(option, scope)?);
            }
            return Ok(Matcher::OneOf(templates));
        }
        if let Some(present) = present {
            return Ok(if present.value {
                Matcher::Present
            } else {
                Matcher::Absent
            });
        }
        if let Some(absent) = absent {
            return Ok(if absent.value {
                Matcher::Absent
            } else {
                Matcher::Present
            });
        }
        let number = |bound: &Spanned<f64>| {
            let written = self.span(bound).text(self.source).trim().to_owned();
            Number {
                value: bound.value,
                text: if written.is_empty() {
                    bound.value.to_string()
                } else {
                    written
                },
            }
        };
        let (gte, lte) = (gte.as_ref().map(number), lte.as_ref().map(number));
        if let (Some(low), Some(high)) = (&gte, &lte)
            && low.value > high.value
        {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!(
                        "the range is empty: `gte: {}` is above `lte: {}`",
                        low.text, high.text
                    ),
                    span,
                )
                .with_help("swap the bounds"));
        }
        Ok(Matcher::Range { gte, lte })
    }

    fn expect_body(&self, raw: &Spanned<RawExpectBody>) -> Result<ExpectBody, ScenarioError> {
        let (file, file_span, ignore) = match &raw.value {
            RawExpectBody::File(file) => (file.as_str(), self.span(raw), Vec::new()),
            RawExpectBody::Detailed(detailed) => (
                detailed.file.value.as_str(),
                self.span(&detailed.file),
                detailed
                    .ignore
                    .iter()
                    .map(|path| path.value.clone())
                    .collect(),
            ),
        };
        let dir = self.file.parent().unwrap_or(Path::new(""));
        // The project is the directory holding the scenarios directory: an expected body
        // elsewhere (`/etc/passwd`, `../../x`) would be read — and with FPH_UPDATE written.
        // Depth below the project: 1 is the scenario file's directory.
        let mut depth = 1i64;
        let inside = Path::new(file)
            .components()
            .all(|component| match component {
                std::path::Component::Normal(_) => {
                    depth += 1;
                    true
                }
                std::path::Component::CurDir => true,
                std::path::Component::ParentDir => {
                    depth -= 1;
                    depth >= 0
                }
                // An absolute path or a drive prefix.
                _ => false,
            });
        if !inside {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("expected body `{file}` lies outside the project"),
                    file_span,
                )
                .with_label("not below the scenarios directory's parent")
                .with_help(
                    "write a path relative to the scenario file, e.g. `bodies/init_ok.xml`",
                ));
        }
        let resolved = dir.join(file);
        if !resolved.is_file() {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("expected body `{file}` does not exist"),
                    file_span,
                )
                .with_label(format!("looked for {}", resolved.display()))
                .with_help("the path is relative to the scenario file's directory"));
        }
        let well_formed = crate::text_file::read(&resolved)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                crate::gateway::Document::parse(text.as_bytes())
                    .map(drop)
                    .map_err(|e| e.to_string())
            });
        if let Err(problem) = well_formed {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("expected body `{file}` is not well-formed XML: {problem}"),
                    file_span,
                )
                .with_label(format!("read {}", resolved.display()))
                .with_help("an expected body is a gateway answer, `<response>…</response>`; `{{ any }}` may stand for a value"));
        }
        Ok(ExpectBody {
            file: resolved,
            ignore,
            span: file_span,
        })
    }

    fn check_capture(&self, call: &Operation, path: &Spanned<String>) -> Result<(), ScenarioError> {
        let Some(fields) = call.response_fields() else {
            // Nothing is known about other scripts' answers.
            return Ok(());
        };
        let returned: Vec<&str> = ALWAYS_RETURNED.iter().chain(fields).copied().collect();
        if returned.contains(&path.value.as_str()) {
            return Ok(());
        }
        let help = match did_you_mean(&path.value, returned.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("`{call}` returns {}", returned.join(", ")),
        };
        Err(self
            .error(
                ErrorKind::ImpossibleCapture,
                format!("`{call}` never returns `{}`", path.value),
                self.span(path),
            )
            .with_label("nothing to capture")
            .with_help(help))
    }

    /// Checks a templated string: it parses, and every variable it reads is defined here.
    fn template(&self, value: &Spanned<String>, scope: &Scope) -> Result<Template, ScenarioError> {
        let span = self.span(value);
        let text = value.value.as_str();
        let variables = match template::referenced_variables(text) {
            Ok(variables) => variables,
            Err(TemplateError::Syntax { message, range, .. }) => {
                let at = range.map_or(span, |r| self.inner_span(span, text, r.start, r.len()));
                return Err(self
                    .error(
                        ErrorKind::TemplateSyntax,
                        format!("template does not parse: {message}"),
                        at,
                    )
                    .with_label("here")
                    .with_help(
                        "templates use minijinja syntax: `{{ variable }}`, `{{ order_id() }}`",
                    ));
            }
            Err(other) => {
                return Err(self.error(ErrorKind::TemplateSyntax, other.to_string(), span));
            }
        };
        if let Some(call) = template::secret_env_call(text) {
            return Err(self
                .error(
                    ErrorKind::SecretInScenario,
                    template::secret_refused(),
                    self.inner_span(span, text, call.start, call.len()),
                )
                .with_label("the secret would be sent, recorded and reported")
                .with_help(
                    "the harness signs every request with the secret itself; to test a bad signature, set `pg_sig` to a wrong value",
                ));
        }
        if let Some(name) = variables.iter().find(|name| !scope.is_defined(name)) {
            let at = template::find_identifier(text, name).map_or(span, |offset| {
                self.inner_span(span, text, offset, name.len())
            });
            let help = if let Some(step) = scope.captured_by.get(name) {
                format!(
                    "`{name}` is captured by step `{step}`; a capture can be used only in later steps"
                )
            } else if let Some(best) = did_you_mean(
                name,
                scope.defined.iter().map(String::as_str).chain(FUNCTIONS),
            ) {
                if FUNCTIONS.contains(&best) {
                    format!("did you mean `{best}()`?")
                } else {
                    format!("did you mean `{best}`?")
                }
            } else {
                format!(
                    "define it under `vars:`, as a matrix column, or capture it in an earlier step (built-ins: {})",
                    BUILTIN_VARIABLES.join(", ")
                )
            };
            return Err(self
                .error(
                    ErrorKind::UndefinedVariable,
                    format!("undefined template variable `{name}`"),
                    at,
                )
                .with_label("not defined here")
                .with_help(help));
        }
        if let Err(problem) = template::check_calls(text, &variables) {
            return Err(self
                .error(
                    ErrorKind::TemplateSyntax,
                    format!("template cannot be rendered: {problem}"),
                    span,
                )
                .with_label("this call")
                .with_help(format!(
                    "the functions are {}; `sms_code(phone)`, `random_digits(n)` and `env(\"NAME\")` take one argument; minijinja's filters are listed at https://docs.rs/minijinja/latest/minijinja/filters/",
                    FUNCTIONS.map(|f| format!("{f}()")).join(", ")
                )));
        }
        Ok(Template::new(text, span))
    }

    /// The span of `len` bytes at `offset` inside a string value whose YAML token is at
    /// `value_span`, when the token contains the string verbatim (plain or quoted without
    /// escapes); otherwise the whole value.
    fn inner_span(&self, value_span: Span, value: &str, offset: usize, len: usize) -> Span {
        let token = value_span.text(self.source);
        match token.find(value) {
            Some(start) if !value.is_empty() => {
                Span::at_offset(self.source, value_span.offset + start + offset, len.max(1))
            }
            _ => value_span,
        }
    }
}

/// `regex` explains a syntax error over several lines (pattern, caret, message); the message
/// is the last line.
pub(crate) fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let problem = last.trim().trim_start_matches("error: ");
    format!("the regex crate says: {problem}")
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KCELL: &str = r#"# scenarios/kcell_sms_approval.yaml
name: Kcell payment confirmed by SMS code
tags: [kcell, approve]
vars:
  amount: "150.00"
matrix:
  - { operator: KCELLKZT, phone: "77017777777", code: "111111" }
  - { operator: ACTIVKZT, phone: "77027777777", code: "111111" }
steps:
  - id: init
    call: init
    form:
      pg_order_id: "{{ order_id() }}"
      pg_amount: "{{ amount }}"
      pg_description: "Top-up via {{ operator }}"
    expect:
      pg_status: ok
      pg_payment_id: { matches: '^\d+$' }
    capture:
      payment_id: pg_payment_id
  - id: pay
    call: pay
    form: { pg_payment_id: "{{ payment_id }}", pg_abonent_phone: "{{ phone }}",
            pg_payment_system_code: "{{ operator }}" }
    expect: { pg_status: need_approve }
  - id: approve
    call: approve
    form: { pg_payment_id: "{{ payment_id }}", pg_approval_code: "{{ code }}" }
    expect: { pg_status: { one_of: [ok, process] } }
  - id: status
    call: status
    form: { pg_payment_id: "{{ payment_id }}" }
    poll: { until: { pg_payment_status: success }, attempts: 20, interval: 250ms }
    expect: { pg_status: ok, pg_payment_status: success, pg_amount: "{{ amount }}" }
"#;

    fn load(text: &str) -> Result<Scenario, ScenarioError> {
        load_str(Path::new("scenarios/test.yaml"), text)
    }

    /// The plain rendering of the error `text` produces.
    fn fail(text: &str) -> String {
        load(text).map(|_| ()).unwrap_err().render_plain()
    }

    fn kind(text: &str) -> ErrorKind {
        load(text).map(|_| ()).unwrap_err().kind()
    }

    const STEP: &str = "name: t\nsteps:\n  - id: init\n    call: init\n";

    #[test]
    fn the_design_example_loads() {
        let scenario = load_str(Path::new("scenarios/kcell_sms_approval.yaml"), KCELL).unwrap();
        assert_eq!(scenario.name, "Kcell payment confirmed by SMS code");
        assert_eq!(scenario.stem, "kcell_sms_approval");
        assert_eq!(scenario.tags, ["kcell", "approve"]);
        let names: Vec<&str> = scenario.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "operator=KCELLKZT,phone=77017777777",
                "operator=ACTIVKZT,phone=77027777777"
            ]
        );
        assert_eq!(
            scenario.cases[0].bindings,
            [
                ("amount".to_owned(), "150.00".to_owned()),
                ("operator".to_owned(), "KCELLKZT".to_owned()),
                ("phone".to_owned(), "77017777777".to_owned()),
                ("code".to_owned(), "111111".to_owned()),
            ]
        );
        let ids: Vec<&str> = scenario.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["init", "pay", "approve", "status"]);
        let init = &scenario.steps[0];
        assert_eq!(init.call, Operation::Init);
        assert_eq!(init.form[1].0, "pg_amount");
        assert_eq!(init.form[1].1.as_str(), "{{ amount }}");
        assert_eq!(
            (init.form[1].1.span.line, init.form[1].1.span.column),
            (14, 18)
        );
        let capture: Vec<(&str, &str)> = init
            .capture
            .iter()
            .map(|c| (c.variable.as_str(), c.path.as_str()))
            .collect();
        assert_eq!(capture, [("payment_id", "pg_payment_id")]);
        assert!(matches!(init.expect[1].matcher, Matcher::Matches(_)));
        assert_eq!((init.span.line, init.span.column), (10, 9));
        let status = &scenario.steps[3];
        let poll = status.poll.as_ref().unwrap();
        assert_eq!(poll.attempts, 20);
        assert_eq!(poll.interval, Duration::from_millis(250));
        assert_eq!(poll.until[0].path, "pg_payment_status");
        assert_eq!(scenario.templates().count(), 17);
    }

    #[test]
    fn no_matrix_means_one_default_case() {
        let scenario =
            load("name: t\nvars: { a: x }\nsteps:\n  - id: s\n    call: status\n").unwrap();
        assert_eq!(scenario.cases.len(), 1);
        assert_eq!(scenario.cases[0].name, "default");
        assert_eq!(
            scenario.cases[0].bindings,
            [("a".to_owned(), "x".to_owned())]
        );
    }

    #[test]
    fn a_single_row_is_named_by_all_its_columns_and_overrides_vars() {
        let scenario = load(
            "name: t\nvars: { amount: \"1.00\", x: y }\nmatrix:\n  - { amount: \"2.00\", phone: \"77017777777\" }\nsteps:\n  - id: s\n    call: status\n",
        )
        .unwrap();
        assert_eq!(scenario.cases[0].name, "amount=2.00,phone=77017777777");
        assert_eq!(
            scenario.cases[0].bindings,
            [
                ("amount".to_owned(), "2.00".to_owned()),
                ("x".to_owned(), "y".to_owned()),
                ("phone".to_owned(), "77017777777".to_owned()),
            ]
        );
    }

    #[test]
    fn unquoted_numbers_compare_as_written() {
        let scenario = load(&format!(
            "{STEP}    expect: {{ pg_amount: 150.00, pg_flag: true, pg_code: 077587 }}\n"
        ))
        .unwrap();
        let texts: Vec<String> = scenario.steps[0]
            .expect
            .iter()
            .map(|e| e.matcher.to_string())
            .collect();
        assert_eq!(texts, ["150.00", "true", "077587"]);
    }

    #[test]
    fn matcher_maps_are_read() {
        let scenario = load(&format!(
            "{STEP}    expect:\n      a: {{ present: true }}\n      b: {{ absent: true }}\n      c: {{ present: false }}\n      d: {{ gte: 100, lte: 150.00 }}\n      e: {{ lte: 5 }}\n"
        ))
        .unwrap();
        let matchers: Vec<String> = scenario.steps[0]
            .expect
            .iter()
            .map(|e| e.matcher.to_string())
            .collect();
        assert_eq!(
            matchers,
            [
                "{ present: true }",
                "{ absent: true }",
                "{ absent: true }",
                "{ gte: 100, lte: 150.00 }",
                "{ lte: 5 }"
            ]
        );
    }

    #[test]
    fn other_scripts_take_a_path_and_capture_anything() {
        let scenario = load(
            "name: t\nsteps:\n  - id: refund\n    call: { path: /revoke.php }\n    capture: { x: pg_anything/deep }\n",
        )
        .unwrap();
        assert_eq!(
            scenario.steps[0].call,
            Operation::Other("/revoke.php".into())
        );
        assert_eq!(
            fail("name: t\nsteps:\n  - id: r\n    call: { path: revoke.php }\n"),
            "scenarios/test.yaml:4:19: `revoke.php` is not a script path\n  help: write the path on the gateway host, starting with `/`, e.g. `/revoke.php`"
        );
    }

    #[test]
    fn yaml_syntax_errors_are_located() {
        let error = load("name: t\nsteps: [\n").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Yaml);
        assert!(error.location().1 > 0, "{error}");
        assert_eq!(kind(""), ErrorKind::Yaml);
        assert!(fail("").contains("the file is empty"));
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        assert_eq!(
            fail("name: t\nsteps:\n  - id: a\n    call: init\n    exepct: {}\n"),
            "scenarios/test.yaml:5:5: unknown key `exepct`\n  help: did you mean `expect`?"
        );
        assert_eq!(
            fail("nam: t\nsteps: []\n"),
            "scenarios/test.yaml:1:1: unknown key `nam`\n  help: did you mean `name`?"
        );
        assert!(
            fail(&format!("{STEP}    expect: {{ a: {{ one_off: [x] }} }}\n"))
                .contains("did you mean `one_of`?")
        );
        assert!(
            fail(&format!(
                "{STEP}    poll: {{ until: {{ a: b }}, tries: 3 }}\n"
            ))
            .contains("expected one of: until, attempts, interval")
        );
    }

    #[test]
    fn unknown_calls_are_refused() {
        assert_eq!(
            fail("name: t\nsteps:\n  - id: a\n    call: aprove\n"),
            "scenarios/test.yaml:4:11: unknown call `aprove`\n  help: did you mean `approve`? calls are init, pay, approve, resend_code, status, or `{ path: /script.php }` for any other script"
        );
        assert_eq!(
            kind("name: t\nsteps:\n  - id: a\n    call: refund\n"),
            ErrorKind::UnknownCall
        );
    }

    #[test]
    fn duplicate_step_ids_point_at_the_second() {
        let error = load("name: t\nsteps:\n  - id: a\n    call: init\n  - id: a\n    call: pay\n")
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::DuplicateStepId);
        assert_eq!(error.location().1, 5);
        assert_eq!(
            kind("name: t\nsteps:\n  - id: a b\n    call: init\n"),
            ErrorKind::InvalidValue
        );
    }

    #[test]
    fn poll_only_on_idempotent_calls() {
        for call in ["init", "pay", "approve", "resend_code", "{ path: /x.php }"] {
            let text = format!(
                "name: t\nsteps:\n  - id: a\n    call: {call}\n    poll: {{ until: {{ pg_status: ok }} }}\n"
            );
            assert_eq!(kind(&text), ErrorKind::PollNotIdempotent, "{call}");
        }
        let scenario = load("name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: { pg_status: ok } }\n").unwrap();
        let poll = scenario.steps[0].poll.as_ref().unwrap();
        assert_eq!(
            (poll.attempts, poll.interval),
            (DEFAULT_POLL_ATTEMPTS, DEFAULT_POLL_INTERVAL)
        );
        assert!(fail("name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: { pg_status: ok }, interval: 2 weeks }\n")
            .contains("`2 weeks` is not a duration"));
        assert!(fail("name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: { pg_status: ok }, attempts: 0 }\n")
            .contains("`attempts` must be at least 1"));
        assert!(
            fail("name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: {} }\n")
                .contains("`poll.until` is empty")
        );
    }

    #[test]
    fn captures_must_be_fields_the_call_returns() {
        assert_eq!(
            fail(&format!(
                "{STEP}    capture: {{ status: pg_payment_status }}\n"
            )),
            "scenarios/test.yaml:5:24: `init` never returns `pg_payment_status`\n  help: `init` returns pg_status, pg_salt, pg_sig, pg_error_code, pg_error_description, pg_payment_id, pg_redirect_url, pg_redirect_url_type"
        );
        assert!(
            fail(&format!("{STEP}    capture: {{ id: pg_paymnt_id }}\n"))
                .contains("did you mean `pg_payment_id`?")
        );
        load(&format!("{STEP}    capture: {{ code: pg_error_code }}\n")).unwrap();
        assert_eq!(
            kind(&format!("{STEP}    capture: {{ case: pg_payment_id }}\n")),
            ErrorKind::InvalidValue
        );
    }

    #[test]
    fn regexes_must_compile() {
        assert_eq!(
            fail(&format!(
                "{STEP}    expect: {{ pg_payment_id: {{ matches: '^\\d+($' }} }}\n"
            )),
            "scenarios/test.yaml:5:41: invalid regex `^\\d+($`\n  help: the regex crate says: unclosed group"
        );
    }

    #[test]
    fn matchers_take_exactly_one_rule() {
        assert!(
            fail(&format!("{STEP}    expect: {{ a: {{}} }}\n")).contains("the matcher is empty")
        );
        assert!(
            fail(&format!(
                "{STEP}    expect: {{ a: {{ matches: x, present: true }} }}\n"
            ))
            .contains("a matcher cannot combine `matches`, `present`")
        );
        assert!(
            fail(&format!(
                "{STEP}    expect: {{ a: {{ gte: 5, lte: 1 }} }}\n"
            ))
            .contains("the range is empty")
        );
        assert!(
            fail(&format!("{STEP}    expect: {{ a: {{ one_of: [] }} }}\n"))
                .contains("`one_of` is empty")
        );
        assert!(
            fail(&format!("{STEP}    expect: {{ a: [ok] }}\n"))
                .contains("expected a value to compare with, or a matcher")
        );
        assert!(fail(&format!("{STEP}    expect: {{ '': ok }}\n")).contains("is not a field path"));
    }

    #[test]
    fn matrix_rows_must_line_up() {
        let text = "name: t\nmatrix:\n  - { operator: KCELLKZT, phone: \"1\" }\n  - { operator: ACTIVKZT }\nsteps:\n  - id: a\n    call: status\n";
        let error = load(text).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Matrix);
        assert_eq!(
            error.render_plain(),
            "scenarios/test.yaml:4:5: matrix row 2 has different columns from row 1\n  help: every row binds the same variables (operator, phone); put a shared value in `vars:`"
        );
        assert!(
            fail("name: t\nmatrix: []\nsteps:\n  - id: a\n    call: status\n")
                .contains("the matrix has no rows")
        );
        assert!(fail("name: t\nmatrix:\n  - { a: x }\n  - { a: x }\nsteps:\n  - id: a\n    call: status\n")
            .contains("matrix rows 1 and 2 are identical"));
        assert!(fail("name: t\nmatrix:\n  - { a: x/y }\n  - { a: z }\nsteps:\n  - id: a\n    call: status\n")
            .contains("`x/y` cannot be part of a case name"));
        assert!(
            fail("name: t\nmatrix:\n  - { a-b: x }\nsteps:\n  - id: a\n    call: status\n")
                .contains("`a-b` cannot be a matrix column name")
        );
    }

    #[test]
    fn vars_are_literal_identifiers() {
        assert!(
            fail("name: t\nvars: { target: x }\nsteps:\n  - id: a\n    call: status\n")
                .contains("`target` is a built-in variable")
        );
        assert!(
            fail("name: t\nvars: { uuid: x }\nsteps:\n  - id: a\n    call: status\n")
                .contains("`uuid` is a template function")
        );
        assert!(
            fail(
                "name: t\nvars: { o: \"{{ order_id() }}\" }\nsteps:\n  - id: a\n    call: status\n"
            )
            .contains("`vars` values are not templates")
        );
    }

    #[test]
    fn secret_never_leaves_through_env_in_a_template() {
        for call in [
            "env('FREEDOMPAY_SECRET_KEY')",
            "env( \\\"FREEDOMPAY_SECRET_KEY\\\" )",
        ] {
            let error = fail(&format!(
                "{STEP}    form: {{ pg_description: \"x {{{{ {call} }}}}\" }}\n"
            ));
            assert!(error.starts_with("scenarios/test.yaml:5:"), "{error}");
            assert!(
                error.contains(": env(\"FREEDOMPAY_SECRET_KEY\") is refused"),
                "{error}"
            );
            assert!(error.contains("help: the harness signs"), "{error}");
        }
        // Any other variable is read as usual.
        assert!(
            load_str(
                Path::new("scenarios/test.yaml"),
                &format!("{STEP}    form: {{ pg_description: \"{{{{ env('FREEDOMPAY_MERCHANT_ID') }}}}\" }}\n")
            )
            .is_ok()
        );
    }

    #[test]
    fn templates_must_parse() {
        assert_eq!(
            fail(&format!(
                "{STEP}    form: {{ pg_amount: \"{{{{ amount \" }}\n"
            )),
            "scenarios/test.yaml:5:28: template does not parse: syntax error: unexpected end of input, expected end of variable block\n  help: templates use minijinja syntax: `{{ variable }}`, `{{ order_id() }}`"
        );
    }

    #[test]
    fn template_variables_must_be_defined_before_use() {
        assert_eq!(
            fail(
                "name: t\nvars: { amount: \"1\" }\nsteps:\n  - id: a\n    call: init\n    form: { pg_amount: \"{{ amuont }}\" }\n"
            ),
            "scenarios/test.yaml:6:28: undefined template variable `amuont`\n  help: did you mean `amount`?"
        );
        assert!(
            fail(&format!(
                "{STEP}    form: {{ pg_order_id: \"{{{{ orderid() }}}}\" }}\n"
            ))
            .contains("did you mean `order_id()`?")
        );
        assert!(
            fail("name: t\nsteps:\n  - id: a\n    call: status\n    form: { pg_payment_id: \"{{ payment_id }}\" }\n  - id: b\n    call: init\n    capture: { payment_id: pg_payment_id }\n")
                .contains("`payment_id` is captured by step `b`; a capture can be used only in later steps")
        );
        assert!(
            fail(&format!(
                "{STEP}    expect: {{ pg_status: {{ one_of: [\"{{{{ nothing_like_it }}}}\"] }} }}\n"
            ))
            .contains("define it under `vars:`")
        );
        // Built-ins, captures of earlier steps and functions are all defined.
        load("name: t\nsteps:\n  - id: a\n    call: init\n    form: { pg_description: \"{{ scenario }} {{ case }} {{ target }} {{ merchant_id }} {{ uuid() }}\" }\n    capture: { payment_id: pg_payment_id }\n  - id: b\n    call: status\n    form: { pg_payment_id: \"{{ payment_id }}\" }\n    poll: { until: { pg_payment_id: \"{{ payment_id }}\" } }\n").unwrap();
    }

    #[test]
    fn form_keys_may_nest_but_must_be_well_formed() {
        let scenario = load(&format!(
            "{STEP}    form:\n      pg_receipt_positions[0][count]: 1\n      pg_receipt_positions[0][name]: product name\n"
        ))
        .unwrap();
        assert_eq!(
            scenario.steps[0].form[0].0,
            "pg_receipt_positions[0][count]"
        );
        assert!(
            fail(&format!("{STEP}    form: {{ \"a[b\": 1 }}\n"))
                .contains("brackets must be balanced")
        );
        assert!(
            fail(&format!("{STEP}    form: {{ a: 1, \"a[b]\": 2 }}\n"))
                .contains("both a value and a group")
        );
    }

    #[test]
    fn expect_body_files_are_resolved_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("init.xml"), "<response/>").unwrap();
        let path = dir.path().join("s.yaml");
        let scenario = load_str(
            &path,
            &format!("{STEP}    expect_body: {{ file: init.xml, ignore: [pg_salt, pg_sig] }}\n"),
        )
        .unwrap();
        let body = scenario.steps[0].expect_body.as_ref().unwrap();
        assert_eq!(body.file, dir.path().join("init.xml"));
        assert_eq!(body.ignore, ["pg_salt", "pg_sig"]);
        load_str(&path, &format!("{STEP}    expect_body: init.xml\n")).unwrap();
        let error = load_str(&path, &format!("{STEP}    expect_body: missing.xml\n")).unwrap_err();
        assert!(
            error.title().contains("`missing.xml` does not exist"),
            "{error}"
        );
    }

    #[test]
    fn other_top_level_checks() {
        assert!(
            fail("format: 2\nname: t\nsteps:\n  - id: a\n    call: status\n")
                .contains("unsupported scenario format 2")
        );
        load("format: 1\nname: t\nsteps:\n  - id: a\n    call: status\n").unwrap();
        assert!(
            fail("name: \"\"\nsteps:\n  - id: a\n    call: status\n")
                .contains("the scenario name is empty")
        );
        assert!(fail("name: t\nsteps: []\n").contains("the scenario has no steps"));
    }

    #[test]
    fn encodings_are_set_per_scenario_case_and_step() {
        let scenario = load(
            "name: t\nmatrix:\n  - { wire: get }\n  - { wire: pg_xml }\nencoding: \"{{ wire }}\"\nsteps:\n  - id: a\n    call: status\n  - id: b\n    call: status\n    encoding: json\n",
        )
        .unwrap();
        let encodings: Vec<_> = scenario.cases.iter().map(|c| c.encoding).collect();
        assert_eq!(encodings, [Some(Encoding::Get), Some(Encoding::PgXml)]);
        assert_eq!(scenario.steps[0].encoding, None);
        assert_eq!(scenario.steps[1].encoding, Some(Encoding::Json));
        let plain =
            load("name: t\nencoding: urlencoded\nsteps:\n  - id: a\n    call: status\n").unwrap();
        assert_eq!(plain.cases[0].encoding, Some(Encoding::Urlencoded));

        let error = fail("name: t\nsteps:\n  - id: a\n    call: status\n    encoding: xml\n");
        assert!(error.contains("5:15: unknown encoding `xml`"), "{error}");
        assert!(
            error.contains("encodings are multipart, urlencoded, get, pg_xml, json"),
            "{error}"
        );
        let error = fail(
            "name: t\nmatrix:\n  - { wire: get }\n  - { wire: gett }\nencoding: \"{{ wire }}\"\nsteps:\n  - id: a\n    call: status\n",
        );
        assert!(error.contains("unknown encoding `gett`"), "{error}");
        assert!(
            error.contains("test.yaml:4:13: unknown encoding `gett`"),
            "{error}"
        );
        let error =
            fail("name: t\nencoding: \"{{ nope }}\"\nsteps:\n  - id: a\n    call: status\n");
        assert!(error.contains("`nope` is not defined"), "{error}");
        let error = fail(
            "name: t\nencoding: \"{{ a }}-x\"\nvars: { a: get }\nsteps:\n  - id: a\n    call: status\n",
        );
        assert!(
            error.contains("`encoding` takes a name or one variable"),
            "{error}"
        );
    }

    #[test]
    fn directories_are_read_sorted_skipping_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let ok = "name: t\nsteps:\n  - id: a\n    call: status\n";
        write("b.yaml", ok);
        write("a.yml", ok);
        write("harness.yaml", "format: 1\n");
        write("notes.txt", "not yaml");
        write(
            "broken.yaml",
            "name: t\nsteps:\n  - id: a\n    call: nope\n",
        );
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/c.yaml"), ok).unwrap();
        let missing = dir.path().join("missing.yaml");
        let (scenarios, errors) = load_paths(&[dir.path().to_owned(), missing.clone()]);
        let stems: Vec<&str> = scenarios.iter().map(|s| s.stem.as_str()).collect();
        assert_eq!(stems, ["a", "b"]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].kind(), ErrorKind::Io);
        assert_eq!(errors[0].file(), missing);
        assert_eq!(errors[1].kind(), ErrorKind::UnknownCall);

        write("a.yaml", ok);
        let (scenarios, errors) =
            load_paths(&[dir.path().join("a.yml"), dir.path().join("a.yaml")]);
        assert_eq!(scenarios.len(), 1);
        assert_eq!(errors[0].kind(), ErrorKind::DuplicateScenario);
    }
}

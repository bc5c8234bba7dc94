//! The cases of a scenario: one per `matrix` row (named by the columns that tell rows apart,
//! each naming a cassette file), or the single `default` case; `vars` and matrix values are
//! literal, and a row may set the scenario's `encoding`.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use crate::gateway::Encoding;
use crate::template;

use super::{Loader, NOT_IN_FILE_NAMES, quoted_list};
use crate::scenario::diagnostic::{ErrorKind, ScenarioError, Span, did_you_mean};
use crate::scenario::model::{Case, DEFAULT_CASE, cassette_file_name, is_templated};
use crate::scenario::raw::{Entries, RawScenario};

impl Loader<'_> {
    /// `vars` and matrix values are taken as written; template syntax there would be sent to
    /// the gateway verbatim, which is never what was meant.
    pub(super) fn check_literal(
        &self,
        value: &Spanned<String>,
        section: &str,
    ) -> Result<(), ScenarioError> {
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

    /// The scenario's `encoding:` for one case: a name, or `{{ name }}` of a var or matrix
    /// column (a matrix over encodings).
    pub(super) fn case_encoding(
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
    pub(super) fn cases(
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
}

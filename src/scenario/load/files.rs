//! Which files are scenarios (`*.yaml`/`*.yml` other than `harness.yaml`, directories read
//! one level deep) and reading them: one file, a text, or every file under some paths.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Loader;
use crate::scenario::config::CONFIG_FILES;
use crate::scenario::diagnostic::{ErrorKind, ScenarioError, Span};
use crate::scenario::model::Scenario;
use crate::scenario::raw::RawScenario;

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

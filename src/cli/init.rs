//! `fph init [DIR] [--rust | --any]`: scaffolds a contract suite into an existing project.
//!
//! It writes `scenarios/` (a commented `harness.yaml`, three scenarios that run unchanged on
//! the emulator and on the Freedom Pay test server, a README) and the JSON Schemas under
//! `scenarios/.schema/`, then records the scenarios against the in-process emulator, so the
//! recordings in `recordings/` are real answers, not hand-written ones. A Rust project (the
//! default when DIR has a `Cargo.toml`) also gets `tests/contract.rs` and, in `Cargo.toml`
//! (edited with `toml_edit`: comments and layout kept), the dev-dependency and the
//! `[[test]] harness = false` entry; any other project gets a CI workflow that runs `fph run`.
//!
//! Idempotent: before writing anything it checks every file it would write, and refuses (exit
//! 2, naming each one) when one exists, unless `--force`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::exit_code;
use crate::report::{ColorChoice, Style};
use crate::review::{UpdatePolicy, Updates};
use crate::run::{Resolved, RunConfig};
use crate::runner::Session;
use crate::runner::mode::Mode;
use crate::scenario::{self, HarnessConfig};
use crate::schema::{Format, SCHEMA_DIR};
use crate::transport::cassette::Cassette;
use anyhow::Context as _;
use toml_edit::{DocumentMut, Item, Table, value};

use super::load::{Loaded, SelectArgs, print_diagnostics};
use super::run::{Prepared, Reporting, execute};

/// This crate's package name: the dev-dependency a Rust project gets.
const PACKAGE: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The `[[test]]` target that runs the scenarios.
const TEST_NAME: &str = "contract";
const TEST_PATH: &str = "tests/contract.rs";
/// Where the `--any` CI snippet goes: a GitHub Actions workflow, ready to run as it is.
const CI_PATH: &str = ".github/workflows/contract.yml";

/// The scaffold, as shipped in `scaffold/` (its YAML files are validated against the schemas
/// and linted by the test suite).
const SCENARIO_FILES: &[(&str, &str)] = &[
    (
        "scenarios/harness.yaml",
        include_str!("../../scaffold/scenarios/harness.yaml"),
    ),
    (
        "scenarios/sms_payment.yaml",
        include_str!("../../scaffold/scenarios/sms_payment.yaml"),
    ),
    (
        "scenarios/wrong_code.yaml",
        include_str!("../../scaffold/scenarios/wrong_code.yaml"),
    ),
    (
        "scenarios/status_polling.yaml",
        include_str!("../../scaffold/scenarios/status_polling.yaml"),
    ),
    (
        "scenarios/README.md",
        include_str!("../../scaffold/scenarios/README.md"),
    ),
];
const CONTRACT_RS: &str = include_str!("../../scaffold/tests/contract.rs");
const CI_WORKFLOW: &str = include_str!("../../scaffold/ci/contract.yml");

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The project to scaffold into (it must exist).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// A Rust project: also tests/contract.rs and the Cargo.toml entries [default when DIR
    /// has a Cargo.toml].
    #[arg(long, conflicts_with = "any")]
    pub rust: bool,
    /// Any other project: a CI workflow that runs `fph run` instead of the Rust test.
    #[arg(long)]
    pub any: bool,
    /// Overwrite files that exist (and replace fph's entries in Cargo.toml).
    #[arg(long)]
    pub force: bool,
    /// Use a local checkout of freedompay-harness as the dev-dependency (a path, written
    /// into Cargo.toml as given) instead of the released version.
    #[arg(long, value_name = "PATH", conflicts_with = "any")]
    pub harness_path: Option<String>,
}

/// One file to write, relative to DIR.
struct Planned {
    path: String,
    contents: String,
}

pub fn run(args: InitArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let dir = &args.dir;
    if !dir.is_dir() {
        errln!(
            "error: {} is not a directory: `fph init` scaffolds into an existing project",
            dir.display()
        );
        return Ok(exit_code::BAD_INPUT);
    }
    let manifest_path = dir.join("Cargo.toml");
    let rust = args.rust || (!args.any && manifest_path.is_file());

    let mut files: Vec<Planned> = SCENARIO_FILES
        .iter()
        .map(|(path, contents)| Planned {
            path: (*path).to_owned(),
            contents: contents.replace("@VERSION@", VERSION),
        })
        .collect();
    for format in Format::ALL {
        files.push(Planned {
            path: format!("scenarios/{SCHEMA_DIR}/{}", format.file_name()),
            contents: format.to_json(),
        });
    }
    if rust {
        files.push(Planned {
            path: TEST_PATH.to_owned(),
            contents: CONTRACT_RS.to_owned(),
        });
    } else {
        files.push(Planned {
            path: CI_PATH.to_owned(),
            contents: CI_WORKFLOW.replace("@VERSION@", VERSION),
        });
    }

    // Every check before the first write: a refusal leaves the project as it was.
    let mut existing: Vec<String> = files
        .iter()
        .map(|file| file.path.clone())
        .chain(planned_cassettes()?)
        .filter(|path| dir.join(path).exists())
        .collect();
    let manifest = if rust {
        let text = match std::fs::read_to_string(&manifest_path) {
            Ok(text) => text,
            Err(error) => {
                errln!(
                    "error: failed to read {}: {error}; `--rust` needs the project's Cargo.toml (or use --any)",
                    manifest_path.display()
                );
                return Ok(exit_code::BAD_INPUT);
            }
        };
        let mut manifest = match text.parse::<DocumentMut>() {
            Ok(manifest) => manifest,
            Err(error) => {
                errln!("error: failed to read {}: {error}", manifest_path.display());
                return Ok(exit_code::BAD_INPUT);
            }
        };
        if !manifest.contains_key("package") {
            errln!(
                "error: {} has no [package]: run `fph init` in the directory of the crate that should hold the tests",
                manifest_path.display()
            );
            return Ok(exit_code::BAD_INPUT);
        }
        existing.extend(
            manifest_entries(&manifest)
                .into_iter()
                .map(|entry| format!("Cargo.toml: {entry}")),
        );
        add_to_manifest(&mut manifest, args.harness_path.as_deref());
        Some(manifest)
    } else {
        None
    };
    if !existing.is_empty() && !args.force {
        errln!(
            "error: `fph init` would overwrite what already exists in {}:",
            dir.display()
        );
        for path in &existing {
            errln!("  {path}");
        }
        errln!("nothing was written; move them away, or pass --force to overwrite them");
        return Ok(exit_code::BAD_INPUT);
    }

    for file in &files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("failed to write {}", path.display()))?;
        outln!("wrote {}", file.path);
    }
    if let Some(manifest) = &manifest {
        std::fs::write(&manifest_path, manifest.to_string())
            .with_context(|| format!("failed to write {}", manifest_path.display()))?;
        outln!("added to Cargo.toml: {}", wanted_entries().join(", "));
    }

    outln!("\nrecording the scenarios against the built-in emulator:");
    let code = record(dir, color)?;
    if code != exit_code::SUCCESS {
        errln!("error: recording against the built-in emulator failed; this is a bug in fph init");
        return Ok(code);
    }
    let next = if rust {
        "cargo test --test contract"
    } else {
        "fph run"
    };
    outln!(
        "\nnext: `{next}` replays the suite offline; scenarios/README.md says how to record it against the Freedom Pay test server"
    );
    Ok(exit_code::SUCCESS)
}

/// The cassettes recording will write, relative to DIR: one per case of each scaffolded
/// scenario, named as the recorder names them.
fn planned_cassettes() -> anyhow::Result<Vec<String>> {
    let mut cassettes = Vec::new();
    for (path, text) in SCENARIO_FILES {
        let path = Path::new(path);
        if !is_scenario(path) {
            continue;
        }
        let scenario = scenario::load_str(path, text).map_err(|error| {
            anyhow::anyhow!(
                "the built-in scaffold does not load: {}",
                error.render_plain()
            )
        })?;
        for case in &scenario.cases {
            let cassette = Cassette::path_for(Path::new("recordings"), &scenario.stem, &case.name);
            cassettes.push(cassette.to_string_lossy().into_owned());
        }
    }
    Ok(cassettes)
}

fn is_scenario(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "yaml")
        && path.file_name().is_some_and(|name| name != "harness.yaml")
}

/// What `fph init` adds to Cargo.toml, as it names them.
fn wanted_entries() -> [String; 2] {
    [
        format!("[dev-dependencies] {PACKAGE}"),
        format!("[[test]] name = \"{TEST_NAME}\""),
    ]
}

/// fph's entries that are already in the manifest.
fn manifest_entries(manifest: &DocumentMut) -> Vec<String> {
    let [dependency, test] = wanted_entries();
    let mut found = Vec::new();
    if manifest
        .get("dev-dependencies")
        .and_then(Item::as_table_like)
        .is_some_and(|deps| deps.contains_key(PACKAGE))
    {
        found.push(dependency);
    }
    if contract_test_index(manifest).is_some() {
        found.push(test);
    }
    found
}

fn contract_test_index(manifest: &DocumentMut) -> Option<usize> {
    manifest
        .get("test")
        .and_then(Item::as_array_of_tables)?
        .iter()
        .position(|test| test.get("name").and_then(Item::as_str) == Some(TEST_NAME))
}

/// Adds (or, under `--force`, replaces) the dev-dependency and the `[[test]]` entry; every
/// other line of the manifest, comments included, stays as it was.
fn add_to_manifest(manifest: &mut DocumentMut, harness_path: Option<&str>) {
    let dependency = match harness_path {
        Some(path) => {
            let mut table = toml_edit::InlineTable::new();
            table.insert("path", path.into());
            value(table)
        }
        None => value(VERSION),
    };
    let deps = manifest
        .entry("dev-dependencies")
        .or_insert_with(|| Item::Table(Table::new()));
    if let Some(deps) = deps.as_table_like_mut() {
        deps.insert(PACKAGE, dependency);
    }

    let mut test = Table::new();
    test.insert("name", value(TEST_NAME));
    test.insert("path", value(TEST_PATH));
    // libtest-mimic's main replaces libtest's: every scenario case is its own test.
    test.insert("harness", value(false));
    let index = contract_test_index(manifest);
    let tests = manifest
        .entry("test")
        .or_insert_with(|| Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
    if let Some(tests) = tests.as_array_of_tables_mut() {
        match index.and_then(|i| tests.get_mut(i)) {
            Some(old) => *old = test,
            None => tests.push(test),
        }
    }
}

/// Records the scaffolded scenarios against an in-process emulator with its demo merchant
/// (credentials in the environment are not used: they are for the test server).
fn record(dir: &Path, color: ColorChoice) -> anyhow::Result<u8> {
    let scenarios_dir = dir.join("scenarios");
    let paths: Vec<PathBuf> = SCENARIO_FILES
        .iter()
        .filter(|(path, _)| is_scenario(Path::new(path)))
        .map(|(path, _)| dir.join(path))
        .collect();
    let config = match HarnessConfig::load(&scenarios_dir) {
        Ok(config) => config,
        Err(error) => {
            print_diagnostics(&[error], color);
            return Ok(exit_code::BAD_INPUT);
        }
    };
    let (scenarios, errors) = scenario::load_paths(&paths);
    if !errors.is_empty() {
        print_diagnostics(&errors, color);
        return Ok(exit_code::BAD_INPUT);
    }
    // Recorded with the emulator's demo merchant, whatever the environment says.
    let run = RunConfig {
        mode: Mode::Record,
        target: Some("emulator".to_owned()),
        recordings: Some(dir.join("recordings")),
        jobs: Some(4),
        updates: Updates::new(UpdatePolicy::No),
        credentials_from_env: false,
        ..RunConfig::default()
    };
    let Resolved { options, jobs } = run.resolve(&config, &scenarios_dir)?;
    let session = Session::start(options, &scenarios)?;
    let select = SelectArgs {
        paths,
        filters: Vec::new(),
        tags: Vec::new(),
        exclude_tags: Vec::new(),
    };
    let prepared = Prepared {
        session: Arc::new(session),
        loaded: Loaded { config, scenarios },
        jobs,
    };
    let executed = execute(
        prepared,
        &select,
        Reporting::human(Style::for_stdout(color)),
    )?;
    Ok(executed.summary.exit_code())
}

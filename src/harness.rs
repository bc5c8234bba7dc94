//! Scenarios as `cargo test` tests: every case becomes a libtest-mimic trial named
//! `<scenario file stem>::<case>` (kind `scenario`), so name filters, `--exact`, `--skip`,
//! `--list`, `--ignored`, `--test-threads`, `--format terse|json` and cargo-nextest (including
//! `--partition`) work as for any Rust test.
//!
//! A merchant's crate needs a `[[test]] name = "contract", harness = false` entry and:
//!
//! ```no_run
//! // tests/contract.rs
//! fn main() -> std::process::ExitCode {
//!     freedompay_harness::harness::Harness::new("scenarios").run()
//! }
//! ```
//!
//! The mode comes from `FPH_MODE` (replay by default: offline, from `recordings/`), the target
//! from `FPH_TARGET`; `FPH_TAG=a,b` keeps only scenarios with one of those tags. A case
//! without a cassette fails with the command that records it. Each trial runs its own
//! session, so a live trial on the emulator target starts its own emulator on port 0 — under
//! nextest, where every test is its own process, nothing is shared.
//!
//! libtest-mimic does not capture output, so a failing trial's message carries everything:
//! the step, expected against actual values, the request fields and the answer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

use crate::emulator::EmulatorConfig;
use crate::review::Updates;
use crate::runner::mode::{MODE_ENV, Mode};
use crate::runner::{Session, SessionOptions};
use crate::scenario::{self, Credentials, HarnessConfig, Scenario, Selection};

/// Environment variable that picks the target (a name from `harness.yaml` or a URL).
pub const TARGET_ENV: &str = "FPH_TARGET";
/// Environment variable with comma-separated tags: only scenarios carrying one of them run.
pub const TAG_ENV: &str = "FPH_TAG";

/// The trial kind shown by `--list` and `--format`.
pub const TRIAL_KIND: &str = "scenario";

/// Builds trials from a scenarios directory.
#[derive(Debug, Clone)]
pub struct Harness {
    scenarios: PathBuf,
    recordings: Option<PathBuf>,
    emulator: EmulatorConfig,
}

impl Harness {
    /// Scenarios under `dir` (with its `harness.yaml`); cassettes in `recordings` beside it.
    pub fn new(dir: impl Into<PathBuf>) -> Harness {
        Harness {
            scenarios: dir.into(),
            recordings: None,
            emulator: EmulatorConfig::default(),
        }
    }

    /// Cassettes somewhere else than `recordings/` beside the scenarios directory.
    pub fn recordings(mut self, dir: impl Into<PathBuf>) -> Harness {
        self.recordings = Some(dir.into());
        self
    }

    /// Settings for the emulators that live trials start.
    pub fn emulator(mut self, config: EmulatorConfig) -> Harness {
        self.emulator = config;
        self
    }

    /// Parses the libtest arguments of this process, runs the trials, and returns the exit
    /// code (`main` returns it).
    pub fn run(self) -> ExitCode {
        let arguments = Arguments::from_args();
        libtest_mimic::run(&arguments, self.trials()).exit_code()
    }

    /// One trial per selected case; problems that stop everything (a malformed scenario,
    /// a bad `harness.yaml`, a bad `FPH_MODE`) become failing trials that say so.
    pub fn trials(&self) -> Vec<Trial> {
        let config = match HarnessConfig::load(&self.scenarios) {
            Ok(config) => config,
            Err(error) => return vec![failing("harness.yaml", error.render_plain())],
        };
        let mode = match Mode::from_env() {
            Ok(mode) => mode,
            Err(error) => return vec![failing(MODE_ENV, error.to_string())],
        };
        let (scenarios, errors) = scenario::load_paths(std::slice::from_ref(&self.scenarios));
        let mut trials: Vec<Trial> = errors
            .iter()
            .map(|e| failing(&format!("{}::load", file_stem(e.file())), e.render_plain()))
            .collect();
        let selection = Selection {
            filter: None,
            tags: tags_from_env(),
        };
        let shared = Arc::new(Shared {
            config,
            mode,
            recordings: self
                .recordings
                .clone()
                .unwrap_or_else(|| default_recordings(&self.scenarios)),
            emulator: self.emulator.clone(),
        });
        for scenario in scenarios {
            let scenario = Arc::new(scenario);
            for (index, case) in scenario.cases.iter().enumerate() {
                if !selection.matches(&scenario, case) {
                    continue;
                }
                let name = format!("{}::{}", scenario.stem, case.name);
                let scenario = Arc::clone(&scenario);
                let shared = Arc::clone(&shared);
                trials.push(
                    Trial::test(name, move || shared.run_trial(&scenario, index))
                        .with_kind(TRIAL_KIND),
                );
            }
        }
        trials
    }
}

/// What every trial of one harness shares.
#[derive(Debug)]
struct Shared {
    config: HarnessConfig,
    mode: Mode,
    recordings: PathBuf,
    emulator: EmulatorConfig,
}

impl Shared {
    fn run_trial(&self, scenario: &Scenario, index: usize) -> Result<(), Failed> {
        let target_name = std::env::var(TARGET_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| self.config.default_target.clone());
        let target = self
            .config
            .resolve_target(&target_name)
            .map_err(|e| Failed::from(e.to_string()))?;
        let credentials = Credentials::from_env().map_err(|e| Failed::from(e.to_string()))?;
        let options = SessionOptions {
            mode: self.mode,
            target,
            // A test run never reaches production: there is no flag to pass through libtest.
            allow_production: false,
            keep_failed: false,
            recordings: self.recordings.clone(),
            config: self.config.clone(),
            credentials,
            emulator: self.emulator.clone(),
            updates: Updates::from_env().map_err(|e| Failed::from(e.to_string()))?,
        };
        let session = Session::start(options, std::slice::from_ref(scenario))
            .map_err(|e| Failed::from(e.to_string()))?;
        let session = Arc::new(session);
        runtime()
            .block_on(crate::run::trial(
                &session,
                scenario,
                &scenario.cases[index],
            ))
            .map_err(Failed::from)
    }
}

/// One runtime per process, shared by the trials (libtest-mimic runs them on its own
/// threads; each blocks on this runtime).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("failed to start the tokio runtime for scenario trials")
    })
}

fn failing(name: &str, message: String) -> Trial {
    Trial::test(name.to_owned(), move || Err(Failed::from(message.clone()))).with_kind(TRIAL_KIND)
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn tags_from_env() -> Vec<String> {
    std::env::var(TAG_ENV)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `recordings` beside the scenarios directory.
pub fn default_recordings(scenarios: &Path) -> PathBuf {
    match scenarios.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("recordings"),
        _ => PathBuf::from("recordings"),
    }
}

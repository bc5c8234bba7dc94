//! Scenarios as `cargo test` tests: every case becomes a libtest-mimic trial named
//! `<scenario file stem>::<case>` (kind `scenario`), so name filters, `--exact`, `--skip`,
//! `--list`, `--ignored`, `--test-threads`, `--format terse|json` and cargo-nextest (including
//! `--partition`) work as for any Rust test.
//!
//! A merchant's crate needs a `[[test]] name = "contract", harness = false` entry and:
//!
//! ```no_run
//! // tests/contract.rs
//! use freedompay_harness::{Harness, Mode};
//!
//! fn main() -> std::process::ExitCode {
//!     Harness::builder()
//!         .scenarios("scenarios")
//!         .recordings("recordings")
//!         .mode(Mode::Replay)
//!         .run()
//! }
//! ```
//!
//! Each setting has a default, and an environment variable that overrides the default; a
//! setting made in code wins over both:
//!
//! | setting | builder | environment | default |
//! |---|---|---|---|
//! | mode | [`mode`](HarnessBuilder::mode) | `FPH_MODE` | replay (offline, from cassettes) |
//! | target | [`target`](HarnessBuilder::target) | `FPH_TARGET` | `default_target` of `harness.yaml` |
//! | tags | [`tags`](HarnessBuilder::tags) | `FPH_TAG=a,b` | every scenario |
//! | scenarios | [`scenarios`](HarnessBuilder::scenarios) | — | `scenarios` |
//! | recordings | [`recordings`](HarnessBuilder::recordings) | — | `recordings` beside the scenarios |
//! | callback base URL | [`callback_base_url`](HarnessBuilder::callback_base_url) | `FPH_CALLBACK_BASE_URL` | the receiver's own `http://127.0.0.1:PORT` |
//! | callback port | [`callback_port`](HarnessBuilder::callback_port) | `FPH_CALLBACK_PORT` | any free port |
//!
//! Tags keep only scenarios carrying one of them. A case without a cassette fails with the
//! command that records it. Each trial runs its own session, so a live trial on the emulator
//! target starts its own emulator on port 0 — under nextest, where every test is its own
//! process, nothing is shared. A mode or target the build cannot serve (a live run without the
//! `live` feature, the `emulator` target without the `emulator` feature) fails each trial with
//! the feature to enable.
//!
//! libtest-mimic does not capture output, so a failing trial's message carries everything:
//! the step, expected against actual values, the request fields and the answer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

use crate::emulator::EmulatorConfig;
use crate::review::{ReviewError, UPDATE_ENV, Updates};
use crate::run::{Resolved, RunConfig, RunConfigError};
use crate::runner::mode::{MODE_ENV, Mode, ModeError};
use crate::runner::{CaseOutcome, Session, SessionOptions};
use crate::scenario::{
    self, CredentialsError, HarnessConfig, Scenario, ScenarioError, Selection, TargetConfig,
    UnknownTarget,
};
use crate::transport::live::error_chain;

pub use crate::run::config::{TAG_ENV, TARGET_ENV, default_recordings};
/// Asks for an HTML report of the trials: `html=DIR` writes `DIR/index.html` once they have
/// run (as `fph run --report html=DIR` does).
pub const REPORT_ENV: &str = crate::env::REPORT;

/// The public address that forwards to the run's callback receiver (`wait:` steps on a
/// remote target).
pub const CALLBACK_BASE_URL_ENV: &str = crate::env::CALLBACK_BASE_URL;

/// The port the run's callback receiver listens on (what that forwarder points at).
pub const CALLBACK_PORT_ENV: &str = crate::env::CALLBACK_PORT;

/// The trial kind shown by `--list` and `--format`.
pub const TRIAL_KIND: &str = "scenario";

/// The settings of a scenario suite run as `cargo test` trials; made by [`Harness::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` or `run`"]
pub struct HarnessBuilder {
    scenarios: PathBuf,
    recordings: Option<PathBuf>,
    mode: Option<Mode>,
    target: Option<String>,
    tags: Option<Vec<String>>,
    emulator: EmulatorConfig,
    callback_base_url: Option<String>,
    callback_port: Option<u16>,
}

impl Default for HarnessBuilder {
    fn default() -> Self {
        HarnessBuilder {
            scenarios: PathBuf::from("scenarios"),
            recordings: None,
            mode: None,
            target: None,
            tags: None,
            emulator: EmulatorConfig::default(),
            callback_base_url: None,
            callback_port: None,
        }
    }
}

impl HarnessBuilder {
    /// The scenarios directory (with its `harness.yaml`); `scenarios` by default.
    pub fn scenarios(mut self, dir: impl Into<PathBuf>) -> Self {
        self.scenarios = dir.into();
        self
    }

    /// Where cassettes live; `recordings` beside the scenarios directory by default.
    pub fn recordings(mut self, dir: impl Into<PathBuf>) -> Self {
        self.recordings = Some(dir.into());
        self
    }

    /// The run mode, whatever `FPH_MODE` says.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The target (a name from `harness.yaml`, or an http(s) URL), whatever `FPH_TARGET` says.
    pub fn target(mut self, name_or_url: impl Into<String>) -> Self {
        self.target = Some(name_or_url.into());
        self
    }

    /// Only scenarios carrying one of these tags, whatever `FPH_TAG` says; no tags: every
    /// scenario.
    pub fn tags<T: Into<String>>(mut self, tags: impl IntoIterator<Item = T>) -> Self {
        self.tags = Some(tags.into_iter().map(Into::into).collect());
        self
    }

    /// The public address that forwards to the run's callback receiver, for a remote target
    /// that cannot reach 127.0.0.1 (an ngrok URL), whatever `FPH_CALLBACK_BASE_URL` says.
    pub fn callback_base_url(mut self, url: impl Into<String>) -> Self {
        self.callback_base_url = Some(url.into());
        self
    }

    /// The port the callback receiver listens on at 127.0.0.1 (what the forwarder behind
    /// [`callback_base_url`](Self::callback_base_url) points at), whatever
    /// `FPH_CALLBACK_PORT` says.
    pub fn callback_port(mut self, port: u16) -> Self {
        self.callback_port = Some(port);
        self
    }

    /// Settings for the emulators that live trials on the `emulator` target start.
    pub fn emulator(mut self, config: EmulatorConfig) -> Self {
        self.emulator = config;
        self
    }

    /// Settles every setting (code, then environment, then default), reads `harness.yaml` and
    /// resolves the target. Scenario files are read by [`Harness::trials`], so that a broken
    /// file fails its own trial.
    pub fn build(self) -> Result<Harness, HarnessError> {
        self.build_with(|name| std::env::var(name).ok())
    }

    /// [`build`](Self::build) with `env` for the process environment.
    fn build_with(self, env: impl Fn(&str) -> Option<String>) -> Result<Harness, HarnessError> {
        // Unset and blank are the same: no setting.
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let config = HarnessConfig::load(&self.scenarios).map_err(HarnessError::Config)?;
        let mode = match self.mode {
            Some(mode) => mode,
            None => env(MODE_ENV)
                .map(|text| Mode::parse(&text))
                .transpose()
                .map_err(HarnessError::Mode)?
                .unwrap_or_default(),
        };
        let target = self.target.or_else(|| env(TARGET_ENV));
        let callback_base_url = self
            .callback_base_url
            .or_else(|| env(CALLBACK_BASE_URL_ENV))
            .map(|url| {
                crate::run::config::parse_callback_base(&url)
                    .map_err(|why| HarnessError::CallbackBaseUrl { url, why })
            })
            .transpose()?;
        let callback_port = match self.callback_port {
            Some(port) => Some(port),
            None => env(CALLBACK_PORT_ENV)
                .map(|text| {
                    text.trim()
                        .parse::<u16>()
                        .map_err(|_| HarnessError::CallbackPort(text))
                })
                .transpose()?,
        };
        let tags = self.tags.unwrap_or_else(|| {
            env(TAG_ENV)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        });
        let html_report = match env(REPORT_ENV) {
            None => None,
            Some(value) => match value.trim().split_once('=') {
                Some(("html", dir)) if !dir.is_empty() => Some(PathBuf::from(dir)),
                _ => return Err(HarnessError::Report(value)),
            },
        };
        // A test run never reaches production: there is no flag to pass through libtest.
        let run = RunConfig {
            mode,
            target,
            recordings: self.recordings,
            updates: Updates::from_env().map_err(HarnessError::Updates)?,
            emulator: self.emulator,
            callback_base_url,
            callback_port,
            ..RunConfig::default()
        };
        let Resolved { options, .. } =
            run.resolve(&config, &self.scenarios)
                .map_err(|error| match error {
                    RunConfigError::Target(e) => HarnessError::Target(e),
                    RunConfigError::Credentials(e) => HarnessError::Credentials(e),
                    RunConfigError::Mode(e) => HarnessError::Mode(e),
                    RunConfigError::Updates(e) => HarnessError::Updates(e),
                })?;
        Ok(Harness {
            scenarios: self.scenarios,
            tags,
            shared: Arc::new(Shared {
                options,
                html_report,
                outcomes: std::sync::Mutex::default(),
            }),
        })
    }

    /// [`build`](Self::build), then [`Harness::run`]; a setting that cannot be used becomes
    /// one failing trial that says why (`main` returns the exit code).
    pub fn run(self) -> ExitCode {
        match self.build() {
            Ok(harness) => harness.run(),
            Err(error) => {
                let arguments = Arguments::from_args();
                let trial = failing(error.setting(), error.to_string());
                libtest_mimic::run(&arguments, vec![trial]).exit_code()
            }
        }
    }

    /// The trials of [`build`](Self::build), or one failing trial that says why it failed.
    pub fn trials(self) -> Vec<Trial> {
        match self.build() {
            Ok(harness) => harness.trials(),
            Err(error) => vec![failing(error.setting(), error.to_string())],
        }
    }
}

/// A setting a [`Harness`] cannot be built with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// `harness.yaml` is unreadable or invalid.
    #[error("{}", .0.render_plain())]
    Config(ScenarioError),
    /// `FPH_MODE` names no mode.
    #[error(transparent)]
    Mode(ModeError),
    /// The target names none of `harness.yaml`'s targets and is no URL.
    #[error(transparent)]
    Target(UnknownTarget),
    /// Only one of `FREEDOMPAY_MERCHANT_ID` and `FREEDOMPAY_SECRET_KEY` is set.
    #[error(transparent)]
    Credentials(CredentialsError),
    /// `FPH_UPDATE` names no policy.
    #[error(transparent)]
    Updates(ReviewError),
    /// `FPH_REPORT` is not `html=DIR`.
    #[error("{REPORT_ENV}={0:?} is not a report: use html=DIR (writes DIR/index.html)")]
    Report(String),
    /// `FPH_CALLBACK_BASE_URL` (or the builder's) is not a forwarder's URL.
    #[error("{CALLBACK_BASE_URL_ENV}={url:?}: {why}")]
    CallbackBaseUrl { url: String, why: String },
    /// `FPH_CALLBACK_PORT` is not a port.
    #[error("{CALLBACK_PORT_ENV}={0:?} is not a port: write a number from 1 to 65535")]
    CallbackPort(String),
}

impl HarnessError {
    /// What the failing trial is named after: the file or variable to fix.
    pub fn setting(&self) -> &'static str {
        match self {
            HarnessError::Config(_) => "harness.yaml",
            HarnessError::Mode(_) => MODE_ENV,
            HarnessError::Target(_) => TARGET_ENV,
            HarnessError::Credentials(_) => "credentials",
            HarnessError::Updates(_) => UPDATE_ENV,
            HarnessError::Report(_) => REPORT_ENV,
            HarnessError::CallbackBaseUrl { .. } => CALLBACK_BASE_URL_ENV,
            HarnessError::CallbackPort(_) => CALLBACK_PORT_ENV,
        }
    }
}

/// Scenarios as `cargo test` trials, every setting settled.
///
/// ```no_run
/// use freedompay_harness::{Harness, Mode};
///
/// let harness = Harness::builder()
///     .mode(Mode::Replay)
///     .target("emulator")
///     .tags(["sms"])
///     .recordings("recordings")
///     .scenarios("scenarios")
///     .build()?;
/// assert_eq!(harness.mode(), Mode::Replay);
/// # Ok::<(), freedompay_harness::harness::HarnessError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Harness {
    scenarios: PathBuf,
    tags: Vec<String>,
    shared: Arc<Shared>,
}

impl Harness {
    /// Every setting at its default (or its environment variable); see the module docs.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    /// Scenarios under `dir`, everything else from the environment or the defaults: the
    /// builder with [`scenarios`](HarnessBuilder::scenarios) set.
    #[expect(
        clippy::new_ret_no_self,
        reason = "`Harness::new(dir).run()`, the line crates wrote before the builder, keeps working"
    )]
    pub fn new(dir: impl Into<PathBuf>) -> HarnessBuilder {
        Harness::builder().scenarios(dir)
    }

    pub fn mode(&self) -> Mode {
        self.shared.options.mode
    }

    pub fn target(&self) -> &TargetConfig {
        &self.shared.options.target
    }

    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    pub fn recordings(&self) -> &Path {
        &self.shared.options.recordings
    }

    pub fn scenarios(&self) -> &Path {
        &self.scenarios
    }

    /// The options every trial's [`Session`] starts from: a session with the same settings
    /// outside libtest is `Session::start(harness.session_options().clone(), &scenarios)`.
    pub fn session_options(&self) -> &SessionOptions {
        &self.shared.options
    }

    /// Parses the libtest arguments of this process, runs the trials, and returns the exit
    /// code (`main` returns it).
    ///
    /// With `FPH_REPORT=html=DIR`, the outcomes of the trials that ran are written to
    /// `DIR/index.html` afterwards (a failure to write it fails the run).
    // The library prints nothing, except here: this is a test binary's `main`, where
    // libtest-mimic prints the results, and where else could the report's path go.
    #[allow(clippy::print_stderr)]
    pub fn run(self) -> ExitCode {
        let arguments = Arguments::from_args();
        let started = std::time::Instant::now();
        let conclusion = libtest_mimic::run(&arguments, self.trials());
        if let Some(dir) = &self.shared.html_report {
            match self.write_html_report(dir, started.elapsed()) {
                Ok(path) => eprintln!("HTML report: {}", path.display()),
                Err(error) => {
                    eprintln!(
                        "error: failed to write the HTML report in {}: {error}",
                        dir.display()
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
        conclusion.exit_code()
    }

    /// Writes `dir/index.html` from the outcomes kept so far; returns its path.
    fn write_html_report(
        &self,
        dir: &Path,
        elapsed: std::time::Duration,
    ) -> std::io::Result<PathBuf> {
        let mut outcomes = std::mem::take(
            &mut *self
                .shared
                .outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        // Trials finish in any order; the report lists them by name.
        outcomes.sort_by_key(CaseOutcome::full_name);
        let info = crate::report::html::RunInfo {
            mode: self.mode().to_string(),
            target: self.target().name.clone(),
            elapsed,
            not_run: Vec::new(),
        };
        std::fs::create_dir_all(dir)?;
        let path = dir.join("index.html");
        std::fs::write(&path, crate::report::html::report(&outcomes, &info))?;
        Ok(path)
    }

    /// One trial per selected case; a scenario file that does not load becomes a failing
    /// trial that says why.
    pub fn trials(&self) -> Vec<Trial> {
        let (scenarios, errors) = scenario::load_paths(std::slice::from_ref(&self.scenarios));
        let mut trials: Vec<Trial> = errors
            .iter()
            .map(|e| failing(&format!("{}::load", file_stem(e.file())), e.render_plain()))
            .collect();
        let selection = Selection {
            tags: self.tags.clone(),
            ..Selection::default()
        };
        for scenario in scenarios {
            let scenario = Arc::new(scenario);
            for (index, case) in scenario.cases.iter().enumerate() {
                if !selection.matches(&scenario, case) {
                    continue;
                }
                let name = scenario.case_id(case);
                let scenario = Arc::clone(&scenario);
                let shared = Arc::clone(&self.shared);
                trials.push(
                    Trial::test(name, move || shared.run_trial(&scenario, index))
                        .with_kind(TRIAL_KIND),
                );
            }
        }
        trials
    }
}

/// What every trial of one harness shares: the options each trial's session starts from.
#[derive(Debug)]
struct Shared {
    options: SessionOptions,
    /// `FPH_REPORT=html=DIR`: where the HTML report goes.
    html_report: Option<PathBuf>,
    /// The outcomes of the trials that ran, kept for the HTML report (only when asked for).
    outcomes: std::sync::Mutex<Vec<CaseOutcome>>,
}

impl Shared {
    fn run_trial(&self, scenario: &Scenario, index: usize) -> Result<(), Failed> {
        // The whole chain: a session error names what failed, its source says why.
        let session = Session::start(self.options.clone(), std::slice::from_ref(scenario))
            .map_err(|e| Failed::from(error_chain(&e)))?;
        let session = Arc::new(session);
        let case = &scenario.cases[index];
        if self.html_report.is_some() && session.mode() != Mode::Drift {
            let outcome = runtime().block_on(session.run(scenario, case));
            let verdict = crate::run::verdict(&outcome);
            self.outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(outcome);
            return verdict.map_err(Failed::from);
        }
        runtime()
            .block_on(crate::run::trial(&session, scenario, case))
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A scenarios directory: `harness.yaml` with a `local` target, and two one-step
    /// scenarios tagged `sms` and `errors`.
    fn suite() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let scenarios = dir.path().join("scenarios");
        std::fs::create_dir(&scenarios).unwrap();
        std::fs::write(
            scenarios.join("harness.yaml"),
            "format: 1\ntargets:\n  local: { url: \"http://127.0.0.1:9/\" }\n",
        )
        .unwrap();
        for (stem, tag) in [("pays", "sms"), ("refuses", "errors")] {
            std::fs::write(
                scenarios.join(format!("{stem}.yaml")),
                format!(
                    "name: {stem}\ntags: [{tag}]\nsteps:\n  - id: status\n    call: status\n    form: {{ pg_payment_id: \"1\" }}\n"
                ),
            )
            .unwrap();
        }
        dir
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn names(trials: &[Trial]) -> Vec<&str> {
        let mut names: Vec<&str> = trials.iter().map(Trial::name).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn defaults_apply_when_neither_code_nor_environment_says() {
        let dir = suite();
        let scenarios = dir.path().join("scenarios");
        let harness = Harness::builder()
            .scenarios(&scenarios)
            .build_with(env(&[]))
            .unwrap();
        assert_eq!(harness.mode(), Mode::Replay);
        assert_eq!(harness.target().name, "emulator");
        assert!(harness.tags().is_empty());
        assert_eq!(harness.recordings(), dir.path().join("recordings"));
        assert_eq!(
            names(&harness.trials()),
            ["pays::default", "refuses::default"]
        );
    }

    #[test]
    fn the_environment_overrides_the_defaults() {
        let dir = suite();
        let harness = Harness::new(dir.path().join("scenarios"))
            .build_with(env(&[
                (MODE_ENV, "record"),
                (TARGET_ENV, "local"),
                (TAG_ENV, " errors , ,"),
            ]))
            .unwrap();
        assert_eq!(harness.mode(), Mode::Record);
        assert_eq!(harness.target().name, "local");
        assert_eq!(harness.tags(), ["errors"]);
        assert_eq!(names(&harness.trials()), ["refuses::default"]);
    }

    #[test]
    fn the_callback_base_url_comes_from_code_or_the_environment_and_is_checked() {
        let dir = suite();
        let scenarios = dir.path().join("scenarios");
        let from_env = Harness::new(&scenarios)
            .build_with(env(&[(CALLBACK_BASE_URL_ENV, "https://abc.ngrok.app/cb/")]))
            .unwrap();
        assert_eq!(
            from_env.shared.options.callback_base_url.as_deref(),
            Some("https://abc.ngrok.app/cb")
        );
        let from_code = Harness::new(&scenarios)
            .callback_base_url("http://127.0.0.1:9/x")
            .build_with(env(&[(CALLBACK_BASE_URL_ENV, "https://abc.ngrok.app")]))
            .unwrap();
        assert_eq!(
            from_code.shared.options.callback_base_url.as_deref(),
            Some("http://127.0.0.1:9/x")
        );
        let error = Harness::new(&scenarios)
            .build_with(env(&[(CALLBACK_BASE_URL_ENV, "ngrok")]))
            .unwrap_err();
        assert_eq!(error.setting(), "FPH_CALLBACK_BASE_URL");
        assert!(error.to_string().contains("not a URL"), "{error}");
        let port = Harness::new(&scenarios)
            .build_with(env(&[(CALLBACK_PORT_ENV, " 9000 ")]))
            .unwrap();
        assert_eq!(port.shared.options.callback_port, Some(9000));
        let error = Harness::new(&scenarios)
            .build_with(env(&[(CALLBACK_PORT_ENV, "90000")]))
            .unwrap_err();
        assert_eq!(error.setting(), "FPH_CALLBACK_PORT");
    }

    #[test]
    fn settings_made_in_code_win_over_the_environment() {
        let dir = suite();
        let harness = Harness::builder()
            .scenarios(dir.path().join("scenarios"))
            .recordings(dir.path().join("cassettes"))
            .mode(Mode::Replay)
            .target("emulator")
            .tags(["sms"])
            .build_with(env(&[
                // Not even an invalid value matters once the code has decided.
                (MODE_ENV, "sideways"),
                (TARGET_ENV, "nowhere"),
                (TAG_ENV, "errors"),
            ]))
            .unwrap();
        assert_eq!(harness.mode(), Mode::Replay);
        assert_eq!(harness.target().name, "emulator");
        assert_eq!(harness.recordings(), dir.path().join("cassettes"));
        assert_eq!(names(&harness.trials()), ["pays::default"]);
        // An empty list in code means every scenario, whatever FPH_TAG says.
        let all = Harness::builder()
            .scenarios(dir.path().join("scenarios"))
            .tags(Vec::<String>::new())
            .build_with(env(&[(TAG_ENV, "errors")]))
            .unwrap();
        assert_eq!(all.trials().len(), 2);
    }

    #[test]
    fn blank_variables_are_unset() {
        let dir = suite();
        let harness = Harness::new(dir.path().join("scenarios"))
            .build_with(env(&[(MODE_ENV, "  "), (TARGET_ENV, ""), (TAG_ENV, " ")]))
            .unwrap();
        assert_eq!(harness.mode(), Mode::Replay);
        assert_eq!(harness.target().name, "emulator");
        assert_eq!(harness.trials().len(), 2);
    }

    #[test]
    fn a_bad_setting_is_an_error_named_after_what_to_fix() {
        let dir = suite();
        let scenarios = dir.path().join("scenarios");
        let error = Harness::new(&scenarios)
            .build_with(env(&[(MODE_ENV, "sideways")]))
            .unwrap_err();
        assert_eq!(error.setting(), "FPH_MODE");
        assert!(error.to_string().contains("`sideways`"), "{error}");
        let error = Harness::new(&scenarios)
            .target("nowhere")
            .build_with(env(&[]))
            .unwrap_err();
        assert_eq!(error.setting(), "FPH_TARGET");
        assert!(
            error.to_string().contains("unknown target `nowhere`"),
            "{error}"
        );
        std::fs::write(scenarios.join("harness.yaml"), "format: 1\ntragets: {}\n").unwrap();
        let error = Harness::new(&scenarios).build_with(env(&[])).unwrap_err();
        assert_eq!(error.setting(), "harness.yaml");
        assert!(error.to_string().contains("harness.yaml:2:1"), "{error}");
        assert!(
            error.to_string().contains("did you mean `targets`?"),
            "{error}"
        );
    }

    #[test]
    fn fph_report_writes_the_trials_that_ran_as_an_html_report() {
        let dir = suite();
        let scenarios = dir.path().join("scenarios");
        let error = Harness::new(&scenarios)
            .build_with(env(&[(REPORT_ENV, "pdf")]))
            .unwrap_err();
        assert_eq!(error.setting(), "FPH_REPORT");
        let out = dir.path().join("report");
        let harness = Harness::new(&scenarios)
            .build_with(env(&[(REPORT_ENV, &format!("html={}", out.display()))]))
            .unwrap();
        let (loaded, _) = scenario::load_paths(std::slice::from_ref(&harness.scenarios));
        for scenario in &loaded {
            // Replay without recordings: every case errors, with the command that records it.
            assert!(harness.shared.run_trial(scenario, 0).is_err());
        }
        let path = harness
            .write_html_report(&out, std::time::Duration::from_millis(5))
            .unwrap();
        let html = std::fs::read_to_string(path).unwrap();
        assert!(html.contains("0 passed</span>"), "{html}");
        assert!(html.contains("2 errored</span>"), "{html}");
        assert!(html.contains("data-name=\"pays::default\""), "{html}");
        assert!(html.contains("data-name=\"refuses::default\""), "{html}");
    }

    /// The failure of the first trial of `harness`, run in this thread.
    #[cfg(not(feature = "emulator"))]
    fn first_failure(harness: &Harness) -> String {
        let (scenarios, errors) = scenario::load_paths(std::slice::from_ref(&harness.scenarios));
        assert!(errors.is_empty(), "{errors:?}");
        let failed = harness.shared.run_trial(&scenarios[0], 0).unwrap_err();
        failed.message().unwrap_or_default().to_owned()
    }

    #[test]
    #[cfg(not(feature = "emulator"))]
    fn a_live_run_on_the_emulator_target_without_the_feature_names_it() {
        let dir = suite();
        let harness = Harness::new(dir.path().join("scenarios"))
            .mode(Mode::Live)
            .build_with(env(&[]))
            .unwrap();
        let message = first_failure(&harness);
        assert!(
            message.contains("has no emulator: enable its `emulator` feature"),
            "{message}"
        );
    }

    #[test]
    #[cfg(not(feature = "live"))]
    fn a_live_run_without_the_feature_names_it() {
        // Credentials come from the environment; the demo ones are the emulator's only.
        let dir = suite();
        for mode in [Mode::Live, Mode::Record, Mode::Once, Mode::Drift] {
            let harness = Harness::new(dir.path().join("scenarios"))
                .mode(mode)
                .target("local")
                .build_with(env(&[]))
                .unwrap();
            let mut options = harness.shared.options.clone();
            options.credentials = Some(crate::scenario::Credentials {
                merchant_id: "1".to_owned(),
                secret_key: crate::gateway::SecretKey::new("k"),
            });
            let error = Session::start(options, &[]).unwrap_err().to_string();
            assert!(
                error.contains("has no live transport")
                    && error.contains("enable its `live` feature"),
                "{mode:?}: {error}"
            );
        }
    }
}

//! A run session: the choices made once per run (mode, target, credentials, configuration)
//! and what they need (the shared HTTP client, the in-process emulator), applied to each case.
//!
//! Per mode, a case is:
//! - `replay`: run against its cassette with the replay key; nothing touches the network.
//! - `record`: run live, then written as a cassette (only when it passed, unless
//!   `keep_failed`); the old cassette stays until the new one is complete.
//! - `once`: replayed when a cassette exists, recorded when not.
//! - `live`: run live; cassettes untouched.
//! - `drift`: run live; the caller compares the outcome with the cassette.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use md5::{Digest, Md5};
use url::Url;

use crate::emulator::{
    DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig, RunningEmulator,
};
use crate::gateway::{SecretKey, Target};
use crate::review::Updates;
use crate::scenario::{Case, Credentials as EnvCredentials, HarnessConfig, Scenario, TargetConfig};
use crate::secret_guard::SecretGuard;
use crate::template::{Generated, Renderer};
use crate::transport::cassette::{self, Cassette, CassetteError};
use crate::transport::live::{self, LiveOptions, LiveTransport};
use crate::transport::player::Player;
use crate::transport::recorder::{self, RecordingInfo};
use crate::utc;

use super::case::{CaseSettings, Credentials, run_case};
use super::mode::Mode;
use super::observe::{Observed, Observer};
use super::outcome::{CaseOutcome, CaseProblem, StepFailure, Warning};
use super::sms::SmsCodes;
use super::suite::Interrupt;

/// Everything a session is built from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionOptions {
    pub mode: Mode,
    pub target: TargetConfig,
    pub allow_production: bool,
    /// Write the cassette of a case that failed while recording.
    pub keep_failed: bool,
    /// Where cassettes live: `recordings/<scenario stem>/<case>.yaml`.
    pub recordings: PathBuf,
    pub config: HarnessConfig,
    /// Credentials from the environment (`None`: the emulator's demo merchant).
    pub credentials: Option<EnvCredentials>,
    /// Extra settings for the in-process emulator (tests tune delays with it).
    pub emulator: EmulatorConfig,
    /// What to do with expected bodies the answers no longer match (`FPH_UPDATE`, guarded
    /// by `CI`).
    pub updates: Updates,
    /// The public address that forwards to the run's callback receiver
    /// (`--callback-base-url`), for a remote gateway that cannot reach 127.0.0.1.
    pub callback_base_url: Option<String>,
    /// The port the callback receiver listens on at 127.0.0.1 (`--callback-port`, what a
    /// forwarder is pointed at); `None`: any free port.
    pub callback_port: Option<u16>,
}

/// A session that cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error(transparent)]
    Target(#[from] crate::gateway::target::TargetError),
    #[error(
        "failed to start a live run against {0}: set FREEDOMPAY_MERCHANT_ID and FREEDOMPAY_SECRET_KEY (only the emulator has demo credentials)"
    )]
    NoCredentials(String),
    #[error("failed to start the emulator")]
    Emulator(#[source] crate::emulator::EmulatorError),
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error("failed to start the callback receiver on 127.0.0.1:{port}")]
    Receiver {
        port: u16,
        #[source]
        source: std::io::Error,
    },
}

/// A started session; share it between cases (`&Session` or `Arc<Session>`).
#[derive(Debug)]
pub struct Session {
    mode: Mode,
    target: TargetConfig,
    keep_failed: bool,
    recordings: PathBuf,
    config: HarnessConfig,
    live: Option<(LiveTransport, CaseSettings)>,
    replay: CaseSettings,
    renderer: Renderer,
    /// Every outcome passes it before anyone sees it (see [`SecretGuard`]).
    guard: SecretGuard,
    /// Kept alive for the session: dropping it stops the server.
    emulator: Option<Arc<RunningEmulator>>,
    /// Raised by Ctrl-C or SIGTERM (the caller listens): the run starts no more cases.
    interrupt: Interrupt,
    /// Temporary files an interrupted recording left, removed when this session started.
    #[cfg_attr(
        not(feature = "cli"),
        expect(dead_code, reason = "`fph run` says what it swept")
    )]
    swept: Vec<PathBuf>,
    /// The targets the replayed cassettes were recorded against: what a replay's summary
    /// names (it contacts no target itself).
    replayed_from: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Hears each case and request as it happens (a progress bar, `--verbose`); set once.
    observer: std::sync::OnceLock<Arc<dyn Observer>>,
    /// The callback receiver's public base URL and its local address, when one started.
    callbacks: Option<(String, std::net::SocketAddr)>,
}

impl Session {
    /// Validates the choices and starts what the mode needs: nothing for replay; the shared
    /// client (and, on the emulator target, an in-process emulator) otherwise.
    pub fn start(options: SessionOptions, scenarios: &[Scenario]) -> Result<Session, SessionError> {
        let SessionOptions {
            mode,
            target,
            allow_production,
            keep_failed,
            recordings,
            config,
            credentials,
            mut emulator,
            updates,
            callback_base_url,
            callback_port,
        } = options;
        let replay_merchant = credentials
            .as_ref()
            .map_or(DEMO_MERCHANT_ID.to_owned(), |c| c.merchant_id.clone());
        // The merchant secret from the environment (the emulator's demo key is public) and
        // the password of the target URL: built once, used by every case.
        let guard = SecretGuard::for_run(
            credentials.as_ref().map(|c| &c.secret_key),
            target.target.base_url().as_ref(),
        );
        let replay = CaseSettings {
            target_name: target.name.clone(),
            test_target: target.target.is_test(),
            credentials: Credentials {
                merchant_id: replay_merchant,
                secret: SecretKey::new(config.replay_key.clone()),
            },
            routes: config.routes.clone(),
            pause: Duration::ZERO,
            real_time: false,
            redactions: config.redactions.clone(),
            updates,
            unsigned_error_codes: config.unsigned_error_codes.clone(),
            guard: guard.clone(),
            encoding: target.encoding,
            sms_codes: None,
            callback_base: None,
            keep_going: false,
        };
        let mut running = None;
        // Where the run's callback receiver is reached and listens, when one started.
        #[cfg_attr(
            not(feature = "emulator"),
            expect(unused_mut, reason = "no receiver without a server")
        )]
        let mut callbacks: Option<(String, std::net::SocketAddr)> = None;
        let live = if mode.may_go_live() {
            target.target.guard(allow_production)?;
            let credentials = match (credentials, &target.target) {
                (Some(c), _) => Credentials {
                    merchant_id: c.merchant_id,
                    secret: c.secret_key,
                },
                (None, Target::Emulator) => Credentials {
                    merchant_id: DEMO_MERCHANT_ID.to_owned(),
                    secret: SecretKey::new(DEMO_SECRET_KEY),
                },
                (None, _) => return Err(SessionError::NoCredentials(target.name.clone())),
            };
            let base: Url = match &target.target {
                Target::Emulator => {
                    // The harness and its emulator share the credentials in use.
                    emulator
                        .merchants
                        .insert(credentials.merchant_id.clone(), credentials.secret.clone());
                    emulator.routes = config.routes.clone();
                    let started =
                        Arc::new(Emulator::start(emulator).map_err(SessionError::Emulator)?);
                    let base = started.base_url();
                    running = Some(started);
                    base
                }
                other => other
                    .base_url()
                    .expect("every target but the emulator has a URL"),
            };
            let client = live::client(&LiveOptions {
                direct: live::is_loopback(&base),
                ..LiveOptions::default()
            })?;
            // A fixed code when configured (the test server's is published); otherwise the
            // emulator's code for the case's payment: in-process, or asked over the run's
            // own client from the target's admin API.
            let sms_codes = match (&running, target.sms_code.clone()) {
                (_, Some(code)) => SmsCodes::Fixed(code),
                (Some(emulator), None) => SmsCodes::Emulator(Arc::clone(emulator)),
                (None, None) => SmsCodes::Admin {
                    client: client.clone(),
                    base: base.clone(),
                },
            };
            // One receiver for the run's callbacks, when a scenario waits for one or gives
            // the gateway a callback URL.
            // Without the `emulator` feature there is no server to run: a wait step then
            // fails naming the feature.
            #[cfg(feature = "emulator")]
            let receiver = match scenarios.iter().any(needs_receiver) {
                true => Some(
                    crate::transport::receiver::Receiver::start(
                        callback_base_url.as_deref(),
                        callback_port.unwrap_or(0),
                    )
                    .map(Arc::new)
                    .map_err(|source| SessionError::Receiver {
                        port: callback_port.unwrap_or(0),
                        source,
                    })?,
                ),
                false => None,
            };
            #[cfg(feature = "emulator")]
            {
                callbacks = receiver
                    .as_ref()
                    .map(|r| (r.base_url().to_owned(), r.local_addr()));
            }
            #[cfg(not(feature = "emulator"))]
            let _ = (callback_base_url, callback_port);
            let callback_base = callbacks.as_ref().map(|(public, _)| public.clone());
            let settings = CaseSettings {
                target_name: target.name.clone(),
                test_target: target.target.is_test(),
                credentials,
                routes: config.routes.clone(),
                pause: target.pause,
                real_time: true,
                redactions: config.redactions.clone(),
                updates,
                unsigned_error_codes: config.unsigned_error_codes.clone(),
                guard: guard.clone(),
                encoding: target.encoding,
                sms_codes: Some(sms_codes),
                callback_base,
                keep_going: mode == Mode::Drift,
            };
            let transport = LiveTransport::new(base, client).with_answer_limit(config.answer_limit);
            #[cfg(feature = "emulator")]
            let transport = match receiver {
                Some(receiver) => {
                    transport.with_receiver(receiver, settings.credentials.secret.clone())
                }
                None => transport,
            };
            Some((transport, settings))
        } else {
            None
        };
        // A recording killed outright (SIGKILL, power) leaves its temporary file; the next
        // session that writes cassettes removes it.
        let swept = if matches!(mode, Mode::Record | Mode::Once | Mode::Drift) {
            cassette::remove_abandoned_temporaries(&recordings)
        } else {
            Vec::new()
        };
        let mut renderer = Renderer::new();
        for scenario in scenarios {
            // The loader compiled every template once already; a failure here would be a bug
            // in the loader, and the case reports it when it renders.
            let _ = renderer.prepare(scenario);
        }
        Ok(Session {
            mode,
            target,
            keep_failed,
            recordings,
            config,
            live,
            replay,
            renderer,
            guard,
            emulator: running,
            interrupt: Interrupt::default(),
            swept,
            replayed_from: Default::default(),
            observer: std::sync::OnceLock::new(),
            callbacks,
        })
    }

    /// The callback receiver, when the run started one: the base URL the gateway is given
    /// and the address it listens on (a forwarder behind `--callback-base-url` points there).
    pub fn callback_receiver(&self) -> Option<(&str, std::net::SocketAddr)> {
        self.callbacks
            .as_ref()
            .map(|(public, local)| (public.as_str(), *local))
    }

    /// The run's secret guard: what it found is the run's warning.
    #[cfg(feature = "cli")]
    pub(crate) fn guard(&self) -> &SecretGuard {
        &self.guard
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Raise it to stop the run: see [`Interrupt`].
    pub(crate) fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// The temporary files a killed recording had left in the recordings directory, removed
    /// when this session started (only sessions that write cassettes look).
    #[cfg(feature = "cli")]
    pub(crate) fn swept(&self) -> &[PathBuf] {
        &self.swept
    }

    pub fn target(&self) -> &TargetConfig {
        &self.target
    }

    /// The targets of the cassettes replayed so far, sorted.
    #[cfg(feature = "cli")]
    pub(crate) fn replayed_from(&self) -> Vec<String> {
        self.replayed_from
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The `harness.yaml` this session runs with.
    pub fn config(&self) -> &HarnessConfig {
        &self.config
    }

    /// The in-process emulator, when this session started one.
    pub fn emulator(&self) -> Option<&RunningEmulator> {
        self.emulator.as_deref()
    }

    /// Where the cassette of a case lives.
    pub fn cassette_path(&self, scenario: &Scenario, case: &Case) -> PathBuf {
        Cassette::path_for(&self.recordings, &scenario.stem, &case.name)
    }

    /// Lets `observer` hear every case and request from now on; `false` when one was set
    /// already (it stays).
    #[cfg(feature = "cli")]
    pub(crate) fn observe(&self, observer: Arc<dyn Observer>) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// Runs `case` over `transport`, through the observer when there is one.
    async fn run_over<T: crate::transport::Transport>(
        &self,
        scenario: &Scenario,
        case: &Case,
        settings: &CaseSettings,
        transport: &T,
        generated: Generated,
    ) -> CaseOutcome {
        match self.observer.get() {
            None => {
                run_case(
                    scenario,
                    case,
                    settings,
                    &self.renderer,
                    transport,
                    generated,
                )
                .await
            }
            Some(observer) => {
                let observed = Observed::new(
                    transport,
                    Arc::clone(observer),
                    scenario.case_id(case),
                    &self.guard,
                    settings.redactions.clone(),
                );
                run_case(
                    scenario,
                    case,
                    settings,
                    &self.renderer,
                    &observed,
                    generated,
                )
                .await
            }
        }
    }

    /// Runs one case as the mode says.
    pub async fn run(&self, scenario: &Scenario, case: &Case) -> CaseOutcome {
        let path = self.cassette_path(scenario, case);
        match self.mode {
            Mode::Replay => self.replay(scenario, case, &path).await,
            Mode::Once if path.exists() => self.replay(scenario, case, &path).await,
            Mode::Record | Mode::Once => self.record(scenario, case).await,
            // Drift mode runs live here; the comparison with the cassette is the layer above's
            // (`crate::run::drift`).
            Mode::Live | Mode::Drift => self.live(scenario, case).await,
        }
    }

    /// Runs a case against the live target (nothing is read or written).
    pub(crate) async fn live(&self, scenario: &Scenario, case: &Case) -> CaseOutcome {
        let (transport, settings) = self.live.as_ref().expect("a live session has a transport");
        let mut outcome = self
            .run_over(scenario, case, settings, transport, Generated::fresh())
            .await;
        outcome.scrub_secrets(&self.guard);
        outcome
    }

    async fn record(&self, scenario: &Scenario, case: &Case) -> CaseOutcome {
        let mut outcome = self.live(scenario, case).await;
        if !outcome.passed() && !self.keep_failed {
            return outcome;
        }
        // Even `--keep-failed` keeps only what the gateway said: an outage is no recording.
        if let Some((step, _)) = outcome.improper_answer() {
            outcome.warnings.push(Warning::NotRecorded {
                step: step.id.clone(),
                path: self.cassette_path(scenario, case),
            });
            return outcome;
        }
        let path = self.cassette_path(scenario, case);
        if let Err(error) = self.save(scenario, case, &outcome) {
            outcome.problem = Some(CaseProblem::NotSaved {
                path,
                reason: error.to_string(),
            });
        }
        outcome
    }

    /// Writes a live outcome as the case's cassette (redacted, re-signed with the replay key,
    /// atomically).
    pub(crate) fn save(
        &self,
        scenario: &Scenario,
        case: &Case,
        outcome: &CaseOutcome,
    ) -> Result<(), CassetteError> {
        self.recording(scenario, case, outcome)
            .save(&self.cassette_path(scenario, case), scenario.dir())
    }

    /// The cassette a live outcome makes: redacted, re-signed with the replay key.
    pub(crate) fn recording(
        &self,
        scenario: &Scenario,
        case: &Case,
        outcome: &CaseOutcome,
    ) -> Cassette {
        let info = RecordingInfo {
            target: self.target.name.clone(),
            scenario_digest: scenario_digest(scenario, case),
            recorded_at: utc::timestamp(SystemTime::now()),
        };
        let recording = recorder::Recording {
            scenario: &outcome.scenario,
            case: &outcome.case,
            exchanges: outcome
                .steps
                .iter()
                .flat_map(|step| &step.attempts)
                .filter_map(|a| Some((&a.request, a.response.as_ref()?)))
                .collect(),
            generated: &outcome.generated,
            redactor: &outcome.redactor,
        };
        recorder::cassette_for(&recording, &info, &self.replay.credentials.secret)
    }

    async fn replay(&self, scenario: &Scenario, case: &Case, path: &Path) -> CaseOutcome {
        let hint = record_hint(scenario, case);
        let cassette = match Cassette::load(path) {
            Ok(cassette) => cassette,
            Err(CassetteError::Io { .. }) if !path.exists() => {
                let problem = CaseProblem::NoCassette {
                    path: path.to_owned(),
                    hint,
                };
                return CaseOutcome::failed_early(scenario, case, problem);
            }
            Err(error) => {
                let problem = CaseProblem::BadCassette {
                    path: path.to_owned(),
                    reason: error.to_string(),
                };
                return CaseOutcome::failed_early(scenario, case, problem);
            }
        };
        self.replayed_from
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cassette.target.clone());
        let digest = scenario_digest(scenario, case);
        if cassette.scenario_digest != digest {
            let problem = CaseProblem::StaleCassette {
                path: path.to_owned(),
                hint,
            };
            return CaseOutcome::failed_early(scenario, case, problem);
        }
        let too_old = self.too_old(&cassette);
        if let Some(days) = too_old
            && self.config.fail_too_old
        {
            let problem = CaseProblem::OldCassette {
                path: path.to_owned(),
                days,
            };
            return CaseOutcome::failed_early(scenario, case, problem);
        }
        let generated = Generated::frozen(cassette.bindings.iter());
        let player = Player::new(
            cassette,
            path,
            self.replay.credentials.secret.clone(),
            self.config.redactions.clone(),
            hint,
        );
        let mut outcome = self
            .run_over(scenario, case, &self.replay, &player, generated)
            .await;
        outcome
            .warnings
            .extend(too_old.map(|days| Warning::OldCassette {
                path: path.to_owned(),
                days,
            }));
        damaged_body(&mut outcome, path);
        outcome.scrub_secrets(&self.guard);
        outcome
    }

    /// The cassette's age in days, when it is older than `cassette_max_age`.
    fn too_old(&self, cassette: &Cassette) -> Option<u64> {
        let max_age = self.config.cassette_max_age?;
        let recorded = utc::parse_timestamp(&cassette.recorded_at)?;
        let age = SystemTime::now().duration_since(recorded).ok()?;
        (age > max_age).then_some(age.as_secs() / 86_400)
    }
}

/// True when a scenario waits for a callback or hands the gateway a callback URL.
#[cfg(feature = "emulator")]
fn needs_receiver(scenario: &Scenario) -> bool {
    scenario.steps.iter().any(|step| {
        matches!(step.action, crate::scenario::Action::Wait(_))
            || step
                .templates()
                .any(|template| template.as_str().contains("callback_url"))
    })
}

/// On replay an answer that is not XML came from the cassette, not from a gateway (nothing
/// improper is ever recorded): the case fails as bad input naming the cassette's line,
/// instead of as if the gateway had sent it.
fn damaged_body(outcome: &mut CaseOutcome, path: &Path) {
    let Some((step, reason)) = outcome.steps.iter().find_map(|step| match &step.failure {
        Some(StepFailure::NotXml { reason, .. }) => Some((step, reason)),
        _ => None,
    }) else {
        return;
    };
    let attempt = step.attempts.len() as u32;
    // Rare: read the file again for the line rather than keep positions on every replay.
    let line = Cassette::load(path).ok().and_then(|cassette| {
        let index = cassette
            .interactions
            .iter()
            .position(|i| i.step == step.id && i.attempt == attempt)?;
        let text = std::fs::read_to_string(path).ok()?;
        text.lines()
            .enumerate()
            .filter(|(_, line)| line.trim_start().starts_with("body:"))
            .nth(index)
            .map(|(number, line)| (number + 1, line.len() - line.trim_start().len() + 1))
    });
    outcome.problem = Some(CaseProblem::DamagedAnswer {
        path: path.to_owned(),
        at: line,
        step: step.id.clone(),
        reason: reason.clone(),
    });
}

/// The command that records one case.
pub fn record_hint(scenario: &Scenario, case: &Case) -> String {
    format!(
        "record it with `fph run --mode record {} --filter '{}'`",
        scenario.file.display(),
        scenario.case_id(case)
    )
}

/// A digest of what decides a case's requests: calls, paths, form templates, polls and the
/// case's bindings. Expectations are left out: changing what is checked does not need a new
/// recording, changing what is sent does.
pub fn scenario_digest(scenario: &Scenario, case: &Case) -> String {
    let mut hasher = Md5::new();
    let mut feed = |text: &str| {
        hasher.update(text.as_bytes());
        hasher.update([0]);
    };
    for (name, value) in &case.bindings {
        feed(name);
        feed(value);
    }
    for step in &scenario.steps {
        feed(&step.id);
        feed(step.action.name());
        // What a wait answers is part of what is recorded (the reply), so it is fed too;
        // calls feed exactly what they always did, so older cassettes stay fresh.
        if let crate::scenario::Action::Wait(wait) = &step.action {
            match &wait.reply {
                crate::scenario::ReplyTemplate::Signed {
                    status,
                    description,
                    sig,
                } => {
                    feed(status);
                    feed(description.as_ref().map_or("", |d| d.as_str()));
                    feed(sig.as_deref().unwrap_or(""));
                }
                crate::scenario::ReplyTemplate::Http(code) => feed(&code.to_string()),
            }
        }
        for (name, template) in &step.form {
            feed(name);
            feed(template.as_str());
        }
        if let Some(poll) = &step.poll {
            feed(&poll.attempts.to_string());
            for until in &poll.until {
                feed(&until.path);
                feed(&until.matcher.to_string());
            }
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

//! One resolver for how a run is set up, shared by `fph run`/`fph drift`, the `cargo test`
//! harness, `fph init` and `fph bench`: the mode, the target, the recordings directory, how
//! many cases run at once, credentials and the update policy, from explicit settings, then
//! the environment, then `harness.yaml`, then the built-in defaults.

use std::path::{Path, PathBuf};

use crate::emulator::EmulatorConfig;
use crate::review::{ReviewError, Updates};
use crate::runner::mode::ModeError;
use crate::runner::{Mode, SessionOptions};
use crate::scenario::{Credentials, CredentialsError, HarnessConfig, UnknownTarget};

/// Environment variable that picks the target (a name from `harness.yaml` or a URL).
pub const TARGET_ENV: &str = crate::env::TARGET;
/// Environment variable with comma-separated tags: only scenarios carrying one of them run.
pub const TAG_ENV: &str = crate::env::TAG;

/// How a run is set up, before `harness.yaml` and the environment fill the gaps.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub mode: Mode,
    /// A target named in `harness.yaml`, a built-in one or a URL; `None`: `harness.yaml`'s
    /// `default_target` (the emulator unless it says otherwise).
    pub target: Option<String>,
    /// Requests to production move real money: refused unless this is set.
    pub allow_production: bool,
    /// When recording, also write the cassette of a case that failed.
    pub keep_failed: bool,
    /// Where cassettes live; `None`: `recordings` beside the scenarios directory.
    pub recordings: Option<PathBuf>,
    /// Cases in flight; `None`: one at a time on Freedom Pay's hosts (they ask for pauses
    /// between calls), eight elsewhere.
    pub jobs: Option<usize>,
    /// What to do with expected bodies the answers no longer match.
    pub updates: Updates,
    /// Sign with `FREEDOMPAY_MERCHANT_ID` / `FREEDOMPAY_SECRET_KEY` (true), or always with the
    /// emulator's demo merchant (benchmarks and scaffolding, whose results must not depend
    /// on who runs them).
    pub credentials_from_env: bool,
    /// Settings for an in-process emulator.
    pub emulator: EmulatorConfig,
    /// The public address that forwards to the run's callback receiver (a remote target
    /// cannot reach 127.0.0.1); `None`: the receiver's own address.
    pub callback_base_url: Option<String>,
    /// The port the callback receiver listens on (`None`: any free port).
    pub callback_port: Option<u16>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            mode: Mode::Replay,
            target: None,
            allow_production: false,
            keep_failed: false,
            recordings: None,
            jobs: None,
            updates: Updates::default(),
            credentials_from_env: true,
            emulator: EmulatorConfig::default(),
            callback_base_url: None,
            callback_port: None,
        }
    }
}

/// What a run needs to start: the session's options and how many cases run at once.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub options: SessionOptions,
    #[cfg_attr(
        not(any(feature = "cli", test)),
        expect(
            dead_code,
            reason = "`fph run` runs cases at once; a trial is one case"
        )
    )]
    pub jobs: usize,
}

/// A setting that cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum RunConfigError {
    #[error(transparent)]
    Mode(#[from] ModeError),
    #[error(transparent)]
    Updates(#[from] ReviewError),
    #[error(transparent)]
    Target(#[from] UnknownTarget),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
}

impl RunConfig {
    /// Fills the gaps from `harness.yaml` (`config`, read from `scenarios_dir`) and the
    /// built-in defaults.
    pub fn resolve(
        &self,
        config: &HarnessConfig,
        scenarios_dir: &Path,
    ) -> Result<Resolved, RunConfigError> {
        let target_name = self
            .target
            .clone()
            .unwrap_or_else(|| config.default_target.clone());
        let target = config.resolve_target(&target_name)?;
        let credentials = if self.credentials_from_env {
            Credentials::from_env()?
        } else {
            None
        };
        let remote = self.mode.may_go_live() && target.target.is_remote_gateway();
        let jobs = self.jobs.unwrap_or(if remote { 1 } else { 8 }).max(1);
        let options = SessionOptions {
            mode: self.mode,
            target,
            allow_production: self.allow_production,
            keep_failed: self.keep_failed,
            recordings: self
                .recordings
                .clone()
                .unwrap_or_else(|| default_recordings(scenarios_dir)),
            config: config.clone(),
            credentials,
            emulator: self.emulator.clone(),
            updates: self.updates,
            callback_base_url: self.callback_base_url.clone(),
            callback_port: self.callback_port,
        };
        Ok(Resolved { options, jobs })
    }
}

/// `recordings` beside the scenarios directory.
pub fn default_recordings(scenarios: &Path) -> PathBuf {
    match scenarios.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("recordings"),
        _ => PathBuf::from("recordings"),
    }
}

/// A callback base URL (`--callback-base-url`, `FPH_CALLBACK_BASE_URL`): an http(s) URL with a
/// host and no query, the way a forwarder (ngrok, a reverse proxy) is reached; trailing `/`
/// dropped, since each case's path is appended.
pub fn parse_callback_base(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("not a URL ({e}); write e.g. https://abc123.ngrok.app"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(
            "an http:// or https:// URL with a host is needed, e.g. https://abc123.ngrok.app"
                .into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("callback URLs get the case's path appended: leave out `?…` and `#…`".into());
    }
    Ok(text.trim().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_filled_from_harness_yaml_and_the_defaults() {
        let config = HarnessConfig::default();
        let resolved = RunConfig {
            credentials_from_env: false,
            ..RunConfig::default()
        }
        .resolve(&config, Path::new("suite/scenarios"))
        .unwrap();
        assert_eq!(resolved.options.target.name, "emulator");
        assert_eq!(resolved.options.recordings, Path::new("suite/recordings"));
        assert_eq!(resolved.jobs, 8);
        let sandbox = RunConfig {
            mode: Mode::Live,
            target: Some("sandbox".into()),
            credentials_from_env: false,
            ..RunConfig::default()
        }
        .resolve(&config, Path::new("scenarios"))
        .unwrap();
        assert_eq!(sandbox.jobs, 1, "one case at a time on Freedom Pay's hosts");
        assert_eq!(sandbox.options.recordings, Path::new("recordings"));
        let unknown = RunConfig {
            target: Some("staging".into()),
            ..RunConfig::default()
        }
        .resolve(&config, Path::new("scenarios"));
        assert!(matches!(unknown, Err(RunConfigError::Target(_))));
    }
}

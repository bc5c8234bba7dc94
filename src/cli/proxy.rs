//! `fph proxy`: a recording proxy for a merchant's own backend, in any language. Point the
//! backend's Freedom Pay base URL at it, drive the checkout, and every call is forwarded to
//! the target unchanged and recorded to `recordings/proxy/<session>.yaml` (docs/proxy.md).
//!
//! Secrets are handled as in record mode: credentials come from `FREEDOMPAY_MERCHANT_ID` and
//! `FREEDOMPAY_SECRET_KEY` (the emulator target has demo credentials), the secret only checks
//! the caller's signatures so they can be re-made with the public replay key, the
//! `harness.yaml` redaction rules apply, and production is refused unless allowed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::emulator::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use crate::exit_code;
use crate::gateway::{SecretKey, Target};
use crate::proxy::{ProxyOptions, Recording, RecordingOptions, RunningProxy};
use crate::report::ColorChoice;
use crate::scenario::{Credentials, HarnessConfig};
use crate::secret_guard::SecretGuard;
use anyhow::{Context as _, bail};

#[derive(Debug, Clone, clap::Args)]
pub struct ProxyArgs {
    /// Where calls go: emulator (started in-process), sandbox, a name from harness.yaml, or a
    /// URL. production is refused unless --allow-production. [default: FPH_TARGET, else
    /// harness.yaml's default_target, the emulator unless it says otherwise]
    #[arg(long, value_name = "TARGET", env = crate::env::TARGET)]
    target: Option<String>,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The session's name: calls are recorded to <recordings>/proxy/<session>.yaml.
    #[arg(long, value_name = "NAME")]
    session: String,
    /// Where recordings live.
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    recordings: PathBuf,
    /// Where harness.yaml is (redaction rules, routes, replay key, named targets).
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    scenarios: PathBuf,
    /// Allow a production target (real money).
    #[arg(long)]
    allow_production: bool,
    /// Do not log each exchange to standard error.
    #[arg(long, short)]
    quiet: bool,
}

/// A session name is a file name of its own: letters, digits, `-`, `_`, `.`.
fn check_session(name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        bail!(
            "failed to use session name `{name}`: it names the file recordings/proxy/<session>.yaml, so use letters, digits, `-`, `_` and `.` (e.g. `checkout-sms`)"
        );
    }
    Ok(())
}

pub fn run(args: ProxyArgs, color: ColorChoice) -> anyhow::Result<u8> {
    check_session(&args.session)?;
    let config = match HarnessConfig::load(&args.scenarios) {
        Ok(config) => config,
        Err(error) => {
            super::load::print_diagnostics(&[error], color);
            return Ok(exit_code::BAD_INPUT);
        }
    };
    let target = config
        .resolve_target(args.target.as_deref().unwrap_or(&config.default_target))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    target.target.guard(args.allow_production)?;
    let credentials = Credentials::from_env()?;

    // The in-process emulator knows the environment's merchant when one is set, else the demo.
    let (emulator, base, merchant, secret) = match (&target.target, credentials) {
        (Target::Emulator, credentials) => {
            let (id, key) = match credentials {
                Some(c) => (c.merchant_id, c.secret_key),
                None => (DEMO_MERCHANT_ID.to_owned(), SecretKey::new(DEMO_SECRET_KEY)),
            };
            let emulator = Emulator::start(EmulatorConfig {
                merchants: [(id.clone(), key.clone())].into_iter().collect(),
                ..EmulatorConfig::default()
            })?;
            let base = emulator.base_url();
            (Some(emulator), base, id, key)
        }
        (other, Some(c)) => (
            None,
            other.base_url().context("the target has no base URL")?,
            c.merchant_id,
            c.secret_key,
        ),
        (other, None) => bail!(
            "failed to start the proxy to {other}: set FREEDOMPAY_MERCHANT_ID and FREEDOMPAY_SECRET_KEY — the proxy needs the secret to re-sign what it records with the public replay key (only the emulator has demo credentials)"
        ),
    };
    let demo = secret.expose() == DEMO_SECRET_KEY;
    let guard = SecretGuard::for_run(
        (!demo).then_some(&secret),
        target.target.base_url().as_ref(),
    );

    let recording = Recording::new(
        RecordingOptions {
            session: args.session.clone(),
            recordings: args.recordings.clone(),
            target: target.target.name(),
            routes: config.routes.clone(),
            redactions: config.redactions.clone(),
            replay_key: SecretKey::new(config.replay_key.clone()),
            secret,
            guard: guard.clone(),
        },
        crate::utc::timestamp(std::time::SystemTime::now()),
    );
    let path = recording.path().to_owned();
    let existed = path.exists();
    let proxy = RunningProxy::start(ProxyOptions {
        bind: SocketAddr::new(args.host, args.port),
        target: base,
        recording,
        body_limit: EmulatorConfig::default().body_limit,
        log: !args.quiet,
        guard: guard.clone(),
    })?;

    outln!("fph proxy listening on {}", proxy.base_url());
    outln!("forwarding to {}", target.target.name());
    if demo {
        outln!("merchant {merchant}, secret key {DEMO_SECRET_KEY}");
    } else {
        outln!("merchant {merchant}, secret key from FREEDOMPAY_SECRET_KEY (not shown)");
    }
    outln!(
        "recording session `{}` to {}{}",
        args.session,
        path.display(),
        if existed {
            " (the existing file is replaced at the first call)"
        } else {
            ""
        }
    );
    outln!(
        "point your backend's Freedom Pay base URL at {}; press Ctrl-C to stop",
        proxy.base_url()
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the signal handler")?;
    runtime.block_on(stop_signal());
    proxy.shutdown();
    drop(emulator);
    match crate::transport::cassette::Cassette::load(&path) {
        Ok(cassette) => outln!(
            "stopped: {} calls recorded in {}; replay them with `fph emulator --replay {}`",
            cassette.interactions.len(),
            path.display(),
            path.display()
        ),
        Err(_) => outln!("stopped: nothing recorded"),
    }
    let found = guard.findings();
    if !found.is_empty() {
        errln!("warning: {}", crate::report::text::secret_replaced(&found));
    }
    Ok(exit_code::SUCCESS)
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).ok();
        let term = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_plain_file_names() {
        for good in ["checkout", "sms-2", "a.b_c"] {
            assert!(check_session(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            let error = check_session(bad).unwrap_err().to_string();
            assert!(error.contains("letters, digits"), "{error}");
        }
    }
}

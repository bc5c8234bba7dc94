//! `fph emulator`: the gateway emulator as a standalone server, so a merchant's own backend —
//! in any language — can be tested against it. Prints where it listens and the credentials to
//! sign with, then serves until Ctrl-C.
//!
//! Settings come from `--config FILE` (YAML, see docs/emulator.md), then the flags, which win.
//! Merchant secrets may be given on the command line here, unlike everywhere else in fph:
//! they are the emulator's own keys and sign nothing real.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::emulator::{
    DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig, EmulatorError, changed_gateway,
};
use crate::exit_code;
use crate::gateway::SecretKey;
use crate::proxy::{Replay, ReplayConfig};
use crate::report::ColorChoice;
use crate::scenario::HarnessConfig;

use super::load::render_diagnostic;
use crate::secret_guard::SecretGuard;
use crate::transport::cassette::Cassette;
use anyhow::{Context, bail};

/// The port when neither the flags nor the configuration file name one.
const DEFAULT_PORT: u16 = 8080;

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_long_help = "What the real gateway does not tell, the emulator tells beside its answer: \
    each refusal's reason (for a bad signature, the string that should have been signed, the \
    secret masked as ***) goes to the request's log line on standard error and to the \
    X-Emulator-Hint response header (bytes outside printable ASCII percent-encoded); the \
    answer's body stays the gateway's (9998 \"Некорректная подпись запроса\", unsigned). \
    The codes, test phones and conventions: docs/emulator.md."
)]
pub struct EmulatorArgs {
    /// Port to listen on; 0 picks a free one [default: 8080, or the config file's `bind`].
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on [default: 127.0.0.1, or the config file's `bind`].
    #[arg(long, value_name = "ADDR")]
    pub host: Option<IpAddr>,
    /// A merchant to accept, as ID:SECRET; repeat for several. Replaces the demo merchant
    /// (552170, fph-emulator-demo-secret).
    #[arg(long = "merchant", value_name = "ID:SECRET", value_parser = parse_merchant)]
    pub merchants: Vec<(String, String)>,
    /// Make payment ids and SMS codes repeat from run to run.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// YAML configuration file (docs/emulator.md); the flags above win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Answer as a changed gateway would (a status renamed, a field added, one renamed, a
    /// value changed), to see `fph drift` at work.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Do not log each gateway call to standard error (by default one line per call, with
    /// the reason of a refusal: for a bad signature, the string that should have been
    /// signed). The X-Emulator-Hint header is sent either way.
    #[arg(long, short)]
    pub quiet: bool,
    /// The token the web console (/_emulator/ui) asks for. Needed to have a console when
    /// listening beyond this machine (--host 0.0.0.0); on 127.0.0.1 it is open without one.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "FPH_CONSOLE_TOKEN",
        hide_env_values = true
    )]
    pub console_token: Option<String>,
    /// Serve the recorded answers of a cassette (e.g. recordings/proxy/NAME.yaml) instead of
    /// running payments; requests match on route and fields, signatures are checked with
    /// --merchant's secret and answers re-signed for it (docs/proxy.md).
    #[arg(long, value_name = "CASSETTE")]
    pub replay: Option<PathBuf>,
    /// With --replay: a request field to leave out of matching (a value made anew on every
    /// run); repeat for several, `prefix*` for a prefix. Adds to the default list
    /// (pg_order_id, pg_user_ip, the callback and return URLs) unless --strict.
    #[arg(long = "ignore-field", value_name = "FIELD", requires = "replay")]
    pub ignore_fields: Vec<String>,
    /// With --replay: match every field but pg_salt and pg_sig (no default ignore list).
    #[arg(long, requires = "replay")]
    pub strict: bool,
    /// With --replay: where harness.yaml is (the redaction rules the cassette was written with).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "scenarios",
        requires = "replay"
    )]
    pub scenarios: PathBuf,
}

/// Built-in behaviour profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// The gateway as documented (the default).
    Documented,
    /// One change of each kind drift reports (docs/emulator.md, "A changed gateway").
    ChangedGateway,
}

fn parse_merchant(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((id, secret)) if !id.trim().is_empty() && !secret.is_empty() => {
            Ok((id.trim().to_owned(), secret.to_owned()))
        }
        _ => Err(format!(
            "expected ID:SECRET, like 552170:my-test-key, got `{text}`"
        )),
    }
}

/// The configuration the arguments describe.
pub fn config(args: &EmulatorArgs) -> Result<EmulatorConfig, EmulatorError> {
    let mut config = match &args.config {
        Some(path) => EmulatorConfig::from_yaml_file(path)?,
        None => EmulatorConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            ..EmulatorConfig::default()
        },
    };
    if let Some(port) = args.port {
        config.bind.set_port(port);
    } else if args.config.is_some() && config.bind.port() == 0 {
        // A file that names no address still gets the command's well-known port.
        config.bind.set_port(DEFAULT_PORT);
    }
    if let Some(host) = args.host {
        config.bind.set_ip(host);
    }
    if !args.merchants.is_empty() {
        config.merchants = args
            .merchants
            .iter()
            .map(|(id, secret)| (id.clone(), SecretKey::new(secret.clone())))
            .collect();
    }
    if args.seed.is_some() {
        config.seed = args.seed;
    }
    if args.profile == Some(Profile::ChangedGateway) {
        config.answer_changes.extend(changed_gateway());
    }
    config.log_requests = !args.quiet;
    if args.console_token.is_some() {
        config.console_token = args.console_token.clone();
    }
    Ok(config)
}

/// The replay settings `--replay` asks for: the cassette, its redaction rules, what matching
/// ignores. A cassette that cannot be read is bad input.
fn replay_config(args: &EmulatorArgs, replay: &Path) -> anyhow::Result<ReplayConfig> {
    let cassette = Cassette::load(replay)?;
    let text = std::fs::read_to_string(replay).unwrap_or_default();
    crate::proxy::replay::require_proxy_session(&cassette, replay, &text)
        .map_err(anyhow::Error::msg)?;
    let redactions = HarnessConfig::load(&args.scenarios)
        .map_err(|e| anyhow::anyhow!("{}", e.render_plain()))?
        .redactions;
    let mut config = ReplayConfig::new(cassette, replay.to_owned(), redactions);
    if args.strict {
        config.ignore_fields.clear();
    }
    config
        .ignore_fields
        .extend(args.ignore_fields.iter().cloned());
    Ok(config)
}

/// Starts the emulator, prints its address and credentials, serves until Ctrl-C.
pub fn run(args: EmulatorArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let config = match config(&args) {
        Ok(config) => config,
        Err(error) => {
            if let Some(report) = error
                .report()
                .and_then(|report| render_diagnostic(report.as_ref(), color))
            {
                errln!("{report}");
                return Ok(exit_code::BAD_INPUT);
            }
            return Err(error.into());
        }
    };
    let mut config = config;
    // What the banner says about a replay: the cassette, its size, what matching ignores.
    let mut replaying = None;
    if let Some(path) = &args.replay {
        let replay = replay_config(&args, path)?;
        let ignored: String = replay
            .ignore_fields
            .iter()
            .map(|f| format!(", {f}"))
            .collect();
        replaying = Some((
            path.display().to_string(),
            replay.cassette.interactions.len(),
            ignored,
        ));
        // A mismatch names field values: no merchant's key may show in it (the demo key is
        // public).
        let secrets: Vec<(&str, &str)> = config
            .merchants
            .values()
            .map(|key| ("a merchant secret key", key.expose()))
            .filter(|(_, key)| *key != DEMO_SECRET_KEY)
            .collect();
        config.replay = Some(Arc::new(Replay::new(replay, SecretGuard::new(secrets))));
    }
    let merchants: Vec<(String, SecretKey)> = config
        .merchants
        .iter()
        .map(|(id, key)| (id.clone(), key.clone()))
        .collect();
    let emulator = Emulator::start(config)?;
    let base = emulator.base_url();
    let base = base.as_str().trim_end_matches('/');
    outln!("fph emulator listening on {base}");
    for (id, key) in &merchants {
        // Only the demo merchant's key is public (it is in the README); any other key was
        // given by the user and is not printed where logs keep it.
        if id == DEMO_MERCHANT_ID && key.expose() == DEMO_SECRET_KEY {
            outln!("merchant {id}, secret key {}", key.expose());
        } else {
            outln!("merchant {id}, secret key (as configured, not shown)");
        }
    }
    outln!(
        "{}",
        emulator.console_access().describe(base, emulator.addr())
    );
    match &replaying {
        Some((path, count, ignored)) => {
            outln!("replaying {count} recorded calls from {path}");
            outln!("matching on route and fields, ignoring pg_salt, pg_sig{ignored}");
        }
        None => {
            outln!("admin API: {base}/_emulator/ (test phones and codes: docs/emulator.md)")
        }
    }
    if args.profile == Some(Profile::ChangedGateway) {
        outln!("profile: changed gateway (answers differ from the documented gateway on purpose)");
    }
    outln!("press Ctrl-C to stop");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the signal handler")?;
    if let Err(error) = runtime.block_on(tokio::signal::ctrl_c()) {
        bail!("failed to wait for Ctrl-C: {error}");
    }
    outln!("stopping");
    emulator.shutdown()?;
    Ok(exit_code::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    fn parse(args: &[&str]) -> EmulatorArgs {
        Cli::try_parse_from(std::iter::once("fph").chain(args.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn flags_make_the_configuration() {
        let args = parse(&[
            "--port",
            "0",
            "--merchant",
            "1:a",
            "--merchant",
            "2:b:c",
            "--seed",
            "9",
        ]);
        let config = config(&args).unwrap();
        assert_eq!(config.bind, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.merchants.len(), 2);
        assert_eq!(config.merchants["2"], SecretKey::new("b:c"));
        assert_eq!(config.seed, Some(9));
        let default = config_of(&[]);
        assert_eq!(default.bind.port(), 8080);
        assert!(default.merchants.contains_key("552170"));
    }

    fn config_of(args: &[&str]) -> EmulatorConfig {
        config(&parse(args)).unwrap()
    }

    #[test]
    fn bad_merchants_are_usage_errors() {
        for bad in ["552170", ":secret", "552170:"] {
            let result = Cli::try_parse_from(["fph", "--merchant", bad]);
            assert!(result.is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.yaml");
        std::fs::write(
            &path,
            "bind: 127.0.0.1:9000\nseed: 1\nmerchants: { \"5\": k }\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let from_file = config_of(&["--config", file]);
        assert_eq!((from_file.bind.port(), from_file.seed), (9000, Some(1)));
        let overridden = config_of(&["--config", file, "--port", "9001", "--seed", "2"]);
        assert_eq!((overridden.bind.port(), overridden.seed), (9001, Some(2)));
        assert!(overridden.merchants.contains_key("5"));
    }
}

//! `fph scenario from-recording CASSETTE`: prints a scenario whose steps are the recorded
//! calls of a proxy session (see `crate::proxy::scenario`), to redirect into
//! `scenarios/<name>.yaml`.

use std::path::PathBuf;

use crate::exit_code;
use crate::gateway::SecretKey;
use crate::proxy::scenario_from_recording;
use crate::report::ColorChoice;
use crate::scenario::HarnessConfig;
use crate::transport::cassette::Cassette;

#[derive(Debug, clap::Args)]
pub struct ScenarioArgs {
    #[command(subcommand)]
    command: ScenarioCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ScenarioCommand {
    /// Print a scenario whose steps are the calls of a recording (e.g. recordings/proxy/NAME.yaml).
    FromRecording(FromRecordingArgs),
}

#[derive(Debug, clap::Args)]
struct FromRecordingArgs {
    /// The cassette, e.g. recordings/proxy/checkout.yaml.
    cassette: PathBuf,
    /// Where harness.yaml is (routes, replay key).
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    scenarios: PathBuf,
}

pub fn run(args: ScenarioArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let ScenarioCommand::FromRecording(args) = args.command;
    let config = match HarnessConfig::load(&args.scenarios) {
        Ok(config) => config,
        Err(error) => {
            super::load::print_diagnostics(&[error], color);
            return Ok(exit_code::BAD_INPUT);
        }
    };
    let cassette = Cassette::load(&args.cassette)?;
    let source = args.cassette.display().to_string();
    let yaml = scenario_from_recording(
        &cassette,
        &source,
        &config.routes,
        &SecretKey::new(config.replay_key.clone()),
    )
    .map_err(anyhow::Error::msg)?;
    out!("{yaml}");
    Ok(exit_code::SUCCESS)
}

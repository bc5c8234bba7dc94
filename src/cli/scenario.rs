//! `fph scenario from-recording CASSETTE [-o FILE]`: writes a scenario whose steps are the
//! recorded calls of a proxy session (see `crate::proxy::scenario`) to `FILE`
//! (`scenarios/<name>.yaml`), or prints it.

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
    /// Write the scenario to this file (its directory is made) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
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
        &config.redactions,
    )
    .map_err(anyhow::Error::msg)?;
    match &args.output {
        None => out!("{yaml}"),
        Some(file) => {
            crate::transport::cassette::write_atomically(file, yaml.as_bytes())
                .map_err(|e| anyhow::anyhow!("failed to write {}: {e}", file.display()))?;
            errln!(
                "wrote {}: run it live with `fph run --mode live`, or record its cassette with `fph run --mode record`",
                file.display()
            );
        }
    }
    Ok(exit_code::SUCCESS)
}

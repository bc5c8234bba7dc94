//! `fph lint`: validates `harness.yaml` and the scenario files without running anything —
//! YAML, unknown keys, calls, step ids, polls, captures, regexes, template variables.

use crate::exit_code;
use crate::report::ColorChoice;

use super::load::{SelectArgs, load};

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    select: SelectArgs,
}

pub fn run(args: LintArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let Some(loaded) = load(&args.select, color) else {
        return Ok(exit_code::BAD_INPUT);
    };
    let cases: usize = loaded.scenarios.iter().map(|s| s.cases.len()).sum();
    outln!(
        "ok: {} scenario{}, {cases} case{}",
        loaded.scenarios.len(),
        if loaded.scenarios.len() == 1 { "" } else { "s" },
        if cases == 1 { "" } else { "s" }
    );
    Ok(exit_code::SUCCESS)
}

//! `fph diff-recordings OLD_DIR NEW_DIR`: compares two sets of recordings (before and after
//! a gateway change) with the drift classification. Exit 3 when they differ.

use std::path::PathBuf;

use crate::drift;
use crate::exit_code;
use crate::report::{self, ColorChoice, Style};
use crate::scenario::HarnessConfig;

use super::run::ReportFormat;

#[derive(Debug, clap::Args)]
pub struct DiffRecordingsArgs {
    /// The recordings before (e.g. a checkout of the last release's `recordings/`).
    old: PathBuf,
    /// The recordings after.
    new: PathBuf,
    /// Paths to ignore [default: harness.yaml's drift_ignore in --scenarios, else the volatile fields].
    #[arg(long = "ignore", value_name = "PATH")]
    ignore: Vec<String>,
    /// Where harness.yaml is.
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    scenarios: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    report: ReportFormat,
}

pub fn run(args: DiffRecordingsArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let ignore = if args.ignore.is_empty() {
        HarnessConfig::load(&args.scenarios)
            .map(|c| c.drift_ignore)
            .unwrap_or_else(|_| crate::gateway::VOLATILE_FIELDS.map(str::to_owned).to_vec())
    } else {
        args.ignore.clone()
    };
    let reports = drift::compare_trees(&args.old, &args.new, &ignore)?;
    let style = Style::for_stdout(color);
    for report in &reports {
        match args.report {
            ReportFormat::Human => out!("{}", report::drift::human(report, None, style)),
            ReportFormat::Json => outln!("{}", report::drift::json(report)),
        }
    }
    if args.report == ReportFormat::Human {
        out!("{}", report::drift::summary(&reports, style));
    }
    // Cases only one side has count as a difference between the sets.
    Ok(match super::drift::exit_for(&reports) {
        exit_code::FAILED => exit_code::DRIFT,
        code => code,
    })
}

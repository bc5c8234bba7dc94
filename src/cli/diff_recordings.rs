//! `fph diff-recordings OLD_DIR NEW_DIR`: compares two sets of recordings (before and after
//! a gateway change) with the drift classification. Exit 3 when they differ.

use std::path::PathBuf;

use anyhow::Context as _;
use freedompay_harness::drift::{self, CaseDrift};
use freedompay_harness::exit_code;
use freedompay_harness::report::{ColorChoice, Style};
use freedompay_harness::scenario::HarnessConfig;
use freedompay_harness::transport::cassette::Cassette;

use super::drift::{human, json, summary};
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
            .unwrap_or_else(|_| drift::VOLATILE.map(str::to_owned).to_vec())
    } else {
        args.ignore.clone()
    };
    let old = drift::cassettes_under(&args.old)
        .with_context(|| format!("failed to read {}", args.old.display()))?;
    let new = drift::cassettes_under(&args.new)
        .with_context(|| format!("failed to read {}", args.new.display()))?;
    let mut reports = Vec::new();
    for (relative, old_path) in &old {
        let name = relative
            .with_extension("")
            .display()
            .to_string()
            .replacen('/', "::", 1);
        let mut report = CaseDrift {
            name,
            cassette: old_path.clone(),
            drifts: Vec::new(),
            error: None,
            bad_input: false,
        };
        let new_path = args.new.join(relative);
        match (Cassette::load(old_path), Cassette::load(&new_path)) {
            (Ok(before), Ok(after)) => {
                report.drifts = drift::compare_cassettes(&before, &after, &ignore)
            }
            (Err(error), _) | (_, Err(error)) if new_path.exists() => {
                report.error = Some(error.to_string());
                report.bad_input = true;
            }
            _ => {
                report.error = Some(format!(
                    "{} has no {}",
                    args.new.display(),
                    relative.display()
                ))
            }
        }
        reports.push(report);
    }
    for (relative, _) in new.iter().filter(|(r, _)| !old.iter().any(|(o, _)| o == r)) {
        reports.push(CaseDrift {
            name: relative
                .with_extension("")
                .display()
                .to_string()
                .replacen('/', "::", 1),
            cassette: args.new.join(relative),
            drifts: Vec::new(),
            error: Some(format!("new in {}", args.new.display())),
            bad_input: false,
        });
    }
    let style = Style::for_stdout(color);
    for report in &reports {
        match args.report {
            ReportFormat::Human => out!("{}", human(report, None, style)),
            ReportFormat::Json => outln!("{}", json(report)),
        }
    }
    if args.report == ReportFormat::Human {
        out!("{}", summary(&reports, style));
    }
    // Cases only one side has count as a difference between the sets.
    Ok(match super::drift::exit_for(&reports) {
        exit_code::FAILED => exit_code::DRIFT,
        code => code,
    })
}

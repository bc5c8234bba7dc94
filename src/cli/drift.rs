//! `fph drift`: replays the recorded scenarios live and says, field by field, what the
//! gateway now answers differently. Nothing is written unless `--accept`, which re-records
//! the drifted cases only. Exit 3 when anything drifted.

use std::sync::Arc;

use crate::drift::CaseDrift;
use crate::exit_code;
use crate::report::{self, ColorChoice, Style};
use crate::review::Updates;
use crate::run::{DriftResult, OnDrift, drift_case};
use crate::runner::mode::Mode;
use crate::runner::suite::{for_each_case, plan};

use super::run::{ReportFormat, RunArgs, prepare};

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Re-record the cassettes of the cases that drifted.
    #[arg(long)]
    accept: bool,
}

impl DriftArgs {
    pub fn from_run(run: RunArgs) -> DriftArgs {
        DriftArgs { run, accept: false }
    }
}

pub fn run(args: DriftArgs, color: ColorChoice) -> anyhow::Result<u8> {
    if !args.run.html_dirs().is_empty() {
        anyhow::bail!("--report html=DIR is for `fph run`; `fph drift` reports as human or json");
    }
    let prepared = match prepare(&args.run, Mode::Drift, color)? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let style = Style::for_stdout(color);
    let planned = plan(&prepared.loaded.scenarios, &args.run.select.selection());
    if planned.is_empty() {
        errln!("{}", super::run::nothing_selected(&args.run.select));
        return Ok(exit_code::BAD_INPUT);
    }
    let runtime = super::runtime()?;
    super::run::report_swept(&prepared.session);
    super::interrupt::listen(&runtime, Arc::clone(&prepared.session));
    let total = planned.len();
    let format = args.run.stdout_format();
    // Without --accept, FPH_UPDATE=new (or --update new) proposes the drifted cassettes as
    // `*.yaml.new` for `fph review`, as expected bodies are.
    let updates = Updates::new(args.run.update);
    let on_drift = if args.accept {
        OnDrift::Accept
    } else {
        OnDrift::Propose(updates)
    };
    let results = runtime.block_on(for_each_case(
        Arc::clone(&prepared.session),
        Arc::new(prepared.loaded.scenarios.clone()),
        planned,
        prepared.jobs,
        |result: &DriftResult| match format {
            ReportFormat::Human => out!(
                "{}",
                report::drift::human(&result.report, result.accepted.as_ref(), style)
            ),
            ReportFormat::Json => outln!("{}", report::drift::json(&result.report)),
        },
        move |session, scenario, index| async move {
            drift_case(&session, &scenario, &scenario.cases[index], on_drift).await
        },
    ));
    let reports: Vec<CaseDrift> = results.into_iter().map(|r| r.report).collect();
    let found = prepared.session.guard().findings();
    if !found.is_empty() {
        errln!("warning: {}", report::text::secret_replaced(&found));
    }
    if format == ReportFormat::Human {
        out!("{}", report::drift::summary(&reports, style));
    }
    if prepared.session.interrupt().is_raised() {
        errln!("{}", super::run::interrupted_summary(reports.len(), total));
        return Ok(exit_code::INTERRUPTED);
    }
    Ok(exit_for(&reports))
}

/// 2 for an unreadable cassette, 3 when something drifted, 1 when a case could not be
/// compared (no cassette), 0 otherwise.
pub fn exit_for(reports: &[CaseDrift]) -> u8 {
    if reports.iter().any(|r| r.bad_input) {
        exit_code::BAD_INPUT
    } else if reports.iter().any(CaseDrift::drifted) {
        exit_code::DRIFT
    } else if reports.iter().any(|r| r.error.is_some()) {
        exit_code::FAILED
    } else {
        exit_code::SUCCESS
    }
}

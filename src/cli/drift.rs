//! `fph drift`: replays the recorded scenarios live and says, field by field, what the
//! gateway now answers differently. Nothing is written unless `--accept`, which re-records
//! the drifted cases only. Exit 3 when anything drifted.

use std::sync::Arc;

use anyhow::Context as _;
use freedompay_harness::drift::{self, CaseDrift};
use freedompay_harness::exit_code;
use freedompay_harness::report::json::quote;
use freedompay_harness::report::{ColorChoice, Style};
use freedompay_harness::review::Updates;
use freedompay_harness::runner::mode::Mode;
use freedompay_harness::runner::suite::{for_each_case, plan};

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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    super::run::report_swept(&prepared.session);
    super::interrupt::listen(&runtime, Arc::clone(&prepared.session));
    let total = planned.len();
    let format = args.run.report;
    let accept = args.accept;
    // Without --accept, FPH_UPDATE=new (or --update new) proposes the drifted cassettes as
    // `*.yaml.new` for `fph review`, as expected bodies are.
    let updates = Updates::new(args.run.update);
    let results = runtime.block_on(for_each_case(
        Arc::clone(&prepared.session),
        Arc::new(prepared.loaded.scenarios.clone()),
        planned,
        prepared.jobs,
        |(report, accepted): &(CaseDrift, Option<String>)| match format {
            ReportFormat::Human => out!("{}", human(report, accepted.as_deref(), style)),
            ReportFormat::Json => outln!("{}", json(report)),
        },
        move |session, scenario, index| async move {
            let case = &scenario.cases[index];
            let (outcome, report) = session.drift(&scenario, case).await;
            let accepted = report.drifted().then(|| {
                // A gateway that did not answer properly has not changed; recording that
                // would replace a good cassette with an error page.
                if let Some(reason) = outcome.improper_answer() {
                    return format!("not re-recorded: {reason}");
                }
                if accept {
                    return match session.save(&scenario, case, &outcome) {
                        Ok(()) => format!("re-recorded {}", report.cassette.display()),
                        Err(error) => format!("not re-recorded: {error}"),
                    };
                }
                match session.recording(&scenario, case, &outcome).to_yaml() {
                    Ok(yaml) => updates.offer(&report.cassette, &yaml).to_string(),
                    Err(error) => format!("failed to write the new recording: {error}"),
                }
            });
            (report, accepted)
        },
    ));
    let reports: Vec<CaseDrift> = results.into_iter().map(|(r, _)| r).collect();
    if let Some(warning) = prepared.session.guard().warning() {
        errln!("warning: {warning}");
    }
    if format == ReportFormat::Human {
        out!("{}", summary(&reports, style));
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

pub fn human(report: &CaseDrift, accepted: Option<&str>, style: Style) -> String {
    let mut out = String::new();
    let status = if report.error.is_some() {
        style.red("ERROR")
    } else if report.drifted() {
        style.yellow("DRIFT")
    } else {
        style.green("SAME ")
    };
    out.push_str(&format!("{status} {}\n", report.name));
    if let Some(error) = &report.error {
        out.push_str(&format!("    {error}\n"));
    }
    for drift in &report.drifts {
        out.push_str(&format!("    {drift}\n"));
    }
    if let Some(accepted) = accepted {
        out.push_str(&format!("    {accepted}\n"));
    }
    out
}

pub fn summary(reports: &[CaseDrift], style: Style) -> String {
    let drifted = reports.iter().filter(|r| r.drifted()).count();
    let mut out = format!("\n{drifted} of {} cases drifted\n", reports.len());
    let counts = drift::summary(reports);
    if !counts.is_empty() {
        out.push_str("\n| kind | differences |\n|---|---|\n");
        for (kind, count) in counts {
            out.push_str(&format!("| {} | {count} |\n", style.bold(kind.name())));
        }
    }
    out
}

pub fn json(report: &CaseDrift) -> String {
    let drifts: Vec<String> = report
        .drifts
        .iter()
        .map(|d| {
            format!(
                "{{\"step\":{},\"kind\":{},\"path\":{},\"recorded\":{},\"live\":{}}}",
                quote(&d.step),
                quote(d.kind.name()),
                quote(&d.path),
                d.recorded.as_deref().map_or("null".to_owned(), quote),
                d.live.as_deref().map_or("null".to_owned(), quote),
            )
        })
        .collect();
    format!(
        "{{\"type\":\"drift\",\"name\":{},\"cassette\":{},\"drifted\":{},\"error\":{},\"drifts\":[{}]}}",
        quote(&report.name),
        quote(&report.cassette.display().to_string()),
        report.drifted(),
        report.error.as_deref().map_or("null".to_owned(), quote),
        drifts.join(",")
    )
}

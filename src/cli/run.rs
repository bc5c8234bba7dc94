//! `fph run`: loads the scenarios, starts a session in the chosen mode against the chosen
//! target, runs the selected cases concurrently and reports them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::exit_code;
use crate::report::{self, ColorChoice, Style};
use crate::review::{UPDATE_ENV, UpdatePolicy, Updates};
use crate::run::{Resolved, RunConfig, RunSummary};
use crate::runner::mode::Mode;
use crate::runner::observe::Observer;
use crate::runner::suite::{plan, run_all};
use crate::runner::{CaseOutcome, Session};
use anyhow::Context as _;

use super::load::{Loaded, SelectArgs, load};
use super::watch::Watch;

/// How cases are reported on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// A line per case, details for failures, a summary.
    #[default]
    Human,
    /// One JSON object per case per line.
    Json,
}

/// One `--report`: the format on standard output, or a report written to a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportChoice {
    Stdout(ReportFormat),
    /// `html=DIR`: `DIR/index.html`.
    Html(PathBuf),
}

/// Parses `human`, `json` or `html=DIR`.
fn parse_report(text: &str) -> Result<ReportChoice, String> {
    match text.split_once('=') {
        Some(("html", "")) => Err("html=DIR needs a directory, e.g. html=target/fph-report".into()),
        Some(("html", dir)) => Ok(ReportChoice::Html(PathBuf::from(dir))),
        None if text.eq_ignore_ascii_case("human") => Ok(ReportChoice::Stdout(ReportFormat::Human)),
        None if text.eq_ignore_ascii_case("json") => Ok(ReportChoice::Stdout(ReportFormat::Json)),
        _ => Err(format!(
            "`{text}` is not a report: use human, json (on standard output) or html=DIR"
        )),
    }
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Where to send requests: emulator, sandbox, production, a target named in harness.yaml,
    /// or a URL [default: harness.yaml's default_target, else emulator].
    #[arg(long, env = crate::env::TARGET, value_name = "TARGET")]
    pub target: Option<String>,
    /// replay (offline, from cassettes), record, once, live or drift.
    #[arg(long, env = crate::env::MODE, value_enum, default_value_t = Mode::Replay)]
    pub mode: Mode,
    /// How many cases run at once [default: 8 on the emulator and in replay, 1 on Freedom Pay hosts].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Allow requests to production (api.freedompay.kz): it moves real money.
    #[arg(long)]
    pub allow_production: bool,
    /// When recording, also write the cassette of a case that failed.
    #[arg(long)]
    pub keep_failed: bool,
    /// Where cassettes live [default: `recordings` beside the scenarios directory].
    #[arg(long, value_name = "DIR")]
    pub recordings: Option<PathBuf>,
    /// The public address that forwards to this run's callback receiver (which listens on
    /// 127.0.0.1): what `callback_url()` gives a remote gateway, e.g. an ngrok URL.
    #[arg(long, env = crate::env::CALLBACK_BASE_URL, value_name = "URL", value_parser = crate::run::config::parse_callback_base)]
    pub callback_base_url: Option<String>,
    /// The port the callback receiver listens on at 127.0.0.1 [default: any free port]: point
    /// the forwarder behind --callback-base-url here (`ngrok http 9000` → --callback-port 9000).
    #[arg(long, env = crate::env::CALLBACK_PORT, value_name = "PORT")]
    pub callback_port: Option<u16>,
    /// human or json on standard output [default: human]; html=DIR also writes
    /// DIR/index.html (repeatable: `--report json --report html=out`).
    #[arg(long, value_name = "FORMAT", value_parser = parse_report)]
    pub report: Vec<ReportChoice>,
    /// Print each request and answer as it happens, on standard error (redacted values and
    /// the secret masked).
    #[arg(long, short = 'v', conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only failures and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Start no case after the first one that fails; the rest are reported as not run.
    #[arg(long)]
    pub fail_fast: bool,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// When an answer differs from its expected body: no (write nothing), new (write
    /// FILE.xml.new for `fph review`) or always (overwrite FILE.xml). Nothing is written when
    /// CI is set.
    #[arg(
        long,
        env = UPDATE_ENV,
        value_enum,
        ignore_case = true,
        default_value_t = UpdatePolicy::No,
        value_name = "POLICY"
    )]
    pub update: UpdatePolicy,
}

impl RunArgs {
    /// The format on standard output: the last `human` or `json`, else human.
    pub fn stdout_format(&self) -> ReportFormat {
        self.report
            .iter()
            .rev()
            .find_map(|r| match r {
                ReportChoice::Stdout(format) => Some(*format),
                ReportChoice::Html(_) => None,
            })
            .unwrap_or_default()
    }

    /// The directories asked for with `html=DIR`.
    pub fn html_dirs(&self) -> Vec<&std::path::Path> {
        self.report
            .iter()
            .filter_map(|r| match r {
                ReportChoice::Html(dir) => Some(dir.as_path()),
                ReportChoice::Stdout(_) => None,
            })
            .collect()
    }
}

/// A loaded, started run, ready to execute.
pub struct Prepared {
    pub session: Arc<Session>,
    pub loaded: Loaded,
    pub jobs: usize,
}

/// Loads, resolves the target and credentials and starts the session. `Ok(Err(code))` when
/// diagnostics were printed.
pub fn prepare(
    args: &RunArgs,
    mode: Mode,
    color: ColorChoice,
) -> anyhow::Result<Result<Prepared, u8>> {
    let Some(loaded) = load(&args.select, color) else {
        return Ok(Err(exit_code::BAD_INPUT));
    };
    // The flags already carry the environment's FPH_MODE / FPH_TARGET / FPH_UPDATE (clap).
    let run = RunConfig {
        mode,
        target: args.target.clone(),
        allow_production: args.allow_production,
        keep_failed: args.keep_failed,
        recordings: args.recordings.clone(),
        callback_base_url: args.callback_base_url.clone(),
        callback_port: args.callback_port,
        jobs: args.jobs,
        updates: Updates::new(args.update),
        ..RunConfig::default()
    };
    let Resolved { options, jobs } = run.resolve(&loaded.config, &args.select.config_dir())?;
    let session = Session::start(options, &loaded.scenarios)?;
    // Behind a forwarder, say where it must point: the receiver's port is free-chosen unless
    // --callback-port fixed it.
    if let (Some(_), Some((public, local))) = (&args.callback_base_url, session.callback_receiver())
    {
        errln!("callbacks: {public} is forwarded to http://{local}");
    }
    Ok(Ok(Prepared {
        session: Arc::new(session),
        loaded,
        jobs,
    }))
}

pub fn run(args: RunArgs, color: ColorChoice) -> anyhow::Result<u8> {
    if args.mode == Mode::Drift {
        // `--mode drift` (or FPH_MODE=drift) is `fph drift`: same report, exit 3 on drift.
        return super::drift::run(super::drift::DriftArgs::from_run(args), color);
    }
    // Checked before any request: finding out after a recording session is too late.
    if let Some(path) = &args.junit {
        check_writable(path)?;
    }
    for dir in args.html_dirs() {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "failed to create the HTML report directory {}",
                dir.display()
            )
        })?;
    }
    let prepared = match prepare(&args, args.mode, color)? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let style = Style::for_stdout(color);
    let reporting = Reporting {
        format: args.stdout_format(),
        style,
        keep_outcomes: args.junit.is_some() || !args.html_dirs().is_empty(),
        fail_fast: args.fail_fast,
        verbose: args.verbose,
        quiet: args.quiet,
        stderr_style: super::load::style_for_stderr(color),
    };
    let executed = execute(prepared, &args.select, reporting)?;
    if let Some(path) = &args.junit {
        let xml = report::junit::report(&executed.outcomes, &executed.run_info.not_run)
            .map_err(anyhow::Error::msg)?;
        std::fs::write(path, xml).with_context(|| format!("failed to write {}", path.display()))?;
    }
    for dir in args.html_dirs() {
        let html = report::html::report(&executed.outcomes, &executed.run_info);
        let path = dir.join("index.html");
        std::fs::write(&path, html)
            .with_context(|| format!("failed to write {}", path.display()))?;
        errln!("HTML report: {}", path.display());
    }
    Ok(executed.summary.exit_code())
}

/// Fails unless `path` can be written, without changing it: a file that exists is opened
/// for appending, one that does not is created and removed again.
fn check_writable(path: &std::path::Path) -> anyhow::Result<()> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("failed to open the --junit report {}", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Why nothing ran, and what to do about it.
pub fn nothing_selected(select: &SelectArgs) -> String {
    let selection = select.selection();
    let mut asked = Vec::new();
    for filter in &selection.filters {
        asked.push(format!("--filter {filter:?}"));
    }
    for tag in &selection.tags {
        asked.push(format!("--tag {tag}"));
    }
    for tag in &selection.exclude_tags {
        asked.push(format!("--exclude-tag {tag}"));
    }
    if asked.is_empty() {
        "error: no scenario case found; `fph lint` checks the scenario paths".to_owned()
    } else {
        format!(
            "error: no case matches {}; `fph list` shows every case and its tags",
            asked.join(" ")
        )
    }
}

/// A finished run: its summary, and the outcomes when they were kept.
#[derive(Debug, Default)]
pub struct Executed {
    pub summary: RunSummary,
    /// Every outcome in plan order, when asked for (a JUnit report); empty otherwise, so a
    /// large suite does not hold every request and answer until the end.
    pub outcomes: Vec<CaseOutcome>,
    /// The run as a whole, for reports written at the end.
    pub run_info: report::html::RunInfo,
}

/// How [`execute`] reports a run.
#[derive(Debug, Clone, Copy)]
pub struct Reporting {
    pub format: ReportFormat,
    pub style: Style,
    /// Keep every outcome (for a report written at the end, like JUnit).
    pub keep_outcomes: bool,
    /// Start no case after the first failure.
    pub fail_fast: bool,
    /// Print each request and answer on standard error.
    pub verbose: bool,
    /// Leave out the lines of cases that passed.
    pub quiet: bool,
    /// Colours on standard error (the progress bar, `--verbose`).
    pub stderr_style: Style,
}

impl Reporting {
    /// The human report on standard output, nothing kept, every case run.
    pub fn human(style: Style) -> Reporting {
        Reporting {
            format: ReportFormat::Human,
            style,
            keep_outcomes: false,
            fail_fast: false,
            verbose: false,
            quiet: false,
            stderr_style: Style::PLAIN,
        }
    }
}

/// Runs the selected cases, printing each as it ends and a summary; keeps the outcomes only
/// when `keep_outcomes`. Cases a `--fail-fast` stop left out are reported as not run.
pub fn execute(
    prepared: Prepared,
    select: &SelectArgs,
    reporting: Reporting,
) -> anyhow::Result<Executed> {
    let Reporting {
        format,
        style,
        keep_outcomes,
        fail_fast,
        verbose,
        quiet,
        stderr_style,
    } = reporting;
    let planned = plan(&prepared.loaded.scenarios, &select.selection());
    if planned.is_empty() {
        // Like nextest, not like `cargo test`: a mistyped filter must not pass CI by
        // running nothing.
        errln!("{}", nothing_selected(select));
        return Ok(Executed {
            summary: RunSummary::nothing_selected(),
            ..Executed::default()
        });
    }
    let runtime = super::runtime()?;
    report_swept(&prepared.session);
    super::interrupt::listen(&runtime, Arc::clone(&prepared.session));
    let total = planned.len();
    // Names only: what a `--fail-fast` stop left out is named after the run.
    let planned_names: Vec<String> = planned
        .iter()
        .map(|p| {
            let scenario = &prepared.loaded.scenarios[p.scenario];
            scenario.case_id(&scenario.cases[p.case])
        })
        .collect();
    let mut reported = std::collections::HashSet::new();
    let watch = Arc::new(Watch::new(total, verbose, stderr_style));
    if watch.is_active() {
        prepared
            .session
            .observe(Arc::clone(&watch) as Arc<dyn Observer>);
    }
    // The run takes the scenarios over: nothing needs them after it.
    let scenarios = Arc::new(prepared.loaded.scenarios);
    let started = Instant::now();
    let mut executed = Executed::default();
    let kept = runtime.block_on(run_all(
        Arc::clone(&prepared.session),
        scenarios,
        planned,
        prepared.jobs,
        fail_fast,
        |outcome| {
            if fail_fast {
                reported.insert(outcome.full_name());
            }
            watch.case_done(outcome.passed());
            watch.suspend(|| match format {
                ReportFormat::Human if quiet && outcome.passed() => {}
                ReportFormat::Human => out!("{}", report::human::case_report(&outcome, style)),
                ReportFormat::Json => outln!("{}", report::json::case_line(&outcome)),
            });
            executed.summary.add(&outcome);
            keep_outcomes.then_some(outcome)
        },
    ));
    watch.finish();
    executed.outcomes = kept.into_iter().flatten().collect();
    let session = &prepared.session;
    executed.run_info = report::html::RunInfo {
        mode: session.mode().to_string(),
        target: match session.mode() {
            Mode::Replay => format!(
                "recordings made against {}",
                session.replayed_from().join(", ")
            ),
            _ => session.target().name.clone(),
        },
        elapsed: started.elapsed(),
        not_run: Vec::new(),
    };
    let summary = &mut executed.summary;
    if prepared.session.interrupt().is_halted() {
        for name in planned_names.iter().filter(|n| !reported.contains(*n)) {
            executed.run_info.not_run.push(name.clone());
            match format {
                ReportFormat::Human => outln!("{}", report::human::not_run_line(name, style)),
                ReportFormat::Json => outln!("{}", report::json::not_run_line(name)),
            }
            summary.not_run += 1;
        }
    }
    summary.interrupted = prepared.session.interrupt().is_raised();
    if summary.interrupted {
        errln!("{}", interrupted_summary(summary.total(), total));
    }
    // Once per run, on standard error, whatever the report format (each case says it too).
    let found = prepared.session.guard().findings();
    if !found.is_empty() {
        errln!("warning: {}", report::text::secret_replaced(&found));
    }
    if format == ReportFormat::Json {
        let session = &prepared.session;
        let counts = report::json::Counts {
            passed: summary.passed,
            failed: summary.failed - summary.errored,
            errored: summary.errored,
            not_run: summary.not_run,
            interrupted: summary.interrupted,
            elapsed: started.elapsed(),
        };
        outln!(
            "{}",
            report::json::summary_line(
                &counts,
                &session.mode().to_string(),
                &session.target().name
            )
        );
    }
    if format == ReportFormat::Human {
        let session = &prepared.session;
        // A replay contacts no target: it names the ones its recordings were made against.
        let against = match session.mode() {
            Mode::Replay => match session.replayed_from().as_slice() {
                [] => "replay, no recordings read".to_owned(),
                targets => format!("replay of recordings made against {}", targets.join(", ")),
            },
            mode => format!("{mode} mode, target {}", session.target().name),
        };
        let not_run = match summary.not_run {
            0 => String::new(),
            n => format!(", {}", style.yellow(&format!("{n} not run (--fail-fast)"))),
        };
        outln!(
            "\n{}{not_run} ({against})",
            report::summary_counts(summary.passed, summary.failed, started.elapsed(), style),
        );
        let pending = summary.pending_updates;
        if pending > 0 {
            outln!(
                "{}",
                style.yellow(&format!(
                    "{pending} expected bod{} written as .new: review with `fph review`",
                    if pending == 1 { "y" } else { "ies" }
                ))
            );
        }
    }
    Ok(executed)
}

/// What an interrupted run did: `finished` of `total` cases reported (their cassettes, when
/// recording, written whole), the rest never started or stopped before writing anything.
pub fn interrupted_summary(finished: usize, total: usize) -> String {
    format!(
        "interrupted: {finished} of {total} cases finished and reported; the other {} did not run to the end and wrote nothing",
        total - finished
    )
}

/// Says which temporary files a killed recording had left (the session removed them).
pub fn report_swept(session: &Session) {
    for path in session.swept() {
        errln!(
            "removed {}, left by an interrupted recording",
            path.display()
        );
    }
}

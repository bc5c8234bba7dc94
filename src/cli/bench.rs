//! `fph bench`: generates a synthetic suite (`--cases`, 1,000 by default), records it against
//! an in-process emulator, and measures replay (against its parse floor), live runs at each
//! `--jobs`, the emulator alone (the ceiling for live), and the emulator through a recording
//! proxy (`fph proxy`), compared with the emulator served directly. Every phase runs in a child
//! process (`fph bench --phase P --dir D`, hidden) so each peak-memory figure is that phase's
//! own. Children print one `fph-bench key=value …` line; the parent prints those lines as
//! they come, then a Markdown table with the ratios. `--encoding` lists the wire encodings
//! the live runs and the two ceilings are measured in, one figure per encoding (the recorded
//! suite, so record and replay, is multipart). The measuring is in
//! `crate::bench`; nothing here asserts a figure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench::{self, Figures, Phase, Suite};
use crate::exit_code;
use crate::gateway::Encoding;
use anyhow::{Context as _, bail};

/// Cases at a time for recording, the parse floor and replay (replay's is `fph run`'s
/// default).
const RECORD_JOBS: usize = 64;
const REPLAY_JOBS: usize = 8;
/// Keep-alive connections for the emulator alone: as many as the widest live run.
const EMULATOR_CONNECTIONS: usize = 64;

/// What `--phases` can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Measure {
    /// Replay (offline, from cassettes) and its floor, parsing the same cassettes.
    Replay,
    /// The suite against an in-process emulator, once per `--jobs` value.
    Live,
    /// The emulator alone answering status requests over keep-alive connections, then the
    /// harness's HTTP client alone sending them: the two ceilings for live.
    Emulator,
    /// The emulator's status requests through a recording proxy (`fph proxy`) in front of
    /// it, against the emulator served directly (measured too unless `emulator` was).
    Proxy,
    /// Init at the emulator's payment cap (100,000 held) against init on an empty store.
    EmulatorCap,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Cases in the generated suite (scenario files of 10 matrix rows, 5 calls per case).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    cases: usize,
    /// What to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "replay,live,emulator,proxy,emulator-cap"
    )]
    phases: Vec<Measure>,
    /// Cases in flight at once for the live runs, one run per value.
    #[arg(
        long,
        value_name = "N,…",
        value_delimiter = ',',
        default_value = "1,8,64"
    )]
    jobs: Vec<usize>,
    /// Keep the suite and its recordings in DIR instead of a temporary directory; a DIR that
    /// already holds a recorded suite of --cases cases is reused as it is.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// How requests go on the wire in the live runs and the ceilings, one measurement per
    /// encoding: multipart, urlencoded, get, pg_xml, json.
    #[arg(
        long,
        value_name = "ENCODING,…",
        value_delimiter = ',',
        default_value = "multipart"
    )]
    encoding: Vec<Encoding>,
    /// How long the emulator alone is measured, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    emulator_secs: f64,
    /// Run one phase in this process and print its figure line (what the parent runs).
    #[arg(long, hide = true, value_name = "PHASE", requires = "dir")]
    phase: Option<String>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<u8> {
    if let Some(phase) = &args.phase {
        let dir = args
            .dir
            .as_deref()
            .expect("clap requires --dir with --phase");
        let figures = run_phase(phase, dir, &args)?;
        outln!("{}", figures.line());
        return Ok(exit_code::SUCCESS);
    }
    if args.cases == 0 {
        bail!("--cases must be at least 1");
    }
    let temp;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("fph-bench-")
                .tempdir()
                .context("failed to create a temporary directory")?;
            temp.path().to_owned()
        }
    };
    let suite = match Suite::existing(&dir) {
        Some(suite) if suite.cases == args.cases && suite.is_recorded() => {
            outln!(
                "reusing the recorded suite of {} cases in {}",
                suite.cases,
                dir.display()
            );
            suite
        }
        _ => {
            if dir.join("scenarios").exists() || dir.join("recordings").exists() {
                bail!(
                    "{} holds a suite of another size, or one whose recording did not finish; give an empty or new directory",
                    dir.display()
                );
            }
            let started = Instant::now();
            let suite = bench::generate(&dir, args.cases)?;
            outln!(
                "generated {} cases ({} scenario files of up to {} rows, 5 calls each) in {} in {:.2} s",
                suite.cases,
                suite.cases.div_ceil(bench::ROWS_PER_SCENARIO),
                bench::ROWS_PER_SCENARIO,
                dir.display(),
                started.elapsed().as_secs_f64()
            );
            child(&dir, Phase::Record, RECORD_JOBS, Encoding::Multipart, &args)?;
            suite
        }
    };
    let mut figures = Vec::new();
    for measure in &args.phases {
        match measure {
            Measure::Replay => {
                for phase in [Phase::Parse, Phase::Replay] {
                    let multipart = Encoding::Multipart;
                    figures.push(child(&suite.dir, phase, REPLAY_JOBS, multipart, &args)?);
                }
            }
            Measure::Live => {
                for &encoding in &args.encoding {
                    for &jobs in &args.jobs {
                        let jobs = jobs.max(1);
                        figures.push(child(&suite.dir, Phase::Live, jobs, encoding, &args)?);
                    }
                }
            }
            Measure::Emulator => {
                for &encoding in &args.encoding {
                    for phase in [Phase::Emulator, Phase::Client] {
                        let conns = EMULATOR_CONNECTIONS;
                        figures.push(child(&suite.dir, phase, conns, encoding, &args)?);
                    }
                }
            }
            Measure::Proxy => {
                for &encoding in &args.encoding {
                    let measured =
                        |f: &Figures| f.phase == Phase::Emulator && f.encoding == encoding;
                    if !figures.iter().any(measured) {
                        let conns = EMULATOR_CONNECTIONS;
                        figures.push(child(&suite.dir, Phase::Emulator, conns, encoding, &args)?);
                    }
                    let conns = EMULATOR_CONNECTIONS;
                    figures.push(child(&suite.dir, Phase::Proxy, conns, encoding, &args)?);
                }
            }
            Measure::EmulatorCap => {
                for phase in [Phase::InitEmpty, Phase::InitCap] {
                    let (conns, wire) = (EMULATOR_CONNECTIONS, Encoding::Urlencoded);
                    figures.push(child(&suite.dir, phase, conns, wire, &args)?);
                }
            }
        }
    }
    outln!();
    out!("{}", table(&figures));
    Ok(exit_code::SUCCESS)
}

/// One phase, in this process.
fn run_phase(name: &str, dir: &Path, args: &BenchArgs) -> anyhow::Result<Figures> {
    let phase = Phase::from_name(name).with_context(|| format!("unknown phase `{name}`"))?;
    let jobs = args.jobs.first().copied().unwrap_or(1).max(1);
    let encoding = args.encoding.first().copied().unwrap_or_default();
    if let Phase::Emulator | Phase::Client | Phase::Proxy = phase {
        let secs = Duration::try_from_secs_f64(args.emulator_secs)
            .context("--emulator-secs must be a positive number")?;
        return Ok(match phase {
            Phase::Emulator => bench::emulator(jobs, secs, encoding)?,
            Phase::Proxy => bench::proxy(jobs, secs, encoding, dir)?,
            _ => bench::client(jobs, secs, encoding)?,
        });
    }
    if let Phase::InitEmpty | Phase::InitCap = phase {
        return Ok(bench::init_pairs(phase, bench::CAP_PAIRS, jobs)?);
    }
    let suite =
        Suite::existing(dir).with_context(|| format!("no benchmark suite in {}", dir.display()))?;
    Ok(match phase {
        Phase::Record => bench::record(&suite, jobs)?,
        Phase::Parse => bench::parse_floor(&suite, jobs)?,
        Phase::Replay => bench::replay(&suite, jobs)?,
        Phase::Live => bench::live(&suite, jobs, encoding)?,
        Phase::Emulator | Phase::Client | Phase::Proxy | Phase::InitEmpty | Phase::InitCap => {
            unreachable!("handled above")
        }
    })
}

/// Runs `fph bench --phase …` as a child process, echoes its figure line and returns it.
fn child(
    dir: &Path,
    phase: Phase,
    jobs: usize,
    encoding: Encoding,
    args: &BenchArgs,
) -> anyhow::Result<Figures> {
    let exe = std::env::current_exe().context("failed to find the fph executable")?;
    let output = Command::new(exe)
        .arg("bench")
        .arg("--phase")
        .arg(phase.name())
        .arg("--dir")
        .arg(dir)
        .arg("--cases")
        .arg(args.cases.to_string())
        .arg("--jobs")
        .arg(jobs.to_string())
        .arg("--encoding")
        .arg(encoding.name())
        .arg("--emulator-secs")
        .arg(args.emulator_secs.to_string())
        .output()
        .with_context(|| format!("failed to start the {} phase", phase.name()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the {} phase failed ({}): {}",
            phase.name(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let figures = stdout
        .lines()
        .find_map(Figures::parse_line)
        .with_context(|| format!("the {} phase printed no figures: {stdout}", phase.name()))?;
    outln!("{}", figures.line());
    Ok(figures)
}

/// The figures as a Markdown table, with replay against its floor, and live and the client
/// alone against the emulator's rate (live also against the client's).
fn table(figures: &[Figures]) -> String {
    let floor = figures.iter().find(|f| f.phase == Phase::Parse);
    // Live and the client are compared with the ceilings measured in their own encoding.
    let rate = |phase: Phase, encoding: Encoding| {
        figures
            .iter()
            .find(|f| f.phase == phase && f.encoding == encoding)
            .map(Figures::requests_per_second)
            .filter(|rate| *rate > 0.0)
    };
    // Rows are named by encoding once any measurement that takes `--encoding` used another.
    let several = figures
        .iter()
        .any(|f| f.phase.takes_encoding() && f.encoding != Encoding::Multipart);
    let mut out = String::from(
        "| phase | jobs | cases | requests | wall | cases/s | requests/s | peak memory | compared |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for f in figures {
        let (emulator, client) = (
            rate(Phase::Emulator, f.encoding),
            rate(Phase::Client, f.encoding),
        );
        let (name, jobs, cases) = match f.phase {
            Phase::Parse => ("parse floor", f.jobs.to_string(), f.cases.to_string()),
            Phase::Emulator => (
                "emulator (status)",
                format!("{} conns", f.jobs),
                "–".to_owned(),
            ),
            Phase::Client => ("client alone (status)", f.jobs.to_string(), "–".to_owned()),
            Phase::Proxy => (
                "through the proxy (status)",
                format!("{} conns", f.jobs),
                "–".to_owned(),
            ),
            Phase::InitEmpty => (
                "init + pay, empty store",
                format!("{} conns", f.jobs),
                "–".to_owned(),
            ),
            Phase::InitCap => (
                "init + pay, store at its cap",
                format!("{} conns", f.jobs),
                "–".to_owned(),
            ),
            other => (other.name(), f.jobs.to_string(), f.cases.to_string()),
        };
        let name = if several && f.phase.takes_encoding() {
            format!("{name}, {}", f.encoding)
        } else {
            name.to_owned()
        };
        let against = |ceiling: Option<f64>, what: &str| {
            ceiling.map(|c| format!("{:.2}× {what}", f.requests_per_second() / c))
        };
        let compared = match f.phase {
            Phase::Replay => floor.filter(|floor| !floor.wall.is_zero()).map(|floor| {
                format!(
                    "{:.2}× the parse floor",
                    f.wall.as_secs_f64() / floor.wall.as_secs_f64()
                )
            }),
            Phase::InitCap => figures
                .iter()
                .find(|e| e.phase == Phase::InitEmpty && !e.wall.is_zero())
                .map(|empty| {
                    format!(
                        "{:.2}× the empty store's time",
                        f.wall.as_secs_f64() / empty.wall.as_secs_f64()
                    )
                }),
            Phase::Proxy => against(emulator, "the emulator served directly"),
            Phase::Live | Phase::Client => {
                let both = [
                    against(emulator, "the emulator's rate"),
                    against(client.filter(|_| f.phase == Phase::Live), "the client's"),
                ];
                Some(both.into_iter().flatten().collect::<Vec<_>>().join(", "))
            }
            _ => None,
        }
        .unwrap_or_default();
        let cases_per_second = if f.phase.requests_only() {
            "–".to_owned()
        } else {
            format!("{:.0}", f.cases_per_second())
        };
        out.push_str(&format!(
            "| {name} | {jobs} | {cases} | {} | {:.3} s | {cases_per_second} | {:.0} | {} | {compared} |\n",
            f.requests,
            f.wall.as_secs_f64(),
            f.requests_per_second(),
            f.peak_kib
                .map_or("unknown".to_owned(), |k| format!("{:.1} MB", k as f64 / 1024.0)),
        ));
    }
    out
}

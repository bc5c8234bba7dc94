//! The command line: clap argument types (raw) and one file per subcommand that validates its
//! arguments and runs. Every subcommand returns the exit code to use; an `Err` is bad input.
//!
//! Every command prints through [`out!`], [`outln!`] and [`errln!`], which drop what a closed
//! pipe cannot take: `fph run --report json | head -1` ends quietly (the run goes on and
//! exits as it would have), where `println!` panics on a broken pipe.

/// `print!` that ignores a closed or failing standard output.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` that ignores a closed or failing standard output.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed or failing standard error.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod bench;
mod diff_recordings;
mod drift;
mod emulator;
mod init;
mod interrupt;
mod lint;
mod list;
mod load;
mod review;
mod run;
mod schema;
mod secret;
mod sign;
mod verify;

use clap::{Parser, Subcommand};
use freedompay_harness::report::ColorChoice;

/// Contract tests and replay for the Freedom Pay Mobile balance API.
#[derive(Debug, Parser)]
#[command(name = "fph", version, about, propagate_version = true)]
pub struct Cli {
    /// Colour: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios: replayed from cassettes (default), recorded, or live.
    Run(run::RunArgs),
    /// Replay the recorded scenarios live and report what the gateway answers differently.
    Drift(drift::DriftArgs),
    /// Compare two sets of recordings with the drift classification.
    DiffRecordings(diff_recordings::DiffRecordingsArgs),
    /// List the cases the scenarios expand into.
    List(list::ListArgs),
    /// Check harness.yaml and the scenarios without running anything.
    Lint(lint::LintArgs),
    /// Accept or reject the pending .new files that `fph run --update new` wrote.
    Review(review::ReviewArgs),
    /// Print the pg_sig of a message (the secret comes from FREEDOMPAY_SECRET_KEY or --secret-file).
    Sign(sign::SignArgs),
    /// Check the pg_sig of a saved gateway answer.
    Verify(verify::VerifyArgs),
    /// Run the gateway emulator as a standalone server until Ctrl-C.
    Emulator(emulator::EmulatorArgs),
    /// Measure replay, live runs and the emulator on a generated suite (figures, no checks).
    Bench(bench::BenchArgs),
    /// Scaffold a contract suite in a project: scenarios, recordings, harness.yaml, schemas.
    Init(init::InitArgs),
    /// Print the JSON Schema of scenarios, harness.yaml or cassettes (for editors).
    Schema(schema::SchemaArgs),
}

/// Runs the chosen subcommand; returns the process exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let color = cli.color;
    match cli.command {
        Command::Run(args) => run::run(args, color),
        Command::List(args) => list::run(args, color),
        Command::Drift(args) => drift::run(args, color),
        Command::DiffRecordings(args) => diff_recordings::run(args, color),
        Command::Lint(args) => lint::run(args, color),
        Command::Review(args) => review::run(args, color),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Emulator(args) => emulator::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Init(args) => init::run(args, color),
        Command::Schema(args) => schema::run(args),
    }
}

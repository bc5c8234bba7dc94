//! The command line: clap argument types (raw) and one file per subcommand that validates its
//! arguments and runs. Every subcommand returns the exit code to use; an `Err` is bad input.
//!
//! Every command prints through `out!`, `outln!` and `errln!`, which drop what a closed
//! pipe cannot take: `fph run --report json | head -1` ends quietly (the run goes on and
//! exits as it would have), where `println!` panics on a broken pipe.

// The argument types' doc comments are `fph --help`'s text, where `<case>` is a placeholder,
// not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

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
mod callback;
mod diff_recordings;
mod drift;
mod emulator;
mod init;
mod interrupt;
mod lint;
mod list;
mod load;
mod proxy;
mod review;
mod run;
mod scenario;
mod schema;
mod secret;
mod sign;
mod verify;
mod watch;

use clap::{Parser, Subcommand};

use crate::report::ColorChoice;

/// `fph bench`'s measuring, for this package's other targets: the emulator phase that
/// `cargo bench --bench emulator` runs, and the figure lines the CLI tests read back.
pub use crate::bench::{Figures, Phase, emulator as bench_emulator};
/// The harness's callback receiver, which the CLI tests use to check what `fph callback send`
/// signs.
pub use crate::transport::{Reply, receiver::Receiver};

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
    /// Print shell completions: `fph completions bash > /etc/bash_completion.d/fph`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
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
    /// Forward a backend's calls to a target and record them (recordings/proxy/SESSION.yaml).
    Proxy(proxy::ProxyArgs),
    /// Make scenarios: `fph scenario from-recording recordings/proxy/NAME.yaml`.
    Scenario(scenario::ScenarioArgs),
    /// Drive a merchant's callback handler: `fph callback send result --to URL`.
    Callback(callback::CallbackArgs),
}

/// Why a command stopped without an exit code of its own: the user's input (exit 2), or the
/// machine (exit 4). Decided by the error's type, not its words.
#[derive(Debug)]
pub enum Failure {
    BadInput(anyhow::Error),
    Setup(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => crate::exit_code::BAD_INPUT,
            Failure::Setup(_) => crate::exit_code::SETUP_FAILED,
        }
    }

    pub fn error(&self) -> &anyhow::Error {
        match self {
            Failure::BadInput(error) | Failure::Setup(error) => error,
        }
    }
}

/// A failure of the machine, not of the input: what could not be started, and why.
#[derive(Debug, thiserror::Error)]
#[error("failed to start {what}: {source}")]
pub struct Setup {
    what: &'static str,
    #[source]
    source: std::io::Error,
}

/// The multi-threaded runtime a run executes on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| {
            anyhow::Error::new(Setup {
                what: "the async runtime",
                source,
            })
        })
}

impl From<anyhow::Error> for Failure {
    /// A [`Setup`] failure, or an emulator that could not bind or start, is the machine's;
    /// everything else — a bad target, credentials, configuration, a path that does not
    /// exist or cannot be written — is input the user can fix.
    fn from(error: anyhow::Error) -> Failure {
        use crate::emulator::EmulatorError;
        let setup = error.chain().any(|cause| {
            cause.is::<Setup>()
                || matches!(
                    cause.downcast_ref::<EmulatorError>(),
                    Some(EmulatorError::Bind { .. } | EmulatorError::Runtime(_))
                )
                || matches!(
                    cause.downcast_ref::<crate::proxy::ProxyError>(),
                    Some(crate::proxy::ProxyError::Bind { .. })
                        | Some(crate::proxy::ProxyError::Start(_))
                )
        });
        if setup {
            Failure::Setup(error)
        } else {
            Failure::BadInput(error)
        }
    }
}

/// Runs the chosen subcommand; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<u8, Failure> {
    dispatch_command(cli).map_err(Failure::from)
}

fn dispatch_command(cli: Cli) -> anyhow::Result<u8> {
    let color = cli.color;
    match cli.command {
        Command::Run(args) => run::run(args, color),
        Command::List(args) => list::run(args, color),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "fph", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            Ok(crate::exit_code::SUCCESS)
        }
        Command::Drift(args) => drift::run(args, color),
        Command::DiffRecordings(args) => diff_recordings::run(args, color),
        Command::Lint(args) => lint::run(args, color),
        Command::Review(args) => review::run(args, color),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Emulator(args) => emulator::run(args, color),
        Command::Bench(args) => bench::run(args),
        Command::Init(args) => init::run(args, color),
        Command::Schema(args) => schema::run(args),
        Command::Proxy(args) => proxy::run(args, color),
        Command::Scenario(args) => scenario::run(args, color),
        Command::Callback(args) => callback::run(args),
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;
    use crate::emulator::EmulatorError;

    #[test]
    fn setup_failures_are_told_from_bad_input_by_type() {
        let io = || std::io::Error::other("boom");
        let setup = anyhow::Error::new(Setup {
            what: "the async runtime",
            source: io(),
        })
        .context("running");
        assert_eq!(Failure::from(setup).exit_code(), 4);
        let bind = anyhow::Error::new(EmulatorError::Bind {
            addr: "127.0.0.1:1".parse().unwrap(),
            source: io(),
        });
        assert_eq!(Failure::from(bind).exit_code(), 4);
        // A path the user named that does not exist is input to fix, even as an I/O error.
        let missing = anyhow::Error::new(io()).context("failed to read nowhere");
        assert_eq!(Failure::from(missing).exit_code(), 2);
        assert_eq!(
            Failure::from(anyhow::anyhow!("unknown target")).exit_code(),
            2
        );
    }
}

//! `fph`: the Freedom Pay contract-test and replay harness.
//!
//! `main` parses the arguments, hands them to one subcommand, and turns the outcome into the
//! process exit code (the codes live in `freedompay_harness::exit_code`). Usage errors are
//! clap's (exit 2); an error is bad input (exit 2) or a setup failure (exit 4) by its type;
//! a panic is a bug in fph (exit 101, Rust's default).

use std::process::ExitCode;

use clap::Parser;
use freedompay_harness::cli;

/// mimalloc for the binary: glibc's allocator took close to a third of a live run's
/// instructions (its per-thread arenas and free-list consolidation), and a run allocates
/// small strings and buffers at every step. The library leaves the choice to its users.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            // One line, `error: …: cause`, the way cargo and ripgrep print theirs; a closed
            // standard error takes nothing (no panic).
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), "error: {:#}", failure.error());
            ExitCode::from(failure.exit_code())
        }
    }
}

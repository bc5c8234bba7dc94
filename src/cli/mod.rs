//! The command line: clap argument types (raw) and one file per subcommand that validates its
//! arguments and runs. Every subcommand returns the exit code to use; an `Err` is bad input.

mod secret;
mod sign;
mod verify;

use clap::{Parser, Subcommand};

/// Contract tests and replay for the Freedom Pay Mobile balance API.
#[derive(Debug, Parser)]
#[command(name = "fph", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the pg_sig of a message (the secret comes from FREEDOMPAY_SECRET_KEY or --secret-file).
    Sign(sign::SignArgs),
    /// Check the pg_sig of a saved gateway answer.
    Verify(verify::VerifyArgs),
}

/// Runs the chosen subcommand; returns the process exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
    }
}

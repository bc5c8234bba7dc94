//! `fph verify`: checks the pg_sig of a saved gateway answer (an XML file), the way the
//! harness checks every live answer. Exit 0 when valid, 1 when missing or wrong.

use std::path::PathBuf;

use crate::exit_code;
use crate::gateway::Document;
use crate::gateway::signature::{self, Verification};
use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Script name of the request the answer belongs to (`pay`, `get_status3.php`, …).
    #[arg(long, value_name = "NAME")]
    script: String,
    /// Read the secret key from this file instead of FREEDOMPAY_SECRET_KEY.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// The saved answer.
    #[arg(value_name = "FILE.xml")]
    file: PathBuf,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<u8> {
    let body = std::fs::read(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let document = Document::parse_response(&body)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let secret = super::secret::load(args.secret_file.as_deref())?;
    match signature::verify(&args.script, &document.root, &secret) {
        Verification::Valid => {
            outln!("valid: {}", args.file.display());
            Ok(exit_code::SUCCESS)
        }
        Verification::Missing => {
            outln!("invalid: {} has no pg_sig", args.file.display());
            Ok(exit_code::FAILED)
        }
        Verification::Mismatch { expected, actual } => {
            outln!("invalid: {}", args.file.display());
            outln!("  pg_sig in the file: {actual}");
            outln!("  pg_sig expected:    {expected}");
            outln!(
                "  signed string:      {}",
                signature::explain(&args.script, &document.root)
            );
            Ok(exit_code::FAILED)
        }
    }
}

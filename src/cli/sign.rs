//! `fph sign`: the pg_sig of a message given as FIELD=VALUE arguments, and with `--explain`
//! the canonical string it was computed from (secret shown as `***`), so a merchant can
//! compare it with the string their own code builds.

use std::path::PathBuf;

use crate::exit_code;
use crate::gateway::{Fields, signature};
use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// Script name, path or URL the message is sent to (`init_payment.php`, `/mfs/pay`, …).
    #[arg(long, value_name = "NAME")]
    script: String,
    /// Also print the canonical string (secret shown as ***).
    #[arg(long)]
    explain: bool,
    /// Read the secret key from this file instead of FREEDOMPAY_SECRET_KEY.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// The message fields; nested ones as `pg_receipt_positions[0][count]=1`.
    #[arg(value_name = "FIELD=VALUE", required = true)]
    fields: Vec<String>,
}

pub fn run(args: SignArgs) -> anyhow::Result<u8> {
    let fields = Fields::from_assignments(&args.fields).context("failed to read the fields")?;
    let secret = super::secret::load(args.secret_file.as_deref())?;
    if args.explain {
        outln!("{}", signature::explain(&args.script, &fields));
    }
    outln!("{}", signature::sign(&args.script, &fields, &secret));
    Ok(exit_code::SUCCESS)
}

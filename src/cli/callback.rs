//! `fph callback send result|check --to URL`: fires a signed callback at a merchant's handler
//! (the way `stripe trigger` fires events at a local webhook), sends it again, and checks both
//! replies against the contract in `gateway::callback`. Prints every rule; exit 1 when one is
//! broken.

use std::path::PathBuf;
use std::time::Duration;

use crate::exit_code;
use crate::gateway::Fields;
use crate::gateway::callback::{
    CallbackKind, CallbackMethod, SampleCallback, check_reply, sample_fields,
};
use crate::gateway::signature::{SIG_FIELD, fresh_salt, script_name, sign};
use anyhow::{Context, bail};

#[derive(Debug, clap::Args)]
pub struct CallbackArgs {
    #[command(subcommand)]
    command: CallbackCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CallbackCommand {
    /// Send a signed check or result callback to a merchant's handler and check its reply.
    Send(SendArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    Result,
    Check,
}

#[derive(Debug, clap::Args)]
struct SendArgs {
    /// Which callback: `result` (pg_result_url) or `check` (pg_check_url).
    #[arg(value_enum)]
    kind: Kind,
    /// The merchant's handler; its last path segment is the script name both sides sign with.
    #[arg(long, value_name = "URL")]
    to: String,
    #[arg(long, value_name = "N", default_value = "1000001")]
    payment_id: String,
    #[arg(long, value_name = "A", default_value = "100")]
    amount: String,
    /// pg_result of a result callback: 1 success, 0 failure.
    #[arg(long, value_name = "1|0", default_value = "1", value_parser = ["1", "0"])]
    result: String,
    /// How to send it: POST form, GET parameters, or XML (a `pg_xml` form field).
    #[arg(long, value_name = "POST|GET|XML", default_value = "POST")]
    method: String,
    /// Add or replace a field (`pg_can_reject=1`, `pg_param1=x`); repeatable.
    #[arg(long = "field", value_name = "K=V")]
    fields: Vec<String>,
    /// Seconds to wait for each reply.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
    /// Read the secret key from this file instead of FREEDOMPAY_SECRET_KEY.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
}

pub fn run(args: CallbackArgs) -> anyhow::Result<u8> {
    match args.command {
        CallbackCommand::Send(args) => send(args),
    }
}

fn send(args: SendArgs) -> anyhow::Result<u8> {
    let kind = match args.kind {
        Kind::Result => CallbackKind::Result,
        Kind::Check => CallbackKind::Check,
    };
    let Some(method) = CallbackMethod::parse(&args.method) else {
        bail!(
            "--method {} is not a callback method: use POST, GET or XML",
            args.method
        );
    };
    let url = reqwest::Url::parse(&args.to).with_context(|| {
        format!(
            "--to {} is not a URL (http://127.0.0.1:8000/result)",
            args.to
        )
    })?;
    if script_name(url.as_str()).is_empty() {
        bail!(
            "--to {} has no path: the last path segment is the script name both sides sign with",
            args.to
        );
    }
    let secret = super::secret::load(args.secret_file.as_deref())?;
    let mut fields = sample_fields(
        kind,
        &SampleCallback {
            payment_id: args.payment_id,
            amount: args.amount,
            success: args.result == "1",
        },
    );
    let extra = Fields::from_assignments(&args.fields).context("failed to read --field")?;
    for (name, value) in extra.to_form_pairs() {
        fields.set(&name, value);
    }
    fields.push("pg_salt", fresh_salt());
    let sig = sign(script_name(url.as_str()), &fields, &secret);
    fields.push(SIG_FIELD, sig.as_str());

    let timeout = Duration::from_secs(args.timeout.max(1));
    let runtime = super::runtime()?;
    let (first, repeat) = runtime.block_on(async {
        let first = crate::emulator::send_callback(url.as_str(), method, &fields, timeout).await;
        let repeat = match &first {
            Ok(_) => {
                Some(crate::emulator::send_callback(url.as_str(), method, &fields, timeout).await)
            }
            Err(_) => None,
        };
        (first, repeat)
    });
    let first = match first {
        Ok(reply) => reply,
        Err(why) => {
            outln!("{} callback to {}: {why}", kind.name(), url);
            return Ok(exit_code::FAILED);
        }
    };
    let repeat = match repeat {
        Some(Ok(reply)) => Some(reply),
        Some(Err(why)) => {
            outln!("{} callback to {} sent again: {why}", kind.name(), url);
            None
        }
        None => None,
    };
    outln!(
        "{} callback to {} ({})",
        kind.name(),
        url,
        args.method.to_ascii_uppercase()
    );
    let checks = check_reply(
        kind,
        url.as_str(),
        &fields,
        &first,
        repeat.as_ref(),
        &secret,
    );
    for check in &checks {
        outln!("  {check}");
    }
    let broken = checks.iter().filter(|c| c.failed()).count();
    if broken == 0 {
        outln!("the handler keeps the callback contract");
        Ok(exit_code::SUCCESS)
    } else {
        outln!("{broken} rule(s) broken");
        Ok(exit_code::FAILED)
    }
}

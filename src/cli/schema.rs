//! `fph schema scenario|config|cassette`: prints the JSON Schema (draft 2020-12) of a format,
//! generated from the types the loader reads (`crate::schema`).

use std::io::Write as _;

use crate::exit_code;
use crate::schema::Format;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which file format.
    #[arg(value_enum)]
    pub format: FormatArg,
}

/// The formats by the names the command takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// A scenario file, scenarios/*.yaml.
    Scenario,
    /// scenarios/harness.yaml.
    Config,
    /// A cassette, recordings/<scenario>/<case>.yaml.
    Cassette,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Scenario => Format::Scenario,
            FormatArg::Config => Format::Config,
            FormatArg::Cassette => Format::Cassette,
        }
    }
}

pub fn run(args: SchemaArgs) -> anyhow::Result<u8> {
    let text = Format::from(args.format).to_json();
    // A closed pipe (`fph schema scenario | head`) is not an error worth a message.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(error).context("failed to write the schema"))
        }
        _ => Ok(exit_code::SUCCESS),
    }
}

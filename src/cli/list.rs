//! `fph list`: the cases the scenarios expand into, one `scenario::case` per line, with the
//! scenario's tags — what `fph run` with the same selection would run. `--format json`
//! writes one JSON object per case instead (`id`, `scenario`, `case`, `file`, `line`, `tags`).

use crate::exit_code;
use crate::report::ColorChoice;
use crate::report::json::quote;

use super::load::{SelectArgs, load};

/// How `fph list` prints the cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ListFormat {
    /// `scenario::case  [tags]`, one per line.
    #[default]
    Human,
    /// One JSON object per case per line.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
}

pub fn run(args: ListArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let Some(loaded) = load(&args.select, color) else {
        return Ok(exit_code::BAD_INPUT);
    };
    let selection = args.select.selection();
    for scenario in &loaded.scenarios {
        for case in scenario.cases_matching(&selection) {
            if args.format == ListFormat::Json {
                let tags: Vec<String> = scenario.tags.iter().map(|t| quote(t)).collect();
                // The matrix row's line; a case without a matrix is the whole file (line 1).
                let line = if case.span.is_known() {
                    case.span.line
                } else {
                    1
                };
                outln!(
                    "{{\"id\":{},\"scenario\":{},\"case\":{},\"name\":{},\"file\":{},\"line\":{line},\"tags\":[{}]}}",
                    quote(&scenario.case_id(case)),
                    quote(&scenario.stem),
                    quote(&case.name),
                    quote(&scenario.name),
                    quote(&scenario.file.display().to_string()),
                    tags.join(",")
                );
                continue;
            }
            let tags = if scenario.tags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", scenario.tags.join(", "))
            };
            outln!("{}{tags}", scenario.case_id(case));
        }
    }
    Ok(exit_code::SUCCESS)
}

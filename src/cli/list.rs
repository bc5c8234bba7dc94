//! `fph list`: the cases the scenarios expand into, one `scenario::case` per line, with the
//! scenario's tags — what `fph run` with the same selection would run.

use freedompay_harness::exit_code;
use freedompay_harness::report::ColorChoice;

use super::load::{SelectArgs, load};

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    select: SelectArgs,
}

pub fn run(args: ListArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let Some(loaded) = load(&args.select, color) else {
        return Ok(exit_code::BAD_INPUT);
    };
    let selection = args.select.selection();
    for scenario in &loaded.scenarios {
        for case in scenario.cases_matching(&selection) {
            let tags = if scenario.tags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", scenario.tags.join(", "))
            };
            outln!("{}::{}{tags}", scenario.stem, case.name);
        }
    }
    Ok(exit_code::SUCCESS)
}

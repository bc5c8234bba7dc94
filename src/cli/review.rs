//! `fph review`: decides the pending `*.new` proposals that `fph run --update new` (or
//! `FPH_UPDATE=new`) left beside expected bodies, and that drifting cassettes leave beside
//! recordings. One by one on a terminal (accept, reject, skip, quit), or all at once with
//! `--accept-all` / `--reject-all`; `--list` only lists. The walking, accepting and diffing
//! live in `crate::review`; this file asks and prints.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use crate::exit_code;
use crate::report::{self, ColorChoice, Style};
use crate::review::{self, Pending};
use anyhow::Context as _;

/// Where pending files are looked for when no path is given; missing ones are skipped.
const DEFAULT_PATHS: [&str; 2] = ["scenarios", "recordings"];

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// Files or directories to look in, recursively [default: scenarios and recordings].
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,
    /// Accept every pending file without asking.
    #[arg(long, conflicts_with_all = ["reject_all", "list"])]
    accept_all: bool,
    /// Reject (delete) every pending file without asking.
    #[arg(long, conflicts_with = "list")]
    reject_all: bool,
    /// Only print the pending files, one per line.
    #[arg(long)]
    list: bool,
}

/// What the user decided about one pending file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Accept,
    Reject,
    Skip,
    Quit,
}

impl Decision {
    fn parse(answer: &str) -> Option<Decision> {
        match answer.trim().to_ascii_lowercase().as_str() {
            "a" | "accept" => Some(Decision::Accept),
            "r" | "reject" => Some(Decision::Reject),
            "s" | "skip" => Some(Decision::Skip),
            "q" | "quit" => Some(Decision::Quit),
            _ => None,
        }
    }
}

/// How many files each decision got.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    accepted: usize,
    rejected: usize,
    skipped: usize,
}

pub fn run(args: ReviewArgs, color: ColorChoice) -> anyhow::Result<u8> {
    let paths = if args.paths.is_empty() {
        DEFAULT_PATHS
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect()
    } else {
        args.paths.clone()
    };
    let pending = review::find_pending(&paths)?;
    let style = Style::for_stdout(color);
    if pending.is_empty() {
        errln!("no pending .new files under {}", describe(&paths));
        return Ok(exit_code::SUCCESS);
    }
    if args.list {
        print_list(&pending);
        return Ok(exit_code::SUCCESS);
    }
    if args.accept_all || args.reject_all {
        for item in &pending {
            if args.accept_all {
                review::accept(item)?;
                outln!("{} {}", style.green("accepted"), item.file.display());
            } else {
                review::reject(item)?;
                outln!("{} {}", style.red("rejected"), item.new.display());
            }
        }
        return Ok(exit_code::SUCCESS);
    }
    if !std::io::stdin().is_terminal() {
        print_list(&pending);
        errln!(
            "hint: standard input is not a terminal; run `fph review` in one to decide file by file, or use --accept-all / --reject-all"
        );
        return Ok(exit_code::SUCCESS);
    }
    let stdin = std::io::stdin();
    let tally = interactive(&pending, &mut stdin.lock(), &mut std::io::stdout(), style)?;
    outln!(
        "accepted {}, rejected {}, skipped {}",
        tally.accepted,
        tally.rejected,
        tally.skipped
    );
    Ok(exit_code::SUCCESS)
}

fn print_list(pending: &[Pending]) {
    for item in pending {
        outln!("{}", item.new.display());
    }
}

fn describe(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return DEFAULT_PATHS.join(", ") + " (none exists)";
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Shows each pending file's diff and asks what to do; quitting (or the end of the input)
/// leaves the rest as they are.
fn interactive(
    pending: &[Pending],
    input: &mut impl BufRead,
    output: &mut impl Write,
    style: Style,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for (index, item) in pending.iter().enumerate() {
        writeln!(
            output,
            "{} {}",
            style.bold(&format!("[{}/{}]", index + 1, pending.len())),
            item.new.display()
        )?;
        let diff = report::review::change(&review::change(item)?, style);
        if diff.is_empty() {
            writeln!(output, "(the same text as {})", item.file.display())?;
        } else {
            write!(output, "{diff}")?;
        }
        let decision = loop {
            write!(output, "accept (a), reject (r), skip (s), quit (q)? ")?;
            output.flush()?;
            let mut answer = String::new();
            if input
                .read_line(&mut answer)
                .context("failed to read the answer")?
                == 0
            {
                writeln!(output)?;
                break Decision::Quit;
            }
            match Decision::parse(&answer) {
                Some(decision) => break decision,
                None => writeln!(output, "please answer a, r, s or q")?,
            }
        };
        match decision {
            Decision::Accept => {
                review::accept(item)?;
                tally.accepted += 1;
                writeln!(
                    output,
                    "{} {}",
                    style.green("accepted"),
                    item.file.display()
                )?;
            }
            Decision::Reject => {
                review::reject(item)?;
                tally.rejected += 1;
                writeln!(output, "{} {}", style.red("rejected"), item.new.display())?;
            }
            Decision::Skip => tally.skipped += 1,
            Decision::Quit => {
                tally.skipped += pending.len() - index;
                break;
            }
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_letters_or_words() {
        assert_eq!(Decision::parse("a\n"), Some(Decision::Accept));
        assert_eq!(Decision::parse(" Reject "), Some(Decision::Reject));
        assert_eq!(Decision::parse("s"), Some(Decision::Skip));
        assert_eq!(Decision::parse("Q"), Some(Decision::Quit));
        assert_eq!(Decision::parse("yes"), None);
    }

    #[test]
    fn each_file_is_shown_and_decided_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        for (name, old, new) in [
            ("a.xml", "1\n", "2\n"),
            ("b.xml", "1\n", "3\n"),
            ("c.xml", "1\n", "4\n"),
            ("d.xml", "1\n", "5\n"),
        ] {
            std::fs::write(dir.path().join(name), old).unwrap();
            std::fs::write(dir.path().join(format!("{name}.new")), new).unwrap();
        }
        let pending = review::find_pending(&[dir.path().to_owned()]).unwrap();
        let mut input = &b"x\na\nr\ns\nq\n"[..];
        let mut output = Vec::new();
        let tally = interactive(&pending, &mut input, &mut output, Style::PLAIN).unwrap();
        let output = String::from_utf8(output).unwrap();
        assert_eq!(
            tally,
            Tally {
                accepted: 1,
                rejected: 1,
                skipped: 2
            }
        );
        assert!(output.contains("please answer a, r, s or q"), "{output}");
        assert!(
            output.contains("[1/4]") && output.contains("\n-1\n+2\n"),
            "{output}"
        );
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).ok();
        assert_eq!(read("a.xml").as_deref(), Some("2\n"));
        assert_eq!(read("a.xml.new"), None);
        assert_eq!(read("b.xml").as_deref(), Some("1\n"));
        assert_eq!(read("b.xml.new"), None);
        assert_eq!(read("c.xml.new").as_deref(), Some("4\n"), "skipped");
        assert_eq!(read("d.xml.new").as_deref(), Some("5\n"), "left on quit");
    }

    #[test]
    fn the_end_of_the_input_quits() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.xml.new"), "new\n").unwrap();
        let pending = review::find_pending(&[dir.path().to_owned()]).unwrap();
        let mut output = Vec::new();
        let tally = interactive(&pending, &mut &b""[..], &mut output, Style::PLAIN).unwrap();
        assert_eq!(tally.skipped, 1);
        assert!(dir.path().join("a.xml.new").exists());
    }
}

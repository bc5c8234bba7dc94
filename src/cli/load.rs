//! What `run`, `list`, `lint` and `drift` share: the scenario paths and case selection
//! arguments, loading the configuration and the scenarios, and printing diagnostics.

use std::path::{Path, PathBuf};

use crate::report::{ColorChoice, Style};
use crate::scenario::{self, HarnessConfig, Scenario, ScenarioError, Selection};
use miette::{GraphicalReportHandler, GraphicalTheme};

/// Which scenarios and cases.
#[derive(Debug, Clone, clap::Args)]
pub struct SelectArgs {
    /// Scenario files or directories.
    #[arg(value_name = "PATHS", default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Only cases whose name as reports print it (`scenario::case`; `scenario/case` works
    /// too) or whose scenario's name contains this text (repeat for several: any of them).
    #[arg(long = "filter", value_name = "TEXT")]
    pub filters: Vec<String>,
    /// Only scenarios with this tag (repeat for several: any of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Leave out scenarios with this tag (repeatable; wins over --tag and --filter).
    #[arg(long = "exclude-tag", value_name = "TAG")]
    pub exclude_tags: Vec<String>,
}

impl SelectArgs {
    pub fn selection(&self) -> Selection {
        Selection {
            filters: self.filters.clone(),
            tags: self.tags.clone(),
            exclude_tags: self.exclude_tags.clone(),
        }
    }

    /// The directory `harness.yaml` is read from: the first path when it is a directory,
    /// else the directory holding it.
    pub fn config_dir(&self) -> PathBuf {
        let first = self
            .paths
            .first()
            .map_or(Path::new("scenarios"), PathBuf::as_path);
        if first.is_dir() {
            first.to_owned()
        } else {
            first
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_owned)
        }
    }
}

/// The configuration and every scenario, or the diagnostics that stop the run.
pub struct Loaded {
    pub config: HarnessConfig,
    pub scenarios: Vec<Scenario>,
}

/// Loads `harness.yaml` and the scenarios; prints every diagnostic and returns `None` when
/// anything is wrong (bad input: exit 2).
pub fn load(args: &SelectArgs, color: ColorChoice) -> Option<Loaded> {
    let config = match HarnessConfig::load(&args.config_dir()) {
        Ok(config) => config,
        Err(error) => {
            print_diagnostics(&[error], color);
            return None;
        }
    };
    let (scenarios, errors) = scenario::load_paths(&args.paths);
    if !errors.is_empty() {
        print_diagnostics(&errors, color);
        return None;
    }
    Some(Loaded { config, scenarios })
}

/// Prints diagnostics to stderr the way rustc does: location, source excerpt, label, help.
pub fn print_diagnostics(errors: &[ScenarioError], color: ColorChoice) {
    let style = style_for_stderr(color);
    for error in errors {
        // miette's report opens with `file:line:column: title` (what editors and CI
        // annotations jump to), then shows the line itself, the label and the hint.
        match render_diagnostic(error, color) {
            Some(report) => errln!("{report}"),
            None => errln!("{} {}", style.red("error:"), error.render_plain()),
        }
    }
    let count = errors.len();
    errln!(
        "{} {count} problem{} found",
        style.red("error:"),
        if count == 1 { "" } else { "s" }
    );
}

/// A diagnostic rendered for stderr: its title, the source line with the value underlined,
/// the hint. `None` when miette cannot render it.
pub fn render_diagnostic(
    diagnostic: &dyn miette::Diagnostic,
    color: ColorChoice,
) -> Option<String> {
    let theme = if style_for_stderr(color).enabled {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // No wrapping: the `file:line:column: title` line must stay one line for editors and CI.
    let handler = GraphicalReportHandler::new_themed(theme).with_width(usize::MAX);
    let mut report = String::new();
    handler.render_report(&mut report, diagnostic).ok()?;
    Some(report)
}

pub fn style_for_stderr(color: ColorChoice) -> Style {
    use std::io::IsTerminal;
    let enabled = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os(crate::env::NO_COLOR).is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    Style { enabled }
}

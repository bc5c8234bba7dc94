//! Watching `fph run` as it happens, on standard error: a progress bar (cases done of total,
//! failures so far, the step in flight) on a terminal, and with `--verbose` each request and
//! answer as it passes. It is the runner's [`Observer`]; the report on standard output is
//! written through [`Watch::suspend`], so the bar never cuts into a line of it.
//!
//! The bar stays hidden when standard error is not a terminal or `CI` is set (a CI log
//! keeps every redraw as a line).

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::report::{self, Style};
use crate::runner::observe::Observer;
use crate::transport::{Request, Response, TransportError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress bar (when shown) and `--verbose`.
#[derive(Debug)]
pub struct Watch {
    bar: Option<ProgressBar>,
    verbose: bool,
    failures: AtomicUsize,
    style: Style,
}

/// True when a progress bar belongs on standard error: a terminal, and not CI.
pub fn progress_wanted(stderr_is_terminal: bool, ci: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && ci.is_none_or(|v| v.is_empty() || v == "false" || v == "0")
}

impl Watch {
    /// For a run of `total` cases; `style` colours the `--verbose` lines (standard error's).
    pub fn new(total: usize, verbose: bool, style: Style) -> Watch {
        use std::io::IsTerminal;
        let wanted = progress_wanted(
            std::io::stderr().is_terminal(),
            std::env::var_os(crate::env::CI).as_deref(),
        );
        let bar = wanted.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let template = "{bar:30} {pos}/{len} cases, {prefix} {wide_msg}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix("0 failed");
            bar
        });
        Watch {
            bar,
            verbose,
            failures: AtomicUsize::new(0),
            style,
        }
    }

    /// Whether this watch shows or prints anything (else the session need not call it).
    pub fn is_active(&self) -> bool {
        self.bar.is_some() || self.verbose
    }

    /// Runs `write` with the bar cleared, then redraws it.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// One case finished.
    pub fn case_done(&self, passed: bool) {
        let failures = if passed {
            self.failures.load(Ordering::Relaxed)
        } else {
            self.failures.fetch_add(1, Ordering::Relaxed) + 1
        };
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("{failures} failed"));
            bar.inc(1);
        }
    }

    /// Removes the bar (before the summary).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn print(&self, text: &str) {
        self.suspend(|| errln!("{}", text.trim_end()));
    }
}

impl Observer for Watch {
    fn request(&self, case: &str, request: &Request) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{case} → {}", request.step));
        }
        if self.verbose {
            self.print(&report::human::sent_request(case, request, self.style));
        }
    }

    fn answer(&self, case: &str, request: &Request, answer: Result<&Response, &TransportError>) {
        if self.verbose {
            self.print(&report::human::received_answer(
                case, request, answer, self.style,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_only_on_a_terminal_outside_ci() {
        use std::ffi::OsStr;
        assert!(progress_wanted(true, None));
        assert!(progress_wanted(true, Some(OsStr::new(""))));
        assert!(!progress_wanted(true, Some(OsStr::new("true"))));
        assert!(!progress_wanted(true, Some(OsStr::new("1"))));
        assert!(!progress_wanted(false, None));
    }
}

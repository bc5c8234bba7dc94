//! How a run ended, counted as its cases finish, and the exit code that says it (next to the
//! codes in [`crate::exit_code`]).

use crate::exit_code;
use crate::review::UpdateOutcome;
use crate::runner::{CaseOutcome, CaseStatus, StepFailure};

/// What a run leaves once every case has been reported.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunSummary {
    pub passed: usize,
    /// Every case that did not pass, errored ones included (the exit code counts them alike).
    pub failed: usize,
    /// Of the failed cases, those with no verdict (see `CaseOutcome::status`).
    pub errored: usize,
    /// A case failed on bad input (a cassette that cannot be read), or nothing was selected.
    pub bad_input: bool,
    /// Expected bodies written as `.new` files for `fph review`.
    pub pending_updates: usize,
    /// Stopped by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    /// Selected cases `--fail-fast` did not start after a failure.
    pub not_run: usize,
}

impl RunSummary {
    /// A run that selected no case: bad input, like a mistyped filter in nextest.
    pub fn nothing_selected() -> RunSummary {
        RunSummary {
            bad_input: true,
            ..RunSummary::default()
        }
    }

    /// Counts one finished case.
    pub fn add(&mut self, outcome: &CaseOutcome) {
        if outcome.passed() {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        if outcome.status() == CaseStatus::Errored {
            self.errored += 1;
        }
        self.bad_input |= outcome.is_bad_input();
        self.pending_updates += pending_updates(outcome);
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed
    }

    /// 130 when interrupted, 2 on bad input, 1 when a case failed, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            exit_code::INTERRUPTED
        } else if self.bad_input {
            exit_code::BAD_INPUT
        } else if self.failed > 0 {
            exit_code::FAILED
        } else {
            exit_code::SUCCESS
        }
    }
}

/// How many expected bodies this case proposed as `.new` files.
fn pending_updates(outcome: &CaseOutcome) -> usize {
    outcome
        .steps
        .iter()
        .filter(|step| {
            matches!(&step.failure, Some(StepFailure::BodyMismatch(m))
                if matches!(m.update, UpdateOutcome::Pending(_)))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_follows_the_worst_thing_that_happened() {
        let mut summary = RunSummary::default();
        assert_eq!(summary.exit_code(), exit_code::SUCCESS);
        summary.failed = 1;
        assert_eq!(summary.exit_code(), exit_code::FAILED);
        summary.bad_input = true;
        assert_eq!(summary.exit_code(), exit_code::BAD_INPUT);
        summary.interrupted = true;
        assert_eq!(summary.exit_code(), exit_code::INTERRUPTED);
        assert_eq!(
            RunSummary::nothing_selected().exit_code(),
            exit_code::BAD_INPUT
        );
    }
}

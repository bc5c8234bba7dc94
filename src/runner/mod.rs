//! The runner: executes a case step by step over a transport and returns a
//! [`CaseOutcome`](outcome::CaseOutcome).

pub mod outcome;

pub use outcome::{Attempt, CaseOutcome, CheckResult, StepFailure, StepOutcome};

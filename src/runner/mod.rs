//! The runner: executes a case step by step over a transport and returns a
//! [`CaseOutcome`]; a [`Session`] picks the transport
//! for each case from the run mode (replay, record, once, live, drift).

pub mod case;
pub mod mode;
pub mod observe;
pub mod outcome;
pub mod session;
pub mod sms;
pub mod suite;

pub use case::{CaseSettings, Credentials, run_case};
pub use mode::Mode;
pub use observe::Observer;
pub use outcome::{
    Attempt, BodyMismatch, CaseOutcome, CaseProblem, CaseStatus, CheckResult, ScenarioSource,
    SignatureProblem, StepFailure, StepOutcome,
};
pub use session::{Session, SessionError, SessionOptions};
pub use sms::SmsCodes;

//! The runner: executes a case step by step over a transport and returns a
//! [`CaseOutcome`]; a [`Session`] picks the transport
//! for each case from the run mode (replay, record, once, live, drift).

pub(crate) mod case;
pub(crate) mod mode;
pub(crate) mod observe;
pub mod outcome;
pub(crate) mod session;
pub(crate) mod sms;
#[cfg_attr(
    not(feature = "cli"),
    expect(
        dead_code,
        reason = "`fph run` and `fph bench` run cases at once; a trial is one case"
    )
)]
pub(crate) mod suite;

pub use mode::{Mode, ModeError};
pub use outcome::{
    Attempt, BodyMismatch, CaseOutcome, CaseProblem, CaseStatus, CheckResult, ScenarioSource,
    SignatureProblem, StepFailure, StepOutcome, Warning,
};
pub use session::{Session, SessionError, SessionOptions};

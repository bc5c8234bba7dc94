//! Reporters: they only format [`CaseOutcome`](crate::runner::CaseOutcome)s — human text with
//! colour, JSON lines for machines, JUnit XML for CI dashboards. Nothing here runs anything.

pub mod diff;
#[cfg_attr(
    not(feature = "cli"),
    expect(
        dead_code,
        reason = "the CLI's drift reports; a trial takes one message"
    )
)]
pub mod drift;
pub mod html;
#[cfg_attr(
    not(feature = "cli"),
    expect(
        dead_code,
        reason = "`fph run`'s report; a trial takes the failure details"
    )
)]
pub mod human;
#[cfg_attr(
    not(feature = "cli"),
    expect(
        dead_code,
        reason = "`fph run --report json`; the drift reports quote with it"
    )
)]
pub mod json;
#[cfg(feature = "junit")]
#[cfg_attr(
    not(any(feature = "cli", test)),
    expect(dead_code, reason = "JUnit files are written by `fph run --junit`")
)]
pub mod junit;
#[cfg(feature = "cli")]
pub mod review;
pub mod snippet;
pub mod style;
pub mod text;

pub use human::failure_details;
#[cfg(feature = "cli")]
pub use human::summary_counts;
#[cfg(feature = "cli")]
pub use style::ColorChoice;
pub use style::Style;

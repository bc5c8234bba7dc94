//! Reporters: they only format [`CaseOutcome`](crate::runner::CaseOutcome)s — human text with
//! colour, JSON lines for machines, JUnit XML for CI dashboards. Nothing here runs anything.

pub mod diff;
pub mod drift;
pub mod html;
pub mod human;
pub mod json;
#[cfg(feature = "junit")]
pub mod junit;
pub mod review;
pub mod snippet;
pub mod style;
pub mod text;

pub use human::{failure_details, summary_counts, summary_line};
pub use style::{ColorChoice, Style};

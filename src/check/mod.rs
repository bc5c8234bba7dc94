//! Checking answers: semantic comparison of two gateway XML documents (order of differently
//! named elements, whitespace, entity and CDATA forms do not matter; repeated elements compare
//! as lists; ignore rules by path; matchers inside an expected document), and readable diffs.

pub mod diff;
pub mod xml_compare;

pub use diff::unified_diff;
pub use xml_compare::{CompareOptions, Difference, DifferenceKind, compare};

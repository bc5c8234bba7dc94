//! Checking answers: semantic comparison of two gateway XML documents (order of differently
//! named elements, whitespace, entity and CDATA forms do not matter; repeated elements compare
//! as lists; ignore rules by path; matchers inside an expected document), what an expected
//! document becomes when the answer is accepted as the new expectation, and the one matcher
//! vocabulary both a scenario's `expect:` and an expected body use.

mod matcher;
pub mod update;
pub mod xml_compare;

pub use matcher::{Check, Matcher, Number};
pub use update::updated_expected;
pub use xml_compare::{CompareOptions, Difference, DifferenceKind, compare};

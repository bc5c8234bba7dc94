//! Scenarios: the YAML files that describe calls to Freedom Pay and what each answer must
//! hold, read into a validated model with diagnostics that point into the file; and
//! `harness.yaml`, the configuration that lives beside them.
//!
//! The format (version 1) is described in `DESIGN.md` and by example in the tests of
//! `load/`; `raw.rs` mirrors it key by key.
//!
//! ```
//! use std::path::Path;
//! use freedompay_harness::scenario::{load_str, Selection};
//!
//! let scenario = load_str(Path::new("scenarios/status.yaml"), r#"
//! name: Status of a payment
//! matrix:
//!   - { payment_id: "12345" }
//! steps:
//!   - id: status
//!     call: status
//!     form: { pg_payment_id: "{{ payment_id }}" }
//!     expect: { pg_status: ok, pg_payment_status: { one_of: [success, process] } }
//! "#).unwrap();
//! let everything = Selection::all();
//! let cases: Vec<_> = scenario.cases_matching(&everything).collect();
//! assert_eq!(cases[0].name, "payment_id=12345");
//! ```

mod config;
mod diagnostic;
mod load;
mod model;
pub(crate) mod raw;

pub use crate::check::{Check, Number};
pub use crate::utc::{DurationError, format_duration, parse_duration};
pub use config::{
    CONFIG_FILES, Credentials, CredentialsError, DEFAULT_ANSWER_LIMIT, DEFAULT_REPLAY_KEY,
    GATEWAY_PAUSE, HarnessConfig, MERCHANT_ID_VAR, Redaction, RedactionRule, SANDBOX_SMS_CODE,
    SECRET_KEY_VAR, TargetConfig, UnknownTarget,
};
pub use diagnostic::{ErrorKind, ScenarioError, Span};
pub use load::{load_file, load_paths, load_str, scenario_files};
pub(crate) use model::is_templated;
pub use model::{
    Action, CallbackSend, Capture, Case, DEFAULT_CASE, DEFAULT_POLL_ATTEMPTS,
    DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT, ExpectBody, Expectation, Matcher, Poll,
    ReplyTemplate, Scenario, Selection, Step, Template, Wait, cassette_file_name, wait_name,
};

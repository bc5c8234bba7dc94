//! freedompay-harness: contract tests and replay for the Freedom Pay Mobile balance API.
//!
//! The library behind the `fph` command. Scenarios (YAML) describe calls to the gateway —
//! init, pay, approve, resend code, status — and what each answer must hold; the runner signs
//! and sends them to a live target or replays recorded cassettes, and reporters show what
//! differed. The [`gateway`] module holds what Freedom Pay itself is: the `pg_sig` rule, the
//! XML answers, the calls and the hosts. The [`review`] module is the update workflow for
//! expected files (`FPH_UPDATE`, `*.new` proposals, accept and reject).
//!
//! ```
//! use freedompay_harness::gateway::{signature, Fields, SecretKey};
//!
//! let fields: Fields = [("pg_merchant_id", "552170"), ("pg_payment_id", "12345"), ("pg_salt", "molbulak")]
//!     .into_iter()
//!     .collect();
//! let sig = signature::sign("get_status3.php", &fields, &SecretKey::new("Test_Secret_Key_123"));
//! assert_eq!(sig.as_str(), "ac4a6d8f21d5015c415b644d27d449a1");
//! ```

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod emulator;
pub mod exit_code;
pub mod gateway;
pub mod report;
pub mod review;
pub mod runner;
pub mod scenario;
pub mod template;
pub mod transport;

//! The gateway emulator: a real HTTP server that answers init, pay, approve, resend code and
//! status as Freedom Pay documents them — signatures checked and made, payments kept in
//! memory, SMS codes, callbacks to the merchant — plus an admin API and fault injection, so the
//! harness and a merchant's own backend can be tested with no credentials and no network.
//!
//! ```no_run
//! use freedompay_harness::emulator::{Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default())?;
//! println!("gateway at {}", emulator.base_url());
//! // … init and pay from the test phone 77017777777, then:
//! let code = emulator.sms_code("77017777777");
//! # Ok::<(), freedompay_harness::emulator::EmulatorError>(())
//! ```
//!
//! With a [`ReplaySource`] (`fph emulator --replay`) it answers from a recording instead, still
//! checking merchants and signatures and signing its answers (`replay.rs`).
//!
//! Its conventions (test phones, codes, limits, error codes) are in `docs/emulator.md`.

mod admin;
mod answer;
mod callbacks;
mod calls;
mod changes;
mod clock;
mod config;
mod console;
mod dispatch;
mod errors;
mod faults;
mod inbox;
mod listener;
mod log;
mod pay_page;
mod payment;
mod phones;
mod replay;
pub(crate) mod request;
mod server;
mod store;

pub use changes::{AnswerChange, changed_gateway};
pub use config::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, EmulatorConfig};
pub use console::ConsoleAccess;
pub use errors::{CodeSource, ErrorCodes, ErrorKind};
pub use phones::{Behaviour, Operator, TEST_CODE, TEST_PHONES, TestPhone, operator_of, test_phone};
pub use replay::{RecordedAnswer, ReplaySource};
pub use server::{Emulator, EmulatorError, RunningEmulator};

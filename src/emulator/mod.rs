//! The gateway emulator: a real HTTP server that answers init, pay, approve, resend code and
//! status as Freedom Pay documents them — signatures checked and made, payments kept in
//! memory, SMS codes, callbacks to the merchant — plus an admin API and fault injection, so the
//! harness and a merchant's own backend can be tested with no credentials and no network.
//!
//! In-process, from a test (the `emulator` feature; a [`EmulatorConfig`] is its
//! [`Default`] with `with_*` settings):
//!
//! ```
//! # #[cfg(feature = "emulator")] // the server; without it the example has nothing to start
//! # fn main() -> Result<(), freedompay_harness::emulator::EmulatorError> {
//! use std::time::Duration;
//! use freedompay_harness::emulator::{Emulator, EmulatorConfig};
//!
//! let config = EmulatorConfig::default()
//!     .with_seed(42) // the same payment ids and SMS codes on every run
//!     .with_approve_delay(Duration::from_millis(50));
//! let emulator = Emulator::start(config)?; // on 127.0.0.1, a free port
//! let gateway = emulator.base_url(); // give this to the merchant's client
//! assert_eq!(gateway.host_str(), Some("127.0.0.1"));
//! // … init and pay from the test phone 77017777777, then read the code it was sent:
//! assert_eq!(emulator.sms_code("77017777777"), None, "no payment yet");
//! emulator.shutdown()?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "emulator"))]
//! # fn main() {}
//! ```
//!
//! With a [`ReplaySource`] (`fph emulator --replay`) it answers from a recording instead, still
//! checking merchants and signatures and signing its answers (`replay.rs`).
//!
//! Its conventions (test phones, codes, limits, error codes) are in `docs/emulator.md`.
//!
//! The server is the `emulator` cargo feature. Without it the configuration, the test phones
//! and the error table stay (they are data), and [`Emulator::start`] fails with
//! [`EmulatorError::Unavailable`], naming the feature to enable.

// Data every build has. Part of each of the first three serves only the server (applying
// changes, rejections in the caller's language, phone profiles), unused without it (but for
// their own tests).
#[cfg_attr(
    not(any(feature = "emulator", test)),
    expect(dead_code, reason = "the server's half")
)]
mod changes;
mod config;
mod config_problem;
mod error;
#[cfg_attr(
    not(feature = "emulator"),
    expect(dead_code, reason = "the server's half")
)]
mod errors;
#[cfg_attr(
    not(any(feature = "emulator", test)),
    expect(dead_code, reason = "the server's half")
)]
mod phones;

// The server and everything only it uses: axum, hyper, the payment store, callbacks, replay.
#[cfg(feature = "emulator")]
mod admin;
#[cfg(feature = "emulator")]
mod answer;
#[cfg(feature = "emulator")]
mod callbacks;
#[cfg(feature = "emulator")]
mod calls;
#[cfg(feature = "emulator")]
mod clock;
#[cfg(feature = "emulator")]
mod console;
#[cfg(feature = "emulator")]
mod dispatch;
#[cfg(feature = "emulator")]
mod faults;
#[cfg(feature = "emulator")]
mod inbox;
#[cfg(feature = "emulator")]
mod listener;
#[cfg(feature = "emulator")]
mod log;
#[cfg(feature = "emulator")]
mod pay_page;
#[cfg(feature = "emulator")]
mod payment;
#[cfg(feature = "emulator")]
mod replay;
#[cfg(feature = "emulator")]
pub(crate) mod request;
#[cfg(feature = "emulator")]
mod server;
#[cfg(feature = "emulator")]
mod store;
#[cfg(not(feature = "emulator"))]
mod unavailable;

#[cfg(feature = "emulator")]
#[cfg(any(feature = "cli", test))]
pub(crate) use callbacks::send_callback;
pub use changes::AnswerChange;
#[cfg(feature = "emulator")]
#[cfg(feature = "cli")]
pub(crate) use changes::changed_gateway;
pub use config::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, EmulatorConfig};
pub use config_problem::{ConfigPlace, ConfigProblem};
#[cfg(feature = "emulator")]
pub use console::ConsoleAccess;
pub use error::EmulatorError;
pub use errors::{CodeSource, ErrorCodes, ErrorKind};
pub use phones::{Behaviour, Operator, TEST_CODE, TEST_PHONES, TestPhone};
#[cfg(feature = "emulator")]
pub use replay::{CLOSED, RecordedAnswer, ReplaySource};
#[cfg(feature = "emulator")]
pub use server::{Emulator, RunningEmulator};
#[cfg(not(feature = "emulator"))]
pub use unavailable::{Emulator, RunningEmulator};

//! Record and replay for any client: `fph proxy` stands between a merchant's backend (PHP,
//! Node, Python, Java, Go …) and a gateway, forwards every call unchanged and records each
//! exchange as a cassette ([`recording`], [`server`]); `fph emulator --replay` serves such a
//! cassette back, the emulator checking signatures and [`replay`] matching requests to the
//! recording; [`scenario`] turns a recording into a scenario.
//!
//! The files on disk: `recordings/proxy/<session>.yaml`, one cassette per session in the
//! cassette format of record mode (format 1, `scenario: proxy`, `case: <session>`), its
//! interactions in arrival order. See `docs/proxy.md`.

pub mod recording;
pub mod replay;
pub mod scenario;
pub mod server;

pub use recording::{PROXY_SCENARIO, Recording, RecordingOptions};
pub use replay::{Replay, ReplayConfig};
pub use scenario::scenario_from_recording;
pub use server::{ProxyError, ProxyOptions, RunningProxy};

//! How a signed request reaches an answer: sent live over HTTP ([`live`]), or replayed from a
//! recorded cassette ([`player`]); a recording is a live run whose outcome is written as a
//! cassette ([`recorder`]). The runner only sees the [`Transport`] trait.

pub mod cassette;
pub mod live;
pub mod player;
pub mod recorder;
pub mod redact;

use std::future::Future;
use std::time::Duration;

use crate::gateway::{Encoding, Fields, Operation};

pub use live::{LiveOptions, LiveTransport};

/// One request as the runner built it: complete, signed, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The scenario step this request belongs to; with `attempt` it keys a cassette interaction.
    pub step: String,
    /// 1 for the first send; polling counts up.
    pub attempt: u32,
    pub operation: Operation,
    /// Path below the target's base URL, e.g. `/mfs/pay`.
    pub path: String,
    pub fields: Fields,
    /// How the fields go on the wire (the step's, scenario's or target's choice).
    pub encoding: Encoding,
    /// True when the harness computed `pg_sig`; false when the scenario set it itself.
    pub signed_by_harness: bool,
}

/// An HTTP answer, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    pub elapsed: Duration,
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("failed to build the HTTP client: {0}")]
    Client(String),
    #[error("failed to send {path}: {reason}")]
    Send { path: String, reason: String },
    #[error("failed to read the answer to {path}: {reason}")]
    Receive { path: String, reason: String },
    #[error(
        "answer too large: the answer to {path} is more than {limit} bytes, and reading stopped there (raise `answer_limit` in harness.yaml if the gateway really answers this much)"
    )]
    AnswerTooLarge { path: String, limit: usize },
    #[error("failed to send {path}: {reason}")]
    Encode { path: String, reason: String },
    #[error("failed to replay step `{step}`: {reason}")]
    Replay { step: String, reason: String },
}

impl TransportError {
    /// Runs `scrub` over every text the error holds.
    pub(crate) fn scrub(&mut self, scrub: &mut impl FnMut(&mut String)) {
        match self {
            TransportError::Client(reason) => scrub(reason),
            TransportError::Send { path, reason }
            | TransportError::Receive { path, reason }
            | TransportError::Encode { path, reason } => {
                scrub(path);
                scrub(reason);
            }
            TransportError::AnswerTooLarge { path, .. } => scrub(path),
            TransportError::Replay { step, reason } => {
                scrub(step);
                scrub(reason);
            }
        }
    }
}

/// Sends requests and returns answers. Implementations must never retry on their own: the
/// runner decides (and never retries a money-moving call).
pub trait Transport: Send + Sync {
    fn send(
        &self,
        request: &Request,
    ) -> impl Future<Output = Result<Response, TransportError>> + Send;
}

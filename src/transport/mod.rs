//! How a signed request reaches an answer: sent live over HTTP ([`live`]), or replayed from a
//! recorded cassette ([`player`]); a recording is a live run whose outcome is written as a
//! cassette ([`recorder`]). The runner only sees the [`Transport`] trait.

pub mod cassette;
pub mod live;
pub mod player;
// A server (axum), like the emulator: built with the `emulator` feature.
#[cfg(feature = "emulator")]
pub mod receiver;
pub mod recorder;
pub mod redact;

use std::future::Future;
use std::time::Duration;

use crate::gateway::callback::CallbackKind;
use crate::gateway::{Encoding, Fields, Operation};

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
    /// True when the harness computed `pg_sig`; false when the scenario set it itself. For
    /// an incoming callback, the harness's message is its reply: whether it signed that.
    pub signed_by_harness: bool,
    /// Outgoing for a call to the gateway; incoming for a callback the gateway sent the
    /// merchant (a `wait` step), whose answer is the merchant's reply.
    pub direction: Direction,
}

/// Which way an exchange went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The harness called the gateway and got its answer.
    #[default]
    Outgoing,
    /// The gateway called the merchant's URL (a callback) and got the scenario's reply.
    Incoming,
}

impl Direction {
    pub fn is_outgoing(&self) -> bool {
        *self == Direction::Outgoing
    }
}

/// A `wait` step's callback: which one, where, for how long, and the reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackWait {
    pub step: String,
    pub attempt: u32,
    pub kind: CallbackKind,
    /// The case's part of the receiver's paths (`/{case}/{kind}`).
    pub case: String,
    /// The URL the gateway was given (for messages; its last segment is the script name).
    pub url: String,
    pub timeout: Duration,
    pub reply: Reply,
}

impl CallbackWait {
    /// The callback this wait received, as the step's incoming request: the fields and how
    /// they came, signed for the callback's script (the URL's last segment).
    pub fn received(&self, fields: Fields, encoding: Encoding) -> Request {
        Request {
            step: self.step.clone(),
            attempt: self.attempt,
            operation: Operation::Other(self.kind.name().to_owned()),
            path: self.kind.name().to_owned(),
            fields,
            encoding,
            signed_by_harness: self.reply.signed_by_harness(),
            direction: Direction::Incoming,
        }
    }
}

/// How the scenario answers a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A `<response>` with this `pg_status` (`ok`, `rejected`, `error`) and description,
    /// salted (with `salt`) and signed for the URL's script name.
    Signed {
        status: String,
        description: String,
        salt: String,
        /// A `pg_sig` the scenario set itself, sent instead of the right one.
        sig: Option<String>,
    },
    /// A bare HTTP status with no body (`500` makes the gateway retry).
    Http(u16),
}

impl Reply {
    /// The body sent: a `<response>` signed for `script` (the last segment of the callback's
    /// URL) with `key`, or nothing for a bare HTTP status. Replay builds it the same way to
    /// compare it with the recorded one.
    pub fn body(&self, script: &str, key: &crate::gateway::SecretKey) -> String {
        use crate::gateway::signature::{SIG_FIELD, sign};
        match self {
            Reply::Http(_) => String::new(),
            Reply::Signed {
                status,
                description,
                salt,
                sig,
            } => {
                let mut fields = Fields::new();
                fields.push("pg_status", status.as_str());
                if !description.is_empty() {
                    fields.push("pg_description", description.as_str());
                }
                fields.push("pg_salt", salt.as_str());
                let sig = match sig {
                    Some(sig) => sig.clone(),
                    None => sign(script, &fields, key).as_str().to_owned(),
                };
                fields.push(SIG_FIELD, sig);
                crate::gateway::Document::response(&fields).pretty()
            }
        }
    }

    /// True when the harness signs the reply (false: a bare status, or the scenario's own
    /// `pg_sig`).
    pub fn signed_by_harness(&self) -> bool {
        matches!(self, Reply::Signed { sig: None, .. })
    }

    /// The HTTP status the reply is sent with.
    pub fn http_status(&self) -> u16 {
        match self {
            Reply::Http(status) => *status,
            Reply::Signed { .. } => 200,
        }
    }
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
    #[error("no callback came to {url} within {timeout:?}")]
    CallbackTimeout { url: String, timeout: Duration },
    #[error("the callback to {url} could not be read: {why}")]
    CallbackMalformed { url: String, why: String },
    #[error("the callback to {url} is not signed for `{script}` with the merchant's key: {why}")]
    CallbackSignature {
        url: String,
        script: String,
        why: String,
    },
    #[error("failed to wait for the callback to {url}: {why}")]
    NoReceiver { url: String, why: String },
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
            TransportError::CallbackTimeout { url, .. } => scrub(url),
            TransportError::CallbackMalformed { url, why }
            | TransportError::CallbackSignature { url, why, .. }
            | TransportError::NoReceiver { url, why } => {
                scrub(url);
                scrub(why);
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

    /// Waits for the callback a `wait` step names, answers it as the step says, and returns
    /// both: the callback as an incoming [`Request`] (its fields trusted only once their
    /// signature was checked) and the reply as its [`Response`].
    fn receive(
        &self,
        wait: &CallbackWait,
    ) -> impl Future<Output = Result<(Request, Response), TransportError>> + Send;
}

//! Callbacks to the merchant: the check request before a phone is charged (`pg_check_url`) and
//! the result notification once a payment is final (`pg_result_url`).
//!
//! Both are signed like everything else, with the last path segment of the merchant's URL as
//! the script name, and sent as `pg_request_method` asks: GET parameters, a POST form (the
//! default) or a POST form holding one `pg_xml` field. The merchant's `<response>` must be
//! signed with that same script name.
//!
//! The documented retry rule — an unanswered result callback (no reply, HTTP ≠ 200) is sent
//! again every 30 minutes for 2 hours — runs scaled down: every `callback_retry_interval`
//! (default 1 s), `callback_retries` more times (default 4, as 2 h / 30 min). A reply that is
//! not signed correctly counts as unanswered. A check callback is asked once, while pay waits:
//! anything but a signed `ok` refuses the payment. Every attempt is logged for
//! `/_emulator/callbacks`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use reqwest::Url;

use crate::gateway::callback::{Answer, MerchantReply, check_reply, read_reply};
use crate::gateway::encoding::form_encode;
use crate::gateway::signature::{SIG_FIELD, script_name, sign};
use crate::gateway::xml::pretty_fields;
use crate::gateway::{Fields, SecretKey};

use super::console::Changes;

/// How many attempts `/_emulator/callbacks` remembers.
const LOG_LIMIT: usize = 1000;

pub(crate) use crate::gateway::callback::{CallbackKind, CallbackMethod};

/// One callback to make: unsigned fields, signed when sent.
#[derive(Debug, Clone)]
pub(crate) struct CallbackJob {
    pub kind: CallbackKind,
    pub payment_id: u64,
    pub url: String,
    pub method: CallbackMethod,
    pub fields: Fields,
    pub secret: SecretKey,
}

/// What the merchant's check URL decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckVerdict {
    Ok,
    Rejected(String),
    /// No valid answer, or `pg_status=error`.
    Failed(String),
}

/// The merchant's answer to one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    /// A signed `<response>` with this `pg_status` and `pg_description`.
    Answered { status: String, description: String },
    /// Nothing usable: the reason.
    Unanswered(String),
}

/// One attempt, as `/_emulator/callbacks` lists it.
#[derive(Debug, Clone)]
pub(crate) struct CallbackAttempt {
    pub kind: CallbackKind,
    pub payment_id: u64,
    pub url: String,
    pub attempt: u32,
    /// The merchant's `pg_status`, when it answered.
    pub reply_status: Option<String>,
    /// Why the attempt counts as unanswered, when it does.
    pub failure: Option<String>,
    /// When it was sent, and how long the merchant took.
    pub at: SystemTime,
    pub elapsed: Duration,
    /// `GET`, `POST` or `XML` (`pg_request_method`).
    pub method: &'static str,
    /// The signed fields sent.
    pub sent: Fields,
    /// The merchant's HTTP status and the start of its body, when it answered at all.
    pub http_status: Option<u16>,
    pub reply_body: Option<String>,
    /// The merchant's `pg_description`, when it answered.
    pub reply_description: Option<String>,
    /// The contract rules the merchant's reply broke (empty: kept them all); `None` when
    /// no reply came.
    pub contract: Option<Vec<String>>,
}

/// The most of a merchant's reply body an attempt keeps.
const REPLY_KEPT: usize = 4096;

#[derive(Debug, Clone)]
pub(crate) struct CallbackSettings {
    pub timeout: Duration,
    pub retry_interval: Duration,
    pub retries: u32,
    /// Where each attempt gets its line on standard error (`fph emulator`).
    pub log: super::log::RequestLog,
}

/// The callback sender: one HTTP client (made on first use: most runs never call back) and the
/// attempt log.
#[derive(Debug)]
pub(crate) struct Callbacks {
    settings: CallbackSettings,
    /// Bumped on every attempt, for the console.
    changes: Arc<Changes>,
    client: OnceLock<Result<reqwest::Client, String>>,
    log: Mutex<VecDeque<CallbackAttempt>>,
}

impl Callbacks {
    pub fn new(settings: CallbackSettings, changes: Arc<Changes>) -> Self {
        Self {
            settings,
            changes,
            client: OnceLock::new(),
            log: Mutex::new(VecDeque::new()),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| build_client(self.settings.timeout))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Asks the check URL once and reads its decision.
    pub async fn check(&self, job: &CallbackJob) -> CheckVerdict {
        let fields = signed(job);
        match self.attempt(job, &fields, 1).await {
            Reply::Answered {
                status,
                description,
            } => match status.as_str() {
                "ok" => CheckVerdict::Ok,
                "rejected" => CheckVerdict::Rejected(or_none(description)),
                other => CheckVerdict::Failed(format!(
                    "it answered pg_status {other}: {}",
                    or_none(description)
                )),
            },
            Reply::Unanswered(why) => CheckVerdict::Failed(why),
        }
    }

    /// Delivers a result callback, retrying while it is unanswered.
    pub async fn deliver(self: Arc<Self>, job: CallbackJob) {
        // The same signed message every time: the merchant must answer repeats alike.
        let fields = signed(&job);
        for attempt in 1..=self.settings.retries.saturating_add(1) {
            if attempt > 1 {
                tokio::time::sleep(self.settings.retry_interval).await;
            }
            if let Reply::Answered { .. } = self.attempt(&job, &fields, attempt).await {
                return;
            }
        }
    }

    async fn attempt(&self, job: &CallbackJob, fields: &Fields, attempt: u32) -> Reply {
        let at = SystemTime::now();
        let started = Instant::now();
        let exchange = match self.client() {
            Ok(client) => post(client, &job.url, job.method, fields).await,
            Err(why) => Err(why),
        };
        let elapsed = started.elapsed();
        let (reply, http_status, body, contract) = match exchange {
            Ok(raw) => {
                // The same rules `fph callback send` applies, so the log says whether the
                // merchant's handler keeps the contract, not only what it answered.
                let broken = check_reply(job.kind, &job.url, fields, &raw, None, &job.secret)
                    .into_iter()
                    .filter(|check| check.failed())
                    .map(|check| check.to_string())
                    .collect();
                let kept = &raw.body[..raw.body.len().min(REPLY_KEPT)];
                (
                    answer(&job.url, &raw, &job.secret),
                    Some(raw.http_status),
                    Some(String::from_utf8_lossy(kept).into_owned()),
                    Some(broken),
                )
            }
            Err(why) => (Reply::Unanswered(why), None, None, None),
        };
        let (reply_status, failure, reply_description) = match &reply {
            Reply::Answered {
                status,
                description,
            } => (Some(status.clone()), None, Some(description.clone())),
            Reply::Unanswered(why) => (None, Some(why.clone()), None),
        };
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= LOG_LIMIT {
            log.pop_front();
        }
        log.push_back(CallbackAttempt {
            kind: job.kind,
            payment_id: job.payment_id,
            url: job.url.clone(),
            attempt,
            reply_status,
            failure,
            at,
            elapsed,
            method: job.method.name(),
            sent: fields.clone(),
            http_status,
            reply_body: body,
            reply_description,
            contract,
        });
        if let Some(attempt) = log.back() {
            self.settings.log.callback(attempt);
        }
        drop(log);
        self.changes.bump();
        reply
    }

    pub fn attempts(&self) -> Vec<CallbackAttempt> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn or_none(description: String) -> String {
    if description.is_empty() {
        "no pg_description".into()
    } else {
        description
    }
}

/// The job's fields with a fresh salt and the signature for the merchant's script name.
fn signed(job: &CallbackJob) -> Fields {
    let mut fields = job.fields.clone();
    fields.push("pg_salt", crate::gateway::signature::fresh_salt());
    let sig = sign(script_name(&job.url), &fields, &job.secret);
    fields.push(SIG_FIELD, sig.as_str());
    fields
}

/// The reply as the gateway acts on it.
fn answer(url: &str, reply: &MerchantReply, secret: &SecretKey) -> Reply {
    match read_reply(script_name(url), reply, secret) {
        Ok(Answer {
            status,
            description,
        }) => Reply::Answered {
            status,
            description,
        },
        Err(why) => Reply::Unanswered(why),
    }
}

/// Sends one callback (fields already signed) to `url` and returns the merchant's raw reply,
/// for `fph callback send`: `timeout` bounds the whole exchange.
// `fph callback send`, and the receiver's tests: the emulator itself sends through `deliver`.
#[cfg(any(feature = "cli", test))]
pub async fn send_callback(
    url: &str,
    method: CallbackMethod,
    fields: &Fields,
    timeout: Duration,
) -> Result<MerchantReply, String> {
    let client = build_client(timeout)?;
    post(&client, url, method, fields).await
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    method: CallbackMethod,
    fields: &Fields,
) -> Result<MerchantReply, String> {
    let pairs = fields.to_form_pairs();
    let request = match method {
        CallbackMethod::Get => {
            let mut url = Url::parse(url).map_err(|e| format!("failed to read the URL: {e}"))?;
            url.query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (k, v)));
            client.get(url)
        }
        CallbackMethod::Post => client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )),
        CallbackMethod::Xml => client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode([(
                "pg_xml",
                pretty_fields("request", fields).as_str(),
            )])),
    };
    let response = request
        .send()
        .await
        .map_err(|e| format!("failed to reach the merchant: {e}"))?;
    let http_status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("failed to read the merchant's answer: {e}"))?;
    Ok(MerchantReply {
        http_status,
        body: body.to_vec(),
    })
}

/// A client with its own rustls configuration (ring, webpki roots), so the library never
/// installs a process-wide crypto provider behind its user's back.
fn build_client(timeout: Duration) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("failed to set up TLS for callbacks: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| format!("failed to set up the callback client: {e}"))
}

//! The callback receiver: a real HTTP server on 127.0.0.1:0, started once per run, that plays
//! the merchant's check and result URLs for scenarios.
//!
//! Each case gets its own URLs (`{base}/{case}/result`, `{base}/{case}/check`); the last path
//! segment is the script name both sides sign with. A callback that arrives is held, its HTTP
//! request open, until a step waits for it ([`Receiver::wait`]): the step sees its fields only
//! once their `pg_sig` has been checked with the merchant's key, then decides the reply
//! ([`Pending::answer`]) — a signed `<response>` or a bare HTTP status to test retries.
//!
//! The server runs on a thread of its own (like the emulator), so a session can start it
//! outside any async runtime and a `cargo test` trial on another runtime can still wait on it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::{Notify, oneshot};

use crate::gateway::callback::{CallbackKind, CallbackMethod};
use crate::gateway::signature::{Verification, script_name, verify};
use crate::gateway::xml::{Document, body_head};
use crate::gateway::{Fields, SecretKey};

use super::{Reply, TransportError};

/// The largest callback body read (a real one is well under 4 KiB).
const BODY_LIMIT: usize = 1 << 20;
/// How long a callback's HTTP request is held open for a step to answer it: after that the
/// receiver answers 500 itself, as an unanswered merchant would.
const HOLD: Duration = Duration::from_secs(60);

/// What came in, before anything of it is trusted.
#[derive(Debug)]
enum Arrival {
    Fields(Fields),
    /// The body could not be read as a callback: why, and its first bytes.
    Malformed(String),
}

struct Held {
    arrival: Arrival,
    method: CallbackMethod,
    reply: oneshot::Sender<Response>,
}

#[derive(Default)]
struct Inbox {
    /// Callbacks not yet waited for, by URL path.
    held: Mutex<HashMap<String, VecDeque<Held>>>,
    arrived: Notify,
}

/// The running receiver; stops when dropped.
pub struct Receiver {
    base_url: String,
    /// Where it listens (what a forwarder behind `--callback-base-url` must reach).
    local: SocketAddr,
    inbox: Arc<Inbox>,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("base_url", &self.base_url)
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

/// A callback whose signature was checked, waiting for its reply.
#[derive(Debug)]
pub struct Pending {
    pub fields: Fields,
    /// How it came: GET parameters, a POST form, or a form holding `pg_xml`.
    pub method: CallbackMethod,
    url: String,
    reply: oneshot::Sender<Response>,
}

impl Receiver {
    /// Starts the receiver on 127.0.0.1:`port` (0: any free port), on a thread of its own.
    /// `public_base` is the address the gateway is told instead (`--callback-base-url`, for a
    /// remote target that reaches the receiver through a forwarder, which needs a fixed
    /// `port` to forward to).
    pub fn start(public_base: Option<&str>, port: u16) -> std::io::Result<Receiver> {
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let inbox = Arc::new(Inbox::default());
        let router = Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&inbox));
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("fph-callbacks".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })?;
        let base_url = match public_base {
            Some(base) => base.trim_end_matches('/').to_owned(),
            None => format!("http://{addr}"),
        };
        Ok(Receiver {
            base_url,
            local: addr,
            inbox,
            stop: Some(stop),
        })
    }

    /// Where the gateway is told to send callbacks.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Where it listens: what a forwarder behind `--callback-base-url` must reach.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The URL a case gives the gateway for one kind of callback (`callback_url("result")`).
    pub fn url(&self, case: &str, kind: CallbackKind) -> String {
        format!("{}{}", self.base_url, path(case, kind))
    }

    /// Waits for the next callback to a case's URL; returns it only once its signature has
    /// been checked. A callback that fails is answered HTTP 400 and fails the wait.
    pub async fn wait(
        &self,
        case: &str,
        kind: CallbackKind,
        secret: &SecretKey,
        timeout: Duration,
    ) -> Result<Pending, TransportError> {
        let key = path(case, kind);
        let url = self.url(case, kind);
        let deadline = tokio::time::Instant::now() + timeout;
        let held = loop {
            let notified = self.inbox.arrived.notified();
            if let Some(held) = self.take(&key) {
                break held;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(TransportError::CallbackTimeout { url, timeout });
            }
        };
        let fields = match held.arrival {
            Arrival::Fields(fields) => fields,
            Arrival::Malformed(why) => {
                let _ = held.reply.send(StatusCode::BAD_REQUEST.into_response());
                return Err(TransportError::CallbackMalformed { url, why });
            }
        };
        let script = kind.name();
        let why = match verify(script, &fields, secret) {
            Verification::Valid => None,
            Verification::Missing => Some("it has no pg_sig".to_owned()),
            Verification::Mismatch { actual, .. } => Some(format!("pg_sig `{actual}` is wrong")),
        };
        if let Some(why) = why {
            let _ = held.reply.send(StatusCode::BAD_REQUEST.into_response());
            return Err(TransportError::CallbackSignature {
                url,
                script: script.to_owned(),
                why,
            });
        }
        Ok(Pending {
            fields,
            method: held.method,
            url,
            reply: held.reply,
        })
    }

    /// The oldest callback held for `key`: the request path ends with it, so a forwarder
    /// that keeps a path prefix of `--callback-base-url` still reaches the case.
    fn take(&self, key: &str) -> Option<Held> {
        let mut held = self.inbox.held.lock().unwrap_or_else(|e| e.into_inner());
        held.iter_mut()
            .filter(|(path, queue)| path.ends_with(key) && !queue.is_empty())
            .map(|(_, queue)| queue)
            .next()
            .and_then(VecDeque::pop_front)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What was answered: the HTTP status and the body sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub status: u16,
    pub body: String,
    pub elapsed: Duration,
}

impl Pending {
    /// Answers the callback as the scenario says; returns what was sent (for the record).
    pub fn answer(self, reply: &Reply, secret: &SecretKey) -> Sent {
        let started = Instant::now();
        let body = reply.body(script_name(&self.url), secret);
        let response = match reply {
            Reply::Http(code) => StatusCode::from_u16(*code)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response(),
            Reply::Signed { .. } => (
                StatusCode::OK,
                [("content-type", "application/xml; charset=utf-8")],
                body.clone(),
            )
                .into_response(),
        };
        let status = response.status().as_u16();
        let _ = self.reply.send(response);
        Sent {
            status,
            body,
            elapsed: started.elapsed(),
        }
    }
}

fn path(case: &str, kind: CallbackKind) -> String {
    format!("/{case}/{}", kind.name())
}

async fn receive(State(inbox): State<Arc<Inbox>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let key = parts.uri.path().to_owned();
    let get = parts.method == axum::http::Method::GET;
    let (arrival, method) = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Err(_) => (
            Arrival::Malformed(format!("the body is larger than {BODY_LIMIT} bytes")),
            CallbackMethod::Post,
        ),
        Ok(bytes) => {
            let form: &[u8] = if get {
                parts.uri.query().unwrap_or("").as_bytes()
            } else {
                &bytes
            };
            read_fields(form, &bytes, get)
        }
    };
    let (tx, rx) = oneshot::channel();
    inbox
        .held
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
        .push_back(Held {
            arrival,
            method,
            reply: tx,
        });
    inbox.arrived.notify_waiters();
    match tokio::time::timeout(HOLD, rx).await {
        Ok(Ok(response)) => response,
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The callback's fields: a form (or query), or one `pg_xml` field holding a `<request>`.
fn read_fields(form: &[u8], body: &[u8], get: bool) -> (Arrival, CallbackMethod) {
    let method = if get {
        CallbackMethod::Get
    } else {
        CallbackMethod::Post
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.is_empty() || pairs.iter().any(|(k, _)| k.is_empty()) {
        return (
            Arrival::Malformed(format!("no form fields: {}", body_head(body))),
            method,
        );
    }
    if let [(name, xml)] = pairs.as_slice()
        && name == "pg_xml"
    {
        let arrival = match Document::parse_str(xml) {
            Ok(document) => Arrival::Fields(document.root.to_fields()),
            Err(e) => Arrival::Malformed(format!("pg_xml is not XML: {e}")),
        };
        return (arrival, CallbackMethod::Xml);
    }
    let arrival = match Fields::from_form_pairs(pairs) {
        Ok(fields) => Arrival::Fields(fields),
        Err(e) => Arrival::Malformed(format!("{e}: {}", body_head(body))),
    };
    (arrival, method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::callback::{CallbackMethod, MerchantReply, read_reply};
    use crate::gateway::signature::{SIG_FIELD, sign};

    fn key() -> SecretKey {
        SecretKey::new("receiver-key")
    }

    fn signed(script: &str, secret: &SecretKey) -> Fields {
        let mut f = Fields::new();
        f.push("pg_payment_id", "42");
        f.push("pg_result", "1");
        f.push("pg_salt", "s");
        let sig = sign(script, &f, secret);
        f.push(SIG_FIELD, sig.as_str());
        f
    }

    /// Sends a signed callback as a POST form, as the gateway does, in the background.
    fn send_post(
        url: String,
        fields: Fields,
    ) -> tokio::task::JoinHandle<Result<MerchantReply, String>> {
        tokio::spawn(async move {
            crate::emulator::send_callback(
                &url,
                CallbackMethod::Post,
                &fields,
                Duration::from_secs(5),
            )
            .await
        })
    }

    /// A raw form POST (no TLS client needed), for bodies no callback sender would make.
    async fn post(url: String, body: &'static str) -> MerchantReply {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let text = String::from_utf8_lossy(&answer);
        MerchantReply {
            http_status: text[9..12].parse().unwrap(),
            body: text.split_once("\r\n\r\n").unwrap().1.as_bytes().to_vec(),
        }
    }

    #[tokio::test]
    async fn a_signed_callback_is_received_in_every_method_and_answered_signed() {
        let receiver = Receiver::start(None, 0).unwrap();
        for method in [
            CallbackMethod::Post,
            CallbackMethod::Get,
            CallbackMethod::Xml,
        ] {
            let url = receiver.url("case-1", CallbackKind::Result);
            let fields = signed("result", &key());
            let sent = tokio::spawn({
                let url = url.clone();
                async move {
                    crate::emulator::send_callback(&url, method, &fields, Duration::from_secs(5))
                        .await
                }
            });
            let pending = receiver
                .wait(
                    "case-1",
                    CallbackKind::Result,
                    &key(),
                    Duration::from_secs(5),
                )
                .await
                .unwrap();
            assert_eq!(
                pending.fields.get("pg_payment_id"),
                Some("42"),
                "{method:?}"
            );
            pending.answer(
                &Reply::Signed {
                    status: "ok".into(),
                    description: "thanks".into(),
                    salt: "s".into(),
                    sig: None,
                },
                &key(),
            );
            let reply = sent.await.unwrap().unwrap();
            let answer = read_reply("result", &reply, &key()).unwrap();
            assert_eq!(answer.status, "ok");
            assert_eq!(answer.description, "thanks");
        }
    }

    #[tokio::test]
    async fn a_callback_signed_with_another_key_is_refused_before_its_fields_are_seen() {
        let receiver = Receiver::start(None, 0).unwrap();
        let url = receiver.url("c", CallbackKind::Check);
        let fields = signed("check", &SecretKey::new("not the merchant's"));
        let sent = send_post(url, fields);
        let error = receiver
            .wait("c", CallbackKind::Check, &key(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, TransportError::CallbackSignature { script, .. } if script == "check"),
            "{error}"
        );
        assert_eq!(sent.await.unwrap().unwrap().http_status, 400);
    }

    #[tokio::test]
    async fn a_callback_that_never_comes_fails_after_the_timeout_naming_the_url() {
        let receiver = Receiver::start(None, 0).unwrap();
        let error = receiver
            .wait(
                "late",
                CallbackKind::Result,
                &key(),
                Duration::from_millis(50),
            )
            .await
            .unwrap_err();
        let url = receiver.url("late", CallbackKind::Result);
        assert!(error.to_string().contains(&url), "{error}");
        assert!(matches!(error, TransportError::CallbackTimeout { .. }));
    }

    #[tokio::test]
    async fn a_malformed_callback_is_reported_with_its_first_bytes() {
        let receiver = Receiver::start(None, 0).unwrap();
        let sent = tokio::spawn(post(
            receiver.url("m", CallbackKind::Result),
            "pg_xml=<request><pg_sig>",
        ));
        let error = receiver
            .wait("m", CallbackKind::Result, &key(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(error, TransportError::CallbackMalformed { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("<request><pg_sig>"), "{error}");
        assert_eq!(sent.await.unwrap().http_status, 400);
    }

    #[tokio::test]
    async fn a_forwarder_that_keeps_the_public_path_prefix_still_reaches_the_case() {
        let receiver = Receiver::start(Some("https://tunnel.example/cb"), 0).unwrap();
        let public = receiver.url("c9", CallbackKind::Result);
        assert_eq!(public, "https://tunnel.example/cb/c9/result");
        // What the forwarder sends on: the same path, to the receiver's own address.
        let forwarded = format!("http://{}/cb/c9/result", receiver.local_addr());
        let fields = signed("result", &key());
        let sent = send_post(forwarded, fields);
        let pending = receiver
            .wait("c9", CallbackKind::Result, &key(), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(pending.method, CallbackMethod::Post);
        pending.answer(&Reply::Http(204), &key());
        assert_eq!(sent.await.unwrap().unwrap().http_status, 204);
    }

    #[tokio::test]
    async fn an_http_status_reply_is_sent_bare_and_each_case_has_its_own_url() {
        let receiver = Receiver::start(Some("https://tunnel.example/cb/"), 0).unwrap();
        assert_eq!(
            receiver.url("c7", CallbackKind::Check),
            "https://tunnel.example/cb/c7/check"
        );
        let local = Receiver::start(None, 0).unwrap();
        let sent = tokio::spawn(post(local.url("a", CallbackKind::Result), "pg_x=1"));
        assert!(
            local
                .wait(
                    "b",
                    CallbackKind::Result,
                    &key(),
                    Duration::from_millis(100)
                )
                .await
                .is_err(),
            "another case's URL"
        );
        let error = local
            .wait("a", CallbackKind::Result, &key(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(error, TransportError::CallbackSignature { .. }),
            "unsigned: {error}"
        );
        assert_eq!(sent.await.unwrap().http_status, 400);
        let fields = signed("result", &key());
        let url = local.url("a", CallbackKind::Result);
        let sent = send_post(url, fields);
        local
            .wait("a", CallbackKind::Result, &key(), Duration::from_secs(5))
            .await
            .unwrap()
            .answer(&Reply::Http(500), &key());
        let reply = sent.await.unwrap().unwrap();
        assert_eq!(reply.http_status, 500);
        assert!(reply.body.is_empty());
    }
}

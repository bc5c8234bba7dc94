//! The recording proxy's HTTP server: every request is forwarded to the target as it came
//! (method, path, query, body bytes, the headers that describe the body) and the target's
//! answer returned unchanged (status, headers, body bytes); then the exchange is recorded.
//!
//! Forwarding goes through the harness's own HTTP client ([`crate::transport::live::client`]),
//! which never retries and never follows a redirect: a money-moving call reaches the target at
//! most once, whatever happens. Whatever the target answers — a 5xx, malformed XML — goes back
//! and is recorded as it came. A target that closes the connection without a whole answer has
//! the caller's connection closed the same way, unanswered, and is recorded with status 0
//! (which the replaying gateway plays back as a closed connection). A target that cannot be
//! reached, or does not answer within the client's timeout, gets the caller an HTTP 502 from
//! the proxy and nothing is recorded: there was no answer to record. The emulator's admin API (`/_emulator/…`) is forwarded but not recorded: it is
//! no gateway call.
//!
//! Recording happens off the request path: the handler hands the exchange's bytes to one
//! recorder thread and answers the caller at once; the recorder decodes, redacts, re-signs and
//! appends to the cassette in arrival order (one channel, one writer, no lock a request waits
//! on). So the proxy's rate is set by forwarding, not by the disk (`fph bench --phases proxy`).
//! Stopping drains it: every exchange answered before the stop is in the cassette when
//! [`RunningProxy::shutdown`] returns.
//!
//! Like the emulator, it serves from its own runtime thread, so it runs the same from the CLI
//! and from a test; dropping the [`RunningProxy`] stops it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reqwest::Url;
use tokio::sync::{mpsc, oneshot};

use crate::emulator::{CLOSED, request};
use crate::gateway::{Encoding, Fields};
use crate::secret_guard::SecretGuard;
use crate::transport::live::LiveOptions;

use super::recording::{Exchange, Recording};

/// How the proxy is set up.
#[derive(Debug)]
pub struct ProxyOptions {
    pub bind: SocketAddr,
    /// Where requests go: the target's base URL (a path prefix is kept).
    pub target: Url,
    /// The session being recorded.
    pub recording: Recording,
    /// Largest request body forwarded.
    pub body_limit: usize,
    /// One line per exchange on standard error.
    pub log: bool,
    /// Scrubs log lines.
    pub guard: SecretGuard,
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("failed to listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to start the proxy: {0}")]
    Start(String),
}

/// Exchanges answered but not yet saved, at most: beyond it a request waits for the recorder
/// before it is answered, so a caller faster than the disk is slowed, never a queue grown
/// without bound.
const RECORDER_QUEUE: usize = 1024;

struct Proxy {
    target: Url,
    client: reqwest::Client,
    /// To the recorder thread; dropped with the server, which ends the recorder.
    recorder: mpsc::Sender<Passed>,
    body_limit: usize,
    log: Log,
}

/// The proxy's log lines, secret-scrubbed, on standard error (when on).
#[derive(Clone)]
struct Log {
    on: bool,
    guard: SecretGuard,
}

/// One exchange as it passed through, bytes untouched, for the recorder to save.
struct Passed {
    method: Method,
    uri: axum::http::Uri,
    /// The request's content type as sent ("" when none).
    content_type: String,
    body: Bytes,
    /// The target's status, answer content type and body; `None` when it closed the
    /// connection without a whole answer.
    answer: Option<(StatusCode, Option<String>, Bytes)>,
    elapsed: std::time::Duration,
}

/// A started proxy; dropping it stops the server.
#[derive(Debug)]
pub struct RunningProxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    recorder: Option<JoinHandle<()>>,
}

impl RunningProxy {
    /// Binds and starts serving on a background thread.
    pub fn start(options: ProxyOptions) -> Result<RunningProxy, ProxyError> {
        let listener =
            std::net::TcpListener::bind(options.bind).map_err(|source| ProxyError::Bind {
                addr: options.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: options.bind,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ProxyError::Bind { addr, source })?;
        let client = crate::transport::live::client(&LiveOptions {
            direct: crate::transport::live::is_loopback(&options.target),
            ..LiveOptions::default()
        })
        .map_err(|e| ProxyError::Start(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fph-proxy")
            .enable_all()
            .build()
            .map_err(|e| ProxyError::Start(e.to_string()))?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|source| ProxyError::Bind { addr, source })?
        };
        let log = Log {
            on: options.log,
            guard: options.guard,
        };
        let (recorder_tx, passed) = mpsc::channel(RECORDER_QUEUE);
        let recorder = {
            let log = log.clone();
            let recording = options.recording;
            std::thread::Builder::new()
                .name("fph-proxy-recorder".into())
                .spawn(move || record_all(recording, passed, &log))
                .map_err(|e| ProxyError::Start(e.to_string()))?
        };
        let proxy = Arc::new(Proxy {
            target: options.target,
            client,
            recorder: recorder_tx,
            body_limit: options.body_limit,
            log,
        });
        let router = Router::new().fallback(forward).with_state(proxy);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fph-proxy-main".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = stop_rx.await;
                        })
                        .await;
                });
                runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            })
            .map_err(|e| ProxyError::Start(e.to_string()))?;
        Ok(RunningProxy {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
            recorder: Some(recorder),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL to give the merchant's backend.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets exchanges in flight finish and be recorded, then returns.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // The server is gone and with it the recorder's sender: the recorder saves what is
        // queued and ends.
        if let Some(recorder) = self.recorder.take() {
            let _ = recorder.join();
        }
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Request headers not passed on: the connection's own (hop-by-hop), the host (the target's
/// is set), the length (recomputed) and `accept-encoding` (a compressed answer could not be
/// recorded; the caller gets the same bytes either way).
fn forwarded_request_header(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "host"
            | "content-length"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "accept-encoding"
    )
}

/// Answer headers not passed back: hop-by-hop ones, and the length (set for the body sent).
fn returned_response_header(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "content-length"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let bytes = match axum::body::to_bytes(body, proxy.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            proxy.log.line(&format!(
                "{} {path} → not forwarded: the body is larger than {} bytes or could not be read",
                parts.method, proxy.body_limit
            ));
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "fph proxy: the request body is too large or could not be read\n",
            )
                .into_response();
        }
    };
    let mut url = proxy.target.clone();
    let base_path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base_path}/{}", path.trim_start_matches('/')));
    url.set_query(parts.uri.query());

    let mut outgoing = proxy
        .client
        .request(parts.method.clone(), url)
        .body(bytes.clone());
    for (name, value) in &parts.headers {
        if forwarded_request_header(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let started = Instant::now();
    // A 502 for the caller and a log line, secret-safe; nothing is recorded.
    let failed = |error: &reqwest::Error, logged: &str, after: &str, told: &str| {
        let reason = proxy
            .log
            .guard
            .scrub(&crate::transport::live::error_chain(error))
            .into_owned();
        proxy.log.line(&format!(
            "{} {path} → {logged} ({reason}); {after}",
            parts.method
        ));
        (
            StatusCode::BAD_GATEWAY,
            format!("fph proxy: the target {told}: {reason}\n"),
        )
            .into_response()
    };
    // The target closed the connection before a whole answer: so is the caller's, and the
    // exchange is recorded as closed.
    let closed = |error: &reqwest::Error, what: &str| {
        let reason = proxy
            .log
            .guard
            .scrub(&crate::transport::live::error_chain(error))
            .into_owned();
        (format!("{what} ({reason})"), started.elapsed())
    };
    // Sent once: the client never retries (see `transport::live::client`).
    let answered = match outgoing.send().await {
        Err(error) if error.is_connect() || error.is_timeout() => {
            return failed(
                &error,
                "not answered",
                "nothing recorded, and the call is not retried",
                "did not answer",
            );
        }
        Err(error) => Err(closed(
            &error,
            "the target closed the connection unanswered",
        )),
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            match answer.bytes().await {
                Ok(body) => Ok((status, headers, body, started.elapsed())),
                Err(error) => Err(closed(&error, "the target's answer broke off")),
            }
        }
    };
    let (status, headers, body, elapsed) = match answered {
        Ok(answer) => answer,
        Err((why, elapsed)) => {
            proxy.log.line(&format!(
                "{} {path} → {why}: the caller's connection is closed too; not retried",
                parts.method
            ));
            proxy.record(&parts, bytes, None, elapsed).await;
            return unanswered();
        }
    };

    let answer_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    proxy
        .record(
            &parts,
            bytes,
            Some((status, answer_type, body.clone())),
            elapsed,
        )
        .await;

    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if returned_response_header(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// An answer hyper never sends: its body fails before the first byte, so the connection is
/// closed with nothing written — how a target's closed connection reaches the caller.
fn unanswered() -> Response {
    Response::new(Body::new(Unanswered))
}

struct Unanswered;

impl http_body::Body for Unanswered {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "the target closed the connection",
        ))))
    }
}

impl Log {
    fn line(&self, line: &str) {
        if self.on {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "{}", self.guard.scrub(line));
        }
    }
}

impl Proxy {
    /// Hands an exchange to the recorder (the emulator's admin API, `/_emulator/…`, is no
    /// gateway call and is not recorded). Waits only when the recorder is [`RECORDER_QUEUE`]
    /// exchanges behind.
    async fn record(
        &self,
        parts: &axum::http::request::Parts,
        body: Bytes,
        answer: Option<(StatusCode, Option<String>, Bytes)>,
        elapsed: std::time::Duration,
    ) {
        if parts.uri.path().starts_with("/_emulator") {
            return;
        }
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        // The recorder ends only after the server, so a send fails only while shutting down
        // after a panic there; nothing more can be saved then.
        let _ = self
            .recorder
            .send(Passed {
                method: parts.method.clone(),
                uri: parts.uri.clone(),
                content_type,
                body,
                answer,
                elapsed,
            })
            .await;
    }
}

/// The recorder thread: saves every exchange handed over, in arrival order, until the server
/// is gone and the queue is empty.
fn record_all(mut recording: Recording, mut passed: mpsc::Receiver<Passed>, log: &Log) {
    // Decoding a body is async (multipart); the bytes are all here, so a one-thread runtime
    // of its own runs it to the end at once.
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            log.line(&format!("fph proxy: nothing can be recorded: {error}"));
            return;
        }
    };
    while let Some(first) = passed.blocking_recv() {
        // Everything queued meanwhile goes out in the same write: one write per batch, and
        // never more than a batch behind what the callers were answered.
        let mut next = Some(first);
        let mut batch = 0;
        while let Some(exchange) = next.take() {
            // A test makes the recorder slower than the callers, to see shutdown drain it.
            #[cfg(test)]
            if tests::SLOW_RECORDER.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            runtime.block_on(save(&mut recording, exchange, log));
            batch += 1;
            if batch < FLUSH_EVERY {
                next = passed.try_recv().ok();
            }
        }
        if let Err(error) = recording.flush() {
            log.line(&format!(
                "fph proxy: the last {batch} exchanges were forwarded but not recorded: {error}"
            ));
        }
    }
}

/// Most exchanges written in one batch.
const FLUSH_EVERY: usize = 256;

/// Records one exchange; one the target closed without a whole answer is recorded with
/// status [`CLOSED`].
async fn save(recording: &mut Recording, passed: Passed, log: &Log) {
    let Passed {
        method,
        uri,
        content_type,
        body: request_body,
        answer,
        elapsed,
    } = passed;
    let status = answer
        .as_ref()
        .map_or(CLOSED, |(status, _, _)| status.as_u16());
    let (answer_type, answer_body) = match answer {
        Some((_, content_type, body)) => (content_type, body),
        None => (None, Bytes::new()),
    };
    let path = uri.path().to_owned();
    let decoded = read_request(method.clone(), uri, &content_type, request_body).await;
    let (fields, encoding) = match decoded {
        Ok(read) => read,
        Err(error) => {
            let why = match error {
                request::DecodeError::Malformed(why) => why,
                request::DecodeError::TooLarge { .. } => "too large".into(),
            };
            log.line(&format!(
                "{method} {path} → {status} (forwarded; not recorded: its fields cannot be read: {why})"
            ));
            return;
        }
    };
    // For the log line only: the answer's pg_status, when it has one.
    let pg_status = if log.on {
        crate::gateway::Document::parse_response(&answer_body)
            .ok()
            .and_then(|d| d.text("pg_status").map(|s| format!(" {s}")))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let exchange = Exchange {
        path: path.clone(),
        encoding,
        fields,
        status,
        content_type: answer_type,
        body: String::from_utf8_lossy(&answer_body).into_owned(),
        elapsed,
    };
    let result = recording.record(&exchange);
    let answered = if status == CLOSED {
        "closed".to_owned()
    } else {
        format!("{status}{pg_status}")
    };
    match result {
        Ok((step, attempt)) => log.line(&format!(
            "{method} {path} → {answered}, recorded as {step}{}",
            if attempt > 1 {
                format!(" (attempt {attempt})")
            } else {
                String::new()
            }
        )),
        Err(error) => log.line(&format!(
            "{method} {path} → {answered} (forwarded; not recorded: {error})"
        )),
    }
}

/// A forwarded request's fields and the encoding a cassette names, read by the emulator's
/// own decoder (one reading of the wire for the gateway and the proxy). A POST that carried
/// its fields in the query string only, which no client of the harness sends, is recorded as
/// a urlencoded form: `get` in a cassette means a GET.
async fn read_request(
    method: Method,
    uri: axum::http::Uri,
    content_type: &str,
    body: Bytes,
) -> Result<(Fields, Encoding), request::DecodeError> {
    let mut rebuilt = Request::builder().method(method.clone()).uri(uri);
    if !content_type.is_empty() {
        rebuilt = rebuilt.header(header::CONTENT_TYPE, content_type);
    }
    let rebuilt = rebuilt
        .body(Body::from(body))
        .map_err(|e| request::DecodeError::Malformed(e.to_string()))?;
    let (fields, read) = request::decode_read(rebuilt, usize::MAX).await?;
    let encoding = match read {
        Encoding::Get if method != Method::GET => Encoding::Urlencoded,
        read => read,
    };
    Ok((fields, encoding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig};
    use crate::gateway::signature;
    use crate::gateway::{Routes, SecretKey};
    use crate::proxy::RecordingOptions;
    use crate::transport::cassette::Cassette;

    /// Set by the test below: the recorder sleeps before each exchange.
    pub(super) static SLOW_RECORDER: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);

    /// Recording is off the request path, but stopping drains it: every exchange answered
    /// before `shutdown` is in the cassette, in arrival order per caller, when it returns —
    /// also when the callers outran the recorder (made slow here: 400 exchanges at 2 ms each
    /// are still queued when the last answer comes).
    #[test]
    fn every_answered_exchange_is_recorded_when_shutdown_returns() {
        SLOW_RECORDER.store(true, std::sync::atomic::Ordering::Relaxed);
        let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let guard = SecretGuard::for_run(None, None);
        let recording = Recording::new(
            RecordingOptions {
                session: "drain".into(),
                recordings: dir.path().to_owned(),
                target: "emulator".into(),
                routes: Routes::default(),
                redactions: crate::scenario::HarnessConfig::default().redactions,
                replay_key: SecretKey::new("fph-replay-key"),
                secret: SecretKey::new(DEMO_SECRET_KEY),
                guard: guard.clone(),
            },
            "2026-11-30T00:00:00Z".into(),
        );
        let path = recording.path().to_owned();
        let proxy = RunningProxy::start(ProxyOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            target: emulator.base_url(),
            recording,
            body_limit: 1 << 20,
            log: false,
            guard,
        })
        .unwrap();
        let url = format!("{}/get_status3.php", proxy.base_url());
        const CALLERS: usize = 8;
        const EACH: usize = 50;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = reqwest::Client::new();
            let callers = (0..CALLERS).map(|caller| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    for n in 0..EACH {
                        let mut fields: Fields = [
                            ("pg_merchant_id", DEMO_MERCHANT_ID.to_string()),
                            ("pg_payment_id", format!("{caller}{n:03}")),
                            ("pg_salt", format!("salt-{caller}-{n}")),
                        ]
                        .into_iter()
                        .collect();
                        let sig = signature::sign(
                            "get_status3.php",
                            &fields,
                            &SecretKey::new(DEMO_SECRET_KEY),
                        );
                        fields.push("pg_sig", sig.as_str());
                        let answer = client
                            .post(&url)
                            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                            .body(crate::gateway::encoding::urlencoded(&fields))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(answer.status(), 200);
                        answer.bytes().await.unwrap();
                    }
                })
            });
            for caller in callers.collect::<Vec<_>>() {
                caller.await.unwrap();
            }
        });
        proxy.shutdown();
        let cassette = Cassette::load(&path).unwrap();
        assert_eq!(cassette.interactions.len(), CALLERS * EACH);
        // Each caller's requests are in the order it sent them.
        for caller in 0..CALLERS {
            let ids: Vec<String> = cassette
                .interactions
                .iter()
                .filter_map(|i| i.request.fields.get("pg_payment_id"))
                .filter(|id| id.starts_with(&caller.to_string()) && id.len() == 4)
                .map(str::to_owned)
                .collect();
            let sent: Vec<String> = (0..EACH).map(|n| format!("{caller}{n:03}")).collect();
            assert_eq!(ids, sent, "caller {caller}");
        }
    }

    #[test]
    fn encodings_are_read_as_the_emulator_reads_them() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let read = |method: Method, uri: &str, content_type: &str, body: &'static str| {
            let (fields, encoding) = runtime
                .block_on(read_request(
                    method,
                    uri.parse().unwrap(),
                    content_type,
                    Bytes::from_static(body.as_bytes()),
                ))
                .unwrap();
            (fields.get("a").map(str::to_owned), encoding)
        };
        let one = || Some("1".to_owned());
        let post = Method::POST;
        assert_eq!(read(Method::GET, "/s?a=1", "", ""), (one(), Encoding::Get));
        assert_eq!(
            read(
                post.clone(),
                "/s",
                "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n"
            ),
            (one(), Encoding::Multipart)
        );
        assert_eq!(
            read(
                post.clone(),
                "/s",
                "application/x-www-form-urlencoded",
                "a=1"
            ),
            (one(), Encoding::Urlencoded)
        );
        assert_eq!(
            read(
                post.clone(),
                "/s",
                "",
                "pg_xml=%3Crequest%3E%3Ca%3E1%3C%2Fa%3E%3C%2Frequest%3E"
            ),
            (one(), Encoding::PgXml)
        );
        assert_eq!(
            read(
                post.clone(),
                "/s",
                "text/xml",
                "<request><a>1</a></request>"
            ),
            (one(), Encoding::PgXml)
        );
        assert_eq!(
            read(
                post.clone(),
                "/s",
                "application/json; charset=utf-8",
                r#"{"a":"1"}"#
            ),
            (one(), Encoding::Json)
        );
        // Fields in a POST's query string: recorded as a form, never as a GET.
        assert_eq!(read(post, "/s?a=1", "", ""), (one(), Encoding::Urlencoded));
    }
}

//! The emulator's HTTP server: starting and stopping it, and routing each request to a gateway
//! call or the admin API.
//!
//! [`Emulator::start`] binds (127.0.0.1:0 by default) and serves from its own tokio runtime on
//! its own thread, so it works the same from synchronous code (a test harness trial), from
//! inside another runtime (an async test) and from the CLI. Dropping the [`RunningEmulator`]
//! stops it at once and waits until the port is released; [`RunningEmulator::shutdown`] lets
//! calls in flight finish first.
//!
//! Routes are looked up at request time from the configured [`Routes`], which is why a single
//! fallback handler serves everything. Each connection carries a kill switch so a fault can
//! drop it without sending a byte.
//!
//! Connections are served by hyper directly (not `axum::serve`) so that hyper has a timer and
//! a header-read timeout: a client that opens a connection and sends its headers slowly, or
//! half of them and then nothing (slowloris), is closed after `header_read_timeout` instead of
//! holding a task forever; others are served meanwhile.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use reqwest::Url;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service as _;

use crate::gateway::signature::script_name;
use crate::gateway::{Fields, Operation, Routes, SecretKey};

use super::answer::{unsigned_error, xml_response};
use super::callbacks::{CallbackSettings, Callbacks};
use super::changes::AnswerChange;
use super::clock::Now;
use super::config::EmulatorConfig;
use super::config::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY};
use super::console::{CallName, CallRecord, Changes, ConsoleAccess, Journal};
use super::errors::{ErrorCodes, ErrorKind, Rejection};
use super::faults::{self, FaultKind, Faults, Phase};
use super::log::RequestLog;
use super::payment::{Effect, Rules};
use super::request::{self, DecodeError};
use super::store::Store;
use super::{admin, calls, console, pay_page};
use crate::secret_guard::SecretGuard;

/// Why the emulator could not start (or stop, or read its configuration).
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("failed to listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("failed to start the emulator's runtime: {0}")]
    Runtime(#[source] io::Error),
    #[error("failed to read the emulator configuration {path}: {source}")]
    ReadConfig {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("failed to read the emulator configuration {path}: {message}")]
    ParseConfig {
        path: String,
        message: String,
        /// The YAML text, so a caller can render a diagnostic with [`EmulatorError::report`].
        text: String,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("failed to use the emulator configuration: {0}")]
    InvalidConfig(String),
    #[error("failed to stop the emulator: its server thread panicked")]
    Panicked,
}

impl EmulatorError {
    /// A rich diagnostic (file, line, column, the offending YAML) for a configuration that
    /// does not parse; `None` for other errors.
    pub fn report(&self) -> Option<miette::Report> {
        match self {
            EmulatorError::ParseConfig {
                path, text, source, ..
            } => Some(serde_saphyr::miette::to_miette_report_with_options(
                source,
                text,
                path,
                // Without it the snippet is named `<input>`, not the file.
                serde_saphyr::render_options! { source_name: Some(path.as_str()) },
            )),
            _ => None,
        }
    }
}

/// How the server thread should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Run,
    /// Stop accepting, let calls in flight finish (up to the grace period).
    Graceful,
    /// Stop now.
    Now,
}

/// Shared by every request: configuration, payments, faults and callbacks.
#[derive(Debug)]
pub(crate) struct App {
    pub merchants: HashMap<String, SecretKey>,
    pub routes: Routes,
    pub codes: ErrorCodes,
    pub body_limit: usize,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    pub store: Mutex<Store>,
    pub faults: Faults,
    pub callbacks: Arc<Callbacks>,
    /// Edits a changed gateway makes to its answers.
    pub answer_changes: Vec<AnswerChange>,
    /// One line per gateway call, when the configuration asks for it (`fph emulator`).
    pub log: RequestLog,
    /// Every gateway call, for the console.
    pub journal: Journal,
    /// Grows whenever something the console shows may have changed.
    pub changes: Arc<Changes>,
    /// Who may use the console.
    pub console: ConsoleAccess,
    /// Replaces merchant keys (other than the demo one) and the console token in what the
    /// console and the payer's page show.
    pub guard: SecretGuard,
}

impl App {
    /// Runs `f` on the store under its lock, then carries out the effects it produced.
    pub fn with_store<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store, Now, &mut Vec<Effect>) -> T,
    ) -> T {
        let mut effects = Vec::new();
        let result = {
            let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut store, Now::current(), &mut effects)
        };
        self.run(effects);
        result
    }

    /// Starts the callbacks and settlements effects ask for. Outside a runtime (a reset from
    /// a synchronous caller) there are none to run.
    fn run(self: &Arc<Self>, effects: Vec<Effect>) {
        if effects.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for effect in effects {
            match effect {
                Effect::Callback(job) => {
                    runtime.spawn(self.callbacks.clone().deliver(job));
                }
                Effect::SettleAt { payment_id, at } => {
                    // The task holds the app; it ends with its timer, or with the runtime.
                    let app = self.clone();
                    runtime.spawn(async move {
                        tokio::time::sleep_until(at.into()).await;
                        app.with_store(|store, now, effects| {
                            store.settle(payment_id, now, effects)
                        });
                        app.changes.bump();
                    });
                }
            }
        }
    }
}

/// The gateway emulator.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `config.bind` and starts serving on a background thread.
    pub fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        config.validate()?;
        let std_listener =
            std::net::TcpListener::bind(config.bind).map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = std_listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.bind,
                source,
            })?;
        std_listener
            .set_nonblocking(true)
            .map_err(|source| EmulatorError::Bind { addr, source })?;

        let workers = config
            .worker_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("fph-emulator")
            .enable_all()
            .build()
            .map_err(EmulatorError::Runtime)?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(std_listener)
                .map_err(|source| EmulatorError::Bind { addr, source })?
        };

        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            match addr {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        let base_url = format!("http://{host}:{}", addr.port());
        let rules = Rules {
            code_attempts: config.code_attempts,
            code_lifetime: config.code_lifetime,
            resend_limit: config.resend_limit,
            resend_cooldown: config.resend_cooldown,
            approve_delay: config.approve_delay,
            codes: config.error_codes.clone(),
        };
        let changes = Arc::new(Changes::default());
        let console = ConsoleAccess::for_bind(addr, config.console_token.as_deref());
        let guard = SecretGuard::new(
            config
                .merchants
                .iter()
                .filter(|(id, key)| !(*id == DEMO_MERCHANT_ID && key.expose() == DEMO_SECRET_KEY))
                .map(|(_, key)| ("a merchant secret key", key.expose()))
                .chain(
                    config
                        .console_token
                        .iter()
                        .map(|t| ("the console token", t.as_str())),
                ),
        );
        let app = Arc::new(App {
            merchants: config.merchants.clone().into_iter().collect(),
            routes: config.routes.clone(),
            codes: config.error_codes.clone(),
            body_limit: config.body_limit,
            base_url: base_url.clone(),
            store: Mutex::new(Store::new(
                rules,
                config.max_payments,
                config.payment_retention,
                config.seed,
            )),
            faults: Faults::default(),
            answer_changes: config.answer_changes.clone(),
            log: RequestLog::new(config.log_requests),
            callbacks: Arc::new(Callbacks::new(
                CallbackSettings {
                    timeout: config.callback_timeout,
                    retry_interval: config.callback_retry_interval,
                    retries: config.callback_retries,
                },
                changes.clone(),
            )),
            journal: Journal::default(),
            changes,
            console,
            guard,
        });

        let (stop_tx, stop_rx) = watch::channel(Stop::Run);
        let timing = Timing {
            grace: config.shutdown_grace,
            header_read_timeout: config.header_read_timeout,
        };
        let thread_app = app.clone();
        let thread = std::thread::Builder::new()
            .name("fph-emulator-main".into())
            .spawn(move || serve(runtime, listener, thread_app, stop_rx, timing))
            .map_err(EmulatorError::Runtime)?;

        Ok(RunningEmulator {
            addr,
            base_url: Url::parse(&base_url).expect("an http URL built from a socket address"),
            app,
            stop: stop_tx,
            thread: Some(thread),
        })
    }
}

/// The server's time limits.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// How long a graceful stop waits for calls in flight.
    grace: Duration,
    /// How long a client may take to send a request's headers.
    header_read_timeout: Duration,
}

/// The server thread: serves until told to stop, then drops the runtime, which cancels every
/// connection, callback and timer still running.
fn serve(
    runtime: tokio::runtime::Runtime,
    listener: TcpListener,
    app: Arc<App>,
    stop: watch::Receiver<Stop>,
    timing: Timing,
) {
    let router = Router::new().fallback(dispatch).with_state(app);
    let grace = timing.grace;
    runtime.block_on(async move {
        let mut force = stop.clone();
        let serving = serve_connections(
            EmulatorListener(listener),
            router,
            stop,
            timing.header_read_timeout,
        );
        let forced = async move {
            let first = force.wait_for(|s| *s != Stop::Run).await.map(|s| *s).ok();
            if first == Some(Stop::Graceful) {
                tokio::select! {
                    _ = tokio::time::sleep(grace) => {}
                    _ = force.wait_for(|s| *s == Stop::Now) => {}
                }
            }
        };
        tokio::select! {
            _ = serving => {}
            _ = forced => {}
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}

/// A started emulator. Dropping it stops the server and waits for the port to be released.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    base_url: Url,
    app: Arc<App>,
    stop: watch::Sender<Stop>,
    thread: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Who may open the web console (`/_emulator/ui`).
    pub fn console_access(&self) -> &ConsoleAccess {
        &self.app.console
    }

    /// `http://127.0.0.1:PORT/`: where to send gateway calls.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The last SMS code sent to this phone (what `/_emulator/sms/PHONE` answers).
    pub fn sms_code(&self, phone: &str) -> Option<String> {
        self.app
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sms_code(phone)
    }

    /// The SMS code payment `id` awaits (what `/_emulator/payments/ID/sms` answers).
    pub fn payment_sms_code(&self, id: u64) -> Option<String> {
        self.app
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .payment_sms_code(id)
    }

    /// Forgets every payment, code, fault and callback log entry (as `POST /_emulator/reset`).
    pub fn reset(&self) {
        admin::reset(&self.app);
    }

    /// Stops accepting connections, lets calls in flight finish (up to the configured grace
    /// period) and waits for the server to end.
    pub fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.stop_with(Stop::Graceful)
    }

    fn stop_with(&mut self, how: Stop) -> Result<(), EmulatorError> {
        self.stop.send_replace(how);
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| EmulatorError::Panicked),
            None => Ok(()),
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop_with(Stop::Now);
    }
}

/// Serves every connection until `stop` leaves [`Stop::Run`]; then stops accepting, lets each
/// connection finish the call in flight (hyper's graceful shutdown) and returns when all have
/// closed.
async fn serve_connections(
    mut listener: EmulatorListener,
    router: Router,
    mut stop: watch::Receiver<Stop>,
    header_read_timeout: Duration,
) {
    // Every connection task holds a receiver; `closed()` resolves when the last is dropped.
    let (open_tx, open_rx) = watch::channel(());
    loop {
        let stream = tokio::select! {
            stream = listener.accept() => stream,
            () = stopping(&mut stop) => break,
        };
        let connection = Connection {
            killed: stream.killed.clone(),
        };
        let router = router.clone();
        let mut stop = stop.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut request: Request<_>| {
                // What `ConnectInfo<Connection>` extracts in the handlers.
                request
                    .extensions_mut()
                    .insert(ConnectInfo(connection.clone()));
                router.clone().call(request.map(axum::body::Body::new))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let served = builder.serve_connection(TokioIo::new(stream), service);
            let mut served = std::pin::pin!(served);
            tokio::select! {
                _ = served.as_mut() => {}
                () = stopping(&mut stop) => {
                    served.as_mut().graceful_shutdown();
                    let _ = served.await;
                }
            }
            drop(open);
        });
    }
    drop(open_rx);
    open_tx.closed().await;
}

/// Resolves once the emulator is told to stop (the watch's guard is not held past it).
async fn stopping(stop: &mut watch::Receiver<Stop>) {
    let _ = stop.wait_for(|s| *s != Stop::Run).await;
}

/// Accepts TCP connections, each wrapped with a kill switch.
struct EmulatorListener(TcpListener);

impl EmulatorListener {
    async fn accept(&mut self) -> KillableStream {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => {
                    // Answers are one write each; waiting for Nagle only adds latency.
                    let _ = stream.set_nodelay(true);
                    return KillableStream {
                        stream,
                        killed: Arc::new(AtomicBool::new(false)),
                    };
                }
                // Out of file descriptors and the like: wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

/// A connection whose writes fail once it is killed, so the server closes it without sending
/// anything more: a dropped connection, as the client sees it.
pub(crate) struct KillableStream {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::Acquire) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "dropped by a fault",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// What a handler knows about its connection: the kill switch.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    killed: Arc<AtomicBool>,
}

impl Connection {
    fn kill(&self) {
        self.killed.store(true, Ordering::Release);
    }
}

/// The admin API's path prefix.
pub(crate) const ADMIN_PREFIX: &str = "/_emulator";

async fn dispatch(
    State(app): State<Arc<App>>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    if console::serves(&path) {
        return console::handle(&app, request).await;
    }
    if path == ADMIN_PREFIX || path.starts_with("/_emulator/") {
        return admin::handle(&app, request).await;
    }
    if path == calls::PAY_PAGE_PATH {
        return pay_page::handle(&app, request).await;
    }
    let Some(op) = operation_at(&app.routes, &path) else {
        let rejection = Rejection::new(
            ErrorKind::UnknownRoute,
            format!("no gateway call is served at {path}"),
        );
        return xml_response(
            StatusCode::NOT_FOUND,
            unsigned_error(&rejection, &app.codes),
        );
    };
    if request.method() != Method::GET && request.method() != Method::POST {
        let rejection = Rejection::new(
            ErrorKind::UnknownRoute,
            format!(
                "{} is not served at {path}: use POST or GET",
                request.method()
            ),
        );
        return xml_response(
            StatusCode::METHOD_NOT_ALLOWED,
            unsigned_error(&rejection, &app.codes),
        );
    }
    gateway(&app, &connection, &op, &path, request).await
}

/// The legacy status route: Platron's SDK (and a docs example) call `get_status.php`; the
/// real gateway serves it as `get_status3.php`, signed with the script name used.
const LEGACY_STATUS_PATH: &str = "/get_status.php";

/// The call served at `path`: a configured route, else the legacy status route or check_mnp.
fn operation_at(routes: &Routes, path: &str) -> Option<Operation> {
    routes
        .operation_at(path)
        .or_else(|| match path.trim_end_matches('/') {
            LEGACY_STATUS_PATH => Some(Operation::Status),
            calls::CHECK_MNP_PATH => Some(Operation::Other(calls::CHECK_MNP_PATH.to_owned())),
            _ => None,
        })
}

/// One gateway call, with any fault for its route applied around it.
async fn gateway(
    app: &Arc<App>,
    connection: &Connection,
    op: &Operation,
    path: &str,
    request: Request,
) -> Response {
    let started = Instant::now();
    let at = SystemTime::now();
    let method = request.method().clone();
    let fault = app.faults.take(op);
    // What the journal keeps is moved into it, not copied: the console costs the gateway
    // one short lock per call.
    let record = |request: Fields, http_status: StatusCode, answer: calls::Answer, body: Bytes| {
        app.journal.record(CallRecord {
            seq: 0,
            at,
            elapsed: started.elapsed(),
            method: method.clone(),
            path: path.to_owned(),
            call: CallName::Gateway(op.clone()),
            payment_id: answer.payment_id,
            request,
            http_status: http_status.as_u16(),
            answer: body,
            outcome: answer.outcome,
            hint: answer.hint,
            fault: fault_name(fault.as_ref()),
        });
        app.changes.bump();
    };
    if let Some(fault) = &fault {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if fault.phase == Phase::Before
            && let FaultKind::Http(_) | FaultKind::Drop = fault.kind
        {
            // The gateway never sees the call; the console still lists it with its payment,
            // so the body is read for the journal only.
            let fields = request::decode(request, app.body_limit)
                .await
                .unwrap_or_default();
            let answer = calls::Answer {
                body: String::new(),
                hint: Some("the gateway never saw this call: a fault answered it".into()),
                outcome: format!("fault {}", fault.kind),
                payment_id: fields
                    .get("pg_payment_id")
                    .and_then(|id| id.trim().parse().ok()),
            };
            return match fault.kind {
                FaultKind::Http(code) => {
                    record(fields, http_code(code), answer, Bytes::new());
                    html_error(code)
                }
                _ => {
                    record(fields, StatusCode::OK, answer, Bytes::new());
                    connection.kill();
                    xml_response(StatusCode::OK, String::new())
                }
            };
        }
    }

    let (status, mut answer, fields) = match request::decode(request, app.body_limit).await {
        Ok(fields) => (
            StatusCode::OK,
            calls::answer(app, op, script_name(path), &fields).await,
            fields,
        ),
        Err(DecodeError::TooLarge { limit }) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            unreadable(
                app,
                Rejection::new(
                    ErrorKind::RequestTooLarge,
                    format!("the request body is larger than the limit of {limit} bytes"),
                ),
            ),
            Fields::new(),
        ),
        Err(DecodeError::Malformed(why)) => (
            StatusCode::BAD_REQUEST,
            unreadable(
                app,
                Rejection::new(
                    ErrorKind::MalformedRequest,
                    format!("failed to read the request: {why}"),
                ),
            ),
            Fields::new(),
        ),
    };
    app.log.request(&method, path, &answer);
    // The answer's bytes go to the client and the journal without a copy.
    let body = Bytes::from(std::mem::take(&mut answer.body));
    let (response, sent_status, sent) = match &fault {
        Some(fault) if fault.phase == Phase::After => match fault.kind {
            FaultKind::Http(code) => (html_error(code), http_code(code), Bytes::new()),
            FaultKind::Drop => {
                connection.kill();
                (
                    xml_response(StatusCode::OK, String::new()),
                    StatusCode::OK,
                    Bytes::new(),
                )
            }
            FaultKind::MalformedXml => {
                let spoilt = Bytes::from(faults::malformed(&String::from_utf8_lossy(&body)));
                (xml_bytes(status, spoilt.clone()), status, spoilt)
            }
            FaultKind::Truncated => {
                let spoilt = Bytes::from(faults::truncated(&String::from_utf8_lossy(&body)));
                (xml_bytes(status, spoilt.clone()), status, spoilt)
            }
            FaultKind::Latency => (xml_bytes(status, body.clone()), status, body),
        },
        _ => (xml_bytes(status, body.clone()), status, body),
    };
    let is_http_fault = matches!(&fault, Some(f) if f.phase == Phase::After && matches!(f.kind, FaultKind::Http(_) | FaultKind::Drop));
    let response = if is_http_fault {
        response
    } else {
        with_hint(response, answer.hint.as_deref())
    };
    record(fields, sent_status, answer, sent);
    response
}

/// The name of a fault for the console: `http503 before`, `latency 200 ms`.
fn fault_name(fault: Option<&faults::FaultAction>) -> Option<String> {
    let fault = fault?;
    let mut name = format!("{} {}", fault.kind, fault.phase.name());
    if !fault.delay.is_zero() {
        name.push_str(&format!(", {} ms later", fault.delay.as_millis()));
    }
    Some(name)
}

fn http_code(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An XML answer from bytes already made (shared with the console's journal).
fn xml_bytes(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(super::answer::XML_CONTENT_TYPE),
    );
    response
}

/// The answer to a request that could not be read: unsigned, since its merchant is unknown.
fn unreadable(app: &App, rejection: Rejection) -> calls::Answer {
    calls::Answer {
        body: unsigned_error(&rejection, &app.codes),
        outcome: format!(
            "error {} {}",
            app.codes.code(rejection.kind),
            rejection.kind.name()
        ),
        hint: Some(rejection.detail),
        payment_id: None,
    }
}

/// `X-Emulator-Hint`: what the emulator can tell a developer that the gateway does not. A
/// header value is visible ASCII, so other bytes are percent-encoded (`%D0%9E`).
pub(crate) const HINT_HEADER: &str = "x-emulator-hint";

fn with_hint(mut response: Response, hint: Option<&str>) -> Response {
    if let Some(hint) = hint
        && let Ok(value) = HeaderValue::from_str(&header_safe(hint))
    {
        response.headers_mut().insert(HINT_HEADER, value);
    }
    response
}

/// `text` with every byte outside visible ASCII and space (and `%` itself) as `%XX`.
fn header_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if (b' '..=b'~').contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn html_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = xml_response(status, faults::http_error_body(code));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/html"),
    );
    response
}

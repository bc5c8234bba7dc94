//! The emulator's HTTP server: starting and stopping it. What each request is routed to is in
//! `dispatch`; the accepted connections, each with a kill switch, in `listener`.
//!
//! [`Emulator::start`] binds (127.0.0.1:0 by default) and serves from its own tokio runtime on
//! its own thread, so it works the same from synchronous code (a test harness trial), from
//! inside another runtime (an async test) and from the CLI. Dropping the [`RunningEmulator`]
//! stops it at once and waits until the port is released; [`RunningEmulator::shutdown`] lets
//! calls in flight finish first.
//!
//!
//! Connections are served by hyper directly (not `axum::serve`) so that hyper has a timer and
//! a header-read timeout: a client that opens a connection and sends its headers slowly, or
//! half of them and then nothing (slowloris), is closed after `header_read_timeout` instead of
//! holding a task forever; others are served meanwhile.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use reqwest::Url;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service as _;

use crate::gateway::{Routes, SecretKey};
use crate::secret_guard::SecretGuard;

use super::admin;
use super::callbacks::{CallbackSettings, Callbacks};
use super::changes::AnswerChange;
use super::clock::Now;
use super::config::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, EmulatorConfig};
use super::console::{Changes, ConsoleAccess, Journal};
use super::dispatch::dispatch;
use super::error::EmulatorError;
use super::errors::ErrorCodes;
use super::faults::Faults;
use super::listener::EmulatorListener;
use super::log::RequestLog;
use super::payment::{Effect, Rules};
use super::replay;
use super::store::Store;

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
    /// Set when the emulator replays a recording instead of running payments.
    pub replay: Option<Arc<dyn replay::ReplaySource>>,
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
            replay: config.replay.clone(),
            callbacks: Arc::new(Callbacks::new(
                CallbackSettings {
                    timeout: config.callback_timeout,
                    retry_interval: config.callback_retry_interval,
                    retries: config.callback_retries,
                    log: RequestLog::new(config.log_requests),
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
        let connection = stream.connection();
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

//! The `emulator` phase: the emulator alone answering status requests over keep-alive
//! connections from a deliberately thin raw-HTTP client — the ceiling for `live`; and the
//! `proxy` phase: the same requests through `fph proxy` in front of that emulator, every
//! exchange forwarded and recorded, to compare with the emulator served directly.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::emulator::{DEMO_SECRET_KEY, EmulatorConfig};
use crate::gateway::signature::{self, Verification};
use crate::gateway::{Document, Encoding, Routes, SecretKey};
use crate::proxy::{ProxyOptions, Recording, RecordingOptions, RunningProxy};
use crate::scenario::HarnessConfig;
use crate::secret_guard::SecretGuard;

use super::BenchError;
use super::figures::{Figures, Phase, sustained_figures};
use super::meter::sustain;
use super::requests::{client_runtime, exchange, raw_request, seeded_emulator};

/// The emulator alone: status requests per second for `duration` (after a short warm-up),
/// over `connections` keep-alive connections, from a client that sends pre-signed raw
/// HTTP/1.1 bytes and reads the answer by its length, so the figure is the server's.
pub fn emulator(
    connections: usize,
    duration: Duration,
    encoding: Encoding,
) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let running = seeded_emulator()?;
    let addr = running.addr();
    // With FPH_BENCH_CONSOLE_POLL_MS, an open console polls the emulator meanwhile.
    let _console = ConsolePoller::from_env(addr);
    let figures = status_requests(
        Phase::Emulator,
        addr,
        connections,
        duration,
        encoding,
        started,
    )?;
    drop(running);
    Ok(figures)
}

/// The same status requests as [`emulator`], sent to a recording proxy (`fph proxy`, the
/// demo merchant, the default `harness.yaml`) in front of the emulator: every one forwarded,
/// answered and appended to the session's cassette, in a temporary directory under `dir`.
pub fn proxy(
    connections: usize,
    duration: Duration,
    encoding: Encoding,
    dir: &Path,
) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let running = seeded_emulator()?;
    let recordings = tempfile::Builder::new()
        .prefix("proxy-recordings-")
        .tempdir_in(dir)
        .map_err(|e| BenchError::Write {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
    let config = HarnessConfig::default();
    let guard = SecretGuard::for_run(None, None);
    let recording = Recording::new(
        RecordingOptions {
            session: "bench".into(),
            recordings: recordings.path().to_owned(),
            target: "emulator".into(),
            routes: Routes::default(),
            redactions: config.redactions,
            replay_key: SecretKey::new(config.replay_key),
            secret: SecretKey::new(DEMO_SECRET_KEY),
            guard: guard.clone(),
        },
        crate::utc::timestamp(std::time::SystemTime::now()),
    );
    let proxy = RunningProxy::start(ProxyOptions {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        target: running.base_url(),
        recording,
        body_limit: EmulatorConfig::default().body_limit,
        log: false,
        guard,
    })
    .map_err(|e| BenchError::Emulator(format!("the proxy: {e}")))?;
    let figures = status_requests(
        Phase::Proxy,
        proxy.addr(),
        connections,
        duration,
        encoding,
        started,
    )?;
    proxy.shutdown();
    drop(running);
    Ok(figures)
}

/// Status requests per second for `duration` (after a short warm-up) over `connections`
/// keep-alive connections to `addr`, from a client that sends pre-signed raw HTTP/1.1 bytes
/// and reads the answer by its length, so the figure is the server's.
fn status_requests(
    phase: Phase,
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    encoding: Encoding,
    started: Instant,
) -> Result<Figures, BenchError> {
    let runtime = client_runtime()?;
    let connections = connections.max(1);
    let (count, wall, setup) = runtime.block_on(async move {
        let client = |e: std::io::Error| BenchError::Client(e.to_string());
        let mut stream = TcpStream::connect(addr).await.map_err(client)?;
        stream.set_nodelay(true).map_err(client)?;
        let mut buf = Vec::new();
        let init = raw_request(
            encoding,
            "/init_payment.php",
            &[
                ("pg_amount", "150.00"),
                ("pg_description", "bench"),
                ("pg_order_id", "bench-1"),
                ("pg_payment_method", "mobile_commerce"),
            ],
            "benchsalt0",
        );
        let body = exchange(&mut stream, &mut buf, &init).await?;
        let id = Document::parse(&body)
            .ok()
            .and_then(|d| d.text("pg_payment_id").map(str::to_owned))
            .ok_or_else(|| BenchError::Client("init answered without a payment id".into()))?;
        // A phone that is charged at once: the status asked about is a settled payment.
        let pay = raw_request(
            encoding,
            "/mfs/pay",
            &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
            "benchsalt1",
        );
        exchange(&mut stream, &mut buf, &pay).await?;
        let statuses: Arc<Vec<Vec<u8>>> = Arc::new(
            (0..16)
                .map(|i| {
                    raw_request(
                        encoding,
                        "/get_status3.php",
                        &[("pg_payment_id", &id)],
                        &format!("salt{i:04}"),
                    )
                })
                .collect(),
        );
        // Checked once, so the loop below measures correct answers.
        let body = exchange(&mut stream, &mut buf, &statuses[0]).await?;
        let answer = Document::parse(&body)
            .map_err(|e| BenchError::Client(format!("status answer: {e}")))?;
        let valid = signature::verify(
            "get_status3.php",
            &answer.root,
            &SecretKey::new(DEMO_SECRET_KEY),
        );
        if answer.text("pg_payment_status") != Some("success")
            || !matches!(valid, Verification::Valid)
        {
            return Err(BenchError::Client(format!(
                "unexpected status answer: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        let setup = started.elapsed();
        let measured = sustain(connections, duration, |c, meter| {
            let statuses = Arc::clone(&statuses);
            async move {
                let mut stream = TcpStream::connect(addr)
                    .await
                    .map_err(|e| BenchError::Client(e.to_string()))?;
                stream
                    .set_nodelay(true)
                    .map_err(|e| BenchError::Client(e.to_string()))?;
                let mut buf = Vec::with_capacity(2048);
                let mut i = c;
                while meter.running() {
                    exchange(&mut stream, &mut buf, &statuses[i % statuses.len()]).await?;
                    i += 1;
                    meter.count();
                }
                Ok(())
            }
        });
        let (count, wall) = measured.await?;
        Ok::<_, BenchError>((count, wall, setup))
    })?;
    Ok(sustained_figures(
        phase,
        encoding,
        connections,
        count,
        setup,
        wall,
    ))
}

/// What an open console tab asks the emulator, every `FPH_BENCH_CONSOLE_POLL_MS` during the
/// `emulator` phase: the change counter and, since it moves under load, the first page of
/// payments and the latest calls (the page polls once a second: 1000 is a tab, 100 ten).
/// Stops when dropped. How the console's cost on the gateway is measured (README).
struct ConsolePoller {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConsolePoller {
    fn from_env(addr: std::net::SocketAddr) -> Option<ConsolePoller> {
        let every: u64 = std::env::var("FPH_BENCH_CONSOLE_POLL_MS")
            .ok()?
            .parse()
            .ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            use std::io::{Read, Write};
            while !stopping.load(Ordering::Relaxed) {
                for path in [
                    "/_emulator/api/version",
                    "/_emulator/api/payments?limit=25",
                    "/_emulator/api/calls?limit=200",
                ] {
                    if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
                        let request = format!(
                            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                        );
                        let mut answer = Vec::new();
                        let _ = stream.write_all(request.as_bytes());
                        let _ = stream.read_to_end(&mut answer);
                    }
                }
                std::thread::sleep(Duration::from_millis(every));
            }
        });
        Some(ConsolePoller {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ConsolePoller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

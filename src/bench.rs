//! Speed and memory measurements behind `fph bench`. Nothing here prints: every phase returns
//! [`Figures`], which the command line writes as one `fph-bench key=value …` line.
//!
//! **The synthetic suite.** [`generate`] writes `cases` cases under a directory, shaped like a
//! real suite: scenario files of [`ROWS_PER_SCENARIO`] matrix rows each (the shipped
//! `sms_approval.yaml` has five; merchants group a flow's phones and amounts the same way),
//! every case five calls of the SMS flow — init, pay, resend code, approve, status (resend
//! comes before approve because the gateway only resends a code for a payment still waiting
//! for one) — with `matches`, `one_of` and equality checks, captures, and a status poll:
//!
//! ```text
//! DIR/scenarios/bench_00000.yaml … bench_NNNNN.yaml
//! DIR/recordings/bench_00000/operator=…,phone=…,amount=….yaml   (after the record phase)
//! DIR/bench-suite.txt           `cases=N`: what was generated, so a kept directory is reused
//! ```
//!
//! **Phases.** `record` runs the suite against an in-process emulator through the normal
//! [`Session`] in record mode, so the cassettes are real; `parse` reads and parses every
//! cassette ([`Cassette::load`]) on the same scheduler replay uses: the floor replay cannot
//! beat; `replay` runs the suite offline; `live` runs it against an in-process emulator with
//! `jobs` cases at a time; `emulator` measures the emulator alone answering status requests
//! over keep-alive connections from a deliberately thin raw-HTTP client: the ceiling for
//! `live`; `client` sends the same status requests through the harness's own HTTP client
//! (the live transport: reqwest, signed multipart) and nothing else: the ceiling `live` would
//! meet if the runner's work cost nothing, so the gap to the emulator's rate splits into the
//! HTTP client's part and the runner's. `init-empty` and `init-cap` time the same batch of
//! init + pay pairs (each payment finished at once, so the cap can always make room) on an
//! emulator with an empty store and on one first filled to its cap (`max_payments`, 100,000)
//! with finished payments: at the cap every init evicts one, and the two should cost about
//! the same. Scenario loading and session start are timed apart
//! (`setup_s`) from the run itself (`wall_s`). Each phase is meant to run in its own process
//! so that [`peak_memory_kib`] (the kernel's `VmHWM`) belongs to that phase alone.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::emulator::{
    DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig, RunningEmulator,
};
use crate::gateway::signature::{self, Verification};
use crate::gateway::{Document, Fields, SecretKey};
use crate::gateway::{Encoding, Operation};
use crate::report::{Style, failure_details};
use crate::review::{UpdatePolicy, Updates};
use crate::runner::mode::Mode;
use crate::runner::suite::{PlannedCase, for_each_case, plan, run_all};
use crate::runner::{CaseOutcome, Session, SessionError, SessionOptions};
use crate::scenario::{self, HarnessConfig, Scenario, Selection};
use crate::transport::cassette::Cassette;
use crate::transport::{LiveOptions, LiveTransport, Request, Transport, live};

/// Matrix rows (cases) per generated scenario file.
pub const ROWS_PER_SCENARIO: usize = 10;

/// The file that says what a directory's suite holds.
const SUITE_MARKER: &str = "bench-suite.txt";

/// The SMS-code test phone of each operator (suffix `77`: code `111111`, also after a resend).
const OPERATORS: [(&str, &str); 5] = [
    ("KCELLKZT", "77017777777"),
    ("ACTIVKZT", "77027777777"),
    ("BEELINEKZT", "77057777777"),
    ("TELE2KZT", "77077777777"),
    ("ALTELKZT", "77007777777"),
];

/// The steps of every generated case (the matrix goes in front).
const STEPS: &str = r#"steps:
  - id: init
    call: init
    form:
      pg_order_id: "{{ order_id() }}"
      pg_amount: "{{ amount }}"
      pg_currency: KZT
      pg_description: "Top-up via {{ operator }}"
    expect:
      pg_status: ok
      pg_payment_id: { matches: '^\d+$' }
    capture: { payment_id: pg_payment_id }
  - id: pay
    call: pay
    form:
      pg_payment_id: "{{ payment_id }}"
      pg_abonent_phone: "{{ phone }}"
      pg_payment_system_code: "{{ operator }}"
    expect: { pg_status: need_approve, pg_payment_id: "{{ payment_id }}" }
  - id: resend
    call: resend_code
    form: { pg_payment_id: "{{ payment_id }}" }
    expect: { pg_status: ok }
  - id: approve
    call: approve
    form: { pg_payment_id: "{{ payment_id }}", pg_approval_code: "{{ sms_code(phone) }}" }
    expect: { pg_status: { one_of: [ok, process] } }
  - id: status
    call: status
    form: { pg_payment_id: "{{ payment_id }}" }
    poll: { until: { pg_payment_status: success }, attempts: 20, interval: 100ms }
    expect: { pg_status: ok, pg_payment_status: success, pg_user_phone: "{{ phone }}" }
"#;

/// A benchmark that could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("failed to write the benchmark suite at {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("failed to load the benchmark suite in {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("failed to start the benchmark session: {0}")]
    Session(#[from] SessionError),
    #[error("failed to start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("failed to run the benchmark: {failed} of {total} cases failed; the first:\n{details}")]
    Failed {
        failed: usize,
        total: usize,
        details: String,
    },
    #[error("failed to start the emulator: {0}")]
    Emulator(String),
    #[error("failed to talk to the emulator: {0}")]
    Client(String),
}

/// A generated suite on disk.
#[derive(Debug, Clone)]
pub struct Suite {
    pub dir: PathBuf,
    pub cases: usize,
}

impl Suite {
    pub fn scenarios(&self) -> PathBuf {
        self.dir.join("scenarios")
    }

    pub fn recordings(&self) -> PathBuf {
        self.dir.join("recordings")
    }

    /// The suite already generated in `dir`, if any.
    pub fn existing(dir: &Path) -> Option<Suite> {
        let text = std::fs::read_to_string(dir.join(SUITE_MARKER)).ok()?;
        let cases = text.trim().strip_prefix("cases=")?.parse().ok()?;
        Some(Suite {
            dir: dir.to_owned(),
            cases,
        })
    }

    /// True when every case has a cassette (the record phase ran to its end).
    pub fn is_recorded(&self) -> bool {
        self.dir.join("recordings").join(".complete").exists()
    }
}

/// Writes the scenario files of a `cases`-case suite into `dir` (see the module doc).
pub fn generate(dir: &Path, cases: usize) -> Result<Suite, BenchError> {
    let suite = Suite {
        dir: dir.to_owned(),
        cases,
    };
    let scenarios = suite.scenarios();
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| BenchError::Write {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    };
    std::fs::create_dir_all(&scenarios).map_err(|e| BenchError::Write {
        path: scenarios.clone(),
        reason: e.to_string(),
    })?;
    for (file, first) in (0..cases).step_by(ROWS_PER_SCENARIO).enumerate() {
        let mut text = format!(
            "# Generated by `fph bench`: the SMS flow with a resend, one case per row.\nname: Benchmark {file}\ntags: [bench]\nmatrix:\n"
        );
        for case in first..(first + ROWS_PER_SCENARIO).min(cases) {
            let (operator, phone) = OPERATORS[case % OPERATORS.len()];
            // Amounts differ per row so every row is its own case.
            let amount = 100 + case % ROWS_PER_SCENARIO;
            text.push_str(&format!(
                "  - {{ operator: {operator}, phone: \"{phone}\", amount: \"{amount}.00\" }}\n"
            ));
        }
        text.push_str(STEPS);
        write(&scenarios.join(format!("bench_{file:05}.yaml")), &text)?;
    }
    write(&dir.join(SUITE_MARKER), &format!("cases={cases}\n"))?;
    Ok(suite)
}

/// The phase a [`Figures`] line measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Record,
    Parse,
    Replay,
    Live,
    Emulator,
    Client,
    /// Init + pay pairs on an emulator with an empty store.
    InitEmpty,
    /// The same on an emulator filled to its payment cap.
    InitCap,
}

impl Phase {
    pub const ALL: [Phase; 8] = [
        Phase::Record,
        Phase::Parse,
        Phase::Replay,
        Phase::Live,
        Phase::Emulator,
        Phase::Client,
        Phase::InitEmpty,
        Phase::InitCap,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Record => "record",
            Phase::Parse => "parse",
            Phase::Replay => "replay",
            Phase::Live => "live",
            Phase::Emulator => "emulator",
            Phase::Client => "client",
            Phase::InitEmpty => "init-empty",
            Phase::InitCap => "init-cap",
        }
    }

    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What one phase measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub phase: Phase,
    /// How the requests went on the wire (`live`, `emulator`, `client`; the recorded suite
    /// is multipart, so `record`, `parse` and `replay` are too).
    pub encoding: Encoding,
    /// Cases in flight at once (`emulator`: keep-alive connections).
    pub jobs: usize,
    pub cases: usize,
    /// HTTP requests sent or replayed (every attempt of every step).
    pub requests: u64,
    /// Loading the scenarios and starting the session: not part of `wall`.
    pub setup: Duration,
    pub wall: Duration,
    /// The process's peak resident memory (`VmHWM`), when known.
    pub peak_kib: Option<u64>,
}

impl Figures {
    pub fn cases_per_second(&self) -> f64 {
        per_second(self.cases as f64, self.wall)
    }

    pub fn requests_per_second(&self) -> f64 {
        per_second(self.requests as f64, self.wall)
    }

    /// `fph-bench phase=replay encoding=multipart jobs=8 cases=1000 requests=6000 setup_s=0.0123 wall_s=0.2345 peak_kib=12345`
    pub fn line(&self) -> String {
        format!(
            "fph-bench phase={} encoding={} jobs={} cases={} requests={} setup_s={:.4} wall_s={:.4} peak_kib={}",
            self.phase.name(),
            self.encoding,
            self.jobs,
            self.cases,
            self.requests,
            self.setup.as_secs_f64(),
            self.wall.as_secs_f64(),
            self.peak_kib
                .map_or("unknown".to_owned(), |k| k.to_string()),
        )
    }

    /// Reads what [`line`](Self::line) writes.
    pub fn parse_line(line: &str) -> Option<Figures> {
        let rest = line.trim().strip_prefix("fph-bench ")?;
        let value = |key: &str| {
            rest.split_whitespace()
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        };
        let seconds = |key: &str| {
            value(key)?
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
        };
        Some(Figures {
            phase: Phase::from_name(value("phase")?)?,
            encoding: value("encoding")?.parse().ok()?,
            jobs: value("jobs")?.parse().ok()?,
            cases: value("cases")?.parse().ok()?,
            requests: value("requests")?.parse().ok()?,
            setup: seconds("setup_s")?,
            wall: seconds("wall_s")?,
            peak_kib: value("peak_kib").and_then(|k| k.parse().ok()),
        })
    }
}

fn per_second(count: f64, wall: Duration) -> f64 {
    if wall.is_zero() {
        0.0
    } else {
        count / wall.as_secs_f64()
    }
}

/// This process's peak resident set size in KiB (`VmHWM` in `/proc/self/status`; Linux only).
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The suite's scenarios and the cases to run, in plan order.
struct Loaded {
    config: HarnessConfig,
    scenarios: Vec<Scenario>,
    planned: Vec<PlannedCase>,
}

fn load(suite: &Suite) -> Result<Loaded, BenchError> {
    let dir = suite.scenarios();
    let failed = |reason: String| BenchError::Load {
        path: dir.clone(),
        reason,
    };
    let config = HarnessConfig::load(&dir).map_err(|e| failed(e.render_plain()))?;
    let (scenarios, errors) = scenario::load_paths(std::slice::from_ref(&dir));
    if let Some(error) = errors.first() {
        return Err(failed(error.render_plain()));
    }
    let planned = plan(&scenarios, &Selection::all());
    Ok(Loaded {
        config,
        scenarios,
        planned,
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    // The same runtime `fph run` builds: one worker per CPU.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)
}

fn session(
    suite: &Suite,
    loaded: &Loaded,
    mode: Mode,
    cases: usize,
    encoding: Encoding,
) -> Result<Session, BenchError> {
    let mut target = loaded
        .config
        .resolve_target("emulator")
        .map_err(|e| BenchError::Load {
            path: suite.scenarios(),
            reason: e.to_string(),
        })?;
    target.encoding = encoding;
    let options = SessionOptions {
        mode,
        target,
        allow_production: false,
        keep_failed: false,
        recordings: suite.recordings(),
        config: loaded.config.clone(),
        // The emulator's demo merchant, whatever the environment says: figures must not
        // depend on who runs them.
        credentials: None,
        emulator: EmulatorConfig {
            // Every case makes a payment; none may be evicted while its case still runs.
            max_payments: (cases + 1000).max(EmulatorConfig::default().max_payments),
            ..EmulatorConfig::default()
        },
        // A benchmark never writes expected bodies.
        updates: Updates::new(UpdatePolicy::No),
    };
    Ok(Session::start(options, &loaded.scenarios)?)
}

/// Runs every case of the suite in `mode` with `jobs` at a time; fails when any case does.
fn run_suite(
    suite: &Suite,
    mode: Mode,
    phase: Phase,
    jobs: usize,
    encoding: Encoding,
) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let loaded = load(suite)?;
    let cases = loaded.planned.len();
    let session = Arc::new(session(suite, &loaded, mode, cases, encoding)?);
    let runtime = runtime()?;
    let scenarios = Arc::new(loaded.scenarios);
    let setup = started.elapsed();
    let started = Instant::now();
    let mut tally = Tally::default();
    let kept = runtime.block_on(run_all(
        session,
        scenarios,
        loaded.planned,
        jobs,
        |outcome: CaseOutcome| {
            let requests = outcome.steps.iter().map(|s| s.attempts.len()).sum();
            let failure = (!outcome.passed()).then_some(|| failure_details(&outcome, Style::PLAIN));
            tally.case(requests, failure);
        },
    ));
    let wall = started.elapsed();
    drop(kept);
    tally.figures(phase, encoding, jobs, cases, setup, wall)
}

/// What a timed phase counted: requests, and the cases that failed with the first one's
/// details (a benchmark of a failing run measures nothing worth printing).
#[derive(Default)]
struct Tally {
    requests: u64,
    failed: usize,
    first_failure: Option<String>,
}

impl Tally {
    /// Counts one case: its requests, and its failure when it failed (the details are only
    /// worked out for the first).
    fn case(&mut self, requests: usize, failure: Option<impl FnOnce() -> String>) {
        self.requests += requests as u64;
        if let Some(details) = failure {
            self.failed += 1;
            self.first_failure.get_or_insert_with(details);
        }
    }

    /// The phase's figures, or the first failure when any case failed.
    fn figures(
        self,
        phase: Phase,
        encoding: Encoding,
        jobs: usize,
        cases: usize,
        setup: Duration,
        wall: Duration,
    ) -> Result<Figures, BenchError> {
        if let Some(details) = self.first_failure {
            return Err(BenchError::Failed {
                failed: self.failed,
                total: cases,
                details,
            });
        }
        Ok(Figures {
            phase,
            encoding,
            jobs,
            cases,
            requests: self.requests,
            setup,
            wall,
            peak_kib: peak_memory_kib(),
        })
    }
}

/// Records every case against an in-process emulator (record mode of a normal session).
pub fn record(suite: &Suite, jobs: usize) -> Result<Figures, BenchError> {
    let figures = run_suite(
        suite,
        Mode::Record,
        Phase::Record,
        jobs,
        Encoding::Multipart,
    )?;
    let marker = suite.recordings().join(".complete");
    std::fs::write(&marker, "").map_err(|e| BenchError::Write {
        path: marker,
        reason: e.to_string(),
    })?;
    Ok(figures)
}

/// Replays every case from its cassette.
pub fn replay(suite: &Suite, jobs: usize) -> Result<Figures, BenchError> {
    run_suite(
        suite,
        Mode::Replay,
        Phase::Replay,
        jobs,
        Encoding::Multipart,
    )
}

/// Runs every case against an in-process emulator, `jobs` at a time, its requests sent in
/// `encoding`.
pub fn live(suite: &Suite, jobs: usize, encoding: Encoding) -> Result<Figures, BenchError> {
    run_suite(suite, Mode::Live, Phase::Live, jobs, encoding)
}

/// Reads and parses every cassette of the suite, `jobs` at a time on the scheduler replay
/// uses, and nothing else: what replay would cost with a free runner.
pub fn parse_floor(suite: &Suite, jobs: usize) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let loaded = load(suite)?;
    let cases = loaded.planned.len();
    // A replay session does nothing but hold the configuration; `for_each_case` wants one.
    let session = Arc::new(session(
        suite,
        &loaded,
        Mode::Replay,
        cases,
        Encoding::Multipart,
    )?);
    let runtime = runtime()?;
    let recordings = Arc::new(suite.recordings());
    let scenarios = Arc::new(loaded.scenarios);
    let setup = started.elapsed();
    let started = Instant::now();
    let mut tally = Tally::default();
    let results = runtime.block_on(for_each_case(
        session,
        scenarios,
        loaded.planned,
        jobs,
        |loaded: &Result<usize, String>| match loaded {
            Ok(interactions) => tally.case(*interactions, None::<fn() -> String>),
            Err(error) => tally.case(0, Some(|| error.clone())),
        },
        move |_, scenario, case| {
            let path = Cassette::path_for(&recordings, &scenario.stem, &scenario.cases[case].name);
            async move {
                Cassette::load(&path)
                    .map(|c| c.interactions.len())
                    .map_err(|e| e.to_string())
            }
        },
    ));
    let wall = started.elapsed();
    drop(results);
    tally.figures(Phase::Parse, Encoding::Multipart, jobs, cases, setup, wall)
}

/// The emulator alone: status requests per second for `duration` (after a short warm-up),
/// over `connections` keep-alive connections, from a client that sends pre-signed raw
/// HTTP/1.1 bytes and reads the answer by its length, so the figure is the server's.
pub fn emulator(
    connections: usize,
    duration: Duration,
    encoding: Encoding,
) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let running = ceiling_emulator()?;
    let addr = running.addr();
    // With FPH_BENCH_CONSOLE_POLL_MS, an open console polls the emulator meanwhile.
    let _console = ConsolePoller::from_env(addr);
    // One client thread: the server gets the rest of the machine, as far as it can.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
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
    drop(running);
    Ok(sustained_figures(
        Phase::Emulator,
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

/// Init + pay pairs measured by `init-empty` and `init-cap`.
pub const CAP_PAIRS: usize = 20_000;

/// `pairs` init + pay pairs over `connections` keep-alive connections, timed; for
/// [`Phase::InitCap`] the store is first filled to its cap with finished payments (not
/// timed: `setup_s`). Every pay uses a phone charged at once, so every payment is finished and
/// the cap can always evict one.
pub fn init_pairs(phase: Phase, pairs: usize, connections: usize) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let config = EmulatorConfig {
        seed: Some(1),
        ..EmulatorConfig::default()
    };
    let fill = match phase {
        Phase::InitCap => config.max_payments,
        _ => 0,
    };
    let running = Emulator::start(config).map_err(|e| BenchError::Emulator(e.to_string()))?;
    let addr = running.addr();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    let connections = connections.max(1);
    let (wall, setup) = runtime.block_on(async move {
        // Urlencoded, as this phase has always sent.
        let init = Arc::new(raw_request(
            Encoding::Urlencoded,
            "/init_payment.php",
            &[
                ("pg_amount", "150.00"),
                ("pg_description", "bench"),
                ("pg_order_id", "bench-cap"),
                ("pg_payment_method", "mobile_commerce"),
            ],
            "capsalt",
        ));
        pairs_over(addr, &init, fill, connections).await?;
        let setup = started.elapsed();
        let measured = Instant::now();
        pairs_over(addr, &init, pairs, connections).await?;
        Ok::<_, BenchError>((measured.elapsed(), setup))
    })?;
    drop(running);
    Ok(Figures {
        phase,
        encoding: Encoding::Urlencoded,
        jobs: connections,
        cases: 0,
        requests: 2 * pairs as u64,
        setup,
        wall,
        peak_kib: peak_memory_kib(),
    })
}

/// `pairs` init + pay pairs spread over `connections` connections.
async fn pairs_over(
    addr: std::net::SocketAddr,
    init: &Arc<Vec<u8>>,
    pairs: usize,
    connections: usize,
) -> Result<(), BenchError> {
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let init = Arc::clone(init);
            let mine = pairs / connections + usize::from(c < pairs % connections);
            tokio::spawn(async move {
                let io = |e: std::io::Error| BenchError::Client(e.to_string());
                let mut stream = TcpStream::connect(addr).await.map_err(io)?;
                stream.set_nodelay(true).map_err(io)?;
                let mut buf = Vec::with_capacity(2048);
                for _ in 0..mine {
                    let body = exchange(&mut stream, &mut buf, &init).await?;
                    let body = String::from_utf8_lossy(&body);
                    let id = body
                        .split_once("<pg_payment_id>")
                        .and_then(|(_, rest)| rest.split_once('<'))
                        .map(|(id, _)| id.to_owned())
                        .ok_or_else(|| BenchError::Client(format!("init answered {body}")))?;
                    let pay = raw_request(
                        Encoding::Urlencoded,
                        "/mfs/pay",
                        &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
                        "capsalt",
                    );
                    exchange(&mut stream, &mut buf, &pay).await?;
                }
                Ok::<_, BenchError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .map_err(|e| BenchError::Client(e.to_string()))??;
    }
    Ok(())
}

/// The harness's HTTP client alone: the live transport (reqwest, signed `multipart/form-data`
/// POSTs, the client `fph run` builds) sending pre-signed status requests from `connections`
/// tasks for `duration`, on the runtime `fph run` uses, with nothing of the runner around it.
/// The rate `live` would reach if the runner's own work (templates, signing, parsing,
/// checking) cost nothing; between it and the emulator's rate lies the HTTP client's cost.
pub fn client(
    connections: usize,
    duration: Duration,
    encoding: Encoding,
) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let running = ceiling_emulator()?;
    let http = live::client(&LiveOptions {
        direct: true,
        ..LiveOptions::default()
    })
    .map_err(|e| BenchError::Client(e.to_string()))?;
    let transport = Arc::new(LiveTransport::new(running.base_url(), http));
    let runtime = runtime()?;
    let connections = connections.max(1);
    let (count, wall, setup) = runtime.block_on(async move {
        let send = async |request: &Request| {
            let request = &Request {
                encoding,
                ..request.clone()
            };
            let response = transport
                .send(request)
                .await
                .map_err(|e| BenchError::Client(e.to_string()))?;
            Document::parse_response_str(&response.body)
                .map_err(|e| BenchError::Client(format!("{}: {e}", request.path)))
        };
        let init = send(&demo_request(
            Operation::Init,
            &[
                ("pg_amount", "150.00"),
                ("pg_description", "bench"),
                ("pg_order_id", "bench-1"),
                ("pg_payment_method", "mobile_commerce"),
            ],
            "benchsalt0",
        ))
        .await?;
        let id = init
            .text("pg_payment_id")
            .ok_or_else(|| BenchError::Client("init answered without a payment id".into()))?
            .to_owned();
        send(&demo_request(
            Operation::Pay,
            &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
            "benchsalt1",
        ))
        .await?;
        let statuses: Arc<Vec<Request>> = Arc::new(
            (0..16)
                .map(|i| {
                    demo_request(
                        Operation::Status,
                        &[("pg_payment_id", &id)],
                        &format!("salt{i:04}"),
                    )
                })
                .collect(),
        );
        // Checked once, so the loop below measures correct answers.
        let answer = send(&statuses[0]).await?;
        let valid = signature::verify(
            &statuses[0].path,
            &answer.root,
            &SecretKey::new(DEMO_SECRET_KEY),
        );
        if answer.text("pg_payment_status") != Some("success") || !valid.is_valid() {
            return Err(BenchError::Client(format!(
                "unexpected status answer: {answer}"
            )));
        }
        let setup = started.elapsed();
        let (count, wall) = sustain(connections, duration, |c, meter| {
            let (statuses, transport) = (Arc::clone(&statuses), Arc::clone(&transport));
            async move {
                let mut i = c;
                while meter.running() {
                    let request = &statuses[i % statuses.len()];
                    let response = transport
                        .send(request)
                        .await
                        .map_err(|e| BenchError::Client(e.to_string()))?;
                    if response.status != 200 {
                        return Err(BenchError::Client(format!(
                            "the emulator answered HTTP {}",
                            response.status
                        )));
                    }
                    i += 1;
                    meter.count();
                }
                Ok(())
            }
        })
        .await?;
        Ok::<_, BenchError>((count, wall, setup))
    })?;
    drop(running);
    Ok(sustained_figures(
        Phase::Client,
        encoding,
        connections,
        count,
        setup,
        wall,
    ))
}

/// A request signed for the demo merchant as the runner signs one.
fn demo_request(operation: Operation, pairs: &[(&str, &str)], salt: &str) -> Request {
    let path = operation.default_path().to_owned();
    Request {
        step: operation.name().to_owned(),
        attempt: 1,
        fields: signed_fields(&path, pairs, salt),
        operation,
        path,
        encoding: Encoding::Multipart,
        signed_by_harness: true,
    }
}

/// The fields of a request signed for the demo merchant.
fn signed_fields(path: &str, pairs: &[(&str, &str)], salt: &str) -> Fields {
    let key = SecretKey::new(DEMO_SECRET_KEY);
    let mut fields: Fields = pairs.iter().copied().collect();
    fields.push("pg_merchant_id", DEMO_MERCHANT_ID);
    fields.push("pg_salt", salt);
    let sig = signature::sign(path, &fields, &key);
    fields.push("pg_sig", sig.as_str());
    fields
}

/// The emulator both ceilings load: the demo merchant, seeded, the default worker threads.
fn ceiling_emulator() -> Result<RunningEmulator, BenchError> {
    Emulator::start(EmulatorConfig {
        seed: Some(1),
        ..EmulatorConfig::default()
    })
    .map_err(|e| BenchError::Emulator(e.to_string()))
}

/// The figures of a sustained measurement: requests over `connections`, no cases.
fn sustained_figures(
    phase: Phase,
    encoding: Encoding,
    connections: usize,
    requests: u64,
    setup: Duration,
    wall: Duration,
) -> Figures {
    Figures {
        phase,
        encoding,
        jobs: connections,
        cases: 0,
        requests,
        setup,
        wall,
        peak_kib: peak_memory_kib(),
    }
}

/// What the loops of a sustained measurement share: whether to go on, and how many exchanges
/// finished since the warm-up ended.
#[derive(Default)]
struct Meter {
    done: AtomicU64,
    measuring: AtomicBool,
    stop: AtomicBool,
}

impl Meter {
    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    /// One exchange finished (counted only once the warm-up is over).
    fn count(&self) {
        if self.measuring.load(Ordering::Relaxed) {
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs `connections` loops (`worker(index, meter)`, each looping while `meter.running()`)
/// for a half-second warm-up and then `duration`; the exchanges counted in that time, and
/// the time itself.
async fn sustain<W, F>(
    connections: usize,
    duration: Duration,
    worker: W,
) -> Result<(u64, Duration), BenchError>
where
    W: Fn(usize, Arc<Meter>) -> F,
    F: Future<Output = Result<(), BenchError>> + Send + 'static,
{
    let meter = Arc::new(Meter::default());
    let tasks: Vec<_> = (0..connections)
        .map(|c| tokio::spawn(worker(c, Arc::clone(&meter))))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    meter.measuring.store(true, Ordering::Relaxed);
    let measured = Instant::now();
    tokio::time::sleep(duration).await;
    let count = meter.done.load(Ordering::Relaxed);
    let wall = measured.elapsed();
    meter.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await
            .map_err(|e| BenchError::Client(e.to_string()))??;
    }
    Ok((count, wall))
}

/// A request signed for the demo merchant, as raw HTTP/1.1 bytes in `encoding` (the bytes
/// the live transport sends; its multipart boundary is drawn once here).
fn raw_request(encoding: Encoding, path: &str, pairs: &[(&str, &str)], salt: &str) -> Vec<u8> {
    use crate::gateway::encoding as wire;
    let fields = signed_fields(path, pairs, salt);
    let (target, content_type, body) = match encoding {
        Encoding::Multipart => {
            let (content_type, body) =
                live::multipart_body(&fields.form_pairs()).expect("plain field names");
            (path.to_owned(), Some(content_type), body)
        }
        Encoding::Urlencoded => (
            path.to_owned(),
            Some(wire::FORM_CONTENT_TYPE.to_owned()),
            wire::urlencoded(&fields).into_bytes(),
        ),
        Encoding::PgXml => (
            path.to_owned(),
            Some(wire::FORM_CONTENT_TYPE.to_owned()),
            wire::pg_xml(&fields)
                .expect("plain field names")
                .into_bytes(),
        ),
        Encoding::Json => (
            path.to_owned(),
            Some(wire::JSON_CONTENT_TYPE.to_owned()),
            wire::json(&fields).into_bytes(),
        ),
        Encoding::Get => (
            format!("{path}?{}", wire::urlencoded(&fields)),
            None,
            Vec::new(),
        ),
    };
    let mut request = format!(
        "{} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        encoding.method()
    );
    if let Some(content_type) = content_type {
        request.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// Sends one request on a kept-alive connection and reads the whole answer; returns the body.
async fn exchange(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    request: &[u8],
) -> Result<Vec<u8>, BenchError> {
    let io = |e: std::io::Error| BenchError::Client(e.to_string());
    stream.write_all(request).await.map_err(io)?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !head.starts_with("HTTP/1.1 200") {
                return Err(BenchError::Client(format!("the emulator answered {head}")));
            }
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .ok_or_else(|| BenchError::Client("an answer without Content-Length".into()))?;
            let total = end + 4 + length;
            while buf.len() < total {
                let n = stream.read(&mut chunk).await.map_err(io)?;
                if n == 0 {
                    return Err(BenchError::Client("the connection closed".into()));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf[end + 4..total].to_vec());
        }
        let n = stream.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(BenchError::Client("the connection closed".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_lines_round_trip() {
        let figures = Figures {
            phase: Phase::Live,
            encoding: Encoding::Urlencoded,
            jobs: 64,
            cases: 1000,
            requests: 6000,
            setup: Duration::from_millis(12),
            wall: Duration::from_millis(1500),
            peak_kib: Some(23_456),
        };
        let line = figures.line();
        assert_eq!(
            line,
            "fph-bench phase=live encoding=urlencoded jobs=64 cases=1000 requests=6000 setup_s=0.0120 wall_s=1.5000 peak_kib=23456"
        );
        assert_eq!(Figures::parse_line(&line), Some(figures));
        assert_eq!(Figures::parse_line("something else"), None);
    }

    #[test]
    fn generated_suites_load_with_the_asked_case_count() {
        let dir = tempfile::tempdir().unwrap();
        let suite = generate(dir.path(), 23).unwrap();
        let loaded = load(&suite).unwrap();
        assert_eq!(loaded.scenarios.len(), 3);
        assert_eq!(loaded.planned.len(), 23);
        assert!(loaded.scenarios.iter().all(|s| s.steps.len() == 5));
        assert_eq!(Suite::existing(dir.path()).map(|s| s.cases), Some(23));
    }
}

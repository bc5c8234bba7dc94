//! Running many cases at once: up to `jobs` cases in flight on the session, each reported as
//! soon as it finishes, results returned in selection order.
//!
//! An [`Interrupt`] (Ctrl-C, SIGTERM: the CLI raises it, this module only reads it) stops a
//! run in two stages: the first lets the cases in flight finish — their cassettes are
//! written whole — and starts no more; the second cancels the cases in flight at their next
//! await. Cassette writes are synchronous, so even a cancelled case never leaves half a file.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::scenario::{Scenario, Selection};

use super::outcome::CaseOutcome;
use super::session::Session;

/// How long the caller lets finished results gather before taking them (see
/// [`for_each_case_keeping`]); short enough that nobody watching a report sees it.
const COLLECT_INTERVAL: Duration = Duration::from_millis(1);

/// How far a run has been asked to stop: 0 not at all, 1 start no more cases, 2 cancel the
/// cases in flight too. Shared by the session and whoever listens for signals.
///
/// `--fail-fast` uses the first stage without the signal: [`Interrupt::halt`] starts no more
/// cases, but the run is not "interrupted" (it ends with the failure's exit code).
#[derive(Debug)]
pub struct Interrupt {
    level: tokio::sync::watch::Sender<u8>,
    halted: AtomicBool,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt {
            level: tokio::sync::watch::Sender::new(0),
            halted: AtomicBool::new(false),
        }
    }
}

impl Interrupt {
    /// Goes one stage further; returns the new stage (1 or 2).
    pub fn raise(&self) -> u8 {
        let mut level = 0;
        self.level.send_modify(|l| {
            *l = (*l + 1).min(2);
            level = *l;
        });
        level
    }

    /// True once asked to stop: no new case starts.
    pub fn is_raised(&self) -> bool {
        *self.level.borrow() > 0
    }

    /// Starts no more cases, without counting as an interruption (`--fail-fast`).
    pub fn halt(&self) {
        self.halted.store(true, Ordering::SeqCst);
    }

    /// True once [`Interrupt::halt`] was called.
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }

    /// True when no new case may start: interrupted or halted.
    fn starts_no_more(&self) -> bool {
        self.is_raised() || self.is_halted()
    }

    /// Resolves when the cases in flight are to be cancelled.
    async fn cancelled(&self) {
        let mut receiver = self.level.subscribe();
        let _ = receiver.wait_for(|level| *level >= 2).await;
    }
}

/// One selected case: an index into the scenarios and the case name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCase {
    pub scenario: usize,
    pub case: usize,
}

/// The cases `selection` keeps, in file order.
pub fn plan(scenarios: &[Scenario], selection: &Selection) -> Vec<PlannedCase> {
    scenarios
        .iter()
        .enumerate()
        .flat_map(|(si, scenario)| {
            scenario
                .cases
                .iter()
                .enumerate()
                .filter(move |(_, case)| selection.matches(scenario, case))
                .map(move |(ci, _)| PlannedCase {
                    scenario: si,
                    case: ci,
                })
        })
        .collect()
}

/// Runs the planned cases with at most `jobs` at a time. `on_done` gets each outcome as its
/// case ends and returns what to keep of it — the outcome itself when a report needs it
/// later, a summary otherwise, so a large suite does not hold every request and answer;
/// what was kept comes back in plan order.
///
/// With `fail_fast`, the first case that fails halts the session's [`Interrupt`]: no case
/// starts after it (those in flight finish). The case halts it itself, before its result
/// travels to `on_done`, so with one job at a time not a single case more starts.
pub async fn run_all<K>(
    session: Arc<Session>,
    scenarios: Arc<Vec<Scenario>>,
    planned: Vec<PlannedCase>,
    jobs: usize,
    fail_fast: bool,
    on_done: impl FnMut(CaseOutcome) -> K,
) -> Vec<K> {
    let run = move |session: Arc<Session>, scenario: Arc<Scenario>, case: usize| async move {
        let outcome = session.run(&scenario, &scenario.cases[case]).await;
        if fail_fast && !outcome.passed() {
            session.interrupt().halt();
        }
        outcome
    };
    for_each_case_keeping(session, scenarios, planned, jobs, on_done, run).await
}

/// Runs `work` for each planned case, at most `jobs` at a time, calling `on_done` as each
/// ends; results come back in plan order.
pub async fn for_each_case<T, F, Fut>(
    session: Arc<Session>,
    scenarios: Arc<Vec<Scenario>>,
    planned: Vec<PlannedCase>,
    jobs: usize,
    mut on_done: impl FnMut(&T),
    work: F,
) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<Session>, Arc<Scenario>, usize) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let keep = |result: T| {
        on_done(&result);
        result
    };
    for_each_case_keeping(session, scenarios, planned, jobs, keep, work).await
}

/// [`for_each_case`] where `on_done` takes each result and returns what to keep of it.
///
/// The cases are started and collected by a driver task on the runtime, not by the caller:
/// the caller is usually `block_on` on the main thread, and every case started from there
/// is a remote spawn that has to wake a worker, every case finished a wake-up of the main
/// thread (together a tenth of a live run's throughput). Finished results reach the caller
/// through a channel, drained in batches at most every [`COLLECT_INTERVAL`]; when the caller
/// falls behind, the driver waits, so no more than `jobs + 64` results are ever held
/// between the two.
pub async fn for_each_case_keeping<T, K, F, Fut>(
    session: Arc<Session>,
    scenarios: Arc<Vec<Scenario>>,
    planned: Vec<PlannedCase>,
    jobs: usize,
    mut on_done: impl FnMut(T) -> K,
    work: F,
) -> Vec<K>
where
    T: Send + 'static,
    F: Fn(Arc<Session>, Arc<Scenario>, usize) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let jobs = jobs.max(1);
    let total = planned.len();
    // Room for what finishes while the caller waits out an interval, so the driver does not
    // wait for it: a case takes a few hundred microseconds against the emulator.
    let room = jobs + 64;
    let (finished, mut receiver) = mpsc::channel(room);
    let driver = tokio::spawn(drive(session, scenarios, planned, jobs, work, finished));
    let mut results: Vec<Option<K>> = (0..total).map(|_| None).collect();
    let mut batch = Vec::with_capacity(room);
    while receiver.recv_many(&mut batch, room).await > 0 {
        for (index, result) in batch.drain(..) {
            results[index] = Some(on_done(result));
        }
        // Let results gather: waking the caller's thread for each one costs more than
        // anything done with it (another 4 % of a live run on two cores).
        tokio::time::sleep(COLLECT_INTERVAL).await;
    }
    match driver.await {
        // A panic inside a case is a bug in fph; let it surface as one (exit 101).
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        _ => {}
    }
    results.into_iter().flatten().collect()
}

/// Runs `work` for each planned case, at most `jobs` at a time, and sends each result with
/// its plan index as it ends.
async fn drive<T, F, Fut>(
    session: Arc<Session>,
    scenarios: Arc<Vec<Scenario>>,
    planned: Vec<PlannedCase>,
    jobs: usize,
    work: F,
    finished: mpsc::Sender<(usize, T)>,
) where
    T: Send + 'static,
    F: Fn(Arc<Session>, Arc<Scenario>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    // Each task holds its scenario; a caller that passed the only reference gives them up
    // without a copy of the whole suite.
    let shared: Vec<Arc<Scenario>> = match Arc::try_unwrap(scenarios) {
        Ok(owned) => owned.into_iter().map(Arc::new).collect(),
        Err(scenarios) => scenarios.iter().cloned().map(Arc::new).collect(),
    };
    let interrupt = session.interrupt();
    // The next case to finish, or all of them cancelled when the interrupt says so.
    let next = async |tasks: &mut JoinSet<(usize, T)>| {
        tokio::select! {
            joined = tasks.join_next() => joined,
            () = interrupt.cancelled() => {
                tasks.abort_all();
                tasks.join_next().await
            }
        }
    };
    let finish = async |joined: Option<Result<(usize, T), tokio::task::JoinError>>| match joined {
        Some(Ok(result)) => finished.send(result).await.is_ok(),
        Some(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Cancelled (an interrupt, the runtime shutting down), or nothing was running.
        Some(Err(_)) | None => true,
    };
    for (index, item) in planned.into_iter().enumerate() {
        // A case is spawned only when a slot is free: spawned early, it would hold its
        // future (and everything the case allocates) while it waits, so memory would grow
        // with the suite instead of with `jobs`.
        while tasks.len() >= jobs {
            if !finish(next(&mut tasks).await).await {
                return;
            }
        }
        if interrupt.starts_no_more() {
            break;
        }
        let job = work(
            Arc::clone(&session),
            Arc::clone(&shared[item.scenario]),
            item.case,
        );
        tasks.spawn(async move { (index, job.await) });
    }
    while !tasks.is_empty() {
        if !finish(next(&mut tasks).await).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use crate::emulator::EmulatorConfig;
    use crate::review::{UpdatePolicy, Updates};
    use crate::runner::{Mode, SessionOptions};
    use crate::scenario::{self, HarnessConfig};

    use super::*;

    /// A replay session over one scenario of `rows` cases (nothing here sends anything).
    fn suite(rows: usize) -> (tempfile::TempDir, Arc<Session>, Vec<Scenario>) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("name: Rows\nmatrix:\n");
        for row in 0..rows {
            text.push_str(&format!("  - {{ row: \"{row}\" }}\n"));
        }
        text.push_str("steps:\n  - id: status\n    call: status\n    form: { pg_payment_id: \"{{ row }}\" }\n");
        std::fs::write(dir.path().join("rows.yaml"), text).unwrap();
        let config = HarnessConfig::load(dir.path()).unwrap();
        let (scenarios, errors) = scenario::load_paths(&[dir.path().to_owned()]);
        assert!(errors.is_empty());
        let options = SessionOptions {
            mode: Mode::Replay,
            target: config.resolve_target("emulator").unwrap(),
            allow_production: false,
            keep_failed: false,
            recordings: dir.path().join("recordings"),
            config,
            credentials: None,
            emulator: EmulatorConfig::default(),
            updates: Updates::new(UpdatePolicy::No),
            callback_base_url: None,
            callback_port: None,
        };
        let session = Arc::new(Session::start(options, &scenarios).unwrap());
        (dir, session, scenarios)
    }

    #[test]
    fn results_come_back_in_plan_order_with_at_most_jobs_running() {
        let (_dir, session, scenarios) = suite(40);
        let planned = plan(&scenarios, &Selection::all());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut seen = Vec::new();
        let (counting, peak) = (Arc::clone(&running), Arc::clone(&most));
        let results = runtime.block_on(for_each_case_keeping(
            session,
            Arc::new(scenarios),
            planned,
            6,
            |case: usize| {
                seen.push(case);
                case * 10
            },
            move |_, _, case| {
                let (running, most) = (Arc::clone(&counting), Arc::clone(&peak));
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Later cases finish sooner, so completion order is not plan order.
                    tokio::time::sleep(Duration::from_millis(40 - case as u64)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    case
                }
            },
        ));
        assert_eq!(results, (0..40).map(|c| c * 10).collect::<Vec<_>>());
        assert_eq!(seen.len(), 40);
        assert_ne!(seen, (0..40).collect::<Vec<_>>(), "reported as they finish");
        assert!(
            most.load(Ordering::SeqCst) <= 6,
            "{most:?} cases ran at once"
        );
        assert!(most.load(Ordering::SeqCst) > 1, "cases ran in parallel");
    }

    #[test]
    fn a_panic_inside_a_case_reaches_the_caller() {
        let (_dir, session, scenarios) = suite(3);
        let planned = plan(&scenarios, &Selection::all());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(for_each_case(
                session,
                Arc::new(scenarios),
                planned,
                2,
                |_: &()| {},
                |_, _, case| async move { assert_ne!(case, 1, "case one breaks") },
            ))
        }));
        let payload = caught.expect_err("the panic is not swallowed");
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        assert!(message.contains("case one breaks"), "{message}");
    }
}

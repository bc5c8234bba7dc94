//! Running many cases at once: up to `jobs` cases in flight on the session, each reported as
//! soon as it finishes, results returned in selection order.

use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::scenario::{Scenario, Selection};

use super::outcome::CaseOutcome;
use super::session::Session;

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
pub async fn run_all<K>(
    session: Arc<Session>,
    scenarios: Arc<Vec<Scenario>>,
    planned: Vec<PlannedCase>,
    jobs: usize,
    on_done: impl FnMut(CaseOutcome) -> K,
) -> Vec<K> {
    let run = |session: Arc<Session>, scenario: Arc<Scenario>, case: usize| async move {
        session.run(&scenario, &scenario.cases[case]).await
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
    F: Fn(Arc<Session>, Arc<Scenario>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let keep = |result: T| {
        on_done(&result);
        result
    };
    for_each_case_keeping(session, scenarios, planned, jobs, keep, work).await
}

/// [`for_each_case`] where `on_done` takes each result and returns what to keep of it.
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
    F: Fn(Arc<Session>, Arc<Scenario>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let jobs = jobs.max(1);
    let mut tasks = JoinSet::new();
    let total = planned.len();
    // Each task holds its scenario; a caller that passed the only reference gives them up
    // without a copy of the whole suite.
    let shared: Vec<Arc<Scenario>> = match Arc::try_unwrap(scenarios) {
        Ok(owned) => owned.into_iter().map(Arc::new).collect(),
        Err(scenarios) => scenarios.iter().cloned().map(Arc::new).collect(),
    };
    let mut results: Vec<Option<K>> = (0..total).map(|_| None).collect();
    let mut finish = |joined: Result<(usize, T), tokio::task::JoinError>| match joined {
        Ok((index, result)) => results[index] = Some(on_done(result)),
        // A panic inside a case is a bug in fph; let it surface as one (exit 101).
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => {}
    };
    for (index, item) in planned.into_iter().enumerate() {
        // A case is spawned only when a slot is free: spawned early, it would hold its
        // future (and everything the case allocates) while it waits, so memory would grow
        // with the suite instead of with `jobs`.
        while tasks.len() >= jobs {
            if let Some(joined) = tasks.join_next().await {
                finish(joined);
            }
        }
        let job = work(
            Arc::clone(&session),
            Arc::clone(&shared[item.scenario]),
            item.case,
        );
        tasks.spawn(async move { (index, job.await) });
    }
    while let Some(joined) = tasks.join_next().await {
        finish(joined);
    }
    results.into_iter().flatten().collect()
}

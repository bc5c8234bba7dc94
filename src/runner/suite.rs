//! Running many cases at once: up to `jobs` cases in flight on the session, each reported as
//! soon as it finishes, results returned in selection order.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;
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

/// Runs the planned cases with at most `jobs` at a time, calling `on_done` as each ends.
pub async fn run_all(
    session: Arc<Session>,
    scenarios: Arc<Vec<Scenario>>,
    planned: Vec<PlannedCase>,
    jobs: usize,
    on_done: impl FnMut(&CaseOutcome),
) -> Vec<CaseOutcome> {
    for_each_case(session, scenarios, planned, jobs, on_done, |session, scenario, case| async move {
        session.run(&scenario, &scenario.cases[case]).await
    })
    .await
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
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let mut tasks = JoinSet::new();
    let total = planned.len();
    let shared: Vec<Arc<Scenario>> = scenarios.iter().cloned().map(Arc::new).collect();
    for (index, item) in planned.into_iter().enumerate() {
        let permits = Arc::clone(&permits);
        let job = work(
            Arc::clone(&session),
            Arc::clone(&shared[item.scenario]),
            item.case,
        );
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            (index, job.await)
        });
    }
    let mut results: Vec<Option<T>> = (0..total).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => {
                on_done(&result);
                results[index] = Some(result);
            }
            // A panic inside a case is a bug in fph; let it surface as one (exit 101).
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => {}
        }
    }
    results.into_iter().flatten().collect()
}

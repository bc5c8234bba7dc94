//! The sustained-load meter the ceilings share: `connections` loops run through a warm-up and
//! then a measured interval, counting the exchanges that finish inside it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::BenchError;

/// What the loops of a sustained measurement share: whether to go on, and how many exchanges
/// finished since the warm-up ended.
#[derive(Default)]
pub(super) struct Meter {
    done: AtomicU64,
    measuring: AtomicBool,
    stop: AtomicBool,
}

impl Meter {
    pub(super) fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    /// One exchange finished (counted only once the warm-up is over).
    pub(super) fn count(&self) {
        if self.measuring.load(Ordering::Relaxed) {
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs `connections` loops (`worker(index, meter)`, each looping while `meter.running()`)
/// for a half-second warm-up and then `duration`; the exchanges counted in that time, and
/// the time itself.
pub(super) async fn sustain<W, F>(
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

//! Ctrl-C and SIGTERM during a run: the first stops new cases from starting and lets the
//! ones in flight finish (their cassettes are written whole); the second cancels those too.
//! The run then reports what was done and exits 130. The stages themselves are the
//! runner's ([`Interrupt`](crate::runner::suite::Interrupt)); this is only the
//! listening.

use std::sync::Arc;

use crate::runner::Session;

/// Listens for SIGINT and SIGTERM on `runtime` for the rest of the process, raising the
/// session's interrupt. The handlers are installed before this returns, so a signal that
/// arrives while the first case starts is not the default "kill now" (which left zero-byte
/// temporary cassettes behind).
pub fn listen(runtime: &tokio::runtime::Runtime, session: Arc<Session>) {
    let _entered = runtime.enter();
    let mut signals = Signals::install();
    runtime.spawn(async move {
        loop {
            signals.next().await;
            match session.interrupt().raise() {
                1 => errln!(
                    "interrupted: no new case starts; finishing the cases in flight (interrupt again to stop them now)"
                ),
                _ => errln!("interrupted again: stopping the cases in flight"),
            }
        }
    });
}

#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn next(&mut self) {
        async fn wait(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = wait(&mut self.interrupt) => {}
            () = wait(&mut self.terminate) => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Signals {
        Signals
    }

    async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

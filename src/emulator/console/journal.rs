//! The console's record of gateway calls: every call the emulator answered (request fields,
//! the answer sent, the hint, timings), newest last, bounded; and the change counter the
//! console page polls to know when to fetch again.
//!
//! Recording is one short lock and a move of data the server already holds (the decoded
//! fields, the answer's bytes shared by reference count), so the gateway pays next to nothing
//! for it; nothing here is read on a gateway call's path.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use std::fmt;

use axum::body::Bytes;
use axum::http::Method;

use crate::gateway::{Encoding, Fields, Operation};

/// Calls kept: enough for a developer's session; the oldest go first.
pub(crate) const CALLS_KEPT: usize = 2000;

/// A number that grows whenever something the console shows may have changed.
#[derive(Debug, Default)]
pub(crate) struct Changes(AtomicU64);

impl Changes {
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One gateway call as the emulator saw and answered it.
#[derive(Debug, Clone)]
pub(crate) struct CallRecord {
    /// 1, 2, 3… since start (not reset: a page's `after` stays meaningful).
    pub seq: u64,
    pub at: SystemTime,
    /// From the request's arrival to the answer (including any fault's latency).
    pub elapsed: Duration,
    pub method: Method,
    pub path: String,
    /// The request's `Content-Type` as sent (`None` without one: a GET).
    pub content_type: Option<String>,
    /// How the emulator read the request (`None` when it could not, and for the payer
    /// page's steps, which are no client's wire).
    pub encoding: Option<Encoding>,
    pub call: CallName,
    pub payment_id: Option<u64>,
    pub request: Fields,
    pub http_status: u16,
    pub answer: Bytes,
    /// `ok`, `need_approve`, `error 11002 wrong_code`, …
    pub outcome: String,
    /// What the emulator says beside the answer (`X-Emulator-Hint`).
    pub hint: Option<String>,
    /// The fault that fired on this call, if one did.
    pub fault: Option<String>,
}

/// Which call a record is.
#[derive(Debug, Clone)]
pub(crate) enum CallName {
    /// A gateway call: `init`, `pay`, …
    Gateway(Operation),
    /// A step of the payer's page: `pay_page pay`, `pay_page approve`, …
    PayPage(Operation),
}

impl fmt::Display for CallName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallName::Gateway(op) => f.write_str(op.name()),
            CallName::PayPage(op) => write!(f, "pay_page {}", op.name()),
        }
    }
}

/// The bounded list of calls.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    calls: Mutex<VecDeque<CallRecord>>,
    next: AtomicU64,
}

impl Journal {
    /// Keeps a call (its `seq` is assigned here).
    pub fn record(&self, mut call: CallRecord) {
        call.seq = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let evicted = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            let evicted = if calls.len() >= CALLS_KEPT {
                calls.pop_front()
            } else {
                None
            };
            calls.push_back(call);
            evicted
        };
        // Freed after the lock is released.
        drop(evicted);
    }

    /// At most `limit` calls, newest first, of one payment when `payment` is given.
    pub fn newest(&self, payment: Option<u64>, limit: usize) -> Vec<CallRecord> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls
            .iter()
            .rev()
            .filter(|c| payment.is_none() || c.payment_id == payment)
            .take(limit)
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(payment_id: Option<u64>) -> CallRecord {
        CallRecord {
            seq: 0,
            at: SystemTime::now(),
            elapsed: Duration::ZERO,
            method: Method::POST,
            path: "/mfs/pay".into(),
            content_type: None,
            encoding: None,
            call: CallName::Gateway(Operation::Pay),
            payment_id,
            request: Fields::new(),
            http_status: 200,
            answer: Bytes::new(),
            outcome: "ok".into(),
            hint: None,
            fault: None,
        }
    }

    #[test]
    fn calls_are_numbered_bounded_and_listed_newest_first() {
        let journal = Journal::default();
        for i in 0..CALLS_KEPT + 5 {
            journal.record(call(Some((i % 2) as u64)));
        }
        let all = journal.newest(None, usize::MAX);
        assert_eq!(all.len(), CALLS_KEPT);
        assert_eq!(all[0].seq, (CALLS_KEPT + 5) as u64);
        assert_eq!(all.last().unwrap().seq, 6);
        let odd = journal.newest(Some(1), 3);
        assert_eq!(odd.len(), 3);
        assert!(odd.iter().all(|c| c.payment_id == Some(1)));
        assert!(odd[0].seq > odd[1].seq);
    }
}

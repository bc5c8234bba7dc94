//! What a phase measured ([`Figures`], one `fph-bench key=value …` line), the phases, the
//! process's peak memory, and the tally that turns counted cases into figures.

use std::time::Duration;

use crate::gateway::Encoding;

use super::BenchError;

/// The phase a [`Figures`] line measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Record,
    Parse,
    Replay,
    Live,
    Emulator,
    Client,
    /// The emulator's status requests through a recording proxy.
    Proxy,
    /// Init + pay pairs on an emulator with an empty store.
    InitEmpty,
    /// The same on an emulator filled to its payment cap.
    InitCap,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Record,
        Phase::Parse,
        Phase::Replay,
        Phase::Live,
        Phase::Emulator,
        Phase::Client,
        Phase::Proxy,
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
            Phase::Proxy => "proxy",
            Phase::InitEmpty => "init-empty",
            Phase::InitCap => "init-cap",
        }
    }

    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether `--encoding` applies: the phases that send requests of their own (the
    /// recorded suite is multipart).
    pub fn takes_encoding(self) -> bool {
        matches!(
            self,
            Phase::Live | Phase::Emulator | Phase::Client | Phase::Proxy
        )
    }

    /// Whether it counts requests only, no cases: a server's rate over keep-alive
    /// connections.
    pub fn requests_only(self) -> bool {
        matches!(
            self,
            Phase::Emulator | Phase::Client | Phase::Proxy | Phase::InitEmpty | Phase::InitCap
        )
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

/// What a timed phase counted: requests, and the cases that failed with the first one's
/// details (a benchmark of a failing run measures nothing worth printing).
#[derive(Default)]
pub(super) struct Tally {
    requests: u64,
    failed: usize,
    first_failure: Option<String>,
}

impl Tally {
    /// Counts one case: its requests, and its failure when it failed (the details are only
    /// worked out for the first).
    pub(super) fn case(&mut self, requests: usize, failure: Option<impl FnOnce() -> String>) {
        self.requests += requests as u64;
        if let Some(details) = failure {
            self.failed += 1;
            self.first_failure.get_or_insert_with(details);
        }
    }

    /// The phase's figures, or the first failure when any case failed.
    pub(super) fn figures(
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

/// The figures of a sustained measurement: requests over `connections`, no cases.
pub(super) fn sustained_figures(
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
}

//! Contract tests of the Freedom Pay integration, written by `fph init`: every case in
//! `scenarios/` is a test, replayed offline from `recordings/` (no network, no credentials).
//!
//! `FPH_MODE=record FPH_TARGET=sandbox cargo test --test contract` re-records them against the
//! Freedom Pay test server (with FREEDOMPAY_MERCHANT_ID and FREEDOMPAY_SECRET_KEY set);
//! scenarios/README.md says more.

fn main() -> std::process::ExitCode {
    freedompay_harness::harness::Harness::new("scenarios").run()
}

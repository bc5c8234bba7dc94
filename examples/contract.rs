//! The lines a merchant's crate needs to run its scenarios under `cargo test`, kept here so
//! the README snippet is compiled with every build and cannot rot.
//!
//! In a merchant's crate this file is `tests/contract.rs`, with in `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! # Replay only: no HTTP client, TLS, emulator or CLI to compile. Add `features = ["live"]`
//! # to record or run live from `cargo test`, or `["emulator"]` for live runs on the
//! # in-process emulator.
//! freedompay-harness = { version = "…", default-features = false }
//!
//! [[test]]
//! name = "contract"
//! harness = false
//! ```
//!
//! Run it here with `cargo run --example contract` (it reads `scenarios/`). `FPH_MODE`,
//! `FPH_TARGET` and `FPH_TAG` choose the mode, target and tags; a `.mode(…)`, `.target(…)` or
//! `.tags(…)` here would win over them.

use freedompay_harness::Harness;

fn main() -> std::process::ExitCode {
    Harness::builder()
        .scenarios("scenarios")
        .recordings("recordings")
        .run()
}

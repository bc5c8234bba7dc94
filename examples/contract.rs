//! The ten lines a merchant's crate needs to run its scenarios under `cargo test`, kept here
//! so the README snippet is compiled with every build and cannot rot.
//!
//! In a merchant's crate this file is `tests/contract.rs`, with in `Cargo.toml`:
//!
//! ```toml
//! [[test]]
//! name = "contract"
//! harness = false
//! ```
//!
//! Run it here with `cargo run --example contract` (it reads `scenarios/`).

fn main() -> std::process::ExitCode {
    freedompay_harness::harness::Harness::new("scenarios").run()
}

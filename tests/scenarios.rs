//! Every shipped scenario case as a `cargo test` trial, replayed from `recordings/` by default.
//! `FPH_MODE=live cargo test --test scenarios` runs them against a fresh emulator instead (the
//! builder sets no mode, so the environment decides). CI also runs this file with
//! `--no-default-features`: replay is all a lean test crate needs.

use freedompay_harness::Harness;

fn main() -> std::process::ExitCode {
    Harness::builder()
        .scenarios("scenarios")
        .recordings("recordings")
        .run()
}

//! Every shipped scenario case as a `cargo test` trial, replayed from `recordings/` by default.
//! `FPH_MODE=live cargo test --test scenarios` runs them against a fresh emulator instead.

fn main() -> std::process::ExitCode {
    freedompay_harness::harness::Harness::new("scenarios").run()
}

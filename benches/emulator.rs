//! Status requests per second against the gateway emulator, over keep-alive connections:
//! `cargo bench --bench emulator` (release build). The measuring is `fph bench`'s emulator
//! phase (`freedompay_harness::cli::bench_emulator`): a thin raw-HTTP/1.1 client with pre-signed
//! requests, one in flight per connection, so the figure is the server's.
//!
//! Knobs (environment): `FPH_BENCH_CONNECTIONS` (default 64), `FPH_BENCH_SECS` (default 5),
//! `FPH_BENCH_ENCODING` (default `urlencoded`, what this bench always sent; also `multipart`,
//! `get`, `pg_xml`, `json`).

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::Duration;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let connections = env("FPH_BENCH_CONNECTIONS", 64) as usize;
    let duration = Duration::from_secs(env("FPH_BENCH_SECS", 5));
    let encoding = match std::env::var("FPH_BENCH_ENCODING") {
        Ok(name) => match name.parse() {
            Ok(encoding) => encoding,
            Err(error) => {
                println!("error: FPH_BENCH_ENCODING: {error}");
                std::process::exit(2);
            }
        },
        Err(_) => freedompay_harness::gateway::Encoding::Urlencoded,
    };
    match freedompay_harness::cli::bench_emulator(connections, duration, encoding) {
        Ok(figures) => {
            println!(
                "emulator status: {:.0} requests/s ({} in {:.2} s, {connections} keep-alive connections)",
                figures.requests_per_second(),
                figures.requests,
                figures.wall.as_secs_f64()
            );
            println!("{}", figures.line());
        }
        Err(error) => {
            println!("error: {error}");
            std::process::exit(1);
        }
    }
}

//! Status requests per second against the gateway emulator, over keep-alive connections.
//!
//! `cargo bench --bench emulator` (release build). The client is deliberately thin — raw
//! HTTP/1.1 over tokio TCP streams, pre-signed request bytes, one request in flight per
//! connection — so the figure measures the emulator (decode, verify `pg_sig`, look up, sign,
//! write XML) rather than a client library. Client and server share the machine's cores.
//!
//! Knobs (environment): `FPH_BENCH_CONNECTIONS` (default 32), `FPH_BENCH_SECS` (default 5),
//! `FPH_BENCH_CLIENT_THREADS` (default 1), `FPH_BENCH_SERVER_THREADS` (default: one per CPU).

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use freedompay_harness::emulator::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use freedompay_harness::gateway::signature::{sign, verify};
use freedompay_harness::gateway::xml::Document;
use freedompay_harness::gateway::{Fields, SecretKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A signed urlencoded POST as raw HTTP/1.1 bytes.
fn request(path: &str, pairs: &[(&str, &str)], salt: &str) -> Vec<u8> {
    let key = SecretKey::new(DEMO_SECRET_KEY);
    let mut fields: Fields = pairs.iter().copied().collect();
    fields.push("pg_merchant_id", DEMO_MERCHANT_ID);
    fields.push("pg_salt", salt);
    let sig = sign(path, &fields, &key);
    fields.push("pg_sig", sig.as_str());
    let body: Vec<String> = fields
        .to_form_pairs()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect();
    let body = body.join("&");
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends one request on a kept-alive connection and reads the whole answer; returns the body.
async fn exchange(stream: &mut TcpStream, buf: &mut Vec<u8>, request: &[u8]) -> Vec<u8> {
    stream.write_all(request).await.expect("write");
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).expect("ascii head");
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("content-length");
            let total = end + 4 + length;
            while buf.len() < total {
                let n = stream.read(&mut chunk).await.expect("read");
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&chunk[..n]);
            }
            return buf[end + 4..total].to_vec();
        }
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn main() {
    let connections = env("FPH_BENCH_CONNECTIONS", 32);
    let secs = env("FPH_BENCH_SECS", 5) as u64;
    let client_threads = env("FPH_BENCH_CLIENT_THREADS", 1);
    let server_threads = std::env::var("FPH_BENCH_SERVER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok());

    let emulator = Emulator::start(EmulatorConfig {
        seed: Some(1),
        worker_threads: server_threads,
        ..EmulatorConfig::default()
    })
    .expect("start the emulator");
    let addr = emulator.addr();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads.max(1))
        .enable_all()
        .build()
        .expect("client runtime");

    runtime.block_on(async move {
        // One paid payment to ask about.
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut buf = Vec::new();
        let init = request(
            "/init_payment.php",
            &[
                ("pg_amount", "150.00"),
                ("pg_description", "bench"),
                ("pg_order_id", "bench-1"),
                ("pg_payment_method", "mobile_commerce"),
            ],
            "benchsalt0",
        );
        let body = exchange(&mut stream, &mut buf, &init).await;
        let id = Document::parse(&body)
            .expect("init answer")
            .text("pg_payment_id")
            .expect("payment id")
            .to_owned();
        let pay = request(
            "/mfs/pay",
            &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
            "benchsalt1",
        );
        exchange(&mut stream, &mut buf, &pay).await;

        // A few differently salted status requests, checked once.
        let statuses: Arc<Vec<Vec<u8>>> = Arc::new(
            (0..16)
                .map(|i| request("/get_status3.php", &[("pg_payment_id", &id)], &format!("salt{i:04}")))
                .collect(),
        );
        let body = exchange(&mut stream, &mut buf, &statuses[0]).await;
        let answer = Document::parse(&body).expect("status answer");
        assert_eq!(answer.text("pg_payment_status"), Some("success"));
        assert!(verify("get_status3.php", &answer.to_fields(), &SecretKey::new(DEMO_SECRET_KEY)).is_valid());

        let done = Arc::new(AtomicU64::new(0));
        let measuring = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for c in 0..connections {
            let (statuses, done, measuring, stop) =
                (statuses.clone(), done.clone(), measuring.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut buf = Vec::with_capacity(2048);
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    exchange(&mut stream, &mut buf, &statuses[i % statuses.len()]).await;
                    i += 1;
                    if measuring.load(Ordering::Relaxed) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        // Warm up, then measure.
        tokio::time::sleep(Duration::from_secs(1)).await;
        measuring.store(true, Ordering::Relaxed);
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let count = done.load(Ordering::Relaxed);
        let elapsed = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            task.await.expect("client task");
        }
        let rate = count as f64 / elapsed.as_secs_f64();
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        println!(
            "emulator status: {rate:.0} requests/s ({count} in {:.2} s, {connections} keep-alive connections, {cpus} CPUs, client threads {client_threads}, server threads {})",
            elapsed.as_secs_f64(),
            server_threads.map_or("per CPU".to_owned(), |n: usize| n.to_string()),
        );
    });
    drop(emulator);
}

//! The `init-empty` and `init-cap` phases: the same batch of init + pay pairs on an emulator
//! with an empty store and on one filled to its cap, where every init evicts a payment.

use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpStream;

use crate::emulator::EmulatorConfig;
use crate::gateway::Encoding;

use super::BenchError;
use super::figures::{Figures, Phase, peak_memory_kib};
use super::requests::{client_runtime, exchange, raw_request, seeded_emulator};

/// Init + pay pairs measured by `init-empty` and `init-cap`.
pub const CAP_PAIRS: usize = 20_000;

/// `pairs` init + pay pairs over `connections` keep-alive connections, timed; for
/// [`Phase::InitCap`] the store is first filled to its cap with finished payments (not
/// timed: `setup_s`). Every pay uses a phone charged at once, so every payment is finished and
/// the cap can always evict one.
pub fn init_pairs(phase: Phase, pairs: usize, connections: usize) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let running = seeded_emulator()?;
    let fill = match phase {
        Phase::InitCap => EmulatorConfig::default().max_payments,
        _ => 0,
    };
    let addr = running.addr();
    let runtime = client_runtime()?;
    let connections = connections.max(1);
    let (wall, setup) = runtime.block_on(async move {
        // Urlencoded, as this phase has always sent.
        let init = Arc::new(raw_request(
            Encoding::Urlencoded,
            "/init_payment.php",
            &[
                ("pg_amount", "150.00"),
                ("pg_description", "bench"),
                ("pg_order_id", "bench-cap"),
                ("pg_payment_method", "mobile_commerce"),
            ],
            "capsalt",
        ));
        pairs_over(addr, &init, fill, connections).await?;
        let setup = started.elapsed();
        let measured = Instant::now();
        pairs_over(addr, &init, pairs, connections).await?;
        Ok::<_, BenchError>((measured.elapsed(), setup))
    })?;
    drop(running);
    Ok(Figures {
        phase,
        encoding: Encoding::Urlencoded,
        jobs: connections,
        cases: 0,
        requests: 2 * pairs as u64,
        setup,
        wall,
        peak_kib: peak_memory_kib(),
    })
}

/// `pairs` init + pay pairs spread over `connections` connections.
async fn pairs_over(
    addr: std::net::SocketAddr,
    init: &Arc<Vec<u8>>,
    pairs: usize,
    connections: usize,
) -> Result<(), BenchError> {
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let init = Arc::clone(init);
            let mine = pairs / connections + usize::from(c < pairs % connections);
            tokio::spawn(async move {
                let io = |e: std::io::Error| BenchError::Client(e.to_string());
                let mut stream = TcpStream::connect(addr).await.map_err(io)?;
                stream.set_nodelay(true).map_err(io)?;
                let mut buf = Vec::with_capacity(2048);
                for _ in 0..mine {
                    let body = exchange(&mut stream, &mut buf, &init).await?;
                    let body = String::from_utf8_lossy(&body);
                    let id = body
                        .split_once("<pg_payment_id>")
                        .and_then(|(_, rest)| rest.split_once('<'))
                        .map(|(id, _)| id.to_owned())
                        .ok_or_else(|| BenchError::Client(format!("init answered {body}")))?;
                    let pay = raw_request(
                        Encoding::Urlencoded,
                        "/mfs/pay",
                        &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
                        "capsalt",
                    );
                    exchange(&mut stream, &mut buf, &pay).await?;
                }
                Ok::<_, BenchError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .map_err(|e| BenchError::Client(e.to_string()))??;
    }
    Ok(())
}

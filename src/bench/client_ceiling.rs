//! The `client` phase: the harness's own HTTP client (the live transport) sending signed
//! status requests and nothing else — the rate `live` would reach if the runner cost nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::emulator::DEMO_SECRET_KEY;
use crate::gateway::signature;
use crate::gateway::{Document, Encoding, Operation, SecretKey};
use crate::transport::live::{self, LiveOptions, LiveTransport};
use crate::transport::{Request, Transport};

use super::BenchError;
use super::figures::{Figures, Phase, sustained_figures};
use super::meter::sustain;
use super::requests::{demo_request, seeded_emulator};
use super::suite_phases::runtime;

/// The harness's HTTP client alone: the live transport (reqwest, signed `multipart/form-data`
/// POSTs, the client `fph run` builds) sending pre-signed status requests from `connections`
/// tasks for `duration`, on the runtime `fph run` uses, with nothing of the runner around it.
/// The rate `live` would reach if the runner's own work (templates, signing, parsing,
/// checking) cost nothing; between it and the emulator's rate lies the HTTP client's cost.
pub fn client(
    connections: usize,
    duration: Duration,
    encoding: Encoding,
) -> Result<Figures, BenchError> {
    let started = Instant::now();
    let running = seeded_emulator()?;
    let http = live::client(&LiveOptions {
        direct: true,
        ..LiveOptions::default()
    })
    .map_err(|e| BenchError::Client(e.to_string()))?;
    let transport = Arc::new(LiveTransport::new(running.base_url(), http));
    let runtime = runtime()?;
    let connections = connections.max(1);
    let (count, wall, setup) = runtime.block_on(async move {
        let send = async |request: &Request| {
            let request = &Request {
                encoding,
                ..request.clone()
            };
            let response = transport
                .send(request)
                .await
                .map_err(|e| BenchError::Client(e.to_string()))?;
            Document::parse_response_str(&response.body)
                .map_err(|e| BenchError::Client(format!("{}: {e}", request.path)))
        };
        let init = send(&demo_request(
            Operation::Init,
            &[
                ("pg_amount", "150.00"),
                ("pg_description", "bench"),
                ("pg_order_id", "bench-1"),
                ("pg_payment_method", "mobile_commerce"),
            ],
            "benchsalt0",
        ))
        .await?;
        let id = init
            .text("pg_payment_id")
            .ok_or_else(|| BenchError::Client("init answered without a payment id".into()))?
            .to_owned();
        send(&demo_request(
            Operation::Pay,
            &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
            "benchsalt1",
        ))
        .await?;
        let statuses: Arc<Vec<Request>> = Arc::new(
            (0..16)
                .map(|i| {
                    demo_request(
                        Operation::Status,
                        &[("pg_payment_id", &id)],
                        &format!("salt{i:04}"),
                    )
                })
                .collect(),
        );
        // Checked once, so the loop below measures correct answers.
        let answer = send(&statuses[0]).await?;
        let valid = signature::verify(
            &statuses[0].path,
            &answer.root,
            &SecretKey::new(DEMO_SECRET_KEY),
        );
        if answer.text("pg_payment_status") != Some("success") || !valid.is_valid() {
            return Err(BenchError::Client(format!(
                "unexpected status answer: {answer}"
            )));
        }
        let setup = started.elapsed();
        let (count, wall) = sustain(connections, duration, |c, meter| {
            let (statuses, transport) = (Arc::clone(&statuses), Arc::clone(&transport));
            async move {
                let mut i = c;
                while meter.running() {
                    let request = &statuses[i % statuses.len()];
                    let response = transport
                        .send(request)
                        .await
                        .map_err(|e| BenchError::Client(e.to_string()))?;
                    if response.status != 200 {
                        return Err(BenchError::Client(format!(
                            "the emulator answered HTTP {}",
                            response.status
                        )));
                    }
                    i += 1;
                    meter.count();
                }
                Ok(())
            }
        })
        .await?;
        Ok::<_, BenchError>((count, wall, setup))
    })?;
    drop(running);
    Ok(sustained_figures(
        Phase::Client,
        encoding,
        connections,
        count,
        setup,
        wall,
    ))
}

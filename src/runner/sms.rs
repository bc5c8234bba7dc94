//! Where `sms_code(phone)` gets its code on a live run: a fixed code (the test server's test
//! phones), the in-process emulator, or a standalone emulator's admin API.
//!
//! The code is looked up for the case's payment (the last `pg_payment_id` an answer of the
//! case carried), not for the phone: cases running concurrently may pay from the same phone,
//! and the phone's latest code is then another case's. The runner looks it up before it
//! renders a step that calls `sms_code`, so template functions do no I/O; over HTTP the
//! lookup goes through the run's shared client and its keep-alive connections.

use std::sync::Arc;

#[cfg(feature = "live")]
use reqwest::StatusCode;
use url::Url;

use crate::emulator::RunningEmulator;
use crate::transport::live::Client;

/// A live run's source of SMS codes.
#[derive(Clone)]
pub enum SmsCodes {
    /// The same code for every payment (`sms_code` of a target in harness.yaml).
    Fixed(String),
    /// The emulator this run started in-process.
    Emulator(Arc<RunningEmulator>),
    /// The admin API of an emulator at this base URL: `GET /_emulator/payments/ID/sms`.
    Admin { client: Client, base: Url },
}

impl std::fmt::Debug for SmsCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmsCodes::Fixed(_) => f.write_str("SmsCodes::Fixed"),
            SmsCodes::Emulator(_) => f.write_str("SmsCodes::Emulator"),
            SmsCodes::Admin { base, .. } => write!(f, "SmsCodes::Admin({base})"),
        }
    }
}

impl SmsCodes {
    /// The code sent for `payment` (the case's payment id, `None` before any answer carried
    /// one). `Err` says why there is none, for the step's failure.
    pub async fn lookup(&self, payment: Option<&str>) -> Result<String, String> {
        if let SmsCodes::Fixed(code) = self {
            return Ok(code.clone());
        }
        let Some(payment) = payment else {
            return Err(
                "the case has no payment yet: call sms_code(phone) in a step after pay, whose answer names the payment the code was sent for".into(),
            );
        };
        match self {
            SmsCodes::Fixed(_) => unreachable!("answered above"),
            SmsCodes::Emulator(emulator) => payment
                .parse::<u64>()
                .ok()
                .and_then(|id| emulator.payment_sms_code(id))
                .ok_or_else(|| format!("the emulator awaits no SMS code for payment {payment}")),
            SmsCodes::Admin { client, base } => admin_lookup(client, base, payment).await,
        }
    }
}

/// `GET {base}/_emulator/payments/{payment}/sms`, plain text.
#[cfg(feature = "live")]
async fn admin_lookup(client: &Client, base: &Url, payment: &str) -> Result<String, String> {
    let url = format!(
        "{}/_emulator/payments/{payment}/sms",
        base.as_str().trim_end_matches('/')
    );
    let explain = |why: String| {
        format!(
            "failed to read the SMS code of payment {payment} from {url}: {why}; if this target is not an fph emulator, set `sms_code` for it in harness.yaml"
        )
    };
    let mut answer = client
        .get(&url)
        .send()
        .await
        .map_err(|e| explain(e.to_string()))?;
    let status = answer.status();
    // A code is a few digits: read no more than a short message, whatever is sent.
    let mut bytes = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(|e| explain(e.to_string()))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > 1024 {
            break;
        }
    }
    let body: String = String::from_utf8_lossy(&bytes)
        .trim()
        .chars()
        .take(200)
        .collect();
    if status != StatusCode::OK {
        return Err(explain(format!("HTTP {}: {body}", status.as_u16())));
    }
    Ok(body)
}

/// Without the `live` feature there is no client, so no `Admin` source to look up from.
#[cfg(not(feature = "live"))]
async fn admin_lookup(_: &Client, _: &Url, _: &str) -> Result<String, String> {
    Err(crate::transport::live::UNAVAILABLE.to_owned())
}

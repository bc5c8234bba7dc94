//! The recorder: turns a case run live into a cassette. Recording is a live run whose
//! outcome is written afterwards, so a case that fails half-way never leaves half a
//! cassette, and the previous cassette stays untouched unless the new one is complete.
//!
//! Before anything is written, every request and answer is re-signed with the public replay
//! key and redacted values are replaced by placeholders: the merchant secret only ever
//! entered the MD5 sums, and those sums are replaced. A `pg_sig` a scenario set itself (to
//! test a bad signature) is not the harness's and is stored as sent.

use crate::gateway::SecretKey;
use crate::gateway::signature::{self, SIG_FIELD};
use crate::runner::CaseOutcome;

use super::cassette::{
    Cassette, FORMAT, Interaction, OrderedMap, RecordedRequest, RecordedResponse, resign_body,
};

/// What a cassette says about where and when it was recorded.
#[derive(Debug, Clone)]
pub struct RecordingInfo {
    pub target: String,
    pub scenario_digest: String,
    pub recorded_at: String,
}

/// The cassette for a case outcome: redacted with the values the run learned (the
/// outcome's redactor saw every request and answer), re-signed with `replay_key`.
pub fn cassette_for(
    outcome: &CaseOutcome,
    info: &RecordingInfo,
    replay_key: &SecretKey,
) -> Cassette {
    let redactor = &outcome.redactor;
    let mut interactions = Vec::new();
    for step in &outcome.steps {
        for attempt in &step.attempts {
            let Some(response) = &attempt.response else {
                continue;
            };
            let request = &attempt.request;
            let mut redacted = redactor.redact_fields(&request.fields);
            if request.signed_by_harness {
                let sig = signature::sign(&request.path, &redacted, replay_key);
                redacted.set(SIG_FIELD, sig.as_str());
            }
            let pairs = redacted.to_form_pairs();
            let body = resign_body(
                &redactor.redact_body(&response.body),
                &request.path,
                replay_key,
            );
            interactions.push(Interaction {
                step: request.step.clone(),
                attempt: request.attempt,
                request: RecordedRequest {
                    method: request.encoding.method().into(),
                    encoding: request.encoding,
                    path: request.path.clone(),
                    fields: OrderedMap(pairs),
                },
                response: RecordedResponse {
                    status: response.status,
                    content_type: response.content_type.clone(),
                    elapsed_ms: u64::try_from(response.elapsed.as_millis()).unwrap_or(u64::MAX),
                    body,
                },
            });
        }
    }
    Cassette {
        format: FORMAT,
        scenario: outcome.scenario.clone(),
        case: outcome.case.clone(),
        recorded_at: info.recorded_at.clone(),
        target: info.target.clone(),
        harness: env!("CARGO_PKG_VERSION").into(),
        scenario_digest: info.scenario_digest.clone(),
        bindings: OrderedMap(outcome.generated.clone()),
        interactions,
    }
}

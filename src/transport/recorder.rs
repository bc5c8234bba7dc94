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

use super::cassette::{
    Cassette, FORMAT, Interaction, OrderedMap, RecordedRequest, RecordedResponse, resign_body,
};
use super::redact::Redactor;
use super::{Direction, Request, Response};

/// What a cassette says about where and when it was recorded.
#[derive(Debug, Clone)]
pub struct RecordingInfo {
    pub target: String,
    pub scenario_digest: String,
    pub recorded_at: String,
}

/// What a live run of a case gives the recorder: every exchange that got an answer, in order,
/// the values it generated, and the redactor that saw every request and answer.
#[derive(Debug)]
pub struct Recording<'a> {
    pub scenario: &'a str,
    pub case: &'a str,
    pub exchanges: Vec<(&'a Request, &'a Response)>,
    pub generated: &'a [(String, String)],
    pub redactor: &'a Redactor,
}

/// The cassette for a recording: redacted with the values the run learned, re-signed with
/// `replay_key`.
pub fn cassette_for(
    recording: &Recording<'_>,
    info: &RecordingInfo,
    replay_key: &SecretKey,
) -> Cassette {
    let redactor = recording.redactor;
    let mut interactions = Vec::new();
    {
        for &(request, response) in &recording.exchanges {
            let mut redacted = redactor.redact_fields(&request.fields);
            // A callback the gateway signed with the merchant secret is kept the way the
            // harness's own requests are: re-signed with the replay key.
            let incoming = request.direction == Direction::Incoming && redacted.contains(SIG_FIELD);
            if request.signed_by_harness || incoming {
                let sig = signature::sign(&request.path, &redacted, replay_key);
                redacted.set(SIG_FIELD, sig.as_str());
            }
            let pairs = redacted.to_form_pairs();
            // The answer is the gateway's, re-signed; a reply to a callback is the
            // harness's, re-signed only when the harness signed it (not a scenario's own
            // wrong pg_sig).
            let body = redactor.redact_body(&response.body);
            let body = match request.direction {
                Direction::Incoming if !request.signed_by_harness => body,
                _ => resign_body(&body, &request.path, replay_key),
            };
            interactions.push(Interaction {
                step: request.step.clone(),
                attempt: request.attempt,
                direction: request.direction,
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
        scenario: recording.scenario.to_owned(),
        case: recording.case.to_owned(),
        recorded_at: info.recorded_at.clone(),
        target: info.target.clone(),
        harness: env!("CARGO_PKG_VERSION").into(),
        scenario_digest: info.scenario_digest.clone(),
        bindings: OrderedMap(recording.generated.to_vec()),
        interactions,
    }
}

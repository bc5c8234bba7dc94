//! The player: answers requests from a recorded cassette, never opening a connection.
//!
//! For each request it finds the interaction recorded for the same step and attempt, and
//! checks that the request is the recorded one: same path, same encoding, same fields (after
//! redaction),
//! and the same `pg_sig` when this harness signs the recorded fields with the replay key —
//! so a signing regression fails offline. The recorded answer's own signature is checked
//! with the replay key too (an edited cassette fails), then redacted values are restored
//! and the answer is re-signed, so the runner checks it exactly as it checks a live one.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::gateway::signature::{self, SIG_FIELD, Signable, Verification};
use crate::gateway::{Document, Fields, SecretKey};

use super::cassette::{Cassette, resign_body};
use super::redact::Redactor;
use super::{CallbackWait, Direction, Request, Response, Transport, TransportError};
use crate::scenario::Redaction;

/// Replays one case's cassette.
#[derive(Debug)]
pub struct Player {
    cassette: Cassette,
    path: PathBuf,
    replay_key: SecretKey,
    redactor: Mutex<Redactor>,
    /// Shown in "record it with …" hints.
    record_hint: String,
}

impl Player {
    pub fn new(
        cassette: Cassette,
        path: &Path,
        replay_key: SecretKey,
        rules: Vec<Redaction>,
        record_hint: impl Into<String>,
    ) -> Self {
        Player {
            cassette,
            path: path.to_owned(),
            replay_key,
            redactor: Mutex::new(Redactor::new(rules)),
            record_hint: record_hint.into(),
        }
    }

    fn replay(&self, request: &Request) -> Result<Response, String> {
        let interaction = self
            .cassette
            .interaction(&request.step, request.attempt)
            .ok_or_else(|| {
                format!(
                    "{} has no interaction for attempt {}; the scenario changed since it was recorded: {}",
                    self.path.display(),
                    request.attempt,
                    self.record_hint
                )
            })?;
        if interaction.direction == Direction::Incoming {
            return Err(format!(
                "{} recorded a callback for step `{}`, and the scenario now sends a call there: {}",
                self.path.display(),
                request.step,
                self.record_hint
            ));
        }
        let recorded = &interaction.request;
        let mut redactor = self.redactor.lock().unwrap_or_else(|e| e.into_inner());
        let pairs = request.fields.to_form_pairs();
        redactor.learn(&pairs);
        let now = redactor.redact_pairs(&pairs);

        let mut problems = Vec::new();
        if recorded.path != request.path {
            problems.push(format!(
                "  - path: {}\n  + path: {}",
                recorded.path, request.path
            ));
        }
        if recorded.encoding != request.encoding {
            problems.push(format!(
                "  - encoding: {}\n  + encoding: {}",
                recorded.encoding, request.encoding
            ));
        }
        // The harness's own pg_sig is checked below, over the recorded fields: with redaction
        // it is computed over other values now than the recorded one was.
        let differences = |skipped: &[&str]| {
            let compared = |name: &str| {
                let own_sig = request.signed_by_harness && name == SIG_FIELD;
                !(own_sig || skipped.contains(&name))
            };
            field_differences(
                recorded.fields.iter().filter(|(k, _)| compared(k)),
                now.iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .filter(|(k, _)| compared(k)),
            )
        };
        let mut differing = differences(&[]);
        if !differing.is_empty() {
            // A value recorded as sent that the rules now redact, or recorded redacted that
            // they now leave alone: the same value under other redaction rules. A report
            // masks both sides of a diff alike, so `- x / + x` would show nothing; it is said
            // in words. (Looked for only when something differs: replay's hot path.)
            let rules_changed: Vec<&str> = pairs
                .iter()
                .zip(&now)
                .filter(|((name, sent), (_, redacted))| {
                    recorded.fields.get(name).is_some_and(|was| {
                        let redacted_now = sent != redacted;
                        (redacted_now && was == sent)
                            || (!redacted_now && was != sent && super::redact::is_placeholder(was))
                    })
                })
                .map(|((name, _), _)| name.as_str())
                .collect();
            for name in &rules_changed {
                let (recorded_as, rules_now) = if recorded
                    .fields
                    .get(name)
                    .is_some_and(super::redact::is_placeholder)
                {
                    ("redacted", "leave it as sent")
                } else {
                    ("as sent", "redact it")
                };
                problems.push(format!(
                    "  {name}: the same value under other redaction rules (harness.yaml's `redact`): the recording has it {recorded_as}, the rules now {rules_now}"
                ));
            }
            if !rules_changed.is_empty() {
                differing = differences(&rules_changed);
            }
        }
        problems.extend(differing);
        if !problems.is_empty() {
            return Err(format!(
                "the request differs from the recording in {} (- recorded, + now):\n{}\n{}",
                self.path.display(),
                problems.join("\n"),
                self.record_hint
            ));
        }
        // The fields match; now the signature this harness computes over them must be the
        // one recorded (a pg_sig the scenario set itself was compared as a field above).
        let recorded_fields = Fields::from_form_pairs(recorded.fields.iter())
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        if let (true, Some(recorded_sig)) =
            (request.signed_by_harness, recorded.fields.get(SIG_FIELD))
        {
            let ours = signature::sign(&request.path, &recorded_fields, &self.replay_key);
            if ours.as_str() != recorded_sig {
                return Err(format!(
                    "the recorded pg_sig {recorded_sig} is not the one this harness computes ({ours}) for the recorded fields in {}: either the signing code changed or the cassette was edited; signed string: {}",
                    self.path.display(),
                    signature::explain(&request.path, &recorded_fields),
                ));
            }
        }

        let response = &interaction.response;
        let body = match Document::parse_response_str(&response.body) {
            Ok(document) => {
                let verification =
                    signature::verify(&request.path, &document.root, &self.replay_key);
                if let Verification::Mismatch { .. } = verification {
                    return Err(format!(
                        "the recorded answer's pg_sig does not match its fields in {} (was the cassette edited?); re-record it: {}",
                        self.path.display(),
                        self.record_hint
                    ));
                }
                let restored = redactor.restore_body(&response.body);
                // Re-signing a body that restoring left alone, whose valid pg_sig is written
                // the way re-signing writes it, gives back the same text: skip a second XML
                // parse and MD5 per answer.
                let unchanged = restored == response.body
                    && verification.is_valid()
                    && document
                        .root
                        .signed_text(SIG_FIELD)
                        .is_some_and(|sig| written_as_signed(&restored, sig));
                if unchanged {
                    restored
                } else {
                    resign_body(&restored, &request.path, &self.replay_key)
                }
            }
            // A recorded non-XML answer (an HTML error page, a truncated body) is replayed
            // as it was, so the runner reports it the way it did live.
            Err(_) => response.body.clone(),
        };
        Ok(Response {
            status: response.status,
            content_type: response.content_type.clone(),
            body,
            elapsed: Duration::from_millis(response.elapsed_ms),
        })
    }
}

impl Player {
    /// A `wait` step on replay: the recorded callback, its signature checked with the replay
    /// key as the recorder left it (an edited cassette fails), its redacted values restored;
    /// and the reply the scenario gives now, which must be the recorded one.
    fn replay_callback(&self, wait: &CallbackWait) -> Result<(Request, Response), String> {
        let interaction = self
            .cassette
            .interaction(&wait.step, wait.attempt)
            .ok_or_else(|| {
                format!(
                    "{} has no callback recorded for step `{}`; the scenario changed since it was recorded: {}",
                    self.path.display(),
                    wait.step,
                    self.record_hint
                )
            })?;
        let recorded = &interaction.request;
        let script = signature::script_name(&recorded.path);
        if interaction.direction != Direction::Incoming || script != wait.kind.name() {
            return Err(format!(
                "{} recorded {} for step `{}`, and the scenario now waits for a {} callback: {}",
                self.path.display(),
                match interaction.direction {
                    Direction::Incoming => format!("a {script} callback"),
                    Direction::Outgoing => format!("a call to {}", recorded.path),
                },
                wait.step,
                wait.kind.name(),
                self.record_hint
            ));
        }
        let fields = Fields::from_form_pairs(recorded.fields.iter())
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        if !signature::verify(script, &fields, &self.replay_key).is_valid() {
            return Err(format!(
                "the recorded callback's pg_sig does not match its fields in {} (was the cassette edited?); re-record it: {}",
                self.path.display(),
                self.record_hint
            ));
        }
        let redactor = self.redactor.lock().unwrap_or_else(|e| e.into_inner());
        let restored: Vec<(String, String)> = recorded
            .fields
            .iter()
            .map(|(k, v)| (k.to_owned(), redactor.restore_body(v)))
            .collect();
        let fields = Fields::from_form_pairs(restored)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        let answered = &interaction.response;
        let now = wait.reply.body(script, &self.replay_key);
        let now_recorded = match wait.reply.signed_by_harness() {
            true => resign_body(&redactor.redact_body(&now), script, &self.replay_key),
            false => redactor.redact_body(&now),
        };
        if answered.status != wait.reply.http_status() || answered.body != now_recorded {
            return Err(format!(
                "the reply to the callback differs from the recording in {} (- recorded, + now):\n  - HTTP {}: {}\n  + HTTP {}: {}\n{}",
                self.path.display(),
                answered.status,
                answered.body.trim(),
                wait.reply.http_status(),
                now_recorded.trim(),
                self.record_hint
            ));
        }
        // `recorded.path` is the script name, checked above to be the wait's.
        let request = wait.received(fields, recorded.encoding);
        let response = Response {
            status: answered.status,
            content_type: answered.content_type.clone(),
            body: now,
            elapsed: Duration::from_millis(answered.elapsed_ms),
        };
        Ok((request, response))
    }
}

/// True when the text [`resign_body`] replaces (between the first `<pg_sig>` and the first
/// `</pg_sig>`) is exactly `sig` in lowercase, as it writes signatures.
fn written_as_signed(body: &str, sig: &str) -> bool {
    let (Some(start), Some(end)) = (body.find("<pg_sig>"), body.find("</pg_sig>")) else {
        return false;
    };
    body.get(start + "<pg_sig>".len()..end) == Some(sig)
        && !sig.bytes().any(|b| b.is_ascii_uppercase())
}

/// `- name: recorded` / `+ name: now` lines for fields that differ, are missing or are new.
pub fn field_differences<'a>(
    recorded: impl Iterator<Item = (&'a str, &'a str)>,
    now: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let recorded: Vec<_> = recorded.collect();
    let now: Vec<_> = now.collect();
    let mut lines = Vec::new();
    for (name, old) in &recorded {
        match now.iter().find(|(n, _)| n == name) {
            Some((_, new)) if new == old => {}
            Some((_, new)) => lines.push(format!("  - {name}: {old:?}\n  + {name}: {new:?}")),
            None => lines.push(format!("  - {name}: {old:?}\n  + {name}: (not sent)")),
        }
    }
    for (name, new) in &now {
        if !recorded.iter().any(|(n, _)| n == name) {
            lines.push(format!("  - {name}: (not recorded)\n  + {name}: {new:?}"));
        }
    }
    lines
}

impl Transport for Player {
    async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        self.replay(request)
            .map_err(|reason| TransportError::Replay {
                step: request.step.clone(),
                reason,
            })
    }

    async fn receive(&self, wait: &CallbackWait) -> Result<(Request, Response), TransportError> {
        self.replay_callback(wait)
            .map_err(|reason| TransportError::Replay {
                step: wait.step.clone(),
                reason,
            })
    }
}

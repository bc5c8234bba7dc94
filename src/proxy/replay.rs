//! Matching requests to a recording, for the replaying gateway (`fph emulator --replay
//! CASSETTE`): the emulator checks each request's merchant and signature and signs what it
//! answers (`emulator/replay.rs`); [`Replay`] finds the recorded answer — the way WireMock or
//! Polly serve a recording to any client, in any language.
//!
//! A request matches an interaction on its route (path, trailing `/` ignored) and its decoded
//! fields, compared in wire form (`a[b][c]`) after redaction — so `pg_merchant_id` matches the
//! recorded `{{merchant_id}}` whatever the caller's merchant id — whatever the encoding. Left
//! out of the comparison:
//!
//! - `pg_salt` and `pg_sig`: the emulator checked the signature with the caller's own secret;
//! - values generated anew on every run: the [`DEFAULT_IGNORED`] fields, plus any the user
//!   lists (`--ignore-field`; a trailing `*` matches a prefix). What the caller sent for them
//!   replaces the recorded value wherever an answer element holds that value whole, so a
//!   status answer names the caller's own `pg_order_id`.
//!
//! Among the interactions a request matches, the first not served yet answers; once all have
//! been, the last repeats — so identical status polls get the recorded sequence of answers
//! (`process`, `process`, `success`), then `success` for ever. A request matching the first
//! recorded call after it was served starts the recording over (the next test of a suite
//! drives the checkout again); `POST /_emulator/reset` does too.
//!
//! Answers are the recorded bytes with redacted values restored (the emulator then gives a
//! signed one a fresh salt and the caller's signature). A recorded answer may be edited by hand
//! (to try a failure): it is signed anew all the same.
//!
//! A request that matches nothing gets the reason the log line shows: the closest recorded
//! request and every field that differs, with values as they stand in the cassette (redacted)
//! and no merchant secret in any form.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::emulator::{RecordedAnswer, ReplaySource};
use crate::gateway::Fields;
use crate::gateway::signature::SIG_FIELD;
use crate::scenario::Redaction;
use crate::secret_guard::SecretGuard;
use crate::transport::cassette::{Cassette, Interaction};
use crate::transport::redact::Redactor;

/// Request fields left out of matching unless `--strict`: values a client makes anew on every
/// run. `pg_order_id` is the merchant's own id for the order; `pg_user_ip` is where the payer
/// is; the callback and return URLs name the merchant's host, which differs between a
/// developer's machine and CI.
pub const DEFAULT_IGNORED: &[&str] = &[
    "pg_order_id",
    "pg_user_ip",
    "pg_check_url",
    "pg_result_url",
    "pg_success_url",
    "pg_failure_url",
    "pg_site_url",
    "pg_state_url",
];

/// Never compared: the emulator checks them against the caller's secret instead.
const SIGNING_FIELDS: [&str; 2] = ["pg_salt", SIG_FIELD];

/// `--replay` serves what `fph proxy` recorded: a cassette of another kind (record mode's,
/// one case of a scenario) is refused, naming the line that says whose it is. `text` is the
/// file's text, to find that line.
pub fn require_proxy_session(cassette: &Cassette, path: &Path, text: &str) -> Result<(), String> {
    if cassette.scenario == super::PROXY_SCENARIO {
        return Ok(());
    }
    let line = text
        .lines()
        .position(|l| l.starts_with("scenario:"))
        .map_or(1, |index| index + 1);
    Err(format!(
        "failed to read cassette {}:{line}:1: not a proxy session: it records case `{}` of \
         scenario `{}` (`scenario: {}`), and --replay serves only what `fph proxy` records \
         (`scenario: proxy`, in recordings/proxy/NAME.yaml); replay a scenario's cassette \
         with `fph run`, or record a proxy session with `fph proxy --session NAME`",
        path.display(),
        cassette.case,
        cassette.scenario,
        cassette.scenario,
    ))
}

/// What a replaying emulator serves, and how it matches requests.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub cassette: Cassette,
    /// Where the cassette was read from, for log lines.
    pub path: PathBuf,
    /// Field names (or `prefix*`) left out of matching besides `pg_salt` and `pg_sig`.
    pub ignore_fields: Vec<String>,
    /// The rules the cassette was redacted with (`harness.yaml`), to redact requests alike.
    pub redactions: Vec<Redaction>,
}

impl ReplayConfig {
    /// A configuration with the default ignore list.
    pub fn new(cassette: Cassette, path: PathBuf, redactions: Vec<Redaction>) -> Self {
        ReplayConfig {
            cassette,
            path,
            ignore_fields: DEFAULT_IGNORED.iter().map(|s| (*s).to_owned()).collect(),
            redactions,
        }
    }

    fn ignored(&self, name: &str) -> bool {
        SIGNING_FIELDS.contains(&name)
            || self
                .ignore_fields
                .iter()
                .any(|rule| match rule.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => rule == name,
                })
    }
}

/// A recording being replayed: what was served, and what was learned from the caller.
#[derive(Debug)]
pub struct Replay {
    config: ReplayConfig,
    /// The merchants' secrets (not the public demo key): never in a log line or a hint.
    guard: SecretGuard,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Per interaction: answered once already.
    served: Vec<bool>,
    /// Learns the caller's redacted values (merchant id, phones) to match and restore them.
    redactor: Redactor,
    /// (recorded value, the caller's value) of ignored fields, put into answers.
    substitutions: Vec<(String, String)>,
}

/// One field that differs between a recorded request and the one sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDifference {
    pub name: String,
    pub recorded: Option<String>,
    pub sent: Option<String>,
}

impl std::fmt::Display for FieldDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.recorded, &self.sent) {
            (Some(r), Some(s)) => write!(f, "{}: recorded {r:?}, sent {s:?}", self.name),
            (Some(r), None) => write!(f, "{}: recorded {r:?}, not sent", self.name),
            (None, Some(s)) => write!(f, "{}: not recorded, sent {s:?}", self.name),
            (None, None) => write!(f, "{}", self.name),
        }
    }
}

/// The fields that differ between two requests in wire form, ignoring what `ignored` says.
pub fn field_differences(
    recorded: &[(String, String)],
    sent: &[(String, String)],
    ignored: impl Fn(&str) -> bool,
) -> Vec<FieldDifference> {
    let mut out = Vec::new();
    for (name, value) in recorded.iter().filter(|(n, _)| !ignored(n)) {
        match sent.iter().find(|(n, _)| n == name) {
            Some((_, now)) if now == value => {}
            now => out.push(FieldDifference {
                name: name.clone(),
                recorded: Some(value.clone()),
                sent: now.map(|(_, v)| v.clone()),
            }),
        }
    }
    for (name, value) in sent.iter().filter(|(n, _)| !ignored(n)) {
        if !recorded.iter().any(|(n, _)| n == name) {
            out.push(FieldDifference {
                name: name.clone(),
                recorded: None,
                sent: Some(value.clone()),
            });
        }
    }
    out
}

fn same_route(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl Replay {
    /// `guard` holds the secrets no reason may show (the merchants' keys).
    pub fn new(config: ReplayConfig, guard: SecretGuard) -> Self {
        let state = State {
            served: vec![false; config.cassette.interactions.len()],
            redactor: Redactor::new(config.redactions.clone()),
            substitutions: Vec::new(),
        };
        Replay {
            config,
            guard,
            state: Mutex::new(state),
        }
    }

    /// The recorded answer a request matches, restored, or why there is none.
    fn find(&self, path: &str, pairs: &[(String, String)]) -> Result<RecordedAnswer, String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.redactor.learn(pairs);
        let sent = state.redactor.redact_pairs(pairs);
        let interactions = &self.config.cassette.interactions;
        let ignored = |name: &str| self.config.ignored(name);
        let matching: Vec<usize> = interactions
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                same_route(&i.request.path, path)
                    && field_differences(&i.request.fields.0, &sent, ignored).is_empty()
            })
            .map(|(index, _)| index)
            .collect();
        // The first recorded call again, once served: the client starts over (the next test
        // of a suite), and so does the recording.
        if matching.first() == Some(&0) && state.served[0] {
            state.served.fill(false);
            state.substitutions.clear();
        }
        let Some(&chosen) = matching
            .iter()
            .find(|&&index| !state.served[index])
            .or(matching.last())
        else {
            return Err(self.no_match(path, &sent));
        };
        state.served[chosen] = true;
        let interaction = &interactions[chosen];
        // The caller's values of ignored fields stand in for the recorded ones in answers.
        for (name, recorded) in interaction.request.fields.iter() {
            if SIGNING_FIELDS.contains(&name) || !ignored(name) {
                continue;
            }
            if let Some((_, now)) = sent.iter().find(|(n, _)| n == name)
                && now != recorded
                && !recorded.is_empty()
            {
                state.substitutions.retain(|(r, _)| r != recorded);
                state.substitutions.push((recorded.to_owned(), now.clone()));
            }
        }
        let body = self.answer_body(&state, interaction);
        let response = &interaction.response;
        Ok(RecordedAnswer {
            status: response.status,
            content_type: response.content_type.clone(),
            body,
            label: format!("#{} ({})", chosen + 1, interaction.step),
        })
    }

    /// The recorded answer with redacted values restored and the caller's values of ignored
    /// fields in place of the recorded ones.
    fn answer_body(&self, state: &State, interaction: &Interaction) -> String {
        let mut body = state.redactor.restore_body(&interaction.response.body);
        for (recorded, now) in &state.substitutions {
            body = body.replace(
                &format!(">{}<", xml_escape(recorded)),
                &format!(">{}<", xml_escape(now)),
            );
        }
        body
    }

    /// The log line for a request no interaction matches: the closest one and how it differs.
    fn no_match(&self, path: &str, sent: &[(String, String)]) -> String {
        let interactions = &self.config.cassette.interactions;
        let ignored = |name: &str| self.config.ignored(name);
        let closest = interactions
            .iter()
            .enumerate()
            .map(|(index, i)| {
                let differences = field_differences(&i.request.fields.0, sent, ignored);
                let route = !same_route(&i.request.path, path);
                (index, route, differences)
            })
            .min_by_key(|(_, route, differences)| (*route, differences.len()));
        let text = match closest {
            None => format!(
                "no recorded request matches {path}: {} records no interactions",
                self.config.path.display()
            ),
            Some((index, route, differences)) => {
                let i = &interactions[index];
                let mut parts: Vec<String> = Vec::new();
                if route {
                    parts.push(format!("path: recorded {}, sent {path}", i.request.path));
                }
                parts.extend(differences.iter().map(ToString::to_string));
                format!(
                    "no recorded request matches {path}; the closest is #{} (step `{}`, {} {}) in {}, which differs in {}",
                    index + 1,
                    i.step,
                    i.request.method,
                    i.request.path,
                    self.config.path.display(),
                    parts.join("; ")
                )
            }
        };
        self.guard.scrub(&text).into_owned()
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl ReplaySource for Replay {
    fn answer(&self, path: &str, fields: &Fields) -> Result<RecordedAnswer, String> {
        self.find(path, &fields.to_form_pairs())
    }

    fn reset(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.served.fill(false);
        state.redactor = Redactor::new(self.config.redactions.clone());
        state.substitutions.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A proxy session with nothing recorded yet.
    fn session() -> crate::transport::cassette::Cassette {
        crate::transport::cassette::Cassette {
            format: 1,
            scenario: "proxy".into(),
            case: "c".into(),
            recorded_at: "2026-11-23T10:00:00Z".into(),
            target: "emulator".into(),
            harness: "0".into(),
            scenario_digest: String::new(),
            bindings: Default::default(),
            interactions: Vec::new(),
        }
    }

    #[test]
    fn differences_name_each_field_and_skip_ignored_ones() {
        let config = ReplayConfig::new(session(), PathBuf::from("c.yaml"), Vec::new());
        let recorded = pairs(&[
            ("pg_amount", "10"),
            ("pg_order_id", "a"),
            ("pg_salt", "x"),
            ("pg_gone", "1"),
        ]);
        let sent = pairs(&[
            ("pg_amount", "11"),
            ("pg_order_id", "b"),
            ("pg_salt", "y"),
            ("pg_new", "2"),
        ]);
        let found: Vec<String> = field_differences(&recorded, &sent, |n| config.ignored(n))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "pg_amount: recorded \"10\", sent \"11\"",
                "pg_gone: recorded \"1\", not sent",
                "pg_new: not recorded, sent \"2\"",
            ]
        );
        let mut prefixed = config.clone();
        prefixed.ignore_fields = vec!["pg_receipt*".into()];
        assert!(prefixed.ignored("pg_receipt_positions[0][name]"));
        assert!(!prefixed.ignored("pg_order_id"));
        assert!(prefixed.ignored("pg_sig"));
    }

    use crate::emulator::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig};
    use crate::gateway::signature::{fresh_salt, sign, verify};
    use crate::gateway::{Document, SecretKey};
    use crate::transport::cassette::{OrderedMap, RecordedRequest, RecordedResponse};

    fn interaction(
        step: &str,
        attempt: u32,
        path: &str,
        fields: &[(&str, &str)],
        state: &str,
    ) -> Interaction {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response>\n  <pg_status>ok</pg_status>\n  <pg_payment_status>{state}</pg_payment_status>\n  <pg_salt>recorded</pg_salt>\n  <pg_sig>0</pg_sig>\n</response>\n"
        );
        let mut pairs: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        pairs.push(("pg_merchant_id".into(), "{{merchant_id}}".into()));
        Interaction {
            step: step.into(),
            attempt,
            direction: Default::default(),
            request: RecordedRequest {
                method: "POST".into(),
                encoding: crate::gateway::Encoding::Urlencoded,
                path: path.into(),
                fields: OrderedMap(pairs),
            },
            response: RecordedResponse {
                status: 200,
                content_type: Some("text/xml; charset=UTF-8".into()),
                elapsed_ms: 1,
                body,
            },
        }
    }

    /// Sends a signed urlencoded request; returns the answer's pg_payment_status, or its
    /// error code.
    async fn call(
        client: &reqwest::Client,
        base: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> String {
        let mut message: Fields = fields.iter().copied().collect();
        message.push("pg_merchant_id", DEMO_MERCHANT_ID);
        message.push("pg_salt", fresh_salt());
        let key = SecretKey::new(DEMO_SECRET_KEY);
        let sig = sign(path, &message, &key);
        message.push("pg_sig", sig.as_str());
        let body = crate::gateway::encoding::urlencoded(&message);
        let answer = client
            .post(format!("{base}{}", path.trim_start_matches('/')))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let document = Document::parse_response_str(&answer).unwrap();
        if document.root.child(SIG_FIELD).is_some() {
            assert!(verify(path, &document.root, &key).is_valid(), "{answer}");
            assert!(!answer.contains("<pg_salt>recorded</pg_salt>"), "{answer}");
        }
        document
            .text("pg_payment_status")
            .or(document.text("pg_error_code"))
            .unwrap_or_default()
            .to_owned()
    }

    #[tokio::test]
    async fn polls_replay_in_recorded_order_then_the_last_repeats_and_the_first_call_starts_over() {
        let mut cassette = session();
        let init = [("pg_amount", "10"), ("pg_order_id", "o-1")];
        let status = [("pg_payment_id", "5")];
        cassette
            .interactions
            .push(interaction("init", 1, "/init_payment.php", &init, "new"));
        for (attempt, state) in [(1, "process"), (2, "process"), (3, "success")] {
            cassette.interactions.push(interaction(
                "status",
                attempt,
                "/get_status3.php",
                &status,
                state,
            ));
        }
        let emulator = Emulator::start(EmulatorConfig {
            replay: Some(std::sync::Arc::new(Replay::new(
                ReplayConfig::new(
                    cassette,
                    PathBuf::from("c.yaml"),
                    crate::scenario::HarnessConfig::default().redactions,
                ),
                SecretGuard::default(),
            ))),
            ..EmulatorConfig::default()
        })
        .unwrap();
        let base = emulator.base_url().to_string();
        let client =
            crate::transport::live::client(&crate::transport::live::LiveOptions::default())
                .unwrap();
        let mut seen = Vec::new();
        for round in 0..2 {
            // Another order id each round: ignored by default.
            let order = format!("o-{round}");
            seen.push(
                call(
                    &client,
                    &base,
                    "/init_payment.php",
                    &[("pg_amount", "10"), ("pg_order_id", &order)],
                )
                .await,
            );
            for _ in 0..4 {
                seen.push(call(&client, &base, "/get_status3.php", &status).await);
            }
        }
        assert_eq!(
            seen,
            [
                "new", "process", "process", "success", "success", "new", "process", "process",
                "success", "success"
            ]
        );
        assert_eq!(
            call(
                &client,
                &base,
                "/get_status3.php",
                &[("pg_payment_id", "6")]
            )
            .await,
            "8050"
        );
        assert_eq!(
            call(&client, &base, "/init_payment.php", &[("pg_amount", "11")]).await,
            "8050"
        );
    }
}

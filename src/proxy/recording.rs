//! A proxy session's cassette: every exchange the proxy forwards, in arrival order, in the
//! cassette format of record mode (`recordings/proxy/<session>.yaml`, `scenario: proxy`,
//! `case: <session>`).
//!
//! Each exchange is saved as record mode saves a step: request fields decoded (in wire form,
//! with the encoding they came in), values redacted by the `harness.yaml` rules
//! (`pg_merchant_id` always), the request's `pg_sig` and the answer's re-signed with the public
//! replay key — the merchant's secret only ever checks the caller's signature and leaves — and
//! the whole text passed through the [`SecretGuard`] before it is written.
//!
//! Interactions are keyed like a scenario's steps: by the call (`init`, `pay`, `status`, or the
//! path of another script), numbered when a call comes again (`status_2`); a request identical
//! to the one before it (`pg_salt` and `pg_sig` aside) is the next attempt of the same step —
//! status polling.
//!
//! The first exchange writes the cassette atomically (replacing an older session of the same
//! name); later ones are appended to it as list items by [`Recording::flush`], one write for
//! all that came since the last, so recording costs the same at the thousandth call as at the
//! first and a busy caller costs one write per batch, not per call. The proxy's recorder
//! flushes whenever it has nothing more queued, so a session stopped at any moment keeps
//! everything recorded up to then. The interactions are not kept in memory.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::gateway::signature::{self, SIG_FIELD};
use crate::gateway::{Encoding, Fields, Operation, Routes, SecretKey};
use crate::scenario::Redaction;
use crate::secret_guard::SecretGuard;
use crate::transport::cassette::{
    self, Cassette, CassetteError, FORMAT, Interaction, OrderedMap, RecordedRequest,
    RecordedResponse, resign_body,
};
use crate::transport::redact::Redactor;

/// The `scenario:` of every proxy cassette, and the directory below `recordings/`.
pub const PROXY_SCENARIO: &str = "proxy";

/// One request the proxy forwarded and the answer it returned.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub path: String,
    pub encoding: Encoding,
    pub fields: Fields,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    pub elapsed: Duration,
}

/// Everything a session needs to know to save exchanges safely.
#[derive(Debug, Clone)]
pub struct RecordingOptions {
    /// The session's name: the cassette's file stem.
    pub session: String,
    /// `recordings/`: the cassette goes to `<recordings>/proxy/<session>.yaml`.
    pub recordings: PathBuf,
    /// The target's name as cassettes show it (no userinfo).
    pub target: String,
    pub routes: Routes,
    pub redactions: Vec<Redaction>,
    /// The public key cassettes are signed with.
    pub replay_key: SecretKey,
    /// The merchant's secret: only to tell the caller's valid signatures from others.
    pub secret: SecretKey,
    /// The secrets that must not be written.
    pub guard: SecretGuard,
}

/// A session being recorded.
#[derive(Debug)]
pub struct Recording {
    options: RecordingOptions,
    path: PathBuf,
    /// The cassette's header: what the file starts with (no interactions).
    cassette: Cassette,
    redactor: Redactor,
    /// The redacted wire pairs of the last request, `pg_salt` and `pg_sig` left out.
    last_request: Option<(String, Vec<(String, String)>)>,
    /// The last interaction's step and attempt.
    last_key: Option<(String, u32)>,
    /// Every step name given so far.
    steps: HashSet<String>,
    /// Interactions recorded (written, or waiting in `unwritten`).
    recorded: usize,
    /// List items recorded since the last write, to be appended by [`Recording::flush`].
    unwritten: String,
}

/// Where the list of interactions starts in a cassette's text: the last key of the file.
const ITEMS: &str = "\ninteractions:\n";

/// Where a session's cassette lives.
pub fn cassette_path(recordings: &Path, session: &str) -> PathBuf {
    Cassette::path_for(recordings, PROXY_SCENARIO, session)
}

/// The call name an interaction's step is named after: `init`, `pay`, …, or the path.
pub fn call_name(routes: &Routes, path: &str) -> String {
    match routes.operation_at(path) {
        Some(op) => op.name().to_owned(),
        None if path.trim_end_matches('/') == "/get_status.php" => {
            Operation::Status.name().to_owned()
        }
        None => path.to_owned(),
    }
}

impl Recording {
    pub fn new(options: RecordingOptions, recorded_at: String) -> Recording {
        let path = cassette_path(&options.recordings, &options.session);
        let cassette = Cassette {
            format: FORMAT,
            scenario: PROXY_SCENARIO.into(),
            case: options.session.clone(),
            recorded_at,
            target: options.target.clone(),
            harness: env!("CARGO_PKG_VERSION").into(),
            // No scenario made these requests: `fph scenario from-recording` writes one.
            scenario_digest: String::new(),
            bindings: OrderedMap::default(),
            interactions: Vec::new(),
        };
        Recording {
            redactor: Redactor::new(options.redactions.clone()),
            options,
            path,
            cassette,
            last_request: None,
            last_key: None,
            steps: HashSet::new(),
            recorded: 0,
            unwritten: String::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many exchanges were recorded so far.
    #[cfg(test)]
    pub fn recorded(&self) -> usize {
        self.recorded
    }

    /// Adds an exchange to the cassette; returns the step and attempt it got. A
    /// secret the guard found is replaced in what is written (and it reports it).
    pub fn record(&mut self, exchange: &Exchange) -> Result<(String, u32), CassetteError> {
        let pairs = exchange.fields.to_form_pairs();
        self.redactor.learn(&pairs);
        self.redactor.learn_body(&exchange.body);
        let mut redacted = self.redactor.redact_fields(&exchange.fields);

        // The caller signed with the merchant's secret (status possibly with its legacy
        // script name): that signature is re-made with the replay key. A signature that is
        // not the merchant's (a deliberate bad one) is kept as sent, as record mode does.
        let script = signature::script_name(&exchange.path).to_owned();
        let signed_as = std::iter::once(script.as_str())
            .chain(
                ["get_status3.php", "get_status.php"]
                    .into_iter()
                    .filter(|_| {
                        call_name(&self.options.routes, &exchange.path) == Operation::Status.name()
                    }),
            )
            .find(|s| signature::verify(s, &exchange.fields, &self.options.secret).is_valid())
            .map(str::to_owned);
        if let Some(signed_as) = &signed_as {
            let sig = signature::sign(signed_as, &redacted, &self.options.replay_key);
            redacted.set(SIG_FIELD, sig.as_str());
        }
        let recorded_pairs = redacted.to_form_pairs();
        let body = resign_body(
            &self.redactor.redact_body(&exchange.body),
            signed_as.as_deref().unwrap_or(&script),
            &self.options.replay_key,
        );

        let compared: Vec<(String, String)> = recorded_pairs
            .iter()
            .filter(|(n, _)| n != SIG_FIELD && n != "pg_salt")
            .cloned()
            .collect();
        let repeat = self.last_request.as_ref().is_some_and(|(path, last)| {
            path.trim_end_matches('/') == exchange.path.trim_end_matches('/') && *last == compared
        });
        let (step, attempt) = match (repeat, &self.last_key) {
            (true, Some((step, attempt))) => (step.clone(), attempt + 1),
            _ => (self.fresh_step(&exchange.path), 1),
        };
        self.last_request = Some((exchange.path.clone(), compared));
        let interaction = Interaction {
            step: step.clone(),
            attempt,
            direction: Default::default(),
            request: RecordedRequest {
                method: exchange.encoding.method().into(),
                encoding: exchange.encoding,
                path: exchange.path.clone(),
                fields: OrderedMap(recorded_pairs),
            },
            response: RecordedResponse {
                status: exchange.status,
                content_type: exchange.content_type.clone(),
                elapsed_ms: u64::try_from(exchange.elapsed.as_millis()).unwrap_or(u64::MAX),
                body,
            },
        };
        self.save(interaction)?;
        self.steps.insert(step.clone());
        self.last_key = Some((step.clone(), attempt));
        self.recorded += 1;
        Ok((step, attempt))
    }

    /// `pay`, or `pay_2`, `pay_3` … when the call came before.
    fn fresh_step(&self, path: &str) -> String {
        let name = call_name(&self.options.routes, path);
        let taken = |candidate: &str| self.steps.contains(candidate);
        if !taken(&name) {
            return name;
        }
        (2..)
            .map(|n| format!("{name}_{n}"))
            .find(|candidate| !taken(candidate))
            .expect("an unused number")
    }

    /// Saves one interaction, scrubbed by the guard: the first written with the header,
    /// atomically; any later one kept as the list's next item for [`Recording::flush`]. The
    /// item's text is cut from the whole cassette's serialization, so the file is what saving
    /// the whole would write.
    fn save(&mut self, interaction: Interaction) -> Result<(), CassetteError> {
        let write_error = |reason: String| CassetteError::Write {
            path: self.path.clone(),
            reason,
        };
        self.cassette.interactions = vec![interaction];
        let text = self.cassette.to_yaml();
        self.cassette.interactions.clear();
        let text = text.map_err(write_error)?;
        let text = self.options.guard.scrub(&text);
        if self.recorded == 0 {
            return cassette::write_atomically(&self.path, text.as_bytes())
                .map_err(|e| write_error(e.to_string()));
        }
        let item = text
            .split_once(ITEMS)
            .map(|(_, item)| item)
            .ok_or_else(|| {
                write_error("the interaction did not serialize as a list item".into())
            })?;
        self.unwritten.push_str(item);
        Ok(())
    }

    /// Appends the interactions recorded since the last flush to the file, in one write.
    pub fn flush(&mut self) -> Result<(), CassetteError> {
        if self.unwritten.is_empty() {
            return Ok(());
        }
        let written = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .and_then(|mut file| file.write_all(self.unwritten.as_bytes()));
        self.unwritten.clear();
        written.map_err(|e| CassetteError::Write {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path, guard: SecretGuard) -> RecordingOptions {
        RecordingOptions {
            session: "checkout".into(),
            recordings: dir.to_owned(),
            target: "emulator".into(),
            routes: Routes::default(),
            redactions: crate::scenario::HarnessConfig::default().redactions,
            replay_key: SecretKey::new("fph-replay-key"),
            secret: SecretKey::new("merchant-secret"),
            guard,
        }
    }

    fn signed(path: &str, pairs: &[(&str, &str)], salt: &str, key: &str) -> Fields {
        let mut fields: Fields = pairs.iter().copied().collect();
        fields.push("pg_salt", salt);
        let sig = signature::sign(path, &fields, &SecretKey::new(key));
        fields.push("pg_sig", sig.as_str());
        fields
    }

    fn exchange(path: &str, fields: Fields, body: &str) -> Exchange {
        Exchange {
            path: path.into(),
            encoding: Encoding::Urlencoded,
            fields,
            status: 200,
            content_type: Some("text/xml; charset=UTF-8".into()),
            body: body.into(),
            elapsed: Duration::from_millis(2),
        }
    }

    #[test]
    fn exchanges_are_redacted_re_signed_and_keyed_in_arrival_order() {
        let dir = tempfile::tempdir().unwrap();
        let guard = SecretGuard::new([("the merchant secret key", "merchant-secret")]);
        let mut recording = Recording::new(
            options(dir.path(), guard.clone()),
            "2026-11-23T10:00:00Z".into(),
        );
        let status = |salt: &str| {
            signed(
                "/get_status3.php",
                &[("pg_merchant_id", "552170"), ("pg_payment_id", "7")],
                salt,
                "merchant-secret",
            )
        };
        let answer = |state: &str| {
            let mut f: Fields = [("pg_status", "ok"), ("pg_payment_status", state)]
                .into_iter()
                .collect();
            f.push("pg_salt", "s");
            let sig = signature::sign("get_status3.php", &f, &SecretKey::new("merchant-secret"));
            f.push("pg_sig", sig.as_str());
            crate::gateway::xml::pretty_fields("response", &f)
        };
        let keys: Vec<(String, u32)> = [("a", "process"), ("b", "process"), ("c", "success")]
            .iter()
            .map(|(salt, state)| {
                recording
                    .record(&exchange("/get_status3.php", status(salt), &answer(state)))
                    .unwrap()
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("status".to_owned(), 1),
                ("status".to_owned(), 2),
                ("status".to_owned(), 3)
            ]
        );
        // Another call with a bad signature of its own: kept as sent, a new step.
        let mut bad = status("d");
        bad.set("pg_sig", "0123");
        bad.set("pg_payment_id", "8");
        assert_eq!(
            recording
                .record(&exchange("/get_status3.php", bad, "<response/>"))
                .unwrap(),
            ("status_2".to_owned(), 1)
        );

        recording.flush().unwrap();
        let text = std::fs::read_to_string(recording.path()).unwrap();
        assert!(
            text.contains("pg_merchant_id: \"{{merchant_id}}\""),
            "{text}"
        );
        assert!(!text.contains("552170"), "{text}");
        assert!(text.contains("pg_sig: \"0123\""), "{text}");
        let cassette = Cassette::parse(&text, recording.path()).unwrap();
        let replay_key = SecretKey::new("fph-replay-key");
        let first = &cassette.interactions[0];
        let fields = Fields::from_form_pairs(first.request.fields.iter()).unwrap();
        assert!(signature::verify("get_status3.php", &fields, &replay_key).is_valid());
        let document = crate::gateway::Document::parse_response_str(&first.response.body).unwrap();
        assert!(signature::verify("get_status3.php", &document.root, &replay_key).is_valid());
        assert_eq!(recording.recorded(), 4);
        // Appended item by item, the file is what saving the whole cassette writes.
        assert_eq!(cassette.interactions.len(), 4);
        assert_eq!(cassette.to_yaml().unwrap(), text);
    }

    #[test]
    fn secret_never_reaches_the_proxy_cassette() {
        let dir = tempfile::tempdir().unwrap();
        let guard = SecretGuard::new([("the merchant secret key", "merchant-secret")]);
        let mut recording = Recording::new(
            options(dir.path(), guard.clone()),
            "2026-11-23T10:00:00Z".into(),
        );
        let fields = signed(
            "/mfs/pay",
            &[
                ("pg_merchant_id", "1"),
                ("pg_description", "merchant-secret"),
            ],
            "s",
            "merchant-secret",
        );
        recording
            .record(&exchange(
                "/mfs/pay",
                fields,
                "<response><d>merchant%2Dsecret</d></response>",
            ))
            .unwrap();
        recording.flush().unwrap();
        let text = std::fs::read_to_string(recording.path()).unwrap();
        assert!(!text.contains("merchant-secret"), "{text}");
        assert!(!text.contains("merchant%2Dsecret"), "{text}");
        assert!(!guard.findings().is_empty());
    }
}

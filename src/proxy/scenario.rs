//! A scenario from a recording (`fph scenario from-recording CASSETTE`): the recorded calls
//! as steps, so a session clicked through once becomes a test that runs against the replaying
//! gateway (`fph emulator --replay`), and can be recorded and replayed offline like any other.
//!
//! What it writes, per recorded call:
//!
//! - `call:` the call's name when its path is the configured route (`init` only when the
//!   recording sent `pg_payment_method` and `pg_testing_mode`, which the runner would otherwise
//!   add; else `{ path: … }`, sent exactly as written);
//! - `form:` the recorded fields, without what the runner adds itself (`pg_merchant_id`,
//!   `pg_salt`, and `pg_sig` when the recording's was a valid one); a value an earlier answer
//!   gave in an `…_id` element becomes that answer's capture (`{{ payment_id }}`), an order id
//!   sent once becomes `{{ order_id() }}`, a redacted value becomes a variable (see
//!   [`stand_in`] for its value);
//! - `expect:` the answer's `pg_status`, `pg_error_code` for an error, and the
//!   `pg_payment_status` of a status asked once;
//! - `capture:` the `…_id` values later requests reuse;
//! - `poll:` for repeated status requests, until the last recorded `pg_payment_status`.
//!
//! The text is built by hand (every value double-quoted, JSON-escaped, which YAML reads the
//! same) so that it reads like a scenario written by a person, comments included.

use std::fmt::Write as _;

use crate::gateway::signature::{self, SIG_FIELD};
use crate::gateway::{Document, Encoding, Fields, Operation, Routes, SecretKey};
use crate::scenario::{Redaction, RedactionRule};
use crate::template::BUILTIN_VARIABLES;
use crate::transport::cassette::{Cassette, Interaction};

/// Fields the runner adds to every request.
const ADDED_BY_RUNNER: [&str; 2] = ["pg_merchant_id", "pg_salt"];

/// One step of the scenario: a recorded call and its repeats (status polling).
struct Step<'a> {
    id: String,
    attempts: Vec<&'a Interaction>,
}

/// A value an answer gave and the variable it was captured into.
struct Capture {
    variable: String,
    value: String,
}

/// The scenario YAML for a recording; `source` names the cassette in the header comment.
pub fn scenario_from_recording(
    cassette: &Cassette,
    source: &str,
    routes: &Routes,
    replay_key: &SecretKey,
    redactions: &[Redaction],
) -> Result<String, String> {
    if cassette.interactions.is_empty() {
        return Err(format!(
            "{source} records no interactions: drive the checkout through `fph proxy` first"
        ));
    }
    let steps = steps_of(cassette, routes);
    let encodings: Vec<Encoding> = cassette
        .interactions
        .iter()
        .map(|i| i.request.encoding)
        .collect();
    let shared_encoding = encodings
        .iter()
        .all(|e| *e == encodings[0])
        .then_some(encodings[0]);

    // Which answer values later requests reuse: captured, by the first answer giving them.
    let mut captures: Vec<(usize, String, Capture)> = Vec::new(); // (step, element, capture)
    for (index, step) in steps.iter().enumerate() {
        let Some(last) = step.attempts.last() else {
            continue;
        };
        let Ok(document) = Document::parse_response_str(&last.response.body) else {
            continue;
        };
        for (name, value) in document.to_fields().to_form_pairs() {
            if !name.ends_with("_id") || value.is_empty() || name.contains('[') {
                continue;
            }
            if captures.iter().any(|(_, _, c)| c.value == value) {
                continue;
            }
            let reused = steps[index + 1..].iter().any(|later| {
                later.attempts[0]
                    .request
                    .fields
                    .iter()
                    .any(|(n, v)| v == value && !ADDED_BY_RUNNER.contains(&n))
            });
            if reused {
                let base = name.trim_start_matches("pg_").to_owned();
                let variable = unique(&base, |candidate| {
                    BUILTIN_VARIABLES.contains(&candidate)
                        || captures.iter().any(|(_, _, c)| c.variable == candidate)
                });
                captures.push((index, name, Capture { variable, value }));
            }
        }
    }

    let order_ids: Vec<&str> = cassette
        .interactions
        .iter()
        .filter_map(|i| i.request.fields.get("pg_order_id"))
        .collect();
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut out = String::new();
    let mut body = String::new();

    for (index, step) in steps.iter().enumerate() {
        let first = step.attempts[0];
        let request = &first.request;
        let _ = writeln!(body, "  - id: {}", step.id);
        let op = routes.operation_at(&request.path);
        let fields = Fields::from_form_pairs(request.fields.iter()).unwrap_or_default();
        let runner_adds_to_init = |name: &str| !fields.contains(name);
        let named = match &op {
            Some(Operation::Init) => {
                !runner_adds_to_init("pg_payment_method") && !runner_adds_to_init("pg_testing_mode")
            }
            Some(_) => true,
            None => false,
        };
        match (&op, named) {
            (Some(op), true) => {
                let _ = writeln!(body, "    call: {}", op.name());
            }
            _ => {
                let _ = writeln!(body, "    call: {{ path: {} }}", quote(&request.path));
            }
        }
        if shared_encoding.is_none() {
            let _ = writeln!(body, "    encoding: {}", request.encoding);
        }
        // The recorded pg_sig is the replay key's when the caller signed properly; any other
        // is the caller's own (a deliberate bad signature) and is sent as written.
        let own_signature = request.fields.get(SIG_FIELD).is_some_and(|sig| {
            let script = signature::script_name(&request.path);
            ["get_status3.php", "get_status.php", script]
                .into_iter()
                .filter(|s| *s == script || op == Some(Operation::Status))
                .all(|s| {
                    signature::sign(s, &fields, replay_key).as_str() != sig.to_ascii_lowercase()
                })
        });
        let mut form: Vec<(String, String)> = Vec::new();
        for (name, value) in request.fields.iter() {
            if ADDED_BY_RUNNER.contains(&name) || (name == SIG_FIELD && !own_signature) {
                continue;
            }
            let template = if let Some((_, _, capture)) = captures
                .iter()
                .find(|(from, _, c)| *from < index && c.value == value)
            {
                format!("{{{{ {} }}}}", capture.variable)
            } else if name == "pg_order_id"
                && order_ids.iter().filter(|v| **v == value).count() == 1
            {
                "{{ order_id() }}".to_owned()
            } else if let Some(placeholder) = placeholder_name(value) {
                // `{{merchant_id}}` is the run's own merchant id, a built-in variable.
                if !BUILTIN_VARIABLES.contains(&placeholder)
                    && !vars.iter().any(|(n, _)| n == placeholder)
                {
                    let value = stand_in(placeholder, redactions, &vars);
                    vars.push((placeholder.to_owned(), value));
                }
                format!("{{{{ {placeholder} }}}}")
            } else {
                literal(value)
            };
            form.push((name.to_owned(), template));
        }
        if !form.is_empty() {
            let _ = writeln!(body, "    form:");
            for (name, template) in &form {
                let _ = writeln!(body, "      {}: {}", key(name), quote(template));
            }
        }
        let last = step.attempts.last().expect("a step has an attempt");
        let answer = Document::parse_response_str(&last.response.body).ok();
        let text = |name: &str| {
            answer
                .as_ref()
                .and_then(|d| d.text(name))
                .map(str::to_owned)
        };
        if step.attempts.len() > 1 {
            let (field, value) = match text("pg_payment_status") {
                Some(state) => ("pg_payment_status", state),
                None => ("pg_status", text("pg_status").unwrap_or_default()),
            };
            let _ = writeln!(
                body,
                "    poll: {{ until: {{ {field}: {} }}, attempts: {}, interval: 250ms }}",
                quote(&value),
                step.attempts.len().max(10)
            );
        }
        let mut expect: Vec<(&str, String)> = Vec::new();
        if let Some(status) = text("pg_status") {
            expect.push(("pg_status", status.clone()));
            if status == "error"
                && let Some(code) = text("pg_error_code")
            {
                expect.push(("pg_error_code", code));
            }
        }
        // A status asked once: the state it gave (a polled one waits for it instead).
        if step.attempts.len() == 1
            && let Some(state) = text("pg_payment_status")
        {
            expect.push(("pg_payment_status", state));
        }
        if !expect.is_empty() {
            let shown: Vec<String> = expect
                .iter()
                .map(|(n, v)| format!("{n}: {}", quote(v)))
                .collect();
            let _ = writeln!(body, "    expect: {{ {} }}", shown.join(", "));
        }
        let mine: Vec<String> = captures
            .iter()
            .filter(|(from, _, _)| *from == index)
            .map(|(_, element, c)| format!("{}: {element}", c.variable))
            .collect();
        if !mine.is_empty() {
            let _ = writeln!(body, "    capture: {{ {} }}", mine.join(", "));
        }
    }

    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=.schema/scenario.json\n\
         # Written by `fph scenario from-recording {source}`: the calls of {},\n\
         # recorded against {} at {}. Run it against the recording with\n\
         #   fph emulator --replay {source} --port 8082 &\n\
         #   fph run --mode live --target http://127.0.0.1:8082 scenarios/{}.yaml",
        recording_name(cassette),
        cassette.target,
        cassette.recorded_at,
        cassette.case
    );
    let name = recording_name(cassette);
    let mut chars = name.chars();
    let name: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    let _ = writeln!(out, "name: {}", quote(&name));
    let _ = writeln!(out, "tags: [proxy]");
    if let Some(encoding) = shared_encoding
        && encoding != Encoding::default()
    {
        let _ = writeln!(out, "encoding: {encoding}");
    }
    if !vars.is_empty() {
        let _ = writeln!(
            out,
            "# Redacted in the recording: these stand-ins replay (each is redacted as the recording\n# was); put real ones here for a live gateway."
        );
        let _ = writeln!(out, "vars:");
        for (name, value) in &vars {
            let _ = writeln!(out, "  {name}: {}", quote(value));
        }
    }
    let _ = writeln!(out, "steps:");
    out.push_str(&body);
    Ok(out)
}

/// `proxy session checkout`, or `scenario sms_approval, case operator=KCELLKZT` for a cassette
/// that record mode wrote.
fn recording_name(cassette: &Cassette) -> String {
    if cassette.scenario == super::PROXY_SCENARIO {
        format!("proxy session {}", cassette.case)
    } else {
        format!("scenario {}, case {}", cassette.scenario, cassette.case)
    }
}

/// The recorded interactions as steps: repeats of a status call stay one polling step; a
/// repeated call of any other kind (not pollable) becomes steps of its own.
fn steps_of<'a>(cassette: &'a Cassette, routes: &Routes) -> Vec<Step<'a>> {
    let mut steps: Vec<Step<'a>> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for interaction in &cassette.interactions {
        let pollable = super::recording::call_name(routes, &interaction.request.path)
            == Operation::Status.name();
        if let Some(last) = steps.last_mut()
            && interaction.attempt > 1
            && pollable
            && last.attempts[0].step == interaction.step
        {
            last.attempts.push(interaction);
            continue;
        }
        let base: String = interaction
            .step
            .trim_start_matches('/')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let base = if base.is_empty() { "call".into() } else { base };
        let id = unique(&base, |candidate| taken.iter().any(|t| t == candidate));
        taken.push(id.clone());
        steps.push(Step {
            id,
            attempts: vec![interaction],
        });
    }
    steps
}

/// `base`, or `base_2`, `base_3` … the first that is not `taken`.
fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|candidate| !taken(candidate))
        .expect("an unused number")
}

/// `phone` for a whole-value placeholder `{{phone}}` the redaction wrote.
fn placeholder_name(value: &str) -> Option<&str> {
    let inner = value.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(inner)
}

/// A recorded value as a template that renders to exactly it.
fn literal(value: &str) -> String {
    if value.contains("{{") || value.contains("{%") || value.contains("{#") {
        format!("{{% raw %}}{value}{{% endraw %}}")
    } else {
        value.to_owned()
    }
}

/// A form key: plain when it is a plain name, quoted otherwise (`"a[0][b]"`).
fn key(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { name.to_owned() } else { quote(name) }
}

/// The value a variable gets for a placeholder of the recording (`phone`, `phone_2`): on
/// replay the request is redacted again and must give the same placeholder. A field rule
/// redacts whatever the field holds, so any value does (`redacted-NAME` says what it is); a
/// value-pattern rule redacts only what matches it, so the stand-in must match: a test phone
/// of the emulator's when one does and is not taken yet (published ones first, so the
/// scenario also runs live against the emulator), else a value made from the pattern.
fn stand_in(placeholder: &str, redactions: &[Redaction], taken: &[(String, String)]) -> String {
    let fallback = format!("redacted-{placeholder}");
    // `phone_2` is the second value of the rule `phone`.
    let rule = crate::transport::redact::placeholder_rule(placeholder);
    let Some(RedactionRule::ValuePattern(pattern)) = redactions
        .iter()
        .find(|r| r.placeholder == rule)
        .map(|r| &r.rule)
    else {
        return fallback;
    };
    let free = |value: &str| {
        pattern.find(value).is_some_and(|m| m.as_str() == value)
            && !taken.iter().any(|(_, v)| v == value)
    };
    let mut phones: Vec<_> = crate::emulator::TEST_PHONES.iter().collect();
    phones.sort_by_key(|p| !p.published);
    phones
        .iter()
        .map(|p| p.phone.to_owned())
        .chain(sample(pattern.as_str()))
        .find(|value| free(value))
        .unwrap_or(fallback)
}

/// The shortest string a regular expression matches, built from its syntax tree (the first
/// character of each class, the first branch of each alternation, the fewest repeats);
/// `None` for what cannot be written that way.
fn sample(pattern: &str) -> Option<String> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn walk(hir: &Hir, out: &mut String) -> Option<()> {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(literal) => out.push_str(std::str::from_utf8(&literal.0).ok()?),
            HirKind::Class(Class::Unicode(class)) => out.push(class.ranges().first()?.start()),
            HirKind::Class(Class::Bytes(class)) => {
                out.push(char::from(class.ranges().first()?.start()))
            }
            HirKind::Repetition(repetition) => {
                for _ in 0..repetition.min {
                    walk(&repetition.sub, out)?;
                }
            }
            HirKind::Capture(capture) => walk(&capture.sub, out)?,
            HirKind::Concat(parts) => {
                for part in parts {
                    walk(part, out)?;
                }
            }
            HirKind::Alternation(branches) => walk(branches.first()?, out)?,
        }
        Some(())
    }
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut out = String::new();
    walk(&hir, &mut out)?;
    Some(out)
}

/// A YAML double-quoted scalar (JSON's escaping, which YAML reads the same).
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_quote_and_escape_for_templates() {
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(literal("x {{ y }}"), "{% raw %}x {{ y }}{% endraw %}");
        assert_eq!(placeholder_name("{{phone_2}}"), Some("phone_2"));
        assert_eq!(placeholder_name("{{ x }}"), None);
        assert_eq!(unique("a", |c| c == "a" || c == "a_2"), "a_3");
    }

    #[test]
    fn a_redacted_value_gets_a_stand_in_its_rule_redacts_again() {
        let rules = |yaml: &str| {
            crate::scenario::HarnessConfig::load_str(std::path::Path::new("harness.yaml"), yaml)
                .unwrap()
                .redactions
        };
        let phones = rules(
            "format: 1\nredact:\n  - { value_pattern: '\\b7\\d{10}\\b', placeholder: phone }\n",
        );
        // The published test phones first, each once.
        let first = stand_in("phone", &phones, &[]);
        assert_eq!(first, "77017777777");
        let taken = vec![("phone".to_owned(), first)];
        assert_eq!(stand_in("phone_2", &phones, &taken), "77027777777");
        // No test phone matches: a value made from the pattern, which the pattern matches.
        let cards = rules(
            "format: 1\nredact:\n  - { value_pattern: '4\\d{3}-(\\d{4}|x)', placeholder: card }\n",
        );
        assert_eq!(stand_in("card", &cards, &[]), "4000-0000");
        // A field rule redacts any value: the stand-in says what it is.
        let emails =
            rules("format: 1\nredact:\n  - { field: pg_user_contact_email, placeholder: email }\n");
        assert_eq!(stand_in("email", &emails, &[]), "redacted-email");
        assert_eq!(sample(r"a+b?[x-z]{2}\b"), Some("axx".to_owned()));
    }
}

//! Redaction: values that must not be written into cassettes (the merchant id, phone
//! numbers, any configured field or pattern) are replaced by named placeholders such as
//! `{{merchant_id}}`, and put back on replay. The same masking applies to what reports show.
//!
//! The mapping from real value to placeholder is learned per case, in order: the first
//! distinct value of a rule is `{{name}}`, the next `{{name_2}}`, and so on. Field rules learn
//! from request fields; in an answer body, an element whose whole text is a learned value gets
//! the placeholder, so a payment id that merely contains the merchant id's digits is left
//! alone. Value patterns (`\b7\d{10}\b`) match anywhere, in fields and bodies alike.

use crate::gateway::Fields;
use crate::scenario::{Redaction, RedactionRule};

/// Value ↔ placeholder pairs learned for one case.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    rules: Vec<Redaction>,
    /// (real value, placeholder text such as `{{merchant_id}}`), in the order first seen.
    learned: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(rules: Vec<Redaction>) -> Self {
        Redactor {
            rules,
            learned: Vec::new(),
        }
    }

    /// Learns the values of redacted fields in these wire-form pairs, and any text a value
    /// pattern matches in them.
    pub fn learn(&mut self, pairs: &[(impl AsRef<str>, impl AsRef<str>)]) {
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            for index in 0..self.rules.len() {
                match &self.rules[index].rule {
                    RedactionRule::Field(field) if field == name => self.remember(index, value),
                    RedactionRule::FieldPattern(pattern) if pattern.is_match(name) => {
                        self.remember(index, value);
                    }
                    RedactionRule::ValuePattern(_) => self.learn_text(index, value),
                    _ => {}
                }
            }
        }
    }

    /// Learns what the value patterns match in an answer body.
    pub fn learn_body(&mut self, body: &str) {
        for index in 0..self.rules.len() {
            self.learn_text(index, body);
        }
    }

    fn learn_text(&mut self, index: usize, text: &str) {
        let RedactionRule::ValuePattern(pattern) = &self.rules[index].rule else {
            return;
        };
        let found: Vec<String> = pattern
            .find_iter(text)
            .map(|m| m.as_str().to_owned())
            .collect();
        for value in found {
            self.remember(index, &value);
        }
    }

    fn remember(&mut self, index: usize, value: &str) {
        if value.is_empty() || is_placeholder(value) || self.learned.iter().any(|(v, _)| v == value)
        {
            return;
        }
        let name = &self.rules[index].placeholder;
        let count = self
            .learned
            .iter()
            .filter(|(_, p)| placeholder_rule(p) == name)
            .count();
        let placeholder = if count == 0 {
            format!("{{{{{name}}}}}")
        } else {
            format!("{{{{{name}_{}}}}}", count + 1)
        };
        self.learned.push((value.to_owned(), placeholder));
    }

    /// The placeholder for a real value, if it was learned.
    fn placeholder_of(&self, value: &str) -> Option<&str> {
        self.learned
            .iter()
            .find(|(v, _)| v == value)
            .map(|(_, p)| p.as_str())
    }

    /// Wire-form pairs with learned values replaced by placeholders.
    pub fn redact_pairs(&self, pairs: &[(String, String)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), self.mask_value(value)))
            .collect()
    }

    /// Fields with redacted values replaced (nested groups are rebuilt from wire form).
    pub fn redact_fields(&self, fields: &Fields) -> Fields {
        let pairs = self.redact_pairs(&fields.to_form_pairs());
        Fields::from_form_pairs(pairs).unwrap_or_else(|_| fields.clone())
    }

    /// A field value: its placeholder when the whole value was learned, else the value with
    /// value-pattern matches masked.
    fn mask_value(&self, value: &str) -> String {
        match self.placeholder_of(value) {
            Some(placeholder) => placeholder.to_owned(),
            None => self.mask_patterns(value),
        }
    }

    /// Text with every value-pattern match that was learned replaced by its placeholder.
    fn mask_patterns(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for rule in &self.rules {
            if let RedactionRule::ValuePattern(pattern) = &rule.rule {
                out = pattern
                    .replace_all(&out, |m: &regex::Captures<'_>| {
                        self.placeholder_of(&m[0]).unwrap_or(&m[0]).to_owned()
                    })
                    .into_owned();
            }
        }
        out
    }

    /// An XML body with learned values replaced — as whole element texts, and wherever they
    /// stand as a word of their own, whatever their length (an error description quoting the
    /// signed string names the merchant id, and a two-digit merchant id is as much the
    /// merchant's as a six-digit one) — and value patterns masked wherever they match. A
    /// short value may take a standalone number of the same digits with it; the replay puts
    /// every placeholder back, so the cassette still replays byte for byte.
    pub fn redact_body(&self, body: &str) -> String {
        let mut out = body.to_owned();
        for (value, placeholder) in &self.learned {
            out = out.replace(&format!(">{value}<"), &format!(">{placeholder}<"));
            out = replace_words(&out, value, placeholder);
        }
        self.mask_patterns(&out)
    }

    /// The inverse of [`Redactor::redact_body`], for the placeholders this case learned.
    pub fn restore_body(&self, body: &str) -> String {
        let mut out = body.to_owned();
        for (value, placeholder) in &self.learned {
            out = out.replace(placeholder.as_str(), value);
        }
        out
    }

    /// Any text (a report line, an error) with learned values masked.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, placeholder) in &self.learned {
            out = replace_words(&out, value, placeholder);
        }
        self.mask_patterns(&out)
    }
}

/// Replaces `value` where it is not part of a longer word or number, so a merchant id `5521`
/// is masked in `id 5521;` but not inside the payment id `55210`, and an id `1` not in the
/// `1.0` of an XML declaration or an amount.
fn replace_words(text: &str, value: &str, replacement: &str) -> String {
    if value.is_empty() {
        return text.to_owned();
    }
    // A neighbour that continues the word: a letter, a digit, `_`, or a decimal point or
    // comma with a digit beyond it.
    fn continues(mut chars: impl Iterator<Item = char>) -> bool {
        match chars.next() {
            Some(c) if c.is_alphanumeric() || c == '_' => true,
            Some('.' | ',') => chars.next().is_some_and(|c| c.is_ascii_digit()),
            _ => false,
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(value) {
        let bounded =
            !continues(rest[..at].chars().rev()) && !continues(rest[at + value.len()..].chars());
        out.push_str(&rest[..at]);
        out.push_str(if bounded { replacement } else { value });
        rest = &rest[at + value.len()..];
    }
    out.push_str(rest);
    out
}

fn is_placeholder(value: &str) -> bool {
    value.starts_with("{{") && value.ends_with("}}")
}

/// `{{phone_2}}` → `phone`.
fn placeholder_rule(placeholder: &str) -> &str {
    let inner = placeholder.trim_start_matches("{{").trim_end_matches("}}");
    match inner.rsplit_once('_') {
        Some((rule, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => rule,
        _ => inner,
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn rule(rule: RedactionRule, placeholder: &str) -> Redaction {
        Redaction {
            rule,
            placeholder: placeholder.into(),
        }
    }

    fn redactor() -> Redactor {
        Redactor::new(vec![
            rule(RedactionRule::Field("pg_merchant_id".into()), "merchant_id"),
            rule(RedactionRule::Field("pg_abonent_phone".into()), "phone"),
        ])
    }

    #[test]
    fn learned_values_become_numbered_placeholders() {
        let mut r = redactor();
        r.learn(&pairs(&[
            ("pg_merchant_id", "552170"),
            ("pg_abonent_phone", "77017777777"),
        ]));
        r.learn(&pairs(&[
            ("pg_abonent_phone", "77027777777"),
            ("pg_abonent_phone", "77017777777"),
        ]));
        let redacted = r.redact_pairs(&pairs(&[
            ("pg_merchant_id", "552170"),
            ("pg_abonent_phone", "77027777777"),
            ("pg_amount", "15"),
        ]));
        assert_eq!(
            redacted,
            pairs(&[
                ("pg_merchant_id", "{{merchant_id}}"),
                ("pg_abonent_phone", "{{phone_2}}"),
                ("pg_amount", "15"),
            ])
        );
    }

    #[test]
    fn bodies_are_redacted_by_whole_element_text_and_restored() {
        let mut r = redactor();
        r.learn(&pairs(&[
            ("pg_merchant_id", "5521"),
            ("pg_abonent_phone", "77017777777"),
        ]));
        let body = "<response><pg_payment_id>55210</pg_payment_id><pg_user_phone>77017777777</pg_user_phone><m>5521</m></response>";
        let redacted = r.redact_body(body);
        assert_eq!(
            redacted,
            "<response><pg_payment_id>55210</pg_payment_id><pg_user_phone>{{phone}}</pg_user_phone><m>{{merchant_id}}</m></response>"
        );
        assert_eq!(r.restore_body(&redacted), body);
        assert_eq!(r.mask("phone 77017777777 failed"), "phone {{phone}} failed");
        let quoted = "<response><d>signed `pay;5521;55210;***`</d></response>";
        let redacted = r.redact_body(quoted);
        assert_eq!(
            redacted,
            "<response><d>signed `pay;{{merchant_id}};55210;***`</d></response>"
        );
        assert_eq!(r.restore_body(&redacted), quoted);
    }

    #[test]
    fn secret_never_leaves_merchant_ids_of_any_length_inside_answer_text() {
        for id in ["1", "42", "552170"] {
            let mut r = redactor();
            r.learn(&pairs(&[("pg_merchant_id", id)]));
            let body = format!(
                "<?xml version=\"1.0\"?><response><m>{id}</m><d>unknown merchant {id}; signed `pay;{id};55210{id};{id}.5;***`</d></response>"
            );
            let redacted = r.redact_body(&body);
            assert_eq!(
                redacted,
                format!(
                    "<?xml version=\"1.0\"?><response><m>{{{{merchant_id}}}}</m><d>unknown merchant {{{{merchant_id}}}}; signed `pay;{{{{merchant_id}}}};55210{id};{id}.5;***`</d></response>"
                ),
                "the id inside a longer number stays"
            );
            assert_eq!(r.restore_body(&redacted), body);
        }
    }

    #[test]
    fn field_and_value_patterns() {
        let mut r = Redactor::new(vec![
            rule(
                RedactionRule::FieldPattern(Regex::new("^pg_user_").unwrap()),
                "user",
            ),
            rule(
                RedactionRule::ValuePattern(Regex::new(r"\b7\d{10}\b").unwrap()),
                "phone",
            ),
        ]);
        let sent = pairs(&[
            ("pg_user_ip", "10.0.0.1"),
            ("pg_description", "for 77011234567"),
        ]);
        r.learn(&sent);
        assert_eq!(
            r.redact_pairs(&sent),
            pairs(&[
                ("pg_user_ip", "{{user}}"),
                ("pg_description", "for {{phone}}")
            ])
        );
        r.learn_body("<response><a>call 77029998877 now</a></response>");
        let body = "<response><a>call 77029998877 now</a><b>77011234567</b></response>";
        let redacted = r.redact_body(body);
        assert_eq!(
            redacted,
            "<response><a>call {{phone_2}} now</a><b>{{phone}}</b></response>"
        );
        assert_eq!(r.restore_body(&redacted), body);
    }

    #[test]
    fn placeholders_are_not_learned_as_values() {
        let mut r = redactor();
        r.learn(&pairs(&[("pg_merchant_id", "{{merchant_id}}")]));
        assert_eq!(r.mask("{{merchant_id}}"), "{{merchant_id}}");
        assert_eq!(placeholder_rule("{{phone_2}}"), "phone");
        assert_eq!(placeholder_rule("{{merchant_id}}"), "merchant_id");
    }
}

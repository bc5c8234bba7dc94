//! Redaction: values that must not be written into cassettes (merchant id, phone numbers,
//! any configured field) are replaced by named placeholders such as `{{merchant_id}}`, and
//! put back on replay.
//!
//! The mapping from real value to placeholder is learned from the request fields of a case,
//! in order: the first distinct value of a rule is `{{name}}`, the next `{{name_2}}`, and so
//! on. In an answer body, an element whose whole text is a learned value gets the placeholder,
//! so a payment id that merely contains the merchant id's digits is left alone.

use crate::gateway::Fields;

/// A rule: the field (wire name, e.g. `pg_abonent_phone`) whose values are redacted, and the
/// placeholder name they get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactionRule {
    pub field: String,
    pub placeholder: String,
}

/// The default rules: the merchant id, which identifies the merchant in every request.
pub fn default_rules() -> Vec<RedactionRule> {
    vec![RedactionRule {
        field: "pg_merchant_id".into(),
        placeholder: "merchant_id".into(),
    }]
}

/// Value ↔ placeholder pairs learned for one case.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    rules: Vec<RedactionRule>,
    /// (real value, placeholder text such as `{{merchant_id}}`), in the order first seen.
    learned: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(rules: Vec<RedactionRule>) -> Self {
        Redactor {
            rules,
            learned: Vec::new(),
        }
    }

    /// Learns the values of redacted fields in these wire-form pairs.
    pub fn learn(&mut self, pairs: &[(String, String)]) {
        for (name, value) in pairs {
            let Some(rule) = self.rules.iter().find(|r| r.field == *name) else {
                continue;
            };
            if value.is_empty()
                || is_placeholder(value)
                || self.learned.iter().any(|(v, _)| v == value)
            {
                continue;
            }
            let count = self
                .learned
                .iter()
                .filter(|(_, p)| placeholder_rule(p) == rule.placeholder)
                .count();
            let placeholder = if count == 0 {
                format!("{{{{{}}}}}", rule.placeholder)
            } else {
                format!("{{{{{}_{}}}}}", rule.placeholder, count + 1)
            };
            self.learned.push((value.clone(), placeholder));
        }
    }

    /// The placeholder for a real value, if it was learned.
    fn placeholder_of(&self, value: &str) -> Option<&str> {
        self.learned
            .iter()
            .find(|(v, _)| v == value)
            .map(|(_, p)| p.as_str())
    }

    fn value_of(&self, placeholder: &str) -> Option<&str> {
        self.learned
            .iter()
            .find(|(_, p)| p == placeholder)
            .map(|(v, _)| v.as_str())
    }

    /// Wire-form pairs with learned values of redacted fields replaced by placeholders.
    pub fn redact_pairs(&self, pairs: &[(String, String)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| {
                let redacted = match self.rules.iter().any(|r| r.field == *name) {
                    true => self.placeholder_of(value).unwrap_or(value),
                    false => value,
                };
                (name.clone(), redacted.to_owned())
            })
            .collect()
    }

    /// Fields with redacted values replaced (nested groups are rebuilt from wire form).
    pub fn redact_fields(&self, fields: &Fields) -> Fields {
        let pairs = self.redact_pairs(&fields.to_form_pairs());
        Fields::from_form_pairs(pairs).unwrap_or_else(|_| fields.clone())
    }

    /// An XML body with every element text equal to a learned value replaced.
    pub fn redact_body(&self, body: &str) -> String {
        let mut out = body.to_owned();
        for (value, placeholder) in &self.learned {
            out = out.replace(&format!(">{value}<"), &format!(">{placeholder}<"));
        }
        out
    }

    /// The inverse of [`Redactor::redact_body`].
    pub fn restore_body(&self, body: &str) -> String {
        let mut out = body.to_owned();
        for (value, placeholder) in &self.learned {
            out = out.replace(&format!(">{placeholder}<"), &format!(">{value}<"));
        }
        out
    }

    /// Any text (a report line, an error) with learned values masked.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, placeholder) in &self.learned {
            out = out.replace(value.as_str(), placeholder);
        }
        out
    }

    /// Restores one value if it is a learned placeholder.
    pub fn restore_value<'a>(&'a self, value: &'a str) -> &'a str {
        self.value_of(value).unwrap_or(value)
    }
}

fn is_placeholder(value: &str) -> bool {
    value.starts_with("{{") && value.ends_with("}}")
}

/// `{{phone_2}}` → `phone`.
fn placeholder_rule(placeholder: &str) -> &str {
    let inner = placeholder.trim_start_matches("{{").trim_end_matches("}}");
    match inner.rsplit_once('_') {
        Some((rule, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => rule,
        _ => inner,
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

    fn redactor() -> Redactor {
        let mut rules = default_rules();
        rules.push(RedactionRule {
            field: "pg_abonent_phone".into(),
            placeholder: "phone".into(),
        });
        Redactor::new(rules)
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
            ("pg_amount", "552170"),
        ]));
        assert_eq!(
            redacted,
            pairs(&[
                ("pg_merchant_id", "{{merchant_id}}"),
                ("pg_abonent_phone", "{{phone_2}}"),
                ("pg_amount", "552170"),
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
        assert_eq!(r.restore_value("{{phone}}"), "77017777777");
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

//! A changed gateway: edits the emulator makes to its own answers before signing them, so a
//! drift check can be demonstrated and tested offline — as if Freedom Pay had renamed a
//! field, added one, or answered another status since the recordings were made.
//!
//! In the emulator's YAML configuration:
//!
//! ```yaml
//! answer_changes:
//!   - call: pay                                # init, pay, approve, resend_code, status; all when left out
//!     status: { need_approve: approve_needed } # pg_status values to answer instead
//!   - call: init
//!     add: { pg_payment_token: tok-1 }         # fields appended
//!   - call: status
//!     rename: { pg_captured: pg_is_captured }  # fields renamed in place
//!     replace: { pg_can_reject: "no" }         # values replaced
//!     remove: [pg_failure_code]                # fields left out
//! ```
//!
//! `fph emulator --profile changed-gateway` starts with [`changed_gateway`], one change of
//! each kind.

use serde::Deserialize;

use crate::gateway::{FieldValue, Fields, Operation};

use super::config_problem::ConfigProblem;

/// One edit to the answers of one call (or of every call).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerChange {
    /// The call whose answers change; `None`: every call.
    pub call: Option<Operation>,
    /// `pg_status` old → new.
    pub status: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub rename: Vec<(String, String)>,
    pub replace: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl AnswerChange {
    /// Edits an answer's fields (before the salt and signature are added).
    pub fn apply(&self, call: &Operation, fields: &mut Fields) {
        if self.call.as_ref().is_some_and(|c| c != call) {
            return;
        }
        let mut edited = Fields::new();
        for (name, value) in fields.iter() {
            if self.remove.iter().any(|r| r == name) {
                continue;
            }
            let name = self
                .rename
                .iter()
                .find(|(from, _)| from == name)
                .map_or(name, |(_, to)| to.as_str());
            let value = match value {
                FieldValue::Text(text) => {
                    let replaced = self
                        .replace
                        .iter()
                        .find(|(field, _)| field == name)
                        .map(|(_, v)| v.as_str())
                        .or_else(|| {
                            (name == "pg_status")
                                .then(|| self.status.iter().find(|(from, _)| from == text))
                                .flatten()
                                .map(|(_, to)| to.as_str())
                        });
                    FieldValue::Text(replaced.unwrap_or(text).to_owned())
                }
                nested => nested.clone(),
            };
            edited.push_value(name, value);
        }
        for (name, value) in &self.add {
            edited.push(name.clone(), value.clone());
        }
        *fields = edited;
    }
}

/// Applies every change in order.
pub fn apply_all(changes: &[AnswerChange], call: &Operation, fields: &mut Fields) {
    for change in changes {
        change.apply(call, fields);
    }
}

/// The built-in "changed gateway" profile: one change of each kind a drift check reports
/// (`fph emulator --profile changed-gateway`).
#[cfg(any(feature = "cli", test))]
pub fn changed_gateway() -> Vec<AnswerChange> {
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    vec![
        AnswerChange {
            call: Some(Operation::Pay),
            status: pairs(&[("need_approve", "approve_needed")]),
            ..AnswerChange::default()
        },
        AnswerChange {
            call: Some(Operation::Init),
            add: pairs(&[("pg_payment_token", "tok-1")]),
            ..AnswerChange::default()
        },
        AnswerChange {
            call: Some(Operation::Status),
            rename: pairs(&[("pg_captured", "pg_is_captured")]),
            replace: pairs(&[("pg_can_reject", "no")]),
            ..AnswerChange::default()
        },
    ]
}

/// `answer_changes:` entries as written in YAML.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnswerChange {
    call: Option<String>,
    #[serde(default)]
    status: Pairs,
    #[serde(default)]
    add: Pairs,
    #[serde(default)]
    rename: Pairs,
    #[serde(default)]
    replace: Pairs,
    #[serde(default)]
    remove: Vec<String>,
}

/// A mapping of text to text, in file order.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
struct Pairs(std::collections::BTreeMap<String, String>);

impl RawAnswerChange {
    /// The change, or the problem with its `call`.
    pub(crate) fn into_change(self) -> Result<AnswerChange, ConfigProblem> {
        let call = match self.call {
            None => None,
            Some(name) => Some(Operation::from_name(&name).ok_or_else(|| {
                ConfigProblem::new(
                    "call",
                    format!("unknown call `{name}` in answer_changes"),
                    "name one of init, pay, approve, resend_code or status, or leave `call` out to change the answers of every call",
                )
            })?),
        };
        let pairs = |p: Pairs| p.0.into_iter().collect::<Vec<_>>();
        Ok(AnswerChange {
            call,
            status: pairs(self.status),
            add: pairs(self.add),
            rename: pairs(self.rename),
            replace: pairs(self.replace),
            remove: self.remove,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(items: &[(&str, &str)]) -> Fields {
        items.iter().map(|(k, v)| (*k, *v)).collect()
    }

    #[test]
    fn the_profile_changes_each_call_it_names_and_no_other() {
        let profile = changed_gateway();
        let mut pay = fields(&[("pg_status", "need_approve"), ("pg_payment_id", "1")]);
        apply_all(&profile, &Operation::Pay, &mut pay);
        assert_eq!(
            pay,
            fields(&[("pg_status", "approve_needed"), ("pg_payment_id", "1")])
        );

        let mut approve = fields(&[("pg_status", "need_approve")]);
        apply_all(&profile, &Operation::Approve, &mut approve);
        assert_eq!(approve, fields(&[("pg_status", "need_approve")]));

        let mut init = fields(&[("pg_status", "ok")]);
        apply_all(&profile, &Operation::Init, &mut init);
        assert_eq!(
            init,
            fields(&[("pg_status", "ok"), ("pg_payment_token", "tok-1")])
        );

        let mut status = fields(&[
            ("pg_captured", "1"),
            ("pg_can_reject", "0"),
            ("pg_amount", "5"),
        ]);
        apply_all(&profile, &Operation::Status, &mut status);
        assert_eq!(
            status,
            fields(&[
                ("pg_is_captured", "1"),
                ("pg_can_reject", "no"),
                ("pg_amount", "5")
            ])
        );
    }

    #[test]
    fn removal_and_every_call() {
        let change = AnswerChange {
            remove: vec!["pg_salt_hint".into()],
            ..AnswerChange::default()
        };
        let mut f = fields(&[("pg_status", "ok"), ("pg_salt_hint", "x")]);
        change.apply(&Operation::Status, &mut f);
        assert_eq!(f, fields(&[("pg_status", "ok")]));
    }
}

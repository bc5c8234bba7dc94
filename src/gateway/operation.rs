//! The calls of the Mobile balance API: where each one is sent, the script name it is signed
//! with, the fields it requires, and whether it moves money.
//!
//! Money-moving calls (init, pay, approve) and resend code (it sends an SMS) are never retried
//! automatically; only status may be polled. A call to any other path is treated as
//! money-moving, because nothing is known about it.

use std::fmt;

/// One Freedom Pay call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operation {
    Init,
    Pay,
    Approve,
    ResendCode,
    Status,
    /// Any other script, sent to this path.
    Other(String),
}

impl Operation {
    /// The five named calls, in flow order.
    pub const NAMED: [Operation; 5] = [
        Operation::Init,
        Operation::Pay,
        Operation::Approve,
        Operation::ResendCode,
        Operation::Status,
    ];

    /// The name used in scenarios and reports (`init`, `pay`, …; the path for others).
    pub fn name(&self) -> &str {
        match self {
            Operation::Init => "init",
            Operation::Pay => "pay",
            Operation::Approve => "approve",
            Operation::ResendCode => "resend_code",
            Operation::Status => "status",
            Operation::Other(path) => path,
        }
    }

    /// Reads a scenario's `call:` name; `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::NAMED.into_iter().find(|op| op.name() == name)
    }

    /// The documented path (resend code's is assumed: its page is not public).
    pub fn default_path(&self) -> &str {
        match self {
            Operation::Init => "/init_payment.php",
            Operation::Pay => "/mfs/pay",
            Operation::Approve => "/mfs/approve",
            Operation::ResendCode => "/mfs/resend_code",
            Operation::Status => "/get_status3.php",
            Operation::Other(path) => path,
        }
    }

    /// Fields the gateway requires besides `pg_merchant_id`, `pg_salt` and `pg_sig`, which
    /// every call carries.
    pub fn required_fields(&self) -> &'static [&'static str] {
        match self {
            Operation::Init => &["pg_amount", "pg_description"],
            Operation::Pay => &["pg_payment_id", "pg_abonent_phone"],
            Operation::Approve => &["pg_payment_id", "pg_approval_code"],
            Operation::ResendCode => &["pg_payment_id"],
            // Status takes a payment id or an order id; the emulator checks for either.
            Operation::Status => &[],
            Operation::Other(_) => &[],
        }
    }

    /// Fields a successful answer carries besides `pg_status`, `pg_salt` and `pg_sig`:
    /// what a scenario may capture from this call without a warning.
    pub fn response_fields(&self) -> Option<&'static [&'static str]> {
        Some(match self {
            Operation::Init => &["pg_payment_id", "pg_redirect_url", "pg_redirect_url_type"],
            Operation::Pay | Operation::Approve | Operation::ResendCode => &["pg_payment_id"],
            Operation::Status => &[
                "pg_payment_id",
                "pg_order_id",
                "pg_currency",
                "pg_amount",
                "pg_payment_status",
                "pg_payment_method",
                "pg_user_phone",
                "pg_create_date",
                "pg_payment_date",
                "pg_failure_code",
                "pg_failure_description",
                "pg_can_reject",
                "pg_captured",
            ],
            Operation::Other(_) => return None,
        })
    }

    /// True for calls that charge, create or confirm a payment, or send an SMS: a repeat
    /// could charge twice, so they are sent exactly once.
    pub fn moves_money(&self) -> bool {
        !self.is_idempotent()
    }

    /// True when repeating the call changes nothing: only these may be polled or retried.
    pub fn is_idempotent(&self) -> bool {
        matches!(self, Operation::Status)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Answer fields whose values differ on every run (salts, signatures, ids, dates, the
/// redirect): comparisons of two runs' answers ignore them unless told otherwise.
pub const VOLATILE_FIELDS: [&str; 8] = [
    "pg_salt",
    "pg_sig",
    "pg_payment_id",
    "pg_order_id",
    "pg_redirect_url",
    "pg_create_date",
    "pg_payment_date",
    "pg_redirect_url_type",
];

/// The path each named call is sent to; every one can be overridden in configuration, so a
/// user can correct a route (resend code's is assumed) without a new release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    paths: [String; 5],
}

impl Default for Routes {
    fn default() -> Self {
        Self {
            paths: Operation::NAMED.map(|op| op.default_path().to_owned()),
        }
    }
}

impl Routes {
    fn index(op: &Operation) -> Option<usize> {
        Operation::NAMED.iter().position(|named| named == op)
    }

    /// The path for `op`.
    pub fn path<'a>(&'a self, op: &'a Operation) -> &'a str {
        match Self::index(op) {
            Some(i) => &self.paths[i],
            None => op.default_path(),
        }
    }

    /// Overrides the path of a named call; ignored for `Other`, whose path is its own.
    pub fn set(&mut self, op: &Operation, path: impl Into<String>) {
        if let Some(i) = Self::index(op) {
            let path = path.into();
            self.paths[i] = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
        }
    }

    /// The operation served at `path`, if any named call is routed there.
    pub fn operation_at(&self, path: &str) -> Option<Operation> {
        let path = path.trim_end_matches('/');
        self.paths
            .iter()
            .position(|p| p == path)
            .map(|i| Operation::NAMED[i].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::signature::script_name;

    #[test]
    fn documented_routes_and_script_names() {
        let routes = Routes::default();
        let expected = [
            (Operation::Init, "/init_payment.php", "init_payment.php"),
            (Operation::Pay, "/mfs/pay", "pay"),
            (Operation::Approve, "/mfs/approve", "approve"),
            (Operation::ResendCode, "/mfs/resend_code", "resend_code"),
            (Operation::Status, "/get_status3.php", "get_status3.php"),
        ];
        for (op, path, script) in expected {
            assert_eq!(routes.path(&op), path);
            assert_eq!(script_name(routes.path(&op)), script);
            assert_eq!(routes.operation_at(path), Some(op));
        }
    }

    #[test]
    fn routes_can_be_overridden() {
        let mut routes = Routes::default();
        routes.set(&Operation::ResendCode, "mfs/resend");
        assert_eq!(routes.path(&Operation::ResendCode), "/mfs/resend");
        assert_eq!(
            routes.operation_at("/mfs/resend"),
            Some(Operation::ResendCode)
        );
        assert_eq!(routes.operation_at("/mfs/resend_code"), None);
        let other = Operation::Other("/refund.php".into());
        assert_eq!(routes.path(&other), "/refund.php");
    }

    #[test]
    fn only_status_is_idempotent() {
        for op in Operation::NAMED {
            assert_eq!(op.is_idempotent(), op == Operation::Status, "{op}");
        }
        assert!(Operation::Other("/x.php".into()).moves_money());
        assert!(Operation::Init.moves_money());
    }

    #[test]
    fn names_round_trip() {
        for op in Operation::NAMED {
            assert_eq!(Operation::from_name(op.name()), Some(op.clone()));
        }
        assert_eq!(Operation::from_name("refund"), None);
    }
}

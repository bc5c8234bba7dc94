//! The emulator's error-code table: every `pg_error_code` it answers, in one place.
//!
//! Freedom Pay publishes only a few codes (9998 unknown merchant, 101, 1000, 1380, 4001–4007).
//! For everything else — a wrong or expired SMS code, an unknown payment, a wrong payment
//! state, a missing field — the emulator picks its own codes in the 8000 range, so nobody
//! mistakes them for published ones. Every code can be overridden in the emulator's
//! configuration (`error_codes: { wrong_code: 1234 }`), so a team can make the emulator answer
//! what their sandbox answers. The same table is rendered in `docs/emulator.md`; a unit test
//! keeps the two in step.

use serde::Deserialize;

/// Where a default code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    /// Published in the Freedom Pay docs.
    Documented,
    /// Chosen by the emulator: the docs publish none.
    Emulator,
}

/// Declares the table once: the enum, its config names, default codes, sources and summaries,
/// and the raw override struct read from YAML (so an unknown name is a YAML error with a
/// location, not a silently ignored key).
macro_rules! error_table {
    ($( $variant:ident / $name:ident = $code:literal, $source:ident, $summary:literal; )*) => {
        /// Every error the emulator answers with `pg_status=error`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $( #[doc = $summary] $variant, )*
        }

        impl ErrorKind {
            /// Every kind, in table order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The name used in configuration and documentation (`wrong_code`).
            pub fn name(self) -> &'static str {
                match self { $(ErrorKind::$variant => stringify!($name)),* }
            }

            /// The code answered unless the configuration overrides it.
            pub fn default_code(self) -> u32 {
                match self { $(ErrorKind::$variant => $code),* }
            }

            pub fn source(self) -> CodeSource {
                match self { $(ErrorKind::$variant => CodeSource::$source),* }
            }

            /// One line saying when the emulator answers this error.
            pub fn summary(self) -> &'static str {
                match self { $(ErrorKind::$variant => $summary),* }
            }
        }

        /// `error_codes:` in the emulator's YAML configuration: overrides by name.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct RawErrorCodes {
            $( #[serde(default)] $name: Option<u32>, )*
        }

        impl RawErrorCodes {
            pub(crate) fn apply(&self, codes: &mut ErrorCodes) {
                $( if let Some(code) = self.$name { codes.set(ErrorKind::$variant, code); } )*
            }
        }
    };
}

error_table! {
    MerchantUnknown / merchant_unknown = 9998, Documented,
        "pg_merchant_id is missing or not a merchant the emulator knows; the answer is unsigned";
    BadSignature / bad_signature = 101, Documented,
        "pg_sig is missing or does not match (older docs use 101 for a bad signature)";
    AmountTooSmall / amount_too_small = 1380, Documented,
        "pg_amount is below 0.01";
    MissingField / missing_field = 8001, Emulator,
        "a required field is missing; the description names it";
    MalformedField / malformed_field = 8002, Emulator,
        "a field has a value the call does not accept; the description names it";
    MalformedRequest / malformed_request = 8003, Emulator,
        "the body cannot be read (bad multipart, bad pg_xml, bad key brackets); unsigned";
    RequestTooLarge / request_too_large = 8004, Emulator,
        "the body is larger than the configured limit (HTTP 413); unsigned";
    UnknownRoute / unknown_route = 8005, Emulator,
        "no call is served at this path or with this HTTP method (HTTP 404/405); unsigned";
    UnknownPayment / unknown_payment = 8010, Emulator,
        "no payment of this merchant has this pg_payment_id (or pg_order_id)";
    AlreadyPaid / already_paid = 8011, Emulator,
        "pay was already called for this payment";
    NotPaid / not_paid = 8012, Emulator,
        "approve or resend code before pay: no SMS code has been sent";
    PaymentFinished / payment_finished = 8013, Emulator,
        "approve or resend code on a payment that succeeded, failed or is being completed";
    PaymentExpired / payment_expired = 8014, Emulator,
        "the payment's pg_lifetime ended before it was completed";
    StoreFull / store_full = 8015, Emulator,
        "the emulator holds its maximum number of unfinished payments";
    WrongCode / wrong_code = 8020, Emulator,
        "wrong pg_approval_code; the description says how many attempts are left";
    CodeExpired / code_expired = 8021, Emulator,
        "the SMS code is older than its lifetime; resend code sends a new one";
    AttemptsExhausted / attempts_exhausted = 8022, Emulator,
        "the last allowed attempt was wrong; the payment has failed";
    ResendLimit / resend_limit = 8023, Emulator,
        "resend code was called more often than allowed for this payment";
    ResendCooldown / resend_cooldown = 8024, Emulator,
        "resend code came sooner than the cooldown after the last SMS";
    UnsupportedPhone / unsupported_phone = 8030, Emulator,
        "pg_abonent_phone belongs to no Kazakh mobile operator's range";
    OperatorMismatch / operator_mismatch = 8031, Emulator,
        "pg_payment_system_code names another operator than the phone's";
    InsufficientFunds / insufficient_funds = 8032, Emulator,
        "the phone's balance is too low (test phones ending 03)";
    OperatorError / operator_error = 8033, Emulator,
        "the operator failed to charge the phone (test phones ending 04)";
    CheckRejected / check_rejected = 8040, Emulator,
        "the merchant's check URL answered `rejected`";
    CheckFailed / check_failed = 8041, Emulator,
        "the merchant's check URL gave no valid answer (error, HTTP != 200, bad XML or signature)";
}

/// The code answered for each kind: the defaults, with the configuration's overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCodes {
    codes: Vec<u32>,
}

impl Default for ErrorCodes {
    fn default() -> Self {
        Self {
            codes: ErrorKind::ALL.iter().map(|k| k.default_code()).collect(),
        }
    }
}

impl ErrorCodes {
    pub fn code(&self, kind: ErrorKind) -> u32 {
        self.codes[kind as usize]
    }

    pub fn set(&mut self, kind: ErrorKind, code: u32) {
        self.codes[kind as usize] = code;
    }
}

/// A refusal: what the emulator answers instead of doing the call. The description is a
/// whole sentence for a human; the kind decides the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub kind: ErrorKind,
    pub description: String,
    /// Echoed as `pg_payment_id` when the call was about a known payment.
    pub payment_id: Option<u64>,
}

impl Rejection {
    pub fn new(kind: ErrorKind, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
            payment_id: None,
        }
    }

    pub fn for_payment(mut self, id: u64) -> Self {
        self.payment_id = Some(id);
        self
    }

    pub fn missing(field: &str) -> Self {
        Self::new(
            ErrorKind::MissingField,
            format!("missing required field {field}"),
        )
    }

    pub fn malformed(field: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorKind::MalformedField,
            format!("malformed field {field}: {why}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique() {
        let codes: HashSet<_> = ErrorKind::ALL.iter().map(|k| k.default_code()).collect();
        let names: HashSet<_> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }

    #[test]
    fn the_enum_order_indexes_the_table() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i);
        }
    }

    #[test]
    fn overrides_replace_defaults() {
        let raw: RawErrorCodes =
            serde_saphyr::from_str("wrong_code: 77\nbad_signature: 1").unwrap();
        let mut codes = ErrorCodes::default();
        raw.apply(&mut codes);
        assert_eq!(codes.code(ErrorKind::WrongCode), 77);
        assert_eq!(codes.code(ErrorKind::BadSignature), 1);
        assert_eq!(codes.code(ErrorKind::CodeExpired), 8021);
        assert!(serde_saphyr::from_str::<RawErrorCodes>("wrong_cod: 1").is_err());
    }

    #[test]
    fn the_documentation_lists_every_code() {
        let doc = include_str!("../../docs/emulator.md");
        for kind in ErrorKind::ALL {
            let row = format!("| `{}` | {} |", kind.name(), kind.default_code());
            assert!(
                doc.contains(&row),
                "docs/emulator.md lacks the row starting {row}"
            );
        }
    }
}

//! The emulator's error-code table: every `pg_error_code` it answers, in one place, with the
//! description in Russian (the gateway's default) and English (`pg_language=en`).
//!
//! Where the real gateway's code is known, the emulator answers it: the docs publish a few
//! (1380 amount too small, 9998), and the rest of the Mobile balance flow's codes were seen in
//! public client code and live answers quoted in bug reports (`../shared/freedompay-mobile-
//! balance.md`, "Seen from the real gateway": 9997 unknown merchant, 9998 bad signature, 10018,
//! 10031, 11001–11021). For what nobody has published — an unknown payment, a call in the wrong
//! state, the resend limits, a missing field — the emulator picks its own codes in the 8000
//! range, so nobody mistakes them for the gateway's. Every code can be overridden in the
//! emulator's configuration (`error_codes: { wrong_code: 1234 }`), so a team can make the
//! emulator answer what their sandbox answers. The same table is rendered in
//! `docs/emulator.md`; a unit test keeps the two in step.

use serde::Deserialize;

/// Where a default code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    /// Published in the Freedom Pay docs.
    Documented,
    /// Seen from the real gateway: in public client code, gateway mocks and quoted answers.
    Seen,
    /// Chosen by the emulator: nobody has published one.
    Emulator,
}

impl CodeSource {
    /// The word the documentation's "source" column uses.
    pub fn label(self) -> &'static str {
        match self {
            CodeSource::Documented => "docs",
            CodeSource::Seen => "seen in client code",
            CodeSource::Emulator => "emulator",
        }
    }
}

/// The language of a description: the gateway answers in Russian unless the request (or the
/// payment's init) asked for `pg_language=en`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Russian,
    English,
}

impl Language {
    /// `pg_language` as sent: `en` is English, anything else (ru, kz, kg, uz) Russian, the
    /// only other language the emulator writes.
    pub fn from_field(value: Option<&str>) -> Option<Language> {
        match value.map(str::trim) {
            None | Some("") => None,
            Some(v) if v.eq_ignore_ascii_case("en") => Some(Language::English),
            Some(_) => Some(Language::Russian),
        }
    }
}

/// Declares the table once: the enum, its config names, default codes, sources, the Russian
/// description and the summaries, and the raw override struct read from YAML (so an unknown
/// name is a YAML error with a location, not a silently ignored key).
macro_rules! error_table {
    ($( $variant:ident / $name:ident = $code:literal, $source:ident, $russian:literal, $summary:literal; )*) => {
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

            /// The Russian `pg_error_description` (the gateway's own words where they are
            /// known); field errors append the field's name.
            pub fn russian(self) -> &'static str {
                match self { $(ErrorKind::$variant => $russian),* }
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
    MerchantUnknown / merchant_unknown = 9997, Seen, "Неверный номер магазина",
        "pg_merchant_id is missing or not a merchant the emulator knows; unsigned";
    BadSignature / bad_signature = 9998, Seen, "Некорректная подпись запроса",
        "pg_sig is missing or does not match; unsigned (the docs call 9998 \"merchant not identified\")";
    AmountTooSmall / amount_too_small = 1380, Documented, "Слишком маленькая сумма платежа",
        "pg_amount is below 0.01";
    MissingField / missing_field = 8001, Emulator, "Не указан обязательный параметр",
        "a required field is missing; the description names it";
    MalformedField / malformed_field = 8002, Emulator, "Некорректное значение параметра",
        "a field has a value the call does not accept; the description names it";
    MalformedRequest / malformed_request = 8003, Emulator, "Не удалось прочитать запрос",
        "the body cannot be read (bad multipart, pg_xml or JSON, bad key brackets); unsigned";
    RequestTooLarge / request_too_large = 8004, Emulator, "Слишком большой запрос",
        "the body is larger than the configured limit (HTTP 413); unsigned";
    UnknownRoute / unknown_route = 8005, Emulator, "Неизвестный метод",
        "no call is served at this path or with this HTTP method (HTTP 404/405); unsigned";
    UnknownPayment / unknown_payment = 8010, Emulator, "Платеж не найден",
        "no payment of this merchant has this pg_payment_id (or pg_order_id)";
    AlreadyPaid / already_paid = 8011, Emulator, "Платеж уже оплачивается",
        "pay was already called for this payment";
    NotPaid / not_paid = 8012, Emulator, "Платеж еще не оплачен: код подтверждения не отправлялся",
        "approve or resend code before pay: no SMS code has been sent";
    PaymentFinished / payment_finished = 8013, Emulator, "Платеж уже завершен",
        "approve or resend code on a payment that succeeded, failed or is being completed";
    PaymentExpired / payment_expired = 10018, Seen, "Время жизни платежа истекло, создайте новый платеж",
        "the payment's pg_lifetime ended before it was completed";
    StoreFull / store_full = 8015, Emulator, "Эмулятор хранит максимальное число незавершенных платежей",
        "the emulator holds its maximum number of unfinished payments";
    WrongCode / wrong_code = 11002, Seen, "Введен неверный код SMS. Повторите еще раз",
        "wrong pg_approval_code; the English description says how many attempts are left";
    CodeExpired / code_expired = 11008, Seen, "Истек срок действия кода подтверждения",
        "the SMS code is older than its lifetime; resend code sends a new one";
    AttemptsExhausted / attempts_exhausted = 11007, Seen, "Исчерпан лимит попыток ввода кода подтверждения",
        "the last allowed attempt was wrong; the payment has failed";
    ResendLimit / resend_limit = 8023, Emulator, "Превышен лимит повторной отправки кода",
        "resend code was called more often than allowed for this payment";
    ResendCooldown / resend_cooldown = 8024, Emulator, "Повторная отправка кода пока недоступна, попробуйте позже",
        "resend code came sooner than the cooldown after the last SMS";
    UnsupportedPhone / unsupported_phone = 11021, Seen, "Не удалось определить оператора или номер некорректен",
        "pg_abonent_phone belongs to no Kazakh mobile operator's range";
    InvalidPhone / invalid_phone = 10031, Seen, "Неверный номер телефона",
        "pg_abonent_phone (or check_mnp's phone) is not 11 digits starting with 7";
    OperatorMismatch / operator_mismatch = 8031, Emulator, "Номер телефона принадлежит другому оператору",
        "pg_payment_system_code names another operator than the phone's";
    InsufficientFunds / insufficient_funds = 11006, Seen, "Недостаточно средств на балансе",
        "the phone's balance is too low (test phones ending 03)";
    OperatorError / operator_error = 11001, Seen, "Операция не выполнена, обратитесь к оператору",
        "the operator failed to charge the phone (test phones ending 04)";
    CheckRejected / check_rejected = 8040, Emulator, "Магазин отклонил платеж",
        "the merchant's check URL answered `rejected`";
    CheckFailed / check_failed = 8041, Emulator, "Магазин не подтвердил платеж",
        "the merchant's check URL gave no valid answer (error, HTTP != 200, bad XML or signature)";
    NotRecorded / not_recorded = 8050, Emulator, "Запрос не найден в записи",
        "replay (`fph emulator --replay`): no recorded request matches; the log names the closest and the fields that differ; unsigned";
}

impl ErrorKind {
    /// True when the answer carries no `pg_salt` / `pg_sig`: the merchant is not
    /// authenticated (unknown, or its signature is wrong), or the request could not be read.
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            ErrorKind::MerchantUnknown
                | ErrorKind::BadSignature
                | ErrorKind::MalformedRequest
                | ErrorKind::RequestTooLarge
                | ErrorKind::UnknownRoute
                | ErrorKind::NotRecorded
        )
    }

    /// Kinds whose Russian description names the field (`… параметр pg_amount`).
    fn names_field(self) -> bool {
        matches!(self, ErrorKind::MissingField | ErrorKind::MalformedField)
    }
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

/// A refusal: what the emulator answers instead of doing the call. The kind decides the code
/// and the Russian description; `detail` is the whole English sentence for a developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub kind: ErrorKind,
    /// The English description: what exactly was wrong.
    pub detail: String,
    /// The field a missing/malformed error is about.
    pub field: Option<String>,
    /// Echoed as `pg_payment_id` when the call was about a known payment.
    pub payment_id: Option<u64>,
    /// The payment's language (its init's `pg_language`), when the call was about one.
    pub language: Option<Language>,
}

impl Rejection {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            field: None,
            payment_id: None,
            language: None,
        }
    }

    pub fn for_payment(mut self, id: u64) -> Self {
        self.payment_id = Some(id);
        self
    }

    pub fn in_language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }

    pub fn missing(field: &str) -> Self {
        let mut r = Self::new(
            ErrorKind::MissingField,
            format!("missing required field {field}"),
        );
        r.field = Some(field.to_owned());
        r
    }

    pub fn malformed(field: &str, why: impl std::fmt::Display) -> Self {
        let mut r = Self::new(
            ErrorKind::MalformedField,
            format!("malformed field {field}: {why}"),
        );
        r.field = Some(field.to_owned());
        r
    }

    /// `pg_error_description` in `language`.
    pub fn description(&self, language: Language) -> String {
        describe(self.kind, &self.detail, self.field.as_deref(), language)
    }
}

/// A description in `language`: the English detail, or the kind's Russian words (with the
/// field, for field errors).
pub(crate) fn describe(
    kind: ErrorKind,
    detail: &str,
    field: Option<&str>,
    language: Language,
) -> String {
    match (language, field) {
        (Language::English, _) => detail.to_owned(),
        (Language::Russian, Some(field)) if kind.names_field() => {
            format!("{} {field}", kind.russian())
        }
        (Language::Russian, _) => kind.russian().to_owned(),
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

    /// The codes seen from the real gateway (../shared/freedompay-mobile-balance.md).
    #[test]
    fn defaults_are_the_real_gateways_codes() {
        for (kind, code) in [
            (ErrorKind::BadSignature, 9998),
            (ErrorKind::MerchantUnknown, 9997),
            (ErrorKind::WrongCode, 11002),
            (ErrorKind::AttemptsExhausted, 11007),
            (ErrorKind::CodeExpired, 11008),
            (ErrorKind::InsufficientFunds, 11006),
            (ErrorKind::OperatorError, 11001),
            (ErrorKind::UnsupportedPhone, 11021),
            (ErrorKind::PaymentExpired, 10018),
            (ErrorKind::InvalidPhone, 10031),
        ] {
            assert_eq!(kind.default_code(), code, "{}", kind.name());
            assert_eq!(kind.source(), CodeSource::Seen, "{}", kind.name());
        }
        assert_eq!(
            ErrorKind::BadSignature.russian(),
            "Некорректная подпись запроса"
        );
        assert_eq!(
            ErrorKind::MerchantUnknown.russian(),
            "Неверный номер магазина"
        );
        // Everything the emulator invented stays in its own range.
        for kind in ErrorKind::ALL {
            if kind.source() == CodeSource::Emulator {
                assert!(
                    (8000..9000).contains(&kind.default_code()),
                    "{}",
                    kind.name()
                );
            }
        }
    }

    #[test]
    fn descriptions_follow_the_language() {
        let r = Rejection::missing("pg_amount");
        assert_eq!(
            r.description(Language::Russian),
            "Не указан обязательный параметр pg_amount"
        );
        assert_eq!(
            r.description(Language::English),
            "missing required field pg_amount"
        );
        let r = Rejection::new(
            ErrorKind::WrongCode,
            "wrong approval code: 2 attempt(s) left",
        );
        assert_eq!(
            r.description(Language::Russian),
            "Введен неверный код SMS. Повторите еще раз"
        );
        assert_eq!(Language::from_field(Some("EN")), Some(Language::English));
        assert_eq!(Language::from_field(Some("kz")), Some(Language::Russian));
        assert_eq!(Language::from_field(Some("")), None);
    }

    #[test]
    fn overrides_replace_defaults() {
        let raw: RawErrorCodes =
            serde_saphyr::from_str("wrong_code: 77\nbad_signature: 1").unwrap();
        let mut codes = ErrorCodes::default();
        raw.apply(&mut codes);
        assert_eq!(codes.code(ErrorKind::WrongCode), 77);
        assert_eq!(codes.code(ErrorKind::BadSignature), 1);
        assert_eq!(codes.code(ErrorKind::CodeExpired), 11008);
        assert!(serde_saphyr::from_str::<RawErrorCodes>("wrong_cod: 1").is_err());
    }

    #[test]
    fn the_documentation_lists_every_code() {
        let doc = include_str!("../../docs/emulator.md");
        for kind in ErrorKind::ALL {
            let row = format!(
                "| `{}` | {} | {} |",
                kind.name(),
                kind.default_code(),
                kind.source().label()
            );
            assert!(
                doc.contains(&row),
                "docs/emulator.md lacks the row starting {row}"
            );
        }
    }
}

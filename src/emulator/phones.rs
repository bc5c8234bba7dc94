//! The emulator's phone conventions: which operator a number belongs to, the test phones and
//! what paying from each one does, and the SMS codes they get.
//!
//! Freedom Pay publishes two test phones (Kcell `77017777777` and Activ `77027777777`, both
//! with SMS code `111111`). The emulator keeps those and adds the same pattern for Beeline,
//! Tele2 and Altel: `7 70X 7777777`, where `70X` is the operator's first prefix. The last two
//! digits pick the behaviour: `77` SMS code, `01` immediate success, `02` SMS code then
//! `process` then success, `03` insufficient funds, `04` operator error. Every test phone that
//! asks for a code gets the fixed code `111111`, as on the test server.
//!
//! Any other number in an operator's range pays with the SMS code flow and a random six-digit
//! code (deterministic with a seed), read back with `sms_code(phone)` or `/_emulator/sms/PHONE`.
//! This table is mirrored in `docs/emulator.md`; a unit test keeps the two in step.

use std::fmt;

/// A Kazakh mobile operator that mobile commerce can charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Kcell,
    Activ,
    Beeline,
    Tele2,
    Altel,
}

impl Operator {
    pub const ALL: [Operator; 5] = [
        Operator::Kcell,
        Operator::Activ,
        Operator::Beeline,
        Operator::Tele2,
        Operator::Altel,
    ];

    /// The `pg_payment_system_code` for this operator.
    pub fn code(self) -> &'static str {
        match self {
            Operator::Kcell => "KCELLKZT",
            Operator::Activ => "ACTIVKZT",
            Operator::Beeline => "BEELINEKZT",
            Operator::Tele2 => "TELE2KZT",
            Operator::Altel => "ALTELKZT",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Operator::Kcell => "Kcell",
            Operator::Activ => "Activ",
            Operator::Beeline => "Beeline",
            Operator::Tele2 => "Tele2",
            Operator::Altel => "Altel",
        }
    }

    /// The three digits after the country code `7` (public numbering plan).
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Operator::Kcell => &["701"],
            Operator::Activ => &["702", "775", "778"],
            Operator::Beeline => &["705", "771", "776", "777"],
            Operator::Tele2 => &["707", "747"],
            Operator::Altel => &["700", "708"],
        }
    }

    /// Reads a `pg_payment_system_code`, in any letter case.
    pub fn from_code(code: &str) -> Option<Operator> {
        Operator::ALL
            .into_iter()
            .find(|op| op.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happens when a phone pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Pay answers `ok`: the payment succeeds without a code.
    Immediate,
    /// Pay answers `need_approve`; approve with the right code answers `ok`.
    SmsCode,
    /// Like `SmsCode`, but approve answers `process` and the payment succeeds after the
    /// configured approve delay.
    CodeThenProcess,
    /// Pay answers `error` (insufficient_funds); the payment fails.
    InsufficientFunds,
    /// Pay answers `error` (operator_error); the payment fails.
    OperatorError,
}

impl Behaviour {
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Immediate => "immediate success",
            Behaviour::SmsCode => "SMS code",
            Behaviour::CodeThenProcess => "SMS code, then process, then success",
            Behaviour::InsufficientFunds => "insufficient funds",
            Behaviour::OperatorError => "operator error",
        }
    }

    pub fn needs_code(self) -> bool {
        matches!(self, Behaviour::SmsCode | Behaviour::CodeThenProcess)
    }
}

/// The SMS code of every test phone that asks for one (the test server's published code).
pub const TEST_CODE: &str = "111111";

/// One test phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestPhone {
    pub phone: &'static str,
    pub operator: Operator,
    pub behaviour: Behaviour,
    /// Whether the number is published by Freedom Pay (true) or an emulator convention.
    pub published: bool,
}

const fn phone(
    phone: &'static str,
    operator: Operator,
    behaviour: Behaviour,
    published: bool,
) -> TestPhone {
    TestPhone {
        phone,
        operator,
        behaviour,
        published,
    }
}

use Behaviour::{CodeThenProcess, Immediate, InsufficientFunds, OperatorError, SmsCode};
use Operator::{Activ, Altel, Beeline, Kcell, Tele2};

/// Every test phone and what it does.
pub const TEST_PHONES: &[TestPhone] = &[
    phone("77017777777", Kcell, SmsCode, true),
    phone("77017777701", Kcell, Immediate, false),
    phone("77017777702", Kcell, CodeThenProcess, false),
    phone("77017777703", Kcell, InsufficientFunds, false),
    phone("77017777704", Kcell, OperatorError, false),
    phone("77027777777", Activ, SmsCode, true),
    phone("77027777701", Activ, Immediate, false),
    phone("77027777702", Activ, CodeThenProcess, false),
    phone("77027777703", Activ, InsufficientFunds, false),
    phone("77027777704", Activ, OperatorError, false),
    phone("77057777777", Beeline, SmsCode, false),
    phone("77057777701", Beeline, Immediate, false),
    phone("77057777702", Beeline, CodeThenProcess, false),
    phone("77057777703", Beeline, InsufficientFunds, false),
    phone("77057777704", Beeline, OperatorError, false),
    phone("77077777777", Tele2, SmsCode, false),
    phone("77077777701", Tele2, Immediate, false),
    phone("77077777702", Tele2, CodeThenProcess, false),
    phone("77077777703", Tele2, InsufficientFunds, false),
    phone("77077777704", Tele2, OperatorError, false),
    phone("77007777777", Altel, SmsCode, false),
    phone("77007777701", Altel, Immediate, false),
    phone("77007777702", Altel, CodeThenProcess, false),
    phone("77007777703", Altel, InsufficientFunds, false),
    phone("77007777704", Altel, OperatorError, false),
];

/// What the emulator knows about a phone that pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PhoneProfile {
    pub phone: String,
    pub operator: Operator,
    pub behaviour: Behaviour,
    /// The code every SMS to this phone carries; `None` means a random code each time.
    pub fixed_code: Option<&'static str>,
}

/// Why a `pg_abonent_phone` cannot pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PhoneProblem {
    /// Not 11 digits starting with 7.
    Malformed,
    /// 11 digits, but in no operator's range.
    NoOperator,
}

/// The operator whose range holds this number (11 digits, `7` + prefix + 7 digits).
pub fn operator_of(phone: &str) -> Option<Operator> {
    if !is_well_formed(phone) {
        return None;
    }
    let prefix = &phone[1..4];
    Operator::ALL
        .into_iter()
        .find(|op| op.prefixes().contains(&prefix))
}

/// The test phone with this number, if it is one.
pub fn test_phone(phone: &str) -> Option<&'static TestPhone> {
    TEST_PHONES.iter().find(|t| t.phone == phone)
}

fn is_well_formed(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('7') && phone.bytes().all(|b| b.is_ascii_digit())
}

/// How a phone pays: its test-phone row, or its operator's range with the SMS code flow.
pub(crate) fn profile(phone: &str) -> Result<PhoneProfile, PhoneProblem> {
    if !is_well_formed(phone) {
        return Err(PhoneProblem::Malformed);
    }
    if let Some(test) = test_phone(phone) {
        return Ok(PhoneProfile {
            phone: phone.to_owned(),
            operator: test.operator,
            behaviour: test.behaviour,
            fixed_code: test.behaviour.needs_code().then_some(TEST_CODE),
        });
    }
    let operator = operator_of(phone).ok_or(PhoneProblem::NoOperator)?;
    Ok(PhoneProfile {
        phone: phone.to_owned(),
        operator,
        behaviour: Behaviour::SmsCode,
        fixed_code: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_phones_follow_the_documented_pattern() {
        for t in TEST_PHONES {
            assert_eq!(operator_of(t.phone), Some(t.operator), "{}", t.phone);
            let base = format!("7{}7777", t.operator.prefixes()[0]);
            assert!(t.phone.starts_with(&base), "{}", t.phone);
            let suffix = match t.behaviour {
                SmsCode => "77",
                Immediate => "01",
                CodeThenProcess => "02",
                InsufficientFunds => "03",
                OperatorError => "04",
            };
            assert!(t.phone.ends_with(suffix), "{}", t.phone);
        }
        assert_eq!(TEST_PHONES.len(), 25);
    }

    #[test]
    fn published_phones_use_the_published_code() {
        for phone in ["77017777777", "77027777777"] {
            let p = profile(phone).unwrap();
            assert_eq!(p.behaviour, SmsCode);
            assert_eq!(p.fixed_code, Some("111111"));
        }
        assert_eq!(profile("77017777701").unwrap().fixed_code, None);
    }

    #[test]
    fn other_numbers_go_by_range() {
        let cases = [
            ("77011234567", Some(Kcell)),
            ("77751234567", Some(Activ)),
            ("77781234567", Some(Activ)),
            ("77711234567", Some(Beeline)),
            ("77771234567", Some(Beeline)),
            ("77471234567", Some(Tele2)),
            ("77081234567", Some(Altel)),
            ("77991234567", None),
            ("7701123456", None),
            ("+7701123456", None),
            ("87011234567", None),
        ];
        for (phone, expected) in cases {
            assert_eq!(operator_of(phone), expected, "{phone}");
        }
        assert_eq!(profile("77991234567"), Err(PhoneProblem::NoOperator));
        assert_eq!(profile("7701"), Err(PhoneProblem::Malformed));
        let p = profile("77471234567").unwrap();
        assert_eq!(
            (p.operator, p.behaviour, p.fixed_code),
            (Tele2, SmsCode, None)
        );
    }

    #[test]
    fn operator_codes_read_in_any_case() {
        assert_eq!(Operator::from_code("kcellkzt"), Some(Kcell));
        assert_eq!(Operator::from_code("TELE2KZT"), Some(Tele2));
        assert_eq!(Operator::from_code("MTSKZT"), None);
    }

    #[test]
    fn the_documentation_lists_every_test_phone() {
        let doc = include_str!("../../docs/emulator.md");
        for t in TEST_PHONES {
            let row = format!(
                "| `{}` | {} | {} |",
                t.phone,
                t.operator,
                t.behaviour.name()
            );
            assert!(
                doc.contains(&row),
                "docs/emulator.md lacks the row starting {row}"
            );
        }
    }
}

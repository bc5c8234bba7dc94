//! The five gateway calls — init, pay, approve, resend code, status — from decoded fields to
//! the signed answer: identify the merchant, verify `pg_sig`, validate the call's fields, move
//! the payment, and sign what is answered.
//!
//! Checks run in the gateway's order: an unknown merchant first (9998, unsigned, since there
//! is no key to sign with), then the signature, then the fields, then the payment's state.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::gateway::signature::{Verification, explain, verify};
use crate::gateway::{Fields, Operation};

use super::answer::{Signer, error_fields, render};
use super::callbacks::CallbackMethod;
use super::changes;
use super::errors::{ErrorKind, Language, Rejection};
use super::payment::{Approved, Charged, NewPayment, PayStart};
use super::phones::{self, Operator, PhoneProblem};
use super::server::App;

/// Script names a status request may be signed with: the documented one, and the legacy one
/// (a docs example and Platron's SDK sign `get_status.php`, and call that route).
pub(crate) const STATUS_SCRIPTS: [&str; 2] = ["get_status3.php", "get_status.php"];

/// Which operator serves a number: `POST /mfs/check_mnp` (seen in a production client; the
/// docs do not publish it), script name `check_mnp`.
pub(crate) const CHECK_MNP_PATH: &str = "/mfs/check_mnp";

/// The answer to one gateway call, and what the emulator tells the developer beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The `<response>` XML.
    pub body: String,
    /// For a refusal, what exactly was wrong, in English; for a bad signature, the string the
    /// emulator expected to be signed (secret masked), which the real gateway never tells.
    /// Sent as the `X-Emulator-Hint` header and logged, never in the body.
    pub hint: Option<String>,
    /// One line for the request log: `ok`, `need_approve`, `error 11002 wrong_code`, …
    pub outcome: String,
    /// The payment the call was about, when it names one (or init created one).
    pub payment_id: Option<u64>,
}

impl Answer {
    /// An unsigned refusal in `language`, for a merchant the emulator has not authenticated
    /// (or a request it could not read): no salt, no signature, the detail as the hint.
    pub(crate) fn unsigned(
        rejection: Rejection,
        app: &App,
        language: Language,
        payment_id: Option<u64>,
    ) -> Answer {
        Answer {
            body: render(error_fields(&rejection, &app.codes, language), None),
            outcome: outcome_of(&rejection, app),
            hint: Some(rejection.detail),
            payment_id,
        }
    }
}

/// The `pg_payment_id` a request names, when it is a number.
fn requested_payment(request: &Fields) -> Option<u64> {
    request.get("pg_payment_id")?.trim().parse().ok()
}

/// Answers one gateway call; `script` is the last segment of the request path.
pub(crate) async fn answer(
    app: &Arc<App>,
    op: &Operation,
    script: &str,
    request: &Fields,
) -> Answer {
    let fields = request;
    // The request's own pg_language wins; else a payment's, else Russian, as the gateway.
    let asked = Language::from_field(fields.get("pg_language"));
    // An unsigned refusal: the merchant is not authenticated.
    let refuse = |rejection: Rejection| {
        let language = asked.or(rejection.language).unwrap_or_default();
        let payment_id = rejection.payment_id.or_else(|| requested_payment(request));
        Answer::unsigned(rejection, app, language, payment_id)
    };

    let merchant = fields.get("pg_merchant_id").unwrap_or("").trim().to_owned();
    let Some(secret) = app.merchants.get(&merchant) else {
        let why = if merchant.is_empty() {
            "merchant not identified: pg_merchant_id is missing".to_owned()
        } else {
            format!("merchant not identified: no merchant {merchant}")
        };
        return refuse(Rejection::new(ErrorKind::MerchantUnknown, why));
    };

    let mut signed_as = script.to_owned();
    let verification = verify(script, fields, secret);
    if !verification.is_valid() {
        let alternative = (*op == Operation::Status)
            .then(|| {
                STATUS_SCRIPTS
                    .into_iter()
                    .find(|s| *s != script && verify(s, fields, secret).is_valid())
            })
            .flatten();
        match alternative {
            Some(other) => signed_as = other.to_owned(),
            None => {
                // The real gateway answers 9998, unsigned, and says nothing more; the string
                // it expected goes to the hint (header and log) only, never to the body.
                let why = match verification {
                    Verification::Missing => "pg_sig is missing".to_owned(),
                    _ => "pg_sig does not match the request".to_owned(),
                };
                let mut answer = refuse(Rejection::new(ErrorKind::BadSignature, why));
                if !matches!(verification, Verification::Missing) {
                    answer.hint = Some(format!(
                        "pg_sig does not match the request; the signed string should be `{}`",
                        explain(script, fields)
                    ));
                }
                return answer;
            }
        }
    }

    let signer = Signer {
        script: &signed_as,
        secret,
    };
    let result = match op {
        Operation::Init => init(app, &merchant, fields),
        Operation::Pay => pay(app, &merchant, fields).await,
        Operation::Approve => approve(app, &merchant, fields),
        Operation::ResendCode => resend(app, &merchant, fields),
        Operation::Status => status(app, &merchant, fields),
        Operation::Other(path) if path == CHECK_MNP_PATH => check_mnp(fields),
        // The server only routes the named calls (and check_mnp) here.
        Operation::Other(path) => Err(Rejection::new(
            ErrorKind::UnknownRoute,
            format!("no call is served at {path}"),
        )),
    };
    let mut hint = None;
    let (mut fields, outcome) = match result {
        Ok(fields) => {
            let outcome = fields.get("pg_status").unwrap_or("").to_owned();
            (fields, outcome)
        }
        Err(rejection) if rejection.kind.is_unsigned() => return refuse(rejection),
        Err(rejection) => {
            let language = asked.or(rejection.language).unwrap_or_default();
            hint = Some(rejection.detail.clone());
            (
                error_fields(&rejection, &app.codes, language),
                outcome_of(&rejection, app),
            )
        }
    };
    let payment_id = fields
        .get("pg_payment_id")
        .and_then(|id| id.parse().ok())
        .or_else(|| requested_payment(request));
    changes::apply_all(&app.answer_changes, op, &mut fields);
    Answer {
        body: render(fields, Some(signer)),
        hint,
        outcome,
        payment_id,
    }
}

/// A call the payer's page makes on the payer's behalf — pay, approve or resend code — for
/// the payment the page belongs to: the gateway's own page is not signed by the merchant, so
/// it goes straight to the call's rules, the same rules a signed call meets.
pub(crate) async fn from_payer_page(
    app: &Arc<App>,
    op: &Operation,
    merchant: &str,
    fields: &Fields,
) -> Result<Fields, Rejection> {
    match op {
        Operation::Pay => pay(app, merchant, fields).await,
        Operation::Approve => approve(app, merchant, fields),
        Operation::ResendCode => resend(app, merchant, fields),
        other => Err(Rejection::new(
            ErrorKind::UnknownRoute,
            format!("the payer's page does not make {}", other.name()),
        )),
    }
}

/// The log's word for a refusal: `error 11002 wrong_code`.
fn outcome_of(rejection: &Rejection, app: &App) -> String {
    format!(
        "error {} {}",
        app.codes.code(rejection.kind),
        rejection.kind.name()
    )
}

fn ok_fields(payment_id: u64, status: &str) -> Fields {
    let mut f = Fields::new();
    f.push("pg_status", status);
    f.push("pg_payment_id", payment_id.to_string());
    f
}

fn required<'a>(fields: &'a Fields, name: &str) -> Result<&'a str, Rejection> {
    match fields.get(name) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Rejection::missing(name)),
    }
}

fn payment_id(fields: &Fields) -> Result<u64, Rejection> {
    parse_payment_id(required(fields, "pg_payment_id")?)
}

fn parse_payment_id(text: &str) -> Result<u64, Rejection> {
    let text = text.trim();
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rejection::malformed(
            "pg_payment_id",
            format!("`{text}` is not a number"),
        ));
    }
    text.parse()
        .map_err(|_| Rejection::malformed("pg_payment_id", format!("`{text}` is out of range")))
}

fn init(app: &Arc<App>, merchant: &str, fields: &Fields) -> Result<Fields, Rejection> {
    // Without a method (or with another one) the payer chooses on the payment page behind
    // pg_redirect_url, as on the real gateway; such a payment can still be paid with pay.
    let method = fields
        .get("pg_payment_method")
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    let amount = required(fields, "pg_amount")?.trim();
    check_amount(amount)?;
    let description = required(fields, "pg_description")?;
    if description.chars().count() > 1024 {
        return Err(Rejection::malformed(
            "pg_description",
            "longer than 1024 characters",
        ));
    }
    let order_id = fields.get("pg_order_id").unwrap_or("");
    if order_id.chars().count() > 50 {
        return Err(Rejection::malformed(
            "pg_order_id",
            "longer than 50 characters",
        ));
    }
    let currency = match fields.get("pg_currency") {
        None | Some("") => "KZT",
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => c,
        Some(c) => {
            return Err(Rejection::malformed(
                "pg_currency",
                format!("`{c}` is not a three-letter code like KZT"),
            ));
        }
    };
    let lifetime = match fields.get("pg_lifetime") {
        None | Some("") => 86_400,
        Some(text) => match text.trim().parse::<u64>() {
            Ok(secs @ 300..=604_800) => secs,
            _ => {
                return Err(Rejection::malformed(
                    "pg_lifetime",
                    format!("`{text}` must be a number of seconds from 300 to 604800"),
                ));
            }
        },
    };
    let testing_mode = match fields.get("pg_testing_mode") {
        None | Some("") | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Err(Rejection::malformed(
                "pg_testing_mode",
                format!("`{other}` must be 0 or 1"),
            ));
        }
    };
    if let Some(language) = fields.get("pg_language")
        && !language.is_empty()
        && !["ru", "en", "kz", "kg", "uz"].contains(&language)
    {
        return Err(Rejection::malformed(
            "pg_language",
            format!("`{language}` must be ru, en, kz, kg or uz"),
        ));
    }
    let request_method = match fields.get("pg_request_method") {
        None | Some("") => CallbackMethod::Post,
        Some(m) => CallbackMethod::parse(m).ok_or_else(|| {
            Rejection::malformed(
                "pg_request_method",
                format!("`{m}` must be GET, POST or XML"),
            )
        })?,
    };
    let url = |name: &str| -> Result<Option<String>, Rejection> {
        match fields.get(name) {
            None | Some("") => Ok(None),
            Some(text) => match Url::parse(text) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    Ok(Some(text.to_owned()))
                }
                _ => Err(Rejection::malformed(
                    name,
                    format!("`{text}` is not an http(s) URL"),
                )),
            },
        }
    };
    let check_url = url("pg_check_url")?;
    let result_url = url("pg_result_url")?;
    // Kept for the payer's page, which sends the browser back to them.
    let success_url = url("pg_success_url")?;
    let failure_url = url("pg_failure_url")?;
    let language = Language::from_field(fields.get("pg_language")).unwrap_or_default();
    let params = ["pg_param1", "pg_param2", "pg_param3"]
        .into_iter()
        .filter_map(|name| fields.get(name).map(|v| (name.to_owned(), v.to_owned())))
        .collect();
    let secret = app.merchants.get(merchant).cloned().ok_or_else(|| {
        Rejection::new(
            ErrorKind::MerchantUnknown,
            format!("merchant not identified: no merchant {merchant}"),
        )
    })?;

    let data = NewPayment {
        merchant_id: merchant.to_owned(),
        secret,
        order_id: order_id.to_owned(),
        amount: amount.to_owned(),
        currency: currency.to_owned(),
        description: description.to_owned(),
        lifetime: Duration::from_secs(lifetime),
        testing_mode,
        language,
        method,
        customer: customer_token(),
        user_phone: fields.get("pg_user_phone").unwrap_or("").to_owned(),
        user_contact_email: fields.get("pg_user_contact_email").unwrap_or("").to_owned(),
        check_url,
        result_url,
        success_url,
        failure_url,
        request_method,
        params,
    };
    let customer = data.customer.clone();
    let id = app.with_store(|store, now, effects| store.create(data, now, effects))?;
    let mut f = ok_fields(id, "ok");
    // The real shape: https://customer.freedompay.kz/pay.html?customer=<32 hex>.
    f.push(
        "pg_redirect_url",
        format!("{}{PAY_PAGE_PATH}?customer={customer}", app.base_url),
    );
    f.push("pg_redirect_url_type", "need data");
    Ok(f)
}

/// Where the payer's page is served (`pg_redirect_url`).
pub(crate) const PAY_PAGE_PATH: &str = "/pay.html";

/// A payment page's `customer`: 32 random hex digits, as in the real gateway's redirects.
fn customer_token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// `pg_amount`: a decimal with at most two decimals, from 0.01 to 99999999.
fn check_amount(amount: &str) -> Result<(), Rejection> {
    let malformed = || {
        Rejection::malformed(
            "pg_amount",
            format!("`{amount}` must be a number from 0.01 to 99999999 with at most two decimals"),
        )
    };
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 2
        || amount.ends_with('.')
    {
        return Err(malformed());
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 8 {
        return Err(malformed());
    }
    let cents = whole.parse::<u64>().unwrap_or(0) * 100
        + format!("{fraction:0<2}").parse::<u64>().unwrap_or(0);
    if cents > 9_999_999_900 {
        return Err(malformed());
    }
    if cents < 1 {
        return Err(Rejection::new(
            ErrorKind::AmountTooSmall,
            format!("pg_amount `{amount}` is below the minimum of 0.01"),
        ));
    }
    Ok(())
}

async fn pay(app: &Arc<App>, merchant: &str, fields: &Fields) -> Result<Fields, Rejection> {
    let id = payment_id(fields)?;
    let phone = required(fields, "pg_abonent_phone")?.trim();
    let profile = phones::profile(phone).map_err(|problem| phone_rejection(phone, problem))?;
    if let Some(code) = fields
        .get("pg_payment_system_code")
        .filter(|c| !c.is_empty())
    {
        let named = Operator::from_code(code).ok_or_else(|| {
            let known: Vec<_> = Operator::ALL.iter().map(|op| op.code()).collect();
            Rejection::malformed(
                "pg_payment_system_code",
                format!("`{code}` is not an operator code ({})", known.join(", ")),
            )
        })?;
        if named != profile.operator {
            return Err(Rejection::new(
                ErrorKind::OperatorMismatch,
                format!(
                    "{phone} belongs to {} ({}), not to {code}",
                    profile.operator,
                    profile.operator.code()
                ),
            )
            .for_payment(id));
        }
    }

    let start =
        app.with_store(|store, now, effects| store.start_pay(merchant, id, profile, now, effects))?;
    let charged = match start {
        PayStart::Charged(charged) => charged,
        PayStart::Check(job) => {
            // The lock is released while the merchant is asked; the payment sits in
            // `checking`, so a concurrent pay is refused meanwhile.
            let verdict = app.callbacks.check(&job).await;
            app.with_store(|store, now, effects| {
                store.finish_pay(merchant, id, verdict, now, effects)
            })?
        }
    };
    Ok(match charged {
        Charged::Ok => ok_fields(id, "ok"),
        Charged::NeedApprove { .. } => ok_fields(id, "need_approve"),
    })
}

/// The refusal for a phone that cannot be charged.
fn phone_rejection(phone: &str, problem: PhoneProblem) -> Rejection {
    match problem {
        PhoneProblem::Malformed => Rejection::new(
            ErrorKind::InvalidPhone,
            format!(
                "pg_abonent_phone `{phone}` must be 11 digits starting with 7, like 77017777777"
            ),
        ),
        PhoneProblem::NoOperator => Rejection::new(
            ErrorKind::UnsupportedPhone,
            format!("{phone} belongs to no mobile operator that mobile balance serves"),
        ),
    }
}

/// check_mnp: which operator serves `pg_abonent_phone` (`7XXXXXXXXXX` or `+7XXXXXXXXXX`),
/// answered as `pg_operator_name` (Kcell, Activ, Beeline, Tele2, Altel).
fn check_mnp(fields: &Fields) -> Result<Fields, Rejection> {
    let given = required(fields, "pg_abonent_phone")?.trim();
    let phone = given.strip_prefix('+').unwrap_or(given);
    let operator = phones::profile(phone)
        .map_err(|problem| phone_rejection(given, problem))?
        .operator;
    let mut f = Fields::new();
    f.push("pg_status", "ok");
    f.push("pg_operator_name", operator.name());
    Ok(f)
}

fn approve(app: &Arc<App>, merchant: &str, fields: &Fields) -> Result<Fields, Rejection> {
    let id = payment_id(fields)?;
    let code = required(fields, "pg_approval_code")?.trim().to_owned();
    let approved =
        app.with_store(|store, now, effects| store.approve(merchant, id, &code, now, effects))?;
    Ok(match approved {
        Approved::Ok => ok_fields(id, "ok"),
        Approved::Process => ok_fields(id, "process"),
    })
}

fn resend(app: &Arc<App>, merchant: &str, fields: &Fields) -> Result<Fields, Rejection> {
    let id = payment_id(fields)?;
    app.with_store(|store, now, effects| store.resend(merchant, id, now, effects))?;
    Ok(ok_fields(id, "ok"))
}

fn status(app: &Arc<App>, merchant: &str, fields: &Fields) -> Result<Fields, Rejection> {
    let id = match fields.get("pg_payment_id").filter(|v| !v.trim().is_empty()) {
        Some(text) => Some(parse_payment_id(text)?),
        None => None,
    };
    let order_id = fields.get("pg_order_id").filter(|v| !v.is_empty());
    let found =
        app.with_store(|store, now, effects| store.status(merchant, id, order_id, now, effects))?;
    let mut f = Fields::new();
    f.push("pg_status", "ok");
    for (name, value) in found.iter() {
        f.push_value(name, value.clone());
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        for ok in [
            "0.01",
            "1",
            "150.00",
            "25",
            "99999999",
            "99999999.00",
            "007.5",
        ] {
            assert_eq!(check_amount(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            ".5",
            "1.",
            "1.234",
            "-1",
            "1e3",
            "1,00",
            "100000000",
            "99999999.01",
            " 1",
        ] {
            assert_eq!(
                check_amount(bad).unwrap_err().kind,
                ErrorKind::MalformedField,
                "{bad}"
            );
        }
        for small in ["0", "0.00", "0.001x"] {
            let kind = check_amount(small).unwrap_err().kind;
            assert!(
                matches!(kind, ErrorKind::AmountTooSmall | ErrorKind::MalformedField),
                "{small}"
            );
        }
        assert_eq!(
            check_amount("0.00").unwrap_err().kind,
            ErrorKind::AmountTooSmall
        );
    }

    #[test]
    fn payment_ids() {
        assert_eq!(parse_payment_id(" 123 "), Ok(123));
        assert_eq!(
            parse_payment_id("12a").unwrap_err().kind,
            ErrorKind::MalformedField
        );
        assert_eq!(
            parse_payment_id("99999999999999999999999")
                .unwrap_err()
                .kind,
            ErrorKind::MalformedField
        );
    }
}

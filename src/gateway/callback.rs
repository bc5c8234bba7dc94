//! Callbacks to the merchant and the contract of the merchant's reply.
//!
//! The gateway calls the merchant's check URL (before charging) and result URL (once a payment
//! is final), signed with the last path segment of that URL as the script name, sent as
//! `pg_request_method` asks. The merchant's reply must keep the rules in [`Rule`]; one check
//! ([`check_reply`]) serves `fph callback send` (driving a merchant's handler) and the
//! emulator (judging the replies to its own callbacks), so both apply the same contract.

use std::fmt;

use super::signature::{script_name, verify};
use super::xml::{Document, body_head};
use super::{Fields, SecretKey};

/// Which of the merchant's URLs a callback goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackKind {
    /// `pg_check_url`: asked before the phone is charged.
    Check,
    /// `pg_result_url`: told once the payment succeeded or failed.
    Result,
}

impl CallbackKind {
    pub fn name(self) -> &'static str {
        match self {
            CallbackKind::Check => "check",
            CallbackKind::Result => "result",
        }
    }
}

/// `pg_request_method`: how callbacks are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMethod {
    /// GET parameters.
    Get,
    /// A POST form (the default).
    Post,
    /// A POST form holding one `pg_xml` field with a `<request>` document.
    Xml,
}

impl CallbackMethod {
    pub fn name(self) -> &'static str {
        match self {
            CallbackMethod::Get => "GET",
            CallbackMethod::Post => "POST",
            CallbackMethod::Xml => "XML",
        }
    }

    /// How a callback sent this way goes on the wire: a urlencoded POST form, GET
    /// parameters, or a form holding one `pg_xml` field.
    pub fn encoding(self) -> super::Encoding {
        match self {
            CallbackMethod::Post => super::Encoding::Urlencoded,
            CallbackMethod::Get => super::Encoding::Get,
            CallbackMethod::Xml => super::Encoding::PgXml,
        }
    }

    pub fn parse(text: &str) -> Option<CallbackMethod> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Some(CallbackMethod::Get),
            "POST" => Some(CallbackMethod::Post),
            "XML" => Some(CallbackMethod::Xml),
            _ => None,
        }
    }
}

/// What the merchant's handler answered one callback: the HTTP status and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantReply {
    pub http_status: u16,
    pub body: Vec<u8>,
}

/// One rule of the reply contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The reply is HTTP 200 (anything else is unanswered and retried).
    Http200,
    /// The body is an XML `<response>` document.
    XmlResponse,
    /// `pg_status` is `ok`, `rejected` or `error`.
    Status,
    /// `pg_salt` is present and not empty.
    Salt,
    /// `pg_sig` is valid for the script name of the URL's last segment.
    Signature,
    /// The same callback sent again gets the same `pg_status` and `pg_description`.
    Idempotent,
    /// A result callback is `rejected` only when it said `pg_can_reject=1`.
    RejectAllowed,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::Http200,
        Rule::XmlResponse,
        Rule::Status,
        Rule::Salt,
        Rule::Signature,
        Rule::Idempotent,
        Rule::RejectAllowed,
    ];

    /// What the rule asks, as a report line names it.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::Http200 => "answers HTTP 200",
            Rule::XmlResponse => "answers an XML <response>",
            Rule::Status => "pg_status is ok, rejected or error",
            Rule::Salt => "pg_salt is present",
            Rule::Signature => "pg_sig is valid for the URL's script name",
            Rule::Idempotent => "the same callback sent again gets the same answer",
            Rule::RejectAllowed => "rejects a result callback only when pg_can_reject=1",
        }
    }
}

/// How one rule fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Broken: what was found.
    Fail(String),
    /// Could not be judged: why (an earlier rule failed, or nothing to compare with).
    NotChecked(String),
}

/// One rule and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCheck {
    pub rule: Rule,
    pub verdict: Verdict,
}

impl RuleCheck {
    pub fn failed(&self) -> bool {
        matches!(self.verdict, Verdict::Fail(_))
    }
}

impl fmt::Display for RuleCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.verdict {
            Verdict::Pass => write!(f, "pass  {}", self.rule.describe()),
            Verdict::Fail(why) => write!(f, "FAIL  {}: {why}", self.rule.describe()),
            Verdict::NotChecked(why) => write!(f, "skip  {}: {why}", self.rule.describe()),
        }
    }
}

/// The reply's `pg_status` and `pg_description`, when it kept the rules that make it an
/// answer (HTTP 200, a signed `<response>`): what the gateway acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: String,
    pub description: String,
}

/// Reads a reply as the gateway does: an answer only when it is HTTP 200 and a `<response>`
/// signed for `script` with the merchant's key; otherwise why it counts as unanswered.
pub fn read_reply(
    script: &str,
    reply: &MerchantReply,
    secret: &SecretKey,
) -> Result<Answer, String> {
    let document = parsed(reply)?;
    if !verify(script, &document.root, secret).is_valid() {
        return Err(format!(
            "the merchant's answer is not signed for `{script}` with the merchant's key: {}",
            body_head(&reply.body)
        ));
    }
    Ok(Answer {
        status: document.text("pg_status").unwrap_or_default().to_owned(),
        description: document
            .text("pg_description")
            .unwrap_or_default()
            .to_owned(),
    })
}

fn parsed(reply: &MerchantReply) -> Result<Document, String> {
    if reply.http_status != 200 {
        return Err(format!("the merchant answered HTTP {}", reply.http_status));
    }
    Document::parse_response(&reply.body).map_err(|e| e.to_string())
}

/// Checks a reply against every rule. `url` is where the callback went (its last segment is
/// the script name), `sent` the callback's fields, `repeat` the reply to the same callback
/// sent again (without it, idempotency is not checked).
pub fn check_reply(
    kind: CallbackKind,
    url: &str,
    sent: &Fields,
    first: &MerchantReply,
    repeat: Option<&MerchantReply>,
    secret: &SecretKey,
) -> Vec<RuleCheck> {
    let script = script_name(url);
    let mut checks = Vec::with_capacity(Rule::ALL.len());
    let mut push = |rule, verdict| checks.push(RuleCheck { rule, verdict });
    let skipped = |why: &str| Verdict::NotChecked(why.to_owned());

    push(
        Rule::Http200,
        if first.http_status == 200 {
            Verdict::Pass
        } else {
            Verdict::Fail(format!(
                "HTTP {}: {}",
                first.http_status,
                body_head(&first.body)
            ))
        },
    );
    let document = match Document::parse_response(&first.body) {
        Ok(document) => {
            push(Rule::XmlResponse, Verdict::Pass);
            document
        }
        Err(e) => {
            push(Rule::XmlResponse, Verdict::Fail(e.to_string()));
            let why = "the reply is not an XML <response>";
            for rule in &Rule::ALL[2..] {
                push(*rule, skipped(why));
            }
            return checks;
        }
    };
    let status = document.text("pg_status").unwrap_or_default();
    push(
        Rule::Status,
        match status {
            "ok" | "rejected" | "error" => Verdict::Pass,
            "" => Verdict::Fail("no pg_status".into()),
            other => Verdict::Fail(format!("pg_status is `{other}`")),
        },
    );
    push(
        Rule::Salt,
        match document.text("pg_salt") {
            Some(salt) if !salt.is_empty() => Verdict::Pass,
            _ => Verdict::Fail("no pg_salt".into()),
        },
    );
    push(
        Rule::Signature,
        match verify(script, &document.root, secret) {
            super::signature::Verification::Valid => Verdict::Pass,
            super::signature::Verification::Missing => Verdict::Fail("no pg_sig".into()),
            super::signature::Verification::Mismatch { actual, .. } => Verdict::Fail(format!(
                "pg_sig `{actual}` is not the signature for `{script}` with the merchant's key"
            )),
        },
    );
    push(
        Rule::Idempotent,
        match repeat {
            None => skipped("the callback was sent once"),
            Some(again) => {
                // The same answer: the same HTTP status, pg_status and pg_description
                // (salt and signature may differ).
                let answer = |reply: &MerchantReply| {
                    let document = Document::parse_response(&reply.body).ok();
                    let text = |name| {
                        document
                            .as_ref()
                            .and_then(|d| d.text(name))
                            .unwrap_or_default()
                            .to_owned()
                    };
                    (reply.http_status, text("pg_status"), text("pg_description"))
                };
                let (a, b) = (answer(first), answer(again));
                if a == b {
                    Verdict::Pass
                } else {
                    Verdict::Fail(format!(
                        "first HTTP {} pg_status `{}` ({:?}), then HTTP {} pg_status `{}` ({:?})",
                        a.0, a.1, a.2, b.0, b.1, b.2
                    ))
                }
            }
        },
    );
    push(
        Rule::RejectAllowed,
        match (kind, status) {
            (CallbackKind::Result, "rejected") if sent.get("pg_can_reject") != Some("1") => {
                Verdict::Fail(
                    "rejected a result callback sent with pg_can_reject other than 1".into(),
                )
            }
            _ => Verdict::Pass,
        },
    );
    checks
}

/// The payment a made-up callback describes (`fph callback send`).
#[derive(Debug, Clone)]
pub struct SampleCallback {
    pub payment_id: String,
    pub amount: String,
    /// `pg_result`: true for a successful payment.
    pub success: bool,
}

/// The fields the gateway sends to that URL for that payment, unsigned, in the order the real
/// gateway sends them (see the emulator's `payment.rs`, recorded from real callbacks).
pub fn sample_fields(kind: CallbackKind, sample: &SampleCallback) -> Fields {
    let mut f = Fields::new();
    f.push("pg_order_id", format!("order-{}", sample.payment_id));
    f.push("pg_payment_id", sample.payment_id.as_str());
    f.push("pg_amount", sample.amount.as_str());
    f.push("pg_currency", "KZT");
    match kind {
        CallbackKind::Check => {
            f.push("pg_ps_amount", sample.amount.as_str());
            f.push("pg_ps_currency", "KZT");
            f.push("pg_ps_full_amount", sample.amount.as_str());
        }
        CallbackKind::Result => {
            f.push("pg_net_amount", sample.amount.as_str());
            f.push("pg_ps_amount", sample.amount.as_str());
            f.push("pg_ps_full_amount", sample.amount.as_str());
            f.push("pg_ps_currency", "KZT");
            f.push("pg_description", "fph callback send");
            f.push("pg_result", if sample.success { "1" } else { "0" });
            if sample.success {
                f.push("pg_payment_date", "2026-01-01 12:00:00");
            }
            f.push("pg_can_reject", "0");
            f.push("pg_user_phone", "77017777777");
            f.push("pg_testing_mode", "1");
            f.push("pg_payment_method", "mobile_commerce");
            if !sample.success {
                f.push("pg_failure_code", "5000");
                f.push("pg_failure_description", "payment failed");
            }
        }
    }
    f
}

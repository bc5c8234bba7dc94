//! The emulator's request log: one line per gateway call on standard error, for a developer
//! watching `fph emulator` while their backend talks to it, and one per callback attempt to
//! the merchant's URLs, saying whether the reply kept the callback contract. A refusal's line carries the hint
//! the answer's `X-Emulator-Hint` header carries — for a bad signature, the string the emulator
//! expected to be signed, with the secret masked — because the answer itself, like the real
//! gateway's, says no more than "Некорректная подпись запроса".

use axum::http::Method;

use super::callbacks::CallbackAttempt;
use super::calls::Answer;

/// Writes request lines when enabled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestLog {
    enabled: bool,
}

impl RequestLog {
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    /// Logs one answered call.
    pub fn request(&self, method: &Method, path: &str, answer: &Answer) {
        if self.enabled {
            write(&line(method, path, answer));
        }
    }

    /// Logs one callback attempt and what the merchant's reply was worth.
    pub fn callback(&self, attempt: &CallbackAttempt) {
        if self.enabled {
            write(&callback_line(attempt));
        }
    }
}

fn write(line: &str) {
    // A closed standard error must not take the server down.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `callback result #2 for payment 42 → http://shop/result (POST): ok; contract kept`, or
/// `…: unanswered: the merchant answered HTTP 500; contract broken: answers HTTP 200: HTTP 500`.
fn callback_line(attempt: &CallbackAttempt) -> String {
    let said = match (&attempt.reply_status, &attempt.failure) {
        (Some(status), _) => status.clone(),
        (None, Some(why)) => format!("unanswered: {why}"),
        (None, None) => "unanswered".to_owned(),
    };
    let contract = match &attempt.contract {
        Some(broken) if broken.is_empty() => "; contract kept".to_owned(),
        Some(broken) => format!(
            "; contract broken: {}",
            broken
                .iter()
                .map(|rule| rule.trim_start_matches("FAIL").trim())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        None => String::new(),
    };
    format!(
        "callback {} #{} for payment {} → {} ({}): {said}{contract}",
        attempt.kind.name(),
        attempt.attempt,
        attempt.payment_id,
        attempt.url,
        attempt.method,
    )
}

/// `POST /mfs/pay → error 9998 bad_signature: pg_sig does not match …`
fn line(method: &Method, path: &str, answer: &Answer) -> String {
    match &answer.hint {
        Some(hint) => format!("{method} {path} → {}: {hint}", answer.outcome),
        None => format!("{method} {path} → {}", answer.outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(
        reply_status: Option<&str>,
        failure: Option<&str>,
        contract: Option<Vec<String>>,
    ) -> CallbackAttempt {
        CallbackAttempt {
            kind: super::super::callbacks::CallbackKind::Result,
            payment_id: 42,
            url: "http://127.0.0.1:8000/shop/result".into(),
            attempt: 2,
            reply_status: reply_status.map(Into::into),
            failure: failure.map(Into::into),
            at: std::time::SystemTime::UNIX_EPOCH,
            elapsed: std::time::Duration::ZERO,
            method: "POST",
            sent: crate::gateway::Fields::new(),
            http_status: None,
            reply_body: None,
            reply_description: None,
            contract,
        }
    }

    #[test]
    fn callback_lines_say_whether_the_reply_kept_the_contract() {
        assert_eq!(
            callback_line(&attempt(Some("ok"), None, Some(Vec::new()))),
            "callback result #2 for payment 42 → http://127.0.0.1:8000/shop/result (POST): ok; contract kept"
        );
        assert_eq!(
            callback_line(&attempt(
                None,
                Some("the merchant answered HTTP 500"),
                Some(vec!["FAIL  answers HTTP 200: HTTP 500: ".into()])
            )),
            "callback result #2 for payment 42 → http://127.0.0.1:8000/shop/result (POST): unanswered: the merchant answered HTTP 500; contract broken: answers HTTP 200: HTTP 500:"
        );
        assert_eq!(
            callback_line(&attempt(None, Some("connection refused"), None)),
            "callback result #2 for payment 42 → http://127.0.0.1:8000/shop/result (POST): unanswered: connection refused"
        );
    }

    #[test]
    fn lines_name_the_call_the_outcome_and_the_hint() {
        let answer = Answer {
            body: String::new(),
            hint: Some("the signed string should be `pay;1;***`".into()),
            outcome: "error 9998 bad_signature".into(),
            payment_id: None,
        };
        assert_eq!(
            line(&Method::POST, "/mfs/pay", &answer),
            "POST /mfs/pay → error 9998 bad_signature: the signed string should be `pay;1;***`"
        );
        let ok = Answer {
            hint: None,
            outcome: "need_approve".into(),
            ..answer
        };
        assert_eq!(
            line(&Method::GET, "/mfs/pay", &ok),
            "GET /mfs/pay → need_approve"
        );
    }
}

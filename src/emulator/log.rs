//! The emulator's request log: one line per gateway call on standard error, for a developer
//! watching `fph emulator` while their backend talks to it. A refusal's line carries the hint
//! the answer's `X-Emulator-Hint` header carries — for a bad signature, the string the emulator
//! expected to be signed, with the secret masked — because the answer itself, like the real
//! gateway's, says no more than "Некорректная подпись запроса".

use axum::http::Method;

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
        if !self.enabled {
            return;
        }
        let line = line(method, path, answer);
        // A closed standard error must not take the server down.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "{line}");
    }
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

//! Replay (`fph emulator --replay CASSETTE`): instead of running payments, the emulator answers
//! each call with a recorded answer. The emulator stays the gateway — it reads the request in
//! any encoding, identifies the merchant (9997 otherwise) and checks `pg_sig` with the
//! merchant's own secret (9998 otherwise), both unsigned, and signs what it answers — while a
//! [`ReplaySource`] (the harness's `proxy::replay`) finds the recorded answer a request matches.
//!
//! A recorded answer that was signed goes out with a fresh `pg_salt` and a `pg_sig` made with
//! the caller's secret for the script name the request was signed with. A request the source
//! matches to nothing is answered with the unsigned error `not_recorded`; the source's reason
//! (the closest recorded request and the fields that differ) goes to the log line and the
//! `X-Emulator-Hint` header. A recorded answer of status 0 ([`CLOSED`]: the gateway closed the
//! connection without answering) closes the caller's connection the same way.

use std::fmt;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::gateway::signature::{SIG_FIELD, explain, fresh_salt, script_name, sign, verify};
use crate::gateway::{Document, Fields, Operation, SecretKey};

use super::answer::{XML_CONTENT_TYPE, xml_response};
use super::calls::{Answer, STATUS_SCRIPTS};
use super::dispatch::with_hint;
use super::errors::{ErrorKind, Language, Rejection};
use super::listener::Connection;
use super::request::{self, DecodeError};
use super::server::App;

/// A recorded answer, as the source found it (redacted values restored; signed with whatever
/// key it was recorded with: the emulator signs it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    /// What the log line names: `#3 (pay)`.
    pub label: String,
}

/// The recorded status of a call the gateway never answered: it closed the connection.
pub const CLOSED: u16 = 0;

/// Where recorded answers come from.
pub trait ReplaySource: Send + Sync + fmt::Debug {
    /// The answer to a request to `path` with these decoded fields (merchant and signature
    /// already checked), or why none matches — a message that may be logged and sent in a
    /// header, so it must hold no secret.
    fn answer(&self, path: &str, fields: &Fields) -> Result<RecordedAnswer, String>;

    /// Forgets what was served (`POST /_emulator/reset`).
    fn reset(&self);
}

/// The answer's salt, made fresh for every answer.
const SALT_FIELD: &str = "pg_salt";

/// Serves one request from the recording (the server routes every gateway path here).
pub(crate) async fn handle(
    app: &Arc<App>,
    connection: &Connection,
    source: &dyn ReplaySource,
    request: Request,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (status, content_type, answer) = answer(app, source, &method, &path, request).await;
    app.log.request(&method, &path, &answer);
    let Some(status) = status else {
        // Recorded as closed: the caller's connection is closed before a byte is sent.
        connection.kill();
        return xml_response(StatusCode::OK, String::new());
    };
    let mut response = xml_response(status, answer.body);
    if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    with_hint(response, answer.hint.as_deref())
}

async fn answer(
    app: &Arc<App>,
    source: &dyn ReplaySource,
    method: &Method,
    path: &str,
    request: Request,
) -> (Option<StatusCode>, Option<String>, Answer) {
    let refuse = |status: StatusCode, rejection: Rejection| {
        let answer = Answer::unsigned(rejection, app, Language::default(), None);
        (Some(status), None, answer)
    };
    if method != Method::GET && method != Method::POST {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            Rejection::new(
                ErrorKind::UnknownRoute,
                format!("{method} is not served at {path}: use POST or GET"),
            ),
        );
    }
    let fields = match request::decode(request, app.body_limit).await {
        Ok(fields) => fields,
        Err(DecodeError::TooLarge { limit }) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                Rejection::new(
                    ErrorKind::RequestTooLarge,
                    format!("the request body is larger than the limit of {limit} bytes"),
                ),
            );
        }
        Err(DecodeError::Malformed(why)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                Rejection::new(
                    ErrorKind::MalformedRequest,
                    format!("failed to read the request: {why}"),
                ),
            );
        }
    };
    let merchant = fields.get("pg_merchant_id").unwrap_or("").trim().to_owned();
    let Some(secret) = app.merchants.get(&merchant) else {
        return refuse(
            StatusCode::OK,
            Rejection::new(
                ErrorKind::MerchantUnknown,
                format!(
                    "merchant not identified: no merchant `{merchant}` (a replay serves the merchants given with --merchant)"
                ),
            ),
        );
    };
    // The script the caller signed with; status may be signed with either of its names.
    let script = script_name(path);
    let status_call = app.routes.operation_at(path) == Some(Operation::Status)
        || path.trim_end_matches('/') == "/get_status.php";
    let mut scripts = vec![script];
    if status_call {
        scripts.extend(STATUS_SCRIPTS.into_iter().filter(|s| *s != script));
    }
    let Some(signed_as) = scripts
        .into_iter()
        .find(|s| verify(s, &fields, secret).is_valid())
    else {
        // The signed string, secret masked: what the emulator always tells beside a 9998.
        return refuse(
            StatusCode::OK,
            Rejection::new(
                ErrorKind::BadSignature,
                format!(
                    "pg_sig does not match the request; the signed string should be `{}`",
                    explain(script, &fields)
                ),
            ),
        );
    };
    match source.answer(path, &fields) {
        Ok(recorded) if recorded.status == CLOSED => (
            None,
            None,
            Answer {
                body: String::new(),
                hint: None,
                outcome: format!(
                    "replayed {}: the connection closed without an answer, as recorded",
                    recorded.label
                ),
                payment_id: None,
            },
        ),
        Ok(recorded) => {
            let body = signed_anew(&recorded.body, signed_as, secret);
            let state = Document::parse_response_str(&body)
                .ok()
                .and_then(|d| d.text("pg_status").map(|s| format!(": {s}")))
                .unwrap_or_default();
            (
                Some(StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK)),
                recorded
                    .content_type
                    .or_else(|| Some(XML_CONTENT_TYPE.to_owned())),
                Answer {
                    body,
                    hint: None,
                    outcome: format!("replayed {}{state}", recorded.label),
                    payment_id: None,
                },
            )
        }
        Err(why) => {
            let (status, content_type, mut answer) =
                refuse(StatusCode::OK, Rejection::new(ErrorKind::NotRecorded, ""));
            answer.hint = Some(why);
            (status, content_type, answer)
        }
    }
}

/// A recorded answer as the gateway would sign it for this caller: a fresh `pg_salt` and a
/// `pg_sig` over the answer's own fields with the caller's secret. An answer recorded unsigned
/// (9997, 9998, anything that is not XML) goes out as it was.
fn signed_anew(body: &str, script: &str, secret: &SecretKey) -> String {
    let text_between = |text: &str, name: &str| {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&close)? + start;
        Some((start, end))
    };
    let signed =
        Document::parse_response_str(body).is_ok_and(|d| d.root.child(SIG_FIELD).is_some());
    if !signed {
        return body.to_owned();
    }
    let mut body = body.to_owned();
    if let Some((start, end)) = text_between(&body, SALT_FIELD) {
        body.replace_range(start..end, &fresh_salt());
    }
    let Ok(document) = Document::parse_response_str(&body) else {
        return body;
    };
    let sig = sign(script, &document.root, secret);
    if let Some((start, end)) = text_between(&body, SIG_FIELD) {
        body.replace_range(start..end, sig.as_str());
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_answers_get_a_fresh_salt_and_the_callers_signature() {
        let key = SecretKey::new("caller");
        let recorded = "<?xml version=\"1.0\"?>\n<response>\n  <pg_status>ok</pg_status>\n  <pg_salt>old</pg_salt>\n  <pg_sig>0</pg_sig>\n</response>\n";
        let body = signed_anew(recorded, "pay", &key);
        assert!(!body.contains("<pg_salt>old</pg_salt>"), "{body}");
        let document = Document::parse_response_str(&body).unwrap();
        assert!(verify("pay", &document.root, &key).is_valid(), "{body}");
        assert_eq!(
            body.lines().count(),
            recorded.lines().count(),
            "only the two values change"
        );
        let unsigned =
            "<response><pg_status>error</pg_status><pg_error_code>9998</pg_error_code></response>";
        assert_eq!(signed_anew(unsigned, "pay", &key), unsigned);
        assert_eq!(signed_anew("not xml", "pay", &key), "not xml");
    }
}

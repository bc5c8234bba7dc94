//! Routing each request: the admin API, the payer's page, or a gateway call (with any fault
//! for its route applied around it); wrong paths and methods get the gateway's XML error.
//!
//! Routes are looked up at request time from the configured [`Routes`], which is why a single
//! fallback handler serves everything.

use std::sync::Arc;

use std::time::{Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::gateway::signature::script_name;
use crate::gateway::{Encoding, Fields, Operation, Routes};

use super::answer::{unsigned_error, xml_response};
use super::config::ADMIN_PREFIX;
use super::console::{CallName, CallRecord};
use super::errors::{ErrorKind, Rejection};
use super::faults::{self, FaultKind, Phase};
use super::listener::Connection;
use super::replay;
use super::request::{self, DecodeError};
use super::server::App;
use super::{admin, calls, console, pay_page};

pub(super) async fn dispatch(
    State(app): State<Arc<App>>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    if console::serves(&path) {
        return console::handle(&app, request).await;
    }
    if path == ADMIN_PREFIX || path.starts_with("/_emulator/") {
        return admin::handle(&app, request).await;
    }
    if let Some(source) = &app.replay {
        return replay::handle(&app, &connection, source.as_ref(), request).await;
    }
    if path == calls::PAY_PAGE_PATH {
        return pay_page::handle(&app, request).await;
    }
    let Some(op) = operation_at(&app.routes, &path) else {
        let rejection = Rejection::new(
            ErrorKind::UnknownRoute,
            format!("no gateway call is served at {path}"),
        );
        return xml_response(
            StatusCode::NOT_FOUND,
            unsigned_error(&rejection, &app.codes),
        );
    };
    if request.method() != Method::GET && request.method() != Method::POST {
        let rejection = Rejection::new(
            ErrorKind::UnknownRoute,
            format!(
                "{} is not served at {path}: use POST or GET",
                request.method()
            ),
        );
        return xml_response(
            StatusCode::METHOD_NOT_ALLOWED,
            unsigned_error(&rejection, &app.codes),
        );
    }
    gateway(&app, &connection, &op, &path, request).await
}

/// The legacy status route: Platron's SDK (and a docs example) call `get_status.php`; the
/// real gateway serves it as `get_status3.php`, signed with the script name used.
const LEGACY_STATUS_PATH: &str = "/get_status.php";

/// The call served at `path`: a configured route, else the legacy status route or check_mnp.
fn operation_at(routes: &Routes, path: &str) -> Option<Operation> {
    routes
        .operation_at(path)
        .or_else(|| match path.trim_end_matches('/') {
            LEGACY_STATUS_PATH => Some(Operation::Status),
            calls::CHECK_MNP_PATH => Some(Operation::Other(calls::CHECK_MNP_PATH.to_owned())),
            _ => None,
        })
}

/// One gateway call, with any fault for its route applied around it.
async fn gateway(
    app: &Arc<App>,
    connection: &Connection,
    op: &Operation,
    path: &str,
    request: Request,
) -> Response {
    let started = Instant::now();
    let at = SystemTime::now();
    let method = request.method().clone();
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let fault = app.faults.take(op);
    // What the journal keeps is moved into it, not copied: the console costs the gateway
    // one short lock per call.
    let record = |(request, encoding): (Fields, Option<Encoding>),
                  http_status: StatusCode,
                  answer: calls::Answer,
                  body: Bytes| {
        app.journal.record(CallRecord {
            seq: 0,
            at,
            elapsed: started.elapsed(),
            method: method.clone(),
            path: path.to_owned(),
            content_type: content_type.clone(),
            encoding,
            call: CallName::Gateway(op.clone()),
            payment_id: answer.payment_id,
            request,
            http_status: http_status.as_u16(),
            answer: body,
            outcome: answer.outcome,
            hint: answer.hint,
            fault: fault_name(fault.as_ref()),
        });
        app.changes.bump();
    };
    if let Some(fault) = &fault {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if fault.phase == Phase::Before
            && let FaultKind::Http(_) | FaultKind::Drop = fault.kind
        {
            // The gateway never sees the call; the console still lists it with its payment,
            // so the body is read for the journal only.
            let read = request::decode_read(request, app.body_limit)
                .await
                .map_or((Fields::new(), None), |(fields, encoding)| {
                    (fields, Some(encoding))
                });
            let fields = &read.0;
            let answer = calls::Answer {
                body: String::new(),
                hint: Some("the gateway never saw this call: a fault answered it".into()),
                outcome: format!("fault {}", fault.kind),
                payment_id: fields
                    .get("pg_payment_id")
                    .and_then(|id| id.trim().parse().ok()),
            };
            return match fault.kind {
                FaultKind::Http(code) => {
                    record(read, http_code(code), answer, Bytes::new());
                    html_error(code)
                }
                _ => {
                    record(read, StatusCode::OK, answer, Bytes::new());
                    connection.kill();
                    xml_response(StatusCode::OK, String::new())
                }
            };
        }
    }

    let (status, mut answer, read) = match request::decode_read(request, app.body_limit).await {
        Ok((fields, encoding)) => (
            StatusCode::OK,
            calls::answer(app, op, script_name(path), &fields).await,
            (fields, Some(encoding)),
        ),
        Err(DecodeError::TooLarge { limit }) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            unreadable(
                app,
                Rejection::new(
                    ErrorKind::RequestTooLarge,
                    format!("the request body is larger than the limit of {limit} bytes"),
                ),
            ),
            (Fields::new(), None),
        ),
        Err(DecodeError::Malformed(why)) => (
            StatusCode::BAD_REQUEST,
            unreadable(
                app,
                Rejection::new(
                    ErrorKind::MalformedRequest,
                    format!("failed to read the request: {why}"),
                ),
            ),
            (Fields::new(), None),
        ),
    };
    app.log.request(&method, path, &answer);
    // The answer's bytes go to the client and the journal without a copy.
    let body = Bytes::from(std::mem::take(&mut answer.body));
    let (response, sent_status, sent) = match &fault {
        Some(fault) if fault.phase == Phase::After => match fault.kind {
            FaultKind::Http(code) => (html_error(code), http_code(code), Bytes::new()),
            FaultKind::Drop => {
                connection.kill();
                (
                    xml_response(StatusCode::OK, String::new()),
                    StatusCode::OK,
                    Bytes::new(),
                )
            }
            FaultKind::MalformedXml => {
                let spoilt = Bytes::from(faults::malformed(&String::from_utf8_lossy(&body)));
                (xml_bytes(status, spoilt.clone()), status, spoilt)
            }
            FaultKind::Truncated => {
                let spoilt = Bytes::from(faults::truncated(&String::from_utf8_lossy(&body)));
                (xml_bytes(status, spoilt.clone()), status, spoilt)
            }
            FaultKind::Latency => (xml_bytes(status, body.clone()), status, body),
        },
        _ => (xml_bytes(status, body.clone()), status, body),
    };
    let is_http_fault = matches!(&fault, Some(f) if f.phase == Phase::After && matches!(f.kind, FaultKind::Http(_) | FaultKind::Drop));
    let response = if is_http_fault {
        response
    } else {
        with_hint(response, answer.hint.as_deref())
    };
    record(read, sent_status, answer, sent);
    response
}

/// The name of a fault for the console: `http503 before`, `latency 200 ms`.
fn fault_name(fault: Option<&faults::FaultAction>) -> Option<String> {
    let fault = fault?;
    let mut name = format!("{} {}", fault.kind, fault.phase.name());
    if !fault.delay.is_zero() {
        name.push_str(&format!(", {} ms later", fault.delay.as_millis()));
    }
    Some(name)
}

fn http_code(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An XML answer from bytes already made (shared with the console's journal).
fn xml_bytes(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(super::answer::XML_CONTENT_TYPE),
    );
    response
}

/// The answer to a request that could not be read: unsigned, since its merchant is unknown.
fn unreadable(app: &App, rejection: Rejection) -> calls::Answer {
    calls::Answer::unsigned(rejection, app, Default::default(), None)
}

/// `X-Emulator-Hint`: what the emulator can tell a developer that the gateway does not. A
/// header value is visible ASCII, so other bytes are percent-encoded (`%D0%9E`).
const HINT_HEADER: &str = "x-emulator-hint";

pub(super) fn with_hint(mut response: Response, hint: Option<&str>) -> Response {
    if let Some(hint) = hint
        && let Ok(value) = HeaderValue::from_str(&header_safe(hint))
    {
        response.headers_mut().insert(HINT_HEADER, value);
    }
    response
}

/// `text` with every byte outside visible ASCII and space (and `%` itself) as `%XX`.
fn header_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if (b' '..=b'~').contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn html_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = xml_response(status, faults::http_error_body(code));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/html"),
    );
    response
}

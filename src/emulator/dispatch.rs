//! Routing each request: the admin API, the payer's page, or a gateway call (with any fault
//! for its route applied around it); wrong paths and methods get the gateway's XML error.
//!
//! Routes are looked up at request time from the configured [`Routes`], which is why a single
//! fallback handler serves everything.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;

use crate::gateway::signature::script_name;
use crate::gateway::{Operation, Routes};

use super::answer::{unsigned_error, xml_response};
use super::config::ADMIN_PREFIX;
use super::errors::{ErrorKind, Rejection};
use super::faults::{self, FaultKind, Phase};
use super::listener::Connection;
use super::replay;
use super::request::{self, DecodeError};
use super::server::App;
use super::{admin, calls, pay_page};

pub(super) async fn dispatch(
    State(app): State<Arc<App>>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    if path == ADMIN_PREFIX || path.starts_with("/_emulator/") {
        return admin::handle(&app, request).await;
    }
    if let Some(source) = &app.replay {
        return replay::handle(&app, source.as_ref(), request).await;
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
    let fault = app.faults.take(op);
    if let Some(fault) = fault {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if fault.phase == Phase::Before {
            match fault.kind {
                FaultKind::Http(code) => return html_error(code),
                FaultKind::Drop => {
                    connection.kill();
                    return xml_response(StatusCode::OK, String::new());
                }
                _ => {}
            }
        }
    }

    let method = request.method().clone();
    let (status, answer) = match request::decode(request, app.body_limit).await {
        Ok(fields) => (
            StatusCode::OK,
            calls::answer(app, op, script_name(path), fields).await,
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
        ),
    };
    app.log.request(&method, path, &answer);
    let calls::Answer { body, hint, .. } = answer;

    let response = match fault {
        Some(fault) if fault.phase == Phase::After => match fault.kind {
            FaultKind::Http(code) => return html_error(code),
            FaultKind::Drop => {
                connection.kill();
                return xml_response(StatusCode::OK, String::new());
            }
            FaultKind::MalformedXml => xml_response(status, faults::malformed(&body)),
            FaultKind::Truncated => xml_response(status, faults::truncated(&body)),
            FaultKind::Latency => xml_response(status, body),
        },
        _ => xml_response(status, body),
    };
    with_hint(response, hint.as_deref())
}

/// The answer to a request that could not be read: unsigned, since its merchant is unknown.
fn unreadable(app: &App, rejection: Rejection) -> calls::Answer {
    calls::Answer {
        body: unsigned_error(&rejection, &app.codes),
        outcome: format!(
            "error {} {}",
            app.codes.code(rejection.kind),
            rejection.kind.name()
        ),
        hint: Some(rejection.detail),
    }
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

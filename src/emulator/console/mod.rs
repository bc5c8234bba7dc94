//! The emulator's web console at `/_emulator/ui`, and its JSON twin under `/_emulator/api/`:
//! the payments and their calls, the SMS inbox, the callbacks sent and what the merchant
//! answered, the fault rules, a reset — what a developer clicking through their own checkout
//! needs to see of the gateway, the way Mailpit shows an inbox.
//!
//! The page is plain HTML, CSS and JavaScript embedded in the binary (`assets/`), served with
//! a strict content security policy (no inline script, nothing from elsewhere); every value
//! is put into the page as text, never as markup. It polls `/_emulator/api/version` once a
//! second and fetches the view again when the number moved.
//!
//! Access ([`ConsoleAccess`]): the console is served on the emulator's own address. Bound to
//! a loopback address it is open to whoever can reach that address (this machine); bound to
//! any other address (`--host 0.0.0.0`) it is off unless a token is configured, and then
//! every console request must carry it (`?token=` once, which sets a cookie; or
//! `Authorization: Bearer`). Requests that change something (reset, faults) coming from a
//! page of another origin are refused, so a web page the developer visits cannot reset the
//! emulator through their browser. Merchant keys other than the public demo key are never
//! shown: every answer passes the emulator's secret guard.

mod api;
mod journal;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub(crate) use journal::{CallName, CallRecord, Changes, Journal};

use super::server::App;

/// Where the page is served.
pub(crate) const UI_PATH: &str = "/_emulator/ui";
/// Where its JSON twin is served.
pub(crate) const API_PATH: &str = "/_emulator/api";
/// The cookie that carries the token after `?token=`.
const TOKEN_COOKIE: &str = "fph_console";

const INDEX_HTML: &str = include_str!("assets/index.html");
const CONSOLE_CSS: &str = include_str!("assets/console.css");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const PAY_JS: &str = include_str!("assets/pay.js");
const PAY_CSS: &str = include_str!("assets/pay.css");

/// Who may use the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleAccess {
    /// Anyone who reaches the address: the emulator listens on loopback only.
    Open,
    /// Only requests carrying this token.
    Token(String),
    /// Not served: the emulator listens beyond this machine and no token was given.
    Off,
}

impl ConsoleAccess {
    /// The rule for an emulator bound to `bind`, with or without a token.
    pub fn for_bind(bind: SocketAddr, token: Option<&str>) -> ConsoleAccess {
        match token.filter(|t| !t.is_empty()) {
            Some(token) => ConsoleAccess::Token(token.to_owned()),
            None if bind.ip().is_loopback() => ConsoleAccess::Open,
            None => ConsoleAccess::Off,
        }
    }

    /// One line for the banner: where the console is and who can open it.
    pub fn describe(&self, base_url: &str, bind: SocketAddr) -> String {
        match self {
            ConsoleAccess::Open => format!(
                "console: {base_url}{UI_PATH} (bound to {}: only this machine can open it)",
                bind.ip()
            ),
            ConsoleAccess::Token(_) => format!(
                "console: {base_url}{UI_PATH}?token=<your --console-token> (listening on {}: \
                 every console request needs the token)",
                bind.ip()
            ),
            ConsoleAccess::Off => format!(
                "console: off (listening on {}, beyond this machine: give --console-token to \
                 turn it on)",
                bind.ip()
            ),
        }
    }
}

/// True for paths the console serves (the page, its assets, the JSON API).
pub(crate) fn serves(path: &str) -> bool {
    let under = |prefix: &str| {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    under(UI_PATH) || under(API_PATH)
}

/// The payer page's script and style: served to anyone, like the page itself.
pub(crate) const PAY_JS_PATH: &str = "/_emulator/ui/pay.js";
pub(crate) const PAY_CSS_PATH: &str = "/_emulator/ui/pay.css";

pub(crate) async fn handle(app: &Arc<App>, request: Request) -> Response {
    let path = request.uri().path().trim_end_matches('/').to_owned();
    if path == PAY_JS_PATH {
        return asset("text/javascript; charset=utf-8", PAY_JS);
    }
    if path == PAY_CSS_PATH {
        return asset("text/css; charset=utf-8", PAY_CSS);
    }
    let granted = match &app.console {
        ConsoleAccess::Off => {
            return plain(
                StatusCode::NOT_FOUND,
                "the console is off: the emulator listens beyond this machine and no \
                 --console-token was given",
            );
        }
        ConsoleAccess::Open => Grant::Open,
        ConsoleAccess::Token(token) => match presented_token(&request, token) {
            Some(how) => how,
            None => {
                return plain(
                    StatusCode::UNAUTHORIZED,
                    "the console needs its token: open /_emulator/ui?token=<--console-token>, \
                     or send Authorization: Bearer <token>",
                );
            }
        },
    };
    let mutates = !matches!(*request.method(), Method::GET | Method::HEAD);
    if mutates && !same_origin(request.headers()) {
        return plain(
            StatusCode::FORBIDDEN,
            "refused: a page of another origin asked the console to change something",
        );
    }
    match path.as_str() {
        UI_PATH => {
            let mut response = asset("text/html; charset=utf-8", INDEX_HTML);
            if let (Grant::Query, ConsoleAccess::Token(token)) = (&granted, &app.console) {
                // The token moves from the address bar to a cookie the page's own requests
                // carry; it is not readable by the page's script.
                let cookie =
                    format!("{TOKEN_COOKIE}={token}; Path=/_emulator; HttpOnly; SameSite=Strict");
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
            }
            response
        }
        "/_emulator/ui/console.css" => asset("text/css; charset=utf-8", CONSOLE_CSS),
        "/_emulator/ui/console.js" => asset("text/javascript; charset=utf-8", CONSOLE_JS),
        _ if path == API_PATH || path.starts_with("/_emulator/api/") => {
            api::handle(app, request).await
        }
        _ => plain(StatusCode::NOT_FOUND, "no such console page"),
    }
}

/// How a request showed it may use the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Open,
    Query,
    Carried,
}

/// `Some` when the request carries the token: in the query, the cookie or a bearer header.
fn presented_token(request: &Request, token: &str) -> Option<Grant> {
    let matches = |candidate: &str| constant_time_eq(candidate.as_bytes(), token.as_bytes());
    let query = request.uri().query().unwrap_or("");
    if query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("token="))
        .any(|t| matches(&percent_decode(t)))
    {
        return Some(Grant::Query);
    }
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(TOKEN_COOKIE)?.strip_prefix('='))
        .any(matches);
    (bearer.is_some_and(matches) || cookie).then_some(Grant::Carried)
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// False when the request says it comes from a page of another origin (a browser sends
/// `Origin` with every cross-origin POST); tools like curl send none and pass.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// The page's policy: its own script and style only, no frames, nothing from elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn plain(status: StatusCode, text: &str) -> Response {
    super::answer::text_response(status, format!("{text}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_open_elsewhere_a_token_is_needed() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(ConsoleAccess::for_bind(local, None), ConsoleAccess::Open);
        assert_eq!(ConsoleAccess::for_bind(v6, None), ConsoleAccess::Open);
        assert_eq!(ConsoleAccess::for_bind(any, None), ConsoleAccess::Off);
        assert_eq!(ConsoleAccess::for_bind(any, Some("")), ConsoleAccess::Off);
        assert_eq!(
            ConsoleAccess::for_bind(any, Some("t0k")),
            ConsoleAccess::Token("t0k".into())
        );
        assert!(
            ConsoleAccess::Off
                .describe("http://127.0.0.1:8080", any)
                .contains("--console-token")
        );
    }

    #[test]
    fn console_paths() {
        for yes in [
            "/_emulator/ui",
            "/_emulator/ui/console.js",
            "/_emulator/api/payments",
        ] {
            assert!(serves(yes), "{yes}");
        }
        for no in ["/_emulator/uix", "/_emulator/payments", "/pay.html"] {
            assert!(!serves(no), "{no}");
        }
    }

    #[test]
    fn origins() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&headers));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert_eq!(percent_decode("a%2Fb+c%zz"), "a/b c%zz");
    }
}

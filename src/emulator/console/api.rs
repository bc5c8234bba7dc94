//! The console's JSON API under `/_emulator/api/`: each view of the page as data, for the page
//! itself and for scripts. Read-only views are GETs; reset and fault rules change the
//! emulator. Dates are the gateway's (`YYYY-MM-DD HH:MM:SS`, Kazakhstan time); field lists
//! keep their order as `[{"name": …, "value": …}]`. Every answer passes the secret guard.
//!
//! | method | path | answer |
//! |---|---|---|
//! | GET | `version` | `{"version": N}`: grows whenever a view may have changed |
//! | GET | `info` | merchants (the demo key only), address, console access, limits kept |
//! | GET | `payments?limit=&before=&state=&phone=` | a page of payments, newest first |
//! | GET | `payments/{id}` | one payment with its calls, SMS and callbacks |
//! | GET | `sms?phone=&payment=&limit=` | the SMS inbox, newest first |
//! | GET | `callbacks?payment=&limit=` | callback attempts, newest first |
//! | GET | `calls?payment=&limit=` | gateway calls, newest first |
//! | GET, POST, DELETE | `faults` | the fault rules; POST adds one (as the admin API) |
//! | POST | `reset` | forgets payments, codes, faults, callbacks and calls |

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::emulator::admin;
use crate::emulator::callbacks::CallbackAttempt;
use crate::emulator::clock::{Now, gateway_date};
use crate::emulator::config::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY};
use crate::emulator::faults::{FaultRule, parse_rule};
use crate::emulator::request::{self, DecodeError};
use crate::emulator::server::App;
use crate::emulator::store::{PaymentFilter, PaymentSummary, SmsView};
use crate::gateway::Fields;

use super::journal::{CALLS_KEPT, CallRecord};
use super::{API_PATH, UI_PATH};

/// Payments per page unless `limit` says otherwise, and the most a page holds.
const PAGE_DEFAULT: usize = 50;
const PAGE_MAX: usize = 500;
/// The most of one payment's calls, SMS and callbacks its detail lists.
const DETAIL_MAX: usize = 200;

/// The states a payment can be in (`state=` of the payments view).
const STATES: [&str; 6] = [
    "new",
    "checking",
    "awaiting_code",
    "processing",
    "success",
    "failed",
];

pub(super) async fn handle(app: &Arc<App>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().trim_end_matches('/').to_owned();
    let query = Query::parse(request.uri().query().unwrap_or(""));
    let rest = path.strip_prefix(API_PATH).unwrap_or("");
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let answer = match (&method, segments.as_slice()) {
        (&Method::GET, []) => Ok(index()),
        (&Method::GET, ["version"]) => Ok(json!({ "version": app.changes.get() })),
        (&Method::GET, ["info"]) => Ok(info(app)),
        (&Method::GET, ["payments"]) => payments(app, &query),
        (&Method::GET, ["payments", id]) => payment(app, id),
        (&Method::GET, ["sms"]) => sms(app, &query),
        (&Method::GET, ["callbacks"]) => callbacks(app, &query),
        (&Method::GET, ["calls"]) => calls(app, &query),
        (&Method::GET, ["faults"]) => Ok(faults(app)),
        (&Method::POST, ["faults"]) => add_fault(app, request).await,
        (&Method::DELETE, ["faults"]) | (&Method::POST, ["faults", "clear"]) => {
            app.faults.clear();
            app.changes.bump();
            Ok(faults(app))
        }
        (&Method::POST, ["reset"]) => {
            admin::reset(app);
            Ok(json!({ "reset": true }))
        }
        _ => Err((
            StatusCode::NOT_FOUND,
            format!("no console API route {method} {path}: GET {API_PATH} lists them"),
        )),
    };
    match answer {
        Ok(value) => respond(app, StatusCode::OK, &value),
        Err((status, message)) => respond(app, status, &json!({ "error": message })),
    }
}

type Answer = Result<Value, (StatusCode, String)>;

fn bad(message: String) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message)
}

/// JSON text, with any merchant key that is not the demo one replaced.
fn respond(app: &App, status: StatusCode, value: &Value) -> Response {
    let text = value.to_string();
    let text = app.guard.scrub(&text).into_owned();
    let mut response = (status, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A query string's parameters, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(text: &str) -> Query {
        Query(
            url::form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Refuses parameters the view does not know, naming the ones it does.
    fn only(&self, known: &[&str]) -> Result<(), (StatusCode, String)> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((name, _)) => Err(bad(format!(
                "unknown parameter `{name}`: expected {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    fn number(&self, name: &str) -> Result<Option<u64>, (StatusCode, String)> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{name}={v}: expected a whole number")))
            })
            .transpose()
    }

    fn limit(&self, default: usize, max: usize) -> Result<usize, (StatusCode, String)> {
        match self.number("limit")? {
            None => Ok(default),
            Some(n) if (1..=max as u64).contains(&n) => Ok(n as usize),
            Some(n) => Err(bad(format!("limit={n}: expected 1 to {max}"))),
        }
    }
}

fn index() -> Value {
    json!({
        "console": UI_PATH,
        "routes": [
            "GET version", "GET info",
            "GET payments?limit=&before=&state=&phone=", "GET payments/{id}",
            "GET sms?phone=&payment=&limit=", "GET callbacks?payment=&limit=",
            "GET calls?payment=&limit=",
            "GET faults", "POST faults (route, kind, delay_ms, times, phase)", "DELETE faults",
            "POST reset"
        ],
        "states": STATES,
    })
}

fn info(app: &App) -> Value {
    let merchants: Vec<Value> = app
        .merchants
        .iter()
        .map(|(id, key)| {
            // Only the demo key is public; any other was the user's and is not shown.
            let demo = id == DEMO_MERCHANT_ID && key.expose() == DEMO_SECRET_KEY;
            json!({ "id": id, "secret": demo.then_some(DEMO_SECRET_KEY) })
        })
        .collect();
    json!({
        "version": app.changes.get(),
        "base_url": app.base_url,
        "merchants": merchants,
        "console": match app.console {
            super::ConsoleAccess::Open => "open",
            super::ConsoleAccess::Token(_) => "token",
            super::ConsoleAccess::Off => "off",
        },
        "calls_kept": CALLS_KEPT,
        "sms_kept": crate::emulator::inbox::MESSAGES_KEPT,
    })
}

fn date(at: SystemTime) -> String {
    gateway_date(at)
}

#[derive(Serialize)]
struct Field<'a> {
    name: std::borrow::Cow<'a, str>,
    value: &'a str,
}

/// A field list in its order, nested names flattened (`pg_receipt_positions[0][count]`).
fn fields(f: &Fields) -> Value {
    let pairs: Vec<Field<'_>> = f
        .form_pairs()
        .into_iter()
        .map(|(name, value)| Field { name, value })
        .collect();
    serde_json::to_value(pairs).unwrap_or(Value::Null)
}

fn payment_json(app: &App, p: &PaymentSummary) -> Value {
    let field = |name: &str| p.status.get(name).unwrap_or("");
    json!({
        "id": p.id,
        "merchant_id": p.merchant_id,
        "order_id": field("pg_order_id"),
        "amount": field("pg_amount"),
        "currency": field("pg_currency"),
        "description": p.description,
        "operator": p.operator,
        "phone": field("pg_user_phone"),
        "state": p.state,
        "payment_status": field("pg_payment_status"),
        "created": date(p.created),
        "changed": date(p.changed),
        "attempts_left": p.attempts_left,
        "resends": p.resends,
        "redirect_url": format!("{}{}?customer={}", app.base_url, crate::emulator::calls::PAY_PAGE_PATH, p.customer),
        "success_url": p.success_url,
        "failure_url": p.failure_url,
        "status": fields(&p.status),
    })
}

fn payments(app: &Arc<App>, query: &Query) -> Answer {
    query.only(&["limit", "before", "state", "phone"])?;
    let limit = query.limit(PAGE_DEFAULT, PAGE_MAX)?;
    let before = query.number("before")?;
    let state = query.get("state").map(str::to_owned);
    if let Some(state) = &state
        && !STATES.contains(&state.as_str())
    {
        return Err(bad(format!(
            "state={state}: expected one of {}",
            STATES.join(", ")
        )));
    }
    let filter = PaymentFilter {
        state,
        phone: query
            .get("phone")
            .map(|p| p.chars().filter(char::is_ascii_digit).collect()),
    };
    let (page, total) =
        app.with_store(|store, now, effects| store.newest(before, limit, &filter, now, effects));
    let next = (page.len() == limit)
        .then(|| page.last().map(|p| p.id))
        .flatten();
    Ok(json!({
        "payments": page.iter().map(|p| payment_json(app, p)).collect::<Vec<_>>(),
        "total": total,
        "next": next,
    }))
}

fn payment(app: &Arc<App>, id: &str) -> Answer {
    let not_found = || (StatusCode::NOT_FOUND, format!("no payment {id}"));
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let (summary, sms) = app.with_store(|store, now, effects| {
        let summary = store.summary(id, now, effects);
        let sms = store.inbox(None, Some(id), DETAIL_MAX, now);
        (summary, sms)
    });
    let summary = summary.ok_or_else(not_found)?;
    let calls = app.journal.newest(Some(id), DETAIL_MAX);
    let attempts: Vec<CallbackAttempt> = app
        .callbacks
        .attempts()
        .into_iter()
        .rev()
        .filter(|a| a.payment_id == id)
        .take(DETAIL_MAX)
        .collect();
    Ok(json!({
        "payment": payment_json(app, &summary),
        "calls": calls.iter().map(call_json).collect::<Vec<_>>(),
        "sms": sms.iter().map(sms_json).collect::<Vec<_>>(),
        "callbacks": attempts.iter().map(attempt_json).collect::<Vec<_>>(),
    }))
}

fn sms_json(m: &SmsView) -> Value {
    json!({
        "phone": m.phone,
        "code": m.code,
        "payment_id": m.payment_id,
        "sent": date(m.sent),
        "status": m.fate.name(),
    })
}

fn sms(app: &Arc<App>, query: &Query) -> Answer {
    query.only(&["phone", "payment", "limit"])?;
    let limit = query.limit(PAGE_DEFAULT, crate::emulator::inbox::MESSAGES_KEPT)?;
    let payment = query.number("payment")?;
    let phone: Option<String> = query
        .get("phone")
        .map(|p| p.chars().filter(char::is_ascii_digit).collect());
    let messages =
        app.with_store(|store, _, _| store.inbox(phone.as_deref(), payment, limit, Now::current()));
    Ok(json!({ "messages": messages.iter().map(sms_json).collect::<Vec<_>>() }))
}

fn attempt_json(a: &CallbackAttempt) -> Value {
    json!({
        "kind": a.kind.name(),
        "payment_id": a.payment_id,
        "url": a.url,
        "attempt": a.attempt,
        "retry": a.attempt > 1,
        "sent_at": date(a.at),
        "elapsed_ms": a.elapsed.as_millis() as u64,
        "method": a.method,
        "fields": fields(&a.sent),
        "http_status": a.http_status,
        "reply_body": a.reply_body,
        "reply_status": a.reply_status,
        "reply_description": a.reply_description,
        "kept_contract": a.failure.is_none(),
        "failure": a.failure,
    })
}

fn callbacks(app: &Arc<App>, query: &Query) -> Answer {
    query.only(&["payment", "limit"])?;
    let limit = query.limit(PAGE_DEFAULT, 1000)?;
    let payment = query.number("payment")?;
    let attempts: Vec<Value> = app
        .callbacks
        .attempts()
        .iter()
        .rev()
        .filter(|a| payment.is_none_or(|id| a.payment_id == id))
        .take(limit)
        .map(attempt_json)
        .collect();
    Ok(json!({ "attempts": attempts }))
}

fn call_json(c: &CallRecord) -> Value {
    json!({
        "seq": c.seq,
        "at": date(c.at),
        "elapsed_ms": c.elapsed.as_secs_f64() * 1000.0,
        "method": c.method.as_str(),
        "path": c.path,
        "content_type": c.content_type,
        "encoding": c.encoding.map(|e| e.name()),
        "call": c.call.to_string(),
        "payment_id": c.payment_id,
        "request": fields(&c.request),
        "http_status": c.http_status,
        "answer": String::from_utf8_lossy(&c.answer),
        "outcome": c.outcome,
        "hint": c.hint,
        "fault": c.fault,
    })
}

fn calls(app: &Arc<App>, query: &Query) -> Answer {
    query.only(&["payment", "limit"])?;
    let limit = query.limit(PAGE_DEFAULT, CALLS_KEPT)?;
    let payment = query.number("payment")?;
    let calls = app.journal.newest(payment, limit);
    Ok(json!({ "calls": calls.iter().map(call_json).collect::<Vec<_>>() }))
}

fn fault_json(rule: &FaultRule) -> Value {
    json!({
        "id": rule.id,
        "route": rule.route.as_ref().map_or("all", |op| op.name()),
        "kind": rule.kind.to_string(),
        "delay_ms": rule.delay.as_millis() as u64,
        "phase": rule.phase.name(),
        "times": rule.remaining.map_or("always".to_owned(), |n| n.to_string()),
    })
}

fn faults(app: &App) -> Value {
    json!({ "faults": app.faults.list().iter().map(fault_json).collect::<Vec<_>>() })
}

async fn add_fault(app: &Arc<App>, request: Request) -> Answer {
    let params = match request::decode(request, app.body_limit).await {
        Ok(params) => params,
        Err(DecodeError::TooLarge { limit }) => {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("larger than {limit} bytes"),
            ));
        }
        Err(DecodeError::Malformed(why)) => return Err(bad(why)),
    };
    let rule = parse_rule(&params).map_err(bad)?;
    let added = app.faults.add(rule);
    app.changes.bump();
    Ok(json!({ "fault": fault_json(&added) }))
}

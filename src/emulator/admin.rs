//! The admin API under `/_emulator/`: what a test needs to see or change inside the emulator —
//! the last SMS code for a phone, the payments, the callbacks made, a reset, and fault
//! injection. Unsigned and unauthenticated: the emulator is a test tool for 127.0.0.1.
//!
//! Answers are plain text where one value is asked for (an SMS code) and XML where there is a
//! list, in the same `<pg_…>` vocabulary as the gateway. Parameters are query or form fields.
//!
//! | method | path | answer |
//! |---|---|---|
//! | GET | `/_emulator/sms/{phone}` | the last code sent to the phone, plain text; 404 if none |
//! | GET | `/_emulator/payments/{id}/sms` | the code payment `id` awaits, plain text; 404 if none (what `sms_code(phone)` asks: concurrent cases may pay from one phone) |
//! | GET | `/_emulator/payments?limit=N&after=ID` | `<emulator_payments>`: a page of payments, oldest first |
//! | GET | `/_emulator/payments/{id}` | one `<payment>` (also init's `pg_redirect_url`) |
//! | GET | `/_emulator/callbacks` | `<emulator_callbacks>`: every callback attempt |
//! | POST | `/_emulator/reset` | forgets payments, codes, faults and callbacks |
//! | GET | `/_emulator/faults` | `<emulator_faults>`: the active rules |
//! | POST | `/_emulator/faults` | adds a rule: `route`, `kind`, `delay_ms`, `times`, `phase` |
//! | DELETE | `/_emulator/faults` | removes every rule (also `POST /_emulator/faults/clear`) |

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::gateway::Fields;
use crate::gateway::xml::{Document, Element};

use super::answer::{text_response, xml_response};
use super::faults::{FaultRule, parse_rule};
use super::request::{self, DecodeError};
use super::server::App;
use super::store::PaymentSummary;

const HELP: &str = "fph gateway emulator: admin API
GET    /_emulator/sms/{phone}     last SMS code sent to the phone (plain text)
GET    /_emulator/payments/{id}/sms  the SMS code payment id awaits (plain text)
GET    /_emulator/payments        payments, oldest first, a page at a time (XML):
                                  ?limit=N (default 1000, at most 10000) &after=ID
GET    /_emulator/payments/{id}   one payment (XML)
GET    /_emulator/callbacks       every callback attempt (XML)
POST   /_emulator/reset           forget payments, codes, faults, callbacks
GET    /_emulator/faults          active fault rules (XML)
POST   /_emulator/faults          add a rule: route=init|pay|approve|resend_code|status|all
                                  kind=latency|http500|http502|http503|malformed_xml|truncated|drop
                                  delay_ms=N times=once|always|N phase=before|after
DELETE /_emulator/faults          remove every rule (or POST /_emulator/faults/clear)
";

/// Payments per page of `/_emulator/payments` unless `limit` says otherwise, and the most a
/// page holds: a store at its cap of 100,000 would otherwise answer some 70 MB at once.
pub(crate) const PAGE_DEFAULT: usize = 1000;
pub(crate) const PAGE_MAX: usize = 10_000;

/// `limit=N&after=ID` from a query string.
fn page(query: &str) -> Result<(Option<u64>, usize), String> {
    let mut after = None;
    let mut limit = PAGE_DEFAULT;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "after" => {
                after = Some(value.parse::<u64>().map_err(|_| {
                    format!("after={value}: expected a payment id (the `next` of the last page)")
                })?);
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=PAGE_MAX).contains(n))
                    .ok_or_else(|| format!("limit={value}: expected 1 to {PAGE_MAX}"))?;
            }
            other => {
                return Err(format!(
                    "unknown parameter `{other}`: expected limit, after"
                ));
            }
        }
    }
    Ok((after, limit))
}

pub(crate) async fn handle(app: &Arc<App>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().trim_end_matches('/').to_owned();
    let rest = path.strip_prefix("/_emulator").unwrap_or("");
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match (method.clone(), segments.as_slice()) {
        (Method::GET, []) => text_response(StatusCode::OK, HELP.to_owned()),
        (Method::GET, ["sms", phone]) => {
            match app.with_store(|store, _, _| store.sms_code(phone)) {
                Some(code) => text_response(StatusCode::OK, code),
                None => text_response(
                    StatusCode::NOT_FOUND,
                    format!("no SMS code has been sent to {phone}"),
                ),
            }
        }
        (Method::GET, ["payments", id, "sms"]) => {
            let code = id
                .parse::<u64>()
                .ok()
                .and_then(|id| app.with_store(|store, _, _| store.payment_sms_code(id)));
            match code {
                Some(code) => text_response(StatusCode::OK, code),
                None => text_response(
                    StatusCode::NOT_FOUND,
                    format!("payment {id} awaits no SMS code"),
                ),
            }
        }
        (Method::GET, ["payments"]) => {
            let (after, limit) = match page(request.uri().query().unwrap_or("")) {
                Ok(page) => page,
                Err(why) => return text_response(StatusCode::BAD_REQUEST, why),
            };
            let (payments, total) =
                app.with_store(|store, now, effects| store.summaries(after, limit, now, effects));
            let mut root = Element::new("emulator_payments");
            root.attributes
                .push(("count".into(), payments.len().to_string()));
            root.attributes.push(("total".into(), total.to_string()));
            // A full page may have more behind it: `next` is the `after` of the next page.
            if payments.len() == limit
                && let Some(last) = payments.last()
            {
                root.attributes.push(("next".into(), last.id.to_string()));
            }
            root.children = payments.iter().map(payment_element).collect();
            xml(root)
        }
        (Method::GET, ["payments", id]) => {
            let found = id.parse::<u64>().ok().and_then(|id| {
                app.with_store(|store, now, effects| store.summary(id, now, effects))
            });
            match found {
                Some(summary) => xml(payment_element(&summary)),
                None => text_response(StatusCode::NOT_FOUND, format!("no payment {id}")),
            }
        }
        (Method::GET, ["callbacks"]) => {
            let attempts = app.callbacks.attempts();
            let mut root = Element::new("emulator_callbacks");
            root.attributes
                .push(("count".into(), attempts.len().to_string()));
            for a in attempts {
                let mut f = Fields::new();
                f.push("kind", a.kind.name());
                f.push("pg_payment_id", a.payment_id.to_string());
                f.push("url", a.url);
                f.push("attempt", a.attempt.to_string());
                f.push("reply_status", a.reply_status.unwrap_or_default());
                f.push("failure", a.failure.unwrap_or_default());
                f.push(
                    "contract",
                    match a.contract {
                        None => String::new(),
                        Some(broken) if broken.is_empty() => "kept".into(),
                        Some(broken) => broken.join("; "),
                    },
                );
                root.children.push(Element::from_fields("callback", &f));
            }
            xml(root)
        }
        (Method::POST, ["reset"]) => {
            reset(app);
            text_response(StatusCode::OK, "reset".into())
        }
        (Method::GET, ["faults"]) => {
            let mut root = Element::new("emulator_faults");
            root.children = app.faults.list().iter().map(fault_element).collect();
            xml(root)
        }
        (Method::POST, ["faults"]) => {
            let params = match request::decode(request, app.body_limit).await {
                Ok(params) => params,
                Err(DecodeError::TooLarge { limit }) => {
                    return text_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("larger than {limit} bytes"),
                    );
                }
                Err(DecodeError::Malformed(why)) => {
                    return text_response(StatusCode::BAD_REQUEST, why);
                }
            };
            match parse_rule(&params) {
                Ok(rule) => {
                    let added = app.faults.add(rule);
                    app.changes.bump();
                    xml(fault_element(&added))
                }
                Err(why) => text_response(StatusCode::BAD_REQUEST, why),
            }
        }
        (Method::DELETE, ["faults"]) | (Method::POST, ["faults", "clear"]) => {
            app.faults.clear();
            app.changes.bump();
            text_response(StatusCode::OK, "cleared".into())
        }
        _ => text_response(
            StatusCode::NOT_FOUND,
            format!("no admin route {method} {path}\n\n{HELP}"),
        ),
    }
}

/// Forgets everything a test may have left behind.
pub(crate) fn reset(app: &App) {
    app.store.lock().unwrap_or_else(|e| e.into_inner()).reset();
    app.faults.clear();
    app.callbacks.clear();
    if let Some(replayer) = &app.replay {
        replayer.reset();
    }
    app.journal.clear();
    app.changes.bump();
}

fn xml(root: Element) -> Response {
    xml_response(StatusCode::OK, Document { root }.pretty())
}

fn payment_element(p: &PaymentSummary) -> Element {
    let mut f = Fields::new();
    f.push("pg_merchant_id", p.merchant_id.as_str());
    f.push("emulator_state", p.state);
    f.push("pg_payment_system_code", p.operator.unwrap_or(""));
    if let Some(left) = p.attempts_left {
        f.push("attempts_left", left.to_string());
    }
    if let Some(resends) = p.resends {
        f.push("resends", resends.to_string());
    }
    for (name, value) in p.status.iter() {
        f.push_value(name, value.clone());
    }
    Element::from_fields("payment", &f)
}

fn fault_element(rule: &FaultRule) -> Element {
    let mut f = Fields::new();
    f.push("id", rule.id.to_string());
    f.push("route", rule.route.as_ref().map_or("all", |op| op.name()));
    f.push("kind", rule.kind.to_string());
    f.push("delay_ms", rule.delay.as_millis().to_string());
    f.push("phase", rule.phase.name());
    f.push(
        "times",
        rule.remaining
            .map_or("always".to_owned(), |n| n.to_string()),
    );
    Element::from_fields("fault", &f)
}

//! The payer's page behind init's `pg_redirect_url`: `/pay.html?customer=<32 hex>`, the
//! shape of the real gateway's `https://customer.freedompay.kz/pay.html?customer=…`. It shows
//! what Freedom Pay's page shows a payer of a Mobile balance payment — the amount, the
//! merchant's description, a phone field that names the operator as the number is typed, then
//! the SMS-code step — and at the end sends the browser back to the merchant's
//! `pg_success_url` or `pg_failure_url`, signed as the gateway signs that return.
//!
//! The page works without JavaScript (plain forms, a refresh while a payment completes); its
//! one script only names the operator while the phone is typed. The page's steps are the
//! gateway's own calls — pay, approve, resend code — under the same rules as signed calls,
//! and each is recorded for the console like any call, as `pay_page`. The code the "phone"
//! receives is in the console's SMS inbox.
//!
//! **The return to the merchant** (an emulator assumption beyond what was seen): a `303` to
//! the URL with `pg_order_id`, `pg_payment_id`, `pg_salt` and `pg_sig` added to its query;
//! `pg_sig` signs every parameter of the resulting query (the merchant's own ones too) with the
//! URL's last path segment as the script name and the merchant's key. Nothing else is sent:
//! which other fields the real gateway adds is not known.

pub(crate) use crate::html::escape;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reqwest::Url;

use crate::gateway::signature::{SIG_FIELD, fresh_salt, script_name, sign};
use crate::gateway::xml::pretty_fields;
use crate::gateway::{Fields, Operation};

use super::calls::{self, PAY_PAGE_PATH};
use super::console::{CallName, CallRecord, PAY_CSS_PATH, PAY_JS_PATH};
use super::errors::Rejection;
use super::phones::{Operator, operator_of};
use super::request::{self, DecodeError};
use super::server::App;
use super::store::PaymentSummary;

pub(crate) async fn handle(app: &Arc<App>, request: Request) -> Response {
    let customer = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("customer="))
        .unwrap_or("")
        .to_owned();
    let Some(payment) = find(app, &customer) else {
        return html(
            StatusCode::NOT_FOUND,
            document(
                "Payment not found",
                "<p>No payment has this link. It may have been forgotten (the emulator was reset \
                 or restarted) or the link is incomplete.</p>",
            ),
        );
    };
    match *request.method() {
        Method::GET | Method::HEAD => show(app, &payment, None),
        Method::POST => {
            let form = match request::decode(request, app.body_limit).await {
                Ok(form) => form,
                Err(DecodeError::TooLarge { .. }) | Err(DecodeError::Malformed(_)) => {
                    return show(app, &payment, Some("The form could not be read.".into()));
                }
            };
            step(app, &customer, payment, form).await
        }
        _ => html(
            StatusCode::METHOD_NOT_ALLOWED,
            document("Not allowed", "<p>Use GET or POST.</p>"),
        ),
    }
}

fn find(app: &Arc<App>, customer: &str) -> Option<PaymentSummary> {
    let well_formed = customer.len() == 32 && customer.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed
        .then(|| app.with_store(|store, now, effects| store.by_customer(customer, now, effects)))
        .flatten()
}

/// One submitted step: `step=pay&phone=…`, `step=approve&code=…` or `step=resend`.
async fn step(app: &Arc<App>, customer: &str, payment: PaymentSummary, form: Fields) -> Response {
    let started = Instant::now();
    let at = SystemTime::now();
    let id = payment.id.to_string();
    let mut fields = Fields::new();
    fields.push("pg_payment_id", id.as_str());
    let op = match form.get("step").unwrap_or("") {
        "pay" => {
            let phone = normalize_phone(form.get("phone").unwrap_or(""));
            fields.push("pg_abonent_phone", phone);
            Operation::Pay
        }
        "approve" => {
            fields.push(
                "pg_approval_code",
                form.get("code").unwrap_or("").trim().to_owned(),
            );
            Operation::Approve
        }
        "resend" => Operation::ResendCode,
        other => {
            return show(
                app,
                &payment,
                Some(format!(
                    "Unknown step `{other}`: expected pay, approve or resend."
                )),
            );
        }
    };
    let result = calls::from_payer_page(app, &op, &payment.merchant_id, &fields).await;
    let (outcome, answer, message) = match &result {
        Ok(answer) => (
            answer.get("pg_status").unwrap_or("").to_owned(),
            pretty_fields("response", answer),
            None,
        ),
        Err(rejection) => {
            let code = app.codes.code(rejection.kind);
            (
                format!("error {code} {}", rejection.kind.name()),
                String::new(),
                Some(refusal(rejection, code)),
            )
        }
    };
    app.journal.record(CallRecord {
        seq: 0,
        at,
        elapsed: started.elapsed(),
        method: Method::POST,
        path: PAY_PAGE_PATH.into(),
        content_type: None,
        encoding: None,
        call: CallName::PayPage(op.clone()),
        payment_id: Some(payment.id),
        request: fields,
        http_status: 200,
        answer: Bytes::from(answer),
        outcome,
        hint: result.as_ref().err().map(|r| r.detail.clone()),
        fault: None,
    });
    app.changes.bump();
    // The payment as the step left it: a final one goes back to the merchant.
    let Some(now) = find(app, customer) else {
        return show(app, &payment, message);
    };
    show(app, &now, message)
}

/// What the payer reads about a refused step: the gateway's description and its code.
fn refusal(rejection: &Rejection, code: u32) -> String {
    format!(
        "{} (code {code})",
        rejection.description(rejection.language.unwrap_or_default())
    )
}

/// `+7 701 777-77-77`, `8 701…` and `701…` all become `77017777777`.
fn normalize_phone(text: &str) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        10 => format!("7{digits}"),
        11 if digits.starts_with('8') => format!("7{}", &digits[1..]),
        _ => digits,
    }
}

/// The page for the payment's state; a final payment with a return URL is sent back.
fn show(app: &App, payment: &PaymentSummary, message: Option<String>) -> Response {
    let mut body = summary_html(payment);
    if let Some(message) = &message {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(message)
        );
    }
    let action = format!("{PAY_PAGE_PATH}?customer={}", escape(&payment.customer));
    match payment.state {
        "new" => {
            let phone = payment.status.get("pg_user_phone").unwrap_or("");
            let _ = write!(
                body,
                "<form method=\"post\" action=\"{action}\">\
                 <input type=\"hidden\" name=\"step\" value=\"pay\">\
                 <label for=\"phone\">Phone number</label>\
                 <input id=\"phone\" name=\"phone\" type=\"tel\" inputmode=\"tel\" autocomplete=\"tel\" \
                 required placeholder=\"+7 701 777 77 77\" value=\"{}\" data-operators=\"{}\">\
                 <output id=\"operator\" for=\"phone\" aria-live=\"polite\">{}</output>\
                 <button type=\"submit\">Pay {} {}</button></form>",
                escape(phone),
                escape(&operator_table()),
                escape(&operator_label(phone)),
                escape(payment.status.get("pg_amount").unwrap_or("")),
                escape(payment.status.get("pg_currency").unwrap_or("")),
            );
        }
        "awaiting_code" => {
            let phone = payment.status.get("pg_user_phone").unwrap_or("");
            let _ = write!(
                body,
                "<p>An SMS with a confirmation code was sent to <strong>{}</strong>. \
                 (fph emulator: the code is in the console's SMS inbox, <a href=\"/_emulator/ui#sms\">/_emulator/ui#sms</a>.)</p>\
                 <form method=\"post\" action=\"{action}\">\
                 <input type=\"hidden\" name=\"step\" value=\"approve\">\
                 <label for=\"code\">SMS code</label>\
                 <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>\
                 <button type=\"submit\">Confirm</button></form>\
                 <form method=\"post\" action=\"{action}\" class=\"secondary\">\
                 <input type=\"hidden\" name=\"step\" value=\"resend\">\
                 <button type=\"submit\">Send the code again</button></form>",
                escape(phone),
            );
        }
        "checking" | "processing" => {
            body.push_str(
                "<p role=\"status\">The payment is being completed… this page refreshes itself.</p>",
            );
            let page = document_with("Freedom Pay — payment", &body, Some(1));
            return html(StatusCode::OK, app.guard.scrub(&page).into_owned());
        }
        state => {
            let success = state == "success";
            let url = if success {
                &payment.success_url
            } else {
                &payment.failure_url
            };
            if let Some(url) = url
                && let Some(target) = return_url(app, payment, url)
            {
                return see_other(&target);
            }
            let _ = write!(
                body,
                "<p role=\"status\">{}</p><p class=\"note\">Init gave no {}: there is nowhere to \
                 send the browser back to.</p>",
                if success {
                    "The payment succeeded."
                } else {
                    "The payment failed."
                },
                if success {
                    "pg_success_url"
                } else {
                    "pg_failure_url"
                },
            );
        }
    }
    let page = document("Freedom Pay — payment", &body);
    html(StatusCode::OK, app.guard.scrub(&page).into_owned())
}

fn summary_html(payment: &PaymentSummary) -> String {
    let field = |name: &str| payment.status.get(name).unwrap_or("");
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"amount\">{} {}</p><p class=\"description\">{}</p><dl>",
        escape(field("pg_amount")),
        escape(field("pg_currency")),
        escape(&payment.description),
    );
    for (label, value) in [
        ("Payment", field("pg_payment_id")),
        ("Order", field("pg_order_id")),
        ("Status", field("pg_payment_status")),
    ] {
        if !value.is_empty() {
            let _ = write!(body, "<dt>{label}</dt><dd>{}</dd>", escape(value));
        }
    }
    body.push_str("</dl>");
    body
}

/// `701:Kcell,702:Activ,…`: what the page's script needs to name the operator.
fn operator_table() -> String {
    Operator::ALL
        .iter()
        .flat_map(|op| {
            op.prefixes()
                .iter()
                .map(move |p| format!("{p}:{}", op.name()))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn operator_label(phone: &str) -> String {
    operator_of(&normalize_phone(phone)).map_or(String::new(), |op| op.name().to_owned())
}

/// The merchant's URL with the signed return parameters added; `None` when it cannot be
/// read (init accepted it as http(s), so only a forgotten merchant key leads here).
fn return_url(app: &App, payment: &PaymentSummary, url: &str) -> Option<String> {
    let secret = app.merchants.get(&payment.merchant_id)?;
    let mut target = Url::parse(url).ok()?;
    let mut fields = Fields::new();
    for (name, value) in target.query_pairs() {
        fields.push(name.into_owned(), value.into_owned());
    }
    fields.push(
        "pg_order_id",
        payment.status.get("pg_order_id").unwrap_or(""),
    );
    fields.push("pg_payment_id", payment.id.to_string());
    fields.push("pg_salt", fresh_salt());
    let sig = sign(script_name(url), &fields, secret);
    fields.push(SIG_FIELD, sig.as_str());
    target
        .query_pairs_mut()
        .clear()
        .extend_pairs(fields.to_form_pairs());
    Some(target.to_string())
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn document(title: &str, body: &str) -> String {
    document_with(title, body, None)
}

fn document_with(title: &str, body: &str, refresh: Option<u32>) -> String {
    let refresh = refresh.map_or(String::new(), |secs| {
        format!("<meta http-equiv=\"refresh\" content=\"{secs}\">")
    });
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{refresh}\
         <title>{title}</title><link rel=\"stylesheet\" href=\"{PAY_CSS_PATH}\">\
         <script src=\"{PAY_JS_PATH}\" defer></script></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>\n"
    )
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; form-action *; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_description_is_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"co\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"
        );
    }

    #[test]
    fn phones_are_read_as_payers_type_them() {
        for typed in [
            "+7 701 777 77 77",
            "8 (701) 777-77-77",
            "7017777777",
            "77017777777",
        ] {
            assert_eq!(normalize_phone(typed), "77017777777", "{typed}");
        }
        assert_eq!(operator_label("+7 707 123 45 67"), "Tele2");
        assert_eq!(operator_label("+7 999"), "");
        assert!(operator_table().starts_with("701:Kcell,702:Activ"));
    }
}

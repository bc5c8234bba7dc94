//! The payer's page behind init's `pg_redirect_url`: `/pay.html?customer=<32 hex>`, the
//! shape of the real gateway's `https://customer.freedompay.kz/pay.html?customer=…`. Here it
//! is a plain page with the payment's amount, description and state, so a merchant following
//! the redirect in a browser sees which payment it is; a payment made without
//! `pg_payment_method` is paid from a phone with `/mfs/pay` (the emulator does not take
//! cards).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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
    let well_formed = customer.len() == 32 && customer.bytes().all(|b| b.is_ascii_hexdigit());
    let found = well_formed
        .then(|| app.with_store(|store, now, effects| store.by_customer(&customer, now, effects)))
        .flatten();
    match found {
        Some(payment) => html(StatusCode::OK, page(&payment)),
        None => html(
            StatusCode::NOT_FOUND,
            document(
                "Payment not found",
                "<p>No payment has this link. It may have been forgotten (the emulator was reset \
                 or restarted) or the link is incomplete.</p>",
            ),
        ),
    }
}

fn page(payment: &PaymentSummary) -> String {
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
        ("Method", field("pg_payment_method")),
        ("Phone", field("pg_user_phone")),
        ("Created", field("pg_create_date")),
    ] {
        if !value.is_empty() {
            let _ = write!(body, "<dt>{label}</dt><dd>{}</dd>", escape(value));
        }
    }
    body.push_str(
        "</dl><p class=\"note\">fph emulator: pay from a phone balance with <code>/mfs/pay</code> \
         (test phones in docs/emulator.md).</p>",
    );
    document("Freedom Pay — payment", &body)
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>\n"
    )
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Text for HTML: the five characters that mean markup, as entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
}

//! The emulator's answers as the gateway writes them: a `<response>` XML document, content
//! type `text/xml; charset=UTF-8`, signed with the request's script name and a fresh salt —
//! except when the merchant is not authenticated (unknown, or a bad signature) or the request
//! could not be read, so the merchant is not known yet: those are answered unsigned.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::gateway::signature::{SIG_FIELD, fresh_salt, sign};
use crate::gateway::xml::pretty_fields;
use crate::gateway::{Fields, SecretKey};

use super::errors::{ErrorCodes, Language, Rejection};

pub(crate) const XML_CONTENT_TYPE: &str = "text/xml; charset=UTF-8";

/// Who signs an answer: the script name the request was signed with, and the merchant's key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signer<'a> {
    pub script: &'a str,
    pub secret: &'a SecretKey,
}

/// The XML text of an answer; with a signer, `pg_salt` and `pg_sig` are appended.
pub(crate) fn render(mut fields: Fields, signer: Option<Signer<'_>>) -> String {
    if let Some(signer) = signer {
        fields.push("pg_salt", fresh_salt());
        let sig = sign(signer.script, &fields, signer.secret);
        fields.push(SIG_FIELD, sig.as_str());
    }
    pretty_fields("response", &fields)
}

/// `pg_status=error` with the code and the description in `language` (and the payment, when
/// there is one).
pub(crate) fn error_fields(
    rejection: &Rejection,
    codes: &ErrorCodes,
    language: Language,
) -> Fields {
    let mut fields = Fields::new();
    fields.push("pg_status", "error");
    fields.push("pg_error_code", codes.code(rejection.kind).to_string());
    fields.push("pg_error_description", rejection.description(language));
    if let Some(id) = rejection.payment_id {
        fields.push("pg_payment_id", id.to_string());
    }
    fields
}

/// An unsigned error in Russian, for requests whose merchant is not known (the request could
/// not be read, or went to no call).
pub(crate) fn unsigned_error(rejection: &Rejection, codes: &ErrorCodes) -> String {
    render(error_fields(rejection, codes, Language::Russian), None)
}

pub(crate) fn xml_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    response
}

pub(crate) fn text_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::errors::ErrorKind;
    use crate::gateway::signature::verify;
    use crate::gateway::xml::Document;

    #[test]
    fn signed_answers_verify_and_unsigned_ones_carry_no_signature() {
        let key = SecretKey::new("k");
        let mut fields = Fields::new();
        fields.push("pg_status", "ok");
        let body = render(
            fields,
            Some(Signer {
                script: "pay",
                secret: &key,
            }),
        );
        let doc = Document::parse_response(body.as_bytes()).unwrap();
        assert_eq!(doc.root.name, "response");
        assert!(verify("pay", &doc.to_fields(), &key).is_valid());

        let rejection = Rejection::new(ErrorKind::MerchantUnknown, "who?");
        let body = unsigned_error(&rejection, &ErrorCodes::default());
        let doc = Document::parse_response(body.as_bytes()).unwrap();
        assert_eq!(doc.text("pg_error_code"), Some("9997"));
        assert_eq!(
            doc.text("pg_error_description"),
            Some("Неверный номер магазина")
        );
        assert_eq!(doc.text("pg_sig"), None);
        assert_eq!(doc.text("pg_salt"), None);
    }
}

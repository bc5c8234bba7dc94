//! How a request's fields travel on the wire. The gateway reads five shapes [doc, seen], and
//! each merchant's client sends one of them; which one is part of the contract a merchant
//! pins down:
//!
//! | encoding | method | body |
//! |---|---|---|
//! | `multipart` (default) | POST | `multipart/form-data`, one part per field (the docs' samples) |
//! | `urlencoded` | POST | `application/x-www-form-urlencoded`, `a[b][c]=v` keys |
//! | `get` | GET | none: the same pairs in the query string |
//! | `pg_xml` | POST | one urlencoded field `pg_xml` holding `<request>…</request>`, nested values as elements (Platron's SDK) |
//! | `json` | POST | `application/json`, nested values as nested objects, every value a string |
//!
//! Signing does not depend on the encoding: the same fields are signed whatever the wire.
//! This module writes the bodies (pure functions); the live transport sends them, the
//! emulator's request decoding reads them back.

use std::fmt;
use std::str::FromStr;

use super::fields::{FieldValue, Fields};

/// One of the wire shapes of a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Encoding {
    #[default]
    Multipart,
    Urlencoded,
    Get,
    PgXml,
    Json,
}

/// Content type of a urlencoded form.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// Content type of a JSON body.
pub const JSON_CONTENT_TYPE: &str = "application/json";

impl Encoding {
    pub const ALL: [Encoding; 5] = [
        Encoding::Multipart,
        Encoding::Urlencoded,
        Encoding::Get,
        Encoding::PgXml,
        Encoding::Json,
    ];

    /// The name written in `harness.yaml`, scenarios and cassettes.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Multipart => "multipart",
            Encoding::Urlencoded => "urlencoded",
            Encoding::Get => "get",
            Encoding::PgXml => "pg_xml",
            Encoding::Json => "json",
        }
    }

    pub fn from_name(name: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The HTTP method this encoding is sent with.
    pub fn method(self) -> &'static str {
        match self {
            Encoding::Get => "GET",
            _ => "POST",
        }
    }

    /// `multipart, urlencoded, get, pg_xml, json`: for error messages.
    pub fn names() -> String {
        Encoding::ALL.map(Encoding::name).join(", ")
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown encoding `{0}`: expected one of {names}", names = Encoding::names())]
pub struct UnknownEncoding(pub String);

impl FromStr for Encoding {
    type Err = UnknownEncoding;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Encoding::from_name(s.trim()).ok_or_else(|| UnknownEncoding(s.to_owned()))
    }
}

impl serde::Serialize for Encoding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Encoding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Fields an encoding cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "failed to write the request as pg_xml: `{0}` is not an XML element name; send this step with another encoding (e.g. `encoding: urlencoded`)"
)]
pub struct EncodeError(pub String);

/// `application/x-www-form-urlencoded`: `a[b][c]=v` pairs, unreserved bytes as they are,
/// space as `+`, the rest as `%XX` (what PHP's `http_build_query` and browsers write).
pub fn urlencoded(fields: &Fields) -> String {
    form_encode(
        fields
            .form_pairs()
            .iter()
            .map(|(name, value)| (name.as_ref(), *value)),
    )
}

/// Form-encodes pairs (see [`urlencoded`]).
pub fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    fn push(out: &mut String, text: &str) {
        for &b in text.as_bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(b))
                }
                b' ' => out.push('+'),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789ABCDEF";
                    out.push('%');
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0xf)]));
                }
            }
        }
    }
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        push(&mut out, k);
        out.push('=');
        push(&mut out, v);
    }
    out
}

/// The `<request>` document a `pg_xml` field holds: one element per field, groups as nested
/// elements. Text is escaped so that it reads back byte for byte (`\r` too, which XML would
/// otherwise turn into `\n`).
pub fn pg_xml_document(fields: &Fields) -> Result<String, EncodeError> {
    fn write(out: &mut String, name: &str, fields: &Fields) -> Result<(), EncodeError> {
        out.push('<');
        out.push_str(name);
        out.push('>');
        for (key, value) in fields.iter() {
            if !is_xml_name(key) {
                return Err(EncodeError(key.to_owned()));
            }
            match value {
                FieldValue::Text(text) => {
                    out.push('<');
                    out.push_str(key);
                    out.push('>');
                    escape_text(out, text);
                    out.push_str("</");
                    out.push_str(key);
                    out.push('>');
                }
                FieldValue::Nested(inner) => write(out, key, inner)?,
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
        Ok(())
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    write(&mut out, "request", fields)?;
    Ok(out)
}

/// The urlencoded body `pg_xml=<request>…</request>`.
pub fn pg_xml(fields: &Fields) -> Result<String, EncodeError> {
    Ok(form_encode([("pg_xml", pg_xml_document(fields)?.as_str())]))
}

fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// An XML element name as the gateway's parser reads one: a letter or `_` first, then
/// letters, digits, `_`, `-`, `.` (ASCII; a receipt position `0` is not one).
fn is_xml_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A JSON object of the fields: groups as nested objects, every value a string.
pub fn json(fields: &Fields) -> String {
    fn object(fields: &Fields) -> serde_json::Value {
        let map = fields
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    FieldValue::Text(text) => serde_json::Value::String(text.clone()),
                    FieldValue::Nested(inner) => object(inner),
                };
                (name.to_owned(), value)
            })
            .collect();
        serde_json::Value::Object(map)
    }
    object(fields).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        let mut fields = Fields::new();
        for (k, v) in [
            ("pg_amount", "150.00"),
            ("pg_description", "Оплата <x> & \"co\"\r\n"),
            ("pg_param1[a][b]", "1"),
        ] {
            fields.insert_form_key(k, v).unwrap();
        }
        fields
    }

    #[test]
    fn names_round_trip() {
        for encoding in Encoding::ALL {
            assert_eq!(encoding.name().parse::<Encoding>(), Ok(encoding));
        }
        assert_eq!(
            "xml".parse::<Encoding>().unwrap_err().to_string(),
            "unknown encoding `xml`: expected one of multipart, urlencoded, get, pg_xml, json"
        );
        assert_eq!(Encoding::default(), Encoding::Multipart);
        assert_eq!(Encoding::Get.method(), "GET");
    }

    #[test]
    fn pg_xml_nests_groups_and_reads_back_byte_for_byte() {
        let xml = pg_xml_document(&fields()).unwrap();
        assert!(
            xml.contains("<pg_param1><a><b>1</b></a></pg_param1>"),
            "{xml}"
        );
        let document = crate::gateway::Document::parse_str(&xml).unwrap();
        assert_eq!(document.root.name, "request");
        assert_eq!(document.to_fields(), fields());
    }

    #[test]
    fn pg_xml_refuses_names_that_are_not_elements() {
        let mut receipt = Fields::new();
        receipt
            .insert_form_key("pg_receipt_positions[0][count]", "1")
            .unwrap();
        assert_eq!(pg_xml(&receipt), Err(EncodeError("0".into())));
    }

    #[test]
    fn json_nests_groups_and_keeps_values_as_strings() {
        assert_eq!(
            json(&fields()),
            r#"{"pg_amount":"150.00","pg_description":"Оплата <x> & \"co\"\r\n","pg_param1":{"a":{"b":"1"}}}"#
        );
    }
}

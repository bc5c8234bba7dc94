//! Reading a gateway request into [`Fields`], in every form clients send: a GET query, a
//! POST `application/x-www-form-urlencoded` or `multipart/form-data` body, one `pg_xml`
//! field holding `<request>…</request>` (a bare XML body is read the same way), or an
//! `application/json` object. Keys like `pg_receipt_positions[0][count]` nest, and so do JSON
//! objects and arrays; a JSON number or boolean is read as its text. A key sent twice counts
//! once, with its last value, as PHP reads a form.
//!
//! Whatever a client sends, the answer is a field list or a [`DecodeError`], never a panic:
//! a body that is not the shape it claims is `Malformed`, answered unsigned like a broken
//! form.
//!
//! [`decode_read`] also says which of the harness's [`Encoding`]s the request turned out to be
//! (the console lists it beside the content type sent, so a merchant sees what its client
//! really sends).
//!
//! A POST with an empty body falls back to its query string; otherwise the body alone counts,
//! so a message is never half query, half body. The body is read up to the configured limit
//! and no further: a larger one is refused before it is all in memory.

use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{Method, header};

use crate::gateway::xml::Document;
use crate::gateway::{Encoding, Fields};

/// How many fields a request may carry: far more than any real call (a receipt of 400
/// positions is 1,600), and few enough that building the nested fields, which is quadratic in
/// their number, stays cheap.
const MAX_FIELDS: usize = 2000;

/// How deep a field may nest (`pg_receipt_positions[0][count]` is 2 levels).
const MAX_DEPTH: usize = 8;

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    TooLarge { limit: usize },
    Malformed(String),
}

/// Reads the request's fields.
pub(crate) async fn decode(request: Request, limit: usize) -> Result<Fields, DecodeError> {
    decode_read(request, limit).await.map(|(fields, _)| fields)
}

/// Reads the request's fields, and says how they came: a query string is `get` (also a POST
/// with an empty body), a `pg_xml` field or a bare XML body `pg_xml`, else the body's type.
pub(crate) async fn decode_read(
    request: Request,
    limit: usize,
) -> Result<(Fields, Encoding), DecodeError> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(DecodeError::TooLarge { limit });
    }
    let query = parts.uri.query().unwrap_or("").as_bytes();
    let bytes = if parts.method == Method::GET {
        Vec::new()
    } else {
        read_limited(body, limit).await?
    };
    let media_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();

    let (fields, encoding) = if bytes.iter().all(u8::is_ascii_whitespace) {
        (from_pairs(form_decode(query)?)?, Encoding::Get)
    } else if media_type == "multipart/form-data" {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let fields = match plain_multipart(content_type, &bytes) {
            Some(pairs) => from_pairs(pairs)?,
            None => {
                let request = Request::from_parts(parts, Body::from(bytes));
                from_multipart(request).await?
            }
        };
        (fields, Encoding::Multipart)
    } else if media_type.ends_with("/xml") {
        return Ok((from_xml(&bytes)?, Encoding::PgXml));
    } else if media_type == "application/json" || media_type.ends_with("+json") {
        (from_pairs(json_pairs(&bytes)?)?, Encoding::Json)
    } else {
        // Form-encoded, also when the client forgot the content type.
        (from_pairs(form_decode(&bytes)?)?, Encoding::Urlencoded)
    };
    match fields.get("pg_xml") {
        Some(xml) => Ok((from_xml(xml.as_bytes())?, Encoding::PgXml)),
        None => Ok((fields, encoding)),
    }
}

fn from_pairs(pairs: Vec<(String, String)>) -> Result<Fields, DecodeError> {
    let pairs = last_value_wins(pairs);
    if pairs.len() > MAX_FIELDS {
        return Err(DecodeError::Malformed(format!(
            "{} fields are more than the {MAX_FIELDS} a request may carry",
            pairs.len()
        )));
    }
    if let Some((key, _)) = pairs
        .iter()
        .find(|(k, _)| k.matches('[').count() > MAX_DEPTH)
    {
        let shown: String = key.chars().take(60).collect();
        return Err(DecodeError::Malformed(format!(
            "field `{shown}…` nests deeper than {MAX_DEPTH} levels"
        )));
    }
    Fields::from_form_pairs(pairs).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// PHP's reading of a repeated key: one field, at its first place, with its last value (a
/// client that sends `pg_amount` twice is signed and answered as PHP would see it).
fn last_value_wins(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut first_at: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(pairs.len());
    let mut repeated = false;
    for (index, (key, _)) in pairs.iter().enumerate() {
        repeated |= first_at.insert(key.as_str(), index).is_some();
    }
    if !repeated {
        return pairs;
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    let mut slot: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (key, value) in pairs {
        match slot.get(&key) {
            Some(&at) => out[at].1 = value,
            None => {
                slot.insert(key.clone(), out.len());
                out.push((key, value));
            }
        }
    }
    out
}

/// A JSON object as form pairs: nested objects and arrays become `a[b][0]` keys, strings are
/// taken as they are, numbers and booleans as their text (`150.00` stays `150.00`), `null`
/// as an empty value. Anything but an object, and nesting deeper than a form key may, is
/// malformed.
fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    use serde_json::Value;
    fn walk(
        key: String,
        value: Value,
        depth: usize,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), DecodeError> {
        if out.len() > MAX_FIELDS {
            return Err(DecodeError::Malformed(format!(
                "the JSON body holds more than the {MAX_FIELDS} fields a request may carry"
            )));
        }
        let children: Vec<(String, Value)> = match value {
            Value::Object(map) => map.into_iter().collect(),
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            Value::String(text) => {
                out.push((key, text));
                return Ok(());
            }
            Value::Number(number) => {
                out.push((key, number.to_string()));
                return Ok(());
            }
            Value::Bool(flag) => {
                out.push((key, flag.to_string()));
                return Ok(());
            }
            Value::Null => {
                out.push((key, String::new()));
                return Ok(());
            }
        };
        if depth > MAX_DEPTH {
            let shown: String = key.chars().take(60).collect();
            return Err(DecodeError::Malformed(format!(
                "JSON field `{shown}…` nests deeper than {MAX_DEPTH} levels"
            )));
        }
        for (name, child) in children {
            walk(format!("{key}[{name}]"), child, depth + 1, out)?;
        }
        Ok(())
    }
    // serde_json stops at 128 levels on its own, so a deep body is an error, not a crash.
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Malformed(format!("failed to read the JSON body: {e}")))?;
    let Value::Object(map) = value else {
        return Err(DecodeError::Malformed(
            "a JSON body must be an object of fields, e.g. {\"pg_merchant_id\": \"552170\"}".into(),
        ));
    };
    let mut out = Vec::new();
    for (name, value) in map {
        walk(name, value, 0, &mut out)?;
    }
    Ok(out)
}

/// `<request><pg_…>…</pg_…></request>`: the root's children are the message.
fn from_xml(xml: &[u8]) -> Result<Fields, DecodeError> {
    check_xml_shape(xml)?;
    let document =
        Document::parse(xml).map_err(|e| DecodeError::Malformed(format!("pg_xml: {e}")))?;
    Ok(document.to_fields())
}

/// Refuses XML nested deeper, or with more elements, than a message ever needs, before a tree
/// is built: the tree, its signature and even its drop are recursive, and a few hundred
/// thousand levels (well within the body limit) would overflow the stack. Syntax errors are
/// left to the parser, which stops at the same place.
fn check_xml_shape(xml: &[u8]) -> Result<(), DecodeError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut elements = 0usize;
    loop {
        let event = reader.read_event_into(&mut buf);
        if matches!(event, Ok(Event::Start(_) | Event::Empty(_))) {
            elements += 1;
            if elements > MAX_FIELDS {
                return Err(DecodeError::Malformed(format!(
                    "pg_xml holds more than the {MAX_FIELDS} elements a request may carry"
                )));
            }
        }
        match event {
            Ok(Event::Start(_)) => {
                depth += 1;
                // The root element is one more level than a form key's name.
                if depth > MAX_DEPTH + 1 {
                    return Err(DecodeError::Malformed(format!(
                        "pg_xml nests deeper than {MAX_DEPTH} levels"
                    )));
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
        buf.clear();
    }
}

async fn from_multipart(request: Request) -> Result<Fields, DecodeError> {
    let malformed = |e: &dyn std::fmt::Display| {
        DecodeError::Malformed(format!("failed to read the multipart body: {e}"))
    };
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| malformed(&e))?;
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| malformed(&e))? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let value = field.text().await.map_err(|e| malformed(&e))?;
        pairs.push((name, value));
    }
    from_pairs(pairs)
}

/// The fields of a multipart body in the one shape HTTP clients write for text fields (the
/// harness's own requests among them), read straight from the buffered body; `None` for
/// anything else, which the general parser then reads. The general parser costs several
/// times the rest of a call, so a live run spent most of the emulator's time in it. Only
/// input the general parser reads the same way is accepted: a `boundary=` of letters, digits
/// and dashes, parts whose only header is `Content-Disposition: form-data; name="…"` with a
/// plain name, UTF-8 values without a byte-order mark, nothing before the first boundary and
/// at most a line break after the last.
pub(crate) fn plain_multipart(content_type: &str, body: &[u8]) -> Option<Vec<(String, String)>> {
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=")?;
    if boundary.is_empty()
        || !boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let delimiter = format!("\r\n--{boundary}");
    let mut rest = body
        .strip_prefix(b"--")?
        .strip_prefix(boundary.as_bytes())?
        .strip_prefix(b"\r\n")?;
    let mut pairs = Vec::new();
    loop {
        let header = rest.strip_prefix(b"Content-Disposition: form-data; name=\"")?;
        let quote = header.iter().position(|&b| b == b'"')?;
        let name = std::str::from_utf8(&header[..quote]).ok()?;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
        {
            return None;
        }
        let value_and_rest = header[quote..].strip_prefix(b"\"\r\n\r\n")?;
        let end = find(value_and_rest, delimiter.as_bytes())?;
        let value = &value_and_rest[..end];
        if value.starts_with(b"\xEF\xBB\xBF") {
            return None;
        }
        pairs.push((name.to_owned(), std::str::from_utf8(value).ok()?.to_owned()));
        let after = &value_and_rest[end + delimiter.len()..];
        if let Some(next) = after.strip_prefix(b"\r\n") {
            rest = next;
        } else {
            let epilogue = after.strip_prefix(b"--")?;
            return matches!(epilogue, b"" | b"\r\n").then_some(pairs);
        }
    }
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    // Jump from one first byte (`\r`) to the next: values rarely hold one.
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(offset) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The whole body, or `TooLarge` as soon as it passes `limit` bytes.
async fn read_limited(mut body: Body, limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame =
            frame.map_err(|e| DecodeError::Malformed(format!("failed to read the body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(DecodeError::TooLarge { limit });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Splits `a=1&b=x+y%21` into pairs. Malformed `%` escapes are kept as written (as PHP does);
/// a name or value that is not UTF-8 once decoded is an error naming it.
pub(crate) fn form_decode(input: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    let mut pairs = Vec::new();
    for part in input.split(|&b| b == b'&') {
        if part.is_empty() {
            continue;
        }
        let (key, value) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        let key = String::from_utf8(percent_decode(key)).map_err(|e| {
            DecodeError::Malformed(format!(
                "a field name is not UTF-8: {:?}",
                String::from_utf8_lossy(e.as_bytes())
            ))
        })?;
        let value = String::from_utf8(percent_decode(value))
            .map_err(|_| DecodeError::Malformed(format!("the value of {key} is not UTF-8")))?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b).to_digit(16).map(|d| d as u8)
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::encoding::form_encode;

    fn pairs(input: &str) -> Vec<(String, String)> {
        form_decode(input.as_bytes()).unwrap()
    }

    #[test]
    fn form_bodies_decode() {
        assert_eq!(
            pairs("a=1&b=x+y%21&&c&d=&pg_receipt_positions%5B0%5D%5Bname%5D=%D0%9E"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), "".into()),
                ("d".into(), "".into()),
                ("pg_receipt_positions[0][name]".into(), "О".into()),
            ]
        );
    }

    #[test]
    fn broken_escapes_stay_as_written_and_bad_utf8_is_an_error() {
        assert_eq!(
            pairs("a=100%&b=%zz&c=%4"),
            vec![
                ("a".into(), "100%".into()),
                ("b".into(), "%zz".into()),
                ("c".into(), "%4".into()),
            ]
        );
        let err = form_decode(b"pg_amount=%FF").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Malformed("the value of pg_amount is not UTF-8".into())
        );
    }

    /// What the general parser makes of a multipart body.
    fn general_multipart(content_type: &str, body: &[u8]) -> Option<Vec<(String, String)>> {
        let request = Request::builder()
            .method(Method::POST)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_vec()))
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut multipart = Multipart::from_request(request, &()).await.ok()?;
            let mut pairs = Vec::new();
            while let Some(field) = multipart.next_field().await.ok()? {
                let name = field.name()?.to_owned();
                pairs.push((name, field.text().await.ok()?));
            }
            Some(pairs)
        })
    }

    #[test]
    fn plain_multipart_bodies_read_as_the_general_parser_reads_them() {
        let content_type = "multipart/form-data; boundary=0123abcd-ef";
        let body = "--0123abcd-ef\r\nContent-Disposition: form-data; name=\"pg_amount\"\r\n\r\n150.00\r\n\
            --0123abcd-ef\r\nContent-Disposition: form-data; name=\"pg_receipt_positions[0][name]\"\r\n\r\nОплата \"x\"\r\n--0123\r\n\
            --0123abcd-ef\r\nContent-Disposition: form-data; name=\"pg_empty\"\r\n\r\n\r\n\
            --0123abcd-ef--\r\n";
        let plain = plain_multipart(content_type, body.as_bytes()).expect("the plain shape");
        assert_eq!(
            Some(plain.clone()),
            general_multipart(content_type, body.as_bytes())
        );
        assert_eq!(plain[1].1, "Оплата \"x\"\r\n--0123");
        assert_eq!(plain[2].1, "");
    }

    #[test]
    fn other_multipart_shapes_are_left_to_the_general_parser() {
        let content_type = "multipart/form-data; boundary=XX";
        let part =
            |headers: &str, value: &str| format!("--XX\r\n{headers}\r\n\r\n{value}\r\n--XX--\r\n");
        let plain = r#"Content-Disposition: form-data; name="a""#;
        for (content_type, body) in [
            ("multipart/form-data; boundary=\"XX\"", part(plain, "1")),
            (
                "multipart/form-data; charset=utf-8; boundary=XX",
                part(plain, "1"),
            ),
            (content_type, format!("preamble\r\n{}", part(plain, "1"))),
            (
                content_type,
                part(&format!("{plain}\r\nContent-Type: text/plain"), "1"),
            ),
            (
                content_type,
                part(
                    r#"Content-Disposition: form-data; name="a"; filename="f""#,
                    "1",
                ),
            ),
            (
                content_type,
                part(r#"content-disposition: form-data; name="a""#, "1"),
            ),
            (
                content_type,
                part(r#"Content-Disposition: form-data; name="a%20b""#, "1"),
            ),
            (content_type, part(plain, "\u{feff}bom")),
            (content_type, part(plain, "1") + "epilogue"),
            (
                content_type,
                "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1".into(),
            ),
        ] {
            assert_eq!(
                plain_multipart(content_type, body.as_bytes()),
                None,
                "{body:?}"
            );
        }
        let latin1 =
            b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--XX--\r\n";
        assert_eq!(plain_multipart(content_type, latin1), None);
    }

    #[test]
    fn deep_nesting_is_refused_before_any_tree_is_built() {
        let key = format!("a{}", "[x]".repeat(200_000));
        let err = from_pairs(vec![(key, "1".into())]).unwrap_err();
        assert!(
            matches!(err, DecodeError::Malformed(ref m) if m.contains("deeper")),
            "{err:?}"
        );
        let shallow = from_pairs(vec![("a[0][b]".into(), "1".into())]).unwrap();
        assert_eq!(shallow.len(), 1);

        let deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
        let err = from_xml(deep.as_bytes()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Malformed(ref m) if m.contains("deeper")),
            "{err:?}"
        );
        let unclosed = "<a>".repeat(200_000);
        assert!(from_xml(unclosed.as_bytes()).is_err());
        let ok =
            from_xml(b"<request><pg_a>1</pg_a><pg_b><c><d>2</d></c></pg_b></request>").unwrap();
        assert_eq!(ok.len(), 2);
    }

    /// Reads a request the way the server does.
    fn decoded(
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Fields, DecodeError> {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        let request = builder.body(Body::from(body.to_vec())).unwrap();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(decode(request, 1 << 20))
    }

    fn json(body: &str) -> Result<Fields, DecodeError> {
        decoded(
            Method::POST,
            "/init_payment.php",
            Some("application/json; charset=utf-8"),
            body.as_bytes(),
        )
    }

    /// The fields the harness sends, signed, and read back from each encoding's wire bytes
    /// under its content type: the same fields, and the signature holds.
    #[test]
    fn every_encoding_the_harness_writes_reads_back_signed() {
        use crate::gateway::encoding::{self, FORM_CONTENT_TYPE, JSON_CONTENT_TYPE};
        use crate::gateway::{SecretKey, signature};
        let key = SecretKey::new("Test_Secret_Key_123");
        let mut fields = Fields::new();
        for (k, v) in [
            ("pg_merchant_id", "552170"),
            ("pg_amount", "25"),
            ("pg_description", "Оплата <x> & \"co\" 100% +1\r\n"),
            ("pg_param1[a][b]", "nested"),
            ("pg_salt", "molbulak"),
        ] {
            fields.insert_form_key(k, v).unwrap();
        }
        let sig = signature::sign("init_payment.php", &fields, &key);
        fields.set("pg_sig", sig.as_str());
        let post = |content_type: &str, body: String| {
            decoded(
                Method::POST,
                "/init_payment.php",
                Some(content_type),
                body.as_bytes(),
            )
        };
        let (multipart_type, multipart) =
            crate::transport::live::multipart_body(&fields.form_pairs()).unwrap();
        let query = format!("/init_payment.php?{}", encoding::urlencoded(&fields));
        for (name, read) in [
            (
                "multipart",
                post(&multipart_type, String::from_utf8(multipart).unwrap()),
            ),
            (
                "urlencoded",
                post(FORM_CONTENT_TYPE, encoding::urlencoded(&fields)),
            ),
            ("get", decoded(Method::GET, &query, None, b"")),
            (
                "pg_xml",
                post(FORM_CONTENT_TYPE, encoding::pg_xml(&fields).unwrap()),
            ),
            ("json", post(JSON_CONTENT_TYPE, encoding::json(&fields))),
        ] {
            let read = read.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(
                signature::verify("init_payment.php", &read, &key).is_valid(),
                "{name}: {read:?}"
            );
            assert_eq!(
                read.get("pg_description"),
                fields.get("pg_description"),
                "{name}"
            );
        }
    }

    #[test]
    fn json_bodies_read_like_forms() {
        let read = json(
            r#"{"pg_amount": 150.00, "pg_testing_mode": 1, "pg_flag": true, "pg_none": null,
                "pg_receipt_positions": [{"count": 1, "name": "Товар"}], "pg_param1": {"a": {"b": "c"}}}"#,
        )
        .unwrap();
        let expected = Fields::from_form_pairs([
            ("pg_amount", "150.00"),
            ("pg_testing_mode", "1"),
            ("pg_flag", "true"),
            ("pg_none", ""),
            ("pg_receipt_positions[0][count]", "1"),
            ("pg_receipt_positions[0][name]", "Товар"),
            ("pg_param1[a][b]", "c"),
        ])
        .unwrap();
        // serde_json orders an object's keys; the signature sorts them anyway.
        let mut got = read.to_form_pairs();
        let mut want = expected.to_form_pairs();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn json_that_is_not_an_object_of_fields_is_malformed() {
        let deep = format!("{{\"a\": {}1{}}}", "{\"b\": ".repeat(20), "}".repeat(20));
        let very_deep = format!("{{\"a\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        for body in [
            "[1, 2]",
            "\"pg_amount\"",
            "42",
            "null",
            "{\"pg_amount\": ",
            "{\"\": \"1\"}",
            "{\"a\": {\"b\": 1}, \"a[b]\": 2, \"a[b][c]\": 3}",
            deep.as_str(),
            very_deep.as_str(),
        ] {
            let shown: String = body.chars().take(40).collect();
            assert!(
                matches!(json(body), Err(DecodeError::Malformed(_))),
                "{shown}: {:?}",
                json(body)
            );
        }
        let nested_at_the_limit = format!(
            "{{\"a\": {}\"1\"{}}}",
            "{\"b\": ".repeat(MAX_DEPTH),
            "}".repeat(MAX_DEPTH)
        );
        assert!(json(&nested_at_the_limit).is_ok());
    }

    #[test]
    fn a_repeated_form_key_counts_once_with_its_last_value() {
        let read = decoded(
            Method::POST,
            "/init_payment.php",
            Some("application/x-www-form-urlencoded"),
            b"pg_amount=1&pg_order_id=o&pg_amount=2&a[b]=x&a[b]=y",
        )
        .unwrap();
        assert_eq!(
            read.to_form_pairs(),
            [
                ("pg_amount".to_owned(), "2".to_owned()),
                ("pg_order_id".to_owned(), "o".to_owned()),
                ("a[b]".to_owned(), "y".to_owned()),
            ]
        );
    }

    /// Platron's SDK writes `type="str"` on every element and an integer salt.
    #[test]
    fn pg_xml_with_type_attributes_and_integer_salts_verifies() {
        use crate::gateway::{SecretKey, signature};
        let key = SecretKey::new("Test_Secret_Key_123");
        let fields = Fields::from_form_pairs([
            ("pg_merchant_id", "552170"),
            ("pg_payment_id", "12345"),
            ("pg_salt", "48213"),
            ("pg_extra", "x"),
        ])
        .unwrap();
        let sig = signature::sign("get_status.php", &fields, &key);
        let xml = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><request><pg_merchant_id type="str">552170</pg_merchant_id><pg_payment_id type="str">12345</pg_payment_id><pg_salt type="int">48213</pg_salt><pg_extra type="str">x</pg_extra><pg_sig type="str">{sig}</pg_sig></request>"#
        );
        let body = form_encode([("pg_xml", xml.as_str())]);
        let read = decoded(
            Method::POST,
            "/get_status.php",
            Some("application/x-www-form-urlencoded"),
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(read.get("pg_salt"), Some("48213"));
        assert!(signature::verify("get_status.php", &read, &key).is_valid());
    }

    #[test]
    fn encoding_round_trips() {
        let input = [("pg_description", "Оплата & co = 100% +1"), ("a[b]", "")];
        let encoded = form_encode(input);
        assert!(encoded.is_ascii());
        let decoded = pairs(&encoded);
        let expected: Vec<(String, String)> = input
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(decoded, expected);
    }
}

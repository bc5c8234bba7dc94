//! The gateway's XML answers: parsing into an ordered element tree, lookup by `a/b/c` path,
//! canonical pretty-printing (stable, for diffs and cassettes), and flattening into
//! [`Fields`] so a response signature is checked by the same rule as a request's.
//!
//! Real answers use the root `<response>`; the docs' schema pages show `<root>`. Both are
//! read. Entities, character references and CDATA are decoded into text; attributes are kept
//! but are not part of the signature.

use std::fmt::{self, Write as _};

use quick_xml::Reader;
use quick_xml::events::Event;

use super::fields::{FieldValue, Fields};
use super::signature::{Entry, Signable};

/// How many bytes of a body an error message shows.
const HEAD_BYTES: usize = 200;

/// One element: name, attributes in document order, its text, and its child elements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    /// Text content with entities and CDATA decoded. For an element with children,
    /// whitespace-only text between them is dropped.
    pub text: String,
    pub children: Vec<Element>,
}

/// A parsed XML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub root: Element,
}

/// A body that is not a well-formed XML document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to read the answer as XML: {reason} at byte {offset}; it begins: {head}")]
pub struct XmlError {
    pub reason: String,
    pub offset: u64,
    /// The first bytes of the body, quoted, invalid UTF-8 replaced.
    pub head: String,
}

/// Quotes the first `HEAD_BYTES` (200) bytes of a body for an error message.
pub fn body_head(body: &[u8]) -> String {
    let cut = body.len().min(HEAD_BYTES);
    let mut head = format!("{:?}", String::from_utf8_lossy(&body[..cut]));
    if body.len() > HEAD_BYTES {
        head.push_str(&format!(" … ({} bytes in all)", body.len()));
    }
    head
}

impl Element {
    pub fn new(name: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            ..Element::default()
        }
    }

    /// A leaf element with text.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            text: text.into(),
            ..Element::default()
        }
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first element at a `/`-separated path below this one (`a/b/c`; `*` matches any name):
    /// the first of [`find_all`](Self::find_all), found depth first without collecting the
    /// rest (every check and capture looks a field up this way).
    pub fn find(&self, path: &str) -> Option<&Element> {
        let path = path.trim_start_matches('/');
        if path.is_empty() {
            return Some(self);
        }
        let (part, rest) = path.split_once('/').unwrap_or((path, ""));
        self.children
            .iter()
            .filter(|c| part == "*" || c.name == part)
            .find_map(|c| c.find(rest))
    }

    /// Every element at a `/`-separated path below this one, in document order.
    pub fn find_all(&self, path: &str) -> Vec<&Element> {
        let mut current = vec![self];
        for part in path.split('/').filter(|p| !p.is_empty()) {
            current = current
                .into_iter()
                .flat_map(|e| e.children.iter())
                .filter(|c| part == "*" || c.name == part)
                .collect();
        }
        current
    }

    /// The text at a path, for a leaf element.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.find(path).map(|e| e.text.as_str())
    }

    /// The children as fields, read as the signature reads them: leaves become text,
    /// elements with children become groups.
    pub fn to_fields(&self) -> Fields {
        let mut fields = Fields::new();
        for (name, entry) in self.signed_entries() {
            match entry {
                Entry::Text(text) => fields.push(name, text),
                Entry::Group(group) => {
                    fields.push_value(name, FieldValue::Nested(group.to_fields()));
                }
            }
        }
        fields
    }

    /// An element whose children are the given fields (groups become nested elements).
    pub fn from_fields(name: impl Into<String>, fields: &Fields) -> Self {
        let mut element = Element::new(name);
        for (k, v) in fields.iter() {
            element.children.push(match v {
                FieldValue::Text(t) => Element::leaf(k, t.clone()),
                FieldValue::Nested(inner) => Element::from_fields(k, inner),
            });
        }
        element
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        write_indent(out, depth);
        out.push('<');
        out.push_str(&self.name);
        if !self.attributes.is_empty() {
            let mut attributes: Vec<_> = self.attributes.iter().collect();
            attributes.sort();
            for (k, v) in attributes {
                let _ = write!(out, " {k}=\"{}\"", quick_xml::escape::escape(v.as_str()));
            }
        }
        if self.children.is_empty() {
            close_leaf(out, &self.name, &self.text);
            return;
        }
        out.push_str(">\n");
        let text = self.text.trim();
        if !text.is_empty() {
            write_indent(out, depth + 1);
            out.push_str(&quick_xml::escape::partial_escape(text));
            out.push('\n');
        }
        for child in &self.children {
            child.write_pretty(out, depth + 1);
        }
        close_parent(out, depth, &self.name);
    }
}

/// The canonical text of a document whose root `name` holds these fields: exactly what
/// `Document { root: Element::from_fields(name, fields) }.pretty()` prints, written straight
/// from the fields (the emulator answers every request this way, so no tree is built).
pub fn pretty_fields(name: &str, fields: &Fields) -> String {
    let mut out = String::with_capacity(DECLARATION.len() + 64 * (fields.len() + 1));
    out.push_str(DECLARATION);
    write_fields(&mut out, 0, name, fields);
    out
}

fn write_fields(out: &mut String, depth: usize, name: &str, fields: &Fields) {
    write_indent(out, depth);
    out.push('<');
    out.push_str(name);
    if fields.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for (key, value) in fields.iter() {
        match value {
            FieldValue::Text(text) => {
                write_indent(out, depth + 1);
                out.push('<');
                out.push_str(key);
                close_leaf(out, key, text);
            }
            FieldValue::Nested(inner) => write_fields(out, depth + 1, key, inner),
        }
    }
    close_parent(out, depth, name);
}

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

fn write_indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Ends an element without children, its start tag written up to the name and attributes.
fn close_leaf(out: &mut String, name: &str, text: &str) {
    if text.is_empty() {
        out.push_str("/>\n");
    } else {
        out.push('>');
        out.push_str(&quick_xml::escape::partial_escape(text));
        out.push_str("</");
        out.push_str(name);
        out.push_str(">\n");
    }
}

fn close_parent(out: &mut String, depth: usize, name: &str) {
    write_indent(out, depth);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// An answer is signed over its root's children: leaves are text, elements with children are
/// groups ([`Element::to_fields`] copies this reading into fields).
impl Signable for Element {
    fn signed_entries(&self) -> impl Iterator<Item = (&str, Entry<'_, Self>)> {
        self.children.iter().map(|child| {
            let entry = if child.children.is_empty() {
                Entry::Text(child.text.as_str())
            } else {
                Entry::Group(child)
            };
            (child.name.as_str(), entry)
        })
    }
}

impl Document {
    /// Parses any well-formed document.
    pub fn parse(body: &[u8]) -> Result<Document, XmlError> {
        let text = std::str::from_utf8(body).map_err(|e| XmlError {
            reason: "the body is not valid UTF-8".into(),
            offset: e.valid_up_to() as u64,
            head: body_head(body),
        })?;
        Document::parse_str(text)
    }

    /// Parses any well-formed document already known to be UTF-8.
    pub fn parse_str(text: &str) -> Result<Document, XmlError> {
        let body = text.as_bytes();
        let error = |reason: String, offset: u64| XmlError {
            reason,
            offset,
            head: body_head(body),
        };
        if text.trim().is_empty() {
            return Err(error("the body is empty".into(), 0));
        }
        let mut reader = Reader::from_str(text);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| error(e.to_string(), reader.error_position()))?;
            let at = reader.buffer_position();
            match event {
                Event::Start(start) | Event::Empty(start) if root.is_some() => {
                    let _ = start;
                    return Err(error("content after the root element".into(), at));
                }
                Event::Start(start) => stack.push(read_start(&start).map_err(|r| error(r, at))?),
                Event::Empty(start) => {
                    let element = read_start(&start).map_err(|r| error(r, at))?;
                    attach(&mut stack, &mut root, element);
                }
                Event::End(_) => {
                    let mut element = stack
                        .pop()
                        .ok_or_else(|| error("unexpected end tag".into(), at))?;
                    if !element.children.is_empty() && element.text.trim().is_empty() {
                        element.text.clear();
                    }
                    attach(&mut stack, &mut root, element);
                }
                Event::Text(t) => {
                    let content = t.xml10_content();
                    match stack.last_mut() {
                        Some(e) => e.text.push_str(&content),
                        None if content.trim().is_empty() => {}
                        None => return Err(error("text outside the root element".into(), at)),
                    }
                }
                Event::CData(c) => match stack.last_mut() {
                    Some(e) => e.text.push_str(&c.xml10_content()),
                    None => return Err(error("CDATA outside the root element".into(), at)),
                },
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match &*r {
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "amp" => "&".into(),
                            "apos" => "'".into(),
                            "quot" => "\"".into(),
                            other => return Err(error(format!("unknown entity `&{other};`"), at)),
                        },
                        Err(e) => return Err(error(e.to_string(), at)),
                    };
                    match stack.last_mut() {
                        Some(e) => e.text.push_str(&resolved),
                        None => return Err(error("text outside the root element".into(), at)),
                    }
                }
                Event::Eof => break,
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if let Some(open) = stack.last() {
            return Err(error(
                format!("the body ends inside <{}> (truncated?)", open.name),
                body.len() as u64,
            ));
        }
        let root = root.ok_or_else(|| error("no root element".into(), body.len() as u64))?;
        Ok(Document { root })
    }

    /// Parses a gateway answer: root `<response>` (real answers) or `<root>` (the docs).
    pub fn parse_response(body: &[u8]) -> Result<Document, XmlError> {
        Document::parse(body)?.answer(body)
    }

    /// [`Document::parse_response`] for a body already known to be UTF-8.
    pub fn parse_response_str(text: &str) -> Result<Document, XmlError> {
        Document::parse_str(text)?.answer(text.as_bytes())
    }

    /// This document, if its root is that of an answer.
    fn answer(self, body: &[u8]) -> Result<Document, XmlError> {
        match self.root.name.as_str() {
            "response" | "root" => Ok(self),
            other => Err(XmlError {
                reason: format!("the root element is <{other}>, expected <response>"),
                offset: 0,
                head: body_head(body),
            }),
        }
    }

    /// A `<response>` document holding these fields.
    pub fn response(fields: &Fields) -> Document {
        Document {
            root: Element::from_fields("response", fields),
        }
    }

    /// The text at a path below the root (`pg_status`, `a/b/c`).
    pub fn text(&self, path: &str) -> Option<&str> {
        self.root.text_at(path)
    }

    /// The root's children as fields, for signature checks.
    pub fn to_fields(&self) -> Fields {
        self.root.to_fields()
    }

    /// Canonical pretty print: declaration, two-space indent, attributes sorted, one element
    /// per line. Equal documents print equal text. Text escapes only `<`, `>` and `&`, so quotes
    /// stay readable (`{{ regex("^ok$") }}` in an expected body); attribute values escape
    /// quotes too.
    pub fn pretty(&self) -> String {
        let mut out = String::from(DECLARATION);
        self.root.write_pretty(&mut out, 0);
        out
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pretty())
    }
}

fn read_start(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let qname = start.name();
    let name: &str = qname.as_ref();
    let name = name.to_owned();
    let mut element = Element::new(name);
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key: &str = attribute.key.as_ref();
        let key = key.to_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        element.attributes.push((key, value));
    }
    Ok(element)
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::signature::{SecretKey, explain, sign, verify};

    const PAY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<response>
  <pg_status>need_approve</pg_status>
  <pg_payment_id>12345</pg_payment_id>
  <pg_salt>Xy7</pg_salt>
  <pg_sig>a2b940f7f0e7233a5b45d8f97e191e91</pg_sig>
</response>
"#;

    #[test]
    fn reads_a_signed_pay_answer_and_verifies_it() {
        let doc = Document::parse_response(PAY.as_bytes()).unwrap();
        assert_eq!(doc.text("pg_status"), Some("need_approve"));
        let key = SecretKey::new("Test_Secret_Key_123");
        assert!(verify("pay", &doc.to_fields(), &key).is_valid());
        assert!(verify("pay", &doc.root, &key).is_valid());
        let tampered = PAY.replace("12345", "12346");
        let doc = Document::parse_response(tampered.as_bytes()).unwrap();
        assert!(!verify("pay", &doc.root, &key).is_valid());
    }

    #[test]
    fn accepts_root_as_the_docs_render_it() {
        let doc = Document::parse_response(b"<root><pg_status>ok</pg_status></root>").unwrap();
        assert_eq!(doc.root.name, "root");
        assert!(Document::parse_response(b"<request/>").is_err());
    }

    #[test]
    fn keeps_order_nesting_repeats_entities_cdata_and_attributes() {
        let body = r#"<response>
            <pg_status>ok</pg_status>
            <pg_refund_payments>
              <pg_refund_payment id="1"><pg_amount>10</pg_amount></pg_refund_payment>
              <pg_refund_payment id="2"><pg_amount>20</pg_amount></pg_refund_payment>
            </pg_refund_payments>
            <pg_description>A &amp; B &lt;3 &#1054;&#x41a;</pg_description>
            <pg_note><![CDATA[<raw> & text]]></pg_note>
            <pg_empty/>
        </response>"#;
        let doc = Document::parse(body.as_bytes()).unwrap();
        let names: Vec<_> = doc.root.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pg_status",
                "pg_refund_payments",
                "pg_description",
                "pg_note",
                "pg_empty"
            ]
        );
        let refunds = doc.root.find_all("pg_refund_payments/pg_refund_payment");
        assert_eq!(refunds.len(), 2);
        assert_eq!(
            refunds[1].attributes,
            vec![("id".to_owned(), "2".to_owned())]
        );
        let amounts: Vec<_> = doc
            .root
            .find_all("pg_refund_payments/*/pg_amount")
            .iter()
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(amounts, ["10", "20"]);
        assert_eq!(doc.text("pg_description"), Some("A & B <3 ОК"));
        assert_eq!(doc.text("pg_note"), Some("<raw> & text"));
        assert_eq!(doc.text("pg_empty"), Some(""));
        assert_eq!(doc.text("pg_missing"), None);
        // `find` is the first of `find_all`, whatever the path's shape.
        for path in [
            "",
            "/",
            "pg_status",
            "/pg_status/",
            "pg_refund_payments//pg_refund_payment",
            "pg_refund_payments/*/pg_amount",
            "*/*",
            "*/pg_refund_payment/pg_amount",
            "pg_refund_payments/pg_missing",
            "pg_status/x",
        ] {
            assert_eq!(
                doc.root.find(path),
                doc.root.find_all(path).first().copied(),
                "{path}"
            );
        }
    }

    #[test]
    fn nested_answers_flatten_like_requests() {
        let body = "<response><pg_items><item><a>1</a><b>2</b></item></pg_items><pg_salt>s</pg_salt></response>";
        let document = Document::parse(body.as_bytes()).unwrap();
        assert_eq!(explain("x", &document.to_fields()), "x;1;2;s;***");
        // The tree is read by the same rule as its fields, without the copy.
        assert_eq!(explain("x", &document.root), "x;1;2;s;***");
    }

    #[test]
    fn pretty_print_is_canonical_and_round_trips() {
        let a = Document::parse(b"<response><b x=\"1\" a=\"&amp;\">t &lt; u</b><c/></response>")
            .unwrap();
        let b = Document::parse(
            b"<?xml version=\"1.0\"?>\n<response>\n   <b a='&amp;' x='1'>t &lt; u</b>\n<c></c>\n</response>",
        )
        .unwrap();
        assert_eq!(a.pretty(), b.pretty());
        assert_eq!(
            a.pretty(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response>\n  <b a=\"&amp;\" x=\"1\">t &lt; u</b>\n  <c/>\n</response>\n"
        );
        let reparsed = Document::parse(a.pretty().as_bytes()).unwrap();
        assert_eq!(reparsed.pretty(), a.pretty());
        assert_eq!(reparsed.to_fields(), a.to_fields());
    }

    #[test]
    fn fields_to_document_and_back() {
        let mut fields = Fields::new();
        fields.push("pg_status", "ok");
        fields.insert_form_key("pg_items[0][a]", "x & y").unwrap();
        let doc = Document::response(&fields);
        let back = Document::parse(doc.pretty().as_bytes()).unwrap();
        assert_eq!(back.to_fields(), fields);
        let key = SecretKey::new("k");
        assert_eq!(sign("s", &back.to_fields(), &key), sign("s", &fields, &key));
    }

    #[test]
    fn fields_print_as_their_tree_prints() {
        let mut fields = Fields::new();
        fields.push("pg_status", "ok");
        fields.push("pg_empty", "");
        fields.push("pg_text", "a < b & \"c\"");
        fields.insert_form_key("pg_items[0][a]", "1").unwrap();
        fields.insert_form_key("pg_items[0][b][c]", "2").unwrap();
        fields.push_value("pg_none", FieldValue::Nested(Fields::new()));
        for (name, fields) in [("response", &fields), ("request", &Fields::new())] {
            let tree = Document {
                root: Element::from_fields(name, fields),
            };
            assert_eq!(pretty_fields(name, fields), tree.pretty());
        }
        let text = pretty_fields("response", &fields);
        assert!(text.contains("\n      <a>1</a>\n"), "{text}");
    }

    #[test]
    fn html_is_not_xml_and_the_error_shows_the_start() {
        let body = b"<html><body>502 Bad Gateway<br></body></html>";
        let err = Document::parse(body).unwrap_err();
        assert!(err.head.contains("502 Bad Gateway"), "{err}");
        assert!(err.to_string().contains("at byte"), "{err}");
    }

    #[test]
    fn truncated_bodies_name_the_open_element() {
        let body = b"<response><pg_status>ok</pg_status><pg_payment_id>12";
        let err = Document::parse(body).unwrap_err();
        assert!(err.reason.contains("pg_payment_id"), "{err}");
        assert_eq!(err.offset, body.len() as u64);
    }

    #[test]
    fn garbage_empty_and_binary_bodies_are_errors() {
        for body in [
            &b""[..],
            b"   ",
            b"not xml at all",
            b"\xff\xfe<response/>",
            b"<a></b>",
        ] {
            let err = Document::parse(body).unwrap_err();
            assert!(!err.reason.is_empty());
        }
        assert!(Document::parse(b"<a/><b/>").is_err(), "two roots");
    }

    #[test]
    fn long_bodies_are_cut_to_two_hundred_bytes_in_errors() {
        let body = format!("oops{}", "x".repeat(1000));
        let err = Document::parse(body.as_bytes()).unwrap_err();
        assert!(err.head.contains("1004 bytes in all"), "{}", err.head);
        assert!(err.head.len() < 260);
    }
}

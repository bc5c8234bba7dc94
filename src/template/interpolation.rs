//! The fast path for templates that are only text, variables and plain calls
//! (`Top-up via {{ operator }}`, `{{ order_id() }}`): their value is the text with each value
//! put in, which joining gives without starting minijinja's machine.

use super::analysis::is_identifier;
use super::generators::Generator;

/// A part of a template that is only text, variables and plain calls.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece {
    Text(String),
    Variable(String),
    /// `{{ order_id() }}` and the other argument-less generators.
    Generate(Generator),
    /// `{{ sms_code(phone) }}`, the argument a variable.
    SmsCode {
        phone: String,
    },
}

/// `source` as text, variables and plain calls when that is all it is: every tag is
/// `{{ name }}`, `{{ generator() }}` or `{{ sms_code(name) }}` (spaces optional; no filter,
/// other call, whitespace control, block or comment). Such a template renders to its text
/// with each value put in.
pub(super) fn interpolation(source: &str) -> Option<Vec<Piece>> {
    if source.contains("{%") || source.contains("{#") {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = source;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        pieces.push(tag(after[..close].trim_matches(' '))?);
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Some(pieces)
}

/// The piece a tag's inside (`name`, `order_id()`, `sms_code(phone)`) stands for.
fn tag(inside: &str) -> Option<Piece> {
    if is_identifier(inside) {
        return Some(Piece::Variable(inside.to_owned()));
    }
    let (function, rest) = inside.split_once('(')?;
    let argument = rest.strip_suffix(')')?.trim_matches(' ');
    match (function.trim_end_matches(' '), argument) {
        ("sms_code", phone) if is_identifier(phone) => Some(Piece::SmsCode {
            phone: phone.to_owned(),
        }),
        (name, "") => Generator::named(name).map(Piece::Generate),
        _ => None,
    }
}

//! A YAML file that serde-saphyr could not read, explained one way for every file fph reads
//! (scenarios, `harness.yaml`, the emulator's configuration): where the mistake is, a title,
//! a label for the underline and how to fix it ("did you mean `code_attempts`?").
//!
//! Each loader wraps a [`YamlMistake`] in its own diagnostic (`scenario::ScenarioError`, the
//! emulator's `ConfigProblem`), so a syntax error, a value of the wrong type and an unknown
//! key in a file are shown like every other mistake in it. serde-saphyr's own places are
//! reused as they are; its messages too, with a fix added where the kind of error says one.

use std::ops::Range;

use serde_saphyr::{Location, MessageFormatter};

/// What serde-saphyr refused, in fph's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlMistake {
    pub(crate) kind: MistakeKind,
    /// The offending text as a byte range of the source; empty at 0 when not known.
    pub(crate) range: Range<usize>,
    /// 1-based line and column (characters); 0 when the place is not known.
    pub(crate) line: usize,
    pub(crate) column: usize,
    /// What is wrong.
    pub(crate) title: String,
    /// The words under the underlined text.
    pub(crate) label: &'static str,
    /// How to fix it, when the kind of error says.
    pub(crate) help: Option<String>,
}

/// The two kinds a loader tells apart (scenario diagnostics have a code for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MistakeKind {
    /// The YAML does not parse, or a value has the wrong type.
    Yaml,
    /// A key the format does not know.
    UnknownKey,
}

impl YamlMistake {
    /// Explains `error`, which serde-saphyr gave for `source`. `hidden_keys` are keys the
    /// format knows but does not suggest (`harness.yaml` refuses credentials it recognises).
    pub(crate) fn read(
        error: &serde_saphyr::Error,
        source: &str,
        hidden_keys: &[&str],
    ) -> YamlMistake {
        let (range, line, column) = match error.location() {
            Some(location) if location.line() > 0 => (
                byte_range(&location, source),
                location.line() as usize,
                location.column() as usize,
            ),
            _ => (0..0, 0, 0),
        };
        let mistake = |kind, title: String, label, help: Option<String>| YamlMistake {
            kind,
            range: range.clone(),
            line,
            column,
            title,
            label,
            help,
        };
        let inner = error.without_snippet();
        if let serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } = inner
        {
            let expected: Vec<&str> = expected
                .iter()
                .copied()
                .filter(|key| !hidden_keys.contains(key))
                .collect();
            return mistake(
                MistakeKind::UnknownKey,
                format!("unknown key `{field}`"),
                "not a known key here",
                Some(unknown_key_help(field, &expected)),
            );
        }
        let title = serde_saphyr::UserMessageFormatter
            .format_message(inner)
            .into_owned();
        let help = fix(inner, &title);
        mistake(MistakeKind::Yaml, title, "here", help)
    }
}

/// How to fix what serde-saphyr said (`message`, its words for `error`), when its kind says.
fn fix(error: &serde_saphyr::Error, message: &str) -> Option<String> {
    use serde_saphyr::Error;
    Some(match error {
        Error::SerdeMissingField { field, .. } => format!("add `{field}:` to this mapping"),
        Error::InvalidScalar { ty, .. } => return scalar_fix(ty),
        Error::InvalidBooleanStrict { .. } => "write true or false".to_owned(),
        Error::Unexpected { expected, .. } if expected.contains("mapping") => {
            "write a mapping here: `key: value` lines, or `{ key: value }`".to_owned()
        }
        Error::Unexpected { expected, .. } if expected.contains("sequence") => {
            "write a list here: `- item` lines, or `[a, b]`".to_owned()
        }
        Error::Unexpected { expected, .. } if expected.contains("scalar") => {
            "write a single value here, not a list or a mapping".to_owned()
        }
        Error::SerdeInvalidType { expected, .. } | Error::SerdeInvalidValue { expected, .. } => {
            format!("write {expected} here")
        }
        Error::MultipleDocuments { .. } => {
            "keep one YAML document: remove the `---` line and what follows it".to_owned()
        }
        Error::DuplicateMappingKey { .. } => "keep one of the two: remove the other".to_owned(),
        // The parser notices a syntax mistake where it can no longer go on, which is often
        // after the mistake itself.
        _ if is_syntax_message(message) => {
            "the mistake may be earlier: look for an unclosed `{`, `[` or quote, or a wrong indent"
                .to_owned()
        }
        _ => return None,
    })
}

/// The fix for a scalar that is not of the type asked for (`ty` as Rust names it).
fn scalar_fix(ty: &str) -> Option<String> {
    let max = match ty {
        "u8" => u64::from(u8::MAX),
        "u16" => u64::from(u16::MAX),
        "u32" => u64::from(u32::MAX),
        "u64" | "usize" => u64::MAX,
        "i8" | "i16" | "i32" | "i64" | "isize" => return Some("write a whole number".to_owned()),
        "f32" | "f64" => return Some("write a number, like 1.5".to_owned()),
        "bool" => return Some("write true or false".to_owned()),
        _ => return None,
    };
    Some(format!("write a whole number from 0 to {max}"))
}

/// True for the parser's (not serde's) messages: YAML that does not parse at all.
fn is_syntax_message(message: &str) -> bool {
    [
        "while parsing",
        "while scanning",
        "did not find expected",
        "tabs disallowed",
        "cannot start any token",
    ]
    .iter()
    .any(|marker| message.contains(marker))
}

/// The fix for an unknown key `key` where the format knows `expected`: the nearest known key
/// when it is a plausible typo, else the keys it knows.
pub(crate) fn unknown_key_help(key: &str, expected: &[&str]) -> String {
    match did_you_mean(key, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "remove it".to_owned(),
        None => format!("expected one of: {}", expected.join(", ")),
    }
}

/// The byte range of a serde-saphyr location's text in `source`, clamped to it. serde-saphyr
/// always knows the character offset; byte offsets only for string input, so they are
/// recomputed when missing.
pub(crate) fn byte_range(location: &Location, source: &str) -> Range<usize> {
    let span = location.span();
    let (start, len) = match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => (start as usize, len as usize),
        _ => {
            let byte = |chars: u64| {
                source
                    .char_indices()
                    .nth(chars as usize)
                    .map_or(source.len(), |(at, _)| at)
            };
            let start = byte(span.offset());
            (start, byte(span.offset() + span.len()) - start)
        }
    };
    let start = start.min(source.len());
    start..(start + len).min(source.len())
}

/// The closest candidate to `word` by edit distance (adjacent swaps count as one edit), when
/// it is close enough to be a plausible typo: at most one edit per three characters, or a
/// candidate that `word` is the beginning of.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| {
            let distance = if candidate.eq_ignore_ascii_case(word) {
                0
            } else {
                edit_distance(word, candidate)
            };
            // A cut-short name (`resend` for `resend_code`) is a plausible slip too, but
            // ranks after real typos.
            let truncated = word.len() >= 3 && candidate.starts_with(word);
            let distance = if truncated {
                distance.min(limit)
            } else {
                distance
            };
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        // Ties go to the alphabetically first, so hints do not depend on hash order.
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters (the commonest typo, `exepct`) each cost one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only read to make serde-saphyr refuse YAML")]
    struct Settings {
        code_attempts: Option<u32>,
        routes: Option<Vec<String>>,
        name: Option<String>,
    }

    fn mistake(yaml: &str) -> YamlMistake {
        let error = serde_saphyr::from_str::<Settings>(yaml).unwrap_err();
        YamlMistake::read(&error, yaml, &[])
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("expect", "expect"), 0);
        assert_eq!(edit_distance("exepct", "expect"), 1);
        assert_eq!(edit_distance("captur", "capture"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn did_you_mean_picks_a_close_candidate_only() {
        let keys = [
            "id",
            "call",
            "form",
            "expect",
            "expect_body",
            "capture",
            "poll",
        ];
        assert_eq!(did_you_mean("exepct", keys), Some("expect"));
        assert_eq!(did_you_mean("Form", keys), Some("form"));
        assert_eq!(did_you_mean("caputre", keys), Some("capture"));
        assert_eq!(did_you_mean("timeout", keys), None);
        assert_eq!(
            did_you_mean("resend", ["pay", "resend_code"]),
            Some("resend_code")
        );
        assert_eq!(did_you_mean("ex", ["expect_body"]), None);
        assert_eq!(
            did_you_mean("pg_paymnt_id", ["pg_payment_id", "pg_order_id"]),
            Some("pg_payment_id")
        );
    }

    #[test]
    fn an_unknown_key_is_placed_and_named_with_the_nearest_known_one() {
        let yaml = "name: x\ncode_atempts: 3\n";
        let found = mistake(yaml);
        assert_eq!(found.kind, MistakeKind::UnknownKey);
        assert_eq!((found.line, found.column), (2, 1));
        assert_eq!(&yaml[found.range.clone()], "code_atempts");
        assert_eq!(found.title, "unknown key `code_atempts`");
        assert_eq!(found.help.as_deref(), Some("did you mean `code_attempts`?"));
        let found = mistake("colour: red\n");
        assert_eq!(
            found.help.as_deref(),
            Some("expected one of: code_attempts, routes, name")
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_says_what_to_write() {
        let yaml = "name: x\ncode_attempts: many\n";
        let found = mistake(yaml);
        assert_eq!(found.kind, MistakeKind::Yaml);
        assert_eq!((found.line, found.column), (2, 16));
        assert_eq!(&yaml[found.range.clone()], "many");
        assert_eq!(found.title, "invalid u32");
        assert_eq!(
            found.help.as_deref(),
            Some("write a whole number from 0 to 4294967295")
        );
        let found = mistake("routes: /x\n");
        assert_eq!(
            found.help.as_deref(),
            Some("write a list here: `- item` lines, or `[a, b]`")
        );
    }

    #[test]
    fn a_syntax_error_points_back_at_what_may_have_caused_it() {
        // The tab is on line 2; the parser stops in the value before it, still reading it.
        let found = mistake("name: x\n\troutes: []\n");
        assert_eq!((found.line, found.column), (1, 7), "{found:?}");
        assert_eq!(found.title, "while scanning a plain scalar, found a tab");
        assert!(
            found.help.as_deref().unwrap().contains("may be earlier"),
            "{found:?}"
        );
    }
}

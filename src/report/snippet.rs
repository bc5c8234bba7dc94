//! Pointing into a scenario the way rustc and Hurl do: the file, line and column, the source
//! line, and a caret under the value, with a label.
//!
//! ```text
//!   --> scenarios/sms_approval.yaml:31:18
//!    |
//! 31 |     expect: { pg_status: need_approve }
//!    |                          ^^^^^^^^^^^^ expected "need_approve", actual "ok"
//! ```

use std::fmt::Write as _;
use std::path::Path;

use crate::scenario::Span;

use super::style::Style;

/// The snippet for `span` of `text` (the scenario read from `file`); `None` when the span
/// points nowhere. `mask` is applied to the source line (redacted values stay hidden).
pub fn render(
    file: &Path,
    text: &str,
    span: Span,
    label: &str,
    style: Style,
    mask: &dyn Fn(&str) -> String,
) -> Option<String> {
    if !span.is_known() || span.offset > text.len() || !text.is_char_boundary(span.offset) {
        return None;
    }
    let line_start = text[..span.offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.offset..]
        .find('\n')
        .map_or(text.len(), |i| span.offset + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let before = &text[line_start..span.offset];
    // Tabs stay tabs so the caret lines up under them; every other character is one column.
    let indent: String = before
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let end = (span.offset + span.len).min(line_end);
    let width = text
        .get(span.offset..end)
        .map_or(1, |value| value.chars().count().max(1));
    let number = span.line.to_string();
    let gutter = " ".repeat(number.len());
    let bar = style.dim("|");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{gutter}{} {}:{}:{}",
        style.dim("-->"),
        file.display(),
        span.line,
        span.column
    );
    let _ = writeln!(out, "{gutter} {bar}");
    let _ = writeln!(out, "{} {bar} {}", style.dim(&number), mask(line));
    let _ = writeln!(
        out,
        "{gutter} {bar} {indent}{} {}",
        style.red(&"^".repeat(width)),
        style.red(label)
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "name: t\nsteps:\n  - id: pay\n    expect: { pg_status: need_approve }\n";

    fn span_of(needle: &str) -> Span {
        let offset = YAML.find(needle).unwrap();
        Span::at_offset(YAML, offset, needle.len())
    }

    #[test]
    fn the_caret_is_under_the_value() {
        let shown = render(
            Path::new("s.yaml"),
            YAML,
            span_of("need_approve"),
            "expected \"need_approve\", actual \"ok\"",
            Style::PLAIN,
            &|s| s.to_owned(),
        )
        .unwrap();
        assert_eq!(
            shown,
            " --> s.yaml:4:26\n  |\n4 |     expect: { pg_status: need_approve }\n  |                          ^^^^^^^^^^^^ expected \"need_approve\", actual \"ok\"\n"
        );
    }

    #[test]
    fn unknown_places_show_nothing() {
        let shown = render(
            Path::new("s.yaml"),
            YAML,
            Span::UNKNOWN,
            "x",
            Style::PLAIN,
            &|s| s.to_owned(),
        );
        assert_eq!(shown, None);
    }
}

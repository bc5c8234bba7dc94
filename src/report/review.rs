//! The review workflow's view of a pending proposal: a unified diff of the current file
//! against `file.new`, as `fph review` shows it before asking.

use crate::review::Change;

use super::diff::unified_diff;
use super::style::Style;

/// The diff of a pending change; empty when the texts are equal.
pub fn change(change: &Change, style: Style) -> String {
    unified_diff(
        &change.old,
        &change.new,
        (&change.labels.0, &change.labels.1),
        style,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_shown_as_a_unified_diff_with_its_labels() {
        let shown = change(
            &Change {
                old: "a\nb\n".into(),
                new: "a\nc\n".into(),
                labels: ("f.xml (does not exist yet)".into(), "f.xml.new".into()),
            },
            Style::PLAIN,
        );
        assert!(
            shown.starts_with("--- f.xml (does not exist yet)\n+++ f.xml.new\n"),
            "{shown}"
        );
        assert!(shown.contains("\n-b\n+c\n"), "{shown}");
    }
}

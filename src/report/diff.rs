//! Unified diffs of two texts (canonical pretty-printed XML, usually), coloured when the
//! style allows: `-` expected in red, `+` actual in green.

use similar::TextDiff;

use super::style::Style;

/// A unified diff with three lines of context; empty when the texts are equal.
pub fn unified_diff(expected: &str, actual: &str, labels: (&str, &str), style: Style) -> String {
    if expected == actual {
        return String::new();
    }
    let diff = TextDiff::from_lines(expected, actual);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(labels.0, labels.1)
        .to_string();
    text.lines()
        .map(|line| {
            if line.starts_with("---") || line.starts_with("+++") {
                style.bold(line)
            } else if line.starts_with('-') {
                style.red(line)
            } else if line.starts_with('+') {
                style.green(line)
            } else if line.starts_with("@@") {
                style.dim(line)
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_only_the_changed_lines_with_context() {
        let a = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let b = "a\nb\nc\nd\nE\nf\ng\nh\n";
        let d = unified_diff(a, b, ("expected", "actual"), Style::PLAIN);
        assert!(d.starts_with("--- expected\n+++ actual\n@@"), "{d}");
        assert!(d.contains("\n-e\n+E\n"), "{d}");
        assert!(!d.contains("\n a\n"), "context is three lines: {d}");
        assert_eq!(unified_diff(a, a, ("x", "y"), Style::PLAIN), "");
    }
}

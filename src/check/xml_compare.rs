//! Semantic comparison of two XML documents, reported per path.
//!
//! - Children with different names may come in any order; children with the same name are a
//!   list and compare by position (`pg_refund_payment[2]`).
//! - Text is compared trimmed; entities and CDATA are already decoded by the parser.
//! - Ignore rules are `/`-separated paths below the root, `*` matching any one name:
//!   `pg_salt`, `pg_refund_payments/*/pg_payment_date`. An ignored element may be present,
//!   absent or different.
//! - In the expected document an element's text may be a matcher: `{{ any }}` (present, any
//!   value), `{{ number }}` (a decimal number), `{{ regex("^\d+$") }}` — the scenario's
//!   matchers, spelled for a body ([`Matcher::in_expected_body`]).

use std::fmt;

use crate::gateway::{Document, Element};

use super::matcher::{Matcher, is_number};

/// What differs at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `a/b[2]/c`, below the root; `@name` for an attribute.
    pub path: String,
    pub kind: DifferenceKind,
    /// The expected (or recorded) value; `None` when it was absent.
    pub expected: Option<String>,
    /// The actual (or live) value; `None` when it is absent.
    pub actual: Option<String>,
}

/// How a path differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DifferenceKind {
    /// Present in the actual document only.
    Added,
    /// Present in the expected document only.
    Removed,
    /// Present in both with another value.
    Changed,
    /// A number became text or text a number.
    TypeChanged,
}

impl fmt::Display for DifferenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DifferenceKind::Added => "added",
            DifferenceKind::Removed => "removed",
            DifferenceKind::Changed => "changed",
            DifferenceKind::TypeChanged => "type changed",
        })
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| match v {
            Some(v) => format!("{v:?}"),
            None => "(absent)".to_owned(),
        };
        match self.kind {
            DifferenceKind::Added => write!(f, "{} added: {}", self.path, show(&self.actual)),
            DifferenceKind::Removed => {
                write!(f, "{} removed (was {})", self.path, show(&self.expected))
            }
            DifferenceKind::Changed | DifferenceKind::TypeChanged => write!(
                f,
                "{} {}: {} → {}",
                self.path,
                self.kind,
                show(&self.expected),
                show(&self.actual)
            ),
        }
    }
}

/// Paths to ignore.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    pub ignore: Vec<String>,
}

impl CompareOptions {
    pub fn ignoring<I, S>(paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CompareOptions {
            ignore: paths.into_iter().map(Into::into).collect(),
        }
    }

    /// True when a path (indices stripped) matches an ignore rule.
    pub(crate) fn ignores(&self, path: &[&str]) -> bool {
        self.ignore.iter().any(|rule| {
            let parts: Vec<&str> = rule.split('/').filter(|p| !p.is_empty()).collect();
            parts.len() == path.len() && parts.iter().zip(path).all(|(p, n)| *p == "*" || p == n)
        })
    }
}

/// Compares `actual` with `expected`; an empty list means equal.
pub fn compare(
    expected: &Document,
    actual: &Document,
    options: &CompareOptions,
) -> Vec<Difference> {
    let mut differences = Vec::new();
    if expected.root.name != actual.root.name {
        differences.push(Difference {
            path: "/".into(),
            kind: DifferenceKind::Changed,
            expected: Some(format!("<{}>", expected.root.name)),
            actual: Some(format!("<{}>", actual.root.name)),
        });
    }
    let mut names = Vec::new();
    compare_elements(
        &expected.root,
        &actual.root,
        &mut names,
        "",
        options,
        &mut differences,
    );
    differences
}

fn join(prefix: &str, part: &str) -> String {
    if prefix.is_empty() {
        part.to_owned()
    } else {
        format!("{prefix}/{part}")
    }
}

fn compare_elements<'a>(
    expected: &'a Element,
    actual: &'a Element,
    names: &mut Vec<&'a str>,
    prefix: &str,
    options: &CompareOptions,
    out: &mut Vec<Difference>,
) {
    compare_attributes(expected, actual, prefix, out);
    if expected.children.is_empty() && actual.children.is_empty() {
        compare_text(expected.text.trim(), actual.text.trim(), prefix, out);
        return;
    }
    let child_names = child_names(expected, actual);
    if expected.children.is_empty() != actual.children.is_empty() {
        // One side is a leaf: compare its text with the other's, then report the children.
        compare_text(expected.text.trim(), actual.text.trim(), prefix, out);
    }
    for name in child_names {
        names.push(name);
        let ignored = options.ignores(names);
        let (left, right) = (children_named(expected, name), children_named(actual, name));
        let repeated = left.len().max(right.len()) > 1;
        for i in 0..left.len().max(right.len()) {
            if ignored {
                break;
            }
            let path = if repeated {
                join(prefix, &format!("{name}[{}]", i + 1))
            } else {
                join(prefix, name)
            };
            match (left.get(i), right.get(i)) {
                (Some(e), Some(a)) => compare_elements(e, a, names, &path, options, out),
                (Some(e), None) => out.push(Difference {
                    path,
                    kind: DifferenceKind::Removed,
                    expected: Some(summary(e)),
                    actual: None,
                }),
                (None, Some(a)) => out.push(Difference {
                    path,
                    kind: DifferenceKind::Added,
                    expected: None,
                    actual: Some(summary(a)),
                }),
                (None, None) => {}
            }
        }
        names.pop();
    }
}

/// Child names of two elements in first-seen order: the first's, then any only the second has.
pub(crate) fn child_names<'a>(first: &'a Element, second: &'a Element) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for child in first.children.iter().chain(&second.children) {
        if !names.contains(&child.name.as_str()) {
            names.push(&child.name);
        }
    }
    names
}

/// The children called `name`, in order: a repeated element compares as a list.
pub(crate) fn children_named<'a>(element: &'a Element, name: &str) -> Vec<&'a Element> {
    element.children.iter().filter(|c| c.name == name).collect()
}

fn compare_attributes(
    expected: &Element,
    actual: &Element,
    prefix: &str,
    out: &mut Vec<Difference>,
) {
    for (name, value) in &expected.attributes {
        let path = join(prefix, &format!("@{name}"));
        match actual.attributes.iter().find(|(n, _)| n == name) {
            Some((_, v)) if v == value => {}
            Some((_, v)) => out.push(Difference {
                path,
                kind: DifferenceKind::Changed,
                expected: Some(value.clone()),
                actual: Some(v.clone()),
            }),
            None => out.push(Difference {
                path,
                kind: DifferenceKind::Removed,
                expected: Some(value.clone()),
                actual: None,
            }),
        }
    }
    for (name, value) in &actual.attributes {
        if !expected.attributes.iter().any(|(n, _)| n == name) {
            out.push(Difference {
                path: join(prefix, &format!("@{name}")),
                kind: DifferenceKind::Added,
                expected: None,
                actual: Some(value.clone()),
            });
        }
    }
}

fn compare_text(expected: &str, actual: &str, path: &str, out: &mut Vec<Difference>) {
    let matcher = Matcher::in_expected_body(expected);
    let matches = match &matcher {
        Some(matcher) => matcher.accepts(actual),
        None => expected == actual,
    };
    if matches {
        return;
    }
    let kind = if matcher.is_none() && is_number(expected) != is_number(actual) {
        DifferenceKind::TypeChanged
    } else {
        DifferenceKind::Changed
    };
    out.push(Difference {
        path: path.to_owned(),
        kind,
        expected: Some(expected.to_owned()),
        actual: Some(actual.to_owned()),
    });
}

/// A short form of an element for added/removed reports: its text, or `<name>…</name>`.
fn summary(element: &Element) -> String {
    if element.children.is_empty() {
        element.text.trim().to_owned()
    } else {
        format!(
            "<{}> with {} children",
            element.name,
            element.children.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text.as_bytes()).unwrap()
    }

    fn diff(expected: &str, actual: &str, ignore: &[&str]) -> Vec<String> {
        compare(
            &doc(expected),
            &doc(actual),
            &CompareOptions::ignoring(ignore.iter().copied()),
        )
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    #[test]
    fn order_of_different_names_and_whitespace_do_not_matter() {
        let a = "<response><a>1</a><b> 2 </b></response>";
        let b = "<response>\n  <b>2</b>\n  <a>1</a>\n</response>";
        assert!(diff(a, b, &[]).is_empty());
    }

    #[test]
    fn entities_and_cdata_are_the_same_text() {
        let a = "<response><d>A &amp; B</d></response>";
        let b = "<response><d><![CDATA[A & B]]></d></response>";
        assert!(diff(a, b, &[]).is_empty());
    }

    #[test]
    fn changes_additions_and_removals_are_reported_by_path() {
        let a = "<response><pg_status>ok</pg_status><pg_amount>150</pg_amount><gone>x</gone></response>";
        let b = "<response><pg_status>error</pg_status><pg_amount>abc</pg_amount><new>y</new></response>";
        assert_eq!(
            diff(a, b, &[]),
            [
                "pg_status changed: \"ok\" → \"error\"",
                "pg_amount type changed: \"150\" → \"abc\"",
                "gone removed (was \"x\")",
                "new added: \"y\"",
            ]
        );
    }

    #[test]
    fn repeated_elements_compare_as_lists() {
        let a = "<response><l><i>1</i><i>2</i></l></response>";
        let b = "<response><l><i>1</i><i>3</i><i>4</i></l></response>";
        assert_eq!(
            diff(a, b, &[]),
            ["l/i[2] changed: \"2\" → \"3\"", "l/i[3] added: \"4\""]
        );
        let swapped = "<response><l><i>2</i><i>1</i></l></response>";
        assert_eq!(diff(a, swapped, &[]).len(), 2, "list order matters");
    }

    #[test]
    fn ignore_rules_with_wildcards() {
        let a = "<response><pg_salt>a</pg_salt><r><p><d>1</d><x>1</x></p><p><d>2</d><x>2</x></p></r></response>";
        let b = "<response><pg_salt>b</pg_salt><r><p><d>9</d><x>1</x></p><p><x>2</x></p></r></response>";
        assert!(diff(a, b, &["pg_salt", "r/*/d"]).is_empty());
        assert_eq!(diff(a, b, &["pg_salt"]).len(), 2);
    }

    #[test]
    fn matchers_in_the_expected_document() {
        let expected = r#"<response><id>{{ any }}</id><n>{{ number }}</n><s>{{ regex("^ok|process$") }}</s></response>"#;
        assert!(
            diff(
                expected,
                "<response><id>77</id><n>1.50</n><s>ok</s></response>",
                &[]
            )
            .is_empty()
        );
        assert_eq!(
            diff(expected, "<response><n>x</n><s>err</s></response>", &[]).len(),
            3,
            "absent any, non-number, regex miss"
        );
        let bad = r#"<response><s>{{ regex("(") }}</s></response>"#;
        assert_eq!(diff(bad, "<response><s>x</s></response>", &[]).len(), 1);
    }

    #[test]
    fn attributes_are_compared() {
        let d = diff(
            "<response><a k=\"1\"/></response>",
            "<response><a k=\"2\" j=\"3\"/></response>",
            &[],
        );
        assert_eq!(d, ["a/@k changed: \"1\" → \"2\"", "a/@j added: \"3\""]);
    }

    #[test]
    fn numbers() {
        for n in ["0", "150", "150.00", "-1.5"] {
            assert!(is_number(n), "{n}");
        }
        for n in ["", "-", "1.", ".5", "1e3", "abc", "1.2.3"] {
            assert!(!is_number(n), "{n}");
        }
    }
}

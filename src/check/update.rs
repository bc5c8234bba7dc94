//! What an expected document should become after a mismatch: the answer, but with what the
//! author of the expected file chose to leave loose kept as they wrote it — the review
//! workflow writes this as `FILE.xml.new` (or over `FILE.xml`), and reports diff against it.
//!
//! The rule, element by element (children pair up as [`compare`](super::compare) pairs them:
//! by name, then by position among same-named siblings):
//!
//! - Under an ignored path, the expected file's elements are kept as they are, whole
//!   subtrees included; positions the expected file lacks are taken from the answer, and
//!   ignored elements the answer lacks stay (an ignored element may be absent).
//! - A leaf whose expected text is a matcher (`{{ any }}`, `{{ number }}`, `{{ regex("…") }}`)
//!   keeps the matcher when the answer still satisfies it; otherwise the answer's text
//!   replaces it, so the change shows up in review instead of being papered over.
//! - Everything else — names, attributes, text, elements added or removed — is the answer's.
//! - Children come in the expected file's name order, then names only the answer has, in
//!   its order. Order between different names does not matter to the comparison, and
//!   keeping the file's order keeps the review diff down to the lines that changed.
//!
//! The result therefore always compares equal to the answer it was made from (with the same
//! ignore rules): accepting it makes the step pass.

use crate::gateway::{Document, Element};

use super::matcher::Matcher;
use super::xml_compare::{CompareOptions, child_names, children_named};

/// The expected document rewritten to match `actual`, keeping matchers that still hold and
/// ignored paths as `expected` has them.
pub fn updated_expected(
    expected: &Document,
    actual: &Document,
    options: &CompareOptions,
) -> Document {
    let mut names = Vec::new();
    Document {
        root: merge(&expected.root, &actual.root, &mut names, options),
    }
}

fn merge<'a>(
    expected: &'a Element,
    actual: &'a Element,
    names: &mut Vec<&'a str>,
    options: &CompareOptions,
) -> Element {
    if expected.children.is_empty() && actual.children.is_empty() {
        let pattern = expected.text.trim();
        let text = match Matcher::in_expected_body(pattern) {
            Some(matcher) if matcher.accepts(actual.text.trim()) => pattern.to_owned(),
            _ => actual.text.clone(),
        };
        return Element {
            name: actual.name.clone(),
            attributes: actual.attributes.clone(),
            text,
            children: Vec::new(),
        };
    }
    let mut merged = Element {
        name: actual.name.clone(),
        attributes: actual.attributes.clone(),
        text: actual.text.clone(),
        children: Vec::with_capacity(actual.children.len()),
    };
    for name in child_names(expected, actual) {
        names.push(name);
        let (left, right) = (children_named(expected, name), children_named(actual, name));
        if options.ignores(names) {
            for i in 0..left.len().max(right.len()) {
                if let Some(element) = left.get(i).or(right.get(i)) {
                    merged.children.push((*element).clone());
                }
            }
        } else {
            for (i, answer) in right.iter().enumerate() {
                merged.children.push(match left.get(i) {
                    Some(old) => merge(old, answer, names, options),
                    None => (*answer).clone(),
                });
            }
        }
        names.pop();
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::compare;

    fn doc(text: &str) -> Document {
        Document::parse(text.as_bytes()).unwrap()
    }

    fn update(expected: &str, actual: &str, ignore: &[&str]) -> String {
        let options = CompareOptions::ignoring(ignore.iter().copied());
        let (expected, actual) = (doc(expected), doc(actual));
        let updated = updated_expected(&expected, &actual, &options);
        assert!(
            compare(&updated, &actual, &options).is_empty(),
            "an update always matches its answer: {}",
            updated.pretty()
        );
        let body = updated.pretty();
        body.strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")
            .unwrap()
            .to_owned()
    }

    #[test]
    fn matchers_that_still_hold_are_kept_and_values_are_the_answers() {
        let expected = r#"<response><pg_status>ok</pg_status><pg_payment_id>{{ number }}</pg_payment_id><pg_url>{{ regex("^https://") }}</pg_url></response>"#;
        let actual = "<response><pg_status>error</pg_status><pg_payment_id>77</pg_payment_id><pg_url>https://x</pg_url></response>";
        assert_eq!(
            update(expected, actual, &[]),
            "<response>\n  <pg_status>error</pg_status>\n  <pg_payment_id>{{ number }}</pg_payment_id>\n  <pg_url>{{ regex(\"^https://\") }}</pg_url>\n</response>\n"
        );
    }

    #[test]
    fn a_matcher_that_no_longer_holds_gives_way_to_the_answer() {
        let expected = "<response><n>{{ number }}</n><a>{{ any }}</a></response>";
        let actual = "<response><n>n/a</n><a><b>1</b></a></response>";
        assert_eq!(
            update(expected, actual, &[]),
            "<response>\n  <n>n/a</n>\n  <a>\n    <b>1</b>\n  </a>\n</response>\n"
        );
    }

    #[test]
    fn ignored_paths_keep_the_expected_files_elements() {
        let expected = "<response><pg_salt>x</pg_salt><l><i><d>old</d><v>1</v></i></l><gone>1</gone></response>";
        let actual = "<response><l><i><d>new</d><v>2</v></i><i><d>more</d><v>3</v></i></l><pg_sig>abc</pg_sig></response>";
        assert_eq!(
            update(expected, actual, &["pg_salt", "l/*/d", "pg_sig"]),
            "<response>\n  <pg_salt>x</pg_salt>\n  <l>\n    <i>\n      <d>old</d>\n      <v>2</v>\n    </i>\n    <i>\n      <d>more</d>\n      <v>3</v>\n    </i>\n  </l>\n  <pg_sig>abc</pg_sig>\n</response>\n",
            "ignored pg_salt kept though absent, list item d kept, new ignored pg_sig from the answer, removed `gone` dropped"
        );
    }

    #[test]
    fn the_expected_files_order_is_kept_and_new_names_come_last() {
        let expected = "<response><b>1</b><a>1</a></response>";
        let actual = "<response><c>3</c><a>2</a><b>1</b></response>";
        assert_eq!(
            update(expected, actual, &[]),
            "<response>\n  <b>1</b>\n  <a>2</a>\n  <c>3</c>\n</response>\n"
        );
    }

    #[test]
    fn attributes_and_the_root_are_the_answers() {
        let expected = r#"<root><a k="1">{{ any }}</a></root>"#;
        let actual = r#"<response><a k="2" j="3">x</a></response>"#;
        assert_eq!(
            update(expected, actual, &[]),
            "<response>\n  <a j=\"3\" k=\"2\">{{ any }}</a>\n</response>\n"
        );
    }
}

//! The one matcher vocabulary: what a field of an answer must be. A scenario's `expect:` and
//! `poll.until:` spell it in YAML (`pg_status: ok`, `{ matches: … }`, `{ one_of: […] }`,
//! `{ present: true }`, `{ absent: true }`, `{ gte: N, lte: N }`, read by the scenario
//! loader); an expected body spells part of it as an element's text (`{{ any }}` is present,
//! `{{ number }}` a number with no bounds, `{{ regex("…") }}` matches), read by
//! [`Matcher::in_expected_body`]. [`Matcher::check`] decides; templated values are rendered
//! through a closure the runner supplies.
//!
//! The matcher is generic over the text it compares with: the scenario model uses its
//! `Template` (text with a place in the YAML; `scenario::Matcher` names that), an expected body
//! plain `String`s. So `check` knows nothing of scenarios.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

/// What an expected field must hold; `T` is the text equality compares with, rendered first.
#[derive(Debug, Clone)]
pub enum Matcher<T> {
    /// Equal to the rendered template (`pg_status: ok`, `pg_amount: "{{ amount }}"`).
    Equals(T),
    /// Present and matching the regex (not templated: braces are regex syntax). Shared: the
    /// loader hands every scenario with the same pattern the same compiled regex, so a suite
    /// of many files holds one regex and one set of search caches per pattern.
    Matches(Arc<Regex>),
    /// Equal to one of the rendered templates.
    OneOf(Vec<T>),
    Present,
    Absent,
    /// A number within the bounds (inclusive).
    Range {
        gte: Option<Number>,
        lte: Option<Number>,
    },
}

/// A bound of a range matcher, with its text as written (`150.00` stays `150.00` in reports).
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: f64,
    pub text: String,
}

/// The outcome of one matcher against one field, ready for a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub passed: bool,
    /// What was expected, for humans: `"150.00"`, `matches ^\d+$`, `one of [ok, process]`,
    /// `present`, `absent`, `at least 100`, `between 1 and 5`.
    pub expected: String,
    /// The field's text, `None` when the response does not have it.
    pub actual: Option<String>,
}

impl<T: AsRef<str>> Matcher<T> {
    /// Checks `actual` (the field's text, `None` when absent). Templated expectations are
    /// rendered with `render`, which the runner builds from its template renderer and the
    /// case context; its error is returned as is.
    pub fn check<E>(
        &self,
        actual: Option<&str>,
        render: &mut dyn FnMut(&str) -> Result<String, E>,
    ) -> Result<Check, E> {
        let (passed, expected) = match self {
            Matcher::Equals(template) => {
                let expected = render(template.as_ref())?;
                (actual == Some(expected.as_str()), format!("{expected:?}"))
            }
            Matcher::Matches(regex) => (
                actual.is_some_and(|a| regex.is_match(a)),
                format!("matches {}", regex.as_str()),
            ),
            Matcher::OneOf(options) => {
                let mut rendered = Vec::with_capacity(options.len());
                for option in options {
                    rendered.push(render(option.as_ref())?);
                }
                (
                    actual.is_some_and(|a| rendered.iter().any(|r| r == a)),
                    format!("one of [{}]", rendered.join(", ")),
                )
            }
            Matcher::Present => (actual.is_some(), "present".to_owned()),
            Matcher::Absent => (actual.is_none(), "absent".to_owned()),
            Matcher::Range { gte, lte } => {
                // One definition of a number: a decimal as the gateway writes it (not `1e3`, `inf`).
                let number = actual
                    .map(str::trim)
                    .filter(|a| is_number(a))
                    .and_then(|a| a.parse::<f64>().ok());
                let passed = number.is_some_and(|n| {
                    gte.as_ref().is_none_or(|low| n >= low.value)
                        && lte.as_ref().is_none_or(|high| n <= high.value)
                });
                let expected = match (gte, lte) {
                    (Some(low), Some(high)) => format!("between {} and {}", low.text, high.text),
                    (Some(low), None) => format!("at least {}", low.text),
                    (None, Some(high)) => format!("at most {}", high.text),
                    (None, None) => "a number".to_owned(),
                };
                (passed, expected)
            }
        };
        Ok(Check {
            passed,
            expected,
            actual: actual.map(str::to_owned),
        })
    }

    /// The templates this matcher renders (for compiling them ahead of time).
    pub fn templates(&self) -> impl Iterator<Item = &T> {
        let list: &[T] = match self {
            Matcher::Equals(template) => std::slice::from_ref(template),
            Matcher::OneOf(options) => options,
            _ => &[],
        };
        list.iter()
    }
}

impl<T: AsRef<str>> fmt::Display for Matcher<T> {
    /// The matcher as it reads in YAML (unrendered): `ok`, `{ matches: ^\d+$ }`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Equals(template) => f.write_str(template.as_ref()),
            Matcher::Matches(regex) => write!(f, "{{ matches: {} }}", regex.as_str()),
            Matcher::OneOf(options) => {
                let texts: Vec<&str> = options.iter().map(AsRef::as_ref).collect();
                write!(f, "{{ one_of: [{}] }}", texts.join(", "))
            }
            Matcher::Present => f.write_str("{ present: true }"),
            Matcher::Absent => f.write_str("{ absent: true }"),
            Matcher::Range { gte, lte } => {
                let bounds: Vec<String> = [("gte", gte), ("lte", lte)]
                    .into_iter()
                    .filter_map(|(name, bound)| {
                        bound.as_ref().map(|b| format!("{name}: {}", b.text))
                    })
                    .collect();
                write!(f, "{{ {} }}", bounds.join(", "))
            }
        }
    }
}

impl Matcher<String> {
    /// The matcher an expected body's element text stands for, when it is one: `{{ any }}`,
    /// `{{ number }}` or `{{ regex("…") }}` (either quotes). Other text, and a regex that does
    /// not compile, is compared as written, so a bad pattern shows up as a difference rather
    /// than silently passing.
    pub(crate) fn in_expected_body(text: &str) -> Option<Matcher<String>> {
        let inner = text.strip_prefix("{{")?.strip_suffix("}}")?.trim();
        match inner {
            "any" => Some(Matcher::Present),
            "number" => Some(Matcher::Range {
                gte: None,
                lte: None,
            }),
            _ => {
                let pattern = inner.strip_prefix("regex(")?.strip_suffix(')')?.trim();
                let pattern = pattern
                    .strip_prefix('"')
                    .and_then(|p| p.strip_suffix('"'))
                    .or_else(|| {
                        pattern
                            .strip_prefix('\'')
                            .and_then(|p| p.strip_suffix('\''))
                    })?;
                Regex::new(pattern)
                    .ok()
                    .map(|r| Matcher::Matches(Arc::new(r)))
            }
        }
    }

    /// Whether `actual` satisfies a matcher that has nothing to render (every matcher an
    /// expected body holds).
    pub(crate) fn accepts(&self, actual: &str) -> bool {
        self.check(Some(actual), &mut |text| {
            Ok::<_, std::convert::Infallible>(text.to_owned())
        })
        .is_ok_and(|check| check.passed)
    }
}

/// A decimal number as the gateway writes them (`150`, `150.00`, `-1.5`).
pub(crate) fn is_number(text: &str) -> bool {
    let text = text.strip_prefix('-').unwrap_or(text);
    let mut parts = text.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(text: &str) -> String {
        text.to_owned()
    }

    /// A renderer that knows one variable, enough to test the matcher logic.
    fn render(text: &str) -> Result<String, String> {
        if text.contains("{{ missing }}") {
            return Err("`missing` is not defined".into());
        }
        Ok(text.replace("{{ amount }}", "150.00"))
    }

    fn check(matcher: &Matcher<String>, actual: Option<&str>) -> Check {
        matcher.check(actual, &mut render).unwrap()
    }

    #[test]
    fn equals_compares_the_rendered_text() {
        let matcher = Matcher::Equals(literal("{{ amount }}"));
        let pass = check(&matcher, Some("150.00"));
        assert!(pass.passed);
        assert_eq!(pass.expected, "\"150.00\"");
        let fail = check(&matcher, Some("150"));
        assert!(!fail.passed);
        assert_eq!(fail.actual.as_deref(), Some("150"));
        assert!(!check(&matcher, None).passed);
    }

    #[test]
    fn render_errors_are_passed_through() {
        let matcher = Matcher::Equals(literal("{{ missing }}"));
        assert_eq!(
            matcher.check(Some("x"), &mut render),
            Err("`missing` is not defined".to_owned())
        );
    }

    #[test]
    fn matches_needs_a_present_matching_field() {
        let matcher = Matcher::Matches(Arc::new(Regex::new(r"^\d+$").unwrap()));
        assert!(check(&matcher, Some("12345")).passed);
        assert!(!check(&matcher, Some("12a")).passed);
        assert!(!check(&matcher, None).passed);
        assert_eq!(check(&matcher, None).expected, r"matches ^\d+$");
    }

    #[test]
    fn one_of_renders_every_option() {
        let matcher = Matcher::OneOf(vec![
            literal("ok"),
            literal("process"),
            literal("{{ amount }}"),
        ]);
        assert!(check(&matcher, Some("process")).passed);
        assert!(check(&matcher, Some("150.00")).passed);
        let fail = check(&matcher, Some("error"));
        assert!(!fail.passed);
        assert_eq!(fail.expected, "one of [ok, process, 150.00]");
    }

    #[test]
    fn present_and_absent() {
        assert!(check(&Matcher::Present, Some("")).passed);
        assert!(!check(&Matcher::Present, None).passed);
        assert!(check(&Matcher::Absent, None).passed);
        let fail = check(&Matcher::Absent, Some("7"));
        assert!(!fail.passed);
        assert_eq!(fail.expected, "absent");
        assert_eq!(fail.actual.as_deref(), Some("7"));
    }

    #[test]
    fn ranges_compare_numbers_inclusively() {
        let number = |text: &str| Number {
            value: text.parse().unwrap(),
            text: text.to_owned(),
        };
        let both = Matcher::Range {
            gte: Some(number("100")),
            lte: Some(number("150.00")),
        };
        assert!(check(&both, Some("100")).passed);
        assert!(check(&both, Some("150.00")).passed);
        assert!(check(&both, Some(" 120.5 ")).passed);
        assert!(!check(&both, Some("150.01")).passed);
        assert!(!check(&both, Some("abc")).passed);
        assert!(!check(&both, None).passed);
        assert_eq!(check(&both, None).expected, "between 100 and 150.00");
        let low = Matcher::Range {
            gte: Some(number("1")),
            lte: None,
        };
        // Gateway numbers are decimals: an exponent is not one.
        assert!(check(&low, Some("1000")).passed);
        assert!(!check(&low, Some("1e3")).passed);
        assert_eq!(check(&low, None).expected, "at least 1");
        let high = Matcher::Range {
            gte: None,
            lte: Some(number("5")),
        };
        assert!(check(&high, Some("-3")).passed);
        assert_eq!(check(&high, None).expected, "at most 5");
    }

    #[test]
    fn matchers_display_as_written() {
        assert_eq!(Matcher::Equals(literal("ok")).to_string(), "ok");
        assert_eq!(
            Matcher::OneOf(vec![literal("ok"), literal("process")]).to_string(),
            "{ one_of: [ok, process] }"
        );
        assert_eq!(Matcher::<String>::Absent.to_string(), "{ absent: true }");
    }

    #[test]
    fn expected_bodies_spell_part_of_the_vocabulary() {
        assert!(matches!(
            Matcher::in_expected_body("{{ any }}"),
            Some(Matcher::Present)
        ));
        let number = Matcher::in_expected_body("{{number}}").unwrap();
        assert!(number.accepts("150.00") && !number.accepts("abc"));
        let regex = Matcher::in_expected_body(r#"{{ regex('^\d+$') }}"#).unwrap();
        assert!(regex.accepts("12345") && !regex.accepts("12a"));
        assert!(Matcher::in_expected_body(r#"{{ regex("(") }}"#).is_none());
        assert!(Matcher::in_expected_body("ok").is_none());
    }
}

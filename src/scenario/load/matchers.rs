//! The `expect:` and `poll.until:` matchers: a field path and one rule (equality, `matches`,
//! `one_of`, `present`, `absent`, a `gte`/`lte` range), with regexes compiled once per process.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;
use serde_saphyr::Spanned;

use super::templates::Scope;
use super::{Loader, quoted_list};
use crate::check::Number;
use crate::scenario::diagnostic::{ErrorKind, ScenarioError};
use crate::scenario::model::{Expectation, Matcher, Template};
use crate::scenario::raw::{Entries, RawMatcher, RawMatcherRules, RawScalar};

/// The compiled regex for `pattern`, shared by every scenario of the process that uses the
/// same pattern: a compiled regex and the search caches it grows on first use take tens of
/// kilobytes, and a large suite repeats the same few patterns (`^\d+$`) in every file.
/// Bounded by the number of distinct patterns, which the scenario files fix.
fn shared_regex(pattern: &str) -> Result<Arc<Regex>, regex::Error> {
    static COMPILED: std::sync::Mutex<Option<HashMap<String, Arc<Regex>>>> =
        std::sync::Mutex::new(None);
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    let compiled = compiled.get_or_insert_with(HashMap::new);
    if let Some(regex) = compiled.get(pattern) {
        return Ok(Arc::clone(regex));
    }
    let regex = Arc::new(Regex::new(pattern)?);
    compiled.insert(pattern.to_owned(), Arc::clone(&regex));
    Ok(regex)
}

impl Loader<'_> {
    pub(super) fn expectations(
        &self,
        entries: &Entries<RawMatcher>,
        scope: &Scope,
    ) -> Result<Vec<Expectation>, ScenarioError> {
        let mut out = Vec::with_capacity(entries.0.len());
        for (path, matcher) in &entries.0 {
            let span = self.span(matcher);
            let path_text = path.value.trim();
            if path_text.is_empty() || path_text.split('/').any(str::is_empty) {
                return Err(self
                    .error(ErrorKind::InvalidValue, format!("`{}` is not a field path", path.value), self.span(path))
                    .with_help("name a response field, with `/` between nested elements: `pg_refund_payments/pg_refund_payment/pg_amount`"));
            }
            out.push(Expectation {
                path: path_text.to_owned(),
                matcher: self.matcher(matcher, scope)?,
                span,
            });
        }
        Ok(out)
    }

    fn matcher(&self, raw: &Spanned<RawMatcher>, scope: &Scope) -> Result<Matcher, ScenarioError> {
        let span = self.span(raw);
        let rules = match &raw.value {
            RawMatcher::Equals(RawScalar::Text(text)) => {
                let template = self.template(
                    &Spanned::new(text.clone(), raw.referenced, raw.defined),
                    scope,
                )?;
                return Ok(Matcher::Equals(template));
            }
            RawMatcher::Equals(RawScalar::Plain(lossy)) => {
                // `150.00` unquoted is read as a number; compare with the text as written.
                let written = span.text(self.source).trim();
                let text = if written.is_empty() {
                    lossy.as_str()
                } else {
                    written
                };
                return Ok(Matcher::Equals(Template::new(text, span)));
            }
            RawMatcher::Rules(rules) => rules.as_ref(),
        };
        let RawMatcherRules {
            matches,
            one_of,
            present,
            absent,
            gte,
            lte,
        } = rules;
        let given: Vec<&str> = [
            ("matches", matches.is_some()),
            ("one_of", one_of.is_some()),
            ("present", present.is_some()),
            ("absent", absent.is_some()),
            ("gte/lte", gte.is_some() || lte.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, is_given)| is_given.then_some(name))
        .collect();
        if given.len() != 1 {
            let title = if given.is_empty() {
                "the matcher is empty".to_owned()
            } else {
                format!("a matcher cannot combine {}", quoted_list(&given))
            };
            return Err(self
                .error(ErrorKind::InvalidValue, title, span)
                .with_help("a matcher is one of { matches: REGEX }, { one_of: [...] }, { present: true }, { absent: true }, { gte: N, lte: N }"));
        }
        if let Some(pattern) = matches {
            return shared_regex(&pattern.value)
                .map(Matcher::Matches)
                .map_err(|error| {
                    self.error(
                        ErrorKind::BadRegex,
                        format!("invalid regex `{}`", pattern.value),
                        self.span(pattern),
                    )
                    .with_label("this pattern")
                    .with_help(regex_problem(&error))
                });
        }
        if let Some(options) = one_of {
            if options.value.is_empty() {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        "`one_of` is empty",
                        self.span(options),
                    )
                    .with_help("list the accepted values, e.g. `{ one_of: [ok, process] }`"));
            }
            let mut templates = Vec::with_capacity(options.value.len());
            for option in &options.value {
                templates.push(self.template(option, scope)?);
            }
            return Ok(Matcher::OneOf(templates));
        }
        if let Some(present) = present {
            return Ok(if present.value {
                Matcher::Present
            } else {
                Matcher::Absent
            });
        }
        if let Some(absent) = absent {
            return Ok(if absent.value {
                Matcher::Absent
            } else {
                Matcher::Present
            });
        }
        let number = |bound: &Spanned<f64>| {
            let written = self.span(bound).text(self.source).trim().to_owned();
            Number {
                value: bound.value,
                text: if written.is_empty() {
                    bound.value.to_string()
                } else {
                    written
                },
            }
        };
        let (gte, lte) = (gte.as_ref().map(number), lte.as_ref().map(number));
        if let (Some(low), Some(high)) = (&gte, &lte)
            && low.value > high.value
        {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!(
                        "the range is empty: `gte: {}` is above `lte: {}`",
                        low.text, high.text
                    ),
                    span,
                )
                .with_help("swap the bounds"));
        }
        Ok(Matcher::Range { gte, lte })
    }
}

/// `regex` explains a syntax error over several lines (pattern, caret, message); the message
/// is the last line.
pub(crate) fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let problem = last.trim().trim_start_matches("error: ");
    format!("the regex crate says: {problem}")
}

//! The validated scenario: what the runner executes. Everything here has passed the loader's
//! checks (`load/`), so the runner can trust it: calls are known, step ids unique, regexes
//! compiled, templates parse and reference only defined variables, polls only on idempotent
//! calls. Spans stay attached so a failure at run time can still point into the YAML.
//!
//! A scenario expands into [`Case`]s, one per matrix row (or a single `default` case), and
//! [`Selection`] picks cases for `--filter` and `--tag`. [`Matcher::check`] decides whether a
//! response field is what a step expects; templated expectations are rendered through a
//! closure the runner supplies.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;

use crate::gateway::{Encoding, Operation};

use super::diagnostic::{ErrorKind, ScenarioError, Span};

/// One scenario file, validated.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The `name:` line, for humans.
    pub name: String,
    /// The file it was read from (as given to the loader).
    pub file: PathBuf,
    /// The file name without extension: the scenario's stable id, and the cassette directory
    /// (`recordings/<stem>/`).
    pub stem: String,
    pub tags: Vec<String>,
    /// `vars:` in file order.
    pub vars: Vec<(String, String)>,
    /// One per matrix row, or a single `default` case.
    pub cases: Vec<Case>,
    pub steps: Vec<Step>,
    /// The YAML text, for diagnostics that point into it.
    pub source: Arc<str>,
}

/// One run of a scenario: the scenario's variables with one matrix row applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// `operator=KCELLKZT,phone=77017777777` (the columns whose values differ between rows),
    /// or `default` without a matrix. Unique within the scenario; names the cassette file.
    pub name: String,
    /// `vars` in file order with the row's values applied (a column named like a var
    /// overrides it in place), then the row's other columns in row order.
    pub bindings: Vec<(String, String)>,
    /// The scenario's `encoding:` for this case (it may name a matrix column); `None`: the
    /// target's.
    pub encoding: Option<Encoding>,
    /// Where the matrix row is (unknown for the `default` case).
    pub span: Span,
}

/// The case name used when a scenario has no matrix.
pub const DEFAULT_CASE: &str = "default";

/// A case name as the file name of its cassette (without `.yaml`): characters other than
/// letters, digits, `.`, `-`, `_`, `=` and `,` become `_`, so matrix names like
/// `operator=KCELLKZT,phone=770…` stay readable; a leading `.` gets a `_` so no cassette is
/// hidden or names a parent directory. The loader refuses two cases of one scenario that
/// this maps to one name.
pub fn cassette_file_name(case: &str) -> String {
    let name: String = case
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '=' | ',') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("_{name}")
    } else {
        name
    }
}

/// One call of a scenario.
#[derive(Debug, Clone)]
pub struct Step {
    /// Unique within the scenario; keys the cassette interaction.
    pub id: String,
    pub call: Operation,
    /// Form fields in file order, as templates. Names may be nested form keys
    /// (`pg_receipt_positions[0][count]`); `gateway::Fields::insert_form_key` reads them.
    pub form: Vec<(String, Template)>,
    pub expect: Vec<Expectation>,
    pub expect_body: Option<ExpectBody>,
    /// After the step, each field's text is bound to its variable for later steps (not for
    /// this step's own form, expectations or poll condition; the loader refuses such uses).
    pub capture: Vec<Capture>,
    pub poll: Option<Poll>,
    /// How this step's request goes on the wire; `None`: the case's, else the target's.
    pub encoding: Option<Encoding>,
    /// Where the step's `id:` value is.
    pub span: Span,
}

/// One `variable: field path` of `capture:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub variable: String,
    /// Field path in the answer, as in `expect:`.
    pub path: String,
    /// Where the path is in the YAML.
    pub span: Span,
}

/// A string that may contain `{{ … }}`, with its place in the YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub source: String,
    pub span: Span,
}

impl Template {
    pub fn new(source: impl Into<String>, span: Span) -> Template {
        Template {
            source: source.into(),
            span,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the text contains template syntax at all; plain text renders as itself.
    pub fn is_templated(&self) -> bool {
        is_templated(&self.source)
    }
}

/// True when `text` contains `{{`, `{%` or `{#`.
pub(crate) fn is_templated(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// One `path: matcher` line of `expect:` or `poll.until:`.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// Field path in the response; `/` separates nested elements
    /// (`pg_refund_payments/pg_refund_payment/pg_amount`).
    pub path: String,
    pub matcher: Matcher,
    /// Where the matcher value is in the YAML.
    pub span: Span,
}

/// `expect_body:` — compare the whole response with an XML file, ignoring some paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectBody {
    /// Resolved against the scenario file's directory; the loader checked it exists.
    pub file: PathBuf,
    /// Paths whose values are not compared (`pg_salt`, `pg_sig`, `pg_payment_id`).
    pub ignore: Vec<String>,
    pub span: Span,
}

/// `poll:` — repeat an idempotent call until the fields match, or give up.
#[derive(Debug, Clone)]
pub struct Poll {
    pub until: Vec<Expectation>,
    /// At least 1; the first call counts.
    pub attempts: u32,
    /// Pause between attempts.
    pub interval: Duration,
    pub span: Span,
}

/// Default number of poll attempts when `attempts:` is left out.
pub const DEFAULT_POLL_ATTEMPTS: u32 = 10;
/// Default pause between poll attempts when `interval:` is left out.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// What an expected field must hold.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to the rendered template (`pg_status: ok`, `pg_amount: "{{ amount }}"`).
    Equals(Template),
    /// Present and matching the regex (not templated: braces are regex syntax). Shared: the
    /// loader hands every scenario with the same pattern the same compiled regex, so a suite
    /// of many files holds one regex and one set of search caches per pattern.
    Matches(Arc<Regex>),
    /// Equal to one of the rendered templates.
    OneOf(Vec<Template>),
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

impl Matcher {
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
                let expected = render(template.as_str())?;
                (actual == Some(expected.as_str()), format!("{expected:?}"))
            }
            Matcher::Matches(regex) => (
                actual.is_some_and(|a| regex.is_match(a)),
                format!("matches {}", regex.as_str()),
            ),
            Matcher::OneOf(options) => {
                let mut rendered = Vec::with_capacity(options.len());
                for option in options {
                    rendered.push(render(option.as_str())?);
                }
                (
                    actual.is_some_and(|a| rendered.iter().any(|r| r == a)),
                    format!("one of [{}]", rendered.join(", ")),
                )
            }
            Matcher::Present => (actual.is_some(), "present".to_owned()),
            Matcher::Absent => (actual.is_none(), "absent".to_owned()),
            Matcher::Range { gte, lte } => {
                let number = actual.and_then(|a| a.trim().parse::<f64>().ok());
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
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let list: &[Template] = match self {
            Matcher::Equals(template) => std::slice::from_ref(template),
            Matcher::OneOf(options) => options,
            _ => &[],
        };
        list.iter()
    }
}

impl fmt::Display for Matcher {
    /// The matcher as it reads in YAML (unrendered): `ok`, `{ matches: ^\d+$ }`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Equals(template) => f.write_str(template.as_str()),
            Matcher::Matches(regex) => write!(f, "{{ matches: {} }}", regex.as_str()),
            Matcher::OneOf(options) => {
                let texts: Vec<&str> = options.iter().map(Template::as_str).collect();
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

/// Which cases to run: `--filter TEXT` and `--tag TAG` (repeatable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// A case is kept when its id (`stem/case`) or its scenario's name contains this text,
    /// as `cargo test NAME` filters by substring.
    pub filter: Option<String>,
    /// A case is kept when its scenario carries at least one of these tags (like several
    /// `cargo test` filters, several tags widen the selection). Empty: no tag condition.
    pub tags: Vec<String>,
}

impl Selection {
    /// Everything.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// True when `case` of `scenario` is selected.
    pub fn matches(&self, scenario: &Scenario, case: &Case) -> bool {
        let tagged =
            self.tags.is_empty() || self.tags.iter().any(|tag| scenario.tags.contains(tag));
        let filtered = self.filter.as_deref().is_none_or(|text| {
            scenario.case_id(case).contains(text) || scenario.name.contains(text)
        });
        tagged && filtered
    }
}

impl Scenario {
    /// The stable id of a case across reports and cassettes: `stem/case`.
    pub fn case_id(&self, case: &Case) -> String {
        format!("{}/{}", self.stem, case.name)
    }

    /// The cases `selection` keeps, in file order.
    pub fn cases_matching<'a>(
        &'a self,
        selection: &'a Selection,
    ) -> impl Iterator<Item = &'a Case> {
        self.cases
            .iter()
            .filter(|case| selection.matches(self, case))
    }

    /// The case called `name`.
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|case| case.name == name)
    }

    /// The step with id `id`.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|step| step.id == id)
    }

    /// Every template of the scenario (form values, expected values, poll conditions), for
    /// compiling them once before any case runs.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.steps.iter().flat_map(Step::templates)
    }

    /// A diagnostic pointing into this scenario's YAML, for failures found at run time (an
    /// expectation that did not hold, a template that failed to render), with the same shape
    /// and renderings as a load error. Add a label and a hint with
    /// [`ScenarioError::with_label`] and [`ScenarioError::with_help`].
    pub fn error_at(&self, span: Span, title: impl Into<String>) -> ScenarioError {
        ScenarioError::new(
            ErrorKind::Failed,
            title,
            &self.file,
            Some(&self.source),
            span,
        )
    }
}

impl Step {
    /// Every template of the step: form values, then expectations, then the poll condition.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let form = self.form.iter().map(|(_, template)| template);
        let expect = self.expect.iter().flat_map(|e| e.matcher.templates());
        let until = self
            .poll
            .iter()
            .flat_map(|poll| poll.until.iter().flat_map(|e| e.matcher.templates()));
        form.chain(expect).chain(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(text: &str) -> Template {
        Template::new(text, Span::UNKNOWN)
    }

    /// A renderer that knows one variable, enough to test the matcher logic.
    fn render(text: &str) -> Result<String, String> {
        if text.contains("{{ missing }}") {
            return Err("`missing` is not defined".into());
        }
        Ok(text.replace("{{ amount }}", "150.00"))
    }

    fn check(matcher: &Matcher, actual: Option<&str>) -> Check {
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
        assert!(check(&low, Some("1e3")).passed);
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
        assert_eq!(Matcher::Absent.to_string(), "{ absent: true }");
    }

    fn scenario(tags: &[&str], cases: &[&str]) -> Scenario {
        Scenario {
            name: "Kcell payment confirmed by SMS code".into(),
            file: "scenarios/kcell_sms_approval.yaml".into(),
            stem: "kcell_sms_approval".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            vars: Vec::new(),
            cases: cases
                .iter()
                .map(|name| Case {
                    name: name.to_string(),
                    bindings: Vec::new(),
                    encoding: None,
                    span: Span::UNKNOWN,
                })
                .collect(),
            steps: Vec::new(),
            source: Arc::from(""),
        }
    }

    #[test]
    fn selection_by_filter_and_tags() {
        let s = scenario(
            &["kcell", "approve"],
            &["operator=KCELLKZT", "operator=ACTIVKZT"],
        );
        let names = |selection: &Selection| -> Vec<String> {
            s.cases_matching(selection)
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(names(&Selection::all()).len(), 2);
        let by_case = Selection {
            filter: Some("ACTIV".into()),
            tags: vec![],
        };
        assert_eq!(names(&by_case), ["operator=ACTIVKZT"]);
        let by_stem = Selection {
            filter: Some("kcell_sms".into()),
            tags: vec![],
        };
        assert_eq!(names(&by_stem).len(), 2);
        let by_name = Selection {
            filter: Some("SMS code".into()),
            tags: vec![],
        };
        assert_eq!(names(&by_name).len(), 2);
        let other_tag = Selection {
            filter: None,
            tags: vec!["refund".into()],
        };
        assert!(names(&other_tag).is_empty());
        let any_tag = Selection {
            filter: Some("KCELL".into()),
            tags: vec!["refund".into(), "approve".into()],
        };
        assert_eq!(names(&any_tag), ["operator=KCELLKZT"]);
        assert_eq!(
            s.case_id(&s.cases[0]),
            "kcell_sms_approval/operator=KCELLKZT"
        );
    }

    #[test]
    fn run_time_failures_point_into_the_scenario() {
        let mut s = scenario(&[], &["default"]);
        s.source = Arc::from("steps:\n  - expect: { pg_status: ok }\n");
        let offset = s.source.find("ok").unwrap();
        let span = Span {
            offset,
            len: 2,
            line: 2,
            column: 29,
        };
        let error = s
            .error_at(span, "expectation failed: pg_status is `error`")
            .with_label("expected \"ok\"")
            .with_help("the gateway answered pg_error_code 1000");
        assert_eq!(error.kind(), ErrorKind::Failed);
        assert_eq!(
            error.render_plain(),
            "scenarios/kcell_sms_approval.yaml:2:29: expectation failed: pg_status is `error`\n  help: the gateway answered pg_error_code 1000"
        );
    }

    #[test]
    fn the_runner_can_share_scenarios_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Scenario>();
        shareable::<crate::template::Renderer>();
        shareable::<crate::template::Context>();
        shareable::<ScenarioError>();
    }
}

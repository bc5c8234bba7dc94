//! The validated scenario: what the runner executes. Everything here has passed the loader's
//! checks (`load/`), so the runner can trust it: calls are known, step ids unique, regexes
//! compiled, templates parse and reference only defined variables, polls only on idempotent
//! calls. Spans stay attached so a failure at run time can still point into the YAML.
//!
//! A scenario expands into [`Case`]s, one per matrix row (or a single `default` case), and
//! [`Selection`] picks cases for `--filter` and `--tag`. What an expected field must hold is a
//! [`Matcher`], the vocabulary `check` owns; the loader reads it from YAML.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::gateway::callback::{CallbackKind, CallbackMethod};
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
    /// A call to the gateway, or a wait for its callback.
    pub action: Action,
    /// Form fields in file order, as templates (empty for a wait). Names may be nested form keys
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

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `call: NAME`: send a signed call to the gateway and check its answer.
    Call(Operation),
    /// `wait: result_callback`: wait for the gateway's callback to the case's URL, check its
    /// fields, and reply as the step says.
    Wait(Wait),
    /// `call: { callback: result, to: URL }`: play the gateway — send a signed callback to
    /// the merchant's handler, twice, and check the replies against the callback contract.
    Callback(CallbackSend),
}

/// A callback the scenario sends to the merchant's handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackSend {
    pub kind: CallbackKind,
    /// The handler's URL; its last segment is the script name both sides sign with.
    pub to: Template,
    pub method: CallbackMethod,
}

impl Action {
    /// The name in reports: the call's (`init`), or the wait's (`result_callback`).
    pub fn name(&self) -> &str {
        match self {
            Action::Call(operation) => operation.name(),
            Action::Wait(wait) => wait_name(wait.kind),
            Action::Callback(send) => match send.kind {
                CallbackKind::Result => "result callback",
                CallbackKind::Check => "check callback",
            },
        }
    }

    /// The gateway call this step sends, if it sends one.
    pub fn call(&self) -> Option<&Operation> {
        match self {
            Action::Call(operation) => Some(operation),
            Action::Wait(_) | Action::Callback(_) => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Call(operation) => write!(f, "{operation}"),
            Action::Wait(wait) => write!(f, "wait {}", wait_name(wait.kind)),
            Action::Callback(_) => write!(f, "{} to the merchant", self.name()),
        }
    }
}

/// `result_callback` or `check_callback`: what `wait:` names.
pub fn wait_name(kind: CallbackKind) -> &'static str {
    match kind {
        CallbackKind::Result => "result_callback",
        CallbackKind::Check => "check_callback",
    }
}

/// `wait:` — a callback to the case's own URL (`callback_url(kind)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub kind: CallbackKind,
    /// How long to wait for it (default [`DEFAULT_WAIT_TIMEOUT`]).
    pub timeout: Duration,
    pub reply: ReplyTemplate,
}

/// How long a `wait` step waits when `timeout:` is left out.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// `reply:` of a wait step: what the merchant answers the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyTemplate {
    /// A signed `<response>`: `pg_status` (`ok`, `rejected`, `error`) and a description.
    Signed {
        status: String,
        description: Option<Template>,
        /// `pg_sig:` set by the scenario (a wrong one, to test the gateway's distrust);
        /// `None`: signed right.
        sig: Option<String>,
    },
    /// `http_status: 500`: a bare HTTP status (the gateway retries a result callback).
    Http(u16),
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

impl AsRef<str> for Template {
    fn as_ref(&self) -> &str {
        &self.source
    }
}

/// What an expected field of a scenario must hold: `check`'s matcher over templates.
pub type Matcher = crate::check::Matcher<Template>;

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

/// Which cases to run: `--filter TEXT`, `--tag TAG` and `--exclude-tag TAG` (each repeatable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// A case is kept when its name as every report prints it (`stem::case`,
    /// [`Scenario::case_id`]) or its scenario's name contains one of these texts, as
    /// `cargo test NAME` filters by substring. `stem/case` (the cassette's path below the
    /// recordings) is an alias of the name. Empty: no filter.
    pub filters: Vec<String>,
    /// A case is kept when its scenario carries at least one of these tags (like several
    /// `cargo test` filters, several tags widen the selection). Empty: no tag condition.
    pub tags: Vec<String>,
    /// A case is dropped when its scenario carries any of these tags, whatever else matches.
    pub exclude_tags: Vec<String>,
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
        let excluded = self
            .exclude_tags
            .iter()
            .any(|tag| scenario.tags.contains(tag));
        let filtered = self.filters.is_empty() || {
            let name = scenario.case_id(case);
            let alias = format!("{}/{}", scenario.stem, case.name);
            self.filters.iter().any(|text| {
                let text = text.as_str();
                name.contains(text) || alias.contains(text) || scenario.name.contains(text)
            })
        };
        tagged && filtered && !excluded
    }
}

impl Scenario {
    /// The directory the scenario file is in (where `fph init` puts `.schema/`).
    pub fn dir(&self) -> &std::path::Path {
        self.file.parent().unwrap_or(std::path::Path::new("."))
    }

    /// The name of a case in every report, `fph list`, `--filter` and as a `cargo test`
    /// trial: `stem::case`. (Its cassette is `stem/case.yaml` below the recordings.)
    pub fn case_id(&self, case: &Case) -> String {
        format!("{}::{}", self.stem, case.name)
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
    /// Every template of the step: form values, then expectations, then the poll condition,
    /// then a wait's reply description.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let form = self.form.iter().map(|(_, template)| template);
        let to = match &self.action {
            Action::Callback(send) => Some(&send.to),
            _ => None,
        };
        let reply = match &self.action {
            Action::Wait(Wait {
                reply:
                    ReplyTemplate::Signed {
                        description: Some(description),
                        ..
                    },
                ..
            }) => Some(description),
            _ => None,
        };
        let expect = self.expect.iter().flat_map(|e| e.matcher.templates());
        let until = self
            .poll
            .iter()
            .flat_map(|poll| poll.until.iter().flat_map(|e| e.matcher.templates()));
        to.into_iter()
            .chain(form)
            .chain(expect)
            .chain(until)
            .chain(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            filters: vec!["ACTIV".into()],
            tags: vec![],
            ..Selection::default()
        };
        assert_eq!(names(&by_case), ["operator=ACTIVKZT"]);
        let by_stem = Selection {
            filters: vec!["kcell_sms".into()],
            tags: vec![],
            ..Selection::default()
        };
        assert_eq!(names(&by_stem).len(), 2);
        let by_name = Selection {
            filters: vec!["SMS code".into()],
            tags: vec![],
            ..Selection::default()
        };
        assert_eq!(names(&by_name).len(), 2);
        let other_tag = Selection {
            tags: vec!["refund".into()],
            ..Selection::default()
        };
        assert!(names(&other_tag).is_empty());
        let any_tag = Selection {
            filters: vec!["KCELL".into()],
            tags: vec!["refund".into(), "approve".into()],
            ..Selection::default()
        };
        assert_eq!(names(&any_tag), ["operator=KCELLKZT"]);
        let either_filter = Selection {
            filters: vec!["ACTIV".into(), "nothing-like-it".into(), "KCELL".into()],
            ..Selection::default()
        };
        assert_eq!(names(&either_filter).len(), 2, "a case matches any filter");
        let excluded = Selection {
            filters: vec!["ACTIV".into()],
            exclude_tags: vec!["approve".into()],
            ..Selection::default()
        };
        assert!(names(&excluded).is_empty(), "an excluded tag wins");
        let other_excluded = Selection {
            exclude_tags: vec!["refund".into()],
            ..Selection::default()
        };
        assert_eq!(names(&other_excluded).len(), 2);
        assert_eq!(
            s.case_id(&s.cases[0]),
            "kcell_sms_approval::operator=KCELLKZT"
        );
    }

    /// `--filter` took `scenario/case` while every report names a case `scenario::case`: it
    /// takes the name as printed, and the old spelling as an alias.
    #[test]
    fn filter_takes_the_case_name_as_reports_print_it() {
        let s = scenario(&[], &["operator=KCELLKZT", "operator=ACTIVKZT"]);
        let names = |filter: &str| -> Vec<String> {
            let selection = Selection {
                filters: vec![filter.into()],
                ..Selection::default()
            };
            s.cases_matching(&selection).map(|c| s.case_id(c)).collect()
        };
        let kcell = ["kcell_sms_approval::operator=KCELLKZT"];
        assert_eq!(names("kcell_sms_approval::operator=KCELLKZT"), kcell);
        assert_eq!(names("approval::operator=KCELL"), kcell);
        assert_eq!(names("kcell_sms_approval/operator=KCELLKZT"), kcell);
        assert_eq!(names("kcell_sms_approval::").len(), 2);
        assert!(names("kcell_sms_approval:/operator").is_empty());
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

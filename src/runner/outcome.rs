//! What running a case produced, as plain data: every step's requests and answers, the
//! checks and their results, timings. Reporters, the recorder and the drift check read it;
//! nothing here prints or decides anything.
//!
//! Requests hold exactly the fields that were sent. The merchant secret is never a field the
//! harness adds (it only enters the MD5); what a scenario or a gateway answer puts in is
//! removed by [`CaseOutcome::scrub_secrets`] before the outcome leaves the session, so
//! everything made from an outcome (reports, cassettes, proposals) is clean by construction.

use std::path::PathBuf;
use std::time::Duration;

use crate::check::{Difference, unified_diff};
use crate::gateway::{Fields, Operation};
use crate::report::Style;
use crate::review::UpdateOutcome;
use crate::scenario::{Case, Scenario};
use crate::secret_guard::SecretGuard;
use crate::transport::redact::Redactor;
use crate::transport::{Request, Response};

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The scenario's file stem, e.g. `kcell_sms_approval`.
    pub scenario: String,
    /// The scenario's `name:`.
    pub scenario_name: String,
    pub case: String,
    pub steps: Vec<StepOutcome>,
    /// Generated values (order ids, salts, …) by key, in the order they were made.
    pub generated: Vec<(String, String)>,
    /// A problem that stopped the case before or between steps (e.g. a missing cassette).
    pub error: Option<String>,
    /// True when `error` is bad input (a cassette that cannot be read): exit code 2.
    pub bad_input: bool,
    /// Things worth knowing that do not fail the case (an old cassette).
    pub warnings: Vec<String>,
    /// The case's redacted values (merchant id, configured fields and patterns): reporters
    /// mask what they show with it, as cassettes do.
    pub redactor: Redactor,
    pub elapsed: Duration,
}

impl CaseOutcome {
    /// A case that failed before its first step.
    pub fn failed_early(scenario: &Scenario, case: &Case, error: String, bad_input: bool) -> Self {
        CaseOutcome {
            scenario: scenario.stem.clone(),
            scenario_name: scenario.name.clone(),
            case: case.name.clone(),
            steps: Vec::new(),
            generated: Vec::new(),
            error: Some(error),
            bad_input,
            warnings: Vec::new(),
            redactor: Redactor::default(),
            elapsed: Duration::ZERO,
        }
    }

    /// `scenario::case`, the name a case has in reports and as a `cargo test` trial.
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.scenario, self.case)
    }

    pub fn passed(&self) -> bool {
        self.error.is_none() && self.steps.iter().all(StepOutcome::passed)
    }

    /// The first failing step, if any.
    pub fn failed_step(&self) -> Option<&StepOutcome> {
        self.steps.iter().find(|s| !s.passed())
    }

    /// Why this outcome may not replace a recording: a step the gateway did not answer
    /// properly — no answer, an HTTP status other than 200, a body that is not well-formed
    /// XML, a missing or wrong signature. Only signed, well-formed 200 answers are the
    /// gateway speaking; anything else is an outage or a proxy, not a change to record.
    pub fn improper_answer(&self) -> Option<String> {
        self.steps.iter().find_map(|step| {
            let reason = match &step.failure {
                Some(
                    failure @ (StepFailure::Transport(_)
                    | StepFailure::HttpStatus(_)
                    | StepFailure::NotXml(_)
                    | StepFailure::Signature(_)),
                ) => failure.to_string(),
                _ if step.attempts.iter().any(|a| a.response.is_none()) => "no answer".to_owned(),
                _ => return None,
            };
            Some(format!(
                "the gateway did not answer properly: step `{}`: {reason}",
                step.id
            ))
        })
    }

    /// Replaces every form of the guard's secrets in every text of the outcome — request
    /// fields, answers, checks, captures, generated values, errors — and, when one was
    /// found, adds a warning saying so. Returns whether anything was replaced.
    pub fn scrub_secrets(&mut self, guard: &SecretGuard) -> bool {
        if guard.is_empty() {
            return false;
        }
        let mut found = false;
        let mut scrub = |text: &mut String| found |= guard.scrub_in_place(text);
        for step in &mut self.steps {
            for attempt in &mut step.attempts {
                let request = &mut attempt.request;
                scrub(&mut request.path);
                let mut pairs = request.fields.to_form_pairs();
                let before = pairs.clone();
                for (name, value) in &mut pairs {
                    scrub(name);
                    scrub(value);
                }
                if pairs != before {
                    // A name the scrub made unparsable is kept flat rather than unscrubbed.
                    request.fields = Fields::from_form_pairs(pairs.clone()).unwrap_or_else(|_| {
                        let mut flat = Fields::new();
                        for (name, value) in pairs {
                            flat.set(&name, value);
                        }
                        flat
                    });
                }
                if let Some(response) = &mut attempt.response {
                    scrub(&mut response.body);
                    if let Some(content_type) = &mut response.content_type {
                        scrub(content_type);
                    }
                }
            }
            for check in &mut step.checks {
                scrub(&mut check.expected);
                if let Some(actual) = &mut check.actual {
                    scrub(actual);
                }
            }
            for (_, value) in &mut step.captures {
                scrub(value);
            }
            if let Some(failure) = &mut step.failure {
                failure.scrub(&mut scrub);
            }
        }
        for (_, value) in &mut self.generated {
            scrub(value);
        }
        if let Some(error) = &mut self.error {
            scrub(error);
        }
        for warning in &mut self.warnings {
            scrub(warning);
        }
        if found && let Some(warning) = guard.warning() {
            self.warnings.push(warning);
        }
        found
    }
}

/// The result of one step: one attempt, or several when it polls.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub id: String,
    pub call: Operation,
    pub attempts: Vec<Attempt>,
    /// Checks made on the last answer, in scenario order.
    pub checks: Vec<CheckResult>,
    /// Values captured for later steps.
    pub captures: Vec<(String, String)>,
    pub failure: Option<StepFailure>,
    pub elapsed: Duration,
}

impl StepOutcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.checks.iter().all(|c| c.passed)
    }

    /// The last answer received, if any.
    pub fn last_response(&self) -> Option<&Response> {
        self.attempts.last().and_then(|a| a.response.as_ref())
    }
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub request: Request,
    pub response: Option<Response>,
}

/// One expectation checked against an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The path checked, e.g. `pg_status`.
    pub path: String,
    /// Human form of the expectation: `"ok"`, `one of [ok, process]`, `matches ^\d+$`.
    pub expected: String,
    /// The value found; `None` when the element is absent.
    pub actual: Option<String>,
    pub passed: bool,
}

/// Why a step failed, besides failed checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepFailure {
    /// A template or form field could not be built.
    Request(String),
    /// No answer: connection, timeout, replay mismatch.
    Transport(String),
    /// The HTTP status was not 200.
    HttpStatus(u16),
    /// The body is not the XML the gateway sends.
    NotXml(String),
    /// The answer's `pg_sig` is missing or wrong.
    Signature(String),
    /// A capture names an element the answer lacks.
    Capture { variable: String, path: String },
    /// `poll.until` never held within the attempts.
    PollExhausted { attempts: u32 },
    /// The expected body (`expect_body`) could not be read or parsed.
    Body(String),
    /// The answer differs from the expected body (`expect_body`).
    BodyMismatch(Box<BodyMismatch>),
}

/// How an answer differs from its expected body, with redacted values masked, and what the
/// update policy did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyMismatch {
    /// The expected body file.
    pub file: PathBuf,
    /// Every difference, by path.
    pub differences: Vec<Difference>,
    /// The expected file, canonically pretty-printed.
    pub expected: String,
    /// The answer as the expected file would hold it (matchers that still hold and ignored
    /// paths kept from the file; see [`crate::check::update`]), canonically pretty-printed,
    /// so the diff shows only what matters.
    pub proposed: String,
    /// What the update policy did.
    pub update: UpdateOutcome,
}

impl BodyMismatch {
    /// The headline, the differences by path, the unified diff (coloured when `style`
    /// allows) and what was done about it.
    pub fn render(&self, style: Style) -> String {
        let count = self.differences.len();
        let mut out = style.red(&format!(
            "the answer differs from {} ({count} difference{}):",
            self.file.display(),
            if count == 1 { "" } else { "s" }
        ));
        out.push('\n');
        for difference in &self.differences {
            out.push_str(&format!("  {difference}\n"));
        }
        out.push_str(&unified_diff(
            &self.expected,
            &self.proposed,
            (&self.file.display().to_string(), "answer"),
            style,
        ));
        out.push_str(&style.yellow(&self.update.to_string()));
        out
    }
}

impl StepFailure {
    /// Runs `scrub` over every text the failure holds.
    fn scrub(&mut self, scrub: &mut impl FnMut(&mut String)) {
        match self {
            StepFailure::Request(text)
            | StepFailure::Transport(text)
            | StepFailure::NotXml(text)
            | StepFailure::Signature(text)
            | StepFailure::Body(text) => scrub(text),
            StepFailure::Capture { variable, path } => {
                scrub(variable);
                scrub(path);
            }
            StepFailure::BodyMismatch(mismatch) => {
                for difference in &mut mismatch.differences {
                    for value in [&mut difference.expected, &mut difference.actual]
                        .into_iter()
                        .flatten()
                    {
                        scrub(value);
                    }
                }
                scrub(&mut mismatch.expected);
                scrub(&mut mismatch.proposed);
                if let UpdateOutcome::Failed(reason) = &mut mismatch.update {
                    scrub(reason);
                }
            }
            StepFailure::HttpStatus(_) | StepFailure::PollExhausted { .. } => {}
        }
    }
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepFailure::Request(reason) => write!(f, "failed to build the request: {reason}"),
            StepFailure::Transport(reason) => write!(f, "no answer: {reason}"),
            StepFailure::HttpStatus(status) => write!(f, "the gateway answered HTTP {status}"),
            StepFailure::NotXml(reason) => write!(f, "the answer is not XML: {reason}"),
            StepFailure::Signature(reason) => write!(f, "bad answer signature: {reason}"),
            StepFailure::Capture { variable, path } => {
                write!(
                    f,
                    "failed to capture `{variable}`: the answer has no <{path}>"
                )
            }
            StepFailure::PollExhausted { attempts } => {
                write!(f, "`poll.until` did not hold after {attempts} attempts")
            }
            StepFailure::Body(reason) => write!(f, "expect_body: {reason}"),
            StepFailure::BodyMismatch(mismatch) => f.write_str(&mismatch.render(Style::PLAIN)),
        }
    }
}

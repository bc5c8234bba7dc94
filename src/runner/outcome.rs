//! What running a case produced, as plain data: every step's requests and answers, the
//! checks and their results, timings. Reporters, the recorder and the drift check read it;
//! nothing here prints or decides anything.
//!
//! Requests hold exactly the fields that were sent. The merchant secret is never a field the
//! harness adds (it only enters the MD5); what a scenario or a gateway answer puts in is
//! removed by [`CaseOutcome::scrub_secrets`] before the outcome leaves the session, so
//! everything made from an outcome (reports, cassettes, proposals) is clean by construction.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::check::Difference;
use crate::gateway::Fields;
use crate::review::UpdateOutcome;
use crate::scenario::{Action, Case, Scenario, Span};
use crate::secret_guard::SecretGuard;
use crate::transport::redact::Redactor;
use crate::transport::{Request, Response, TransportError};

/// The result of one case.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaseOutcome {
    /// The scenario's file stem, e.g. `kcell_sms_approval`.
    pub scenario: String,
    /// The scenario's `name:`.
    pub scenario_name: String,
    pub case: String,
    /// The scenario's file and text: every span in the outcome points into it.
    pub source: ScenarioSource,
    /// Where the case's matrix row is (unknown for the `default` case).
    pub span: Span,
    pub steps: Vec<StepOutcome>,
    /// Generated values (order ids, salts, …) by key, in the order they were made.
    pub generated: Vec<(String, String)>,
    /// A problem that stopped the case before or between steps (e.g. a missing cassette).
    pub problem: Option<CaseProblem>,
    /// Things worth knowing that do not fail the case (an old cassette).
    pub warnings: Vec<Warning>,
    /// The case's redacted values (merchant id, configured fields and patterns): reporters
    /// mask what they show with it, as cassettes do.
    pub redactor: Redactor,
    pub elapsed: Duration,
}

impl CaseOutcome {
    /// A case with no steps run yet.
    pub fn new(scenario: &Scenario, case: &Case) -> Self {
        CaseOutcome {
            scenario: scenario.stem.clone(),
            scenario_name: scenario.name.clone(),
            case: case.name.clone(),
            source: ScenarioSource {
                file: scenario.file.clone(),
                text: scenario.source.clone(),
            },
            span: case.span,
            steps: Vec::new(),
            generated: Vec::new(),
            problem: None,
            warnings: Vec::new(),
            redactor: Redactor::default(),
            elapsed: Duration::ZERO,
        }
    }

    /// A case that failed before its first step.
    pub fn failed_early(scenario: &Scenario, case: &Case, problem: CaseProblem) -> Self {
        CaseOutcome {
            problem: Some(problem),
            ..CaseOutcome::new(scenario, case)
        }
    }

    /// True when the case failed on bad input (a cassette that cannot be read): exit code 2.
    pub fn is_bad_input(&self) -> bool {
        self.problem.as_ref().is_some_and(CaseProblem::is_bad_input)
    }

    /// `scenario::case`, the name a case has in reports and as a `cargo test` trial.
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.scenario, self.case)
    }

    pub fn passed(&self) -> bool {
        self.problem.is_none() && self.steps.iter().all(StepOutcome::passed)
    }

    /// Passed, failed (the gateway answered, and not as expected) or errored (no verdict:
    /// the case could not be run, a request could not be built, no proper answer came).
    pub fn status(&self) -> CaseStatus {
        if self.passed() {
            return CaseStatus::Passed;
        }
        let errored = self.problem.is_some()
            || self.improper_answer().is_some()
            || self.steps.iter().any(|s| {
                matches!(
                    s.failure,
                    Some(StepFailure::Template { .. } | StepFailure::BodyUnreadable { .. })
                )
            });
        if errored {
            CaseStatus::Errored
        } else {
            CaseStatus::Failed
        }
    }

    /// The first failing step, if any.
    pub fn failed_step(&self) -> Option<&StepOutcome> {
        self.steps.iter().find(|s| !s.passed())
    }

    /// Where in the scenario the case failed: the failed check's value, the failure's place,
    /// else the failing step's `id:` (else the matrix row); `None` for a passed case.
    pub fn failure_span(&self) -> Option<Span> {
        if self.passed() {
            return None;
        }
        let step = self.failed_step();
        let check = step.and_then(|s| s.checks.iter().find(|c| !c.passed).map(|c| c.span));
        let failure = step
            .and_then(|s| s.failure.as_ref())
            .and_then(StepFailure::span);
        failure
            .or(check)
            .or(step.map(|s| s.span))
            .or(Some(self.span))
            .filter(Span::is_known)
    }

    /// Why this outcome may not replace a recording: a step the gateway did not answer
    /// properly — no answer, an HTTP status other than 200, a body that is not well-formed
    /// XML, a missing or wrong signature. Only signed, well-formed 200 answers are the
    /// gateway speaking; anything else is an outage or a proxy, not a change to record.
    pub fn improper_answer(&self) -> Option<(&StepOutcome, Option<&StepFailure>)> {
        self.steps.iter().find_map(|step| match &step.failure {
            Some(failure) if failure.is_improper_answer() => Some((step, Some(failure))),
            _ if step.attempts.iter().any(|a| a.response.is_none()) => Some((step, None)),
            _ => None,
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
        if let Some(problem) = &mut self.problem {
            problem.scrub(&mut scrub);
        }
        for warning in &mut self.warnings {
            warning.scrub(&mut scrub);
        }
        if found {
            self.warnings.push(Warning::SecretReplaced {
                found: guard.findings(),
            });
        }
        found
    }
}

/// The result of one step: one attempt, or several when it polls.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StepOutcome {
    pub id: String,
    /// The call the step sent, or the callback it waited for.
    pub action: Action,
    /// Where the step's `id:` is in the scenario.
    pub span: Span,
    pub attempts: Vec<Attempt>,
    /// Checks made on the last answer, in scenario order.
    pub checks: Vec<CheckResult>,
    /// Values captured for later steps.
    pub captures: Vec<(String, String)>,
    pub failure: Option<StepFailure>,
    pub elapsed: Duration,
}

impl StepOutcome {
    /// A step that has not run yet: no attempts, no checks, no failure.
    pub(crate) fn new(step: &crate::scenario::Step) -> StepOutcome {
        StepOutcome {
            id: step.id.clone(),
            action: step.action.clone(),
            span: step.span,
            attempts: Vec::new(),
            checks: Vec::new(),
            captures: Vec::new(),
            failure: None,
            elapsed: Duration::ZERO,
        }
    }

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
#[non_exhaustive]
pub struct Attempt {
    pub request: Request,
    pub response: Option<Response>,
}

/// One expectation checked against an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckResult {
    /// The path checked, e.g. `pg_status`.
    pub path: String,
    /// Human form of the expectation: `"ok"`, `one of [ok, process]`, `matches ^\d+$`.
    pub expected: String,
    /// The value found; `None` when the element is absent.
    pub actual: Option<String>,
    pub passed: bool,
    /// Where the expected value is in the scenario (`expect:` or `poll.until:`).
    pub span: Span,
}

/// How a case ended, as reports count it (see [`CaseOutcome::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaseStatus {
    Passed,
    Failed,
    Errored,
}

impl CaseStatus {
    /// `passed`, `failed`, `errored`: the word reports use.
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::Passed => "passed",
            CaseStatus::Failed => "failed",
            CaseStatus::Errored => "errored",
        }
    }
}

/// A scenario file and its text, shared by every outcome of its cases.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScenarioSource {
    pub file: PathBuf,
    pub text: Arc<str>,
}

/// What stopped a case outside its steps. Reporters say it in words; the kind decides whether
/// it is bad input (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaseProblem {
    /// Replay found no cassette for the case.
    NoCassette { path: PathBuf, hint: String },
    /// The cassette cannot be read or is not a cassette (bad input); `reason` names its place.
    BadCassette { path: PathBuf, reason: String },
    /// A recorded answer is damaged: the cassette was edited, the gateway did not send it
    /// (bad input).
    DamagedAnswer {
        path: PathBuf,
        /// Line and column of the answer's `body:` in the cassette, when found.
        at: Option<(usize, usize)>,
        step: String,
        reason: String,
    },
    /// The cassette was recorded from an older version of the scenario.
    StaleCassette { path: PathBuf, hint: String },
    /// The cassette is older than `cassette_max_age` and `cassette_too_old: fail`.
    OldCassette { path: PathBuf, days: u64 },
    /// The scenario asks for generated values the recording lacks.
    RecordingLacks { missing: Vec<String> },
    /// Recording the case failed (a file system error: not bad input).
    NotSaved { path: PathBuf, reason: String },
}

impl CaseProblem {
    /// True for input the user must fix (exit 2) rather than a failed contract.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            CaseProblem::BadCassette { .. } | CaseProblem::DamagedAnswer { .. }
        )
    }

    fn scrub(&mut self, scrub: &mut impl FnMut(&mut String)) {
        match self {
            CaseProblem::NoCassette { hint, .. } | CaseProblem::StaleCassette { hint, .. } => {
                scrub(hint)
            }
            CaseProblem::BadCassette { reason, .. } | CaseProblem::NotSaved { reason, .. } => {
                scrub(reason)
            }
            CaseProblem::DamagedAnswer { reason, .. } => scrub(reason),
            CaseProblem::OldCassette { .. } | CaseProblem::RecordingLacks { .. } => {}
        }
    }
}

/// Something worth knowing about a case that does not fail it. Data, like a failure: the words
/// are `report::text`'s, so every reporter says it the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// Replayed from a cassette older than `cassette_max_age` (`fail_too_old` off).
    OldCassette { path: PathBuf, days: u64 },
    /// A record run left the cassette as it was: step `step` got no proper answer.
    NotRecorded { step: String, path: PathBuf },
    /// The merchant secret appeared in what the run wrote or printed and was replaced; `found`
    /// names the forms (the secret itself is never here).
    SecretReplaced { found: Vec<String> },
}

impl Warning {
    fn scrub(&mut self, scrub: &mut impl FnMut(&mut String)) {
        match self {
            Warning::NotRecorded { step, .. } => scrub(step),
            Warning::OldCassette { .. } | Warning::SecretReplaced { .. } => {}
        }
    }
}

/// Why a step failed, besides failed checks. Each holds the data a reporter needs to say it,
/// and the span of the YAML that asked for what failed where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepFailure {
    /// A template (form value, expected value, poll condition) could not be rendered, or a
    /// form key could not be built.
    Template { message: String, span: Span },
    /// No answer: connection, timeout, too large, replay mismatch.
    Transport(TransportError),
    /// The HTTP status was not 200.
    HttpStatus(u16),
    /// The body is not the XML the gateway sends.
    NotXml {
        reason: String,
        /// The start of the body, as it came.
        first_bytes: String,
    },
    /// The answer's `pg_sig` is missing or wrong.
    Signature(SignatureProblem),
    /// A capture names an element the answer lacks.
    Capture {
        variable: String,
        path: String,
        span: Span,
    },
    /// `poll.until` never held within the attempts.
    PollExhausted { attempts: u32, span: Span },
    /// The expected body (`expect_body`) could not be read or parsed.
    BodyUnreadable {
        file: PathBuf,
        reason: String,
        span: Span,
    },
    /// The answer differs from the expected body (`expect_body`).
    BodyMismatch(Box<BodyMismatch>),
    /// The merchant's handler broke the callback contract (`call: { callback: … }`): every
    /// rule with its verdict, at least one failed.
    Contract {
        url: String,
        rules: Vec<crate::gateway::callback::RuleCheck>,
    },
}

/// What is wrong with an answer's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// No `pg_sig`, and the error code is not one the gateway leaves unsigned.
    Missing { unsigned_codes: Vec<String> },
    /// `pg_sig` does not match the answer's fields.
    Mismatch {
        expected: String,
        actual: String,
        /// The string that was signed, secret masked.
        signed_string: String,
    },
}

impl StepFailure {
    /// True when the gateway did not answer properly (no answer, not HTTP 200, not XML, a bad
    /// signature): an outage or a proxy, never a change to record.
    pub fn is_improper_answer(&self) -> bool {
        matches!(
            self,
            StepFailure::Transport(_)
                | StepFailure::HttpStatus(_)
                | StepFailure::NotXml { .. }
                | StepFailure::Signature(_)
        )
    }

    /// Where in the scenario the failure points, when it does.
    pub fn span(&self) -> Option<Span> {
        match self {
            StepFailure::Template { span, .. }
            | StepFailure::Capture { span, .. }
            | StepFailure::PollExhausted { span, .. }
            | StepFailure::BodyUnreadable { span, .. } => Some(*span),
            StepFailure::BodyMismatch(mismatch) => Some(mismatch.span),
            _ => None,
        }
        .filter(Span::is_known)
    }
}

/// How an answer differs from its expected body, with redacted values masked, and what the
/// update policy did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BodyMismatch {
    /// The expected body file.
    pub file: PathBuf,
    /// Where `expect_body:` is in the scenario.
    pub span: Span,
    /// Every difference, by path.
    pub differences: Vec<Difference>,
    /// The expected file, canonically pretty-printed.
    pub expected: String,
    /// The answer as the expected file would hold it (matchers that still hold and ignored
    /// paths kept from the file; see `check::update`), canonically pretty-printed,
    /// so the diff shows only what matters.
    pub proposed: String,
    /// What the update policy did.
    pub update: UpdateOutcome,
}

impl StepFailure {
    /// Runs `scrub` over every text the failure holds.
    fn scrub(&mut self, scrub: &mut impl FnMut(&mut String)) {
        match self {
            StepFailure::Template { message: text, .. }
            | StepFailure::BodyUnreadable { reason: text, .. } => scrub(text),
            StepFailure::NotXml {
                reason,
                first_bytes,
            } => {
                scrub(reason);
                scrub(first_bytes);
            }
            StepFailure::Transport(error) => error.scrub(scrub),
            StepFailure::Signature(SignatureProblem::Mismatch { signed_string, .. }) => {
                scrub(signed_string)
            }
            StepFailure::Signature(SignatureProblem::Missing { .. }) => {}
            StepFailure::Capture { variable, path, .. } => {
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
            StepFailure::Contract { url, rules } => {
                scrub(url);
                for rule in rules {
                    if let crate::gateway::callback::Verdict::Fail(why)
                    | crate::gateway::callback::Verdict::NotChecked(why) = &mut rule.verdict
                    {
                        scrub(why);
                    }
                }
            }
            StepFailure::HttpStatus(_) | StepFailure::PollExhausted { .. } => {}
        }
    }
}

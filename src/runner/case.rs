//! Runs one case: for each step, render the form, add the merchant id, salt and signature,
//! send, check the answer's signature and expectations, capture values for later steps, and
//! poll when the step says so. A failing step ends the case (later steps depend on it).
//!
//! A `wait` step receives a callback the gateway sends to the case's URL. It listens from
//! when the call before it goes out, alongside that call: the gateway asks the check URL
//! while `pay` is waiting for its answer, so listening only after `pay` returned would be too
//! late. The reply is sent as the callback arrives; its fields are checked and captured in
//! step order once the call is done.
//!
//! Money-moving calls are sent exactly once, whatever happens: a timeout on `pay` may still
//! have charged the phone, so the runner reports it and stops instead of trying again. Only
//! idempotent calls (status) are repeated, and only by `poll` (the loader refuses `poll`
//! elsewhere; the runner checks again so the rule holds for any caller).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::check::{CompareOptions, Difference, compare, updated_expected};
use crate::gateway::callback::{
    MerchantReply, RuleCheck, SampleCallback, check_reply, sample_fields,
};
use crate::gateway::signature::{self, SIG_FIELD, Verification};
use crate::gateway::{Document, Encoding, Fields, Operation, Routes, SecretKey};
use crate::review::Updates;
use crate::scenario::{
    Action, CallbackSend, Case, ExpectBody, Expectation, Redaction, ReplyTemplate, Scenario, Step,
    Wait, cassette_file_name,
};
use crate::secret_guard::SecretGuard;
use crate::template::{Context, Generated, Renderer};
use crate::transport::redact::Redactor;
use crate::transport::{CallbackWait, Reply, Request, Response, Transport, TransportError};

use super::outcome::{
    Attempt, BodyMismatch, CaseOutcome, CaseProblem, CheckResult, SignatureProblem, StepFailure,
    StepOutcome,
};
use super::sms::SmsCodes;

/// Who the requests are from.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub merchant_id: String,
    /// The merchant secret (live), or the replay key (replay): requests are signed with it
    /// and answers verified with it.
    pub secret: SecretKey,
}

/// What the runner needs to know about where it sends.
#[derive(Debug, Clone)]
pub struct CaseSettings {
    /// `emulator`, `sandbox`, a URL: the `target` template variable.
    pub target_name: String,
    /// Init gets `pg_testing_mode=1` on a test target.
    pub test_target: bool,
    pub credentials: Credentials,
    pub routes: Routes,
    /// Minimum pause between two calls of a case (the docs ask 1.5–2 s on real hosts).
    pub pause: Duration,
    /// False on replay: recorded answers need no waiting, so pauses and poll intervals are
    /// skipped (the recorded attempts still decide when polling stops).
    pub real_time: bool,
    /// Redaction rules: values they match are masked in expected-body failures.
    pub redactions: Vec<Redaction>,
    /// What to do with an expected body the answer no longer matches.
    pub updates: Updates,
    /// Error codes whose answers may come without `pg_sig` (harness.yaml's
    /// `unsigned_error_codes`).
    pub unsigned_error_codes: Vec<String>,
    /// A proposed expected body passes it before it is written.
    pub guard: SecretGuard,
    /// The target's encoding: requests go on the wire this way unless the scenario or the
    /// step says otherwise.
    pub encoding: Encoding,
    /// Where `sms_code(phone)` gets codes on a live run; `None` on replay (the recorded
    /// codes are used).
    pub sms_codes: Option<SmsCodes>,
    /// The run's callback receiver as the gateway reaches it (`callback_url()` is below it);
    /// `None` on replay (the recorded URLs are used) or when no scenario needs one.
    pub callback_base: Option<String>,
    /// Run the steps after one whose answer came and only failed its checks: a drift check
    /// compares every step's answer with its recording, so one changed value must not hide
    /// the next. Otherwise the first failed step ends the case.
    pub keep_going: bool,
}

/// Whether the case runs on after `step`: when it passed, or, with `keep_going`, when its
/// answer came and only its checks failed (expectations, an expected body).
fn goes_on(step: &StepOutcome, settings: &CaseSettings) -> bool {
    step.passed()
        || (settings.keep_going
            && matches!(step.failure, None | Some(StepFailure::BodyMismatch(_))))
}

/// What a case carries from step to step.
struct CaseState {
    /// Variables, generated values and captures for templates.
    context: Context,
    /// Calls sent so far (the pause between calls starts from the second).
    calls: u32,
    /// Learns the redacted values of every request and answer, for masking failures.
    redactor: Redactor,
    /// The case's payment: the last `pg_payment_id` an answer carried. SMS codes are looked
    /// up for it.
    payment: Option<String>,
}

/// Runs `case` of `scenario` over `transport`. `generated` is fresh for a live run, or frozen
/// to a cassette's bindings for a replay.
pub async fn run_case<T: Transport>(
    scenario: &Scenario,
    case: &Case,
    settings: &CaseSettings,
    renderer: &Renderer,
    transport: &T,
    generated: Generated,
) -> CaseOutcome {
    let started = Instant::now();
    let context = Context::for_case(
        scenario,
        case,
        &settings.credentials.merchant_id,
        &settings.target_name,
        generated,
    );
    let mut steps = Vec::with_capacity(scenario.steps.len());
    let mut state = CaseState {
        context,
        calls: 0,
        redactor: Redactor::new(settings.redactions.clone()),
        payment: None,
    };
    let receiver_path = format!("{}/{}", scenario.stem, cassette_file_name(&case.name));
    if let Some(base) = &settings.callback_base {
        state
            .context
            .set_callback_base(format!("{base}/{receiver_path}"));
    }
    let mut index = 0;
    'steps: while index < scenario.steps.len() {
        // A step that sends, with the waits right after it, which listen while it runs; or,
        // with no call before them, the waits alone.
        let (sender, first_wait) = match scenario.steps[index].action {
            Action::Wait(_) => (None, index),
            Action::Call(_) | Action::Callback(_) => (Some(&scenario.steps[index]), index + 1),
        };
        let waits: Vec<&Step> = scenario.steps[first_wait..]
            .iter()
            .take_while(|s| matches!(s.action, Action::Wait(_)))
            .collect();
        let callbacks =
            match callback_waits(&waits, &receiver_path, settings, renderer, &state.context) {
                Ok(callbacks) => callbacks,
                Err((at, failure)) => {
                    steps.push(StepOutcome {
                        failure: Some(failure),
                        ..StepOutcome::new(waits[at])
                    });
                    break;
                }
            };
        let receiving = receive_all(transport, &callbacks);
        let received = match sender {
            None => receiving.await,
            Some(step) => {
                let encoding = step.encoding.or(case.encoding).unwrap_or(settings.encoding);
                let call = run_step(
                    scenario, step, encoding, settings, renderer, transport, &mut state,
                );
                tokio::pin!(call, receiving);
                // A call that fails ends the case: stop listening for what it would cause.
                let (outcome, received) = tokio::select! {
                    outcome = &mut call => {
                        let received = if goes_on(&outcome, settings) {
                            receiving.await
                        } else {
                            Vec::new()
                        };
                        (outcome, received)
                    }
                    received = &mut receiving => (call.await, received),
                };
                let goes_on = goes_on(&outcome, settings);
                steps.push(outcome);
                index += 1;
                if !goes_on {
                    break;
                }
                received
            }
        };
        for (wait, received) in waits.iter().zip(received) {
            let outcome = finish_wait(wait, received, renderer, &mut state);
            let goes_on = goes_on(&outcome, settings);
            steps.push(outcome);
            index += 1;
            if !goes_on {
                break 'steps;
            }
        }
    }
    let CaseState {
        context, redactor, ..
    } = state;
    let generated = context.generated();
    // A frozen value the recording lacks means the scenario asks for more than was recorded;
    // say so plainly rather than leave only a request mismatch to puzzle over.
    let problem = match generated.missing() {
        [] => None,
        missing if steps.iter().all(StepOutcome::passed) => Some(CaseProblem::RecordingLacks {
            missing: missing.to_vec(),
        }),
        _ => None,
    };
    CaseOutcome {
        steps,
        generated: generated.values().to_vec(),
        problem,
        redactor,
        elapsed: started.elapsed(),
        ..CaseOutcome::new(scenario, case)
    }
}

async fn run_step<T: Transport>(
    scenario: &Scenario,
    step: &Step,
    encoding: Encoding,
    settings: &CaseSettings,
    renderer: &Renderer,
    transport: &T,
    state: &mut CaseState,
) -> StepOutcome {
    let started = Instant::now();
    let mut outcome = StepOutcome::new(step);
    let operation = match &step.action {
        Action::Call(operation) => operation,
        Action::Callback(send) => {
            send_callback(
                scenario,
                step,
                send,
                settings,
                renderer,
                transport,
                state,
                &mut outcome,
            )
            .await;
            outcome.elapsed = started.elapsed();
            return outcome;
        }
        Action::Wait(_) => return outcome,
    };
    let poll = step.poll.as_ref().filter(|_| operation.is_idempotent());
    let attempts = poll.map_or(1, |p| p.attempts.max(1));
    let mut document = None;
    // The lookup is I/O, done here so that rendering does none; a replay uses the recorded
    // code instead.
    if let Some(sms_codes) = &settings.sms_codes
        && step
            .templates()
            .any(|template| template.as_str().contains("sms_code"))
    {
        let code = sms_codes.lookup(state.payment.as_deref()).await;
        state.context.set_sms_code(code);
    }
    for attempt in 1..=attempts {
        if state.calls > 0 && settings.real_time && !settings.pause.is_zero() {
            tokio::time::sleep(settings.pause).await;
        }
        state.calls += 1;
        let request = match build_request(
            step,
            operation,
            attempt,
            encoding,
            settings,
            renderer,
            &state.context,
        ) {
            Ok(request) => request,
            Err(failure) => {
                outcome.failure = Some(failure);
                break;
            }
        };
        let sent = transport.send(&request).await;
        state.redactor.learn(&request.fields.form_pairs());
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                outcome.attempts.push(Attempt {
                    request,
                    response: None,
                });
                outcome.failure = Some(StepFailure::Transport(error));
                break;
            }
        };
        state.redactor.learn_body(&response.body);
        let examined = examine(
            &request,
            &response.body,
            response.status,
            &settings.credentials.secret,
            &settings.unsigned_error_codes,
        );
        outcome.attempts.push(Attempt {
            request,
            response: Some(response),
        });
        let answer = match examined {
            Ok(answer) => answer,
            Err(failure) => {
                outcome.failure = Some(failure);
                break;
            }
        };
        if let Some(payment) = answer.text("pg_payment_id").filter(|id| !id.is_empty()) {
            state.payment = Some(payment.to_owned());
        }
        if let Some(poll) = poll {
            match checks(&poll.until, &answer, renderer, &state.context) {
                Ok(results) if results.iter().all(|c| c.passed) => {}
                Ok(results) if attempt == attempts => {
                    // The last answer is still checked below; the `until` results say why
                    // polling gave up.
                    outcome
                        .checks
                        .extend(results.into_iter().filter(|c| !c.passed));
                    outcome.failure = Some(StepFailure::PollExhausted {
                        attempts,
                        span: poll.span,
                    });
                }
                Ok(_) => {
                    if settings.real_time {
                        tokio::time::sleep(poll.interval).await;
                    }
                    continue;
                }
                Err(failure) => {
                    outcome.failure = Some(failure);
                    break;
                }
            }
        }
        document = Some(answer);
        break;
    }
    if let (Some(answer), None) = (&document, &outcome.failure) {
        finish_step(
            scenario,
            step,
            answer,
            renderer,
            settings,
            state,
            &mut outcome,
        );
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// A callback to the merchant's handler (`call: { callback: result, to: URL }`): signed as
/// the gateway signs it, sent twice — the contract asks the same answer for the same
/// callback — and both replies judged by the contract's rules; then the first reply is
/// checked and captured like an answer. Not a gateway call: no pause, no retries.
#[allow(clippy::too_many_arguments)]
async fn send_callback<T: Transport>(
    scenario: &Scenario,
    step: &Step,
    send: &CallbackSend,
    settings: &CaseSettings,
    renderer: &Renderer,
    transport: &T,
    state: &mut CaseState,
    outcome: &mut StepOutcome,
) {
    let request = match callback_request(step, send, settings, renderer, &state.context) {
        Ok(request) => request,
        Err(failure) => {
            outcome.failure = Some(failure);
            return;
        }
    };
    let mut replies = Vec::with_capacity(2);
    for attempt in 1..=2 {
        let request = Request {
            attempt,
            ..request.clone()
        };
        state.redactor.learn(&request.fields.form_pairs());
        match transport.send(&request).await {
            Ok(response) => {
                state.redactor.learn_body(&response.body);
                replies.push(MerchantReply {
                    http_status: response.status,
                    body: response.body.clone().into_bytes(),
                });
                outcome.attempts.push(Attempt {
                    request,
                    response: Some(response),
                });
            }
            Err(error) => {
                outcome.attempts.push(Attempt {
                    request,
                    response: None,
                });
                outcome.failure = Some(StepFailure::Transport(error));
                return;
            }
        }
    }
    let rules = check_reply(
        send.kind,
        &request.path,
        &request.fields,
        &replies[0],
        replies.get(1),
        &settings.credentials.secret,
    );
    if rules.iter().any(RuleCheck::failed) {
        outcome.failure = Some(StepFailure::Contract {
            url: request.path.clone(),
            rules,
        });
        return;
    }
    // The contract held, so the first reply is a signed <response>.
    let Ok(reply) = Document::parse_response(&replies[0].body) else {
        return;
    };
    finish_step(scenario, step, &reply, renderer, settings, state, outcome);
}

/// The signed callback a `call: { callback: … }` step sends: the fields the gateway sends
/// (sample values), the step's form over them, a salt and the signature for the URL's last
/// segment (unless the form sets them).
fn callback_request(
    step: &Step,
    send: &CallbackSend,
    settings: &CaseSettings,
    renderer: &Renderer,
    context: &Context,
) -> Result<Request, StepFailure> {
    let url = renderer
        .render(send.to.as_str(), context)
        .map_err(|e| StepFailure::Template {
            message: e.to_string(),
            span: send.to.span,
        })?;
    if signature::script_name(&url).is_empty() || !url.contains("://") {
        return Err(StepFailure::Template {
            message: format!(
                "`{url}` is not a handler URL: write http://host/path, whose last segment is the script name both sides sign with"
            ),
            span: send.to.span,
        });
    }
    let form = render_form(step, renderer, context)?;
    let mut fields = sample_fields(
        send.kind,
        &SampleCallback {
            payment_id: "1000001".to_owned(),
            amount: "100".to_owned(),
            success: form.get("pg_result") != Some("0"),
        },
    );
    for (name, value) in form.to_form_pairs() {
        fields.set(&name, value);
    }
    if !fields.contains("pg_salt") {
        fields.set(
            "pg_salt",
            salt(context, &format!("pg_salt.{}.1", step.id), step.span)?,
        );
    }
    let signed_by_harness = !fields.contains(SIG_FIELD);
    if signed_by_harness {
        let sig = signature::sign(&url, &fields, &settings.credentials.secret);
        fields.set(SIG_FIELD, sig.as_str());
    }
    Ok(Request {
        step: step.id.clone(),
        attempt: 1,
        operation: Operation::Other(url.clone()),
        path: url,
        fields,
        encoding: send.method.encoding(),
        signed_by_harness,
        direction: crate::transport::Direction::Outgoing,
    })
}

/// A salt kept with the case's generated values under `key`, so a replay sends the recorded
/// one.
fn salt(context: &Context, key: &str, span: crate::scenario::Span) -> Result<String, StepFailure> {
    context
        .generated()
        .value(key, |rng| Ok(signature::salt_from(rng)))
        .map_err(|message| StepFailure::Template { message, span })
}

/// The step's form, rendered.
fn render_form(step: &Step, renderer: &Renderer, context: &Context) -> Result<Fields, StepFailure> {
    let mut fields = Fields::new();
    for (name, template) in &step.form {
        let failed = |message: String| StepFailure::Template {
            message,
            span: template.span,
        };
        let value = renderer
            .render(template.as_str(), context)
            .map_err(|e| failed(e.to_string()))?;
        fields
            .insert_form_key(name, value)
            .map_err(|e| failed(e.to_string()))?;
    }
    Ok(fields)
}

/// The callbacks `waits` listen for, their replies rendered now (before the call they
/// follow is sent); on a reply that does not render, its index and the failure.
fn callback_waits(
    waits: &[&Step],
    receiver_path: &str,
    settings: &CaseSettings,
    renderer: &Renderer,
    context: &Context,
) -> Result<Vec<CallbackWait>, (usize, StepFailure)> {
    let mut callbacks = Vec::with_capacity(waits.len());
    for (at, step) in waits.iter().enumerate() {
        let Action::Wait(Wait {
            kind,
            timeout,
            reply,
        }) = &step.action
        else {
            continue;
        };
        let failed = |message: String, span| (at, StepFailure::Template { message, span });
        let reply = match reply {
            ReplyTemplate::Http(code) => Reply::Http(*code),
            ReplyTemplate::Signed {
                status,
                description,
                sig,
            } => {
                let description = match description {
                    Some(template) => renderer
                        .render(template.as_str(), context)
                        .map_err(|e| failed(e.to_string(), template.span))?,
                    None => String::new(),
                };
                let salt = salt(context, &format!("pg_salt.{}.reply", step.id), step.span)
                    .map_err(|failure| (at, failure))?;
                Reply::Signed {
                    status: status.clone(),
                    description,
                    salt,
                    sig: sig.clone(),
                }
            }
        };
        let path = format!("{receiver_path}/{}", kind.name());
        callbacks.push(CallbackWait {
            step: step.id.clone(),
            attempt: 1,
            kind: *kind,
            url: match &settings.callback_base {
                Some(base) => format!("{base}/{path}"),
                None => format!("/{path}"),
            },
            case: receiver_path.to_owned(),
            timeout: *timeout,
            reply,
        });
    }
    Ok(callbacks)
}

/// Receives the callbacks in order; stops at the first that fails.
async fn receive_all<T: Transport>(
    transport: &T,
    callbacks: &[CallbackWait],
) -> Vec<Result<(Request, Response), TransportError>> {
    let mut received = Vec::with_capacity(callbacks.len());
    for callback in callbacks {
        let result = transport.receive(callback).await;
        let failed = result.is_err();
        received.push(result);
        if failed {
            break;
        }
    }
    received
}

/// A wait step's outcome: the callback received and the reply sent, then its fields checked
/// and captured like an answer's.
fn finish_wait(
    step: &Step,
    received: Result<(Request, Response), TransportError>,
    renderer: &Renderer,
    state: &mut CaseState,
) -> StepOutcome {
    let mut outcome = StepOutcome::new(step);
    let (callback, reply) = match received {
        Ok(received) => received,
        Err(error) => {
            outcome.failure = Some(StepFailure::Transport(error));
            return outcome;
        }
    };
    outcome.elapsed = reply.elapsed;
    state.redactor.learn(&callback.fields.form_pairs());
    let fields = Document::response(&callback.fields);
    outcome.attempts.push(Attempt {
        request: callback,
        response: Some(reply),
    });
    match checks(&step.expect, &fields, renderer, &state.context) {
        Ok(results) => outcome.checks.extend(results),
        Err(failure) => {
            outcome.failure = Some(failure);
            return outcome;
        }
    }
    if outcome.passed() {
        capture(step, &fields, state, &mut outcome);
    }
    outcome
}

/// Expectations, the whole-body comparison and captures, on the step's final answer.
fn finish_step(
    scenario: &Scenario,
    step: &Step,
    answer: &Document,
    renderer: &Renderer,
    settings: &CaseSettings,
    state: &mut CaseState,
    outcome: &mut StepOutcome,
) {
    match checks(&step.expect, answer, renderer, &state.context) {
        Ok(results) => outcome.checks.extend(results),
        Err(failure) => {
            outcome.failure = Some(failure);
            return;
        }
    }
    if let Some(body) = &step.expect_body
        && let Some(failure) = compare_body(
            &scenario.file,
            body,
            answer,
            settings.updates,
            &settings.guard,
            &state.redactor,
        )
    {
        outcome.failure = Some(failure);
        return;
    }
    if !outcome.passed() {
        return;
    }
    capture(step, answer, state, outcome);
}

/// Binds the step's captures from an answer (or a callback's fields) for later steps.
fn capture(step: &Step, answer: &Document, state: &mut CaseState, outcome: &mut StepOutcome) {
    for capture in &step.capture {
        let (variable, path) = (&capture.variable, &capture.path);
        match answer.text(path) {
            Some(value) => {
                state.context.set(variable.as_str(), value);
                outcome.captures.push((variable.clone(), value.to_owned()));
            }
            None => {
                outcome.failure = Some(StepFailure::Capture {
                    variable: variable.clone(),
                    path: path.clone(),
                    span: capture.span,
                });
                return;
            }
        }
    }
}

/// The signed request for one attempt of a step.
fn build_request(
    step: &Step,
    operation: &Operation,
    attempt: u32,
    encoding: Encoding,
    settings: &CaseSettings,
    renderer: &Renderer,
    context: &Context,
) -> Result<Request, StepFailure> {
    let mut fields = render_form(step, renderer, context)?;
    if !fields.contains("pg_merchant_id") {
        fields.set("pg_merchant_id", settings.credentials.merchant_id.as_str());
    }
    if *operation == Operation::Init {
        if !fields.contains("pg_payment_method") {
            fields.set("pg_payment_method", "mobile_commerce");
        }
        if settings.test_target && !fields.contains("pg_testing_mode") {
            fields.set("pg_testing_mode", "1");
        }
    }
    if !fields.contains("pg_salt") {
        let key = format!("pg_salt.{}.{attempt}", step.id);
        fields.set("pg_salt", salt(context, &key, step.span)?);
    }
    let path = settings.routes.path(operation).to_owned();
    let signed_by_harness = !fields.contains(SIG_FIELD);
    if signed_by_harness {
        let sig = signature::sign(&path, &fields, &settings.credentials.secret);
        fields.set(SIG_FIELD, sig.as_str());
    }
    Ok(Request {
        step: step.id.clone(),
        attempt,
        operation: operation.clone(),
        path,
        fields,
        encoding,
        signed_by_harness,
        direction: crate::transport::Direction::Outgoing,
    })
}

/// Status, XML and signature of an answer.
fn examine(
    request: &Request,
    body: &str,
    status: u16,
    secret: &SecretKey,
    unsigned_codes: &[String],
) -> Result<Document, StepFailure> {
    if status != 200 {
        return Err(StepFailure::HttpStatus(status));
    }
    let document = Document::parse_response_str(body).map_err(|e| StepFailure::NotXml {
        reason: e.to_string(),
        first_bytes: body.chars().take(200).collect(),
    })?;
    match signature::verify(&request.path, &document.root, secret) {
        Verification::Valid => Ok(document),
        Verification::Missing
            if document
                .text("pg_error_code")
                .is_some_and(|code| unsigned_codes.iter().any(|c| c == code)) =>
        {
            Ok(document)
        }
        Verification::Missing => Err(StepFailure::Signature(SignatureProblem::Missing {
            unsigned_codes: unsigned_codes.to_vec(),
        })),
        Verification::Mismatch { expected, actual } => {
            Err(StepFailure::Signature(SignatureProblem::Mismatch {
                expected: expected.as_str().to_owned(),
                actual,
                signed_string: signature::explain(&request.path, &document.root),
            }))
        }
    }
}

fn checks(
    expectations: &[Expectation],
    answer: &Document,
    renderer: &Renderer,
    context: &Context,
) -> Result<Vec<CheckResult>, StepFailure> {
    let mut render = |text: &str| renderer.render(text, context).map_err(|e| e.to_string());
    expectations
        .iter()
        .map(|expectation| {
            let actual = answer.text(&expectation.path);
            let check = expectation
                .matcher
                .check(actual, &mut render)
                .map_err(|message| StepFailure::Template {
                    message,
                    span: expectation.span,
                })?;
            Ok(CheckResult {
                path: expectation.path.clone(),
                expected: check.expected,
                actual: check.actual,
                passed: check.passed,
                span: expectation.span,
            })
        })
        .collect()
}

/// Compares the answer with an expected XML file; `None` when they agree. On a mismatch the
/// update policy may write the proposed new expectation; on a match it may remove a stale
/// proposal. Values the redaction rules learned are masked in what the failure shows.
fn compare_body(
    scenario_file: &Path,
    body: &ExpectBody,
    answer: &Document,
    updates: Updates,
    guard: &SecretGuard,
    redactor: &Redactor,
) -> Option<StepFailure> {
    let file = &body.file;
    let expected = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Some(StepFailure::BodyUnreadable {
                file: file.clone(),
                reason: format!("expect_body of {}: {e}", scenario_file.display()),
                span: body.span,
            });
        }
    };
    let expected = match Document::parse(&expected) {
        Ok(document) => document,
        Err(e) => {
            return Some(StepFailure::BodyUnreadable {
                file: file.clone(),
                reason: redactor.mask(&e.to_string()),
                span: body.span,
            });
        }
    };
    let options = CompareOptions::ignoring(body.ignore.iter().cloned());
    let differences = compare(&expected, answer, &options);
    if differences.is_empty() {
        // A stale proposal that could not be removed is harmless: `fph review` still shows it.
        let _ = updates.matched(file);
        return None;
    }
    // The proposal is written as the answer is: an expected file holding placeholders would
    // no longer match the answers it describes. Only what is shown is masked.
    // Unmasked, but never with a secret in it: the guard replaces it before the write.
    let proposed = updated_expected(&expected, answer, &options).pretty();
    let proposed = guard.scrub(&proposed).into_owned();
    let update = updates.offer(file, &proposed);
    // Both sides are answers (one expected): masked as a cassette masks an answer.
    let mask = |path: &str, value: &Option<String>| {
        value.as_deref().map(|v| redactor.mask_answer(path, v))
    };
    Some(StepFailure::BodyMismatch(Box::new(BodyMismatch {
        file: file.clone(),
        span: body.span,
        differences: differences
            .iter()
            .map(|d| Difference {
                path: d.path.clone(),
                kind: d.kind,
                expected: mask(&d.path, &d.expected),
                actual: mask(&d.path, &d.actual),
            })
            .collect(),
        expected: redactor.redact_body(&expected.pretty()),
        proposed: redactor.redact_body(&proposed),
        update,
    })))
}

#[cfg(test)]
mod tests {
    use crate::review::{UpdateOutcome, UpdatePolicy, pending_path};
    use crate::scenario::{RedactionRule, Span};

    use super::*;

    const EXPECTED: &str = r#"<response>
  <pg_status>ok</pg_status>
  <pg_payment_id>{{ number }}</pg_payment_id>
  <pg_user_phone>77017777777</pg_user_phone>
  <pg_salt>x</pg_salt>
</response>
"#;

    const ANSWER: &str = "<response><pg_status>error</pg_status><pg_payment_id>42</pg_payment_id>\
        <pg_user_phone>77027777777</pg_user_phone><pg_salt>s4lt</pg_salt></response>";

    fn setup(policy: UpdatePolicy) -> (tempfile::TempDir, ExpectBody, Updates, Redactor) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("init.xml");
        std::fs::write(&file, EXPECTED).unwrap();
        let body = ExpectBody {
            file,
            ignore: vec!["pg_salt".into()],
            span: Span::default(),
        };
        let mut redactor = Redactor::new(vec![Redaction {
            rule: RedactionRule::Field("pg_abonent_phone".into()),
            placeholder: "phone".into(),
        }]);
        redactor.learn(&[("pg_abonent_phone", "77027777777")]);
        (dir, body, Updates { policy, ci: false }, redactor)
    }

    fn mismatch(failure: Option<StepFailure>) -> BodyMismatch {
        match failure {
            Some(StepFailure::BodyMismatch(mismatch)) => *mismatch,
            other => panic!("expected a body mismatch, got {other:?}"),
        }
    }

    #[test]
    fn a_mismatch_is_reported_by_path_and_as_a_masked_diff() {
        let (_dir, body, updates, redactor) = setup(UpdatePolicy::No);
        let answer = Document::parse(ANSWER.as_bytes()).unwrap();
        let found = mismatch(compare_body(
            Path::new("s.yaml"),
            &body,
            &answer,
            updates,
            &SecretGuard::default(),
            &redactor,
        ));
        let paths: Vec<String> = found.differences.iter().map(ToString::to_string).collect();
        assert_eq!(
            paths,
            [
                "pg_status changed: \"ok\" → \"error\"",
                "pg_user_phone changed: \"77017777777\" → \"{{phone}}\""
            ]
        );
        let text = format!("{}{}", found.expected, found.proposed);
        assert!(!text.contains("77027777777"), "the phone is masked: {text}");
        assert!(
            found.expected.contains("<pg_status>ok</pg_status>"),
            "{text}"
        );
        assert!(
            found.proposed.contains("<pg_status>error</pg_status>"),
            "{text}"
        );
        assert!(
            !text.contains("pg_payment_id>42") && !text.contains("s4lt"),
            "matchers that hold and ignored paths are not differences: {text}"
        );
        assert_eq!(found.update, UpdateOutcome::NotRequested);
        assert!(!pending_path(&body.file).exists());
    }

    #[test]
    fn the_proposal_is_unmasked_and_a_later_match_removes_it() {
        let (_dir, body, updates, redactor) = setup(UpdatePolicy::New);
        let answer = Document::parse(ANSWER.as_bytes()).unwrap();
        let found = mismatch(compare_body(
            Path::new("s.yaml"),
            &body,
            &answer,
            updates,
            &SecretGuard::default(),
            &redactor,
        ));
        let pending = pending_path(&body.file);
        assert_eq!(found.update, UpdateOutcome::Pending(pending.clone()));
        let proposed = std::fs::read_to_string(&pending).unwrap();
        assert_eq!(
            proposed,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response>\n  <pg_status>error</pg_status>\n  <pg_payment_id>{{ number }}</pg_payment_id>\n  <pg_user_phone>77027777777</pg_user_phone>\n  <pg_salt>x</pg_salt>\n</response>\n"
        );
        // Accepted, the proposal matches the answer, and the match cleans up.
        std::fs::rename(&pending, &body.file).unwrap();
        std::fs::write(&pending, "stale").unwrap();
        assert_eq!(
            compare_body(
                Path::new("s.yaml"),
                &body,
                &answer,
                updates,
                &SecretGuard::default(),
                &redactor
            ),
            None
        );
        assert!(!pending.exists());
    }

    #[test]
    fn an_unreadable_expected_body_is_a_plain_failure() {
        let (_dir, body, updates, redactor) = setup(UpdatePolicy::New);
        std::fs::write(&body.file, "<response>").unwrap();
        let answer = Document::parse(ANSWER.as_bytes()).unwrap();
        let failure = compare_body(
            Path::new("s.yaml"),
            &body,
            &answer,
            updates,
            &SecretGuard::default(),
            &redactor,
        );
        assert!(
            matches!(&failure, Some(StepFailure::BodyUnreadable { reason, .. }) if reason.contains("truncated")),
            "{failure:?}"
        );
        assert!(
            !pending_path(&body.file).exists(),
            "nothing to propose from"
        );
    }
}

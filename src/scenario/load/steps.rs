//! One step of a scenario: its id, its call (a named Freedom Pay call or a script path) or
//! its wait for a callback, its form, `poll`, `capture` (only fields the call returns),
//! `expect_body` file, and a wait's `reply` and `timeout`.

use std::collections::HashMap;
use std::path::Path;

use serde_saphyr::Spanned;

use crate::gateway::callback::{CallbackKind, CallbackMethod};
use crate::gateway::{Fields, Operation};

use super::Loader;
use super::templates::Scope;
use crate::scenario::diagnostic::{ErrorKind, ScenarioError, Span, did_you_mean};
use crate::scenario::model::{
    Action, CallbackSend, Capture, DEFAULT_POLL_ATTEMPTS, DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT, ExpectBody, Poll, ReplyTemplate, Step, Wait, wait_name,
};
use crate::scenario::raw::{RawCall, RawExpectBody, RawPoll, RawReply, RawStep};

/// What `reply.pg_status` may be: the reply contract's statuses.
const REPLY_STATUSES: [&str; 3] = ["ok", "rejected", "error"];

/// Fields every answer may carry, whatever the call: the status, the signature, and the
/// error fields of a failed call.
const ALWAYS_RETURNED: [&str; 5] = [
    "pg_status",
    "pg_salt",
    "pg_sig",
    "pg_error_code",
    "pg_error_description",
];

impl Loader<'_> {
    pub(super) fn step(
        &self,
        raw: &RawStep,
        scope: &Scope,
        ids: &mut HashMap<String, Span>,
    ) -> Result<Step, ScenarioError> {
        let id_span = self.span(&raw.id);
        let id = raw.id.value.clone();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(self
                .error(ErrorKind::InvalidValue, format!("`{id}` cannot be a step id"), id_span)
                .with_label("not a step id")
                .with_help("step ids key recorded interactions: use letters, digits, `_` and `-`, e.g. `init`, `pay-2`"));
        }
        if let Some(first) = ids.get(&id) {
            return Err(self
                .error(ErrorKind::DuplicateStepId, format!("duplicate step id `{id}`"), id_span)
                .with_label("used again here")
                .with_secondary(*first, "first used here")
                .with_help(format!(
                    "step ids key the recorded interactions and must be unique; rename this one, e.g. `{id}-2`"
                )));
        }
        ids.insert(id.clone(), id_span);

        let action = match (&raw.call, &raw.wait) {
            (Some(call), None) => {
                self.refuse_for_call(raw)?;
                match &call.value {
                    RawCall::Callback {
                        callback,
                        to,
                        method,
                    } => Action::Callback(self.callback_send(
                        raw,
                        callback,
                        to,
                        method.as_ref(),
                        scope,
                    )?),
                    _ => Action::Call(self.call(call)?),
                }
            }
            (None, Some(wait)) => {
                self.refuse_for_wait(raw)?;
                Action::Wait(self.wait(raw, wait, scope)?)
            }
            (None, None) => {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        format!("step `{id}` has neither `call` nor `wait`"),
                        id_span,
                    )
                    .with_label("this step does nothing")
                    .with_help("add `call: init` (or pay, approve, resend_code, status) to send a call, or `wait: result_callback` to wait for the gateway's callback"));
            }
            (Some(call), Some(wait)) => {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        format!("step `{id}` has both `call` and `wait`"),
                        self.span(wait),
                    )
                    .with_label("a second action")
                    .with_secondary(self.span(call), "the call")
                    .with_help("a step either sends a call or waits for a callback: make the wait a step of its own, right after the call that causes it"));
            }
        };
        let call = action.call().cloned();

        let mut form = Vec::with_capacity(raw.form.0.len());
        let mut form_shape = Fields::new();
        for (name, value) in &raw.form.0 {
            if let Err(error) = form_shape.insert_form_key(&name.value, "") {
                return Err(self
                    .error(ErrorKind::InvalidValue, error.to_string(), self.span(name))
                    .with_label("this form key")
                    .with_help("nested fields are written `name[key][key]`, e.g. `pg_receipt_positions[0][count]`"));
            }
            form.push((name.value.clone(), self.template(value, scope)?));
        }

        let poll = match (&raw.poll, &raw.call, &call) {
            (Some(poll), Some(raw_call), Some(call)) => {
                Some(self.poll(poll, raw_call, call, scope)?)
            }
            _ => None,
        };

        let expect = self.expectations(&raw.expect, scope)?;

        let expect_body = match &raw.expect_body {
            Some(body) => Some(self.expect_body(body)?),
            None => None,
        };

        let mut capture = Vec::with_capacity(raw.capture.0.len());
        for (var, path) in &raw.capture.0 {
            self.check_name(var, "capture")?;
            if let Some(call) = &call {
                self.check_capture(call, path)?;
            }
            capture.push(Capture {
                variable: var.value.clone(),
                path: path.value.clone(),
                span: self.span(path),
            });
        }

        let encoding = match &raw.encoding {
            Some(encoding) => Some(self.encoding(encoding, &encoding.value)?),
            None => None,
        };

        Ok(Step {
            id,
            action,
            form,
            expect,
            expect_body,
            capture,
            poll,
            encoding,
            span: id_span,
        })
    }

    /// A call step has no `reply` or `timeout`: only a wait answers anything.
    fn refuse_for_call(&self, raw: &RawStep) -> Result<(), ScenarioError> {
        let refused = [
            raw.reply.as_ref().map(|r| ("reply", self.span(r))),
            raw.timeout.as_ref().map(|t| ("timeout", self.span(t))),
        ];
        match refused.into_iter().flatten().next() {
            None => Ok(()),
            Some((key, span)) => Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{key}` belongs to a `wait` step"),
                    span,
                )
                .with_label("this step sends a call")
                .with_help("a call's answer is checked with `expect`; `reply` and `timeout` say how a `wait: result_callback` step answers the gateway's callback and how long it waits")),
        }
    }

    /// A wait sends nothing: no form, poll, expected body or encoding.
    fn refuse_for_wait(&self, raw: &RawStep) -> Result<(), ScenarioError> {
        let refused = [
            raw.form.0.first().map(|(k, _)| ("form", self.span(k))),
            raw.poll.as_ref().map(|p| ("poll", self.span(p))),
            raw.expect_body
                .as_ref()
                .map(|b| ("expect_body", self.span(b))),
            raw.encoding.as_ref().map(|e| ("encoding", self.span(e))),
        ];
        match refused.into_iter().flatten().next() {
            None => Ok(()),
            Some((key, span)) => Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("a `wait` step has no `{key}`"),
                    span,
                )
                .with_label("a wait sends nothing")
                .with_help("a wait step checks the callback's fields with `expect` and `capture`, and answers with `reply`; put what the gateway is sent on the call before it")),
        }
    }

    fn wait(
        &self,
        raw: &RawStep,
        wait: &Spanned<String>,
        scope: &Scope,
    ) -> Result<Wait, ScenarioError> {
        let kinds = [CallbackKind::Result, CallbackKind::Check];
        let Some(kind) = kinds.into_iter().find(|k| wait_name(*k) == wait.value) else {
            let names = kinds.map(wait_name);
            let hint = match did_you_mean(&wait.value, names.iter().copied()) {
                Some(best) => format!("did you mean `{best}`? "),
                None => String::new(),
            };
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{}` is not a callback to wait for", wait.value),
                    self.span(wait),
                )
                .with_label("not a callback")
                .with_help(format!(
                    "{hint}a step waits for `result_callback` (sent to pg_result_url) or `check_callback` (sent to pg_check_url)"
                )));
        };
        let timeout = match &raw.timeout {
            Some(timeout) => self.duration(timeout)?,
            None => DEFAULT_WAIT_TIMEOUT,
        };
        let reply = match &raw.reply {
            Some(reply) => self.reply(reply, scope)?,
            None => ReplyTemplate::Signed {
                status: "ok".to_owned(),
                description: None,
                sig: None,
            },
        };
        Ok(Wait {
            kind,
            timeout,
            reply,
        })
    }

    fn reply(
        &self,
        raw: &Spanned<RawReply>,
        scope: &Scope,
    ) -> Result<ReplyTemplate, ScenarioError> {
        let RawReply {
            pg_status,
            pg_description,
            pg_sig,
            http_status,
        } = &raw.value;
        if let Some(http) = http_status {
            let signed_field = [
                pg_status.as_ref().map(|s| self.span(s)),
                pg_description.as_ref().map(|d| self.span(d)),
                pg_sig.as_ref().map(|s| self.span(s)),
            ];
            if let Some(other) = signed_field.into_iter().flatten().next() {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        "a reply is a bare `http_status` or a signed answer, not both",
                        other,
                    )
                    .with_label("a signed answer's field")
                    .with_secondary(self.span(http), "the bare HTTP status")
                    .with_help("`reply: { http_status: 500 }` answers with no body (the gateway retries); `reply: { pg_status: ok }` answers 200 with a signed <response>"));
            }
            if !(100..=599).contains(&http.value) {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        format!("`{}` is not an HTTP status", http.value),
                        self.span(http),
                    )
                    .with_help(
                        "write a status from 100 to 599, e.g. `500` to make the gateway retry",
                    ));
            }
            return Ok(ReplyTemplate::Http(http.value));
        }
        let status = match pg_status {
            Some(status) if !REPLY_STATUSES.contains(&status.value.as_str()) => {
                let hint = match did_you_mean(&status.value, REPLY_STATUSES) {
                    Some(best) => format!("did you mean `{best}`? "),
                    None => String::new(),
                };
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        format!("`{}` is not a reply status", status.value),
                        self.span(status),
                    )
                    .with_label("not ok, rejected or error")
                    .with_help(format!(
                        "{hint}the merchant answers `ok`, `rejected` (refuse the payment) or `error`"
                    )));
            }
            Some(status) => status.value.clone(),
            None => "ok".to_owned(),
        };
        let description = match pg_description {
            Some(description) => Some(self.template(description, scope)?),
            None => None,
        };
        Ok(ReplyTemplate::Signed {
            status,
            description,
            sig: pg_sig.as_ref().map(|sig| sig.value.clone()),
        })
    }

    /// `call: { callback: result, to: URL, method: GET }`: a callback to the merchant's handler.
    /// It is sent twice by design (the contract asks the same answer again), so no `poll`; its
    /// `method` says how it goes, so no `encoding`.
    fn callback_send(
        &self,
        raw: &RawStep,
        callback: &Spanned<String>,
        to: &Spanned<String>,
        method: Option<&Spanned<String>>,
        scope: &Scope,
    ) -> Result<CallbackSend, ScenarioError> {
        let refused = [
            raw.poll.as_ref().map(|p| ("poll", self.span(p))),
            raw.encoding.as_ref().map(|e| ("encoding", self.span(e))),
        ];
        if let Some((key, span)) = refused.into_iter().flatten().next() {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("a callback to the merchant has no `{key}`"),
                    span,
                )
                .with_label("not for a callback")
                .with_help("a callback is sent twice (the same answer must come back) in the way `method:` says (POST, GET or XML)"));
        }
        let kind = match callback.value.as_str() {
            "result" => CallbackKind::Result,
            "check" => CallbackKind::Check,
            other => {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        format!("`{other}` is not a callback"),
                        self.span(callback),
                    )
                    .with_label("not result or check")
                    .with_help("the gateway calls the merchant's `result` URL (pg_result_url) and `check` URL (pg_check_url)"));
            }
        };
        let method = match method {
            None => CallbackMethod::Post,
            Some(method) => CallbackMethod::parse(&method.value).ok_or_else(|| {
                self.error(
                    ErrorKind::InvalidValue,
                    format!("`{}` is not a callback method", method.value),
                    self.span(method),
                )
                .with_label("not POST, GET or XML")
                .with_help("the gateway sends callbacks as a POST form, GET parameters, or XML (one pg_xml field), as init's pg_request_method says")
            })?,
        };
        Ok(CallbackSend {
            kind,
            to: self.template(to, scope)?,
            method,
        })
    }

    fn call(&self, raw: &Spanned<RawCall>) -> Result<Operation, ScenarioError> {
        match &raw.value {
            RawCall::Callback { callback, .. } => Err(self.error(
                ErrorKind::InvalidValue,
                "a callback is not a gateway call",
                self.span(callback),
            )),
            RawCall::Name(name) => Operation::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Operation::NAMED.iter().map(Operation::name).collect();
                let hint = match did_you_mean(name, names.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`? "),
                    None => String::new(),
                };
                self.error(
                    ErrorKind::UnknownCall,
                    format!("unknown call `{name}`"),
                    self.span(raw),
                )
                .with_label("not a Freedom Pay call")
                .with_help(format!(
                    "{hint}calls are {}, or `{{ path: /script.php }}` for any other script",
                    names.join(", ")
                ))
            }),
            RawCall::Path(path) => {
                let text = path.value.trim();
                if !text.starts_with('/') || text.len() < 2 || text.contains(char::is_whitespace) {
                    return Err(self
                        .error(
                            ErrorKind::InvalidValue,
                            format!("`{}` is not a script path", path.value),
                            self.span(path),
                        )
                        .with_label("expected a path")
                        .with_help("write the path on the gateway host, starting with `/`, e.g. `/revoke.php`"));
                }
                Ok(Operation::Other(text.to_owned()))
            }
        }
    }

    fn poll(
        &self,
        raw: &Spanned<RawPoll>,
        raw_call: &Spanned<RawCall>,
        call: &Operation,
        scope: &Scope,
    ) -> Result<Poll, ScenarioError> {
        if !call.is_idempotent() {
            return Err(self
                .error(
                    ErrorKind::PollNotIdempotent,
                    format!("`poll` is not allowed on `{call}`"),
                    self.span(raw),
                )
                .with_label("this would repeat the call")
                .with_secondary(self.span(raw_call), "a call that is not idempotent")
                .with_help(format!(
                    "only idempotent calls (status) may be polled: repeating `{call}` could charge the payer twice; poll with a separate `status` step"
                )));
        }
        let attempts = match &raw.value.attempts {
            Some(attempts) if attempts.value == 0 => {
                return Err(self
                    .error(
                        ErrorKind::InvalidValue,
                        "`attempts` must be at least 1",
                        self.span(attempts),
                    )
                    .with_help("the first call counts as an attempt"));
            }
            Some(attempts) => attempts.value,
            None => DEFAULT_POLL_ATTEMPTS,
        };
        let interval = match &raw.value.interval {
            Some(interval) => self.duration(interval)?,
            None => DEFAULT_POLL_INTERVAL,
        };
        if raw.value.until.value.0.is_empty() {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    "`poll.until` is empty",
                    self.span(&raw.value.until),
                )
                .with_help(
                    "say what ends the polling, e.g. `until: { pg_payment_status: success }`",
                ));
        }
        Ok(Poll {
            until: self.expectations(&raw.value.until.value, scope)?,
            attempts,
            interval,
            span: self.span(raw),
        })
    }

    fn expect_body(&self, raw: &Spanned<RawExpectBody>) -> Result<ExpectBody, ScenarioError> {
        let (file, file_span, ignore) = match &raw.value {
            RawExpectBody::File(file) => (file.as_str(), self.span(raw), Vec::new()),
            RawExpectBody::Detailed(detailed) => (
                detailed.file.value.as_str(),
                self.span(&detailed.file),
                detailed
                    .ignore
                    .iter()
                    .map(|path| path.value.clone())
                    .collect(),
            ),
        };
        let dir = self.file.parent().unwrap_or(Path::new(""));
        // The project is the directory holding the scenarios directory: an expected body
        // elsewhere (`/etc/passwd`, `../../x`) would be read — and with FPH_UPDATE written.
        // Depth below the project: 1 is the scenario file's directory.
        let mut depth = 1i64;
        let inside = Path::new(file)
            .components()
            .all(|component| match component {
                std::path::Component::Normal(_) => {
                    depth += 1;
                    true
                }
                std::path::Component::CurDir => true,
                std::path::Component::ParentDir => {
                    depth -= 1;
                    depth >= 0
                }
                // An absolute path or a drive prefix.
                _ => false,
            });
        if !inside {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("expected body `{file}` lies outside the project"),
                    file_span,
                )
                .with_label("not below the scenarios directory's parent")
                .with_help(
                    "write a path relative to the scenario file, e.g. `bodies/init_ok.xml`",
                ));
        }
        let resolved = dir.join(file);
        if !resolved.is_file() {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("expected body `{file}` does not exist"),
                    file_span,
                )
                .with_label(format!("looked for {}", resolved.display()))
                .with_help("the path is relative to the scenario file's directory"));
        }
        let well_formed = crate::text_file::read(&resolved)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                crate::gateway::Document::parse(text.as_bytes())
                    .map(drop)
                    .map_err(|e| e.to_string())
            });
        if let Err(problem) = well_formed {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("expected body `{file}` is not well-formed XML: {problem}"),
                    file_span,
                )
                .with_label(format!("read {}", resolved.display()))
                .with_help("an expected body is a gateway answer, `<response>…</response>`; `{{ any }}` may stand for a value"));
        }
        Ok(ExpectBody {
            file: resolved,
            ignore,
            span: file_span,
        })
    }

    fn check_capture(&self, call: &Operation, path: &Spanned<String>) -> Result<(), ScenarioError> {
        let Some(fields) = call.response_fields() else {
            // Nothing is known about other scripts' answers.
            return Ok(());
        };
        let returned: Vec<&str> = ALWAYS_RETURNED.iter().chain(fields).copied().collect();
        if returned.contains(&path.value.as_str()) {
            return Ok(());
        }
        let help = match did_you_mean(&path.value, returned.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("`{call}` returns {}", returned.join(", ")),
        };
        Err(self
            .error(
                ErrorKind::ImpossibleCapture,
                format!("`{call}` never returns `{}`", path.value),
                self.span(path),
            )
            .with_label("nothing to capture")
            .with_help(help))
    }
}

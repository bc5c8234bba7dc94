//! Watching a run as it happens: an [`Observer`] the caller gives the session hears when a
//! case starts and when each request goes out and its answer comes back — what a progress
//! bar and `--verbose` show. The runner defines the trait and calls it; the CLI implements
//! it (the runner imports no reporter).
//!
//! Everything an observer sees is masked first: the case's redacted values (the same rules
//! the cassettes and reports use, learned from the requests and answers as the case runs)
//! and every form of the merchant's secret.

use std::sync::{Arc, Mutex};

use crate::gateway::Fields;
use crate::scenario::Redaction;
use crate::secret_guard::SecretGuard;
use crate::transport::redact::Redactor;
use crate::transport::{Request, Response, Transport, TransportError};

/// Hears a run as it happens. Called from the cases' tasks, concurrently: keep it short.
pub trait Observer: Send + Sync + std::fmt::Debug {
    /// A case (`scenario::case`) starts.
    fn case_started(&self, _case: &str) {}
    /// A request is about to be sent (masked).
    fn request(&self, _case: &str, _request: &Request) {}
    /// Its answer (body masked), or why none came.
    fn answer(&self, _case: &str, _request: &Request, _answer: Result<&Response, &TransportError>) {
    }
}

/// A transport that tells an observer what passes through it, masked.
pub(crate) struct Observed<'a, T> {
    pub inner: &'a T,
    pub observer: Arc<dyn Observer>,
    pub case: String,
    pub guard: &'a SecretGuard,
    /// Learns values as the case's own redactor does, so the observer sees what the report
    /// would show.
    redactor: Mutex<Redactor>,
}

impl<'a, T> Observed<'a, T> {
    pub fn new(
        inner: &'a T,
        observer: Arc<dyn Observer>,
        case: String,
        guard: &'a SecretGuard,
        redactions: Vec<Redaction>,
    ) -> Self {
        observer.case_started(&case);
        Observed {
            inner,
            observer,
            case,
            guard,
            redactor: Mutex::new(Redactor::new(redactions)),
        }
    }

    fn masked_request(&self, request: &Request) -> Request {
        let mut redactor = self.redactor.lock().unwrap_or_else(|e| e.into_inner());
        redactor.learn(&request.fields.form_pairs());
        let pairs: Vec<(String, String)> = redactor
            .redact_pairs(&request.fields.to_form_pairs())
            .into_iter()
            .map(|(k, v)| (k, self.guard.scrub(&v).into_owned()))
            .collect();
        let mut shown = request.clone();
        if let Ok(fields) = Fields::from_form_pairs(pairs) {
            shown.fields = fields;
        }
        shown
    }

    fn masked_response(&self, response: &Response) -> Response {
        let mut redactor = self.redactor.lock().unwrap_or_else(|e| e.into_inner());
        redactor.learn_body(&response.body);
        let body = redactor.redact_body(&response.body);
        Response {
            body: self.guard.scrub(&body).into_owned(),
            ..response.clone()
        }
    }
}

impl<T: Transport> Transport for Observed<'_, T> {
    async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let shown = self.masked_request(request);
        self.observer.request(&self.case, &shown);
        let answer = self.inner.send(request).await;
        match &answer {
            Ok(response) => {
                let masked = self.masked_response(response);
                self.observer.answer(&self.case, &shown, Ok(&masked));
            }
            Err(error) => {
                let mut text = error.clone();
                text.scrub(&mut |message| {
                    self.guard.scrub_in_place(message);
                });
                self.observer.answer(&self.case, &shown, Err(&text));
            }
        }
        answer
    }

    async fn receive(
        &self,
        wait: &crate::transport::CallbackWait,
    ) -> Result<(Request, Response), TransportError> {
        let received = self.inner.receive(wait).await;
        if let Ok((callback, reply)) = &received {
            let shown = self.masked_request(callback);
            self.observer.request(&self.case, &shown);
            let masked = self.masked_response(reply);
            self.observer.answer(&self.case, &shown, Ok(&masked));
        }
        received
    }
}

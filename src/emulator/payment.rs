//! One payment and its state machine: what init, pay, approve, resend code and the passing of
//! time do to it, and what it reports (status fields, callback fields).
//!
//! ```text
//! new ──pay──▶ checking ──check ok──▶ (charge)        checking: only with pg_check_url
//! new ──pay──▶ (charge) ──immediate──▶ success
//!                      ├─SMS code──▶ awaiting code ──approve right code──▶ success
//!                      │                           └─(code then process)─▶ processing ──delay──▶ success
//!                      └─insufficient funds / operator error──▶ failed
//! awaiting code ──wrong code × attempts──▶ failed      any unfinished ──lifetime ends──▶ failed
//! ```
//!
//! Transitions never read the clock or send anything themselves: they take a [`Now`] and push
//! [`Effect`]s (a result callback to deliver, a settlement to schedule) for the server to carry
//! out after the store's lock is released.

use std::time::{Duration, Instant, SystemTime};

use crate::gateway::{Fields, SecretKey};

use super::callbacks::{CallbackJob, CallbackKind, CallbackMethod, CheckVerdict};
use super::clock::{Now, gateway_date, secs_ceil};
use super::errors::{ErrorCodes, ErrorKind, Language, Rejection, describe};
use super::phones::{Behaviour, PhoneProfile};

/// The method a payment paid from a phone's balance has.
pub(crate) const MOBILE_COMMERCE: &str = "mobile_commerce";

/// The limits a payment's SMS code flow follows (from the emulator configuration).
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub code_attempts: u32,
    pub code_lifetime: Duration,
    pub resend_limit: u32,
    pub resend_cooldown: Duration,
    pub approve_delay: Duration,
    pub codes: ErrorCodes,
}

/// Something to do once the store's lock is released.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Deliver a result callback (the payment reached a final state).
    Callback(CallbackJob),
    /// Complete a `processing` payment at this instant.
    SettleAt { payment_id: u64, at: Instant },
}

/// What init validated: everything a payment keeps from its creation.
#[derive(Debug, Clone)]
pub(crate) struct NewPayment {
    pub merchant_id: String,
    pub secret: SecretKey,
    /// Empty when init gave no `pg_order_id`.
    pub order_id: String,
    /// As the merchant wrote it (`150.00`), so status echoes it unchanged.
    pub amount: String,
    pub currency: String,
    pub description: String,
    pub lifetime: Duration,
    pub testing_mode: bool,
    /// Init's `pg_language`: the language of the payment's error descriptions.
    pub language: Language,
    /// Init's `pg_payment_method` as given; `None` when init named none, so the payer chooses
    /// on the payment page. Pay makes it `mobile_commerce` (an emulator assumption: a payment
    /// of any method can be paid from a phone's balance with `/mfs/pay`).
    pub method: Option<String>,
    /// The `customer` of `pg_redirect_url` (`/pay.html?customer=…`): 32 hex digits.
    pub customer: String,
    /// Init's `pg_user_phone`, until pay names the phone that pays.
    pub user_phone: String,
    /// Init's `pg_user_contact_email`, echoed in the result callback.
    pub user_contact_email: String,
    pub check_url: Option<String>,
    pub result_url: Option<String>,
    /// Where the payer's page sends the browser back after a success or a failure.
    pub success_url: Option<String>,
    pub failure_url: Option<String>,
    pub request_method: CallbackMethod,
    /// `pg_param1..3` as given, echoed in callbacks.
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct CodeState {
    pub code: String,
    pub sent_at: Instant,
    pub attempts_left: u32,
    pub resends: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum State {
    New,
    /// Pay is waiting for the merchant's check URL to answer.
    Checking,
    AwaitingCode(CodeState),
    Processing {
        settles_at: Instant,
    },
    Success,
    Failed {
        kind: ErrorKind,
        code: u32,
        description: String,
    },
}

/// Which call met a payment in the wrong state (the answer depends on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Pay,
    Approve,
    Resend,
}

/// The first half of pay.
#[derive(Debug)]
pub(crate) enum PayStart {
    /// Ask the merchant's check URL first, then call [`Payment::finish_check`].
    Check(CallbackJob),
    Charged(Charged),
}

/// What charging the phone gave, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Charged {
    /// `pg_status=ok`: paid.
    Ok,
    /// `pg_status=need_approve`: this code went out by SMS.
    NeedApprove { code: String },
}

/// What a right code gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Approved {
    Ok,
    Process,
}

#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub id: u64,
    pub data: NewPayment,
    pub created: SystemTime,
    pub expires_at: Instant,
    /// Set by pay.
    pub phone: Option<PhoneProfile>,
    pub state: State,
    pub finished: Option<SystemTime>,
    /// When the state last moved (or a new SMS code went out), for the console.
    pub changed: SystemTime,
}

impl Payment {
    pub fn new(id: u64, data: NewPayment, now: Now) -> Self {
        Self {
            id,
            expires_at: now.instant + data.lifetime,
            created: now.wall,
            data,
            phone: None,
            state: State::New,
            finished: None,
            changed: now.wall,
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self.state, State::Success | State::Failed { .. })
    }

    /// `pg_payment_status`: new, process, success or error (emulator convention; the docs
    /// show `success` and use `process` and `error`).
    pub fn payment_status(&self) -> &'static str {
        match self.state {
            State::New => "new",
            State::Checking | State::AwaitingCode(_) | State::Processing { .. } => "process",
            State::Success => "success",
            State::Failed { .. } => "error",
        }
    }

    /// A finer name for the admin API.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::New => "new",
            State::Checking => "checking",
            State::AwaitingCode(_) => "awaiting_code",
            State::Processing { .. } => "processing",
            State::Success => "success",
            State::Failed { .. } => "failed",
        }
    }

    /// Applies what time alone does: a due settlement, or the end of the lifetime.
    pub fn refresh(&mut self, now: Now, rules: &Rules, effects: &mut Vec<Effect>) {
        if let State::Processing { settles_at } = self.state
            && now.instant >= settles_at
            && settles_at <= self.expires_at
        {
            self.succeed(now, effects);
        }
        if !self.is_final() && now.instant >= self.expires_at {
            let description = format!(
                "payment {} expired: its lifetime of {} s ended before it was completed",
                self.id,
                self.data.lifetime.as_secs()
            );
            self.fail(ErrorKind::PaymentExpired, description, now, rules, effects);
        }
    }

    /// The refusal for a call that does not fit the current state.
    fn wrong_state(&self, call: Call) -> Rejection {
        let id = self.id;
        let language = self.data.language;
        let status = self.payment_status();
        let rejection = match (&self.state, call) {
            (
                State::Failed {
                    kind: ErrorKind::PaymentExpired,
                    description,
                    ..
                },
                _,
            ) => Rejection::new(ErrorKind::PaymentExpired, description.clone()),
            (_, Call::Pay) => Rejection::new(
                ErrorKind::AlreadyPaid,
                format!("payment {id} was already paid (status {status})"),
            ),
            (State::New, _) => Rejection::new(
                ErrorKind::NotPaid,
                format!("payment {id} has not been paid yet: call pay first"),
            ),
            (State::Checking, _) => Rejection::new(
                ErrorKind::NotPaid,
                format!(
                    "payment {id} is being checked with the merchant: no SMS code was sent yet"
                ),
            ),
            (State::Processing { .. }, _) => Rejection::new(
                ErrorKind::PaymentFinished,
                format!("payment {id} is being completed (status process): no code is awaited"),
            ),
            _ => Rejection::new(
                ErrorKind::PaymentFinished,
                format!("payment {id} is already finished (status {status})"),
            ),
        };
        rejection.for_payment(id).in_language(language)
    }

    /// Pay: checks the state, then asks the check URL or charges the phone.
    pub fn start_pay(
        &mut self,
        phone: PhoneProfile,
        now: Now,
        rules: &Rules,
        rng: &mut fastrand::Rng,
        effects: &mut Vec<Effect>,
    ) -> Result<PayStart, Rejection> {
        if !matches!(self.state, State::New) {
            return Err(self.wrong_state(Call::Pay));
        }
        self.phone = Some(phone);
        self.data.method = Some(MOBILE_COMMERCE.to_owned());
        if let Some(job) = self.check_job() {
            self.state = State::Checking;
            self.changed = now.wall;
            return Ok(PayStart::Check(job));
        }
        self.charge(now, rules, rng, effects).map(PayStart::Charged)
    }

    /// Pay, second half: the merchant's check URL answered.
    pub fn finish_check(
        &mut self,
        verdict: CheckVerdict,
        now: Now,
        rules: &Rules,
        rng: &mut fastrand::Rng,
        effects: &mut Vec<Effect>,
    ) -> Result<Charged, Rejection> {
        if !matches!(self.state, State::Checking) {
            // Expired (or reset) while the merchant was being asked.
            return Err(self.wrong_state(Call::Pay));
        }
        match verdict {
            CheckVerdict::Ok => self.charge(now, rules, rng, effects),
            CheckVerdict::Rejected(why) => Err(self.fail(
                ErrorKind::CheckRejected,
                format!(
                    "the merchant's check URL rejected payment {}: {why}",
                    self.id
                ),
                now,
                rules,
                effects,
            )),
            CheckVerdict::Failed(why) => Err(self.fail(
                ErrorKind::CheckFailed,
                format!(
                    "the merchant's check URL gave no valid answer for payment {}: {why}",
                    self.id
                ),
                now,
                rules,
                effects,
            )),
        }
    }

    fn charge(
        &mut self,
        now: Now,
        rules: &Rules,
        rng: &mut fastrand::Rng,
        effects: &mut Vec<Effect>,
    ) -> Result<Charged, Rejection> {
        let Some(phone) = self.phone.clone() else {
            return Err(self.wrong_state(Call::Pay));
        };
        match phone.behaviour {
            Behaviour::Immediate => {
                self.succeed(now, effects);
                Ok(Charged::Ok)
            }
            Behaviour::SmsCode | Behaviour::CodeThenProcess => {
                let code = new_code(&phone, rng);
                self.changed = now.wall;
                self.state = State::AwaitingCode(CodeState {
                    code: code.clone(),
                    sent_at: now.instant,
                    attempts_left: rules.code_attempts,
                    resends: 0,
                });
                Ok(Charged::NeedApprove { code })
            }
            Behaviour::InsufficientFunds => Err(self.fail(
                ErrorKind::InsufficientFunds,
                format!(
                    "insufficient funds on the balance of {} ({})",
                    phone.phone, phone.operator
                ),
                now,
                rules,
                effects,
            )),
            Behaviour::OperatorError => Err(self.fail(
                ErrorKind::OperatorError,
                format!(
                    "{} did not confirm the charge to {} (emulated operator error)",
                    phone.operator, phone.phone
                ),
                now,
                rules,
                effects,
            )),
        }
    }

    /// Approve with an SMS code.
    pub fn approve(
        &mut self,
        code: &str,
        now: Now,
        rules: &Rules,
        effects: &mut Vec<Effect>,
    ) -> Result<Approved, Rejection> {
        let id = self.id;
        let language = self.data.language;
        let State::AwaitingCode(awaiting) = &mut self.state else {
            return Err(self.wrong_state(Call::Approve));
        };
        if now.instant.duration_since(awaiting.sent_at) >= rules.code_lifetime {
            return Err(Rejection::new(
                ErrorKind::CodeExpired,
                format!(
                    "the SMS code for payment {id} expired after {} s: call resend code for a new one",
                    secs_ceil(rules.code_lifetime)
                ),
            )
            .for_payment(id)
            .in_language(language));
        }
        if awaiting.code != code {
            awaiting.attempts_left = awaiting.attempts_left.saturating_sub(1);
            let left = awaiting.attempts_left;
            if left == 0 {
                let description = format!(
                    "wrong approval code for payment {id}: no attempts left, the payment has failed"
                );
                return Err(self.fail(
                    ErrorKind::AttemptsExhausted,
                    description,
                    now,
                    rules,
                    effects,
                ));
            }
            return Err(Rejection::new(
                ErrorKind::WrongCode,
                format!("wrong approval code for payment {id}: {left} attempt(s) left"),
            )
            .for_payment(id)
            .in_language(language));
        }
        let then_process = self
            .phone
            .as_ref()
            .is_some_and(|p| p.behaviour == Behaviour::CodeThenProcess);
        if then_process {
            let settles_at = now.instant + rules.approve_delay;
            self.state = State::Processing { settles_at };
            self.changed = now.wall;
            effects.push(Effect::SettleAt {
                payment_id: id,
                at: settles_at,
            });
            Ok(Approved::Process)
        } else {
            self.succeed(now, effects);
            Ok(Approved::Ok)
        }
    }

    /// Resend code: a new code (the same fixed one on test phones), fresh attempts.
    pub fn resend(
        &mut self,
        now: Now,
        rules: &Rules,
        rng: &mut fastrand::Rng,
    ) -> Result<String, Rejection> {
        let id = self.id;
        let language = self.data.language;
        let Some(phone) = self.phone.clone() else {
            return Err(self.wrong_state(Call::Resend));
        };
        let State::AwaitingCode(awaiting) = &mut self.state else {
            return Err(self.wrong_state(Call::Resend));
        };
        if awaiting.resends >= rules.resend_limit {
            return Err(Rejection::new(
                ErrorKind::ResendLimit,
                format!(
                    "the code for payment {id} was already resent {} time(s), the limit",
                    awaiting.resends
                ),
            )
            .for_payment(id)
            .in_language(language));
        }
        let since = now.instant.duration_since(awaiting.sent_at);
        if since < rules.resend_cooldown {
            return Err(Rejection::new(
                ErrorKind::ResendCooldown,
                format!(
                    "the last SMS for payment {id} went out {} s ago: wait {} s before resending",
                    since.as_secs(),
                    secs_ceil(rules.resend_cooldown - since)
                ),
            )
            .for_payment(id)
            .in_language(language));
        }
        let code = new_code(&phone, rng);
        awaiting.code = code.clone();
        awaiting.sent_at = now.instant;
        awaiting.attempts_left = rules.code_attempts;
        awaiting.resends += 1;
        self.changed = now.wall;
        Ok(code)
    }

    /// Completes a `processing` payment whose delay has passed (the scheduled settlement).
    pub fn settle(&mut self, now: Now, rules: &Rules, effects: &mut Vec<Effect>) {
        self.refresh(now, rules, effects);
    }

    fn succeed(&mut self, now: Now, effects: &mut Vec<Effect>) {
        self.state = State::Success;
        self.finished = Some(now.wall);
        self.changed = now.wall;
        if let Some(job) = self.result_job() {
            effects.push(Effect::Callback(job));
        }
    }

    /// Fails the payment and returns the refusal to answer.
    fn fail(
        &mut self,
        kind: ErrorKind,
        description: String,
        now: Now,
        rules: &Rules,
        effects: &mut Vec<Effect>,
    ) -> Rejection {
        self.state = State::Failed {
            kind,
            code: rules.codes.code(kind),
            description: description.clone(),
        };
        self.finished = Some(now.wall);
        self.changed = now.wall;
        if let Some(job) = self.result_job() {
            effects.push(Effect::Callback(job));
        }
        Rejection::new(kind, description)
            .for_payment(self.id)
            .in_language(self.data.language)
    }

    /// The phone that paid, else init's `pg_user_phone`.
    pub fn user_phone(&self) -> &str {
        match &self.phone {
            Some(p) => &p.phone,
            None => &self.data.user_phone,
        }
    }

    /// `pg_failure_code` and `pg_failure_description` (in the payment's language) of a
    /// failed payment.
    fn failure(&self) -> Option<(String, String)> {
        match &self.state {
            State::Failed {
                kind,
                code,
                description,
            } => Some((
                code.to_string(),
                describe(*kind, description, None, self.data.language),
            )),
            _ => None,
        }
    }

    /// When the payment succeeded (`pg_payment_date`).
    fn payment_date(&self) -> Option<String> {
        match (&self.state, self.finished) {
            (State::Success, Some(at)) => Some(gateway_date(at)),
            _ => None,
        }
    }

    /// The body of a successful status answer (before `pg_status`, salt and signature). Like
    /// the real gateway's, it carries `pg_payment_date`, `pg_failure_code`,
    /// `pg_failure_description`, `pg_user_phone` (and `pg_payment_method`) only when they
    /// have a value.
    pub fn status_fields(&self) -> Fields {
        let mut f = Fields::new();
        f.push("pg_payment_id", self.id.to_string());
        f.push("pg_order_id", self.data.order_id.as_str());
        f.push("pg_currency", self.data.currency.as_str());
        f.push("pg_amount", self.data.amount.as_str());
        f.push("pg_payment_status", self.payment_status());
        if let Some(method) = &self.data.method {
            f.push("pg_payment_method", method.as_str());
        }
        if !self.user_phone().is_empty() {
            f.push("pg_user_phone", self.user_phone());
        }
        f.push("pg_create_date", gateway_date(self.created));
        if let Some(date) = self.payment_date() {
            f.push("pg_payment_date", date);
        }
        if let Some((code, description)) = self.failure() {
            f.push("pg_failure_code", code);
            f.push("pg_failure_description", description);
        }
        // Mobile balance charges cannot be taken back by the merchant's result answer.
        f.push("pg_can_reject", "0");
        f.push("pg_captured", self.captured());
        f
    }

    /// `pg_captured`: 1 once the money is taken.
    fn captured(&self) -> &'static str {
        if matches!(self.state, State::Success) {
            "1"
        } else {
            "0"
        }
    }

    fn push_params(&self, f: &mut Fields) {
        for (k, v) in &self.data.params {
            f.push(k.as_str(), v.as_str());
        }
    }

    /// The check callback for pay, when init gave a `pg_check_url`.
    pub fn check_job(&self) -> Option<CallbackJob> {
        let url = self.data.check_url.clone()?;
        let mut f = Fields::new();
        f.push("pg_order_id", self.data.order_id.as_str());
        f.push("pg_payment_id", self.id.to_string());
        f.push("pg_amount", self.data.amount.as_str());
        f.push("pg_currency", self.data.currency.as_str());
        f.push("pg_ps_amount", self.data.amount.as_str());
        f.push("pg_ps_currency", self.data.currency.as_str());
        f.push("pg_ps_full_amount", self.data.amount.as_str());
        self.push_params(&mut f);
        Some(self.job(CallbackKind::Check, url, f))
    }

    /// The result callback, when init gave a `pg_result_url` and the payment is final. The
    /// fields and their order are those recorded from the real gateway in test mode: no
    /// `pg_payment_date` on failure, `pg_failure_code` / `pg_failure_description` instead;
    /// `pg_user_contact_email` only when init gave one. Emulator assumptions, where nothing
    /// was seen: `pg_reference` is the payment id, `pg_need_phone_notification` is 0 and
    /// `pg_need_email_notification` is 1 exactly when there is an email.
    fn result_job(&self) -> Option<CallbackJob> {
        let url = self.data.result_url.clone()?;
        let success = matches!(self.state, State::Success);
        let email = self.data.user_contact_email.as_str();
        let mut f = Fields::new();
        f.push("pg_order_id", self.data.order_id.as_str());
        f.push("pg_payment_id", self.id.to_string());
        f.push("pg_amount", self.data.amount.as_str());
        f.push("pg_currency", self.data.currency.as_str());
        f.push("pg_net_amount", self.data.amount.as_str());
        f.push("pg_ps_amount", self.data.amount.as_str());
        f.push("pg_ps_full_amount", self.data.amount.as_str());
        f.push("pg_ps_currency", self.data.currency.as_str());
        f.push("pg_description", self.data.description.as_str());
        f.push("pg_result", if success { "1" } else { "0" });
        if let Some(date) = self.payment_date() {
            f.push("pg_payment_date", date);
        }
        f.push("pg_can_reject", "0");
        f.push("pg_user_phone", self.user_phone());
        f.push("pg_need_phone_notification", "0");
        if !email.is_empty() {
            f.push("pg_user_contact_email", email);
        }
        f.push(
            "pg_need_email_notification",
            if email.is_empty() { "0" } else { "1" },
        );
        f.push(
            "pg_testing_mode",
            if self.data.testing_mode { "1" } else { "0" },
        );
        f.push(
            "pg_payment_method",
            self.data.method.as_deref().unwrap_or(MOBILE_COMMERCE),
        );
        f.push("pg_reference", self.id.to_string());
        f.push("pg_captured", self.captured());
        if let Some((code, description)) = self.failure() {
            f.push("pg_failure_code", code);
            f.push("pg_failure_description", description);
        }
        self.push_params(&mut f);
        Some(self.job(CallbackKind::Result, url, f))
    }

    fn job(&self, kind: CallbackKind, url: String, fields: Fields) -> CallbackJob {
        CallbackJob {
            kind,
            payment_id: self.id,
            url,
            method: self.data.request_method,
            fields,
            secret: self.data.secret.clone(),
        }
    }
}

/// The code an SMS carries: the test phone's fixed code, or six random digits (leading zeros
/// kept, so clients that treat the code as a number get caught).
fn new_code(phone: &PhoneProfile, rng: &mut fastrand::Rng) -> String {
    match phone.fixed_code {
        Some(code) => code.to_owned(),
        None => format!("{:06}", rng.u32(0..1_000_000)),
    }
}

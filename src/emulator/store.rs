//! The emulator's memory: payments by id (bounded, expiring), the order-id index, the last SMS
//! code sent to each phone, and the generator of payment ids and codes.
//!
//! One `Mutex<Store>` guards it all; every call takes the lock once, briefly, and never across
//! an await, so concurrent calls on one payment see one consistent order of transitions.
//!
//! Bounds: a payment is forgotten `retention` after its lifetime ends. When `max_payments`
//! are held, the oldest finished one is dropped; if every held payment is still in flight,
//! init is refused (`store_full`) rather than losing one.
//!
//! Every bound is kept with ordered indexes, so no call scans the store: `lifetimes` orders
//! the payments whose lifetime has not yet been seen to end, `retained` orders every payment
//! by when it may be forgotten, and `finished` holds the ids of final payments (oldest first,
//! ids grow with time). Each init takes what is due from the front of the first two —
//! expiring, then forgetting — and at the cap drops the first of `finished`: O(log n) per
//! payment over its life, whatever the store holds. A payment enters `finished` when a call
//! (or its lifetime) makes it final.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime};

use crate::gateway::Fields;

use super::callbacks::CheckVerdict;
use super::clock::Now;
use super::errors::{ErrorKind, Rejection};
use super::inbox::{CodeFate, Inbox, SmsMessage};
use super::payment::{Approved, Charged, Effect, NewPayment, PayStart, Payment, Rules, State};
use super::phones::PhoneProfile;

/// The last code sent to a phone.
#[derive(Debug, Clone)]
struct SentCode {
    code: String,
    at: Instant,
}

/// A snapshot of one payment for the admin API.
#[derive(Debug, Clone)]
pub(crate) struct PaymentSummary {
    pub id: u64,
    pub merchant_id: String,
    pub state: &'static str,
    pub attempts_left: Option<u32>,
    pub resends: Option<u32>,
    pub operator: Option<&'static str>,
    /// Init's `pg_description`, for the payer's page.
    pub description: String,
    pub created: SystemTime,
    /// When the state last moved.
    pub changed: SystemTime,
    /// Init's `pg_success_url` and `pg_failure_url`, for the payer's page.
    pub success_url: Option<String>,
    pub failure_url: Option<String>,
    /// The `customer` of the payment's `pg_redirect_url`.
    pub customer: String,
    pub status: Fields,
}

#[derive(Debug)]
pub(crate) struct Store {
    payments: BTreeMap<u64, Payment>,
    /// (end of lifetime, id) of payments not yet seen to be final when it ends.
    lifetimes: BTreeSet<(Instant, u64)>,
    /// (end of retention, id) of every payment held.
    retained: BTreeSet<(Instant, u64)>,
    /// Ids of final payments, oldest first: the ones the cap may drop.
    finished: BTreeSet<u64>,
    /// (merchant, order id) → the latest payment with that order id.
    orders: HashMap<(String, String), u64>,
    sms: HashMap<String, SentCode>,
    /// Every code sent, for the console's SMS inbox.
    inbox: Inbox,
    rng: fastrand::Rng,
    seed: Option<u64>,
    next_id: u64,
    rules: Rules,
    max_payments: usize,
    retention: Duration,
}

impl Store {
    pub fn new(rules: Rules, max_payments: usize, retention: Duration, seed: Option<u64>) -> Self {
        let mut store = Store {
            payments: BTreeMap::new(),
            lifetimes: BTreeSet::new(),
            retained: BTreeSet::new(),
            finished: BTreeSet::new(),
            orders: HashMap::new(),
            sms: HashMap::new(),
            inbox: Inbox::default(),
            rng: fastrand::Rng::new(),
            seed,
            next_id: 0,
            rules,
            max_payments: max_payments.max(1),
            retention,
        };
        store.reset();
        store
    }

    /// Forgets everything; with a seed, ids and codes start over as at startup.
    pub fn reset(&mut self) {
        self.payments.clear();
        self.lifetimes.clear();
        self.retained.clear();
        self.finished.clear();
        self.orders.clear();
        self.sms.clear();
        self.inbox.clear();
        self.rng = match self.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        // Nine-digit ids like the gateway's; the start is random so two runs do not collide.
        self.next_id = self.rng.u64(100_000_000..800_000_000);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.payments.len()
    }

    /// Init: stores a new payment and returns its id.
    pub fn create(
        &mut self,
        data: NewPayment,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<u64, Rejection> {
        self.expire(now, effects);
        if self.payments.len() >= self.max_payments && !self.evict_oldest_finished() {
            return Err(Rejection::new(
                ErrorKind::StoreFull,
                format!(
                    "the emulator holds {} unfinished payments, its limit: finish or reset some",
                    self.payments.len()
                ),
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        if !data.order_id.is_empty() {
            self.orders
                .insert((data.merchant_id.clone(), data.order_id.clone()), id);
        }
        let payment = Payment::new(id, data, now);
        self.lifetimes.insert((payment.expires_at, id));
        self.retained
            .insert((payment.expires_at + self.retention, id));
        self.payments.insert(id, payment);
        Ok(id)
    }

    /// Ends the payments whose lifetime is over (a result callback each, as the gateway
    /// sends) and forgets those past their retention: only what is due, from the front of
    /// the two indexes.
    fn expire(&mut self, now: Now, effects: &mut Vec<Effect>) {
        while let Some(&(ends, id)) = self.lifetimes.first()
            && ends <= now.instant
        {
            self.lifetimes.pop_first();
            if let Some(payment) = self.payments.get_mut(&id) {
                payment.refresh(now, &self.rules, effects);
            }
            self.note(id);
        }
        while let Some(&(ends, id)) = self.retained.first()
            && ends <= now.instant
        {
            self.forget(id);
        }
    }

    fn evict_oldest_finished(&mut self) -> bool {
        match self.finished.first() {
            Some(&id) => {
                self.forget(id);
                true
            }
            None => false,
        }
    }

    /// Records that payment `id` is final, if it now is.
    fn note(&mut self, id: u64) {
        if self.payments.get(&id).is_some_and(Payment::is_final) {
            self.finished.insert(id);
        }
    }

    /// Runs a call on payment `id`, then notes whether it left the payment final (a refused
    /// call can end a payment too: the last wrong code fails it).
    fn touch<T>(
        &mut self,
        id: u64,
        call: impl FnOnce(&mut Store) -> Result<T, Rejection>,
    ) -> Result<T, Rejection> {
        let result = call(self);
        self.note(id);
        result
    }

    fn forget(&mut self, id: u64) {
        if let Some(p) = self.payments.remove(&id) {
            self.lifetimes.remove(&(p.expires_at, id));
            self.retained.remove(&(p.expires_at + self.retention, id));
            self.finished.remove(&id);
            let key = (p.data.merchant_id, p.data.order_id);
            if self.orders.get(&key) == Some(&id) {
                self.orders.remove(&key);
            }
        }
    }

    fn record_code(&mut self, payment_id: u64, phone: &str, code: &str, now: Now) {
        self.inbox.push(SmsMessage {
            phone: phone.to_owned(),
            code: code.to_owned(),
            payment_id,
            sent: now.wall,
            sent_at: now.instant,
            used: false,
        });
        if self.sms.len() >= self.max_payments && !self.sms.contains_key(phone) {
            // Keep the newer half: a bound, not an exact LRU, is what matters here.
            let mut times: Vec<Instant> = self.sms.values().map(|s| s.at).collect();
            let mid = times.len() / 2;
            let (_, median, _) = times.select_nth_unstable(mid);
            let median = *median;
            self.sms.retain(|_, s| s.at >= median);
        }
        self.sms.insert(
            phone.to_owned(),
            SentCode {
                code: code.to_owned(),
                at: now.instant,
            },
        );
    }

    /// The last SMS code sent to this phone.
    pub fn sms_code(&self, phone: &str) -> Option<String> {
        self.sms.get(phone).map(|s| s.code.clone())
    }

    /// The SMS code payment `id` awaits: what a test approving that payment needs, whatever
    /// other payments the same phone made meanwhile (the by-phone code is only the latest).
    pub fn payment_sms_code(&self, id: u64) -> Option<String> {
        match &self.payments.get(&id)?.state {
            State::AwaitingCode(awaiting) => Some(awaiting.code.clone()),
            _ => None,
        }
    }

    /// Pay, first half: either charged, or a check callback to make first.
    pub fn start_pay(
        &mut self,
        merchant: &str,
        id: u64,
        phone: PhoneProfile,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<PayStart, Rejection> {
        self.touch(id, |s| {
            let phone_number = phone.phone.clone();
            let p = lookup(&mut s.payments, &s.rules, merchant, id, now, effects)?;
            let start = p.start_pay(phone, now, &s.rules, &mut s.rng, effects)?;
            if let PayStart::Charged(Charged::NeedApprove { code }) = &start {
                s.record_code(id, &phone_number, code, now);
            }
            Ok(start)
        })
    }

    /// Pay, second half: after the merchant's check URL answered.
    pub fn finish_pay(
        &mut self,
        merchant: &str,
        id: u64,
        verdict: CheckVerdict,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<Charged, Rejection> {
        self.touch(id, |s| {
            let p = lookup(&mut s.payments, &s.rules, merchant, id, now, effects)?;
            let phone = p.user_phone().to_owned();
            let charged = p.finish_check(verdict, now, &s.rules, &mut s.rng, effects)?;
            if let Charged::NeedApprove { code } = &charged {
                s.record_code(id, &phone, code, now);
            }
            Ok(charged)
        })
    }

    pub fn approve(
        &mut self,
        merchant: &str,
        id: u64,
        code: &str,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<Approved, Rejection> {
        self.touch(id, |s| {
            let approved = lookup(&mut s.payments, &s.rules, merchant, id, now, effects)?
                .approve(code, now, &s.rules, effects)?;
            s.inbox.mark_used(id);
            Ok(approved)
        })
    }

    pub fn resend(
        &mut self,
        merchant: &str,
        id: u64,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<(), Rejection> {
        self.touch(id, |s| {
            let p = lookup(&mut s.payments, &s.rules, merchant, id, now, effects)?;
            let phone = p.user_phone().to_owned();
            let code = p.resend(now, &s.rules, &mut s.rng)?;
            s.record_code(id, &phone, &code, now);
            Ok(())
        })
    }

    /// Status by payment id, or by order id (the latest payment with it).
    pub fn status(
        &mut self,
        merchant: &str,
        id: Option<u64>,
        order_id: Option<&str>,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<Fields, Rejection> {
        let id = match (id, order_id) {
            (Some(id), _) => id,
            (None, Some(order)) => *self
                .orders
                .get(&(merchant.to_owned(), order.to_owned()))
                .ok_or_else(|| {
                    Rejection::new(
                        ErrorKind::UnknownPayment,
                        format!("merchant {merchant} has no payment with order id {order}"),
                    )
                })?,
            (None, None) => return Err(Rejection::missing("pg_payment_id")),
        };
        self.touch(id, |s| {
            Ok(lookup(&mut s.payments, &s.rules, merchant, id, now, effects)?.status_fields())
        })
    }

    /// The scheduled end of a `processing` payment.
    pub fn settle(&mut self, id: u64, now: Now, effects: &mut Vec<Effect>) {
        if let Some(p) = self.payments.get_mut(&id) {
            p.settle(now, &self.rules, effects);
        }
        self.note(id);
    }

    /// At most `limit` payments with ids above `after`, oldest first, for the admin API's
    /// pages; and the number held in all.
    pub fn summaries(
        &mut self,
        after: Option<u64>,
        limit: usize,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> (Vec<PaymentSummary>, usize) {
        let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let rules = &self.rules;
        let mut page = Vec::with_capacity(limit.min(self.payments.len()));
        for (_, p) in self
            .payments
            .range_mut((start, std::ops::Bound::Unbounded))
            .take(limit)
        {
            p.refresh(now, rules, effects);
            page.push(summary(p));
        }
        for id in page.iter().map(|p| p.id).collect::<Vec<_>>() {
            self.note(id);
        }
        (page, self.payments.len())
    }

    pub fn summary(
        &mut self,
        id: u64,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Option<PaymentSummary> {
        let p = self.payments.get_mut(&id)?;
        p.refresh(now, &self.rules, effects);
        let found = summary(p);
        self.note(id);
        Some(found)
    }
}

impl Store {
    /// The payment behind a payer page's `customer` token. A scan, not an index: the page is
    /// opened by a person now and then, and the store's indexes stay the ones calls need.
    pub fn by_customer(
        &mut self,
        customer: &str,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Option<PaymentSummary> {
        let rules = &self.rules;
        let p = self
            .payments
            .values_mut()
            .find(|p| p.data.customer == customer)?;
        p.refresh(now, rules, effects);
        Some(summary(p))
    }
}

/// Which payments the console lists: a state (`emulator_state` names) and part of a phone.
#[derive(Debug, Default, Clone)]
pub(crate) struct PaymentFilter {
    pub state: Option<String>,
    pub phone: Option<String>,
}

impl PaymentFilter {
    fn admits(&self, p: &Payment) -> bool {
        self.state.as_deref().is_none_or(|s| p.state_name() == s)
            && self
                .phone
                .as_deref()
                .is_none_or(|digits| p.user_phone().contains(digits))
    }
}

/// One SMS of the console's inbox, and what became of its code.
#[derive(Debug, Clone)]
pub(crate) struct SmsView {
    pub phone: String,
    pub code: String,
    pub payment_id: u64,
    pub sent: SystemTime,
    pub fate: CodeFate,
}

impl Store {
    /// The console's page of payments: newest first, ids below `before`, those the filter
    /// admits; and how many payments are held. Without a filter this reads `limit` payments;
    /// with one it reads until the page is full, which a person's filter can afford.
    pub fn newest(
        &mut self,
        before: Option<u64>,
        limit: usize,
        filter: &PaymentFilter,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> (Vec<PaymentSummary>, usize) {
        let end = before.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let rules = &self.rules;
        let mut page = Vec::with_capacity(limit.min(64));
        for (_, p) in self
            .payments
            .range_mut((std::ops::Bound::Unbounded, end))
            .rev()
        {
            if page.len() == limit {
                break;
            }
            p.refresh(now, rules, effects);
            if filter.admits(p) {
                page.push(summary(p));
            }
        }
        for id in page.iter().map(|p| p.id).collect::<Vec<_>>() {
            self.note(id);
        }
        (page, self.payments.len())
    }

    /// The SMS inbox, newest first: of one phone and/or one payment when asked.
    pub fn inbox(
        &self,
        phone: Option<&str>,
        payment: Option<u64>,
        limit: usize,
        now: Now,
    ) -> Vec<SmsView> {
        self.inbox
            .newest()
            .into_iter()
            .filter(|(m, _)| phone.is_none_or(|p| m.phone.contains(p)))
            .filter(|(m, _)| payment.is_none_or(|id| m.payment_id == id))
            .take(limit)
            .map(|(m, replaced)| {
                let awaited = self
                    .payments
                    .get(&m.payment_id)
                    .and_then(|p| match &p.state {
                        State::AwaitingCode(c) if c.sent_at == m.sent_at => {
                            Some(now.instant < p.expires_at)
                        }
                        _ => None,
                    });
                let fate = if m.used {
                    CodeFate::Used
                } else if replaced {
                    CodeFate::Replaced
                } else if awaited == Some(true) {
                    if now.instant.duration_since(m.sent_at) >= self.rules.code_lifetime {
                        CodeFate::Expired
                    } else {
                        CodeFate::Waiting
                    }
                } else {
                    CodeFate::Unused
                };
                SmsView {
                    phone: m.phone.clone(),
                    code: m.code.clone(),
                    payment_id: m.payment_id,
                    sent: m.sent,
                    fate,
                }
            })
            .collect()
    }
}

/// This merchant's payment, brought up to date with the clock. A free function, so callers can
/// borrow the store's other fields (the generator) at the same time.
fn lookup<'a>(
    payments: &'a mut BTreeMap<u64, Payment>,
    rules: &Rules,
    merchant: &str,
    id: u64,
    now: Now,
    effects: &mut Vec<Effect>,
) -> Result<&'a mut Payment, Rejection> {
    let unknown = || {
        Rejection::new(
            ErrorKind::UnknownPayment,
            format!("merchant {merchant} has no payment {id}"),
        )
    };
    let payment = payments.get_mut(&id).ok_or_else(unknown)?;
    // Another merchant's payment is as unknown as a missing one: ids reveal nothing.
    if payment.data.merchant_id != merchant {
        return Err(unknown());
    }
    payment.refresh(now, rules, effects);
    Ok(payment)
}

fn summary(p: &Payment) -> PaymentSummary {
    let (attempts_left, resends) = match &p.state {
        State::AwaitingCode(c) => (Some(c.attempts_left), Some(c.resends)),
        _ => (None, None),
    };
    PaymentSummary {
        id: p.id,
        merchant_id: p.data.merchant_id.clone(),
        state: p.state_name(),
        attempts_left,
        resends,
        operator: p.phone.as_ref().map(|ph| ph.operator.code()),
        description: p.data.description.clone(),
        created: p.created,
        changed: p.changed,
        success_url: p.data.success_url.clone(),
        failure_url: p.data.failure_url.clone(),
        customer: p.data.customer.clone(),
        status: p.status_fields(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::callbacks::{CallbackKind, CallbackMethod};
    use crate::emulator::errors::ErrorCodes;
    use crate::emulator::phones::profile;
    use crate::gateway::SecretKey;

    const M: &str = "552170";

    fn rules() -> Rules {
        Rules {
            code_attempts: 3,
            code_lifetime: Duration::from_secs(60),
            resend_limit: 2,
            resend_cooldown: Duration::from_secs(10),
            approve_delay: Duration::from_secs(2),
            codes: ErrorCodes::default(),
        }
    }

    fn store() -> Store {
        Store::new(rules(), 100, Duration::from_secs(3600), Some(7))
    }

    fn new_payment(order: &str) -> NewPayment {
        NewPayment {
            merchant_id: M.into(),
            secret: SecretKey::new("k"),
            order_id: order.into(),
            amount: "150.00".into(),
            currency: "KZT".into(),
            description: "d".into(),
            lifetime: Duration::from_secs(300),
            testing_mode: true,
            language: Default::default(),
            method: Some("mobile_commerce".into()),
            customer: format!("{order:0>32}"),
            user_phone: String::new(),
            user_contact_email: String::new(),
            check_url: None,
            result_url: Some("http://127.0.0.1:1/result".into()),
            success_url: None,
            failure_url: None,
            request_method: CallbackMethod::Post,
            params: vec![],
        }
    }

    fn status_of(s: &mut Store, id: u64, now: Now) -> String {
        let f = s.status(M, Some(id), None, now, &mut vec![]).unwrap();
        f.get("pg_payment_status").unwrap().to_owned()
    }

    #[test]
    fn sms_flow_with_wrong_codes_then_the_right_one() {
        let mut s = store();
        let now = Now::current();
        let mut fx = vec![];
        let id = s.create(new_payment("o1"), now, &mut fx).unwrap();
        let start = s
            .start_pay(M, id, profile("77011234567").unwrap(), now, &mut fx)
            .unwrap();
        let PayStart::Charged(Charged::NeedApprove { code }) = start else {
            panic!("{start:?}")
        };
        assert_eq!(s.sms_code("77011234567"), Some(code.clone()));
        let wrong = s.approve(M, id, "000000x", now, &mut fx).unwrap_err();
        assert_eq!(wrong.kind, ErrorKind::WrongCode);
        assert!(
            wrong.detail.contains("2 attempt(s) left"),
            "{}",
            wrong.detail
        );
        assert_eq!(s.approve(M, id, &code, now, &mut fx), Ok(Approved::Ok));
        assert_eq!(status_of(&mut s, id, now), "success");
        assert!(
            matches!(fx.as_slice(), [Effect::Callback(job)] if job.kind == CallbackKind::Result)
        );
        assert_eq!(
            s.approve(M, id, &code, now, &mut fx).unwrap_err().kind,
            ErrorKind::PaymentFinished
        );
    }

    #[test]
    fn exhausted_attempts_fail_the_payment() {
        let mut s = store();
        let now = Now::current();
        let mut fx = vec![];
        let id = s.create(new_payment(""), now, &mut fx).unwrap();
        s.start_pay(M, id, profile("77017777777").unwrap(), now, &mut fx)
            .unwrap();
        for _ in 0..2 {
            assert_eq!(
                s.approve(M, id, "1", now, &mut fx).unwrap_err().kind,
                ErrorKind::WrongCode
            );
        }
        assert_eq!(
            s.approve(M, id, "1", now, &mut fx).unwrap_err().kind,
            ErrorKind::AttemptsExhausted
        );
        assert_eq!(status_of(&mut s, id, now), "error");
        let f = s.status(M, Some(id), None, now, &mut fx).unwrap();
        assert_eq!(f.get("pg_failure_code"), Some("11007"));
        assert_eq!(
            s.approve(M, id, "111111", now, &mut fx).unwrap_err().kind,
            ErrorKind::PaymentFinished
        );
    }

    #[test]
    fn codes_expire_and_resend_is_limited_and_cooled_down() {
        let mut s = store();
        let t0 = Now::current();
        let mut fx = vec![];
        let id = s.create(new_payment(""), t0, &mut fx).unwrap();
        s.start_pay(M, id, profile("77021234567").unwrap(), t0, &mut fx)
            .unwrap();
        let first = s.sms_code("77021234567").unwrap();
        assert_eq!(
            s.resend(M, id, t0.plus(Duration::from_secs(3)), &mut fx)
                .unwrap_err()
                .kind,
            ErrorKind::ResendCooldown
        );
        let t1 = t0.plus(Duration::from_secs(61));
        assert_eq!(
            s.approve(M, id, &first, t1, &mut fx).unwrap_err().kind,
            ErrorKind::CodeExpired
        );
        s.resend(M, id, t1, &mut fx).unwrap();
        let second = s.sms_code("77021234567").unwrap();
        let t2 = t1.plus(Duration::from_secs(11));
        s.resend(M, id, t2, &mut fx).unwrap();
        let t3 = t2.plus(Duration::from_secs(11));
        assert_eq!(
            s.resend(M, id, t3, &mut fx).unwrap_err().kind,
            ErrorKind::ResendLimit
        );
        let third = s.sms_code("77021234567").unwrap();
        // Seeded codes are distinct draws; the latest one is the one that counts.
        if second != third {
            assert_eq!(
                s.approve(M, id, &second, t3, &mut fx).unwrap_err().kind,
                ErrorKind::WrongCode
            );
        }
        assert_eq!(s.approve(M, id, &third, t3, &mut fx), Ok(Approved::Ok));
    }

    #[test]
    fn the_inbox_tells_what_became_of_each_code() {
        let mut s = store();
        let t0 = Now::current();
        let mut fx = vec![];
        let fates = |s: &Store, now: Now| -> Vec<(u64, &'static str)> {
            s.inbox(None, None, 10, now)
                .iter()
                .map(|m| (m.payment_id, m.fate.name()))
                .collect()
        };
        let a = s.create(new_payment("a"), t0, &mut fx).unwrap();
        let b = s.create(new_payment("b"), t0, &mut fx).unwrap();
        s.start_pay(M, a, profile("77021234567").unwrap(), t0, &mut fx)
            .unwrap();
        s.start_pay(M, b, profile("77017777777").unwrap(), t0, &mut fx)
            .unwrap();
        assert_eq!(fates(&s, t0), [(b, "waiting"), (a, "waiting")]);
        let t1 = t0.plus(Duration::from_secs(61));
        assert_eq!(fates(&s, t1), [(b, "expired"), (a, "expired")]);
        s.resend(M, a, t1, &mut fx).unwrap();
        assert_eq!(
            s.approve(M, b, "111111", t1, &mut fx).unwrap_err().kind,
            ErrorKind::CodeExpired
        );
        assert_eq!(
            fates(&s, t1),
            [(a, "waiting"), (b, "expired"), (a, "replaced")]
        );
        let code = s.sms_code("77021234567").unwrap();
        s.approve(M, a, &code, t1, &mut fx).unwrap();
        assert_eq!(
            fates(&s, t1),
            [(a, "used"), (b, "expired"), (a, "replaced")]
        );
        let only_b = s.inbox(Some("7701"), None, 10, t1);
        assert_eq!(only_b.len(), 1);
        assert_eq!(only_b[0].code, "111111");
        // A payment that ends without its code leaves it unused.
        let t2 = t0.plus(Duration::from_secs(301));
        assert_eq!(s.inbox(None, Some(b), 10, t2)[0].fate.name(), "unused");
    }

    #[test]
    fn the_console_pages_newest_first_with_filters() {
        let mut s = store();
        let t0 = Now::current();
        let mut fx = vec![];
        let ids: Vec<u64> = (0..5)
            .map(|i| {
                s.create(new_payment(&format!("o{i}")), t0, &mut fx)
                    .unwrap()
            })
            .collect();
        s.start_pay(M, ids[1], profile("77017777701").unwrap(), t0, &mut fx)
            .unwrap();
        let all = PaymentFilter::default();
        let (page, total) = s.newest(None, 2, &all, t0, &mut fx);
        assert_eq!(total, 5);
        assert_eq!(
            page.iter().map(|p| p.id).collect::<Vec<_>>(),
            [ids[4], ids[3]]
        );
        let (page, _) = s.newest(Some(ids[3]), 10, &all, t0, &mut fx);
        assert_eq!(
            page.iter().map(|p| p.id).collect::<Vec<_>>(),
            [ids[2], ids[1], ids[0]]
        );
        let paid = PaymentFilter {
            state: Some("success".into()),
            phone: Some("7777701".into()),
        };
        let (page, _) = s.newest(None, 10, &paid, t0, &mut fx);
        assert_eq!(page.iter().map(|p| p.id).collect::<Vec<_>>(), [ids[1]]);
        assert!(page[0].changed >= page[0].created);
    }

    #[test]
    fn code_then_process_settles_after_the_delay() {
        let mut s = store();
        let now = Now::current();
        let mut fx = vec![];
        let id = s.create(new_payment(""), now, &mut fx).unwrap();
        s.start_pay(M, id, profile("77057777702").unwrap(), now, &mut fx)
            .unwrap();
        assert_eq!(
            s.approve(M, id, "111111", now, &mut fx),
            Ok(Approved::Process)
        );
        assert!(matches!(fx.as_slice(), [Effect::SettleAt { .. }]));
        assert_eq!(
            status_of(&mut s, id, now.plus(Duration::from_secs(1))),
            "process"
        );
        assert_eq!(
            status_of(&mut s, id, now.plus(Duration::from_secs(2))),
            "success"
        );
    }

    #[test]
    fn wrong_states_have_distinct_errors() {
        let mut s = store();
        let now = Now::current();
        let mut fx = vec![];
        let id = s.create(new_payment(""), now, &mut fx).unwrap();
        assert_eq!(
            s.approve(M, id, "1", now, &mut fx).unwrap_err().kind,
            ErrorKind::NotPaid
        );
        assert_eq!(
            s.resend(M, id, now, &mut fx).unwrap_err().kind,
            ErrorKind::NotPaid
        );
        s.start_pay(M, id, profile("77077777701").unwrap(), now, &mut fx)
            .unwrap();
        let again = s
            .start_pay(M, id, profile("77077777701").unwrap(), now, &mut fx)
            .unwrap_err();
        assert_eq!(again.kind, ErrorKind::AlreadyPaid);
        assert_eq!(
            s.approve(M, id, "1", now, &mut fx).unwrap_err().kind,
            ErrorKind::PaymentFinished
        );
        assert_eq!(
            s.approve(M, id + 1, "1", now, &mut fx).unwrap_err().kind,
            ErrorKind::UnknownPayment
        );
        assert_eq!(
            s.approve("other", id, "1", now, &mut fx).unwrap_err().kind,
            ErrorKind::UnknownPayment
        );
    }

    #[test]
    fn unfinished_payments_expire_with_their_lifetime() {
        let mut s = store();
        let now = Now::current();
        let mut fx = vec![];
        let id = s.create(new_payment(""), now, &mut fx).unwrap();
        let later = now.plus(Duration::from_secs(301));
        let f = s.status(M, Some(id), None, later, &mut fx).unwrap();
        assert_eq!(f.get("pg_payment_status"), Some("error"));
        assert_eq!(f.get("pg_failure_code"), Some("10018"));
        let err = s
            .start_pay(M, id, profile("77017777777").unwrap(), later, &mut fx)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PaymentExpired);
        assert_eq!(fx.len(), 1, "one result callback for the failure");
    }

    #[test]
    fn status_by_order_id_finds_the_latest_payment() {
        let mut s = store();
        let now = Now::current();
        let mut fx = vec![];
        let _first = s.create(new_payment("ord"), now, &mut fx).unwrap();
        let second = s.create(new_payment("ord"), now, &mut fx).unwrap();
        let f = s.status(M, None, Some("ord"), now, &mut fx).unwrap();
        assert_eq!(f.get("pg_payment_id"), Some(second.to_string().as_str()));
        assert_eq!(
            s.status(M, None, Some("nope"), now, &mut fx)
                .unwrap_err()
                .kind,
            ErrorKind::UnknownPayment
        );
        assert_eq!(
            s.status("x", None, Some("ord"), now, &mut fx)
                .unwrap_err()
                .kind,
            ErrorKind::UnknownPayment
        );
    }

    #[test]
    fn the_cap_evicts_finished_payments_then_refuses() {
        let mut s = Store::new(rules(), 2, Duration::from_secs(3600), None);
        let now = Now::current();
        let mut fx = vec![];
        let a = s.create(new_payment("a"), now, &mut fx).unwrap();
        s.start_pay(M, a, profile("77017777701").unwrap(), now, &mut fx)
            .unwrap();
        let _b = s.create(new_payment("b"), now, &mut fx).unwrap();
        let _c = s.create(new_payment("c"), now, &mut fx).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.status(M, Some(a), None, now, &mut fx).unwrap_err().kind,
            ErrorKind::UnknownPayment
        );
        assert_eq!(
            s.create(new_payment("d"), now, &mut fx).unwrap_err().kind,
            ErrorKind::StoreFull
        );
        // Once their lifetime and retention are over, payments make room again.
        let much_later = now.plus(Duration::from_secs(300 + 3600));
        s.create(new_payment("e"), much_later, &mut fx).unwrap();
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn emulator_at_its_limits_evicts_the_oldest_finished_and_keeps_the_newest_and_unfinished() {
        let mut s = Store::new(rules(), 5, Duration::from_secs(3600), None);
        let now = Now::current();
        let mut fx = vec![];
        let finished_now = |s: &mut Store, fx: &mut Vec<Effect>| {
            let id = s.create(new_payment(""), now, fx).unwrap();
            // Phones ending 01 are charged at once: the payment is final.
            s.start_pay(M, id, profile("77017777701").unwrap(), now, fx)
                .unwrap();
            id
        };
        let open1 = s.create(new_payment("1"), now, &mut fx).unwrap();
        let done2 = finished_now(&mut s, &mut fx);
        let open3 = s.create(new_payment("3"), now, &mut fx).unwrap();
        let done4 = finished_now(&mut s, &mut fx);
        let open5 = s.create(new_payment("5"), now, &mut fx).unwrap();
        let held = |s: &mut Store, id| s.summary(id, now, &mut vec![]).is_some();
        let open6 = s.create(new_payment("6"), now, &mut fx).unwrap();
        assert!(!held(&mut s, done2), "the oldest finished one makes room");
        assert!(held(&mut s, done4) && held(&mut s, open1));
        let open7 = s.create(new_payment("7"), now, &mut fx).unwrap();
        assert!(!held(&mut s, done4));
        for id in [open1, open3, open5, open6, open7] {
            assert!(held(&mut s, id), "unfinished payment {id} is kept");
        }
        assert_eq!(
            s.create(new_payment("8"), now, &mut fx).unwrap_err().kind,
            ErrorKind::StoreFull,
            "every held payment is in flight"
        );
        // A wrong code too many fails open3: it becomes the one to drop.
        s.start_pay(M, open3, profile("77017777777").unwrap(), now, &mut fx)
            .unwrap();
        for _ in 0..3 {
            let _ = s.approve(M, open3, "000000", now, &mut fx);
        }
        let newest = s.create(new_payment("9"), now, &mut fx).unwrap();
        assert!(!held(&mut s, open3) && held(&mut s, newest));
        // When lifetimes end, the expired payments are final (with their callback) and the
        // oldest goes first; past retention, every expired one is forgotten.
        let expired = now.plus(Duration::from_secs(301));
        fx.clear();
        let after = s.create(new_payment("10"), expired, &mut fx).unwrap();
        assert_eq!(
            fx.len(),
            5,
            "one result callback per expired payment: {fx:?}"
        );
        assert!(s.summary(open1, expired, &mut vec![]).is_none());
        assert!(s.summary(open5, expired, &mut vec![]).is_some());
        let forgotten = now.plus(Duration::from_secs(301 + 3600));
        s.create(new_payment("11"), forgotten, &mut fx).unwrap();
        assert_eq!(
            s.len(),
            2,
            "only the two payments made after the others expired"
        );
        assert!(s.summary(after, forgotten, &mut vec![]).is_some());
    }

    #[test]
    fn emulator_at_its_limits_pages_through_every_payment_exactly_once() {
        let mut s = Store::new(rules(), 100, Duration::from_secs(3600), None);
        let now = Now::current();
        let ids: Vec<u64> = (0..23)
            .map(|i| {
                s.create(new_payment(&i.to_string()), now, &mut vec![])
                    .unwrap()
            })
            .collect();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let (page, total) = s.summaries(after, 5, now, &mut vec![]);
            assert_eq!(total, 23);
            seen.extend(page.iter().map(|p| p.id));
            match page.last() {
                Some(last) if page.len() == 5 => after = Some(last.id),
                _ => break,
            }
        }
        assert_eq!(seen, ids);
    }

    #[test]
    fn seeds_make_ids_and_codes_repeat() {
        let run = || {
            let mut s = store();
            let now = Now::current();
            let mut fx = vec![];
            let id = s.create(new_payment(""), now, &mut fx).unwrap();
            s.start_pay(M, id, profile("77011234567").unwrap(), now, &mut fx)
                .unwrap();
            (id, s.sms_code("77011234567").unwrap())
        };
        assert_eq!(run(), run());
        let mut s = store();
        let first = run();
        let now = Now::current();
        s.reset();
        assert_eq!(
            s.create(new_payment(""), now, &mut vec![]).unwrap(),
            first.0
        );
    }
}

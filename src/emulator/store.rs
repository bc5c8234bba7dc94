//! The emulator's memory: payments by id (bounded, expiring), the order-id index, the last SMS
//! code sent to each phone, and the generator of payment ids and codes.
//!
//! One `Mutex<Store>` guards it all; every call takes the lock once, briefly, and never across
//! an await, so concurrent calls on one payment see one consistent order of transitions.
//!
//! Bounds: a payment is forgotten `retention` after its lifetime ends. When `max_payments`
//! are held, expired ones are swept first, then the oldest finished one is dropped; if every
//! held payment is still in flight, init is refused (`store_full`) rather than losing one.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::gateway::Fields;

use super::callbacks::CheckVerdict;
use super::clock::Now;
use super::errors::{ErrorKind, Rejection};
use super::payment::{Approved, Charged, Effect, NewPayment, PayStart, Payment, Rules};
use super::phones::PhoneProfile;

/// How often (in inserts) expired payments are swept even below the cap.
const SWEEP_EVERY: u64 = 1024;

/// The last code sent to a phone.
#[derive(Debug, Clone)]
struct SentCode {
    code: String,
    at: Instant,
}

/// A snapshot of one payment for the admin API.
#[derive(Debug, Clone)]
pub(crate) struct PaymentSummary {
    pub merchant_id: String,
    pub state: &'static str,
    pub attempts_left: Option<u32>,
    pub resends: Option<u32>,
    pub operator: Option<&'static str>,
    /// Init's `pg_description`, for the payer's page.
    pub description: String,
    pub status: Fields,
}

#[derive(Debug)]
pub(crate) struct Store {
    payments: BTreeMap<u64, Payment>,
    /// (merchant, order id) → the latest payment with that order id.
    orders: HashMap<(String, String), u64>,
    sms: HashMap<String, SentCode>,
    rng: fastrand::Rng,
    seed: Option<u64>,
    next_id: u64,
    inserts: u64,
    rules: Rules,
    max_payments: usize,
    retention: Duration,
}

impl Store {
    pub fn new(rules: Rules, max_payments: usize, retention: Duration, seed: Option<u64>) -> Self {
        let mut store = Store {
            payments: BTreeMap::new(),
            orders: HashMap::new(),
            sms: HashMap::new(),
            rng: fastrand::Rng::new(),
            seed,
            next_id: 0,
            inserts: 0,
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
        self.orders.clear();
        self.sms.clear();
        self.inserts = 0;
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
        self.inserts += 1;
        if self.payments.len() >= self.max_payments || self.inserts.is_multiple_of(SWEEP_EVERY) {
            self.sweep(now, effects);
        }
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
        self.payments.insert(id, Payment::new(id, data, now));
        Ok(id)
    }

    /// Expires what time has ended and forgets payments past their retention.
    fn sweep(&mut self, now: Now, effects: &mut Vec<Effect>) {
        let rules = &self.rules;
        let mut gone = Vec::new();
        for (id, payment) in self.payments.iter_mut() {
            payment.refresh(now, rules, effects);
            if now.instant >= payment.expires_at + self.retention {
                gone.push(*id);
            }
        }
        for id in gone {
            self.forget(id);
        }
    }

    fn evict_oldest_finished(&mut self) -> bool {
        let oldest = self
            .payments
            .iter()
            .find(|(_, p)| p.is_final())
            .map(|(id, _)| *id);
        match oldest {
            Some(id) => {
                self.forget(id);
                true
            }
            None => false,
        }
    }

    fn forget(&mut self, id: u64) {
        if let Some(p) = self.payments.remove(&id) {
            let key = (p.data.merchant_id, p.data.order_id);
            if self.orders.get(&key) == Some(&id) {
                self.orders.remove(&key);
            }
        }
    }

    fn record_code(&mut self, phone: &str, code: &str, now: Now) {
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

    /// Pay, first half: either charged, or a check callback to make first.
    pub fn start_pay(
        &mut self,
        merchant: &str,
        id: u64,
        phone: PhoneProfile,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<PayStart, Rejection> {
        let phone_number = phone.phone.clone();
        let p = lookup(&mut self.payments, &self.rules, merchant, id, now, effects)?;
        let start = p.start_pay(phone, now, &self.rules, &mut self.rng, effects)?;
        if let PayStart::Charged(Charged::NeedApprove { code }) = &start {
            self.record_code(&phone_number, code, now);
        }
        Ok(start)
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
        let p = lookup(&mut self.payments, &self.rules, merchant, id, now, effects)?;
        let phone = p.user_phone().to_owned();
        let charged = p.finish_check(verdict, now, &self.rules, &mut self.rng, effects)?;
        if let Charged::NeedApprove { code } = &charged {
            self.record_code(&phone, code, now);
        }
        Ok(charged)
    }

    pub fn approve(
        &mut self,
        merchant: &str,
        id: u64,
        code: &str,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<Approved, Rejection> {
        lookup(&mut self.payments, &self.rules, merchant, id, now, effects)?.approve(
            code,
            now,
            &self.rules,
            effects,
        )
    }

    pub fn resend(
        &mut self,
        merchant: &str,
        id: u64,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Result<(), Rejection> {
        let p = lookup(&mut self.payments, &self.rules, merchant, id, now, effects)?;
        let phone = p.user_phone().to_owned();
        let code = p.resend(now, &self.rules, &mut self.rng)?;
        self.record_code(&phone, &code, now);
        Ok(())
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
        Ok(lookup(&mut self.payments, &self.rules, merchant, id, now, effects)?.status_fields())
    }

    /// The scheduled end of a `processing` payment.
    pub fn settle(&mut self, id: u64, now: Now, effects: &mut Vec<Effect>) {
        if let Some(p) = self.payments.get_mut(&id) {
            p.settle(now, &self.rules, effects);
        }
    }

    /// Every payment, oldest first, for the admin API.
    pub fn summaries(&mut self, now: Now, effects: &mut Vec<Effect>) -> Vec<PaymentSummary> {
        let rules = &self.rules;
        self.payments
            .values_mut()
            .map(|p| {
                p.refresh(now, rules, effects);
                summary(p)
            })
            .collect()
    }

    pub fn summary(
        &mut self,
        id: u64,
        now: Now,
        effects: &mut Vec<Effect>,
    ) -> Option<PaymentSummary> {
        let p = self.payments.get_mut(&id)?;
        p.refresh(now, &self.rules, effects);
        Some(summary(p))
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
        super::payment::State::AwaitingCode(c) => (Some(c.attempts_left), Some(c.resends)),
        _ => (None, None),
    };
    PaymentSummary {
        merchant_id: p.data.merchant_id.clone(),
        state: p.state_name(),
        attempts_left,
        resends,
        operator: p.phone.as_ref().map(|ph| ph.operator.code()),
        description: p.data.description.clone(),
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

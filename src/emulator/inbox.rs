//! The SMS inbox: every code "the phone" received, newest last, bounded — what a developer
//! clicking through a checkout reads instead of a real phone. The store fills it as codes go
//! out (pay, resend code) and marks a code used when approve accepts it; whether an unused
//! code is still awaited, expired or replaced is read from its payment when the inbox is shown.

use std::collections::{HashSet, VecDeque};
use std::time::{Instant, SystemTime};

/// Messages kept; the oldest go first.
pub(crate) const MESSAGES_KEPT: usize = 1000;

/// One SMS with a confirmation code.
#[derive(Debug, Clone)]
pub(crate) struct SmsMessage {
    pub phone: String,
    pub code: String,
    pub payment_id: u64,
    pub sent: SystemTime,
    pub sent_at: Instant,
    /// Approve accepted this code.
    pub used: bool,
}

/// What became of a code, as the inbox shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeFate {
    /// The payment awaits it now.
    Waiting,
    /// Approve accepted it.
    Used,
    /// Older than the code lifetime; resend code sends a new one.
    Expired,
    /// A newer code went out for the same payment.
    Replaced,
    /// The payment ended (failed, expired, forgotten) without it.
    Unused,
}

impl CodeFate {
    pub fn name(self) -> &'static str {
        match self {
            CodeFate::Waiting => "waiting",
            CodeFate::Used => "used",
            CodeFate::Expired => "expired",
            CodeFate::Replaced => "replaced",
            CodeFate::Unused => "unused",
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Inbox {
    messages: VecDeque<SmsMessage>,
}

impl Inbox {
    pub fn push(&mut self, message: SmsMessage) {
        if self.messages.len() >= MESSAGES_KEPT {
            self.messages.pop_front();
        }
        self.messages.push_back(message);
    }

    /// Marks the payment's latest message as used (approve accepted its code).
    pub fn mark_used(&mut self, payment_id: u64) {
        if let Some(m) = self
            .messages
            .iter_mut()
            .rev()
            .find(|m| m.payment_id == payment_id)
        {
            m.used = true;
        }
    }

    /// Messages newest first, with whether a newer one went out for the same payment.
    pub fn newest(&self) -> Vec<(&SmsMessage, bool)> {
        let mut later = HashSet::new();
        self.messages
            .iter()
            .rev()
            .map(|m| (m, !later.insert(m.payment_id)))
            .collect()
    }

    pub fn clear(&mut self) {
        self.messages.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(payment_id: u64, code: &str) -> SmsMessage {
        SmsMessage {
            phone: "77017777777".into(),
            code: code.into(),
            payment_id,
            sent: SystemTime::now(),
            sent_at: Instant::now(),
            used: false,
        }
    }

    #[test]
    fn newest_first_with_replacements_and_the_used_mark() {
        let mut inbox = Inbox::default();
        inbox.push(sms(1, "111"));
        inbox.push(sms(2, "222"));
        inbox.push(sms(1, "333"));
        inbox.mark_used(1);
        let seen: Vec<_> = inbox
            .newest()
            .into_iter()
            .map(|(m, replaced)| (m.code.as_str(), replaced, m.used))
            .collect();
        assert_eq!(
            seen,
            [
                ("333", false, true),
                ("222", false, false),
                ("111", true, false)
            ]
        );
    }

    #[test]
    fn bounded() {
        let mut inbox = Inbox::default();
        for i in 0..MESSAGES_KEPT as u64 + 3 {
            inbox.push(sms(i, "1"));
        }
        assert_eq!(inbox.newest().len(), MESSAGES_KEPT);
        assert_eq!(inbox.newest().last().unwrap().0.payment_id, 3);
    }
}

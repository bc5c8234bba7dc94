//! Fault injection: rules that make a route misbehave the way real networks and gateways do —
//! added latency, HTTP 500/502/503 from a proxy, malformed XML, a truncated body, a dropped
//! connection — once, N times or always. Set through `POST /_emulator/faults`.
//!
//! Phases matter for money: a fault `before` the call means the gateway never saw it; `after`
//! means the payment moved but the answer was lost or spoiled, which is what a client that
//! retries money-moving calls gets wrong. HTTP errors and dropped connections take either phase
//! (default `before`); malformed XML and truncation spoil the real answer, so they are always
//! `after`; latency delays the call before it is processed.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::gateway::{Fields, Operation};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultKind {
    Latency,
    Http(u16),
    MalformedXml,
    Truncated,
    Drop,
}

impl FaultKind {
    fn parse(text: &str) -> Option<FaultKind> {
        Some(match text {
            "latency" => FaultKind::Latency,
            "http500" | "500" => FaultKind::Http(500),
            "http502" | "502" => FaultKind::Http(502),
            "http503" | "503" => FaultKind::Http(503),
            "malformed_xml" => FaultKind::MalformedXml,
            "truncated" => FaultKind::Truncated,
            "drop" => FaultKind::Drop,
            _ => return None,
        })
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Latency => f.write_str("latency"),
            FaultKind::Http(code) => write!(f, "http{code}"),
            FaultKind::MalformedXml => f.write_str("malformed_xml"),
            FaultKind::Truncated => f.write_str("truncated"),
            FaultKind::Drop => f.write_str("drop"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Before,
    After,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::After => "after",
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FaultRule {
    pub id: u64,
    /// `None`: every gateway route.
    pub route: Option<Operation>,
    pub kind: FaultKind,
    pub delay: Duration,
    pub phase: Phase,
    /// `None`: always.
    pub remaining: Option<u32>,
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FaultAction {
    pub kind: FaultKind,
    pub delay: Duration,
    pub phase: Phase,
}

/// The active rules. A flag spares the lock on the hot path when there are none.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    any: AtomicBool,
    next_id: AtomicU64,
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule (its id is assigned here) and returns it.
    pub fn add(&self, mut rule: FaultRule) -> FaultRule {
        rule.id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut rules = self.rules();
        rules.push(rule.clone());
        self.any.store(true, Ordering::Release);
        rule
    }

    pub fn clear(&self) {
        let mut rules = self.rules();
        rules.clear();
        self.any.store(false, Ordering::Release);
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules().clone()
    }

    /// The fault for this request, if a rule matches: the oldest matching rule fires and
    /// loses one of its remaining uses.
    pub fn take(&self, op: &Operation) -> Option<FaultAction> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let mut rules = self.rules();
        let index = rules
            .iter()
            .position(|r| r.route.as_ref().is_none_or(|route| route == op))?;
        let rule = &mut rules[index];
        let action = FaultAction {
            kind: rule.kind,
            delay: rule.delay,
            phase: rule.phase,
        };
        if let Some(n) = &mut rule.remaining {
            *n = n.saturating_sub(1);
            if *n == 0 {
                rules.remove(index);
                self.any.store(!rules.is_empty(), Ordering::Release);
            }
        }
        Some(action)
    }
}

/// Reads a rule from admin parameters: `route`, `kind`, `delay_ms`, `times`, `phase`.
pub(crate) fn parse_rule(params: &Fields) -> Result<FaultRule, String> {
    const KINDS: &str = "latency, http500, http502, http503, malformed_xml, truncated, drop";
    for (name, _) in params.iter() {
        if !["route", "kind", "delay_ms", "times", "phase"].contains(&name) {
            return Err(format!(
                "failed to read the fault: unknown parameter `{name}` (expected route, kind, delay_ms, times, phase)"
            ));
        }
    }
    let route = match params.get("route").unwrap_or("all") {
        "all" | "*" => None,
        name => Some(Operation::from_name(name).ok_or_else(|| {
            format!("failed to read the fault: unknown route `{name}` (expected init, pay, approve, resend_code, status or all)")
        })?),
    };
    let kind_text = params
        .get("kind")
        .ok_or_else(|| format!("failed to read the fault: `kind` is required ({KINDS})"))?;
    let kind = FaultKind::parse(kind_text).ok_or_else(|| {
        format!("failed to read the fault: unknown kind `{kind_text}` (expected {KINDS})")
    })?;
    let delay = match params.get("delay_ms") {
        Some(ms) => Duration::from_millis(ms.parse().map_err(|_| {
            format!("failed to read the fault: delay_ms `{ms}` is not a whole number")
        })?),
        None if kind == FaultKind::Latency => {
            return Err("failed to read the fault: latency needs delay_ms".into());
        }
        None => Duration::ZERO,
    };
    let remaining = match params.get("times").unwrap_or("once") {
        "once" => Some(1),
        "always" => None,
        n => match n.parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(format!(
                    "failed to read the fault: times `{n}` must be once, always or a positive number"
                ));
            }
        },
    };
    let phase = match (kind, params.get("phase")) {
        (FaultKind::MalformedXml | FaultKind::Truncated, None | Some("after")) => Phase::After,
        (FaultKind::Latency, None | Some("before")) => Phase::Before,
        (FaultKind::Http(_) | FaultKind::Drop, None | Some("before")) => Phase::Before,
        (FaultKind::Http(_) | FaultKind::Drop, Some("after")) => Phase::After,
        (_, Some(other)) => {
            return Err(format!(
                "failed to read the fault: phase `{other}` does not apply to {kind}"
            ));
        }
    };
    Ok(FaultRule {
        id: 0,
        route,
        kind,
        delay,
        phase,
        remaining,
    })
}

/// What a proxy in front of the gateway sends for an HTTP error.
pub(crate) fn http_error_body(code: u16) -> String {
    let reason = match code {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    format!(
        "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// The answer with its closing tag misspelt: it looks like XML but does not parse.
pub(crate) fn malformed(body: &str) -> String {
    match body.rfind("</response>") {
        Some(i) => format!(
            "{}</respons>{}",
            &body[..i],
            &body[i + "</response>".len()..]
        ),
        None => format!("{body}<"),
    }
}

/// The first half of the answer, cut at a character boundary.
pub(crate) fn truncated(body: &str) -> String {
    let mut cut = body.len() / 2;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    body[..cut].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::xml::Document;

    fn params(pairs: &[(&str, &str)]) -> Fields {
        pairs.iter().copied().collect()
    }

    #[test]
    fn rules_fire_the_given_number_of_times_oldest_first() {
        let faults = Faults::default();
        assert_eq!(faults.take(&Operation::Pay), None);
        faults.add(
            parse_rule(&params(&[
                ("route", "pay"),
                ("kind", "http503"),
                ("times", "2"),
            ]))
            .unwrap(),
        );
        faults.add(
            parse_rule(&params(&[
                ("kind", "latency"),
                ("delay_ms", "5"),
                ("times", "always"),
            ]))
            .unwrap(),
        );
        assert_eq!(
            faults.take(&Operation::Pay).unwrap().kind,
            FaultKind::Http(503)
        );
        assert_eq!(
            faults.take(&Operation::Status).unwrap().kind,
            FaultKind::Latency
        );
        assert_eq!(
            faults.take(&Operation::Pay).unwrap().kind,
            FaultKind::Http(503)
        );
        for _ in 0..3 {
            assert_eq!(
                faults.take(&Operation::Pay).unwrap().kind,
                FaultKind::Latency
            );
        }
        faults.clear();
        assert_eq!(faults.take(&Operation::Pay), None);
    }

    #[test]
    fn parameters_are_checked() {
        let rule = parse_rule(&params(&[("kind", "drop"), ("phase", "after")])).unwrap();
        assert_eq!(
            (rule.route, rule.phase, rule.remaining),
            (None, Phase::After, Some(1))
        );
        let rule = parse_rule(&params(&[("kind", "truncated")])).unwrap();
        assert_eq!(rule.phase, Phase::After);
        for bad in [
            &[("kind", "explode")][..],
            &[("route", "refund"), ("kind", "drop")],
            &[("kind", "latency")],
            &[("kind", "drop"), ("times", "0")],
            &[("kind", "truncated"), ("phase", "before")],
            &[("kind", "drop"), ("colour", "red")],
            &[],
        ] {
            let err = parse_rule(&params(bad)).unwrap_err();
            assert!(err.starts_with("failed to read the fault"), "{err}");
        }
    }

    #[test]
    fn spoiled_answers_do_not_parse() {
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response>\n  <pg_status>ok</pg_status>\n  <pg_description>Оплата</pg_description>\n</response>\n";
        assert!(Document::parse(body.as_bytes()).is_ok());
        assert!(Document::parse(malformed(body).as_bytes()).is_err());
        let cut = truncated(body);
        assert!(cut.len() < body.len());
        assert!(Document::parse(cut.as_bytes()).is_err());
    }
}

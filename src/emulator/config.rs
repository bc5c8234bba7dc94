//! The emulator's configuration: merchants and their keys, the seed, routes, the SMS code
//! rules, bounds and callback timing — in code ([`EmulatorConfig`]: its [`Default`] and a
//! `with_*` method per setting; every field can be read) or in a YAML file (format version 1,
//! unknown keys refused):
//!
//! ```yaml
//! version: 1                   # optional; only 1 is known
//! bind: 127.0.0.1:8080         # default 127.0.0.1:0 (any free port)
//! merchants:                   # replaces the demo merchant when given
//!   "552170": fph-emulator-demo-secret
//! seed: 42                     # payment ids and SMS codes repeat from run to run
//! routes:                      # any of init, pay, approve, resend_code, status
//!   resend_code: /mfs/resend_code
//! approve_delay: 500ms         # approve → `process` → success, for test phones ending 02
//! code_attempts: 3             # wrong codes allowed per SMS, the last one fails the payment
//! code_lifetime: 5m
//! resend_limit: 3
//! resend_cooldown: 0s          # minimum time since the last SMS before resend code
//! max_payments: 100000
//! payment_retention: 1h        # how long a payment is kept after its pg_lifetime ends
//! callback_retry_interval: 1s  # the docs' 30 minutes, scaled down
//! callback_retries: 4          # the docs' 2 hours / 30 minutes
//! callback_timeout: 5s
//! body_limit: 1MiB             # bytes, or with KiB / MiB
//! worker_threads: 2            # default: the number of CPUs
//! shutdown_grace: 5s
//! header_read_timeout: 10s     # a client that sends its headers slower is closed
//! error_codes:                 # any name of the error table in docs/emulator.md
//!   wrong_code: 8020
//! answer_changes:              # a changed gateway, for drift checks (see changes.rs)
//!   - { call: pay, status: { need_approve: approve_needed } }
//! ```
//!
//! A value the emulator cannot use (a `bind` that is no address, an unknown `version`, an
//! empty merchant key, a route under `/_emulator/`, …) is refused at its file, line and
//! column, with the fix: every check names its setting, and `config_problem.rs` finds where
//! the file writes it.
//!
//! Durations are written as everywhere else (`harness.yaml`, scenarios): a whole number and a
//! unit, `ms`, `s`, `m`, `h` or `d` ([`parse_duration`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::gateway::{Operation, Routes, SecretKey};
use crate::utc::parse_duration;

use super::changes::{AnswerChange, RawAnswerChange};
use super::config_problem::ConfigProblem;
use super::error::EmulatorError;
use super::errors::{ErrorCodes, RawErrorCodes};

/// The admin API's path prefix: reserved, no gateway route may use it.
pub(crate) const ADMIN_PREFIX: &str = "/_emulator";

/// The demo merchant every emulator knows unless told otherwise; the harness uses the same
/// credentials for its built-in emulator target, so nothing needs configuring.
pub const DEMO_MERCHANT_ID: &str = "552170";
/// The demo merchant's secret key. Not a secret: it only ever signs for the emulator.
pub const DEMO_SECRET_KEY: &str = "fph-emulator-demo-secret";

/// Everything the emulator can be told. Built from [`Default`] with a `with_*` method per
/// setting (new settings can come without breaking a caller, so it has no public literal):
///
/// ```
/// use std::time::Duration;
/// use freedompay_harness::emulator::EmulatorConfig;
///
/// let config = EmulatorConfig::default()
///     .with_seed(7)
///     .with_merchant("1000", "merchant-test-key")
///     .with_approve_delay(Duration::from_millis(50));
/// assert_eq!(config.seed, Some(7));
/// assert!(config.merchants.contains_key("552170"), "the demo merchant stays");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// Where to listen; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Merchant id → secret key.
    pub merchants: BTreeMap<String, SecretKey>,
    /// When set, payment ids and random SMS codes are the same on every run.
    pub seed: Option<u64>,
    pub routes: Routes,
    /// How long a `process` approve takes to become success.
    pub approve_delay: Duration,
    /// Wrong codes allowed per SMS; the last one fails the payment.
    pub code_attempts: u32,
    pub code_lifetime: Duration,
    /// Resend code calls allowed per payment.
    pub resend_limit: u32,
    /// Minimum time since the last SMS before resend code is accepted.
    pub resend_cooldown: Duration,
    /// Payments held at most (see the store's eviction rule).
    pub max_payments: usize,
    /// How long a payment is kept after its lifetime ends.
    pub payment_retention: Duration,
    pub callback_retry_interval: Duration,
    /// Retries after the first attempt of an unanswered result callback.
    pub callback_retries: u32,
    pub callback_timeout: Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    pub error_codes: ErrorCodes,
    /// Server threads; `None` means one per CPU.
    pub worker_threads: Option<usize>,
    /// How long [`shutdown`](super::RunningEmulator::shutdown) waits for calls in flight.
    pub shutdown_grace: Duration,
    /// How long a client may take to send a request's headers (from when the server starts
    /// waiting for them, so also how long an idle keep-alive connection stays open) before
    /// the connection is closed: a slow or stalled client cannot hold the server's tasks.
    pub header_read_timeout: Duration,
    /// Edits to the answers, as a changed gateway would make (see `changes.rs`).
    pub answer_changes: Vec<AnswerChange>,
    /// Print one line per gateway call to standard error (`fph emulator` does; the harness's
    /// in-process emulator does not): the call, its outcome and, for a refusal, the hint.
    pub log_requests: bool,
    /// The token the web console (`/_emulator/ui`) asks for. Bound to a loopback address the
    /// console is open without one; bound to any other address it is off without one.
    pub console_token: Option<String>,
    /// Serve a recording instead of running payments (`fph emulator --replay`, see
    /// `replay.rs`): the emulator checks merchants and signatures, the source finds answers.
    #[cfg(feature = "emulator")]
    pub replay: Option<std::sync::Arc<dyn super::replay::ReplaySource>>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            merchants: BTreeMap::from([(
                DEMO_MERCHANT_ID.to_owned(),
                SecretKey::new(DEMO_SECRET_KEY),
            )]),
            seed: None,
            routes: Routes::default(),
            approve_delay: Duration::from_millis(500),
            code_attempts: 3,
            code_lifetime: Duration::from_secs(300),
            resend_limit: 3,
            resend_cooldown: Duration::ZERO,
            max_payments: 100_000,
            payment_retention: Duration::from_secs(3600),
            callback_retry_interval: Duration::from_secs(1),
            callback_retries: 4,
            callback_timeout: Duration::from_secs(5),
            body_limit: 1024 * 1024,
            error_codes: ErrorCodes::default(),
            worker_threads: None,
            shutdown_grace: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(10),
            answer_changes: Vec::new(),
            log_requests: false,
            console_token: None,
            #[cfg(feature = "emulator")]
            replay: None,
        }
    }
}

/// The YAML file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    version: Option<u32>,
    bind: Option<String>,
    merchants: Option<BTreeMap<String, String>>,
    seed: Option<u64>,
    routes: Option<RawRoutes>,
    approve_delay: Option<DurationText>,
    code_attempts: Option<u32>,
    code_lifetime: Option<DurationText>,
    resend_limit: Option<u32>,
    resend_cooldown: Option<DurationText>,
    max_payments: Option<usize>,
    payment_retention: Option<DurationText>,
    callback_retry_interval: Option<DurationText>,
    callback_retries: Option<u32>,
    callback_timeout: Option<DurationText>,
    body_limit: Option<ByteSize>,
    error_codes: Option<RawErrorCodes>,
    worker_threads: Option<usize>,
    shutdown_grace: Option<DurationText>,
    header_read_timeout: Option<DurationText>,
    answer_changes: Option<Vec<RawAnswerChange>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoutes {
    init: Option<String>,
    pay: Option<String>,
    approve: Option<String>,
    resend_code: Option<String>,
    status: Option<String>,
}

/// `with_<field>(value)` for each plain setting: the same configuration with the field set.
macro_rules! setters {
    ($($method:ident => $field:ident: $ty:ty),* $(,)?) => {
        impl EmulatorConfig {
            $(
                #[doc = concat!("The same configuration with [`", stringify!($field), "`](Self::", stringify!($field), ") set.")]
                pub fn $method(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

setters! {
    with_bind => bind: SocketAddr,
    with_merchants => merchants: BTreeMap<String, SecretKey>,
    with_routes => routes: Routes,
    with_approve_delay => approve_delay: Duration,
    with_code_attempts => code_attempts: u32,
    with_code_lifetime => code_lifetime: Duration,
    with_resend_limit => resend_limit: u32,
    with_resend_cooldown => resend_cooldown: Duration,
    with_max_payments => max_payments: usize,
    with_payment_retention => payment_retention: Duration,
    with_callback_retry_interval => callback_retry_interval: Duration,
    with_callback_retries => callback_retries: u32,
    with_callback_timeout => callback_timeout: Duration,
    with_body_limit => body_limit: usize,
    with_error_codes => error_codes: ErrorCodes,
    with_shutdown_grace => shutdown_grace: Duration,
    with_header_read_timeout => header_read_timeout: Duration,
    with_answer_changes => answer_changes: Vec<AnswerChange>,
    with_log_requests => log_requests: bool,
}

impl EmulatorConfig {
    /// The same configuration with one more merchant (or a new key for a known one).
    pub fn with_merchant(mut self, id: impl Into<String>, key: impl Into<String>) -> Self {
        self.merchants.insert(id.into(), SecretKey::new(key));
        self
    }

    /// The same configuration with a [`seed`](Self::seed): payment ids and SMS codes repeat.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The same configuration with this many server threads.
    pub fn with_worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = Some(threads);
        self
    }

    /// The same configuration with a [`console_token`](Self::console_token).
    pub fn with_console_token(mut self, token: impl Into<String>) -> Self {
        self.console_token = Some(token.into());
        self
    }
}

impl EmulatorConfig {
    /// Reads a YAML configuration file; what it leaves out keeps its default.
    pub fn from_yaml_file(path: &Path) -> Result<Self, EmulatorError> {
        let text = crate::text_file::read(path).map_err(|error| {
            EmulatorError::InvalidConfig(Box::new(ConfigProblem::unreadable(&error)))
        })?;
        Self::from_yaml_str(&text, &path.display().to_string())
    }

    /// Reads YAML configuration text; `origin` names it in errors. YAML that does not read and
    /// a value the emulator cannot use are reported at their line and column (see
    /// `config_problem.rs`).
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, EmulatorError> {
        let raw: RawConfig = serde_saphyr::from_str(text).map_err(|error| {
            EmulatorError::InvalidConfig(Box::new(ConfigProblem::from_yaml(&error, origin, text)))
        })?;
        let config = raw
            .into_config()
            .and_then(|config| config.problem().map_or(Ok(config), Err));
        config
            .map_err(|problem| EmulatorError::InvalidConfig(Box::new(problem.locate(origin, text))))
    }

    /// Refuses settings the emulator cannot run with, naming the setting
    /// ([`ConfigProblem::setting`]) so a file's problem is shown at its value.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        self.problem().map_or(Ok(()), |problem| {
            Err(EmulatorError::InvalidConfig(Box::new(problem)))
        })
    }

    /// The first setting the emulator cannot run with.
    fn problem(&self) -> Option<ConfigProblem> {
        let problem = |setting: &str, message: &str, help: &str| {
            Some(ConfigProblem::new(setting, message, help))
        };
        if self.merchants.is_empty() {
            return problem(
                "merchants",
                "at least one merchant is needed",
                "add one under `merchants:`, like `\"552170\": my-test-key`",
            );
        }
        for (id, key) in &self.merchants {
            let setting = format!("merchants.{id}");
            if id.trim().is_empty() {
                return problem(
                    &setting,
                    "a merchant id is empty",
                    "write the merchant's id as the key, like `\"552170\": my-test-key`",
                );
            }
            if key.expose().is_empty() {
                return problem(
                    &setting,
                    &format!("merchant `{id}` has an empty secret key"),
                    "give it the key its requests are signed with: any text that is not empty (an emulator key signs nothing real)",
                );
            }
        }
        let at_least = |setting: &str, what: &str, example: &str| {
            problem(
                setting,
                &format!("{setting} must be at least {what}"),
                &format!("leave it out for the default, or write e.g. `{setting}: {example}`"),
            )
        };
        if self.code_attempts == 0 {
            return at_least("code_attempts", "1", "3");
        }
        if self.max_payments == 0 {
            return at_least("max_payments", "1", "100000");
        }
        if self.body_limit < 1024 {
            return at_least("body_limit", "1KiB", "1MiB");
        }
        if self.header_read_timeout.is_zero() {
            return at_least("header_read_timeout", "1ms", "10s");
        }
        if self.worker_threads == Some(0) {
            return at_least("worker_threads", "1", "2");
        }
        for op in &Operation::NAMED {
            let path = self.routes.path(op);
            if path == ADMIN_PREFIX || path.starts_with("/_emulator/") {
                return problem(
                    &format!("routes.{}", op.name()),
                    &format!(
                        "the route of {} `{path}` is under /_emulator/, the admin API",
                        op.name()
                    ),
                    &format!(
                        "route it anywhere else, e.g. `{}: {}` (the documented path)",
                        op.name(),
                        op.default_path()
                    ),
                );
            }
        }
        for (at, op) in Operation::NAMED.iter().enumerate() {
            let path = self.routes.path(op);
            let Some(other) = Operation::NAMED[..at]
                .iter()
                .find(|other| self.routes.path(other) == path)
            else {
                continue;
            };
            // Shown at the route the configuration changed, not at the documented one.
            let moved = if op.default_path() == path { other } else { op };
            return problem(
                &format!("routes.{}", moved.name()),
                &format!(
                    "{} and {} are routed to the same path `{path}`",
                    other.name(),
                    op.name()
                ),
                "give every call a path of its own",
            );
        }
        None
    }
}

impl RawConfig {
    /// The configuration the file describes, before [`EmulatorConfig::validate`]: what it
    /// leaves out keeps its default.
    fn into_config(self) -> Result<EmulatorConfig, ConfigProblem> {
        let raw = self;
        if let Some(version) = raw.version
            && version != 1
        {
            return Err(ConfigProblem::new(
                "version",
                format!("version {version} is not known"),
                "write `version: 1` or leave it out: this fph reads version 1 of the emulator configuration",
            ));
        }
        let mut config = EmulatorConfig::default();
        if let Some(bind) = raw.bind {
            config.bind = bind.parse().map_err(|_| {
                ConfigProblem::new(
                    "bind",
                    format!("bind `{bind}` is not an address like 127.0.0.1:8080"),
                    "write an IP address and a port: 127.0.0.1:8080 for this machine only, 0.0.0.0:8080 for every interface, port 0 for any free one (a host name is not looked up)",
                )
            })?;
        }
        if let Some(merchants) = raw.merchants {
            config.merchants = merchants
                .into_iter()
                .map(|(id, key)| (id, SecretKey::new(key)))
                .collect();
        }
        config.seed = raw.seed.or(config.seed);
        if let Some(routes) = raw.routes {
            for (op, path) in [
                (Operation::Init, routes.init),
                (Operation::Pay, routes.pay),
                (Operation::Approve, routes.approve),
                (Operation::ResendCode, routes.resend_code),
                (Operation::Status, routes.status),
            ] {
                if let Some(path) = path {
                    config.routes.set(&op, path);
                }
            }
        }
        for (setting, target, value) in [
            (
                "approve_delay",
                &mut config.approve_delay,
                raw.approve_delay,
            ),
            (
                "code_lifetime",
                &mut config.code_lifetime,
                raw.code_lifetime,
            ),
            (
                "resend_cooldown",
                &mut config.resend_cooldown,
                raw.resend_cooldown,
            ),
            (
                "payment_retention",
                &mut config.payment_retention,
                raw.payment_retention,
            ),
            (
                "callback_retry_interval",
                &mut config.callback_retry_interval,
                raw.callback_retry_interval,
            ),
            (
                "callback_timeout",
                &mut config.callback_timeout,
                raw.callback_timeout,
            ),
            (
                "shutdown_grace",
                &mut config.shutdown_grace,
                raw.shutdown_grace,
            ),
            (
                "header_read_timeout",
                &mut config.header_read_timeout,
                raw.header_read_timeout,
            ),
        ] {
            if let Some(value) = value {
                *target = value.duration(setting)?;
            }
        }
        config.code_attempts = raw.code_attempts.unwrap_or(config.code_attempts);
        config.resend_limit = raw.resend_limit.unwrap_or(config.resend_limit);
        config.max_payments = raw.max_payments.unwrap_or(config.max_payments);
        config.callback_retries = raw.callback_retries.unwrap_or(config.callback_retries);
        if let Some(limit) = raw.body_limit {
            config.body_limit = limit.bytes("body_limit")?;
        }
        if let Some(codes) = raw.error_codes {
            codes.apply(&mut config.error_codes);
        }
        for (index, change) in raw
            .answer_changes
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let change = change
                .into_change()
                .map_err(|problem| problem.within(&format!("answer_changes[{index}]")))?;
            config.answer_changes.push(change);
        }
        config.worker_threads = raw.worker_threads.or(config.worker_threads);
        Ok(config)
    }
}

/// `500ms`, `2s`, `5m`, `1h`, `7d`: the one duration grammar, [`parse_duration`]. Read as
/// the text the file writes, and checked with the other settings, so a duration that is
/// wrong is refused like any value the emulator cannot use: at its place, with the fix.
#[derive(Debug, Clone)]
struct DurationText(String);

/// `65536`, `64KiB`, `1MiB`: the text the file writes, checked like [`DurationText`].
#[derive(Debug, Clone)]
struct ByteSize(String);

impl DurationText {
    /// The duration, or the problem with `setting`.
    fn duration(self, setting: &str) -> Result<Duration, ConfigProblem> {
        let DurationText(text) = self;
        parse_duration(&text).map_err(|_| {
            let help = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                format!("add a unit, like `{setting}: {text}s` or `{text}ms`")
            } else {
                "write a whole number and a unit: 250ms, 2s, 1m, 1h or 7d".to_owned()
            };
            ConfigProblem::new(setting, format!("`{text}` is not a duration"), help)
        })
    }
}

impl ByteSize {
    /// The size in bytes, or the problem with `setting`.
    fn bytes(self, setting: &str) -> Result<usize, ConfigProblem> {
        let ByteSize(text) = self;
        parse_size(&text).ok_or_else(|| {
            ConfigProblem::new(
                setting,
                format!("`{text}` is not a size"),
                "write a number of bytes, or one with KiB or MiB: 65536, 64KiB or 1MiB",
            )
        })
    }
}

fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: usize = number.parse().ok()?;
    n.checked_mul(match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "KB" => 1024,
        "MiB" | "M" | "MB" => 1024 * 1024,
        _ => return None,
    })
}

/// A scalar's text, whatever its YAML type (`approve_delay: 5` is a number): what
/// [`DurationText`] and [`ByteSize`] keep to check.
struct ScalarText;

impl Visitor<'_> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single value, like 250ms or 64KiB")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarText).map(DurationText)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarText).map(ByteSize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::errors::ErrorKind;

    #[test]
    fn the_documented_example_reads() {
        let text = include_str!("config.rs")
            .lines()
            .skip_while(|l| !l.starts_with("//! ```yaml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let config = EmulatorConfig::from_yaml_str(&text, "example").unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.seed, Some(42));
        assert_eq!(config.approve_delay, Duration::from_millis(500));
        assert_eq!(config.code_lifetime, Duration::from_secs(300));
        assert_eq!(config.body_limit, 1024 * 1024);
        assert_eq!(
            config.merchants.get("552170"),
            Some(&SecretKey::new(DEMO_SECRET_KEY))
        );
        assert_eq!(config.error_codes.code(ErrorKind::WrongCode), 8020);
    }

    #[test]
    fn partial_files_keep_defaults_and_override_what_they_name() {
        let config = EmulatorConfig::from_yaml_str(
            "merchants: { 1001: abc }\nroutes: { resend_code: mfs/resend }\nerror_codes: { code_expired: 5 }\nbody_limit: 64KiB\n",
            "t",
        )
        .unwrap();
        assert_eq!(config.merchants.len(), 1);
        assert_eq!(config.merchants.get("1001"), Some(&SecretKey::new("abc")));
        assert_eq!(config.routes.path(&Operation::ResendCode), "/mfs/resend");
        assert_eq!(config.error_codes.code(ErrorKind::CodeExpired), 5);
        assert_eq!(config.body_limit, 65536);
        assert_eq!(config.code_attempts, 3);
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        for (yaml, needle) in [
            ("colour: red", "colour"),
            ("approve_delay: 5", "add a unit"),
            ("approve_delay: soon", "`soon` is not a duration"),
            ("body_limit: 1TiB", "`1TiB` is not a size"),
            ("routes: { refund: /x }", "refund"),
            ("error_codes: { wrong: 1 }", "wrong"),
            ("version: 2", "version 2"),
            ("code_attempts: 0", "code_attempts"),
            ("merchants: {}", "at least one merchant"),
            ("bind: localhost", "bind"),
            ("routes: { pay: /_emulator/pay }", "admin"),
            ("routes: { pay: /mfs/approve }", "same path"),
        ] {
            let err = EmulatorConfig::from_yaml_str(yaml, "t.yaml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{yaml}: {err}");
            assert!(err.starts_with("failed to"), "{err}");
        }
    }

    /// Issue 15, item 9: every bad input names its place. A value the emulator cannot use is
    /// reported at its file, line and column, with what is wrong and how to fix it.
    #[test]
    fn every_bad_value_names_its_place() {
        for (yaml, headline) in [
            ("bind: here\n", "e.yaml:1:7: bind `here` is not an address"),
            (
                "seed: 1\nversion: 2\n",
                "e.yaml:2:10: version 2 is not known",
            ),
            (
                "merchants:\n  \"1\": k\n  \"2\": \"\"\n",
                "e.yaml:3:8: merchant `2` has an empty secret key",
            ),
            (
                "answer_changes:\n  - { call: pay }\n  - call: refund\n",
                "e.yaml:3:11: unknown call `refund` in answer_changes",
            ),
            (
                "routes:\n  pay: /mfs/pay\n  status: _emulator/s\n",
                "e.yaml:3:11: the route of status `/_emulator/s` is under /_emulator/",
            ),
            (
                "routes: { status: /mfs/pay }\n",
                "e.yaml:1:19: pay and status are routed to the same path `/mfs/pay`",
            ),
            (
                "code_attempts: 0\n",
                "e.yaml:1:16: code_attempts must be at least 1",
            ),
            (
                "worker_threads: 0\n",
                "e.yaml:1:17: worker_threads must be at least 1",
            ),
            (
                "merchants: {}\n",
                "e.yaml:1:12: at least one merchant is needed",
            ),
        ] {
            let error = EmulatorConfig::from_yaml_str(yaml, "e.yaml").unwrap_err();
            let EmulatorError::InvalidConfig(problem) = &error else {
                panic!("{yaml}: {error}");
            };
            assert!(problem.headline().starts_with(headline), "{yaml}: {error}");
            assert!(problem.help.is_some(), "{yaml}: no fix in {error}");
            assert!(
                error.to_string().starts_with(&format!(
                    "failed to use the emulator configuration: {headline}"
                )),
                "{error}"
            );
        }
    }

    #[test]
    fn a_configuration_built_in_code_names_the_setting_without_a_place() {
        let config = EmulatorConfig {
            code_attempts: 0,
            ..EmulatorConfig::default()
        };
        let Err(EmulatorError::InvalidConfig(problem)) = config.validate() else {
            panic!("code_attempts 0 accepted");
        };
        assert_eq!(problem.setting, "code_attempts");
        assert_eq!(problem.place, None);
    }

    #[test]
    fn durations_read_as_in_harness_yaml() {
        let config = EmulatorConfig::from_yaml_str(
            "payment_retention: 1d\ncode_lifetime: 5min\napprove_delay: 0\n",
            "emulator.yaml",
        )
        .unwrap();
        assert_eq!(config.payment_retention, Duration::from_secs(86_400));
        assert_eq!(config.code_lifetime, Duration::from_secs(300));
        assert_eq!(config.approve_delay, Duration::ZERO);
        let err =
            EmulatorConfig::from_yaml_str("code_lifetime: 2w\n", "emulator.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to use the emulator configuration: emulator.yaml:1:16: `2w` is not a duration; write a whole number and a unit: 250ms, 2s, 1m, 1h or 7d"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2MiB"), Some(2 * 1024 * 1024));
        assert_eq!(parse_size("100"), Some(100));
    }
}

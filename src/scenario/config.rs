//! `scenarios/harness.yaml`: where runs may send requests and how cassettes are written.
//! Without the file every default applies; with it, only what it says changes.
//!
//! ```yaml
//! format: 1                      # required; the only version
//! default_target: emulator       # emulator (built in) unless set
//! targets:                       # emulator, sandbox, production are built in; add or adjust
//!   sandbox:
//!     pause: 2s                  # minimum pause between calls (built in: 1500ms)
//!     sms_code: "111111"         # what sms_code(phone) returns on this target (built in: 111111)
//!     encoding: urlencoded       # multipart (default), urlencoded, get, pg_xml or json
//!   staging-emulator:
//!     url: http://127.0.0.1:8080 # required for a new target
//!     pause: 0ms                 # default: 1500ms on Freedom Pay hosts, 0 elsewhere
//! routes:                        # route overrides: init, pay, approve, resend_code, status
//!   resend_code: /mfs/resend     # resend code's route is not published
//! replay_key: fph-replay-key     # public, non-secret key cassettes are re-signed with
//! redact:                        # on top of the built-in pg_merchant_id → merchant_id
//!   - { field: pg_abonent_phone, placeholder: phone }
//!   - { field_pattern: '^pg_user_', placeholder: user }
//!   - { value_pattern: '\b7\d{10}\b', placeholder: phone }
//! cassette_max_age: 90d          # older cassettes are reported as stale; default: no limit
//! cassette_too_old: warn         # warn (default: the case still runs) or fail
//! drift_ignore: [pg_salt, pg_sig] # paths `fph drift` ignores; default: gateway::VOLATILE_FIELDS
//! unsigned_error_codes: [9997, 9998, 100, 101] # errors that may come unsigned (the default)
//! answer_limit: 1MiB             # larger answers fail the step; bytes, KiB or MiB (default 1MiB)
//! ```
//!
//! A target's `encoding` is how its requests go on the wire (what the merchant's own client
//! sends); a scenario's or a step's `encoding:` overrides it.
//!
//! Credentials never come from this file: `FREEDOMPAY_MERCHANT_ID` and
//! `FREEDOMPAY_SECRET_KEY` only ([`Credentials::from_env`]). A `secret_key` or `merchant_id`
//! key in the file is refused with a message saying so, because the file is committed.
//! The built-in `emulator` target has no URL (it is started in-process) and makes its own SMS
//! codes; `production` is still refused at run time unless `--allow-production`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde_saphyr::Spanned;

use crate::gateway::target::TargetError;
use crate::gateway::{Encoding, Operation, Routes, Target};

use super::diagnostic::{ErrorKind, ScenarioError, did_you_mean};
use super::load::{Loader, regex_problem};
use super::raw::{REFUSED_CONFIG_KEYS, RawConfig, RawRedaction, RawTarget};

/// The largest answer read by default (1 MiB): real answers are a few hundred bytes.
pub const DEFAULT_ANSWER_LIMIT: usize = 1024 * 1024;

/// Error codes the real gateway answers unsigned: 9997 unknown merchant, 9998 bad signature,
/// and their legacy Platron/PayBox forms 100 (bad signature) and 101 (wrong merchant).
pub const UNSIGNED_ERROR_CODES: [&str; 4] = ["9997", "9998", "100", "101"];

/// The file names looked for, in order.
pub const CONFIG_FILES: [&str; 2] = ["harness.yaml", "harness.yml"];
/// The replay key when `harness.yaml` does not set one. Public on purpose: it signs
/// cassettes, never real requests.
pub const DEFAULT_REPLAY_KEY: &str = "fph-replay-key";
/// The pause Freedom Pay asks for between payment calls on its own hosts.
pub const GATEWAY_PAUSE: Duration = Duration::from_millis(1500);
/// The SMS code of the test server's published test phones.
pub const SANDBOX_SMS_CODE: &str = "111111";
/// Environment variable holding the merchant id.
pub const MERCHANT_ID_VAR: &str = crate::env::MERCHANT_ID;
/// Environment variable holding the merchant's secret key.
pub const SECRET_KEY_VAR: &str = crate::env::SECRET_KEY;

/// The harness configuration, validated.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HarnessConfig {
    /// The file it was read from; `None` when every default applies.
    pub file: Option<PathBuf>,
    /// The target used without `--target`/`FPH_TARGET`.
    pub default_target: String,
    /// Built-in targets first (emulator, sandbox, production), then the file's new ones.
    pub targets: Vec<TargetConfig>,
    pub routes: Routes,
    /// The public key cassettes are re-signed with.
    pub replay_key: String,
    /// Built-in rules first, then the file's, in order.
    pub redactions: Vec<Redaction>,
    /// Cassettes older than this are stale; `None`: no limit.
    pub cassette_max_age: Option<Duration>,
    /// Whether a replay of a cassette older than `cassette_max_age` fails or only warns.
    pub fail_too_old: bool,
    /// Paths a drift check ignores (values that differ on every run).
    pub drift_ignore: Vec<String>,
    /// `pg_error_code`s of the answers the gateway leaves unsigned: it cannot sign for a
    /// merchant it has not authenticated (unknown merchant, bad signature).
    pub unsigned_error_codes: Vec<String>,
    /// The largest answer read, in bytes; a larger one fails its step as "answer too large".
    pub answer_limit: usize,
}

/// A named place to send requests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TargetConfig {
    pub name: String,
    pub target: Target,
    /// Minimum pause between two calls.
    pub pause: Duration,
    /// The code `sms_code(phone)` returns here; `None` on the emulator (it makes its own)
    /// and where no fixed code is known.
    pub sms_code: Option<String>,
    /// How requests go on the wire unless a scenario or step says otherwise.
    pub encoding: Encoding,
}

/// A value to hide from cassettes, diffs, reports and error messages.
#[derive(Debug, Clone)]
pub struct Redaction {
    pub rule: RedactionRule,
    /// The name written instead (`{{phone}}` in a cassette).
    pub placeholder: String,
}

/// What a redaction matches.
#[derive(Debug, Clone)]
pub enum RedactionRule {
    /// The value of every field with this exact name.
    Field(String),
    /// The value of every field whose name matches.
    FieldPattern(Regex),
    /// Any text matching, wherever it appears.
    ValuePattern(Regex),
}

/// A target name or URL that names no target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown target `{name}`: expected {}, or an http(s) URL", .known.join(", "))]
pub struct UnknownTarget {
    pub name: String,
    pub known: Vec<String>,
}

impl Default for HarnessConfig {
    fn default() -> Self {
        HarnessConfig {
            file: None,
            default_target: "emulator".to_owned(),
            targets: builtin_targets(),
            routes: Routes::default(),
            replay_key: DEFAULT_REPLAY_KEY.to_owned(),
            redactions: builtin_redactions(),
            cassette_max_age: None,
            fail_too_old: false,
            drift_ignore: crate::gateway::VOLATILE_FIELDS.map(str::to_owned).to_vec(),
            unsigned_error_codes: UNSIGNED_ERROR_CODES.map(str::to_owned).to_vec(),
            answer_limit: DEFAULT_ANSWER_LIMIT,
        }
    }
}

fn builtin_targets() -> Vec<TargetConfig> {
    vec![
        TargetConfig {
            name: "emulator".to_owned(),
            target: Target::Emulator,
            pause: Duration::ZERO,
            sms_code: None,
            encoding: Encoding::Multipart,
        },
        TargetConfig {
            name: "sandbox".to_owned(),
            target: Target::Sandbox,
            pause: GATEWAY_PAUSE,
            sms_code: Some(SANDBOX_SMS_CODE.to_owned()),
            encoding: Encoding::Multipart,
        },
        TargetConfig {
            name: "production".to_owned(),
            target: Target::Production,
            pause: GATEWAY_PAUSE,
            sms_code: None,
            encoding: Encoding::Multipart,
        },
    ]
}

/// Every request carries the merchant id: it is always redacted.
fn builtin_redactions() -> Vec<Redaction> {
    vec![Redaction {
        rule: RedactionRule::Field("pg_merchant_id".to_owned()),
        placeholder: "merchant_id".to_owned(),
    }]
}

impl HarnessConfig {
    /// Reads `harness.yaml` (or `harness.yml`) in `dir`; every default when neither exists.
    pub fn load(dir: &Path) -> Result<HarnessConfig, ScenarioError> {
        for name in CONFIG_FILES {
            let path = dir.join(name);
            match crate::text_file::read(&path) {
                Ok(text) => return HarnessConfig::load_str(&path, &text),
                Err(error) if error.not_found => continue,
                Err(error) => return Err(ScenarioError::text_file(&error, "configuration")),
            }
        }
        Ok(HarnessConfig::default())
    }

    /// Validates configuration YAML that claims to come from `path`.
    pub fn load_str(path: &Path, text: &str) -> Result<HarnessConfig, ScenarioError> {
        // Diagnostics quote the file; they quote it with secret values crossed out (same
        // length, so every span still points at the right place).
        let shown: Arc<str> = Arc::from(crate::secret_guard::mask_config_secrets(text));
        let raw: RawConfig = serde_saphyr::from_str(text)
            .map_err(|error| ScenarioError::from_yaml(&error, path, &shown, REFUSED_CONFIG_KEYS))?;
        ConfigLoader(Loader {
            file: path,
            source: &shown,
        })
        .config(raw)
    }

    /// The target named `name`.
    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The target for `--target NAME_OR_URL`: a configured name, or a URL with the default
    /// pause for its host.
    pub fn resolve_target(&self, name_or_url: &str) -> Result<TargetConfig, UnknownTarget> {
        if let Some(target) = self.target(name_or_url.trim()) {
            return Ok(target.clone());
        }
        let unknown = || UnknownTarget {
            name: name_or_url.to_owned(),
            known: self.targets.iter().map(|t| t.name.clone()).collect(),
        };
        match Target::parse(name_or_url) {
            Ok(target @ Target::Custom(_)) => Ok(TargetConfig {
                name: target.name(),
                pause: default_pause(&target),
                sms_code: None,
                encoding: Encoding::default(),
                target,
            }),
            // `test` is Target::parse's alias for the sandbox.
            Ok(target) => self.target(&target.name()).cloned().ok_or_else(unknown),
            Err(_) => Err(unknown()),
        }
    }
}

/// `65536`, `512KiB`, `1MiB` (also `KB`/`MB`, read as powers of 1024): at least 1 KiB, a
/// limit below any real answer being surely a mistake.
fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number.parse().ok()?;
    let unit = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => return None,
    };
    number.checked_mul(unit).filter(|&bytes| bytes >= 1024)
}

fn default_pause(target: &Target) -> Duration {
    if target.is_remote_gateway() {
        GATEWAY_PAUSE
    } else {
        Duration::ZERO
    }
}

/// The merchant's credentials, from the environment only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub merchant_id: String,
    pub secret_key: crate::gateway::SecretKey,
}

/// Credentials in the environment that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error(
        "failed to read credentials: {set} is set but {unset} is not; set both, or neither to use the emulator's demo credentials"
    )]
    Incomplete {
        set: &'static str,
        unset: &'static str,
    },
    #[error(
        "failed to read credentials: {MERCHANT_ID_VAR} must be the numeric merchant id, not `{0}`"
    )]
    MerchantIdNotNumeric(String),
}

impl Credentials {
    /// Reads `FREEDOMPAY_MERCHANT_ID` and `FREEDOMPAY_SECRET_KEY`: both set, or neither
    /// (`Ok(None)`: the emulator's demo credentials apply). Empty counts as unset.
    pub fn from_env() -> Result<Option<Credentials>, CredentialsError> {
        Credentials::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env) with another source of variables (for tests).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Credentials>, CredentialsError> {
        let read = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        match (read(MERCHANT_ID_VAR), read(SECRET_KEY_VAR)) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(CredentialsError::Incomplete {
                set: MERCHANT_ID_VAR,
                unset: SECRET_KEY_VAR,
            }),
            (None, Some(_)) => Err(CredentialsError::Incomplete {
                set: SECRET_KEY_VAR,
                unset: MERCHANT_ID_VAR,
            }),
            (Some(merchant_id), Some(secret_key)) => {
                let merchant_id = merchant_id.trim().to_owned();
                if !merchant_id.chars().all(|c| c.is_ascii_digit()) {
                    return Err(CredentialsError::MerchantIdNotNumeric(merchant_id));
                }
                Ok(Some(Credentials {
                    merchant_id,
                    secret_key: crate::gateway::SecretKey::new(secret_key),
                }))
            }
        }
    }
}

struct ConfigLoader<'a>(Loader<'a>);

impl ConfigLoader<'_> {
    fn refuse_credential<T>(
        &self,
        key: &Option<Spanned<T>>,
        name: &str,
    ) -> Result<(), ScenarioError> {
        let Some(value) = key else {
            return Ok(());
        };
        let var = if name == "secret_key" {
            SECRET_KEY_VAR
        } else {
            MERCHANT_ID_VAR
        };
        Err(self
            .0
            .error(
                ErrorKind::SecretInConfig,
                format!("`{name}` does not belong in harness.yaml"),
                self.0.span(value),
            )
            .with_label("remove this")
            .with_help(format!(
                "set the {var} environment variable instead: harness.yaml is committed, and credentials come only from the environment"
            )))
    }

    fn config(&self, raw: RawConfig) -> Result<HarnessConfig, ScenarioError> {
        let l = &self.0;
        // Credentials first: whatever else is wrong, a committed secret matters most.
        self.refuse_credential(&raw.secret_key, "secret_key")?;
        self.refuse_credential(&raw.merchant_id, "merchant_id")?;
        for (_, target) in &raw.targets.0 {
            self.refuse_credential(&target.value.secret_key, "secret_key")?;
            self.refuse_credential(&target.value.merchant_id, "merchant_id")?;
        }
        if raw.format.value != 1 {
            return Err(l
                .error(
                    ErrorKind::InvalidValue,
                    format!("unsupported harness.yaml format {}", raw.format.value),
                    l.span(&raw.format),
                )
                .with_help("this fph reads format 1"));
        }

        let mut config = HarnessConfig {
            file: Some(l.file.to_owned()),
            ..HarnessConfig::default()
        };
        for (name, target) in &raw.targets.0 {
            self.target(&mut config.targets, name, target)?;
        }
        if let Some(default) = &raw.default_target {
            if config.target(&default.value).is_none() {
                let names: Vec<&str> = config.targets.iter().map(|t| t.name.as_str()).collect();
                return Err(l
                    .error(
                        ErrorKind::InvalidValue,
                        format!("unknown target `{}`", default.value),
                        l.span(default),
                    )
                    .with_label("not a configured target")
                    .with_help(match did_you_mean(&default.value, names.iter().copied()) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("targets are {}", names.join(", ")),
                    }));
            }
            config.default_target = default.value.clone();
        }
        for (operation, path) in &raw.routes.0 {
            let names: Vec<&str> = Operation::NAMED.iter().map(Operation::name).collect();
            let Some(op) = Operation::from_name(&operation.value) else {
                return Err(l
                    .error(
                        ErrorKind::UnknownCall,
                        format!("unknown call `{}`", operation.value),
                        l.span(operation),
                    )
                    .with_label("no such call")
                    .with_help(
                        match did_you_mean(&operation.value, names.iter().copied()) {
                            Some(best) => format!("did you mean `{best}`?"),
                            None => format!("routes can be set for {}", names.join(", ")),
                        },
                    ));
            };
            let text = path.value.trim();
            if text.is_empty() || text.contains(char::is_whitespace) || text.contains("://") {
                return Err(l
                    .error(
                        ErrorKind::InvalidValue,
                        format!("`{}` is not a route", path.value),
                        l.span(path),
                    )
                    .with_help("write the path on the gateway host, e.g. `/mfs/resend_code`"));
            }
            config.routes.set(&op, text);
        }
        if let Some(key) = &raw.replay_key {
            if key.value.trim().is_empty() {
                return Err(l
                    .error(
                        ErrorKind::InvalidValue,
                        "the replay key is empty",
                        l.span(key),
                    )
                    .with_help(format!(
                        "leave `replay_key` out to use `{DEFAULT_REPLAY_KEY}`"
                    )));
            }
            config.replay_key = key.value.clone();
        }
        for rule in &raw.redact {
            config.redactions.push(self.redaction(rule)?);
        }
        if let Some(age) = &raw.cassette_max_age {
            config.cassette_max_age = Some(l.duration(age)?);
        }
        if let Some(action) = &raw.cassette_too_old {
            config.fail_too_old = match action.value.as_str() {
                "warn" => false,
                "fail" => true,
                other => {
                    return Err(l
                        .error(
                            ErrorKind::InvalidValue,
                            format!("unknown cassette_too_old action `{other}`"),
                            l.span(action),
                        )
                        .with_label("not warn or fail")
                        .with_help("write `warn` (the case still runs) or `fail`"));
                }
            };
        }
        if let Some(paths) = &raw.drift_ignore {
            config.drift_ignore = paths.iter().map(|p| p.value.clone()).collect();
        }
        if let Some(codes) = &raw.unsigned_error_codes {
            config.unsigned_error_codes = codes.iter().map(|c| c.value.to_string()).collect();
        }
        if let Some(limit) = &raw.answer_limit {
            config.answer_limit = parse_size(&limit.value).ok_or_else(|| {
                l.error(
                    ErrorKind::InvalidValue,
                    format!("`{}` is not a size", limit.value),
                    l.span(limit),
                )
                .with_label("not a size")
                .with_help("write bytes, KiB or MiB, at least 1KiB: e.g. `1MiB`, `512KiB`, `65536`")
            })?;
        }
        Ok(config)
    }

    fn target(
        &self,
        targets: &mut Vec<TargetConfig>,
        name: &Spanned<String>,
        raw: &Spanned<RawTarget>,
    ) -> Result<(), ScenarioError> {
        let l = &self.0;
        let valid_name = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            return Err(l
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{}` cannot be a target name", name.value),
                    l.span(name),
                )
                .with_help("use letters, digits, `_` and `-`; the URL goes under `url:`"));
        }
        let existing = targets.iter().position(|t| t.name == name.value);
        let is_emulator = name.value == "emulator";
        if is_emulator {
            if let Some(url) = &raw.value.url {
                return Err(l
                    .error(ErrorKind::InvalidValue, "the built-in emulator has no URL", l.span(url))
                    .with_label("remove this")
                    .with_help("it is started in-process; for a standalone `fph emulator`, add a target with another name and this URL"));
            }
            if let Some(code) = &raw.value.sms_code {
                return Err(l
                    .error(
                        ErrorKind::InvalidValue,
                        "the emulator makes its own SMS codes",
                        l.span(code),
                    )
                    .with_label("remove this")
                    .with_help("sms_code(phone) asks the emulator for the code it sent"));
            }
        }
        let target = match &raw.value.url {
            Some(url) => match Target::parse(&url.value) {
                Ok(Target::Custom(parsed)) => Target::Custom(parsed),
                Err(TargetError::Host { reason, .. }) => {
                    return Err(l
                        .error(
                            ErrorKind::InvalidValue,
                            format!("the host of `{}` cannot be normalised: {reason}", url.value),
                            l.span(url),
                        )
                        .with_help(
                            "write the host name plainly, e.g. `https://test-api.freedompay.kz`",
                        ));
                }
                _ => {
                    return Err(l
                        .error(
                            ErrorKind::InvalidValue,
                            format!("`{}` is not an http(s) URL", url.value),
                            l.span(url),
                        )
                        .with_help("write the base URL, e.g. `https://test-api.freedompay.kz`"));
                }
            },
            None => match existing {
                Some(index) => targets[index].target.clone(),
                None => {
                    return Err(l
                        .error(ErrorKind::InvalidValue, format!("target `{}` has no `url`", name.value), l.span(name))
                        .with_help("a new target needs `url:`; the built-in ones are emulator, sandbox and production"));
                }
            },
        };
        let pause = match &raw.value.pause {
            Some(pause) => l.duration(pause)?,
            None => match existing {
                Some(index) => targets[index].pause,
                None => default_pause(&target),
            },
        };
        let sms_code = match &raw.value.sms_code {
            Some(code) => Some(code.value.clone()),
            None => existing.and_then(|index| targets[index].sms_code.clone()),
        };
        let encoding = match &raw.value.encoding {
            Some(encoding) => l.encoding(encoding, &encoding.value)?,
            None => existing.map_or(Encoding::default(), |index| targets[index].encoding),
        };
        let config = TargetConfig {
            name: name.value.clone(),
            target,
            pause,
            sms_code,
            encoding,
        };
        match existing {
            Some(index) => targets[index] = config,
            None => targets.push(config),
        }
        Ok(())
    }

    fn redaction(&self, raw: &Spanned<RawRedaction>) -> Result<Redaction, ScenarioError> {
        let l = &self.0;
        let RawRedaction {
            field,
            field_pattern,
            value_pattern,
            placeholder,
        } = &raw.value;
        let given = [
            field.is_some(),
            field_pattern.is_some(),
            value_pattern.is_some(),
        ]
        .into_iter()
        .filter(|g| *g)
        .count();
        if given != 1 {
            return Err(l
                .error(ErrorKind::InvalidValue, "a redaction rule needs exactly one of `field`, `field_pattern`, `value_pattern`", l.span(raw))
                .with_help("e.g. `- { field: pg_abonent_phone, placeholder: phone }`"));
        }
        let regex = |pattern: &Spanned<String>| {
            Regex::new(&pattern.value).map_err(|error| {
                l.error(
                    ErrorKind::BadRegex,
                    format!("invalid regex `{}`", pattern.value),
                    l.span(pattern),
                )
                .with_label("this pattern")
                .with_help(regex_problem(&error))
            })
        };
        let rule = if let Some(field) = field {
            RedactionRule::Field(field.value.clone())
        } else if let Some(pattern) = field_pattern {
            RedactionRule::FieldPattern(regex(pattern)?)
        } else if let Some(pattern) = value_pattern {
            RedactionRule::ValuePattern(regex(pattern)?)
        } else {
            unreachable!("exactly one rule was checked above")
        };
        let name = placeholder.value.as_str();
        if !crate::template::is_identifier(name) {
            return Err(l
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{name}` cannot be a placeholder name"),
                    l.span(placeholder),
                )
                .with_help(
                    "placeholders are written `{{name}}` in cassettes: use letters, digits and `_`",
                ));
        }
        Ok(Redaction {
            rule,
            placeholder: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<HarnessConfig, ScenarioError> {
        HarnessConfig::load_str(Path::new("scenarios/harness.yaml"), text)
    }

    fn fail(text: &str) -> String {
        load(text).unwrap_err().render_plain()
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = HarnessConfig::load(dir.path()).unwrap();
        assert_eq!(config.file, None);
        assert_eq!(config.default_target, "emulator");
        let emulator = config.target("emulator").unwrap();
        assert_eq!(
            (emulator.pause, &emulator.sms_code),
            (Duration::ZERO, &None)
        );
        let sandbox = config.target("sandbox").unwrap();
        assert_eq!(sandbox.target, Target::Sandbox);
        assert_eq!(sandbox.pause, GATEWAY_PAUSE);
        assert_eq!(sandbox.sms_code.as_deref(), Some("111111"));
        assert_eq!(config.replay_key, DEFAULT_REPLAY_KEY);
        assert!(
            matches!(&config.redactions[0].rule, RedactionRule::Field(f) if f == "pg_merchant_id")
        );
        assert_eq!(config.cassette_max_age, None);
        assert_eq!(config.routes, Routes::default());
    }

    #[test]
    fn the_documented_example_loads() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|line| !line.starts_with("//! ```yaml"))
            .skip(1)
            .take_while(|line| !line.starts_with("//! ```"))
            .map(|line| {
                format!(
                    "{}\n",
                    line.trim_start_matches("//!")
                        .strip_prefix(' ')
                        .unwrap_or("")
                )
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("harness.yaml"), example).unwrap();
        let config = HarnessConfig::load(dir.path()).unwrap();
        assert_eq!(config.file, Some(dir.path().join("harness.yaml")));
        assert_eq!(
            config.target("sandbox").unwrap().pause,
            Duration::from_secs(2)
        );
        assert_eq!(
            config.target("sandbox").unwrap().encoding,
            Encoding::Urlencoded
        );
        assert_eq!(config.answer_limit, 1024 * 1024);
        let staging = config.target("staging-emulator").unwrap();
        assert_eq!(staging.encoding, Encoding::Multipart);
        assert_eq!(staging.target.name(), "http://127.0.0.1:8080");
        assert_eq!(staging.pause, Duration::ZERO);
        assert_eq!(config.routes.path(&Operation::ResendCode), "/mfs/resend");
        assert_eq!(config.redactions.len(), 4);
        assert!(
            matches!(&config.redactions[3].rule, RedactionRule::ValuePattern(r) if r.is_match("call 77017777777 now"))
        );
        assert_eq!(
            config.cassette_max_age,
            Some(Duration::from_secs(90 * 86_400))
        );
    }

    #[test]
    fn credentials_are_refused_in_the_file() {
        assert_eq!(
            fail("format: 1\nsecret_key: abc\n"),
            "scenarios/harness.yaml:2:13: `secret_key` does not belong in harness.yaml\n  help: set the FREEDOMPAY_SECRET_KEY environment variable instead: harness.yaml is committed, and credentials come only from the environment"
        );
        let error = load("format: 1\ntargets:\n  sandbox:\n    merchant_id: 552170\n").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::SecretInConfig);
        assert!(error.hint().unwrap().contains("FREEDOMPAY_MERCHANT_ID"));
    }

    #[test]
    fn hidden_keys_are_never_suggested() {
        let error = fail("format: 1\nsecret_kye: abc\n");
        assert!(error.contains("unknown key `secret_kye`"), "{error}");
        assert!(!error.contains("did you mean `secret_key`"), "{error}");
    }

    #[test]
    fn targets_are_checked() {
        assert!(fail("format: 1\ndefault_target: sandbx\n").contains("did you mean `sandbox`?"));
        assert!(
            fail("format: 1\ntargets:\n  staging: { pause: 1s }\n")
                .contains("target `staging` has no `url`")
        );
        assert!(
            fail("format: 1\ntargets:\n  emulator: { url: \"http://x\" }\n")
                .contains("the built-in emulator has no URL")
        );
        assert!(
            fail("format: 1\ntargets:\n  emulator: { sms_code: \"1\" }\n")
                .contains("makes its own SMS codes")
        );
        assert!(
            fail("format: 1\ntargets:\n  x: { url: ftp://x }\n").contains("is not an http(s) URL")
        );
        assert!(
            fail("format: 1\ntargets:\n  sandbox: { pause: soon }\n")
                .contains("`soon` is not a duration")
        );
        let config = load("format: 1\ndefault_target: local\ntargets:\n  local: { url: \"http://127.0.0.1:9\" }\n").unwrap();
        assert_eq!(config.default_target, "local");
    }

    #[test]
    fn routes_and_other_values_are_checked() {
        assert!(
            fail("format: 1\nroutes: { resend: /x }\n").contains("did you mean `resend_code`?")
        );
        assert!(fail("format: 1\nroutes: { status: \"http://x/y\" }\n").contains("is not a route"));
        assert!(fail("format: 2\n").contains("unsupported harness.yaml format 2"));
        assert!(fail("format: 1\nredact: [{ placeholder: x }]\n").contains("exactly one of"));
        assert!(
            fail("format: 1\nredact: [{ value_pattern: '(', placeholder: x }]\n")
                .contains("invalid regex `(`")
        );
        assert!(
            fail("format: 1\nredact: [{ field: a, placeholder: 'a b' }]\n")
                .contains("cannot be a placeholder name")
        );
        assert!(fail("format: 1\nreplay_key: \"\"\n").contains("the replay key is empty"));
        assert!(fail("targets: {}\n").contains("missing field `format`"));
    }

    #[test]
    fn encodings_and_answer_limits_are_read_and_checked() {
        let config = load(
            "format: 1\ntargets:\n  emulator: { encoding: json }\n  local: { url: http://127.0.0.1:1, encoding: get }\nanswer_limit: 64KiB\n",
        )
        .unwrap();
        assert_eq!(config.target("emulator").unwrap().encoding, Encoding::Json);
        assert_eq!(config.target("local").unwrap().encoding, Encoding::Get);
        assert_eq!(config.answer_limit, 64 * 1024);
        assert_eq!(
            load("format: 1\nanswer_limit: 2048\n")
                .unwrap()
                .answer_limit,
            2048
        );
        let error = fail("format: 1\ntargets:\n  emulator: { encoding: jsn }\n");
        assert!(error.contains("unknown encoding `jsn`"), "{error}");
        assert!(error.contains("did you mean `json`?"), "{error}");
        for bad in ["10", "1 GB", "lots", "-1MiB"] {
            let error = fail(&format!("format: 1\nanswer_limit: {bad}\n"));
            assert!(error.contains("is not a size"), "{bad}: {error}");
        }
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("512 KiB"), Some(512 << 10));
    }

    #[test]
    fn targets_resolve_by_name_or_url() {
        let config = HarnessConfig::default();
        assert_eq!(
            config.resolve_target("sandbox").unwrap().target,
            Target::Sandbox
        );
        assert_eq!(
            config.resolve_target("test").unwrap().target,
            Target::Sandbox
        );
        let local = config.resolve_target("http://127.0.0.1:8080").unwrap();
        assert_eq!(local.pause, Duration::ZERO);
        let remote = config
            .resolve_target("https://test-api.freedompay.kz")
            .unwrap();
        assert_eq!(remote.pause, GATEWAY_PAUSE);
        let error = config.resolve_target("sandbx").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown target `sandbx`: expected emulator, sandbox, production, or an http(s) URL"
        );
    }

    #[test]
    fn credentials_come_from_both_variables_or_neither() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Credentials::from_lookup(env(&[])), Ok(None));
        let both = Credentials::from_lookup(env(&[
            (MERCHANT_ID_VAR, "552170"),
            (SECRET_KEY_VAR, "s3cr3t"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(both.merchant_id, "552170");
        assert_eq!(both.secret_key.expose(), "s3cr3t");
        assert_eq!(
            Credentials::from_lookup(env(&[(SECRET_KEY_VAR, "s3cr3t")])),
            Err(CredentialsError::Incomplete {
                set: SECRET_KEY_VAR,
                unset: MERCHANT_ID_VAR
            })
        );
        assert_eq!(
            Credentials::from_lookup(env(&[(MERCHANT_ID_VAR, "552170"), (SECRET_KEY_VAR, " ")]))
                .unwrap_err()
                .to_string(),
            "failed to read credentials: FREEDOMPAY_MERCHANT_ID is set but FREEDOMPAY_SECRET_KEY is not; set both, or neither to use the emulator's demo credentials"
        );
        assert!(matches!(
            Credentials::from_lookup(env(&[(MERCHANT_ID_VAR, "abc"), (SECRET_KEY_VAR, "k")])),
            Err(CredentialsError::MerchantIdNotNumeric(_))
        ));
    }
}

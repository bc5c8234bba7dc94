//! The on-disk YAML of scenarios (format 1) and of `harness.yaml`, mirrored as serde types and
//! nothing more: every struct denies unknown keys, every value the loader may point at later is
//! a [`Spanned`], and there is no `#[serde(flatten)]` or `#[serde(untagged)]` — both lose
//! locations and turn precise errors into "data did not match any variant".
//!
//! The two values that take more than one shape (a matcher: a scalar or a map; a call: a name
//! or `{ path: … }`) have hand-written visitors, so a wrong shape says what was expected. The
//! validated model is built from these types by `load/` and `config.rs`.
//!
//! With the `cli` feature they also derive their JSON Schema (`crate::schema`, for `fph schema`
//! and `fph init`); a replay-only build compiles no schemars.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor, value::MapAccessDeserializer};
use serde_saphyr::Spanned;

#[cfg(feature = "cli")]
use crate::schema;

/// A YAML mapping read in file order, keys and values spanned. Duplicate keys never reach it:
/// serde-saphyr refuses them with their location.
#[derive(Debug)]
pub(crate) struct Entries<V>(pub Vec<(Spanned<String>, Spanned<V>)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of names to values")
            }

            // `form:` with nothing after it is an empty form, not an error.
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries::default())
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Entries(entries))
            }
        }

        // `deserialize_any`, not `deserialize_map`: serde-saphyr refuses a blank value for a
        // map before the visitor could accept it as empty.
        deserializer.deserialize_any(EntriesVisitor(PhantomData))
    }
}

/// A scenario file.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "Scenario"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    /// Optional: only `1` exists.
    #[cfg_attr(feature = "cli", schemars(with = "Option<schema::ScenarioFormat>"))]
    pub format: Option<Spanned<u32>>,
    /// What the scenario shows, in a sentence; reports name its cases by it.
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub name: Spanned<String>,
    /// Labels to select scenarios by (`fph run --tag`, `FPH_TAG`).
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "Vec<String>"))]
    pub tags: Vec<Spanned<String>>,
    /// Variables every step may use as `{{ name }}`.
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "schema::Vars"))]
    pub vars: Entries<String>,
    /// One case per row; each row binds variables, and the case is named by the values that
    /// differ between rows.
    #[cfg_attr(feature = "cli", schemars(with = "Option<Vec<schema::Vars>>"))]
    pub matrix: Option<Spanned<Vec<Spanned<Entries<String>>>>>,
    /// `multipart` (default), `urlencoded`, `get`, `pg_xml`, `json`, or `{{ column }}`.
    #[cfg_attr(feature = "cli", schemars(with = "Option<schema::ScenarioEncoding>"))]
    pub encoding: Option<Spanned<String>>,
    /// The calls, in order.
    #[cfg_attr(feature = "cli", schemars(with = "Vec<RawStep>"))]
    pub steps: Spanned<Vec<Spanned<RawStep>>>,
}

/// One call of a scenario.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "Step"))]
#[cfg_attr(feature = "cli", schemars(extend("oneOf" = [{ "required": ["call"] }, { "required": ["wait"] }])))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    /// Unique in the scenario; keys the recorded interaction in a cassette.
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub id: Spanned<String>,
    /// The call to send: `init`, `pay`, `approve`, `resend_code`, `status`, or
    /// `{ path: /script.php }`. A step has `call` or `wait`.
    #[cfg_attr(feature = "cli", schemars(with = "Option<RawCall>"))]
    pub call: Option<Spanned<RawCall>>,
    /// Wait for the gateway's callback to the case's URL (`callback_url("result")` or
    /// `callback_url("check")` given to init), check its fields with `expect` and `capture`,
    /// and answer it with `reply`. It listens from when the call before it is sent.
    #[cfg_attr(feature = "cli", schemars(with = "Option<schema::WaitFor>"))]
    pub wait: Option<Spanned<String>>,
    /// How a `wait` step answers the callback (default `{ pg_status: ok }`).
    #[cfg_attr(feature = "cli", schemars(with = "Option<RawReply>"))]
    pub reply: Option<Spanned<RawReply>>,
    /// How long a `wait` step waits (`10s`, the default; `500ms`, `1m`).
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub timeout: Option<Spanned<String>>,
    /// Request fields (templates). `pg_merchant_id`, `pg_salt` and `pg_sig` are added unless
    /// set here; init also gets `pg_payment_method: mobile_commerce`.
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "schema::Form"))]
    pub form: Entries<String>,
    /// What the answer must hold: answer path (`pg_status`, `a/b/c`) to a value or matcher.
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "schema::Expectations"))]
    pub expect: Entries<RawMatcher>,
    #[cfg_attr(feature = "cli", schemars(with = "Option<RawExpectBody>"))]
    pub expect_body: Option<Spanned<RawExpectBody>>,
    /// Variables taken from the answer for later steps: variable name to answer path.
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "schema::Captures"))]
    pub capture: Entries<String>,
    /// Repeat the call until the answer matches (status only: it is the one idempotent call).
    #[cfg_attr(feature = "cli", schemars(with = "Option<RawPoll>"))]
    pub poll: Option<Spanned<RawPoll>>,
    /// This step's encoding, over the scenario's and the target's.
    #[cfg_attr(feature = "cli", schemars(with = "Option<schema::ScenarioEncoding>"))]
    pub encoding: Option<Spanned<String>>,
}

/// `reply:` of a wait step: a signed answer, or a bare HTTP status.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "Reply"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReply {
    /// `ok` (go ahead / received), `rejected` (refuse the payment), or `error`.
    #[cfg_attr(feature = "cli", schemars(with = "Option<schema::ReplyStatus>"))]
    pub pg_status: Option<Spanned<String>>,
    /// A description for the gateway (a template).
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub pg_description: Option<Spanned<String>>,
    /// Send this `pg_sig` instead of the right one: a merchant whose reply the gateway must
    /// not trust (it counts as unanswered).
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub pg_sig: Option<Spanned<String>>,
    /// Answer this HTTP status with no body instead (`500`: the gateway retries).
    #[cfg_attr(feature = "cli", schemars(with = "Option<u16>"))]
    pub http_status: Option<Spanned<u16>>,
}

/// `call: pay`, `call: { path: /refund.php }`, or
/// `call: { callback: result, to: URL, method: GET }` (a callback to the merchant's handler).
#[derive(Debug)]
pub(crate) enum RawCall {
    Name(String),
    Path(Spanned<String>),
    Callback {
        callback: Spanned<String>,
        to: Spanned<String>,
        method: Option<Spanned<String>>,
    },
}

/// The map forms of a call, read as one so a wrong mix says what is expected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallMap {
    path: Option<Spanned<String>>,
    callback: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    method: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawCall {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallVisitor;

        impl<'de> Visitor<'de> for CallVisitor {
            type Value = RawCall;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a call name (init, pay, approve, resend_code, status), { path: /script.php } or { callback: result, to: URL }",
                )
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<RawCall, E> {
                Ok(RawCall::Name(name.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawCall, A::Error> {
                let call = RawCallMap::deserialize(MapAccessDeserializer::new(map))?;
                match call {
                    RawCallMap {
                        path: Some(path),
                        callback: None,
                        to: None,
                        method: None,
                    } => Ok(RawCall::Path(path)),
                    RawCallMap {
                        path: None,
                        callback: Some(callback),
                        to: Some(to),
                        method,
                    } => Ok(RawCall::Callback {
                        callback,
                        to,
                        method,
                    }),
                    _ => Err(de::Error::custom(
                        "a call is `{ path: /script.php }`, or `{ callback: result|check, to: URL }` with an optional `method: POST|GET|XML`",
                    )),
                }
            }
        }

        deserializer.deserialize_any(CallVisitor)
    }
}

/// `expect_body: FILE.xml` or `expect_body: { file: FILE.xml, ignore: [pg_salt, pg_sig] }`.
#[derive(Debug)]
pub(crate) enum RawExpectBody {
    File(String),
    Detailed(RawExpectBodyDetailed),
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "ExpectBodyFile"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpectBodyDetailed {
    /// The expected XML answer, relative to the scenario file.
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub file: Spanned<String>,
    /// Answer paths that may differ or be absent (`pg_salt`, `pg_sig`).
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "Vec<String>"))]
    pub ignore: Vec<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawExpectBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BodyVisitor;

        impl<'de> Visitor<'de> for BodyVisitor {
            type Value = RawExpectBody;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a file name or { file: FILE, ignore: [paths] }")
            }

            fn visit_str<E: de::Error>(self, file: &str) -> Result<RawExpectBody, E> {
                Ok(RawExpectBody::File(file.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawExpectBody, A::Error> {
                RawExpectBodyDetailed::deserialize(MapAccessDeserializer::new(map))
                    .map(RawExpectBody::Detailed)
            }
        }

        deserializer.deserialize_any(BodyVisitor)
    }
}

/// `poll: { until: { path: matcher }, attempts: N, interval: 250ms }`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "Poll"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPoll {
    /// Stop polling once the answer holds these (answer path to value or matcher).
    #[cfg_attr(feature = "cli", schemars(with = "schema::Expectations"))]
    pub until: Spanned<Entries<RawMatcher>>,
    /// How many calls at most.
    #[cfg_attr(feature = "cli", schemars(with = "Option<u32>"))]
    pub attempts: Option<Spanned<u32>>,
    /// The pause between calls: `250ms`, `2s`, `1m`.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub interval: Option<Spanned<String>>,
}

/// What an expected field must hold: a scalar (equals) or one of the matcher maps.
#[derive(Debug)]
pub(crate) enum RawMatcher {
    Equals(RawScalar),
    /// Boxed: six spanned options dwarf a scalar, and most matchers are scalars.
    Rules(Box<RawMatcherRules>),
}

/// A scalar as written. Strings keep their text; numbers and booleans are read by serde as
/// numbers (`150.00` → 150), so the loader takes their text from the source at their span.
#[derive(Debug)]
pub(crate) enum RawScalar {
    Text(String),
    /// A number or boolean; the string is serde's rendering, used only if the source text
    /// cannot be recovered.
    Plain(String),
}

/// `{ matches: … }`, `{ one_of: […] }`, `{ present: true }`, `{ absent: true }`,
/// `{ gte: N, lte: N }`. The loader checks that exactly one kind is given.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "MatcherRules"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMatcherRules {
    /// The value matches this regular expression (Rust `regex` syntax).
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub matches: Option<Spanned<String>>,
    /// The value equals one of these (templates).
    #[cfg_attr(feature = "cli", schemars(with = "Option<Vec<schema::Text>>"))]
    pub one_of: Option<Spanned<Vec<Spanned<String>>>>,
    /// `true`: the element is there; `false`: it is not.
    #[cfg_attr(feature = "cli", schemars(with = "Option<bool>"))]
    pub present: Option<Spanned<bool>>,
    /// `true`: the element is not there; `false`: it is.
    #[cfg_attr(feature = "cli", schemars(with = "Option<bool>"))]
    pub absent: Option<Spanned<bool>>,
    /// The value is a number at least this.
    #[cfg_attr(feature = "cli", schemars(with = "Option<f64>"))]
    pub gte: Option<Spanned<f64>>,
    /// The value is a number at most this.
    #[cfg_attr(feature = "cli", schemars(with = "Option<f64>"))]
    pub lte: Option<Spanned<f64>>,
}

impl<'de> Deserialize<'de> for RawMatcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MatcherVisitor;

        fn plain<E>(text: impl fmt::Display) -> Result<RawMatcher, E> {
            Ok(RawMatcher::Equals(RawScalar::Plain(text.to_string())))
        }

        impl<'de> Visitor<'de> for MatcherVisitor {
            type Value = RawMatcher;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a value to compare with, or a matcher: { matches: REGEX }, { one_of: [...] }, \
                     { present: true }, { absent: true }, { gte: N, lte: N }",
                )
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawMatcher, E> {
                Ok(RawMatcher::Equals(RawScalar::Text(text.to_owned())))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawMatcher, E> {
                plain(v)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawMatcher, E> {
                plain(v)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawMatcher, E> {
                plain(v)
            }

            fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawMatcher, E> {
                plain(v)
            }

            fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawMatcher, E> {
                plain(v)
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawMatcher, E> {
                plain(v)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawMatcher, A::Error> {
                RawMatcherRules::deserialize(MapAccessDeserializer::new(map))
                    .map(|rules| RawMatcher::Rules(Box::new(rules)))
            }
        }

        deserializer.deserialize_any(MatcherVisitor)
    }
}

/// `scenarios/harness.yaml`. Credentials never go here: they come from
/// `FREEDOMPAY_MERCHANT_ID` and `FREEDOMPAY_SECRET_KEY`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "HarnessConfig"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[cfg_attr(feature = "cli", schemars(with = "schema::ConfigFormat"))]
    pub format: Spanned<u32>,
    /// The target used without `--target`/`FPH_TARGET`: `emulator` (the default), `sandbox`,
    /// or a name from `targets`.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub default_target: Option<Spanned<String>>,
    /// Targets by name: `emulator`, `sandbox` and `production` are built in and may be
    /// adjusted; a new name needs a `url`.
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "schema::Targets"))]
    pub targets: Entries<RawTarget>,
    /// Route overrides per call (resend code's route is not published).
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "schema::RouteOverrides"))]
    pub routes: Entries<String>,
    /// The public, non-secret key cassettes are re-signed with (default `fph-replay-key`).
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub replay_key: Option<Spanned<String>>,
    /// Values to hide from cassettes, diffs and reports, on top of `pg_merchant_id`.
    #[serde(default)]
    #[cfg_attr(feature = "cli", schemars(with = "Vec<RawRedaction>"))]
    pub redact: Vec<Spanned<RawRedaction>>,
    /// Cassettes older than this are reported as stale (`90d`); default: no limit.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub cassette_max_age: Option<Spanned<String>>,
    /// What a cassette older than `cassette_max_age` does.
    #[cfg_attr(feature = "cli", schemars(with = "Option<schema::TooOldAction>"))]
    pub cassette_too_old: Option<Spanned<String>>,
    /// Answer paths `fph drift` ignores (default: salts, signatures, ids and dates).
    #[cfg_attr(feature = "cli", schemars(with = "Option<Vec<String>>"))]
    pub drift_ignore: Option<Vec<Spanned<String>>>,
    /// `pg_error_code`s of answers that may come without `pg_sig` (default 9997, 9998, 100, 101).
    #[cfg_attr(feature = "cli", schemars(with = "Option<Vec<u32>>"))]
    pub unsigned_error_codes: Option<Vec<Spanned<u32>>>,
    /// The largest answer read, e.g. `1MiB`, `512KiB`, `65536`.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub answer_limit: Option<Spanned<String>>,
    /// Never accepted: present only to say where credentials go instead.
    #[cfg_attr(feature = "cli", schemars(skip))]
    pub secret_key: Option<Spanned<IgnoredAny>>,
    /// Never accepted: present only to say where credentials go instead.
    #[cfg_attr(feature = "cli", schemars(skip))]
    pub merchant_id: Option<Spanned<IgnoredAny>>,
}

/// Keys that exist only to be refused with a better message than "unknown key"; they are
/// never offered as did-you-mean hints.
pub(crate) const REFUSED_CONFIG_KEYS: &[&str] = &["secret_key", "merchant_id"];

/// One named target in `harness.yaml`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "Target"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    /// Where to send requests (required for a new target), e.g. `http://127.0.0.1:8080`.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub url: Option<Spanned<String>>,
    /// The minimum pause between two calls (`2s`; default 1500ms on Freedom Pay hosts, 0
    /// elsewhere).
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub pause: Option<Spanned<String>>,
    /// What `sms_code(phone)` returns on this target (`111111` on the test server).
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub sms_code: Option<Spanned<String>>,
    /// How requests go on the wire: what the merchant's own client sends.
    #[cfg_attr(feature = "cli", schemars(with = "Option<crate::gateway::Encoding>"))]
    pub encoding: Option<Spanned<String>>,
    #[cfg_attr(feature = "cli", schemars(skip))]
    pub secret_key: Option<Spanned<IgnoredAny>>,
    #[cfg_attr(feature = "cli", schemars(skip))]
    pub merchant_id: Option<Spanned<IgnoredAny>>,
}

/// One redaction rule: exactly one of `field`, `field_pattern`, `value_pattern`, and the
/// placeholder name written instead.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", schemars(rename = "Redaction"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRedaction {
    /// The value of every field with this exact name.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub field: Option<Spanned<String>>,
    /// The value of every field whose name matches this regular expression.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub field_pattern: Option<Spanned<String>>,
    /// Any text matching this regular expression, wherever it appears.
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub value_pattern: Option<Spanned<String>>,
    /// The name written instead (`{{phone}}` in a cassette).
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub placeholder: Spanned<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: for<'de> Deserialize<'de>>(yaml: &str) -> Result<T, String> {
        serde_saphyr::from_str(yaml).map_err(|e| {
            use serde_saphyr::MessageFormatter;
            serde_saphyr::UserMessageFormatter
                .format_message(e.without_snippet())
                .into_owned()
        })
    }

    #[test]
    fn matcher_shapes_are_read() {
        let entries: Entries<RawMatcher> = parse(
            "a: ok\nb: 150.00\nc: true\nd: { matches: '^\\d+$' }\ne: { one_of: [ok, 1.50] }\nf: { gte: 1, lte: 2 }\n",
        )
        .unwrap();
        let kinds: Vec<String> = entries
            .0
            .iter()
            .map(|(k, v)| match &v.value {
                RawMatcher::Equals(RawScalar::Text(t)) => format!("{}=text:{t}", k.value),
                RawMatcher::Equals(RawScalar::Plain(t)) => format!("{}=plain:{t}", k.value),
                RawMatcher::Rules(r) => format!(
                    "{}=rules:{:?}/{:?}/{:?}/{:?}",
                    k.value,
                    r.matches.as_ref().map(|m| &m.value),
                    r.one_of.as_ref().map(|o| o
                        .value
                        .iter()
                        .map(|s| s.value.clone())
                        .collect::<Vec<_>>()),
                    r.gte.as_ref().map(|n| n.value),
                    r.lte.as_ref().map(|n| n.value),
                ),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "a=text:ok",
                "b=plain:150",
                "c=plain:true",
                "d=rules:Some(\"^\\\\d+$\")/None/None/None",
                "e=rules:None/Some([\"ok\", \"1.50\"])/None/None",
                "f=rules:None/None/Some(1.0)/Some(2.0)",
            ]
        );
    }

    #[test]
    fn a_wrong_matcher_shape_says_what_is_expected() {
        let error = parse::<Entries<RawMatcher>>("a: [ok, process]\n").unwrap_err();
        assert!(
            error.contains("expected a value to compare with, or a matcher"),
            "{error}"
        );
        let error = parse::<Entries<RawMatcher>>("a: { one_off: [ok] }\n").unwrap_err();
        assert!(error.contains("unknown field `one_off`"), "{error}");
    }

    #[test]
    fn calls_are_names_or_paths() {
        let step: RawStep = parse("id: a\ncall: pay\n").unwrap();
        assert!(matches!(step.call.unwrap().value, RawCall::Name(ref n) if n == "pay"));
        let step: RawStep = parse("id: a\ncall: { path: /refund.php }\n").unwrap();
        assert!(
            matches!(step.call.unwrap().value, RawCall::Path(ref p) if p.value == "/refund.php")
        );
        let error = parse::<RawStep>("id: a\ncall: { script: x }\n").unwrap_err();
        assert!(error.contains("unknown field `script`"), "{error}");
        let step: RawStep =
            parse("id: a\ncall: { callback: result, to: 'http://h/r', method: GET }\n").unwrap();
        assert!(matches!(
            step.call.unwrap().value,
            RawCall::Callback { ref callback, ref to, method: Some(ref m) }
                if callback.value == "result" && to.value == "http://h/r" && m.value == "GET"
        ));
        let error = parse::<RawStep>("id: a\ncall: { callback: result }\n").unwrap_err();
        assert!(
            error.contains("{ callback: result|check, to: URL }"),
            "{error}"
        );
    }

    #[test]
    fn form_values_keep_their_text() {
        let step: RawStep = parse(
            "id: a\ncall: init\nform: { pg_amount: 150.00, pg_code: 077587, pg_flag: true }\n",
        )
        .unwrap();
        let values: Vec<&str> = step.form.0.iter().map(|(_, v)| v.value.as_str()).collect();
        assert_eq!(values, ["150.00", "077587", "true"]);
    }

    #[test]
    fn empty_maps_may_be_left_blank() {
        let step: RawStep = parse("id: a\ncall: status\nform:\nexpect:\n").unwrap();
        assert!(step.form.0.is_empty());
        assert!(step.expect.0.is_empty());
    }
}

//! JSON Schemas (draft 2020-12) of the three on-disk formats — a scenario, `harness.yaml` and a
//! cassette — generated from the serde types the loader itself reads (`scenario::raw`,
//! `transport::cassette`) with `schemars`, so the schema cannot drift from what `fph` accepts:
//! a key added to a raw type without a schema fails to compile.
//!
//! `fph schema scenario|config|cassette` prints them; `fph init` writes them to
//! `scenarios/.schema/{scenario,config,cassette}.json`, and every scaffolded YAML file starts
//! with a modeline (`# yaml-language-server: $schema=.schema/scenario.json`) pointing there, so editors running the YAML language server
//! autocomplete keys, call names and matchers and flag typos as they are typed.
//!
//! The raw types keep their spans (`Spanned<T>`) and read a few values with hand-written
//! visitors; this module gives those the schema of what they accept (the `JsonSchema` impls
//! below) and defines the schema-only shapes the raw types point at with
//! `#[schemars(with = …)]`: form fields, expectations, captures, routes. The lists inside them
//! — call names, operator codes, built-in targets, the gateway's error codes — come from the
//! same constants the runner and the emulator use.
//!
//! Only the CLI uses the schemas, so this module, `schemars` and the derives on the raw types
//! (`#[cfg_attr(feature = "cli", …)]`) exist only with the `cli` feature: a merchant's
//! replay-only test crate does not compile them.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use crate::emulator::{CodeSource, ErrorKind, Operator};
use crate::gateway::{Encoding, Operation};
use crate::scenario::HarnessConfig;
use crate::scenario::raw::{RawCall, RawExpectBody, RawMatcher, RawMatcherRules};
use crate::scenario::raw::{RawConfig, RawScenario};
use crate::transport::cassette::Cassette;
use crate::transport::cassette::{self, OrderedMap};

/// The directory beside the scenarios where `fph init` writes the schema files (recorded
/// cassettes point there too).
pub use crate::transport::cassette::SCHEMA_DIR;

/// One of the on-disk formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `scenarios/*.yaml`.
    Scenario,
    /// `scenarios/harness.yaml`.
    Config,
    /// `recordings/<scenario>/<case>.yaml`.
    Cassette,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Scenario, Format::Config, Format::Cassette];

    /// The schema's file name in [`SCHEMA_DIR`].
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Scenario => "scenario.json",
            Format::Config => "config.json",
            Format::Cassette => cassette::SCHEMA_FILE,
        }
    }

    /// The schema as a JSON value.
    pub fn schema(self) -> Value {
        let generator = SchemaSettings::draft2020_12()
            .for_deserialize()
            .into_generator();
        let schema = match self {
            Format::Scenario => generator.into_root_schema_for::<RawScenario>(),
            Format::Config => generator.into_root_schema_for::<RawConfig>(),
            Format::Cassette => generator.into_root_schema_for::<Cassette>(),
        };
        schema.to_value()
    }

    /// The schema as `fph schema` prints it and `fph init` writes it: pretty, keys sorted,
    /// ending in a newline.
    pub fn to_json(self) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.schema()).expect("a JSON value always serializes");
        text.push('\n');
        text
    }
}

fn object(properties: Map<String, Value>, additional: Value, description: &str) -> Schema {
    json_schema!({
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": additional,
    })
}

fn format_version(what: &str, version: u32) -> Schema {
    json_schema!({
        "type": "integer",
        "const": version,
        "description": format!("The {what} format; only {version} exists."),
    })
}

/// `format:` of a scenario.
pub(crate) struct ScenarioFormat;

impl JsonSchema for ScenarioFormat {
    fn schema_name() -> Cow<'static, str> {
        "ScenarioFormat".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        format_version("scenario", 1)
    }
}

/// `format:` of `harness.yaml`.
pub(crate) struct ConfigFormat;

impl JsonSchema for ConfigFormat {
    fn schema_name() -> Cow<'static, str> {
        "ConfigFormat".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        format_version("harness.yaml", 1)
    }
}

/// `format:` of a cassette.
pub(crate) struct CassetteFormat;

impl JsonSchema for CassetteFormat {
    fn schema_name() -> Cow<'static, str> {
        "CassetteFormat".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        format_version("cassette", cassette::FORMAT)
    }
}

/// A value as a scenario writes it: text, or a number or boolean taken as written.
pub(crate) struct Text;

impl JsonSchema for Text {
    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "number", "boolean"],
            "description": "Text, with `{{ variable }}` and `{{ function() }}` templates (order_id(), uuid(), salt(), now(), random_digits(n), env(\"NAME\"), sms_code(phone)). A number or boolean is taken as written: `150.00` stays `150.00`.",
        })
    }
}

/// `vars:` and each `matrix:` row: variable name → value.
pub(crate) struct Vars;

impl JsonSchema for Vars {
    fn schema_name() -> Cow<'static, str> {
        "Vars".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        object(
            Map::new(),
            generator.subschema_for::<Text>().to_value(),
            "Variables by name, used as `{{ name }}`.",
        )
    }
}

/// A step's `form:`: any field goes; the common ones are described, and the operator code
/// offers the operators' codes.
pub(crate) struct Form;

/// Request fields worth a hint while typing; every other field is accepted as well.
const FORM_FIELDS: &[(&str, &str)] = &[
    (
        "pg_order_id",
        "Init: the merchant's order id (up to 50 characters), e.g. `{{ order_id() }}`.",
    ),
    ("pg_amount", "Init: the amount, 0.01–99999999."),
    ("pg_currency", "Init: the currency, e.g. `KZT`."),
    (
        "pg_description",
        "Init: what is paid for (up to 1024 characters).",
    ),
    (
        "pg_payment_id",
        "Pay, approve, resend code, status: the payment id init answered (capture it).",
    ),
    (
        "pg_abonent_phone",
        "Pay: the phone to charge, 11 digits (test phones: Kcell `77017777777`, Activ `77027777777`, SMS code `111111`).",
    ),
    (
        "pg_approval_code",
        "Approve: the SMS code, as text (keep leading zeros); `{{ sms_code(phone) }}` reads the target's code.",
    ),
    (
        "pg_language",
        "Init: the language of descriptions: ru, en, kz, kg, uz.",
    ),
    (
        "pg_lifetime",
        "Init: seconds the payment may take, 300–604800 (default 86400).",
    ),
    (
        "pg_testing_mode",
        "Init: 1 for a test payment (added on a test target unless set).",
    ),
    ("pg_user_phone", "Init: the payer's phone."),
    (
        "pg_merchant_id",
        "Added by the harness from the credentials unless set (set it to test an unknown merchant).",
    ),
    (
        "pg_salt",
        "Added by the harness (a fresh random string) unless set.",
    ),
    (
        "pg_sig",
        "Added by the harness unless set; a scenario that sets it sends it as written (to test a bad signature).",
    ),
];

impl JsonSchema for Form {
    fn schema_name() -> Cow<'static, str> {
        "Form".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let text = generator.subschema_for::<Text>().to_value();
        let mut properties: Map<String, Value> = FORM_FIELDS
            .iter()
            .map(|(name, description)| {
                let mut field = text.clone();
                field["description"] = json!(description);
                (name.to_string(), field)
            })
            .collect();
        let codes: Vec<&str> = Operator::ALL.iter().map(|o| o.code()).collect();
        let operators: Vec<String> = Operator::ALL
            .iter()
            .map(|o| format!("{} {}", o.code(), o.name()))
            .collect();
        properties.insert(
            "pg_payment_system_code".to_owned(),
            json!({
                "description": format!(
                    "Pay: the phone's operator ({}); optional.",
                    operators.join(", ")
                ),
                "anyOf": [
                    { "enum": codes },
                    { "type": "string", "pattern": "\\{\\{", "description": "A template, e.g. `{{ operator }}`." },
                ],
            }),
        );
        object(
            properties,
            text,
            "Request fields by name (templates). Nested fields are written as on the wire: `pg_receipt_positions[0][count]`.",
        )
    }
}

/// A step's `expect:` and a poll's `until:`: answer path → value or matcher.
pub(crate) struct Expectations;

impl JsonSchema for Expectations {
    fn schema_name() -> Cow<'static, str> {
        "Expectations".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let matcher = generator.subschema_for::<RawMatcher>().to_value();
        let hint = |description: String, examples: Vec<String>| {
            let mut field = matcher.clone();
            field["description"] = json!(description);
            field["examples"] = json!(examples);
            field
        };
        let real_codes: Vec<ErrorKind> = ErrorKind::ALL
            .iter()
            .copied()
            .filter(|kind| kind.source() != CodeSource::Emulator)
            .collect();
        let code_list: Vec<String> = real_codes
            .iter()
            .map(|kind| format!("{} {}", kind.default_code(), kind.russian()))
            .collect();
        let mut properties = Map::new();
        properties.insert(
            "pg_status".to_owned(),
            hint(
                "The call's outcome: ok, error; pay also need_approve, approve also process."
                    .to_owned(),
                ["ok", "error", "need_approve", "process"]
                    .map(str::to_owned)
                    .to_vec(),
            ),
        );
        properties.insert(
            "pg_payment_status".to_owned(),
            hint(
                "Status: the payment's state.".to_owned(),
                ["success", "process", "revoked", "error"]
                    .map(str::to_owned)
                    .to_vec(),
            ),
        );
        properties.insert(
            "pg_error_code".to_owned(),
            hint(
                format!(
                    "The error code, as text. Codes the real gateway answers: {}.",
                    code_list.join("; ")
                ),
                real_codes
                    .iter()
                    .map(|kind| kind.default_code().to_string())
                    .collect(),
            ),
        );
        object(
            properties,
            matcher,
            "Answer paths (`pg_status`, nested `a/b/c`) and what each must hold.",
        )
    }
}

/// A step's `capture:`: variable name → answer path.
pub(crate) struct Captures;

impl JsonSchema for Captures {
    fn schema_name() -> Cow<'static, str> {
        "Captures".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        object(
            Map::new(),
            json!({ "type": "string", "description": "The answer path whose value the variable takes, e.g. `pg_payment_id`." }),
            "Variables for later steps: name → answer path.",
        )
    }
}

/// `targets:` in `harness.yaml`: the built-in names are offered.
pub(crate) struct Targets;

impl JsonSchema for Targets {
    fn schema_name() -> Cow<'static, str> {
        "Targets".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let target = generator
            .subschema_for::<crate::scenario::raw::RawTarget>()
            .to_value();
        let properties = HarnessConfig::default()
            .targets
            .into_iter()
            .map(|builtin| {
                let mut field = target.clone();
                field["description"] = json!(format!("Built in: {}.", builtin.target));
                (builtin.name, field)
            })
            .collect();
        object(
            properties,
            target,
            "Targets by name; a new name needs a `url`.",
        )
    }
}

/// `routes:` in `harness.yaml`: one optional path per named call.
pub(crate) struct RouteOverrides;

impl JsonSchema for RouteOverrides {
    fn schema_name() -> Cow<'static, str> {
        "RouteOverrides".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let properties = Operation::NAMED
            .iter()
            .map(|op| {
                (
                    op.name().to_owned(),
                    json!({
                        "type": "string",
                        "description": format!("The path of {} (default `{}`).", op.name(), op.default_path()),
                    }),
                )
            })
            .collect();
        object(properties, Value::Bool(false), "Route overrides per call.")
    }
}

/// A target's `encoding:` (and a cassette's): one of the names.
impl JsonSchema for Encoding {
    fn schema_name() -> Cow<'static, str> {
        "Encoding".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Encoding::ALL.iter().map(|e| e.name()).collect();
        json_schema!({
            "enum": names,
            "description": "How requests go on the wire: multipart/form-data (the default, as in the docs' samples), urlencoded form, GET parameters, one pg_xml field, or a JSON body.",
        })
    }
}

/// A scenario's or a step's `encoding:`: a name, or a template over a matrix column.
pub(crate) struct ScenarioEncoding;

impl JsonSchema for ScenarioEncoding {
    fn schema_name() -> Cow<'static, str> {
        "ScenarioEncoding".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let name = generator.subschema_for::<Encoding>().to_value();
        json_schema!({
            "description": "The encoding here, over the target's: a name, or `{{ column }}` to vary it per matrix row.",
            "anyOf": [
                name,
                { "type": "string", "pattern": "\\{\\{" },
            ],
        })
    }
}

/// A step's `wait:`: which callback.
pub(crate) struct WaitFor;

impl JsonSchema for WaitFor {
    fn schema_name() -> Cow<'static, str> {
        "WaitFor".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "enum": ["result_callback", "check_callback"],
            "description": "result_callback: the notification sent to pg_result_url once the payment is final; check_callback: the question sent to pg_check_url before the phone is charged.",
        })
    }
}

/// `reply.pg_status` of a wait step.
pub(crate) struct ReplyStatus;

impl JsonSchema for ReplyStatus {
    fn schema_name() -> Cow<'static, str> {
        "ReplyStatus".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "enum": ["ok", "rejected", "error"],
            "description": "ok: received (result) or go ahead (check); rejected: refuse the payment; error: the merchant failed.",
        })
    }
}

/// `cassette_too_old:` in `harness.yaml`.
pub(crate) struct TooOldAction;

impl JsonSchema for TooOldAction {
    fn schema_name() -> Cow<'static, str> {
        "TooOldAction".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "enum": ["warn", "fail"],
            "description": "warn (the default: the case still runs) or fail.",
        })
    }
}

impl JsonSchema for RawCall {
    fn schema_name() -> Cow<'static, str> {
        "Call".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Operation::NAMED.iter().map(Operation::name).collect();
        let routes: Vec<String> = Operation::NAMED
            .iter()
            .map(|op| format!("{} → {}", op.name(), op.default_path()))
            .collect();
        json_schema!({
            "description": format!(
                "The call: {} (routes can be changed in harness.yaml), or `{{ path: /script.php }}` for any other script.",
                routes.join(", ")
            ),
            "oneOf": [
                { "type": "string", "enum": names },
                {
                    "type": "object",
                    "properties": {
                        "path": { "type": "string", "description": "The path to POST to; its last segment is the script name signed." },
                    },
                    "required": ["path"],
                    "additionalProperties": false,
                },
                {
                    "type": "object",
                    "description": "Send a signed callback to the merchant's handler, as the gateway would, twice (idempotency), and check its replies against the callback contract; `form` overrides the callback's fields, `expect` checks the reply.",
                    "properties": {
                        "callback": { "enum": ["result", "check"], "description": "result (pg_result_url) or check (pg_check_url)." },
                        "to": { "type": "string", "description": "The handler's URL (a template); its last segment is the script name both sides sign with." },
                        "method": { "enum": ["POST", "GET", "XML"], "description": "How the gateway sends it (pg_request_method); default POST." },
                    },
                    "required": ["callback", "to"],
                    "additionalProperties": false,
                },
            ],
        })
    }
}

impl JsonSchema for RawExpectBody {
    fn schema_name() -> Cow<'static, str> {
        "ExpectBody".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let detailed = generator
            .subschema_for::<crate::scenario::raw::RawExpectBodyDetailed>()
            .to_value();
        json_schema!({
            "description": "Compare the whole answer with an XML file, semantically (element order, whitespace, entities do not matter; `{{ any }}`, `{{ number }}`, `{{ regex(\"…\") }}` in the file match values).",
            "anyOf": [
                { "type": "string", "description": "The expected XML answer, relative to the scenario file." },
                detailed,
            ],
        })
    }
}

/// The rules that may be given together in one matcher: the bounds.
const BOUNDS: [&str; 2] = ["gte", "lte"];

impl JsonSchema for RawMatcher {
    fn schema_name() -> Cow<'static, str> {
        "Matcher".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let rules = generator.subschema_for::<RawMatcherRules>().to_value();
        // Exactly one kind of rule, as the loader demands: every rule is its own kind except
        // the two bounds, which make one. The names come from the derived rules' properties.
        let names: Vec<String> = generator
            .definitions()
            .get(&*RawMatcherRules::schema_name())
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        let mut kinds: Vec<Value> = names
            .iter()
            .filter(|name| !BOUNDS.contains(&name.as_str()))
            .map(|name| json!({ "required": [name] }))
            .collect();
        kinds.push(json!({ "anyOf": BOUNDS.map(|b| json!({ "required": [b] })) }));
        json_schema!({
            "description": "A value the field must equal (after templating), or a matcher: { matches: REGEX }, { one_of: [...] }, { present: true }, { absent: true }, { gte: N, lte: N }.",
            "anyOf": [
                { "type": ["string", "number", "boolean"] },
                { "allOf": [rules], "oneOf": kinds },
            ],
        })
    }
}

impl JsonSchema for OrderedMap {
    fn schema_name() -> Cow<'static, str> {
        "Fields".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": { "type": "string" },
        })
    }
}

#[cfg(test)]
mod shipped_files;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_a_2020_12_schema_with_its_title() {
        for (format, title) in
            Format::ALL
                .into_iter()
                .zip(["Scenario", "HarnessConfig", "Cassette"])
        {
            let schema = format.schema();
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            assert_eq!(schema["title"], title, "{format:?}");
            assert_eq!(schema["additionalProperties"], false, "{format:?}");
        }
    }

    #[test]
    fn call_names_and_operator_codes_come_from_the_code() {
        let scenario = Format::Scenario.schema();
        let names = &scenario["$defs"]["Call"]["oneOf"][0]["enum"];
        assert_eq!(
            names,
            &json!(["init", "pay", "approve", "resend_code", "status"])
        );
        let codes =
            &scenario["$defs"]["Form"]["properties"]["pg_payment_system_code"]["anyOf"][0]["enum"];
        assert_eq!(
            codes,
            &json!(["KCELLKZT", "ACTIVKZT", "BEELINEKZT", "TELE2KZT", "ALTELKZT"])
        );
        let kinds = scenario["$defs"]["Matcher"]["anyOf"][1]["oneOf"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(kinds, 5, "matches, one_of, present, absent, bounds");
    }

    #[test]
    fn refused_config_keys_are_not_offered() {
        let config = Format::Config.schema();
        assert!(config["properties"].get("secret_key").is_none());
        assert!(
            config["$defs"]["Target"]["properties"]
                .get("merchant_id")
                .is_none()
        );
    }
}

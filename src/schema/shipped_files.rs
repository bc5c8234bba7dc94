//! Every shipped scenario, configuration and cassette is valid against its schema (and
//! loads); the typos the loader refuses, the schemas refuse too. (That `fph schema` prints
//! what is committed under `scenarios/.schema/` is the CLI's test, `tests/cli/schema.rs`.)

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Format;
use crate::scenario::{self, HarnessConfig};
use crate::transport::cassette::Cassette;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator(format: Format) -> jsonschema::Validator {
    jsonschema::draft202012::new(&format.schema())
        .unwrap_or_else(|e| panic!("the {format:?} schema does not compile: {e}"))
}

/// YAML read the way a YAML language server reads it: as a JSON value.
fn as_json(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("YAML parses as a JSON value")
}

fn schema_errors(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let value = as_json(text);
    validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The YAML files directly in `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

fn is_config(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "harness.yaml")
}

#[test]
fn every_shipped_yaml_file_names_its_schema_in_its_first_line() {
    for dir in ["scenarios", "scaffold/scenarios"] {
        for file in yaml_files(&repo().join(dir)) {
            let schema = if is_config(&file) {
                ".schema/config.json"
            } else {
                ".schema/scenario.json"
            };
            let text = std::fs::read_to_string(&file).unwrap();
            assert_eq!(
                text.lines().next(),
                Some(format!("# yaml-language-server: $schema={schema}").as_str()),
                "{}",
                file.display()
            );
        }
    }
    // The recordings of the shipped scenarios point at the committed cassette schema. (A
    // proxy session's cassette, `recordings/proxy/`, belongs to no scenarios directory.)
    let mut cassettes = 0;
    for dir in std::fs::read_dir(repo().join("recordings")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() || dir.ends_with("proxy") {
            continue;
        }
        for file in yaml_files(&dir) {
            cassettes += 1;
            let text = std::fs::read_to_string(&file).unwrap();
            let first = text.lines().next().unwrap_or_default();
            let schema = first
                .strip_prefix("# yaml-language-server: $schema=")
                .unwrap_or_else(|| panic!("{}: {first}", file.display()));
            assert_eq!(schema, "../../scenarios/.schema/cassette.json");
            assert!(file.parent().unwrap().join(schema).is_file(), "{schema}");
        }
    }
    assert!(cassettes >= 17, "{cassettes}");
}

#[test]
fn every_shipped_scenario_config_and_cassette_is_valid_against_its_schema() {
    let scenarios = validator(Format::Scenario);
    let config = validator(Format::Config);
    let cassette = validator(Format::Cassette);
    let mut checked = [0usize; 3];
    for dir in [
        "scenarios",
        "scaffold/scenarios",
        "tests/fixtures/scenarios",
    ] {
        for file in yaml_files(&repo().join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            let (validator, loads) = if is_config(&file) {
                checked[1] += 1;
                (&config, HarnessConfig::load_str(&file, &text).err())
            } else {
                checked[0] += 1;
                (&scenarios, scenario::load_str(&file, &text).err())
            };
            assert!(
                loads.is_none(),
                "{} does not load: {loads:?}",
                file.display()
            );
            let errors = schema_errors(validator, &text);
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        }
    }
    let mut stack = vec![repo().join("recordings")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml") {
                checked[2] += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                Cassette::parse(&text, &path).unwrap();
                let errors = schema_errors(&cassette, &text);
                assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            }
        }
    }
    let [scenario_files, configs, cassettes] = checked;
    assert!(
        scenario_files >= 17 && configs >= 2 && cassettes >= 17,
        "{checked:?}"
    );
}

/// A scenario the loader and the schema both accept; each typo below is one edit of it.
const SCENARIO: &str = r#"name: Status
steps:
  - id: init
    call: init
    form: { pg_amount: 150.00, pg_description: Top-up }
    expect: { pg_status: ok, pg_payment_id: { matches: '^\d+$' } }
    capture: { payment_id: pg_payment_id }
  - id: status
    call: status
    form: { pg_payment_id: "{{ payment_id }}" }
    poll: { until: { pg_payment_status: success }, attempts: 3, interval: 10ms }
    expect: { pg_amount: { gte: 150, lte: 150 }, pg_user_phone: { present: true } }
"#;

const CONFIG: &str = r#"format: 1
default_target: sandbox
targets:
  sandbox: { pause: 2s, sms_code: "111111" }
  local: { url: "http://127.0.0.1:8080" }
routes: { resend_code: /mfs/resend_code }
redact:
  - { value_pattern: '\b7\d{10}\b', placeholder: phone }
cassette_max_age: 90d
cassette_too_old: fail
unsigned_error_codes: [9997, 9998]
"#;

fn cassette_text() -> String {
    std::fs::read_to_string(repo().join("recordings/wrong_code/default.yaml")).unwrap()
}

#[test]
fn the_schemas_refuse_the_typos_the_loader_refuses() {
    let path = Path::new("scenarios/typo.yaml");
    let scenarios = validator(Format::Scenario);
    assert!(scenario::load_str(path, SCENARIO).is_ok());
    assert_eq!(schema_errors(&scenarios, SCENARIO), Vec::<String>::new());
    let typos = [
        (
            "unknown key",
            "    expect: { pg_status: ok,",
            "    exepct: { pg_status: ok,",
        ),
        (
            "unknown top-level key",
            "name: Status",
            "name: Status\nstep: []",
        ),
        ("unknown call", "call: init", "call: refund"),
        (
            "call path with a typo",
            "call: init",
            "call: { paht: /refund.php }",
        ),
        (
            "unknown matcher",
            "{ matches: '^\\d+$' }",
            "{ one_off: [ok] }",
        ),
        (
            "matcher as a list",
            "pg_status: ok,",
            "pg_status: [ok, process],",
        ),
        (
            "two matchers in one",
            "{ present: true }",
            "{ present: true, matches: x }",
        ),
        ("empty matcher", "{ present: true }", "{}"),
        ("unknown poll key", "attempts: 3", "attempt: 3"),
        (
            "unknown scenario format",
            "name: Status",
            "format: 2\nname: Status",
        ),
    ];
    for (what, from, to) in typos {
        assert!(
            SCENARIO.contains(from),
            "{what}: `{from}` not in the scenario"
        );
        let text = SCENARIO.replacen(from, to, 1);
        assert!(
            scenario::load_str(path, &text).is_err(),
            "{what}: the loader accepts it"
        );
        assert!(
            !schema_errors(&scenarios, &text).is_empty(),
            "{what}: the schema accepts it"
        );
    }

    let path = Path::new("scenarios/harness.yaml");
    let config = validator(Format::Config);
    assert!(HarnessConfig::load_str(path, CONFIG).is_ok());
    assert_eq!(schema_errors(&config, CONFIG), Vec::<String>::new());
    let typos = [
        (
            "secret key in the file",
            "format: 1",
            "format: 1\nsecret_key: s3cr3t",
        ),
        (
            "merchant id in a target",
            "pause: 2s,",
            "pause: 2s, merchant_id: 552170,",
        ),
        ("unknown target key", "pause: 2s", "paus: 2s"),
        ("unknown route", "resend_code:", "resend:"),
        (
            "unknown cassette_too_old action",
            "too_old: fail",
            "too_old: explode",
        ),
        (
            "unknown top-level key",
            "default_target:",
            "default_targets:",
        ),
        ("unknown config format", "format: 1", "format: 2"),
        ("redaction typo", "placeholder: phone", "placehold: phone"),
    ];
    for (what, from, to) in typos {
        assert!(CONFIG.contains(from), "{what}: `{from}` not in the config");
        let text = CONFIG.replacen(from, to, 1);
        assert!(
            HarnessConfig::load_str(path, &text).is_err(),
            "{what}: the loader accepts it"
        );
        assert!(
            !schema_errors(&config, &text).is_empty(),
            "{what}: the schema accepts it"
        );
    }

    let path = Path::new("recordings/wrong_code/default.yaml");
    let cassette = validator(Format::Cassette);
    let text = cassette_text();
    let typos = [
        ("unknown key", "recorded_at:", "recorded:"),
        ("unknown interaction key", "  attempt: 1", "  attempts: 1"),
        ("unknown cassette format", "format: 1", "format: 2"),
        ("status as text", "status: 200", "status: ok"),
    ];
    for (what, from, to) in typos {
        assert!(text.contains(from), "{what}: `{from}` not in the cassette");
        let changed = text.replacen(from, to, 1);
        assert!(
            Cassette::parse(&changed, path).is_err(),
            "{what}: the loader accepts it"
        );
        assert!(
            !schema_errors(&cassette, &changed).is_empty(),
            "{what}: the schema accepts it"
        );
    }
}

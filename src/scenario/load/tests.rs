//! The loader's diagnostics and models, one test per rule, on scenarios written inline.

use super::*;
use crate::gateway::Operation;
use crate::scenario::Matcher;
use crate::scenario::model::{DEFAULT_POLL_ATTEMPTS, DEFAULT_POLL_INTERVAL};

const KCELL: &str = r#"# scenarios/kcell_sms_approval.yaml
name: Kcell payment confirmed by SMS code
tags: [kcell, approve]
vars:
  amount: "150.00"
matrix:
  - { operator: KCELLKZT, phone: "77017777777", code: "111111" }
  - { operator: ACTIVKZT, phone: "77027777777", code: "111111" }
steps:
  - id: init
    call: init
    form:
      pg_order_id: "{{ order_id() }}"
      pg_amount: "{{ amount }}"
      pg_description: "Top-up via {{ operator }}"
    expect:
      pg_status: ok
      pg_payment_id: { matches: '^\d+$' }
    capture:
      payment_id: pg_payment_id
  - id: pay
    call: pay
    form: { pg_payment_id: "{{ payment_id }}", pg_abonent_phone: "{{ phone }}",
            pg_payment_system_code: "{{ operator }}" }
    expect: { pg_status: need_approve }
  - id: approve
    call: approve
    form: { pg_payment_id: "{{ payment_id }}", pg_approval_code: "{{ code }}" }
    expect: { pg_status: { one_of: [ok, process] } }
  - id: status
    call: status
    form: { pg_payment_id: "{{ payment_id }}" }
    poll: { until: { pg_payment_status: success }, attempts: 20, interval: 250ms }
    expect: { pg_status: ok, pg_payment_status: success, pg_amount: "{{ amount }}" }
"#;

fn load(text: &str) -> Result<Scenario, ScenarioError> {
    load_str(Path::new("scenarios/test.yaml"), text)
}

/// The plain rendering of the error `text` produces.
fn fail(text: &str) -> String {
    load(text).map(|_| ()).unwrap_err().render_plain()
}

fn kind(text: &str) -> ErrorKind {
    load(text).map(|_| ()).unwrap_err().kind()
}

const STEP: &str = "name: t\nsteps:\n  - id: init\n    call: init\n";

#[test]
fn the_design_example_loads() {
    let scenario = load_str(Path::new("scenarios/kcell_sms_approval.yaml"), KCELL).unwrap();
    assert_eq!(scenario.name, "Kcell payment confirmed by SMS code");
    assert_eq!(scenario.stem, "kcell_sms_approval");
    assert_eq!(scenario.tags, ["kcell", "approve"]);
    let names: Vec<&str> = scenario.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "operator=KCELLKZT,phone=77017777777",
            "operator=ACTIVKZT,phone=77027777777"
        ]
    );
    assert_eq!(
        scenario.cases[0].bindings,
        [
            ("amount".to_owned(), "150.00".to_owned()),
            ("operator".to_owned(), "KCELLKZT".to_owned()),
            ("phone".to_owned(), "77017777777".to_owned()),
            ("code".to_owned(), "111111".to_owned()),
        ]
    );
    let ids: Vec<&str> = scenario.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["init", "pay", "approve", "status"]);
    let init = &scenario.steps[0];
    assert_eq!(init.action, crate::scenario::Action::Call(Operation::Init));
    assert_eq!(init.form[1].0, "pg_amount");
    assert_eq!(init.form[1].1.as_str(), "{{ amount }}");
    assert_eq!(
        (init.form[1].1.span.line, init.form[1].1.span.column),
        (14, 18)
    );
    let capture: Vec<(&str, &str)> = init
        .capture
        .iter()
        .map(|c| (c.variable.as_str(), c.path.as_str()))
        .collect();
    assert_eq!(capture, [("payment_id", "pg_payment_id")]);
    assert!(matches!(init.expect[1].matcher, Matcher::Matches(_)));
    assert_eq!((init.span.line, init.span.column), (10, 9));
    let status = &scenario.steps[3];
    let poll = status.poll.as_ref().unwrap();
    assert_eq!(poll.attempts, 20);
    assert_eq!(poll.interval, Duration::from_millis(250));
    assert_eq!(poll.until[0].path, "pg_payment_status");
    assert_eq!(scenario.templates().count(), 17);
}

#[test]
fn no_matrix_means_one_default_case() {
    let scenario = load("name: t\nvars: { a: x }\nsteps:\n  - id: s\n    call: status\n").unwrap();
    assert_eq!(scenario.cases.len(), 1);
    assert_eq!(scenario.cases[0].name, "default");
    assert_eq!(
        scenario.cases[0].bindings,
        [("a".to_owned(), "x".to_owned())]
    );
}

#[test]
fn a_single_row_is_named_by_all_its_columns_and_overrides_vars() {
    let scenario = load(
            "name: t\nvars: { amount: \"1.00\", x: y }\nmatrix:\n  - { amount: \"2.00\", phone: \"77017777777\" }\nsteps:\n  - id: s\n    call: status\n",
        )
        .unwrap();
    assert_eq!(scenario.cases[0].name, "amount=2.00,phone=77017777777");
    assert_eq!(
        scenario.cases[0].bindings,
        [
            ("amount".to_owned(), "2.00".to_owned()),
            ("x".to_owned(), "y".to_owned()),
            ("phone".to_owned(), "77017777777".to_owned()),
        ]
    );
}

#[test]
fn unquoted_numbers_compare_as_written() {
    let scenario = load(&format!(
        "{STEP}    expect: {{ pg_amount: 150.00, pg_flag: true, pg_code: 077587 }}\n"
    ))
    .unwrap();
    let texts: Vec<String> = scenario.steps[0]
        .expect
        .iter()
        .map(|e| e.matcher.to_string())
        .collect();
    assert_eq!(texts, ["150.00", "true", "077587"]);
}

#[test]
fn matcher_maps_are_read() {
    let scenario = load(&format!(
            "{STEP}    expect:\n      a: {{ present: true }}\n      b: {{ absent: true }}\n      c: {{ present: false }}\n      d: {{ gte: 100, lte: 150.00 }}\n      e: {{ lte: 5 }}\n"
        ))
        .unwrap();
    let matchers: Vec<String> = scenario.steps[0]
        .expect
        .iter()
        .map(|e| e.matcher.to_string())
        .collect();
    assert_eq!(
        matchers,
        [
            "{ present: true }",
            "{ absent: true }",
            "{ absent: true }",
            "{ gte: 100, lte: 150.00 }",
            "{ lte: 5 }"
        ]
    );
}

#[test]
fn other_scripts_take_a_path_and_capture_anything() {
    let scenario = load(
            "name: t\nsteps:\n  - id: refund\n    call: { path: /revoke.php }\n    capture: { x: pg_anything/deep }\n",
        )
        .unwrap();
    assert_eq!(
        scenario.steps[0].action,
        crate::scenario::Action::Call(Operation::Other("/revoke.php".into()))
    );
    assert_eq!(
        fail("name: t\nsteps:\n  - id: r\n    call: { path: revoke.php }\n"),
        "scenarios/test.yaml:4:19: `revoke.php` is not a script path\n  help: write the path on the gateway host, starting with `/`, e.g. `/revoke.php`"
    );
}

#[test]
fn yaml_syntax_errors_are_located() {
    let error = load("name: t\nsteps: [\n").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Yaml);
    assert!(error.location().1 > 0, "{error}");
    assert_eq!(kind(""), ErrorKind::Yaml);
    assert!(fail("").contains("the file is empty"));
}

#[test]
fn unknown_keys_suggest_the_nearest() {
    assert_eq!(
        fail("name: t\nsteps:\n  - id: a\n    call: init\n    exepct: {}\n"),
        "scenarios/test.yaml:5:5: unknown key `exepct`\n  help: did you mean `expect`?"
    );
    assert_eq!(
        fail("nam: t\nsteps: []\n"),
        "scenarios/test.yaml:1:1: unknown key `nam`\n  help: did you mean `name`?"
    );
    assert!(
        fail(&format!("{STEP}    expect: {{ a: {{ one_off: [x] }} }}\n"))
            .contains("did you mean `one_of`?")
    );
    assert!(
        fail(&format!(
            "{STEP}    poll: {{ until: {{ a: b }}, tries: 3 }}\n"
        ))
        .contains("expected one of: until, attempts, interval")
    );
}

#[test]
fn unknown_calls_are_refused() {
    assert_eq!(
        fail("name: t\nsteps:\n  - id: a\n    call: aprove\n"),
        "scenarios/test.yaml:4:11: unknown call `aprove`\n  help: did you mean `approve`? calls are init, pay, approve, resend_code, status, or `{ path: /script.php }` for any other script"
    );
    assert_eq!(
        kind("name: t\nsteps:\n  - id: a\n    call: refund\n"),
        ErrorKind::UnknownCall
    );
}

#[test]
fn duplicate_step_ids_point_at_the_second() {
    let error =
        load("name: t\nsteps:\n  - id: a\n    call: init\n  - id: a\n    call: pay\n").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DuplicateStepId);
    assert_eq!(error.location().1, 5);
    assert_eq!(
        kind("name: t\nsteps:\n  - id: a b\n    call: init\n"),
        ErrorKind::InvalidValue
    );
}

#[test]
fn poll_only_on_idempotent_calls() {
    for call in ["init", "pay", "approve", "resend_code", "{ path: /x.php }"] {
        let text = format!(
            "name: t\nsteps:\n  - id: a\n    call: {call}\n    poll: {{ until: {{ pg_status: ok }} }}\n"
        );
        assert_eq!(kind(&text), ErrorKind::PollNotIdempotent, "{call}");
    }
    let scenario = load(
        "name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: { pg_status: ok } }\n",
    )
    .unwrap();
    let poll = scenario.steps[0].poll.as_ref().unwrap();
    assert_eq!(
        (poll.attempts, poll.interval),
        (DEFAULT_POLL_ATTEMPTS, DEFAULT_POLL_INTERVAL)
    );
    assert!(fail("name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: { pg_status: ok }, interval: 2 weeks }\n")
            .contains("`2 weeks` is not a duration"));
    assert!(fail("name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: { pg_status: ok }, attempts: 0 }\n")
            .contains("`attempts` must be at least 1"));
    assert!(
        fail("name: t\nsteps:\n  - id: a\n    call: status\n    poll: { until: {} }\n")
            .contains("`poll.until` is empty")
    );
}

#[test]
fn captures_must_be_fields_the_call_returns() {
    assert_eq!(
        fail(&format!(
            "{STEP}    capture: {{ status: pg_payment_status }}\n"
        )),
        "scenarios/test.yaml:5:24: `init` never returns `pg_payment_status`\n  help: `init` returns pg_status, pg_salt, pg_sig, pg_error_code, pg_error_description, pg_payment_id, pg_redirect_url, pg_redirect_url_type"
    );
    assert!(
        fail(&format!("{STEP}    capture: {{ id: pg_paymnt_id }}\n"))
            .contains("did you mean `pg_payment_id`?")
    );
    load(&format!("{STEP}    capture: {{ code: pg_error_code }}\n")).unwrap();
    assert_eq!(
        kind(&format!("{STEP}    capture: {{ case: pg_payment_id }}\n")),
        ErrorKind::InvalidValue
    );
}

#[test]
fn regexes_must_compile() {
    assert_eq!(
        fail(&format!(
            "{STEP}    expect: {{ pg_payment_id: {{ matches: '^\\d+($' }} }}\n"
        )),
        "scenarios/test.yaml:5:41: invalid regex `^\\d+($`\n  help: the regex crate says: unclosed group"
    );
}

#[test]
fn matchers_take_exactly_one_rule() {
    assert!(fail(&format!("{STEP}    expect: {{ a: {{}} }}\n")).contains("the matcher is empty"));
    assert!(
        fail(&format!(
            "{STEP}    expect: {{ a: {{ matches: x, present: true }} }}\n"
        ))
        .contains("a matcher cannot combine `matches`, `present`")
    );
    assert!(
        fail(&format!(
            "{STEP}    expect: {{ a: {{ gte: 5, lte: 1 }} }}\n"
        ))
        .contains("the range is empty")
    );
    assert!(
        fail(&format!("{STEP}    expect: {{ a: {{ one_of: [] }} }}\n"))
            .contains("`one_of` is empty")
    );
    assert!(
        fail(&format!("{STEP}    expect: {{ a: [ok] }}\n"))
            .contains("expected a value to compare with, or a matcher")
    );
    assert!(fail(&format!("{STEP}    expect: {{ '': ok }}\n")).contains("is not a field path"));
}

#[test]
fn matrix_rows_must_line_up() {
    let text = "name: t\nmatrix:\n  - { operator: KCELLKZT, phone: \"1\" }\n  - { operator: ACTIVKZT }\nsteps:\n  - id: a\n    call: status\n";
    let error = load(text).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Matrix);
    assert_eq!(
        error.render_plain(),
        "scenarios/test.yaml:4:5: matrix row 2 has different columns from row 1\n  help: every row binds the same variables (operator, phone); put a shared value in `vars:`"
    );
    assert!(
        fail("name: t\nmatrix: []\nsteps:\n  - id: a\n    call: status\n")
            .contains("the matrix has no rows")
    );
    assert!(
        fail("name: t\nmatrix:\n  - { a: x }\n  - { a: x }\nsteps:\n  - id: a\n    call: status\n")
            .contains("matrix rows 1 and 2 are identical")
    );
    assert!(
        fail(
            "name: t\nmatrix:\n  - { a: x/y }\n  - { a: z }\nsteps:\n  - id: a\n    call: status\n"
        )
        .contains("`x/y` cannot be part of a case name")
    );
    assert!(
        fail("name: t\nmatrix:\n  - { a-b: x }\nsteps:\n  - id: a\n    call: status\n")
            .contains("`a-b` cannot be a matrix column name")
    );
}

#[test]
fn vars_are_literal_identifiers() {
    assert!(
        fail("name: t\nvars: { target: x }\nsteps:\n  - id: a\n    call: status\n")
            .contains("`target` is a built-in variable")
    );
    assert!(
        fail("name: t\nvars: { uuid: x }\nsteps:\n  - id: a\n    call: status\n")
            .contains("`uuid` is a template function")
    );
    assert!(
        fail("name: t\nvars: { o: \"{{ order_id() }}\" }\nsteps:\n  - id: a\n    call: status\n")
            .contains("`vars` values are not templates")
    );
}

#[test]
fn secret_never_leaves_through_env_in_a_template() {
    for call in [
        "env('FREEDOMPAY_SECRET_KEY')",
        "env( \\\"FREEDOMPAY_SECRET_KEY\\\" )",
    ] {
        let error = fail(&format!(
            "{STEP}    form: {{ pg_description: \"x {{{{ {call} }}}}\" }}\n"
        ));
        assert!(error.starts_with("scenarios/test.yaml:5:"), "{error}");
        assert!(
            error.contains(": env(\"FREEDOMPAY_SECRET_KEY\") is refused"),
            "{error}"
        );
        assert!(error.contains("help: the harness signs"), "{error}");
    }
    // Any other variable is read as usual.
    assert!(
            load_str(
                Path::new("scenarios/test.yaml"),
                &format!("{STEP}    form: {{ pg_description: \"{{{{ env('FREEDOMPAY_MERCHANT_ID') }}}}\" }}\n")
            )
            .is_ok()
        );
}

#[test]
fn templates_must_parse() {
    assert_eq!(
        fail(&format!(
            "{STEP}    form: {{ pg_amount: \"{{{{ amount \" }}\n"
        )),
        "scenarios/test.yaml:5:28: template does not parse: syntax error: unexpected end of input, expected end of variable block\n  help: templates use minijinja syntax: `{{ variable }}`, `{{ order_id() }}`"
    );
}

#[test]
fn template_variables_must_be_defined_before_use() {
    assert_eq!(
        fail(
            "name: t\nvars: { amount: \"1\" }\nsteps:\n  - id: a\n    call: init\n    form: { pg_amount: \"{{ amuont }}\" }\n"
        ),
        "scenarios/test.yaml:6:28: undefined template variable `amuont`\n  help: did you mean `amount`?"
    );
    assert!(
        fail(&format!(
            "{STEP}    form: {{ pg_order_id: \"{{{{ orderid() }}}}\" }}\n"
        ))
        .contains("did you mean `order_id()`?")
    );
    assert!(
            fail("name: t\nsteps:\n  - id: a\n    call: status\n    form: { pg_payment_id: \"{{ payment_id }}\" }\n  - id: b\n    call: init\n    capture: { payment_id: pg_payment_id }\n")
                .contains("`payment_id` is captured by step `b`; a capture can be used only in later steps")
        );
    assert!(
        fail(&format!(
            "{STEP}    expect: {{ pg_status: {{ one_of: [\"{{{{ nothing_like_it }}}}\"] }} }}\n"
        ))
        .contains("define it under `vars:`")
    );
    // Built-ins, captures of earlier steps and functions are all defined.
    load("name: t\nsteps:\n  - id: a\n    call: init\n    form: { pg_description: \"{{ scenario }} {{ case }} {{ target }} {{ merchant_id }} {{ uuid() }}\" }\n    capture: { payment_id: pg_payment_id }\n  - id: b\n    call: status\n    form: { pg_payment_id: \"{{ payment_id }}\" }\n    poll: { until: { pg_payment_id: \"{{ payment_id }}\" } }\n").unwrap();
}

#[test]
fn form_keys_may_nest_but_must_be_well_formed() {
    let scenario = load(&format!(
            "{STEP}    form:\n      pg_receipt_positions[0][count]: 1\n      pg_receipt_positions[0][name]: product name\n"
        ))
        .unwrap();
    assert_eq!(
        scenario.steps[0].form[0].0,
        "pg_receipt_positions[0][count]"
    );
    assert!(
        fail(&format!("{STEP}    form: {{ \"a[b\": 1 }}\n")).contains("brackets must be balanced")
    );
    assert!(
        fail(&format!("{STEP}    form: {{ a: 1, \"a[b]\": 2 }}\n"))
            .contains("both a value and a group")
    );
}

#[test]
fn expect_body_files_are_resolved_and_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("init.xml"), "<response/>").unwrap();
    let path = dir.path().join("s.yaml");
    let scenario = load_str(
        &path,
        &format!("{STEP}    expect_body: {{ file: init.xml, ignore: [pg_salt, pg_sig] }}\n"),
    )
    .unwrap();
    let body = scenario.steps[0].expect_body.as_ref().unwrap();
    assert_eq!(body.file, dir.path().join("init.xml"));
    assert_eq!(body.ignore, ["pg_salt", "pg_sig"]);
    load_str(&path, &format!("{STEP}    expect_body: init.xml\n")).unwrap();
    let error = load_str(&path, &format!("{STEP}    expect_body: missing.xml\n")).unwrap_err();
    assert!(
        error.title().contains("`missing.xml` does not exist"),
        "{error}"
    );
}

#[test]
fn other_top_level_checks() {
    assert!(
        fail("format: 2\nname: t\nsteps:\n  - id: a\n    call: status\n")
            .contains("unsupported scenario format 2")
    );
    load("format: 1\nname: t\nsteps:\n  - id: a\n    call: status\n").unwrap();
    assert!(
        fail("name: \"\"\nsteps:\n  - id: a\n    call: status\n")
            .contains("the scenario name is empty")
    );
    assert!(fail("name: t\nsteps: []\n").contains("the scenario has no steps"));
}

#[test]
fn encodings_are_set_per_scenario_case_and_step() {
    let scenario = load(
            "name: t\nmatrix:\n  - { wire: get }\n  - { wire: pg_xml }\nencoding: \"{{ wire }}\"\nsteps:\n  - id: a\n    call: status\n  - id: b\n    call: status\n    encoding: json\n",
        )
        .unwrap();
    let encodings: Vec<_> = scenario.cases.iter().map(|c| c.encoding).collect();
    assert_eq!(encodings, [Some(Encoding::Get), Some(Encoding::PgXml)]);
    assert_eq!(scenario.steps[0].encoding, None);
    assert_eq!(scenario.steps[1].encoding, Some(Encoding::Json));
    let plain =
        load("name: t\nencoding: urlencoded\nsteps:\n  - id: a\n    call: status\n").unwrap();
    assert_eq!(plain.cases[0].encoding, Some(Encoding::Urlencoded));

    let error = fail("name: t\nsteps:\n  - id: a\n    call: status\n    encoding: xml\n");
    assert!(error.contains("5:15: unknown encoding `xml`"), "{error}");
    assert!(
        error.contains("encodings are multipart, urlencoded, get, pg_xml, json"),
        "{error}"
    );
    let error = fail(
        "name: t\nmatrix:\n  - { wire: get }\n  - { wire: gett }\nencoding: \"{{ wire }}\"\nsteps:\n  - id: a\n    call: status\n",
    );
    assert!(error.contains("unknown encoding `gett`"), "{error}");
    assert!(
        error.contains("test.yaml:4:13: unknown encoding `gett`"),
        "{error}"
    );
    let error = fail("name: t\nencoding: \"{{ nope }}\"\nsteps:\n  - id: a\n    call: status\n");
    assert!(error.contains("`nope` is not defined"), "{error}");
    let error = fail(
        "name: t\nencoding: \"{{ a }}-x\"\nvars: { a: get }\nsteps:\n  - id: a\n    call: status\n",
    );
    assert!(
        error.contains("`encoding` takes a name or one variable"),
        "{error}"
    );
}

#[test]
fn directories_are_read_sorted_skipping_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    let ok = "name: t\nsteps:\n  - id: a\n    call: status\n";
    write("b.yaml", ok);
    write("a.yml", ok);
    write("harness.yaml", "format: 1\n");
    write("notes.txt", "not yaml");
    write(
        "broken.yaml",
        "name: t\nsteps:\n  - id: a\n    call: nope\n",
    );
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/c.yaml"), ok).unwrap();
    let missing = dir.path().join("missing.yaml");
    let (scenarios, errors) = load_paths(&[dir.path().to_owned(), missing.clone()]);
    let stems: Vec<&str> = scenarios.iter().map(|s| s.stem.as_str()).collect();
    assert_eq!(stems, ["a", "b"]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].kind(), ErrorKind::Io);
    assert_eq!(errors[0].file(), missing);
    assert_eq!(errors[1].kind(), ErrorKind::UnknownCall);

    write("a.yaml", ok);
    let (scenarios, errors) = load_paths(&[dir.path().join("a.yml"), dir.path().join("a.yaml")]);
    assert_eq!(scenarios.len(), 1);
    assert_eq!(errors[0].kind(), ErrorKind::DuplicateScenario);
}

//! `fph run`, `fph list` and `fph lint` on the shipped scenarios and on broken input.

use std::path::Path;

use crate::support::{Dir, SHIPPED_CASES};

#[test]
fn shipped_scenarios_replay_offline_and_pass() {
    let dir = Dir::with_shipped();
    let run = dir.fph().args(["run"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "{SHIPPED_CASES} passed, 0 failed, {SHIPPED_CASES} total"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("(replay of recordings made against emulator)"),
        "{}",
        run.stdout
    );
}

#[test]
fn shipped_scenarios_pass_live_against_the_built_in_emulator() {
    let dir = Dir::with_shipped();
    let run = dir.fph().args(["run", "--mode", "live"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("{SHIPPED_CASES} passed")),
        "{}",
        run.stdout
    );
}

#[test]
fn list_prints_every_case_with_tags() {
    let dir = Dir::with_shipped();
    let run = dir.fph().args(["list", "--tag", "resend"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "resend_code::default  [resend]\n");
    let all = dir.fph().args(["list"]).run();
    assert_eq!(all.stdout.lines().count(), SHIPPED_CASES);
}

#[test]
fn filter_selects_cases_by_id() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["run", "--filter", "sms_approval/operator=KCELL"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("1 passed, 0 failed, 1 total"),
        "{}",
        run.stdout
    );
}

/// Every report names a case `scenario::case`; `--filter` takes that name as printed (and
/// `scenario/case`, the old spelling, as an alias) in `fph run` and `fph list`.
#[test]
fn filter_takes_the_case_name_as_reports_print_it() {
    let dir = Dir::with_shipped();
    let listed = dir.fph().args(["list"]).run();
    let name = listed
        .stdout
        .lines()
        .find(|line| line.starts_with("sms_approval::operator=ACTIVKZT"))
        .and_then(|line| line.split(' ').next())
        .unwrap_or_else(|| panic!("{}", listed.stdout))
        .to_owned();
    for filter in [
        name.as_str(),
        "sms_approval/operator=ACTIVKZT",
        "approval::operator=ACTIV",
    ] {
        let run = dir
            .fph()
            .args(["run", "--report", "json", "--filter", filter])
            .run();
        assert_eq!(run.code, 0, "{filter}: {}", run.stderr);
        let names: Vec<String> = run
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "case")
            .map(|v| v["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(names, [name.as_str()], "{filter}");
        let list = dir.fph().args(["list", "--filter", filter]).run();
        assert_eq!(list.stdout.lines().count(), 1, "{filter}: {}", list.stdout);
    }
    let help = dir.fph().args(["run", "--help"]).run();
    assert!(help.stdout.contains("`scenario::case`"), "{}", help.stdout);
}

#[test]
fn json_report_is_one_object_per_case() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["run", "--report", "json", "--tag", "process"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run.stdout.lines().next().unwrap();
    assert!(
        line.starts_with(
            "{\"type\":\"case\",\"version\":1,\"name\":\"code_then_process::default\""
        ),
        "{line}"
    );
    assert!(line.contains("\"passed\":true"), "{line}");
}

#[test]
fn junit_report_is_written() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["run", "--junit", "junit.xml", "--tag", "resend"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let xml = dir.read("junit.xml");
    assert!(xml.contains("<testsuite name=\"resend_code\""), "{xml}");
    assert!(xml.contains("<testcase name=\"default\""), "{xml}");
}

#[test]
fn every_broken_scenario_is_bad_input_with_its_diagnostic() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let mut checked = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let expected = std::fs::read_to_string(path.with_extension("expected")).unwrap();
        let headline = expected.lines().next().unwrap();
        // The fixture's expected text names the file as `tests/fixtures/broken/x.yaml`.
        let dir = Dir::new();
        let target = dir.path().join("tests/fixtures/broken");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::copy(&path, target.join(path.file_name().unwrap())).unwrap();
        let relative = format!(
            "tests/fixtures/broken/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        for command in ["lint", "run"] {
            let run = dir.fph().args([command, relative.as_str()]).run();
            assert_eq!(run.code, 2, "{command} {relative}: {}", run.stderr);
            assert!(
                run.stderr.contains(headline),
                "{command} {relative}:\n{}\nwanted: {headline}",
                run.stderr
            );
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} fixtures");
}

#[test]
fn a_missing_cassette_fails_and_says_how_to_record_it() {
    let dir = Dir::with_shipped();
    std::fs::remove_dir_all(dir.path().join("recordings/wrong_code")).unwrap();
    let run = dir.fph().args(["run", "--filter", "wrong_code"]).run();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("no cassette at recordings/wrong_code/default.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("record it with `fph run --mode record scenarios/wrong_code.yaml --filter 'wrong_code::default'`"),
        "{}",
        run.stdout
    );
}

#[test]
fn production_is_refused_unless_allowed() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "1")
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .args(["run", "--mode", "live", "--target", "production"])
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("refusing to send requests to production"),
        "{}",
        run.stderr
    );
    let url = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "1")
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .args([
            "run",
            "--mode",
            "record",
            "--target",
            "https://api.freedompay.kz",
        ])
        .run();
    assert_eq!(
        url.code, 2,
        "a URL on the production host is production too"
    );
}

#[test]
fn a_live_run_on_the_sandbox_needs_credentials() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--target", "sandbox"])
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("FREEDOMPAY_MERCHANT_ID and FREEDOMPAY_SECRET_KEY"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_target_is_bad_input() {
    let run = Dir::with_shipped()
        .fph()
        .args(["run", "--target", "staging"])
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown target `staging`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_failure_report_shows_the_step_the_values_and_the_answer_with_redactions() {
    let dir = Dir::with_shipped();
    dir.write(
        "scenarios/expects_too_much.yaml",
        "name: Expects too much\nsteps:\n  - id: init\n    call: init\n    form: { pg_amount: \"5\", pg_description: x }\n    expect: { pg_status: ok, pg_currency: USD }\n",
    );
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--filter", "expects_too_much"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("FAIL expects_too_much::default"), "{out}");
    assert!(
        out.contains("step `init` (init /init_payment.php, attempt 1)"),
        "{out}"
    );
    assert!(
        out.contains("pg_currency:\n        expected: \"USD\"\n        actual:   (absent)"),
        "{out}"
    );
    // The place in the scenario that asked for it, rustc-style.
    assert!(
        out.contains(concat!(
            "        --> scenarios/expects_too_much.yaml:6:43\n",
            "         |\n",
            "       6 |     expect: { pg_status: ok, pg_currency: USD }\n",
            "         |                                           ^^^ expected \"USD\", actual (absent)\n"
        )),
        "{out}"
    );
    assert!(out.contains("pg_merchant_id={{merchant_id}}"), "{out}");
    assert!(out.contains("<pg_status>ok</pg_status>"), "{out}");
    assert!(
        !out.contains("552170"),
        "the merchant id is redacted in reports: {out}"
    );
}

#[test]
fn a_proxy_in_the_environment_does_not_capture_the_built_in_emulator() {
    // Port 9 (discard) on loopback: a client that went through this proxy would fail.
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--filter", "immediate_success"])
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("2 passed"), "{}", run.stdout);
}

#[test]
fn a_selection_that_matches_nothing_is_bad_input() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["run", "--filter", "sms_aproval", "--tag", "sms"])
        .run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "error: no case matches --filter \"sms_aproval\" --tag sms; `fph list` shows every case and its tags"
        ),
        "{}",
        run.stderr
    );
    let drift = dir.fph().args(["drift", "--tag", "nope"]).run();
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(
        drift.stderr.contains("no case matches --tag nope"),
        "{}",
        drift.stderr
    );
}

/// The runner accepts an unsigned answer exactly for the codes the gateway leaves unsigned
/// (9997, 9998, 100, 101 by default; `unsigned_error_codes` in harness.yaml).
#[test]
fn unsigned_answers_pass_only_for_the_configured_codes() {
    let dir = Dir::with_shipped();
    let run = |filter: &str| dir.fph().args(["run", "--filter", filter]).run();
    for scenario in ["unknown_merchant", "bad_signature"] {
        let passed = run(scenario);
        assert_eq!(passed.code, 0, "{scenario}: {}", passed.stdout);
    }
    dir.write(
        "scenarios/harness.yaml",
        "format: 1\nunsigned_error_codes: [9998]\n",
    );
    assert_eq!(run("bad_signature").code, 0);
    let refused = run("unknown_merchant");
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused
            .stdout
            .contains("the answer has no pg_sig (only the errors 9998 may be unsigned"),
        "{}",
        refused.stdout
    );
}

/// A redaction rule added after recording: the recorded phone is the value sent, but the
/// rules now redact it, and a report masks both sides of a diff alike (`- x / + x`): the
/// replay says in words which field and why, and how to fix it.
#[test]
fn a_redaction_rule_added_since_recording_is_named_not_shown_as_an_empty_diff() {
    let dir = Dir::with_shipped();
    dir.write(
        "scenarios/harness.yaml",
        "format: 1\nredact:\n  - { value_pattern: '\\b7\\d{10}\\b', placeholder: phone }\n",
    );
    let run = dir
        .fph()
        .args([
            "run",
            "--filter",
            "sms_approval::operator=KCELLKZT,phone=77017777777",
        ])
        .run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "pg_abonent_phone: the same value under other redaction rules (harness.yaml's `redact`): the recording has it as sent, the rules now redact it"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("- pg_abonent_phone"), "{}", run.stdout);
    assert!(
        run.stdout.contains("fph run --mode record"),
        "{}",
        run.stdout
    );
}

/// Forty cases paying from one phone, whose codes are random per payment.
fn one_phone_scenario(dir: &Dir) {
    let rows: String = (1..=40)
        .map(|n| format!("  - {{ n: \"{n}\" }}\n"))
        .collect();
    dir.write(
        "scenarios/one_phone.yaml",
        &format!(
            "name: Forty payments from one phone\nvars:\n  phone: \"77011234567\"\nmatrix:\n{rows}steps:\n  \
             - id: init\n    call: init\n    form: {{ pg_order_id: \"{{{{ order_id() }}}}\", pg_amount: \"{{{{ n }}}}.00\", pg_description: \"case {{{{ n }}}}\" }}\n    capture: {{ payment_id: pg_payment_id }}\n  \
             - id: pay\n    call: pay\n    form: {{ pg_payment_id: \"{{{{ payment_id }}}}\", pg_abonent_phone: \"{{{{ phone }}}}\" }}\n    expect: {{ pg_status: need_approve }}\n  \
             - id: approve\n    call: approve\n    form: {{ pg_payment_id: \"{{{{ payment_id }}}}\", pg_approval_code: \"{{{{ sms_code(phone) }}}}\" }}\n    expect: {{ pg_status: {{ one_of: [ok, process] }} }}\n"
        ),
    );
}

/// Regression (safety 15.7): `sms_code(phone)` read the phone's last code, so cases paying
/// from one phone at `-j 8` approved with each other's codes (29 of 40 failed).
#[test]
fn regression_15_7_forty_cases_on_one_phone_at_j8_all_pass() {
    let dir = Dir::new();
    one_phone_scenario(&dir);
    let run = dir.fph().args(["run", "--mode", "live", "-j", "8"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("40 passed, 0 failed"), "{}", run.stdout);
}

/// The same against a standalone `fph emulator` as a URL target: the codes come from its
/// admin API by payment, over the run's own client.
#[test]
fn regression_15_7_forty_cases_on_one_phone_against_a_url_target() {
    let dir = Dir::new();
    one_phone_scenario(&dir);
    let emulator = dir.emulator(&["--merchant", "1001:cli-key"]);
    let run = dir
        .fph()
        .args([
            "run",
            "--mode",
            "live",
            "-j",
            "8",
            "--target",
            &emulator.url,
        ])
        .env("FREEDOMPAY_MERCHANT_ID", "1001")
        .env("FREEDOMPAY_SECRET_KEY", "cli-key")
        .run();
    drop(emulator);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("40 passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn a_replay_in_another_encoding_fails_naming_the_encoding() {
    let dir = Dir::with_shipped();
    let scenario = dir.read("scenarios/sms_approval.yaml");
    dir.write(
        "scenarios/sms_approval.yaml",
        &scenario.replace("steps:\n", "encoding: json\nsteps:\n"),
    );
    let run = dir.fph().args(["run", "scenarios/sms_approval.yaml"]).run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("  - encoding: multipart\n")
            && run.stdout.contains("  + encoding: json\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("0 passed, 5 failed"), "{}", run.stdout);
}

/// Done when (data-flow issue): a failing expectation in any shipped scenario prints its
/// file:line:column and a caret under the value, in the human report, the JSON lines and
/// the JUnit report.
#[test]
fn a_failing_expectation_in_any_shipped_scenario_points_at_its_line() {
    let dir = Dir::with_shipped();
    let pattern = regex::Regex::new(r"\bpg_status: (\w+)").unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.path().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || name == "harness.yaml" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let Some(found) = pattern.captures(&text) else {
            continue;
        };
        let value = found.get(1).unwrap();
        let line = text[..value.start()].matches('\n').count() + 1;
        let column = value.start() - text[..value.start()].rfind('\n').map_or(0, |i| i + 1) + 1;
        std::fs::write(
            &path,
            format!("{}nope{}", &text[..value.start()], &text[value.end()..]),
        )
        .unwrap();
        let stem = name.trim_end_matches(".yaml");
        let filter = format!("{stem}/");
        let human = dir.fph().args(["run", "--filter", &filter]).run();
        assert_eq!(human.code, 1, "{name}: {}", human.stdout);
        let at = format!("--> scenarios/{name}:{line}:{column}");
        assert!(
            human.stdout.contains(&at),
            "{name}: no {at} in\n{}",
            human.stdout
        );
        let caret = format!("^^^^ expected \"nope\", actual \"{}\"", value.as_str());
        assert!(human.stdout.contains(&caret), "{name}: {}", human.stdout);
        let json = dir
            .fph()
            .args(["run", "--filter", &filter, "--report", "json"])
            .run();
        let position = format!(
            "\"passed\":false,\"file\":\"scenarios/{name}\",\"line\":{line},\"column\":{column}"
        );
        assert!(json.stdout.contains(&position), "{name}: {}", json.stdout);
        dir.fph()
            .args(["run", "--filter", &filter, "--junit", "junit.xml"])
            .run();
        let xml = dir.read("junit.xml");
        assert!(
            xml.contains(&format!("file=\"scenarios/{name}\" line=\"{line}\"")),
            "{name}: {xml}"
        );
        std::fs::write(&path, text).unwrap();
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} shipped scenarios expect a pg_status"
    );
}

#[test]
fn several_filters_widen_and_excluded_tags_narrow_the_selection() {
    let dir = Dir::with_shipped();
    let list = |args: &[&str]| {
        let run = dir.fph().args(["list"]).args(args.iter().copied()).run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let both = list(&[
        "--filter",
        "resend_code",
        "--filter",
        "sms_approval/operator=KCELL",
    ]);
    assert_eq!(both.lines().count(), 2, "{both}");
    let errors = list(&["--tag", "errors"]).lines().count();
    let errors_but_pay = list(&["--tag", "errors", "--exclude-tag", "pay"]);
    assert!(errors_but_pay.lines().count() < errors, "{errors_but_pay}");
    assert!(errors_but_pay.contains("errors]"), "{errors_but_pay}");
    assert!(!errors_but_pay.contains("[pay"), "{errors_but_pay}");
    let run = dir
        .fph()
        .args(["run", "--tag", "resend", "--exclude-tag", "resend"])
        .run();
    assert_eq!(run.code, 2, "nothing selected is bad input");
    assert!(
        run.stderr.contains("--exclude-tag resend"),
        "{}",
        run.stderr
    );
}

#[test]
fn list_as_json_names_each_case_its_file_and_tags() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["list", "--format", "json", "--tag", "resend"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(line["id"], "resend_code::default");
    assert_eq!(line["case"], "default");
    assert_eq!(line["file"], "scenarios/resend_code.yaml");
    assert_eq!(line["tags"], serde_json::json!(["resend"]));
}

#[test]
fn fail_fast_stops_after_the_first_failure_and_reports_the_rest_as_not_run() {
    let dir = Dir::with_shipped();
    // Sorted first, so with one job it fails before any other case starts.
    dir.write(
        "scenarios/aaa_fails.yaml",
        "name: Fails\nsteps:\n  - id: init\n    call: init\n    form: { pg_amount: \"5\", pg_description: x }\n    expect: { pg_status: nope }\n",
    );
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--fail-fast", "-j", "1"])
        .run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("FAIL aaa_fails::default"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("PASS "),
        "nothing ran after it: {}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("SKIP ").count(),
        SHIPPED_CASES,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0 passed, 1 failed, 1 total")
            && run.stdout.contains(&format!("{SHIPPED_CASES} not run")),
        "{}",
        run.stdout
    );
    let json = dir
        .fph()
        .args([
            "run",
            "--mode",
            "live",
            "--fail-fast",
            "-j",
            "1",
            "--report",
            "json",
            "--junit",
            "junit.xml",
            "--report",
            "html=report",
        ])
        .run();
    let not_run = json
        .stdout
        .lines()
        .filter(|l| l.contains("\"status\":\"not_run\""))
        .count();
    assert_eq!(not_run, SHIPPED_CASES, "{}", json.stdout);
    // The files too: every selected case is there, the ones not started as such.
    let junit = dir.read("junit.xml");
    assert_eq!(
        junit.matches("<testcase ").count(),
        SHIPPED_CASES + 1,
        "{junit}"
    );
    assert_eq!(
        junit
            .matches("<skipped message=\"not run: --fail-fast stopped after a failure\"")
            .count(),
        SHIPPED_CASES,
        "{junit}"
    );
    assert!(junit.contains("<failure "), "{junit}");
    let html = dir.read("report/index.html");
    assert!(
        html.contains(&format!("{SHIPPED_CASES} not run</span>")),
        "{html}"
    );
    // Without --fail-fast every case runs.
    let all = dir.fph().args(["run", "--mode", "live", "-j", "1"]).run();
    assert!(
        all.stdout
            .contains(&format!("{SHIPPED_CASES} passed, 1 failed")),
        "{}",
        all.stdout
    );
}

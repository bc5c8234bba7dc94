//! Every reporter on a run with passing, failing and erroring cases: the machine reports
//! (JSON lines, JUnit) parsed back, the human report, the HTML report (in headless Chromium
//! too); the progress bar, `--verbose`, `--quiet` and the shell completions.

use crate::support::Dir;

/// Three scenarios against the built-in emulator (live mode): one passes, one fails (a value
/// and the expected body differ), one errors (its answer is not signed).
pub fn mixed_suite() -> Dir {
    let dir = Dir::new();
    let init = "  - id: init\n    call: init\n    form: { pg_amount: \"5\", pg_description: \"<b>&amp; x</b>\" }\n";
    dir.write(
        "scenarios/passes.yaml",
        &format!("name: Passes\nsteps:\n{init}    expect: {{ pg_status: ok }}\n"),
    );
    dir.write(
        "scenarios/fails.yaml",
        &format!(
            "name: Fails\nsteps:\n{init}    expect: {{ pg_status: nope }}\n    expect_body:\n      file: bodies/init.xml\n      ignore: [pg_salt, pg_sig, pg_payment_id, pg_redirect_url]\n"
        ),
    );
    dir.write(
        "scenarios/bodies/init.xml",
        "<response><pg_status>ok</pg_status><pg_payment_id>0</pg_payment_id><pg_redirect_url>x</pg_redirect_url><pg_redirect_url_type>other kind</pg_redirect_url_type><pg_salt>x</pg_salt><pg_sig>x</pg_sig></response>\n",
    );
    // An unknown merchant gets an unsigned answer, which only the listed codes may be.
    dir.write(
        "scenarios/harness.yaml",
        "format: 1\nunsigned_error_codes: [9998]\n",
    );
    dir.write(
        "scenarios/errors.yaml",
        "name: Errors\nsteps:\n  - id: init\n    call: init\n    form: { pg_merchant_id: \"1\", pg_amount: \"5\", pg_description: x }\n",
    );
    dir
}

#[test]
fn json_lines_follow_the_documented_schema_version_one() {
    let dir = mixed_suite();
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--report", "json", "-j", "1"])
        .run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 4, "three cases and a summary: {}", run.stdout);
    assert!(lines.iter().all(|l| l["version"] == 1), "{}", run.stdout);
    let case = |name: &str| {
        lines
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {}", run.stdout))
    };
    assert_eq!(case("passes::default")["status"], "passed");
    let failed = case("fails::default");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["scenario_file"], "scenarios/fails.yaml");
    assert_eq!(failed["file"], "scenarios/fails.yaml");
    // The first failure the human report points at: the expected body that differs.
    assert_eq!(failed["line"], 8, "{failed}");
    assert_eq!(failed["steps"][0]["checks"][0]["expected"], "\"nope\"");
    assert_eq!(failed["steps"][0]["checks"][0]["line"], 6);
    let errored = case("errors::default");
    assert_eq!(errored["status"], "errored");
    assert!(
        errored["steps"][0]["failure"]
            .as_str()
            .unwrap()
            .contains("no pg_sig"),
        "{errored}"
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (&summary["passed"], &summary["failed"], &summary["errored"]),
        (&1.into(), &1.into(), &1.into()),
        "{summary}"
    );
    assert_eq!(summary["mode"], "live");
    assert_eq!(summary["target"], "emulator");
}

#[test]
fn junit_is_well_formed_xml_with_failures_and_errors() {
    use quick_xml::events::Event;
    let dir = mixed_suite();
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--junit", "junit.xml"])
        .run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let xml = dir.read("junit.xml");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors) = (Vec::new(), 0, 0);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => match e.name().as_ref() {
                "testcase" => {
                    let attr = |key: &str| {
                        e.try_get_attribute(key).unwrap().map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned()
                        })
                    };
                    cases.push((attr("name"), attr("file"), attr("line")));
                }
                "failure" => failures += 1,
                "error" => errors += 1,
                _ => {}
            },
            Ok(_) => {}
            Err(error) => panic!(
                "not well-formed at {}: {error}\n{xml}",
                reader.error_position()
            ),
        }
    }
    assert_eq!(cases.len(), 3, "{xml}");
    assert_eq!((failures, errors), (1, 1), "{xml}");
    assert!(
        cases.contains(&(
            Some("default".into()),
            Some("scenarios/fails.yaml".into()),
            Some("8".into())
        )),
        "{cases:?}"
    );
}

#[test]
fn verbose_prints_each_request_and_answer_masked() {
    let dir = mixed_suite();
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--verbose", "--filter", "passes"])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let err = &run.stderr;
    assert!(
        err.contains("→ passes::default init (init /init_payment.php, attempt 1)"),
        "{err}"
    );
    assert!(err.contains("pg_merchant_id={{merchant_id}}"), "{err}");
    assert!(err.contains("← passes::default init: HTTP 200 in"), "{err}");
    assert!(err.contains("<pg_status>ok</pg_status>"), "{err}");
    assert!(
        !err.contains("552170"),
        "the merchant id is redacted: {err}"
    );
    assert!(
        !run.stdout.contains("→"),
        "the report stays on stdout alone"
    );
}

#[test]
fn quiet_prints_only_failures_and_the_summary() {
    let dir = mixed_suite();
    let run = dir.fph().args(["run", "--mode", "live", "--quiet"]).run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
    assert!(run.stdout.contains("FAIL fails::default"), "{}", run.stdout);
    assert!(
        run.stdout.contains("FAIL errors::default"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 passed, 2 failed"), "{}", run.stdout);
}

/// The bar needs a terminal: `script` gives the run one (standard output and error both,
/// unless the command redirects one).
#[test]
fn the_progress_bar_shows_on_a_terminal_and_hides_under_ci() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to give fph a terminal");
        return;
    }
    let dir = mixed_suite();
    let on_terminal = |ci: Option<&str>, redirect: &str| {
        let command = format!(
            "{} run --mode live -j 1{redirect}",
            env!("CARGO_BIN_EXE_fph")
        );
        let mut script = std::process::Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env_remove("CI");
        if let Some(ci) = ci {
            script.env("CI", ci);
        }
        String::from_utf8_lossy(&script.output().unwrap().stdout).into_owned()
    };
    let shown = on_terminal(None, "");
    assert!(shown.contains("/3 cases, "), "{shown}");
    assert!(shown.contains("1 passed, 2 failed"), "{shown}");
    // Never interleaved: the bar is cleared (`\r`, erase line) before a report line is
    // written, so no stretch between two line breaks or carriage returns holds both.
    for piece in shown.split(['\r', '\n']) {
        if piece.contains("cases, ") {
            for report in ["PASS ", "FAIL ", "expected:", "passed, "] {
                assert!(
                    !piece.contains(report),
                    "the bar and the report share a line: {piece:?}\n{shown}"
                );
            }
        }
    }
    let ci = on_terminal(Some("true"), "");
    assert!(!ci.contains("cases, "), "{ci}");
    assert!(ci.contains("1 passed, 2 failed"), "{ci}");
    // Standard output on the terminal, standard error into a file: no bar anywhere.
    let piped = on_terminal(None, " 2>stderr.txt");
    assert!(piped.contains("1 passed, 2 failed"), "{piped}");
    assert!(!piped.contains("cases, "), "{piped}");
    let stderr = dir.read("stderr.txt");
    assert!(!stderr.contains("cases, "), "{stderr}");
}

/// A secret in a form field: the guard must keep it out of every report.
const SECRET: &str = "Tq8vR2xLm9Kp4Zs7";

/// The mixed suite run live with credentials from the environment, a secret in a form field,
/// and an HTML report in `report/`.
fn html_run() -> (Dir, crate::support::Run) {
    let dir = mixed_suite();
    dir.write(
        "scenarios/fails.yaml",
        &format!(
            "name: Fails\nsteps:\n  - id: init\n    call: init\n    form: {{ pg_amount: \"5\", pg_description: \"<script>alert(1)</script> {SECRET}\" }}\n    expect: {{ pg_status: nope }}\n    expect_body:\n      file: bodies/init.xml\n      ignore: [pg_salt, pg_sig, pg_payment_id, pg_redirect_url]\n"
        ),
    );
    let run = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "777001")
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .args(["run", "--mode", "live", "--report", "html=report", "-q"])
        .run();
    (dir, run)
}

#[test]
fn the_html_report_is_self_contained_escaped_and_masked() {
    let (dir, run) = html_run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("HTML report: report/index.html"),
        "{}",
        run.stderr
    );
    let html = dir.read("report/index.html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("1 passed</span>"), "{html}");
    assert!(html.contains("1 failed</span>"), "{html}");
    assert!(html.contains("1 errored</span>"), "{html}");
    assert!(html.contains("live mode, target emulator"), "{html}");
    assert!(
        html.contains("data-status=\"failed\" data-name=\"fails::default\""),
        "{html}"
    );
    assert!(html.contains("scenarios/fails.yaml:6:26"), "{html}");
    assert!(
        html.contains("<span class=\"del\">-  &lt;pg_redirect_url_type&gt;other kind"),
        "{html}"
    );
    // What came from the scenario and the gateway is text, never markup.
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains(SECRET), "the secret leaked: {html}");
    assert!(
        !html.contains("777001"),
        "the merchant id is masked: {html}"
    );
    // Nothing fetched: no external URL in any src or href.
    assert!(!html.contains("src=\"http"), "{html}");
    assert!(!html.contains("href=\"http"), "{html}");
}

/// A result callback in the HTML report: what the gateway sent the merchant, what the
/// scenario replied, and the checks on it with their scenario lines (a shipped scenario,
/// replayed).
#[test]
fn the_html_report_shows_callbacks_and_the_replies() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args([
            "run",
            "--filter",
            "callback_result::method=POST",
            "--report",
            "html=report",
        ])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let html = dir.read("report/index.html");
    let paid = html
        .split("<details class=\"step\">")
        .find(|step| step.contains("step <b>paid</b> (result_callback"))
        .unwrap_or_else(|| panic!("no step paid: {html}"));
    assert!(paid.contains("<h4>result callback 1</h4>"), "{paid}");
    assert!(paid.contains("pg_result=1\n"), "{paid}");
    assert!(
        paid.contains("<h4>reply <span class=\"where\">HTTP 200, "),
        "{paid}"
    );
    assert!(
        paid.contains("&lt;pg_description&gt;Order "),
        "the scenario's reply: {paid}"
    );
    assert!(
        paid.contains("<td>pg_result</td><td>&quot;1&quot;</td><td>&quot;1&quot;</td>"),
        "{paid}"
    );
    assert!(paid.contains("scenarios/callback_result.yaml:"), "{paid}");
}

/// Chromium at /usr/bin/chromium or on PATH, if any.
fn chromium() -> Option<std::path::PathBuf> {
    let fixed = std::path::PathBuf::from("/usr/bin/chromium");
    if fixed.exists() {
        return Some(fixed);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|path| path.exists())
    })
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: no Chromium at /usr/bin/chromium or on PATH (apt-get install -y chromium)"
        );
        return;
    };
    let (dir, run) = html_run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let page = format!("file://{}", dir.path().join("report/index.html").display());
    let headless = |extra: &[&str]| {
        let output = std::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
            ])
            .args(extra)
            .arg(&page)
            .env("HOME", dir.path())
            .output()
            .expect("run chromium");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let dom = headless(&["--dump-dom"]);
    assert!(dom.contains("data-ready=\"yes\""), "the script ran: {dom}");
    assert!(
        dom.contains(
            "<tr class=\"case failed\" data-status=\"failed\" data-name=\"fails::default\">"
        ),
        "the failing case is marked: {dom}"
    );
    assert!(dom.contains("<details class=\"step\" open=\"\">"), "{dom}");
    assert!(
        dom.contains("<span class=\"del\">-  &lt;pg_redirect_url_type&gt;other kind"),
        "its diff: {dom}"
    );
    assert!(
        dom.contains("scenarios/fails.yaml:6:26"),
        "its scenario line: {dom}"
    );
    assert!(!dom.contains(SECRET), "no secret: {dom}");
    assert!(!dom.contains("<script>alert"), "{dom}");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fph-html-report.png");
    let _ = std::fs::remove_file(&shot);
    headless(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1280,2000",
    ]);
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "no screenshot at {}",
        shot.display()
    );
    eprintln!("screenshot of the HTML report: {}", shot.display());
}

#[test]
fn the_human_report_shows_each_case_and_points_into_the_scenario() {
    let dir = mixed_suite();
    let run = dir.fph().args(["run", "--mode", "live", "-j", "1"]).run();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("PASS passes::default"), "{out}");
    assert!(out.contains("FAIL fails::default"), "{out}");
    assert!(out.contains("--> scenarios/fails.yaml:8:13"), "{out}");
    assert!(
        out.contains("-  <pg_redirect_url_type>other kind</pg_redirect_url_type>"),
        "{out}"
    );
    assert!(out.contains("FAIL errors::default"), "{out}");
    assert!(out.contains("the answer has no pg_sig"), "{out}");
    assert!(out.contains("1 passed, 2 failed, 3 total"), "{out}");
}

#[test]
fn completions_cover_the_commands_and_their_flags() {
    let dir = Dir::new();
    let bash = dir.fph().args(["completions", "bash"]).run();
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    let bash_script = bash.stdout.clone();
    for word in ["--fail-fast", "--exclude-tag", "--verbose", "list", "drift"] {
        assert!(
            bash.stdout.contains(word),
            "no {word} in the bash completions"
        );
    }
    let zsh = dir.fph().args(["completions", "zsh"]).run();
    assert!(zsh.stdout.starts_with("#compdef fph"), "{}", zsh.stdout);
    let fish = dir.fph().args(["completions", "fish"]).run();
    assert!(fish.stdout.contains("complete -c fph "), "{}", fish.stdout);
    assert!(fish.stdout.contains("-l fail-fast"), "{}", fish.stdout);
    let powershell = dir.fph().args(["completions", "powershell"]).run();
    assert!(
        powershell
            .stdout
            .contains("Register-ArgumentCompleter -Native -CommandName 'fph'"),
        "{}",
        powershell.stdout
    );
    // Loaded into bash, the script completes a flag.
    let completed = std::process::Command::new("bash")
        .arg("-c")
        .arg(
            "source /dev/stdin; COMP_WORDS=(fph run --fail); COMP_CWORD=2; \
             COMP_LINE='fph run --fail'; COMP_POINT=${#COMP_LINE}; \
             _fph fph --fail run; echo \"${COMPREPLY[@]}\"",
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut bash| {
            use std::io::Write as _;
            bash.stdin
                .take()
                .unwrap()
                .write_all(bash_script.as_bytes())?;
            bash.wait_with_output()
        });
    match completed {
        Ok(output) => assert_eq!(String::from_utf8_lossy(&output.stdout), "--fail-fast\n"),
        Err(error) => eprintln!("skipped the bash check: no bash ({error})"),
    }
    let bad = dir.fph().args(["completions", "tcsh"]).run();
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

/// Regression: with a one-character merchant id, the reports showed `{{merchant_id}}` in
/// check lines and scenario snippets that merely held a `1`. Through the human and the JSON
/// report: it is masked where it is the merchant id (the request field, the expectation of a
/// check on `pg_merchant_id`, the gateway's error description) and shown everywhere else.
#[test]
fn a_short_merchant_id_is_masked_in_reports_only_where_it_is_the_merchant_id() {
    let dir = Dir::new();
    dir.write(
        "emulator.yaml",
        "merchants: { \"1\": short-id-key }\nanswer_changes:\n  - { call: init, add: { pg_error_description: \"merchant 1 not found\" } }\n",
    );
    dir.write(
        "scenarios/short.yaml",
        "name: Short\nsteps:\n  - id: init\n    call: init\n    form: { pg_amount: \"5\", pg_description: x }\n    expect: { pg_status: \"1\", pg_merchant_id: \"1\", pg_error_description: none }\n",
    );
    let emulator = dir.emulator(&["--config", "emulator.yaml"]);
    let run = |report: &str| {
        dir.fph()
            .args([
                "--color", "never", "run", "--mode", "live", "--report", report,
            ])
            .args(["--target", &emulator.url])
            .env("FREEDOMPAY_MERCHANT_ID", "1")
            .env("FREEDOMPAY_SECRET_KEY", "short-id-key")
            .run()
    };
    let human = run("human");
    assert_eq!(human.code, 1, "{}{}", human.stdout, human.stderr);
    let out = &human.stdout;
    // Shown as written: a check on another field, the scenario's line, another field.
    assert!(
        out.contains("pg_status:\n        expected: \"1\"\n        actual:   \"ok\""),
        "{out}"
    );
    assert!(
        out.contains(
            "expect: { pg_status: \"1\", pg_merchant_id: \"1\", pg_error_description: none }"
        ),
        "{out}"
    );
    assert!(out.contains("pg_testing_mode=1\n"), "{out}");
    // Masked where it is the merchant id.
    assert!(out.contains("pg_merchant_id={{merchant_id}}"), "{out}");
    assert!(
        out.contains("pg_merchant_id:\n        expected: \"{{merchant_id}}\""),
        "{out}"
    );
    assert!(out.contains("merchant {{merchant_id}} not found"), "{out}");
    assert!(!out.contains("merchant 1 not found"), "{out}");

    let json = run("json");
    assert_eq!(json.code, 1, "{}{}", json.stdout, json.stderr);
    let case: serde_json::Value =
        serde_json::from_str(json.stdout.lines().next().unwrap()).unwrap();
    let checks = &case["steps"][0]["checks"];
    let check = |path: &str| {
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"] == path)
            .unwrap_or_else(|| panic!("no check on {path}: {case}"))
    };
    assert_eq!(check("pg_status")["expected"], "\"1\"", "{case}");
    assert_eq!(
        check("pg_merchant_id")["expected"],
        "\"{{merchant_id}}\"",
        "{case}"
    );
    assert_eq!(
        check("pg_error_description")["actual"],
        "merchant {{merchant_id}} not found",
        "{case}"
    );
    drop(emulator);
}

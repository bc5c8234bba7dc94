//! `fph drift` and `fph diff-recordings`: what changed since the recordings were made.

use crate::support::{Dir, EmulatorProcess, SHIPPED_CASES, copy_dir};

#[test]
fn drift_against_an_unchanged_emulator_finds_nothing() {
    let dir = Dir::with_shipped();
    let run = dir.fph().args(["drift"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("0 of {SHIPPED_CASES} cases drifted")),
        "{}",
        run.stdout
    );
    let before = dir.files("recordings");
    assert_eq!(dir.files("recordings"), before, "drift never writes");
}

#[test]
fn mode_drift_is_the_same_check() {
    let dir = Dir::with_shipped();
    let run = dir
        .fph()
        .args(["run", "--mode", "drift", "--tag", "resend"])
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("SAME  resend_code::default"),
        "{}",
        run.stdout
    );
}

#[test]
fn drift_without_a_cassette_says_how_to_record() {
    let dir = Dir::with_shipped();
    std::fs::remove_dir_all(dir.path().join("recordings/resend_code")).unwrap();
    let run = dir.fph().args(["drift", "--tag", "resend"]).run();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("no cassette at recordings/resend_code/default.yaml to compare with"),
        "{}",
        run.stdout
    );
}

/// Two copies of the shipped recordings, the second edited by `edit` in one cassette.
fn two_recordings(edit: impl FnOnce(String) -> String) -> Dir {
    let dir = Dir::with_shipped();
    copy_dir(&dir.path().join("recordings"), &dir.path().join("after"));
    let path = dir.path().join("after/wrong_code/default.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text);
    std::fs::write(&path, edited).unwrap();
    dir
}

#[test]
fn diff_recordings_classifies_each_kind_of_change() {
    let cases = [
        (
            "<pg_status>need_approve</pg_status>",
            "<pg_status>approve_needed</pg_status>",
            "status changed pg_status",
        ),
        (
            "<pg_error_code>11002</pg_error_code>",
            "<pg_error_code>11002</pg_error_code>\n        <pg_attempts_left>2</pg_attempts_left>",
            "field added pg_attempts_left",
        ),
        (
            "<pg_error_code>11002</pg_error_code>",
            "",
            "field removed pg_error_code",
        ),
        (
            "<pg_error_code>11002</pg_error_code>",
            "<pg_error_code>11029</pg_error_code>",
            "value changed pg_error_code",
        ),
        (
            "<pg_error_code>11002</pg_error_code>",
            "<pg_error_code>E11002</pg_error_code>",
            "type changed pg_error_code",
        ),
    ];
    for (from, to, expected) in cases {
        let dir = two_recordings(|t| t.replacen(from, to, 1));
        let run = dir
            .fph()
            .args(["diff-recordings", "recordings", "after"])
            .run();
        assert_eq!(run.code, 3, "{expected}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("DRIFT wrong_code::default"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(expected), "{expected}: {}", run.stdout);
        assert!(
            // The 22 cases of the shipped scenarios and the proxy's demo session.
            run.stdout
                .contains(&format!("1 of {} cases drifted", SHIPPED_CASES + 1)),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn diff_recordings_of_identical_sets_is_clean_and_json_is_available() {
    let dir = two_recordings(|t| t.replacen("elapsed_ms: ", "elapsed_ms: 1", 1));
    let run = dir
        .fph()
        .args(["diff-recordings", "recordings", "after", "--report", "json"])
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.lines().count(),
        SHIPPED_CASES + 1,
        "the shipped cases and the proxy demo session"
    );
    assert!(
        run.stdout.lines().all(|l| l.contains("\"drifted\":false")),
        "{}",
        run.stdout
    );
}

/// `fph emulator --quiet` with `args` (quiet: nobody reads its log).
fn emulator(dir: &Dir, args: &[&str]) -> EmulatorProcess {
    dir.emulator(&[&["--quiet"], args].concat())
}

/// The emulator answering as a changed gateway would.
fn changed_gateway(dir: &Dir) -> EmulatorProcess {
    emulator(dir, &["--profile", "changed-gateway"])
}

#[test]
fn drift_against_a_changed_gateway_classifies_and_accept_rewrites_only_what_drifted() {
    let dir = Dir::with_shipped();
    let gateway = changed_gateway(&dir);
    let drift = |extra: &[&str]| {
        dir.fph()
            .demo_merchant()
            .args(["drift", "--target", gateway.url.as_str()])
            .args(extra)
            .run()
    };
    let run = drift(&[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    for expected in [
        "DRIFT sms_approval::operator=KCELLKZT,phone=77017777777",
        "step `init`: field added pg_payment_token: \"tok-1\"",
        "step `pay`: status changed pg_status: \"need_approve\" → \"approve_needed\"",
        "step `status`: field removed pg_captured",
        "step `status`: field added pg_is_captured",
        "step `status`: type changed pg_can_reject: \"0\" → \"no\"",
        "SAME  unknown_payment::default",
        "| status changed |",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    let same = ["unknown_payment", "unknown_merchant", "bad_signature"];
    let before = dir.files("recordings");

    let accepted = drift(&["--accept"]);
    assert_eq!(accepted.code, 3, "{}", accepted.stdout);
    assert!(
        accepted.stdout.contains("re-recorded recordings/"),
        "{}",
        accepted.stdout
    );
    for ((path, old), (_, new)) in before.iter().zip(dir.files("recordings")) {
        // A proxy session's cassette (recordings/proxy/) belongs to no scenario: drift
        // leaves it alone.
        let unchanged = same
            .iter()
            .chain(&["proxy"])
            .any(|s| path.to_string_lossy().contains(&format!("/{s}/")));
        assert_eq!(
            unchanged,
            *old == new,
            "{}\n{}",
            path.display(),
            accepted.stdout
        );
    }
    let again = drift(&[]);
    assert_eq!(
        again.code, 0,
        "after --accept nothing drifts:\n{}",
        again.stdout
    );

    let json = drift(&["--report", "json", "--tag", "resend"]);
    assert_eq!(json.code, 0, "{}", json.stdout);
    assert!(
        json.stdout
            .starts_with("{\"type\":\"drift\",\"name\":\"resend_code::default\""),
        "{}",
        json.stdout
    );
}

/// The error codes the emulator answered before it took the real gateway's table: every
/// code that changed (an invalid phone was a malformed field then).
const OLD_ERROR_TABLE: &str = "error_codes:
  merchant_unknown: 9998
  bad_signature: 101
  payment_expired: 8014
  wrong_code: 8020
  code_expired: 8021
  attempts_exhausted: 8022
  unsupported_phone: 8030
  invalid_phone: 8002
  insufficient_funds: 8032
  operator_error: 8033
";

#[test]
fn drift_against_the_old_error_table_shows_each_changed_code() {
    let dir = Dir::with_shipped();
    std::fs::write(dir.path().join("old.yaml"), OLD_ERROR_TABLE).unwrap();
    let gateway = emulator(&dir, &["--config", "old.yaml"]);
    let run = dir
        .fph()
        .demo_merchant()
        .args(["drift", "--target", gateway.url.as_str()])
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    // Every code the shipped scenarios meet, also where an earlier step already drifted
    // (the third wrong code comes after two), in answers and in the payment's status.
    for expected in [
        "step `wrong_1`: value changed pg_error_code: \"11002\" → \"8020\"",
        "step `wrong_3`: value changed pg_error_code: \"11007\" → \"8022\"",
        "step `status`: value changed pg_failure_code: \"11007\" → \"8022\"",
        "value changed pg_error_code: \"9998\" → \"101\"",
        "value changed pg_error_code: \"11006\" → \"8032\"",
        "value changed pg_failure_code: \"11006\" → \"8032\"",
        "value changed pg_error_code: \"11001\" → \"8033\"",
        "value changed pg_error_code: \"9997\" → \"9998\"",
        "SAME  sms_approval::operator=KCELLKZT,phone=77017777777",
        "| value changed | 13 |",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    // A changed code is a changed value, not a step that fails or did not run.
    assert!(!out.contains("step now fails"), "{out}");
}

#[test]
fn emulator_keeps_serving_when_its_stdout_is_closed() {
    let dir = Dir::with_shipped();
    let mut gateway = changed_gateway(&dir);
    gateway.stdout = None;
    std::thread::sleep(std::time::Duration::from_millis(200));
    let url = gateway.url.clone();
    let run = dir
        .fph()
        .demo_merchant()
        .args([
            "run",
            "--mode",
            "live",
            "--target",
            url.as_str(),
            "--filter",
            "unknown_payment",
        ])
        .run();
    drop(gateway);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

//! Recording and replaying cassettes: round trips, tampering, secrets, interrupted writes.

use std::time::Duration;

use crate::support::{Dir, SHIPPED_CASES, base64};

const CASSETTE: &str = "recordings/wrong_code/default.yaml";

#[test]
fn record_then_replay_round_trips_every_shipped_scenario() {
    let dir = Dir::with_shipped();
    std::fs::remove_dir_all(dir.path().join("recordings")).unwrap();
    let record = dir.fph().args(["run", "--mode", "record"]).run();
    assert_eq!(record.code, 0, "{}{}", record.stdout, record.stderr);
    assert_eq!(dir.files("recordings").len(), SHIPPED_CASES);
    let replay = dir.fph().args(["run"]).run();
    assert_eq!(replay.code, 0, "{}{}", replay.stdout, replay.stderr);
    assert!(
        replay.stdout.contains(&format!("{SHIPPED_CASES} passed")),
        "{}",
        replay.stdout
    );
}

/// A one-character merchant id (`unknown_merchant` sends `pg_merchant_id: "1"`) was written
/// as `{{merchant_id}}` into every field that held `1`; now only where it is the merchant id,
/// and the failure report shows the other fields as sent.
#[test]
fn a_one_character_merchant_id_is_redacted_only_where_it_is_the_merchant_id() {
    let dir = Dir::with_shipped();
    let record = dir
        .fph()
        .args(["run", "--mode", "record", "--filter", "unknown_merchant"])
        .run();
    assert_eq!(record.code, 0, "{}{}", record.stdout, record.stderr);
    let cassette = dir.read("recordings/unknown_merchant/default.yaml");
    assert!(
        cassette.contains("pg_merchant_id: \"{{merchant_id}}\""),
        "{cassette}"
    );
    assert!(cassette.contains("pg_testing_mode: \"1\""), "{cassette}");
    assert!(cassette.contains("pg_amount: \"150\""), "{cassette}");
    assert_eq!(cassette.matches("{{merchant_id}}").count(), 1, "{cassette}");

    dir.write(
        "scenarios/unknown_merchant.yaml",
        &dir.read("scenarios/unknown_merchant.yaml")
            .replace("pg_error_code: \"9997\"", "pg_error_code: \"1\""),
    );
    let run = dir
        .fph()
        .args(["run", "--mode", "live", "--filter", "unknown_merchant"])
        .run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("pg_merchant_id={{merchant_id}}"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("pg_testing_mode=1\n"), "{}", run.stdout);
}

#[test]
fn once_records_only_what_is_missing() {
    let dir = Dir::with_shipped();
    let kept = dir.read("recordings/resend_code/default.yaml");
    std::fs::remove_dir_all(dir.path().join("recordings/wrong_code")).unwrap();
    let run = dir.fph().args(["run", "--mode", "once"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(dir.path().join(CASSETTE).exists());
    assert_eq!(
        dir.read("recordings/resend_code/default.yaml"),
        kept,
        "existing cassettes are replayed, not rewritten"
    );
}

/// Replays `wrong_code` after `edit` changed its cassette.
fn replay_after(edit: impl FnOnce(String) -> String) -> crate::support::Run {
    let dir = Dir::with_shipped();
    let path = dir.path().join(CASSETTE);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing");
    std::fs::write(&path, edited).unwrap();
    dir.fph().args(["run", "--filter", "wrong_code"]).run()
}

#[test]
fn an_edited_request_field_fails_with_a_field_diff() {
    let run = replay_after(|t| t.replacen("pg_amount: \"150.00\"", "pg_amount: \"151.00\"", 1));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("step `init`"), "{}", run.stdout);
    assert!(
        run.stdout.contains("- pg_amount: \"151.00\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+ pg_amount: \"150.00\""),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("pg_description: \"Top-up\"\n  +"),
        "only differing fields"
    );
}

#[test]
fn an_edited_request_signature_fails_offline() {
    let run = replay_after(|t| {
        let at = t.find("pg_sig: ").unwrap() + "pg_sig: ".len();
        let mut t = t;
        t.replace_range(at..at + 4, "ffff");
        t
    });
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("is not the one this harness computes"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_edited_answer_fails_its_signature_check() {
    let run = replay_after(|t| {
        t.replacen(
            "<pg_error_code>11002</pg_error_code>",
            "<pg_error_code>11003</pg_error_code>",
            1,
        )
    });
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("the recorded answer's pg_sig does not match"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_newer_format_version_is_bad_input() {
    let run = replay_after(|t| t.replacen("format: 1", "format: 2", 1));
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("format 2 is not the format this fph reads (1)"),
        "{}",
        run.stdout
    );
}

#[test]
fn truncated_yaml_is_bad_input_with_a_location() {
    let run = replay_after(|t| t[..t.len() / 2].to_owned() + "\n  - [");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("failed to read cassette recordings/wrong_code/default.yaml:"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_interaction_names_the_step_and_the_fix() {
    let run = replay_after(|t| {
        let start = t.find("- step: right_code").unwrap();
        t[..start].to_owned()
    });
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("step `right_code`"), "{}", run.stdout);
    assert!(
        run.stdout.contains("has no interaction for attempt 1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("fph run --mode record"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_changed_scenario_makes_its_cassette_stale() {
    let dir = Dir::with_shipped();
    let path = dir.path().join("scenarios/wrong_code.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("pg_amount: \"150.00\"", "pg_amount: \"150.50\""),
    )
    .unwrap();
    let run = dir.fph().args(["run", "--filter", "wrong_code"]).run();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("is stale: it was recorded from an older version of the scenario"),
        "{}",
        run.stdout
    );
}

#[test]
fn no_cassette_contains_the_secret_in_any_encoding() {
    let secret = "Sup3r/Secret+Key=42";
    let dir = Dir::with_shipped();
    std::fs::remove_dir_all(dir.path().join("recordings")).unwrap();
    let run = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "777001")
        .env("FREEDOMPAY_SECRET_KEY", secret)
        .args(["run", "--mode", "record", "--report", "json"])
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let encodings = [
        secret.to_owned(),
        secret
            .replace('/', "%2F")
            .replace('+', "%2B")
            .replace('=', "%3D"),
        base64(secret.as_bytes()),
        base64(secret.as_bytes()).trim_end_matches('=').to_owned(),
    ];
    let files = dir.files("recordings");
    assert_eq!(files.len(), SHIPPED_CASES);
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        for encoded in &encodings {
            assert!(
                !text.contains(encoded.as_str()),
                "{} contains {encoded}",
                path.display()
            );
        }
        assert!(
            !text.contains("777001"),
            "{} shows the merchant id",
            path.display()
        );
    }
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains(secret));
    }
}

#[test]
fn an_interrupted_recording_leaves_the_old_cassette_intact() {
    let dir = Dir::with_shipped();
    // A status poll that never succeeds keeps the recording busy until it is killed.
    dir.write(
        "scenarios/slow.yaml",
        "name: Slow\nsteps:\n  - id: status\n    call: status\n    form: { pg_payment_id: \"1\" }\n    poll: { until: { pg_payment_status: success }, attempts: 600, interval: 100ms }\n",
    );
    let old = "format: 1\n# the previous recording, whatever it holds\n";
    dir.write("recordings/slow/default.yaml", old);
    let mut child = dir
        .fph()
        .args(["run", "--mode", "record", "--filter", "slow"])
        .spawn();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(dir.read("recordings/slow/default.yaml"), old);
    let names: Vec<_> = dir
        .files("recordings/slow")
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
}

#[test]
fn a_failing_case_writes_no_cassette_unless_kept() {
    let dir = Dir::with_shipped();
    dir.write(
        "scenarios/failing.yaml",
        "name: Failing\nsteps:\n  - id: status\n    call: status\n    form: { pg_payment_id: \"1\" }\n    expect: { pg_status: ok }\n",
    );
    let run = dir
        .fph()
        .args(["run", "--mode", "record", "--filter", "failing"])
        .run();
    assert_eq!(run.code, 1);
    assert!(!dir.path().join("recordings/failing").exists());
    let kept = dir
        .fph()
        .args([
            "run",
            "--mode",
            "record",
            "--filter",
            "failing",
            "--keep-failed",
        ])
        .run();
    assert_eq!(kept.code, 1);
    assert!(dir.path().join("recordings/failing/default.yaml").exists());
}

#[test]
fn old_cassettes_warn_or_fail_as_configured() {
    let dir = Dir::with_shipped();
    let path = dir.path().join(CASSETTE);
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.find("recorded_at: ").unwrap();
    let end = at + text[at..].find('\n').unwrap();
    std::fs::write(
        &path,
        format!(
            "{}recorded_at: \"2020-01-01T00:00:00Z\"{}",
            &text[..at],
            &text[end..]
        ),
    )
    .unwrap();
    dir.write(
        "scenarios/harness.yaml",
        "format: 1\ncassette_max_age: 30d\n",
    );
    let warned = dir
        .fph()
        .args(["run", "--filter", "wrong_code", "--junit", "junit.xml"])
        .run();
    assert_eq!(warned.code, 0, "{}", warned.stdout);
    // CI dashboards read the warning from the case's system-err.
    let junit = dir.read("junit.xml");
    assert!(
        junit.contains(
            "<system-err>warning: the cassette recordings/wrong_code/default.yaml was recorded"
        ),
        "{junit}"
    );
    assert!(
        warned
            .stdout
            .contains("warning: the cassette recordings/wrong_code/default.yaml was recorded"),
        "{}",
        warned.stdout
    );
    assert!(
        warned
            .stdout
            .contains("more than cassette_max_age allows; re-record it"),
        "{}",
        warned.stdout
    );

    dir.write(
        "scenarios/harness.yaml",
        "format: 1\ncassette_max_age: 30d\ncassette_too_old: fail\n",
    );
    let failed = dir.fph().args(["run", "--filter", "wrong_code"]).run();
    assert_eq!(failed.code, 1, "{}", failed.stdout);

    dir.write(
        "scenarios/harness.yaml",
        "format: 1\ncassette_max_age: 30d\ncassette_too_old: explode\n",
    );
    let bad = dir.fph().args(["run", "--filter", "wrong_code"]).run();
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("scenarios/harness.yaml:3:19: unknown cassette_too_old action `explode`"),
        "{}",
        bad.stderr
    );
}

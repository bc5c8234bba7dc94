//! `fph drift` and `fph diff-recordings`: what changed since the recordings were made.

use crate::support::{Dir, copy_dir};

#[test]
fn drift_against_an_unchanged_emulator_finds_nothing() {
    let dir = Dir::with_shipped();
    let run = dir.fph().args(["drift"]).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("0 of 17 cases drifted"),
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
            "<pg_error_code>8020</pg_error_code>",
            "<pg_error_code>8020</pg_error_code>\n        <pg_attempts_left>2</pg_attempts_left>",
            "field added pg_attempts_left",
        ),
        (
            "<pg_error_code>8020</pg_error_code>",
            "",
            "field removed pg_error_code",
        ),
        (
            "<pg_error_code>8020</pg_error_code>",
            "<pg_error_code>8029</pg_error_code>",
            "value changed pg_error_code",
        ),
        (
            "<pg_error_code>8020</pg_error_code>",
            "<pg_error_code>E8020</pg_error_code>",
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
            run.stdout.contains("1 of 17 cases drifted"),
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
    assert_eq!(run.stdout.lines().count(), 17);
    assert!(
        run.stdout.lines().all(|l| l.contains("\"drifted\":false")),
        "{}",
        run.stdout
    );
}

//! `fph run --update` and `fph review`: expected bodies proposed as `.new` files, decided
//! later. Every run is live against the in-process emulator, so no cassette is needed.

use std::path::PathBuf;

use crate::support::{Dir, Run};

/// An init step whose expected body is right except for `pg_redirect_url_type`.
const SCENARIO: &str = r#"name: Init answer as a whole
steps:
  - id: init
    call: init
    form:
      pg_order_id: "{{ order_id() }}"
      pg_amount: "10"
      pg_description: test
    expect_body:
      file: bodies/init.xml
      ignore: [pg_salt, pg_sig]
"#;

const EXPECTED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<response>
  <pg_status>ok</pg_status>
  <pg_payment_id>{{ regex("^\d+$") }}</pg_payment_id>
  <pg_redirect_url>{{ any }}</pg_redirect_url>
  <pg_redirect_url_type>no data</pg_redirect_url_type>
  <pg_salt>x</pg_salt>
  <pg_sig>x</pg_sig>
</response>
"#;

/// A temporary project with the scenario and its (outdated) expected body.
fn project() -> (Dir, PathBuf) {
    let dir = Dir::new();
    dir.write("scenarios/init_body.yaml", SCENARIO);
    let expected = dir.write("scenarios/bodies/init.xml", EXPECTED);
    (dir, expected)
}

fn live(dir: &Dir) -> crate::support::Fph {
    dir.fph().args(["run", "--mode", "live"])
}

fn pending(expected: &std::path::Path) -> PathBuf {
    let mut name = expected.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

fn assert_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

#[test]
fn a_mismatch_is_shown_by_path_and_as_a_diff_and_nothing_is_written_by_default() {
    let (dir, expected) = project();
    let run = live(&dir).run();
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("pg_redirect_url_type changed: \"no data\" → \"need data\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-  <pg_redirect_url_type>no data</pg_redirect_url_type>\n      +  <pg_redirect_url_type>need data</pg_redirect_url_type>"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("run again with FPH_UPDATE=new"),
        "{}",
        run.stdout
    );
    assert!(!pending(&expected).exists());
    assert_eq!(std::fs::read_to_string(&expected).unwrap(), EXPECTED);
}

#[test]
fn review_round_trip_new_then_accept_all_then_the_run_passes() {
    let (dir, expected) = project();
    let run = live(&dir).env("FPH_UPDATE", "new").run();
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("wrote scenarios/bodies/init.xml.new; accept or reject it with `fph review`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 expected body written as .new"),
        "{}",
        run.stdout
    );
    let proposed = std::fs::read_to_string(pending(&expected)).unwrap();
    assert_eq!(
        proposed,
        EXPECTED.replace("no data", "need data"),
        "matchers and ignored values kept from the old file"
    );
    assert_eq!(
        std::fs::read_to_string(&expected).unwrap(),
        EXPECTED,
        "old file untouched"
    );

    let list = dir.fph().args(["review", "--list"]).run();
    assert_code(&list, 0);
    assert_eq!(list.stdout, "scenarios/bodies/init.xml.new\n");

    let review = dir.fph().args(["review", "--accept-all"]).run();
    assert_code(&review, 0);
    assert_eq!(review.stdout, "accepted scenarios/bodies/init.xml\n");
    assert!(!pending(&expected).exists());
    assert_eq!(std::fs::read_to_string(&expected).unwrap(), proposed);

    let run = live(&dir).run();
    assert_code(&run, 0);
    assert!(run.stdout.contains("1 passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn the_update_flag_and_always_overwrite_the_expected_file() {
    let (dir, expected) = project();
    let run = live(&dir).args(["--update", "always"]).run();
    assert_code(&run, 1);
    assert!(
        run.stdout
            .contains("updated scenarios/bodies/init.xml (FPH_UPDATE=always)"),
        "{}",
        run.stdout
    );
    assert!(!pending(&expected).exists());
    assert_eq!(
        std::fs::read_to_string(&expected).unwrap(),
        EXPECTED.replace("no data", "need data")
    );
    assert_code(&live(&dir).run(), 0);
}

#[test]
fn nothing_is_written_when_ci_is_set() {
    for policy in ["new", "always"] {
        let (dir, expected) = project();
        let run = live(&dir).env("FPH_UPDATE", policy).env("CI", "true").run();
        assert_code(&run, 1);
        assert!(
            run.stdout.contains(&format!(
                "update skipped: CI is set, so nothing is written (FPH_UPDATE={policy} is ignored)"
            )),
            "{}",
            run.stdout
        );
        assert!(!pending(&expected).exists());
        assert_eq!(std::fs::read_to_string(&expected).unwrap(), EXPECTED);
        let mut files = Vec::new();
        collect(dir.path(), &mut files);
        files.sort();
        assert_eq!(
            files,
            ["scenarios/bodies/init.xml", "scenarios/init_body.yaml"],
            "no other file appeared"
        );
    }
    // `CI=false` is not CI.
    let (dir, expected) = project();
    let run = live(&dir).env("FPH_UPDATE", "new").env("CI", "false").run();
    assert_code(&run, 1);
    assert!(pending(&expected).exists());
}

fn collect(dir: &std::path::Path, files: &mut Vec<String>) {
    collect_under(dir, dir, files);
}

fn collect_under(root: &std::path::Path, dir: &std::path::Path, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_under(root, &path, files);
        } else {
            files.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

#[test]
fn reject_all_deletes_the_proposals_and_keeps_the_files() {
    let dir = Dir::new();
    let body = dir.write("scenarios/bodies/a.xml", "<response/>\n");
    dir.write(
        "scenarios/bodies/a.xml.new",
        "<response><a>1</a></response>\n",
    );
    let cassette = dir.write("recordings/s/default.yaml", "format: 1\n");
    dir.write("recordings/s/default.yaml.new", "format: 1\n# drifted\n");

    let list = dir.fph().args(["review", "--list"]).run();
    assert_code(&list, 0);
    assert_eq!(
        list.stdout, "recordings/s/default.yaml.new\nscenarios/bodies/a.xml.new\n",
        "both default paths are searched"
    );

    let review = dir.fph().args(["review", "--reject-all"]).run();
    assert_code(&review, 0);
    assert_eq!(
        review.stdout,
        "rejected recordings/s/default.yaml.new\nrejected scenarios/bodies/a.xml.new\n"
    );
    assert!(!pending(&body).exists() && !pending(&cassette).exists());
    assert_eq!(std::fs::read_to_string(&body).unwrap(), "<response/>\n");
    assert_eq!(std::fs::read_to_string(&cassette).unwrap(), "format: 1\n");

    let empty = dir.fph().args(["review", "--list"]).run();
    assert_code(&empty, 0);
    assert_eq!(empty.stdout, "");
    assert!(
        empty
            .stderr
            .contains("no pending .new files under scenarios, recordings"),
        "{}",
        empty.stderr
    );
}

#[test]
fn list_takes_paths_and_non_interactive_review_only_lists() {
    let dir = Dir::new();
    dir.write("scenarios/a.xml.new", "x\n");
    dir.write("elsewhere/deep/b.xml.new", "y\n");

    let list = dir.fph().args(["review", "--list", "elsewhere"]).run();
    assert_code(&list, 0);
    assert_eq!(list.stdout, "elsewhere/deep/b.xml.new\n");

    // The test's stdin is not a terminal: the list and a hint, nothing decided.
    let review = dir.fph().args(["review"]).run();
    assert_code(&review, 0);
    assert_eq!(review.stdout, "scenarios/a.xml.new\n");
    assert!(review.stderr.contains("--accept-all"), "{}", review.stderr);
    assert!(dir.path().join("scenarios/a.xml.new").exists());

    let missing = dir.fph().args(["review", "--list", "nowhere"]).run();
    assert_code(&missing, 2);
    assert!(
        missing
            .stderr
            .contains("failed to look for pending files in nowhere"),
        "{}",
        missing.stderr
    );
    // The cause is said once (it used to be repeated after itself).
    assert_eq!(
        missing.stderr.matches("(os error").count(),
        1,
        "{}",
        missing.stderr
    );

    let usage = dir
        .fph()
        .args(["review", "--accept-all", "--reject-all"])
        .run();
    assert_code(&usage, 2);
}

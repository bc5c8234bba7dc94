//! What the loader says about scenario files, pinned so the text cannot rot.
//!
//! `tests/fixtures/broken/` holds one deliberately broken file per kind of mistake, each with
//! `NAME.expected` beside it: the plain rendering (`file:line:column: title` and the hint).
//! A directory there is a configuration directory whose `harness.yaml` is broken. To rewrite
//! the expected texts after an intended change, run with `FPH_BLESS=1` (never under `CI`) and
//! review the diff.
//!
//! `tests/fixtures/scenarios/` holds valid example scenarios and a `harness.yaml`; they must
//! load (and every template in them renders for every case: `template`'s unit tests).

use std::path::{Path, PathBuf};

use freedompay_harness::scenario::{
    ErrorKind, HarnessConfig, ScenarioError, Selection, load_file, load_paths,
};

const BROKEN: &str = "tests/fixtures/broken";
const VALID: &str = "tests/fixtures/scenarios";

/// The error a broken fixture produces: a scenario file, or a configuration directory.
fn diagnose(path: &Path) -> ScenarioError {
    if path.is_dir() {
        HarnessConfig::load(path).expect_err("the configuration must be refused")
    } else {
        load_file(path)
            .map(|_| ())
            .expect_err("the scenario must be refused")
    }
}

fn broken_fixtures() -> Vec<PathBuf> {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(BROKEN)
        .expect("fixtures directory")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_dir() || path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    fixtures.sort();
    fixtures
}

fn expected_path(fixture: &Path) -> PathBuf {
    let stem = fixture.file_stem().expect("named fixture");
    fixture.with_file_name(format!("{}.expected", stem.to_string_lossy()))
}

#[test]
fn every_broken_fixture_renders_its_expected_text() {
    let bless = std::env::var_os("FPH_BLESS").is_some() && std::env::var_os("CI").is_none();
    let mut mismatches = Vec::new();
    for fixture in broken_fixtures() {
        let actual = format!("{}\n", diagnose(&fixture).render_plain());
        let expected_file = expected_path(&fixture);
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
        if actual != expected {
            if bless {
                std::fs::write(&expected_file, &actual).expect("write expected text");
            } else {
                mismatches.push(format!(
                    "{}:\n--- expected\n{expected}+++ actual\n{actual}",
                    fixture.display()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "diagnostics changed (rerun with FPH_BLESS=1 to accept):\n\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn every_expected_text_has_its_fixture() {
    for entry in std::fs::read_dir(BROKEN).expect("fixtures directory") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|ext| ext == "expected") {
            let yaml = path.with_extension("yaml");
            let dir = path.with_extension("");
            assert!(
                yaml.is_file() || dir.is_dir(),
                "{} has no fixture",
                path.display()
            );
        }
    }
}

#[test]
fn each_kind_of_mistake_has_a_fixture() {
    let kinds: Vec<ErrorKind> = broken_fixtures()
        .iter()
        .map(|fixture| diagnose(fixture).kind())
        .collect();
    for kind in [
        ErrorKind::Yaml,
        ErrorKind::UnknownKey,
        ErrorKind::UnknownCall,
        ErrorKind::DuplicateStepId,
        ErrorKind::PollNotIdempotent,
        ErrorKind::ImpossibleCapture,
        ErrorKind::UndefinedVariable,
        ErrorKind::BadRegex,
        ErrorKind::Matrix,
        ErrorKind::TemplateSyntax,
        ErrorKind::SecretInConfig,
    ] {
        assert!(kinds.contains(&kind), "no fixture for {kind:?}");
    }
}

/// miette's graphical rendering is the CLI's (`fancy`, with the `cli` feature).
#[test]
#[cfg(feature = "cli")]
fn graphical_rendering_points_into_the_source() {
    for fixture in broken_fixtures() {
        let error = diagnose(&fixture);
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, &error)
            .expect("render");
        let (file, line, column) = error.location();
        let place = format!("{}:{line}:{column}", file.display());
        assert!(out.contains(&place), "{place} missing from:\n{out}");
        assert!(out.contains(error.title()), "title missing from:\n{out}");
        if let Some(hint) = error.hint() {
            assert!(out.contains(hint), "hint missing from:\n{out}");
        }
    }
}

#[test]
fn the_example_scenarios_load() {
    let (scenarios, errors) = load_paths(&[PathBuf::from(VALID)]);
    assert!(errors.is_empty(), "{errors:#?}");
    let stems: Vec<&str> = scenarios.iter().map(|s| s.stem.as_str()).collect();
    assert_eq!(
        stems,
        [
            "kcell_sms_approval",
            "receipt_and_sms_code",
            "unknown_script"
        ]
    );
    let kcell = &scenarios[0];
    assert_eq!(kcell.cases.len(), 2);
    let selection = Selection {
        filters: vec!["ACTIVKZT".into()],
        tags: vec!["approve".into()],
        ..Selection::default()
    };
    let selected: Vec<String> = kcell
        .cases_matching(&selection)
        .map(|case| kcell.case_id(case))
        .collect();
    assert_eq!(
        selected,
        ["kcell_sms_approval::operator=ACTIVKZT,phone=77027777777"]
    );

    let config = HarnessConfig::load(Path::new(VALID)).expect("valid harness.yaml");
    assert_eq!(config.default_target, "emulator");
    assert!(config.target("local").is_some());
}

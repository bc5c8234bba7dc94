//! `fph init`: the scaffold passes at once — `fph run` replays it offline, and in a Rust
//! project `cargo test` does — and a second `fph init` refuses to overwrite anything.

use std::path::Path;

use crate::support::{Dir, MERCHANT_MANIFEST, SCHEMAS, cargo_test_scaffold};

const SCENARIOS: [&str; 3] = [
    "scenarios/sms_payment.yaml",
    "scenarios/wrong_code.yaml",
    "scenarios/status_polling.yaml",
];

/// Files every scaffold has, besides the recordings.
fn common_files() -> Vec<String> {
    let mut files: Vec<String> = ["scenarios/harness.yaml", "scenarios/README.md"]
        .into_iter()
        .chain(SCENARIOS)
        .map(str::to_owned)
        .collect();
    files.extend(SCHEMAS.map(|name| format!("scenarios/.schema/{name}.json")));
    files
}

fn assert_schemas_written(dir: &Dir) {
    // What `fph schema NAME` prints (tests/cli/schema.rs holds the two equal).
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/.schema");
    for name in SCHEMAS {
        let file = format!("{name}.json");
        assert_eq!(
            dir.read(&format!("scenarios/.schema/{file}")),
            std::fs::read_to_string(committed.join(&file)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn init_any_scaffolds_a_suite_that_replays_offline_and_refuses_to_overwrite() {
    let dir = Dir::new();
    let init = dir.fph().args(["init", "--any"]).run();
    assert_eq!(init.code, 0, "{}\n{}", init.stdout, init.stderr);
    for file in common_files() {
        assert!(dir.path().join(&file).is_file(), "{file} not written");
    }
    assert!(!dir.path().join("tests/contract.rs").exists());
    let ci = dir.read(".github/workflows/contract.yml");
    assert!(ci.contains("run: fph run"), "{ci}");
    assert!(
        ci.contains(&format!("--version {}", env!("CARGO_PKG_VERSION"))),
        "{ci}"
    );
    assert_schemas_written(&dir);

    // The recordings are real answers of the built-in emulator, one per case.
    let cassettes: Vec<String> = dir
        .files("recordings")
        .iter()
        .map(|(path, _)| {
            path.strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        cassettes,
        [
            "recordings/sms_payment/operator=ACTIVKZT,phone=77027777777.yaml",
            "recordings/sms_payment/operator=KCELLKZT,phone=77017777777.yaml",
            "recordings/status_polling/default.yaml",
            "recordings/wrong_code/default.yaml",
        ]
    );
    let wrong_code = dir.read("recordings/wrong_code/default.yaml");
    // An editor checks it against the schema init wrote.
    assert!(
        wrong_code
            .starts_with("# yaml-language-server: $schema=../../scenarios/.schema/cassette.json\n"),
        "{wrong_code}"
    );
    assert!(wrong_code.contains("target: emulator"), "{wrong_code}");
    assert!(
        wrong_code.contains("<pg_error_code>11002</pg_error_code>"),
        "{wrong_code}"
    );
    // Phones are redacted as harness.yaml says.
    assert!(!wrong_code.contains("77017777777"), "{wrong_code}");

    // Green at once: offline, no credentials (the helper clears FREEDOMPAY_*).
    let run = dir.fph().args(["run"]).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("4 passed, 0 failed"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("replay of recordings made against emulator"),
        "{}",
        run.stdout
    );
    let lint = dir.fph().args(["lint"]).run();
    assert_eq!(lint.code, 0, "{}", lint.stderr);

    // A second init changes nothing and names what exists.
    dir.write("scenarios/wrong_code.yaml", "# mine now\n");
    let again = dir.fph().args(["init", "."]).run();
    assert_eq!(again.code, 2, "{}\n{}", again.stdout, again.stderr);
    for file in [
        "scenarios/wrong_code.yaml",
        "recordings/wrong_code/default.yaml",
    ] {
        assert!(again.stderr.contains(file), "{file}: {}", again.stderr);
    }
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(again.stdout, "", "nothing is written");
    assert_eq!(dir.read("scenarios/wrong_code.yaml"), "# mine now\n");

    let forced = dir.fph().args(["init", "--any", "--force"]).run();
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(
        dir.read("scenarios/wrong_code.yaml")
            .contains("name: Wrong SMS code")
    );
    assert_eq!(dir.fph().args(["run"]).run().code, 0);
}

#[test]
fn init_refuses_a_missing_directory_and_a_rust_project_without_a_manifest() {
    let dir = Dir::new();
    let missing = dir.fph().args(["init", "no-such-project"]).run();
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("no-such-project is not a directory"),
        "{}",
        missing.stderr
    );
    let no_manifest = dir.fph().args(["init", "--rust"]).run();
    assert_eq!(no_manifest.code, 2);
    assert!(
        no_manifest.stderr.contains("Cargo.toml"),
        "{}",
        no_manifest.stderr
    );
    dir.write("Cargo.toml", "[workspace]\nmembers = [\"shop\"]\n");
    let workspace = dir.fph().args(["init"]).run();
    assert_eq!(workspace.code, 2);
    assert!(
        workspace.stderr.contains("has no [package]"),
        "{}",
        workspace.stderr
    );
    assert!(!dir.path().join("scenarios").exists(), "nothing is written");
}

#[test]
fn init_rust_adds_the_contract_test_and_cargo_test_passes_offline() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Dir::new();
    dir.write("Cargo.toml", MERCHANT_MANIFEST);
    dir.write(
        "src/lib.rs",
        "pub fn total(a: u64, b: u64) -> u64 {\n    a + b\n}\n",
    );

    // Rust is the default where there is a Cargo.toml.
    let init = dir
        .fph()
        .args(["init", "--harness-path"])
        .arg_path(repo)
        .run();
    assert_eq!(init.code, 0, "{}\n{}", init.stdout, init.stderr);
    for file in common_files() {
        assert!(dir.path().join(&file).is_file(), "{file} not written");
    }
    assert!(!dir.path().join(".github").exists());
    assert!(
        dir.read("tests/contract.rs")
            .contains("freedompay_harness::harness::Harness::new(\"scenarios\").run()")
    );
    let manifest = dir.read("Cargo.toml");
    let expected_tail = format!(
        "[dev-dependencies]\nfreedompay-harness = {{ path = \"{}\" }}\n",
        repo.display()
    );
    assert!(manifest.contains(&expected_tail), "{manifest}");
    assert!(
        manifest.ends_with(
            "[[test]]\nname = \"contract\"\npath = \"tests/contract.rs\"\nharness = false\n"
        ),
        "{manifest}"
    );
    for comment in [
        "# The merchant's shop backend.",
        "name = \"shop\"   # keep this name",
        "# none yet",
        "# test helpers go here",
        "# Line tables only",
    ] {
        assert!(manifest.contains(comment), "{comment} lost:\n{manifest}");
    }

    // Again: Cargo.toml's entries are named too, and the manifest is left alone.
    let again = dir.fph().args(["init"]).run();
    assert_eq!(again.code, 2);
    for entry in [
        "tests/contract.rs",
        "Cargo.toml: [dev-dependencies] freedompay-harness",
        "Cargo.toml: [[test]] name = \"contract\"",
    ] {
        assert!(again.stderr.contains(entry), "{entry}: {}", again.stderr);
    }
    assert_eq!(dir.read("Cargo.toml"), manifest);

    // `fph run` replays the Rust scaffold too.
    let run = dir.fph().args(["run"]).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("4 passed, 0 failed"), "{}", run.stdout);

    // `cargo test` in the scaffolded crate: offline, with this checkout's lock file, in a
    // target dir shared between runs.
    let (passed, stdout, stderr) = cargo_test_scaffold(&dir, "contract");
    assert!(passed, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("test result: ok. 4 passed; 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[scenario] wrong_code::default"),
        "{stdout}"
    );
}

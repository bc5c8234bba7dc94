//! The bad-input corpus (`tests/bad_input/`, written by `scripts/gen-bad-input.py`): every
//! scenario, `harness.yaml`, cassette and emulator configuration in it must be refused with
//! its pinned exit code and diagnostic headline, naming the file — and its line and column
//! where the manifest says the place is known — and nothing may panic, hang or send.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// One manifest row.
struct Entry<'a> {
    kind: &'a str,
    path: &'a str,
    code: i32,
    place: &'a str,
    headline: &'a str,
}

fn manifest(text: &str) -> Vec<Entry<'_>> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let mut fields = line.splitn(5, '\t');
            let mut next = || fields.next().expect("five tab-separated fields");
            Entry {
                kind: next(),
                path: next(),
                code: next().parse().expect("an exit code"),
                place: next(),
                headline: next(),
            }
        })
        .collect()
}

/// Runs `fph` in `dir`; gives up (and fails) after 20 s, so a regression that makes an
/// emulator configuration valid cannot hang the suite.
fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_fph"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("FPH_TARGET")
        .env_remove("FPH_MODE")
        .env_remove("FREEDOMPAY_MERCHANT_ID")
        .env_remove("FREEDOMPAY_SECRET_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fph");
    // Output is drained by a thread (a long diagnostic would fill the pipe otherwise).
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = match finished.recv_timeout(Duration::from_secs(20)) {
        Ok(output) => output.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("fph {args:?} did not end");
        }
    };
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn every_bad_input_is_refused_with_its_place() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input");
    let text = std::fs::read_to_string(root.join("MANIFEST.tsv")).expect("the manifest");
    let entries = manifest(&text);
    assert!(entries.len() >= 150, "{} inputs", entries.len());
    let mut failures = Vec::new();
    for entry in &entries {
        let args: Vec<&str> = match entry.kind {
            "scenario" | "config" => vec!["lint", entry.path],
            "emulator" => vec!["emulator", "--port", "0", "--config", entry.path],
            "cassette" => vec!["run", "cassettes/recorded.yaml", "--recordings", entry.path],
            other => panic!("unknown kind {other}"),
        };
        let (code, output) = run(&root, &args);
        let place = entry.path.to_owned();
        let located = output.match_indices(&place).any(|(at, _)| {
            // `path:LINE:COLUMN`, possibly after a file name inside a directory entry.
            let rest = &output[at + place.len()..];
            let rest = rest.trim_start_matches(|c: char| c != ':' && !c.is_whitespace());
            let mut parts = rest.splitn(3, ':').skip(1);
            let number = |p: Option<&str>| {
                p.is_some_and(|p| p.chars().take_while(char::is_ascii_digit).count() > 0)
            };
            number(parts.next()) && number(parts.next())
        });
        let problems = [
            (
                code != entry.code,
                format!("exit {code}, expected {}", entry.code),
            ),
            (
                code == 101 || output.contains("panicked"),
                "a panic".to_owned(),
            ),
            (
                !output.contains(entry.headline),
                format!("no `{}`", entry.headline),
            ),
            (!output.contains(&place), "the file is not named".to_owned()),
            (
                entry.place == "line" && !located,
                "no line and column".to_owned(),
            ),
        ];
        for (failed, problem) in problems {
            if failed {
                failures.push(format!("{}: {problem}\n{output}", entry.path));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// Regression (one diagnostic shape for the emulator configuration): every emulator entry is
/// placed at its line and column, and its headline is the diagnostic's title, which starts
/// with the file, line and column like every scenario and `harness.yaml` diagnostic.
#[test]
fn every_emulator_configuration_entry_is_pinned_at_its_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input");
    let text = std::fs::read_to_string(root.join("MANIFEST.tsv")).expect("the manifest");
    let entries = manifest(&text);
    let emulator: Vec<&Entry> = entries.iter().filter(|e| e.kind == "emulator").collect();
    assert!(emulator.len() >= 20, "{} emulator entries", emulator.len());
    for entry in emulator {
        assert_eq!(entry.place, "line", "{}", entry.path);
        let place = entry
            .headline
            .strip_prefix(entry.path)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|rest| rest.split_once(": "))
            .map(|(place, _)| place);
        let numbers = place.map(|place| place.split(':').map(|n| n.parse::<usize>()).collect());
        assert!(
            matches!(numbers, Some(Ok::<Vec<usize>, _>(ref n)) if n.len() == 2 && n[0] > 0),
            "{}: headline `{}` does not open with file:line:column",
            entry.path,
            entry.headline
        );
    }
}

//! The safety promises, tried the way an attacker or a careless user would: production in
//! every spelling, outages offered as recordings, interrupts, cassette names, closed pipes.

use crate::support::Dir;

/// Regression: `--target https://api.freedompay.kz.` (trailing dot) and
/// `https://api.paybox.money.` were resolved and sent to. Every source of a target and every
/// mode that sends is refused before any request.
#[test]
fn production_guard_refuses_every_spelling_in_every_mode() {
    let dir = Dir::with_shipped();
    let before = dir.files("recordings");
    let spellings = [
        "https://api.freedompay.kz.",
        "https://api.paybox.money.",
        "https://API.FREEDOMPAY.KG.:443/",
        "https://user@api.freedompay.uz.",
    ];
    for mode in ["live", "record", "once", "drift"] {
        for url in spellings {
            let run = dir
                .fph()
                .env("FREEDOMPAY_MERCHANT_ID", "1")
                .env("FREEDOMPAY_SECRET_KEY", "k")
                .args(["run", "--mode", mode, "--target", url])
                .run();
            assert_eq!(run.code, 2, "{mode} {url}: {}{}", run.stdout, run.stderr);
            assert!(
                run.stderr
                    .contains("refusing to send requests to production"),
                "{mode} {url}: {}",
                run.stderr
            );
        }
    }
    let from_env = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "1")
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .env("FPH_TARGET", "https://api.freedompay.kz.")
        .args(["drift", "--accept"])
        .run();
    assert_eq!(from_env.code, 2, "{}", from_env.stderr);
    assert!(from_env.stderr.contains("refusing"), "{}", from_env.stderr);

    dir.write(
        "scenarios/harness.yaml",
        "format: 1\ntargets:\n  shop: { url: \"https://Api.PayBox.Money.\" }\n",
    );
    let named = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "1")
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .args(["run", "--mode", "record", "--target", "shop"])
        .run();
    assert_eq!(named.code, 2, "{}", named.stderr);
    assert!(named.stderr.contains("refusing"), "{}", named.stderr);
    assert_eq!(dir.files("recordings"), before, "nothing recorded");

    dir.write(
        "scenarios/harness.yaml",
        "format: 1\ntargets:\n  shop: { url: \"https://api..freedompay.kz\" }\n",
    );
    let unreadable = dir.fph().args(["lint"]).run();
    assert_eq!(unreadable.code, 2, "{}", unreadable.stderr);
    assert!(
        unreadable.stderr.contains("harness.yaml:3:")
            && unreadable.stderr.contains("cannot be normalised"),
        "{}",
        unreadable.stderr
    );
}

/// POSTs a form to a standalone emulator's admin API; returns the status line.
fn post(emulator: &crate::support::EmulatorProcess, path: &str, form: &str) -> String {
    use std::io::{Read as _, Write as _};
    let addr = emulator.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Regression: with the gateway answering 503 (or 500, a truncated or malformed body),
/// `fph drift --accept` replaced every cassette with the error page.
#[test]
fn drift_accept_never_accepts_an_outage() {
    let dir = Dir::with_shipped();
    let emulator = dir.emulator(&[]);
    let before = dir.files("recordings");
    for kind in ["http503", "http500", "truncated", "malformed_xml"] {
        assert!(post(&emulator, "/_emulator/faults/clear", "").contains("200"));
        let added = post(
            &emulator,
            "/_emulator/faults",
            &format!("kind={kind}&times=always"),
        );
        assert!(added.contains("200"), "{kind}: {added}");
        for accept in [&["--accept"][..], &["--update", "new"][..]] {
            let run = dir
                .fph()
                .demo_merchant()
                .args(["drift", "--tag", "resend", "--target", &emulator.url])
                .args(accept)
                .run();
            assert_eq!(run.code, 3, "{kind}: {}{}", run.stdout, run.stderr);
            assert!(
                run.stdout
                    .contains("not re-recorded: the gateway did not answer properly: step `init`"),
                "{kind}: {}",
                run.stdout
            );
            assert!(!run.stdout.contains("re-recorded recordings/"), "{kind}");
            assert_eq!(
                dir.files("recordings"),
                before,
                "{kind}: the recordings are untouched"
            );
        }
    }
    // The same emulator answering properly again is accepted as it always was.
    assert!(post(&emulator, "/_emulator/faults/clear", "").contains("200"));
    let clean = dir
        .fph()
        .demo_merchant()
        .args([
            "drift",
            "--accept",
            "--tag",
            "resend",
            "--target",
            &emulator.url,
        ])
        .run();
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
}

const STATUS_STEP: &str =
    "steps:\n  - id: status\n    call: status\n    form: { pg_payment_id: \"1\" }\n";

/// Regression: matrix rows `x: "a b"` and `x: "a_b"` shared one cassette file, and a
/// scenario file named `...yaml` wrote `./default.yaml` outside `recordings/`.
#[test]
fn cassette_names_never_collide_or_escape_recordings() {
    let dir = Dir::new();
    dir.write(
        "scenarios/rows.yaml",
        &format!("name: Rows\nmatrix:\n  - {{ x: \"a b\" }}\n  - {{ x: \"a_b\" }}\n{STATUS_STEP}"),
    );
    let run = dir.fph().args(["run", "--mode", "record"]).run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "scenarios/rows.yaml:4:5: matrix rows 1 and 2 would share one cassette file, `x=a_b.yaml`"
        ),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("recordings").exists(), "nothing recorded");

    let dir = Dir::new();
    dir.write("scenarios/...yaml", &format!("name: Dots\n{STATUS_STEP}"));
    for args in [&["lint"][..], &["run", "--mode", "record"][..]] {
        let run = dir.fph().args(args).run();
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(
                "scenarios/...yaml:1:1: the file name `...yaml` cannot name a recordings directory"
            ),
            "{}",
            run.stderr
        );
    }
    assert!(!dir.path().join("default.yaml").exists());
    assert!(!dir.path().join("recordings").exists());
}

/// Regression: `fph run --report json | head -1` panicked ("failed printing to stdout: Broken
/// pipe"). Every command ends quietly, with its usual exit code, on a closed stdout or stderr.
#[test]
fn closed_pipes_end_every_command_quietly() {
    use std::io::Read as _;
    let dir = Dir::with_shipped();
    dir.write(
        "answer.xml",
        "<response><pg_status>ok</pg_status></response>",
    );
    dir.write("key", "k");
    dir.write(
        "broken/broken.yaml",
        "name: Broken\nsteps:\n  - id: a\n    cal: status\n",
    );
    let commands: [(&[&str], i32); 9] = [
        (&["run", "--report", "json", "--tag", "approve"], 0),
        (&["run", "--tag", "approve"], 0),
        (&["run", "--mode", "live", "--tag", "approve"], 0),
        (&["drift", "--tag", "approve"], 0),
        (&["list", "--tag", "approve"], 0),
        (&["diff-recordings", "recordings", "recordings"], 0),
        (
            &["sign", "--secret-file", "key", "--script", "pay", "pg_a=1"],
            0,
        ),
        (
            &[
                "verify",
                "--secret-file",
                "key",
                "--script",
                "pay",
                "answer.xml",
            ],
            1,
        ),
        (&["lint", "broken/broken.yaml"], 2),
    ];
    for (args, code) in commands {
        for closed in ["stdout", "stderr"] {
            let mut child = dir.fph().args(args).spawn();
            // The reading end closes before fph writes its first byte.
            let mut open = if closed == "stdout" {
                drop(child.stdout.take());
                child.stderr.take().unwrap()
            } else {
                drop(child.stderr.take());
                // stdout stays open and is read, so only stderr is closed.
                let mut out = child.stdout.take().unwrap();
                let mut sink = String::new();
                out.read_to_string(&mut sink).unwrap();
                let status = child.wait().unwrap();
                assert_eq!(status.code(), Some(code), "{args:?} with closed {closed}");
                continue;
            };
            let mut text = String::new();
            open.read_to_string(&mut text).unwrap();
            let status = child.wait().unwrap();
            assert_eq!(
                status.code(),
                Some(code),
                "{args:?} with closed {closed}: {text}"
            );
            assert!(!text.contains("panicked"), "{args:?}: {text}");
        }
    }
}

/// Every file below `dir`, recursively, by name.
fn names_below(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names
}

/// Regression: Ctrl-C during `fph run --mode record` left zero-byte `.CASE.yaml.PID.N.tmp`
/// files in `recordings/`. Now no new case starts, the cases in flight write whole
/// cassettes, the run says what it did and exits 130; a temporary file a SIGKILL left is
/// removed by the next recording run and never listed as a cassette.
#[test]
fn interrupts_stop_a_recording_cleanly() {
    use std::io::{BufRead as _, Read as _};
    let dir = Dir::new();
    let mut text = String::from("name: Rows\nmatrix:\n");
    for row in 0..3000 {
        text.push_str(&format!("  - {{ x: \"{row}\" }}\n"));
    }
    text.push_str(
        "steps:\n  - id: status\n    call: status\n    form: { pg_payment_id: \"{{ x }}\" }\n",
    );
    dir.write("scenarios/rows.yaml", &text);
    let mut child = dir
        .fph()
        .args(["run", "--mode", "record", "--report", "json", "-j", "4"])
        .spawn();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"passed\":true"), "{first}");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let reported = 1 + rest
        .lines()
        .filter(|l| l.contains("\"type\":\"case\""))
        .count();
    assert!(reported < 3000, "the run stopped early: {reported}");
    assert!(
        stderr.contains(&format!(
            "interrupted: {reported} of 3000 cases finished and reported"
        )),
        "{stderr}"
    );
    let names = names_below(&dir.path().join("recordings"));
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    assert_eq!(
        names.len(),
        reported,
        "one whole cassette per reported case"
    );

    // What a SIGKILL leaves: removed by the next recording run, never listed meanwhile.
    let abandoned = dir.write("recordings/rows/.x=0.yaml.99999999.0.tmp", "");
    let listed = dir
        .fph()
        .args([
            "diff-recordings",
            "recordings",
            "recordings",
            "--report",
            "json",
        ])
        .run();
    assert_eq!(listed.stdout.lines().count(), reported, "{}", listed.stdout);
    assert!(!listed.stdout.contains(".tmp"), "{}", listed.stdout);
    let next = dir
        .fph()
        .args(["run", "--mode", "record", "--filter", "rows/x=0"])
        .run();
    assert_eq!(next.code, 0, "{}{}", next.stdout, next.stderr);
    assert!(!abandoned.exists());
    assert!(
        next.stderr
            .contains(".x=0.yaml.99999999.0.tmp, left by an interrupted recording"),
        "{}",
        next.stderr
    );
}

/// Regression: a FIFO named `*.yaml` was skipped silently (reading it would block), and
/// `--junit` to an unwritable path was checked only after every request had been sent.
/// Both are bad input (exit 2) naming the file, before any request.
#[cfg(unix)]
#[test]
fn every_bad_input_names_its_place_before_any_request() {
    let dir = Dir::with_shipped();
    let fifo = dir.path().join("scenarios/pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let run = dir.fph().args(["run", "--mode", "record"]).run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("scenarios/pipe.yaml: failed to read scenario: not a regular file"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(&fifo).unwrap();

    let before = dir.files("recordings");
    let run = dir
        .fph()
        .args([
            "run",
            "--mode",
            "record",
            "--junit",
            "no/such/dir/report.xml",
        ])
        .run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("failed to open the --junit report no/such/dir/report.xml"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "no case ran: {}", run.stdout);
    assert_eq!(dir.files("recordings"), before);
}

//! `fph proxy`, `fph emulator --replay` and `fph scenario from-recording`: record a backend
//! that is not fph's own (tests/proxy/checkout.py, Python's standard library), replay it with
//! another merchant secret and salt, and turn the recording into a scenario.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command};

use crate::support::{Dir, EmulatorProcess, MERCHANT_MANIFEST, cargo_test_scaffold};

const SECRET: &str = "Sup3r/Secret+Key=42";
const REPLAY_SECRET: &str = "another-secret";

/// A running `fph proxy --port 0`; killed on drop.
struct ProxyProcess {
    child: Child,
    url: String,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl ProxyProcess {
    /// Stops it with SIGINT (as Ctrl-C would) and returns the rest of its standard output and
    /// its standard error.
    fn interrupt(mut self) -> (String, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -INT {pid}");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        let mut out = String::new();
        self.stdout.read_to_string(&mut out).unwrap();
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (out, err)
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proxy(dir: &Dir, args: &[&str], env: &[(&str, &str)]) -> ProxyProcess {
    let mut fph = dir.fph().args(["proxy", "--port", "0"]).args(args);
    for (key, value) in env {
        fph = fph.env(key, value);
    }
    let mut child = fph.spawn();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("fph proxy listening on ")
        .unwrap_or_else(|| panic!("unexpected banner: {first}"))
        .to_owned();
    ProxyProcess { child, url, stdout }
}

/// Stops an emulator and returns its standard error (the request log).
fn log_of(mut emulator: EmulatorProcess) -> String {
    let _ = emulator.child.kill();
    let _ = emulator.child.wait();
    let mut err = String::new();
    emulator
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

fn python3_missing() -> bool {
    let missing = Command::new("python3").arg("--version").output().is_err();
    if missing {
        eprintln!("skipped: python3 is not installed (the backend is tests/proxy/checkout.py)");
    }
    missing
}

/// One checkout by the Python backend: its exit code and one JSON object per call.
fn checkout(
    base: &str,
    merchant: &str,
    secret: &str,
    salt: &str,
    order: &str,
) -> (i32, Vec<serde_json::Value>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/proxy/checkout.py");
    // 77017777702: SMS code, then `process`, then success: status is polled.
    let run = Command::new("python3")
        .arg(script)
        .args([base, merchant, secret, salt, order, "77017777702"])
        .output()
        .unwrap();
    let calls = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (
        run.status.code().unwrap_or(-1),
        calls,
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

/// An answer with the text of its `pg_salt` and `pg_sig` blanked.
fn without_salt_and_sig(body: &str) -> String {
    let mut out = body.to_owned();
    for name in ["pg_salt", "pg_sig"] {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        if let (Some(start), Some(end)) = (out.find(&open), out.find(&close)) {
            out = format!("{}{open}{}", &out[..start], &out[end..]);
        }
    }
    out
}

fn body_of(call: &serde_json::Value) -> &str {
    call["body"].as_str().unwrap()
}

#[test]
fn a_python_backend_is_recorded_through_the_proxy_and_replayed_with_another_secret() {
    if python3_missing() {
        return;
    }
    let dir = Dir::new();
    let credentials = [
        ("FREEDOMPAY_MERCHANT_ID", "777001"),
        ("FREEDOMPAY_SECRET_KEY", SECRET),
    ];
    let proxy = proxy(&dir, &["--session", "checkout"], &credentials);
    let (code, recorded, err) = checkout(&proxy.url, "777001", SECRET, "rec", "order-1");
    assert_eq!(code, 0, "{recorded:?}{err}");
    let (out, log) = proxy.interrupt();
    let calls = recorded.len();
    assert!(calls >= 4, "{recorded:?}");
    assert!(
        out.contains(&format!(
            "stopped: {calls} calls recorded in recordings/proxy/checkout.yaml"
        )),
        "{out}"
    );
    assert!(
        log.contains("POST /mfs/pay → 200 need_approve, recorded as pay"),
        "{log}"
    );
    assert!(
        log.contains("GET /get_status3.php → 200 ok, recorded as status"),
        "{log}"
    );

    // The cassette: every call in arrival order, decoded, redacted, re-signed.
    let cassette = dir.read("recordings/proxy/checkout.yaml");
    for forbidden in [SECRET, "Sup3r%2FSecret%2BKey%3D42", "777001"] {
        assert!(!cassette.contains(forbidden), "{forbidden} in\n{cassette}");
    }
    assert!(
        cassette.contains("pg_merchant_id: \"{{merchant_id}}\""),
        "{cassette}"
    );
    for (step, encoding) in [
        ("init", "urlencoded"),
        ("pay", "multipart"),
        ("approve", "json"),
        ("status", "get"),
    ] {
        assert!(
            cassette.contains(&format!("- step: {step}\n  attempt: 1\n  request:\n    method: {}\n    encoding: {encoding}", if encoding == "get" { "GET" } else { "POST" })),
            "{step} in\n{cassette}"
        );
    }
    assert!(
        cassette.contains("- step: status\n  attempt: 2\n"),
        "{cassette}"
    );
    assert!(
        cassette.contains("pg_description: Order order-1 & co"),
        "{cassette}"
    );

    // Replayed with another merchant id, secret and salts: the same answers, re-signed (the
    // client checks every pg_sig with its own key).
    let replay = dir.emulator(&[
        "--replay",
        "recordings/proxy/checkout.yaml",
        "--merchant",
        &format!("552170:{REPLAY_SECRET}"),
    ]);
    let (code, replayed, err) = checkout(&replay.url, "552170", REPLAY_SECRET, "rpl", "order-1");
    assert_eq!(code, 0, "{replayed:?}{err}");
    assert_eq!(replayed.len(), recorded.len());
    for (now, then) in replayed.iter().zip(&recorded) {
        assert_eq!(now["status"], then["status"]);
        assert_eq!(now["content_type"], then["content_type"]);
        assert_eq!(
            without_salt_and_sig(body_of(now)),
            without_salt_and_sig(body_of(then))
        );
        if body_of(then).contains("<pg_sig>") {
            assert_ne!(body_of(now), body_of(then), "re-signed with a fresh salt");
        }
    }

    // Another order: pg_order_id is ignored, but this backend writes it into the description
    // too — the log names the closest recorded call and that field.
    let (code, calls, _) = checkout(&replay.url, "552170", REPLAY_SECRET, "rpl", "order-2");
    assert_eq!(code, 3, "{calls:?}");
    assert!(
        body_of(&calls[0]).contains("<pg_error_code>8050</pg_error_code>"),
        "{calls:?}"
    );
    assert!(!body_of(&calls[0]).contains("pg_sig"), "{calls:?}");
    let log = log_of(replay);
    assert!(
        log.contains(
            "POST /init_payment.php → error 8050 not_recorded: no recorded request matches /init_payment.php; the closest is #1 (step `init`, POST /init_payment.php) in recordings/proxy/checkout.yaml, which differs in pg_description: recorded \"Order order-1 & co\", sent \"Order order-2 & co\""
        ),
        "{log}"
    );
    assert!(log.contains("→ replayed #2 (pay): need_approve"), "{log}");
    assert!(!log.contains(REPLAY_SECRET), "{log}");

    // Told to ignore the description as well, it replays, and answers name the caller's order.
    let replay = dir.emulator(&[
        "--replay",
        "recordings/proxy/checkout.yaml",
        "--merchant",
        &format!("552170:{REPLAY_SECRET}"),
        "--ignore-field",
        "pg_description",
    ]);
    let (code, calls, err) = checkout(&replay.url, "552170", REPLAY_SECRET, "x", "order-3");
    assert_eq!(code, 0, "{calls:?}{err}");
    let last = body_of(calls.last().unwrap());
    assert!(
        last.contains("<pg_order_id>order-3</pg_order_id>"),
        "{last}"
    );

    // A wrong signature is refused as the gateway refuses it, before any matching.
    let (code, calls, _) = checkout(&replay.url, "552170", "not-the-key", "x", "order-1");
    assert_eq!(code, 3, "{calls:?}");
    assert!(body_of(&calls[0]).contains("<pg_error_code>9998</pg_error_code>"));
}

#[test]
fn the_shipped_demo_session_becomes_a_scenario_that_passes_lint_and_replays() {
    let dir = Dir::new();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("recordings/proxy/demo.yaml");
    dir.write(
        "recordings/proxy/demo.yaml",
        &std::fs::read_to_string(shipped).unwrap(),
    );
    let written = dir
        .fph()
        .args(["scenario", "from-recording", "recordings/proxy/demo.yaml"])
        .run();
    assert_eq!(written.code, 0, "{}", written.stderr);
    let scenario = written.stdout;
    for expected in [
        "capture: { payment_id: pg_payment_id }",
        "pg_payment_id: \"{{ payment_id }}\"",
        "pg_order_id: \"{{ order_id() }}\"",
        "expect: { pg_status: \"need_approve\" }",
        "poll: { until: { pg_payment_status: \"success\" }",
    ] {
        assert!(scenario.contains(expected), "{expected} in\n{scenario}");
    }
    assert!(
        !scenario.contains("pg_salt") && !scenario.contains("pg_merchant_id"),
        "{scenario}"
    );
    dir.write("scenarios/demo.yaml", &scenario);
    let lint = dir.fph().args(["lint", "scenarios/demo.yaml"]).run();
    assert_eq!(lint.code, 0, "{}{}", lint.stdout, lint.stderr);

    // Live against the replaying gateway, with credentials of the runner's own.
    let replay = dir.emulator(&[
        "--replay",
        "recordings/proxy/demo.yaml",
        "--merchant",
        &format!("9001:{REPLAY_SECRET}"),
    ]);
    let live = |mode: &str| {
        dir.fph()
            .env("FREEDOMPAY_MERCHANT_ID", "9001")
            .env("FREEDOMPAY_SECRET_KEY", REPLAY_SECRET)
            .args([
                "run",
                "--mode",
                mode,
                "--target",
                &replay.url,
                "scenarios/demo.yaml",
            ])
            .run()
    };
    let run = live("live");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 passed"), "{}", run.stdout);
    // Recorded from the replaying gateway, it joins the offline suite like any scenario.
    let record = live("record");
    assert_eq!(record.code, 0, "{}{}", record.stdout, record.stderr);
    // Another phone matches no recorded pay: the step fails, the log says which field.
    dir.write(
        "scenarios/demo.yaml",
        &scenario.replace("\"77017777702\"", "\"77017777777\""),
    );
    let other = live("live");
    assert_eq!(other.code, 1, "{}{}", other.stdout, other.stderr);
    let log = log_of(replay);
    assert!(
        log.contains("POST /mfs/pay → error 8050 not_recorded: no recorded request matches /mfs/pay; the closest is #2 (step `pay`, POST /mfs/pay) in recordings/proxy/demo.yaml, which differs in pg_abonent_phone: recorded \"77017777702\", sent \"77017777777\""),
        "{log}"
    );
    assert!(!log.contains(REPLAY_SECRET), "{log}");
    dir.write("scenarios/demo.yaml", &scenario);
    let offline = dir.fph().args(["run", "scenarios/demo.yaml"]).run();
    assert_eq!(offline.code, 0, "{}{}", offline.stdout, offline.stderr);
    assert!(offline.stdout.contains("1 passed"), "{}", offline.stdout);
}

/// A signed urlencoded POST of `fields` to `path` at `addr`, on a connection of its own; what
/// came back, byte for byte (nothing when the connection was closed unanswered).
fn raw_post(addr: &str, path: &str, fields: &[(&str, &str)], secret: &str) -> String {
    use freedompay_harness::gateway::signature::sign;
    use freedompay_harness::gateway::{Fields, SecretKey};
    let mut signed: Fields = fields.iter().copied().collect();
    signed.push("pg_salt", "s4lt");
    let sig = sign(path, &signed, &SecretKey::new(secret));
    signed.push("pg_sig", sig.as_str());
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(signed.to_form_pairs())
        .finish();
    let mut stream = std::net::TcpStream::connect(addr.trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_5xx_malformed_xml_and_a_closed_connection_are_passed_through_recorded_and_replayed() {
    // A target that answers its first request with a 503 page, its second with broken XML,
    // and closes the connection on its third without a byte; it counts what it reads.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}", listener.local_addr().unwrap());
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = requests.clone();
    const BROKEN: &str = "<?xml version=\"1.0\"?><response><pg_status>ok</pg_st";
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&request).contains("pg_sig") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let answer = match counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => {
                    let page = "<html><body>503 Service Temporarily Unavailable</body></html>";
                    format!(
                        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nX-Upstream: nginx\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    )
                }
                1 => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BROKEN}",
                    BROKEN.len()
                ),
                _ => String::new(),
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    let dir = Dir::new();
    let proxy = proxy(
        &dir,
        &["--session", "faults", "--target", &target],
        &[
            ("FREEDOMPAY_MERCHANT_ID", "777001"),
            ("FREEDOMPAY_SECRET_KEY", SECRET),
        ],
    );
    let init = [("pg_merchant_id", "777001"), ("pg_amount", "10")];
    let pay = [
        ("pg_merchant_id", "777001"),
        ("pg_payment_id", "123456789"),
        ("pg_abonent_phone", "77017777777"),
    ];
    let approve = [
        ("pg_merchant_id", "777001"),
        ("pg_payment_id", "123456789"),
        ("pg_approval_code", "111111"),
    ];
    let unavailable = raw_post(&proxy.url, "/init_payment.php", &init, SECRET);
    assert!(unavailable.starts_with("HTTP/1.1 503"), "{unavailable}");
    assert!(unavailable.contains("x-upstream: nginx"), "{unavailable}");
    assert!(
        unavailable.ends_with("<html><body>503 Service Temporarily Unavailable</body></html>"),
        "{unavailable}"
    );
    let broken = raw_post(&proxy.url, "/mfs/pay", &pay, SECRET);
    assert!(broken.starts_with("HTTP/1.1 200"), "{broken}");
    assert!(broken.ends_with(BROKEN), "{broken}");
    let closed = raw_post(&proxy.url, "/mfs/approve", &approve, SECRET);
    assert_eq!(closed, "", "the caller's connection is closed unanswered");
    let (_, log) = proxy.interrupt();
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "each call sent once, none retried:\n{log}"
    );
    assert!(
        log.contains("POST /init_payment.php → 503, recorded as init"),
        "{log}"
    );
    assert!(
        log.contains("POST /mfs/pay → 200, recorded as pay"),
        "{log}"
    );
    assert!(
        log.contains("POST /mfs/approve → the target closed the connection unanswered"),
        "{log}"
    );
    assert!(
        log.contains("POST /mfs/approve → closed, recorded as approve"),
        "{log}"
    );
    let cassette = dir.read("recordings/proxy/faults.yaml");
    for expected in [
        "status: 503",
        "503 Service Temporarily Unavailable",
        BROKEN,
        "status: 0",
    ] {
        assert!(cassette.contains(expected), "{expected} in\n{cassette}");
    }
    assert!(!cassette.contains(SECRET), "{cassette}");

    // Replayed, the gateway fails the same three ways.
    let replay = dir.emulator(&[
        "--replay",
        "recordings/proxy/faults.yaml",
        "--merchant",
        &format!("777001:{REPLAY_SECRET}"),
    ]);
    let again = raw_post(&replay.url, "/init_payment.php", &init, REPLAY_SECRET);
    assert!(again.starts_with("HTTP/1.1 503"), "{again}");
    assert!(again.ends_with("Unavailable</body></html>"), "{again}");
    let again = raw_post(&replay.url, "/mfs/pay", &pay, REPLAY_SECRET);
    assert!(again.ends_with(BROKEN), "{again}");
    let again = raw_post(&replay.url, "/mfs/approve", &approve, REPLAY_SECRET);
    assert_eq!(again, "", "replayed as a closed connection");
    let log = log_of(replay);
    assert!(
        log.contains("the connection closed without an answer, as recorded"),
        "{log}"
    );
}

#[test]
fn a_target_that_cannot_be_reached_gets_a_502_and_nothing_is_recorded() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let dir = Dir::new();
    let proxy = proxy(
        &dir,
        &["--session", "down", "--target", &target],
        &[
            ("FREEDOMPAY_MERCHANT_ID", "777001"),
            ("FREEDOMPAY_SECRET_KEY", SECRET),
        ],
    );
    let answer = raw_post(
        &proxy.url,
        "/mfs/pay",
        &[("pg_merchant_id", "777001"), ("pg_payment_id", "1")],
        SECRET,
    );
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(
        answer.contains("fph proxy: the target did not answer"),
        "{answer}"
    );
    let (_, log) = proxy.interrupt();
    assert!(
        log.contains("nothing recorded, and the call is not retried"),
        "{log}"
    );
    assert!(!dir.path().join("recordings/proxy/down.yaml").exists());
}

#[test]
fn production_missing_credentials_and_bad_session_names_are_refused_before_listening() {
    let dir = Dir::new();
    let run = dir
        .fph()
        .args([
            "proxy",
            "--port",
            "0",
            "--session",
            "s",
            "--target",
            "https://API.freedompay.kz./",
        ])
        .env("FREEDOMPAY_MERCHANT_ID", "1")
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("refusing to send requests to production"),
        "{}",
        run.stderr
    );
    let run = dir
        .fph()
        .args([
            "proxy",
            "--port",
            "0",
            "--session",
            "s",
            "--target",
            "sandbox",
        ])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("set FREEDOMPAY_MERCHANT_ID and FREEDOMPAY_SECRET_KEY"),
        "{}",
        run.stderr
    );
    let run = dir
        .fph()
        .args(["proxy", "--port", "0", "--session", "../x"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("failed to use session name `../x`"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("recordings").exists());
}

#[test]
fn a_damaged_cassette_is_bad_input_at_its_line_and_column() {
    let dir = Dir::new();
    dir.write(
        "recordings/proxy/bad.yaml",
        "format: 1\nscenario: proxy\ncase: bad\nrecorded_at: \"2026-11-23T10:00:00Z\"\ntarget: emulator\nharness: \"0.1.0\"\nscenario_digest: \"\"\ninteractions:\n- step: init\n  atempt: 1\n",
    );
    for args in [
        &[
            "emulator",
            "--port",
            "0",
            "--replay",
            "recordings/proxy/bad.yaml",
        ][..],
        &["scenario", "from-recording", "recordings/proxy/bad.yaml"][..],
    ] {
        let run = dir.fph().args(args).run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "failed to read cassette recordings/proxy/bad.yaml:10:3: unknown field `atempt`"
            ),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// The README's worked example, block by block as it stands there (the port made a free
/// one), with this build's `fph` first on `PATH`, in a fresh crate `fph init --rust` set up;
/// then the `cargo test` step for real (built in the target dir the init test shares).
#[test]
fn the_readme_worked_example_runs_as_written() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed (the README's example uses it)");
        return;
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let example = readme
        .split_once("<!-- worked-example:start -->")
        .and_then(|(_, rest)| rest.split_once("<!-- worked-example:end -->"))
        .expect("the README marks its worked example")
        .0;
    // A block that fails stops the script; its background servers go with it (they would hold
    // the output pipe open and the test would wait forever).
    let mut script = String::from("set -eu\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n");
    for block in example.split("```bash\n").skip(1) {
        script.push_str(block.split("```").next().unwrap());
    }
    let port = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        free.local_addr().unwrap().port().to_string()
    };
    let script = script.replace("8081", &port);
    // A merchant's crate `fph init --rust` set up (its harness.yaml redacts phone numbers,
    // so the example records under the rules its cargo test replays with).
    let dir = Dir::new();
    dir.write("Cargo.toml", MERCHANT_MANIFEST);
    dir.write("src/lib.rs", "");
    let init = dir
        .fph()
        .args(["init", "--rust", "--harness-path"])
        .arg_path(Path::new(env!("CARGO_MANIFEST_DIR")))
        .run();
    assert_eq!(init.code, 0, "{}\n{}", init.stdout, init.stderr);
    dir.write("example.sh", &script);
    let bin = Path::new(env!("CARGO_BIN_EXE_fph")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut bash = Command::new("bash");
    bash.arg("example.sh")
        .current_dir(dir.path())
        .env("PATH", path)
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars() {
        if key.starts_with("FREEDOMPAY_") || key.starts_with("FPH_") || key == "CI" {
            bash.env_remove(key);
        }
    }
    let run = bash.output().unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{script}\n---\n{out}\n---\n{err}");
    // Recorded, then replayed: the same answers both times.
    assert_eq!(
        out.matches("need_approve\nok\nsuccess\n").count(),
        2,
        "{out}\n{err}"
    );
    assert!(
        out.contains("stopped: 4 calls recorded in recordings/proxy/checkout.yaml"),
        "{out}"
    );
    assert!(
        err.contains("POST /get_status3.php → replayed #4 (status): ok"),
        "{err}"
    );
    assert_eq!(out.matches("1 passed, 0 failed").count(), 2, "{out}");
    let cassette = dir.read("recordings/proxy/checkout.yaml");
    assert!(!cassette.contains("552170"), "{cassette}");
    let scenario = dir.read("scenarios/checkout.yaml");
    assert!(
        scenario.contains("expect: { pg_status: \"ok\", pg_payment_status: \"success\" }"),
        "{scenario}"
    );

    // `cargo test --test contract`: fph init's three scenarios and the generated one, offline.
    let (passed, stdout, stderr) = cargo_test_scaffold(&dir, "contract");
    assert!(passed, "{stdout}\n{stderr}");
    assert!(
        stdout.lines().any(
            |line| line.starts_with("test [scenario] checkout::default ")
                && line.ends_with("... ok")
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: ok. 5 passed; 0 failed"),
        "{stdout}"
    );
}

#[test]
fn a_scenario_cassette_given_to_replay_is_not_a_proxy_session_at_its_line() {
    let dir = Dir::with_shipped();
    let cassette = "recordings/sms_approval/operator=KCELLKZT,phone=77017777777.yaml";
    let line = dir
        .read(cassette)
        .lines()
        .position(|l| l == "scenario: sms_approval")
        .expect("the cassette names its scenario")
        + 1;
    let run = dir
        .fph()
        .args([
            "emulator",
            "--port",
            "0",
            "--replay",
            "recordings/sms_approval/operator=KCELLKZT,phone=77017777777.yaml",
        ])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            &format!("failed to read cassette {cassette}:{line}:1: not a proxy session: it records case `operator=KCELLKZT,phone=77017777777` of scenario `sms_approval`")
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("fph proxy --session NAME"),
        "{}",
        run.stderr
    );
}

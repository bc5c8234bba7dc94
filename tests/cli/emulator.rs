//! `fph emulator`: starts, prints where and with which credentials, answers, stops on Ctrl-C.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use freedompay_harness::gateway::signature::{sign, verify};
use freedompay_harness::gateway::xml::Document;
use freedompay_harness::gateway::{Fields, SecretKey};

use crate::support::Dir;

/// One GET over a fresh connection; returns (status line, body).
fn get(addr: &str, path_and_query: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a full answer");
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

#[test]
fn serves_with_the_given_merchant_until_ctrl_c() {
    let dir = Dir::new();
    let mut emulator = dir.emulator(&["--merchant", "1001:cli-key", "--seed", "3"]);
    let mut stdout = emulator.stdout.take().unwrap();
    let base = emulator.url.clone();
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    assert_eq!(
        second.trim(),
        "merchant 1001, secret key (as configured, not shown)",
        "only the demo merchant's key is printed"
    );
    let addr = base.strip_prefix("http://").unwrap();

    let (status, body) = get(addr, "/_emulator/");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("/_emulator/sms/{phone}"));

    let key = SecretKey::new("cli-key");
    let mut fields: Fields = [
        ("pg_merchant_id", "1001"),
        ("pg_payment_id", "1"),
        ("pg_salt", "s"),
    ]
    .into_iter()
    .collect();
    let sig = sign("get_status3.php", &fields, &key);
    fields.push("pg_sig", sig.as_str());
    let query: Vec<String> = fields
        .to_form_pairs()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let (_, body) = get(addr, &format!("/get_status3.php?{}", query.join("&")));
    let answer = Document::parse_response(body.as_bytes()).unwrap();
    assert_eq!(answer.text("pg_error_code"), Some("8010"), "{body}");
    assert!(verify("get_status3.php", &answer.to_fields(), &key).is_valid());
    // A bad signature: the answer says only what the real gateway says...
    let tampered = query
        .join("&")
        .replace("pg_payment_id=1", "pg_payment_id=2");
    let (_, body) = get(addr, &format!("/get_status3.php?{tampered}"));
    assert!(
        body.contains("<pg_error_code>9998</pg_error_code>"),
        "{body}"
    );
    assert!(!body.contains("get_status3.php;"), "{body}");

    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &emulator.child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = emulator.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopping"), "{rest}");
    // ...and the log tells the developer the string it should have signed, secret masked.
    let mut log = String::new();
    emulator
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains(
            "GET /get_status3.php → error 8010 unknown_payment: merchant 1001 has no payment 1"
        ),
        "{log}"
    );
    assert!(
        log.contains("GET /get_status3.php → error 9998 bad_signature: pg_sig does not match the request; the signed string should be `get_status3.php;1001;2;s;***`"),
        "{log}"
    );
    assert!(!log.contains("cli-key"), "{log}");
}

/// A client that is not fph's own — Python's standard library with its own signature
/// routine (tests/fidelity/client.py) — sends what merchants' real clients send, to a running
/// `fph emulator`, and checks the answers as the real gateway gives them.
#[test]
fn a_python_client_of_its_own_is_answered_as_the_real_gateway_answers() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: python3 is not installed (the client is a Python script)");
        return;
    }
    let dir = Dir::new();
    let emulator = dir.emulator(&["--quiet"]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity/client.py");
    let run = std::process::Command::new("python3")
        .arg(script)
        .args([emulator.url.as_str(), "552170", "fph-emulator-demo-secret"])
        .output()
        .unwrap();
    drop(emulator);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.contains("all checks passed"), "{out}");
}

#[test]
fn a_bad_configuration_file_is_bad_input_with_a_diagnostic() {
    let dir = Dir::new();
    dir.write(
        "emulator.yaml",
        "merchants: { \"1\": k }\ncode_atempts: 3\n",
    );
    let run = dir
        .fph()
        .args(["emulator", "--config", "emulator.yaml"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("code_atempts"), "{}", run.stderr);
    assert!(run.stderr.contains("emulator.yaml"), "{}", run.stderr);
}

/// Regression: YAML syntax and type errors and unknown keys in an emulator configuration came
/// out as serde-saphyr's own report (`× invalid u32`, the place only in the snippet's frame),
/// values the emulator cannot use in fph's shape. Now every one has the shape of scenario and
/// `harness.yaml` diagnostics: the title `file:line:column: what is wrong`, the line of the
/// file with the value underlined, the fix; merchant keys crossed out in the lines shown.
#[test]
fn one_diagnostic_shape_for_the_emulator_configuration() {
    const KEY: &str = "hunter2-Pa55";
    let dir = Dir::new();
    for (yaml, title, line, help) in [
        (
            // syntax: the parser stops at the value before the tab
            format!("merchants:\n  \"1\": {KEY}\nseed: 1\n\tcode_attempts: 3\n"),
            "emulator.yaml:3:7: while scanning a plain scalar, found a tab",
            "3 │ seed: 1",
            "help: the mistake may be earlier",
        ),
        (
            format!("merchants:\n  \"1\": {KEY}\ncode_attempts: many\n"),
            "emulator.yaml:3:16: invalid u32",
            "3 │ code_attempts: many",
            "help: write a whole number from 0 to 4294967295",
        ),
        (
            format!("merchants:\n  \"1\": {KEY}\nerror_codes: {{ wrong_cod: 1 }}\n"),
            "emulator.yaml:3:16: unknown key `wrong_cod`",
            "3 │ error_codes: { wrong_cod: 1 }",
            "help: did you mean `wrong_code`?",
        ),
        (
            format!("merchants:\n  \"1\": {KEY}\napprove_delay: 5\n"),
            "emulator.yaml:3:16: `5` is not a duration",
            "3 │ approve_delay: 5",
            "help: add a unit, like `approve_delay: 5s` or `5ms`",
        ),
        (
            format!("merchants:\n  \"1\": {KEY}\ncode_attempts: 0\n"),
            "emulator.yaml:3:16: code_attempts must be at least 1",
            "3 │ code_attempts: 0",
            "help: leave it out for the default",
        ),
    ] {
        dir.write("emulator.yaml", &yaml);
        let run = dir
            .fph()
            .args(["--color", "never", "emulator", "--config", "emulator.yaml"])
            .run();
        let err = &run.stderr;
        assert_eq!(run.code, 2, "{yaml}: {err}");
        let lines: Vec<&str> = err.lines().map(str::trim).collect();
        assert!(
            lines.contains(&format!("× {title}").as_str()),
            "the title: {err}"
        );
        assert!(lines.iter().any(|l| l.ends_with(line)), "the line: {err}");
        assert!(err.contains('┬'), "the underline: {err}");
        assert!(lines.iter().any(|l| l.starts_with(help)), "the fix: {err}");
        assert!(err.contains("XXXXXXXXXXXX"), "the key crossed out: {err}");
        assert!(!err.contains(KEY), "{err}");
    }
}

#[test]
fn a_bad_merchant_flag_is_a_usage_error() {
    let run = Dir::new()
        .fph()
        .args(["emulator", "--merchant", "552170"])
        .run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("ID:SECRET"), "{}", run.stderr);
}

/// Issue 22: each encoding the harness sends is signed, accepted and read *as that encoding*
/// by the emulator — checked on the emulator's side, from the calls it journaled: the
/// content type it was sent and how it read the request, for every call of every payment of
/// the shipped `encodings.yaml` (each case's init carries its encoding in `pg_param1`).
#[test]
fn the_emulator_saw_each_encoding_the_harness_sent() {
    let dir = Dir::with_shipped();
    let emulator = dir.emulator(&["--quiet"]);
    let run = dir
        .fph()
        .args([
            "run",
            "--mode",
            "live",
            "--target",
            &emulator.url,
            "scenarios/encodings.yaml",
        ])
        .demo_merchant()
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("5 passed, 0 failed"), "{}", run.stdout);

    let addr = emulator.url.strip_prefix("http://").unwrap().to_owned();
    let (status, body) = get(&addr, "/_emulator/api/calls?limit=500");
    assert!(status.contains("200"), "{status}");
    let calls: serde_json::Value = serde_json::from_str(&body).unwrap();
    let calls = calls["calls"].as_array().unwrap();
    let field =
        |call: &serde_json::Value, name: &str| -> Option<String> {
            call["request"].as_array().unwrap().iter().find_map(|f| {
                (f["name"] == name).then(|| f["value"].as_str().unwrap_or("").to_owned())
            })
        };
    // Which encoding each payment's case sent, from its init.
    let mut case_of = std::collections::HashMap::new();
    for call in calls.iter().filter(|c| c["call"] == "init") {
        let payment = call["payment_id"].as_u64().expect("init made a payment");
        case_of.insert(payment, field(call, "pg_param1").unwrap());
    }
    assert_eq!(case_of.len(), 5, "{body}");
    let mut seen = std::collections::BTreeMap::<String, Vec<String>>::new();
    for call in calls {
        let payment = call["payment_id"].as_u64().unwrap();
        let sent = &case_of[&payment];
        let (method, content_type) = match sent.as_str() {
            "multipart" => ("POST", Some("multipart/form-data; boundary=")),
            "urlencoded" | "pg_xml" => ("POST", Some("application/x-www-form-urlencoded")),
            "json" => ("POST", Some("application/json")),
            "get" => ("GET", None),
            other => panic!("unexpected pg_param1 {other}"),
        };
        let what = format!("{sent} {}: {call}", call["call"]);
        assert_eq!(call["encoding"], sent.as_str(), "{what}");
        assert_eq!(call["method"], method, "{what}");
        match content_type {
            Some(prefix) => assert!(
                call["content_type"].as_str().unwrap().starts_with(prefix),
                "{what}"
            ),
            None => assert!(call["content_type"].is_null(), "{what}"),
        }
        // Accepted: signed right and answered without an error.
        assert!(
            !call["outcome"].as_str().unwrap().starts_with("error"),
            "{what}"
        );
        seen.entry(sent.clone())
            .or_default()
            .push(call["call"].as_str().unwrap().to_owned());
    }
    for (encoding, calls) in &seen {
        for call in ["init", "pay", "approve", "status"] {
            assert!(calls.iter().any(|c| c == call), "{encoding}: {calls:?}");
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
}

/// A TCP forwarder to `to` that counts the connections made through it and the SMS-code
/// lookups sent over them.
struct CountingForwarder {
    addr: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    requests: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl CountingForwarder {
    fn start(to: String) -> Self {
        use std::sync::atomic::Ordering;
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, sent) = (Arc::clone(&connections), Arc::clone(&requests));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(mut server) = TcpStream::connect(&to) else {
                    return;
                };
                let (mut client_back, mut server_back) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_back, &mut client_back);
                });
                let sent = Arc::clone(&sent);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = client.read(&mut buf) {
                        if n == 0 || server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        sent.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = server.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CountingForwarder {
            addr,
            connections,
            requests,
        }
    }
}

/// Issue 22: against a URL target, `sms_code(phone)` asks the emulator's admin API for the
/// case's payment over the run's own HTTP client, on its keep-alive connection — not on a
/// new connection per lookup. One job, five cases, five lookups: one connection in all.
#[test]
fn sms_code_lookups_reuse_the_runs_keep_alive_connection() {
    use std::sync::atomic::Ordering;
    let dir = Dir::with_shipped();
    let emulator = dir.emulator(&["--quiet"]);
    let forwarder =
        CountingForwarder::start(emulator.url.strip_prefix("http://").unwrap().to_owned());
    let run = dir
        .fph()
        .args([
            "run",
            "--mode",
            "live",
            "-j",
            "1",
            "--target",
            &format!("http://{}", forwarder.addr),
            "scenarios/sms_approval.yaml",
        ])
        .demo_merchant()
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("5 passed, 0 failed"), "{}", run.stdout);
    let sent = String::from_utf8_lossy(&forwarder.requests.lock().unwrap()).into_owned();
    let lookups: Vec<&str> = sent
        .lines()
        .filter(|l| l.starts_with("GET /_emulator/"))
        .collect();
    // Each lookup names its case's payment, not the phone.
    assert_eq!(lookups.len(), 5, "{sent}");
    let lookup_shape = regex::Regex::new(r"^GET /_emulator/payments/\d+/sms HTTP/1\.1$").unwrap();
    for lookup in &lookups {
        assert!(lookup_shape.is_match(lookup), "{lookup}");
    }
    assert_eq!(
        forwarder.connections.load(Ordering::SeqCst),
        1,
        "every call and lookup of a one-job run goes over one keep-alive connection"
    );
}

/// Issue 14.3: `fph emulator` documents where it tells what the gateway does not — the log
/// line and the `X-Emulator-Hint` header.
#[test]
fn the_help_names_the_log_and_the_hint_header() {
    let help = Dir::new().fph().args(["emulator", "--help"]).run();
    assert_eq!(help.code, 0, "{}", help.stderr);
    let text = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "goes to the request's log line on standard error and to the X-Emulator-Hint response header",
        "the secret masked as ***",
        "The X-Emulator-Hint header is sent either way",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
}

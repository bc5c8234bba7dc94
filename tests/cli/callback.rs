//! `fph callback send`: a merchant handler that keeps the callback contract passes; for every
//! rule, a handler that breaks exactly that rule, and a run that sees exactly that rule fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use freedompay_harness::gateway::{Fields, SecretKey, signature};

use super::support::{Dir, Run};

const SECRET: &str = "merchant-s3cret";

/// How the merchant's handler misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Handler {
    Keeps,
    Http500,
    NotXml,
    UnknownStatus,
    NoSalt,
    WrongSig,
    ChangesItsMind,
    RejectsAlways,
}

/// Starts the handler on 127.0.0.1:0; returns its result URL (script name `result`).
fn merchant(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let call = calls.fetch_add(1, Ordering::Relaxed);
            let _ = reply(stream, handler, call);
        }
    });
    format!("http://{addr}/merchant/result")
}

fn reply(stream: std::net::TcpStream, handler: Handler, call: u32) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let status = match handler {
        Handler::UnknownStatus => "accepted",
        Handler::ChangesItsMind if call % 2 == 1 => "error",
        Handler::RejectsAlways => "rejected",
        _ => "ok",
    };
    let mut fields = Fields::new();
    fields.push("pg_status", status);
    fields.push("pg_description", "seen");
    if handler != Handler::NoSalt {
        fields.push("pg_salt", "salt42");
    }
    let key = SecretKey::new(if handler == Handler::WrongSig {
        "another key"
    } else {
        SECRET
    });
    let sig = signature::sign("result", &fields, &key);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><response>");
    for (name, value) in fields.to_form_pairs() {
        xml.push_str(&format!("<{name}>{value}</{name}>"));
    }
    xml.push_str(&format!("<pg_sig>{sig}</pg_sig></response>"));
    let (code, text) = match handler {
        Handler::Http500 => ("500 Internal Server Error", xml),
        Handler::NotXml => ("200 OK", "OK".to_owned()),
        _ => ("200 OK", xml),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {code}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    )
}

fn send(handler: Handler, extra: &[&str]) -> Run {
    let url = merchant(handler);
    Dir::new()
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .args(["callback", "send", "result", "--to", &url])
        .args(extra)
        .run()
}

/// The rules a run printed as failed.
fn failed(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FAIL  "))
        .map(|l| l.split(':').next().unwrap_or(l).to_owned())
        .collect()
}

fn assert_only_broken(handler: Handler, extra: &[&str], rule: &str) {
    let run = send(handler, extra);
    assert_eq!(run.code, 1, "{handler:?}: {}{}", run.stdout, run.stderr);
    assert_eq!(
        failed(&run),
        vec![rule.to_owned()],
        "{handler:?}: {}",
        run.stdout
    );
}

#[test]
fn a_handler_that_keeps_the_contract_passes_every_rule() {
    for method in ["POST", "GET", "XML"] {
        let run = send(Handler::Keeps, &["--method", method]);
        assert_eq!(run.code, 0, "{method}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout.matches("pass  ").count(), 7, "{}", run.stdout);
    }
}

#[test]
fn http_500_breaks_only_the_http_rule() {
    assert_only_broken(Handler::Http500, &[], "answers HTTP 200");
}

#[test]
fn a_plain_text_reply_breaks_the_xml_rule_and_the_rest_is_not_judged() {
    let run = send(Handler::NotXml, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(failed(&run), vec!["answers an XML <response>".to_owned()]);
    assert!(
        run.stdout.contains("\"OK\""),
        "first bytes quoted: {}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("skip  ").count(), 5, "{}", run.stdout);
}

#[test]
fn an_unknown_status_breaks_only_the_status_rule() {
    assert_only_broken(
        Handler::UnknownStatus,
        &[],
        "pg_status is ok, rejected or error",
    );
}

#[test]
fn a_reply_without_salt_breaks_only_the_salt_rule() {
    assert_only_broken(Handler::NoSalt, &[], "pg_salt is present");
}

#[test]
fn a_reply_signed_with_another_key_breaks_only_the_signature_rule() {
    assert_only_broken(
        Handler::WrongSig,
        &[],
        "pg_sig is valid for the URL's script name",
    );
}

#[test]
fn a_different_answer_to_the_same_callback_breaks_only_idempotency() {
    assert_only_broken(
        Handler::ChangesItsMind,
        &[],
        "the same callback sent again gets the same answer",
    );
}

#[test]
fn rejecting_a_result_is_allowed_only_with_pg_can_reject() {
    assert_only_broken(
        Handler::RejectsAlways,
        &[],
        "rejects a result callback only when pg_can_reject=1",
    );
    let run = send(Handler::RejectsAlways, &["--field", "pg_can_reject=1"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_handler_that_is_not_there_fails_naming_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/result", listener.local_addr().unwrap());
    drop(listener);
    let run = Dir::new()
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .args(["callback", "send", "result", "--to", &url])
        .run();
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(&url), "{}", run.stdout);
}

#[test]
fn bad_arguments_are_bad_input() {
    let run = Dir::new()
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .args(["callback", "send", "result", "--to", "http://127.0.0.1:1/"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("script name"), "{}", run.stderr);
}

/// The callback fph sends is signed as the gateway signs (checked by the harness's own
/// receiver, which releases nothing before the signature holds), in every method.
#[test]
fn the_callback_sent_is_signed_for_the_url_in_every_method() {
    use freedompay_harness::cli::{Receiver, Reply};
    use freedompay_harness::gateway::callback::CallbackKind;
    use std::time::Duration;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let key = SecretKey::new(SECRET);
    let receiver = Receiver::start(None, 0).unwrap();
    for method in ["POST", "GET", "XML"] {
        let case = format!("cli-{method}");
        let url = receiver.url(&case, CallbackKind::Check);
        let fph = std::thread::spawn(move || {
            Dir::new()
                .fph()
                .env("FREEDOMPAY_SECRET_KEY", SECRET)
                .args([
                    "callback", "send", "check", "--to", &url, "--method", method,
                ])
                .args(["--payment-id", "777", "--field", "pg_param1=p1"])
                .run()
        });
        for _ in 0..2 {
            let pending = runtime
                .block_on(receiver.wait(&case, CallbackKind::Check, &key, Duration::from_secs(10)))
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            assert_eq!(pending.fields.get("pg_payment_id"), Some("777"));
            assert_eq!(pending.fields.get("pg_param1"), Some("p1"));
            pending.answer(
                &Reply::Signed {
                    status: "ok".into(),
                    description: String::new(),
                    salt: "s4lt".into(),
                    sig: None,
                },
                &key,
            );
        }
        let run = fph.join().unwrap();
        assert_eq!(run.code, 0, "{method}: {}{}", run.stdout, run.stderr);
    }
}

/// The handler's contract as a scenario step: a callback sent as GET parameters (another
/// style than the POST the CLI defaults to) to a handler written here, recorded, then
/// replayed with the handler gone and no credentials.
const HANDLER_SCENARIO: &str = r#"name: The shop's result handler
steps:
  - id: notify
    call: { callback: result, to: "{{ env('MERCHANT_URL') }}", method: GET }
    form:
      pg_payment_id: "4242"
      pg_can_reject: "1"
    expect:
      pg_status: ok
      pg_description: seen
    capture:
      said: pg_description
"#;

#[test]
fn a_callback_step_keeps_the_handler_contract_in_a_scenario_live_and_replayed() {
    let url = merchant(Handler::Keeps);
    let dir = Dir::new();
    dir.write("scenarios/handler.yaml", HANDLER_SCENARIO);
    let record = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "9001")
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .env("MERCHANT_URL", &url)
        .args(["run", "--mode", "record"])
        .run();
    assert_eq!(record.code, 0, "{}{}", record.stdout, record.stderr);
    let cassette = dir.read("recordings/handler/default.yaml");
    assert!(!cassette.contains(SECRET), "{cassette}");
    assert_eq!(
        cassette.matches("encoding: get").count(),
        2,
        "sent twice, as GET: {cassette}"
    );
    assert!(cassette.contains("pg_payment_id: \"4242\""), "{cassette}");

    // No handler, no credentials, no environment: the recording answers.
    let replay = dir.fph().args(["run"]).run();
    assert_eq!(replay.code, 0, "{}{}", replay.stdout, replay.stderr);
    assert!(replay.stdout.contains("1 passed"), "{}", replay.stdout);

    // An edited recorded reply is caught offline, as an edited answer is.
    dir.write(
        "recordings/handler/default.yaml",
        &cassette.replacen("<pg_description>seen<", "<pg_description>SEEN<", 1),
    );
    let edited = dir.fph().args(["run"]).run();
    assert_eq!(edited.code, 1, "{}{}", edited.stdout, edited.stderr);
}

#[test]
fn a_callback_step_fails_on_exactly_the_broken_rule() {
    for (handler, rule) in [
        (
            Handler::ChangesItsMind,
            "FAIL  the same callback sent again gets the same answer",
        ),
        (
            Handler::WrongSig,
            "FAIL  pg_sig is valid for the URL's script name",
        ),
        (Handler::NoSalt, "FAIL  pg_salt is present"),
    ] {
        let url = merchant(handler);
        let dir = Dir::new();
        dir.write("scenarios/handler.yaml", HANDLER_SCENARIO);
        let run = dir
            .fph()
            .env("FREEDOMPAY_MERCHANT_ID", "9001")
            .env("FREEDOMPAY_SECRET_KEY", SECRET)
            .env("MERCHANT_URL", &url)
            .args(["run", "--mode", "live"])
            .run();
        assert_eq!(run.code, 1, "{handler:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("broke the callback contract (1 rule)"),
            "{handler:?}: {}",
            run.stdout
        );
        assert!(run.stdout.contains(rule), "{handler:?}: {}", run.stdout);
        assert!(!run.stdout.contains(SECRET), "{}", run.stdout);
    }
}

#[test]
fn a_callback_that_never_comes_fails_the_wait_after_its_timeout_naming_the_url() {
    let dir = Dir::new();
    // Init gives the gateway no result URL, so nothing will ever come.
    dir.write(
        "scenarios/silent.yaml",
        "name: Silent\nsteps:\n  - id: init\n    call: init\n    form: { pg_amount: \"5\", pg_description: x, pg_param1: '{{ callback_url(\"result\") }}' }\n  - id: paid\n    wait: result_callback\n    timeout: 300ms\n",
    );
    let run = dir.fph().args(["run", "--mode", "live"]).run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("step `paid` (wait result_callback, attempt 1)"),
        "{}",
        run.stdout
    );
    let said = run
        .stdout
        .lines()
        .find(|l| l.contains("no callback came to"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        said.contains("no callback: no callback came to http://127.0.0.1:")
            && said.contains("/silent/default/result within 300ms"),
        "{said}"
    );
}

#[test]
fn replay_catches_an_edited_callback_and_a_reply_the_scenario_no_longer_gives() {
    let dir = Dir::with_shipped();
    let path = "recordings/callback_result/method=POST.yaml";
    let cassette = dir.read(path);
    let filter = [
        "run",
        "scenarios/callback_result.yaml",
        "--filter",
        "method=POST",
    ];
    assert_eq!(dir.fph().args(filter).run().code, 0);

    dir.write(
        path,
        &cassette.replacen("pg_result: \"1\"", "pg_result: \"0\"", 1),
    );
    let edited = dir.fph().args(filter).run();
    assert_eq!(edited.code, 1, "{}", edited.stdout);
    assert!(
        edited
            .stdout
            .contains("the recorded callback's pg_sig does not match its fields"),
        "{}",
        edited.stdout
    );

    // The reply recorded is not what the scenario answers now (the cassette kept up with a
    // scenario edit by hand): replay says so rather than pass.
    dir.write(
        path,
        &cassette.replacen(
            "<pg_status>ok</pg_status>\n        <pg_description>Order",
            "<pg_status>error</pg_status>\n        <pg_description>Order",
            1,
        ),
    );
    let reply = dir.fph().args(filter).run();
    assert_eq!(reply.code, 1, "{}", reply.stdout);
    assert!(
        reply
            .stdout
            .contains("the reply to the callback differs from the recording"),
        "{}",
        reply.stdout
    );
}

#[test]
fn callback_base_url_must_be_a_forwarders_url() {
    for bad in ["not a url", "ftp://x/y", "https://x/cb?token=1"] {
        let run = Dir::new()
            .fph()
            .args(["run", "--callback-base-url", bad])
            .run();
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("--callback-base-url"),
            "{bad}: {}",
            run.stderr
        );
    }
}

/// The merchant's backend → `fph emulator` → the merchant's result URL: the emulator's log
/// line for each attempt says whether the reply kept the contract.
#[test]
fn the_emulator_logs_whether_each_callback_reply_kept_the_contract() {
    use std::io::BufRead;
    for (handler, said) in [
        (Handler::Keeps, "(POST): ok; contract kept"),
        (
            Handler::Http500,
            "unanswered: the merchant answered HTTP 500; contract broken: answers HTTP 200: HTTP 500",
        ),
    ] {
        let url = merchant(handler);
        let dir = Dir::new();
        let mut emulator = dir.emulator(&["--merchant", &format!("9001:{SECRET}")]);
        let stderr = emulator.child.stderr.take().unwrap();
        let (lines, heard) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = lines.send(line);
            }
        });
        // Plays the merchant's backend: an immediately successful payment notifies `url`.
        dir.write(
            "scenarios/shop.yaml",
            &format!(
                "name: Shop\nsteps:\n  - id: init\n    call: init\n    form: {{ pg_amount: \"5\", pg_description: x, pg_result_url: \"{url}\" }}\n    capture: {{ payment_id: pg_payment_id }}\n  - id: pay\n    call: pay\n    form: {{ pg_payment_id: \"{{{{ payment_id }}}}\", pg_abonent_phone: \"77017777701\" }}\n"
            ),
        );
        let run = dir
            .fph()
            .env("FREEDOMPAY_MERCHANT_ID", "9001")
            .env("FREEDOMPAY_SECRET_KEY", SECRET)
            .args(["run", "--mode", "live", "--target", &emulator.url])
            .run();
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let line = loop {
            let line = heard
                .recv_timeout(std::time::Duration::from_secs(10))
                .expect("a callback line within 10 s");
            if line.starts_with("callback result #1") {
                break line;
            }
        };
        assert!(line.contains(&format!("→ {url} (POST)")), "{line}");
        assert!(line.contains(said), "{handler:?}: {line}");
        assert!(!line.contains(SECRET), "{line}");
    }
}

/// A remote gateway reaches the receiver through a forwarder: the gateway is given
/// `--callback-base-url` (a path prefix included), the receiver listens on `--callback-port`,
/// and the run says where the forwarder must point. Here the "forwarder" is the identity: the
/// base URL names the receiver's own fixed port, so the emulator's callbacks arrive with the
/// prefix still on their path.
#[test]
fn callbacks_reach_the_case_through_a_forwarder_with_a_fixed_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/fwd");
    let run = Dir::with_shipped()
        .fph()
        .args(["run", "scenarios/callback_result.yaml", "--mode", "live"])
        .args([
            "--callback-base-url",
            &base,
            "--callback-port",
            &port.to_string(),
        ])
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("3 passed"), "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "callbacks: {base} is forwarded to http://127.0.0.1:{port}"
        )),
        "{}",
        run.stderr
    );
}

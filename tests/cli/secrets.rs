//! The secret never leaves: a scenario and a gateway that leak the merchant secret and the
//! target URL's password through every channel, and every artifact fph writes or prints
//! checked for every form of them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use freedompay_harness::gateway::{Document, SecretKey, signature};

use super::support::{Dir, Run, base64};

/// Every character class that an encoder treats differently: `/+=` (base64 and URL), `&<>"`
/// (XML), a space (`+` in forms) and a non-ASCII letter.
const SECRET: &str = "Top/Secret+Key=42 &<\"é\">";
const USER: &str = "merchant";
const PASSWORD: &str = "hunter2-Pa55";

fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Every form of `secret` an artifact could carry.
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64(secret.as_bytes());
    vec![
        secret.to_owned(),
        url_encoded(secret),
        xml_escaped(secret),
        // JSON and YAML double-quoted strings.
        secret.replace('\\', "\\\\").replace('"', "\\\""),
        b64.trim_end_matches('=').to_owned(),
        b64.trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_"),
        hex(secret),
        hex(secret).to_uppercase(),
    ]
}

/// Asserts that no form of the secret or the password is in `text`.
fn assert_clean(what: &str, text: &str) {
    for form in forms(SECRET)
        .into_iter()
        .chain(forms(PASSWORD))
        .chain([base64(format!("{USER}:{PASSWORD}").as_bytes())])
    {
        assert!(!text.contains(&form), "{what} contains `{form}`:\n{text}");
    }
}

/// A gateway that signs its answers with the secret and quotes the secret (raw, URL-encoded,
/// XML-escaped, base64, hex) and the request's `Authorization` header in them; every answer
/// counts up `pg_round`, so a drift check finds a change.
fn leaky_gateway() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let round = Arc::new(AtomicU32::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let round = round.fetch_add(1, Ordering::Relaxed);
            let _ = answer(stream, round);
        }
    });
    format!("http://{USER}:{PASSWORD}@{addr}")
}

fn answer(stream: std::net::TcpStream, round: u32) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (mut length, mut chunked, mut authorization) = (0usize, false, String::new());
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "transfer-encoding" => chunked = value.contains("chunked"),
            "authorization" => authorization = value.trim().to_owned(),
            _ => {}
        }
    }
    if chunked {
        let mut tail = Vec::new();
        while !tail.ends_with(b"0\r\n\r\n") {
            let mut byte = [0];
            reader.read_exact(&mut byte)?;
            tail.push(byte[0]);
        }
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
    }
    let quoted = format!(
        "raw {} url {} b64 {} hex {} auth {}",
        xml_escaped(SECRET),
        url_encoded(SECRET),
        base64(SECRET.as_bytes()),
        hex(SECRET),
        xml_escaped(&authorization)
    );
    let unsigned = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response><pg_status>ok</pg_status><pg_payment_id>4242</pg_payment_id><pg_round>{round}</pg_round><pg_description>{quoted}</pg_description><pg_salt>s4lt</pg_salt><pg_sig></pg_sig></response>\n"
    );
    let document = Document::parse_response_str(&unsigned).unwrap();
    let sig = signature::sign(&path, &document.root, &SecretKey::new(SECRET));
    let body = unsigned.replace("<pg_sig></pg_sig>", &format!("<pg_sig>{sig}</pg_sig>"));
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/xml; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// A scenario whose form sends the secret (through another variable: the loader refuses
/// `env("FREEDOMPAY_SECRET_KEY")` itself) and whose checks and expected body fail, so the
/// failure output shows the request and the answer.
fn leaky_scenario(dir: &Dir) {
    dir.write(
        "scenarios/leak.yaml",
        "name: Leak\nsteps:\n  - id: init\n    call: init\n    form:\n      pg_order_id: \"{{ order_id() }}\"\n      pg_amount: \"10\"\n      pg_description: \"{{ env('LEAKED_COPY') }}\"\n    expect: { pg_status: error, pg_description: { matches: '^nothing$' } }\n    expect_body: bodies/init.xml\n",
    );
    dir.write("scenarios/bodies/init.xml", "<response/>\n");
}

fn fph_run(dir: &Dir, target: &str, args: &[&str]) -> Run {
    dir.fph()
        .env("FREEDOMPAY_MERCHANT_ID", "990001")
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .env("LEAKED_COPY", SECRET)
        .args(["run", "--target", target])
        .args(args)
        .run()
}

const WARNING: &str = "the merchant secret key (";

#[test]
fn secret_never_leaves_a_cassette_a_new_file_or_a_report() {
    let dir = Dir::new();
    leaky_scenario(&dir);
    let target = leaky_gateway();
    // Record (keeping the failed case), human report, JUnit, expected body proposed as .new.
    let run = fph_run(
        &dir,
        &target,
        &[
            "--mode",
            "record",
            "--keep-failed",
            "--update",
            "new",
            "--junit",
            "junit.xml",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("FAIL leak::default"), "{}", run.stdout);
    assert!(run.stdout.contains("[REDACTED]"), "{}", run.stdout);
    assert!(
        run.stdout.contains(WARNING),
        "the run warns: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains(WARNING),
        "the run warns: {}",
        run.stderr
    );
    assert_clean("the human report", &run.stdout);
    assert_clean("standard error", &run.stderr);
    let cassette = dir.read("recordings/leak/default.yaml");
    assert!(cassette.contains("[REDACTED]"), "{cassette}");
    assert!(cassette.contains("target: http://127.0.0.1:"), "{cassette}");
    assert_clean("the cassette", &cassette);
    assert_clean("the JUnit report", &dir.read("junit.xml"));
    let proposal = dir.read("scenarios/bodies/init.xml.new");
    assert!(proposal.contains("[REDACTED]"), "{proposal}");
    assert_clean("the expected body's .new file", &proposal);

    // The same live, as JSON lines.
    let run = fph_run(&dir, &target, &["--mode", "live", "--report", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(WARNING), "{}", run.stdout);
    assert_clean("the JSON report", &run.stdout);
    assert_clean("standard error", &run.stderr);

    // Drift: every answer's pg_round differs, so the case drifts and is proposed as .new.
    let run = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "990001")
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .env("LEAKED_COPY", SECRET)
        .env("FPH_UPDATE", "new")
        .args(["drift", "--target", &target])
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(WARNING), "{}", run.stderr);
    assert_clean("the drift report", &run.stdout);
    assert_clean("standard error", &run.stderr);
    let proposal = dir.read("recordings/leak/default.yaml.new");
    assert!(proposal.contains("pg_round"), "{proposal}");
    assert_clean("drift's .yaml.new", &proposal);
    for (path, bytes) in dir.files(".") {
        assert_clean(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}

#[test]
fn secret_never_leaves_through_env_in_a_scenario() {
    let dir = Dir::new();
    dir.write(
        "scenarios/env.yaml",
        "name: Env\nsteps:\n  - id: init\n    call: init\n    form:\n      pg_description: \"{{ env('FREEDOMPAY_SECRET_KEY') }}\"\n",
    );
    let run = dir
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", SECRET)
        .args(["lint"])
        .run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("env.yaml:6:"),
        "file and line: {}",
        run.stderr
    );
    assert!(run.stderr.contains("is refused"), "{}", run.stderr);
    assert_clean("the diagnostic", &run.stderr);
}

#[test]
fn secret_never_leaves_a_harness_yaml_or_emulator_config_diagnostic() {
    let dir = Dir::new();
    dir.write(
        "scenarios/harness.yaml",
        &format!(
            "format: 1\ntargets:\n  staging: {{ url: \"http://{USER}:{PASSWORD}@127.0.0.1:9\" }}\nsecret_key: \"{PASSWORD}\"\n"
        ),
    );
    dir.write(
        "scenarios/s.yaml",
        "name: S\nsteps:\n  - id: s\n    call: status\n    form: { pg_payment_id: \"1\" }\n",
    );
    let run = dir.fph().args(["--color", "never", "lint"]).run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("harness.yaml:4:"), "{}", run.stderr);
    assert!(run.stderr.contains("secret_key"), "{}", run.stderr);
    assert_clean("the harness.yaml diagnostic", &run.stderr);

    dir.write(
        "emulator.yaml",
        &format!("merchants:\n  \"1001\": \"{PASSWORD}\"\nseed: nope\n"),
    );
    let run = dir
        .fph()
        .args(["emulator", "--config", "emulator.yaml"])
        .run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("seed"), "{}", run.stderr);
    assert_clean("the emulator config diagnostic", &run.stderr);
}

/// A value the emulator cannot use is shown with its line of the file and the lines around
/// it: merchant keys there are crossed out, whichever value is at fault.
#[test]
fn secret_never_leaves_an_emulator_config_value_diagnostic() {
    let dir = Dir::new();
    for (yaml, place) in [
        (
            format!("merchants:\n  \"1001\": \"{PASSWORD}\"\nbind: here\n"),
            "emulator.yaml:3:7:",
        ),
        (
            format!("merchants:\n  \"1001\": {PASSWORD}\n  \"1002\": \"\"\n"),
            "emulator.yaml:3:11:",
        ),
        (
            format!("merchants: {{ \"1001\": {PASSWORD} }}\nroutes: {{ pay: /_emulator/p }}\n"),
            "emulator.yaml:2:16:",
        ),
    ] {
        dir.write("emulator.yaml", &yaml);
        let run = dir
            .fph()
            .args(["emulator", "--config", "emulator.yaml"])
            .run();
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(place), "{place}: {}", run.stderr);
        assert!(run.stderr.contains("XXXX"), "the snippet: {}", run.stderr);
        assert_clean("the emulator config value diagnostic", &run.stderr);
    }
}

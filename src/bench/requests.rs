//! Requests signed for the emulator's demo merchant, as the runner's [`Request`] or as raw
//! HTTP/1.1 bytes, and the thin keep-alive client that sends the raw ones.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::emulator::{
    DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig, RunningEmulator,
};
use crate::gateway::signature;
use crate::gateway::{Encoding, Fields, Operation, SecretKey};
use crate::transport::{Request, live};

use super::BenchError;

/// A request signed for the demo merchant as the runner signs one.
pub(super) fn demo_request(operation: Operation, pairs: &[(&str, &str)], salt: &str) -> Request {
    let path = operation.default_path().to_owned();
    Request {
        step: operation.name().to_owned(),
        attempt: 1,
        fields: signed_fields(&path, pairs, salt),
        operation,
        path,
        encoding: Encoding::Multipart,
        signed_by_harness: true,
        direction: crate::transport::Direction::Outgoing,
    }
}

/// The fields of a request signed for the demo merchant.
fn signed_fields(path: &str, pairs: &[(&str, &str)], salt: &str) -> Fields {
    let key = SecretKey::new(DEMO_SECRET_KEY);
    let mut fields: Fields = pairs.iter().copied().collect();
    fields.push("pg_merchant_id", DEMO_MERCHANT_ID);
    fields.push("pg_salt", salt);
    let sig = signature::sign(path, &fields, &key);
    fields.push("pg_sig", sig.as_str());
    fields
}

/// A request signed for the demo merchant, as raw HTTP/1.1 bytes in `encoding` (the bytes
/// the live transport sends; its multipart boundary is drawn once here).
pub(super) fn raw_request(
    encoding: Encoding,
    path: &str,
    pairs: &[(&str, &str)],
    salt: &str,
) -> Vec<u8> {
    use crate::gateway::encoding as wire;
    let fields = signed_fields(path, pairs, salt);
    let (target, content_type, body) = match encoding {
        Encoding::Multipart => {
            let (content_type, body) =
                live::multipart_body(&fields.form_pairs()).expect("plain field names");
            (path.to_owned(), Some(content_type), body)
        }
        Encoding::Urlencoded => (
            path.to_owned(),
            Some(wire::FORM_CONTENT_TYPE.to_owned()),
            wire::urlencoded(&fields).into_bytes(),
        ),
        Encoding::PgXml => (
            path.to_owned(),
            Some(wire::FORM_CONTENT_TYPE.to_owned()),
            wire::pg_xml(&fields)
                .expect("plain field names")
                .into_bytes(),
        ),
        Encoding::Json => (
            path.to_owned(),
            Some(wire::JSON_CONTENT_TYPE.to_owned()),
            wire::json(&fields).into_bytes(),
        ),
        Encoding::Get => (
            format!("{path}?{}", wire::urlencoded(&fields)),
            None,
            Vec::new(),
        ),
    };
    let mut request = format!(
        "{} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        encoding.method()
    );
    if let Some(content_type) = content_type {
        request.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// Sends one request on a kept-alive connection and reads the whole answer; returns the body.
pub(super) async fn exchange(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    request: &[u8],
) -> Result<Vec<u8>, BenchError> {
    let io = |e: std::io::Error| BenchError::Client(e.to_string());
    stream.write_all(request).await.map_err(io)?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !head.starts_with("HTTP/1.1 200") {
                return Err(BenchError::Client(format!("the emulator answered {head}")));
            }
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .ok_or_else(|| BenchError::Client("an answer without Content-Length".into()))?;
            let total = end + 4 + length;
            while buf.len() < total {
                let n = stream.read(&mut chunk).await.map_err(io)?;
                if n == 0 {
                    return Err(BenchError::Client("the connection closed".into()));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf[end + 4..total].to_vec());
        }
        let n = stream.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(BenchError::Client("the connection closed".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The emulator the raw-client phases and the client ceiling load: the demo merchant, seeded,
/// the default worker threads.
pub(super) fn seeded_emulator() -> Result<RunningEmulator, BenchError> {
    Emulator::start(EmulatorConfig {
        seed: Some(1),
        ..EmulatorConfig::default()
    })
    .map_err(|e| BenchError::Emulator(e.to_string()))
}

/// The runtime of the raw client: one thread, so the server gets the rest of the machine, as
/// far as it can.
pub(super) fn client_runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)
}

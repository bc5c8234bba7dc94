//! The live transport: signed requests sent as `multipart/form-data` POSTs (what the Freedom
//! Pay docs' samples use) with one shared reqwest client, so connections are reused across
//! cases.
//!
//! TLS is rustls with the ring provider and the Mozilla roots from `webpki-root-certs`: no
//! system certificate store is needed, so the same binary behaves the same on every CI image.

use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::multipart::Form;
use reqwest::{Client, Url};

use super::{Request, Response, Transport, TransportError};

/// Timeouts and identity for the shared client.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Whole-request timeout: a gateway that does not answer in this time fails the step.
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Sends requests to one base URL.
#[derive(Debug, Clone)]
pub struct LiveTransport {
    client: Client,
    base: Url,
}

/// Installs ring as the process's rustls provider, once; later calls are no-ops, and an
/// embedding application that installed its own provider first keeps it.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The shared HTTP client: rustls (ring) with the webpki roots, timeouts, keep-alive.
pub fn client(options: &LiveOptions) -> Result<Client, TransportError> {
    install_crypto_provider();
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok());
    Client::builder()
        .user_agent(concat!("fph/", env!("CARGO_PKG_VERSION")))
        .tls_certs_only(roots)
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| TransportError::Client(error_chain(&e)))
}

impl LiveTransport {
    pub fn new(base: Url, client: Client) -> Self {
        LiveTransport { client, base }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url, TransportError> {
        let base = self.base.as_str().trim_end_matches('/');
        let joined = format!("{base}/{}", path.trim_start_matches('/'));
        Url::parse(&joined).map_err(|e| TransportError::Send {
            path: path.to_owned(),
            reason: format!("bad URL {joined}: {e}"),
        })
    }
}

impl Transport for LiveTransport {
    async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let url = self.url(&request.path)?;
        let mut form = Form::new();
        for (name, value) in request.fields.to_form_pairs() {
            form = form.text(name, value);
        }
        let started = Instant::now();
        let answer = self
            .client
            .post(url)
            .multipart(form)
            .send()
            .await
            .map_err(|e| TransportError::Send {
                path: request.path.clone(),
                reason: error_chain(&e),
            })?;
        let status = answer.status().as_u16();
        let content_type = answer
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = answer.bytes().await.map_err(|e| TransportError::Receive {
            path: request.path.clone(),
            reason: error_chain(&e),
        })?;
        Ok(Response {
            status,
            content_type,
            // Gateway answers are UTF-8 XML; anything else is shown lossily and fails parsing
            // later with its first bytes.
            body: String::from_utf8_lossy(&bytes).into_owned(),
            elapsed: started.elapsed(),
        })
    }
}

/// `error: cause: cause`, because reqwest's top-level message alone ("error sending
/// request") hides whether it was DNS, TLS, a refused connection or a timeout.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The last SMS code a standalone emulator (or anything serving its admin API) sent to
/// `phone`: `GET /_emulator/sms/PHONE`, plain text. A tiny blocking HTTP/1.0 exchange,
/// because template functions are synchronous and this only ever talks to a local emulator.
pub fn emulator_sms_code(base: &Url, phone: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let explain = |why: String| {
        format!(
            "failed to read the SMS code for {phone} from {base}_emulator/sms/{phone}: {why}; if this target is not an fph emulator, set `sms_code` for it in harness.yaml"
        )
    };
    if base.scheme() != "http" {
        return Err(explain("only plain http emulators are asked".into()));
    }
    let host = base
        .host_str()
        .ok_or_else(|| explain("the URL has no host".into()))?;
    let port = base.port_or_known_default().unwrap_or(80);
    let address = (host, port);
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect(address).map_err(|e| explain(e.to_string()))?;
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let path = format!(
        "{}/_emulator/sms/{phone}",
        base.path().trim_end_matches('/')
    );
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n")
        .map_err(|e| explain(e.to_string()))?;
    let mut answer = String::new();
    stream
        .take(64 * 1024)
        .read_to_string(&mut answer)
        .map_err(|e| explain(e.to_string()))?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| explain("no HTTP answer".into()))?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(explain(format!("HTTP {status}: {}", body.trim())));
    }
    Ok(body.trim().to_owned())
}

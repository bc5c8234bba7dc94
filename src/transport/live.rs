//! The live transport: signed requests sent in the step's encoding (`multipart/form-data`
//! POSTs by default, what the Freedom Pay docs' samples use; urlencoded, GET, `pg_xml` or
//! JSON when the merchant's own client sends that) with one shared reqwest client, so
//! connections are reused across cases. Answers are read up to a limit and no further: a
//! gateway (or anything posing as one) that streams without end fails the step, it does not
//! fill the memory.
//!
//! TLS is rustls with the ring provider and the Mozilla roots from `webpki-root-certs`: no
//! system certificate store is needed, so the same binary behaves the same on every CI image.
//!
//! All of that is the `live` cargo feature. Without it the types stay (a session is built the
//! same way in every build) but [`client`] refuses, naming the feature, so a live, record,
//! once or drift run fails when it starts and says which feature to enable; replay, which
//! answers from cassettes, never gets here.

use std::time::Duration;
#[cfg(feature = "live")]
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Once},
    time::Instant,
};

#[cfg(feature = "live")]
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
#[cfg(feature = "live")]
use reqwest::multipart::Form;
use url::Url;

#[cfg(feature = "live")]
use crate::gateway::Encoding;
#[cfg(feature = "live")]
use crate::gateway::encoding::{self, FORM_CONTENT_TYPE, JSON_CONTENT_TYPE};

use super::TransportError;
#[cfg(feature = "live")]
use super::{Request, Response, Transport};

/// The shared HTTP client (reqwest's; a type no one can make when the `live` feature is off).
#[cfg(feature = "live")]
pub use reqwest::Client;
#[cfg(not(feature = "live"))]
pub use unavailable::Client;

/// What a run that needs the network says in a build without the `live` feature.
#[cfg(not(feature = "live"))]
pub const UNAVAILABLE: &str = "this build of freedompay-harness has no live transport (live, record, once and drift runs send HTTP requests): enable its `live` feature, e.g. `freedompay-harness = { version = \"…\", features = [\"live\"] }`, or run in replay mode";

pub use crate::scenario::DEFAULT_ANSWER_LIMIT;

/// Timeouts and identity for the shared client.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(feature = "live"),
    expect(
        dead_code,
        reason = "read by the HTTP client, which the `live` feature builds"
    )
)]
#[non_exhaustive]
pub struct LiveOptions {
    /// Whole-request timeout: a gateway that does not answer in this time fails the step.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Connect directly, whatever the proxy environment variables say: set for a loopback
    /// target (the in-process emulator, a local `fph emulator`), which a proxy elsewhere
    /// cannot reach.
    pub direct: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            direct: false,
        }
    }
}

/// Sends requests to one base URL.
#[derive(Debug, Clone)]
pub struct LiveTransport {
    client: Client,
    #[cfg_attr(
        not(feature = "live"),
        expect(dead_code, reason = "the live transport sends there")
    )]
    base: Url,
    /// Answers larger than this fail the step as "answer too large".
    answer_limit: usize,
    /// URLs by path: a run calls the same few scripts thousands of times, and parsing a URL
    /// costs as much as signing the request.
    #[cfg(feature = "live")]
    urls: Arc<Mutex<HashMap<String, Url>>>,
    /// The run's callback receiver and the merchant key callbacks are verified and replies
    /// signed with; `None` when no scenario of the run waits for a callback.
    #[cfg(feature = "emulator")]
    callbacks: Option<(Arc<super::receiver::Receiver>, crate::gateway::SecretKey)>,
}

/// Installs ring as the process's rustls provider, once; later calls are no-ops, and an
/// embedding application that installed its own provider first keeps it.
#[cfg(feature = "live")]
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// True for a URL on this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The shared HTTP client: rustls (ring) with the webpki roots, timeouts, keep-alive.
#[cfg(feature = "live")]
pub fn client(options: &LiveOptions) -> Result<Client, TransportError> {
    install_crypto_provider();
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok());
    let builder = Client::builder()
        .user_agent(concat!("fph/", env!("CARGO_PKG_VERSION")))
        .tls_certs_only(roots)
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        // reqwest retries a request the server refused at the protocol level; a money-moving
        // call is sent once, whatever happens. With no retries it also stops copying every
        // request in case one is needed.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        // A redirect is the gateway's answer, reported as it is. Followed, a 307 or 308
        // would send a money-moving call again, to a host no guard has checked (production
        // included), and a 302 would turn the signed POST into a GET.
        .redirect(reqwest::redirect::Policy::none());
    let builder = if options.direct {
        builder.no_proxy()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| TransportError::Client(error_chain(&e)))
}

impl LiveTransport {
    pub fn new(base: Url, client: Client) -> Self {
        LiveTransport {
            client,
            base,
            answer_limit: DEFAULT_ANSWER_LIMIT,
            #[cfg(feature = "live")]
            urls: Arc::default(),
            #[cfg(feature = "emulator")]
            callbacks: None,
        }
    }

    /// The same transport, receiving callbacks for `wait` steps at `receiver`.
    #[cfg(feature = "emulator")]
    pub fn with_receiver(
        mut self,
        receiver: Arc<super::receiver::Receiver>,
        secret: crate::gateway::SecretKey,
    ) -> Self {
        self.callbacks = Some((receiver, secret));
        self
    }

    /// Waits for a callback at the run's receiver and answers it.
    #[cfg(feature = "live")]
    async fn receive_callback(
        &self,
        wait: &super::CallbackWait,
    ) -> Result<(Request, Response), TransportError> {
        #[cfg(feature = "emulator")]
        if let Some((receiver, secret)) = &self.callbacks {
            let pending = receiver
                .wait(&wait.case, wait.kind, secret, wait.timeout)
                .await?;
            let request = wait.received(pending.fields.clone(), pending.method.encoding());
            let sent = pending.answer(&wait.reply, secret);
            let response = Response {
                status: sent.status,
                content_type: (!sent.body.is_empty())
                    .then(|| "application/xml; charset=utf-8".to_owned()),
                body: sent.body,
                elapsed: sent.elapsed,
            };
            return Ok((request, response));
        }
        Err(TransportError::NoReceiver {
            url: wait.url.clone(),
            why: if cfg!(feature = "emulator") {
                "this run started no callback receiver".to_owned()
            } else {
                "this build has no callback receiver (it needs the `emulator` feature)".to_owned()
            },
        })
    }

    /// The same transport with another answer size limit (bytes).
    pub fn with_answer_limit(mut self, limit: usize) -> Self {
        self.answer_limit = limit;
        self
    }

    #[cfg(feature = "live")]
    fn url(&self, path: &str) -> Result<Url, TransportError> {
        let mut urls = self.urls.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(url) = urls.get(path) {
            return Ok(url.clone());
        }
        // A callback to the merchant's handler names its whole URL.
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            Url::parse(path).map_err(|e| TransportError::Send {
                path: path.to_owned(),
                reason: format!("bad URL: {e}"),
            })?
        } else {
            self.join(path)?
        };
        urls.insert(path.to_owned(), url.clone());
        Ok(url)
    }

    #[cfg(feature = "live")]
    fn join(&self, path: &str) -> Result<Url, TransportError> {
        let base = self.base.as_str().trim_end_matches('/');
        let joined = format!("{base}/{}", path.trim_start_matches('/'));
        Url::parse(&joined).map_err(|e| TransportError::Send {
            path: path.to_owned(),
            reason: format!("bad URL {joined}: {e}"),
        })
    }
}

#[cfg(feature = "live")]
impl Transport for LiveTransport {
    async fn receive(
        &self,
        wait: &super::CallbackWait,
    ) -> Result<(Request, Response), TransportError> {
        self.receive_callback(wait).await
    }

    async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let url = self.url(&request.path)?;
        let send_error = |reason: String| TransportError::Send {
            path: request.path.clone(),
            reason,
        };
        let http = match request.encoding {
            Encoding::Multipart => {
                let pairs = request.fields.form_pairs();
                let post = self.client.post(url);
                match multipart_body(&pairs) {
                    // The bytes reqwest's form writes, in one buffer: one write per request
                    // instead of one per field, and no stream of small chunks to assemble.
                    Some((content_type, body)) => post
                        .header(CONTENT_TYPE, content_type)
                        .header(CONTENT_LENGTH, body.len())
                        .body(body),
                    None => {
                        let mut form = Form::new();
                        for (name, value) in pairs {
                            form = form.text(name.into_owned(), value.to_owned());
                        }
                        post.multipart(form)
                    }
                }
            }
            Encoding::Urlencoded => {
                form_post(&self.client, url, encoding::urlencoded(&request.fields))
            }
            Encoding::PgXml => {
                let body =
                    encoding::pg_xml(&request.fields).map_err(|e| TransportError::Encode {
                        path: request.path.clone(),
                        reason: e.to_string(),
                    })?;
                form_post(&self.client, url, body)
            }
            Encoding::Json => {
                let body = encoding::json(&request.fields);
                self.client
                    .post(url)
                    .header(CONTENT_TYPE, JSON_CONTENT_TYPE)
                    .header(CONTENT_LENGTH, body.len())
                    .body(body)
            }
            Encoding::Get => {
                let mut url = url;
                let query = encoding::urlencoded(&request.fields);
                url.set_query((!query.is_empty()).then_some(query.as_str()));
                self.client.get(url)
            }
        };
        let started = Instant::now();
        let mut answer = http.send().await.map_err(|e| send_error(error_chain(&e)))?;
        let status = answer.status().as_u16();
        let content_type = answer
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let too_large = || TransportError::AnswerTooLarge {
            path: request.path.clone(),
            limit: self.answer_limit,
        };
        if answer
            .content_length()
            .is_some_and(|n| n > self.answer_limit as u64)
        {
            return Err(too_large());
        }
        // Read chunk by chunk, and stop (dropping the connection) as soon as the limit is
        // passed: `bytes()` would take whatever the server sends.
        let mut bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(|e| TransportError::Receive {
            path: request.path.clone(),
            reason: error_chain(&e),
        })? {
            if bytes.len() + chunk.len() > self.answer_limit {
                return Err(too_large());
            }
            if bytes.is_empty() {
                // Most answers are one chunk: take it over instead of copying it.
                bytes = Vec::from(chunk);
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
        Ok(Response {
            status,
            content_type,
            // Gateway answers are UTF-8 XML; anything else is shown lossily and fails parsing
            // later with its first bytes. A valid body is taken over as it is, not copied.
            body: String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            elapsed: started.elapsed(),
        })
    }
}

/// A POST of an urlencoded form body.
#[cfg(feature = "live")]
fn form_post(client: &Client, url: Url, body: String) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header(CONTENT_TYPE, FORM_CONTENT_TYPE)
        .header(CONTENT_LENGTH, body.len())
        .body(body)
}

/// The `multipart/form-data` content type and body that `reqwest::multipart::Form` writes
/// for these text fields — a random boundary of four 16-digit hex numbers, then per field
/// `--boundary`, `Content-Disposition: form-data; name="…"`, a blank line, the value — built
/// in one buffer. `None` when there are no fields, or a name reqwest would percent-encode
/// (it then writes `name*=utf-8''…`): the form itself sends those.
#[cfg(feature = "live")]
pub(crate) fn multipart_body<N: AsRef<str>, V: AsRef<str>>(
    pairs: &[(N, V)],
) -> Option<(String, Vec<u8>)> {
    // reqwest's path-segment set: controls, non-ASCII, space and `"#%/<>?`{}`.
    let plain = |name: &str| {
        name.bytes()
            .all(|b| (0x21..0x7f).contains(&b) && !b"\"#%/<>?`{}".contains(&b))
    };
    if pairs.is_empty() || !pairs.iter().all(|(name, _)| plain(name.as_ref())) {
        return None;
    }
    const CONTENT_TYPE_HEAD: &str = "multipart/form-data; boundary=";
    const PART_HEAD: &[u8] = b"\r\nContent-Disposition: form-data; name=\"";
    const PART_GAP: &[u8] = b"\"\r\n\r\n";
    // Written digit by digit: `format!` cost more than the rest of the body.
    let mut content_type = String::with_capacity(CONTENT_TYPE_HEAD.len() + BOUNDARY_LEN);
    content_type.push_str(CONTENT_TYPE_HEAD);
    for part in 0..4 {
        if part > 0 {
            content_type.push('-');
        }
        let number = fastrand::u64(..);
        for shift in (0..16).rev() {
            let digit = ((number >> (shift * 4)) & 0xf) as u32;
            content_type.push(char::from_digit(digit, 16).expect("a hex digit"));
        }
    }
    let boundary = &content_type.as_bytes()[CONTENT_TYPE_HEAD.len()..];
    let part_size = 2 + boundary.len() + PART_HEAD.len() + PART_GAP.len() + 2;
    let size: usize = pairs
        .iter()
        .map(|(name, value)| part_size + name.as_ref().len() + value.as_ref().len())
        .sum();
    let mut body = Vec::with_capacity(size + boundary.len() + 6);
    for (name, value) in pairs {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary);
        body.extend_from_slice(PART_HEAD);
        body.extend_from_slice(name.as_ref().as_bytes());
        body.extend_from_slice(PART_GAP);
        body.extend_from_slice(value.as_ref().as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary);
    body.extend_from_slice(b"--\r\n");
    debug_assert_eq!(body.len(), size + boundary.len() + 6, "the size is exact");
    Some((content_type, body))
}

/// reqwest's boundary: four 16-digit hex numbers joined by dashes.
#[cfg(feature = "live")]
const BOUNDARY_LEN: usize = 4 * 16 + 3;

/// `error: cause: cause`, because reqwest's top-level message alone ("error sending
/// request") hides whether it was DNS, TLS, a refused connection or a timeout.
pub fn error_chain(error: &dyn std::error::Error) -> String {
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

/// The live transport of a build without the `live` feature: the same types, and a client
/// that cannot be made, so nothing can send.
#[cfg(not(feature = "live"))]
mod unavailable {
    use super::super::{Request, Response, Transport};
    use super::{LiveOptions, LiveTransport, TransportError, UNAVAILABLE};

    /// Cannot be made: [`client`] is the only way, and it refuses.
    #[derive(Debug, Clone)]
    pub struct Client {
        never: Never,
    }

    #[derive(Debug, Clone, Copy)]
    enum Never {}

    /// Refuses: this build cannot send.
    pub fn client(_: &LiveOptions) -> Result<Client, TransportError> {
        Err(TransportError::Client(UNAVAILABLE.to_owned()))
    }

    impl Transport for LiveTransport {
        async fn send(&self, _: &Request) -> Result<Response, TransportError> {
            // A transport holds a client, and there is none.
            match self.client.never {}
        }

        async fn receive(
            &self,
            _: &crate::transport::CallbackWait,
        ) -> Result<(Request, Response), TransportError> {
            match self.client.never {}
        }
    }
}

#[cfg(not(feature = "live"))]
pub use unavailable::client;

#[cfg(all(test, feature = "live"))]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use crate::gateway::{Fields, Operation};

    use super::*;

    /// A request as the server saw it: its head lines and its body.
    type Received = (Vec<String>, Vec<u8>);

    /// A server that answers every request with an empty 200 and hands over what it got.
    fn capture() -> (Url, mpsc::Receiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut head = Vec::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        let line = line.trim_end().to_owned();
                        if line.is_empty() {
                            break;
                        }
                        head.push(line);
                    }
                    if head.is_empty() {
                        break;
                    }
                    let length = head
                        .iter()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")?
                                .parse()
                                .ok()
                        })
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    writer
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .unwrap();
                    let _ = sender.send((head, body));
                }
            }
        });
        (url, receiver)
    }

    /// The boundary from a `content-type: multipart/form-data; boundary=…` head line.
    fn boundary(head: &[String]) -> String {
        head.iter()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type: multipart/form-data; boundary=")
                    .map(str::to_owned)
            })
            .expect("a multipart content type")
    }

    #[test]
    fn multipart_bodies_are_the_bytes_reqwest_writes() {
        let (url, received) = capture();
        let client = client(&LiveOptions::default()).unwrap();
        let mut fields = Fields::new();
        for (name, value) in [
            ("pg_amount", "150.00"),
            ("pg_description", "Оплата \"x\" & co\r\n--not a boundary"),
            ("pg_empty", ""),
            ("pg_receipt_positions[0][count]", "1"),
        ] {
            fields.insert_form_key(name, value).unwrap();
        }
        let request = Request {
            step: "init".into(),
            attempt: 1,
            operation: Operation::Init,
            path: "/init_payment.php".into(),
            fields,
            encoding: Encoding::Multipart,
            signed_by_harness: true,
            direction: crate::transport::Direction::Outgoing,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let transport = LiveTransport::new(url.clone(), client.clone());
        runtime.block_on(transport.send(&request)).unwrap();
        let (ours_head, ours_body) = received.recv().unwrap();
        let mut form = Form::new();
        for (name, value) in request.fields.to_form_pairs() {
            form = form.text(name, value);
        }
        let post = client
            .post(url.join("init_payment.php").unwrap())
            .multipart(form);
        runtime.block_on(async { post.send().await }).unwrap();
        let (reqwest_head, reqwest_body) = received.recv().unwrap();

        let (ours, theirs) = (boundary(&ours_head), boundary(&reqwest_head));
        assert_eq!(ours.len(), theirs.len());
        let normalize = |body: Vec<u8>, boundary: &str| {
            String::from_utf8(body)
                .unwrap()
                .replace(boundary, "BOUNDARY")
        };
        assert_eq!(
            normalize(ours_body, &ours),
            normalize(reqwest_body, &theirs)
        );
        let normalize_head = |head: Vec<String>, boundary: &str| -> Vec<String> {
            head.into_iter()
                .map(|l| l.replace(boundary, "BOUNDARY"))
                .collect()
        };
        assert_eq!(
            normalize_head(ours_head, &ours),
            normalize_head(reqwest_head, &theirs)
        );
    }

    #[test]
    fn redirects_are_answers_not_followed() {
        let (elsewhere, received) = capture();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let location = elsewhere.join("mfs/pay").unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head);
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        let mut fields = Fields::new();
        fields.push("pg_payment_id", "1");
        let request = Request {
            step: "pay".into(),
            attempt: 1,
            operation: Operation::Pay,
            path: "/mfs/pay".into(),
            fields,
            encoding: Encoding::Multipart,
            signed_by_harness: true,
            direction: crate::transport::Direction::Outgoing,
        };
        let transport = LiveTransport::new(url, client(&LiveOptions::default()).unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let response = runtime.block_on(transport.send(&request)).unwrap();
        assert_eq!(response.status, 307);
        assert!(
            received.recv_timeout(Duration::from_millis(300)).is_err(),
            "the pay call was sent again to the redirect's target"
        );
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A signed request for the demo merchant, as the runner builds one.
    fn demo_request(operation: Operation, encoding: Encoding, pairs: &[(&str, &str)]) -> Request {
        use crate::emulator::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY};
        use crate::gateway::signature;
        let path = operation.default_path().to_owned();
        let mut fields = Fields::new();
        for (name, value) in pairs {
            fields.insert_form_key(name, *value).unwrap();
        }
        fields.set("pg_merchant_id", DEMO_MERCHANT_ID);
        fields.set("pg_salt", "s4lt");
        let sig = signature::sign(
            &path,
            &fields,
            &crate::gateway::SecretKey::new(DEMO_SECRET_KEY),
        );
        fields.set("pg_sig", sig.as_str());
        Request {
            step: operation.name().to_owned(),
            attempt: 1,
            operation,
            path,
            fields,
            encoding,
            signed_by_harness: true,
            direction: crate::transport::Direction::Outgoing,
        }
    }

    #[test]
    fn each_encoding_goes_on_the_wire_as_named() {
        let (url, received) = capture();
        let transport = LiveTransport::new(url, client(&LiveOptions::default()).unwrap());
        let pairs = [("pg_amount", "150.00"), ("pg_description", "Оплата & co")];
        for (encoding, head, body_starts) in [
            (
                Encoding::Multipart,
                "content-type: multipart/form-data; boundary=",
                "--",
            ),
            (
                Encoding::Urlencoded,
                "content-type: application/x-www-form-urlencoded",
                "pg_amount=150.00&pg_description=%D0%9E",
            ),
            (
                Encoding::PgXml,
                "content-type: application/x-www-form-urlencoded",
                "pg_xml=%3C%3Fxml",
            ),
            (
                Encoding::Json,
                "content-type: application/json",
                "{\"pg_amount\":\"150.00\"",
            ),
        ] {
            let request = demo_request(Operation::Init, encoding, &pairs);
            runtime().block_on(transport.send(&request)).unwrap();
            let (lines, body) = received.recv().unwrap();
            assert!(
                lines[0].starts_with("POST /init_payment.php "),
                "{encoding}: {lines:?}"
            );
            assert!(
                lines
                    .iter()
                    .any(|l| l.to_ascii_lowercase().starts_with(head)),
                "{encoding}: {lines:?}"
            );
            let body = String::from_utf8(body).unwrap();
            assert!(body.starts_with(body_starts), "{encoding}: {body}");
        }
        let request = demo_request(Operation::Status, Encoding::Get, &[("pg_payment_id", "1")]);
        runtime().block_on(transport.send(&request)).unwrap();
        let (lines, body) = received.recv().unwrap();
        assert!(
            lines[0].starts_with("GET /get_status3.php?pg_payment_id=1&pg_merchant_id="),
            "{lines:?}"
        );
        assert!(body.is_empty());
    }

    /// Every encoding, signed as the runner signs, is read and accepted by the emulator: the
    /// answers are `ok`, signed, and about the payment the first call made.
    #[test]
    #[cfg(feature = "emulator")]
    fn each_encoding_is_accepted_by_the_emulator() {
        use crate::emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
        use crate::gateway::{Document, SecretKey, signature};
        let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
        let transport = LiveTransport::new(
            emulator.base_url(),
            client(&LiveOptions {
                direct: true,
                ..LiveOptions::default()
            })
            .unwrap(),
        );
        let key = SecretKey::new(DEMO_SECRET_KEY);
        for encoding in Encoding::ALL {
            let order = format!("order-{encoding}");
            let init = demo_request(
                Operation::Init,
                encoding,
                &[
                    ("pg_amount", "150.00"),
                    ("pg_description", "Оплата <x> & \"co\" 100% +1"),
                    ("pg_order_id", &order),
                    ("pg_payment_method", "mobile_commerce"),
                    ("pg_param1", "line one\r\nline two"),
                ],
            );
            let answer = runtime().block_on(transport.send(&init)).unwrap();
            let document = Document::parse_response_str(&answer.body).unwrap();
            assert_eq!(
                document.text("pg_status"),
                Some("ok"),
                "{encoding}: {}",
                answer.body
            );
            assert!(
                signature::verify(&init.path, &document.root, &key).is_valid(),
                "{encoding}"
            );
            let id = document.text("pg_payment_id").unwrap().to_owned();
            let status = demo_request(Operation::Status, encoding, &[("pg_payment_id", &id)]);
            let answer = runtime().block_on(transport.send(&status)).unwrap();
            let document = Document::parse_response_str(&answer.body).unwrap();
            assert_eq!(
                document.text("pg_status"),
                Some("ok"),
                "{encoding}: {}",
                answer.body
            );
            assert_eq!(
                document.text("pg_order_id"),
                Some(order.as_str()),
                "{encoding}"
            );
        }
    }

    /// Regression (safety 15.4): a 1 GiB answer took fph to 5.3 GB of memory. The server
    /// streams without end and counts what it sent before the client hung up.
    #[test]
    fn regression_15_4_a_huge_answer_fails_as_too_large_without_being_read() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let sent = Arc::new(AtomicU64::new(0));
        let (done_tx, done_rx) = mpsc::channel();
        let counter = Arc::clone(&sent);
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ntransfer-encoding: chunked\r\n\r\n",
            );
            let chunk = vec![b'<'; 64 * 1024];
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            // Up to 1 GiB, unless the client hangs up first.
            for _ in 0..16 * 1024 {
                if stream.write_all(&framed).is_err() {
                    break;
                }
                counter.fetch_add(64 * 1024, Ordering::Relaxed);
            }
            let _ = done_tx.send(());
        });
        let transport = LiveTransport::new(url, client(&LiveOptions::default()).unwrap())
            .with_answer_limit(1024 * 1024);
        let request = demo_request(
            Operation::Status,
            Encoding::Multipart,
            &[("pg_payment_id", "1")],
        );
        let error = runtime().block_on(transport.send(&request)).unwrap_err();
        assert!(
            matches!(
                error,
                TransportError::AnswerTooLarge {
                    limit: 1_048_576,
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            error.to_string().starts_with("answer too large: "),
            "{error}"
        );
        drop(transport);
        done_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server saw the hang-up");
        let sent = sent.load(Ordering::Relaxed);
        // Socket buffers hold a few MiB at most; the whole answer would be 1 GiB.
        assert!(sent < 64 * 1024 * 1024, "the server sent {sent} bytes");
    }

    #[test]
    fn a_declared_length_over_the_limit_fails_before_reading() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n");
            let _ = stream.write_all(&[b'x'; 2000]);
        });
        let transport = LiveTransport::new(url, client(&LiveOptions::default()).unwrap())
            .with_answer_limit(1024);
        let request = demo_request(
            Operation::Status,
            Encoding::Multipart,
            &[("pg_payment_id", "1")],
        );
        let error = runtime().block_on(transport.send(&request)).unwrap_err();
        assert!(
            matches!(error, TransportError::AnswerTooLarge { limit: 1024, .. }),
            "{error}"
        );
    }

    #[test]
    fn loopback_urls_are_recognised() {
        for (url, loopback) in [
            ("http://127.0.0.1:8080/", true),
            ("http://127.1.2.3/", true),
            ("http://localhost:1/", true),
            ("http://[::1]:9/", true),
            ("https://test-api.freedompay.kz/", false),
            ("http://10.0.0.1/", false),
            ("http://localhost.example/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(url).unwrap()), loopback, "{url}");
        }
    }

    #[test]
    fn names_reqwest_would_encode_are_left_to_its_form() {
        let pairs = |name: &str| vec![(name.to_owned(), "1".to_owned())];
        assert!(multipart_body(&pairs("pg_amount")).is_some());
        assert!(multipart_body(&pairs("a b")).is_none());
        assert!(multipart_body(&pairs("a/b")).is_none());
        assert!(multipart_body(&pairs("имя")).is_none());
        assert!(multipart_body::<&str, &str>(&[]).is_none());
    }
}

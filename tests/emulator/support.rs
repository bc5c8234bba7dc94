//! What every emulator test uses: a [`Gateway`] (an emulator on 127.0.0.1:0 and a client
//! that signs for the demo merchant), its [`Answer`]s, and a [`Merchant`] backend that
//! receives callbacks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use freedompay_harness::emulator::{
    DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig, ErrorKind, RunningEmulator,
};
use freedompay_harness::gateway::signature::{script_name, sign, verify};
use freedompay_harness::gateway::xml::{Document, Element};
use freedompay_harness::gateway::{Fields, SecretKey};
use reqwest::Url;

// Helpers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Multipart,
    Form,
    Get,
    PgXml,
}

/// An emulator and a client that signs for the demo merchant.
pub(crate) struct Gateway {
    pub(crate) emulator: RunningEmulator,
    pub(crate) client: reqwest::Client,
    pub(crate) key: SecretKey,
}

/// One answer, as received.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    /// `X-Emulator-Hint`: a refusal's English detail (the description is Russian).
    pub(crate) hint: String,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn doc(&self) -> Document {
        Document::parse_response(self.body.as_bytes())
            .unwrap_or_else(|e| panic!("not a gateway answer: {e}\n{}", self.body))
    }

    pub(crate) fn get(&self, name: &str) -> String {
        self.doc().text(name).unwrap_or_default().to_owned()
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.doc().text(name).is_some()
    }

    /// What exactly was wrong: the hint header, percent-decoded.
    pub(crate) fn detail(&self) -> String {
        percent_decode(&self.hint)
    }

    pub(crate) fn error_code(&self) -> u32 {
        assert_eq!(self.get("pg_status"), "error", "{}", self.body);
        self.get("pg_error_code").parse().unwrap()
    }

    pub(crate) fn is_signed(&self, script: &str, key: &SecretKey) -> bool {
        verify(script, &self.doc().to_fields(), key).is_valid()
    }
}

pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A raw response's `X-Emulator-Hint`, decoded.
pub(crate) fn hint_of(response: &reqwest::Response) -> String {
    percent_decode(
        response
            .headers()
            .get("x-emulator-hint")
            .map_or("", |v| v.to_str().unwrap()),
    )
}

pub(crate) fn client() -> reqwest::Client {
    // Plain http only; still, reqwest wants a crypto provider to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub(crate) fn config() -> EmulatorConfig {
    EmulatorConfig::default()
        .with_approve_delay(Duration::from_millis(50))
        .with_callback_retry_interval(Duration::from_millis(50))
        .with_worker_threads(2)
}

pub(crate) fn fields(pairs: &[(&str, &str)]) -> Fields {
    let mut f = Fields::new();
    for (k, v) in pairs {
        f.insert_form_key(k, *v).unwrap();
    }
    f
}

pub(crate) fn form_encode(pairs: &[(String, String)]) -> String {
    let mut url = Url::parse("http://x/").unwrap();
    url.query_pairs_mut()
        .extend_pairs(pairs.iter().map(|(k, v)| (k, v)));
    url.query().unwrap_or("").to_owned()
}

impl Gateway {
    pub(crate) fn start() -> Self {
        Self::with(config())
    }

    pub(crate) fn with(config: EmulatorConfig) -> Self {
        Gateway {
            emulator: Emulator::start(config).unwrap(),
            client: client(),
            key: SecretKey::new(DEMO_SECRET_KEY),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        self.emulator.base_url().join(path).unwrap().to_string()
    }

    /// Sends fields exactly as given.
    pub(crate) async fn raw(&self, encoding: Encoding, path: &str, f: &Fields) -> Answer {
        let url = self.url(path);
        let pairs = f.to_form_pairs();
        let request = match encoding {
            Encoding::Multipart => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in pairs {
                    form = form.text(k, v);
                }
                self.client.post(url).multipart(form)
            }
            Encoding::Form => self
                .client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_encode(&pairs)),
            Encoding::Get => {
                let mut url = Url::parse(&url).unwrap();
                url.query_pairs_mut()
                    .extend_pairs(pairs.iter().map(|(k, v)| (k, v)));
                self.client.get(url)
            }
            Encoding::PgXml => {
                let xml = Document {
                    root: Element::from_fields("request", f),
                }
                .pretty();
                self.client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form_encode(&[("pg_xml".into(), xml)]))
            }
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let hint = response
            .headers()
            .get("x-emulator-hint")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.text().await.unwrap();
        Answer {
            status,
            content_type,
            hint,
            body,
        }
    }

    /// Adds merchant and salt, signs for the path's script name, sends.
    pub(crate) async fn signed(
        &self,
        encoding: Encoding,
        path: &str,
        pairs: &[(&str, &str)],
    ) -> Answer {
        let mut f = fields(pairs);
        if !f.contains("pg_merchant_id") {
            f.push("pg_merchant_id", DEMO_MERCHANT_ID);
        }
        f.push("pg_salt", "salt123");
        let sig = sign(path, &f, &self.key);
        f.push("pg_sig", sig.as_str());
        let answer = self.raw(encoding, path, &f).await;
        assert_eq!(answer.content_type, "text/xml; charset=UTF-8");
        // The emulator answers unsigned only when it does not know the merchant yet.
        let unsigned = ["9997", "9998", "8003", "8004", "8005"];
        if !unsigned.contains(&answer.get("pg_error_code").as_str()) {
            assert!(
                answer.is_signed(path, &self.key),
                "answer not signed for {path}: {}",
                answer.body
            );
        }
        answer
    }

    pub(crate) async fn call(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        self.signed(Encoding::Multipart, path, pairs).await
    }

    pub(crate) async fn init_with(&self, extra: &[(&str, &str)]) -> String {
        let defaults = [
            ("pg_order_id", "order-1"),
            ("pg_amount", "150.00"),
            ("pg_description", "Top-up"),
            ("pg_payment_method", "mobile_commerce"),
            ("pg_testing_mode", "1"),
        ];
        let mut pairs: Vec<(&str, &str)> = defaults
            .into_iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .collect();
        pairs.extend_from_slice(extra);
        let answer = self.call("/init_payment.php", &pairs).await;
        assert_eq!(answer.get("pg_status"), "ok", "{}", answer.body);
        answer.get("pg_payment_id")
    }

    pub(crate) async fn init(&self) -> String {
        self.init_with(&[]).await
    }

    pub(crate) async fn pay(&self, id: &str, phone: &str) -> Answer {
        self.call(
            "/mfs/pay",
            &[("pg_payment_id", id), ("pg_abonent_phone", phone)],
        )
        .await
    }

    pub(crate) async fn approve(&self, id: &str, code: &str) -> Answer {
        self.call(
            "/mfs/approve",
            &[("pg_payment_id", id), ("pg_approval_code", code)],
        )
        .await
    }

    pub(crate) async fn resend(&self, id: &str) -> Answer {
        self.call("/mfs/resend_code", &[("pg_payment_id", id)])
            .await
    }

    pub(crate) async fn status(&self, id: &str) -> Answer {
        self.call("/get_status3.php", &[("pg_payment_id", id)])
            .await
    }

    pub(crate) async fn payment_status(&self, id: &str) -> String {
        self.status(id).await.get("pg_payment_status")
    }

    /// Polls status until the payment is in `want` (2 s at most).
    pub(crate) async fn wait_for(&self, id: &str, want: &str) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let answer = self.status(id).await;
            if answer.get("pg_payment_status") == want {
                return answer;
            }
            assert!(
                Instant::now() < deadline,
                "never reached {want}: {}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(crate) async fn admin_get(&self, path: &str) -> (u16, String) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub(crate) async fn admin_post(&self, path: &str, body: &str) -> (u16, String) {
        let r = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

pub(crate) fn code(kind: ErrorKind) -> u32 {
    kind.default_code()
}

/// A merchant backend that records callbacks and answers them, signed, as told.
pub(crate) struct Merchant {
    pub(crate) addr: SocketAddr,
    pub(crate) seen: Arc<Mutex<Vec<(String, Fields)>>>,
    pub(crate) _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
pub(crate) struct MerchantBehaviour {
    /// HTTP 500 for this many requests first.
    pub(crate) fail_first: Arc<Mutex<u32>>,
    /// What to answer in `pg_status`.
    pub(crate) status: &'static str,
    pub(crate) sign: bool,
}

impl Merchant {
    pub(crate) async fn start(behaviour: MerchantBehaviour) -> Merchant {
        use axum::extract::Request;
        use axum::http::StatusCode;
        use axum::response::IntoResponse;

        let seen: Arc<Mutex<Vec<(String, Fields)>>> = Arc::default();
        let recorded = seen.clone();
        let handler = move |request: Request| {
            let recorded = recorded.clone();
            let behaviour = behaviour.clone();
            async move {
                let method = request.method().to_string();
                let uri = request.uri().clone();
                let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                    .await
                    .unwrap();
                let encoded = if method == "GET" {
                    uri.query().unwrap_or("").to_owned()
                } else {
                    String::from_utf8(body.to_vec()).unwrap()
                };
                let pairs: Vec<(String, String)> = Url::parse(&format!("http://x/?{encoded}"))
                    .unwrap()
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let mut f = Fields::from_form_pairs(pairs).unwrap();
                let mut kind = method.clone();
                if let Some(xml) = f.get("pg_xml") {
                    f = Document::parse(xml.as_bytes()).unwrap().to_fields();
                    kind = "XML".into();
                }
                let script = script_name(uri.path()).to_owned();
                recorded
                    .lock()
                    .unwrap()
                    .push((format!("{kind} {script}"), f));
                {
                    let mut left = behaviour.fail_first.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return (StatusCode::INTERNAL_SERVER_ERROR, "oops".to_owned())
                            .into_response();
                    }
                }
                let mut reply = Fields::new();
                reply.push("pg_status", behaviour.status);
                reply.push("pg_description", "from the test merchant");
                reply.push("pg_salt", "merchant-salt");
                let key = if behaviour.sign {
                    DEMO_SECRET_KEY
                } else {
                    "not-the-key"
                };
                let sig = sign(&script, &reply, &SecretKey::new(key));
                reply.push("pg_sig", sig.as_str());
                Document::response(&reply).pretty().into_response()
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback(handler);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Merchant {
            addr,
            seen,
            _server: server,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn seen(&self) -> Vec<(String, Fields)> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) async fn wait_for(&self, count: usize) -> Vec<(String, Fields)> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let seen = self.seen();
            if seen.len() >= count {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "only {} callbacks: {seen:?}",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub(crate) fn behaves(status: &'static str, fail_first: u32, sign: bool) -> MerchantBehaviour {
    MerchantBehaviour {
        fail_first: Arc::new(Mutex::new(fail_first)),
        status,
        sign,
    }
}

//! The gateway emulator over real HTTP: every call, every test phone, every error, signatures
//! both ways, every request encoding, the body limit, faults, callbacks, the admin API, and
//! many flows at once. Each test starts its own emulator on 127.0.0.1:0.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use freedompay_harness::emulator::{
    Behaviour, DEMO_MERCHANT_ID, DEMO_SECRET_KEY, Emulator, EmulatorConfig, ErrorKind,
    RunningEmulator, TEST_PHONES,
};
use freedompay_harness::gateway::signature::{script_name, sign, verify};
use freedompay_harness::gateway::xml::{Document, Element};
use freedompay_harness::gateway::{Fields, SecretKey};
use reqwest::Url;

// ---------------------------------------------------------------------------------------------
// Helpers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Multipart,
    Form,
    Get,
    PgXml,
}

/// An emulator and a client that signs for the demo merchant.
struct Gateway {
    emulator: RunningEmulator,
    client: reqwest::Client,
    key: SecretKey,
}

/// One answer, as received.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    /// `X-Emulator-Hint`: a refusal's English detail (the description is Russian).
    hint: String,
    body: String,
}

impl Answer {
    fn doc(&self) -> Document {
        Document::parse_response(self.body.as_bytes())
            .unwrap_or_else(|e| panic!("not a gateway answer: {e}\n{}", self.body))
    }

    fn get(&self, name: &str) -> String {
        self.doc().text(name).unwrap_or_default().to_owned()
    }

    fn has(&self, name: &str) -> bool {
        self.doc().text(name).is_some()
    }

    /// What exactly was wrong: the hint header, percent-decoded.
    fn detail(&self) -> String {
        percent_decode(&self.hint)
    }

    fn error_code(&self) -> u32 {
        assert_eq!(self.get("pg_status"), "error", "{}", self.body);
        self.get("pg_error_code").parse().unwrap()
    }

    fn is_signed(&self, script: &str, key: &SecretKey) -> bool {
        verify(script, &self.doc().to_fields(), key).is_valid()
    }
}

fn percent_decode(text: &str) -> String {
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
fn hint_of(response: &reqwest::Response) -> String {
    percent_decode(
        response
            .headers()
            .get("x-emulator-hint")
            .map_or("", |v| v.to_str().unwrap()),
    )
}

fn client() -> reqwest::Client {
    // Plain http only; still, reqwest wants a crypto provider to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn config() -> EmulatorConfig {
    EmulatorConfig {
        approve_delay: Duration::from_millis(50),
        callback_retry_interval: Duration::from_millis(50),
        worker_threads: Some(2),
        ..EmulatorConfig::default()
    }
}

fn fields(pairs: &[(&str, &str)]) -> Fields {
    let mut f = Fields::new();
    for (k, v) in pairs {
        f.insert_form_key(k, *v).unwrap();
    }
    f
}

fn form_encode(pairs: &[(String, String)]) -> String {
    let mut url = Url::parse("http://x/").unwrap();
    url.query_pairs_mut()
        .extend_pairs(pairs.iter().map(|(k, v)| (k, v)));
    url.query().unwrap_or("").to_owned()
}

impl Gateway {
    fn start() -> Self {
        Self::with(config())
    }

    fn with(config: EmulatorConfig) -> Self {
        Gateway {
            emulator: Emulator::start(config).unwrap(),
            client: client(),
            key: SecretKey::new(DEMO_SECRET_KEY),
        }
    }

    fn url(&self, path: &str) -> String {
        self.emulator.base_url().join(path).unwrap().to_string()
    }

    /// Sends fields exactly as given.
    async fn raw(&self, encoding: Encoding, path: &str, f: &Fields) -> Answer {
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
    async fn signed(&self, encoding: Encoding, path: &str, pairs: &[(&str, &str)]) -> Answer {
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

    async fn call(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        self.signed(Encoding::Multipart, path, pairs).await
    }

    async fn init_with(&self, extra: &[(&str, &str)]) -> String {
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

    async fn init(&self) -> String {
        self.init_with(&[]).await
    }

    async fn pay(&self, id: &str, phone: &str) -> Answer {
        self.call(
            "/mfs/pay",
            &[("pg_payment_id", id), ("pg_abonent_phone", phone)],
        )
        .await
    }

    async fn approve(&self, id: &str, code: &str) -> Answer {
        self.call(
            "/mfs/approve",
            &[("pg_payment_id", id), ("pg_approval_code", code)],
        )
        .await
    }

    async fn resend(&self, id: &str) -> Answer {
        self.call("/mfs/resend_code", &[("pg_payment_id", id)])
            .await
    }

    async fn status(&self, id: &str) -> Answer {
        self.call("/get_status3.php", &[("pg_payment_id", id)])
            .await
    }

    async fn payment_status(&self, id: &str) -> String {
        self.status(id).await.get("pg_payment_status")
    }

    /// Polls status until the payment is in `want` (2 s at most).
    async fn wait_for(&self, id: &str, want: &str) -> Answer {
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

    async fn admin_get(&self, path: &str) -> (u16, String) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn admin_post(&self, path: &str, body: &str) -> (u16, String) {
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

fn code(kind: ErrorKind) -> u32 {
    kind.default_code()
}

// ---------------------------------------------------------------------------------------------
// Calls and flows

#[tokio::test]
async fn kcell_sms_flow_end_to_end() {
    let gw = Gateway::start();
    let init = gw
        .call(
            "/init_payment.php",
            &[
                ("pg_order_id", "ord-1"),
                ("pg_amount", "150.00"),
                ("pg_description", "Top-up"),
                ("pg_payment_method", "mobile_commerce"),
                ("pg_user_phone", "77017777777"),
            ],
        )
        .await;
    assert_eq!(init.status, 200);
    assert_eq!(init.get("pg_status"), "ok");
    let id = init.get("pg_payment_id");
    assert!(id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty());
    let redirect = init.get("pg_redirect_url");
    let customer = redirect
        .strip_prefix(&format!("{}pay.html?customer=", gw.emulator.base_url()))
        .unwrap_or_else(|| panic!("not the real redirect's shape: {redirect}"));
    assert!(
        customer.len() == 32 && customer.bytes().all(|b| b.is_ascii_hexdigit()),
        "{redirect}"
    );
    assert_eq!(init.get("pg_redirect_url_type"), "need data");
    assert_eq!(init.get("pg_salt").len(), 16);
    assert_eq!(gw.payment_status(&id).await, "new");

    let pay = gw
        .call(
            "/mfs/pay",
            &[
                ("pg_payment_id", &id),
                ("pg_abonent_phone", "77017777777"),
                ("pg_payment_system_code", "KCELLKZT"),
            ],
        )
        .await;
    assert_eq!(pay.get("pg_status"), "need_approve");
    assert_eq!(pay.get("pg_payment_id"), id);
    assert_eq!(gw.payment_status(&id).await, "process");
    assert_eq!(
        gw.emulator.sms_code("77017777777").as_deref(),
        Some("111111")
    );

    let approve = gw.approve(&id, "111111").await;
    assert_eq!(approve.get("pg_status"), "ok");
    assert_eq!(approve.get("pg_payment_id"), id);

    let status = gw.status(&id).await;
    assert_eq!(status.get("pg_status"), "ok");
    for (name, value) in [
        ("pg_payment_id", id.as_str()),
        ("pg_order_id", "ord-1"),
        ("pg_currency", "KZT"),
        ("pg_amount", "150.00"),
        ("pg_payment_status", "success"),
        ("pg_payment_method", "mobile_commerce"),
        ("pg_user_phone", "77017777777"),
        ("pg_failure_code", ""),
        ("pg_failure_description", ""),
        ("pg_can_reject", "0"),
        ("pg_captured", "1"),
    ] {
        assert_eq!(status.get(name), value, "{name}");
    }
    let date = regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$").unwrap();
    assert!(date.is_match(&status.get("pg_create_date")));
    assert!(date.is_match(&status.get("pg_payment_date")));
    // Every documented status field with a value is there, in the documented order; a
    // successful payment has no failure fields (the real gateway leaves empty ones out).
    let names: Vec<String> = status
        .doc()
        .root
        .children
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "pg_status",
            "pg_payment_id",
            "pg_order_id",
            "pg_currency",
            "pg_amount",
            "pg_payment_status",
            "pg_payment_method",
            "pg_user_phone",
            "pg_create_date",
            "pg_payment_date",
            "pg_can_reject",
            "pg_captured",
            "pg_salt",
            "pg_sig"
        ]
    );
}

#[tokio::test]
async fn every_test_phone_behaves_as_documented() {
    let gw = Gateway::start();
    for phone in TEST_PHONES {
        let id = gw.init().await;
        let pay = gw
            .call(
                "/mfs/pay",
                &[
                    ("pg_payment_id", &id),
                    ("pg_abonent_phone", phone.phone),
                    ("pg_payment_system_code", phone.operator.code()),
                ],
            )
            .await;
        let what = format!("{} ({:?})", phone.phone, phone.behaviour);
        match phone.behaviour {
            Behaviour::Immediate => {
                assert_eq!(pay.get("pg_status"), "ok", "{what}");
                assert_eq!(gw.payment_status(&id).await, "success", "{what}");
                assert_eq!(gw.emulator.sms_code(phone.phone), None, "{what}");
            }
            Behaviour::SmsCode => {
                assert_eq!(pay.get("pg_status"), "need_approve", "{what}");
                assert_eq!(gw.emulator.sms_code(phone.phone).as_deref(), Some("111111"));
                assert_eq!(
                    gw.approve(&id, "111111").await.get("pg_status"),
                    "ok",
                    "{what}"
                );
                assert_eq!(gw.payment_status(&id).await, "success", "{what}");
            }
            Behaviour::CodeThenProcess => {
                assert_eq!(pay.get("pg_status"), "need_approve", "{what}");
                assert_eq!(
                    gw.approve(&id, "111111").await.get("pg_status"),
                    "process",
                    "{what}"
                );
                assert_eq!(gw.payment_status(&id).await, "process", "{what}");
                gw.wait_for(&id, "success").await;
            }
            Behaviour::InsufficientFunds => {
                assert_eq!(
                    pay.error_code(),
                    code(ErrorKind::InsufficientFunds),
                    "{what}"
                );
                assert_eq!(pay.get("pg_payment_id"), id);
                let status = gw.status(&id).await;
                assert_eq!(status.get("pg_payment_status"), "error", "{what}");
                assert_eq!(status.get("pg_failure_code"), "11006");
                assert_eq!(
                    status.get("pg_failure_description"),
                    "Недостаточно средств на балансе"
                );
            }
            Behaviour::OperatorError => {
                assert_eq!(pay.error_code(), code(ErrorKind::OperatorError), "{what}");
                assert_eq!(gw.payment_status(&id).await, "error", "{what}");
            }
        }
    }
}

#[tokio::test]
async fn other_phones_get_random_codes_readable_in_process_and_over_http() {
    let gw = Gateway::start();
    let id = gw.init().await;
    assert_eq!(
        gw.pay(&id, "77471234567").await.get("pg_status"),
        "need_approve"
    );
    let code = gw.emulator.sms_code("77471234567").unwrap();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(
        gw.admin_get("/_emulator/sms/77471234567").await,
        (200, code.clone())
    );
    assert_eq!(gw.approve(&id, &code).await.get("pg_status"), "ok");
}

#[tokio::test]
async fn resend_code_sends_a_new_code_and_is_limited_and_cooled_down() {
    let gw = Gateway::with(EmulatorConfig {
        resend_limit: 2,
        resend_cooldown: Duration::from_millis(200),
        ..config()
    });
    let id = gw.init().await;
    gw.pay(&id, "77051234567").await;
    let too_soon = gw.resend(&id).await;
    assert_eq!(too_soon.error_code(), code(ErrorKind::ResendCooldown));
    assert!(too_soon.detail().contains("wait"), "{}", too_soon.body);

    let mut codes = vec![gw.emulator.sms_code("77051234567").unwrap()];
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(210)).await;
        let resent = gw.resend(&id).await;
        assert_eq!(resent.get("pg_status"), "ok", "{}", resent.body);
        assert_eq!(resent.get("pg_payment_id"), id);
        codes.push(gw.emulator.sms_code("77051234567").unwrap());
    }
    tokio::time::sleep(Duration::from_millis(210)).await;
    assert_eq!(
        gw.resend(&id).await.error_code(),
        code(ErrorKind::ResendLimit)
    );
    let latest = codes.last().unwrap();
    let older: HashSet<_> = codes[..2].iter().filter(|c| *c != latest).collect();
    if let Some(old) = older.into_iter().next() {
        assert_eq!(
            gw.approve(&id, old).await.error_code(),
            code(ErrorKind::WrongCode)
        );
    }
    assert_eq!(gw.approve(&id, latest).await.get("pg_status"), "ok");
}

#[tokio::test]
async fn wrong_codes_count_down_then_fail_the_payment() {
    let gw = Gateway::start();
    let id = gw.init().await;
    gw.pay(&id, "77017777777").await;
    let first = gw.approve(&id, "222222").await;
    assert_eq!(first.error_code(), code(ErrorKind::WrongCode));
    assert!(first.detail().contains("2 attempt(s) left"));
    let second = gw.approve(&id, "011111").await;
    assert!(second.detail().contains("1 attempt(s) left"));
    let last = gw.approve(&id, "11111").await;
    assert_eq!(last.error_code(), code(ErrorKind::AttemptsExhausted));
    let status = gw.status(&id).await;
    assert_eq!(status.get("pg_payment_status"), "error");
    assert_eq!(status.get("pg_failure_code"), "11007");
    assert_eq!(
        status.get("pg_failure_description"),
        "Исчерпан лимит попыток ввода кода подтверждения"
    );
    assert_eq!(
        gw.approve(&id, "111111").await.error_code(),
        code(ErrorKind::PaymentFinished)
    );
}

#[tokio::test]
async fn codes_expire() {
    let gw = Gateway::with(EmulatorConfig {
        code_lifetime: Duration::from_millis(100),
        ..config()
    });
    let id = gw.init().await;
    gw.pay(&id, "77027777777").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        gw.approve(&id, "111111").await.error_code(),
        code(ErrorKind::CodeExpired)
    );
    assert_eq!(
        gw.payment_status(&id).await,
        "process",
        "still waiting for a code"
    );
    assert_eq!(gw.resend(&id).await.get("pg_status"), "ok");
    assert_eq!(gw.approve(&id, "111111").await.get("pg_status"), "ok");
}

#[tokio::test]
async fn wrong_states_and_unknown_payments_are_distinct_errors() {
    let gw = Gateway::start();
    let id = gw.init().await;
    assert_eq!(
        gw.approve(&id, "111111").await.error_code(),
        code(ErrorKind::NotPaid)
    );
    assert_eq!(gw.resend(&id).await.error_code(), code(ErrorKind::NotPaid));
    assert_eq!(gw.pay(&id, "77017777701").await.get("pg_status"), "ok");
    let twice = gw.pay(&id, "77017777701").await;
    assert_eq!(twice.error_code(), code(ErrorKind::AlreadyPaid));
    assert_eq!(twice.get("pg_payment_id"), id);
    assert_eq!(
        gw.approve(&id, "111111").await.error_code(),
        code(ErrorKind::PaymentFinished)
    );
    assert_eq!(
        gw.resend(&id).await.error_code(),
        code(ErrorKind::PaymentFinished)
    );
    for answer in [
        gw.pay("1", "77017777777").await,
        gw.approve("1", "111111").await,
        gw.resend("1").await,
        gw.status("1").await,
    ] {
        assert_eq!(
            answer.error_code(),
            code(ErrorKind::UnknownPayment),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn operators_are_checked_against_the_phone() {
    let gw = Gateway::start();
    let id = gw.init().await;
    // The docs' own signature example pays 77077777777 (Tele2) with KCELLKZT.
    let mismatch = gw
        .call(
            "/mfs/pay",
            &[
                ("pg_payment_id", &id),
                ("pg_abonent_phone", "77077777777"),
                ("pg_payment_system_code", "KCELLKZT"),
            ],
        )
        .await;
    assert_eq!(mismatch.error_code(), code(ErrorKind::OperatorMismatch));
    assert!(mismatch.detail().contains("Tele2"));
    let unknown = gw
        .call(
            "/mfs/pay",
            &[
                ("pg_payment_id", &id),
                ("pg_abonent_phone", "77077777777"),
                ("pg_payment_system_code", "MTSKZT"),
            ],
        )
        .await;
    assert_eq!(unknown.error_code(), code(ErrorKind::MalformedField));
    assert!(unknown.detail().contains("pg_payment_system_code"));
    assert_eq!(
        gw.pay(&id, "77991234567").await.error_code(),
        code(ErrorKind::UnsupportedPhone)
    );
    let bad = gw.pay(&id, "8701123456").await;
    assert_eq!(bad.error_code(), code(ErrorKind::InvalidPhone));
    assert_eq!(code(ErrorKind::InvalidPhone), 10031);
    assert!(bad.detail().contains("pg_abonent_phone"));
    // None of that touched the payment.
    assert_eq!(gw.payment_status(&id).await, "new");
    let ok = gw
        .call(
            "/mfs/pay",
            &[
                ("pg_payment_id", &id),
                ("pg_abonent_phone", "77077777777"),
                ("pg_payment_system_code", "tele2kzt"),
            ],
        )
        .await;
    assert_eq!(ok.get("pg_status"), "need_approve");
}

#[tokio::test]
async fn missing_and_malformed_fields_are_named() {
    let gw = Gateway::start();
    let base = [
        ("pg_amount", "10"),
        ("pg_description", "d"),
        ("pg_payment_method", "mobile_commerce"),
    ];
    let init = |replace: (&'static str, &'static str)| {
        let mut pairs: Vec<(&str, &str)> = base
            .iter()
            .copied()
            .filter(|(k, _)| *k != replace.0)
            .collect();
        if !replace.1.is_empty() {
            pairs.push(replace);
        }
        pairs
    };
    for (field, value, kind) in [
        ("pg_amount", "", ErrorKind::MissingField),
        ("pg_description", "", ErrorKind::MissingField),
        ("pg_amount", "ten", ErrorKind::MalformedField),
        ("pg_amount", "1.234", ErrorKind::MalformedField),
        ("pg_amount", "100000000", ErrorKind::MalformedField),
        ("pg_amount", "0.00", ErrorKind::AmountTooSmall),
        ("pg_lifetime", "60", ErrorKind::MalformedField),
        ("pg_currency", "tenge", ErrorKind::MalformedField),
        ("pg_testing_mode", "yes", ErrorKind::MalformedField),
        ("pg_language", "de", ErrorKind::MalformedField),
        ("pg_request_method", "PUT", ErrorKind::MalformedField),
        ("pg_result_url", "ftp://x/y", ErrorKind::MalformedField),
        ("pg_check_url", "not a url", ErrorKind::MalformedField),
    ] {
        let answer = gw.call("/init_payment.php", &init((field, value))).await;
        assert_eq!(
            answer.error_code(),
            code(kind),
            "{field}={value}: {}",
            answer.body
        );
        if kind != ErrorKind::AmountTooSmall {
            assert!(answer.detail().contains(field), "{}", answer.body);
        }
    }
    assert_eq!(code(ErrorKind::AmountTooSmall), 1380);
    let long = "x".repeat(51);
    let answer = gw
        .call(
            "/init_payment.php",
            &[&base[..], &[("pg_order_id", long.as_str())]].concat(),
        )
        .await;
    assert!(answer.detail().contains("pg_order_id"));

    for (path, pairs, field) in [
        (
            "/mfs/pay",
            vec![("pg_abonent_phone", "77017777777")],
            "pg_payment_id",
        ),
        ("/mfs/pay", vec![("pg_payment_id", "1")], "pg_abonent_phone"),
        (
            "/mfs/approve",
            vec![("pg_payment_id", "1")],
            "pg_approval_code",
        ),
        ("/mfs/resend_code", vec![], "pg_payment_id"),
        ("/get_status3.php", vec![], "pg_payment_id"),
    ] {
        let answer = gw.call(path, &pairs).await;
        assert_eq!(answer.error_code(), code(ErrorKind::MissingField), "{path}");
        assert!(answer.detail().contains(field), "{}", answer.body);
    }
    let answer = gw
        .call("/get_status3.php", &[("pg_payment_id", "12x")])
        .await;
    assert_eq!(answer.error_code(), code(ErrorKind::MalformedField));
}

#[tokio::test]
async fn status_by_order_id() {
    let gw = Gateway::start();
    let id = gw.init_with(&[("pg_order_id", "shop-42")]).await;
    let answer = gw
        .call("/get_status3.php", &[("pg_order_id", "order-1")])
        .await;
    assert_eq!(answer.error_code(), code(ErrorKind::UnknownPayment));
    let by_order = gw
        .call("/get_status3.php", &[("pg_order_id", "shop-42")])
        .await;
    assert_eq!(by_order.get("pg_payment_id"), id);
    assert_eq!(by_order.get("pg_order_id"), "shop-42");
    // The payment id wins over the order id.
    let other = gw.init().await;
    let both = gw
        .call(
            "/get_status3.php",
            &[("pg_payment_id", &other), ("pg_order_id", "shop-42")],
        )
        .await;
    assert_eq!(both.get("pg_payment_id"), other);
}

// ---------------------------------------------------------------------------------------------
// Encodings and signatures

#[tokio::test]
async fn every_encoding_is_accepted_and_nested_keys_are_signed() {
    let gw = Gateway::start();
    for encoding in [
        Encoding::Multipart,
        Encoding::Form,
        Encoding::Get,
        Encoding::PgXml,
    ] {
        let init = gw
            .signed(
                encoding,
                "/init_payment.php",
                &[
                    ("pg_amount", "25"),
                    ("pg_description", "Оплата & co"),
                    ("pg_payment_method", "mobile_commerce"),
                    ("pg_receipt_positions[0][count]", "1"),
                    ("pg_receipt_positions[0][name]", "product name"),
                    ("pg_receipt_positions[0][tax_type]", "3"),
                    ("pg_receipt_positions[0][price]", "25"),
                ],
            )
            .await;
        assert_eq!(init.get("pg_status"), "ok", "{encoding:?}: {}", init.body);
        let id = init.get("pg_payment_id");
        let pay = gw
            .signed(
                encoding,
                "/mfs/pay",
                &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
            )
            .await;
        assert_eq!(pay.get("pg_status"), "ok", "{encoding:?}");
        let status = gw
            .signed(encoding, "/get_status3.php", &[("pg_payment_id", &id)])
            .await;
        assert_eq!(status.get("pg_payment_status"), "success", "{encoding:?}");
    }
}

/// Asserts the real gateway's bad-signature answer: 9998, "Некорректная подпись запроса",
/// no salt, no signature.
fn assert_bad_signature(answer: &Answer) {
    assert_eq!(answer.status, 200);
    assert_eq!(answer.error_code(), 9998, "{}", answer.body);
    assert_eq!(
        answer.get("pg_error_description"),
        "Некорректная подпись запроса"
    );
    assert!(!answer.has("pg_sig"), "{}", answer.body);
    assert!(!answer.has("pg_salt"), "{}", answer.body);
}

#[tokio::test]
async fn bad_and_missing_signatures_are_refused_unsigned_with_a_hint_beside_the_answer() {
    let gw = Gateway::start();
    let mut f = fields(&[
        ("pg_merchant_id", DEMO_MERCHANT_ID),
        ("pg_amount", "10"),
        ("pg_description", "d"),
        ("pg_payment_method", "mobile_commerce"),
        ("pg_salt", "s"),
    ]);
    let missing = gw.raw(Encoding::Form, "/init_payment.php", &f).await;
    assert_bad_signature(&missing);
    assert!(missing.detail().contains("missing"));

    // Signed with the wrong key: the body says no more than the real gateway; the signed
    // string (secret masked) is only in the hint header.
    let sig = sign("init_payment.php", &f, &SecretKey::new("wrong"));
    f.push("pg_sig", sig.as_str());
    let wrong = gw.raw(Encoding::Form, "/init_payment.php", &f).await;
    assert_bad_signature(&wrong);
    let signed_string = "init_payment.php;10;d;552170;mobile_commerce;s;***";
    assert!(wrong.detail().contains(signed_string), "{}", wrong.hint);
    assert!(!wrong.body.contains("init_payment.php;"), "{}", wrong.body);
    assert!(!wrong.hint.contains(DEMO_SECRET_KEY));

    // In English on request.
    f.push("pg_language", "en");
    let english = gw.raw(Encoding::Form, "/init_payment.php", &f).await;
    assert_eq!(english.error_code(), 9998);
    assert_eq!(
        english.get("pg_error_description"),
        "pg_sig does not match the request"
    );

    // Signed for another script.
    let mut f = fields(&[
        ("pg_merchant_id", DEMO_MERCHANT_ID),
        ("pg_payment_id", "1"),
        ("pg_salt", "s"),
    ]);
    let sig = sign("approve", &f, &gw.key);
    f.push("pg_sig", sig.as_str());
    assert_bad_signature(&gw.raw(Encoding::Form, "/mfs/pay", &f).await);

    // A tampered value.
    let mut f = fields(&[
        ("pg_merchant_id", DEMO_MERCHANT_ID),
        ("pg_payment_id", "1"),
        ("pg_salt", "s"),
    ]);
    let sig = sign("get_status3.php", &f, &gw.key);
    f.push("pg_sig", sig.as_str());
    f.set("pg_payment_id", "2");
    assert_bad_signature(&gw.raw(Encoding::Form, "/get_status3.php", &f).await);
}

#[tokio::test]
async fn unknown_merchants_get_9997_unsigned() {
    let gw = Gateway::start();
    for merchant in [Some("1"), None] {
        let mut f = fields(&[("pg_payment_id", "1"), ("pg_salt", "s")]);
        if let Some(m) = merchant {
            f.push("pg_merchant_id", m);
        }
        let answer = gw.raw(Encoding::Multipart, "/get_status3.php", &f).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.error_code(), 9997);
        assert_eq!(
            answer.get("pg_error_description"),
            "Неверный номер магазина"
        );
        assert!(!answer.has("pg_sig"), "{}", answer.body);
        assert!(!answer.has("pg_salt"));
    }
}

#[tokio::test]
async fn status_accepts_the_get_status_script_name_and_answers_with_it() {
    let gw = Gateway::start();
    let id = gw.init().await;
    let mut f = fields(&[
        ("pg_merchant_id", DEMO_MERCHANT_ID),
        ("pg_payment_id", &id),
        ("pg_salt", "s"),
    ]);
    let sig = sign("get_status.php", &f, &gw.key);
    f.push("pg_sig", sig.as_str());
    let answer = gw.raw(Encoding::Form, "/get_status3.php", &f).await;
    assert_eq!(answer.get("pg_status"), "ok", "{}", answer.body);
    assert!(answer.is_signed("get_status.php", &gw.key));
}

#[tokio::test]
async fn other_merchants_sign_with_their_own_keys_and_see_only_their_payments() {
    let mut config = config();
    config
        .merchants
        .insert("1001".into(), SecretKey::new("other-key"));
    let gw = Gateway::with(config);
    let id = gw.init().await;
    let mut f = fields(&[
        ("pg_merchant_id", "1001"),
        ("pg_payment_id", &id),
        ("pg_salt", "s"),
    ]);
    let sig = sign("get_status3.php", &f, &SecretKey::new("other-key"));
    f.push("pg_sig", sig.as_str());
    let answer = gw.raw(Encoding::Form, "/get_status3.php", &f).await;
    assert!(answer.is_signed("get_status3.php", &SecretKey::new("other-key")));
    assert_eq!(answer.error_code(), code(ErrorKind::UnknownPayment));
}

#[tokio::test]
async fn unreadable_requests_unknown_paths_and_methods() {
    let gw = Gateway::start();
    let post = |path: &str, content_type: &str, body: &str| {
        gw.client
            .post(gw.url(path))
            .header("content-type", content_type.to_owned())
            .body(body.to_owned())
            .send()
    };
    let r = post("/mfs/pay", "application/x-www-form-urlencoded", "a[b=1")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body = r.text().await.unwrap();
    let doc = Document::parse_response(body.as_bytes()).unwrap();
    assert_eq!(doc.text("pg_error_code"), Some("8003"));
    assert_eq!(doc.text("pg_sig"), None);

    let r = post(
        "/mfs/pay",
        "application/x-www-form-urlencoded",
        "pg_xml=%3Crequest%3E%3Cpg_a%3E",
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(hint_of(&r).contains("pg_xml"), "{}", hint_of(&r));

    let r = post(
        "/mfs/pay",
        "multipart/form-data; boundary=xyz",
        "--xyz\r\ngarbage",
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let r = post(
        "/mfs/pay",
        "application/x-www-form-urlencoded",
        "pg_amount=%FF",
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let r = gw.client.get(gw.url("/refund.php")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<pg_error_code>8005</pg_error_code>")
    );

    let r = gw.client.put(gw.url("/mfs/pay")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);

    // An empty POST carries its fields in the query string.
    let r = gw
        .client
        .post(gw.url("/get_status3.php?pg_merchant_id=9"))
        .send()
        .await
        .unwrap();
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<pg_error_code>9997</pg_error_code>")
    );
    // Still serving.
    gw.init().await;
}

#[tokio::test]
async fn hostile_bodies_never_take_the_server_down() {
    let gw = Gateway::start();
    let post = |content_type: &'static str, body: Vec<u8>| {
        gw.client
            .post(gw.url("/mfs/pay"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // Deep nesting would overflow the stack if it were ever built into a tree.
    let deep_key = format!("pg_a{}=1", "[x]".repeat(100_000));
    let r = post("application/x-www-form-urlencoded", deep_key.into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let deep_xml = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let r = post("text/xml", deep_xml.into_bytes()).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Many fields: refused before they cost anything.
    let many: Vec<String> = (0..50_000).map(|i| format!("f{i}=v")).collect();
    let r = post(
        "application/x-www-form-urlencoded",
        many.join("&").into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        hint_of(&r).contains("more than the 2000"),
        "{}",
        hint_of(&r)
    );
    // Random bytes under every content type.
    let mut rng = fastrand::Rng::with_seed(5);
    for i in 0..60 {
        let len = rng.usize(0..2000);
        let body: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        let content_type = [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=b",
            "text/xml",
            "application/octet-stream",
        ][i % 4];
        let r = post(content_type, body)
            .await
            .expect("an answer, whatever was sent");
        assert!(r.status().as_u16() < 500, "{}", r.status());
    }
    gw.init().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_a_clean_xml_error() {
    let gw = Gateway::with(EmulatorConfig {
        body_limit: 4096,
        ..config()
    });
    let big = "x".repeat(10_000);
    let answer = gw
        .signed(
            Encoding::Form,
            "/init_payment.php",
            &[
                ("pg_amount", "1"),
                ("pg_description", &big),
                ("pg_payment_method", "mobile_commerce"),
            ],
        )
        .await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.error_code(), code(ErrorKind::RequestTooLarge));
    assert!(!answer.has("pg_sig"));

    // Chunked, without a Content-Length: cut off as it arrives.
    let mut stream = std::net::TcpStream::connect(gw.emulator.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = b"POST /init_payment.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..20 {
        request.extend_from_slice(b"3e8\r\n");
        request.extend_from_slice(&[b'a'; 1000]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before taking it all: a failed write is fine.
    let _ = std::io::Write::write_all(&mut stream, &request);
    let mut head = [0u8; 64];
    let n = std::io::Read::read(&mut stream, &mut head).unwrap();
    assert!(
        head[..n].starts_with(b"HTTP/1.1 413"),
        "{:?}",
        String::from_utf8_lossy(&head[..n])
    );
    gw.init().await;
}

// ---------------------------------------------------------------------------------------------
// Faults

async fn add_fault(gw: &Gateway, params: &str) {
    let (status, body) = gw.admin_post("/_emulator/faults", params).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn http_error_faults_fire_the_given_number_of_times() {
    let gw = Gateway::start();
    add_fault(&gw, "route=status&kind=http503&times=2").await;
    add_fault(&gw, "route=init&kind=http502").await;
    let id = gw.init_after_faults().await;
    for _ in 0..2 {
        let r = gw
            .client
            .get(gw.url("/get_status3.php"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503);
        assert!(r.text().await.unwrap().contains("503 Service Unavailable"));
    }
    assert_eq!(gw.status(&id).await.get("pg_status"), "ok");
    add_fault(&gw, "kind=http500&times=always").await;
    for _ in 0..3 {
        let r = gw.client.get(gw.url("/mfs/pay")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 500);
    }
    let (_, list) = gw.admin_get("/_emulator/faults").await;
    assert!(
        list.contains("<kind>http500</kind>") && list.contains("<times>always</times>"),
        "{list}"
    );
    let r = gw
        .client
        .delete(gw.url("/_emulator/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(gw.status(&id).await.get("pg_status"), "ok");
}

impl Gateway {
    /// Init through a 502 fault set up for it: the first try fails, the second goes through.
    async fn init_after_faults(&self) -> String {
        let r = self
            .client
            .post(self.url("/init_payment.php"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 502);
        self.init().await
    }
}

#[tokio::test]
async fn latency_faults_delay_the_answer() {
    let gw = Gateway::start();
    let id = gw.init().await;
    add_fault(&gw, "route=status&kind=latency&delay_ms=300").await;
    let started = Instant::now();
    assert_eq!(gw.status(&id).await.get("pg_status"), "ok");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    gw.status(&id).await;
    assert!(started.elapsed() < Duration::from_millis(300), "only once");
}

#[tokio::test]
async fn malformed_and_truncated_answers_do_not_parse_but_the_call_happened() {
    let gw = Gateway::start();
    let id = gw.init().await;
    add_fault(&gw, "route=pay&kind=malformed_xml").await;
    let f = {
        let mut f = fields(&[
            ("pg_merchant_id", DEMO_MERCHANT_ID),
            ("pg_payment_id", &id),
            ("pg_abonent_phone", "77017777777"),
            ("pg_salt", "s"),
        ]);
        let sig = sign("pay", &f, &gw.key);
        f.push("pg_sig", sig.as_str());
        f
    };
    let answer = gw.raw(Encoding::Form, "/mfs/pay", &f).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("</respons>"));
    assert!(Document::parse(answer.body.as_bytes()).is_err());
    assert_eq!(gw.payment_status(&id).await, "process", "pay went through");

    add_fault(&gw, "route=status&kind=truncated").await;
    let f = {
        let mut f = fields(&[
            ("pg_merchant_id", DEMO_MERCHANT_ID),
            ("pg_payment_id", &id),
            ("pg_salt", "s"),
        ]);
        let sig = sign("get_status3.php", &f, &gw.key);
        f.push("pg_sig", sig.as_str());
        f
    };
    let answer = gw.raw(Encoding::Form, "/get_status3.php", &f).await;
    assert!(Document::parse(answer.body.as_bytes()).is_err());
    assert!(
        answer.body.starts_with("<?xml") && !answer.body.contains("</response>"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn dropped_connections_before_and_after_the_call() {
    let gw = Gateway::start();
    let id = gw.init().await;
    add_fault(&gw, "route=pay&kind=drop").await;
    let signed_pay = |id: &str| {
        let mut f = fields(&[
            ("pg_merchant_id", DEMO_MERCHANT_ID),
            ("pg_payment_id", id),
            ("pg_abonent_phone", "77017777701"),
            ("pg_salt", "s"),
        ]);
        let sig = sign("pay", &f, &gw.key);
        f.push("pg_sig", sig.as_str());
        form_encode(&f.to_form_pairs())
    };
    let send = |body: String| {
        // A fresh client, so no pooled connection is reused for what comes next.
        client()
            .post(gw.url("/mfs/pay"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    assert!(
        send(signed_pay(&id)).await.is_err(),
        "dropped before any answer"
    );
    assert_eq!(
        gw.payment_status(&id).await,
        "new",
        "the gateway never saw it"
    );

    add_fault(&gw, "route=pay&kind=drop&phase=after").await;
    assert!(send(signed_pay(&id)).await.is_err());
    assert_eq!(
        gw.payment_status(&id).await,
        "success",
        "charged, answer lost"
    );
    // Retrying the money-moving call is refused: that is what the fault is for.
    assert_eq!(
        gw.pay(&id, "77017777701").await.error_code(),
        code(ErrorKind::AlreadyPaid)
    );
}

#[tokio::test]
async fn fault_parameters_are_validated() {
    let gw = Gateway::start();
    for params in [
        "kind=boom",
        "route=refund&kind=drop",
        "kind=latency",
        "kind=drop&times=-1",
        "kind=truncated&phase=before",
        "",
    ] {
        let (status, body) = gw.admin_post("/_emulator/faults", params).await;
        assert_eq!(status, 400, "{params}: {body}");
        assert!(body.starts_with("failed to read the fault"), "{body}");
    }
    let r = gw
        .client
        .post(gw.url("/_emulator/faults?route=status&kind=drop&times=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "query parameters work too");
    assert!(r.text().await.unwrap().contains("<times>3</times>"));
    assert_eq!(gw.admin_post("/_emulator/faults/clear", "").await.0, 200);
    assert_eq!(
        gw.admin_get("/_emulator/faults")
            .await
            .1
            .matches("<fault>")
            .count(),
        0
    );
}

// ---------------------------------------------------------------------------------------------
// Admin API

#[tokio::test]
async fn emulator_at_its_limits_pages_the_payment_list() {
    let gw = Gateway::start();
    let mut made = Vec::new();
    for _ in 0..12 {
        made.push(gw.init().await);
    }
    let mut seen = Vec::new();
    let mut path = "/_emulator/payments?limit=5".to_owned();
    loop {
        let (status, page) = gw.admin_get(&path).await;
        assert_eq!(status, 200, "{page}");
        let doc = Document::parse(page.as_bytes()).unwrap();
        let attribute = |name: &str| {
            doc.root
                .attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(attribute("total").as_deref(), Some("12"));
        let ids: Vec<String> = doc
            .root
            .find_all("payment")
            .iter()
            .map(|p| p.text_at("pg_payment_id").unwrap().to_owned())
            .collect();
        assert_eq!(attribute("count"), Some(ids.len().to_string()));
        seen.extend(ids);
        match attribute("next") {
            Some(next) => path = format!("/_emulator/payments?limit=5&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, made, "every payment exactly once, oldest first");
    for bad in ["limit=0", "limit=10001", "after=x", "colour=red"] {
        let (status, why) = gw.admin_get(&format!("/_emulator/payments?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {why}");
    }
}

#[test]
fn emulator_at_its_limits_closes_a_slowloris_connection_and_serves_others() {
    use std::io::{Read as _, Write as _};
    let emulator = Emulator::start(EmulatorConfig {
        header_read_timeout: Duration::from_millis(300),
        worker_threads: Some(1),
        ..config()
    })
    .unwrap();
    let addr = emulator.addr();
    // Half a request, then nothing: the server must hang up on its own.
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    slow.write_all(b"POST /get_status3.php HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = std::time::Instant::now();
    // Meanwhile another client is served at once.
    let mut other = std::net::TcpStream::connect(addr).unwrap();
    other
        .write_all(b"GET /_emulator/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "served while the slow one waits: {:?}",
        started.elapsed()
    );
    let mut rest = Vec::new();
    let read = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        read.is_ok()
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "closed, not timed out on our side: {read:?} after {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "closed by the header timeout: {waited:?}"
    );
}

#[tokio::test]
async fn admin_lists_payments_and_resets() {
    let gw = Gateway::start();
    let (status, help) = gw.admin_get("/_emulator/").await;
    assert_eq!(status, 200);
    assert!(help.contains("/_emulator/sms/{phone}"));
    assert_eq!(gw.admin_get("/_emulator/sms/77017777777").await.0, 404);

    let a = gw.init().await;
    let b = gw.init().await;
    gw.pay(&b, "77017777777").await;
    let (status, list) = gw.admin_get("/_emulator/payments").await;
    assert_eq!(status, 200);
    let doc = Document::parse(list.as_bytes()).unwrap();
    assert_eq!(doc.root.name, "emulator_payments");
    assert_eq!(
        doc.root.attributes,
        vec![
            ("count".to_owned(), "2".to_owned()),
            ("total".to_owned(), "2".to_owned())
        ]
    );
    let payments = doc.root.find_all("payment");
    assert_eq!(payments[0].text_at("pg_payment_id"), Some(a.as_str()));
    assert_eq!(payments[0].text_at("emulator_state"), Some("new"));
    assert_eq!(payments[1].text_at("emulator_state"), Some("awaiting_code"));
    assert_eq!(payments[1].text_at("attempts_left"), Some("3"));
    assert_eq!(
        payments[1].text_at("pg_payment_system_code"),
        Some("KCELLKZT")
    );

    let (status, one) = gw.admin_get(&format!("/_emulator/payments/{b}")).await;
    assert_eq!(status, 200);
    assert!(one.contains("<pg_payment_status>process</pg_payment_status>"));
    assert_eq!(gw.admin_get("/_emulator/payments/1").await.0, 404);
    assert_eq!(gw.admin_get("/_emulator/nothing").await.0, 404);

    assert_eq!(
        gw.admin_post("/_emulator/reset", "").await,
        (200, "reset".into())
    );
    assert_eq!(
        gw.status(&a).await.error_code(),
        code(ErrorKind::UnknownPayment)
    );
    assert_eq!(gw.emulator.sms_code("77017777777"), None);
    gw.init().await;
    gw.emulator.reset();
    assert!(
        gw.admin_get("/_emulator/payments")
            .await
            .1
            .contains("count=\"0\"")
    );
}

#[tokio::test]
async fn seeds_repeat_payment_ids_and_codes() {
    let run = || async {
        let gw = Gateway::with(EmulatorConfig {
            seed: Some(2024),
            ..config()
        });
        let id = gw.init().await;
        gw.pay(&id, "77011234567").await;
        (id, gw.emulator.sms_code("77011234567").unwrap())
    };
    let first = run().await;
    assert_eq!(first, run().await);
    let unseeded = Gateway::start();
    let other = unseeded.init().await;
    assert_ne!(
        other, first.0,
        "unseeded ids start elsewhere (1 in 700 million to collide)"
    );
}

// ---------------------------------------------------------------------------------------------
// Callbacks

/// A merchant backend that records callbacks and answers them, signed, as told.
struct Merchant {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<(String, Fields)>>>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct MerchantBehaviour {
    /// HTTP 500 for this many requests first.
    fail_first: Arc<Mutex<u32>>,
    /// What to answer in `pg_status`.
    status: &'static str,
    sign: bool,
}

impl Merchant {
    async fn start(behaviour: MerchantBehaviour) -> Merchant {
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

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<(String, Fields)> {
        self.seen.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize) -> Vec<(String, Fields)> {
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

fn behaves(status: &'static str, fail_first: u32, sign: bool) -> MerchantBehaviour {
    MerchantBehaviour {
        fail_first: Arc::new(Mutex::new(fail_first)),
        status,
        sign,
    }
}

#[tokio::test]
async fn result_callbacks_are_signed_and_sent_in_every_method() {
    let merchant = Merchant::start(behaves("ok", 0, true)).await;
    let gw = Gateway::start();
    for method in ["POST", "GET", "XML"] {
        let result_url = merchant.url("/shop/result.php");
        let id = gw
            .init_with(&[
                ("pg_result_url", result_url.as_str()),
                ("pg_request_method", method),
                ("pg_param1", "p1"),
            ])
            .await;
        gw.pay(&id, "77027777777").await;
        gw.approve(&id, "111111").await;
        let seen = merchant.wait_for(1).await;
        let (how, f) = seen.last().unwrap();
        assert_eq!(how, &format!("{method} result.php"));
        assert!(verify("result.php", f, &gw.key).is_valid(), "{f}");
        assert_eq!(f.get("pg_payment_id"), Some(id.as_str()));
        assert_eq!(f.get("pg_result"), Some("1"));
        assert_eq!(f.get("pg_amount"), Some("150.00"));
        assert_eq!(f.get("pg_user_phone"), Some("77027777777"));
        assert_eq!(f.get("pg_param1"), Some("p1"));
        assert_eq!(f.get("pg_testing_mode"), Some("1"));
        merchant.seen.lock().unwrap().clear();
    }
    // The merchant sees a callback a moment before the emulator logs the reply.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (_, log) = gw.admin_get("/_emulator/callbacks").await;
        if log.matches("<reply_status>ok</reply_status>").count() == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn failed_payments_are_reported_with_the_failure() {
    let merchant = Merchant::start(behaves("ok", 0, true)).await;
    let gw = Gateway::start();
    let id = gw
        .init_with(&[("pg_result_url", &merchant.url("/result"))])
        .await;
    gw.pay(&id, "77057777703").await;
    let (_, f) = merchant.wait_for(1).await.remove(0);
    assert_eq!(f.get("pg_result"), Some("0"));
    assert_eq!(f.get("pg_failure_code"), Some("11006"));
    assert_eq!(
        f.get("pg_failure_description"),
        Some("Недостаточно средств на балансе")
    );
    // As recorded from the real gateway: no payment date on failure, not captured.
    assert_eq!(f.get("pg_payment_date"), None);
    assert_eq!(f.get("pg_captured"), Some("0"));
}

#[tokio::test]
async fn unanswered_result_callbacks_are_retried_with_the_same_message() {
    let merchant = Merchant::start(behaves("ok", 2, true)).await;
    let gw = Gateway::start();
    let id = gw
        .init_with(&[("pg_result_url", &merchant.url("/result"))])
        .await;
    gw.pay(&id, "77077777701").await;
    let seen = merchant.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        merchant.seen().len(),
        3,
        "delivered on the third attempt, then no more"
    );
    assert_eq!(seen[0].1, seen[2].1, "retries repeat the message");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, log) = gw.admin_get("/_emulator/callbacks").await;
    assert_eq!(log.matches("HTTP 500").count(), 2, "{log}");
}

#[tokio::test]
async fn badly_signed_replies_count_as_unanswered_until_retries_run_out() {
    let merchant = Merchant::start(behaves("ok", 0, false)).await;
    let gw = Gateway::with(EmulatorConfig {
        callback_retries: 2,
        ..config()
    });
    let id = gw
        .init_with(&[("pg_result_url", &merchant.url("/result"))])
        .await;
    gw.pay(&id, "77077777701").await;
    merchant.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(merchant.seen().len(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn the_check_url_is_asked_before_charging() {
    let approving = Merchant::start(behaves("ok", 0, true)).await;
    let rejecting = Merchant::start(behaves("rejected", 0, true)).await;
    let broken = Merchant::start(behaves("ok", 1, true)).await;
    let gw = Gateway::start();

    let id = gw
        .init_with(&[("pg_check_url", &approving.url("/check.php"))])
        .await;
    assert_eq!(
        gw.pay(&id, "77017777777").await.get("pg_status"),
        "need_approve"
    );
    let (how, f) = approving.wait_for(1).await.remove(0);
    assert_eq!(how, "POST check.php");
    assert!(verify("check.php", &f, &gw.key).is_valid());
    assert_eq!(f.get("pg_ps_full_amount"), Some("150.00"));

    let id = gw
        .init_with(&[("pg_check_url", &rejecting.url("/check.php"))])
        .await;
    let pay = gw.pay(&id, "77017777777").await;
    assert_eq!(pay.error_code(), code(ErrorKind::CheckRejected));
    assert!(pay.detail().contains("from the test merchant"));
    assert_eq!(gw.payment_status(&id).await, "error");

    let id = gw
        .init_with(&[("pg_check_url", &broken.url("/check.php"))])
        .await;
    assert_eq!(
        gw.pay(&id, "77017777777").await.error_code(),
        code(ErrorKind::CheckFailed)
    );

    let id = gw
        .init_with(&[("pg_check_url", "http://127.0.0.1:9/nobody-listens")])
        .await;
    assert_eq!(
        gw.pay(&id, "77017777777").await.error_code(),
        code(ErrorKind::CheckFailed)
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency, lifecycle, configuration

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_flows_all_finish_correctly() {
    let gw = Arc::new(Gateway::start());
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            let order = format!("order-{i}");
            let id = gw.init_with(&[("pg_order_id", &order)]).await;
            // Distinct Kcell numbers with random codes, and a few code-then-process phones.
            let phone = if i % 10 == 0 {
                "77017777702".to_owned()
            } else {
                format!("7701{:07}", i)
            };
            assert_eq!(gw.pay(&id, &phone).await.get("pg_status"), "need_approve");
            let code = if i % 10 == 0 {
                "111111".to_owned()
            } else {
                gw.emulator.sms_code(&phone).unwrap()
            };
            let approved = gw.approve(&id, &code).await.get("pg_status");
            assert!(approved == "ok" || approved == "process", "{approved}");
            let status = gw.wait_for(&id, "success").await;
            assert_eq!(status.get("pg_amount"), "150.00");
            let by_order = gw
                .call("/get_status3.php", &[("pg_order_id", &order)])
                .await;
            assert_eq!(
                by_order.get("pg_payment_id"),
                id,
                "order ids stay with their payment"
            );
            id
        }));
    }
    let mut ids = HashSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 200, "every payment has its own id");
    let (_, list) = gw.admin_get("/_emulator/payments").await;
    assert_eq!(
        list.matches("<emulator_state>success</emulator_state>")
            .count(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approves_of_one_payment_succeed_exactly_once() {
    let gw = Arc::new(Gateway::start());
    let id = gw.init().await;
    gw.pay(&id, "77017777777").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let gw = gw.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move { gw.approve(&id, "111111").await }));
    }
    let mut ok = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        if answer.get("pg_status") == "ok" {
            ok += 1;
        } else {
            assert_eq!(answer.error_code(), code(ErrorKind::PaymentFinished));
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn a_full_store_refuses_new_payments_until_one_finishes() {
    let gw = Gateway::with(EmulatorConfig {
        max_payments: 2,
        ..config()
    });
    let first = gw.init().await;
    gw.init().await;
    let full = gw
        .call(
            "/init_payment.php",
            &[
                ("pg_amount", "1"),
                ("pg_description", "d"),
                ("pg_payment_method", "mobile_commerce"),
            ],
        )
        .await;
    assert_eq!(full.error_code(), code(ErrorKind::StoreFull));
    // A finished payment makes room: the oldest finished one is forgotten.
    gw.pay(&first, "77017777701").await;
    gw.init().await;
    assert_eq!(
        gw.status(&first).await.error_code(),
        code(ErrorKind::UnknownPayment)
    );
}

#[tokio::test]
async fn shutdown_is_prompt_with_idle_keep_alive_connections() {
    let gw = Gateway::start();
    for _ in 0..5 {
        gw.init().await;
    }
    let started = Instant::now();
    gw.emulator.shutdown().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn starts_and_stops_without_a_runtime_and_releases_its_port() {
    let emulator = Emulator::start(config()).unwrap();
    let addr = emulator.addr();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(
        emulator.base_url().as_str(),
        format!("http://127.0.0.1:{}/", addr.port())
    );
    emulator.shutdown().unwrap();
    std::net::TcpListener::bind(addr).expect("port released by shutdown");

    let emulator = Emulator::start(EmulatorConfig {
        bind: addr,
        ..config()
    })
    .unwrap();
    drop(emulator);
    std::net::TcpListener::bind(addr).expect("port released by drop");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = Emulator::start(EmulatorConfig {
        bind: addr,
        ..config()
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("failed to listen on {addr}")),
        "{err}"
    );
}

#[tokio::test]
async fn configuration_files_set_merchants_routes_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator.yaml");
    std::fs::write(
        &path,
        "version: 1\nmerchants:\n  \"777\": file-key\nroutes:\n  resend_code: /mfs/resend\nerror_codes:\n  not_paid: 4242\napprove_delay: 10ms\n",
    )
    .unwrap();
    let config = EmulatorConfig::from_yaml_file(&path).unwrap();
    let mut gw = Gateway::with(config);
    gw.key = SecretKey::new("file-key");
    let mut f = fields(&[
        ("pg_merchant_id", "777"),
        ("pg_amount", "5"),
        ("pg_description", "d"),
        ("pg_payment_method", "mobile_commerce"),
        ("pg_salt", "s"),
    ]);
    let sig = sign("init_payment.php", &f, &gw.key);
    f.push("pg_sig", sig.as_str());
    let init = gw.raw(Encoding::Multipart, "/init_payment.php", &f).await;
    let id = init.get("pg_payment_id");
    let resend = gw
        .signed(
            Encoding::Form,
            "/mfs/resend",
            &[("pg_merchant_id", "777"), ("pg_payment_id", &id)],
        )
        .await;
    assert_eq!(resend.error_code(), 4242);
    assert!(resend.is_signed("resend", &gw.key));
    let old_route = gw
        .client
        .post(gw.url("/mfs/resend_code"))
        .send()
        .await
        .unwrap();
    assert_eq!(old_route.status().as_u16(), 404);

    std::fs::write(&path, "merchants: { \"1\": k }\ncode_atempts: 3\n").unwrap();
    let err = EmulatorConfig::from_yaml_file(&path).unwrap_err();
    assert!(err.to_string().contains("code_atempts"), "{err}");
    assert!(err.report().is_some());
}

// ---------------------------------------------------------------------------------------------
// Fidelity: where the real gateway's behaviour is known (../shared/freedompay-mobile-balance.md,
// "Seen from the real gateway"), the emulator does what it does.

#[tokio::test]
async fn init_without_a_method_lets_the_payer_choose_and_can_still_be_paid_from_a_phone() {
    let gw = Gateway::start();
    for method in [None, Some("bankcard")] {
        let mut pairs = vec![
            ("pg_amount", "150"),
            ("pg_description", "Card page"),
            // Fields clients written for other flows send: accepted and signed like any.
            ("pg_auto_clearing", "1"),
            ("pg_state_url", "https://merchant.example/state"),
            ("sdk", "php-sdk/2.1"),
        ];
        if let Some(m) = method {
            pairs.push(("pg_payment_method", m));
        }
        let init = gw.call("/init_payment.php", &pairs).await;
        assert_eq!(init.get("pg_status"), "ok", "{method:?}: {}", init.body);
        assert_eq!(init.get("pg_redirect_url_type"), "need data");
        let id = init.get("pg_payment_id");
        let status = gw.status(&id).await;
        assert_eq!(status.get("pg_payment_status"), "new");
        assert_eq!(
            status.has("pg_payment_method"),
            method.is_some(),
            "{}",
            status.body
        );
        assert_eq!(gw.pay(&id, "77017777701").await.get("pg_status"), "ok");
        assert_eq!(
            gw.status(&id).await.get("pg_payment_method"),
            "mobile_commerce"
        );
    }
}

#[tokio::test]
async fn the_redirect_has_the_real_shape_and_its_page_is_served() {
    let gw = Gateway::start();
    let init = gw
        .call(
            "/init_payment.php",
            &[("pg_amount", "2500.50"), ("pg_description", "Заказ <42>")],
        )
        .await;
    let redirect = init.get("pg_redirect_url");
    let page = gw.client.get(&redirect).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("2500.50 KZT"), "{html}");
    assert!(html.contains("Заказ &lt;42&gt;"), "{html}");
    assert!(html.contains(&init.get("pg_payment_id")), "{html}");
    for wrong in [
        "pay.html?customer=00000000000000000000000000000000",
        "pay.html?customer=xyz",
        "pay.html",
    ] {
        let r = gw.client.get(gw.url(wrong)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{wrong}");
    }
}

#[tokio::test]
async fn descriptions_are_russian_by_default_and_english_on_request() {
    let gw = Gateway::start();
    let ru = gw.init().await;
    let en = gw.init_with(&[("pg_language", "en")]).await;
    for id in [&ru, &en] {
        gw.pay(id, "77017777777").await;
    }
    let wrong_ru = gw.approve(&ru, "000000").await;
    assert_eq!(wrong_ru.error_code(), 11002);
    assert_eq!(
        wrong_ru.get("pg_error_description"),
        "Введен неверный код SMS. Повторите еще раз"
    );
    // The payment's language follows from its init...
    let wrong_en = gw.approve(&en, "000000").await;
    assert_eq!(wrong_en.error_code(), 11002);
    assert!(
        wrong_en
            .get("pg_error_description")
            .contains("2 attempt(s) left"),
        "{}",
        wrong_en.body
    );
    // ...and a request's own pg_language wins.
    let asked = gw
        .call(
            "/mfs/approve",
            &[
                ("pg_payment_id", &ru),
                ("pg_approval_code", "000000"),
                ("pg_language", "en"),
            ],
        )
        .await;
    assert!(
        asked
            .get("pg_error_description")
            .contains("1 attempt(s) left")
    );
    // Field errors name the field in both languages.
    let missing = gw
        .call("/init_payment.php", &[("pg_description", "d")])
        .await;
    assert_eq!(
        missing.get("pg_error_description"),
        "Не указан обязательный параметр pg_amount"
    );
    assert_eq!(missing.detail(), "missing required field pg_amount");
}

#[tokio::test]
async fn status_leaves_out_fields_without_a_value_and_failures_carry_the_real_codes() {
    let gw = Gateway::start();
    let id = gw.init().await;
    let new = gw.status(&id).await;
    for absent in [
        "pg_payment_date",
        "pg_failure_code",
        "pg_failure_description",
        "pg_user_phone",
    ] {
        assert!(!new.has(absent), "{absent}: {}", new.body);
    }
    gw.pay(&id, "77007777704").await;
    let failed = gw.status(&id).await;
    assert_eq!(failed.get("pg_payment_status"), "error");
    assert_eq!(failed.get("pg_failure_code"), "11001");
    assert_eq!(
        failed.get("pg_failure_description"),
        "Операция не выполнена, обратитесь к оператору"
    );
    assert_eq!(failed.get("pg_user_phone"), "77007777704");
    assert!(!failed.has("pg_payment_date"));
}

#[tokio::test]
async fn the_legacy_status_route_answers_signed_with_the_script_name_used() {
    let gw = Gateway::start();
    let id = gw.init().await;
    for script in ["get_status.php", "get_status3.php"] {
        let mut f = fields(&[
            ("pg_merchant_id", DEMO_MERCHANT_ID),
            ("pg_payment_id", &id),
            ("pg_salt", "s"),
        ]);
        f.push("pg_sig", sign(script, &f, &gw.key).as_str());
        let answer = gw.raw(Encoding::Form, "/get_status.php", &f).await;
        assert_eq!(answer.get("pg_status"), "ok", "{}", answer.body);
        assert!(answer.is_signed(script, &gw.key), "{script}");
    }
}

#[tokio::test]
async fn check_mnp_names_the_operator_of_a_number() {
    let gw = Gateway::start();
    for (phone, operator) in [
        ("77017777777", "Kcell"),
        ("+77027777777", "Activ"),
        ("77771234567", "Beeline"),
        ("+77471234567", "Tele2"),
        ("77081234567", "Altel"),
    ] {
        let answer = gw
            .call("/mfs/check_mnp", &[("pg_abonent_phone", phone)])
            .await;
        assert_eq!(answer.get("pg_status"), "ok", "{phone}: {}", answer.body);
        assert_eq!(answer.get("pg_operator_name"), operator, "{phone}");
    }
    let invalid = gw
        .call("/mfs/check_mnp", &[("pg_abonent_phone", "8701")])
        .await;
    assert_eq!(invalid.error_code(), 10031);
    let nobody = gw
        .call("/mfs/check_mnp", &[("pg_abonent_phone", "77991234567")])
        .await;
    assert_eq!(nobody.error_code(), 11021);
}

#[tokio::test]
async fn result_callbacks_carry_the_fields_recorded_from_the_real_gateway() {
    let merchant = Merchant::start(behaves("ok", 0, true)).await;
    let gw = Gateway::start();
    let with_email = gw
        .init_with(&[
            ("pg_result_url", &merchant.url("/result")),
            ("pg_user_contact_email", "payer@example.kz"),
        ])
        .await;
    gw.pay(&with_email, "77017777701").await;
    let (_, f) = merchant.wait_for(1).await.remove(0);
    let names: Vec<&str> = f.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "pg_order_id",
            "pg_payment_id",
            "pg_amount",
            "pg_currency",
            "pg_net_amount",
            "pg_ps_amount",
            "pg_ps_full_amount",
            "pg_ps_currency",
            "pg_description",
            "pg_result",
            "pg_payment_date",
            "pg_can_reject",
            "pg_user_phone",
            "pg_need_phone_notification",
            "pg_user_contact_email",
            "pg_need_email_notification",
            "pg_testing_mode",
            "pg_payment_method",
            "pg_reference",
            "pg_captured",
            "pg_salt",
            "pg_sig",
        ]
    );
    assert_eq!(f.get("pg_user_contact_email"), Some("payer@example.kz"));
    assert_eq!(f.get("pg_need_email_notification"), Some("1"));
    assert_eq!(f.get("pg_captured"), Some("1"));
    assert_eq!(f.get("pg_reference"), Some(with_email.as_str()));
}

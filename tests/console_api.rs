//! The console's JSON API and its safety rules, without a browser: every view's JSON twin,
//! the token when one is configured, refusals of cross-origin changes, merchant keys never
//! shown (except the public demo key), the XML admin API unchanged beside it.

use std::time::Duration;

use freedompay_harness::emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, RunningEmulator};
use freedompay_harness::gateway::signature::{fresh_salt, sign};
use freedompay_harness::gateway::{Document, Fields, SecretKey};
use serde_json::Value;

fn client() -> reqwest::Client {
    // Plain http only; still, reqwest wants a crypto provider to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config.with_seed(3)).unwrap()
}

async fn signed(
    emulator: &RunningEmulator,
    merchant: (&str, &str),
    path: &str,
    pairs: &[(&str, &str)],
) -> Fields {
    let mut fields = Fields::new();
    fields.push("pg_merchant_id", merchant.0);
    for (k, v) in pairs {
        fields.push(*k, *v);
    }
    fields.push("pg_salt", fresh_salt());
    let script = path.rsplit('/').next().unwrap();
    let sig = sign(script, &fields, &SecretKey::new(merchant.1));
    fields.push("pg_sig", sig.as_str());
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.to_form_pairs())
        .finish();
    let text = client()
        .post(emulator.base_url().join(path).unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Document::parse(text.as_bytes()).unwrap().to_fields()
}

const DEMO: (&str, &str) = ("552170", DEMO_SECRET_KEY);

async fn get_json(emulator: &RunningEmulator, path: &str) -> (u16, Value) {
    let response = client()
        .get(emulator.base_url().join(path).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn every_view_has_a_json_twin() {
    let emulator = start(EmulatorConfig::default());
    let init = signed(
        &emulator,
        DEMO,
        "/init_payment.php",
        &[
            ("pg_order_id", "o-1"),
            ("pg_amount", "150.00"),
            ("pg_description", "tea"),
            ("pg_payment_method", "mobile_commerce"),
        ],
    )
    .await;
    let id = init.get("pg_payment_id").unwrap().to_owned();
    signed(
        &emulator,
        DEMO,
        "/mfs/pay",
        &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777777")],
    )
    .await;

    let (_, version) = get_json(&emulator, "/_emulator/api/version").await;
    assert!(version["version"].as_u64().unwrap() >= 2);

    let (status, page) = get_json(&emulator, "/_emulator/api/payments").await;
    assert_eq!(status, 200);
    let payment = &page["payments"][0];
    assert_eq!(payment["id"].to_string(), id);
    assert_eq!(payment["state"], "awaiting_code");
    assert_eq!(payment["operator"], "KCELLKZT");
    assert_eq!(payment["phone"], "77017777777");
    assert_eq!(page["total"], 1);

    let (_, filtered) = get_json(
        &emulator,
        "/_emulator/api/payments?state=success&phone=7701",
    )
    .await;
    assert_eq!(filtered["payments"].as_array().unwrap().len(), 0);
    let (_, filtered) = get_json(&emulator, "/_emulator/api/payments?phone=777777").await;
    assert_eq!(filtered["payments"].as_array().unwrap().len(), 1);
    let (status, refused) = get_json(&emulator, "/_emulator/api/payments?state=paid").await;
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().unwrap().contains("awaiting_code"));

    let (_, sms) = get_json(&emulator, "/_emulator/api/sms?phone=77017777777").await;
    assert_eq!(sms["messages"][0]["code"], "111111");
    assert_eq!(sms["messages"][0]["status"], "waiting");
    signed(
        &emulator,
        DEMO,
        "/mfs/approve",
        &[("pg_payment_id", &id), ("pg_approval_code", "111111")],
    )
    .await;
    let (_, sms) = get_json(&emulator, "/_emulator/api/sms").await;
    assert_eq!(sms["messages"][0]["status"], "used");

    let (_, detail) = get_json(&emulator, &format!("/_emulator/api/payments/{id}")).await;
    assert_eq!(detail["payment"]["state"], "success");
    let calls: Vec<&str> = detail["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["approve", "pay", "init"]);
    assert!(
        detail["calls"][1]["answer"]
            .as_str()
            .unwrap()
            .contains("<pg_status>need_approve</pg_status>")
    );
    let (status, _) = get_json(&emulator, "/_emulator/api/payments/1").await;
    assert_eq!(status, 404);

    let (_, calls) = get_json(&emulator, "/_emulator/api/calls?limit=1").await;
    assert_eq!(calls["calls"].as_array().unwrap().len(), 1);
    let (_, callbacks) = get_json(&emulator, "/_emulator/api/callbacks").await;
    assert_eq!(callbacks["attempts"], Value::Array(vec![]));

    // Faults through the API, and the XML admin API still answering beside it.
    let added = client()
        .post(emulator.base_url().join("/_emulator/api/faults").unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("route=status&kind=http502&times=2")
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let xml = client()
        .get(emulator.base_url().join("/_emulator/faults").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.contains("<kind>http502</kind>"), "{xml}");
    let (_, faults) = get_json(&emulator, "/_emulator/api/faults").await;
    assert_eq!(faults["faults"][0]["times"], "2");
    let cleared = client()
        .delete(emulator.base_url().join("/_emulator/api/faults").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let (_, faults) = get_json(&emulator, "/_emulator/api/faults").await;
    assert_eq!(faults["faults"], Value::Array(vec![]));

    let reset = client()
        .post(emulator.base_url().join("/_emulator/api/reset").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    let (_, page) = get_json(&emulator, "/_emulator/api/payments").await;
    assert_eq!(page["total"], 0);
    let (_, calls) = get_json(&emulator, "/_emulator/api/calls").await;
    assert_eq!(calls["calls"], Value::Array(vec![]));
}

#[tokio::test]
async fn callbacks_show_the_fields_sent_and_the_merchants_reply() {
    // A merchant that answers with HTTP 500: no contract kept, retried.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let result_url = format!("http://{}/shop/result.php", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf).await;
                let body = "oops";
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    let emulator = start(
        EmulatorConfig::default()
            .with_callback_retry_interval(Duration::from_millis(50))
            .with_callback_retries(1),
    );
    let init = signed(
        &emulator,
        DEMO,
        "/init_payment.php",
        &[
            ("pg_amount", "5"),
            ("pg_description", "d"),
            ("pg_result_url", &result_url),
        ],
    )
    .await;
    let id = init.get("pg_payment_id").unwrap().to_owned();
    signed(
        &emulator,
        DEMO,
        "/mfs/pay",
        &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777701")],
    )
    .await;
    let mut attempts = Value::Null;
    for _ in 0..100 {
        let (_, answer) =
            get_json(&emulator, &format!("/_emulator/api/callbacks?payment={id}")).await;
        if answer["attempts"].as_array().is_some_and(|a| a.len() == 2) {
            attempts = answer["attempts"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = &attempts[0];
    assert_eq!(last["attempt"], 2, "{attempts}");
    assert_eq!(last["retry"], true);
    assert_eq!(last["kind"], "result");
    assert_eq!(last["http_status"], 500);
    assert_eq!(last["reply_body"], "oops");
    assert_eq!(last["kept_contract"], false);
    let names: Vec<&str> = last["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"pg_order_id"));
    assert_eq!(names.last(), Some(&"pg_sig"));
    assert!(names.contains(&"pg_result"));
}

#[tokio::test]
async fn a_token_guards_the_console_when_one_is_configured() {
    let emulator = start(EmulatorConfig::default().with_console_token("s3cret-t0ken"));
    let url = |path: &str| emulator.base_url().join(path).unwrap();
    for path in [
        "/_emulator/ui",
        "/_emulator/api/payments",
        "/_emulator/ui/console.js",
    ] {
        let response = client().get(url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    let wrong = client()
        .get(url("/_emulator/api/payments"))
        .bearer_auth("s3cret-t0keN")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let bearer = client()
        .get(url("/_emulator/api/payments"))
        .bearer_auth("s3cret-t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    // ?token= once: the page is served and a cookie carries the token from then on.
    let page = client()
        .get(url("/_emulator/ui?token=s3cret-t0ken"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let with_cookie = client()
        .get(url("/_emulator/api/version"))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 200);
    // The token never comes back in what the console shows.
    let info = with_cookie.text().await.unwrap();
    assert!(!info.contains("s3cret-t0ken"));
    // The payer's page and its assets are the gateway's, not the console's: no token.
    let asset = client()
        .get(url("/_emulator/ui/pay.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
}

#[tokio::test]
async fn changes_from_another_origin_are_refused() {
    let emulator = start(EmulatorConfig::default());
    let url = emulator.base_url().join("/_emulator/api/reset").unwrap();
    let host = format!("{}", emulator.addr());
    let cross = client()
        .post(url.clone())
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let same = client()
        .post(url)
        .header("origin", format!("http://{host}"))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}

#[tokio::test]
async fn merchant_keys_are_never_shown_but_the_demo_one() {
    const KEY: &str = "merchant-private-key-42";
    let mut config = EmulatorConfig::default();
    config.merchants.insert("777".into(), SecretKey::new(KEY));
    let emulator = start(config);
    // The key where a careless client might put it: in a description, an order id, a param.
    let init = signed(
        &emulator,
        ("777", KEY),
        "/init_payment.php",
        &[
            ("pg_amount", "5"),
            ("pg_description", &format!("key is {KEY}")),
            ("pg_param1", KEY),
        ],
    )
    .await;
    let id = init.get("pg_payment_id").unwrap().to_owned();
    let mut seen = String::new();
    for path in [
        "/_emulator/api/info".to_owned(),
        "/_emulator/api/payments".to_owned(),
        format!("/_emulator/api/payments/{id}"),
        "/_emulator/api/calls".to_owned(),
    ] {
        let (status, value) = get_json(&emulator, &path).await;
        assert_eq!(status, 200, "{path}");
        seen.push_str(&value.to_string());
    }
    let redirect = init.get("pg_redirect_url").unwrap();
    seen.push_str(
        &client()
            .get(redirect)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert!(!seen.contains(KEY), "a merchant key was shown");
    assert!(seen.contains("[REDACTED]"));
    assert!(
        seen.contains(DEMO_SECRET_KEY),
        "the demo key is public and shown"
    );
}

#[tokio::test]
async fn the_payer_page_without_return_urls_says_so_and_init_checks_them() {
    let emulator = start(EmulatorConfig::default());
    let init = signed(
        &emulator,
        DEMO,
        "/init_payment.php",
        &[("pg_amount", "5"), ("pg_description", "d")],
    )
    .await;
    let page = init.get("pg_redirect_url").unwrap().to_owned();
    let paid = client()
        .post(&page)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("step=pay&phone=77017777701")
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let text = paid.text().await.unwrap();
    assert!(text.contains("The payment succeeded."), "{text}");
    assert!(text.contains("Init gave no pg_success_url"), "{text}");

    let refused = signed(
        &emulator,
        DEMO,
        "/init_payment.php",
        &[
            ("pg_amount", "5"),
            ("pg_description", "d"),
            ("pg_success_url", "javascript:alert(1)"),
        ],
    )
    .await;
    assert_eq!(refused.get("pg_error_code"), Some("8002"));
    assert!(
        refused
            .get("pg_error_description")
            .unwrap()
            .contains("pg_success_url")
    );
}

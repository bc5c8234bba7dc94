//! The emulator's pages in a real browser: headless Chromium, driven over the DevTools
//! protocol, goes through the payer page behind `pg_redirect_url` (phone, SMS code read from
//! the console's inbox, back to the merchant's success URL with a valid signature) and
//! through the console (a payment appears and changes state live, a fault added from the
//! page fires, user text stays text). Screenshots of each view land in `target/screenshots/`.
//!
//! Skipped, with a message, when no Chromium is installed (`.ci/run` installs Debian's
//! `chromium`; `FPH_CHROMIUM` names another binary).

mod cdp;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use freedompay_harness::emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig, RunningEmulator};
use freedompay_harness::gateway::signature::{fresh_salt, sign, verify};
use freedompay_harness::gateway::{Fields, SecretKey};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use cdp::Browser;

const WAIT: Duration = Duration::from_secs(15);

/// One browser at a time: the machine has two cores.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
        .lock()
        .await
}

fn screenshots() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp: the shots go beside it, in <target>/screenshots.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("screenshots")
}

fn emulator() -> RunningEmulator {
    Emulator::start(
        EmulatorConfig::default()
            .with_seed(7)
            .with_callback_retry_interval(Duration::from_millis(100)),
    )
    .expect("the emulator starts")
}

/// A signed gateway call with the demo merchant; the answer's fields and HTTP status.
async fn call(emulator: &RunningEmulator, path: &str, pairs: &[(&str, &str)]) -> (u16, Fields) {
    let mut fields = Fields::new();
    fields.push("pg_merchant_id", "552170");
    for (name, value) in pairs {
        fields.push(*name, *value);
    }
    fields.push("pg_salt", fresh_salt());
    let script = path.rsplit('/').next().unwrap_or(path);
    let sig = sign(script, &fields, &SecretKey::new(DEMO_SECRET_KEY));
    fields.push("pg_sig", sig.as_str());
    post(emulator, path, &fields.to_form_pairs()).await
}

async fn post(emulator: &RunningEmulator, path: &str, pairs: &[(String, String)]) -> (u16, Fields) {
    let url = emulator.base_url().join(path).expect("a URL");
    // Plain http only; still, reqwest wants a crypto provider to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("the emulator answers");
    let status = response.status().as_u16();
    let body = response.text().await.expect("a body");
    let fields = freedompay_harness::gateway::Document::parse(body.as_bytes())
        .map(|d| d.to_fields())
        .unwrap_or_default();
    (status, fields)
}

/// The merchant's site: answers every request with a small page and remembers the targets.
async fn merchant_site() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split(' ').nth(1).unwrap_or("").to_owned();
                log.lock().unwrap().push(target);
                let page =
                    "<!doctype html><title>Shop</title><h1 id=shop>Thank you (merchant page)</h1>";
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payer_pays_on_the_payer_page_with_the_code_from_the_inbox() {
    let _turn = one_at_a_time().await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    let emulator = emulator();
    let (shop, seen) = merchant_site().await;
    let success = format!("{shop}/shop/success.php?lang=ru");
    let failure = format!("{shop}/shop/failure.php");
    let (_, init) = call(
        &emulator,
        "/init_payment.php",
        &[
            ("pg_order_id", "order-77"),
            ("pg_amount", "2500.00"),
            ("pg_description", "Coffee beans, 1 kg"),
            ("pg_success_url", &success),
            ("pg_failure_url", &failure),
        ],
    )
    .await;
    let id = init
        .get("pg_payment_id")
        .expect("init gives an id")
        .to_owned();
    let redirect = init
        .get("pg_redirect_url")
        .expect("a redirect URL")
        .to_owned();
    let shots = screenshots();

    browser.viewport(390, 844, true).await;
    browser.goto(&redirect).await;
    browser
        .wait_for("the phone field", "document.querySelector('#phone')", WAIT)
        .await;
    let amount = browser
        .eval("document.querySelector('.amount').textContent")
        .await;
    assert_eq!(amount, Value::from("2500.00 KZT"));
    browser.type_into("#phone", "+7 701 777 77 77").await;
    let operator = browser
        .wait_for(
            "the operator named",
            "document.querySelector('#operator').textContent",
            WAIT,
        )
        .await;
    assert_eq!(operator, Value::from("Operator: Kcell"));
    browser.screenshot(&shots.join("pay-page-phone.png")).await;
    browser.click("form button[type=submit]").await;
    browser
        .wait_for("the SMS code step", "document.querySelector('#code')", WAIT)
        .await;
    browser.screenshot(&shots.join("pay-page-code.png")).await;

    // The code, as the developer reads it: in the console's inbox.
    browser
        .goto(&format!("{}_emulator/ui#sms", emulator.base_url()))
        .await;
    let code = browser
        .wait_for(
            "the code in the inbox",
            &format!(
                "document.querySelector('.sms[data-payment-id=\"{id}\"] .sms-code').textContent"
            ),
            WAIT,
        )
        .await;
    let code = code.as_str().expect("a code").to_owned();
    assert_eq!(code, "111111", "the Kcell test phone's code");
    browser
        .screenshot(&shots.join("console-sms-phone.png"))
        .await;

    browser.goto(&redirect).await;
    browser
        .wait_for(
            "the SMS code step again",
            "document.querySelector('#code')",
            WAIT,
        )
        .await;
    browser.type_into("#code", &code).await;
    browser.click("form button[type=submit]").await;
    let landed = browser
        .wait_for(
            "the merchant's success page",
            "document.querySelector('#shop') && location.href",
            WAIT,
        )
        .await;
    let landed = reqwest::Url::parse(landed.as_str().unwrap()).unwrap();
    assert_eq!(landed.path(), "/shop/success.php");
    let mut returned = Fields::new();
    for (name, value) in landed.query_pairs() {
        returned.push(name.into_owned(), value.into_owned());
    }
    assert_eq!(returned.get("pg_payment_id"), Some(id.as_str()));
    assert_eq!(returned.get("pg_order_id"), Some("order-77"));
    assert_eq!(
        returned.get("lang"),
        Some("ru"),
        "the merchant's own parameter is kept"
    );
    assert!(
        verify("success.php", &returned, &SecretKey::new(DEMO_SECRET_KEY)).is_valid(),
        "the return is signed with success.php: {landed}"
    );
    assert!(!verify("failure.php", &returned, &SecretKey::new(DEMO_SECRET_KEY)).is_valid());
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|t| t.starts_with("/shop/success.php?"))
    );
    let (_, status) = call(&emulator, "/get_status3.php", &[("pg_payment_id", &id)]).await;
    assert_eq!(status.get("pg_payment_status"), Some("success"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_is_shown_and_the_last_one_returns_to_the_failure_url() {
    let _turn = one_at_a_time().await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    let emulator = emulator();
    let (shop, _) = merchant_site().await;
    let (_, init) = call(
        &emulator,
        "/init_payment.php",
        &[
            ("pg_amount", "10"),
            ("pg_description", "tea"),
            ("pg_success_url", &format!("{shop}/ok.php")),
            ("pg_failure_url", &format!("{shop}/fail.php")),
        ],
    )
    .await;
    let redirect = init.get("pg_redirect_url").unwrap().to_owned();
    browser.goto(&redirect).await;
    browser
        .wait_for("the phone field", "document.querySelector('#phone')", WAIT)
        .await;
    browser.type_into("#phone", "77017777777").await;
    browser.click("form button[type=submit]").await;
    for attempt in 1..=3 {
        browser
            .wait_for("the code field", "document.querySelector('#code')", WAIT)
            .await;
        browser.type_into("#code", "000000").await;
        browser.click("form button[type=submit]").await;
        if attempt < 3 {
            let error = browser
                .wait_for("the refusal", "document.querySelector('.error') && document.querySelector('.error').textContent", WAIT)
                .await;
            assert!(error.as_str().unwrap().contains("11002"), "{error}");
        }
    }
    let landed = browser
        .wait_for(
            "the failure page",
            "document.querySelector('#shop') && location.href",
            WAIT,
        )
        .await;
    let landed = reqwest::Url::parse(landed.as_str().unwrap()).unwrap();
    assert_eq!(landed.path(), "/fail.php");
    let returned: Fields = {
        let mut f = Fields::new();
        for (k, v) in landed.query_pairs() {
            f.push(k.into_owned(), v.into_owned());
        }
        f
    };
    assert!(verify("fail.php", &returned, &SecretKey::new(DEMO_SECRET_KEY)).is_valid());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_payments_live_and_its_faults_fire() {
    let _turn = one_at_a_time().await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    let emulator = emulator();
    let base = emulator.base_url();
    let shots = screenshots();
    browser.viewport(1280, 800, false).await;
    browser.goto(&format!("{base}_emulator/ui#payments")).await;
    browser
        .wait_for(
            "the empty list",
            "document.querySelector('#payments .empty')",
            WAIT,
        )
        .await;

    let (_, init) = call(
        &emulator,
        "/init_payment.php",
        &[
            ("pg_order_id", "A-1001"),
            ("pg_amount", "150.00"),
            ("pg_description", "Monthly plan"),
            ("pg_payment_method", "mobile_commerce"),
        ],
    )
    .await;
    let id = init.get("pg_payment_id").unwrap().to_owned();
    let row = format!("#payments tr[data-payment-id=\"{id}\"]");
    let state = browser
        .wait_for(
            "the new payment to appear",
            &format!("document.querySelector('{row} .state').textContent"),
            WAIT,
        )
        .await;
    assert_eq!(state, Value::from("new"));
    call(
        &emulator,
        "/mfs/pay",
        &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777777")],
    )
    .await;
    browser
        .wait_for(
            "its state to change without a reload",
            &format!("document.querySelector('{row} .state').textContent === 'awaiting_code'"),
            WAIT,
        )
        .await;
    // A few more, so the screenshots show a list.
    for (order, phone) in [("A-1002", "77027777777"), ("A-1003", "77057777701")] {
        let (_, more) = call(
            &emulator,
            "/init_payment.php",
            &[
                ("pg_order_id", order),
                ("pg_amount", "990"),
                ("pg_description", "Top-up"),
            ],
        )
        .await;
        let more_id = more.get("pg_payment_id").unwrap().to_owned();
        call(
            &emulator,
            "/mfs/pay",
            &[("pg_payment_id", &more_id), ("pg_abonent_phone", phone)],
        )
        .await;
    }
    browser
        .wait_for(
            "three rows",
            "document.querySelectorAll('#payments tbody tr').length === 3",
            WAIT,
        )
        .await;
    browser
        .screenshot(&shots.join("console-payments.png"))
        .await;

    // A fault added from the page fires on the next status call.
    browser.goto(&format!("{base}_emulator/ui#faults")).await;
    browser
        .wait_for(
            "the fault form",
            "document.querySelector('#fault-form')",
            WAIT,
        )
        .await;
    browser
        .eval("document.querySelector('#fault-route').value = 'status'; document.querySelector('#fault-kind').value = 'http503'; true")
        .await;
    browser.click("#fault-form button[type=submit]").await;
    browser
        .wait_for(
            "the rule listed",
            "document.querySelector('#faults tbody tr')",
            WAIT,
        )
        .await;
    browser.screenshot(&shots.join("console-faults.png")).await;
    let (http, _) = call(&emulator, "/get_status3.php", &[("pg_payment_id", &id)]).await;
    assert_eq!(
        http, 503,
        "the fault added in the console answered the status call"
    );
    let (http, _) = call(&emulator, "/get_status3.php", &[("pg_payment_id", &id)]).await;
    assert_eq!(http, 200, "a `once` rule fires once");
    browser
        .wait_for(
            "the spent rule gone",
            "document.querySelector('#faults .empty')",
            WAIT,
        )
        .await;

    // The payment's page: its calls, with the fault and the hint of a bad signature.
    let mut unsigned = vec![
        ("pg_merchant_id".to_owned(), "552170".to_owned()),
        ("pg_payment_id".to_owned(), id.clone()),
        ("pg_salt".to_owned(), "x".to_owned()),
        ("pg_sig".to_owned(), "0".repeat(32)),
    ];
    unsigned.sort();
    let (http, refused) = post(&emulator, "/get_status3.php", &unsigned).await;
    assert_eq!((http, refused.get("pg_error_code")), (200, Some("9998")));
    browser
        .goto(&format!("{base}_emulator/ui#payment/{id}"))
        .await;
    browser
        .wait_for(
            "the payment's calls",
            "document.querySelectorAll('details').length >= 4",
            WAIT,
        )
        .await;
    let text = browser.eval("document.body.innerText").await;
    let text = text.as_str().unwrap();
    assert!(text.contains("fault: http503 before"), "{text}");
    assert!(text.contains("error 9998 bad_signature"), "{text}");
    browser.eval("document.querySelectorAll('details').forEach(d => { if (d.textContent.includes('bad_signature')) d.open = true; }); true").await;
    let hint = browser
        .eval("document.querySelector('details[open] .hint').textContent")
        .await;
    assert!(
        hint.as_str().unwrap().contains("get_status3.php;552170;"),
        "the signed string is shown: {hint}"
    );
    // How the client sent it.
    let sent = browser
        .eval("document.querySelector('details[open]').innerText")
        .await;
    assert!(
        sent.as_str()
            .unwrap()
            .contains("Sent as urlencoded (Content-Type: application/x-www-form-urlencoded)"),
        "{sent}"
    );
    browser.screenshot(&shots.join("console-payment.png")).await;

    for view in ["sms", "calls"] {
        browser.goto(&format!("{base}_emulator/ui#{view}")).await;
        browser
            .wait_for(
                "the view drawn",
                &format!("document.querySelector('#{}') && document.querySelector('#{0}').children.length > 0", if view == "sms" { "inbox" } else { view }),
                WAIT,
            )
            .await;
        browser
            .screenshot(&shots.join(format!("console-{view}.png")))
            .await;
    }

    // Phone width: nothing wider than the screen but the tables' own scroll areas.
    browser.viewport(390, 844, true).await;
    browser.goto(&format!("{base}_emulator/ui#payments")).await;
    browser
        .wait_for(
            "rows at phone width",
            "document.querySelectorAll('#payments tbody tr').length === 3",
            WAIT,
        )
        .await;
    let overflow = browser
        .eval("document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(overflow, Value::from(true), "the page fits a 390 px screen");
    browser
        .screenshot(&shots.join("console-payments-phone.png"))
        .await;

    // Reset from the page (the confirmation accepted).
    browser
        .eval("window.confirm = () => true; document.querySelector('#reset').click(); true")
        .await;
    browser
        .wait_for(
            "the list emptied",
            "document.querySelector('#payments .empty')",
            WAIT,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_sent_in_every_field_stays_text() {
    let _turn = one_at_a_time().await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    let emulator = emulator();
    let base = emulator.base_url();
    const XSS: &str = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=1>";
    let long = format!("{XSS} \"'&");
    let (_, init) = call(
        &emulator,
        "/init_payment.php",
        &[
            ("pg_order_id", "<img src=x onerror=window.__pwned=1>"),
            ("pg_amount", "5"),
            ("pg_description", &long),
            ("pg_user_phone", XSS),
            ("pg_user_contact_email", XSS),
            ("pg_param1", XSS),
            (
                "pg_result_url",
                &format!("http://127.0.0.1:9/<script>x</script>?{XSS}"),
            ),
            ("pg_success_url", "http://127.0.0.1:9/ok.php?a=<script>"),
            ("pg_payment_method", "mobile_commerce"),
        ],
    )
    .await;
    let id = init
        .get("pg_payment_id")
        .expect("an id despite the markup")
        .to_owned();
    // A refused call whose hint repeats every field, markup and all; and the failed pay
    // (insufficient funds) sends the result callback to the marked-up URL.
    post(
        &emulator,
        "/mfs/pay",
        &[
            ("pg_merchant_id".into(), "552170".into()),
            ("pg_payment_id".into(), id.clone()),
            ("pg_abonent_phone".into(), XSS.into()),
            ("pg_salt".into(), XSS.into()),
            ("pg_sig".into(), XSS.into()),
        ],
    )
    .await;
    call(
        &emulator,
        "/mfs/pay",
        &[("pg_payment_id", &id), ("pg_abonent_phone", "77017777703")],
    )
    .await;
    let redirect = init.get("pg_redirect_url").unwrap().to_owned();

    let views = [
        format!("{base}_emulator/ui#payments"),
        format!("{base}_emulator/ui#payment/{id}"),
        format!("{base}_emulator/ui#calls"),
        format!("{base}_emulator/ui#callbacks"),
        redirect,
    ];
    for url in &views {
        browser.goto("about:blank").await;
        browser.goto(url).await;
        browser
            .wait_for(
                "the markup shown as text",
                "document.body && document.body.textContent.includes('onerror=window.__pwned=1')",
                WAIT,
            )
            .await;
        // Open every expandable part, so nothing hidden escapes the check.
        browser
            .eval("document.querySelectorAll('details').forEach(d => d.open = true); true")
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pwned = browser.eval("typeof window.__pwned").await;
        assert_eq!(pwned, Value::from("undefined"), "markup ran on {url}");
        let injected = browser
            .eval("document.querySelectorAll('main script, main img[src=x]').length")
            .await;
        assert_eq!(injected, Value::from(0), "markup became elements on {url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_pages_filters_shows_callbacks_clears_faults_and_works_from_the_keyboard() {
    let _turn = one_at_a_time().await;
    let Some(mut browser) = Browser::launch().await else {
        return;
    };
    let emulator = emulator();
    let base = emulator.base_url();
    let shots = screenshots();
    let (shop, _) = merchant_site().await;
    // 26 payments waiting, and one charged at once whose result callback goes to a merchant
    // page that answers HTML, not the callback contract: refused, then retried.
    for i in 0..26 {
        call(
            &emulator,
            "/init_payment.php",
            &[
                ("pg_order_id", &format!("B-{i}")),
                ("pg_amount", "5"),
                ("pg_description", "Top-up"),
            ],
        )
        .await;
    }
    let (_, init) = call(
        &emulator,
        "/init_payment.php",
        &[
            ("pg_order_id", "B-paid"),
            ("pg_amount", "700"),
            ("pg_description", "Annual plan"),
            ("pg_result_url", &format!("{shop}/callback/result.php")),
        ],
    )
    .await;
    let paid = init.get("pg_payment_id").unwrap().to_owned();
    call(
        &emulator,
        "/mfs/pay",
        &[
            ("pg_payment_id", &paid),
            ("pg_abonent_phone", "77017777701"),
        ],
    )
    .await;

    browser.viewport(1280, 800, false).await;
    browser.goto(&format!("{base}_emulator/ui#payments")).await;
    let rows = "document.querySelectorAll('#payments tbody tr').length";
    browser
        .wait_for("a full first page", &format!("{rows} === 25"), WAIT)
        .await;
    let first = browser
        .eval("document.querySelector('#payments tbody tr').getAttribute('data-payment-id')")
        .await;
    assert_eq!(first, Value::from(paid.as_str()), "newest first");
    browser
        .eval("[...document.querySelectorAll('.pager button')].find(b => b.textContent === 'Older').click(); true")
        .await;
    browser
        .wait_for("the second page", &format!("{rows} === 2"), WAIT)
        .await;
    browser
        .eval("[...document.querySelectorAll('.pager button')].find(b => b.textContent === 'Newer').click(); true")
        .await;
    browser
        .wait_for("the first page again", &format!("{rows} === 25"), WAIT)
        .await;
    browser
        .eval("document.querySelector('#filter-state').value = 'success'; true")
        .await;
    browser.click(".filters button[type=submit]").await;
    browser
        .wait_for(
            "only the paid payment",
            &format!(
                "{rows} === 1 && document.querySelector('#payments tbody tr').getAttribute('data-payment-id') === '{paid}'"
            ),
            WAIT,
        )
        .await;

    // The callbacks: each attempt, the merchant's reply judged against the contract, retries.
    browser.goto(&format!("{base}_emulator/ui#callbacks")).await;
    let text = browser
        .wait_for(
            "a refused callback and its retry",
            "document.querySelector('#callbacks').innerText.includes('(retry)') && document.querySelector('#callbacks').innerText",
            WAIT,
        )
        .await;
    let text = text.as_str().unwrap();
    assert!(text.contains("broke the contract"), "{text}");
    assert!(text.contains(&format!("payment {paid}")), "{text}");
    browser
        .eval("document.querySelector('#callbacks details').open = true; true")
        .await;
    let opened = browser
        .eval("document.querySelector('#callbacks details[open]').innerText")
        .await;
    let opened = opened.as_str().unwrap();
    assert!(opened.contains("/callback/result.php"), "{opened}");
    assert!(
        opened.contains("pg_payment_id"),
        "the fields sent: {opened}"
    );
    assert!(
        opened.contains("Thank you (merchant page)"),
        "the reply: {opened}"
    );
    browser
        .screenshot(&shots.join("console-callbacks.png"))
        .await;

    // A standing fault rule, cleared from the page.
    browser.goto(&format!("{base}_emulator/ui#faults")).await;
    browser
        .wait_for(
            "the fault form",
            "document.querySelector('#fault-form')",
            WAIT,
        )
        .await;
    browser.type_into("#fault-times", "always").await;
    browser.click("#fault-form button[type=submit]").await;
    browser
        .wait_for(
            "the rule listed",
            "document.querySelector('#faults tbody tr')",
            WAIT,
        )
        .await;
    let (http, _) = call(&emulator, "/get_status3.php", &[("pg_payment_id", &paid)]).await;
    assert_eq!(http, 500, "the rule fires");
    browser.click("#faults button.danger").await;
    browser
        .wait_for(
            "no rules left",
            "document.querySelector('#faults .empty')",
            WAIT,
        )
        .await;
    let (http, _) = call(&emulator, "/get_status3.php", &[("pg_payment_id", &paid)]).await;
    assert_eq!(http, 200, "cleared from the page");

    // The keyboard alone: Tab to the skip link, then through the views; Enter opens one and
    // moves the focus to it. A fresh page, focused as a window in front would be.
    browser
        .call(
            "Emulation.setFocusEmulationEnabled",
            serde_json::json!({ "enabled": true }),
        )
        .await;
    browser.goto("about:blank").await;
    // No fragment: `#payments` would start the Tab order at the element of that id.
    browser.goto(&format!("{base}_emulator/ui")).await;
    browser
        .wait_for(
            "the page",
            "document.querySelector('#payments tbody tr')",
            WAIT,
        )
        .await;
    browser.press("Tab").await;
    let focused = browser
        .eval("document.activeElement.tagName + '.' + document.activeElement.className")
        .await;
    assert_eq!(focused, Value::from("A.skip"), "the skip link comes first");
    for _ in 0..2 {
        browser.press("Tab").await;
    }
    let focused = browser.eval("document.activeElement.textContent").await;
    assert_eq!(focused, Value::from("SMS inbox"));
    browser.press("Enter").await;
    browser
        .wait_for(
            "the inbox opened from the keyboard",
            "location.hash === '#sms' && document.querySelector('#inbox') && document.activeElement.id === 'view'",
            WAIT,
        )
        .await;
}

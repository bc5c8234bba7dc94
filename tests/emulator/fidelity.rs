//! Fidelity: where the real gateway's behaviour is known (../shared/freedompay-mobile-balance.md,
//! "Seen from the real gateway"), the emulator does what it does.

use freedompay_harness::emulator::DEMO_MERCHANT_ID;
use freedompay_harness::gateway::signature::sign;

use crate::support::*;

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

/// A key sent twice counts once, with its last value, as PHP reads a form: the signature is
/// over the last value, and that is the value the payment takes — in a form and in multipart.
#[tokio::test]
async fn a_repeated_form_key_counts_once_with_its_last_value() {
    let gw = Gateway::start();
    let mut f = fields(&[
        ("pg_merchant_id", DEMO_MERCHANT_ID),
        ("pg_amount", "150"),
        ("pg_description", "twice"),
        ("pg_salt", "s"),
    ]);
    f.push("pg_sig", sign("init_payment.php", &f, &gw.key).as_str());
    let mut pairs = vec![("pg_amount".to_owned(), "1".to_owned())];
    pairs.extend(f.to_form_pairs());
    for multipart in [false, true] {
        let request = gw.client.post(gw.url("/init_payment.php"));
        let request = if multipart {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in pairs.clone() {
                form = form.text(k, v);
            }
            request.multipart(form)
        } else {
            request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_encode(&pairs))
        };
        let body = request.send().await.unwrap().text().await.unwrap();
        let init = Answer {
            status: 200,
            content_type: String::new(),
            hint: String::new(),
            body,
        };
        assert_eq!(init.get("pg_status"), "ok", "{}", init.body);
        let status = gw.status(&init.get("pg_payment_id")).await;
        assert_eq!(status.get("pg_amount"), "150", "{}", status.body);
    }
}

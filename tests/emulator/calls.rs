//! Every call and flow: the SMS flow end to end, every test phone, resend limits, wrong and
//! expired codes, wrong states, operators, missing fields, status by order id.

use std::collections::HashSet;
use std::time::Duration;

use freedompay_harness::emulator::{Behaviour, ErrorKind, TEST_PHONES};

use crate::support::*;

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
    let gw = Gateway::with(
        config()
            .with_resend_limit(2)
            .with_resend_cooldown(Duration::from_millis(200)),
    );
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
    let gw = Gateway::with(config().with_code_lifetime(Duration::from_millis(100)));
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

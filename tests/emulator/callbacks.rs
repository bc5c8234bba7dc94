//! Result and check callbacks to the merchant: signed, in every method, retried with the same
//! message, and counted as unanswered when badly signed.

use std::time::{Duration, Instant};

use freedompay_harness::emulator::ErrorKind;
use freedompay_harness::gateway::signature::verify;

use crate::support::*;

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
            // The same contract `fph callback send` checks: this merchant keeps it.
            assert_eq!(log.matches("<contract>kept</contract>").count(), 3, "{log}");
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
    assert_eq!(
        log.matches("<failure>the merchant answered HTTP 500")
            .count(),
        2,
        "{log}"
    );
    assert_eq!(
        log.matches("<contract>FAIL  answers HTTP 200: HTTP 500")
            .count(),
        2,
        "{log}"
    );
}

#[tokio::test]
async fn badly_signed_replies_count_as_unanswered_until_retries_run_out() {
    let merchant = Merchant::start(behaves("ok", 0, false)).await;
    let gw = Gateway::with(config().with_callback_retries(2));
    let id = gw
        .init_with(&[("pg_result_url", &merchant.url("/result"))])
        .await;
    gw.pay(&id, "77077777701").await;
    merchant.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(merchant.seen().len(), 3, "one attempt and two retries");
    let (_, log) = gw.admin_get("/_emulator/callbacks").await;
    assert_eq!(
        log.matches("<contract>FAIL  pg_sig is valid for the URL's script name")
            .count(),
        3,
        "{log}"
    );
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

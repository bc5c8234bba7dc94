//! Fault injection through the admin API: HTTP errors, latency, malformed and truncated
//! answers, dropped connections, and the validation of fault parameters.

use std::time::{Duration, Instant};

use freedompay_harness::emulator::{DEMO_MERCHANT_ID, ErrorKind};
use freedompay_harness::gateway::signature::sign;
use freedompay_harness::gateway::xml::Document;

use crate::support::*;

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

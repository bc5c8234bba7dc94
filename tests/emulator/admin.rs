//! The admin API and the emulator at its limits: paging, slow clients, listing, reset, seeds.

use std::time::Duration;

use freedompay_harness::emulator::{Emulator, ErrorKind};
use freedompay_harness::gateway::xml::Document;

use crate::support::*;

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
    let emulator = Emulator::start(
        config()
            .with_header_read_timeout(Duration::from_millis(300))
            .with_worker_threads(1),
    )
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
        let gw = Gateway::with(config().with_seed(2024));
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

//! Concurrency, lifecycle and configuration: many flows at once, a full store, shutdown, ports
//! and configuration files.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use freedompay_harness::emulator::{Emulator, EmulatorConfig, ErrorKind};
use freedompay_harness::gateway::SecretKey;
use freedompay_harness::gateway::signature::sign;

use crate::support::*;

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
    let gw = Gateway::with(config().with_max_payments(2));
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

    let emulator = Emulator::start(config().with_bind(addr)).unwrap();
    drop(emulator);
    std::net::TcpListener::bind(addr).expect("port released by drop");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = Emulator::start(config().with_bind(addr)).unwrap_err();
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

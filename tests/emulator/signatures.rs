//! Every request encoding, signatures both ways, unknown merchants, unreadable and hostile
//! requests, and the body limit.

use std::time::Duration;

use freedompay_harness::emulator::{DEMO_MERCHANT_ID, DEMO_SECRET_KEY, ErrorKind};
use freedompay_harness::gateway::SecretKey;
use freedompay_harness::gateway::signature::sign;
use freedompay_harness::gateway::xml::Document;

use crate::support::*;

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

/// Bad input: a JSON body that is not an object of fields, or nests deeper than a field may,
/// gets the very answer a broken form gets — HTTP 400, `malformed_request`, unsigned — with
/// what was wrong only in the hint.
#[tokio::test]
async fn json_that_is_not_an_object_or_nests_too_deep_is_answered_as_a_broken_form() {
    let gw = Gateway::start();
    let post = |content_type: &'static str, body: String| {
        gw.client
            .post(gw.url("/init_payment.php"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let broken_form = post("application/x-www-form-urlencoded", "a[b=1".into())
        .await
        .unwrap();
    assert_eq!(broken_form.status().as_u16(), 400);
    let expected = broken_form.text().await.unwrap();
    let doc = Document::parse_response(expected.as_bytes()).unwrap();
    assert_eq!(
        doc.text("pg_error_code"),
        Some(code(ErrorKind::MalformedRequest).to_string().as_str())
    );
    assert_eq!(doc.text("pg_sig"), None);
    assert_eq!(doc.text("pg_salt"), None);
    let nested = |levels: usize| {
        format!(
            "{{\"pg_merchant_id\": \"{DEMO_MERCHANT_ID}\", \"pg_a\": {}1{}}}",
            "{\"x\": ".repeat(levels),
            "}".repeat(levels)
        )
    };
    for (body, why) in [
        (
            "[{\"pg_merchant_id\": \"552170\"}]".to_owned(),
            "must be an object",
        ),
        ("\"pg_merchant_id=552170\"".to_owned(), "must be an object"),
        ("552170".to_owned(), "must be an object"),
        ("null".to_owned(), "must be an object"),
        (
            "{\"pg_merchant_id\": ".to_owned(),
            "failed to read the JSON body",
        ),
        (nested(9), "nests deeper than 8 levels"),
        (nested(100_000), "failed to read the JSON body"),
        (
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            "failed to read the JSON body",
        ),
    ] {
        let shown: String = body.chars().take(40).collect();
        let r = post("application/json", body).await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "{shown}");
        let hint = hint_of(&r);
        assert!(hint.contains(why), "{shown}: {hint}");
        assert_eq!(r.text().await.unwrap(), expected, "{shown}");
    }
    // Nested to the limit, it is read like a form.
    let at_limit = gw
        .client
        .post(gw.url("/init_payment.php"))
        .header("content-type", "application/json")
        .body(nested(8))
        .send()
        .await
        .unwrap();
    let answer = at_limit.text().await.unwrap();
    assert!(
        answer.contains("<pg_error_code>9998</pg_error_code>"),
        "{answer}"
    );
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
            "application/json",
            "application/octet-stream",
        ][i % 5];
        let r = post(content_type, body)
            .await
            .expect("an answer, whatever was sent");
        assert!(r.status().as_u16() < 500, "{}", r.status());
    }
    gw.init().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_a_clean_xml_error() {
    let gw = Gateway::with(config().with_body_limit(4096));
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

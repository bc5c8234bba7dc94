//! `fph sign` and `fph verify`.

use crate::support::Dir;

const INIT_FIELDS: [&str; 4] = [
    "pg_amount=10000.00",
    "pg_merchant_id=test-merchant",
    "pg_order_id=order-1",
    "pg_salt=abc123",
];

#[test]
fn sign_prints_the_documented_signature() {
    let dir = Dir::new();
    let run = dir
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", "s3cr3t")
        .args(["sign", "--script", "init_payment.php"])
        .args(INIT_FIELDS)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "63c3106658e57e192893889e99f5146b\n");
}

#[test]
fn sign_explain_shows_the_string_without_the_secret() {
    let dir = Dir::new();
    let run = dir
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", "s3cr3t")
        .args([
            "sign",
            "--explain",
            "--script",
            "https://test-api.freedompay.kz/init_payment.php",
        ])
        .args(INIT_FIELDS)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "init_payment.php;10000.00;test-merchant;order-1;abc123;***\n63c3106658e57e192893889e99f5146b\n"
    );
    assert!(!run.stdout.contains("s3cr3t"));
}

#[test]
fn sign_reads_the_secret_from_a_file() {
    let dir = Dir::new();
    let secret = dir.write("secret.txt", "s3cr3t\n");
    let run = dir
        .fph()
        .args(["sign", "--script", "init_payment.php", "--secret-file"])
        .arg_path(&secret)
        .args(INIT_FIELDS)
        .run();
    assert_eq!(
        run.stdout, "63c3106658e57e192893889e99f5146b\n",
        "{}",
        run.stderr
    );
}

#[test]
fn sign_without_a_secret_is_bad_input() {
    let run = Dir::new()
        .fph()
        .args(["sign", "--script", "pay", "pg_payment_id=1"])
        .run();
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: no secret key: set FREEDOMPAY_SECRET_KEY or pass --secret-file FILE\n"
    );
}

#[test]
fn sign_with_a_malformed_field_is_bad_input() {
    let run = Dir::new()
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .args(["sign", "--script", "pay", "pg_payment_id"])
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`pg_payment_id`: expected FIELD=VALUE"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
}

#[test]
fn sign_with_an_unreadable_secret_file_is_bad_input() {
    let run = Dir::new()
        .fph()
        .args([
            "sign",
            "--script",
            "pay",
            "--secret-file",
            "missing.txt",
            "a=1",
        ])
        .run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.txt"), "{}", run.stderr);
}

const PAY_ANSWER: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response><pg_status>need_approve</pg_status><pg_payment_id>12345</pg_payment_id><pg_salt>Xy7</pg_salt><pg_sig>a2b940f7f0e7233a5b45d8f97e191e91</pg_sig></response>";

#[test]
fn verify_accepts_a_correctly_signed_answer() {
    let dir = Dir::new();
    dir.write("pay.xml", PAY_ANSWER);
    let run = dir
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", "Test_Secret_Key_123")
        .args(["verify", "--script", "pay", "pay.xml"])
        .run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "valid: pay.xml\n");
}

#[test]
fn verify_rejects_a_tampered_answer_and_explains() {
    let dir = Dir::new();
    dir.write("pay.xml", &PAY_ANSWER.replace("need_approve", "ok"));
    let run = dir
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", "Test_Secret_Key_123")
        .args(["verify", "--script", "pay", "pay.xml"])
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("signed string:      pay;12345;Xy7;ok;***"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Test_Secret_Key_123"));
}

#[test]
fn verify_says_when_the_file_is_not_xml() {
    let dir = Dir::new();
    dir.write("page.xml", "<html>502 Bad Gateway");
    let run = dir
        .fph()
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .args(["verify", "--script", "pay", "page.xml"])
        .run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("502 Bad Gateway"), "{}", run.stderr);
    assert!(run.stderr.contains("page.xml"), "{}", run.stderr);
}

//! The Freedom Pay `pg_sig` rule, for requests, responses and callbacks alike.
//!
//! 1. The script name is the last segment of the URL path (`/mfs/pay` → `pay`).
//! 2. Every field except `pg_sig`, empty ones included, sorted by name as bytes (PHP `ksort`).
//! 3. Nested values are flattened first: each child becomes `parent + key + position`, the
//!    position counted from 1 and written as three digits, recursively.
//! 4. `script;value1;value2;…;secret`, MD5, 32 lowercase hex digits.
//!
//! The rule reads any [`Signable`] message: request [`Fields`], or an answer's XML
//! [`Element`](super::Element) as it was parsed, so an answer is checked without being copied
//! into fields first.
//!
//! The secret lives in [`SecretKey`], which never prints itself: `Debug` and `Display` show
//! `***`, so a stray `{:?}` in a log or an error cannot leak it.

use std::borrow::Cow;
use std::fmt;

use md5::{Digest, Md5};

use super::fields::{FieldValue, Fields};

/// The name of the signature field, never part of the signed string.
pub const SIG_FIELD: &str = "pg_sig";

/// A merchant secret key. Only [`SecretKey::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for signing and for redaction scans only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A computed `pg_sig` value: 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(String);

impl Signature {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What checking a message's `pg_sig` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Valid,
    /// The message carries no `pg_sig`.
    Missing,
    /// The message's `pg_sig` is not the one its fields and the key give.
    Mismatch {
        expected: Signature,
        actual: String,
    },
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        matches!(self, Verification::Valid)
    }
}

/// The script name of a URL or path: its last path segment, query, fragment and trailing `/`
/// ignored. `https://h/mfs/pay?x=1` → `pay`; `init_payment.php` → `init_payment.php`.
pub fn script_name(url_or_path: &str) -> &str {
    let end = url_or_path.find(['?', '#']).unwrap_or(url_or_path.len());
    let path = url_or_path[..end].trim_end_matches('/');
    // Skip a scheme and host so `https://host` alone gives an empty name, not the host.
    let path = match path.find("://") {
        Some(i) => match path[i + 3..].find('/') {
            Some(j) => &path[i + 3 + j..],
            None => "",
        },
        None => path,
    };
    path.rsplit('/').next().unwrap_or("")
}

/// A message the `pg_sig` rule can read: its top-level fields, in order, each a text value
/// or a nested group of the same kind.
pub trait Signable {
    /// The top-level fields in message order, `pg_sig` included.
    fn signed_entries(&self) -> impl Iterator<Item = (&str, Entry<'_, Self>)>;

    /// The text of the first field with this name.
    fn signed_text(&self, name: &str) -> Option<&str> {
        match self.signed_entries().find(|(n, _)| *n == name)?.1 {
            Entry::Text(text) => Some(text),
            Entry::Group(_) => None,
        }
    }
}

/// One field of a [`Signable`] message.
pub enum Entry<'a, T: ?Sized> {
    Text(&'a str),
    Group(&'a T),
}

impl Signable for Fields {
    fn signed_entries(&self) -> impl Iterator<Item = (&str, Entry<'_, Self>)> {
        self.iter().map(|(name, value)| match value {
            FieldValue::Text(text) => (name, Entry::Text(text.as_str())),
            FieldValue::Nested(group) => (name, Entry::Group(group)),
        })
    }
}

/// The values in signing order: flattened, sorted by name as bytes, `pg_sig` left out.
pub fn ordered_values<T: Signable>(message: &T) -> Vec<&str> {
    // Top-level names are borrowed; only nested ones are built.
    let entries = message.signed_entries();
    let mut flat: Vec<(Cow<'_, str>, &str)> = Vec::with_capacity(entries.size_hint().0);
    for (name, entry) in entries {
        if name == SIG_FIELD {
            continue;
        }
        match entry {
            Entry::Text(text) => flat.push((Cow::Borrowed(name), text)),
            Entry::Group(group) => flatten_into(name, group, &mut flat),
        }
    }
    // A stable sort keeps repeated names in their given order, as PHP's ksort does for the
    // flattened array (whose keys are unique anyway thanks to the position suffix).
    flat.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    flat.into_iter().map(|(_, v)| v).collect()
}

fn flatten_into<'a, T: Signable>(
    parent: &str,
    group: &'a T,
    out: &mut Vec<(Cow<'a, str>, &'a str)>,
) {
    for (position, (key, entry)) in group.signed_entries().enumerate() {
        let name = format!("{parent}{key}{:03}", position + 1);
        match entry {
            Entry::Text(text) => out.push((Cow::Owned(name), text)),
            Entry::Group(inner) => flatten_into(&name, inner, out),
        }
    }
}

/// The string that is hashed, with the secret in last place.
fn canonical_string<T: Signable>(script: &str, message: &T, secret_part: &str) -> String {
    let values = ordered_values(message);
    let size = values.iter().map(|v| v.len() + 1).sum::<usize>();
    let mut s = String::with_capacity(script.len() + size + 1 + secret_part.len());
    s.push_str(script);
    for value in values {
        s.push(';');
        s.push_str(value);
    }
    s.push(';');
    s.push_str(secret_part);
    s
}

/// Signs `message` for `script` (a script name, path or URL) with `secret`.
pub fn sign<T: Signable>(script: &str, message: &T, secret: &SecretKey) -> Signature {
    let canonical = canonical_string(script_name(script), message, secret.expose());
    let digest = Md5::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(32);
    for byte in digest {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).expect("nibble"));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).expect("nibble"));
    }
    Signature(hex)
}

/// Checks the message's own `pg_sig` against its fields, in constant time.
pub fn verify<T: Signable>(script: &str, message: &T, secret: &SecretKey) -> Verification {
    let Some(actual) = message.signed_text(SIG_FIELD) else {
        return Verification::Missing;
    };
    let expected = sign(script, message, secret);
    if constant_time_eq(
        expected.as_str().as_bytes(),
        actual.to_ascii_lowercase().as_bytes(),
    ) {
        Verification::Valid
    } else {
        Verification::Mismatch {
            expected,
            actual: actual.to_owned(),
        }
    }
}

/// The canonical string with the secret shown as `***`: what `--explain` prints and what a
/// signature mismatch report shows, so a user can compare it with their own code's string.
pub fn explain<T: Signable>(script: &str, message: &T) -> String {
    canonical_string(script_name(script), message, "***")
}

/// Compares without an early exit, so the time taken says nothing about where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh `pg_salt`: 16 random digits and Latin letters.
pub fn fresh_salt() -> String {
    salt_from(&mut fastrand::Rng::new())
}

/// A `pg_salt` drawn from `rng`: the one salt generator, for callers that keep their own
/// generator (a seeded or replayed case draws its `salt()` values from its store's).
pub(crate) fn salt_from(rng: &mut fastrand::Rng) -> String {
    (0..16).map(|_| rng.alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields::from_assignments(pairs.iter().map(|(k, v)| format!("{k}={v}"))).unwrap()
    }

    fn key() -> SecretKey {
        SecretKey::new("Test_Secret_Key_123")
    }

    #[test]
    fn script_names_come_from_the_last_path_segment() {
        assert_eq!(script_name("/mfs/pay"), "pay");
        assert_eq!(script_name("/init_payment.php"), "init_payment.php");
        assert_eq!(script_name("init_payment.php"), "init_payment.php");
        assert_eq!(
            script_name("https://test-api.freedompay.kz/mfs/approve?x=1"),
            "approve"
        );
        assert_eq!(script_name("https://h/get_status3.php/"), "get_status3.php");
        assert_eq!(
            script_name("https://merchant.example/cb/result.php#frag"),
            "result.php"
        );
        assert_eq!(script_name("https://merchant.example"), "");
    }

    #[test]
    fn vector_init_with_text_merchant_id() {
        let f = fields(&[
            ("pg_order_id", "order-1"),
            ("pg_merchant_id", "test-merchant"),
            ("pg_amount", "10000.00"),
            ("pg_salt", "abc123"),
        ]);
        assert_eq!(
            explain("init_payment.php", &f),
            "init_payment.php;10000.00;test-merchant;order-1;abc123;***"
        );
        assert_eq!(
            sign("init_payment.php", &f, &SecretKey::new("s3cr3t")).as_str(),
            "63c3106658e57e192893889e99f5146b"
        );
    }

    #[test]
    fn vector_pay() {
        let f = fields(&[
            ("pg_merchant_id", "552170"),
            ("pg_payment_id", "12345"),
            ("pg_abonent_phone", "77077777777"),
            ("pg_payment_system_code", "KCELLKZT"),
            ("pg_salt", "molbulak"),
        ]);
        assert_eq!(
            sign("/mfs/pay", &f, &key()).as_str(),
            "4a9e70beb0772efe1f0613bee1e4286a"
        );
    }

    #[test]
    fn vector_approve_keeps_leading_zeros() {
        let f = fields(&[
            ("pg_merchant_id", "552170"),
            ("pg_payment_id", "12345"),
            ("pg_approval_code", "077587"),
            ("pg_salt", "molbulak"),
        ]);
        assert_eq!(
            explain("approve", &f),
            "approve;077587;552170;12345;molbulak;***"
        );
        assert_eq!(
            sign("approve", &f, &key()).as_str(),
            "a3e91c53413ca2019027adb725344833"
        );
    }

    fn init_fields() -> Fields {
        fields(&[
            ("pg_merchant_id", "552170"),
            ("pg_amount", "25"),
            ("pg_description", "test"),
            ("pg_order_id", "23"),
            ("pg_payment_method", "mobile_commerce"),
            ("pg_salt", "molbulak"),
        ])
    }

    #[test]
    fn vector_init() {
        assert_eq!(
            sign("init_payment.php", &init_fields(), &key()).as_str(),
            "7bf4ce71f8d4b5a81cd749c5f96039a9"
        );
    }

    #[test]
    fn vector_init_with_receipt_positions_flattens_nested_values() {
        let mut f = init_fields();
        for (k, v) in [
            ("count", "1"),
            ("name", "product name"),
            ("tax_type", "3"),
            ("price", "25"),
        ] {
            f.insert_form_key(&format!("pg_receipt_positions[0][{k}]"), v)
                .unwrap();
        }
        assert_eq!(
            explain("init_payment.php", &f),
            "init_payment.php;25;test;552170;23;mobile_commerce;1;product name;25;3;molbulak;***"
        );
        assert_eq!(
            sign("init_payment.php", &f, &key()).as_str(),
            "589f98fa64060ea25e58c9261dadbbf5"
        );
    }

    #[test]
    fn vector_status() {
        let f = fields(&[
            ("pg_merchant_id", "552170"),
            ("pg_payment_id", "12345"),
            ("pg_salt", "molbulak"),
        ]);
        assert_eq!(
            sign("get_status3.php", &f, &key()).as_str(),
            "ac4a6d8f21d5015c415b644d27d449a1"
        );
    }

    #[test]
    fn vector_pay_response_verifies() {
        let mut f = fields(&[
            ("pg_status", "need_approve"),
            ("pg_payment_id", "12345"),
            ("pg_salt", "Xy7"),
        ]);
        assert_eq!(
            sign("pay", &f, &key()).as_str(),
            "a2b940f7f0e7233a5b45d8f97e191e91"
        );
        f.push("pg_sig", "a2b940f7f0e7233a5b45d8f97e191e91");
        assert_eq!(verify("pay", &f, &key()), Verification::Valid);
        f.set("pg_sig", "A2B940F7F0E7233A5B45D8F97E191E91");
        assert!(
            verify("pay", &f, &key()).is_valid(),
            "hex case does not matter"
        );
    }

    #[test]
    fn verify_reports_missing_and_mismatched_signatures() {
        let mut f = init_fields();
        assert_eq!(
            verify("init_payment.php", &f, &key()),
            Verification::Missing
        );
        f.push("pg_sig", "00000000000000000000000000000000");
        let Verification::Mismatch { expected, actual } = verify("init_payment.php", &f, &key())
        else {
            panic!("expected a mismatch");
        };
        assert_eq!(expected.as_str(), "7bf4ce71f8d4b5a81cd749c5f96039a9");
        assert_eq!(actual, "00000000000000000000000000000000");
        f.set("pg_amount", "26");
        f.set("pg_sig", "7bf4ce71f8d4b5a81cd749c5f96039a9");
        assert!(
            !verify("init_payment.php", &f, &key()).is_valid(),
            "a changed value fails"
        );
    }

    #[test]
    fn field_order_does_not_change_the_signature() {
        let a = init_fields();
        let mut pairs = a.to_form_pairs();
        pairs.reverse();
        let b = Fields::from_form_pairs(pairs).unwrap();
        assert_eq!(
            sign("init_payment.php", &a, &key()),
            sign("init_payment.php", &b, &key())
        );
    }

    #[test]
    fn the_signature_field_itself_is_never_signed() {
        let mut f = init_fields();
        let before = explain("init_payment.php", &f);
        f.push("pg_sig", "whatever");
        assert_eq!(explain("init_payment.php", &f), before);
    }

    #[test]
    fn empty_values_are_kept() {
        let f = fields(&[("pg_a", ""), ("pg_b", "x"), ("pg_salt", "s")]);
        assert_eq!(explain("pay", &f), "pay;;x;s;***");
    }

    #[test]
    fn names_sort_as_bytes_not_as_text() {
        // Uppercase sorts before lowercase and `_` (0x5f) between them, as PHP's ksort does.
        let f = fields(&[("b", "3"), ("_", "2"), ("B", "1"), ("a1", "5"), ("a", "4")]);
        assert_eq!(explain("x", &f), "x;1;2;4;5;3;***");
    }

    #[test]
    fn nested_arrays_flatten_recursively_with_positions() {
        let mut f = Fields::new();
        for (k, v) in [
            ("items[0][name]", "tea"),
            ("items[0][tags][0]", "hot"),
            ("items[0][tags][1]", "green"),
            ("items[1][name]", "cake"),
            ("pg_salt", "s"),
        ] {
            f.insert_form_key(k, v).unwrap();
        }
        // items0001name001, items0001tags002 0001/1002, items1002name001
        assert_eq!(explain("x", &f), "x;tea;hot;green;cake;s;***");
        let flat: Vec<_> = ordered_values(&f);
        assert_eq!(flat, ["tea", "hot", "green", "cake", "s"]);
    }

    #[test]
    fn utf8_values_are_signed_as_their_bytes() {
        let f = fields(&[
            ("pg_description", "Оплата заказа №5 — ok"),
            ("pg_salt", "s"),
        ]);
        let expected = {
            let digest = Md5::digest("init_payment.php;Оплата заказа №5 — ok;s;k".as_bytes());
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(
            sign("init_payment.php", &f, &SecretKey::new("k")).as_str(),
            expected
        );
    }

    #[test]
    fn secrets_never_print_themselves() {
        let k = SecretKey::new("hunter2");
        assert_eq!(format!("{k}"), "***");
        assert!(!format!("{k:?}").contains("hunter2"));
    }

    #[test]
    fn salts_are_fresh_alphanumerics() {
        let a = fresh_salt();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, fresh_salt());
    }
}

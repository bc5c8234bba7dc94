//! Property tests (proptest) for the parsers user and gateway input goes through: the XML
//! answers (`gateway::xml`), the `pg_sig` flattening and signing (`gateway::signature`,
//! `gateway::fields`), the emulator's form and multipart request bodies
//! (`emulator::request`) and scenario loading. Each property holds for any input: nothing
//! panics, and what is written reads back the same.
//!
//! CI runs 64 cases per property (`PROPTEST_CASES` overrides it);
//! `scripts/proptest-long.sh` runs many more.

use proptest::prelude::*;

#[cfg(feature = "emulator")]
use crate::emulator::request::{form_decode, plain_multipart};
#[cfg(feature = "emulator")]
use crate::gateway::encoding::form_encode;
use crate::gateway::signature::{self, SecretKey, Verification};
use crate::gateway::{Document, Fields};

/// 64 cases unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Field names as the gateway spells them.
fn name() -> impl Strategy<Value = String> {
    "pg_[a-z_]{1,12}"
}

/// Values: any text an answer may carry (markup characters, quotes, non-Latin letters),
/// without the surrounding whitespace an XML reader may fold and without control characters
/// XML 1.0 cannot hold.
fn value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&\"'=;./:?%+ЁёАЯа-я€-]{0,24}".prop_map(|v| v.trim().to_owned())
}

/// Distinct names with values.
fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map(name(), value(), 0..12)
        .prop_map(|map| map.into_iter().collect())
}

fn to_fields(pairs: &[(String, String)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn xml_parsing_any_bytes_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Document::parse(&body);
        let _ = Document::parse_response(&body);
    }

    #[test]
    fn xml_parsing_mangled_answers_never_panics(
        pairs in fields(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let text = Document::response(&to_fields(&pairs)).pretty().into_bytes();
        let at = cut.index(text.len() + 1);
        let _ = Document::parse_response(&text[..at]);
        let mut spliced = text.clone();
        spliced.insert(at, byte);
        let _ = Document::parse_response(&spliced);
    }

    #[test]
    fn xml_answers_read_back_as_written(pairs in fields()) {
        let written = to_fields(&pairs);
        let text = Document::response(&written).pretty();
        let read = Document::parse_response_str(&text).expect("a written answer parses");
        prop_assert_eq!(read.to_fields(), written);
    }

    #[test]
    fn signatures_ignore_field_order_and_pg_sig_and_verify(
        pairs in fields(),
        script in "[a-z_]{1,10}(\\.php)?",
        key in "[ -~]{1,20}",
        seed in any::<u64>(),
    ) {
        let key = SecretKey::new(key);
        let fields = to_fields(&pairs);
        let mut shuffled = pairs.clone();
        fastrand::Rng::with_seed(seed).shuffle(&mut shuffled);
        let sig = signature::sign(&script, &fields, &key);
        let reordered = signature::sign(&script, &to_fields(&shuffled), &key);
        prop_assert_eq!(reordered.as_str(), sig.as_str());
        let mut signed = to_fields(&shuffled);
        signed.push("pg_sig", sig.as_str());
        let with_sig = signature::sign(&script, &signed, &key);
        prop_assert_eq!(with_sig.as_str(), sig.as_str());
        prop_assert!(matches!(signature::verify(&script, &signed, &key), Verification::Valid));
        // Through XML and back, the answer still verifies.
        let answer = Document::response(&signed).pretty();
        let read = Document::parse_response_str(&answer).unwrap();
        prop_assert!(signature::verify(&script, &read.root, &key).is_valid());
    }

    #[test]
    fn nested_fields_flatten_to_every_leaf_once(
        rows in proptest::collection::vec(
            proptest::collection::btree_map("[a-z]{1,6}", "[a-z0-9 ]{0,8}", 1..4), 0..4),
        plain in fields(),
    ) {
        let mut pairs: Vec<(String, String)> = plain.clone();
        let mut leaves = plain.len();
        for (index, row) in rows.iter().enumerate() {
            for (key, value) in row {
                pairs.push((format!("pg_rows[{index}][{key}]"), value.clone()));
                leaves += 1;
            }
        }
        let fields = Fields::from_form_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .expect("well-formed keys");
        let values = signature::ordered_values(&fields);
        prop_assert_eq!(values.len(), leaves);
        // The wire form reads back to the same fields.
        let again = Fields::from_form_pairs(fields.to_form_pairs()).unwrap();
        prop_assert_eq!(again, fields);
    }

    #[test]
    #[cfg(feature = "emulator")]
    fn form_bodies_round_trip_and_any_bytes_decode_or_fail(
        pairs in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,16}"), 0..8),
        junk in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let body = form_encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let decoded = form_decode(body.as_bytes()).expect("an encoded form decodes");
        prop_assert_eq!(decoded, pairs);
        let _ = form_decode(&junk);
    }

    #[test]
    #[cfg(feature = "emulator")]
    fn multipart_bodies_read_back_or_are_left_to_the_general_parser(
        pairs in proptest::collection::vec(("[a-z_\\[\\]0-9]{1,12}", "\\PC{0,24}"), 1..6),
        boundary in "[a-zA-Z0-9-]{8,30}",
        junk in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let mut body = String::new();
        for (name, value) in &pairs {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        // A value holding the boundary cannot be read plainly; anything else must be.
        if !pairs.iter().any(|(_, v)| v.contains(&boundary) || v.starts_with('\u{feff}')) {
            prop_assert_eq!(plain_multipart(&content_type, body.as_bytes()), Some(pairs.clone()));
        }
        let _ = plain_multipart(&content_type, &junk);
    }

    #[test]
    fn scenario_loading_any_text_never_panics(text in "\\PC{0,400}") {
        let _ = crate::scenario::load_str(std::path::Path::new("s.yaml"), &text);
    }

    #[test]
    fn scenario_loading_mangled_scenarios_locates_every_error(
        at in any::<prop::sample::Index>(),
        insert in prop::sample::select(vec![":", "{", "[", "'", "\"", "\t", "- ", "{{", "}}", "\n", "#", "&a", "*a", "!!", "|", "%", "\u{0}", "é"]),
    ) {
        let mut text = String::from(SCENARIO);
        let mut index = at.index(text.len() + 1);
        while !text.is_char_boundary(index) {
            index -= 1;
        }
        text.insert_str(index, insert);
        if let Err(error) = crate::scenario::load_str(std::path::Path::new("s.yaml"), &text) {
            let lines = text.lines().count().max(1);
            let (_, line, _) = error.location();
            prop_assert!(line <= lines + 1, "line {} of {}: {}", line, lines, error.render_plain());
        }
    }
}

/// A valid scenario the mangling property starts from.
const SCENARIO: &str = r#"name: Status of a payment
vars: { amount: "150.00" }
matrix:
  - { operator: KCELLKZT, phone: "77017777777" }
  - { operator: ACTIVKZT, phone: "77027777777" }
steps:
  - id: init
    call: init
    form: { pg_amount: "{{ amount }}", pg_description: "via {{ operator }}" }
    expect: { pg_status: ok, pg_payment_id: { matches: '^\d+$' } }
    capture: { payment_id: pg_payment_id }
  - id: status
    call: status
    form: { pg_payment_id: "{{ payment_id }}" }
    poll: { until: { pg_payment_status: success }, attempts: 3, interval: 10ms }
"#;

//! The secret guard: the one check every artifact of a run passes before it is written or
//! printed — cassettes, `.new` proposals, the human, JSON and JUnit reports, error messages.
//!
//! A [`SecretGuard`] is built once per run from what must never leave the machine: the
//! merchant's secret key (from the environment) and the password of a target URL's userinfo
//! (`https://user:password@host`). It finds each of them in every form an answer, a form
//! field or an error could carry it:
//!
//! - as text: raw, URL-encoded (any mix of `%XX`, either case, `+` for a space), XML-escaped
//!   (named or numeric entities), JSON/YAML-escaped (`\"`, `\uXXXX`) — one pattern that lets
//!   every character of the secret appear in any of its spellings;
//! - base64 (standard and URL-safe alphabets), at each of the three alignments the secret can
//!   have inside a longer encoded text (`Basic dXNlcjpzM2NyM3Q=` encodes `user:s3cr3t`);
//! - hex, lower or upper case.
//!
//! Each occurrence is replaced by [`PLACEHOLDER`], and the guard remembers what it found
//! (which secret, which form) so the run can warn. The guard never restores anything: a
//! secret is not a redacted value to put back on replay, it must simply not be there.
//!
//! [`mask_config_secrets`] is its counterpart for files that are shown back to the user in
//! diagnostics (`harness.yaml`, the emulator's configuration): values that are secrets by
//! their key are crossed out, byte for byte, so the spans of the diagnostic stay right.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use regex::{Captures, Regex};

use crate::gateway::SecretKey;

/// What a secret is replaced by.
pub const PLACEHOLDER: &str = "[REDACTED]";

/// Encoded forms shorter than this are not searched for: a two-character base64 fragment
/// would match everywhere. The secret's text forms are always searched.
const MIN_ENCODED: usize = 6;

/// Finds and replaces the run's secrets in any text. Cheap to clone (the state is shared, so
/// what one clone finds, every clone reports); an empty guard does nothing.
#[derive(Clone, Default)]
pub struct SecretGuard {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    /// Every form of every secret, one alternative each, longest secret first.
    any: Regex,
    /// For each capture group of `any`: which secret, which encoding.
    groups: Vec<(usize, Encoding)>,
    /// What each secret is, for the warning: "the merchant secret key".
    labels: Vec<String>,
    /// The secrets themselves, to tell a raw match from an escaped one.
    raw: Vec<String>,
    /// (secret index, form name) of everything found so far.
    found: Mutex<BTreeSet<(usize, &'static str)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Text,
    Base64,
    Hex,
}

impl fmt::Debug for SecretGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Some(inner) => write!(f, "SecretGuard({})", inner.labels.join(", ")),
            None => f.write_str("SecretGuard(none)"),
        }
    }
}

impl SecretGuard {
    /// A guard for `(label, secret)` pairs; empty secrets are ignored.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> SecretGuard {
        let mut secrets: Vec<(&str, &str)> =
            secrets.into_iter().filter(|(_, s)| !s.is_empty()).collect();
        if secrets.is_empty() {
            return SecretGuard::default();
        }
        // Leftmost-first matching: at one position the longer secret (`user:password`) wins
        // over a shorter one it contains (`password`).
        secrets.sort_by_key(|(_, s)| std::cmp::Reverse(s.len()));
        let mut alternatives = Vec::new();
        let mut groups = Vec::new();
        for (index, (_, secret)) in secrets.iter().enumerate() {
            alternatives.push(format!("({})", text_pattern(secret)));
            groups.push((index, Encoding::Text));
            let base64 = base64_fragments(secret.as_bytes());
            if !base64.is_empty() {
                let escaped: Vec<String> = base64.iter().map(|f| regex::escape(f)).collect();
                alternatives.push(format!("({})", escaped.join("|")));
                groups.push((index, Encoding::Base64));
            }
            let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
            if hex.len() >= MIN_ENCODED {
                alternatives.push(format!("((?i:{hex}))"));
                groups.push((index, Encoding::Hex));
            }
        }
        let any = Regex::new(&alternatives.join("|")).expect("escaped literals always compile");
        SecretGuard {
            inner: Some(Arc::new(Inner {
                any,
                groups,
                labels: secrets.iter().map(|(l, _)| (*l).to_owned()).collect(),
                raw: secrets.iter().map(|(_, s)| (*s).to_owned()).collect(),
                found: Mutex::new(BTreeSet::new()),
            })),
        }
    }

    /// The guard of a run: the merchant secret in use (unless it is the emulator's public demo
    /// key, `None` here) and the password of the target's URL.
    pub fn for_run(secret: Option<&SecretKey>, target: Option<&url::Url>) -> SecretGuard {
        let mut secrets: Vec<(&str, String)> = Vec::new();
        if let Some(secret) = secret {
            secrets.push(("the merchant secret key", secret.expose().to_owned()));
        }
        if let Some(password) = target.and_then(url::Url::password) {
            let user = target.map_or("", url::Url::username);
            let decode = |s: &str| percent_decode(s).unwrap_or_else(|| s.to_owned());
            secrets.push((
                "the target URL's user and password",
                format!("{}:{}", decode(user), decode(password)),
            ));
            secrets.push(("the target URL's password", decode(password)));
            // As written in the URL, too (it may hold percent signs of its own).
            secrets.push(("the target URL's password", password.to_owned()));
        }
        SecretGuard::new(secrets.iter().map(|(l, s)| (*l, s.as_str())))
    }

    /// True when the guard has nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.inner.is_none()
    }

    /// `text` with every form of every secret replaced by [`PLACEHOLDER`].
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(inner) = &self.inner else {
            return Cow::Borrowed(text);
        };
        if !inner.any.is_match(text) {
            return Cow::Borrowed(text);
        }
        let mut found = Vec::new();
        let scrubbed = inner.any.replace_all(text, |captures: &Captures<'_>| {
            if let Some((group, matched)) = captures
                .iter()
                .skip(1)
                .enumerate()
                .find_map(|(i, m)| m.map(|m| (i, m.as_str())))
            {
                let (secret, encoding) = inner.groups[group];
                let raw = matched == inner.raw[secret];
                found.push((secret, form_name(encoding, raw, matched)));
            }
            PLACEHOLDER
        });
        inner
            .found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(found);
        Cow::Owned(scrubbed.into_owned())
    }

    /// Scrubs `text` in place; true when something was replaced.
    pub fn scrub_in_place(&self, text: &mut String) -> bool {
        match self.scrub(text) {
            Cow::Borrowed(_) => false,
            Cow::Owned(clean) => {
                *text = clean;
                true
            }
        }
    }

    /// What was found so far, one line per secret: `the merchant secret key (raw, base64)`.
    pub fn findings(&self) -> Vec<String> {
        let Some(inner) = &self.inner else {
            return Vec::new();
        };
        let found = inner.found.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines: Vec<String> = Vec::new();
        for (index, label) in inner.labels.iter().enumerate() {
            let forms: Vec<&str> = found
                .iter()
                .filter(|(i, _)| *i == index)
                .map(|(_, form)| *form)
                .collect();
            if forms.is_empty() {
                continue;
            }
            let line = format!("{label} ({})", forms.join(", "));
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        lines
    }
}

/// A pattern matching `secret` with each character in any of its text spellings.
fn text_pattern(secret: &str) -> String {
    let mut pattern = String::new();
    for c in secret.chars() {
        let mut spellings = vec![regex::escape(c.encode_utf8(&mut [0; 4]))];
        let mut utf8 = [0; 4];
        let percent: String = c
            .encode_utf8(&mut utf8)
            .bytes()
            .map(|b| format!("%(?i:{b:02x})"))
            .collect();
        spellings.push(percent);
        let code = u32::from(c);
        spellings.push(format!("&#0*{code};"));
        spellings.push(format!("&#[xX]0*(?i:{code:x});"));
        if code <= 0xffff {
            spellings.push(format!(r"\\u(?i:{code:04x})"));
        }
        match c {
            ' ' => spellings.push(r"\+".into()),
            '&' => spellings.push("&amp;".into()),
            '<' => spellings.push("&lt;".into()),
            '>' => spellings.push("&gt;".into()),
            '"' => spellings.push("&quot;".into()),
            '\'' => spellings.push("&apos;".into()),
            _ => {}
        }
        if c.is_ascii_punctuation() {
            spellings.push(format!(r"\\{}", regex::escape(&c.to_string())));
        }
        pattern.push_str(&format!("(?:{})", spellings.join("|")));
    }
    pattern
}

/// What a match of the text pattern looked like.
fn form_name(encoding: Encoding, raw: bool, matched: &str) -> &'static str {
    match encoding {
        Encoding::Base64 => "base64",
        Encoding::Hex => "hex",
        Encoding::Text if raw => "raw",
        Encoding::Text if matched.contains('%') || matched.contains('+') => "URL-encoded",
        Encoding::Text if matched.contains('&') => "XML-escaped",
        Encoding::Text if matched.contains('\\') => "escaped",
        Encoding::Text => "raw",
    }
}

/// The base64 text that `secret` always encodes to wherever it stands in a longer message:
/// for each of the three byte alignments, the characters fully determined by the secret's
/// own bits, in both alphabets. At most one character of the secret's edges stays visible.
fn base64_fragments(secret: &[u8]) -> Vec<String> {
    let mut fragments = Vec::new();
    for offset in 0..3usize {
        let mut data = vec![0u8; offset];
        data.extend_from_slice(secret);
        let encoded = base64(&data);
        let start = (offset * 8).div_ceil(6);
        let end = (offset + secret.len()) * 8 / 6;
        if end <= start || end - start < MIN_ENCODED {
            continue;
        }
        let standard = encoded[start..end].to_owned();
        let url_safe = standard.replace('+', "-").replace('/', "_");
        if url_safe != standard {
            fragments.push(url_safe);
        }
        fragments.push(standard);
    }
    fragments
}

/// Standard base64 with padding (no crate for twenty lines).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `%XX` sequences decoded; `None` when that leaves invalid UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `yaml` with secret values crossed out (`XXXX`), byte for byte, for showing in a diagnostic: the
/// value of any key whose name contains `secret`, every value of a `merchants:` mapping (the
/// emulator's `id: secret key` pairs), and the password of any URL with userinfo. The text
/// keeps its length, so every span into it stays right.
pub fn mask_config_secrets(yaml: &str) -> String {
    static KEYED: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(
            r#"(?i)(?:^|[\s{,])["']?[a-z0-9_-]*secret[a-z0-9_-]*["']?[ \t]*:[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s,}#][^,}#\n]*)"#,
        )
        .expect("a valid pattern")
    });
    static URL_PASSWORD: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]*:([^@\s/]+)@").expect("a valid pattern")
    });
    static FLOW_VALUE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r#":[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s,}#][^,}#\n]*)"#).expect("a valid pattern")
    });
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for captures in KEYED
        .captures_iter(yaml)
        .chain(URL_PASSWORD.captures_iter(yaml))
    {
        if let Some(value) = captures.get(1) {
            ranges.push(value.range());
        }
    }
    // `merchants:` followed by an indented block, or a flow mapping on the same line.
    let mut offset = 0;
    let mut block: Option<usize> = None;
    for line in yaml.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let content = line.trim();
        if let Some(parent) = block {
            if content.is_empty() || content.starts_with('#') {
                offset += line.len();
                continue;
            }
            if indent > parent {
                for captures in FLOW_VALUE.captures_iter(line) {
                    if let Some(value) = captures.get(1) {
                        ranges.push(offset + value.start()..offset + value.end());
                    }
                }
            } else {
                block = None;
            }
        }
        if let Some(rest) = content.strip_prefix("merchants") {
            let rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(':') {
                if after.trim().is_empty() || after.trim().starts_with('#') {
                    block = Some(indent);
                } else if let Some(brace) = line.find('{') {
                    let at = offset + brace + 1;
                    for captures in FLOW_VALUE.captures_iter(&yaml[at..offset + line.len()]) {
                        if let Some(value) = captures.get(1) {
                            ranges.push(at + value.start()..at + value.end());
                        }
                    }
                }
            }
        }
        offset += line.len();
    }
    let mut bytes = yaml.as_bytes().to_vec();
    for range in ranges {
        let value = &yaml[range.clone()];
        // Keep the quotes of a quoted value, star what is inside.
        let quoted = value.len() >= 2
            && (value.starts_with('"') && value.ends_with('"')
                || value.starts_with('\'') && value.ends_with('\''));
        let inner = if quoted {
            range.start + 1..range.end - 1
        } else {
            range.start..range.end - (value.len() - value.trim_end().len())
        };
        // `X`, not `*`: a plain scalar may not start with `*` (an alias), and the masked text
        // must parse as the original does, so an error in it is found at the same place.
        for byte in &mut bytes[inner] {
            *byte = b'X';
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|_| yaml.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr&t <key> \"x\"/+é";

    fn guard() -> SecretGuard {
        SecretGuard::new([("the merchant secret key", SECRET)])
    }

    fn url_encode(text: &str, upper: bool) -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else if b == b' ' {
                    "+".into()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    }

    fn xml_escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&#34;")
    }

    #[test]
    fn every_form_is_replaced_and_reported() {
        let forms = [
            SECRET.to_owned(),
            url_encode(SECRET, true),
            url_encode(SECRET, false),
            xml_escape(SECRET),
            format!("{SECRET:?}").trim_matches('"').to_owned(),
            base64(SECRET.as_bytes()),
            base64(format!("user:{SECRET}").as_bytes()),
            base64(format!("ab{SECRET}").as_bytes()),
            base64(SECRET.as_bytes())
                .replace('+', "-")
                .replace('/', "_"),
            SECRET.bytes().map(|b| format!("{b:02x}")).collect(),
            SECRET.bytes().map(|b| format!("{b:02X}")).collect(),
        ];
        for form in forms {
            let g = guard();
            let text = format!("<d>before {form} after</d>");
            let clean = g.scrub(&text).into_owned();
            assert!(clean.contains(PLACEHOLDER), "{form} in {clean}");
            assert!(clean.starts_with("<d>before ") && clean.ends_with(" after</d>"));
            assert!(!clean.contains(&form), "{form} in {clean}");
            assert!(!g.findings().is_empty(), "{form}");
        }
    }

    #[test]
    fn forms_are_named_in_the_warning() {
        let g = guard();
        g.scrub(&format!("{SECRET} {}", base64(SECRET.as_bytes())));
        assert_eq!(
            g.findings(),
            ["the merchant secret key (base64, raw)".to_owned()]
        );
    }

    #[test]
    fn text_without_a_secret_is_borrowed_and_nothing_is_reported() {
        let g = guard();
        assert!(matches!(g.scrub("<d>s3cr nothing</d>"), Cow::Borrowed(_)));
        assert!(g.findings().is_empty());
        assert!(matches!(
            SecretGuard::default().scrub(SECRET),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_target_password_is_guarded_alone_and_with_its_user() {
        let url = url::Url::parse("https://merchant:pa%24%24word@gw.example/").unwrap();
        let g = SecretGuard::for_run(None, Some(&url));
        let text = format!(
            "merchant:pa$$word pa$$word {} Basic {}",
            "pa%24%24word",
            base64(b"merchant:pa$$word")
        );
        let clean = g.scrub(&text);
        assert!(
            !clean.contains("pa$$word") && !clean.contains("pa%24%24word"),
            "{clean}"
        );
        assert!(
            !clean.contains(&base64(b"merchant:pa$$word")[4..12]),
            "{clean}"
        );
        assert!(!format!("{g:?}").contains("pa$$word"));
    }

    #[test]
    fn config_secrets_are_crossed_out_in_place() {
        let yaml = "format: 1\nsecret_key: abc123 # no\ntargets:\n  staging: { url: \"http://u:hunter2@h:1\", pause: 1s }\nmerchants:\n  \"552170\": my-secret\n  \"1\": 'other'\nseed: 1\nother: { merchants: 1 }\n";
        let masked = mask_config_secrets(yaml);
        assert_eq!(masked.len(), yaml.len());
        assert_eq!(
            masked,
            "format: 1\nsecret_key: XXXXXX # no\ntargets:\n  staging: { url: \"http://u:XXXXXXX@h:1\", pause: 1s }\nmerchants:\n  \"552170\": XXXXXXXXX\n  \"1\": 'XXXXX'\nseed: 1\nother: { merchants: 1 }\n"
        );
        let flow = "merchants: { \"7\": sekret, \"8\": \"two\" }\n";
        assert_eq!(
            mask_config_secrets(flow),
            "merchants: { \"7\": XXXXXX, \"8\": \"XXX\" }\n"
        );
    }
}

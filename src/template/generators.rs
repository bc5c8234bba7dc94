//! The functions that take no argument and make a new value each call: `order_id()`,
//! `uuid()`, `salt()`, `now()`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::gateway::signature::salt_from;

/// The functions that take no argument, each a counted generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Generator {
    OrderId,
    Uuid,
    Salt,
    Now,
}

impl Generator {
    pub(super) const ALL: [Generator; 4] = [
        Generator::OrderId,
        Generator::Uuid,
        Generator::Salt,
        Generator::Now,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Generator::OrderId => "order_id",
            Generator::Uuid => "uuid",
            Generator::Salt => "salt",
            Generator::Now => "now",
        }
    }

    pub(super) fn named(name: &str) -> Option<Generator> {
        Generator::ALL.into_iter().find(|g| g.name() == name)
    }

    pub(super) fn make(self, rng: &mut fastrand::Rng) -> Result<String, String> {
        match self {
            Generator::OrderId => Ok(format!("fph-{}", lowercase_alphanumeric(rng, 12))),
            Generator::Uuid => Ok(uuid_v4(rng)),
            Generator::Salt => Ok(salt_from(rng)),
            Generator::Now => {
                let seconds = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_err(|_| "the system clock is before 1970".to_owned())?
                    .as_secs();
                Ok(crate::utc::gateway_format(seconds as i64))
            }
        }
    }
}

fn lowercase_alphanumeric(rng: &mut fastrand::Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
        .collect()
}

fn uuid_v4(rng: &mut fastrand::Rng) -> String {
    let mut bytes = rng.u128(..).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

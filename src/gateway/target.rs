//! Where a run sends its requests: the built-in emulator, the Freedom Pay test server, the
//! production host, or any URL — and the guard that refuses production unless the user
//! explicitly allows it, because production moves real money.

use std::fmt;

use reqwest::Url;

/// The Freedom Pay test server.
pub const SANDBOX_URL: &str = "https://test-api.freedompay.kz";
/// The production host: real money.
pub const PRODUCTION_URL: &str = "https://api.freedompay.kz";

/// Hosts that move real money: production and its sister hosts with the same API.
const PRODUCTION_HOSTS: &[&str] = &[
    "api.freedompay.kz",
    "api.freedompay.kg",
    "api.freedompay.uz",
    "api.paybox.money",
];

/// A place to send requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The built-in emulator, started in-process on 127.0.0.1 at an ephemeral port.
    Emulator,
    Sandbox,
    Production,
    /// Any base URL, e.g. a standalone `fph emulator` or a proxy.
    Custom(Url),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "failed to read target `{0}`: expected emulator, sandbox, production or an http(s) URL"
    )]
    Unknown(String),
    #[error(
        "refusing to send requests to production ({0}): it moves real money; pass --allow-production if you mean it"
    )]
    ProductionRefused(String),
}

impl Target {
    /// Reads `emulator`, `sandbox`, `production` or an `http(s)://` URL.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        match text.trim() {
            "emulator" => Ok(Target::Emulator),
            "sandbox" | "test" => Ok(Target::Sandbox),
            "production" => Ok(Target::Production),
            other => match Url::parse(other) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                    Ok(Target::Custom(url))
                }
                _ => Err(TargetError::Unknown(other.to_owned())),
            },
        }
    }

    /// The short name for reports and cassettes: `emulator`, `sandbox`, `production` or the URL.
    pub fn name(&self) -> String {
        match self {
            Target::Emulator => "emulator".into(),
            Target::Sandbox => "sandbox".into(),
            Target::Production => "production".into(),
            Target::Custom(url) => url.as_str().trim_end_matches('/').to_owned(),
        }
    }

    /// The base URL, when it is known without starting anything (not for the emulator).
    pub fn base_url(&self) -> Option<Url> {
        match self {
            Target::Emulator => None,
            Target::Sandbox => Some(Url::parse(SANDBOX_URL).expect("valid constant")),
            Target::Production => Some(Url::parse(PRODUCTION_URL).expect("valid constant")),
            Target::Custom(url) => Some(url.clone()),
        }
    }

    /// True when requests reach real money: production, or a URL on a production host.
    pub fn is_production(&self) -> bool {
        match self {
            Target::Production => true,
            Target::Custom(url) => url
                .host_str()
                .is_some_and(|h| PRODUCTION_HOSTS.contains(&h.to_ascii_lowercase().as_str())),
            _ => false,
        }
    }

    /// True for places where payments are test payments: init gets `pg_testing_mode=1`.
    pub fn is_test(&self) -> bool {
        !self.is_production()
    }

    /// True for Freedom Pay's own hosts, which ask for a pause between payment calls.
    pub fn is_remote_gateway(&self) -> bool {
        match self {
            Target::Sandbox | Target::Production => true,
            Target::Custom(url) => url.host_str().is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                h.ends_with("freedompay.kz")
                    || h.ends_with("freedompay.kg")
                    || h.ends_with("freedompay.uz")
                    || h.ends_with("paybox.money")
            }),
            Target::Emulator => false,
        }
    }

    /// Refuses a production target unless `allow_production`.
    pub fn guard(&self, allow_production: bool) -> Result<(), TargetError> {
        if self.is_production() && !allow_production {
            return Err(TargetError::ProductionRefused(self.name()));
        }
        Ok(())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_parse() {
        assert_eq!(Target::parse("emulator"), Ok(Target::Emulator));
        assert_eq!(Target::parse("sandbox"), Ok(Target::Sandbox));
        assert_eq!(Target::parse("production"), Ok(Target::Production));
        let custom = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(custom.name(), "http://127.0.0.1:8080");
        assert!(matches!(
            Target::parse("ftp://x"),
            Err(TargetError::Unknown(_))
        ));
        assert!(matches!(
            Target::parse("prod"),
            Err(TargetError::Unknown(_))
        ));
    }

    #[test]
    fn production_is_refused_unless_allowed() {
        assert!(matches!(
            Target::Production.guard(false),
            Err(TargetError::ProductionRefused(_))
        ));
        assert_eq!(Target::Production.guard(true), Ok(()));
        for url in [
            "https://api.freedompay.kz/",
            "https://API.freedompay.kg",
            "http://api.paybox.money",
        ] {
            let t = Target::parse(url).unwrap();
            assert!(t.guard(false).is_err(), "{url} must be refused");
            assert!(!t.is_test());
        }
        for t in [
            Target::Emulator,
            Target::Sandbox,
            Target::parse("http://127.0.0.1:1").unwrap(),
        ] {
            assert_eq!(t.guard(false), Ok(()));
            assert!(t.is_test());
        }
    }

    #[test]
    fn only_freedom_pay_hosts_ask_for_a_pause() {
        assert!(Target::Sandbox.is_remote_gateway());
        assert!(!Target::Emulator.is_remote_gateway());
        assert!(
            !Target::parse("http://127.0.0.1:9")
                .unwrap()
                .is_remote_gateway()
        );
    }
}

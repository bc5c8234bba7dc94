//! Where a run sends its requests: the built-in emulator, the Freedom Pay test server, the
//! production host, or any URL — and the guard that refuses production unless the user
//! explicitly allows it, because production moves real money.
//!
//! Every check on a host reads it in one canonical spelling ([`canonical_host`]): the URL
//! parser already lowercases, maps IDNA forms (fullwidth, uppercase, punycode) and reads
//! numeric IPv4 forms; what it leaves — a trailing dot (`api.freedompay.kz.` resolves to
//! production), punycode labels — is folded here, and a host that cannot be folded is
//! refused rather than guessed at.

use std::fmt;

use url::Url;

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
    #[error(
        "failed to read target `{url}`: its host cannot be normalised ({reason}); write the host name plainly, e.g. `https://test-api.freedompay.kz`"
    )]
    Host { url: String, reason: String },
}

/// The host of `url` as every check compares it: lowercase, IDNA mapped and decoded,
/// without the trailing dot of a fully qualified name. `Ok(None)` for a literal IP address
/// (never a production host by name). An error for a host no resolver would take as one
/// name (empty labels, invalid punycode): it is refused, not guessed at.
pub fn canonical_host(url: &Url) -> Result<Option<String>, String> {
    let domain = match url.host() {
        None => return Err("no host".into()),
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => return Ok(None),
        Some(url::Host::Domain(domain)) => domain,
    };
    // One trailing dot is the root of the DNS tree: same host. More is not a name.
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || domain.split('.').any(str::is_empty) {
        return Err(format!("`{domain}` has an empty label"));
    }
    // The URL parser already applied UTS 46 (case, fullwidth dots and letters); decoding the
    // punycode labels too means `xn--` spellings of a name compare as that name.
    let (unicode, decoded) = idna::domain_to_unicode(domain);
    match decoded {
        Ok(()) => Ok(Some(unicode)),
        Err(_) => Err(format!("`{domain}` is not a valid internationalised name")),
    }
}

impl Target {
    /// Reads `emulator`, `sandbox`, `production` or an `http(s)://` URL.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        match text.trim() {
            "emulator" => Ok(Target::Emulator),
            "sandbox" | "test" => Ok(Target::Sandbox),
            "production" => Ok(Target::Production),
            other => match Url::parse(other) {
                Ok(mut url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                    canonical_host(&url).map_err(|reason| TargetError::Host {
                        url: other.to_owned(),
                        reason,
                    })?;
                    // Requests go to the host as checked: the root's trailing dot dropped.
                    if let Some(url::Host::Domain(domain)) = url.host()
                        && let Some(plain) = domain.strip_suffix('.').map(str::to_owned)
                    {
                        url.set_host(Some(&plain)).map_err(|e| TargetError::Host {
                            url: other.to_owned(),
                            reason: e.to_string(),
                        })?;
                    }
                    Ok(Target::Custom(url))
                }
                _ => Err(TargetError::Unknown(other.to_owned())),
            },
        }
    }

    /// The short name for reports and cassettes: `emulator`, `sandbox`, `production` or the URL
    /// without its userinfo (a `user:password@` must never reach a cassette or a report).
    pub fn name(&self) -> String {
        match self {
            Target::Emulator => "emulator".into(),
            Target::Sandbox => "sandbox".into(),
            Target::Production => "production".into(),
            Target::Custom(url) => {
                let mut shown = url.clone();
                // Both fail only for URLs that cannot have userinfo in the first place.
                let _ = shown.set_username("");
                let _ = shown.set_password(None);
                shown.as_str().trim_end_matches('/').to_owned()
            }
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

    /// True when requests reach real money: production, or a URL on a production host in
    /// any spelling. A host that cannot be normalised counts as production: refused, not
    /// guessed at.
    pub fn is_production(&self) -> bool {
        match self {
            Target::Production => true,
            Target::Custom(url) => match canonical_host(url) {
                Ok(Some(host)) => PRODUCTION_HOSTS.contains(&host.as_str()),
                Ok(None) => false,
                Err(_) => true,
            },
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
            Target::Custom(url) => canonical_host(url).ok().flatten().is_some_and(|h| {
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

    /// Regression: `https://api.freedompay.kz.` (trailing dot) and `https://api.paybox.money.`
    /// were taken for other hosts and sent to.
    #[test]
    fn production_guard_refuses_every_spelling_of_a_production_host() {
        for url in [
            "https://api.freedompay.kz.",
            "https://api.paybox.money.",
            "https://API.FreedomPay.KZ./",
            "https://user:pw@api.freedompay.kz.:443/x",
            "https://api.freedompay.kz:443",
            "http://api.freedompay.uz.:80",
            "https://api%2Efreedompay%2Ekz",
            "https://api.freedompay.kz%2E",
            "https://ａｐｉ．ｆｒｅｅｄｏｍｐａｙ．ｋｚ",
            "https://api\u{3002}freedompay\u{3002}kg",
            " https://api.paybox.money ",
        ] {
            let target = Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(
                matches!(target.guard(false), Err(TargetError::ProductionRefused(_))),
                "{url} must be refused"
            );
            assert!(!target.is_test(), "{url}");
            assert!(target.is_remote_gateway(), "{url}");
            assert_eq!(target.guard(true), Ok(()), "{url}");
        }
        // The dot of the root is dropped from what is sent, too.
        let target = Target::parse("https://test-api.freedompay.kz./").unwrap();
        assert_eq!(target.name(), "https://test-api.freedompay.kz");
        assert_eq!(target.guard(false), Ok(()));
        // Hosts that are not one name are refused before any check could be fooled.
        assert!(Target::parse("https://xn--zz.freedompay.kz").is_err());
        for url in ["https://api.freedompay.kz..", "https://api..freedompay.kz"] {
            assert!(
                matches!(Target::parse(url), Err(TargetError::Host { .. })),
                "{url}: {:?}",
                Target::parse(url)
            );
        }
        // A punycode label compares as the name it spells.
        let idn = Target::parse("https://xn--80ak6aa92e.com").unwrap();
        assert_eq!(
            canonical_host(&idn.base_url().unwrap()),
            Ok(Some("аррӏе.com".to_owned()))
        );
        // Literal IPs, in any numeric form, are never production by name.
        let ip = Target::parse("http://0x7f.1:8080").unwrap();
        assert_eq!(ip.name(), "http://127.0.0.1:8080");
        assert_eq!(ip.guard(false), Ok(()));
        // Built by hand past `parse`, an unreadable host still counts as production.
        let raw = Target::Custom(Url::parse("https://api.freedompay.kz.").unwrap());
        assert!(raw.is_production());
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

    #[test]
    fn secret_never_leaves_a_target_name_with_userinfo() {
        let target = Target::parse("https://merchant:hunter2@gw.example:8443/api/").unwrap();
        assert_eq!(target.name(), "https://gw.example:8443/api");
        assert_eq!(
            target.base_url().unwrap().password(),
            Some("hunter2"),
            "the URL itself keeps it, for the HTTP client"
        );
    }
}

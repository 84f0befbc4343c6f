//! Configuration of the gateway, from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `KANSRIJK_HTTP_ADDR` | `127.0.0.1:8080` | address of the HTTP API |
//! | `KANSRIJK_PUBLIC_URL` | `http://<addr>` | the URL clients reach the gateway on |
//! | `KANSRIJK_ENV` | `development` | `development`, `test`, or `production` (also `prod`, `acceptatie`, `acceptance`, `staging`) |
//! | `KANSRIJK_OIDC_ISSUER` | none | the trusted OIDC issuer |
//! | `KANSRIJK_OIDC_AUDIENCE` | `kansrijk` | the audience tokens must carry |
//! | `KANSRIJK_OIDC_JWKS_URI` | from discovery | override of the issuer's JWKS address |
//! | `KANSRIJK_DEV_ISSUER` | off | `1`: serve and trust the development issuer (never in production, never beside `KANSRIJK_OIDC_ISSUER`; only in a build with the `dev-issuer` feature) |
//! | `KANSRIJK_REQUEST_TIMEOUT_MS` | `5000` | bound on a NATS request to a service |
//! | `KANSRIJK_VIEW_WAIT_MS` | `2000` | bound on waiting for the views after a command (`0`: no wait) |

use std::net::SocketAddr;
use std::time::Duration;

use kansrijk_runtime::config::CommonConfig;

/// Where the process runs; production (`production`, `prod`, `acceptatie`, `acceptance`,
/// `staging`) refuses anything meant for development. The runtime's one definition, shared with
/// the web UI and every service.
pub use kansrijk_runtime::config::Environment;

/// OIDC settings.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The trusted issuer (`iss`); `None` with the development issuer means the dev issuer.
    pub issuer: Option<String>,
    pub audience: String,
    /// Override of the JWKS address (otherwise taken from the discovery document).
    pub jwks_uri: Option<String>,
    /// Minimum time between two JWKS fetches triggered by an unknown key id.
    pub jwks_refetch_interval: Duration,
    /// Keys are refetched after this age even when every key id is known.
    pub jwks_max_age: Duration,
}

/// The gateway's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub http_addr: SocketAddr,
    pub public_url: String,
    pub environment: Environment,
    pub oidc: OidcConfig,
    /// Serve and trust the development issuer under `/dev-oidc`. Refused in production.
    pub dev_issuer: bool,
    pub request_timeout: Duration,
    pub view_wait: Duration,
}

/// The default HTTP address of the local stack.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";
/// The default audience of Kansrijk tokens.
pub const DEFAULT_AUDIENCE: &str = "kansrijk";
/// The path the development issuer is served under.
pub const DEV_ISSUER_PATH: &str = "/dev-oidc";

/// `http://<addr>`, with a wildcard address replaced by loopback.
pub fn default_public_url(addr: SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    format!("http://{host}:{}", addr.port())
}

impl Config {
    /// Reads the configuration from the environment and validates it.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests) and
    /// validates it. The settings shared by every service come from the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let millis = |name: &str, default: u64| -> anyhow::Result<Duration> {
            Ok(Duration::from_millis(
                var(name).map(|v| v.parse()).transpose()?.unwrap_or(default),
            ))
        };
        let flag = |name: &str| {
            var(name).is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "ja"))
        };
        let http_addr: SocketAddr = var("KANSRIJK_HTTP_ADDR")
            .unwrap_or_else(|| DEFAULT_HTTP_ADDR.into())
            .parse()?;
        let config = Config {
            common: CommonConfig::from_env()?,
            http_addr,
            public_url: var("KANSRIJK_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| default_public_url(http_addr)),
            environment: Environment::from_lookup(&lookup)?,
            oidc: OidcConfig {
                issuer: var("KANSRIJK_OIDC_ISSUER"),
                audience: var("KANSRIJK_OIDC_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
                jwks_uri: var("KANSRIJK_OIDC_JWKS_URI"),
                jwks_refetch_interval: millis("KANSRIJK_JWKS_REFETCH_MS", 10_000)?,
                jwks_max_age: Duration::from_secs(3600),
            },
            dev_issuer: flag("KANSRIJK_DEV_ISSUER"),
            request_timeout: millis("KANSRIJK_REQUEST_TIMEOUT_MS", 5_000)?,
            view_wait: millis("KANSRIJK_VIEW_WAIT_MS", 2_000)?,
        };
        config.validate()?;
        Ok(config)
    }

    /// A configuration for the local stack and tests: development issuer on, given addresses.
    pub fn local(common: CommonConfig, http_addr: SocketAddr) -> Self {
        Config {
            common,
            http_addr,
            public_url: default_public_url(http_addr),
            environment: Environment::Development,
            oidc: OidcConfig {
                issuer: None,
                audience: DEFAULT_AUDIENCE.into(),
                jwks_uri: None,
                jwks_refetch_interval: Duration::from_secs(10),
                jwks_max_age: Duration::from_secs(3600),
            },
            dev_issuer: true,
            request_timeout: Duration::from_secs(5),
            view_wait: Duration::from_secs(2),
        }
    }

    /// Refuses configurations that must never run.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.dev_issuer && !cfg!(feature = "dev-issuer") {
            anyhow::bail!(
                "this build has no development issuer (KANSRIJK_DEV_ISSUER): it is built with the cargo feature dev-issuer only (the local stack, not the release image)"
            );
        }
        if self.dev_issuer {
            if let Some(iss) = &self.oidc.issuer {
                anyhow::bail!(
                    "KANSRIJK_DEV_ISSUER cannot be combined with a configured issuer (KANSRIJK_OIDC_ISSUER={iss}): the development issuer never replaces a real one"
                );
            }
        }
        if self.dev_issuer && self.environment.is_production() {
            anyhow::bail!(
                "the development issuer (KANSRIJK_DEV_ISSUER) cannot be enabled when KANSRIJK_ENV=production"
            );
        }
        if self.environment.is_production() {
            match &self.oidc.issuer {
                None => anyhow::bail!("production needs KANSRIJK_OIDC_ISSUER"),
                Some(iss) if iss.ends_with(DEV_ISSUER_PATH) => anyhow::bail!(
                    "production cannot trust the development issuer ({DEV_ISSUER_PATH})"
                ),
                Some(iss) if !iss.starts_with("https://") => {
                    anyhow::bail!("production needs an https issuer")
                }
                Some(_) => {}
            }
        }
        if !self.dev_issuer && self.oidc.issuer.is_none() {
            anyhow::bail!(
                "no OIDC issuer: set KANSRIJK_OIDC_ISSUER (or KANSRIJK_DEV_ISSUER=1 locally)"
            );
        }
        Ok(())
    }

    /// The issuer URL of the development issuer of this gateway.
    pub fn dev_issuer_url(&self) -> String {
        format!("{}{DEV_ISSUER_PATH}", self.public_url)
    }

    /// The issuer whose tokens are trusted.
    pub fn trusted_issuer(&self) -> String {
        match (&self.oidc.issuer, self.dev_issuer) {
            (Some(iss), _) => iss.clone(),
            (None, _) => self.dev_issuer_url(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common() -> CommonConfig {
        CommonConfig {
            database_url: "postgres://x".into(),
            nats_url: "nats://x".into(),
            stream_replicas: 1,
            oin: "1".into(),
            ops_addr: None,
        }
    }

    #[test]
    fn production_refuses_the_development_issuer() {
        let mut c = Config::local(common(), "127.0.0.1:8080".parse().unwrap());
        c.environment = Environment::Production;
        c.oidc.issuer = Some("https://login.example.nl".into());
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("development issuer"), "{err}");
        c.dev_issuer = false;
        c.validate().expect("production with a real issuer");
        c.oidc.issuer = Some("https://gw.example.nl/dev-oidc".into());
        assert!(c.validate().is_err(), "the dev issuer by URL");
        c.oidc.issuer = None;
        assert!(c.validate().is_err(), "production without issuer");
    }

    #[test]
    fn environment_names() {
        assert_eq!(
            Environment::parse("production").unwrap(),
            Environment::Production
        );
        assert_eq!(Environment::parse("PROD").unwrap(), Environment::Production);
        assert_eq!(
            Environment::parse("development").unwrap(),
            Environment::Development
        );
        assert!(Environment::parse("staging-ish").is_err());
    }

    #[test]
    fn public_url_of_a_wildcard_address_is_loopback() {
        assert_eq!(
            default_public_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
    }
}

//! Configuration from the environment.

use std::time::Duration;

use kansrijk_runtime::config::CommonConfig;

/// What a referral does when the registry of VVE locations does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryMode {
    /// Refuse the referral with 503: nothing is referred to an unchecked location.
    Strict,
    /// Accept a well-formed LRK number and record `registerGecontroleerd: false` on the referral,
    /// so views and reconciliation can show and re-check it. A registry that answers "not
    /// registered" is always a 400.
    Lenient,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// `KANSRIJK_VVE_REGISTRY_MODE`: `strict` or `lenient` (default).
    pub registry_mode: RegistryMode,
    /// How long to wait for the registry's answer.
    pub registry_timeout: Duration,
    /// How long a subject key stays cached.
    pub key_ttl: Duration,
    /// Requests handled at once.
    pub max_in_flight: usize,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let registry_mode = match std::env::var("KANSRIJK_VVE_REGISTRY_MODE")
            .unwrap_or_default()
            .as_str()
        {
            "" | "lenient" => RegistryMode::Lenient,
            "strict" => RegistryMode::Strict,
            other => {
                anyhow::bail!("KANSRIJK_VVE_REGISTRY_MODE must be strict or lenient, not {other}")
            }
        };
        Ok(Config {
            common: CommonConfig::from_env()?,
            registry_mode,
            registry_timeout: Duration::from_millis(1500),
            key_ttl: Duration::from_secs(60),
            max_in_flight: 64,
        })
    }

    /// A configuration for tests and the local stack.
    pub fn local(database_url: &str, nats_url: &str) -> Self {
        Config {
            common: CommonConfig {
                database_url: database_url.into(),
                nats_url: nats_url.into(),
                stream_replicas: 1,
                oin: kansrijk_runtime::config::DEFAULT_OIN.into(),
                ops_addr: None,
            },
            registry_mode: RegistryMode::Lenient,
            registry_timeout: Duration::from_millis(500),
            key_ttl: Duration::from_secs(60),
            max_in_flight: 64,
        }
    }
}

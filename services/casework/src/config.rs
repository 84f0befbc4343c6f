//! Configuration from the environment.

use std::time::Duration;

use kansrijk_runtime::config::CommonConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// How long a family key stays cached (`KANSRIJK_KEY_TTL_SECS`, default 60).
    pub key_ttl: Duration,
    /// How long to wait for the privacy service (legal hold, retention, access log).
    pub privacy_timeout: Duration,
    /// Requests handled at once.
    pub max_in_flight: usize,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let key_ttl = match std::env::var("KANSRIJK_KEY_TTL_SECS") {
            Ok(v) if !v.is_empty() => Duration::from_secs(v.parse()?),
            _ => Duration::from_secs(60),
        };
        Ok(Config {
            common: CommonConfig::from_env()?,
            key_ttl,
            privacy_timeout: Duration::from_secs(5),
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
            key_ttl: Duration::from_secs(60),
            privacy_timeout: Duration::from_secs(5),
            max_in_flight: 64,
        }
    }
}

//! Configuration from the environment.

use std::time::Duration;

use kansrijk_runtime::config::CommonConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// `KANSRIJK_OVERDRACHT_BEVESTIGEN_BINNEN_DAGEN`: days a receiver has to confirm receipt
    /// before the file is flagged to sender and receiver (default 14; the views read the same
    /// variable for the monitor's timeliness).
    pub confirm_within_days: u16,
    /// `KANSRIJK_OVERDRACHT_SCAN_SECONDEN`: how often the scheduler looks for overdue files and
    /// unanswered privacy requests (default 300).
    pub scan_interval: Duration,
    /// How long a subject key stays cached.
    pub key_ttl: Duration,
    /// Requests handled at once.
    pub max_in_flight: usize,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let confirm_within_days = var("KANSRIJK_OVERDRACHT_BEVESTIGEN_BINNEN_DAGEN")
            .map(|v| v.parse::<u16>())
            .transpose()?
            .unwrap_or(14);
        anyhow::ensure!(
            (1..=365).contains(&confirm_within_days),
            "KANSRIJK_OVERDRACHT_BEVESTIGEN_BINNEN_DAGEN must be 1..=365"
        );
        let scan = var("KANSRIJK_OVERDRACHT_SCAN_SECONDEN")
            .map(|v| v.parse::<u64>())
            .transpose()?
            .unwrap_or(300);
        Ok(Config {
            common: CommonConfig::from_env()?,
            confirm_within_days,
            scan_interval: Duration::from_secs(scan.max(1)),
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
            confirm_within_days: 14,
            scan_interval: Duration::from_secs(300),
            key_ttl: Duration::from_secs(60),
            max_in_flight: 64,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

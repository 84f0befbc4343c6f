//! Configuration from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `KANSRIJK_MASTER_KEYS` | master key ring, `id:base64key[,id:base64key...]`, first = current (or a file: `KANSRIJK_MASTER_KEYS_FILE`; a committed demo key is refused outside development) | required |
//! | `KANSRIJK_PSEUDONYM_KEY` | HMAC key of the pseudonym endpoint (base64, at least 32 bytes; or `KANSRIJK_PSEUDONYM_KEY_FILE`) | required |
//! | `KANSRIJK_RETENTION` | retention per kind of data, e.g. `overdracht=12m,jgz=20y,casus=5y,leerling=2y,toegangslog=5y` | those values |
//! | `KANSRIJK_RETENTION_INTERVAL_SECS` | how often the retention scheduler runs (0 = never) | 3600 |
//! | `KANSRIJK_KEY_CLIENTS` | services allowed to fetch and create keys and pseudonyms | `vve,overdracht,casework,views` |
//! | `KANSRIJK_INZAGE_SERVICES` | services asked for their part of a subject access request | `vve,overdracht,casework,views` |
//! | `KANSRIJK_INZAGE_TIMEOUT_MS` | how long to wait for each part | 5000 |
//!
//! plus the common settings of [`CommonConfig`].

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use kansrijk_proto::privacy::DataKind;
use kansrijk_runtime::config::CommonConfig;
use kansrijk_runtime::crypto::{MasterKeyRing, Pseudonymizer};

/// A length of time in calendar months (years are 12 months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Months(pub u32);

/// What is kept how long, after the moment each kind's period starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub per_kind: BTreeMap<DataKind, Months>,
    /// The access log (NEN 7513: at least 5 years).
    pub access_log: Months,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            per_kind: [
                (DataKind::Overdracht, Months(12)),
                (DataKind::Jgz, Months(20 * 12)),
                (DataKind::Casus, Months(5 * 12)),
                (DataKind::Leerling, Months(2 * 12)),
            ]
            .into(),
            access_log: Months(5 * 12),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("retention entry {0:?} is not kind=<n>m or kind=<n>y")]
    Malformed(String),
    #[error("unknown kind of data {0:?}")]
    UnknownKind(String),
    #[error("the access log must be kept at least 5 years")]
    AccessLogTooShort,
}

impl RetentionPolicy {
    /// Parses `kind=<n>m|<n>y,...` over the defaults.
    pub fn parse(spec: &str) -> Result<Self, PolicyError> {
        let mut policy = RetentionPolicy::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, len) = part
                .split_once('=')
                .ok_or_else(|| PolicyError::Malformed(part.into()))?;
            let len = len.trim();
            let parse = |n: &str| -> Result<u32, PolicyError> {
                n.parse().map_err(|_| PolicyError::Malformed(part.into()))
            };
            let months = if let Some(n) = len.strip_suffix('m') {
                Months(parse(n)?)
            } else if let Some(n) = len.strip_suffix('y') {
                Months(
                    parse(n)?
                        .checked_mul(12)
                        .ok_or_else(|| PolicyError::Malformed(part.into()))?,
                )
            } else {
                return Err(PolicyError::Malformed(part.into()));
            };
            match kind.trim() {
                "toegangslog" => policy.access_log = months,
                k => {
                    let kind =
                        DataKind::parse(k).ok_or_else(|| PolicyError::UnknownKind(k.into()))?;
                    policy.per_kind.insert(kind, months);
                }
            }
        }
        if policy.access_log < Months(60) {
            return Err(PolicyError::AccessLogTooShort);
        }
        Ok(policy)
    }

    /// The retention of `kind` (every kind has one: the defaults fill the gaps).
    pub fn months(&self, kind: DataKind) -> Months {
        self.per_kind.get(&kind).copied().unwrap_or(Months(20 * 12))
    }
}

/// The privacy service's settings.
#[derive(Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub master_keys: MasterKeyRing,
    pub pseudonymizer: Pseudonymizer,
    pub retention: RetentionPolicy,
    /// `None`: the scheduler does not run (tests, or a deployment that runs it from a cron job).
    pub retention_interval: Option<Duration>,
    pub key_clients: Vec<String>,
    pub inzage_services: Vec<String>,
    pub inzage_timeout: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key material's own Debug impls print no secrets either.
        f.debug_struct("Config")
            .field("common", &self.common)
            .field("master_keys", &self.master_keys)
            .field("retention", &self.retention)
            .field("retention_interval", &self.retention_interval)
            .field("key_clients", &self.key_clients)
            .field("inzage_services", &self.inzage_services)
            .field("inzage_timeout", &self.inzage_timeout)
            .finish_non_exhaustive()
    }
}

/// The services that may use the key and pseudonym API by default.
pub const DEFAULT_KEY_CLIENTS: &[&str] = &["vve", "overdracht", "casework", "views"];
/// The services asked for their part of a subject access request by default.
pub const DEFAULT_INZAGE_SERVICES: &[&str] = &["vve", "overdracht", "casework", "views"];

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let common = CommonConfig::from_env()?;
        // The keys from their variables or from the files `<name>_FILE` names (Docker and
        // Kubernetes secrets); the committed demo keys are refused outside development.
        let environment = kansrijk_runtime::config::Environment::from_env()?;
        let secret = |name: &str| -> anyhow::Result<String> {
            let v = kansrijk_runtime::config::secret_var(|k| std::env::var(k).ok(), name)?
                .ok_or_else(|| anyhow::anyhow!("{name} is not set"))?;
            kansrijk_runtime::config::refuse_demo_secret(environment, name, &v)?;
            Ok(v)
        };
        let master_keys = MasterKeyRing::parse(&secret("KANSRIJK_MASTER_KEYS")?)
            .map_err(|e| anyhow::anyhow!("KANSRIJK_MASTER_KEYS: {e}"))?;
        let pseudonymizer = pseudonymizer_from(&secret("KANSRIJK_PSEUDONYM_KEY")?)?;
        let retention = RetentionPolicy::parse(&var("KANSRIJK_RETENTION").unwrap_or_default())?;
        let interval: u64 = var("KANSRIJK_RETENTION_INTERVAL_SECS")
            .map(|v| v.parse())
            .transpose()?
            .unwrap_or(3600);
        let list = |name: &str, default: &[&str]| -> Vec<String> {
            var(name)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect())
        };
        Ok(Config {
            common,
            master_keys,
            pseudonymizer,
            retention,
            retention_interval: (interval > 0).then(|| Duration::from_secs(interval)),
            key_clients: list("KANSRIJK_KEY_CLIENTS", DEFAULT_KEY_CLIENTS),
            inzage_services: list("KANSRIJK_INZAGE_SERVICES", DEFAULT_INZAGE_SERVICES),
            inzage_timeout: Duration::from_millis(
                var("KANSRIJK_INZAGE_TIMEOUT_MS")
                    .map(|v| v.parse())
                    .transpose()?
                    .unwrap_or(5000),
            ),
        })
    }

    /// A configuration for tests and the local stack: the given infrastructure, fresh keys.
    pub fn for_local(database_url: &str, nats_url: &str) -> Self {
        Config {
            common: CommonConfig {
                database_url: database_url.to_owned(),
                nats_url: nats_url.to_owned(),
                stream_replicas: 1,
                oin: kansrijk_runtime::config::DEFAULT_OIN.to_owned(),
                ops_addr: None,
            },
            master_keys: MasterKeyRing::parse(&MasterKeyRing::generate_spec(1))
                .expect("a generated spec parses"),
            pseudonymizer: Pseudonymizer::new(MasterKeyRing::generate_spec(0).as_bytes()),
            retention: RetentionPolicy::default(),
            retention_interval: None,
            key_clients: DEFAULT_KEY_CLIENTS.iter().map(|s| (*s).into()).collect(),
            inzage_services: DEFAULT_INZAGE_SERVICES
                .iter()
                .map(|s| (*s).into())
                .collect(),
            inzage_timeout: Duration::from_secs(2),
        }
    }
}

fn pseudonymizer_from(b64: &str) -> anyhow::Result<Pseudonymizer> {
    let key = B64
        .decode(b64.trim())
        .map_err(|_| anyhow::anyhow!("KANSRIJK_PSEUDONYM_KEY is not base64"))?;
    anyhow::ensure!(
        key.len() >= 32,
        "KANSRIJK_PSEUDONYM_KEY must hold at least 32 bytes"
    );
    Ok(Pseudonymizer::new(&key))
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_policy_follows_the_norms() {
        let p = RetentionPolicy::parse("").unwrap();
        assert_eq!(p.months(DataKind::Jgz), Months(240));
        assert_eq!(p.access_log, Months(60));
    }

    #[test]
    fn a_policy_spec_overrides_the_defaults() {
        let p = RetentionPolicy::parse("overdracht=6m, casus=7y,toegangslog=6y").unwrap();
        assert_eq!(p.months(DataKind::Overdracht), Months(6));
        assert_eq!(p.months(DataKind::Casus), Months(84));
        assert_eq!(p.access_log, Months(72));
        assert_eq!(p.months(DataKind::Jgz), Months(240));
    }

    #[test]
    fn bad_policy_specs_are_refused() {
        assert!(matches!(
            RetentionPolicy::parse("overdracht=6w"),
            Err(PolicyError::Malformed(_))
        ));
        assert!(matches!(
            RetentionPolicy::parse("foto=1y"),
            Err(PolicyError::UnknownKind(_))
        ));
        assert_eq!(
            RetentionPolicy::parse("toegangslog=4y"),
            Err(PolicyError::AccessLogTooShort)
        );
    }

    proptest! {
        #[test]
        fn any_spec_parses_or_fails_cleanly(spec in "\\PC{0,40}") {
            let _ = RetentionPolicy::parse(&spec);
        }

        #[test]
        fn months_and_years_round_trip(n in 0u32..600, years in any::<bool>()) {
            let spec = if years { format!("jgz={n}y") } else { format!("jgz={n}m") };
            let p = RetentionPolicy::parse(&spec).unwrap();
            prop_assert_eq!(p.months(DataKind::Jgz), Months(if years { n * 12 } else { n }));
        }
    }
}

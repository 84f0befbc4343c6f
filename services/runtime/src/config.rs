//! Configuration every service process shares, from the environment (12-factor). Secrets are
//! read from files or variables that deployments fill from a secret store, never from the code.

use std::net::SocketAddr;

/// Settings common to every service.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// PostgreSQL connection URL; each service works in its own schema.
    pub database_url: String,
    pub nats_url: String,
    /// Replicas of the JetStream events stream (1 locally, 3 in a cluster).
    pub stream_replicas: usize,
    /// OIN of the operating organisation, for CloudEvents `source`.
    pub oin: String,
    /// Address of `/livez`, `/readyz` and `/metrics` of a service without an HTTP API.
    pub ops_addr: Option<SocketAddr>,
}

impl CommonConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(CommonConfig {
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/kansrijk".into()),
            nats_url: var("NATS_URL").unwrap_or_else(|| "nats://127.0.0.1:4222".into()),
            stream_replicas: var("KANSRIJK_STREAM_REPLICAS")
                .map(|v| v.parse())
                .transpose()?
                .unwrap_or(1),
            oin: var("KANSRIJK_OIN").unwrap_or_else(|| DEFAULT_OIN.into()),
            ops_addr: var("KANSRIJK_OPS_ADDR").map(|v| v.parse()).transpose()?,
        })
    }
}

/// The OIN used by the local stack and the demo (a syntactically valid placeholder).
pub const DEFAULT_OIN: &str = "00000001002220647000";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

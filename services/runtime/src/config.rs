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
    /// From the environment. Outside development, a `DATABASE_URL` or `NATS_URL` carrying one of
    /// the committed demo passwords is refused.
    pub fn from_env() -> anyhow::Result<Self> {
        let environment = Environment::from_env()?;
        for name in ["DATABASE_URL", "NATS_URL"] {
            if let Some(url) = var(name) {
                refuse_demo_password(environment, name, &url)?;
            }
        }
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

/// Where a process runs (`KANSRIJK_ENV`). Everything but development and test is treated as
/// production: it refuses anything meant for development (the development issuer, demo secrets,
/// plain-http public addresses). The one place that decides it, for every service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    /// `development`/`dev`/`local`, `test`/`ci`, and `production`/`prod`/`acceptance`/
    /// `acceptatie`/`staging` (all three non-development); anything else is an error.
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" | "local" => Ok(Environment::Development),
            "test" | "ci" => Ok(Environment::Test),
            "production" | "prod" | "acceptance" | "acceptatie" | "staging" => {
                Ok(Environment::Production)
            }
            other => anyhow::bail!("KANSRIJK_ENV has an unknown value {other:?}"),
        }
    }

    /// `KANSRIJK_ENV` through `lookup` (default `development`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        match lookup("KANSRIJK_ENV").filter(|v| !v.trim().is_empty()) {
            Some(v) => Self::parse(&v),
            None => Ok(Environment::Development),
        }
    }

    /// `KANSRIJK_ENV` of this process.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Whether this is a development or test environment (the only ones where development
    /// conveniences and the committed demo values are accepted).
    pub fn is_development(self) -> bool {
        !self.is_production()
    }

    /// Whether this environment is (treated as) production.
    pub fn is_production(self) -> bool {
        self == Environment::Production
    }
}

/// Every secret value committed to this repository, now or in its history (docker-compose.yml's
/// former defaults): public, so never a key outside development. Compared on the decoded key
/// bytes, so another spelling (whitespace, URL-safe base64, another key id) is caught too.
pub const DEMO_SECRETS: &[&str] = &[
    // docker-compose.yml: KANSRIJK_MASTER_KEYS (1:...), KANSRIJK_PSEUDONYM_KEY, KANSRIJK_WEB_SESSION_KEY.
    "riDWUwAH8SE5y/fZ+pVqT/o+a8nryAnd822AwtZbQLI=",
    "PgaEfyVLHPvJXGWZNny2rClwQ5mxKyrOr1AUfvlvSDM=",
    "o+Oedk1aYApwZQtnblp/cSPPkKS9HtSwGgwnijM+xNBQzAiY5vy5nIb+MfXhOmzU",
];

/// Passwords committed to this repository (docker-compose.yml's defaults, the deployment checks').
pub const DEMO_PASSWORDS: &[&str] = &[
    "demo",
    "demo-postgres",
    "demo-admin",
    "demo-sys",
    "demo-gateway",
    "demo-privacy",
    "demo-vve",
    "demo-overdracht",
    "demo-casework",
    "demo-views",
    "demo-ops",
    "check",
];

fn decode_key(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    [STANDARD, URL_SAFE]
        .iter()
        .find_map(|e| e.decode(&s).ok())
        .or_else(|| {
            [STANDARD_NO_PAD, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(s.trim_end_matches('=')).ok())
        })
}

/// Whether `value` (a base64 key, or a key ring `id:key[,id:key...]`) contains a committed demo
/// key.
pub fn is_demo_secret(value: &str) -> bool {
    let demo: Vec<Vec<u8>> = DEMO_SECRETS.iter().filter_map(|s| decode_key(s)).collect();
    value.split(',').any(|part| {
        let part = part.trim();
        let key = part.split_once(':').map(|(_, k)| k).unwrap_or(part);
        DEMO_SECRETS.contains(&key.trim())
            || decode_key(key).is_some_and(|bytes| demo.contains(&bytes))
    })
}

/// Refuses a committed demo key as the secret `name` outside development.
pub fn refuse_demo_secret(environment: Environment, name: &str, value: &str) -> anyhow::Result<()> {
    if environment.is_production() && is_demo_secret(value) {
        anyhow::bail!(
            "{name} is a demo value committed to the Kansrijk repository (public): generate a new one \
             (`kansrijk keys generate-master`/`generate-pseudonym`) for KANSRIJK_ENV={environment:?}"
        );
    }
    Ok(())
}

/// Refuses a URL whose password is a committed demo password outside development.
pub fn refuse_demo_password(environment: Environment, name: &str, url: &str) -> anyhow::Result<()> {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p);
    if environment.is_production() && password.is_some_and(|p| DEMO_PASSWORDS.contains(&p)) {
        anyhow::bail!(
            "{name} carries a demo password committed to the Kansrijk repository: not for KANSRIJK_ENV={environment:?}"
        );
    }
    Ok(())
}

/// A secret: the contents of the file named by `<name>_FILE` (trimmed; how Docker and
/// Kubernetes secrets are mounted), otherwise the variable `name` itself.
pub fn secret_var(
    lookup: impl Fn(&str) -> Option<String>,
    name: &str,
) -> anyhow::Result<Option<String>> {
    if let Some(path) = lookup(&format!("{name}_FILE")).filter(|v| !v.trim().is_empty()) {
        let text = std::fs::read_to_string(path.trim())
            .map_err(|e| anyhow::anyhow!("{name}_FILE ({}): {e}", path.trim()))?;
        let text = text.trim().to_owned();
        anyhow::ensure!(!text.is_empty(), "{name}_FILE ({}) is empty", path.trim());
        return Ok(Some(text));
    }
    Ok(lookup(name).filter(|v| !v.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_development_environments() {
        for v in ["production", "PROD", "acceptatie", "acceptance", "staging"] {
            assert!(Environment::parse(v).unwrap().is_production(), "{v}");
        }
        for v in ["development", "dev", "local", "test", "ci"] {
            assert!(Environment::parse(v).unwrap().is_development(), "{v}");
        }
        assert!(Environment::parse("staging-ish").is_err());
        assert_eq!(
            Environment::from_lookup(|_| None).unwrap(),
            Environment::Development
        );
    }

    #[test]
    fn committed_demo_keys_are_refused_outside_development() {
        let prod = Environment::Production;
        for v in [
            "1:riDWUwAH8SE5y/fZ+pVqT/o+a8nryAnd822AwtZbQLI=",
            "2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,1:riDWUwAH8SE5y/fZ+pVqT/o+a8nryAnd822AwtZbQLI=",
            "PgaEfyVLHPvJXGWZNny2rClwQ5mxKyrOr1AUfvlvSDM",
            "PgaEfyVLHPvJXGWZNny2rClwQ5mxKyrOr1AUfvlvSDM=\n",
            "o-Oedk1aYApwZQtnblp_cSPPkKS9HtSwGgwnijM-xNBQzAiY5vy5nIb-MfXhOmzU",
        ] {
            assert!(refuse_demo_secret(prod, "K", v).is_err(), "{v}");
            refuse_demo_secret(Environment::Development, "K", v).unwrap();
        }
        refuse_demo_secret(prod, "K", "1:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=").unwrap();
    }

    #[test]
    fn demo_passwords_in_urls_are_refused_outside_development() {
        let prod = Environment::Production;
        let url = "postgres://postgres:demo-postgres@postgres:5432/kansrijk";
        assert!(refuse_demo_password(prod, "DATABASE_URL", url).is_err());
        refuse_demo_password(Environment::Development, "DATABASE_URL", url).unwrap();
        assert!(
            refuse_demo_password(prod, "NATS_URL", "nats://gateway:demo-gateway@nats:4222")
                .is_err()
        );
        refuse_demo_password(
            prod,
            "NATS_URL",
            "nats://gateway:s3cr3t-generated@nats:4222",
        )
        .unwrap();
        refuse_demo_password(prod, "NATS_URL", "nats://127.0.0.1:4222").unwrap();
    }

    #[test]
    fn a_secret_is_read_from_its_file() {
        let dir = std::env::temp_dir().join(format!("kansrijk-secret-{}", std::process::id()));
        std::fs::write(&dir, "abc\n").unwrap();
        let path = dir.display().to_string();
        let got = secret_var(|k| (k == "X_FILE").then(|| path.clone()), "X").unwrap();
        assert_eq!(got.as_deref(), Some("abc"));
        assert_eq!(
            secret_var(|k| (k == "X").then(|| "v".into()), "X")
                .unwrap()
                .as_deref(),
            Some("v")
        );
        let _ = std::fs::remove_file(&dir);
    }
}

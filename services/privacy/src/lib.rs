#![doc = include_str!("../README.md")]
//!
//! ## Layout
//! - [`config`]: `Config::from_env` and the retention policy.
//! - [`domain`]: the pure life of a subject (decide/apply) and the retention verdict.
//! - [`subjects`]: [`Privacy`], keys and subject commands in one transaction each; master-key
//!   rotation.
//! - [`access_log`]: the hash-chained log: group-committed appends, verification, purge, queries.
//! - [`retention`]: the dry-run report and the scheduler.
//! - [`subject_access`]: AVG art. 15, assembled from every service.
//! - [`disclosure`]: the disclosure-policy test machinery for views.
//! - [`demo`]: the privacy officer's demo data (an erasure request held back, a subject-access
//!   request, access-log entries).
//! - [`requests`]: the register of erasure and subject-access requests awaiting the officer.
//! - [`handlers`]: the NATS endpoints.

pub mod access_log;
pub mod config;
pub mod demo;
pub mod disclosure;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod requests;
pub mod retention;
pub mod subject_access;
pub mod subjects;

use kansrijk_runtime::host::ServiceHost;
use tokio_util::sync::CancellationToken;

pub use access_log::{verify_chain, verify_chain_sealed, VerifyReport};
pub use config::Config;
pub use retention::{apply_retention, retention_report, RetentionReport};
pub use subjects::{rotate_master_key, Privacy};

/// The relay's service name and the subject token of the privacy events.
pub const SERVICE: &str = "privacy";

/// Starts the privacy service with the local configuration as a task and returns once it
/// answers on NATS (tests and tools that need the real service next to their own).
pub async fn spawn_local(
    database_url: &str,
    nats_url: &str,
    shutdown: &CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let handle = tokio::spawn(run(
        Config::for_local(database_url, nats_url),
        shutdown.clone(),
    ));
    let client = async_nats::connect(nats_url).await?;
    kansrijk_runtime::testing::until_answered(
        &client,
        kansrijk_runtime::testing::PRIVACY_READINESS_SUBJECT,
    )
    .await;
    Ok(handle)
}

/// Runs the privacy service until `shutdown`: migrations, the relay, the NATS endpoints, the
/// retention scheduler and (when configured) the ops endpoints. In-flight requests finish.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut host = ServiceHost::start(
        &config.common,
        SERVICE,
        subjects::SCHEMA,
        20,
        Some(sqlx::migrate!("./migrations")),
    )
    .await?;
    let interval = config.retention_interval;
    let privacy = Privacy::new(host.pool.clone(), config, Some(host.relay_waker()));
    if let Some(interval) = interval {
        host.spawn(retention::scheduler(
            privacy.clone(),
            interval,
            shutdown.clone(),
        ));
    }
    let endpoints = handlers::endpoints(&privacy, &host.nats);
    host.serve(endpoints, 256, shutdown).await
}

/// Every NATS subject this service sends requests to, besides its own events and the JetStream
/// API: each service's part of a subject access request (AVG art. 15), for the services it asks
/// by default ([`config::DEFAULT_INZAGE_SERVICES`]). The grants of NATS user `privacy` in
/// deploy/kubernetes/nats/values.yaml are exactly these (services/cli/tests/nats_permissions.rs).
pub fn nats_requests() -> Vec<String> {
    config::DEFAULT_INZAGE_SERVICES
        .iter()
        .map(|s| kansrijk_proto::privacy::subjects::subject_access_part(s))
        .collect()
}

//! Handover (overdracht): the preschool-to-school file (overdrachtsformulier, written by the
//! childcare location) and the PO-to-VO file (onderwijskundig rapport, written by the primary
//! school), from the sender's draft through the parents' say and the receiving school's
//! confirmation to the warm handover and, for PO-VO, the year-3 position that flows back.
//!
//! - [`domain`]: pure decisions (the file's state machine and its field checks).
//! - [`handlers`]: the NATS endpoints (`kansrijk.cmd.overdracht.<name>`, bodies in
//!   [`kansrijk_proto::handover`]).
//! - [`demo`]: the demo world (seeded generator and loader over NATS).
//! - [`oso`]: the OSO JSON mapping of a PO-VO file (import and export), documented in `OSO.md`.
//! - [`erasure`]: follows the privacy service's erasures and ended retention.
//! - [`run`]: store, relay, endpoints, the scheduler (overdue confirmations, privacy follow-up).
//!
//! Every file is its own data subject: its stream id is a random UUID with its own key at the
//! privacy service. The child's identity and every word about the child are sealed with that key
//! before the first event is stored; parents refusing consent destroy the key (crypto-shredding)
//! and leave only the fact and the reason category.

pub mod config;
pub mod demo;
pub mod domain;
pub mod erasure;
pub mod handlers;
pub mod oso;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kansrijk_runtime::host::ServiceHost;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use handlers::{Service, SERVICE};

/// The PostgreSQL schema of this service.
pub const SCHEMA: &str = "overdracht";

/// The service's own migrations (run after the runtime's).
pub fn migrations() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations")
}

/// Runs the service until `shutdown`: store, relay, endpoints, scheduler, ops routes.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut host =
        ServiceHost::start(&config.common, SERVICE, SCHEMA, 10, Some(migrations())).await?;
    let svc = Arc::new(Service::new(
        host.store.clone(),
        host.nats.clone(),
        &config,
        Some(host.relay_waker()),
    ));
    let on_erased: erasure::OnErased = {
        let svc = svc.clone();
        Arc::new(move |subject| svc.forget_key(subject))
    };
    let erase_now: erasure::EraseNow = {
        let svc = svc.clone();
        Arc::new(move |files, grounds| svc.erase_files_now(files, grounds))
    };
    host.run_projection(
        Arc::new(erasure::ErasureFollowUp {
            on_erased: Some(on_erased),
            erase_now: Some(erase_now),
        }),
        &shutdown,
    );
    host.spawn(scheduler(
        svc.clone(),
        config.scan_interval,
        shutdown.clone(),
    ));
    host.serve(handlers::endpoints(&svc), config.max_in_flight, shutdown)
        .await
}

/// Every `interval`: flags files not confirmed in time, and retries unanswered privacy requests.
async fn scheduler(svc: Arc<Service>, interval: Duration, shutdown: CancellationToken) {
    loop {
        match svc.flag_overdue(Utc::now().date_naive()).await {
            Ok(n) if n > 0 => tracing::info!(flagged = n, "unconfirmed handover files flagged"),
            Ok(_) => {}
            Err(p) => tracing::warn!(status = p.status, "flagging overdue files failed"),
        }
        if let Err(e) = svc.follow_up_privacy().await {
            tracing::warn!(error = %e, "privacy follow-up failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// Every NATS subject this service sends requests to, besides its own events and the JetStream
/// API, from the constants the calls use. The grants of NATS user `overdracht` in
/// deploy/kubernetes/nats/values.yaml are exactly these (services/cli/tests/nats_permissions.rs).
pub fn nats_requests() -> Vec<String> {
    use kansrijk_proto::privacy::subjects as privacy_subjects;
    use kansrijk_proto::subject::privacy;
    vec![
        privacy::KEYS_GET.into(),
        privacy::KEYS_CREATE.into(),
        privacy::ACCESS_LOG_APPEND.into(),
        // Shred a file's key when parents refuse consent (and follow a child's erasure); the
        // retention of a file.
        privacy_subjects::ERASE.into(),
        privacy_subjects::REGISTER_RETENTION.into(),
    ]
}

//! VVE reach: JGZ and childcare keep a child's VVE record, from registration through indication,
//! referral and outreach to placement; municipalities set their target-group definitions.
//!
//! - [`domain`]: pure decisions (the child's state machine, BSN, target-group catalogue).
//! - [`api`]: command request bodies and subjects (`kansrijk.cmd.vve.<name>`).
//! - [`handlers`]: the NATS endpoints.
//! - [`demo`]: a seeded demo data set for a Leiden-sized municipality, and [`load_demo`].
//!
//! The child is the data subject: its stream id is a random UUID that is also its subject id at
//! the privacy service. BSN, name, postcode, birth date and indication criteria are sealed with
//! the child's key before the first event is stored; an erased child answers 410.

pub mod api;
pub mod config;
pub mod demo;
pub mod domain;
pub mod erasure;
pub mod faults;
pub mod handlers;

use std::sync::Arc;

use kansrijk_runtime::host::ServiceHost;
use tokio_util::sync::CancellationToken;

pub use config::{Config, RegistryMode};
pub use demo::load_demo;

/// The PostgreSQL schema of this service.
pub const SCHEMA: &str = "vve";

/// The service's own migrations (run after the runtime's).
pub fn migrations() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations")
}

/// Runs the service until `shutdown`: store, relay, endpoints, erasure follow-up, ops routes.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut host =
        ServiceHost::start(&config.common, api::SERVICE, SCHEMA, 10, Some(migrations())).await?;
    let svc = Arc::new(handlers::Service::new(
        host.store.clone(),
        host.nats.clone(),
        &config,
        Some(host.relay_waker()),
    ));
    let on_erased: erasure::OnErased = {
        let svc = svc.clone();
        Arc::new(move |subject| svc.forget_key(subject))
    };
    host.run_projection(
        Arc::new(erasure::ErasedChildren {
            on_erased: Some(on_erased),
        }),
        &shutdown,
    );
    host.serve(handlers::endpoints(&svc), config.max_in_flight, shutdown)
        .await
}

/// Every NATS subject this service sends requests to, besides its own events and the JetStream
/// API, from the functions and constants the calls use. The grants of NATS user `vve` in
/// deploy/kubernetes/nats/values.yaml are exactly these (services/cli/tests/nats_permissions.rs).
pub fn nats_requests() -> Vec<String> {
    use kansrijk_proto::subject::privacy;
    vec![
        privacy::KEYS_GET.into(),
        privacy::KEYS_CREATE.into(),
        privacy::PSEUDONYM.into(),
        privacy::ACCESS_LOG_APPEND.into(),
        // The JGZ retention period of a newly registered child.
        kansrijk_proto::privacy::subjects::REGISTER_RETENTION.into(),
        // A referral goes only to a registered VVE location; a district only from the registry.
        api::registry_locations_subject(),
        handlers::districts_subject(),
    ]
}

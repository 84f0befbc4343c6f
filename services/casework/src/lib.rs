//! Casework, "1 gezin 1 plan": one family's case, directed by a youth team, with the plan the
//! family owns and the organisations around it, each seeing only what the parents consented to.
//!
//! - [`domain`]: pure decisions (the case's state machine, the consent lifecycle).
//! - [`api`]: command request bodies; subjects are in [`kansrijk_proto::casework::subjects`].
//! - [`handlers`]: the NATS endpoints (`kansrijk.cmd.casework.<name>`).
//!
//! The family is the data subject: the case's stream id is a random UUID that is also the
//! family's subject id at the privacy service ([`SubjectKind::Gezin`]). Household members and
//! every free text of the plan are sealed with the family's key before the first event is
//! stored; an erased family answers 410. An escalation to Veilig Thuis places a legal hold and
//! writes a break-glass entry to the access log; closing a case registers its retention.
//!
//! [`SubjectKind::Gezin`]: kansrijk_proto::privacy::SubjectKind::Gezin

pub mod api;
pub mod config;
pub mod demo;
pub mod domain;
pub mod erasure;
pub mod handlers;

use std::sync::Arc;

use kansrijk_proto::casework::subjects;
use kansrijk_runtime::host::ServiceHost;
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// The PostgreSQL schema of this service.
pub const SCHEMA: &str = "casework";

/// Runs the service until `shutdown`: store, relay, command endpoints, erasure follow-up, ops
/// routes.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut host = ServiceHost::start(&config.common, subjects::SERVICE, SCHEMA, 10, None).await?;
    let svc = Arc::new(handlers::Service::new(
        host.store.clone(),
        host.nats.clone(),
        &config,
        Some(host.relay_waker()),
    ));
    let on_erased = {
        let svc = svc.clone();
        Arc::new(move |subject| svc.forget_key(subject))
    };
    host.run_projection(Arc::new(erasure::ErasedFamilies { on_erased }), &shutdown);
    host.serve(handlers::endpoints(&svc), config.max_in_flight, shutdown)
        .await
}

/// Every NATS subject this service sends requests to, besides its own events and the JetStream
/// API, from the constants the calls use. The grants of NATS user `casework` in
/// deploy/kubernetes/nats/values.yaml are exactly these (services/cli/tests/nats_permissions.rs).
pub fn nats_requests() -> Vec<String> {
    use kansrijk_proto::privacy::subjects as privacy_subjects;
    use kansrijk_proto::subject::privacy;
    vec![
        privacy::KEYS_GET.into(),
        privacy::KEYS_CREATE.into(),
        privacy::ACCESS_LOG_APPEND.into(),
        // A legal hold while a child-protection escalation is open; a closed case's retention.
        privacy_subjects::PLACE_HOLD.into(),
        privacy_subjects::REGISTER_RETENTION.into(),
        handlers::districts_subject(),
    ]
}

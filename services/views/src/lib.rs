//! The views service: projections that keep the GDPR-scoped read models of each partner, and the
//! queries that answer from them.

pub mod audit;
pub mod casework;
pub mod handover;
pub mod service;
pub mod subject_access;
pub mod vve;

pub use service::{run, Config};

/// Every NATS subject the views send requests to (they publish no events): the keys to open what
/// they show and the access log. The grants of NATS user `views` in
/// deploy/kubernetes/nats/values.yaml are exactly these and the JetStream API of a consumer
/// (services/cli/tests/nats_permissions.rs).
pub fn nats_requests() -> Vec<String> {
    use kansrijk_proto::subject::privacy;
    vec![privacy::KEYS_GET.into(), privacy::ACCESS_LOG_APPEND.into()]
}

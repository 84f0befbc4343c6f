//! The services `kansrijk` knows: their names on the command line, their PostgreSQL schemas,
//! their subject tokens and where the local stack serves their `/livez`, `/readyz` and `/metrics`.

use std::sync::Arc;

use kansrijk_runtime::projection::Projection;
use tokio_util::sync::CancellationToken;

/// One service of the system.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service {
    /// Name on the command line (`kansrijk serve <name>`).
    pub(crate) name: &'static str,
    /// Its own PostgreSQL schema.
    pub(crate) schema: &'static str,
    /// Token in its event subjects (`kansrijk.evt.<token>.>`), when it keeps an event store.
    pub(crate) event_token: Option<&'static str>,
    /// Its ops endpoints in the local stack: the port's offset from `kansrijk up --ops-base-port`
    /// (9101 by default). `None`: served on the service's HTTP address (the gateway).
    pub(crate) ops_port_offset: Option<u16>,
}

/// Start order: keys first, then the domain services, the views, and the front door last.
pub(crate) const SERVICES: &[Service] = &[
    Service {
        name: "privacy",
        schema: "privacy",
        event_token: Some("privacy"),
        ops_port_offset: Some(0),
    },
    Service {
        name: "vve-reach",
        schema: "vve",
        event_token: Some("vve"),
        ops_port_offset: Some(1),
    },
    Service {
        name: "handover",
        schema: "overdracht",
        event_token: Some("overdracht"),
        ops_port_offset: Some(2),
    },
    Service {
        name: "casework",
        schema: "casework",
        event_token: Some("casework"),
        ops_port_offset: Some(3),
    },
    Service {
        name: "views",
        schema: "views",
        event_token: None,
        ops_port_offset: Some(4),
    },
    Service {
        name: "gateway",
        schema: "registry",
        event_token: None,
        ops_port_offset: None,
    },
];

/// The schema that holds the projections (read models) and their bookkeeping.
pub(crate) const VIEWS_SCHEMA: &str = "views";

pub(crate) fn find(name: &str) -> anyhow::Result<&'static Service> {
    SERVICES.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<_> = SERVICES.iter().map(|s| s.name).collect();
        anyhow::anyhow!("unknown service {name:?}; known: {}", names.join(", "))
    })
}

/// Runs one service in this process until `shutdown`.
pub(crate) async fn run_service(name: &str, shutdown: CancellationToken) -> anyhow::Result<()> {
    match name {
        "privacy" => kansrijk_privacy::run(kansrijk_privacy::Config::from_env()?, shutdown).await,
        "vve-reach" => {
            kansrijk_vve_reach::run(kansrijk_vve_reach::Config::from_env()?, shutdown).await
        }
        "handover" => {
            kansrijk_handover::run(kansrijk_handover::Config::from_env()?, shutdown).await
        }
        "casework" => {
            kansrijk_casework::run(kansrijk_casework::Config::from_env()?, shutdown).await
        }
        "views" => kansrijk_views::run(kansrijk_views::Config::from_env()?, shutdown).await,
        "gateway" => kansrijk_gateway::run(kansrijk_gateway::Config::from_env()?, shutdown).await,
        other => Err(find(other)
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("{other} cannot be served"))),
    }
}

/// Every projection of the views service (for `rebuild` and `parked`).
pub(crate) fn projections() -> Vec<Arc<dyn Projection>> {
    kansrijk_views::service::all_projections(None)
}

/// (service, schema, the service's own migrations when it has any).
pub(crate) fn migrators() -> Vec<(&'static str, &'static str, Option<sqlx::migrate::Migrator>)> {
    vec![
        (
            "privacy",
            "privacy",
            Some(sqlx::migrate!("../privacy/migrations")),
        ),
        (
            "vve-reach",
            "vve",
            Some(sqlx::migrate!("../vve-reach/migrations")),
        ),
        (
            "handover",
            "overdracht",
            Some(sqlx::migrate!("../handover/migrations")),
        ),
        ("casework", "casework", None),
        (
            "views",
            "views",
            Some(sqlx::migrate!("../views/migrations")),
        ),
        (
            "gateway",
            "registry",
            Some(sqlx::migrate!("../gateway/migrations")),
        ),
    ]
}

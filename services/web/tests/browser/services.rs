//! The domain services a journey needs, started as their crates start them (`run()`), and the
//! views wired as the views tests wire them (the views crate has no `run()` yet).

use std::sync::Arc;

use kansrijk_runtime::projection::{ProjectionRunner, RunnerConfig};
use kansrijk_runtime::testing::{NatsServer, TestDb};
use tokio_util::sync::CancellationToken;

/// The partner registry as the gateway serves it over NATS, with its reference data (the
/// municipalities' districts) and the demo organisations (childcare locations, schools).
pub(crate) async fn start_registry(
    db: &TestDb,
    nats: &async_nats::Client,
    shutdown: &CancellationToken,
) {
    let pool = kansrijk_gateway::registry::connect(&db.url, 5)
        .await
        .expect("registry database");
    kansrijk_gateway::seed_demo(&pool)
        .await
        .expect("demo organisations");
    tokio::spawn(kansrijk_gateway::registry::service::serve(
        nats.clone(),
        pool,
        shutdown.clone(),
    ));
}

pub(crate) async fn start_vve(
    db: &TestDb,
    nats_server: &NatsServer,
    nats: &async_nats::Client,
    shutdown: &CancellationToken,
) {
    tokio::spawn(kansrijk_vve_reach::run(
        kansrijk_vve_reach::Config::local(&db.url, &nats_server.url()),
        shutdown.clone(),
    ));
    let pool = kansrijk_runtime::db::connect(&db.url, "views", 10)
        .await
        .unwrap();
    kansrijk_runtime::db::migrate(&pool, Some(kansrijk_views::vve::migrations()))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nats.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();
    for p in kansrijk_views::vve::projections() {
        tokio::spawn(
            ProjectionRunner::new(pool.clone(), js.clone(), p, RunnerConfig::default())
                .run(shutdown.clone()),
        );
    }
    let views = Arc::new(kansrijk_views::vve::VveViews::new(
        pool.clone(),
        nats.clone(),
        kansrijk_runtime::identity::service_actor("views", kansrijk_runtime::config::DEFAULT_OIN),
        kansrijk_views::vve::monitor::MonitorConfig::default(),
    ));
    tokio::spawn(kansrijk_runtime::service::serve(
        nats.clone(),
        "views-vve",
        kansrijk_views::vve::endpoints(&views),
        16,
        shutdown.clone(),
    ));
}

pub(crate) async fn start_handover(
    db: &TestDb,
    nats_server: &NatsServer,
    nats: &async_nats::Client,
    shutdown: &CancellationToken,
) {
    tokio::spawn(kansrijk_handover::run(
        kansrijk_handover::Config::local(&db.url, &nats_server.url()),
        shutdown.clone(),
    ));
    let pool = kansrijk_runtime::db::connect(&db.url, "views", 10)
        .await
        .unwrap();
    kansrijk_runtime::db::migrate(&pool, Some(kansrijk_views::vve::migrations()))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nats.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();
    for p in kansrijk_views::handover::projections() {
        tokio::spawn(
            ProjectionRunner::new(pool.clone(), js.clone(), p, RunnerConfig::default())
                .run(shutdown.clone()),
        );
    }
    let views = Arc::new(kansrijk_views::handover::HandoverViews::new(
        pool.clone(),
        nats.clone(),
        kansrijk_runtime::identity::service_actor("views", kansrijk_runtime::config::DEFAULT_OIN),
        kansrijk_views::vve::suppression::SuppressionConfig::default(),
        14,
    ));
    tokio::spawn(kansrijk_runtime::service::serve(
        nats.clone(),
        "views-overdracht",
        kansrijk_views::handover::endpoints(&views),
        16,
        shutdown.clone(),
    ));
}

pub(crate) async fn start_casework(
    db: &TestDb,
    nats_server: &NatsServer,
    nats: &async_nats::Client,
    shutdown: &CancellationToken,
) {
    tokio::spawn(kansrijk_casework::run(
        kansrijk_casework::Config::local(&db.url, &nats_server.url()),
        shutdown.clone(),
    ));
    let pool = kansrijk_runtime::db::connect(&db.url, "views", 10)
        .await
        .unwrap();
    kansrijk_runtime::db::migrate(&pool, Some(kansrijk_views::vve::migrations()))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nats.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();
    let views = Arc::new(kansrijk_views::casework::queries::CaseworkViews::new(
        pool.clone(),
        nats.clone(),
        kansrijk_runtime::config::DEFAULT_OIN,
        std::time::Duration::from_secs(60),
    ));
    for p in kansrijk_views::casework::projections(Some(views.clone())) {
        tokio::spawn(
            ProjectionRunner::new(pool.clone(), js.clone(), p, RunnerConfig::default())
                .run(shutdown.clone()),
        );
    }
    tokio::spawn(kansrijk_runtime::service::serve(
        nats.clone(),
        "views-casework",
        kansrijk_views::casework::endpoints(&views),
        16,
        shutdown.clone(),
    ));
}

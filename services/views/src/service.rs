//! The views service process: runs every projection, serves every query endpoint, answers the
//! gateway's read-your-writes wait (`kansrijk.qry.views.wacht-op`) and the privacy service's
//! request for the views' part of a subject access request (`kansrijk.qry.views.inzage`,
//! [`crate::subject_access`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use kansrijk_runtime::access_log::{is_query, log_refused_reads, AccessLogClient};
use kansrijk_runtime::config::CommonConfig;
use kansrijk_runtime::projection::{
    wait_for_applied, AppliedFeed, Projection, ProjectionRunner, RunnerConfig,
};
use kansrijk_runtime::service::{handler, Endpoints, Request};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{casework, handover, subject_access, vve};

/// The PostgreSQL schema of the read models.
pub const SCHEMA: &str = "views";

/// Configuration of the views service.
#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub vve_monitor: vve::monitor::MonitorConfig,
    /// Days within which a school must confirm a handover file before it is flagged.
    pub handover_confirm_within_days: u16,
    /// How long a fetched subject key is cached.
    pub key_ttl: Duration,
    /// Longest read-your-writes wait a caller may ask for.
    pub max_wait: Duration,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let days = std::env::var("KANSRIJK_OVERDRACHT_BEVESTIGEN_BINNEN_DAGEN")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| v.parse())
            .transpose()?
            .unwrap_or(14);
        Ok(Config {
            common: CommonConfig::from_env()?,
            vve_monitor: vve::monitor::MonitorConfig::from_env()?,
            handover_confirm_within_days: days,
            key_ttl: Duration::from_secs(30),
            max_wait: Duration::from_secs(2),
        })
    }

    /// For the local stack and tests.
    pub fn local(database_url: &str, nats_url: &str) -> Self {
        Config {
            common: CommonConfig {
                database_url: database_url.into(),
                nats_url: nats_url.into(),
                stream_replicas: 1,
                oin: kansrijk_runtime::config::DEFAULT_OIN.into(),
                ops_addr: None,
            },
            vve_monitor: vve::monitor::MonitorConfig::default(),
            handover_confirm_within_days: 14,
            key_ttl: Duration::from_secs(30),
            max_wait: Duration::from_secs(2),
        }
    }
}

/// The projections a write to each service's streams should be waited for.
pub fn wait_targets() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([
        ("vve", vec![vve::projection::ChildrenProjection::NAME]),
        ("overdracht", handover::PROJECTION_NAMES.to_vec()),
        ("casework", casework::PROJECTIONS.to_vec()),
    ])
}

/// Request of `kansrijk.qry.views.wacht-op` (sent by the gateway after a command).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitRequest {
    pub stream_id: Uuid,
    pub version: i64,
    /// The service that owns the stream (`vve`, `overdracht`, `casework`, ...).
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// Reply of `kansrijk.qry.views.wacht-op`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitReply {
    /// Whether every view of that stream had applied the version in time.
    pub bijgewerkt: bool,
}

/// Every projection the views service runs.
pub fn all_projections(
    casework_views: Option<Arc<casework::CaseworkViews>>,
) -> Vec<Arc<dyn Projection>> {
    let mut all = vve::projections();
    all.extend(handover::projections());
    all.extend(casework::projections(casework_views));
    all
}

fn wait_endpoint(pool: PgPool, feed: AppliedFeed, max_wait: Duration) -> Endpoints {
    let targets = Arc::new(wait_targets());
    let mut e = Endpoints::new();
    e.insert(
        subject::query("views.wacht-op"),
        handler(move |req: Request| {
            let pool = pool.clone();
            let targets = targets.clone();
            let feed = feed.clone();
            async move {
                let w: WaitRequest = req.json()?;
                let projections = targets.get(w.service.as_str()).cloned().unwrap_or_default();
                let timeout = Duration::from_millis(w.timeout_ms.unwrap_or(500)).min(max_wait);
                let bijgewerkt =
                    wait_for_applied(&pool, &feed, &projections, w.stream_id, w.version, timeout)
                        .await
                        .map_err(|e| {
                            tracing::warn!(error = %e, "read-your-writes wait failed");
                            Problem::unavailable("De weergaven zijn niet bereikbaar.")
                        })?;
                Ok(WaitReply { bijgewerkt })
            }
        }),
    );
    e
}

/// Runs the views service until `shutdown`.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let metrics = kansrijk_runtime::telemetry::init_metrics();
    let pool = kansrijk_runtime::db::connect(&config.common.database_url, SCHEMA, 30).await?;
    kansrijk_runtime::db::migrate(&pool, Some(vve::migrations())).await?;
    let nats = kansrijk_runtime::nats::connect(&config.common.nats_url, "kansrijk-views").await?;
    let js = jetstream::new(nats.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, config.common.stream_replicas).await?;
    let actor = kansrijk_runtime::identity::service_actor("views", &config.common.oin);

    let vve_views = Arc::new(vve::VveViews::new(
        pool.clone(),
        nats.clone(),
        actor.clone(),
        config.vve_monitor,
    ));
    let subject_access = Arc::new(subject_access::SubjectAccess::new(
        pool.clone(),
        nats.clone(),
        actor.clone(),
    ));
    let access_log = AccessLogClient::new(nats.clone(), actor.clone());
    let handover_views = Arc::new(handover::HandoverViews::new(
        pool.clone(),
        nats.clone(),
        actor,
        config.vve_monitor.suppression,
        config.handover_confirm_within_days,
    ));
    let casework_views = Arc::new(casework::CaseworkViews::new(
        pool.clone(),
        nats.clone(),
        &config.common.oin,
        config.key_ttl,
    ));

    // The runners announce what they commit; read-your-writes waits listen instead of polling.
    let feed = AppliedFeed::default();
    let mut runners = tokio::task::JoinSet::new();
    for p in all_projections(Some(casework_views.clone())) {
        let runner = ProjectionRunner::new(pool.clone(), js.clone(), p, RunnerConfig::default())
            .with_feed(feed.clone());
        runners.spawn(runner.run(shutdown.clone()));
    }

    let mut endpoints = vve::endpoints(&vve_views);
    endpoints.extend(handover::endpoints(&handover_views));
    endpoints.extend(casework::endpoints(&casework_views));
    endpoints.extend(wait_endpoint(pool.clone(), feed, config.max_wait));
    endpoints.extend(subject_access::endpoints(subject_access));
    // Every refused read of every query (403/404) is in the access log (NEN 7513).
    let endpoints = log_refused_reads(endpoints, &access_log, is_query);

    if let Some(addr) = config.common.ops_addr {
        let router = kansrijk_runtime::health::router(
            metrics,
            kansrijk_runtime::health::pg_and_nats(pool.clone(), nats.clone()),
        );
        let s = shutdown.clone();
        tokio::spawn(async move {
            if let Err(e) = kansrijk_runtime::health::serve(addr, router, s).await {
                tracing::error!(error = %e, "ops server stopped");
            }
        });
    }

    tracing::info!(projections = runners.len(), "views service started");
    kansrijk_runtime::service::serve(nats, "views", endpoints, 256, shutdown).await?;
    while runners.join_next().await.is_some() {}
    pool.close().await;
    Ok(())
}

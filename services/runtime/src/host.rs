//! The frame of every service process: its PostgreSQL schema and migrations, the NATS connection
//! and the events stream, its event store and relay, `/livez` `/readyz` `/metrics`, background
//! tasks (projections, schedulers), and serving its endpoints until shutdown, then draining.
//!
//! ```text
//! let mut host = ServiceHost::start(&config.common, "vve", "vve", 10, Some(migrations())).await?;
//! let svc = Arc::new(Service::new(host.store.clone(), host.nats.clone(), Some(host.relay_waker())));
//! host.run_projection(Arc::new(ErasedChildren { .. }), &shutdown);
//! host.serve(handlers::endpoints(&svc), 256, shutdown).await
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::Client;
use kansrijk_proto::envelope::Source;
use sqlx::migrate::Migrator;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::CommonConfig;
use crate::projection::{Projection, ProjectionRunner, RunnerConfig};
use crate::relay::{Relay, RelayConfig};
use crate::service::Endpoints;
use crate::store::EventStore;

/// A started service process, before it serves.
#[derive(Debug)]
pub struct ServiceHost {
    /// The service's name: NATS service, relay and event subject token (`vve`, `casework`...).
    pub name: &'static str,
    pub pool: PgPool,
    pub nats: Client,
    pub js: jetstream::Context,
    pub store: EventStore,
    relay: Relay,
    ops_addr: Option<SocketAddr>,
    tasks: JoinSet<()>,
}

impl ServiceHost {
    /// Connects to PostgreSQL (schema `schema`, migrated with the runtime's and the service's
    /// migrations) and NATS, and makes sure the events stream exists.
    pub async fn start(
        common: &CommonConfig,
        name: &'static str,
        schema: &str,
        connections: u32,
        migrations: Option<Migrator>,
    ) -> anyhow::Result<Self> {
        crate::telemetry::init_metrics();
        let pool = crate::db::connect(&common.database_url, schema, connections).await?;
        crate::db::migrate(&pool, migrations).await?;
        let nats = crate::nats::connect(&common.nats_url, &format!("kansrijk-{name}")).await?;
        let js = jetstream::new(nats.clone());
        crate::nats::ensure_events_stream(&js, common.stream_replicas).await?;
        let store = EventStore::new(pool.clone());
        let relay = Relay::new(
            store.clone(),
            js.clone(),
            RelayConfig {
                service: name.into(),
                source: Source::new("oin", &common.oin, &format!("kansrijk-{name}"))?,
                batch_size: 500,
                // Appends in this process wake the relay at once; the poll covers other replicas.
                poll_interval: Duration::from_millis(500),
            },
        );
        Ok(ServiceHost {
            name,
            pool,
            nats,
            js,
            store,
            relay,
            ops_addr: common.ops_addr,
            tasks: JoinSet::new(),
        })
    }

    /// Wakes this process's relay; call after an append (handlers keep a clone).
    pub fn relay_waker(&self) -> Arc<Notify> {
        self.relay.waker()
    }

    /// Runs a background task until it returns (it should watch the shutdown token).
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&mut self, task: F) {
        self.tasks.spawn(task);
    }

    /// Runs a projection in this process (e.g. a service following erasures).
    pub fn run_projection(
        &mut self,
        projection: Arc<dyn Projection>,
        shutdown: &CancellationToken,
    ) {
        let runner = ProjectionRunner::new(
            self.pool.clone(),
            self.js.clone(),
            projection,
            RunnerConfig::default(),
        );
        self.tasks.spawn(runner.run(shutdown.clone()));
    }

    /// Starts the relay and the ops routes, serves `endpoints` until `shutdown`, then stops every
    /// task, drains NATS and closes the pool.
    pub async fn serve(
        mut self,
        endpoints: Endpoints,
        max_in_flight: usize,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        self.tasks.spawn(self.relay.clone().run(shutdown.clone()));
        if let Some(addr) = self.ops_addr {
            let router = crate::health::router(
                crate::telemetry::init_metrics(),
                crate::health::pg_and_nats(self.pool.clone(), self.nats.clone()),
            );
            let s = shutdown.clone();
            self.tasks.spawn(async move {
                if let Err(e) = crate::health::serve(addr, router, s).await {
                    tracing::error!(error = %e, "ops endpoints stopped");
                }
            });
        }
        tracing::info!(service = self.name, "service running");
        let served = crate::service::serve(
            self.nats.clone(),
            self.name,
            endpoints,
            max_in_flight,
            shutdown.clone(),
        )
        .await;
        shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
        let _ = self.nats.drain().await;
        self.pool.close().await;
        served
    }
}

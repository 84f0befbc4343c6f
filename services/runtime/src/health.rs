//! `/livez`, `/readyz` and `/metrics` for every service process.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

/// A readiness check: `Ok` when the process can do its work.
pub type ReadyCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

#[derive(Clone)]
struct OpsState {
    metrics: PrometheusHandle,
    ready: ReadyCheck,
}

/// The ops routes, to serve on their own address or merge into an HTTP service.
pub fn router(metrics: PrometheusHandle, ready: ReadyCheck) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|State(s): State<OpsState>| async move { s.metrics.render() }),
        )
        .with_state(OpsState { metrics, ready })
}

async fn readyz(State(s): State<OpsState>) -> (StatusCode, String) {
    match (s.ready)().await {
        Ok(()) => (StatusCode::OK, "ready".into()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

/// A readiness check for a PostgreSQL pool and a NATS connection.
pub fn pg_and_nats(pool: sqlx::PgPool, nats: async_nats::Client) -> ReadyCheck {
    Arc::new(move || {
        let pool = pool.clone();
        let nats = nats.clone();
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&pool)
                .await
                .map_err(|_| "postgresql unreachable".to_string())?;
            if nats.connection_state() != async_nats::connection::State::Connected {
                return Err("nats disconnected".into());
            }
            Ok(())
        })
    })
}

/// Serves the ops routes on `addr` until shutdown.
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

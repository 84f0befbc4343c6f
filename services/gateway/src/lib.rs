//! The Kansrijk gateway: the one HTTP surface of Kansrijk.
//!
//! - `/v1`: the API, generated from the route table ([`routes`]); every request is
//!   authenticated (OIDC bearer JWT, [`auth`]), authorised with `kansrijk-policy`, validated (all
//!   field errors at once) and forwarded as a NATS request to the owning service ([`forward`]).
//! - `/v1/openapi.json`: the OpenAPI 3.1 document ([`openapi`]), public, CORS `*`.
//! - `/dev-oidc`: the development issuer with demo personas ([`dev_oidc`]), only when enabled and
//!   never in production.
//! - `/livez`, `/readyz`, `/metrics`.
//! - The partner registry and sociale kaart ([`registry`]), in PostgreSQL schema `registry`,
//!   served as NATS queries by this process.
//!
//! Every error is an RFC 9457 `application/problem+json`; every response carries `API-Version`
//! and the security headers of the NL API Design Rules.

pub mod app;
pub mod auth;
pub mod client;
pub mod config;
pub mod dev_oidc;
pub mod forward;
pub mod openapi;
pub mod problem;
pub mod registry;
pub mod routes;
pub mod validate;

use std::net::SocketAddr;

pub use app::{build_router, build_router_with, AppState};
pub use config::Config;
pub use dev_oidc::{dev_issuer_from_env, dev_token, Persona, PERSONAS};
pub use registry::{import_schools_file, seed_demo, ImportReport, Sector};
use tokio_util::sync::CancellationToken;

/// Serves `router` on `listener` until shutdown (in-flight requests finish).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Runs the gateway: registry database and its NATS queries, and the HTTP API, until shutdown.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    config.validate()?;
    if config.dev_issuer {
        tracing::warn!(issuer = %config.dev_issuer_url(), "development issuer enabled: not for real data");
    }
    let pool = registry::connect(&config.common.database_url, 10).await?;
    let nats = kansrijk_runtime::nats::connect(&config.common.nats_url, "kansrijk-gateway").await?;
    let registry_task = tokio::spawn(registry::service::serve(
        nats.clone(),
        pool.clone(),
        shutdown.clone(),
    ));
    let addr: SocketAddr = config.http_addr;
    // The web UI logs in at the development issuer when the gateway serves one; otherwise at the
    // issuer its environment names (KANSRIJK_OIDC_ISSUER, KANSRIJK_WEB_SESSION_KEY...).
    let web_config = if config.dev_issuer {
        kansrijk_web::WebConfig::for_local(&config.public_url)
    } else {
        kansrijk_web::WebConfig::from_env()?
    };
    // Web sessions live in the gateway's schema (migration 20005), shared by every replica.
    let sessions = kansrijk_web::SessionStore::new(pool.clone());
    let web = kansrijk_web::router(kansrijk_web::WebState::new(
        nats.clone(),
        web_config,
        sessions,
    ));
    let state = AppState::new(config, Some(nats), Some(pool))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "gateway listening");
    let router = build_router_with(state, web);
    let served = serve(listener, router, shutdown.clone()).await;
    shutdown.cancel();
    match registry_task.await {
        Ok(Err(e)) => tracing::error!(error = %e, "registry endpoints stopped with an error"),
        Err(e) => tracing::error!(error = %e, "registry endpoints panicked"),
        Ok(Ok(())) => {}
    }
    served?;
    Ok(())
}

/// Imports a schools CSV into the registry at `database_url` (for `kansrijk registry import`).
pub async fn import_schools(
    database_url: &str,
    path: &std::path::Path,
    municipality: &str,
    sector: Sector,
) -> anyhow::Result<ImportReport> {
    let pool = registry::connect(database_url, 2).await?;
    let report = import_schools_file(&pool, path, municipality, sector).await;
    pool.close().await;
    report
}

/// Imports a childcare locations CSV (LRK, name, VVE, district) into the registry at
/// `database_url` (for `kansrijk registry import-kinderopvang`).
pub async fn import_childcare_locations(
    database_url: &str,
    path: &std::path::Path,
    municipality: &str,
) -> anyhow::Result<ImportReport> {
    let pool = registry::connect(database_url, 2).await?;
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{} kan niet worden geopend: {e}", path.display()));
    let report = match file {
        Ok(f) => registry::import_childcare_csv(&pool, f, municipality).await,
        Err(e) => Err(e),
    };
    pool.close().await;
    report
}

/// Seeds the demo organisations into the registry at `database_url` (for `kansrijk up`).
pub async fn seed_demo_organisations(database_url: &str) -> anyhow::Result<usize> {
    let pool = registry::connect(database_url, 2).await?;
    let n = seed_demo(&pool).await;
    pool.close().await;
    n
}

/// Seeds the demo organisations and returns the demo world's anchor date (`today` on the first
/// load, that first date on every later one).
pub async fn seed_demo_world(
    database_url: &str,
    today: chrono::NaiveDate,
) -> anyhow::Result<(usize, chrono::NaiveDate)> {
    let pool = registry::connect(database_url, 2).await?;
    let result = async {
        let n = seed_demo(&pool).await?;
        let anchor = registry::seed::demo_anchor(&pool, today).await?;
        Ok::<_, anyhow::Error>((n, anchor))
    }
    .await;
    pool.close().await;
    result
}

//! The partner registry, owned by the gateway (PostgreSQL schema `registry`): municipalities and
//! districts, organisations (OIN, KvK, BRIN+vestiging, LRK), childcare locations (with their VVE
//! registration) and schools (BRIN + vestiging). Served as NATS queries
//! (`kansrijk.qry.registry.<name>`) for the `/v1` API and for other services, e.g. "is LRK X a
//! registered VVE location" (`registry.vve-locatie`) and "is BRIN+vestiging Y a school"
//! (`registry.school`), and "which district is this address in" (`registry.wijk-bij-postcode`).
//! Filled from the real sources (DUO, LRK, the municipality's school list, CBS postcodes) by
//! [`import::import`], behind `kansrijk registry import`, `POST /v1/registerimports` and the web
//! UI's "Partnerregister" page.

pub mod import;
pub mod model;
pub mod seed;
pub mod service;
pub mod store;

pub use import::{
    import, import_childcare_csv, import_schools_csv, import_schools_file, ImportError, ImportKind,
    ImportOptions, ImportReport, IssueKind, RowIssue, Sector,
};
pub use seed::seed_demo;

use sqlx::migrate::Migrator;
use sqlx::PgPool;

/// The PostgreSQL schema of the registry.
pub const SCHEMA: &str = "registry";

/// The registry's migrations (20000+).
pub fn migrator() -> Migrator {
    sqlx::migrate!("./migrations")
}

/// Connects to the registry schema and migrates it.
pub async fn connect(database_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let pool = kansrijk_runtime::db::connect(database_url, SCHEMA, max_connections).await?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Applies the runtime's and the registry's migrations to a pool in the registry schema.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    kansrijk_runtime::db::migrate(pool, Some(migrator())).await?;
    Ok(())
}

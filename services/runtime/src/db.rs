//! PostgreSQL pools that work inside one service's schema, and its migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// The event store and projection tables every service schema holds.
pub fn runtime_migrations() -> Migrator {
    sqlx::migrate!("./migrations")
}

/// Connects to `url` with `search_path` set to `schema` (created when missing).
pub async fn connect(url: &str, schema: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    assert!(
        schema.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "schema names are lowercase identifiers"
    );
    let base = PgConnectOptions::from_str(url)?;
    // Create the schema first with a plain connection.
    {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone())
            .await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&pool)
            .await?;
        pool.close().await;
    }
    let opts = base.options([("search_path", schema)]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
}

/// Runs the runtime's migrations and then the service's own (`service` may be `None`).
/// Runtime migrations are numbered 10000+, service migrations 20000+; each migrator ignores the
/// other's entries in the shared `_sqlx_migrations` table.
pub async fn migrate(
    pool: &PgPool,
    service: Option<Migrator>,
) -> Result<(), sqlx::migrate::MigrateError> {
    let mut runtime = runtime_migrations();
    runtime.set_ignore_missing(true);
    runtime.run(pool).await?;
    if let Some(mut own) = service {
        own.set_ignore_missing(true);
        own.run(pool).await?;
    }
    Ok(())
}

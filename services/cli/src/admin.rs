//! Operator tools on the databases and the events stream: migrations, reconciliation, parked
//! events and projection rebuilds. They print identifiers, counts and error texts only: parked
//! events are listed without their payloads, which may hold sealed personal data.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use kansrijk_proto::envelope::Source;
use kansrijk_runtime::projection::{ProjectionRunner, RunnerConfig};
use kansrijk_runtime::store::EventStore;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::catalog::{self, VIEWS_SCHEMA};
use crate::Connection;

/// Creates the database named in `url` when it does not exist yet (connecting to the server's
/// `postgres` database for that).
pub(crate) async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let opts = PgConnectOptions::from_str(url).context("DATABASE_URL is not a PostgreSQL URL")?;
    let Some(name) = opts.get_database().map(str::to_owned) else {
        return Ok(());
    };
    anyhow::ensure!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "database name {name:?} must be a lowercase identifier"
    );
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts.database("postgres"))
        .await
        .context("connecting to PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&admin)
            .await?;
    if !exists {
        // Two processes may race here; the loser's error is harmless when the database exists.
        if let Err(e) = sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
        {
            let now: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&admin)
                    .await?;
            if !now {
                return Err(e).context("creating the database");
            }
        }
    }
    admin.close().await;
    Ok(())
}

/// `kansrijk migrate`: the runtime's tables (event store, relay and projection bookkeeping) and
/// the service's own migrations, in each service's schema.
pub(crate) async fn migrate(database_url: &str) -> anyhow::Result<()> {
    ensure_database(database_url).await?;
    let all = catalog::migrators();
    let bar = ProgressBar::new(all.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} migrating [{bar:20}] {pos}/{len} {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut lines = Vec::new();
    for (service, schema, own) in all {
        bar.set_message(service);
        let pool = kansrijk_runtime::db::connect(database_url, schema, 2)
            .await
            .with_context(|| format!("connecting for schema {schema}"))?;
        let has_own = own.is_some();
        kansrijk_runtime::db::migrate(&pool, own)
            .await
            .with_context(|| format!("migrating schema {schema} ({service})"))?;
        pool.close().await;
        lines.push(format!(
            "  {service:<10} schema {schema:<11} runtime{}",
            if has_own {
                " + own migrations"
            } else {
                " (no own migrations in this build)"
            }
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("migrated:");
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReconcileArgs {
    /// Projections to check (default: every projection the views schema knows).
    #[arg(long = "projection")]
    projections: Vec<String>,
    /// Services whose event stores to compare (default: all that keep events).
    #[arg(long = "service")]
    services: Vec<String>,
    /// Stream types the projection consumes. Default: the types of the streams it has applied
    /// anything of; name them when a projection lost a whole type.
    #[arg(long = "stream-type")]
    stream_types: Vec<String>,
    /// Republish the missing events to JetStream (otherwise only report).
    #[arg(long)]
    republish: bool,
    /// Print the reports as JSON lines.
    #[arg(long)]
    json: bool,
}

async fn table_exists(pool: &PgPool, schema: &str, table: &str) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2)",
    )
    .bind(schema)
    .bind(table)
    .fetch_one(pool)
    .await?)
}

/// `kansrijk reconcile`.
pub(crate) async fn reconcile(conn: &Connection, args: ReconcileArgs) -> anyhow::Result<()> {
    let url = &conn.database_url;
    let views = kansrijk_runtime::db::connect(url, VIEWS_SCHEMA, 2).await?;
    if !table_exists(&views, VIEWS_SCHEMA, "projection_status").await? {
        anyhow::bail!("the views schema has no projection bookkeeping yet: run `kansrijk migrate`");
    }
    let projections: Vec<String> = if args.projections.is_empty() {
        sqlx::query_scalar("SELECT projection FROM projection_status ORDER BY projection")
            .fetch_all(&views)
            .await?
    } else {
        args.projections.clone()
    };
    if projections.is_empty() {
        println!("no projections have run yet: nothing to reconcile");
        return Ok(());
    }
    let services: Vec<&catalog::Service> = if args.services.is_empty() {
        catalog::SERVICES
            .iter()
            .filter(|s| s.event_token.is_some())
            .collect()
    } else {
        args.services
            .iter()
            .map(|s| catalog::find(s))
            .collect::<anyhow::Result<_>>()?
    };
    let js = if args.republish {
        let client = kansrijk_runtime::nats::connect(&conn.nats_url, "kansrijk-reconcile").await?;
        Some(async_nats::jetstream::new(client))
    } else {
        None
    };
    let oin = std::env::var("KANSRIJK_OIN")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| kansrijk_runtime::config::DEFAULT_OIN.to_owned());

    let bar = ProgressBar::new((services.len() * projections.len()) as u64).with_style(
        ProgressStyle::with_template("{spinner} reconciling [{bar:20}] {pos}/{len} {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    let mut reports = Vec::new();
    let mut behind = 0usize;
    for service in services {
        let Some(token) = service.event_token else {
            continue;
        };
        let pool = kansrijk_runtime::db::connect(url, service.schema, 2).await?;
        if !table_exists(&pool, service.schema, "events").await? {
            bar.inc(projections.len() as u64);
            continue;
        }
        let store = EventStore::new(pool.clone());
        let source = Source::new("oin", &oin, &format!("kansrijk-{token}"))
            .map_err(|e| anyhow::anyhow!("KANSRIJK_OIN: {e}"))?;
        for projection in &projections {
            bar.set_message(format!("{} -> {projection}", service.name));
            let types = if args.stream_types.is_empty() {
                // Schema names come from the catalog, not from input.
                sqlx::query_scalar(&format!(
                    "SELECT DISTINCT e.stream_type FROM {schema}.events e
                     JOIN {VIEWS_SCHEMA}.projection_streams p ON p.stream_id = e.stream_id
                     WHERE p.projection = $1 ORDER BY 1",
                    schema = service.schema
                ))
                .bind(projection)
                .fetch_all(&pool)
                .await?
            } else {
                args.stream_types.clone()
            };
            if types.is_empty() {
                bar.inc(1);
                continue;
            }
            let report = kansrijk_runtime::reconcile::reconcile(
                &store,
                token,
                &source,
                &types,
                &views,
                projection,
                js.as_ref(),
            )
            .await
            .with_context(|| format!("reconciling {} with {projection}", service.name))?;
            behind += report.streams_behind;
            reports.push(report);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    if args.json {
        for r in &reports {
            println!("{}", serde_json::to_string(r)?);
        }
    } else {
        println!(
            "{:<24} {:<11} {:>8} {:>8} {:>8} {:>12}",
            "projection", "service", "streams", "behind", "missing", "republished"
        );
        for r in &reports {
            println!(
                "{:<24} {:<11} {:>8} {:>8} {:>8} {:>12}",
                r.projection,
                r.service,
                r.streams_in_store,
                r.streams_behind,
                r.events_missing,
                r.events_republished
            );
        }
        if behind > 0 && !args.republish {
            println!(
                "{behind} stream(s) behind: run again with --republish to send the missing events"
            );
        }
    }
    Ok(())
}

/// `kansrijk parked <projection> [--replay]`.
pub(crate) async fn parked(
    conn: &Connection,
    projection: &str,
    replay: bool,
) -> anyhow::Result<()> {
    let views = kansrijk_runtime::db::connect(&conn.database_url, VIEWS_SCHEMA, 2).await?;
    if !table_exists(&views, VIEWS_SCHEMA, "parked_events").await? {
        anyhow::bail!("the views schema has no projection bookkeeping yet: run `kansrijk migrate`");
    }
    if replay {
        let runner = runner(conn, &views, projection).await?;
        let (ok, failed) = runner.replay_parked().await?;
        println!("projection {projection}: {ok} parked event(s) applied, {failed} still failing");
    }
    let parked = kansrijk_runtime::projection::list_parked(&views, projection).await?;
    if parked.is_empty() {
        println!("projection {projection}: no parked events");
        return Ok(());
    }
    println!("projection {projection}: {} parked event(s)", parked.len());
    println!("{:>10}  {:<36}  {:<44}  error", "seq", "event id", "type");
    for p in parked {
        println!(
            "{:>10}  {:<36}  {:<44}  {}",
            p.stream_seq, p.event_id, p.event_type, p.error
        );
    }
    Ok(())
}

/// The runner of one of the views service's projections, for the operators' tools.
async fn runner(
    conn: &Connection,
    views: &PgPool,
    projection: &str,
) -> anyhow::Result<ProjectionRunner> {
    let all = catalog::projections();
    let Some(found) = all.iter().find(|p| p.name() == projection).cloned() else {
        let names: Vec<_> = all.iter().map(|p| p.name()).collect();
        anyhow::bail!(
            "unknown projection {projection:?}; this build knows: {}",
            if names.is_empty() {
                "none (kansrijk-views exposes no projections yet)".to_owned()
            } else {
                names.join(", ")
            }
        );
    };
    let client = kansrijk_runtime::nats::connect(&conn.nats_url, "kansrijk-admin").await?;
    Ok(ProjectionRunner::new(
        views.clone(),
        async_nats::jetstream::new(client),
        found,
        RunnerConfig::default(),
    ))
}

/// `kansrijk rebuild <projection>`: drops the read model and replays the whole events stream.
/// The views service must not run this projection meanwhile (stop it, or run it with the others).
pub(crate) async fn rebuild(conn: &Connection, projection: &str) -> anyhow::Result<()> {
    let views = kansrijk_runtime::db::connect(&conn.database_url, VIEWS_SCHEMA, 4).await?;
    let runner = runner(conn, &views, projection).await?;
    println!("rebuilding {projection}: stop the views service first; its consumer is recreated");
    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("static template"),
    );
    spinner.set_message(format!("replaying the events stream into {projection}"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let (applied, took) = runner.rebuild().await?;
    spinner.finish_and_clear();
    let rate = applied as f64 / took.as_secs_f64().max(0.001);
    println!(
        "rebuilt {projection}: {applied} events applied in {:.1} s ({rate:.0} events/s)",
        took.as_secs_f64()
    );
    Ok(())
}

/// `kansrijk erasures [--since <time>]`: the erasure register, from the privacy service's event
/// store: every SubjectErased event (pseudonymous subject id, kind, grounds, when, by which
/// organisation) as JSON lines. Exported regularly and kept outside the database, it is what a
/// restore replays before going live (docs/operations.md, "Erasure and backups").
pub(crate) async fn erasures(
    conn: &Connection,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<()> {
    let pool = kansrijk_runtime::db::connect(&conn.database_url, "privacy", 2).await?;
    if !table_exists(&pool, "privacy", "events").await? {
        anyhow::bail!("the privacy schema has no event store yet: run `kansrijk migrate`");
    }
    let rows: Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>, serde_json::Value)> = sqlx::query_as(
        "SELECT event_id, recorded_at, data FROM events
         WHERE event_type LIKE 'nl.privacy.betrokkene-gewist.%'
           AND ($1::timestamptz IS NULL OR recorded_at >= $1)
         ORDER BY position",
    )
    .bind(since)
    .fetch_all(&pool)
    .await?;
    for (event_id, recorded_at, data) in rows {
        // Only administrative, pseudonymous fields: the subject id, never personal data.
        let line = serde_json::json!({
            "eventId": event_id,
            "recordedAt": recorded_at,
            "subject": data.get("subject"),
            "subjectKind": data.get("subjectKind"),
            "grounds": data.get("grounds"),
            "erasedBy": data.get("erasedBy"),
            "erasedAt": data.get("erasedAt"),
        });
        println!("{line}");
    }
    Ok(())
}

//! `kansrijk bench`: the benchmarks of issues 2 and 10 (`kansrijk-bench` does the work).
//!
//! - `store`: event store appends at 1/16/64 writers against the raw single-row INSERT-and-commit
//!   ceiling of the same PostgreSQL, and relay throughput into JetStream.
//! - `full`: a stack of its own (a fresh database, its own nats-server, every service as a child
//!   process of this binary) driven over HTTP; see `kansrijk_bench::full`.
//! - `faults`: the faults of issue 16 under HTTP load (kill -9 of every service, a 3-node NATS
//!   cluster losing nodes, a PostgreSQL restart, NATS down for 30 s), with what each left behind;
//!   see `kansrijk_bench::faults` (the fault tests run the same driver). RELIABILITY.md.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use crate::Connection;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum BenchCommand {
    /// Event store appends and relay throughput, against the raw INSERT-and-commit ceiling.
    Store(StoreArgs),
    /// The whole system as separate processes on loopback, driven over HTTP.
    Full(FullArgs),
    /// Faults under load (kill -9, NATS cluster nodes, PostgreSQL restart, NATS outage):
    /// acknowledged, lost, duplicated, orphaned, recovery seconds per fault.
    Faults(FaultsArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct FaultsArgs {
    /// The faults to run, comma-separated: kill-services, cluster-nodes, postgres-restart,
    /// nats-outage (default: all).
    #[arg(long, value_delimiter = ',')]
    fault: Vec<kansrijk_bench::faults::Fault>,
    /// Concurrent HTTP clients of the load.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Times each service is killed.
    #[arg(long, default_value_t = 2)]
    kills_per_service: usize,
    /// Seconds NATS is down in the outage.
    #[arg(long, default_value_t = 30)]
    nats_outage_seconds: u64,
    /// Directory for the services' logs (default: a temporary directory, removed after a clean
    /// run).
    #[arg(long)]
    logs: Option<PathBuf>,
    /// Write the Markdown report to this file as well.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StoreArgs {
    /// The benchmark's own database on the PostgreSQL server of DATABASE_URL (dropped and
    /// created at the start, dropped at the end).
    #[arg(long, default_value = "kansrijk_bench_store")]
    database: String,
    /// Concurrent writers, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Operations per concurrency level (appends and raw inserts alike).
    #[arg(long, default_value_t = 20_000)]
    operations: u64,
    /// Events published by the relay run.
    #[arg(long, default_value_t = 50_000)]
    relay_events: u64,
    /// Alternations of raw inserts and appends at each concurrency level (the operations are
    /// split evenly over them), so that both meet the same state of the machine.
    #[arg(long, default_value_t = 4)]
    rounds: u32,
    /// Write the Markdown report to this file as well.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct FullArgs {
    /// The benchmark's own database on the PostgreSQL server of DATABASE_URL (dropped and
    /// created at the start; dropped at the end unless --keep-database).
    #[arg(long, default_value = "kansrijk_bench")]
    database: String,
    /// Keep the benchmark's database afterwards (for inspection).
    #[arg(long)]
    keep_database: bool,
    /// HTTP clients, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Seconds of load per concurrency level.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds of the lag run at half the maximum load.
    #[arg(long, default_value_t = 20)]
    lag_seconds: u64,
    /// Events to replay into all views (the rebuild run); 0 skips it.
    #[arg(long, default_value_t = 1_000_000)]
    rebuild_events: u64,
    /// Children in the quarterly monitor run; 0 skips it.
    #[arg(long, default_value_t = 100_000)]
    monitor_children: u64,
    /// Monitor queries timed.
    #[arg(long, default_value_t = 50)]
    monitor_calls: u64,
    /// Raw INSERT-and-commit operations per concurrency level (the ceiling).
    #[arg(long, default_value_t = 20_000)]
    raw_operations: u64,
    /// Directory for the services' logs (default: a temporary directory).
    #[arg(long)]
    logs: Option<PathBuf>,
    /// Write the Markdown report to this file as well.
    #[arg(long)]
    output: Option<PathBuf>,
}

pub(crate) async fn run(conn: &Connection, command: BenchCommand) -> anyhow::Result<()> {
    let report = match command {
        BenchCommand::Store(a) => {
            let url = kansrijk_bench::full::with_database(&conn.database_url, &a.database);
            kansrijk_bench::full::recreate_database(&conn.database_url, &a.database, true).await?;
            let config = kansrijk_bench::store::StoreBenchConfig {
                database_url: url.clone(),
                nats_url: None,
                concurrency: a.concurrency,
                operations: a.operations,
                relay_events: a.relay_events,
                rounds: a.rounds,
                progress: true,
            };
            let load_before = kansrijk_bench::load_average();
            let machine = kansrijk_bench::machine_markdown(&url).await;
            let r = kansrijk_bench::store::run(&config).await;
            kansrijk_bench::full::recreate_database(&conn.database_url, &a.database, false).await?;
            let r = r?;
            (
                format!(
                    "## kansrijk bench store\n\n{machine}\nLoad average (1/5/15 min) before: {load_before}; after: {}.\n\n{}",
                    kansrijk_bench::load_average(),
                    r.to_markdown()
                ),
                a.output,
            )
        }
        BenchCommand::Full(a) => {
            let config = kansrijk_bench::full::FullBenchConfig {
                exe: std::env::current_exe().context("finding the kansrijk binary")?,
                database_url: conn.database_url.clone(),
                database: a.database,
                keep_database: a.keep_database,
                concurrency: a.concurrency,
                duration: Duration::from_secs(a.seconds),
                lag_duration: Duration::from_secs(a.lag_seconds),
                rebuild_events: a.rebuild_events,
                monitor_children: a.monitor_children,
                monitor_calls: a.monitor_calls,
                raw_operations: a.raw_operations,
                logs: a.logs,
                progress: true,
            };
            let r = kansrijk_bench::full::run(&config).await?;
            (r.to_markdown(), a.output)
        }
        BenchCommand::Faults(a) => {
            use kansrijk_bench::faults::{self, Fault, FaultConfig};
            let mut config = FaultConfig::new(
                std::env::current_exe().context("finding the kansrijk binary")?,
                conn.database_url.clone(),
            );
            config.clients = a.clients;
            config.kills_per_service = a.kills_per_service;
            config.nats_outage = Duration::from_secs(a.nats_outage_seconds);
            config.logs = a.logs;
            let chosen = if a.fault.is_empty() {
                Fault::ALL.to_vec()
            } else {
                a.fault
            };
            let load_before = kansrijk_bench::load_average();
            let machine = kansrijk_bench::machine_markdown(&conn.database_url).await;
            let mut reports = Vec::new();
            for fault in chosen {
                reports.push(faults::run(fault, &config).await?);
            }
            (
                format!(
                    "## kansrijk bench faults\n\n{machine}\nLoad average (1/5/15 min) before: {load_before}; after: {}.\n\n{}",
                    kansrijk_bench::load_average(),
                    faults::to_markdown(&reports)
                ),
                a.output,
            )
        }
    };
    let (text, output) = report;
    println!("{text}");
    if let Some(path) = output {
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        println!("report written to {}", path.display());
    }
    Ok(())
}

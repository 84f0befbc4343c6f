#![doc = include_str!("../README.md")]

pub mod faults;
pub mod full;
pub mod store;

use std::time::Duration;

use hdrhistogram::Histogram;

/// Throughput and latency of one measured run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measurement {
    pub label: String,
    pub concurrency: usize,
    pub operations: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl Measurement {
    pub fn from_histogram(
        label: &str,
        concurrency: usize,
        h: &Histogram<u64>,
        elapsed: Duration,
    ) -> Self {
        let secs = elapsed.as_secs_f64();
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        Measurement {
            label: label.to_owned(),
            concurrency,
            operations: h.len(),
            seconds: secs,
            per_second: h.len() as f64 / secs.max(1e-9),
            p50_ms: us(0.50),
            p95_ms: us(0.95),
            p99_ms: us(0.99),
        }
    }
}

/// A latency histogram in microseconds, 1 µs to 60 s.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static bounds are valid")
}

/// A progress bar for a run of `len` operations.
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg:>28} [{bar:40}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| format!("({program} not available)"))
}

/// The machine, PostgreSQL and nats-server a run measured, as Markdown.
pub async fn machine_markdown(database_url: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let memory = command_output("free", &["-h"]);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let nats = command_output(
        &kansrijk_runtime::testing::nats_server_bin().to_string_lossy(),
        &["--version"],
    );
    let mut pg = String::from("(PostgreSQL not reachable)");
    if let Ok(pool) = kansrijk_runtime::db::connect(database_url, "public", 1).await {
        let mut parts = Vec::new();
        if let Ok(v) = sqlx::query_scalar::<_, String>("SELECT version()")
            .fetch_one(&pool)
            .await
        {
            parts.push(v);
        }
        for setting in [
            "fsync",
            "synchronous_commit",
            "wal_sync_method",
            "full_page_writes",
            "shared_buffers",
            "max_connections",
        ] {
            if let Ok(v) = sqlx::query_scalar::<_, String>(&format!("SHOW {setting}"))
                .fetch_one(&pool)
                .await
            {
                parts.push(format!("{setting}={v}"));
            }
        }
        pool.close().await;
        pg = parts.join("; ");
    }
    format!(
        "- CPU: {cpu}, {cores} cores (nproc)\n- Load average at the start: {}\n- PostgreSQL: {pg}\n- nats-server: {nats} (JetStream file storage, a private server per run)\n- Memory (free -h):\n\n```\n{memory}\n```\n",
        load.trim()
    )
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

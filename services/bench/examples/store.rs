//! Runs the store benchmark directly: `cargo run --release -p kansrijk-bench --example store`.
#![allow(clippy::print_stdout)] // printing the report is the point

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = kansrijk_bench::store::StoreBenchConfig {
        database_url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        nats_url: std::env::var("BENCH_NATS_URL").ok(),
        concurrency: std::env::var("BENCH_CONCURRENCY")
            .ok()
            .map(|v| v.split(',').filter_map(|c| c.parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 16, 64]),
        operations: std::env::var("BENCH_OPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000),
        relay_events: 50_000,
        rounds: 4,
        progress: true,
    };
    let report = kansrijk_bench::store::run(&config).await?;
    println!("{}", report.to_markdown());
    Ok(())
}

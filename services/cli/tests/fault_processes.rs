//! Fault injection with real processes (issue 16, "Faults to survive"). Every service runs as its
//! own OS process (`kansrijk serve <service>`, the binary cargo builds for this test), with a fresh
//! database and its own nats-server. Under a bounded load of commands over HTTP through the
//! gateway (children registered by JGZ, family cases opened by a youth team), each retried with
//! the same `Idempotency-Key` as a client should, the tests inject:
//!
//! - `kill -9` of each service process in turn, the gateway included, twice each;
//! - NATS down for 30 s (nats-server killed, started again on the same port and store);
//! - a restart of PostgreSQL: a private cluster of this test (never the shared server), stopped
//!   with `-m immediate` (no checkpoint, as in a crash) and started again.
//!
//! The driver is `kansrijk_bench::faults` (also `kansrijk bench faults`, whose figures are in
//! RELIABILITY.md). Afterwards: every command acknowledged in the end; every acknowledged command
//! stored exactly once and visible once in its views; the events stream holding each event once;
//! no orphan rows in any store (child index and reservations, privacy keys, subjects, retention);
//! nothing parked; the time to recover from each fault (to the first acknowledged command and to
//! the views caught up) printed. Waits are bounded; no sleep is an assertion.
//!
//! CI: `cargo test -p kansrijk-cli --test fault_processes` builds the `kansrijk` binary first
//! (`CARGO_BIN_EXE_kansrijk`). The PostgreSQL test needs Debian's server binaries
//! (`/usr/lib/postgresql/<version>/bin`); as root it runs them as the `postgres` user.
//! `KANSRIJK_FAULTS=vve-reach,views` narrows the services killed, for a reproduction.

use kansrijk_bench::faults::{bsn, run, Fault, FaultConfig};

/// One fault test at a time in this process (the driver also locks across processes).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn config() -> FaultConfig {
    let mut c = FaultConfig::new(
        env!("CARGO_BIN_EXE_kansrijk").into(),
        std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    );
    if let Ok(only) = std::env::var("KANSRIJK_FAULTS") {
        c.services = only.split(',').map(str::to_owned).collect();
    }
    c
}

async fn survive(fault: Fault) {
    let _one = ONE_AT_A_TIME.lock().await;
    let report = run(fault, &config())
        .await
        .expect("the fault run completes");
    eprintln!("{}\n{}", report.summary(), report.recovery_lines());
    report.assert_survived();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_each_service_twice_under_load() {
    survive(Fault::KillServices).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_30_s_under_load() {
    survive(Fault::NatsOutage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load() {
    survive(Fault::PostgresRestart).await;
}

#[test]
fn bsns_are_distinct_and_pass_the_11_proef() {
    let all: Vec<String> = (1..2000).map(bsn).collect();
    let mut dedup = all.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), all.len());
}

//! The event store benchmark: appends against the raw insert ceiling, and relay throughput.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use kansrijk_runtime::relay::{Relay, RelayConfig};
use kansrijk_runtime::store::{Append, EventStore, ExpectedVersion, Metadata, NewEvent};
use sqlx::PgPool;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{histogram, progress, Measurement};

pub(crate) const RAW: &str = "raw INSERT+commit";
const APPEND: &str = "event store append";

/// What to run.
#[derive(Debug, Clone)]
pub struct StoreBenchConfig {
    pub database_url: String,
    /// A NATS server to publish to; `None` starts a private nats-server for the run.
    pub nats_url: Option<String>,
    pub concurrency: Vec<usize>,
    /// Operations per concurrency level (for appends and for raw inserts alike).
    pub operations: u64,
    /// Events for the relay run.
    pub relay_events: u64,
    /// Alternations of raw inserts and appends per concurrency level (operations are split
    /// evenly over them).
    pub rounds: u32,
    pub progress: bool,
}

/// Results of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreBenchReport {
    pub raw: Vec<Measurement>,
    pub appends: Vec<Measurement>,
    pub relay_events_per_second: f64,
    pub relay_events: u64,
}

/// A payload of the size of a typical event with a sealed personal part.
pub(crate) fn payload(i: u64) -> serde_json::Value {
    serde_json::json!({
        "kind": Uuid::new_v4(),
        "gemeente": "0546",
        "wijk": "Leiden-Noord",
        "criteria": ["taalachterstand", "opleiding-ouders"],
        "n": i,
        "persoonsgegevens": {
            "alg": "AES-256-GCM-SIV",
            "subject": Uuid::new_v4(),
            "keyVersion": 1,
            "nonce": "q83vEjRWeJCrzd7v",
            "ciphertext": "x".repeat(180)
        }
    })
}

/// Latencies and busy time of one or more runs of the same operation.
pub(crate) struct Timed {
    hist: hdrhistogram::Histogram<u64>,
    elapsed: Duration,
}

impl Timed {
    fn new() -> Self {
        Timed {
            hist: histogram(),
            elapsed: Duration::ZERO,
        }
    }

    fn add(&mut self, other: &Timed) -> anyhow::Result<()> {
        self.hist.add(&other.hist)?;
        self.elapsed += other.elapsed;
        Ok(())
    }

    fn measurement(&self, label: &str, concurrency: usize) -> Measurement {
        Measurement::from_histogram(label, concurrency, &self.hist, self.elapsed)
    }
}

/// `operations` calls of `op` spread over `concurrency` workers, timed.
pub(crate) async fn timed_run<F, Fut>(
    label: &str,
    concurrency: usize,
    operations: u64,
    show: bool,
    op: F,
) -> anyhow::Result<Measurement>
where
    F: Fn(u64, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let t = timed_chunk(label, concurrency, operations, show, Arc::new(op)).await?;
    Ok(t.measurement(label, concurrency))
}

async fn timed_chunk<F, Fut>(
    label: &str,
    concurrency: usize,
    operations: u64,
    show: bool,
    op: Arc<F>,
) -> anyhow::Result<Timed>
where
    F: Fn(u64, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let hist = Arc::new(Mutex::new(histogram()));
    let pb = show.then(|| progress(operations, &format!("{label} x{concurrency}")));
    let per_worker = operations / concurrency as u64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let op = op.clone();
        let hist = hist.clone();
        let pb = pb.clone();
        tasks.push(tokio::spawn(async move {
            let mut local = histogram();
            for i in 0..per_worker {
                let t = Instant::now();
                op(i, w).await?;
                local.record(t.elapsed().as_micros().max(1) as u64)?;
                if let Some(pb) = &pb {
                    pb.inc(1);
                }
            }
            hist.lock().await.add(&local)?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed();
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let hist = std::mem::replace(&mut *hist.lock().await, histogram());
    Ok(Timed { hist, elapsed })
}

async fn fresh_schema(url: &str, schema: &str, connections: u32) -> anyhow::Result<PgPool> {
    let admin = kansrijk_runtime::db::connect(url, "public", 1).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await?;
    admin.close().await;
    Ok(kansrijk_runtime::db::connect(url, schema, connections).await?)
}

/// Runs the store benchmark.
pub async fn run(config: &StoreBenchConfig) -> anyhow::Result<StoreBenchReport> {
    let max_conc = config.concurrency.iter().copied().max().unwrap_or(1) as u32;
    let mut report = StoreBenchReport {
        raw: Vec::new(),
        appends: Vec::new(),
        relay_events_per_second: 0.0,
        relay_events: 0,
    };

    // The ceiling (one row per transaction, autocommit, the same payload) and the appends run in
    // the same schema through the same pool, alternating in rounds at each concurrency level,
    // so that a drift of the machine (another VM's load, a checkpoint) weighs on both alike.
    let pool = fresh_schema(&config.database_url, "bench_store", max_conc).await?;
    kansrijk_runtime::db::migrate(&pool, None).await?;
    sqlx::query("CREATE TABLE raw_insert (id bigserial PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&pool)
        .await?;
    let store = EventStore::new(pool.clone());
    let rounds = config.rounds.max(1);
    let raw_op = {
        let pool = pool.clone();
        Arc::new(move |i: u64, _w: usize| {
            let pool = pool.clone();
            async move {
                sqlx::query("INSERT INTO raw_insert (data) VALUES ($1)")
                    .bind(payload(i))
                    .execute(&pool)
                    .await?;
                Ok(())
            }
        })
    };
    for &c in &config.concurrency {
        // Appends through the event store, each writer to its own streams with an exact
        // expected version (the normal command path), one event per append.
        let streams: Arc<Vec<Mutex<(Uuid, i64)>>> =
            Arc::new((0..c).map(|_| Mutex::new((Uuid::new_v4(), 0))).collect());
        let append_op = {
            let store = store.clone();
            Arc::new(move |i: u64, w: usize| {
                let store = store.clone();
                let streams = streams.clone();
                async move {
                    let mut s = streams[w].lock().await;
                    // A new stream every 20 events, as commands spread over many records.
                    if s.1 >= 20 {
                        *s = (Uuid::new_v4(), 0);
                    }
                    let expected = if s.1 == 0 {
                        ExpectedVersion::NoStream
                    } else {
                        ExpectedVersion::Exact(s.1)
                    };
                    let appended = store
                        .append(Append {
                            stream_id: s.0,
                            stream_type: "kind".into(),
                            municipality: "0546".into(),
                            expected,
                            command_id: Some(Uuid::new_v4()),
                            metadata: Metadata::default(),
                            events: vec![NewEvent {
                                id: Uuid::now_v7(),
                                event_type: "nl.vve.indicatie-afgegeven.v1".parse()?,
                                data: payload(i),
                            }],
                        })
                        .await?;
                    s.1 = appended.version;
                    Ok(())
                }
            })
        };
        let chunk = (config.operations / rounds as u64).max(c as u64);
        let (mut raw, mut appends) = (Timed::new(), Timed::new());
        for _ in 0..rounds {
            raw.add(&timed_chunk(RAW, c, chunk, config.progress, raw_op.clone()).await?)?;
            appends
                .add(&timed_chunk(APPEND, c, chunk, config.progress, append_op.clone()).await?)?;
        }
        report.raw.push(raw.measurement(RAW, c));
        report.appends.push(appends.measurement(APPEND, c));
    }

    // Relay: publish everything appended so far plus a fresh batch, from a zero checkpoint.
    // A nats-server of its own (file storage in a temporary directory), so the run neither
    // disturbs nor is disturbed by a running system.
    let own_nats = match &config.nats_url {
        Some(_) => None,
        None => Some(kansrijk_runtime::testing::NatsServer::start()),
    };
    let nats_url = config
        .nats_url
        .clone()
        .or_else(|| own_nats.as_ref().map(|n| n.url()))
        .unwrap_or_default();
    let client = kansrijk_runtime::nats::connect(&nats_url, "kansrijk-bench").await?;
    let js = jetstream::new(client);
    let stream_name = kansrijk_proto::subject::EVENTS_STREAM;
    kansrijk_runtime::nats::ensure_events_stream(&js, 1).await?;
    let total = store.count().await? as u64;
    let target = config.relay_events.max(total);
    let mut i = total;
    while i < target {
        store
            .append(Append {
                stream_id: Uuid::new_v4(),
                stream_type: "kind".into(),
                municipality: "0546".into(),
                expected: ExpectedVersion::Any,
                command_id: None,
                metadata: Metadata::default(),
                events: (0..10.min(target - i))
                    .map(|k| NewEvent {
                        id: Uuid::now_v7(),
                        event_type: "nl.vve.indicatie-afgegeven.v1".parse().expect("valid"),
                        data: payload(i + k),
                    })
                    .collect(),
            })
            .await?;
        i += 10;
    }
    let total = store.count().await? as u64;
    let shutdown = CancellationToken::new();
    let relay = Relay::new(
        store.clone(),
        js.clone(),
        RelayConfig {
            service: "bench".into(),
            source: "urn:nld:oin:00000001002220647000:systeem:kansrijk-bench".parse()?,
            batch_size: 500,
            poll_interval: Duration::from_millis(5),
        },
    );
    let pb = config
        .progress
        .then(|| progress(total, "relay into JetStream"));
    let started = Instant::now();
    let task = tokio::spawn(relay.run(shutdown.clone()));
    loop {
        let n = js
            .get_stream(stream_name)
            .await?
            .info()
            .await?
            .state
            .messages;
        if let Some(pb) = &pb {
            pb.set_position(n);
        }
        if n >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    report.relay_events = total;
    report.relay_events_per_second = total as f64 / elapsed.as_secs_f64();
    drop(own_nats);
    Ok(report)
}

impl StoreBenchReport {
    /// The report as Markdown, ratios to the raw ceiling at the same concurrency.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| concurrency | raw INSERT+commit/s | appends/s | ratio | append p50 ms | append p99 ms | raw p50 ms | raw p99 ms |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for (raw, app) in self.raw.iter().zip(&self.appends) {
            out.push_str(&format!(
                "| {} | {:.0} | {:.0} | {:.0}% | {:.2} | {:.2} | {:.2} | {:.2} |\n",
                app.concurrency,
                raw.per_second,
                app.per_second,
                100.0 * app.per_second / raw.per_second.max(1e-9),
                app.p50_ms,
                app.p99_ms,
                raw.p50_ms,
                raw.p99_ms
            ));
        }
        out.push_str(&format!(
            "\nRelay into JetStream: {:.0} events/s ({} events).\n",
            self.relay_events_per_second, self.relay_events
        ));
        out
    }
}

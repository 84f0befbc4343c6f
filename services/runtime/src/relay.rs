//! The relay: publishes committed events from a service's store to JetStream, in store order.
//!
//! One relay is active per store (a session advisory lock; replicas wait their turn). It reads
//! batches after its checkpoint, publishes them pipelined with `Nats-Msg-Id` = event id, and
//! advances the checkpoint to the last event whose publication JetStream acknowledged in an
//! unbroken prefix of the batch. A failure means: wait, then publish again from the checkpoint.
//! JetStream drops the repeats of what it already stored, so each event is in the stream once,
//! and since the messages of one connection are stored in the order they were sent, every
//! stream's events stay in order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage as Publish;
use kansrijk_proto::envelope::Source;
use kansrijk_proto::subject;
use sqlx::{Acquire, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::{Checkpoint, EventStore, StoredEvent};

/// Header with the event's store position (diagnostics; the order is JetStream's own).
pub const POSITION_HEADER: &str = "Kansrijk-Position";

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The service whose store this is (also the relay's name and subject prefix).
    pub service: String,
    pub source: Source,
    pub batch_size: i64,
    /// How often to look for new events when nothing signals them.
    pub poll_interval: Duration,
}

/// The first and the longest pause before looking again for events held back by a running
/// transaction (doubling in between).
const HELD_BACK_FIRST: Duration = Duration::from_millis(2);
const HELD_BACK_MAX: Duration = Duration::from_millis(50);

/// Publishes one store's events.
#[derive(Debug, Clone)]
pub struct Relay {
    store: EventStore,
    js: jetstream::Context,
    config: RelayConfig,
    /// Signalled by the service after an append, to publish without waiting for the next poll.
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(store: EventStore, js: jetstream::Context, config: RelayConfig) -> Self {
        Relay {
            store,
            js,
            config,
            wake: Arc::new(Notify::new()),
        }
    }

    /// A handle to wake the relay after an append.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `shutdown`: takes the relay lock, then publishes.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match self.run_as_leader(&shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(service = %self.config.service, error = %e, "relay interrupted, retrying");
                    metrics::counter!("kansrijk_relay_errors_total", "service" => self.config.service.clone()).increment(1);
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn run_as_leader(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let pool: &PgPool = self.store.pool();
        let mut lock_conn = pool.acquire().await?.detach();
        let key = lock_key(&self.config.service);
        loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut lock_conn)
                .await?;
            if got {
                break;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        tracing::info!(service = %self.config.service, "relay is active");
        let mut checkpoint = self.load_checkpoint().await?;
        let lag =
            metrics::gauge!("kansrijk_relay_lag_seconds", "service" => self.config.service.clone());
        let published = metrics::counter!("kansrijk_relay_published_total", "service" => self.config.service.clone());
        let mut held_back = Duration::ZERO;
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            // Keep the lock's session alive and find out early when it is gone.
            sqlx::query("SELECT 1")
                .execute(lock_conn.acquire().await?)
                .await?;
            let batch = self
                .store
                .read_after(checkpoint, self.config.batch_size)
                .await?;
            if batch.is_empty() {
                lag.set(0.0);
                // Committed events held back behind a transaction that is still running (any
                // transaction of the cluster holds the horizon back) are looked for again soon,
                // not at the next poll: their appends' wake-ups have been spent already.
                let pause = if self.store.has_after(checkpoint).await? {
                    held_back = (held_back * 2).clamp(HELD_BACK_FIRST, HELD_BACK_MAX);
                    held_back.min(self.config.poll_interval)
                } else {
                    held_back = Duration::ZERO;
                    self.config.poll_interval
                };
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
                continue;
            }
            held_back = Duration::ZERO;
            let started = Instant::now();
            let (done, error) = self.publish_batch(&batch).await;
            if let Some(last) = done.and_then(|i| batch.get(i)) {
                checkpoint = Checkpoint {
                    tx_id: last.tx_id,
                    position: last.position,
                };
                self.save_checkpoint(checkpoint).await?;
                let n = done.map_or(0, |i| i + 1);
                published.increment(n as u64);
                let age = chrono::Utc::now() - last.recorded_at;
                lag.set(age.num_milliseconds() as f64 / 1000.0);
                tracing::debug!(
                    n,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "relay published batch"
                );
            }
            if let Some(e) = error {
                return Err(e);
            }
        }
    }

    /// Publishes pipelined; returns the index of the last event of the acknowledged prefix.
    async fn publish_batch(&self, batch: &[StoredEvent]) -> (Option<usize>, Option<anyhow::Error>) {
        let mut acks = Vec::with_capacity(batch.len());
        for e in batch {
            let ce = e.to_cloud_event(&self.config.source);
            let payload = match serde_json::to_vec(&ce) {
                Ok(p) => p,
                Err(err) => return (None, Some(err.into())),
            };
            let mut publish = Publish::build()
                .payload(payload.into())
                .message_id(e.event_id.to_string())
                .header(POSITION_HEADER, e.position.to_string().as_str());
            if let Some(tp) = &e.metadata.traceparent {
                publish = publish.header(kansrijk_proto::actor::TRACEPARENT_HEADER, tp.as_str());
            }
            let subj = subject::event(&self.config.service, &e.stream_type);
            match self.js.send_publish(subj, publish).await {
                Ok(ack) => acks.push(ack),
                Err(err) => {
                    // Publications sent so far may still be acknowledged.
                    let (done, _) = await_acks(acks).await;
                    return (done, Some(err.into()));
                }
            }
        }
        await_acks(acks).await
    }

    async fn load_checkpoint(&self) -> anyhow::Result<Checkpoint> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT tx_id, position FROM relay_checkpoint WHERE relay = $1")
                .bind(&self.config.service)
                .fetch_optional(self.store.pool())
                .await?;
        Ok(row
            .map(|(tx_id, position)| Checkpoint { tx_id, position })
            .unwrap_or_default())
    }

    async fn save_checkpoint(&self, c: Checkpoint) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO relay_checkpoint (relay, tx_id, position) VALUES ($1, $2, $3)
             ON CONFLICT (relay) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position",
        )
        .bind(&self.config.service)
        .bind(c.tx_id)
        .bind(c.position)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }
}

async fn await_acks(
    acks: Vec<async_nats::jetstream::context::PublishAckFuture>,
) -> (Option<usize>, Option<anyhow::Error>) {
    let mut done = None;
    for (i, ack) in acks.into_iter().enumerate() {
        match ack.await {
            Ok(_) => done = Some(i),
            Err(e) => return (done, Some(e.into())),
        }
    }
    (done, None)
}

fn lock_key(service: &str) -> i64 {
    // A stable key per service: FNV-1a of the name, in the relay's key space.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("kansrijk-relay:{service}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

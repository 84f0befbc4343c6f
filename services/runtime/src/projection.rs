//! The projection runner: keeps a read model up to date from the events stream.
//!
//! Each projection has a durable pull consumer. A batch of messages is applied in one PostgreSQL
//! transaction together with the bookkeeping: the last version applied of each stream. That
//! makes a redelivered event a no-op (its version is not above what was applied) and shows a gap
//! (a version more than one above): such an event is handed back to JetStream for later, and parked
//! once it has waited too long, for the reconciliation to fill in. An event that fails to apply is
//! parked with its error and the runner goes on; parked events are listed, counted and replayable.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, AckKind};
use futures::future::BoxFuture;
use futures::StreamExt;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::subject;
use sqlx::{PgConnection, PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A read model fed by events.
pub trait Projection: Send + Sync + 'static {
    /// Stable name: consumer name and bookkeeping key.
    fn name(&self) -> &'static str;

    /// JetStream filter subject. nats-server 2.9 allows one per consumer.
    fn filter_subject(&self) -> String {
        subject::EVENTS_WILDCARD.to_owned()
    }

    /// Whether this projection cares about the event (others are acknowledged and skipped).
    fn handles(&self, event: &CloudEvent) -> bool;

    /// The stream types (`streamtype`) this projection follows, for read-your-writes waits and
    /// reconciliation. Empty: not declared (such a projection is not waited for).
    fn stream_types(&self) -> &'static [&'static str] {
        &[]
    }

    /// Applies one event inside the runner's transaction.
    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Removes everything the read model holds (before a rebuild).
    fn reset<'a>(&'a self, conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>>;
}

/// Redeliveries of an out-of-order event before it is parked as a gap.
const GAP_PATIENCE: i64 = 20;

/// How long an out-of-order event waits before its next delivery. Patience in all
/// (`GAP_PATIENCE` x this, 40 s) must outlast the consumer's `ack_wait` (30 s): when a projection
/// process dies with a batch delivered but not acknowledged, JetStream redelivers that batch only
/// after `ack_wait`, while later versions of the same streams arrive at once. A shorter patience
/// parked those later versions as gaps, and the earlier event, arriving after them, was then
/// dropped as a duplicate (found by the kill -9 fault test, services/cli/tests/fault_processes.rs).
const GAP_NAK_DELAY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub batch_size: usize,
    pub fetch_wait: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            batch_size: 500,
            fetch_wait: Duration::from_millis(250),
        }
    }
}

/// Runs one projection.
#[derive(Clone)]
pub struct ProjectionRunner {
    pool: PgPool,
    js: jetstream::Context,
    projection: Arc<dyn Projection>,
    config: RunnerConfig,
    feed: Option<AppliedFeed>,
}

/// The stream versions a projection has just committed.
#[derive(Debug)]
pub struct AppliedBatch {
    pub projection: &'static str,
    pub versions: HashMap<Uuid, i64>,
}

/// Announces, after every commit of the runners of this process, which stream versions they
/// applied, so that a read-your-writes wait ([`wait_for_applied`]) is woken instead of polling
/// PostgreSQL. Announcements are best effort (nobody listening, or a slow listener, loses
/// nothing: the waiter re-reads `projection_streams`).
#[derive(Debug, Clone)]
pub struct AppliedFeed {
    tx: tokio::sync::broadcast::Sender<Arc<AppliedBatch>>,
}

impl Default for AppliedFeed {
    fn default() -> Self {
        AppliedFeed {
            tx: tokio::sync::broadcast::channel(1024).0,
        }
    }
}

impl AppliedFeed {
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<AppliedBatch>> {
        self.tx.subscribe()
    }

    fn announce(&self, projection: &'static str, versions: HashMap<Uuid, i64>) {
        if !versions.is_empty() && self.tx.receiver_count() > 0 {
            let _ = self.tx.send(Arc::new(AppliedBatch {
                projection,
                versions,
            }));
        }
    }
}

impl std::fmt::Debug for ProjectionRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectionRunner")
            .field("projection", &self.projection.name())
            .finish()
    }
}

/// What a batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    pub applied: u64,
    pub duplicates: u64,
    pub skipped: u64,
    pub deferred: u64,
    pub parked: u64,
}

enum Disposition {
    Apply(Box<CloudEvent>, u64),
    Ack,
    Defer,
    Park {
        event_id: Uuid,
        event_type: String,
        seq: u64,
        error: String,
        envelope: serde_json::Value,
    },
}

impl ProjectionRunner {
    pub fn new(
        pool: PgPool,
        js: jetstream::Context,
        projection: Arc<dyn Projection>,
        config: RunnerConfig,
    ) -> Self {
        ProjectionRunner {
            pool,
            js,
            projection,
            config,
            feed: None,
        }
    }

    /// Announces every committed batch on `feed`.
    pub fn with_feed(mut self, feed: AppliedFeed) -> Self {
        self.feed = Some(feed);
        self
    }

    fn announce(&self, versions: HashMap<Uuid, i64>) {
        if let Some(feed) = &self.feed {
            feed.announce(self.name(), versions);
        }
    }

    pub fn name(&self) -> &'static str {
        self.projection.name()
    }

    async fn consumer(&self) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
        let stream = self.js.get_stream(subject::EVENTS_STREAM).await?;
        let name = self.projection.name();
        let config = pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: self.projection.filter_subject(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 20_000,
            ..Default::default()
        };
        Ok(stream.get_or_create_consumer(name, config).await?)
    }

    /// Runs until `shutdown`, surviving NATS and PostgreSQL outages.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match self.run_once(&shutdown, None).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(projection = self.name(), error = %e, "projection interrupted, retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Consumes until shutdown, or (with `until_caught_up`) until nothing is pending.
    async fn run_once(
        &self,
        shutdown: &CancellationToken,
        until_caught_up: Option<()>,
    ) -> anyhow::Result<u64> {
        let consumer = self.consumer().await?;
        let lag = metrics::gauge!("kansrijk_projection_lag_events", "projection" => self.name());
        let mut total = 0u64;
        loop {
            if shutdown.is_cancelled() {
                return Ok(total);
            }
            let mut batch = consumer
                .fetch()
                .max_messages(self.config.batch_size)
                .expires(self.config.fetch_wait)
                .messages()
                .await?;
            let mut msgs = Vec::new();
            while let Some(m) = batch.next().await {
                msgs.push(m.map_err(|e| anyhow::anyhow!(e))?);
            }
            if msgs.is_empty() {
                lag.set(0.0);
                if until_caught_up.is_some() {
                    let mut c = consumer.clone();
                    let info = c.info().await?;
                    if info.num_pending == 0 && info.num_ack_pending == 0 {
                        return Ok(total);
                    }
                }
                continue;
            }
            if let Some(Ok(info)) = msgs.last().map(|m| m.info()) {
                lag.set(info.pending as f64);
            }
            let outcome = self.process(&msgs).await?;
            total += outcome.applied;
        }
    }

    /// Applies a batch of messages and acknowledges them.
    pub async fn process(&self, msgs: &[jetstream::Message]) -> anyhow::Result<BatchOutcome> {
        let name = self.name();
        let mut dispositions = Vec::with_capacity(msgs.len());
        for m in msgs {
            dispositions.push(self.classify(m));
        }
        // Versions already applied, for every stream in the batch.
        let stream_ids: Vec<Uuid> = dispositions
            .iter()
            .filter_map(|d| match d {
                Disposition::Apply(e, _) => Some(e.subject),
                _ => None,
            })
            .collect();
        let mut seen: HashMap<Uuid, i64> = sqlx::query(
            "SELECT stream_id, version FROM projection_streams WHERE projection = $1 AND stream_id = ANY($2)",
        )
        .bind(name)
        .bind(&stream_ids)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("stream_id")?, r.try_get("version")?)))
        .collect::<Result<_, sqlx::Error>>()?;

        // Decide per event: apply, duplicate, or gap.
        let mut plan: Vec<Disposition> = Vec::with_capacity(dispositions.len());
        let mut outcome = BatchOutcome::default();
        let mut next_seen = seen.clone();
        for (d, m) in dispositions.into_iter().zip(msgs) {
            match d {
                Disposition::Apply(e, seq) => {
                    let v = e.stream_version().unwrap_or(0);
                    let have = next_seen.get(&e.subject).copied().unwrap_or(0);
                    if v <= have {
                        outcome.duplicates += 1;
                        plan.push(Disposition::Ack);
                    } else if v > have + 1 {
                        let delivered = m.info().map(|i| i.delivered).unwrap_or(1);
                        if delivered >= GAP_PATIENCE {
                            plan.push(Disposition::Park {
                                event_id: e.id,
                                event_type: e.event_type.to_string(),
                                seq,
                                error: format!("gap: stream version {v} arrived after {have}"),
                                envelope: serde_json::to_value(&*e).unwrap_or_default(),
                            });
                        } else {
                            outcome.deferred += 1;
                            plan.push(Disposition::Defer);
                        }
                    } else {
                        next_seen.insert(e.subject, v);
                        plan.push(Disposition::Apply(e, seq));
                    }
                }
                Disposition::Ack => {
                    outcome.skipped += 1;
                    plan.push(Disposition::Ack);
                }
                other => plan.push(other),
            }
        }

        let last_seq = msgs
            .iter()
            .filter_map(|m| m.info().ok().map(|i| i.stream_sequence))
            .max()
            .unwrap_or(0);
        // Fast path: the whole batch in one transaction.
        let fast = self.apply_all(&plan, &seen, last_seq).await;
        match fast {
            Ok(n) => outcome.applied = n,
            Err(e) => {
                tracing::warn!(projection = name, error = %e, "batch failed; applying one by one");
                let (applied, parked) = self
                    .apply_one_by_one(&mut plan, &mut seen, last_seq)
                    .await?;
                outcome.applied = applied;
                outcome.parked += parked;
            }
        }
        // Park what must be parked (gaps, undecodable messages).
        for d in &plan {
            if let Disposition::Park {
                event_id,
                event_type,
                seq,
                error,
                envelope,
            } = d
            {
                park(
                    &self.pool, name, *event_id, *seq, event_type, error, envelope,
                )
                .await?;
                outcome.parked += 1;
            }
        }
        for (d, m) in plan.iter().zip(msgs) {
            match d {
                Disposition::Defer => {
                    let _ = m.ack_with(AckKind::Nak(Some(GAP_NAK_DELAY))).await;
                }
                _ => {
                    let _ = m.ack().await;
                }
            }
        }
        metrics::counter!("kansrijk_projection_applied_total", "projection" => name)
            .increment(outcome.applied);
        Ok(outcome)
    }

    fn classify(&self, m: &jetstream::Message) -> Disposition {
        let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
        match serde_json::from_slice::<CloudEvent>(&m.payload) {
            Ok(e) if !self.projection.handles(&e) => Disposition::Ack,
            Ok(e) if e.stream_version().is_none() => Disposition::Park {
                event_id: e.id,
                event_type: e.event_type.to_string(),
                seq,
                error: "sequence is not a stream version".into(),
                envelope: serde_json::to_value(&e).unwrap_or_default(),
            },
            Ok(e) => Disposition::Apply(Box::new(e), seq),
            Err(err) => Disposition::Park {
                event_id: m
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
                    .and_then(|v| v.as_str().parse().ok())
                    .unwrap_or_else(Uuid::new_v4),
                event_type: "onbekend".into(),
                seq,
                error: format!("undecodable envelope: {err}"),
                envelope: serde_json::json!({ "rawBase64": base64_engine(&m.payload) }),
            },
        }
    }

    async fn apply_all(
        &self,
        plan: &[Disposition],
        seen: &HashMap<Uuid, i64>,
        last_seq: u64,
    ) -> anyhow::Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut versions: HashMap<Uuid, i64> = HashMap::new();
        let mut applied = 0;
        for d in plan {
            if let Disposition::Apply(e, _) = d {
                self.projection.apply(&mut tx, e).await?;
                versions.insert(e.subject, e.stream_version().unwrap_or(0));
                applied += 1;
            }
        }
        let _ = seen;
        save_versions(&mut tx, self.name(), &versions).await?;
        save_status(&mut tx, self.name(), last_seq, applied).await?;
        tx.commit().await?;
        self.announce(versions);
        Ok(applied)
    }

    async fn apply_one_by_one(
        &self,
        plan: &mut [Disposition],
        seen: &mut HashMap<Uuid, i64>,
        last_seq: u64,
    ) -> anyhow::Result<(u64, u64)> {
        let (mut applied, mut parked) = (0, 0);
        for d in plan.iter_mut() {
            let Disposition::Apply(e, seq) = d else {
                continue;
            };
            let version = e.stream_version().unwrap_or(0);
            let one: HashMap<Uuid, i64> = [(e.subject, version)].into();
            let mut tx = self.pool.begin().await?;
            match self.projection.apply(&mut tx, e).await {
                Ok(()) => {
                    save_versions(&mut tx, self.name(), &one).await?;
                    tx.commit().await?;
                    applied += 1;
                    self.announce(one);
                }
                Err(err) => {
                    tx.rollback().await?;
                    let mut tx = self.pool.begin().await?;
                    park(
                        &mut *tx,
                        self.name(),
                        e.id,
                        *seq,
                        &e.event_type.to_string(),
                        &format!("{err:#}"),
                        &serde_json::to_value(&**e)?,
                    )
                    .await?;
                    // The stream goes on past a parked event; replay applies it later.
                    save_versions(&mut tx, self.name(), &one).await?;
                    tx.commit().await?;
                    parked += 1;
                    self.announce(one);
                    metrics::counter!("kansrijk_projection_parked_total", "projection" => self.name()).increment(1);
                }
            }
            seen.insert(e.subject, version);
            *d = Disposition::Ack;
        }
        let mut tx = self.pool.begin().await?;
        save_status(&mut tx, self.name(), last_seq, applied).await?;
        tx.commit().await?;
        Ok((applied, parked))
    }

    /// Drops the read model and replays the whole stream into it. Run with the projection's
    /// regular runner stopped. Returns the number of events applied and the time it took.
    pub async fn rebuild(&self) -> anyhow::Result<(u64, Duration)> {
        let started = Instant::now();
        let stream = self.js.get_stream(subject::EVENTS_STREAM).await?;
        let _ = stream.delete_consumer(self.name()).await;
        let mut tx = self.pool.begin().await?;
        self.projection.reset(&mut tx).await?;
        for table in ["projection_streams", "projection_status", "parked_events"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE projection = $1"))
                .bind(self.name())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let n = self.run_once(&CancellationToken::new(), Some(())).await?;
        Ok((n, started.elapsed()))
    }

    /// Processes until nothing is pending (tests and tools).
    pub async fn catch_up(&self) -> anyhow::Result<u64> {
        self.run_once(&CancellationToken::new(), Some(())).await
    }

    /// Applies parked events again, oldest first; those that now apply leave the parking.
    pub async fn replay_parked(&self) -> anyhow::Result<(u64, u64)> {
        let rows = sqlx::query(
            "SELECT event_id, envelope FROM parked_events WHERE projection = $1 ORDER BY stream_seq",
        )
        .bind(self.name())
        .fetch_all(&self.pool)
        .await?;
        let (mut ok, mut failed) = (0, 0);
        for r in rows {
            let id: Uuid = r.try_get("event_id")?;
            let envelope: serde_json::Value = r.try_get("envelope")?;
            let Ok(event) = serde_json::from_value::<CloudEvent>(envelope) else {
                failed += 1;
                continue;
            };
            let mut tx = self.pool.begin().await?;
            match self.projection.apply(&mut tx, &event).await {
                Ok(()) => {
                    sqlx::query(
                        "DELETE FROM parked_events WHERE projection = $1 AND event_id = $2",
                    )
                    .bind(self.name())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    ok += 1;
                }
                Err(e) => {
                    tx.rollback().await?;
                    sqlx::query("UPDATE parked_events SET error = $3 WHERE projection = $1 AND event_id = $2")
                        .bind(self.name())
                        .bind(id)
                        .bind(format!("{e:#}"))
                        .execute(&self.pool)
                        .await?;
                    failed += 1;
                }
            }
        }
        Ok((ok, failed))
    }
}

/// A parked event as listed for operators (no payload: it may hold sealed personal data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParkedEvent {
    pub event_id: Uuid,
    pub stream_seq: i64,
    pub event_type: String,
    pub error: String,
}

/// The parked events of a projection.
pub async fn list_parked(pool: &PgPool, projection: &str) -> Result<Vec<ParkedEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT event_id, stream_seq, event_type, error FROM parked_events WHERE projection = $1 ORDER BY stream_seq",
    )
    .bind(projection)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ParkedEvent {
                event_id: r.try_get("event_id")?,
                stream_seq: r.try_get("stream_seq")?,
                event_type: r.try_get("event_type")?,
                error: r.try_get("error")?,
            })
        })
        .collect()
}

/// The version of `stream_id` that `projection` has applied (0 when none).
pub async fn applied_version(
    pool: &PgPool,
    projection: &str,
    stream_id: Uuid,
) -> Result<i64, sqlx::Error> {
    let v: Option<i64> = sqlx::query_scalar(
        "SELECT version FROM projection_streams WHERE projection = $1 AND stream_id = $2",
    )
    .bind(projection)
    .bind(stream_id)
    .fetch_optional(pool)
    .await?;
    Ok(v.unwrap_or(0))
}

/// The projections of `projections` that have not yet applied `stream_id` up to `version`.
async fn behind(
    pool: &PgPool,
    projections: &[&str],
    stream_id: Uuid,
    version: i64,
) -> Result<Vec<String>, sqlx::Error> {
    if projections.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = projections.iter().map(|p| (*p).to_owned()).collect();
    sqlx::query_scalar(
        "SELECT p.name FROM unnest($1::text[]) AS p(name)
         LEFT JOIN projection_streams s ON s.projection = p.name AND s.stream_id = $2
         WHERE coalesce(s.version, 0) < $3",
    )
    .bind(&names)
    .bind(stream_id)
    .bind(version)
    .fetch_all(pool)
    .await
}

/// Waits, bounded by `timeout`, until every projection in `projections` has applied `stream_id`
/// up to `version`, by polling PostgreSQL. Returns whether they caught up in time (never an error
/// for a slow view). For a process that runs the projections itself, [`wait_for_applied`] waits
/// without polling.
pub async fn wait_for(
    pool: &PgPool,
    projections: &[&str],
    stream_id: Uuid,
    version: i64,
    timeout: Duration,
) -> Result<bool, sqlx::Error> {
    let deadline = Instant::now() + timeout;
    loop {
        if behind(pool, projections, stream_id, version)
            .await?
            .is_empty()
        {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How often [`wait_for_applied`] re-reads PostgreSQL without an announcement: for batches that
/// another process (a second replica of the same projection) committed.
const FEED_RECHECK: Duration = Duration::from_millis(250);

/// Like [`wait_for`], but woken by the announcements of the runners on `feed` instead of polling:
/// one query at the start, then one only when announcements were lost or none came for
/// [`FEED_RECHECK`]. Hundreds of concurrent waiters thus cost the projections nothing.
pub async fn wait_for_applied(
    pool: &PgPool,
    feed: &AppliedFeed,
    projections: &[&str],
    stream_id: Uuid,
    version: i64,
    timeout: Duration,
) -> Result<bool, sqlx::Error> {
    // Subscribed before the first read: a commit between the two is announced to us.
    let mut rx = feed.subscribe();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pending = behind(pool, projections, stream_id, version).await?;
    while !pending.is_empty() {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let until = deadline.min(now + FEED_RECHECK);
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Ok(batch)) => {
                if batch
                    .versions
                    .get(&stream_id)
                    .is_some_and(|v| *v >= version)
                {
                    pending.retain(|p| p != batch.projection);
                }
            }
            // Lagged: announcements were lost; a timeout: none came (another replica may have
            // committed). The channel cannot close while `feed` holds its sender.
            Ok(Err(_)) | Err(_) => {
                pending = behind(pool, projections, stream_id, version).await?;
            }
        }
    }
    Ok(true)
}

/// Versions applied per stream by a projection (for reconciliation).
pub async fn applied_versions(
    pool: &PgPool,
    projection: &str,
) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT stream_id, version FROM projection_streams WHERE projection = $1")
            .bind(projection)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("stream_id")?, r.try_get("version")?)))
        .collect()
}

async fn save_versions(
    conn: &mut PgConnection,
    projection: &str,
    versions: &HashMap<Uuid, i64>,
) -> Result<(), sqlx::Error> {
    if versions.is_empty() {
        return Ok(());
    }
    let (ids, vs): (Vec<Uuid>, Vec<i64>) = versions.iter().map(|(k, v)| (*k, *v)).unzip();
    sqlx::query(
        "INSERT INTO projection_streams (projection, stream_id, version)
         SELECT $1, s, v FROM unnest($2::uuid[], $3::bigint[]) AS t(s, v)
         ON CONFLICT (projection, stream_id) DO UPDATE SET version = greatest(projection_streams.version, excluded.version)",
    )
    .bind(projection)
    .bind(&ids)
    .bind(&vs)
    .execute(conn)
    .await?;
    Ok(())
}

async fn save_status(
    conn: &mut PgConnection,
    projection: &str,
    last_seq: u64,
    applied: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_status (projection, last_seq, applied) VALUES ($1, $2, $3)
         ON CONFLICT (projection) DO UPDATE SET last_seq = greatest(projection_status.last_seq, excluded.last_seq),
             applied = projection_status.applied + excluded.applied, updated_at = now()",
    )
    .bind(projection)
    .bind(last_seq as i64)
    .bind(applied as i64)
    .execute(conn)
    .await?;
    Ok(())
}

async fn park<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    projection: &str,
    event_id: Uuid,
    seq: u64,
    event_type: &str,
    error: &str,
    envelope: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    tracing::warn!(projection, %event_id, seq, event_type, "event parked");
    sqlx::query(
        "INSERT INTO parked_events (projection, event_id, stream_seq, event_type, error, envelope)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (projection, event_id) DO UPDATE SET error = excluded.error, parked_at = now()",
    )
    .bind(projection)
    .bind(event_id)
    .bind(seq as i64)
    .bind(event_type)
    .bind(error)
    .bind(envelope)
    .execute(executor)
    .await?;
    Ok(())
}

fn base64_engine(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

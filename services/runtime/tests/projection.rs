//! The projection runner against real NATS and PostgreSQL: applies every event once, a
//! redelivery changes nothing, a failing event is parked while the runner goes on, parked events
//! replay, a rebuild gives the same read model, and reconciliation fills what JetStream lost.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use kansrijk_proto::subject;
use kansrijk_runtime::projection::{list_parked, ProjectionRunner, RunnerConfig};
use kansrijk_runtime::reconcile::reconcile;
use kansrijk_runtime::relay::{Relay, RelayConfig};
use kansrijk_runtime::store::{Append, EventStore, ExpectedVersion, Metadata, NewEvent};
use kansrijk_runtime::testing::{eventually, NatsServer, RecordingProjection, TestDb};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

struct Fixture {
    _db: TestDb,
    _nats: NatsServer,
    pool: PgPool,
    store: EventStore,
    js: jetstream::Context,
    recorder: Arc<RecordingProjection>,
    shutdown: CancellationToken,
}

fn relay_config() -> RelayConfig {
    RelayConfig {
        service: "proef".into(),
        source: "urn:nld:oin:00000001002220647000:systeem:kansrijk-proef"
            .parse()
            .unwrap(),
        batch_size: 100,
        poll_interval: Duration::from_millis(10),
    }
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let pool = db.pool("proef").await;
    let recorder = Arc::new(RecordingProjection::new(
        "proef_recorder",
        "proef",
        "proef_seen",
    ));
    recorder.create_table(&pool).await.unwrap();
    let nats = NatsServer::start();
    let client = kansrijk_runtime::nats::connect(&nats.url(), "projection-test")
        .await
        .unwrap();
    let js = jetstream::new(client);
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();
    let store = EventStore::new(pool.clone());
    let shutdown = CancellationToken::new();
    tokio::spawn(Relay::new(store.clone(), js.clone(), relay_config()).run(shutdown.clone()));
    Fixture {
        _db: db,
        _nats: nats,
        pool,
        store,
        js,
        recorder,
        shutdown,
    }
}

impl Fixture {
    fn runner(&self) -> ProjectionRunner {
        ProjectionRunner::new(
            self.pool.clone(),
            self.js.clone(),
            self.recorder.clone(),
            RunnerConfig::default(),
        )
    }

    async fn append(&self, stream: Uuid, data: serde_json::Value) {
        self.store
            .append(Append {
                stream_id: stream,
                stream_type: "proef".into(),
                municipality: "0546".into(),
                expected: ExpectedVersion::Any,
                command_id: None,
                metadata: Metadata::default(),
                events: vec![NewEvent {
                    id: Uuid::now_v7(),
                    event_type: "nl.test.iets-gebeurd.v1".parse().unwrap(),
                    data,
                }],
            })
            .await
            .unwrap();
    }

    async fn published(&self, n: u64) {
        eventually(Duration::from_secs(20), "relay publication", || {
            let js = self.js.clone();
            async move {
                let got = js
                    .get_stream(subject::EVENTS_STREAM)
                    .await
                    .ok()?
                    .info()
                    .await
                    .ok()?
                    .state
                    .messages;
                (got >= n).then_some(())
            }
        })
        .await;
    }

    async fn seen(&self) -> Vec<(Uuid, Uuid, i64)> {
        self.recorder.recorded(&self.pool).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_once_parks_failures_replays_and_rebuilds() {
    let f = fixture().await;
    let streams: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for i in 0..100 {
        let data = if i == 42 {
            serde_json::json!({ "poison": true })
        } else {
            serde_json::json!({ "i": i })
        };
        f.append(streams[i % 5], data).await;
    }
    f.published(100).await;

    let runner = f.runner();
    runner.catch_up().await.unwrap();
    // The poisoned event is parked; the other 99 are applied, and the runner went on past it.
    assert_eq!(f.seen().await.len(), 99);
    let parked = list_parked(&f.pool, "proef_recorder").await.unwrap();
    assert_eq!(parked.len(), 1);
    assert!(parked[0].error.contains("poisoned"));

    // Read-your-writes: the projection has every stream at 20; nothing is at 21 yet.
    use kansrijk_runtime::projection::wait_for;
    assert!(wait_for(
        &f.pool,
        &["proef_recorder"],
        streams[1],
        20,
        Duration::from_secs(1)
    )
    .await
    .unwrap());
    assert!(!wait_for(
        &f.pool,
        &["proef_recorder"],
        streams[1],
        21,
        Duration::from_millis(50)
    )
    .await
    .unwrap());

    // Redelivery of everything (a fresh consumer of the same name) changes nothing.
    let stream = f.js.get_stream(subject::EVENTS_STREAM).await.unwrap();
    stream.delete_consumer("proef_recorder").await.unwrap();
    let before = f.seen().await;
    runner.catch_up().await.unwrap();
    assert_eq!(f.seen().await, before);

    // Once the cause is fixed, the parked event replays.
    f.recorder.accept_poison.store(true, Ordering::SeqCst);
    assert_eq!(runner.replay_parked().await.unwrap(), (1, 0));
    assert!(list_parked(&f.pool, "proef_recorder")
        .await
        .unwrap()
        .is_empty());
    let complete = f.seen().await;
    assert_eq!(complete.len(), 100);

    // A rebuild from scratch gives the same read model.
    let (n, _) = runner.rebuild().await.unwrap();
    assert_eq!(n, 100);
    assert_eq!(f.seen().await, complete);
    f.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_is_woken_by_the_runner_that_applies_its_version() {
    use kansrijk_runtime::projection::{wait_for_applied, AppliedFeed};
    let f = fixture().await;
    let stream = Uuid::new_v4();
    let feed = AppliedFeed::default();
    let runner = f.runner().with_feed(feed.clone());
    f.append(stream, serde_json::json!({ "i": 1 })).await;
    f.published(1).await;
    runner.catch_up().await.unwrap();

    // Already applied: true at once; a version nobody wrote: false when the time is up.
    let wait = |version, timeout| {
        let (pool, feed) = (f.pool.clone(), feed.clone());
        async move {
            wait_for_applied(&pool, &feed, &["proef_recorder"], stream, version, timeout)
                .await
                .unwrap()
        }
    };
    assert!(wait(1, Duration::from_secs(5)).await);
    assert!(!wait(2, Duration::from_millis(300)).await);

    // Waiters for version 2 and 3, started before those events exist, are answered once the
    // runner applies them; a waiter for version 4 is not.
    let waiters: Vec<_> = [2, 3, 4]
        .into_iter()
        .map(|v| {
            let timeout = if v == 4 { 2 } else { 60 };
            tokio::spawn(wait(v, Duration::from_secs(timeout)))
        })
        .collect();
    f.append(stream, serde_json::json!({ "i": 2 })).await;
    f.append(stream, serde_json::json!({ "i": 3 })).await;
    f.published(3).await;
    runner.catch_up().await.unwrap();
    let mut answers = Vec::new();
    for w in waiters {
        answers.push(w.await.unwrap());
    }
    assert_eq!(answers, [true, true, false]);

    // A batch applied by a runner without the feed (another replica) is found by the re-check.
    let other = f.runner();
    let waiter = tokio::spawn(wait(4, Duration::from_secs(60)));
    f.append(stream, serde_json::json!({ "i": 4 })).await;
    f.published(4).await;
    other.catch_up().await.unwrap();
    assert!(waiter.await.unwrap());
    f.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_republishes_what_jetstream_lost() {
    let f = fixture().await;
    let streams: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    for i in 0..40 {
        f.append(streams[i % 4], serde_json::json!({ "i": i }))
            .await;
    }
    f.published(40).await;
    // JetStream loses some messages (e.g. a lost replica): delete them from the stream.
    let stream = f.js.get_stream(subject::EVENTS_STREAM).await.unwrap();
    for seq in [5u64, 6, 20, 33, 40] {
        stream.delete_message(seq).await.unwrap();
    }
    let runner = f.runner();
    runner.catch_up().await.unwrap();
    let behind = f.seen().await.len();
    assert!(
        behind < 40,
        "the projection cannot have seen the deleted events"
    );

    let types = vec!["proef".to_string()];
    let source = relay_config().source;
    let report = reconcile(
        &f.store,
        "proef",
        &source,
        &types,
        &f.pool,
        "proef_recorder",
        None,
    )
    .await
    .unwrap();
    assert!(report.events_missing > 0);
    assert_eq!(report.events_missing, 40 - behind, "{report:?}");

    let report = reconcile(
        &f.store,
        "proef",
        &source,
        &types,
        &f.pool,
        "proef_recorder",
        Some(&f.js),
    )
    .await
    .unwrap();
    assert_eq!(report.events_republished, 40 - behind);
    eventually(
        Duration::from_secs(30),
        "projection complete after reconciliation",
        || async {
            runner.catch_up().await.ok()?;
            (f.seen().await.len() == 40).then_some(())
        },
    )
    .await;
    let after = reconcile(
        &f.store,
        "proef",
        &source,
        &types,
        &f.pool,
        "proef_recorder",
        None,
    )
    .await
    .unwrap();
    assert_eq!(after.events_missing, 0);
    f.shutdown.cancel();
}

//! The event store against a real PostgreSQL: versions, idempotency, and the reader that never
//! skips an event committed late by a concurrent transaction.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use kansrijk_runtime::store::{
    Append, Checkpoint, EventStore, ExpectedVersion, Metadata, NewEvent, StoreError,
};
use kansrijk_runtime::testing::TestDb;
use rand::Rng;
use uuid::Uuid;

fn event(n: usize) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: "nl.test.iets-gebeurd.v1".parse().unwrap(),
        data: serde_json::json!({ "n": n }),
    }
}

fn append(
    stream_id: Uuid,
    expected: ExpectedVersion,
    command_id: Option<Uuid>,
    n: usize,
) -> Append {
    Append {
        stream_id,
        stream_type: "test".into(),
        municipality: "0546".into(),
        expected,
        command_id,
        metadata: Metadata {
            command_id,
            ..Default::default()
        },
        events: (0..n).map(event).collect(),
    }
}

#[tokio::test]
async fn versions_are_checked_and_conflicts_are_typed() {
    let db = TestDb::new().await;
    let store = EventStore::new(db.pool("svc").await);
    let s = Uuid::new_v4();
    let a = store
        .append(append(s, ExpectedVersion::NoStream, None, 2))
        .await
        .unwrap();
    assert_eq!(a.version, 2);
    assert!(a.first_time);
    let err = store
        .append(append(s, ExpectedVersion::NoStream, None, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Concurrency { stream_id, .. } if stream_id == s),
        "{err:?}"
    );
    let err = store
        .append(append(s, ExpectedVersion::Exact(1), None, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Concurrency { .. }));
    let b = store
        .append(append(s, ExpectedVersion::Exact(2), None, 1))
        .await
        .unwrap();
    assert_eq!(b.version, 3);
    let c = store
        .append(append(s, ExpectedVersion::Any, None, 1))
        .await
        .unwrap();
    assert_eq!(c.version, 4);
    let events = store.read_stream(s).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(matches!(
        store.append(append(s, ExpectedVersion::Any, None, 0)).await,
        Err(StoreError::Empty)
    ));
}

#[tokio::test]
async fn a_retried_command_returns_the_first_result_and_appends_nothing() {
    let db = TestDb::new().await;
    let store = EventStore::new(db.pool("svc").await);
    let s = Uuid::new_v4();
    let cmd = Uuid::new_v4();
    let first = store
        .append(append(s, ExpectedVersion::NoStream, Some(cmd), 1))
        .await
        .unwrap();
    let again = store
        .append(append(s, ExpectedVersion::NoStream, Some(cmd), 1))
        .await
        .unwrap();
    assert!(first.first_time && !again.first_time);
    assert_eq!(
        (first.version, first.position),
        (again.version, again.position)
    );
    assert_eq!(store.count().await.unwrap(), 1);

    // Concurrent tries of one command: exactly one appends, all get its result.
    let s2 = Uuid::new_v4();
    let cmd2 = Uuid::new_v4();
    let tries: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(append(s2, ExpectedVersion::Any, Some(cmd2), 1))
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tries {
        results.push(t.await.unwrap().unwrap());
    }
    assert_eq!(results.iter().filter(|r| r.first_time).count(), 1);
    assert!(results.iter().all(|r| r.version == 1));
    assert_eq!(store.read_stream(s2).await.unwrap().len(), 1);
}

/// Many writers, some of which hold their transaction open after inserting (so rows with low
/// positions commit after rows with higher ones), and a reader polling all the while. The reader
/// must see every committed event exactly once and every stream in version order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reader_never_skips_a_late_commit() {
    let db = TestDb::new().await;
    let pool = db.pool("svc").await;
    let store = EventStore::new(pool.clone());
    let writers = 16;
    let appends_per_writer = 60;
    let streams: Vec<Uuid> = (0..24).map(|_| Uuid::new_v4()).collect();

    // The reader runs until it has seen as many events as were committed. Transactions elsewhere in
    // the PostgreSQL cluster (other tests) hold the horizon back for a moment: an empty read means
    // "not yet", never "done".
    let expected = Arc::new(std::sync::atomic::AtomicI64::new(i64::MAX));
    let reader = {
        let store = store.clone();
        let expected = expected.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cp = Checkpoint::default();
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while (seen.len() as i64) < expected.load(Ordering::SeqCst) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "reader did not catch up"
                );
                let batch = store.read_after(cp, 100).await.unwrap();
                if let Some(last) = batch.last() {
                    cp = Checkpoint {
                        tx_id: last.tx_id,
                        position: last.position,
                    };
                }
                if batch.is_empty() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                seen.extend(
                    batch
                        .into_iter()
                        .map(|e| (e.event_id, e.stream_id, e.version)),
                );
            }
            // One more read after catching up: nothing may follow.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let extra = store.read_after(cp, 100).await.unwrap();
            seen.extend(
                extra
                    .into_iter()
                    .map(|e| (e.event_id, e.stream_id, e.version)),
            );
            seen
        })
    };

    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let pool = pool.clone();
        let streams = streams.clone();
        tasks.push(tokio::spawn(async move {
            let mut committed = 0;
            for i in 0..appends_per_writer {
                let s = streams[(w * 7 + i) % streams.len()];
                let slow = (w + i) % 3 == 0;
                let result = if slow {
                    // Insert, then hold the transaction open before committing.
                    let mut tx = pool.begin().await.unwrap();
                    let r = sqlx::query(
                        "SELECT version FROM append_events(NULL, $1, -1, 'test', '0546', $2, $3, $4, $5)",
                    )
                    .bind(s)
                    .bind(vec![Uuid::now_v7()])
                    .bind(vec!["nl.test.iets-gebeurd.v1".to_string()])
                    .bind(vec![serde_json::json!({ "w": w, "i": i })])
                    .bind(vec![serde_json::json!({})])
                    .fetch_one(&mut *tx)
                    .await;
                    let pause = rand::thread_rng().gen_range(1..15);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    match r {
                        Ok(_) => tx.commit().await.map(|_| ()).map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                } else {
                    store.append(append(s, ExpectedVersion::Any, None, 1 + i % 2)).await.map(|_| ()).map_err(|e| e.to_string())
                };
                // Conflicting versions on a shared stream are expected; the loser simply did not commit.
                if result.is_ok() {
                    committed += 1;
                }
            }
            committed
        }));
    }
    let mut committed_appends = 0;
    for t in tasks {
        committed_appends += t.await.unwrap();
    }
    let committed: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    expected.store(committed, Ordering::SeqCst);
    let seen = reader.await.unwrap();

    let stored: Vec<(Uuid, Uuid, i64)> =
        sqlx::query_as("SELECT event_id, stream_id, version FROM events")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        committed_appends > writers * appends_per_writer / 2,
        "too few appends committed: {committed_appends}"
    );
    let seen_ids: HashSet<Uuid> = seen.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(seen_ids.len(), seen.len(), "the reader saw an event twice");
    let stored_ids: HashSet<Uuid> = stored.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(
        seen_ids,
        stored_ids,
        "the reader missed {} events",
        stored_ids.difference(&seen_ids).count()
    );
    let mut last: HashMap<Uuid, i64> = HashMap::new();
    for (_, stream, version) in &seen {
        let prev = last.insert(*stream, *version).unwrap_or(0);
        assert_eq!(
            *version,
            prev + 1,
            "stream {stream} out of order: {version} after {prev}"
        );
    }
}

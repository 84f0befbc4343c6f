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
            let mut late_commits = 0;
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
                    .bind(serde_json::json!({}))
                    .fetch_one(&mut *tx)
                    .await;
                    let pause = rand::thread_rng().gen_range(1..15);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    match r {
                        Ok(_) => {
                            tx.commit().await.expect("commit");
                            late_commits += 1;
                            true
                        }
                        // Two writers took the same version of a shared stream: the loser did
                        // not commit. Any other error fails the test.
                        Err(e) => {
                            assert!(
                                e.as_database_error().is_some_and(|d| d.is_unique_violation()),
                                "{e}"
                            );
                            false
                        }
                    }
                } else {
                    match store.append(append(s, ExpectedVersion::Any, None, 1 + i % 2)).await {
                        Ok(_) => true,
                        Err(StoreError::Concurrency { .. }) => false,
                        Err(e) => panic!("{e}"),
                    }
                };
                if result {
                    committed += 1;
                }
            }
            (committed, late_commits)
        }));
    }
    let mut committed_appends = 0;
    let mut late_commits = 0;
    for t in tasks {
        let (c, l) = t.await.unwrap();
        committed_appends += c;
        late_commits += l;
    }
    assert!(late_commits > 0, "no transaction committed late");
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

#[tokio::test]
async fn a_retried_multi_event_command_returns_its_last_event_even_on_another_stream() {
    let db = TestDb::new().await;
    let store = EventStore::new(db.pool("svc").await);
    let s = Uuid::new_v4();
    let cmd = Uuid::new_v4();
    let first = store
        .append(append(s, ExpectedVersion::NoStream, Some(cmd), 3))
        .await
        .unwrap();
    assert_eq!(first.version, 3);
    // A handler that made up a new stream id on the retry gets the first try's stream back.
    let again = store
        .append(append(
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            Some(cmd),
            3,
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            again.stream_id,
            again.version,
            again.position,
            again.first_time
        ),
        (s, 3, first.position, false)
    );
    let events = store.read_stream(s).await.unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].position, first.position);
    assert_eq!(store.count().await.unwrap(), 3);
    assert_eq!(store.command_result(cmd).await.unwrap(), Some(again));
    assert_eq!(store.command_result(Uuid::new_v4()).await.unwrap(), None);
}

/// Runtime migration 10004 moves the idempotency records of an existing store from the
/// `commands` table onto the events: a command appended before the migration is still
/// recognised after it, and the store goes on appending.
#[tokio::test]
async fn migration_10004_keeps_the_commands_of_an_existing_store() {
    let db = TestDb::new().await;
    let pool = kansrijk_runtime::db::connect(&db.url, "old", 4)
        .await
        .unwrap();
    for sql in [
        include_str!("../migrations/10001_event_store.sql"),
        include_str!("../migrations/10003_append_returns_stream.sql"),
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    // The old function: one metadata document per event.
    let old_append = |cmd: Option<Uuid>, stream: Uuid, n: usize| {
        sqlx::query_as::<_, (Uuid, i64, i64, bool)>(
            "SELECT * FROM append_events($1, $2, -1, 'test', '0546', $3, $4, $5, $6)",
        )
        .bind(cmd)
        .bind(stream)
        .bind((0..n).map(|_| Uuid::now_v7()).collect::<Vec<_>>())
        .bind(vec!["nl.test.iets-gebeurd.v1".to_string(); n])
        .bind(
            (0..n)
                .map(|i| serde_json::json!({ "n": i }))
                .collect::<Vec<_>>(),
        )
        .bind(vec![serde_json::json!({}); n])
        .fetch_one(&pool)
    };
    let (s1, s2, c1, c2) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let before1 = old_append(Some(c1), s1, 2).await.unwrap();
    let before2 = old_append(Some(c2), s2, 1).await.unwrap();
    old_append(None, s2, 1).await.unwrap();

    sqlx::raw_sql(include_str!("../migrations/10004_command_id_on_events.sql"))
        .execute(&pool)
        .await
        .unwrap();
    let commands_table: Option<String> = sqlx::query_scalar("SELECT to_regclass('commands')::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(commands_table, None);

    let store = EventStore::new(pool.clone());
    for (cmd, (stream, version, position, _)) in [(c1, before1), (c2, before2)] {
        let known = store
            .command_result(cmd)
            .await
            .unwrap()
            .expect("known command");
        assert_eq!(
            (known.stream_id, known.version, known.position),
            (stream, version, position)
        );
        let retried = store
            .append(append(stream, ExpectedVersion::Any, Some(cmd), 1))
            .await
            .unwrap();
        assert!(!retried.first_time);
    }
    assert_eq!(store.count().await.unwrap(), 4);
    let next = store
        .append(append(
            s2,
            ExpectedVersion::Exact(2),
            Some(Uuid::new_v4()),
            1,
        ))
        .await
        .unwrap();
    assert_eq!((next.version, next.first_time), (3, true));
    // Event ids stay unique under the new primary key.
    let dup = sqlx::query("INSERT INTO events (event_id, stream_id, stream_type, version, event_type, municipality, data, metadata) SELECT event_id, stream_id, stream_type, version + 100, event_type, municipality, data, metadata FROM events LIMIT 1")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(dup
        .as_database_error()
        .is_some_and(|d| d.is_unique_violation()));
}

/// A retry that overtook its first try is refused by the rules (409) against the state the
/// first try made; `settle` answers it with the first try's result, and leaves every other
/// refusal as it is.
#[tokio::test]
async fn a_conflict_of_a_command_whose_first_try_committed_meanwhile_is_its_first_result() {
    use kansrijk_proto::problem::Problem;
    use kansrijk_runtime::service::settle;
    let db = TestDb::new().await;
    let store = EventStore::new(db.pool("svc").await);
    let cmd = Uuid::new_v4();
    let first = store
        .append(append(
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            Some(cmd),
            1,
        ))
        .await
        .unwrap()
        .accepted();
    let exists = || Err(Problem::conflict("bestaat-al", "Bestaat al."));
    let settled = settle(&store, Some(cmd), exists())
        .await
        .expect("first result");
    assert_eq!(settled.stream_id, first.stream_id);
    assert_eq!(settled.version, first.version);
    assert!(!settled.first_time);
    // Another command id, no command id, or a refusal that is no conflict: unchanged.
    assert_eq!(
        settle(&store, Some(Uuid::new_v4()), exists())
            .await
            .unwrap_err()
            .status,
        409
    );
    assert_eq!(
        settle(&store, None, exists()).await.unwrap_err().status,
        409
    );
    let invalid = Err(Problem::bad_request("ongeldig", "Ongeldig."));
    assert_eq!(
        settle(&store, Some(cmd), invalid).await.unwrap_err().status,
        400
    );
    assert_eq!(store.count().await.unwrap(), 1);
}

//! The relay against a real nats-server that is killed in the middle of a stream of appends and
//! started again: every event ends up in JetStream exactly once, each stream in order, and no
//! append failed because NATS was down.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use kansrijk_proto::envelope::{CloudEvent, Source};
use kansrijk_proto::subject;
use kansrijk_runtime::relay::{Relay, RelayConfig};
use kansrijk_runtime::store::{Append, EventStore, ExpectedVersion, Metadata, NewEvent};
use kansrijk_runtime::testing::{eventually, NatsServer, TestDb};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub fn relay_config() -> RelayConfig {
    RelayConfig {
        service: "test".into(),
        source: Source::new(
            "oin",
            kansrijk_runtime::config::DEFAULT_OIN,
            "kansrijk-test",
        )
        .unwrap(),
        batch_size: 200,
        poll_interval: Duration::from_millis(20),
    }
}

async fn stream_contents(js: &jetstream::Context) -> Vec<CloudEvent> {
    let stream = js.get_stream(subject::EVENTS_STREAM).await.unwrap();
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            ..Default::default()
        })
        .await
        .unwrap();
    let total = js
        .get_stream(subject::EVENTS_STREAM)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages;
    let mut out = Vec::new();
    let mut msgs = consumer.messages().await.unwrap();
    while (out.len() as u64) < total {
        let m = tokio::time::timeout(Duration::from_secs(10), msgs.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        out.push(serde_json::from_slice(&m.payload).unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_nats_mid_stream_loses_nothing_and_duplicates_nothing() {
    let db = TestDb::new().await;
    let store = EventStore::new(db.pool("svc").await);
    let mut nats = NatsServer::start();
    let client = kansrijk_runtime::nats::connect(&nats.url(), "relay-test")
        .await
        .unwrap();
    let js = jetstream::new(client.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();

    let shutdown = CancellationToken::new();
    let relay = Relay::new(store.clone(), js.clone(), relay_config());
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));

    let streams: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let total_appends = 1500;
    let writer = {
        let store = store.clone();
        let streams = streams.clone();
        tokio::spawn(async move {
            for i in 0..total_appends {
                let s = streams[i % streams.len()];
                let a = Append {
                    stream_id: s,
                    stream_type: "proef".into(),
                    municipality: "0546".into(),
                    expected: ExpectedVersion::Any,
                    command_id: None,
                    metadata: Metadata::default(),
                    events: vec![NewEvent {
                        id: Uuid::now_v7(),
                        event_type: "nl.test.iets-gebeurd.v1".parse().unwrap(),
                        data: serde_json::json!({ "i": i }),
                    }],
                };
                // NATS being down must never fail an append.
                store
                    .append(a)
                    .await
                    .expect("append does not depend on NATS");
                if i % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };

    // Kill the server once part of the events went out, keep it down a while, bring it back.
    eventually(Duration::from_secs(30), "first publications", || {
        let js = js.clone();
        async move {
            let n = js
                .get_stream(subject::EVENTS_STREAM)
                .await
                .ok()?
                .info()
                .await
                .ok()?
                .state
                .messages;
            (n > 200).then_some(())
        }
    })
    .await;
    nats.kill();
    tokio::time::sleep(Duration::from_millis(700)).await;
    nats.restart();
    writer.await.unwrap();

    let expected = store.count().await.unwrap() as u64;
    assert_eq!(expected, total_appends as u64);
    eventually(Duration::from_secs(60), "all events in JetStream", || {
        let js = js.clone();
        async move {
            let n = js
                .get_stream(subject::EVENTS_STREAM)
                .await
                .ok()?
                .info()
                .await
                .ok()?
                .state
                .messages;
            (n >= expected).then_some(())
        }
    })
    .await;
    shutdown.cancel();
    relay_task.await.unwrap();

    let published = stream_contents(&js).await;
    assert_eq!(published.len() as u64, expected, "duplicates in the stream");
    let ids: HashSet<Uuid> = published.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), published.len(), "an event was published twice");
    let mut last: HashMap<Uuid, i64> = HashMap::new();
    for e in &published {
        let v = e.stream_version().unwrap();
        let prev = last.insert(e.subject, v).unwrap_or(0);
        assert_eq!(v, prev + 1, "stream out of order after restart");
    }
    assert_eq!(last.values().sum::<i64>() as u64, expected);
}

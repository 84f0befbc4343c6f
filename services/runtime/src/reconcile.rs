//! Reconciliation: compares what a service's store holds with what a projection has applied,
//! per stream, and republishes what the projection is missing. PostgreSQL is the system of
//! record; JetStream only carries events, so whatever it lost is sent again from the store.

use std::time::{SystemTime, UNIX_EPOCH};

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage as Publish;
use kansrijk_proto::envelope::Source;
use kansrijk_proto::subject;
use sqlx::PgPool;

use crate::projection::applied_versions;
use crate::store::EventStore;

/// What a reconciliation found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub projection: String,
    pub service: String,
    pub streams_in_store: usize,
    pub streams_behind: usize,
    pub events_missing: usize,
    pub events_republished: usize,
}

/// Compares `store` (of `service`, streams of `stream_types`) with `projection` in
/// `projection_pool`. With `republish`, sends the missing events again.
pub async fn reconcile(
    store: &EventStore,
    service: &str,
    source: &Source,
    stream_types: &[String],
    projection_pool: &PgPool,
    projection: &str,
    republish: Option<&jetstream::Context>,
) -> anyhow::Result<ReconcileReport> {
    let heads = store.stream_heads(stream_types).await?;
    let applied = applied_versions(projection_pool, projection).await?;
    let mut report = ReconcileReport {
        projection: projection.into(),
        service: service.into(),
        streams_in_store: heads.len(),
        ..Default::default()
    };
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    for (stream_id, head) in heads {
        let have = applied.get(&stream_id).copied().unwrap_or(0);
        if have >= head {
            continue;
        }
        report.streams_behind += 1;
        let missing = store.read_stream_after(stream_id, have).await?;
        report.events_missing += missing.len();
        if let Some(js) = republish {
            for e in missing {
                let ce = e.to_cloud_event(source);
                // A fresh message id: the original may still sit in the duplicate window.
                let publish = Publish::build()
                    .payload(serde_json::to_vec(&ce)?.into())
                    .message_id(format!("{}:herstel:{nonce}", e.event_id));
                js.send_publish(subject::event(service, &e.stream_type), publish)
                    .await?
                    .await?;
                report.events_republished += 1;
            }
        }
    }
    Ok(report)
}

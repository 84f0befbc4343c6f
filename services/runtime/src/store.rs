//! The event store of one service.
//!
//! Writers append to one stream at a time through the `append_events` SQL function (one round
//! trip): the expected version is checked, the events get consecutive stream versions, and a
//! command id makes the append idempotent. Readers of the whole store use [`EventStore::read_after`],
//! which only returns rows whose transaction is older than every running one, in
//! `(tx_id, position)` order, so an event committed late is never skipped (ADR 0002).

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use kansrijk_proto::envelope::{CloudEvent, EventType, Source, SCHEMA_BASE_URI};
use kansrijk_proto::event::{DecodeError, EventSet};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

/// What a writer expects the stream's current version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version.
    Exact(i64),
}

impl ExpectedVersion {
    fn as_sql(self) -> i64 {
        match self {
            ExpectedVersion::Any => -1,
            ExpectedVersion::NoStream => 0,
            ExpectedVersion::Exact(n) => n,
        }
    }
}

/// Context recorded with every event: who, on whose behalf, why, and the trace. Pseudonymous.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<Uuid>,
    /// Pseudonym of the person who sent the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// One new event, encoded but not yet stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: Uuid,
    pub event_type: EventType,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn from_set<E: EventSet>(event: &E) -> Result<Self, StoreError> {
        Ok(NewEvent {
            id: Uuid::now_v7(),
            event_type: event.event_type(),
            data: event.to_data().map_err(StoreError::Encode)?,
        })
    }
}

/// An append to one stream.
#[derive(Debug, Clone)]
pub struct Append {
    pub stream_id: Uuid,
    pub stream_type: String,
    pub municipality: String,
    pub expected: ExpectedVersion,
    pub command_id: Option<Uuid>,
    pub metadata: Metadata,
    pub events: Vec<NewEvent>,
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The stream the command went to (the first try's, for a retried command id).
    pub stream_id: Uuid,
    pub version: i64,
    pub position: i64,
    /// `false` when the command id had been seen: nothing was appended.
    pub first_time: bool,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub position: i64,
    pub tx_id: i64,
    pub event_id: Uuid,
    pub stream_id: Uuid,
    pub stream_type: String,
    pub version: i64,
    pub event_type: EventType,
    pub municipality: String,
    pub recorded_at: DateTime<Utc>,
    pub data: serde_json::Value,
    pub metadata: Metadata,
}

impl StoredEvent {
    /// Decodes the payload into the domain's event set (upcasting old versions).
    pub fn decode<E: EventSet>(&self) -> Result<E, DecodeError> {
        E::decode(&self.event_type, self.data.clone())
    }

    /// The CloudEvent that goes on the wire.
    pub fn to_cloud_event(&self, source: &Source) -> CloudEvent {
        CloudEvent {
            specversion: "1.0".into(),
            id: self.event_id,
            source: source.clone(),
            dataschema: format!("{SCHEMA_BASE_URI}{}.json", self.event_type),
            event_type: self.event_type.clone(),
            time: self.recorded_at,
            subject: self.stream_id,
            datacontenttype: "application/json".into(),
            sequence: self.version.to_string(),
            gemeente: self.municipality.clone(),
            streamtype: self.stream_type.clone(),
            data: self.data.clone(),
        }
    }
}

/// A position in the store's read order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Checkpoint {
    pub tx_id: i64,
    pub position: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream moved on since the writer read it: a 409 for the user.
    #[error("concurrency conflict on stream {stream_id}: {detail}")]
    Concurrency { stream_id: Uuid, detail: String },
    #[error("an append needs at least one event")]
    Empty,
    #[error("event could not be encoded: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("stored event {position} is unreadable: {reason}")]
    Corrupt { position: i64, reason: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Statements a service runs inside an append's transaction ([`EventStore::append_with`]).
pub type InTx =
    Box<dyn for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<(), sqlx::Error>> + Send>;

/// Wraps statements for [`EventStore::append_with`] (so that the closure's lifetimes infer).
pub fn in_tx<F>(f: F) -> InTx
where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<(), sqlx::Error>>
        + Send
        + 'static,
{
    Box::new(f)
}

/// The event store in one service's schema.
#[derive(Debug, Clone)]
pub struct EventStore {
    pool: PgPool,
}

impl EventStore {
    pub fn new(pool: PgPool) -> Self {
        EventStore { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends events to one stream. A known command id returns its first result.
    pub async fn append(&self, append: Append) -> Result<Appended, StoreError> {
        let result = {
            let mut conn = self.pool.acquire().await?;
            Self::append_in(&mut conn, &append).await
        };
        self.or_first_result(&append, result).await
    }

    /// Appends events to one stream and runs `also` in the same transaction, after the events
    /// and only when they were appended (not for a command id seen before): the service's own
    /// rows (an index row, say) commit together with the events or not at all, atomically with
    /// the expected-version check and the command id's idempotency. An error of `also` rolls
    /// the whole append back and comes back as [`StoreError::Database`].
    pub async fn append_with(&self, append: Append, also: InTx) -> Result<Appended, StoreError> {
        let result = async {
            let mut tx = self.pool.begin().await?;
            let appended = Self::append_in(&mut tx, &append).await?;
            if appended.first_time {
                also(&mut tx).await?;
            }
            tx.commit().await?;
            Ok(appended)
        }
        .await;
        self.or_first_result(&append, result).await
    }

    /// A conflict may be a concurrent try of the same command that won the race: its result is
    /// ours.
    async fn or_first_result(
        &self,
        append: &Append,
        result: Result<Appended, StoreError>,
    ) -> Result<Appended, StoreError> {
        match result {
            Err(StoreError::Concurrency { stream_id, detail }) => {
                if let Some(command_id) = append.command_id {
                    if let Some(first) = self.command_result(command_id).await? {
                        return Ok(first);
                    }
                }
                Err(StoreError::Concurrency { stream_id, detail })
            }
            other => other,
        }
    }

    /// Appends inside the caller's connection or transaction (for a service that keeps its own
    /// tables in step with its events in one transaction).
    pub async fn append_in(
        conn: &mut PgConnection,
        append: &Append,
    ) -> Result<Appended, StoreError> {
        if append.events.is_empty() {
            return Err(StoreError::Empty);
        }
        let metadata = serde_json::to_value(&append.metadata).map_err(StoreError::Encode)?;
        let ids: Vec<Uuid> = append.events.iter().map(|e| e.id).collect();
        let types: Vec<String> = append
            .events
            .iter()
            .map(|e| e.event_type.to_string())
            .collect();
        let data: Vec<&serde_json::Value> = append.events.iter().map(|e| &e.data).collect();
        let result = sqlx::query(
            "SELECT stream_id, version, position, first_time FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(append.command_id)
        .bind(append.stream_id)
        .bind(append.expected.as_sql())
        .bind(&append.stream_type)
        .bind(&append.municipality)
        .bind(&ids)
        .bind(&types)
        .bind(&data)
        .bind(&metadata)
        .fetch_one(&mut *conn)
        .await;
        match result {
            Ok(row) => Ok(Appended {
                stream_id: row.try_get("stream_id")?,
                version: row.try_get("version")?,
                position: row.try_get("position")?,
                first_time: row.try_get("first_time")?,
            }),
            Err(e) => {
                let conflict = e.as_database_error().is_some_and(|d| {
                    d.code().as_deref() == Some("KR409")
                        || (d.is_unique_violation()
                            && matches!(
                                d.constraint(),
                                Some("events_stream_version") | Some("events_command_id")
                            ))
                });
                if conflict {
                    let detail = e
                        .as_database_error()
                        .map(|d| d.message().to_owned())
                        .unwrap_or_default();
                    Err(StoreError::Concurrency {
                        stream_id: append.stream_id,
                        detail,
                    })
                } else {
                    Err(e.into())
                }
            }
        }
    }

    /// The stored result of a command id, if it was appended.
    pub async fn command_result(&self, command_id: Uuid) -> Result<Option<Appended>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::command_result_in(&mut conn, command_id).await
    }

    /// [`EventStore::command_result`] inside the caller's connection or transaction. The command
    /// id sits on the last event the command appended (runtime migration 10004).
    pub async fn command_result_in(
        conn: &mut PgConnection,
        command_id: Uuid,
    ) -> Result<Option<Appended>, StoreError> {
        let row =
            sqlx::query("SELECT stream_id, version, position FROM events WHERE command_id = $1")
                .bind(command_id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(match row {
            Some(r) => Some(Appended {
                stream_id: r.try_get("stream_id")?,
                version: r.try_get("version")?,
                position: r.try_get("position")?,
                first_time: false,
            }),
            None => None,
        })
    }

    /// All events of one stream, in version order.
    pub async fn read_stream(&self, stream_id: Uuid) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENTS} WHERE stream_id = $1 ORDER BY version"
        ))
        .bind(stream_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_event).collect()
    }

    /// The current version of a stream (0 when it does not exist).
    pub async fn stream_version(&self, stream_id: Uuid) -> Result<i64, StoreError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM events WHERE stream_id = $1")
                .bind(stream_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(v.unwrap_or(0))
    }

    /// Up to `limit` events after `after`, in read order, never past a running transaction.
    pub async fn read_after(
        &self,
        after: Checkpoint,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENTS} WHERE (tx_id, position) > ($1, $2)
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
             ORDER BY tx_id, position LIMIT $3"
        ))
        .bind(after.tx_id)
        .bind(after.position)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_event).collect()
    }

    /// Whether events after `after` are committed but held back by [`read_after`] because an
    /// older transaction is still running (or simply exist, when called right after an empty
    /// read).
    ///
    /// [`read_after`]: EventStore::read_after
    pub async fn has_after(&self, after: Checkpoint) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE (tx_id, position) > ($1, $2))",
        )
        .bind(after.tx_id)
        .bind(after.position)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Number of events in the store.
    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The highest version of every stream of the given types.
    pub async fn stream_heads(
        &self,
        stream_types: &[String],
    ) -> Result<Vec<(Uuid, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT stream_id, max(version) AS version FROM events
             WHERE stream_type = ANY($1) GROUP BY stream_id",
        )
        .bind(stream_types)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("stream_id")?, r.try_get("version")?)))
            .collect()
    }

    /// Events of one stream above a version.
    pub async fn read_stream_after(
        &self,
        stream_id: Uuid,
        version: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_EVENTS} WHERE stream_id = $1 AND version > $2 ORDER BY version"
        ))
        .bind(stream_id)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_event).collect()
    }
}

const SELECT_EVENTS: &str =
    "SELECT position, tx_id, event_id, stream_id, stream_type, version, event_type,
    municipality, recorded_at, data, metadata FROM events";

fn row_to_event(row: &sqlx::postgres::PgRow) -> Result<StoredEvent, StoreError> {
    let position: i64 = row.try_get("position")?;
    let corrupt = |reason: String| StoreError::Corrupt { position, reason };
    let event_type: String = row.try_get("event_type")?;
    let metadata: serde_json::Value = row.try_get("metadata")?;
    Ok(StoredEvent {
        position,
        tx_id: row.try_get("tx_id")?,
        event_id: row.try_get("event_id")?,
        stream_id: row.try_get("stream_id")?,
        stream_type: row.try_get("stream_type")?,
        version: row.try_get("version")?,
        event_type: event_type.parse().map_err(|e| corrupt(format!("{e}")))?,
        municipality: row.try_get("municipality")?,
        recorded_at: row.try_get("recorded_at")?,
        data: row.try_get("data")?,
        metadata: serde_json::from_value(metadata).map_err(|e| corrupt(e.to_string()))?,
    })
}

impl Appended {
    /// The reply to the command that made this append.
    pub fn accepted(self) -> kansrijk_proto::command::CommandAccepted {
        kansrijk_proto::command::CommandAccepted {
            stream_id: self.stream_id,
            version: self.version,
            position: self.position,
            first_time: self.first_time,
        }
    }
}

impl Metadata {
    /// The metadata of an event appended for `actor` (pseudonymous: no personal data).
    pub fn for_actor(
        actor: &kansrijk_proto::Actor,
        command_id: Option<Uuid>,
        traceparent: Option<&str>,
    ) -> Self {
        Metadata {
            command_id,
            actor: Some(actor.person.clone()),
            organisation: Some(actor.organisation.clone()),
            traceparent: traceparent.map(str::to_owned),
        }
    }
}

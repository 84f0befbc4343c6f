//! The privacy service's core: subject keys (create, fetch, rewrap under a new master key) and
//! the commands on a subject's stream (erase, legal hold, retention).
//!
//! Every change of a subject runs in one transaction that locks the subject's row, reads its
//! stream, decides (pure, [`crate::domain`]), appends the events with the expected version and
//! updates the service's own tables (`subject_keys`, `subjects`, `retention_periods`). Erasure
//! deletes the key row in that same transaction: the `nl.privacy.betrokkene-gewist` event and
//! the destruction of the key commit together or not at all.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use kansrijk_proto::actor::Actor;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::{DataKind, ErasureGrounds, PrivacyEvent, SubjectKind};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::crypto::{MasterKeyRing, SubjectKey, WrappedKey};
use kansrijk_runtime::keys::{KeyMaterial, KeysReply};
use kansrijk_runtime::store::{
    Append, Appended, EventStore, ExpectedVersion, Metadata, NewEvent, StoreError,
};
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::access_log::AccessLogWriter;
use crate::config::Config;
use crate::domain::{self, Command, SubjectState};
use crate::error::{crypto_problem, db_problem, store_problem};

/// The key version every subject key has (a subject's key is never rotated: erasure destroys it,
/// master-key rotation rewraps it).
pub const KEY_VERSION: u32 = 1;

/// The privacy service's state shared by its endpoints, scheduler and CLI functions.
#[derive(Debug, Clone)]
pub struct Privacy {
    pub(crate) pool: PgPool,
    pub(crate) config: Arc<Config>,
    pub(crate) access_log: AccessLogWriter,
    /// Wakes the relay after an append (absent when no relay runs in this process, e.g. the CLI:
    /// the running service's relay then publishes at its next poll).
    wake: Option<Arc<Notify>>,
}

impl Privacy {
    /// Connects to the database (schema `privacy`) and migrates it; no NATS needed.
    pub async fn connect(config: Config) -> anyhow::Result<Self> {
        let pool = kansrijk_runtime::db::connect(&config.common.database_url, SCHEMA, 10).await?;
        migrate(&pool).await?;
        Ok(Privacy::new(pool, config, None))
    }

    pub fn new(pool: PgPool, config: Config, wake: Option<Arc<Notify>>) -> Self {
        let access_log = AccessLogWriter::spawn(pool.clone(), Some(config.pseudonymizer.clone()));
        Privacy {
            pool,
            config: Arc::new(config),
            access_log,
            wake,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn access_log(&self) -> &AccessLogWriter {
        &self.access_log
    }

    pub(crate) fn wake_relay(&self) {
        if let Some(w) = &self.wake {
            w.notify_one();
        }
    }

    /// Creates the subject's key, or returns the existing one. An erased subject gets no new key.
    pub async fn create_key(
        &self,
        subject: Uuid,
        kind: SubjectKind,
        municipality: &str,
        metadata: &Metadata,
    ) -> Result<KeyMaterial, Problem> {
        let ring = &self.config.master_keys;
        let mut tx = self.pool.begin().await.map_err(|e| db_problem(&e))?;
        sqlx::query(
            "INSERT INTO subjects (subject, subject_kind, municipality) VALUES ($1, $2, $3)
             ON CONFLICT (subject) DO NOTHING",
        )
        .bind(subject)
        .bind(kind_str(kind))
        .bind(municipality)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_problem(&e))?;
        let (state, municipality) = load_locked(&mut tx, subject).await?;
        if state.erased {
            return Ok(KeyMaterial::Erased { subject });
        }
        if let Some(key) = fetch_key(&mut tx, ring, subject).await? {
            tx.commit().await.map_err(|e| db_problem(&e))?;
            return Ok(KeyMaterial::active(&key));
        }
        let key = SubjectKey::generate(subject, KEY_VERSION);
        let wrapped = ring.wrap(&key).map_err(|e| crypto_problem(&e))?;
        sqlx::query(
            "INSERT INTO subject_keys (subject, key_version, master_key_id, wrapped)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(subject)
        .bind(KEY_VERSION as i32)
        .bind(wrapped.master_key_id as i32)
        .bind(&wrapped.bytes)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_problem(&e))?;
        let events = domain::decide(
            &state,
            Command::CreateKey {
                kind,
                at: Utc::now(),
            },
        )
        .map_err(|e| e.to_problem())?;
        if !events.is_empty() {
            append_in_tx(
                &mut tx,
                subject,
                state.version,
                &municipality,
                None,
                metadata,
                &events,
            )
            .await
            .map_err(|e| store_problem(&e))?;
        }
        tx.commit().await.map_err(|e| db_problem(&e))?;
        self.wake_relay();
        metrics::counter!("kansrijk_privacy_keys_created_total").increment(1);
        Ok(KeyMaterial::active(&key))
    }

    /// The key state of each subject, in the order asked.
    pub async fn get_keys(&self, subjects: &[Uuid]) -> Result<KeysReply, Problem> {
        let rows = sqlx::query(
            // One primary-key lookup per subject asked for. (`WHERE s.subject = ANY($1)` was
            // planned as a scan of every subject comparing each with the whole array: with
            // 100,000 subjects, 500 asked for took seconds; see BENCHMARKS.md.)
            "SELECT s.subject, s.erased_at IS NOT NULL AS erased, k.key_version, k.master_key_id, k.wrapped
             FROM unnest($1::uuid[]) AS q(subject)
             JOIN subjects s ON s.subject = q.subject
             LEFT JOIN subject_keys k ON k.subject = s.subject",
        )
        .bind(subjects)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_problem(&e))?;
        let mut found = std::collections::HashMap::new();
        for r in rows {
            let subject: Uuid = r.try_get("subject").map_err(|e| db_problem(&e))?;
            let erased: bool = r.try_get("erased").map_err(|e| db_problem(&e))?;
            let material = if erased {
                KeyMaterial::Erased { subject }
            } else {
                match key_from_row(&self.config.master_keys, subject, &r)? {
                    Some(k) => KeyMaterial::active(&k),
                    None => KeyMaterial::Unknown { subject },
                }
            };
            found.insert(subject, material);
        }
        Ok(KeysReply {
            keys: subjects
                .iter()
                .map(|s| {
                    found
                        .get(s)
                        .cloned()
                        .unwrap_or(KeyMaterial::Unknown { subject: *s })
                })
                .collect(),
        })
    }

    /// Runs one command on a subject's stream. A known `command_id` returns its first result.
    pub async fn execute(
        &self,
        subject: Uuid,
        command: Command,
        command_id: Option<Uuid>,
        metadata: &Metadata,
    ) -> Result<CommandAccepted, Problem> {
        let mut tx = self.pool.begin().await.map_err(|e| db_problem(&e))?;
        if let Some(id) = command_id {
            let first = EventStore::command_result_in(&mut tx, id)
                .await
                .map_err(|e| store_problem(&e))?;
            if let Some(a) = first {
                return Ok(CommandAccepted {
                    stream_id: a.stream_id,
                    version: a.version,
                    position: a.position,
                    first_time: false,
                });
            }
        }
        let (state, municipality) = load_locked(&mut tx, subject).await?;
        let events = domain::decide(&state, command).map_err(|e| e.to_problem())?;
        if events.is_empty() {
            let position: Option<i64> =
                sqlx::query_scalar("SELECT max(position) FROM events WHERE stream_id = $1")
                    .bind(stream_id(subject))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| db_problem(&e))?;
            return Ok(CommandAccepted {
                stream_id: stream_id(subject),
                version: state.version,
                position: position.unwrap_or(0),
                first_time: false,
            });
        }
        let appended = append_in_tx(
            &mut tx,
            subject,
            state.version,
            &municipality,
            command_id,
            metadata,
            &events,
        )
        .await
        .map_err(|e| store_problem(&e))?;
        for e in &events {
            project(&mut tx, e).await.map_err(|e| db_problem(&e))?;
        }
        tx.commit().await.map_err(|e| db_problem(&e))?;
        self.wake_relay();
        for e in &events {
            if let PrivacyEvent::Erased(x) = e {
                metrics::counter!("kansrijk_privacy_erasures_total", "grounds" => grounds_str(x.grounds))
                    .increment(1);
            }
        }
        Ok(CommandAccepted {
            stream_id: stream_id(subject),
            version: appended.version,
            position: appended.position,
            first_time: appended.first_time,
        })
    }

    /// Erases a subject: destroys the key and announces the erasure, unless a legal hold is in place
    /// (409 `bewaarplicht`). `actor` is the privacy officer (or the operator's service identity for
    /// the retention scheduler).
    pub async fn erase(
        &self,
        subject: Uuid,
        grounds: ErasureGrounds,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        self.execute(
            subject,
            Command::Erase {
                grounds,
                by: actor.organisation.clone(),
                at: Utc::now(),
            },
            command_id,
            &metadata_for(actor, command_id, None),
        )
        .await
    }

    pub async fn place_hold(
        &self,
        subject: Uuid,
        reason: &str,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        self.execute(
            subject,
            Command::PlaceHold {
                reason: reason.to_owned(),
                at: Utc::now(),
            },
            command_id,
            &metadata_for(actor, command_id, None),
        )
        .await
    }

    pub async fn lift_hold(
        &self,
        subject: Uuid,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        self.execute(
            subject,
            Command::LiftHold { at: Utc::now() },
            command_id,
            &metadata_for(actor, command_id, None),
        )
        .await
    }

    pub async fn register_retention(
        &self,
        subject: Uuid,
        data_kind: DataKind,
        start_date: NaiveDate,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        self.execute(
            subject,
            Command::StartRetention {
                data_kind,
                start_date,
                at: Utc::now(),
            },
            command_id,
            &metadata_for(actor, command_id, None),
        )
        .await
    }

    /// The folded state of a subject (for reports and subject access).
    pub async fn subject_state(&self, subject: Uuid) -> Result<SubjectState, Problem> {
        let mut conn = self.pool.acquire().await.map_err(|e| db_problem(&e))?;
        read_state(&mut conn, subject).await
    }
}

/// The id of the privacy service's stream about `subject`: derived from the subject id, but not
/// equal to it, so that it never collides with a domain service's stream that uses the subject id
/// as its own id (a projection keeps its bookkeeping per stream id). Consumers read the data
/// subject from the payload's `subject`, not from the CloudEvent's `subject`.
pub fn stream_id(subject: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"kansrijk-privacy-betrokkene\0")
        .chain_update(subject.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // A version 8 (custom) UUID, RFC 9562 variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The service's schema.
pub const SCHEMA: &str = "privacy";

/// Runs the runtime's and the service's migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    kansrijk_runtime::db::migrate(pool, Some(sqlx::migrate!("./migrations"))).await
}

/// Event metadata for an actor: pseudonymous, no personal data.
pub fn metadata_for(
    actor: &Actor,
    command_id: Option<Uuid>,
    traceparent: Option<&str>,
) -> Metadata {
    Metadata {
        command_id,
        actor: Some(actor.person.clone()),
        organisation: Some(actor.organisation.clone()),
        traceparent: traceparent.map(str::to_owned),
    }
}

/// Locks the subject's row and folds its stream. Unknown subjects fold to an empty state.
pub(crate) async fn load_locked(
    conn: &mut PgConnection,
    subject: Uuid,
) -> Result<(SubjectState, String), Problem> {
    let municipality: Option<String> =
        sqlx::query_scalar("SELECT municipality FROM subjects WHERE subject = $1 FOR UPDATE")
            .bind(subject)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| db_problem(&e))?;
    let state = read_state(conn, subject).await?;
    Ok((state, municipality.unwrap_or_default()))
}

async fn read_state(conn: &mut PgConnection, subject: Uuid) -> Result<SubjectState, Problem> {
    let rows =
        sqlx::query("SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY version")
            .bind(stream_id(subject))
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| db_problem(&e))?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let t: String = r.try_get("event_type").map_err(|e| db_problem(&e))?;
        let data: serde_json::Value = r.try_get("data").map_err(|e| db_problem(&e))?;
        let decoded = t
            .parse()
            .map_err(|_| DecodeFailure)
            .and_then(|t| PrivacyEvent::decode(&t, data).map_err(|_| DecodeFailure));
        match decoded {
            Ok(e) => events.push(e),
            Err(DecodeFailure) => {
                tracing::error!(event_type = %t, "undecodable event in a subject stream");
                return Err(Problem::internal());
            }
        }
    }
    Ok(SubjectState::fold(subject, &events))
}

struct DecodeFailure;

async fn fetch_key(
    conn: &mut PgConnection,
    ring: &MasterKeyRing,
    subject: Uuid,
) -> Result<Option<SubjectKey>, Problem> {
    let row = sqlx::query(
        "SELECT key_version, master_key_id, wrapped FROM subject_keys WHERE subject = $1",
    )
    .bind(subject)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| db_problem(&e))?;
    match row {
        Some(r) => key_from_row(ring, subject, &r),
        None => Ok(None),
    }
}

fn key_from_row(
    ring: &MasterKeyRing,
    subject: Uuid,
    r: &sqlx::postgres::PgRow,
) -> Result<Option<SubjectKey>, Problem> {
    let version: Option<i32> = r.try_get("key_version").map_err(|e| db_problem(&e))?;
    let master: Option<i32> = r.try_get("master_key_id").map_err(|e| db_problem(&e))?;
    let wrapped: Option<Vec<u8>> = r.try_get("wrapped").map_err(|e| db_problem(&e))?;
    let (Some(version), Some(master), Some(bytes)) = (version, master, wrapped) else {
        return Ok(None);
    };
    ring.unwrap_key(
        subject,
        version as u32,
        &WrappedKey {
            master_key_id: master as u32,
            bytes,
        },
    )
    .map(Some)
    .map_err(|e| crypto_problem(&e))
}

/// Appends to a subject's stream inside `conn`'s transaction (the runtime's `append_events`).
pub(crate) async fn append_in_tx(
    conn: &mut PgConnection,
    subject: Uuid,
    expected: i64,
    municipality: &str,
    command_id: Option<Uuid>,
    metadata: &Metadata,
    events: &[PrivacyEvent],
) -> Result<Appended, StoreError> {
    let new: Vec<NewEvent> = events
        .iter()
        .map(NewEvent::from_set)
        .collect::<Result<_, _>>()?;
    let append = Append {
        stream_id: stream_id(subject),
        stream_type: PrivacyEvent::STREAM_TYPE.into(),
        municipality: municipality.into(),
        expected: if expected < 0 {
            ExpectedVersion::Any
        } else if expected == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(expected)
        },
        command_id,
        metadata: metadata.clone(),
        events: new,
    };
    EventStore::append_in(conn, &append).await
}

/// Keeps the service's own tables in step with a subject's events (same transaction).
pub(crate) async fn project(conn: &mut PgConnection, e: &PrivacyEvent) -> Result<(), sqlx::Error> {
    match e {
        PrivacyEvent::KeyCreated(_) => {}
        PrivacyEvent::Erased(x) => {
            sqlx::query("DELETE FROM subject_keys WHERE subject = $1")
                .bind(x.subject)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE subjects SET erased_at = $2, erasure_grounds = $3, hold_reason = NULL,
                 hold_since = NULL WHERE subject = $1",
            )
            .bind(x.subject)
            .bind(x.erased_at)
            .bind(grounds_str(x.grounds))
            .execute(&mut *conn)
            .await?;
        }
        PrivacyEvent::HoldPlaced(x) => {
            sqlx::query("UPDATE subjects SET hold_reason = $2, hold_since = $3 WHERE subject = $1")
                .bind(x.subject)
                .bind(&x.reason)
                .bind(x.placed_at)
                .execute(&mut *conn)
                .await?;
        }
        PrivacyEvent::HoldLifted(x) => {
            sqlx::query(
                "UPDATE subjects SET hold_reason = NULL, hold_since = NULL WHERE subject = $1",
            )
            .bind(x.subject)
            .execute(&mut *conn)
            .await?;
        }
        PrivacyEvent::RetentionStarted(x) => {
            sqlx::query(
                "INSERT INTO retention_periods (subject, data_kind, start_date) VALUES ($1, $2, $3)
                 ON CONFLICT (subject, data_kind)
                 DO UPDATE SET start_date = excluded.start_date, ended_at = NULL",
            )
            .bind(x.subject)
            .bind(x.data_kind.as_str())
            .bind(x.start_date)
            .execute(&mut *conn)
            .await?;
        }
        PrivacyEvent::RetentionEnded(x) => {
            sqlx::query(
                "UPDATE retention_periods SET ended_at = $3 WHERE subject = $1 AND data_kind = $2",
            )
            .bind(x.subject)
            .bind(x.data_kind.as_str())
            .bind(x.ended_at)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// What a master-key rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationReport {
    pub current_master_key: u32,
    pub rewrapped: u64,
}

/// Rewraps every subject key that is not wrapped by the ring's current master key, in batches
/// (each its own transaction, rows locked and skipped by a concurrent rotation). After it, older
/// master keys can be removed from `KANSRIJK_MASTER_KEYS`.
pub async fn rotate_master_key(
    pool: &PgPool,
    ring: &MasterKeyRing,
) -> anyhow::Result<RotationReport> {
    let current = ring.current_id();
    let mut report = RotationReport {
        current_master_key: current,
        rewrapped: 0,
    };
    loop {
        let mut tx = pool.begin().await?;
        let rows = sqlx::query(
            "SELECT subject, key_version, master_key_id, wrapped FROM subject_keys
             WHERE master_key_id <> $1 LIMIT 500 FOR UPDATE SKIP LOCKED",
        )
        .bind(current as i32)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(report);
        }
        for r in &rows {
            let subject: Uuid = r.try_get("subject")?;
            let key = key_from_row(ring, subject, r)
                .map_err(|_| anyhow::anyhow!("a subject key could not be unwrapped"))?
                .ok_or_else(|| anyhow::anyhow!("incomplete key row"))?;
            let wrapped = ring.wrap(&key)?;
            sqlx::query(
                "UPDATE subject_keys SET master_key_id = $2, wrapped = $3, rewrapped_at = now()
                 WHERE subject = $1",
            )
            .bind(subject)
            .bind(wrapped.master_key_id as i32)
            .bind(&wrapped.bytes)
            .execute(&mut *tx)
            .await?;
            report.rewrapped += 1;
        }
        tx.commit().await?;
    }
}

pub(crate) fn kind_str(k: SubjectKind) -> &'static str {
    match k {
        SubjectKind::Kind => "kind",
        SubjectKind::Gezin => "gezin",
    }
}

pub(crate) fn parse_kind(s: &str) -> Option<SubjectKind> {
    match s {
        "kind" => Some(SubjectKind::Kind),
        "gezin" => Some(SubjectKind::Gezin),
        _ => None,
    }
}

pub(crate) fn grounds_str(g: ErasureGrounds) -> &'static str {
    match g {
        ErasureGrounds::VerzoekBetrokkene => "verzoek-betrokkene",
        ErasureGrounds::Bewaartermijn => "bewaartermijn",
        ErasureGrounds::WeigeringToestemming => "weigering-toestemming",
    }
}

//! The projections that keep the handover read models: one for the files' events, one for
//! erasures and ended retention (separate, as in the VVE views: each keeps its own per-stream
//! bookkeeping).

use futures::future::BoxFuture;
use futures::FutureExt;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::handover::{self as ho, HandoverEvent, STREAM_FILE};
use kansrijk_proto::privacy::{DataKind, PrivacyEvent};
use kansrijk_proto::subject;
use kansrijk_runtime::projection::Projection;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn sealed<T: Serialize>(v: &T) -> anyhow::Result<Json<serde_json::Value>> {
    Ok(Json(serde_json::to_value(v)?))
}

/// The files' events (`kansrijk.evt.overdracht.overdrachtsdossier`).
#[derive(Debug, Default)]
pub struct FilesProjection;

impl FilesProjection {
    pub const NAME: &'static str = "overdracht-views-dossiers";
}

/// Both projections take this transaction-level lock before they touch `ho_files`, so that an
/// erasure never runs concurrently with a batch that inserts the erased file (which would leave
/// a row behind: the batch checked the tombstone before the erasure committed it).
const LOCK: i64 = 0x686f_5f66_696c_6573; // "ho_files"

async fn lock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

async fn is_erased(conn: &mut PgConnection, file: Uuid) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ho_erased WHERE file_id = $1")
        .bind(file)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

async fn set_file(
    conn: &mut PgConnection,
    file: Uuid,
    sql: &str,
    bind: impl FnOnce(
        sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<(), sqlx::Error> {
    let q = sqlx::query(sql);
    bind(q).bind(file).execute(conn).await?;
    Ok(())
}

/// Applies one file event: the file row (unless erased) and the monitor facts.
async fn apply_file(conn: &mut PgConnection, event: &CloudEvent) -> anyhow::Result<()> {
    let file = event.subject;
    lock(conn).await?;
    let e = HandoverEvent::decode(&event.event_type, event.data.clone())?;
    let child = match &e {
        HandoverEvent::PreschoolDrafted(d) => d.child_id,
        HandoverEvent::OsoCreated(d) => d.child_id,
        _ => None,
    };
    let mut erased = is_erased(conn, file).await?;
    if let Some(c) = child {
        // The child this file is about was erased before the file arrived here.
        erased |= is_erased(conn, c).await?;
        if erased {
            sqlx::query("INSERT INTO ho_erased (file_id) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(file)
                .execute(&mut *conn)
                .await?;
        }
    }
    match &e {
        HandoverEvent::PreschoolDrafted(d) => {
            if !erased {
                sqlx::query(
                    "INSERT INTO ho_files (file_id, kind, municipality, sender, child_id, drafted_on,
                        warm_wanted, child_sealed, content_sealed)
                     VALUES ($1, 'voorschool', $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (file_id) DO NOTHING",
                )
                .bind(file)
                .bind(&d.municipality)
                .bind(&d.location)
                .bind(d.child_id)
                .bind(d.drafted_on)
                .bind(d.warm_handover_wanted)
                .bind(sealed(&d.child)?)
                .bind(sealed(&d.content)?)
                .execute(&mut *conn)
                .await?;
            }
            facts_insert(
                conn,
                file,
                "voorschool",
                &d.municipality,
                &d.location,
                d.drafted_on,
            )
            .await?;
        }
        HandoverEvent::OsoCreated(d) => {
            if !erased {
                sqlx::query(
                    "INSERT INTO ho_files (file_id, kind, municipality, sender, child_id, drafted_on,
                        school_year, child_sealed, content_sealed)
                     VALUES ($1, 'po-vo', $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (file_id) DO NOTHING",
                )
                .bind(file)
                .bind(&d.municipality)
                .bind(d.school.code())
                .bind(d.child_id)
                .bind(d.created_on)
                .bind(&d.school_year)
                .bind(sealed(&d.pupil)?)
                .bind(sealed(&d.content)?)
                .execute(&mut *conn)
                .await?;
            }
            facts_insert(
                conn,
                file,
                "po-vo",
                &d.municipality,
                &d.school.code(),
                d.created_on,
            )
            .await?;
        }
        _ => {}
    }
    if !erased {
        apply_file_row(conn, file, &e).await?;
    }
    apply_facts(conn, file, &e).await?;
    Ok(())
}

async fn facts_insert(
    conn: &mut PgConnection,
    file: Uuid,
    kind: &str,
    municipality: &str,
    sender: &str,
    on: chrono::NaiveDate,
) -> Result<(), sqlx::Error> {
    use chrono::Datelike;
    sqlx::query(
        "INSERT INTO ho_facts (file_id, kind, municipality, sender, year) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (file_id) DO NOTHING",
    )
    .bind(file)
    .bind(kind)
    .bind(municipality)
    .bind(sender)
    .bind(on.year())
    .execute(conn)
    .await?;
    Ok(())
}

async fn apply_file_row(
    conn: &mut PgConnection,
    file: Uuid,
    e: &HandoverEvent,
) -> anyhow::Result<()> {
    match e {
        HandoverEvent::PreschoolDrafted(_) | HandoverEvent::OsoCreated(_) => {}
        HandoverEvent::PreschoolRevised(r) => {
            let content = sealed(&r.content)?;
            let w = r.warm_handover_wanted;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET content_sealed = $1, warm_wanted = $2 WHERE file_id = $3",
                |q| q.bind(content).bind(w),
            )
            .await?;
        }
        HandoverEvent::OsoUpdated(u) => {
            let content = sealed(&u.content)?;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET content_sealed = $1 WHERE file_id = $2",
                |q| q.bind(content),
            )
            .await?;
        }
        HandoverEvent::ProvisionalAdvice(a) => {
            let v = sealed(&a.advice)?;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET provisional_sealed = $1 WHERE file_id = $2",
                |q| q.bind(v),
            )
            .await?;
        }
        HandoverEvent::TestResult(t) => {
            let v = sealed(&t.result)?;
            let due = t.reconsideration_due;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET test_sealed = $1, reconsideration_due = $2 WHERE file_id = $3",
                |q| q.bind(v).bind(due),
            )
            .await?;
        }
        HandoverEvent::Reconsidered(r) => {
            let v = sealed(&r.reconsideration)?;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET reconsideration_sealed = $1 WHERE file_id = $2",
                |q| q.bind(v),
            )
            .await?;
        }
        HandoverEvent::FinalAdvice(a) => {
            let v = sealed(&a.advice)?;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET final_sealed = $1 WHERE file_id = $2",
                |q| q.bind(v),
            )
            .await?;
        }
        HandoverEvent::ParentsInformed(i) => {
            let on = i.on;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET informed_on = $1 WHERE file_id = $2",
                |q| q.bind(on),
            )
            .await?;
        }
        HandoverEvent::ParentsResponse(r) => {
            let v = Json(serde_json::json!([serde_json::to_value(&r.response)?]));
            set_file(
                conn,
                file,
                "UPDATE ho_files SET responses_sealed = responses_sealed || $1 WHERE file_id = $2",
                |q| q.bind(v),
            )
            .await?;
        }
        HandoverEvent::ConsentGiven(_) => {
            set_file(
                conn,
                file,
                "UPDATE ho_files SET consent = 'gegeven' WHERE file_id = $1",
                |q| q,
            )
            .await?;
        }
        HandoverEvent::ConsentRefused(_) => {
            // The content is being destroyed: keep nothing of it here either.
            set_file(
                conn,
                file,
                "UPDATE ho_files SET consent = 'geweigerd', content_sealed = 'null', responses_sealed = '[]',
                    provisional_sealed = NULL, test_sealed = NULL, reconsideration_sealed = NULL, final_sealed = NULL
                 WHERE file_id = $1",
                |q| q,
            )
            .await?;
        }
        HandoverEvent::Enrolled(en) => {
            let s = en.school.code();
            set_file(
                conn,
                file,
                "UPDATE ho_files SET enrolled_school = $1 WHERE file_id = $2",
                |q| q.bind(s),
            )
            .await?;
        }
        HandoverEvent::Sent(s) => {
            let (to, on) = (s.school.code(), s.on);
            set_file(
                conn,
                file,
                "UPDATE ho_files SET sent_to = $1, sent_on = $2 WHERE file_id = $3",
                |q| q.bind(to).bind(on),
            )
            .await?;
        }
        HandoverEvent::Confirmed(c) => {
            let on = c.on;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET confirmed_on = $1 WHERE file_id = $2",
                |q| q.bind(on),
            )
            .await?;
        }
        HandoverEvent::WarmPlanned(w) => {
            let on = w.on;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET warm_planned_on = $1 WHERE file_id = $2",
                |q| q.bind(on),
            )
            .await?;
        }
        HandoverEvent::WarmHeld(w) => {
            let on = w.on;
            set_file(
                conn,
                file,
                "UPDATE ho_files SET warm_held_on = $1 WHERE file_id = $2",
                |q| q.bind(on),
            )
            .await?;
        }
        HandoverEvent::Overdue(_) => {
            set_file(
                conn,
                file,
                "UPDATE ho_files SET overdue = true WHERE file_id = $1",
                |q| q,
            )
            .await?;
        }
        HandoverEvent::Year3(y) => {
            let p = code(&y.position);
            set_file(
                conn,
                file,
                "UPDATE ho_files SET year3 = $1 WHERE file_id = $2",
                |q| q.bind(p),
            )
            .await?;
        }
    }
    Ok(())
}

async fn apply_facts(conn: &mut PgConnection, file: Uuid, e: &HandoverEvent) -> anyhow::Result<()> {
    match e {
        HandoverEvent::ConsentGiven(_) => {
            set_file(
                conn,
                file,
                "UPDATE ho_facts SET consent = 'gegeven' WHERE file_id = $1",
                |q| q,
            )
            .await?;
        }
        HandoverEvent::ConsentRefused(r) => {
            let reason = r.reason.as_str();
            set_file(
                conn,
                file,
                "UPDATE ho_facts SET consent = 'geweigerd', refusal_reason = $1 WHERE file_id = $2",
                |q| q.bind(reason),
            )
            .await?;
        }
        HandoverEvent::Sent(s) => {
            let (to, on) = (s.school.code(), s.on);
            set_file(
                conn,
                file,
                "UPDATE ho_facts SET school = $1, sent_on = $2 WHERE file_id = $3",
                |q| q.bind(to).bind(on),
            )
            .await?;
        }
        HandoverEvent::Confirmed(c) => {
            let on = c.on;
            set_file(
                conn,
                file,
                "UPDATE ho_facts SET confirmed_on = $1 WHERE file_id = $2",
                |q| q.bind(on),
            )
            .await?;
        }
        HandoverEvent::WarmHeld(_) => {
            set_file(
                conn,
                file,
                "UPDATE ho_facts SET warm_held = true WHERE file_id = $1",
                |q| q,
            )
            .await?;
        }
        HandoverEvent::Year3(y) => {
            let p = y.position.as_str();
            set_file(
                conn,
                file,
                "UPDATE ho_facts SET year3 = $1 WHERE file_id = $2",
                |q| q.bind(p),
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}

impl Projection for FilesProjection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn filter_subject(&self) -> String {
        subject::event(ho::SERVICE, STREAM_FILE)
    }

    fn handles(&self, event: &CloudEvent) -> bool {
        event.streamtype == STREAM_FILE && event.event_type.name().starts_with("nl.overdracht.")
    }

    fn stream_types(&self) -> &'static [&'static str] {
        &[STREAM_FILE]
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        apply_file(conn, event).boxed()
    }

    fn reset<'a>(&'a self, conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            // ho_erased stays: a rebuild must not bring an erased file back.
            sqlx::query("DELETE FROM ho_files")
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM ho_facts")
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        .boxed()
    }
}

/// Erasures and ended handover retention (`kansrijk.evt.privacy.betrokkene`).
#[derive(Debug, Default)]
pub struct ErasureProjection;

impl ErasureProjection {
    pub const NAME: &'static str = "overdracht-views-wissen";
}

/// Deletes every file row about `subject` (a file's own subject, or the child a file refers to)
/// and keeps tombstones. The monitor facts stay (no content, no link to the child).
pub async fn erase(conn: &mut PgConnection, subject: Uuid) -> Result<u64, sqlx::Error> {
    lock(conn).await?;
    let files: Vec<Uuid> =
        sqlx::query_scalar("SELECT file_id FROM ho_files WHERE file_id = $1 OR child_id = $1")
            .bind(subject)
            .fetch_all(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO ho_erased (file_id) SELECT unnest($1::uuid[]) UNION SELECT $2 ON CONFLICT DO NOTHING",
    )
    .bind(&files)
    .bind(subject)
    .execute(&mut *conn)
    .await?;
    let n = sqlx::query("DELETE FROM ho_files WHERE file_id = $1 OR child_id = $1")
        .bind(subject)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n)
}

impl Projection for ErasureProjection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn filter_subject(&self) -> String {
        subject::event("privacy", PrivacyEvent::STREAM_TYPE)
    }

    fn handles(&self, event: &CloudEvent) -> bool {
        event.streamtype == PrivacyEvent::STREAM_TYPE
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            match kansrijk_runtime::erasure::decode_privacy_event(event)? {
                Some(PrivacyEvent::Erased(e)) => {
                    erase(conn, e.subject).await?;
                }
                Some(PrivacyEvent::RetentionEnded(e)) if e.data_kind == DataKind::Overdracht => {
                    erase(conn, e.subject).await?;
                }
                _ => {}
            }
            Ok(())
        }
        .boxed()
    }

    fn reset<'a>(&'a self, _conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        async { Ok(()) }.boxed()
    }
}

//! Follows the privacy service's subject events (`kansrijk.evt.privacy.betrokkene`) for the
//! handover store: a file's own erasure makes it answer 410; a child's erasure (AVG art. 17) and
//! the end of a file's retention queue the destruction of the file's own key and ask the privacy
//! service for it at once ([`ErasureFollowUp::erase_now`], [`crate::Service::erase_files_now`]):
//! an erasure takes effect as soon as its event is seen, not at the next scan. What fails then,
//! the scheduler retries ([`crate::Service::follow_up_privacy`]) until it is done.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::event::{Event, EventSet};
use kansrijk_proto::handover::{OsoFileCreated, PreschoolFileDrafted, STREAM_FILE};
use kansrijk_proto::privacy::{DataKind, ErasureGrounds, PrivacyEvent};
use kansrijk_proto::subject;
use kansrijk_runtime::projection::Projection;
use sqlx::PgConnection;
use uuid::Uuid;

/// Called with every erased subject (the service drops its cached key).
pub type OnErased = Arc<dyn Fn(Uuid) + Send + Sync>;

/// Called with the files whose keys are to be destroyed now, and why; it must not block (the
/// service spawns the requests). The queued request stays for the scheduler to retry.
pub type EraseNow = Arc<dyn Fn(Vec<Uuid>, ErasureGrounds) + Send + Sync>;

/// See the module docs.
#[derive(Default)]
pub struct ErasureFollowUp {
    pub on_erased: Option<OnErased>,
    /// Destroys the queued files' keys at once; without it only the scheduler does.
    pub erase_now: Option<EraseNow>,
}

impl std::fmt::Debug for ErasureFollowUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasureFollowUp").finish_non_exhaustive()
    }
}

impl ErasureFollowUp {
    pub const NAME: &'static str = "overdracht-dienst-wissen";
}

/// Files that refer to `child` (their `kindId`).
async fn files_of_child(conn: &mut PgConnection, child: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    let drafted = vec![
        format!(
            "{}.v{}",
            PreschoolFileDrafted::NAME,
            PreschoolFileDrafted::VERSION
        ),
        format!("{}.v{}", OsoFileCreated::NAME, OsoFileCreated::VERSION),
    ];
    sqlx::query_scalar(
        "SELECT DISTINCT stream_id FROM events WHERE stream_type = $1 AND event_type = ANY($2) AND data->>'kindId' = $3",
    )
    .bind(STREAM_FILE)
    .bind(&drafted)
    .bind(child.to_string())
    .fetch_all(conn)
    .await
}

async fn is_file(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1 AND stream_type = $2")
            .bind(id)
            .bind(STREAM_FILE)
            .fetch_one(conn)
            .await?;
    Ok(n > 0)
}

async fn request_erasure(
    conn: &mut PgConnection,
    files: &[Uuid],
    grounds: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO erase_requests (file_id, grounds) SELECT unnest($1::uuid[]), $2 ON CONFLICT DO NOTHING",
    )
    .bind(files)
    .bind(grounds)
    .execute(conn)
    .await?;
    Ok(())
}

/// What applying an event asks for: the erased subject (to forget its cached key) and the files
/// whose keys are to be destroyed.
#[derive(Default)]
struct Applied {
    erased: Option<Uuid>,
    erase: Option<(Vec<Uuid>, ErasureGrounds)>,
}

async fn apply(conn: &mut PgConnection, event: &CloudEvent) -> anyhow::Result<Applied> {
    match kansrijk_runtime::erasure::decode_privacy_event(event)? {
        Some(PrivacyEvent::Erased(e)) => {
            sqlx::query("INSERT INTO erased_subjects (subject) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(e.subject)
                .execute(&mut *conn)
                .await?;
            if is_file(conn, e.subject).await? {
                // The file's own key is gone: nothing left to ask for.
                sqlx::query(
                    "INSERT INTO privacy_requests_done (subject, action) VALUES ($1, 'erase') ON CONFLICT DO NOTHING",
                )
                .bind(e.subject)
                .execute(&mut *conn)
                .await?;
                return Ok(Applied {
                    erased: Some(e.subject),
                    erase: None,
                });
            }
            let files = files_of_child(conn, e.subject).await?;
            request_erasure(conn, &files, "verzoek-betrokkene").await?;
            Ok(Applied {
                erased: Some(e.subject),
                erase: Some((files, ErasureGrounds::VerzoekBetrokkene)),
            })
        }
        Some(PrivacyEvent::RetentionEnded(e)) if e.data_kind == DataKind::Overdracht => {
            if !is_file(conn, e.subject).await? {
                return Ok(Applied::default());
            }
            request_erasure(conn, &[e.subject], "bewaartermijn").await?;
            Ok(Applied {
                erased: None,
                erase: Some((vec![e.subject], ErasureGrounds::Bewaartermijn)),
            })
        }
        _ => Ok(Applied::default()),
    }
}

impl Projection for ErasureFollowUp {
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
            let applied = apply(conn, event).await?;
            if let (Some(s), Some(f)) = (applied.erased, &self.on_erased) {
                f(s);
            }
            if let (Some((files, grounds)), Some(f)) = (applied.erase, &self.erase_now) {
                if !files.is_empty() {
                    f(files, grounds);
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn reset<'a>(&'a self, _conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        async { Ok(()) }.boxed()
    }
}

//! Drops the duplicate-detection index row of a child whose subject was erased.
//!
//! A projection of its own (own name, own bookkeeping): the privacy service's subject stream has
//! the same id as the child's stream, so mixing both in one projection's version bookkeeping would
//! make one look like a duplicate of the other.

use futures::future::BoxFuture;
use futures::FutureExt;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::PrivacyEvent;
use kansrijk_proto::subject;
use kansrijk_runtime::projection::Projection;
use sqlx::PgConnection;
use std::sync::Arc;
use uuid::Uuid;

/// Called with the subject id of every erased child (the service drops its cached key).
pub type OnErased = Arc<dyn Fn(Uuid) + Send + Sync>;

/// See the module docs.
#[derive(Default)]
pub struct ErasedChildren {
    pub on_erased: Option<OnErased>,
}

impl std::fmt::Debug for ErasedChildren {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasedChildren").finish_non_exhaustive()
    }
}

impl Projection for ErasedChildren {
    fn name(&self) -> &'static str {
        "vve-index-erasure"
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
            // Other privacy events (key created, holds, retention) only keep the versions contiguous.
            if let Some(PrivacyEvent::Erased(e)) =
                kansrijk_runtime::erasure::decode_privacy_event(event)?
            {
                sqlx::query("DELETE FROM vve_child_index WHERE child_id = $1")
                    .bind(e.subject)
                    .execute(&mut *conn)
                    .await?;
                // A crashed registration's reservation (migration 20002): its pseudonym goes too.
                sqlx::query("DELETE FROM vve_child_reservations WHERE child_id = $1")
                    .bind(e.subject)
                    .execute(&mut *conn)
                    .await?;
                if let Some(f) = &self.on_erased {
                    f(e.subject);
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn reset<'a>(&'a self, _conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        // The index is the service's own state, not a read model: a rebuild only replays erasures.
        async { Ok(()) }.boxed()
    }
}

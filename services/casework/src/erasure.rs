//! Forgets the cached key of an erased family at once (the key cache's TTL is only the bound).
//!
//! A projection of its own in the casework schema: it follows the privacy service's subject
//! events (`kansrijk.evt.privacy.betrokkene`) and keeps no read model; after an erasure the next
//! command asks the privacy service for the key and gets 410.

use futures::future::BoxFuture;
use futures::FutureExt;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::privacy::{PrivacyEvent, SubjectKind};
use kansrijk_runtime::projection::Projection;
use sqlx::PgConnection;
use std::sync::Arc;
use uuid::Uuid;

/// Called with the subject id of every erased family.
pub type OnErased = Arc<dyn Fn(Uuid) + Send + Sync>;

/// See the module docs.
pub struct ErasedFamilies {
    pub on_erased: OnErased,
}

impl std::fmt::Debug for ErasedFamilies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasedFamilies").finish_non_exhaustive()
    }
}

impl Projection for ErasedFamilies {
    fn name(&self) -> &'static str {
        "casework-key-erasure"
    }

    fn filter_subject(&self) -> String {
        kansrijk_runtime::erasure::erasure_events_subject()
    }

    fn handles(&self, event: &CloudEvent) -> bool {
        kansrijk_runtime::erasure::is_privacy_event(event)
    }

    fn apply<'a>(
        &'a self,
        _conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            if let Some(PrivacyEvent::Erased(e)) =
                kansrijk_runtime::erasure::decode_privacy_event(event)?
            {
                if e.subject_kind == SubjectKind::Gezin {
                    (self.on_erased)(e.subject);
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

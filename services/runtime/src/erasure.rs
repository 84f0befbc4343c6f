//! Reacting to the privacy service's erasure events, for projections and services.
//!
//! When a data subject is erased, the privacy service publishes `nl.privacy.betrokkene-gewist`
//! on `kansrijk.evt.privacy.betrokkene` (see [`erasure_events_subject`]). Its key is gone, so every
//! sealed copy is unreadable already; every read model must in addition drop what it derived
//! from the subject (rows, opened plaintext, caches). When only one kind of a subject's data
//! reaches the end of its retention (`nl.privacy.bewaartermijn-verstreken`), the service that owns
//! that kind drops it and the key stays.
//!
//! In a [`Projection`](crate::projection::Projection): `handles` returns true for
//! [`is_privacy_event`], and `apply` calls [`subject_erased`] and then [`drop_subject_rows`] with
//! the tables and subject columns of the read model, in the runner's transaction. `handles` must
//! accept *every* event of the privacy streams, not only erasures: the runner checks that each
//! stream's versions arrive without gaps, and a stream whose earlier events were skipped would
//! have its erasure deferred and finally parked as a gap. Events other than the ones you need are
//! applied as no-ops. The data subject is the payload's `subject`; the CloudEvent `subject` is the
//! privacy service's own stream id.

use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::event::{Event, EventSet};
use kansrijk_proto::privacy::{PrivacyEvent, RetentionEnded, SubjectErased};
use kansrijk_proto::subject;
use sqlx::PgConnection;
use uuid::Uuid;

/// The subject the privacy service's subject events are published on.
pub fn erasure_events_subject() -> String {
    subject::event("privacy", PrivacyEvent::STREAM_TYPE)
}

/// Whether `event` comes from the privacy service's subject streams.
pub fn is_privacy_event(event: &CloudEvent) -> bool {
    event.streamtype == PrivacyEvent::STREAM_TYPE
        && event.event_type.name().starts_with("nl.privacy.")
}

/// Decodes an event of the privacy streams for a projection or service that follows erasures.
/// A privacy event this code does not know is `Ok(None)`: it only keeps the stream's versions
/// contiguous. An erasure or an end of retention that cannot be decoded (a version newer than this
/// code, data outside its contract) is an error, so that the runner parks it for a replay instead
/// of losing it. The error names the event type only, never the data.
pub fn decode_privacy_event(event: &CloudEvent) -> anyhow::Result<Option<PrivacyEvent>> {
    match PrivacyEvent::decode(&event.event_type, event.data.clone()) {
        Ok(e) => Ok(Some(e)),
        Err(_)
            if ![SubjectErased::NAME, RetentionEnded::NAME].contains(&event.event_type.name()) =>
        {
            Ok(None)
        }
        Err(_) => Err(anyhow::anyhow!(
            "{} cannot be decoded (a newer version, or data outside its contract)",
            event.event_type
        )),
    }
}

/// The erasure carried by `event`, if it is one that can be decoded (older versions are upcast).
pub fn subject_erased(event: &CloudEvent) -> Option<SubjectErased> {
    match decode_privacy_event(event) {
        Ok(Some(PrivacyEvent::Erased(e))) => Some(e),
        _ => None,
    }
}

/// The end of one kind's retention carried by `event`, if it is one.
pub fn retention_ended(event: &CloudEvent) -> Option<RetentionEnded> {
    if event.event_type.name() != RetentionEnded::NAME {
        return None;
    }
    match PrivacyEvent::decode(&event.event_type, event.data.clone()) {
        Ok(PrivacyEvent::RetentionEnded(e)) => Some(e),
        _ => None,
    }
}

/// Deletes every row about `subject` from each `(table, subject column)`; returns the rows
/// deleted. Table and column names are code constants (checked to be plain identifiers).
pub async fn drop_subject_rows(
    conn: &mut PgConnection,
    tables: &[(&str, &str)],
    subject: Uuid,
) -> Result<u64, sqlx::Error> {
    let mut n = 0;
    for (table, column) in tables {
        assert!(
            is_identifier(table) && is_identifier(column),
            "table and column names are identifiers"
        );
        n += sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1"))
            .bind(subject)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(n)
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        assert!(is_identifier("views.werklijst"));
        assert!(is_identifier("kind_rows"));
        assert!(!is_identifier("x; DROP TABLE y"));
        assert!(!is_identifier(""));
    }
}

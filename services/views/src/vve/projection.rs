//! The projections that keep the VVE read models: one for the children's events, one for
//! erasures. They are separate because the privacy service's subject stream and the child's
//! stream share the subject id, and each projection keeps its own per-stream version bookkeeping.

use futures::future::BoxFuture;
use futures::FutureExt;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::PrivacyEvent;
use kansrijk_proto::subject;
use kansrijk_proto::vve::{ChildEvent, STREAM_CHILD};
use kansrijk_runtime::projection::Projection;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

/// Every read-model table with the child id column, for erasure and reset.
pub const TABLES: &[&str] = &[
    "vve_children",
    "vve_indications",
    "vve_referrals",
    "vve_outreach",
    "vve_placements",
    "vve_placement_hours",
    "vve_attendance",
];

fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The children's records (`kansrijk.evt.vve.kind`).
#[derive(Debug, Default)]
pub struct ChildrenProjection;

impl ChildrenProjection {
    pub const NAME: &'static str = "vve-kinderen";
}

async fn is_erased(conn: &mut PgConnection, child: Uuid) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM vve_erased WHERE child_id = $1")
        .bind(child)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

async fn apply_child(conn: &mut PgConnection, event: &CloudEvent) -> anyhow::Result<()> {
    let child = event.subject;
    if is_erased(conn, child).await? {
        return Ok(());
    }
    let e = ChildEvent::decode(&event.event_type, event.data.clone())?;
    match e {
        ChildEvent::Registered(e) => {
            sqlx::query(
                "INSERT INTO vve_children (child_id, municipality, district, jgz_organisation, registered_on, personal, birth_date)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (child_id) DO NOTHING",
            )
            .bind(child)
            .bind(&e.municipality)
            .bind(&e.district)
            .bind(&e.jgz_organisation)
            .bind(e.registered_on)
            .bind(serde_json::to_value(&e.personal)?)
            .bind(serde_json::to_value(&e.birth_date)?)
            .execute(conn)
            .await?;
        }
        ChildEvent::IndicationIssued(e) => {
            sqlx::query(
                "INSERT INTO vve_indications (indication_id, child_id, issued_on, definition_year, criteria)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (indication_id) DO NOTHING",
            )
            .bind(e.indication_id)
            .bind(child)
            .bind(e.issued_on)
            .bind(e.definition_year)
            .bind(serde_json::to_value(&e.criteria)?)
            .execute(conn)
            .await?;
        }
        ChildEvent::IndicationWithdrawn(e) => {
            sqlx::query(
                "UPDATE vve_indications SET withdrawn_on = $2, withdrawal_reason = $3 WHERE indication_id = $1",
            )
            .bind(e.indication_id)
            .bind(e.withdrawn_on)
            .bind(code(&e.reason))
            .execute(conn)
            .await?;
        }
        ChildEvent::Referred(e) => {
            sqlx::query(
                "INSERT INTO vve_referrals (referral_id, child_id, location, referred_on, registry_checked)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (referral_id) DO NOTHING",
            )
            .bind(e.referral_id)
            .bind(child)
            .bind(&e.location)
            .bind(e.referred_on)
            .bind(e.registry_checked)
            .execute(conn)
            .await?;
        }
        ChildEvent::Outreach(e) => {
            sqlx::query(
                "INSERT INTO vve_outreach (child_id, version, attempted_on, channel, outcome)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(child)
            .bind(event.stream_version().unwrap_or(0))
            .bind(e.attempted_on)
            .bind(code(&e.channel))
            .bind(code(&e.outcome))
            .execute(conn)
            .await?;
        }
        ChildEvent::Declined(e) => {
            sqlx::query("UPDATE vve_children SET declined_on = $2, declined_reason = $3 WHERE child_id = $1")
                .bind(child)
                .bind(e.declined_on)
                .bind(e.reason.as_str())
                .execute(conn)
                .await?;
        }
        ChildEvent::MovedAway(e) => {
            sqlx::query("UPDATE vve_children SET moved_on = $2 WHERE child_id = $1")
                .bind(child)
                .bind(e.moved_on)
                .execute(conn)
                .await?;
        }
        ChildEvent::ReferralAccepted(e) => {
            sqlx::query("UPDATE vve_referrals SET accepted_on = $2 WHERE referral_id = $1")
                .bind(e.referral_id)
                .bind(e.accepted_on)
                .execute(conn)
                .await?;
        }
        ChildEvent::WaitingListed(e) => {
            sqlx::query(
                "UPDATE vve_referrals SET waitlisted_on = $2, expected_start = $3 WHERE referral_id = $1",
            )
            .bind(e.referral_id)
            .bind(e.listed_on)
            .bind(e.expected_start)
            .execute(conn)
            .await?;
        }
        ChildEvent::PlacementStarted(e) => {
            sqlx::query(
                "INSERT INTO vve_placements (placement_id, child_id, location, start_on, referral_id)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (placement_id) DO NOTHING",
            )
            .bind(e.placement_id)
            .bind(child)
            .bind(&e.location)
            .bind(e.start_on)
            .bind(e.referral_id)
            .execute(&mut *conn)
            .await?;
            upsert_hours(conn, e.placement_id, child, e.start_on, e.hours_per_week).await?;
            // As in the domain: parents who declined and came after all no longer decline.
            sqlx::query("UPDATE vve_children SET declined_on = NULL, declined_reason = NULL WHERE child_id = $1")
                .bind(child)
                .execute(conn)
                .await?;
        }
        ChildEvent::HoursChanged(e) => {
            upsert_hours(conn, e.placement_id, child, e.from_on, e.hours_per_week).await?;
        }
        ChildEvent::PlacementEnded(e) => {
            sqlx::query(
                "UPDATE vve_placements SET end_on = $2, end_reason = $3 WHERE placement_id = $1",
            )
            .bind(e.placement_id)
            .bind(e.end_on)
            .bind(code(&e.reason))
            .execute(conn)
            .await?;
        }
        ChildEvent::Attendance(e) => {
            sqlx::query(
                "INSERT INTO vve_attendance (placement_id, child_id, month, hours) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (placement_id, month) DO UPDATE SET hours = excluded.hours",
            )
            .bind(e.placement_id)
            .bind(child)
            .bind(&e.month)
            .bind(i32::from(e.hours))
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

async fn upsert_hours(
    conn: &mut PgConnection,
    placement: Uuid,
    child: Uuid,
    from_on: chrono::NaiveDate,
    hours: u8,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO vve_placement_hours (placement_id, child_id, from_on, hours_per_week) VALUES ($1, $2, $3, $4)
         ON CONFLICT (placement_id, from_on) DO UPDATE SET hours_per_week = excluded.hours_per_week",
    )
    .bind(placement)
    .bind(child)
    .bind(from_on)
    .bind(i16::from(hours))
    .execute(conn)
    .await?;
    Ok(())
}

impl Projection for ChildrenProjection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn filter_subject(&self) -> String {
        subject::event("vve", STREAM_CHILD)
    }

    fn handles(&self, event: &CloudEvent) -> bool {
        event.streamtype == STREAM_CHILD && event.event_type.name().starts_with("nl.vve.")
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        apply_child(conn, event).boxed()
    }

    fn reset<'a>(&'a self, conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            // vve_erased stays: a rebuild must not bring an erased child back.
            for t in TABLES {
                sqlx::query(&format!("DELETE FROM {t}"))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }
        .boxed()
    }
}

/// Erasures (`kansrijk.evt.privacy.betrokkene`): delete every row about the child, remember the id.
#[derive(Debug, Default)]
pub struct ErasureProjection;

impl ErasureProjection {
    pub const NAME: &'static str = "vve-wissen";
}

/// Deletes everything the VVE read models hold about `child` and keeps a tombstone.
pub async fn erase_child(conn: &mut PgConnection, child: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO vve_erased (child_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(child)
        .execute(&mut *conn)
        .await?;
    for t in TABLES {
        sqlx::query(&format!("DELETE FROM {t} WHERE child_id = $1"))
            .bind(child)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
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
            if let Some(PrivacyEvent::Erased(e)) =
                kansrijk_runtime::erasure::decode_privacy_event(event)?
            {
                erase_child(conn, e.subject).await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn reset<'a>(&'a self, _conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        async { Ok(()) }.boxed()
    }
}

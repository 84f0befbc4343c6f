//! The casework read models, kept by two projections:
//!
//! - [`CaseProjection`] (`casework-cases`) applies the case events (`kansrijk.evt.casework.casus`)
//!   to the `cw_` tables. Sealed parts are stored as the events carry them (sealed JSON).
//! - [`CaseErasure`] (`casework-erasure`) applies the privacy service's subject events: when a
//!   family is erased (`nl.privacy.betrokkene-gewist`, kind `gezin`) or the retention of its case
//!   ends (`nl.privacy.bewaartermijn-verstreken`, kind `casus`), every row about it is deleted
//!   and a tombstone keeps late events out.
//!
//! Two projections, not one: the privacy service's subject stream has the same id as the case's
//! stream (the family's subject id), so one projection's per-stream version bookkeeping would see
//! the events of one as duplicates of the other.

use futures::future::BoxFuture;
use futures::FutureExt;
use kansrijk_proto::casework::{CaseEvent, HoursKind, STREAM_CASE};
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::{DataKind, PrivacyEvent, SubjectKind};
use kansrijk_proto::subject;
use kansrijk_runtime::projection::Projection;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

/// Name of the case projection (for read-your-writes waits).
pub const CASES: &str = "casework-cases";
/// Name of the erasure projection.
pub const ERASURE: &str = "casework-erasure";

/// Every table with a `case_id`, for erasure.
pub const TABLES: &[(&str, &str)] = &[
    ("cw_cases", "case_id"),
    ("cw_participants", "case_id"),
    ("cw_consents", "case_id"),
    ("cw_concerns", "case_id"),
    ("cw_goals", "case_id"),
    ("cw_actions", "case_id"),
    ("cw_reviews", "case_id"),
    ("cw_hours", "case_id"),
    ("cw_escalations", "case_id"),
];

/// The wire code of a serde enum (`"kebab-case"`).
pub(crate) fn code<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn json<T: Serialize>(v: &T) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(v)?)
}

/// See the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct CaseProjection;

impl Projection for CaseProjection {
    fn name(&self) -> &'static str {
        CASES
    }

    fn filter_subject(&self) -> String {
        subject::event("casework", STREAM_CASE)
    }

    fn handles(&self, event: &CloudEvent) -> bool {
        event.streamtype == STREAM_CASE && event.event_type.name().starts_with("nl.gezinsplan.")
    }

    fn stream_types(&self) -> &'static [&'static str] {
        &[STREAM_CASE]
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            let e = CaseEvent::decode(&event.event_type, event.data.clone())?;
            apply_case_event(conn, event.subject, &event.gemeente, &e).await
        }
        .boxed()
    }

    fn reset<'a>(&'a self, conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            for (table, _) in TABLES {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }
        .boxed()
    }
}

async fn apply_case_event(
    conn: &mut PgConnection,
    case_id: Uuid,
    municipality: &str,
    event: &CaseEvent,
) -> anyhow::Result<()> {
    let erased: Option<i32> = sqlx::query_scalar("SELECT 1 FROM cw_erased WHERE case_id = $1")
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?;
    if erased.is_some() {
        return Ok(());
    }
    match event {
        CaseEvent::Opened(e) => {
            sqlx::query(
                "INSERT INTO cw_cases (case_id, municipality, district, director_organisation,
                    director, opened_on, household, direction_budget_hours)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id) DO NOTHING",
            )
            .bind(case_id)
            .bind(if e.municipality.is_empty() {
                municipality
            } else {
                &e.municipality
            })
            .bind(&e.district)
            .bind(&e.director_organisation)
            .bind(&e.director)
            .bind(e.opened_on)
            .bind(json(&e.household)?)
            .bind(i32::from(e.direction_budget_hours))
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO cw_hours (case_id, organisation, budget_hours) VALUES ($1, $2, $3)
                 ON CONFLICT (case_id, organisation) DO UPDATE SET budget_hours = excluded.budget_hours",
            )
            .bind(case_id)
            .bind(&e.director_organisation)
            .bind(i32::from(e.direction_budget_hours))
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ParticipantJoined(e) => {
            sqlx::query(
                "INSERT INTO cw_participants (case_id, organisation, organisation_type, joined_on)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (case_id, organisation) DO UPDATE
                   SET organisation_type = excluded.organisation_type,
                       joined_on = excluded.joined_on, left_on = NULL",
            )
            .bind(case_id)
            .bind(&e.organisation)
            .bind(e.organisation_type.as_str())
            .bind(e.joined_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ParticipantLeft(e) => {
            sqlx::query(
                "UPDATE cw_participants SET left_on = $3 WHERE case_id = $1 AND organisation = $2",
            )
            .bind(case_id)
            .bind(&e.organisation)
            .bind(e.left_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ConsentGranted(e) => {
            let scope: Vec<String> = e.scope.iter().map(|p| p.as_str().to_owned()).collect();
            sqlx::query(
                "INSERT INTO cw_consents (consent_id, case_id, organisation, scope, purpose,
                    granted_on, valid_until, granted_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (consent_id) DO NOTHING",
            )
            .bind(e.consent_id)
            .bind(case_id)
            .bind(&e.organisation)
            .bind(&scope)
            .bind(code(&e.purpose))
            .bind(e.granted_on)
            .bind(e.valid_until)
            .bind(code(&e.granted_by))
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ConsentRevoked(e) => {
            sqlx::query(
                "UPDATE cw_consents SET revoked_on = $3 WHERE consent_id = $1 AND case_id = $2",
            )
            .bind(e.consent_id)
            .bind(case_id)
            .bind(e.revoked_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::StrengthsRecorded(e) => {
            sqlx::query("UPDATE cw_cases SET strengths = $2 WHERE case_id = $1")
                .bind(case_id)
                .bind(json(&e.strengths)?)
                .execute(&mut *conn)
                .await?;
        }
        CaseEvent::NetworkRecorded(e) => {
            sqlx::query("UPDATE cw_cases SET network = $2 WHERE case_id = $1")
                .bind(case_id)
                .bind(json(&e.contributions)?)
                .execute(&mut *conn)
                .await?;
        }
        CaseEvent::SafetyPlanRecorded(e) => {
            sqlx::query("UPDATE cw_cases SET safety_plan = $2 WHERE case_id = $1")
                .bind(case_id)
                .bind(json(&e.plan)?)
                .execute(&mut *conn)
                .await?;
        }
        CaseEvent::ConcernRecorded(e) => {
            sqlx::query(
                "INSERT INTO cw_concerns (concern_id, case_id, priority, description, recorded_on)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (concern_id) DO NOTHING",
            )
            .bind(e.concern_id)
            .bind(case_id)
            .bind(code(&e.priority))
            .bind(json(&e.description)?)
            .bind(e.recorded_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::GoalSet(e) => {
            sqlx::query(
                "INSERT INTO cw_goals (goal_id, case_id, concern_id, description, target_date,
                    set_on, status)
                 VALUES ($1, $2, $3, $4, $5, $6, 'lopend') ON CONFLICT (goal_id) DO NOTHING",
            )
            .bind(e.goal_id)
            .bind(case_id)
            .bind(e.concern_id)
            .bind(json(&e.description)?)
            .bind(e.target_date)
            .bind(e.set_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::GoalStatusChanged(e) => {
            sqlx::query(
                "UPDATE cw_goals SET status = $3, status_on = $4 WHERE goal_id = $1 AND case_id = $2",
            )
            .bind(e.goal_id)
            .bind(case_id)
            .bind(code(&e.status))
            .bind(e.on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ActionAssigned(e) => {
            sqlx::query(
                "INSERT INTO cw_actions (action_id, case_id, goal_id, organisation, description,
                    due_on, assigned_on, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') ON CONFLICT (action_id) DO NOTHING",
            )
            .bind(e.action_id)
            .bind(case_id)
            .bind(e.goal_id)
            .bind(&e.organisation)
            .bind(json(&e.description)?)
            .bind(e.due_on)
            .bind(e.assigned_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ActionStatusChanged(e) => {
            sqlx::query(
                "UPDATE cw_actions SET status = $3, status_on = $4 WHERE action_id = $1 AND case_id = $2",
            )
            .bind(e.action_id)
            .bind(case_id)
            .bind(e.status.as_str())
            .bind(e.on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::PlanAdopted(e) => {
            sqlx::query(
                "UPDATE cw_cases SET plan_version = greatest(plan_version, $2),
                    first_plan_on = coalesce(first_plan_on, $3), last_plan_on = $3
                 WHERE case_id = $1",
            )
            .bind(case_id)
            .bind(i32::try_from(e.plan_version).unwrap_or(i32::MAX))
            .bind(e.adopted_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ReviewScheduled(e) => {
            sqlx::query(
                "INSERT INTO cw_reviews (review_id, case_id, planned_on) VALUES ($1, $2, $3)
                 ON CONFLICT (review_id) DO UPDATE SET planned_on = excluded.planned_on",
            )
            .bind(e.review_id)
            .bind(case_id)
            .bind(e.planned_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::ReviewHeld(e) => {
            sqlx::query(
                "UPDATE cw_reviews SET held_on = $3, minutes = $4 WHERE review_id = $1 AND case_id = $2",
            )
            .bind(e.review_id)
            .bind(case_id)
            .bind(e.held_on)
            .bind(json(&e.minutes)?)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE cw_cases SET last_review_held_on = greatest(last_review_held_on, $2)
                 WHERE case_id = $1",
            )
            .bind(case_id)
            .bind(e.held_on)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::HoursRecorded(e) => {
            let (regie, support) = match e.kind {
                HoursKind::Regie => (i64::from(e.minutes), 0),
                HoursKind::Ondersteuning => (0, i64::from(e.minutes)),
            };
            sqlx::query(
                "INSERT INTO cw_hours (case_id, organisation, minutes_regie, minutes_support)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (case_id, organisation) DO UPDATE
                   SET minutes_regie = cw_hours.minutes_regie + excluded.minutes_regie,
                       minutes_support = cw_hours.minutes_support + excluded.minutes_support",
            )
            .bind(case_id)
            .bind(&e.organisation)
            .bind(regie)
            .bind(support)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::HoursBudgetSet(e) => {
            sqlx::query(
                "INSERT INTO cw_hours (case_id, organisation, budget_hours) VALUES ($1, $2, $3)
                 ON CONFLICT (case_id, organisation) DO UPDATE SET budget_hours = excluded.budget_hours",
            )
            .bind(case_id)
            .bind(&e.organisation)
            .bind(i32::from(e.hours))
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::Escalated(e) => {
            sqlx::query(
                "INSERT INTO cw_escalations (escalation_id, case_id, reported_on, reported_by,
                    parties, legal_ground, report)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (escalation_id) DO NOTHING",
            )
            .bind(e.escalation_id)
            .bind(case_id)
            .bind(e.reported_on)
            .bind(&e.reported_by)
            .bind(&e.parties)
            .bind(&e.legal_ground)
            .bind(json(&e.report)?)
            .execute(&mut *conn)
            .await?;
        }
        CaseEvent::Closed(e) => {
            let note = e.note.as_ref().map(json).transpose()?;
            sqlx::query(
                "UPDATE cw_cases SET closed_on = $2, outcome = $3, closing_note = $4 WHERE case_id = $1",
            )
            .bind(case_id)
            .bind(e.closed_on)
            .bind(code(&e.outcome))
            .bind(note)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Deletes every row about a case and leaves a tombstone.
pub async fn drop_case(conn: &mut PgConnection, case_id: Uuid) -> anyhow::Result<u64> {
    let n = kansrijk_runtime::erasure::drop_subject_rows(conn, TABLES, case_id).await?;
    sqlx::query("INSERT INTO cw_erased (case_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    Ok(n)
}

/// Called with the subject id of every erased family (e.g. to drop a cached key).
pub type OnErased = std::sync::Arc<dyn Fn(Uuid) + Send + Sync>;

/// See the module docs.
#[derive(Default, Clone)]
pub struct CaseErasure {
    pub on_erased: Option<OnErased>,
}

impl std::fmt::Debug for CaseErasure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseErasure").finish_non_exhaustive()
    }
}

impl Projection for CaseErasure {
    fn name(&self) -> &'static str {
        ERASURE
    }

    fn filter_subject(&self) -> String {
        kansrijk_runtime::erasure::erasure_events_subject()
    }

    fn handles(&self, event: &CloudEvent) -> bool {
        kansrijk_runtime::erasure::is_privacy_event(event)
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            // Other privacy events (keys, holds, retention start) only keep versions contiguous.
            let subject = match kansrijk_runtime::erasure::decode_privacy_event(event)? {
                Some(PrivacyEvent::Erased(e)) if e.subject_kind == SubjectKind::Gezin => e.subject,
                Some(PrivacyEvent::RetentionEnded(e)) if e.data_kind == DataKind::Casus => {
                    e.subject
                }
                _ => return Ok(()),
            };
            drop_case(conn, subject).await?;
            if let Some(f) = &self.on_erased {
                f(subject);
            }
            Ok(())
        }
        .boxed()
    }

    fn reset<'a>(&'a self, _conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        // Tombstones outlive rebuilds: a replay must not bring an erased family back.
        async { Ok(()) }.boxed()
    }
}

//! The views' part of a subject access request (AVG art. 15), `kansrijk.qry.views.inzage`.
//!
//! The privacy service asks every service for what it holds about one subject; the views hold
//! read models of their own (copies of the events' facts, with the personal data still sealed).
//! The part lists, per read model, every row about the subject (a child, a handover file or the
//! child a file refers to, a family's case), with every sealed value opened with its subject's
//! key, fetched from the privacy service for this request (never from a cache, so an erased
//! subject's data reads `[gewist]`). Only rows of the officer's own municipality; the export is
//! logged before the part leaves the service. Privacy officer only.

use std::time::Duration;

use kansrijk_proto::actor::Actor;
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::privacy::{
    subjects, SubjectAccessPart, SubjectAccessRequest, SubjectAccessSection,
};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::keys::KeyClient;
use kansrijk_runtime::service::{handler, Endpoints, Request};
use kansrijk_runtime::subject_access::{open_sealed, require_privacy_officer};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The service name in the part and in the privacy service's list.
pub const SERVICE: &str = "views";
/// The access point of the export in the access log.
pub const ACCESS_POINT: &str = "views.inzage";

/// One read model: its table, the title of its section, its most sensitive category, and how its
/// rows are found (`$1` the subject, `$2` the officer's municipality, `$3` the ids of the files
/// found about the subject).
struct ReadModel {
    table: &'static str,
    title: &'static str,
    category: DataCategory,
    filter: &'static str,
}

const fn rm(
    table: &'static str,
    title: &'static str,
    category: DataCategory,
    filter: &'static str,
) -> ReadModel {
    ReadModel {
        table,
        title,
        category,
        filter,
    }
}

const VVE_CHILD: &str =
    "child_id = $1 AND EXISTS (SELECT 1 FROM vve_children c WHERE c.child_id = $1 AND c.municipality = $2)";
const CASE: &str =
    "case_id = $1 AND EXISTS (SELECT 1 FROM cw_cases c WHERE c.case_id = $1 AND c.municipality = $2)";

/// Every read model that holds rows about a subject.
const READ_MODELS: &[ReadModel] = &[
    rm(
        "vve_children",
        "VVE: kind (werklijst en kinderopvang)",
        DataCategory::Identifying,
        "child_id = $1 AND municipality = $2",
    ),
    rm(
        "vve_indications",
        "VVE: indicaties",
        DataCategory::Health,
        VVE_CHILD,
    ),
    rm(
        "vve_referrals",
        "VVE: verwijzingen",
        DataCategory::Administrative,
        VVE_CHILD,
    ),
    rm(
        "vve_outreach",
        "VVE: toeleidingspogingen",
        DataCategory::Administrative,
        VVE_CHILD,
    ),
    rm(
        "vve_placements",
        "VVE: plaatsingen",
        DataCategory::Administrative,
        VVE_CHILD,
    ),
    rm(
        "vve_placement_hours",
        "VVE: uren per week",
        DataCategory::Administrative,
        VVE_CHILD,
    ),
    rm(
        "vve_attendance",
        "VVE: aanwezigheid",
        DataCategory::Administrative,
        VVE_CHILD,
    ),
    rm(
        "vve_erased",
        "VVE: gewist",
        DataCategory::Administrative,
        "child_id = $1",
    ),
    rm(
        "ho_files",
        "Overdracht: dossiers",
        DataCategory::DevelopmentEducation,
        "(file_id = $1 OR child_id = $1) AND municipality = $2",
    ),
    rm(
        "ho_facts",
        "Overdracht: procesgegevens voor de monitor",
        DataCategory::Administrative,
        "(file_id = $1 OR file_id = ANY($3)) AND municipality = $2",
    ),
    rm(
        "ho_erased",
        "Overdracht: gewist",
        DataCategory::Administrative,
        "file_id = $1",
    ),
    rm(
        "cw_cases",
        "Gezinsplan: casus",
        DataCategory::Safety,
        "case_id = $1 AND municipality = $2",
    ),
    rm(
        "cw_participants",
        "Gezinsplan: deelnemers",
        DataCategory::Administrative,
        CASE,
    ),
    rm(
        "cw_consents",
        "Gezinsplan: toestemmingen",
        DataCategory::Administrative,
        CASE,
    ),
    rm(
        "cw_concerns",
        "Gezinsplan: zorgen",
        DataCategory::Safety,
        CASE,
    ),
    rm(
        "cw_goals",
        "Gezinsplan: doelen",
        DataCategory::DevelopmentEducation,
        CASE,
    ),
    rm(
        "cw_actions",
        "Gezinsplan: acties",
        DataCategory::DevelopmentEducation,
        CASE,
    ),
    rm(
        "cw_reviews",
        "Gezinsplan: evaluaties",
        DataCategory::DevelopmentEducation,
        CASE,
    ),
    rm(
        "cw_hours",
        "Gezinsplan: uren",
        DataCategory::Administrative,
        CASE,
    ),
    rm(
        "cw_escalations",
        "Gezinsplan: meldingen Veilig Thuis",
        DataCategory::Safety,
        CASE,
    ),
    rm(
        "cw_erased",
        "Gezinsplan: gewist",
        DataCategory::Administrative,
        "case_id = $1",
    ),
];

/// Answers `kansrijk.qry.views.inzage`.
#[derive(Debug)]
pub struct SubjectAccess {
    pool: PgPool,
    keys: KeyClient,
    access_log: AccessLogClient,
}

fn internal(what: &'static str) -> impl FnOnce(sqlx::Error) -> Problem {
    move |e| {
        tracing::error!(error = %e, what, "subject access: reading a read model failed");
        Problem::internal()
    }
}

impl SubjectAccess {
    /// `service` is the views' own identity towards the privacy service.
    pub fn new(pool: PgPool, nats: async_nats::Client, service: Actor) -> Self {
        SubjectAccess {
            pool,
            // `KeyClient::get` always asks the privacy service: no cached key of an erased subject.
            keys: KeyClient::new(nats.clone(), service.clone(), Duration::ZERO),
            access_log: AccessLogClient::new(nats, service),
        }
    }

    /// The views' part about `subject`, for the privacy officer `actor`.
    pub async fn part(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        subject: Uuid,
    ) -> Result<SubjectAccessPart, Problem> {
        require_privacy_officer(actor)?;
        let mut files: Vec<Uuid> = sqlx::query_scalar(
            "SELECT file_id FROM ho_files WHERE (file_id = $1 OR child_id = $1) AND municipality = $2",
        )
        .bind(subject)
        .bind(&actor.municipality)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("ho_files"))?;
        files.push(subject);
        let mut found = Vec::new();
        for m in READ_MODELS {
            let sql = format!(
                "SELECT to_jsonb(t) FROM {} t WHERE {} ORDER BY 1",
                m.table, m.filter
            );
            // PostgreSQL refuses parameters a statement does not use: bind only those it names.
            let mut q = sqlx::query_scalar(&sql).bind(subject);
            if m.filter.contains("$2") {
                q = q.bind(&actor.municipality);
            }
            if m.filter.contains("$3") {
                q = q.bind(&files);
            }
            let rows: Vec<Value> = q.fetch_all(&self.pool).await.map_err(internal(m.table))?;
            if !rows.is_empty() {
                found.push((m, rows));
            }
        }
        // Logged before anything is opened.
        self.access_log
            .record(vec![AccessEntry::new(
                actor,
                AccessEvent::Export,
                ACCESS_POINT,
                Some(subject),
                AccessOutcome::Success,
                traceparent,
            )])
            .await
            .map_err(|_| Problem::unavailable("Het toegangslog kon niet worden bijgewerkt."))?;
        let mut sections = Vec::new();
        for (m, rows) in found {
            let mut data = Value::Array(rows);
            open_sealed(&self.keys, &mut data).await?;
            sections.push(SubjectAccessSection {
                title: m.title.into(),
                category: m.category,
                data: serde_json::json!({ "leesmodel": m.table, "rijen": data }),
            });
        }
        Ok(SubjectAccessPart {
            service: SERVICE.into(),
            subject,
            sections,
        })
    }
}

/// The endpoint `kansrijk.qry.views.inzage`.
pub fn endpoints(sa: std::sync::Arc<SubjectAccess>) -> Endpoints {
    let mut e = Endpoints::new();
    e.insert(
        subjects::subject_access_part(SERVICE),
        handler(move |req: Request| {
            let sa = sa.clone();
            async move {
                let body: SubjectAccessRequest = req.json()?;
                sa.part(&req.actor, req.traceparent.as_deref(), body.subject)
                    .await
            }
        }),
    );
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_model_table_is_covered() {
        let sql = [
            include_str!("../migrations/21001_vve_read_models.sql"),
            include_str!("../migrations/22001_handover_read_models.sql"),
            include_str!("../migrations/23001_casework_read_models.sql"),
        ]
        .concat();
        for line in sql.lines() {
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                let table = rest.split_whitespace().next().unwrap();
                assert!(
                    READ_MODELS.iter().any(|m| m.table == table),
                    "read model {table} is not in the subject access part"
                );
            }
        }
    }
}

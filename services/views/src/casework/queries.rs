//! The casework queries: the case director's caseload, an organisation's own actions, one case
//! as the asking organisation may see it, and the municipality's suppressed aggregates.
//!
//! What an organisation may see of a case is decided at every query, with that day's date, from
//! the consent rows (never from a cached decision): the directing organisation sees everything;
//! an active participant the parts its valid consents for the purpose `casusregie` cover; a party
//! to a Veilig Thuis escalation the safety part (logged as break-glass); any other participant
//! only that the case exists and who directs it; anyone else nothing (404). Sealed parts are
//! opened with the family's key only for the parts that are shown, after the access-log entries
//! are committed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use chrono::{Months, NaiveDate, Utc};
use kansrijk_proto::actor::{Actor, Purpose};
use kansrijk_proto::casework::{Household, MemberRole, PlanPart, RecordLink};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::sealed::Sealed;
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::crypto::SubjectKey;
use kansrijk_runtime::keys::{KeyClient, KeyError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::projection::code;

/// Months after the plan or the last review by which a review is due.
pub const REVIEW_DUE_MONTHS: u32 = 10;
/// The purpose a consent must name to open the casework views.
pub const VIEW_PURPOSE: Purpose = Purpose::Casusregie;

/// Today's date, injectable for tests of expiry.
pub type Clock = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

/// The casework views: queries over the `cw_` read models.
pub struct CaseworkViews {
    pool: PgPool,
    keys: KeyClient,
    access_log: AccessLogClient,
    clock: Clock,
}

impl std::fmt::Debug for CaseworkViews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseworkViews").finish_non_exhaustive()
    }
}

fn internal<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> Problem {
    move |e| {
        tracing::error!(error = %e, what, "casework view error");
        Problem::internal()
    }
}

fn not_found() -> Problem {
    Problem::not_found("Deze casus is niet bekend.")
}

// ---------------------------------------------------------------------------------------------
// Response types (JSON, camelCase Dutch).
// ---------------------------------------------------------------------------------------------

/// A household member, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub lid_id: Uuid,
    pub rol: MemberRole,
    pub voornaam: String,
    pub achternaam: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geboortedatum: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dossier: Option<RecordLink>,
}

/// One case in the case director's caseload (`kansrijk.qry.casework.werklijst`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseloadItem {
    pub casus_id: Uuid,
    pub wijk: String,
    pub geopend_op: NaiveDate,
    /// `lopend` or `gesloten`.
    pub status: String,
    pub gezinsleden: Vec<MemberView>,
    pub planversie: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volgende_evaluatie_uiterlijk: Option<NaiveDate>,
    pub evaluatie_te_laat: bool,
    pub open_acties: i64,
    pub uren_regie: f64,
    pub urenbudget_regie: i32,
    pub budget_overschreden: bool,
}

/// Body of `kansrijk.qry.casework.werklijst` (may be empty): by default the cases the asking
/// professional directs; `alleOrganisatie: true` lists every case of the organisation (to cover
/// for a colleague).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseloadQuery {
    #[serde(default)]
    pub alle_organisatie: bool,
}

/// Reply of `kansrijk.qry.casework.werklijst`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Caseload {
    pub casussen: Vec<CaseloadItem>,
}

/// One action of the asking organisation (`kansrijk.qry.casework.acties`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionItem {
    pub casus_id: Uuid,
    pub actie_id: Uuid,
    pub doel_id: Uuid,
    pub regie_organisatie: String,
    pub omschrijving: String,
    pub deadline: NaiveDate,
    pub status: String,
    pub te_laat: bool,
}

/// Reply of `kansrijk.qry.casework.acties`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnActions {
    pub acties: Vec<ActionItem>,
}

/// Body of `kansrijk.qry.casework.casus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseQuery {
    pub casus_id: Uuid,
}

/// On what grounds the asking organisation sees the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// The directing organisation: the whole plan.
    Regie,
    /// Parts of the plan by valid consent (and/or the safety part by escalation).
    Toestemming,
    /// Only the safety part, as a party to a Veilig Thuis escalation (break-glass).
    Melding,
    /// Only that the case exists and who directs it.
    AlleenBestaan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantView {
    pub organisatie: String,
    pub organisatietype: String,
    pub toegevoegd_op: NaiveDate,
}

/// A consent as the directing organisation sees it, with its state on the day of the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentView {
    pub toestemming_id: Uuid,
    pub organisatie: String,
    pub onderdelen: Vec<String>,
    pub doel: String,
    pub gegeven_op: NaiveDate,
    pub geldig_tot: NaiveDate,
    pub gegeven_door: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingetrokken_op: Option<NaiveDate>,
    /// `geldig`, `nog-niet-geldig`, `verlopen` or `ingetrokken`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConcernView {
    pub zorg_id: Uuid,
    pub prioriteit: String,
    pub omschrijving: String,
    pub vastgelegd_op: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionView {
    pub actie_id: Uuid,
    pub organisatie: String,
    pub omschrijving: String,
    pub deadline: NaiveDate,
    pub status: String,
    pub te_laat: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoalView {
    pub doel_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zorg_id: Option<Uuid>,
    pub omschrijving: String,
    pub streefdatum: NaiveDate,
    pub status: String,
    pub acties: Vec<ActionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewView {
    pub evaluatie_id: Uuid,
    pub gepland: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gehouden_op: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verslag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewsView {
    pub evaluaties: Vec<ReviewView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volgende_uiterlijk: Option<NaiveDate>,
    pub te_laat: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoursView {
    pub organisatie: String,
    pub uren_regie: f64,
    pub uren_ondersteuning: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urenbudget: Option<i32>,
    pub overschreden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EscalationView {
    pub melding_id: Uuid,
    pub gemeld_op: NaiveDate,
    pub gemeld_door: String,
    pub partijen: Vec<String>,
    pub grondslag: String,
    pub melding: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SafetyView {
    pub meldingen: Vec<EscalationView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub veiligheidsplan: Option<Vec<String>>,
}

/// Reply of `kansrijk.qry.casework.casus`: only the parts the asker may see today are present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseView {
    pub casus_id: Uuid,
    pub wijk: String,
    pub regie_organisatie: String,
    pub geopend_op: NaiveDate,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gesloten_op: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uitkomst: Option<String>,
    pub toegang: Access,
    pub zichtbare_onderdelen: Vec<PlanPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deelnemers: Option<Vec<ParticipantView>>,
    /// Every consent of the case (directing organisation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toestemmingen: Option<Vec<ConsentView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gezinsleden: Option<Vec<MemberView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sterke_punten: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zorgen: Option<Vec<ConcernView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netwerk: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doelen: Option<Vec<GoalView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluaties: Option<ReviewsView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uren: Option<Vec<HoursView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub veiligheid: Option<SafetyView>,
    /// The closing note (directing organisation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toelichting: Option<String>,
}

/// One district row of the municipality's monitor; `None` is a suppressed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitorRow {
    /// The district, or `totaal`.
    pub wijk: String,
    pub lopend: Option<u64>,
    pub gesloten: Option<u64>,
    pub totaal: Option<u64>,
    /// Median days from opening to the first adopted plan.
    pub mediaan_dagen_tot_eerste_plan: Option<i64>,
    /// Percentage of open cases with a plan whose review is overdue.
    pub percentage_evaluatie_te_laat: Option<f64>,
    pub uren_gebruikt: Option<f64>,
    pub uren_budget: Option<f64>,
}

/// Reply of `kansrijk.qry.casework.monitor`: aggregates only, small cells suppressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Monitor {
    pub gemeente: String,
    pub peildatum: NaiveDate,
    /// Counts up to and including this number are not published.
    pub drempel: u64,
    pub wijken: Vec<MonitorRow>,
    pub totaal: MonitorRow,
}

// ---------------------------------------------------------------------------------------------

fn open<T: DeserializeOwned>(key: &SubjectKey, v: &serde_json::Value) -> Result<T, Problem> {
    let sealed: Sealed<T> =
        serde_json::from_value(v.clone()).map_err(internal("stored sealed value"))?;
    key.open(&sealed)
        .map_err(internal("opening a sealed value"))
}

fn members(household: Household) -> Vec<MemberView> {
    household
        .members
        .into_iter()
        .map(|m| MemberView {
            lid_id: m.member_id,
            rol: m.role,
            voornaam: m.given_name,
            achternaam: m.family_name,
            geboortedatum: m.birth_date,
            dossier: m.record,
        })
        .collect()
}

fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

fn review_due(
    first_plan_on: Option<NaiveDate>,
    last_review: Option<NaiveDate>,
) -> Option<NaiveDate> {
    last_review
        .or(first_plan_on)
        .and_then(|d| d.checked_add_months(Months::new(REVIEW_DUE_MONTHS)))
}

fn is_final_action(status: &str) -> bool {
    matches!(status, "afgerond" | "vervallen")
}

/// SQL: the consent of organisation `$2` for case `$1` is valid on `$3` for purpose `$4`.
const VALID_CONSENT: &str = "c.case_id = $1 AND c.organisation = $2 AND c.granted_on <= $3
    AND c.valid_until >= $3 AND (c.revoked_on IS NULL OR c.revoked_on > $3) AND c.purpose = $4";

impl CaseworkViews {
    /// `oin` is the operator's OIN (the views' service identity towards the privacy service).
    pub fn new(pool: PgPool, nats: Client, oin: &str, key_ttl: Duration) -> Self {
        let actor = kansrijk_runtime::identity::service_actor("views", oin);
        CaseworkViews {
            pool,
            keys: KeyClient::new(nats.clone(), actor.clone(), key_ttl),
            access_log: AccessLogClient::new(nats, actor),
            clock: Arc::new(|| Utc::now().date_naive()),
        }
    }

    /// Replaces the clock (tests of consent expiry).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn today(&self) -> NaiveDate {
        (self.clock)()
    }

    /// Drops a cached family key (after an erasure).
    pub fn forget_key(&self, subject: Uuid) {
        self.keys.forget(subject);
    }

    async fn log(&self, entries: Vec<AccessEntry>) -> Result<(), Problem> {
        if entries.is_empty() {
            return Ok(());
        }
        self.access_log.record(entries).await
    }

    /// The caseload of the asking case director: the cases they direct (or, on request, every
    /// case their organisation directs).
    pub async fn caseload(
        &self,
        actor: &Actor,
        query: &CaseloadQuery,
        traceparent: Option<&str>,
    ) -> Result<Caseload, Problem> {
        kansrijk_policy::require(actor, "casework.werklijst")?;
        let today = self.today();
        let rows = sqlx::query(
            "SELECT c.case_id, c.district, c.opened_on, c.closed_on, c.household, c.plan_version,
                    c.first_plan_on, c.last_review_held_on, c.direction_budget_hours,
                    coalesce(h.minutes_regie, 0) AS minutes_regie, h.budget_hours,
                    (SELECT count(*) FROM cw_actions a WHERE a.case_id = c.case_id
                       AND a.status NOT IN ('afgerond', 'vervallen')) AS open_actions
             FROM cw_cases c
             LEFT JOIN cw_hours h ON h.case_id = c.case_id AND h.organisation = c.director_organisation
             WHERE c.municipality = $1 AND c.director_organisation = $2
               AND ($3 OR c.director = $4)
             ORDER BY c.closed_on NULLS FIRST, c.opened_on, c.case_id",
        )
        .bind(&actor.municipality)
        .bind(&actor.organisation)
        .bind(query.alle_organisatie)
        .bind(&actor.person)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("caseload"))?;
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.try_get("case_id"))
            .collect::<Result<_, _>>()
            .map_err(internal("caseload row"))?;
        let keys = if ids.is_empty() {
            Default::default()
        } else {
            self.keys.get_many(&ids).await.map_err(|e| e.to_problem())?
        };
        // Erased families (key gone, rows not yet dropped) are left out.
        let shown: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| matches!(keys.get(id), Some(Ok(_))))
            .collect();
        self.log(
            shown
                .iter()
                .map(|id| {
                    AccessEntry::new(
                        actor,
                        AccessEvent::Read,
                        "casework.werklijst",
                        Some(*id),
                        AccessOutcome::Success,
                        traceparent,
                    )
                })
                .collect(),
        )
        .await?;
        let mut casussen = Vec::new();
        for r in rows {
            let id: Uuid = r.try_get("case_id").map_err(internal("row"))?;
            let Some(Ok(key)) = keys.get(&id) else {
                continue;
            };
            let household: Household =
                open(key, &r.try_get("household").map_err(internal("row"))?)?;
            let closed_on: Option<NaiveDate> = r.try_get("closed_on").map_err(internal("row"))?;
            let due = review_due(
                r.try_get("first_plan_on").map_err(internal("row"))?,
                r.try_get("last_review_held_on").map_err(internal("row"))?,
            );
            let minutes: i64 = r.try_get("minutes_regie").map_err(internal("row"))?;
            let budget: i32 = r
                .try_get::<Option<i32>, _>("budget_hours")
                .map_err(internal("row"))?
                .unwrap_or(
                    r.try_get("direction_budget_hours")
                        .map_err(internal("row"))?,
                );
            casussen.push(CaseloadItem {
                casus_id: id,
                wijk: r.try_get("district").map_err(internal("row"))?,
                geopend_op: r.try_get("opened_on").map_err(internal("row"))?,
                status: if closed_on.is_some() {
                    "gesloten"
                } else {
                    "lopend"
                }
                .into(),
                gezinsleden: members(household),
                planversie: r.try_get("plan_version").map_err(internal("row"))?,
                volgende_evaluatie_uiterlijk: due.filter(|_| closed_on.is_none()),
                evaluatie_te_laat: closed_on.is_none() && due.is_some_and(|d| today > d),
                open_acties: r.try_get("open_actions").map_err(internal("row"))?,
                uren_regie: hours(minutes),
                urenbudget_regie: budget,
                budget_overschreden: minutes > i64::from(budget) * 60,
            });
        }
        Ok(Caseload { casussen })
    }

    /// The actions assigned to the asking organisation, in cases it directs or where it holds a
    /// valid consent for `doelen-acties` today.
    pub async fn actions(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
    ) -> Result<OwnActions, Problem> {
        kansrijk_policy::require(actor, "casework.acties")?;
        let today = self.today();
        let rows = sqlx::query(
            "SELECT a.case_id, a.action_id, a.goal_id, a.description, a.due_on, a.status,
                    k.director_organisation
             FROM cw_actions a JOIN cw_cases k ON k.case_id = a.case_id
             WHERE a.organisation = $1 AND k.municipality = $4 AND (
                k.director_organisation = $1 OR (
                  EXISTS (SELECT 1 FROM cw_participants p WHERE p.case_id = a.case_id
                          AND p.organisation = $1 AND (p.left_on IS NULL OR p.left_on > $2))
                  AND EXISTS (SELECT 1 FROM cw_consents c
                          WHERE c.case_id = a.case_id AND c.organisation = $1
                          AND c.granted_on <= $2 AND c.valid_until >= $2
                          AND (c.revoked_on IS NULL OR c.revoked_on > $2) AND c.purpose = $3
                          AND 'doelen-acties' = ANY(c.scope))))
             ORDER BY a.due_on, a.action_id",
        )
        .bind(&actor.organisation)
        .bind(today)
        .bind(code(&VIEW_PURPOSE))
        .bind(&actor.municipality)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("actions"))?;
        let ids: BTreeSet<Uuid> = rows
            .iter()
            .map(|r| r.try_get("case_id"))
            .collect::<Result<_, _>>()
            .map_err(internal("actions row"))?;
        let ids: Vec<Uuid> = ids.into_iter().collect();
        let keys = if ids.is_empty() {
            Default::default()
        } else {
            self.keys.get_many(&ids).await.map_err(|e| e.to_problem())?
        };
        self.log(
            ids.iter()
                .filter(|id| matches!(keys.get(id), Some(Ok(_))))
                .map(|id| {
                    AccessEntry::new(
                        actor,
                        AccessEvent::Read,
                        "casework.acties",
                        Some(*id),
                        AccessOutcome::Success,
                        traceparent,
                    )
                })
                .collect(),
        )
        .await?;
        let mut acties = Vec::new();
        for r in rows {
            let case_id: Uuid = r.try_get("case_id").map_err(internal("row"))?;
            let Some(Ok(key)) = keys.get(&case_id) else {
                continue;
            };
            let status: String = r.try_get("status").map_err(internal("row"))?;
            let due: NaiveDate = r.try_get("due_on").map_err(internal("row"))?;
            acties.push(ActionItem {
                casus_id: case_id,
                actie_id: r.try_get("action_id").map_err(internal("row"))?,
                doel_id: r.try_get("goal_id").map_err(internal("row"))?,
                regie_organisatie: r
                    .try_get("director_organisation")
                    .map_err(internal("row"))?,
                omschrijving: open(key, &r.try_get("description").map_err(internal("row"))?)?,
                deadline: due,
                te_laat: due < today && !is_final_action(&status),
                status,
            });
        }
        Ok(OwnActions { acties })
    }

    /// The parts of the plan `organisation` may see in `case_id` today by its consents (and
    /// active participation), and whether it takes part at all.
    async fn consented(
        &self,
        case_id: Uuid,
        organisation: &str,
        today: NaiveDate,
    ) -> Result<(bool, BTreeSet<PlanPart>), Problem> {
        let active: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM cw_participants WHERE case_id = $1 AND organisation = $2
               AND (left_on IS NULL OR left_on > $3)",
        )
        .bind(case_id)
        .bind(organisation)
        .bind(today)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal("participation"))?;
        if active.is_none() {
            return Ok((false, BTreeSet::new()));
        }
        let scopes: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT unnest(c.scope) FROM cw_consents c WHERE {VALID_CONSENT}"
        ))
        .bind(case_id)
        .bind(organisation)
        .bind(today)
        .bind(code(&VIEW_PURPOSE))
        .fetch_all(&self.pool)
        .await
        .map_err(internal("consents"))?;
        Ok((
            true,
            scopes.iter().filter_map(|s| PlanPart::parse(s)).collect(),
        ))
    }

    /// One case as the asking organisation may see it today.
    pub async fn case(
        &self,
        actor: &Actor,
        case_id: Uuid,
        traceparent: Option<&str>,
    ) -> Result<CaseView, Problem> {
        kansrijk_policy::require(actor, "casework.casus")?;
        let today = self.today();
        let row = sqlx::query(
            "SELECT municipality, district, director_organisation, opened_on, household, strengths,
                    network, safety_plan, first_plan_on, last_review_held_on, closed_on, outcome,
                    closing_note
             FROM cw_cases WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal("case"))?
        .ok_or_else(not_found)?;
        let municipality: String = row.try_get("municipality").map_err(internal("row"))?;
        if municipality != actor.municipality {
            return Err(not_found());
        }
        let director: String = row
            .try_get("director_organisation")
            .map_err(internal("row"))?;
        let is_director = director == actor.organisation;
        let (participant, consented) = if is_director {
            (true, PlanPart::ALL.into_iter().collect())
        } else {
            self.consented(case_id, &actor.organisation, today).await?
        };
        let escalation_party: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM cw_escalations WHERE case_id = $1 AND $2 = ANY(parties))",
        )
        .bind(case_id)
        .bind(&actor.organisation)
        .fetch_one(&self.pool)
        .await
        .map_err(internal("escalations"))?;
        if !participant && !escalation_party {
            return Err(not_found());
        }
        let mut parts = consented.clone();
        let break_glass = escalation_party && !parts.contains(&PlanPart::Veiligheid);
        if escalation_party {
            parts.insert(PlanPart::Veiligheid);
        }
        let access = if is_director {
            Access::Regie
        } else if !consented.is_empty() {
            Access::Toestemming
        } else if escalation_party {
            Access::Melding
        } else {
            Access::AlleenBestaan
        };
        let closed_on: Option<NaiveDate> = row.try_get("closed_on").map_err(internal("row"))?;
        let mut view = CaseView {
            casus_id: case_id,
            wijk: row.try_get("district").map_err(internal("row"))?,
            regie_organisatie: director.clone(),
            geopend_op: row.try_get("opened_on").map_err(internal("row"))?,
            status: if closed_on.is_some() {
                "gesloten"
            } else {
                "lopend"
            }
            .into(),
            gesloten_op: closed_on,
            uitkomst: row.try_get("outcome").map_err(internal("row"))?,
            toegang: access,
            zichtbare_onderdelen: parts.iter().copied().collect(),
            deelnemers: None,
            toestemmingen: None,
            gezinsleden: None,
            sterke_punten: None,
            zorgen: None,
            netwerk: None,
            doelen: None,
            evaluaties: None,
            uren: None,
            veiligheid: None,
            toelichting: None,
        };
        if parts.is_empty() {
            // Only that the case exists and who directs it: no personal data, nothing to log.
            return Ok(view);
        }
        let key = match self.keys.get(case_id).await {
            Ok(k) => k,
            Err(KeyError::Erased) => return Err(KeyError::Erased.to_problem()),
            Err(e) => return Err(e.to_problem()),
        };
        // Log before anything personal is opened: a read of the consented parts, and a
        // break-glass entry when the safety part is shown by the escalation exception.
        let mut entries = Vec::new();
        if access != Access::Melding {
            entries.push(AccessEntry::new(
                actor,
                AccessEvent::Read,
                "casework.casus",
                Some(case_id),
                AccessOutcome::Success,
                traceparent,
            ));
        }
        if break_glass {
            entries.push(AccessEntry::new(
                actor,
                AccessEvent::BreakGlass,
                "casework.casus.veiligheid",
                Some(case_id),
                AccessOutcome::Success,
                traceparent,
            ));
        }
        self.log(entries).await?;

        if access != Access::Melding {
            view.deelnemers = Some(self.participants(case_id, today).await?);
        }
        if parts.contains(&PlanPart::Gezinsleden) {
            let h: Household = open(&key, &row.try_get("household").map_err(internal("row"))?)?;
            view.gezinsleden = Some(members(h));
        }
        if parts.contains(&PlanPart::SterkePunten) {
            let v: Option<serde_json::Value> = row.try_get("strengths").map_err(internal("row"))?;
            view.sterke_punten = Some(match v {
                Some(v) => open(&key, &v)?,
                None => Vec::new(),
            });
        }
        if parts.contains(&PlanPart::Netwerk) {
            let v: Option<serde_json::Value> = row.try_get("network").map_err(internal("row"))?;
            view.netwerk = Some(match v {
                Some(v) => open(&key, &v)?,
                None => Vec::new(),
            });
        }
        if parts.contains(&PlanPart::Zorgen) {
            view.zorgen = Some(self.concerns(case_id, &key).await?);
        }
        if parts.contains(&PlanPart::DoelenActies) {
            view.doelen = Some(self.goals(case_id, &key, today).await?);
        }
        if parts.contains(&PlanPart::Evaluaties) {
            let due = review_due(
                row.try_get("first_plan_on").map_err(internal("row"))?,
                row.try_get("last_review_held_on")
                    .map_err(internal("row"))?,
            );
            view.evaluaties = Some(ReviewsView {
                evaluaties: self.reviews(case_id, &key).await?,
                volgende_uiterlijk: due.filter(|_| closed_on.is_none()),
                te_laat: closed_on.is_none() && due.is_some_and(|d| today > d),
            });
        }
        if parts.contains(&PlanPart::Uren) {
            view.uren = Some(self.hours(case_id).await?);
        }
        if parts.contains(&PlanPart::Veiligheid) {
            let plan: Option<serde_json::Value> =
                row.try_get("safety_plan").map_err(internal("row"))?;
            view.veiligheid = Some(SafetyView {
                meldingen: self.escalations(case_id, &key).await?,
                veiligheidsplan: plan.map(|p| open(&key, &p)).transpose()?,
            });
        }
        if is_director {
            view.toestemmingen = Some(self.consents(case_id, today).await?);
            let note: Option<serde_json::Value> =
                row.try_get("closing_note").map_err(internal("row"))?;
            view.toelichting = note.map(|n| open(&key, &n)).transpose()?;
        }
        Ok(view)
    }

    async fn participants(
        &self,
        case_id: Uuid,
        today: NaiveDate,
    ) -> Result<Vec<ParticipantView>, Problem> {
        let rows = sqlx::query(
            "SELECT organisation, organisation_type, joined_on FROM cw_participants
             WHERE case_id = $1 AND (left_on IS NULL OR left_on > $2) ORDER BY organisation",
        )
        .bind(case_id)
        .bind(today)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("participants"))?;
        rows.iter()
            .map(|r| {
                Ok(ParticipantView {
                    organisatie: r.try_get("organisation")?,
                    organisatietype: r.try_get("organisation_type")?,
                    toegevoegd_op: r.try_get("joined_on")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(internal("participant row"))
    }

    async fn consents(&self, case_id: Uuid, today: NaiveDate) -> Result<Vec<ConsentView>, Problem> {
        let rows = sqlx::query(
            "SELECT consent_id, organisation, scope, purpose, granted_on, valid_until, granted_by,
                    revoked_on
             FROM cw_consents WHERE case_id = $1 ORDER BY granted_on, consent_id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("consents"))?;
        rows.iter()
            .map(|r| {
                let granted_on: NaiveDate = r.try_get("granted_on")?;
                let valid_until: NaiveDate = r.try_get("valid_until")?;
                let revoked_on: Option<NaiveDate> = r.try_get("revoked_on")?;
                let status = match revoked_on {
                    Some(d) if d <= today => "ingetrokken",
                    _ if today < granted_on => "nog-niet-geldig",
                    _ if today > valid_until => "verlopen",
                    _ => "geldig",
                };
                Ok(ConsentView {
                    toestemming_id: r.try_get("consent_id")?,
                    organisatie: r.try_get("organisation")?,
                    onderdelen: r.try_get("scope")?,
                    doel: r.try_get("purpose")?,
                    gegeven_op: granted_on,
                    geldig_tot: valid_until,
                    gegeven_door: r.try_get("granted_by")?,
                    ingetrokken_op: revoked_on,
                    status: status.into(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(internal("consent row"))
    }

    async fn concerns(&self, case_id: Uuid, key: &SubjectKey) -> Result<Vec<ConcernView>, Problem> {
        let rows = sqlx::query(
            "SELECT concern_id, priority, description, recorded_on FROM cw_concerns
             WHERE case_id = $1
             ORDER BY CASE priority WHEN 'hoog' THEN 0 WHEN 'middel' THEN 1 ELSE 2 END, recorded_on, concern_id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("concerns"))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(ConcernView {
                zorg_id: r.try_get("concern_id").map_err(internal("row"))?,
                prioriteit: r.try_get("priority").map_err(internal("row"))?,
                omschrijving: open(key, &r.try_get("description").map_err(internal("row"))?)?,
                vastgelegd_op: r.try_get("recorded_on").map_err(internal("row"))?,
            });
        }
        Ok(out)
    }

    async fn goals(
        &self,
        case_id: Uuid,
        key: &SubjectKey,
        today: NaiveDate,
    ) -> Result<Vec<GoalView>, Problem> {
        let actions = sqlx::query(
            "SELECT action_id, goal_id, organisation, description, due_on, status FROM cw_actions
             WHERE case_id = $1 ORDER BY due_on, action_id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("actions"))?;
        let mut by_goal: BTreeMap<Uuid, Vec<ActionView>> = BTreeMap::new();
        for r in actions {
            let status: String = r.try_get("status").map_err(internal("row"))?;
            let due: NaiveDate = r.try_get("due_on").map_err(internal("row"))?;
            by_goal
                .entry(r.try_get("goal_id").map_err(internal("row"))?)
                .or_default()
                .push(ActionView {
                    actie_id: r.try_get("action_id").map_err(internal("row"))?,
                    organisatie: r.try_get("organisation").map_err(internal("row"))?,
                    omschrijving: open(key, &r.try_get("description").map_err(internal("row"))?)?,
                    deadline: due,
                    te_laat: due < today && !is_final_action(&status),
                    status,
                });
        }
        let rows = sqlx::query(
            "SELECT goal_id, concern_id, description, target_date, status FROM cw_goals
             WHERE case_id = $1 ORDER BY set_on, goal_id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("goals"))?;
        let mut out = Vec::new();
        for r in rows {
            let id: Uuid = r.try_get("goal_id").map_err(internal("row"))?;
            out.push(GoalView {
                doel_id: id,
                zorg_id: r.try_get("concern_id").map_err(internal("row"))?,
                omschrijving: open(key, &r.try_get("description").map_err(internal("row"))?)?,
                streefdatum: r.try_get("target_date").map_err(internal("row"))?,
                status: r.try_get("status").map_err(internal("row"))?,
                acties: by_goal.remove(&id).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    async fn reviews(&self, case_id: Uuid, key: &SubjectKey) -> Result<Vec<ReviewView>, Problem> {
        let rows = sqlx::query(
            "SELECT review_id, planned_on, held_on, minutes FROM cw_reviews
             WHERE case_id = $1 ORDER BY planned_on, review_id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("reviews"))?;
        let mut out = Vec::new();
        for r in rows {
            let minutes: Option<serde_json::Value> =
                r.try_get("minutes").map_err(internal("row"))?;
            out.push(ReviewView {
                evaluatie_id: r.try_get("review_id").map_err(internal("row"))?,
                gepland: r.try_get("planned_on").map_err(internal("row"))?,
                gehouden_op: r.try_get("held_on").map_err(internal("row"))?,
                verslag: minutes.map(|m| open(key, &m)).transpose()?,
            });
        }
        Ok(out)
    }

    async fn hours(&self, case_id: Uuid) -> Result<Vec<HoursView>, Problem> {
        let rows = sqlx::query(
            "SELECT organisation, minutes_regie, minutes_support, budget_hours FROM cw_hours
             WHERE case_id = $1 ORDER BY organisation",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("hours"))?;
        rows.iter()
            .map(|r| {
                let regie: i64 = r.try_get("minutes_regie")?;
                let support: i64 = r.try_get("minutes_support")?;
                let budget: Option<i32> = r.try_get("budget_hours")?;
                Ok(HoursView {
                    organisatie: r.try_get("organisation")?,
                    uren_regie: hours(regie),
                    uren_ondersteuning: hours(support),
                    urenbudget: budget,
                    overschreden: budget.is_some_and(|b| regie + support > i64::from(b) * 60),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(internal("hours row"))
    }

    async fn escalations(
        &self,
        case_id: Uuid,
        key: &SubjectKey,
    ) -> Result<Vec<EscalationView>, Problem> {
        let rows = sqlx::query(
            "SELECT escalation_id, reported_on, reported_by, parties, legal_ground, report
             FROM cw_escalations WHERE case_id = $1 ORDER BY reported_on, escalation_id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("escalations"))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(EscalationView {
                melding_id: r.try_get("escalation_id").map_err(internal("row"))?,
                gemeld_op: r.try_get("reported_on").map_err(internal("row"))?,
                gemeld_door: r.try_get("reported_by").map_err(internal("row"))?,
                partijen: r.try_get("parties").map_err(internal("row"))?,
                grondslag: r.try_get("legal_ground").map_err(internal("row"))?,
                melding: open(key, &r.try_get("report").map_err(internal("row"))?)?,
            });
        }
        Ok(out)
    }

    /// The municipality's aggregates, suppressed (see [`super::monitor`]).
    pub async fn monitor(&self, actor: &Actor) -> Result<Monitor, Problem> {
        kansrijk_policy::require(actor, "casework.monitor")?;
        let today = self.today();
        let rows = sqlx::query(
            "SELECT c.district, c.opened_on, c.first_plan_on, c.last_review_held_on, c.closed_on,
                    coalesce(sum(h.minutes_regie + h.minutes_support), 0)::bigint AS minutes,
                    coalesce(sum(h.budget_hours), 0)::bigint AS budget
             FROM cw_cases c LEFT JOIN cw_hours h ON h.case_id = c.case_id
             WHERE c.municipality = $1
             GROUP BY c.case_id",
        )
        .bind(&actor.municipality)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("monitor"))?;
        let cases = rows
            .iter()
            .map(|r| {
                let first_plan_on: Option<NaiveDate> = r.try_get("first_plan_on")?;
                let last_review: Option<NaiveDate> = r.try_get("last_review_held_on")?;
                let closed_on: Option<NaiveDate> = r.try_get("closed_on")?;
                let opened_on: NaiveDate = r.try_get("opened_on")?;
                let due = review_due(first_plan_on, last_review);
                Ok(super::monitor::CaseFacts {
                    district: r.try_get("district")?,
                    open: closed_on.is_none(),
                    days_to_first_plan: first_plan_on.map(|p| (p - opened_on).num_days()),
                    review_overdue: (closed_on.is_none() && first_plan_on.is_some())
                        .then(|| due.is_some_and(|d| today > d)),
                    minutes: r.try_get("minutes")?,
                    budget_hours: r.try_get("budget")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(internal("monitor row"))?;
        Ok(super::monitor::build(
            &actor.municipality,
            today,
            &cases,
            &super::monitor::config(),
        ))
    }
}

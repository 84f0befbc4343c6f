//! The VVE queries: the JGZ worklist, the childcare overview, the municipality's quarterly
//! monitor and its exports. Each checks the policy, scopes by the actor's organisation or
//! municipality, opens sealed personal data with the child's key at query time (an erased child
//! has no key and drops out), and writes the NEN 7513 access-log entries before it returns
//! personal data.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use chrono::{Datelike, NaiveDate, Utc};
use kansrijk_proto::actor::Actor;
use kansrijk_proto::problem::Problem;
use kansrijk_proto::sealed::Sealed;
use kansrijk_proto::vve::{self, ChildPersonal, DeclineReason, OutreachOutcome};
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::crypto::SubjectKey;
use kansrijk_runtime::keys::KeyClient;
use kansrijk_runtime::service::{handler, Endpoints, Handler, Request};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::export;
use super::monitor::{
    self, IndicationRecord, MonitorChild, MonitorConfig, PlacementRecord, Quarter, ReferralRecord,
};
use super::projection::{ChildrenProjection, ErasureProjection};
use super::suppression::Published;

/// Query names (`kansrijk.qry.vve.<name>`, policy action `vve.<name>`).
pub mod names {
    pub const WORKLIST: &str = "werklijst";
    pub const CHILDCARE: &str = "kinderopvang";
    pub const MONITOR: &str = "monitor";
    pub const MONITOR_EXPORT: &str = "monitor-export";
}

/// The NATS subject of a VVE query.
pub fn subject(name: &str) -> String {
    kansrijk_proto::subject::query(&format!("vve.{name}"))
}

fn action(name: &str) -> String {
    format!("vve.{name}")
}

fn internal<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> Problem {
    move |e| {
        tracing::error!(error = %e, "{what}");
        Problem::internal()
    }
}

// ---------------------------------------------------------------------------------------------
// Response types. Every field declares its data category (checked against the disclosure policy).
// ---------------------------------------------------------------------------------------------

/// Body of `kansrijk.qry.vve.werklijst` and `kansrijk.qry.vve.kinderopvang`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ListQuery {
    /// The day to compute time left from; today when absent.
    pub peildatum: Option<NaiveDate>,
}

/// The JGZ worklist: indicated children not placed, most urgent first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Worklist {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub peildatum: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kinderen: Vec<WorklistChild>,
    /// Kinderen die de organisatie heeft ingeschreven, 21 maanden of ouder, zonder VVE-indicatie:
    /// te beoordelen bij het consult rond 2 jaar. De oudste eerst.
    #[serde(default)]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub te_indiceren: Vec<DueForIndication>,
}

/// The age from which a registered child without an indication is shown as due for one: the
/// two-year consultation is planned from 21 months on.
pub const DUE_FOR_INDICATION_FROM_MONTHS: u32 = 21;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DueForIndication {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kind_id: Uuid,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub voornaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub achternaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub geboortedatum: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub wijk: String,
    /// Leeftijd in hele maanden op de peildatum.
    #[schemars(extend("x-data-category" = "identifying"))]
    pub leeftijd_maanden: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorklistChild {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kind_id: Uuid,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub voornaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub achternaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub geboortedatum: NaiveDate,
    #[schemars(extend("x-data-category" = "contact"))]
    pub postcode: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub wijk: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub indicatie_afgegeven_op: NaiveDate,
    #[schemars(extend("x-data-category" = "health"))]
    pub criteria: Vec<String>,
    /// The day the child turns 2.5.
    #[schemars(extend("x-data-category" = "identifying"))]
    pub venster_start: NaiveDate,
    /// The fourth birthday.
    #[schemars(extend("x-data-category" = "identifying"))]
    pub venster_einde: NaiveDate,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub dagen_resterend: i64,
    /// `nog-niet-benaderd`, `toeleiding-loopt`, `onbereikbaar`, `doorverwezen`, `geaccepteerd`,
    /// `wachtlijst`, `ouders-zien-af`.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub status: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verwijzingen: Vec<ReferralOut>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub toeleidingspogingen: Vec<OutreachOut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub afgezien: Option<DeclinedOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferralOut {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verwijzing_id: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub lrk: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub doorverwezen_op: NaiveDate,
    /// `open`, `geaccepteerd`, `wachtlijst`, `geplaatst`.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub status: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub register_gecontroleerd: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verwachte_start: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutreachOut {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub datum: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kanaal: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub uitkomst: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeclinedOut {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub datum: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reden: String,
}

/// A childcare location's own referrals, waiting list and placements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChildcareOverview {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub lrk: String,
    /// Referrals not yet placed (status `open` or `geaccepteerd`).
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verwijzingen: Vec<ChildcareReferral>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub wachtlijst: Vec<ChildcareReferral>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub plaatsingen: Vec<ChildcarePlacement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChildcareReferral {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kind_id: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verwijzing_id: Uuid,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub voornaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub achternaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub geboortedatum: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub doorverwezen_op: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verwachte_start: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChildcarePlacement {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kind_id: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub plaatsing_id: Uuid,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub voornaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub achternaam: String,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub geboortedatum: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub startdatum: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub einddatum: Option<NaiveDate>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub uren_per_week: u8,
}

/// Body of `kansrijk.qry.vve.monitor` and `kansrijk.qry.vve.monitor-export`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct MonitorQuery {
    pub jaar: Option<i32>,
    /// 1-4.
    pub kwartaal: Option<u32>,
    /// Export only: `csv` or `xlsx`.
    pub formaat: Option<String>,
}

/// One published table; `null` is a suppressed cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TableOut {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub rijen: Vec<String>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kolommen: Vec<String>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub cellen: Vec<Vec<Option<u64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub rijtotalen: Option<Vec<Option<u64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kolomtotalen: Option<Vec<Option<u64>>>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub totaal: Option<u64>,
}

impl TableOut {
    /// A published table, counts rounded to a multiple of `round_to` (1: exact).
    pub fn rounded(p: &Published, round_to: u64) -> Self {
        let r = |v: &Option<u64>| v.map(|v| monitor::round_count(v, round_to));
        let rs = |vs: &Vec<Option<u64>>| vs.iter().map(r).collect::<Vec<_>>();
        TableOut {
            rijen: p.rows.clone(),
            kolommen: p.cols.clone(),
            cellen: p.cells.iter().map(rs).collect(),
            rijtotalen: p.row_totals.as_ref().map(rs),
            kolomtotalen: p.col_totals.as_ref().map(rs),
            totaal: r(&p.grand_total),
        }
    }
}

impl From<&Published> for TableOut {
    fn from(p: &Published) -> Self {
        TableOut::rounded(p, 1)
    }
}

/// The municipality's quarterly monitor: aggregates only, small cells suppressed (`null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitorReport {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub gemeente: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub jaar: i32,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kwartaal: u32,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub peildatum: NaiveDate,
    /// Counts up to this are suppressed.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub drempel: u64,
    /// Counts are rounded to a multiple of this (1: exact).
    #[schemars(extend("x-data-category" = "administrative"))]
    pub afgerond_op: u64,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub geindiceerd: Option<u64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bereikt: Option<u64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bereikt_minder_dan16_uur: Option<u64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub niet_bereikt: Option<u64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bereik_percentage: Option<f64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub mediaan_dagen_indicatie_tot_plaatsing: Option<f64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub plaatsingen_gestart: Option<u64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub per_wijk: TableOut,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub per_criterium: TableOut,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub per_locatie: TableOut,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub redenen_afzien: TableOut,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub trend: TableOut,
}

/// An export file (`kansrijk.qry.vve.monitor-export`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportFile {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bestandsnaam: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub media_type: String,
    /// Base64 of the file.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub inhoud: String,
}

// ---------------------------------------------------------------------------------------------

/// What the VVE queries share.
#[derive(Debug)]
pub struct VveViews {
    pool: PgPool,
    keys: KeyClient,
    access_log: AccessLogClient,
    pub config: MonitorConfig,
    /// Computed monitors per (municipality, quarter), with the projection state they were
    /// computed from (see [`VveViews::monitor`]).
    reports: std::sync::Mutex<HashMap<(String, Quarter), (String, MonitorReport)>>,
}

/// At most this many computed monitors are kept (municipalities x quarters asked for).
const REPORT_CACHE: usize = 64;

/// Chunk size for key requests.
const KEY_CHUNK: usize = 500;

impl VveViews {
    /// `service` is the views service's own identity towards the privacy service.
    pub fn new(pool: PgPool, nats: Client, service: Actor, config: MonitorConfig) -> Self {
        VveViews {
            keys: KeyClient::new(nats.clone(), service.clone(), Duration::from_secs(30)),
            access_log: AccessLogClient::new(nats, service),
            pool,
            config,
            reports: Default::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Keys of the given children; erased or unknown children are left out.
    async fn keys(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, SubjectKey>, Problem> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(KEY_CHUNK) {
            let got = self
                .keys
                .get_many(chunk)
                .await
                .map_err(|e| e.to_problem())?;
            for (id, k) in got {
                if let Ok(k) = k {
                    out.insert(id, k);
                }
            }
        }
        Ok(out)
    }

    async fn log_reads(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        view: &str,
        subjects: impl IntoIterator<Item = Uuid>,
    ) -> Result<(), Problem> {
        let entries: Vec<AccessEntry> = subjects
            .into_iter()
            .map(|s| {
                AccessEntry::new(
                    actor,
                    AccessEvent::Read,
                    view,
                    Some(s),
                    AccessOutcome::Success,
                    traceparent,
                )
            })
            .collect();
        if entries.is_empty() {
            return Ok(());
        }
        self.access_log.record(entries).await
    }

    /// The JGZ worklist of the actor's organisation.
    pub async fn worklist(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        q: ListQuery,
    ) -> Result<Worklist, Problem> {
        let view = action(names::WORKLIST);
        kansrijk_policy::require(actor, &view)?;
        let today = q.peildatum.unwrap_or_else(|| Utc::now().date_naive());
        let rows = sqlx::query(
            "SELECT c.child_id, c.district, c.personal, c.birth_date, c.declined_on, c.declined_reason,
                    i.issued_on, i.criteria
             FROM vve_children c
             JOIN vve_indications i ON i.child_id = c.child_id AND i.withdrawn_on IS NULL
             WHERE c.municipality = $1 AND c.jgz_organisation = $2 AND c.moved_on IS NULL
               AND NOT EXISTS (SELECT 1 FROM vve_placements p WHERE p.child_id = c.child_id
                               AND (p.end_on IS NULL OR p.end_on >= $3))",
        )
        .bind(&actor.municipality)
        .bind(&actor.organisation)
        .bind(today)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("worklist"))?;
        let ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|r| r.try_get("child_id").ok())
            .collect();
        let keys = self.keys(&ids).await?;
        let referrals = self.referrals_of(&ids).await?;
        let outreach = self.outreach_of(&ids).await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let Some(key) = keys.get(&id) else { continue };
            let personal: ChildPersonal = open(key, r.try_get("personal"))?;
            let birth: NaiveDate = open(key, r.try_get("birth_date"))?;
            let criteria: Vec<String> = open(key, r.try_get("criteria"))?;
            let end = vve::window_end(birth);
            if end <= today {
                continue;
            }
            let refs = referrals.get(&id).cloned().unwrap_or_default();
            let attempts = outreach.get(&id).cloned().unwrap_or_default();
            let declined = match (
                r.try_get::<Option<NaiveDate>, _>("declined_on")
                    .ok()
                    .flatten(),
                r.try_get::<Option<String>, _>("declined_reason")
                    .ok()
                    .flatten(),
            ) {
                (Some(datum), Some(reden)) => Some(DeclinedOut { datum, reden }),
                _ => None,
            };
            let status = if declined.is_some() {
                "ouders-zien-af"
            } else if refs.iter().any(|x| x.status == "wachtlijst") {
                "wachtlijst"
            } else if refs.iter().any(|x| x.status == "geaccepteerd") {
                "geaccepteerd"
            } else if !refs.is_empty() {
                "doorverwezen"
            } else if !attempts.is_empty() && attempts.iter().all(|a| a.uitkomst == "niet-bereikt")
            {
                "onbereikbaar"
            } else if !attempts.is_empty() {
                "toeleiding-loopt"
            } else {
                "nog-niet-benaderd"
            };
            out.push(WorklistChild {
                kind_id: id,
                voornaam: personal.given_name,
                achternaam: personal.family_name,
                geboortedatum: birth,
                postcode: personal.postcode,
                wijk: r.try_get("district").map_err(internal("row"))?,
                indicatie_afgegeven_op: r.try_get("issued_on").map_err(internal("row"))?,
                criteria,
                venster_start: vve::window_start(birth),
                venster_einde: end,
                dagen_resterend: (end - today).num_days(),
                status: status.into(),
                verwijzingen: refs,
                toeleidingspogingen: attempts,
                afgezien: declined,
            });
        }
        out.sort_by_key(|c| (c.dagen_resterend, c.kind_id));
        let due = self.due_for_indication(actor, today).await?;
        self.log_reads(
            actor,
            traceparent,
            &view,
            out.iter()
                .map(|c| c.kind_id)
                .chain(due.iter().map(|c| c.kind_id)),
        )
        .await?;
        Ok(Worklist {
            peildatum: today,
            kinderen: out,
            te_indiceren: due,
        })
    }

    /// The organisation's registered children without an active indication, aged
    /// [`DUE_FOR_INDICATION_FROM_MONTHS`] or more and still before their fourth birthday.
    async fn due_for_indication(
        &self,
        actor: &Actor,
        today: NaiveDate,
    ) -> Result<Vec<DueForIndication>, Problem> {
        let rows = sqlx::query(
            "SELECT c.child_id, c.district, c.personal, c.birth_date
             FROM vve_children c
             WHERE c.municipality = $1 AND c.jgz_organisation = $2 AND c.moved_on IS NULL
               AND NOT EXISTS (SELECT 1 FROM vve_indications i
                               WHERE i.child_id = c.child_id AND i.withdrawn_on IS NULL)",
        )
        .bind(&actor.municipality)
        .bind(&actor.organisation)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("due for indication"))?;
        let ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|r| r.try_get("child_id").ok())
            .collect();
        let keys = self.keys(&ids).await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let Some(key) = keys.get(&id) else { continue };
            let birth: NaiveDate = open(key, r.try_get("birth_date"))?;
            let months = whole_months(birth, today);
            if months < DUE_FOR_INDICATION_FROM_MONTHS || vve::window_end(birth) <= today {
                continue;
            }
            let personal: ChildPersonal = open(key, r.try_get("personal"))?;
            out.push(DueForIndication {
                kind_id: id,
                voornaam: personal.given_name,
                achternaam: personal.family_name,
                geboortedatum: birth,
                wijk: r.try_get("district").map_err(internal("row"))?,
                leeftijd_maanden: months,
            });
        }
        out.sort_by_key(|c| (c.geboortedatum, c.kind_id));
        Ok(out)
    }

    async fn referrals_of(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<ReferralOut>>, Problem> {
        let rows = sqlx::query(
            "SELECT r.child_id, r.referral_id, r.location, r.referred_on, r.registry_checked,
                    r.accepted_on, r.waitlisted_on, r.expected_start,
                    EXISTS (SELECT 1 FROM vve_placements p WHERE p.referral_id = r.referral_id) AS placed
             FROM unnest($1::uuid[]) AS q(child_id) JOIN vve_referrals r ON r.child_id = q.child_id
             ORDER BY r.referred_on, r.location",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("referrals"))?;
        let mut out: HashMap<Uuid, Vec<ReferralOut>> = HashMap::new();
        for r in rows {
            let child: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            out.entry(child).or_default().push(referral_out(&r)?);
        }
        Ok(out)
    }

    async fn outreach_of(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<OutreachOut>>, Problem> {
        let rows = sqlx::query(
            "SELECT child_id, attempted_on, channel, outcome
             FROM unnest($1::uuid[]) AS q(child_id) JOIN vve_outreach USING (child_id)
             ORDER BY attempted_on, version",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("outreach"))?;
        let mut out: HashMap<Uuid, Vec<OutreachOut>> = HashMap::new();
        for r in rows {
            let child: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            out.entry(child).or_default().push(OutreachOut {
                datum: r.try_get("attempted_on").map_err(internal("row"))?,
                kanaal: r.try_get("channel").map_err(internal("row"))?,
                uitkomst: r.try_get("outcome").map_err(internal("row"))?,
            });
        }
        Ok(out)
    }

    /// The actor's location: its referrals, waiting list and placements.
    pub async fn childcare(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        _q: ListQuery,
    ) -> Result<ChildcareOverview, Problem> {
        let view = action(names::CHILDCARE);
        kansrijk_policy::require(actor, &view)?;
        let lrk = actor.organisation.clone();
        let refs = sqlx::query(
            "SELECT r.child_id, r.referral_id, r.location, r.referred_on, r.registry_checked,
                    r.accepted_on, r.waitlisted_on, r.expected_start,
                    EXISTS (SELECT 1 FROM vve_placements p WHERE p.referral_id = r.referral_id) AS placed
             FROM vve_referrals r JOIN vve_children c ON c.child_id = r.child_id
             WHERE r.location = $1 AND c.moved_on IS NULL ORDER BY r.referred_on",
        )
        .bind(&lrk)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("childcare referrals"))?;
        let placements = sqlx::query(
            "SELECT p.child_id, p.placement_id, p.start_on, p.end_on,
                    (SELECT h.hours_per_week FROM vve_placement_hours h WHERE h.placement_id = p.placement_id
                     ORDER BY h.from_on DESC LIMIT 1) AS hours
             FROM vve_placements p WHERE p.location = $1 ORDER BY p.start_on",
        )
        .bind(&lrk)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("childcare placements"))?;
        let mut ids: Vec<Uuid> = refs
            .iter()
            .chain(placements.iter())
            .filter_map(|r| r.try_get("child_id").ok())
            .collect();
        ids.sort();
        ids.dedup();
        let keys = self.keys(&ids).await?;
        let identity = self.identities(&ids, &keys).await?;
        let (mut verwijzingen, mut wachtlijst, mut plaatsingen) =
            (Vec::new(), Vec::new(), Vec::new());
        for r in &refs {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let Some((p, birth)) = identity.get(&id) else {
                continue;
            };
            let x = referral_out(r)?;
            if x.status == "geplaatst" {
                continue;
            }
            let row = ChildcareReferral {
                kind_id: id,
                verwijzing_id: x.verwijzing_id,
                voornaam: p.given_name.clone(),
                achternaam: p.family_name.clone(),
                geboortedatum: *birth,
                doorverwezen_op: x.doorverwezen_op,
                status: x.status.clone(),
                verwachte_start: x.verwachte_start,
            };
            if x.status == "wachtlijst" {
                wachtlijst.push(row);
            } else {
                verwijzingen.push(row);
            }
        }
        for r in &placements {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let Some((p, birth)) = identity.get(&id) else {
                continue;
            };
            let hours: Option<i16> = r.try_get("hours").map_err(internal("row"))?;
            plaatsingen.push(ChildcarePlacement {
                kind_id: id,
                plaatsing_id: r.try_get("placement_id").map_err(internal("row"))?,
                voornaam: p.given_name.clone(),
                achternaam: p.family_name.clone(),
                geboortedatum: *birth,
                startdatum: r.try_get("start_on").map_err(internal("row"))?,
                einddatum: r.try_get("end_on").map_err(internal("row"))?,
                uren_per_week: hours.and_then(|h| u8::try_from(h).ok()).unwrap_or(0),
            });
        }
        let mut shown: Vec<Uuid> = verwijzingen
            .iter()
            .chain(wachtlijst.iter())
            .map(|r| r.kind_id)
            .chain(plaatsingen.iter().map(|p| p.kind_id))
            .collect();
        shown.sort();
        shown.dedup();
        self.log_reads(actor, traceparent, &view, shown).await?;
        Ok(ChildcareOverview {
            lrk,
            verwijzingen,
            wachtlijst,
            plaatsingen,
        })
    }

    async fn identities(
        &self,
        ids: &[Uuid],
        keys: &HashMap<Uuid, SubjectKey>,
    ) -> Result<HashMap<Uuid, (ChildPersonal, NaiveDate)>, Problem> {
        let rows = sqlx::query(
            "SELECT child_id, personal, birth_date
             FROM unnest($1::uuid[]) AS q(child_id) JOIN vve_children USING (child_id)",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("children"))?;
        let mut out = HashMap::new();
        for r in rows {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let Some(key) = keys.get(&id) else { continue };
            let p: ChildPersonal = open(key, r.try_get("personal"))?;
            let b: NaiveDate = open(key, r.try_get("birth_date"))?;
            out.insert(id, (p, b));
        }
        Ok(out)
    }

    /// Loads and opens what the monitor needs about the municipality's indicated children.
    /// Returns the records and, per child, their placements with attendance (for the providers'
    /// monitor).
    pub async fn monitor_children(
        &self,
        municipality: &str,
    ) -> Result<
        (
            Vec<MonitorChild>,
            Vec<(PlacementRecord, BTreeMap<String, u64>)>,
        ),
        Problem,
    > {
        let rows = sqlx::query(
            "SELECT child_id, district, birth_date, declined_on, declined_reason, moved_on
             FROM vve_children c WHERE municipality = $1
               AND EXISTS (SELECT 1 FROM vve_indications i WHERE i.child_id = c.child_id)",
        )
        .bind(municipality)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("monitor children"))?;
        let ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|r| r.try_get("child_id").ok())
            .collect();
        let keys = self.keys(&ids).await?;
        let mut children: BTreeMap<Uuid, MonitorChild> = BTreeMap::new();
        for r in &rows {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let Some(key) = keys.get(&id) else { continue };
            let reason: Option<String> = r.try_get("declined_reason").map_err(internal("row"))?;
            let declined_on: Option<NaiveDate> =
                r.try_get("declined_on").map_err(internal("row"))?;
            children.insert(
                id,
                MonitorChild {
                    district: r.try_get("district").map_err(internal("row"))?,
                    birth_date: open(key, r.try_get("birth_date"))?,
                    indications: Vec::new(),
                    placements: Vec::new(),
                    referrals: Vec::new(),
                    outreach: Vec::new(),
                    declined: declined_on.zip(reason.as_deref().and_then(DeclineReason::parse)),
                    moved_on: r.try_get("moved_on").map_err(internal("row"))?,
                },
            );
        }
        // The related rows of the same children, selected by the same condition (a join, not
        // an array of every child id: that grows with the municipality and stays fast).
        let of_kids = |sql: &str| {
            format!(
                "WITH kids AS (SELECT child_id FROM vve_children c WHERE municipality = $1
                   AND EXISTS (SELECT 1 FROM vve_indications i WHERE i.child_id = c.child_id))
                 {sql}"
            )
        };
        for r in sqlx::query(&of_kids("SELECT child_id, issued_on, withdrawn_on, criteria FROM vve_indications JOIN kids USING (child_id)"))
            .bind(municipality)
            .fetch_all(&self.pool)
            .await
            .map_err(internal("monitor indications"))?
        {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let (Some(c), Some(key)) = (children.get_mut(&id), keys.get(&id)) else { continue };
            c.indications.push(IndicationRecord {
                issued_on: r.try_get("issued_on").map_err(internal("row"))?,
                withdrawn_on: r.try_get("withdrawn_on").map_err(internal("row"))?,
                criteria: open(key, r.try_get("criteria"))?,
            });
        }
        let mut hours: HashMap<Uuid, Vec<(NaiveDate, u8)>> = HashMap::new();
        for r in sqlx::query(&of_kids("SELECT placement_id, from_on, hours_per_week FROM vve_placement_hours JOIN kids USING (child_id)"))
            .bind(municipality)
            .fetch_all(&self.pool)
            .await
            .map_err(internal("monitor hours"))?
        {
            let h: i16 = r.try_get("hours_per_week").map_err(internal("row"))?;
            hours
                .entry(r.try_get("placement_id").map_err(internal("row"))?)
                .or_default()
                .push((r.try_get("from_on").map_err(internal("row"))?, u8::try_from(h).unwrap_or(0)));
        }
        let mut attendance: HashMap<Uuid, BTreeMap<String, u64>> = HashMap::new();
        for r in sqlx::query(&of_kids(
            "SELECT placement_id, month, hours FROM vve_attendance JOIN kids USING (child_id)",
        ))
        .bind(municipality)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("monitor attendance"))?
        {
            let h: i32 = r.try_get("hours").map_err(internal("row"))?;
            attendance
                .entry(r.try_get("placement_id").map_err(internal("row"))?)
                .or_default()
                .insert(
                    r.try_get("month").map_err(internal("row"))?,
                    u64::try_from(h).unwrap_or(0),
                );
        }
        let mut provider = Vec::new();
        for r in sqlx::query(&of_kids("SELECT child_id, placement_id, location, start_on, end_on FROM vve_placements JOIN kids USING (child_id)"))
            .bind(municipality)
            .fetch_all(&self.pool)
            .await
            .map_err(internal("monitor placements"))?
        {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let pid: Uuid = r.try_get("placement_id").map_err(internal("row"))?;
            let p = PlacementRecord {
                location: r.try_get("location").map_err(internal("row"))?,
                start_on: r.try_get("start_on").map_err(internal("row"))?,
                end_on: r.try_get("end_on").map_err(internal("row"))?,
                hours: hours.remove(&pid).unwrap_or_default(),
            };
            if let Some(c) = children.get_mut(&id) {
                provider.push((p.clone(), attendance.remove(&pid).unwrap_or_default()));
                c.placements.push(p);
            }
        }
        for r in sqlx::query(&of_kids("SELECT child_id, referred_on, waitlisted_on, accepted_on FROM vve_referrals JOIN kids USING (child_id)"))
            .bind(municipality)
            .fetch_all(&self.pool)
            .await
            .map_err(internal("monitor referrals"))?
        {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            if let Some(c) = children.get_mut(&id) {
                c.referrals.push(ReferralRecord {
                    referred_on: r.try_get("referred_on").map_err(internal("row"))?,
                    waitlisted_on: r.try_get("waitlisted_on").map_err(internal("row"))?,
                    accepted_on: r.try_get("accepted_on").map_err(internal("row"))?,
                });
            }
        }
        for r in sqlx::query(&of_kids(
            "SELECT child_id, attempted_on, outcome FROM vve_outreach JOIN kids USING (child_id)",
        ))
        .bind(municipality)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("monitor outreach"))?
        {
            let id: Uuid = r.try_get("child_id").map_err(internal("row"))?;
            let outcome: String = r.try_get("outcome").map_err(internal("row"))?;
            let Ok(outcome) =
                serde_json::from_value::<OutreachOutcome>(serde_json::Value::String(outcome))
            else {
                continue;
            };
            if let Some(c) = children.get_mut(&id) {
                c.outreach
                    .push((r.try_get("attempted_on").map_err(internal("row"))?, outcome));
            }
        }
        Ok((children.into_values().collect(), provider))
    }

    fn quarter_of(q: &MonitorQuery) -> Result<Quarter, Problem> {
        let today = Utc::now().date_naive();
        let current = Quarter::containing(today);
        let mut errors = Vec::new();
        let year = q.jaar.unwrap_or(current.year);
        let quarter = q.kwartaal.unwrap_or(current.quarter);
        if !(2000..=current.year + 1).contains(&year) {
            errors.push(kansrijk_proto::FieldError::new(
                "jaar",
                "jaar-buiten-bereik",
                "Kies een jaar vanaf 2000.",
            ));
        }
        let quarter = Quarter::new(year, quarter);
        if quarter.is_none() {
            errors.push(kansrijk_proto::FieldError::new(
                "kwartaal",
                "kwartaal-ongeldig",
                "Een kwartaal is 1, 2, 3 of 4.",
            ));
        }
        match quarter {
            Some(q) if errors.is_empty() => Ok(q),
            _ => Err(Problem::invalid(errors)),
        }
    }

    /// The quarterly monitor of the actor's municipality.
    pub async fn monitor(&self, actor: &Actor, q: MonitorQuery) -> Result<MonitorReport, Problem> {
        kansrijk_policy::require(actor, &action(names::MONITOR))?;
        let quarter = Self::quarter_of(&q)?;
        // The monitor is a pure function of the VVE read model, which changes only when a VVE
        // projection commits a batch. A computed monitor is therefore reused as long as neither
        // projection has committed since (one small query), and recomputed otherwise.
        let stamp = self.read_model_stamp().await?;
        let cache_key = (actor.municipality.clone(), quarter);
        if let Some((at, cached)) = self.reports().get(&cache_key) {
            if *at == stamp {
                return Ok(cached.clone());
            }
        }
        let (children, _) = self.monitor_children(&actor.municipality).await?;
        let computed = report(&actor.municipality, quarter, &children, &self.config);
        let mut reports = self.reports();
        if reports.len() >= REPORT_CACHE {
            reports.clear();
        }
        reports.insert(cache_key, (stamp, computed.clone()));
        Ok(computed)
    }

    fn reports(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, Quarter), (String, MonitorReport)>> {
        self.reports.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the VVE projections stand: changes with every batch either of them commits
    /// (including a rebuild, which starts their bookkeeping over).
    async fn read_model_stamp(&self) -> Result<String, Problem> {
        let stamp: Option<String> = sqlx::query_scalar(
            "SELECT string_agg(projection || ':' || last_seq || ':' || applied || ':' || updated_at, ','
                    ORDER BY projection)
             FROM projection_status WHERE projection = ANY($1)",
        )
        .bind([ChildrenProjection::NAME, ErasureProjection::NAME])
        .fetch_one(&self.pool)
        .await
        .map_err(internal("projection status"))?;
        Ok(stamp.unwrap_or_default())
    }

    /// The monitor as CSV or as the providers' XLSX workbook.
    pub async fn monitor_export(
        &self,
        actor: &Actor,
        q: MonitorQuery,
    ) -> Result<ExportFile, Problem> {
        kansrijk_policy::require(actor, &action(names::MONITOR_EXPORT))?;
        let quarter = Self::quarter_of(&q)?;
        let format = q.formaat.clone().unwrap_or_else(|| "csv".into());
        if format != "csv" && format != "xlsx" {
            return Err(Problem::invalid(vec![kansrijk_proto::FieldError::new(
                "formaat",
                "waarde-onbekend",
                "Kies csv of xlsx.",
            )]));
        }
        let (children, provider) = self.monitor_children(&actor.municipality).await?;
        let r = report(&actor.municipality, quarter, &children, &self.config);
        let base = format!(
            "vve-monitor-{}-{}-K{}",
            actor.municipality, quarter.year, quarter.quarter
        );
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        if format == "csv" {
            let csv = export::csv(&r).map_err(internal("csv export"))?;
            return Ok(ExportFile {
                bestandsnaam: format!("{base}.csv"),
                media_type: "text/csv; charset=utf-8".into(),
                inhoud: b64.encode(csv),
            });
        }
        let months = export::provider_table(
            &monitor::provider_months(&provider, quarter),
            quarter,
            &self.config,
        );
        let xlsx = export::xlsx(&r, &months).map_err(internal("xlsx export"))?;
        Ok(ExportFile {
            bestandsnaam: format!("{base}.xlsx"),
            media_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
            inhoud: b64.encode(xlsx),
        })
    }
}

/// Computes and suppresses the monitor of `quarter` (pure).
pub fn report(
    municipality: &str,
    quarter: Quarter,
    children: &[MonitorChild],
    config: &MonitorConfig,
) -> MonitorReport {
    let p = monitor::publish_quarter(children, quarter, &[], &[], config);
    let to = config.round_to.max(1);
    let round = |v: Option<u64>| v.map(|v| monitor::round_count(v, to));
    MonitorReport {
        gemeente: municipality.to_owned(),
        jaar: quarter.year,
        kwartaal: quarter.quarter,
        peildatum: quarter.reference_date(),
        drempel: config.suppression.threshold,
        afgerond_op: to,
        geindiceerd: round(p.indicated),
        bereikt: round(p.reached),
        bereikt_minder_dan16_uur: round(p.reached_under_16),
        niet_bereikt: round(p.not_reached),
        bereik_percentage: p.reach_percentage,
        mediaan_dagen_indicatie_tot_plaatsing: p.median_days_to_placement,
        plaatsingen_gestart: round(p.placements_started),
        per_wijk: TableOut::rounded(&p.by_district, to),
        per_criterium: TableOut::rounded(&p.by_criterion, to),
        per_locatie: TableOut::rounded(&p.by_location, to),
        redenen_afzien: TableOut::rounded(&p.decline_reasons, to),
        trend: TableOut::rounded(&p.trend, to),
    }
}

/// Whole months from `from` to `to` (0 when `to` is earlier).
fn whole_months(from: NaiveDate, to: NaiveDate) -> u32 {
    let months = (to.year() - from.year()) * 12 + to.month() as i32
        - from.month() as i32
        - i32::from(to.day() < from.day());
    u32::try_from(months).unwrap_or(0)
}

fn referral_out(r: &sqlx::postgres::PgRow) -> Result<ReferralOut, Problem> {
    let placed: bool = r.try_get("placed").map_err(internal("row"))?;
    let accepted: Option<NaiveDate> = r.try_get("accepted_on").map_err(internal("row"))?;
    let waitlisted: Option<NaiveDate> = r.try_get("waitlisted_on").map_err(internal("row"))?;
    let status = if placed {
        "geplaatst"
    } else if accepted.is_some() {
        "geaccepteerd"
    } else if waitlisted.is_some() {
        "wachtlijst"
    } else {
        "open"
    };
    Ok(ReferralOut {
        verwijzing_id: r.try_get("referral_id").map_err(internal("row"))?,
        lrk: r.try_get("location").map_err(internal("row"))?,
        doorverwezen_op: r.try_get("referred_on").map_err(internal("row"))?,
        status: status.into(),
        register_gecontroleerd: r.try_get("registry_checked").map_err(internal("row"))?,
        verwachte_start: r.try_get("expected_start").map_err(internal("row"))?,
    })
}

fn open<T: serde::de::DeserializeOwned>(
    key: &SubjectKey,
    raw: Result<serde_json::Value, sqlx::Error>,
) -> Result<T, Problem> {
    let raw = raw.map_err(internal("row"))?;
    let sealed: Sealed<T> = serde_json::from_value(raw).map_err(internal("sealed value"))?;
    key.open(&sealed).map_err(internal("opening sealed value"))
}

fn ep<T, F, Fut>(views: &Arc<VveViews>, f: F) -> Handler
where
    T: Serialize + 'static,
    F: Fn(Arc<VveViews>, Request) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, Problem>> + Send + 'static,
{
    let views = views.clone();
    handler(move |req| f(views.clone(), req))
}

/// The VVE query endpoints, by subject, for the views service.
pub fn endpoints(views: &Arc<VveViews>) -> Endpoints {
    let mut e = Endpoints::new();
    e.insert(
        subject(names::WORKLIST),
        ep(views, |v, req: Request| async move {
            let q: ListQuery = if req.body.is_empty() {
                ListQuery::default()
            } else {
                req.json()?
            };
            v.worklist(&req.actor, req.traceparent.as_deref(), q).await
        }),
    );
    e.insert(
        subject(names::CHILDCARE),
        ep(views, |v, req: Request| async move {
            let q: ListQuery = if req.body.is_empty() {
                ListQuery::default()
            } else {
                req.json()?
            };
            v.childcare(&req.actor, req.traceparent.as_deref(), q).await
        }),
    );
    e.insert(
        subject(names::MONITOR),
        ep(views, |v, req: Request| async move {
            let q: MonitorQuery = if req.body.is_empty() {
                MonitorQuery::default()
            } else {
                req.json()?
            };
            v.monitor(&req.actor, q).await
        }),
    );
    e.insert(
        subject(names::MONITOR_EXPORT),
        ep(views, |v, req: Request| async move {
            let q: MonitorQuery = if req.body.is_empty() {
                MonitorQuery::default()
            } else {
                req.json()?
            };
            v.monitor_export(&req.actor, q).await
        }),
    );
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn whole_months_count_only_completed_months() {
        assert_eq!(whole_months(d(2024, 3, 15), d(2026, 3, 15)), 24);
        assert_eq!(whole_months(d(2024, 3, 15), d(2026, 3, 14)), 23);
        assert_eq!(whole_months(d(2024, 12, 31), d(2025, 2, 28)), 1);
        assert_eq!(whole_months(d(2024, 1, 1), d(2025, 9, 30)), 20);
        assert_eq!(whole_months(d(2026, 1, 1), d(2025, 1, 1)), 0);
    }
}

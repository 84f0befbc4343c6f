//! Events of casework, "1 gezin 1 plan": one family's case, opened and directed by a case
//! director (youth team), with the organisations around the family, the parents' consent per
//! organisation and per part of the plan, the plan itself (strengths, concerns, network, goals
//! and actions, reviews, hours), an escalation to Veilig Thuis and the closing.
//!
//! The family is the data subject: the case's stream id is a random UUID that is also the subject
//! id of the family's key ([`crate::privacy::SubjectKind::Gezin`]). Household members, every free
//! text of the plan and the escalation's content are sealed with that key; organisation ids,
//! statuses, process dates, priorities, hours, district and municipality are plain, so that
//! routing, authorisation, consent checks and aggregates need no key.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::{OrganisationType, Purpose};
use crate::event::Event;
use crate::sealed::Sealed;

/// Stream type of a family's case.
pub const STREAM_CASE: &str = "casus";

/// Hours of case direction a case is budgeted when the case director names no other budget
/// (LEA plans: "10 uur casusregie per casus").
pub const DEFAULT_DIRECTION_BUDGET_HOURS: u16 = 10;

/// The parts of a family plan a consent can open to an organisation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum PlanPart {
    /// Who belongs to the household (names, birth dates, links to the children's records).
    Gezinsleden,
    /// What goes well.
    SterkePunten,
    /// Concerns with their priority.
    Zorgen,
    /// What the family and its network do themselves.
    Netwerk,
    /// Goals and the actions of each organisation.
    DoelenActies,
    /// Review meetings and their minutes.
    Evaluaties,
    /// Hours spent per organisation against the budget.
    Uren,
    /// The safety part: the Veilig Thuis escalation and the safety plan.
    Veiligheid,
}

impl PlanPart {
    pub const ALL: [PlanPart; 8] = [
        PlanPart::Gezinsleden,
        PlanPart::SterkePunten,
        PlanPart::Zorgen,
        PlanPart::Netwerk,
        PlanPart::DoelenActies,
        PlanPart::Evaluaties,
        PlanPart::Uren,
        PlanPart::Veiligheid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanPart::Gezinsleden => "gezinsleden",
            PlanPart::SterkePunten => "sterke-punten",
            PlanPart::Zorgen => "zorgen",
            PlanPart::Netwerk => "netwerk",
            PlanPart::DoelenActies => "doelen-acties",
            PlanPart::Evaluaties => "evaluaties",
            PlanPart::Uren => "uren",
            PlanPart::Veiligheid => "veiligheid",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A household member's place in the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MemberRole {
    Ouder,
    Verzorger,
    Kind,
    Overig,
}

/// A link from a household member to their record in another Kansrijk service, by the
/// record's pseudonymous stream id (never a BSN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordLink {
    /// The service holding the record: `vve` or `overdracht`.
    #[serde(rename = "dienst")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub service: String,
    /// The record's stream id there (for a child: the child's subject id).
    #[serde(rename = "streamId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub stream_id: Uuid,
}

/// One member of the household (sealed inside [`Household`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HouseholdMember {
    #[serde(rename = "lidId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub member_id: Uuid,
    #[serde(rename = "rol")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub role: MemberRole,
    #[serde(rename = "voornaam")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub given_name: String,
    #[serde(rename = "achternaam")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub family_name: String,
    #[serde(
        rename = "geboortedatum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub birth_date: Option<NaiveDate>,
    /// The member's record in another service, where one exists.
    #[serde(rename = "dossier", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub record: Option<RecordLink>,
}

/// The household, sealed as one value with the family's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Household {
    #[serde(rename = "leden")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub members: Vec<HouseholdMember>,
}

/// A case director opened a family's case: the start of the case's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseOpened {
    /// CBS code of the family's municipality.
    #[serde(rename = "gemeente")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub municipality: String,
    #[serde(rename = "wijk")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub district: String,
    /// The organisation that directs the case (a youth team).
    #[serde(rename = "regieOrganisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub director_organisation: String,
    /// Pairwise pseudonym of the case director (a professional, not the data subject).
    #[serde(rename = "regisseur")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub director: String,
    #[serde(rename = "geopendOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub opened_on: NaiveDate,
    /// Budgeted hours of case direction for this case.
    #[serde(rename = "urenbudgetRegie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub direction_budget_hours: u16,
    #[serde(rename = "gezin")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub household: Sealed<Household>,
}

impl Event for CaseOpened {
    const NAME: &'static str = "nl.gezinsplan.casus-geopend";
    const VERSION: u16 = 1;
}

/// An organisation joined the professionals around the family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParticipantJoined {
    #[serde(rename = "organisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation: String,
    #[serde(rename = "organisatietype")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation_type: OrganisationType,
    #[serde(rename = "toegevoegdOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub joined_on: NaiveDate,
}

impl Event for ParticipantJoined {
    const NAME: &'static str = "nl.gezinsplan.deelnemer-toegevoegd";
    const VERSION: u16 = 1;
}

/// An organisation left the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParticipantLeft {
    #[serde(rename = "organisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation: String,
    #[serde(rename = "vertrokkenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub left_on: NaiveDate,
}

impl Event for ParticipantLeft {
    const NAME: &'static str = "nl.gezinsplan.deelnemer-vertrokken";
    const VERSION: u16 = 1;
}

/// Who in the family gave a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentGiver {
    /// Both parents (or everyone with parental authority).
    Ouders,
    /// One parent with parental authority.
    Ouder,
    /// The young person (16 or older) themselves.
    Jongere,
}

/// The parents consented that an organisation sees parts of the plan, for a purpose, until a
/// date. Recorded by a professional of the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentGranted {
    #[serde(rename = "toestemmingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub consent_id: Uuid,
    /// The organisation the consent opens the plan to.
    #[serde(rename = "organisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation: String,
    #[serde(rename = "onderdelen")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub scope: Vec<PlanPart>,
    #[serde(rename = "doel")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub purpose: Purpose,
    #[serde(rename = "gegevenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub granted_on: NaiveDate,
    /// The last day the consent is valid.
    #[serde(rename = "geldigTot")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub valid_until: NaiveDate,
    #[serde(rename = "gegevenDoor")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub granted_by: ConsentGiver,
    /// The organisation of the professional who recorded it.
    #[serde(rename = "vastgelegdDoor")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub recorded_by: String,
}

impl Event for ConsentGranted {
    const NAME: &'static str = "nl.gezinsplan.toestemming-gegeven";
    const VERSION: u16 = 1;
}

/// The parents withdrew a consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentRevoked {
    #[serde(rename = "toestemmingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub consent_id: Uuid,
    #[serde(rename = "organisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation: String,
    #[serde(rename = "ingetrokkenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub revoked_on: NaiveDate,
    #[serde(rename = "vastgelegdDoor")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub recorded_by: String,
}

impl Event for ConsentRevoked {
    const NAME: &'static str = "nl.gezinsplan.toestemming-ingetrokken";
    const VERSION: u16 = 1;
}

/// What goes well in the family (replaces the earlier list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StrengthsRecorded {
    #[serde(rename = "sterkePunten")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub strengths: Sealed<Vec<String>>,
    #[serde(rename = "vastgelegdOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub recorded_on: NaiveDate,
}

impl Event for StrengthsRecorded {
    const NAME: &'static str = "nl.gezinsplan.sterke-punten-vastgelegd";
    const VERSION: u16 = 1;
}

/// Priority of a concern.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Hoog,
    Middel,
    Laag,
}

/// A concern (a problem) with its priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConcernRecorded {
    #[serde(rename = "zorgId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub concern_id: Uuid,
    #[serde(rename = "prioriteit")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub priority: Priority,
    #[serde(rename = "omschrijving")]
    #[schemars(extend("x-data-category" = "health"))]
    pub description: Sealed<String>,
    #[serde(rename = "vastgelegdOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub recorded_on: NaiveDate,
}

impl Event for ConcernRecorded {
    const NAME: &'static str = "nl.gezinsplan.zorg-vastgelegd";
    const VERSION: u16 = 1;
}

/// What the family and its network do themselves (replaces the earlier list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkRecorded {
    #[serde(rename = "inzet")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub contributions: Sealed<Vec<String>>,
    #[serde(rename = "vastgelegdOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub recorded_on: NaiveDate,
}

impl Event for NetworkRecorded {
    const NAME: &'static str = "nl.gezinsplan.netwerk-vastgelegd";
    const VERSION: u16 = 1;
}

/// A goal's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GoalStatus {
    Lopend,
    Behaald,
    NietBehaald,
    Vervallen,
}

impl GoalStatus {
    pub fn is_final(self) -> bool {
        !matches!(self, GoalStatus::Lopend)
    }
}

/// A goal of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GoalSet {
    #[serde(rename = "doelId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub goal_id: Uuid,
    /// The concern the goal answers, if any.
    #[serde(rename = "zorgId", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub concern_id: Option<Uuid>,
    #[serde(rename = "omschrijving")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub description: Sealed<String>,
    #[serde(rename = "streefdatum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub target_date: NaiveDate,
    #[serde(rename = "gesteldOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub set_on: NaiveDate,
}

impl Event for GoalSet {
    const NAME: &'static str = "nl.gezinsplan.doel-gesteld";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GoalStatusChanged {
    #[serde(rename = "doelId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub goal_id: Uuid,
    #[serde(rename = "status")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub status: GoalStatus,
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
}

impl Event for GoalStatusChanged {
    const NAME: &'static str = "nl.gezinsplan.doelstatus-gewijzigd";
    const VERSION: u16 = 1;
}

/// An action's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    Open,
    InUitvoering,
    Afgerond,
    Vervallen,
}

impl ActionStatus {
    pub fn is_final(self) -> bool {
        matches!(self, ActionStatus::Afgerond | ActionStatus::Vervallen)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InUitvoering => "in-uitvoering",
            ActionStatus::Afgerond => "afgerond",
            ActionStatus::Vervallen => "vervallen",
        }
    }
}

/// An action towards a goal, assigned to one organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionAssigned {
    #[serde(rename = "actieId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub action_id: Uuid,
    #[serde(rename = "doelId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub goal_id: Uuid,
    #[serde(rename = "organisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation: String,
    #[serde(rename = "omschrijving")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub description: Sealed<String>,
    #[serde(rename = "deadline")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub due_on: NaiveDate,
    #[serde(rename = "toegewezenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub assigned_on: NaiveDate,
}

impl Event for ActionAssigned {
    const NAME: &'static str = "nl.gezinsplan.actie-toegewezen";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionStatusChanged {
    #[serde(rename = "actieId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub action_id: Uuid,
    #[serde(rename = "status")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub status: ActionStatus,
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    /// The organisation that reported the change.
    #[serde(rename = "door")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub by: String,
}

impl Event for ActionStatusChanged {
    const NAME: &'static str = "nl.gezinsplan.actiestatus-gewijzigd";
    const VERSION: u16 = 1;
}

/// The family and the case director adopted (a version of) the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanAdopted {
    /// 1 for the first plan, then 2, 3... after each revision.
    #[serde(rename = "planversie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub plan_version: u32,
    #[serde(rename = "vastgesteldOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub adopted_on: NaiveDate,
}

impl Event for PlanAdopted {
    const NAME: &'static str = "nl.gezinsplan.plan-vastgesteld";
    const VERSION: u16 = 1;
}

/// A review meeting was planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewScheduled {
    #[serde(rename = "evaluatieId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub review_id: Uuid,
    #[serde(rename = "gepland")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub planned_on: NaiveDate,
}

impl Event for ReviewScheduled {
    const NAME: &'static str = "nl.gezinsplan.evaluatie-gepland";
    const VERSION: u16 = 1;
}

/// A review meeting was held, with its short minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewHeld {
    #[serde(rename = "evaluatieId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub review_id: Uuid,
    #[serde(rename = "gehoudenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub held_on: NaiveDate,
    #[serde(rename = "verslag")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub minutes: Sealed<String>,
}

impl Event for ReviewHeld {
    const NAME: &'static str = "nl.gezinsplan.evaluatie-gehouden";
    const VERSION: u16 = 1;
}

/// What the hours were spent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HoursKind {
    /// Case direction (counted against the case's direction budget).
    Regie,
    /// Support and treatment by a participating organisation.
    Ondersteuning,
}

/// Time an organisation spent on the case on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HoursRecorded {
    #[serde(rename = "organisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation: String,
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "minuten")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub minutes: u32,
    #[serde(rename = "soort")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kind: HoursKind,
}

impl Event for HoursRecorded {
    const NAME: &'static str = "nl.gezinsplan.uren-geregistreerd";
    const VERSION: u16 = 1;
}

/// The budget of hours of one participating organisation for this case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HoursBudgetSet {
    #[serde(rename = "organisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub organisation: String,
    #[serde(rename = "uren")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub hours: u16,
}

impl Event for HoursBudgetSet {
    const NAME: &'static str = "nl.gezinsplan.urenbudget-vastgesteld";
    const VERSION: u16 = 1;
}

/// The case was reported to Veilig Thuis. The safety part opens to the escalation's parties
/// without consent (Wet meldcode / art. 5.2.6 Wmo 2015); every read of it is logged as a
/// break-glass access, and the family's data is under a legal hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EscalatedToVeiligThuis {
    #[serde(rename = "meldingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub escalation_id: Uuid,
    #[serde(rename = "gemeldOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reported_on: NaiveDate,
    /// The organisation that made the report.
    #[serde(rename = "gemeldDoor")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reported_by: String,
    /// Organisations involved in the escalation; they see the safety part.
    #[serde(rename = "partijen")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub parties: Vec<String>,
    /// Legal ground code, e.g. `meldcode-afweging-5`.
    #[serde(rename = "grondslag")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub legal_ground: String,
    /// What was reported.
    #[serde(rename = "melding")]
    #[schemars(extend("x-data-category" = "safety"))]
    pub report: Sealed<String>,
}

impl Event for EscalatedToVeiligThuis {
    const NAME: &'static str = "nl.gezinsplan.veilig-thuis-gemeld";
    const VERSION: u16 = 1;
}

/// The safety plan (replaces the earlier one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SafetyPlanRecorded {
    #[serde(rename = "veiligheidsplan")]
    #[schemars(extend("x-data-category" = "safety"))]
    pub plan: Sealed<Vec<String>>,
    #[serde(rename = "vastgelegdOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub recorded_on: NaiveDate,
}

impl Event for SafetyPlanRecorded {
    const NAME: &'static str = "nl.gezinsplan.veiligheidsplan-vastgelegd";
    const VERSION: u16 = 1;
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CaseOutcome {
    /// The goals were reached.
    DoelenBehaald,
    /// Handed over to specialised care or another case director.
    Overgedragen,
    /// The family moved out of the municipality.
    Verhuisd,
    /// The family stopped.
    GestoptDoorGezin,
    /// Closed after the Veilig Thuis escalation took over.
    OvergenomenDoorVeiligThuis,
    Overig,
}

/// The case was closed; the retention period of the case's data starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseClosed {
    #[serde(rename = "geslotenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub closed_on: NaiveDate,
    #[serde(rename = "uitkomst")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub outcome: CaseOutcome,
    #[serde(
        rename = "toelichting",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub note: Option<Sealed<String>>,
}

impl Event for CaseClosed {
    const NAME: &'static str = "nl.gezinsplan.casus-gesloten";
    const VERSION: u16 = 1;
}

crate::event_set! {
    /// Events of a family's case.
    pub enum CaseEvent: "casus" {
        Opened(CaseOpened),
        ParticipantJoined(ParticipantJoined),
        ParticipantLeft(ParticipantLeft),
        ConsentGranted(ConsentGranted),
        ConsentRevoked(ConsentRevoked),
        StrengthsRecorded(StrengthsRecorded),
        ConcernRecorded(ConcernRecorded),
        NetworkRecorded(NetworkRecorded),
        GoalSet(GoalSet),
        GoalStatusChanged(GoalStatusChanged),
        ActionAssigned(ActionAssigned),
        ActionStatusChanged(ActionStatusChanged),
        PlanAdopted(PlanAdopted),
        ReviewScheduled(ReviewScheduled),
        ReviewHeld(ReviewHeld),
        HoursRecorded(HoursRecorded),
        HoursBudgetSet(HoursBudgetSet),
        Escalated(EscalatedToVeiligThuis),
        SafetyPlanRecorded(SafetyPlanRecorded),
        Closed(CaseClosed),
    }
    upcasters = &[];
}

impl CaseEvent {
    /// The part of the plan an event's content belongs to; `None` for the case's frame
    /// (opening, participants, consents, plan adoption, closing), which is administrative.
    pub fn plan_part(&self) -> Option<PlanPart> {
        match self {
            CaseEvent::Opened(_) => Some(PlanPart::Gezinsleden),
            CaseEvent::StrengthsRecorded(_) => Some(PlanPart::SterkePunten),
            CaseEvent::ConcernRecorded(_) => Some(PlanPart::Zorgen),
            CaseEvent::NetworkRecorded(_) => Some(PlanPart::Netwerk),
            CaseEvent::GoalSet(_)
            | CaseEvent::GoalStatusChanged(_)
            | CaseEvent::ActionAssigned(_)
            | CaseEvent::ActionStatusChanged(_) => Some(PlanPart::DoelenActies),
            CaseEvent::ReviewScheduled(_) | CaseEvent::ReviewHeld(_) => Some(PlanPart::Evaluaties),
            CaseEvent::HoursRecorded(_) | CaseEvent::HoursBudgetSet(_) => Some(PlanPart::Uren),
            CaseEvent::Escalated(_) | CaseEvent::SafetyPlanRecorded(_) => {
                Some(PlanPart::Veiligheid)
            }
            CaseEvent::ParticipantJoined(_)
            | CaseEvent::ParticipantLeft(_)
            | CaseEvent::ConsentGranted(_)
            | CaseEvent::ConsentRevoked(_)
            | CaseEvent::PlanAdopted(_)
            | CaseEvent::Closed(_) => None,
        }
    }
}

fn example_sealed<T>(n: u128) -> Sealed<T> {
    Sealed::new(
        "AES-256-GCM-SIV".into(),
        Uuid::from_u128(0x0192_0000_0000_4000_8000_0000_0000_0c01),
        1,
        "AAAAAAAAAAAAAAAA".into(),
        format!("c2VhbGVk{n:04}"),
    )
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// One example of every case event, for the wire snapshots.
pub fn examples() -> Vec<CaseEvent> {
    let youth_team = "00000001823288444000";
    let school = "12AB00";
    let goal = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0c10);
    let concern = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0c20);
    let action = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0c30);
    let consent = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0c40);
    let review = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0c50);
    vec![
        CaseOpened {
            municipality: "0546".into(),
            district: "Leiden-Noord".into(),
            director_organisation: youth_team.into(),
            director: "regisseur-pseudoniem-1".into(),
            opened_on: example_date("2026-01-12"),
            direction_budget_hours: DEFAULT_DIRECTION_BUDGET_HOURS,
            household: example_sealed(1),
        }
        .into(),
        ParticipantJoined {
            organisation: school.into(),
            organisation_type: OrganisationType::Basisschool,
            joined_on: example_date("2026-01-13"),
        }
        .into(),
        ParticipantLeft {
            organisation: school.into(),
            left_on: example_date("2026-07-01"),
        }
        .into(),
        ConsentGranted {
            consent_id: consent,
            organisation: school.into(),
            scope: vec![PlanPart::SterkePunten, PlanPart::DoelenActies],
            purpose: Purpose::Casusregie,
            granted_on: example_date("2026-01-13"),
            valid_until: example_date("2027-01-12"),
            granted_by: ConsentGiver::Ouders,
            recorded_by: youth_team.into(),
        }
        .into(),
        ConsentRevoked {
            consent_id: consent,
            organisation: school.into(),
            revoked_on: example_date("2026-03-01"),
            recorded_by: youth_team.into(),
        }
        .into(),
        StrengthsRecorded {
            strengths: example_sealed(2),
            recorded_on: example_date("2026-01-20"),
        }
        .into(),
        ConcernRecorded {
            concern_id: concern,
            priority: Priority::Hoog,
            description: example_sealed(3),
            recorded_on: example_date("2026-01-20"),
        }
        .into(),
        NetworkRecorded {
            contributions: example_sealed(4),
            recorded_on: example_date("2026-01-20"),
        }
        .into(),
        GoalSet {
            goal_id: goal,
            concern_id: Some(concern),
            description: example_sealed(5),
            target_date: example_date("2026-07-01"),
            set_on: example_date("2026-01-20"),
        }
        .into(),
        GoalStatusChanged {
            goal_id: goal,
            status: GoalStatus::Behaald,
            on: example_date("2026-06-20"),
        }
        .into(),
        ActionAssigned {
            action_id: action,
            goal_id: goal,
            organisation: school.into(),
            description: example_sealed(6),
            due_on: example_date("2026-03-01"),
            assigned_on: example_date("2026-01-20"),
        }
        .into(),
        ActionStatusChanged {
            action_id: action,
            status: ActionStatus::Afgerond,
            on: example_date("2026-02-27"),
            by: school.into(),
        }
        .into(),
        PlanAdopted {
            plan_version: 1,
            adopted_on: example_date("2026-01-27"),
        }
        .into(),
        ReviewScheduled {
            review_id: review,
            planned_on: example_date("2026-09-01"),
        }
        .into(),
        ReviewHeld {
            review_id: review,
            held_on: example_date("2026-09-01"),
            minutes: example_sealed(7),
        }
        .into(),
        HoursRecorded {
            organisation: youth_team.into(),
            on: example_date("2026-01-20"),
            minutes: 90,
            kind: HoursKind::Regie,
        }
        .into(),
        HoursBudgetSet {
            organisation: school.into(),
            hours: 4,
        }
        .into(),
        EscalatedToVeiligThuis {
            escalation_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0c60),
            reported_on: example_date("2026-04-02"),
            reported_by: youth_team.into(),
            parties: vec![youth_team.into(), school.into()],
            legal_ground: "meldcode-afweging-5".into(),
            report: example_sealed(8),
        }
        .into(),
        SafetyPlanRecorded {
            plan: example_sealed(9),
            recorded_on: example_date("2026-04-03"),
        }
        .into(),
        CaseClosed {
            closed_on: example_date("2026-12-15"),
            outcome: CaseOutcome::DoelenBehaald,
            note: Some(example_sealed(10)),
        }
        .into(),
    ]
}

// ---------------------------------------------------------------------------------------------
// NATS subjects of the casework service's commands and of the casework views.
// ---------------------------------------------------------------------------------------------

/// Command subjects (`kansrijk.cmd.casework.<name>`) and query subjects
/// (`kansrijk.qry.casework.<name>`). The policy action of each is `casework.<name>`.
pub mod subjects {
    /// The service name: subject token, relay name, `Source` system suffix.
    pub const SERVICE: &str = "casework";

    pub const OPEN_CASE: &str = "kansrijk.cmd.casework.casus-openen";
    pub const ADD_PARTICIPANT: &str = "kansrijk.cmd.casework.deelnemer-toevoegen";
    pub const REMOVE_PARTICIPANT: &str = "kansrijk.cmd.casework.deelnemer-verwijderen";
    pub const GRANT_CONSENT: &str = "kansrijk.cmd.casework.toestemming-registreren";
    pub const REVOKE_CONSENT: &str = "kansrijk.cmd.casework.toestemming-intrekken";
    pub const RECORD_STRENGTHS: &str = "kansrijk.cmd.casework.sterke-punten-vastleggen";
    pub const RECORD_CONCERN: &str = "kansrijk.cmd.casework.zorg-vastleggen";
    pub const RECORD_NETWORK: &str = "kansrijk.cmd.casework.netwerk-vastleggen";
    pub const SET_GOAL: &str = "kansrijk.cmd.casework.doel-stellen";
    pub const CHANGE_GOAL_STATUS: &str = "kansrijk.cmd.casework.doelstatus-wijzigen";
    pub const ASSIGN_ACTION: &str = "kansrijk.cmd.casework.actie-toewijzen";
    pub const CHANGE_ACTION_STATUS: &str = "kansrijk.cmd.casework.actiestatus-wijzigen";
    pub const ADOPT_PLAN: &str = "kansrijk.cmd.casework.plan-vaststellen";
    pub const SCHEDULE_REVIEW: &str = "kansrijk.cmd.casework.evaluatie-plannen";
    pub const RECORD_REVIEW: &str = "kansrijk.cmd.casework.evaluatie-vastleggen";
    pub const RECORD_HOURS: &str = "kansrijk.cmd.casework.uren-registreren";
    pub const SET_HOURS_BUDGET: &str = "kansrijk.cmd.casework.urenbudget-vaststellen";
    pub const ESCALATE: &str = "kansrijk.cmd.casework.veilig-thuis-melden";
    pub const RECORD_SAFETY_PLAN: &str = "kansrijk.cmd.casework.veiligheidsplan-vastleggen";
    pub const CLOSE_CASE: &str = "kansrijk.cmd.casework.casus-sluiten";

    /// Every command subject.
    pub const COMMANDS: [&str; 20] = [
        OPEN_CASE,
        ADD_PARTICIPANT,
        REMOVE_PARTICIPANT,
        GRANT_CONSENT,
        REVOKE_CONSENT,
        RECORD_STRENGTHS,
        RECORD_CONCERN,
        RECORD_NETWORK,
        SET_GOAL,
        CHANGE_GOAL_STATUS,
        ASSIGN_ACTION,
        CHANGE_ACTION_STATUS,
        ADOPT_PLAN,
        SCHEDULE_REVIEW,
        RECORD_REVIEW,
        RECORD_HOURS,
        SET_HOURS_BUDGET,
        ESCALATE,
        RECORD_SAFETY_PLAN,
        CLOSE_CASE,
    ];

    /// The case director's caseload.
    pub const QUERY_CASELOAD: &str = "kansrijk.qry.casework.werklijst";
    /// The actions assigned to the caller's organisation.
    pub const QUERY_ACTIONS: &str = "kansrijk.qry.casework.acties";
    /// One case as the caller's organisation may see it.
    pub const QUERY_CASE: &str = "kansrijk.qry.casework.casus";
    /// The municipality's aggregates.
    pub const QUERY_MONITOR: &str = "kansrijk.qry.casework.monitor";

    /// The policy action (`casework.<name>`) of a command or query subject.
    pub fn action(subject: &str) -> Option<String> {
        let rest = subject
            .strip_prefix("kansrijk.cmd.casework.")
            .or_else(|| subject.strip_prefix("kansrijk.qry.casework."))?;
        Some(format!("casework.{rest}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_parts_round_trip() {
        for p in PlanPart::ALL {
            assert_eq!(PlanPart::parse(p.as_str()), Some(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::from(p.as_str())
            );
        }
    }

    #[test]
    fn subjects_follow_the_naming_scheme() {
        use crate::subject::{command, query};
        assert_eq!(subjects::OPEN_CASE, command("casework", "casus-openen"));
        assert_eq!(subjects::QUERY_CASE, query("casework.casus"));
        for s in subjects::COMMANDS {
            let action = subjects::action(s).unwrap();
            assert!(action.starts_with("casework."));
            assert!(!s.contains('*') && !s.contains('>'));
        }
        assert_eq!(
            subjects::action(subjects::QUERY_MONITOR).as_deref(),
            Some("casework.monitor")
        );
    }
}

//! Request bodies of the casework commands (JSON, camelCase Dutch field names). Subjects are in
//! [`kansrijk_proto::casework::subjects`]; every command replies
//! [`kansrijk_proto::command::CommandAccepted`] (the case id is its `streamId`) or a problem.
//!
//! Ids of new things (case, consent, concern, goal, action, review, escalation) may be given by
//! the caller, so that it knows them at once; when absent the service generates them and the
//! views show them.

use chrono::NaiveDate;
use kansrijk_proto::actor::{OrganisationType, Purpose};
use kansrijk_proto::casework::{
    ActionStatus, CaseOutcome, ConsentGiver, GoalStatus, HoursKind, MemberRole, PlanPart, Priority,
    RecordLink,
};
use kansrijk_proto::problem::FieldError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest single free text (a concern, a goal, an action, one strength).
pub const MAX_TEXT: usize = 1000;
/// Longest minutes of a review ("short minutes").
pub const MAX_MINUTES_TEXT: usize = 4000;
/// Most items in a list (strengths, network contributions, safety plan).
pub const MAX_ITEMS: usize = 30;
/// Most household members.
pub const MAX_MEMBERS: usize = 20;
/// Most parties of a Veilig Thuis report, and most parts in one consent.
pub const MAX_PARTIES: usize = 20;

/// One household member in [`OpenCase`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberInput {
    pub rol: MemberRole,
    pub voornaam: String,
    pub achternaam: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geboortedatum: Option<NaiveDate>,
    /// The member's record in `vve` or `overdracht`, by its stream id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dossier: Option<RecordLink>,
}

/// `kansrijk.cmd.casework.casus-openen` (youth team). The actor's organisation directs the case;
/// the municipality is the actor's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenCase {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub casus_id: Option<Uuid>,
    pub wijk: String,
    pub geopend_op: NaiveDate,
    /// Hours of case direction; default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urenbudget_regie: Option<u16>,
    #[schemars(length(max = MAX_MEMBERS))]
    pub gezinsleden: Vec<MemberInput>,
}

/// `deelnemer-toevoegen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddParticipant {
    pub casus_id: Uuid,
    pub organisatie: String,
    pub organisatietype: OrganisationType,
    pub datum: NaiveDate,
}

/// `deelnemer-verwijderen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoveParticipant {
    pub casus_id: Uuid,
    pub organisatie: String,
    pub datum: NaiveDate,
}

/// `toestemming-registreren`: the parents' consent, recorded by the case director.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantConsent {
    pub casus_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toestemming_id: Option<Uuid>,
    pub organisatie: String,
    #[schemars(length(max = MAX_PARTIES))]
    pub onderdelen: Vec<PlanPart>,
    /// Default `casusregie`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doel: Option<Purpose>,
    pub gegeven_op: NaiveDate,
    /// The last valid day (at most two years after `gegevenOp`).
    pub geldig_tot: NaiveDate,
    pub gegeven_door: ConsentGiver,
}

/// `toestemming-intrekken`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeConsent {
    pub casus_id: Uuid,
    pub toestemming_id: Uuid,
    pub ingetrokken_op: NaiveDate,
}

/// `sterke-punten-vastleggen` (replaces the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordStrengths {
    pub casus_id: Uuid,
    #[schemars(length(max = MAX_ITEMS))]
    pub sterke_punten: Vec<String>,
    pub vastgelegd_op: NaiveDate,
}

/// `zorg-vastleggen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordConcern {
    pub casus_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zorg_id: Option<Uuid>,
    pub prioriteit: Priority,
    #[schemars(extend("x-meerregelig" = true))]
    pub omschrijving: String,
    pub vastgelegd_op: NaiveDate,
}

/// `netwerk-vastleggen` (replaces the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordNetwork {
    pub casus_id: Uuid,
    #[schemars(length(max = MAX_ITEMS))]
    pub inzet: Vec<String>,
    pub vastgelegd_op: NaiveDate,
}

/// `doel-stellen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetGoal {
    pub casus_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doel_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zorg_id: Option<Uuid>,
    #[schemars(extend("x-meerregelig" = true))]
    pub omschrijving: String,
    pub streefdatum: NaiveDate,
    pub gesteld_op: NaiveDate,
}

/// `doelstatus-wijzigen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeGoalStatus {
    pub casus_id: Uuid,
    pub doel_id: Uuid,
    pub status: GoalStatus,
    pub datum: NaiveDate,
}

/// `actie-toewijzen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignAction {
    pub casus_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actie_id: Option<Uuid>,
    pub doel_id: Uuid,
    pub organisatie: String,
    #[schemars(extend("x-meerregelig" = true))]
    pub omschrijving: String,
    pub deadline: NaiveDate,
    pub toegewezen_op: NaiveDate,
}

/// `actiestatus-wijzigen` (the action's organisation or the case director).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeActionStatus {
    pub casus_id: Uuid,
    pub actie_id: Uuid,
    pub status: ActionStatus,
    pub datum: NaiveDate,
}

/// `plan-vaststellen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdoptPlan {
    pub casus_id: Uuid,
    pub vastgesteld_op: NaiveDate,
}

/// `evaluatie-plannen` (a known `evaluatieId` that was not held yet is moved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleReview {
    pub casus_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluatie_id: Option<Uuid>,
    pub gepland: NaiveDate,
}

/// `evaluatie-vastleggen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordReview {
    pub casus_id: Uuid,
    pub evaluatie_id: Uuid,
    pub gehouden_op: NaiveDate,
    #[schemars(extend("x-meerregelig" = true))]
    pub verslag: String,
}

/// `uren-registreren`: the actor's own organisation's time on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordHours {
    pub casus_id: Uuid,
    pub datum: NaiveDate,
    pub minuten: u32,
    pub soort: HoursKind,
}

/// `urenbudget-vaststellen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetHoursBudget {
    pub casus_id: Uuid,
    pub organisatie: String,
    pub uren: u16,
}

/// `veilig-thuis-melden`. The reporter and the case director are always parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Escalate {
    pub casus_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub melding_id: Option<Uuid>,
    pub gemeld_op: NaiveDate,
    #[serde(default)]
    #[schemars(length(max = MAX_PARTIES))]
    pub partijen: Vec<String>,
    /// One of [`crate::domain::case::LEGAL_GROUNDS`].
    pub grondslag: String,
    #[schemars(extend("x-meerregelig" = true))]
    pub melding: String,
}

/// `veiligheidsplan-vastleggen` (replaces the plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordSafetyPlan {
    pub casus_id: Uuid,
    #[schemars(length(max = MAX_ITEMS))]
    pub veiligheidsplan: Vec<String>,
    pub vastgelegd_op: NaiveDate,
}

/// `casus-sluiten`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloseCase {
    pub casus_id: Uuid,
    pub gesloten_op: NaiveDate,
    pub uitkomst: CaseOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-meerregelig" = true))]
    pub toelichting: Option<String>,
}

/// Checks a free text: not blank, at most `max` characters.
pub fn check_text(errors: &mut Vec<FieldError>, field: &str, text: &str, max: usize) {
    if text.trim().is_empty() {
        errors.push(FieldError::new(
            field,
            "verplicht",
            "Dit veld is verplicht.",
        ));
    } else if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            "te-lang",
            format!("Dit veld heeft hoogstens {max} tekens."),
        ));
    }
}

/// Checks a list of free texts: 1 to [`MAX_ITEMS`] items, each a valid text.
pub fn check_list(errors: &mut Vec<FieldError>, field: &str, items: &[String]) {
    if items.is_empty() || items.len() > MAX_ITEMS {
        errors.push(FieldError::new(
            field,
            "aantal-buiten-bereik",
            format!("Noem 1 tot {MAX_ITEMS} punten."),
        ));
    }
    for (i, t) in items.iter().enumerate() {
        check_text(errors, &format!("{field}[{i}]"), t, MAX_TEXT);
    }
}

/// Checks the household of a new case.
pub fn check_members(errors: &mut Vec<FieldError>, members: &[MemberInput]) {
    if members.is_empty() || members.len() > MAX_MEMBERS {
        errors.push(FieldError::new(
            "gezinsleden",
            "aantal-buiten-bereik",
            format!("Noem 1 tot {MAX_MEMBERS} gezinsleden."),
        ));
    }
    if !members.iter().any(|m| m.rol == MemberRole::Kind) {
        errors.push(FieldError::new(
            "gezinsleden",
            "geen-kind",
            "Een gezinsplan gaat over een gezin met ten minste een kind.",
        ));
    }
    for (i, m) in members.iter().enumerate() {
        check_text(
            errors,
            &format!("gezinsleden[{i}].voornaam"),
            &m.voornaam,
            100,
        );
        check_text(
            errors,
            &format!("gezinsleden[{i}].achternaam"),
            &m.achternaam,
            100,
        );
        if let Some(link) = &m.dossier {
            if !matches!(link.service.as_str(), "vve" | "overdracht") {
                errors.push(FieldError::new(
                    format!("gezinsleden[{i}].dossier.dienst"),
                    "dienst-onbekend",
                    "Een dossier staat bij de dienst vve of overdracht.",
                ));
            }
        }
    }
}

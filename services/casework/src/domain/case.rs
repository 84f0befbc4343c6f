//! A family's case as a state machine: pure decisions over the case's events.
//!
//! `decide(case, command, ctx)` returns the new events or a [`DomainError`]; `Case::apply` folds
//! an event into the state. No I/O: the handler loads the stream, seals the personal parts of a
//! command with the family's key, decides, and appends what `decide` returns.
//!
//! Lifecycles:
//! - the case: not opened → open → closed (final);
//! - a participant: joined → left (may join again);
//! - a consent: granted → revoked, or expired by date (see [`super::consent`]);
//! - a goal: lopend → behaald | niet-behaald | vervallen (final);
//! - an action: open → in-uitvoering → afgerond | vervallen (final; never back);
//! - a review: planned (6 to 10 months after the plan or the last review) → held.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, Months, NaiveDate};
use kansrijk_proto::actor::{OrganisationType, Purpose};
use kansrijk_proto::casework::{
    ActionAssigned, ActionStatus, ActionStatusChanged, CaseClosed, CaseEvent, CaseOpened,
    CaseOutcome, ConcernRecorded, ConsentGiver, ConsentGranted, ConsentRevoked,
    EscalatedToVeiligThuis, GoalSet, GoalStatus, GoalStatusChanged, HoursBudgetSet, HoursKind,
    HoursRecorded, Household, NetworkRecorded, ParticipantJoined, ParticipantLeft, PlanAdopted,
    PlanPart, Priority, ReviewHeld, ReviewScheduled, SafetyPlanRecorded, StrengthsRecorded,
};
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::sealed::Sealed;
use uuid::Uuid;

use super::consent::{self, Consent, MAX_CONSENT_MONTHS};

/// A review is held at the earliest this many months after the plan or the previous review.
pub const REVIEW_MIN_MONTHS: u32 = 6;
/// ... and at the latest this many months after it; later, it is overdue.
pub const REVIEW_MAX_MONTHS: u32 = 10;
/// Most minutes one organisation records for one day.
pub const MAX_MINUTES_PER_DAY: u32 = 12 * 60;
/// Most budgeted hours for one organisation in one case.
pub const MAX_BUDGET_HOURS: u16 = 500;
/// Recorded facts may lie at most this far ahead (time zones).
pub const FACT_HORIZON_DAYS: u64 = 1;
/// Planned dates (targets, deadlines, reviews) may lie at most this far ahead.
pub const PLANNING_HORIZON_MONTHS: u32 = 24;
/// Legal grounds an escalation to Veilig Thuis may name.
pub const LEGAL_GROUNDS: &[&str] = &[
    "meldcode-afweging-5",
    "acute-onveiligheid",
    "structurele-onveiligheid",
    "vermoeden-kindermishandeling",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub municipality: String,
    pub district: String,
    pub director_organisation: String,
    pub director: String,
    pub opened_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub organisation_type: OrganisationType,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
}

impl Participant {
    pub fn is_active(&self) -> bool {
        self.left_on.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub goal_id: Uuid,
    pub organisation: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub planned_on: NaiveDate,
    pub held_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub reported_on: NaiveDate,
    pub parties: BTreeSet<String>,
}

/// Everything the decisions need to know about one case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Case {
    /// The stream version (number of events applied).
    pub version: i64,
    pub opened: Option<Opened>,
    pub participants: BTreeMap<String, Participant>,
    pub consents: BTreeMap<Uuid, Consent>,
    pub concerns: BTreeSet<Uuid>,
    pub goals: BTreeMap<Uuid, GoalStatus>,
    pub actions: BTreeMap<Uuid, Action>,
    /// Versions adopted so far (0: no plan yet).
    pub plan_version: u32,
    pub first_plan_on: Option<NaiveDate>,
    pub reviews: BTreeMap<Uuid, Review>,
    pub last_review_held_on: Option<NaiveDate>,
    /// Budgeted hours per organisation (the director's organisation: case direction).
    pub budgets: BTreeMap<String, u16>,
    /// Minutes recorded per organisation.
    pub minutes: BTreeMap<String, u64>,
    pub escalations: BTreeMap<Uuid, Escalation>,
    pub closed: Option<(NaiveDate, CaseOutcome)>,
}

/// A decision to take. Personal parts come sealed (the handler seals them with the family key).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Open {
        municipality: String,
        district: String,
        opened_on: NaiveDate,
        direction_budget_hours: u16,
        household: Sealed<Household>,
    },
    AddParticipant {
        organisation: String,
        organisation_type: OrganisationType,
        joined_on: NaiveDate,
    },
    RemoveParticipant {
        organisation: String,
        left_on: NaiveDate,
    },
    GrantConsent {
        consent_id: Uuid,
        organisation: String,
        scope: Vec<PlanPart>,
        purpose: Purpose,
        granted_on: NaiveDate,
        valid_until: NaiveDate,
        granted_by: ConsentGiver,
    },
    RevokeConsent {
        consent_id: Uuid,
        revoked_on: NaiveDate,
    },
    RecordStrengths {
        strengths: Sealed<Vec<String>>,
        recorded_on: NaiveDate,
    },
    RecordConcern {
        concern_id: Uuid,
        priority: Priority,
        description: Sealed<String>,
        recorded_on: NaiveDate,
    },
    RecordNetwork {
        contributions: Sealed<Vec<String>>,
        recorded_on: NaiveDate,
    },
    SetGoal {
        goal_id: Uuid,
        concern_id: Option<Uuid>,
        description: Sealed<String>,
        target_date: NaiveDate,
        set_on: NaiveDate,
    },
    ChangeGoalStatus {
        goal_id: Uuid,
        status: GoalStatus,
        on: NaiveDate,
    },
    AssignAction {
        action_id: Uuid,
        goal_id: Uuid,
        organisation: String,
        description: Sealed<String>,
        due_on: NaiveDate,
        assigned_on: NaiveDate,
    },
    ChangeActionStatus {
        action_id: Uuid,
        status: ActionStatus,
        on: NaiveDate,
    },
    AdoptPlan {
        adopted_on: NaiveDate,
    },
    ScheduleReview {
        review_id: Uuid,
        planned_on: NaiveDate,
    },
    RecordReview {
        review_id: Uuid,
        held_on: NaiveDate,
        minutes: Sealed<String>,
    },
    RecordHours {
        on: NaiveDate,
        minutes: u32,
        kind: HoursKind,
    },
    SetHoursBudget {
        organisation: String,
        hours: u16,
    },
    Escalate {
        escalation_id: Uuid,
        reported_on: NaiveDate,
        parties: Vec<String>,
        legal_ground: String,
        report: Sealed<String>,
    },
    RecordSafetyPlan {
        plan: Sealed<Vec<String>>,
        recorded_on: NaiveDate,
    },
    Close {
        closed_on: NaiveDate,
        outcome: CaseOutcome,
        note: Option<Sealed<String>>,
    },
}

/// What the decision may know besides the state: the day and the acting professional.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub today: NaiveDate,
    /// The acting organisation's id.
    pub organisation: &'a str,
    pub organisation_type: OrganisationType,
    /// Pairwise pseudonym of the acting professional.
    pub person: &'a str,
    /// The actor's municipality (CBS code).
    pub municipality: &'a str,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// 400: invalid input, every field at once.
    Invalid(Vec<FieldError>),
    /// 409: the case's state does not allow it.
    Conflict {
        code: &'static str,
        detail: &'static str,
    },
    /// 403: not this organisation's to do.
    Forbidden(&'static str),
    /// 404: the case (or a goal, action, consent, review in it) does not exist.
    NotFound(&'static str),
}

impl DomainError {
    pub fn to_problem(&self) -> Problem {
        match self {
            DomainError::Invalid(errors) => Problem::invalid(errors.clone()),
            DomainError::Conflict { code, detail } => Problem::conflict(code, *detail),
            DomainError::Forbidden(detail) => Problem::forbidden(*detail),
            DomainError::NotFound(detail) => Problem::not_found(*detail),
        }
    }
}

fn conflict(code: &'static str, detail: &'static str) -> DomainError {
    DomainError::Conflict { code, detail }
}

fn invalid_if_any(errors: Vec<FieldError>) -> Result<(), DomainError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(errors))
    }
}

/// Field checks shared by request parsing and decisions.
pub mod check {
    use super::*;

    /// A recorded fact: not ahead of today (beyond a day), not before `earliest`.
    pub fn fact_date(
        errors: &mut Vec<FieldError>,
        field: &str,
        d: NaiveDate,
        earliest: NaiveDate,
        today: NaiveDate,
    ) {
        if d > today + Days::new(FACT_HORIZON_DAYS) {
            errors.push(FieldError::new(
                field,
                "datum-in-toekomst",
                "Deze datum ligt in de toekomst.",
            ));
        } else if d < earliest {
            errors.push(FieldError::new(
                field,
                "datum-voor-start",
                "Deze datum ligt voor de opening van de casus.",
            ));
        }
    }

    /// A planned date: not before `earliest`, at most two years ahead.
    pub fn planned_date(
        errors: &mut Vec<FieldError>,
        field: &str,
        d: NaiveDate,
        earliest: NaiveDate,
        today: NaiveDate,
    ) {
        let latest = today
            .checked_add_months(Months::new(PLANNING_HORIZON_MONTHS))
            .unwrap_or(NaiveDate::MAX);
        if d < earliest || d > latest {
            errors.push(FieldError::new(
                field,
                "datum-buiten-horizon",
                "Deze datum ligt te vroeg of meer dan twee jaar vooruit.",
            ));
        }
    }

    /// An organisation id as the registry knows them: 4 to 20 letters and digits.
    pub fn organisation(errors: &mut Vec<FieldError>, field: &str, org: &str) {
        if !is_organisation(org) {
            errors.push(FieldError::new(
                field,
                "organisatie-ongeldig",
                "Een organisatie wordt aangeduid met haar OIN, KvK-, BRIN- of LRK-nummer.",
            ));
        }
    }

    pub fn is_organisation(org: &str) -> bool {
        (4..=20).contains(&org.len()) && org.bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

impl Case {
    /// Folds a whole stream.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a CaseEvent>) -> Case {
        let mut c = Case::default();
        for e in events {
            c.apply(e);
        }
        c
    }

    pub fn exists(&self) -> bool {
        self.opened.is_some()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    pub fn is_director(&self, organisation: &str) -> bool {
        self.opened
            .as_ref()
            .is_some_and(|o| o.director_organisation == organisation)
    }

    pub fn is_active_participant(&self, organisation: &str) -> bool {
        self.participants
            .get(organisation)
            .is_some_and(Participant::is_active)
    }

    /// The director's organisation or an active participant.
    pub fn is_involved(&self, organisation: &str) -> bool {
        self.is_director(organisation) || self.is_active_participant(organisation)
    }

    /// The parts of the plan `organisation` may see on `on` for `purpose`: everything for the
    /// director's organisation; for an active participant what its valid consents cover, plus
    /// the safety part when it is a party to an escalation (the legal exception); nothing else.
    pub fn visible_parts(
        &self,
        organisation: &str,
        purpose: Purpose,
        on: NaiveDate,
    ) -> BTreeSet<PlanPart> {
        if self.is_director(organisation) {
            return PlanPart::ALL.into_iter().collect();
        }
        let mut parts = BTreeSet::new();
        if self.is_active_participant(organisation) {
            parts = consent::consented_parts(self.consents.values(), organisation, purpose, on);
        }
        if self.is_escalation_party(organisation) {
            parts.insert(PlanPart::Veiligheid);
        }
        parts
    }

    pub fn is_escalation_party(&self, organisation: &str) -> bool {
        self.escalations
            .values()
            .any(|e| e.parties.contains(organisation))
    }

    /// The reference day of the next review: the last review held, else the first plan.
    pub fn review_reference(&self) -> Option<NaiveDate> {
        self.last_review_held_on.or(self.first_plan_on)
    }

    /// The latest day the next review is due (reference + 10 months).
    pub fn next_review_due(&self) -> Option<NaiveDate> {
        self.review_reference()
            .and_then(|r| r.checked_add_months(Months::new(REVIEW_MAX_MONTHS)))
    }

    pub fn apply(&mut self, event: &CaseEvent) {
        self.version += 1;
        match event {
            CaseEvent::Opened(e) => {
                self.opened = Some(Opened {
                    municipality: e.municipality.clone(),
                    district: e.district.clone(),
                    director_organisation: e.director_organisation.clone(),
                    director: e.director.clone(),
                    opened_on: e.opened_on,
                });
                self.budgets
                    .insert(e.director_organisation.clone(), e.direction_budget_hours);
            }
            CaseEvent::ParticipantJoined(e) => {
                self.participants.insert(
                    e.organisation.clone(),
                    Participant {
                        organisation_type: e.organisation_type,
                        joined_on: e.joined_on,
                        left_on: None,
                    },
                );
            }
            CaseEvent::ParticipantLeft(e) => {
                if let Some(p) = self.participants.get_mut(&e.organisation) {
                    p.left_on = Some(e.left_on);
                }
            }
            CaseEvent::ConsentGranted(e) => {
                self.consents.insert(
                    e.consent_id,
                    Consent {
                        id: e.consent_id,
                        organisation: e.organisation.clone(),
                        scope: e.scope.iter().copied().collect(),
                        purpose: e.purpose,
                        granted_on: e.granted_on,
                        valid_until: e.valid_until,
                        granted_by: e.granted_by,
                        revoked_on: None,
                    },
                );
            }
            CaseEvent::ConsentRevoked(e) => {
                if let Some(c) = self.consents.get_mut(&e.consent_id) {
                    c.revoked_on = Some(e.revoked_on);
                }
            }
            CaseEvent::StrengthsRecorded(_)
            | CaseEvent::NetworkRecorded(_)
            | CaseEvent::SafetyPlanRecorded(_) => {}
            CaseEvent::ReviewScheduled(e) => {
                self.reviews.insert(
                    e.review_id,
                    Review {
                        planned_on: e.planned_on,
                        held_on: None,
                    },
                );
            }
            CaseEvent::ConcernRecorded(e) => {
                self.concerns.insert(e.concern_id);
            }
            CaseEvent::GoalSet(e) => {
                self.goals.insert(e.goal_id, GoalStatus::Lopend);
            }
            CaseEvent::GoalStatusChanged(e) => {
                self.goals.insert(e.goal_id, e.status);
            }
            CaseEvent::ActionAssigned(e) => {
                self.actions.insert(
                    e.action_id,
                    Action {
                        goal_id: e.goal_id,
                        organisation: e.organisation.clone(),
                        due_on: e.due_on,
                        status: ActionStatus::Open,
                    },
                );
            }
            CaseEvent::ActionStatusChanged(e) => {
                if let Some(a) = self.actions.get_mut(&e.action_id) {
                    a.status = e.status;
                }
            }
            CaseEvent::PlanAdopted(e) => {
                self.plan_version = e.plan_version;
                self.first_plan_on.get_or_insert(e.adopted_on);
            }
            CaseEvent::ReviewHeld(e) => {
                if let Some(r) = self.reviews.get_mut(&e.review_id) {
                    r.held_on = Some(e.held_on);
                }
                self.last_review_held_on = Some(
                    self.last_review_held_on
                        .map_or(e.held_on, |l| l.max(e.held_on)),
                );
            }
            CaseEvent::HoursRecorded(e) => {
                *self.minutes.entry(e.organisation.clone()).or_default() += u64::from(e.minutes);
            }
            CaseEvent::HoursBudgetSet(e) => {
                self.budgets.insert(e.organisation.clone(), e.hours);
            }
            CaseEvent::Escalated(e) => {
                self.escalations.insert(
                    e.escalation_id,
                    Escalation {
                        reported_on: e.reported_on,
                        parties: e.parties.iter().cloned().collect(),
                    },
                );
            }
            CaseEvent::Closed(e) => self.closed = Some((e.closed_on, e.outcome)),
        }
    }
}

/// Decides a command against the case's state.
pub fn decide(case: &Case, cmd: Command, ctx: &Ctx<'_>) -> Result<Vec<CaseEvent>, DomainError> {
    if let Command::Open {
        municipality,
        district,
        opened_on,
        direction_budget_hours,
        household,
    } = cmd
    {
        if case.exists() {
            return Err(conflict("casus-bestaat-al", "Deze casus bestaat al."));
        }
        if ctx.organisation_type != OrganisationType::Jeugdteam {
            return Err(DomainError::Forbidden(
                "Alleen een jeugdteam opent een casus en voert de regie.",
            ));
        }
        if municipality != ctx.municipality {
            return Err(DomainError::Forbidden(
                "U kunt alleen een casus openen voor een gezin in uw eigen gemeente.",
            ));
        }
        let mut errors = Vec::new();
        let far_past = ctx
            .today
            .checked_sub_months(Months::new(12))
            .unwrap_or(NaiveDate::MIN);
        check::fact_date(&mut errors, "geopendOp", opened_on, far_past, ctx.today);
        if district.trim().is_empty() || district.len() > 80 {
            errors.push(FieldError::new(
                "wijk",
                "verplicht",
                "Noem de wijk (hoogstens 80 tekens).",
            ));
        }
        if direction_budget_hours == 0 || direction_budget_hours > MAX_BUDGET_HOURS {
            errors.push(FieldError::new(
                "urenbudgetRegie",
                "uren-buiten-bereik",
                "Het urenbudget voor regie ligt tussen 1 en 500 uur.",
            ));
        }
        invalid_if_any(errors)?;
        return Ok(vec![CaseOpened {
            municipality,
            district,
            director_organisation: ctx.organisation.to_owned(),
            director: ctx.person.to_owned(),
            opened_on,
            direction_budget_hours,
            household,
        }
        .into()]);
    }

    let Some(opened) = &case.opened else {
        return Err(DomainError::NotFound("Deze casus is niet bekend."));
    };
    // Another municipality's case does not exist for the actor.
    if opened.municipality != ctx.municipality {
        return Err(DomainError::NotFound("Deze casus is niet bekend."));
    }
    if case.is_closed() {
        return Err(conflict(
            "casus-gesloten",
            "Deze casus is gesloten; er kan niets meer aan worden toegevoegd.",
        ));
    }
    let director_only = || -> Result<(), DomainError> {
        if case.is_director(ctx.organisation) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "Alleen de organisatie die de regie voert kan dit doen.",
            ))
        }
    };
    let involved_only = || -> Result<(), DomainError> {
        if case.is_involved(ctx.organisation) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "Uw organisatie neemt niet (meer) deel aan deze casus.",
            ))
        }
    };
    let opened_on = opened.opened_on;
    let today = ctx.today;

    match cmd {
        Command::Open { .. } => Err(conflict("casus-bestaat-al", "Deze casus bestaat al.")),
        Command::AddParticipant {
            organisation,
            organisation_type,
            joined_on,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::organisation(&mut errors, "organisatie", &organisation);
            check::fact_date(&mut errors, "toegevoegdOp", joined_on, opened_on, today);
            if matches!(
                organisation_type,
                OrganisationType::Gemeente | OrganisationType::Privacyfunctionaris
            ) {
                errors.push(FieldError::new(
                    "organisatietype",
                    "geen-zorgpartner",
                    "De gemeente en de privacyfunctionaris nemen niet deel aan een gezinsplan.",
                ));
            }
            invalid_if_any(errors)?;
            if case.is_director(&organisation) {
                return Err(conflict(
                    "regie-organisatie",
                    "Deze organisatie voert de regie al.",
                ));
            }
            if case.is_active_participant(&organisation) {
                return Err(conflict(
                    "deelnemer-bestaat-al",
                    "Deze organisatie neemt al deel.",
                ));
            }
            Ok(vec![ParticipantJoined {
                organisation,
                organisation_type,
                joined_on,
            }
            .into()])
        }
        Command::RemoveParticipant {
            organisation,
            left_on,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "vertrokkenOp", left_on, opened_on, today);
            invalid_if_any(errors)?;
            let Some(p) = case
                .participants
                .get(&organisation)
                .filter(|p| p.is_active())
            else {
                return Err(DomainError::NotFound(
                    "Deze organisatie neemt niet deel aan de casus.",
                ));
            };
            if left_on < p.joined_on {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "vertrokkenOp",
                    "datum-voor-start",
                    "Deze datum ligt voor de deelname van de organisatie.",
                )]));
            }
            Ok(vec![ParticipantLeft {
                organisation,
                left_on,
            }
            .into()])
        }
        Command::GrantConsent {
            consent_id,
            organisation,
            scope,
            purpose,
            granted_on,
            valid_until,
            granted_by,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "gegevenOp", granted_on, opened_on, today);
            if scope.is_empty() {
                errors.push(FieldError::new(
                    "onderdelen",
                    "verplicht",
                    "Noem ten minste een onderdeel van het plan.",
                ));
            }
            for (i, p) in scope.iter().enumerate() {
                if scope[..i].contains(p) {
                    errors.push(FieldError::new(
                        format!("onderdelen[{i}]"),
                        "onderdeel-dubbel",
                        "Dit onderdeel staat er al.",
                    ));
                }
            }
            let latest = granted_on
                .checked_add_months(Months::new(MAX_CONSENT_MONTHS))
                .unwrap_or(NaiveDate::MAX);
            if valid_until < granted_on || valid_until > latest {
                errors.push(FieldError::new(
                    "geldigTot",
                    "geldigheid-ongeldig",
                    "Een toestemming geldt vanaf de dag dat zij is gegeven en hoogstens twee jaar.",
                ));
            }
            invalid_if_any(errors)?;
            if case.consents.contains_key(&consent_id) {
                return Err(conflict(
                    "toestemming-bestaat-al",
                    "Deze toestemming is al vastgelegd.",
                ));
            }
            if !case.is_active_participant(&organisation) {
                return Err(conflict(
                    "geen-deelnemer",
                    "Toestemming kan alleen worden vastgelegd voor een deelnemende organisatie.",
                ));
            }
            Ok(vec![ConsentGranted {
                consent_id,
                organisation,
                scope,
                purpose,
                granted_on,
                valid_until,
                granted_by,
                recorded_by: ctx.organisation.to_owned(),
            }
            .into()])
        }
        Command::RevokeConsent {
            consent_id,
            revoked_on,
        } => {
            director_only()?;
            let Some(c) = case.consents.get(&consent_id) else {
                return Err(DomainError::NotFound("Deze toestemming is niet bekend."));
            };
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "ingetrokkenOp", revoked_on, opened_on, today);
            invalid_if_any(errors)?;
            if c.revoked_on.is_some() {
                return Err(conflict(
                    "toestemming-al-ingetrokken",
                    "Deze toestemming is al ingetrokken.",
                ));
            }
            Ok(vec![ConsentRevoked {
                consent_id,
                organisation: c.organisation.clone(),
                revoked_on,
                recorded_by: ctx.organisation.to_owned(),
            }
            .into()])
        }
        Command::RecordStrengths {
            strengths,
            recorded_on,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "vastgelegdOp", recorded_on, opened_on, today);
            invalid_if_any(errors)?;
            Ok(vec![StrengthsRecorded {
                strengths,
                recorded_on,
            }
            .into()])
        }
        Command::RecordConcern {
            concern_id,
            priority,
            description,
            recorded_on,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "vastgelegdOp", recorded_on, opened_on, today);
            invalid_if_any(errors)?;
            if case.concerns.contains(&concern_id) {
                return Err(conflict("zorg-bestaat-al", "Deze zorg is al vastgelegd."));
            }
            Ok(vec![ConcernRecorded {
                concern_id,
                priority,
                description,
                recorded_on,
            }
            .into()])
        }
        Command::RecordNetwork {
            contributions,
            recorded_on,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "vastgelegdOp", recorded_on, opened_on, today);
            invalid_if_any(errors)?;
            Ok(vec![NetworkRecorded {
                contributions,
                recorded_on,
            }
            .into()])
        }
        Command::SetGoal {
            goal_id,
            concern_id,
            description,
            target_date,
            set_on,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "gesteldOp", set_on, opened_on, today);
            check::planned_date(&mut errors, "streefdatum", target_date, set_on, today);
            if let Some(c) = concern_id {
                if !case.concerns.contains(&c) {
                    errors.push(FieldError::new(
                        "zorgId",
                        "zorg-onbekend",
                        "Deze zorg is niet bekend in de casus.",
                    ));
                }
            }
            invalid_if_any(errors)?;
            if case.goals.contains_key(&goal_id) {
                return Err(conflict("doel-bestaat-al", "Dit doel is al gesteld."));
            }
            Ok(vec![GoalSet {
                goal_id,
                concern_id,
                description,
                target_date,
                set_on,
            }
            .into()])
        }
        Command::ChangeGoalStatus {
            goal_id,
            status,
            on,
        } => {
            director_only()?;
            let Some(current) = case.goals.get(&goal_id) else {
                return Err(DomainError::NotFound("Dit doel is niet bekend."));
            };
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "datum", on, opened_on, today);
            invalid_if_any(errors)?;
            if current.is_final() {
                return Err(conflict(
                    "doel-afgesloten",
                    "Dit doel is al afgesloten; stel zo nodig een nieuw doel.",
                ));
            }
            if !status.is_final() {
                return Err(conflict("status-ongewijzigd", "Dit doel loopt al."));
            }
            Ok(vec![GoalStatusChanged {
                goal_id,
                status,
                on,
            }
            .into()])
        }
        Command::AssignAction {
            action_id,
            goal_id,
            organisation,
            description,
            due_on,
            assigned_on,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "toegewezenOp", assigned_on, opened_on, today);
            check::planned_date(&mut errors, "deadline", due_on, assigned_on, today);
            match case.goals.get(&goal_id) {
                None => errors.push(FieldError::new(
                    "doelId",
                    "doel-onbekend",
                    "Dit doel is niet bekend in de casus.",
                )),
                Some(s) if s.is_final() => errors.push(FieldError::new(
                    "doelId",
                    "doel-afgesloten",
                    "Dit doel is al afgesloten.",
                )),
                Some(_) => {}
            }
            invalid_if_any(errors)?;
            if case.actions.contains_key(&action_id) {
                return Err(conflict("actie-bestaat-al", "Deze actie bestaat al."));
            }
            if !case.is_involved(&organisation) {
                return Err(conflict(
                    "geen-deelnemer",
                    "Een actie kan alleen aan een deelnemende organisatie worden toegewezen.",
                ));
            }
            Ok(vec![ActionAssigned {
                action_id,
                goal_id,
                organisation,
                description,
                due_on,
                assigned_on,
            }
            .into()])
        }
        Command::ChangeActionStatus {
            action_id,
            status,
            on,
        } => {
            let Some(action) = case.actions.get(&action_id) else {
                return Err(DomainError::NotFound("Deze actie is niet bekend."));
            };
            let own = action.organisation == ctx.organisation && case.is_involved(ctx.organisation);
            if !own && !case.is_director(ctx.organisation) {
                return Err(DomainError::Forbidden(
                    "Alleen de organisatie van de actie of de regievoerder kan de status wijzigen.",
                ));
            }
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "datum", on, opened_on, today);
            invalid_if_any(errors)?;
            if !action_transition_allowed(action.status, status) {
                return Err(conflict(
                    "statusovergang-ongeldig",
                    "Deze statuswijziging is niet mogelijk vanuit de huidige status van de actie.",
                ));
            }
            Ok(vec![ActionStatusChanged {
                action_id,
                status,
                on,
                by: ctx.organisation.to_owned(),
            }
            .into()])
        }
        Command::AdoptPlan { adopted_on } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "vastgesteldOp", adopted_on, opened_on, today);
            invalid_if_any(errors)?;
            if !case.goals.values().any(|g| !g.is_final()) {
                return Err(conflict(
                    "plan-zonder-doelen",
                    "Een plan heeft ten minste een lopend doel.",
                ));
            }
            Ok(vec![PlanAdopted {
                plan_version: case.plan_version + 1,
                adopted_on,
            }
            .into()])
        }
        Command::ScheduleReview {
            review_id,
            planned_on,
        } => {
            director_only()?;
            let Some(reference) = case.review_reference() else {
                return Err(conflict(
                    "geen-plan",
                    "Een evaluatie wordt gepland nadat het plan is vastgesteld.",
                ));
            };
            if let Some(r) = case.reviews.get(&review_id) {
                if r.held_on.is_some() {
                    return Err(conflict(
                        "evaluatie-gehouden",
                        "Deze evaluatie is al gehouden.",
                    ));
                }
            } else if case.reviews.values().any(|r| r.held_on.is_none()) {
                return Err(conflict(
                    "evaluatie-al-gepland",
                    "Er is al een evaluatie gepland; verplaats die.",
                ));
            }
            let earliest = reference
                .checked_add_months(Months::new(REVIEW_MIN_MONTHS))
                .unwrap_or(NaiveDate::MAX);
            let latest = reference
                .checked_add_months(Months::new(REVIEW_MAX_MONTHS))
                .unwrap_or(NaiveDate::MAX);
            // A review that is already overdue is planned within a month from today.
            let (lo, hi) = if today > latest {
                (today, today + Days::new(31))
            } else {
                (earliest.max(today), latest)
            };
            if planned_on < lo || planned_on > hi {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "gepland",
                    "evaluatie-buiten-termijn",
                    "Een evaluatie vindt 6 tot 10 maanden na het plan of de vorige evaluatie plaats.",
                )]));
            }
            Ok(vec![ReviewScheduled {
                review_id,
                planned_on,
            }
            .into()])
        }
        Command::RecordReview {
            review_id,
            held_on,
            minutes,
        } => {
            director_only()?;
            let Some(r) = case.reviews.get(&review_id) else {
                return Err(DomainError::NotFound("Deze evaluatie is niet gepland."));
            };
            let mut errors = Vec::new();
            let earliest = case.review_reference().unwrap_or(opened_on);
            check::fact_date(&mut errors, "gehoudenOp", held_on, earliest, today);
            invalid_if_any(errors)?;
            if r.held_on.is_some() {
                return Err(conflict(
                    "evaluatie-gehouden",
                    "Deze evaluatie is al gehouden.",
                ));
            }
            Ok(vec![ReviewHeld {
                review_id,
                held_on,
                minutes,
            }
            .into()])
        }
        Command::RecordHours { on, minutes, kind } => {
            involved_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "datum", on, opened_on, today);
            if minutes == 0 || minutes > MAX_MINUTES_PER_DAY {
                errors.push(FieldError::new(
                    "minuten",
                    "minuten-buiten-bereik",
                    "Per dag registreert u 1 tot 720 minuten.",
                ));
            }
            if kind == HoursKind::Regie && !case.is_director(ctx.organisation) {
                errors.push(FieldError::new(
                    "soort",
                    "geen-regie",
                    "Alleen de regievoerende organisatie registreert regie-uren.",
                ));
            }
            invalid_if_any(errors)?;
            Ok(vec![HoursRecorded {
                organisation: ctx.organisation.to_owned(),
                on,
                minutes,
                kind,
            }
            .into()])
        }
        Command::SetHoursBudget {
            organisation,
            hours,
        } => {
            director_only()?;
            if hours > MAX_BUDGET_HOURS {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "uren",
                    "uren-buiten-bereik",
                    "Een urenbudget ligt tussen 0 en 500 uur.",
                )]));
            }
            if !case.is_involved(&organisation) {
                return Err(conflict(
                    "geen-deelnemer",
                    "Een urenbudget geldt voor een deelnemende organisatie.",
                ));
            }
            Ok(vec![HoursBudgetSet {
                organisation,
                hours,
            }
            .into()])
        }
        Command::Escalate {
            escalation_id,
            reported_on,
            parties,
            legal_ground,
            report,
        } => {
            involved_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "gemeldOp", reported_on, opened_on, today);
            if !LEGAL_GROUNDS.contains(&legal_ground.as_str()) {
                errors.push(FieldError::new(
                    "grondslag",
                    "grondslag-onbekend",
                    "Noem een van de wettelijke grondslagen voor een melding.",
                ));
            }
            for (i, p) in parties.iter().enumerate() {
                if !case.is_involved(p) {
                    errors.push(FieldError::new(
                        format!("partijen[{i}]"),
                        "geen-deelnemer",
                        "Alleen de regievoerder en deelnemende organisaties kunnen partij zijn.",
                    ));
                }
            }
            invalid_if_any(errors)?;
            if case.escalations.contains_key(&escalation_id) {
                return Err(conflict(
                    "melding-bestaat-al",
                    "Deze melding is al vastgelegd.",
                ));
            }
            // The reporter and the director are always parties.
            let mut all: BTreeSet<String> = parties.into_iter().collect();
            all.insert(ctx.organisation.to_owned());
            all.insert(opened.director_organisation.clone());
            Ok(vec![EscalatedToVeiligThuis {
                escalation_id,
                reported_on,
                reported_by: ctx.organisation.to_owned(),
                parties: all.into_iter().collect(),
                legal_ground,
                report,
            }
            .into()])
        }
        Command::RecordSafetyPlan { plan, recorded_on } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "vastgelegdOp", recorded_on, opened_on, today);
            invalid_if_any(errors)?;
            Ok(vec![SafetyPlanRecorded { plan, recorded_on }.into()])
        }
        Command::Close {
            closed_on,
            outcome,
            note,
        } => {
            director_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "geslotenOp", closed_on, opened_on, today);
            invalid_if_any(errors)?;
            Ok(vec![CaseClosed {
                closed_on,
                outcome,
                note,
            }
            .into()])
        }
    }
}

/// Actions move forward only: open → in uitvoering → afgerond | vervallen.
pub fn action_transition_allowed(from: ActionStatus, to: ActionStatus) -> bool {
    use ActionStatus::*;
    matches!(
        (from, to),
        (Open, InUitvoering)
            | (Open, Afgerond)
            | (Open, Vervallen)
            | (InUitvoering, Afgerond)
            | (InUitvoering, Vervallen)
    )
}

#[cfg(test)]
mod tests;

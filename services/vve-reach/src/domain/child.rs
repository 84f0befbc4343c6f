//! The child's VVE record as a state machine: pure decisions over the child's events.
//!
//! `decide(state, command, ctx)` returns the new events or a [`DomainError`]; `Child::apply`
//! folds an event into the state. No I/O: the handler loads the stream, opens the birth date with
//! the child's key (an erased child never gets here: 410), and appends what `decide` returns.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::sealed::Sealed;
use kansrijk_proto::vve::{
    self, AttendanceRecorded, ChildEvent, ChildMovedAway, ChildPersonal, ChildReferred,
    ChildRegistered, DeclineReason, HoursChanged, IndicationIssued, IndicationWithdrawn,
    OutreachChannel, OutreachOutcome, OutreachRecorded, ParentsDeclined, PlacementEndReason,
    PlacementEnded, PlacementStarted, ReferralAccepted, WaitingListed, WithdrawalReason,
};
use uuid::Uuid;

use super::criteria::Catalogue;

/// An indication may be issued up to this many months before the window opens (at 2.5 years),
/// so that JGZ can indicate at the two-year consultation and the child starts on time. It may
/// never be issued on or after the fourth birthday.
pub const INDICATION_LEAD_MONTHS: u32 = 6;
/// Most hours a week a placement can have.
pub const MAX_HOURS_PER_WEEK: u8 = 40;
/// Most attended hours in a month (at most 6 counted hours a day on 23 weekdays, rounded up).
pub const MAX_HOURS_PER_MONTH: u16 = 200;
/// Planned dates (a start, an end, an expected start) may lie at most this far ahead.
pub const PLANNING_HORIZON_DAYS: u64 = 366;
/// Recorded facts may lie at most this far ahead (time zones, a visit entered the evening before).
pub const FACT_HORIZON_DAYS: u64 = 1;
/// No date may lie further back than this: a child in VVE is younger than 6.
pub const PAST_HORIZON_YEARS: u32 = 6;

/// A referral's state at the childcare location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralStatus {
    Open,
    Accepted,
    WaitingList,
    Placed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub location: String,
    pub referred_on: NaiveDate,
    pub status: ReferralStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub location: String,
    pub start_on: NaiveDate,
    /// Last day, once ended.
    pub end_on: Option<NaiveDate>,
    pub hours_per_week: u8,
}

impl Placement {
    /// Whether this placement and an open-ended one starting on `start` share a day.
    fn overlaps_open_from(&self, start: NaiveDate) -> bool {
        self.end_on.is_none_or(|end| end >= start)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub municipality: String,
    pub district: String,
    pub jgz_organisation: String,
    pub registered_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveIndication {
    pub id: Uuid,
    pub issued_on: NaiveDate,
}

/// Everything the decisions need to know about one child.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Child {
    /// The stream version (number of events applied).
    pub version: i64,
    pub registration: Option<Registration>,
    /// The sealed birth date, to be opened by the handler.
    pub birth_date: Option<Sealed<NaiveDate>>,
    pub indication: Option<ActiveIndication>,
    pub referrals: BTreeMap<Uuid, Referral>,
    pub placements: BTreeMap<Uuid, Placement>,
    pub declined: Option<DeclineReason>,
    pub moved_on: Option<NaiveDate>,
    pub outreach_attempts: u32,
}

/// A decision to take.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Register {
        municipality: String,
        district: String,
        registered_on: NaiveDate,
        personal: Sealed<ChildPersonal>,
        birth_date: Sealed<NaiveDate>,
    },
    IssueIndication {
        indication_id: Uuid,
        issued_on: NaiveDate,
        criteria: Vec<String>,
        sealed_criteria: Sealed<Vec<String>>,
    },
    WithdrawIndication {
        withdrawn_on: NaiveDate,
        reason: WithdrawalReason,
    },
    Refer {
        referred_on: NaiveDate,
        /// (referral id, LRK number, confirmed by the registry)
        locations: Vec<(Uuid, String, bool)>,
    },
    RecordOutreach {
        attempted_on: NaiveDate,
        channel: OutreachChannel,
        outcome: OutreachOutcome,
    },
    RecordDeclined {
        declined_on: NaiveDate,
        reason: DeclineReason,
    },
    RecordMovedAway {
        moved_on: NaiveDate,
    },
    AcceptReferral {
        referral_id: Uuid,
        accepted_on: NaiveDate,
    },
    PutOnWaitingList {
        referral_id: Uuid,
        listed_on: NaiveDate,
        expected_start: Option<NaiveDate>,
    },
    StartPlacement {
        placement_id: Uuid,
        start_on: NaiveDate,
        hours_per_week: u8,
        referral_id: Option<Uuid>,
    },
    ChangeHours {
        placement_id: Uuid,
        from_on: NaiveDate,
        hours_per_week: u8,
    },
    EndPlacement {
        placement_id: Uuid,
        end_on: NaiveDate,
        reason: PlacementEndReason,
    },
    RecordAttendance {
        placement_id: Uuid,
        month: String,
        hours: u16,
    },
}

/// What the decision may know besides the state.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub today: NaiveDate,
    /// The child's birth date, opened by the handler (None only before registration).
    pub birth_date: Option<NaiveDate>,
    pub catalogue: &'a Catalogue,
    /// The acting organisation: a JGZ organisation id or a childcare location's LRK number.
    pub organisation: &'a str,
    /// The actor's municipality (CBS code).
    pub municipality: &'a str,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// 400: invalid input, every field at once.
    Invalid(Vec<FieldError>),
    /// 409: the child's state does not allow it.
    Conflict {
        code: &'static str,
        detail: &'static str,
    },
    /// 403: not this organisation's child, referral or placement.
    Forbidden(&'static str),
    /// 404: the child, referral or placement does not exist.
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

/// Field checks shared by request parsing and decisions.
pub mod check {
    use super::*;

    /// A recorded fact: not ahead of today (beyond a day), not before the past horizon.
    pub fn fact_date(errors: &mut Vec<FieldError>, field: &str, d: NaiveDate, today: NaiveDate) {
        if d > today + Days::new(FACT_HORIZON_DAYS) || d < past_horizon(today) {
            errors.push(FieldError::new(
                field,
                "datum-buiten-horizon",
                "Deze datum ligt in de toekomst of te ver in het verleden.",
            ));
        }
    }

    /// A planned date: at most a year ahead, not before the past horizon.
    pub fn planned_date(errors: &mut Vec<FieldError>, field: &str, d: NaiveDate, today: NaiveDate) {
        if d > today + Days::new(PLANNING_HORIZON_DAYS) || d < past_horizon(today) {
            errors.push(FieldError::new(
                field,
                "datum-buiten-horizon",
                "Deze datum ligt meer dan een jaar vooruit of te ver in het verleden.",
            ));
        }
    }

    /// A birth date: not in the future, and the child younger than six.
    pub fn birth_date(errors: &mut Vec<FieldError>, field: &str, d: NaiveDate, today: NaiveDate) {
        if d > today || d < past_horizon(today) {
            errors.push(FieldError::new(
                field,
                "datum-buiten-horizon",
                "De geboortedatum ligt in de toekomst of meer dan zes jaar terug.",
            ));
        }
    }

    pub fn hours_per_week(errors: &mut Vec<FieldError>, field: &str, hours: i64) {
        if !(0..=i64::from(MAX_HOURS_PER_WEEK)).contains(&hours) {
            errors.push(FieldError::new(
                field,
                "uren-buiten-bereik",
                "Het aantal uren per week ligt tussen 0 en 40.",
            ));
        }
    }

    /// An LRK number: nine digits.
    pub fn lrk(errors: &mut Vec<FieldError>, field: &str, lrk: &str) {
        if !is_lrk(lrk) {
            errors.push(FieldError::new(
                field,
                "lrk-ongeldig",
                "Een LRK-nummer bestaat uit negen cijfers.",
            ));
        }
    }

    pub fn is_lrk(lrk: &str) -> bool {
        lrk.len() == 9 && lrk.bytes().all(|b| b.is_ascii_digit())
    }

    /// `YYYY-MM`.
    pub fn month(errors: &mut Vec<FieldError>, field: &str, month: &str) -> Option<NaiveDate> {
        let parsed = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .ok()
            .filter(|_| month.len() == 7);
        if parsed.is_none() {
            errors.push(FieldError::new(
                field,
                "maand-ongeldig",
                "Een maand schrijft u als JJJJ-MM.",
            ));
        }
        parsed
    }

    fn past_horizon(today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_months(Months::new(12 * PAST_HORIZON_YEARS))
            .unwrap_or(NaiveDate::MIN)
    }
}

fn invalid_if_any(errors: Vec<FieldError>) -> Result<(), DomainError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(errors))
    }
}

impl Child {
    /// Folds a whole stream.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a ChildEvent>) -> Child {
        let mut c = Child::default();
        for e in events {
            c.apply(e);
        }
        c
    }

    pub fn exists(&self) -> bool {
        self.registration.is_some()
    }

    /// Placements that have not ended.
    pub fn active_placements(&self) -> impl Iterator<Item = (&Uuid, &Placement)> {
        self.placements.iter().filter(|(_, p)| p.end_on.is_none())
    }

    pub fn apply(&mut self, event: &ChildEvent) {
        self.version += 1;
        match event {
            ChildEvent::Registered(e) => {
                self.registration = Some(Registration {
                    municipality: e.municipality.clone(),
                    district: e.district.clone(),
                    jgz_organisation: e.jgz_organisation.clone(),
                    registered_on: e.registered_on,
                });
                self.birth_date = Some(e.birth_date.clone());
            }
            ChildEvent::IndicationIssued(e) => {
                self.indication = Some(ActiveIndication {
                    id: e.indication_id,
                    issued_on: e.issued_on,
                });
            }
            ChildEvent::IndicationWithdrawn(_) => self.indication = None,
            ChildEvent::Referred(e) => {
                self.referrals.insert(
                    e.referral_id,
                    Referral {
                        location: e.location.clone(),
                        referred_on: e.referred_on,
                        status: ReferralStatus::Open,
                    },
                );
            }
            ChildEvent::Outreach(_) => self.outreach_attempts += 1,
            ChildEvent::Declined(e) => self.declined = Some(e.reason),
            ChildEvent::MovedAway(e) => self.moved_on = Some(e.moved_on),
            ChildEvent::ReferralAccepted(e) => {
                if let Some(r) = self.referrals.get_mut(&e.referral_id) {
                    r.status = ReferralStatus::Accepted;
                }
            }
            ChildEvent::WaitingListed(e) => {
                if let Some(r) = self.referrals.get_mut(&e.referral_id) {
                    r.status = ReferralStatus::WaitingList;
                }
            }
            ChildEvent::PlacementStarted(e) => {
                self.placements.insert(
                    e.placement_id,
                    Placement {
                        location: e.location.clone(),
                        start_on: e.start_on,
                        end_on: None,
                        hours_per_week: e.hours_per_week,
                    },
                );
                if let Some(r) = e.referral_id.and_then(|id| self.referrals.get_mut(&id)) {
                    r.status = ReferralStatus::Placed;
                }
                // Parents who declined and then came after all are no longer declining.
                self.declined = None;
            }
            ChildEvent::HoursChanged(e) => {
                if let Some(p) = self.placements.get_mut(&e.placement_id) {
                    p.hours_per_week = e.hours_per_week;
                }
            }
            ChildEvent::PlacementEnded(e) => {
                if let Some(p) = self.placements.get_mut(&e.placement_id) {
                    p.end_on = Some(e.end_on);
                }
            }
            ChildEvent::Attendance(_) => {}
        }
    }
}

/// Decides a command against the child's state.
pub fn decide(child: &Child, cmd: Command, ctx: &Ctx<'_>) -> Result<Vec<ChildEvent>, DomainError> {
    if let Command::Register {
        municipality,
        district,
        registered_on,
        personal,
        birth_date,
    } = cmd
    {
        if child.exists() {
            return Err(conflict("kind-bestaat-al", "Dit kind is al ingeschreven."));
        }
        if municipality != ctx.municipality {
            return Err(DomainError::Forbidden(
                "U kunt alleen kinderen uit uw eigen gemeente inschrijven.",
            ));
        }
        let mut errors = Vec::new();
        check::fact_date(&mut errors, "ingeschrevenOp", registered_on, ctx.today);
        if let Some(b) = ctx.birth_date {
            check::birth_date(&mut errors, "geboortedatum", b, ctx.today);
        }
        invalid_if_any(errors)?;
        return Ok(vec![ChildRegistered {
            municipality,
            district,
            jgz_organisation: ctx.organisation.to_owned(),
            registered_on,
            personal,
            birth_date,
        }
        .into()]);
    }

    let Some(reg) = &child.registration else {
        return Err(DomainError::NotFound("Dit kind is niet bekend."));
    };
    if reg.municipality != ctx.municipality {
        return Err(DomainError::Forbidden(
            "Dit kind woont niet in uw gemeente.",
        ));
    }
    if child.moved_on.is_some() {
        return Err(conflict(
            "kind-verhuisd",
            "Dit kind is verhuisd; het dossier is gesloten.",
        ));
    }
    let birth = ctx
        .birth_date
        .ok_or(DomainError::NotFound("Dit kind is niet bekend."))?;
    let jgz_only = || -> Result<(), DomainError> {
        if reg.jgz_organisation == ctx.organisation {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "Dit kind staat niet bij uw JGZ-organisatie ingeschreven.",
            ))
        }
    };
    let need_indication = || -> Result<ActiveIndication, DomainError> {
        child.indication.ok_or(conflict(
            "geen-indicatie",
            "Dit kind heeft geen geldige VVE-indicatie.",
        ))
    };

    match cmd {
        Command::Register { .. } => unreachable!("handled above"),
        Command::IssueIndication {
            indication_id,
            issued_on,
            criteria,
            sealed_criteria,
        } => {
            jgz_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "afgegevenOp", issued_on, ctx.today);
            let definition = ctx.catalogue.applicable(&reg.municipality, issued_on);
            match definition {
                None => errors.push(FieldError::new(
                    "criteria",
                    "geen-doelgroepdefinitie",
                    "De gemeente heeft voor deze datum geen doelgroepdefinitie vastgesteld.",
                )),
                Some((_, allowed)) => {
                    if criteria.is_empty() {
                        errors.push(FieldError::new(
                            "criteria",
                            "verplicht",
                            "Noem ten minste een criterium van de doelgroepdefinitie.",
                        ));
                    }
                    for (i, code) in criteria.iter().enumerate() {
                        if !allowed.iter().any(|c| &c.code == code) {
                            errors.push(FieldError::new(
                                format!("criteria[{i}]"),
                                "criterium-onbekend",
                                "Dit criterium hoort niet bij de doelgroepdefinitie van de gemeente op deze datum.",
                            ));
                        } else if criteria[..i].contains(code) {
                            errors.push(FieldError::new(
                                format!("criteria[{i}]"),
                                "criterium-dubbel",
                                "Dit criterium staat er al.",
                            ));
                        }
                    }
                }
            }
            invalid_if_any(errors)?;
            if child.indication.is_some() {
                return Err(conflict(
                    "indicatie-bestaat-al",
                    "Dit kind heeft al een geldige VVE-indicatie.",
                ));
            }
            let earliest = vve::window_start(birth)
                .checked_sub_months(Months::new(INDICATION_LEAD_MONTHS))
                .unwrap_or(NaiveDate::MIN);
            if issued_on < earliest || issued_on >= vve::window_end(birth) {
                return Err(conflict(
                    "leeftijd-buiten-vve-venster",
                    "Een VVE-indicatie kan vanaf 2 jaar tot de vierde verjaardag worden afgegeven.",
                ));
            }
            let definition_year = definition.map(|(y, _)| y).unwrap_or(issued_on.year());
            Ok(vec![IndicationIssued {
                indication_id,
                issued_on,
                definition_year,
                criteria: sealed_criteria,
                issued_by: ctx.organisation.to_owned(),
            }
            .into()])
        }
        Command::WithdrawIndication {
            withdrawn_on,
            reason,
        } => {
            jgz_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "ingetrokkenOp", withdrawn_on, ctx.today);
            invalid_if_any(errors)?;
            let ind = need_indication()?;
            if withdrawn_on < ind.issued_on {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "ingetrokkenOp",
                    "datum-voor-indicatie",
                    "De indicatie kan niet worden ingetrokken voordat zij werd afgegeven.",
                )]));
            }
            Ok(vec![IndicationWithdrawn {
                indication_id: ind.id,
                withdrawn_on,
                reason,
            }
            .into()])
        }
        Command::Refer {
            referred_on,
            locations,
        } => {
            jgz_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "doorverwezenOp", referred_on, ctx.today);
            if locations.is_empty() {
                errors.push(FieldError::new(
                    "locaties",
                    "verplicht",
                    "Noem ten minste een VVE-locatie.",
                ));
            }
            for (i, (_, lrk, _)) in locations.iter().enumerate() {
                check::lrk(&mut errors, &format!("locaties[{i}]"), lrk);
                if locations[..i].iter().any(|(_, l, _)| l == lrk) {
                    errors.push(FieldError::new(
                        format!("locaties[{i}]"),
                        "locatie-dubbel",
                        "Deze locatie staat er al.",
                    ));
                }
            }
            invalid_if_any(errors)?;
            need_indication()?;
            if child.active_placements().next().is_some() {
                return Err(conflict(
                    "kind-geplaatst",
                    "Dit kind is al geplaatst op een VVE-locatie.",
                ));
            }
            for (_, lrk, _) in &locations {
                if child
                    .referrals
                    .values()
                    .any(|r| &r.location == lrk && r.status != ReferralStatus::Placed)
                {
                    return Err(conflict(
                        "al-doorverwezen",
                        "Dit kind is al naar deze locatie doorverwezen.",
                    ));
                }
            }
            Ok(locations
                .into_iter()
                .map(|(referral_id, location, registry_checked)| {
                    ChildReferred {
                        referral_id,
                        location,
                        referred_on,
                        registry_checked,
                        referred_by: ctx.organisation.to_owned(),
                    }
                    .into()
                })
                .collect())
        }
        Command::RecordOutreach {
            attempted_on,
            channel,
            outcome,
        } => {
            jgz_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "datum", attempted_on, ctx.today);
            invalid_if_any(errors)?;
            need_indication()?;
            Ok(vec![OutreachRecorded {
                attempted_on,
                channel,
                outcome,
            }
            .into()])
        }
        Command::RecordDeclined {
            declined_on,
            reason,
        } => {
            jgz_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "datum", declined_on, ctx.today);
            invalid_if_any(errors)?;
            need_indication()?;
            if child.active_placements().next().is_some() {
                return Err(conflict(
                    "kind-geplaatst",
                    "Dit kind is geplaatst; beeindig eerst de plaatsing.",
                ));
            }
            Ok(vec![ParentsDeclined {
                declined_on,
                reason,
            }
            .into()])
        }
        Command::RecordMovedAway { moved_on } => {
            jgz_only()?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "verhuisdOp", moved_on, ctx.today);
            invalid_if_any(errors)?;
            Ok(vec![ChildMovedAway { moved_on }.into()])
        }
        Command::AcceptReferral {
            referral_id,
            accepted_on,
        } => {
            let r = own_referral(child, referral_id, ctx)?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "datum", accepted_on, ctx.today);
            invalid_if_any(errors)?;
            need_indication()?;
            match r.status {
                ReferralStatus::Open | ReferralStatus::WaitingList => {}
                ReferralStatus::Accepted | ReferralStatus::Placed => {
                    return Err(conflict(
                        "verwijzing-al-verwerkt",
                        "Deze verwijzing is al geaccepteerd.",
                    ))
                }
            }
            Ok(vec![ReferralAccepted {
                referral_id,
                accepted_on,
            }
            .into()])
        }
        Command::PutOnWaitingList {
            referral_id,
            listed_on,
            expected_start,
        } => {
            let r = own_referral(child, referral_id, ctx)?;
            let mut errors = Vec::new();
            check::fact_date(&mut errors, "datum", listed_on, ctx.today);
            if let Some(s) = expected_start {
                check::planned_date(&mut errors, "verwachteStart", s, ctx.today);
            }
            invalid_if_any(errors)?;
            need_indication()?;
            if r.status != ReferralStatus::Open {
                return Err(conflict(
                    "verwijzing-al-verwerkt",
                    "Deze verwijzing is al verwerkt.",
                ));
            }
            Ok(vec![WaitingListed {
                referral_id,
                listed_on,
                expected_start,
            }
            .into()])
        }
        Command::StartPlacement {
            placement_id,
            start_on,
            hours_per_week,
            referral_id,
        } => {
            let mut errors = Vec::new();
            check::planned_date(&mut errors, "startdatum", start_on, ctx.today);
            check::hours_per_week(&mut errors, "urenPerWeek", i64::from(hours_per_week));
            check::lrk(&mut errors, "lrk", ctx.organisation);
            invalid_if_any(errors)?;
            if let Some(id) = referral_id {
                let r = own_referral(child, id, ctx)?;
                if r.status == ReferralStatus::Placed {
                    return Err(conflict(
                        "verwijzing-al-verwerkt",
                        "Op deze verwijzing is al een plaatsing gestart.",
                    ));
                }
            }
            need_indication()?;
            if child.placements.contains_key(&placement_id) {
                return Err(conflict(
                    "plaatsing-bestaat-al",
                    "Deze plaatsing bestaat al.",
                ));
            }
            if !vve::in_window(birth, start_on) {
                return Err(conflict(
                    "leeftijd-buiten-vve-venster",
                    "Een VVE-plaatsing kan starten vanaf 2,5 jaar tot de vierde verjaardag.",
                ));
            }
            if child
                .placements
                .values()
                .any(|p| p.location == ctx.organisation && p.overlaps_open_from(start_on))
            {
                return Err(conflict(
                    "overlappende-plaatsing",
                    "Dit kind heeft op deze locatie al een plaatsing in dezelfde periode.",
                ));
            }
            Ok(vec![PlacementStarted {
                placement_id,
                location: ctx.organisation.to_owned(),
                start_on,
                hours_per_week,
                referral_id,
            }
            .into()])
        }
        Command::ChangeHours {
            placement_id,
            from_on,
            hours_per_week,
        } => {
            let mut errors = Vec::new();
            check::planned_date(&mut errors, "perDatum", from_on, ctx.today);
            check::hours_per_week(&mut errors, "urenPerWeek", i64::from(hours_per_week));
            invalid_if_any(errors)?;
            let p = own_placement(child, placement_id, ctx)?;
            if p.end_on.is_some() {
                return Err(conflict(
                    "plaatsing-beeindigd",
                    "Deze plaatsing is beeindigd.",
                ));
            }
            if from_on < p.start_on {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "perDatum",
                    "datum-voor-start",
                    "De wijziging kan niet ingaan voor de start van de plaatsing.",
                )]));
            }
            Ok(vec![HoursChanged {
                placement_id,
                from_on,
                hours_per_week,
            }
            .into()])
        }
        Command::EndPlacement {
            placement_id,
            end_on,
            reason,
        } => {
            let mut errors = Vec::new();
            check::planned_date(&mut errors, "einddatum", end_on, ctx.today);
            invalid_if_any(errors)?;
            let p = own_placement(child, placement_id, ctx)?;
            if p.end_on.is_some() {
                return Err(conflict(
                    "plaatsing-beeindigd",
                    "Deze plaatsing is al beeindigd.",
                ));
            }
            if end_on < p.start_on {
                return Err(DomainError::Invalid(vec![FieldError::new(
                    "einddatum",
                    "datum-voor-start",
                    "De einddatum ligt voor de start van de plaatsing.",
                )]));
            }
            Ok(vec![PlacementEnded {
                placement_id,
                end_on,
                reason,
            }
            .into()])
        }
        Command::RecordAttendance {
            placement_id,
            month,
            hours,
        } => {
            let mut errors = Vec::new();
            let first = check::month(&mut errors, "maand", &month);
            if hours > MAX_HOURS_PER_MONTH {
                errors.push(FieldError::new(
                    "uren",
                    "uren-buiten-bereik",
                    "Het aantal uren in een maand ligt tussen 0 en 200.",
                ));
            }
            if let Some(first) = first {
                check::fact_date(&mut errors, "maand", first, ctx.today);
            }
            invalid_if_any(errors)?;
            let p = own_placement(child, placement_id, ctx)?;
            let first = first.unwrap_or(p.start_on);
            let last = first
                .checked_add_months(Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(first);
            if last < p.start_on || p.end_on.is_some_and(|e| first > e) {
                return Err(conflict(
                    "maand-buiten-plaatsing",
                    "Deze maand valt buiten de plaatsing.",
                ));
            }
            Ok(vec![AttendanceRecorded {
                placement_id,
                month,
                hours,
            }
            .into()])
        }
    }
}

fn own_referral<'c>(
    child: &'c Child,
    referral_id: Uuid,
    ctx: &Ctx<'_>,
) -> Result<&'c Referral, DomainError> {
    let r = child
        .referrals
        .get(&referral_id)
        .ok_or(DomainError::NotFound("Deze verwijzing is niet bekend."))?;
    if r.location != ctx.organisation {
        return Err(DomainError::Forbidden(
            "Deze verwijzing is niet aan uw locatie gericht.",
        ));
    }
    Ok(r)
}

fn own_placement<'c>(
    child: &'c Child,
    placement_id: Uuid,
    ctx: &Ctx<'_>,
) -> Result<&'c Placement, DomainError> {
    let p = child
        .placements
        .get(&placement_id)
        .ok_or(DomainError::NotFound("Deze plaatsing is niet bekend."))?;
    if p.location != ctx.organisation {
        return Err(DomainError::Forbidden(
            "Deze plaatsing is niet van uw locatie.",
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests;

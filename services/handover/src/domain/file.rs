//! One handover file as a state machine: pure decisions over the file's events.
//!
//! `decide(state, command, ctx)` returns the new events or a [`DomainError`]; [`File::apply`]
//! folds an event into the state. The invariants the property tests hold it to:
//! - a file reaches a school only after it was sent, and a preschool file is sent only with the
//!   parents' consent; a refused file never moves again;
//! - a file goes only to the school where the child is enrolled, and only that school confirms
//!   receipt (once) and reports the year-3 position (once, after confirming);
//! - an advice is never lowered: a reconsideration and the final advice are at least the advice
//!   in force;
//! - the status only moves forward.

use chrono::NaiveDate;
use kansrijk_proto::handover::{
    Advice, AdviceLevel, AdviceReconsidered, ChildIdentity, ConfirmationOverdue, ConsentGiven,
    ConsentRefused, EnrolmentRecorded, FileKind, FileSent, FinalAdviceGiven, HandoverEvent,
    InformedHow, OsoContent, OsoFileCreated, OsoFileUpdated, ParentsInformed, ParentsResponse,
    ParentsResponseAdded, Participant, PreschoolContent, PreschoolFileDrafted,
    PreschoolFileRevised, ProvisionalAdviceGiven, ReceiptConfirmed, Reconsideration,
    ReconsiderationOutcome, RefusalReason, SchoolId, TestResult, TestResultRecorded,
    WarmHandoverHeld, WarmHandoverPlanned, Year3Position, Year3PositionReported,
};
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::sealed::Sealed;
use kansrijk_runtime::crypto::SubjectKey;
use uuid::Uuid;

use super::check;

/// Plausible age of a child on a preschool file (the form is written around 3 years 9 months).
pub const PRESCHOOL_AGE: (u32, u32) = (2, 6);
/// Plausible age of a pupil on a PO-VO file (group 8).
pub const POVO_AGE: (u32, u32) = (9, 15);

/// The parents' decision on a preschool file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Pending,
    Given(NaiveDate),
    Refused(NaiveDate, RefusalReason),
}

/// Where a file is, in the order files move (a refused file stops at [`Status::Refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    None,
    Draft,
    ParentsInformed,
    Consented,
    Sent,
    Confirmed,
    Refused,
}

/// Everything the decisions need to know about one file.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// The stream version (number of events applied).
    pub version: i64,
    pub kind: Option<FileKind>,
    pub municipality: String,
    /// LRK number (preschool) or school location code (PO-VO) of the sender.
    pub sender: String,
    pub child_id: Option<Uuid>,
    pub drafted_on: Option<NaiveDate>,
    pub warm_wanted: bool,
    pub informed_on: Option<NaiveDate>,
    pub responses: u32,
    pub consent: Consent,
    pub enrolled: Option<SchoolId>,
    pub sent: Option<(NaiveDate, SchoolId)>,
    pub confirmed_on: Option<NaiveDate>,
    pub warm_planned_on: Option<NaiveDate>,
    pub warm_held_on: Option<NaiveDate>,
    pub overdue_flagged: bool,
    pub provisional: Option<Sealed<Advice>>,
    pub test: Option<Sealed<TestResult>>,
    pub reconsideration_due: bool,
    pub reconsidered: Option<Sealed<Reconsideration>>,
    pub final_advice: Option<Sealed<Advice>>,
    pub year3: Option<Year3Position>,
}

impl Default for File {
    fn default() -> Self {
        File {
            version: 0,
            kind: None,
            municipality: String::new(),
            sender: String::new(),
            child_id: None,
            drafted_on: None,
            warm_wanted: false,
            informed_on: None,
            responses: 0,
            consent: Consent::Pending,
            enrolled: None,
            sent: None,
            confirmed_on: None,
            warm_planned_on: None,
            warm_held_on: None,
            overdue_flagged: false,
            provisional: None,
            test: None,
            reconsideration_due: false,
            reconsidered: None,
            final_advice: None,
            year3: None,
        }
    }
}

/// A decision to take.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    DraftPreschool {
        child_id: Option<Uuid>,
        drafted_on: NaiveDate,
        warm_wanted: bool,
        child: ChildIdentity,
        content: PreschoolContent,
    },
    RevisePreschool {
        on: NaiveDate,
        warm_wanted: bool,
        content: PreschoolContent,
    },
    CreateOso {
        child_id: Option<Uuid>,
        school_year: String,
        created_on: NaiveDate,
        pupil: ChildIdentity,
        content: OsoContent,
    },
    UpdateOso {
        on: NaiveDate,
        content: OsoContent,
    },
    ProvisionalAdvice {
        on: NaiveDate,
        advice: Advice,
    },
    RecordTestResult {
        on: NaiveDate,
        result: TestResult,
    },
    Reconsider {
        on: NaiveDate,
        reconsideration: Reconsideration,
    },
    FinalAdvice {
        on: NaiveDate,
        advice: Advice,
    },
    InformParents {
        on: NaiveDate,
        how: InformedHow,
    },
    AddParentsResponse {
        on: NaiveDate,
        response: ParentsResponse,
    },
    GiveConsent {
        on: NaiveDate,
    },
    RefuseConsent {
        on: NaiveDate,
        reason: RefusalReason,
    },
    RecordEnrolment {
        on: NaiveDate,
        school: SchoolId,
    },
    Send {
        on: NaiveDate,
        school: SchoolId,
    },
    ConfirmReceipt {
        on: NaiveDate,
    },
    PlanWarmHandover {
        on: NaiveDate,
        participants: Vec<Participant>,
    },
    HoldWarmHandover {
        on: NaiveDate,
        participants: Vec<Participant>,
    },
    /// The service's own scheduler: the receiver did not confirm within `days`.
    FlagOverdue {
        on: NaiveDate,
        days: u16,
    },
    ReportYear3 {
        on: NaiveDate,
        position: Year3Position,
    },
}

/// What the decision may know besides the state.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub today: NaiveDate,
    /// The acting organisation: an LRK number or a school location code (BRIN + vestiging).
    pub organisation: &'a str,
    /// The actor's municipality (CBS code).
    pub municipality: &'a str,
    /// The file's own key: seals new content, opens advice for comparisons.
    pub key: Option<&'a SubjectKey>,
    /// Whether the actor is the service itself (the overdue scheduler).
    pub system: bool,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// 400: invalid input, every field at once.
    Invalid(Vec<FieldError>),
    /// 409: the file's state does not allow it.
    Conflict {
        code: &'static str,
        detail: &'static str,
    },
    /// 403: not this organisation's file.
    Forbidden {
        code: &'static str,
        detail: &'static str,
    },
    /// 404: the file does not exist.
    NotFound,
    /// 500: the file's key is needed and missing, or a sealed part does not open.
    Key,
}

impl DomainError {
    pub fn to_problem(&self) -> Problem {
        match self {
            DomainError::Invalid(errors) => Problem::invalid(errors.clone()),
            DomainError::Conflict { code, detail } => Problem::conflict(code, *detail),
            DomainError::Forbidden { code, detail } => {
                let mut p = Problem::forbidden(*detail).with_code(*code);
                p.title = "Geen toegang".into();
                p
            }
            DomainError::NotFound => Problem::not_found("Dit overdrachtsdossier bestaat niet."),
            DomainError::Key => Problem::internal(),
        }
    }

    /// The stable code of the rule that was broken.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Invalid(_) => "ongeldige-invoer",
            DomainError::Conflict { code, .. } | DomainError::Forbidden { code, .. } => code,
            DomainError::NotFound => "niet-gevonden",
            DomainError::Key => "interne-fout",
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

const NOT_SENDER: DomainError = DomainError::Forbidden {
    code: "niet-afzender",
    detail: "Alleen de organisatie die het dossier opstelde mag dit doen.",
};
const NOT_ADDRESSED: DomainError = DomainError::Forbidden {
    code: "niet-geadresseerd",
    detail: "Dit dossier is niet aan uw school gericht.",
};
const REFUSED: DomainError = DomainError::Conflict {
    code: "toestemming-geweigerd",
    detail: "De ouders weigerden toestemming; het formulier is vernietigd.",
};
const ALREADY_SENT: DomainError = DomainError::Conflict {
    code: "al-verzonden",
    detail: "Het dossier is al verzonden en kan niet meer veranderen.",
};
const NOT_INFORMED: DomainError = DomainError::Conflict {
    code: "ouders-niet-geinformeerd",
    detail: "De ouders zijn nog niet over het dossier geïnformeerd.",
};
const LOWERED: DomainError = DomainError::Conflict {
    code: "advies-verlaagd",
    detail: "Een schooladvies wordt nooit verlaagd.",
};
const WRONG_KIND: DomainError = DomainError::Conflict {
    code: "niet-van-toepassing",
    detail: "Deze stap hoort niet bij dit soort dossier.",
};

impl File {
    /// Folds a whole stream.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a HandoverEvent>) -> File {
        let mut f = File::default();
        for e in events {
            f.apply(e);
        }
        f
    }

    pub fn exists(&self) -> bool {
        self.kind.is_some()
    }

    /// The school the file was sent to.
    pub fn receiver(&self) -> Option<&SchoolId> {
        self.sent.as_ref().map(|(_, s)| s)
    }

    pub fn is_refused(&self) -> bool {
        matches!(self.consent, Consent::Refused(..))
    }

    /// Whether `organisation` may see the file in its inbox: sent to it (and, for a preschool
    /// file, only with consent, which sending already requires).
    pub fn visible_to_receiver(&self, organisation: &str) -> bool {
        let consent_ok = match self.kind {
            Some(FileKind::Voorschool) => matches!(self.consent, Consent::Given(_)),
            Some(FileKind::PoVo) => true,
            None => false,
        };
        consent_ok && self.receiver().is_some_and(|s| s.code() == organisation)
    }

    pub fn status(&self) -> Status {
        if self.kind.is_none() {
            Status::None
        } else if self.is_refused() {
            Status::Refused
        } else if self.confirmed_on.is_some() {
            Status::Confirmed
        } else if self.sent.is_some() {
            Status::Sent
        } else if matches!(self.consent, Consent::Given(_)) {
            Status::Consented
        } else if self.informed_on.is_some() {
            Status::ParentsInformed
        } else {
            Status::Draft
        }
    }

    pub fn apply(&mut self, event: &HandoverEvent) {
        self.version += 1;
        match event {
            HandoverEvent::PreschoolDrafted(e) => {
                self.kind = Some(FileKind::Voorschool);
                self.municipality = e.municipality.clone();
                self.sender = e.location.clone();
                self.child_id = e.child_id;
                self.drafted_on = Some(e.drafted_on);
                self.warm_wanted = e.warm_handover_wanted;
            }
            HandoverEvent::PreschoolRevised(e) => self.warm_wanted = e.warm_handover_wanted,
            HandoverEvent::OsoCreated(e) => {
                self.kind = Some(FileKind::PoVo);
                self.municipality = e.municipality.clone();
                self.sender = e.school.code();
                self.child_id = e.child_id;
                self.drafted_on = Some(e.created_on);
            }
            HandoverEvent::OsoUpdated(_) => {}
            HandoverEvent::ProvisionalAdvice(e) => self.provisional = Some(e.advice.clone()),
            HandoverEvent::TestResult(e) => {
                self.test = Some(e.result.clone());
                self.reconsideration_due = e.reconsideration_due;
            }
            HandoverEvent::Reconsidered(e) => self.reconsidered = Some(e.reconsideration.clone()),
            HandoverEvent::FinalAdvice(e) => self.final_advice = Some(e.advice.clone()),
            HandoverEvent::ParentsInformed(e) => self.informed_on = Some(e.on),
            HandoverEvent::ParentsResponse(_) => self.responses += 1,
            HandoverEvent::ConsentGiven(e) => self.consent = Consent::Given(e.on),
            HandoverEvent::ConsentRefused(e) => self.consent = Consent::Refused(e.on, e.reason),
            HandoverEvent::Enrolled(e) => self.enrolled = Some(e.school.clone()),
            HandoverEvent::Sent(e) => self.sent = Some((e.on, e.school.clone())),
            HandoverEvent::Confirmed(e) => self.confirmed_on = Some(e.on),
            HandoverEvent::WarmPlanned(e) => self.warm_planned_on = Some(e.on),
            HandoverEvent::WarmHeld(e) => self.warm_held_on = Some(e.on),
            HandoverEvent::Overdue(_) => self.overdue_flagged = true,
            HandoverEvent::Year3(e) => self.year3 = Some(e.position),
        }
    }

    /// The advice in force: the reconsidered level, else the provisional one.
    pub fn current_advice(&self, key: &SubjectKey) -> Result<Option<AdviceLevel>, DomainError> {
        if let Some(r) = &self.reconsidered {
            return Ok(Some(key.open(r).map_err(|_| DomainError::Key)?.level));
        }
        if let Some(p) = &self.provisional {
            return Ok(Some(key.open(p).map_err(|_| DomainError::Key)?.level));
        }
        Ok(None)
    }

    /// The final advice, opened.
    pub fn final_level(&self, key: &SubjectKey) -> Result<Option<AdviceLevel>, DomainError> {
        self.final_advice
            .as_ref()
            .map(|a| key.open(a).map(|a| a.level).map_err(|_| DomainError::Key))
            .transpose()
    }
}

fn seal<T: serde::Serialize>(key: Option<&SubjectKey>, v: &T) -> Result<Sealed<T>, DomainError> {
    key.ok_or(DomainError::Key)?
        .seal(v)
        .map_err(|_| DomainError::Key)
}

/// Decides a command against a file's state.
pub fn decide(file: &File, cmd: Command, ctx: &Ctx<'_>) -> Result<Vec<HandoverEvent>, DomainError> {
    // Creation.
    match &cmd {
        Command::DraftPreschool { .. } | Command::CreateOso { .. } => {
            if file.exists() {
                return Err(conflict(
                    "dossier-bestaat",
                    "Dit overdrachtsdossier bestaat al.",
                ));
            }
        }
        _ => {
            if !file.exists() {
                return Err(DomainError::NotFound);
            }
            if file.is_refused() {
                return Err(REFUSED);
            }
        }
    }
    let kind = file.kind;
    let is_sender = !file.sender.is_empty() && file.sender == ctx.organisation;
    let require_sender = || if is_sender { Ok(()) } else { Err(NOT_SENDER) };
    let require_kind = |k: FileKind| {
        if kind == Some(k) {
            Ok(())
        } else {
            Err(WRONG_KIND)
        }
    };
    let require_unsent = || {
        if file.sent.is_none() {
            Ok(())
        } else {
            Err(ALREADY_SENT)
        }
    };
    let mut errors = Vec::new();

    let event: HandoverEvent = match cmd {
        Command::DraftPreschool {
            child_id,
            drafted_on,
            warm_wanted,
            child,
            content,
        } => {
            if !is_lrk(ctx.organisation) {
                return Err(DomainError::Forbidden {
                    code: "geen-kinderopvang",
                    detail: "Alleen een kinderopvanglocatie (LRK-nummer) stelt een overdrachtsformulier op.",
                });
            }
            check::fact_date(&mut errors, "opgesteldOp", drafted_on, ctx.today);
            check::identity(
                &mut errors,
                "kind",
                &child,
                drafted_on,
                PRESCHOOL_AGE,
                false,
            );
            check::preschool_content(&mut errors, &content, drafted_on, ctx.today);
            invalid_if_any(errors)?;
            PreschoolFileDrafted {
                municipality: ctx.municipality.to_owned(),
                location: ctx.organisation.to_owned(),
                child_id,
                drafted_on,
                warm_handover_wanted: warm_wanted,
                child: seal(ctx.key, &child)?,
                content: seal(ctx.key, &content)?,
            }
            .into()
        }
        Command::RevisePreschool {
            on,
            warm_wanted,
            content,
        } => {
            require_kind(FileKind::Voorschool)?;
            require_sender()?;
            if file.informed_on.is_some() {
                return Err(conflict(
                    "ouders-al-geinformeerd",
                    "De ouders hebben het formulier gezien; het kan niet meer worden gewijzigd.",
                ));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::preschool_content(&mut errors, &content, on, ctx.today);
            invalid_if_any(errors)?;
            PreschoolFileRevised {
                on,
                warm_handover_wanted: warm_wanted,
                content: seal(ctx.key, &content)?,
            }
            .into()
        }
        Command::CreateOso {
            child_id,
            school_year,
            created_on,
            pupil,
            content,
        } => {
            let school = parse_school_code(ctx.organisation).ok_or(DomainError::Forbidden {
                code: "geen-basisschool",
                detail: "Alleen een schoolvestiging (BRIN en vestiging) maakt een onderwijskundig rapport.",
            })?;
            check::fact_date(&mut errors, "aangemaaktOp", created_on, ctx.today);
            check::school_year(&mut errors, "schooljaar", &school_year, created_on);
            check::identity(&mut errors, "leerling", &pupil, created_on, POVO_AGE, true);
            check::oso_content(&mut errors, &content);
            invalid_if_any(errors)?;
            OsoFileCreated {
                municipality: ctx.municipality.to_owned(),
                school,
                child_id,
                school_year,
                created_on,
                pupil: seal(ctx.key, &pupil)?,
                content: seal(ctx.key, &content)?,
            }
            .into()
        }
        Command::UpdateOso { on, content } => {
            require_kind(FileKind::PoVo)?;
            require_sender()?;
            require_unsent()?;
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::oso_content(&mut errors, &content);
            invalid_if_any(errors)?;
            OsoFileUpdated {
                on,
                content: seal(ctx.key, &content)?,
            }
            .into()
        }
        Command::ProvisionalAdvice { on, advice } => {
            require_kind(FileKind::PoVo)?;
            require_sender()?;
            require_unsent()?;
            if file.provisional.is_some() {
                return Err(conflict(
                    "voorlopig-advies-al-gegeven",
                    "Er is al een voorlopig advies gegeven.",
                ));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::advice(&mut errors, &advice);
            invalid_if_any(errors)?;
            ProvisionalAdviceGiven {
                on,
                advice: seal(ctx.key, &advice)?,
            }
            .into()
        }
        Command::RecordTestResult { on, result } => {
            require_kind(FileKind::PoVo)?;
            require_sender()?;
            require_unsent()?;
            if file.test.is_some() {
                return Err(conflict(
                    "toetsuitslag-al-geregistreerd",
                    "De uitslag van de doorstroomtoets is al geregistreerd.",
                ));
            }
            if file.final_advice.is_some() {
                return Err(conflict(
                    "definitief-advies-gegeven",
                    "Het definitieve advies is al gegeven.",
                ));
            }
            let Some(current) = file.current_advice(ctx.key.ok_or(DomainError::Key)?)? else {
                return Err(conflict(
                    "geen-voorlopig-advies",
                    "Er is nog geen voorlopig advies gegeven.",
                ));
            };
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::test_result(&mut errors, &result);
            invalid_if_any(errors)?;
            TestResultRecorded {
                on,
                reconsideration_due: result.level > current,
                result: seal(ctx.key, &result)?,
            }
            .into()
        }
        Command::Reconsider {
            on,
            reconsideration,
        } => {
            require_kind(FileKind::PoVo)?;
            require_sender()?;
            require_unsent()?;
            if !file.reconsideration_due {
                return Err(conflict(
                    "heroverweging-niet-nodig",
                    "Heroverweging is alleen nodig als de toetsuitslag hoger is dan het advies.",
                ));
            }
            if file.reconsidered.is_some() {
                return Err(conflict(
                    "al-heroverwogen",
                    "Het advies is al heroverwogen.",
                ));
            }
            if file.final_advice.is_some() {
                return Err(conflict(
                    "definitief-advies-gegeven",
                    "Het definitieve advies is al gegeven.",
                ));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::reconsideration(&mut errors, &reconsideration);
            invalid_if_any(errors)?;
            let current = file
                .current_advice(ctx.key.ok_or(DomainError::Key)?)?
                .ok_or(DomainError::Key)?;
            if reconsideration.level < current {
                return Err(LOWERED);
            }
            AdviceReconsidered {
                on,
                outcome: if reconsideration.level > current {
                    ReconsiderationOutcome::Verhoogd
                } else {
                    ReconsiderationOutcome::Gehandhaafd
                },
                reconsideration: seal(ctx.key, &reconsideration)?,
            }
            .into()
        }
        Command::FinalAdvice { on, advice } => {
            require_kind(FileKind::PoVo)?;
            require_sender()?;
            require_unsent()?;
            if file.final_advice.is_some() {
                return Err(conflict(
                    "definitief-advies-al-gegeven",
                    "Het definitieve advies is al gegeven.",
                ));
            }
            if file.reconsideration_due && file.reconsidered.is_none() {
                return Err(conflict(
                    "heroverweging-vereist",
                    "De toetsuitslag is hoger dan het advies: heroverweeg het advies eerst, met motivering.",
                ));
            }
            let Some(current) = file.current_advice(ctx.key.ok_or(DomainError::Key)?)? else {
                return Err(conflict(
                    "geen-voorlopig-advies",
                    "Er is nog geen voorlopig advies gegeven.",
                ));
            };
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::advice(&mut errors, &advice);
            invalid_if_any(errors)?;
            if advice.level < current {
                return Err(LOWERED);
            }
            FinalAdviceGiven {
                on,
                advice: seal(ctx.key, &advice)?,
            }
            .into()
        }
        Command::InformParents { on, how } => {
            require_sender()?;
            require_unsent()?;
            if file.informed_on.is_some() {
                return Err(conflict(
                    "ouders-al-geinformeerd",
                    "De ouders zijn al geïnformeerd.",
                ));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            if file.drafted_on.is_some_and(|d| on < d) {
                errors.push(FieldError::new(
                    "datum",
                    "voor-opsteldatum",
                    "De ouders kunnen niet geïnformeerd zijn voordat het dossier bestond.",
                ));
            }
            invalid_if_any(errors)?;
            ParentsInformed { on, how }.into()
        }
        Command::AddParentsResponse { on, response } => {
            require_sender()?;
            require_unsent()?;
            if file.informed_on.is_none() {
                return Err(NOT_INFORMED);
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::parents_response(&mut errors, &response);
            invalid_if_any(errors)?;
            ParentsResponseAdded {
                on,
                response: seal(ctx.key, &response)?,
            }
            .into()
        }
        Command::GiveConsent { on } => {
            require_kind(FileKind::Voorschool)?;
            require_sender()?;
            require_unsent()?;
            if file.informed_on.is_none() {
                return Err(NOT_INFORMED);
            }
            if matches!(file.consent, Consent::Given(_)) {
                return Err(conflict(
                    "toestemming-al-gegeven",
                    "De ouders gaven al toestemming.",
                ));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            invalid_if_any(errors)?;
            ConsentGiven { on }.into()
        }
        Command::RefuseConsent { on, reason } => {
            require_kind(FileKind::Voorschool)?;
            require_sender()?;
            require_unsent()?;
            if file.informed_on.is_none() {
                return Err(NOT_INFORMED);
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            invalid_if_any(errors)?;
            ConsentRefused { on, reason }.into()
        }
        Command::RecordEnrolment { on, school } => {
            require_sender()?;
            require_unsent()?;
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::school(&mut errors, "school", &school);
            invalid_if_any(errors)?;
            if school.code() == file.sender {
                return Err(conflict(
                    "eigen-school",
                    "Een dossier gaat naar een andere school dan de afzender.",
                ));
            }
            EnrolmentRecorded { school, on }.into()
        }
        Command::Send { on, school } => {
            require_sender()?;
            require_unsent()?;
            check::fact_date(&mut errors, "datum", on, ctx.today);
            check::school(&mut errors, "school", &school);
            if file.drafted_on.is_some_and(|d| on < d) {
                errors.push(FieldError::new(
                    "datum",
                    "voor-opsteldatum",
                    "Een dossier kan niet verzonden zijn voordat het bestond.",
                ));
            }
            invalid_if_any(errors)?;
            if file.informed_on.is_none() {
                return Err(NOT_INFORMED);
            }
            match kind {
                Some(FileKind::Voorschool) => {
                    if !matches!(file.consent, Consent::Given(_)) {
                        return Err(conflict(
                            "geen-toestemming",
                            "Het formulier gaat alleen met toestemming van de ouders naar de school.",
                        ));
                    }
                }
                _ => {
                    if file.final_advice.is_none() {
                        return Err(conflict(
                            "geen-definitief-advies",
                            "Het onderwijskundig rapport gaat pas met het definitieve advies naar de school.",
                        ));
                    }
                }
            }
            let Some(enrolled) = &file.enrolled else {
                return Err(conflict(
                    "geen-inschrijving",
                    "Het dossier gaat alleen naar de school waar het kind is ingeschreven; die is nog niet bekend.",
                ));
            };
            if *enrolled != school {
                return Err(conflict(
                    "niet-de-inschrijvingsschool",
                    "Het dossier gaat alleen naar de school waar het kind is ingeschreven.",
                ));
            }
            FileSent { on, school }.into()
        }
        Command::ConfirmReceipt { on } => {
            if !file.visible_to_receiver(ctx.organisation) {
                return Err(NOT_ADDRESSED);
            }
            if file.confirmed_on.is_some() {
                return Err(conflict("al-bevestigd", "De ontvangst is al bevestigd."));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            if file.sent.as_ref().is_some_and(|(d, _)| on < *d) {
                errors.push(FieldError::new(
                    "datum",
                    "voor-verzending",
                    "De ontvangst kan niet voor de verzending liggen.",
                ));
            }
            invalid_if_any(errors)?;
            ReceiptConfirmed { on }.into()
        }
        Command::PlanWarmHandover { on, participants } => {
            warm_allowed(file, ctx, is_sender)?;
            if file.warm_held_on.is_some() {
                return Err(conflict(
                    "warme-overdracht-al-gehouden",
                    "De warme overdracht is al gehouden.",
                ));
            }
            check::planned_date(&mut errors, "datum", on, ctx.today);
            participants_check(&mut errors, &participants);
            invalid_if_any(errors)?;
            WarmHandoverPlanned { on, participants }.into()
        }
        Command::HoldWarmHandover { on, participants } => {
            warm_allowed(file, ctx, is_sender)?;
            if file.warm_held_on.is_some() {
                return Err(conflict(
                    "warme-overdracht-al-gehouden",
                    "De warme overdracht is al gehouden.",
                ));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            participants_check(&mut errors, &participants);
            invalid_if_any(errors)?;
            WarmHandoverHeld { on, participants }.into()
        }
        Command::FlagOverdue { on, days } => {
            if !ctx.system {
                return Err(DomainError::Forbidden {
                    code: "alleen-dienst",
                    detail: "Alleen de dienst zelf signaleert uitgebleven bevestigingen.",
                });
            }
            if file.sent.is_none() || file.confirmed_on.is_some() {
                return Err(conflict(
                    "niet-openstaand",
                    "Alleen een verzonden, onbevestigd dossier kan worden gesignaleerd.",
                ));
            }
            if file.overdue_flagged {
                return Err(conflict(
                    "al-gesignaleerd",
                    "Dit dossier is al gesignaleerd.",
                ));
            }
            ConfirmationOverdue {
                flagged_on: on,
                days,
            }
            .into()
        }
        Command::ReportYear3 { on, position } => {
            require_kind(FileKind::PoVo)?;
            if !file.visible_to_receiver(ctx.organisation) {
                return Err(NOT_ADDRESSED);
            }
            if file.confirmed_on.is_none() {
                return Err(conflict(
                    "niet-bevestigd",
                    "Bevestig eerst de ontvangst van het dossier.",
                ));
            }
            if file.year3.is_some() {
                return Err(conflict(
                    "positie-al-gemeld",
                    "De positie in leerjaar 3 is al gemeld.",
                ));
            }
            check::fact_date(&mut errors, "datum", on, ctx.today);
            invalid_if_any(errors)?;
            Year3PositionReported { on, position }.into()
        }
    };
    Ok(vec![event])
}

fn warm_allowed(file: &File, ctx: &Ctx<'_>, is_sender: bool) -> Result<(), DomainError> {
    if !is_sender && !file.visible_to_receiver(ctx.organisation) {
        return Err(DomainError::Forbidden {
            code: "niet-betrokken",
            detail: "Alleen de afzender en de ontvangende school plannen de warme overdracht.",
        });
    }
    if file.sent.is_none() {
        return Err(conflict(
            "niet-verzonden",
            "Een warme overdracht volgt op het verzonden dossier.",
        ));
    }
    Ok(())
}

fn participants_check(errors: &mut Vec<FieldError>, participants: &[Participant]) {
    if participants.is_empty() {
        errors.push(FieldError::new(
            "deelnemers",
            "verplicht",
            "Noem wie deelnemen aan de warme overdracht.",
        ));
    }
}

/// An LRK number: nine digits.
pub fn is_lrk(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A school location code (`12AB00`) as a [`SchoolId`].
pub fn parse_school_code(code: &str) -> Option<SchoolId> {
    if code.len() != 6 || !code.is_ascii() {
        return None;
    }
    let s = SchoolId::new(&code[..4], &code[4..]);
    s.is_well_formed().then_some(s)
}

#[cfg(test)]
mod tests;

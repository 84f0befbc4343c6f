//! Demo data of "1 gezin 1 plan": a handful of fictional Leiden families directed by the demo
//! youth team, generated from a seed (pure, [`generate`]) and loaded by sending the commands the
//! case director and the partner organisations would send ([`load_demo`]).
//!
//! Every family has participants (JGZ, the primary school and/or the childcare location), their
//! strengths, concerns, network, goals with actions per organisation, an adopted plan, consents per
//! organisation and part of the plan with end dates, hours against budgets and a review. Between
//! them the families show every state the case director's screen knows: a consent ending within
//! 30 days, a withdrawn consent, an expired one; a review overdue (planned again within the
//! month), a review held today with a second plan version, reviews scheduled 6 to 10 months after
//! the plan (the domain's rule); the case-direction budget exceeded; one closed case. There is no
//! escalation to Veilig Thuis.
//!
//! Dates are relative to `today`, and nothing lies after it except planned dates (targets,
//! deadlines, reviews, consent end dates). The service decides with its own clock, so `today`
//! must be the day of loading. Ids (cases, goals, actions, consents, reviews, command ids) come
//! from the seed only, so loading the same seed again (even on another day) appends nothing: every
//! command is answered as `replayed`.

use std::time::Duration;

use async_nats::Client;
use chrono::{Days, Months, NaiveDate};
use futures::StreamExt;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::casework::{
    subjects, ActionStatus, CaseOutcome, ConsentGiver, GoalStatus, HoursKind, MemberRole, PlanPart,
    Priority,
};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::Problem;
use serde_json::Value;
use uuid::Uuid;

use crate::api::{self, MemberInput};
use crate::domain::case::REVIEW_MAX_MONTHS;
use crate::domain::case::REVIEW_MIN_MONTHS;

/// The pairwise pseudonym (`sub`) the local development issuer gives the persona `regisseur`
/// (`kansrijk_gateway::dev_oidc::personas::pseudonym("regisseur")`): the caseload lists the
/// cases the asking professional directs, so the demo cases are directed by this person.
pub const REGISSEUR_PERSON: &str = "d07df7dfe04a8ca8e496ae3d7dc20bd0";
/// ... of `jgz-verpleegkundige`.
pub const JGZ_PERSON: &str = "c4063ee4728dc339396e5841e8e66083";
/// ... of `intern-begeleider`.
pub const SCHOOL_PERSON: &str = "71a1ca5fd43de0821bf1e27e438b8808";
/// ... of `pedagogisch-medewerker`.
pub const CHILDCARE_PERSON: &str = "c31089f608b8a1144d141f3f184e436f";

/// Settings of the generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    pub seed: u64,
    /// CBS code of the municipality ("0546").
    pub municipality: String,
    /// The anchor: nothing recorded after it. Must be the day of loading.
    pub today: NaiveDate,
    /// The directing youth team (type Jeugdteam, role `regisseur`).
    pub youth_team: String,
    pub jgz: String,
    pub primary_school: String,
    pub childcare: String,
    /// The case director's pseudonym (the `person` of the directing actor).
    pub director_person: String,
}

impl DemoConfig {
    /// Leiden (0546) with the demo organisations of the partner registry, as of `today`.
    pub fn leiden(seed: u64, today: NaiveDate) -> Self {
        DemoConfig {
            seed,
            municipality: "0546".into(),
            today,
            youth_team: "90000002".into(),
            jgz: "00000001000000001001".into(),
            primary_school: "20VF00".into(),
            childcare: "100000001".into(),
            director_person: REGISSEUR_PERSON.into(),
        }
    }
}

/// Who sends a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sender {
    /// The youth team that directs the case.
    Director,
    Jgz,
    School,
    Childcare,
}

impl Sender {
    pub fn organisation(self, cfg: &DemoConfig) -> &str {
        match self {
            Sender::Director => &cfg.youth_team,
            Sender::Jgz => &cfg.jgz,
            Sender::School => &cfg.primary_school,
            Sender::Childcare => &cfg.childcare,
        }
    }

    pub fn organisation_type(self) -> OrganisationType {
        match self {
            Sender::Director => OrganisationType::Jeugdteam,
            Sender::Jgz => OrganisationType::Jgz,
            Sender::School => OrganisationType::Basisschool,
            Sender::Childcare => OrganisationType::Kinderopvang,
        }
    }

    /// The actor sending as this organisation.
    pub fn actor(self, cfg: &DemoConfig) -> Actor {
        let (person, role) = match self {
            Sender::Director => (cfg.director_person.as_str(), "regisseur"),
            Sender::Jgz => (JGZ_PERSON, "jeugdverpleegkundige"),
            Sender::School => (SCHOOL_PERSON, "intern-begeleider"),
            Sender::Childcare => (CHILDCARE_PERSON, "pedagogisch-medewerker"),
        };
        Actor {
            person: person.into(),
            organisation: self.organisation(cfg).into(),
            organisation_type: self.organisation_type(),
            role: role.into(),
            municipality: cfg.municipality.clone(),
            purpose: Purpose::Casusregie,
        }
    }
}

/// One command of the demo, with its request body as the API takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoCommand {
    Open(api::OpenCase),
    AddParticipant(api::AddParticipant),
    GrantConsent(api::GrantConsent),
    RevokeConsent(api::RevokeConsent),
    Strengths(api::RecordStrengths),
    Concern(api::RecordConcern),
    Network(api::RecordNetwork),
    Goal(api::SetGoal),
    GoalStatus(api::ChangeGoalStatus),
    Action(api::AssignAction),
    ActionStatus(api::ChangeActionStatus),
    AdoptPlan(api::AdoptPlan),
    ScheduleReview(api::ScheduleReview),
    RecordReview(api::RecordReview),
    Hours(api::RecordHours),
    Budget(api::SetHoursBudget),
    Close(api::CloseCase),
}

impl DemoCommand {
    /// The NATS subject of the command.
    pub fn subject(&self) -> &'static str {
        match self {
            DemoCommand::Open(_) => subjects::OPEN_CASE,
            DemoCommand::AddParticipant(_) => subjects::ADD_PARTICIPANT,
            DemoCommand::GrantConsent(_) => subjects::GRANT_CONSENT,
            DemoCommand::RevokeConsent(_) => subjects::REVOKE_CONSENT,
            DemoCommand::Strengths(_) => subjects::RECORD_STRENGTHS,
            DemoCommand::Concern(_) => subjects::RECORD_CONCERN,
            DemoCommand::Network(_) => subjects::RECORD_NETWORK,
            DemoCommand::Goal(_) => subjects::SET_GOAL,
            DemoCommand::GoalStatus(_) => subjects::CHANGE_GOAL_STATUS,
            DemoCommand::Action(_) => subjects::ASSIGN_ACTION,
            DemoCommand::ActionStatus(_) => subjects::CHANGE_ACTION_STATUS,
            DemoCommand::AdoptPlan(_) => subjects::ADOPT_PLAN,
            DemoCommand::ScheduleReview(_) => subjects::SCHEDULE_REVIEW,
            DemoCommand::RecordReview(_) => subjects::RECORD_REVIEW,
            DemoCommand::Hours(_) => subjects::RECORD_HOURS,
            DemoCommand::Budget(_) => subjects::SET_HOURS_BUDGET,
            DemoCommand::Close(_) => subjects::CLOSE_CASE,
        }
    }

    /// The request body (JSON).
    pub fn body(&self) -> Value {
        fn v<T: serde::Serialize>(t: &T) -> Value {
            serde_json::to_value(t).unwrap_or(Value::Null)
        }
        match self {
            DemoCommand::Open(b) => v(b),
            DemoCommand::AddParticipant(b) => v(b),
            DemoCommand::GrantConsent(b) => v(b),
            DemoCommand::RevokeConsent(b) => v(b),
            DemoCommand::Strengths(b) => v(b),
            DemoCommand::Concern(b) => v(b),
            DemoCommand::Network(b) => v(b),
            DemoCommand::Goal(b) => v(b),
            DemoCommand::GoalStatus(b) => v(b),
            DemoCommand::Action(b) => v(b),
            DemoCommand::ActionStatus(b) => v(b),
            DemoCommand::AdoptPlan(b) => v(b),
            DemoCommand::ScheduleReview(b) => v(b),
            DemoCommand::RecordReview(b) => v(b),
            DemoCommand::Hours(b) => v(b),
            DemoCommand::Budget(b) => v(b),
            DemoCommand::Close(b) => v(b),
        }
    }
}

/// One step of a case: who sends which command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStep {
    pub sender: Sender,
    pub command: DemoCommand,
}

/// One fictional family's case, its commands in the order they are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCase {
    pub case_id: Uuid,
    pub family_name: String,
    pub district: String,
    /// What the case shows (for the report and the tests), e.g. `evaluatie-te-laat`.
    pub story: &'static str,
    pub steps: Vec<DemoStep>,
    /// Command ids: `command_seed + i` for step `i`, stable for a seed.
    pub command_seed: u128,
}

impl DemoCase {
    pub fn command_id(&self, step: usize) -> Uuid {
        Uuid::from_u128(self.command_seed.wrapping_add(step as u128))
    }
}

/// The whole data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoData {
    pub cases: Vec<DemoCase>,
}

/// A small deterministic generator (SplitMix64): the same seed gives the same data on every
/// platform and every version of the dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn u128(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }

    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.u128().to_be_bytes()).into_uuid()
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Shuffles `xs` (Fisher-Yates).
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
}

const FAMILY_NAMES: &[&str] = &[
    "El Amrani",
    "Jansen",
    "Yilmaz",
    "de Vries",
    "Bouzid",
    "Kowalski",
    "Haddou",
    "Pinas",
    "van Leeuwen",
    "Öztürk",
    "Martina",
    "Visser",
];
const MOTHERS: &[&str] = &[
    "Samira",
    "Linda",
    "Elif",
    "Mirjam",
    "Fatima",
    "Agnieszka",
    "Naima",
    "Sharon",
    "Esra",
];
const FATHERS: &[&str] = &[
    "Karim", "Mark", "Mehmet", "Dennis", "Rachid", "Tomasz", "Hicham", "Ricardo", "Emre",
];
const CHILDREN: &[&str] = &[
    "Yusuf", "Noor", "Daan", "Mila", "Adam", "Zoë", "Ayoub", "Lina", "Finn", "Sara", "Omar",
    "Tess", "Amira", "Levi", "Elif", "Sem",
];

/// The districts the demo families live in (the registry's Leiden districts).
pub const DISTRICTS: &[&str] = &[
    "Leiden-Noord",
    "Merenwijkdistrict",
    "Morsdistrict",
    "Stevenshofdistrict",
    "Leiden-Noord",
    "Roodenburgerdistrict",
    "Leiden-Noord",
];

/// The story of each case, in order.
pub const STORIES: &[&str] = &[
    "evaluatie-te-laat",
    "evaluatie-gehouden",
    "toestemming-ingetrokken",
    "net-gestart",
    "budget-overschreden",
    "gesloten",
    "toestemming-verlopen",
];

/// Builds one case's steps.
struct Builder<'a> {
    cfg: &'a DemoConfig,
    rng: &'a mut Rng,
    case_id: Uuid,
    family: String,
    steps: Vec<DemoStep>,
}

impl Builder<'_> {
    fn ago(&self, days: u64) -> NaiveDate {
        self.cfg.today - Days::new(days)
    }

    fn ahead(&self, days: u64) -> NaiveDate {
        self.cfg.today + Days::new(days)
    }

    fn push(&mut self, sender: Sender, command: DemoCommand) {
        self.steps.push(DemoStep { sender, command });
    }

    fn open(
        &mut self,
        district: &str,
        on: NaiveDate,
        budget: Option<u16>,
        members: Vec<MemberInput>,
    ) {
        let case_id = self.case_id;
        self.push(
            Sender::Director,
            DemoCommand::Open(api::OpenCase {
                casus_id: Some(case_id),
                wijk: district.into(),
                geopend_op: on,
                urenbudget_regie: budget,
                gezinsleden: members,
            }),
        );
    }

    fn join(&mut self, who: Sender, on: NaiveDate) {
        let b = api::AddParticipant {
            casus_id: self.case_id,
            organisatie: who.organisation(self.cfg).into(),
            organisatietype: who.organisation_type(),
            datum: on,
        };
        self.push(Sender::Director, DemoCommand::AddParticipant(b));
    }

    fn consent(
        &mut self,
        who: Sender,
        parts: &[PlanPart],
        on: NaiveDate,
        until: NaiveDate,
    ) -> Uuid {
        let id = self.rng.uuid();
        let b = api::GrantConsent {
            casus_id: self.case_id,
            toestemming_id: Some(id),
            organisatie: who.organisation(self.cfg).into(),
            onderdelen: parts.to_vec(),
            doel: None,
            gegeven_op: on,
            geldig_tot: until,
            gegeven_door: ConsentGiver::Ouders,
        };
        self.push(Sender::Director, DemoCommand::GrantConsent(b));
        id
    }

    fn revoke(&mut self, consent: Uuid, on: NaiveDate) {
        let b = api::RevokeConsent {
            casus_id: self.case_id,
            toestemming_id: consent,
            ingetrokken_op: on,
        };
        self.push(Sender::Director, DemoCommand::RevokeConsent(b));
    }

    fn strengths(&mut self, items: &[&str], on: NaiveDate) {
        let b = api::RecordStrengths {
            casus_id: self.case_id,
            sterke_punten: items.iter().map(|s| (*s).to_owned()).collect(),
            vastgelegd_op: on,
        };
        self.push(Sender::Director, DemoCommand::Strengths(b));
    }

    fn network(&mut self, items: &[&str], on: NaiveDate) {
        let b = api::RecordNetwork {
            casus_id: self.case_id,
            inzet: items.iter().map(|s| (*s).to_owned()).collect(),
            vastgelegd_op: on,
        };
        self.push(Sender::Director, DemoCommand::Network(b));
    }

    fn concern(&mut self, priority: Priority, text: &str, on: NaiveDate) -> Uuid {
        let id = self.rng.uuid();
        let b = api::RecordConcern {
            casus_id: self.case_id,
            zorg_id: Some(id),
            prioriteit: priority,
            omschrijving: text.into(),
            vastgelegd_op: on,
        };
        self.push(Sender::Director, DemoCommand::Concern(b));
        id
    }

    fn goal(
        &mut self,
        concern: Option<Uuid>,
        text: &str,
        target: NaiveDate,
        on: NaiveDate,
    ) -> Uuid {
        let id = self.rng.uuid();
        let b = api::SetGoal {
            casus_id: self.case_id,
            doel_id: Some(id),
            zorg_id: concern,
            omschrijving: text.into(),
            streefdatum: target,
            gesteld_op: on,
        };
        self.push(Sender::Director, DemoCommand::Goal(b));
        id
    }

    fn goal_status(&mut self, goal: Uuid, status: GoalStatus, on: NaiveDate) {
        let b = api::ChangeGoalStatus {
            casus_id: self.case_id,
            doel_id: goal,
            status,
            datum: on,
        };
        self.push(Sender::Director, DemoCommand::GoalStatus(b));
    }

    fn action(
        &mut self,
        goal: Uuid,
        who: Sender,
        text: &str,
        due: NaiveDate,
        on: NaiveDate,
    ) -> Uuid {
        let id = self.rng.uuid();
        let b = api::AssignAction {
            casus_id: self.case_id,
            actie_id: Some(id),
            doel_id: goal,
            organisatie: who.organisation(self.cfg).into(),
            omschrijving: text.into(),
            deadline: due,
            toegewezen_op: on,
        };
        self.push(Sender::Director, DemoCommand::Action(b));
        id
    }

    /// The action's own organisation reports its status.
    fn action_status(&mut self, by: Sender, action: Uuid, status: ActionStatus, on: NaiveDate) {
        let b = api::ChangeActionStatus {
            casus_id: self.case_id,
            actie_id: action,
            status,
            datum: on,
        };
        self.push(by, DemoCommand::ActionStatus(b));
    }

    fn adopt(&mut self, on: NaiveDate) {
        let b = api::AdoptPlan {
            casus_id: self.case_id,
            vastgesteld_op: on,
        };
        self.push(Sender::Director, DemoCommand::AdoptPlan(b));
    }

    /// Plans a review `months` after `reference` (the plan or the last review), moved into the
    /// window the domain allows on `today`: 6 to 10 months after the reference and not before
    /// today; when that window has passed, within a month from today.
    fn schedule(&mut self, reference: NaiveDate, prefer: NaiveDate) -> (Uuid, NaiveDate) {
        let id = self.rng.uuid();
        let on = review_window(reference, self.cfg.today, prefer);
        let b = api::ScheduleReview {
            casus_id: self.case_id,
            evaluatie_id: Some(id),
            gepland: on,
        };
        self.push(Sender::Director, DemoCommand::ScheduleReview(b));
        (id, on)
    }

    fn hold_review(&mut self, review: Uuid, on: NaiveDate, minutes: &str) {
        let b = api::RecordReview {
            casus_id: self.case_id,
            evaluatie_id: review,
            gehouden_op: on,
            verslag: minutes.into(),
        };
        self.push(Sender::Director, DemoCommand::RecordReview(b));
    }

    fn hours(&mut self, by: Sender, on: NaiveDate, minutes: u32) {
        let kind = if by == Sender::Director {
            HoursKind::Regie
        } else {
            HoursKind::Ondersteuning
        };
        let b = api::RecordHours {
            casus_id: self.case_id,
            datum: on,
            minuten: minutes,
            soort: kind,
        };
        self.push(by, DemoCommand::Hours(b));
    }

    fn budget(&mut self, who: Sender, hours: u16) {
        let b = api::SetHoursBudget {
            casus_id: self.case_id,
            organisatie: who.organisation(self.cfg).into(),
            uren: hours,
        };
        self.push(Sender::Director, DemoCommand::Budget(b));
    }

    fn close(&mut self, on: NaiveDate, outcome: CaseOutcome, note: &str) {
        let b = api::CloseCase {
            casus_id: self.case_id,
            gesloten_op: on,
            uitkomst: outcome,
            toelichting: Some(note.into()),
        };
        self.push(Sender::Director, DemoCommand::Close(b));
    }
}

/// The review date the domain accepts on `today` nearest to `prefer` (see [`Builder::schedule`]).
pub fn review_window(reference: NaiveDate, today: NaiveDate, prefer: NaiveDate) -> NaiveDate {
    let earliest = reference
        .checked_add_months(Months::new(REVIEW_MIN_MONTHS))
        .unwrap_or(NaiveDate::MAX);
    let latest = reference
        .checked_add_months(Months::new(REVIEW_MAX_MONTHS))
        .unwrap_or(NaiveDate::MAX);
    let (lo, hi) = if today > latest {
        (today, today + Days::new(31))
    } else {
        (earliest.max(today), latest)
    };
    prefer.clamp(lo, hi)
}

fn months_after(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months)).unwrap_or(d)
}

/// The household of a case: one or two parents and the children with their ages in years.
struct Household {
    mother: String,
    father: Option<String>,
    children: Vec<(String, NaiveDate)>,
}

impl Household {
    fn members(&self, family: &str) -> Vec<MemberInput> {
        let mut out = vec![MemberInput {
            rol: MemberRole::Ouder,
            voornaam: self.mother.clone(),
            achternaam: family.into(),
            geboortedatum: None,
            dossier: None,
        }];
        if let Some(f) = &self.father {
            out.push(MemberInput {
                rol: MemberRole::Ouder,
                voornaam: f.clone(),
                achternaam: family.into(),
                geboortedatum: None,
                dossier: None,
            });
        }
        for (name, born) in &self.children {
            out.push(MemberInput {
                rol: MemberRole::Kind,
                voornaam: name.clone(),
                achternaam: family.into(),
                geboortedatum: Some(*born),
                dossier: None,
            });
        }
        out
    }

    fn child(&self, i: usize) -> &str {
        self.children
            .get(i)
            .or(self.children.first())
            .map_or("het kind", |(n, _)| n.as_str())
    }
}

/// Generates the data set (pure: the same config gives the same data). Which ids and names a
/// seed gives does not depend on `today`; only the dates do.
pub fn generate(cfg: &DemoConfig) -> DemoData {
    let mut rng = Rng(cfg.seed ^ 0x6361_7365_776F_726B);
    let mut families: Vec<&str> = FAMILY_NAMES.to_vec();
    rng.shuffle(&mut families);
    let mut children: Vec<&str> = CHILDREN.to_vec();
    rng.shuffle(&mut children);
    let mut cases = Vec::new();
    for (i, story) in STORIES.iter().enumerate() {
        let case_id = rng.uuid();
        let command_seed = rng.u128();
        let family = families[i % families.len()].to_owned();
        let district = DISTRICTS[i % DISTRICTS.len()].to_owned();
        let jitter = rng.below(5);
        let two_parents = rng.below(3) != 0;
        let household = Household {
            mother: (*rng.pick(MOTHERS)).to_owned(),
            father: two_parents.then(|| (*rng.pick(FATHERS)).to_owned()),
            children: Vec::new(),
        };
        let mut b = Builder {
            cfg,
            rng: &mut rng,
            case_id,
            family: family.clone(),
            steps: Vec::new(),
        };
        let names = (
            children[(2 * i) % children.len()],
            children[(2 * i + 1) % children.len()],
        );
        match *story {
            "evaluatie-te-laat" => overdue(&mut b, household, names, &district, jitter),
            "evaluatie-gehouden" => review_held(&mut b, household, names, &district, jitter),
            "toestemming-ingetrokken" => withdrawn(&mut b, household, names, &district, jitter),
            "net-gestart" => just_started(&mut b, household, names, &district, jitter),
            "budget-overschreden" => over_budget(&mut b, household, names, &district, jitter),
            "gesloten" => closed(&mut b, household, names, &district, jitter),
            _ => expired(&mut b, household, names, &district, jitter),
        }
        let steps = b.steps;
        cases.push(DemoCase {
            case_id,
            family_name: family,
            district,
            story,
            steps,
            command_seed,
        });
    }
    DemoData { cases }
}

fn born(b: &Builder<'_>, years: u64, extra_days: u64) -> NaiveDate {
    b.ago(years * 365 + extra_days)
}

/// Opened eleven months ago, plan ten and a half months ago: the review is overdue today and is
/// planned again within the week; the childcare consent ends within three weeks.
fn overdue(b: &mut Builder<'_>, mut h: Household, (c1, c2): (&str, &str), district: &str, j: u64) {
    h.children = vec![
        (c1.into(), born(b, 6, 40 + j * 7)),
        (c2.into(), born(b, 3, 10 + j * 5)),
    ];
    let plan = b.ago(322 + j);
    let opened = plan - Days::new(14);
    b.open(district, opened, Some(12), h.members(&b.family));
    b.join(Sender::Jgz, opened + Days::new(2));
    b.join(Sender::School, opened + Days::new(2));
    b.join(Sender::Childcare, opened + Days::new(3));
    let granted = opened + Days::new(5);
    b.consent(
        Sender::Jgz,
        &[
            PlanPart::Gezinsleden,
            PlanPart::Zorgen,
            PlanPart::DoelenActies,
            PlanPart::Evaluaties,
        ],
        granted,
        months_after(granted, 18),
    );
    b.consent(
        Sender::School,
        &[PlanPart::SterkePunten, PlanPart::DoelenActies],
        granted,
        months_after(granted, 18),
    );
    // Ends within the next 30 days: to be renewed at the review.
    let soon = b.ahead(12 + j);
    b.consent(
        Sender::Childcare,
        &[PlanPart::DoelenActies, PlanPart::Netwerk],
        granted,
        soon,
    );
    b.strengths(
        &[
            "Moeder is zeer betrokken en komt afspraken na",
            &format!(
                "{} gaat graag naar school en heeft een goede band met de juf",
                h.child(0)
            ),
            "De familie woont dichtbij en springt bij",
        ],
        opened + Days::new(6),
    );
    let money = b.concern(
        Priority::Hoog,
        "Schulden en een dreigende huisuitzetting geven veel spanning thuis",
        opened + Days::new(6),
    );
    let lang = b.concern(
        Priority::Middel,
        &format!("De taalontwikkeling van {} loopt achter", h.child(1)),
        opened + Days::new(6),
    );
    b.network(
        &[
            "Oma past twee middagen per week op",
            "De buurvrouw helpt met brieven van instanties",
        ],
        opened + Days::new(8),
    );
    let g1 = b.goal(
        Some(money),
        "Het gezin heeft een stabiele woonsituatie en een betalingsregeling",
        b.ahead(60),
        opened + Days::new(10),
    );
    let g2 = b.goal(
        Some(lang),
        &format!(
            "{} gaat vier dagdelen per week naar de voorschool (VVE)",
            h.child(1)
        ),
        b.ahead(90),
        opened + Days::new(10),
    );
    let a1 = b.action(
        g1,
        Sender::Director,
        "Aanmelding schuldhulpverlening begeleiden",
        plan + Days::new(30),
        plan,
    );
    let a2 = b.action(
        g2,
        Sender::Childcare,
        "Plaats op de VVE-groep aanbieden en wenperiode plannen",
        plan + Days::new(45),
        plan,
    );
    let a3 = b.action(
        g2,
        Sender::Jgz,
        "Taalontwikkeling volgen op het consultatiebureau",
        b.ahead(30),
        plan,
    );
    let _a4 = b.action(
        g1,
        Sender::School,
        "Ouder wijzen op de schoolmaatschappelijk werker",
        b.ago(20),
        plan,
    );
    b.adopt(plan);
    b.action_status(
        Sender::Director,
        a1,
        ActionStatus::Afgerond,
        plan + Days::new(25),
    );
    b.action_status(
        Sender::Childcare,
        a2,
        ActionStatus::Afgerond,
        plan + Days::new(40),
    );
    b.action_status(
        Sender::Jgz,
        a3,
        ActionStatus::InUitvoering,
        plan + Days::new(60),
    );
    b.budget(Sender::Jgz, 8);
    b.budget(Sender::Childcare, 4);
    for (d, m) in [(10, 90), (40, 60), (95, 45), (160, 60), (240, 30)] {
        b.hours(Sender::Director, plan + Days::new(d), m);
    }
    b.hours(Sender::Jgz, plan + Days::new(50), 45);
    b.hours(Sender::Childcare, plan + Days::new(35), 60);
    // Overdue: planned again within the week.
    let prefer = b.ahead(7);
    b.schedule(plan, prefer);
}

/// Plan seven and a half months ago; the review is held today: one goal reached, a new goal
/// and a second plan version, the next review in seven months.
fn review_held(
    b: &mut Builder<'_>,
    mut h: Household,
    (c1, _): (&str, &str),
    district: &str,
    j: u64,
) {
    h.children = vec![(c1.into(), born(b, 7, 100 + j * 11))];
    let plan = b.ago(228 + j);
    let opened = plan - Days::new(20);
    let today = b.cfg.today;
    b.open(district, opened, None, h.members(&b.family));
    b.join(Sender::School, opened + Days::new(3));
    b.join(Sender::Jgz, opened + Days::new(4));
    let granted = opened + Days::new(7);
    b.consent(
        Sender::School,
        &[
            PlanPart::SterkePunten,
            PlanPart::Zorgen,
            PlanPart::DoelenActies,
            PlanPart::Evaluaties,
        ],
        granted,
        months_after(granted, 12),
    );
    b.consent(
        Sender::Jgz,
        &[
            PlanPart::Gezinsleden,
            PlanPart::Zorgen,
            PlanPart::DoelenActies,
        ],
        granted,
        months_after(granted, 12),
    );
    b.strengths(
        &[
            "Vader en moeder werken goed samen in de opvoeding",
            &format!("{} is sportief en zit op voetbal", h.child(0)),
        ],
        opened + Days::new(8),
    );
    let absence = b.concern(
        Priority::Hoog,
        &format!(
            "{} verzuimt veel en komt vaak te laat op school",
            h.child(0)
        ),
        opened + Days::new(8),
    );
    let sleep = b.concern(
        Priority::Laag,
        "Onregelmatig slaappatroon, het kind is overdag moe",
        opened + Days::new(8),
    );
    b.network(
        &[
            "De trainer van de voetbalclub haalt het kind op",
            "Een tante woont in dezelfde straat",
        ],
        opened + Days::new(9),
    );
    let g1 = b.goal(
        Some(absence),
        &format!("{} is elke schooldag op tijd op school", h.child(0)),
        plan + Days::new(180),
        opened + Days::new(12),
    );
    let g2 = b.goal(
        Some(sleep),
        "Het gezin heeft een vast avondritme",
        b.ahead(120),
        opened + Days::new(12),
    );
    let a1 = b.action(
        g1,
        Sender::School,
        "Dagelijks contact met ouders over aanwezigheid",
        plan + Days::new(150),
        plan,
    );
    let a2 = b.action(
        g2,
        Sender::Jgz,
        "Slaapadvies geven op het spreekuur",
        plan + Days::new(60),
        plan,
    );
    let _a3 = b.action(
        g2,
        Sender::Director,
        "Opvoedondersteuning thuis inzetten",
        b.ahead(45),
        plan,
    );
    b.adopt(plan);
    b.action_status(
        Sender::School,
        a1,
        ActionStatus::Afgerond,
        plan + Days::new(170),
    );
    b.action_status(
        Sender::Jgz,
        a2,
        ActionStatus::InUitvoering,
        plan + Days::new(40),
    );
    b.budget(Sender::School, 6);
    b.budget(Sender::Jgz, 4);
    for (d, m) in [(5, 120), (35, 60), (90, 45), (150, 60)] {
        b.hours(Sender::Director, plan + Days::new(d), m);
    }
    b.hours(Sender::School, plan + Days::new(30), 30);
    b.hours(Sender::School, plan + Days::new(120), 45);
    // The review, held today.
    let (review, _) = b.schedule(plan, today);
    b.goal_status(g1, GoalStatus::Behaald, today);
    let g3 = b.goal(
        None,
        &format!(
            "{} doet na school mee aan een activiteit in de wijk",
            h.child(0)
        ),
        b.ahead(150),
        today,
    );
    b.action(
        g3,
        Sender::School,
        "Kind aanmelden bij de naschoolse activiteiten",
        b.ahead(30),
        today,
    );
    b.hold_review(
        review,
        today,
        "Evaluatie met ouders, school en JGZ: het verzuim is opgelost, het avondritme gaat beter. \
         Nieuw doel: meedoen aan een activiteit na school.",
    );
    b.adopt(today);
    b.schedule(today, months_after(today, 7));
}

/// The parents withdrew the school's consent for the concerns; a narrower consent followed.
fn withdrawn(
    b: &mut Builder<'_>,
    mut h: Household,
    (c1, c2): (&str, &str),
    district: &str,
    j: u64,
) {
    h.children = vec![
        (c1.into(), born(b, 5, 30 + j * 9)),
        (c2.into(), born(b, 2, 200 + j * 3)),
    ];
    let plan = b.ago(130 + j);
    let opened = plan - Days::new(18);
    b.open(district, opened, None, h.members(&b.family));
    b.join(Sender::School, opened + Days::new(1));
    b.join(Sender::Jgz, opened + Days::new(1));
    let granted = opened + Days::new(4);
    let school = b.consent(
        Sender::School,
        &[PlanPart::Zorgen, PlanPart::DoelenActies],
        granted,
        months_after(granted, 12),
    );
    b.consent(
        Sender::Jgz,
        &[
            PlanPart::Gezinsleden,
            PlanPart::Zorgen,
            PlanPart::DoelenActies,
            PlanPart::Uren,
        ],
        granted,
        months_after(granted, 12),
    );
    b.strengths(
        &[
            "Moeder zoekt zelf hulp en staat open voor advies",
            "Warme band tussen de kinderen",
        ],
        opened + Days::new(5),
    );
    let c = b.concern(
        Priority::Hoog,
        "Moeder is overbelast sinds de scheiding en slaapt slecht",
        opened + Days::new(5),
    );
    let d = b.concern(
        Priority::Middel,
        &format!("{} is op school teruggetrokken", h.child(0)),
        opened + Days::new(5),
    );
    b.network(
        &["Een vriendin van moeder doet boodschappen"],
        opened + Days::new(6),
    );
    let g1 = b.goal(
        Some(c),
        "Moeder heeft wekelijks tijd voor zichzelf en voelt zich minder belast",
        b.ahead(100),
        opened + Days::new(8),
    );
    let g2 = b.goal(
        Some(d),
        &format!("{} speelt in de pauze mee met klasgenoten", h.child(0)),
        b.ahead(80),
        opened + Days::new(8),
    );
    let _ = b.action(
        g1,
        Sender::Director,
        "Respijtzorg aanvragen bij het wijkteam",
        plan + Days::new(21),
        plan,
    );
    let a2 = b.action(
        g2,
        Sender::School,
        "Maatje in de klas en observatie door de intern begeleider",
        b.ahead(20),
        plan,
    );
    let a3 = b.action(
        g1,
        Sender::Jgz,
        "Huisbezoek door de jeugdverpleegkundige",
        plan + Days::new(30),
        plan,
    );
    b.adopt(plan);
    b.action_status(
        Sender::School,
        a2,
        ActionStatus::InUitvoering,
        plan + Days::new(14),
    );
    b.action_status(
        Sender::Jgz,
        a3,
        ActionStatus::Afgerond,
        plan + Days::new(28),
    );
    // Withdrawn: the parents no longer want the school to read the concerns.
    let revoked = b.ago(25 + j);
    b.revoke(school, revoked);
    b.consent(
        Sender::School,
        &[PlanPart::DoelenActies],
        revoked,
        months_after(revoked, 12),
    );
    b.budget(Sender::Jgz, 6);
    for (d, m) in [(3, 90), (30, 60), (70, 30)] {
        b.hours(Sender::Director, plan + Days::new(d), m);
    }
    b.hours(Sender::Jgz, plan + Days::new(28), 75);
    b.schedule(plan, months_after(plan, 7));
}

/// A young case: opened six weeks ago, the first plan two weeks later.
fn just_started(
    b: &mut Builder<'_>,
    mut h: Household,
    (c1, _): (&str, &str),
    district: &str,
    j: u64,
) {
    h.children = vec![(c1.into(), born(b, 3, 60 + j * 13))];
    let plan = b.ago(22 + j);
    let opened = plan - Days::new(20);
    b.open(district, opened, None, h.members(&b.family));
    b.join(Sender::Jgz, opened + Days::new(1));
    b.join(Sender::Childcare, opened + Days::new(2));
    let granted = opened + Days::new(3);
    b.consent(
        Sender::Jgz,
        &PlanPart::ALL[..7],
        granted,
        months_after(granted, 12),
    );
    b.consent(
        Sender::Childcare,
        &[PlanPart::SterkePunten, PlanPart::DoelenActies],
        granted,
        months_after(granted, 12),
    );
    b.strengths(
        &[
            &format!("{} is nieuwsgierig en speelt graag buiten", h.child(0)),
            "Ouders vragen zelf om hulp",
        ],
        opened + Days::new(4),
    );
    let c = b.concern(
        Priority::Hoog,
        &format!(
            "{} spreekt nog weinig woorden en raakt snel gefrustreerd",
            h.child(0)
        ),
        opened + Days::new(4),
    );
    b.network(&["Opa en oma komen elk weekend"], opened + Days::new(5));
    let g = b.goal(
        Some(c),
        &format!("{} gebruikt zinnen van twee woorden", h.child(0)),
        b.ahead(180),
        opened + Days::new(6),
    );
    let _ = b.action(
        g,
        Sender::Jgz,
        "Verwijzing naar de logopedist en gehoortest",
        b.ahead(14),
        plan,
    );
    let a2 = b.action(
        g,
        Sender::Childcare,
        "Extra taalactiviteiten op de groep, voorlezen in kleine kring",
        b.ahead(60),
        plan,
    );
    let _ = b.action(
        g,
        Sender::Director,
        "Ouders koppelen aan VoorleesExpress",
        b.ahead(30),
        plan,
    );
    b.adopt(plan);
    b.action_status(
        Sender::Childcare,
        a2,
        ActionStatus::InUitvoering,
        plan + Days::new(7),
    );
    b.budget(Sender::Jgz, 6);
    b.budget(Sender::Childcare, 4);
    b.hours(Sender::Director, opened + Days::new(4), 120);
    b.hours(Sender::Director, plan, 90);
    b.hours(Sender::Childcare, plan + Days::new(7), 30);
    let prefer = months_after(plan, 6) + Days::new(10);
    b.schedule(plan, prefer);
}

/// The case director spent more hours than the budget of case direction.
fn over_budget(
    b: &mut Builder<'_>,
    mut h: Household,
    (c1, c2): (&str, &str),
    district: &str,
    j: u64,
) {
    h.children = vec![
        (c1.into(), born(b, 8, 15 + j * 10)),
        (c2.into(), born(b, 4, 120 + j * 4)),
    ];
    let plan = b.ago(170 + j);
    let opened = plan - Days::new(25);
    b.open(district, opened, Some(10), h.members(&b.family));
    b.join(Sender::School, opened + Days::new(2));
    b.join(Sender::Jgz, opened + Days::new(2));
    b.join(Sender::Childcare, opened + Days::new(5));
    let granted = opened + Days::new(6);
    b.consent(
        Sender::School,
        &[
            PlanPart::SterkePunten,
            PlanPart::Zorgen,
            PlanPart::DoelenActies,
        ],
        granted,
        months_after(granted, 12),
    );
    b.consent(
        Sender::Jgz,
        &[
            PlanPart::Zorgen,
            PlanPart::DoelenActies,
            PlanPart::Evaluaties,
        ],
        granted,
        months_after(granted, 12),
    );
    b.consent(
        Sender::Childcare,
        &[PlanPart::DoelenActies],
        granted,
        months_after(granted, 12),
    );
    b.strengths(
        &[
            "Vader heeft sinds kort werk",
            &format!("{} helpt graag thuis", h.child(0)),
        ],
        opened + Days::new(7),
    );
    let c = b.concern(
        Priority::Hoog,
        &format!("{} heeft driftbuien op school en thuis", h.child(0)),
        opened + Days::new(7),
    );
    let d = b.concern(
        Priority::Middel,
        "Het gezin woont klein en krap met vijf personen",
        opened + Days::new(7),
    );
    b.network(
        &[
            "De moskee biedt huiswerkbegeleiding",
            "Een oom helpt met vervoer naar afspraken",
        ],
        opened + Days::new(8),
    );
    let g1 = b.goal(
        Some(c),
        &format!(
            "{} kan zijn boosheid op een veilige manier uiten",
            h.child(0)
        ),
        b.ahead(90),
        opened + Days::new(10),
    );
    let g2 = b.goal(
        Some(d),
        "Het gezin staat ingeschreven voor een grotere woning",
        plan + Days::new(60),
        opened + Days::new(10),
    );
    let a1 = b.action(
        g1,
        Sender::School,
        "Rots-en-watertraining in de klas",
        plan + Days::new(120),
        plan,
    );
    let a2 = b.action(
        g2,
        Sender::Director,
        "Urgentieaanvraag woning samen met ouders indienen",
        plan + Days::new(30),
        plan,
    );
    let _ = b.action(
        g1,
        Sender::Jgz,
        "Gesprek met de jeugdarts over de driftbuien",
        b.ago(10),
        plan,
    );
    let _ = b.action(
        g1,
        Sender::Childcare,
        &format!("Observatie van {} op de groep", h.child(1)),
        b.ahead(21),
        plan,
    );
    b.adopt(plan);
    b.action_status(
        Sender::School,
        a1,
        ActionStatus::InUitvoering,
        plan + Days::new(20),
    );
    b.action_status(
        Sender::Director,
        a2,
        ActionStatus::Afgerond,
        plan + Days::new(28),
    );
    b.goal_status(g2, GoalStatus::Behaald, plan + Days::new(55));
    b.budget(Sender::School, 6);
    b.budget(Sender::Jgz, 4);
    // Eleven and a half hours of case direction against a budget of ten.
    for (d, m) in [
        (0, 120),
        (7, 90),
        (20, 60),
        (28, 120),
        (45, 90),
        (70, 60),
        (100, 60),
        (130, 90),
    ] {
        b.hours(Sender::Director, plan - Days::new(20) + Days::new(d), m);
    }
    b.hours(Sender::School, plan + Days::new(20), 60);
    b.hours(Sender::Jgz, plan + Days::new(40), 45);
    let prefer = months_after(plan, 6) + Days::new(7);
    b.schedule(plan, prefer);
}

/// Goals reached within four months; closed before the first review was due.
fn closed(b: &mut Builder<'_>, mut h: Household, (c1, _): (&str, &str), district: &str, j: u64) {
    h.children = vec![(c1.into(), born(b, 4, 250 + j * 6))];
    let plan = b.ago(225 + j);
    let opened = plan - Days::new(15);
    let closed_on = plan + Days::new(125);
    b.open(district, opened, None, h.members(&b.family));
    b.join(Sender::Childcare, opened + Days::new(1));
    b.join(Sender::Jgz, opened + Days::new(1));
    let granted = opened + Days::new(2);
    b.consent(
        Sender::Childcare,
        &[
            PlanPart::SterkePunten,
            PlanPart::DoelenActies,
            PlanPart::Evaluaties,
        ],
        granted,
        months_after(granted, 12),
    );
    b.consent(
        Sender::Jgz,
        &[PlanPart::Zorgen, PlanPart::DoelenActies],
        granted,
        months_after(granted, 12),
    );
    b.strengths(
        &[
            "Ouders zijn gemotiveerd",
            &format!("{} maakt makkelijk contact", h.child(0)),
        ],
        opened + Days::new(3),
    );
    let c = b.concern(
        Priority::Middel,
        &format!(
            "{} is nog niet zindelijk en de overgang naar school komt eraan",
            h.child(0)
        ),
        opened + Days::new(3),
    );
    b.network(
        &["Buurvrouw is kinderverpleegkundige en denkt mee"],
        opened + Days::new(3),
    );
    let g = b.goal(
        Some(c),
        &format!("{} is zindelijk voor de eerste schooldag", h.child(0)),
        plan + Days::new(120),
        opened + Days::new(5),
    );
    let a1 = b.action(
        g,
        Sender::Jgz,
        "Zindelijkheidsspreekuur en advies aan ouders",
        plan + Days::new(30),
        plan,
    );
    let a2 = b.action(
        g,
        Sender::Childcare,
        "Zindelijkheidstraining op de groep volgen",
        plan + Days::new(90),
        plan,
    );
    b.adopt(plan);
    b.action_status(
        Sender::Jgz,
        a1,
        ActionStatus::Afgerond,
        plan + Days::new(21),
    );
    b.action_status(
        Sender::Childcare,
        a2,
        ActionStatus::Afgerond,
        plan + Days::new(100),
    );
    b.budget(Sender::Jgz, 4);
    for (d, m) in [(0, 90), (30, 45), (110, 60)] {
        b.hours(Sender::Director, plan + Days::new(d), m);
    }
    b.hours(Sender::Jgz, plan + Days::new(21), 30);
    b.hours(Sender::Childcare, plan + Days::new(60), 30);
    b.goal_status(g, GoalStatus::Behaald, closed_on - Days::new(5));
    b.close(
        closed_on,
        CaseOutcome::DoelenBehaald,
        "Doel behaald; ouders redden het zelf. Afgesproken dat zij zich melden als het nodig is.",
    );
}

/// A short consent for one conversation has expired; the rest runs.
fn expired(b: &mut Builder<'_>, mut h: Household, (c1, c2): (&str, &str), district: &str, j: u64) {
    h.children = vec![
        (c1.into(), born(b, 9, 80 + j * 8)),
        (c2.into(), born(b, 6, 20 + j * 12)),
    ];
    let plan = b.ago(75 + j);
    let opened = plan - Days::new(16);
    b.open(district, opened, Some(16), h.members(&b.family));
    b.join(Sender::School, opened + Days::new(1));
    b.join(Sender::Jgz, opened + Days::new(3));
    let granted = opened + Days::new(2);
    b.consent(
        Sender::School,
        &[PlanPart::Gezinsleden, PlanPart::DoelenActies],
        granted,
        months_after(granted, 12),
    );
    // For the one multidisciplinary meeting only.
    b.consent(Sender::School, &[PlanPart::Zorgen], granted, b.ago(12 + j));
    b.consent(
        Sender::Jgz,
        &[PlanPart::Zorgen, PlanPart::DoelenActies, PlanPart::Netwerk],
        opened + Days::new(3),
        months_after(opened + Days::new(3), 12),
    );
    b.strengths(
        &[
            "Grote broer en zus zorgen goed voor elkaar",
            "Moeder is creatief en zorgzaam",
        ],
        opened + Days::new(4),
    );
    let c = b.concern(
        Priority::Hoog,
        &format!(
            "{} krijgt een laag schooladvies terwijl de toets hoger uitvalt",
            h.child(0)
        ),
        opened + Days::new(4),
    );
    let d = b.concern(
        Priority::Laag,
        &format!("{} heeft overgewicht", h.child(1)),
        opened + Days::new(4),
    );
    b.network(
        &[
            "De sportcoach van de wijk",
            "Een buurman helpt met huiswerk",
        ],
        opened + Days::new(5),
    );
    let g1 = b.goal(
        Some(c),
        &format!(
            "{} krijgt een heroverweging van het schooladvies",
            h.child(0)
        ),
        b.ahead(40),
        opened + Days::new(6),
    );
    let g2 = b.goal(
        Some(d),
        &format!("{} beweegt drie keer per week", h.child(1)),
        b.ahead(150),
        opened + Days::new(6),
    );
    let _ = b.action(
        g1,
        Sender::School,
        "Gesprek met ouders en leerkracht groep 8 over het advies",
        b.ahead(10),
        plan,
    );
    let a2 = b.action(
        g2,
        Sender::Jgz,
        "Leefstijladvies en aanmelding bij de sportcoach",
        plan + Days::new(30),
        plan,
    );
    b.adopt(plan);
    b.action_status(
        Sender::Jgz,
        a2,
        ActionStatus::Afgerond,
        plan + Days::new(26),
    );
    b.budget(Sender::School, 4);
    for (d, m) in [(0, 60), (20, 45)] {
        b.hours(Sender::Director, plan + Days::new(d), m);
    }
    b.hours(Sender::Jgz, plan + Days::new(26), 60);
    b.schedule(plan, months_after(plan, 8));
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub cases: usize,
    /// Commands sent (accepted).
    pub commands: usize,
    /// Commands that had been sent before (a repeated load).
    pub replayed: usize,
}

async fn send(
    client: &Client,
    who: &Actor,
    subject: &str,
    body: &Value,
    id: Uuid,
) -> Result<CommandAccepted, Problem> {
    kansrijk_runtime::nats::request(
        client,
        subject.to_owned(),
        kansrijk_runtime::nats::request_headers(who, Some(id), None),
        body,
        Duration::from_secs(30),
    )
    .await
}

/// Loads the demo cases through the casework service's NATS endpoints (casework and privacy must
/// be running), as the case director and the partner organisations would. Each case's commands
/// go in order; `parallel` cases at a time. Loading the same seed again appends nothing.
pub async fn load_demo(
    client: &Client,
    cfg: &DemoConfig,
    parallel: usize,
) -> anyhow::Result<DemoReport> {
    let data = generate(cfg);
    let results = futures::stream::iter(data.cases.iter().map(|c| async move {
        let (mut n, mut replayed) = (0usize, 0usize);
        for (i, step) in c.steps.iter().enumerate() {
            let subject = step.command.subject();
            let r = send(
                client,
                &step.sender.actor(cfg),
                subject,
                &step.command.body(),
                c.command_id(i),
            )
            .await
            .map_err(|p| {
                anyhow::anyhow!(
                    "demo case {} ({}), step {i}: {subject} refused: {} {:?} {:?} {:?}",
                    c.case_id,
                    c.story,
                    p.status,
                    p.code,
                    p.detail,
                    p.invalid_params
                )
            })?;
            n += 1;
            replayed += usize::from(!r.first_time);
        }
        Ok::<_, anyhow::Error>((n, replayed))
    }))
    .buffer_unordered(parallel.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut report = DemoReport {
        cases: data.cases.len(),
        ..Default::default()
    };
    for r in results {
        let (n, replayed) = r?;
        report.commands += n;
        report.replayed += replayed;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::Utc;
    use kansrijk_proto::casework::{
        Household as SealedHousehold, HouseholdMember, DEFAULT_DIRECTION_BUDGET_HOURS,
    };
    use kansrijk_proto::problem::FieldError;
    use kansrijk_runtime::crypto::SubjectKey;

    use super::*;
    use crate::api::{check_list, check_members, check_text, MAX_MINUTES_TEXT, MAX_TEXT};
    use crate::domain::consent::ConsentState;
    use crate::domain::{decide, Case, Command, Ctx};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    /// Anchors that stress the month arithmetic of the review window and consent periods.
    fn anchors() -> Vec<NaiveDate> {
        [
            "2026-11-23",
            "2026-08-31",
            "2027-03-01",
            "2028-02-29",
            "2026-01-31",
        ]
        .iter()
        .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
        .collect()
    }

    /// The request's own checks (as the handler makes them) and the domain command it builds.
    fn to_domain(
        cfg: &DemoConfig,
        cmd: &DemoCommand,
        key: &SubjectKey,
    ) -> (Vec<FieldError>, Command) {
        let mut errors = Vec::new();
        let seal = |s: &String| key.seal(s).unwrap();
        let cmd = match cmd.clone() {
            DemoCommand::Open(b) => {
                check_members(&mut errors, &b.gezinsleden);
                let household = SealedHousehold {
                    members: b
                        .gezinsleden
                        .iter()
                        .map(|m| HouseholdMember {
                            member_id: Uuid::nil(),
                            role: m.rol,
                            given_name: m.voornaam.clone(),
                            family_name: m.achternaam.clone(),
                            birth_date: m.geboortedatum,
                            record: m.dossier.clone(),
                        })
                        .collect(),
                };
                Command::Open {
                    municipality: cfg.municipality.clone(),
                    district: b.wijk.trim().to_owned(),
                    opened_on: b.geopend_op,
                    direction_budget_hours: b
                        .urenbudget_regie
                        .unwrap_or(DEFAULT_DIRECTION_BUDGET_HOURS),
                    household: key.seal(&household).unwrap(),
                }
            }
            DemoCommand::AddParticipant(b) => Command::AddParticipant {
                organisation: b.organisatie,
                organisation_type: b.organisatietype,
                joined_on: b.datum,
            },
            DemoCommand::GrantConsent(b) => Command::GrantConsent {
                consent_id: b.toestemming_id.unwrap(),
                organisation: b.organisatie,
                scope: b.onderdelen,
                purpose: b.doel.unwrap_or(Purpose::Casusregie),
                granted_on: b.gegeven_op,
                valid_until: b.geldig_tot,
                granted_by: b.gegeven_door,
            },
            DemoCommand::RevokeConsent(b) => Command::RevokeConsent {
                consent_id: b.toestemming_id,
                revoked_on: b.ingetrokken_op,
            },
            DemoCommand::Strengths(b) => {
                check_list(&mut errors, "sterkePunten", &b.sterke_punten);
                Command::RecordStrengths {
                    strengths: key.seal(&b.sterke_punten).unwrap(),
                    recorded_on: b.vastgelegd_op,
                }
            }
            DemoCommand::Concern(b) => {
                check_text(&mut errors, "omschrijving", &b.omschrijving, MAX_TEXT);
                Command::RecordConcern {
                    concern_id: b.zorg_id.unwrap(),
                    priority: b.prioriteit,
                    description: seal(&b.omschrijving),
                    recorded_on: b.vastgelegd_op,
                }
            }
            DemoCommand::Network(b) => {
                check_list(&mut errors, "inzet", &b.inzet);
                Command::RecordNetwork {
                    contributions: key.seal(&b.inzet).unwrap(),
                    recorded_on: b.vastgelegd_op,
                }
            }
            DemoCommand::Goal(b) => {
                check_text(&mut errors, "omschrijving", &b.omschrijving, MAX_TEXT);
                Command::SetGoal {
                    goal_id: b.doel_id.unwrap(),
                    concern_id: b.zorg_id,
                    description: seal(&b.omschrijving),
                    target_date: b.streefdatum,
                    set_on: b.gesteld_op,
                }
            }
            DemoCommand::GoalStatus(b) => Command::ChangeGoalStatus {
                goal_id: b.doel_id,
                status: b.status,
                on: b.datum,
            },
            DemoCommand::Action(b) => {
                check_text(&mut errors, "omschrijving", &b.omschrijving, MAX_TEXT);
                Command::AssignAction {
                    action_id: b.actie_id.unwrap(),
                    goal_id: b.doel_id,
                    organisation: b.organisatie,
                    description: seal(&b.omschrijving),
                    due_on: b.deadline,
                    assigned_on: b.toegewezen_op,
                }
            }
            DemoCommand::ActionStatus(b) => Command::ChangeActionStatus {
                action_id: b.actie_id,
                status: b.status,
                on: b.datum,
            },
            DemoCommand::AdoptPlan(b) => Command::AdoptPlan {
                adopted_on: b.vastgesteld_op,
            },
            DemoCommand::ScheduleReview(b) => Command::ScheduleReview {
                review_id: b.evaluatie_id.unwrap(),
                planned_on: b.gepland,
            },
            DemoCommand::RecordReview(b) => {
                check_text(&mut errors, "verslag", &b.verslag, MAX_MINUTES_TEXT);
                Command::RecordReview {
                    review_id: b.evaluatie_id,
                    held_on: b.gehouden_op,
                    minutes: seal(&b.verslag),
                }
            }
            DemoCommand::Hours(b) => Command::RecordHours {
                on: b.datum,
                minutes: b.minuten,
                kind: b.soort,
            },
            DemoCommand::Budget(b) => Command::SetHoursBudget {
                organisation: b.organisatie,
                hours: b.uren,
            },
            DemoCommand::Close(b) => {
                if let Some(t) = &b.toelichting {
                    check_text(&mut errors, "toelichting", t, MAX_TEXT);
                }
                Command::Close {
                    closed_on: b.gesloten_op,
                    outcome: b.uitkomst,
                    note: b.toelichting.as_ref().map(seal),
                }
            }
        };
        (errors, cmd)
    }

    /// The date a command records as a fact (not a planned date).
    fn fact_date(cmd: &DemoCommand) -> Option<NaiveDate> {
        match cmd {
            DemoCommand::Open(b) => Some(b.geopend_op),
            DemoCommand::AddParticipant(b) => Some(b.datum),
            DemoCommand::GrantConsent(b) => Some(b.gegeven_op),
            DemoCommand::RevokeConsent(b) => Some(b.ingetrokken_op),
            DemoCommand::Strengths(b) => Some(b.vastgelegd_op),
            DemoCommand::Concern(b) => Some(b.vastgelegd_op),
            DemoCommand::Network(b) => Some(b.vastgelegd_op),
            DemoCommand::Goal(b) => Some(b.gesteld_op),
            DemoCommand::GoalStatus(b) => Some(b.datum),
            DemoCommand::Action(b) => Some(b.toegewezen_op),
            DemoCommand::ActionStatus(b) => Some(b.datum),
            DemoCommand::AdoptPlan(b) => Some(b.vastgesteld_op),
            DemoCommand::RecordReview(b) => Some(b.gehouden_op),
            DemoCommand::Hours(b) => Some(b.datum),
            DemoCommand::Close(b) => Some(b.gesloten_op),
            DemoCommand::ScheduleReview(_) | DemoCommand::Budget(_) => None,
        }
    }

    /// Folds every case through policy, the request checks and the domain's `decide`, in order;
    /// panics on the first refusal.
    fn decided(cfg: &DemoConfig) -> Vec<(DemoCase, Case)> {
        let key = SubjectKey::from_bytes(Uuid::from_u128(1), 1, &[7; 32]).unwrap();
        generate(cfg)
            .cases
            .into_iter()
            .map(|c| {
                let mut case = Case::default();
                for (i, step) in c.steps.iter().enumerate() {
                    let actor = step.sender.actor(cfg);
                    let action = subjects::action(step.command.subject()).unwrap();
                    kansrijk_policy::require(&actor, &action)
                        .unwrap_or_else(|p| panic!("{} step {i} {action}: {p:?}", c.story));
                    if let Some(d) = fact_date(&step.command) {
                        assert!(d <= cfg.today, "{} step {i}: {d} after today", c.story);
                    }
                    let (errors, cmd) = to_domain(cfg, &step.command, &key);
                    assert!(errors.is_empty(), "{} step {i}: {errors:?}", c.story);
                    let ctx = Ctx {
                        today: cfg.today,
                        organisation: &actor.organisation,
                        organisation_type: actor.organisation_type,
                        person: &actor.person,
                        municipality: &actor.municipality,
                    };
                    let events = decide(&case, cmd.clone(), &ctx).unwrap_or_else(|e| {
                        panic!(
                            "{} ({}) step {i}: {cmd:?} refused: {e:?}",
                            c.story, cfg.today
                        )
                    });
                    for e in &events {
                        case.apply(e);
                    }
                }
                (c, case)
            })
            .collect()
    }

    #[test]
    fn demo_same_seed_gives_the_same_data_and_ids_do_not_depend_on_the_day() {
        let a = generate(&DemoConfig::leiden(7, today()));
        assert_eq!(a, generate(&DemoConfig::leiden(7, today())));
        let other = generate(&DemoConfig::leiden(8, today()));
        assert_ne!(a.cases[0].case_id, other.cases[0].case_id);
        let later = generate(&DemoConfig::leiden(7, today() + Days::new(3)));
        for (x, y) in a.cases.iter().zip(&later.cases) {
            assert_eq!(x.case_id, y.case_id);
            assert_eq!(x.command_seed, y.command_seed);
            assert_eq!(x.steps.len(), y.steps.len());
        }
        let ids: BTreeSet<Uuid> = a.cases.iter().map(|c| c.case_id).collect();
        assert_eq!(ids.len(), a.cases.len());
    }

    #[test]
    fn demo_every_command_is_allowed_and_accepted_by_the_domain_in_order() {
        for seed in [1, 7, 2026, 42, u64::MAX] {
            for day in anchors() {
                decided(&DemoConfig::leiden(seed, day));
            }
        }
    }

    #[test]
    fn demo_every_listed_state_is_present() {
        for day in anchors() {
            let cfg = DemoConfig::leiden(2026, day);
            let t = cfg.today;
            let cases = decided(&cfg);
            assert!((5..=8).contains(&cases.len()), "{} cases", cases.len());
            let names: BTreeSet<&str> = cases.iter().map(|(c, _)| c.family_name.as_str()).collect();
            assert_eq!(names.len(), cases.len(), "distinct families");
            assert!(cases
                .iter()
                .all(|(c, _)| DISTRICTS.contains(&c.district.as_str())));
            let districts: BTreeSet<&str> =
                cases.iter().map(|(c, _)| c.district.as_str()).collect();
            assert!(districts.len() >= 4);

            let count = |f: &dyn Fn(&DemoCase, &Case) -> bool| {
                cases.iter().filter(|(d, c)| f(d, c)).count()
            };
            let has =
                |d: &DemoCase, f: fn(&DemoCommand) -> bool| d.steps.iter().any(|s| f(&s.command));
            // Every case: participants, strengths, concerns, network, goals, actions for at least
            // two organisations, an adopted plan, consents per organisation, hours and budgets.
            for (d, c) in &cases {
                assert!(c.exists(), "{}", d.story);
                assert!(c.participants.len() >= 2, "{}", d.story);
                assert!(has(d, |x| matches!(x, DemoCommand::Strengths(_))));
                assert!(has(d, |x| matches!(x, DemoCommand::Network(_))));
                assert!(!c.concerns.is_empty() && !c.goals.is_empty());
                let action_orgs: BTreeSet<&str> = c
                    .actions
                    .values()
                    .map(|a| a.organisation.as_str())
                    .collect();
                assert!(action_orgs.len() >= 2, "{}: {action_orgs:?}", d.story);
                assert!(c.plan_version >= 1, "{}", d.story);
                let consented: BTreeSet<&str> = c
                    .consents
                    .values()
                    .map(|x| x.organisation.as_str())
                    .collect();
                assert_eq!(consented.len(), c.participants.len(), "{}", d.story);
                assert!(c.minutes.contains_key(&cfg.youth_team));
                assert!(c.minutes.keys().any(|o| *o != cfg.youth_team));
                assert!(c.budgets.len() >= 2);
                assert!(c.escalations.is_empty(), "no Veilig Thuis in the demo");
                assert!(c.is_director(&cfg.youth_team));
            }
            let orgs: BTreeSet<String> = cases
                .iter()
                .flat_map(|(_, c)| c.participants.keys().cloned())
                .collect();
            assert_eq!(
                orgs,
                [&cfg.jgz, &cfg.primary_school, &cfg.childcare]
                    .into_iter()
                    .cloned()
                    .collect()
            );

            // Consents: one ending within 30 days, one withdrawn, one expired.
            let consents = |f: &dyn Fn(&crate::domain::Consent) -> bool| {
                cases
                    .iter()
                    .flat_map(|(_, c)| c.consents.values())
                    .filter(|x| f(x))
                    .count()
            };
            assert!(
                consents(&|x| x.is_valid_on(t) && x.valid_until <= t + Days::new(30)) >= 1,
                "a consent ending within 30 days ({t})"
            );
            assert_eq!(consents(&|x| x.state_on(t) == ConsentState::Revoked), 1);
            assert!(consents(&|x| x.state_on(t) == ConsentState::Expired) >= 1);

            // Reviews: one overdue, one held, open cases with a review planned.
            let open = |c: &Case| !c.is_closed();
            assert_eq!(
                count(&|_, c| open(c) && c.next_review_due().is_some_and(|d| t > d)),
                1,
                "one review overdue ({t})"
            );
            assert_eq!(
                count(&|_, c| c.reviews.values().any(|r| r.held_on.is_some())),
                1
            );
            assert!(
                count(&|_, c| open(c)
                    && c.reviews
                        .values()
                        .any(|r| r.held_on.is_none() && r.planned_on >= t))
                    >= 4
            );
            // Every open case has its next review planned.
            assert_eq!(
                count(&|_, c| open(c) && !c.reviews.values().any(|r| r.held_on.is_none())),
                0
            );

            // Hours: one case over its budget of case direction.
            assert_eq!(
                count(&|_, c| {
                    let used = c.minutes.get(&cfg.youth_team).copied().unwrap_or(0);
                    let budget = c.budgets.get(&cfg.youth_team).copied().unwrap_or(0);
                    used > u64::from(budget) * 60
                }),
                1
            );
            // Actions: some done, some running, some still open.
            let actions: Vec<ActionStatus> = cases
                .iter()
                .flat_map(|(_, c)| c.actions.values().map(|a| a.status))
                .collect();
            for s in [
                ActionStatus::Open,
                ActionStatus::InUitvoering,
                ActionStatus::Afgerond,
            ] {
                let n = actions.iter().filter(|a| **a == s).count();
                assert!(n >= 2, "{s:?}: {n}");
            }
            // One closed case.
            assert_eq!(count(&|_, c| c.is_closed()), 1);
        }
    }

    // -------------------------------------------------------------------------------------------
    // Against the real services.

    use std::sync::Arc;

    use async_nats::jetstream;
    use kansrijk_runtime::projection::{ProjectionRunner, RunnerConfig};
    use kansrijk_runtime::testing::{eventually, NatsServer, TestDb};
    use kansrijk_views::casework::queries::Caseload;
    use kansrijk_views::casework::{self as views, CaseworkViews};
    use tokio_util::sync::CancellationToken;

    #[test]
    fn demo_districts_are_the_registrys_leiden_districts() {
        let reference = kansrijk_runtime::testing::reference_districts();
        for d in DISTRICTS {
            assert!(
                reference.iter().any(|(m, n)| m == "0546" && n == d),
                "{d} is not a Leiden district of the registry"
            );
        }
    }

    async fn event_count(pool: &sqlx::PgPool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// Casework and privacy on their own database and nats-server, the casework views next to
    /// them; the demo is loaded twice (the second time appends nothing) and the regisseur's
    /// caseload shows the families.
    #[tokio::test]
    async fn demo_loads_into_the_real_services_once() {
        let nats = NatsServer::start();
        let db = TestDb::new().await;
        let client = async_nats::connect(nats.url()).await.unwrap();
        let js = jetstream::new(client.clone());
        kansrijk_runtime::nats::ensure_events_stream(&js, 1)
            .await
            .unwrap();
        kansrijk_runtime::testing::serve_reference_districts(client.clone()).await;
        let shutdown = CancellationToken::new();
        kansrijk_privacy::spawn_local(&db.url, &nats.url(), &shutdown)
            .await
            .unwrap();
        let service = tokio::spawn(crate::run(
            crate::Config::local(&db.url, &nats.url()),
            shutdown.clone(),
        ));

        let views_pool = db.pool("views").await;
        sqlx::raw_sql(include_str!(
            "../../views/migrations/23001_casework_read_models.sql"
        ))
        .execute(&views_pool)
        .await
        .unwrap();
        let casework_views = Arc::new(CaseworkViews::new(
            views_pool.clone(),
            client.clone(),
            kansrijk_runtime::config::DEFAULT_OIN,
            Duration::from_secs(60),
        ));
        for p in views::projections(Some(casework_views.clone())) {
            let runner = ProjectionRunner::new(
                views_pool.clone(),
                js.clone(),
                p,
                RunnerConfig {
                    batch_size: 100,
                    fetch_wait: Duration::from_millis(50),
                },
            );
            tokio::spawn(runner.run(shutdown.clone()));
        }
        let endpoints = views::endpoints(&casework_views);
        let (c, s) = (client.clone(), shutdown.clone());
        tokio::spawn(async move {
            kansrijk_runtime::service::serve(c, "views-casework", endpoints, 16, s).await
        });

        let cfg = DemoConfig::leiden(2026, Utc::now().date_naive());
        let director = Sender::Director.actor(&cfg);
        // Casework answers (a 404 for an unknown case, not a 503 for no responders).
        eventually(Duration::from_secs(30), "casework", || async {
            let r: Result<CommandAccepted, Problem> = send(
                &client,
                &director,
                subjects::ADD_PARTICIPANT,
                &serde_json::json!({"casusId": Uuid::nil(), "organisatie": cfg.jgz,
                    "organisatietype": "jgz", "datum": cfg.today}),
                Uuid::new_v4(),
            )
            .await;
            (!matches!(&r, Err(p) if p.status == 503)).then_some(())
        })
        .await;

        let expected: usize = generate(&cfg).cases.iter().map(|c| c.steps.len()).sum();
        let first = load_demo(&client, &cfg, 4).await.unwrap();
        assert_eq!(first.cases, STORIES.len());
        assert_eq!(first.commands, expected);
        assert_eq!(first.replayed, 0);
        let store = db.pool("casework").await;
        let events = event_count(&store).await;
        assert!(events >= expected as i64, "{events} events");

        let second = load_demo(&client, &cfg, 4).await.unwrap();
        assert_eq!(second.commands, expected);
        assert_eq!(
            second.replayed, expected,
            "the second load replays every command"
        );
        assert_eq!(event_count(&store).await, events, "and appends nothing");

        // What the regisseur sees on first sign-in.
        let caseload: Caseload = eventually(Duration::from_secs(30), "caseload", || async {
            let c: Caseload = kansrijk_runtime::nats::request(
                &client,
                subjects::QUERY_CASELOAD.into(),
                kansrijk_runtime::nats::request_headers(&director, None, None),
                &serde_json::json!({}),
                Duration::from_secs(10),
            )
            .await
            .ok()?;
            let n = |f: fn(&kansrijk_views::casework::queries::CaseloadItem) -> bool| {
                c.casussen.iter().filter(|x| f(x)).count()
            };
            (c.casussen.len() == STORIES.len()
                && n(|x| x.planversie >= 1) == STORIES.len()
                && n(|x| x.status == "gesloten") == 1
                && n(|x| x.evaluatie_te_laat) == 1
                && n(|x| x.budget_overschreden) == 1)
                .then_some(c)
        })
        .await;
        assert!(caseload
            .casussen
            .iter()
            .all(|c| c.gezinsleden.len() >= 2 && c.open_acties >= 0));
        shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), service).await;
    }
}

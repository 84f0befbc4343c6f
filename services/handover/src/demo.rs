//! Demo data of the handover service, generated from a seed (pure, [`generate`]), and loaded by
//! sending the commands the childcare locations and schools would send ([`load_demo`]).
//!
//! One demo world, as of `today`, so that every persona's first screen shows real work:
//! - preschool forms from each childcare location to each primary school, in every state a form
//!   passes through: drafted, parents informed (consent open, once with the parents' own view
//!   added), consent given, consent refused, sent and awaiting confirmation, sent longer ago than
//!   the confirmation term (the scheduler flags it), confirmed, a warm handover still to plan,
//!   planned, and held;
//! - PO-VO (OSO) files of group-8 pupils of each primary school, in every phase of the advice
//!   calendar (DOMAIN.md: provisional advice in January, the transition test's result by mid
//!   March, reconsideration, final advice by 24 March, admission by 12 May), sent to the VO
//!   school and confirmed there. A phase whose dates this school year have not come yet is taken
//!   from last year's calendar (a pupil now in VO year 1), so every command is a fact of the past.
//!
//! All people are fictional: names from a short list, BSNs (PO-VO only) pass the 11-proef but
//! start with 9, child ids come from the seeded rng (or from the VVE demo's toddlers, see
//! [`DemoConfig::preschool_children`]). Command ids derive from the seed: a second load appends
//! nothing and reports every command as replayed.

use std::time::Duration;

use async_nats::Client;
use chrono::{Datelike, Days, Months, NaiveDate, Utc};
use futures::StreamExt;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::handover::{
    self as api, subjects, Absence, Advice, AdviceLevel, ChildIdentity, FileKind, InformedHow,
    Observation, ObservationInstrument, OsoContent, ParentsResponse, Participant, PreschoolContent,
    Reconsideration, RefusalReason, SchoolId, TestResult, VveProgramme,
};
use kansrijk_proto::problem::Problem;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::Command;

/// Settings of the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    pub seed: u64,
    /// CBS code of the municipality ("0546").
    pub municipality: String,
    /// The demo world's anchor date: nothing happens after it (but a planned warm handover).
    pub today: NaiveDate,
    /// LRK numbers of the sending preschools.
    pub childcare: Vec<String>,
    /// BRIN + vestiging of the primary schools (receivers of preschool forms, senders of OSO files).
    pub primary_schools: Vec<String>,
    /// BRIN + vestiging of the VO school the PO-VO files go to.
    pub secondary_school: String,
    /// Toddlers of the VVE demo placed at one of `childcare`; when empty, the generator makes its
    /// own. A toddler is used for a form when its age on the form's date is about 3y4m-4y2m.
    pub preschool_children: Vec<PreschoolChild>,
}

/// A toddler known elsewhere (the VVE demo), to write a preschool form about.
#[derive(Debug, Clone, PartialEq)]
pub struct PreschoolChild {
    pub child_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: NaiveDate,
    /// The childcare location (LRK number) where the toddler is placed.
    pub lrk: String,
}

impl DemoConfig {
    /// Leiden (0546) as of `today`: De Boomhut and Het Molentje, De Singel and De Viersprong,
    /// Voorbeeldcollege Leiden.
    pub fn leiden(seed: u64, today: NaiveDate) -> Self {
        DemoConfig {
            seed,
            municipality: "0546".into(),
            today,
            childcare: vec!["100000001".into(), "100000002".into()],
            primary_schools: vec!["20VF00".into(), "15WV00".into()],
            secondary_school: "99ZZ00".into(),
            preschool_children: Vec::new(),
        }
    }
}

/// Who sends a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub organisation: String,
    pub organisation_type: OrganisationType,
    pub role: &'static str,
}

impl Party {
    fn childcare(lrk: &str) -> Self {
        Party {
            organisation: lrk.into(),
            organisation_type: OrganisationType::Kinderopvang,
            role: "pedagogisch-medewerker",
        }
    }
    fn primary(school: &str, role: &'static str) -> Self {
        Party {
            organisation: school.into(),
            organisation_type: OrganisationType::Basisschool,
            role,
        }
    }
    fn secondary(school: &str) -> Self {
        Party {
            organisation: school.into(),
            organisation_type: OrganisationType::VoortgezetOnderwijs,
            role: "mentor",
        }
    }

    /// The actor of this party in `municipality`.
    pub fn actor(&self, municipality: &str) -> Actor {
        Actor {
            person: "demo".into(),
            organisation: self.organisation.clone(),
            organisation_type: self.organisation_type,
            role: self.role.into(),
            municipality: municipality.into(),
            purpose: Purpose::Overdracht,
        }
    }
}

/// The state a demo file is meant to reach (what the screens show).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    // Preschool forms.
    /// Drafted; the parents are not informed yet.
    Drafted,
    /// Parents informed, consent open.
    ParentsInformed,
    /// Parents informed and their own view added, consent open.
    ParentsViewAdded,
    /// Consent given, not sent yet.
    Consented,
    /// The parents refused: the form's key is destroyed, so it leaves the outbox (the views drop
    /// an erased file) and counts only in the municipality's monitor.
    Refused,
    /// Sent, within the confirmation term.
    AwaitingConfirmation,
    /// Sent longer ago than the confirmation term, not confirmed.
    ConfirmationOverdue,
    /// Confirmed by the school; no warm handover wanted.
    Confirmed,
    /// Confirmed, a warm handover wanted and not planned yet.
    WarmToPlan,
    /// Confirmed, the warm handover planned (on a date to come).
    WarmPlanned,
    /// Confirmed, the warm handover held.
    WarmHeld,
    // PO-VO files.
    /// Created only.
    OsoCreated,
    /// Provisional advice given.
    ProvisionalAdvice,
    /// Test result recorded, not above the advice.
    TestRecorded,
    /// Test result above the advice: reconsideration due.
    ReconsiderationDue,
    /// The advice reconsidered.
    Reconsidered,
    /// Final advice given.
    FinalAdvice,
    /// Parents shown the file, enrolment at the VO school recorded.
    Enrolled,
    /// Sent to the VO school.
    OsoSent,
    /// Confirmed by the VO school.
    OsoConfirmed,
    /// Confirmed, and the group-8 teacher met the VO mentor.
    OsoWarmHeld,
}

/// One command of a file, and who sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoStep {
    pub by: Party,
    pub command: Command,
}

/// One demo file: its commands in order (the first creates it).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFile {
    pub kind: FileKind,
    pub phase: Phase,
    /// LRK number or school code of the sender.
    pub sender: String,
    /// School code of the school it goes to.
    pub receiver: String,
    pub child_id: Uuid,
    pub steps: Vec<DemoStep>,
    /// Command ids, stable for a seed: loading twice appends nothing the second time.
    pub command_seed: u128,
}

/// The whole demo world.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    pub files: Vec<DemoFile>,
}

impl DemoData {
    pub fn commands(&self) -> usize {
        self.files.iter().map(|f| f.steps.len()).sum()
    }
}

/// The preschool forms of one pair of childcare location and school.
const PAIR_PHASES: &[Phase] = &[
    Phase::Drafted,
    Phase::ParentsInformed,
    Phase::ParentsViewAdded,
    Phase::AwaitingConfirmation,
    Phase::ConfirmationOverdue,
    Phase::Confirmed,
    Phase::WarmToPlan,
    Phase::WarmPlanned,
    Phase::WarmHeld,
];
/// Once per childcare location (to one of the schools).
const LOCATION_PHASES: &[Phase] = &[Phase::Consented, Phase::Refused];
/// The PO-VO files of one primary school.
const SCHOOL_PHASES: &[(Phase, usize)] = &[
    (Phase::OsoCreated, 2),
    (Phase::ProvisionalAdvice, 2),
    (Phase::TestRecorded, 1),
    (Phase::ReconsiderationDue, 1),
    (Phase::Reconsidered, 1),
    (Phase::FinalAdvice, 2),
    (Phase::Enrolled, 1),
    (Phase::OsoSent, 2),
    (Phase::OsoConfirmed, 3),
    (Phase::OsoWarmHeld, 1),
];

/// Days a school has to confirm receipt before the file is flagged (the service's and the views'
/// default of `KANSRIJK_OVERDRACHT_BEVESTIGEN_BINNEN_DAGEN`).
pub const CONFIRM_WITHIN_DAYS: u64 = 14;

use kansrijk_runtime::fictional::{FAMILY_NAMES as FAMILY, GIVEN_NAMES as GIVEN};
const SOCIO_EMOTIONAL: &[&str] = &[
    "Speelt graag samen en zoekt zelf contact met andere kinderen.",
    "Kijkt eerst de kat uit de boom; heeft bij nieuwe situaties steun van de leidster nodig.",
    "Komt goed voor zichzelf op en helpt jongere kinderen.",
    "Vindt afscheid nemen bij de deur moeilijk, is daarna snel gewend.",
];
const LANGUAGE: &[&str] = &[
    "Spreekt in korte zinnen; woordenschat groeit, thuistaal is Arabisch.",
    "Vertelt levendig over thuis; luistert graag naar voorlezen.",
    "Begrijpt opdrachten goed, spreekt nog weinig Nederlands in de groep.",
    "Rijke woordenschat, stelt veel vragen.",
];
const MOTOR: &[&str] = &[
    "Knipt en plakt zelfstandig, houdt het potlood goed vast.",
    "Klimt en fietst vaardig; fijne motoriek vraagt nog oefening.",
    "Trekt zelf jas en schoenen aan.",
];
const COGNITIVE: &[&str] = &[
    "Kent de kleuren en telt tot tien.",
    "Legt puzzels van twintig stukjes, herkent de eigen naam.",
    "Sorteert op vorm en kleur, begint met tellen.",
];
const INTERESTS: &[&str] = &[
    "Bouwhoek en prentenboeken.",
    "Buiten spelen, dieren en zingen.",
    "Tekenen, verkleden en de huishoek.",
];
const SUPPORT_NEEDS: &[&str] = &[
    "Extra taalaanbod in groep 1.",
    "Geen bijzondere ondersteuning nodig.",
    "Een vaste plek en voorspelbare dagstructuur helpen.",
    "Aandacht voor woordenschat; ouders lezen thuis voor in de eigen taal.",
];
const PROGRAMMES: &[&str] = &[
    "Uk & Puk",
    "Puk & Ko",
    "Kaleidoscoop",
    "Piramide",
    "Startblokken",
];
const OSO_SUPPORT: &[&str] = &[
    "Geen extra ondersteuning.",
    "Extra begeleiding begrijpend lezen in groep 7 en 8.",
    "Werkt met een weektaak en planningshulp.",
    "Dyslexieverklaring; gebruikt voorleessoftware.",
    "Plusklas rekenen.",
];
const TESTS: &[&str] = &[
    "Route 8",
    "IEP Doorstroomtoets",
    "Dia-doorstroomtoets",
    "AMN Doorstroomtoets",
];

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

fn text(rng: &mut StdRng, xs: &[&str]) -> String {
    (*pick(rng, xs)).to_owned()
}

fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

fn fictional_bsn(rng: &mut StdRng) -> String {
    kansrijk_runtime::fictional::bsn(rng)
}

fn back(d: NaiveDate, lo: u64, hi: u64, rng: &mut StdRng) -> NaiveDate {
    d - Days::new(rng.gen_range(lo..=hi))
}

fn ahead(d: NaiveDate, lo: u64, hi: u64, rng: &mut StdRng) -> NaiveDate {
    d + Days::new(rng.gen_range(lo..=hi))
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn months_before(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

/// A school code as a [`SchoolId`] (`20VF00` -> BRIN `20VF`, vestiging `00`).
fn school_id(code: &str) -> SchoolId {
    crate::domain::file::parse_school_code(code).unwrap_or_else(|| {
        SchoolId::new(code.get(..4).unwrap_or(code), code.get(4..).unwrap_or(""))
    })
}

/// Generates the demo world (pure: the same config gives the same data).
///
/// Each file draws from its own rng, seeded by one draw per file from the seed: a file's command
/// ids and number of commands do not depend on `today` (nor on which toddlers were supplied), so
/// loading the world again on a later day appends nothing either.
pub fn generate(cfg: &DemoConfig) -> DemoData {
    let mut master = StdRng::seed_from_u64(cfg.seed);
    let mut files = Vec::new();
    let mut supplied: Vec<Option<&PreschoolChild>> =
        cfg.preschool_children.iter().map(Some).collect();
    for (li, lrk) in cfg.childcare.iter().enumerate() {
        for (si, school) in cfg.primary_schools.iter().enumerate() {
            let mut phases = PAIR_PHASES.to_vec();
            if si == li % cfg.primary_schools.len() {
                phases.extend_from_slice(LOCATION_PHASES);
            }
            for phase in phases {
                let mut rng = StdRng::seed_from_u64(master.gen());
                files.push(preschool_file(
                    &mut rng,
                    cfg,
                    lrk,
                    school,
                    phase,
                    &mut supplied,
                ));
            }
        }
    }
    for school in &cfg.primary_schools {
        for (phase, n) in SCHOOL_PHASES {
            for _ in 0..*n {
                let mut rng = StdRng::seed_from_u64(master.gen());
                files.push(oso_file(&mut rng, cfg, school, *phase));
            }
        }
    }
    DemoData { files }
}

/// The dates of a preschool form, back from its last step.
#[derive(Debug, Default)]
struct PreschoolDates {
    drafted: NaiveDate,
    informed: Option<NaiveDate>,
    response: Option<NaiveDate>,
    consent: Option<NaiveDate>,
    refused: Option<NaiveDate>,
    sent: Option<NaiveDate>,
    confirmed: Option<NaiveDate>,
    planned: Option<NaiveDate>,
    held: Option<NaiveDate>,
}

fn preschool_dates(rng: &mut StdRng, today: NaiveDate, phase: Phase) -> PreschoolDates {
    let mut d = PreschoolDates::default();
    // The sent date of the forms that were sent.
    let sent = match phase {
        Phase::AwaitingConfirmation => Some(back(today, 1, 9, rng)),
        Phase::ConfirmationOverdue => Some(back(today, CONFIRM_WITHIN_DAYS + 4, 45, rng)),
        Phase::Confirmed | Phase::WarmToPlan | Phase::WarmPlanned | Phase::WarmHeld => {
            Some(back(today, 25, 90, rng))
        }
        _ => None,
    };
    // The parents' decision (consent given, or refused).
    let decided = match (phase, sent) {
        (_, Some(s)) => Some(back(s, 1, 5, rng)),
        (Phase::Consented, _) => Some(back(today, 0, 5, rng)),
        (Phase::Refused, _) => Some(back(today, 3, 20, rng)),
        _ => None,
    };
    let response_wanted = phase == Phase::ParentsViewAdded || (sent.is_some() && rng.gen_bool(0.3));
    let informed = match decided {
        Some(g) => Some(back(g, 2, 10, rng)),
        None if matches!(phase, Phase::ParentsInformed | Phase::ParentsViewAdded) => {
            Some(back(today, 3, 14, rng))
        }
        None => None,
    };
    d.informed = informed;
    d.response = informed
        .filter(|_| response_wanted)
        .map(|i| ahead(i, 0, 2, rng).min(decided.unwrap_or(today)));
    if phase == Phase::Refused {
        d.refused = decided;
    } else {
        d.consent = decided;
    }
    d.drafted = match informed {
        Some(i) => back(i, 3, 14, rng),
        None => back(today, 0, 20, rng),
    };
    d.sent = sent;
    d.confirmed = match phase {
        Phase::Confirmed | Phase::WarmToPlan | Phase::WarmPlanned | Phase::WarmHeld => {
            sent.map(|s| ahead(s, 1, 10, rng))
        }
        _ => None,
    };
    match phase {
        Phase::WarmPlanned => d.planned = Some(ahead(today, 3, 21, rng)),
        Phase::WarmHeld => {
            let h = d.confirmed.map(|c| ahead(c, 3, 12, rng).min(today));
            d.planned = h;
            d.held = h;
        }
        _ => {}
    }
    d
}

/// Whether a toddler born on `birth` is about 3 years 4 months to 4 years 2 months old on `on`.
fn preschool_age(birth: NaiveDate, on: NaiveDate) -> bool {
    birth <= months_before(on, 40) && birth > months_before(on, 50)
}

fn preschool_file(
    rng: &mut StdRng,
    cfg: &DemoConfig,
    lrk: &str,
    school: &str,
    phase: Phase,
    supplied: &mut [Option<&PreschoolChild>],
) -> DemoFile {
    // First, so that the command ids do not depend on what the file holds.
    let command_seed: u128 = rng.gen();
    let dates = preschool_dates(rng, cfg.today, phase);
    let drafted = dates.drafted;
    let known = supplied
        .iter_mut()
        .find(|c| c.is_some_and(|c| c.lrk == lrk && preschool_age(c.birth_date, drafted)))
        .and_then(Option::take);
    let (child_id, identity, vve_child) = match known {
        Some(c) => (
            c.child_id,
            ChildIdentity {
                given_name: c.given_name.clone(),
                family_name: c.family_name.clone(),
                birth_date: c.birth_date,
                bsn: None,
            },
            // Toddlers of the VVE demo are VVE children.
            true,
        ),
        None => (
            uuid(rng),
            ChildIdentity {
                given_name: text(rng, GIVEN),
                family_name: text(rng, FAMILY),
                birth_date: back(months_before(drafted, 45), 0, 75, rng),
                bsn: None,
            },
            rng.gen_bool(0.6),
        ),
    };
    let warm_wanted = match phase {
        Phase::WarmToPlan | Phase::WarmPlanned | Phase::WarmHeld => true,
        Phase::Confirmed => false,
        _ => vve_child || rng.gen_bool(0.3),
    };
    let vve = vve_child.then(|| {
        // From 2.5 years (the legal minimum of the offer), within two months.
        let from = ahead(identity.birth_date + Months::new(30), 0, 60, rng).min(drafted);
        VveProgramme {
            programme: text(rng, PROGRAMMES),
            from,
            until: None,
            hours_per_week: Some(16),
        }
    });
    let observation = rng.gen_bool(0.7).then(|| Observation {
        instrument: *pick(
            rng,
            &[
                ObservationInstrument::Kijk,
                ObservationInstrument::Pravoo,
                ObservationInstrument::Looqin,
                ObservationInstrument::CitoJongeKind,
            ],
        ),
        on: back(drafted, 7, 40, rng),
        outcome: text(
            rng,
            &[
                "Ontwikkeling leeftijdsadequaat.",
                "Taalontwikkeling iets achter, overige domeinen leeftijdsadequaat.",
                "Sociaal-emotioneel sterk, taal vraagt aandacht.",
            ],
        ),
    });
    let content = PreschoolContent {
        socio_emotional: text(rng, SOCIO_EMOTIONAL),
        language: text(rng, LANGUAGE),
        motor: text(rng, MOTOR),
        cognitive: text(rng, COGNITIVE),
        interests_and_talents: text(rng, INTERESTS),
        home_situation: rng.gen_bool(0.4).then(|| {
            text(
                rng,
                &[
                    "Grootmoeder woont in.",
                    "Oudste van drie.",
                    "Jongste van het gezin; een broer zit op dezelfde school.",
                ],
            )
        }),
        approach: vve_child
            .then(|| "Kleine kring voor taalactiviteiten, veel herhaling.".to_owned()),
        vve,
        observation,
        support_needs: text(rng, SUPPORT_NEEDS),
    };
    let kdv = Party::childcare(lrk);
    let teacher = Party::primary(school, "leerkracht");
    let ib = Party::primary(school, "intern-begeleider");
    let mut steps = vec![
        DemoStep {
            by: kdv.clone(),
            command: Command::DraftPreschool {
                child_id: Some(child_id),
                drafted_on: drafted,
                warm_wanted,
                child: identity.clone(),
                content,
            },
        },
        DemoStep {
            by: kdv.clone(),
            command: Command::RecordEnrolment {
                on: drafted,
                school: school_id(school),
            },
        },
    ];
    let mut kdv_step = |command| {
        steps.push(DemoStep {
            by: kdv.clone(),
            command,
        })
    };
    if let Some(on) = dates.informed {
        kdv_step(Command::InformParents {
            on,
            how: *pick(
                rng,
                &[
                    InformedHow::Gesprek,
                    InformedHow::Gesprek,
                    InformedHow::Brief,
                    InformedHow::Digitaal,
                ],
            ),
        });
    }
    if let Some(on) = dates.response {
        kdv_step(Command::AddParentsResponse {
            on,
            response: ParentsResponse {
                agrees: Some(true),
                text: format!(
                    "{} {}",
                    identity.given_name,
                    text(
                        rng,
                        &[
                            "praat thuis veel over de bouwhoek.",
                            "zingt thuis de liedjes van de groep.",
                            "is thuis stiller dan op de groep; wij lezen samen voor.",
                        ]
                    )
                ),
            },
        });
    }
    if let Some(on) = dates.refused {
        kdv_step(Command::RefuseConsent {
            on,
            reason: *pick(
                rng,
                &[
                    RefusalReason::ZelfOverdragen,
                    RefusalReason::PrivacyBezwaar,
                    RefusalReason::GeenNoodzaak,
                ],
            ),
        });
    }
    if let Some(on) = dates.consent {
        kdv_step(Command::GiveConsent { on });
    }
    if let Some(on) = dates.sent {
        kdv_step(Command::Send {
            on,
            school: school_id(school),
        });
    }
    if let Some(on) = dates.confirmed {
        steps.push(DemoStep {
            by: teacher,
            command: Command::ConfirmReceipt { on },
        });
    }
    let participants = vec![
        Participant::PedagogischMedewerker,
        Participant::Leerkracht,
        Participant::Ouders,
    ];
    if let Some(on) = dates.planned {
        steps.push(DemoStep {
            by: ib.clone(),
            command: Command::PlanWarmHandover {
                on,
                participants: participants.clone(),
            },
        });
    }
    if let Some(on) = dates.held {
        steps.push(DemoStep {
            by: ib,
            command: Command::HoldWarmHandover { on, participants },
        });
    }
    DemoFile {
        kind: FileKind::Voorschool,
        phase,
        sender: lrk.into(),
        receiver: school.into(),
        child_id,
        steps,
        command_seed,
    }
}

/// Random offsets of one pupil's advice calendar, independent of the school year they fall in.
#[derive(Debug, Clone, Copy)]
struct OsoOffsets {
    created: u64,
    provisional: u64,
    test: u64,
    reconsider: u64,
    final_advice: u64,
    informed: u64,
    response: u64,
    enrolment: u64,
    sent: u64,
    confirmed: u64,
    warm: u64,
    birth: u64,
}

/// The calendar of the group 8 whose school year ends in `year` (DOMAIN.md, 2024-25).
#[derive(Debug, Clone, Copy)]
struct OsoDates {
    created: NaiveDate,
    provisional: NaiveDate,
    test: NaiveDate,
    reconsider: NaiveDate,
    final_advice: NaiveDate,
    informed: NaiveDate,
    response: NaiveDate,
    enrolment: NaiveDate,
    sent: NaiveDate,
    confirmed: NaiveDate,
    warm: NaiveDate,
    birth: NaiveDate,
}

impl OsoOffsets {
    fn draw(rng: &mut StdRng) -> Self {
        OsoOffsets {
            created: rng.gen_range(0..=30),
            provisional: rng.gen_range(0..=21),
            test: rng.gen_range(0..=14),
            reconsider: rng.gen_range(0..=4),
            final_advice: rng.gen_range(0..=3),
            informed: rng.gen_range(1..=4),
            response: rng.gen_range(1..=3),
            enrolment: rng.gen_range(0..=10),
            sent: rng.gen_range(0..=21),
            confirmed: rng.gen_range(1..=10),
            warm: rng.gen_range(3..=10),
            birth: rng.gen_range(0..=364),
        }
    }

    fn in_year(self, year: i32) -> OsoDates {
        let at = |m, d, off| ymd(year, m, d) + Days::new(off);
        let final_advice = at(3, 21, self.final_advice);
        let informed = final_advice + Days::new(self.informed);
        let sent = at(5, 26, self.sent);
        let confirmed = sent + Days::new(self.confirmed);
        OsoDates {
            created: ymd(year - 1, 9, 15) + Days::new(self.created),
            provisional: at(1, 10, self.provisional),
            test: at(3, 1, self.test),
            reconsider: at(3, 16, self.reconsider),
            final_advice,
            informed,
            response: informed + Days::new(self.response),
            enrolment: at(5, 12, self.enrolment),
            sent,
            confirmed,
            warm: confirmed + Days::new(self.warm),
            // Group 8 in the year ending in `year` (group 3 in the year a child turns six by
            // 1 October): born October `year - 13` to September `year - 12`.
            birth: ymd(year - 13, 10, 1) + Days::new(self.birth),
        }
    }
}

/// The end year of the school year `today` falls in (a school year runs August to July).
fn school_year_end(today: NaiveDate) -> i32 {
    if today.month() >= 8 {
        today.year() + 1
    } else {
        today.year()
    }
}

fn level_at(i: usize) -> AdviceLevel {
    AdviceLevel::ALL[i.min(AdviceLevel::ALL.len() - 1)]
}

fn oso_file(rng: &mut StdRng, cfg: &DemoConfig, school: &str, phase: Phase) -> DemoFile {
    let command_seed: u128 = rng.gen();
    let offsets = OsoOffsets::draw(rng);
    let po = Party::primary(school, "leerkracht");
    let vo = Party::secondary(&cfg.secondary_school);
    // The advice levels: provisional below vwo, so a test result can be higher.
    let provisional = rng.gen_range(1..=8usize);
    let test_higher = match phase {
        Phase::TestRecorded => false,
        Phase::ReconsiderationDue | Phase::Reconsidered => true,
        _ => rng.gen_bool(0.3),
    };
    let test_level = if test_higher {
        provisional + rng.gen_range(1..=2)
    } else {
        provisional.saturating_sub(rng.gen_range(0..=1))
    };
    let reconsidered = if rng.gen_bool(0.75) {
        provisional + 1
    } else {
        provisional
    };
    let current = if test_higher {
        reconsidered
    } else {
        provisional
    };
    let final_level = current;
    let given_name = text(rng, GIVEN);
    let family_name = text(rng, FAMILY);
    let bsn = fictional_bsn(rng);
    let child_id = uuid(rng);
    let wish = level_at(final_level + rng.gen_range(0..=1));
    let content = OsoContent {
        support: text(rng, OSO_SUPPORT),
        absence: Absence {
            authorised_days: rng.gen_range(0..=8),
            unauthorised_days: rng.gen_range(0..=2),
        },
        parents_wish: Some(wish),
        pupil_wish: rng.gen_bool(0.7).then_some(wish),
        contact_wanted: rng.gen_bool(0.4),
        school_history: Some("Groep 1 tot en met 8 op deze school.".into()),
        vve_history: rng
            .gen_bool(0.3)
            .then(|| "Voorschool met VVE-programma, 16 uur per week.".into()),
        action_plans: None,
    };
    let test_name = text(rng, TESTS);
    let parents_agree = rng.gen_bool(0.8);

    let steps_in = |d: &OsoDates| -> Vec<DemoStep> {
        let rank = |p: Phase| p <= phase;
        let mut steps = Vec::new();
        let mut po_step = |command| {
            steps.push(DemoStep {
                by: po.clone(),
                command,
            })
        };
        po_step(Command::CreateOso {
            child_id: Some(child_id),
            school_year: format!("{}-{}", d.created.year(), d.created.year() + 1),
            created_on: d.created,
            pupil: ChildIdentity {
                given_name: given_name.clone(),
                family_name: family_name.clone(),
                birth_date: d.birth,
                bsn: Some(bsn.clone()),
            },
            content: content.clone(),
        });
        if rank(Phase::ProvisionalAdvice) {
            po_step(Command::ProvisionalAdvice {
                on: d.provisional,
                advice: Advice {
                    level: level_at(provisional),
                    explanation: Some("Op grond van de leerlingvolgtoetsen en werkhouding.".into()),
                },
            });
        }
        if rank(Phase::TestRecorded) {
            po_step(Command::RecordTestResult {
                on: d.test,
                result: TestResult {
                    test: test_name.clone(),
                    level: level_at(test_level),
                },
            });
        }
        if rank(Phase::Reconsidered) && test_higher {
            po_step(Command::Reconsider {
                on: d.reconsider,
                reconsideration: Reconsideration {
                    level: level_at(reconsidered),
                    motivation: if reconsidered > provisional {
                        "Toetsuitslag en werkhouding samen gewogen: het advies gaat omhoog.".into()
                    } else {
                        "Toetsuitslag gewogen; de leerling heeft meer tijd nodig bij zelfstandig werken, het advies blijft."
                            .into()
                    },
                },
            });
        }
        if rank(Phase::FinalAdvice) {
            po_step(Command::FinalAdvice {
                on: d.final_advice,
                advice: Advice {
                    level: level_at(final_level),
                    explanation: None,
                },
            });
        }
        if rank(Phase::Enrolled) {
            po_step(Command::InformParents {
                on: d.informed,
                how: InformedHow::Gesprek,
            });
            if !parents_agree {
                po_step(Command::AddParentsResponse {
                    on: d.response,
                    response: ParentsResponse {
                        agrees: Some(false),
                        text: "Wij vinden een hoger niveau passend.".into(),
                    },
                });
            }
            po_step(Command::RecordEnrolment {
                on: d.enrolment,
                school: school_id(&cfg.secondary_school),
            });
        }
        if rank(Phase::OsoSent) {
            po_step(Command::Send {
                on: d.sent,
                school: school_id(&cfg.secondary_school),
            });
        }
        if rank(Phase::OsoConfirmed) {
            steps.push(DemoStep {
                by: vo.clone(),
                command: Command::ConfirmReceipt { on: d.confirmed },
            });
        }
        if rank(Phase::OsoWarmHeld) {
            steps.push(DemoStep {
                by: vo.clone(),
                command: Command::HoldWarmHandover {
                    on: d.warm,
                    participants: vec![Participant::Groep8Leerkracht, Participant::Mentor],
                },
            });
        }
        steps
    };
    // This school year's calendar, or last year's when a step of it lies after today.
    let year = school_year_end(cfg.today);
    let this_year = steps_in(&offsets.in_year(year));
    let steps = if this_year.iter().all(|s| step_date(&s.command) <= cfg.today) {
        this_year
    } else {
        steps_in(&offsets.in_year(year - 1))
    };
    DemoFile {
        kind: FileKind::PoVo,
        phase,
        sender: school.into(),
        receiver: cfg.secondary_school.clone(),
        child_id,
        steps,
        command_seed,
    }
}

/// The date a command records.
pub fn step_date(c: &Command) -> NaiveDate {
    match c {
        Command::DraftPreschool { drafted_on: on, .. }
        | Command::CreateOso { created_on: on, .. } => *on,
        Command::RevisePreschool { on, .. }
        | Command::UpdateOso { on, .. }
        | Command::ProvisionalAdvice { on, .. }
        | Command::RecordTestResult { on, .. }
        | Command::Reconsider { on, .. }
        | Command::FinalAdvice { on, .. }
        | Command::InformParents { on, .. }
        | Command::AddParentsResponse { on, .. }
        | Command::GiveConsent { on }
        | Command::RefuseConsent { on, .. }
        | Command::RecordEnrolment { on, .. }
        | Command::Send { on, .. }
        | Command::ConfirmReceipt { on }
        | Command::PlanWarmHandover { on, .. }
        | Command::HoldWarmHandover { on, .. }
        | Command::FlagOverdue { on, .. }
        | Command::ReportYear3 { on, .. } => *on,
    }
}

fn body<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The NATS subject and request body of a command; `file` is the file's id (none for the
/// command that creates it).
pub fn request_of(cmd: &Command, file: Option<Uuid>) -> anyhow::Result<(&'static str, Value)> {
    let id = || file.ok_or_else(|| anyhow::anyhow!("a command on a file needs the file's id"));
    Ok(match cmd.clone() {
        Command::DraftPreschool {
            child_id,
            drafted_on,
            warm_wanted,
            child,
            content,
        } => (
            subjects::DRAFT_PRESCHOOL,
            body(&api::DraftPreschoolFile {
                kind_id: child_id,
                opgesteld_op: drafted_on,
                warme_overdracht_gewenst: warm_wanted,
                kind: child,
                inhoud: content,
            }),
        ),
        Command::RevisePreschool {
            on,
            warm_wanted,
            content,
        } => (
            subjects::REVISE_PRESCHOOL,
            body(&api::RevisePreschoolFile {
                dossier_id: id()?,
                datum: on,
                warme_overdracht_gewenst: warm_wanted,
                inhoud: content,
            }),
        ),
        Command::CreateOso {
            child_id,
            school_year,
            created_on,
            pupil,
            content,
        } => (
            subjects::CREATE_OSO,
            body(&api::CreateOsoFile {
                kind_id: child_id,
                schooljaar: school_year,
                aangemaakt_op: created_on,
                leerling: pupil,
                inhoud: content,
            }),
        ),
        Command::UpdateOso { on, content } => (
            subjects::UPDATE_OSO,
            body(&api::UpdateOsoFile {
                dossier_id: id()?,
                datum: on,
                inhoud: content,
            }),
        ),
        Command::ProvisionalAdvice { on, advice } => (
            subjects::PROVISIONAL_ADVICE,
            body(&api::GiveAdvice {
                dossier_id: id()?,
                datum: on,
                advies: advice,
            }),
        ),
        Command::RecordTestResult { on, result } => (
            subjects::TEST_RESULT,
            body(&api::RecordTestResult {
                dossier_id: id()?,
                datum: on,
                uitslag: result,
            }),
        ),
        Command::Reconsider {
            on,
            reconsideration,
        } => (
            subjects::RECONSIDER,
            body(&api::ReconsiderAdvice {
                dossier_id: id()?,
                datum: on,
                heroverweging: reconsideration,
            }),
        ),
        Command::FinalAdvice { on, advice } => (
            subjects::FINAL_ADVICE,
            body(&api::GiveAdvice {
                dossier_id: id()?,
                datum: on,
                advies: advice,
            }),
        ),
        Command::InformParents { on, how } => (
            subjects::PARENTS_INFORMED,
            body(&api::RecordParentsInformed {
                dossier_id: id()?,
                datum: on,
                wijze: how,
            }),
        ),
        Command::AddParentsResponse { on, response } => (
            subjects::PARENTS_RESPONSE,
            body(&api::AddParentsResponse {
                dossier_id: id()?,
                datum: on,
                reactie: response,
            }),
        ),
        Command::GiveConsent { on } => (
            subjects::GIVE_CONSENT,
            body(&api::RecordConsent {
                dossier_id: id()?,
                datum: on,
            }),
        ),
        Command::RefuseConsent { on, reason } => (
            subjects::REFUSE_CONSENT,
            body(&api::RefuseConsent {
                dossier_id: id()?,
                datum: on,
                reden: reason,
            }),
        ),
        Command::RecordEnrolment { on, school } => (
            subjects::ENROLMENT,
            body(&api::RecordEnrolment {
                dossier_id: id()?,
                datum: on,
                school,
            }),
        ),
        Command::Send { on, school } => (
            subjects::SEND,
            body(&api::SendFile {
                dossier_id: id()?,
                datum: on,
                school,
            }),
        ),
        Command::ConfirmReceipt { on } => (
            subjects::CONFIRM,
            body(&api::FileRef {
                dossier_id: id()?,
                datum: Some(on),
            }),
        ),
        Command::PlanWarmHandover { on, participants } => (
            subjects::PLAN_WARM,
            body(&api::WarmHandover {
                dossier_id: id()?,
                datum: on,
                deelnemers: participants,
            }),
        ),
        Command::HoldWarmHandover { on, participants } => (
            subjects::HOLD_WARM,
            body(&api::WarmHandover {
                dossier_id: id()?,
                datum: on,
                deelnemers: participants,
            }),
        ),
        Command::ReportYear3 { on, position } => (
            subjects::YEAR3,
            body(&api::ReportYear3Position {
                dossier_id: id()?,
                datum: on,
                positie: position,
            }),
        ),
        Command::FlagOverdue { .. } => {
            anyhow::bail!("only the service itself flags overdue files")
        }
    })
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub files: usize,
    pub commands: usize,
    /// Commands that had been sent before (a repeated load).
    pub replayed: usize,
}

/// Sends one command; retries what may pass on a second try (the service not answering yet, a
/// timeout, or the scheduler's flag landing on the file in between), with the same command id.
async fn send(
    client: &Client,
    who: &Actor,
    subject: &str,
    body: &Value,
    id: Uuid,
) -> Result<CommandAccepted, Problem> {
    let mut attempt = 0u32;
    loop {
        let r: Result<CommandAccepted, Problem> = kansrijk_runtime::nats::request(
            client,
            subject.to_owned(),
            kansrijk_runtime::nats::request_headers(who, Some(id), None),
            body,
            Duration::from_secs(30),
        )
        .await;
        match r {
            Err(p)
                if attempt < 8
                    && (p.status == 503
                        || p.status == 504
                        || p.code.as_deref() == Some("versieconflict")) =>
            {
                attempt += 1;
                tracing::debug!(status = p.status, attempt, "demo command retried");
                tokio::time::sleep(Duration::from_millis((250 * u64::from(attempt)).min(2000)))
                    .await;
            }
            other => return other,
        }
    }
}

/// Loads the demo world through the handover service's NATS endpoints (the handover and privacy
/// services must be running), as the childcare locations and schools would. Command ids derive
/// from the seed, so loading the same world again appends nothing. Files are loaded `parallel`
/// at a time, each file's commands in order.
///
/// The service dates its decisions by its own clock, so `cfg.today` must not lie after today.
pub async fn load_demo(
    client: &Client,
    cfg: &DemoConfig,
    parallel: usize,
) -> anyhow::Result<DemoReport> {
    let now = Utc::now().date_naive();
    anyhow::ensure!(
        cfg.today <= now,
        "the demo's today ({}) lies after today ({now}): the service would refuse its facts",
        cfg.today
    );
    let data = generate(cfg);
    let results = futures::stream::iter(data.files.iter().map(|f| async move {
        let mut n = 0usize;
        let mut replayed = 0usize;
        let mut file_id = None;
        for (i, step) in f.steps.iter().enumerate() {
            let (subject, body) = request_of(&step.command, file_id)?;
            let id = Uuid::from_u128(f.command_seed.wrapping_add(i as u128));
            let r = send(
                client,
                &step.by.actor(&cfg.municipality),
                subject,
                &body,
                id,
            )
            .await
            .map_err(|p| {
                anyhow::anyhow!(
                    "{subject} (step {i} of a {:?} file) refused: {} {:?} {:?} {:?}",
                    f.phase,
                    p.status,
                    p.code,
                    p.detail,
                    p.invalid_params
                )
            })?;
            file_id.get_or_insert(r.stream_id);
            n += 1;
            replayed += usize::from(!r.first_time);
        }
        Ok::<_, anyhow::Error>((n, replayed))
    }))
    .buffer_unordered(parallel.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut report = DemoReport {
        files: data.files.len(),
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
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::{decide, Ctx, File, Status};
    use kansrijk_runtime::crypto::SubjectKey;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn today() -> NaiveDate {
        date(2026, 11, 23)
    }

    /// Anchor dates across a whole school year and its edges.
    fn todays() -> Vec<NaiveDate> {
        vec![
            today(),
            date(2026, 12, 15),
            date(2027, 1, 12),
            date(2027, 2, 10),
            date(2027, 3, 20),
            date(2027, 4, 15),
            date(2027, 5, 25),
            date(2027, 6, 20),
            date(2027, 7, 31),
            date(2027, 8, 10),
            date(2027, 9, 5),
            date(2028, 2, 29),
        ]
    }

    /// The state a folded file is in, as the screens tell it.
    fn phase_of(f: &File, today: NaiveDate) -> Phase {
        match f.kind {
            Some(FileKind::Voorschool) => match f.status() {
                Status::Draft => Phase::Drafted,
                Status::ParentsInformed if f.responses > 0 => Phase::ParentsViewAdded,
                Status::ParentsInformed => Phase::ParentsInformed,
                Status::Consented => Phase::Consented,
                Status::Refused => Phase::Refused,
                Status::Sent => {
                    let (sent, _) = f.sent.clone().unwrap();
                    if sent + Days::new(CONFIRM_WITHIN_DAYS) <= today {
                        Phase::ConfirmationOverdue
                    } else {
                        Phase::AwaitingConfirmation
                    }
                }
                Status::Confirmed if f.warm_held_on.is_some() => Phase::WarmHeld,
                Status::Confirmed if f.warm_planned_on.is_some() => Phase::WarmPlanned,
                Status::Confirmed if f.warm_wanted => Phase::WarmToPlan,
                Status::Confirmed => Phase::Confirmed,
                Status::None => panic!("no file"),
            },
            Some(FileKind::PoVo) => {
                if f.confirmed_on.is_some() && f.warm_held_on.is_some() {
                    Phase::OsoWarmHeld
                } else if f.confirmed_on.is_some() {
                    Phase::OsoConfirmed
                } else if f.sent.is_some() {
                    Phase::OsoSent
                } else if f.enrolled.is_some() {
                    Phase::Enrolled
                } else if f.final_advice.is_some() {
                    Phase::FinalAdvice
                } else if f.reconsidered.is_some() {
                    Phase::Reconsidered
                } else if f.test.is_some() && f.reconsideration_due {
                    Phase::ReconsiderationDue
                } else if f.test.is_some() {
                    Phase::TestRecorded
                } else if f.provisional.is_some() {
                    Phase::ProvisionalAdvice
                } else {
                    Phase::OsoCreated
                }
            }
            None => panic!("no file"),
        }
    }

    /// Runs every command of the world through the policy and the domain's `decide`, in order,
    /// as of the world's today; returns each file folded.
    fn accepted_by_the_domain(cfg: &DemoConfig) -> Vec<File> {
        let data = generate(cfg);
        let mut out = Vec::new();
        for (n, f) in data.files.iter().enumerate() {
            let key = SubjectKey::from_bytes(Uuid::from_u128(n as u128 + 1), 1, &[7; 32]).unwrap();
            let mut file = File::default();
            let mut last = NaiveDate::MIN;
            for step in &f.steps {
                let (subject, _) = request_of(&step.command, Some(Uuid::nil())).unwrap();
                let action = crate::handlers::action(subject.rsplit('.').next().unwrap());
                assert!(
                    kansrijk_policy::is_allowed(&step.by.actor(&cfg.municipality), &action),
                    "{action} by {:?}",
                    step.by
                );
                let on = step_date(&step.command);
                assert!(on >= last, "{:?}: steps in date order", f.phase);
                last = on;
                let planned = matches!(step.command, Command::PlanWarmHandover { .. });
                assert!(
                    planned || on <= cfg.today,
                    "{:?} on {on} lies after {}",
                    step.command,
                    cfg.today
                );
                let ctx = Ctx {
                    today: cfg.today,
                    organisation: &step.by.organisation,
                    municipality: &cfg.municipality,
                    key: Some(&key),
                    system: false,
                };
                let events = decide(&file, step.command.clone(), &ctx).unwrap_or_else(|e| {
                    panic!(
                        "{:?} as of {}: {:?} refused: {e:?}",
                        f.phase, cfg.today, step.command
                    )
                });
                for e in &events {
                    file.apply(e);
                }
            }
            assert_eq!(phase_of(&file, cfg.today), f.phase, "as of {}", cfg.today);
            assert_eq!(file.sender, f.sender);
            assert_eq!(file.child_id, Some(f.child_id));
            out.push(file);
        }
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let a = generate(&DemoConfig::leiden(7, today()));
        let b = generate(&DemoConfig::leiden(7, today()));
        assert_eq!(a, b);
        let c = generate(&DemoConfig::leiden(8, today()));
        assert_ne!(a.files[0], c.files[0]);
        // Command ids (from the seeds) do not repeat across files.
        let mut seeds: Vec<u128> = a.files.iter().map(|f| f.command_seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), a.files.len());
    }

    /// `kansrijk up` on a later day sends the same command ids, as many per file.
    #[test]
    fn command_ids_do_not_depend_on_today() {
        let ids = |cfg: &DemoConfig| -> Vec<(u128, usize)> {
            generate(cfg)
                .files
                .iter()
                .map(|f| (f.command_seed, f.steps.len()))
                .collect()
        };
        let first = ids(&DemoConfig::leiden(2026, today()));
        for t in todays() {
            assert_eq!(ids(&DemoConfig::leiden(2026, t)), first, "as of {t}");
            let mut cfg = DemoConfig::leiden(2026, t);
            cfg.preschool_children = vec![PreschoolChild {
                child_id: Uuid::from_u128(1),
                given_name: "Peuter".into(),
                family_name: "Demo".into(),
                birth_date: months_before(today(), 44),
                lrk: "100000002".into(),
            }];
            assert_eq!(ids(&cfg), first, "as of {t}, with a toddler supplied");
        }
    }

    #[test]
    fn the_domain_accepts_every_demo_command() {
        for seed in [11, 2026, 42, 7] {
            for t in todays() {
                accepted_by_the_domain(&DemoConfig::leiden(seed, t));
            }
        }
    }

    #[test]
    fn the_world_has_every_state_at_every_location_and_school() {
        for t in todays() {
            let cfg = DemoConfig::leiden(2026, t);
            let data = generate(&cfg);
            let folded = accepted_by_the_domain(&cfg);
            let mut by_phase: BTreeMap<Phase, usize> = BTreeMap::new();
            let mut by_pair: BTreeMap<(&str, &str, Phase), usize> = BTreeMap::new();
            for (f, file) in data.files.iter().zip(&folded) {
                let phase = phase_of(file, t);
                *by_phase.entry(phase).or_default() += 1;
                *by_pair
                    .entry((f.sender.as_str(), f.receiver.as_str(), phase))
                    .or_default() += 1;
            }
            use Phase::*;
            let expected = BTreeMap::from([
                (Drafted, 4),
                (ParentsInformed, 4),
                (ParentsViewAdded, 4),
                (Consented, 2),
                (Refused, 2),
                (AwaitingConfirmation, 4),
                (ConfirmationOverdue, 4),
                (Confirmed, 4),
                (WarmToPlan, 4),
                (WarmPlanned, 4),
                (WarmHeld, 4),
                (OsoCreated, 4),
                (ProvisionalAdvice, 4),
                (TestRecorded, 2),
                (ReconsiderationDue, 2),
                (Reconsidered, 2),
                (FinalAdvice, 4),
                (Enrolled, 2),
                (OsoSent, 4),
                (OsoConfirmed, 6),
                (OsoWarmHeld, 2),
            ]);
            assert_eq!(by_phase, expected, "as of {t}");
            assert_eq!(data.files.len(), 72);
            // Every pair of childcare location and school has a form in every state a pair has.
            for lrk in &cfg.childcare {
                for school in &cfg.primary_schools {
                    for phase in PAIR_PHASES {
                        assert_eq!(
                            by_pair.get(&(lrk.as_str(), school.as_str(), *phase)),
                            Some(&1),
                            "{lrk} -> {school}: {phase:?} as of {t}"
                        );
                    }
                }
                for phase in LOCATION_PHASES {
                    let n: usize = cfg
                        .primary_schools
                        .iter()
                        .filter_map(|s| by_pair.get(&(lrk.as_str(), s.as_str(), *phase)))
                        .sum();
                    assert_eq!(n, 1, "{lrk}: {phase:?}");
                }
            }
            // Every primary school sends OSO files in every phase to the VO school.
            for school in &cfg.primary_schools {
                for (phase, n) in SCHOOL_PHASES {
                    assert_eq!(
                        by_pair.get(&(school.as_str(), cfg.secondary_school.as_str(), *phase)),
                        Some(n),
                        "{school}: {phase:?} as of {t}"
                    );
                }
            }
            // The VO mentor's inbox: several incoming files, confirmed and not.
            let incoming = folded
                .iter()
                .filter(|f| f.visible_to_receiver(&cfg.secondary_school))
                .count();
            assert_eq!(incoming, 12);
            // Each primary school's inbox has a receipt overdue and one to confirm.
            for school in &cfg.primary_schools {
                let inbox: Vec<Phase> = folded
                    .iter()
                    .filter(|f| f.visible_to_receiver(school))
                    .map(|f| phase_of(f, t))
                    .collect();
                assert_eq!(inbox.len(), 12, "{school}");
                assert!(
                    inbox.contains(&ConfirmationOverdue) && inbox.contains(&AwaitingConfirmation)
                );
            }
        }
    }

    #[test]
    fn children_have_the_ages_of_their_transition() {
        for t in todays() {
            let data = generate(&DemoConfig::leiden(5, t));
            for f in &data.files {
                let (birth, on) = match &f.steps[0].command {
                    Command::DraftPreschool {
                        child, drafted_on, ..
                    } => {
                        assert!(child.bsn.is_none());
                        (child.birth_date, *drafted_on)
                    }
                    Command::CreateOso { pupil, .. } => {
                        let bsn = pupil.bsn.as_deref().unwrap();
                        assert!(crate::domain::check::is_bsn(bsn) && bsn.starts_with('9'));
                        (pupil.birth_date, t)
                    }
                    other => panic!("a file starts with {other:?}"),
                };
                match f.kind {
                    // About 3 years 9 months to 4 on the form's date.
                    FileKind::Voorschool => assert!(
                        birth <= months_before(on, 45) && birth >= months_before(on, 48),
                        "born {birth}, form of {on}"
                    ),
                    // Group 8 this year or last (now in VO year 1).
                    FileKind::PoVo => assert!(
                        birth <= months_before(t, 130) && birth >= months_before(t, 166),
                        "born {birth}, today {t}"
                    ),
                }
            }
        }
    }

    #[test]
    fn the_vve_demos_toddlers_get_the_forms_of_their_location() {
        let t = today();
        let mut cfg = DemoConfig::leiden(3, t);
        let toddler = |n: u128, lrk: &str, months: u32| PreschoolChild {
            child_id: Uuid::from_u128(n),
            given_name: format!("Peuter{n}"),
            family_name: "Demo".into(),
            birth_date: months_before(t, months),
            lrk: lrk.into(),
        };
        cfg.preschool_children = vec![
            toddler(1, "100000001", 46),
            toddler(2, "100000001", 45),
            toddler(3, "100000002", 47),
            // Too young for a form, and a location outside the demo world.
            toddler(4, "100000001", 30),
            toddler(5, "999999999", 46),
        ];
        let data = generate(&cfg);
        let used = |n: u128| {
            data.files
                .iter()
                .filter(|f| f.child_id == Uuid::from_u128(n))
                .map(|f| f.sender.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(used(1), vec!["100000001".to_owned()]);
        assert_eq!(used(2), vec!["100000001".to_owned()]);
        assert_eq!(used(3), vec!["100000002".to_owned()]);
        assert!(used(4).is_empty() && used(5).is_empty());
        let f = data
            .files
            .iter()
            .find(|f| f.child_id == Uuid::from_u128(1))
            .unwrap();
        assert!(matches!(
            &f.steps[0].command,
            Command::DraftPreschool { child, content, .. }
                if child.given_name == "Peuter1" && content.vve.is_some()
        ));
        accepted_by_the_domain(&cfg);
    }
}

//! Events, command bodies and query bodies of the handover service (`overdracht`): the
//! preschool-to-school file (overdrachtsformulier, written by the childcare location) and the
//! primary-to-secondary file (onderwijskundig rapport / OSO-dossier, written by the primary school).
//!
//! One stream per file (stream type [`STREAM_FILE`]); the stream id is a random UUID that is also
//! the data subject of the file's own key in the privacy service. Destroying that key (parents
//! refused consent, or retention ended) erases the file's content without touching the child's
//! VVE record, which is sealed under the child's own key.
//!
//! What is plain: ids, organisation ids (LRK, BRIN + vestiging), process dates, statuses, and the
//! few categorical facts the municipality's monitor needs (the reason category of a refusal, the
//! year-3 position against the advice, whether a reconsideration was due). Those facts carry no
//! identifying data; once the file's key is gone they are anonymous. Everything else (the child's
//! identity, development, advice, test results, the parents' words) is sealed.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::Event;
use crate::sealed::Sealed;

/// Stream type of one handover file (either kind).
pub const STREAM_FILE: &str = "overdrachtsdossier";
/// The service name: command subjects `kansrijk.cmd.overdracht.*`, events `kansrijk.evt.overdracht.*`.
pub const SERVICE: &str = "overdracht";

// ---------------------------------------------------------------------------------------------
// Shared value types.
// ---------------------------------------------------------------------------------------------

/// A school location: BRIN (4 characters) plus vestiging (2 digits).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct SchoolId {
    #[serde(rename = "brin")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub brin: String,
    #[serde(rename = "vestiging")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub location: String,
}

impl SchoolId {
    pub fn new(brin: impl Into<String>, location: impl Into<String>) -> Self {
        SchoolId {
            brin: brin.into(),
            location: location.into(),
        }
    }

    /// The organisation id of the location as actors carry it: BRIN followed by vestiging.
    pub fn code(&self) -> String {
        format!("{}{}", self.brin, self.location)
    }

    /// Whether BRIN and vestiging are well formed: 2 digits + 2 letters/digits, and 2 digits.
    pub fn is_well_formed(&self) -> bool {
        let b = self.brin.as_bytes();
        b.len() == 4
            && b[..2].iter().all(u8::is_ascii_digit)
            && b[2..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && self.location.len() == 2
            && self.location.bytes().all(|c| c.is_ascii_digit())
    }
}

/// The two kinds of handover file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// Preschool (voorschool) to primary school: the overdrachtsformulier.
    Voorschool,
    /// Primary to secondary school: the onderwijskundig rapport (OSO).
    PoVo,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Voorschool => "voorschool",
            FileKind::PoVo => "po-vo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [FileKind::Voorschool, FileKind::PoVo]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The child's identity on the file (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChildIdentity {
    #[serde(rename = "voornaam")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub given_name: String,
    #[serde(rename = "achternaam")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub family_name: String,
    #[serde(rename = "geboortedatum")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub birth_date: NaiveDate,
    /// BSN: only on a PO-VO file (schools may use it by law; childcare may not).
    #[serde(rename = "bsn", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub bsn: Option<String>,
}

/// How the parents were informed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InformedHow {
    Gesprek,
    Brief,
    Digitaal,
    Telefonisch,
}

/// Who takes part in a warm handover (roles, never names).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Participant {
    PedagogischMedewerker,
    Leerkracht,
    InternBegeleider,
    Ouders,
    Groep8Leerkracht,
    Mentor,
    Zorgcoordinator,
    Jeugdverpleegkundige,
    Anders,
}

/// Reason categories for parents refusing a preschool file's handover (monitor indicator).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalReason {
    /// The parents hand the information over themselves.
    ZelfOverdragen,
    /// The parents disagree with the content.
    OneensMetInhoud,
    /// Objection on privacy grounds.
    PrivacyBezwaar,
    /// The parents see no need.
    GeenNoodzaak,
    /// No reason given.
    GeenReden,
    Anders,
}

impl RefusalReason {
    pub const ALL: [RefusalReason; 6] = [
        RefusalReason::ZelfOverdragen,
        RefusalReason::OneensMetInhoud,
        RefusalReason::PrivacyBezwaar,
        RefusalReason::GeenNoodzaak,
        RefusalReason::GeenReden,
        RefusalReason::Anders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::ZelfOverdragen => "zelf-overdragen",
            RefusalReason::OneensMetInhoud => "oneens-met-inhoud",
            RefusalReason::PrivacyBezwaar => "privacy-bezwaar",
            RefusalReason::GeenNoodzaak => "geen-noodzaak",
            RefusalReason::GeenReden => "geen-reden",
            RefusalReason::Anders => "anders",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A school advice level, ordered from lowest to highest (combined advices in between).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AdviceLevel {
    Praktijkonderwijs,
    VmboBb,
    VmboBbKb,
    VmboKb,
    VmboKbGt,
    VmboGt,
    VmboGtHavo,
    Havo,
    HavoVwo,
    Vwo,
}

impl AdviceLevel {
    pub const ALL: [AdviceLevel; 10] = [
        AdviceLevel::Praktijkonderwijs,
        AdviceLevel::VmboBb,
        AdviceLevel::VmboBbKb,
        AdviceLevel::VmboKb,
        AdviceLevel::VmboKbGt,
        AdviceLevel::VmboGt,
        AdviceLevel::VmboGtHavo,
        AdviceLevel::Havo,
        AdviceLevel::HavoVwo,
        AdviceLevel::Vwo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdviceLevel::Praktijkonderwijs => "praktijkonderwijs",
            AdviceLevel::VmboBb => "vmbo-bb",
            AdviceLevel::VmboBbKb => "vmbo-bb-kb",
            AdviceLevel::VmboKb => "vmbo-kb",
            AdviceLevel::VmboKbGt => "vmbo-kb-gt",
            AdviceLevel::VmboGt => "vmbo-gt",
            AdviceLevel::VmboGtHavo => "vmbo-gt-havo",
            AdviceLevel::Havo => "havo",
            AdviceLevel::HavoVwo => "havo-vwo",
            AdviceLevel::Vwo => "vwo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An advice with its explanation (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Advice {
    #[serde(rename = "niveau")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub level: AdviceLevel,
    #[serde(
        rename = "toelichting",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub explanation: Option<String>,
}

/// A doorstroomtoets result (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestResult {
    /// The test taken, e.g. `route-8`, `iep`, `dia`, `amn`, `cito`.
    #[serde(rename = "toets")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub test: String,
    /// The level the result points to (toetsadvies).
    #[serde(rename = "toetsadvies")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub level: AdviceLevel,
}

/// The outcome of a reconsideration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReconsiderationOutcome {
    Verhoogd,
    Gehandhaafd,
}

/// A reconsideration's new advice and its motivation (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reconsideration {
    #[serde(rename = "niveau")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub level: AdviceLevel,
    #[serde(rename = "motivatie")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub motivation: String,
}

/// The parents' own view (preschool) or remarks (PO-VO), sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ParentsResponse {
    /// Whether the parents agree with the file (OSO review block); `None` when not asked.
    #[serde(rename = "akkoord", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub agrees: Option<bool>,
    #[serde(rename = "toelichting")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub text: String,
}

/// The year-3 position of a pupil against the primary school's advice.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Year3Position {
    Boven,
    Op,
    Onder,
}

impl Year3Position {
    pub const ALL: [Year3Position; 3] = [
        Year3Position::Boven,
        Year3Position::Op,
        Year3Position::Onder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Year3Position::Boven => "boven",
            Year3Position::Op => "op",
            Year3Position::Onder => "onder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The observation instruments in use in Dutch preschools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ObservationInstrument {
    Kijk,
    Pravoo,
    Looqin,
    Bosos,
    CitoJongeKind,
    Anders,
}

/// Output of an observation instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Observation {
    #[serde(rename = "instrument")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub instrument: ObservationInstrument,
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub on: NaiveDate,
    #[serde(rename = "uitkomst")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub outcome: String,
}

/// The VVE programme the child followed and for how long (legally required for VVE children).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VveProgramme {
    /// E.g. `Uk & Puk`, `Piramide`, `Kaleidoscoop`, `Startblokken`.
    #[serde(rename = "programma")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub programme: String,
    #[serde(rename = "vanaf")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub from: NaiveDate,
    #[serde(rename = "totEnMet", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub until: Option<NaiveDate>,
    #[serde(
        rename = "urenPerWeek",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub hours_per_week: Option<u8>,
}

/// The content of a preschool file (sealed with the file's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PreschoolContent {
    #[serde(rename = "sociaalEmotioneel")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub socio_emotional: String,
    #[serde(rename = "taal")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub language: String,
    #[serde(rename = "motoriek")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub motor: String,
    #[serde(rename = "cognitief")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub cognitive: String,
    #[serde(rename = "interessesEnTalenten")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub interests_and_talents: String,
    /// Only what is relevant for school.
    #[serde(
        rename = "thuissituatie",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "safety"))]
    pub home_situation: Option<String>,
    /// The preschool's approach with this child.
    #[serde(rename = "aanpak", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub approach: Option<String>,
    #[serde(rename = "vve", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub vve: Option<VveProgramme>,
    #[serde(
        rename = "observatie",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub observation: Option<Observation>,
    #[serde(rename = "ondersteuningsbehoeften")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub support_needs: String,
}

/// Absence in the last school year, in days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Absence {
    #[serde(rename = "geoorloofdDagen")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub authorised_days: u16,
    #[serde(rename = "ongeoorloofdDagen")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub unauthorised_days: u16,
}

/// The content of a PO-VO file besides the advice (sealed with the file's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OsoContent {
    /// Support the pupil received and needs (OSO: zorg / ondersteuning).
    #[serde(rename = "ondersteuning")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub support: String,
    #[serde(rename = "verzuim")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub absence: Absence,
    #[serde(
        rename = "wensOuders",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub parents_wish: Option<AdviceLevel>,
    #[serde(
        rename = "wensLeerling",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub pupil_wish: Option<AdviceLevel>,
    /// Whether the primary school wants contact with the secondary school about the pupil.
    #[serde(rename = "contactGewenst")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub contact_wanted: bool,
    #[serde(
        rename = "schoolloopbaan",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub school_history: Option<String>,
    #[serde(
        rename = "vveHistorie",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub vve_history: Option<String>,
    #[serde(
        rename = "handelingsplannen",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub action_plans: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Events.
// ---------------------------------------------------------------------------------------------

/// The childcare location drew up a preschool file for a child who goes to primary school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PreschoolFileDrafted {
    /// CBS code of the municipality (the tenant).
    #[serde(rename = "gemeente")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub municipality: String,
    /// LRK number of the childcare location (the sender).
    #[serde(rename = "lrk")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub location: String,
    /// The child's VVE record (pseudonymous stream id), when the child has one.
    #[serde(rename = "kindId", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub child_id: Option<Uuid>,
    #[serde(rename = "opgesteldOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub drafted_on: NaiveDate,
    #[serde(rename = "warmeOverdrachtGewenst")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub warm_handover_wanted: bool,
    #[serde(rename = "kind")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub child: Sealed<ChildIdentity>,
    #[serde(rename = "inhoud")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub content: Sealed<PreschoolContent>,
}

impl Event for PreschoolFileDrafted {
    const NAME: &'static str = "nl.overdracht.formulier-opgesteld";
    const VERSION: u16 = 1;
}

/// The childcare location revised the content before the parents consented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PreschoolFileRevised {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "warmeOverdrachtGewenst")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub warm_handover_wanted: bool,
    #[serde(rename = "inhoud")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub content: Sealed<PreschoolContent>,
}

impl Event for PreschoolFileRevised {
    const NAME: &'static str = "nl.overdracht.formulier-gewijzigd";
    const VERSION: u16 = 1;
}

/// The primary school created the PO-VO file (onderwijskundig rapport) for a group-8 pupil.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OsoFileCreated {
    #[serde(rename = "gemeente")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub municipality: String,
    /// The primary school location (the sender).
    #[serde(rename = "school")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school: SchoolId,
    #[serde(rename = "kindId", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub child_id: Option<Uuid>,
    /// The school year of the transition, e.g. `2025-2026`.
    #[serde(rename = "schooljaar")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school_year: String,
    #[serde(rename = "aangemaaktOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub created_on: NaiveDate,
    #[serde(rename = "leerling")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub pupil: Sealed<ChildIdentity>,
    #[serde(rename = "inhoud")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub content: Sealed<OsoContent>,
}

impl Event for OsoFileCreated {
    const NAME: &'static str = "nl.overdracht.oso-dossier-aangemaakt";
    const VERSION: u16 = 1;
}

/// The primary school updated the file's content (support, absence, wishes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OsoFileUpdated {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "inhoud")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub content: Sealed<OsoContent>,
}

impl Event for OsoFileUpdated {
    const NAME: &'static str = "nl.overdracht.oso-dossier-bijgewerkt";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProvisionalAdviceGiven {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "advies")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub advice: Sealed<Advice>,
}

impl Event for ProvisionalAdviceGiven {
    const NAME: &'static str = "nl.overdracht.voorlopig-advies-gegeven";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestResultRecorded {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "uitslag")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub result: Sealed<TestResult>,
    /// The result is higher than the advice: the school must reconsider (a process status).
    #[serde(rename = "heroverwegingNodig")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub reconsideration_due: bool,
}

impl Event for TestResultRecorded {
    const NAME: &'static str = "nl.overdracht.toetsuitslag-geregistreerd";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AdviceReconsidered {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "uitkomst")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub outcome: ReconsiderationOutcome,
    #[serde(rename = "heroverweging")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub reconsideration: Sealed<Reconsideration>,
}

impl Event for AdviceReconsidered {
    const NAME: &'static str = "nl.overdracht.advies-heroverwogen";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FinalAdviceGiven {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "advies")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub advice: Sealed<Advice>,
}

impl Event for FinalAdviceGiven {
    const NAME: &'static str = "nl.overdracht.definitief-advies-gegeven";
    const VERSION: u16 = 1;
}

/// The parents were informed about the file and shown it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParentsInformed {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "wijze")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub how: InformedHow,
}

impl Event for ParentsInformed {
    const NAME: &'static str = "nl.overdracht.ouders-geinformeerd";
    const VERSION: u16 = 1;
}

/// The parents' own view (preschool) or remarks (PO-VO) was added to the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParentsResponseAdded {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "reactie")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub response: Sealed<ParentsResponse>,
}

impl Event for ParentsResponseAdded {
    const NAME: &'static str = "nl.overdracht.reactie-ouders-toegevoegd";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentGiven {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
}

impl Event for ConsentGiven {
    const NAME: &'static str = "nl.overdracht.toestemming-gegeven";
    const VERSION: u16 = 1;
}

/// The parents refused the handover: the file's key is destroyed; only this fact remains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConsentRefused {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "reden")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reason: RefusalReason,
}

impl Event for ConsentRefused {
    const NAME: &'static str = "nl.overdracht.toestemming-geweigerd";
    const VERSION: u16 = 1;
}

/// The school where the child is enrolled (the only possible receiver).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnrolmentRecorded {
    #[serde(rename = "school")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school: SchoolId,
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
}

impl Event for EnrolmentRecorded {
    const NAME: &'static str = "nl.overdracht.inschrijving-geregistreerd";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FileSent {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "school")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school: SchoolId,
}

impl Event for FileSent {
    const NAME: &'static str = "nl.overdracht.dossier-verzonden";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptConfirmed {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
}

impl Event for ReceiptConfirmed {
    const NAME: &'static str = "nl.overdracht.ontvangst-bevestigd";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WarmHandoverPlanned {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "deelnemers")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub participants: Vec<Participant>,
}

impl Event for WarmHandoverPlanned {
    const NAME: &'static str = "nl.overdracht.warme-overdracht-gepland";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WarmHandoverHeld {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "deelnemers")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub participants: Vec<Participant>,
}

impl Event for WarmHandoverHeld {
    const NAME: &'static str = "nl.overdracht.warme-overdracht-gehouden";
    const VERSION: u16 = 1;
}

/// The receiver did not confirm receipt within the configured number of days (flag for both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmationOverdue {
    #[serde(rename = "gesignaleerdOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub flagged_on: NaiveDate,
    #[serde(rename = "termijnDagen")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub days: u16,
}

impl Event for ConfirmationOverdue {
    const NAME: &'static str = "nl.overdracht.bevestiging-uitgebleven";
    const VERSION: u16 = 1;
}

/// The secondary school reported the pupil's position in year 3 against the primary advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Year3PositionReported {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub on: NaiveDate,
    #[serde(rename = "positie")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub position: Year3Position,
}

impl Event for Year3PositionReported {
    const NAME: &'static str = "nl.overdracht.positie-leerjaar-3-gemeld";
    const VERSION: u16 = 1;
}

crate::event_set! {
    /// Events of one handover file's stream.
    pub enum HandoverEvent: "overdrachtsdossier" {
        PreschoolDrafted(PreschoolFileDrafted),
        PreschoolRevised(PreschoolFileRevised),
        OsoCreated(OsoFileCreated),
        OsoUpdated(OsoFileUpdated),
        ProvisionalAdvice(ProvisionalAdviceGiven),
        TestResult(TestResultRecorded),
        Reconsidered(AdviceReconsidered),
        FinalAdvice(FinalAdviceGiven),
        ParentsInformed(ParentsInformed),
        ParentsResponse(ParentsResponseAdded),
        ConsentGiven(ConsentGiven),
        ConsentRefused(ConsentRefused),
        Enrolled(EnrolmentRecorded),
        Sent(FileSent),
        Confirmed(ReceiptConfirmed),
        WarmPlanned(WarmHandoverPlanned),
        WarmHeld(WarmHandoverHeld),
        Overdue(ConfirmationOverdue),
        Year3(Year3PositionReported),
    }
    upcasters = &[];
}

fn example_sealed<T>(n: u128) -> Sealed<T> {
    Sealed::new(
        "AES-256-GCM-SIV".into(),
        Uuid::from_u128(0x0192_0000_0000_4000_8000_0000_0000_0002),
        1,
        "AAAAAAAAAAAAAAAA".into(),
        format!("c2VhbGVk{n:04}"),
    )
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// One example of every handover event, for the wire snapshots.
pub fn examples() -> Vec<HandoverEvent> {
    let child = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
    vec![
        PreschoolFileDrafted {
            municipality: "0546".into(),
            location: "123456789".into(),
            child_id: Some(child),
            drafted_on: example_date("2026-03-02"),
            warm_handover_wanted: true,
            child: example_sealed(1),
            content: example_sealed(2),
        }
        .into(),
        PreschoolFileRevised {
            on: example_date("2026-03-03"),
            warm_handover_wanted: true,
            content: example_sealed(3),
        }
        .into(),
        OsoFileCreated {
            municipality: "0546".into(),
            school: SchoolId::new("12AB", "00"),
            child_id: None,
            school_year: "2025-2026".into(),
            created_on: example_date("2026-01-12"),
            pupil: example_sealed(4),
            content: example_sealed(5),
        }
        .into(),
        OsoFileUpdated {
            on: example_date("2026-01-20"),
            content: example_sealed(6),
        }
        .into(),
        ProvisionalAdviceGiven {
            on: example_date("2026-01-20"),
            advice: example_sealed(7),
        }
        .into(),
        TestResultRecorded {
            on: example_date("2026-03-14"),
            result: example_sealed(8),
            reconsideration_due: true,
        }
        .into(),
        AdviceReconsidered {
            on: example_date("2026-03-20"),
            outcome: ReconsiderationOutcome::Verhoogd,
            reconsideration: example_sealed(9),
        }
        .into(),
        FinalAdviceGiven {
            on: example_date("2026-03-23"),
            advice: example_sealed(10),
        }
        .into(),
        ParentsInformed {
            on: example_date("2026-03-04"),
            how: InformedHow::Gesprek,
        }
        .into(),
        ParentsResponseAdded {
            on: example_date("2026-03-05"),
            response: example_sealed(11),
        }
        .into(),
        ConsentGiven {
            on: example_date("2026-03-05"),
        }
        .into(),
        ConsentRefused {
            on: example_date("2026-03-05"),
            reason: RefusalReason::ZelfOverdragen,
        }
        .into(),
        EnrolmentRecorded {
            school: SchoolId::new("34CD", "01"),
            on: example_date("2026-03-01"),
        }
        .into(),
        FileSent {
            on: example_date("2026-03-06"),
            school: SchoolId::new("34CD", "01"),
        }
        .into(),
        ReceiptConfirmed {
            on: example_date("2026-03-09"),
        }
        .into(),
        WarmHandoverPlanned {
            on: example_date("2026-03-20"),
            participants: vec![
                Participant::PedagogischMedewerker,
                Participant::Leerkracht,
                Participant::Ouders,
            ],
        }
        .into(),
        WarmHandoverHeld {
            on: example_date("2026-03-20"),
            participants: vec![Participant::PedagogischMedewerker, Participant::Leerkracht],
        }
        .into(),
        ConfirmationOverdue {
            flagged_on: example_date("2026-03-21"),
            days: 14,
        }
        .into(),
        Year3PositionReported {
            on: example_date("2029-07-01"),
            position: Year3Position::Op,
        }
        .into(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Command bodies (requests on `kansrijk.cmd.overdracht.<name>`), JSON with Dutch camelCase names.
// ---------------------------------------------------------------------------------------------

/// NATS subjects of the handover service's commands and of the handover views' queries.
pub mod subjects {
    /// [`super::DraftPreschoolFile`], childcare.
    pub const DRAFT_PRESCHOOL: &str = "kansrijk.cmd.overdracht.formulier-opstellen";
    /// [`super::RevisePreschoolFile`], childcare.
    pub const REVISE_PRESCHOOL: &str = "kansrijk.cmd.overdracht.formulier-wijzigen";
    /// [`super::CreateOsoFile`], primary school.
    pub const CREATE_OSO: &str = "kansrijk.cmd.overdracht.oso-dossier-aanmaken";
    /// [`super::UpdateOsoFile`], primary school.
    pub const UPDATE_OSO: &str = "kansrijk.cmd.overdracht.oso-dossier-bijwerken";
    /// [`super::ImportOsoFile`], primary school: an OSO JSON document becomes a file.
    pub const IMPORT_OSO: &str = "kansrijk.cmd.overdracht.oso-dossier-importeren";
    /// [`super::GiveAdvice`], primary school.
    pub const PROVISIONAL_ADVICE: &str = "kansrijk.cmd.overdracht.voorlopig-advies-geven";
    /// [`super::RecordTestResult`], primary school.
    pub const TEST_RESULT: &str = "kansrijk.cmd.overdracht.toetsuitslag-registreren";
    /// [`super::ReconsiderAdvice`], primary school.
    pub const RECONSIDER: &str = "kansrijk.cmd.overdracht.advies-heroverwegen";
    /// [`super::GiveAdvice`], primary school.
    pub const FINAL_ADVICE: &str = "kansrijk.cmd.overdracht.definitief-advies-geven";
    /// [`super::RecordParentsInformed`], sender.
    pub const PARENTS_INFORMED: &str = "kansrijk.cmd.overdracht.ouders-informeren";
    /// [`super::AddParentsResponse`], sender on the parents' behalf.
    pub const PARENTS_RESPONSE: &str = "kansrijk.cmd.overdracht.reactie-ouders-toevoegen";
    /// [`super::RecordConsent`], childcare on the parents' behalf.
    pub const GIVE_CONSENT: &str = "kansrijk.cmd.overdracht.toestemming-geven";
    /// [`super::RefuseConsent`], childcare on the parents' behalf.
    pub const REFUSE_CONSENT: &str = "kansrijk.cmd.overdracht.toestemming-weigeren";
    /// [`super::RecordEnrolment`], sender.
    pub const ENROLMENT: &str = "kansrijk.cmd.overdracht.inschrijving-registreren";
    /// [`super::SendFile`], sender.
    pub const SEND: &str = "kansrijk.cmd.overdracht.dossier-verzenden";
    /// [`super::FileRef`], receiver.
    pub const CONFIRM: &str = "kansrijk.cmd.overdracht.ontvangst-bevestigen";
    /// [`super::WarmHandover`], sender or receiver.
    pub const PLAN_WARM: &str = "kansrijk.cmd.overdracht.warme-overdracht-plannen";
    /// [`super::WarmHandover`], sender or receiver.
    pub const HOLD_WARM: &str = "kansrijk.cmd.overdracht.warme-overdracht-registreren";
    /// [`super::ReportYear3Position`], secondary school.
    pub const YEAR3: &str = "kansrijk.cmd.overdracht.positie-leerjaar-3-melden";
    /// [`super::FileRef`], primary school: the file as OSO JSON.
    pub const EXPORT_OSO: &str = "kansrijk.cmd.overdracht.oso-dossier-exporteren";

    /// Views: [`super::OutboxQuery`] → [`super::Outbox`], sender (policy `handover.uitgaand`).
    pub const Q_OUTBOX: &str = "kansrijk.qry.overdracht.uitgaand";
    /// Views: [`super::InboxQuery`] → [`super::Inbox`], receiving school (`handover.inbox`).
    pub const Q_INBOX: &str = "kansrijk.qry.overdracht.inbox";
    /// Views: [`super::FileRef`] → [`super::FileView`], sender or addressed receiver
    /// (`handover.dossier`).
    pub const Q_FILE: &str = "kansrijk.qry.overdracht.dossier";
    /// Views: [`super::MonitorQuery`] → [`super::Monitor`], municipality, aggregates only
    /// (`handover.monitor`).
    pub const Q_MONITOR: &str = "kansrijk.qry.overdracht.monitor";
    /// The handover service's part of a subject access request (privacy officer).
    pub const Q_SUBJECT_ACCESS: &str = "kansrijk.qry.overdracht.inzage";
}

/// Body of `formulier-opstellen`. The sender is the actor's location (LRK number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DraftPreschoolFile {
    #[serde(default)]
    pub kind_id: Option<Uuid>,
    pub opgesteld_op: NaiveDate,
    pub warme_overdracht_gewenst: bool,
    pub kind: ChildIdentity,
    #[schemars(extend("x-meerregelig" = true))]
    pub inhoud: PreschoolContent,
}

/// Body of `formulier-wijzigen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisePreschoolFile {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    pub warme_overdracht_gewenst: bool,
    #[schemars(extend("x-meerregelig" = true))]
    pub inhoud: PreschoolContent,
}

/// Body of `oso-dossier-aanmaken`. The sender is the actor's school location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOsoFile {
    #[serde(default)]
    pub kind_id: Option<Uuid>,
    pub schooljaar: String,
    pub aangemaakt_op: NaiveDate,
    pub leerling: ChildIdentity,
    #[schemars(extend("x-meerregelig" = true))]
    pub inhoud: OsoContent,
}

/// Body of `oso-dossier-bijwerken`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOsoFile {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    #[schemars(extend("x-meerregelig" = true))]
    pub inhoud: OsoContent,
}

/// Body of `oso-dossier-importeren`: an OSO JSON document (see services/handover/OSO.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportOsoFile {
    pub datum: NaiveDate,
    #[schemars(extend("x-meerregelig" = true))]
    pub document: serde_json::Value,
}

/// Body of `voorlopig-advies-geven` and `definitief-advies-geven`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GiveAdvice {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    #[schemars(extend("x-meerregelig" = true))]
    pub advies: Advice,
}

/// Body of `toetsuitslag-registreren`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordTestResult {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    pub uitslag: TestResult,
}

/// Body of `advies-heroverwegen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconsiderAdvice {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    #[schemars(extend("x-meerregelig" = true))]
    pub heroverweging: Reconsideration,
}

/// Body of `ouders-informeren`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordParentsInformed {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    pub wijze: InformedHow,
}

/// Body of `reactie-ouders-toevoegen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddParentsResponse {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    #[schemars(extend("x-meerregelig" = true))]
    pub reactie: ParentsResponse,
}

/// Body of `toestemming-geven`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordConsent {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
}

/// Body of `toestemming-weigeren`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefuseConsent {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    pub reden: RefusalReason,
}

/// Body of `inschrijving-registreren`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordEnrolment {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    pub school: SchoolId,
}

/// Body of `dossier-verzenden`: `school` must be the school of the recorded enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendFile {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    pub school: SchoolId,
}

/// Body of `ontvangst-bevestigen` (with `datum`), `oso-dossier-exporteren` and the file query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileRef {
    pub dossier_id: Uuid,
    #[serde(default)]
    pub datum: Option<NaiveDate>,
}

/// Body of `warme-overdracht-plannen` and `warme-overdracht-registreren`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WarmHandover {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    #[schemars(length(max = 20))]
    pub deelnemers: Vec<Participant>,
}

/// Body of `positie-leerjaar-3-melden`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportYear3Position {
    pub dossier_id: Uuid,
    pub datum: NaiveDate,
    pub positie: Year3Position,
}

// ---------------------------------------------------------------------------------------------
// Query bodies and replies (views service).
// ---------------------------------------------------------------------------------------------

/// The status of a file as its sender and receiver see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    Concept,
    OudersGeinformeerd,
    Toestemming,
    Geweigerd,
    Verzonden,
    Ontvangen,
    WarmeOverdrachtGepland,
    Afgerond,
}

/// Body of the outbox query: the actor's own organisation's files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxQuery {
    #[serde(default)]
    pub soort: Option<FileKind>,
}

/// One row of the sender's outbox (opened at query time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub dossier_id: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub soort: FileKind,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub status: FileStatus,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school: Option<SchoolId>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub opgesteld_op: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verzonden_op: Option<NaiveDate>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bevestigd_op: Option<NaiveDate>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bevestiging_uitgebleven: bool,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub warme_overdracht_gepland_op: Option<NaiveDate>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub warme_overdracht_gehouden_op: Option<NaiveDate>,
    /// The year-3 position reported back (PO-VO only; not shown to childcare).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub positie_leerjaar3: Option<Year3Position>,
    /// Opened with the file's key; absent when the key is gone.
    #[schemars(extend("x-data-category" = "identifying"))]
    pub kind: Option<ChildIdentity>,
}

/// Reply of the outbox query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Outbox {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub dossiers: Vec<OutboxItem>,
}

/// Reply of the inbox query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Inbox {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub dossiers: Vec<InboxItem>,
}

/// Body of the inbox query: files addressed to the actor's school location.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxQuery {
    #[serde(default)]
    pub soort: Option<FileKind>,
}

/// One row of a school's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxItem {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub dossier_id: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub soort: FileKind,
    /// The sender: an LRK number or a school location code.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub afzender: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verzonden_op: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bevestigd_op: Option<NaiveDate>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bevestiging_uitgebleven: bool,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub kind: Option<ChildIdentity>,
}

/// The whole file, opened, for its sender or its addressed receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileView {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub dossier_id: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub soort: FileKind,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub status: FileStatus,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub afzender: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school: Option<SchoolId>,
    #[schemars(extend("x-data-category" = "identifying"))]
    pub kind: ChildIdentity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub voorschool: Option<PreschoolContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub oso: Option<OsoContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub voorlopig_advies: Option<Advice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub toetsuitslag: Option<TestResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub heroverweging: Option<Reconsideration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub definitief_advies: Option<Advice>,
    #[schemars(extend("x-data-category" = "development-education"))]
    pub reacties_ouders: Vec<ParentsResponse>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub warme_overdracht_gewenst: bool,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verzonden_op: Option<NaiveDate>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub bevestigd_op: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-data-category" = "development-education"))]
    pub positie_leerjaar3: Option<Year3Position>,
}

/// Body of the municipality's monitor query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitorQuery {
    /// Only files drawn up (or created) in this calendar year; all years when absent.
    #[serde(default)]
    pub jaar: Option<i32>,
}

/// A count that may be suppressed: `None` with `onderdrukt` when the cell is too small (or
/// would let a small cell be recomputed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub aantal: Option<u64>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub onderdrukt: bool,
}

/// Refusals per reason category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefusalRow {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reden: RefusalReason,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub aantal: Cell,
}

/// One pair of sender and receiver ("koppel").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PairRow {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub soort: FileKind,
    /// LRK number or school location code of the sender.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub afzender: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub verzonden: Cell,
    /// Confirmed within the configured number of days.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub tijdig_bevestigd: Cell,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub warme_overdracht: Cell,
}

/// Year-3 positions against the advice, per primary school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionRow {
    /// The primary school location code, or `totaal`.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub school: String,
    #[schemars(extend("x-data-category" = "development-education"))]
    pub boven: Cell,
    #[schemars(extend("x-data-category" = "development-education"))]
    pub op: Cell,
    #[schemars(extend("x-data-category" = "development-education"))]
    pub onder: Cell,
}

/// The municipality's handover monitor: aggregates only, small cells suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Monitor {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub gemeente: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub drempel: u64,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub voorschool_dossiers: Cell,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub toestemming_gegeven: Cell,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub toestemming_geweigerd: Cell,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub weigeringen_per_reden: Vec<RefusalRow>,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub koppels: Vec<PairRow>,
    #[schemars(extend("x-data-category" = "development-education"))]
    pub positie_leerjaar3: Vec<PositionRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_levels_are_ordered_low_to_high() {
        let mut sorted = AdviceLevel::ALL;
        sorted.sort();
        assert_eq!(sorted, AdviceLevel::ALL);
        assert!(AdviceLevel::Havo > AdviceLevel::VmboGtHavo);
        for l in AdviceLevel::ALL {
            assert_eq!(AdviceLevel::parse(l.as_str()), Some(l));
            assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
        }
    }

    #[test]
    fn school_ids_are_checked() {
        assert!(SchoolId::new("12AB", "00").is_well_formed());
        assert_eq!(SchoolId::new("12AB", "00").code(), "12AB00");
        assert!(!SchoolId::new("12ab", "00").is_well_formed());
        assert!(!SchoolId::new("12AB", "0").is_well_formed());
        assert!(!SchoolId::new("ABCD", "00").is_well_formed());
    }

    #[test]
    fn command_subjects_follow_the_naming_scheme() {
        use crate::subject::command;
        assert_eq!(subjects::SEND, command(SERVICE, "dossier-verzenden"));
        assert_eq!(subjects::Q_INBOX, crate::subject::query("overdracht.inbox"));
        assert_eq!(
            subjects::Q_SUBJECT_ACCESS,
            crate::privacy::subjects::subject_access_part(SERVICE)
        );
        for r in RefusalReason::ALL {
            assert_eq!(RefusalReason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for p in Year3Position::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}

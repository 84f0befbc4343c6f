//! Events of VVE reach (early childhood education): a child's record from registration by youth
//! health care (JGZ) through indication, referral and outreach to placement at a childcare
//! location, and the target-group definitions each municipality sets per year.
//!
//! The child is the data subject: the stream id is a random UUID that is also the subject id of
//! the child's key. BSN, name, birth date, postcode and the indication's criteria are sealed with
//! that key; process dates, district, municipality, LRK numbers and hours are plain.

use chrono::{DateTime, Months, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::Event;
use crate::sealed::Sealed;

/// Stream type of a child's record.
pub const STREAM_CHILD: &str = "kind";
/// Stream type of a municipality's target-group definitions.
pub const STREAM_TARGET_GROUP: &str = "doelgroepdefinitie";

/// Months from birth to the start of the VVE age window (2.5 years).
pub const WINDOW_START_MONTHS: u32 = 30;
/// Months from birth to the end of the window: the fourth birthday, when primary school starts.
pub const WINDOW_END_MONTHS: u32 = 48;

/// First day of the VVE age window (the day the child turns 2.5).
pub fn window_start(birth_date: NaiveDate) -> NaiveDate {
    birth_date
        .checked_add_months(Months::new(WINDOW_START_MONTHS))
        .unwrap_or(NaiveDate::MAX)
}

/// First day after the VVE age window (the fourth birthday).
pub fn window_end(birth_date: NaiveDate) -> NaiveDate {
    birth_date
        .checked_add_months(Months::new(WINDOW_END_MONTHS))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether `on` lies in the child's VVE age window `[2.5 years, 4 years)`.
pub fn in_window(birth_date: NaiveDate, on: NaiveDate) -> bool {
    window_start(birth_date) <= on && on < window_end(birth_date)
}

/// The sealed personal part of a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChildPersonal {
    /// Citizen service number (passes the 11-proef).
    #[serde(rename = "bsn")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub bsn: String,
    #[serde(rename = "voornaam")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub given_name: String,
    #[serde(rename = "achternaam")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub family_name: String,
    /// Dutch postcode, `1234 AB`.
    #[serde(rename = "postcode")]
    #[schemars(extend("x-data-category" = "contact"))]
    pub postcode: String,
    /// Keyed HMAC of the BSN within the municipality (duplicate detection).
    #[serde(rename = "bsnPseudoniem")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub bsn_pseudonym: String,
}

/// JGZ registered a child: the start of the child's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChildRegistered {
    /// CBS code of the municipality of residence.
    #[serde(rename = "gemeente")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub municipality: String,
    #[serde(rename = "wijk")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub district: String,
    /// Organisation id of the JGZ organisation that holds the child's record.
    #[serde(rename = "jgzOrganisatie")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub jgz_organisation: String,
    #[serde(rename = "ingeschrevenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub registered_on: NaiveDate,
    #[serde(rename = "persoonsgegevens")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub personal: Sealed<ChildPersonal>,
    /// Sealed on its own so that age windows can be computed without opening name and BSN.
    #[serde(rename = "geboortedatum")]
    #[schemars(extend("x-data-category" = "identifying"))]
    pub birth_date: Sealed<NaiveDate>,
}

impl Event for ChildRegistered {
    const NAME: &'static str = "nl.vve.kind-ingeschreven";
    const VERSION: u16 = 1;
}

/// JGZ found that the child belongs to the municipality's target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IndicationIssued {
    #[serde(rename = "indicatieId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub indication_id: Uuid,
    #[serde(rename = "afgegevenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub issued_on: NaiveDate,
    /// The year of the municipality's target-group definition the criteria come from.
    #[serde(rename = "doelgroepjaar")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub definition_year: i32,
    /// Codes of the target-group criteria that apply (sealed: they describe the family).
    #[serde(rename = "criteria")]
    #[schemars(extend("x-data-category" = "health"))]
    pub criteria: Sealed<Vec<String>>,
    #[serde(rename = "afgegevenDoor")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub issued_by: String,
}

impl Event for IndicationIssued {
    const NAME: &'static str = "nl.vve.indicatie-afgegeven";
    const VERSION: u16 = 1;
}

/// Why an indication was withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WithdrawalReason {
    /// Issued in error.
    Onterecht,
    /// A new assessment found the child no longer belongs to the target group.
    Herbeoordeling,
    Overig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IndicationWithdrawn {
    #[serde(rename = "indicatieId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub indication_id: Uuid,
    #[serde(rename = "ingetrokkenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub withdrawn_on: NaiveDate,
    #[serde(rename = "reden")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reason: WithdrawalReason,
}

impl Event for IndicationWithdrawn {
    const NAME: &'static str = "nl.vve.indicatie-ingetrokken";
    const VERSION: u16 = 1;
}

/// JGZ referred the family to one VVE location (one event per location).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChildReferred {
    #[serde(rename = "verwijzingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub referral_id: Uuid,
    /// LRK number of the VVE location.
    #[serde(rename = "lrk")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub location: String,
    #[serde(rename = "doorverwezenOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub referred_on: NaiveDate,
    /// Whether the registry confirmed the location as a registered VVE location at the time;
    /// `false` when the registry did not answer and the service runs in lenient mode.
    #[serde(rename = "registerGecontroleerd")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub registry_checked: bool,
    #[serde(rename = "doorverwezenDoor")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub referred_by: String,
}

impl Event for ChildReferred {
    const NAME: &'static str = "nl.vve.kind-doorverwezen";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OutreachChannel {
    Telefoon,
    Brief,
    Huisbezoek,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OutreachOutcome {
    /// Parents reached, conversation held.
    Bereikt,
    /// Nobody reached.
    NietBereikt,
    /// An appointment (intake, visit) was made.
    AfspraakGemaakt,
    /// Reached, but no interest for now.
    GeenInteresse,
}

/// One attempt to reach the family (toeleiding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OutreachRecorded {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub attempted_on: NaiveDate,
    #[serde(rename = "kanaal")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub channel: OutreachChannel,
    #[serde(rename = "uitkomst")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub outcome: OutreachOutcome,
}

impl Event for OutreachRecorded {
    const NAME: &'static str = "nl.vve.toeleidingspoging-geregistreerd";
    const VERSION: u16 = 1;
}

/// Reason categories for parents declining VVE (national non-reach studies).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DeclineReason {
    /// No need: a parent at home, care within the family.
    GeenBehoefte,
    /// Wants to raise the child at home.
    OpvoedenThuis,
    /// Doubts about quality or value.
    TwijfelKwaliteit,
    /// Too "schoolish".
    TeSchools,
    Kosten,
    Afstand,
    Openingstijden,
    /// The paperwork.
    Papierwerk,
    Anders,
}

impl DeclineReason {
    pub const ALL: [DeclineReason; 9] = [
        DeclineReason::GeenBehoefte,
        DeclineReason::OpvoedenThuis,
        DeclineReason::TwijfelKwaliteit,
        DeclineReason::TeSchools,
        DeclineReason::Kosten,
        DeclineReason::Afstand,
        DeclineReason::Openingstijden,
        DeclineReason::Papierwerk,
        DeclineReason::Anders,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::GeenBehoefte => "geen-behoefte",
            DeclineReason::OpvoedenThuis => "opvoeden-thuis",
            DeclineReason::TwijfelKwaliteit => "twijfel-kwaliteit",
            DeclineReason::TeSchools => "te-schools",
            DeclineReason::Kosten => "kosten",
            DeclineReason::Afstand => "afstand",
            DeclineReason::Openingstijden => "openingstijden",
            DeclineReason::Papierwerk => "papierwerk",
            DeclineReason::Anders => "anders",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The parents declined VVE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParentsDeclined {
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub declined_on: NaiveDate,
    #[serde(rename = "reden")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reason: DeclineReason,
}

impl Event for ParentsDeclined {
    const NAME: &'static str = "nl.vve.ouders-zien-af";
    const VERSION: u16 = 1;
}

/// The family moved out of the municipality. The record is closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChildMovedAway {
    #[serde(rename = "verhuisdOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub moved_on: NaiveDate,
}

impl Event for ChildMovedAway {
    const NAME: &'static str = "nl.vve.kind-verhuisd";
    const VERSION: u16 = 1;
}

/// The childcare location accepted a referral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReferralAccepted {
    #[serde(rename = "verwijzingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub referral_id: Uuid,
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub accepted_on: NaiveDate,
}

impl Event for ReferralAccepted {
    const NAME: &'static str = "nl.vve.verwijzing-geaccepteerd";
    const VERSION: u16 = 1;
}

/// The childcare location put the child on its waiting list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WaitingListed {
    #[serde(rename = "verwijzingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub referral_id: Uuid,
    #[serde(rename = "datum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub listed_on: NaiveDate,
    #[serde(
        rename = "verwachteStart",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub expected_start: Option<NaiveDate>,
}

impl Event for WaitingListed {
    const NAME: &'static str = "nl.vve.op-wachtlijst-geplaatst";
    const VERSION: u16 = 1;
}

/// The child started at a VVE location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlacementStarted {
    #[serde(rename = "plaatsingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub placement_id: Uuid,
    #[serde(rename = "lrk")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub location: String,
    #[serde(rename = "startdatum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub start_on: NaiveDate,
    #[serde(rename = "urenPerWeek")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub hours_per_week: u8,
    #[serde(
        rename = "verwijzingId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub referral_id: Option<Uuid>,
}

impl Event for PlacementStarted {
    const NAME: &'static str = "nl.vve.plaatsing-gestart";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HoursChanged {
    #[serde(rename = "plaatsingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub placement_id: Uuid,
    #[serde(rename = "perDatum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub from_on: NaiveDate,
    #[serde(rename = "urenPerWeek")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub hours_per_week: u8,
}

impl Event for HoursChanged {
    const NAME: &'static str = "nl.vve.uren-gewijzigd";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PlacementEndReason {
    /// The child went to primary school (the normal end).
    NaarBasisschool,
    Verhuisd,
    /// The parents stopped.
    OudersGestopt,
    /// Continued at another location.
    AndereLocatie,
    Overig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlacementEnded {
    #[serde(rename = "plaatsingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub placement_id: Uuid,
    /// The last day of the placement.
    #[serde(rename = "einddatum")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub end_on: NaiveDate,
    #[serde(rename = "reden")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reason: PlacementEndReason,
}

impl Event for PlacementEnded {
    const NAME: &'static str = "nl.vve.plaatsing-beeindigd";
    const VERSION: u16 = 1;
}

/// Hours attended in one calendar month (optional, for the providers' monitor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AttendanceRecorded {
    #[serde(rename = "plaatsingId")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub placement_id: Uuid,
    /// `YYYY-MM`.
    #[serde(rename = "maand")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub month: String,
    #[serde(rename = "uren")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub hours: u16,
}

impl Event for AttendanceRecorded {
    const NAME: &'static str = "nl.vve.aanwezigheid-geregistreerd";
    const VERSION: u16 = 1;
}

crate::event_set! {
    /// Events of a child's VVE record.
    pub enum ChildEvent: "kind" {
        Registered(ChildRegistered),
        IndicationIssued(IndicationIssued),
        IndicationWithdrawn(IndicationWithdrawn),
        Referred(ChildReferred),
        Outreach(OutreachRecorded),
        Declined(ParentsDeclined),
        MovedAway(ChildMovedAway),
        ReferralAccepted(ReferralAccepted),
        WaitingListed(WaitingListed),
        PlacementStarted(PlacementStarted),
        HoursChanged(HoursChanged),
        PlacementEnded(PlacementEnded),
        Attendance(AttendanceRecorded),
    }
    upcasters = &[];
}

/// One criterion of a target-group definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Criterion {
    /// Stable kebab-case code, e.g. `thuistaal-niet-nederlands`.
    #[serde(rename = "code")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub code: String,
    #[serde(rename = "omschrijving")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub description: String,
}

/// A municipality fixed its target-group definition from a year on (until a later one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetGroupDefined {
    #[serde(rename = "gemeente")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub municipality: String,
    #[serde(rename = "geldigVanaf")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub valid_from_year: i32,
    #[serde(rename = "criteria")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub criteria: Vec<Criterion>,
    #[serde(rename = "vastgesteldOp")]
    #[schemars(extend("x-data-category" = "administrative"))]
    pub defined_at: DateTime<Utc>,
}

impl Event for TargetGroupDefined {
    const NAME: &'static str = "nl.vve.doelgroepdefinitie-vastgesteld";
    const VERSION: u16 = 1;
}

crate::event_set! {
    /// Events of a municipality's target-group definition stream.
    pub enum TargetGroupEvent: "doelgroepdefinitie" {
        Defined(TargetGroupDefined),
    }
    upcasters = &[];
}

fn example_sealed<T>(n: u128) -> Sealed<T> {
    Sealed::new(
        "AES-256-GCM-SIV".into(),
        Uuid::from_u128(0x0192_0000_0000_4000_8000_0000_0000_0001),
        1,
        "AAAAAAAAAAAAAAAA".into(),
        format!("c2VhbGVk{n:04}"),
    )
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// One example of every child event, for the wire snapshots.
pub fn examples() -> Vec<ChildEvent> {
    let referral = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0010);
    let placement = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0020);
    let indication = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0030);
    vec![
        ChildRegistered {
            municipality: "0546".into(),
            district: "Leiden-Noord".into(),
            jgz_organisation: "00000001234567890000".into(),
            registered_on: example_date("2025-09-01"),
            personal: example_sealed(1),
            birth_date: example_sealed(2),
        }
        .into(),
        IndicationIssued {
            indication_id: indication,
            issued_on: example_date("2025-10-01"),
            definition_year: 2025,
            criteria: example_sealed(3),
            issued_by: "00000001234567890000".into(),
        }
        .into(),
        IndicationWithdrawn {
            indication_id: indication,
            withdrawn_on: example_date("2025-11-01"),
            reason: WithdrawalReason::Herbeoordeling,
        }
        .into(),
        ChildReferred {
            referral_id: referral,
            location: "123456789".into(),
            referred_on: example_date("2025-10-02"),
            registry_checked: true,
            referred_by: "00000001234567890000".into(),
        }
        .into(),
        OutreachRecorded {
            attempted_on: example_date("2025-10-10"),
            channel: OutreachChannel::Huisbezoek,
            outcome: OutreachOutcome::AfspraakGemaakt,
        }
        .into(),
        ParentsDeclined {
            declined_on: example_date("2025-10-20"),
            reason: DeclineReason::TeSchools,
        }
        .into(),
        ChildMovedAway {
            moved_on: example_date("2026-01-15"),
        }
        .into(),
        ReferralAccepted {
            referral_id: referral,
            accepted_on: example_date("2025-10-05"),
        }
        .into(),
        WaitingListed {
            referral_id: referral,
            listed_on: example_date("2025-10-05"),
            expected_start: Some(example_date("2026-01-05")),
        }
        .into(),
        PlacementStarted {
            placement_id: placement,
            location: "123456789".into(),
            start_on: example_date("2026-01-05"),
            hours_per_week: 16,
            referral_id: Some(referral),
        }
        .into(),
        HoursChanged {
            placement_id: placement,
            from_on: example_date("2026-02-01"),
            hours_per_week: 12,
        }
        .into(),
        PlacementEnded {
            placement_id: placement,
            end_on: example_date("2026-06-30"),
            reason: PlacementEndReason::NaarBasisschool,
        }
        .into(),
        AttendanceRecorded {
            placement_id: placement,
            month: "2026-01".into(),
            hours: 60,
        }
        .into(),
    ]
}

/// One example of every target-group event, for the wire snapshots.
pub fn target_group_examples() -> Vec<TargetGroupEvent> {
    vec![TargetGroupDefined {
        municipality: "0546".into(),
        valid_from_year: 2024,
        criteria: vec![Criterion {
            code: "thuistaal-niet-nederlands".into(),
            description: "De taal thuis is niet (vooral) Nederlands.".into(),
        }],
        defined_at: DateTime::parse_from_rfc3339("2024-01-01T09:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
    }
    .into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_runs_from_two_and_a_half_until_the_fourth_birthday() {
        let b = example_date("2022-02-28");
        assert_eq!(window_start(b), example_date("2024-08-28"));
        assert_eq!(window_end(b), example_date("2026-02-28"));
        assert!(!in_window(b, example_date("2024-08-27")));
        assert!(in_window(b, example_date("2024-08-28")));
        assert!(in_window(b, example_date("2026-02-27")));
        assert!(!in_window(b, example_date("2026-02-28")));
        // A leap-day child turns 2.5 on the last day of August.
        let leap = example_date("2024-02-29");
        assert_eq!(window_start(leap), example_date("2026-08-29"));
        assert_eq!(window_end(leap), example_date("2028-02-29"));
    }
}

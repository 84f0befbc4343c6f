//! Request bodies of the VVE reach commands (JSON, camelCase Dutch field names) and the NATS
//! subjects they are sent on. Fields are read leniently (strings, optional) so that a request
//! gets every field error at once (NL API Design Rules), not only the first one serde meets.

use chrono::NaiveDate;
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::subject;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service name in subjects and the relay.
pub const SERVICE: &str = "vve";

/// Most locations in one referral (`locaties`, `verwijzingIds`).
pub const MAX_LOCATIONS: u32 = 20;
/// Most criteria in an indication or a target-group definition.
pub const MAX_CRITERIA: u32 = 30;

/// Command names (`kansrijk.cmd.vve.<name>`), equal to the policy action `vve.<name>`.
pub mod commands {
    pub const REGISTER_CHILD: &str = "kind-inschrijven";
    pub const ISSUE_INDICATION: &str = "indicatie-afgeven";
    pub const WITHDRAW_INDICATION: &str = "indicatie-intrekken";
    pub const REFER: &str = "doorverwijzen";
    pub const RECORD_OUTREACH: &str = "toeleidingspoging-registreren";
    pub const RECORD_DECLINED: &str = "afzien-registreren";
    pub const RECORD_MOVED_AWAY: &str = "verhuizing-registreren";
    pub const ACCEPT_REFERRAL: &str = "verwijzing-accepteren";
    pub const WAITING_LIST: &str = "wachtlijst-plaatsen";
    pub const START_PLACEMENT: &str = "plaatsing-starten";
    pub const CHANGE_HOURS: &str = "uren-wijzigen";
    pub const END_PLACEMENT: &str = "plaatsing-beeindigen";
    pub const RECORD_ATTENDANCE: &str = "aanwezigheid-registreren";
    pub const DEFINE_TARGET_GROUP: &str = "doelgroepdefinitie-vaststellen";

    pub const ALL: [&str; 14] = [
        REGISTER_CHILD,
        ISSUE_INDICATION,
        WITHDRAW_INDICATION,
        REFER,
        RECORD_OUTREACH,
        RECORD_DECLINED,
        RECORD_MOVED_AWAY,
        ACCEPT_REFERRAL,
        WAITING_LIST,
        START_PLACEMENT,
        CHANGE_HOURS,
        END_PLACEMENT,
        RECORD_ATTENDANCE,
        DEFINE_TARGET_GROUP,
    ];
}

/// Query names answered by this service (`kansrijk.qry.vve.<name>`).
pub mod queries {
    /// [`super::TargetGroupDefinitions`] of the actor's municipality.
    pub const TARGET_GROUPS: &str = "doelgroepdefinities";
    /// The VVE part of a subject access request (AVG art. 15), for the privacy service:
    /// `kansrijk_proto::privacy::SubjectAccessRequest` -> `SubjectAccessPart`.
    pub const SUBJECT_ACCESS: &str = "inzage";
}

/// The NATS subject of a command.
pub fn command_subject(name: &str) -> String {
    subject::command(SERVICE, name)
}

/// The NATS subject of a query of this service.
pub fn query_subject(name: &str) -> String {
    subject::query(&format!("{SERVICE}.{name}"))
}

/// The policy action of a command or query.
pub fn action(name: &str) -> String {
    format!("{SERVICE}.{name}")
}

/// The registry's answer subject for "is this LRK number a registered VVE location?".
pub fn registry_subject() -> String {
    subject::query("registry.vve-locatie")
}

/// The registry's subject for "which of these LRK numbers are registered VVE locations?": one
/// lookup per referral.
pub fn registry_locations_subject() -> String {
    subject::query("registry.vve-locaties")
}

/// Body of the registry's batch query (`kansrijk.qry.registry.vve-locaties`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryLocationsQuery {
    #[serde(rename = "lrkNummers")]
    pub lrks: Vec<String>,
}

/// The part of the registry's batch reply this service uses: one check per asked number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryLocationsAnswer {
    pub locaties: Vec<RegistryLocation>,
}

/// One location in [`RegistryLocationsAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryLocation {
    #[serde(rename = "lrkNummer")]
    pub lrk: String,
    /// The LRK number is registered and the location offers VVE.
    pub vve: bool,
}

/// Body of the registry query (the gateway's registry, `kansrijk.qry.registry.vve-locatie`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryQuery {
    #[serde(rename = "lrkNummer")]
    pub lrk: String,
}

/// The part of the registry's reply this service uses (the reply holds more: name, municipality,
/// district).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryAnswer {
    /// The LRK number is registered and the location offers VVE.
    pub vve: bool,
}

/// `kind-inschrijven` (JGZ). The reply's `streamId` is the new child id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterChild {
    /// Nine digits, passing the 11-proef.
    pub bsn: Option<String>,
    pub voornaam: Option<String>,
    pub achternaam: Option<String>,
    /// RFC 3339 full-date.
    pub geboortedatum: Option<String>,
    /// `1234 AB` (the space is optional).
    pub postcode: Option<String>,
    pub wijk: Option<String>,
    /// CBS code (four digits); must be the actor's municipality.
    pub gemeente: Option<String>,
    /// Defaults to today.
    pub ingeschreven_op: Option<String>,
}

/// `indicatie-afgeven` (JGZ).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct IssueIndication {
    pub kind_id: Option<String>,
    pub afgegeven_op: Option<String>,
    /// Codes from the municipality's target-group definition in force on `afgegevenOp`.
    #[schemars(length(max = MAX_CRITERIA))]
    pub criteria: Option<Vec<String>>,
}

/// `indicatie-intrekken` (JGZ).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct WithdrawIndication {
    pub kind_id: Option<String>,
    pub ingetrokken_op: Option<String>,
    /// `onterecht`, `herbeoordeling` or `overig`.
    pub reden: Option<String>,
}

/// `doorverwijzen` (JGZ): one referral per location.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Refer {
    pub kind_id: Option<String>,
    pub doorverwezen_op: Option<String>,
    /// LRK numbers of registered VVE locations (at most [`MAX_LOCATIONS`]).
    #[schemars(length(max = MAX_LOCATIONS))]
    pub locaties: Option<Vec<String>>,
    /// Optional client-chosen referral ids (UUIDs), one per location in the same order;
    /// generated when absent.
    #[schemars(length(max = MAX_LOCATIONS))]
    pub verwijzing_ids: Option<Vec<String>>,
}

/// `toeleidingspoging-registreren` (JGZ).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RecordOutreach {
    pub kind_id: Option<String>,
    pub datum: Option<String>,
    /// `telefoon`, `brief` or `huisbezoek`.
    pub kanaal: Option<String>,
    /// `bereikt`, `niet-bereikt`, `afspraak-gemaakt` or `geen-interesse`.
    pub uitkomst: Option<String>,
}

/// `afzien-registreren` (JGZ): the parents declined.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RecordDeclined {
    pub kind_id: Option<String>,
    pub datum: Option<String>,
    /// `geen-behoefte`, `opvoeden-thuis`, `twijfel-kwaliteit`, `te-schools`, `kosten`, `afstand`,
    /// `openingstijden`, `papierwerk` or `anders`.
    pub reden: Option<String>,
}

/// `verhuizing-registreren` (JGZ).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RecordMovedAway {
    pub kind_id: Option<String>,
    pub verhuisd_op: Option<String>,
}

/// `verwijzing-accepteren` (childcare location).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct AcceptReferral {
    pub kind_id: Option<String>,
    pub verwijzing_id: Option<String>,
    pub datum: Option<String>,
}

/// `wachtlijst-plaatsen` (childcare location).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct PutOnWaitingList {
    pub kind_id: Option<String>,
    pub verwijzing_id: Option<String>,
    pub datum: Option<String>,
    pub verwachte_start: Option<String>,
}

/// `plaatsing-starten` (childcare location; the location is the actor's organisation).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct StartPlacement {
    pub kind_id: Option<String>,
    /// Optional client-chosen id (a UUID); generated when absent.
    pub plaatsing_id: Option<String>,
    pub startdatum: Option<String>,
    /// Whole hours, 0-40.
    pub uren_per_week: Option<i64>,
    pub verwijzing_id: Option<String>,
}

/// `uren-wijzigen` (childcare location).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangeHours {
    pub kind_id: Option<String>,
    pub plaatsing_id: Option<String>,
    pub per_datum: Option<String>,
    pub uren_per_week: Option<i64>,
}

/// `plaatsing-beeindigen` (childcare location).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct EndPlacement {
    pub kind_id: Option<String>,
    pub plaatsing_id: Option<String>,
    pub einddatum: Option<String>,
    /// `naar-basisschool`, `verhuisd`, `ouders-gestopt`, `andere-locatie` or `overig`.
    pub reden: Option<String>,
}

/// `aanwezigheid-registreren` (childcare location).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct RecordAttendance {
    pub kind_id: Option<String>,
    pub plaatsing_id: Option<String>,
    /// `YYYY-MM`.
    pub maand: Option<String>,
    pub uren: Option<i64>,
}

/// One criterion in a definition request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct CriterionBody {
    pub code: Option<String>,
    pub omschrijving: Option<String>,
}

/// `doelgroepdefinitie-vaststellen` (municipality): the criteria from a year on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct DefineTargetGroup {
    pub geldig_vanaf: Option<i32>,
    #[schemars(length(max = MAX_CRITERIA))]
    pub criteria: Option<Vec<CriterionBody>>,
}

/// Reply of `kansrijk.qry.vve.doelgroepdefinities`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupDefinitions {
    pub gemeente: String,
    pub definities: Vec<TargetGroupDefinition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupDefinition {
    pub geldig_vanaf: i32,
    pub criteria: Vec<CriterionOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CriterionOut {
    pub code: String,
    pub omschrijving: String,
}

/// Collects field errors while reading a lenient request.
#[derive(Debug, Default)]
pub struct Fields {
    pub errors: Vec<FieldError>,
}

impl Fields {
    pub fn error(&mut self, name: impl Into<String>, code: &str, reason: &str) {
        self.errors.push(FieldError::new(name, code, reason));
    }

    fn missing(&mut self, name: &str) {
        self.error(name, "verplicht", "Dit veld is verplicht.");
    }

    pub fn text<'a>(&mut self, name: &str, v: &'a Option<String>) -> Option<&'a str> {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => {
                if s.len() > 200 {
                    self.error(name, "te-lang", "Dit veld is te lang.");
                    return None;
                }
                Some(s)
            }
            _ => {
                self.missing(name);
                None
            }
        }
    }

    pub fn date(&mut self, name: &str, v: &Option<String>) -> Option<NaiveDate> {
        let s = self.text(name, v)?;
        let parsed = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        if parsed.is_none() {
            self.error(
                name,
                "datum-ongeldig",
                "Een datum schrijft u als JJJJ-MM-DD.",
            );
        }
        parsed
    }

    pub fn optional_date(&mut self, name: &str, v: &Option<String>) -> Option<Option<NaiveDate>> {
        match v {
            None => Some(None),
            Some(_) => self.date(name, v).map(Some),
        }
    }

    pub fn uuid(&mut self, name: &str, v: &Option<String>) -> Option<Uuid> {
        let s = self.text(name, v)?;
        let parsed = s.parse().ok();
        if parsed.is_none() {
            self.error(name, "id-ongeldig", "Dit is geen geldige id (UUID).");
        }
        parsed
    }

    pub fn optional_uuid(&mut self, name: &str, v: &Option<String>) -> Option<Option<Uuid>> {
        match v {
            None => Some(None),
            Some(_) => self.uuid(name, v).map(Some),
        }
    }

    /// A kebab-case code of enum `T`.
    pub fn code<T: DeserializeOwned>(&mut self, name: &str, v: &Option<String>) -> Option<T> {
        let s = self.text(name, v)?;
        let parsed = serde_json::from_value(serde_json::Value::String(s.to_owned())).ok();
        if parsed.is_none() {
            self.error(name, "waarde-onbekend", "Deze waarde is niet toegestaan.");
        }
        parsed
    }

    pub fn number(&mut self, name: &str, v: Option<i64>) -> Option<i64> {
        if v.is_none() {
            self.missing(name);
        }
        v
    }

    /// `Err` with every error collected, if any.
    pub fn finish(self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid(self.errors))
        }
    }
}

/// Normalises a Dutch postcode to `1234 AB`; `None` when it is not one.
pub fn normalise_postcode(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let b = compact.as_bytes();
    let ok = b.len() == 6
        && b[0] != b'0'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphabetic);
    ok.then(|| format!("{} {}", &compact[..4], compact[4..].to_ascii_uppercase()))
}

/// A CBS municipality code: four digits.
pub fn is_municipality_code(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_are_normalised() {
        assert_eq!(normalise_postcode("2311ab").as_deref(), Some("2311 AB"));
        assert_eq!(normalise_postcode(" 2311 AB ").as_deref(), Some("2311 AB"));
        assert_eq!(normalise_postcode("0311 AB"), None);
        assert_eq!(normalise_postcode("2311 A"), None);
    }

    #[test]
    fn every_field_error_is_collected() {
        let mut f = Fields::default();
        f.date("a", &None);
        f.date("b", &Some("01-02-2025".into()));
        f.uuid("c", &Some("x".into()));
        f.code::<kansrijk_proto::vve::DeclineReason>("d", &Some("weet-niet".into()));
        let p = f.finish().unwrap_err();
        assert_eq!(p.status, 400);
        let codes: Vec<_> = p.invalid_params.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "verplicht",
                "datum-ongeldig",
                "id-ongeldig",
                "waarde-onbekend"
            ]
        );
    }
}

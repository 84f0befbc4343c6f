//! Events of the privacy service: the lifecycle of a data subject's key.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::category::DataCategory;
use crate::event::{Event, Upcaster};

/// What kind of data subject a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    /// A child: every record about the child in VVE reach and handovers.
    Kind,
    /// A family: a casework case and its plan.
    Gezin,
}

/// Why a subject was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ErasureGrounds {
    /// The data subject (or parent) invoked AVG art. 17.
    VerzoekBetrokkene,
    /// The retention period ran out.
    Bewaartermijn,
    /// Parents refused consent for a handover file (Besluit kwaliteit kinderopvang).
    WeigeringToestemming,
}

/// A data subject's key was destroyed: every copy of their personal data is now unreadable, and
/// every projection must drop what it holds about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectErased {
    /// The pseudonymous subject id.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject_kind: SubjectKind,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub grounds: ErasureGrounds,
    /// Organisation id of the privacy officer's organisation.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub erased_by: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub erased_at: DateTime<Utc>,
}

impl Event for SubjectErased {
    const NAME: &'static str = "nl.privacy.betrokkene-gewist";
    const VERSION: u16 = 2;
}

/// v1 predates family subjects and erasure grounds: every subject was a child erased on request.
fn subject_erased_v1_to_v2(mut data: Value) -> Result<Value, String> {
    let obj = data.as_object_mut().ok_or("expected an object")?;
    obj.entry("subjectKind")
        .or_insert_with(|| Value::from("kind"));
    obj.entry("grounds")
        .or_insert_with(|| Value::from("verzoek-betrokkene"));
    Ok(data)
}

/// A subject's key was created (the subject now exists for the privacy service).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectKeyCreated {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject_kind: SubjectKind,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub created_at: DateTime<Utc>,
}

impl Event for SubjectKeyCreated {
    const NAME: &'static str = "nl.privacy.sleutel-aangemaakt";
    const VERSION: u16 = 1;
}

/// A legal hold blocks erasure of a subject until it is lifted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegalHoldPlaced {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    /// Reason category, e.g. `veilig-thuis-melding`, `rechterlijke-procedure`.
    #[schemars(extend("x-data-category" = "safety"))]
    pub reason: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub placed_at: DateTime<Utc>,
}

impl Event for LegalHoldPlaced {
    const NAME: &'static str = "nl.privacy.bewaarplicht-opgelegd";
    const VERSION: u16 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegalHoldLifted {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub lifted_at: DateTime<Utc>,
}

impl Event for LegalHoldLifted {
    const NAME: &'static str = "nl.privacy.bewaarplicht-opgeheven";
    const VERSION: u16 = 1;
}

/// The kinds of data a retention period is kept for. Each has its own period in the privacy
/// service's configuration; the owning service reports when the period starts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DataKind {
    /// A handover file (preschool to school, PO to VO): starts when the receiver confirmed receipt.
    Overdracht,
    /// The JGZ record of a child: starts when JGZ care ends.
    Jgz,
    /// A family's casework case and plan: starts when the case is closed.
    Casus,
    /// A school's pupil file: starts when the pupil left the school.
    Leerling,
}

impl DataKind {
    pub const ALL: [DataKind; 4] = [
        DataKind::Overdracht,
        DataKind::Jgz,
        DataKind::Casus,
        DataKind::Leerling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Overdracht => "overdracht",
            DataKind::Jgz => "jgz",
            DataKind::Casus => "casus",
            DataKind::Leerling => "leerling",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The retention period of one kind of a subject's data started (care ended, receipt confirmed,
/// case closed). The period's length is the privacy service's configured policy for the kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionStarted {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub data_kind: DataKind,
    /// The day the period starts (a process date, not personal content).
    #[schemars(extend("x-data-category" = "administrative"))]
    pub start_date: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub registered_at: DateTime<Utc>,
}

impl Event for RetentionStarted {
    const NAME: &'static str = "nl.privacy.bewaartermijn-gestart";
    const VERSION: u16 = 1;
}

/// The retention period of one kind of a subject's data ended while other data of the subject
/// must still be kept: the service owning that kind drops it (the subject's key stays).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionEnded {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub data_kind: DataKind,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub ended_at: DateTime<Utc>,
}

impl Event for RetentionEnded {
    const NAME: &'static str = "nl.privacy.bewaartermijn-verstreken";
    const VERSION: u16 = 1;
}

crate::event_set! {
    /// Events of a data subject's stream in the privacy service.
    pub enum PrivacyEvent: "betrokkene" {
        KeyCreated(SubjectKeyCreated),
        Erased(SubjectErased),
        HoldPlaced(LegalHoldPlaced),
        HoldLifted(LegalHoldLifted),
        RetentionStarted(RetentionStarted),
        RetentionEnded(RetentionEnded),
    }
    upcasters = &[Upcaster {
        name: SubjectErased::NAME,
        from_version: 1,
        upcast: subject_erased_v1_to_v2,
    }];
}

/// One example of every event, for the wire snapshots.
pub fn examples() -> Vec<PrivacyEvent> {
    let subject = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
    let at = DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    vec![
        SubjectKeyCreated {
            subject,
            subject_kind: SubjectKind::Kind,
            created_at: at,
        }
        .into(),
        SubjectErased {
            subject,
            subject_kind: SubjectKind::Kind,
            grounds: ErasureGrounds::VerzoekBetrokkene,
            erased_by: "00000001002220647000".into(),
            erased_at: at,
        }
        .into(),
        LegalHoldPlaced {
            subject,
            reason: "veilig-thuis-melding".into(),
            placed_at: at,
        }
        .into(),
        LegalHoldLifted {
            subject,
            lifted_at: at,
        }
        .into(),
        RetentionStarted {
            subject,
            data_kind: DataKind::Jgz,
            start_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
            registered_at: at,
        }
        .into(),
        RetentionEnded {
            subject,
            data_kind: DataKind::Overdracht,
            ended_at: at,
        }
        .into(),
    ]
}

/// NATS subjects of the privacy service's commands and queries (the internal key, pseudonym and
/// access-log API is in [`crate::subject::privacy`]).
pub mod subjects {
    /// [`super::EraseSubject`], privacy officer only.
    pub const ERASE: &str = "kansrijk.cmd.privacy.betrokkene-wissen";
    /// [`super::PlaceLegalHold`].
    pub const PLACE_HOLD: &str = "kansrijk.cmd.privacy.bewaarplicht-opleggen";
    /// [`super::LiftLegalHold`].
    pub const LIFT_HOLD: &str = "kansrijk.cmd.privacy.bewaarplicht-opheffen";
    /// [`super::RegisterRetention`], services only.
    pub const REGISTER_RETENTION: &str = "kansrijk.cmd.privacy.bewaartermijn-registreren";
    /// The whole AVG art. 15 document about one subject, privacy officer only.
    pub const SUBJECT_ACCESS: &str = "kansrijk.qry.privacy.inzageverzoek";
    /// The privacy officer's query of the access log.
    pub const ACCESS_LOG_QUERY: &str = "kansrijk.qry.privacy.toegangslog";
    /// Verification of the access log's hash chain, privacy officer only.
    pub const ACCESS_LOG_VERIFY: &str = "kansrijk.qry.privacy.toegangslog-controleren";

    /// The subject on which `service` answers its part of a subject access request.
    pub fn subject_access_part(service: &str) -> String {
        crate::subject::query(&format!("{service}.inzage"))
    }
}

// ---------------------------------------------------------------------------------------------
// Request and reply bodies of the privacy service's commands and queries (not events).
// ---------------------------------------------------------------------------------------------

/// Body of `kansrijk.cmd.privacy.betrokkene-wissen` (privacy officer only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EraseSubject {
    pub subject: Uuid,
    pub grounds: ErasureGrounds,
}

/// Body of `kansrijk.cmd.privacy.bewaarplicht-opleggen` (e.g. casework on a Veilig Thuis
/// escalation). Placing a hold on a subject that already has one changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaceLegalHold {
    pub subject: Uuid,
    /// Reason category (kebab-case code, never free text), e.g. `veilig-thuis-melding`.
    pub reason: String,
}

/// Body of `kansrijk.cmd.privacy.bewaarplicht-opheffen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiftLegalHold {
    pub subject: Uuid,
}

/// Body of `kansrijk.cmd.privacy.bewaartermijn-registreren`: a domain service reports that the
/// retention period of one kind of a subject's data starts on `startDate`. Registering again
/// with another date replaces the earlier one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRetention {
    pub subject: Uuid,
    pub data_kind: DataKind,
    pub start_date: NaiveDate,
}

/// Body of `kansrijk.qry.<service>.inzage` (each service's part of an AVG art. 15 request) and of
/// `kansrijk.qry.privacy.inzageverzoek` (the whole document, assembled by the privacy service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessRequest {
    pub subject: Uuid,
}

/// One service's answer to a subject access request: everything it holds about the subject,
/// opened (decrypted) and labelled for the data subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessPart {
    /// The answering service (`vve`, `overdracht`, `casework`, `views`, `privacy`).
    pub service: String,
    pub subject: Uuid,
    pub sections: Vec<SubjectAccessSection>,
}

/// One titled section of a service's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessSection {
    /// Dutch title for the reader, e.g. `VVE-indicatie`.
    pub title: String,
    /// The most sensitive category of the data in this section.
    pub category: DataCategory,
    /// The data as JSON (objects, lists, values).
    pub data: Value,
}

/// Body of `kansrijk.privacy.pseudonym`: keyed HMAC pseudonyms of `values` within `domain`
/// (e.g. `bsn`). Services only; the values never appear in a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PseudonymRequest {
    pub domain: String,
    pub values: Vec<String>,
}

/// Reply to a [`PseudonymRequest`]: one pseudonym per value, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PseudonymReply {
    pub pseudonyms: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventSet;

    #[test]
    fn v1_subject_erased_is_upcast_on_read() {
        let v1 = serde_json::json!({
            "subject": "01920000-0000-7000-8000-000000000001",
            "erasedBy": "00000001002220647000",
            "erasedAt": "2025-01-01T00:00:00Z"
        });
        let t = "nl.privacy.betrokkene-gewist.v1".parse().unwrap();
        let PrivacyEvent::Erased(e) = PrivacyEvent::decode(&t, v1).unwrap() else {
            panic!("wrong variant")
        };
        assert_eq!(e.subject_kind, SubjectKind::Kind);
        assert_eq!(e.grounds, ErasureGrounds::VerzoekBetrokkene);
    }

    #[test]
    fn command_subjects_follow_the_naming_scheme() {
        use crate::subject::command;
        assert_eq!(subjects::ERASE, command("privacy", "betrokkene-wissen"));
        assert_eq!(
            subjects::PLACE_HOLD,
            command("privacy", "bewaarplicht-opleggen")
        );
        assert_eq!(
            subjects::LIFT_HOLD,
            command("privacy", "bewaarplicht-opheffen")
        );
        assert_eq!(
            subjects::REGISTER_RETENTION,
            command("privacy", "bewaartermijn-registreren")
        );
        assert_eq!(
            subjects::subject_access_part("vve"),
            "kansrijk.qry.vve.inzage"
        );
    }

    #[test]
    fn data_kinds_round_trip() {
        for k in DataKind::ALL {
            assert_eq!(DataKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::from(k.as_str())
            );
        }
    }

    #[test]
    fn newer_versions_than_known_are_refused() {
        let t = "nl.privacy.betrokkene-gewist.v3".parse().unwrap();
        assert!(PrivacyEvent::decode(&t, serde_json::json!({})).is_err());
    }
}

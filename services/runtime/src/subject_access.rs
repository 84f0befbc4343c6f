//! Answering a subject access request (AVG art. 15) in a domain service.
//!
//! The privacy service asks every service on `kansrijk.qry.<service>.inzage` with a
//! [`SubjectAccessRequest`] and the privacy officer's actor. A service answers with a
//! [`SubjectAccessPart`]: everything it holds about the subject, opened. The helpers here do the
//! common part: [`require_privacy_officer`] checks the actor, [`part_from_store`] turns the events
//! of the subject's streams into sections, with every sealed value opened with the subject's key
//! (or marked as erased) and each section labelled with the most sensitive data category its
//! event type declares. A service adds sections of its own (e.g. from a read model) as it likes.

use chrono::SecondsFormat;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::privacy::{SubjectAccessPart, SubjectAccessSection};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::sealed::Sealed;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::keys::{KeyClient, KeyError};
use crate::store::EventStore;

/// Placeholder for a sealed value whose key was destroyed.
pub const ERASED: &str = "[gewist]";

/// Only a privacy officer, for the purpose of privacy supervision, may ask.
pub fn require_privacy_officer(actor: &Actor) -> Result<(), Problem> {
    if actor.organisation_type == OrganisationType::Privacyfunctionaris
        && actor.purpose == Purpose::Privacytoezicht
    {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "Alleen de privacyfunctionaris mag een inzageverzoek doen.",
        ))
    }
}

/// The most sensitive category declared by `event_type`'s schema (name without version).
fn event_category(event_name: &str) -> DataCategory {
    kansrijk_proto::all_event_schemas()
        .into_iter()
        .filter(|s| s.event_type.name() == event_name)
        .flat_map(|s| s.field_categories().into_iter().map(|(_, c)| c))
        .max()
        // An event this build does not know: assume the worst.
        .unwrap_or(DataCategory::Safety)
}

fn is_sealed(map: &serde_json::Map<String, Value>) -> bool {
    map.contains_key("ciphertext") && map.contains_key("nonce") && map.contains_key("subject")
}

fn collect(v: &Value, out: &mut Vec<Sealed<Value>>) {
    match v {
        Value::Object(map) if is_sealed(map) => {
            if let Ok(s) = serde_json::from_value::<Sealed<Value>>(v.clone()) {
                out.push(s);
            }
        }
        Value::Object(map) => map.values().for_each(|c| collect(c, out)),
        Value::Array(items) => items.iter().for_each(|c| collect(c, out)),
        _ => {}
    }
}

fn replace(v: &mut Value, opened: &std::collections::HashMap<String, Value>) {
    match v {
        Value::Object(map) if is_sealed(map) => {
            let nonce = map.get("nonce").and_then(Value::as_str).unwrap_or_default();
            *v = opened
                .get(nonce)
                .cloned()
                .unwrap_or_else(|| Value::from(ERASED));
        }
        Value::Object(map) => map.values_mut().for_each(|c| replace(c, opened)),
        Value::Array(items) => items.iter_mut().for_each(|c| replace(c, opened)),
        _ => {}
    }
}

/// Replaces every sealed value inside `v` by its plaintext (or [`ERASED`]).
pub async fn open_sealed(keys: &KeyClient, v: &mut Value) -> Result<(), Problem> {
    let mut sealed = Vec::new();
    collect(v, &mut sealed);
    let mut opened = std::collections::HashMap::new();
    for s in sealed {
        let plain = match keys.get(s.subject).await {
            Ok(key) => key.open(&s).unwrap_or_else(|_| Value::from(ERASED)),
            Err(KeyError::Erased) | Err(KeyError::Unknown) => Value::from(ERASED),
            Err(e) => return Err(e.to_problem()),
        };
        opened.insert(s.nonce.clone(), plain);
    }
    replace(v, &opened);
    Ok(())
}

/// A part made of every event of `stream_ids` in `store`, opened.
pub async fn part_from_store(
    store: &EventStore,
    keys: &KeyClient,
    service: &str,
    subject: Uuid,
    stream_ids: &[Uuid],
) -> Result<SubjectAccessPart, Problem> {
    let mut sections = Vec::new();
    for stream in stream_ids {
        let events = store.read_stream(*stream).await.map_err(|e| {
            tracing::error!(error = %e, "reading a stream for subject access failed");
            Problem::internal()
        })?;
        for e in events {
            let mut data = e.data.clone();
            open_sealed(keys, &mut data).await?;
            sections.push(SubjectAccessSection {
                title: format!(
                    "{} ({})",
                    e.event_type.name(),
                    e.recorded_at.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
                category: event_category(e.event_type.name()),
                data: json!({
                    "soort": e.stream_type,
                    "dossier": e.stream_id,
                    "versie": e.version,
                    "gegevens": data,
                }),
            });
        }
    }
    Ok(SubjectAccessPart {
        service: service.to_owned(),
        subject,
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_events_are_treated_as_the_most_sensitive() {
        assert_eq!(event_category("nl.onbekend.iets"), DataCategory::Safety);
        assert_eq!(
            event_category("nl.privacy.sleutel-aangemaakt"),
            DataCategory::Administrative
        );
    }

    #[test]
    fn only_a_privacy_officer_may_ask() {
        let mut a = Actor {
            person: "p".into(),
            organisation: "o".into(),
            organisation_type: OrganisationType::Privacyfunctionaris,
            role: "fg".into(),
            municipality: "0546".into(),
            purpose: Purpose::Privacytoezicht,
        };
        assert!(require_privacy_officer(&a).is_ok());
        a.purpose = Purpose::Zorgverlening;
        assert!(require_privacy_officer(&a).is_err());
        a.purpose = Purpose::Privacytoezicht;
        a.organisation_type = OrganisationType::Jgz;
        assert!(require_privacy_officer(&a).is_err());
    }
}

//! "Is this a district of the municipality?", asked of the partner registry
//! (`kansrijk.qry.registry.wijken`, served by the gateway process), by every service that stores a
//! district (vve-reach's registration, casework's case opening): one lookup per request, before
//! anything is written, and the district stored in the registry's spelling.

use std::time::Duration;

use async_nats::Client;
use kansrijk_proto::actor::Actor;
use kansrijk_proto::problem::Problem;

/// The registry's subject of a municipality's districts.
pub fn districts_subject() -> String {
    kansrijk_proto::subject::query("registry.wijken")
}

/// The part of a district in the registry's reply that the check uses.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RegistryDistrict {
    pub naam: String,
}

/// What the registry said about a district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistrictCheck {
    /// A district of the municipality, as the registry spells it.
    Known(String),
    Unknown,
    /// The registry did not answer (the caller fails closed: 503).
    Unanswered,
}

/// The registry's spelling of `district` when it is one of `list` (trimmed, ignoring case).
pub fn known_district(list: &[RegistryDistrict], district: &str) -> Option<String> {
    let wanted = district.trim().to_lowercase();
    list.iter()
        .find(|d| d.naam.trim().to_lowercase() == wanted)
        .map(|d| d.naam.clone())
}

/// Asks the registry, as `me`, for the municipality's districts and looks `district` up in them.
pub async fn check_district(
    nats: &Client,
    me: &Actor,
    municipality: &str,
    district: &str,
    timeout: Duration,
) -> DistrictCheck {
    let answer: Result<Vec<RegistryDistrict>, Problem> = crate::nats::request(
        nats,
        districts_subject(),
        crate::nats::request_headers(me, None, None),
        &serde_json::json!({ "gemeenteCode": municipality }),
        timeout,
    )
    .await;
    match answer {
        Ok(list) => {
            known_district(&list, district).map_or(DistrictCheck::Unknown, DistrictCheck::Known)
        }
        // The registry answers, but does not know the municipality: it has no districts.
        Err(p) if p.status == 404 => DistrictCheck::Unknown,
        Err(p) => {
            tracing::warn!(status = p.status, "registry of districts did not answer");
            DistrictCheck::Unanswered
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_district_is_matched_in_the_registry_spelling() {
        let list: Vec<RegistryDistrict> = ["Bos- en Gasthuisdistrict", "Leiden-Noord"]
            .iter()
            .map(|n| RegistryDistrict {
                naam: (*n).to_owned(),
            })
            .collect();
        assert_eq!(
            known_district(&list, " leiden-noord "),
            Some("Leiden-Noord".to_owned())
        );
        assert_eq!(known_district(&list, "Bos en Gasthuisdistrict"), None);
        assert_eq!(known_district(&[], "Leiden-Noord"), None);
    }
}

//! HTTP routes of the privacy domain (NATS service `privacy`): the privacy officer erases a data
//! subject (crypto-shredding), places and lifts legal holds, registers retention, reads and
//! verifies the NEN 7513 access log and answers subject access requests (AVG art. 15). Actions
//! are the `privacy.*` rows of `kansrijk-policy`; bodies are `kansrijk_proto::privacy`.
//!
//! `{subject}` is the pseudonymous subject id (a child's id, a handover file's id or a family's
//! case id), never a BSN.

use kansrijk_proto::privacy as p;
use serde_json::json;

use super::{HttpMethod::*, Param, ParamType, Route};

const TAG: &str = "privacy";
const SERVICE: &str = "privacy";

pub(crate) static ROUTES: &[Route] = &[
    Route::command(
        Post,
        "/v1/betrokkenen/{subject}/wissingen",
        "privacy.betrokkene-wissen",
        SERVICE,
        "betrokkene-wissen",
    )
    .tag(TAG)
    .summary("Alle gegevens over een betrokkene wissen (de sleutel wordt vernietigd)")
    .description(
        "Geweigerd (409 `bewaarplicht`) zolang er een bewaarplicht geldt. Daarna antwoorden de \
         gegevens van de betrokkene met 410 of 404 en verdwijnen zij uit alle overzichten.",
    )
    .body::<p::EraseSubject>()
    .example(|| json!({ "grounds": "verzoek-betrokkene" }))
    .no_view_wait(),
    Route::command(
        Put,
        "/v1/betrokkenen/{subject}/bewaarplicht",
        "privacy.bewaarplicht-opleggen",
        SERVICE,
        "bewaarplicht-opleggen",
    )
    .tag(TAG)
    .summary("Een bewaarplicht opleggen (wissen wordt geweigerd zolang die geldt)")
    .body::<p::PlaceLegalHold>()
    .example(|| json!({ "reason": "veilig-thuis-melding" }))
    .no_view_wait(),
    Route::command(
        Delete,
        "/v1/betrokkenen/{subject}/bewaarplicht",
        "privacy.bewaarplicht-opheffen",
        SERVICE,
        "bewaarplicht-opheffen",
    )
    .tag(TAG)
    .summary("De bewaarplicht opheffen")
    .body::<p::LiftLegalHold>()
    .example(|| json!({}))
    .no_view_wait(),
    Route::command(
        Post,
        "/v1/betrokkenen/{subject}/bewaartermijnen",
        "privacy.bewaartermijn-registreren",
        SERVICE,
        "bewaartermijn-registreren",
    )
    .tag(TAG)
    .summary("Het begin van een bewaartermijn vastleggen")
    .body::<p::RegisterRetention>()
    .example(|| json!({ "dataKind": "jgz", "startDate": "2026-01-01" }))
    .no_view_wait(),
    Route::query(
        "/v1/betrokkenen/{subject}/inzage",
        "privacy.inzageverzoek",
        "privacy.inzageverzoek",
    )
    .tag(TAG)
    .summary("Inzageverzoek (AVG art. 15): alles wat over de betrokkene is vastgelegd")
    .response::<kansrijk_privacy::subject_access::SubjectAccessReply>()
    .description(
        "Uit alle diensten, als JSON-document en in leesbare vorm; vastgelegd als export in het \
         toegangslog.",
    ),
    Route::query(
        "/v1/toegangslog",
        "privacy.toegangslog",
        "privacy.toegangslog",
    )
    .tag(TAG)
    .summary("Het toegangslog (NEN 7513) van de eigen gemeente doorzoeken")
    .response::<kansrijk_privacy::access_log::AccessLogPage>()
    .query_params(&[
        Param::new(
            "subject",
            ParamType::Uuid,
            "Pseudonieme id van de betrokkene.",
        ),
        Param::new("user", ParamType::String, "Pseudoniem van de gebruiker."),
        Param::new("organisation", ParamType::String, "Id van de organisatie."),
        Param::new(
            "event",
            ParamType::String,
            "`create`, `read`, `update`, `delete`, `export`, `search` of `break-glass`.",
        ),
        Param::new(
            "accessPoint",
            ParamType::String,
            "Naam van het overzicht of eindpunt.",
        ),
        Param::new(
            "outcome",
            ParamType::String,
            "`success`, `denied` of `failed`.",
        ),
        Param::new("from", ParamType::String, "Vanaf dit tijdstip (RFC 3339)."),
        Param::new("until", ParamType::String, "Tot dit tijdstip (RFC 3339)."),
        Param::new(
            "afterSeq",
            ParamType::Integer,
            "Volgende pagina: regels na dit volgnummer.",
        ),
        Param::new(
            "limit",
            ParamType::Integer,
            "Aantal regels (hoogstens 1000, standaard 100).",
        ),
    ]),
    Route::query(
        "/v1/toegangslog/controle",
        "privacy.toegangslog-controleren",
        "privacy.toegangslog-controleren",
    )
    .tag(TAG)
    .summary("De hashketen van het toegangslog controleren")
    .response::<kansrijk_privacy::access_log::VerifyReport>(),
    Route::query(
        "/v1/privacy-statistiek",
        "privacy.statistiek",
        "privacy.statistiek",
    )
    .tag(TAG)
    .summary("Totalen van sleutels, wissingen en bewaarplichten (kleine aantallen onderdrukt)")
    .response::<kansrijk_privacy::handlers::Statistics>(),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn examples_with_the_subject_are_command_bodies() {
        for r in ROUTES.iter().filter(|r| r.method.is_command()) {
            let mut body = (r.example.unwrap())();
            body["subject"] = Value::String(uuid::Uuid::new_v4().to_string());
            let ok = match r.action {
                "privacy.betrokkene-wissen" => {
                    serde_json::from_value::<p::EraseSubject>(body).is_ok()
                }
                "privacy.bewaarplicht-opleggen" => {
                    serde_json::from_value::<p::PlaceLegalHold>(body).is_ok()
                }
                "privacy.bewaarplicht-opheffen" => {
                    serde_json::from_value::<p::LiftLegalHold>(body).is_ok()
                }
                "privacy.bewaartermijn-registreren" => {
                    serde_json::from_value::<p::RegisterRetention>(body).is_ok()
                }
                other => panic!("{other} untested"),
            };
            assert!(ok, "{}", r.path);
        }
    }
}

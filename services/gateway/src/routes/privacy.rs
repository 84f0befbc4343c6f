//! HTTP routes of the privacy domain (NATS service `privacy`): the privacy officer erases a data
//! subject (crypto-shredding), places and lifts legal holds, registers retention, reads and
//! verifies the NEN 7513 access log and answers subject access requests (AVG art. 15). Actions
//! are the `privacy.*` rows of `kansrijk-policy`; bodies are `kansrijk_proto::privacy`.
//!
//! The register of requests: `verwijderverzoeken` (AVG art. 17) and `inzageverzoeken` (art. 15),
//! filed by staff holding data of the subject or by the officer, decided (`besluit`) and listed by
//! the officer; bodies are `kansrijk_privacy::requests`.
//!
//! `{subject}` is the pseudonymous subject id (a child's id, a handover file's id or a family's
//! case id), never a BSN.

use kansrijk_privacy::requests as rq;
use kansrijk_proto::privacy as p;
use serde_json::json;

use super::{HttpMethod::*, Param, ParamType, Route};

const TAG: &str = "privacy";
const SERVICE: &str = "privacy";
/// The subject's data is erased: 410 `gewist`.
const GONE: &[u16] = &[410];

const REQUEST_QUERY: &[Param] = &[
    Param::new(
        "status",
        ParamType::String,
        "`ontvangen`, `uitgevoerd` of `afgewezen`.",
    ),
    Param::new(
        "limit",
        ParamType::Integer,
        "Aantal verzoeken (hoogstens 500, standaard 100).",
    ),
];

pub(crate) static ROUTES: &[Route] = &[
    Route::command(
        Post,
        "/v1/betrokkenen/{subject}/wissingen",
        "privacy.betrokkene-wissen",
        SERVICE,
        "betrokkene-wissen",
    )
    .tag(TAG)
    .answers(GONE)
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
    .answers(GONE)
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
    .answers(GONE)
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
    .answers(GONE)
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
    .answers(GONE)
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
    Route::command(
        Post,
        "/v1/verwijderverzoeken",
        "privacy.verwijderverzoek-indienen",
        SERVICE,
        "verwijderverzoek-indienen",
    )
    .tag(TAG)
    .summary("Een verwijderverzoek (AVG art. 17) registreren")
    .description(
        "Door een medewerker van een organisatie die gegevens van de betrokkene heeft, of door \
         de functionaris gegevensbescherming. De termijn is een maand na ontvangst (AVG art. \
         12 lid 3). Een onbekende betrokkene: 404; een gewiste: 410. `streamId` in het antwoord \
         is het id van het verzoek.",
    )
    .body::<rq::FileRequest>()
    .example(|| json!({ "subject": "0192f0c4-5b7e-7c3a-9d2e-1f2a3b4c5d6e", "requester": "ouder", "receivedOn": "2026-03-02" }))
    .no_view_wait(),
    Route::query(
        "/v1/verwijderverzoeken",
        "privacy.verwijderverzoeken",
        "privacy.verwijderverzoeken",
    )
    .tag(TAG)
    .summary("De verwijderverzoeken van de eigen gemeente: open verzoeken eerst, te late gemarkeerd")
    .response::<rq::RequestList>()
    .query_params(REQUEST_QUERY),
    Route::command(
        Post,
        "/v1/verwijderverzoeken/{request}/besluit",
        "privacy.verwijderverzoek-besluiten",
        SERVICE,
        "verwijderverzoek-besluiten",
    )
    .tag(TAG)
    .summary("Besluiten over een verwijderverzoek: uitvoeren (wissen) of afwijzen met een reden")
    .description(
        "Uitvoeren wist de betrokkene (de sleutel wordt vernietigd). Onder een bewaarplicht wordt \
         dat geweigerd (409 `bewaarplicht`): er is niets gewist, de weigering staat bij het \
         verzoek en het blijft open tot de bewaarplicht is opgeheven of het verzoek is afgewezen.",
    )
    .body::<rq::DecideRequest>()
    .example(|| json!({ "decision": "afwijzen", "reason": "bewaarplicht" }))
    .no_view_wait(),
    Route::command(
        Post,
        "/v1/inzageverzoeken",
        "privacy.inzageverzoek-indienen",
        SERVICE,
        "inzageverzoek-indienen",
    )
    .tag(TAG)
    .summary("Een inzageverzoek (AVG art. 15) registreren")
    .description(
        "Als bij verwijderverzoeken: een medewerker van een organisatie die gegevens van de \
         betrokkene heeft, of de functionaris gegevensbescherming; termijn een maand.",
    )
    .body::<rq::FileRequest>()
    .example(|| json!({ "subject": "0192f0c4-5b7e-7c3a-9d2e-1f2a3b4c5d6e", "requester": "medewerker" }))
    .no_view_wait(),
    Route::query(
        "/v1/inzageverzoeken",
        "privacy.inzageverzoeken",
        "privacy.inzageverzoeken",
    )
    .tag(TAG)
    .summary("De inzageverzoeken van de eigen gemeente: open verzoeken eerst, te late gemarkeerd")
    .response::<rq::RequestList>()
    .query_params(REQUEST_QUERY),
    Route::command(
        Post,
        "/v1/inzageverzoeken/{request}/besluit",
        "privacy.inzageverzoek-besluiten",
        SERVICE,
        "inzageverzoek-besluiten",
    )
    .tag(TAG)
    .summary("Besluiten over een inzageverzoek: uitvoeren (overzicht samenstellen) of afwijzen")
    .description(
        "Uitvoeren stelt het overzicht uit alle diensten samen (vastgelegd als export in het \
         toegangslog); antwoordt een dienst niet, dan 503 en blijft het verzoek open. Het \
         overzicht zelf: `GET /v1/betrokkenen/{subject}/inzage`.",
    )
    .body::<rq::DecideRequest>()
    .example(|| json!({ "decision": "uitvoeren" }))
    .no_view_wait(),
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
                "privacy.verwijderverzoek-indienen" | "privacy.inzageverzoek-indienen" => {
                    serde_json::from_value::<rq::FileRequest>(body).is_ok()
                }
                "privacy.verwijderverzoek-besluiten" | "privacy.inzageverzoek-besluiten" => {
                    let mut body = body;
                    let obj = body.as_object_mut().unwrap();
                    obj.remove("subject");
                    obj.insert(
                        "request".into(),
                        Value::String(uuid::Uuid::new_v4().to_string()),
                    );
                    serde_json::from_value::<rq::DecideRequest>(body).is_ok()
                }
                other => panic!("{other} untested"),
            };
            assert!(ok, "{}", r.path);
        }
    }
}

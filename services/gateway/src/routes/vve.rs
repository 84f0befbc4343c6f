//! HTTP routes of the vve domain (NATS service `vve`, queries in the views service): JGZ
//! registers children, indicates, refers and records outreach; childcare locations handle
//! referrals and placements; the municipality sets its target-group definition and reads the
//! quarterly monitor. Actions are the `vve.*` rows of `kansrijk-policy`; bodies are
//! `kansrijk_vve_reach::api` (read leniently, so the service reports every field error at once);
//! answers are `kansrijk_views::vve::queries`.
//!
//! Ids in paths are pseudonymous UUIDs (the child's subject id, referral and placement ids);
//! BSN, names and birth dates only ever travel in bodies.

use kansrijk_views::vve::queries::{ChildcareOverview, ExportFile, MonitorReport, Worklist};
use kansrijk_vve_reach::api;
use serde_json::json;

use super::{HttpMethod::*, Param, ParamType, Route};

const TAG: &str = "vve";

const PEILDATUM: Param = Param::new(
    "peildatum",
    ParamType::Date,
    "De dag waarop de resterende tijd wordt berekend; standaard vandaag.",
);

const JAAR: Param = Param::new(
    "jaar",
    ParamType::Integer,
    "Het jaar van het kwartaal; standaard het lopende jaar.",
)
.example("2026");

const KWARTAAL: Param = Param::new(
        "kwartaal",
        ParamType::Integer,
        "Kwartaal 1 tot en met 4; de peildatum is de laatste dag ervan. Standaard het lopende kwartaal.",
    )
.example("1");

const MONITOR_PARAMS: &[Param] = &[JAAR, KWARTAAL];

pub(crate) static ROUTES: &[Route] = &[
    // --- JGZ ------------------------------------------------------------------------------
    Route::command(
        Post,
        "/v1/kinderen",
        "vve.kind-inschrijven",
        "vve",
        "kind-inschrijven",
    )
    .tag(TAG)
    .summary("Een kind inschrijven bij de JGZ")
    .description(
        "Het BSN (11-proef), de naam, de geboortedatum en de postcode staan alleen in de inhoud, \
         nooit in het pad. Het antwoord bevat in `streamId` de pseudonieme id van het kind.",
    )
    .body::<api::RegisterChild>()
    .example(|| {
        json!({
            "bsn": "999990019",
            "voornaam": "Noor",
            "achternaam": "Jansen",
            "geboortedatum": "2023-09-01",
            "postcode": "2311 AB",
            "wijk": "Binnenstad-Noord",
            "gemeente": "0546"
        })
    }),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/indicaties",
        "vve.indicatie-afgeven",
        "vve",
        "indicatie-afgeven",
    )
    .tag(TAG)
    .summary("Een VVE-indicatie afgeven")
    .description(
        "Met de criteria uit de doelgroepdefinitie van de gemeente die op de datum geldt.",
    )
    .body::<api::IssueIndication>()
    .example(|| json!({ "afgegevenOp": "2026-02-02", "criteria": ["taal"] })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/indicatie-intrekkingen",
        "vve.indicatie-intrekken",
        "vve",
        "indicatie-intrekken",
    )
    .tag(TAG)
    .summary("De VVE-indicatie intrekken")
    .body::<api::WithdrawIndication>()
    .example(|| json!({ "ingetrokkenOp": "2026-03-01", "reden": "herbeoordeling" })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/verwijzingen",
        "vve.doorverwijzen",
        "vve",
        "doorverwijzen",
    )
    .tag(TAG)
    .summary("Het gezin doorverwijzen naar een of meer VVE-locaties")
    .description("Alleen naar geregistreerde VVE-locaties (LRK-nummer).")
    .body::<api::Refer>()
    .example(|| json!({ "doorverwezenOp": "2026-02-03", "locaties": ["100000001"] })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/toeleidingspogingen",
        "vve.toeleidingspoging-registreren",
        "vve",
        "toeleidingspoging-registreren",
    )
    .tag(TAG)
    .summary("Een toeleidingspoging vastleggen (telefoon, brief, huisbezoek)")
    .body::<api::RecordOutreach>()
    .example(|| {
        json!({ "datum": "2026-02-10", "kanaal": "telefoon", "uitkomst": "niet-bereikt" })
    }),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/afzien-meldingen",
        "vve.afzien-registreren",
        "vve",
        "afzien-registreren",
    )
    .tag(TAG)
    .summary("Vastleggen dat de ouders afzien van VVE, met de reden")
    .body::<api::RecordDeclined>()
    .example(|| json!({ "datum": "2026-02-12", "reden": "opvoeden-thuis" })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/verhuizingen",
        "vve.verhuizing-registreren",
        "vve",
        "verhuizing-registreren",
    )
    .tag(TAG)
    .summary("Vastleggen dat het gezin is verhuisd")
    .body::<api::RecordMovedAway>()
    .example(|| json!({ "verhuisdOp": "2026-02-15" })),
    // --- Childcare ------------------------------------------------------------------------
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/verwijzingen/{verwijzingId}/acceptaties",
        "vve.verwijzing-accepteren",
        "vve",
        "verwijzing-accepteren",
    )
    .tag(TAG)
    .summary("Een verwijzing naar de eigen locatie accepteren")
    .body::<api::AcceptReferral>()
    .example(|| json!({ "datum": "2026-02-05" })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/verwijzingen/{verwijzingId}/wachtlijst-plaatsingen",
        "vve.wachtlijst-plaatsen",
        "vve",
        "wachtlijst-plaatsen",
    )
    .tag(TAG)
    .summary("Het kind op de wachtlijst van de eigen locatie plaatsen")
    .body::<api::PutOnWaitingList>()
    .example(|| json!({ "datum": "2026-02-05", "verwachteStart": "2026-05-01" })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/plaatsingen",
        "vve.plaatsing-starten",
        "vve",
        "plaatsing-starten",
    )
    .tag(TAG)
    .summary("Een VVE-plaatsing op de eigen locatie starten")
    .description("Uren per week 0 tot en met 40; geen twee overlappende plaatsingen op één locatie.")
    .body::<api::StartPlacement>()
    .example(|| json!({ "startdatum": "2026-03-02", "urenPerWeek": 16 })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/plaatsingen/{plaatsingId}/urenwijzigingen",
        "vve.uren-wijzigen",
        "vve",
        "uren-wijzigen",
    )
    .tag(TAG)
    .summary("De uren per week van een plaatsing wijzigen")
    .body::<api::ChangeHours>()
    .example(|| json!({ "perDatum": "2026-04-01", "urenPerWeek": 12 })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/plaatsingen/{plaatsingId}/beeindigingen",
        "vve.plaatsing-beeindigen",
        "vve",
        "plaatsing-beeindigen",
    )
    .tag(TAG)
    .summary("Een plaatsing beëindigen, met de reden")
    .body::<api::EndPlacement>()
    .example(|| json!({ "einddatum": "2026-06-30", "reden": "naar-basisschool" })),
    Route::command(
        Post,
        "/v1/kinderen/{kindId}/plaatsingen/{plaatsingId}/aanwezigheden",
        "vve.aanwezigheid-registreren",
        "vve",
        "aanwezigheid-registreren",
    )
    .tag(TAG)
    .summary("De aanwezige uren van een maand vastleggen")
    .body::<api::RecordAttendance>()
    .example(|| json!({ "maand": "2026-03", "uren": 60 })),
    // --- Municipality ---------------------------------------------------------------------
    Route::command(
        Post,
        "/v1/doelgroepdefinities",
        "vve.doelgroepdefinitie-vaststellen",
        "vve",
        "doelgroepdefinitie-vaststellen",
    )
    .tag(TAG)
    .summary("De doelgroepdefinitie van de eigen gemeente vaststellen, vanaf een jaar")
    .body::<api::DefineTargetGroup>()
    .example(|| {
        json!({
            "geldigVanaf": 2026,
            "criteria": [
                { "code": "taal", "omschrijving": "Risico op een taalachterstand" },
                { "code": "opleiding-ouders", "omschrijving": "Ouders opgeleid onder mbo-2" }
            ]
        })
    }),
    Route::query(
        "/v1/doelgroepdefinities",
        "vve.doelgroepdefinities",
        "vve.doelgroepdefinities",
    )
    .tag(TAG)
    .summary("De doelgroepdefinities van de eigen gemeente")
    .response::<api::TargetGroupDefinitions>(),
    // --- Views ----------------------------------------------------------------------------
    Route::query("/v1/jgz-werklijst", "vve.werklijst", "vve.werklijst")
        .tag(TAG)
        .summary("De werklijst van de JGZ: geïndiceerde kinderen zonder plaatsing, de meest urgente eerst")
        .description("Alleen de kinderen van de eigen JGZ-organisatie.")
        .query_params(&[PEILDATUM])
        .response::<Worklist>(),
    Route::query(
        "/v1/kinderopvang-overzicht",
        "vve.kinderopvang",
        "vve.kinderopvang",
    )
    .tag(TAG)
    .summary("Verwijzingen, wachtlijst en plaatsingen van de eigen locatie")
    .query_params(&[PEILDATUM])
    .response::<ChildcareOverview>(),
    Route::query("/v1/vve-monitor", "vve.monitor", "vve.monitor")
        .tag(TAG)
        .summary("De kwartaalmonitor VVE-bereik van de eigen gemeente")
        .description(
            "Alleen aantallen; kleine aantallen zijn onderdrukt (`null`), ook waar zij uit totalen \
             terug te rekenen zouden zijn.",
        )
        .query_params(MONITOR_PARAMS)
        .response::<MonitorReport>(),
    Route::query(
        "/v1/vve-monitor-exporten",
        "vve.monitor-export",
        "vve.monitor-export",
    )
    .tag(TAG)
    .summary("De kwartaalmonitor als bestand (CSV of XLSX, base64)")
    .query_params(&[
        JAAR,
        KWARTAAL,
        Param::new("formaat", ParamType::String, "`csv` (standaard) of `xlsx`.").example("csv"),
    ])
    .response::<ExportFile>(),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command has an example that reads as the service's own (lenient) body type.
    #[test]
    fn every_command_has_an_example_body() {
        for r in ROUTES.iter().filter(|r| r.method.is_command()) {
            let v = (r.example.expect("an example"))();
            assert!(v.is_object(), "{}", r.path);
        }
    }
}

//! HTTP routes of the casework domain ("1 gezin 1 plan", NATS service `casework`, queries in the
//! views service): a youth team opens and directs a family's case; partners take part under the
//! parents' consent. Actions are the `casework.*` rows of `kansrijk-policy`; bodies are
//! `kansrijk_casework::api`, answers `kansrijk_views::casework::queries`.
//!
//! Bodies are validated against their JSON Schema before forwarding (every field error at once);
//! the unit test below keeps the examples in step with the real body types.

use serde_json::json;

use kansrijk_casework::api;
use kansrijk_views::casework::queries;

use super::{HttpMethod::*, Param, ParamType, Route};

const TAG: &str = "casusregie";
const SERVICE: &str = "casework";

const ORGANISATIE: &[Param] = &[Param::new(
    "organisatie",
    ParamType::String,
    "Id van de deelnemende organisatie (OIN, KvK-nummer, BRIN+vestiging of LRK-nummer).",
)
.required()
.example("20VF00")];

pub(crate) static ROUTES: &[Route] = &[
    Route::command(
        Post,
        "/v1/casussen",
        "casework.casus-openen",
        SERVICE,
        "casus-openen",
    )
    .tag(TAG)
    .body::<api::OpenCase>()
    .summary("Een gezinscasus openen; de eigen organisatie voert de regie")
    .description(
        "Gezinsleden (naam, geboortedatum) staan alleen in de inhoud. Het antwoord bevat in \
         `streamId` de id van de casus.",
    )
    .example(|| {
        json!({
            "wijk": "Leiden-Noord",
            "geopendOp": "2026-01-15",
            "urenbudgetRegie": 10,
            "gezinsleden": [
                { "rol": "ouder", "voornaam": "Sara", "achternaam": "de Vries" },
                { "rol": "kind", "voornaam": "Daan", "achternaam": "de Vries", "geboortedatum": "2022-04-01" }
            ]
        })
    }),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/deelnemers",
        "casework.deelnemer-toevoegen",
        SERVICE,
        "deelnemer-toevoegen",
    )
    .tag(TAG)
    .body::<api::AddParticipant>()
    .summary("Een organisatie laten deelnemen aan de casus")
    .example(|| {
        json!({ "organisatie": "20VF00", "organisatietype": "basisschool", "datum": "2026-01-16" })
    }),
    Route::command(
        Delete,
        "/v1/casussen/{casusId}/deelnemers/{organisatie}",
        "casework.deelnemer-verwijderen",
        SERVICE,
        "deelnemer-verwijderen",
    )
    .tag(TAG)
    .body::<api::RemoveParticipant>()
    .summary("Een organisatie laat de casus los")
    .path_params(ORGANISATIE)
    .example(|| json!({ "datum": "2026-05-01" })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/toestemmingen",
        "casework.toestemming-registreren",
        SERVICE,
        "toestemming-registreren",
    )
    .tag(TAG)
    .body::<api::GrantConsent>()
    .summary("De toestemming van de ouders voor een organisatie vastleggen (onderdelen, doel, geldig tot)")
    .example(|| {
        json!({
            "organisatie": "20VF00",
            "onderdelen": ["doelen-acties", "evaluaties"],
            "doel": "casusregie",
            "gegevenOp": "2026-01-16",
            "geldigTot": "2027-01-16",
            "gegevenDoor": "ouders"
        })
    }),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/toestemmingen/{toestemmingId}/intrekkingen",
        "casework.toestemming-intrekken",
        SERVICE,
        "toestemming-intrekken",
    )
    .tag(TAG)
    .body::<api::RevokeConsent>()
    .summary("Vastleggen dat de ouders een toestemming intrekken")
    .example(|| json!({ "ingetrokkenOp": "2026-03-01" })),
    Route::command(
        Put,
        "/v1/casussen/{casusId}/sterke-punten",
        "casework.sterke-punten-vastleggen",
        SERVICE,
        "sterke-punten-vastleggen",
    )
    .tag(TAG)
    .body::<api::RecordStrengths>()
    .summary("Vastleggen wat goed gaat")
    .example(|| {
        json!({ "sterkePunten": ["Betrokken grootouders"], "vastgelegdOp": "2026-01-20" })
    }),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/zorgen",
        "casework.zorg-vastleggen",
        SERVICE,
        "zorg-vastleggen",
    )
    .tag(TAG)
    .body::<api::RecordConcern>()
    .summary("Een zorg vastleggen, met prioriteit")
    .example(|| {
        json!({
            "prioriteit": "hoog",
            "omschrijving": "Taalontwikkeling blijft achter.",
            "vastgelegdOp": "2026-01-20"
        })
    }),
    Route::command(
        Put,
        "/v1/casussen/{casusId}/netwerk",
        "casework.netwerk-vastleggen",
        SERVICE,
        "netwerk-vastleggen",
    )
    .tag(TAG)
    .body::<api::RecordNetwork>()
    .summary("Vastleggen wat het gezin en zijn netwerk zelf doen")
    .example(|| json!({ "inzet": ["Oma haalt twee dagen per week op"], "vastgelegdOp": "2026-01-20" })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/doelen",
        "casework.doel-stellen",
        SERVICE,
        "doel-stellen",
    )
    .tag(TAG)
    .body::<api::SetGoal>()
    .summary("Een doel stellen")
    .example(|| {
        json!({
            "omschrijving": "Daan gaat naar de voorschool.",
            "streefdatum": "2026-06-01",
            "gesteldOp": "2026-01-20"
        })
    }),
    Route::command(
        Put,
        "/v1/casussen/{casusId}/doelen/{doelId}/status",
        "casework.doelstatus-wijzigen",
        SERVICE,
        "doelstatus-wijzigen",
    )
    .tag(TAG)
    .body::<api::ChangeGoalStatus>()
    .summary("De status van een doel wijzigen")
    .example(|| json!({ "status": "behaald", "datum": "2026-05-01" })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/acties",
        "casework.actie-toewijzen",
        SERVICE,
        "actie-toewijzen",
    )
    .tag(TAG)
    .body::<api::AssignAction>()
    .summary("Een actie bij een doel aan een organisatie toewijzen")
    .example(|| {
        json!({
            "doelId": "6f1c2a4e-1b7d-4c55-9a0e-3f2b8c9d0e11",
            "organisatie": "20VF00",
            "omschrijving": "Aanmelden bij de voorschool.",
            "deadline": "2026-02-15",
            "toegewezenOp": "2026-01-20"
        })
    }),
    Route::command(
        Put,
        "/v1/casussen/{casusId}/acties/{actieId}/status",
        "casework.actiestatus-wijzigen",
        SERVICE,
        "actiestatus-wijzigen",
    )
    .tag(TAG)
    .body::<api::ChangeActionStatus>()
    .summary("De status van een actie wijzigen (de eigen actie, of als regisseur)")
    .example(|| json!({ "status": "afgerond", "datum": "2026-02-10" })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/plan-vaststellingen",
        "casework.plan-vaststellen",
        SERVICE,
        "plan-vaststellen",
    )
    .tag(TAG)
    .body::<api::AdoptPlan>()
    .summary("Het gezinsplan vaststellen")
    .example(|| json!({ "vastgesteldOp": "2026-01-25" })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/evaluaties",
        "casework.evaluatie-plannen",
        SERVICE,
        "evaluatie-plannen",
    )
    .tag(TAG)
    .body::<api::ScheduleReview>()
    .summary("Een evaluatie plannen (6 tot 10 maanden na het plan of de vorige evaluatie)")
    .example(|| json!({ "gepland": "2026-09-01" })),
    Route::command(
        Put,
        "/v1/casussen/{casusId}/evaluaties/{evaluatieId}/verslag",
        "casework.evaluatie-vastleggen",
        SERVICE,
        "evaluatie-vastleggen",
    )
    .tag(TAG)
    .body::<api::RecordReview>()
    .summary("Vastleggen dat de evaluatie is gehouden, met een kort verslag")
    .example(|| json!({ "gehoudenOp": "2026-09-01", "verslag": "Doelen grotendeels behaald." })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/uren",
        "casework.uren-registreren",
        SERVICE,
        "uren-registreren",
    )
    .tag(TAG)
    .body::<api::RecordHours>()
    .summary("Bestede tijd van de eigen organisatie vastleggen")
    .example(|| json!({ "datum": "2026-01-20", "minuten": 90, "soort": "regie" })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/urenbudgetten",
        "casework.urenbudget-vaststellen",
        SERVICE,
        "urenbudget-vaststellen",
    )
    .tag(TAG)
    .body::<api::SetHoursBudget>()
    .summary("Het urenbudget van een organisatie vaststellen")
    .example(|| json!({ "organisatie": "20VF00", "uren": 6 })),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/veilig-thuis-meldingen",
        "casework.veilig-thuis-melden",
        SERVICE,
        "veilig-thuis-melden",
    )
    .tag(TAG)
    .body::<api::Escalate>()
    .summary("Een melding bij Veilig Thuis vastleggen; opent het veiligheidsdeel voor de partijen")
    .example(|| {
        json!({
            "gemeldOp": "2026-02-01",
            "partijen": [],
            "grondslag": "meldcode",
            "melding": "Zorgen over de veiligheid thuis."
        })
    }),
    Route::command(
        Put,
        "/v1/casussen/{casusId}/veiligheidsplan",
        "casework.veiligheidsplan-vastleggen",
        SERVICE,
        "veiligheidsplan-vastleggen",
    )
    .tag(TAG)
    .body::<api::RecordSafetyPlan>()
    .summary("Het veiligheidsplan vastleggen")
    .example(|| {
        json!({ "veiligheidsplan": ["Dagelijks contact met de regisseur"], "vastgelegdOp": "2026-02-02" })
    }),
    Route::command(
        Post,
        "/v1/casussen/{casusId}/afsluiting",
        "casework.casus-sluiten",
        SERVICE,
        "casus-sluiten",
    )
    .tag(TAG)
    .body::<api::CloseCase>()
    .summary("De casus sluiten, met de uitkomst")
    .example(|| json!({ "geslotenOp": "2026-12-01", "uitkomst": "doelen-behaald" })),
    // --- Views ----------------------------------------------------------------------------
    Route::query("/v1/casussen", "casework.werklijst", "casework.werklijst")
        .tag(TAG)
        .response::<queries::Caseload>()
        .summary("De casussen waarvan de vrager de regie voert")
        .query_params(&[Param::new(
            "alleOrganisatie",
            ParamType::Boolean,
            "Alle casussen van de eigen organisatie (om een collega waar te nemen).",
        )]),
    Route::query("/v1/casussen/{casusId}", "casework.casus", "casework.casus")
        .tag(TAG)
        .response::<queries::CaseView>()
        .summary("Een casus, met alleen de onderdelen die de eigen organisatie vandaag mag zien"),
    Route::query("/v1/casus-acties", "casework.acties", "casework.acties")
        .tag(TAG)
        .response::<queries::OwnActions>()
        .summary("De acties die aan de eigen organisatie zijn toegewezen"),
    Route::query("/v1/casusmonitor", "casework.monitor", "casework.monitor")
        .tag(TAG)
        .response::<queries::Monitor>()
        .summary("Casusregie in de eigen gemeente: alleen aantallen, kleine aantallen onderdrukt"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    fn reads_as<T: DeserializeOwned>(method: super::super::HttpMethod, path: &str) {
        let r = ROUTES
            .iter()
            .find(|r| r.path == path && r.method == method)
            .unwrap_or_else(|| panic!("{path}"));
        let mut body = (r.example.unwrap())();
        for name in r.path_param_names() {
            let p = r.path_param(name);
            body[name] = Value::String(match p.example {
                Some(e) => e.to_owned(),
                None => uuid::Uuid::new_v4().to_string(),
            });
        }
        serde_json::from_value::<T>(body).unwrap_or_else(|e| panic!("{path}: {e}"));
    }

    /// The examples (plus the path parameters) are the casework service's own bodies.
    #[test]
    fn examples_are_command_bodies() {
        let base = "/v1/casussen/{casusId}";
        reads_as::<api::OpenCase>(Post, "/v1/casussen");
        reads_as::<api::AddParticipant>(Post, &format!("{base}/deelnemers"));
        reads_as::<api::RemoveParticipant>(Delete, &format!("{base}/deelnemers/{{organisatie}}"));
        reads_as::<api::GrantConsent>(Post, &format!("{base}/toestemmingen"));
        reads_as::<api::RevokeConsent>(
            Post,
            &format!("{base}/toestemmingen/{{toestemmingId}}/intrekkingen"),
        );
        reads_as::<api::RecordStrengths>(Put, &format!("{base}/sterke-punten"));
        reads_as::<api::RecordConcern>(Post, &format!("{base}/zorgen"));
        reads_as::<api::RecordNetwork>(Put, &format!("{base}/netwerk"));
        reads_as::<api::SetGoal>(Post, &format!("{base}/doelen"));
        reads_as::<api::ChangeGoalStatus>(Put, &format!("{base}/doelen/{{doelId}}/status"));
        reads_as::<api::AssignAction>(Post, &format!("{base}/acties"));
        reads_as::<api::ChangeActionStatus>(Put, &format!("{base}/acties/{{actieId}}/status"));
        reads_as::<api::AdoptPlan>(Post, &format!("{base}/plan-vaststellingen"));
        reads_as::<api::ScheduleReview>(Post, &format!("{base}/evaluaties"));
        reads_as::<api::RecordReview>(Put, &format!("{base}/evaluaties/{{evaluatieId}}/verslag"));
        reads_as::<api::RecordHours>(Post, &format!("{base}/uren"));
        reads_as::<api::SetHoursBudget>(Post, &format!("{base}/urenbudgetten"));
        reads_as::<api::Escalate>(Post, &format!("{base}/veilig-thuis-meldingen"));
        reads_as::<api::RecordSafetyPlan>(Put, &format!("{base}/veiligheidsplan"));
        reads_as::<api::CloseCase>(Post, &format!("{base}/afsluiting"));
    }

    #[test]
    fn every_command_subject_is_routed() {
        let routed: Vec<String> = ROUTES.iter().map(|r| r.target.subject()).collect();
        for s in kansrijk_proto::casework::subjects::COMMANDS {
            assert!(routed.iter().any(|r| r == s), "{s} has no route");
        }
        for s in [
            kansrijk_proto::casework::subjects::QUERY_CASELOAD,
            kansrijk_proto::casework::subjects::QUERY_ACTIONS,
            kansrijk_proto::casework::subjects::QUERY_CASE,
            kansrijk_proto::casework::subjects::QUERY_MONITOR,
        ] {
            assert!(routed.iter().any(|r| r == s), "{s} has no route");
        }
    }
}

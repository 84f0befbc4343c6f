//! HTTP routes of the handover domain (NATS service `overdracht`, queries in the views service):
//! the preschool-to-school form (overdrachtsformulier, written by the childcare location) and the
//! PO-VO file (OSO-dossier, written by the primary school). Steps both kinds share (parents
//! informed, enrolment, sending, confirmation, warm handover) are under
//! `/v1/overdrachtsdossiers/{dossierId}`. Actions are the `handover.*` rows of
//! `kansrijk-policy`; bodies and answers are `kansrijk_proto::handover`.

use kansrijk_proto::handover as h;
use serde_json::json;

use super::{HttpMethod::*, Param, ParamType, Route};

/// The file's content was destroyed (its key erased): 410 `gewist`.
const GONE: &[u16] = &[410];

const TAG: &str = "overdracht";
const SERVICE: &str = "overdracht";

const SOORT: Param = Param::new(
    "soort",
    ParamType::String,
    "`voorschool` (overdrachtsformulier) of `po-vo` (OSO-dossier); standaard beide.",
);

fn child_example() -> serde_json::Value {
    json!({ "voornaam": "Elif", "achternaam": "Bakkal", "geboortedatum": "2022-05-01" })
}

fn oso_content_example() -> serde_json::Value {
    json!({
        "ondersteuning": "Extra begeleiding bij begrijpend lezen.",
        "verzuim": { "geoorloofdDagen": 4, "ongeoorloofdDagen": 0 },
        "wensOuders": "havo",
        "contactGewenst": true
    })
}

fn preschool_content_example() -> serde_json::Value {
    json!({
        "sociaalEmotioneel": "Zoekt steun bij de leidster bij nieuwe situaties.",
        "taal": "Woordenschat groeit.",
        "motoriek": "Knipt en plakt zelfstandig.",
        "cognitief": "Kent kleuren en telt tot tien.",
        "interessesEnTalenten": "Bouwhoek, prentenboeken.",
        "vve": { "programma": "Uk & Puk", "vanaf": "2025-01-06", "urenPerWeek": 16 },
        "ondersteuningsbehoeften": "Extra taalaanbod in groep 1."
    })
}

pub(crate) static ROUTES: &[Route] = &[
    // --- Preschool form (childcare) -------------------------------------------------------
    Route::command(
        Post,
        "/v1/overdrachtsformulieren",
        "handover.formulier-opstellen",
        SERVICE,
        "formulier-opstellen",
    )
    .tag(TAG)
    .summary("Een overdrachtsformulier voorschool-basisschool opstellen")
    .description(
        "De eigen kinderopvanglocatie wordt de afzender. Het antwoord bevat in `streamId` de id \
         van het dossier.",
    )
    .body::<h::DraftPreschoolFile>()
    .example(|| {
        json!({
            "opgesteldOp": "2026-02-02",
            "warmeOverdrachtGewenst": true,
            "kind": child_example(),
            "inhoud": preschool_content_example()
        })
    }),
    Route::command(
        Put,
        "/v1/overdrachtsformulieren/{dossierId}",
        "handover.formulier-wijzigen",
        SERVICE,
        "formulier-wijzigen",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Het overdrachtsformulier wijzigen (zolang de ouders niet zijn geïnformeerd)")
    .body::<h::RevisePreschoolFile>()
    .example(|| {
        json!({
            "datum": "2026-02-03",
            "warmeOverdrachtGewenst": true,
            "inhoud": preschool_content_example()
        })
    }),
    Route::command(
        Post,
        "/v1/overdrachtsformulieren/{dossierId}/toestemmingen",
        "handover.toestemming-geven",
        SERVICE,
        "toestemming-geven",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("De toestemming van de ouders voor de overdracht vastleggen")
    .body::<h::RecordConsent>()
    .example(|| json!({ "datum": "2026-02-10" })),
    Route::command(
        Post,
        "/v1/overdrachtsformulieren/{dossierId}/weigeringen",
        "handover.toestemming-weigeren",
        SERVICE,
        "toestemming-weigeren",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Vastleggen dat de ouders de overdracht weigeren; de inhoud wordt vernietigd")
    .body::<h::RefuseConsent>()
    .example(|| json!({ "datum": "2026-02-10", "reden": "zelf-overdragen" })),
    // --- PO-VO file (primary school) ------------------------------------------------------
    Route::command(
        Post,
        "/v1/oso-dossiers",
        "handover.oso-dossier-aanmaken",
        SERVICE,
        "oso-dossier-aanmaken",
    )
    .tag(TAG)
    .summary("Een OSO-dossier (PO-VO) aanmaken")
    .description("De eigen schoolvestiging wordt de afzender.")
    .body::<h::CreateOsoFile>()
    .example(|| {
        json!({
            "schooljaar": "2025-2026",
            "aangemaaktOp": "2026-01-12",
            "leerling": child_example(),
            "inhoud": oso_content_example()
        })
    }),
    Route::command(
        Put,
        "/v1/oso-dossiers/{dossierId}",
        "handover.oso-dossier-bijwerken",
        SERVICE,
        "oso-dossier-bijwerken",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Het OSO-dossier bijwerken (tot het is verzonden)")
    .body::<h::UpdateOsoFile>()
    .example(|| json!({ "datum": "2026-01-20", "inhoud": oso_content_example() })),
    Route::command(
        Post,
        "/v1/oso-importen",
        "handover.oso-dossier-importeren",
        SERVICE,
        "oso-dossier-importeren",
    )
    .tag(TAG)
    .summary("Een OSO-document (JSON) importeren als OSO-dossier")
    .body::<h::ImportOsoFile>()
    .example(|| json!({ "datum": "2026-01-12", "document": {} })),
    Route::command(
        Post,
        "/v1/oso-dossiers/{dossierId}/exporten",
        "handover.oso-dossier-exporteren",
        SERVICE,
        "oso-dossier-exporteren",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Het OSO-dossier exporteren als OSO-document (JSON)")
    .description("Het antwoord is het OSO-document zelf.")
    .body::<h::FileRef>()
    .example(|| json!({}))
    .no_view_wait(),
    Route::command(
        Post,
        "/v1/oso-dossiers/{dossierId}/voorlopige-adviezen",
        "handover.voorlopig-advies-geven",
        SERVICE,
        "voorlopig-advies-geven",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Het voorlopig schooladvies geven")
    .body::<h::GiveAdvice>()
    .example(|| json!({ "datum": "2026-01-20", "advies": { "niveau": "vmbo-gt-havo" } })),
    Route::command(
        Post,
        "/v1/oso-dossiers/{dossierId}/toetsuitslagen",
        "handover.toetsuitslag-registreren",
        SERVICE,
        "toetsuitslag-registreren",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("De uitslag van de doorstroomtoets vastleggen")
    .body::<h::RecordTestResult>()
    .example(|| {
        json!({ "datum": "2026-03-10", "uitslag": { "toets": "route-8", "toetsadvies": "havo" } })
    }),
    Route::command(
        Post,
        "/v1/oso-dossiers/{dossierId}/heroverwegingen",
        "handover.advies-heroverwegen",
        SERVICE,
        "advies-heroverwegen",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Het advies heroverwegen na een hogere toetsuitslag (nooit verlagen)")
    .body::<h::ReconsiderAdvice>()
    .example(|| {
        json!({
            "datum": "2026-03-15",
            "heroverweging": { "niveau": "havo", "motivatie": "Toets en werkhouding wijzen op havo." }
        })
    }),
    Route::command(
        Post,
        "/v1/oso-dossiers/{dossierId}/definitieve-adviezen",
        "handover.definitief-advies-geven",
        SERVICE,
        "definitief-advies-geven",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Het definitief schooladvies geven")
    .body::<h::GiveAdvice>()
    .example(|| json!({ "datum": "2026-03-20", "advies": { "niveau": "havo" } })),
    // --- Both kinds (sender) --------------------------------------------------------------
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/informatie-ouders",
        "handover.ouders-informeren",
        SERVICE,
        "ouders-informeren",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Vastleggen dat en hoe de ouders het dossier hebben gezien")
    .body::<h::RecordParentsInformed>()
    .example(|| json!({ "datum": "2026-02-05", "wijze": "gesprek" })),
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/reacties-ouders",
        "handover.reactie-ouders-toevoegen",
        SERVICE,
        "reactie-ouders-toevoegen",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("De eigen visie of opmerkingen van de ouders toevoegen")
    .body::<h::AddParentsResponse>()
    .example(|| {
        json!({
            "datum": "2026-02-06",
            "reactie": { "akkoord": true, "toelichting": "Thuis praat zij veel over de bouwhoek." }
        })
    }),
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/inschrijvingen",
        "handover.inschrijving-registreren",
        SERVICE,
        "inschrijving-registreren",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("De school vastleggen waar het kind is ingeschreven")
    .body::<h::RecordEnrolment>()
    .example(|| json!({ "datum": "2026-02-01", "school": { "brin": "20VF", "vestiging": "00" } })),
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/verzendingen",
        "handover.dossier-verzenden",
        SERVICE,
        "dossier-verzenden",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Het dossier verzenden naar de school van inschrijving")
    .body::<h::SendFile>()
    .example(|| json!({ "datum": "2026-02-12", "school": { "brin": "20VF", "vestiging": "00" } })),
    // --- Receiver -------------------------------------------------------------------------
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/ontvangstbevestigingen",
        "handover.ontvangst-bevestigen",
        SERVICE,
        "ontvangst-bevestigen",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("De ontvangst van een aan de eigen school gezonden dossier bevestigen")
    .body::<h::FileRef>()
    .example(|| json!({ "datum": "2026-02-13" })),
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/warme-overdrachten",
        "handover.warme-overdracht-plannen",
        SERVICE,
        "warme-overdracht-plannen",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Een warme overdracht plannen")
    .body::<h::WarmHandover>()
    .example(|| {
        json!({ "datum": "2026-02-20", "deelnemers": ["pedagogisch-medewerker", "leerkracht", "ouders"] })
    }),
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/gehouden-warme-overdrachten",
        "handover.warme-overdracht-registreren",
        SERVICE,
        "warme-overdracht-registreren",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Vastleggen dat de warme overdracht is gehouden, met wie")
    .body::<h::WarmHandover>()
    .example(|| {
        json!({ "datum": "2026-02-20", "deelnemers": ["pedagogisch-medewerker", "leerkracht", "ouders"] })
    }),
    Route::command(
        Post,
        "/v1/overdrachtsdossiers/{dossierId}/posities-leerjaar-3",
        "handover.positie-leerjaar-3-melden",
        SERVICE,
        "positie-leerjaar-3-melden",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("De positie in leerjaar 3 ten opzichte van het advies terugmelden")
    .body::<h::ReportYear3Position>()
    .example(|| json!({ "datum": "2026-06-20", "positie": "op" })),
    // --- Views ----------------------------------------------------------------------------
    Route::query(
        "/v1/uitgaande-overdrachten",
        "handover.uitgaand",
        "overdracht.uitgaand",
    )
    .tag(TAG)
    .summary("De eigen verzonden en nog te verzenden dossiers, met hun status")
    .query_params(&[SOORT])
    .response::<h::Outbox>(),
    Route::query(
        "/v1/inkomende-overdrachten",
        "handover.inbox",
        "overdracht.inbox",
    )
    .tag(TAG)
    .summary("De dossiers die aan de eigen school zijn gezonden")
    .query_params(&[SOORT])
    .response::<h::Inbox>(),
    Route::query(
        "/v1/overdrachtsdossiers/{dossierId}",
        "handover.dossier",
        "overdracht.dossier",
    )
    .tag(TAG)
    .answers(GONE)
    .summary("Een dossier inzien (afzender of de geadresseerde school)")
    .response::<h::FileView>(),
    Route::query(
        "/v1/overdrachtsmonitor",
        "handover.monitor",
        "overdracht.monitor",
    )
    .tag(TAG)
    .summary("Overdrachten in de eigen gemeente: alleen aantallen, kleine aantallen onderdrukt")
    .query_params(&[Param::new(
        "jaar",
        ParamType::Integer,
        "Alleen dossiers van dit kalenderjaar; standaard alle jaren.",
    )])
    .response::<h::Monitor>(),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    fn reads_as<T: DeserializeOwned>(path: &str) {
        let r = ROUTES
            .iter()
            .find(|r| r.path == path && r.method.is_command())
            .unwrap_or_else(|| panic!("{path}"));
        let mut body = (r.example.unwrap())();
        if r.path.contains("{dossierId}") {
            body["dossierId"] = Value::String(uuid::Uuid::new_v4().to_string());
        }
        serde_json::from_value::<T>(body).unwrap_or_else(|e| panic!("{path}: {e}"));
    }

    /// The examples (plus the path parameter) are the service's own bodies.
    #[test]
    fn examples_are_command_bodies() {
        reads_as::<h::DraftPreschoolFile>("/v1/overdrachtsformulieren");
        reads_as::<h::RevisePreschoolFile>("/v1/overdrachtsformulieren/{dossierId}");
        reads_as::<h::RecordConsent>("/v1/overdrachtsformulieren/{dossierId}/toestemmingen");
        reads_as::<h::RefuseConsent>("/v1/overdrachtsformulieren/{dossierId}/weigeringen");
        reads_as::<h::CreateOsoFile>("/v1/oso-dossiers");
        reads_as::<h::UpdateOsoFile>("/v1/oso-dossiers/{dossierId}");
        reads_as::<h::ImportOsoFile>("/v1/oso-importen");
        reads_as::<h::FileRef>("/v1/oso-dossiers/{dossierId}/exporten");
        reads_as::<h::GiveAdvice>("/v1/oso-dossiers/{dossierId}/voorlopige-adviezen");
        reads_as::<h::RecordTestResult>("/v1/oso-dossiers/{dossierId}/toetsuitslagen");
        reads_as::<h::ReconsiderAdvice>("/v1/oso-dossiers/{dossierId}/heroverwegingen");
        reads_as::<h::GiveAdvice>("/v1/oso-dossiers/{dossierId}/definitieve-adviezen");
        reads_as::<h::RecordParentsInformed>(
            "/v1/overdrachtsdossiers/{dossierId}/informatie-ouders",
        );
        reads_as::<h::AddParentsResponse>("/v1/overdrachtsdossiers/{dossierId}/reacties-ouders");
        reads_as::<h::RecordEnrolment>("/v1/overdrachtsdossiers/{dossierId}/inschrijvingen");
        reads_as::<h::SendFile>("/v1/overdrachtsdossiers/{dossierId}/verzendingen");
        reads_as::<h::FileRef>("/v1/overdrachtsdossiers/{dossierId}/ontvangstbevestigingen");
        reads_as::<h::WarmHandover>("/v1/overdrachtsdossiers/{dossierId}/warme-overdrachten");
        reads_as::<h::WarmHandover>(
            "/v1/overdrachtsdossiers/{dossierId}/gehouden-warme-overdrachten",
        );
        reads_as::<h::ReportYear3Position>(
            "/v1/overdrachtsdossiers/{dossierId}/posities-leerjaar-3",
        );
    }

    /// Every command subject of the handover contract has a route, and every route a subject.
    #[test]
    fn every_command_subject_is_routed() {
        let subjects = [
            h::subjects::DRAFT_PRESCHOOL,
            h::subjects::REVISE_PRESCHOOL,
            h::subjects::CREATE_OSO,
            h::subjects::UPDATE_OSO,
            h::subjects::IMPORT_OSO,
            h::subjects::PROVISIONAL_ADVICE,
            h::subjects::TEST_RESULT,
            h::subjects::RECONSIDER,
            h::subjects::FINAL_ADVICE,
            h::subjects::PARENTS_INFORMED,
            h::subjects::PARENTS_RESPONSE,
            h::subjects::GIVE_CONSENT,
            h::subjects::REFUSE_CONSENT,
            h::subjects::ENROLMENT,
            h::subjects::SEND,
            h::subjects::CONFIRM,
            h::subjects::PLAN_WARM,
            h::subjects::HOLD_WARM,
            h::subjects::YEAR3,
            h::subjects::EXPORT_OSO,
            h::subjects::Q_OUTBOX,
            h::subjects::Q_INBOX,
            h::subjects::Q_FILE,
            h::subjects::Q_MONITOR,
        ];
        let routed: Vec<String> = ROUTES.iter().map(|r| r.target.subject()).collect();
        for s in subjects {
            assert!(routed.iter().any(|r| r == s), "{s} has no route");
        }
        assert_eq!(routed.len(), subjects.len());
    }
}

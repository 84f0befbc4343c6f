//! Routes of the partner registry (the "sociale kaart"), served over NATS by the gateway process
//! itself (`kansrijk.qry.registry.*`), so they go through the same machinery as every domain.

use serde_json::json;

use super::HttpMethod::Post;
use super::{Param, ParamType, Route};
use crate::registry::import::ImportReport;
use crate::registry::model::{
    ChildcareLocationCheck, DirectoryPage, District, Organisation, RegisterImport, SchoolCheck,
};
use crate::registry::service::{IMPORT_ACTION, IMPORT_NAME, SERVICE};

const TAG: &str = "sociale-kaart";

pub(crate) static ROUTES: &[Route] = &[
    Route::query(
        "/v1/sociale-kaart",
        "registry.sociale-kaart-raadplegen",
        "registry.sociale-kaart",
    )
    .tag(TAG)
    .summary("De sociale kaart doorzoeken")
    .description(
        "Organisaties, kinderopvanglocaties en scholen: wie u waarvoor kunt benaderen. \
         Alleen organisatiegegevens, geen persoonsgegevens.",
    )
    .query_params(&[
        Param::new(
            "zoekterm",
            ParamType::String,
            "Zoekt in naam, wijk en waarvoor u de organisatie kunt benaderen.",
        ),
        Param::new(
            "organisatieType",
            ParamType::String,
            "jgz, kinderopvang, basisschool, voortgezet-onderwijs, jeugdteam, gemeente of privacyfunctionaris.",
        ),
        Param::new("gemeente", ParamType::String, "CBS-gemeentecode (vier cijfers)."),
        Param::new("wijk", ParamType::String, "Naam van de wijk."),
        Param::new("alleenVve", ParamType::Boolean, "Alleen locaties met een VVE-aanbod."),
        Param::new("pagina", ParamType::Integer, "Paginanummer, vanaf 1."),
        Param::new("paginaGrootte", ParamType::Integer, "Aantal resultaten per pagina (1-100)."),
    ])
    .response::<DirectoryPage>(),
    Route::query(
        "/v1/organisaties/{organisatieId}",
        "registry.organisatie-raadplegen",
        "registry.organisatie",
    )
    .tag(TAG)
    .summary("Een organisatie opvragen")
    .path_params(&[Param::new(
        "organisatieId",
        ParamType::String,
        "OIN, KvK-nummer, BRIN+vestiging of LRK-nummer.",
    )
    .required()
    .example("20VF00")])
    .response::<Organisation>(),
    Route::query(
        "/v1/kinderopvanglocaties/{lrkNummer}",
        "registry.kinderopvanglocatie-raadplegen",
        "registry.vve-locatie",
    )
    .tag(TAG)
    .summary("Een kinderopvanglocatie opvragen, met of zij VVE aanbiedt")
    .path_params(&[Param::new(
        "lrkNummer",
        ParamType::String,
        "Nummer in het Landelijk Register Kinderopvang.",
    )
    .required()
    .example("100000001")])
    .response::<ChildcareLocationCheck>(),
    Route::query(
        "/v1/scholen/{brinVestiging}",
        "registry.school-raadplegen",
        "registry.school",
    )
    .tag(TAG)
    .summary("Een schoolvestiging opvragen")
    .path_params(&[Param::new(
        "brinVestiging",
        ParamType::String,
        "BRIN-nummer plus vestigingsnummer, bijvoorbeeld 20VF00.",
    )
    .required()
    .example("20VF00")])
    .response::<SchoolCheck>(),
    Route::query(
        "/v1/gemeenten/{gemeenteCode}/wijken",
        "registry.wijken-raadplegen",
        "registry.wijken",
    )
    .tag(TAG)
    .summary("De wijken van een gemeente")
    .path_params(&[Param::new("gemeenteCode", ParamType::String, "CBS-gemeentecode.")
        .required()
        .example("0546")])
    .response::<Vec<District>>(),
    Route::command(
        Post,
        "/v1/registerimports",
        IMPORT_ACTION,
        SERVICE,
        IMPORT_NAME,
    )
    .tag(TAG)
    .summary("Het partnerregister vullen uit een bronbestand")
    .description(
        "Voor de functioneel beheerder van de eigen gemeente: een CSV-bestand van DUO \
         (`duo-scholen`), het Landelijk Register Kinderopvang (`lrk`), de scholenlijst van de \
         gemeente (`scholenlijst`) of de postcodetabel (`postcodes`). Antwoordt 200 met het \
         verslag: toegevoegd, bijgewerkt, ongewijzigd, overgeslagen, en elke gemelde regel met \
         het regelnummer en de reden. Zijn er gemelde regels en is `foutieveRegelsOverslaan` niet \
         gekozen, dan wordt niets geïmporteerd en volgt 400 met elke gemelde regel in \
         `invalidParams`. Hetzelfde bestand nog eens importeren verandert niets.",
    )
    .body::<RegisterImport>()
    .response::<ImportReport>()
    .no_view_wait()
    .example(|| {
        json!({
            "soort": "scholenlijst",
            "gemeenteCode": "0546",
            "bestand": "brin,schoolnaam,leerlingen,schoolscore_met_drempel,wijk\n20VF,Roomskatholieke Basisschool De Singel,190,524.11,Leiden-Noord\n",
            "proefimport": true
        })
    }),
];

//! The registry's wire types (Dutch camelCase on the wire, English in code). The doc comments
//! are the descriptions in the OpenAPI document, so they are in Dutch.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Een vermelding op de sociale kaart: een organisatie, kinderopvanglocatie of school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryEntry {
    /// `organisatie`, `kinderopvanglocatie` of `school`.
    #[serde(rename = "soort")]
    pub kind: String,
    /// OIN, KvK-nummer, BRIN+vestiging of LRK-nummer.
    pub id: String,
    #[serde(rename = "naam")]
    pub name: String,
    #[serde(rename = "organisatieType")]
    pub organisation_type: String,
    /// CBS-gemeentecode.
    #[serde(rename = "gemeente")]
    pub municipality: String,
    #[serde(rename = "wijk")]
    pub district: Option<String>,
    /// Bij kinderopvang: of de locatie VVE aanbiedt.
    pub vve: Option<bool>,
    /// Waarvoor professionals deze organisatie kunnen benaderen.
    #[serde(rename = "waarvoor")]
    pub services: Vec<String>,
    #[serde(rename = "telefoon")]
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
}

/// Een pagina van de sociale kaart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryPage {
    #[serde(rename = "resultaten")]
    pub results: Vec<DirectoryEntry>,
    #[serde(rename = "pagina")]
    pub page: u32,
    #[serde(rename = "paginaGrootte")]
    pub page_size: u32,
    #[serde(rename = "totaal")]
    pub total: u64,
}

/// Een zoekvraag aan de sociale kaart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySearch {
    #[serde(rename = "zoekterm", default)]
    pub text: Option<String>,
    #[serde(rename = "organisatieType", default)]
    pub organisation_type: Option<String>,
    #[serde(rename = "gemeente", default)]
    pub municipality: Option<String>,
    #[serde(rename = "wijk", default)]
    pub district: Option<String>,
    #[serde(rename = "alleenVve", default)]
    pub vve_only: Option<bool>,
    #[serde(rename = "pagina", default)]
    pub page: Option<i64>,
    #[serde(rename = "paginaGrootte", default)]
    pub page_size: Option<i64>,
}

/// Een organisatie uit het partnerregister.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Organisation {
    pub id: String,
    /// `oin`, `kvk`, `brin` of `lrk`.
    #[serde(rename = "soortId")]
    pub id_kind: String,
    #[serde(rename = "organisatieType")]
    pub organisation_type: String,
    #[serde(rename = "naam")]
    pub name: String,
    #[serde(rename = "gemeente")]
    pub municipality: String,
    #[serde(rename = "wijk")]
    pub district: Option<String>,
    #[serde(rename = "waarvoor")]
    pub services: Vec<String>,
    #[serde(rename = "telefoon")]
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
}

/// Of een LRK-nummer een geregistreerde kinderopvanglocatie is, en of zij VVE aanbiedt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChildcareLocationCheck {
    pub lrk_nummer: String,
    /// Het LRK-nummer staat in het register.
    #[serde(rename = "geregistreerd")]
    pub registered: bool,
    /// De locatie is geregistreerd en biedt VVE aan.
    pub vve: bool,
    #[serde(rename = "naam")]
    pub name: Option<String>,
    #[serde(rename = "gemeente")]
    pub municipality: Option<String>,
    #[serde(rename = "wijk")]
    pub district: Option<String>,
    #[serde(rename = "organisatieId")]
    pub organisation_id: Option<String>,
}

/// Of een BRIN-nummer met vestigingsnummer een geregistreerde schoolvestiging is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchoolCheck {
    pub brin_vestiging: String,
    #[serde(rename = "geregistreerd")]
    pub registered: bool,
    /// `po` of `vo`.
    pub sector: Option<String>,
    #[serde(rename = "naam")]
    pub name: Option<String>,
    #[serde(rename = "gemeente")]
    pub municipality: Option<String>,
    #[serde(rename = "wijk")]
    pub district: Option<String>,
}

/// Een wijk van een gemeente.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct District {
    #[serde(rename = "gemeente")]
    pub municipality: String,
    #[serde(rename = "naam")]
    pub name: String,
}

/// The body of `kansrijk.qry.registry.vve-locatie`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LrkQuery {
    pub lrk_nummer: String,
}

/// The body of `kansrijk.qry.registry.vve-locaties`: several LRK numbers in one lookup (at most
/// [`MAX_LRK_BATCH`]).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LrkBatchQuery {
    #[schemars(length(max = MAX_LRK_BATCH))]
    pub lrk_nummers: Vec<String>,
}

/// Most LRK numbers in one `registry.vve-locaties` lookup.
pub const MAX_LRK_BATCH: usize = 100;

/// The reply of `kansrijk.qry.registry.vve-locaties`: one check per asked number, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChildcareLocationChecks {
    pub locaties: Vec<ChildcareLocationCheck>,
}

/// The body of `kansrijk.qry.registry.school`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchoolQuery {
    pub brin_vestiging: String,
}

/// The body of `kansrijk.qry.registry.organisatie`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationQuery {
    pub organisatie_id: String,
}

/// The body of `kansrijk.qry.registry.wijken`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DistrictsQuery {
    pub gemeente_code: String,
}

/// Een bronbestand voor het partnerregister: de inhoud van `POST /v1/registerimports` (en van
/// `kansrijk.cmd.registry.importeren`). Alleen voor de functioneel beheerder van de eigen gemeente.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterImport {
    /// `duo-scholen`, `lrk`, `scholenlijst` of `postcodes`.
    #[serde(rename = "soort")]
    pub kind: super::import::ImportKind,
    /// CBS-gemeentecode: de gemeente waarvoor wordt geïmporteerd (de eigen gemeente).
    #[serde(rename = "gemeenteCode")]
    pub municipality: String,
    /// De inhoud van het CSV-bestand als tekst (scheidingsteken `;`, `,` of tab; de kopregel is
    /// regel 1). Hoogstens ongeveer 1 MB; grotere bestanden met `kansrijk registry import`.
    #[serde(rename = "bestand")]
    #[schemars(extend("x-meerregelig" = true))]
    pub file: String,
    /// Alleen laten zien wat er zou veranderen; niets opslaan.
    #[serde(rename = "proefimport", default)]
    pub dry_run: Option<bool>,
    /// De goede regels importeren en de gemelde regels overslaan. Zonder deze keuze wordt niets
    /// geïmporteerd zolang er regels zijn gemeld (400 met elke gemelde regel).
    #[serde(rename = "foutieveRegelsOverslaan", default)]
    pub skip_invalid: Option<bool>,
    /// Bij scholen: `po` of `vo` (standaard: uit de kolommen van het DUO-bestand, `po` bij de
    /// scholenlijst).
    #[serde(default)]
    pub sector: Option<super::import::Sector>,
}

/// The body of `kansrijk.qry.registry.wijk-bij-postcode`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostcodeDistrictQuery {
    pub gemeente_code: String,
    pub postcode: String,
    #[serde(default)]
    pub huisnummer: Option<i64>,
}

/// De wijk van een adres volgens de postcodetabel; `null` als de tabel het adres niet kent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PostcodeDistrict {
    pub wijk: Option<String>,
}

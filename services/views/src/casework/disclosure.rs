//! The data category of every field the casework views return, for the disclosure-policy test
//! (`kansrijk_privacy::disclosure::FieldCategories::from_pairs`). A category holds for a field's
//! whole subtree unless a longer path declares its own.

use kansrijk_proto::category::DataCategory::{
    self, Administrative, DevelopmentEducation, Health, Identifying, Safety,
};

/// `casework.werklijst` ([`super::queries::Caseload`]).
pub const CASELOAD: &[(&str, DataCategory)] = &[
    ("casussen", Administrative),
    ("casussen.gezinsleden", Identifying),
];

/// `casework.acties` ([`super::queries::OwnActions`]).
pub const ACTIONS: &[(&str, DataCategory)] = &[
    ("acties", Administrative),
    ("acties.omschrijving", DevelopmentEducation),
];

/// `casework.casus` ([`super::queries::CaseView`]).
pub const CASE: &[(&str, DataCategory)] = &[
    ("casusId", Administrative),
    ("wijk", Administrative),
    ("regieOrganisatie", Administrative),
    ("geopendOp", Administrative),
    ("status", Administrative),
    ("geslotenOp", Administrative),
    ("uitkomst", Administrative),
    ("toegang", Administrative),
    ("zichtbareOnderdelen", Administrative),
    ("deelnemers", Administrative),
    ("toestemmingen", Administrative),
    ("gezinsleden", Identifying),
    ("sterkePunten", DevelopmentEducation),
    ("zorgen", Administrative),
    ("zorgen.omschrijving", Health),
    ("netwerk", DevelopmentEducation),
    ("doelen", Administrative),
    ("doelen.omschrijving", DevelopmentEducation),
    ("doelen.acties.omschrijving", DevelopmentEducation),
    ("evaluaties", Administrative),
    ("evaluaties.evaluaties.verslag", DevelopmentEducation),
    ("uren", Administrative),
    ("veiligheid", Safety),
    ("toelichting", DevelopmentEducation),
];

/// `casework.monitor` ([`super::queries::Monitor`]).
pub const MONITOR: &[(&str, DataCategory)] = &[
    ("gemeente", Administrative),
    ("peildatum", Administrative),
    ("drempel", Administrative),
    ("wijken", Administrative),
    ("totaal", Administrative),
];

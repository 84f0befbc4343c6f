//! Policy rows of the registry domain: the partner registry and the "sociale kaart". It holds
//! organisation data only (names, ids, districts, what to contact them for), no personal data,
//! so reading is broad; it is still limited to the organisation types that need it.

use kansrijk_proto::actor::OrganisationType::{self, *};
use kansrijk_proto::actor::Purpose;

use crate::{ActionKind, Disclosure, Rule};

/// Every professional partner (not the privacy officer, who has no use for the directory).
const PARTNERS: &[OrganisationType] = &[
    Jgz,
    Kinderopvang,
    Basisschool,
    VoortgezetOnderwijs,
    Jeugdteam,
    Gemeente,
];

pub(crate) static RULES: &[Rule] = &[
    Rule {
        action: "registry.sociale-kaart-raadplegen",
        kind: ActionKind::Query,
        allowed: PARTNERS,
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "Alle organisaties van alle gemeenten; alleen organisatiegegevens.",
    },
    Rule {
        action: "registry.organisatie-raadplegen",
        kind: ActionKind::Query,
        allowed: PARTNERS,
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "Alle organisaties; alleen organisatiegegevens.",
    },
    Rule {
        action: "registry.kinderopvanglocatie-raadplegen",
        kind: ActionKind::Query,
        allowed: &[Jgz, Kinderopvang, Basisschool, Jeugdteam, Gemeente],
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "Alle geregistreerde locaties; of een locatie VVE aanbiedt.",
    },
    Rule {
        action: "registry.school-raadplegen",
        kind: ActionKind::Query,
        allowed: &[
            Jgz,
            Kinderopvang,
            Basisschool,
            VoortgezetOnderwijs,
            Jeugdteam,
            Gemeente,
        ],
        roles: None,
        purpose: Purpose::Overdracht,
        scope: "Alle geregistreerde schoolvestigingen.",
    },
    Rule {
        action: "registry.wijken-raadplegen",
        kind: ActionKind::Query,
        allowed: &OrganisationType::ALL,
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "De wijken van elke gemeente.",
    },
];

pub(crate) static DISCLOSURES: &[Disclosure] = &[];

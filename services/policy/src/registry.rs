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

/// Who may read the districts of a municipality, and so which district an address is in.
const DISTRICT_READERS: &[OrganisationType] = &OrganisationType::ALL;

/// The municipality's administrator of the registry (functioneel beheerder).
pub(crate) const REGISTRY_ADMINISTRATOR: &str = "functioneel-beheerder";

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
        allowed: DISTRICT_READERS,
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "De wijken van elke gemeente.",
    },
    Rule {
        action: "registry.wijk-bij-postcode-raadplegen",
        kind: ActionKind::Query,
        allowed: DISTRICT_READERS,
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "De wijk van een postcode (en huisnummer) volgens de postcodetabel; geen gok.",
    },
    Rule {
        action: "registry.register-importeren",
        kind: ActionKind::Command,
        allowed: &[Gemeente],
        roles: Some(&[REGISTRY_ADMINISTRATOR]),
        // Organisation data only; the municipality's own purpose.
        purpose: Purpose::Beleidsmonitoring,
        scope: "Alleen de eigen gemeente (gemeenteCode is de gemeente van de actor); alleen \
                organisatiegegevens (scholen, kinderopvanglocaties, postcodes en wijken).",
    },
];

pub(crate) static DISCLOSURES: &[Disclosure] = &[];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{is_allowed, rule};
    use kansrijk_proto::actor::Actor;

    fn actor(t: OrganisationType, role: &str) -> Actor {
        Actor {
            person: "p".into(),
            organisation: "o".into(),
            organisation_type: t,
            role: role.into(),
            municipality: "0546".into(),
            purpose: Purpose::Zorgverlening,
        }
    }

    #[test]
    fn only_the_municipalitys_administrator_imports() {
        assert!(is_allowed(
            &actor(Gemeente, "functioneel-beheerder"),
            "registry.register-importeren"
        ));
        assert!(!is_allowed(
            &actor(Gemeente, "beleidsadviseur"),
            "registry.register-importeren"
        ));
        for t in OrganisationType::ALL.into_iter().filter(|t| *t != Gemeente) {
            assert!(!is_allowed(
                &actor(t, "functioneel-beheerder"),
                "registry.register-importeren"
            ));
        }
    }

    #[test]
    fn whoever_reads_the_districts_may_ask_the_district_of_a_postcode() {
        let wijken = rule("registry.wijken-raadplegen").unwrap();
        let postcode = rule("registry.wijk-bij-postcode-raadplegen").unwrap();
        assert_eq!(wijken.allowed, postcode.allowed);
        assert_eq!(wijken.roles, postcode.roles);
    }
}

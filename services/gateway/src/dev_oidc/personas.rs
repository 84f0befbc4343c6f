//! Named demo personas of the development issuer: at least one per organisation type, a second
//! organisation of the same type for JGZ, childcare and primary school (for the authorisation
//! matrix), a policy advisor of a second municipality (Leidschendam-Voorburg), and the
//! municipality's administrator of the partner registry (functioneel beheerder).

use kansrijk_proto::actor::OrganisationType::{self, *};
use sha2::{Digest, Sha256};

use crate::registry::seed::*;

/// A demo user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persona {
    /// The name to ask a token for (`kansrijk dev-token <id>`).
    pub id: &'static str,
    /// Shown in the persona chooser (fictional).
    pub display_name: &'static str,
    pub organisation: &'static str,
    pub organisation_name: &'static str,
    pub organisation_type: OrganisationType,
    pub role: &'static str,
    /// CBS municipality code.
    pub municipality: &'static str,
}

/// Every persona.
pub const PERSONAS: &[Persona] = &[
    Persona {
        id: "jgz-verpleegkundige",
        display_name: "Fatima (jeugdverpleegkundige)",
        organisation: JGZ_LEIDEN,
        organisation_name: "JGZ Hollands Midden, team Leiden (demo)",
        organisation_type: Jgz,
        role: "jeugdverpleegkundige",
        municipality: "0546",
    },
    Persona {
        id: "jgz-arts",
        display_name: "Pieter (jeugdarts)",
        organisation: JGZ_LEIDEN,
        organisation_name: "JGZ Hollands Midden, team Leiden (demo)",
        organisation_type: Jgz,
        role: "jeugdarts",
        municipality: "0546",
    },
    Persona {
        id: "jgz-andere-organisatie",
        display_name: "Noor (jeugdverpleegkundige, andere JGZ-organisatie)",
        organisation: JGZ_OTHER,
        organisation_name: "Stichting Jeugdgezondheid Rijnland (demo)",
        organisation_type: Jgz,
        role: "jeugdverpleegkundige",
        municipality: "0546",
    },
    Persona {
        id: "pedagogisch-medewerker",
        display_name: "Sanne (pedagogisch medewerker)",
        organisation: CHILDCARE,
        organisation_name: "Peuteropvang De Boomhut (demo)",
        organisation_type: Kinderopvang,
        role: "pedagogisch-medewerker",
        municipality: "0546",
    },
    Persona {
        id: "kinderopvang-andere-locatie",
        display_name: "Mehmet (pedagogisch medewerker, andere locatie)",
        organisation: CHILDCARE_OTHER,
        organisation_name: "Peuteropvang Het Molentje (demo)",
        organisation_type: Kinderopvang,
        role: "pedagogisch-medewerker",
        municipality: "0546",
    },
    Persona {
        id: "leerkracht",
        display_name: "Anouk (leerkracht groep 1-2)",
        organisation: PRIMARY,
        organisation_name: "Roomskatholieke Basisschool De Singel",
        organisation_type: Basisschool,
        role: "leerkracht",
        municipality: "0546",
    },
    Persona {
        id: "intern-begeleider",
        display_name: "Jeroen (intern begeleider)",
        organisation: PRIMARY,
        organisation_name: "Roomskatholieke Basisschool De Singel",
        organisation_type: Basisschool,
        role: "intern-begeleider",
        municipality: "0546",
    },
    Persona {
        id: "basisschool-andere-school",
        display_name: "Lotte (leerkracht, andere school)",
        organisation: PRIMARY_OTHER,
        organisation_name: "De Viersprong",
        organisation_type: Basisschool,
        role: "leerkracht",
        municipality: "0546",
    },
    Persona {
        id: "mentor-vo",
        display_name: "Youssef (mentor brugklas)",
        organisation: SECONDARY,
        organisation_name: "Voorbeeldcollege Leiden (demo)",
        organisation_type: VoortgezetOnderwijs,
        role: "mentor",
        municipality: "0546",
    },
    Persona {
        id: "regisseur",
        display_name: "Esther (regisseur jeugd- en gezinsteam)",
        organisation: YOUTH_TEAM,
        organisation_name: "Jeugd- en gezinsteam Leiden-Noord (demo)",
        organisation_type: Jeugdteam,
        role: "regisseur",
        municipality: "0546",
    },
    Persona {
        id: "beleidsadviseur",
        display_name: "Ruud (beleidsadviseur onderwijs, Leiden)",
        organisation: LEIDEN,
        organisation_name: "Gemeente Leiden (demo)",
        organisation_type: Gemeente,
        role: "beleidsadviseur",
        municipality: "0546",
    },
    Persona {
        id: "functioneel-beheerder",
        display_name: "Bram (functioneel beheerder, gemeente Leiden)",
        organisation: LEIDEN,
        organisation_name: "Gemeente Leiden (demo)",
        organisation_type: Gemeente,
        role: "functioneel-beheerder",
        municipality: "0546",
    },
    Persona {
        id: "beleidsadviseur-leidschendam-voorburg",
        display_name: "Ilse (beleidsadviseur, Leidschendam-Voorburg)",
        organisation: LEIDSCHENDAM_VOORBURG,
        organisation_name: "Gemeente Leidschendam-Voorburg (demo)",
        organisation_type: Gemeente,
        role: "beleidsadviseur",
        municipality: "1916",
    },
    Persona {
        id: "privacyfunctionaris",
        display_name: "Karin (functionaris gegevensbescherming)",
        organisation: PRIVACY_OFFICE,
        organisation_name: "Functionaris gegevensbescherming Kansrijk (demo)",
        organisation_type: Privacyfunctionaris,
        role: "privacyfunctionaris",
        municipality: "0546",
    },
];

/// The persona with this id.
pub fn persona(id: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.id == id)
}

/// The persona's pairwise pseudonym (`sub`): stable, not reversible to the persona's name.
pub fn pseudonym(persona_id: &str) -> String {
    let digest = Sha256::digest(format!("kansrijk-dev-persona:{persona_id}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_organisation_type_has_a_persona_and_some_a_second_organisation() {
        for t in OrganisationType::ALL {
            assert!(PERSONAS.iter().any(|p| p.organisation_type == t), "{t:?}");
        }
        for t in [Jgz, Kinderopvang, Basisschool] {
            let mut orgs: Vec<&str> = PERSONAS
                .iter()
                .filter(|p| p.organisation_type == t)
                .map(|p| p.organisation)
                .collect();
            orgs.dedup();
            assert!(orgs.len() >= 2, "{t:?} needs two organisations");
        }
        assert!(PERSONAS.iter().any(|p| p.municipality == "1916"));
    }

    #[test]
    fn personas_belong_to_demo_organisations() {
        for p in PERSONAS {
            let org = DEMO_ORGANISATIONS
                .iter()
                .find(|o| o.id == p.organisation)
                .unwrap_or_else(|| panic!("{} has no demo organisation", p.id));
            assert_eq!(org.organisation_type, p.organisation_type.as_str());
            assert_eq!(org.municipality, p.municipality);
        }
    }

    #[test]
    fn pseudonyms_are_stable_and_distinct() {
        assert_eq!(pseudonym("leerkracht"), pseudonym("leerkracht"));
        assert_ne!(pseudonym("leerkracht"), pseudonym("regisseur"));
        assert_eq!(pseudonym("leerkracht").len(), 32);
    }
}

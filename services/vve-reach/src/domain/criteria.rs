//! Target-group definitions (doelgroepdefinities): the criteria a municipality applies, fixed per
//! year (WPO art. 167). A definition holds from its year until a later one replaces it. Built-in
//! defaults exist for the demo municipalities; a municipality's own definitions (events on its
//! `doelgroepdefinitie` stream) replace the default of the same year.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use kansrijk_proto::vve::{Criterion, TargetGroupDefined};

/// CBS code of Leiden.
pub const LEIDEN: &str = "0546";
/// CBS code of Leidschendam-Voorburg.
pub const LEIDSCHENDAM_VOORBURG: &str = "1916";

fn c(code: &str, description: &str) -> Criterion {
    Criterion {
        code: code.into(),
        description: description.into(),
    }
}

/// Leiden, regulation in force from 2024: a toddler qualifies on a JGZ indication on one of these.
pub fn leiden_2024() -> Vec<Criterion> {
    vec![
        c(
            "opleiding-ouders",
            "Beide ouders (of de alleenstaande ouder) hebben hoogstens een opleiding onder mbo-2.",
        ),
        c(
            "thuistaal-niet-nederlands",
            "De taal thuis is niet (vooral) Nederlands.",
        ),
        c(
            "taalachterstand",
            "Er is een (risico op een) taalachterstand die niet door het kind zelf veroorzaakt wordt.",
        ),
        c(
            "ontwikkelingsachterstand",
            "Er is een (risico op een) ontwikkelingsachterstand die niet door het kind zelf veroorzaakt wordt.",
        ),
        c(
            "overig-oordeel-jgz",
            "Een andere reden, naar het oordeel van de jeugdverpleegkundige of jeugdarts.",
        ),
    ]
}

/// Leiden before the 2024 regulation (demo default from 2020): the same grounds without the
/// open "other reason" category.
pub fn leiden_2020() -> Vec<Criterion> {
    let mut c = leiden_2024();
    c.retain(|c| c.code != "overig-oordeel-jgz");
    c
}

/// Leidschendam-Voorburg's criteria (demo default from 2023).
pub fn leidschendam_voorburg_2023() -> Vec<Criterion> {
    vec![
        c(
            "opleiding-ouders",
            "Ten minste een ouder heeft een opleiding onder mbo-2.",
        ),
        c(
            "thuistaal-niet-nederlands",
            "De taal thuis is niet (vooral) Nederlands.",
        ),
        c(
            "taal-ontwikkeling",
            "Er is een risico op een achterstand in de taalontwikkeling.",
        ),
        c(
            "sociaal-emotioneel",
            "Er is een risico in de sociaal-emotionele ontwikkeling door omstandigheden thuis.",
        ),
    ]
}

/// All known definitions, by municipality and first year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalogue {
    definitions: BTreeMap<(String, i32), Vec<Criterion>>,
}

impl Catalogue {
    /// The built-in defaults: Leiden from 2020 and from 2024 (the regulation in force), and
    /// Leidschendam-Voorburg from 2023.
    pub fn builtin() -> Self {
        let mut c = Catalogue::default();
        c.set(LEIDEN, 2020, leiden_2020());
        c.set(LEIDEN, 2024, leiden_2024());
        c.set(LEIDSCHENDAM_VOORBURG, 2023, leidschendam_voorburg_2023());
        c
    }

    pub fn set(&mut self, municipality: &str, valid_from_year: i32, criteria: Vec<Criterion>) {
        self.definitions
            .insert((municipality.to_owned(), valid_from_year), criteria);
    }

    /// Adds a municipality's own definition (replaces a default of the same year).
    pub fn apply(&mut self, e: &TargetGroupDefined) {
        self.set(&e.municipality, e.valid_from_year, e.criteria.clone());
    }

    /// The definition in force for `municipality` on `on`: its year and criteria.
    pub fn applicable(&self, municipality: &str, on: NaiveDate) -> Option<(i32, &[Criterion])> {
        self.definitions
            .range((municipality.to_owned(), i32::MIN)..=(municipality.to_owned(), on.year()))
            .next_back()
            .map(|((_, year), criteria)| (*year, criteria.as_slice()))
    }

    /// Every definition of one municipality, oldest first.
    pub fn of(&self, municipality: &str) -> Vec<(i32, &[Criterion])> {
        self.definitions
            .range((municipality.to_owned(), i32::MIN)..=(municipality.to_owned(), i32::MAX))
            .map(|((_, year), criteria)| (*year, criteria.as_slice()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_definition_holds_from_its_year_until_a_later_one() {
        let mut c = Catalogue::builtin();
        assert!(c.applicable(LEIDEN, d("2019-12-31")).is_none());
        assert_eq!(c.applicable(LEIDEN, d("2023-12-31")).unwrap().0, 2020);
        let (year, criteria) = c.applicable(LEIDEN, d("2026-03-01")).unwrap();
        assert_eq!(year, 2024);
        assert_eq!(criteria.len(), 5);
        c.set(
            LEIDEN,
            2026,
            vec![super::c("thuistaal-niet-nederlands", "x")],
        );
        assert_eq!(c.applicable(LEIDEN, d("2025-12-31")).unwrap().0, 2024);
        assert_eq!(c.applicable(LEIDEN, d("2026-01-01")).unwrap().1.len(), 1);
        // Another municipality's definitions never apply.
        assert!(c.applicable("0363", d("2026-01-01")).is_none());
        assert_eq!(
            c.applicable(LEIDSCHENDAM_VOORBURG, d("2026-01-01"))
                .unwrap()
                .0,
            2023
        );
    }
}

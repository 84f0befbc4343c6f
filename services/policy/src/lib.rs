#![doc = include_str!("../README.md")]

use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::problem::Problem;

mod casework;
mod handover;
mod privacy;
mod registry;
mod vve;

/// Whether an action changes state or reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Command,
    Query,
}

/// Who may perform one action.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// `<domain>.<kebab-name>`, e.g. `vve.kind-inschrijven`.
    pub action: &'static str,
    pub kind: ActionKind,
    pub allowed: &'static [OrganisationType],
    /// Roles that may act; `None` means every role of an allowed organisation type.
    pub roles: Option<&'static [&'static str]>,
    /// The purpose of use recorded for this action.
    pub purpose: Purpose,
    /// The data-dependent scope the owning service enforces, in words.
    pub scope: &'static str,
}

/// Which data categories a view may show to one organisation type.
#[derive(Debug, Clone, Copy)]
pub struct Disclosure {
    /// The view's name (the query action without domain), e.g. `vve.werklijst`.
    pub view: &'static str,
    pub organisation_type: OrganisationType,
    pub categories: &'static [DataCategory],
    /// Aggregates only: the view never returns a row about one person.
    pub aggregate_only: bool,
}

/// Every rule of every domain.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    vve::RULES
        .iter()
        .chain(handover::RULES)
        .chain(casework::RULES)
        .chain(privacy::RULES)
        .chain(registry::RULES)
}

/// Every disclosure entry of every domain.
pub fn disclosures() -> impl Iterator<Item = &'static Disclosure> {
    vve::DISCLOSURES
        .iter()
        .chain(handover::DISCLOSURES)
        .chain(casework::DISCLOSURES)
        .chain(privacy::DISCLOSURES)
        .chain(registry::DISCLOSURES)
}

/// The rule for an action, if it exists.
pub fn rule(action: &str) -> Option<&'static Rule> {
    rules().find(|r| r.action == action)
}

/// Why an actor may not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    UnknownAction,
    OrganisationType,
    Role,
}

impl Denied {
    pub fn to_problem(&self) -> Problem {
        match self {
            Denied::UnknownAction => Problem::forbidden("Deze handeling is niet toegestaan."),
            Denied::OrganisationType => {
                Problem::forbidden("Uw organisatie mag deze handeling niet uitvoeren.")
            }
            Denied::Role => Problem::forbidden("Uw rol mag deze handeling niet uitvoeren."),
        }
    }
}

/// Checks an actor against the rule of an action.
pub fn authorize(actor: &Actor, action: &str) -> Result<&'static Rule, Denied> {
    let rule = rule(action).ok_or(Denied::UnknownAction)?;
    if !rule.allowed.contains(&actor.organisation_type) {
        return Err(Denied::OrganisationType);
    }
    if let Some(roles) = rule.roles {
        if !roles.contains(&actor.role.as_str()) {
            return Err(Denied::Role);
        }
    }
    Ok(rule)
}

/// Whether the policy lets `actor` perform `action`.
pub fn is_allowed(actor: &Actor, action: &str) -> bool {
    authorize(actor, action).is_ok()
}

/// Every role any rule names, sorted and without duplicates (for the authorisation matrix).
pub fn roles_named() -> Vec<&'static str> {
    let mut roles: Vec<&'static str> = rules()
        .filter_map(|r| r.roles)
        .flat_map(|r| r.iter().copied())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// `authorize` as a problem, for handlers.
pub fn require(actor: &Actor, action: &str) -> Result<&'static Rule, Problem> {
    authorize(actor, action).map_err(|d| d.to_problem())
}

/// The categories `view` may show to `organisation_type` (empty: nothing).
pub fn allowed_categories(
    view: &str,
    organisation_type: OrganisationType,
) -> &'static [DataCategory] {
    disclosures()
        .find(|d| d.view == view && d.organisation_type == organisation_type)
        .map(|d| d.categories)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in rules() {
            assert!(seen.insert(r.action), "duplicate rule {}", r.action);
            let (domain, name) = r.action.split_once('.').expect("domain.name");
            assert!(!domain.is_empty() && !name.is_empty());
            assert!(name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert!(!r.allowed.is_empty(), "{} allows nobody", r.action);
        }
    }

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
    fn the_registry_is_open_to_partners_not_to_the_privacy_officer() {
        let jgz = actor(OrganisationType::Jgz, "jeugdverpleegkundige");
        let fg = actor(OrganisationType::Privacyfunctionaris, "privacyfunctionaris");
        assert!(is_allowed(&jgz, "registry.sociale-kaart-raadplegen"));
        assert_eq!(
            authorize(&fg, "registry.sociale-kaart-raadplegen").unwrap_err(),
            Denied::OrganisationType
        );
        assert!(is_allowed(&fg, "registry.wijken-raadplegen"));
        assert_eq!(
            authorize(&jgz, "registry.bestaat-niet").unwrap_err(),
            Denied::UnknownAction
        );
        assert_eq!(
            require(&fg, "registry.organisatie-raadplegen")
                .unwrap_err()
                .status,
            403
        );
    }

    #[test]
    fn roles_named_are_sorted_and_unique() {
        let roles = roles_named();
        let mut sorted = roles.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(roles, sorted);
    }

    #[test]
    fn the_municipality_only_sees_aggregates() {
        for d in disclosures().filter(|d| d.organisation_type == OrganisationType::Gemeente) {
            assert!(
                d.aggregate_only,
                "{} shows rows to the municipality",
                d.view
            );
        }
    }
}

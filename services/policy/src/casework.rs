//! Policy rows of the casework domain ("1 gezin 1 plan"): a youth team opens and directs a
//! family's case; the organisations around the family take part; each sees the parts of the plan
//! the parents consented to, checked by the views at every query; the municipality sees
//! aggregates only.

use kansrijk_proto::actor::{OrganisationType as O, Purpose};
use kansrijk_proto::category::DataCategory as C;

use crate::{ActionKind, Disclosure, Rule};

/// Organisation types that can take part in a family's case.
const PARTNERS: &[O] = &[
    O::Jgz,
    O::Kinderopvang,
    O::Basisschool,
    O::VoortgezetOnderwijs,
    O::Jeugdteam,
];

const DIRECTOR: &str = "only the organisation that directs the case (it opened it), for cases in the actor's municipality";

const fn director(action: &'static str) -> Rule {
    Rule {
        action,
        kind: ActionKind::Command,
        allowed: &[O::Jeugdteam],
        roles: None,
        purpose: Purpose::Casusregie,
        scope: DIRECTOR,
    }
}

const fn involved(action: &'static str, scope: &'static str) -> Rule {
    Rule {
        action,
        kind: ActionKind::Command,
        allowed: PARTNERS,
        roles: None,
        purpose: Purpose::Casusregie,
        scope,
    }
}

pub(crate) static RULES: &[Rule] = &[
    Rule {
        action: "casework.casus-openen",
        kind: ActionKind::Command,
        allowed: &[O::Jeugdteam],
        roles: None,
        purpose: Purpose::Casusregie,
        scope: "families in the actor's municipality; the actor's organisation directs the case",
    },
    director("casework.deelnemer-toevoegen"),
    director("casework.deelnemer-verwijderen"),
    director("casework.toestemming-registreren"),
    director("casework.toestemming-intrekken"),
    director("casework.sterke-punten-vastleggen"),
    director("casework.zorg-vastleggen"),
    director("casework.netwerk-vastleggen"),
    director("casework.doel-stellen"),
    director("casework.doelstatus-wijzigen"),
    director("casework.actie-toewijzen"),
    involved(
        "casework.actiestatus-wijzigen",
        "the organisation the action is assigned to, or the directing organisation",
    ),
    director("casework.plan-vaststellen"),
    director("casework.evaluatie-plannen"),
    director("casework.evaluatie-vastleggen"),
    involved(
        "casework.uren-registreren",
        "the actor's own organisation's hours, when it directs or takes part in the case",
    ),
    director("casework.urenbudget-vaststellen"),
    involved(
        "casework.veilig-thuis-melden",
        "the directing organisation or an active participant (Wet meldcode); parties must take part",
    ),
    director("casework.veiligheidsplan-vastleggen"),
    director("casework.casus-sluiten"),
    Rule {
        action: "casework.werklijst",
        kind: ActionKind::Query,
        allowed: &[O::Jeugdteam],
        roles: None,
        purpose: Purpose::Casusregie,
        scope: "the cases the actor's organisation directs, in the actor's municipality",
    },
    Rule {
        action: "casework.acties",
        kind: ActionKind::Query,
        allowed: PARTNERS,
        roles: None,
        purpose: Purpose::Casusregie,
        scope: "actions assigned to the actor's organisation, only in cases where it directs or holds a valid consent for doelen-acties on the day of the query",
    },
    Rule {
        action: "casework.casus",
        kind: ActionKind::Query,
        allowed: PARTNERS,
        roles: None,
        purpose: Purpose::Casusregie,
        scope: "directing organisation: the whole plan; active participant: the parts its valid consents cover on the day of the query; escalation party: the safety part (break-glass, logged); otherwise only that the case exists and who directs it",
    },
    Rule {
        action: "casework.inzage",
        kind: ActionKind::Query,
        allowed: &[O::Privacyfunctionaris],
        roles: None,
        purpose: Purpose::Privacytoezicht,
        scope: "the casework part of an AVG art. 15 request about one family, in the officer's municipality; logged as an export",
    },
    Rule {
        action: "casework.monitor",
        kind: ActionKind::Query,
        allowed: &[O::Gemeente],
        roles: None,
        purpose: Purpose::Beleidsmonitoring,
        scope: "aggregates of the actor's own municipality, small cells suppressed",
    },
];

/// Every category a case view can hold; the consent scope narrows it per case and per day.
const CASE_VIEW: &[C] = &[
    C::Administrative,
    C::Identifying,
    C::DevelopmentEducation,
    C::Health,
    C::Safety,
];

const fn case_view(organisation_type: O) -> Disclosure {
    Disclosure {
        view: "casework.casus",
        organisation_type,
        categories: CASE_VIEW,
        aggregate_only: false,
    }
}

const fn actions_view(organisation_type: O) -> Disclosure {
    Disclosure {
        view: "casework.acties",
        organisation_type,
        categories: &[C::Administrative, C::DevelopmentEducation],
        aggregate_only: false,
    }
}

pub(crate) static DISCLOSURES: &[Disclosure] = &[
    Disclosure {
        view: "casework.werklijst",
        organisation_type: O::Jeugdteam,
        categories: &[C::Administrative, C::Identifying],
        aggregate_only: false,
    },
    actions_view(O::Jgz),
    actions_view(O::Kinderopvang),
    actions_view(O::Basisschool),
    actions_view(O::VoortgezetOnderwijs),
    actions_view(O::Jeugdteam),
    case_view(O::Jgz),
    case_view(O::Kinderopvang),
    case_view(O::Basisschool),
    case_view(O::VoortgezetOnderwijs),
    case_view(O::Jeugdteam),
    Disclosure {
        view: "casework.inzage",
        organisation_type: O::Privacyfunctionaris,
        categories: &C::ALL,
        aggregate_only: false,
    },
    Disclosure {
        view: "casework.monitor",
        organisation_type: O::Gemeente,
        categories: &[C::Administrative],
        aggregate_only: true,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use kansrijk_proto::casework::subjects;

    #[test]
    fn every_command_and_query_subject_has_a_rule() {
        for s in subjects::COMMANDS.iter().chain(&[
            subjects::QUERY_CASELOAD,
            subjects::QUERY_ACTIONS,
            subjects::QUERY_CASE,
            subjects::QUERY_MONITOR,
        ]) {
            let action = subjects::action(s).unwrap();
            assert!(
                RULES.iter().any(|r| r.action == action),
                "no rule for {action}"
            );
        }
    }

    #[test]
    fn the_municipality_never_takes_part_in_a_case() {
        for r in RULES
            .iter()
            .filter(|r| !matches!(r.action, "casework.monitor" | "casework.inzage"))
        {
            assert!(!r.allowed.contains(&O::Gemeente), "{}", r.action);
        }
    }
}

//! Policy rows of the vve domain: JGZ keeps the child's record up to indication, referral and
//! outreach; childcare locations handle referrals and placements at their own location; the
//! municipality sets its target-group definitions and sees the quarterly monitor as aggregates.

use kansrijk_proto::actor::{OrganisationType as O, Purpose};
use kansrijk_proto::category::DataCategory as C;

use crate::{ActionKind, Disclosure, Rule};

const JGZ_CHILD: &str =
    "only children registered with the actor's JGZ organisation, in the actor's municipality";
const OWN_LOCATION: &str = "only referrals to and placements at the actor's own location (organisation = LRK number), in the actor's municipality";

const fn jgz(action: &'static str) -> Rule {
    Rule {
        action,
        kind: ActionKind::Command,
        allowed: &[O::Jgz],
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: JGZ_CHILD,
    }
}

const fn childcare(action: &'static str) -> Rule {
    Rule {
        action,
        kind: ActionKind::Command,
        allowed: &[O::Kinderopvang],
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: OWN_LOCATION,
    }
}

pub(crate) static RULES: &[Rule] = &[
    Rule {
        action: "vve.kind-inschrijven",
        kind: ActionKind::Command,
        allowed: &[O::Jgz],
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "children living in the actor's municipality; the actor's organisation becomes the child's JGZ organisation",
    },
    jgz("vve.indicatie-afgeven"),
    jgz("vve.indicatie-intrekken"),
    jgz("vve.doorverwijzen"),
    jgz("vve.toeleidingspoging-registreren"),
    jgz("vve.afzien-registreren"),
    jgz("vve.verhuizing-registreren"),
    childcare("vve.verwijzing-accepteren"),
    childcare("vve.wachtlijst-plaatsen"),
    childcare("vve.plaatsing-starten"),
    childcare("vve.uren-wijzigen"),
    childcare("vve.plaatsing-beeindigen"),
    childcare("vve.aanwezigheid-registreren"),
    Rule {
        action: "vve.doelgroepdefinitie-vaststellen",
        kind: ActionKind::Command,
        allowed: &[O::Gemeente],
        roles: None,
        purpose: Purpose::Beleidsmonitoring,
        scope: "only the actor's own municipality",
    },
    Rule {
        action: "vve.doelgroepdefinities",
        kind: ActionKind::Query,
        allowed: &[O::Jgz, O::Kinderopvang, O::Gemeente],
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: "the definitions of the actor's own municipality (no personal data)",
    },
    Rule {
        action: "vve.inzage",
        kind: ActionKind::Query,
        allowed: &[O::Privacyfunctionaris],
        roles: None,
        purpose: Purpose::Privacytoezicht,
        scope: "the VVE part of an AVG art. 15 request about one child, in the officer's municipality; logged as an export",
    },
    Rule {
        action: "vve.werklijst",
        kind: ActionKind::Query,
        allowed: &[O::Jgz],
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: JGZ_CHILD,
    },
    Rule {
        action: "vve.kinderopvang",
        kind: ActionKind::Query,
        allowed: &[O::Kinderopvang],
        roles: None,
        purpose: Purpose::Zorgverlening,
        scope: OWN_LOCATION,
    },
    Rule {
        action: "vve.monitor",
        kind: ActionKind::Query,
        allowed: &[O::Gemeente],
        roles: None,
        purpose: Purpose::Beleidsmonitoring,
        scope: "aggregates of the actor's own municipality, small cells suppressed",
    },
    Rule {
        action: "vve.monitor-export",
        kind: ActionKind::Query,
        allowed: &[O::Gemeente],
        roles: None,
        purpose: Purpose::Beleidsmonitoring,
        scope: "aggregates of the actor's own municipality, small cells suppressed",
    },
];

pub(crate) static DISCLOSURES: &[Disclosure] = &[
    Disclosure {
        view: "vve.werklijst",
        organisation_type: O::Jgz,
        categories: &[C::Administrative, C::Identifying, C::Contact, C::Health],
        aggregate_only: false,
    },
    Disclosure {
        view: "vve.kinderopvang",
        organisation_type: O::Kinderopvang,
        categories: &[C::Administrative, C::Identifying],
        aggregate_only: false,
    },
    Disclosure {
        view: "vve.monitor",
        organisation_type: O::Gemeente,
        categories: &[C::Administrative],
        aggregate_only: true,
    },
    Disclosure {
        view: "vve.monitor-export",
        organisation_type: O::Gemeente,
        categories: &[C::Administrative],
        aggregate_only: true,
    },
    Disclosure {
        view: "vve.doelgroepdefinities",
        organisation_type: O::Gemeente,
        categories: &[C::Administrative],
        aggregate_only: true,
    },
    Disclosure {
        view: "vve.doelgroepdefinities",
        organisation_type: O::Jgz,
        categories: &[C::Administrative],
        aggregate_only: true,
    },
    Disclosure {
        view: "vve.doelgroepdefinities",
        organisation_type: O::Kinderopvang,
        categories: &[C::Administrative],
        aggregate_only: true,
    },
];

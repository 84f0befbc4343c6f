//! Policy rows of the handover domain: the childcare location writes the preschool file and
//! records the parents' say; the primary school writes the PO-VO file; only the school the file
//! was sent to (the child's enrolment school) receives, confirms and reports back; the
//! municipality sees aggregates only.

use kansrijk_proto::actor::{OrganisationType as O, Purpose};
use kansrijk_proto::category::DataCategory as C;

use crate::{ActionKind, Disclosure, Rule};

const OWN_FILE: &str =
    "only files the actor's own organisation (LRK number or BRIN + vestiging) drew up";
const ADDRESSED: &str = "only files sent to the actor's own school location (BRIN + vestiging), preschool files only with the parents' consent";
const SENDER_OR_RECEIVER: &str = "the file's sender or the school it was sent to";

const fn cmd(action: &'static str, allowed: &'static [O], scope: &'static str) -> Rule {
    Rule {
        action,
        kind: ActionKind::Command,
        allowed,
        roles: None,
        purpose: Purpose::Overdracht,
        scope,
    }
}

const fn query(action: &'static str, allowed: &'static [O], scope: &'static str) -> Rule {
    Rule {
        action,
        kind: ActionKind::Query,
        allowed,
        roles: None,
        purpose: Purpose::Overdracht,
        scope,
    }
}

const CHILDCARE: &[O] = &[O::Kinderopvang];
const PRIMARY: &[O] = &[O::Basisschool];
const SENDERS: &[O] = &[O::Kinderopvang, O::Basisschool];
const RECEIVERS: &[O] = &[O::Basisschool, O::VoortgezetOnderwijs];
const ALL_SCHOOLS: &[O] = &[O::Kinderopvang, O::Basisschool, O::VoortgezetOnderwijs];

pub(crate) static RULES: &[Rule] = &[
    cmd(
        "handover.formulier-opstellen",
        CHILDCARE,
        "the actor's location becomes the sender, in the actor's municipality",
    ),
    cmd("handover.formulier-wijzigen", CHILDCARE, OWN_FILE),
    cmd("handover.toestemming-geven", CHILDCARE, OWN_FILE),
    cmd("handover.toestemming-weigeren", CHILDCARE, OWN_FILE),
    cmd(
        "handover.oso-dossier-aanmaken",
        PRIMARY,
        "the actor's school location becomes the sender, in the actor's municipality",
    ),
    cmd(
        "handover.oso-dossier-importeren",
        PRIMARY,
        "the actor's school location becomes the sender, in the actor's municipality",
    ),
    cmd("handover.oso-dossier-bijwerken", PRIMARY, OWN_FILE),
    cmd("handover.oso-dossier-exporteren", PRIMARY, OWN_FILE),
    cmd("handover.voorlopig-advies-geven", PRIMARY, OWN_FILE),
    cmd("handover.toetsuitslag-registreren", PRIMARY, OWN_FILE),
    cmd("handover.advies-heroverwegen", PRIMARY, OWN_FILE),
    cmd("handover.definitief-advies-geven", PRIMARY, OWN_FILE),
    cmd("handover.ouders-informeren", SENDERS, OWN_FILE),
    cmd("handover.reactie-ouders-toevoegen", SENDERS, OWN_FILE),
    cmd("handover.inschrijving-registreren", SENDERS, OWN_FILE),
    cmd(
        "handover.dossier-verzenden",
        SENDERS,
        "own files, only to the school of the recorded enrolment",
    ),
    cmd("handover.ontvangst-bevestigen", RECEIVERS, ADDRESSED),
    cmd(
        "handover.warme-overdracht-plannen",
        ALL_SCHOOLS,
        SENDER_OR_RECEIVER,
    ),
    cmd(
        "handover.warme-overdracht-registreren",
        ALL_SCHOOLS,
        SENDER_OR_RECEIVER,
    ),
    cmd(
        "handover.positie-leerjaar-3-melden",
        &[O::VoortgezetOnderwijs],
        ADDRESSED,
    ),
    query("handover.uitgaand", SENDERS, OWN_FILE),
    query("handover.inbox", RECEIVERS, ADDRESSED),
    query("handover.dossier", ALL_SCHOOLS, SENDER_OR_RECEIVER),
    Rule {
        action: "handover.inzage",
        kind: ActionKind::Query,
        allowed: &[O::Privacyfunctionaris],
        roles: None,
        purpose: Purpose::Privacytoezicht,
        scope: "the handover files about one subject (a file, or the child a file refers to) for an AVG art. 15 request; logged as an export",
    },
    Rule {
        action: "handover.monitor",
        kind: ActionKind::Query,
        allowed: &[O::Gemeente],
        roles: None,
        purpose: Purpose::Beleidsmonitoring,
        scope: "aggregates of the actor's own municipality, small cells suppressed",
    },
];

pub(crate) static DISCLOSURES: &[Disclosure] = &[
    Disclosure {
        view: "handover.uitgaand",
        organisation_type: O::Kinderopvang,
        categories: &[C::Administrative, C::Identifying],
        aggregate_only: false,
    },
    Disclosure {
        view: "handover.uitgaand",
        organisation_type: O::Basisschool,
        categories: &[C::Administrative, C::Identifying, C::DevelopmentEducation],
        aggregate_only: false,
    },
    Disclosure {
        view: "handover.inbox",
        organisation_type: O::Basisschool,
        categories: &[C::Administrative, C::Identifying],
        aggregate_only: false,
    },
    Disclosure {
        view: "handover.inbox",
        organisation_type: O::VoortgezetOnderwijs,
        categories: &[C::Administrative, C::Identifying],
        aggregate_only: false,
    },
    Disclosure {
        view: "handover.dossier",
        organisation_type: O::Kinderopvang,
        categories: &[
            C::Administrative,
            C::Identifying,
            C::DevelopmentEducation,
            C::Safety,
        ],
        aggregate_only: false,
    },
    Disclosure {
        view: "handover.dossier",
        organisation_type: O::Basisschool,
        categories: &[
            C::Administrative,
            C::Identifying,
            C::DevelopmentEducation,
            C::Safety,
        ],
        aggregate_only: false,
    },
    Disclosure {
        view: "handover.dossier",
        organisation_type: O::VoortgezetOnderwijs,
        categories: &[
            C::Administrative,
            C::Identifying,
            C::DevelopmentEducation,
            C::Safety,
        ],
        aggregate_only: false,
    },
    Disclosure {
        view: "handover.monitor",
        organisation_type: O::Gemeente,
        categories: &[C::Administrative, C::DevelopmentEducation],
        aggregate_only: true,
    },
];

//! Policy rows of the privacy domain.
//!
//! The internal API (keys, pseudonyms, access-log appends, retention registration, and placing or
//! lifting a hold on behalf of casework) is for service identities (role `dienst`, see
//! `kansrijk_runtime::identity`), which the privacy service checks against its list of key
//! clients; the rows below with role `dienst` document that. What users may do is the privacy
//! officer's work.
//!
//! The register of requests (AVG art. 15 and 17): staff of the partner organisations file an
//! erasure or subject-access request on behalf of the parents (or the child), and so does the
//! privacy officer; only the officer decides them and lists them.

use kansrijk_proto::actor::OrganisationType::{self, Privacyfunctionaris};
use kansrijk_proto::actor::Purpose::Privacytoezicht;
use kansrijk_proto::category::DataCategory;

use crate::{ActionKind, Disclosure, Rule};

const OFFICER: &[OrganisationType] = &[Privacyfunctionaris];
const SERVICES: Option<&[&str]> = Some(&["dienst"]);
/// Who may file a request: every organisation type that holds personal data of children (the
/// municipality sees aggregates only, so it holds none) and the privacy officer.
const FILERS: &[OrganisationType] = &[
    OrganisationType::Jgz,
    OrganisationType::Kinderopvang,
    OrganisationType::Basisschool,
    OrganisationType::VoortgezetOnderwijs,
    OrganisationType::Jeugdteam,
    Privacyfunctionaris,
];

pub(crate) static RULES: &[Rule] = &[
    Rule {
        action: "privacy.betrokkene-wissen",
        kind: ActionKind::Command,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Refused (409 bewaarplicht) while a legal hold is in place; an erased subject stays erased.",
    },
    Rule {
        action: "privacy.bewaarplicht-opleggen",
        kind: ActionKind::Command,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Also the casework service on its own behalf (a Veilig Thuis escalation).",
    },
    Rule {
        action: "privacy.bewaarplicht-opheffen",
        kind: ActionKind::Command,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Also the casework service on its own behalf (the escalation was closed).",
    },
    Rule {
        action: "privacy.bewaartermijn-registreren",
        kind: ActionKind::Command,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Normally the domain services on their own behalf, when a retention period starts.",
    },
    Rule {
        action: "privacy.inzageverzoek",
        kind: ActionKind::Query,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "One subject at a time; logged as an export in the access log.",
    },
    Rule {
        action: "privacy.inzage",
        kind: ActionKind::Query,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "The privacy service's own part of a subject access request.",
    },
    Rule {
        action: "privacy.toegangslog",
        kind: ActionKind::Query,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Every query of the log is itself logged.",
    },
    Rule {
        action: "privacy.toegangslog-controleren",
        kind: ActionKind::Query,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Verifies the hash chain.",
    },
    Rule {
        action: "privacy.verwijderverzoek-indienen",
        kind: ActionKind::Command,
        allowed: FILERS,
        roles: None,
        purpose: Privacytoezicht,
        scope: "A subject of the actor's municipality (else 404, never a new request); staff only \
                for a subject their organisation holds data of (an access-log entry of the \
                organisation about the subject), the officer for every subject.",
    },
    Rule {
        action: "privacy.inzageverzoek-indienen",
        kind: ActionKind::Command,
        allowed: FILERS,
        roles: None,
        purpose: Privacytoezicht,
        scope: "As privacy.verwijderverzoek-indienen.",
    },
    Rule {
        action: "privacy.verwijderverzoek-besluiten",
        kind: ActionKind::Command,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Requests of the officer's municipality. Executing erases the subject; under a \
                legal hold it is refused (409 bewaarplicht) and the request stays open with the \
                refusal recorded, until the hold is lifted or the officer rejects it.",
    },
    Rule {
        action: "privacy.inzageverzoek-besluiten",
        kind: ActionKind::Command,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "Requests of the officer's municipality. Executing assembles the subject-access \
                document from every service (an export in the access log); incomplete: 503.",
    },
    Rule {
        action: "privacy.verwijderverzoeken",
        kind: ActionKind::Query,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "The officer's municipality only; open requests first, overdue ones flagged.",
    },
    Rule {
        action: "privacy.inzageverzoeken",
        kind: ActionKind::Query,
        allowed: OFFICER,
        roles: None,
        purpose: Privacytoezicht,
        scope: "The officer's municipality only; open requests first, overdue ones flagged.",
    },
    Rule {
        action: "privacy.statistiek",
        kind: ActionKind::Query,
        allowed: &[OrganisationType::Gemeente, Privacyfunctionaris],
        roles: None,
        purpose: Privacytoezicht,
        scope: "Totals only, small counts suppressed.",
    },
    Rule {
        action: "privacy.sleutels",
        kind: ActionKind::Query,
        allowed: &OrganisationType::ALL,
        roles: SERVICES,
        purpose: Privacytoezicht,
        scope: "Service identities in the privacy service's key-client list only (create and fetch keys).",
    },
    Rule {
        action: "privacy.pseudoniem",
        kind: ActionKind::Query,
        allowed: &OrganisationType::ALL,
        roles: SERVICES,
        purpose: Privacytoezicht,
        scope: "Service identities in the key-client list only.",
    },
    Rule {
        action: "privacy.toegangslog-schrijven",
        kind: ActionKind::Command,
        allowed: &OrganisationType::ALL,
        roles: SERVICES,
        purpose: Privacytoezicht,
        scope: "Service identities in the key-client list only; answered after commit.",
    },
];

pub(crate) static DISCLOSURES: &[Disclosure] = &[
    Disclosure {
        view: "privacy.verwijderverzoeken",
        organisation_type: Privacyfunctionaris,
        categories: &[DataCategory::Administrative],
        aggregate_only: false,
    },
    Disclosure {
        view: "privacy.inzageverzoeken",
        organisation_type: Privacyfunctionaris,
        categories: &[DataCategory::Administrative],
        aggregate_only: false,
    },
    Disclosure {
        view: "privacy.toegangslog",
        organisation_type: Privacyfunctionaris,
        categories: &[DataCategory::Administrative],
        aggregate_only: false,
    },
    Disclosure {
        view: "privacy.inzageverzoek",
        organisation_type: Privacyfunctionaris,
        categories: &DataCategory::ALL,
        aggregate_only: false,
    },
    Disclosure {
        view: "privacy.statistiek",
        organisation_type: OrganisationType::Gemeente,
        categories: &[DataCategory::Administrative],
        aggregate_only: true,
    },
    Disclosure {
        view: "privacy.statistiek",
        organisation_type: Privacyfunctionaris,
        categories: &[DataCategory::Administrative],
        aggregate_only: true,
    },
];

//! Who sends a command or asks a query: derived by the gateway from the bearer token and sent
//! along in the `Kansrijk-Actor` header. Services and views authorise against it themselves.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Header carrying the JSON-encoded [`Actor`] on every NATS request.
pub const ACTOR_HEADER: &str = "Kansrijk-Actor";
/// Header carrying the W3C trace context.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Header carrying the idempotency key (the command id) of a command.
pub const COMMAND_ID_HEADER: &str = "Kansrijk-Command-Id";

/// The kinds of organisation that take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OrganisationType {
    Jgz,
    Kinderopvang,
    Basisschool,
    VoortgezetOnderwijs,
    Jeugdteam,
    Gemeente,
    Privacyfunctionaris,
}

impl OrganisationType {
    pub const ALL: [OrganisationType; 7] = [
        OrganisationType::Jgz,
        OrganisationType::Kinderopvang,
        OrganisationType::Basisschool,
        OrganisationType::VoortgezetOnderwijs,
        OrganisationType::Jeugdteam,
        OrganisationType::Gemeente,
        OrganisationType::Privacyfunctionaris,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationType::Jgz => "jgz",
            OrganisationType::Kinderopvang => "kinderopvang",
            OrganisationType::Basisschool => "basisschool",
            OrganisationType::VoortgezetOnderwijs => "voortgezet-onderwijs",
            OrganisationType::Jeugdteam => "jeugdteam",
            OrganisationType::Gemeente => "gemeente",
            OrganisationType::Privacyfunctionaris => "privacyfunctionaris",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Purpose of use (doelbinding), recorded in the access log with every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Care and education of the child itself.
    Zorgverlening,
    /// Transition of a child between settings.
    Overdracht,
    /// Coordinating a family plan.
    Casusregie,
    /// Policy monitoring on aggregates.
    Beleidsmonitoring,
    /// Privacy supervision: erasure, access requests, audits.
    Privacytoezicht,
}

/// The authenticated party behind a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// Pairwise pseudonym of the person (the token's `sub`), never a BSN.
    pub person: String,
    /// Organisation id: OIN, KvK, BRIN(+vestiging) or LRK number.
    pub organisation: String,
    pub organisation_type: OrganisationType,
    /// Role within the organisation, e.g. `jeugdverpleegkundige`, `leerkracht`, `regisseur`.
    pub role: String,
    /// CBS municipality code (four digits) the actor works for.
    pub municipality: String,
    pub purpose: Purpose,
}

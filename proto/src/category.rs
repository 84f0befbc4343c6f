//! Data categories. Every field of every payload declares one in its JSON Schema under
//! [`CATEGORY_KEY`]; views declare per partner type and purpose which categories they may show.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema keyword under which a field's category is recorded.
pub const CATEGORY_KEY: &str = "x-data-category";

/// What kind of data a field holds, from least to most sensitive in practice.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DataCategory {
    /// Ids, dates of process steps, statuses, organisation references: no personal content.
    Administrative,
    /// Identifies a person: BSN, name, birth date.
    Identifying,
    /// Reaches a person: address, postcode, phone, e-mail.
    Contact,
    /// Development and education: observations, advice, test results, support needs.
    DevelopmentEducation,
    /// Health: indications and their medical or developmental grounds.
    Health,
    /// Safety: child-protection concerns, escalations, safety plans.
    Safety,
}

impl DataCategory {
    pub const ALL: [DataCategory; 6] = [
        DataCategory::Administrative,
        DataCategory::Identifying,
        DataCategory::Contact,
        DataCategory::DevelopmentEducation,
        DataCategory::Health,
        DataCategory::Safety,
    ];

    /// The kebab-case name used in schemas and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCategory::Administrative => "administrative",
            DataCategory::Identifying => "identifying",
            DataCategory::Contact => "contact",
            DataCategory::DevelopmentEducation => "development-education",
            DataCategory::Health => "health",
            DataCategory::Safety => "safety",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

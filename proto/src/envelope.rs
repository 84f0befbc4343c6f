//! The CloudEvents 1.0 envelope, NL GOV profile. Context attributes carry no personal data:
//! `subject` is the pseudonymous stream id (a random UUID), and the payload's personal fields are
//! sealed with the data subject's key.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// Base URI of the published JSON Schemas (`dataschema` = base + type + `.json`).
pub const SCHEMA_BASE_URI: &str = "https://kansrijk.nl/schemas/";

/// A CloudEvent as stored, published and consumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudEvent {
    /// Always `"1.0"`.
    pub specversion: String,
    pub id: Uuid,
    pub source: Source,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Logging time: when the event was recorded.
    pub time: DateTime<Utc>,
    /// The pseudonymous id of the stream (aggregate) the event belongs to.
    pub subject: Uuid,
    pub datacontenttype: String,
    pub dataschema: String,
    /// The event's version within its stream, as a decimal string (CloudEvents `sequence`).
    pub sequence: String,
    /// Extension: CBS code of the municipality (tenant) the event belongs to.
    pub gemeente: String,
    /// Extension: the kind of stream, e.g. `kind`, `overdracht`, `casus`.
    pub streamtype: String,
    pub data: serde_json::Value,
}

impl CloudEvent {
    /// The stream version carried in `sequence`.
    pub fn stream_version(&self) -> Option<i64> {
        self.sequence.parse().ok()
    }
}

/// `urn:nld:oin:<OIN>:systeem:<name>` (or `urn:nld:kvk:<KvK>:systeem:<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event source: {0}")]
pub struct InvalidSource(&'static str);

impl Source {
    pub fn new(register: &str, number: &str, system: &str) -> Result<Self, InvalidSource> {
        let digits = match register {
            "oin" => 20,
            "kvk" => 8,
            _ => return Err(InvalidSource("register must be oin or kvk")),
        };
        if number.len() != digits || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidSource(
                "organisation number has the wrong length or is not numeric",
            ));
        }
        if system.is_empty()
            || !system
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(InvalidSource(
                "system name must be lowercase letters, digits and '-'",
            ));
        }
        Ok(Source(format!(
            "urn:nld:{register}:{number}:systeem:{system}"
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Source {
    type Err = InvalidSource;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            ["urn", "nld", register, number, "systeem", system] => {
                Source::new(register, number, system)
            }
            _ => Err(InvalidSource(
                "expected urn:nld:<oin|kvk>:<number>:systeem:<name>",
            )),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reverse-DNS event type with a version suffix: `nl.vve.kind-ingeschreven.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventType {
    name: String,
    version: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event type: {0}")]
pub struct InvalidEventType(&'static str);

impl EventType {
    pub fn new(name: &str, version: u16) -> Result<Self, InvalidEventType> {
        if version == 0 {
            return Err(InvalidEventType("version starts at 1"));
        }
        let segments: Vec<&str> = name.split('.').collect();
        if segments.len() < 3 {
            return Err(InvalidEventType(
                "needs at least three dot-separated segments",
            ));
        }
        if segments[0] != "nl" {
            return Err(InvalidEventType(
                "must start with the reverse-DNS root `nl`",
            ));
        }
        for seg in &segments {
            let ok = !seg.is_empty()
                && !seg.starts_with('-')
                && !seg.ends_with('-')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(InvalidEventType(
                    "segments are lowercase words joined by '-'",
                ));
            }
        }
        if segments.last().is_some_and(|s| is_version_segment(s)) {
            return Err(InvalidEventType("the version goes in the version field"));
        }
        Ok(EventType {
            name: name.to_owned(),
            version,
        })
    }

    /// The type without its version suffix.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> u16 {
        self.version
    }
}

/// `v` and a version number as it is printed: digits without a leading zero (`v01` would read
/// back as `v1`, so it is no version segment).
fn is_version_segment(s: &str) -> bool {
    s.len() > 1
        && s.starts_with('v')
        && !s[1..].starts_with('0')
        && s[1..].bytes().all(|b| b.is_ascii_digit())
}

impl FromStr for EventType {
    type Err = InvalidEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, version) = s
            .rsplit_once('.')
            .ok_or(InvalidEventType("missing version suffix"))?;
        if !is_version_segment(version) {
            return Err(InvalidEventType("missing version suffix `.vN`"));
        }
        let version: u16 = version[1..]
            .parse()
            .map_err(|_| InvalidEventType("version out of range"))?;
        EventType::new(name, version)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.v{}", self.name, self.version)
    }
}

macro_rules! string_serde {
    ($t:ty, $doc:literal, $pattern:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($t).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "description": $doc, "pattern": $pattern })
            }
        }
    };
}

string_serde!(
    Source,
    "urn:nld:<oin|kvk>:<number>:systeem:<name>",
    "^urn:nld:(oin:[0-9]{20}|kvk:[0-9]{8}):systeem:[a-z0-9-]+$"
);
string_serde!(
    EventType,
    "reverse-DNS event type with version suffix",
    "^nl(\\.[a-z0-9]+(-[a-z0-9]+)*)+\\.v[0-9]+$"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_profile_examples() {
        let t: EventType = "nl.vve.indicatie-afgegeven.v1".parse().unwrap();
        assert_eq!(t.name(), "nl.vve.indicatie-afgegeven");
        assert_eq!(t.version(), 1);
        assert!("nl.vve.indicatie-afgegeven".parse::<EventType>().is_err());
        assert!("com.vve.x.v1".parse::<EventType>().is_err());
        assert!("nl.Vve.x.v1".parse::<EventType>().is_err());
        assert!("nl.vve.x.v0".parse::<EventType>().is_err());
        let s: Source = "urn:nld:oin:00000001234567890000:systeem:kansrijk-vve"
            .parse()
            .unwrap();
        assert_eq!(
            s.to_string(),
            "urn:nld:oin:00000001234567890000:systeem:kansrijk-vve"
        );
        assert!("urn:nld:oin:123:systeem:x".parse::<Source>().is_err());
    }

    proptest! {
        #[test]
        fn event_type_roundtrips(segs in prop::collection::vec("[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}", 2..5), v in 1u16..) {
            prop_assume!(!segs.last().is_some_and(|s| is_version_segment(s)));
            let name = format!("nl.{}", segs.join("."));
            let t = EventType::new(&name, v).unwrap();
            let back: EventType = t.to_string().parse().unwrap();
            prop_assert_eq!(back, t);
        }

        #[test]
        fn event_type_parser_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<EventType>();
            let _ = s.parse::<Source>();
        }
    }
}

//! Typed, versioned event payloads and the sets they form per domain.
//!
//! A payload type implements [`Event`] (stable name, version). A domain groups its payloads in an
//! enum with [`event_set!`](crate::event_set), which gives it [`EventSet`]: the full type of each
//! variant, encoding to JSON and decoding from JSON, upcasting old versions first.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::category::{DataCategory, CATEGORY_KEY};
use crate::envelope::EventType;

/// One event payload at one version.
pub trait Event: Serialize + DeserializeOwned + JsonSchema {
    /// The stable reverse-DNS name without version, e.g. `nl.vve.kind-ingeschreven`.
    const NAME: &'static str;
    /// The current version of this payload.
    const VERSION: u16;

    fn event_type() -> EventType {
        EventType::new(Self::NAME, Self::VERSION)
            .expect("event names are checked by the schema test")
    }
}

/// Rewrites the data of an old version of an event into the next version.
#[derive(Debug, Clone, Copy)]
pub struct Upcaster {
    pub name: &'static str,
    /// The version this upcaster reads; it produces `from_version + 1`.
    pub from_version: u16,
    pub upcast: fn(Value) -> Result<Value, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {0}")]
    UnknownType(String),
    #[error("event {event_type} is newer than this code understands")]
    TooNew { event_type: String },
    #[error("no upcaster from {event_type}")]
    NoUpcaster { event_type: String },
    #[error("upcasting {event_type} failed: {reason}")]
    Upcast { event_type: String, reason: String },
    #[error("malformed {event_type}: {source}")]
    Malformed {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The JSON Schema of one event type at its current version.
#[derive(Debug, Clone)]
pub struct EventSchema {
    pub event_type: EventType,
    pub schema: Value,
}

impl EventSchema {
    pub fn of<E: Event>() -> Self {
        let schema = serde_json::to_value(schemars::schema_for!(E)).unwrap_or(Value::Null);
        EventSchema {
            event_type: E::event_type(),
            schema,
        }
    }

    /// File name under `proto/schemas/`.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.event_type)
    }

    /// Dotted paths of every property in the schema (nested objects, `$defs` and sealed
    /// plaintexts included) that does not declare a data category.
    pub fn fields_without_category(&self) -> Vec<String> {
        let mut missing = Vec::new();
        walk_properties(&self.schema, "", &mut |path, prop| {
            let declared = prop
                .get(CATEGORY_KEY)
                .and_then(Value::as_str)
                .and_then(DataCategory::parse);
            if declared.is_none() {
                missing.push(path.to_owned());
            }
        });
        missing
    }

    /// Every (path, category) declared in the schema.
    pub fn field_categories(&self) -> Vec<(String, DataCategory)> {
        let mut out = Vec::new();
        walk_properties(&self.schema, "", &mut |path, prop| {
            if let Some(c) = prop
                .get(CATEGORY_KEY)
                .and_then(Value::as_str)
                .and_then(DataCategory::parse)
            {
                out.push((path.to_owned(), c));
            }
        });
        out
    }
}

fn walk_properties(schema: &Value, prefix: &str, f: &mut dyn FnMut(&str, &Value)) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            f(&path, prop);
            walk_properties(prop, &path, f);
        }
    }
    for key in ["$defs", "definitions"] {
        if let Some(defs) = obj.get(key).and_then(Value::as_object) {
            for (name, def) in defs {
                walk_properties(def, &format!("#{name}"), f);
            }
        }
    }
    for key in ["x-sealed", "items"] {
        if let Some(inner) = obj.get(key) {
            walk_properties(inner, prefix, f);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = obj.get(key).and_then(Value::as_array) {
            for s in list {
                walk_properties(s, prefix, f);
            }
        }
    }
}

/// The events of one kind of stream, as one enum.
pub trait EventSet: Sized + Send + Sync + 'static {
    /// The kind of stream these events belong to (`streamtype` in the envelope).
    const STREAM_TYPE: &'static str;

    fn event_type(&self) -> EventType;
    fn to_data(&self) -> serde_json::Result<Value>;
    /// Decodes stored or received data, upcasting older versions first.
    fn decode(event_type: &EventType, data: Value) -> Result<Self, DecodeError>;
    fn schemas() -> Vec<EventSchema>;
    fn upcasters() -> &'static [Upcaster];
}

/// Brings `data` of `event_type` up to `current` by the chain of upcasters.
pub fn upcast(
    upcasters: &[Upcaster],
    event_type: &EventType,
    current: u16,
    mut data: Value,
) -> Result<Value, DecodeError> {
    if event_type.version() > current {
        return Err(DecodeError::TooNew {
            event_type: event_type.to_string(),
        });
    }
    let mut version = event_type.version();
    while version < current {
        let step = upcasters
            .iter()
            .find(|u| u.name == event_type.name() && u.from_version == version)
            .ok_or_else(|| DecodeError::NoUpcaster {
                event_type: format!("{}.v{version}", event_type.name()),
            })?;
        data = (step.upcast)(data).map_err(|reason| DecodeError::Upcast {
            event_type: format!("{}.v{version}", event_type.name()),
            reason,
        })?;
        version += 1;
    }
    Ok(data)
}

/// Declares an enum of event payloads and implements [`EventSet`] for it.
///
/// ```text
/// event_set! {
///     /// Events of a child's stream.
///     pub enum ChildEvent: "kind" {
///         Registered(ChildRegistered),
///         Indicated(IndicationIssued),
///     }
///     upcasters = &[];
/// }
/// ```
#[macro_export]
macro_rules! event_set {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $stream:literal {
            $($variant:ident($payload:ty)),+ $(,)?
        }
        upcasters = $upcasters:expr;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis enum $name {
            $($variant($payload)),+
        }

        impl $crate::event::EventSet for $name {
            const STREAM_TYPE: &'static str = $stream;

            fn event_type(&self) -> $crate::envelope::EventType {
                match self {
                    $(Self::$variant(_) => <$payload as $crate::event::Event>::event_type()),+
                }
            }

            fn to_data(&self) -> ::serde_json::Result<::serde_json::Value> {
                match self {
                    $(Self::$variant(p) => ::serde_json::to_value(p)),+
                }
            }

            fn decode(
                event_type: &$crate::envelope::EventType,
                data: ::serde_json::Value,
            ) -> ::std::result::Result<Self, $crate::event::DecodeError> {
                $(
                    if event_type.name() == <$payload as $crate::event::Event>::NAME {
                        let data = $crate::event::upcast(
                            Self::upcasters(),
                            event_type,
                            <$payload as $crate::event::Event>::VERSION,
                            data,
                        )?;
                        return ::serde_json::from_value::<$payload>(data)
                            .map(Self::$variant)
                            .map_err(|source| $crate::event::DecodeError::Malformed {
                                event_type: event_type.to_string(),
                                source,
                            });
                    }
                )+
                Err($crate::event::DecodeError::UnknownType(event_type.to_string()))
            }

            fn schemas() -> ::std::vec::Vec<$crate::event::EventSchema> {
                vec![$($crate::event::EventSchema::of::<$payload>()),+]
            }

            fn upcasters() -> &'static [$crate::event::Upcaster] {
                $upcasters
            }
        }

        $(
            impl ::std::convert::From<$payload> for $name {
                fn from(p: $payload) -> Self {
                    Self::$variant(p)
                }
            }
        )+
    };
}

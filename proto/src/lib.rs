#![doc = include_str!("../README.md")]

pub mod actor;
pub mod casework;
pub mod category;
pub mod command;
pub mod envelope;
pub mod event;
pub mod handover;
pub mod privacy;
pub mod problem;
pub mod sealed;
pub mod subject;
pub mod text;
pub mod vve;

pub use actor::{Actor, OrganisationType, Purpose};
pub use category::DataCategory;
pub use envelope::{CloudEvent, EventType, Source};
pub use event::{DecodeError, Event, EventSchema, EventSet};
pub use problem::{FieldError, Problem};
pub use sealed::Sealed;

/// Every event set known to Kansrijk, for schema generation and the disclosure checks.
pub fn all_event_schemas() -> Vec<EventSchema> {
    let mut all = Vec::new();
    all.extend(privacy::PrivacyEvent::schemas());
    all.extend(casework::CaseEvent::schemas());
    all.extend(vve::ChildEvent::schemas());
    all.extend(vve::TargetGroupEvent::schemas());
    all.extend(handover::HandoverEvent::schemas());
    all
}

//! Every NATS subject and JetStream name Kansrijk uses. Subjects name services, operations and
//! kinds of stream, never a person, a child or any other data subject.

/// The JetStream stream that carries all domain events.
pub const EVENTS_STREAM: &str = "KANSRIJK_EVENTS";
/// Subjects of the events stream.
pub const EVENTS_WILDCARD: &str = "kansrijk.evt.>";

/// Subject an event of `service`'s stream type `stream_type` is published on.
pub fn event(service: &str, stream_type: &str) -> String {
    format!("kansrijk.evt.{service}.{stream_type}")
}

/// Filter for every event a service publishes.
pub fn events_of(service: &str) -> String {
    format!("kansrijk.evt.{service}.>")
}

/// Subject of a command endpoint of `service`.
pub fn command(service: &str, name: &str) -> String {
    format!("kansrijk.cmd.{service}.{name}")
}

/// Subject of a query endpoint of the views service.
pub fn query(name: &str) -> String {
    format!("kansrijk.qry.{name}")
}

/// Subjects of the privacy service's internal API.
pub mod privacy {
    pub const KEYS_GET: &str = "kansrijk.privacy.keys.get";
    pub const KEYS_CREATE: &str = "kansrijk.privacy.keys.create";
    pub const ACCESS_LOG_APPEND: &str = "kansrijk.privacy.access-log.append";
    pub const PSEUDONYM: &str = "kansrijk.privacy.pseudonym";
}

#[cfg(test)]
mod tests {
    #[test]
    fn subjects_are_tokens_without_wildcards_in_the_middle() {
        let s = super::event("vve", "kind");
        assert_eq!(s, "kansrijk.evt.vve.kind");
        assert!(!s.contains('*') && !s.contains('>'));
        assert_eq!(
            super::command("vve", "kind-inschrijven"),
            "kansrijk.cmd.vve.kind-inschrijven"
        );
    }
}

//! Service identities: the [`Actor`] a service sends when it calls another service on its own
//! behalf (keys, pseudonyms, the access log, retention registration), not on behalf of a user.
//!
//! The actor header is not a credential: anyone who can publish on a subject can write any header.
//! What authenticates a service is its NATS user (an nkey per service) and the permissions of that
//! user: only service users may publish on `kansrijk.privacy.>`, and the gateway's user may not
//! (see services/privacy/README.md). The actor check inside the privacy service is defence in
//! depth on top of that: it refuses every actor that is not a named service identity, and the
//! gateway never derives the role [`SERVICE_ROLE`] from a user's token.

use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};

/// The role of a service identity.
pub const SERVICE_ROLE: &str = "dienst";
/// Prefix of a service identity's `person`: `dienst:<service>`.
pub const SERVICE_PERSON_PREFIX: &str = "dienst:";
/// The municipality code of a service identity (it acts for every tenant it serves).
pub const ALL_MUNICIPALITIES: &str = "0000";

/// The identity `service` (e.g. `vve`) uses on its own behalf; `oin` is the operator's OIN.
pub fn service_actor(service: &str, oin: &str) -> Actor {
    Actor {
        person: format!("{SERVICE_PERSON_PREFIX}{service}"),
        organisation: oin.to_owned(),
        organisation_type: OrganisationType::Gemeente,
        role: SERVICE_ROLE.to_owned(),
        municipality: ALL_MUNICIPALITIES.to_owned(),
        purpose: Purpose::Zorgverlening,
    }
}

/// The service name when `actor` is a service identity.
pub fn service_name(actor: &Actor) -> Option<&str> {
    if actor.role != SERVICE_ROLE {
        return None;
    }
    actor
        .person
        .strip_prefix(SERVICE_PERSON_PREFIX)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_actor_names_its_service() {
        let a = service_actor("vve", "00000001002220647000");
        assert_eq!(service_name(&a), Some("vve"));
        let mut user = a.clone();
        user.role = "jeugdverpleegkundige".into();
        assert_eq!(service_name(&user), None);
        let mut empty = a;
        empty.person = "dienst:".into();
        assert_eq!(service_name(&empty), None);
    }
}

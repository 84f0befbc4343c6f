//! The client side of the privacy service's NEN 7513 access log.
//!
//! Every view writes an entry for every read, export and search of personal data *before* it
//! returns the data: [`AccessLogClient::record`] returns only after the privacy service committed
//! the entries to its hash-chained log. If it fails, the view returns the problem, not the data.
//! One entry per data subject concerned (a list of ten children is ten entries, sent in one call).
//!
//! Entries hold no personal data: the user is the token's pairwise pseudonym, the subject the
//! pseudonymous subject id.

use std::time::Duration;

use async_nats::Client;
use chrono::{DateTime, Utc};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What was done (NEN 7513 "gebeurtenis").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessEvent {
    Create,
    Read,
    Update,
    Delete,
    Export,
    Search,
    /// Access outside the normal rules (an emergency or a legal exception, e.g. Veilig Thuis).
    BreakGlass,
}

impl AccessEvent {
    pub const ALL: [AccessEvent; 7] = [
        AccessEvent::Create,
        AccessEvent::Read,
        AccessEvent::Update,
        AccessEvent::Delete,
        AccessEvent::Export,
        AccessEvent::Search,
        AccessEvent::BreakGlass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessEvent::Create => "create",
            AccessEvent::Read => "read",
            AccessEvent::Update => "update",
            AccessEvent::Delete => "delete",
            AccessEvent::Export => "export",
            AccessEvent::Search => "search",
            AccessEvent::BreakGlass => "break-glass",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// How the access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessOutcome {
    /// The data was shown or changed.
    Success,
    /// The policy refused the access.
    Denied,
    /// The access failed for another reason.
    Failed,
}

impl AccessOutcome {
    pub const ALL: [AccessOutcome; 3] = [
        AccessOutcome::Success,
        AccessOutcome::Denied,
        AccessOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessOutcome::Success => "success",
            AccessOutcome::Denied => "denied",
            AccessOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// One access-log entry as a view sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    pub event: AccessEvent,
    /// When the access happened (the log adds its own commit time).
    pub occurred_at: DateTime<Utc>,
    /// Pairwise pseudonym of the user (the actor's `person`).
    pub user: String,
    /// The organisation on whose behalf the user acted.
    pub organisation: String,
    /// CBS code of the municipality (tenant) the user acted in; the privacy officer of that
    /// municipality sees the entry.
    #[serde(default)]
    pub municipality: String,
    pub organisation_type: OrganisationType,
    pub role: String,
    pub purpose: Purpose,
    /// The pseudonymous id of the data subject concerned; `None` for a search without a result
    /// about one subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Uuid>,
    /// The view or endpoint, e.g. `vve.werklijst`.
    pub access_point: String,
    pub outcome: AccessOutcome,
    /// W3C trace id (32 hex digits) of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

impl AccessEntry {
    /// An entry for `actor` doing `event` at `access_point` now.
    pub fn new(
        actor: &Actor,
        event: AccessEvent,
        access_point: &str,
        subject: Option<Uuid>,
        outcome: AccessOutcome,
        traceparent: Option<&str>,
    ) -> Self {
        AccessEntry {
            event,
            occurred_at: Utc::now(),
            user: actor.person.clone(),
            organisation: actor.organisation.clone(),
            municipality: actor.municipality.clone(),
            organisation_type: actor.organisation_type,
            role: actor.role.clone(),
            purpose: actor.purpose,
            subject,
            access_point: access_point.to_owned(),
            outcome,
            trace_id: traceparent.and_then(trace_id_from_traceparent),
        }
    }
}

/// The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
pub fn trace_id_from_traceparent(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.split('-');
    let _version = parts.next()?;
    let trace = parts.next()?;
    (trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| trace.to_ascii_lowercase())
}

/// Request on [`subject::privacy::ACCESS_LOG_APPEND`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppendAccessEntries {
    pub entries: Vec<AccessEntry>,
}

/// Reply: the sequence numbers the entries got in the chain (after commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntriesAppended {
    pub first_seq: i64,
    pub last_seq: i64,
}

/// The most entries one request may carry.
pub const MAX_ENTRIES_PER_REQUEST: usize = 1000;

/// Writes access-log entries through the privacy service.
#[derive(Debug, Clone)]
pub struct AccessLogClient {
    nats: Client,
    /// The calling service's own identity ([`crate::identity::service_actor`]).
    actor: Actor,
    timeout: Duration,
}

impl AccessLogClient {
    pub fn new(nats: Client, actor: Actor) -> Self {
        AccessLogClient {
            nats,
            actor,
            timeout: Duration::from_secs(5),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Records `entries` durably; `Ok` only once they are committed. On `Err` the caller must not
    /// return the personal data it was about to return.
    pub async fn record(&self, entries: Vec<AccessEntry>) -> Result<(), Problem> {
        self.append(entries).await.map(|_| ())
    }

    /// As [`record`](Self::record), returning the sequence numbers.
    pub async fn append(
        &self,
        entries: Vec<AccessEntry>,
    ) -> Result<Option<AccessEntriesAppended>, Problem> {
        let mut last = None;
        // Large batches go in chunks; each chunk is committed before the next is sent.
        for chunk in entries.chunks(MAX_ENTRIES_PER_REQUEST) {
            let reply: AccessEntriesAppended = crate::nats::request(
                &self.nats,
                subject::privacy::ACCESS_LOG_APPEND.into(),
                crate::nats::request_headers(&self.actor, None, None),
                &AppendAccessEntries {
                    entries: chunk.to_vec(),
                },
                self.timeout,
            )
            .await?;
            last = Some(match last {
                None => reply,
                Some(AccessEntriesAppended { first_seq, .. }) => AccessEntriesAppended {
                    first_seq,
                    last_seq: reply.last_seq,
                },
            });
        }
        Ok(last)
    }
}

/// Whether an endpoint subject is a query (`kansrijk.qry.`), the reads [`log_refused_reads`]
/// logs by default.
pub fn is_query(subject: &str) -> bool {
    subject.starts_with("kansrijk.qry.")
}

/// The access point of a refused read: the endpoint's name without `kansrijk.qry.` or
/// `kansrijk.cmd.` (e.g. `overdracht.dossier`).
pub fn access_point_of(subject: &str) -> &str {
    subject
        .strip_prefix("kansrijk.qry.")
        .or_else(|| subject.strip_prefix("kansrijk.cmd."))
        .unwrap_or(subject)
}

/// The records a request names: every top-level value of its JSON body that is a UUID (the
/// pseudonymous ids of children, files and cases). Nothing else of the body is taken, so no
/// personal data (a name, a BSN, a search term) reaches the log.
pub fn record_ids(body: &[u8]) -> Vec<Uuid> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Vec::new();
    };
    let mut ids: Vec<Uuid> = map
        .values()
        .filter_map(|v| v.as_str())
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The entries of one refused read: one per record the request named, or one without a subject
/// when it named none. Outcome [`AccessOutcome::Denied`] ("geweigerd").
pub fn refused_entries(
    actor: &Actor,
    access_point: &str,
    records: &[Uuid],
    traceparent: Option<&str>,
) -> Vec<AccessEntry> {
    let subjects: Vec<Option<Uuid>> = if records.is_empty() {
        vec![None]
    } else {
        records.iter().copied().map(Some).collect()
    };
    subjects
        .into_iter()
        .map(|s| {
            AccessEntry::new(
                actor,
                AccessEvent::Read,
                access_point,
                s,
                AccessOutcome::Denied,
                traceparent,
            )
        })
        .collect()
}

/// Wraps every endpoint of `endpoints` whose subject `is_read` so that a refused read (a 403 or
/// 404 problem: not allowed, or a record the actor may not know of) is written to the access
/// log (NEN 7513 wants the attempt) before the refusal is returned: the actor, the access point
/// ([`access_point_of`]), the records the request named ([`record_ids`]), outcome `denied`.
/// One place for every query of a service, where its problem becomes the reply. A log that
/// cannot be written does not change the refusal (nothing is returned either way); it is
/// reported as a warning.
pub fn log_refused_reads(
    endpoints: crate::service::Endpoints,
    log: &AccessLogClient,
    is_read: impl Fn(&str) -> bool,
) -> crate::service::Endpoints {
    use futures::FutureExt;
    endpoints
        .into_iter()
        .map(|(subject, inner)| {
            if !is_read(&subject) {
                return (subject, inner);
            }
            let log = log.clone();
            let point = access_point_of(&subject).to_owned();
            let wrapped: crate::service::Handler =
                std::sync::Arc::new(move |req: crate::service::Request| {
                    let (inner, log, point) = (inner.clone(), log.clone(), point.clone());
                    async move {
                        let actor = req.actor.clone();
                        let traceparent = req.traceparent.clone();
                        let records = record_ids(&req.body);
                        let reply = inner(req).await;
                        if let Err(p) = &reply {
                            if matches!(p.status, 403 | 404) {
                                let entries = refused_entries(
                                    &actor,
                                    &point,
                                    &records,
                                    traceparent.as_deref(),
                                );
                                if let Err(e) = log.record(entries).await {
                                    tracing::warn!(
                                        status = e.status,
                                        access_point = %point,
                                        "a refused read could not be logged"
                                    );
                                }
                            }
                        }
                        reply
                    }
                    .boxed()
                });
            (subject, wrapped)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_read_names_only_the_records_ids() {
        let id = Uuid::new_v4();
        let body = serde_json::json!({
            "dossierId": id, "naam": "Elif Bakkal", "bsn": "999990019", "soort": "voorschool",
            "nested": { "other": Uuid::new_v4() },
        });
        assert_eq!(record_ids(body.to_string().as_bytes()), vec![id]);
        assert!(record_ids(b"not json").is_empty());
        assert!(record_ids(b"").is_empty());
        let actor = Actor {
            person: "pw-1".into(),
            organisation: "15WV00".into(),
            organisation_type: OrganisationType::Basisschool,
            role: "leerkracht".into(),
            municipality: "0546".into(),
            purpose: Purpose::Overdracht,
        };
        let point = access_point_of("kansrijk.qry.overdracht.dossier");
        assert_eq!(point, "overdracht.dossier");
        let e = refused_entries(&actor, point, &[id], None);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].subject, Some(id));
        assert_eq!(e[0].outcome, AccessOutcome::Denied);
        assert_eq!(e[0].event, AccessEvent::Read);
        let text = serde_json::to_string(&e).unwrap();
        assert!(!text.contains("Elif") && !text.contains("999990019"));
        let none = refused_entries(&actor, "vve.werklijst", &[], None);
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].subject, None);
        assert!(is_query("kansrijk.qry.vve.werklijst"));
        assert!(!is_query("kansrijk.cmd.vve.kind-inschrijven"));
    }

    #[test]
    fn trace_ids_come_from_traceparent() {
        assert_eq!(
            trace_id_from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(trace_id_from_traceparent("garbage"), None);
    }

    #[test]
    fn wire_names_are_stable() {
        for e in AccessEvent::ALL {
            assert_eq!(
                serde_json::to_value(e).unwrap(),
                serde_json::Value::from(e.as_str())
            );
            assert_eq!(AccessEvent::parse(e.as_str()), Some(e));
        }
        for o in AccessOutcome::ALL {
            assert_eq!(
                serde_json::to_value(o).unwrap(),
                serde_json::Value::from(o.as_str())
            );
        }
    }
}

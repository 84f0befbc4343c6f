//! The privacy service's NATS endpoints.
//!
//! | subject | body -> reply | who |
//! |---|---|---|
//! | `kansrijk.privacy.keys.create` | `CreateKeyRequest` -> `KeysReply` | key clients |
//! | `kansrijk.privacy.keys.get` | `GetKeysRequest` -> `KeysReply` | key clients |
//! | `kansrijk.privacy.pseudonym` | `PseudonymRequest` -> `PseudonymReply` | key clients |
//! | `kansrijk.privacy.access-log.append` | `AppendAccessEntries` -> `AccessEntriesAppended` (after commit) | key clients |
//! | `kansrijk.cmd.privacy.betrokkene-wissen` | `EraseSubject` -> `CommandAccepted` | privacy officer, key clients |
//! | `kansrijk.cmd.privacy.bewaarplicht-opleggen` | `PlaceLegalHold` -> `CommandAccepted` | privacy officer, key clients |
//! | `kansrijk.cmd.privacy.bewaarplicht-opheffen` | `LiftLegalHold` -> `CommandAccepted` | privacy officer, key clients |
//! | `kansrijk.cmd.privacy.bewaartermijn-registreren` | `RegisterRetention` -> `CommandAccepted` | key clients, privacy officer |
//! | `kansrijk.qry.privacy.inzageverzoek` | `SubjectAccessRequest` -> `SubjectAccessReply` | privacy officer |
//! | `kansrijk.qry.privacy.inzage` | `SubjectAccessRequest` -> `SubjectAccessPart` | privacy officer |
//! | `kansrijk.qry.privacy.toegangslog` | `AccessLogQuery` -> `AccessLogPage` | privacy officer |
//! | `kansrijk.qry.privacy.toegangslog-controleren` | `{}` -> `VerifyReport` | privacy officer |
//! | `kansrijk.qry.privacy.statistiek` | `{}` -> `Statistics` | municipality, privacy officer |
//! | `kansrijk.cmd.privacy.verwijderverzoek-indienen` | `FileRequest` -> `CommandAccepted` | staff holding data of the subject, privacy officer |
//! | `kansrijk.cmd.privacy.inzageverzoek-indienen` | `FileRequest` -> `CommandAccepted` | staff holding data of the subject, privacy officer |
//! | `kansrijk.cmd.privacy.verwijderverzoek-besluiten` | `DecideRequest` -> `CommandAccepted` | privacy officer |
//! | `kansrijk.cmd.privacy.inzageverzoek-besluiten` | `DecideRequest` -> `CommandAccepted` | privacy officer |
//! | `kansrijk.qry.privacy.verwijderverzoeken` | `RequestQuery` -> `RequestList` | privacy officer |
//! | `kansrijk.qry.privacy.inzageverzoeken` | `RequestQuery` -> `RequestList` | privacy officer |
//!
//! "Key clients" are service identities (`kansrijk_runtime::identity`) named in
//! `KANSRIJK_KEY_CLIENTS`. What the privacy officer does is itself written to the access log,
//! durably, before the reply.

use std::collections::BTreeMap;

use kansrijk_proto::actor::{Actor, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::privacy::{
    subjects, EraseSubject, LiftLegalHold, PlaceLegalHold, PseudonymReply, PseudonymRequest,
    RegisterRetention, SubjectAccessPart, SubjectAccessRequest,
};
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::subject;
use kansrijk_runtime::access_log::{
    AccessEntriesAppended, AccessEntry, AccessEvent, AccessOutcome, AppendAccessEntries,
    MAX_ENTRIES_PER_REQUEST,
};
use kansrijk_runtime::identity::service_name;
use kansrijk_runtime::keys::{CreateKeyRequest, GetKeysRequest, KeysReply};
use kansrijk_runtime::service::{handler, Endpoints, Request};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::access_log::{self, AccessLogPage, AccessLogQuery, VerifyReport};
use crate::error::db_problem;
use crate::requests::{
    self, subjects_nats as rq, DecideRequest, Decision, FileRequest, RequestKind, RequestList,
    RequestQuery,
};
use crate::subject_access::{self, SubjectAccessReply};
use crate::subjects::{metadata_for, Privacy};

/// Every endpoint of the service.
pub fn endpoints(privacy: &Privacy, nats: &async_nats::Client) -> Endpoints {
    let mut e = Endpoints::new();
    let p = privacy.clone();
    e.insert(
        subject::privacy::KEYS_CREATE.into(),
        handler(move |req| {
            let p = p.clone();
            async move { create_key(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subject::privacy::KEYS_GET.into(),
        handler(move |req| {
            let p = p.clone();
            async move { get_keys(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subject::privacy::PSEUDONYM.into(),
        handler(move |req| {
            let p = p.clone();
            async move { pseudonym(&p, &req) }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subject::privacy::ACCESS_LOG_APPEND.into(),
        handler(move |req| {
            let p = p.clone();
            async move { append_access(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subjects::ERASE.into(),
        handler(move |req| {
            let p = p.clone();
            async move { erase(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subjects::PLACE_HOLD.into(),
        handler(move |req| {
            let p = p.clone();
            async move { place_hold(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subjects::LIFT_HOLD.into(),
        handler(move |req| {
            let p = p.clone();
            async move { lift_hold(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subjects::REGISTER_RETENTION.into(),
        handler(move |req| {
            let p = p.clone();
            async move { register_retention(&p, req).await }
        }),
    );
    let (p, n) = (privacy.clone(), nats.clone());
    e.insert(
        subjects::SUBJECT_ACCESS.into(),
        handler(move |req| {
            let (p, n) = (p.clone(), n.clone());
            async move { subject_access_request(&p, &n, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subjects::subject_access_part("privacy"),
        handler(move |req| {
            let p = p.clone();
            async move { own_part(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subjects::ACCESS_LOG_QUERY.into(),
        handler(move |req| {
            let p = p.clone();
            async move { query_log(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subjects::ACCESS_LOG_VERIFY.into(),
        handler(move |req| {
            let p = p.clone();
            async move { verify(&p, req).await }
        }),
    );
    let p = privacy.clone();
    e.insert(
        subject::query("privacy.statistiek"),
        handler(move |req| {
            let p = p.clone();
            async move { statistics(&p, req).await }
        }),
    );
    for kind in [RequestKind::Verwijderverzoek, RequestKind::Inzageverzoek] {
        let (file, decide, list) = match kind {
            RequestKind::Verwijderverzoek => {
                (rq::FILE_ERASURE, rq::DECIDE_ERASURE, rq::LIST_ERASURE)
            }
            RequestKind::Inzageverzoek => (rq::FILE_ACCESS, rq::DECIDE_ACCESS, rq::LIST_ACCESS),
        };
        let p = privacy.clone();
        e.insert(
            file.into(),
            handler(move |req| {
                let p = p.clone();
                async move { file_request(&p, kind, req).await }
            }),
        );
        let (p, n) = (privacy.clone(), nats.clone());
        e.insert(
            decide.into(),
            handler(move |req| {
                let (p, n) = (p.clone(), n.clone());
                async move { decide_request(&p, &n, kind, req).await }
            }),
        );
        let p = privacy.clone();
        e.insert(
            list.into(),
            handler(move |req| {
                let p = p.clone();
                async move { list_requests(&p, kind, req).await }
            }),
        );
    }
    e
}

/// The calling service, when the actor is a service identity in the key-client list.
fn key_client<'a>(p: &Privacy, actor: &'a Actor) -> Option<&'a str> {
    service_name(actor).filter(|s| p.config().key_clients.iter().any(|c| c == s))
}

fn require_key_client<'a>(p: &Privacy, actor: &'a Actor) -> Result<&'a str, Problem> {
    key_client(p, actor).ok_or_else(|| {
        Problem::forbidden("Alleen geregistreerde diensten mogen deze interne functie gebruiken.")
    })
}

/// A privacy officer acting for the purpose of privacy supervision, per the policy.
fn require_officer(actor: &Actor, action: &str) -> Result<(), Problem> {
    kansrijk_policy::require(actor, action)?;
    if actor.purpose != Purpose::Privacytoezicht {
        return Err(Problem::forbidden(
            "Deze handeling past alleen bij het doel privacytoezicht.",
        ));
    }
    Ok(())
}

/// Either a key client or an officer.
fn require_officer_or_service(p: &Privacy, actor: &Actor, action: &str) -> Result<(), Problem> {
    if key_client(p, actor).is_some() {
        return Ok(());
    }
    require_officer(actor, action)
}

/// Logs what an officer did (or was refused), durably; a failure to log fails the request.
async fn log_officer(
    p: &Privacy,
    req: &Request,
    event: AccessEvent,
    access_point: &str,
    subject: Option<uuid::Uuid>,
    outcome: AccessOutcome,
) -> Result<(), Problem> {
    if service_name(&req.actor).is_some() {
        return Ok(());
    }
    let entry = AccessEntry::new(
        &req.actor,
        event,
        access_point,
        subject,
        outcome,
        req.traceparent.as_deref(),
    );
    p.access_log()
        .append(vec![entry])
        .await
        .map(|_| ())
        .map_err(|_| Problem::unavailable("Het toegangslog kon niet worden bijgewerkt."))
}

/// Runs `f` as an officer action: policy check, the action, and the access-log entry with its
/// outcome (also when it was refused).
async fn officer_action<T, F, Fut>(
    p: &Privacy,
    req: &Request,
    action: &str,
    event: AccessEvent,
    subject: Option<uuid::Uuid>,
    allow_services: bool,
    f: F,
) -> Result<T, Problem>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, Problem>>,
{
    let mut allowed = if allow_services {
        require_officer_or_service(p, &req.actor, action)
    } else {
        require_officer(&req.actor, action)
    };
    if allowed.is_ok() {
        if let Some(s) = subject {
            allowed = same_municipality(p, &req.actor, s).await;
        }
    }
    if let Err(problem) = allowed {
        log_officer(p, req, event, action, subject, AccessOutcome::Denied).await?;
        return Err(problem);
    }
    let result = f().await;
    let outcome = match &result {
        Ok(_) => AccessOutcome::Success,
        Err(pr) if pr.status == 403 => AccessOutcome::Denied,
        Err(_) => AccessOutcome::Failed,
    };
    log_officer(p, req, event, action, subject, outcome).await?;
    result
}

/// A user may only act on subjects of the municipality they work for; a subject of another
/// municipality is "unknown" to them (404, its existence is not revealed). Services act for all.
async fn same_municipality(p: &Privacy, actor: &Actor, subject: uuid::Uuid) -> Result<(), Problem> {
    if key_client(p, actor).is_some() {
        return Ok(());
    }
    let m: Option<String> =
        sqlx::query_scalar("SELECT municipality FROM subjects WHERE subject = $1")
            .bind(subject)
            .fetch_optional(p.pool())
            .await
            .map_err(|e| db_problem(&e))?;
    match m {
        Some(m) if m != actor.municipality => Err(Problem::not_found("Onbekende betrokkene.")),
        _ => Ok(()),
    }
}

fn valid_municipality(m: &str) -> bool {
    m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit())
}

async fn create_key(p: &Privacy, req: Request) -> Result<KeysReply, Problem> {
    require_key_client(p, &req.actor)?;
    let body: CreateKeyRequest = req.json()?;
    if !valid_municipality(&body.municipality) {
        return Err(Problem::invalid(vec![FieldError::new(
            "municipality",
            "gemeentecode",
            "Een gemeentecode bestaat uit vier cijfers.",
        )]));
    }
    let material = p
        .create_key(
            body.subject,
            body.subject_kind,
            &body.municipality,
            &metadata_for(&req.actor, req.command_id, req.traceparent.as_deref()),
        )
        .await?;
    Ok(KeysReply {
        keys: vec![material],
    })
}

async fn get_keys(p: &Privacy, req: Request) -> Result<KeysReply, Problem> {
    require_key_client(p, &req.actor)?;
    let body: GetKeysRequest = req.json()?;
    if body.subjects.len() > 1000 {
        return Err(Problem::bad_request(
            "te-veel-betrokkenen",
            "Vraag hoogstens 1000 sleutels tegelijk op.",
        ));
    }
    p.get_keys(&body.subjects).await
}

fn pseudonym(p: &Privacy, req: &Request) -> Result<PseudonymReply, Problem> {
    require_key_client(p, &req.actor)?;
    let body: PseudonymRequest = req.json()?;
    let domain_ok = (1..=32).contains(&body.domain.len())
        && body
            .domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-');
    let mut errors = Vec::new();
    if !domain_ok {
        errors.push(FieldError::new(
            "domain",
            "domein",
            "Een pseudonimiseringsdomein is een code in kleine letters.",
        ));
    }
    if body.values.len() > 1000 {
        errors.push(FieldError::new(
            "values",
            "te-veel",
            "Hoogstens 1000 waarden per verzoek.",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let pz = &p.config().pseudonymizer;
    Ok(PseudonymReply {
        pseudonyms: body
            .values
            .iter()
            .map(|v| pz.pseudonym(&body.domain, v.trim()))
            .collect(),
    })
}

async fn append_access(p: &Privacy, req: Request) -> Result<AccessEntriesAppended, Problem> {
    require_key_client(p, &req.actor)?;
    let body: AppendAccessEntries = req.json()?;
    if body.entries.is_empty() || body.entries.len() > MAX_ENTRIES_PER_REQUEST {
        return Err(Problem::bad_request(
            "aantal-regels",
            format!("Stuur 1 tot {MAX_ENTRIES_PER_REQUEST} regels per verzoek."),
        ));
    }
    access_log::validate(&body.entries).map_err(Problem::invalid)?;
    let (first_seq, last_seq) = p
        .access_log()
        .append(body.entries)
        .await
        .map_err(|_| Problem::unavailable("Het toegangslog kon niet worden bijgewerkt."))?;
    Ok(AccessEntriesAppended {
        first_seq,
        last_seq,
    })
}

async fn erase(p: &Privacy, req: Request) -> Result<CommandAccepted, Problem> {
    let body: EraseSubject = req.json()?;
    officer_action(
        p,
        &req,
        "privacy.betrokkene-wissen",
        AccessEvent::Delete,
        Some(body.subject),
        // Services erase too: handover shreds a file's key when parents refuse consent, and
        // follows a child's erasure to its files. Which services may is set by NATS permissions.
        true,
        || p.erase(body.subject, body.grounds, &req.actor, req.command_id),
    )
    .await
}

async fn place_hold(p: &Privacy, req: Request) -> Result<CommandAccepted, Problem> {
    let body: PlaceLegalHold = req.json()?;
    officer_action(
        p,
        &req,
        "privacy.bewaarplicht-opleggen",
        AccessEvent::Update,
        Some(body.subject),
        true,
        || p.place_hold(body.subject, &body.reason, &req.actor, req.command_id),
    )
    .await
}

async fn lift_hold(p: &Privacy, req: Request) -> Result<CommandAccepted, Problem> {
    let body: LiftLegalHold = req.json()?;
    officer_action(
        p,
        &req,
        "privacy.bewaarplicht-opheffen",
        AccessEvent::Update,
        Some(body.subject),
        true,
        || p.lift_hold(body.subject, &req.actor, req.command_id),
    )
    .await
}

async fn register_retention(p: &Privacy, req: Request) -> Result<CommandAccepted, Problem> {
    let body: RegisterRetention = req.json()?;
    officer_action(
        p,
        &req,
        "privacy.bewaartermijn-registreren",
        AccessEvent::Update,
        Some(body.subject),
        true,
        || {
            p.register_retention(
                body.subject,
                body.data_kind,
                body.start_date,
                &req.actor,
                req.command_id,
            )
        },
    )
    .await
}

async fn subject_access_request(
    p: &Privacy,
    nats: &async_nats::Client,
    req: Request,
) -> Result<SubjectAccessReply, Problem> {
    let body: SubjectAccessRequest = req.json()?;
    officer_action(
        p,
        &req,
        "privacy.inzageverzoek",
        AccessEvent::Export,
        Some(body.subject),
        false,
        || async {
            let document = subject_access::assemble(
                p,
                nats,
                &req.actor,
                req.traceparent.as_deref(),
                body.subject,
            )
            .await?;
            let text = subject_access::render_text(&document);
            Ok(SubjectAccessReply { document, text })
        },
    )
    .await
}

async fn own_part(p: &Privacy, req: Request) -> Result<SubjectAccessPart, Problem> {
    let body: SubjectAccessRequest = req.json()?;
    officer_action(
        p,
        &req,
        "privacy.inzage",
        AccessEvent::Export,
        Some(body.subject),
        false,
        || subject_access::own_part(p, body.subject),
    )
    .await
}

async fn query_log(p: &Privacy, req: Request) -> Result<AccessLogPage, Problem> {
    let body: AccessLogQuery = if req.body.is_empty() {
        AccessLogQuery::default()
    } else {
        req.json()?
    };
    officer_action(
        p,
        &req,
        "privacy.toegangslog",
        AccessEvent::Search,
        body.subject,
        false,
        || async {
            access_log::query(p.pool(), &body, Some(&req.actor.municipality))
                .await
                .map_err(|e| db_problem(&e))
        },
    )
    .await
}

async fn verify(p: &Privacy, req: Request) -> Result<VerifyReport, Problem> {
    require_officer(&req.actor, "privacy.toegangslog-controleren")?;
    access_log::verify_chain_sealed(p.pool(), &p.config().pseudonymizer)
        .await
        .map_err(|e| db_problem(&e))
}

async fn file_request(
    p: &Privacy,
    kind: RequestKind,
    req: Request,
) -> Result<CommandAccepted, Problem> {
    let body: FileRequest = req.json()?;
    let (action, _, _) = kind.actions();
    officer_action(
        p,
        &req,
        action,
        AccessEvent::Create,
        Some(body.subject),
        false,
        || {
            p.file_request(
                kind,
                &body,
                &req.actor,
                req.command_id,
                req.traceparent.as_deref(),
            )
        },
    )
    .await
}

async fn decide_request(
    p: &Privacy,
    nats: &async_nats::Client,
    kind: RequestKind,
    req: Request,
) -> Result<CommandAccepted, Problem> {
    let body: DecideRequest = req.json()?;
    let (_, action, _) = kind.actions();
    // The subject, for the access log; a request of another municipality or kind is unknown.
    let found = requests::lookup(p, body.request)
        .await?
        .filter(|(_, k, m)| *k == kind && *m == req.actor.municipality);
    let event = match (body.decision, kind) {
        (Decision::Afwijzen, _) => AccessEvent::Update,
        (Decision::Uitvoeren, RequestKind::Verwijderverzoek) => AccessEvent::Delete,
        (Decision::Uitvoeren, RequestKind::Inzageverzoek) => AccessEvent::Export,
    };
    officer_action(
        p,
        &req,
        action,
        event,
        found.as_ref().map(|(s, _, _)| *s),
        false,
        || async {
            let Some((subject, _, _)) = found else {
                return Err(Problem::not_found("Onbekend verzoek."));
            };
            match (body.decision, kind) {
                (Decision::Afwijzen, _) => {
                    let reason = body.reason.as_deref().unwrap_or("");
                    p.reject_request(kind, body.request, reason, &req.actor, req.command_id)
                        .await
                }
                (Decision::Uitvoeren, RequestKind::Verwijderverzoek) => {
                    p.execute_erasure_request(body.request, &req.actor, req.command_id)
                        .await
                }
                (Decision::Uitvoeren, RequestKind::Inzageverzoek) => {
                    // A retried command answers its first result without a second export.
                    if let Some(id) = req.command_id {
                        if let Some(a) = kansrijk_runtime::store::EventStore::new(p.pool().clone())
                            .command_result(id)
                            .await
                            .map_err(|e| crate::error::store_problem(&e))?
                        {
                            return Ok(CommandAccepted {
                                stream_id: a.stream_id,
                                version: a.version,
                                position: a.position,
                                first_time: false,
                            });
                        }
                    }
                    let document = subject_access::assemble(
                        p,
                        nats,
                        &req.actor,
                        req.traceparent.as_deref(),
                        subject,
                    )
                    .await?;
                    if !document.complete {
                        return Err(Problem::unavailable(
                            "Niet alle diensten hebben hun deel van het overzicht geleverd. \
                             Het verzoek blijft open; probeer het later opnieuw.",
                        ));
                    }
                    p.complete_access_request(body.request, &req.actor, req.command_id)
                        .await
                }
            }
        },
    )
    .await
}

async fn list_requests(
    p: &Privacy,
    kind: RequestKind,
    req: Request,
) -> Result<RequestList, Problem> {
    let body: RequestQuery = if req.body.is_empty() {
        RequestQuery::default()
    } else {
        req.json()?
    };
    let (_, _, action) = kind.actions();
    officer_action(p, &req, action, AccessEvent::Search, None, false, || {
        p.list_requests(
            kind,
            &body,
            &req.actor.municipality,
            chrono::Utc::now().date_naive(),
        )
    })
    .await
}

/// Counts below this are suppressed in the statistics.
pub const SUPPRESS_BELOW: i64 = 5;

/// Totals about the privacy service's work in the actor's municipality, for its accountability
/// report.
/// Counts of 1 to 4 are suppressed (`null`); no total is given that would let one recover them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    pub aantallen: BTreeMap<String, Option<i64>>,
    pub onderdrukkingsdrempel: i64,
}

/// Suppresses small counts.
pub fn suppress(n: i64) -> Option<i64> {
    (n == 0 || n >= SUPPRESS_BELOW).then_some(n)
}

async fn statistics(p: &Privacy, req: Request) -> Result<Statistics, Problem> {
    kansrijk_policy::require(&req.actor, "privacy.statistiek")?;
    let rows = sqlx::query(
        "SELECT 'betrokkenen-actief' AS k, count(*) AS n FROM subjects
             WHERE erased_at IS NULL AND municipality = $1
         UNION ALL SELECT 'bewaarplichten-actief', count(*) FROM subjects
             WHERE hold_reason IS NOT NULL AND municipality = $1
         UNION ALL SELECT 'gewist-' || erasure_grounds, count(*) FROM subjects
             WHERE erased_at IS NOT NULL AND municipality = $1 GROUP BY erasure_grounds
         UNION ALL SELECT 'toegangslog-' || event, count(*) FROM access_log
             WHERE municipality = $1 GROUP BY event",
    )
    .bind(&req.actor.municipality)
    .fetch_all(p.pool())
    .await
    .map_err(|e| db_problem(&e))?;
    let mut aantallen = BTreeMap::new();
    for r in rows {
        let k: String = r.try_get("k").map_err(|e| db_problem(&e))?;
        let n: i64 = r.try_get("n").map_err(|e| db_problem(&e))?;
        aantallen.insert(k, suppress(n));
    }
    Ok(Statistics {
        aantallen,
        onderdrukkingsdrempel: SUPPRESS_BELOW,
    })
}

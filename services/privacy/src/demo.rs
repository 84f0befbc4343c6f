//! Demo data of the privacy officer (issue 14): what the persona `privacyfunctionaris` finds on
//! first sign-in, made by the same requests the officer and the services send.
//!
//! The officer's first screen is the register of requests ([`crate::requests`]). The demo
//!
//! 1. places a legal hold (`rechterlijke-procedure`, court proceedings about the child) on the
//!    first subject, as the JGZ record's service (`vve`) would;
//! 2. files the parents' erasure request (AVG art. 17) about that subject, received 35 days ago
//!    (so past its one-month deadline), and has the officer execute it: refused under the hold,
//!    nothing erased (delete, failed in the access log), the request left open with the refusal;
//! 3. files a subject-access request (AVG art. 15) about the second subject, passed on by a
//!    professional and received 5 days ago: open;
//! 4. files the parents' subject-access request about the second subject received 40 days ago and
//!    has the officer execute it (the document assembled from every service, an export in the
//!    access log): handled;
//! 5. has the officer search the access log about the first subject (search).
//!
//! The hold comes first, so the erasure can never go through. Idempotent: every command has a
//! stable command id derived from the subject; when the hold's command was seen before (a second
//! load), the officer's steps are skipped, since every officer request is itself logged (NEN
//! 7513) and a repeat would add entries. The check is made with a service identity, which the
//! access log does not record.

use std::time::Duration;

use async_nats::Client;
use chrono::{Days, NaiveDate};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::privacy::{subjects, PlaceLegalHold};
use kansrijk_proto::problem::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::requests::subjects_nats as rq;

/// The municipality of the demo world (Leiden).
pub const MUNICIPALITY: &str = "0546";
/// The privacy officer's organisation in the partner registry's demo data.
pub const OFFICER_ORGANISATION: &str = "00000001000000546001";
/// The reason code of the demo's legal hold.
pub const HOLD_REASON: &str = "rechterlijke-procedure";
/// The service identity that places the hold (a key client).
pub const HOLD_SERVICE: &str = "vve";

/// The pairwise pseudonym the local development issuer gives a persona (as
/// `kansrijk_gateway::dev_oidc::personas::pseudonym`), so that the demo's entries show the
/// officer persona as their user.
pub fn persona_pseudonym(persona: &str) -> String {
    let digest = Sha256::digest(format!("kansrijk-dev-persona:{persona}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The persona `privacyfunctionaris` as an actor.
pub fn officer() -> Actor {
    Actor {
        person: persona_pseudonym("privacyfunctionaris"),
        organisation: OFFICER_ORGANISATION.into(),
        organisation_type: OrganisationType::Privacyfunctionaris,
        role: "privacyfunctionaris".into(),
        municipality: MUNICIPALITY.into(),
        purpose: Purpose::Privacytoezicht,
    }
}

/// The command id of the demo's legal hold on `subject` (stable).
pub fn hold_command_id(subject: Uuid) -> Uuid {
    Uuid::from_u128(subject.as_u128() ^ 0x6b61_6e73_7269_6a6b_2d64_656d_6f2d_686f)
}

/// A stable command id of the demo's step `step` about `subject`.
pub fn step_command_id(subject: Uuid, step: &str) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"kansrijk-privacy-demo\0")
        .chain_update(step.as_bytes())
        .chain_update(subject.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

async fn request<B: Serialize, T: DeserializeOwned>(
    client: &Client,
    actor: &Actor,
    subject: &str,
    body: &B,
    command_id: Option<Uuid>,
) -> Result<T, Problem> {
    let headers = kansrijk_runtime::nats::request_headers(actor, command_id, None);
    let timeout = Duration::from_secs(30);
    match command_id {
        // Commands are retried with their command id on 503/504 (a service the privacy service
        // asks, such as one assembling its part of a subject-access document, is starting).
        Some(_) => {
            kansrijk_runtime::nats::request_retrying(
                client,
                subject.to_owned(),
                headers,
                body,
                timeout,
                5,
            )
            .await
        }
        None => {
            kansrijk_runtime::nats::request(client, subject.to_owned(), headers, body, timeout)
                .await
        }
    }
}

fn refused(what: &str, p: &Problem) -> anyhow::Error {
    anyhow::anyhow!(
        "privacy demo: {what} refused: {} {:?} {:?}",
        p.status,
        p.code,
        p.detail
    )
}

/// Loads the officer's demo state about `subjects` (ids the privacy service knows, of
/// municipality 0546; at least one): an open, overdue erasure request under a legal hold on the
/// first, an open and a handled subject-access request about the second (the first again when
/// there is one), and the access-log entries these leave. Returns how many requests it sent that
/// changed something (0 when the demo was loaded before). `today` dates the requests' receipt and
/// bounds the officer's access-log search (the past year).
pub async fn load_demo(
    client: &Client,
    subjects: &[Uuid],
    today: NaiveDate,
) -> anyhow::Result<usize> {
    let Some(&held) = subjects.first() else {
        anyhow::bail!("privacy demo: no subjects given");
    };
    let asked = subjects.get(1).copied().unwrap_or(held);
    let service = kansrijk_runtime::identity::service_actor(
        HOLD_SERVICE,
        kansrijk_runtime::config::DEFAULT_OIN,
    );
    // 1. The hold, and the check whether the demo ran before.
    let hold: CommandAccepted = request(
        client,
        &service,
        subjects::PLACE_HOLD,
        &PlaceLegalHold {
            subject: held,
            reason: HOLD_REASON.into(),
        },
        Some(hold_command_id(held)),
    )
    .await
    .map_err(|p| refused("the legal hold", &p))?;
    if !hold.first_time {
        return Ok(0);
    }
    let officer = officer();
    let file = |kind: &'static str, subject: Uuid, requester: &'static str, days: u64| {
        let officer = officer.clone();
        async move {
            let subj = if kind == "erasure" {
                rq::FILE_ERASURE
            } else {
                rq::FILE_ACCESS
            };
            let accepted: CommandAccepted = request(
                client,
                &officer,
                subj,
                &json!({ "subject": subject, "requester": requester,
                         "receivedOn": (today - Days::new(days)).to_string() }),
                Some(step_command_id(subject, &format!("{kind}-{days}"))),
            )
            .await
            .map_err(|p| refused("filing a request", &p))?;
            anyhow::Ok(accepted.stream_id)
        }
    };
    // 2. The parents' erasure request, executed under the hold: refused, so it stays open.
    let erasure = file("erasure", held, "ouder", 35).await?;
    let executed: Result<CommandAccepted, Problem> = request(
        client,
        &officer,
        rq::DECIDE_ERASURE,
        &json!({ "request": erasure, "decision": "uitvoeren" }),
        Some(step_command_id(held, "erasure-execute")),
    )
    .await;
    match executed {
        Err(p) if p.status == 409 && p.code.as_deref() == Some("bewaarplicht") => {}
        Err(p) => return Err(refused("executing the erasure request", &p)),
        Ok(_) => anyhow::bail!("privacy demo: the erasure request was not held back"),
    }
    // 3. An open subject-access request, passed on by a professional.
    file("access", asked, "medewerker", 5).await?;
    // 4. A subject-access request handled: the document assembled from every service.
    let handled = file("access", asked, "ouder", 40).await?;
    let _: CommandAccepted = request(
        client,
        &officer,
        rq::DECIDE_ACCESS,
        &json!({ "request": handled, "decision": "uitvoeren" }),
        Some(step_command_id(asked, "access-execute")),
    )
    .await
    .map_err(|p| refused("executing the subject-access request", &p))?;
    // 5. Who read the held child's data this past year.
    let from = today - Days::new(365);
    let _: Value = request(
        client,
        &officer,
        subjects::ACCESS_LOG_QUERY,
        &json!({ "subject": held, "from": format!("{from}T00:00:00Z"), "limit": 50 }),
        None,
    )
    .await
    .map_err(|p| refused("the access-log search", &p))?;
    Ok(7)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use kansrijk_proto::privacy::SubjectKind;
    use kansrijk_runtime::identity::service_actor;
    use kansrijk_runtime::keys::KeyClient;
    use kansrijk_runtime::testing::{eventually, NatsServer, TestDb};
    use sqlx::PgPool;
    use tokio_util::sync::CancellationToken;

    use super::*;

    #[test]
    fn demo_officer_is_the_persona() {
        // The gateway's development issuer: sha256("kansrijk-dev-persona:<id>"), 16 bytes in hex.
        assert_eq!(
            persona_pseudonym("privacyfunctionaris"),
            "a730bf449a7f3901b2ece959c8e85c85"
        );
        let o = officer();
        assert!(kansrijk_policy::require(&o, "privacy.betrokkene-wissen").is_ok());
        assert!(kansrijk_policy::require(&o, "privacy.inzageverzoek").is_ok());
        assert!(kansrijk_policy::require(&o, "privacy.toegangslog").is_ok());
    }

    async fn counts(pool: &PgPool) -> (i64, i64) {
        let log: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log")
            .fetch_one(pool)
            .await
            .unwrap();
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .unwrap();
        (log, events)
    }

    /// The real privacy service on its own database and nats-server; the demo is loaded twice.
    #[tokio::test]
    async fn demo_loads_into_the_privacy_service_once() {
        let db = TestDb::new().await;
        let nats = NatsServer::start();
        let mut config = crate::Config::for_local(&db.url, &nats.url());
        config.inzage_services = vec![];
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(crate::run(config, shutdown.clone()));
        let client = async_nats::connect(nats.url()).await.unwrap();
        kansrijk_runtime::testing::until_answered(
            &client,
            kansrijk_runtime::testing::PRIVACY_READINESS_SUBJECT,
        )
        .await;
        let keys = KeyClient::new(
            client.clone(),
            service_actor("vve", kansrijk_runtime::config::DEFAULT_OIN),
            Duration::from_secs(60),
        );
        let children = [Uuid::new_v4(), Uuid::new_v4()];
        for c in children {
            eventually(Duration::from_secs(20), "key", || {
                let keys = &keys;
                async move { keys.create(c, SubjectKind::Kind, MUNICIPALITY).await.ok() }
            })
            .await;
        }
        let pool = kansrijk_runtime::db::connect(&db.url, "privacy", 2)
            .await
            .unwrap();
        let today = Utc::now().date_naive();

        assert_eq!(load_demo(&client, &children, today).await.unwrap(), 7);
        let after_first = counts(&pool).await;

        // The first child: on hold, not erased, the refused erasure in the log.
        let (hold, erased): (Option<String>, Option<chrono::DateTime<Utc>>) =
            sqlx::query_as("SELECT hold_reason, erased_at FROM subjects WHERE subject = $1")
                .bind(children[0])
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(hold.as_deref(), Some(HOLD_REASON));
        assert!(erased.is_none(), "nothing is erased");
        let entries: Vec<(String, String, String, Option<Uuid>, String)> = sqlx::query_as(
            "SELECT event, outcome, access_point, subject, user_pseudonym FROM access_log \
             ORDER BY seq",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let officer = officer().person;
        let has = |event: &str, outcome: &str, point: &str, subject: Uuid| {
            entries.iter().any(|(e, o, a, s, u)| {
                e == event && o == outcome && a == point && *s == Some(subject) && *u == officer
            })
        };
        assert!(
            has(
                "delete",
                "failed",
                "privacy.verwijderverzoek-besluiten",
                children[0]
            ),
            "{entries:?}"
        );
        assert!(has(
            "export",
            "success",
            "privacy.inzageverzoek-besluiten",
            children[1]
        ));

        // The officer's register: an open (overdue, refused under the hold) erasure request,
        // an open subject-access request and a handled one.
        let erasures: crate::requests::RequestList = request(
            &client,
            &super::officer(),
            rq::LIST_ERASURE,
            &json!({}),
            None,
        )
        .await
        .unwrap();
        assert_eq!((erasures.open, erasures.overdue), (1, 1));
        assert_eq!(
            erasures.requests[0].refused_under_hold.as_deref(),
            Some(HOLD_REASON)
        );
        let accesses: crate::requests::RequestList = request(
            &client,
            &super::officer(),
            rq::LIST_ACCESS,
            &json!({}),
            None,
        )
        .await
        .unwrap();
        use crate::requests::RequestStatus::{Ontvangen, Uitgevoerd};
        let statuses: Vec<_> = accesses.requests.iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![Ontvangen, Uitgevoerd], "open first");
        let requests_after_first: i64 = sqlx::query_scalar("SELECT count(*) FROM requests")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(requests_after_first, 3);
        assert!(has("search", "success", "privacy.toegangslog", children[0]));

        // What the officer's screen asks for: the log in their municipality.
        let page: Value = request(
            &client,
            &super::officer(),
            subjects::ACCESS_LOG_QUERY,
            &json!({ "limit": 50 }),
            None,
        )
        .await
        .unwrap();
        assert!(page["entries"].as_array().is_some_and(|e| e.len() >= 3));

        // Again: nothing new (the officer's own query above added one search entry).
        let before_second = counts(&pool).await;
        assert_eq!(before_second.1, after_first.1);
        assert_eq!(load_demo(&client, &children, today).await.unwrap(), 0);
        assert_eq!(
            counts(&pool).await,
            before_second,
            "a second load adds nothing"
        );

        assert!(load_demo(&client, &[], today).await.is_err());
        shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
    }
}

//! The register of erasure and subject-access requests against the real privacy service: filed by
//! the officer and by staff holding data of the subject, listed (open first, overdue flagged),
//! executed (the erasure; refused and left open under a legal hold) and rejected; only the
//! officer decides; unknown subjects are 404; commands are idempotent by command id.

use std::time::Duration;

use chrono::{Days, Utc};
use kansrijk_privacy::requests::{subjects_nats as rq, RequestList, RequestStatus};
use kansrijk_proto::actor::{Actor, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::privacy::{subjects, LiftLegalHold, PlaceLegalHold, SubjectKind};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use kansrijk_runtime::access_log::{
    AccessEntriesAppended, AccessEntry, AccessEvent, AccessOutcome, AppendAccessEntries,
};
use kansrijk_runtime::keys::{CreateKeyRequest, KeysReply};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{nurse, officer, service, Stack};

async fn send<B: Serialize, T: DeserializeOwned>(
    st: &Stack,
    subject: &str,
    actor: &Actor,
    body: &B,
    command_id: Uuid,
) -> Result<T, Problem> {
    kansrijk_runtime::nats::request(
        &st.nats,
        subject.into(),
        kansrijk_runtime::nats::request_headers(actor, Some(command_id), None),
        body,
        Duration::from_secs(10),
    )
    .await
}

async fn subject_with_key(st: &Stack) -> Uuid {
    let s = Uuid::new_v4();
    let _: KeysReply = st
        .request(
            subject::privacy::KEYS_CREATE,
            &service("vve"),
            &CreateKeyRequest {
                subject: s,
                subject_kind: SubjectKind::Kind,
                municipality: "0546".into(),
            },
        )
        .await
        .unwrap();
    s
}

/// The nurse as the gateway forwards her filing: the action's purpose.
fn filing_nurse() -> Actor {
    Actor {
        purpose: Purpose::Privacytoezicht,
        ..nurse()
    }
}

async fn list(st: &Stack, subject: &str) -> RequestList {
    st.request(subject, &officer(), &json!({})).await.unwrap()
}

async fn request_count(st: &Stack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM requests")
        .fetch_one(&st.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn requests_are_filed_listed_executed_and_rejected() {
    let st = Stack::start_with(|c| c.inzage_services = vec![]).await;
    let child = subject_with_key(&st).await;
    let other = subject_with_key(&st).await;
    let today = Utc::now().date_naive();

    // The officer files the parents' erasure request, received 40 days ago: overdue.
    let filing = Uuid::new_v4();
    let body = json!({ "subject": child, "requester": "ouder",
                       "receivedOn": (today - Days::new(40)).to_string() });
    let first: CommandAccepted = send(&st, rq::FILE_ERASURE, &officer(), &body, filing)
        .await
        .unwrap();
    assert!(first.first_time);
    let erasure_request = first.stream_id;
    // Idempotent by command id: the first result, nothing new.
    let again: CommandAccepted = send(&st, rq::FILE_ERASURE, &officer(), &body, filing)
        .await
        .unwrap();
    assert!(!again.first_time);
    assert_eq!(again.stream_id, erasure_request);
    assert_eq!(request_count(&st).await, 1);

    // Unknown subjects: 404, never a new request.
    let unknown: Result<CommandAccepted, Problem> = send(
        &st,
        rq::FILE_ERASURE,
        &officer(),
        &json!({ "subject": Uuid::new_v4(), "requester": "ouder" }),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(unknown.unwrap_err().status, 404);
    // Received tomorrow: 400.
    let future: Result<CommandAccepted, Problem> = send(
        &st,
        rq::FILE_ACCESS,
        &officer(),
        &json!({ "subject": child, "requester": "ouder",
                 "receivedOn": (today + Days::new(1)).to_string() }),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(future.unwrap_err().status, 400);

    // Staff file only for a subject their organisation holds data of (per the access log).
    let nurse_files = json!({ "subject": other, "requester": "medewerker" });
    let refused: Result<CommandAccepted, Problem> = send(
        &st,
        rq::FILE_ACCESS,
        &filing_nurse(),
        &nurse_files,
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(refused.unwrap_err().status, 404);
    let _: AccessEntriesAppended = st
        .request(
            subject::privacy::ACCESS_LOG_APPEND,
            &service("vve"),
            &AppendAccessEntries {
                entries: vec![AccessEntry::new(
                    &nurse(),
                    AccessEvent::Read,
                    "vve.werklijst",
                    Some(other),
                    AccessOutcome::Success,
                    None,
                )],
            },
        )
        .await
        .unwrap();
    let access: CommandAccepted = send(
        &st,
        rq::FILE_ACCESS,
        &filing_nurse(),
        &nurse_files,
        Uuid::new_v4(),
    )
    .await
    .unwrap();
    let access_request = access.stream_id;
    assert_eq!(request_count(&st).await, 2);
    // The municipality holds no personal data: it files nothing.
    let municipality: Result<CommandAccepted, Problem> = send(
        &st,
        rq::FILE_ACCESS,
        &crate::common::municipality(),
        &nurse_files,
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(municipality.unwrap_err().status, 403);

    // Only the officer decides and lists: 403 for others.
    let execute = json!({ "request": erasure_request, "decision": "uitvoeren" });
    let by_nurse: Result<CommandAccepted, Problem> = send(
        &st,
        rq::DECIDE_ERASURE,
        &filing_nurse(),
        &execute,
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(by_nurse.unwrap_err().status, 403);
    let listed_by_nurse: Result<RequestList, Problem> = st
        .request(rq::LIST_ACCESS, &filing_nurse(), &json!({}))
        .await;
    assert_eq!(listed_by_nurse.unwrap_err().status, 403);
    // A request of the other kind, or an unknown one: 404.
    let wrong_kind: Result<CommandAccepted, Problem> =
        send(&st, rq::DECIDE_ACCESS, &officer(), &execute, Uuid::new_v4()).await;
    assert_eq!(wrong_kind.unwrap_err().status, 404);

    let erasures = list(&st, rq::LIST_ERASURE).await;
    assert_eq!((erasures.open, erasures.overdue), (1, 1));
    let row = &erasures.requests[0];
    assert_eq!(row.id, erasure_request);
    assert_eq!(row.subject, child);
    assert!(row.overdue);
    assert_eq!(
        row.deadline,
        kansrijk_privacy::requests::deadline(row.received_on)
    );
    let accesses = list(&st, rq::LIST_ACCESS).await;
    assert_eq!(accesses.requests.len(), 1);
    assert!(!accesses.requests[0].overdue);
    assert_eq!(
        serde_json::to_value(accesses.requests[0].requester).unwrap(),
        "medewerker"
    );
    // Both lists pass the disclosure check for the privacy officer (listed as checked in
    // access_log.rs): administrative data only, pseudonymous ids.
    for (view, sample) in [
        ("privacy.verwijderverzoeken", &erasures),
        ("privacy.inzageverzoeken", &accesses),
    ] {
        kansrijk_privacy::disclosure::assert_disclosure(
            view,
            kansrijk_proto::actor::OrganisationType::Privacyfunctionaris,
            &serde_json::to_value(sample).unwrap(),
            &kansrijk_privacy::disclosure::FieldCategories::from_pairs([
                (
                    "requests",
                    kansrijk_proto::category::DataCategory::Administrative,
                ),
                (
                    "open",
                    kansrijk_proto::category::DataCategory::Administrative,
                ),
                (
                    "overdue",
                    kansrijk_proto::category::DataCategory::Administrative,
                ),
                (
                    "today",
                    kansrijk_proto::category::DataCategory::Administrative,
                ),
            ]),
        );
    }

    // Under a legal hold: refused (409), nothing erased, the request open with the refusal.
    let _: CommandAccepted = st
        .request(
            subjects::PLACE_HOLD,
            &officer(),
            &PlaceLegalHold {
                subject: child,
                reason: "rechterlijke-procedure".into(),
            },
        )
        .await
        .unwrap();
    let held_try = Uuid::new_v4();
    for _ in 0..2 {
        // A retry with the same command id tries again (and is refused again).
        let held: Result<CommandAccepted, Problem> =
            send(&st, rq::DECIDE_ERASURE, &officer(), &execute, held_try).await;
        let p = held.unwrap_err();
        assert_eq!((p.status, p.code.as_deref()), (409, Some("bewaarplicht")));
    }
    let row = list(&st, rq::LIST_ERASURE).await.requests.remove(0);
    assert_eq!(row.status, RequestStatus::Ontvangen);
    assert_eq!(
        row.refused_under_hold.as_deref(),
        Some("rechterlijke-procedure")
    );
    assert_eq!(row.hold.as_deref(), Some("rechterlijke-procedure"));
    assert!(!row.subject_erased);
    let refusals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE stream_id = $1 \
         AND event_type LIKE 'nl.privacy.verzoek-uitvoering-geweigerd.%'",
    )
    .bind(erasure_request)
    .fetch_one(&st.pool)
    .await
    .unwrap();
    assert_eq!(refusals, 1, "the same refusal is recorded once");

    // The hold lifted: executed, the subject erased with it.
    let _: CommandAccepted = st
        .request(
            subjects::LIFT_HOLD,
            &officer(),
            &LiftLegalHold { subject: child },
        )
        .await
        .unwrap();
    let done_id = Uuid::new_v4();
    let done: CommandAccepted = send(&st, rq::DECIDE_ERASURE, &officer(), &execute, done_id)
        .await
        .unwrap();
    assert!(done.first_time);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM subject_keys WHERE subject = $1")
        .bind(child)
        .fetch_one(&st.pool)
        .await
        .unwrap();
    assert_eq!(keys, 0, "the key is destroyed");
    let grounds: Option<String> =
        sqlx::query_scalar("SELECT erasure_grounds FROM subjects WHERE subject = $1")
            .bind(child)
            .fetch_one(&st.pool)
            .await
            .unwrap();
    assert_eq!(grounds.as_deref(), Some("verzoek-betrokkene"));
    let again: CommandAccepted = send(&st, rq::DECIDE_ERASURE, &officer(), &execute, done_id)
        .await
        .unwrap();
    assert!(!again.first_time);
    let erasures = list(&st, rq::LIST_ERASURE).await;
    assert_eq!((erasures.open, erasures.overdue), (0, 0));
    let row = &erasures.requests[0];
    assert_eq!(row.status, RequestStatus::Uitgevoerd);
    assert!(row.subject_erased && !row.overdue && row.refused_under_hold.is_none());
    // A new request about the erased subject: 410.
    let gone: Result<CommandAccepted, Problem> =
        send(&st, rq::FILE_ERASURE, &officer(), &body, Uuid::new_v4()).await;
    assert_eq!(gone.unwrap_err().status, 410);

    // Rejecting needs a code; then it is rejected, and cannot be executed any more.
    let free_text: Result<CommandAccepted, Problem> = send(
        &st,
        rq::DECIDE_ACCESS,
        &officer(),
        &json!({ "request": access_request, "decision": "afwijzen", "reason": "Vader belde" }),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(free_text.unwrap_err().status, 400);
    let _: CommandAccepted = send(
        &st,
        rq::DECIDE_ACCESS,
        &officer(),
        &json!({ "request": access_request, "decision": "afwijzen",
                 "reason": "identiteit-niet-vastgesteld" }),
        Uuid::new_v4(),
    )
    .await
    .unwrap();
    let late: Result<CommandAccepted, Problem> = send(
        &st,
        rq::DECIDE_ACCESS,
        &officer(),
        &json!({ "request": access_request, "decision": "uitvoeren" }),
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(late.unwrap_err().status, 409);
    let row = list(&st, rq::LIST_ACCESS).await.requests.remove(0);
    assert_eq!(row.status, RequestStatus::Afgewezen);
    assert_eq!(row.reason.as_deref(), Some("identiteit-niet-vastgesteld"));

    // A subject-access request executed: the document is assembled (an export in the log).
    let second: CommandAccepted = send(
        &st,
        rq::FILE_ACCESS,
        &officer(),
        &json!({ "subject": other, "requester": "betrokkene" }),
        Uuid::new_v4(),
    )
    .await
    .unwrap();
    let _: CommandAccepted = send(
        &st,
        rq::DECIDE_ACCESS,
        &officer(),
        &json!({ "request": second.stream_id, "decision": "uitvoeren" }),
        Uuid::new_v4(),
    )
    .await
    .unwrap();
    let accesses = list(&st, rq::LIST_ACCESS).await;
    assert!(accesses
        .requests
        .iter()
        .any(|r| r.id == second.stream_id && r.status == RequestStatus::Uitgevoerd));

    // Every step is in the access log, the refusals too.
    let log: Vec<(String, String, String)> =
        sqlx::query_as("SELECT event, outcome, access_point FROM access_log ORDER BY seq")
            .fetch_all(&st.pool)
            .await
            .unwrap();
    let has = |e: &str, o: &str, a: &str| log.iter().any(|x| x.0 == e && x.1 == o && x.2 == a);
    assert!(has(
        "create",
        "success",
        "privacy.verwijderverzoek-indienen"
    ));
    assert!(has(
        "delete",
        "failed",
        "privacy.verwijderverzoek-besluiten"
    ));
    assert!(has(
        "delete",
        "success",
        "privacy.verwijderverzoek-besluiten"
    ));
    assert!(has(
        "delete",
        "denied",
        "privacy.verwijderverzoek-besluiten"
    ));
    assert!(has("export", "success", "privacy.inzageverzoek-besluiten"));
    assert!(has("search", "success", "privacy.verwijderverzoeken"));

    // The events hold no personal data: only ids, codes and dates.
    let data: Vec<Value> = sqlx::query_scalar(
        "SELECT data FROM events WHERE stream_type = 'privacyverzoek' ORDER BY position",
    )
    .fetch_all(&st.pool)
    .await
    .unwrap();
    assert!(data.len() >= 6, "{data:?}");
    assert!(!data.iter().any(|d| d.to_string().contains("pw-")));
    st.stop().await;
}

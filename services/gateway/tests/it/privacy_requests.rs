//! The register of erasure and subject-access requests over HTTP, against the real privacy
//! service on PostgreSQL and NATS: filed (201, then 200 for the same Idempotency-Key), listed,
//! decided by the privacy officer only (403 for others), 404 for an unknown subject.

use std::time::Duration;

use kansrijk_proto::privacy::SubjectKind;
use kansrijk_runtime::identity::service_actor;
use kansrijk_runtime::keys::KeyClient;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::common::{Options, TestApp};

#[tokio::test]
async fn requests_over_http_are_filed_listed_and_decided_by_the_officer() {
    let app = TestApp::start(Options {
        nats: true,
        db: true,
        ..Default::default()
    })
    .await;
    let shutdown = CancellationToken::new();
    let db_url = app.db.as_ref().unwrap().url.clone();
    let nats_url = app.nats_server.as_ref().unwrap().url();
    let privacy = kansrijk_privacy::spawn_local(&db_url, &nats_url, &shutdown)
        .await
        .unwrap();
    let keys = KeyClient::new(
        app.nats.clone().unwrap(),
        service_actor("vve", kansrijk_runtime::config::DEFAULT_OIN),
        Duration::from_secs(10),
    );
    let child = Uuid::new_v4();
    keys.create(child, SubjectKind::Kind, "0546").await.unwrap();
    let officer = app.token("privacyfunctionaris");
    let nurse = app.token("jgz-verpleegkundige");

    // Filed by the officer: 201, then 200 with the same request for the same key.
    let key = Uuid::new_v4();
    let body = json!({ "subject": child, "requester": "ouder" });
    let r = app
        .post("/v1/verwijderverzoeken", Some(&officer), &body, Some(key))
        .await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let id = first["streamId"].as_str().unwrap().to_owned();
    let r = app
        .post("/v1/verwijderverzoeken", Some(&officer), &body, Some(key))
        .await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["streamId"], first["streamId"]);

    // An unknown subject: 404, a problem, no request.
    let r = app
        .post(
            "/v1/verwijderverzoeken",
            Some(&officer),
            &json!({ "subject": Uuid::new_v4(), "requester": "ouder" }),
            Some(Uuid::new_v4()),
        )
        .await;
    assert_eq!(r.status(), 404);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["status"], 404);
    // Invalid input: every error at once.
    let r = app
        .post(
            "/v1/verwijderverzoeken",
            Some(&officer),
            &json!({ "subject": "geen-uuid", "requester": "buurman" }),
            Some(Uuid::new_v4()),
        )
        .await;
    assert_eq!(r.status(), 400);

    // The officer's list: the open request, with its deadline a month after today.
    let r = app.get("/v1/verwijderverzoeken", Some(&officer)).await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["open"], 1);
    let row = &list["requests"][0];
    assert_eq!(row["id"].as_str(), Some(id.as_str()));
    assert_eq!(row["status"], "ontvangen");
    assert_eq!(row["requester"], "ouder");
    assert_eq!(row["overdue"], false);
    assert!(row["deadline"].as_str().is_some());
    // Not for others.
    let r = app.get("/v1/verwijderverzoeken", Some(&nurse)).await;
    assert_eq!(r.status(), 403);

    // Only the officer decides.
    let decide = format!("/v1/verwijderverzoeken/{id}/besluit");
    let r = app
        .post(
            &decide,
            Some(&nurse),
            &json!({ "decision": "uitvoeren" }),
            Some(Uuid::new_v4()),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post(
            &decide,
            Some(&officer),
            &json!({ "decision": "uitvoeren" }),
            Some(Uuid::new_v4()),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = app
        .get("/v1/verwijderverzoeken?status=uitgevoerd", Some(&officer))
        .await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["requests"][0]["status"], "uitgevoerd");
    assert_eq!(list["requests"][0]["subjectErased"], true);
    assert_eq!(list["open"], 0);
    // An unknown request: 404.
    let r = app
        .post(
            &format!("/v1/verwijderverzoeken/{}/besluit", Uuid::new_v4()),
            Some(&officer),
            &json!({ "decision": "uitvoeren" }),
            Some(Uuid::new_v4()),
        )
        .await;
    assert_eq!(r.status(), 404);

    // A subject-access request about another child, rejected with a reason code.
    let other = Uuid::new_v4();
    keys.create(other, SubjectKind::Kind, "0546").await.unwrap();
    let r = app
        .post(
            "/v1/inzageverzoeken",
            Some(&officer),
            &json!({ "subject": other, "requester": "betrokkene", "receivedOn": "2025-01-31" }),
            Some(Uuid::new_v4()),
        )
        .await;
    assert_eq!(r.status(), 201);
    let access: Value = r.json().await.unwrap();
    let access_id = access["streamId"].as_str().unwrap().to_owned();
    let r = app.get("/v1/inzageverzoeken", Some(&officer)).await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["requests"][0]["deadline"], "2025-02-28");
    assert_eq!(list["requests"][0]["overdue"], true);
    assert_eq!(list["overdue"], 1);
    let r = app
        .post(
            &format!("/v1/inzageverzoeken/{access_id}/besluit"),
            Some(&officer),
            &json!({ "decision": "afwijzen", "reason": "identiteit-niet-vastgesteld" }),
            Some(Uuid::new_v4()),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = app
        .get("/v1/inzageverzoeken?status=afgewezen", Some(&officer))
        .await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["requests"][0]["reason"], "identiteit-niet-vastgesteld");
    assert_eq!(list["overdue"], 0);

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), privacy).await;
}

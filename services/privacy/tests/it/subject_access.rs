//! Subject access: the privacy service asks every service for its part, with a bound per
//! service, and says which did not answer.

use std::time::Duration;

use futures::StreamExt;
use kansrijk_privacy::subject_access::SubjectAccessReply;
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::command::Reply;
use kansrijk_proto::privacy::{
    subjects, SubjectAccessPart, SubjectAccessRequest, SubjectAccessSection, SubjectKind,
};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::keys::KeyClient;
use uuid::Uuid;

use crate::common::{nurse, officer, service, Stack};

#[tokio::test]
async fn everything_about_a_child_in_one_document_with_missing_services_named() {
    let stack = Stack::start_with(|c| {
        c.inzage_services = vec!["vve".into(), "overdracht".into(), "casework".into()];
        c.inzage_timeout = Duration::from_millis(500);
    })
    .await;
    let child = Uuid::new_v4();
    KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_secs(60))
        .create(child, SubjectKind::Kind, "0546")
        .await
        .unwrap();
    AccessLogClient::new(stack.nats.clone(), service("views"))
        .record(vec![AccessEntry::new(
            &nurse(),
            AccessEvent::Read,
            "vve.werklijst",
            Some(child),
            AccessOutcome::Success,
            None,
        )])
        .await
        .unwrap();

    // vve answers; overdracht is too slow; casework is not running at all.
    let mut vve = stack
        .nats
        .subscribe(subjects::subject_access_part("vve"))
        .await
        .unwrap();
    let nats = stack.nats.clone();
    tokio::spawn(async move {
        while let Some(msg) = vve.next().await {
            let req: SubjectAccessRequest = serde_json::from_slice(&msg.payload).unwrap();
            let part = SubjectAccessPart {
                service: "vve".into(),
                subject: req.subject,
                sections: vec![SubjectAccessSection {
                    title: "Kind".into(),
                    category: DataCategory::Identifying,
                    data: serde_json::json!({ "roepnaam": "Noor", "indicatie": { "criteria": ["taal"] } }),
                }],
            };
            let reply = serde_json::to_vec(&Reply::Ok(part)).unwrap();
            nats.publish(msg.reply.unwrap(), reply.into())
                .await
                .unwrap();
        }
    });
    let mut slow = stack
        .nats
        .subscribe(subjects::subject_access_part("overdracht"))
        .await
        .unwrap();
    let nats = stack.nats.clone();
    tokio::spawn(async move {
        while let Some(msg) = slow.next().await {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let _ = nats.publish(msg.reply.unwrap(), "{}".into()).await;
        }
    });
    stack.nats.flush().await.unwrap();

    // Only the privacy officer may ask.
    let r: Result<SubjectAccessReply, Problem> = stack
        .request(
            subjects::SUBJECT_ACCESS,
            &nurse(),
            &SubjectAccessRequest { subject: child },
        )
        .await;
    assert_eq!(r.unwrap_err().status, 403);

    let started = std::time::Instant::now();
    let reply: SubjectAccessReply = stack
        .request(
            subjects::SUBJECT_ACCESS,
            &officer(),
            &SubjectAccessRequest { subject: child },
        )
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the per-service timeout"
    );
    let doc = &reply.document;
    assert!(!doc.complete);
    let services: Vec<&str> = doc.parts.iter().map(|p| p.service.as_str()).collect();
    assert_eq!(services, vec!["privacy", "vve"]);
    let mut missing: Vec<(String, String)> = doc
        .missing
        .iter()
        .map(|m| (m.service.clone(), m.reason.clone()))
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        vec![
            ("casework".into(), "niet-bereikbaar".into()),
            ("overdracht".into(), "geen-antwoord".into()),
        ]
    );
    // The privacy part: the key is active and the nurse's read is in the extract.
    let own = &doc.parts[0];
    assert_eq!(own.sections[0].data["status"], "actief");
    let log = &own
        .sections
        .iter()
        .find(|s| s.title.starts_with("Toegangslog"))
        .unwrap()
        .data;
    assert_eq!(log[0]["accessPoint"], "vve.werklijst");
    assert_eq!(log[0]["user"], "pw-nurse-1");
    // The readable form.
    assert!(reply.text.contains("roepnaam: Noor"));
    assert!(reply.text.contains("onvolledig"));
    assert!(reply.text.contains("overdracht: geen-antwoord"));
    assert!(reply.text.contains("vve.werklijst"));
    // The privacy officer may see every category: the sections carry their own, the text all.
    kansrijk_privacy::disclosure::assert_disclosure(
        "privacy.inzageverzoek",
        kansrijk_proto::actor::OrganisationType::Privacyfunctionaris,
        &serde_json::to_value(&reply).unwrap(),
        &kansrijk_privacy::disclosure::FieldCategories::from_pairs([
            ("document", DataCategory::Administrative),
            ("document.parts.sections.data", DataCategory::Safety),
            ("text", DataCategory::Safety),
        ]),
    );
    // The export is in the access log.
    let exports: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM access_log WHERE subject = $1 AND event = 'export' AND outcome = 'success'",
    )
    .bind(child)
    .fetch_one(&stack.pool)
    .await
    .unwrap();
    assert_eq!(exports, 1);
    stack.stop().await;
}

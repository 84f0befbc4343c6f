//! The key and pseudonym API: who may use it, idempotent creation, erased subjects, rotation.

use std::time::Duration;

use kansrijk_privacy::rotate_master_key;
use kansrijk_privacy::Privacy;
use kansrijk_proto::privacy::{PseudonymReply, PseudonymRequest, SubjectKind};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use kansrijk_runtime::crypto::MasterKeyRing;
use kansrijk_runtime::keys::{CreateKeyRequest, KeyClient, KeyError, KeyMaterial, KeysReply};
use uuid::Uuid;

use crate::common::{nurse, officer, service, Stack};

#[tokio::test]
async fn keys_are_created_once_and_fetched_by_services_only() {
    let stack = Stack::start().await;
    let vve = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_secs(60));
    let subject = Uuid::new_v4();
    let k1 = vve
        .create(subject, SubjectKind::Kind, "0546")
        .await
        .unwrap();
    // Another service creating the same subject's key gets the same key (idempotent).
    let overdracht = KeyClient::new(
        stack.nats.clone(),
        service("overdracht"),
        Duration::from_secs(60),
    );
    let k2 = overdracht
        .create(subject, SubjectKind::Kind, "0546")
        .await
        .unwrap();
    assert_eq!(k1.expose_bytes(), k2.expose_bytes());
    let views = KeyClient::new(
        stack.nats.clone(),
        service("views"),
        Duration::from_secs(60),
    );
    let k3 = views.get(subject).await.unwrap();
    assert_eq!(k1.expose_bytes(), k3.expose_bytes());
    // One creation event only.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1")
        .bind(kansrijk_privacy::subjects::stream_id(subject))
        .fetch_one(&stack.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    // The wrapped key at rest is not the key.
    let wrapped: Vec<u8> =
        sqlx::query_scalar("SELECT wrapped FROM subject_keys WHERE subject = $1")
            .bind(subject)
            .fetch_one(&stack.pool)
            .await
            .unwrap();
    assert!(!wrapped
        .windows(32)
        .any(|w| w == k1.expose_bytes().as_slice()));

    // Unknown subjects are unknown.
    assert!(matches!(
        views.get(Uuid::new_v4()).await,
        Err(KeyError::Unknown)
    ));

    // A user, or a service that is not a key client, is refused.
    for actor in [nurse(), officer(), service("gateway")] {
        let r: Result<KeysReply, Problem> = stack
            .request(
                subject::privacy::KEYS_CREATE,
                &actor,
                &CreateKeyRequest {
                    subject,
                    subject_kind: SubjectKind::Kind,
                    municipality: "0546".into(),
                },
            )
            .await;
        assert_eq!(r.unwrap_err().status, 403);
    }
    // A malformed municipality code is a 400 naming the field.
    let r: Result<KeysReply, Problem> = stack
        .request(
            subject::privacy::KEYS_CREATE,
            &service("vve"),
            &CreateKeyRequest {
                subject: Uuid::new_v4(),
                subject_kind: SubjectKind::Kind,
                municipality: "Leiden".into(),
            },
        )
        .await;
    let p = r.unwrap_err();
    assert_eq!(p.status, 400);
    assert_eq!(p.invalid_params[0].name, "municipality");
    stack.stop().await;
}

#[tokio::test]
async fn erased_subjects_answer_erased_and_get_no_new_key() {
    let stack = Stack::start().await;
    let vve = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_millis(1));
    let subject = Uuid::new_v4();
    vve.create(subject, SubjectKind::Kind, "0546")
        .await
        .unwrap();
    stack
        .privacy()
        .erase(
            subject,
            kansrijk_proto::privacy::ErasureGrounds::VerzoekBetrokkene,
            &officer(),
            None,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(matches!(vve.get(subject).await, Err(KeyError::Erased)));
    // Erased through a handle without a relay (as the CLI does): the running service's relay
    // publishes the event at its next poll.
    let js = async_nats::jetstream::new(stack.nats.clone());
    let stream = js
        .get_stream(kansrijk_proto::subject::EVENTS_STREAM)
        .await
        .unwrap();
    let published = kansrijk_runtime::testing::eventually(
        Duration::from_secs(10),
        "the erasure event on JetStream",
        || {
            let stream = stream.clone();
            async move {
                let m = stream
                    .get_last_raw_message_by_subject(
                        &kansrijk_runtime::erasure::erasure_events_subject(),
                    )
                    .await
                    .ok()?;
                let ce: kansrijk_proto::envelope::CloudEvent =
                    serde_json::from_slice(&m.payload).ok()?;
                kansrijk_runtime::erasure::subject_erased(&ce)
            }
        },
    )
    .await;
    assert_eq!(published.subject, subject);
    let r: KeysReply = stack
        .request(
            subject::privacy::KEYS_CREATE,
            &service("vve"),
            &CreateKeyRequest {
                subject,
                subject_kind: SubjectKind::Kind,
                municipality: "0546".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.keys, vec![KeyMaterial::Erased { subject }]);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM subject_keys WHERE subject = $1")
        .bind(subject)
        .fetch_one(&stack.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    stack.stop().await;
}

#[tokio::test]
async fn pseudonyms_are_keyed_stable_and_for_services_only() {
    let stack = Stack::start().await;
    let ask = |values: Vec<&str>| PseudonymRequest {
        domain: "bsn".into(),
        values: values.into_iter().map(str::to_owned).collect(),
    };
    let a: PseudonymReply = stack
        .request(
            subject::privacy::PSEUDONYM,
            &service("vve"),
            &ask(vec!["111222333", "123456782"]),
        )
        .await
        .unwrap();
    let b: PseudonymReply = stack
        .request(
            subject::privacy::PSEUDONYM,
            &service("overdracht"),
            &ask(vec!["111222333"]),
        )
        .await
        .unwrap();
    assert_eq!(a.pseudonyms.len(), 2);
    assert_eq!(
        a.pseudonyms[0], b.pseudonyms[0],
        "the same BSN matches across services"
    );
    assert_ne!(a.pseudonyms[0], a.pseudonyms[1]);
    assert!(!a.pseudonyms[0].contains("111222333"));
    // Not a plain hash: the key is the service's.
    let plain = kansrijk_runtime::crypto::Pseudonymizer::new(b"").pseudonym("bsn", "111222333");
    assert_ne!(a.pseudonyms[0], plain);
    let r: Result<PseudonymReply, Problem> = stack
        .request(
            subject::privacy::PSEUDONYM,
            &nurse(),
            &ask(vec!["111222333"]),
        )
        .await;
    assert_eq!(r.unwrap_err().status, 403);
    stack.stop().await;
}

#[tokio::test]
async fn rotating_the_master_key_rewraps_every_key() {
    let stack = Stack::start().await;
    let vve = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_secs(60));
    let mut keys = Vec::new();
    for _ in 0..7 {
        let s = Uuid::new_v4();
        keys.push(vve.create(s, SubjectKind::Kind, "0546").await.unwrap());
    }
    // The operator adds master key 2 in front of key 1 and rotates (while the service runs).
    let new_spec = MasterKeyRing::generate_spec(2);
    let mut config = stack.config.clone();
    let old_spec = stack.master_spec.clone();
    config.master_keys = MasterKeyRing::parse(&format!("{new_spec},{old_spec}")).unwrap();
    let report = rotate_master_key(&stack.pool, &config.master_keys)
        .await
        .unwrap();
    assert_eq!(report.rewrapped, 7);
    assert_eq!(report.current_master_key, 2);
    // Again: nothing left to do.
    let again = rotate_master_key(&stack.pool, &config.master_keys)
        .await
        .unwrap();
    assert_eq!(again.rewrapped, 0);
    // With the old master key gone, every key still opens.
    config.master_keys = MasterKeyRing::parse(&new_spec).unwrap();
    let privacy = Privacy::new(stack.pool.clone(), config, None);
    let subjects: Vec<Uuid> = keys.iter().map(|k| k.subject).collect();
    let reply = privacy.get_keys(&subjects).await.unwrap();
    for (k, m) in keys.iter().zip(reply.keys) {
        assert_eq!(m, KeyMaterial::active(k));
    }
    stack.stop().await;
}

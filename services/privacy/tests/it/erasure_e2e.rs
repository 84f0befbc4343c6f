//! End to end: a domain service seals a child's BSN, name and birth date with the child's key
//! into an event, its relay publishes it, a view opens it into a read model; then the privacy
//! officer erases the child. Afterwards nothing readable is left in any table of the database or
//! in the JetStream store files, in plain text, base64 or hex. Also: a legal hold refuses erasure.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use futures::future::BoxFuture;
use kansrijk_privacy::subject_access::SubjectAccessReply;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::envelope::{CloudEvent, EventType, Source};
use kansrijk_proto::privacy::{
    subjects, EraseSubject, ErasureGrounds, LiftLegalHold, PlaceLegalHold, SubjectAccessRequest,
    SubjectKind,
};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::sealed::Sealed;
use kansrijk_runtime::erasure::{drop_subject_rows, is_privacy_event, subject_erased};
use kansrijk_runtime::keys::{KeyClient, KeyError};
use kansrijk_runtime::projection::{Projection, ProjectionRunner, RunnerConfig};
use kansrijk_runtime::relay::{Relay, RelayConfig};
use kansrijk_runtime::store::{Append, EventStore, ExpectedVersion, Metadata, NewEvent};
use kansrijk_runtime::testing::eventually;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::common::{nurse, officer, service, Stack};

const BSN: &str = "111222333";
const NAME: &str = "Noor Vermeulen-Bakker";
const BIRTH_DATE: &str = "2022-03-14";
const BIRTH_DATE_NL: &str = "14-03-2022";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChildPersonal {
    bsn: String,
    name: String,
    birth_date: String,
}

/// A read model that holds the opened personal data (the worst case for erasure) and drops it
/// when the subject is erased, with the runtime's erasure helpers.
struct ChildView {
    keys: Arc<KeyClient>,
}

impl Projection for ChildView {
    fn name(&self) -> &'static str {
        "proef_kinderen"
    }

    fn handles(&self, event: &CloudEvent) -> bool {
        event.streamtype == "kind" || is_privacy_event(event)
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            if let Some(erased) = subject_erased(event) {
                self.keys.forget(erased.subject);
                drop_subject_rows(conn, &[("proef.kinderen", "subject")], erased.subject).await?;
                return Ok(());
            }
            if event.event_type.name() != "nl.proef.kind-ingeschreven" {
                return Ok(());
            }
            let sealed: Sealed<ChildPersonal> =
                serde_json::from_value(event.data["persoon"].clone())?;
            let key = match self.keys.get(sealed.subject).await {
                Ok(k) => k,
                // Erased before we got here: there is nothing to hold.
                Err(KeyError::Erased) => return Ok(()),
                Err(e) => anyhow::bail!("key: {e}"),
            };
            let p = key.open(&sealed)?;
            sqlx::query(
                "INSERT INTO proef.kinderen (subject, bsn, naam, geboortedatum) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (subject) DO NOTHING",
            )
            .bind(sealed.subject)
            .bind(&p.bsn)
            .bind(&p.name)
            .bind(&p.birth_date)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    fn reset<'a>(&'a self, conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM proef.kinderen")
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }
}

/// Every way `needle` could be written down readably.
fn encodings(needle: &str) -> Vec<String> {
    let bytes = needle.as_bytes();
    let mut out = vec![
        needle.to_owned(),
        needle.to_lowercase(),
        needle.to_uppercase(),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
        bytes.iter().map(|b| format!("{b:02X}")).collect(),
    ];
    // Base64 of the needle inside a longer text: three alignments, only the stable middle.
    for shift in 0..3 {
        let mut padded = vec![b'_'; shift];
        padded.extend_from_slice(bytes);
        for enc in [STANDARD.encode(&padded), URL_SAFE_NO_PAD.encode(&padded)] {
            let start = if shift == 0 { 0 } else { 4 };
            let end = (padded.len() / 3) * 4;
            if end > start + 8 {
                out.push(enc[start..end].to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn needles() -> Vec<(String, String)> {
    [BSN, NAME, "Vermeulen", BIRTH_DATE, BIRTH_DATE_NL]
        .iter()
        .flat_map(|n| encodings(n).into_iter().map(move |e| ((*n).to_owned(), e)))
        .collect()
}

/// Every row of every table of every schema, as text.
async fn scan_database(admin: &PgPool) -> (usize, Vec<String>) {
    let tables = sqlx::query(
        "SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(admin)
    .await
    .unwrap();
    let needles = needles();
    let mut found = Vec::new();
    let mut rows_scanned = 0;
    for t in &tables {
        let schema: String = t.get("table_schema");
        let table: String = t.get("table_name");
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT t::text FROM \"{schema}\".\"{table}\" t"))
                .fetch_all(admin)
                .await
                .unwrap();
        for row in rows {
            rows_scanned += 1;
            for (what, enc) in &needles {
                if row.contains(enc.as_str()) {
                    found.push(format!("{schema}.{table}: {what} as {enc}"));
                }
            }
        }
    }
    (rows_scanned, found)
}

fn scan_files(
    dir: &Path,
    found: &mut Vec<String>,
    needles: &[(String, String)],
    files: &mut usize,
) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            scan_files(&path, found, needles, files);
        } else if let Ok(bytes) = std::fs::read(&path) {
            *files += 1;
            for (what, enc) in needles {
                if bytes.windows(enc.len()).any(|w| w == enc.as_bytes()) {
                    found.push(format!("{}: {what} as {enc}", path.display()));
                }
            }
        }
    }
}

/// The "proef" service's part of a subject access request, with the runtime's helpers.
fn serve_subject_access(
    nats: async_nats::Client,
    store: EventStore,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let keys = Arc::new(KeyClient::new(
        nats.clone(),
        service("proef"),
        Duration::from_millis(1),
    ));
    let mut endpoints = kansrijk_runtime::service::Endpoints::new();
    endpoints.insert(
        subjects::subject_access_part("proef"),
        kansrijk_runtime::service::handler(move |req| {
            let (keys, store) = (keys.clone(), store.clone());
            async move {
                kansrijk_runtime::subject_access::require_privacy_officer(&req.actor)?;
                let body: SubjectAccessRequest = req.json()?;
                kansrijk_runtime::subject_access::part_from_store(
                    &store,
                    &keys,
                    "proef",
                    body.subject,
                    &[body.subject],
                )
                .await
            }
        }),
    );
    tokio::spawn(kansrijk_runtime::service::serve(
        nats, "proef", endpoints, 8, shutdown,
    ));
}

#[tokio::test]
async fn after_erasure_nothing_readable_is_left_anywhere() {
    let stack = Stack::start_with(|c| {
        c.inzage_services = vec!["proef".into()];
        c.key_clients.push("proef".into());
    })
    .await;
    let oin = kansrijk_runtime::config::DEFAULT_OIN;

    // A domain service "proef" with its own store and relay, like vve.
    let proef_pool = stack.db.pool("proef").await;
    sqlx::query("CREATE TABLE proef.kinderen (subject uuid PRIMARY KEY, bsn text, naam text, geboortedatum text)")
        .execute(&proef_pool)
        .await
        .unwrap();
    let store = EventStore::new(proef_pool.clone());
    let js = async_nats::jetstream::new(stack.nats.clone());
    let shutdown = stack.shutdown.child_token();
    let relay = Relay::new(
        store.clone(),
        js.clone(),
        RelayConfig {
            service: "proef".into(),
            source: Source::new("oin", oin, "proef").unwrap(),
            batch_size: 100,
            poll_interval: Duration::from_millis(50),
        },
    );
    tokio::spawn(relay.run(shutdown.clone()));
    let view_keys = Arc::new(KeyClient::new(
        stack.nats.clone(),
        service("views"),
        Duration::from_secs(60),
    ));
    let runner = ProjectionRunner::new(
        proef_pool.clone(),
        js,
        Arc::new(ChildView { keys: view_keys }),
        RunnerConfig {
            batch_size: 100,
            fetch_wait: Duration::from_millis(100),
        },
    );
    tokio::spawn(runner.run(shutdown.clone()));

    // The domain service registers the child: key, pseudonym, sealed payload.
    let keys = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_secs(60));
    let child = Uuid::new_v4();
    let key = keys.create(child, SubjectKind::Kind, "0546").await.unwrap();
    let sealed = key
        .seal(&ChildPersonal {
            bsn: BSN.into(),
            name: NAME.into(),
            birth_date: BIRTH_DATE.into(),
        })
        .unwrap();
    let bystander = Uuid::new_v4();
    let bystander_key = keys
        .create(bystander, SubjectKind::Kind, "0546")
        .await
        .unwrap();
    for (subject, k, person) in [
        (child, &key, sealed),
        (
            bystander,
            &bystander_key,
            bystander_key
                .seal(&ChildPersonal {
                    bsn: "123456782".into(),
                    name: "Sem de Jong".into(),
                    birth_date: "2021-11-02".into(),
                })
                .unwrap(),
        ),
    ] {
        let _ = k;
        store
            .append(Append {
                stream_id: subject,
                stream_type: "kind".into(),
                municipality: "0546".into(),
                expected: ExpectedVersion::NoStream,
                command_id: None,
                metadata: Metadata::default(),
                events: vec![NewEvent {
                    id: Uuid::now_v7(),
                    event_type: EventType::new("nl.proef.kind-ingeschreven", 1).unwrap(),
                    data: serde_json::json!({ "kind": subject, "gemeente": "0546", "persoon": person }),
                }],
            })
            .await
            .unwrap();
    }
    // The view opened both.
    eventually(
        Duration::from_secs(20),
        "the view holds both children",
        || {
            let pool = proef_pool.clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM proef.kinderen")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
                (n == 2).then_some(())
            }
        },
    )
    .await;

    // Positive controls: the scanners do find what is there.
    let admin = kansrijk_runtime::db::connect(&stack.db.url, "public", 2)
        .await
        .unwrap();
    let (_, before) = scan_database(&admin).await;
    assert!(
        before
            .iter()
            .any(|f| f.starts_with("proef.kinderen") && f.contains(NAME)),
        "the database scan finds the opened name: {before:?}"
    );
    let mut files = 0;
    let mut control = Vec::new();
    scan_files(
        stack.nats_server.store_dir(),
        &mut control,
        &[(child.to_string(), child.to_string())],
        &mut files,
    );
    assert!(
        files > 0 && !control.is_empty(),
        "the JetStream scan reads the stored events"
    );

    // Subject access before erasure: the proef service's part shows the opened data.
    serve_subject_access(stack.nats.clone(), store.clone(), shutdown.clone());
    let access: SubjectAccessReply = kansrijk_runtime::testing::eventually(
        Duration::from_secs(10),
        "the proef part of a subject access request",
        || async {
            let r: SubjectAccessReply = stack
                .request(
                    subjects::SUBJECT_ACCESS,
                    &officer(),
                    &SubjectAccessRequest { subject: child },
                )
                .await
                .ok()?;
            r.document.complete.then_some(r)
        },
    )
    .await;
    assert!(access.text.contains(NAME), "{}", access.text);
    assert!(access.text.contains(BSN));
    assert_eq!(
        access.document.parts[1].sections[0].category,
        kansrijk_proto::category::DataCategory::Safety,
        "an event type the build does not know counts as the most sensitive"
    );

    // A user may not erase; the privacy officer may.
    let erase = EraseSubject {
        subject: child,
        grounds: ErasureGrounds::VerzoekBetrokkene,
    };
    let r: Result<CommandAccepted, Problem> =
        stack.request(subjects::ERASE, &nurse(), &erase).await;
    assert_eq!(r.unwrap_err().status, 403);
    let accepted: CommandAccepted = stack
        .request(subjects::ERASE, &officer(), &erase)
        .await
        .unwrap();
    assert!(accepted.first_time);
    // Erasing again: 410.
    let r: Result<CommandAccepted, Problem> =
        stack.request(subjects::ERASE, &officer(), &erase).await;
    assert_eq!(r.unwrap_err().status, 410);

    // The view dropped the child (the erasure event came over JetStream); the bystander stays.
    eventually(
        Duration::from_secs(20),
        "the view dropped the child",
        || {
            let pool = proef_pool.clone();
            async move {
                let n: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM proef.kinderen WHERE subject = $1")
                        .bind(child)
                        .fetch_one(&pool)
                        .await
                        .ok()?;
                (n == 0).then_some(())
            }
        },
    )
    .await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM proef.kinderen")
        .fetch_one(&proef_pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
    // No service can get the key any more, and the event's ciphertext stays shut.
    let fresh = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_secs(60));
    assert!(matches!(fresh.get(child).await, Err(KeyError::Erased)));

    // Subject access now shows the fact of the registration, but nothing of its content.
    let after: SubjectAccessReply = stack
        .request(
            subjects::SUBJECT_ACCESS,
            &officer(),
            &SubjectAccessRequest { subject: child },
        )
        .await
        .unwrap();
    assert!(after.document.complete);
    assert!(!after.text.contains(NAME) && !after.text.contains(BSN));
    assert!(after
        .text
        .contains(kansrijk_runtime::subject_access::ERASED));
    assert!(after.text.contains("status: gewist"));

    // Nothing readable anywhere: every table of every schema, and the JetStream files.
    let (rows, found) = scan_database(&admin).await;
    assert!(rows > 10, "the scan saw the database ({rows} rows)");
    assert!(
        found.is_empty(),
        "personal data left in the database: {found:#?}"
    );
    let mut found = Vec::new();
    let mut files = 0;
    scan_files(
        stack.nats_server.store_dir(),
        &mut found,
        &needles(),
        &mut files,
    );
    assert!(
        found.is_empty(),
        "personal data left in JetStream: {found:#?}"
    );
    // The sealed payload is still there, unreadable.
    let stored: serde_json::Value =
        sqlx::query_scalar("SELECT data FROM proef.events WHERE stream_id = $1")
            .bind(child)
            .fetch_one(&proef_pool)
            .await
            .unwrap();
    assert!(stored["persoon"]["ciphertext"].is_string());

    shutdown.cancel();
    admin.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn erasure_is_refused_under_a_legal_hold() {
    let stack = Stack::start().await;
    let keys = KeyClient::new(
        stack.nats.clone(),
        service("casework"),
        Duration::from_secs(60),
    );
    let family = Uuid::new_v4();
    keys.create(family, SubjectKind::Gezin, "0546")
        .await
        .unwrap();
    // The casework service places a hold on an escalation to Veilig Thuis.
    let _: CommandAccepted = stack
        .request(
            subjects::PLACE_HOLD,
            &service("casework"),
            &PlaceLegalHold {
                subject: family,
                reason: "veilig-thuis-melding".into(),
            },
        )
        .await
        .unwrap();
    // A nurse may not; free text is not a reason.
    let r: Result<CommandAccepted, Problem> = stack
        .request(
            subjects::PLACE_HOLD,
            &nurse(),
            &PlaceLegalHold {
                subject: family,
                reason: "veilig-thuis-melding".into(),
            },
        )
        .await;
    assert_eq!(r.unwrap_err().status, 403);
    let r: Result<CommandAccepted, Problem> = stack
        .request(
            subjects::PLACE_HOLD,
            &service("casework"),
            &PlaceLegalHold {
                subject: family,
                reason: "Melding door buurvrouw".into(),
            },
        )
        .await;
    assert_eq!(r.unwrap_err().status, 400);

    let erase = EraseSubject {
        subject: family,
        grounds: ErasureGrounds::VerzoekBetrokkene,
    };
    // The privacy officer of another municipality does not know the family.
    let mut other = officer();
    other.municipality = "0363".into();
    let r: Result<CommandAccepted, Problem> = stack.request(subjects::ERASE, &other, &erase).await;
    assert_eq!(r.unwrap_err().status, 404);
    let refused: Problem = stack
        .request::<_, CommandAccepted>(subjects::ERASE, &officer(), &erase)
        .await
        .unwrap_err();
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code.as_deref(), Some("bewaarplicht"));
    assert!(refused.detail.unwrap().contains("veilig-thuis-melding"));
    // The key is still there.
    assert!(keys.get(family).await.is_ok());

    let _: CommandAccepted = stack
        .request(
            subjects::LIFT_HOLD,
            &service("casework"),
            &LiftLegalHold { subject: family },
        )
        .await
        .unwrap();
    let _: CommandAccepted = stack
        .request(subjects::ERASE, &officer(), &erase)
        .await
        .unwrap();
    let fresh = KeyClient::new(
        stack.nats.clone(),
        service("casework"),
        Duration::from_secs(60),
    );
    assert!(matches!(fresh.get(family).await, Err(KeyError::Erased)));
    // Both attempts are in the access log with their outcome.
    let outcomes: Vec<String> = sqlx::query_scalar(
        "SELECT outcome FROM access_log WHERE access_point = 'privacy.betrokkene-wissen' ORDER BY seq",
    )
    .fetch_all(&stack.pool)
    .await
    .unwrap();
    // The other municipality's officer was refused (logged as denied), ours failed on the hold.
    assert_eq!(outcomes, vec!["denied", "failed", "success"]);
    stack.stop().await;
}

#[tokio::test]
async fn concurrent_and_retried_erasures_erase_once() {
    let stack = Stack::start().await;
    let keys = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_secs(60));
    let child = Uuid::new_v4();
    keys.create(child, SubjectKind::Kind, "0546").await.unwrap();
    let erase = EraseSubject {
        subject: child,
        grounds: ErasureGrounds::VerzoekBetrokkene,
    };
    // A retry with the same Idempotency-Key returns the first result.
    let command_id = Uuid::new_v4();
    let send = |id: Uuid| {
        let nats = stack.nats.clone();
        let erase = erase.clone();
        async move {
            kansrijk_runtime::nats::request::<_, CommandAccepted>(
                &nats,
                subjects::ERASE.into(),
                kansrijk_runtime::nats::request_headers(&officer(), Some(id), None),
                &erase,
                Duration::from_secs(10),
            )
            .await
        }
    };
    let mut tasks = Vec::new();
    for i in 0..6 {
        let id = if i == 0 { command_id } else { Uuid::new_v4() };
        tasks.push(tokio::spawn(send(id)));
    }
    let mut accepted = 0;
    let mut gone = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(a) if a.first_time => accepted += 1,
            Ok(_) => {}
            Err(p) if p.status == 410 => gone += 1,
            Err(p) => panic!("unexpected problem {p:?}"),
        }
    }
    assert_eq!(accepted, 1, "exactly one erasure");
    assert_eq!(gone + accepted, 6);
    let retried = send(command_id).await;
    // The first try either erased (its result comes back) or found the subject erased already.
    match retried {
        Ok(a) => assert!(!a.first_time),
        Err(p) => assert_eq!(p.status, 410),
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type LIKE 'nl.privacy.betrokkene-gewist%'",
    )
    .bind(kansrijk_privacy::subjects::stream_id(child))
    .fetch_one(&stack.pool)
    .await
    .unwrap();
    assert_eq!(n, 1);
    stack.stop().await;
}

//! Issue 16, defect 1: a registration that dies half-way never blocks its BSN. The try is made to
//! die (`kansrijk_vve_reach::faults`: a panic, so nothing after the point runs, as after a kill)
//! after the privacy service created the child's key and retention period and before the append;
//! a retry finishes it, with the same command id or a new one, and every test ends with no orphan
//! in any store: no index row without a child, no key without a child, no retention period
//! without a key, no reservation of no child.

use std::time::Duration;

use async_nats::Client;
use chrono::{Months, Utc};
use futures::StreamExt;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::{CommandAccepted, Reply};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::nats::{request, request_headers};
use kansrijk_runtime::testing::{eventually, NatsServer, TestDb};
use kansrijk_vve_reach::api::{self, commands};
use kansrijk_vve_reach::faults::{crash_once, Point};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn jgz() -> Actor {
    Actor {
        person: "medewerker-1".into(),
        organisation: "00000001234567890000".into(),
        organisation_type: OrganisationType::Jgz,
        role: "medewerker".into(),
        municipality: "0546".into(),
        purpose: Purpose::Zorgverlening,
    }
}

struct Stack {
    _db: TestDb,
    _nats: NatsServer,
    client: Client,
    /// Schema `vve`; the privacy service's tables are read as `privacy.*`.
    pool: PgPool,
    shutdown: CancellationToken,
}

impl Stack {
    async fn start() -> Self {
        let db = TestDb::new().await;
        let nats = NatsServer::start();
        let client = async_nats::connect(nats.url()).await.unwrap();
        let shutdown = CancellationToken::new();
        kansrijk_privacy::spawn_local(&db.url, &nats.url(), &shutdown)
            .await
            .expect("the privacy service starts");
        districts(client.clone()).await;
        let config = kansrijk_vve_reach::Config::local(&db.url, &nats.url());
        tokio::spawn(kansrijk_vve_reach::run(config, shutdown.clone()));
        // Ready when a command is answered (a 400: nothing is stored).
        eventually(Duration::from_secs(20), "vve-reach answers", || {
            let client = client.clone();
            async move {
                match send(&client, json!({}), None).await {
                    Err(p) if p.status == 503 => None,
                    _ => Some(()),
                }
            }
        })
        .await;
        let pool = kansrijk_runtime::db::connect(&db.url, "vve", 2)
            .await
            .unwrap();
        Stack {
            _db: db,
            _nats: nats,
            client,
            pool,
            shutdown,
        }
    }

    async fn register(&self, body: &Value, command_id: Uuid) -> Result<CommandAccepted, Problem> {
        send(&self.client, body.clone(), Some(command_id)).await
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    /// Children, keys, retention periods, index rows, reservations.
    async fn counts(&self) -> [i64; 5] {
        [
            self.count("SELECT count(DISTINCT stream_id) FROM events WHERE stream_type = 'kind'")
                .await,
            self.count("SELECT count(*) FROM privacy.subject_keys")
                .await,
            self.count("SELECT count(*) FROM privacy.retention_periods")
                .await,
            self.count("SELECT count(*) FROM vve_child_index").await,
            self.count("SELECT count(*) FROM vve_child_reservations")
                .await,
        ]
    }

    /// Issue 16's orphan check, over both stores.
    async fn assert_no_orphans(&self) {
        let orphans = [
            (
                "index rows without a child",
                "SELECT count(*) FROM vve_child_index i
                 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = i.child_id)",
            ),
            (
                "keys of no child",
                "SELECT count(*) FROM privacy.subject_keys k
                 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = k.subject)",
            ),
            (
                "retention periods without a key",
                "SELECT count(*) FROM privacy.retention_periods r
                 WHERE NOT EXISTS (SELECT 1 FROM privacy.subject_keys k WHERE k.subject = r.subject)",
            ),
            (
                "reservations of no child",
                "SELECT count(*) FROM vve_child_reservations r
                 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = r.child_id)",
            ),
        ];
        for (what, sql) in orphans {
            assert_eq!(self.count(sql).await, 0, "{what}");
        }
    }

    /// The subjects the privacy service holds a key of.
    async fn keyed_subjects(&self) -> Vec<Uuid> {
        sqlx::query_scalar("SELECT subject FROM privacy.subject_keys ORDER BY subject")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

async fn send(
    client: &Client,
    body: Value,
    command_id: Option<Uuid>,
) -> Result<CommandAccepted, Problem> {
    request(
        client,
        api::command_subject(commands::REGISTER_CHILD),
        request_headers(&jgz(), command_id, None),
        &body,
        Duration::from_secs(10),
    )
    .await
}

/// Answers `registry.wijken`: Leiden has Leiden-Noord.
async fn districts(client: Client) {
    let mut sub = client
        .subscribe(kansrijk_vve_reach::handlers::districts_subject())
        .await
        .unwrap();
    client.flush().await.unwrap();
    tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            let reply: Reply<Vec<Value>> =
                Reply::Ok(vec![json!({ "gemeente": "0546", "naam": "Leiden-Noord" })]);
            if let Some(to) = msg.reply {
                let _ = client
                    .publish(to, serde_json::to_vec(&reply).unwrap().into())
                    .await;
            }
        }
    });
}

fn child(bsn: &str) -> Value {
    let birth = Utc::now().date_naive() - Months::new(30);
    json!({
        "bsn": bsn, "voornaam": "Yasmina", "achternaam": "Zwanenburg",
        "geboortedatum": birth.format("%Y-%m-%d").to_string(), "postcode": "2315ab",
        "wijk": "Leiden-Noord", "gemeente": "0546"
    })
}

fn assert_already_registered(r: Result<CommandAccepted, Problem>) {
    let p = r.expect_err("a second child with this BSN");
    assert_eq!(
        (p.status, p.code.as_deref()),
        (409, Some("kind-al-ingeschreven")),
        "{p:?}"
    );
}

/// The first try dies after the key and the retention period, before the append.
async fn crashed_try(stack: &Stack, body: &Value, command_id: Uuid) {
    crash_once(Point::BeforeRegistrationAppend, command_id);
    let died = stack.register(body, command_id).await.unwrap_err();
    assert_eq!(died.status, 500, "{died:?}");
    // What the dead try left: a key, a retention period and the reservation; no child, no index
    // row (before issue 16: an index row, which blocked every retry).
    assert_eq!(stack.counts().await, [0, 1, 1, 0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_that_died_before_its_append_is_finished_by_its_retry() {
    let stack = Stack::start().await;
    let body = child("111222333");
    let command_id = Uuid::new_v4();
    crashed_try(&stack, &body, command_id).await;
    let key_of_the_dead_try = stack.keyed_subjects().await;

    let retried = stack.register(&body, command_id).await.expect("the retry");
    assert!(retried.first_time);
    assert_eq!(
        (retried.version, stack.counts().await),
        (1, [1, 1, 1, 1, 1])
    );
    // The child is the dead try's subject: its key and retention period, not new ones.
    assert_eq!(key_of_the_dead_try, vec![retried.stream_id]);
    let retention: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM privacy.retention_periods WHERE subject = $1 AND data_kind = 'jgz'",
    )
    .bind(retried.stream_id)
    .fetch_one(&stack.pool)
    .await
    .unwrap();
    assert_eq!(retention, 1);

    // Once more with the same command id: the first result, nothing appended.
    let again = stack.register(&body, command_id).await.unwrap();
    assert_eq!(
        (again.stream_id, again.version, again.first_time),
        (retried.stream_id, 1, false)
    );
    // Another command for the same BSN is a duplicate, and leaves no key behind.
    assert_already_registered(stack.register(&body, Uuid::new_v4()).await);
    assert_eq!(stack.counts().await, [1, 1, 1, 1, 1]);
    stack.assert_no_orphans().await;
    stack.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_command_id_after_a_crash_registers_the_child_under_the_dead_tries_key() {
    let stack = Stack::start().await;
    let body = child("123456782");
    crashed_try(&stack, &body, Uuid::new_v4()).await;
    let key_of_the_dead_try = stack.keyed_subjects().await;

    let fresh = stack
        .register(&body, Uuid::new_v4())
        .await
        .expect("no orphan index row blocks a new command");
    assert!(fresh.first_time);
    assert_eq!(key_of_the_dead_try, vec![fresh.stream_id]);
    assert_eq!(stack.counts().await, [1, 1, 1, 1, 1]);
    stack.assert_no_orphans().await;
    stack.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_bsn_make_one_child_and_one_key() {
    let stack = Stack::start().await;
    let body = child("111222333");
    let tries =
        futures::future::join_all((0..4).map(|_| stack.register(&body, Uuid::new_v4()))).await;
    let registered: Vec<&CommandAccepted> = tries.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(registered.len(), 1, "{tries:?}");
    for r in tries.iter().filter(|r| r.is_err()) {
        assert_already_registered(r.clone());
    }
    assert_eq!(stack.counts().await, [1, 1, 1, 1, 1]);
    stack.assert_no_orphans().await;
    stack.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_row_a_crashed_older_version_left_is_taken_over() {
    let stack = Stack::start().await;
    let bsn = "111222333";
    // What a version before issue 16 left after a crash: an index row committed on its own (ten
    // minutes ago), the child's key, no child.
    let pseudonym: kansrijk_proto::privacy::PseudonymReply = request(
        &stack.client,
        kansrijk_proto::subject::privacy::PSEUDONYM.into(),
        request_headers(
            &kansrijk_vve_reach::handlers::service_actor(kansrijk_runtime::config::DEFAULT_OIN),
            None,
            None,
        ),
        &kansrijk_proto::privacy::PseudonymRequest {
            domain: kansrijk_vve_reach::handlers::BSN_DOMAIN.into(),
            values: vec![bsn.into()],
        },
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let orphan = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO vve_child_index (municipality, bsn_pseudonym, child_id, registered_at)
         VALUES ('0546', $1, $2, now() - interval '10 minutes')",
    )
    .bind(&pseudonym.pseudonyms[0])
    .bind(orphan)
    .execute(&stack.pool)
    .await
    .unwrap();
    kansrijk_runtime::keys::KeyClient::new(
        stack.client.clone(),
        kansrijk_vve_reach::handlers::service_actor(kansrijk_runtime::config::DEFAULT_OIN),
        Duration::from_secs(1),
    )
    .create(orphan, kansrijk_proto::privacy::SubjectKind::Kind, "0546")
    .await
    .unwrap();

    let registered = stack
        .register(&child(bsn), Uuid::new_v4())
        .await
        .expect("the orphan index row no longer blocks the BSN");
    assert_eq!(registered.stream_id, orphan);
    assert_eq!(stack.counts().await, [1, 1, 1, 1, 1]);
    stack.assert_no_orphans().await;
    stack.shutdown.cancel();
}

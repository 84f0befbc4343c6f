//! A running handover service, the handover views (projections + query endpoints) and a key
//! peer, on a fresh database and a real nats-server per test.
//!
//! The key peer is either the real privacy service (`kansrijk_privacy::run`) or a small NATS
//! responder implementing the privacy service's wire contracts (keys, erasure with its
//! `nl.privacy.betrokkene-gewist` event on JetStream, retention, access log) so that the
//! crypto-shredding of a refused file can be followed end to end. Both are real NATS peers.

#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::Client;
use chrono::Utc;
use futures::StreamExt;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::{CommandAccepted, Reply};
use kansrijk_proto::envelope::{CloudEvent, Source};
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::{
    subjects as privacy_subjects, EraseSubject, PrivacyEvent, SubjectErased, SubjectKind,
};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use kansrijk_runtime::access_log::{AccessEntriesAppended, AccessEntry, AppendAccessEntries};
use kansrijk_runtime::crypto::SubjectKey;
use kansrijk_runtime::keys::{CreateKeyRequest, GetKeysRequest, KeyMaterial, KeysReply};
use kansrijk_runtime::nats::{encode_reply, request, request_headers};
use kansrijk_runtime::projection::{ProjectionRunner, RunnerConfig};
use kansrijk_runtime::testing::{eventually, NatsServer, TestDb};
use kansrijk_views::handover::HandoverViews;
use kansrijk_views::vve::suppression::SuppressionConfig;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const MUNICIPALITY: &str = "0546";
pub const LRK: &str = "123456789";
pub const PRIMARY: &str = "34CD01";
pub const OTHER_PRIMARY: &str = "78GH00";
pub const PO: &str = "12AB00";
pub const VO: &str = "56EF00";

pub fn actor(org: &str, t: OrganisationType, purpose: Purpose) -> Actor {
    Actor {
        person: format!("pseudo-{org}"),
        organisation: org.into(),
        organisation_type: t,
        role: "medewerker".into(),
        municipality: MUNICIPALITY.into(),
        purpose,
    }
}

pub fn childcare() -> Actor {
    actor(LRK, OrganisationType::Kinderopvang, Purpose::Overdracht)
}
pub fn school(org: &str) -> Actor {
    actor(org, OrganisationType::Basisschool, Purpose::Overdracht)
}
pub fn secondary() -> Actor {
    actor(
        VO,
        OrganisationType::VoortgezetOnderwijs,
        Purpose::Overdracht,
    )
}
pub fn municipality() -> Actor {
    actor(
        "00000001001234567000",
        OrganisationType::Gemeente,
        Purpose::Beleidsmonitoring,
    )
}

/// What the fake key peer saw.
#[derive(Debug, Default)]
pub struct PeerLog {
    pub keys: HashMap<Uuid, SubjectKey>,
    pub erased: HashSet<Uuid>,
    pub access: Vec<AccessEntry>,
    pub retention: Vec<Uuid>,
}

/// The privacy service's wire contracts as a small real NATS responder.
pub async fn start_key_peer(client: Client, shutdown: CancellationToken) -> Arc<Mutex<PeerLog>> {
    let log = Arc::new(Mutex::new(PeerLog::default()));
    let subjects = [
        subject::privacy::KEYS_CREATE,
        subject::privacy::KEYS_GET,
        subject::privacy::ACCESS_LOG_APPEND,
        privacy_subjects::ERASE,
        privacy_subjects::REGISTER_RETENTION,
    ];
    for s in subjects {
        let mut sub = client.subscribe(s.to_string()).await.unwrap();
        let client = client.clone();
        let log = log.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                let msg = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    m = sub.next() => match m { Some(m) => m, None => return },
                };
                let Some(reply) = msg.reply.clone() else {
                    continue;
                };
                let payload = answer(&client, &log, s, &msg.payload).await;
                let _ = client.publish(reply, payload).await;
            }
        });
    }
    log
}

fn material(log: &PeerLog, s: Uuid) -> KeyMaterial {
    if log.erased.contains(&s) {
        KeyMaterial::Erased { subject: s }
    } else if let Some(k) = log.keys.get(&s) {
        KeyMaterial::active(k)
    } else {
        KeyMaterial::Unknown { subject: s }
    }
}

async fn answer(client: &Client, log: &Arc<Mutex<PeerLog>>, s: &str, body: &[u8]) -> bytes::Bytes {
    match s {
        subject::privacy::KEYS_CREATE => {
            let r: CreateKeyRequest = serde_json::from_slice(body).unwrap();
            assert_eq!(r.subject_kind, SubjectKind::Kind);
            let mut l = log.lock().unwrap();
            if !l.erased.contains(&r.subject) {
                l.keys
                    .entry(r.subject)
                    .or_insert_with(|| SubjectKey::generate(r.subject, 1));
            }
            encode_reply(&Reply::Ok(KeysReply {
                keys: vec![material(&l, r.subject)],
            }))
        }
        subject::privacy::KEYS_GET => {
            let r: GetKeysRequest = serde_json::from_slice(body).unwrap();
            let l = log.lock().unwrap();
            encode_reply(&Reply::Ok(KeysReply {
                keys: r.subjects.iter().map(|s| material(&l, *s)).collect(),
            }))
        }
        subject::privacy::ACCESS_LOG_APPEND => {
            let r: AppendAccessEntries = serde_json::from_slice(body).unwrap();
            let mut l = log.lock().unwrap();
            let first = l.access.len() as i64 + 1;
            l.access.extend(r.entries);
            encode_reply(&Reply::Ok(AccessEntriesAppended {
                first_seq: first,
                last_seq: l.access.len() as i64,
            }))
        }
        privacy_subjects::ERASE => {
            let r: EraseSubject = serde_json::from_slice(body).unwrap();
            {
                let mut l = log.lock().unwrap();
                l.keys.remove(&r.subject);
                l.erased.insert(r.subject);
            }
            // The erasure event every projection follows.
            let e = PrivacyEvent::Erased(SubjectErased {
                subject: r.subject,
                subject_kind: SubjectKind::Kind,
                grounds: r.grounds,
                erased_by: "test".into(),
                erased_at: Utc::now(),
            });
            let ce = CloudEvent {
                specversion: "1.0".into(),
                id: Uuid::now_v7(),
                source: Source::new("oin", "00000001002220647000", "kansrijk-privacy").unwrap(),
                dataschema: String::new(),
                event_type: e.event_type(),
                time: Utc::now(),
                subject: Uuid::new_v4(),
                datacontenttype: "application/json".into(),
                sequence: "1".into(),
                gemeente: MUNICIPALITY.into(),
                streamtype: PrivacyEvent::STREAM_TYPE.into(),
                data: e.to_data().unwrap(),
            };
            let js = async_nats::jetstream::new(client.clone());
            js.publish(
                subject::event("privacy", PrivacyEvent::STREAM_TYPE),
                serde_json::to_vec(&ce).unwrap().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
            encode_reply(&Reply::Ok(CommandAccepted {
                stream_id: r.subject,
                version: 2,
                position: 1,
                first_time: true,
            }))
        }
        privacy_subjects::REGISTER_RETENTION => {
            let r: kansrijk_proto::privacy::RegisterRetention =
                serde_json::from_slice(body).unwrap();
            log.lock().unwrap().retention.push(r.subject);
            encode_reply(&Reply::Ok(CommandAccepted {
                stream_id: r.subject,
                version: 1,
                position: 1,
                first_time: true,
            }))
        }
        _ => encode_reply(&Reply::<()>::Problem(Problem::internal())),
    }
}

/// The running pieces of one test.
pub struct Stack {
    pub db: TestDb,
    pub nats_server: NatsServer,
    pub client: Client,
    pub shutdown: CancellationToken,
    /// Pool in the handover service's schema.
    pub store: PgPool,
    /// Pool in the views schema.
    pub views: PgPool,
    pub peer: Option<Arc<Mutex<PeerLog>>>,
}

pub struct Options {
    pub real_privacy: bool,
    pub threshold: u64,
    pub scan: Duration,
}

impl Stack {
    pub async fn start(opts: Options) -> Stack {
        let db = TestDb::new().await;
        let nats_server = NatsServer::start();
        let client = kansrijk_runtime::nats::connect(&nats_server.url(), "test")
            .await
            .unwrap();
        let js = async_nats::jetstream::new(client.clone());
        kansrijk_runtime::nats::ensure_events_stream(&js, 1)
            .await
            .unwrap();
        let shutdown = CancellationToken::new();
        let peer = if opts.real_privacy {
            let mut config = kansrijk_privacy::Config::for_local(&db.url, &nats_server.url());
            config.master_keys = kansrijk_runtime::crypto::MasterKeyRing::parse(
                &kansrijk_runtime::crypto::MasterKeyRing::generate_spec(1),
            )
            .unwrap();
            tokio::spawn(kansrijk_privacy::run(config, shutdown.clone()));
            kansrijk_runtime::testing::until_answered(
                &client,
                kansrijk_runtime::testing::PRIVACY_READINESS_SUBJECT,
            )
            .await;
            None
        } else {
            Some(start_key_peer(client.clone(), shutdown.clone()).await)
        };

        let mut config = kansrijk_handover::Config::local(&db.url, &nats_server.url());
        config.scan_interval = opts.scan;
        tokio::spawn(kansrijk_handover::run(config, shutdown.clone()));

        let views = kansrijk_runtime::db::connect(&db.url, "views", 10)
            .await
            .unwrap();
        kansrijk_runtime::db::migrate(&views, Some(sqlx::migrate!("../views/migrations")))
            .await
            .unwrap();
        for p in kansrijk_views::handover::projections() {
            let runner =
                ProjectionRunner::new(views.clone(), js.clone(), p, RunnerConfig::default());
            tokio::spawn(runner.run(shutdown.clone()));
        }
        let hv = Arc::new(HandoverViews::new(
            views.clone(),
            client.clone(),
            kansrijk_runtime::identity::service_actor("views", "00000001002220647000"),
            SuppressionConfig {
                threshold: opts.threshold,
                suppress_zero: false,
            },
            14,
        ));
        tokio::spawn(kansrijk_runtime::service::serve(
            client.clone(),
            "views-overdracht-test",
            kansrijk_views::handover::endpoints(&hv),
            16,
            shutdown.clone(),
        ));
        let store = kansrijk_runtime::db::connect(&db.url, "overdracht", 4)
            .await
            .unwrap();
        let stack = Stack {
            db,
            nats_server,
            client,
            shutdown,
            store,
            views,
            peer,
        };
        if opts.real_privacy {
            eventually(Duration::from_secs(30), "the privacy service", || {
                let c = stack.client.clone();
                async move {
                    request::<_, KeysReply>(
                        &c,
                        subject::privacy::KEYS_GET.into(),
                        request_headers(
                            &kansrijk_runtime::identity::service_actor(
                                "overdracht",
                                "00000001002220647000",
                            ),
                            None,
                            None,
                        ),
                        &GetKeysRequest { subjects: vec![] },
                        Duration::from_secs(2),
                    )
                    .await
                    .ok()
                }
            })
            .await;
        }
        // Ready when the handover service answers (a 400 for an empty body is an answer).
        eventually(Duration::from_secs(30), "the handover service", || {
            let c = stack.client.clone();
            async move {
                let r: Result<CommandAccepted, Problem> = request(
                    &c,
                    kansrijk_proto::handover::subjects::SEND.into(),
                    request_headers(&childcare(), None, None),
                    &serde_json::json!({}),
                    Duration::from_secs(2),
                )
                .await;
                match r {
                    Err(p) if p.status == 503 || p.status == 504 => None,
                    _ => Some(()),
                }
            }
        })
        .await;
        stack
    }

    /// Sends a command (with a fresh command id) and returns its result.
    pub async fn cmd<B: Serialize>(
        &self,
        subject: &str,
        actor: &Actor,
        body: &B,
    ) -> Result<CommandAccepted, Problem> {
        request(
            &self.client,
            subject.into(),
            request_headers(actor, Some(Uuid::new_v4()), None),
            body,
            Duration::from_secs(10),
        )
        .await
    }

    /// Sends a command with a given command id (idempotency key).
    pub async fn cmd_with_id<B: Serialize>(
        &self,
        subject: &str,
        actor: &Actor,
        id: Uuid,
        body: &B,
    ) -> Result<CommandAccepted, Problem> {
        request(
            &self.client,
            subject.into(),
            request_headers(actor, Some(id), None),
            body,
            Duration::from_secs(10),
        )
        .await
    }

    /// Sends a command whose reply is a JSON value (the OSO export).
    pub async fn cmd_json<B: Serialize>(
        &self,
        subject: &str,
        actor: &Actor,
        body: &B,
    ) -> Result<serde_json::Value, Problem> {
        request(
            &self.client,
            subject.into(),
            request_headers(actor, Some(Uuid::new_v4()), None),
            body,
            Duration::from_secs(10),
        )
        .await
    }

    pub async fn query<B: Serialize, T: DeserializeOwned>(
        &self,
        subject: &str,
        actor: &Actor,
        body: &B,
    ) -> Result<T, Problem> {
        request(
            &self.client,
            subject.into(),
            request_headers(actor, None, None),
            body,
            Duration::from_secs(10),
        )
        .await
    }

    /// Waits until the files projection has applied `accepted` (read-your-writes).
    pub async fn seen(&self, accepted: &CommandAccepted) {
        let ok = kansrijk_runtime::projection::wait_for(
            &self.views,
            kansrijk_views::handover::PROJECTION_NAMES,
            accepted.stream_id,
            accepted.version,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        assert!(ok, "the views did not catch up");
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

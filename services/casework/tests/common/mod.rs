//! Test harness: a real nats-server, a fresh PostgreSQL database, the casework service's `run()`,
//! the casework projections and query endpoints of the views, and a small privacy peer.
//!
//! The privacy service's `run()` does not exist yet, so a real NATS peer answers its internal API
//! with the same subjects and wire types: subject keys (`kansrijk.privacy.keys.create/get`, the
//! types of `kansrijk_runtime::keys`), the access log (`kansrijk.privacy.access-log.append`), the
//! legal hold and retention commands (`kansrijk_proto::privacy::{PlaceLegalHold,
//! RegisterRetention}`); it publishes `nl.privacy.sleutel-aangemaakt` and
//! `nl.privacy.betrokkene-gewist` on the events stream like the real service. It records what it
//! was asked, so tests can check the access log, the hold and the retention.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use async_nats::Client;
use chrono::{Days, NaiveDate, Utc};
use futures::StreamExt;
use kansrijk_casework::Config;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::{CommandAccepted, Reply};
use kansrijk_proto::envelope::{CloudEvent, Source, SCHEMA_BASE_URI};
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::{
    ErasureGrounds, PlaceLegalHold, PrivacyEvent, RegisterRetention, SubjectErased,
    SubjectKeyCreated, SubjectKind,
};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use kansrijk_runtime::access_log::{AccessEntriesAppended, AccessEntry, AppendAccessEntries};
use kansrijk_runtime::crypto::SubjectKey;
use kansrijk_runtime::keys::{CreateKeyRequest, GetKeysRequest, KeyMaterial, KeysReply};
use kansrijk_runtime::projection::{ProjectionRunner, RunnerConfig};
use kansrijk_runtime::testing::{NatsServer, TestDb};
use kansrijk_views::casework::{self as views, CaseworkViews};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const GEMEENTE: &str = "0546";
pub const TEAM: &str = "00000001823288444000";
pub const SCHOOL: &str = "12AB00";
pub const JGZ: &str = "00000001234567890000";
pub const OTHER_TEAM: &str = "00000001999999999000";
pub const MUNICIPALITY_ORG: &str = "00000001002220647000";

pub fn actor(org: &str, t: OrganisationType) -> Actor {
    Actor {
        person: format!("pseudoniem-{org}"),
        organisation: org.into(),
        organisation_type: t,
        role: "medewerker".into(),
        municipality: GEMEENTE.into(),
        purpose: if t == OrganisationType::Gemeente {
            Purpose::Beleidsmonitoring
        } else {
            Purpose::Casusregie
        },
    }
}

pub fn director() -> Actor {
    actor(TEAM, OrganisationType::Jeugdteam)
}
pub fn school() -> Actor {
    actor(SCHOOL, OrganisationType::Basisschool)
}
pub fn jgz() -> Actor {
    actor(JGZ, OrganisationType::Jgz)
}
pub fn other_team() -> Actor {
    actor(OTHER_TEAM, OrganisationType::Jeugdteam)
}
pub fn municipality() -> Actor {
    actor(MUNICIPALITY_ORG, OrganisationType::Gemeente)
}
pub fn officer() -> Actor {
    let mut a = actor(
        "00000001002220647001",
        OrganisationType::Privacyfunctionaris,
    );
    a.purpose = Purpose::Privacytoezicht;
    a.role = "privacyfunctionaris".into();
    a
}

#[derive(Debug, Default)]
pub struct PeerState {
    /// `None` once erased; with the subject stream's version.
    keys: HashMap<Uuid, (Option<SubjectKey>, i64, String)>,
    pub access_log: Vec<AccessEntry>,
    pub holds: Vec<PlaceLegalHold>,
    pub retention: Vec<RegisterRetention>,
    /// When set, the hold and retention commands answer 503.
    pub unavailable: bool,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct PrivacyPeer {
    pub state: Arc<Mutex<PeerState>>,
    js: jetstream::Context,
}

impl PrivacyPeer {
    pub async fn start(client: Client) -> Self {
        let peer = PrivacyPeer {
            state: Arc::default(),
            js: jetstream::new(client.clone()),
        };
        for subj in [
            subject::privacy::KEYS_CREATE,
            subject::privacy::KEYS_GET,
            subject::privacy::ACCESS_LOG_APPEND,
            kansrijk_proto::privacy::subjects::PLACE_HOLD,
            kansrijk_proto::privacy::subjects::REGISTER_RETENTION,
        ] {
            let mut sub = client.subscribe(subj.to_owned()).await.unwrap();
            let peer = peer.clone();
            let client = client.clone();
            tokio::spawn(async move {
                while let Some(msg) = sub.next().await {
                    let Some(reply_to) = msg.reply.clone() else {
                        continue;
                    };
                    let answer = peer.answer(subj, &msg.payload).await;
                    let _ = client
                        .publish(reply_to, serde_json::to_vec(&answer).unwrap().into())
                        .await;
                }
            });
        }
        client.flush().await.unwrap();
        peer
    }

    async fn answer(&self, subj: &str, payload: &[u8]) -> Reply<Value> {
        match subj {
            subject::privacy::KEYS_CREATE => {
                let req: CreateKeyRequest = serde_json::from_slice(payload).unwrap();
                let (material, created) = {
                    let mut s = self.state.lock().unwrap();
                    match s.keys.get(&req.subject) {
                        Some((Some(k), _, _)) => (KeyMaterial::active(k), false),
                        Some((None, _, _)) => (
                            KeyMaterial::Erased {
                                subject: req.subject,
                            },
                            false,
                        ),
                        None => {
                            let k = SubjectKey::generate(req.subject, 1);
                            let m = KeyMaterial::active(&k);
                            s.keys
                                .insert(req.subject, (Some(k), 1, req.municipality.clone()));
                            (m, true)
                        }
                    }
                };
                if created {
                    self.publish(
                        req.subject,
                        1,
                        &req.municipality,
                        &SubjectKeyCreated {
                            subject: req.subject,
                            subject_kind: req.subject_kind,
                            created_at: Utc::now(),
                        }
                        .into(),
                    )
                    .await;
                }
                Reply::Ok(
                    serde_json::to_value(KeysReply {
                        keys: vec![material],
                    })
                    .unwrap(),
                )
            }
            subject::privacy::KEYS_GET => {
                let req: GetKeysRequest = serde_json::from_slice(payload).unwrap();
                let s = self.state.lock().unwrap();
                let keys = req
                    .subjects
                    .iter()
                    .map(|id| match s.keys.get(id) {
                        Some((Some(k), _, _)) => KeyMaterial::active(k),
                        Some((None, _, _)) => KeyMaterial::Erased { subject: *id },
                        None => KeyMaterial::Unknown { subject: *id },
                    })
                    .collect();
                Reply::Ok(serde_json::to_value(KeysReply { keys }).unwrap())
            }
            subject::privacy::ACCESS_LOG_APPEND => {
                let req: AppendAccessEntries = serde_json::from_slice(payload).unwrap();
                let mut s = self.state.lock().unwrap();
                let first = s.access_log.len() as i64 + 1;
                s.access_log.extend(req.entries);
                let last = s.access_log.len() as i64;
                Reply::Ok(
                    serde_json::to_value(AccessEntriesAppended {
                        first_seq: first,
                        last_seq: last,
                    })
                    .unwrap(),
                )
            }
            kansrijk_proto::privacy::subjects::PLACE_HOLD => {
                let req: PlaceLegalHold = serde_json::from_slice(payload).unwrap();
                let mut s = self.state.lock().unwrap();
                if s.unavailable {
                    return Reply::Problem(Problem::unavailable("testpeer"));
                }
                s.holds.push(req.clone());
                Reply::Ok(accepted(req.subject))
            }
            kansrijk_proto::privacy::subjects::REGISTER_RETENTION => {
                let req: RegisterRetention = serde_json::from_slice(payload).unwrap();
                let mut s = self.state.lock().unwrap();
                if s.unavailable {
                    return Reply::Problem(Problem::unavailable("testpeer"));
                }
                s.retention.push(req.clone());
                Reply::Ok(accepted(req.subject))
            }
            _ => Reply::Problem(Problem::internal()),
        }
    }

    async fn publish(&self, subject_id: Uuid, version: i64, municipality: &str, e: &PrivacyEvent) {
        let event_type = e.event_type();
        let ce = CloudEvent {
            specversion: "1.0".into(),
            id: Uuid::now_v7(),
            source: Source::new("oin", MUNICIPALITY_ORG, "kansrijk-privacy").unwrap(),
            dataschema: format!("{SCHEMA_BASE_URI}{event_type}.json"),
            event_type,
            time: Utc::now(),
            subject: subject_id,
            datacontenttype: "application/json".into(),
            sequence: version.to_string(),
            gemeente: municipality.into(),
            streamtype: PrivacyEvent::STREAM_TYPE.into(),
            data: e.to_data().unwrap(),
        };
        self.js
            .publish(
                subject::event("privacy", PrivacyEvent::STREAM_TYPE),
                serde_json::to_vec(&ce).unwrap().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }

    /// Erases a family like the privacy service: the key is destroyed, the event goes out.
    pub async fn erase(&self, subject_id: Uuid) {
        let (version, municipality) = {
            let mut s = self.state.lock().unwrap();
            let entry = s.keys.get_mut(&subject_id).expect("known subject");
            entry.0 = None;
            entry.1 += 1;
            (entry.1, entry.2.clone())
        };
        self.publish(
            subject_id,
            version,
            &municipality,
            &SubjectErased {
                subject: subject_id,
                subject_kind: SubjectKind::Gezin,
                grounds: ErasureGrounds::VerzoekBetrokkene,
                erased_by: MUNICIPALITY_ORG.into(),
                erased_at: Utc::now(),
            }
            .into(),
        )
        .await;
    }

    /// How many subject keys were created.
    pub fn key_count(&self) -> usize {
        self.state.lock().unwrap().keys.len()
    }

    pub fn access_log(&self) -> Vec<AccessEntry> {
        self.state.lock().unwrap().access_log.clone()
    }
}

/// Answers `kansrijk.qry.registry.wijken` as the registry (served by the gateway) does.
pub async fn start_districts_registry(client: Client) {
    kansrijk_runtime::testing::serve_reference_districts(client).await;
}

fn accepted(stream_id: Uuid) -> Value {
    serde_json::to_value(CommandAccepted {
        stream_id,
        version: 1,
        position: 1,
        first_time: true,
    })
    .unwrap()
}

/// Everything a test talks to.
pub struct Stack {
    pub nats: NatsServer,
    pub db: TestDb,
    pub client: Client,
    /// The privacy peer (absent when the real privacy service runs).
    pub peer: Option<PrivacyPeer>,
    pub views_pool: PgPool,
    /// Days added to today by the views' clock.
    pub clock_offset: Arc<AtomicI64>,
    pub shutdown: CancellationToken,
    service: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Stack {
    /// With the privacy peer and the registry's districts.
    pub async fn start() -> Stack {
        Self::start_with(false, true).await
    }

    /// With the real privacy service (`kansrijk_privacy::run`) and the registry's districts.
    pub async fn start_with_privacy_service() -> Stack {
        Self::start_with(true, true).await
    }

    /// With the privacy peer and no registry answering (it can be started later with
    /// [`start_districts_registry`]).
    pub async fn start_without_registry() -> Stack {
        Self::start_with(false, false).await
    }

    pub fn peer(&self) -> &PrivacyPeer {
        self.peer.as_ref().expect("a stack with the privacy peer")
    }

    async fn start_with(real_privacy: bool, registry: bool) -> Stack {
        let nats = NatsServer::start();
        let db = TestDb::new().await;
        let client = async_nats::connect(nats.url()).await.unwrap();
        let js = jetstream::new(client.clone());
        kansrijk_runtime::nats::ensure_events_stream(&js, 1)
            .await
            .unwrap();
        let shutdown = CancellationToken::new();
        let peer = if real_privacy {
            let config = kansrijk_privacy::Config::for_local(&db.url, &nats.url());
            tokio::spawn(kansrijk_privacy::run(config, shutdown.clone()));
            kansrijk_runtime::testing::until_answered(
                &client,
                kansrijk_runtime::testing::PRIVACY_READINESS_SUBJECT,
            )
            .await;
            None
        } else {
            Some(PrivacyPeer::start(client.clone()).await)
        };

        if registry {
            start_districts_registry(client.clone()).await;
        }
        let config = Config::local(&db.url, &nats.url());
        let service = tokio::spawn(kansrijk_casework::run(config, shutdown.clone()));

        let views_pool = db.pool("views").await;
        sqlx::raw_sql(include_str!(
            "../../../views/migrations/23001_casework_read_models.sql"
        ))
        .execute(&views_pool)
        .await
        .unwrap();
        let clock_offset = Arc::new(AtomicI64::new(0));
        let offset = clock_offset.clone();
        let casework_views = Arc::new(
            CaseworkViews::new(
                views_pool.clone(),
                client.clone(),
                kansrijk_runtime::config::DEFAULT_OIN,
                Duration::from_secs(60),
            )
            .with_clock(Arc::new(move || {
                let days = offset.load(Ordering::SeqCst);
                let today = Utc::now().date_naive();
                if days >= 0 {
                    today + Days::new(days as u64)
                } else {
                    today - Days::new(days.unsigned_abs())
                }
            })),
        );
        for p in views::projections(Some(casework_views.clone())) {
            let runner = ProjectionRunner::new(
                views_pool.clone(),
                js.clone(),
                p,
                RunnerConfig {
                    batch_size: 100,
                    fetch_wait: Duration::from_millis(50),
                },
            );
            tokio::spawn(runner.run(shutdown.clone()));
        }
        let endpoints = views::endpoints(&casework_views);
        let (c, s) = (client.clone(), shutdown.clone());
        tokio::spawn(async move {
            kansrijk_runtime::service::serve(c, "views-casework", endpoints, 16, s).await
        });
        let stack = Stack {
            nats,
            db,
            client,
            peer,
            views_pool,
            clock_offset,
            shutdown,
            service,
        };
        stack.wait_for_endpoints().await;
        stack
    }

    async fn wait_for_endpoints(&self) {
        kansrijk_runtime::testing::eventually(Duration::from_secs(30), "endpoints", || async {
            if self.peer.is_none() {
                let p = self
                    .query_raw(&officer(), kansrijk_proto::privacy::subjects::ACCESS_LOG_QUERY, &serde_json::json!({}))
                    .await;
                if matches!(&p, Err(p) if p.status == 503) {
                    return None;
                }
            }
            let a = self
                .query_raw(&municipality(), kansrijk_proto::casework::subjects::QUERY_MONITOR, &serde_json::json!({}))
                .await;
            let c: Result<Value, Problem> = self
                .send_raw(&director(), kansrijk_proto::casework::subjects::ADD_PARTICIPANT, &serde_json::json!({
                    "casusId": Uuid::nil(), "organisatie": SCHOOL, "organisatietype": "basisschool", "datum": today()
                }))
                .await;
            let c_up = !matches!(&c, Err(p) if p.status == 503);
            (a.is_ok() && c_up).then_some(())
        })
        .await;
    }

    /// Sends a command with a fresh idempotency key.
    pub async fn send<B: Serialize>(
        &self,
        actor: &Actor,
        subj: &str,
        body: &B,
    ) -> Result<CommandAccepted, Problem> {
        self.send_with(actor, subj, body, Uuid::new_v4()).await
    }

    pub async fn send_with<B: Serialize>(
        &self,
        actor: &Actor,
        subj: &str,
        body: &B,
        command_id: Uuid,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_runtime::nats::request(
            &self.client,
            subj.into(),
            kansrijk_runtime::nats::request_headers(actor, Some(command_id), None),
            body,
            Duration::from_secs(10),
        )
        .await
    }

    async fn send_raw<B: Serialize, T: DeserializeOwned>(
        &self,
        actor: &Actor,
        subj: &str,
        body: &B,
    ) -> Result<T, Problem> {
        kansrijk_runtime::nats::request(
            &self.client,
            subj.into(),
            kansrijk_runtime::nats::request_headers(actor, Some(Uuid::new_v4()), None),
            body,
            Duration::from_secs(10),
        )
        .await
    }

    /// Sends a command and waits until the views have applied it.
    pub async fn send_seen<B: Serialize>(
        &self,
        actor: &Actor,
        subj: &str,
        body: &B,
    ) -> CommandAccepted {
        let a = self
            .send(actor, subj, body)
            .await
            .unwrap_or_else(|p| panic!("{subj} refused: {p:?}"));
        self.seen(&a).await;
        a
    }

    pub async fn seen(&self, a: &CommandAccepted) {
        let ok = kansrijk_runtime::projection::wait_for(
            &self.views_pool,
            views::PROJECTIONS,
            a.stream_id,
            a.version,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        assert!(ok, "views did not catch up");
    }

    pub async fn query_raw<B: Serialize>(
        &self,
        actor: &Actor,
        subj: &str,
        body: &B,
    ) -> Result<Value, Problem> {
        kansrijk_runtime::nats::request(
            &self.client,
            subj.into(),
            kansrijk_runtime::nats::request_headers(actor, None, None),
            body,
            Duration::from_secs(10),
        )
        .await
    }

    pub async fn query<T: DeserializeOwned, B: Serialize>(
        &self,
        actor: &Actor,
        subj: &str,
        body: &B,
    ) -> Result<T, Problem> {
        self.query_raw(actor, subj, body)
            .await
            .map(|v| serde_json::from_value(v).expect("reply decodes"))
    }

    pub fn advance_days(&self, days: i64) {
        self.clock_offset.fetch_add(days, Ordering::SeqCst);
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.service).await;
    }
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn days_ago(n: u64) -> NaiveDate {
    today() - Days::new(n)
}

pub fn days_ahead(n: u64) -> NaiveDate {
    today() + Days::new(n)
}

//! A running privacy service on its own database and nats-server.

use std::time::Duration;

use async_nats::Client;
use kansrijk_privacy::{Config, Privacy};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use kansrijk_runtime::config::DEFAULT_OIN;
use kansrijk_runtime::crypto::MasterKeyRing;
use kansrijk_runtime::identity::service_actor;
use kansrijk_runtime::keys::{GetKeysRequest, KeysReply};
use kansrijk_runtime::testing::{NatsServer, TestDb};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub(crate) struct Stack {
    pub(crate) db: TestDb,
    pub(crate) nats_server: NatsServer,
    pub(crate) nats: Client,
    pub(crate) config: Config,
    pub(crate) shutdown: CancellationToken,
    pub(crate) handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// A pool in schema `privacy`, for assertions.
    pub(crate) pool: PgPool,
    /// The master key ring's spec the service runs with.
    pub(crate) master_spec: String,
}

impl Stack {
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new().await;
        let nats_server = NatsServer::start();
        let mut config = Config::for_local(&db.url, &nats_server.url());
        let master_spec = MasterKeyRing::generate_spec(1);
        config.master_keys = MasterKeyRing::parse(&master_spec).unwrap();
        adjust(&mut config);
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(kansrijk_privacy::run(config.clone(), shutdown.clone()));
        let nats = kansrijk_runtime::nats::connect(&nats_server.url(), "test")
            .await
            .unwrap();
        // Ready when the key endpoint answers.
        kansrijk_runtime::testing::eventually(Duration::from_secs(20), "privacy service", || {
            let nats = nats.clone();
            async move {
                request::<_, KeysReply>(
                    &nats,
                    subject::privacy::KEYS_GET,
                    &service("vve"),
                    &GetKeysRequest { subjects: vec![] },
                )
                .await
                .ok()
            }
        })
        .await;
        let pool = kansrijk_runtime::db::connect(&db.url, "privacy", 4)
            .await
            .unwrap();
        Stack {
            db,
            nats_server,
            nats,
            config,
            shutdown,
            handle,
            pool,
            master_spec,
        }
    }

    /// A second handle on the same database (as the CLI would have).
    pub(crate) fn privacy(&self) -> Privacy {
        Privacy::new(self.pool.clone(), self.config.clone(), None)
    }

    pub(crate) async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        subject: &str,
        actor: &Actor,
        body: &B,
    ) -> Result<T, Problem> {
        request(&self.nats, subject, actor, body).await
    }

    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        let r = tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("the service stops within 10 s")
            .expect("the service task does not panic");
        r.expect("the service ends cleanly");
    }
}

pub(crate) async fn request<B: Serialize, T: DeserializeOwned>(
    nats: &Client,
    subject: &str,
    actor: &Actor,
    body: &B,
) -> Result<T, Problem> {
    kansrijk_runtime::nats::request(
        nats,
        subject.into(),
        kansrijk_runtime::nats::request_headers(
            actor,
            Some(uuid::Uuid::new_v4()),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ),
        body,
        Duration::from_secs(10),
    )
    .await
}

pub(crate) fn service(name: &str) -> Actor {
    service_actor(name, DEFAULT_OIN)
}

pub(crate) fn officer() -> Actor {
    Actor {
        person: "pw-officer-1".into(),
        organisation: "00000001002220647000".into(),
        organisation_type: OrganisationType::Privacyfunctionaris,
        role: "functionaris-gegevensbescherming".into(),
        municipality: "0546".into(),
        purpose: Purpose::Privacytoezicht,
    }
}

pub(crate) fn nurse() -> Actor {
    Actor {
        person: "pw-nurse-1".into(),
        organisation: "00000003123456780000".into(),
        organisation_type: OrganisationType::Jgz,
        role: "jeugdverpleegkundige".into(),
        municipality: "0546".into(),
        purpose: Purpose::Zorgverlening,
    }
}

pub(crate) fn municipality() -> Actor {
    Actor {
        person: "pw-policy-1".into(),
        organisation: "00000001002220647000".into(),
        organisation_type: OrganisationType::Gemeente,
        role: "beleidsadviseur".into(),
        municipality: "0546".into(),
        purpose: Purpose::Privacytoezicht,
    }
}

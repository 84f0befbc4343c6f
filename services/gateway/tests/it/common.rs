//! The gateway on a real port with real NATS and PostgreSQL when a test needs them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use kansrijk_gateway::routes::Route;
use kansrijk_gateway::{AppState, Config};
use kansrijk_proto::actor::Actor;
use kansrijk_proto::command::{CommandAccepted, Reply};
use kansrijk_runtime::config::CommonConfig;
use kansrijk_runtime::testing::{NatsServer, TestDb};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Default)]
pub(crate) struct Options {
    pub nats: bool,
    pub db: bool,
    pub extra_routes: Vec<&'static Route>,
    pub request_timeout: Option<Duration>,
    pub view_wait: Option<Duration>,
}

#[allow(dead_code)]
pub(crate) struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub state: AppState,
    pub nats_server: Option<NatsServer>,
    pub nats: Option<async_nats::Client>,
    pub pool: Option<PgPool>,
    pub db: Option<TestDb>,
    shutdown: CancellationToken,
    tokens: Mutex<HashMap<String, String>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[allow(dead_code)]
impl TestApp {
    pub(crate) async fn start(opts: Options) -> TestApp {
        let shutdown = CancellationToken::new();
        let nats_server = opts.nats.then(NatsServer::start);
        let nats = match &nats_server {
            Some(s) => Some(
                async_nats::connect(s.url())
                    .await
                    .expect("connect to test nats"),
            ),
            None => None,
        };
        let (db, pool) = if opts.db {
            let db = TestDb::new().await;
            let pool = kansrijk_gateway::registry::connect(&db.url, 5)
                .await
                .expect("registry database");
            (Some(db), Some(pool))
        } else {
            (None, None)
        };
        if let (Some(n), Some(p)) = (&nats, &pool) {
            tokio::spawn(kansrijk_gateway::registry::service::serve(
                n.clone(),
                p.clone(),
                shutdown.clone(),
            ));
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let common = CommonConfig {
            database_url: db.as_ref().map(|d| d.url.clone()).unwrap_or_default(),
            nats_url: nats_server.as_ref().map(|s| s.url()).unwrap_or_default(),
            stream_replicas: 1,
            oin: kansrijk_runtime::config::DEFAULT_OIN.into(),
            ops_addr: None,
        };
        let mut config = Config::local(common, addr);
        config.oidc.jwks_refetch_interval = Duration::ZERO;
        if let Some(t) = opts.request_timeout {
            config.request_timeout = t;
        }
        if let Some(w) = opts.view_wait {
            config.view_wait = w;
        }
        let mut routes = kansrijk_gateway::routes::all();
        routes.extend(opts.extra_routes);
        let state = AppState::with_routes(config, nats.clone(), pool.clone(), routes).unwrap();
        let router = kansrijk_gateway::build_router(state.clone());
        tokio::spawn(kansrijk_gateway::serve(listener, router, shutdown.clone()));
        if let (Some(n), Some(_)) = (&nats, &pool) {
            // The registry's endpoints are up once the service answers its ping.
            for _ in 0..200 {
                if n.request("$SRV.PING.registry", "".into()).await.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        TestApp {
            base: format!("http://{addr}"),
            addr,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state,
            nats_server,
            nats,
            pool,
            db,
            shutdown,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A token for a persona, from the development issuer (cached).
    pub(crate) fn token(&self, persona: &str) -> String {
        let mut tokens = self.tokens.lock().unwrap();
        tokens
            .entry(persona.to_owned())
            .or_insert_with(|| self.state.dev_issuer().unwrap().token(persona).unwrap())
            .clone()
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
        key: Option<Uuid>,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k.to_string());
        }
        req.send().await.unwrap()
    }
}

/// What a fake service does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) enum Behaviour {
    /// Answers a command with `CommandAccepted` (idempotent per command id) and echoes the actor.
    AcceptCommands,
    /// Answers any query with `{ "actor": ..., "body": ... }`.
    EchoQuery,
    /// Never answers.
    Silent,
}

/// A real NATS responder on `subject`, standing in for a domain service in gateway tests.
pub(crate) async fn fake_service(
    client: &async_nats::Client,
    subject: String,
    behaviour: Behaviour,
) {
    let mut sub = client.subscribe(subject).await.unwrap();
    let flusher = client.clone();
    let client = client.clone();
    tokio::spawn(async move {
        let mut seen: HashMap<String, CommandAccepted> = HashMap::new();
        while let Some(msg) = sub.next().await {
            if behaviour == Behaviour::Silent {
                continue;
            }
            let Some(reply_to) = msg.reply.clone() else {
                continue;
            };
            let actor: Option<Actor> = msg
                .headers
                .as_ref()
                .and_then(|h| h.get(kansrijk_proto::actor::ACTOR_HEADER))
                .and_then(|v| serde_json::from_str(v.as_str()).ok());
            let command_id = msg
                .headers
                .as_ref()
                .and_then(|h| h.get(kansrijk_proto::actor::COMMAND_ID_HEADER))
                .map(|v| v.as_str().to_owned());
            let body: Value = serde_json::from_slice(&msg.payload).unwrap_or(Value::Null);
            let reply = match behaviour {
                Behaviour::AcceptCommands => {
                    let key = command_id.clone().unwrap_or_default();
                    let accepted = match seen.get(&key) {
                        Some(first) => CommandAccepted {
                            first_time: false,
                            ..first.clone()
                        },
                        None => {
                            let a = CommandAccepted {
                                stream_id: Uuid::new_v4(),
                                version: 3,
                                position: 42 + seen.len() as i64,
                                first_time: true,
                            };
                            seen.insert(key, a.clone());
                            a
                        }
                    };
                    let mut v = serde_json::to_value(&accepted).unwrap();
                    v["actor"] = json!(actor);
                    v["body"] = body;
                    v["commandId"] = json!(command_id);
                    Reply::Ok(v)
                }
                _ => Reply::Ok(json!({ "actor": actor, "body": body })),
            };
            let _ = client
                .publish(reply_to, kansrijk_runtime::nats::encode_reply(&reply))
                .await;
        }
    });
    flusher.flush().await.unwrap();
}

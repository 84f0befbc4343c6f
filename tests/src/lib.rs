//! Cross-service end-to-end tests over real NATS and PostgreSQL. The tests live in `tests/`;
//! this library holds what they share.

use kansrijk_runtime::testing::{free_port, NatsServer};

/// A JetStream cluster of nats-server processes on loopback.
#[derive(Debug)]
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
    pub names: Vec<String>,
}

impl NatsCluster {
    /// Starts `n` clustered nodes with JetStream, each with its own store directory.
    pub fn start(n: usize) -> Self {
        let client_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let cluster_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let names: Vec<String> = (0..n).map(|i| format!("kansrijk-{i}")).collect();
        let nodes = (0..n)
            .map(|i| {
                let routes: Vec<String> = cluster_ports
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, p)| format!("nats://127.0.0.1:{p}"))
                    .collect();
                NatsServer::start_with(
                    client_ports[i],
                    vec![
                        "--name".into(),
                        names[i].clone(),
                        "--cluster_name".into(),
                        "kansrijk".into(),
                        "--cluster".into(),
                        format!("nats://127.0.0.1:{}", cluster_ports[i]),
                        "--routes".into(),
                        routes.join(","),
                    ],
                )
            })
            .collect();
        NatsCluster { nodes, names }
    }

    /// All client URLs, comma-separated (what `kansrijk_runtime::nats::connect` takes).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn node_by_name(&mut self, name: &str) -> Option<&mut NatsServer> {
        let i = self.names.iter().position(|n| n == name)?;
        self.nodes.get_mut(i)
    }
}

// -------------------------------------------------------------------------------------------------
// The whole stack in one process.
// -------------------------------------------------------------------------------------------------

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kansrijk_gateway::client::Client;
use kansrijk_runtime::config::CommonConfig;
use kansrijk_runtime::testing::TestDb;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Settings of a [`Stack`]; `StackOptions::default()` is the local configuration of every service.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The VVE monitor's suppression, rounding and trend settings.
    pub vve_monitor: kansrijk_views::vve::monitor::MonitorConfig,
    /// The gateway's bounded read-your-writes wait after a command.
    pub view_wait: Duration,
    /// The gateway's bound on a NATS request to a service.
    pub request_timeout: Duration,
    /// Days within which a school must confirm a handover file (views and handover service).
    pub handover_confirm_within_days: u16,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            vve_monitor: kansrijk_views::vve::monitor::MonitorConfig::default(),
            view_wait: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            handover_confirm_within_days: 14,
        }
    }
}

/// The real Kansrijk stack in-process: a fresh PostgreSQL database ([`TestDb`]), a real
/// `nats-server` with JetStream ([`NatsServer`]), the privacy, vve, handover, casework and views
/// services, and the gateway on a free loopback port with the development issuer and the demo
/// organisations in its registry. For end-to-end tests, benchmarks, fault injection and browser
/// tests.
///
/// ```ignore
/// let stack = Stack::start().await;
/// let jgz = stack.client("jgz-verpleegkundige").await;
/// let made = jgz.post("/v1/kinderen", &body, None).await?;
/// stack.shutdown().await;
/// ```
///
/// [`Stack::shutdown`] stops every service through its shutdown token and reports a service that
/// failed or did not stop in time; dropping a `Stack` without it cancels the services and removes
/// the nats-server and the database all the same.
pub struct Stack {
    /// `http://127.0.0.1:<port>`: the gateway.
    pub base_url: String,
    pub addr: SocketAddr,
    pub db: TestDb,
    pub nats: NatsServer,
    /// A NATS connection for tests that talk to services directly.
    pub nats_client: async_nats::Client,
    /// The settings the stack runs with.
    pub options: StackOptions,
    shutdown: CancellationToken,
    parts: Vec<Part>,
}

type Starter = Arc<dyn Fn(CancellationToken) -> JoinHandle<anyhow::Result<()>> + Send + Sync>;

/// One running part of the stack: its own shutdown token (a child of the stack's) and task, and
/// how to start it again (not for the gateway, whose port is bound once).
struct Part {
    name: &'static str,
    token: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    start: Option<Starter>,
}

impl Part {
    fn service(name: &'static str, stack: &CancellationToken, start: Starter) -> Part {
        let token = stack.child_token();
        Part {
            name,
            task: Some(start(token.clone())),
            token,
            start: Some(start),
        }
    }

    fn once(
        name: &'static str,
        token: CancellationToken,
        task: JoinHandle<anyhow::Result<()>>,
    ) -> Part {
        Part {
            name,
            token,
            task: Some(task),
            start: None,
        }
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("base_url", &self.base_url)
            .field("db", &self.db.name)
            .field("nats", &self.nats.url())
            .finish_non_exhaustive()
    }
}

/// A subject each service answers, to tell that it is up (any reply, even a problem, will do).
const READINESS: &[(&str, &str)] = &[
    ("privacy", "kansrijk.qry.privacy.statistiek"),
    ("vve", "kansrijk.qry.vve.doelgroepdefinities"),
    ("overdracht", "kansrijk.qry.overdracht.inzage"),
    ("casework", "kansrijk.qry.casework.inzage"),
    ("views", "kansrijk.qry.views.wacht-op"),
    ("registry", "kansrijk.qry.registry.wijken"),
];

impl Stack {
    /// Starts the stack with the default options and waits until every part answers.
    pub async fn start() -> Stack {
        Stack::start_with(StackOptions::default()).await
    }

    /// Starts the stack with `options` and waits until every part answers.
    pub async fn start_with(options: StackOptions) -> Stack {
        let db = TestDb::new().await;
        let nats = NatsServer::start();
        let nats_url = nats.url();
        let shutdown = CancellationToken::new();
        let mut parts: Vec<Part> = Vec::new();

        // The privacy service first: every other service asks it for keys.
        let privacy = kansrijk_privacy::Config::for_local(&db.url, &nats_url);
        parts.push(Part::service(
            "privacy",
            &shutdown,
            Arc::new(move |t| tokio::spawn(kansrijk_privacy::run(privacy.clone(), t))),
        ));
        let vve = kansrijk_vve_reach::Config::local(&db.url, &nats_url);
        parts.push(Part::service(
            "vve",
            &shutdown,
            Arc::new(move |t| tokio::spawn(kansrijk_vve_reach::run(vve.clone(), t))),
        ));
        let mut handover = kansrijk_handover::Config::local(&db.url, &nats_url);
        handover.confirm_within_days = options.handover_confirm_within_days;
        parts.push(Part::service(
            "overdracht",
            &shutdown,
            Arc::new(move |t| tokio::spawn(kansrijk_handover::run(handover.clone(), t))),
        ));
        let casework = kansrijk_casework::Config::local(&db.url, &nats_url);
        parts.push(Part::service(
            "casework",
            &shutdown,
            Arc::new(move |t| tokio::spawn(kansrijk_casework::run(casework.clone(), t))),
        ));
        let mut views = kansrijk_views::Config::local(&db.url, &nats_url);
        views.vve_monitor = options.vve_monitor;
        views.handover_confirm_within_days = options.handover_confirm_within_days;
        parts.push(Part::service(
            "views",
            &shutdown,
            Arc::new(move |t| tokio::spawn(kansrijk_views::run(views.clone(), t))),
        ));

        // The gateway, on a free port, with its registry (demo organisations) served over NATS.
        let pool = kansrijk_gateway::registry::connect(&db.url, 5)
            .await
            .expect("registry database");
        kansrijk_gateway::seed_demo(&pool)
            .await
            .expect("demo organisations");
        let nats_client = kansrijk_runtime::nats::connect(&nats_url, "kansrijk-e2e")
            .await
            .expect("connect to the test nats-server");
        let gateway_nats = kansrijk_runtime::nats::connect(&nats_url, "kansrijk-gateway")
            .await
            .expect("connect the gateway to nats");
        let registry_nats = gateway_nats.clone();
        let registry_pool = pool.clone();
        parts.push(Part::service(
            "registry",
            &shutdown,
            Arc::new(move |t| {
                tokio::spawn(kansrijk_gateway::registry::service::serve(
                    registry_nats.clone(),
                    registry_pool.clone(),
                    t,
                ))
            }),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("local address");
        let common = CommonConfig {
            database_url: db.url.clone(),
            nats_url: nats_url.clone(),
            stream_replicas: 1,
            oin: kansrijk_runtime::config::DEFAULT_OIN.into(),
            ops_addr: None,
        };
        let mut config = kansrijk_gateway::Config::local(common, addr);
        config.view_wait = options.view_wait;
        config.request_timeout = options.request_timeout;
        let state = kansrijk_gateway::AppState::new(config, Some(gateway_nats), Some(pool))
            .expect("gateway state");
        let router = kansrijk_gateway::build_router(state);
        let token = shutdown.child_token();
        let s = token.clone();
        parts.push(Part::once(
            "gateway",
            token,
            tokio::spawn(async move {
                kansrijk_gateway::serve(listener, router, s).await?;
                Ok(())
            }),
        ));

        let stack = Stack {
            base_url: format!("http://{addr}"),
            addr,
            db,
            nats,
            nats_client,
            options,
            shutdown,
            parts,
        };
        stack.wait_until_ready().await;
        stack
    }

    async fn wait_until_ready(&self) {
        for (name, _) in READINESS {
            self.wait_until_answers(name).await;
        }
        let http = reqwest::Client::new();
        let livez = self.url("/livez");
        kansrijk_runtime::testing::eventually(Duration::from_secs(30), "the gateway", || {
            let http = http.clone();
            let livez = livez.clone();
            async move {
                http.get(&livez)
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().is_success())
                    .map(|_| ())
            }
        })
        .await;
    }

    /// Waits (bounded) until the part `name` (`privacy`, `vve`, `overdracht`, `casework`,
    /// `views`, `registry`) answers on NATS; panics when a part of the stack has stopped.
    pub async fn wait_until_answers(&self, name: &str) {
        let subject = READINESS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("no part {name}"));
        kansrijk_runtime::testing::eventually(
            Duration::from_secs(60),
            &format!("the {name} service to answer"),
            || async {
                if let Some(p) = self
                    .parts
                    .iter()
                    .find(|p| p.task.as_ref().is_some_and(JoinHandle::is_finished))
                {
                    panic!("the {} service stopped unexpectedly", p.name);
                }
                let req = self.nats_client.request(subject, "{}".into());
                match tokio::time::timeout(Duration::from_secs(2), req).await {
                    Ok(Ok(_)) => Some(()),
                    _ => None,
                }
            },
        )
        .await;
    }

    /// Stops one part (`privacy`, `vve`, `overdracht`, `casework`, `views`, `registry`, or
    /// `gateway`) through its own shutdown token and waits for it; its result is returned (for
    /// fault-injection tests: a service down, then [`Stack::restart`]).
    pub async fn stop(&mut self, name: &str) -> anyhow::Result<()> {
        let part = self
            .parts
            .iter_mut()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no part {name}"));
        part.token.cancel();
        match part.task.take() {
            None => Ok(()),
            Some(task) => match tokio::time::timeout(Duration::from_secs(30), task).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => Err(anyhow::anyhow!("{name} panicked: {e}")),
                Err(_) => Err(anyhow::anyhow!("{name} did not stop within 30 s")),
            },
        }
    }

    /// Starts a stopped part again with the same configuration and waits until it answers
    /// (every part but the gateway).
    pub async fn restart(&mut self, name: &str) {
        let stack_token = self.shutdown.clone();
        let part = self
            .parts
            .iter_mut()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no part {name}"));
        assert!(
            part.task.is_none(),
            "{name} is still running: stop it first"
        );
        let start = part
            .start
            .clone()
            .unwrap_or_else(|| panic!("{name} cannot be restarted"));
        part.token = stack_token.child_token();
        part.task = Some(start(part.token.clone()));
        self.wait_until_answers(name).await;
    }

    /// The names of the parts of the stack.
    pub fn parts(&self) -> Vec<&'static str> {
        self.parts.iter().map(|p| p.name).collect()
    }

    /// The gateway's URL of `path` (e.g. `/v1/jgz-werklijst`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A typed API client logged in as `persona` at the gateway's development issuer (see
    /// `kansrijk_gateway::PERSONAS`).
    pub async fn client(&self, persona: &str) -> Client {
        Client::dev_login(&self.base_url, persona)
            .await
            .unwrap_or_else(|e| panic!("dev login as {persona}: {e}"))
    }

    /// A client without a token.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.base_url)
    }

    /// A plain HTTP client with a bearer token for `persona` (for status codes and headers the
    /// typed client does not show).
    pub async fn token(&self, persona: &str) -> String {
        let resp = reqwest::Client::new()
            .post(self.url("/dev-oidc/token"))
            .form(&[
                ("grant_type", kansrijk_gateway::dev_oidc::PERSONA_GRANT),
                ("persona", persona),
            ])
            .send()
            .await
            .expect("dev issuer reachable");
        let v: serde_json::Value = resp.json().await.expect("token answer");
        v["access_token"].as_str().expect("access_token").to_owned()
    }

    /// A pool on the stack's database in `schema` (to look at what a service stored).
    pub async fn pool(&self, schema: &str) -> sqlx::PgPool {
        kansrijk_runtime::db::connect(&self.db.url, schema, 2)
            .await
            .expect("connect to the stack's database")
    }

    /// Stops every service and the gateway and waits (bounded) until each has stopped; panics
    /// naming a service that failed or did not stop within 30 seconds.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        let mut problems = Vec::new();
        for part in &mut self.parts {
            let (name, Some(task)) = (part.name, part.task.take()) else {
                continue;
            };
            match tokio::time::timeout(Duration::from_secs(30), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => problems.push(format!("{name}: {e:#}")),
                Ok(Err(e)) => problems.push(format!("{name} panicked: {e}")),
                Err(_) => problems.push(format!("{name} did not stop within 30 s")),
            }
        }
        assert!(
            problems.is_empty(),
            "unclean shutdown: {}",
            problems.join("; ")
        );
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

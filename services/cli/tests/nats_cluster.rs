//! The cluster failure test (issue 9): a 3-node nats-server JetStream cluster on loopback, with
//! the accounts and permissions of deploy/nats/accounts.conf and an R3 events stream. Commands
//! (appends to a real PostgreSQL event store) flow while the node leading the stream is killed
//! with SIGKILL and later restarted. Every acknowledged append reaches the projection exactly
//! once, in order per stream, nothing is parked, and the stream holds no duplicate.
//!
//! Issue 16: the whole stack on the cluster (every service a process with its own NATS user,
//! streams R3), under HTTP load through the gateway retried with the same `Idempotency-Key`: the
//! stream leader killed and restarted, then another node; every acknowledged command stored and
//! visible exactly once, no orphan rows, nothing parked, the time to recover printed
//! (`kansrijk_bench::faults`, also `kansrijk bench faults --fault cluster-nodes`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::ServerAddr;
use futures::future::BoxFuture;
use futures::FutureExt;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::subject;
use kansrijk_runtime::projection::{list_parked, Projection, ProjectionRunner, RunnerConfig};
use kansrijk_runtime::relay::{Relay, RelayConfig};
use kansrijk_runtime::store::{Append, EventStore, ExpectedVersion, Metadata, NewEvent};
use kansrijk_runtime::testing::{eventually, free_port, nats_server_bin, TestDb};
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const USERS: &[&str] = &[
    "sys",
    "gateway",
    "privacy",
    "vve",
    "overdracht",
    "casework",
    "views",
    "ops",
];
const WRITERS: usize = 4;
const APPENDS_PER_WRITER: usize = 75;
const STREAMS_PER_WRITER: usize = 5;

fn password(user: &str) -> String {
    format!("cluster-{user}")
}

struct Node {
    name: String,
    port: u16,
    config: PathBuf,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self) {
        let mut cmd = Command::new(nats_server_bin());
        cmd.arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for user in USERS {
            cmd.env(
                format!("NATS_{}_PASSWORD", user.to_uppercase()),
                password(user),
            );
        }
        self.child = Some(cmd.spawn().expect("nats-server starts"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{} did not listen", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Cluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Cluster {
    fn start() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::env::temp_dir().join(format!("kansrijk-nats-cluster-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::copy(
            root.join("deploy/nats/accounts.conf"),
            dir.join("accounts.conf"),
        )
        .expect("deploy/nats/accounts.conf exists");
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, c)| format!("\"nats-route://127.0.0.1:{c}\""))
            .collect();
        let mut nodes = Vec::new();
        for (i, (client, route)) in ports.iter().enumerate() {
            let name = format!("n{}", i + 1);
            let config = dir.join(format!("{name}.conf"));
            std::fs::write(
                &config,
                format!(
                    "server_name: {name}\nlisten: \"127.0.0.1:{client}\"\n\
                     jetstream {{ store_dir: \"{store}\" }}\n\
                     cluster {{ name: kansrijk, listen: \"127.0.0.1:{route}\", routes: [{routes}] }}\n\
                     include ./accounts.conf\n",
                    store = dir.join(&name).display(),
                    routes = routes.join(", ")
                ),
            )
            .expect("write node config");
            nodes.push(Node {
                name,
                port: *client,
                config,
                child: None,
            });
        }
        for n in &mut nodes {
            n.start();
        }
        Cluster { nodes, dir }
    }

    fn addrs(&self) -> Vec<ServerAddr> {
        self.nodes
            .iter()
            .map(|n| {
                format!("nats://127.0.0.1:{}", n.port)
                    .parse()
                    .expect("addr")
            })
            .collect()
    }
}

/// A client as `user` that knows every node and reconnects to whichever lives.
async fn client(addrs: Vec<ServerAddr>, user: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), password(user))
        // Each user reads replies only in its own inbox (issue 17 item 3).
        .custom_inbox_prefix(format!("_INBOX_{user}"))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .request_timeout(Some(Duration::from_secs(5)))
        .connect(addrs)
        .await
        .expect("connect")
}

/// Records every event it applies: a second apply of one event would break the primary key.
struct Recorder;

impl Projection for Recorder {
    fn name(&self) -> &'static str {
        "cluster_recorder"
    }
    fn handles(&self, e: &CloudEvent) -> bool {
        e.streamtype == "proef"
    }
    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        e: &'a CloudEvent,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            sqlx::query("INSERT INTO seen (event_id, stream_id, version) VALUES ($1, $2, $3)")
                .bind(e.id)
                .bind(e.subject)
                .bind(e.stream_version().unwrap_or(0))
                .execute(conn)
                .await?;
            Ok(())
        }
        .boxed()
    }
    fn reset<'a>(&'a self, conn: &'a mut PgConnection) -> BoxFuture<'a, anyhow::Result<()>> {
        async move {
            sqlx::query("DELETE FROM seen").execute(conn).await?;
            Ok(())
        }
        .boxed()
    }
}

/// One cluster test at a time in this process (`cargo test` runs them on threads).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_stream_leader_loses_no_acknowledged_command() {
    let _one = ONE_AT_A_TIME.lock().await;
    let cluster = Arc::new(Mutex::new(Cluster::start()));
    let addrs = cluster.lock().expect("lock").addrs();
    let vve = client(addrs.clone(), "vve").await;
    let views = client(addrs, "views").await;
    let vve_js = jetstream::new(vve);
    let views_js = jetstream::new(views);

    // The events stream as code, R3, once the cluster has elected its JetStream leader.
    let stream_info = eventually(Duration::from_secs(30), "an R3 events stream", || {
        let js = vve_js.clone();
        async move {
            let mut s = kansrijk_runtime::nats::ensure_events_stream(&js, 3)
                .await
                .ok()?;
            let info = s.info().await.ok()?.clone();
            (info.config.num_replicas == 3 && info.cluster.as_ref()?.leader.is_some())
                .then_some(info)
        }
    })
    .await;
    assert_eq!(stream_info.config.num_replicas, 3);

    let db = TestDb::new().await;
    let pool = db.pool("vve").await;
    sqlx::query(
        "CREATE TABLE seen (event_id uuid PRIMARY KEY, stream_id uuid NOT NULL, version bigint NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("read model table");
    let store = EventStore::new(pool.clone());
    let shutdown = CancellationToken::new();
    let relay = Relay::new(
        store.clone(),
        vve_js.clone(),
        RelayConfig {
            service: "vve".into(),
            source: "urn:nld:oin:00000001002220647000:systeem:kansrijk-vve"
                .parse()
                .expect("source"),
            batch_size: 50,
            poll_interval: Duration::from_millis(20),
        },
    );
    tokio::spawn(relay.run(shutdown.clone()));
    let runner = ProjectionRunner::new(
        pool.clone(),
        views_js.clone(),
        Arc::new(Recorder),
        RunnerConfig::default(),
    );
    tokio::spawn(runner.run(shutdown.clone()));

    // Commands flow from several writers; each acknowledged append is counted.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let store = store.clone();
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            let streams: Vec<Uuid> = (0..STREAMS_PER_WRITER).map(|_| Uuid::now_v7()).collect();
            let mut versions = [0i64; STREAMS_PER_WRITER];
            for i in 0..APPENDS_PER_WRITER {
                let s = i % STREAMS_PER_WRITER;
                let appended = store
                    .append(Append {
                        stream_id: streams[s],
                        stream_type: "proef".into(),
                        municipality: "0546".into(),
                        expected: ExpectedVersion::Exact(versions[s]),
                        command_id: Some(Uuid::now_v7()),
                        metadata: Metadata::default(),
                        events: vec![NewEvent {
                            id: Uuid::now_v7(),
                            event_type: "nl.test.iets-gebeurd.v1".parse().expect("type"),
                            data: serde_json::json!({ "n": i }),
                        }],
                    })
                    .await
                    .expect("an append never fails because of NATS");
                versions[s] = appended.version;
                acknowledged.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }

    // A third of the way in, kill the node that leads the stream.
    let total = WRITERS * APPENDS_PER_WRITER;
    while acknowledged.load(Ordering::SeqCst) < total / 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut stream = vve_js
        .get_stream(subject::EVENTS_STREAM)
        .await
        .expect("stream");
    let leader = stream
        .info()
        .await
        .expect("info")
        .cluster
        .clone()
        .and_then(|c| c.leader)
        .expect("a stream leader");
    let killed = {
        let mut c = cluster.lock().expect("lock");
        let node = c
            .nodes
            .iter_mut()
            .find(|n| n.name == leader)
            .expect("the leader is one of ours");
        node.kill();
        node.name.clone()
    };

    // Two thirds of the way in, bring it back.
    while acknowledged.load(Ordering::SeqCst) < 2 * total / 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    {
        let mut c = cluster.lock().expect("lock");
        let node = c.nodes.iter_mut().find(|n| n.name == killed).expect("node");
        node.start();
    }
    for w in writers {
        w.await.expect("writer");
    }
    assert_eq!(acknowledged.load(Ordering::SeqCst), total);

    // Every acknowledged command reaches the projection, exactly once.
    eventually(
        Duration::from_secs(90),
        "the projection to catch up",
        || {
            let pool = pool.clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM seen")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
                (n as usize == total).then_some(())
            }
        },
    )
    .await;
    let parked = list_parked(&pool, "cluster_recorder")
        .await
        .expect("parked");
    assert!(parked.is_empty(), "nothing parked: {parked:?}");

    // Per stream, versions 1..=n without a hole.
    let rows: Vec<(Uuid, i64, i64)> =
        sqlx::query_as("SELECT stream_id, count(*), max(version) FROM seen GROUP BY stream_id")
            .fetch_all(&pool)
            .await
            .expect("per stream");
    assert_eq!(rows.len(), WRITERS * STREAMS_PER_WRITER);
    for (stream, count, max) in rows {
        assert_eq!(count, max, "stream {stream} has a hole or a duplicate");
    }

    // No duplicate in the stream: the relay's retries after the failover were deduplicated.
    let messages = eventually(Duration::from_secs(30), "stream info", || {
        let js = vve_js.clone();
        async move {
            let mut stream = js.get_stream(subject::EVENTS_STREAM).await.ok()?;
            let messages = stream.info().await.ok()?.state.messages;
            Some(messages)
        }
    })
    .await;
    assert_eq!(
        messages as usize, total,
        "each event stored once in the stream"
    );
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_survives_two_cluster_nodes_killed_in_turn_under_load() {
    use kansrijk_bench::faults::{run, Fault, FaultConfig};
    let _one = ONE_AT_A_TIME.lock().await;
    let config = FaultConfig::new(
        env!("CARGO_BIN_EXE_kansrijk").into(),
        std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    );
    let report = run(Fault::ClusterNodes, &config)
        .await
        .expect("the fault run completes");
    eprintln!("{}\n{}", report.summary(), report.recovery_lines());
    report.assert_survived();
}

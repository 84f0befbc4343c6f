//! `kansrijk bench faults` and the fault tests of issue 16 (services/cli/tests/fault_processes.rs,
//! nats_cluster.rs): one driver for both.
//!
//! Every service runs as its own OS process (`kansrijk serve <service>` of the given binary) on a
//! fresh database and a NATS of its own. A bounded HTTP load of commands goes through the gateway
//! (children registered by JGZ, family cases opened by a youth team), each command retried with
//! the same `Idempotency-Key` on a 5xx, 429, timeout or no answer, as a client should, until
//! acknowledged (or refused, or a bound). While it runs, one fault is injected:
//!
//! - [`Fault::KillServices`]: `kill -9` of each service process in turn (the gateway included),
//!   each restarted after a moment, every service `kills_per_service` times;
//! - [`Fault::ClusterNodes`]: a 3-node JetStream cluster on loopback (three `nats-server`
//!   processes with routes, streams R3): the stream leader killed
//!   and restarted, then another node;
//! - [`Fault::PostgresRestart`]: a PostgreSQL cluster of its own (`initdb`, `pg_ctl`, in a
//!   temporary directory; never the shared server) stopped with `-m immediate` and started again;
//! - [`Fault::NatsOutage`]: nats-server killed, down for `nats_outage`, started again on the same
//!   store.
//!
//! Afterwards, [`FaultReport`]: every command the load sent was acknowledged in the end; every
//! acknowledged command is stored exactly once (its events, its idempotency record) and visible
//! once in its read model, every projection following its stream at the store's version (else
//! lost or duplicated); the events stream holds each stored event once; no orphan row in any
//! store (vve-reach's child index and reservation rows without a child stream, privacy keys and
//! subjects no service holds, retention periods without a key or a held subject, a child or case
//! stream without a key); no parked event. Per fault event: the time to recover, from the fault
//! to the first acknowledged command of each kind (whose acknowledged try was sent after the
//! fault) and to the views having applied every command acknowledged until then. Every wait is
//! on an event, with a bound; the only sleeps are the faults' own durations (a service down for
//! a moment, NATS down for 30 s) and pacing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use kansrijk_gateway::client::Client;
use kansrijk_runtime::testing::{free_port, nats_server_bin, NatsServer};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

/// The services in the order they start (privacy first: the others ask it for keys), with their
/// NATS user in the deployment's accounts (deploy/nats/accounts.conf).
pub const SERVICES: &[(&str, &str)] = &[
    ("privacy", "privacy"),
    ("vve-reach", "vve"),
    ("handover", "overdracht"),
    ("casework", "casework"),
    ("views", "views"),
    ("gateway", "gateway"),
];

/// Bound on a service (or the stack) becoming ready, on the load recovering after a fault, and on
/// the views catching up.
const BOUND: Duration = Duration::from_secs(90);
/// Bound on one try of a command (the gateway answers 504 after its own 5 s).
const TRY_BOUND: Duration = Duration::from_secs(30);
/// A command not acknowledged after retrying this long is given up (and reported).
const GIVE_UP: Duration = Duration::from_secs(150);

/// Which fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    KillServices,
    ClusterNodes,
    PostgresRestart,
    NatsOutage,
}

impl Fault {
    pub const ALL: &'static [Fault] = &[
        Fault::KillServices,
        Fault::ClusterNodes,
        Fault::PostgresRestart,
        Fault::NatsOutage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::KillServices => "kill-services",
            Fault::ClusterNodes => "cluster-nodes",
            Fault::PostgresRestart => "postgres-restart",
            Fault::NatsOutage => "nats-outage",
        }
    }

    pub fn describe(self, config: &FaultConfig) -> String {
        match self {
            Fault::KillServices => format!(
                "kill -9 of each service process in turn, gateway included, {} times each",
                config.kills_per_service
            ),
            Fault::ClusterNodes => {
                "3-node JetStream cluster (R3): the stream leader killed and restarted, then another node"
                    .into()
            }
            Fault::PostgresRestart => {
                "PostgreSQL (a private cluster) stopped with -m immediate and started again".into()
            }
            Fault::NatsOutage => format!(
                "nats-server killed, down for {} s, started again",
                config.nats_outage.as_secs()
            ),
        }
    }
}

impl std::str::FromStr for Fault {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Fault> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown fault {s:?}; known: {}",
                    Fault::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// How to run a fault.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    /// The `kansrijk` binary whose `serve <service>` runs each service.
    pub exe: PathBuf,
    /// A URL of the PostgreSQL server on which a database of the run is created (and dropped);
    /// the PostgreSQL restart uses a private cluster instead.
    pub server_url: String,
    /// Concurrent HTTP clients of the load.
    pub clients: usize,
    pub kills_per_service: usize,
    /// How long a killed service stays down before it is started again.
    pub service_down: Duration,
    pub nats_outage: Duration,
    /// Only these services are killed (all when empty).
    pub services: Vec<String>,
    /// Where the logs go (default: a temporary directory, removed after a clean run).
    pub logs: Option<PathBuf>,
}

impl FaultConfig {
    pub fn new(exe: PathBuf, server_url: String) -> FaultConfig {
        FaultConfig {
            exe,
            server_url,
            clients: 4,
            kills_per_service: 2,
            service_down: Duration::from_millis(700),
            nats_outage: Duration::from_secs(30),
            services: Vec::new(),
            logs: None,
        }
    }
}

/// Recovery from one fault event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recovery {
    pub event: String,
    /// How long the fault itself lasted (the component down), in seconds.
    pub down_s: f64,
    /// From the fault to the first acknowledged command of every kind.
    pub ack_s: f64,
    /// From the fault to the views having applied every command acknowledged until then.
    pub views_s: f64,
}

/// Orphan rows, by store.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Orphans {
    /// vve-reach child index rows without a child stream.
    pub index: i64,
    /// vve-reach reservations left without a child stream.
    pub reservations: i64,
    /// Privacy keys whose subject no service holds.
    pub keys: i64,
    /// Privacy subjects (not erased) that no service holds.
    pub subjects: i64,
    /// Subjects with retention periods but no key or no service holding them.
    pub retention: i64,
    /// Child and case streams whose subject has no key.
    pub streams_without_key: i64,
}

impl Orphans {
    pub fn total(&self) -> i64 {
        self.index
            + self.reservations
            + self.keys
            + self.subjects
            + self.retention
            + self.streams_without_key
    }

    fn describe(&self) -> String {
        format!(
            "{} index, {} reservations, {} keys, {} subjects, {} retention, {} streams without a key",
            self.index,
            self.reservations,
            self.keys,
            self.subjects,
            self.retention,
            self.streams_without_key
        )
    }
}

/// What one fault run found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FaultReport {
    pub fault: String,
    pub description: String,
    pub seconds: f64,
    /// Commands the load sent (each retried until acknowledged, refused or given up).
    pub commands: usize,
    pub acknowledged: usize,
    /// Commands that needed more than one try.
    pub retried: usize,
    /// Commands never acknowledged (refused, or given up after retrying).
    pub unfinished: usize,
    /// Commands acknowledged while the faulty component was down.
    pub acknowledged_while_down: usize,
    /// Acknowledged commands missing from their store, their read model or a projection.
    pub lost: usize,
    /// Commands stored or shown more than once, and duplicate messages in the events stream.
    pub duplicated: usize,
    pub orphans: Orphans,
    pub parked: usize,
    pub recoveries: Vec<Recovery>,
    /// Why tries failed (status and problem code; never personal data): count.
    pub failures: BTreeMap<String, usize>,
    /// Every invariant broken, in words.
    pub violations: Vec<String>,
    /// The tail of each service's log, when something broke.
    pub logs: String,
}

impl FaultReport {
    pub fn max_ack_s(&self) -> f64 {
        self.recoveries.iter().map(|r| r.ack_s).fold(0.0, f64::max)
    }

    pub fn max_views_s(&self) -> f64 {
        self.recoveries
            .iter()
            .map(|r| r.views_s)
            .fold(0.0, f64::max)
    }

    /// One line for a log.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} commands, {} acknowledged ({} retried, {} while down), {} unfinished, {} lost, \
             {} duplicated, {} orphaned ({}), {} parked, recovery ≤ {:.1} s to acknowledge, \
             ≤ {:.1} s to the views, {:.0} s in all; failed tries: {:?}",
            self.fault,
            self.commands,
            self.acknowledged,
            self.retried,
            self.acknowledged_while_down,
            self.unfinished,
            self.lost,
            self.duplicated,
            self.orphans.total(),
            self.orphans.describe(),
            self.parked,
            self.max_ack_s(),
            self.max_views_s(),
            self.seconds,
            self.failures
        )
    }

    /// The recoveries, one line each.
    pub fn recovery_lines(&self) -> String {
        self.recoveries
            .iter()
            .map(|r| {
                format!(
                    "  {}: down {:.1} s, first acknowledged after {:.2} s, views caught up after {:.2} s",
                    r.event, r.down_s, r.ack_s, r.views_s
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Panics with the violations (for the tests).
    pub fn assert_survived(&self) {
        if !self.violations.is_empty() {
            let shown: Vec<&str> = self
                .violations
                .iter()
                .take(40)
                .map(String::as_str)
                .collect();
            panic!(
                "{} violations\n{}\n{}\n{}\n{}",
                self.violations.len(),
                self.summary(),
                self.recovery_lines(),
                shown.join("\n"),
                self.logs
            );
        }
    }
}

/// The reports as Markdown: one table row per fault, then each fault's recoveries.
pub fn to_markdown(reports: &[FaultReport]) -> String {
    let mut out = String::from(
        "| fault | commands | acknowledged | acknowledged while down | unfinished | lost | duplicated | orphaned | parked | recovery to first ack (max s) | recovery to views (max s) | run s |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in reports {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} |\n",
            r.fault,
            r.commands,
            r.acknowledged,
            r.acknowledged_while_down,
            r.unfinished,
            r.lost,
            r.duplicated,
            r.orphans.total(),
            r.parked,
            r.max_ack_s(),
            r.max_views_s(),
            r.seconds
        ));
    }
    for r in reports {
        out.push_str(&format!("\n**{}**: {}.\n\n", r.fault, r.description));
        out.push_str("| event | down s | to first ack s | to views s |\n|---|---:|---:|---:|\n");
        for rec in &r.recoveries {
            out.push_str(&format!(
                "| {} | {:.1} | {:.2} | {:.2} |\n",
                rec.event, rec.down_s, rec.ack_s, rec.views_s
            ));
        }
        out.push_str(&format!(
            "\nOrphans: {}. Failed tries (retried): {:?}.\n",
            r.orphans.describe(),
            r.failures
        ));
        if !r.violations.is_empty() {
            out.push_str(&format!(
                "\n{} violations, the first:\n\n```\n{}\n```\n",
                r.violations.len(),
                r.violations
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    out
}

// -------------------------------------------------------------------------------------------------
// One run at a time, across processes.
// -------------------------------------------------------------------------------------------------

/// A lock directory holding the owner's pid, taken over when that process is gone: one fault run
/// at a time on the machine (cargo-nextest runs every test in its own process).
#[derive(Debug)]
struct ProcessLock(PathBuf);

impl ProcessLock {
    async fn take() -> anyhow::Result<ProcessLock> {
        let dir = std::env::temp_dir().join("kansrijk-fault-tests.lock");
        let start = Instant::now();
        loop {
            if std::fs::create_dir(&dir).is_ok() {
                let _ = std::fs::write(dir.join("pid"), std::process::id().to_string());
                return Ok(ProcessLock(dir));
            }
            let owner = std::fs::read_to_string(dir.join("pid")).unwrap_or_default();
            let alive = !owner.trim().is_empty()
                && std::path::Path::new(&format!("/proc/{}", owner.trim())).exists();
            if !alive && start.elapsed() > Duration::from_secs(2) {
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            anyhow::ensure!(
                start.elapsed() < Duration::from_secs(600),
                "another fault run held {} for 10 minutes",
                dir.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// -------------------------------------------------------------------------------------------------
// A private PostgreSQL cluster.
// -------------------------------------------------------------------------------------------------

/// A PostgreSQL cluster of this run only: initdb into a temporary directory, on a free port,
/// listening on loopback and a socket in that directory. Stopped (immediately) and removed on drop.
#[derive(Debug)]
pub struct PgCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
}

fn pg_bin() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|p| p.join("initdb").is_file());
    versions.sort();
    versions
        .pop()
        .context("PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgCluster {
    fn as_owner(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    pub fn init() -> anyhow::Result<PgCluster> {
        let dir = std::env::temp_dir().join(format!("kansrijk-fault-pg-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).context("cluster dir")?;
        let cluster = PgCluster {
            dir,
            port: free_port(),
            bin: pg_bin()?,
        };
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            anyhow::ensure!(ok, "chown the cluster directory to postgres");
        }
        let out = cluster
            .as_owner("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(cluster.data())
            .output()
            .context("initdb runs")?;
        anyhow::ensure!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.start()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn start(&self) -> anyhow::Result<()> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            self.port,
            self.dir.display()
        );
        let out = self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"])
            .output()
            .context("pg_ctl runs")?;
        anyhow::ensure!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// As in a crash: no checkpoint, no goodbye to the clients.
    pub fn stop_immediately(&self) {
        let _ = self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "60", "stop"])
            .output();
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_immediately();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// -------------------------------------------------------------------------------------------------
// NATS: one server, or a 3-node cluster with the deployment's accounts.
// -------------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Node {
    name: String,
    port: u16,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self) -> anyhow::Result<()> {
        let mut cmd = Command::new(nats_server_bin());
        cmd.arg("-c")
            .arg(&self.config)
            .arg("-l")
            .arg(&self.log)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(cmd.spawn().context("nats-server starts")?);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "{} did not listen", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Three nats-server processes with routes on loopback, JetStream (no accounts: with the
/// deployment's accounts, services given every node as `nats://user:pass@host` were refused with
/// "authorization violation" on the cluster; the accounts on a cluster are the older test of
/// nats_cluster.rs).
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl NatsCluster {
    pub fn start() -> anyhow::Result<NatsCluster> {
        let dir = std::env::temp_dir().join(format!("kansrijk-nats-cluster-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).context("temp dir")?;
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
                     cluster {{ name: kansrijk, listen: \"127.0.0.1:{route}\", routes: [{routes}] }}\n",
                    store = dir.join(&name).display(),
                    routes = routes.join(", ")
                ),
            )?;
            nodes.push(Node {
                log: dir.join(format!("{name}.log")),
                name,
                port: *client,
                config,
                child: None,
            });
        }
        let mut cluster = NatsCluster { nodes, dir };
        for n in &mut cluster.nodes {
            n.start()?;
        }
        Ok(cluster)
    }

    /// The URL listing every node.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn node(&mut self, name: &str) -> anyhow::Result<&mut Node> {
        self.nodes
            .iter_mut()
            .find(|n| n.name == name)
            .with_context(|| format!("no node {name}"))
    }
}

#[derive(Debug)]
enum Nats {
    Single(NatsServer),
    Cluster(NatsCluster),
}

impl Nats {
    /// The URL for a service's NATS user (no accounts here: the same for every user).
    fn url(&self, _user: &str) -> String {
        match self {
            Nats::Single(s) => s.url(),
            Nats::Cluster(c) => c.url(),
        }
    }

    fn replicas(&self) -> usize {
        match self {
            Nats::Single(_) => 1,
            Nats::Cluster(_) => 3,
        }
    }
}

// -------------------------------------------------------------------------------------------------
// The stack as processes.
// -------------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Proc {
    name: &'static str,
    exe: PathBuf,
    env: Vec<(String, String)>,
    ready_url: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .context("log file")?;
        let child = Command::new(&self.exe)
            .args(["serve", self.name])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("kansrijk serve starts")?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no drain, no goodbye.
    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then SIGKILL after a bound.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn exited(&mut self) -> Option<String> {
        match self.child.as_mut()?.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited: {status}", self.name)),
            _ => None,
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[derive(Debug)]
struct ProcStack {
    database_url: String,
    base_url: String,
    procs: Vec<Proc>,
    http: reqwest::Client,
}

impl ProcStack {
    async fn start(
        exe: &std::path::Path,
        database_url: String,
        nats: &Nats,
        dir: PathBuf,
    ) -> anyhow::Result<ProcStack> {
        std::fs::create_dir_all(&dir).context("log dir")?;
        let out = Command::new(exe)
            .arg("migrate")
            .env("DATABASE_URL", &database_url)
            .output()
            .context("kansrijk migrate runs")?;
        anyhow::ensure!(
            out.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let registry = kansrijk_gateway::registry::connect(&database_url, 2)
            .await
            .context("registry schema")?;
        kansrijk_gateway::seed_demo(&registry)
            .await
            .context("demo organisations")?;
        registry.close().await;

        let master = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(1);
        let pseudonym = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(0)
            .split_once(':')
            .map(|(_, k)| k.to_owned())
            .context("key spec")?;
        let gateway_port = free_port();
        let mut procs = Vec::new();
        for (name, user) in SERVICES {
            let port = if *name == "gateway" {
                gateway_port
            } else {
                free_port()
            };
            let addr = format!("127.0.0.1:{port}");
            let mut env = vec![
                ("DATABASE_URL".to_owned(), database_url.clone()),
                ("NATS_URL".to_owned(), nats.url(user)),
                (
                    "KANSRIJK_STREAM_REPLICAS".to_owned(),
                    nats.replicas().to_string(),
                ),
                ("KANSRIJK_DEV_ISSUER".to_owned(), "1".to_owned()),
                ("KANSRIJK_MASTER_KEYS".to_owned(), master.clone()),
                ("KANSRIJK_PSEUDONYM_KEY".to_owned(), pseudonym.clone()),
                ("RUST_LOG".to_owned(), "warn".to_owned()),
            ];
            if *name == "gateway" {
                env.push(("KANSRIJK_HTTP_ADDR".to_owned(), addr.clone()));
            } else {
                env.push(("KANSRIJK_OPS_ADDR".to_owned(), addr.clone()));
            }
            procs.push(Proc {
                name,
                exe: exe.to_owned(),
                env,
                ready_url: format!("http://{addr}/readyz"),
                log: dir.join(format!("{name}.log")),
                child: None,
            });
        }
        let mut stack = ProcStack {
            database_url,
            base_url: format!("http://127.0.0.1:{gateway_port}"),
            procs,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()?,
        };
        for p in &mut stack.procs {
            p.spawn()?;
        }
        stack.wait_ready().await?;
        Ok(stack)
    }

    fn proc(&mut self, name: &str) -> anyhow::Result<&mut Proc> {
        self.procs
            .iter_mut()
            .find(|p| p.name == name)
            .with_context(|| format!("unknown service {name}"))
    }

    async fn ready(&self, p: &Proc) -> bool {
        self.http
            .get(&p.ready_url)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let mut waiting = Vec::new();
            for p in &self.procs {
                if !self.ready(p).await {
                    waiting.push(p.name);
                }
            }
            if waiting.is_empty() {
                return Ok(());
            }
            for p in &mut self.procs {
                if let Some(exit) = p.exited() {
                    anyhow::bail!("{exit}\n{}", self.logs());
                }
            }
            anyhow::ensure!(
                start.elapsed() < BOUND,
                "not ready within {BOUND:?}: {waiting:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The tail of every service's log (for a failure message; the logs hold no personal data).
    fn logs(&self) -> String {
        let mut out = String::new();
        for p in &self.procs {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            out.push_str(&format!("--- {} ---\n", p.name));
            for l in tail.into_iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    async fn pool(&self) -> anyhow::Result<PgPool> {
        Ok(PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&self.database_url)
            .await?)
    }

    fn stop(&mut self) {
        for p in self.procs.iter_mut().rev() {
            p.stop();
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Load.
// -------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Child,
    Case,
}

const KINDS: [Kind; 2] = [Kind::Child, Kind::Case];

/// One command, after all its tries.
#[derive(Debug, Clone)]
struct Attempt {
    kind: Kind,
    key: Uuid,
    /// `Some(stream id, version)` when acknowledged.
    accepted: Option<(Uuid, i64)>,
    /// When its first try was sent, and (acknowledged) when the acknowledged try was sent and
    /// answered, relative to the run's start.
    first_sent: Duration,
    ack_try_sent: Option<Duration>,
    acked_at: Option<Duration>,
    tries: u32,
    /// Why it was not acknowledged (status and problem code; never personal data).
    error: Option<String>,
}

/// A fictional BSN starting with 9 that passes the 11-proef, distinct for every `n`.
pub fn bsn(n: u32) -> String {
    let mut seq = 0u32;
    loop {
        let body = format!("9{:07}", (n * 13 + seq) % 10_000_000);
        let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = digits.iter().zip((2..=9).rev()).map(|(d, w)| d * w).sum();
        let check = sum % 11;
        if check < 10 {
            return format!("{body}{check}");
        }
        seq += 1;
    }
}

/// One try: acknowledged, retryable, or refused.
enum Try {
    Acked((Uuid, i64)),
    Retry(String),
    Refused(String),
}

async fn one_try(client: &Client, path: &str, body: &serde_json::Value, key: Uuid) -> Try {
    match tokio::time::timeout(TRY_BOUND, client.post(path, body, Some(key))).await {
        Ok(Ok(r)) => Try::Acked((r.accepted.stream_id, r.accepted.version)),
        Ok(Err(e)) => match e.problem() {
            Some(p) => {
                let mut what = format!("{} {}", p.status, p.code.clone().unwrap_or_default());
                for f in &p.invalid_params {
                    what.push_str(&format!(" {}:{}", f.name, f.code));
                }
                let transient = p.status >= 500
                    || p.status == 429
                    || p.status == 408
                    || p.code.as_deref() == Some("versieconflict");
                if transient {
                    Try::Retry(what)
                } else {
                    Try::Refused(what)
                }
            }
            None => Try::Retry("no answer".to_owned()),
        },
        Err(_) => Try::Retry("timed out".to_owned()),
    }
}

#[derive(Debug, Default)]
struct LoadState {
    done: Vec<Attempt>,
    /// Failed tries by reason.
    failures: BTreeMap<String, usize>,
}

#[derive(Debug)]
struct Load {
    stop: Arc<AtomicBool>,
    state: Arc<Mutex<LoadState>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    t0: Instant,
}

static NEXT_BSN: AtomicU32 = AtomicU32::new(1);

impl Load {
    fn start(jgz: &Client, youth: &Client, workers: usize, t0: Instant) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(Mutex::new(LoadState::default()));
        let handles = (0..workers)
            .map(|w| {
                let (stop, state, jgz, youth) =
                    (stop.clone(), state.clone(), jgz.clone(), youth.clone());
                tokio::spawn(async move {
                    let mut i = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        let kind = if (w + i) % 3 == 2 {
                            Kind::Case
                        } else {
                            Kind::Child
                        };
                        i += 1;
                        let attempt = Self::command(&jgz, &youth, kind, t0, &state).await;
                        state.lock().expect("load state").done.push(attempt);
                    }
                })
            })
            .collect();
        Load {
            stop,
            state,
            workers: handles,
            t0,
        }
    }

    /// One command, retried with the same key (and the same body) until acknowledged, refused or
    /// given up.
    async fn command(
        jgz: &Client,
        youth: &Client,
        kind: Kind,
        t0: Instant,
        state: &Mutex<LoadState>,
    ) -> Attempt {
        let key = Uuid::new_v4();
        let (client, path, body) = match kind {
            Kind::Child => (
                jgz,
                "/v1/kinderen",
                json!({
                    "bsn": bsn(NEXT_BSN.fetch_add(1, Ordering::Relaxed)),
                    "voornaam": "Fout",
                    "achternaam": "Injectie",
                    "geboortedatum": "2023-03-01",
                    "postcode": "2311 AB",
                    "wijk": "Binnenstad-Noord",
                    "gemeente": "0546",
                }),
            ),
            Kind::Case => (
                youth,
                "/v1/casussen",
                json!({
                    "wijk": "Leiden-Noord",
                    "geopendOp": chrono::Utc::now().date_naive().to_string(),
                    "urenbudgetRegie": 10,
                    "gezinsleden": [
                        { "rol": "ouder", "voornaam": "Fout", "achternaam": "Injectie" },
                        { "rol": "kind", "voornaam": "Test", "achternaam": "Injectie", "geboortedatum": "2021-04-01" }
                    ]
                }),
            ),
        };
        let first_sent = t0.elapsed();
        let mut attempt = Attempt {
            kind,
            key,
            accepted: None,
            first_sent,
            ack_try_sent: None,
            acked_at: None,
            tries: 0,
            error: None,
        };
        let mut backoff = Duration::from_millis(100);
        loop {
            attempt.tries += 1;
            let sent = t0.elapsed();
            match one_try(client, path, &body, key).await {
                Try::Acked(a) => {
                    attempt.accepted = Some(a);
                    attempt.ack_try_sent = Some(sent);
                    attempt.acked_at = Some(t0.elapsed());
                    attempt.error = None;
                    return attempt;
                }
                Try::Refused(e) => {
                    *state
                        .lock()
                        .expect("load state")
                        .failures
                        .entry(format!("{kind:?}: {e} (refused)"))
                        .or_default() += 1;
                    attempt.error = Some(e);
                    return attempt;
                }
                Try::Retry(e) => {
                    *state
                        .lock()
                        .expect("load state")
                        .failures
                        .entry(format!("{kind:?}: {e}"))
                        .or_default() += 1;
                    attempt.error = Some(e);
                    if t0.elapsed().saturating_sub(first_sent) > GIVE_UP {
                        return attempt;
                    }
                    // Do not hammer a service that is down.
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    fn acknowledged(&self) -> usize {
        self.state
            .lock()
            .expect("load state")
            .done
            .iter()
            .filter(|a| a.accepted.is_some())
            .count()
    }

    /// Waits (bounded) until `more` further commands were acknowledged.
    async fn wait_for_progress(&self, more: usize, what: &str) -> anyhow::Result<()> {
        let target = self.acknowledged() + more;
        let start = Instant::now();
        while self.acknowledged() < target {
            anyhow::ensure!(
                start.elapsed() < BOUND,
                "no progress {what}: {} acknowledged",
                self.acknowledged()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Waits (bounded) until a command of every kind whose acknowledged try was sent after
    /// `fault` has been acknowledged; the seconds from `fault` to the last of those firsts.
    async fn wait_for_recovery(&self, fault: Duration, what: &str) -> anyhow::Result<f64> {
        let start = Instant::now();
        loop {
            let firsts: Vec<Option<Duration>> = {
                let s = self.state.lock().expect("load state");
                KINDS
                    .iter()
                    .map(|k| {
                        s.done
                            .iter()
                            .filter(|a| a.kind == *k && a.ack_try_sent.is_some_and(|t| t >= fault))
                            .filter_map(|a| a.acked_at)
                            .min()
                    })
                    .collect()
            };
            if firsts.iter().all(Option::is_some) {
                let last = firsts.into_iter().flatten().max().unwrap_or(fault);
                return Ok(last.saturating_sub(fault).as_secs_f64());
            }
            anyhow::ensure!(
                start.elapsed() < BOUND,
                "no command of every kind acknowledged within {BOUND:?} {what}: {firsts:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// (kind, stream, version) of every command acknowledged so far.
    fn acked(&self) -> Vec<(Kind, Uuid, i64)> {
        self.state
            .lock()
            .expect("load state")
            .done
            .iter()
            .filter_map(|a| a.accepted.map(|(s, v)| (a.kind, s, v)))
            .collect()
    }

    /// Acknowledged between the two moments (relative to the start).
    fn acknowledged_between(&self, from: Duration, to: Duration) -> usize {
        self.state
            .lock()
            .expect("load state")
            .done
            .iter()
            .filter(|a| a.acked_at.is_some_and(|t| t >= from && t <= to))
            .count()
    }

    /// Stops sending new commands and waits for the ones in flight (they finish their retries).
    async fn finish(self) -> LoadState {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            let _ = tokio::time::timeout(GIVE_UP + TRY_BOUND + Duration::from_secs(5), w).await;
        }
        let mut guard = self.state.lock().expect("load state");
        std::mem::take(&mut *guard)
    }
}

// -------------------------------------------------------------------------------------------------
// Checks.
// -------------------------------------------------------------------------------------------------

/// (event store schema, read model table, its key column) of each kind of command.
fn target(kind: Kind) -> (&'static str, &'static str, &'static str) {
    match kind {
        Kind::Child => ("vve", "vve_children", "child_id"),
        Kind::Case => ("casework", "cw_cases", "case_id"),
    }
}

/// Waits until every projection that follows the streams of `schema` has applied each of them
/// up to the store's version; returns those projections, or what is still behind.
async fn converged(pool: &PgPool, schema: &str) -> Result<Vec<String>, String> {
    let sql = format!(
        "WITH s AS (SELECT stream_id, max(version) AS v FROM {schema}.events GROUP BY stream_id),
              p AS (SELECT DISTINCT projection FROM views.projection_streams ps
                    WHERE ps.stream_id IN (SELECT stream_id FROM s))
         SELECT p.projection, count(*) FILTER (WHERE coalesce(ps.version, 0) <> s.v) AS behind,
                count(*) AS streams
         FROM p CROSS JOIN s
         LEFT JOIN views.projection_streams ps ON ps.projection = p.projection AND ps.stream_id = s.stream_id
         GROUP BY p.projection"
    );
    let start = Instant::now();
    loop {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&sql)
            .fetch_all(pool)
            .await
            .unwrap_or_default();
        let stored: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}.events"))
            .fetch_one(pool)
            .await
            .unwrap_or(-1);
        if (stored == 0 || !rows.is_empty()) && rows.iter().all(|(_, behind, _)| *behind == 0) {
            return Ok(rows.into_iter().map(|(p, _, _)| p).collect());
        }
        if start.elapsed() > BOUND {
            return Err(format!(
                "the projections of {schema} did not catch up within {BOUND:?}: \
                 (projection, streams behind, streams) {rows:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The projections following each kind's streams.
type Projections = BTreeMap<Kind, Vec<String>>;

async fn projections(pool: &PgPool) -> anyhow::Result<Projections> {
    let mut out = BTreeMap::new();
    for kind in KINDS {
        let (schema, _, _) = target(kind);
        let p = converged(pool, schema).await.map_err(anyhow::Error::msg)?;
        anyhow::ensure!(!p.is_empty(), "no projection follows {schema}");
        out.insert(kind, p);
    }
    Ok(out)
}

/// Waits (bounded) until every projection has applied every command in `acked`.
async fn wait_for_views(
    pool: &PgPool,
    projections: &Projections,
    acked: &[(Kind, Uuid, i64)],
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let mut behind = 0i64;
        for kind in KINDS {
            let (streams, versions): (Vec<Uuid>, Vec<i64>) = acked
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .map(|(_, s, v)| (*s, *v))
                .unzip();
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM unnest($1::uuid[], $2::bigint[]) AS a(s, v)
                 CROSS JOIN unnest($3::text[]) AS p(name)
                 WHERE NOT EXISTS (SELECT 1 FROM views.projection_streams ps
                                   WHERE ps.projection = p.name AND ps.stream_id = a.s
                                     AND ps.version >= a.v)",
            )
            .bind(&streams)
            .bind(&versions)
            .bind(&projections[&kind])
            .fetch_one(pool)
            .await
            .unwrap_or(i64::MAX);
            behind = behind.saturating_add(n);
        }
        if behind == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < BOUND,
            "the views did not apply {behind} acknowledged commands within {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(-1)
}

async fn table_exists(pool: &PgPool, table: &str) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(pool)
        .await
        .unwrap_or(false)
}

/// Orphan rows in every store.
async fn orphans(pool: &PgPool) -> Orphans {
    const HELD: &str =
        "(SELECT stream_id FROM vve.events UNION SELECT stream_id FROM casework.events \
                        UNION SELECT stream_id FROM overdracht.events)";
    let reservations = if table_exists(pool, "vve.vve_child_reservations").await {
        count(
            pool,
            "SELECT count(*) FROM vve.vve_child_reservations r
             WHERE NOT EXISTS (SELECT 1 FROM vve.events e WHERE e.stream_id = r.child_id)",
        )
        .await
    } else {
        0
    };
    Orphans {
        index: count(
            pool,
            "SELECT count(*) FROM vve.vve_child_index i
             WHERE NOT EXISTS (SELECT 1 FROM vve.events e WHERE e.stream_id = i.child_id)",
        )
        .await,
        reservations,
        keys: count(
            pool,
            &format!(
                "SELECT count(*) FROM privacy.subject_keys k WHERE k.subject NOT IN {HELD}"
            ),
        )
        .await,
        subjects: count(
            pool,
            &format!(
                "SELECT count(*) FROM privacy.subjects s
                 WHERE s.erased_at IS NULL AND s.subject NOT IN {HELD}"
            ),
        )
        .await,
        retention: count(
            pool,
            &format!(
                "SELECT count(DISTINCT r.subject) FROM privacy.retention_periods r
                 JOIN privacy.subjects s ON s.subject = r.subject AND s.erased_at IS NULL
                 WHERE r.subject NOT IN {HELD}
                    OR NOT EXISTS (SELECT 1 FROM privacy.subject_keys k WHERE k.subject = r.subject)"
            ),
        )
        .await,
        streams_without_key: count(
            pool,
            "SELECT count(*) FROM (SELECT stream_id FROM vve.events UNION SELECT stream_id FROM casework.events) s
             WHERE NOT EXISTS (SELECT 1 FROM privacy.subject_keys k WHERE k.subject = s.stream_id)",
        )
        .await,
    }
}

/// Events in every event store against messages in the events stream: (stored, in the stream).
async fn stream_against_stores(pool: &PgPool, nats_url: &str) -> anyhow::Result<(i64, u64)> {
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables
         WHERE table_name = 'events' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await?;
    let mut stored = 0i64;
    for s in schemas {
        stored += count(pool, &format!("SELECT count(*) FROM {s}.events")).await;
    }
    let nc = kansrijk_runtime::nats::connect(nats_url, "kansrijk-faults").await?;
    let js = async_nats::jetstream::new(nc);
    let mut stream = js
        .get_stream(kansrijk_proto::subject::EVENTS_STREAM)
        .await?;
    let messages = stream.info().await?.state.messages;
    Ok((stored, messages))
}

/// The state of every durable consumer on the events stream (for a failure message).
async fn consumers(nats_url: &str) -> String {
    let Ok(nc) = kansrijk_runtime::nats::connect(nats_url, "kansrijk-faults").await else {
        return "nats unreachable".into();
    };
    let js = async_nats::jetstream::new(nc);
    let Ok(stream) = js.get_stream(kansrijk_proto::subject::EVENTS_STREAM).await else {
        return "no events stream".into();
    };
    let mut out = String::new();
    let names: Vec<String> = futures::StreamExt::collect::<Vec<_>>(stream.consumer_names())
        .await
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    for n in names {
        if let Ok(i) = stream.consumer_info(&n).await {
            out.push_str(&format!(
                "{n}: pending {}, ack pending {}, redelivered {}, delivered {}\n",
                i.num_pending, i.num_ack_pending, i.num_redelivered, i.delivered.stream_sequence
            ));
        }
    }
    out
}

/// Checks every invariant into `report`.
async fn check(pool: &PgPool, nats_url: &str, load: &LoadState, report: &mut FaultReport) {
    let attempts = &load.done;
    report.commands = attempts.len();
    report.acknowledged = attempts.iter().filter(|a| a.accepted.is_some()).count();
    report.retried = attempts.iter().filter(|a| a.tries > 1).count();
    report.failures = load.failures.clone();
    let mut projections: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for kind in KINDS {
        let (schema, _, _) = target(kind);
        match converged(pool, schema).await {
            Ok(p) => {
                projections.insert(schema, p);
            }
            Err(e) => {
                report.violations.push(e);
                projections.insert(schema, Vec::new());
            }
        }
    }
    for a in attempts {
        if a.accepted.is_none() {
            report.unfinished += 1;
            report.violations.push(format!(
                "{:?} {} sent at {:.1} s was never acknowledged ({} tries, last: {})",
                a.kind,
                a.key,
                a.first_sent.as_secs_f64(),
                a.tries,
                a.error.clone().unwrap_or_default()
            ));
        }
        let (schema, table, key_col) = target(a.kind);
        // The events this command appended, by the command id in their metadata.
        let events: Vec<(Uuid, i64)> = sqlx::query_as(&format!(
            "SELECT stream_id, version FROM {schema}.events
             WHERE coalesce(metadata->>'commandId', metadata->>'command_id') = $1 ORDER BY version"
        ))
        .bind(a.key.to_string())
        .fetch_all(pool)
        .await
        .unwrap_or_default();
        let recorded: Vec<(Uuid, i64)> = sqlx::query_as(&format!(
            "SELECT stream_id, version FROM {schema}.events WHERE command_id = $1"
        ))
        .bind(a.key)
        .fetch_all(pool)
        .await
        .unwrap_or_default();
        let mut lost = false;
        let mut duplicated = false;
        match (a.accepted, events.is_empty()) {
            (Some((stream, version)), _) => {
                let expected: Vec<(Uuid, i64)> = (1..=version).map(|v| (stream, v)).collect();
                if events != expected {
                    if events.len() > expected.len() {
                        duplicated = true;
                    } else {
                        lost = true;
                    }
                    report.violations.push(format!(
                        "acknowledged {:?} {}: events {events:?}, expected {expected:?}",
                        a.kind, a.key
                    ));
                }
                if recorded != [(stream, version)] {
                    if recorded.len() > 1 {
                        duplicated = true;
                    } else {
                        lost = true;
                    }
                    report.violations.push(format!(
                        "acknowledged {:?} {}: idempotency record {recorded:?}",
                        a.kind, a.key
                    ));
                }
            }
            (None, true) => {
                if !recorded.is_empty() {
                    report.violations.push(format!(
                        "unacknowledged {:?} {}: a record without events",
                        a.kind, a.key
                    ));
                }
            }
            (None, false) => {
                // Wholly present: versions 1..n of one stream and the record of exactly that.
                let stream = events[0].0;
                let n = events.len() as i64;
                let whole = events
                    .iter()
                    .enumerate()
                    .all(|(i, (s, v))| *s == stream && *v == i as i64 + 1);
                if !whole || recorded != [(stream, n)] {
                    report.violations.push(format!(
                        "unacknowledged {:?} {} is partly present: events {events:?}, record {recorded:?}",
                        a.kind, a.key
                    ));
                }
            }
        }
        // Reflected exactly once in every projection and in the read model.
        let stream = a
            .accepted
            .map(|(s, _)| s)
            .or_else(|| events.first().map(|(s, _)| *s));
        if let Some(stream) = stream {
            let rows: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM views.{table} WHERE {key_col} = $1"
            ))
            .bind(stream)
            .fetch_one(pool)
            .await
            .unwrap_or(-1);
            if rows != 1 {
                if rows > 1 {
                    duplicated = true;
                } else {
                    lost = true;
                }
                report.violations.push(format!(
                    "{:?} {}: {rows} rows in views.{table}",
                    a.kind, a.key
                ));
            }
            let store: i64 = sqlx::query_scalar(&format!(
                "SELECT coalesce(max(version), 0) FROM {schema}.events WHERE stream_id = $1"
            ))
            .bind(stream)
            .fetch_one(pool)
            .await
            .unwrap_or(-1);
            for p in &projections[schema] {
                let v: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM views.projection_streams WHERE projection = $1 AND stream_id = $2",
                )
                .bind(p)
                .bind(stream)
                .fetch_optional(pool)
                .await
                .unwrap_or(None);
                if v != Some(store) {
                    lost = true;
                    report.violations.push(format!(
                        "{:?} {}: projection {p} at {v:?}, store at {store}",
                        a.kind, a.key
                    ));
                }
            }
        }
        if a.accepted.is_some() && lost {
            report.lost += 1;
        }
        if duplicated {
            report.duplicated += 1;
        }
    }

    // Each stored event once in the events stream (the relay's retries deduplicated): wait
    // (bounded) for the relays to drain, then compare.
    let start = Instant::now();
    loop {
        match stream_against_stores(pool, nats_url).await {
            Ok((stored, messages)) if stored == messages as i64 => break,
            Ok((stored, messages)) if start.elapsed() > BOUND => {
                if messages as i64 > stored {
                    report.duplicated += (messages as i64 - stored) as usize;
                }
                report.violations.push(format!(
                    "the events stream holds {messages} messages, the stores {stored} events"
                ));
                break;
            }
            Err(e) if start.elapsed() > BOUND => {
                report
                    .violations
                    .push(format!("the events stream could not be read: {e:#}"));
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }

    report.orphans = orphans(pool).await;
    if report.orphans.total() != 0 {
        report
            .violations
            .push(format!("orphan rows: {}", report.orphans.describe()));
    }

    // Nothing parked along the way, in any schema.
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'parked_events'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    for schema in schemas {
        let parked: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT projection, event_type, error FROM {schema}.parked_events"
        ))
        .fetch_all(pool)
        .await
        .unwrap_or_default();
        report.parked += parked.len();
        for (projection, event_type, error) in parked {
            report.violations.push(format!(
                "{schema}: {projection} parked {event_type}: {error}"
            ));
        }
    }
}

// -------------------------------------------------------------------------------------------------
// The faults.
// -------------------------------------------------------------------------------------------------

/// What a fault run drives.
struct Run<'a> {
    config: &'a FaultConfig,
    stack: ProcStack,
    nats: Nats,
    pg: Option<PgCluster>,
    load: Load,
    pool: PgPool,
    projections: Projections,
    recoveries: Vec<Recovery>,
    /// (from, to) relative to the start: while the faulty component was down.
    down: Vec<(Duration, Duration)>,
}

impl Run<'_> {
    fn now(&self) -> Duration {
        self.load.t0.elapsed()
    }

    /// Waits for the load to recover from a fault at `fault` (relative to the start), then for the
    /// views to apply everything acknowledged until then; records the recovery.
    async fn recovered(
        &mut self,
        event: String,
        fault: Duration,
        up: Duration,
    ) -> anyhow::Result<()> {
        let ack_s = self
            .load
            .wait_for_recovery(fault, &event)
            .await
            .with_context(|| format!("{event}\n{}", self.stack.logs()))?;
        let acked = self.load.acked();
        wait_for_views(&self.pool, &self.projections, &acked)
            .await
            .with_context(|| format!("after {event}\n{}", self.stack.logs()))?;
        let views_s = self.now().saturating_sub(fault).as_secs_f64();
        let down_s = up.saturating_sub(fault).as_secs_f64();
        eprintln!(
            "kansrijk faults: {event}: down {down_s:.1} s, first acknowledged after {ack_s:.2} s, views after {views_s:.2} s"
        );
        self.down.push((fault, up));
        self.recoveries.push(Recovery {
            event,
            down_s,
            ack_s,
            views_s,
        });
        Ok(())
    }

    async fn kill_services(&mut self) -> anyhow::Result<()> {
        let wanted: Vec<&'static str> = SERVICES
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| {
                self.config.services.is_empty() || self.config.services.iter().any(|w| w == s)
            })
            .collect();
        for round in 1..=self.config.kills_per_service {
            for name in &wanted {
                let fault = self.now();
                self.stack.proc(name)?.kill9();
                // The service stays down for a moment, with the load running into it.
                tokio::time::sleep(self.config.service_down).await;
                self.stack.proc(name)?.spawn()?;
                let up = self.now();
                self.stack.wait_ready().await?;
                self.recovered(format!("kill -9 {name} (#{round})"), fault, up)
                    .await?;
            }
        }
        Ok(())
    }

    async fn nats_outage(&mut self) -> anyhow::Result<()> {
        let Nats::Single(server) = &mut self.nats else {
            anyhow::bail!("the outage runs on a single server");
        };
        let fault = self.load.t0.elapsed();
        server.kill();
        // The outage: NATS is down this long (the fault's duration, not a wait for an event).
        tokio::time::sleep(self.config.nats_outage).await;
        server.restart();
        let up = self.now();
        self.stack.wait_ready().await?;
        self.recovered(
            format!("nats-server down {} s", self.config.nats_outage.as_secs()),
            fault,
            up,
        )
        .await
    }

    async fn postgres_restart(&mut self) -> anyhow::Result<()> {
        let pg = self.pg.as_ref().context("no private PostgreSQL")?;
        let fault = self.now();
        pg.stop_immediately();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        pg.start()?;
        let up = self.now();
        // The checks' own pool lost its connections too: a new one.
        self.pool.close().await;
        self.pool = self.stack.pool().await?;
        self.stack.wait_ready().await?;
        self.recovered("postgresql stopped -m immediate, started".into(), fault, up)
            .await
    }

    /// The node that leads the events stream now (bounded wait for an election).
    async fn stream_leader(&self) -> anyhow::Result<String> {
        let nc = kansrijk_runtime::nats::connect(&self.nats.url("vve"), "kansrijk-faults").await?;
        let js = async_nats::jetstream::new(nc);
        let start = Instant::now();
        loop {
            if let Ok(mut s) = js.get_stream(kansrijk_proto::subject::EVENTS_STREAM).await {
                if let Ok(info) = s.info().await {
                    if let Some(leader) = info.cluster.as_ref().and_then(|c| c.leader.clone()) {
                        return Ok(leader);
                    }
                }
            }
            anyhow::ensure!(start.elapsed() < BOUND, "no stream leader within {BOUND:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (bounded) until every replica of the events stream is current again.
    async fn replicas_current(&self) -> anyhow::Result<()> {
        let nc = kansrijk_runtime::nats::connect(&self.nats.url("vve"), "kansrijk-faults").await?;
        let js = async_nats::jetstream::new(nc);
        let start = Instant::now();
        loop {
            if let Ok(mut s) = js.get_stream(kansrijk_proto::subject::EVENTS_STREAM).await {
                if let Ok(info) = s.info().await {
                    if let Some(c) = &info.cluster {
                        if c.leader.is_some()
                            && c.replicas.len() == 2
                            && c.replicas.iter().all(|r| r.current && !r.offline)
                        {
                            return Ok(());
                        }
                    }
                }
            }
            anyhow::ensure!(
                start.elapsed() < BOUND,
                "the stream's replicas not current within {BOUND:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn cluster_nodes(&mut self) -> anyhow::Result<()> {
        let info = {
            let nc =
                kansrijk_runtime::nats::connect(&self.nats.url("vve"), "kansrijk-faults").await?;
            let js = async_nats::jetstream::new(nc);
            let mut s = js
                .get_stream(kansrijk_proto::subject::EVENTS_STREAM)
                .await?;
            s.info().await?.clone()
        };
        anyhow::ensure!(
            info.config.num_replicas == 3,
            "the events stream has {} replicas, not 3",
            info.config.num_replicas
        );
        let mut killed: Vec<String> = Vec::new();
        for which in ["the stream leader", "another node"] {
            self.replicas_current().await?;
            let leader = self.stream_leader().await?;
            // First the leader; then another node than the first (the leader again if it moved
            // elsewhere, else any other).
            let victim = if killed.contains(&leader) {
                ["n1", "n2", "n3"]
                    .into_iter()
                    .find(|n| !killed.iter().any(|k| k == n))
                    .unwrap_or("n1")
                    .to_owned()
            } else {
                leader.clone()
            };
            let fault = self.now();
            {
                let Nats::Cluster(c) = &mut self.nats else {
                    anyhow::bail!("not a cluster");
                };
                c.node(&victim)?.kill();
            }
            // The node stays down for a while, with the load running (two nodes keep quorum).
            tokio::time::sleep(Duration::from_secs(3)).await;
            {
                let Nats::Cluster(c) = &mut self.nats else {
                    anyhow::bail!("not a cluster");
                };
                c.node(&victim)?.start()?;
            }
            let up = self.now();
            self.recovered(
                format!("kill -9 nats node {victim} ({which}, leader was {leader})"),
                fault,
                up,
            )
            .await?;
            killed.push(victim);
        }
        self.replicas_current().await
    }
}

/// Runs one fault under load and checks what it left. An `Err` is a run that could not be
/// driven to its end (the stack did not come back within a bound); a report with violations is
/// a run that came back but broke an invariant.
pub async fn run(fault: Fault, config: &FaultConfig) -> anyhow::Result<FaultReport> {
    let _lock = ProcessLock::take().await?;
    let t0 = Instant::now();
    let dir = config
        .logs
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("kansrijk-faults-{}", Uuid::new_v4())))
        .join(fault.name());

    // The database: a private PostgreSQL for its restart, else a fresh database on the server.
    let (pg, database_url, server_db) = if fault == Fault::PostgresRestart {
        let pg = PgCluster::init()?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&pg.url("postgres"))
            .await
            .context("the private cluster is reachable")?;
        sqlx::query("CREATE DATABASE kansrijk_fault")
            .execute(&admin)
            .await?;
        admin.close().await;
        let url = pg.url("kansrijk_fault");
        (Some(pg), url, None)
    } else {
        let name = format!("kansrijk_faults_{}", Uuid::new_v4().simple());
        crate::full::recreate_database(&config.server_url, &name, true).await?;
        (
            None,
            crate::full::with_database(&config.server_url, &name),
            Some(name),
        )
    };
    let nats = if fault == Fault::ClusterNodes {
        Nats::Cluster(NatsCluster::start()?)
    } else {
        Nats::Single(NatsServer::start())
    };
    eprintln!(
        "kansrijk faults: {}: logs in {}",
        fault.name(),
        dir.display()
    );

    let result = async {
        let stack = ProcStack::start(&config.exe, database_url.clone(), &nats, dir.clone()).await?;
        let jgz = Client::dev_login(&stack.base_url, "jgz-verpleegkundige")
            .await
            .context("dev login jgz")?;
        let youth = Client::dev_login(&stack.base_url, "regisseur")
            .await
            .context("dev login youth team")?;
        let load = Load::start(&jgz, &youth, config.clients, t0);
        let pool = stack.pool().await?;
        let mut run = Run {
            config,
            stack,
            nats,
            pg,
            load,
            pool,
            projections: BTreeMap::new(),
            recoveries: Vec::new(),
            down: Vec::new(),
        };
        let driven = async {
            // Before any fault: the load works and every kind's projections are known.
            run.load.wait_for_progress(6, "before any fault").await?;
            let start = Instant::now();
            while run
                .load
                .acked()
                .iter()
                .map(|(k, _, _)| *k)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                < KINDS.len()
            {
                anyhow::ensure!(
                    start.elapsed() < BOUND,
                    "no command of every kind before the fault"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            run.projections = projections(&run.pool).await?;
            match fault {
                Fault::KillServices => run.kill_services().await?,
                Fault::ClusterNodes => run.cluster_nodes().await?,
                Fault::PostgresRestart => run.postgres_restart().await?,
                Fault::NatsOutage => run.nats_outage().await?,
            }
            // A little more load after the last fault.
            run.load.wait_for_progress(5, "after the last fault").await
        }
        .await;
        let Run {
            mut stack,
            nats,
            pg,
            load,
            pool,
            recoveries,
            down,
            ..
        } = run;
        let while_down: usize = down
            .iter()
            .map(|(from, to)| load.acknowledged_between(*from, *to))
            .sum();
        let state = load.finish().await;
        let mut report = FaultReport {
            fault: fault.name().to_owned(),
            description: fault.describe(config),
            recoveries,
            acknowledged_while_down: while_down,
            ..Default::default()
        };
        if let Err(e) = driven {
            report
                .violations
                .push(format!("the run did not complete: {e:#}"));
        }
        check(&pool, &nats.url("views"), &state, &mut report).await;
        if !report.violations.is_empty() {
            report.logs = format!(
                "consumers:\n{}\n{}",
                consumers(&nats.url("views")).await,
                stack.logs()
            );
        }
        pool.close().await;
        stack.stop();
        drop(nats);
        drop(pg);
        anyhow::Ok(report)
    }
    .await;

    if let Some(name) = server_db {
        let _ = crate::full::recreate_database(&config.server_url, &name, false).await;
    }
    let mut report = result?;
    report.seconds = t0.elapsed().as_secs_f64();
    if report.violations.is_empty() && config.logs.is_none() {
        let _ = std::fs::remove_dir_all(dir.parent().unwrap_or(&dir));
    }
    eprintln!("kansrijk faults: {}", report.summary());
    Ok(report)
}

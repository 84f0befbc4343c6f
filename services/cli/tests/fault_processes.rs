//! Fault injection with real processes. Every service runs as its own OS process
//! (`kansrijk serve <service>`, the binary cargo builds for this test), with a fresh database and
//! its own nats-server. Under a steady load of commands over HTTP through the gateway (children
//! registered by JGZ, family cases opened by a youth team), the tests inject:
//!
//! - `kill -9` of each service process in turn, each restarted after a moment;
//! - a restart of nats-server (killed, started again on the same port and store);
//! - a restart of PostgreSQL: a private cluster of this test (never the shared server), stopped
//!   with `-m immediate` (no checkpoint, as in a crash) and started again.
//!
//! Afterwards: every acknowledged command (2xx with a `CommandAccepted`) is in its event store
//! exactly once and reflected in every projection that follows its stream exactly once (the
//! projection's applied version equals the store's, the read model holds one row); an
//! unacknowledged command is either wholly present (all its events and its idempotency record) or
//! wholly absent. Waits are bounded; no sleep is an assertion.
//!
//! CI: `cargo test -p kansrijk-cli --test fault_processes` builds the `kansrijk` binary first
//! (`CARGO_BIN_EXE_kansrijk`). The PostgreSQL test needs Debian's server binaries
//! (`/usr/lib/postgresql/<version>/bin`); as root it runs them as the `postgres` user.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kansrijk_gateway::client::Client;
use kansrijk_runtime::testing::{free_port, NatsServer, TestDb};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

/// One fault test at a time: each runs a whole stack of processes, and the machine is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The same across processes (cargo-nextest runs every test in its own process): a lock
/// directory holding the owner's pid, taken over when that process is gone.
struct ProcessLock(PathBuf);

impl ProcessLock {
    async fn take() -> ProcessLock {
        let dir = std::env::temp_dir().join("kansrijk-fault-tests.lock");
        let start = Instant::now();
        loop {
            if std::fs::create_dir(&dir).is_ok() {
                let _ = std::fs::write(dir.join("pid"), std::process::id().to_string());
                return ProcessLock(dir);
            }
            let owner = std::fs::read_to_string(dir.join("pid")).unwrap_or_default();
            let alive = !owner.trim().is_empty()
                && std::path::Path::new(&format!("/proc/{}", owner.trim())).exists();
            if !alive && start.elapsed() > Duration::from_secs(2) {
                // Its owner died without cleaning up (or never wrote its pid).
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            assert!(
                start.elapsed() < Duration::from_secs(600),
                "another fault test held {} for 10 minutes",
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

/// The services in the order they start (privacy first: the others ask it for keys).
const SERVICES: &[&str] = &[
    "privacy",
    "vve-reach",
    "handover",
    "casework",
    "views",
    "gateway",
];

const READY_WITHIN: Duration = Duration::from_secs(90);
const REQUEST_BOUND: Duration = Duration::from_secs(30);

// -------------------------------------------------------------------------------------------------
// A private PostgreSQL cluster.
// -------------------------------------------------------------------------------------------------

/// A PostgreSQL cluster of this test only: initdb into a temporary directory, on a free port,
/// listening on loopback and a socket in that directory. Stopped (immediately) and removed on drop.
struct PgCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
}

fn pg_bin() -> PathBuf {
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
        .expect("PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
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

    fn init() -> PgCluster {
        let dir = std::env::temp_dir().join(format!("kansrijk-fault-pg-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let cluster = PgCluster {
            dir,
            port: free_port(),
            bin: pg_bin(),
        };
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "chown the cluster directory to postgres");
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
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn start(&self) {
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
            .expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// As in a crash: no checkpoint, no goodbye to the clients.
    fn stop_immediately(&self) {
        let _ = self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "60", "stop"])
            .output();
    }

    fn url(&self, db: &str) -> String {
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
// The stack as processes.
// -------------------------------------------------------------------------------------------------

struct Proc {
    name: &'static str,
    env: Vec<(String, String)>,
    ready_url: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_kansrijk"))
            .args(["serve", self.name])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("kansrijk serve starts");
        self.child = Some(child);
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

struct ProcStack {
    database_url: String,
    base_url: String,
    nats: NatsServer,
    procs: Vec<Proc>,
    dir: PathBuf,
    http: reqwest::Client,
}

impl ProcStack {
    async fn start(database_url: String) -> ProcStack {
        let dir = std::env::temp_dir().join(format!("kansrijk-fault-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("state dir");
        let nats = NatsServer::start();
        let out = Command::new(env!("CARGO_BIN_EXE_kansrijk"))
            .arg("migrate")
            .env("DATABASE_URL", &database_url)
            .env("NATS_URL", nats.url())
            .output()
            .expect("kansrijk migrate runs");
        assert!(
            out.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let registry = kansrijk_gateway::registry::connect(&database_url, 2)
            .await
            .expect("registry schema");
        kansrijk_gateway::seed_demo(&registry)
            .await
            .expect("demo organisations");
        registry.close().await;

        let master = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(1);
        let pseudonym = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(0)
            .split_once(':')
            .map(|(_, k)| k.to_owned())
            .expect("key spec");
        let gateway_port = free_port();
        let mut procs = Vec::new();
        for name in SERVICES {
            let port = if *name == "gateway" {
                gateway_port
            } else {
                free_port()
            };
            let mut env = vec![
                ("DATABASE_URL".to_owned(), database_url.clone()),
                ("NATS_URL".to_owned(), nats.url()),
                ("KANSRIJK_DEV_ISSUER".to_owned(), "1".to_owned()),
                ("KANSRIJK_MASTER_KEYS".to_owned(), master.clone()),
                ("KANSRIJK_PSEUDONYM_KEY".to_owned(), pseudonym.clone()),
                ("RUST_LOG".to_owned(), "warn".to_owned()),
            ];
            let addr = format!("127.0.0.1:{port}");
            if *name == "gateway" {
                env.push(("KANSRIJK_HTTP_ADDR".to_owned(), addr.clone()));
            } else {
                env.push(("KANSRIJK_OPS_ADDR".to_owned(), addr.clone()));
            }
            procs.push(Proc {
                name,
                env,
                ready_url: format!("http://{addr}/readyz"),
                log: dir.join(format!("{name}.log")),
                child: None,
            });
        }
        let mut stack = ProcStack {
            database_url,
            base_url: format!("http://127.0.0.1:{gateway_port}"),
            nats,
            procs,
            dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .expect("http client"),
        };
        for p in &mut stack.procs {
            p.spawn();
        }
        stack.wait_ready().await;
        stack
    }

    fn proc(&mut self, name: &str) -> &mut Proc {
        self.procs
            .iter_mut()
            .find(|p| p.name == name)
            .expect("known service")
    }

    async fn ready(&self, p: &Proc) -> bool {
        self.http
            .get(&p.ready_url)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
    }

    async fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            let mut waiting = Vec::new();
            for p in &self.procs {
                if !self.ready(p).await {
                    waiting.push(p.name);
                }
            }
            if waiting.is_empty() {
                return;
            }
            for p in &mut self.procs {
                if let Some(exit) = p.exited() {
                    panic!("{exit}\n{}", self.logs());
                }
            }
            assert!(
                start.elapsed() < READY_WITHIN,
                "not ready within {READY_WITHIN:?}: {waiting:?}\n{}",
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

    async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url)
            .await
            .expect("connect to the stack's database")
    }

    fn stop(mut self) {
        for p in self.procs.iter_mut().rev() {
            p.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// -------------------------------------------------------------------------------------------------
// Load.
// -------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Child,
    Case,
}

#[derive(Debug, Clone)]
struct Attempt {
    kind: Kind,
    key: Uuid,
    /// `Some(stream id, version)` when acknowledged.
    accepted: Option<(Uuid, i64)>,
    /// When it was sent, relative to the test start (for the report).
    at: Duration,
    /// Why it was not acknowledged (status and problem code; never personal data).
    error: Option<String>,
}

/// A fictional BSN starting with 9 that passes the 11-proef, distinct for every `n`.
fn bsn(n: u32) -> String {
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

static NEXT_BSN: AtomicU32 = AtomicU32::new(1);

async fn one_command(
    jgz: &Client,
    youth: &Client,
    kind: Kind,
    key: Uuid,
) -> Result<(Uuid, i64), String> {
    let call = async {
        match kind {
            Kind::Child => {
                let n = NEXT_BSN.fetch_add(1, Ordering::Relaxed);
                jgz.post(
                    "/v1/kinderen",
                    &json!({
                        "bsn": bsn(n),
                        "voornaam": "Fout",
                        "achternaam": "Injectie",
                        "geboortedatum": "2023-03-01",
                        "postcode": "2311 AB",
                        "wijk": "Binnenstad",
                        "gemeente": "0546",
                    }),
                    Some(key),
                )
                .await
            }
            Kind::Case => {
                youth
                    .post(
                        "/v1/casussen",
                        &json!({
                            "wijk": "Leiden-Noord",
                            "geopendOp": chrono::Utc::now().date_naive().to_string(),
                            "urenbudgetRegie": 10,
                            "gezinsleden": [
                                { "rol": "ouder", "voornaam": "Fout", "achternaam": "Injectie" },
                                { "rol": "kind", "voornaam": "Test", "achternaam": "Injectie", "geboortedatum": "2021-04-01" }
                            ]
                        }),
                        Some(key),
                    )
                    .await
            }
        }
    };
    match tokio::time::timeout(REQUEST_BOUND, call).await {
        Ok(Ok(r)) if (200..300).contains(&r.status) => {
            Ok((r.accepted.stream_id, r.accepted.version))
        }
        Ok(Ok(r)) => Err(format!("status {}", r.status)),
        Ok(Err(e)) => Err(match e.problem() {
            Some(p) => format!("{} {}", p.status, p.code.clone().unwrap_or_default()),
            None => "no answer".to_owned(),
        }),
        Err(_) => Err("timed out".to_owned()),
    }
}

struct Load {
    stop: Arc<AtomicBool>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(jgz: &Client, youth: &Client, workers: usize, started: Instant) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let handles = (0..workers)
            .map(|w| {
                let (stop, attempts, jgz, youth) =
                    (stop.clone(), attempts.clone(), jgz.clone(), youth.clone());
                tokio::spawn(async move {
                    let mut i = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        let kind = if (w + i) % 3 == 2 {
                            Kind::Case
                        } else {
                            Kind::Child
                        };
                        i += 1;
                        let key = Uuid::new_v4();
                        let at = started.elapsed();
                        let outcome = one_command(&jgz, &youth, kind, key).await;
                        let (accepted, error) = match outcome {
                            Ok(a) => (Some(a), None),
                            Err(e) => (None, Some(e)),
                        };
                        if accepted.is_none() {
                            // Do not hammer a service that is down.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        attempts.lock().expect("attempts").push(Attempt {
                            kind,
                            key,
                            accepted,
                            at,
                            error,
                        });
                    }
                })
            })
            .collect();
        Load {
            stop,
            attempts,
            workers: handles,
        }
    }

    fn acknowledged(&self) -> usize {
        self.attempts
            .lock()
            .expect("attempts")
            .iter()
            .filter(|a| a.accepted.is_some())
            .count()
    }

    /// Waits (bounded) until `more` further commands were acknowledged: the stack works again.
    async fn wait_for_progress(&self, more: usize, what: &str, stack: &ProcStack) {
        let target = self.acknowledged() + more;
        let start = Instant::now();
        while self.acknowledged() < target {
            assert!(
                start.elapsed() < READY_WITHIN,
                "no progress {what}: {} acknowledged\n{}",
                self.acknowledged(),
                stack.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finish(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            let _ = tokio::time::timeout(REQUEST_BOUND + Duration::from_secs(5), w).await;
        }
        let guard = self.attempts.lock().expect("attempts");
        guard.clone()
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
        if start.elapsed() > READY_WITHIN {
            return Err(format!(
                "the projections of {schema} did not catch up within {READY_WITHIN:?}: \
                 (projection, streams behind, streams) {rows:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The state of every durable consumer on the events stream (for a failure message).
async fn consumers(nats_url: &str) -> String {
    let Ok(nc) = async_nats::connect(nats_url).await else {
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

/// Checks the invariants; returns a list of violations.
async fn check(pool: &PgPool, attempts: &[Attempt]) -> Vec<String> {
    let mut violations = Vec::new();
    let mut projections: HashMap<&str, Vec<String>> = HashMap::new();
    for kind in [Kind::Child, Kind::Case] {
        let (schema, _, _) = target(kind);
        match converged(pool, schema).await {
            Ok(p) => {
                projections.insert(schema, p);
            }
            Err(e) => {
                violations.push(e);
                projections.insert(schema, Vec::new());
            }
        }
    }
    for a in attempts {
        let (schema, table, key_col) = target(a.kind);
        // The events this command appended, by the command id in their metadata.
        let events: Vec<(Uuid, i64)> = sqlx::query_as(&format!(
            "SELECT stream_id, version FROM {schema}.events
             WHERE coalesce(metadata->>'commandId', metadata->>'command_id') = $1 ORDER BY version"
        ))
        .bind(a.key.to_string())
        .fetch_all(pool)
        .await
        .expect("events of a command");
        let recorded: Option<(Uuid, i64)> = sqlx::query_as(&format!(
            "SELECT stream_id, version FROM {schema}.events WHERE command_id = $1"
        ))
        .bind(a.key)
        .fetch_optional(pool)
        .await
        .expect("idempotency record");
        match (a.accepted, events.is_empty()) {
            (Some((stream, version)), _) => {
                let expected: Vec<(Uuid, i64)> = (1..=version).map(|v| (stream, v)).collect();
                if events != expected {
                    violations.push(format!(
                        "acknowledged {:?} {} at {:?}: events {events:?}, expected {expected:?}",
                        a.kind, a.key, a.at
                    ));
                }
                if recorded != Some((stream, version)) {
                    violations.push(format!(
                        "acknowledged {:?} {}: idempotency record {recorded:?}",
                        a.kind, a.key
                    ));
                }
            }
            (None, true) => {
                if recorded.is_some() {
                    violations.push(format!(
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
                if !whole || recorded != Some((stream, n)) {
                    violations.push(format!(
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
            .expect("read model");
            if rows != 1 {
                violations.push(format!(
                    "{:?} {}: {rows} rows in views.{table}",
                    a.kind, a.key
                ));
            }
            for p in &projections[schema] {
                let v: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM views.projection_streams WHERE projection = $1 AND stream_id = $2",
                )
                .bind(p)
                .bind(stream)
                .fetch_optional(pool)
                .await
                .expect("projection bookkeeping");
                let store: i64 = sqlx::query_scalar(&format!(
                    "SELECT coalesce(max(version), 0) FROM {schema}.events WHERE stream_id = $1"
                ))
                .bind(stream)
                .fetch_one(pool)
                .await
                .expect("store version");
                if v != Some(store) {
                    violations.push(format!(
                        "{:?} {}: projection {p} at {v:?}, store at {store}",
                        a.kind, a.key
                    ));
                }
            }
        }
    }
    // Nothing parked along the way, in any schema.
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'parked_events'",
    )
    .fetch_all(pool)
    .await
    .expect("schemas");
    for schema in schemas {
        let parked: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT projection, event_type, error FROM {schema}.parked_events"
        ))
        .fetch_all(pool)
        .await
        .expect("parked");
        for (projection, event_type, error) in parked {
            violations.push(format!(
                "{schema}: {projection} parked {event_type}: {error}"
            ));
        }
    }
    violations
}

fn summary(attempts: &[Attempt]) -> String {
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for a in attempts {
        let e = by.entry(format!("{:?}", a.kind)).or_default();
        if a.accepted.is_some() {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for a in attempts {
        if let Some(e) = &a.error {
            *errors.entry(format!("{:?}: {e}", a.kind)).or_default() += 1;
        }
    }
    format!("{by:?} (acknowledged, not acknowledged); failures: {errors:?}")
}

async fn clients(stack: &ProcStack) -> (Client, Client) {
    let jgz = Client::dev_login(&stack.base_url, "jgz-verpleegkundige")
        .await
        .expect("dev login jgz");
    let youth = Client::dev_login(&stack.base_url, "regisseur")
        .await
        .expect("dev login youth team");
    (jgz, youth)
}

async fn verify(stack: &ProcStack, attempts: &[Attempt]) {
    let pool = stack.pool().await;
    let violations = check(&pool, attempts).await;
    pool.close().await;
    if !violations.is_empty() {
        let shown: Vec<&String> = violations.iter().take(40).collect();
        panic!(
            "{} violations over {}:\n{}\nconsumers:\n{}\n{}",
            violations.len(),
            summary(attempts),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            consumers(&stack.nats.url()).await,
            stack.logs()
        );
    }
}

// -------------------------------------------------------------------------------------------------
// The tests.
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_each_service_and_restart_nats_under_load() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _across_processes = ProcessLock::take().await;
    let started = Instant::now();
    let db = TestDb::new().await;
    let mut stack = ProcStack::start(db.url.clone()).await;
    let (jgz, youth) = clients(&stack).await;
    let load = Load::start(&jgz, &youth, 4, started);
    load.wait_for_progress(5, "before any fault", &stack).await;

    // `KANSRIJK_FAULTS` narrows the faults for a reproduction (e.g. `nats` or `vve-reach,views`).
    let only = std::env::var("KANSRIJK_FAULTS").ok();
    let wanted = |f: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == f));
    for name in SERVICES.iter().filter(|n| wanted(n)) {
        stack.proc(name).kill9();
        // Let the load run into the dead service for a moment (pacing, not an assertion).
        tokio::time::sleep(Duration::from_millis(700)).await;
        stack.proc(name).spawn();
        stack.wait_ready().await;
        load.wait_for_progress(3, &format!("after kill -9 of {name}"), &stack)
            .await;
    }

    if wanted("nats") {
        stack.nats.kill();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        stack.nats.restart();
        stack.wait_ready().await;
        load.wait_for_progress(5, "after the nats-server restart", &stack)
            .await;
    }

    let attempts = load.finish().await;
    verify(&stack, &attempts).await;
    eprintln!(
        "kill -9 and nats restart: {} in {:?}",
        summary(&attempts),
        started.elapsed()
    );
    stack.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load() {
    let _one = ONE_AT_A_TIME.lock().await;
    let _across_processes = ProcessLock::take().await;
    let started = Instant::now();
    let cluster = PgCluster::init();
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&cluster.url("postgres"))
        .await
        .expect("private cluster reachable");
    sqlx::query("CREATE DATABASE kansrijk_fault")
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let mut stack = ProcStack::start(cluster.url("kansrijk_fault")).await;
    let (jgz, youth) = clients(&stack).await;
    let load = Load::start(&jgz, &youth, 4, started);
    load.wait_for_progress(5, "before the restart", &stack)
        .await;

    cluster.stop_immediately();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.start();
    stack.wait_ready().await;
    load.wait_for_progress(10, "after the PostgreSQL restart", &stack)
        .await;

    let attempts = load.finish().await;
    verify(&stack, &attempts).await;
    eprintln!(
        "postgres restart: {} in {:?}",
        summary(&attempts),
        started.elapsed()
    );
    stack.stop();
    drop(cluster);
}

#[test]
fn bsns_are_distinct_and_pass_the_11_proef() {
    let all: Vec<String> = (1..2000).map(bsn).collect();
    let mut dedup = all.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), all.len());
}

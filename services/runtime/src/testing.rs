//! Real infrastructure for tests: a fresh PostgreSQL database per test and a real `nats-server`
//! per test on a free port with its own store directory, killed on drop. Never a mock.
//!
//! `DATABASE_URL` names the server (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! `NATS_SERVER_BIN` the binary (default `nats-server` on the PATH, then `/usr/sbin/nats-server`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

/// A database that exists for one test and is dropped after it.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub url: String,
    admin_url: String,
}

fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, last)) if !last.contains('@') && !base.ends_with('/') => {
            let query = last
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{base}/{db}{query}")
        }
        _ => format!("{}/{db}", url.trim_end_matches('/')),
    }
}

impl TestDb {
    pub async fn new() -> Self {
        let admin_url = with_database(&server_url(), "postgres");
        let name = format!("kansrijk_test_{}", Uuid::new_v4().simple());
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin_url)
            .await
            .expect("PostgreSQL reachable for tests");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let url = with_database(&admin_url, &name);
        TestDb {
            name,
            url,
            admin_url,
        }
    }

    /// A pool in `schema`, migrated with the runtime's tables.
    pub async fn pool(&self, schema: &str) -> PgPool {
        let pool = crate::db::connect(&self.url, schema, 20)
            .await
            .expect("connect test database");
        crate::db::migrate(&pool, None)
            .await
            .expect("migrate test database");
        pool
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let admin = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin_url)
                    .await
                    .ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await
                    .ok()?;
                admin.close().await;
                Some(())
            })
        })
        .join();
    }
}

/// Finds the nats-server binary.
pub fn nats_server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("NATS_SERVER_BIN") {
        return p.into();
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':').chain([
        "/usr/sbin",
        "/usr/local/bin",
        "/usr/bin",
    ]) {
        let p = Path::new(dir).join("nats-server");
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("nats-server")
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A real nats-server with JetStream, on loopback, killed on drop.
#[derive(Debug)]
pub struct NatsServer {
    pub port: u16,
    store: tempfile::TempDir,
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl NatsServer {
    pub fn start() -> Self {
        Self::start_with(free_port(), Vec::new())
    }

    /// Starts with extra arguments (cluster routes, a server name...).
    pub fn start_with(port: u16, extra_args: Vec<String>) -> Self {
        let store = tempfile::tempdir().expect("temporary store directory");
        let mut s = NatsServer {
            port,
            store,
            extra_args,
            child: None,
        };
        s.spawn();
        s
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The JetStream store directory (for scans of what is at rest).
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    fn spawn(&mut self) {
        let child = Command::new(nats_server_bin())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server can be started (install Debian's nats-server)");
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
    }

    /// SIGKILL: no goodbye, no flush.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nats-server did not listen on {port} within {timeout:?}");
}

/// Polls `f` until it returns `Some`, or panics after `timeout` (a bound, not a timing assertion).
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "gave up waiting for {what} after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The privacy service's statistics query: answered by a running privacy service (with a
/// problem for an anonymous request, which is an answer all the same).
pub const PRIVACY_READINESS_SUBJECT: &str = "kansrijk.qry.privacy.statistiek";

/// Waits (at most 60 s) until something answers requests on `subject`: a service spawned as a
/// task subscribes a moment after it was started, and a request before that finds no responders.
pub async fn until_answered(client: &async_nats::Client, subject: &str) {
    eventually(
        Duration::from_secs(60),
        &format!("an answer on {subject}"),
        || async {
            let req = client.request(subject.to_owned(), "{}".into());
            match tokio::time::timeout(Duration::from_secs(2), req).await {
                Ok(Ok(_)) => Some(()),
                _ => None,
            }
        },
    )
    .await;
}

/// The partner registry's reference data: the `(gemeente, wijk)` pairs (see
/// [`crate::reference::districts`]).
pub fn reference_districts() -> Vec<(String, String)> {
    crate::reference::districts()
}

/// Answers `kansrijk.qry.registry.wijken` as the registry does, from [`reference_districts`], for
/// tests that run a domain service without the gateway process (which serves the registry). A
/// municipality the reference data does not know is a 404, as in the registry.
pub async fn serve_reference_districts(client: async_nats::Client) {
    use futures::StreamExt as _;
    let reference = reference_districts();
    assert!(reference.len() > 10, "{reference:?}");
    let mut sub = client
        .subscribe(kansrijk_proto::subject::query("registry.wijken"))
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            let q: serde_json::Value = serde_json::from_slice(&msg.payload).unwrap_or_default();
            let code = q["gemeenteCode"].as_str().unwrap_or("").to_owned();
            let list: Vec<serde_json::Value> = reference
                .iter()
                .filter(|(m, _)| *m == code)
                .map(|(m, n)| serde_json::json!({ "gemeente": m, "naam": n }))
                .collect();
            let reply = if list.is_empty() {
                kansrijk_proto::command::Reply::Problem(
                    kansrijk_proto::problem::Problem::not_found("Onbekende gemeente."),
                )
            } else {
                kansrijk_proto::command::Reply::Ok(list)
            };
            if let Some(to) = msg.reply {
                let body = serde_json::to_vec(&reply).unwrap_or_default();
                let _ = client.publish(to, body.into()).await;
            }
        }
    });
}

/// A projection for tests: records every event it applies in `<table>` (event id as primary
/// key, so applying one twice fails loudly) and refuses events whose data has `"poison"` while
/// `accept_poison` is false.
#[derive(Debug)]
pub struct RecordingProjection {
    pub name: &'static str,
    pub stream_type: &'static str,
    stream_types: &'static [&'static str],
    pub table: &'static str,
    pub accept_poison: std::sync::atomic::AtomicBool,
}

impl RecordingProjection {
    pub fn new(name: &'static str, stream_type: &'static str, table: &'static str) -> Self {
        // A test helper made a handful of times per test run: leaking the one-element slice is
        // what gives it the 'static lifetime the trait asks for.
        let stream_types: &'static [&'static str] = Box::leak(Box::new([stream_type]));
        RecordingProjection {
            name,
            stream_type,
            stream_types,
            table,
            accept_poison: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Creates the table it records in.
    pub async fn create_table(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS {} (event_id uuid PRIMARY KEY, stream_id uuid NOT NULL, version bigint NOT NULL)",
            self.table
        ))
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Everything recorded, ordered by event id.
    pub async fn recorded(&self, pool: &PgPool) -> Result<Vec<(Uuid, Uuid, i64)>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT event_id, stream_id, version FROM {} ORDER BY event_id",
            self.table
        ))
        .fetch_all(pool)
        .await
    }
}

impl crate::projection::Projection for RecordingProjection {
    fn name(&self) -> &'static str {
        self.name
    }

    fn handles(&self, e: &kansrijk_proto::envelope::CloudEvent) -> bool {
        e.streamtype == self.stream_type
    }

    fn stream_types(&self) -> &'static [&'static str] {
        self.stream_types
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        e: &'a kansrijk_proto::envelope::CloudEvent,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            if e.data.get("poison").is_some()
                && !self.accept_poison.load(std::sync::atomic::Ordering::SeqCst)
            {
                anyhow::bail!("cannot apply a poisoned event");
            }
            sqlx::query(&format!(
                "INSERT INTO {} (event_id, stream_id, version) VALUES ($1, $2, $3)",
                self.table
            ))
            .bind(e.id)
            .bind(e.subject)
            .bind(e.stream_version().unwrap_or(0))
            .execute(conn)
            .await?;
            Ok(())
        })
    }

    fn reset<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            sqlx::query(&format!("DELETE FROM {}", self.table))
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

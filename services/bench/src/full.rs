//! `kansrijk bench full`: the whole system as separate processes on loopback (a fresh database,
//! a nats-server of its own, every service started as `kansrijk serve <service>` from the given
//! binary), driven over HTTP with the development issuer's tokens.
//!
//! Phases, each bounded in time or size:
//! 1. the raw single-row INSERT-and-commit ceiling of the same PostgreSQL;
//! 2. a realistic VVE command mix through the gateway at fixed client counts (JGZ registers,
//!    indicates and refers; the childcare location accepts and places);
//! 3. acknowledgement-to-visible lag at half the highest measured load, after the views have
//!    caught up with the earlier runs: from each command's acknowledgement until the child's view
//!    (`vve-kinderen`) has applied the command's stream version, seen by one poller that reads the
//!    projection's per-stream versions every 5 ms for all pending commands at once (the gateway's
//!    own read-your-writes wait is switched off for the run, `KANSRIJK_VIEW_WAIT_MS=0`, so the
//!    acknowledgement is the service's acceptance; an earlier version asked
//!    `kansrijk.qry.views.wacht-op` per command, which polls per waiter and loaded the views'
//!    database enough to distort what it measured);
//! 4. the quarterly monitor of a municipality with `monitor_children` children, loaded directly
//!    into the VVE event store (events decided by the domain, personal data sealed with keys from
//!    the running privacy service, as the service writes them), timed through the gateway;
//! 5. rebuild: more children until the events stream holds `rebuild_events`, then the views
//!    service is stopped and every views projection is rebuilt (concurrently, as the views
//!    service runs them), timed;
//! 6. peak RSS (VmHWM) of every service process.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream;
use chrono::{Datelike, Months, NaiveDate, Utc};
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use kansrijk_proto::privacy::SubjectKind;
use kansrijk_proto::vve::ChildPersonal;
use kansrijk_runtime::keys::KeyClient;
use kansrijk_runtime::store::{EventStore, ExpectedVersion, Metadata};
use kansrijk_vve_reach::demo::{DemoChild, DemoConfig};
use kansrijk_vve_reach::domain::{decide, Catalogue, Child, Command, Ctx};
use serde_json::{json, Value};
use tokio::process::Child as Process;
use uuid::Uuid;

use crate::{histogram, progress, Measurement};

/// What to run.
#[derive(Debug, Clone)]
pub struct FullBenchConfig {
    /// The `kansrijk` binary whose `serve <service>` runs each service.
    pub exe: PathBuf,
    /// Any URL of the PostgreSQL server; its database name is replaced by `database`.
    pub database_url: String,
    pub database: String,
    pub keep_database: bool,
    /// HTTP clients per command run.
    pub concurrency: Vec<usize>,
    /// Length of each command run.
    pub duration: Duration,
    /// Length of the lag run.
    pub lag_duration: Duration,
    /// Events in the stream for the rebuild run; 0 skips it.
    pub rebuild_events: u64,
    /// Children for the monitor run; 0 skips it.
    pub monitor_children: u64,
    pub monitor_calls: u64,
    /// Raw INSERT-and-commit operations per concurrency level.
    pub raw_operations: u64,
    /// Where the services log (default: a temporary directory).
    pub logs: Option<PathBuf>,
    pub progress: bool,
}

/// The services in start order (keys first, the front door last).
pub const SERVICES: &[&str] = &[
    "privacy",
    "vve-reach",
    "handover",
    "casework",
    "views",
    "gateway",
];

/// Results of one run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FullBenchReport {
    pub machine: String,
    pub load_before: String,
    pub load_after: String,
    pub raw: Vec<Measurement>,
    pub commands: Vec<Measurement>,
    pub command_errors: Vec<(usize, u64, String)>,
    pub lag: Option<LagResult>,
    pub monitor: Option<MonitorResult>,
    pub rebuild: Option<RebuildResult>,
    /// (service, VmHWM kB, VmRSS kB at the end)
    pub rss: Vec<(String, u64, u64)>,
    /// (clients, [(service, CPU ms of its process per command of the mix)])
    pub command_cpu: Vec<(usize, Vec<(String, f64)>)>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LagResult {
    pub target_per_second: f64,
    pub achieved: Measurement,
    pub lag: Measurement,
    /// Commands whose view had not applied them within 10 s.
    pub not_visible_in_time: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MonitorResult {
    pub children: u64,
    pub events: u64,
    pub load_seconds: f64,
    pub first_call_ms: f64,
    pub calls: Measurement,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RebuildResult {
    pub stream_events: u64,
    pub seconds: f64,
    pub events_per_second: f64,
    /// (projection, events it applied, seconds)
    pub projections: Vec<(String, u64, f64)>,
}

/// The URL with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

fn free_port() -> u16 {
    kansrijk_runtime::testing::free_port()
}

struct Stack {
    exe: PathBuf,
    env: Vec<(String, String)>,
    logs: PathBuf,
    procs: BTreeMap<&'static str, Process>,
    ops: BTreeMap<&'static str, String>,
    gateway: std::net::SocketAddr,
}

impl Stack {
    fn spawn(&mut self, name: &'static str) -> anyhow::Result<()> {
        let log_path = self.logs.join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.arg("serve")
            .arg(name)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::from(log.try_clone()?))
            .stderr(std::process::Stdio::from(log))
            .kill_on_drop(true);
        if name == "gateway" {
            cmd.env("KANSRIJK_HTTP_ADDR", self.gateway.to_string());
        } else {
            cmd.env("KANSRIJK_OPS_ADDR", &self.ops[name]);
        }
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        self.procs.insert(name, child);
        Ok(())
    }

    async fn wait_ready(
        &mut self,
        names: &[&'static str],
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + timeout;
        for name in names {
            let url = format!("http://{}/readyz", self.ops[name]);
            loop {
                if let Some(p) = self.procs.get_mut(name) {
                    if let Ok(Some(status)) = p.try_wait() {
                        anyhow::bail!(
                            "{name} exited ({status}) while starting; see {}",
                            self.logs.join(format!("{name}.log")).display()
                        );
                    }
                }
                if matches!(http.get(&url).send().await, Ok(r) if r.status().is_success()) {
                    break;
                }
                if Instant::now() > deadline {
                    anyhow::bail!(
                        "{name} not ready after {timeout:?}; see {}",
                        self.logs.join(format!("{name}.log")).display()
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    /// SIGTERM, a bounded wait for the drain, then SIGKILL.
    async fn stop(&mut self, name: &str) {
        if let Some(mut p) = self.procs.remove(name) {
            if let Some(pid) = p.id() {
                let _ = tokio::process::Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
            }
            if tokio::time::timeout(Duration::from_secs(20), p.wait())
                .await
                .is_err()
            {
                let _ = p.kill().await;
            }
        }
    }

    async fn stop_all(&mut self) {
        for name in SERVICES.iter().rev() {
            self.stop(name).await;
        }
    }

    /// (VmHWM, VmRSS) in kB of a running service.
    fn rss(&self, name: &str) -> Option<(u64, u64)> {
        let pid = self.procs.get(name)?.id()?;
        proc_rss(pid)
    }

    /// CPU time in ms (user and system, all threads) of every running service.
    fn cpu_ms(&self) -> BTreeMap<String, u64> {
        SERVICES
            .iter()
            .filter_map(|name| {
                let pid = self.procs.get(*name)?.id()?;
                Some(((*name).to_owned(), proc_cpu_ms(pid)?))
            })
            .collect()
    }
}

/// CPU time in ms (utime + stime of all threads) from /proc/<pid>/stat; Linux counts it in
/// USER_HZ ticks, 100 per second on every architecture it runs on.
pub fn proc_cpu_ms(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After "pid (comm) " the fields start at `state` (field 3); utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10)
}

/// (VmHWM, VmRSS) in kB from /proc/<pid>/status.
pub fn proc_rss(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// Drops the database `database` on the server of `server_url` and (with `create`) creates it.
pub async fn recreate_database(
    server_url: &str,
    database: &str,
    create: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        database
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "the benchmark database name may hold only a-z, 0-9 and _"
    );
    let admin = kansrijk_runtime::db::connect(&with_database(server_url, "postgres"), "public", 1)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&admin)
        .await?;
    if create {
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&admin)
            .await?;
    }
    admin.close().await;
    Ok(())
}

/// Runs the whole benchmark.
pub async fn run(config: &FullBenchConfig) -> anyhow::Result<FullBenchReport> {
    let db_url = with_database(&config.database_url, &config.database);
    let mut report = FullBenchReport {
        machine: crate::machine_markdown(&db_url).await,
        load_before: crate::load_average(),
        ..Default::default()
    };
    recreate_database(&config.database_url, &config.database, true).await?;
    // The machine section asked the database before it existed: ask again.
    report.machine = crate::machine_markdown(&db_url).await;

    let nats = kansrijk_runtime::testing::NatsServer::start();
    let logs = match &config.logs {
        Some(p) => p.clone(),
        None => std::env::temp_dir().join(format!("kansrijk-bench-{}", Uuid::new_v4())),
    };
    std::fs::create_dir_all(&logs)?;
    eprintln!(
        "kansrijk bench full: database {}, NATS {}, logs {}",
        config.database,
        nats.url(),
        logs.display()
    );

    let status = tokio::process::Command::new(&config.exe)
        .arg("migrate")
        .env("DATABASE_URL", &db_url)
        .env("NATS_URL", nats.url())
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .context("running kansrijk migrate")?;
    anyhow::ensure!(status.success(), "kansrijk migrate failed");

    let master = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(1);
    let pseudonym = kansrijk_runtime::crypto::MasterKeyRing::generate_spec(0);
    let pseudonym = pseudonym
        .split_once(':')
        .map(|(_, k)| k.to_owned())
        .unwrap_or(pseudonym);
    let gateway: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
    let mut ops = BTreeMap::new();
    for name in SERVICES {
        if *name == "gateway" {
            ops.insert(*name, gateway.to_string());
        } else {
            ops.insert(*name, format!("127.0.0.1:{}", free_port()));
        }
    }
    let mut stack = Stack {
        exe: config.exe.clone(),
        env: vec![
            ("DATABASE_URL".into(), db_url.clone()),
            ("NATS_URL".into(), nats.url()),
            ("KANSRIJK_DEV_ISSUER".into(), "1".into()),
            ("KANSRIJK_MASTER_KEYS".into(), master),
            ("KANSRIJK_PSEUDONYM_KEY".into(), pseudonym),
            ("KANSRIJK_VIEW_WAIT_MS".into(), "0".into()),
        ],
        logs: logs.clone(),
        procs: BTreeMap::new(),
        ops,
        gateway,
    };
    let result = run_phases(config, &db_url, &nats.url(), &mut stack, &mut report).await;
    stack.stop_all().await;
    drop(nats);
    if !config.keep_database {
        if let Err(e) = recreate_database(&config.database_url, &config.database, false).await {
            report
                .notes
                .push(format!("could not drop the benchmark database: {e:#}"));
        }
    }
    report.load_after = crate::load_average();
    result.map(|()| report)
}

async fn run_phases(
    config: &FullBenchConfig,
    db_url: &str,
    nats_url: &str,
    stack: &mut Stack,
    report: &mut FullBenchReport,
) -> anyhow::Result<()> {
    for name in SERVICES {
        stack.spawn(name)?;
    }
    stack.wait_ready(SERVICES, Duration::from_secs(120)).await?;
    kansrijk_gateway::seed_demo_organisations(db_url)
        .await
        .context("seeding the demo organisations")?;

    let issuer = format!(
        "{}{}",
        kansrijk_gateway::config::default_public_url(stack.gateway),
        kansrijk_gateway::config::DEV_ISSUER_PATH
    );
    let tokens = Arc::new(Tokens {
        jgz: kansrijk_gateway::dev_token("jgz-verpleegkundige", &issuer)?,
        childcare: kansrijk_gateway::dev_token("pedagogisch-medewerker", &issuer)?,
        municipality: kansrijk_gateway::dev_token("beleidsadviseur", &issuer)?,
    });
    let max_conc = config.concurrency.iter().copied().max().unwrap_or(1);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(max_conc * 2)
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = format!("http://{}", stack.gateway);

    // 1. The ceiling.
    let raw_pool = kansrijk_runtime::db::connect(db_url, "public", max_conc as u32).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_raw_insert (id bigserial PRIMARY KEY, data jsonb NOT NULL)")
        .execute(&raw_pool)
        .await?;
    for &c in &config.concurrency {
        let pool = raw_pool.clone();
        report.raw.push(
            crate::store::timed_run(
                crate::store::RAW,
                c,
                config.raw_operations,
                config.progress,
                move |i, _| {
                    let pool = pool.clone();
                    async move {
                        sqlx::query("INSERT INTO bench_raw_insert (data) VALUES ($1)")
                            .bind(crate::store::payload(i))
                            .execute(&pool)
                            .await?;
                        Ok(())
                    }
                },
            )
            .await?,
        );
    }
    raw_pool.close().await;

    // 2. The command mix.
    let today = Utc::now().date_naive();
    for &c in &config.concurrency {
        let cpu_before = stack.cpu_ms();
        let (m, errors) = command_run(
            &http,
            &base,
            &tokens,
            today,
            c,
            config.duration,
            None,
            None,
            config.progress,
        )
        .await?;
        if !errors.is_empty() {
            for (code, n) in errors {
                report.command_errors.push((c, n, code));
            }
        }
        let cpu_after = stack.cpu_ms();
        let per_command = cpu_after
            .iter()
            .filter_map(|(name, after)| {
                let spent = after.checked_sub(*cpu_before.get(name)?)?;
                Some((name.clone(), spent as f64 / m.operations.max(1) as f64))
            })
            .collect();
        report.command_cpu.push((c, per_command));
        report.commands.push(m);
    }

    // 3. Lag at half the highest load.
    let max_rate = report
        .commands
        .iter()
        .map(|m| m.per_second)
        .fold(0.0, f64::max);
    if max_rate > 0.0 && !config.lag_duration.is_zero() {
        let client = kansrijk_runtime::nats::connect(nats_url, "kansrijk-bench").await?;
        // The views first catch up with the load runs, so the lag is the lag at this load only.
        wait_for_views(&jetstream::new(client.clone()), config.progress).await?;
        let target = max_rate / 2.0;
        let views_pool = kansrijk_runtime::db::connect(db_url, "views", 2).await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let poller = tokio::spawn(lag_poller(views_pool.clone(), rx));
        let probe = LagProbe { tx };
        let clients = max_conc.clamp(1, 16);
        let (achieved, _) = command_run(
            &http,
            &base,
            &tokens,
            today,
            clients,
            config.lag_duration,
            Some(target),
            Some(probe),
            config.progress,
        )
        .await?;
        let (h, late) = poller.await??;
        views_pool.close().await;
        report.lag = Some(LagResult {
            target_per_second: target,
            lag: Measurement::from_histogram("ack to visible", clients, &h, Duration::from_secs(1)),
            achieved,
            not_visible_in_time: late,
        });
    }

    // 4. and 5. Direct loads, the monitor and the rebuild.
    if config.monitor_children > 0 || config.rebuild_events > 0 {
        let client = kansrijk_runtime::nats::connect(nats_url, "kansrijk-bench-loader").await?;
        let js = jetstream::new(client.clone());
        let pool = kansrijk_runtime::db::connect(db_url, "vve", 24).await?;
        let loader = Loader {
            store: EventStore::new(pool),
            keys: Arc::new(KeyClient::new(
                client.clone(),
                kansrijk_vve_reach::handlers::service_actor(kansrijk_runtime::config::DEFAULT_OIN),
                Duration::from_secs(600),
            )),
            today,
        };
        let mut seed = 10_000u64;
        let mut children = 0u64;
        let mut events = 0u64;
        if config.monitor_children > 0 {
            let started = Instant::now();
            let pb = config
                .progress
                .then(|| progress(config.monitor_children, "children into the store"));
            while children < config.monitor_children {
                let (c, e) = loader
                    .load(
                        seed,
                        config.monitor_children - children,
                        u64::MAX,
                        pb.as_ref(),
                    )
                    .await?;
                children += c;
                events += e;
                seed += 1;
            }
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            wait_for_views(&js, config.progress).await?;
            let load_seconds = started.elapsed().as_secs_f64();
            let (year, quarter) = (today.year(), today.month0() / 3 + 1);
            let url = format!("{base}/v1/vve-monitor?jaar={year}&kwartaal={quarter}");
            // The first call after the load computes the monitor from the read model. At full
            // size that takes longer than the gateway's bound on a query (it answers 504 and the
            // views service finishes the work all the same), so it is timed straight at the
            // views service over NATS, as the municipality's policy advisor: the actor the
            // gateway derives from that persona's token.
            let advisor = kansrijk_gateway::auth::actor_from_claims(
                kansrijk_gateway::dev_oidc::persona_claims(
                    kansrijk_gateway::dev_oidc::persona("beleidsadviseur")
                        .context("the beleidsadviseur persona")?,
                    &issuer,
                    kansrijk_gateway::config::DEFAULT_AUDIENCE,
                    Duration::from_secs(600),
                ),
            )?;
            let t = Instant::now();
            let first: Result<Value, kansrijk_proto::problem::Problem> =
                kansrijk_runtime::nats::request(
                    &client,
                    kansrijk_views::vve::queries::subject(
                        kansrijk_views::vve::queries::names::MONITOR,
                    ),
                    kansrijk_runtime::nats::request_headers(&advisor, None, None),
                    &serde_json::json!({ "jaar": year, "kwartaal": quarter }),
                    Duration::from_secs(600),
                )
                .await;
            if let Err(p) = first {
                anyhow::bail!("the first monitor call failed: {} {:?}", p.status, p.code);
            }
            let first_call_ms = t.elapsed().as_secs_f64() * 1000.0;
            let mut h = histogram();
            let pb = config
                .progress
                .then(|| progress(config.monitor_calls, "monitor queries"));
            let started = Instant::now();
            for _ in 0..config.monitor_calls {
                let t = Instant::now();
                let (status, _) = get(&http, &url, &tokens.municipality).await?;
                anyhow::ensure!(status < 300, "the monitor answered {status}");
                h.record(t.elapsed().as_micros().max(1) as u64)?;
                if let Some(pb) = &pb {
                    pb.inc(1);
                }
            }
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            report.monitor = Some(MonitorResult {
                children,
                events,
                load_seconds,
                first_call_ms,
                calls: Measurement::from_histogram("quarterly monitor", 1, &h, started.elapsed()),
            });
        }
        if config.rebuild_events > 0 {
            let pb = config
                .progress
                .then(|| progress(config.rebuild_events, "events into the store"));
            loop {
                let in_stream = stream_messages(&js).await?;
                if let Some(pb) = &pb {
                    pb.set_position(in_stream);
                }
                if in_stream + events_pending(&loader.store, &js).await? >= config.rebuild_events {
                    break;
                }
                loader
                    .load(seed, 650, config.rebuild_events, pb.as_ref())
                    .await?;
                seed += 1;
            }
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            // Everything published, and the live views done with it, before they stop.
            wait_for_views(&js, config.progress).await?;
            record_rss(stack, report, "views");
            stack.stop("views").await;
            let views_pool = kansrijk_runtime::db::connect(db_url, "views", 16).await?;
            let stream_events = stream_messages(&js).await?;
            let spinner = config.progress.then(|| {
                let s = indicatif::ProgressBar::new_spinner();
                s.set_message(format!("rebuilding every view from {stream_events} events"));
                s.enable_steady_tick(Duration::from_millis(200));
                s
            });
            let started = Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for p in kansrijk_views::service::all_projections(None) {
                let runner = kansrijk_runtime::projection::ProjectionRunner::new(
                    views_pool.clone(),
                    js.clone(),
                    p,
                    kansrijk_runtime::projection::RunnerConfig::default(),
                );
                set.spawn(async move {
                    let name = runner.name().to_owned();
                    runner
                        .rebuild()
                        .await
                        .map(|(n, d)| (name, n, d.as_secs_f64()))
                });
            }
            let mut projections = Vec::new();
            while let Some(r) = set.join_next().await {
                projections.push(r??);
            }
            let seconds = started.elapsed().as_secs_f64();
            if let Some(s) = spinner {
                s.finish_and_clear();
            }
            projections.sort_by(|a, b| a.0.cmp(&b.0));
            report.rebuild = Some(RebuildResult {
                stream_events,
                seconds,
                events_per_second: stream_events as f64 / seconds.max(1e-9),
                projections,
            });
            views_pool.close().await;
        }
    }
    for name in SERVICES {
        record_rss(stack, report, name);
    }
    Ok(())
}

fn record_rss(stack: &Stack, report: &mut FullBenchReport, name: &str) {
    if report.rss.iter().any(|(n, _, _)| n == name) {
        return;
    }
    if let Some((hwm, rss)) = stack.rss(name) {
        report.rss.push((name.to_owned(), hwm, rss));
    }
}

async fn stream_messages(js: &jetstream::Context) -> anyhow::Result<u64> {
    Ok(js
        .get_stream(kansrijk_proto::subject::EVENTS_STREAM)
        .await?
        .info()
        .await?
        .state
        .messages)
}

/// Events stored in the VVE store that the relay has not yet published (an estimate from the
/// counts; the other services are idle during the loads).
async fn events_pending(store: &EventStore, js: &jetstream::Context) -> anyhow::Result<u64> {
    let stored = store.count().await? as u64;
    let published = stream_messages(js).await?;
    Ok(stored.saturating_sub(published))
}

/// Waits until every durable consumer on the events stream has nothing pending (the relays have
/// published and the live projections have applied everything).
async fn wait_for_views(js: &jetstream::Context, show: bool) -> anyhow::Result<()> {
    let spinner = show.then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.enable_steady_tick(Duration::from_millis(200));
        s
    });
    let mut stable = 0;
    let mut last = u64::MAX;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let mut stream = js
            .get_stream(kansrijk_proto::subject::EVENTS_STREAM)
            .await?;
        let messages = stream.info().await?.state.messages;
        let mut pending = 0u64;
        let mut names = stream.consumer_names();
        let mut list = Vec::new();
        while let Some(n) = names.next().await {
            list.push(n?);
        }
        for n in &list {
            if let Ok(info) = stream.consumer_info(n).await {
                pending += info.num_pending + info.num_ack_pending as u64;
            }
        }
        if let Some(s) = &spinner {
            s.set_message(format!(
                "views catching up: {pending} pending over {} consumers, {messages} events in the stream",
                list.len()
            ));
        }
        if pending == 0 && messages == last {
            stable += 1;
            if stable >= 3 {
                break;
            }
        } else {
            stable = 0;
        }
        last = messages;
        anyhow::ensure!(
            Instant::now() < deadline,
            "the views did not catch up in 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    Ok(())
}

struct Tokens {
    jgz: String,
    childcare: String,
    municipality: String,
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let r = http
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", Uuid::new_v4().to_string())
        .json(body)
        .send()
        .await?;
    let status = r.status().as_u16();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, v))
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<(u16, Value)> {
    let r = http.get(url).bearer_auth(token).send().await?;
    let status = r.status().as_u16();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, v))
}

/// A fictional BSN (starts with 9, passes the 11-proef).
fn fictional_bsn() -> String {
    loop {
        let bytes = Uuid::new_v4().into_bytes();
        let digits: Vec<u32> = std::iter::once(9)
            .chain(bytes.iter().take(7).map(|b| u32::from(*b) % 10))
            .collect();
        let partial: u32 = digits
            .iter()
            .zip([9u32, 8, 7, 6, 5, 4, 3, 2])
            .map(|(d, w)| d * w)
            .sum();
        let last = partial % 11;
        if last <= 9 {
            return digits
                .iter()
                .chain(std::iter::once(&last))
                .map(|d| d.to_string())
                .collect();
        }
    }
}

/// Hands each acknowledged command to the lag poller.
#[derive(Clone)]
struct LagProbe {
    tx: tokio::sync::mpsc::UnboundedSender<(Uuid, i64, Instant)>,
}

impl LagProbe {
    async fn spawn(&self, accepted: &Value, acked: Instant) {
        let (Some(stream_id), Some(version)) = (
            accepted
                .get("streamId")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Uuid>().ok()),
            accepted.get("version").and_then(Value::as_i64),
        ) else {
            return;
        };
        let _ = self.tx.send((stream_id, version, acked));
    }
}

/// One poller for all pending commands: every 5 ms one query of the versions the child's view
/// (`vve-kinderen`) has applied for the pending streams; a command is visible when its version
/// is. One query per tick, whatever the number pending, so the measurement does not load the
/// views' database the way a poll per command would. Gives up on a command after 10 s.
async fn lag_poller(
    pool: sqlx::PgPool,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(Uuid, i64, Instant)>,
) -> anyhow::Result<(Histogram<u64>, u64)> {
    let mut h = histogram();
    let mut late = 0u64;
    let mut pending: Vec<(Uuid, i64, Instant)> = Vec::new();
    let mut open = true;
    loop {
        while let Ok(p) = rx.try_recv() {
            pending.push(p);
        }
        if open && rx.is_closed() && rx.is_empty() {
            open = false;
        }
        if !open && pending.is_empty() {
            break;
        }
        if !pending.is_empty() {
            let ids: Vec<Uuid> = pending.iter().map(|p| p.0).collect();
            let rows: Vec<(Uuid, i64)> = sqlx::query_as(
                "SELECT stream_id, version FROM projection_streams
                 WHERE projection = 'vve-kinderen' AND stream_id = ANY($1)",
            )
            .bind(&ids)
            .fetch_all(&pool)
            .await?;
            let seen: std::collections::HashMap<Uuid, i64> = rows.into_iter().collect();
            let now = Instant::now();
            pending.retain(|(id, version, acked)| {
                if seen.get(id).is_some_and(|v| v >= version) {
                    let _ = h.record((now - *acked).as_micros().max(1) as u64);
                    false
                } else if now - *acked > Duration::from_secs(10) {
                    late += 1;
                    let _ = h.record((now - *acked).as_micros().max(1) as u64);
                    false
                } else {
                    true
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((h, late))
}

/// One client's loop: children through JGZ and childcare, until `until`.
#[allow(clippy::too_many_arguments)]
async fn client_loop(
    http: reqwest::Client,
    base: String,
    tokens: Arc<Tokens>,
    today: NaiveDate,
    until: Instant,
    period: Option<Duration>,
    probe: Option<LagProbe>,
    done: Arc<AtomicU64>,
) -> anyhow::Result<(Histogram<u64>, BTreeMap<String, u64>)> {
    let mut h = histogram();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let birth = today.checked_sub_months(Months::new(32)).unwrap_or(today);
    let d = |x: NaiveDate| x.format("%Y-%m-%d").to_string();
    let mut next = Instant::now();
    'children: while Instant::now() < until {
        let referral = Uuid::new_v4();
        let mut child: Option<String> = None;
        for step in 0..5 {
            if Instant::now() >= until {
                break 'children;
            }
            if let Some(p) = period {
                let now = Instant::now();
                if next > now {
                    tokio::time::sleep(next - now).await;
                }
                next = next.max(now - p) + p;
            }
            let kid = child.clone().unwrap_or_default();
            let (url, token, body) = match step {
                0 => (
                    format!("{base}/v1/kinderen"),
                    &tokens.jgz,
                    json!({
                        "bsn": fictional_bsn(), "voornaam": "Bench", "achternaam": "Kind",
                        "geboortedatum": d(birth), "postcode": "2313 AB", "wijk": "Leiden-Noord",
                        "gemeente": "0546",
                    }),
                ),
                1 => (
                    format!("{base}/v1/kinderen/{kid}/indicaties"),
                    &tokens.jgz,
                    json!({ "afgegevenOp": d(today), "criteria": ["opleiding-ouders"] }),
                ),
                2 => (
                    format!("{base}/v1/kinderen/{kid}/verwijzingen"),
                    &tokens.jgz,
                    json!({ "doorverwezenOp": d(today), "locaties": ["100000001"], "verwijzingIds": [referral] }),
                ),
                3 => (
                    format!("{base}/v1/kinderen/{kid}/verwijzingen/{referral}/acceptaties"),
                    &tokens.childcare,
                    json!({ "datum": d(today) }),
                ),
                _ => (
                    format!("{base}/v1/kinderen/{kid}/plaatsingen"),
                    &tokens.childcare,
                    json!({ "startdatum": d(today), "urenPerWeek": 16, "verwijzingId": referral, "plaatsingId": Uuid::new_v4() }),
                ),
            };
            let t = Instant::now();
            let (status, reply) = post(&http, &url, token, &body).await?;
            let acked = Instant::now();
            if status >= 300 {
                let code = reply
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                *errors
                    .entry(format!("step {step}: {status} {code}"))
                    .or_default() += 1;
                continue 'children;
            }
            h.record((acked - t).as_micros().max(1) as u64)?;
            done.fetch_add(1, Ordering::Relaxed);
            if step == 0 {
                child = reply
                    .get("streamId")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if child.is_none() {
                    *errors.entry("no streamId in the reply".into()).or_default() += 1;
                    continue 'children;
                }
            }
            if let Some(p) = &probe {
                p.spawn(&reply, acked).await;
            }
        }
    }
    Ok((h, errors))
}

/// Runs `clients` client loops for `duration`; with `rate`, paced to that many commands/s in total.
#[allow(clippy::too_many_arguments)]
async fn command_run(
    http: &reqwest::Client,
    base: &str,
    tokens: &Arc<Tokens>,
    today: NaiveDate,
    clients: usize,
    duration: Duration,
    rate: Option<f64>,
    probe: Option<LagProbe>,
    show: bool,
) -> anyhow::Result<(Measurement, BTreeMap<String, u64>)> {
    let label = if probe.is_some() {
        format!("lag run, {:.0}/s", rate.unwrap_or(0.0))
    } else {
        format!("HTTP commands x{clients}")
    };
    let done = Arc::new(AtomicU64::new(0));
    let period = rate.map(|r| Duration::from_secs_f64(clients as f64 / r.max(0.001)));
    let started = Instant::now();
    let until = started + duration;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..clients {
        set.spawn(client_loop(
            http.clone(),
            base.to_owned(),
            tokens.clone(),
            today,
            until,
            period,
            probe.clone(),
            done.clone(),
        ));
    }
    let pb = show.then(|| {
        let pb = progress(duration.as_secs().max(1), &label);
        let pb2 = pb.clone();
        let done = done.clone();
        tokio::spawn(async move {
            while !pb2.is_finished() {
                pb2.set_position(started.elapsed().as_secs());
                pb2.set_message(format!("{label}: {} ok", done.load(Ordering::Relaxed)));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        pb
    });
    let mut h = histogram();
    let mut errors = BTreeMap::new();
    while let Some(r) = set.join_next().await {
        let (local, errs) = r??;
        h.add(&local)?;
        for (k, v) in errs {
            *errors.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed();
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    Ok((
        Measurement::from_histogram("HTTP command mix", clients, &h, elapsed),
        errors,
    ))
}

/// Loads demo children straight into the VVE event store.
struct Loader {
    store: EventStore,
    keys: Arc<KeyClient>,
    today: NaiveDate,
}

impl Loader {
    /// Loads up to `max_children` children of one generated data set; stops early once the
    /// store holds `max_events`. Returns (children, events).
    async fn load(
        &self,
        seed: u64,
        max_children: u64,
        max_events: u64,
        pb: Option<&indicatif::ProgressBar>,
    ) -> anyhow::Result<(u64, u64)> {
        let mut cfg = DemoConfig::leiden(seed, self.today);
        // Bigger cohorts per data set: fewer generator runs.
        cfg.births_per_year = 5_000;
        let data = kansrijk_vve_reach::demo::generate(&cfg);
        let children: Vec<DemoChild> = data
            .children
            .into_iter()
            .take(max_children.min(usize::MAX as u64) as usize)
            .collect();
        let catalogue = Arc::new(Catalogue::builtin());
        let jgz = cfg.jgz_organisation.clone();
        let events_total = Arc::new(AtomicU64::new(0));
        let start_count = if max_events == u64::MAX {
            0
        } else {
            self.store.count().await? as u64
        };
        let results = futures::stream::iter(children.into_iter().map(|c| {
            let catalogue = catalogue.clone();
            let jgz = jgz.clone();
            let events_total = events_total.clone();
            async move {
                if start_count + events_total.load(Ordering::Relaxed) >= max_events {
                    return anyhow::Ok(0u64);
                }
                let n = self.load_child(&c, &catalogue, &jgz).await?;
                events_total.fetch_add(n, Ordering::Relaxed);
                if let Some(pb) = pb {
                    if max_events == u64::MAX {
                        pb.inc(1);
                    } else {
                        pb.inc(n);
                    }
                }
                Ok(1)
            }
        }))
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
        let mut loaded = 0;
        for r in results {
            loaded += r?;
        }
        Ok((loaded, events_total.load(Ordering::Relaxed)))
    }

    /// One child: a key from the privacy service, the domain's decisions, one append.
    async fn load_child(
        &self,
        c: &DemoChild,
        catalogue: &Catalogue,
        jgz: &str,
    ) -> anyhow::Result<u64> {
        let child_id = Uuid::new_v4();
        let key = self
            .keys
            .create(child_id, SubjectKind::Kind, "0546")
            .await
            .map_err(|e| anyhow::anyhow!("creating a subject key: {e:?}"))?;
        let mut state = Child::default();
        let mut events = Vec::new();
        let mut commands = vec![
            (
                jgz.to_owned(),
                Command::Register {
                    municipality: "0546".into(),
                    district: c.district.clone(),
                    registered_on: c.registered_on,
                    personal: key.seal(&ChildPersonal {
                        bsn: c.bsn.clone(),
                        given_name: c.given_name.clone(),
                        family_name: c.family_name.clone(),
                        postcode: c.postcode.clone(),
                        bsn_pseudonym: String::new(),
                    })?,
                    birth_date: key.seal(&c.birth_date)?,
                },
            ),
            (
                jgz.to_owned(),
                Command::IssueIndication {
                    indication_id: Uuid::new_v4(),
                    issued_on: c.indicated_on,
                    sealed_criteria: key.seal(&c.criteria)?,
                    criteria: c.criteria.clone(),
                },
            ),
        ];
        commands.extend(c.steps.iter().cloned().map(|s| s.into_command(jgz)));
        for (org, cmd) in commands {
            let ctx = Ctx {
                today: self.today,
                birth_date: Some(c.birth_date),
                catalogue,
                organisation: &org,
                municipality: "0546",
            };
            match decide(&state, cmd, &ctx) {
                Ok(new) => {
                    for e in &new {
                        state.apply(e);
                    }
                    events.extend(new);
                }
                Err(_) => break,
            }
        }
        if events.is_empty() {
            return Ok(0);
        }
        let metadata = Metadata {
            command_id: None,
            actor: Some("bench".into()),
            organisation: Some(jgz.to_owned()),
            traceparent: None,
        };
        kansrijk_runtime::service::append_decided(
            &self.store,
            metadata,
            child_id,
            "0546",
            ExpectedVersion::NoStream,
            &events,
            None,
        )
        .await
        .map_err(|p| anyhow::anyhow!("append refused: {} {:?}", p.status, p.code))?;
        Ok(events.len() as u64)
    }
}

impl FullBenchReport {
    /// The report as Markdown; every throughput also as a ratio to the raw ceiling.
    pub fn to_markdown(&self) -> String {
        let ceiling = |c: usize| {
            self.raw
                .iter()
                .find(|r| r.concurrency == c)
                .map(|r| r.per_second)
        };
        let max_raw = self.raw.iter().map(|r| r.per_second).fold(0.0, f64::max);
        let ratio = |v: f64, of: Option<f64>| match of {
            Some(r) if r > 0.0 => format!("{:.0}%", 100.0 * v / r),
            _ => "n/a".into(),
        };
        let mut o = String::from("## kansrijk bench full\n\n");
        o.push_str(&self.machine);
        o.push_str(&format!(
            "\nLoad average (1/5/15 min) before: {}; after: {}.\n\n",
            self.load_before, self.load_after
        ));
        o.push_str("### Raw single-row INSERT-and-commit ceiling\n\n| concurrency | inserts/s | p50 ms | p99 ms |\n|---:|---:|---:|---:|\n");
        for r in &self.raw {
            o.push_str(&format!(
                "| {} | {:.0} | {:.2} | {:.2} |\n",
                r.concurrency, r.per_second, r.p50_ms, r.p99_ms
            ));
        }
        o.push_str("\n### HTTP command mix through the gateway\n\nJGZ registers, indicates and refers; the childcare location accepts and starts a placement (5 commands per child), each with a fresh `Idempotency-Key`.\n\n| clients | commands | commands/s | ratio to raw (same concurrency) | p50 ms | p95 ms | p99 ms |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        for m in &self.commands {
            o.push_str(&format!(
                "| {} | {} | {:.0} | {} | {:.1} | {:.1} | {:.1} |\n",
                m.concurrency,
                m.operations,
                m.per_second,
                ratio(m.per_second, ceiling(m.concurrency)),
                m.p50_ms,
                m.p95_ms,
                m.p99_ms
            ));
        }
        if let Some((_, first)) = self.command_cpu.first() {
            o.push_str("\nCPU time per command of each service process (user and system, ms):\n\n| clients |");
            for (name, _) in first {
                o.push_str(&format!(" {name} |"));
            }
            o.push_str("\n|---:|");
            o.push_str(&"---:|".repeat(first.len()));
            o.push('\n');
            for (c, per) in &self.command_cpu {
                o.push_str(&format!("| {c} |"));
                for (_, ms) in per {
                    o.push_str(&format!(" {ms:.2} |"));
                }
                o.push('\n');
            }
        }
        if !self.command_errors.is_empty() {
            o.push_str("\nRefused or failed commands (clients, count, step status code):\n\n");
            for (c, n, code) in &self.command_errors {
                o.push_str(&format!("- x{c}: {n} × {code}\n"));
            }
        }
        if let Some(l) = &self.lag {
            o.push_str(&format!(
                "\n### Acknowledgement to visible (the child's view `vve-kinderen`)\n\nAt half the highest measured load: target {:.0} commands/s, achieved {:.0} commands/s ({} commands, {} clients; command p50 {:.1} ms, p99 {:.1} ms).\n\n| lag p50 ms | lag p95 ms | lag p99 ms | not visible within 10 s |\n|---:|---:|---:|---:|\n| {:.1} | {:.1} | {:.1} | {} |\n",
                l.target_per_second,
                l.achieved.per_second,
                l.achieved.operations,
                l.achieved.concurrency,
                l.achieved.p50_ms,
                l.achieved.p99_ms,
                l.lag.p50_ms,
                l.lag.p95_ms,
                l.lag.p99_ms,
                l.not_visible_in_time
            ));
        }
        if let Some(m) = &self.monitor {
            o.push_str(&format!(
                "\n### Quarterly monitor\n\n{} children ({} events) loaded into the VVE store in {:.0} s (keys from the privacy service, events decided by the domain), published and projected. First call after the load (the monitor computed from the read model, timed at the views service over NATS): {:.0} ms. Then `GET /v1/vve-monitor` as the municipality's policy advisor, {} calls: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms.\n",
                m.children, m.events, m.load_seconds, m.first_call_ms, m.calls.operations, m.calls.p50_ms, m.calls.p95_ms, m.calls.p99_ms
            ));
        }
        if let Some(r) = &self.rebuild {
            o.push_str(&format!(
                "\n### Rebuild of every view\n\n{} events in the stream replayed into every views projection (concurrently, the views service stopped) in {:.1} s: **{:.0} events/s** ({} of the best raw insert rate).\n\n| projection | events applied | seconds |\n|---|---:|---:|\n",
                r.stream_events, r.seconds, r.events_per_second, ratio(r.events_per_second, Some(max_raw))
            ));
            for (p, n, s) in &r.projections {
                o.push_str(&format!("| {p} | {n} | {s:.1} |\n"));
            }
        }
        o.push_str("\n### Peak memory of each service process\n\n| service | peak RSS (VmHWM) MB | RSS at the end MB |\n|---|---:|---:|\n");
        for (n, hwm, rss) in &self.rss {
            o.push_str(&format!(
                "| {n} | {:.1} | {:.1} |\n",
                *hwm as f64 / 1024.0,
                *rss as f64 / 1024.0
            ));
        }
        for n in &self.notes {
            o.push_str(&format!("\nNote: {n}\n"));
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_time_of_a_process_is_read_and_grows_with_work() {
        let me = std::process::id();
        let before = proc_cpu_ms(me).expect("our own /proc/<pid>/stat");
        let started = Instant::now();
        let mut x = 0u64;
        let mut now = before;
        while now < before + 30 && started.elapsed() < Duration::from_secs(10) {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(i));
            }
            now = proc_cpu_ms(me).expect("still there");
        }
        std::hint::black_box(x);
        assert!(
            now >= before + 30,
            "CPU time did not move: {before} -> {now}"
        );
        assert_eq!(proc_cpu_ms(u32::MAX), None, "no such process");
    }

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/kansrijk",
                "kansrijk_bench"
            ),
            "postgres://postgres@127.0.0.1:5432/kansrijk_bench"
        );
        assert_eq!(
            with_database("postgres://u:p@db:5432?sslmode=disable", "b"),
            "postgres://u:p@db:5432/b?sslmode=disable"
        );
    }

    #[test]
    fn fictional_bsns_pass_the_eleven_test() {
        for _ in 0..100 {
            let b = fictional_bsn();
            assert!(kansrijk_vve_reach::domain::Bsn::parse(&b).is_ok(), "{b}");
        }
    }
}

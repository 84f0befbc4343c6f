//! `kansrijk up`: the whole system on one machine, as one process tree. Each service runs as its
//! own child process (`kansrijk serve <service>`), so that one can be killed and restarted on its
//! own, as in production. The children get their own process group: a ctrl-c or SIGTERM reaches
//! this supervisor, which forwards SIGTERM to every child, waits for each to drain, and only then
//! exits. A child that dies is restarted with a growing delay.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::catalog::{self, Service};
use crate::Connection;

/// How long a child gets to drain after SIGTERM before it is killed.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, clap::Args)]
pub(crate) struct UpArgs {
    /// Directory for the services' logs and the local stack's generated secrets.
    #[arg(long, env = "KANSRIJK_STATE_DIR", default_value = ".kansrijk")]
    state_dir: PathBuf,
    /// Run only these services (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Do not load the demo data.
    #[arg(long)]
    no_demo: bool,
    /// Do not restart a service that exits; stop everything instead.
    #[arg(long)]
    no_restart: bool,
    /// Seconds to wait until every service answers /readyz.
    #[arg(long, default_value_t = 90)]
    ready_timeout: u64,
    /// Stop everything and exit as soon as all services are ready (a smoke test of the stack).
    #[arg(long)]
    exit_when_ready: bool,
    /// The gateway's address: the web UI and the API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    gateway_addr: std::net::SocketAddr,
    /// First port of the other services' /livez, /readyz and /metrics (one port each, in order:
    /// privacy, vve-reach, handover, casework, views).
    #[arg(long, default_value_t = 9101)]
    ops_base_port: u16,
}

impl UpArgs {
    /// Where `service` answers /readyz in this stack.
    fn ops_addr(&self, service: &Service) -> String {
        match service.ops_port_offset {
            Some(offset) => format!("127.0.0.1:{}", self.ops_base_port + offset),
            None => self.gateway_addr.to_string(),
        }
    }
}

pub(crate) async fn run(conn: &Connection, args: UpArgs) -> anyhow::Result<()> {
    let shutdown = kansrijk_runtime::shutdown::token_on_signal();
    let selected: Vec<&'static Service> = if args.only.is_empty() {
        catalog::SERVICES.iter().collect()
    } else {
        args.only
            .iter()
            .map(|n| catalog::find(n))
            .collect::<anyhow::Result<_>>()?
    };
    let runnable = selected;

    // A port already taken would make another process answer our readiness checks.
    let taken: Vec<String> = runnable
        .iter()
        .filter(|s| std::net::TcpListener::bind(args.ops_addr(s)).is_err())
        .map(|s| format!("{} ({})", args.ops_addr(s), s.name))
        .collect();
    if !taken.is_empty() {
        anyhow::bail!(
            "address(es) already in use: {}; is another `kansrijk up` running?",
            taken.join(", ")
        );
    }

    println!("PostgreSQL: {}", redact(&conn.database_url));
    println!("NATS:       {}", conn.nats_url);
    crate::admin::migrate(&conn.database_url).await?;

    let logs = args.state_dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let secrets = local_secrets(&args.state_dir)?;
    let exe = std::env::current_exe().context("finding the kansrijk binary")?;

    let children = CancellationToken::new();
    let failed = CancellationToken::new();
    let mut tasks = Vec::new();
    for service in &runnable {
        let spec = ChildSpec {
            service,
            exe: exe.clone(),
            env: child_env(conn, service, &args.ops_addr(service), &secrets),
            log: logs.join(format!("{}.log", service.name)),
            restart: !args.no_restart,
        };
        tasks.push(tokio::spawn(supervise(
            spec,
            children.clone(),
            failed.clone(),
        )));
    }

    let ready = tokio::select! {
        r = wait_ready(&runnable, &args, &logs) => r,
        _ = shutdown.cancelled() => Err(anyhow::anyhow!("interrupted while starting")),
        _ = failed.cancelled() => Err(anyhow::anyhow!("a service exited while starting; see {}", logs.display())),
    };
    if let Err(e) = ready {
        stop(children, tasks).await;
        return Err(e);
    }

    if args.no_demo {
        println!("demo data: skipped (--no-demo)");
    } else {
        crate::demo::load(&conn.database_url, &conn.nats_url, &runnable).await?;
    }
    if runnable.iter().any(|s| s.name == "gateway") {
        println!("\nKansrijk is running: http://{}\n", args.gateway_addr);
    } else {
        println!("\nthe gateway is not running in this build: there is no web address yet\n");
    }
    println!("logs: {}  (ctrl-c stops everything)", logs.display());

    if !args.exit_when_ready {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = failed.cancelled() => {
                println!("a service exited and --no-restart is set: stopping");
            }
        }
    }
    println!("stopping: SIGTERM to every service, waiting for them to drain");
    stop(children, tasks).await;
    println!("stopped");
    if failed.is_cancelled() {
        anyhow::bail!("a service exited on its own; see {}", logs.display());
    }
    Ok(())
}

async fn stop(children: CancellationToken, tasks: Vec<tokio::task::JoinHandle<()>>) {
    children.cancel();
    for t in tasks {
        let _ = t.await;
    }
}

/// The database URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

struct ChildSpec {
    service: &'static Service,
    exe: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    restart: bool,
}

fn child_env(
    conn: &Connection,
    service: &Service,
    addr: &str,
    secrets: &HashMap<String, String>,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("DATABASE_URL".to_owned(), conn.database_url.clone()),
        ("NATS_URL".to_owned(), conn.nats_url.clone()),
        // The local stack's development issuer for the demo personas; the gateway honours it
        // only when set explicitly, refuses it with KANSRIJK_ENV=production, and no production
        // manifest sets it.
        ("KANSRIJK_DEV_ISSUER".to_owned(), "1".to_owned()),
    ];
    if service.ops_port_offset.is_some() {
        env.push(("KANSRIJK_OPS_ADDR".to_owned(), addr.to_owned()));
    } else {
        env.push(("KANSRIJK_HTTP_ADDR".to_owned(), addr.to_owned()));
    }
    for (k, v) in secrets {
        env.push((k.clone(), v.clone()));
    }
    env
}

/// Master and pseudonym keys of the local stack: taken from the environment when set, otherwise
/// generated once into `<state>/secrets.env` (mode 0600) and reused, so that data sealed in an
/// earlier run stays readable.
fn local_secrets(state_dir: &Path) -> anyhow::Result<HashMap<String, String>> {
    let path = state_dir.join("secrets.env");
    let mut values: HashMap<String, String> = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(&path) {
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                values.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }
    let mut changed = false;
    for (key, make) in [
        (
            "KANSRIJK_MASTER_KEYS",
            (|| kansrijk_runtime::crypto::MasterKeyRing::generate_spec(1)) as fn() -> String,
        ),
        (
            "KANSRIJK_PSEUDONYM_KEY",
            crate::keys::random_key as fn() -> String,
        ),
    ] {
        if let Ok(v) = std::env::var(key) {
            if !v.is_empty() {
                values.insert(key.to_owned(), v);
                continue;
            }
        }
        if !values.contains_key(key) {
            values.insert(key.to_owned(), make());
            changed = true;
        }
    }
    if changed {
        std::fs::create_dir_all(state_dir)?;
        let mut text = String::from("# Generated by `kansrijk up` for the local stack only.\n");
        let mut keys: Vec<_> = values.keys().collect();
        keys.sort();
        for k in keys {
            text.push_str(&format!("{k}={}\n", values[k]));
        }
        write_private(&path, &text)?;
    }
    Ok(values)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn spawn(spec: &ChildSpec) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
        .with_context(|| format!("opening {}", spec.log.display()))?;
    let mut cmd = Command::new(&spec.exe);
    cmd.arg("serve")
        .arg(spec.service.name)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    cmd.spawn()
        .with_context(|| format!("starting {}", spec.service.name))
}

/// Keeps one service running until `stop`; restarts it with a growing delay when it exits.
async fn supervise(spec: ChildSpec, stop: CancellationToken, failed: CancellationToken) {
    let name = spec.service.name;
    let mut delay = Duration::from_millis(500);
    loop {
        let started = Instant::now();
        let mut child = match spawn(&spec) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{name}: {e:#}");
                failed.cancel();
                return;
            }
        };
        tokio::select! {
            status = child.wait() => {
                if stop.is_cancelled() {
                    return;
                }
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                eprintln!("{name} exited ({status}); log: {}", spec.log.display());
                if !spec.restart {
                    failed.cancel();
                    return;
                }
                if started.elapsed() > Duration::from_secs(60) {
                    delay = Duration::from_millis(500);
                }
                eprintln!("{name}: restarting in {delay:?}");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            _ = stop.cancelled() => {
                terminate(name, &mut child).await;
                return;
            }
        }
    }
}

/// SIGTERM, then a bounded wait for the drain, then SIGKILL.
async fn terminate(name: &str, child: &mut Child) {
    if let Some(pid) = child.id() {
        // No signal crate and no unsafe code: the system's `kill` sends the signal.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
    }
    match tokio::time::timeout(DRAIN_TIMEOUT, child.wait()).await {
        Ok(_) => {}
        Err(_) => {
            eprintln!("{name} did not stop within {DRAIN_TIMEOUT:?}; killing it");
            let _ = child.kill().await;
        }
    }
}

/// Waits until every service answers 200 on /readyz, with a spinner per service.
async fn wait_ready(services: &[&Service], args: &UpArgs, logs: &Path) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.ready_timeout);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let multi = MultiProgress::new();
    let style =
        ProgressStyle::with_template("{spinner} {prefix:<10} {msg}").expect("static template");
    let bars: Vec<ProgressBar> = services
        .iter()
        .map(|s| {
            let b = multi.add(ProgressBar::new_spinner().with_style(style.clone()));
            b.set_prefix(s.name);
            b.set_message(format!(
                "starting (readiness: http://{}/readyz)",
                args.ops_addr(s)
            ));
            b.enable_steady_tick(Duration::from_millis(120));
            b
        })
        .collect();
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<usize> = (0..services.len()).collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for i in pending {
            let url = format!("http://{}/readyz", args.ops_addr(services[i]));
            match http.get(&url).send().await {
                Ok(r) if r.status().is_success() => bars[i].finish_with_message("ready"),
                Ok(r) => {
                    bars[i].set_message(format!("not ready yet ({})", r.status()));
                    still.push(i);
                }
                Err(_) => still.push(i),
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            for &i in &pending {
                bars[i].abandon_with_message("NOT READY");
            }
            let names: Vec<_> = pending.iter().map(|&i| services[i].name).collect();
            anyhow::bail!(
                "not ready after {timeout:?}: {}; see the logs in {}",
                names.join(", "),
                logs.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_password_only() {
        assert_eq!(
            redact("postgres://kansrijk:geheim@db:5432/kansrijk"),
            "postgres://kansrijk@db:5432/kansrijk"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/kansrijk"),
            "postgres://postgres@127.0.0.1:5432/kansrijk"
        );
    }

    #[test]
    fn local_secrets_are_generated_once_and_private() {
        let dir = tempdir();
        let a = local_secrets(&dir).expect("generate");
        let b = local_secrets(&dir).expect("reuse");
        assert_eq!(a, b);
        assert!(a.contains_key("KANSRIJK_MASTER_KEYS"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secrets.env"))
                .expect("written")
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o077,
                0,
                "secrets.env must not be readable by others"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("kansrijk-cli-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }
}

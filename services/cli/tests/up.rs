//! `kansrijk up` as a user runs it, against a real PostgreSQL and nats-server: it migrates, starts
//! every service this build can run as its own process, waits until each answers /readyz, prints
//! the web address, and on its way out stops every service cleanly (SIGTERM, drained).

use std::process::Command;
use std::time::{Duration, Instant};

use kansrijk_runtime::testing::{free_port, NatsServer, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_every_service_and_stops_them_cleanly() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let state = std::env::temp_dir().join(format!("kansrijk-up-{}", uuid::Uuid::new_v4()));
    // Ports are picked free but may be taken by a parallel test before `up` binds them: `up`
    // refuses clearly, and the test picks again.
    let started = Instant::now();
    let mut attempt = 0;
    let (out, gateway) = loop {
        attempt += 1;
        let gateway = free_port();
        // Five consecutive ports for the ops endpoints.
        let ops_base = free_port();
        let out = tokio::task::spawn_blocking({
            let (url, nats_url, state) = (db.url.clone(), nats.url(), state.clone());
            move || {
                Command::new(env!("CARGO_BIN_EXE_kansrijk"))
                    .args([
                        "up",
                        "--no-demo",
                        "--exit-when-ready",
                        "--ready-timeout",
                        "120",
                    ])
                    .arg("--state-dir")
                    .arg(&state)
                    .arg("--gateway-addr")
                    .arg(format!("127.0.0.1:{gateway}"))
                    .arg("--ops-base-port")
                    .arg(ops_base.to_string())
                    .env("DATABASE_URL", url)
                    .env("NATS_URL", nats_url)
                    .env_remove("KANSRIJK_MASTER_KEYS")
                    .env_remove("KANSRIJK_PSEUDONYM_KEY")
                    .output()
                    .expect("kansrijk runs")
            }
        })
        .await
        .expect("join");
        let taken = String::from_utf8_lossy(&out.stderr).contains("already in use");
        if !taken || attempt == 3 {
            break (out, gateway);
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kansrijk up failed after {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        started.elapsed()
    );
    assert!(stdout.contains("migrated:"), "{stdout}");
    assert!(
        stdout.contains(&format!("Kansrijk is running: http://127.0.0.1:{gateway}")),
        "{stdout}"
    );
    assert!(stdout.contains("stopped"), "{stdout}");
    // Each service logged to its own file, and drained on SIGTERM.
    let logs = std::fs::read_dir(state.join("logs")).expect("log dir");
    let mut n = 0;
    for entry in logs {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("log");
        assert!(
            text.contains("shutdown signal received"),
            "every service drains on SIGTERM:\n{text}"
        );
        n += 1;
    }
    assert!(n >= 1, "at least one service ran");
    // The local keys were generated once, readable by the owner only.
    let secrets = std::fs::read_to_string(state.join("secrets.env")).expect("secrets");
    assert!(secrets.contains("KANSRIJK_MASTER_KEYS="));
    // Nothing is left listening.
    std::thread::sleep(Duration::from_millis(200));
    assert!(std::net::TcpStream::connect(("127.0.0.1", gateway)).is_err());
    let _ = std::fs::remove_dir_all(&state);
}

//! A smoke test of `kansrijk bench full` with tiny sizes: it starts its own stack (its own
//! database and nats-server, every service as a process), drives it, and reports non-zero
//! throughput for every phase. No timing is asserted.

use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_full_with_tiny_sizes_reports_every_phase() {
    let database = format!("kansrijk_bench_smoke_{}", std::process::id());
    let output = std::env::temp_dir().join(format!("{database}.md"));
    let out = tokio::task::spawn_blocking({
        let (database, output) = (database.clone(), output.clone());
        move || {
            Command::new(env!("CARGO_BIN_EXE_kansrijk"))
                .args(["bench", "full", "--concurrency", "1,4", "--seconds", "3"])
                .args(["--lag-seconds", "3", "--rebuild-events", "3000"])
                .args(["--monitor-children", "200", "--monitor-calls", "3"])
                .args(["--raw-operations", "200", "--database", &database])
                .arg("--output")
                .arg(&output)
                .output()
                .expect("kansrijk runs")
        }
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kansrijk bench full failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let report = std::fs::read_to_string(&output).expect("the report was written");
    let _ = std::fs::remove_file(&output);
    for section in [
        "Raw single-row INSERT-and-commit ceiling",
        "HTTP command mix",
        "Acknowledgement to visible",
        "Quarterly monitor",
        "Rebuild of every view",
        "Peak memory",
        "CPU time per command of each service process",
    ] {
        assert!(report.contains(section), "missing {section}:\n{report}");
    }
    // Non-zero command throughput at every client count: a row "| clients | n | rate |" with n > 0.
    let rows: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.contains("HTTP command mix"))
        .filter(|l| l.starts_with("| 1 |") || l.starts_with("| 4 |"))
        .take(2)
        .collect();
    assert_eq!(rows.len(), 2, "{report}");
    for row in rows {
        let n: u64 = row
            .split('|')
            .nth(2)
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "no commands succeeded: {row}\n{report}");
    }
    for service in [
        "privacy",
        "vve-reach",
        "handover",
        "casework",
        "views",
        "gateway",
    ] {
        assert!(
            report.contains(&format!("| {service} |")),
            "no RSS of {service}:\n{report}"
        );
    }
}

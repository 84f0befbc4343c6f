//! The README's first command, as a new user meets it: `kansrijk up` with the demo data on a fresh
//! database and a private nats-server, then every demo persona signs in through the browser
//! (headless Chromium via chromedriver) and finds real work on the first screen; a record opens.
//! Then the stack is stopped and `kansrijk up` runs a second time on the same database: it loads
//! the same world again and appends nothing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use kansrijk_runtime::testing::{free_port, NatsServer, TestDb};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A bound, not a wait: `up` reports readiness on its standard output, and the test reads it.
const UP_BOUND: Duration = Duration::from_secs(900);

/// `kansrijk up` as a child process, its standard output read line by line.
struct Up {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Up {
    fn start(db: &TestDb, nats: &NatsServer, state: &Path, gateway: u16, extra: &[&str]) -> Up {
        let ops_base = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kansrijk"))
            .args(["up", "--ready-timeout", "300", "--no-restart"])
            .args(extra)
            .arg("--state-dir")
            .arg(state)
            .arg("--gateway-addr")
            .arg(format!("127.0.0.1:{gateway}"))
            .arg("--ops-base-port")
            .arg(ops_base.to_string())
            .env("DATABASE_URL", &db.url)
            .env("NATS_URL", nats.url())
            .env_remove("KANSRIJK_MASTER_KEYS")
            .env_remove("KANSRIJK_PSEUDONYM_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kansrijk up starts");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Up {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one contains `needle`; fails when `up` ends first.
    fn until(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(UP_BOUND) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "`kansrijk up` ended or stalled before {needle:?}:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// SIGTERM and the wait for the drain.
    fn stop(mut self) {
        self.terminate();
        self.until("stopped");
        assert!(self.child.wait().expect("wait").success(), "up exits 0");
    }

    fn terminate(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }
}

/// A failed assertion must not leave `up` and its services running: SIGTERM (up stops every
/// service it started), then a bounded wait, then SIGKILL.
impl Drop for Up {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
            for _ in 0..300 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The figures of the line `demo data: N children, M commands (K already there), ...`.
fn vve_figures(line: &str) -> (u64, u64, u64) {
    let n: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("number"))
        .collect();
    (n[0], n[1], n[2])
}

/// One persona's first screen: where it lands, what it must show, how many table rows at least,
/// and a link to a record that must open.
struct FirstScreen {
    persona: &'static str,
    path: &'static str,
    texts: &'static [&'static str],
    min_rows: usize,
    record: Option<&'static str>,
}

const SCREENS: &[FirstScreen] = &[
    FirstScreen {
        persona: "jgz-verpleegkundige",
        path: "/jgz/werklijst",
        texts: &[
            "Nog niet benaderd",
            "Doorverwezen",
            "Wachtlijst",
            "Geaccepteerd",
            "Ouders zien af",
            "Onbereikbaar",
            "Te indiceren: ",
        ],
        min_rows: 20,
        record: Some("a[href^='/jgz/kind/']"),
    },
    FirstScreen {
        persona: "jgz-andere-organisatie",
        path: "/jgz/werklijst",
        texts: &[],
        min_rows: 1,
        record: Some("a[href^='/jgz/kind/']"),
    },
    FirstScreen {
        persona: "pedagogisch-medewerker",
        path: "/kinderopvang",
        texts: &["Nieuwe verwijzingen", "Op de wachtlijst", "Plaatsingen"],
        min_rows: 3,
        record: Some("a[href*='/plaatsing/']"),
    },
    FirstScreen {
        persona: "kinderopvang-andere-locatie",
        path: "/kinderopvang",
        texts: &["Nieuwe verwijzingen", "Op de wachtlijst", "Plaatsingen"],
        min_rows: 3,
        record: Some("a[href*='/plaatsing/']"),
    },
    FirstScreen {
        persona: "leerkracht",
        path: "/school",
        texts: &["Bevestigd", "Nog bevestigen", "Bevestiging te laat"],
        min_rows: 3,
        record: Some("a[href^='/school/dossier/']"),
    },
    FirstScreen {
        persona: "intern-begeleider",
        path: "/school",
        texts: &["Bevestigd", "Nog bevestigen", "Bevestiging te laat"],
        min_rows: 3,
        record: Some("a[href^='/school/dossier/']"),
    },
    FirstScreen {
        persona: "basisschool-andere-school",
        path: "/school",
        texts: &["Bevestigd", "Nog bevestigen", "Bevestiging te laat"],
        min_rows: 3,
        record: Some("a[href^='/school/dossier/']"),
    },
    FirstScreen {
        persona: "mentor-vo",
        path: "/school",
        texts: &[
            "Onderwijskundig rapport (PO-VO)",
            "Bevestigd",
            "Bevestiging te laat",
        ],
        min_rows: 3,
        record: Some("a[href^='/school/dossier/']"),
    },
    FirstScreen {
        persona: "regisseur",
        path: "/jeugdteam",
        texts: &["Mijn caseload"],
        min_rows: 5,
        record: Some("a[href^='/jeugdteam/casus/']"),
    },
    FirstScreen {
        persona: "privacyfunctionaris",
        path: "/privacy/verzoeken",
        texts: &[
            "Verzoeken van betrokkenen",
            "Termijn verstreken",
            "Laatste registraties in het toegangslog",
        ],
        min_rows: 3,
        record: None,
    },
    FirstScreen {
        persona: "beleidsadviseur",
        path: "/gemeente",
        texts: &["VVE-monitor", "Bereik over de kwartalen", "Per wijk"],
        min_rows: 3,
        record: None,
    },
    FirstScreen {
        persona: "beleidsadviseur-leidschendam-voorburg",
        path: "/gemeente",
        texts: &["VVE-monitor", "Bereik over de kwartalen", "Voorburg"],
        min_rows: 2,
        record: None,
    },
];

struct Browser {
    driver: Child,
    client: Client,
    base: String,
    artifacts: PathBuf,
    step: usize,
}

impl Browser {
    async fn start(base: String) -> Browser {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: apt-get install -y chromium chromium-driver (never skipped)"
            );
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(format!("kansrijk-demo-{}", uuid::Uuid::new_v4()));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,1600", "--lang=nl-NL",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }
        });
        let caps = caps.as_object().expect("object").clone();
        // chromedriver needs a moment to listen: connect until it answers (bounded).
        let mut client = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts/demo-world");
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).expect("artifacts");
        Browser {
            driver,
            client: client.expect("a chromium session"),
            base,
            artifacts,
            step: 0,
        }
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Clicks and waits until a new page replaced the old one.
    async fn nav(&self, css: &str) {
        self.client
            .execute("window.__oud = true;", vec![])
            .await
            .expect("script");
        self.wait_for(css).await.click().await.expect("click");
        for _ in 0..300 {
            let fresh = self
                .client
                .execute(
                    "return document.readyState === 'complete' && window.__oud !== true;",
                    vec![],
                )
                .await
                .unwrap_or(json!(false));
            if fresh == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: no new page");
    }

    async fn text(&self) -> String {
        self.wait_for("main").await.text().await.expect("text")
    }

    async fn screenshot(&mut self, name: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(
            self.artifacts.join(format!("{:02}-{name}.png", self.step)),
            png,
        )
        .expect("write");
    }

    async fn sign_in(&self, persona: &str) {
        self.client
            .goto(&format!("{}/", self.base))
            .await
            .expect("goto");
        self.nav("a[href='/inloggen']").await;
        self.nav(&format!("button[name='persona'][value='{persona}']"))
            .await;
        self.wait_for("form.logout").await;
    }

    async fn sign_out(&self) {
        self.nav("form.logout button").await;
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_brings_up_one_demo_world_every_persona_works_in_and_a_second_up_appends_nothing() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let state = std::env::temp_dir().join(format!("kansrijk-demo-{}", uuid::Uuid::new_v4()));
    let gateway = free_port();
    let mut up = Up::start(&db, &nats, &state, gateway, &[]);
    let first = up.until(" children, ");
    let (children, commands, replayed) = vve_figures(first.trim_start_matches("demo data: "));
    assert!(children > 500, "{first}");
    assert_eq!(replayed, 0, "a fresh database: {first}");
    up.until("Kansrijk is running");

    let mut browser = Browser::start(format!("http://127.0.0.1:{gateway}")).await;
    for screen in SCREENS {
        browser.sign_in(screen.persona).await;
        let url = browser.client.current_url().await.expect("url");
        assert_eq!(url.path(), screen.path, "{}: first screen", screen.persona);
        browser.screenshot(screen.persona).await;
        let text = browser.text().await;
        for needle in screen.texts {
            assert!(
                text.contains(needle),
                "{}: the first screen shows {needle:?}:\n{text}",
                screen.persona
            );
        }
        let rows = browser
            .client
            .find_all(Locator::Css("main table tbody tr"))
            .await
            .expect("rows")
            .len();
        assert!(
            rows >= screen.min_rows,
            "{}: {rows} rows, at least {} expected:\n{text}",
            screen.persona,
            screen.min_rows
        );
        if let Some(link) = screen.record {
            let name = browser
                .wait_for(link)
                .await
                .text()
                .await
                .expect("link text");
            assert!(
                !name.trim().is_empty(),
                "{}: a named record",
                screen.persona
            );
            browser.nav(link).await;
            browser
                .screenshot(&format!("{}-record", screen.persona))
                .await;
            let record = browser.text().await;
            assert!(
                record.contains(name.trim()),
                "{}: the record of {name} opens:\n{record}",
                screen.persona
            );
        }
        browser.sign_out().await;
    }

    // The municipality's administrator imports the LRK's open data in the browser: a trial run
    // first (nothing stored), then the import; a second import of the same file changes nothing.
    browser.sign_in("functioneel-beheerder").await;
    let url = browser.client.current_url().await.expect("url");
    assert_eq!(
        url.path(),
        "/gemeente/partnerregister",
        "the administrator's first screen"
    );
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gateway/tests/fixtures/registry/lrk-export.csv")
        .canonicalize()
        .expect("the LRK fixture");
    let mut reports = Vec::new();
    for trial in [true, false, false] {
        browser
            .wait_for("select[name='soort']")
            .await
            .select_by_value("lrk")
            .await
            .expect("kind");
        browser
            .wait_for("input[name='bestand']")
            .await
            .send_keys(&fixture.display().to_string())
            .await
            .expect("file");
        if trial {
            browser
                .wait_for("#proefimport")
                .await
                .click()
                .await
                .expect("trial");
        }
        browser
            .wait_for("#overslaan")
            .await
            .click()
            .await
            .expect("skip");
        browser.nav("form[enctype] button[type='submit']").await;
        browser.screenshot("partnerregister-import").await;
        reports.push(browser.text().await);
    }
    let changed = |r: &str| {
        r.lines()
            .find(|l| l.starts_with("Geïmporteerd:"))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        reports[0].contains("Proefimport"),
        "trial run:\n{}",
        reports[0]
    );
    assert!(
        changed(&reports[1]).starts_with("Geïmporteerd:")
            && !changed(&reports[1]).contains(": 0 gewijzigd"),
        "first import:\n{}",
        reports[1]
    );
    assert!(
        changed(&reports[2]).contains(": 0 gewijzigd"),
        "re-import:\n{}",
        reports[2]
    );
    browser.sign_out().await;
    browser.close().await;
    up.stop();

    // The second run on the same database: the same world, nothing appended.
    let mut again = Up::start(&db, &nats, &state, free_port(), &["--exit-when-ready"]);
    let second = again.until(" children, ");
    let (children2, commands2, replayed2) = vve_figures(second.trim_start_matches("demo data: "));
    assert_eq!((children2, commands2), (children, commands), "{second}");
    assert_eq!(
        replayed2, commands2,
        "a second run appends nothing: {second}"
    );
    again.until("stopped");
    assert!(again.child.wait().expect("wait").success());
    let _ = std::fs::remove_dir_all(&state);
}

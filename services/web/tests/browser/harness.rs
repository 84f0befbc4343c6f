//! The real stack for the browser tests: a nats-server and a PostgreSQL database per test, the
//! privacy service (and the other services a journey needs), the gateway's development issuer and
//! the web UI on an axum server on port 0, and headless Chromium through chromedriver.
//!
//! Chromium and chromedriver are required: without them the tests fail, they never skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client as Nats;
use fantoccini::{Client, ClientBuilder, Locator};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::testing::{free_port, NatsServer, TestDb};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One journey at a time: the machine has two cores.
pub(crate) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Which services a journey needs besides privacy.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Services {
    pub(crate) vve: bool,
    pub(crate) handover: bool,
    pub(crate) casework: bool,
}

pub(crate) struct Stack {
    pub(crate) _db: TestDb,
    pub(crate) _nats_server: NatsServer,
    pub(crate) nats: Nats,
    pub(crate) shutdown: CancellationToken,
    pub(crate) base: String,
    pub(crate) driver: Child,
    pub(crate) browser: Client,
    axe: String,
    artifacts: PathBuf,
    step: usize,
    pub(crate) checked_pages: usize,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn require_browser() {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver \
             (apt-get install -y chromium chromium-driver); the browser tests do not skip"
        );
    }
}

fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run `npm ci` in services/web/tests (axe-core from npm)",
            path.display()
        )
    })
}

async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing listens on port {port}");
}

pub(crate) fn officer() -> Actor {
    Actor {
        person: "test-officer".into(),
        organisation: "00000001002220647000".into(),
        organisation_type: OrganisationType::Privacyfunctionaris,
        role: "privacyfunctionaris".into(),
        municipality: "0546".into(),
        purpose: Purpose::Privacytoezicht,
    }
}

impl Stack {
    pub(crate) async fn start(journey: &str, services: Services) -> Stack {
        require_browser();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let axe = axe_source();
        let db = TestDb::new().await;
        let nats_server = NatsServer::start();
        let shutdown = CancellationToken::new();
        let privacy = kansrijk_privacy::Config::for_local(&db.url, &nats_server.url());
        tokio::spawn(kansrijk_privacy::run(privacy, shutdown.clone()));
        let nats = kansrijk_runtime::nats::connect(&nats_server.url(), "web-test")
            .await
            .expect("nats");
        // The registry always: the forms choose districts, locations and schools from it, and
        // the services check districts against it.
        crate::services::start_registry(&db, &nats, &shutdown).await;
        if services.vve {
            crate::services::start_vve(&db, &nats_server, &nats, &shutdown).await;
        }
        if services.casework {
            crate::services::start_casework(&db, &nats_server, &nats, &shutdown).await;
        }
        if services.handover {
            crate::services::start_handover(&db, &nats_server, &nats, &shutdown).await;
        }
        // Ready when the registry answers.
        kansrijk_runtime::testing::eventually(Duration::from_secs(30), "registry", || {
            let nats = nats.clone();
            async move {
                request::<_, Value>(
                    &nats,
                    "kansrijk.qry.registry.wijken",
                    &kansrijk_runtime::identity::service_actor(
                        "vve",
                        kansrijk_runtime::config::DEFAULT_OIN,
                    ),
                    &json!({ "gemeenteCode": "0546" }),
                )
                .await
                .ok()
            }
        })
        .await;
        // Ready when the privacy service answers.
        kansrijk_runtime::testing::eventually(Duration::from_secs(30), "privacy service", || {
            let nats = nats.clone();
            async move {
                request::<_, Value>(
                    &nats,
                    "kansrijk.privacy.keys.get",
                    &kansrijk_runtime::identity::service_actor(
                        "vve",
                        kansrijk_runtime::config::DEFAULT_OIN,
                    ),
                    &json!({ "subjects": [] }),
                )
                .await
                .ok()
            }
        })
        .await;

        // The web UI with the gateway's development issuer beside it, as the gateway mounts them.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let issuer = Arc::new(
            kansrijk_gateway::dev_oidc::DevIssuer::new(
                format!("{base}/dev-oidc"),
                "kansrijk".into(),
            )
            .unwrap(),
        );
        // The sessions in the gateway's schema, as the gateway keeps them.
        let sessions = kansrijk_web::SessionStore::new(
            kansrijk_gateway::registry::connect(&db.url, 4)
                .await
                .unwrap(),
        );
        let web = kansrijk_web::router(kansrijk_web::WebState::new(
            nats.clone(),
            kansrijk_web::WebConfig::for_local(&base),
            sessions,
        ));
        let app = axum::Router::new()
            .nest("/dev-oidc", kansrijk_gateway::dev_oidc::router(issuer))
            .merge(web);
        let sd = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { sd.cancelled().await })
                .await
        });

        // chromedriver on a free port, Chromium headless with a fresh profile.
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("LANG", "nl_NL.UTF-8")
            .env("LANGUAGE", "nl_NL:nl")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        wait_for_port(port).await;
        let profile =
            std::env::temp_dir().join(format!("kansrijk-web-chromium-{}", uuid::Uuid::new_v4()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,1600",
                    "--lang=nl-NL",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": { "intl.accept_languages": "nl-NL,nl" },
            }),
        );
        let browser = match ClientBuilder::rustls()
            .expect("a rustls client")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(b) => b,
            Err(e) => {
                // Never leave chromedriver behind.
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("a chromium session through chromedriver: {e}");
            }
        };
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/artifacts")
            .join(journey);
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).unwrap();
        Stack {
            _db: db,
            _nats_server: nats_server,
            nats,
            shutdown,
            base,
            driver,
            browser,
            axe,
            artifacts,
            step: 0,
            checked_pages: 0,
        }
    }

    /// Screenshots from here on go to `tests/artifacts/<journey>/`.
    pub(crate) fn set_journey(&mut self, journey: &str) {
        self.artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/artifacts")
            .join(journey);
        let _ = std::fs::remove_dir_all(&self.artifacts);
        std::fs::create_dir_all(&self.artifacts).unwrap();
        self.step = 0;
    }

    /// A GET with the browser's session cookies (a download).
    pub(crate) async fn get_as_browser(&self, path: &str) -> (u16, String, String) {
        let resp = reqwest::Client::new()
            .get(self.url(path))
            .header("cookie", self.cookie_header().await)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let disposition = resp
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (status, disposition, resp.text().await.unwrap_or_default())
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn goto(&self, path: &str) {
        self.browser.goto(&self.url(path)).await.unwrap();
    }

    /// Logs in through the development issuer's persona chooser.
    pub(crate) async fn login(&mut self, persona: &str) {
        self.goto("/").await;
        self.check("startpagina").await;
        self.nav("a[href='/inloggen']").await;
        self.wait_for("button[name='persona']").await;
        self.check("persona-kiezen").await;
        self.nav(&format!("button[name='persona'][value='{persona}']"))
            .await;
        self.wait_for("form.logout").await;
    }

    pub(crate) async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    pub(crate) async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks something that loads a new page (a link or a submit button) and waits until the
    /// new page has replaced the old one.
    pub(crate) async fn nav(&self, css: &str) {
        self.browser
            .execute("window.__kansrijkOudePagina = true;", vec![])
            .await
            .unwrap();
        self.click(css).await;
        for _ in 0..200 {
            let old = self
                .browser
                .execute(
                    "return document.readyState === 'complete' && window.__kansrijkOudePagina !== true;",
                    vec![],
                )
                .await
                .unwrap_or(json!(false));
            if old == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: no new page within 20 s");
    }

    pub(crate) async fn fill(&self, css: &str, value: &str) {
        let el = self.wait_for(css).await;
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    /// Sets an input's value directly (date inputs are locale-formatted when typed).
    pub(crate) async fn set_value(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.browser
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![json!(css), json!(value)],
            )
            .await
            .unwrap();
    }

    pub(crate) async fn select(&self, css: &str, value: &str) {
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    pub(crate) async fn page_text(&self) -> String {
        self.text("body").await
    }

    pub(crate) async fn assert_text(&self, needle: &str) {
        let text = self.page_text().await;
        assert!(
            text.contains(needle),
            "page should contain {needle:?}:\n{text}"
        );
    }

    /// A screenshot of the step and an axe-core check (WCAG 2.0/2.1 A and AA): fails on any
    /// violation.
    pub(crate) async fn check(&mut self, name: &str) {
        self.step += 1;
        let png = self.browser.screenshot().await.unwrap();
        let file = self.artifacts.join(format!("{:02}-{name}.png", self.step));
        std::fs::write(&file, png).unwrap();
        let title = self
            .browser
            .execute("return document.title", vec![])
            .await
            .unwrap();
        assert!(
            title.as_str().is_some_and(|t| !t.is_empty()),
            "{name}: every page has a title"
        );
        let lang = self
            .browser
            .execute("return document.documentElement.lang", vec![])
            .await
            .unwrap();
        assert_eq!(lang, json!("nl"), "{name}: lang=\"nl\"");
        self.browser
            .execute(&self.axe, vec![])
            .await
            .expect("axe-core injects");
        let result = self
            .browser
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                     .then(r => done(JSON.stringify(r.violations.map(v => ({
                         id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || ''))
                     })))))
                     .catch(e => done('axe error: ' + e));"#,
                vec![],
            )
            .await
            .expect("axe-core runs");
        let raw = result.as_str().unwrap_or("").to_owned();
        let violations: Value = serde_json::from_str(&raw)
            .unwrap_or_else(|_| panic!("{name}: axe-core did not run: {raw}"));
        self.checked_pages += 1;
        assert_eq!(
            violations,
            json!([]),
            "{name}: WCAG 2.1 A/AA violations (screenshot {})",
            file.display()
        );
    }

    /// The browser's cookies as a `Cookie` header (for requests a browser would make as a
    /// download, which the page's CSP keeps scripts from making).
    pub(crate) async fn cookie_header(&self) -> String {
        let cookies = self.browser.get_all_cookies().await.unwrap();
        cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Posts `pairs` to `path` with the browser's session cookies.
    pub(crate) async fn post_as_browser(
        &self,
        path: &str,
        pairs: &[(String, String)],
    ) -> (u16, String, String) {
        let resp = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(self.url(path))
            .header("cookie", self.cookie_header().await)
            .form(pairs)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let disposition = resp
            .headers()
            .get("content-disposition")
            .or_else(|| resp.headers().get("location"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (status, disposition, resp.text().await.unwrap_or_default())
    }

    /// The pairs a form of the current page would submit.
    pub(crate) async fn form_pairs(&self, form_css: &str) -> Vec<(String, String)> {
        let v = self
            .browser
            .execute(
                "return Array.from(new FormData(document.querySelector(arguments[0])).entries());",
                vec![json!(form_css)],
            )
            .await
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap_or("").to_owned(),
                    p[1].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// Submits a form of the current page outside the browser, as a download: status,
    /// Content-Disposition and body.
    pub(crate) async fn fetch_form(&self, form_css: &str) -> (u16, String, String) {
        let v = self
            .browser
            .execute(
                "const f = document.querySelector(arguments[0]); return [new URL(f.action).pathname, Array.from(new FormData(f).entries())];",
                vec![json!(form_css)],
            )
            .await
            .unwrap();
        let path = v[0].as_str().unwrap().to_owned();
        let pairs: Vec<(String, String)> = v[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap_or("").to_owned(),
                    p[1].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        self.post_as_browser(&path, &pairs).await
    }

    pub(crate) async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        subject: &str,
        actor: &Actor,
        body: &B,
    ) -> Result<T, Problem> {
        request(&self.nats, subject, actor, body).await
    }

    pub(crate) async fn finish(self) {
        let Stack { browser, .. } = &self;
        let _ = browser.clone().close().await;
    }
}

pub(crate) async fn request<B: Serialize, T: DeserializeOwned>(
    nats: &Nats,
    subject: &str,
    actor: &Actor,
    body: &B,
) -> Result<T, Problem> {
    kansrijk_runtime::nats::request(
        nats,
        subject.into(),
        kansrijk_runtime::nats::request_headers(actor, Some(uuid::Uuid::new_v4()), None),
        body,
        Duration::from_secs(10),
    )
    .await
}

//! The web UI's sessions against their attacks, over HTTP (no browser): the web UI and the
//! gateway's development issuer on port 0, sessions in PostgreSQL (the gateway's schema), a
//! private nats-server.
//!
//! - a session cookie copied before logout no longer works after it (server-side sessions);
//! - a cookie minted with a known session key is no session (the cookie holds no actor);
//! - an expired session is refused on the server, whatever the cookie says;
//! - logout ends the identity provider's session too: the next sign-in asks for the persona again;
//! - outside development a committed demo session key is refused, and `prod`, `acceptatie`,
//!   `acceptance` and `staging` count as production.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::IntoResponse;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar};
use kansrijk_runtime::testing::{NatsServer, TestDb};
use kansrijk_web::session::{Session, SESSION_COOKIE};
use kansrijk_web::{SessionStore, WebConfig, WebState};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use sha2::{Digest, Sha512};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// The web session key docker-compose.yml used to commit.
const COMMITTED_KEY: &str = "o+Oedk1aYApwZQtnblp/cSPPkKS9HtSwGgwnijM+xNBQzAiY5vy5nIb+MfXhOmzU";

struct Stack {
    _db: TestDb,
    _nats_server: NatsServer,
    base: String,
    pool: PgPool,
    issuer: Arc<kansrijk_gateway::dev_oidc::DevIssuer>,
    config: WebConfig,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Stack {
    async fn start() -> Stack {
        let db = TestDb::new().await;
        let nats_server = NatsServer::start();
        let nats = async_nats::connect(nats_server.url()).await.unwrap();
        let pool = kansrijk_gateway::registry::connect(&db.url, 4)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let issuer = Arc::new(
            kansrijk_gateway::dev_oidc::DevIssuer::new(
                format!("{base}/dev-oidc"),
                "kansrijk".into(),
            )
            .unwrap(),
        );
        let config = WebConfig::for_local(&base);
        let web = kansrijk_web::router(WebState::new(
            nats,
            config.clone(),
            SessionStore::new(pool.clone()),
        ));
        let app = axum::Router::new()
            .nest(
                "/dev-oidc",
                kansrijk_gateway::dev_oidc::router(issuer.clone()),
            )
            .merge(web);
        let shutdown = CancellationToken::new();
        let sd = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { sd.cancelled().await })
                .await
        });
        Stack {
            _db: db,
            _nats_server: nats_server,
            base,
            pool,
            issuer,
            config,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            shutdown,
        }
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    /// The encrypted value of a web UI cookie, as the web UI would set it with its key.
    fn mint(&self, name: &'static str, value: String) -> String {
        mint_with(
            &Key::from(Sha512::digest(&self.config.session_secret).as_slice()),
            name,
            value,
        )
    }

    async fn sessions(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM web_sessions")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

fn mint_with(key: &Key, name: &'static str, value: String) -> String {
    let jar = PrivateCookieJar::new(key.clone()).add(Cookie::new(name, value));
    let resp = (jar, ()).into_response();
    let set = resp.headers()[SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// A browser, as far as these tests need one: its cookies (name -> value).
#[derive(Clone, Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all(SET_COOKIE) {
            let c = Cookie::parse(v.to_str().unwrap().to_owned()).unwrap();
            let removed = c.value().is_empty() || c.max_age().is_some_and(|a| a.is_zero());
            if removed {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    async fn get(&mut self, stack: &Stack, url: &str) -> Answer {
        let resp = stack
            .http
            .get(stack.url(url))
            .header(COOKIE, self.header())
            .send()
            .await
            .unwrap();
        self.answer(resp).await
    }

    async fn post(&mut self, stack: &Stack, url: &str, form: &[(String, String)]) -> Answer {
        let resp = stack
            .http
            .post(stack.url(url))
            .header(COOKIE, self.header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.answer(resp).await
    }

    async fn answer(&mut self, resp: reqwest::Response) -> Answer {
        self.keep(&resp);
        let status = resp.status();
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        Answer {
            status,
            location,
            body: resp.text().await.unwrap_or_default(),
        }
    }

    /// Starts a sign-in: the development issuer's answer to the authorization request.
    async fn start_login(&mut self, stack: &Stack) -> (String, Answer) {
        let r = self.get(stack, "/inloggen").await;
        assert!(r.status.is_redirection(), "/inloggen: {}", r.status);
        let authorize = r.location.unwrap();
        assert!(
            authorize.starts_with(&format!("{}/dev-oidc/authorize?", stack.base)),
            "{authorize}"
        );
        let answer = self.get(stack, &authorize).await;
        (authorize, answer)
    }

    /// A full sign-in as `persona` when the issuer asks; returns whether it asked.
    async fn login(&mut self, stack: &Stack, persona: &str) -> bool {
        let (authorize, answer) = self.start_login(stack).await;
        let (asked, back) = if answer.status == StatusCode::OK {
            assert!(
                answer.body.contains("Inloggen als demogebruiker"),
                "the persona chooser"
            );
            let query = authorize.split_once('?').unwrap().1;
            let mut form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            form.push(("persona".into(), persona.into()));
            let r = self.post(stack, "/dev-oidc/authorize", &form).await;
            assert!(r.status.is_redirection(), "chooser: {}", r.status);
            (true, r.location.unwrap())
        } else {
            assert!(answer.status.is_redirection(), "{}", answer.status);
            (false, answer.location.unwrap())
        };
        assert!(
            back.starts_with(&format!("{}/inloggen/terug?", stack.base)),
            "{back}"
        );
        let r = self.get(stack, &back).await;
        assert!(
            r.status.is_redirection(),
            "callback: {} {}",
            r.status,
            r.body
        );
        assert_ne!(r.location.as_deref(), Some("/"), "signed in");
        assert!(
            self.cookies.contains_key(SESSION_COOKIE),
            "a session cookie"
        );
        asked
    }

    /// Whether the web UI sees a session: `/` sends a signed-in user to their start page and
    /// shows the welcome page otherwise; a page of a user group sends a stranger to `/inloggen`.
    async fn signed_in(&mut self, stack: &Stack) -> bool {
        let home = self.get(stack, "/").await;
        match home.status {
            StatusCode::OK => {
                assert!(home.body.contains("Welkom bij Kansrijk"));
                false
            }
            s if s.is_redirection() => {
                let start = home.location.unwrap();
                assert_ne!(start, "/inloggen");
                let page = self.get(stack, &start).await;
                assert_ne!(page.location.as_deref(), Some("/inloggen"), "{start}");
                true
            }
            s => panic!("/: {s}"),
        }
    }
}

#[tokio::test]
async fn a_session_cookie_copied_before_logout_is_refused_after_it_and_the_provider_asks_again() {
    let stack = Stack::start().await;
    let mut browser = Browser::default();

    assert!(
        browser.login(&stack, "jgz-verpleegkundige").await,
        "the first sign-in asks for the persona"
    );
    assert!(browser.signed_in(&stack).await);
    assert_eq!(stack.sessions().await, 1);
    assert_eq!(stack.issuer.open_sessions(), 1);
    // Someone copies the cookie (a shared computer, a proxy log, an extension).
    let mut copy = browser.clone();
    assert!(copy.signed_in(&stack).await, "the copy works before logout");

    // Like a real identity provider, the development issuer remembers the user: a sign-in in
    // another tab of this browser does not ask again.
    let mut tab = browser.clone();
    tab.cookies.remove(SESSION_COOKIE);
    let (_, silent) = tab.start_login(&stack).await;
    assert!(
        silent.status.is_redirection()
            && silent
                .location
                .as_deref()
                .is_some_and(|l| l.contains("/inloggen/terug?code=")),
        "an open provider session signs in without asking: {}",
        silent.status
    );

    // Logout (the CSRF token of this session's forms).
    let csrf: String = sqlx::query_scalar("SELECT session->>'csrf' FROM web_sessions")
        .fetch_one(&stack.pool)
        .await
        .unwrap();
    let r = browser
        .post(&stack, "/uitloggen", &[("csrf".into(), csrf)])
        .await;
    assert!(r.status.is_redirection(), "{}", r.status);
    let provider_logout = r.location.unwrap();
    assert!(
        provider_logout.starts_with(&format!("{}/dev-oidc/logout?", stack.base)),
        "logout continues at the provider: {provider_logout}"
    );
    let params: BTreeMap<String, String> =
        url::form_urlencoded::parse(provider_logout.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        params.get("post_logout_redirect_uri").map(String::as_str),
        Some(format!("{}/", stack.base).as_str())
    );
    assert_eq!(
        params.get("client_id").map(String::as_str),
        Some("kansrijk-web")
    );
    assert!(
        params
            .get("id_token_hint")
            .is_some_and(|t| t.split('.').count() == 3),
        "the ID token as hint"
    );
    assert!(!browser.cookies.contains_key(SESSION_COOKIE));

    // The copied cookie is worth nothing now: the session is gone on the server.
    assert_eq!(stack.sessions().await, 0);
    assert!(
        !copy.signed_in(&stack).await,
        "a cookie copied before logout no longer works after it"
    );
    let r = copy.get(&stack, "/jgz/werklijst").await;
    assert_eq!(r.location.as_deref(), Some("/inloggen"));

    // The provider ends its own session and sends the browser back.
    assert_eq!(stack.issuer.open_sessions(), 1);
    let r = browser.get(&stack, &provider_logout).await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{}/", stack.base).as_str())
    );
    assert_eq!(stack.issuer.open_sessions(), 0);
    assert!(!browser.cookies.contains_key("kansrijk_dev_oidc"));
    let home = browser.get(&stack, "/").await;
    assert!(home.body.contains("U bent uitgelogd."), "the flash message");

    // The next user of this computer is asked who they are.
    let (_, answer) = browser.start_login(&stack).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the chooser, not a silent sign-in"
    );
    assert!(answer.body.contains("Inloggen als demogebruiker"));
    // Even with the provider cookie copied before its logout.
    let (_, answer) = tab.start_login(&stack).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        browser.login(&stack, "leerkracht").await,
        "signing in again asks for the persona"
    );
    assert!(browser.signed_in(&stack).await);
}

#[tokio::test]
async fn a_cookie_minted_with_the_session_key_or_past_its_expiry_is_no_session() {
    let stack = Stack::start().await;
    // The worst case: the attacker knows the running web UI's own cookie key (as anyone knew
    // the one committed to docker-compose.yml) and encrypts what they like with it.

    let now = chrono::Utc::now().timestamp();
    let session = |person: &str, expires: i64| Session {
        person: person.into(),
        organisation: "100000001".into(),
        organisation_type: kansrijk_proto::actor::OrganisationType::Jgz,
        role: "jeugdverpleegkundige".into(),
        municipality: "0546".into(),
        name: "Aanvaller".into(),
        csrf: "x".repeat(43),
        expires,
    };

    // The attack of the old design: an actor of one's choice, encrypted with the cookie key.
    let mut forged = Browser::default();
    let value = serde_json::to_string(&session("iemand-anders", now + 3600)).unwrap();
    let (name, v) = stack
        .mint(SESSION_COOKIE, value)
        .split_once('=')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap();
    forged.cookies.insert(name, v);
    assert!(
        !forged.signed_in(&stack).await,
        "a minted actor is no session"
    );

    // A random id under the right key is no session either.
    let mut guessed = Browser::default();
    let minted = stack.mint(SESSION_COOKIE, "A".repeat(43));
    let (name, v) = minted.split_once('=').unwrap();
    guessed.cookies.insert(name.into(), v.into());
    assert!(!guessed.signed_in(&stack).await);

    // A stored session works through its cookie (the positive control) ...
    let store = SessionStore::new(stack.pool.clone());
    let id = store
        .create(&session("iemand", now + 3600), None)
        .await
        .unwrap();
    let mut holder = Browser::default();
    let minted = stack.mint(SESSION_COOKIE, id.clone());
    let (name, v) = minted.split_once('=').unwrap();
    holder.cookies.insert(name.into(), v.into());
    assert!(holder.signed_in(&stack).await, "a stored session works");
    // ... and stops working at its expiry on the server, whatever the cookie holds.
    sqlx::query("UPDATE web_sessions SET expires_at = now() - interval '1 second'")
        .execute(&stack.pool)
        .await
        .unwrap();
    assert!(!holder.signed_in(&stack).await, "expired on the server");
    assert!(store.get(&id).await.is_none());
    // An expired session is not stored for long: the next login removes it.
    let _ = store
        .create(&session("iemand-anders", now + 60), None)
        .await
        .unwrap();
    assert_eq!(stack.sessions().await, 1);
    // The table never holds the cookie's id itself.
    let hashes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT id_hash FROM web_sessions")
        .fetch_all(&stack.pool)
        .await
        .unwrap();
    assert!(hashes.iter().all(|h| h.len() == 32 && h != id.as_bytes()));
}

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn outside_development_the_committed_session_key_and_the_dev_issuer_are_refused() {
    let fresh = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    };
    for env in ["production", "prod", "acceptatie", "acceptance", "staging"] {
        // The development issuer (no KANSRIJK_OIDC_ISSUER) is refused ...
        let err = WebConfig::from_lookup(lookup(&[
            ("KANSRIJK_ENV", env),
            ("KANSRIJK_PUBLIC_URL", "https://kansrijk.gemeente.example"),
            ("KANSRIJK_WEB_SESSION_KEY", &fresh),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("development issuer"),
            "{env}: {err}"
        );
        // ... and so is the committed key, in any spelling.
        for key in [
            COMMITTED_KEY,
            "o-Oedk1aYApwZQtnblp_cSPPkKS9HtSwGgwnijM-xNBQzAiY5vy5nIb-MfXhOmzU",
        ] {
            let err = WebConfig::from_lookup(lookup(&[
                ("KANSRIJK_ENV", env),
                ("KANSRIJK_PUBLIC_URL", "https://kansrijk.gemeente.example"),
                (
                    "KANSRIJK_OIDC_ISSUER",
                    "https://login.gemeente.example/realms/k",
                ),
                ("KANSRIJK_WEB_SESSION_KEY", key),
            ]))
            .unwrap_err();
            assert!(err.to_string().contains("demo value"), "{env}: {err}");
        }
        let ok = WebConfig::from_lookup(lookup(&[
            ("KANSRIJK_ENV", env),
            ("KANSRIJK_PUBLIC_URL", "https://kansrijk.gemeente.example"),
            (
                "KANSRIJK_OIDC_ISSUER",
                "https://login.gemeente.example/realms/k",
            ),
            ("KANSRIJK_WEB_SESSION_KEY", &fresh),
        ]))
        .unwrap();
        assert!(!ok.dev_issuer);
    }
    // In development the demo key is accepted (docker-compose generates its own now).
    WebConfig::from_lookup(lookup(&[
        ("KANSRIJK_ENV", "development"),
        (
            "KANSRIJK_OIDC_ISSUER",
            "http://keycloak.localhost:8180/realms/kansrijk",
        ),
        ("KANSRIJK_WEB_SESSION_KEY", COMMITTED_KEY),
    ]))
    .unwrap();
    // The key from a file (Docker and Kubernetes secrets).
    let file = std::env::temp_dir().join(format!("kansrijk-web-key-{}", std::process::id()));
    std::fs::write(&file, format!("{COMMITTED_KEY}\n")).unwrap();
    let err = WebConfig::from_lookup(lookup(&[
        ("KANSRIJK_ENV", "prod"),
        ("KANSRIJK_PUBLIC_URL", "https://kansrijk.gemeente.example"),
        (
            "KANSRIJK_OIDC_ISSUER",
            "https://login.gemeente.example/realms/k",
        ),
        ("KANSRIJK_WEB_SESSION_KEY_FILE", file.to_str().unwrap()),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("demo value"), "{err}");
    let _ = std::fs::remove_file(&file);
}

//! Configuration of the web UI.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use kansrijk_runtime::config::{refuse_demo_secret, secret_var, Environment};

/// Where the web UI logs in and how it keeps its session.
#[derive(Clone)]
pub struct WebConfig {
    /// The OIDC issuer (its discovery document is at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// The OIDC client id of the web UI (a public client: PKCE, no secret).
    pub client_id: String,
    /// The public base URL of the web UI (no trailing slash), e.g. `http://127.0.0.1:8080`;
    /// the redirect URI is `<public_url>/inloggen/terug`.
    pub public_url: String,
    /// Secret of the session cookie (at least 32 bytes). The cookie is encrypted and signed
    /// with a key derived from it.
    pub session_secret: Vec<u8>,
    /// Whether the issuer is the development issuer: shows the "ontwikkelomgeving" banner.
    pub dev_issuer: bool,
    /// Bound of one NATS request to a service.
    pub request_timeout: Duration,
    /// Bound of the wait for the views after a command (read-your-writes).
    pub view_wait: Duration,
    /// Mark cookies `Secure` (true behind https).
    pub secure_cookies: bool,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("public_url", &self.public_url)
            .field("dev_issuer", &self.dev_issuer)
            .finish_non_exhaustive()
    }
}

/// The path of the development issuer on the gateway.
pub const DEV_ISSUER_PATH: &str = "/dev-oidc";
/// The default client id.
pub const DEFAULT_CLIENT_ID: &str = "kansrijk-web";

impl WebConfig {
    /// A configuration for the local stack: the gateway's development issuer at
    /// `<public_url>/dev-oidc` and a random session secret (sessions end with the process).
    pub fn for_local(public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_owned();
        let mut secret = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        WebConfig {
            issuer: format!("{public_url}{DEV_ISSUER_PATH}"),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            session_secret: secret,
            dev_issuer: true,
            request_timeout: Duration::from_secs(10),
            view_wait: Duration::from_secs(3),
        }
    }

    /// From the environment: `KANSRIJK_PUBLIC_URL` (default `http://127.0.0.1:8080`),
    /// `KANSRIJK_OIDC_ISSUER` (default: the development issuer under the public URL),
    /// `KANSRIJK_WEB_CLIENT_ID` (default `kansrijk-web`), `KANSRIJK_WEB_SESSION_KEY` or
    /// `KANSRIJK_WEB_SESSION_KEY_FILE` (base64, at least 32 bytes; required unless the
    /// development issuer is used; a committed demo key is refused outside development).
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`WebConfig::from_env`] through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let environment = Environment::from_lookup(&lookup)?;
        let public_url =
            var("KANSRIJK_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:8080".into());
        let mut config = WebConfig::for_local(&public_url);
        if let Some(issuer) = var("KANSRIJK_OIDC_ISSUER") {
            config.dev_issuer = issuer.trim_end_matches('/').ends_with(DEV_ISSUER_PATH);
            config.issuer = issuer.trim_end_matches('/').to_owned();
        }
        if let Some(id) = var("KANSRIJK_WEB_CLIENT_ID") {
            config.client_id = id;
        }
        if environment.is_production() {
            anyhow::ensure!(
                !config.dev_issuer,
                "production needs KANSRIJK_OIDC_ISSUER: the web UI never logs in at the development issuer there"
            );
            anyhow::ensure!(
                config.public_url.starts_with("https://"),
                "production needs an https KANSRIJK_PUBLIC_URL (Secure cookies)"
            );
        }
        match secret_var(&lookup, "KANSRIJK_WEB_SESSION_KEY")? {
            Some(b64) => {
                refuse_demo_secret(environment, "KANSRIJK_WEB_SESSION_KEY", &b64)?;
                let key = STANDARD.decode(b64.trim())?;
                anyhow::ensure!(
                    key.len() >= 32,
                    "KANSRIJK_WEB_SESSION_KEY must hold at least 32 bytes"
                );
                config.session_secret = key;
            }
            None if !config.dev_issuer => {
                anyhow::bail!("KANSRIJK_WEB_SESSION_KEY is required with a real issuer")
            }
            None => {}
        }
        Ok(config)
    }

    /// Where the identity provider sends the browser after its logout (registered with it).
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.public_url)
    }

    /// The redirect URI registered for the web UI.
    pub fn redirect_uri(&self) -> String {
        format!("{}/inloggen/terug", self.public_url)
    }
}

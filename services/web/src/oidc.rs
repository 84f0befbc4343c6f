//! OIDC authorization-code flow with PKCE (S256), state and nonce, as a public client. The ID
//! token is validated against the issuer's JWKS (signature, `iss`, `aud`, `exp`, `nonce`); its
//! claims become the session's actor. Logout is RP-initiated at the provider too
//! (`end_session_endpoint` with `id_token_hint` and `post_logout_redirect_uri`), so that the next
//! user of a shared computer is not signed in silently by the provider's own session.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kansrijk_proto::actor::OrganisationType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::config::WebConfig;

/// The parts of the discovery document the web UI uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// A login in progress, kept in the private login cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// The S256 PKCE challenge of a verifier (RFC 7636).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Claims of the ID token that make the actor.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub nonce: Option<String>,
    pub organisation: String,
    pub organisation_type: String,
    pub role: String,
    pub municipality: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Why a login failed (never shown in detail to the user).
#[derive(Debug)]
pub enum LoginError {
    Unreachable(String),
    Token(String),
    Claims(&'static str),
}

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginError::Unreachable(e) => write!(f, "issuer unreachable: {e}"),
            LoginError::Token(e) => write!(f, "token refused: {e}"),
            LoginError::Claims(e) => write!(f, "claims: {e}"),
        }
    }
}

impl std::error::Error for LoginError {}

struct Cached {
    discovery: Discovery,
    keys: JwkSet,
    fetched: Instant,
}

/// The client of one issuer; discovery and keys cached for five minutes.
pub struct OidcClient {
    config: WebConfig,
    http: reqwest::Client,
    cache: RwLock<Option<Cached>>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: String,
}

impl OidcClient {
    pub fn new(config: WebConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        OidcClient {
            config,
            http,
            cache: RwLock::new(None),
        }
    }

    async fn fetch(&self) -> Result<Cached, LoginError> {
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let err = |e: reqwest::Error| LoginError::Unreachable(e.to_string());
        let discovery: Discovery = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?
            .json()
            .await
            .map_err(err)?;
        if discovery.issuer.trim_end_matches('/') != self.config.issuer {
            return Err(LoginError::Claims("discovery names another issuer"));
        }
        let keys: JwkSet = self
            .http
            .get(&discovery.jwks_uri)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?
            .json()
            .await
            .map_err(err)?;
        Ok(Cached {
            discovery,
            keys,
            fetched: Instant::now(),
        })
    }

    async fn discovery(&self, force: bool) -> Result<(Discovery, JwkSet), LoginError> {
        if !force {
            if let Some(c) = self.cache.read().await.as_ref() {
                if c.fetched.elapsed() < Duration::from_secs(300) {
                    return Ok((c.discovery.clone(), c.keys.clone()));
                }
            }
        }
        let fresh = self.fetch().await?;
        let out = (fresh.discovery.clone(), fresh.keys.clone());
        *self.cache.write().await = Some(fresh);
        Ok(out)
    }

    /// The URL to send the browser to, and the login to remember.
    pub async fn start(&self) -> Result<(String, PendingLogin), LoginError> {
        let (d, _) = self.discovery(false).await?;
        let pending = PendingLogin {
            state: crate::session::random_token(),
            nonce: crate::session::random_token(),
            verifier: crate::session::random_token(),
        };
        let url = format!(
            "{}?response_type=code&client_id={}&redirect_uri={}&scope=openid&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            d.authorization_endpoint,
            url_encode(&self.config.client_id),
            url_encode(&self.config.redirect_uri()),
            url_encode(&pending.state),
            url_encode(&pending.nonce),
            pkce_challenge(&pending.verifier),
        );
        Ok((url, pending))
    }

    /// Where to send the browser to end the provider's session after the local one ended:
    /// `end_session_endpoint?client_id=..&post_logout_redirect_uri=<public_url>/[&id_token_hint=..]`,
    /// or `None` when the provider has no such endpoint (or is unreachable).
    pub async fn logout_url(&self, id_token: Option<&str>) -> Option<String> {
        let (d, _) = self
            .discovery(false)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "provider logout skipped"))
            .ok()?;
        let endpoint = d.end_session_endpoint?;
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        let mut url = format!(
            "{endpoint}{sep}client_id={}&post_logout_redirect_uri={}",
            url_encode(&self.config.client_id),
            url_encode(&self.config.post_logout_redirect_uri()),
        );
        if let Some(t) = id_token {
            url.push_str("&id_token_hint=");
            url.push_str(&url_encode(t));
        }
        Some(url)
    }

    /// Exchanges the code and validates the ID token: its claims, and the ID token itself (the
    /// hint of the logout at the provider).
    pub async fn finish(
        &self,
        code: &str,
        pending: &PendingLogin,
    ) -> Result<(IdClaims, String), LoginError> {
        let (d, _) = self.discovery(false).await?;
        let redirect_uri = self.config.redirect_uri();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", self.config.client_id.as_str()),
            ("code_verifier", pending.verifier.as_str()),
        ];
        let resp = self
            .http
            .post(&d.token_endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| LoginError::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(LoginError::Token(format!("status {}", resp.status())));
        }
        let token: TokenResponse = resp
            .json()
            .await
            .map_err(|e| LoginError::Token(e.to_string()))?;
        let claims = self.validate(&token.id_token).await?;
        if claims.nonce.as_deref() != Some(pending.nonce.as_str()) {
            return Err(LoginError::Claims("nonce"));
        }
        if claims.role == "dienst" {
            return Err(LoginError::Claims("service role"));
        }
        if OrganisationType::parse(&claims.organisation_type).is_none() {
            return Err(LoginError::Claims("organisation type"));
        }
        Ok((claims, token.id_token))
    }

    async fn validate(&self, token: &str) -> Result<IdClaims, LoginError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| LoginError::Token(e.to_string()))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::ES256
                | Algorithm::PS256
        ) {
            return Err(LoginError::Token("algorithm".into()));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let (mut d, mut keys) = self.discovery(false).await?;
        if keys.find(&kid).is_none() {
            (d, keys) = self.discovery(true).await?;
        }
        let jwk = keys
            .find(&kid)
            .ok_or_else(|| LoginError::Token("unknown key".into()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| LoginError::Token(e.to_string()))?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[d.issuer.as_str()]);
        v.set_audience(&[self.config.client_id.as_str()]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 30;
        jsonwebtoken::decode::<IdClaims>(token, &key, &v)
            .map(|t| t.claims)
            .map_err(|e| LoginError::Token(format!("{:?}", e.kind())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn url_encoding_escapes_reserved_characters() {
        assert_eq!(url_encode("http://a/b?c=d"), "http%3A%2F%2Fa%2Fb%3Fc%3Dd");
    }
}

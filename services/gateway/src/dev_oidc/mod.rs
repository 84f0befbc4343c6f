//! The development OIDC issuer, served by the gateway itself under `/dev-oidc` when (and only
//! when) the configuration enables it: discovery, JWKS, an authorization endpoint with a persona
//! chooser (authorization code flow with PKCE, for the web UI) and a token endpoint.
//!
//! Its signing keys are committed development keys, so that `kansrijk dev-token` in another
//! process signs tokens the running gateway accepts. That is safe only because nothing outside
//! development trusts this issuer: a production configuration refuses to start with it
//! ([`crate::Config::validate`]).

pub mod personas;

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kansrijk_proto::problem::Problem;
use maud::{html, Markup, DOCTYPE};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::Claims;
use crate::problem::ApiProblem;
pub use personas::{persona, pseudonym, Persona, PERSONAS};

const KEY_1: &str = include_str!("dev-key-1.pem");
const KEY_2: &str = include_str!("dev-key-2.pem");
/// Key id of the development key published from the start.
pub const KEY_ID_1: &str = "kansrijk-dev-1";
/// Key id of the second development key, published by [`DevIssuer::rotate`].
pub const KEY_ID_2: &str = "kansrijk-dev-2";

/// How long development access tokens live.
pub const TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// A signing key with its public JWK.
pub struct DevKey {
    pub kid: &'static str,
    encoding: EncodingKey,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for DevKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl DevKey {
    fn from_pem(kid: &'static str, pem: &str) -> anyhow::Result<Self> {
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem)?;
        let public = private.to_public_key();
        let jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        });
        Ok(DevKey {
            kid,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes())?,
            jwk,
        })
    }

    fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.to_owned());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The claims of a persona's access token.
pub fn persona_claims(p: &Persona, issuer: &str, audience: &str, ttl: Duration) -> Claims {
    let now = now_secs();
    Claims {
        iss: issuer.to_owned(),
        sub: pseudonym(p.id),
        aud: audience.to_owned(),
        exp: now + ttl.as_secs(),
        nbf: Some(now),
        iat: Some(now),
        organisation: p.organisation.to_owned(),
        organisation_type: p.organisation_type.as_str().to_owned(),
        role: p.role.to_owned(),
        municipality: p.municipality.to_owned(),
        purpose: None,
        name: Some(p.display_name.to_owned()),
    }
}

/// A development access token for `persona`, signed with the published development key, for
/// the issuer `issuer` (e.g. `http://127.0.0.1:8080/dev-oidc`). Refused in production.
pub fn dev_token(persona_id: &str, issuer: &str) -> anyhow::Result<String> {
    if std::env::var("KANSRIJK_ENV").is_ok_and(|v| {
        matches!(
            crate::config::Environment::parse(&v),
            Ok(crate::config::Environment::Production)
        )
    }) {
        anyhow::bail!("development tokens are not available when KANSRIJK_ENV=production");
    }
    let p = persona(persona_id).ok_or_else(|| {
        let names: Vec<&str> = PERSONAS.iter().map(|p| p.id).collect();
        anyhow::anyhow!(
            "unknown persona {persona_id:?}; choose one of: {}",
            names.join(", ")
        )
    })?;
    let key = DevKey::from_pem(KEY_ID_1, KEY_1)?;
    key.sign(&persona_claims(
        p,
        issuer,
        crate::config::DEFAULT_AUDIENCE,
        TOKEN_TTL,
    ))
}

/// The development issuer of the local environment, from `KANSRIJK_PUBLIC_URL` or
/// `KANSRIJK_HTTP_ADDR` (default `http://127.0.0.1:8080/dev-oidc`).
pub fn dev_issuer_from_env() -> String {
    let public = std::env::var("KANSRIJK_PUBLIC_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| {
            let addr = std::env::var("KANSRIJK_HTTP_ADDR")
                .ok()
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| {
                    crate::config::DEFAULT_HTTP_ADDR
                        .parse()
                        .expect("valid default address")
                });
            crate::config::default_public_url(addr)
        });
    format!("{public}{}", crate::config::DEV_ISSUER_PATH)
}

struct PendingCode {
    persona: &'static str,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    created: Instant,
}

/// The development issuer.
pub struct DevIssuer {
    issuer: String,
    audience: String,
    published: RwLock<Vec<DevKey>>,
    active: RwLock<&'static str>,
    codes: Mutex<HashMap<String, PendingCode>>,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    pub fn new(issuer: String, audience: String) -> anyhow::Result<Self> {
        Ok(DevIssuer {
            issuer,
            audience,
            published: RwLock::new(vec![DevKey::from_pem(KEY_ID_1, KEY_1)?]),
            active: RwLock::new(KEY_ID_1),
            codes: Mutex::new(HashMap::new()),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Key rotation: publishes the second key and signs with it from now on (the first stays
    /// published, as in a real rotation).
    pub fn rotate(&self) -> anyhow::Result<()> {
        let mut keys = self.published.write().unwrap_or_else(|e| e.into_inner());
        if !keys.iter().any(|k| k.kid == KEY_ID_2) {
            keys.push(DevKey::from_pem(KEY_ID_2, KEY_2)?);
        }
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = KEY_ID_2;
        Ok(())
    }

    /// The published JWKS.
    pub fn jwks(&self) -> serde_json::Value {
        let keys = self.published.read().unwrap_or_else(|e| e.into_inner());
        json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }

    /// Signs any claims with the active key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let active = *self.active.read().unwrap_or_else(|e| e.into_inner());
        let keys = self.published.read().unwrap_or_else(|e| e.into_inner());
        let key = keys
            .iter()
            .find(|k| k.kid == active)
            .ok_or_else(|| anyhow::anyhow!("active key not published"))?;
        key.sign(claims)
    }

    /// Signs with the second development key even when it is not published (tests of an
    /// unknown key id).
    pub fn sign_with_unpublished_key<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        DevKey::from_pem(KEY_ID_2, KEY_2)?.sign(claims)
    }

    /// The claims of a persona's access token from this issuer.
    pub fn claims(&self, p: &Persona) -> Claims {
        persona_claims(p, &self.issuer, &self.audience, TOKEN_TTL)
    }

    /// An access token for a persona.
    pub fn token(&self, persona_id: &str) -> anyhow::Result<String> {
        let p = persona(persona_id).ok_or_else(|| anyhow::anyhow!("unknown persona"))?;
        self.sign(&self.claims(p))
    }

    fn discovery(&self) -> serde_json::Value {
        let base = &self.issuer;
        json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/jwks"),
            "end_session_endpoint": format!("{base}/logout"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", PERSONA_GRANT],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid"],
            "claims_supported": ["sub", "organisation", "organisation_type", "role", "municipality", "name"],
        })
    }
}

/// A grant of the development issuer for scripts: `grant_type=<this>&persona=<id>`.
pub const PERSONA_GRANT: &str = "urn:kansrijk:dev:persona";

type Shared = std::sync::Arc<DevIssuer>;

/// The routes, to nest under `/dev-oidc`.
pub fn router(issuer: Shared) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(i): State<Shared>| async move { Json(i.discovery()) }),
        )
        .route(
            "/jwks",
            get(|State(i): State<Shared>| async move { Json(i.jwks()) }),
        )
        .route("/authorize", get(authorize_page).post(authorize_submit))
        .route("/token", axum::routing::post(token))
        .route("/personas", get(persona_list))
        .route("/logout", get(logout))
        .with_state(issuer)
}

#[derive(Debug, Deserialize)]
struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    scope: Option<String>,
    persona: Option<String>,
}

fn bad(detail: &str) -> ApiProblem {
    ApiProblem(Problem::bad_request("ongeldig-autorisatieverzoek", detail))
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin(url: &str) -> Option<&str> {
    let rest_at = url.find("://")? + 3;
    let end = url[rest_at..]
        .find(['/', '?', '#'])
        .map(|i| rest_at + i)
        .unwrap_or(url.len());
    Some(&url[..end])
}

/// Redirect targets on loopback or on the gateway's own origin only: the development issuer is
/// not an open redirector.
fn allowed_redirect_for(issuer: &str, uri: &str) -> bool {
    if let (Some(own), Some(target)) = (origin(issuer), origin(uri)) {
        if own.eq_ignore_ascii_case(target) {
            return true;
        }
    }
    allowed_redirect(uri)
}

/// Only loopback redirect targets.
fn allowed_redirect(uri: &str) -> bool {
    let Some(rest) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

fn check_authorize(issuer: &str, p: &AuthorizeParams) -> Result<(), ApiProblem> {
    if p.response_type.as_deref() != Some("code") {
        return Err(bad("Alleen response_type=code wordt ondersteund."));
    }
    if p.client_id.as_deref().unwrap_or("").is_empty() {
        return Err(bad("client_id ontbreekt."));
    }
    if !p
        .redirect_uri
        .as_deref()
        .is_some_and(|u| allowed_redirect_for(issuer, u))
    {
        return Err(bad("redirect_uri ontbreekt of is geen lokaal adres."));
    }
    if p.code_challenge_method.as_deref() != Some("S256")
        || p.code_challenge.as_deref().unwrap_or("").len() < 43
    {
        return Err(bad(
            "PKCE is verplicht: code_challenge met code_challenge_method=S256.",
        ));
    }
    Ok(())
}

fn page(title: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - Kansrijk" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                div class="banner" role="status" { "Ontwikkelomgeving: gebruik geen echte gegevens." }
                main { (body) }
            }
        }
    }
}

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fafafa}\
.banner{background:#ffbf47;color:#000;padding:.5rem 1rem;font-weight:600}\
main{max-width:44rem;margin:2rem auto;padding:0 1rem}\
ul{list-style:none;padding:0}li{margin:.5rem 0}\
button{width:100%;text-align:left;padding:.75rem 1rem;font-size:1rem;border:2px solid #154273;\
background:#fff;border-radius:4px;cursor:pointer}button:hover,button:focus{background:#e6eef7;\
outline:3px solid #154273}.org{display:block;font-size:.9rem;color:#444}";

async fn authorize_page(
    State(issuer): State<Shared>,
    Query(p): Query<AuthorizeParams>,
) -> Result<Response, ApiProblem> {
    check_authorize(issuer.issuer(), &p)?;
    let hidden = |name: &str, value: &Option<String>| {
        html! { input type="hidden" name=(name) value=(value.clone().unwrap_or_default()); }
    };
    let markup = page(
        "Kies een persona",
        &html! {
            h1 { "Inloggen als demogebruiker" }
            p { "Kies met wie u de ontwikkelomgeving wilt gebruiken." }
            form method="post" action="authorize" {
                (hidden("response_type", &p.response_type))
                (hidden("client_id", &p.client_id))
                (hidden("redirect_uri", &p.redirect_uri))
                (hidden("state", &p.state))
                (hidden("code_challenge", &p.code_challenge))
                (hidden("code_challenge_method", &p.code_challenge_method))
                (hidden("nonce", &p.nonce))
                (hidden("scope", &p.scope))
                ul {
                    @for persona in PERSONAS {
                        li {
                            button type="submit" name="persona" value=(persona.id) {
                                (persona.display_name)
                                span class="org" { (persona.organisation_name) }
                            }
                        }
                    }
                }
            }
        },
    );
    let mut resp = markup.into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    Ok(resp)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn authorize_submit(
    State(issuer): State<Shared>,
    Form(p): Form<AuthorizeParams>,
) -> Result<Redirect, ApiProblem> {
    check_authorize(issuer.issuer(), &p)?;
    let persona = p
        .persona
        .as_deref()
        .and_then(persona)
        .ok_or_else(|| bad("Kies een bestaande persona."))?;
    let code = random_token();
    let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
    {
        let mut codes = issuer.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, c| c.created.elapsed() < Duration::from_secs(600));
        codes.insert(
            code.clone(),
            PendingCode {
                persona: persona.id,
                client_id: p.client_id.clone().unwrap_or_default(),
                redirect_uri: redirect_uri.clone(),
                code_challenge: p.code_challenge.clone().unwrap_or_default(),
                nonce: p.nonce.clone(),
                created: Instant::now(),
            },
        );
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut target = format!("{redirect_uri}{sep}code={code}");
    if let Some(state) = &p.state {
        target.push_str("&state=");
        target.push_str(&url_encode(state));
    }
    Ok(Redirect::to(&target))
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

#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    persona: Option<String>,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The S256 PKCE challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn token(State(issuer): State<Shared>, Form(req): Form<TokenRequest>) -> Response {
    let (persona, id_token_aud, nonce) = match req.grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = req.code.as_deref() else {
                return oauth_error("invalid_request", "code ontbreekt");
            };
            let pending = issuer
                .codes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(code);
            let Some(pending) = pending else {
                return oauth_error("invalid_grant", "onbekende of gebruikte code");
            };
            if pending.created.elapsed() > Duration::from_secs(600)
                || req.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str())
                || req.client_id.as_deref() != Some(pending.client_id.as_str())
            {
                return oauth_error("invalid_grant", "code past niet bij dit verzoek");
            }
            let verifier = req.code_verifier.as_deref().unwrap_or("");
            if verifier.len() < 43 || pkce_challenge(verifier) != pending.code_challenge {
                return oauth_error("invalid_grant", "PKCE-controle mislukt");
            }
            (persona(pending.persona), pending.client_id, pending.nonce)
        }
        PERSONA_GRANT => (
            req.persona.as_deref().and_then(persona),
            req.client_id
                .clone()
                .unwrap_or_else(|| "kansrijk-cli".into()),
            None,
        ),
        _ => return oauth_error("unsupported_grant_type", "niet ondersteund"),
    };
    let Some(persona) = persona else {
        return oauth_error("invalid_grant", "onbekende persona");
    };
    let claims = issuer.claims(persona);
    let Ok(access_token) = issuer.sign(&claims) else {
        return crate::problem::problem_response(&Problem::internal());
    };
    let mut id_claims = serde_json::to_value(&claims).unwrap_or_default();
    id_claims["aud"] = json!(id_token_aud);
    if let Some(n) = nonce {
        id_claims["nonce"] = json!(n);
    }
    let Ok(id_token) = issuer.sign(&id_claims) else {
        return crate::problem::problem_response(&Problem::internal());
    };
    Json(json!({
        "access_token": access_token,
        "id_token": id_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL.as_secs(),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct LogoutParams {
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

/// RP-initiated logout: the development issuer keeps no session of its own, so it only sends the
/// user back (to a loopback or own address) or shows that they are logged out.
async fn logout(
    State(issuer): State<Shared>,
    Query(p): Query<LogoutParams>,
) -> Result<Response, ApiProblem> {
    match p.post_logout_redirect_uri {
        Some(uri) if allowed_redirect_for(issuer.issuer(), &uri) => {
            let mut target = uri;
            if let Some(state) = &p.state {
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str("state=");
                target.push_str(&url_encode(state));
            }
            Ok(Redirect::to(&target).into_response())
        }
        Some(_) => Err(bad("post_logout_redirect_uri is geen lokaal adres.")),
        None => {
            let mut resp = page(
                "Uitgelogd",
                &html! {
                    h1 { "U bent uitgelogd" }
                    p { "U kunt dit venster sluiten." }
                },
            )
            .into_response();
            resp.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                ),
            );
            Ok(resp)
        }
    }
}

async fn persona_list() -> Json<serde_json::Value> {
    Json(json!(PERSONAS
        .iter()
        .map(|p| json!({
            "id": p.id,
            "naam": p.display_name,
            "organisatie": p.organisation,
            "organisatieNaam": p.organisation_name,
            "organisatieType": p.organisation_type.as_str(),
            "rol": p.role,
            "gemeente": p.municipality,
        }))
        .collect::<Vec<_>>()))
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
    fn only_loopback_redirects() {
        assert!(allowed_redirect("http://127.0.0.1:8080/auth/callback"));
        assert!(allowed_redirect("http://localhost/cb?x=1"));
        assert!(!allowed_redirect("https://evil.example/cb"));
        assert!(!allowed_redirect("http://127.0.0.1.evil.example/cb"));
        assert!(!allowed_redirect("javascript:alert(1)"));
        let issuer = "https://kansrijk.gemeente.example/dev-oidc";
        assert!(allowed_redirect_for(
            issuer,
            "https://kansrijk.gemeente.example/inloggen/terug"
        ));
        assert!(!allowed_redirect_for(
            issuer,
            "https://kansrijk.gemeente.example.evil/x"
        ));
        assert!(!allowed_redirect_for(
            issuer,
            "https://evil.example/inloggen/terug"
        ));
    }

    #[test]
    fn a_dev_token_names_the_persona_but_not_its_name_as_subject() {
        let t = dev_token("leerkracht", "http://127.0.0.1:8080/dev-oidc").unwrap();
        let claims: Claims = jsonwebtoken::dangerous::insecure_decode(&t).unwrap().claims;
        assert_eq!(claims.organisation_type, "basisschool");
        assert_eq!(claims.sub, pseudonym("leerkracht"));
        assert!(dev_token("onbekend", "x").is_err());
    }
}

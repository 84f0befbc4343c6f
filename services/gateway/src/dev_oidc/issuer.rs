//! The development issuer itself (feature `dev-issuer`): its committed signing keys, its
//! endpoints and its browser session. Never in a release build.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kansrijk_proto::problem::Problem;
use maud::{html, Markup, DOCTYPE};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{persona, persona_claims, pkce_challenge, Persona, PERSONAS, PERSONA_GRANT, TOKEN_TTL};
use crate::auth::Claims;
use crate::problem::ApiProblem;

const KEY_1: &str = include_str!("dev-key-1.pem");
const KEY_2: &str = include_str!("dev-key-2.pem");
/// Key id of the development key published from the start.
pub const KEY_ID_1: &str = "kansrijk-dev-1";
/// Key id of the second development key, published by [`DevIssuer::rotate`].
pub const KEY_ID_2: &str = "kansrijk-dev-2";

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

/// A development access token for `persona`, signed with the published development key, for
/// the issuer `issuer` (e.g. `http://127.0.0.1:8080/dev-oidc`). Refused in production.
pub fn dev_token(persona_id: &str, issuer: &str) -> anyhow::Result<String> {
    if !crate::config::Environment::from_env().is_ok_and(|e| e.is_development()) {
        anyhow::bail!(
            "development tokens are available in development and test only (KANSRIJK_ENV)"
        );
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

struct PendingCode {
    persona: &'static str,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    created: Instant,
}

/// The issuer's own browser session: the persona chosen, remembered as a real identity provider
/// remembers its user, so that a second sign-in does not ask again until the end-session
/// endpoint ends it.
struct BrowserSession {
    persona: &'static str,
    created: Instant,
}

/// Name of the development issuer's session cookie (path: the issuer's path).
pub const SESSION_COOKIE: &str = "kansrijk_dev_oidc";

/// The development issuer.
pub struct DevIssuer {
    issuer: String,
    audience: String,
    published: RwLock<Vec<DevKey>>,
    active: RwLock<&'static str>,
    codes: Mutex<HashMap<String, PendingCode>>,
    sessions: Mutex<HashMap<String, BrowserSession>>,
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
            sessions: Mutex::new(HashMap::new()),
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

    /// How many browser sessions are open (tests).
    pub fn open_sessions(&self) -> usize {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.created.elapsed() < TOKEN_TTL);
        sessions.len()
    }

    /// The persona of the browser session in `jar`, when it is open.
    fn session_persona(&self, jar: &CookieJar) -> Option<&'static str> {
        let token = jar.get(SESSION_COOKIE)?.value().to_owned();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.created.elapsed() < TOKEN_TTL);
        sessions.get(&token).map(|s| s.persona)
    }

    /// Opens a browser session for `persona`: the cookie to set.
    fn open_session(&self, persona: &'static str) -> Cookie<'static> {
        let token = random_token();
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                token.clone(),
                BrowserSession {
                    persona,
                    created: Instant::now(),
                },
            );
        self.session_cookie(token)
    }

    /// Ends the browser session in `jar` (if any): the cookie that removes it.
    fn end_session(&self, jar: &CookieJar) -> Cookie<'static> {
        if let Some(c) = jar.get(SESSION_COOKIE) {
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(c.value());
        }
        let mut c = self.session_cookie(String::new());
        c.make_removal();
        c
    }

    fn session_cookie(&self, value: String) -> Cookie<'static> {
        let url = url::Url::parse(&self.issuer).ok();
        let path = url
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".into());
        let mut c = Cookie::new(SESSION_COOKIE, value);
        c.set_path(path);
        c.set_http_only(true);
        c.set_same_site(SameSite::Lax);
        c.set_secure(url.is_some_and(|u| u.scheme() == "https"));
        c
    }

    /// Whether `token` is an ID token of this issuer (signature with a published key, `iss`;
    /// an expired one is still a valid hint).
    fn is_own_token(&self, token: &str) -> bool {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return false;
        };
        let keys = self.published.read().unwrap_or_else(|e| e.into_inner());
        let Some(key) = keys.iter().find(|k| Some(k.kid) == header.kid.as_deref()) else {
            return false;
        };
        let (Some(n), Some(e)) = (key.jwk["n"].as_str(), key.jwk["e"].as_str()) else {
            return false;
        };
        let Ok(decoding) = DecodingKey::from_rsa_components(n, e) else {
            return false;
        };
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[self.issuer.as_str()]);
        v.validate_exp = false;
        v.validate_aud = false;
        v.set_required_spec_claims(&["iss", "sub"]);
        jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &v).is_ok()
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
    /// `login`: ask for the persona even with an open session; `none`: never ask.
    prompt: Option<String>,
}

fn bad(detail: &str) -> ApiProblem {
    ApiProblem(Problem::bad_request("ongeldig-autorisatieverzoek", detail))
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
        .is_some_and(|u| super::allowed_redirect(issuer, u))
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
    jar: CookieJar,
    Query(p): Query<AuthorizeParams>,
) -> Result<Response, ApiProblem> {
    check_authorize(issuer.issuer(), &p)?;
    // An open session signs in again without asking, as a real identity provider does (until
    // its end-session endpoint is called); `prompt=login` asks anyway.
    if p.prompt.as_deref() != Some("login") {
        if let Some(persona) = issuer.session_persona(&jar) {
            return Ok(issue_code(&issuer, persona, &p).into_response());
        }
    }
    if p.prompt.as_deref() == Some("none") {
        let uri = p.redirect_uri.clone().unwrap_or_default();
        let sep = if uri.contains('?') { '&' } else { '?' };
        let mut target = format!("{uri}{sep}error=login_required");
        if let Some(state) = &p.state {
            target.push_str("&state=");
            target.push_str(&url_encode(state));
        }
        return Ok(Redirect::to(&target).into_response());
    }
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
    jar: CookieJar,
    Form(p): Form<AuthorizeParams>,
) -> Result<Response, ApiProblem> {
    check_authorize(issuer.issuer(), &p)?;
    let persona = p
        .persona
        .as_deref()
        .and_then(persona)
        .ok_or_else(|| bad("Kies een bestaande persona."))?;
    // A new choice replaces the session this browser had.
    let _ = issuer.end_session(&jar);
    let jar = jar.add(issuer.open_session(persona.id));
    Ok((jar, issue_code(&issuer, persona.id, &p)).into_response())
}

/// A code for `persona`, and the redirect that brings it to the client.
fn issue_code(issuer: &DevIssuer, persona: &'static str, p: &AuthorizeParams) -> Redirect {
    let code = random_token();
    let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
    {
        let mut codes = issuer.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, c| c.created.elapsed() < Duration::from_secs(600));
        codes.insert(
            code.clone(),
            PendingCode {
                persona,
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
    Redirect::to(&target)
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
    id_token_hint: Option<String>,
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the issuer's browser
/// session (the next sign-in asks for the persona again), then sends the user back to a
/// loopback or own address, or shows that they are logged out. An `id_token_hint` must be one of
/// this issuer's ID tokens.
async fn logout(
    State(issuer): State<Shared>,
    jar: CookieJar,
    Query(p): Query<LogoutParams>,
) -> Result<Response, ApiProblem> {
    if let Some(hint) = p.id_token_hint.as_deref() {
        if !issuer.is_own_token(hint) {
            return Err(bad("id_token_hint is geen ID-token van deze uitgever."));
        }
    }
    if let Some(uri) = &p.post_logout_redirect_uri {
        if !super::allowed_redirect(issuer.issuer(), uri) {
            return Err(bad("post_logout_redirect_uri is geen lokaal adres."));
        }
    }
    let removal = issuer.end_session(&jar);
    let jar = jar.add(removal);
    match p.post_logout_redirect_uri {
        Some(uri) => {
            let mut target = uri;
            if let Some(state) = &p.state {
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str("state=");
                target.push_str(&url_encode(state));
            }
            Ok((jar, Redirect::to(&target)).into_response())
        }
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
            Ok((jar, resp).into_response())
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

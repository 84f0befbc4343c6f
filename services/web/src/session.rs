//! The session: a server-side row (PostgreSQL, the gateway's `web_sessions`) holding the actor
//! from the OIDC login, the CSRF token and the ID token (the logout hint), found through a
//! random id in an encrypted and signed (private), HttpOnly, SameSite=Lax cookie. The cookie
//! carries no actor: knowing the cookie key is not enough to be anyone, and logout and expiry
//! revoke a session everywhere, also in a copy of the cookie. The table keeps the SHA-256 of the
//! id only. Nothing about a child or family is ever in a session.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::WebState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "kansrijk_sessie";
/// Name of the short-lived cookie of a login in progress (state, nonce, PKCE verifier).
pub const LOGIN_COOKIE: &str = "kansrijk_login";
/// Name of the one-shot message cookie (after a POST-redirect-GET).
pub const FLASH_COOKIE: &str = "kansrijk_melding";

/// A logged-in user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Pairwise pseudonym (`sub`).
    pub person: String,
    pub organisation: String,
    pub organisation_type: OrganisationType,
    pub role: String,
    pub municipality: String,
    /// Display name from the token (shown in the header only).
    pub name: String,
    /// CSRF token of every form of this session.
    pub csrf: String,
    /// Unix seconds after which the session is over.
    pub expires: i64,
}

impl Session {
    /// The actor for `action` (a `kansrijk-policy` action): the purpose of use is the action's.
    pub fn actor(&self, action: &str) -> Actor {
        let purpose = kansrijk_policy::rule(action)
            .map(|r| r.purpose)
            .unwrap_or_else(|| default_purpose(self.organisation_type));
        Actor {
            person: self.person.clone(),
            organisation: self.organisation.clone(),
            organisation_type: self.organisation_type,
            role: self.role.clone(),
            municipality: self.municipality.clone(),
            purpose,
        }
    }

    /// Whether the CSRF token of a submitted form is this session's.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        let a = self.csrf.as_bytes();
        let b = submitted.as_bytes();
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The purpose of use of an organisation type.
pub fn default_purpose(t: OrganisationType) -> Purpose {
    match t {
        OrganisationType::Jgz | OrganisationType::Kinderopvang => Purpose::Zorgverlening,
        OrganisationType::Basisschool | OrganisationType::VoortgezetOnderwijs => {
            Purpose::Overdracht
        }
        OrganisationType::Jeugdteam => Purpose::Casusregie,
        OrganisationType::Gemeente => Purpose::Beleidsmonitoring,
        OrganisationType::Privacyfunctionaris => Purpose::Privacytoezicht,
    }
}

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A browser-session cookie: the session's own expiry is kept on the server.
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    c
}

/// Removal of a cookie.
pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::from(name);
    c.set_path("/");
    c
}

impl FromRef<WebState> for Key {
    fn from_ref(state: &WebState) -> Key {
        state.key().clone()
    }
}

/// Rejection of a request without a session: to the login page.
#[derive(Debug)]
pub struct NotLoggedIn;

impl IntoResponse for NotLoggedIn {
    fn into_response(self) -> Response {
        Redirect::to("/inloggen").into_response()
    }
}

impl FromRequestParts<WebState> for Session {
    type Rejection = NotLoggedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let jar = PrivateCookieJar::<Key>::from_request_parts(parts, state)
            .await
            .map_err(|_| NotLoggedIn)?;
        read(state.sessions(), &jar).await.ok_or(NotLoggedIn)
    }
}

/// The session of the cookie in a jar, when it is open on the server and not expired.
pub async fn read(store: &SessionStore, jar: &PrivateCookieJar<Key>) -> Option<Session> {
    let c = jar.get(SESSION_COOKIE)?;
    store.get(c.value()).await
}

/// The server-side sessions: the table `web_sessions` of the gateway's schema (migration
/// 20005), shared by every gateway process.
#[derive(Debug, Clone)]
pub struct SessionStore {
    pool: PgPool,
}

fn id_hash(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

impl SessionStore {
    /// The store on a pool whose `search_path` is the gateway's schema (migrated).
    pub fn new(pool: PgPool) -> Self {
        SessionStore { pool }
    }

    /// Opens a session; returns the random id for the cookie. Removes expired sessions.
    pub async fn create(
        &self,
        session: &Session,
        id_token: Option<&str>,
    ) -> anyhow::Result<String> {
        let id = random_token();
        let expires = chrono::DateTime::from_timestamp(session.expires, 0)
            .ok_or_else(|| anyhow::anyhow!("session expiry out of range"))?;
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= now()")
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id_hash, session, id_token, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash(&id))
        .bind(sqlx::types::Json(session))
        .bind(id_token)
        .bind(expires)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// The open, unexpired session of a cookie id.
    pub async fn get(&self, id: &str) -> Option<Session> {
        let row: (sqlx::types::Json<Session>,) = sqlx::query_as(
            "SELECT session FROM web_sessions WHERE id_hash = $1 AND expires_at > now()",
        )
        .bind(id_hash(id))
        .fetch_optional(&self.pool)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "session lookup failed"))
        .ok()??;
        let s = row.0 .0;
        (s.expires > chrono::Utc::now().timestamp()).then_some(s)
    }

    /// Ends a session (logout): every copy of its cookie stops working. Returns its ID token
    /// (the identity provider's logout hint), when it was open.
    pub async fn end(&self, id: &str) -> anyhow::Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("DELETE FROM web_sessions WHERE id_hash = $1 RETURNING id_token")
                .bind(id_hash(id))
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|r| r.0))
    }
}

/// An optional session (pages that show differently when logged in).
#[derive(Debug)]
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<WebState> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let jar = PrivateCookieJar::<Key>::from_request_parts(parts, state).await;
        Ok(MaybeSession(match jar {
            Ok(j) => read(state.sessions(), &j).await,
            Err(_) => None,
        }))
    }
}

//! The session: an encrypted and signed (private), HttpOnly, SameSite=Lax cookie holding the
//! actor from the OIDC login and the CSRF token. Nothing about a child or family is ever in it.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use serde::{Deserialize, Serialize};

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

/// A browser-session cookie: the session's own expiry is inside the encrypted value.
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
        read(&jar).ok_or(NotLoggedIn)
    }
}

/// The session in a jar, when present and not expired.
pub fn read(jar: &PrivateCookieJar<Key>) -> Option<Session> {
    let c = jar.get(SESSION_COOKIE)?;
    let s: Session = serde_json::from_str(c.value()).ok()?;
    (s.expires > chrono::Utc::now().timestamp()).then_some(s)
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
        Ok(MaybeSession(jar.ok().and_then(|j| read(&j))))
    }
}

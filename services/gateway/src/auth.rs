//! Authentication: OIDC bearer JWTs validated against the issuer's JWKS (found through the
//! discovery document), cached, and fetched again when a token names an unknown key id, so that a
//! key rotation needs no restart. Checks signature, `iss`, `aud`, `exp` and `nbf`; the claims
//! become a [`kansrijk_proto::Actor`].
//!
//! Kansrijk's claims (besides `sub`, the pairwise pseudonym, never a BSN): `organisation` (OIN,
//! KvK, BRIN+vestiging or LRK number), `organisation_type`, `role`, `municipality` (CBS code) and
//! optionally `purpose`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

/// The claims of a Kansrijk access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default)]
    pub nbf: Option<u64>,
    #[serde(default)]
    pub iat: Option<u64>,
    pub organisation: String,
    pub organisation_type: String,
    pub role: String,
    pub municipality: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The purpose of use of an organisation type when a token names none.
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

/// Why a token was refused. Never shown to the client in detail (always a plain 401).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("malformed token header")]
    Header,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("keys unavailable: {0}")]
    Keys(String),
    #[error("invalid token: {0:?}")]
    Invalid(jsonwebtoken::errors::ErrorKind),
    #[error("claims do not describe an actor: {0}")]
    Claims(&'static str),
}

impl AuthError {
    /// A label for metrics (no personal data).
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Header => "header",
            AuthError::Algorithm => "algorithm",
            AuthError::UnknownKey => "unknown-key",
            AuthError::Keys(_) => "keys-unavailable",
            AuthError::Invalid(jsonwebtoken::errors::ErrorKind::ExpiredSignature) => "expired",
            AuthError::Invalid(jsonwebtoken::errors::ErrorKind::ImmatureSignature) => {
                "not-yet-valid"
            }
            AuthError::Invalid(jsonwebtoken::errors::ErrorKind::InvalidAudience) => "audience",
            AuthError::Invalid(jsonwebtoken::errors::ErrorKind::InvalidIssuer) => "issuer",
            AuthError::Invalid(jsonwebtoken::errors::ErrorKind::InvalidSignature) => "signature",
            AuthError::Invalid(_) => "invalid",
            AuthError::Claims(_) => "claims",
        }
    }
}

struct KeyCache {
    keys: HashMap<String, (DecodingKey, Option<Algorithm>)>,
    fetched: Option<Instant>,
}

/// Validates tokens of one issuer.
pub struct Authenticator {
    issuer: String,
    audience: String,
    jwks_uri: Option<String>,
    http: reqwest::Client,
    cache: RwLock<KeyCache>,
    fetch_lock: Mutex<()>,
    refetch_interval: Duration,
    max_age: Duration,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

impl Authenticator {
    pub fn new(
        issuer: String,
        audience: String,
        jwks_uri: Option<String>,
        refetch_interval: Duration,
        max_age: Duration,
    ) -> Self {
        Authenticator {
            issuer,
            audience,
            jwks_uri,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            cache: RwLock::new(KeyCache {
                keys: HashMap::new(),
                fetched: None,
            }),
            fetch_lock: Mutex::new(()),
            refetch_interval,
            max_age,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn jwks_uri(&self) -> Result<String, AuthError> {
        if let Some(u) = &self.jwks_uri {
            return Ok(u.clone());
        }
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let d: Discovery = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AuthError::Keys(format!("discovery: {e}")))?
            .json()
            .await
            .map_err(|e| AuthError::Keys(format!("discovery document: {e}")))?;
        if d.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Err(AuthError::Keys("discovery names another issuer".into()));
        }
        Ok(d.jwks_uri)
    }

    /// Fetches the JWKS now (at most once per refetch interval unless `force`).
    async fn refresh(&self, force: bool) -> Result<(), AuthError> {
        let _guard = self.fetch_lock.lock().await;
        if !force {
            let cache = self.cache.read().await;
            if cache
                .fetched
                .is_some_and(|t| t.elapsed() < self.refetch_interval)
            {
                return Ok(());
            }
        }
        let uri = self.jwks_uri().await?;
        let set: JwkSet = self
            .http
            .get(&uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AuthError::Keys(format!("jwks: {e}")))?
            .json()
            .await
            .map_err(|e| AuthError::Keys(format!("jwks document: {e}")))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                continue;
            };
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok());
            keys.insert(kid, (key, alg));
        }
        tracing::info!(keys = keys.len(), "fetched the issuer's signing keys");
        metrics::counter!("kansrijk_jwks_fetches_total").increment(1);
        let mut cache = self.cache.write().await;
        cache.keys = keys;
        cache.fetched = Some(Instant::now());
        Ok(())
    }

    async fn key(&self, kid: &str) -> Result<(DecodingKey, Option<Algorithm>), AuthError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched.is_some_and(|t| t.elapsed() < self.max_age);
            if fresh {
                if let Some(k) = cache.keys.get(kid) {
                    return Ok(k.clone());
                }
            }
        }
        // Unknown key id (rotation) or stale cache: fetch again, bounded by the refetch interval.
        // When the issuer cannot be reached, a key we already hold still counts.
        let refreshed = self.refresh(false).await;
        let cache = self.cache.read().await;
        match (cache.keys.get(kid), refreshed) {
            (Some(k), _) => Ok(k.clone()),
            (None, Err(e)) => Err(e),
            (None, Ok(())) => Err(AuthError::UnknownKey),
        }
    }

    /// Validates a bearer token and derives the actor.
    pub async fn authenticate(&self, token: &str) -> Result<Actor, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Header)?;
        if !ALLOWED.contains(&header.alg) {
            return Err(AuthError::Algorithm);
        }
        let kid = header.kid.ok_or(AuthError::Header)?;
        let (key, key_alg) = self.key(&kid).await?;
        if key_alg.is_some_and(|a| a != header.alg) {
            return Err(AuthError::Algorithm);
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.into_kind()))?;
        actor_from_claims(data.claims)
    }
}

/// Maps validated claims to an actor.
pub fn actor_from_claims(c: Claims) -> Result<Actor, AuthError> {
    let organisation_type = OrganisationType::parse(&c.organisation_type)
        .ok_or(AuthError::Claims("organisation_type"))?;
    if c.sub.is_empty() || c.sub.len() > 128 {
        return Err(AuthError::Claims("sub"));
    }
    if c.sub.len() == 9 && c.sub.bytes().all(|b| b.is_ascii_digit()) {
        // A nine-digit subject looks like a BSN: never accept it as a pseudonym.
        return Err(AuthError::Claims("sub"));
    }
    if c.organisation.is_empty() || c.organisation.len() > 32 {
        return Err(AuthError::Claims("organisation"));
    }
    if c.municipality.len() != 4 || !c.municipality.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::Claims("municipality"));
    }
    if c.role.is_empty()
        || !c
            .role
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(AuthError::Claims("role"));
    }
    Ok(Actor {
        person: c.sub,
        organisation: c.organisation,
        organisation_type,
        role: c.role,
        municipality: c.municipality,
        purpose: c
            .purpose
            .unwrap_or_else(|| default_purpose(organisation_type)),
    })
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(value: Option<&str>) -> Result<&str, AuthError> {
    let v = value.ok_or(AuthError::Missing)?;
    let (scheme, token) = v.split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "i".into(),
            sub: "p-1a2b".into(),
            aud: "kansrijk".into(),
            exp: 0,
            nbf: None,
            iat: None,
            organisation: "20VF00".into(),
            organisation_type: "basisschool".into(),
            role: "leerkracht".into(),
            municipality: "0546".into(),
            purpose: None,
            name: None,
        }
    }

    #[test]
    fn claims_become_an_actor() {
        let a = actor_from_claims(claims()).unwrap();
        assert_eq!(a.organisation_type, OrganisationType::Basisschool);
        assert_eq!(a.purpose, Purpose::Overdracht);
        assert_eq!(a.municipality, "0546");
    }

    #[test]
    fn bad_claims_are_refused() {
        for change in [
            |c: &mut Claims| c.organisation_type = "bakker".into(),
            |c: &mut Claims| c.sub = "123456782".into(),
            |c: &mut Claims| c.municipality = "546".into(),
            |c: &mut Claims| c.role = "Leerkracht ".into(),
            |c: &mut Claims| c.organisation = String::new(),
        ] {
            let mut c = claims();
            change(&mut c);
            assert!(actor_from_claims(c).is_err());
        }
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(Some("bearer abc")).unwrap(), "abc");
        assert!(bearer(Some("Basic abc")).is_err());
        assert!(bearer(Some("Bearer ")).is_err());
        assert!(bearer(None).is_err());
    }
}

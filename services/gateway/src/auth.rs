//! Authentication: OIDC bearer JWTs validated against the issuer's JWKS (found through the
//! discovery document), cached, and fetched again when a token names an unknown key id, so that a
//! key rotation needs no restart. Checks signature, `iss`, `aud`, `exp` and `nbf`; the claims
//! become a [`kansrijk_proto::Actor`].
//!
//! A verified token is remembered (by the SHA-256 of the token, never the token itself) until its
//! `exp` plus the leeway, as long as the key that signed it is still in the issuer's key set: the
//! signature check (an RSA verification, the gateway's largest cost per request in the
//! benchmark) runs once per token, not once per request. A key withdrawn from the JWKS ends the
//! use of its tokens at the next key fetch (at the latest when the keys reach their maximum age).
//!
//! Kansrijk's claims (besides `sub`, the pairwise pseudonym, never a BSN): `organisation` (OIN,
//! KvK, BRIN+vestiging or LRK number), `organisation_type`, `role`, `municipality` (CBS code) and
//! optionally `purpose`.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

impl KeyCache {
    /// Whether the keys were fetched less than `max_age` ago.
    fn fresh(&self, max_age: Duration) -> bool {
        self.fetched.is_some_and(|t| t.elapsed() < max_age)
    }
}

/// Seconds of clock skew allowed on `exp` and `nbf`.
const LEEWAY: u64 = 30;

/// At most this many verified tokens are remembered; when full, the expired ones go, and if
/// that is not enough, all of them (a flood of distinct valid tokens costs verification, never
/// memory).
const VERIFIED_CAPACITY: usize = 10_000;

/// A token whose signature and claims were checked.
struct Verified {
    actor: Actor,
    kid: String,
    /// `exp` plus the leeway, in seconds since the epoch.
    until: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
    verified: std::sync::Mutex<HashMap<[u8; 32], Verified>>,
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
            verified: std::sync::Mutex::new(HashMap::new()),
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
            if cache.fresh(self.max_age) {
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
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(actor) = self.remembered(&digest).await {
            metrics::counter!("kansrijk_gateway_auth_verified_cache_total", "result" => "hit")
                .increment(1);
            return Ok(actor);
        }
        metrics::counter!("kansrijk_gateway_auth_verified_cache_total", "result" => "miss")
            .increment(1);
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
        validation.leeway = LEEWAY;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.into_kind()))?;
        let until = data.claims.exp.saturating_add(LEEWAY);
        let actor = actor_from_claims(data.claims)?;
        self.remember(
            digest,
            Verified {
                actor: actor.clone(),
                kid,
                until,
            },
        );
        Ok(actor)
    }

    /// The actor of a token verified before, if it has not expired and its key is still held.
    async fn remembered(&self, digest: &[u8; 32]) -> Option<Actor> {
        let (actor, kid) = {
            let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            let entry = verified.get(digest)?;
            if unix_now() > entry.until {
                verified.remove(digest);
                return None;
            }
            (entry.actor.clone(), entry.kid.clone())
        };
        // Keys past their age are fetched again on the full path, as for an unseen token.
        let keys = self.cache.read().await;
        (keys.fresh(self.max_age) && keys.keys.contains_key(&kid)).then_some(actor)
    }

    fn remember(&self, digest: [u8; 32], entry: Verified) {
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= VERIFIED_CAPACITY {
            let now = unix_now();
            verified.retain(|_, v| v.until >= now);
            if verified.len() >= VERIFIED_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(digest, entry);
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
    refuse_service_identity(&c)?;
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

/// A user token never carries a service identity (issue 17 item 6): the role `dienst`, a
/// `dienst:` subject and the all-municipalities code `0000` are the services' own identities
/// ([`kansrijk_runtime::identity`]), which the privacy service serves as key clients. Refused
/// whatever the issuer, so a misconfigured identity provider cannot hand them out either.
fn refuse_service_identity(c: &Claims) -> Result<(), AuthError> {
    use kansrijk_runtime::identity::{ALL_MUNICIPALITIES, SERVICE_PERSON_PREFIX, SERVICE_ROLE};
    if c.role.eq_ignore_ascii_case(SERVICE_ROLE) {
        return Err(AuthError::Claims("role"));
    }
    if c.sub
        .get(..SERVICE_PERSON_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SERVICE_PERSON_PREFIX))
    {
        return Err(AuthError::Claims("sub"));
    }
    if c.municipality == ALL_MUNICIPALITIES {
        return Err(AuthError::Claims("municipality"));
    }
    Ok(())
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
            // A service identity (issue 17 item 6).
            |c: &mut Claims| c.role = "dienst".into(),
            |c: &mut Claims| c.sub = "dienst:vve".into(),
            |c: &mut Claims| c.sub = "Dienst:privacy".into(),
            |c: &mut Claims| c.municipality = "0000".into(),
        ] {
            let mut c = claims();
            change(&mut c);
            assert!(actor_from_claims(c).is_err());
        }
    }

    fn authenticator_holding(kid: &str) -> Authenticator {
        let a = Authenticator::new(
            "https://issuer.example".into(),
            "kansrijk".into(),
            Some("http://127.0.0.1:9/jwks".into()),
            Duration::from_secs(60),
            Duration::from_secs(3600),
        );
        {
            let mut cache = a.cache.try_write().unwrap();
            cache.keys.insert(
                kid.into(),
                (DecodingKey::from_secret(b"unused"), Some(Algorithm::RS256)),
            );
            cache.fetched = Some(Instant::now());
        }
        a
    }

    fn verified(kid: &str, until: u64) -> Verified {
        Verified {
            actor: actor_from_claims(claims()).unwrap(),
            kid: kid.into(),
            until,
        }
    }

    #[tokio::test]
    async fn a_verified_token_is_remembered_until_it_expires() {
        let a = authenticator_holding("k1");
        let (fresh, stale) = ([1u8; 32], [2u8; 32]);
        a.remember(fresh, verified("k1", unix_now() + 60));
        a.remember(stale, verified("k1", unix_now() - 1));
        assert_eq!(
            a.remembered(&fresh).await,
            Some(actor_from_claims(claims()).unwrap())
        );
        assert_eq!(a.remembered(&stale).await, None);
        assert!(
            !a.verified.lock().unwrap().contains_key(&stale),
            "an expired entry is dropped when met"
        );
        assert_eq!(a.remembered(&[3u8; 32]).await, None, "never seen");
    }

    #[tokio::test]
    async fn a_token_of_a_withdrawn_key_is_no_longer_remembered() {
        let a = authenticator_holding("k1");
        a.remember([1u8; 32], verified("k1", unix_now() + 60));
        assert!(a.remembered(&[1u8; 32]).await.is_some());
        // The next key fetch no longer lists k1.
        a.cache.write().await.keys.remove("k1");
        assert_eq!(a.remembered(&[1u8; 32]).await, None);
    }

    #[tokio::test]
    async fn keys_past_their_age_send_a_remembered_token_down_the_full_path() {
        let a = authenticator_holding("k1");
        a.remember([1u8; 32], verified("k1", unix_now() + 60));
        a.cache.write().await.fetched = Instant::now().checked_sub(Duration::from_secs(7200));
        assert_eq!(a.remembered(&[1u8; 32]).await, None);
    }

    #[tokio::test]
    async fn the_memory_of_verified_tokens_is_bounded() {
        let a = authenticator_holding("k1");
        let now = unix_now();
        for i in 0..VERIFIED_CAPACITY as u32 {
            let mut d = [0u8; 32];
            d[..4].copy_from_slice(&i.to_be_bytes());
            // Every other entry has expired.
            a.remember(
                d,
                verified("k1", if i % 2 == 0 { now - 1 } else { now + 60 }),
            );
        }
        assert_eq!(a.verified.lock().unwrap().len(), VERIFIED_CAPACITY);
        a.remember([0xff; 32], verified("k1", now + 60));
        assert_eq!(
            a.verified.lock().unwrap().len(),
            VERIFIED_CAPACITY / 2 + 1,
            "the expired ones made room"
        );
        // Full of live entries: everything goes rather than grow.
        for i in 0..VERIFIED_CAPACITY as u32 {
            let mut d = [0xee; 32];
            d[..4].copy_from_slice(&i.to_be_bytes());
            a.remember(d, verified("k1", now + 60));
        }
        assert!(a.verified.lock().unwrap().len() <= VERIFIED_CAPACITY);
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

//! The development OIDC issuer, served by the gateway itself under `/dev-oidc` when (and only
//! when) the build has the cargo feature `dev-issuer` and the configuration enables it:
//! discovery, JWKS, an authorization endpoint with a persona chooser (authorization code flow with
//! PKCE, for the web UI) that remembers the chosen persona in a browser session of its own, a
//! token endpoint and an end-session endpoint that ends that session.
//!
//! Its signing keys are committed development keys, so that `kansrijk dev-token` in another
//! process signs tokens the running gateway accepts. That is safe only because nothing outside
//! development has them: they are compiled only with the `dev-issuer` feature, which the CLI
//! enables for `kansrijk up` and the tests, and the release image (Dockerfile) does not; and a
//! production configuration refuses to start with it ([`crate::Config::validate`]).
//!
//! Without the feature, the personas (public demo data) remain, [`DevIssuer`] cannot be
//! constructed and [`dev_token`] refuses.

pub mod personas;

#[cfg(feature = "dev-issuer")]
mod issuer;
#[cfg(feature = "dev-issuer")]
pub use issuer::{dev_token, router, DevIssuer, DevKey, KEY_ID_1, KEY_ID_2, SESSION_COOKIE};

#[cfg(not(feature = "dev-issuer"))]
mod absent;
#[cfg(not(feature = "dev-issuer"))]
pub use absent::{dev_token, router, DevIssuer};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::auth::Claims;
pub use personas::{persona, pseudonym, Persona, PERSONAS};

/// How long development access tokens live.
pub const TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// A grant of the development issuer for scripts: `grant_type=<this>&persona=<id>`.
pub const PERSONA_GRANT: &str = "urn:kansrijk:dev:persona";

/// Whether this build contains the development issuer (the cargo feature `dev-issuer`).
pub const BUILT_IN: bool = cfg!(feature = "dev-issuer");

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

/// The S256 PKCE challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `uri` may receive the browser back from the development issuer at `issuer`: parsed
/// strictly (the `url` crate, WHATWG rules), no user info, no fragment, and either the issuer's
/// own origin (scheme, host and port exactly) or a loopback address over http (RFC 8252 7.3, any
/// port). The development issuer is not an open redirector.
pub fn allowed_redirect(issuer: &str, uri: &str) -> bool {
    let Ok(target) = url::Url::parse(uri) else {
        return false;
    };
    if !target.username().is_empty() || target.password().is_some() || target.fragment().is_some() {
        return false;
    }
    // The parser normalises: the text given must not say more than it parsed (no backslashes,
    // tabs or other characters the WHATWG parser silently drops or rewrites).
    if uri.contains(['\\', '\t', '\n', '\r', '@']) {
        return false;
    }
    if let Ok(own) = url::Url::parse(issuer) {
        if target.scheme() == own.scheme()
            && target.host() == own.host()
            && target.port_or_known_default() == own.port_or_known_default()
        {
            return true;
        }
    }
    target.scheme() == "http"
        && match target.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
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
    fn redirects_only_to_the_own_origin_or_loopback_parsed_strictly() {
        let local = "http://127.0.0.1:8080/dev-oidc";
        assert!(allowed_redirect(
            local,
            "http://127.0.0.1:8080/auth/callback"
        ));
        assert!(allowed_redirect(
            local,
            "http://127.0.0.1:9999/auth/callback"
        ));
        assert!(allowed_redirect(local, "http://localhost/cb?x=1"));
        assert!(allowed_redirect(local, "http://[::1]:8080/cb"));
        for evil in [
            "http://localhost:80@evil.example/",
            "http://localhost@evil.example/",
            "http://127.0.0.1:8080@evil.example/inloggen/terug",
            "http://user:pass@127.0.0.1:8080/cb",
            "https://evil.example/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://localhost.evil.example/cb",
            "http://evil.example\\@127.0.0.1/cb",
            "http://127.0.0.1:8080/cb#fragment",
            "https://127.0.0.1/cb",
            "javascript:alert(1)",
            "//evil.example/cb",
            "/relative",
            "",
        ] {
            assert!(!allowed_redirect(local, evil), "{evil}");
        }
        let issuer = "https://kansrijk.gemeente.example/dev-oidc";
        assert!(allowed_redirect(
            issuer,
            "https://kansrijk.gemeente.example/inloggen/terug"
        ));
        assert!(allowed_redirect(
            issuer,
            "https://kansrijk.gemeente.example:443/inloggen/terug"
        ));
        for evil in [
            "https://kansrijk.gemeente.example.evil/x",
            "https://evil.example/inloggen/terug",
            "http://kansrijk.gemeente.example/inloggen/terug",
            "https://kansrijk.gemeente.example:8443/inloggen/terug",
            "https://kansrijk.gemeente.example@evil.example/inloggen/terug",
        ] {
            assert!(!allowed_redirect(issuer, evil), "{evil}");
        }
    }

    #[cfg(feature = "dev-issuer")]
    #[test]
    fn a_dev_token_names_the_persona_but_not_its_name_as_subject() {
        let t = dev_token("leerkracht", "http://127.0.0.1:8080/dev-oidc").unwrap();
        let claims: Claims = jsonwebtoken::dangerous::insecure_decode(&t).unwrap().claims;
        assert_eq!(claims.organisation_type, "basisschool");
        assert_eq!(claims.sub, pseudonym("leerkracht"));
        assert!(dev_token("onbekend", "x").is_err());
    }
}

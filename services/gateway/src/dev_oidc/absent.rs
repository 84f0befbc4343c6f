//! A build without the cargo feature `dev-issuer`: no development issuer, no committed keys.
//! The names exist so that callers compile; nothing here can sign or serve anything.

use axum::Router;

/// The development issuer is not part of this build: this type has no values.
#[derive(Debug)]
pub enum DevIssuer {}

impl DevIssuer {
    /// Always an error: this build has no development issuer.
    pub fn new(_issuer: String, _audience: String) -> anyhow::Result<Self> {
        anyhow::bail!("this build has no development issuer (cargo feature dev-issuer)")
    }

    pub fn issuer(&self) -> &str {
        match *self {}
    }

    /// Never called: there is no value to call it on.
    pub fn token(&self, _persona_id: &str) -> anyhow::Result<String> {
        match *self {}
    }
}

/// No routes. (The signature of the real [`router`], hence by value.)
#[allow(clippy::needless_pass_by_value)]
pub fn router(issuer: std::sync::Arc<DevIssuer>) -> Router {
    match *issuer {}
}

/// Always an error: development tokens need the development issuer's keys.
pub fn dev_token(_persona_id: &str, _issuer: &str) -> anyhow::Result<String> {
    anyhow::bail!(
        "this build has no development issuer: development tokens need a build with the cargo feature dev-issuer (cargo build -p kansrijk-cli)"
    )
}

//! Submitted forms: every pair as sent (checkbox groups repeat a name), the CSRF check and the
//! command id of the submission.

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// The pairs of an `application/x-www-form-urlencoded` body.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The command id of this submission (a fresh one when absent or malformed).
    pub fn command_id(&self) -> Uuid {
        Uuid::parse_str(&self.get("opdrachtId")).unwrap_or_else(|_| Uuid::new_v4())
    }

    pub fn csrf(&self) -> String {
        self.get("csrf")
    }
}

/// An unreadable form body.
#[derive(Debug)]
pub struct BadForm;

impl IntoResponse for BadForm {
    fn into_response(self) -> Response {
        (
            axum::http::StatusCode::BAD_REQUEST,
            "Het formulier kon niet worden gelezen.",
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = BadForm;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|_| BadForm)?;
        Ok(FormData(pairs))
    }
}

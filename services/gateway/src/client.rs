//! A typed client of the `/v1` API, for tests, end-to-end tests, demo data and tools. Errors are
//! the API's own problems.

use std::time::Duration;

use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::Problem;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::forward::{IDEMPOTENCY_KEY_HEADER, VIEWS_CURRENT_HEADER};
use crate::registry::model::{DirectoryPage, DirectorySearch};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API answered with a problem.
    #[error("{} {}: {}", .0.status, .0.title, .0.detail.clone().unwrap_or_default())]
    Problem(Problem),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl ClientError {
    /// The problem, when the API sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Problem(p) => Some(p),
            _ => None,
        }
    }

    /// The HTTP status of a problem.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }
}

/// The answer to a command.
#[derive(Debug, Clone)]
pub struct CommandResponse {
    /// 201 the first time, 200 for a retry with the same key.
    pub status: u16,
    pub accepted: CommandAccepted,
    /// The key the command was recorded under (the caller's, or one the gateway made).
    pub idempotency_key: Uuid,
    /// Whether the views already show the change.
    pub views_current: bool,
    /// The whole body (services may add fields, e.g. the id of what they created).
    pub body: Value,
}

/// A client of one gateway, optionally with a bearer token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client of the gateway at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Self {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            base: base_url.trim_end_matches('/').to_owned(),
            token: None,
        }
    }

    /// The same client with a bearer token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Logs in as a persona at the gateway's development issuer.
    pub async fn dev_login(base_url: &str, persona: &str) -> Result<Self, ClientError> {
        let client = Client::new(base_url);
        let resp = client
            .http
            .post(format!(
                "{}{}/token",
                client.base,
                crate::config::DEV_ISSUER_PATH
            ))
            .form(&[
                ("grant_type", crate::dev_oidc::PERSONA_GRANT),
                ("persona", persona),
            ])
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(ClientError::Decode(format!(
                "the development issuer answered {}",
                resp.status()
            )));
        }
        let tokens: Value = resp.json().await?;
        let token = tokens["access_token"]
            .as_str()
            .ok_or_else(|| ClientError::Decode("no access_token".into()))?;
        Ok(client.with_token(token))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    async fn problem_of(resp: reqwest::Response) -> ClientError {
        let status = resp.status().as_u16();
        match resp.json::<Problem>().await {
            Ok(p) => ClientError::Problem(p),
            Err(_) => ClientError::Decode(format!("status {status} without a problem")),
        }
    }

    /// GET `path_and_query` and decode the answer.
    pub async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, ClientError> {
        let resp = self
            .request(reqwest::Method::GET, path_and_query)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(Self::problem_of(resp).await);
        }
        resp.json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// GET with typed query parameters (a struct serialising to camelCase keys).
    pub async fn query<Q: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        params: &Q,
    ) -> Result<T, ClientError> {
        let pairs: Vec<(String, String)> =
            match serde_json::to_value(params).map_err(|e| ClientError::Decode(e.to_string()))? {
                Value::Object(map) => map
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect(),
                _ => Vec::new(),
            };
        let resp = self
            .request(reqwest::Method::GET, path)
            .query(&pairs)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(Self::problem_of(resp).await);
        }
        resp.json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Sends a command (`POST` unless told otherwise) with an optional idempotency key.
    pub async fn command<B: Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
        idempotency_key: Option<Uuid>,
    ) -> Result<CommandResponse, ClientError> {
        let mut req = self.request(method, path).json(body);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k.to_string());
        }
        let resp = req.send().await?;
        if !resp.status().is_success() {
            return Err(Self::problem_of(resp).await);
        }
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let idempotency_key = header(IDEMPOTENCY_KEY_HEADER)
            .and_then(|k| Uuid::parse_str(&k).ok())
            .ok_or_else(|| ClientError::Decode("no Idempotency-Key in the answer".into()))?;
        let views_current = header(VIEWS_CURRENT_HEADER).as_deref() == Some("true");
        let body: Value = resp
            .json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let accepted =
            CommandAccepted::deserialize(&body).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(CommandResponse {
            status,
            accepted,
            idempotency_key,
            views_current,
            body,
        })
    }

    /// POST a command.
    pub async fn post<B: Serialize>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: Option<Uuid>,
    ) -> Result<CommandResponse, ClientError> {
        self.command(reqwest::Method::POST, path, body, idempotency_key)
            .await
    }

    /// Searches the sociale kaart.
    pub async fn sociale_kaart(
        &self,
        search: &DirectorySearch,
    ) -> Result<DirectoryPage, ClientError> {
        self.query("/v1/sociale-kaart", search).await
    }
}

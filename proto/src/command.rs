//! What a command's reply carries, and the reply shape of every NATS request.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::Problem;

/// The outcome of an accepted command: where its events landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandAccepted {
    /// Pseudonymous id of the stream the command changed (e.g. the child's record).
    pub stream_id: Uuid,
    /// The stream's version after the command.
    pub version: i64,
    /// The global position of the command's last event in its service's store.
    pub position: i64,
    /// `false` when this is the stored result of an earlier try with the same idempotency key.
    pub first_time: bool,
}

/// Every NATS request is answered with either a value or a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reply<T> {
    Ok(T),
    Problem(Problem),
}

impl<T> From<Result<T, Problem>> for Reply<T> {
    fn from(r: Result<T, Problem>) -> Self {
        match r {
            Ok(v) => Reply::Ok(v),
            Err(p) => Reply::Problem(p),
        }
    }
}

impl<T> Reply<T> {
    pub fn into_result(self) -> Result<T, Problem> {
        match self {
            Reply::Ok(v) => Ok(v),
            Reply::Problem(p) => Err(p),
        }
    }
}

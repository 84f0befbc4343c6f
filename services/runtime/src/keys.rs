//! The client side of the privacy service's key API: services fetch a data subject's key over
//! NATS to seal or open personal data, and keep it in memory briefly. A destroyed key answers
//! [`KeyError::Erased`]; nothing about an erased subject can be written or read any more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::Client;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use kansrijk_proto::actor::Actor;
use kansrijk_proto::privacy::SubjectKind;
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::SubjectKey;

/// Request on [`subject::privacy::KEYS_CREATE`]: creates the subject's key, or returns the
/// existing one (idempotent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateKeyRequest {
    pub subject: Uuid,
    pub subject_kind: SubjectKind,
    /// CBS code of the subject's municipality.
    pub municipality: String,
}

/// Request on [`subject::privacy::KEYS_GET`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetKeysRequest {
    pub subjects: Vec<Uuid>,
}

/// The state of one subject's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum KeyMaterial {
    Active {
        subject: Uuid,
        version: u32,
        key: String,
    },
    Erased {
        subject: Uuid,
    },
    Unknown {
        subject: Uuid,
    },
}

/// Reply to both key requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeysReply {
    pub keys: Vec<KeyMaterial>,
}

impl KeyMaterial {
    pub fn active(key: &SubjectKey) -> Self {
        KeyMaterial::Active {
            subject: key.subject,
            version: key.version,
            key: B64.encode(key.expose_bytes()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the subject was erased")]
    Erased,
    #[error("the subject has no key")]
    Unknown,
    #[error("the key service failed: {0:?}")]
    Service(Problem),
    #[error("malformed key material")]
    Malformed,
}

impl KeyError {
    /// The problem a user sees.
    pub fn to_problem(&self) -> Problem {
        match self {
            KeyError::Erased => Problem::gone("De gegevens van deze betrokkene zijn gewist."),
            KeyError::Unknown => Problem::not_found("Onbekende betrokkene."),
            KeyError::Service(p) => p.clone(),
            KeyError::Malformed => Problem::internal(),
        }
    }
}

/// Fetches and caches subject keys.
#[derive(Debug)]
pub struct KeyClient {
    nats: Client,
    /// The service's own identity for the privacy service's checks and log.
    actor: Actor,
    ttl: Duration,
    cache: Mutex<HashMap<Uuid, (SubjectKey, Instant)>>,
}

impl KeyClient {
    pub fn new(nats: Client, actor: Actor, ttl: Duration) -> Self {
        KeyClient {
            nats,
            actor,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, subject: Uuid) -> Option<SubjectKey> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(&subject)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(k, _)| k.clone())
    }

    fn remember(&self, key: &SubjectKey) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key.subject, (key.clone(), Instant::now()));
        }
    }

    /// Drops a cached key (on erasure).
    pub fn forget(&self, subject: Uuid) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&subject);
        }
    }

    /// Creates the key of a new subject (or returns the existing one).
    pub async fn create(
        &self,
        subject_id: Uuid,
        kind: SubjectKind,
        municipality: &str,
    ) -> Result<SubjectKey, KeyError> {
        let req = CreateKeyRequest {
            subject: subject_id,
            subject_kind: kind,
            municipality: municipality.into(),
        };
        let reply: KeysReply = crate::nats::request(
            &self.nats,
            subject::privacy::KEYS_CREATE.into(),
            crate::nats::request_headers(&self.actor, None, None),
            &req,
            Duration::from_secs(5),
        )
        .await
        .map_err(KeyError::Service)?;
        let key = single(reply, subject_id)?;
        self.remember(&key);
        Ok(key)
    }

    /// The key of one subject, always asked of the privacy service: a command (or the read of
    /// one record) must see an erasure at once, not after the cache expires. Lists use
    /// [`KeyClient::get_many`], which may answer from the cache.
    pub async fn get(&self, subject_id: Uuid) -> Result<SubjectKey, KeyError> {
        self.forget(subject_id);
        let mut many = self.get_many(&[subject_id]).await?;
        many.remove(&subject_id).unwrap_or(Err(KeyError::Unknown))
    }

    /// Keys of many subjects in one request (for lists).
    pub async fn get_many(
        &self,
        subjects: &[Uuid],
    ) -> Result<HashMap<Uuid, Result<SubjectKey, KeyError>>, KeyError> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        for s in subjects {
            match self.cached(*s) {
                Some(k) => {
                    out.insert(*s, Ok(k));
                }
                None => missing.push(*s),
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let reply: KeysReply = crate::nats::request(
            &self.nats,
            subject::privacy::KEYS_GET.into(),
            crate::nats::request_headers(&self.actor, None, None),
            &GetKeysRequest { subjects: missing },
            Duration::from_secs(5),
        )
        .await
        .map_err(KeyError::Service)?;
        for m in reply.keys {
            let (s, r) = decode(m);
            if let Ok(k) = &r {
                self.remember(k);
            }
            out.insert(s, r);
        }
        Ok(out)
    }
}

fn decode(m: KeyMaterial) -> (Uuid, Result<SubjectKey, KeyError>) {
    match m {
        KeyMaterial::Active {
            subject,
            version,
            key,
        } => {
            let r = B64
                .decode(key)
                .ok()
                .and_then(|b| SubjectKey::from_bytes(subject, version, &b).ok())
                .ok_or(KeyError::Malformed);
            (subject, r)
        }
        KeyMaterial::Erased { subject } => (subject, Err(KeyError::Erased)),
        KeyMaterial::Unknown { subject } => (subject, Err(KeyError::Unknown)),
    }
}

fn single(reply: KeysReply, subject_id: Uuid) -> Result<SubjectKey, KeyError> {
    reply
        .keys
        .into_iter()
        .map(decode)
        .find(|(s, _)| *s == subject_id)
        .map(|(_, r)| r)
        .unwrap_or(Err(KeyError::Unknown))
}

//! Serving NATS request endpoints (the async-nats service API): each service registers its
//! command or query handlers here. Requests carry the actor, the command id and the trace context
//! in headers; handlers answer with a value or a problem. A malformed request gets a 400 problem,
//! a panicking or failing handler a 500 problem; the endpoint loop itself never stops on bad input.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use async_nats::service::ServiceExt;
use async_nats::Client;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kansrijk_proto::actor::{Actor, TRACEPARENT_HEADER};
use kansrijk_proto::command::Reply;
use kansrijk_proto::problem::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::nats::{actor_from_headers, command_id_from_headers, encode_reply};

/// A decoded request.
#[derive(Debug, Clone)]
pub struct Request {
    pub actor: Actor,
    pub command_id: Option<Uuid>,
    pub traceparent: Option<String>,
    pub body: Bytes,
}

impl Request {
    /// Decodes the JSON body; a body that does not parse is a 400 problem naming no personal data.
    /// Every string is checked first ([`kansrijk_proto::text::check_any`]): what no text may
    /// hold (NUL and other control characters, bidi overrides, zero-width characters) is a 400
    /// with a field error each, whoever sent the request.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        let value = self.value()?;
        let errors = kansrijk_proto::text::check_any(&value);
        if !errors.is_empty() {
            return Err(Problem::invalid(errors));
        }
        Self::decode(value)
    }

    /// Decodes a command body against the JSON Schema of its type, as the gateway does before
    /// forwarding ([`kansrijk_proto::text::check`]): every string single-line unless the schema
    /// marks it multi-line, every array at most its `maxItems`; every error at once.
    pub fn body<T: DeserializeOwned + schemars::JsonSchema + 'static>(&self) -> Result<T, Problem> {
        let value = self.value()?;
        let schema = schema_of::<T>();
        let errors = kansrijk_proto::text::check(&schema, &value);
        if !errors.is_empty() {
            return Err(Problem::invalid(errors));
        }
        Self::decode(value)
    }

    fn value(&self) -> Result<serde_json::Value, Problem> {
        serde_json::from_slice(&self.body).map_err(|e| Self::malformed(&e))
    }

    fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Problem> {
        serde_json::from_value(value).map_err(|e| Self::malformed(&e))
    }

    fn malformed(e: &serde_json::Error) -> Problem {
        Problem::bad_request(
            "ongeldig-bericht",
            if e.line() == 0 {
                "Het bericht heeft niet de verwachte vorm.".to_owned()
            } else {
                format!(
                    "Het bericht heeft niet de verwachte vorm (regel {}, kolom {}).",
                    e.line(),
                    e.column()
                )
            },
        )
    }
}

/// The JSON Schema of `T` (as the gateway's route table generates it), made once per type.
fn schema_of<T: schemars::JsonSchema + 'static>() -> Arc<serde_json::Value> {
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<TypeId, Arc<serde_json::Value>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache
        .lock()
        .ok()
        .and_then(|c| c.get(&TypeId::of::<T>()).cloned())
    {
        return s;
    }
    let schema = Arc::new(
        schemars::generate::SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<T>()
            .to_value(),
    );
    if let Ok(mut c) = cache.lock() {
        c.insert(TypeId::of::<T>(), schema.clone());
    }
    schema
}

/// A handler: takes a request, returns JSON or a problem.
pub type Handler =
    Arc<dyn Fn(Request) -> BoxFuture<'static, Result<serde_json::Value, Problem>> + Send + Sync>;

/// Wraps a typed async handler.
pub fn handler<T, F, Fut>(f: F) -> Handler
where
    T: Serialize + 'static,
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, Problem>> + Send + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |req| {
        let f = f.clone();
        async move {
            let v = f(req).await?;
            serde_json::to_value(v).map_err(|_| Problem::internal())
        }
        .boxed()
    })
}

/// Endpoints by subject.
pub type Endpoints = BTreeMap<String, Handler>;

/// Serves `endpoints` as the NATS service `name` until shutdown; in-flight requests finish.
/// Replicas share the work (the service API's queue group).
pub async fn serve(
    client: Client,
    name: &str,
    endpoints: Endpoints,
    max_in_flight: usize,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let service = client
        .service_builder()
        .description(format!("Kansrijk {name}"))
        .start(name, env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| anyhow::anyhow!("starting NATS service {name}: {e}"))?;
    let limit = Arc::new(Semaphore::new(max_in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    for (subject, handler) in endpoints {
        let endpoint = service
            .endpoint(subject.clone())
            .await
            .map_err(|e| anyhow::anyhow!("endpoint {subject}: {e}"))?;
        let limit = limit.clone();
        let shutdown = shutdown.clone();
        let service_name = name.to_owned();
        tasks.spawn(async move {
            let mut endpoint = endpoint;
            let mut inflight = tokio::task::JoinSet::new();
            loop {
                let req = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    r = endpoint.next() => match r { Some(r) => r, None => break },
                };
                let Ok(permit) = limit.clone().acquire_owned().await else {
                    break;
                };
                let handler = handler.clone();
                let subject = subject.clone();
                let service_name = service_name.clone();
                inflight.spawn(async move {
                    let started = Instant::now();
                    let reply = handle(&handler, &req.message).await;
                    let outcome = match &reply {
                        Reply::Ok(_) => "ok".to_owned(),
                        Reply::Problem(p) => p.status.to_string(),
                    };
                    let _ = req.respond(Ok(encode_reply(&reply))).await;
                    metrics::histogram!("kansrijk_requests_duration_seconds",
                        "service" => service_name, "endpoint" => subject, "outcome" => outcome)
                    .record(started.elapsed().as_secs_f64());
                    drop(permit);
                });
                while inflight.try_join_next().is_some() {}
            }
            // Drain: let what was accepted finish.
            while inflight.join_next().await.is_some() {}
        });
    }
    while tasks.join_next().await.is_some() {}
    let _ = service.stop().await;
    Ok(())
}

async fn handle(handler: &Handler, msg: &async_nats::Message) -> Reply<serde_json::Value> {
    let headers = msg.headers.as_ref();
    let actor = match actor_from_headers(headers) {
        Ok(a) => a,
        Err(p) => return Reply::Problem(p),
    };
    let command_id = match command_id_from_headers(headers) {
        Ok(c) => c,
        Err(p) => return Reply::Problem(p),
    };
    let traceparent = headers
        .and_then(|h| h.get(TRACEPARENT_HEADER))
        .map(|v| v.as_str().to_owned());
    let req = Request {
        actor,
        command_id,
        traceparent,
        body: msg.payload.clone(),
    };
    match std::panic::AssertUnwindSafe(handler(req))
        .catch_unwind()
        .await
    {
        Ok(r) => r.into(),
        Err(_) => {
            tracing::error!("handler panicked");
            Reply::Problem(Problem::internal())
        }
    }
}

/// The reply to a command id seen before, so that a retry answers with the first result before
/// any rule is checked again (a retried registration is not a duplicate).
pub async fn replayed(
    store: &crate::store::EventStore,
    command_id: Option<Uuid>,
) -> Result<Option<kansrijk_proto::command::CommandAccepted>, Problem> {
    let Some(id) = command_id else {
        return Ok(None);
    };
    store
        .command_result(id)
        .await
        .map(|r| r.map(crate::store::Appended::accepted))
        .map_err(|e| {
            tracing::error!(error = %e, "reading a command's first result failed");
            Problem::internal()
        })
}

/// The answer to a command, settled against a try that overtook it: a retry (same command id)
/// that checked for a first result just before its first try committed is then refused by the
/// rules (409: "already exists", "already registered") against the state that first try made;
/// if the command id is stored by now, the first result is the answer, as for any retry. Every
/// command endpoint's result passes through here.
pub async fn settle(
    store: &crate::store::EventStore,
    command_id: Option<Uuid>,
    result: Result<kansrijk_proto::command::CommandAccepted, Problem>,
) -> Result<kansrijk_proto::command::CommandAccepted, Problem> {
    match result {
        Err(p) if p.status == 409 => match replayed(store, command_id).await? {
            Some(first) => Ok(first),
            None => Err(p),
        },
        other => other,
    }
}

/// A command endpoint of a service whose state is `svc`: the handler's result is [`settle`]d
/// against the service's event store.
pub fn command_endpoint<S, F, Fut>(
    svc: &Arc<S>,
    store: fn(&S) -> &crate::store::EventStore,
    f: F,
) -> Handler
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Request) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<kansrijk_proto::command::CommandAccepted, Problem>>
        + Send
        + 'static,
{
    let svc = svc.clone();
    let f = Arc::new(f);
    Arc::new(move |req: Request| {
        let svc = svc.clone();
        let f = f.clone();
        async move {
            let id = req.command_id;
            let result = settle(store(&svc), id, f(svc.clone(), req).await).await?;
            serde_json::to_value(result).map_err(|_| Problem::internal())
        }
        .boxed()
    })
}

/// Appends the events a command decided on, wakes the relay, and answers with where they landed.
/// A stream that moved on meanwhile is a 409 (`versieconflict`), never a lost update.
#[allow(clippy::too_many_arguments)] // one append's every part; a struct would only rename them
pub async fn append_decided<E: kansrijk_proto::event::EventSet>(
    store: &crate::store::EventStore,
    metadata: crate::store::Metadata,
    stream_id: Uuid,
    municipality: &str,
    expected: crate::store::ExpectedVersion,
    events: &[E],
    wake: Option<&tokio::sync::Notify>,
) -> Result<kansrijk_proto::command::CommandAccepted, Problem> {
    append_decided_with(
        store,
        metadata,
        stream_id,
        municipality,
        expected,
        events,
        wake,
        None,
    )
    .await
    .map_err(append_problem)
}

/// [`append_decided`] with the command's own rows (`also`, e.g. an index row) in the append's
/// transaction ([`crate::store::EventStore::append_with`]): one command, one commit. The store's
/// error comes back as it is, for the caller to tell its own constraints apart (a unique index
/// of `also`); [`append_problem`] answers the rest.
#[allow(clippy::too_many_arguments)] // one append's every part; a struct would only rename them
pub async fn append_decided_with<E: kansrijk_proto::event::EventSet>(
    store: &crate::store::EventStore,
    metadata: crate::store::Metadata,
    stream_id: Uuid,
    municipality: &str,
    expected: crate::store::ExpectedVersion,
    events: &[E],
    wake: Option<&tokio::sync::Notify>,
    also: Option<crate::store::InTx>,
) -> Result<kansrijk_proto::command::CommandAccepted, crate::store::StoreError> {
    use crate::store::{Append, NewEvent};
    let new = events
        .iter()
        .map(NewEvent::from_set)
        .collect::<Result<Vec<_>, _>>()?;
    let append = Append {
        stream_id,
        stream_type: E::STREAM_TYPE.into(),
        municipality: municipality.into(),
        expected,
        command_id: metadata.command_id,
        metadata,
        events: new,
    };
    let a = match also {
        Some(also) => store.append_with(append, also).await?,
        None => store.append(append).await?,
    };
    if a.first_time {
        if let Some(w) = wake {
            w.notify_one();
        }
        metrics::counter!("kansrijk_events_appended_total", "stream_type" => E::STREAM_TYPE)
            .increment(events.len() as u64);
    }
    Ok(a.accepted())
}

/// The problem for a failed append: a stream that moved on is a 409 (`versieconflict`), anything
/// else a 500 (logged).
pub fn append_problem(e: crate::store::StoreError) -> Problem {
    match e {
        crate::store::StoreError::Concurrency { .. } => Problem::conflict(
            "versieconflict",
            "Het dossier is intussen gewijzigd. Haal het opnieuw op en probeer het nog eens.",
        ),
        e => {
            tracing::error!(error = %e, "appending events failed");
            Problem::internal()
        }
    }
}

/// An id derived from a command id for one purpose (`what`): the stream a creating command
/// starts, or the command id of a step it asks another service to take. A retry of the command
/// (same id) derives the same id, so a try that crashed half-way and its retry create one
/// subject, one key and one retention period, never two. One-way (SHA-256): the command id
/// cannot be read back from it.
pub fn derived_id(command_id: Uuid, what: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"kansrijk-command\0")
        .chain_update(what.as_bytes())
        .chain_update(b"\0")
        .chain_update(command_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // A version 8 (custom) UUID, RFC 9562 variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

#[cfg(test)]
mod derived_id_tests {
    use super::derived_id;
    use uuid::Uuid;

    #[test]
    fn the_same_command_derives_the_same_id_and_purposes_differ() {
        let c = Uuid::new_v4();
        assert_eq!(derived_id(c, "a"), derived_id(c, "a"));
        assert_ne!(derived_id(c, "a"), derived_id(c, "b"));
        assert_ne!(derived_id(c, "a"), derived_id(Uuid::new_v4(), "a"));
        assert_ne!(derived_id(c, "a"), c);
        assert_eq!(derived_id(c, "a").get_version_num(), 8);
    }
}

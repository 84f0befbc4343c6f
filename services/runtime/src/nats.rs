//! NATS: connecting, the events stream as code, and request/reply with the actor in headers.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::{Client, HeaderMap};
use kansrijk_proto::actor::{Actor, ACTOR_HEADER, COMMAND_ID_HEADER, TRACEPARENT_HEADER};
use kansrijk_proto::command::Reply;
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

/// Connects with unlimited reconnects: a NATS outage delays work, it never ends a service.
/// `url` may list several servers of a cluster, comma-separated.
///
/// Replies come to the user's own inbox prefix ([`inbox_prefix`]: `_INBOX_<user>` for the NATS
/// user in the URL), the only inbox its permissions let it subscribe to: no user can read the
/// replies another user asked for (deploy/kubernetes/nats/values.yaml).
pub async fn connect(url: &str, name: &str) -> Result<Client, async_nats::ConnectError> {
    let (servers, credentials) = servers_and_credentials(url);
    let options = match credentials {
        Some((user, password)) => {
            async_nats::ConnectOptions::with_user_and_password(user, password)
        }
        None => async_nats::ConnectOptions::new(),
    };
    options
        .name(name)
        .custom_inbox_prefix(inbox_prefix(url))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(10)))
        .connect(servers)
        .await
}

/// The servers of `url` without their user info, and the user and password of the first server
/// naming them. async-nats does not take credentials from the addresses it is given once the
/// options are built (every server of a cluster got "authentication error - User \"\"" with the
/// deployment's accounts): they go into the options, once, for every server.
fn servers_and_credentials(url: &str) -> (Vec<String>, Option<(String, String)>) {
    let mut credentials = None;
    let servers = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|server| match url::Url::parse(server) {
            Ok(mut u) if !u.username().is_empty() => {
                if credentials.is_none() {
                    credentials = Some((
                        decode(u.username()),
                        decode(u.password().unwrap_or_default()),
                    ));
                }
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.to_string().trim_end_matches('/').to_owned()
            }
            _ => server.to_owned(),
        })
        .collect();
    (servers, credentials)
}

/// `%XX` escapes of a URL's user info decoded (a password may hold any character).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The inbox prefix of the NATS user in `url` (the user of the first server naming one):
/// `_INBOX_<user>`, or `_INBOX` without a user (a local server without accounts).
/// `request`/`send_request`, JetStream acks and pull consumers all take their reply subjects from
/// it (async-nats `Client::new_inbox`).
pub fn inbox_prefix(url: &str) -> String {
    let user = url.split(',').find_map(|server| {
        let rest = server
            .trim()
            .split_once("://")
            .map_or(server.trim(), |(_, r)| r);
        let (userinfo, _) = rest.split_once('@')?;
        let user = userinfo.split(':').next().unwrap_or_default();
        (!user.is_empty()
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| user.to_owned())
    });
    match user {
        Some(u) => format!("_INBOX_{u}"),
        None => "_INBOX".to_owned(),
    }
}

/// The configuration of the events stream. File storage, kept (it is the replay log), a two-minute
/// duplicate window for `Nats-Msg-Id`.
pub fn events_stream_config(replicas: usize) -> stream::Config {
    stream::Config {
        name: subject::EVENTS_STREAM.into(),
        subjects: vec![subject::EVENTS_WILDCARD.into()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window: Duration::from_secs(120),
        num_replicas: replicas,
        description: Some("Kansrijk domain events (CloudEvents, personal data sealed)".into()),
        ..Default::default()
    }
}

/// Creates the events stream, or checks and updates the existing one. Idempotent.
pub async fn ensure_events_stream(
    js: &jetstream::Context,
    replicas: usize,
) -> anyhow::Result<stream::Stream> {
    let config = events_stream_config(replicas);
    match js.get_stream(subject::EVENTS_STREAM).await {
        Ok(mut s) => {
            let info = s.info().await?;
            let current = &info.config;
            if current.subjects != config.subjects
                || current.duplicate_window != config.duplicate_window
            {
                js.update_stream(&config).await?;
            }
            Ok(s)
        }
        Err(_) => Ok(js.get_or_create_stream(config).await?),
    }
}

/// Headers of a request on behalf of an actor.
pub fn request_headers(
    actor: &Actor,
    command_id: Option<Uuid>,
    traceparent: Option<&str>,
) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        ACTOR_HEADER,
        serde_json::to_string(actor).unwrap_or_default().as_str(),
    );
    if let Some(id) = command_id {
        h.insert(COMMAND_ID_HEADER, id.to_string().as_str());
    }
    if let Some(tp) = traceparent {
        h.insert(TRACEPARENT_HEADER, tp);
    }
    h
}

/// Reads the actor from a request's headers.
pub fn actor_from_headers(headers: Option<&HeaderMap>) -> Result<Actor, Problem> {
    let raw = headers
        .and_then(|h| h.get(ACTOR_HEADER))
        .ok_or_else(Problem::unauthorized)?;
    serde_json::from_str(raw.as_str()).map_err(|_| Problem::unauthorized())
}

/// Reads the command id (idempotency key) from a request's headers.
pub fn command_id_from_headers(headers: Option<&HeaderMap>) -> Result<Option<Uuid>, Problem> {
    match headers.and_then(|h| h.get(COMMAND_ID_HEADER)) {
        None => Ok(None),
        Some(v) => v.as_str().parse().map(Some).map_err(|_| {
            Problem::bad_request("idempotency-key", "De Idempotency-Key is geen UUID.")
        }),
    }
}

/// Sends a request and decodes the reply. No responders is a 503, no answer in time a 504.
pub async fn request<B: Serialize, T: DeserializeOwned>(
    client: &Client,
    subject: String,
    headers: HeaderMap,
    body: &B,
    timeout: Duration,
) -> Result<T, Problem> {
    let payload = serde_json::to_vec(body).map_err(|_| Problem::internal())?;
    let req = async_nats::Request::new()
        .payload(payload.into())
        .headers(headers)
        .timeout(Some(timeout));
    let msg = match client.send_request(subject, req).await {
        Ok(m) => m,
        Err(e) => {
            return Err(match e.kind() {
                async_nats::RequestErrorKind::NoResponders => {
                    Problem::unavailable("De dienst is op dit moment niet bereikbaar.")
                }
                async_nats::RequestErrorKind::TimedOut => {
                    Problem::timeout("De dienst antwoordde niet op tijd.")
                }
                _ => {
                    tracing::warn!(error = %e, "nats request failed");
                    Problem::unavailable("De berichtenverbinding is verbroken.")
                }
            })
        }
    };
    let reply: Reply<T> = serde_json::from_slice(&msg.payload).map_err(|e| {
        tracing::error!(error = %e, "undecodable reply from service");
        Problem::internal()
    })?;
    reply.into_result()
}

/// [`request`] for a command with a command id, retried as a client should: on 503 (the service,
/// or one it needs, is not available) and 504 (no answer in time), with the same headers (so the
/// same command id), up to `attempts` times with a growing pause. Any other answer is final.
pub async fn request_retrying<B: Serialize, T: DeserializeOwned>(
    client: &Client,
    subject: String,
    headers: HeaderMap,
    body: &B,
    timeout: Duration,
    attempts: u32,
) -> Result<T, Problem> {
    let mut pause = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match request(client, subject.clone(), headers.clone(), body, timeout).await {
            Err(p) if (p.status == 503 || p.status == 504) && attempt < attempts => {
                tracing::debug!(status = p.status, attempt, "retrying a request");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(3));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Encodes a reply for `respond`.
pub fn encode_reply<T: Serialize>(reply: &Reply<T>) -> bytes::Bytes {
    serde_json::to_vec(reply)
        .unwrap_or_else(|_| {
            serde_json::to_vec(&Reply::<()>::Problem(Problem::internal())).unwrap_or_default()
        })
        .into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_leave_the_addresses_for_the_options() {
        use super::servers_and_credentials;
        assert_eq!(
            servers_and_credentials(
                "nats://gateway:p%40ss%2Bw@nats-0:4222, nats://gateway:p%40ss%2Bw@nats-1:4222"
            ),
            (
                vec![
                    "nats://nats-0:4222".to_owned(),
                    "nats://nats-1:4222".to_owned()
                ],
                Some(("gateway".to_owned(), "p@ss+w".to_owned()))
            )
        );
        assert_eq!(
            servers_and_credentials("nats://127.0.0.1:4222"),
            (vec!["nats://127.0.0.1:4222".to_owned()], None)
        );
    }

    #[test]
    fn the_inbox_prefix_is_the_users_own() {
        use super::inbox_prefix;
        assert_eq!(
            inbox_prefix("nats://gateway:pw@nats:4222"),
            "_INBOX_gateway"
        );
        assert_eq!(
            inbox_prefix("tls://views:p@ss:w@nats.kansrijk.svc:4222"),
            "_INBOX_views"
        );
        assert_eq!(
            inbox_prefix("nats://127.0.0.1:4222, nats://vve:x@127.0.0.1:4223"),
            "_INBOX_vve"
        );
        assert_eq!(inbox_prefix("nats://127.0.0.1:4222"), "_INBOX");
        // Not a subject token: the default (the server then refuses what the user may not).
        assert_eq!(inbox_prefix("nats://a.b:x@h:1"), "_INBOX");
    }
}

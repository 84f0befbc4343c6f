//! The generic handler of a route: authenticate, authorise, validate (all errors at once),
//! forward as a NATS request with the actor and the trace context in headers, and answer.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kansrijk_proto::actor::Actor;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::subject;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::problem::{problem_response, unparsable_json, unsupported_media_type};
use crate::routes::{Param, ParamType, Route, Target};

/// Response headers of a command.
pub const STREAM_VERSION_HEADER: &str = "kansrijk-stream-version";
pub const STREAM_POSITION_HEADER: &str = "kansrijk-stream-position";
pub const VIEWS_CURRENT_HEADER: &str = "kansrijk-views-current";
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Subject of the views' "wait until you have seen this" query.
pub fn views_wait_subject() -> String {
    subject::query("views.wacht-op")
}

/// Authenticates the request's bearer token.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Actor, Problem> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = crate::auth::bearer(value).map_err(|_| Problem::unauthorized())?;
    state.auth().authenticate(token).await.map_err(|e| {
        tracing::info!(reason = e.reason(), "token refused");
        metrics::counter!("kansrijk_gateway_auth_refused_total", "reason" => e.reason())
            .increment(1);
        match e {
            // The issuer's keys cannot be had: our problem, not the caller's.
            crate::auth::AuthError::Keys(detail) => {
                tracing::warn!(%detail, "the issuer's signing keys are unavailable");
                Problem::unavailable("De inlogdienst is op dit moment niet bereikbaar.")
            }
            _ => Problem::unauthorized(),
        }
    })
}

/// A W3C traceparent: the caller's when valid, else a new one.
pub fn traceparent(headers: &HeaderMap) -> String {
    if let Some(tp) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
        let parts: Vec<&str> = tp.split('-').collect();
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        if parts.len() == 4
            && hex(parts[0], 2)
            && hex(parts[1], 32)
            && hex(parts[2], 16)
            && hex(parts[3], 2)
            && parts[1] != "00000000000000000000000000000000"
        {
            return tp.to_ascii_lowercase();
        }
    }
    let trace = Uuid::new_v4().simple().to_string();
    let span = &Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}

fn convert(p: &Param, name: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<Value> {
    let bad = |errors: &mut Vec<FieldError>, code: &str, reason: &str| {
        errors.push(FieldError::new(name, code, reason));
        None
    };
    match p.ty {
        ParamType::String => {
            if raw.chars().count() > 200 {
                bad(errors, "te-lang", "Hoogstens 200 tekens.")
            } else {
                Some(Value::String(raw.to_owned()))
            }
        }
        ParamType::Integer => match raw.parse::<i64>() {
            Ok(n) => Some(json!(n)),
            Err(_) => bad(errors, "ongeldig-type", "Verwacht: geheel getal."),
        },
        ParamType::Boolean => match raw {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => bad(errors, "ongeldig-type", "Verwacht: true of false."),
        },
        ParamType::Date => match chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(_) => Some(Value::String(raw.to_owned())),
            Err(_) => bad(
                errors,
                "ongeldig-formaat",
                "Verwacht: een datum als JJJJ-MM-DD (RFC 3339).",
            ),
        },
        ParamType::Uuid => match Uuid::parse_str(raw) {
            Ok(u) => Some(Value::String(u.to_string())),
            Err(_) => bad(errors, "ongeldig-formaat", "Verwacht: een UUID."),
        },
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// Builds the request for the service from path, query and body, with every error at once.
fn build_payload(
    route: &Route,
    path: &HashMap<String, String>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Value, Option<Uuid>), Problem> {
    let mut errors = Vec::new();
    let mut payload = Map::new();
    let mut command_id = None;

    if route.method.is_command() {
        if !body.is_empty() || headers.contains_key(header::CONTENT_TYPE) {
            if !is_json(headers) {
                return Err(unsupported_media_type());
            }
            let trimmed = body.iter().all(u8::is_ascii_whitespace);
            if !trimmed {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(m)) => payload = m,
                    Ok(_) => errors.push(FieldError::new(
                        "body",
                        "ongeldig-type",
                        "De inhoud moet een JSON-object zijn.",
                    )),
                    Err(e) => return Err(unparsable_json(&e)),
                }
            }
        }
        match headers.get(IDEMPOTENCY_KEY_HEADER) {
            None => command_id = Some(Uuid::new_v4()),
            Some(v) => match v.to_str().ok().and_then(|s| Uuid::parse_str(s.trim()).ok()) {
                Some(id) => command_id = Some(id),
                None => errors.push(FieldError::new(
                    "Idempotency-Key",
                    "ongeldig-formaat",
                    "De Idempotency-Key moet een UUID zijn.",
                )),
            },
        }
    } else {
        let pairs: Vec<(String, String)> = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|q| q.0)
            .map_err(|_| {
                Problem::bad_request("ongeldige-query", "De queryparameters zijn niet leesbaar.")
            })?;
        let mut seen = Vec::new();
        for (k, v) in &pairs {
            match route.query.iter().find(|p| p.name == k) {
                None => errors.push(FieldError::new(
                    k.chars().take(50).collect::<String>(),
                    "onbekende-parameter",
                    "Deze queryparameter bestaat niet.",
                )),
                Some(_) if seen.contains(k) => errors.push(FieldError::new(
                    k.as_str(),
                    "dubbele-parameter",
                    "Deze queryparameter mag maar een keer voorkomen.",
                )),
                Some(p) => {
                    seen.push(k.clone());
                    if let Some(value) = convert(p, k, v, &mut errors) {
                        payload.insert(k.clone(), value);
                    }
                }
            }
        }
        for p in route.query.iter().filter(|p| p.required) {
            if !seen.iter().any(|s| s == p.name) {
                errors.push(FieldError::new(
                    p.name,
                    "verplicht",
                    "Deze parameter is verplicht.",
                ));
            }
        }
    }

    for name in route.path_param_names() {
        let p = route.path_param(name);
        let raw = path.get(name).map(String::as_str).unwrap_or("");
        if let Some(value) = convert(&p, name, raw, &mut errors) {
            match payload.get(name) {
                Some(existing) if existing != &value => errors.push(FieldError::new(
                    name,
                    "komt-niet-overeen",
                    "Deze waarde verschilt van die in het pad.",
                )),
                _ => {
                    payload.insert(name.to_owned(), value);
                }
            }
        }
    }

    let payload = Value::Object(payload);
    if let Some(schema) = route.body.filter(|_| route.method.is_command()) {
        if errors.iter().all(|e| e.name != "body") {
            // A field already reported (an invalid path parameter) is not reported twice.
            let found = crate::validate::validate(&schema().to_value(), &payload);
            let known: Vec<String> = errors.iter().map(|e| e.name.clone()).collect();
            errors.extend(found.into_iter().filter(|e| !known.contains(&e.name)));
        }
    }
    if errors.is_empty() {
        Ok((payload, command_id))
    } else {
        Err(Problem::invalid(errors))
    }
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Handles one request of `route`.
pub async fn handle(
    state: AppState,
    route: &'static Route,
    path: Result<Path<HashMap<String, String>>, axum::extract::rejection::PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let tp = traceparent(&headers);
    let result = handle_inner(&state, route, path, &uri, &headers, &body, &tp).await;
    let status = match &result {
        Ok(r) => r.status().as_u16(),
        Err(p) => p.status,
    };
    let elapsed = started.elapsed();
    metrics::histogram!("kansrijk_gateway_request_duration_seconds",
        "action" => route.action, "outcome" => status.to_string())
    .record(elapsed.as_secs_f64());
    // The route template and the action, never the concrete path or query (a search term may
    // be a name).
    tracing::info!(
        trace_id = tp.get(3..35).unwrap_or(""),
        method = route.method.as_str(),
        route = route.path,
        action = route.action,
        status,
        ms = elapsed.as_millis() as u64,
        "request"
    );
    match result {
        Ok(r) => r,
        Err(p) => problem_response(&p),
    }
}

async fn handle_inner(
    state: &AppState,
    route: &'static Route,
    path: Result<Path<HashMap<String, String>>, axum::extract::rejection::PathRejection>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    tp: &str,
) -> Result<Response, Problem> {
    let mut actor = authenticate(state, headers).await?;
    let rule = kansrijk_policy::require(&actor, route.action)?;
    // Doelbinding: the purpose of use is the action's.
    actor.purpose = rule.purpose;
    let path = path
        .map(|p| p.0)
        .map_err(|_| Problem::not_found("Deze bron bestaat niet."))?;
    let (payload, command_id) = build_payload(route, &path, uri, headers, body)?;
    let Some(nats) = state.nats() else {
        return Err(Problem::unavailable(
            "De berichtenverbinding is niet beschikbaar.",
        ));
    };
    let nats_headers = kansrijk_runtime::nats::request_headers(&actor, command_id, Some(tp));
    let timeout = state.config().request_timeout;
    let reply: Value = kansrijk_runtime::nats::request(
        nats,
        route.target.subject(),
        nats_headers,
        &payload,
        timeout,
    )
    .await?;

    let mut resp = match route.target {
        Target::Command { .. } => match CommandAccepted::deserialize(&reply) {
            Ok(accepted) => {
                let current = if route.wait_for_views {
                    wait_for_views(state, route, &actor, &accepted, tp).await
                } else {
                    false
                };
                let status = if accepted.first_time {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                // The reply as the service sent it: `CommandAccepted`, plus whatever the
                // service adds (e.g. the id of a resource it created).
                let mut r = (status, axum::Json(&reply)).into_response();
                let h = r.headers_mut();
                h.insert(
                    HeaderName::from_static(STREAM_VERSION_HEADER),
                    header_value(&accepted.version.to_string()),
                );
                h.insert(
                    HeaderName::from_static(STREAM_POSITION_HEADER),
                    header_value(&accepted.position.to_string()),
                );
                h.insert(
                    HeaderName::from_static(VIEWS_CURRENT_HEADER),
                    HeaderValue::from_static(if current { "true" } else { "false" }),
                );
                r
            }
            Err(_) => (StatusCode::OK, axum::Json(reply)).into_response(),
        },
        Target::Query { .. } => (StatusCode::OK, axum::Json(reply)).into_response(),
    };
    if let Some(id) = command_id {
        resp.headers_mut().insert(
            HeaderName::from_static(IDEMPOTENCY_KEY_HEADER),
            header_value(&id.to_string()),
        );
    }
    resp.headers_mut()
        .insert(HeaderName::from_static("traceparent"), header_value(tp));
    Ok(resp)
}

/// Waits, bounded, until the views have processed the command's events. `false` when the views
/// did not confirm in time or nobody answers (the command itself has succeeded either way).
///
/// Contract of `kansrijk.qry.views.wacht-op` (served by the views service): the request is
/// `{streamId, version, position, service, action, timeoutMs}`; the views answer when every
/// projection of that stream has applied `version`, or when `timeoutMs` has passed, with
/// `{"bijgewerkt": true|false}`. No responder or no answer in time counts as "not yet".
pub async fn wait_for_views(
    state: &AppState,
    route: &Route,
    actor: &Actor,
    accepted: &CommandAccepted,
    traceparent: &str,
) -> bool {
    let wait = state.config().view_wait;
    let Some(nats) = state.nats() else {
        return false;
    };
    if wait.is_zero() {
        return false;
    }
    let headers = kansrijk_runtime::nats::request_headers(actor, None, Some(traceparent));
    let service = match route.target {
        Target::Command { service, .. } => service,
        Target::Query { .. } => "",
    };
    let body = json!({
        "streamId": accepted.stream_id,
        "version": accepted.version,
        "position": accepted.position,
        "service": service,
        "action": route.action,
        "timeoutMs": wait.as_millis() as u64,
    });
    match kansrijk_runtime::nats::request::<_, Value>(
        nats,
        views_wait_subject(),
        headers,
        &body,
        // A little longer than the views are asked to wait, so their "not yet" arrives.
        wait + std::time::Duration::from_millis(250),
    )
    .await
    {
        Ok(v) => {
            !(v.get("bijgewerkt") == Some(&Value::Bool(false))
                || v.get("caughtUp") == Some(&Value::Bool(false)))
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_kept_when_valid_and_made_otherwise() {
        let mut h = HeaderMap::new();
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        h.insert("traceparent", HeaderValue::from_static(tp));
        assert_eq!(traceparent(&h), tp);
        h.insert("traceparent", HeaderValue::from_static("rommel"));
        let made = traceparent(&h);
        assert_eq!(made.len(), 55);
        assert!(made.starts_with("00-") && made.ends_with("-01"));
    }

    #[test]
    fn query_parameters_are_typed_and_checked_at_once() {
        let route = crate::routes::all()
            .into_iter()
            .find(|r| r.path == "/v1/sociale-kaart")
            .unwrap();
        let uri: Uri = "/v1/sociale-kaart?pagina=een&alleenVve=ja&foo=1&zoekterm=vve"
            .parse()
            .unwrap();
        let err = build_payload(
            route,
            &HashMap::new(),
            &uri,
            &HeaderMap::new(),
            &Bytes::new(),
        )
        .unwrap_err();
        let names: Vec<&str> = err.invalid_params.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["pagina", "alleenVve", "foo"]);
        let uri: Uri = "/v1/sociale-kaart?pagina=2&alleenVve=true".parse().unwrap();
        let (payload, id) = build_payload(
            route,
            &HashMap::new(),
            &uri,
            &HeaderMap::new(),
            &Bytes::new(),
        )
        .unwrap();
        assert_eq!(payload, json!({"pagina": 2, "alleenVve": true}));
        assert!(id.is_none());
    }
}

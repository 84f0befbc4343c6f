//! Calls to the owning services over NATS with the session's actor, and the mapping of their
//! problems to form errors.

use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::layout::FormErrors;
use crate::session::Session;
use crate::WebState;

/// A new W3C traceparent.
fn traceparent() -> String {
    let trace = Uuid::new_v4().simple().to_string();
    let span = &Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}

/// A query on `subject` for `action`.
pub async fn query<B: Serialize, T: DeserializeOwned>(
    state: &WebState,
    session: &Session,
    action: &str,
    subject: &str,
    body: &B,
) -> Result<T, Problem> {
    let actor = session.actor(action);
    let tp = traceparent();
    let headers = kansrijk_runtime::nats::request_headers(&actor, None, Some(&tp));
    let r = kansrijk_runtime::nats::request(
        state.nats(),
        subject.to_owned(),
        headers,
        body,
        state.config().request_timeout,
    )
    .await;
    log_outcome(action, &r);
    r
}

fn log_outcome<T>(action: &str, r: &Result<T, Problem>) {
    // The action and the status only: never a value of the request.
    match r {
        Ok(_) => tracing::info!(action, "web request to service"),
        Err(p) => tracing::info!(
            action,
            status = p.status,
            code = p.code.as_deref().unwrap_or(""),
            "web request refused"
        ),
    }
}

/// A command on `subject` for `action` with idempotency key `command_id`, then a bounded wait
/// until the views have seen it (read-your-writes). Returns the service's reply.
pub async fn command<B: Serialize>(
    state: &WebState,
    session: &Session,
    action: &str,
    subject: &str,
    body: &B,
    command_id: Uuid,
) -> Result<Value, Problem> {
    let actor = session.actor(action);
    let tp = traceparent();
    let headers = kansrijk_runtime::nats::request_headers(&actor, Some(command_id), Some(&tp));
    let r: Result<Value, Problem> = kansrijk_runtime::nats::request(
        state.nats(),
        subject.to_owned(),
        headers,
        body,
        state.config().request_timeout,
    )
    .await;
    log_outcome(action, &r);
    let reply = r?;
    if let Ok(accepted) = serde_json::from_value::<CommandAccepted>(reply.clone()) {
        // When the views cannot confirm (no `wacht-op` responder yet), the screens that show
        // a view after a command wait for the change themselves (bounded).
        let _ = wait_for_views(state, session, action, subject, &accepted, &tp).await;
    }
    Ok(reply)
}

/// Waits, bounded, until the views have applied the command's events. Best effort: no answer
/// is "not yet" and the page shows what the views have.
pub async fn wait_for_views(
    state: &WebState,
    session: &Session,
    action: &str,
    subject: &str,
    accepted: &CommandAccepted,
    tp: &str,
) -> bool {
    let wait = state.config().view_wait;
    if wait.is_zero() {
        return false;
    }
    let service = subject.split('.').nth(2).unwrap_or("");
    let headers = kansrijk_runtime::nats::request_headers(&session.actor(action), None, Some(tp));
    let body = json!({
        "streamId": accepted.stream_id,
        "version": accepted.version,
        "position": accepted.position,
        "service": service,
        "action": action,
        "timeoutMs": wait.as_millis() as u64,
    });
    match kansrijk_runtime::nats::request::<_, Value>(
        state.nats(),
        kansrijk_proto::subject::query("views.wacht-op"),
        headers,
        &body,
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

/// Maps a service's problem onto a form: each `invalidParams` name that the form knows (through
/// `fields`: service name -> form field id) goes next to its field; anything else becomes the
/// general message.
pub fn problem_to_errors(p: &Problem, fields: &[(&str, &str)], errors: &mut FormErrors) {
    let mut unplaced = Vec::new();
    for fe in &p.invalid_params {
        let base = fe.name.split(['.', '[']).next().unwrap_or(&fe.name);
        match fields
            .iter()
            .find(|(svc, _)| *svc == fe.name || *svc == base)
        {
            Some((_, form)) => errors.add(form, fe.reason.clone()),
            None => unplaced.push(fe.reason.clone()),
        }
    }
    if p.invalid_params.is_empty() || !unplaced.is_empty() {
        let title = match p.status {
            400 => "De gegevens zijn niet geaccepteerd".to_owned(),
            403 => "U mag dit niet doen".to_owned(),
            404 => "Niet gevonden".to_owned(),
            409 => "Dit kan nu niet".to_owned(),
            410 => "De gegevens zijn gewist".to_owned(),
            503 | 504 => "De dienst is op dit moment niet bereikbaar".to_owned(),
            _ => "Er ging iets mis".to_owned(),
        };
        let mut detail = p.detail.clone().unwrap_or_else(|| p.title.clone());
        for u in unplaced {
            detail.push(' ');
            detail.push_str(&u);
        }
        errors.general = Some((title, detail));
    }
    let order: Vec<&str> = fields.iter().map(|(_, f)| *f).collect();
    errors.order_by(&order);
}

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

// ------------------------------------------------------------------------------------------
// The partner registry (served by the gateway over NATS): what forms offer to choose from.

/// The session's municipality's districts from the registry (`registry.wijken`), sorted.
pub async fn districts(state: &WebState, session: &Session) -> Result<Vec<String>, Problem> {
    let list: Vec<Value> = query(
        state,
        session,
        "registry.wijken-raadplegen",
        &kansrijk_proto::subject::query("registry.wijken"),
        &json!({ "gemeenteCode": session.municipality }),
    )
    .await?;
    let mut names: Vec<String> = list
        .iter()
        .filter_map(|d| d.get("naam").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The district the registry proposes for an address (`registry.wijk-bij-postcode`): `None`
/// when the registry has no table entry for it. `postcode` is normalised to `1234AB`.
pub async fn district_for_postcode(
    state: &WebState,
    session: &Session,
    postcode: &str,
    house_number: Option<u32>,
) -> Result<Option<String>, Problem> {
    let postcode: String = postcode
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let mut body = json!({ "gemeenteCode": session.municipality, "postcode": postcode });
    if let Some(n) = house_number {
        body["huisnummer"] = json!(n);
    }
    let reply: Value = query(
        state,
        session,
        "registry.wijk-bij-postcode-raadplegen",
        &kansrijk_proto::subject::query("registry.wijk-bij-postcode"),
        &body,
    )
    .await?;
    Ok(reply
        .get("wijk")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|w| !w.is_empty()))
}

/// One entry of the registry's sociale kaart, as the forms use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// LRK number, BRIN+vestiging, OIN or KvK number.
    pub id: String,
    pub name: String,
    pub district: Option<String>,
}

/// Searches the sociale kaart (`registry.sociale-kaart`, body as `DirectorySearch`), every
/// page up to 1000 entries.
pub async fn directory(
    state: &WebState,
    session: &Session,
    search: &Value,
) -> Result<Vec<RegistryEntry>, Problem> {
    let mut out = Vec::new();
    for page in 1..=10u32 {
        let mut body = search.clone();
        body["pagina"] = json!(page);
        body["paginaGrootte"] = json!(100);
        let reply: Value = query(
            state,
            session,
            "registry.sociale-kaart-raadplegen",
            &kansrijk_proto::subject::query("registry.sociale-kaart"),
            &body,
        )
        .await?;
        let results = reply
            .get("resultaten")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for r in &results {
            let text = |f: &str| r.get(f).and_then(Value::as_str).map(str::to_owned);
            if let (Some(id), Some(name)) = (text("id"), text("naam")) {
                out.push(RegistryEntry {
                    id,
                    name,
                    district: text("wijk"),
                });
            }
        }
        let total = reply.get("totaal").and_then(Value::as_u64).unwrap_or(0);
        if results.len() < 100 || out.len() as u64 >= total {
            break;
        }
    }
    Ok(out)
}

/// The session's municipality's VVE childcare locations (LRK numbers), optionally of one
/// district and matching a name.
pub async fn vve_locations(
    state: &WebState,
    session: &Session,
    district: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<RegistryEntry>, Problem> {
    let mut search = json!({
        "organisatieType": "kinderopvang",
        "gemeente": session.municipality,
        "alleenVve": true,
    });
    if let Some(d) = district.filter(|d| !d.trim().is_empty()) {
        search["wijk"] = json!(d.trim());
    }
    if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
        search["zoekterm"] = json!(n.trim());
    }
    let mut list = directory(state, session, &search).await?;
    list.retain(|e| e.id.len() >= 9 && e.id.bytes().all(|b| b.is_ascii_digit()));
    list.dedup_by(|a, b| a.id == b.id);
    Ok(list)
}

/// Whether `id` is a BRIN number with its vestiging number (`20VF00`).
pub fn is_brin_vestiging(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 6
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2..4].iter().all(u8::is_ascii_alphabetic)
        && b[4..].iter().all(u8::is_ascii_digit)
}

/// The session's municipality's school locations of a sector from the registry:
/// `basisschool` (primary) or `voortgezet-onderwijs` (secondary).
pub async fn schools(
    state: &WebState,
    session: &Session,
    organisation_type: &str,
) -> Result<Vec<RegistryEntry>, Problem> {
    let mut list = directory(
        state,
        session,
        &json!({ "organisatieType": organisation_type, "gemeente": session.municipality }),
    )
    .await?;
    list.retain(|e| is_brin_vestiging(&e.id));
    list.dedup_by(|a, b| a.id == b.id);
    Ok(list)
}

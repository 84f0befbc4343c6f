//! Privacy officer (functionaris gegevensbescherming): the register of erasure and access
//! requests with the latest access-log entries (the officer's first screen), erasure (with the refusal under a legal
//! hold shown plainly), the access log (NEN 7513) and subject access (AVG art. 15).

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::PrivateCookieJar;
use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::problem::Problem;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::call;
use crate::form::FormData;
use crate::layout::{
    self, badge, error_summary, form_guard, page, select, Field, FormErrors, InputKind, Tone,
};
use crate::session::Session;
use crate::{csrf_refused, take_flash, with_flash, WebState};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route(
            "/privacy",
            get(|| async { Redirect::to("/privacy/verzoeken") }),
        )
        .route("/privacy/verzoeken", get(requests_page))
        .route("/privacy/verzoeken/besluit", post(requests_decide))
        .route("/privacy/wissen", get(erase_page).post(erase_submit))
        .route("/privacy/toegangslog", get(access_log_page))
        .route("/privacy/inzage", get(access_page).post(access_submit))
        .route("/privacy/inzage/download", post(access_download))
}

const SUBJECT_LIST_ERASURES: &str = "kansrijk.qry.privacy.verwijderverzoeken";
const SUBJECT_LIST_ACCESS: &str = "kansrijk.qry.privacy.inzageverzoeken";
const SUBJECT_DECIDE_ERASURE: &str = "kansrijk.cmd.privacy.verwijderverzoek-besluiten";
const SUBJECT_DECIDE_ACCESS: &str = "kansrijk.cmd.privacy.inzageverzoek-besluiten";
const SUBJECT_ERASE: &str = "kansrijk.cmd.privacy.betrokkene-wissen";
const SUBJECT_LOG: &str = "kansrijk.qry.privacy.toegangslog";
const SUBJECT_ACCESS: &str = "kansrijk.qry.privacy.inzageverzoek";

fn officer_only(state: &WebState, s: &Session) -> Option<Response> {
    (s.organisation_type != OrganisationType::Privacyfunctionaris)
        .then(|| super::forbidden(state, s))
}

const GROUNDS: &[(&str, &str)] = &[
    ("", "Kies een grondslag"),
    (
        "verzoek-betrokkene",
        "Verzoek van de betrokkene (AVG art. 17)",
    ),
    ("weigering-toestemming", "Ouders weigeren toestemming"),
];

fn erase_form(
    state: &WebState,
    s: &Session,
    flash: Option<String>,
    subject: &str,
    grounds: &str,
    errors: &FormErrors,
    hold: Option<&str>,
) -> Markup {
    let ctx = state.ctx(Some(s), flash, "/privacy/wissen");
    let command_id = Uuid::new_v4();
    page(
        &ctx,
        if errors.is_empty() && hold.is_none() {
            "Gegevens wissen"
        } else {
            "Fout: gegevens wissen"
        },
        html! {
            h1 { "Gegevens van een betrokkene wissen" }
            p class="lead" {
                "Wissen vernietigt de sleutel van de betrokkene. Daarmee zijn alle versleutelde gegevens, "
                "ook in kopieën en back-ups, definitief onleesbaar. Alle overzichten verwijderen wat zij over de betrokkene hebben. "
                "Dit kan niet ongedaan worden gemaakt."
            }
            @if let Some(reason) = hold {
                div class="notice notice-danger" role="alert" id="bewaarplicht" tabindex="-1" {
                    h2 { "Wissen geweigerd: er geldt een bewaarplicht" }
                    p { (reason) }
                    p { "De gegevens blijven bewaard zolang de bewaarplicht geldt. Er is niets gewist. "
                        "De weigering is vastgelegd in het toegangslog." }
                }
            }
            (error_summary(errors))
            div class="card" {
                form method="post" action="/privacy/wissen" novalidate {
                    (form_guard(s, &command_id))
                    (Field::text("betrokkene", "Pseudoniem-id van de betrokkene", subject)
                        .hint("Het id (UUID) van het kind of gezin, bijvoorbeeld uit het inzageverzoek. Nooit een BSN.")
                        .width("middel").render(errors))
                    (select("grondslag", "Grondslag", None, GROUNDS, grounds, errors))
                    (layout::checkboxes("bevestiging", "Bevestiging", None,
                        &[("ja", "Ik begrijp dat wissen onomkeerbaar is")], &[], errors))
                    div class="actions" {
                        button type="submit" class="button button-danger" { "Definitief wissen" }
                    }
                }
            }
        },
    )
}

async fn erase_page(State(state): State<WebState>, s: Session, jar: PrivateCookieJar) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    (
        jar,
        erase_form(&state, &s, flash, "", "", &FormErrors::default(), None),
    )
        .into_response()
}

async fn erase_submit(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    f: FormData,
) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let subject = f.get("betrokkene");
    let grounds = f.get("grondslag");
    let mut errors = FormErrors::default();
    let parsed = Uuid::parse_str(&subject);
    if subject.is_empty() {
        errors.add("betrokkene", "Vul het pseudoniem-id van de betrokkene in.");
    } else if parsed.is_err() {
        errors.add(
            "betrokkene",
            "Het pseudoniem-id is een UUID van 36 tekens, zoals 0192f0c4-5b7e-7c3a-9d2e-1f2a3b4c5d6e.",
        );
    }
    if !GROUNDS.iter().any(|(v, _)| !v.is_empty() && *v == grounds) {
        errors.add("grondslag", "Kies de grondslag voor het wissen.");
    }
    if f.get("bevestiging") != "ja" {
        errors.add(
            "bevestiging",
            "Bevestig dat u begrijpt dat wissen onomkeerbaar is.",
        );
    }
    if !errors.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            erase_form(&state, &s, None, &subject, &grounds, &errors, None),
        )
            .into_response();
    }
    let Ok(id) = parsed else {
        return super::forbidden(&state, &s);
    };
    let body = json!({ "subject": id, "grounds": grounds });
    match call::command(
        &state,
        &s,
        "privacy.betrokkene-wissen",
        SUBJECT_ERASE,
        &body,
        f.command_id(),
    )
    .await
    {
        Ok(_) => {
            let jar = with_flash(
                &state,
                jar,
                &format!("Betrokkene {id} is gewist. De sleutel is vernietigd en de overzichten verwijderen de gegevens."),
            );
            (jar, Redirect::to("/privacy/wissen")).into_response()
        }
        Err(p) if p.code.as_deref() == Some("bewaarplicht") => {
            let reason = p
                .detail
                .clone()
                .unwrap_or_else(|| "Deze betrokkene moet worden bewaard.".into());
            (
                StatusCode::CONFLICT,
                erase_form(
                    &state,
                    &s,
                    None,
                    &subject,
                    &grounds,
                    &FormErrors::default(),
                    Some(&reason),
                ),
            )
                .into_response()
        }
        Err(p) => {
            let mut errors = FormErrors::default();
            match p.status {
                404 => errors.add(
                    "betrokkene",
                    "Er is geen betrokkene met dit id in uw gemeente.",
                ),
                410 => errors.add("betrokkene", "Deze betrokkene is al gewist."),
                _ => call::problem_to_errors(
                    &p,
                    &[("subject", "betrokkene"), ("grounds", "grondslag")],
                    &mut errors,
                ),
            }
            (
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST),
                erase_form(&state, &s, None, &subject, &grounds, &errors, None),
            )
                .into_response()
        }
    }
}

// ------------------------------------------------------------------------------------------
// Requests (the officer's first screen)

const REJECT_REASONS: &[(&str, &str)] = &[
    ("", "Kies een reden"),
    ("bewaarplicht", "Er geldt een bewaarplicht"),
    ("identiteit-niet-vastgesteld", "Identiteit niet vastgesteld"),
    ("geen-gezag", "Aanvrager heeft geen gezag"),
    ("kennelijk-ongegrond", "Kennelijk ongegrond of buitensporig"),
];

fn requester_label(r: &str) -> &str {
    match r {
        "ouder" => "Ouder",
        "betrokkene" => "Betrokkene zelf",
        "medewerker" => "Medewerker namens de ouders",
        other => other,
    }
}

fn reason_label(r: &str) -> &str {
    REJECT_REASONS
        .iter()
        .find(|(k, _)| *k == r)
        .map(|(_, l)| *l)
        .unwrap_or(r)
}

/// One table of open requests of a kind, with the officer's actions.
fn requests_table(s: &Session, kind: &str, title: &str, list: &Result<Value, Problem>) -> Markup {
    let id = format!("{kind}en");
    html! {
        section aria-labelledby=(format!("{id}-titel")) {
            h2 id=(format!("{id}-titel")) { (title) }
            @match list {
                Err(p) => {
                    div class="notice notice-danger" role="alert" {
                        p { strong { "De verzoeken konden niet worden opgehaald. " } (p.detail.clone().unwrap_or_else(|| p.title.clone())) }
                    }
                }
                Ok(v) => {
                    @let rows: Vec<Value> = v.get("requests").and_then(Value::as_array).cloned().unwrap_or_default()
                        .into_iter().filter(|r| r.get("status").and_then(Value::as_str) == Some("ontvangen")).collect();
                    @let overdue = v.get("overdue").and_then(Value::as_i64).unwrap_or(0);
                    @if rows.is_empty() {
                        p { "Er zijn geen open verzoeken." }
                    } @else {
                        p {
                            (rows.len()) " open"
                            @if overdue > 0 { ", waarvan " (badge(Tone::Danger, &format!("{overdue} te laat"))) }
                            "."
                        }
                        div class="table-wrap" tabindex="0" role="region" aria-label=(format!("{title}, horizontaal te scrollen")) {
                            table id=(id) {
                                caption { (title) ": open, de kortste termijn eerst" }
                                thead {
                                    tr {
                                        th scope="col" { "Ontvangen" }
                                        th scope="col" { "Uiterlijk" }
                                        th scope="col" { "Aanvrager" }
                                        th scope="col" { "Betrokkene" }
                                        th scope="col" { "Opmerking" }
                                        th scope="col" { "Besluit" }
                                    }
                                }
                                tbody {
                                    @for r in &rows {
                                        @let st = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                                        @let rid = st("id");
                                        @let late = r.get("overdue").and_then(Value::as_bool).unwrap_or(false);
                                        tr data-verzoek=(rid) {
                                            td { (layout::date_nl(&st("receivedOn"))) }
                                            td class=[late.then_some("te-laat")] {
                                                (layout::date_nl(&st("deadline")))
                                                @if late { " " (badge(Tone::Danger, "Termijn verstreken")) }
                                            }
                                            td { (requester_label(&st("requester"))) }
                                            td { code { (st("subject")) } }
                                            td {
                                                @if let Some(h) = r.get("refusedUnderHold").and_then(Value::as_str) {
                                                    (badge(Tone::Danger, "Uitvoeren geweigerd"))
                                                    " Er geldt een bewaarplicht (" (h) "). Er is niets gewist."
                                                } @else if let Some(h) = r.get("hold").and_then(Value::as_str) {
                                                    (badge(Tone::Warning, "Bewaarplicht")) " " (h)
                                                }
                                            }
                                            td {
                                                form method="post" action="/privacy/verzoeken/besluit" class="inline-form" {
                                                    (form_guard(s, &Uuid::new_v4()))
                                                    input type="hidden" name="soort" value=(kind);
                                                    input type="hidden" name="verzoek" value=(rid);
                                                    input type="hidden" name="besluit" value="uitvoeren";
                                                    button type="submit" class="button" {
                                                        @if kind == "verwijderverzoek" { "Uitvoeren (wissen)" } @else { "Uitvoeren (overzicht samenstellen)" }
                                                        span class="visually-hidden" { " voor het verzoek ontvangen op " (layout::date_nl(&st("receivedOn"))) }
                                                    }
                                                }
                                                form method="post" action="/privacy/verzoeken/besluit" {
                                                    (form_guard(s, &Uuid::new_v4()))
                                                    input type="hidden" name="soort" value=(kind);
                                                    input type="hidden" name="verzoek" value=(rid);
                                                    input type="hidden" name="besluit" value="afwijzen";
                                                    label for=(format!("reden-{rid}")) { "Reden van afwijzen" }
                                                    select id=(format!("reden-{rid}")) name="reden" {
                                                        @for (v, l) in REJECT_REASONS {
                                                            option value=(v) { (l) }
                                                        }
                                                    }
                                                    " "
                                                    button type="submit" class="button button-secondary" {
                                                        "Afwijzen"
                                                        span class="visually-hidden" { " (verzoek ontvangen op " (layout::date_nl(&st("receivedOn"))) ")" }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @let handled: Vec<Value> = v.get("requests").and_then(Value::as_array).cloned().unwrap_or_default()
                        .into_iter().filter(|r| r.get("status").and_then(Value::as_str) != Some("ontvangen")).take(5).collect();
                    @if !handled.is_empty() {
                        h3 { "Recent afgehandeld" }
                        ul {
                            @for r in &handled {
                                @let st = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                                li {
                                    "Ontvangen " (layout::date_nl(&st("receivedOn"))) ", " (requester_label(&st("requester"))) ": "
                                    @if st("status") == "uitgevoerd" { (badge(Tone::Success, "Uitgevoerd")) } @else {
                                        (badge(Tone::Neutral, "Afgewezen")) " " (reason_label(&st("reason")))
                                    }
                                    " (betrokkene " code { (st("subject")) } ")"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn requests_view(
    state: &WebState,
    s: &Session,
    flash: Option<String>,
    notice: Option<&str>,
) -> Markup {
    let erasures: Result<Value, Problem> = call::query(
        state,
        s,
        "privacy.verwijderverzoeken",
        SUBJECT_LIST_ERASURES,
        &json!({}),
    )
    .await;
    let accesses: Result<Value, Problem> = call::query(
        state,
        s,
        "privacy.inzageverzoeken",
        SUBJECT_LIST_ACCESS,
        &json!({}),
    )
    .await;
    let from = chrono::Utc::now().date_naive() - chrono::Days::new(30);
    let log: Result<Value, Problem> = call::query(
        state,
        s,
        "privacy.toegangslog",
        SUBJECT_LOG,
        &json!({ "from": format!("{from}T00:00:00Z"), "limit": 1000 }),
    )
    .await;
    let ctx = state.ctx(Some(s), flash, "/privacy/verzoeken");
    page(
        &ctx,
        if notice.is_some() {
            "Fout: verzoeken"
        } else {
            "Verzoeken"
        },
        html! {
            h1 { "Verzoeken van betrokkenen" }
            p class="lead" {
                "Verzoeken om gegevens te wissen (AVG artikel 17) en om inzage (artikel 15), ingediend door ouders, "
                "betrokkenen of medewerkers namens de ouders. U beslist binnen een maand na ontvangst."
            }
            @if let Some(n) = notice {
                div class="notice notice-danger" role="alert" id="besluit-fout" tabindex="-1" {
                    p { (n) }
                }
            }
            (requests_table(s, "verwijderverzoek", "Verwijderverzoeken", &erasures))
            (requests_table(s, "inzageverzoek", "Inzageverzoeken", &accesses))
            section aria-labelledby="toegangslog-titel" {
                h2 id="toegangslog-titel" { "Laatste registraties in het toegangslog" }
                @match &log {
                    Err(p) => {
                        div class="notice notice-danger" role="alert" {
                            p { strong { "Het toegangslog kon niet worden opgehaald. " } (p.detail.clone().unwrap_or_else(|| p.title.clone())) }
                        }
                    }
                    Ok(page_) => {
                        @let entries: Vec<Value> = page_.get("entries").and_then(Value::as_array).cloned().unwrap_or_default()
                            .into_iter().rev().take(10).collect();
                        @if entries.is_empty() {
                            p { "Er zijn de laatste 30 dagen geen registraties." }
                        } @else {
                            div class="table-wrap" tabindex="0" role="region" aria-label="Laatste registraties, horizontaal te scrollen" {
                                table id="laatste-registraties" {
                                    caption { "De " (entries.len()) " nieuwste registraties van uw gemeente" }
                                    thead {
                                        tr {
                                            th scope="col" { "Tijdstip (UTC)" }
                                            th scope="col" { "Gebeurtenis" }
                                            th scope="col" { "Uitkomst" }
                                            th scope="col" { "Organisatie en rol" }
                                            th scope="col" { "Toegangspunt" }
                                        }
                                    }
                                    tbody {
                                        @for e in &entries {
                                            @let st = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                                            tr {
                                                td { (layout::datetime_nl(&st("occurredAt"))) }
                                                td { (label(EVENTS, &st("event"))) }
                                                td {
                                                    @match st("outcome").as_str() {
                                                        "success" => (badge(Tone::Success, "Gelukt")),
                                                        "denied" => (badge(Tone::Danger, "Geweigerd")),
                                                        other => (badge(Tone::Warning, label(OUTCOMES, other))),
                                                    }
                                                }
                                                td { (st("organisation")) br; span class="muted" { (st("organisationType")) " · " (st("role")) } }
                                                td { (st("accessPoint")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        p { a href="/privacy/toegangslog" { "Het hele toegangslog doorzoeken" } }
                    }
                }
            }
        },
    )
}

async fn requests_page(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    (jar, requests_view(&state, &s, flash, None).await).into_response()
}

async fn requests_decide(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    f: FormData,
) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let kind = f.get("soort");
    let (action, subject) = match kind.as_str() {
        "verwijderverzoek" => ("privacy.verwijderverzoek-besluiten", SUBJECT_DECIDE_ERASURE),
        "inzageverzoek" => ("privacy.inzageverzoek-besluiten", SUBJECT_DECIDE_ACCESS),
        _ => return super::forbidden(&state, &s),
    };
    let Ok(request) = Uuid::parse_str(&f.get("verzoek")) else {
        return super::forbidden(&state, &s);
    };
    let decision = f.get("besluit");
    let reason = f.get("reden");
    let body = match decision.as_str() {
        "uitvoeren" => json!({ "request": request, "decision": "uitvoeren" }),
        "afwijzen" => {
            if reason.is_empty() {
                let v = requests_view(
                    &state,
                    &s,
                    None,
                    Some("Kies een reden om het verzoek af te wijzen."),
                )
                .await;
                return (StatusCode::BAD_REQUEST, v).into_response();
            }
            json!({ "request": request, "decision": "afwijzen", "reason": reason })
        }
        _ => return super::forbidden(&state, &s),
    };
    match call::command(&state, &s, action, subject, &body, f.command_id()).await {
        Ok(_) => {
            let msg = match (kind.as_str(), decision.as_str()) {
                ("verwijderverzoek", "uitvoeren") => "Het verwijderverzoek is uitgevoerd: de betrokkene is gewist.".to_owned(),
                ("inzageverzoek", "uitvoeren") => "Het inzageverzoek is uitgevoerd: het overzicht is samengesteld. U vindt het bij Inzageverzoek.".to_owned(),
                _ => format!("Het verzoek is afgewezen ({}).", reason_label(&reason)),
            };
            (
                with_flash(&state, jar, &msg),
                Redirect::to("/privacy/verzoeken"),
            )
                .into_response()
        }
        Err(p) => {
            let notice = match (p.status, p.code.as_deref()) {
                (409, Some("bewaarplicht")) => format!(
                    "Uitvoeren geweigerd: er geldt een bewaarplicht. {}",
                    p.detail.clone().unwrap_or_default()
                ),
                (404, _) => "Dit verzoek bestaat niet (meer) in uw gemeente.".to_owned(),
                (503, _) => p.detail.clone().unwrap_or_else(|| {
                    "De dienst is niet beschikbaar. Probeer het later opnieuw.".into()
                }),
                _ => p.detail.clone().unwrap_or_else(|| p.title.clone()),
            };
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, requests_view(&state, &s, None, Some(&notice)).await).into_response()
        }
    }
}

// ------------------------------------------------------------------------------------------
// Access log

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFilter {
    #[serde(default)]
    betrokkene: String,
    #[serde(default)]
    gebeurtenis: String,
    #[serde(default)]
    uitkomst: String,
    #[serde(default)]
    van: String,
    #[serde(default)]
    tot: String,
    #[serde(default)]
    na: Option<i64>,
    #[serde(default)]
    zoeken: Option<String>,
}

const EVENTS: &[(&str, &str)] = &[
    ("", "Alle"),
    ("create", "Aanmaken"),
    ("read", "Inzien"),
    ("update", "Wijzigen"),
    ("delete", "Verwijderen"),
    ("export", "Exporteren"),
    ("search", "Zoeken"),
    ("break-glass", "Doorbreken (break-glass)"),
];

const OUTCOMES: &[(&str, &str)] = &[
    ("", "Alle"),
    ("success", "Gelukt"),
    ("denied", "Geweigerd"),
    ("failed", "Mislukt"),
];

fn label<'a>(list: &'a [(&'a str, &'a str)], v: &'a str) -> &'a str {
    list.iter()
        .find(|(k, _)| *k == v)
        .map(|(_, l)| *l)
        .unwrap_or(v)
}

async fn access_log_page(
    State(state): State<WebState>,
    s: Session,
    Query(q): Query<LogFilter>,
) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    let mut errors = FormErrors::default();
    let mut query = serde_json::Map::new();
    if !q.betrokkene.trim().is_empty() {
        match Uuid::parse_str(q.betrokkene.trim()) {
            Ok(u) => {
                query.insert("subject".into(), json!(u));
            }
            Err(_) => errors.add("betrokkene", "Het pseudoniem-id is een UUID van 36 tekens."),
        }
    }
    if EVENTS
        .iter()
        .any(|(v, _)| !v.is_empty() && *v == q.gebeurtenis)
    {
        query.insert("event".into(), json!(q.gebeurtenis));
    }
    if OUTCOMES
        .iter()
        .any(|(v, _)| !v.is_empty() && *v == q.uitkomst)
    {
        query.insert("outcome".into(), json!(q.uitkomst));
    }
    let mut date = |field: &str, raw: &str, key: &str, end: bool| {
        if raw.trim().is_empty() {
            return;
        }
        match chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
            Ok(d) => {
                let d = if end { d.succ_opt().unwrap_or(d) } else { d };
                query.insert(key.into(), json!(format!("{d}T00:00:00Z")));
            }
            Err(_) => errors.add(field, "Vul een datum in als dd-mm-jjjj."),
        }
    };
    date("van", &q.van, "from", false);
    date("tot", &q.tot, "until", true);
    if let Some(n) = q.na {
        query.insert("afterSeq".into(), json!(n));
    }
    query.insert("limit".into(), json!(50));
    errors.order_by(&["betrokkene", "gebeurtenis", "uitkomst", "van", "tot"]);

    let result: Option<Result<Value, Problem>> = if errors.is_empty() {
        Some(
            call::query(
                &state,
                &s,
                "privacy.toegangslog",
                SUBJECT_LOG,
                &Value::Object(query),
            )
            .await,
        )
    } else {
        None
    };
    let ctx = state.ctx(Some(&s), None, "/privacy/toegangslog");
    let title = if errors.is_empty() {
        "Toegangslog"
    } else {
        "Fout: toegangslog"
    };
    let next_link = |after: i64| {
        let mut pairs = vec![
            ("betrokkene", q.betrokkene.clone()),
            ("gebeurtenis", q.gebeurtenis.clone()),
            ("uitkomst", q.uitkomst.clone()),
            ("van", q.van.clone()),
            ("tot", q.tot.clone()),
        ];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.push(("na", after.to_string()));
        let qs: Vec<String> = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
                )
            })
            .collect();
        format!("/privacy/toegangslog?{}", qs.join("&"))
    };
    let _ = &q.zoeken;
    page(
        &ctx,
        title,
        html! {
            h1 { "Toegangslog" }
            p class="lead" {
                "Elke keer dat iemand persoonsgegevens inziet, wijzigt, exporteert of zoekt, staat hier (NEN 7513). "
                "U ziet alleen de registraties van uw eigen gemeente."
            }
            (error_summary(&errors))
            div class="card" {
                form method="get" action="/privacy/toegangslog" novalidate {
                    h2 { "Zoeken" }
                    div class="filter-grid" {
                        (Field::text("betrokkene", "Pseudoniem-id van de betrokkene", &q.betrokkene).optional().render(&errors))
                        (select("gebeurtenis", "Gebeurtenis", None, EVENTS, &q.gebeurtenis, &errors))
                        (select("uitkomst", "Uitkomst", None, OUTCOMES, &q.uitkomst, &errors))
                        (Field::text("van", "Vanaf datum", &q.van).optional().kind(InputKind::Date).render(&errors))
                        (Field::text("tot", "Tot en met datum", &q.tot).optional().kind(InputKind::Date).render(&errors))
                    }
                    div class="actions" {
                        button type="submit" class="button" name="zoeken" value="1" { "Zoeken" }
                        a href="/privacy/toegangslog" { "Filters wissen" }
                    }
                }
            }
            @match &result {
                None => {}
                Some(Err(p)) => {
                    div class="notice notice-danger" role="alert" {
                        p { strong { "Het toegangslog kon niet worden opgehaald. " } (p.detail.clone().unwrap_or_else(|| p.title.clone())) }
                    }
                }
                Some(Ok(page_)) => {
                    @let entries = page_.get("entries").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if entries.is_empty() {
                        p { "Er zijn geen registraties die aan de zoekvragen voldoen." }
                    } @else {
                        div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                            table {
                                caption { "Registraties (" (entries.len()) " op deze pagina)" }
                                thead {
                                    tr {
                                        th scope="col" { "Nr." }
                                        th scope="col" { "Tijdstip (UTC)" }
                                        th scope="col" { "Gebeurtenis" }
                                        th scope="col" { "Uitkomst" }
                                        th scope="col" { "Organisatie en rol" }
                                        th scope="col" { "Doel" }
                                        th scope="col" { "Toegangspunt" }
                                        th scope="col" { "Betrokkene" }
                                    }
                                }
                                tbody {
                                    @for e in &entries {
                                        @let st = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                                        tr {
                                            td class="num" { (e.get("seq").and_then(Value::as_i64).unwrap_or(0)) }
                                            td { (layout::datetime_nl(&st("occurredAt"))) }
                                            td { (label(EVENTS, &st("event"))) }
                                            td {
                                                @match st("outcome").as_str() {
                                                    "success" => (badge(Tone::Success, "Gelukt")),
                                                    "denied" => (badge(Tone::Danger, "Geweigerd")),
                                                    other => (badge(Tone::Warning, label(OUTCOMES, other))),
                                                }
                                            }
                                            td { (st("organisation")) br; span class="muted" { (st("organisationType")) " · " (st("role")) } }
                                            td { (st("purpose")) }
                                            td { (st("accessPoint")) }
                                            td { code { (st("subject")) } }
                                        }
                                    }
                                }
                            }
                        }
                        @if let Some(n) = page_.get("nextAfterSeq").and_then(Value::as_i64) {
                            p { a href=(next_link(n)) { "Volgende pagina" } }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

// ------------------------------------------------------------------------------------------
// Subject access

fn access_form(
    state: &WebState,
    s: &Session,
    subject: &str,
    errors: &FormErrors,
    result: Option<&Value>,
) -> Markup {
    let ctx = state.ctx(Some(s), None, "/privacy/inzage");
    let command_id = Uuid::new_v4();
    page(
        &ctx,
        if errors.is_empty() {
            "Inzageverzoek"
        } else {
            "Fout: inzageverzoek"
        },
        html! {
            h1 { "Inzageverzoek (AVG artikel 15)" }
            p class="lead" {
                "Stel alles samen wat Kansrijk over een kind of gezin bewaart, bij alle diensten. "
                "U kunt het overzicht hier lezen en als JSON-bestand downloaden. Het samenstellen wordt vastgelegd als export in het toegangslog."
            }
            (error_summary(errors))
            div class="card" {
                form method="post" action="/privacy/inzage" novalidate {
                    (form_guard(s, &command_id))
                    (Field::text("betrokkene", "Pseudoniem-id van de betrokkene", subject)
                        .hint("Het id (UUID) van het kind of gezin. Nooit een BSN.")
                        .width("middel").render(errors))
                    div class="actions" {
                        button type="submit" class="button" { "Overzicht samenstellen" }
                    }
                }
            }
            @if let Some(reply) = result {
                (render_access(s, subject, reply))
            }
        },
    )
}

fn render_value(v: &Value) -> Markup {
    match v {
        Value::Object(m) => html! {
            dl class="summary" {
                @for (k, v) in m {
                    dt { (k) }
                    dd { (render_value(v)) }
                }
            }
        },
        Value::Array(a) if a.is_empty() => html! { span class="muted" { "geen" } },
        Value::Array(a) => html! {
            ul { @for v in a { li { (render_value(v)) } } }
        },
        Value::Null => html! { span class="muted" { "niet ingevuld" } },
        Value::String(s) => html! { (s) },
        other => html! { (other.to_string()) },
    }
}

fn service_label(s: &str) -> &str {
    match s {
        "vve" => "VVE-bereik (JGZ en kinderopvang)",
        "overdracht" => "Overdrachten",
        "casework" => "1 gezin 1 plan",
        "views" => "Overzichten",
        "privacy" => "Privacy (sleutel, bewaarplicht, bewaartermijnen, toegangslog)",
        other => other,
    }
}

fn render_access(s: &Session, subject: &str, reply: &Value) -> Markup {
    let doc = reply.get("document").cloned().unwrap_or(Value::Null);
    let parts = doc
        .get("parts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let missing = doc
        .get("missing")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let complete = doc
        .get("complete")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let generated = doc.get("generatedAt").and_then(Value::as_str).unwrap_or("");
    html! {
        section aria-labelledby="overzicht-titel" {
            h2 id="overzicht-titel" { "Overzicht voor betrokkene " code { (subject) } }
            p {
                "Samengesteld op " (layout::datetime_nl(generated)) " (UTC). "
                @if complete { (badge(Tone::Success, "Volledig")) } @else { (badge(Tone::Warning, "Onvolledig")) }
            }
            @if !missing.is_empty() {
                div class="notice notice-warning" {
                    p { strong { "Niet alle diensten hebben geantwoord." } " Vraag het overzicht later opnieuw op." }
                    ul {
                        @for m in &missing {
                            li { (service_label(m.get("service").and_then(Value::as_str).unwrap_or(""))) ": "
                                 (match m.get("reason").and_then(Value::as_str).unwrap_or("") {
                                     "geen-antwoord" => "geen antwoord op tijd",
                                     "niet-bereikbaar" => "niet bereikbaar",
                                     other => other,
                                 }) }
                        }
                    }
                }
            }
            form method="post" action="/privacy/inzage/download" class="actions" {
                input type="hidden" name="csrf" value=(s.csrf);
                input type="hidden" name="betrokkene" value=(subject);
                button type="submit" class="button button-secondary" { "Download als JSON-bestand" }
            }
            @for part in &parts {
                @let service = part.get("service").and_then(Value::as_str).unwrap_or("");
                div class="card" {
                    h3 { (service_label(service)) }
                    @let sections = part.get("sections").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if sections.is_empty() {
                        p class="muted" { "Deze dienst bewaart niets over de betrokkene." }
                    }
                    @for sec in &sections {
                        h4 { (sec.get("title").and_then(Value::as_str).unwrap_or("")) " "
                             span class="badge" { (category_label(sec.get("category").and_then(Value::as_str).unwrap_or(""))) } }
                        (render_value(sec.get("data").unwrap_or(&Value::Null)))
                    }
                }
            }
        }
    }
}

fn category_label(c: &str) -> &str {
    match c {
        "identifying" | "identificerend" => "identificerend",
        "contact" => "contactgegevens",
        "development" | "ontwikkeling" => "ontwikkeling en onderwijs",
        "health" | "gezondheid" => "gezondheid",
        "safety" | "veiligheid" => "veiligheid",
        "administrative" | "administratief" => "administratief",
        other => other,
    }
}

async fn fetch_access(
    state: &WebState,
    s: &Session,
    f: &FormData,
) -> Result<(String, Value), (String, FormErrors)> {
    let subject = f.get("betrokkene");
    let mut errors = FormErrors::default();
    let Ok(id) = Uuid::parse_str(&subject) else {
        if subject.is_empty() {
            errors.add("betrokkene", "Vul het pseudoniem-id van de betrokkene in.");
        } else {
            errors.add("betrokkene", "Het pseudoniem-id is een UUID van 36 tekens.");
        }
        return Err((subject, errors));
    };
    match call::query::<_, Value>(
        state,
        s,
        "privacy.inzageverzoek",
        SUBJECT_ACCESS,
        &json!({ "subject": id }),
    )
    .await
    {
        Ok(v) => Ok((subject, v)),
        Err(p) => {
            match p.status {
                404 => errors.add(
                    "betrokkene",
                    "Er is geen betrokkene met dit id in uw gemeente.",
                ),
                _ => call::problem_to_errors(&p, &[("subject", "betrokkene")], &mut errors),
            }
            Err((subject, errors))
        }
    }
}

async fn access_page(State(state): State<WebState>, s: Session) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    access_form(&state, &s, "", &FormErrors::default(), None).into_response()
}

async fn access_submit(State(state): State<WebState>, s: Session, f: FormData) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    match fetch_access(&state, &s, &f).await {
        Ok((subject, v)) => {
            access_form(&state, &s, &subject, &FormErrors::default(), Some(&v)).into_response()
        }
        Err((subject, errors)) => (
            StatusCode::BAD_REQUEST,
            access_form(&state, &s, &subject, &errors, None),
        )
            .into_response(),
    }
}

async fn access_download(State(state): State<WebState>, s: Session, f: FormData) -> Response {
    if let Some(r) = officer_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    match fetch_access(&state, &s, &f).await {
        Ok((subject, v)) => {
            let doc = v.get("document").cloned().unwrap_or(v);
            let body = serde_json::to_string_pretty(&doc).unwrap_or_default();
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/json; charset=utf-8".to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"inzageverzoek-{subject}.json\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err((subject, errors)) => (
            StatusCode::BAD_REQUEST,
            access_form(&state, &s, &subject, &errors, None),
        )
            .into_response(),
    }
}

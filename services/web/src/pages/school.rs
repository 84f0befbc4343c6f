//! Primary and secondary schools: the inbox of handover files sent to the school, the file,
//! confirming receipt, the warm handover, and (secondary school) the year-3 position.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::PrivateCookieJar;
use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::problem::Problem;
use maud::{html, Markup};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::actions::{Action, Input, Kind};
use crate::call;
use crate::form::FormData;
use crate::layout::{self, badge, error_summary, page, FormErrors, Tone};
use crate::session::Session;
use crate::{csrf_refused, take_flash, with_flash, WebState};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/school", get(inbox))
        .route("/school/dossier/{id}", get(file_page))
        .route("/school/dossier/{id}/{action}", post(file_action))
}

const PARTICIPANTS: &[(&str, &str)] = &[
    ("pedagogisch-medewerker", "Pedagogisch medewerker"),
    ("leerkracht", "Leerkracht"),
    ("intern-begeleider", "Intern begeleider"),
    ("ouders", "Ouders"),
    ("groep8-leerkracht", "Leerkracht groep 8"),
    ("mentor", "Mentor"),
    ("zorgcoordinator", "Zorgcoördinator"),
    ("jeugdverpleegkundige", "Jeugdverpleegkundige"),
    ("anders", "Anders"),
];

const POSITIONS: &[(&str, &str)] = &[
    ("", "Kies de positie"),
    ("boven", "Boven het advies"),
    ("op", "Op het advies"),
    ("onder", "Onder het advies"),
];

const ACTIONS: &[Action] = &[
    Action {
        key: "ontvangst",
        title: "Ontvangst bevestigen",
        button: "Ontvangst bevestigen",
        policy: "handover.ontvangst-bevestigen",
        subject: "kansrijk.cmd.overdracht.ontvangst-bevestigen",
        inputs: &[Input::new(
            "ont-datum",
            "Datum van ontvangst",
            Kind::Date(true),
            "datum",
        )],
        done: "De ontvangst is bevestigd.",
        secondary: false,
    },
    Action {
        key: "warme-overdracht-plannen",
        title: "Warme overdracht plannen",
        button: "Plannen",
        policy: "handover.warme-overdracht-plannen",
        subject: "kansrijk.cmd.overdracht.warme-overdracht-plannen",
        inputs: &[
            Input::new(
                "wop-datum",
                "Datum van het gesprek",
                Kind::Date(false),
                "datum",
            ),
            Input::new(
                "wop-deelnemers",
                "Deelnemers",
                Kind::Multi(PARTICIPANTS),
                "deelnemers",
            ),
        ],
        done: "De warme overdracht is gepland.",
        secondary: true,
    },
    Action {
        key: "warme-overdracht",
        title: "Warme overdracht vastleggen",
        button: "Vastleggen",
        policy: "handover.warme-overdracht-registreren",
        subject: "kansrijk.cmd.overdracht.warme-overdracht-registreren",
        inputs: &[
            Input::new(
                "wo-datum",
                "Datum van het gesprek",
                Kind::Date(true),
                "datum",
            ),
            Input::new(
                "wo-deelnemers",
                "Deelnemers",
                Kind::Multi(PARTICIPANTS),
                "deelnemers",
            ),
        ],
        done: "De warme overdracht is vastgelegd.",
        secondary: true,
    },
];

const VO_ACTIONS: &[Action] = &[Action {
    key: "positie",
    title: "Positie in leerjaar 3 melden",
    button: "Positie melden",
    policy: "handover.positie-leerjaar-3-melden",
    subject: "kansrijk.cmd.overdracht.positie-leerjaar-3-melden",
    inputs: &[
        Input::new("pos-datum", "Datum", Kind::Date(true), "datum"),
        Input::new(
            "pos-positie",
            "Positie ten opzichte van het basisschooladvies",
            Kind::Select(POSITIONS),
            "positie",
        ),
    ],
    done: "De positie in leerjaar 3 is gemeld.",
    secondary: false,
}];

fn school_only(state: &WebState, s: &Session) -> Option<Response> {
    (!matches!(
        s.organisation_type,
        OrganisationType::Basisschool | OrganisationType::VoortgezetOnderwijs
    ))
    .then(|| super::forbidden(state, s))
}

fn actions(s: &Session) -> Vec<&'static Action> {
    let mut a: Vec<&'static Action> = ACTIONS.iter().collect();
    if s.organisation_type == OrganisationType::VoortgezetOnderwijs {
        a.extend(VO_ACTIONS.iter());
    }
    a
}

fn st(v: &Value, f: &str) -> String {
    v.get(f).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn child_name(v: &Value) -> String {
    match v.get("kind") {
        Some(k) if k.is_object() => format!("{} {}", st(k, "voornaam"), st(k, "achternaam"))
            .trim()
            .to_owned(),
        _ => "Kind".into(),
    }
}

fn kind_label(k: &str) -> &str {
    match k {
        "voorschool" => "Overdrachtsformulier voorschool",
        "po-vo" => "Onderwijskundig rapport (PO-VO)",
        other => other,
    }
}

async fn inbox_data(state: &WebState, s: &Session) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "handover.inbox",
        "kansrijk.qry.overdracht.inbox",
        &json!({}),
    )
    .await
}

async fn inbox(State(state): State<WebState>, s: Session, jar: PrivateCookieJar) -> Response {
    if let Some(r) = school_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    let data = inbox_data(&state, &s).await;
    let ctx = state.ctx(Some(&s), flash, "/school");
    let markup = page(
        &ctx,
        "Ontvangen overdrachten",
        html! {
            h1 { "Ontvangen overdrachten" }
            p class="lead" { "Overdrachtsdossiers die aan uw school zijn verzonden. Bevestig de ontvangst en plan zo nodig een warme overdracht." }
            @match &data {
                Err(p) => { (super::unavailable(p)) }
                Ok(d) => {
                    @let files = d.get("dossiers").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if files.is_empty() {
                        div class="card" { p { "Er zijn geen overdrachten ontvangen." } }
                    } @else {
                        div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                            table {
                                caption { "Ontvangen overdrachten (" (files.len()) ")" }
                                thead { tr {
                                    th scope="col" { "Kind" }
                                    th scope="col" { "Soort" }
                                    th scope="col" { "Van" }
                                    th scope="col" { "Verzonden op" }
                                    th scope="col" { "Ontvangst" }
                                } }
                                tbody { @for f in &files { tr {
                                    th scope="row" { a href={ "/school/dossier/" (st(f, "dossierId")) } { (child_name(f)) } }
                                    td { (kind_label(&st(f, "soort"))) }
                                    td { (st(f, "afzender")) }
                                    td { (layout::date_nl(&st(f, "verzondenOp"))) }
                                    td {
                                        @if !st(f, "bevestigdOp").is_empty() { (badge(Tone::Success, "Bevestigd")) }
                                        @else if f.get("bevestigingUitgebleven").and_then(Value::as_bool).unwrap_or(false) { (badge(Tone::Danger, "Bevestiging te laat")) }
                                        @else { (badge(Tone::Warning, "Nog bevestigen")) }
                                    }
                                } } }
                            }
                        }
                    }
                }
            }
        },
    );
    (jar, markup).into_response()
}

fn render_value(v: &Value) -> Markup {
    match v {
        Value::Object(m) => html! {
            dl class="summary" {
                @for (k, v) in m {
                    dt { (layout::humanise(k)) }
                    dd { (render_value(v)) }
                }
            }
        },
        Value::Array(a) if a.is_empty() => html! { span class="muted" { "geen" } },
        Value::Array(a) => html! { ul { @for v in a { li { (render_value(v)) } } } },
        Value::Null => html! { span class="muted" { "niet ingevuld" } },
        Value::Bool(b) => html! { @if *b { "ja" } @else { "nee" } },
        Value::String(s) => html! { (layout::date_or_text(s)) },
        other => html! { (other.to_string()) },
    }
}

async fn render_file(
    state: &WebState,
    s: &Session,
    id: Uuid,
    flash: Option<String>,
    submitted: Option<(&str, &FormData, &FormErrors)>,
) -> Markup {
    let file: Result<Value, Problem> = call::query(
        state,
        s,
        "handover.dossier",
        "kansrijk.qry.overdracht.dossier",
        &json!({ "dossierId": id }),
    )
    .await;
    let errors = submitted.map(|(_, _, e)| e.clone()).unwrap_or_default();
    let heading = file
        .as_ref()
        .map(child_name)
        .unwrap_or_else(|_| "Overdracht".into());
    let title = if errors.is_empty() {
        heading.clone()
    } else {
        format!("Fout: {heading}")
    };
    let ctx = state.ctx(Some(s), flash, "/school");
    page(
        &ctx,
        &title,
        html! {
            p { a href="/school" { "Terug naar ontvangen overdrachten" } }
            h1 { (heading) }
            (error_summary(&errors))
            @match &file {
                Err(p) => { (super::unavailable(p)) }
                Ok(f) => {
                    div class="card" {
                        h2 { (kind_label(&st(f, "soort"))) }
                        (render_value(f))
                    }
                    div class="cards" {
                        @for a in actions(s) {
                            @let sub = submitted.filter(|(k, _, _)| *k == a.key).map(|(_, f, e)| (f, e));
                            (a.render(s, &format!("/school/dossier/{id}/{}", a.key), sub))
                        }
                    }
                }
            }
        },
    )
}

async fn file_page(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path(id): Path<Uuid>,
) -> Response {
    if let Some(r) = school_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    (jar, render_file(&state, &s, id, flash, None).await).into_response()
}

async fn file_action(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path((id, action)): Path<(Uuid, String)>,
    f: FormData,
) -> Response {
    if let Some(r) = school_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let Some(a) = actions(&s).into_iter().find(|a| a.key == action) else {
        return super::forbidden(&state, &s);
    };
    let mut errors = FormErrors::default();
    let mut body = a.validate(&f, &mut errors);
    body.insert("dossierId".into(), json!(id));
    if errors.is_empty() {
        let before = inbox_data(&state, &s).await.ok();
        match call::command(
            &state,
            &s,
            a.policy,
            a.subject,
            &Value::Object(body),
            f.command_id(),
        )
        .await
        {
            Ok(_) => {
                for _ in 0..10 {
                    if inbox_data(&state, &s).await.ok() != before {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let jar = with_flash(&state, jar, a.done);
                return (jar, Redirect::to(&format!("/school/dossier/{id}"))).into_response();
            }
            Err(p) => {
                let map: Vec<(&str, &str)> = a.field_map();
                call::problem_to_errors(&p, &map, &mut errors);
            }
        }
    }
    (
        StatusCode::BAD_REQUEST,
        render_file(&state, &s, id, None, Some((a.key, &f, &errors))).await,
    )
        .into_response()
}

//! Childcare (kinderopvang, voorschool): its own referrals, waiting list and placements; accept a
//! referral, put on the waiting list, start a placement, change hours, record attendance, end.

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
use crate::layout::{self, error_summary, page, FormErrors};
use crate::pages::jgz::status_badge;
use crate::session::Session;
use crate::{csrf_refused, take_flash, with_flash, WebState};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/kinderopvang", get(overview))
        .route("/kinderopvang/kind/{kind}/{item}/{id}", get(item_page))
        .route(
            "/kinderopvang/kind/{kind}/{item}/{id}/{action}",
            post(item_action),
        )
}

const END_REASONS: &[(&str, &str)] = &[
    ("", "Kies een reden"),
    ("naar-basisschool", "Naar de basisschool"),
    ("verhuisd", "Verhuisd"),
    ("ouders-gestopt", "Ouders gestopt"),
    ("andere-locatie", "Naar een andere locatie"),
    ("overig", "Overig"),
];

const REFERRAL_ACTIONS: &[Action] = &[
    Action {
        key: "accepteren",
        title: "Verwijzing accepteren",
        button: "Accepteren",
        policy: "vve.verwijzing-accepteren",
        subject: "kansrijk.cmd.vve.verwijzing-accepteren",
        inputs: &[Input::new("acc-datum", "Datum", Kind::Date(true), "datum")],
        done: "De verwijzing is geaccepteerd.",
        secondary: false,
    },
    Action {
        key: "wachtlijst",
        title: "Op de wachtlijst plaatsen",
        button: "Op wachtlijst plaatsen",
        policy: "vve.wachtlijst-plaatsen",
        subject: "kansrijk.cmd.vve.wachtlijst-plaatsen",
        inputs: &[
            Input::new("wl-datum", "Datum", Kind::Date(true), "datum"),
            Input::new(
                "wl-start",
                "Verwachte startdatum",
                Kind::Date(false),
                "verwachteStart",
            ),
        ],
        done: "Het kind staat op de wachtlijst.",
        secondary: true,
    },
    Action {
        key: "plaatsen",
        title: "Plaatsing starten",
        button: "Plaatsing starten",
        policy: "vve.plaatsing-starten",
        subject: "kansrijk.cmd.vve.plaatsing-starten",
        inputs: &[
            Input::new("pl-start", "Startdatum", Kind::Date(true), "startdatum"),
            Input::new(
                "pl-uren",
                "Uren per week",
                Kind::Number(0, 40),
                "urenPerWeek",
            )
            .hint("VVE is ten minste 16 uur per week."),
        ],
        done: "De plaatsing is gestart.",
        secondary: false,
    },
];

const PLACEMENT_ACTIONS: &[Action] = &[
    Action {
        key: "uren",
        title: "Uren wijzigen",
        button: "Uren wijzigen",
        policy: "vve.uren-wijzigen",
        subject: "kansrijk.cmd.vve.uren-wijzigen",
        inputs: &[
            Input::new("uw-datum", "Datum van ingang", Kind::Date(true), "perDatum"),
            Input::new(
                "uw-uren",
                "Uren per week",
                Kind::Number(0, 40),
                "urenPerWeek",
            ),
        ],
        done: "De uren zijn gewijzigd.",
        secondary: false,
    },
    Action {
        key: "aanwezigheid",
        title: "Aanwezigheid per maand",
        button: "Aanwezigheid vastleggen",
        policy: "vve.aanwezigheid-registreren",
        subject: "kansrijk.cmd.vve.aanwezigheid-registreren",
        inputs: &[
            Input::new("aw-maand", "Maand", Kind::Month, "maand")
                .hint("Als jjjj-mm, bijvoorbeeld 2026-09."),
            Input::new("aw-uren", "Uren aanwezig", Kind::Number(0, 744), "uren"),
        ],
        done: "De aanwezigheid is vastgelegd.",
        secondary: true,
    },
    Action {
        key: "beeindigen",
        title: "Plaatsing beëindigen",
        button: "Plaatsing beëindigen",
        policy: "vve.plaatsing-beeindigen",
        subject: "kansrijk.cmd.vve.plaatsing-beeindigen",
        inputs: &[
            Input::new("eind-datum", "Einddatum", Kind::Date(true), "einddatum"),
            Input::new("eind-reden", "Reden", Kind::Select(END_REASONS), "reden"),
        ],
        done: "De plaatsing is beëindigd.",
        secondary: true,
    },
];

fn childcare_only(state: &WebState, s: &Session) -> Option<Response> {
    (s.organisation_type != OrganisationType::Kinderopvang).then(|| super::forbidden(state, s))
}

async fn fetch(state: &WebState, s: &Session) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "vve.kinderopvang",
        "kansrijk.qry.vve.kinderopvang",
        &json!({}),
    )
    .await
}

fn name(v: &Value) -> String {
    format!(
        "{} {}",
        v.get("voornaam").and_then(Value::as_str).unwrap_or(""),
        v.get("achternaam").and_then(Value::as_str).unwrap_or("")
    )
}

fn st(v: &Value, f: &str) -> String {
    v.get(f).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn referral_table(caption: &str, rows: &[Value]) -> Markup {
    html! {
        @if rows.is_empty() {
            h2 { (caption) }
            p { "Geen." }
        } @else {
            div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                table {
                    caption { (caption) " (" (rows.len()) ")" }
                    thead { tr {
                        th scope="col" { "Kind" }
                        th scope="col" { "Geboortedatum" }
                        th scope="col" { "Doorverwezen op" }
                        th scope="col" { "Status" }
                        th scope="col" { "Verwachte start" }
                    } }
                    tbody { @for r in rows { tr {
                        th scope="row" { a href={ "/kinderopvang/kind/" (st(r, "kindId")) "/verwijzing/" (st(r, "verwijzingId")) } { (name(r)) } }
                        td { (layout::date_nl(&st(r, "geboortedatum"))) }
                        td { (layout::date_nl(&st(r, "doorverwezenOp"))) }
                        td { (status_badge(&st(r, "status"))) }
                        td { @if st(r, "verwachteStart").is_empty() { span class="muted" { "onbekend" } } @else { (layout::date_nl(&st(r, "verwachteStart"))) } }
                    } } }
                }
            }
        }
    }
}

async fn overview(State(state): State<WebState>, s: Session, jar: PrivateCookieJar) -> Response {
    if let Some(r) = childcare_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    let data = fetch(&state, &s).await;
    let ctx = state.ctx(Some(&s), flash, "/kinderopvang");
    let markup = page(
        &ctx,
        "Verwijzingen en plaatsingen",
        html! {
            h1 { "Verwijzingen en plaatsingen" }
            p class="lead" { "Kinderen die JGZ naar uw locatie heeft doorverwezen, uw wachtlijst en uw VVE-plaatsingen." }
            @match &data {
                Err(p) => { (super::unavailable(p)) }
                Ok(d) => {
                    @let arr = |f: &str| d.get(f).and_then(Value::as_array).cloned().unwrap_or_default();
                    @let verw = arr("verwijzingen");
                    @let wacht = arr("wachtlijst");
                    @let plaats = arr("plaatsingen");
                    div class="cards" {
                        div class="card" { h2 { "Nieuwe verwijzingen" } p class="kpi" { (verw.len()) } }
                        div class="card" { h2 { "Op de wachtlijst" } p class="kpi" { (wacht.len()) } }
                        div class="card" { h2 { "Plaatsingen" } p class="kpi" { (plaats.len()) } }
                    }
                    (referral_table("Verwijzingen", &verw))
                    (referral_table("Wachtlijst", &wacht))
                    @if plaats.is_empty() {
                        h2 { "Plaatsingen" }
                        p { "Geen." }
                    } @else {
                        div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                            table {
                                caption { "Plaatsingen (" (plaats.len()) ")" }
                                thead { tr {
                                    th scope="col" { "Kind" }
                                    th scope="col" { "Startdatum" }
                                    th scope="col" { "Einddatum" }
                                    th scope="col" class="num" { "Uren per week" }
                                } }
                                tbody { @for p in &plaats { tr {
                                    th scope="row" { a href={ "/kinderopvang/kind/" (st(p, "kindId")) "/plaatsing/" (st(p, "plaatsingId")) } { (name(p)) } }
                                    td { (layout::date_nl(&st(p, "startdatum"))) }
                                    td { @if st(p, "einddatum").is_empty() { (layout::badge(layout::Tone::Success, "Loopt")) } @else { (layout::date_nl(&st(p, "einddatum"))) } }
                                    td class="num" {
                                        @let uren = p.get("urenPerWeek").and_then(Value::as_u64).unwrap_or(0);
                                        (uren)
                                        @if uren < 16 { " " (layout::badge(layout::Tone::Warning, "minder dan 16")) }
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

fn actions_of(item: &str) -> Option<&'static [Action]> {
    match item {
        "verwijzing" => Some(REFERRAL_ACTIONS),
        "plaatsing" => Some(PLACEMENT_ACTIONS),
        _ => None,
    }
}

async fn render_item(
    state: &WebState,
    s: &Session,
    kind: Uuid,
    item: &str,
    id: Uuid,
    flash: Option<String>,
    submitted: Option<(&str, &FormData, &FormErrors)>,
) -> Markup {
    let data = fetch(state, s).await;
    let found = data.as_ref().ok().and_then(|d| {
        let lists: &[&str] = if item == "verwijzing" {
            &["verwijzingen", "wachtlijst"]
        } else {
            &["plaatsingen"]
        };
        let key = if item == "verwijzing" {
            "verwijzingId"
        } else {
            "plaatsingId"
        };
        lists
            .iter()
            .flat_map(|l| {
                d.get(*l)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|r| st(r, key) == id.to_string())
    });
    let actions = actions_of(item).unwrap_or(&[]);
    let errors = submitted.map(|(_, _, e)| e.clone()).unwrap_or_default();
    let heading = found.as_ref().map(name).unwrap_or_else(|| "Kind".into());
    let title = if errors.is_empty() {
        heading.clone()
    } else {
        format!("Fout: {heading}")
    };
    let ctx = state.ctx(Some(s), flash, "/kinderopvang");
    page(
        &ctx,
        &title,
        html! {
            p { a href="/kinderopvang" { "Terug naar het overzicht" } }
            h1 { (heading) }
            (error_summary(&errors))
            @match &found {
                None => { div class="notice" { p { "Deze " (item) " staat niet (meer) in uw overzicht." } } }
                Some(r) => {
                    div class="card" {
                        h2 { @if item == "verwijzing" { "Verwijzing" } @else { "Plaatsing" } }
                        dl class="summary" {
                            dt { "Geboortedatum" } dd { (layout::date_nl(&st(r, "geboortedatum"))) }
                            @if item == "verwijzing" {
                                dt { "Doorverwezen op" } dd { (layout::date_nl(&st(r, "doorverwezenOp"))) }
                                dt { "Status" } dd { (status_badge(&st(r, "status"))) }
                            } @else {
                                dt { "Startdatum" } dd { (layout::date_nl(&st(r, "startdatum"))) }
                                dt { "Uren per week" } dd { (r.get("urenPerWeek").and_then(Value::as_u64).unwrap_or(0)) }
                                @if !st(r, "einddatum").is_empty() { dt { "Einddatum" } dd { (layout::date_nl(&st(r, "einddatum"))) } }
                            }
                        }
                    }
                    div class="cards" {
                        @for a in actions {
                            @let sub = submitted.filter(|(k, _, _)| *k == a.key).map(|(_, f, e)| (f, e));
                            (a.render(s, &format!("/kinderopvang/kind/{kind}/{item}/{id}/{}", a.key), sub))
                        }
                    }
                }
            }
        },
    )
}

async fn item_page(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path((kind, item, id)): Path<(Uuid, String, Uuid)>,
) -> Response {
    if let Some(r) = childcare_only(&state, &s) {
        return r;
    }
    if actions_of(&item).is_none() {
        return super::forbidden(&state, &s);
    }
    let (jar, flash) = take_flash(jar);
    (
        jar,
        render_item(&state, &s, kind, &item, id, flash, None).await,
    )
        .into_response()
}

async fn item_action(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path((kind, item, id, action)): Path<(Uuid, String, Uuid, String)>,
    f: FormData,
) -> Response {
    if let Some(r) = childcare_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let Some(a) = actions_of(&item).and_then(|l| l.iter().find(|a| a.key == action)) else {
        return super::forbidden(&state, &s);
    };
    let mut errors = FormErrors::default();
    let mut body = a.validate(&f, &mut errors);
    body.insert("kindId".into(), json!(kind));
    match item.as_str() {
        "verwijzing" => {
            body.insert("verwijzingId".into(), json!(id));
        }
        _ => {
            body.insert("plaatsingId".into(), json!(id));
        }
    }
    if errors.is_empty() {
        // Read-your-writes: wait (bounded) until the overview shows a change.
        let before = fetch(&state, &s).await.ok();
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
                for _ in 0..15 {
                    if fetch(&state, &s).await.ok() != before {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let jar = with_flash(&state, jar, a.done);
                let to = if item == "verwijzing" {
                    "/kinderopvang".to_owned()
                } else {
                    format!("/kinderopvang/kind/{kind}/plaatsing/{id}")
                };
                return (jar, Redirect::to(&to)).into_response();
            }
            Err(p) => call::problem_to_errors(&p, &a.field_map(), &mut errors),
        }
    }
    (
        StatusCode::BAD_REQUEST,
        render_item(
            &state,
            &s,
            kind,
            &item,
            id,
            None,
            Some((a.key, &f, &errors)),
        )
        .await,
    )
        .into_response()
}

//! Youth team (jeugd- en gezinsteam, case director): the caseload, opening a case, and one
//! family's plan: concerns, goals, consents, reviews and hours.

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
use crate::form::{render_with_choice, ChoiceField, Choices, FormData};
use crate::layout::{self, badge, error_summary, page, FormErrors, Tone};
use crate::session::Session;
use crate::{csrf_refused, take_flash, with_flash, WebState};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/jeugdteam", get(caseload))
        .route("/jeugdteam/casus-openen", post(open_case))
        .route("/jeugdteam/casus/{id}", get(case_page))
        .route("/jeugdteam/casus/{id}/{action}", post(case_action))
}

const PRIORITIES: &[(&str, &str)] = &[
    ("", "Kies de prioriteit"),
    ("hoog", "Hoog"),
    ("middel", "Middel"),
    ("laag", "Laag"),
];
const PARTS: &[(&str, &str)] = &[
    ("gezinsleden", "Gezinsleden"),
    ("sterke-punten", "Wat goed gaat"),
    ("zorgen", "Zorgen"),
    ("netwerk", "Netwerk"),
    ("doelen-acties", "Doelen en acties"),
    ("evaluaties", "Evaluaties"),
    ("uren", "Uren"),
    ("veiligheid", "Veiligheid"),
];
const GIVERS: &[(&str, &str)] = &[
    ("", "Kies wie toestemming gaf"),
    ("ouders", "Beide ouders"),
    ("ouder", "Eén ouder"),
    ("jongere", "De jongere zelf"),
];
const HOURS_KINDS: &[(&str, &str)] = &[
    ("", "Kies de soort"),
    ("regie", "Regie"),
    ("ondersteuning", "Ondersteuning"),
];

const OPEN: Action = Action {
    key: "openen",
    title: "Casus openen",
    button: "Casus openen",
    policy: "casework.casus-openen",
    subject: "kansrijk.cmd.casework.casus-openen",
    inputs: &[
        Input::new("open-datum", "Datum", Kind::Date(true), "geopendOp"),
        Input::new(
            "ouder-voornaam",
            "Voornaam ouder",
            Kind::Text,
            "gezinsleden",
        ),
        Input::new(
            "ouder-achternaam",
            "Achternaam ouder",
            Kind::Text,
            "gezinsleden",
        ),
        Input::new("kind-voornaam", "Voornaam kind", Kind::Text, "gezinsleden"),
        Input::new(
            "kind-achternaam",
            "Achternaam kind",
            Kind::Text,
            "gezinsleden",
        ),
        Input::new(
            "kind-geboortedatum",
            "Geboortedatum kind",
            Kind::Date(false),
            "gezinsleden",
        ),
    ],
    done: "De casus is geopend. Stel nu met het gezin het plan op.",
    secondary: false,
};

const ORG_TYPES: &[(&str, &str)] = &[
    ("", "Kies het soort organisatie"),
    ("jgz", "Jeugdgezondheidszorg (JGZ)"),
    ("kinderopvang", "Kinderopvang"),
    ("basisschool", "Basisschool"),
    ("voortgezet-onderwijs", "Voortgezet onderwijs"),
    ("jeugdteam", "Jeugd- en gezinsteam"),
];
const OUTCOMES: &[(&str, &str)] = &[
    ("", "Kies de uitkomst"),
    ("doelen-behaald", "Doelen behaald"),
    ("overgedragen", "Overgedragen"),
    ("verhuisd", "Verhuisd"),
    ("gestopt-door-gezin", "Gestopt door het gezin"),
    (
        "overgenomen-door-veilig-thuis",
        "Overgenomen door Veilig Thuis",
    ),
];

const CASE_ACTIONS: &[Action] = &[
    Action {
        key: "deelnemer",
        title: "Deelnemer toevoegen",
        button: "Deelnemer toevoegen",
        policy: "casework.deelnemer-toevoegen",
        subject: "kansrijk.cmd.casework.deelnemer-toevoegen",
        inputs: &[
            Input::new("dn-organisatie", "Organisatie", Kind::Text, "organisatie").hint("Het organisatienummer (OIN, KvK, BRIN of LRK)."),
            Input::new("dn-type", "Soort organisatie", Kind::Select(ORG_TYPES), "organisatietype"),
            Input::new("dn-datum", "Datum", Kind::Date(true), "datum"),
        ],
        done: "De deelnemer is toegevoegd. Zonder toestemming ziet die alleen dat de casus bestaat en wie de regie heeft.",
        secondary: true,
    },
    Action {
        key: "zorg",
        title: "Zorg vastleggen",
        button: "Zorg vastleggen",
        policy: "casework.zorg-vastleggen",
        subject: "kansrijk.cmd.casework.zorg-vastleggen",
        inputs: &[
            Input::new(
                "zorg-omschrijving",
                "Omschrijving",
                Kind::LongText,
                "omschrijving",
            ),
            Input::new(
                "zorg-prioriteit",
                "Prioriteit",
                Kind::Select(PRIORITIES),
                "prioriteit",
            ),
            Input::new("zorg-datum", "Datum", Kind::Date(true), "vastgelegdOp"),
        ],
        done: "De zorg is vastgelegd.",
        secondary: false,
    },
    Action {
        key: "doel",
        title: "Doel stellen",
        button: "Doel stellen",
        policy: "casework.doel-stellen",
        subject: "kansrijk.cmd.casework.doel-stellen",
        inputs: &[
            Input::new(
                "doel-omschrijving",
                "Omschrijving",
                Kind::LongText,
                "omschrijving",
            ),
            Input::new(
                "doel-streefdatum",
                "Streefdatum",
                Kind::Date(false),
                "streefdatum",
            ),
            Input::new("doel-datum", "Datum", Kind::Date(true), "gesteldOp"),
        ],
        done: "Het doel is gesteld.",
        secondary: false,
    },
    Action {
        key: "toestemming",
        title: "Toestemming vastleggen",
        button: "Toestemming vastleggen",
        policy: "casework.toestemming-registreren",
        subject: "kansrijk.cmd.casework.toestemming-registreren",
        inputs: &[
            Input::new("tst-organisatie", "Organisatie", Kind::Text, "organisatie")
                .hint("Het organisatienummer (OIN, KvK, BRIN of LRK) van de deelnemer."),
            Input::new(
                "tst-onderdelen",
                "Onderdelen van het plan",
                Kind::Multi(PARTS),
                "onderdelen",
            ),
            Input::new(
                "tst-gegeven",
                "Datum gegeven",
                Kind::Date(true),
                "gegevenOp",
            ),
            Input::new("tst-tot", "Geldig tot", Kind::Date(false), "geldigTot"),
            Input::new(
                "tst-door",
                "Gegeven door",
                Kind::Select(GIVERS),
                "gegevenDoor",
            ),
        ],
        done: "De toestemming is vastgelegd.",
        secondary: true,
    },
    Action {
        key: "plan",
        title: "Plan vaststellen",
        button: "Plan vaststellen",
        policy: "casework.plan-vaststellen",
        subject: "kansrijk.cmd.casework.plan-vaststellen",
        inputs: &[Input::new(
            "plan-datum",
            "Datum",
            Kind::Date(true),
            "vastgesteldOp",
        )],
        done: "Het plan is vastgesteld.",
        secondary: false,
    },
    Action {
        key: "evaluatie",
        title: "Evaluatie plannen",
        button: "Evaluatie plannen",
        policy: "casework.evaluatie-plannen",
        subject: "kansrijk.cmd.casework.evaluatie-plannen",
        inputs: &[Input::new(
            "eval-datum",
            "Datum van de evaluatie",
            Kind::Date(false),
            "gepland",
        )
        .hint("6 tot 10 maanden na het plan of de vorige evaluatie.")],
        done: "De evaluatie is gepland.",
        secondary: true,
    },
    Action {
        key: "uren",
        title: "Uren registreren",
        button: "Uren registreren",
        policy: "casework.uren-registreren",
        subject: "kansrijk.cmd.casework.uren-registreren",
        inputs: &[
            Input::new("uren-datum", "Datum", Kind::Date(true), "datum"),
            Input::new("uren-minuten", "Minuten", Kind::Number(1, 1440), "minuten"),
            Input::new("uren-soort", "Soort", Kind::Select(HOURS_KINDS), "soort"),
        ],
        done: "De uren zijn geregistreerd.",
        secondary: true,
    },
    Action {
        key: "sluiten",
        title: "Casus sluiten",
        button: "Casus sluiten",
        policy: "casework.casus-sluiten",
        subject: "kansrijk.cmd.casework.casus-sluiten",
        inputs: &[
            Input::new("sl-datum", "Datum", Kind::Date(true), "geslotenOp"),
            Input::new("sl-uitkomst", "Uitkomst", Kind::Select(OUTCOMES), "uitkomst"),
            Input::new("sl-toelichting", "Toelichting", Kind::OptionalText, "toelichting"),
        ],
        done: "De casus is gesloten.",
        secondary: true,
    },
];

fn team_only(state: &WebState, s: &Session) -> Option<Response> {
    (s.organisation_type != OrganisationType::Jeugdteam).then(|| super::forbidden(state, s))
}

fn st(v: &Value, f: &str) -> String {
    v.get(f).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn family(v: &Value) -> String {
    let members = v
        .get("gezinsleden")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = members
        .iter()
        .map(|m| format!("{} {}", st(m, "voornaam"), st(m, "achternaam")))
        .collect();
    if names.is_empty() {
        "Gezin".into()
    } else {
        format!("Gezin {}", names.join(", "))
    }
}

async fn fetch_caseload(state: &WebState, s: &Session) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "casework.werklijst",
        "kansrijk.qry.casework.werklijst",
        &json!({}),
    )
    .await
}

fn caseload_page(
    state: &WebState,
    s: &Session,
    flash: Option<String>,
    data: &Result<Value, Problem>,
    districts: &Choices,
    submitted: Option<(&FormData, &FormErrors)>,
) -> Markup {
    let ctx = state.ctx(Some(s), flash, "/jeugdteam");
    let errors = submitted.map(|(_, e)| e.clone()).unwrap_or_default();
    page(
        &ctx,
        if errors.is_empty() {
            "Caseload"
        } else {
            "Fout: caseload"
        },
        html! {
            h1 { "Mijn caseload" }
            p class="lead" { "De gezinnen waarvoor u de regie heeft: één gezin, één plan." }
            (error_summary(&errors))
            @match data {
                Err(p) => { (super::unavailable(p)) }
                Ok(d) => {
                    @let cases = d.get("casussen").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if cases.is_empty() {
                        div class="card" { p { "U heeft nog geen casussen." } }
                    } @else {
                        div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                            table {
                                caption { "Casussen (" (cases.len()) ")" }
                                thead { tr {
                                    th scope="col" { "Gezin" }
                                    th scope="col" { "Wijk" }
                                    th scope="col" { "Geopend" }
                                    th scope="col" { "Status" }
                                    th scope="col" class="num" { "Open acties" }
                                    th scope="col" { "Volgende evaluatie" }
                                    th scope="col" class="num" { "Uren regie" }
                                } }
                                tbody { @for c in &cases { tr {
                                    th scope="row" { a href={ "/jeugdteam/casus/" (st(c, "casusId")) } { (family(c)) } }
                                    td { (st(c, "wijk")) }
                                    td { (layout::date_nl(&st(c, "geopendOp"))) }
                                    td { (badge(Tone::Info, &st(c, "status"))) }
                                    td class="num" { (c.get("openActies").and_then(Value::as_i64).unwrap_or(0)) }
                                    td {
                                        @if st(c, "volgendeEvaluatieUiterlijk").is_empty() { span class="muted" { "niet gepland" } } @else { (layout::date_nl(&st(c, "volgendeEvaluatieUiterlijk"))) }
                                        @if c.get("evaluatieTeLaat").and_then(Value::as_bool).unwrap_or(false) { " " (badge(Tone::Danger, "te laat")) }
                                    }
                                    td class="num" {
                                        (format!("{:.1}", c.get("urenRegie").and_then(Value::as_f64).unwrap_or(0.0))) " / " (c.get("urenbudgetRegie").and_then(Value::as_i64).unwrap_or(0))
                                        @if c.get("budgetOverschreden").and_then(Value::as_bool).unwrap_or(false) { " " (badge(Tone::Warning, "budget overschreden")) }
                                    }
                                } } }
                            }
                        }
                    }
                }
            }
            (render_with_choice(&OPEN, s, "/jeugdteam/casus-openen", submitted, district_field(districts)))
        },
    )
}

/// The district of a new case: one of the municipality's districts in the registry.
fn district_field(districts: &Choices) -> ChoiceField<'_> {
    ChoiceField {
        id: "open-wijk",
        label: "Wijk",
        hint: Some("De wijk waar het gezin woont."),
        choices: districts,
        default: "",
        position: 0,
    }
}

/// The municipality's districts as choices (a notice when the registry does not answer).
async fn district_choices(state: &WebState, s: &Session) -> Choices {
    match call::districts(state, s).await {
        Ok(list) => Choices::new("Kies de wijk", list.into_iter().map(|d| (d.clone(), d))),
        Err(_) => Choices::unavailable(
            "Kies de wijk",
            "De lijst met wijken is nu niet beschikbaar. Probeer het later opnieuw.",
        ),
    }
}

async fn caseload(State(state): State<WebState>, s: Session, jar: PrivateCookieJar) -> Response {
    if let Some(r) = team_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    let data = fetch_caseload(&state, &s).await;
    let districts = district_choices(&state, &s).await;
    (
        jar,
        caseload_page(&state, &s, flash, &data, &districts, None),
    )
        .into_response()
}

async fn open_case(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    f: FormData,
) -> Response {
    if let Some(r) = team_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let mut errors = FormErrors::default();
    let districts = district_choices(&state, &s).await;
    let district = district_field(&districts).validate(&f, &mut errors);
    let _ = OPEN.validate(&f, &mut errors);
    errors.order_by(&["open-wijk"]);
    if errors.is_empty() {
        let body = json!({
            "wijk": district,
            "geopendOp": f.get("open-datum"),
            "gezinsleden": [
                { "rol": "ouder", "voornaam": f.get("ouder-voornaam"), "achternaam": f.get("ouder-achternaam") },
                { "rol": "kind", "voornaam": f.get("kind-voornaam"), "achternaam": f.get("kind-achternaam"), "geboortedatum": f.get("kind-geboortedatum") },
            ],
        });
        let before = fetch_caseload(&state, &s).await.ok();
        match call::command(&state, &s, OPEN.policy, OPEN.subject, &body, f.command_id()).await {
            Ok(reply) => {
                for _ in 0..15 {
                    if fetch_caseload(&state, &s).await.ok() != before {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let id = st(&reply, "streamId");
                let jar = with_flash(&state, jar, OPEN.done);
                return (jar, Redirect::to(&format!("/jeugdteam/casus/{id}"))).into_response();
            }
            Err(p) => call::problem_to_errors(
                &p,
                &[
                    ("wijk", "open-wijk"),
                    ("geopendOp", "open-datum"),
                    ("gezinsleden", "ouder-voornaam"),
                ],
                &mut errors,
            ),
        }
    }
    let data = fetch_caseload(&state, &s).await;
    (
        StatusCode::BAD_REQUEST,
        caseload_page(&state, &s, None, &data, &districts, Some((&f, &errors))),
    )
        .into_response()
}

fn render_value(v: &Value) -> Markup {
    match v {
        Value::Object(m) => html! {
            dl class="summary" { @for (k, v) in m { dt { (layout::humanise(k)) } dd { (render_value(v)) } } }
        },
        Value::Array(a) if a.is_empty() => html! { span class="muted" { "geen" } },
        Value::Array(a) => html! { ul { @for v in a { li { (render_value(v)) } } } },
        Value::Null => html! { span class="muted" { "niet ingevuld" } },
        Value::Bool(b) => html! { @if *b { "ja" } @else { "nee" } },
        Value::String(s) => html! { (layout::date_or_text(s)) },
        other => html! { (other.to_string()) },
    }
}

/// The forms whose choices come from the plan itself: an action for one of the goals, the
/// minutes of one of the planned reviews.
fn dynamic_forms(
    s: &Session,
    id: Uuid,
    case: &Value,
    submitted: Option<(&str, &FormData, &FormErrors)>,
) -> Markup {
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let goals: Vec<(String, String)> = list(case.get("doelen"))
        .iter()
        .map(|g| (st(g, "doelId"), st(g, "omschrijving")))
        .collect();
    let reviews: Vec<(String, String)> =
        list(case.get("evaluaties").and_then(|e| e.get("evaluaties")))
            .iter()
            .filter(|r| st(r, "gehoudenOp").is_empty())
            .map(|r| {
                (
                    st(r, "evaluatieId"),
                    format!("Gepland op {}", layout::date_nl(&st(r, "gepland"))),
                )
            })
            .collect();
    let empty_f = FormData::default();
    let empty_e = FormErrors::default();
    let pick = |key: &str| match submitted {
        Some((k, f, e)) if k == key => (f, e),
        _ => (&empty_f, &empty_e),
    };
    let today = chrono::Utc::now().date_naive().to_string();
    let value = |f: &FormData, field: &str, default: &str| {
        if f.0.is_empty() {
            default.to_owned()
        } else {
            f.get(field)
        }
    };
    let mut goal_opts: Vec<(&str, &str)> = vec![("", "Kies een doel")];
    goal_opts.extend(goals.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let mut review_opts: Vec<(&str, &str)> = vec![("", "Kies een evaluatie")];
    review_opts.extend(reviews.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let consents: Vec<(String, String)> = list(case.get("toestemmingen"))
        .iter()
        .filter(|c| st(c, "ingetrokkenOp").is_empty())
        .map(|c| {
            (
                st(c, "toestemmingId"),
                format!(
                    "{} (geldig tot {})",
                    st(c, "organisatie"),
                    layout::date_nl(&st(c, "geldigTot"))
                ),
            )
        })
        .collect();
    let mut consent_opts: Vec<(&str, &str)> = vec![("", "Kies een toestemming")];
    consent_opts.extend(consents.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let (cf, ce) = pick("intrekken");
    let (af, ae) = pick("actie");
    let (rf, re) = pick("evaluatie-verslag");
    html! {
        @if !goals.is_empty() {
            div class="card" {
                h2 id="actie-titel" { "Actie toewijzen" }
                form method="post" action={ "/jeugdteam/casus/" (id) "/actie" } novalidate aria-labelledby="actie-titel" {
                    (layout::form_guard(s, &Uuid::new_v4()))
                    (layout::select("actie-doel", "Doel", None, &goal_opts, &af.get("actie-doel"), ae))
                    (layout::Field::text("actie-organisatie", "Organisatie", &value(af, "actie-organisatie", &s.organisation)).hint("Het organisatienummer van wie de actie uitvoert.").width("middel").render(ae))
                    (layout::Field::text("actie-omschrijving", "Omschrijving", &af.get("actie-omschrijving")).render(ae))
                    (layout::Field::text("actie-deadline", "Deadline", &af.get("actie-deadline")).kind(layout::InputKind::Date).width("kort").render(ae))
                    button type="submit" class="button" { "Actie toewijzen" }
                }
            }
        }
        @if !consents.is_empty() {
            div class="card" {
                h2 id="intrekken-titel" { "Toestemming intrekken" }
                form method="post" action={ "/jeugdteam/casus/" (id) "/intrekken" } novalidate aria-labelledby="intrekken-titel" {
                    (layout::form_guard(s, &Uuid::new_v4()))
                    (layout::select("tin-id", "Toestemming", Some("De organisatie verliest de toegang bij haar volgende bezoek."), &consent_opts, &cf.get("tin-id"), ce))
                    (layout::Field::text("tin-datum", "Ingetrokken op", &value(cf, "tin-datum", &today)).kind(layout::InputKind::Date).width("kort").render(ce))
                    button type="submit" class="button button-secondary" { "Toestemming intrekken" }
                }
            }
        }
        @if !reviews.is_empty() {
            div class="card" {
                h2 id="verslag-titel" { "Evaluatie vastleggen" }
                form method="post" action={ "/jeugdteam/casus/" (id) "/evaluatie-verslag" } novalidate aria-labelledby="verslag-titel" {
                    (layout::form_guard(s, &Uuid::new_v4()))
                    (layout::select("ev-id", "Evaluatie", None, &review_opts, &rf.get("ev-id"), re))
                    (layout::Field::text("ev-datum", "Gehouden op", &value(rf, "ev-datum", &today)).kind(layout::InputKind::Date).width("kort").render(re))
                    (layout::Field::text("ev-verslag", "Kort verslag", &rf.get("ev-verslag")).render(re))
                    button type="submit" class="button button-secondary" { "Evaluatie vastleggen" }
                }
            }
        }
    }
}

type Dynamic = (
    &'static str,
    &'static str,
    serde_json::Map<String, Value>,
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
);

/// Validates a dynamic form: policy, subject, body, field map, confirmation, form key.
fn dynamic_action(action: &str, f: &FormData, errors: &mut FormErrors) -> Option<Dynamic> {
    let date = |field: &str, errors: &mut FormErrors| {
        let v = f.get(field);
        if chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").is_err() {
            errors.add(field, "Vul een geldige datum in.");
        }
        v
    };
    let required = |field: &str, msg: &str, errors: &mut FormErrors| {
        let v = f.get(field);
        if v.is_empty() {
            errors.add(field, msg);
        }
        v
    };
    let mut body = serde_json::Map::new();
    match action {
        "actie" => {
            let doel = required(
                "actie-doel",
                "Kies het doel waar de actie bij hoort.",
                errors,
            );
            let org = required("actie-organisatie", "Vul de organisatie in.", errors);
            let oms = required("actie-omschrijving", "Vul de omschrijving in.", errors);
            let deadline = date("actie-deadline", errors);
            body.insert("doelId".into(), json!(doel));
            body.insert("organisatie".into(), json!(org));
            body.insert("omschrijving".into(), json!(oms));
            body.insert("deadline".into(), json!(deadline));
            body.insert(
                "toegewezenOp".into(),
                json!(chrono::Utc::now().date_naive().to_string()),
            );
            errors.order_by(&[
                "actie-doel",
                "actie-organisatie",
                "actie-omschrijving",
                "actie-deadline",
            ]);
            Some((
                "casework.actie-toewijzen",
                "kansrijk.cmd.casework.actie-toewijzen",
                body,
                vec![
                    ("doelId", "actie-doel"),
                    ("organisatie", "actie-organisatie"),
                    ("omschrijving", "actie-omschrijving"),
                    ("deadline", "actie-deadline"),
                ],
                "De actie is toegewezen.",
                "actie",
            ))
        }
        "intrekken" => {
            let id = required(
                "tin-id",
                "Kies de toestemming die wordt ingetrokken.",
                errors,
            );
            let on = date("tin-datum", errors);
            body.insert("toestemmingId".into(), json!(id));
            body.insert("ingetrokkenOp".into(), json!(on));
            errors.order_by(&["tin-id", "tin-datum"]);
            Some((
                "casework.toestemming-intrekken",
                "kansrijk.cmd.casework.toestemming-intrekken",
                body,
                vec![("toestemmingId", "tin-id"), ("ingetrokkenOp", "tin-datum")],
                "De toestemming is ingetrokken.",
                "intrekken",
            ))
        }
        "evaluatie-verslag" => {
            let ev = required("ev-id", "Kies de evaluatie.", errors);
            let on = date("ev-datum", errors);
            let verslag = required("ev-verslag", "Vul een kort verslag in.", errors);
            body.insert("evaluatieId".into(), json!(ev));
            body.insert("gehoudenOp".into(), json!(on));
            body.insert("verslag".into(), json!(verslag));
            errors.order_by(&["ev-id", "ev-datum", "ev-verslag"]);
            Some((
                "casework.evaluatie-vastleggen",
                "kansrijk.cmd.casework.evaluatie-vastleggen",
                body,
                vec![
                    ("evaluatieId", "ev-id"),
                    ("gehoudenOp", "ev-datum"),
                    ("verslag", "ev-verslag"),
                ],
                "De evaluatie is vastgelegd.",
                "evaluatie-verslag",
            ))
        }
        _ => None,
    }
}

async fn fetch_case(state: &WebState, s: &Session, id: Uuid) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "casework.casus",
        "kansrijk.qry.casework.casus",
        &json!({ "casusId": id }),
    )
    .await
}

async fn render_case(
    state: &WebState,
    s: &Session,
    id: Uuid,
    flash: Option<String>,
    submitted: Option<(&str, &FormData, &FormErrors)>,
) -> Markup {
    let case = fetch_case(state, s, id).await;
    let errors = submitted.map(|(_, _, e)| e.clone()).unwrap_or_default();
    let heading = case.as_ref().map(family).unwrap_or_else(|_| "Casus".into());
    let title = if errors.is_empty() {
        heading.clone()
    } else {
        format!("Fout: {heading}")
    };
    let ctx = state.ctx(Some(s), flash, "/jeugdteam");
    page(
        &ctx,
        &title,
        html! {
            p { a href="/jeugdteam" { "Terug naar de caseload" } }
            h1 { (heading) }
            (error_summary(&errors))
            @match &case {
                Err(p) => { (super::unavailable(p)) }
                Ok(c) => {
                    div class="card" {
                        h2 { "Het gezinsplan" }
                        @let mut shown = c.clone();
                        @if let Some(o) = shown.as_object_mut() { @let _ = o.remove("gezinsleden"); }
                        (render_value(&shown))
                    }
                    div class="cards" {
                        (dynamic_forms(s, id, c, submitted))
                        @for a in CASE_ACTIONS {
                            @let sub = submitted.filter(|(k, _, _)| *k == a.key).map(|(_, f, e)| (f, e));
                            (a.render(s, &format!("/jeugdteam/casus/{id}/{}", a.key), sub))
                        }
                    }
                }
            }
        },
    )
}

async fn case_page(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path(id): Path<Uuid>,
) -> Response {
    if let Some(r) = team_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    (jar, render_case(&state, &s, id, flash, None).await).into_response()
}

async fn case_action(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path((id, action)): Path<(Uuid, String)>,
    f: FormData,
) -> Response {
    if let Some(r) = team_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let mut errors = FormErrors::default();
    let (policy, subject, mut body, fields, done, key) =
        match CASE_ACTIONS.iter().find(|a| a.key == action) {
            Some(a) => (
                a.policy,
                a.subject,
                a.validate(&f, &mut errors),
                a.field_map(),
                a.done,
                a.key,
            ),
            None => match dynamic_action(&action, &f, &mut errors) {
                Some((p, sj, b, m, d, k)) => (p, sj, b, m, d, k),
                None => return super::forbidden(&state, &s),
            },
        };
    body.insert("casusId".into(), json!(id));
    if errors.is_empty() {
        let before = fetch_case(&state, &s, id).await.ok();
        match call::command(
            &state,
            &s,
            policy,
            subject,
            &Value::Object(body),
            f.command_id(),
        )
        .await
        {
            Ok(_) => {
                for _ in 0..15 {
                    if fetch_case(&state, &s, id).await.ok() != before {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let jar = with_flash(&state, jar, done);
                return (jar, Redirect::to(&format!("/jeugdteam/casus/{id}"))).into_response();
            }
            Err(p) => call::problem_to_errors(&p, &fields, &mut errors),
        }
    }
    (
        StatusCode::BAD_REQUEST,
        render_case(&state, &s, id, None, Some((key, &f, &errors))).await,
    )
        .into_response()
}

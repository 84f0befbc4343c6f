//! Primary school PO-VO files (onderwijskundig rapport): create, provisional advice, test result,
//! reconsideration, final advice, parents informed and their view, enrolment school, sending.

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

use crate::actions::{nest, Action, Input, Kind};
use crate::call;
use crate::form::{
    recorded_school, render_with_choice, school_body, school_choices, ChoiceField, Choices,
    FormData,
};
use crate::layout::{self, error_summary, page, FormErrors};
use crate::pages::childcare_handover::status_badge;
use crate::session::Session;
use crate::{csrf_refused, take_flash, with_flash, WebState};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/school/po-vo", get(outbox).post(create))
        .route("/school/po-vo/{id}", get(file_page))
        .route("/school/po-vo/{id}/{action}", post(file_action))
}

const LEVELS: &[(&str, &str)] = &[
    ("", "Kies een niveau"),
    ("praktijkonderwijs", "Praktijkonderwijs"),
    ("vmbo-bb", "vmbo-bb"),
    ("vmbo-bb-kb", "vmbo-bb/kb"),
    ("vmbo-kb", "vmbo-kb"),
    ("vmbo-kb-gt", "vmbo-kb/gt"),
    ("vmbo-gt", "vmbo-gt"),
    ("vmbo-gt-havo", "vmbo-gt/havo"),
    ("havo", "havo"),
    ("havo-vwo", "havo/vwo"),
    ("vwo", "vwo"),
];
const YES_NO: &[(&str, &str)] = &[("", "Kies ja of nee"), ("ja", "Ja"), ("nee", "Nee")];
const HOW: &[(&str, &str)] = &[
    ("", "Kies hoe"),
    ("gesprek", "In een gesprek"),
    ("brief", "Per brief"),
    ("digitaal", "Digitaal"),
    ("telefonisch", "Telefonisch"),
];

const CREATE: Action = Action {
    key: "aanmaken",
    title: "Nieuw onderwijskundig rapport",
    button: "Dossier aanmaken",
    policy: "handover.oso-dossier-aanmaken",
    subject: "kansrijk.cmd.overdracht.oso-dossier-aanmaken",
    inputs: &[
        Input::new(
            "o-voornaam",
            "Voornaam leerling",
            Kind::Text,
            "leerling.voornaam",
        ),
        Input::new(
            "o-achternaam",
            "Achternaam leerling",
            Kind::Text,
            "leerling.achternaam",
        ),
        Input::new(
            "o-geboortedatum",
            "Geboortedatum",
            Kind::Date(false),
            "leerling.geboortedatum",
        ),
        Input::new("o-schooljaar", "Schooljaar", Kind::Text, "schooljaar")
            .hint("Bijvoorbeeld 2025-2026."),
        Input::new(
            "o-ondersteuning",
            "Ondersteuning",
            Kind::LongText,
            "inhoud.ondersteuning",
        ),
        Input::new(
            "o-geoorloofd",
            "Geoorloofd verzuim (dagen)",
            Kind::Number(0, 366),
            "inhoud.verzuim.geoorloofdDagen",
        ),
        Input::new(
            "o-ongeoorloofd",
            "Ongeoorloofd verzuim (dagen)",
            Kind::Number(0, 366),
            "inhoud.verzuim.ongeoorloofdDagen",
        ),
        Input::new(
            "o-wens-ouders",
            "Wens van de ouders",
            Kind::Select(LEVELS),
            "inhoud.wensOuders",
        ),
        Input::new(
            "o-wens-leerling",
            "Wens van de leerling",
            Kind::Select(LEVELS),
            "inhoud.wensLeerling",
        ),
        Input::new(
            "o-contact",
            "Contact met de VO-school gewenst",
            Kind::Select(YES_NO),
            "inhoud.contactGewenst",
        ),
        Input::new("o-datum", "Datum", Kind::Date(true), "aangemaaktOp"),
    ],
    done: "Het dossier is aangemaakt. Geef nu het voorlopig advies.",
    secondary: false,
};

const FILE_ACTIONS: &[Action] = &[
    Action {
        key: "voorlopig-advies",
        title: "Voorlopig advies",
        button: "Voorlopig advies geven",
        policy: "handover.voorlopig-advies-geven",
        subject: "kansrijk.cmd.overdracht.voorlopig-advies-geven",
        inputs: &[
            Input::new("va-datum", "Datum", Kind::Date(true), "datum"),
            Input::new("va-niveau", "Niveau", Kind::Select(LEVELS), "advies.niveau"),
            Input::new(
                "va-toelichting",
                "Toelichting",
                Kind::OptionalText,
                "advies.toelichting",
            ),
        ],
        done: "Het voorlopig advies is gegeven.",
        secondary: false,
    },
    Action {
        key: "toetsuitslag",
        title: "Uitslag doorstroomtoets",
        button: "Uitslag vastleggen",
        policy: "handover.toetsuitslag-registreren",
        subject: "kansrijk.cmd.overdracht.toetsuitslag-registreren",
        inputs: &[
            Input::new("tu-datum", "Datum", Kind::Date(true), "datum"),
            Input::new("tu-toets", "Naam van de toets", Kind::Text, "uitslag.toets"),
            Input::new(
                "tu-niveau",
                "Toetsadvies",
                Kind::Select(LEVELS),
                "uitslag.toetsadvies",
            ),
        ],
        done: "De toetsuitslag is vastgelegd.",
        secondary: true,
    },
    Action {
        key: "heroverweging",
        title: "Heroverweging",
        button: "Heroverweging vastleggen",
        policy: "handover.advies-heroverwegen",
        subject: "kansrijk.cmd.overdracht.advies-heroverwegen",
        inputs: &[
            Input::new("hw-datum", "Datum", Kind::Date(true), "datum"),
            Input::new(
                "hw-niveau",
                "Niveau na heroverweging",
                Kind::Select(LEVELS),
                "heroverweging.niveau",
            )
            .hint("Een advies wordt nooit verlaagd."),
            Input::new(
                "hw-motivatie",
                "Motivatie",
                Kind::LongText,
                "heroverweging.motivatie",
            ),
        ],
        done: "De heroverweging is vastgelegd.",
        secondary: true,
    },
    Action {
        key: "definitief-advies",
        title: "Definitief advies",
        button: "Definitief advies geven",
        policy: "handover.definitief-advies-geven",
        subject: "kansrijk.cmd.overdracht.definitief-advies-geven",
        inputs: &[
            Input::new("da-datum", "Datum", Kind::Date(true), "datum"),
            Input::new("da-niveau", "Niveau", Kind::Select(LEVELS), "advies.niveau"),
            Input::new(
                "da-toelichting",
                "Toelichting",
                Kind::OptionalText,
                "advies.toelichting",
            ),
        ],
        done: "Het definitief advies is gegeven.",
        secondary: false,
    },
    Action {
        key: "ouders-informeren",
        title: "Ouders hebben het dossier gezien",
        button: "Vastleggen",
        policy: "handover.ouders-informeren",
        subject: "kansrijk.cmd.overdracht.ouders-informeren",
        inputs: &[
            Input::new("pinf-datum", "Datum", Kind::Date(true), "datum"),
            Input::new("pinf-wijze", "Hoe", Kind::Select(HOW), "wijze"),
        ],
        done: "Vastgelegd dat de ouders het dossier hebben gezien.",
        secondary: true,
    },
    Action {
        key: "reactie-ouders",
        title: "Opmerkingen van de ouders",
        button: "Toevoegen",
        policy: "handover.reactie-ouders-toevoegen",
        subject: "kansrijk.cmd.overdracht.reactie-ouders-toevoegen",
        inputs: &[
            Input::new("pre-datum", "Datum", Kind::Date(true), "datum"),
            Input::new(
                "pre-akkoord",
                "Ouders zijn het eens",
                Kind::Select(YES_NO),
                "reactie.akkoord",
            ),
            Input::new(
                "pre-tekst",
                "Opmerkingen",
                Kind::LongText,
                "reactie.toelichting",
            ),
        ],
        done: "De opmerkingen van de ouders zijn toegevoegd.",
        secondary: true,
    },
    Action {
        key: "inschrijving",
        title: "School van inschrijving",
        button: "Inschrijving vastleggen",
        policy: "handover.inschrijving-registreren",
        subject: "kansrijk.cmd.overdracht.inschrijving-registreren",
        inputs: &[Input::new("pin-datum", "Datum", Kind::Date(true), "datum")],
        done: "De school van inschrijving is vastgelegd.",
        secondary: true,
    },
    Action {
        key: "verzenden",
        title: "Verzenden naar de VO-school",
        button: "Verzenden",
        policy: "handover.dossier-verzenden",
        subject: "kansrijk.cmd.overdracht.dossier-verzenden",
        inputs: &[Input::new("pvz-datum", "Datum", Kind::Date(true), "datum")],
        done: "Het dossier is verzonden naar de VO-school.",
        secondary: false,
    },
];

fn primary_only(state: &WebState, s: &Session) -> Option<Response> {
    (s.organisation_type != OrganisationType::Basisschool).then(|| super::forbidden(state, s))
}

/// The actions whose school is chosen from the registry: (action key, field id).
const SCHOOL_CHOICES: &[(&str, &str)] =
    &[("inschrijving", "pin-school"), ("verzenden", "pvz-school")];

/// The school field of an action, when it has one.
fn school_field<'a>(key: &str, schools: &'a Choices, default: &'a str) -> Option<ChoiceField<'a>> {
    SCHOOL_CHOICES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|&(_, id)| ChoiceField {
            id,
            label: "VO-school",
            hint: Some("Uit het register van scholen in uw gemeente."),
            choices: schools,
            default,
            position: 1,
        })
}

fn st(v: &Value, f: &str) -> String {
    v.get(f).and_then(Value::as_str).unwrap_or("").to_owned()
}

async fn fetch_outbox(state: &WebState, s: &Session) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "handover.uitgaand",
        "kansrijk.qry.overdracht.uitgaand",
        &json!({ "soort": "po-vo" }),
    )
    .await
}

fn outbox_page(
    state: &WebState,
    s: &Session,
    flash: Option<String>,
    data: &Result<Value, Problem>,
    submitted: Option<(&FormData, &FormErrors)>,
) -> Markup {
    let ctx = state.ctx(Some(s), flash, "/school/po-vo");
    let errors = submitted.map(|(_, e)| e.clone()).unwrap_or_default();
    page(
        &ctx,
        if errors.is_empty() {
            "PO-VO-dossiers"
        } else {
            "Fout: PO-VO-dossiers"
        },
        html! {
            h1 { "PO-VO-dossiers" }
            p class="lead" { "Onderwijskundige rapporten voor de overstap naar het voortgezet onderwijs. Ouders zien het dossier; hun opmerkingen worden toegevoegd. Het dossier gaat alleen naar de school van inschrijving." }
            (error_summary(&errors))
            @match data {
                Err(p) => { (super::unavailable(p)) }
                Ok(d) => {
                    @let files = d.get("dossiers").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if files.is_empty() {
                        div class="card" { p { "U heeft nog geen PO-VO-dossiers." } }
                    } @else {
                        div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                            table {
                                caption { "Uw PO-VO-dossiers (" (files.len()) ")" }
                                thead { tr { th scope="col" { "Dossier" } th scope="col" { "Status" } th scope="col" { "Verzonden op" } } }
                                tbody { @for f in &files { tr {
                                    th scope="row" { a href={ "/school/po-vo/" (st(f, "dossierId")) } { "Dossier van " (layout::date_nl(&st(f, "opgesteldOp"))) } }
                                    td { (status_badge(&st(f, "status"))) }
                                    td { @if st(f, "verzondenOp").is_empty() { span class="muted" { "niet verzonden" } } @else { (layout::date_nl(&st(f, "verzondenOp"))) } }
                                } } }
                            }
                        }
                    }
                }
            }
            (CREATE.render(s, "/school/po-vo", submitted))
        },
    )
}

async fn outbox(State(state): State<WebState>, s: Session, jar: PrivateCookieJar) -> Response {
    if let Some(r) = primary_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    let data = fetch_outbox(&state, &s).await;
    (jar, outbox_page(&state, &s, flash, &data, None)).into_response()
}

async fn create(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    f: FormData,
) -> Response {
    if let Some(r) = primary_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let mut errors = FormErrors::default();
    let body = nest(CREATE.validate(&f, &mut errors));
    if errors.is_empty() {
        match call::command(
            &state,
            &s,
            CREATE.policy,
            CREATE.subject,
            &body,
            f.command_id(),
        )
        .await
        {
            Ok(reply) => {
                let id = st(&reply, "streamId");
                for _ in 0..15 {
                    if fetch_file(&state, &s, &id).await.is_ok() {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let jar = with_flash(&state, jar, CREATE.done);
                return (jar, Redirect::to(&format!("/school/po-vo/{id}"))).into_response();
            }
            Err(p) => call::problem_to_errors(&p, &CREATE.field_map(), &mut errors),
        }
    }
    let data = fetch_outbox(&state, &s).await;
    (
        StatusCode::BAD_REQUEST,
        outbox_page(&state, &s, None, &data, Some((&f, &errors))),
    )
        .into_response()
}

async fn fetch_file(state: &WebState, s: &Session, id: &str) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "handover.dossier",
        "kansrijk.qry.overdracht.dossier",
        &json!({ "dossierId": id }),
    )
    .await
}

fn render_value(v: &Value) -> Markup {
    match v {
        Value::Object(m) => {
            html! { dl class="summary" { @for (k, v) in m { dt { (layout::humanise(k)) } dd { (render_value(v)) } } } }
        }
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
    let file = fetch_file(state, s, &id.to_string()).await;
    let schools = school_choices(state, s, "voortgezet-onderwijs").await;
    let recorded = file.as_ref().map(recorded_school).unwrap_or_default();
    let errors = submitted.map(|(_, _, e)| e.clone()).unwrap_or_default();
    let heading = "Onderwijskundig rapport".to_owned();
    let title = if errors.is_empty() {
        heading.clone()
    } else {
        format!("Fout: {heading}")
    };
    let ctx = state.ctx(Some(s), flash, "/school/po-vo");
    page(
        &ctx,
        &title,
        html! {
            p { a href="/school/po-vo" { "Terug naar de PO-VO-dossiers" } }
            h1 { (heading) }
            (error_summary(&errors))
            @match &file {
                Err(p) => { (super::unavailable(p)) }
                Ok(f) => {
                    p { "Status: " (status_badge(&st(f, "status"))) }
                    div class="card" { (render_value(f)) }
                    div class="cards" {
                        @for a in FILE_ACTIONS {
                            @let sub = submitted.filter(|(k, _, _)| *k == a.key).map(|(_, f, e)| (f, e));
                            @match school_field(a.key, &schools, &recorded) {
                                Some(choice) => { (render_with_choice(a, s, &format!("/school/po-vo/{id}/{}", a.key), sub, choice)) }
                                None => { (a.render(s, &format!("/school/po-vo/{id}/{}", a.key), sub)) }
                            }
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
    if let Some(r) = primary_only(&state, &s) {
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
    if let Some(r) = primary_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let Some(a) = FILE_ACTIONS.iter().find(|a| a.key == action) else {
        return super::forbidden(&state, &s);
    };
    let mut errors = FormErrors::default();
    let mut body = nest(a.validate(&f, &mut errors));
    if let Some(o) = body.as_object_mut() {
        o.insert("dossierId".into(), json!(id));
    }
    let mut fields = a.field_map();
    let schools;
    if SCHOOL_CHOICES.iter().any(|(k, _)| *k == a.key) {
        schools = school_choices(&state, &s, "voortgezet-onderwijs").await;
        if let Some(choice) = school_field(a.key, &schools, "") {
            if let (Some(school), Some(o)) =
                (choice.validate(&f, &mut errors), body.as_object_mut())
            {
                o.insert("school".into(), school_body(&school));
            }
            fields.push(("school", choice.id));
            errors.order_by(&fields.iter().map(|(_, id)| *id).collect::<Vec<_>>());
        }
    }
    if errors.is_empty() {
        let before = fetch_file(&state, &s, &id.to_string()).await.ok();
        match call::command(&state, &s, a.policy, a.subject, &body, f.command_id()).await {
            Ok(_) => {
                for _ in 0..15 {
                    if fetch_file(&state, &s, &id.to_string()).await.ok() != before {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let jar = with_flash(&state, jar, a.done);
                return (jar, Redirect::to(&format!("/school/po-vo/{id}"))).into_response();
            }
            Err(p) => call::problem_to_errors(&p, &fields, &mut errors),
        }
    }
    (
        StatusCode::BAD_REQUEST,
        render_file(&state, &s, id, None, Some((a.key, &f, &errors))).await,
    )
        .into_response()
}

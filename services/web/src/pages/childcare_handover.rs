//! Childcare handover (overdrachtsformulier voorschool): the outbox, drafting the form, informing
//! the parents and adding their view, their consent or refusal (on refusal the content is
//! destroyed), the enrolment school and sending.

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
use crate::layout::{self, badge, error_summary, page, FormErrors, Tone};
use crate::session::Session;
use crate::{csrf_refused, take_flash, with_flash, WebState};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/kinderopvang/overdrachten", get(outbox).post(draft))
        .route("/kinderopvang/overdracht/{id}", get(file_page))
        .route("/kinderopvang/overdracht/{id}/{action}", post(file_action))
}

const YES_NO: &[(&str, &str)] = &[("", "Kies ja of nee"), ("ja", "Ja"), ("nee", "Nee")];
const HOW: &[(&str, &str)] = &[
    ("", "Kies hoe"),
    ("gesprek", "In een gesprek"),
    ("brief", "Per brief"),
    ("digitaal", "Digitaal"),
    ("telefonisch", "Telefonisch"),
];
const REFUSALS: &[(&str, &str)] = &[
    ("", "Kies een reden"),
    ("zelf-overdragen", "Ouders dragen zelf over"),
    ("oneens-met-inhoud", "Oneens met de inhoud"),
    ("privacy-bezwaar", "Bezwaar vanwege privacy"),
    ("geen-noodzaak", "Zien geen noodzaak"),
    ("geen-reden", "Geen reden gegeven"),
    ("anders", "Anders"),
];

const DRAFT: Action = Action {
    key: "opstellen",
    title: "Nieuw overdrachtsformulier",
    button: "Formulier opstellen",
    policy: "handover.formulier-opstellen",
    subject: "kansrijk.cmd.overdracht.formulier-opstellen",
    inputs: &[
        Input::new(
            "f-voornaam",
            "Voornaam van het kind",
            Kind::Text,
            "kind.voornaam",
        ),
        Input::new(
            "f-achternaam",
            "Achternaam van het kind",
            Kind::Text,
            "kind.achternaam",
        ),
        Input::new(
            "f-geboortedatum",
            "Geboortedatum",
            Kind::Date(false),
            "kind.geboortedatum",
        ),
        Input::new(
            "f-sociaal",
            "Sociaal-emotionele ontwikkeling",
            Kind::LongText,
            "inhoud.sociaalEmotioneel",
        ),
        Input::new("f-taal", "Taalontwikkeling", Kind::LongText, "inhoud.taal"),
        Input::new(
            "f-motoriek",
            "Motorische ontwikkeling",
            Kind::LongText,
            "inhoud.motoriek",
        ),
        Input::new(
            "f-cognitief",
            "Cognitieve ontwikkeling",
            Kind::LongText,
            "inhoud.cognitief",
        ),
        Input::new(
            "f-interesses",
            "Interesses en talenten",
            Kind::LongText,
            "inhoud.interessesEnTalenten",
        ),
        Input::new(
            "f-ondersteuning",
            "Ondersteuningsbehoeften",
            Kind::LongText,
            "inhoud.ondersteuningsbehoeften",
        ),
        Input::new(
            "f-warm",
            "Warme overdracht gewenst",
            Kind::Select(YES_NO),
            "warmeOverdrachtGewenst",
        ),
        Input::new("f-datum", "Datum", Kind::Date(true), "opgesteldOp"),
    ],
    done: "Het overdrachtsformulier is opgesteld. Informeer nu de ouders.",
    secondary: false,
};

const FILE_ACTIONS: &[Action] = &[
    Action {
        key: "ouders-informeren",
        title: "Ouders geïnformeerd",
        button: "Vastleggen",
        policy: "handover.ouders-informeren",
        subject: "kansrijk.cmd.overdracht.ouders-informeren",
        inputs: &[
            Input::new("inf-datum", "Datum", Kind::Date(true), "datum"),
            Input::new("inf-wijze", "Hoe", Kind::Select(HOW), "wijze"),
        ],
        done: "Vastgelegd dat de ouders zijn geïnformeerd.",
        secondary: false,
    },
    Action {
        key: "reactie-ouders",
        title: "Visie van de ouders toevoegen",
        button: "Toevoegen",
        policy: "handover.reactie-ouders-toevoegen",
        subject: "kansrijk.cmd.overdracht.reactie-ouders-toevoegen",
        inputs: &[
            Input::new("re-datum", "Datum", Kind::Date(true), "datum"),
            Input::new(
                "re-akkoord",
                "Ouders zijn het eens met het formulier",
                Kind::Select(YES_NO),
                "reactie.akkoord",
            ),
            Input::new(
                "re-tekst",
                "Toelichting van de ouders",
                Kind::LongText,
                "reactie.toelichting",
            ),
        ],
        done: "De visie van de ouders is toegevoegd.",
        secondary: true,
    },
    Action {
        key: "toestemming",
        title: "Toestemming van de ouders",
        button: "Toestemming vastleggen",
        policy: "handover.toestemming-geven",
        subject: "kansrijk.cmd.overdracht.toestemming-geven",
        inputs: &[Input::new("ts-datum", "Datum", Kind::Date(true), "datum")],
        done: "De toestemming van de ouders is vastgelegd.",
        secondary: false,
    },
    Action {
        key: "weigering",
        title: "Ouders weigeren de overdracht",
        button: "Weigering vastleggen",
        policy: "handover.toestemming-weigeren",
        subject: "kansrijk.cmd.overdracht.toestemming-weigeren",
        inputs: &[
            Input::new("wg-datum", "Datum", Kind::Date(true), "datum"),
            Input::new("wg-reden", "Reden", Kind::Select(REFUSALS), "reden")
                .hint("De inhoud van het formulier wordt daarna vernietigd."),
        ],
        done: "De weigering is vastgelegd; de inhoud van het formulier is vernietigd.",
        secondary: true,
    },
    Action {
        key: "inschrijving",
        title: "School van inschrijving",
        button: "Inschrijving vastleggen",
        policy: "handover.inschrijving-registreren",
        subject: "kansrijk.cmd.overdracht.inschrijving-registreren",
        inputs: &[Input::new("in-datum", "Datum", Kind::Date(true), "datum")],
        done: "De school van inschrijving is vastgelegd.",
        secondary: true,
    },
    Action {
        key: "verzenden",
        title: "Verzenden naar de school",
        button: "Verzenden",
        policy: "handover.dossier-verzenden",
        subject: "kansrijk.cmd.overdracht.dossier-verzenden",
        inputs: &[Input::new("vz-datum", "Datum", Kind::Date(true), "datum")],
        done: "Het formulier is verzonden naar de school.",
        secondary: false,
    },
];

fn childcare_only(state: &WebState, s: &Session) -> Option<Response> {
    (s.organisation_type != OrganisationType::Kinderopvang).then(|| super::forbidden(state, s))
}

/// The actions whose school is chosen from the registry: (action key, field id).
const SCHOOL_CHOICES: &[(&str, &str)] =
    &[("inschrijving", "in-school"), ("verzenden", "vz-school")];

/// The school field of an action, when it has one.
fn school_field<'a>(key: &str, schools: &'a Choices, default: &'a str) -> Option<ChoiceField<'a>> {
    SCHOOL_CHOICES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|&(_, id)| ChoiceField {
            id,
            label: "Basisschool",
            hint: Some("Uit het register van scholen in uw gemeente."),
            choices: schools,
            default,
            position: 1,
        })
}

fn st(v: &Value, f: &str) -> String {
    v.get(f).and_then(Value::as_str).unwrap_or("").to_owned()
}

pub(crate) fn status_badge(status: &str) -> Markup {
    match status {
        "concept" => badge(Tone::Neutral, "Concept"),
        "ouders-geinformeerd" => badge(Tone::Info, "Ouders geïnformeerd"),
        "toestemming" => badge(Tone::Info, "Toestemming"),
        "geweigerd" => badge(Tone::Danger, "Geweigerd"),
        "verzonden" => badge(Tone::Warning, "Verzonden"),
        "ontvangen" => badge(Tone::Success, "Ontvangen"),
        "warme-overdracht-gepland" => badge(Tone::Info, "Warme overdracht gepland"),
        "afgerond" => badge(Tone::Success, "Afgerond"),
        other => badge(Tone::Neutral, other),
    }
}

async fn fetch_outbox(state: &WebState, s: &Session) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "handover.uitgaand",
        "kansrijk.qry.overdracht.uitgaand",
        &json!({}),
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
    let ctx = state.ctx(Some(s), flash, "/kinderopvang/overdrachten");
    let errors = submitted.map(|(_, e)| e.clone()).unwrap_or_default();
    page(
        &ctx,
        if errors.is_empty() {
            "Overdrachten"
        } else {
            "Fout: overdrachten"
        },
        html! {
            h1 { "Overdrachten naar de basisschool" }
            p class="lead" { "Het overdrachtsformulier gaat pas naar de school nadat de ouders het hebben gezien en toestemming hebben gegeven." }
            (error_summary(&errors))
            @match data {
                Err(p) => { (super::unavailable(p)) }
                Ok(d) => {
                    @let files = d.get("dossiers").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if files.is_empty() {
                        div class="card" { p { "U heeft nog geen overdrachtsformulieren." } }
                    } @else {
                        div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                            table {
                                caption { "Uw overdrachten (" (files.len()) ")" }
                                thead { tr {
                                    th scope="col" { "Formulier" }
                                    th scope="col" { "Opgesteld op" }
                                    th scope="col" { "Status" }
                                    th scope="col" { "School" }
                                    th scope="col" { "Verzonden op" }
                                } }
                                tbody { @for f in &files { tr {
                                    th scope="row" { a href={ "/kinderopvang/overdracht/" (st(f, "dossierId")) } { "Formulier van " (layout::date_nl(&st(f, "opgesteldOp"))) } }
                                    td { (layout::date_nl(&st(f, "opgesteldOp"))) }
                                    td { (status_badge(&st(f, "status"))) @if f.get("bevestigingUitgebleven").and_then(Value::as_bool).unwrap_or(false) { " " (badge(Tone::Danger, "bevestiging te laat")) } }
                                    td { @if let Some(sc) = f.get("school").filter(|v| v.is_object()) { (st(sc, "brin")) (st(sc, "vestiging")) } @else { span class="muted" { "nog niet bekend" } } }
                                    td { @if st(f, "verzondenOp").is_empty() { span class="muted" { "niet verzonden" } } @else { (layout::date_nl(&st(f, "verzondenOp"))) } }
                                } } }
                            }
                        }
                    }
                }
            }
            (DRAFT.render(s, "/kinderopvang/overdrachten", submitted))
        },
    )
}

async fn outbox(State(state): State<WebState>, s: Session, jar: PrivateCookieJar) -> Response {
    if let Some(r) = childcare_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    let data = fetch_outbox(&state, &s).await;
    (jar, outbox_page(&state, &s, flash, &data, None)).into_response()
}

async fn draft(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    f: FormData,
) -> Response {
    if let Some(r) = childcare_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let mut errors = FormErrors::default();
    let body = nest(DRAFT.validate(&f, &mut errors));
    if errors.is_empty() {
        match call::command(
            &state,
            &s,
            DRAFT.policy,
            DRAFT.subject,
            &body,
            f.command_id(),
        )
        .await
        {
            Ok(reply) => {
                let id = st(&reply, "streamId");
                for _ in 0..15 {
                    let seen: Result<Value, Problem> = fetch_file(&state, &s, &id).await;
                    if seen.is_ok() {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let jar = with_flash(&state, jar, DRAFT.done);
                return (jar, Redirect::to(&format!("/kinderopvang/overdracht/{id}")))
                    .into_response();
            }
            Err(p) => call::problem_to_errors(&p, &DRAFT.field_map(), &mut errors),
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
    let schools = school_choices(state, s, "basisschool").await;
    let recorded = file.as_ref().map(recorded_school).unwrap_or_default();
    let errors = submitted.map(|(_, _, e)| e.clone()).unwrap_or_default();
    let heading = "Overdrachtsformulier".to_owned();
    let title = if errors.is_empty() {
        heading.clone()
    } else {
        format!("Fout: {heading}")
    };
    let ctx = state.ctx(Some(s), flash, "/kinderopvang/overdrachten");
    page(
        &ctx,
        &title,
        html! {
            p { a href="/kinderopvang/overdrachten" { "Terug naar de overdrachten" } }
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
                                Some(choice) => { (render_with_choice(a, s, &format!("/kinderopvang/overdracht/{id}/{}", a.key), sub, choice)) }
                                None => { (a.render(s, &format!("/kinderopvang/overdracht/{id}/{}", a.key), sub)) }
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
    if let Some(r) = childcare_only(&state, &s) {
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
    if let Some(r) = childcare_only(&state, &s) {
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
        schools = school_choices(&state, &s, "basisschool").await;
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
                return (jar, Redirect::to(&format!("/kinderopvang/overdracht/{id}")))
                    .into_response();
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

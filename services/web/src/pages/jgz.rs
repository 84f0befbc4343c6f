//! JGZ (jeugdgezondheidszorg): register a child, issue the VVE indication, refer, record outreach
//! and parents declining, and the worklist (indicated children not yet placed, most urgent first).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::PrivateCookieJar;
use chrono::Datelike;
use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::problem::Problem;
use maud::{html, Markup};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::call;
use crate::form::{Choices, FormData};
use crate::layout::{
    self, badge, checkboxes, error_summary, form_guard, page, select, Field, FormErrors, InputKind,
    Tone,
};
use crate::session::Session;
use crate::{csrf_refused, take_flash, with_flash, WebState};

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/jgz", get(|| async { Redirect::to("/jgz/werklijst") }))
        .route("/jgz/werklijst", get(worklist_page))
        .route(
            "/jgz/kind-inschrijven",
            get(register_page).post(register_submit),
        )
        .route("/jgz/kind/{id}", get(child_page))
        .route("/jgz/kind/{id}/{action}", post(child_action))
}

fn jgz_only(state: &WebState, s: &Session) -> Option<Response> {
    (s.organisation_type != OrganisationType::Jgz).then(|| super::forbidden(state, s))
}

fn cmd(name: &str) -> String {
    kansrijk_proto::subject::command("vve", name)
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// Dutch label of a worklist status.
pub fn status_badge(status: &str) -> Markup {
    match status {
        "nog-niet-benaderd" => badge(Tone::Warning, "Nog niet benaderd"),
        "toeleiding-loopt" => badge(Tone::Info, "Toeleiding loopt"),
        "onbereikbaar" => badge(Tone::Danger, "Onbereikbaar"),
        "doorverwezen" => badge(Tone::Info, "Doorverwezen"),
        "geaccepteerd" => badge(Tone::Success, "Geaccepteerd"),
        "wachtlijst" => badge(Tone::Warning, "Wachtlijst"),
        "ouders-zien-af" => badge(Tone::Neutral, "Ouders zien af"),
        "open" => badge(Tone::Info, "Open"),
        "geplaatst" => badge(Tone::Success, "Geplaatst"),
        other => badge(Tone::Neutral, other),
    }
}

const CHANNELS: &[(&str, &str)] = &[
    ("", "Kies hoe"),
    ("telefoon", "Telefoon"),
    ("brief", "Brief"),
    ("huisbezoek", "Huisbezoek"),
];
const OUTCOMES: &[(&str, &str)] = &[
    ("", "Kies de uitkomst"),
    ("bereikt", "Ouders bereikt"),
    ("niet-bereikt", "Niet bereikt"),
    ("afspraak-gemaakt", "Afspraak gemaakt"),
    ("geen-interesse", "Geen interesse"),
];
/// Reasons parents decline (the national categories).
pub const DECLINE_REASONS: &[(&str, &str)] = &[
    ("", "Kies een reden"),
    (
        "geen-behoefte",
        "Geen behoefte (ouder thuis, familie past op)",
    ),
    ("opvoeden-thuis", "Wil het kind thuis opvoeden"),
    ("twijfel-kwaliteit", "Twijfel over kwaliteit of nut"),
    ("te-schools", "Te schools"),
    ("kosten", "Kosten"),
    ("afstand", "Afstand"),
    ("openingstijden", "Openingstijden"),
    ("papierwerk", "Papierwerk"),
    ("anders", "Anders"),
];

const WITHDRAW_REASONS: &[(&str, &str)] = &[
    ("", "Kies een reden"),
    ("onterecht", "Ten onrechte afgegeven"),
    (
        "herbeoordeling",
        "Herbeoordeling: niet (meer) in de doelgroep",
    ),
    ("overig", "Overig"),
];

fn label<'a>(list: &'a [(&'a str, &'a str)], v: &'a str) -> &'a str {
    list.iter()
        .find(|(k, _)| *k == v)
        .map(|(_, l)| *l)
        .unwrap_or(v)
}

async fn worklist(state: &WebState, s: &Session) -> Result<Value, Problem> {
    call::query(
        state,
        s,
        "vve.werklijst",
        "kansrijk.qry.vve.werklijst",
        &json!({}),
    )
    .await
}

async fn worklist_page(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
) -> Response {
    if let Some(r) = jgz_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    let result = worklist(&state, &s).await;
    let ctx = state.ctx(Some(&s), flash, "/jgz/werklijst");
    let markup = page(
        &ctx,
        "Werklijst VVE",
        html! {
            h1 { "Werklijst VVE" }
            p class="lead" {
                "Kinderen met een VVE-indicatie die nog niet op een voorschool zijn geplaatst. "
                "Bovenaan staan de kinderen bij wie de tijd om te starten het kortst is."
            }
            p { a class="button" href="/jgz/kind-inschrijven" { "Kind inschrijven" } }
            @match &result {
                Err(p) => { (super::unavailable(p)) }
                Ok(w) => {
                    @let kinderen = w.get("kinderen").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if kinderen.is_empty() {
                        div class="card" { p { "Er staan geen kinderen op de werklijst." } }
                    } @else {
                        div class="table-wrap" tabindex="0" role="region" aria-label="Tabel, horizontaal te scrollen" {
                            table {
                                caption { (layout::plural(kinderen.len(), "kind", "kinderen")) ", peildatum " (layout::date_nl(w.get("peildatum").and_then(Value::as_str).unwrap_or(""))) }
                                thead { tr {
                                    th scope="col" { "Kind" }
                                    th scope="col" { "Geboortedatum" }
                                    th scope="col" { "Wijk" }
                                    th scope="col" class="num" { "Dagen over" }
                                    th scope="col" { "Status" }
                                    th scope="col" { "Toeleiding" }
                                } }
                                tbody {
                                    @for k in &kinderen {
                                        @let st = |f: &str| k.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
                                        @let days = k.get("dagenResterend").and_then(Value::as_i64).unwrap_or(0);
                                        tr {
                                            th scope="row" { a href={ "/jgz/kind/" (st("kindId")) } { (st("voornaam")) " " (st("achternaam")) } }
                                            td { (layout::date_nl(&st("geboortedatum"))) }
                                            td { (st("wijk")) }
                                            td class="num" {
                                                (days)
                                                @if days < 120 { " " (badge(Tone::Danger, "urgent")) }
                                            }
                                            td { (status_badge(&st("status"))) }
                                            td {
                                                @let pogingen = k.get("toeleidingspogingen").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
                                                @let verw = k.get("verwijzingen").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
                                                (layout::plural(pogingen, "poging", "pogingen")) ", " (layout::plural(verw, "verwijzing", "verwijzingen"))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    (due_for_indication(w))
                }
            }
        },
    );
    (jar, markup).into_response()
}

/// The worklist's second part: registered children about two years old without an indication.
fn due_for_indication(w: &Value) -> Markup {
    let due = w
        .get("teIndiceren")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        h2 id="te-indiceren" { "Te indiceren" }
        p { "Ingeschreven kinderen van 21 maanden of ouder zonder VVE-indicatie: beoordeel bij het consult rond 2 jaar of het kind tot de doelgroep hoort." }
        @if due.is_empty() {
            div class="card" { p { "Er zijn geen kinderen die op een indicatie wachten." } }
        } @else {
            div class="table-wrap" tabindex="0" role="region" aria-label="Tabel te indiceren, horizontaal te scrollen" {
                table {
                    caption { "Te indiceren: " (layout::plural(due.len(), "kind", "kinderen")) }
                    thead { tr {
                        th scope="col" { "Kind" }
                        th scope="col" { "Geboortedatum" }
                        th scope="col" { "Wijk" }
                        th scope="col" class="num" { "Leeftijd (maanden)" }
                    } }
                    tbody {
                        @for k in &due {
                            @let st = |f: &str| k.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
                            tr {
                                th scope="row" { a href={ "/jgz/kind/" (st("kindId")) "#indiceren" } { (st("voornaam")) " " (st("achternaam")) } }
                                td { (layout::date_nl(&st("geboortedatum"))) }
                                td { (st("wijk")) }
                                td class="num" { (k.get("leeftijdMaanden").and_then(Value::as_u64).unwrap_or(0)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Register a child

const REGISTER_FIELDS: &[(&str, &str)] = &[
    ("bsn", "bsn"),
    ("voornaam", "voornaam"),
    ("achternaam", "achternaam"),
    ("geboortedatum", "geboortedatum"),
    ("postcode", "postcode"),
    ("huisnummer", "huisnummer"),
    ("wijk", "wijk"),
];

/// The value of the "wijk voorstellen" button of the registration form.
const PROPOSE_DISTRICT: &str = "wijk-voorstellen";

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

/// What the "wijk voorstellen" button found.
enum Proposal {
    /// The registry's district for the address (preselected).
    Found(String),
    /// No table entry for the address: the user chooses.
    None,
    /// The registry did not answer.
    Unavailable,
}

/// A house number as typed (`12`, `12a`: the number part), for the district proposal only.
fn house_number(v: &str) -> Option<u32> {
    let digits: String = v.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n > 0)
}

fn register_form(
    state: &WebState,
    s: &Session,
    f: &FormData,
    errors: &FormErrors,
    districts: &Choices,
    proposal: Option<&Proposal>,
) -> Markup {
    let ctx = state.ctx(Some(s), None, "/jgz/kind-inschrijven");
    let command_id = Uuid::new_v4();
    let district = match proposal {
        Some(Proposal::Found(d)) => d.clone(),
        _ => f.get("wijk"),
    };
    let district_opts = districts.refs();
    page(
        &ctx,
        if errors.is_empty() {
            "Kind inschrijven"
        } else {
            "Fout: kind inschrijven"
        },
        html! {
            h1 { "Kind inschrijven" }
            p class="lead" { "Schrijf een kind in dat JGZ in beeld heeft. De gegevens worden versleuteld opgeslagen." }
            (error_summary(errors))
            div class="card" {
                form method="post" action="/jgz/kind-inschrijven" novalidate {
                    (form_guard(s, &command_id))
                    (Field::text("bsn", "BSN", &f.get("bsn")).hint("9 cijfers.").width("kort").render(errors))
                    (Field::text("voornaam", "Voornaam", &f.get("voornaam")).width("middel").render(errors))
                    (Field::text("achternaam", "Achternaam", &f.get("achternaam")).width("middel").render(errors))
                    (Field::text("geboortedatum", "Geboortedatum", &f.get("geboortedatum")).kind(InputKind::Date).width("kort").render(errors))
                    (Field::text("postcode", "Postcode", &f.get("postcode")).hint("Bijvoorbeeld 2311 AB.").width("kort").render(errors))
                    (Field::text("huisnummer", "Huisnummer", &f.get("huisnummer")).hint("Alleen om de wijk voor te stellen; het huisnummer wordt niet opgeslagen.").width("kort").optional().render(errors))
                    div class="field" {
                        button type="submit" name="actie" value=(PROPOSE_DISTRICT) class="button button-secondary" formnovalidate { "Wijk voorstellen bij postcode" }
                    }
                    @match proposal {
                        Some(Proposal::Found(d)) => {
                            div class="notice" role="status" { p { "Bij deze postcode hoort volgens het register de wijk " strong { (d) } ". Controleer de wijk." } }
                        }
                        Some(Proposal::None) => {
                            div class="notice" role="status" { p { "Het register kent voor deze postcode geen wijk. Kies de wijk zelf." } }
                        }
                        Some(Proposal::Unavailable) => {
                            div class="notice notice-warning" role="status" { p { "Er kon nu geen wijk worden voorgesteld. Kies de wijk zelf." } }
                        }
                        None => {}
                    }
                    @if let Some(msg) = &districts.unavailable {
                        p class="notice notice-warning" { (msg) }
                    }
                    (select("wijk", "Wijk", Some("De wijk waar het kind woont, uit het register van uw gemeente."), &district_opts, &district, errors))
                    div class="actions" {
                        button type="submit" class="button" { "Inschrijven" }
                        a href="/jgz/werklijst" { "Annuleren" }
                    }
                }
            }
        },
    )
}

async fn register_page(State(state): State<WebState>, s: Session) -> Response {
    if let Some(r) = jgz_only(&state, &s) {
        return r;
    }
    let districts = district_choices(&state, &s).await;
    register_form(
        &state,
        &s,
        &FormData::default(),
        &FormErrors::default(),
        &districts,
        None,
    )
    .into_response()
}

fn elfproef(bsn: &str) -> bool {
    let digits: Vec<u32> = bsn.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 9 || bsn.len() != 9 {
        return false;
    }
    let sum: i64 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let w = if i == 8 { -1 } else { 9 - i as i64 };
            w * i64::from(*d)
        })
        .sum();
    sum % 11 == 0 && sum != 0
}

async fn register_submit(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    f: FormData,
) -> Response {
    if let Some(r) = jgz_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let districts = district_choices(&state, &s).await;
    if f.get("actie") == PROPOSE_DISTRICT {
        // "Wijk voorstellen": the registry's district for the postcode, preselected; nothing
        // is registered.
        let mut errors = FormErrors::default();
        let postcode = f.get("postcode");
        let proposal = if postcode.is_empty() {
            errors.add(
                "postcode",
                "Vul de postcode in om een wijk voor te stellen.",
            );
            None
        } else {
            Some(
                match call::district_for_postcode(
                    &state,
                    &s,
                    &postcode,
                    house_number(&f.get("huisnummer")),
                )
                .await
                {
                    Ok(Some(d)) if districts.contains(&d) => Proposal::Found(d),
                    Ok(_) => Proposal::None,
                    Err(_) => Proposal::Unavailable,
                },
            )
        };
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        return (
            status,
            register_form(&state, &s, &f, &errors, &districts, proposal.as_ref()),
        )
            .into_response();
    }
    let mut errors = FormErrors::default();
    let bsn = f.get("bsn");
    if bsn.is_empty() {
        errors.add("bsn", "Vul het BSN in.");
    } else if bsn.len() != 9 || !bsn.chars().all(|c| c.is_ascii_digit()) {
        errors.add("bsn", "Een BSN bestaat uit 9 cijfers.");
    } else if !elfproef(&bsn) {
        errors.add(
            "bsn",
            "Dit BSN bestaat niet: het voldoet niet aan de elfproef. Controleer de cijfers.",
        );
    }
    for (field, msg) in [
        ("voornaam", "Vul de voornaam in."),
        ("achternaam", "Vul de achternaam in."),
        ("postcode", "Vul de postcode in."),
    ] {
        if f.get(field).is_empty() {
            errors.add(field, msg);
        }
    }
    if !districts.contains(&f.get("wijk")) {
        errors.add("wijk", "Kies de wijk waar het kind woont.");
    }
    match chrono::NaiveDate::parse_from_str(&f.get("geboortedatum"), "%Y-%m-%d") {
        Ok(d) if d > chrono::Utc::now().date_naive() => errors.add(
            "geboortedatum",
            "De geboortedatum kan niet in de toekomst liggen.",
        ),
        Ok(_) => {}
        Err(_) => errors.add(
            "geboortedatum",
            "Vul de geboortedatum in als dag, maand en jaar.",
        ),
    }
    let order: Vec<&str> = REGISTER_FIELDS.iter().map(|(_, f)| *f).collect();
    errors.order_by(&order);
    if !errors.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            register_form(&state, &s, &f, &errors, &districts, None),
        )
            .into_response();
    }
    let body = json!({
        "bsn": bsn,
        "voornaam": f.get("voornaam"),
        "achternaam": f.get("achternaam"),
        "geboortedatum": f.get("geboortedatum"),
        "postcode": f.get("postcode"),
        "wijk": f.get("wijk"),
        "gemeente": s.municipality,
    });
    match call::command(
        &state,
        &s,
        "vve.kind-inschrijven",
        &cmd("kind-inschrijven"),
        &body,
        f.command_id(),
    )
    .await
    {
        Ok(reply) => {
            let id = reply
                .get("kindId")
                .or_else(|| reply.get("streamId"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let jar = with_flash(
                &state,
                jar,
                "Het kind is ingeschreven. Geef hieronder zo nodig de VVE-indicatie af.",
            );
            (jar, Redirect::to(&format!("/jgz/kind/{id}"))).into_response()
        }
        Err(p) => {
            let mut errors = FormErrors::default();
            if p.code.as_deref() == Some("kind-al-ingeschreven") {
                errors.add("bsn", "Er is al een kind met dit BSN ingeschreven in uw gemeente. Zoek het kind op de werklijst.");
            } else {
                call::problem_to_errors(&p, REGISTER_FIELDS, &mut errors);
            }
            (
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST),
                register_form(&state, &s, &f, &errors, &districts, None),
            )
                .into_response()
        }
    }
}

// ------------------------------------------------------------------------------------------
// One child: indicate, refer, outreach, declined

async fn criteria(state: &WebState, s: &Session) -> Vec<(String, String)> {
    let year = chrono::Utc::now().year();
    let defs: Result<Value, Problem> = call::query(
        state,
        s,
        "vve.doelgroepdefinities",
        "kansrijk.qry.vve.doelgroepdefinities",
        &json!({}),
    )
    .await;
    let Ok(defs) = defs else { return Vec::new() };
    let mut list = defs
        .get("definities")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.retain(|d| {
        d.get("geldigVanaf")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX)
            <= i64::from(year)
    });
    list.sort_by_key(|d| d.get("geldigVanaf").and_then(Value::as_i64).unwrap_or(0));
    list.last()
        .and_then(|d| d.get("criteria").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c.get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                c.get("omschrijving")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

/// The search of the referral form's VVE locations (`?verw-wijk=..&verw-zoek=..`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct ReferralFilter {
    #[serde(rename = "verw-wijk", default)]
    district: String,
    #[serde(rename = "verw-zoek", default)]
    name: String,
}

impl ReferralFilter {
    fn from_form(f: &FormData) -> Self {
        ReferralFilter {
            district: f.get("verw-filter-wijk"),
            name: f.get("verw-filter-zoek"),
        }
    }

    /// Whether a location matches: its district (when one is chosen) and the name search (in
    /// the name or the district, ignoring case).
    fn matches(&self, e: &call::RegistryEntry) -> bool {
        let district = e.district.as_deref().unwrap_or("");
        let wanted = self.name.trim().to_lowercase();
        (self.district.is_empty() || district.eq_ignore_ascii_case(self.district.trim()))
            && (wanted.is_empty()
                || e.name.to_lowercase().contains(&wanted)
                || district.to_lowercase().contains(&wanted))
    }
}

/// The label of a VVE location in the referral form and the referrals table.
fn location_label(e: &call::RegistryEntry) -> String {
    match &e.district {
        Some(d) => format!("{}, {} (LRK {})", e.name, d, e.id),
        None => format!("{} (LRK {})", e.name, e.id),
    }
}

/// Which form of the child page was submitted, with its errors.
struct Submitted<'a> {
    action: &'a str,
    form: &'a FormData,
    errors: &'a FormErrors,
}

#[allow(clippy::too_many_lines)]
async fn render_child(
    state: &WebState,
    s: &Session,
    id: Uuid,
    flash: Option<String>,
    submitted: Option<Submitted<'_>>,
    filter: &ReferralFilter,
) -> Markup {
    let find = |w: &Result<Value, Problem>| {
        w.as_ref().ok().and_then(|w| {
            w.get("kinderen").and_then(Value::as_array).and_then(|a| {
                a.iter()
                    .find(|k| k.get("kindId").and_then(Value::as_str) == Some(&id.to_string()))
                    .cloned()
            })
        })
    };
    let mut child = find(&worklist(state, s).await);
    // Right after the user's own change (a confirmation is shown), give the worklist a bounded
    // moment to show it when the views' wait endpoint could not confirm it.
    if flash.is_some() && child.is_none() {
        for _ in 0..10 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            child = find(&worklist(state, s).await);
            if child.is_some() {
                break;
            }
        }
    }
    // The municipality's VVE locations from the registry, and its districts to search them by.
    let locations = call::vve_locations(state, s, None, None).await;
    let districts = call::districts(state, s).await.unwrap_or_default();
    let mut district_opts: Vec<(&str, &str)> = vec![("", "Alle wijken")];
    district_opts.extend(districts.iter().map(|d| (d.as_str(), d.as_str())));
    let shown: Vec<(String, String)> = locations
        .as_ref()
        .map(|l| {
            l.iter()
                .filter(|e| filter.matches(e))
                .map(|e| (e.id.clone(), location_label(e)))
                .collect()
        })
        .unwrap_or_default();
    let shown_opts: Vec<(&str, &str)> = shown
        .iter()
        .map(|(v, l)| (v.as_str(), l.as_str()))
        .collect();
    let location_name = |lrk: &str| -> String {
        locations
            .as_ref()
            .ok()
            .and_then(|l| l.iter().find(|e| e.id == lrk))
            .map_or_else(|| lrk.to_owned(), location_label)
    };
    let crit = criteria(state, s).await;
    let crit_opts: Vec<(&str, &str)> = crit.iter().map(|(c, d)| (c.as_str(), d.as_str())).collect();
    let empty_form = FormData::default();
    let empty_errors = FormErrors::default();
    let f_for = |action: &str| -> (&FormData, &FormErrors) {
        match &submitted {
            Some(sub) if sub.action == action => (sub.form, sub.errors),
            _ => (&empty_form, &empty_errors),
        }
    };
    let all_errors = submitted
        .as_ref()
        .map(|s| s.errors.clone())
        .unwrap_or_default();
    let value = |action: &str, field: &str, default: &str| -> String {
        let (f, _) = f_for(action);
        let v = f.get(field);
        if v.is_empty() && f.0.is_empty() {
            default.to_owned()
        } else {
            v
        }
    };
    let title_name = child
        .as_ref()
        .map(|k| {
            format!(
                "{} {}",
                k.get("voornaam").and_then(Value::as_str).unwrap_or(""),
                k.get("achternaam").and_then(Value::as_str).unwrap_or("")
            )
        })
        .unwrap_or_else(|| "Kind".to_owned());
    let ctx = state.ctx(Some(s), flash, "/jgz/werklijst");
    let action_url = |a: &str| format!("/jgz/kind/{id}/{a}");
    let title = if all_errors.is_empty() {
        title_name.clone()
    } else {
        format!("Fout: {title_name}")
    };
    page(
        &ctx,
        &title,
        html! {
            p { a href="/jgz/werklijst" { "Terug naar de werklijst" } }
            h1 { (title_name) }
            (error_summary(&all_errors))
            @match &child {
                Some(k) => {
                    @let st = |f: &str| k.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
                    div class="card" {
                        h2 { "Gegevens" }
                        dl class="summary" {
                            dt { "Status" } dd { (status_badge(&st("status"))) }
                            dt { "Geboortedatum" } dd { (layout::date_nl(&st("geboortedatum"))) }
                            dt { "Postcode en wijk" } dd { (st("postcode")) ", " (st("wijk")) }
                            dt { "Indicatie afgegeven" } dd { (layout::date_nl(&st("indicatieAfgegevenOp"))) }
                            dt { "Criteria" } dd {
                                @for c in k.get("criteria").and_then(Value::as_array).cloned().unwrap_or_default() {
                                    @let code = c.as_str().unwrap_or("").to_owned();
                                    span class="badge" { (crit.iter().find(|(k, _)| *k == code).map(|(_, d)| d.clone()).unwrap_or(code)) } " "
                                }
                            }
                            dt { "VVE-venster" } dd { (layout::date_nl(&st("vensterStart"))) " tot " (layout::date_nl(&st("vensterEinde"))) " (nog " (k.get("dagenResterend").and_then(Value::as_i64).unwrap_or(0)) " dagen)" }
                        }
                    }
                    @let verw = k.get("verwijzingen").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if !verw.is_empty() {
                        table {
                            caption { "Verwijzingen" }
                            thead { tr { th scope="col" { "VVE-locatie" } th scope="col" { "Doorverwezen op" } th scope="col" { "Status" } } }
                            tbody { @for v in &verw { tr {
                                td { (location_name(v.get("lrk").and_then(Value::as_str).unwrap_or(""))) }
                                td { (layout::date_nl(v.get("doorverwezenOp").and_then(Value::as_str).unwrap_or(""))) }
                                td { (status_badge(v.get("status").and_then(Value::as_str).unwrap_or(""))) }
                            } } }
                        }
                    }
                    @let pog = k.get("toeleidingspogingen").and_then(Value::as_array).cloned().unwrap_or_default();
                    @if !pog.is_empty() {
                        table {
                            caption { "Toeleidingspogingen" }
                            thead { tr { th scope="col" { "Datum" } th scope="col" { "Hoe" } th scope="col" { "Uitkomst" } } }
                            tbody { @for p in &pog { tr {
                                td { (layout::date_nl(p.get("datum").and_then(Value::as_str).unwrap_or(""))) }
                                td { (label(CHANNELS, p.get("kanaal").and_then(Value::as_str).unwrap_or(""))) }
                                td { (label(OUTCOMES, p.get("uitkomst").and_then(Value::as_str).unwrap_or(""))) }
                            } } }
                        }
                    }
                }
                None => {
                    div class="notice" {
                        p { "Dit kind staat niet op de werklijst: er is nog geen VVE-indicatie, of het kind is al geplaatst." }
                    }
                }
            }
            div class="cards" {
                div class="card" {
                    h2 id="indiceren" { "VVE-indicatie afgeven" }
                    form method="post" action=(action_url("indiceren")) novalidate {
                        (form_guard(s, &Uuid::new_v4()))
                        (Field::text("ind-datum", "Datum van de indicatie", &value("indiceren", "ind-datum", &today())).kind(InputKind::Date).width("kort").render(f_for("indiceren").1))
                        @if crit_opts.is_empty() {
                            p class="notice notice-warning" { "Uw gemeente heeft voor dit jaar geen doelgroepdefinitie vastgesteld." }
                        } @else {
                            (checkboxes("ind-criteria", "Criteria van de doelgroepdefinitie", Some("Kies alle criteria die van toepassing zijn."), &crit_opts, &f_for("indiceren").0.all("ind-criteria"), f_for("indiceren").1))
                        }
                        button type="submit" class="button" { "Indicatie afgeven" }
                    }
                }
                div class="card" {
                    h2 id="doorverwijzen" { "Doorverwijzen naar een voorschool" }
                    form method="get" action={ "/jgz/kind/" (id) "#doorverwijzen" } role="search" aria-label="VVE-locaties zoeken" {
                        (select("verw-wijk", "Wijk van de locatie", None, &district_opts, &filter.district, &empty_errors))
                        (Field::text("verw-zoek", "Naam van de locatie", &filter.name).optional().width("middel").render(&empty_errors))
                        button type="submit" class="button button-secondary" { "Locaties zoeken" }
                    }
                    form method="post" action=(action_url("doorverwijzen")) novalidate {
                        (form_guard(s, &Uuid::new_v4()))
                        input type="hidden" name="verw-filter-wijk" value=(filter.district);
                        input type="hidden" name="verw-filter-zoek" value=(filter.name);
                        (Field::text("verw-datum", "Datum", &value("doorverwijzen", "verw-datum", &today())).kind(InputKind::Date).width("kort").render(f_for("doorverwijzen").1))
                        @match &locations {
                            Err(_) => {
                                p class="notice notice-warning" { "De VVE-locaties uit het register zijn nu niet beschikbaar. Probeer het later opnieuw." }
                            }
                            Ok(_) if shown_opts.is_empty() => {
                                p class="notice" id="verw-locaties" tabindex="-1" { "Het register heeft geen VVE-locaties die bij deze zoekvraag passen. Kies een andere wijk of naam." }
                            }
                            Ok(_) => {
                                (checkboxes("verw-locaties", "VVE-locaties", Some("Kies een of meer VVE-locaties uit het register van uw gemeente."), &shown_opts, &f_for("doorverwijzen").0.all("verw-locaties"), f_for("doorverwijzen").1))
                            }
                        }
                        button type="submit" class="button" { "Doorverwijzen" }
                    }
                }
                div class="card" {
                    h2 id="toeleiding" { "Toeleidingspoging vastleggen" }
                    form method="post" action=(action_url("toeleiding")) novalidate {
                        (form_guard(s, &Uuid::new_v4()))
                        (Field::text("toel-datum", "Datum", &value("toeleiding", "toel-datum", &today())).kind(InputKind::Date).width("kort").render(f_for("toeleiding").1))
                        (select("toel-kanaal", "Hoe", None, CHANNELS, &value("toeleiding", "toel-kanaal", ""), f_for("toeleiding").1))
                        (select("toel-uitkomst", "Uitkomst", None, OUTCOMES, &value("toeleiding", "toel-uitkomst", ""), f_for("toeleiding").1))
                        button type="submit" class="button" { "Vastleggen" }
                    }
                }
                div class="card" {
                    h2 id="afzien" { "Ouders zien af van VVE" }
                    form method="post" action=(action_url("afzien")) novalidate {
                        (form_guard(s, &Uuid::new_v4()))
                        (Field::text("afz-datum", "Datum", &value("afzien", "afz-datum", &today())).kind(InputKind::Date).width("kort").render(f_for("afzien").1))
                        (select("afz-reden", "Reden", None, DECLINE_REASONS, &value("afzien", "afz-reden", ""), f_for("afzien").1))
                        button type="submit" class="button button-secondary" { "Vastleggen" }
                    }
                }
                div class="card" {
                    h2 id="intrekken" { "Indicatie intrekken" }
                    form method="post" action=(action_url("intrekken")) novalidate {
                        (form_guard(s, &Uuid::new_v4()))
                        (Field::text("int-datum", "Datum", &value("intrekken", "int-datum", &today())).kind(InputKind::Date).width("kort").render(f_for("intrekken").1))
                        (select("int-reden", "Reden", None, WITHDRAW_REASONS, &value("intrekken", "int-reden", ""), f_for("intrekken").1))
                        button type="submit" class="button button-secondary" { "Indicatie intrekken" }
                    }
                }
                div class="card" {
                    h2 id="verhuisd" { "Verhuisd" }
                    form method="post" action=(action_url("verhuisd")) novalidate {
                        (form_guard(s, &Uuid::new_v4()))
                        (Field::text("verh-datum", "Datum van verhuizing", &value("verhuisd", "verh-datum", &today())).kind(InputKind::Date).width("kort").render(f_for("verhuisd").1))
                        button type="submit" class="button button-secondary" { "Verhuizing vastleggen" }
                    }
                }
            }
        },
    )
}

async fn child_page(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path(id): Path<Uuid>,
    Query(filter): Query<ReferralFilter>,
) -> Response {
    if let Some(r) = jgz_only(&state, &s) {
        return r;
    }
    let (jar, flash) = take_flash(jar);
    (
        jar,
        render_child(&state, &s, id, flash, None, &filter).await,
    )
        .into_response()
}

fn date_field(f: &FormData, field: &str, errors: &mut FormErrors) -> String {
    let v = f.get(field);
    if chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").is_err() {
        errors.add(field, "Vul een geldige datum in.");
    }
    v
}

fn choice(
    f: &FormData,
    field: &str,
    list: &[(&str, &str)],
    msg: &str,
    errors: &mut FormErrors,
) -> String {
    let v = f.get(field);
    if !list.iter().any(|(k, _)| !k.is_empty() && *k == v) {
        errors.add(field, msg);
    }
    v
}

async fn child_action(
    State(state): State<WebState>,
    s: Session,
    jar: PrivateCookieJar,
    Path((id, action)): Path<(Uuid, String)>,
    f: FormData,
) -> Response {
    if let Some(r) = jgz_only(&state, &s) {
        return r;
    }
    if !s.csrf_ok(&f.csrf()) {
        return csrf_refused(&state, Some(&s));
    }
    let mut errors = FormErrors::default();
    let (policy, name, body, fields, done): (&str, &str, Value, &[(&str, &str)], &str) =
        match action.as_str() {
            "indiceren" => {
                let datum = date_field(&f, "ind-datum", &mut errors);
                let criteria = f.all("ind-criteria");
                if criteria.is_empty() {
                    errors.add("ind-criteria", "Kies ten minste één criterium.");
                }
                (
                    "vve.indicatie-afgeven",
                    "indicatie-afgeven",
                    json!({ "kindId": id, "afgegevenOp": datum, "criteria": criteria }),
                    &[("afgegevenOp", "ind-datum"), ("criteria", "ind-criteria")],
                    "De VVE-indicatie is afgegeven.",
                )
            }
            "doorverwijzen" => {
                let datum = date_field(&f, "verw-datum", &mut errors);
                let mut locaties = f.all("verw-locaties");
                locaties.dedup();
                if locaties.is_empty() {
                    errors.add("verw-locaties", "Kies ten minste één VVE-locatie.");
                } else if locaties
                    .iter()
                    .any(|l| !(9..=12).contains(&l.len()) || !l.chars().all(|c| c.is_ascii_digit()))
                {
                    errors.add(
                        "verw-locaties",
                        "Kies de VVE-locaties uit de lijst van het register.",
                    );
                }
                (
                    "vve.doorverwijzen",
                    "doorverwijzen",
                    json!({ "kindId": id, "doorverwezenOp": datum, "locaties": locaties }),
                    &[
                        ("doorverwezenOp", "verw-datum"),
                        ("locaties", "verw-locaties"),
                    ],
                    "Het kind is doorverwezen.",
                )
            }
            "toeleiding" => {
                let datum = date_field(&f, "toel-datum", &mut errors);
                let kanaal = choice(
                    &f,
                    "toel-kanaal",
                    CHANNELS,
                    "Kies hoe u contact heeft gezocht.",
                    &mut errors,
                );
                let uitkomst = choice(
                    &f,
                    "toel-uitkomst",
                    OUTCOMES,
                    "Kies de uitkomst.",
                    &mut errors,
                );
                (
                    "vve.toeleidingspoging-registreren",
                    "toeleidingspoging-registreren",
                    json!({ "kindId": id, "datum": datum, "kanaal": kanaal, "uitkomst": uitkomst }),
                    &[
                        ("datum", "toel-datum"),
                        ("kanaal", "toel-kanaal"),
                        ("uitkomst", "toel-uitkomst"),
                    ],
                    "De toeleidingspoging is vastgelegd.",
                )
            }
            "afzien" => {
                let datum = date_field(&f, "afz-datum", &mut errors);
                let reden = choice(
                    &f,
                    "afz-reden",
                    DECLINE_REASONS,
                    "Kies de reden waarom de ouders afzien.",
                    &mut errors,
                );
                (
                    "vve.afzien-registreren",
                    "afzien-registreren",
                    json!({ "kindId": id, "datum": datum, "reden": reden }),
                    &[("datum", "afz-datum"), ("reden", "afz-reden")],
                    "Vastgelegd dat de ouders afzien van VVE.",
                )
            }
            "intrekken" => {
                let datum = date_field(&f, "int-datum", &mut errors);
                let reden = choice(
                    &f,
                    "int-reden",
                    WITHDRAW_REASONS,
                    "Kies de reden van intrekken.",
                    &mut errors,
                );
                (
                    "vve.indicatie-intrekken",
                    "indicatie-intrekken",
                    json!({ "kindId": id, "ingetrokkenOp": datum, "reden": reden }),
                    &[("ingetrokkenOp", "int-datum"), ("reden", "int-reden")],
                    "De indicatie is ingetrokken.",
                )
            }
            "verhuisd" => {
                let datum = date_field(&f, "verh-datum", &mut errors);
                (
                    "vve.verhuizing-registreren",
                    "verhuizing-registreren",
                    json!({ "kindId": id, "verhuisdOp": datum }),
                    &[("verhuisdOp", "verh-datum")],
                    "De verhuizing is vastgelegd.",
                )
            }
            _ => return super::forbidden(&state, &s),
        };
    let order: Vec<&str> = fields.iter().map(|(_, f)| *f).collect();
    errors.order_by(&order);
    if errors.is_empty() {
        // Read-your-writes: remember the child's worklist entry, and after the command wait
        // (bounded) until the worklist shows a change.
        let entry = |w: &Result<Value, Problem>| -> Option<Value> {
            w.as_ref().ok().and_then(|w| {
                w.get("kinderen").and_then(Value::as_array).and_then(|a| {
                    a.iter()
                        .find(|k| k.get("kindId").and_then(Value::as_str) == Some(&id.to_string()))
                        .cloned()
                })
            })
        };
        let before = entry(&worklist(&state, &s).await);
        match call::command(&state, &s, policy, &cmd(name), &body, f.command_id()).await {
            Ok(_) => {
                for _ in 0..15 {
                    if entry(&worklist(&state, &s).await) != before {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                let jar = with_flash(&state, jar, done);
                return (jar, Redirect::to(&format!("/jgz/kind/{id}"))).into_response();
            }
            Err(p) => call::problem_to_errors(&p, fields, &mut errors),
        }
    }
    let sub = Submitted {
        action: &action,
        form: &f,
        errors: &errors,
    };
    let filter = ReferralFilter::from_form(&f);
    (
        StatusCode::BAD_REQUEST,
        render_child(&state, &s, id, None, Some(sub), &filter).await,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::elfproef;

    #[test]
    fn elfproef_accepts_valid_and_refuses_invalid_numbers() {
        assert!(elfproef("111222333"));
        assert!(elfproef("999990019"));
        assert!(!elfproef("123456789"));
        assert!(!elfproef("12345678"));
    }
}

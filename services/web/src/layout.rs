//! The page shell and the shared components: header with organisation and persona, navigation
//! per user group, the "ontwikkelomgeving" banner, skip link, error summary, form fields with
//! their errors tied by `aria-describedby`, status badges.

use kansrijk_proto::actor::OrganisationType;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::session::Session;

/// The stylesheet (served at `/static/kansrijk.css`).
pub const CSS: &str = include_str!("../assets/kansrijk.css");

/// What every page needs besides its body.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub session: Option<Session>,
    pub dev: bool,
    /// A one-shot confirmation after a POST-redirect-GET.
    pub flash: Option<String>,
    /// The current path (marks the navigation item).
    pub path: String,
}

/// Dutch name of an organisation type.
pub fn organisation_type_label(t: OrganisationType) -> &'static str {
    match t {
        OrganisationType::Jgz => "Jeugdgezondheidszorg (JGZ)",
        OrganisationType::Kinderopvang => "Kinderopvang en voorschool",
        OrganisationType::Basisschool => "Basisschool",
        OrganisationType::VoortgezetOnderwijs => "Voortgezet onderwijs",
        OrganisationType::Jeugdteam => "Jeugd- en gezinsteam",
        OrganisationType::Gemeente => "Gemeente",
        OrganisationType::Privacyfunctionaris => "Functionaris gegevensbescherming",
    }
}

/// Navigation of a user group: (path, label).
pub fn navigation(t: OrganisationType) -> &'static [(&'static str, &'static str)] {
    match t {
        OrganisationType::Privacyfunctionaris => &[
            ("/privacy/verzoeken", "Verzoeken"),
            ("/privacy/wissen", "Gegevens wissen"),
            ("/privacy/toegangslog", "Toegangslog"),
            ("/privacy/inzage", "Inzageverzoek"),
        ],
        OrganisationType::Jgz => &[
            ("/jgz/werklijst", "Werklijst"),
            ("/jgz/kind-inschrijven", "Kind inschrijven"),
        ],
        OrganisationType::Kinderopvang => &[
            ("/kinderopvang", "Verwijzingen en plaatsingen"),
            ("/kinderopvang/overdrachten", "Overdrachten"),
        ],
        OrganisationType::Basisschool => &[
            ("/school", "Ontvangen overdrachten"),
            ("/school/po-vo", "PO-VO-dossiers"),
        ],
        OrganisationType::VoortgezetOnderwijs => &[("/school", "Overdrachten")],
        OrganisationType::Jeugdteam => &[("/jeugdteam", "Caseload")],
        OrganisationType::Gemeente => &[("/gemeente", "Dashboard")],
    }
}

/// The navigation of one user: the group's, with the partner registry first for the
/// municipality's administrator (functioneel beheerder), whose work it is.
pub fn navigation_for(s: &Session) -> Vec<(&'static str, &'static str)> {
    let mut nav = navigation(s.organisation_type).to_vec();
    if s.organisation_type == OrganisationType::Gemeente && s.role == "functioneel-beheerder" {
        nav.insert(0, (crate::pages::registry::PATH, "Partnerregister"));
    }
    nav
}

/// The start page of a user: the first item of their navigation.
pub fn home_of(s: &Session) -> &'static str {
    navigation_for(s).first().map(|(p, _)| *p).unwrap_or("/")
}

/// A whole page.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - Kansrijk" }
                link rel="stylesheet" href="/static/kansrijk.css";
            }
            body {
                a class="skip-link" href="#inhoud" { "Naar de inhoud" }
                @if ctx.dev {
                    div class="dev-banner" role="note" {
                        strong { "Ontwikkelomgeving." }
                        " Inloggen met demopersona's; gebruik geen echte gegevens."
                    }
                }
                header class="site-header" {
                    div class="header-inner" {
                        a class="brand" href="/" {
                            span class="brand-mark" aria-hidden="true" { "K" }
                            span class="brand-text" {
                                span class="brand-name" { "Kansrijk" }
                                span class="brand-sub" { "Samen voor elk kind in beeld" }
                            }
                        }
                        @if let Some(s) = &ctx.session {
                            div class="persona" {
                                p class="persona-name" { (s.name) }
                                p class="persona-org" {
                                    (organisation_type_label(s.organisation_type))
                                    " · organisatie " (s.organisation)
                                }
                                form method="post" action="/uitloggen" class="logout" {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    button type="submit" class="button-link" { "Uitloggen" }
                                }
                            }
                        }
                    }
                    @if let Some(s) = &ctx.session {
                        nav class="main-nav" aria-label="Hoofdmenu" {
                            ul {
                                @let nav = navigation_for(s);
                                @let nav = nav.as_slice();
                                @let current = nav.iter().map(|(h, _)| *h)
                                    .filter(|h| ctx.path == *h || ctx.path.starts_with(&format!("{h}/")))
                                    .max_by_key(|h| h.len());
                                @for (href, label) in nav {
                                    li {
                                        @if current == Some(*href) {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="inhoud" tabindex="-1" {
                    @if let Some(msg) = &ctx.flash {
                        div class="notice notice-success" role="status" {
                            p { (msg) }
                        }
                    }
                    (PreEscaped(body.into_string()))
                }
                footer class="site-footer" {
                    p {
                        "Kansrijk · een dienst van de gemeente voor de partners van de Lokale Educatieve Agenda. "
                        "Vragen over uw gegevens? Neem contact op met de functionaris gegevensbescherming."
                    }
                }
            }
        }
    }
}

/// Field errors of a form, in the form's field order.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    /// (field id, message)
    pub list: Vec<(String, String)>,
    /// An error not tied to a field (a refused command).
    pub general: Option<(String, String)>,
}

impl FormErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        if !self.list.iter().any(|(f, _)| f == field) {
            self.list.push((field.to_owned(), message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.general.is_none()
    }

    /// Sorts the list into the order of `fields` (the order on the page).
    pub fn order_by(&mut self, fields: &[&str]) {
        self.list
            .sort_by_key(|(f, _)| fields.iter().position(|x| x == f).unwrap_or(fields.len()));
    }
}

/// The error summary at the top of a form: focusable, linking to each field.
pub fn error_summary(errors: &FormErrors) -> Markup {
    html! {
        @if let Some((title, detail)) = &errors.general {
            div class="error-summary" role="alert" tabindex="-1" id="foutmelding" {
                h2 { (title) }
                p { (detail) }
            }
        }
        @if !errors.list.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" id="foutenoverzicht" aria-labelledby="foutenoverzicht-titel" {
                h2 id="foutenoverzicht-titel" {
                    @if errors.list.len() == 1 { "Er is 1 fout gevonden" } @else { "Er zijn " (errors.list.len()) " fouten gevonden" }
                }
                ul {
                    @for (field, msg) in &errors.list {
                        li { a href={ "#" (field) } { (msg) } }
                    }
                }
            }
        }
    }
}

/// Kind of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    Date,
    Number,
    Month,
}

/// A labelled text input with its hint and error.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub hint: Option<&'a str>,
    pub value: &'a str,
    pub kind: InputKind,
    pub required: bool,
    pub autocomplete: Option<&'a str>,
    pub width: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn text(id: &'a str, label: &'a str, value: &'a str) -> Self {
        Field {
            id,
            label,
            hint: None,
            value,
            kind: InputKind::Text,
            required: true,
            autocomplete: Some("off"),
            width: None,
        }
    }
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }
    pub fn kind(mut self, kind: InputKind) -> Self {
        self.kind = kind;
        self
    }
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
    pub fn width(mut self, w: &'a str) -> Self {
        self.width = Some(w);
        self
    }
    pub fn autocomplete(mut self, a: &'a str) -> Self {
        self.autocomplete = Some(a);
        self
    }

    pub fn render(&self, errors: &FormErrors) -> Markup {
        let err = errors.get(self.id);
        let hint_id = format!("{}-hint", self.id);
        let err_id = format!("{}-fout", self.id);
        let mut described = Vec::new();
        if self.hint.is_some() {
            described.push(hint_id.clone());
        }
        if err.is_some() {
            described.push(err_id.clone());
        }
        let described = described.join(" ");
        let ty = match self.kind {
            InputKind::Text => "text",
            InputKind::Date => "date",
            InputKind::Number => "number",
            InputKind::Month => "month",
        };
        html! {
            div class={ "field" @if err.is_some() { " field-error" } } {
                label for=(self.id) {
                    (self.label)
                    @if !self.required { span class="optional" { " (niet verplicht)" } }
                }
                @if let Some(h) = self.hint { p class="hint" id=(hint_id) { (h) } }
                @if let Some(e) = err { p class="error-message" id=(err_id) { span class="visually-hidden" { "Fout: " } (e) } }
                input type=(ty) id=(self.id) name=(self.id) value=(self.value)
                    class={ "input" @if let Some(w) = self.width { " input-" (w) } }
                    aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                    aria-invalid=[err.map(|_| "true")]
                    required[self.required]
                    autocomplete=[self.autocomplete];
            }
        }
    }
}

/// A labelled select.
pub fn select(
    id: &str,
    label: &str,
    hint: Option<&str>,
    options: &[(&str, &str)],
    selected: &str,
    errors: &FormErrors,
) -> Markup {
    let err = errors.get(id);
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-fout");
    let mut described = Vec::new();
    if hint.is_some() {
        described.push(hint_id.clone());
    }
    if err.is_some() {
        described.push(err_id.clone());
    }
    let described = described.join(" ");
    html! {
        div class={ "field" @if err.is_some() { " field-error" } } {
            label for=(id) { (label) }
            @if let Some(h) = hint { p class="hint" id=(hint_id) { (h) } }
            @if let Some(e) = err { p class="error-message" id=(err_id) { span class="visually-hidden" { "Fout: " } (e) } }
            select id=(id) name=(id) class="input"
                aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                aria-invalid=[err.map(|_| "true")] {
                @for (value, text) in options {
                    option value=(value) selected[*value == selected] { (text) }
                }
            }
        }
    }
}

/// A group of checkboxes in a fieldset.
pub fn checkboxes(
    id: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str)],
    checked: &[String],
    errors: &FormErrors,
) -> Markup {
    let err = errors.get(id);
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-fout");
    let mut described = Vec::new();
    if hint.is_some() {
        described.push(hint_id.clone());
    }
    if err.is_some() {
        described.push(err_id.clone());
    }
    let described = described.join(" ");
    html! {
        div class={ "field" @if err.is_some() { " field-error" } } id=(id) tabindex="-1" {
            fieldset aria-describedby=[(!described.is_empty()).then_some(described.as_str())] {
                legend { (legend) }
                @if let Some(h) = hint { p class="hint" id=(hint_id) { (h) } }
                @if let Some(e) = err { p class="error-message" id=(err_id) { span class="visually-hidden" { "Fout: " } (e) } }
                @for (i, (value, text)) in options.iter().enumerate() {
                    @let cid = format!("{id}-{i}");
                    div class="check" {
                        input type="checkbox" id=(cid) name=(id) value=(value) checked[checked.iter().any(|c| c == value)];
                        label for=(cid) { (text) }
                    }
                }
            }
        }
    }
}

/// Hidden fields of every POST form: the CSRF token and the command id (idempotency).
pub fn form_guard(session: &Session, command_id: &uuid::Uuid) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(session.csrf);
        input type="hidden" name="opdrachtId" value=(command_id);
    }
}

/// Tone of a badge.
#[derive(Debug, Clone, Copy)]
pub enum Tone {
    Neutral,
    Info,
    Success,
    Warning,
    Danger,
}

/// A status badge.
pub fn badge(tone: Tone, text: &str) -> Markup {
    let class = match tone {
        Tone::Neutral => "badge",
        Tone::Info => "badge badge-info",
        Tone::Success => "badge badge-success",
        Tone::Warning => "badge badge-warning",
        Tone::Danger => "badge badge-danger",
    };
    html! { span class=(class) { (text) } }
}

/// `1 kind`, `2 kinderen`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A date as `d-m-jjjj` (Dutch).
pub fn date_nl(iso: &str) -> String {
    let day = iso.get(..10).unwrap_or(iso);
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => d.format("%-d-%-m-%Y").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// A timestamp as `d-m-jjjj uu:mm` (UTC).
pub fn datetime_nl(iso: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(iso) {
        Ok(t) => t.format("%-d-%-m-%Y %H:%M").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// An ISO date (`2026-01-31`, alone) as a Dutch date; other text unchanged.
pub fn date_or_text(s: &str) -> String {
    if s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() {
        date_nl(s)
    } else {
        s.to_owned()
    }
}

/// `warmeOverdrachtGewenst` -> `Warme overdracht gewenst`.
pub fn humanise(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Raw markup (only for markup built here).
pub fn raw(s: String) -> PreEscaped<String> {
    PreEscaped(s)
}

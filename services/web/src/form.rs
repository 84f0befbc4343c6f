//! Submitted forms: every pair as sent (checkbox groups repeat a name), the CSRF check and the
//! command id of the submission; and command forms with a choice filled at request time (a
//! district or a school from the partner registry, instead of typed text).

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use uuid::Uuid;

use crate::actions::{Action, Input, Kind};
use crate::layout::{self, Field, FormErrors, InputKind};
use crate::session::Session;

/// The pairs of an `application/x-www-form-urlencoded` body.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The command id of this submission (a fresh one when absent or malformed).
    pub fn command_id(&self) -> Uuid {
        Uuid::parse_str(&self.get("opdrachtId")).unwrap_or_else(|_| Uuid::new_v4())
    }

    pub fn csrf(&self) -> String {
        self.get("csrf")
    }
}

/// An unreadable form body.
#[derive(Debug)]
pub struct BadForm;

impl IntoResponse for BadForm {
    fn into_response(self) -> Response {
        (
            axum::http::StatusCode::BAD_REQUEST,
            "Het formulier kon niet worden gelezen.",
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = BadForm;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|_| BadForm)?;
        Ok(FormData(pairs))
    }
}

// ------------------------------------------------------------------------------------------
// Forms with a choice from the registry (districts, schools): a declarative command form whose
// options are known only at request time.

/// The options of a select filled at request time: (value, label); the first is the empty
/// "choose" option.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub options: Vec<(String, String)>,
    /// Shown in the field when the list could not be loaded.
    pub unavailable: Option<String>,
}

impl Choices {
    pub fn new(prompt: &str, items: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut options = vec![(String::new(), prompt.to_owned())];
        options.extend(items);
        Choices {
            options,
            unavailable: None,
        }
    }

    /// Only the prompt, with a message why the list is empty.
    pub fn unavailable(prompt: &str, message: &str) -> Self {
        Choices {
            unavailable: Some(message.to_owned()),
            ..Choices::new(prompt, [])
        }
    }

    /// Whether `value` is one of the options (not the prompt).
    pub fn contains(&self, value: &str) -> bool {
        !value.is_empty() && self.options.iter().any(|(v, _)| v == value)
    }

    pub fn refs(&self) -> Vec<(&str, &str)> {
        self.options
            .iter()
            .map(|(v, l)| (v.as_str(), l.as_str()))
            .collect()
    }
}

/// A select whose options come from [`Choices`], in a command form.
#[derive(Debug, Clone, Copy)]
pub struct ChoiceField<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub hint: Option<&'a str>,
    pub choices: &'a Choices,
    /// Preselected when the form was not submitted yet (e.g. the school already recorded).
    pub default: &'a str,
    /// The choice comes before the action's input at this index (after all when out of range).
    pub position: usize,
}

impl ChoiceField<'_> {
    /// Checks the submitted value: one of the options.
    pub fn validate(&self, f: &FormData, errors: &mut FormErrors) -> Option<String> {
        let v = f.get(self.id);
        if self.choices.contains(&v) {
            Some(v)
        } else {
            errors.add(self.id, format!("Kies de {}.", self.label.to_lowercase()));
            None
        }
    }

    fn render(&self, value: &str, errors: &FormErrors) -> Markup {
        let opts = self.choices.refs();
        html! {
            @if let Some(msg) = &self.choices.unavailable {
                p class="notice notice-warning" { (msg) }
            }
            (layout::select(self.id, self.label, self.hint, &opts, value, errors))
        }
    }
}

/// Renders `action` as [`Action::render`] does, with `choice` among its inputs.
pub fn render_with_choice(
    action: &Action,
    s: &Session,
    action_url: &str,
    submitted: Option<(&FormData, &FormErrors)>,
    choice: ChoiceField<'_>,
) -> Markup {
    let empty = FormErrors::default();
    let (f, errors) = match submitted {
        Some((f, e)) => (Some(f), e),
        None => (None, &empty),
    };
    let today = chrono::Utc::now().date_naive().to_string();
    let heading_id = format!("{}-titel", action.key);
    let choice_value = f.map_or_else(|| choice.default.to_owned(), |f| f.get(choice.id));
    html! {
        div class="card" {
            h2 id=(heading_id) { (action.title) }
            form method="post" action=(action_url) novalidate aria-labelledby=(heading_id) {
                (layout::form_guard(s, &Uuid::new_v4()))
                @for (n, i) in action.inputs.iter().enumerate() {
                    @if n == choice.position { (choice.render(&choice_value, errors)) }
                    (render_input(i, f, &today, errors))
                }
                @if choice.position >= action.inputs.len() { (choice.render(&choice_value, errors)) }
                button type="submit" class={ "button" @if action.secondary { " button-secondary" } } { (action.button) }
            }
        }
    }
}

/// One input of a declarative form, as [`Action::render`] renders it.
fn render_input(i: &Input, f: Option<&FormData>, today: &str, errors: &FormErrors) -> Markup {
    let value = match f {
        Some(f) => f.get(i.id),
        None => match i.kind {
            Kind::Date(true) => today.to_owned(),
            _ => String::new(),
        },
    };
    match i.kind {
        Kind::Multi(opts) => layout::checkboxes(
            i.id,
            i.label,
            i.hint,
            opts,
            &f.map(|f| f.all(i.id)).unwrap_or_default(),
            errors,
        ),
        Kind::Select(opts) => layout::select(i.id, i.label, i.hint, opts, &value, errors),
        Kind::LongText | Kind::OptionalText => {
            let err = errors.get(i.id);
            let described = [
                i.hint.map(|_| format!("{}-hint", i.id)),
                err.map(|_| format!("{}-fout", i.id)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            html! {
                div class={ "field" @if err.is_some() { " field-error" } } {
                    label for=(i.id) { (i.label) @if matches!(i.kind, Kind::OptionalText) { span class="optional" { " (niet verplicht)" } } }
                    @if let Some(h) = i.hint { p class="hint" id={ (i.id) "-hint" } { (h) } }
                    @if let Some(e) = err { p class="error-message" id={ (i.id) "-fout" } { span class="visually-hidden" { "Fout: " } (e) } }
                    textarea id=(i.id) name=(i.id) class="input" rows="3"
                        aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                        aria-invalid=[err.map(|_| "true")] { (value) }
                }
            }
        }
        _ => {
            let kind = match i.kind {
                Kind::Date(_) => InputKind::Date,
                Kind::Number(..) => InputKind::Number,
                Kind::Month => InputKind::Month,
                _ => InputKind::Text,
            };
            let field = Field::text(i.id, i.label, &value).kind(kind).width(
                if matches!(i.kind, Kind::Text) {
                    "middel"
                } else {
                    "kort"
                },
            );
            let field = match i.hint {
                Some(h) => field.hint(h),
                None => field,
            };
            field.render(errors)
        }
    }
}

/// The municipality's schools of a sector from the registry as choices (value: BRIN+vestiging):
/// `basisschool` or `voortgezet-onderwijs`.
pub async fn school_choices(
    state: &crate::WebState,
    s: &Session,
    organisation_type: &str,
) -> Choices {
    match crate::call::schools(state, s, organisation_type).await {
        Ok(list) if !list.is_empty() => Choices::new(
            "Kies de school",
            list.into_iter().map(|e| {
                let label = match &e.district {
                    Some(d) => format!("{}, {} (BRIN {})", e.name, d, e.id),
                    None => format!("{} (BRIN {})", e.name, e.id),
                };
                (e.id, label)
            }),
        ),
        Ok(_) => Choices::unavailable(
            "Kies de school",
            "Het register heeft geen scholen van deze soort in uw gemeente.",
        ),
        Err(_) => Choices::unavailable(
            "Kies de school",
            "De lijst met scholen is nu niet beschikbaar. Probeer het later opnieuw.",
        ),
    }
}

/// A chosen school (`20VF00`) as the handover service's `school` object.
pub fn school_body(brin_vestiging: &str) -> serde_json::Value {
    let (brin, vestiging) = brin_vestiging.split_at(brin_vestiging.len().min(4));
    serde_json::json!({ "brin": brin, "vestiging": vestiging })
}

/// The school recorded in a handover file (`school.brin` + `school.vestiging`), if any.
pub fn recorded_school(file: &serde_json::Value) -> String {
    let part = |f: &str| {
        file.get("school")
            .and_then(|s| s.get(f))
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    format!("{}{}", part("brin"), part("vestiging"))
}

//! Declarative command forms: a form is a list of typed fields, each mapped to the service's
//! field name; validation (all errors at once, in Dutch), rendering with errors next to the
//! fields, and the mapping of the service's `invalidParams` back onto the fields.

use maud::{html, Markup};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::form::FormData;
use crate::layout::{self, Field, FormErrors, InputKind};
use crate::session::Session;

/// The type of an input.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A date; `true`: today as default.
    Date(bool),
    /// Whole number within the bounds.
    Number(i64, i64),
    /// `YYYY-MM`.
    Month,
    /// A line of text (at most 2000 characters).
    Text,
    /// A longer text, in a text area (at most 2000 characters).
    LongText,
    /// Optional free text.
    OptionalText,
    /// One of the options (value, label); the first may be the empty "choose" option.
    Select(&'static [(&'static str, &'static str)]),
    /// One or more of the options (checkboxes); a list in the body.
    Multi(&'static [(&'static str, &'static str)]),
}

/// One input of a command form.
#[derive(Debug, Clone, Copy)]
pub struct Input {
    /// The form field id (unique on the page: prefix per form).
    pub id: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    pub kind: Kind,
    /// The service's field name.
    pub service: &'static str,
}

impl Input {
    pub const fn new(
        id: &'static str,
        label: &'static str,
        kind: Kind,
        service: &'static str,
    ) -> Self {
        Input {
            id,
            label,
            hint: None,
            kind,
            service,
        }
    }
    pub const fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// A command form.
#[derive(Debug, Clone, Copy)]
pub struct Action {
    /// Path segment of the action.
    pub key: &'static str,
    pub title: &'static str,
    pub button: &'static str,
    /// `kansrijk-policy` action.
    pub policy: &'static str,
    /// NATS subject.
    pub subject: &'static str,
    pub inputs: &'static [Input],
    /// Shown after success.
    pub done: &'static str,
    pub secondary: bool,
}

impl Action {
    /// Validates the submitted form; returns the body (service field names) or the errors.
    pub fn validate(&self, f: &FormData, errors: &mut FormErrors) -> Map<String, Value> {
        let mut body = Map::new();
        for i in self.inputs {
            let v = f.get(i.id);
            match i.kind {
                Kind::Date(_) => match chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
                    Ok(_) => {
                        body.insert(i.service.into(), Value::from(v));
                    }
                    Err(_) if v.is_empty() => {
                        errors.add(i.id, format!("Vul {} in.", lower(i.label)))
                    }
                    Err(_) => errors.add(
                        i.id,
                        format!("Vul bij {} een geldige datum in.", lower(i.label)),
                    ),
                },
                Kind::Number(lo, hi) => match v.parse::<i64>() {
                    Ok(n) if (lo..=hi).contains(&n) => {
                        body.insert(i.service.into(), Value::from(n));
                    }
                    Ok(_) => errors.add(
                        i.id,
                        format!(
                            "Vul bij {} een getal van {lo} tot en met {hi} in.",
                            lower(i.label)
                        ),
                    ),
                    Err(_) if v.is_empty() => {
                        errors.add(i.id, format!("Vul {} in.", lower(i.label)))
                    }
                    Err(_) => errors.add(
                        i.id,
                        format!("Vul bij {} een heel getal in.", lower(i.label)),
                    ),
                },
                Kind::Month => {
                    let ok =
                        chrono::NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").is_ok();
                    if ok {
                        body.insert(i.service.into(), Value::from(v));
                    } else {
                        errors.add(
                            i.id,
                            format!("Vul bij {} een maand in als jjjj-mm.", lower(i.label)),
                        );
                    }
                }
                Kind::Text | Kind::LongText => {
                    if v.is_empty() {
                        errors.add(i.id, format!("Vul {} in.", lower(i.label)));
                    } else if v.chars().count() > 2000 {
                        errors.add(i.id, "Gebruik hoogstens 2000 tekens.");
                    } else {
                        body.insert(i.service.into(), Value::from(v));
                    }
                }
                Kind::OptionalText => {
                    if v.chars().count() > 2000 {
                        errors.add(i.id, "Gebruik hoogstens 2000 tekens.");
                    } else if !v.is_empty() {
                        body.insert(i.service.into(), Value::from(v));
                    }
                }
                Kind::Multi(opts) => {
                    let chosen: Vec<String> = f
                        .all(i.id)
                        .into_iter()
                        .filter(|c| opts.iter().any(|(k, _)| k == c))
                        .collect();
                    if chosen.is_empty() {
                        errors.add(i.id, format!("Kies ten minste één bij {}.", lower(i.label)));
                    } else {
                        body.insert(i.service.into(), Value::from(chosen));
                    }
                }
                Kind::Select(opts) => {
                    if opts.iter().any(|(k, _)| !k.is_empty() && *k == v) {
                        body.insert(i.service.into(), Value::from(v));
                    } else {
                        errors.add(i.id, format!("Kies {}.", lower(i.label)));
                    }
                }
            }
        }
        errors.order_by(&self.inputs.iter().map(|i| i.id).collect::<Vec<_>>());
        body
    }

    /// Service field name -> form field id.
    pub fn field_map(&self) -> Vec<(&'static str, &'static str)> {
        self.inputs.iter().map(|i| (i.service, i.id)).collect()
    }

    /// The form, posting to `action_url`; `submitted` holds the values and errors when this form
    /// was sent back with errors.
    pub fn render(
        &self,
        s: &Session,
        action_url: &str,
        submitted: Option<(&FormData, &FormErrors)>,
    ) -> Markup {
        let empty = FormErrors::default();
        let (f, errors) = match submitted {
            Some((f, e)) => (Some(f), e),
            None => (None, &empty),
        };
        let today = chrono::Utc::now().date_naive().to_string();
        let heading_id = format!("{}-titel", self.key);
        html! {
            div class="card" {
                h2 id=(heading_id) { (self.title) }
                form method="post" action=(action_url) novalidate aria-labelledby=(heading_id) {
                    (layout::form_guard(s, &Uuid::new_v4()))
                    @for i in self.inputs {
                        @let value = match f {
                            Some(f) => f.get(i.id),
                            None => match i.kind { Kind::Date(true) => today.clone(), _ => String::new() },
                        };
                        @match i.kind {
                            Kind::Multi(opts) => {
                                (layout::checkboxes(i.id, i.label, i.hint, opts, &f.map(|f| f.all(i.id)).unwrap_or_default(), errors))
                            }
                            Kind::Select(opts) => {
                                (layout::select(i.id, i.label, i.hint, opts, &value, errors))
                            }
                            Kind::LongText | Kind::OptionalText => {
                                @let err = errors.get(i.id);
                                @let described = [i.hint.map(|_| format!("{}-hint", i.id)), err.map(|_| format!("{}-fout", i.id))].into_iter().flatten().collect::<Vec<_>>().join(" ");
                                div class={ "field" @if err.is_some() { " field-error" } } {
                                    label for=(i.id) { (i.label) @if matches!(i.kind, Kind::OptionalText) { span class="optional" { " (niet verplicht)" } } }
                                    @if let Some(h) = i.hint { p class="hint" id={ (i.id) "-hint" } { (h) } }
                                    @if let Some(e) = err { p class="error-message" id={ (i.id) "-fout" } { span class="visually-hidden" { "Fout: " } (e) } }
                                    textarea id=(i.id) name=(i.id) class="input" rows="3"
                                        aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                                        aria-invalid=[err.map(|_| "true")] { (value) }
                                }
                            }
                            _ => {
                                @let kind = match i.kind { Kind::Date(_) => InputKind::Date, Kind::Number(..) => InputKind::Number, Kind::Month => InputKind::Month, _ => InputKind::Text };
                                @let field = Field::text(i.id, i.label, &value)
                                    .kind(kind)
                                    .width(if matches!(i.kind, Kind::Text) { "middel" } else { "kort" });
                                @let field = match i.hint { Some(h) => field.hint(h), None => field };
                                (field.render(errors))
                            }
                        }
                    }
                    button type="submit" class={ "button" @if self.secondary { " button-secondary" } } { (self.button) }
                }
            }
        }
    }
}

/// Turns dotted service names (`kind.voornaam`, `inhoud.verzuim.geoorloofdDagen`) into nested
/// objects, and `ja`/`nee` into booleans.
pub fn nest(flat: Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (k, v) in flat {
        let v = match v.as_str() {
            Some("ja") => Value::Bool(true),
            Some("nee") => Value::Bool(false),
            _ => v,
        };
        let parts: Vec<&str> = k.split('.').collect();
        let mut node = &mut out;
        for p in &parts[..parts.len() - 1] {
            let entry = node
                .entry((*p).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            node = match entry.as_object_mut() {
                Some(o) => o,
                None => return Value::Object(out),
            };
        }
        node.insert(parts[parts.len() - 1].to_owned(), v);
    }
    Value::Object(out)
}

fn lower(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => {
            let rest: String = c.collect();
            let first = first.to_lowercase().to_string();
            // "Datum" -> "de datum" reads better in "Vul de datum in".
            format!("{}{first}{rest}", article(s))
        }
        None => String::new(),
    }
}

fn article(label: &str) -> &'static str {
    let l = label.to_lowercase();
    if ["uren", "criteria", "minuten", "het ", "de ", "een "]
        .iter()
        .any(|p| l.starts_with(p))
    {
        ""
    } else if [
        "maand",
        "datum",
        "startdatum",
        "einddatum",
        "reden",
        "uitkomst",
        "verwachte",
        "omschrijving",
        "toelichting",
        "titel",
        "prioriteit",
        "status",
        "organisatie",
        "deadline",
        "positie",
        "school",
        "vestiging",
        "naam",
    ]
    .iter()
    .any(|p| l.starts_with(p))
    {
        "de "
    } else {
        "het "
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Action = Action {
        key: "x",
        title: "X",
        button: "Opslaan",
        policy: "vve.plaatsing-starten",
        subject: "kansrijk.cmd.vve.plaatsing-starten",
        inputs: &[
            Input::new("d", "Startdatum", Kind::Date(true), "startdatum"),
            Input::new("u", "Uren per week", Kind::Number(0, 40), "urenPerWeek"),
            Input::new(
                "r",
                "Reden",
                Kind::Select(&[("", "Kies"), ("a", "A")]),
                "reden",
            ),
        ],
        done: "ok",
        secondary: false,
    };

    #[test]
    fn every_error_at_once_in_field_order() {
        let f = FormData(vec![("u".into(), "50".into()), ("r".into(), "zz".into())]);
        let mut e = FormErrors::default();
        A.validate(&f, &mut e);
        let ids: Vec<&str> = e.list.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(ids, vec!["d", "u", "r"]);
        assert_eq!(e.get("d"), Some("Vul de startdatum in."));
        assert_eq!(
            e.get("u"),
            Some("Vul bij uren per week een getal van 0 tot en met 40 in.")
        );
    }

    #[test]
    fn a_valid_form_becomes_the_service_body() {
        let f = FormData(vec![
            ("d".into(), "2026-01-05".into()),
            ("u".into(), "16".into()),
            ("r".into(), "a".into()),
        ]);
        let mut e = FormErrors::default();
        let body = A.validate(&f, &mut e);
        assert!(e.is_empty());
        assert_eq!(
            Value::Object(body),
            serde_json::json!({"startdatum": "2026-01-05", "urenPerWeek": 16, "reden": "a"})
        );
    }
}

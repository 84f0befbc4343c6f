//! The one rule for every string and every array of every request body, shared by the gateway
//! (before forwarding) and the services (before deserialising, so that a NATS caller cannot get
//! around the gateway).
//!
//! - No string may hold control characters (C0 and C1, DEL), bidirectional overrides or isolates
//!   (U+202A-U+202E, U+2066-U+2069), zero-width characters (U+200B-U+200D, U+2060) or a byte
//!   order mark (U+FEFF). A multi-line text field (schema keyword [`MULTILINE`] on the field, on
//!   a list of texts or on an object whose texts are all multi-line, such as a file's content)
//!   allows line breaks (`\n`, `\r\n`) and tabs.
//! - No array may be longer than its schema's `maxItems`; every array of a command body declares
//!   one (the gateway's contract test walks every body).
//!
//! Field names are dotted as in the gateway's validation (`locaties.3`), with `body` for the root.
//! Reasons are Dutch and never quote the input.

use serde_json::{Map, Value};

use crate::problem::FieldError;

/// The JSON Schema extension keyword that marks a multi-line text field (or a list of them).
/// Set it with `#[schemars(extend("x-meerregelig" = true))]`.
pub const MULTILINE: &str = "x-meerregelig";

/// The code of a field with a forbidden character.
pub const INVALID_CHARACTERS: &str = "ongeldige-tekens";

/// Whether `c` is refused in text; `multiline` allows `\n` and `\t` (and `\r` before `\n`,
/// decided by [`text_is_clean`]).
pub fn forbidden(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' | '\r' => !multiline,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' => true,
        _ => false,
    }
}

/// Whether `text` holds no forbidden character (a `\r` only as part of `\r\n` in a multi-line
/// text).
pub fn text_is_clean(text: &str, multiline: bool) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && multiline {
            if chars.peek() != Some(&'\n') {
                return false;
            }
        } else if forbidden(c, multiline) {
            return false;
        }
    }
    true
}

/// The field error for a text with forbidden characters.
pub fn invalid_characters(name: impl Into<String>, multiline: bool) -> FieldError {
    FieldError::new(
        name,
        INVALID_CHARACTERS,
        if multiline {
            "Deze tekst bevat tekens die niet zijn toegestaan (stuurtekens, onzichtbare of \
             richtingstekens)."
        } else {
            "Deze tekst bevat tekens die niet zijn toegestaan (regeleinden, tabs, stuurtekens, \
             onzichtbare of richtingstekens)."
        },
    )
}

/// Checks every string of `value` (keys too) against the rule without a schema: what no text
/// may hold, not even a multi-line one. Services apply it to every request they decode.
pub fn check_any(value: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    walk(None, &[], value, "", true, &mut errors);
    errors
}

/// Checks every string and every array of `value` against `schema` (a JSON Schema document
/// with `$defs`, as schemars writes it): strings single-line unless marked [`MULTILINE`],
/// arrays at most `maxItems` long. Every error at once.
pub fn check(schema: &Value, value: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    walk(Some(schema), &[schema], value, "", false, &mut errors);
    errors
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn name(path: &str) -> String {
    if path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

/// The schemas that apply to one value: `$ref`, `allOf`, `anyOf` and `oneOf` flattened.
fn flatten<'a>(root: &'a Value, schema: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
    let Some(s) = schema.as_object() else { return };
    if out.iter().any(|o| std::ptr::eq(*o, s)) || out.len() > 64 {
        return;
    }
    out.push(s);
    if let Some(target) = s
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
    {
        flatten(root, target, out);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for sub in s.get(key).and_then(Value::as_array).into_iter().flatten() {
            flatten(root, sub, out);
        }
    }
}

fn walk(
    root: Option<&Value>,
    schemas: &[&Value],
    value: &Value,
    path: &str,
    multiline: bool,
    errors: &mut Vec<FieldError>,
) {
    let mut flat = Vec::new();
    if let Some(root) = root {
        for s in schemas {
            flatten(root, s, &mut flat);
        }
    }
    let multiline = multiline
        || flat
            .iter()
            .any(|s| s.get(MULTILINE) == Some(&Value::Bool(true)));
    match value {
        Value::String(text) if !text_is_clean(text, multiline) => {
            errors.push(invalid_characters(name(path), multiline));
        }
        Value::Array(items) => {
            let max = flat
                .iter()
                .filter_map(|s| s.get("maxItems").and_then(Value::as_u64))
                .min();
            if let Some(max) = max.filter(|m| items.len() as u64 > *m) {
                errors.push(FieldError::new(
                    name(path),
                    "te-veel",
                    format!("Hoogstens {max} element(en) toegestaan."),
                ));
            }
            let item_schemas: Vec<&Value> = flat.iter().filter_map(|s| s.get("items")).collect();
            for (i, item) in items.iter().enumerate() {
                walk(
                    root,
                    &item_schemas,
                    item,
                    &join(path, &i.to_string()),
                    multiline,
                    errors,
                );
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = join(path, key);
                if !text_is_clean(key, false) {
                    // The key cannot be quoted: name its parent.
                    errors.push(invalid_characters(name(path), false));
                    continue;
                }
                let child_schemas: Vec<&Value> = flat
                    .iter()
                    .filter_map(|s| {
                        s.get("properties")
                            .and_then(|p| p.get(key))
                            .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
                    })
                    .collect();
                // A multi-line mark applies to everything below the field it is on (the texts
                // of a file's content); without a schema, everything is checked as multi-line.
                walk(root, &child_schemas, child, &child_path, multiline, errors);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Body {
        naam: String,
        wijk: Option<String>,
        #[schemars(extend("x-meerregelig" = true))]
        verslag: Option<String>,
        #[schemars(length(max = 2))]
        locaties: Option<Vec<String>>,
        #[schemars(length(max = 3), extend("x-meerregelig" = true))]
        punten: Vec<String>,
        leden: Vec<Lid>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Lid {
        voornaam: String,
    }

    fn schema() -> Value {
        schemars::schema_for!(Body).to_value()
    }

    #[test]
    fn the_characters_refused() {
        for c in [
            '\u{0}', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{202a}', '\u{202e}',
            '\u{2066}', '\u{2069}', '\u{200b}', '\u{200d}', '\u{2060}', '\u{feff}',
        ] {
            assert!(forbidden(c, false) && forbidden(c, true), "{:?}", c);
        }
        for c in ['a', 'é', 'ß', '’', '-', ' ', '\u{a0}', 'ü', '中', '🙂'] {
            assert!(!forbidden(c, false), "{c:?}");
        }
        assert!(forbidden('\n', false) && !forbidden('\n', true));
        assert!(forbidden('\t', false) && !forbidden('\t', true));
        assert!(text_is_clean("regel 1\r\nregel 2\n\tregel 3", true));
        assert!(!text_is_clean("regel 1\rregel 2", true));
        assert!(!text_is_clean("Noor\r\n", false));
        assert!(text_is_clean("Anne-Marie van 't Hof", false));
    }

    #[test]
    fn every_string_and_array_is_checked_against_the_schema_at_once() {
        let v = json!({
            "naam": "No\u{0}or",
            "wijk": "Binnenstad\u{202e}Noord",
            "verslag": "Eerste regel\nTweede regel\u{200b}",
            "locaties": ["1", "2", "3"],
            "punten": ["een\nmet een regeleinde", "twee\u{feff}"],
            "leden": [{"voornaam": "Ja\nn"}, {"voornaam": "Piet"}],
            "onbekend": "x\u{1}"
        });
        let errors = check(&schema(), &v);
        let mut got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.name.as_str(), e.code.as_str()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("leden.0.voornaam", INVALID_CHARACTERS),
                ("locaties", "te-veel"),
                ("naam", INVALID_CHARACTERS),
                ("onbekend", INVALID_CHARACTERS),
                ("punten.1", INVALID_CHARACTERS),
                ("verslag", INVALID_CHARACTERS),
                ("wijk", INVALID_CHARACTERS),
            ]
        );
        for e in &errors {
            assert!(!e.reason.contains("Noor") && !e.reason.contains("Binnenstad"));
        }
    }

    #[test]
    fn clean_input_passes_and_multiline_fields_keep_their_line_breaks() {
        let v = json!({
            "naam": "Noor Jansen",
            "wijk": null,
            "verslag": "Eerste regel\r\nTweede regel\n\tingesprongen",
            "locaties": ["1", "2"],
            "punten": ["een", "twee\nregels"],
            "leden": [{"voornaam": "Zoë"}]
        });
        assert_eq!(check(&schema(), &v), vec![]);
    }

    #[test]
    fn without_a_schema_only_what_no_text_may_hold_is_refused() {
        let v = json!({"a": "x\ny\tz", "b": ["ok", "n\u{0}"], "c": {"d": "\u{2066}"}});
        let mut names: Vec<String> = check_any(&v).into_iter().map(|e| e.name).collect();
        names.sort();
        assert_eq!(names, vec!["b.1", "c.d"]);
        let key = json!({"x\u{0}": 1});
        assert_eq!(check_any(&key)[0].name, "body");
    }
}

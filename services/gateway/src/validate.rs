//! Validation of a JSON request body against the JSON Schema of the command it carries (generated
//! with schemars from the command type), reporting every field error at once. Covers what matters
//! at the front door: types, required and unknown fields, enums, formats (uuid, date, date-time),
//! bounds and lengths, nested objects and arrays, `$ref`, `oneOf`/`anyOf`/`allOf`. Domain rules
//! stay in the services; `pattern` is left to them too. Reasons are Dutch and never quote the input.

use kansrijk_proto::problem::FieldError;
use serde_json::Value;

/// Validates `value` against `schema` (a JSON Schema document with `$defs`), returning all errors.
/// Every string and every array also passes the rule the services apply themselves
/// ([`kansrijk_proto::text::check`]: no control, bidi or zero-width characters, line breaks only
/// in multi-line fields, arrays at most `maxItems` long).
pub fn validate(schema: &Value, value: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check(schema, schema, value, "", &mut errors);
    for e in kansrijk_proto::text::check(schema, value) {
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
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

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
        _ => true,
    }
}

fn type_name_nl(ty: &str) -> &'static str {
    match ty {
        "null" => "leeg (null)",
        "boolean" => "waar/onwaar",
        "string" => "tekst",
        "array" => "lijst",
        "object" => "object",
        "number" => "getal",
        "integer" => "geheel getal",
        _ => "waarde",
    }
}

fn check(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let Some(s) = schema.as_object() else {
        // `true` accepts everything; `false` nothing.
        if schema == &Value::Bool(false) {
            errors.push(FieldError::new(
                name(path),
                "niet-toegestaan",
                "Dit veld is niet toegestaan.",
            ));
        }
        return;
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        if let Some(target) = resolve(root, r) {
            check(root, target, v, path, errors);
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(root, sub, v, path, errors);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            let results: Vec<Vec<FieldError>> = alts
                .iter()
                .map(|alt| {
                    let mut e = Vec::new();
                    check(root, alt, v, path, &mut e);
                    e
                })
                .collect();
            if !results.iter().any(Vec::is_empty) {
                // Report the errors of the closest alternative when there is a single non-null one.
                let non_null: Vec<&Vec<FieldError>> = alts
                    .iter()
                    .zip(&results)
                    .filter(|(alt, _)| alt.get("type").and_then(Value::as_str) != Some("null"))
                    .map(|(_, e)| e)
                    .collect();
                // An enum whose variants carry descriptions: a `oneOf` of constants.
                let choices: Option<Vec<&str>> = alts
                    .iter()
                    .filter(|alt| alt.get("type").and_then(Value::as_str) != Some("null"))
                    .map(|alt| {
                        alt.get("const").and_then(Value::as_str).or_else(|| {
                            alt.get("enum")
                                .and_then(Value::as_array)
                                .filter(|e| e.len() == 1)
                                .and_then(|e| e[0].as_str())
                        })
                    })
                    .collect();
                if let Some(choices) = choices.filter(|c| !c.is_empty()) {
                    errors.push(FieldError::new(
                        name(path),
                        "ongeldige-waarde",
                        format!("Kies uit: {}.", choices.join(", ")),
                    ));
                } else if non_null.len() == 1 {
                    errors.extend(non_null[0].iter().cloned());
                } else {
                    errors.push(FieldError::new(
                        name(path),
                        "ongeldige-waarde",
                        "Deze waarde past bij geen van de toegestane vormen.",
                    ));
                }
            }
        }
    }
    if let Some(ty) = s.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, v)) {
            let expected: Vec<&str> = types
                .iter()
                .filter(|t| **t != "null")
                .map(|t| type_name_nl(t))
                .collect();
            errors.push(FieldError::new(
                name(path),
                "ongeldig-type",
                format!("Verwacht: {}.", expected.join(" of ")),
            ));
            return;
        }
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            let options: Vec<String> = allowed
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            let reason = if options.is_empty() {
                "Deze waarde is niet toegestaan.".to_owned()
            } else {
                format!("Kies uit: {}.", options.join(", "))
            };
            errors.push(FieldError::new(name(path), "ongeldige-waarde", reason));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errors.push(FieldError::new(
                name(path),
                "ongeldige-waarde",
                "Deze waarde is niet toegestaan.",
            ));
        }
    }
    match v {
        Value::Object(map) => check_object(root, s, map, path, errors),
        Value::Array(items) => check_array(root, s, items, path, errors),
        Value::String(text) => check_string(s, text, path, errors),
        Value::Number(n) => check_number(s, n, path, errors),
        _ => {}
    }
}

fn check_object(
    root: &Value,
    s: &serde_json::Map<String, Value>,
    map: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let props = s.get("properties").and_then(Value::as_object);
    if let Some(required) = s.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                errors.push(FieldError::new(
                    join(path, r),
                    "verplicht",
                    "Dit veld is verplicht.",
                ));
            }
        }
    }
    for (key, value) in map {
        let child = join(path, key);
        match props.and_then(|p| p.get(key)) {
            Some(sub) => check(root, sub, value, &child, errors),
            None => match s.get("additionalProperties") {
                Some(Value::Bool(false)) => errors.push(FieldError::new(
                    child,
                    "onbekend-veld",
                    "Dit veld is onbekend.",
                )),
                Some(sub @ Value::Object(_)) => check(root, sub, value, &child, errors),
                _ => {}
            },
        }
    }
}

fn check_array(
    root: &Value,
    s: &serde_json::Map<String, Value>,
    items: &[Value],
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
        if (items.len() as u64) < min {
            errors.push(FieldError::new(
                name(path),
                "te-weinig",
                format!("Minstens {min} element(en) nodig."),
            ));
        }
    }
    // `maxItems` is the shared rule's (`kansrijk_proto::text::check`), applied in `validate`.
    if let Some(item_schema) = s.get("items") {
        for (i, item) in items.iter().enumerate() {
            check(root, item_schema, item, &join(path, &i.to_string()), errors);
        }
    }
}

fn check_string(
    s: &serde_json::Map<String, Value>,
    text: &str,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let len = text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
        if len < min {
            let reason = if min == 1 {
                "Dit veld mag niet leeg zijn.".to_owned()
            } else {
                format!("Minstens {min} tekens.")
            };
            errors.push(FieldError::new(name(path), "te-kort", reason));
        }
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            errors.push(FieldError::new(
                name(path),
                "te-lang",
                format!("Hoogstens {max} tekens."),
            ));
        }
    }
    let format_ok = match s.get("format").and_then(Value::as_str) {
        Some("uuid") => uuid::Uuid::parse_str(text).is_ok(),
        Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        _ => true,
    };
    if !format_ok {
        let reason = match s.get("format").and_then(Value::as_str) {
            Some("uuid") => "Verwacht: een UUID.",
            Some("date") => "Verwacht: een datum als JJJJ-MM-DD (RFC 3339).",
            _ => "Verwacht: een datum en tijd volgens RFC 3339.",
        };
        errors.push(FieldError::new(name(path), "ongeldig-formaat", reason));
    }
}

fn check_number(
    s: &serde_json::Map<String, Value>,
    n: &serde_json::Number,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(x) = n.as_f64() else { return };
    if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
        if x < min {
            errors.push(FieldError::new(
                name(path),
                "te-klein",
                format!("Minimaal {min}."),
            ));
        }
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        if x > max {
            errors.push(FieldError::new(
                name(path),
                "te-groot",
                format!("Maximaal {max}."),
            ));
        }
    }
    if let Some(min) = s.get("exclusiveMinimum").and_then(Value::as_f64) {
        if x <= min {
            errors.push(FieldError::new(
                name(path),
                "te-klein",
                format!("Groter dan {min}."),
            ));
        }
    }
    if let Some(max) = s.get("exclusiveMaximum").and_then(Value::as_f64) {
        if x >= max {
            errors.push(FieldError::new(
                name(path),
                "te-groot",
                format!("Kleiner dan {max}."),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Example {
        kind_id: uuid::Uuid,
        geboortedatum: chrono::NaiveDate,
        #[schemars(range(min = 0, max = 40))]
        uren_per_week: u8,
        soort: Soort,
        opmerking: Option<String>,
        criteria: Vec<Criterium>,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    enum Soort {
        Telefoon,
        Brief,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct Criterium {
        code: String,
        reden: Option<Reden>,
    }

    /// Documented variants make schemars write a `oneOf` of constants.
    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    enum Reden {
        /// Geen behoefte.
        GeenBehoefte,
        /// Kosten.
        Kosten,
    }

    fn schema() -> Value {
        schemars::schema_for!(Example).to_value()
    }

    #[test]
    fn a_valid_body_has_no_errors() {
        let v = serde_json::json!({
            "kindId": "7d4f1c1e-9f57-4c1a-a5a2-9b0e3d2f6a11",
            "geboortedatum": "2023-04-01",
            "urenPerWeek": 16,
            "soort": "telefoon",
            "opmerking": null,
            "criteria": [{"code": "taal"}]
        });
        assert_eq!(validate(&schema(), &v), vec![]);
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let v = serde_json::json!({
            "kindId": "geen-uuid",
            "geboortedatum": "01-04-2023",
            "urenPerWeek": 41,
            "soort": "fax",
            "opmerking": 3,
            "criteria": [{"code": 1}, {}, {"code": "x", "reden": "verhuisd"}],
            "extra": true
        });
        let errors = validate(&schema(), &v);
        let names: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.name.as_str(), e.code.as_str()))
            .collect();
        for expected in [
            ("kindId", "ongeldig-formaat"),
            ("geboortedatum", "ongeldig-formaat"),
            ("urenPerWeek", "te-groot"),
            ("soort", "ongeldige-waarde"),
            ("opmerking", "ongeldig-type"),
            ("criteria.0.code", "ongeldig-type"),
            ("criteria.1.code", "verplicht"),
            ("criteria.2.reden", "ongeldige-waarde"),
            ("extra", "onbekend-veld"),
        ] {
            assert!(
                names.contains(&expected),
                "{expected:?} missing in {names:?}"
            );
        }
        let reden = errors
            .iter()
            .find(|e| e.name == "criteria.2.reden")
            .unwrap();
        assert_eq!(reden.reason, "Kies uit: geen-behoefte, kosten.");
        // No reason quotes the input.
        for e in &errors {
            assert!(!e.reason.contains("geen-uuid") && !e.reason.contains("fax"));
        }
    }

    #[test]
    fn missing_fields_and_wrong_root_type() {
        let errors = validate(&schema(), &serde_json::json!({}));
        assert_eq!(
            errors.iter().filter(|e| e.code == "verplicht").count(),
            5,
            "{errors:?}"
        );
        let errors = validate(&schema(), &serde_json::json!([1]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "body");
    }
}

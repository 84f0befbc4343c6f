//! The NL API Design Rules (Logius ADR 2.x) that can be checked on the OpenAPI document, in
//! Rust: the same rules as the ADR Spectral ruleset (`nlgov:*`), whose published ruleset cannot be
//! fetched in this build environment. Each check names the ADR rule it stands for.

use kansrijk_gateway::routes::{self, is_camel_case, is_kebab_case};
use serde_json::Value;

/// Path or query parameter names that would put personal data into a URI (/core/no-sensitive-uri).
const SENSITIVE: &[&str] = &[
    "bsn",
    "burgerservicenummer",
    "naam",
    "voornaam",
    "achternaam",
    "geboortedatum",
    "postcode",
    "adres",
    "huisnummer",
    "email",
    "telefoon",
    "telefoonnummer",
];

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

fn check(doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let mut err = |rule: &str, msg: String| errors.push(format!("{rule}: {msg}"));

    // /core/doc-openapi: OpenAPI 3.
    if !doc["openapi"].as_str().unwrap_or("").starts_with("3.") {
        err("nlgov:openapi3", "the document is not OpenAPI 3".into());
    }
    // /core/doc-openapi-contact: info.contact with name, email and url.
    for field in ["name", "email", "url"] {
        if !doc["info"]["contact"][field].is_string() {
            err(
                "nlgov:info-contact-fields-exist",
                format!("info.contact.{field} missing"),
            );
        }
    }
    // /core/version-header & /core/semver: info.version is semver.
    let version = doc["info"]["version"].as_str().unwrap_or("");
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| p.parse::<u64>().is_ok()) {
        err(
            "nlgov:semver",
            format!("info.version {version:?} is not semver"),
        );
    }
    let major = parts.first().copied().unwrap_or("");
    // /core/uri-version: every server URL ends with /v{major}.
    let servers = doc["servers"].as_array().cloned().unwrap_or_default();
    if servers.is_empty() {
        err("nlgov:include-major-version-in-uri", "no servers".into());
    }
    for s in &servers {
        let url = s["url"].as_str().unwrap_or("");
        if !url.ends_with(&format!("/v{major}")) {
            err(
                "nlgov:include-major-version-in-uri",
                format!("server {url} does not end with /v{major}"),
            );
        }
    }
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    if !paths.contains_key("/openapi.json") {
        err(
            "nlgov:publish-openapi",
            "/openapi.json is not documented".into(),
        );
    }
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in &paths {
        // /core/no-trailing-slash
        if path.ends_with('/') {
            err("nlgov:paths-no-trailing-slash", path.clone());
        }
        if !path.starts_with('/') || path.contains("//") {
            err(
                "nlgov:paths",
                format!("{path} is not a clean absolute path"),
            );
        }
        // /core/naming-resources: kebab-case resources, camelCase parameters; no file extensions
        // except the OpenAPI document itself.
        for seg in path.split('/').skip(1) {
            if let Some(param) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if !is_camel_case(param) {
                    err(
                        "nlgov:path-parameters-camel-case",
                        format!("{path}: {param}"),
                    );
                }
                if SENSITIVE.contains(&param.to_lowercase().as_str()) {
                    err("nlgov:no-sensitive-uri", format!("{path}: {param}"));
                }
            } else if seg != "openapi.json" && !is_kebab_case(seg) {
                err("nlgov:paths-kebab-case", format!("{path}: {seg}"));
            }
        }
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                err("nlgov:http-methods", format!("{path}: {method}"));
                continue;
            }
            let here = format!("{} {path}", method.to_uppercase());
            match op["operationId"].as_str() {
                Some(id) if operation_ids.insert(id.to_owned()) => {}
                _ => err("nlgov:operation-id-unique", here.clone()),
            }
            for p in op["parameters"].as_array().cloned().unwrap_or_default() {
                let name = p["name"].as_str().unwrap_or("");
                match p["in"].as_str() {
                    // /core/naming-query-params (camelCase) and no sensitive data.
                    Some("query") => {
                        if !is_camel_case(name) {
                            err(
                                "nlgov:query-parameters-camel-case",
                                format!("{here}: {name}"),
                            );
                        }
                        if SENSITIVE.contains(&name.to_lowercase().as_str()) {
                            err("nlgov:no-sensitive-uri", format!("{here}: {name}"));
                        }
                    }
                    Some("path") if p["required"] != Value::Bool(true) => {
                        err("nlgov:path-parameters-required", format!("{here}: {name}"));
                    }
                    _ => {}
                }
            }
            let responses = op["responses"].as_object().cloned().unwrap_or_default();
            if !responses.keys().any(|k| k.starts_with('2')) {
                err("nlgov:success-response", here.clone());
            }
            for (code, resp) in &responses {
                // /core/version-header: every response declares API-Version.
                if !resp["headers"]["API-Version"].is_object() {
                    err("nlgov:missing-version-header", format!("{here} {code}"));
                }
                // /core/error-handling/problem-details: errors are problem+json.
                if code.starts_with('4') || code.starts_with('5') {
                    let content = resp["content"].as_object().cloned().unwrap_or_default();
                    if content.len() != 1 || !content.contains_key("application/problem+json") {
                        err(
                            "nlgov:use-problem-json-for-errors",
                            format!("{here} {code}"),
                        );
                    }
                    let schema_ref = content
                        .get("application/problem+json")
                        .and_then(|c| c["schema"]["$ref"].as_str());
                    if schema_ref != Some("#/components/schemas/Problem") {
                        err("nlgov:use-problem-schema", format!("{here} {code}"));
                    }
                }
            }
            // Every operation declares the 400/401/403 problems except the public document.
            if path != "/openapi.json" {
                for code in ["400", "401", "403"] {
                    if !responses.contains_key(code) {
                        err("nlgov:error-responses", format!("{here} lacks {code}"));
                    }
                }
            }
        }
    }
    // /core/error-handling/problem-details: the Problem schema has status, title and detail.
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["status", "title", "detail", "type", "invalidParams"] {
        if !problem["properties"][field].is_object() {
            err("nlgov:problem-schema", format!("Problem.{field} missing"));
        }
    }
    // Security: a scheme, used globally (the public document opts out explicitly).
    if doc["security"].as_array().is_none_or(Vec::is_empty) {
        err("nlgov:security", "no global security requirement".into());
    }
    errors
}

#[test]
fn the_openapi_document_follows_the_api_design_rules() {
    let doc = kansrijk_gateway::openapi::document(
        "https://api.kansrijk.example",
        "https://login.example",
    );
    let errors = check(&doc);
    assert!(errors.is_empty(), "ADR violations:\n{}", errors.join("\n"));
}

#[test]
fn the_route_table_is_under_v1_without_trailing_slashes() {
    for r in routes::all() {
        assert!(r.path.starts_with("/v1/"), "{}", r.path);
        assert!(!r.path.ends_with('/'), "{}", r.path);
        for q in r.query {
            assert!(is_camel_case(q.name), "{}: {}", r.path, q.name);
        }
    }
}

#[test]
fn the_check_catches_violations() {
    let mut doc = kansrijk_gateway::openapi::document("https://api.kansrijk.example", "https://x");
    doc["info"]["contact"] = Value::Null;
    doc["servers"][0]["url"] = "https://api.kansrijk.example".into();
    let paths = doc["paths"].as_object_mut().unwrap();
    let op = paths["/sociale-kaart"].clone();
    paths.insert("/Sociale_Kaart/".into(), op.clone());
    let mut bad_op = op;
    bad_op["get"]["operationId"] = "anders".into();
    bad_op["get"]["parameters"][0]["name"] = "zoek_term".into();
    bad_op["get"]["responses"]["404"]["content"] = serde_json::json!({"application/json": {}});
    bad_op["get"]["responses"]["200"]["headers"] = serde_json::json!({});
    paths.insert("/personen/{bsn}".into(), bad_op);
    let errors = check(&doc).join("\n");
    for rule in [
        "nlgov:info-contact-fields-exist",
        "nlgov:include-major-version-in-uri",
        "nlgov:paths-no-trailing-slash",
        "nlgov:paths-kebab-case",
        "nlgov:operation-id-unique",
        "nlgov:query-parameters-camel-case",
        "nlgov:use-problem-json-for-errors",
        "nlgov:missing-version-header",
        "nlgov:no-sensitive-uri",
    ] {
        assert!(errors.contains(rule), "{rule} not detected in:\n{errors}");
    }
}

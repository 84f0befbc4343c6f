//! The municipality's administrator (functioneel beheerder): fill the partner registry from a
//! source file (DUO, LRK, the school list, the postcode table). The file goes to the registry's
//! import endpoint (`kansrijk.cmd.registry.importeren`), the same code as `kansrijk registry
//! import` and `POST /v1/registerimports`; the page shows the report, or every reported row when
//! nothing was imported.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kansrijk_proto::problem::Problem;
use maud::{html, Markup};
use serde_json::{json, Value};

use crate::call;
use crate::layout::{error_summary, form_guard, page, select, FormErrors};
use crate::session::Session;
use crate::WebState;

/// The page.
pub const PATH: &str = "/gemeente/partnerregister";
const ACTION: &str = "registry.register-importeren";
const SUBJECT: &str = "kansrijk.cmd.registry.importeren";

const KINDS: &[(&str, &str)] = &[
    ("", "Kies de soort bestand"),
    ("duo-scholen", "DUO: adressen van alle schoolvestigingen"),
    ("lrk", "LRK: kinderopvanglocaties met VVE-registratie"),
    ("scholenlijst", "Scholenlijst van de gemeente"),
    ("postcodes", "Postcodes en huisnummers met hun wijk"),
];

pub(crate) fn router() -> Router<WebState> {
    Router::new().route(PATH, get(form_page).post(submit))
}

fn administrator_only(state: &WebState, s: &Session) -> Option<Response> {
    (!kansrijk_policy::is_allowed(&s.actor(ACTION), ACTION)).then(|| super::forbidden(state, s))
}

async fn form_page(State(state): State<WebState>, s: Session) -> Response {
    if let Some(r) = administrator_only(&state, &s) {
        return r;
    }
    render(&state, &s, "", &FormErrors::default(), None, None).into_response()
}

fn render(
    state: &WebState,
    s: &Session,
    kind: &str,
    errors: &FormErrors,
    rows: Option<&[String]>,
    report: Option<&Value>,
) -> Markup {
    let ctx = state.ctx(Some(s), None, PATH);
    let command_id = uuid::Uuid::new_v4();
    page(
        &ctx,
        "Partnerregister vullen",
        html! {
            h1 { "Partnerregister vullen" }
            p class="lead" {
                "Vul de sociale kaart met scholen, kinderopvanglocaties en wijken van gemeente "
                (s.municipality) " uit de bronbestanden. Hetzelfde bestand nog eens importeren "
                "verandert niets; regels die niet kunnen worden geïmporteerd, worden gemeld met "
                "hun regelnummer."
            }
            (error_summary(errors))
            @if let Some(rows) = rows {
                div class="error-summary" role="alert" tabindex="-1" id="gemelde-regels" aria-labelledby="gemelde-regels-titel" {
                    h2 id="gemelde-regels-titel" {
                        "Er is niets geïmporteerd: "
                        @if rows.len() == 1 { "1 regel is gemeld" } @else { (rows.len()) " regels zijn gemeld" }
                    }
                    p { "Verbeter het bestand en importeer het opnieuw, of kies hieronder om de goede regels te importeren en de gemelde regels over te slaan." }
                    ul { @for r in rows { li { (r) } } }
                }
            }
            @if let Some(r) = report { (report_view(r)) }
            form method="post" action=(PATH) enctype="multipart/form-data" class="card" novalidate {
                (form_guard(s, &command_id))
                (select("soort", "Soort bestand", Some("Welke bron het bestand is. In de handleiding staat per bron welke kolommen het heeft."), KINDS, kind, errors))
                div class={ "field" @if errors.get("bestand").is_some() { " field-error" } } {
                    label for="bestand" { "Bestand (CSV)" }
                    p class="hint" id="bestand-hint" { "Een CSV-bestand met een kopregel, gescheiden door puntkomma's, komma's of tabs. Hoogstens 1 MB; grotere bestanden importeert de beheerder met kansrijk registry import." }
                    @if let Some(e) = errors.get("bestand") {
                        p class="error-message" id="bestand-fout" { span class="visually-hidden" { "Fout: " } (e) }
                    }
                    input type="file" id="bestand" name="bestand" accept=".csv,.txt,text/csv" class="input"
                        aria-describedby={ "bestand-hint" @if errors.get("bestand").is_some() { " bestand-fout" } };
                }
                fieldset class="field" {
                    legend { "Hoe importeren" }
                    div class="check" {
                        input type="checkbox" id="proefimport" name="proefimport" value="ja";
                        label for="proefimport" { "Alleen proberen: laat zien wat er zou veranderen en sla niets op" }
                    }
                    div class="check" {
                        input type="checkbox" id="overslaan" name="overslaan" value="ja";
                        label for="overslaan" { "Importeer de goede regels en sla de gemelde regels over" }
                    }
                }
                button type="submit" class="button" { "Importeren" }
            }
        },
    )
}

fn count(r: &Value, k: &str) -> u64 {
    r.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn report_view(r: &Value) -> Markup {
    let dry = r.get("proefimport") == Some(&Value::Bool(true));
    let applied = r.get("toegepast") == Some(&Value::Bool(true));
    let issues = r
        .get("gemeld")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let notes = r
        .get("opmerkingen")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let changed = count(r, "toegevoegd") + count(r, "bijgewerkt");
    html! {
        section class="card" aria-labelledby="verslag-titel" id="verslag" {
            h2 id="verslag-titel" {
                @if dry { "Proefimport: er is niets opgeslagen" }
                @else if applied { "Geïmporteerd: " (changed) " gewijzigd" }
                @else { "Er is niets opgeslagen" }
            }
            div class="table-wrap" tabindex="0" role="region" aria-label="Aantallen van de import" {
                table {
                    caption { "Aantallen (" (count(r, "rijen")) " regels gelezen)" }
                    thead { tr {
                        th scope="col" class="num" { "Toegevoegd" }
                        th scope="col" class="num" { "Bijgewerkt" }
                        th scope="col" class="num" { "Ongewijzigd" }
                        th scope="col" class="num" { "Gemeld" }
                        th scope="col" class="num" { "Overgeslagen" }
                    } }
                    tbody { tr {
                        td class="num" { (count(r, "toegevoegd")) }
                        td class="num" { (count(r, "bijgewerkt")) }
                        td class="num" { (count(r, "ongewijzigd")) }
                        td class="num" { (issues.len()) }
                        td class="num" { (count(r, "overgeslagen")) }
                    } }
                }
            }
            @if !issues.is_empty() {
                div class="table-wrap" tabindex="0" role="region" aria-label="Gemelde regels" {
                    table {
                        caption { "Gemelde regels (niet geïmporteerd)" }
                        thead { tr {
                            th scope="col" class="num" { "Regel" }
                            th scope="col" { "Sleutel" }
                            th scope="col" { "Naam" }
                            th scope="col" { "Soort" }
                            th scope="col" { "Reden" }
                        } }
                        tbody {
                            @for i in &issues {
                                tr {
                                    td class="num" { (i["regel"]) }
                                    td { (i["sleutel"].as_str().unwrap_or("")) }
                                    td { (i["naam"].as_str().unwrap_or("")) }
                                    td { (i["soort"].as_str().unwrap_or("")) }
                                    td {
                                        (i["redenen"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")).unwrap_or_default())
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !notes.is_empty() {
                h3 { "Let op" }
                ul { @for n in &notes { li { (n.as_str().unwrap_or("")) } } }
            }
        }
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Debug)]
struct Part {
    name: String,
    data: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| haystack[i..].starts_with(needle))
}

/// The parts of a `multipart/form-data` body (RFC 7578): the few fields of this form.
fn multipart(headers: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (mime, params) = ct.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_owned())
    })?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos = find(body, &delimiter, 0)? + delimiter.len();
    loop {
        if body[pos..].starts_with(b"--") {
            return Some(parts);
        }
        pos += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = std::str::from_utf8(&body[pos..head_end]).ok()?;
        let next = find(body, &[b"\r\n".as_slice(), &delimiter].concat(), head_end)?;
        let name = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k == "name").then(|| v.trim_matches('"').to_owned())
            })
        })?;
        parts.push(Part {
            name,
            data: body[head_end + 4..next].to_vec(),
        });
        pos = next + 2 + delimiter.len();
        if pos > body.len() {
            return None;
        }
    }
}

/// The file as text: UTF-8, or Latin-1 when it is not (the LRK export is).
fn file_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.to_owned(),
        Err(_) => data.iter().map(|&b| char::from(b)).collect(),
    }
}

async fn submit(
    State(state): State<WebState>,
    s: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = administrator_only(&state, &s) {
        return r;
    }
    let Some(parts) = multipart(&headers, &body) else {
        return crate::form::BadForm.into_response();
    };
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.data).trim().to_owned())
            .unwrap_or_default()
    };
    if !s.csrf_ok(&field("csrf")) {
        return crate::csrf_refused(&state, Some(&s));
    }
    let kind = field("soort");
    let mut errors = FormErrors::default();
    if !KINDS.iter().any(|(k, _)| !k.is_empty() && *k == kind) {
        errors.add("soort", "Kies de soort bestand.");
    }
    let file = parts
        .iter()
        .find(|p| p.name == "bestand")
        .map(|p| file_text(&p.data))
        .unwrap_or_default();
    if file.trim().is_empty() {
        errors.add("bestand", "Kies het CSV-bestand dat u wilt importeren.");
    }
    if !errors.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            render(&state, &s, &kind, &errors, None, None),
        )
            .into_response();
    }
    let command_id =
        uuid::Uuid::parse_str(&field("opdrachtId")).unwrap_or_else(|_| uuid::Uuid::new_v4());
    let request = json!({
        "soort": kind,
        "gemeenteCode": s.municipality,
        "bestand": file,
        "proefimport": field("proefimport") == "ja",
        "foutieveRegelsOverslaan": field("overslaan") == "ja",
    });
    match call::command(&state, &s, ACTION, SUBJECT, &request, command_id).await {
        Ok(report) => render(&state, &s, &kind, &errors, None, Some(&report)).into_response(),
        Err(p) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
            let rows = row_errors(&p);
            if rows.is_empty() {
                call::problem_to_errors(
                    &p,
                    &[("bestand", "bestand"), ("soort", "soort")],
                    &mut errors,
                );
                (status, render(&state, &s, &kind, &errors, None, None)).into_response()
            } else {
                (
                    status,
                    render(&state, &s, &kind, &errors, Some(&rows), None),
                )
                    .into_response()
            }
        }
    }
}

/// The reported rows of a refused import (`bestand` errors with a line), every one of them.
fn row_errors(p: &Problem) -> Vec<String> {
    p.invalid_params
        .iter()
        .filter(|e| e.name == "bestand" && e.reason.starts_with("regel "))
        .map(|e| e.reason.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_is_split_into_its_fields() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"bestand\"; filename=\"p.csv\"\r\n\
Content-Type: text/csv\r\n\r\npostcode;huisnummer\r\n2316AB;12\r\n\r\n--XyZ--\r\n";
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        let parts = multipart(&h, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf");
        assert_eq!(parts[0].data, b"abc");
        assert_eq!(parts[1].name, "bestand");
        assert_eq!(parts[1].data, b"postcode;huisnummer\r\n2316AB;12\r\n");
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(multipart(&h, body).is_none());
    }

    #[test]
    fn a_latin1_file_is_read_as_latin1() {
        assert_eq!(file_text(b"caf\xe9"), "café");
        assert_eq!(file_text("één".as_bytes()), "één");
    }
}

//! RFC 9457 problem responses for every error the gateway returns.

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kansrijk_proto::problem::{FieldError, Problem};

/// The media type of a problem.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem as an HTTP response.
#[derive(Debug, Clone)]
pub struct ApiProblem(pub Problem);

impl From<Problem> for ApiProblem {
    fn from(p: Problem) -> Self {
        ApiProblem(p)
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        problem_response(&self.0)
    }
}

/// Renders a problem.
pub fn problem_response(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"kansrijk\""),
        );
    }
    resp
}

/// The problem for a bare HTTP status (Dutch title, no personal data).
pub fn for_status(status: StatusCode) -> Problem {
    let code = status.as_u16();
    match code {
        400 => Problem::bad_request("ongeldig-verzoek", "Het verzoek is niet geldig."),
        401 => Problem::unauthorized(),
        403 => Problem::forbidden("U heeft geen toegang tot deze bron."),
        404 => Problem::not_found("Deze bron bestaat niet."),
        405 => Problem::new(405, "Methode niet toegestaan")
            .with_detail("Deze HTTP-methode is op deze bron niet toegestaan.")
            .with_code("methode-niet-toegestaan"),
        406 => Problem::new(406, "Niet aanvaardbaar")
            .with_detail("Deze bron levert alleen JSON.")
            .with_code("niet-aanvaardbaar"),
        408 => Problem::timeout("Het verzoek duurde te lang."),
        413 => Problem::new(413, "Verzoek te groot")
            .with_detail("De inhoud van het verzoek is te groot.")
            .with_code("te-groot"),
        415 => unsupported_media_type(),
        429 => Problem::new(429, "Te veel verzoeken")
            .with_detail("Probeer het later opnieuw.")
            .with_code("te-veel-verzoeken"),
        503 => Problem::unavailable("De dienst is op dit moment niet beschikbaar."),
        504 => Problem::timeout("De dienst antwoordde niet op tijd."),
        500..=599 => Problem::internal(),
        _ => Problem::new(code, status.canonical_reason().unwrap_or("Fout")).with_code("fout"),
    }
}

/// 415: the body must be JSON.
pub fn unsupported_media_type() -> Problem {
    Problem::new(415, "Mediatype niet ondersteund")
        .with_detail("De inhoud moet JSON zijn (Content-Type: application/json).")
        .with_code("mediatype-niet-ondersteund")
}

/// A 400 for JSON that does not parse. serde's message is not used: it may quote the input.
pub fn unparsable_json(e: &serde_json::Error) -> Problem {
    Problem::invalid(vec![FieldError::new(
        "body",
        "ongeldige-json",
        format!(
            "De inhoud is geen geldige JSON (regel {}, kolom {}).",
            e.line(),
            e.column()
        ),
    )])
}

/// Middleware: any error response without a problem body (a 404 of the router, a 405, a 413 of
/// the body limit...) becomes a problem.
pub async fn problems_for_bare_errors(req: Request<Body>, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    // Only bare errors (no body type, or axum's plain-text rejections) become problems:
    // problems stay, the JSON errors OAuth prescribes for the token endpoint stay, and so do
    // HTML pages (the web UI's error pages, a form shown again with its errors).
    let bare = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !bare {
        return resp;
    }
    let (parts, _) = resp.into_parts();
    let mut new = problem_response(&for_status(status));
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    new
}

/// Fallback for every unknown path, including a known path with a trailing slash.
pub async fn not_found() -> ApiProblem {
    ApiProblem(for_status(StatusCode::NOT_FOUND))
}

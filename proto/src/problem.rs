//! RFC 9457 problem details, used for every HTTP error and every error reply over NATS.
//! `detail` is written for the user and never contains personal data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One invalid field of a request (NL API Design Rules `invalidParams`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// The field's name as in the request, dotted for nested fields.
    pub name: String,
    /// A stable machine code, e.g. `required`, `bsn-elfproef`.
    pub code: String,
    /// A Dutch explanation for the user.
    pub reason: String,
}

impl FieldError {
    pub fn new(
        name: impl Into<String>,
        code: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        FieldError {
            name: name.into(),
            code: code.into(),
            reason: reason.into(),
        }
    }
}

/// An RFC 9457 problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type", default = "about_blank")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// A stable machine code for the rule that was broken, e.g. `leeftijd-buiten-vve-venster`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<FieldError>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl Problem {
    pub fn new(status: u16, title: impl Into<String>) -> Self {
        Problem {
            problem_type: about_blank(),
            title: title.into(),
            status,
            detail: None,
            instance: None,
            code: None,
            invalid_params: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        let code = code.into();
        self.problem_type = format!("https://kansrijk.nl/problemen/{code}");
        self.code = Some(code);
        self
    }

    /// 400 with every field error of the request at once.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let mut p = Problem::new(400, "Ongeldige invoer")
            .with_detail("Een of meer velden zijn niet geldig.")
            .with_code("ongeldige-invoer");
        p.invalid_params = errors;
        p
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Problem::new(400, "Ongeldig verzoek")
            .with_detail(detail)
            .with_code(code)
    }

    pub fn unauthorized() -> Self {
        Problem::new(401, "Niet geauthenticeerd")
            .with_detail("Een geldig toegangstoken is nodig.")
            .with_code("niet-geauthenticeerd")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(403, "Geen toegang")
            .with_detail(detail)
            .with_code("geen-toegang")
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(404, "Niet gevonden")
            .with_detail(detail)
            .with_code("niet-gevonden")
    }

    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Problem::new(409, "Conflict")
            .with_detail(detail)
            .with_code(code)
    }

    pub fn gone(detail: impl Into<String>) -> Self {
        Problem::new(410, "Verwijderd")
            .with_detail(detail)
            .with_code("gewist")
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem::new(503, "Dienst niet beschikbaar")
            .with_detail(detail)
            .with_code("niet-beschikbaar")
    }

    pub fn timeout(detail: impl Into<String>) -> Self {
        Problem::new(504, "Time-out")
            .with_detail(detail)
            .with_code("time-out")
    }

    pub fn internal() -> Self {
        Problem::new(500, "Interne fout")
            .with_detail("Er ging iets mis. De fout is gelogd.")
            .with_code("interne-fout")
    }
}

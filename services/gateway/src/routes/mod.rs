//! The route table: every `/v1` endpoint as data. Each entry maps an HTTP method and path
//! (Dutch kebab-case resources) to a policy action and a NATS subject of the owning service.
//! The gateway mounts the table generically (authenticate, authorise, validate, forward); the
//! OpenAPI document, the authorisation matrix test and the ADR check are generated from it.
//!
//! Domains add their endpoints in their own module (`vve.rs`, `handover.rs`, `casework.rs`,
//! `privacy.rs`); the registry's endpoints, served by the gateway process itself, are in
//! `registry.rs`.
//!
//! Conventions the tests enforce: paths start with `/v1/`, have no trailing slash, use kebab-case
//! resources and camelCase `{parameters}`; query parameters are camelCase; every action exists in
//! `kansrijk-policy` with the matching kind (command for POST/PUT/PATCH/DELETE, query for GET).
//! Path parameters are UUIDs (pseudonymous ids, never personal data) unless declared otherwise.
//! Path parameters are passed to the service inside the JSON body under their own name.

use schemars::JsonSchema;
use serde_json::Value;

pub(crate) mod casework;
pub(crate) mod handover;
pub(crate) mod privacy;
pub(crate) mod registry;
pub(crate) mod vve;

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether the method changes state (and so carries an `Idempotency-Key`).
    pub const fn is_command(self) -> bool {
        !matches!(self, HttpMethod::Get)
    }
}

/// Where a route goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A command endpoint of `service`: `kansrijk.cmd.<service>.<name>`; replies `CommandAccepted`.
    Command {
        service: &'static str,
        name: &'static str,
    },
    /// A query endpoint: `kansrijk.qry.<name>`; replies any JSON.
    Query { name: &'static str },
}

impl Target {
    pub fn subject(&self) -> String {
        match self {
            Target::Command { service, name } => kansrijk_proto::subject::command(service, name),
            Target::Query { name } => kansrijk_proto::subject::query(name),
        }
    }
}

/// The type of a path or query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    /// RFC 3339 full-date.
    Date,
    Uuid,
}

/// A path or query parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub ty: ParamType,
    pub required: bool,
    pub description: &'static str,
    /// An example value (docs, and the authorisation matrix test for non-UUID path parameters).
    pub example: Option<&'static str>,
}

impl Param {
    pub const fn new(name: &'static str, ty: ParamType, description: &'static str) -> Self {
        Param {
            name,
            ty,
            required: false,
            description,
            example: None,
        }
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn example(mut self, example: &'static str) -> Self {
        self.example = Some(example);
        self
    }
}

/// The JSON Schema of a type, for a route's body or response.
pub type SchemaFn = fn() -> schemars::Schema;
/// An example value.
pub type ExampleFn = fn() -> Value;

fn schema_of<T: JsonSchema>() -> schemars::Schema {
    let settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.into_generator().into_root_schema_for::<T>()
}

/// One endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: HttpMethod,
    /// OpenAPI/axum path template, e.g. `/v1/kinderen/{kindId}/indicaties`.
    pub path: &'static str,
    /// The `kansrijk-policy` action checked before forwarding (and again in the service).
    pub action: &'static str,
    pub target: Target,
    /// Dutch one-line summary for the OpenAPI document.
    pub summary: &'static str,
    pub description: &'static str,
    /// OpenAPI tag (the domain), in Dutch.
    pub tag: &'static str,
    /// Schema of the JSON body (commands); validated before forwarding, all errors at once.
    pub body: Option<SchemaFn>,
    /// Schema of a query's answer (commands answer `CommandAccepted`).
    pub response: Option<SchemaFn>,
    /// Path parameters that are not UUIDs.
    pub path_params: &'static [Param],
    pub query: &'static [Param],
    /// A valid example body (docs, and the matrix test).
    pub example: Option<ExampleFn>,
    /// Wait (bounded) for the views to catch up after the command.
    pub wait_for_views: bool,
    /// Statuses this route answers besides those [`Route::statuses`] derives for every route
    /// of its kind (e.g. 410 `gewist` where the data may have been erased).
    pub answers: &'static [u16],
}

impl Route {
    const fn base(
        method: HttpMethod,
        path: &'static str,
        action: &'static str,
        target: Target,
        tag: &'static str,
    ) -> Self {
        Route {
            method,
            path,
            action,
            target,
            summary: "",
            description: "",
            tag,
            body: None,
            response: None,
            path_params: &[],
            query: &[],
            example: None,
            wait_for_views: method.is_command(),
            answers: &[],
        }
    }

    /// A command for `service`'s endpoint `name` (subject `kansrijk.cmd.<service>.<name>`).
    pub const fn command(
        method: HttpMethod,
        path: &'static str,
        action: &'static str,
        service: &'static str,
        name: &'static str,
    ) -> Self {
        Route::base(
            method,
            path,
            action,
            Target::Command { service, name },
            service,
        )
    }

    /// A query (subject `kansrijk.qry.<name>`).
    pub const fn query(path: &'static str, action: &'static str, name: &'static str) -> Self {
        Route::base(
            HttpMethod::Get,
            path,
            action,
            Target::Query { name },
            "overzichten",
        )
    }

    pub const fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    pub const fn description(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    pub const fn tag(mut self, tag: &'static str) -> Self {
        self.tag = tag;
        self
    }

    pub const fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(schema_of::<T>);
        self
    }

    pub const fn response<T: JsonSchema>(mut self) -> Self {
        self.response = Some(schema_of::<T>);
        self
    }

    pub const fn path_params(mut self, params: &'static [Param]) -> Self {
        self.path_params = params;
        self
    }

    pub const fn query_params(mut self, params: &'static [Param]) -> Self {
        self.query = params;
        self
    }

    pub const fn example(mut self, example: ExampleFn) -> Self {
        self.example = Some(example);
        self
    }

    pub const fn no_view_wait(mut self) -> Self {
        self.wait_for_views = false;
        self
    }

    /// Statuses the route's service answers besides the ones every route of its kind answers.
    pub const fn answers(mut self, statuses: &'static [u16]) -> Self {
        self.answers = statuses;
        self
    }

    /// Whether requests carry a JSON body (every command): the body limit (413) and the media
    /// type check (415) apply.
    pub const fn has_body(&self) -> bool {
        self.method.is_command()
    }

    /// Every status this route can answer, sorted: the one place the OpenAPI document and the
    /// status tests take them from.
    ///
    /// - success: 201 and 200 (a repeated `Idempotency-Key`) for a command, 200 for a command
    ///   with its own result and for a query; 409 for a command answering `CommandAccepted`;
    /// - every route: 400 (validation), 401 (authentication), 403 (policy), 404, 503 and 504
    ///   (the service is not reachable or does not answer in time);
    /// - every route with a body: 413 (the body limit, [`crate::app::BODY_LIMIT`]) and 415
    ///   (not JSON);
    /// - what the route declares with [`Route::answers`].
    pub fn statuses(&self) -> Vec<u16> {
        let mut out = vec![200, 400, 401, 403, 404, 503, 504];
        if self.method.is_command() && self.response.is_none() {
            out.extend([201, 409]);
        }
        if self.has_body() {
            out.extend([413, 415]);
        }
        out.extend(self.answers);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The names of the path template's parameters, in order.
    pub fn path_param_names(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect()
    }

    /// The declared type of a path parameter (UUID unless declared).
    pub fn path_param(&self, name: &str) -> Param {
        self.path_params
            .iter()
            .find(|p| p.name == name)
            .copied()
            .unwrap_or(Param {
                name: "",
                ty: ParamType::Uuid,
                required: true,
                description: "Pseudoniem id (UUID).",
                example: None,
            })
    }

    /// A stable OpenAPI operation id: the action's name.
    pub fn operation_id(&self) -> String {
        self.action.replace('.', "-")
    }
}

/// Every route of the API.
pub fn all() -> Vec<&'static Route> {
    registry::ROUTES
        .iter()
        .chain(vve::ROUTES)
        .chain(handover::ROUTES)
        .chain(casework::ROUTES)
        .chain(privacy::ROUTES)
        .collect()
}

/// Whether `s` is kebab-case (lowercase ASCII words joined by single hyphens).
pub fn is_kebab_case(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `s` is lower camelCase.
pub fn is_camel_case(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_checks() {
        assert!(is_kebab_case("sociale-kaart"));
        assert!(!is_kebab_case("socialeKaart"));
        assert!(!is_kebab_case("sociale_kaart"));
        assert!(!is_kebab_case("-a"));
        assert!(is_camel_case("organisatieType"));
        assert!(!is_camel_case("organisatie-type"));
        assert!(!is_camel_case("OrganisatieType"));
    }

    #[test]
    fn path_parameters_of_a_template() {
        let r = Route::command(
            HttpMethod::Post,
            "/v1/kinderen/{kindId}/indicaties",
            "vve.indiceren",
            "vve",
            "indiceren",
        );
        assert_eq!(r.path_param_names(), vec!["kindId"]);
        assert_eq!(r.path_param("kindId").ty, ParamType::Uuid);
        assert_eq!(r.target.subject(), "kansrijk.cmd.vve.indiceren");
        assert!(r.wait_for_views);
    }

    /// Every array of every command body is bounded (`maxItems`), so in the OpenAPI document
    /// too; the gateway and the services refuse longer ones (`kansrijk_proto::text::check`).
    #[test]
    fn every_array_of_every_body_is_bounded() {
        fn arrays(v: &Value, at: &str, unbounded: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    let is_array = m.contains_key("items")
                        || match m.get("type") {
                            Some(Value::String(t)) => t == "array",
                            Some(Value::Array(ts)) => ts.iter().any(|t| t == "array"),
                            _ => false,
                        };
                    if is_array && !m.contains_key("maxItems") {
                        unbounded.push(at.to_owned());
                    }
                    for (k, child) in m {
                        arrays(child, &format!("{at}/{k}"), unbounded);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        arrays(child, &format!("{at}/{i}"), unbounded);
                    }
                }
                _ => {}
            }
        }
        let mut unbounded = Vec::new();
        for r in all() {
            if let Some(body) = r.body {
                arrays(&body().to_value(), r.path, &mut unbounded);
            }
        }
        assert!(
            unbounded.is_empty(),
            "arrays without maxItems: {unbounded:#?}"
        );
    }

    #[test]
    fn statuses_are_derived_per_kind_of_route() {
        let r = all()
            .into_iter()
            .find(|r| r.path == "/v1/betrokkenen/{subject}/wissingen")
            .unwrap();
        assert_eq!(
            r.statuses(),
            vec![200, 201, 400, 401, 403, 404, 409, 410, 413, 415, 503, 504]
        );
        let q = all()
            .into_iter()
            .find(|r| r.path == "/v1/sociale-kaart")
            .unwrap();
        assert_eq!(q.statuses(), vec![200, 400, 401, 403, 404, 503, 504]);
    }

    #[test]
    fn routes_are_unique_and_match_the_policy() {
        let mut seen = std::collections::HashSet::new();
        for r in all() {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method.as_str(),
                r.path
            );
            let rule = kansrijk_policy::rule(r.action)
                .unwrap_or_else(|| panic!("{} has no policy rule", r.action));
            let expected = if r.method.is_command() {
                kansrijk_policy::ActionKind::Command
            } else {
                kansrijk_policy::ActionKind::Query
            };
            assert_eq!(rule.kind, expected, "{}: kind of its rule", r.action);
            assert!(r.path.starts_with("/v1/") && !r.path.ends_with('/'));
            assert!(!r.summary.is_empty(), "{} needs a summary", r.path);
            if r.method.is_command() {
                assert!(
                    matches!(r.target, Target::Command { .. }),
                    "{}: commands go to command endpoints",
                    r.path
                );
            }
        }
    }
}

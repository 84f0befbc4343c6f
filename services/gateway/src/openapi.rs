//! The OpenAPI 3.1 document of `/v1`, generated with utoipa from the route table. Request and
//! response bodies are the schemars JSON Schemas of the contract types (JSON Schema 2020-12, which
//! OpenAPI 3.1 uses), placed under `components/schemas`.

use std::collections::BTreeMap;

use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::Problem;
use serde_json::{json, Value};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod as OaMethod, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{
    HttpAuthScheme, HttpBuilder, OpenIdConnect, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContactBuilder, ContentBuilder, InfoBuilder, LicenseBuilder, OpenApiBuilder,
    Paths, Ref, Required, ResponseBuilder, ServerBuilder,
};

use crate::routes::{self, HttpMethod, Param, ParamType, Route};

/// The version of the API (semver; the major is in the path).
pub const API_VERSION: &str = "1.0.0";
/// The base path.
pub const BASE_PATH: &str = "/v1";

const PROBLEM_JSON: &str = "application/problem+json";

fn param_schema(p: &Param) -> ObjectBuilder {
    match p.ty {
        ParamType::String => ObjectBuilder::new().schema_type(Type::String),
        ParamType::Integer => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
        ParamType::Boolean => ObjectBuilder::new().schema_type(Type::Boolean),
        ParamType::Date => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        ParamType::Uuid => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
    }
}

fn oa_method(m: HttpMethod) -> OaMethod {
    match m {
        HttpMethod::Get => OaMethod::Get,
        HttpMethod::Post => OaMethod::Post,
        HttpMethod::Put => OaMethod::Put,
        HttpMethod::Patch => OaMethod::Patch,
        HttpMethod::Delete => OaMethod::Delete,
    }
}

fn api_version_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some("De versie van de API (semver)."))
        .build()
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .header("API-Version", api_version_header())
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// The description of an error status in the document.
pub fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Ongeldige invoer; alle fouten tegelijk.",
        401 => "Niet geauthenticeerd.",
        403 => "Geen toegang volgens het beleid.",
        404 => "Niet gevonden.",
        409 => "Conflict met de huidige toestand.",
        410 => "De gegevens zijn gewist (`gewist`).",
        413 => "De inhoud van het verzoek is te groot (`te-groot`).",
        415 => "De inhoud moet JSON zijn (`mediatype-niet-ondersteund`).",
        429 => "Te veel verzoeken.",
        503 => "De dienst is niet beschikbaar.",
        504 => "De dienst antwoordde niet op tijd.",
        _ => "Fout.",
    }
}

/// The name of a schemars schema (its title).
fn schema_name(schema: &Value) -> String {
    schema
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("Anoniem")
        .to_owned()
}

/// Moves a schemars root schema and its `$defs` into `components`, rewriting references.
fn add_schema(components: &mut BTreeMap<String, Value>, root: schemars::Schema) -> String {
    let mut value = root.to_value();
    let name = schema_name(&value);
    if let Some(obj) = value.as_object_mut() {
        obj.remove("$schema");
        if let Some(Value::Object(defs)) = obj.remove("$defs") {
            for (def_name, mut def) in defs {
                rewrite_refs(&mut def);
                components.entry(def_name).or_insert(def);
            }
        }
    }
    rewrite_refs(&mut value);
    components.insert(name.clone(), value);
    name
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(rest) = r.strip_prefix("#/$defs/") {
                    *r = format!("#/components/schemas/{rest}");
                }
            }
            for (_, child) in map.iter_mut() {
                rewrite_refs(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn schema_for<T: schemars::JsonSchema>() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// The OpenAPI document for a gateway reachable at `public_url`, trusting `issuer`.
pub fn document(public_url: &str, issuer: &str) -> Value {
    document_for(&routes::all(), public_url, issuer)
}

/// The OpenAPI document of a set of routes.
pub fn document_for(routes: &[&Route], public_url: &str, issuer: &str) -> Value {
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    add_schema(&mut schemas, schema_for::<Problem>());
    add_schema(&mut schemas, schema_for::<CommandAccepted>());

    let mut paths = Paths::new();
    let mut tags: Vec<&str> = Vec::new();
    for r in routes {
        if !tags.contains(&r.tag) {
            tags.push(r.tag);
        }
        let relative = r.path.strip_prefix(BASE_PATH).unwrap_or(r.path);
        let mut op = OperationBuilder::new()
            .operation_id(Some(r.operation_id()))
            .summary(Some(r.summary))
            .tag(r.tag);
        let description = format!(
            "{}{}Beleidsregel: `{}`.",
            r.description,
            if r.description.is_empty() { "" } else { "\n\n" },
            r.action
        );
        op = op.description(Some(description));
        for name in r.path_param_names() {
            let p = r.path_param(name);
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(p.description))
                    .example(p.example.map(|e| json!(e)))
                    .schema(Some(param_schema(&p))),
            );
        }
        for q in r.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(q.name)
                    .parameter_in(ParameterIn::Query)
                    .required(if q.required {
                        Required::True
                    } else {
                        Required::False
                    })
                    .description(Some(q.description))
                    .schema(Some(param_schema(q))),
            );
        }
        if r.method.is_command() {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "UUID van deze opdracht. Een herhaling met dezelfde sleutel geeft het \
                         eerste resultaat en verandert niets. Zonder sleutel maakt de gateway er \
                         een (zie de response-header).",
                    ))
                    .schema(Some(param_schema(&Param::new("", ParamType::Uuid, "")))),
            );
            let body_ref = r.body.map(|f| add_schema(&mut schemas, f()));
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(body_ref.map(Ref::from_schema_name))
                            .example(r.example.map(|f| f()))
                            .build(),
                    )
                    .build(),
            ));
            let headers = [
                ("API-Version", "De versie van de API (semver)."),
                (
                    "Idempotency-Key",
                    "De sleutel waaronder deze opdracht is vastgelegd.",
                ),
                (
                    "Kansrijk-Stream-Version",
                    "Versie van de gewijzigde stroom na de opdracht.",
                ),
                (
                    "Kansrijk-Stream-Position",
                    "Globale positie van de laatste gebeurtenis.",
                ),
                (
                    "Kansrijk-Views-Current",
                    "true als de overzichten de wijziging al tonen.",
                ),
            ];
            if let Some(response) = r.response {
                // A command that answers with its own result (the registry's import report),
                // not with `CommandAccepted`.
                let response_ref = add_schema(&mut schemas, response());
                op = op.response(
                    "200",
                    ResponseBuilder::new()
                        .description("Uitgevoerd; het resultaat.")
                        .header("API-Version", api_version_header())
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name(response_ref)))
                                .build(),
                        )
                        .build(),
                );
            } else {
                let mut created = ResponseBuilder::new()
                    .description("Uitgevoerd; de gebeurtenissen zijn vastgelegd.")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("CommandAccepted")))
                            .build(),
                    );
                for (h, d) in headers {
                    created = created.header(
                        h,
                        HeaderBuilder::new()
                            .schema(ObjectBuilder::new().schema_type(Type::String))
                            .description(Some(d))
                            .build(),
                    );
                }
                op = op.response("201", created.build()).response(
                    "200",
                    ResponseBuilder::new()
                        .description(
                            "Herhaling met dezelfde Idempotency-Key: het eerste resultaat.",
                        )
                        .header("API-Version", api_version_header())
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("CommandAccepted")))
                                .build(),
                        )
                        .build(),
                );
            }
        } else {
            let response_ref = r.response.map(|f| add_schema(&mut schemas, f()));
            op = op.response(
                "200",
                ResponseBuilder::new()
                    .description("Het resultaat.")
                    .header("API-Version", api_version_header())
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(response_ref.map(Ref::from_schema_name))
                            .build(),
                    )
                    .build(),
            );
        }
        // Every error status the route can answer, from the route table (`Route::statuses`).
        for status in r.statuses().into_iter().filter(|s| *s >= 400) {
            op = op.response(
                status.to_string(),
                problem_response(error_description(status)),
            );
        }
        paths.add_path_operation(relative, vec![oa_method(r.method)], op.build());
    }
    // The document itself: public.
    paths.add_path_operation(
        "/openapi.json",
        vec![OaMethod::Get],
        OperationBuilder::new()
            .operation_id(Some("openapi"))
            .summary(Some("Dit OpenAPI-document"))
            .tag("api")
            .securities(Some(Vec::<SecurityRequirement>::new()))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("Het OpenAPI-document.")
                    .header("API-Version", api_version_header())
                    .content("application/json", ContentBuilder::new().build())
                    .build(),
            )
            .build(),
    );
    tags.push("api");

    let components = ComponentsBuilder::new()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Toegangstoken van de OIDC-uitgever (NL GOV-profiel, pairwise sub).",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "oidc",
            SecurityScheme::OpenIdConnect(OpenIdConnect::new(format!(
                "{issuer}/.well-known/openid-configuration"
            ))),
        )
        .build();

    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Kansrijk API")
                .version(API_VERSION)
                .description(Some(
                    "De API van Kansrijk: samenwerking rond kinderen in de Lokale Educatieve \
                     Agenda (VVE-bereik, overdrachten, 1 gezin 1 plan). Volgt de NL API Design \
                     Rules: fouten als application/problem+json (RFC 9457), de header \
                     API-Version op elk antwoord, geen persoonsgegevens in URI's.",
                ))
                .contact(Some(
                    ContactBuilder::new()
                        .name(Some("Kansrijk beheer"))
                        .email(Some("beheer@kansrijk.example"))
                        .url(Some("https://kansrijk.example/contact"))
                        .build(),
                ))
                .license(Some(
                    LicenseBuilder::new()
                        .name("EUPL-1.2")
                        .identifier(Some("EUPL-1.2"))
                        .build(),
                ))
                .build(),
        )
        .servers(Some(vec![ServerBuilder::new()
            .url(format!("{}{BASE_PATH}", public_url.trim_end_matches('/')))
            .description(Some("Deze omgeving"))
            .build()]))
        .paths(paths)
        .components(Some(components))
        .security(Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]))
        .tags(Some(
            tags.iter().map(|t| TagBuilder::new().name(*t).build()),
        ))
        .build();
    let mut value = serde_json::to_value(&doc).unwrap_or_else(|_| json!({}));
    let schemas_value: serde_json::Map<String, Value> = schemas.into_iter().collect();
    value["components"]["schemas"] = Value::Object(schemas_value);
    value
}

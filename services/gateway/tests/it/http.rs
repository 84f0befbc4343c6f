//! HTTP behaviour: headers, problems, trailing slashes, CORS, and routing commands over NATS.

use std::time::{Duration, Instant};

use kansrijk_gateway::routes::{HttpMethod::Post, Route};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{fake_service, Behaviour, Options, TestApp};

#[allow(dead_code)]
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProefOpdracht {
    kind_id: Uuid,
    #[schemars(range(min = 0, max = 40))]
    uren_per_week: u8,
    startdatum: chrono::NaiveDate,
}

// Test routes reuse a registry rule (every partner except the privacy officer).
static TEST_ROUTES: &[Route] = &[
    Route::command(
        Post,
        "/v1/proeven/{kindId}/opdrachten",
        "registry.sociale-kaart-raadplegen",
        "proef",
        "opdracht",
    )
    .summary("Proefopdracht")
    .body::<ProefOpdracht>()
    .example(|| json!({"urenPerWeek": 16, "startdatum": "2026-09-01"})),
    Route::command(
        Post,
        "/v1/proeven/{kindId}/niemand",
        "registry.sociale-kaart-raadplegen",
        "niemand",
        "opdracht",
    )
    .summary("Niemand luistert"),
    Route::command(
        Post,
        "/v1/proeven/{kindId}/stilte",
        "registry.sociale-kaart-raadplegen",
        "stil",
        "opdracht",
    )
    .summary("Niemand antwoordt"),
];

async fn app_with_nats(view_wait: Duration) -> TestApp {
    let app = TestApp::start(Options {
        nats: true,
        extra_routes: TEST_ROUTES.iter().collect(),
        request_timeout: Some(Duration::from_millis(700)),
        view_wait: Some(view_wait),
        ..Default::default()
    })
    .await;
    let nats = app.nats.as_ref().unwrap();
    fake_service(
        nats,
        "kansrijk.cmd.proef.opdracht".into(),
        Behaviour::AcceptCommands,
    )
    .await;
    fake_service(nats, "kansrijk.cmd.stil.opdracht".into(), Behaviour::Silent).await;
    app
}

fn assert_problem(resp: &reqwest::Response, status: u16) {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json",
        "status {status}"
    );
}

fn valid_body() -> Value {
    json!({"urenPerWeek": 16, "startdatum": "2026-09-01"})
}

#[tokio::test]
async fn every_response_has_the_api_version_and_security_headers() {
    let app = TestApp::start(Options::default()).await;
    for path in [
        "/livez",
        "/v1/openapi.json",
        "/v1/bestaat-niet",
        "/v1/sociale-kaart",
    ] {
        let r = app.get(path, None).await;
        let h = r.headers();
        assert_eq!(h["api-version"], "1.0.0", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(h.contains_key("strict-transport-security"), "{path}");
        assert!(h.contains_key("content-security-policy"), "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
    }
}

#[tokio::test]
async fn a_trailing_slash_is_a_404_problem_not_a_redirect() {
    let app = TestApp::start(Options::default()).await;
    for path in [
        "/v1/sociale-kaart/",
        "/v1/openapi.json/",
        "/v1/",
        "/v1/bestaat-niet",
    ] {
        let r = app.get(path, None).await;
        assert_problem(&r, 404);
        assert!(r.headers().get("location").is_none());
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["status"], 404);
        assert_eq!(p["title"], "Niet gevonden");
        assert!(p["detail"].is_string());
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = TestApp::start(Options::default()).await;
    let r = app
        .http
        .delete(app.url("/v1/sociale-kaart"))
        .send()
        .await
        .unwrap();
    assert_problem(&r, 405);
    assert!(r.headers().contains_key("allow") || r.headers().contains_key("api-version"));
}

#[tokio::test]
async fn the_openapi_document_is_public_with_cors() {
    let app = TestApp::start(Options::default()).await;
    let r = app
        .http
        .get(app.url("/v1/openapi.json"))
        .header("Origin", "https://partner.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let pre = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/v1/openapi.json"))
        .header("Origin", "https://partner.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "{}", pre.status());
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn health_and_metrics() {
    let app = TestApp::start(Options::default()).await;
    assert_eq!(app.get("/livez", None).await.status(), 200);
    // No NATS in this app: not ready, as a problem.
    assert_problem(&app.get("/readyz", None).await, 503);
    let m = app.get("/metrics", None).await;
    assert_eq!(m.status(), 200);
}

#[tokio::test]
async fn no_or_a_bad_token_is_a_401_problem() {
    let app = TestApp::start(Options::default()).await;
    let r = app.get("/v1/sociale-kaart", None).await;
    assert_problem(&r, 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let r = app.get("/v1/sociale-kaart", Some("niet.een.token")).await;
    assert_problem(&r, 401);
}

#[tokio::test]
async fn a_command_is_routed_with_actor_key_and_path_and_answers_version_and_position() {
    let app = app_with_nats(Duration::from_millis(300)).await;
    let token = app.token("leerkracht");
    let kind = Uuid::new_v4();
    let key = Uuid::new_v4();
    let path = format!("/v1/proeven/{kind}/opdrachten");
    let r = app
        .post(&path, Some(&token), &valid_body(), Some(key))
        .await;
    assert_eq!(r.status(), 201);
    let h = r.headers().clone();
    assert_eq!(h["kansrijk-stream-version"], "3");
    assert_eq!(h["kansrijk-stream-position"], "42");
    assert_eq!(h["idempotency-key"].to_str().unwrap(), key.to_string());
    assert_eq!(
        h["kansrijk-views-current"], "false",
        "nobody serves the views wait"
    );
    assert!(h.contains_key("traceparent"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["version"], 3);
    assert_eq!(body["firstTime"], true);
    let stream = body["streamId"].clone();

    // A retry with the same key: the first result, not a new one.
    let again = app
        .post(&path, Some(&token), &valid_body(), Some(key))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["firstTime"], false);
    assert_eq!(again["streamId"], stream);

    // Without a key the gateway makes one and says which.
    let r = app.post(&path, Some(&token), &valid_body(), None).await;
    assert_eq!(r.status(), 201);
    let made = r.headers()["idempotency-key"].to_str().unwrap().to_owned();
    assert!(Uuid::parse_str(&made).is_ok());
}

#[tokio::test]
async fn the_service_gets_the_actor_the_command_id_and_the_path_in_the_body() {
    // The fake service echoes what it received inside the JSON answer.
    let app = app_with_nats(Duration::ZERO).await;
    let kind = Uuid::new_v4();
    let key = Uuid::new_v4();
    let r = app
        .post(
            &format!("/v1/proeven/{kind}/opdrachten"),
            Some(&app.token("basisschool-andere-school")),
            &valid_body(),
            Some(key),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["commandId"], key.to_string());
    assert_eq!(body["body"]["kindId"], kind.to_string());
    assert_eq!(body["actor"]["organisation"], "15WV00");
    assert_eq!(body["actor"]["organisationType"], "basisschool");
    assert_eq!(
        body["actor"]["purpose"], "zorgverlening",
        "the purpose is the action's"
    );
    assert_eq!(
        body["actor"]["person"],
        kansrijk_gateway::dev_oidc::pseudonym("basisschool-andere-school")
    );
}

#[tokio::test]
async fn invalid_input_is_one_400_with_every_error() {
    let app = app_with_nats(Duration::ZERO).await;
    let token = app.token("leerkracht");
    let url = app.url("/v1/proeven/geen-uuid/opdrachten");
    let r = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("Idempotency-Key", "geen-uuid")
        .json(&json!({"urenPerWeek": "zestien", "startdatum": "1-9-2026", "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_problem(&r, 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], 400);
    let mut names: Vec<String> = p["invalidParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["name"].as_str().unwrap(),
                e["code"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Idempotency-Key:ongeldig-formaat",
            "extra:onbekend-veld",
            "kindId:ongeldig-formaat",
            "startdatum:ongeldig-formaat",
            "urenPerWeek:ongeldig-type",
        ]
    );
    // The input never comes back in the problem.
    let text = p.to_string();
    assert!(!text.contains("zestien") && !text.contains("1-9-2026"));

    // JSON that does not parse.
    let r = app
        .http
        .post(app.url(&format!("/v1/proeven/{}/opdrachten", Uuid::new_v4())))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"urenPerWeek\": 16,")
        .send()
        .await
        .unwrap();
    assert_problem(&r, 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["invalidParams"][0]["code"], "ongeldige-json");

    // Missing fields, all at once.
    let r = app
        .post(
            &format!("/v1/proeven/{}/opdrachten", Uuid::new_v4()),
            Some(&token),
            &json!({}),
            None,
        )
        .await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["invalidParams"].as_array().unwrap().len(), 2, "{p}");

    // Not JSON at all.
    let r = app
        .http
        .post(app.url(&format!("/v1/proeven/{}/opdrachten", Uuid::new_v4())))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("hallo")
        .send()
        .await
        .unwrap();
    assert_problem(&r, 415);
}

#[tokio::test]
async fn refused_by_policy_is_a_403_before_any_validation() {
    let app = app_with_nats(Duration::ZERO).await;
    let r = app
        .post(
            "/v1/proeven/geen-uuid/opdrachten",
            Some(&app.token("privacyfunctionaris")),
            &json!({"rommel": true}),
            None,
        )
        .await;
    assert_problem(&r, 403);
}

#[tokio::test]
async fn no_responder_is_503_and_no_answer_is_504_both_bounded() {
    let app = app_with_nats(Duration::ZERO).await;
    let token = app.token("leerkracht");
    let started = Instant::now();
    let r = app
        .post(
            &format!("/v1/proeven/{}/niemand", Uuid::new_v4()),
            Some(&token),
            &json!({}),
            None,
        )
        .await;
    assert_problem(&r, 503);
    let started_504 = Instant::now();
    let r = app
        .post(
            &format!("/v1/proeven/{}/stilte", Uuid::new_v4()),
            Some(&token),
            &json!({}),
            None,
        )
        .await;
    assert_problem(&r, 504);
    assert!(started_504.elapsed() >= Duration::from_millis(600));
    assert!(started.elapsed() < Duration::from_secs(10), "bounded");
}

#[tokio::test]
async fn the_gateway_waits_bounded_for_the_views() {
    let app = app_with_nats(Duration::from_millis(400)).await;
    let nats = app.nats.as_ref().unwrap();
    // A views service that has caught up.
    fake_service(
        nats,
        "kansrijk.qry.views.wacht-op".into(),
        Behaviour::EchoQuery,
    )
    .await;
    let r = app
        .post(
            &format!("/v1/proeven/{}/opdrachten", Uuid::new_v4()),
            Some(&app.token("leerkracht")),
            &valid_body(),
            None,
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["kansrijk-views-current"], "true");

    // Views that never answer: the command still succeeds, after at most the bound.
    let app = app_with_nats(Duration::from_millis(400)).await;
    fake_service(
        app.nats.as_ref().unwrap(),
        "kansrijk.qry.views.wacht-op".into(),
        Behaviour::Silent,
    )
    .await;
    let started = Instant::now();
    let r = app
        .post(
            &format!("/v1/proeven/{}/opdrachten", Uuid::new_v4()),
            Some(&app.token("leerkracht")),
            &valid_body(),
            None,
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["kansrijk-views-current"], "false");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_body_that_is_too_large_is_a_413_problem() {
    let app = app_with_nats(Duration::ZERO).await;
    let big = "x".repeat(kansrijk_gateway::app::BODY_LIMIT + 10);
    let r = app
        .http
        .post(app.url(&format!("/v1/proeven/{}/opdrachten", Uuid::new_v4())))
        .bearer_auth(app.token("leerkracht"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_problem(&r, 413);
}

#[tokio::test]
async fn the_typed_client_sends_commands_and_retries_safely() {
    let app = app_with_nats(Duration::ZERO).await;
    let client = kansrijk_gateway::client::Client::dev_login(&app.base, "leerkracht")
        .await
        .unwrap();
    let path = format!("/v1/proeven/{}/opdrachten", Uuid::new_v4());
    let first = client.post(&path, &valid_body(), None).await.unwrap();
    assert_eq!(first.status, 201);
    assert!(first.accepted.first_time);
    let retry = client
        .post(&path, &valid_body(), Some(first.idempotency_key))
        .await
        .unwrap();
    assert_eq!(retry.status, 200);
    assert_eq!(retry.accepted.stream_id, first.accepted.stream_id);
    assert!(!retry.accepted.first_time);
    let err = client
        .post(&path, &json!({"urenPerWeek": 99}), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn extra_pages_get_the_headers_and_keep_their_html_errors() {
    use axum::response::{Html, IntoResponse};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let common = kansrijk_runtime::config::CommonConfig {
        database_url: String::new(),
        nats_url: String::new(),
        stream_replicas: 1,
        oin: kansrijk_runtime::config::DEFAULT_OIN.into(),
        ops_addr: None,
    };
    let state =
        kansrijk_gateway::AppState::new(kansrijk_gateway::Config::local(common, addr), None, None)
            .unwrap();
    let pages = axum::Router::new()
        .route(
            "/formulier",
            axum::routing::get(|| async {
                (
                    axum::http::StatusCode::BAD_REQUEST,
                    Html("<p>Vul uw naam in</p>"),
                )
                    .into_response()
            }),
        )
        .route(
            "/getal",
            axum::routing::get(
                |axum::extract::Query(q): axum::extract::Query<
                    std::collections::HashMap<String, u32>,
                >| async move { format!("{}", q.len()) },
            ),
        );
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(kansrijk_gateway::serve(
        listener,
        kansrijk_gateway::build_router_with(state, pages),
        shutdown.clone(),
    ));
    let r = reqwest::get(format!("http://{addr}/formulier"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["api-version"], "1.0.0");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // A bare plain-text rejection still becomes a problem.
    let r = reqwest::get(format!("http://{addr}/getal?x=geen-getal"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    shutdown.cancel();
}

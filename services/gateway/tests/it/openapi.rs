//! The OpenAPI document: a snapshot, and the served document is the generated one.

use kansrijk_gateway::openapi;
use serde_json::Value;

use crate::common::{Options, TestApp};

#[test]
fn openapi_document_snapshot() {
    let doc = openapi::document("http://127.0.0.1:8080", "http://127.0.0.1:8080/dev-oidc");
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn the_served_document_is_the_generated_one_and_covers_every_route() {
    let app = TestApp::start(Options::default()).await;
    let served: Value = app
        .get("/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&served, app.state.openapi());
    assert_eq!(served["servers"][0]["url"], app.url("/v1"));
    for r in kansrijk_gateway::routes::all() {
        let rel = r.path.strip_prefix("/v1").unwrap();
        let op = &served["paths"][rel][r.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} missing", r.method.as_str(), r.path);
        assert_eq!(op["operationId"], r.operation_id());
    }
}

//! Nothing in a production configuration can enable the development issuer.

use std::collections::HashMap;

use kansrijk_gateway::{AppState, Config};
use tokio_util::sync::CancellationToken;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn production_refuses_to_start_with_the_development_issuer() {
    let err = Config::from_lookup(lookup(&[
        ("KANSRIJK_ENV", "production"),
        ("KANSRIJK_DEV_ISSUER", "1"),
        ("KANSRIJK_OIDC_ISSUER", "https://login.gemeente.example"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("development issuer"), "{err}");

    // Trusting the development issuer by its URL is refused as well.
    assert!(Config::from_lookup(lookup(&[
        ("KANSRIJK_ENV", "production"),
        (
            "KANSRIJK_OIDC_ISSUER",
            "https://api.gemeente.example/dev-oidc"
        ),
    ]))
    .is_err());

    let ok = Config::from_lookup(lookup(&[
        ("KANSRIJK_ENV", "production"),
        ("KANSRIJK_OIDC_ISSUER", "https://login.gemeente.example"),
    ]))
    .unwrap();
    assert!(!ok.dev_issuer);

    // Locally the flag must be explicit.
    assert!(
        Config::from_lookup(lookup(&[])).is_err(),
        "no issuer at all"
    );
    let local = Config::from_lookup(lookup(&[("KANSRIJK_DEV_ISSUER", "1")])).unwrap();
    assert!(local.dev_issuer);
    assert_eq!(local.http_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(local.trusted_issuer(), "http://127.0.0.1:8080/dev-oidc");
}

#[tokio::test]
async fn run_and_the_app_state_refuse_it_too() {
    let mut config = Config::from_lookup(lookup(&[("KANSRIJK_DEV_ISSUER", "1")])).unwrap();
    config.environment = kansrijk_gateway::config::Environment::Production;
    config.oidc.issuer = Some("https://login.gemeente.example".into());
    let err = kansrijk_gateway::run(config.clone(), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("development issuer"), "{err}");
    assert!(AppState::new(config, None, None).is_err());
}

#[tokio::test]
async fn without_the_flag_there_is_no_development_issuer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::from_lookup(lookup(&[(
        "KANSRIJK_OIDC_ISSUER",
        "https://login.gemeente.example",
    )]))
    .unwrap();
    config.public_url = format!("http://{addr}");
    let state = AppState::new(config, None, None).unwrap();
    assert!(state.dev_issuer().is_none());
    let shutdown = CancellationToken::new();
    tokio::spawn(kansrijk_gateway::serve(
        listener,
        kansrijk_gateway::build_router(state),
        shutdown.clone(),
    ));
    for path in [
        "/dev-oidc/jwks",
        "/dev-oidc/.well-known/openid-configuration",
        "/dev-oidc/token",
    ] {
        let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    shutdown.cancel();
}

#[tokio::test]
async fn an_unreachable_issuer_is_a_503_not_a_401() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dead = kansrijk_runtime::testing::free_port();
    let mut config = Config::from_lookup(lookup(&[(
        "KANSRIJK_OIDC_ISSUER",
        format!("http://127.0.0.1:{dead}/oidc").as_str(),
    )]))
    .unwrap();
    config.public_url = format!("http://{addr}");
    let state = AppState::new(config.clone(), None, None).unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(kansrijk_gateway::serve(
        listener,
        kansrijk_gateway::build_router(state),
        shutdown.clone(),
    ));
    let issuer = kansrijk_gateway::dev_oidc::DevIssuer::new(
        config.trusted_issuer(),
        config.oidc.audience.clone(),
    )
    .unwrap();
    let token = issuer.token("beleidsadviseur").unwrap();
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/v1/gemeenten/0546/wijken"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    shutdown.cancel();
}

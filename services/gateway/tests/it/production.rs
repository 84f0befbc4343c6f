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

#[test]
fn the_development_issuer_never_replaces_a_configured_issuer() {
    // Locally too: KANSRIJK_DEV_ISSUER=1 beside a real issuer used to switch the web UI to the
    // development issuer; now it is refused.
    for env in ["development", "test"] {
        let err = Config::from_lookup(lookup(&[
            ("KANSRIJK_ENV", env),
            ("KANSRIJK_DEV_ISSUER", "1"),
            (
                "KANSRIJK_OIDC_ISSUER",
                "http://keycloak.localhost:8180/realms/kansrijk",
            ),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("configured issuer"),
            "{env}: {err}"
        );
    }
}

#[test]
fn prod_acceptatie_acceptance_and_staging_are_production() {
    for env in ["prod", "PROD", "acceptatie", "acceptance", "staging"] {
        let err = Config::from_lookup(lookup(&[
            ("KANSRIJK_ENV", env),
            ("KANSRIJK_DEV_ISSUER", "1"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("production"), "{env}: {err}");
        let ok = Config::from_lookup(lookup(&[
            ("KANSRIJK_ENV", env),
            ("KANSRIJK_OIDC_ISSUER", "https://login.gemeente.example"),
        ]))
        .unwrap();
        assert!(ok.environment.is_production(), "{env}");
        assert!(Config::from_lookup(lookup(&[
            ("KANSRIJK_ENV", env),
            ("KANSRIJK_OIDC_ISSUER", "http://login.gemeente.example"),
        ]))
        .is_err());
    }
    assert!(Config::from_lookup(lookup(&[("KANSRIJK_ENV", "productie-ish")])).is_err());
}

#[test]
fn the_committed_demo_keys_are_refused_outside_development() {
    use kansrijk_runtime::config::{refuse_demo_secret, Environment, DEMO_SECRETS};
    // Every key docker-compose.yml used to commit, in the shapes the services read them.
    for key in DEMO_SECRETS {
        for value in [
            key.to_string(),
            format!("1:{key}"),
            format!("2:{key},1:{key}"),
        ] {
            for env in ["production", "prod", "acceptatie", "acceptance", "staging"] {
                let env = Environment::parse(env).unwrap();
                assert!(refuse_demo_secret(env, "K", &value).is_err(), "{value}");
            }
            refuse_demo_secret(Environment::Development, "K", &value).unwrap();
        }
    }
    // The file docker-compose.yml and the deployment checks no longer hold any of them.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let compose = std::fs::read_to_string(root.join("docker-compose.yml")).unwrap();
    for key in DEMO_SECRETS {
        assert!(!compose.contains(key), "docker-compose.yml commits {key}");
    }
}

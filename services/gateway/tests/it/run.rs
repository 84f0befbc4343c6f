//! `run`: the whole gateway process as the CLI starts it, drained by the shutdown token.

use std::time::Duration;

use kansrijk_gateway::Config;
use kansrijk_runtime::config::CommonConfig;
use kansrijk_runtime::testing::{eventually, free_port, NatsServer, TestDb};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn run_serves_until_shutdown_and_stops_cleanly() {
    let nats = NatsServer::start();
    let db = TestDb::new().await;
    let addr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let common = CommonConfig {
        database_url: db.url.clone(),
        nats_url: nats.url(),
        stream_replicas: 1,
        oin: kansrijk_runtime::config::DEFAULT_OIN.into(),
        ops_addr: None,
    };
    let config = Config::local(common, addr);
    let base = config.public_url.clone();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(kansrijk_gateway::run(config, shutdown.clone()));
    let http = reqwest::Client::new();
    eventually(Duration::from_secs(20), "the gateway to be ready", || {
        let http = http.clone();
        let url = format!("{base}/readyz");
        async move {
            let r = http.get(url).send().await.ok()?;
            r.status().is_success().then_some(())
        }
    })
    .await;

    kansrijk_gateway::seed_demo_organisations(&db.url)
        .await
        .unwrap();
    let token =
        kansrijk_gateway::dev_token("jgz-verpleegkundige", &format!("{base}/dev-oidc")).unwrap();
    let page: Value = http
        .get(format!(
            "{base}/v1/sociale-kaart?organisatieType=kinderopvang"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let childcare = kansrijk_gateway::registry::seed::DEMO_ORGANISATIONS
        .iter()
        .filter(|o| o.organisation_type == "kinderopvang")
        .count();
    assert_eq!(page["totaal"], childcare, "{page}");

    // The web UI is served beside the API, in Dutch, with the development banner.
    let home = http.get(format!("{base}/")).send().await.unwrap();
    assert!(home.status().is_success(), "{}", home.status());
    let html = home.text().await.unwrap();
    assert!(html.contains("lang=\"nl\""), "{html}");
    assert!(html.contains("Ontwikkelomgeving"), "{html}");

    shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("run returns after shutdown")
        .unwrap();
    result.expect("a clean stop");
    assert!(
        http.get(format!("{base}/livez")).send().await.is_err(),
        "no longer listening"
    );
}

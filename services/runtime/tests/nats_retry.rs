//! A command request retried as a client should: the same command id on every try, on 503 and
//! 504 only, bounded. Against a real nats-server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::service::{handler, Endpoints, Request};
use kansrijk_runtime::testing::NatsServer;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn actor() -> Actor {
    Actor {
        person: "test".into(),
        organisation: "00000001000000001001".into(),
        organisation_type: OrganisationType::Jgz,
        role: "jeugdverpleegkundige".into(),
        municipality: "0546".into(),
        purpose: Purpose::Zorgverlening,
    }
}

/// A service that answers `failures` with `status` before it accepts; it records the command ids.
async fn flaky(
    client: &async_nats::Client,
    name: &'static str,
    status: u16,
    failures: usize,
    shutdown: &CancellationToken,
) -> Arc<Mutex<Vec<Option<Uuid>>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut e = Endpoints::new();
    let s = seen.clone();
    e.insert(
        format!("test.{name}"),
        handler(move |req: Request| {
            let s = s.clone();
            async move {
                let n = {
                    let mut s = s.lock().expect("lock");
                    s.push(req.command_id);
                    s.len()
                };
                if n <= failures {
                    return Err(match status {
                        503 => Problem::unavailable("not yet"),
                        504 => Problem::timeout("not yet"),
                        _ => Problem::bad_request("nee", "refused"),
                    });
                }
                Ok(json!({ "try": n }))
            }
        }),
    );
    tokio::spawn(kansrijk_runtime::service::serve(
        client.clone(),
        name,
        e,
        4,
        shutdown.clone(),
    ));
    // Ready when it answers.
    kansrijk_runtime::testing::eventually(Duration::from_secs(10), "the service", || {
        let client = client.clone();
        async move { client.request("$SRV.PING", "".into()).await.ok() }
    })
    .await;
    seen
}

#[tokio::test]
async fn a_retried_command_keeps_its_id_and_stops_at_the_first_final_answer() {
    let server = NatsServer::start();
    let client = async_nats::connect(server.url()).await.expect("nats");
    let shutdown = CancellationToken::new();
    let id = Uuid::new_v4();
    let headers = || kansrijk_runtime::nats::request_headers(&actor(), Some(id), None);

    for (name, status) in [("unavailable", 503), ("slow", 504)] {
        let seen = flaky(&client, name, status, 2, &shutdown).await;
        let v: Value = kansrijk_runtime::nats::request_retrying(
            &client,
            format!("test.{name}"),
            headers(),
            &json!({}),
            Duration::from_secs(5),
            5,
        )
        .await
        .expect("accepted on the third try");
        assert_eq!(v, json!({ "try": 3 }));
        assert_eq!(*seen.lock().expect("lock"), vec![Some(id); 3], "{name}");
    }

    // A refusal is final: one try.
    let seen = flaky(&client, "refusing", 400, 10, &shutdown).await;
    let r: Result<Value, Problem> = kansrijk_runtime::nats::request_retrying(
        &client,
        "test.refusing".into(),
        headers(),
        &json!({}),
        Duration::from_secs(5),
        5,
    )
    .await;
    assert_eq!(r.expect_err("refused").status, 400);
    assert_eq!(seen.lock().expect("lock").len(), 1);

    // Bounded: a service that stays unavailable is given up after `attempts` tries.
    let seen = flaky(&client, "down", 503, 100, &shutdown).await;
    let r: Result<Value, Problem> = kansrijk_runtime::nats::request_retrying(
        &client,
        "test.down".into(),
        headers(),
        &json!({}),
        Duration::from_secs(5),
        3,
    )
    .await;
    assert_eq!(r.expect_err("unavailable").status, 503);
    assert_eq!(seen.lock().expect("lock").len(), 3);
    shutdown.cancel();
}

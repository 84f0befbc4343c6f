//! The stack with the views service down: commands still succeed over HTTP (the gateway's wait
//! for the views is bounded and reports "not current"), queries answer 503/504 instead of
//! hanging, and once the views are back they catch up with what was written meanwhile. Also
//! shows [`kansrijk_e2e::Stack::stop`] and [`kansrijk_e2e::Stack::restart`] for fault injection.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use kansrijk_e2e::{Stack, StackOptions};
use kansrijk_runtime::testing::eventually;
use kansrijk_views::vve::queries::Worklist;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_succeed_while_the_views_are_down_and_the_views_catch_up() {
    let mut stack = Stack::start_with(StackOptions {
        view_wait: Duration::from_millis(500),
        request_timeout: Duration::from_secs(2),
        ..StackOptions::default()
    })
    .await;
    assert!(stack.parts().contains(&"views"));
    let jgz = stack.client("jgz-verpleegkundige").await;
    let today = Utc::now().date_naive();

    stack.stop("views").await.expect("the views stop cleanly");

    let started = Instant::now();
    let made = jgz
        .post(
            "/v1/kinderen",
            &json!({
                "bsn": "999990019", "voornaam": "Later", "achternaam": "Zichtbaar",
                "geboortedatum": (today - Days::new(3 * 365)).to_string(),
                "postcode": "2311 AB", "wijk": "Leiden-Noord", "gemeente": "0546",
            }),
            None,
        )
        .await
        .expect("the command does not need the views");
    let kind = made.accepted.stream_id;
    let indicated = jgz
        .post(
            &format!("/v1/kinderen/{kind}/indicaties"),
            &json!({ "afgegevenOp": (today - Days::new(3)).to_string(), "criteria": ["taalachterstand"] }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(indicated.status, 201);
    assert!(!indicated.views_current, "the views cannot have seen it");
    assert!(started.elapsed() < Duration::from_secs(10), "bounded waits");
    let e = jgz.get::<Worklist>("/v1/jgz-werklijst").await.unwrap_err();
    assert!(matches!(e.status(), Some(503 | 504)), "{e}");

    stack.restart("views").await;
    let list: Worklist = eventually(Duration::from_secs(30), "the views to catch up", || {
        let jgz = jgz.clone();
        async move {
            let l: Worklist = jgz.get("/v1/jgz-werklijst").await.ok()?;
            l.kinderen.iter().any(|k| k.kind_id == kind).then_some(l)
        }
    })
    .await;
    assert_eq!(list.kinderen.len(), 1);

    stack.shutdown().await;
}

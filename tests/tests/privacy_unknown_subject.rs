//! Issue 16, defect 4, over HTTP on the real stack: the privacy officer's retention period for a
//! subject that exists nowhere is a 404, and so is its erasure afterwards.

use kansrijk_e2e::Stack;
use serde_json::json;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_and_erasure_of_a_subject_that_exists_nowhere_are_404() {
    let stack = Stack::start().await;
    let officer = stack.client("privacyfunctionaris").await;
    let nowhere = Uuid::new_v4();
    let r = officer
        .post(
            &format!("/v1/betrokkenen/{nowhere}/bewaartermijnen"),
            &json!({ "dataKind": "jgz", "startDate": "2026-01-01" }),
            None,
        )
        .await;
    assert_eq!(r.map(|a| a.accepted).unwrap_err().status(), Some(404));
    let r = officer
        .post(
            &format!("/v1/betrokkenen/{nowhere}/wissingen"),
            &json!({ "grounds": "verzoek-betrokkene" }),
            None,
        )
        .await;
    assert_eq!(r.map(|a| a.accepted).unwrap_err().status(), Some(404));
}

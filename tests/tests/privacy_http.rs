//! Privacy end to end over HTTP on the real stack: the access log records the JGZ's reads, the
//! privacy officer answers a subject access request, a legal hold blocks erasure until it is
//! lifted, and after the erasure the child's records answer 410/404 and the worklist no longer
//! lists the child.

use std::time::Duration;

use chrono::{Days, Utc};
use kansrijk_e2e::Stack;
use kansrijk_runtime::testing::eventually;
use kansrijk_views::vve::queries::Worklist;
use serde_json::{json, Value};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erasure_over_http_removes_the_child_everywhere() {
    let stack = Stack::start().await;
    let jgz = stack.client("jgz-verpleegkundige").await;
    let officer = stack.client("privacyfunctionaris").await;
    let today = Utc::now().date_naive();
    let birth = today - Days::new(3 * 365);

    // Two indicated children; one will be erased.
    let mut kids = Vec::new();
    for (bsn, name) in [("999990019", "Wis"), ("999990020", "Blijf")] {
        let made = jgz
            .post(
                "/v1/kinderen",
                &json!({
                    "bsn": bsn, "voornaam": name, "achternaam": "Privacytest",
                    "geboortedatum": birth.to_string(), "postcode": "2311 AB",
                    "wijk": "Leiden-Noord", "gemeente": "0546",
                }),
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("register {name}: {e}"));
        let kind = made.accepted.stream_id;
        jgz.post(
            &format!("/v1/kinderen/{kind}/indicaties"),
            &json!({ "afgegevenOp": (today - Days::new(10)).to_string(), "criteria": ["taalachterstand"] }),
            None,
        )
        .await
        .unwrap();
        kids.push(kind);
    }
    let (erased, kept) = (kids[0], kids[1]);
    let list: Worklist = jgz.get("/v1/jgz-werklijst").await.unwrap();
    assert_eq!(list.kinderen.len(), 2);

    // The access log holds the JGZ's read of the child (NEN 7513), for the officer only.
    let log: Value = eventually(WAIT, "the worklist read in the access log", || {
        let officer = officer.clone();
        async move {
            let page: Value = officer
                .get(&format!("/v1/toegangslog?subject={erased}"))
                .await
                .ok()?;
            let reads = page["entries"]
                .as_array()?
                .iter()
                .any(|e| e["event"] == "read" && e["accessPoint"] == "vve.werklijst");
            reads.then_some(page)
        }
    })
    .await;
    assert!(!log.to_string().contains("Privacytest"));
    assert_eq!(
        jgz.get::<Value>("/v1/toegangslog")
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    let verified: Value = officer.get("/v1/toegangslog/controle").await.unwrap();
    assert_eq!(verified["ok"], true, "{verified}");

    // Subject access (AVG art. 15): everything about the child, across the services.
    let access: Value = officer
        .get(&format!("/v1/betrokkenen/{erased}/inzage"))
        .await
        .unwrap();
    assert!(
        access.to_string().contains("Wis"),
        "the child's own data is in the extract"
    );
    assert_eq!(
        jgz.get::<Value>(&format!("/v1/betrokkenen/{erased}/inzage"))
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );

    // A legal hold blocks the erasure until it is lifted.
    let path = format!("/v1/betrokkenen/{erased}/bewaarplicht");
    officer
        .command(
            reqwest::Method::PUT,
            &path,
            &json!({ "reason": "veilig-thuis-melding" }),
            None,
        )
        .await
        .unwrap();
    let wipe = format!("/v1/betrokkenen/{erased}/wissingen");
    let body = json!({ "grounds": "verzoek-betrokkene" });
    let e = officer.post(&wipe, &body, None).await.unwrap_err();
    assert_eq!(e.status(), Some(409), "{e}");
    officer
        .command(reqwest::Method::DELETE, &path, &json!({}), None)
        .await
        .unwrap();
    // Only the privacy officer erases.
    assert_eq!(
        jgz.post(&wipe, &body, None).await.unwrap_err().status(),
        Some(403)
    );
    let done = officer
        .post(&wipe, &body, Some(Uuid::new_v4()))
        .await
        .unwrap();
    assert_eq!(done.status, 201);

    // The child's records answer 410 (or 404) and the worklist no longer lists the child.
    // The vve service learns of the erasure from the event (it caches keys briefly), so the
    // probe is a command that changes nothing while the key is still cached (a second
    // indication: 409) and must turn into 410/404 within the bound.
    let probe = format!("/v1/kinderen/{erased}/indicaties");
    let indication = json!({ "afgegevenOp": today.to_string(), "criteria": ["taalachterstand"] });
    let status = eventually(WAIT, "the erased child's record to answer 410", || {
        let jgz = jgz.clone();
        let (probe, indication) = (probe.clone(), indication.clone());
        async move {
            match jgz.post(&probe, &indication, None).await {
                Ok(r) => panic!("a command on an erased child landed: {}", r.status),
                Err(e) => e.status().filter(|s| matches!(s, 404 | 410)),
            }
        }
    })
    .await;
    assert!(matches!(status, 404 | 410));
    let list: Worklist = eventually(WAIT, "the erased child to leave the worklist", || {
        let jgz = jgz.clone();
        async move {
            let l: Worklist = jgz.get("/v1/jgz-werklijst").await.ok()?;
            l.kinderen.iter().all(|k| k.kind_id != erased).then_some(l)
        }
    })
    .await;
    assert_eq!(
        list.kinderen.iter().map(|k| k.kind_id).collect::<Vec<_>>(),
        vec![kept]
    );
    // Erasing again changes nothing: the subject stays erased.
    let again = officer.post(&wipe, &body, None).await;
    match again {
        Ok(r) => assert_eq!(r.status, 200),
        Err(e) => assert!(matches!(e.status(), Some(404 | 409 | 410)), "{e}"),
    }
    // The other child is untouched.
    jgz.post(
        &format!("/v1/kinderen/{kept}/toeleidingspogingen"),
        &json!({ "datum": today.to_string(), "kanaal": "telefoon", "uitkomst": "bereikt" }),
        None,
    )
    .await
    .unwrap();

    stack.shutdown().await;
}

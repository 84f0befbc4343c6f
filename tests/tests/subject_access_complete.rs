//! Subject access (AVG art. 15) over HTTP on the real stack (privacy, vve-reach, handover,
//! casework, views): the privacy officer's document is complete, every service answering its
//! part, the views' read models included with their sealed values opened (issue 17 item 12);
//! after the child's erasure the document no longer shows the child's name or the content of
//! the linked preschool file, within seconds (item 11).

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use kansrijk_e2e::Stack;
use kansrijk_runtime::testing::eventually;
use serde_json::{json, Value};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

/// The document of a `GET /v1/betrokkenen/{id}/inzage` reply.
fn document(reply: &Value) -> &Value {
    reply.get("document").unwrap_or(reply)
}

fn part<'a>(doc: &'a Value, service: &str) -> &'a Value {
    doc["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["service"] == service)
        .unwrap_or_else(|| panic!("no part of {service}: {doc}"))
}

fn assert_complete(doc: &Value) {
    assert_eq!(doc["complete"], true, "{}", doc["missing"]);
    assert_eq!(doc["missing"], json!([]));
    let mut services: Vec<&str> = doc["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["service"].as_str())
        .collect();
    services.sort_unstable();
    assert_eq!(
        services,
        vec!["casework", "overdracht", "privacy", "views", "vve"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subject_access_document_is_complete_and_an_erasure_shows_in_it_at_once() {
    let stack = Stack::start().await;
    let jgz = stack.client("jgz-verpleegkundige").await;
    let childcare = stack.client("pedagogisch-medewerker").await;
    let director = stack.client("regisseur").await;
    let officer = stack.client("privacyfunctionaris").await;
    let today = Utc::now().date_naive();

    // A child with an indication, and a preschool file about the child.
    let child = jgz
        .post(
            "/v1/kinderen",
            &json!({
                "bsn": "999990032", "voornaam": "Inzagekind", "achternaam": "Volledig",
                "geboortedatum": (today - Days::new(3 * 365)).to_string(), "postcode": "2311 AB",
                "wijk": "Leiden-Noord", "gemeente": "0546",
            }),
            None,
        )
        .await
        .unwrap()
        .accepted
        .stream_id;
    jgz.post(
        &format!("/v1/kinderen/{child}/indicaties"),
        &json!({ "afgegevenOp": (today - Days::new(10)).to_string(), "criteria": ["taalachterstand"] }),
        None,
    )
    .await
    .unwrap();
    let file = childcare
        .post(
            "/v1/overdrachtsformulieren",
            &json!({
                "kindId": child,
                "opgesteldOp": (today - Days::new(5)).to_string(),
                "warmeOverdrachtGewenst": false,
                "kind": { "voornaam": "Inzagekind", "achternaam": "Volledig",
                          "geboortedatum": (today - Days::new(3 * 365)).to_string() },
                "inhoud": {
                    "sociaalEmotioneel": "Bouwt graag torens met Inzagevriend.",
                    "taal": "Woordenschat groeit.",
                    "motoriek": "Knipt zelfstandig.",
                    "cognitief": "Telt tot tien.",
                    "interessesEnTalenten": "Bouwhoek.",
                    "ondersteuningsbehoeften": "Extra taalaanbod."
                }
            }),
            None,
        )
        .await
        .unwrap()
        .accepted
        .stream_id;
    // A family's case.
    let case = director
        .post(
            "/v1/casussen",
            &json!({
                "wijk": "Leiden-Noord", "geopendOp": (today - Days::new(3)).to_string(),
                "urenbudgetRegie": 10,
                "gezinsleden": [
                    { "rol": "ouder", "voornaam": "Inzageouder", "achternaam": "Gezin" },
                    { "rol": "kind", "voornaam": "Gezinskind", "achternaam": "Gezin", "geboortedatum": "2021-04-01" }
                ]
            }),
            None,
        )
        .await
        .unwrap()
        .accepted
        .stream_id;

    // The child's document: every service answered, the views with their read models opened.
    let doc: Value = eventually(WAIT, "the views' part to hold the child", || {
        let officer = officer.clone();
        async move {
            let r: Value = officer
                .get(&format!("/v1/betrokkenen/{child}/inzage"))
                .await
                .ok()?;
            let doc = document(&r).clone();
            let views = doc["parts"]
                .as_array()?
                .iter()
                .find(|p| p["service"] == "views")?
                .clone();
            let s = views.to_string();
            (s.contains("vve_children") && s.contains("ho_files")).then_some(doc)
        }
    })
    .await;
    assert_complete(&doc);
    let views = part(&doc, "views").to_string();
    assert!(
        views.contains("Inzagekind"),
        "the child's name, opened: {views}"
    );
    assert!(views.contains("taalachterstand"), "the indication, opened");
    assert!(views.contains("Inzagevriend"), "the file's content, opened");
    assert!(
        !views.contains("ciphertext"),
        "nothing left sealed: {views}"
    );
    assert!(part(&doc, "vve").to_string().contains("Inzagekind"));
    assert!(part(&doc, "overdracht")
        .to_string()
        .contains("Inzagevriend"));

    // The family's document: complete, the case's read model opened.
    let r: Value = officer
        .get(&format!("/v1/betrokkenen/{case}/inzage"))
        .await
        .unwrap();
    let doc = document(&r);
    assert_complete(doc);
    let views = part(doc, "views").to_string();
    assert!(
        views.contains("cw_cases") && views.contains("Inzageouder"),
        "{views}"
    );

    // The export is in the access log, from the views too.
    let log: Value = officer
        .get(&format!("/v1/toegangslog?subject={child}"))
        .await
        .unwrap();
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["accessPoint"] == "views.inzage" && e["event"] == "export"),
        "{log}"
    );

    // The child is erased: the document no longer shows the child's name, birth date or the
    // file's content anywhere, the linked file's key destroyed at once (not at the handover
    // service's 300 s scan).
    let done = officer
        .post(
            &format!("/v1/betrokkenen/{child}/wissingen"),
            &json!({ "grounds": "verzoek-betrokkene" }),
            Some(Uuid::new_v4()),
        )
        .await
        .unwrap();
    assert_eq!(done.status, 201);
    let acknowledged = Instant::now();
    let birth = (today - Days::new(3 * 365)).to_string();
    let doc: Value = eventually(WAIT, "the erased child to leave the document", || {
        let officer = officer.clone();
        let birth = birth.clone();
        async move {
            let r: Value = officer
                .get(&format!("/v1/betrokkenen/{child}/inzage"))
                .await
                .ok()?;
            let s = r.to_string();
            (!s.contains("Inzagekind") && !s.contains("Inzagevriend") && !s.contains(&birth))
                .then(|| document(&r).clone())
        }
    })
    .await;
    let took = acknowledged.elapsed();
    eprintln!("the erasure showed in the subject access document after {took:?}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_complete(&doc);
    let handover = part(&doc, "overdracht");
    assert_eq!(
        handover["sections"][0]["data"]["inhoudVernietigd"], true,
        "{handover}"
    );
    let _ = file;
    stack.shutdown().await;
}

//! Issue 17 item 9: a refused read of a record (403 or 404) is in the access log (NEN 7513 wants
//! the attempt), with outcome `denied` ("geweigerd"), the record's pseudonymous id and no
//! personal data. On the real stack over HTTP: another school reads a preschool file not meant
//! for it, an outsider reads a family's case; the privacy officer finds both attempts.

use std::time::Duration;

use chrono::{Days, Utc};
use kansrijk_e2e::Stack;
use kansrijk_runtime::testing::eventually;
use serde_json::{json, Value};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

async fn refused_entry(
    officer: &kansrijk_gateway::client::Client,
    record: Uuid,
    point: &str,
) -> Value {
    eventually(WAIT, "the refused read in the access log", || {
        let officer = officer.clone();
        async move {
            let page: Value = officer
                .get(&format!("/v1/toegangslog?subject={record}"))
                .await
                .ok()?;
            page["entries"]
                .as_array()?
                .iter()
                .find(|e| e["accessPoint"] == point && e["outcome"] == "denied")
                .cloned()
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_read_of_another_organisations_record_is_logged() {
    let stack = Stack::start().await;
    let childcare = stack.client("pedagogisch-medewerker").await;
    let other_school = stack.client("basisschool-andere-school").await;
    let director = stack.client("regisseur").await;
    let officer = stack.client("privacyfunctionaris").await;
    let today = Utc::now().date_naive();

    let file = childcare
        .post(
            "/v1/overdrachtsformulieren",
            &json!({
                "kindId": Uuid::new_v4(),
                "opgesteldOp": (today - Days::new(5)).to_string(),
                "warmeOverdrachtGewenst": false,
                "kind": { "voornaam": "Geweigerdkind", "achternaam": "Log",
                          "geboortedatum": (today - Days::new(3 * 365)).to_string() },
                "inhoud": {
                    "sociaalEmotioneel": "Vrolijk.", "taal": "Groeit.", "motoriek": "Goed.",
                    "cognitief": "Telt.", "interessesEnTalenten": "Bouwhoek.",
                    "ondersteuningsbehoeften": "Geen."
                }
            }),
            None,
        )
        .await
        .unwrap()
        .accepted
        .stream_id;
    let case = director
        .post(
            "/v1/casussen",
            &json!({
                "wijk": "Leiden-Noord", "geopendOp": (today - Days::new(3)).to_string(),
                "urenbudgetRegie": 10,
                "gezinsleden": [
                    { "rol": "ouder", "voornaam": "Geweigerdouder", "achternaam": "Log" },
                    { "rol": "kind", "voornaam": "Geweigerdgezinskind", "achternaam": "Log", "geboortedatum": "2021-04-01" }
                ]
            }),
            None,
        )
        .await
        .unwrap()
        .accepted
        .stream_id;

    // Another school reads the file, not sent to it: refused.
    let e = other_school
        .get::<Value>(&format!("/v1/overdrachtsdossiers/{file}"))
        .await
        .expect_err("another school reads the file");
    assert!(matches!(e.status(), Some(403 | 404)), "{e}");
    // A school that takes no part in the case reads it: refused (404, its existence hidden).
    let e = other_school
        .get::<Value>(&format!("/v1/casussen/{case}"))
        .await
        .expect_err("an outsider reads the case");
    assert!(matches!(e.status(), Some(403 | 404)), "{e}");

    // Both attempts are in the log: who, where, which record, refused; no personal data.
    let on_file = refused_entry(&officer, file, "overdracht.dossier").await;
    let on_case = refused_entry(&officer, case, "casework.casus").await;
    for entry in [&on_file, &on_case] {
        assert_eq!(entry["event"], "read", "{entry}");
        assert_eq!(entry["organisationType"], "basisschool", "{entry}");
        let text = entry.to_string();
        assert!(!text.contains("Geweigerd"), "no personal data: {text}");
    }
    // The log's chain still verifies.
    let verified: Value = officer.get("/v1/toegangslog/controle").await.unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
    stack.shutdown().await;
}

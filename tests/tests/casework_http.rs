//! "1 gezin 1 plan" end to end over HTTP on the real stack: the case director, a consented and a
//! non-consented participant, an outsider and the municipality each see exactly what they
//! should; revoking the consent removes the participant's access at its next query.

use chrono::{Days, NaiveDate, Utc};
use kansrijk_e2e::Stack;
use kansrijk_gateway::client::Client;
use kansrijk_proto::casework::PlanPart;
use kansrijk_views::casework::queries::{Access, CaseView, Caseload, OwnActions};
use serde_json::{json, Value};
use uuid::Uuid;

const SCHOOL: &str = "20VF00";
const JGZ: &str = "00000001000000001001";

fn day(offset: i64) -> NaiveDate {
    let today = Utc::now().date_naive();
    if offset >= 0 {
        today + Days::new(offset as u64)
    } else {
        today - Days::new(offset.unsigned_abs())
    }
}

fn d(offset: i64) -> String {
    day(offset).to_string()
}

async fn ok(c: &Client, path: &str, body: Value) {
    c.post(path, &body, None)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_party_sees_what_it_should_and_revocation_takes_effect_at_once() {
    let stack = Stack::start().await;
    let director = stack.client("regisseur").await;
    let teacher = stack.client("leerkracht").await; // consented participant
    let nurse = stack.client("jgz-verpleegkundige").await; // participant without consent
    let outsider = stack.client("basisschool-andere-school").await;
    let municipality = stack.client("beleidsadviseur").await;

    let opened = director
        .post(
            "/v1/casussen",
            &json!({
                "wijk": "Leiden-Noord",
                "geopendOp": d(-30),
                "urenbudgetRegie": 10,
                "gezinsleden": [
                    { "rol": "ouder", "voornaam": "Sara", "achternaam": "de Vries" },
                    { "rol": "kind", "voornaam": "Daan", "achternaam": "de Vries", "geboortedatum": "2021-04-01" }
                ]
            }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(opened.status, 201);
    let case = opened.accepted.stream_id;
    let base = format!("/v1/casussen/{case}");
    ok(
        &director,
        &format!("{base}/deelnemers"),
        json!({ "organisatie": SCHOOL, "organisatietype": "basisschool", "datum": d(-29) }),
    )
    .await;
    ok(
        &director,
        &format!("{base}/deelnemers"),
        json!({ "organisatie": JGZ, "organisatietype": "jgz", "datum": d(-29) }),
    )
    .await;
    let consent = Uuid::new_v4();
    ok(
        &director,
        &format!("{base}/toestemmingen"),
        json!({
            "toestemmingId": consent,
            "organisatie": SCHOOL,
            "onderdelen": ["zorgen", "doelen-acties"],
            "doel": "casusregie",
            "gegevenOp": d(-28),
            "geldigTot": d(365),
            "gegevenDoor": "ouders"
        }),
    )
    .await;
    director
        .command(
            reqwest::Method::PUT,
            &format!("{base}/sterke-punten"),
            &json!({ "sterkePunten": ["Betrokken grootouders"], "vastgelegdOp": d(-27) }),
            None,
        )
        .await
        .unwrap();
    let concern = Uuid::new_v4();
    ok(
        &director,
        &format!("{base}/zorgen"),
        json!({ "zorgId": concern, "prioriteit": "hoog", "omschrijving": "Taalontwikkeling blijft achter.", "vastgelegdOp": d(-27) }),
    )
    .await;
    let goal = Uuid::new_v4();
    ok(
        &director,
        &format!("{base}/doelen"),
        json!({ "doelId": goal, "zorgId": concern, "omschrijving": "Daan krijgt extra taalaanbod.", "streefdatum": d(60), "gesteldOp": d(-26) }),
    )
    .await;
    let action = Uuid::new_v4();
    ok(
        &director,
        &format!("{base}/acties"),
        json!({ "actieId": action, "doelId": goal, "organisatie": SCHOOL, "omschrijving": "Taalgroep in groep 1.", "deadline": d(30), "toegewezenOp": d(-26) }),
    )
    .await;

    // The director: the whole plan, the consents with their state.
    let seen: CaseView = director.get(&base).await.unwrap();
    assert_eq!(seen.toegang, Access::Regie);
    assert_eq!(seen.gezinsleden.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        seen.sterke_punten,
        Some(vec!["Betrokken grootouders".to_owned()])
    );
    let consents = seen
        .toestemmingen
        .as_ref()
        .expect("the director sees the consents");
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].status, "geldig");
    let caseload: Caseload = director.get("/v1/casussen").await.unwrap();
    assert!(caseload.casussen.iter().any(|c| c.casus_id == case));

    // The consented school: exactly the consented parts.
    let seen: CaseView = teacher.get(&base).await.unwrap();
    assert_eq!(seen.toegang, Access::Toestemming);
    let mut parts = seen.zichtbare_onderdelen.clone();
    parts.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(parts, vec![PlanPart::DoelenActies, PlanPart::Zorgen]);
    assert_eq!(seen.zorgen.as_ref().map(Vec::len), Some(1));
    assert_eq!(seen.doelen.as_ref().map(Vec::len), Some(1));
    assert!(
        seen.gezinsleden.is_none(),
        "no household without consent for it"
    );
    assert!(seen.sterke_punten.is_none());
    assert!(seen.netwerk.is_none() && seen.evaluaties.is_none() && seen.uren.is_none());
    assert!(seen.veiligheid.is_none() && seen.toestemmingen.is_none());
    let actions: OwnActions = teacher.get("/v1/casus-acties").await.unwrap();
    assert!(actions.acties.iter().any(|a| a.actie_id == action));

    // The participant without consent: only that the case exists and who directs it.
    let seen: CaseView = nurse.get(&base).await.unwrap();
    assert_eq!(seen.toegang, Access::AlleenBestaan);
    assert!(seen.zichtbare_onderdelen.is_empty());
    assert_eq!(seen.regie_organisatie, "90000002");
    assert!(seen.gezinsleden.is_none() && seen.zorgen.is_none() && seen.doelen.is_none());
    assert!(seen.sterke_punten.is_none());

    // An organisation outside the case: not found; the municipality: refused, aggregates only.
    assert_eq!(
        outsider.get::<Value>(&base).await.unwrap_err().status(),
        Some(404)
    );
    assert_eq!(
        municipality.get::<Value>(&base).await.unwrap_err().status(),
        Some(403)
    );
    let monitor: Value = municipality.get("/v1/casusmonitor").await.unwrap();
    let text = monitor.to_string();
    assert!(!text.contains(&case.to_string()) && !text.contains("Vries"));
    assert_eq!(monitor["gemeente"], "0546");
    // Participants may not change the plan.
    let e = teacher
        .post(
            &format!("{base}/zorgen"),
            &json!({ "prioriteit": "laag", "omschrijving": "x", "vastgelegdOp": d(0) }),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));

    // The parents revoke the school's consent: its next query shows only that the case exists.
    ok(
        &director,
        &format!("{base}/toestemmingen/{consent}/intrekkingen"),
        json!({ "ingetrokkenOp": d(0) }),
    )
    .await;
    let seen: CaseView = teacher.get(&base).await.unwrap();
    assert_eq!(seen.toegang, Access::AlleenBestaan);
    assert!(seen.zorgen.is_none() && seen.doelen.is_none());
    let actions: OwnActions = teacher.get("/v1/casus-acties").await.unwrap();
    assert!(actions.acties.iter().all(|a| a.casus_id != case));
    let seen: CaseView = director.get(&base).await.unwrap();
    assert_eq!(seen.toestemmingen.unwrap()[0].status, "ingetrokken");

    stack.shutdown().await;
}

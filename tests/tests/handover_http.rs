//! Both handover journeys end to end over HTTP on the real stack: the childcare location's
//! preschool form (parents informed, consent, enrolment, sent, the school's inbox, confirmed
//! once) and the primary school's PO-VO file (an advice is never lowered), with another school
//! refused at every step.

use chrono::{Days, NaiveDate, Utc};
use kansrijk_e2e::Stack;
use kansrijk_gateway::client::{Client, ClientError};
use kansrijk_proto::handover::{FileStatus, FileView, Inbox, Outbox};
use serde_json::{json, Value};
use uuid::Uuid;

fn days_ago(n: u64) -> NaiveDate {
    Utc::now().date_naive() - Days::new(n)
}

fn d(n: u64) -> String {
    days_ago(n).to_string()
}

fn status_code(e: &ClientError) -> (u16, String) {
    let p = e
        .problem()
        .cloned()
        .unwrap_or_else(|| panic!("no problem: {e}"));
    (p.status, p.code.unwrap_or_default())
}

async fn cmd(c: &Client, path: &str, body: Value) -> Result<Uuid, ClientError> {
    c.post(path, &body, None)
        .await
        .map(|r| r.accepted.stream_id)
}

fn school(code: &str) -> Value {
    json!({ "brin": &code[..4], "vestiging": &code[4..] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn preschool_and_po_vo_journeys_over_http() {
    let stack = Stack::start().await;
    let childcare = stack.client("pedagogisch-medewerker").await;
    let teacher = stack.client("leerkracht").await; // 20VF00
    let other_school = stack.client("basisschool-andere-school").await; // 15WV00
    let mentor = stack.client("mentor-vo").await; // 99ZZ00

    // ===== Preschool to school ===========================================================
    let f = cmd(
        &childcare,
        "/v1/overdrachtsformulieren",
        json!({
            "kindId": Uuid::new_v4(),
            "opgesteldOp": d(30),
            "warmeOverdrachtGewenst": true,
            "kind": { "voornaam": "Elif", "achternaam": "Bakkal",
                      "geboortedatum": (Utc::now().date_naive() - Days::new(3 * 365 + 300)).to_string() },
            "inhoud": {
                "sociaalEmotioneel": "Zoekt steun bij nieuwe situaties.",
                "taal": "Woordenschat groeit.",
                "motoriek": "Knipt en plakt zelfstandig.",
                "cognitief": "Kent kleuren en telt tot tien.",
                "interessesEnTalenten": "Bouwhoek.",
                "vve": { "programma": "Uk & Puk", "vanaf": d(500), "urenPerWeek": 16 },
                "ondersteuningsbehoeften": "Extra taalaanbod in groep 1."
            }
        }),
    )
    .await
    .expect("the childcare location drafts the form");
    let base = format!("/v1/overdrachtsdossiers/{f}");
    // A school cannot draft a preschool form.
    let e = teacher
        .post("/v1/overdrachtsformulieren", &json!({}), None)
        .await
        .expect_err("a school drafting");
    assert_eq!(e.status(), Some(403));

    cmd(
        &childcare,
        &format!("{base}/inschrijvingen"),
        json!({ "datum": d(25), "school": school("20VF00") }),
    )
    .await
    .unwrap();
    // Not before the parents were informed.
    let send = json!({ "datum": d(2), "school": school("20VF00") });
    let e = cmd(&childcare, &format!("{base}/verzendingen"), send.clone())
        .await
        .expect_err("sent before the parents were informed");
    assert_eq!(status_code(&e), (409, "ouders-niet-geinformeerd".into()));
    cmd(
        &childcare,
        &format!("{base}/informatie-ouders"),
        json!({ "datum": d(20), "wijze": "gesprek" }),
    )
    .await
    .unwrap();
    cmd(
        &childcare,
        &format!("{base}/reacties-ouders"),
        json!({ "datum": d(19), "reactie": { "akkoord": true, "toelichting": "Zij praat thuis veel over de bouwhoek." } }),
    )
    .await
    .unwrap();
    // Not without consent.
    let e = cmd(&childcare, &format!("{base}/verzendingen"), send.clone())
        .await
        .expect_err("sent without consent");
    assert_eq!(status_code(&e), (409, "geen-toestemming".into()));
    cmd(
        &childcare,
        &format!("/v1/overdrachtsformulieren/{f}/toestemmingen"),
        json!({ "datum": d(18) }),
    )
    .await
    .unwrap();
    // Not in any inbox before it was sent.
    let inbox: Inbox = teacher.get("/v1/inkomende-overdrachten").await.unwrap();
    assert!(inbox.dossiers.iter().all(|x| x.dossier_id != f));
    // Only to the school of enrolment.
    let e = cmd(
        &childcare,
        &format!("{base}/verzendingen"),
        json!({ "datum": d(2), "school": school("15WV00") }),
    )
    .await
    .expect_err("sent to another school");
    assert_eq!(status_code(&e).0, 409);
    let sent = childcare
        .post(&format!("{base}/verzendingen"), &send, None)
        .await
        .unwrap();
    assert_eq!(sent.status, 201);
    assert!(sent.views_current);

    // The school's inbox shows it at once, the child's name opened at query time.
    let inbox: Inbox = teacher
        .get("/v1/inkomende-overdrachten?soort=voorschool")
        .await
        .unwrap();
    let item = inbox
        .dossiers
        .iter()
        .find(|x| x.dossier_id == f)
        .expect("in the school's inbox");
    assert_eq!(item.afzender, "100000001");
    assert_eq!(item.kind.as_ref().unwrap().given_name, "Elif");
    let file: FileView = teacher.get(&base).await.unwrap();
    assert_eq!(file.status, FileStatus::Verzonden);
    assert_eq!(
        file.voorschool.as_ref().unwrap().language,
        "Woordenschat groeit."
    );
    // Another school: not in its inbox, cannot open or confirm it.
    let other_inbox: Inbox = other_school
        .get("/v1/inkomende-overdrachten")
        .await
        .unwrap();
    assert!(other_inbox.dossiers.iter().all(|x| x.dossier_id != f));
    let e = other_school.get::<Value>(&base).await.unwrap_err();
    assert!(matches!(e.status(), Some(403 | 404)), "{e}");
    let e = cmd(
        &other_school,
        &format!("{base}/ontvangstbevestigingen"),
        json!({ "datum": d(1) }),
    )
    .await
    .unwrap_err();
    assert!(matches!(e.status(), Some(403 | 404)), "{e}");

    // The addressed school confirms; a second confirmation is a conflict.
    cmd(
        &teacher,
        &format!("{base}/ontvangstbevestigingen"),
        json!({ "datum": d(1) }),
    )
    .await
    .unwrap();
    let e = cmd(
        &teacher,
        &format!("{base}/ontvangstbevestigingen"),
        json!({ "datum": d(0) }),
    )
    .await
    .expect_err("confirmed twice");
    assert_eq!(status_code(&e), (409, "al-bevestigd".into()));
    // The warm handover, planned by the school.
    cmd(
        &teacher,
        &format!("{base}/warme-overdrachten"),
        json!({ "datum": d(0), "deelnemers": ["pedagogisch-medewerker", "leerkracht", "ouders"] }),
    )
    .await
    .unwrap();
    // The sender's outbox follows.
    let outbox: Outbox = childcare.get("/v1/uitgaande-overdrachten").await.unwrap();
    let mine = outbox.dossiers.iter().find(|x| x.dossier_id == f).unwrap();
    assert_eq!(mine.bevestigd_op, Some(days_ago(1)));
    assert_eq!(mine.warme_overdracht_gepland_op, Some(days_ago(0)));

    // ===== Primary to secondary: an advice is never lowered ===============================
    let year = chrono::Datelike::year(&days_ago(60));
    let p = cmd(
        &teacher,
        "/v1/oso-dossiers",
        json!({
            "schooljaar": format!("{}-{}", year - 1, year),
            "aangemaaktOp": d(60),
            "leerling": { "voornaam": "Sem", "achternaam": "Jansen",
                          "geboortedatum": (Utc::now().date_naive() - Days::new(12 * 365)).to_string() },
            "inhoud": {
                "ondersteuning": "Extra begeleiding begrijpend lezen.",
                "verzuim": { "geoorloofdDagen": 5, "ongeoorloofdDagen": 0 },
                "wensOuders": "havo",
                "contactGewenst": true
            }
        }),
    )
    .await
    .unwrap();
    let oso = format!("/v1/oso-dossiers/{p}");
    let pbase = format!("/v1/overdrachtsdossiers/{p}");
    cmd(
        &teacher,
        &format!("{oso}/voorlopige-adviezen"),
        json!({ "datum": d(50), "advies": { "niveau": "vmbo-gt" } }),
    )
    .await
    .unwrap();
    cmd(
        &teacher,
        &format!("{oso}/toetsuitslagen"),
        json!({ "datum": d(30), "uitslag": { "toets": "route-8", "toetsadvies": "havo" } }),
    )
    .await
    .unwrap();
    // A higher test result: no final advice without a reconsideration.
    let e = cmd(
        &teacher,
        &format!("{oso}/definitieve-adviezen"),
        json!({ "datum": d(20), "advies": { "niveau": "vmbo-gt" } }),
    )
    .await
    .expect_err("final advice before reconsideration");
    assert_eq!(status_code(&e), (409, "heroverweging-vereist".into()));
    // A reconsideration never lowers the advice.
    let e = cmd(
        &teacher,
        &format!("{oso}/heroverwegingen"),
        json!({ "datum": d(25), "heroverweging": { "niveau": "vmbo-kb", "motivatie": "Lager." } }),
    )
    .await
    .expect_err("a lowered advice");
    let (status, code) = status_code(&e);
    assert!(matches!(status, 400 | 409), "{status} {code}");
    assert_eq!(code, "advies-verlaagd");
    cmd(
        &teacher,
        &format!("{oso}/heroverwegingen"),
        json!({ "datum": d(25), "heroverweging": { "niveau": "vmbo-gt-havo", "motivatie": "Toets en werkhouding samen gewogen." } }),
    )
    .await
    .unwrap();
    // Nor does the final advice go below the reconsidered one.
    let e = cmd(
        &teacher,
        &format!("{oso}/definitieve-adviezen"),
        json!({ "datum": d(20), "advies": { "niveau": "vmbo-gt" } }),
    )
    .await
    .expect_err("a final advice below the reconsidered one");
    let (status, code) = status_code(&e);
    assert!(matches!(status, 400 | 409), "{status} {code}");
    assert_eq!(code, "advies-verlaagd");
    cmd(
        &teacher,
        &format!("{oso}/definitieve-adviezen"),
        json!({ "datum": d(20), "advies": { "niveau": "vmbo-gt-havo" } }),
    )
    .await
    .unwrap();
    // Parents shown the file (no consent needed from PO), enrolment at the VO school, sent.
    cmd(
        &teacher,
        &format!("{pbase}/informatie-ouders"),
        json!({ "datum": d(15), "wijze": "gesprek" }),
    )
    .await
    .unwrap();
    cmd(
        &teacher,
        &format!("{pbase}/inschrijvingen"),
        json!({ "datum": d(10), "school": school("99ZZ00") }),
    )
    .await
    .unwrap();
    cmd(
        &teacher,
        &format!("{pbase}/verzendingen"),
        json!({ "datum": d(5), "school": school("99ZZ00") }),
    )
    .await
    .unwrap();
    let inbox: Inbox = mentor
        .get("/v1/inkomende-overdrachten?soort=po-vo")
        .await
        .unwrap();
    assert!(inbox.dossiers.iter().any(|x| x.dossier_id == p));
    // The primary school that is not the sender cannot open it.
    let e = other_school.get::<Value>(&pbase).await.unwrap_err();
    assert!(matches!(e.status(), Some(403 | 404)), "{e}");
    cmd(
        &mentor,
        &format!("{pbase}/ontvangstbevestigingen"),
        json!({ "datum": d(4) }),
    )
    .await
    .unwrap();
    let file: FileView = mentor.get(&pbase).await.unwrap();
    assert_eq!(
        file.definitief_advies.as_ref().map(|a| a.level),
        Some(kansrijk_proto::handover::AdviceLevel::VmboGtHavo)
    );
    cmd(
        &mentor,
        &format!("{pbase}/posities-leerjaar-3"),
        json!({ "datum": d(0), "positie": "boven" }),
    )
    .await
    .unwrap();
    // The year-3 position flows back to the primary school's outbox.
    let outbox: Outbox = teacher
        .get("/v1/uitgaande-overdrachten?soort=po-vo")
        .await
        .unwrap();
    let mine = outbox.dossiers.iter().find(|x| x.dossier_id == p).unwrap();
    assert_eq!(
        mine.positie_leerjaar3,
        Some(kansrijk_proto::handover::Year3Position::Boven)
    );

    stack.shutdown().await;
}

//! The privacy officer: the register of requests (an open, overdue erasure request executed),
//! erasure refused under a legal hold, erasure, access log, subject access.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{officer, Services, Stack, SERIAL};

async fn subject_with_key(stack: &Stack) -> Uuid {
    let subject = Uuid::new_v4();
    let _: Value = stack
        .request(
            "kansrijk.privacy.keys.create",
            &kansrijk_runtime::identity::service_actor(
                "vve",
                kansrijk_runtime::config::DEFAULT_OIN,
            ),
            &json!({ "subject": subject, "subjectKind": "kind", "municipality": "0546" }),
        )
        .await
        .expect("a key for the subject");
    subject
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_officer_journey() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start("privacyfunctionaris", Services::default()).await;
    let held = subject_with_key(&s).await;
    let free = subject_with_key(&s).await;
    let _: Value = s
        .request(
            "kansrijk.cmd.privacy.bewaarplicht-opleggen",
            &officer(),
            &json!({ "subject": held, "reason": "veilig-thuis-melding" }),
        )
        .await
        .expect("a legal hold");

    // The parents' erasure request, received 40 days ago: past its one-month deadline.
    let asked = subject_with_key(&s).await;
    let received = chrono::Utc::now().date_naive() - chrono::Days::new(40);
    let filed: Value = s
        .request(
            "kansrijk.cmd.privacy.verwijderverzoek-indienen",
            &officer(),
            &json!({ "subject": asked, "requester": "ouder", "receivedOn": received.to_string() }),
        )
        .await
        .expect("an erasure request");
    let request_id = filed["streamId"].as_str().unwrap().to_owned();

    s.login("privacyfunctionaris").await;
    s.assert_text("Karin (functionaris gegevensbescherming)")
        .await;
    s.assert_text("Ontwikkelomgeving").await;

    // The first screen: the open request, overdue, with who asked; executing it erases.
    s.wait_for("#verwijderverzoeken").await;
    s.assert_text("Verzoeken van betrokkenen").await;
    let row = s.text(&format!("tr[data-verzoek='{request_id}']")).await;
    assert!(
        row.contains("Termijn verstreken")
            && row.contains("Ouder")
            && row.contains(&asked.to_string()),
        "{row}"
    );
    s.assert_text("Laatste registraties in het toegangslog")
        .await;
    s.check("verzoeken").await;
    s.nav(&format!(
        "tr[data-verzoek='{request_id}'] form.inline-form button[type='submit']"
    ))
    .await;
    s.wait_for(".notice-success").await;
    s.assert_text("Het verwijderverzoek is uitgevoerd").await;
    s.assert_text("Recent afgehandeld").await;
    s.check("verzoek-uitgevoerd").await;

    s.nav("a[href='/privacy/wissen']").await;
    s.wait_for("form[action='/privacy/wissen']").await;
    s.check("wissen-formulier").await;

    // Every error at once, next to its field and in the summary.
    s.fill("#betrokkene", "123456789").await;
    s.nav("form[action='/privacy/wissen'] button[type='submit']")
        .await;
    s.wait_for("#foutenoverzicht").await;
    s.assert_text("Er zijn 3 fouten gevonden").await;
    assert!(s.text("#betrokkene-fout").await.contains("UUID"));
    let described = s
        .wait_for("#betrokkene")
        .await
        .attr("aria-describedby")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(described.contains("betrokkene-fout"), "{described}");
    s.check("wissen-fouten").await;

    // Under a legal hold: refused, plainly.
    s.fill("#betrokkene", &held.to_string()).await;
    s.select("#grondslag", "verzoek-betrokkene").await;
    s.click("#bevestiging-0").await;
    s.nav("form[action='/privacy/wissen'] button[type='submit']")
        .await;
    s.wait_for("#bewaarplicht").await;
    s.assert_text("Wissen geweigerd: er geldt een bewaarplicht")
        .await;
    s.check("wissen-geweigerd-bewaarplicht").await;

    // Without a hold: erased, and the officer sees it.
    s.fill("#betrokkene", &free.to_string()).await;
    s.select("#grondslag", "verzoek-betrokkene").await;
    s.click("#bevestiging-0").await;
    s.nav("form[action='/privacy/wissen'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text(&format!("Betrokkene {free} is gewist")).await;
    s.check("wissen-gelukt").await;

    // A double submit of the same form (same command id) is harmless: the first result.
    // (The form was replaced by a fresh one after the redirect; nothing to resend.)

    // Access log: the refusal and the erasure are there.
    s.nav("a[href='/privacy/toegangslog']").await;
    s.wait_for("form[action='/privacy/toegangslog']").await;
    s.check("toegangslog").await;
    s.fill("#betrokkene", &held.to_string()).await;
    s.nav("button[name='zoeken']").await;
    s.wait_for("table caption").await;
    let log = s.text("table").await;
    assert!(
        log.contains("Verwijderen") && log.contains("Mislukt"),
        "the refused erasure is logged:\n{log}"
    );
    s.check("toegangslog-gezocht").await;
    assert!(
        !s.browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("bsn"),
        "no personal data in the URL"
    );

    // Subject access: readable, and the JSON download.
    s.nav("a[href='/privacy/inzage']").await;
    s.wait_for("form[action='/privacy/inzage']").await;
    s.check("inzage-formulier").await;
    s.fill("#betrokkene", &held.to_string()).await;
    s.nav("form[action='/privacy/inzage'] button[type='submit']")
        .await;
    s.wait_for("#overzicht-titel").await;
    s.assert_text("Bewaarplicht").await;
    s.assert_text("veilig-thuis-melding").await;
    s.check("inzage-overzicht").await;
    let (status, disposition, body) = s
        .fetch_form("form[action='/privacy/inzage/download']")
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(disposition.contains("attachment"), "{disposition}");
    let doc: Value = serde_json::from_str(&body).expect("the download is JSON");
    assert_eq!(doc["subject"], json!(held));

    // A form without the session's CSRF token is refused.
    let (status, _, _) = s
        .post_as_browser(
            "/privacy/wissen",
            &[
                ("csrf".into(), "vals".into()),
                ("betrokkene".into(), held.to_string()),
                ("grondslag".into(), "verzoek-betrokkene".into()),
                ("bevestiging".into(), "ja".into()),
            ],
        )
        .await;
    assert_eq!(status, 403);

    s.nav("form.logout button").await;
    s.wait_for("a[href='/inloggen']").await;
    s.assert_text("U bent uitgelogd.").await;
    s.check("uitgelogd").await;
    s.finish().await;
}

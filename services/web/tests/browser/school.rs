//! Primary school: a preschool file sent with the parents' consent arrives in the inbox; the
//! teacher opens it, confirms receipt and records the warm handover.

use chrono::{Days, Utc};

use crate::harness::{Services, Stack, SERIAL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_school_journey() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start(
        "basisschool",
        Services {
            handover: true,
            ..Services::default()
        },
    )
    .await;
    let today = Utc::now().date_naive();
    let day = |n: u64| (today - Days::new(n)).to_string();
    // --- Childcare: the preschool file, the parents, consent, enrolment, sending -------------
    s.set_journey("kinderopvang-overdracht");
    s.login("pedagogisch-medewerker").await;
    s.nav("a[href='/kinderopvang/overdrachten']").await;
    s.wait_for("form[action='/kinderopvang/overdrachten']")
        .await;
    s.check("overdrachten-leeg").await;
    s.nav("form[action='/kinderopvang/overdrachten'] button[type='submit']")
        .await;
    s.wait_for("#foutenoverzicht").await;
    s.check("formulier-fouten").await;
    s.fill("#f-voornaam", "Elif").await;
    s.fill("#f-achternaam", "Demo").await;
    s.set_value(
        "#f-geboortedatum",
        &(today - Days::new(3 * 365 + 300)).to_string(),
    )
    .await;
    s.fill(
        "#f-sociaal",
        "Zoekt steun bij de leidster bij nieuwe situaties.",
    )
    .await;
    s.fill("#f-taal", "Woordenschat groeit.").await;
    s.fill("#f-motoriek", "Knipt en plakt zelfstandig.").await;
    s.fill("#f-cognitief", "Kent kleuren en telt tot tien.")
        .await;
    s.fill("#f-interesses", "Bouwhoek, prentenboeken.").await;
    s.fill("#f-ondersteuning", "Extra taalaanbod in groep 1.")
        .await;
    s.select("#f-warm", "ja").await;
    s.set_value("#f-datum", &day(10)).await;
    s.nav("form[action='/kinderopvang/overdrachten'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("Het overdrachtsformulier is opgesteld").await;
    s.check("formulier-opgesteld").await;
    // Sending before the parents saw it is refused with the service's reason.
    // The school is chosen from the registry's primary schools.
    s.select("#vz-school", "20VF00").await;
    s.nav("form[action$='/verzenden'] button[type='submit']")
        .await;
    s.wait_for("#foutmelding").await;
    s.check("verzenden-geweigerd").await;
    s.set_value("#inf-datum", &day(8)).await;
    s.select("#inf-wijze", "gesprek").await;
    s.nav("form[action$='/ouders-informeren'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.select("#re-akkoord", "ja").await;
    s.fill("#re-tekst", "Elif praat thuis veel over de bouwhoek.")
        .await;
    s.nav("form[action$='/reactie-ouders'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.set_value("#ts-datum", &day(7)).await;
    s.nav("form[action$='/toestemming'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("toestemming van de ouders is vastgelegd")
        .await;
    s.set_value("#in-datum", &day(6)).await;
    s.select("#in-school", "20VF00").await;
    s.nav("form[action$='/inschrijving'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    // The enrolment school is preselected for sending.
    let chosen = s
        .browser
        .execute("return document.querySelector('#vz-school').value;", vec![])
        .await
        .unwrap();
    assert_eq!(chosen, serde_json::json!("20VF00"));
    s.nav("form[action$='/verzenden'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("verzonden naar de school").await;
    s.check("verzonden").await;
    s.nav("form.logout button").await;
    s.wait_for("a[href='/inloggen']").await;

    // --- Primary school -------------------------------------------------------------------
    s.set_journey("basisschool");
    s.login("leerkracht").await;
    s.wait_for("h1").await;
    for _ in 0..25 {
        if s.page_text().await.contains("Elif Demo") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        s.goto("/school").await;
    }
    s.assert_text("Elif Demo").await;
    s.assert_text("Nog bevestigen").await;
    s.check("inbox").await;
    s.nav("a[href^='/school/dossier/']").await;
    s.wait_for("form[action$='/ontvangst']").await;
    s.assert_text("Bouwhoek, prentenboeken.").await;
    s.check("dossier").await;
    s.nav("form[action$='/ontvangst'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De ontvangst is bevestigd").await;
    s.check("ontvangst-bevestigd").await;
    // Warm handover without participants: the error is at the participants.
    s.nav("form[action$='/warme-overdracht'] button[type='submit']")
        .await;
    s.wait_for("#wo-deelnemers-fout").await;
    s.check("warme-overdracht-fout").await;
    s.click("#wo-deelnemers-1").await;
    s.click("#wo-deelnemers-3").await;
    s.nav("form[action$='/warme-overdracht'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De warme overdracht is vastgelegd").await;
    s.check("warme-overdracht").await;
    s.nav("a[href='/school']").await;
    s.wait_for("table caption").await;
    s.assert_text("Bevestigd").await;
    s.check("inbox-bevestigd").await;

    // --- Primary school: a PO-VO file with advice, test result and reconsideration -------------
    s.set_journey("basisschool-po-vo");
    s.nav("a[href='/school/po-vo']").await;
    s.wait_for("form[action='/school/po-vo']").await;
    s.check("po-vo-leeg").await;
    s.fill("#o-voornaam", "Sem").await;
    s.fill("#o-achternaam", "Demo").await;
    s.set_value(
        "#o-geboortedatum",
        &(today - Days::new(12 * 365)).to_string(),
    )
    .await;
    let y = chrono::Datelike::year(&today);
    s.fill("#o-schooljaar", &format!("{}-{}", y - 1, y)).await;
    s.fill("#o-ondersteuning", "Extra begeleiding begrijpend lezen.")
        .await;
    s.fill("#o-geoorloofd", "5").await;
    s.fill("#o-ongeoorloofd", "0").await;
    s.select("#o-wens-ouders", "havo").await;
    s.select("#o-wens-leerling", "havo").await;
    s.select("#o-contact", "ja").await;
    s.set_value("#o-datum", &day(60)).await;
    s.nav("form[action='/school/po-vo'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.check("po-vo-aangemaakt").await;
    s.set_value("#va-datum", &day(50)).await;
    s.select("#va-niveau", "vmbo-gt").await;
    s.nav("form[action$='/voorlopig-advies'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.set_value("#tu-datum", &day(40)).await;
    s.fill("#tu-toets", "Doorstroomtoets").await;
    s.select("#tu-niveau", "havo").await;
    s.nav("form[action$='/toetsuitslag'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    // A final advice below the test result without reconsideration is refused.
    s.set_value("#da-datum", &day(35)).await;
    s.select("#da-niveau", "vmbo-gt").await;
    s.nav("form[action$='/definitief-advies'] button[type='submit']")
        .await;
    s.wait_for("#foutmelding").await;
    s.check("definitief-advies-geweigerd").await;
    s.set_value("#hw-datum", &day(36)).await;
    s.select("#hw-niveau", "havo").await;
    s.fill(
        "#hw-motivatie",
        "De toets bevestigt het beeld van de laatste maanden.",
    )
    .await;
    s.nav("form[action$='/heroverweging'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.set_value("#da-datum", &day(35)).await;
    s.select("#da-niveau", "havo").await;
    s.nav("form[action$='/definitief-advies'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("Het definitief advies is gegeven").await;
    s.check("definitief-advies").await;
    s.set_value("#pinf-datum", &day(30)).await;
    s.select("#pinf-wijze", "gesprek").await;
    s.nav("form[action$='/ouders-informeren'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.set_value("#pin-datum", &day(25)).await;
    // Only the registry's secondary schools are offered.
    let offered = s
        .browser
        .execute(
            "return Array.from(document.querySelectorAll('#pin-school option')).map(o => o.value).filter(v => v);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered, serde_json::json!(["99ZZ00"]));
    s.select("#pin-school", "99ZZ00").await;
    s.nav("form[action$='/inschrijving'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.set_value("#pvz-datum", &day(20)).await;
    s.select("#pvz-school", "99ZZ00").await;
    s.nav("form[action$='/verzenden'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("verzonden naar de VO-school").await;
    s.check("po-vo-verzonden").await;
    s.nav("form.logout button").await;
    s.wait_for("a[href='/inloggen']").await;

    // --- Secondary school: inbox, acknowledgement, year-3 position ----------------------------
    s.set_journey("voortgezet-onderwijs");
    s.login("mentor-vo").await;
    s.wait_for("h1").await;
    for _ in 0..25 {
        if s.page_text().await.contains("Sem Demo") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        s.goto("/school").await;
    }
    s.assert_text("Sem Demo").await;
    s.check("inbox").await;
    s.nav("a[href^='/school/dossier/']").await;
    s.wait_for("form[action$='/ontvangst']").await;
    s.assert_text("havo").await;
    s.check("dossier").await;
    s.nav("form[action$='/ontvangst'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.select("#pos-positie", "op").await;
    s.nav("form[action$='/positie'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De positie in leerjaar 3 is gemeld").await;
    s.check("positie-leerjaar-3").await;
    s.finish().await;
}

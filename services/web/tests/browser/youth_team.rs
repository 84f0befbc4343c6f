//! Youth team: the case director opens a case, records a concern and a goal, registers hours,
//! and sees the plan and the caseload.

use crate::harness::{Services, Stack, SERIAL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn youth_team_journey() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start(
        "jeugdteam",
        Services {
            casework: true,
            ..Services::default()
        },
    )
    .await;
    s.login("regisseur").await;
    s.wait_for("h1").await;
    s.assert_text("Mijn caseload").await;
    s.check("caseload-leeg").await;
    // Every error at once.
    s.nav("form[action='/jeugdteam/casus-openen'] button[type='submit']")
        .await;
    s.wait_for("#foutenoverzicht").await;
    s.check("casus-openen-fouten").await;
    // The district is chosen from the registry's districts of the municipality.
    s.select("#open-wijk", "Leiden-Noord").await;
    s.fill("#ouder-voornaam", "Sara").await;
    s.fill("#ouder-achternaam", "Demo").await;
    s.fill("#kind-voornaam", "Milan").await;
    s.fill("#kind-achternaam", "Demo").await;
    let birth = (chrono::Utc::now().date_naive() - chrono::Months::new(60)).to_string();
    s.set_value("#kind-geboortedatum", &birth).await;
    s.nav("form[action='/jeugdteam/casus-openen'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De casus is geopend").await;
    s.check("casus-geopend").await;
    s.fill("#zorg-omschrijving", "Onrustig slapen, moeder overbelast.")
        .await;
    s.select("#zorg-prioriteit", "hoog").await;
    s.nav("form[action$='/zorg'] button[type='submit']").await;
    s.wait_for(".notice-success").await;
    s.assert_text("Onrustig slapen").await;
    s.check("zorg-vastgelegd").await;
    s.fill(
        "#doel-omschrijving",
        "Vast slaapritueel, drie avonden per week hulp van oma.",
    )
    .await;
    let target = (chrono::Utc::now().date_naive() + chrono::Months::new(3)).to_string();
    s.set_value("#doel-streefdatum", &target).await;
    s.nav("form[action$='/doel'] button[type='submit']").await;
    s.wait_for(".notice-success").await;
    s.assert_text("Vast slaapritueel").await;
    s.check("doel-gesteld").await;
    // An action for the goal, assigned to the youth team itself.
    s.browser
        .execute(
            "document.querySelector('#actie-doel').selectedIndex = 1;",
            vec![],
        )
        .await
        .unwrap();
    s.fill("#actie-omschrijving", "Slaapdagboek bijhouden met moeder.")
        .await;
    let deadline = (chrono::Utc::now().date_naive() + chrono::Months::new(1)).to_string();
    s.set_value("#actie-deadline", &deadline).await;
    s.nav("form[action$='/actie'] button[type='submit']").await;
    s.wait_for(".notice-success").await;
    s.assert_text("De actie is toegewezen").await;
    s.assert_text("Slaapdagboek bijhouden").await;
    s.check("actie-toegewezen").await;
    s.nav("form[action$='/plan'] button[type='submit']").await;
    s.wait_for(".notice-success").await;
    s.assert_text("Het plan is vastgesteld").await;
    let review = (chrono::Utc::now().date_naive() + chrono::Months::new(7)).to_string();
    s.set_value("#eval-datum", &review).await;
    s.nav("form[action$='/evaluatie'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De evaluatie is gepland").await;
    s.check("evaluatie-gepland").await;
    // JGZ joins; the parents consent to the goals and actions; later they revoke it.
    s.fill("#dn-organisatie", "00000001000000001001").await;
    s.select("#dn-type", "jgz").await;
    s.nav("form[action$='/deelnemer'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De deelnemer is toegevoegd").await;
    s.fill("#tst-organisatie", "00000001000000001001").await;
    s.click("#tst-onderdelen-4").await;
    let until = (chrono::Utc::now().date_naive() + chrono::Months::new(6)).to_string();
    s.set_value("#tst-tot", &until).await;
    s.select("#tst-door", "ouders").await;
    s.nav("form[action$='/toestemming'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De toestemming is vastgelegd").await;
    s.check("toestemming-vastgelegd").await;
    s.browser
        .execute(
            "document.querySelector('#tin-id').selectedIndex = 1;",
            vec![],
        )
        .await
        .unwrap();
    s.nav("form[action$='/intrekken'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De toestemming is ingetrokken").await;
    s.check("toestemming-ingetrokken").await;
    s.fill("#uren-minuten", "90").await;
    s.select("#uren-soort", "regie").await;
    s.nav("form[action$='/uren'] button[type='submit']").await;
    s.wait_for(".notice-success").await;
    s.check("uren-geregistreerd").await;
    s.nav("a[href='/jeugdteam']").await;
    s.wait_for("table caption").await;
    s.assert_text("Gezin Sara Demo, Milan Demo").await;
    s.assert_text("1.5 / 10").await;
    s.check("caseload").await;
    s.finish().await;
}

//! JGZ, childcare and the municipality on one stack (privacy, vve-reach, the VVE views): the
//! nurse registers a child, indicates, refers and records outreach; the childcare worker accepts
//! the referral and places the child; the policy advisor reads the quarterly dashboard and
//! downloads the exports.

use chrono::{Months, Utc};

use crate::harness::{Services, Stack, SERIAL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jgz_childcare_and_municipality_journeys() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start(
        "jgz",
        Services {
            vve: true,
            handover: true,
            casework: true,
        },
    )
    .await;
    let birth = (Utc::now().date_naive() - Months::new(34)).to_string();
    let today = Utc::now().date_naive().to_string();

    // --- JGZ -------------------------------------------------------------------------------
    s.login("jgz-verpleegkundige").await;
    s.wait_for("h1").await;
    s.assert_text("Werklijst VVE").await;
    s.check("werklijst-leeg").await;
    s.nav("main a[href='/jgz/kind-inschrijven']").await;
    s.wait_for("form[action='/jgz/kind-inschrijven']").await;
    s.check("inschrijven-formulier").await;
    // Every error at once: an invalid BSN (11-proef) and the missing fields.
    s.fill("#bsn", "123456789").await;
    s.nav("form[action='/jgz/kind-inschrijven'] .actions button[type='submit']")
        .await;
    s.wait_for("#foutenoverzicht").await;
    s.assert_text("elfproef").await;
    s.assert_text("Er zijn 6 fouten gevonden").await;
    s.check("inschrijven-fouten").await;
    // The district is a choice of the registry's districts of Leiden, nothing typed.
    let offered = s
        .browser
        .execute(
            "return Array.from(document.querySelectorAll('select#wijk option')).map(o => o.value).filter(v => v);",
            vec![],
        )
        .await
        .unwrap();
    let offered: Vec<String> = serde_json::from_value(offered).unwrap();
    assert!(
        offered.contains(&"Bos- en Gasthuisdistrict".to_owned())
            && offered.contains(&"Binnenstad-Noord".to_owned())
            && offered.len() == 11,
        "Leiden's districts from the registry: {offered:?}"
    );
    assert!(!offered.contains(&"Voorburg".to_owned()), "{offered:?}");
    s.fill("#bsn", "111222333").await;
    s.fill("#voornaam", "Noa").await;
    s.fill("#achternaam", "Demo").await;
    s.set_value("#geboortedatum", &birth).await;
    s.fill("#postcode", "2311 AB").await;
    s.fill("#huisnummer", "12").await;
    // The postcode proposes the district ("wijk voorstellen", a round trip without script):
    // the registry's postcode table (filled by the CBS import; here one row) says where 2311 AB
    // lies, and the form preselects it.
    let registry = s._db.pool("registry").await;
    let report = kansrijk_gateway::registry::import::import(
        &registry,
        &kansrijk_gateway::registry::import::ImportOptions::new(
            kansrijk_gateway::registry::import::ImportKind::Postcodes,
            "0546",
        ),
        b"postcode;huisnummer;wijknaam;gemeentecode\n2311AB;;Binnenstad-Noord;0546\n",
    )
    .await
    .expect("the postcode table imports");
    assert!(format!("{report:?}").contains("Postcodes"), "{report:?}");
    s.nav("button[name='actie'][value='wijk-voorstellen']")
        .await;
    s.wait_for("select#wijk").await;
    assert_eq!(
        s.browser
            .execute("return document.querySelector('#voornaam').value;", vec![])
            .await
            .unwrap(),
        serde_json::json!("Noa"),
        "the form keeps what was typed"
    );
    s.assert_text("hoort volgens het register de wijk Binnenstad-Noord")
        .await;
    assert_eq!(
        s.browser
            .execute(
                "return document.querySelector('select#wijk').value;",
                vec![]
            )
            .await
            .unwrap(),
        serde_json::json!("Binnenstad-Noord"),
        "the proposal is preselected"
    );
    s.check("wijk-voorgesteld").await;
    s.select("#wijk", "Binnenstad-Noord").await;
    let submitted = s.form_pairs("form[action='/jgz/kind-inschrijven']").await;
    s.nav("form[action='/jgz/kind-inschrijven'] .actions button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("Het kind is ingeschreven").await;
    s.check("kind-ingeschreven").await;
    let child_url = s.browser.current_url().await.unwrap().path().to_owned();
    assert!(child_url.starts_with("/jgz/kind/"), "{child_url}");
    assert!(!child_url.contains("111222333"), "no BSN in the URL");
    // The same form sent again (a double submit: same command id) registers nothing new and
    // leads to the same child.
    let (status, location, _) = s.post_as_browser("/jgz/kind-inschrijven", &submitted).await;
    assert_eq!(
        (status, location.as_str()),
        (303, child_url.as_str()),
        "a double submit is answered with the first result"
    );

    // Indicate without criteria: the error sits at the criteria.
    s.nav("form[action$='/indiceren'] button[type='submit']")
        .await;
    s.wait_for("#ind-criteria-fout").await;
    s.check("indicatie-fout").await;
    s.click("#ind-criteria-0").await;
    s.nav("form[action$='/indiceren'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De VVE-indicatie is afgegeven").await;
    s.assert_text("Nog niet benaderd").await;
    s.check("indicatie-afgegeven").await;

    s.fill("#toel-datum", "").await;
    s.set_value("#toel-datum", &today).await;
    s.select("#toel-kanaal", "telefoon").await;
    s.select("#toel-uitkomst", "bereikt").await;
    s.nav("form[action$='/toeleiding'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    // The referral offers the registry's VVE locations of Leiden (not the location without VVE),
    // searchable by district and name; nothing is typed.
    let lrks = |s: &Stack| {
        let b = s.browser.clone();
        async move {
            let v = b
                .execute(
                    "return Array.from(document.querySelectorAll(\"input[name='verw-locaties']\")).map(i => i.value);",
                    vec![],
                )
                .await
                .unwrap();
            serde_json::from_value::<Vec<String>>(v).unwrap()
        }
    };
    let all = lrks(&s).await;
    assert!(
        all.contains(&"100000001".to_owned()) && all.contains(&"100000002".to_owned()),
        "{all:?}"
    );
    assert!(!all.contains(&"100000003".to_owned()), "no VVE: {all:?}");
    s.assert_text("Peuteropvang De Boomhut (demo), Leiden-Noord (LRK 100000001)")
        .await;
    s.select("#verw-wijk", "Morsdistrict").await;
    s.nav("form[role='search'] button[type='submit']").await;
    s.wait_for("form[action$='/doorverwijzen']").await;
    let in_mors = lrks(&s).await;
    assert!(in_mors.contains(&"100000002".to_owned()), "{in_mors:?}");
    assert!(!in_mors.contains(&"100000001".to_owned()), "{in_mors:?}");
    s.select("#verw-wijk", "").await;
    s.fill("#verw-zoek", "boomhut").await;
    s.nav("form[role='search'] button[type='submit']").await;
    s.wait_for("form[action$='/doorverwijzen']").await;
    assert_eq!(lrks(&s).await, ["100000001"]);
    s.check("doorverwijzen-zoeken").await;
    // Nothing chosen: the error sits at the locations.
    s.nav("form[action$='/doorverwijzen'] button[type='submit']")
        .await;
    s.wait_for("#verw-locaties-fout").await;
    s.check("doorverwijzen-fout").await;
    s.click("input[name='verw-locaties'][value='100000001']")
        .await;
    s.nav("form[action$='/doorverwijzen'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("Het kind is doorverwezen").await;
    s.assert_text("100000001").await;
    s.check("doorverwezen").await;
    // The referral is stored with the chosen location's LRK number.
    let jgz = kansrijk_proto::actor::Actor {
        person: "test-nurse".into(),
        organisation: "00000001000000001001".into(),
        organisation_type: kansrijk_proto::actor::OrganisationType::Jgz,
        role: "jeugdverpleegkundige".into(),
        municipality: "0546".into(),
        purpose: kansrijk_proto::actor::Purpose::Zorgverlening,
    };
    let worklist: serde_json::Value = s
        .request("kansrijk.qry.vve.werklijst", &jgz, &serde_json::json!({}))
        .await
        .expect("the worklist");
    let noa = worklist["kinderen"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["voornaam"] == "Noa")
        .expect("Noa on the worklist")
        .clone();
    assert_eq!(noa["verwijzingen"][0]["lrk"], "100000001", "{noa}");
    assert_eq!(noa["wijk"], "Binnenstad-Noord", "{noa}");
    s.nav("a[href='/jgz/werklijst']").await;
    s.wait_for("table caption").await;
    s.assert_text("Noa Demo").await;
    s.check("werklijst").await;
    s.nav("form.logout button").await;
    s.wait_for("a[href='/inloggen']").await;

    // --- Childcare --------------------------------------------------------------------------
    s.set_journey("kinderopvang");
    s.login("pedagogisch-medewerker").await;
    s.wait_for("h1").await;
    s.assert_text("Noa Demo").await;
    s.check("overzicht-verwijzing").await;
    s.nav("a[href*='/verwijzing/']").await;
    s.wait_for("form[action$='/accepteren']").await;
    s.check("verwijzing").await;
    s.nav("form[action$='/accepteren'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De verwijzing is geaccepteerd").await;
    s.check("geaccepteerd").await;
    s.nav("a[href*='/verwijzing/']").await;
    s.wait_for("form[action$='/plaatsen']").await;
    s.fill("#pl-uren", "50").await;
    s.nav("form[action$='/plaatsen'] button[type='submit']")
        .await;
    s.wait_for("#pl-uren-fout").await;
    s.assert_text("van 0 tot en met 40").await;
    s.check("plaatsen-fout").await;
    s.fill("#pl-uren", "16").await;
    s.nav("form[action$='/plaatsen'] button[type='submit']")
        .await;
    s.wait_for(".notice-success").await;
    s.assert_text("De plaatsing is gestart").await;
    s.check("geplaatst").await;
    s.nav("a[href*='/plaatsing/']").await;
    s.wait_for("form[action$='/uren']").await;
    s.fill("#uw-uren", "12").await;
    s.nav("form[action$='/uren'] button[type='submit']").await;
    s.wait_for(".notice-success").await;
    s.check("uren-gewijzigd").await;
    s.nav("form.logout button").await;
    s.wait_for("a[href='/inloggen']").await;

    // --- Municipality -----------------------------------------------------------------------
    // A small demo municipality (the vve crate's generator) so the figures are not all
    // suppressed, loaded through the real commands.
    let mut demo = kansrijk_vve_reach::demo::DemoConfig::leiden(7, Utc::now().date_naive());
    demo.births_per_year = 400;
    demo.years_of_births = 3;
    kansrijk_vve_reach::demo::load_demo(&s.nats, &demo, 4)
        .await
        .expect("demo data loads");
    let advisor = kansrijk_proto::actor::Actor {
        person: "test-advisor".into(),
        organisation: "00000001000000546000".into(),
        organisation_type: kansrijk_proto::actor::OrganisationType::Gemeente,
        role: "beleidsadviseur".into(),
        municipality: "0546".into(),
        purpose: kansrijk_proto::actor::Purpose::Beleidsmonitoring,
    };
    kansrijk_runtime::testing::eventually(
        std::time::Duration::from_secs(60),
        "the monitor to show the demo",
        || {
            let (s, advisor) = (&s, &advisor);
            async move {
                let r: Result<serde_json::Value, _> = s
                    .request("kansrijk.qry.vve.monitor", advisor, &serde_json::json!({}))
                    .await;
                let r = r.ok()?;
                (r["geindiceerd"].as_u64().unwrap_or(0) > 20).then_some(())
            }
        },
    )
    .await;
    s.set_journey("gemeente");
    s.login("beleidsadviseur").await;
    s.wait_for("h1").await;
    s.assert_text("VVE-monitor").await;
    s.wait_for("figure.chart svg[role='img']").await;
    s.assert_text("Overdrachten").await;
    s.assert_text("1 gezin 1 plan").await;
    s.check("dashboard").await;
    let (status, disposition, body) = s
        .get_as_browser(&format!(
            "/gemeente/export?jaar={}&kwartaal={}&formaat=csv",
            chrono::Datelike::year(&Utc::now().date_naive()),
            (chrono::Datelike::month(&Utc::now().date_naive()) - 1) / 3 + 1
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(disposition.contains(".csv"), "{disposition}");
    assert!(!body.contains("Noa"), "aggregates only");
    s.finish().await;
}

//! The partner registry on real PostgreSQL, its NATS queries and the sociale kaart over HTTP.

use std::path::PathBuf;
use std::time::Duration;

use kansrijk_gateway::registry::{self, ImportKind, ImportOptions, ImportReport, RowIssue, Sector};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_runtime::testing::TestDb;
use serde_json::{json, Value};

use crate::common::{Options, TestApp};

fn leiden_csv() -> PathBuf {
    // The repository's copy of the published list.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vve-reach/data/leiden-basisscholen.csv")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/registry")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn import_fixture(pool: &sqlx::PgPool, kind: ImportKind, name: &str) -> ImportReport {
    registry::import(pool, &ImportOptions::new(kind, "0546"), &fixture(name))
        .await
        .unwrap()
}

/// Every `updated_at` of the registry's tables, to prove a re-import writes nothing.
async fn updated_ats(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT t || ':' || k || ':' || u::text FROM ( \
           SELECT 'school' AS t, brin || vestiging AS k, updated_at AS u FROM schools \
           UNION ALL SELECT 'lrk', lrk, updated_at FROM childcare_locations \
           UNION ALL SELECT 'pc', postcode || '-' || COALESCE(house_number, 0), updated_at \
             FROM postcode_districts) x ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_leiden_schools_import_as_published_with_a_clear_report() {
    let db = TestDb::new().await;
    let pool = registry::connect(&db.url, 2).await.unwrap();
    let report = registry::import_schools_file(&pool, &leiden_csv(), "0546", Sector::Po)
        .await
        .unwrap();
    let text = report.to_string();
    assert_eq!(report.rows, 27, "{text}");
    assert_eq!(report.inserted, 24, "{text}");
    assert!(report.applied, "{text}");
    // BRIN 17MJ twice without a vestiging: a conflict, both rows reported, neither imported.
    let conflicts: Vec<&RowIssue> = report.conflicts().collect();
    assert_eq!(conflicts.len(), 2, "{text}");
    assert!(conflicts.iter().all(|r| r.key == "17MJ"));
    assert_eq!(
        conflicts.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![4, 24]
    );
    // The `#N/B` district: rejected with the reason.
    let rejected: Vec<&RowIssue> = report.rejected().collect();
    assert_eq!(rejected.len(), 1, "{text}");
    assert_eq!(rejected[0].key, "15IC");
    assert_eq!(rejected[0].line, 12);
    assert!(rejected[0].reasons[0].contains("#N/B"));
    assert!(
        text.contains("regel 4 (17MJ De Springplank): conflict"),
        "{text}"
    );
    assert!(text.contains("vestiging 00"), "{text}");

    // A score of 0 is imported as 0, not as missing.
    let (score,): (Option<f64>,) = sqlx::query_as(
        "SELECT school_score::float8 FROM schools WHERE brin = '04PN' AND vestiging = '00'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(score, Some(0.0));
    let (n17mj,): (i64,) = sqlx::query_as("SELECT count(*) FROM schools WHERE brin = '17MJ'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n17mj, 0);

    // Importing again changes nothing, and says so.
    let before = updated_ats(&pool).await;
    let again = registry::import_schools_file(&pool, &leiden_csv(), "0546", Sector::Po)
        .await
        .unwrap();
    assert_eq!(
        (again.inserted, again.updated, again.unchanged),
        (0, 0, 24),
        "{again}"
    );
    assert!(again.to_string().contains("(0 gewijzigd)"), "{again}");
    assert_eq!(updated_ats(&pool).await, before);
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM schools")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 24);

    // An unknown municipality is refused as a whole.
    assert!(
        registry::import_schools_file(&pool, &leiden_csv(), "9999", Sector::Po)
            .await
            .is_err()
    );
    pool.close().await;
}

#[tokio::test]
async fn every_source_imports_and_a_reimport_changes_nothing() {
    let db = TestDb::new().await;
    let pool = registry::connect(&db.url, 2).await.unwrap();

    // A dry run reports what would change and stores nothing.
    let mut dry = ImportOptions::new(ImportKind::Postcodes, "0546");
    dry.dry_run = true;
    let r = registry::import(&pool, &dry, &fixture("postcodes.csv"))
        .await
        .unwrap();
    assert_eq!((r.inserted, r.applied), (4, false), "{r}");
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM postcode_districts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);

    // Strict: reported rows mean nothing is stored.
    let mut strict = ImportOptions::new(ImportKind::Postcodes, "0546");
    strict.skip_invalid = false;
    let r = registry::import(&pool, &strict, &fixture("postcodes.csv"))
        .await
        .unwrap();
    assert!(!r.applied && r.issues.len() == 6, "{r}");

    let pc = import_fixture(&pool, ImportKind::Postcodes, "postcodes.csv").await;
    assert_eq!(
        (pc.inserted, pc.issues.len(), pc.skipped),
        (4, 6, 1),
        "{pc}"
    );
    let duo = import_fixture(&pool, ImportKind::DuoScholen, "duo-vestigingen-po.csv").await;
    assert_eq!(
        (duo.inserted, duo.issues.len(), duo.skipped),
        (4, 4, 1),
        "{duo}"
    );
    let lrk = import_fixture(&pool, ImportKind::Lrk, "lrk-export.csv").await;
    assert_eq!(
        (lrk.inserted, lrk.issues.len(), lrk.skipped),
        (2, 4, 3),
        "{lrk}"
    );

    // The districts come from the postcode table: by house number, or the whole postcode.
    let districts: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT brin || vestiging, district FROM schools ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        districts,
        vec![
            ("99XA00".into(), Some("Leiden-Noord".into())),
            ("99XA01".into(), Some("Leiden-Noord".into())),
            ("99XB00".into(), Some("Boerhaavedistrict".into())),
            ("99XE00".into(), Some("Binnenstad-Noord".into())),
        ]
    );
    let (district, vve, kind): (Option<String>, bool, Option<String>) = sqlx::query_as(
        "SELECT district, vve, location_type FROM childcare_locations WHERE lrk = '900000001'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (district.as_deref(), vve, kind.as_deref()),
        (Some("Leiden-Noord"), true, Some("KDV"))
    );

    // The same files again: 0 changed, not one updated_at moved.
    let before = updated_ats(&pool).await;
    assert_eq!(before.len(), 10);
    for (kind, name) in [
        (ImportKind::Postcodes, "postcodes.csv"),
        (ImportKind::DuoScholen, "duo-vestigingen-po.csv"),
        (ImportKind::Lrk, "lrk-export.csv"),
    ] {
        let again = import_fixture(&pool, kind, name).await;
        assert_eq!(again.changed(), 0, "{again}");
        assert!(again.to_string().contains("(0 gewijzigd)"), "{again}");
    }
    assert_eq!(updated_ats(&pool).await, before);

    // The school list adds what DUO does not have and keeps what it has (the address).
    let list = "brin,vestiging,schoolnaam,leerlingen,schoolscore_met_drempel,wijk\n\
                99XA,00,Basisschool De Voorbeeldboom (fictief),210,12.5,Leiden-Noord\n";
    let r = registry::import_schools_csv(&pool, list.as_bytes(), "0546", Sector::Po)
        .await
        .unwrap();
    assert_eq!(r.updated, 1, "{r}");
    let (pupils, address): (Option<i32>, Option<String>) = sqlx::query_as(
        "SELECT pupils, address FROM schools WHERE brin = '99XA' AND vestiging = '00'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (pupils, address.as_deref()),
        (Some(210), Some("Voorbeeldstraat 12"))
    );
    let again = import_fixture(&pool, ImportKind::DuoScholen, "duo-vestigingen-po.csv").await;
    assert_eq!(
        again.changed(),
        0,
        "DUO has no pupil counts to overwrite: {again}"
    );
    pool.close().await;
}

#[tokio::test]
async fn an_unknown_district_is_rejected_where_districts_are_known() {
    let db = TestDb::new().await;
    let pool = registry::connect(&db.url, 2).await.unwrap();
    let csv = "brin,vestiging,schoolnaam,wijk\n\
               31AB,00,School A,Voorburg\n\
               31AC,00,School B,Atlantis\n";
    let report = registry::import_schools_csv(&pool, csv.as_bytes(), "1916", Sector::Po)
        .await
        .unwrap();
    assert_eq!(report.inserted, 1);
    let rejected: Vec<&RowIssue> = report.rejected().collect();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].reasons[0].contains("geen bekende wijk"));
    pool.close().await;
}

fn actor(t: OrganisationType) -> Actor {
    Actor {
        person: "p-test".into(),
        organisation: "90000099".into(),
        organisation_type: t,
        role: "medewerker".into(),
        municipality: "0546".into(),
        purpose: Purpose::Zorgverlening,
    }
}

#[tokio::test]
async fn other_services_ask_the_registry_over_nats() {
    let app = TestApp::start(Options {
        nats: true,
        db: true,
        ..Default::default()
    })
    .await;
    let pool = app.pool.as_ref().unwrap();
    registry::seed_demo(pool).await.unwrap();
    registry::import_schools_file(pool, &leiden_csv(), "0546", Sector::Po)
        .await
        .unwrap();
    let nats = app.nats.as_ref().unwrap();
    let ask = |subject: String, body: Value, t: OrganisationType| async move {
        let headers = kansrijk_runtime::nats::request_headers(&actor(t), None, None);
        kansrijk_runtime::nats::request::<_, Value>(
            nats,
            subject,
            headers,
            &body,
            Duration::from_secs(5),
        )
        .await
    };
    let vve = registry::service::vve_location_subject();
    let r = ask(
        vve.clone(),
        json!({"lrkNummer": "100000001"}),
        OrganisationType::Jgz,
    )
    .await
    .unwrap();
    assert_eq!(r["geregistreerd"], true);
    assert_eq!(r["vve"], true);
    let r = ask(
        vve.clone(),
        json!({"lrkNummer": "100000003"}),
        OrganisationType::Jgz,
    )
    .await
    .unwrap();
    assert_eq!(
        (r["geregistreerd"].clone(), r["vve"].clone()),
        (json!(true), json!(false))
    );
    let r = ask(
        vve.clone(),
        json!({"lrkNummer": "999999999"}),
        OrganisationType::Jgz,
    )
    .await
    .unwrap();
    assert_eq!(r["geregistreerd"], false);
    let p = ask(
        vve.clone(),
        json!({"lrkNummer": "12"}),
        OrganisationType::Jgz,
    )
    .await
    .unwrap_err();
    assert_eq!(p.status, 400);
    // The service checks the policy itself.
    let p = ask(
        vve,
        json!({"lrkNummer": "100000001"}),
        OrganisationType::VoortgezetOnderwijs,
    )
    .await
    .unwrap_err();
    assert_eq!(p.status, 403);

    let school = registry::service::school_subject();
    let r = ask(
        school.clone(),
        json!({"brinVestiging": "15WV00"}),
        OrganisationType::Kinderopvang,
    )
    .await
    .unwrap();
    assert_eq!(r["geregistreerd"], true);
    assert_eq!(r["wijk"], "Leiden-Noord");
    let r = ask(
        school,
        json!({"brinVestiging": "17MJ00"}),
        OrganisationType::Kinderopvang,
    )
    .await
    .unwrap();
    assert_eq!(
        r["geregistreerd"], false,
        "the ambiguous rows were not imported"
    );
}

#[tokio::test]
async fn the_sociale_kaart_is_searchable_over_http() {
    let app = TestApp::start(Options {
        nats: true,
        db: true,
        ..Default::default()
    })
    .await;
    let pool = app.pool.as_ref().unwrap();
    registry::seed_demo(pool).await.unwrap();
    registry::import_schools_file(pool, &leiden_csv(), "0546", Sector::Po)
        .await
        .unwrap();
    let token = app.token("jgz-verpleegkundige");

    let page: Value = app
        .get("/v1/sociale-kaart?zoekterm=vve&gemeente=0546", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["resultaten"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["naam"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Peuteropvang De Boomhut (demo)"),
        "{names:?}"
    );

    let vve_only: Value = app
        .get(
            "/v1/sociale-kaart?organisatieType=kinderopvang&alleenVve=true",
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    // The demo world (seed.rs) has more VVE locations than the two of the personas.
    assert!(vve_only["totaal"].as_u64().unwrap() >= 2, "{vve_only}");
    assert!(vve_only["resultaten"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["vve"] == true));

    // Schools of a district; demo organisations that are schools appear once.
    let noord: Value = app
        .get(
            "/v1/sociale-kaart?organisatieType=basisschool&wijk=Leiden-Noord&paginaGrootte=50",
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = noord["resultaten"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.iter().filter(|i| **i == "20VF00").count(), 1, "{ids:?}");
    assert!(ids.contains(&"06UT00"), "{ids:?}");

    // Paging.
    let p2: Value = app
        .get("/v1/sociale-kaart?pagina=2&paginaGrootte=5", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p2["resultaten"].as_array().unwrap().len(), 5);
    assert_eq!(p2["pagina"], 2);

    // Every invalid parameter at once.
    let r = app
        .get(
            "/v1/sociale-kaart?organisatieType=bakker&gemeente=leiden&paginaGrootte=0",
            Some(&token),
        )
        .await;
    assert_eq!(r.status(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["invalidParams"].as_array().unwrap().len(), 3, "{p}");

    let org: Value = app
        .get("/v1/organisaties/20VF00", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org["organisatieType"], "basisschool");
    let r = app.get("/v1/organisaties/onbekend", Some(&token)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    let wijken: Value = app
        .get("/v1/gemeenten/0546/wijken", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert!(wijken
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["naam"] == "Leiden-Noord"));
    assert_eq!(
        app.get("/v1/gemeenten/9999/wijken", Some(&token))
            .await
            .status(),
        404
    );
    let school: Value = app
        .get("/v1/scholen/04PN00", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(school["geregistreerd"], true);
}

#[tokio::test]
async fn childcare_locations_import_with_their_vve_registration() {
    let db = TestDb::new().await;
    let pool = registry::connect(&db.url, 2).await.unwrap();
    registry::seed_demo(&pool).await.unwrap();
    let csv = "lrk,naam,wijk,vve,organisatie\n\
               200000001,Peuterspeelzaal De Tulp,Merenwijkdistrict,ja,\n\
               200000002,Kinderdagverblijf Het Anker,Morsdistrict,nee,100000001\n\
               200000003,Onbekende wijk,Atlantis,ja,\n\
               200000004,Onbekende organisatie,Morsdistrict,ja,99999999\n";
    let report = registry::import_childcare_csv(&pool, csv.as_bytes(), "0546")
        .await
        .unwrap();
    assert_eq!(report.inserted, 2, "{report}");
    assert_eq!(report.rejected().count(), 2, "{report}");
    let (vve,): (bool,) =
        sqlx::query_as("SELECT vve FROM childcare_locations WHERE lrk = '200000001'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(vve);
    pool.close().await;
}

#[tokio::test]
async fn the_typed_client_speaks_the_api() {
    use kansrijk_gateway::client::Client;
    use kansrijk_gateway::registry::model::{DirectoryPage, DirectorySearch};

    let app = TestApp::start(Options {
        nats: true,
        db: true,
        ..Default::default()
    })
    .await;
    registry::seed_demo(app.pool.as_ref().unwrap())
        .await
        .unwrap();
    let client = Client::dev_login(&app.base, "regisseur").await.unwrap();
    let page: DirectoryPage = client
        .sociale_kaart(&DirectorySearch {
            text: Some("casusregie".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.results[0].organisation_type, "jeugdteam");
    let err = client
        .sociale_kaart(&DirectorySearch {
            organisation_type: Some("bakker".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(
        err.problem().unwrap().invalid_params[0].name,
        "organisatieType"
    );
    let anonymous = Client::new(&app.base);
    let err = anonymous
        .get::<Value>("/v1/gemeenten/0546/wijken")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn the_district_of_a_postcode_over_nats() {
    let app = TestApp::start(Options {
        nats: true,
        db: true,
        ..Default::default()
    })
    .await;
    let pool = app.pool.as_ref().unwrap();
    import_fixture(pool, ImportKind::Postcodes, "postcodes.csv").await;
    let nats = app.nats.as_ref().unwrap();
    let subject = registry::service::postcode_district_subject();
    assert_eq!(subject, "kansrijk.qry.registry.wijk-bij-postcode");
    let ask = |body: Value, t: OrganisationType| {
        let subject = subject.clone();
        async move {
            let headers = kansrijk_runtime::nats::request_headers(&actor(t), None, None);
            kansrijk_runtime::nats::request::<_, Value>(
                nats,
                subject,
                headers,
                &body,
                Duration::from_secs(5),
            )
            .await
        }
    };
    let wijk = |body: Value| async { ask(body, OrganisationType::Jgz).await.unwrap() };
    assert_eq!(
        wijk(json!({"gemeenteCode": "0546", "postcode": "2316AB", "huisnummer": 12})).await,
        json!({"wijk": "Leiden-Noord"})
    );
    // Without a house number: the one district every known address of the postcode is in.
    assert_eq!(
        wijk(json!({"gemeenteCode": "0546", "postcode": "2316 ab"})).await,
        json!({"wijk": "Leiden-Noord"})
    );
    // A house number the table does not know, of a postcode without a whole-postcode row.
    assert_eq!(
        wijk(json!({"gemeenteCode": "0546", "postcode": "2316AB", "huisnummer": 99})).await,
        json!({"wijk": null})
    );
    // A whole-postcode row covers every house number.
    assert_eq!(
        wijk(json!({"gemeenteCode": "0546", "postcode": "2312CD", "huisnummer": 7})).await,
        json!({"wijk": "Binnenstad-Noord"})
    );
    // Not in the table (the conflicting rows were not imported): null, never a guess.
    for pc in ["9999ZZ", "2311AA"] {
        assert_eq!(
            wijk(json!({"gemeenteCode": "0546", "postcode": pc, "huisnummer": 5})).await,
            json!({"wijk": null})
        );
    }
    assert_eq!(
        wijk(json!({"gemeenteCode": "1916", "postcode": "2316AB", "huisnummer": 12})).await,
        json!({"wijk": null})
    );
    // Every invalid field at once.
    let p = ask(
        json!({"gemeenteCode": "546", "postcode": "23XXAB", "huisnummer": 0}),
        OrganisationType::Jgz,
    )
    .await
    .unwrap_err();
    assert_eq!(p.status, 400);
    assert_eq!(p.invalid_params.len(), 3, "{p:?}");
    // Whoever may read the districts may ask, the privacy officer too.
    assert!(ask(
        json!({"gemeenteCode": "0546", "postcode": "2316AB"}),
        OrganisationType::Privacyfunctionaris
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn only_the_municipalitys_administrator_imports_over_http() {
    let app = TestApp::start(Options {
        nats: true,
        db: true,
        ..Default::default()
    })
    .await;
    registry::seed_demo(app.pool.as_ref().unwrap())
        .await
        .unwrap();
    let post = |token: String, body: Value| {
        let req = app
            .http
            .post(app.url("/v1/registerimports"))
            .bearer_auth(token)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let file = String::from_utf8(fixture("postcodes.csv")).unwrap();
    let body = json!({"soort": "postcodes", "gemeenteCode": "0546", "bestand": file});

    // Anyone else: 403, the policy advisor of the same municipality too.
    for persona in [
        "beleidsadviseur",
        "jgz-verpleegkundige",
        "privacyfunctionaris",
    ] {
        let r = post(app.token(persona), body.clone()).await;
        assert_eq!(r.status(), 403, "{persona}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let admin = app.token("functioneel-beheerder");
    // The administrator of Leiden, for another municipality: 403.
    let mut other = body.clone();
    other["gemeenteCode"] = json!("1916");
    assert_eq!(post(admin.clone(), other).await.status(), 403);

    // A file with reported rows: 400 with every one of them, and nothing imported.
    let r = post(admin.clone(), body.clone()).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    let rows: Vec<&str> = p["invalidParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(rows.len(), 6, "{p}");
    for line in [7, 8, 9, 10, 11, 13] {
        assert!(
            rows.iter()
                .any(|r| r.starts_with(&format!("regel {line} "))),
            "regel {line}: {p}"
        );
    }
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM postcode_districts")
        .fetch_one(app.pool.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(n, 0);
    // A file that is not one of its kind: 400 naming the missing column.
    let r = post(
        admin.clone(),
        json!({"soort": "duo-scholen", "gemeenteCode": "0546", "bestand": "a;b\n1;2\n"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["invalidParams"][0]["name"], "bestand", "{p}");
    // An unknown kind: 400 from the schema.
    let r = post(
        admin.clone(),
        json!({"soort": "kadaster", "gemeenteCode": "0546", "bestand": "x"}),
    )
    .await;
    assert_eq!(r.status(), 400);

    // Skipping the reported rows: 200 with the report; again: 0 changed.
    let mut skip = body.clone();
    skip["foutieveRegelsOverslaan"] = json!(true);
    let r = post(admin.clone(), skip.clone()).await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["toegevoegd"], 4, "{report}");
    assert_eq!(report["toegepast"], true, "{report}");
    assert_eq!(report["gemeld"].as_array().unwrap().len(), 6, "{report}");
    let again: Value = post(admin, skip).await.json().await.unwrap();
    assert_eq!(
        (
            again["toegevoegd"].clone(),
            again["bijgewerkt"].clone(),
            again["ongewijzigd"].clone()
        ),
        (json!(0), json!(0), json!(4)),
        "{again}"
    );
}

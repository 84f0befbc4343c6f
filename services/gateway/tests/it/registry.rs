//! The partner registry on real PostgreSQL, its NATS queries and the sociale kaart over HTTP.

use std::path::PathBuf;
use std::time::Duration;

use kansrijk_gateway::registry::{self, Sector};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_runtime::testing::TestDb;
use serde_json::{json, Value};

use crate::common::{Options, TestApp};

fn leiden_csv() -> PathBuf {
    // services/gateway -> the workspace's sibling `shared/data`.
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in here.ancestors() {
        let p = dir.join("shared/data/leiden-basisscholen.csv");
        if p.is_file() {
            return p;
        }
        let p = dir.join("../shared/data/leiden-basisscholen.csv");
        if p.is_file() {
            return p;
        }
    }
    panic!("shared/data/leiden-basisscholen.csv not found next to the workspace");
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
    assert_eq!(report.imported, 24, "{text}");
    // BRIN 17MJ twice: both rows reported, neither imported.
    assert_eq!(report.ambiguous.len(), 2, "{text}");
    assert!(report.ambiguous.iter().all(|r| r.key == "17MJ"));
    assert_eq!(
        report.ambiguous.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![4, 24]
    );
    // The `#N/B` district: rejected with the reason.
    assert_eq!(report.rejected.len(), 1, "{text}");
    assert_eq!(report.rejected[0].key, "15IC");
    assert_eq!(report.rejected[0].line, 12);
    assert!(report.rejected[0].reasons[0].contains("#N/B"));
    assert!(
        text.contains("niet eenduidig, regel 4 (17MJ De Springplank)"),
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

    // Importing again changes nothing.
    let again = registry::import_schools_file(&pool, &leiden_csv(), "0546", Sector::Po)
        .await
        .unwrap();
    assert_eq!(again.imported, 24);
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
async fn an_unknown_district_is_rejected_where_districts_are_known() {
    let db = TestDb::new().await;
    let pool = registry::connect(&db.url, 2).await.unwrap();
    let csv = "brin,vestiging,schoolnaam,wijk\n\
               31AB,00,School A,Voorburg\n\
               31AC,00,School B,Atlantis\n";
    let report = registry::import_schools_csv(&pool, csv.as_bytes(), "1916", Sector::Po)
        .await
        .unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.rejected.len(), 1);
    assert!(report.rejected[0].reasons[0].contains("geen bekende wijk"));
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
    assert_eq!(vve_only["totaal"], 2, "{vve_only}");
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
    assert_eq!(report.imported, 2, "{report}");
    assert_eq!(report.rejected.len(), 2, "{report}");
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

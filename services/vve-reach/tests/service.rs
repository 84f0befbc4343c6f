//! The service end to end over a real nats-server and PostgreSQL: requests with actor headers,
//! events stored sealed, problems with stable codes, erasure.

use std::time::Duration;

use async_nats::Client;
use chrono::{Days, Months, NaiveDate, Utc};
use futures::StreamExt;
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::nats::{request, request_headers};
use kansrijk_runtime::testing::{eventually, NatsServer, TestDb};
use kansrijk_vve_reach::api::{self, commands};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const JGZ: &str = "00000001234567890000";
const LRK: &str = "123456789";
const UNREGISTERED_LRK: &str = "555555555";

fn actor(org_type: OrganisationType, org: &str) -> Actor {
    Actor {
        person: "medewerker-1".into(),
        organisation: org.into(),
        organisation_type: org_type,
        role: "medewerker".into(),
        municipality: "0546".into(),
        purpose: Purpose::Zorgverlening,
    }
}

fn jgz() -> Actor {
    actor(OrganisationType::Jgz, JGZ)
}

fn childcare() -> Actor {
    actor(OrganisationType::Kinderopvang, LRK)
}

async fn send(
    client: &Client,
    who: &Actor,
    name: &str,
    body: Value,
    command_id: Option<Uuid>,
) -> Result<CommandAccepted, Problem> {
    request(
        client,
        api::command_subject(name),
        request_headers(who, command_id, None),
        &body,
        Duration::from_secs(10),
    )
    .await
}

/// Answers the registry's batch query (one lookup per referral): only `LRK` is a registered
/// VVE location.
async fn registry(client: Client) {
    let mut sub = client
        .subscribe(api::registry_locations_subject())
        .await
        .unwrap();
    client.flush().await.unwrap();
    tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            let q: api::RegistryLocationsQuery = serde_json::from_slice(&msg.payload).unwrap();
            let locaties: Vec<Value> = q
                .lrks
                .iter()
                .map(|l| json!({ "lrkNummer": l, "vve": l == LRK }))
                .collect();
            let reply = json!({ "ok": { "locaties": locaties } });
            if let Some(to) = msg.reply {
                let _ = client
                    .publish(to, serde_json::to_vec(&reply).unwrap().into())
                    .await;
            }
        }
    });
}

/// The real privacy service (keys, pseudonyms, access log) for this test's database and NATS.
async fn start_privacy(
    db: &TestDb,
    nats: &NatsServer,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    kansrijk_privacy::spawn_local(&db.url, &nats.url(), shutdown)
        .await
        .expect("the privacy service starts")
}

/// The privacy officer erases a child (AVG art. 17).
async fn erase_child(client: &async_nats::Client, child: Uuid) {
    let officer = kansrijk_proto::Actor {
        person: "pw-officer-1".into(),
        organisation: kansrijk_runtime::config::DEFAULT_OIN.into(),
        organisation_type: kansrijk_proto::OrganisationType::Privacyfunctionaris,
        role: "functionaris-gegevensbescherming".into(),
        municipality: "0546".into(),
        purpose: kansrijk_proto::Purpose::Privacytoezicht,
    };
    let _: kansrijk_proto::command::CommandAccepted = kansrijk_runtime::nats::request(
        client,
        "kansrijk.cmd.privacy.betrokkene-wissen".into(),
        kansrijk_runtime::nats::request_headers(&officer, Some(Uuid::new_v4()), None),
        &serde_json::json!({ "subject": child, "grounds": "verzoek-betrokkene" }),
        Duration::from_secs(10),
    )
    .await
    .expect("the officer may erase");
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jgz_and_childcare_keep_a_sealed_record_over_nats() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let shutdown = CancellationToken::new();
    let _privacy = start_privacy(&db, &nats, &shutdown).await;
    registry(client.clone()).await;
    kansrijk_runtime::testing::serve_reference_districts(client.clone()).await;
    let config = kansrijk_vve_reach::Config::local(&db.url, &nats.url());
    let service = tokio::spawn(kansrijk_vve_reach::run(config, shutdown.clone()));

    let today = Utc::now().date_naive();
    let birth = today - Months::new(36);
    let register = json!({
        "bsn": "111222333", "voornaam": "Yasmina", "achternaam": "Zwanenburg",
        "geboortedatum": date(birth), "postcode": "2315ab", "wijk": "Leiden-Noord", "gemeente": "0546"
    });
    let command_id = Uuid::new_v4();
    let accepted = eventually(Duration::from_secs(20), "the service answers", || {
        let client = client.clone();
        let register = register.clone();
        async move {
            match send(
                &client,
                &jgz(),
                commands::REGISTER_CHILD,
                register,
                Some(command_id),
            )
            .await
            {
                Err(p) if p.status == 503 => None,
                other => Some(other),
            }
        }
    })
    .await
    .expect("registered");
    let child = accepted.stream_id;

    // The JGZ retention period runs from the end of the VVE window (the fourth birthday).
    let retention: (String, NaiveDate) =
        eventually(Duration::from_secs(10), "retention registered", || {
            let url = db.url.clone();
            async move {
                let pool = kansrijk_runtime::db::connect(&url, "privacy", 1)
                    .await
                    .ok()?;
                sqlx::query_as(
                    "SELECT data_kind, start_date FROM retention_periods WHERE subject = $1",
                )
                .bind(child)
                .fetch_optional(&pool)
                .await
                .ok()?
            }
        })
        .await;
    assert_eq!(retention, ("jgz".to_string(), birth + Months::new(48)));
    assert_eq!(accepted.version, 1);
    assert!(accepted.first_time);

    // A retry with the same command id returns the first result.
    let again = send(
        &client,
        &jgz(),
        commands::REGISTER_CHILD,
        register.clone(),
        Some(command_id),
    )
    .await
    .unwrap();
    assert_eq!(
        (again.stream_id, again.version, again.first_time),
        (child, 1, false)
    );
    // The same BSN again in the same municipality is a duplicate.
    let dup = send(
        &client,
        &jgz(),
        commands::REGISTER_CHILD,
        register.clone(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (dup.status, dup.code.as_deref()),
        (409, Some("kind-al-ingeschreven"))
    );

    // Every field error at once.
    let bad = send(
        &client,
        &jgz(),
        commands::REGISTER_CHILD,
        json!({ "bsn": "123456789", "geboortedatum": date(today + Days::new(3)), "postcode": "12", "gemeente": "0546" }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(bad.status, 400);
    let codes: Vec<(String, String)> = bad
        .invalid_params
        .iter()
        .map(|e| (e.name.clone(), e.code.clone()))
        .collect();
    for expected in [
        ("bsn", "bsn-elfproef"),
        ("voornaam", "verplicht"),
        ("achternaam", "verplicht"),
        ("geboortedatum", "datum-buiten-horizon"),
        ("postcode", "postcode-ongeldig"),
        ("wijk", "verplicht"),
    ] {
        assert!(
            codes.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {codes:?}"
        );
    }
    // Childcare may not register children (policy inside the service).
    let refused = send(
        &client,
        &childcare(),
        commands::REGISTER_CHILD,
        register.clone(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.status, 403);

    // The municipality sets its own definition from this year on; every field error at once.
    let municipality = Actor {
        purpose: Purpose::Beleidsmonitoring,
        ..actor(OrganisationType::Gemeente, "00000001001234567000")
    };
    let this_year = chrono::Datelike::year(&today);
    let bad_definition = send(
        &client,
        &municipality,
        commands::DEFINE_TARGET_GROUP,
        json!({ "geldigVanaf": 1999, "criteria": [{ "code": "Hoofdletters", "omschrijving": "x" }, { "code": "y" }] }),
        None,
    )
    .await
    .unwrap_err();
    let codes: Vec<&str> = bad_definition
        .invalid_params
        .iter()
        .map(|e| e.code.as_str())
        .collect();
    assert_eq!(codes, ["jaar-buiten-bereik", "code-ongeldig", "verplicht"]);
    send(
        &client,
        &municipality,
        commands::DEFINE_TARGET_GROUP,
        json!({ "geldigVanaf": this_year, "criteria": [
            { "code": "thuistaal-niet-nederlands", "omschrijving": "De taal thuis is niet (vooral) Nederlands." },
            { "code": "taalachterstand", "omschrijving": "Risico op een taalachterstand." },
            { "code": "nieuwkomer", "omschrijving": "Het gezin woont korter dan twee jaar in Nederland." }
        ] }),
        None,
    )
    .await
    .unwrap();

    // Indication with criteria of Leiden's definition.
    let bad_criteria = send(
        &client,
        &jgz(),
        commands::ISSUE_INDICATION,
        json!({ "kindId": child, "afgegevenOp": date(today - Days::new(30)), "criteria": ["sociaal-emotioneel"] }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(bad_criteria.invalid_params[0].code, "criterium-onbekend");
    send(
        &client,
        &jgz(),
        commands::ISSUE_INDICATION,
        json!({ "kindId": child, "afgegevenOp": date(today - Days::new(30)), "criteria": ["thuistaal-niet-nederlands", "taalachterstand"] }),
        None,
    )
    .await
    .unwrap();

    // Referral: only to registered VVE locations.
    let unregistered = send(
        &client,
        &jgz(),
        commands::REFER,
        json!({ "kindId": child, "doorverwezenOp": date(today - Days::new(20)), "locaties": [LRK, UNREGISTERED_LRK, "12"] }),
        None,
    )
    .await
    .unwrap_err();
    let codes: Vec<&str> = unregistered
        .invalid_params
        .iter()
        .map(|e| e.code.as_str())
        .collect();
    assert_eq!(codes, ["lrk-niet-geregistreerd", "lrk-ongeldig"]);
    send(
        &client,
        &jgz(),
        commands::REFER,
        json!({ "kindId": child, "doorverwezenOp": date(today - Days::new(20)), "locaties": [LRK] }),
        None,
    )
    .await
    .unwrap();
    send(
        &client,
        &jgz(),
        commands::RECORD_OUTREACH,
        json!({ "kindId": child, "datum": date(today - Days::new(15)), "kanaal": "huisbezoek", "uitkomst": "afspraak-gemaakt" }),
        None,
    )
    .await
    .unwrap();

    // Childcare starts a placement; a second overlapping one at the same location is a conflict.
    let placement = Uuid::new_v4();
    send(
        &client,
        &childcare(),
        commands::START_PLACEMENT,
        json!({ "kindId": child, "plaatsingId": placement, "startdatum": date(today - Days::new(5)), "urenPerWeek": 16 }),
        None,
    )
    .await
    .unwrap();
    let overlap = send(
        &client,
        &childcare(),
        commands::START_PLACEMENT,
        json!({ "kindId": child, "startdatum": date(today), "urenPerWeek": 8 }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (overlap.status, overlap.code.as_deref()),
        (409, Some("overlappende-plaatsing"))
    );
    let hours = send(
        &client,
        &childcare(),
        commands::CHANGE_HOURS,
        json!({ "kindId": child, "plaatsingId": placement, "perDatum": date(today), "urenPerWeek": 41 }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(hours.invalid_params[0].code, "uren-buiten-bereik");
    let other_location = send(
        &client,
        &actor(OrganisationType::Kinderopvang, "987654321"),
        commands::CHANGE_HOURS,
        json!({ "kindId": child, "plaatsingId": placement, "perDatum": date(today), "urenPerWeek": 12 }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(other_location.status, 403);

    // Concurrent commands on one child: each either lands or is a 409, never a lost update.
    let before: i64 = {
        let pool = kansrijk_runtime::db::connect(&db.url, "vve", 2)
            .await
            .unwrap();
        sqlx::query_scalar("SELECT max(version) FROM events WHERE stream_id = $1")
            .bind(child)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let nurse = jgz();
    let tries = futures::future::join_all((0..8).map(|_| {
        send(
            &client,
            &nurse,
            commands::RECORD_OUTREACH,
            json!({ "kindId": child, "datum": date(today), "kanaal": "telefoon", "uitkomst": "niet-bereikt" }),
            None,
        )
    }))
    .await;
    let mut landed = 0;
    for t in &tries {
        match t {
            Ok(_) => landed += 1,
            Err(p) => assert_eq!((p.status, p.code.as_deref()), (409, Some("versieconflict"))),
        }
    }
    assert!(landed >= 1);
    let after: i64 = {
        let pool = kansrijk_runtime::db::connect(&db.url, "vve", 2)
            .await
            .unwrap();
        sqlx::query_scalar("SELECT max(version) FROM events WHERE stream_id = $1")
            .bind(child)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(after, before + landed);

    // What is stored: personal data only sealed.
    let pool = kansrijk_runtime::db::connect(&db.url, "vve", 2)
        .await
        .unwrap();
    let stored: Vec<(String, Value)> = sqlx::query_as(
        "SELECT event_type, data FROM events WHERE stream_type = 'kind' ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(stored.len() as i64, after);
    let all = serde_json::to_string(&stored).unwrap();
    for secret in [
        "111222333",
        "Yasmina",
        "Zwanenburg",
        "2315 AB",
        "2315AB",
        &date(birth),
        "thuistaal",
        "taalachterstand",
    ] {
        assert!(
            !all.contains(secret),
            "plaintext personal data in the event store: {secret}"
        );
    }
    assert!(all.contains("Leiden-Noord") && all.contains(LRK));

    // The target-group definitions of the municipality are served too.
    let defs: api::TargetGroupDefinitions = request(
        &client,
        api::query_subject(api::queries::TARGET_GROUPS),
        request_headers(&jgz(), None, None),
        &json!({}),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let years: Vec<i32> = defs.definities.iter().map(|d| d.geldig_vanaf).collect();
    assert!(years.starts_with(&[2020, 2024]), "{years:?}");
    let own = defs
        .definities
        .iter()
        .find(|d| d.geldig_vanaf == this_year)
        .unwrap();
    assert!(own.criteria.iter().any(|c| c.code == "nieuwkomer"));

    // The privacy officer's subject access: everything, opened, and the export logged first.
    let officer = Actor {
        organisation_type: OrganisationType::Privacyfunctionaris,
        purpose: Purpose::Privacytoezicht,
        ..actor(
            OrganisationType::Privacyfunctionaris,
            "00000001002220647000",
        )
    };
    let part: kansrijk_proto::privacy::SubjectAccessPart = request(
        &client,
        api::query_subject(api::queries::SUBJECT_ACCESS),
        request_headers(&officer, None, None),
        &json!({ "subject": child }),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&part).unwrap();
    for plain in [
        "111222333",
        "Yasmina",
        "2315 AB",
        &date(birth),
        "taalachterstand",
        LRK,
    ] {
        assert!(text.contains(plain), "subject access holds {plain}");
    }
    assert!(!text.contains("bsnPseudoniem"));
    let exports: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM privacy.access_log WHERE event = 'export' AND subject = $1",
    )
    .bind(child)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(exports > 0, "the subject access export was logged");
    let not_officer = request::<_, kansrijk_proto::privacy::SubjectAccessPart>(
        &client,
        api::query_subject(api::queries::SUBJECT_ACCESS),
        request_headers(&jgz(), None, None),
        &json!({ "subject": child }),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(not_officer.status, 403);
    // The refused read is in the access log (NEN 7513 wants the attempt).
    eventually(Duration::from_secs(20), "the refused read logged", || {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM privacy.access_log WHERE outcome = 'denied' AND subject = $1",
            )
            .bind(child)
            .fetch_one(&pool)
            .await
            .ok()?;
            (n > 0).then_some(())
        }
    })
    .await;

    // After erasure: the BSN index row goes, and everything about the child answers 410.
    erase_child(&client, child).await;
    eventually(Duration::from_secs(20), "the index row to go", || {
        let pool = pool.clone();
        async move {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM vve_child_index WHERE child_id = $1")
                    .bind(child)
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            (n == 0).then_some(())
        }
    })
    .await;

    let gone = send(
        &client,
        &jgz(),
        commands::RECORD_OUTREACH,
        json!({ "kindId": child, "datum": date(today), "kanaal": "telefoon", "uitkomst": "bereikt" }),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(gone.status, 410);
    shutdown.cancel();
    service.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_data_set_loads_through_the_endpoints_and_loads_again_idempotently() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let shutdown = CancellationToken::new();
    let _privacy = start_privacy(&db, &nats, &shutdown).await;
    let service = tokio::spawn(kansrijk_vve_reach::run(
        kansrijk_vve_reach::Config::local(&db.url, &nats.url()),
        shutdown.clone(),
    ));
    // The registry answers for districts only: lenient mode records the referrals as unchecked.
    kansrijk_runtime::testing::serve_reference_districts(client.clone()).await;
    let mut cfg = kansrijk_vve_reach::demo::DemoConfig::leiden(42, Utc::now().date_naive());
    cfg.births_per_year = 120;
    let expected = kansrijk_vve_reach::demo::generate(&cfg);
    let report = eventually(Duration::from_secs(30), "the demo to load", || {
        let client = client.clone();
        let cfg = cfg.clone();
        async move { kansrijk_vve_reach::load_demo(&client, &cfg, 8).await.ok() }
    })
    .await;
    let registered = expected.children.len() + expected.due_for_indication.len();
    assert_eq!(report.children, registered);
    assert!(report.commands > 2 * report.children);
    let again = kansrijk_vve_reach::load_demo(&client, &cfg, 8)
        .await
        .unwrap();
    assert_eq!(again.commands, report.commands);
    assert_eq!(
        again.replayed, again.commands,
        "a second load appends nothing"
    );

    let pool = kansrijk_runtime::db::connect(&db.url, "vve", 2)
        .await
        .unwrap();
    let streams: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT stream_id) FROM events WHERE stream_type = 'kind'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(streams as usize, registered);
    shutdown.cancel();
    service.await.unwrap().unwrap();
}

/// How many children the service stored: rows of the BSN index and child streams.
async fn stored_children(db: &TestDb) -> (i64, i64) {
    let pool = kansrijk_runtime::db::connect(&db.url, "vve", 1)
        .await
        .unwrap();
    let index: i64 = sqlx::query_scalar("SELECT count(*) FROM vve_child_index")
        .fetch_one(&pool)
        .await
        .unwrap();
    let streams: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT stream_id) FROM events WHERE stream_type = 'kind'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    (index, streams)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_must_be_one_of_the_registrys_and_nothing_is_stored_otherwise() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let shutdown = CancellationToken::new();
    let _privacy = start_privacy(&db, &nats, &shutdown).await;
    let service = tokio::spawn(kansrijk_vve_reach::run(
        kansrijk_vve_reach::Config::local(&db.url, &nats.url()),
        shutdown.clone(),
    ));
    let birth = Utc::now().date_naive() - Months::new(30);
    let register = |wijk: &str| {
        json!({
            "bsn": "111222333", "voornaam": "Sem", "achternaam": "Wijkmans",
            "geboortedatum": date(birth), "postcode": "2316 AB", "wijk": wijk, "gemeente": "0546"
        })
    };
    // Wait until the service itself answers (a query that needs no registry).
    eventually(Duration::from_secs(20), "the service answers", || {
        let client = client.clone();
        async move {
            let r: Result<Value, Problem> = request(
                &client,
                api::query_subject(api::queries::TARGET_GROUPS),
                request_headers(&jgz(), None, None),
                &json!({}),
                Duration::from_secs(2),
            )
            .await;
            r.ok()
        }
    })
    .await;

    // No registry: the registration fails closed (503) and nothing is stored.
    let down = send(
        &client,
        &jgz(),
        commands::REGISTER_CHILD,
        register("Leiden-Noord"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(down.status, 503, "{down:?}");
    assert_eq!(stored_children(&db).await, (0, 0));

    kansrijk_runtime::testing::serve_reference_districts(client.clone()).await;
    // A district the registry does not know (the monitor's old free-text spelling): a 400 field
    // error on `wijk`, with the other field errors at once, and nothing stored.
    let unknown = send(
        &client,
        &jgz(),
        commands::REGISTER_CHILD,
        register("Bos en Gasthuisdistrict"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(unknown.status, 400);
    let codes: Vec<(&str, &str)> = unknown
        .invalid_params
        .iter()
        .map(|e| (e.name.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(codes, [("wijk", "wijk-onbekend")]);
    let mut bad = register("Noord");
    bad["postcode"] = json!("12");
    let both = send(&client, &jgz(), commands::REGISTER_CHILD, bad, None)
        .await
        .unwrap_err();
    let names: Vec<&str> = both
        .invalid_params
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["postcode", "wijk"]);
    // Another municipality's district is unknown here.
    let theirs = send(
        &client,
        &jgz(),
        commands::REGISTER_CHILD,
        register("Stompwijk"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(theirs.invalid_params[0].code, "wijk-onbekend");
    assert_eq!(stored_children(&db).await, (0, 0));

    // The registry's district is accepted, in the registry's spelling; the same BSN registers
    // now (no index row was left behind by the refusals).
    let ok = send(
        &client,
        &jgz(),
        commands::REGISTER_CHILD,
        register("bos- en gasthuisdistrict"),
        None,
    )
    .await
    .expect("a registry district is accepted");
    assert_eq!(stored_children(&db).await, (1, 1));
    let pool = kansrijk_runtime::db::connect(&db.url, "vve", 1)
        .await
        .unwrap();
    let data: Value =
        sqlx::query_scalar("SELECT data FROM events WHERE stream_id = $1 ORDER BY version LIMIT 1")
            .bind(ok.stream_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(data["wijk"], "Bos- en Gasthuisdistrict", "{data}");
    shutdown.cancel();
    service.await.unwrap().unwrap();
}

//! VVE views end to end over a real nats-server and PostgreSQL: commands to the vve service
//! (actor headers) -> events stored sealed -> relay -> JetStream -> projections -> queries over
//! NATS. The quarterly figures of a scenario built here equal a hand-computed expectation,
//! suppression included.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use chrono::{Days, Months, NaiveDate, Utc};
use futures::StreamExt;
use kansrijk_privacy::disclosure::{assert_disclosure, FieldCategories};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::nats::{request, request_headers};
use kansrijk_runtime::projection::{ProjectionRunner, RunnerConfig};
use kansrijk_runtime::testing::{eventually, NatsServer, TestDb};
use kansrijk_views::vve::monitor::{MonitorConfig, Quarter};
use kansrijk_views::vve::queries::{
    self, ChildcareOverview, ExportFile, MonitorReport, TableOut, VveViews, Worklist,
};
use kansrijk_views::vve::suppression::SuppressionConfig;
use kansrijk_vve_reach::api::{self, commands};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const JGZ: &str = "00000001234567890000";
const LRK1: &str = "111111111";
const LRK2: &str = "222222222";
const A: &str = "Leiden-Noord";
const B: &str = "Merenwijkdistrict";

fn actor(t: OrganisationType, org: &str, purpose: Purpose) -> Actor {
    Actor {
        person: "medewerker-7".into(),
        organisation: org.into(),
        organisation_type: t,
        role: "medewerker".into(),
        municipality: "0546".into(),
        purpose,
    }
}

fn jgz() -> Actor {
    actor(OrganisationType::Jgz, JGZ, Purpose::Zorgverlening)
}

fn location(lrk: &str) -> Actor {
    actor(OrganisationType::Kinderopvang, lrk, Purpose::Zorgverlening)
}

fn municipality() -> Actor {
    actor(
        OrganisationType::Gemeente,
        "00000001001234567000",
        Purpose::Beleidsmonitoring,
    )
}

fn d(x: NaiveDate) -> String {
    x.format("%Y-%m-%d").to_string()
}

async fn cmd(client: &Client, who: &Actor, name: &str, body: Value) -> CommandAccepted {
    let r: Result<CommandAccepted, Problem> = request(
        client,
        api::command_subject(name),
        request_headers(who, None, None),
        &body,
        Duration::from_secs(10),
    )
    .await;
    r.unwrap_or_else(|p| panic!("{name}: {p:?}"))
}

async fn query<T: serde::de::DeserializeOwned>(
    client: &Client,
    who: &Actor,
    name: &str,
    body: Value,
) -> Result<T, Problem> {
    request(
        client,
        queries::subject(name),
        request_headers(who, None, None),
        &body,
        Duration::from_secs(10),
    )
    .await
}

/// A valid BSN for each n (the 11-proef check digit chosen to fit).
fn bsn(n: u32) -> String {
    let prefix = format!("{:08}", 10_000_000 + n);
    (0..10)
        .map(|c| format!("{prefix}{c}"))
        .find(|s| {
            let sum: i64 = s
                .bytes()
                .zip([9i64, 8, 7, 6, 5, 4, 3, 2, -1])
                .map(|(b, w)| i64::from(b - b'0') * w)
                .sum();
            sum % 11 == 0 && sum != 0
        })
        .unwrap_or_else(|| bsn(n + 50_000))
}

struct Kid {
    birth: NaiveDate,
    district: &'static str,
    criteria: Vec<&'static str>,
    indicated: NaiveDate,
}

async fn register(client: &Client, n: u32, k: &Kid) -> Uuid {
    let child = cmd(
        client,
        &jgz(),
        commands::REGISTER_CHILD,
        json!({
            "bsn": bsn(n), "voornaam": format!("Kind{n}"), "achternaam": "Testfamilie",
            "geboortedatum": d(k.birth), "postcode": "2316 XB", "wijk": k.district, "gemeente": "0546",
            "ingeschrevenOp": d(k.indicated - Days::new(1))
        }),
    )
    .await
    .stream_id;
    cmd(
        client,
        &jgz(),
        commands::ISSUE_INDICATION,
        json!({ "kindId": child, "afgegevenOp": d(k.indicated), "criteria": k.criteria }),
    )
    .await;
    child
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

fn table(t: &TableOut) -> Vec<Vec<Option<u64>>> {
    t.cellen.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarterly_figures_equal_the_hand_computed_expectation() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let shutdown = CancellationToken::new();
    let _privacy = start_privacy(&db, &nats, &shutdown).await;
    // Every location is a registered VVE location (the batch query, one per referral).
    let mut registry = client
        .subscribe(api::registry_locations_subject())
        .await
        .unwrap();
    {
        let client = client.clone();
        tokio::spawn(async move {
            while let Some(m) = registry.next().await {
                let q: api::RegistryLocationsQuery =
                    serde_json::from_slice(&m.payload).expect("a batch query");
                let locaties: Vec<serde_json::Value> = q
                    .lrks
                    .iter()
                    .map(|l| serde_json::json!({ "lrkNummer": l, "vve": true }))
                    .collect();
                let reply = serde_json::json!({ "ok": { "locaties": locaties } });
                if let Some(to) = m.reply {
                    let _ = client
                        .publish(to, serde_json::to_vec(&reply).unwrap().into())
                        .await;
                }
            }
        });
    }
    kansrijk_runtime::testing::serve_reference_districts(client.clone()).await;
    let service = tokio::spawn(kansrijk_vve_reach::run(
        kansrijk_vve_reach::Config::local(&db.url, &nats.url()),
        shutdown.clone(),
    ));

    // The views side: read models, projections, query endpoints.
    let pool = kansrijk_runtime::db::connect(&db.url, "views", 10)
        .await
        .unwrap();
    kansrijk_runtime::db::migrate(&pool, Some(kansrijk_views::vve::migrations()))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();
    for p in kansrijk_views::vve::projections() {
        let runner = ProjectionRunner::new(pool.clone(), js.clone(), p, RunnerConfig::default());
        tokio::spawn(runner.run(shutdown.clone()));
    }
    let config = MonitorConfig {
        suppression: SuppressionConfig {
            threshold: 2,
            suppress_zero: false,
        },
        min_denominator: 5,
        trend_quarters: 2,
        round_to: 1,
    };
    let views = Arc::new(VveViews::new(
        pool.clone(),
        client.clone(),
        kansrijk_vve_reach::handlers::service_actor("00000001002220647000"),
        config,
    ));
    tokio::spawn(kansrijk_runtime::service::serve(
        client.clone(),
        "views-vve-test",
        kansrijk_views::vve::endpoints(&views),
        16,
        shutdown.clone(),
    ));

    // Wait for the vve service.
    eventually(Duration::from_secs(20), "the vve service", || {
        let client = client.clone();
        async move {
            let r: Result<api::TargetGroupDefinitions, Problem> = request(
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

    // The scenario: quarter Q is the last complete quarter; F its first day, R its reference date.
    let today = Utc::now().date_naive();
    let q = Quarter::containing(today).previous();
    let (f, r) = (q.first_day(), q.reference_date());
    let age3 = r - Months::new(36);
    let day = |n: u64| f + Days::new(n);
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };

    // Twelve reached children: k = 0..4 in A at LRK1 with 16 h, k = 5..7 in A at LRK1 with 12 h,
    // k = 8..11 in B at LRK2 with 20 h. Indicated on F + k, placed on F + 6k + 10.
    for k in 0..12u64 {
        let (district, lrk, hours, criteria) = match k {
            0..=4 => (A, LRK1, 16, vec!["thuistaal-niet-nederlands"]),
            5..=7 => (A, LRK1, 12, vec!["thuistaal-niet-nederlands"]),
            _ => (
                B,
                LRK2,
                20,
                vec!["thuistaal-niet-nederlands", "opleiding-ouders"],
            ),
        };
        let kid = Kid {
            birth: age3,
            district,
            criteria,
            indicated: day(k),
        };
        let child = register(&client, next(), &kid).await;
        cmd(
            &client,
            &location(lrk),
            commands::START_PLACEMENT,
            json!({ "kindId": child, "startdatum": d(day(6 * k + 10)), "urenPerWeek": hours }),
        )
        .await;
    }
    // Reached, then erased: drops out of everything.
    let erased = register(
        &client,
        next(),
        &Kid {
            birth: age3,
            district: A,
            criteria: vec!["taalachterstand"],
            indicated: day(20),
        },
    )
    .await;
    cmd(
        &client,
        &location(LRK1),
        commands::START_PLACEMENT,
        json!({ "kindId": erased, "startdatum": d(day(40)), "urenPerWeek": 16 }),
    )
    .await;
    // A: parents declined (kosten).
    let declined = register(
        &client,
        next(),
        &Kid {
            birth: age3,
            district: A,
            criteria: vec!["thuistaal-niet-nederlands"],
            indicated: day(5),
        },
    )
    .await;
    cmd(&client, &jgz(), commands::RECORD_OUTREACH,
        json!({ "kindId": declined, "datum": d(day(20)), "kanaal": "huisbezoek", "uitkomst": "bereikt" })).await;
    cmd(
        &client,
        &jgz(),
        commands::RECORD_DECLINED,
        json!({ "kindId": declined, "datum": d(day(30)), "reden": "kosten" }),
    )
    .await;
    // B: on LRK2's waiting list.
    let waiting = register(
        &client,
        next(),
        &Kid {
            birth: age3,
            district: B,
            criteria: vec!["thuistaal-niet-nederlands", "opleiding-ouders"],
            indicated: day(3),
        },
    )
    .await;
    let referred = cmd(
        &client,
        &jgz(),
        commands::REFER,
        json!({ "kindId": waiting, "doorverwezenOp": d(day(10)), "locaties": [LRK2] }),
    )
    .await;
    assert_eq!(referred.version, 3);
    // B: not approached yet.
    let untouched = register(
        &client,
        next(),
        &Kid {
            birth: age3,
            district: B,
            criteria: vec!["thuistaal-niet-nederlands", "opleiding-ouders"],
            indicated: day(7),
        },
    )
    .await;
    // Not counted: too young on R (turns 2.5 a month after R), indicated after R, moved away in
    // the quarter before (counted there, as moved).
    let young = register(
        &client,
        next(),
        &Kid {
            birth: r - Months::new(29),
            district: A,
            criteria: vec!["thuistaal-niet-nederlands"],
            indicated: day(1),
        },
    )
    .await;
    let late = register(
        &client,
        next(),
        &Kid {
            birth: age3,
            district: A,
            criteria: vec!["thuistaal-niet-nederlands"],
            indicated: r + Days::new(1),
        },
    )
    .await;
    let moved = register(
        &client,
        next(),
        &Kid {
            birth: age3,
            district: A,
            criteria: vec!["thuistaal-niet-nederlands"],
            indicated: f - Days::new(60),
        },
    )
    .await;
    cmd(
        &client,
        &jgz(),
        commands::RECORD_MOVED_AWAY,
        json!({ "kindId": moved, "verhuisdOp": d(f - Days::new(30)) }),
    )
    .await;

    // The childcare location sees the referral and puts the child on its waiting list.
    let overview: ChildcareOverview = eventually(
        Duration::from_secs(30),
        "LRK2's referral in its view",
        || {
            let client = client.clone();
            async move {
                let o: ChildcareOverview = query(
                    &client,
                    &location(LRK2),
                    queries::names::CHILDCARE,
                    json!({}),
                )
                .await
                .ok()?;
                (o.verwijzingen.len() == 1).then_some(o)
            }
        },
    )
    .await;
    assert_eq!(overview.verwijzingen[0].kind_id, waiting);
    assert_eq!(overview.verwijzingen[0].voornaam, "Kind15");
    cmd(&client, &location(LRK2), commands::WAITING_LIST, json!({
        "kindId": waiting, "verwijzingId": overview.verwijzingen[0].verwijzing_id, "datum": d(day(12))
    })).await;

    erase_child(&client, erased).await;

    // Wait until the views have everything: 18 children left, the erased one gone, the waiting list.
    eventually(Duration::from_secs(60), "the projections to catch up", || {
        let pool = pool.clone();
        async move {
            let (children, placements, erased_rows, waiting): (i64, i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM vve_children), (SELECT count(*) FROM vve_placements),
                        (SELECT count(*) FROM vve_erased), (SELECT count(*) FROM vve_referrals WHERE waitlisted_on IS NOT NULL)",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
            (children == 18 && placements == 12 && erased_rows == 1 && waiting == 1).then_some(())
        }
    })
    .await;
    // The read model holds no personal data in plaintext.
    let dump: Vec<(Value,)> = sqlx::query_as("SELECT to_jsonb(c) FROM vve_children c")
        .fetch_all(&pool)
        .await
        .unwrap();
    let dump = serde_json::to_string(&dump).unwrap();
    // The postcode in both spellings: a bare "2316" turns up in one random UUID in ~2,300.
    for secret in [
        "Kind1\"",
        "Testfamilie",
        "2316XB",
        "2316 XB",
        &d(age3),
        &bsn(1),
    ] {
        assert!(
            !dump.contains(secret),
            "plaintext personal data in the read model: {secret}"
        );
    }

    // --- The municipality's monitor ---
    let report: MonitorReport = query(
        &client,
        &municipality(),
        queries::names::MONITOR,
        json!({ "jaar": q.year, "kwartaal": q.quarter }),
    )
    .await
    .unwrap();
    let x = None;
    let s = Some;
    // Hand-computed (threshold 2, zeros published). District table, columns: reached >= 16 h,
    // < 16 h, moved, declined, waiting list, referral pending, unreachable, outreach, not approached.
    //   A: 5 3 0 1 0 0 0 0 0 = 9     B: 4 0 0 0 1 0 0 0 1 = 6     totals 9 3 0 1 1 0 0 0 1 = 15
    // Primary: the ones (A declined, B waiting, B untouched, and the column totals of those three).
    // Secondary: row A has one suppressed part -> its smallest non-zero part (3, < 16 h) goes too;
    // then column "< 16 h" (total 3 published) has one -> B's 0 goes (no non-zero part left).
    // Linked (ADR 0701): that is not enough. Criterion "opleiding-ouders" (only B's children)
    // publishes 6 with waiting list + not approached suppressed, so those two hold at least 2 of
    // B's children; B's row (6 = 4 + B<16 + 2 or more) then pins B<16 to 0, A<16 to 3 and A's
    // declined to exactly 1. So the reached >= 16 h cells (5 and 4) go as well: A's declined is
    // then anywhere in [0, 1], as wide as threshold 2 with published zeros protects.
    assert_eq!(report.per_wijk.rijen, vec![A.to_string(), B.to_string()]);
    assert_eq!(
        table(&report.per_wijk),
        vec![
            vec![x, x, s(0), x, s(0), s(0), s(0), s(0), s(0)],
            vec![x, x, s(0), s(0), x, s(0), s(0), s(0), x],
        ]
    );
    assert_eq!(report.per_wijk.rijtotalen, Some(vec![s(9), s(6)]));
    assert_eq!(
        report.per_wijk.kolomtotalen,
        Some(vec![s(9), s(3), s(0), x, x, s(0), s(0), s(0), x])
    );
    assert_eq!(report.per_wijk.totaal, s(15));
    assert_eq!(
        (
            report.geindiceerd,
            report.bereikt,
            report.bereikt_minder_dan16_uur,
            report.niet_bereikt
        ),
        (s(15), s(12), s(3), s(3))
    );
    assert_eq!(report.bereik_percentage, Some(80.0));
    // Days from indication to placement: 10, 15, ..., 65 -> median (35 + 40) / 2.
    assert_eq!(report.mediaan_dagen_indicatie_tot_plaatsing, Some(37.5));
    assert_eq!(report.plaatsingen_gestart, s(12));
    // By criterion (a child counts under each of its criteria; no column totals).
    assert_eq!(
        report.per_criterium.rijen,
        vec![
            "opleiding-ouders".to_string(),
            "thuistaal-niet-nederlands".to_string()
        ]
    );
    assert_eq!(
        table(&report.per_criterium),
        vec![
            vec![s(4), s(0), s(0), s(0), x, s(0), s(0), s(0), x],
            vec![s(9), s(3), s(0), x, x, s(0), s(0), s(0), x],
        ]
    );
    assert_eq!(report.per_criterium.rijtotalen, Some(vec![s(6), s(15)]));
    // By location: nothing small.
    assert_eq!(
        report.per_locatie.rijen,
        vec![LRK1.to_string(), LRK2.to_string()]
    );
    assert_eq!(
        table(&report.per_locatie),
        vec![vec![s(5), s(3)], vec![s(4), s(0)]]
    );
    assert_eq!(report.per_locatie.kolomtotalen, Some(vec![s(9), s(3)]));
    // Declined reasons: one "kosten", suppressed with its total.
    let kosten = report
        .redenen_afzien
        .rijen
        .iter()
        .position(|r| r == "kosten")
        .unwrap();
    assert_eq!(report.redenen_afzien.cellen[kosten], vec![x]);
    assert_eq!(report.redenen_afzien.kolomtotalen, Some(vec![x]));
    // Trend: the quarter before held only the child that moved away in it.
    assert_eq!(report.trend.rijen, vec![q.previous().label(), q.label()]);
    assert_eq!(
        table(&report.trend),
        vec![vec![s(0), s(0), x], vec![s(9), s(3), s(3)]]
    );
    assert_eq!(report.trend.rijtotalen, Some(vec![x, s(15)]));
    // Aggregates only, every field within the municipality's categories.
    assert_disclosure(
        "vve.monitor",
        OrganisationType::Gemeente,
        &serde_json::to_value(&report).unwrap(),
        &FieldCategories::of::<MonitorReport>(),
    );
    // Another municipality sharing the deployment sees none of these children.
    let other_municipality = Actor {
        municipality: "1916".into(),
        ..municipality()
    };
    let theirs: MonitorReport = query(
        &client,
        &other_municipality,
        queries::names::MONITOR,
        json!({ "jaar": q.year, "kwartaal": q.quarter }),
    )
    .await
    .unwrap();
    assert_eq!(theirs.geindiceerd, Some(0));
    assert!(theirs.per_wijk.rijen.is_empty());
    // JGZ may not see the monitor.
    let refused = query::<MonitorReport>(&client, &jgz(), queries::names::MONITOR, json!({}))
        .await
        .unwrap_err();
    assert_eq!(refused.status, 403);

    // Exports.
    let csv: ExportFile = query(
        &client,
        &municipality(),
        queries::names::MONITOR_EXPORT,
        json!({ "jaar": q.year, "kwartaal": q.quarter, "formaat": "csv" }),
    )
    .await
    .unwrap();
    use base64::Engine;
    let csv_text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&csv.inhoud)
            .unwrap(),
    )
    .unwrap();
    assert!(csv_text.contains(&format!(
        "0546;{r};bereik-per-wijk;{A};bereikt-16-uur-of-meer;x"
    )));
    assert!(csv_text.contains(&format!("0546;{r};bereik-per-wijk;{A};totaal;9")));
    assert!(csv_text.contains(&format!(
        "0546;{r};bereik-per-wijk;{A};niet-bereikt-ouders-zien-af;x"
    )));
    let xlsx: ExportFile = query(
        &client,
        &municipality(),
        queries::names::MONITOR_EXPORT,
        json!({ "jaar": q.year, "kwartaal": q.quarter, "formaat": "xlsx" }),
    )
    .await
    .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&xlsx.inhoud)
        .unwrap();
    assert!(bytes.starts_with(b"PK") && xlsx.bestandsnaam.ends_with(".xlsx"));

    // --- JGZ's worklist: indicated and not placed, most urgent first; the young child last ---
    let list: Worklist = query(&client, &jgz(), queries::names::WORKLIST, json!({}))
        .await
        .unwrap();
    let ids: Vec<Uuid> = list.kinderen.iter().map(|c| c.kind_id).collect();
    for c in [declined, waiting, untouched, young, late] {
        assert!(ids.contains(&c));
    }
    assert_eq!(ids.len(), 5);
    assert_eq!(ids.last(), Some(&young));
    let w = list.kinderen.iter().find(|c| c.kind_id == waiting).unwrap();
    assert_eq!(
        (
            w.status.as_str(),
            w.verwijzingen.len(),
            w.verwijzingen[0].lrk.as_str()
        ),
        ("wachtlijst", 1, LRK2)
    );
    assert_eq!(
        w.criteria,
        vec!["thuistaal-niet-nederlands", "opleiding-ouders"]
    );
    let dc = list
        .kinderen
        .iter()
        .find(|c| c.kind_id == declined)
        .unwrap();
    assert_eq!(
        dc.afgezien.as_ref().map(|a| a.reden.as_str()),
        Some("kosten")
    );
    assert_eq!(dc.toeleidingspogingen.len(), 1);
    assert_disclosure(
        "vve.werklijst",
        OrganisationType::Jgz,
        &serde_json::to_value(&list).unwrap(),
        &FieldCategories::of::<Worklist>(),
    );
    // Another JGZ organisation sees none of them.
    let other: Worklist = query(
        &client,
        &actor(
            OrganisationType::Jgz,
            "00000009999999990000",
            Purpose::Zorgverlening,
        ),
        queries::names::WORKLIST,
        json!({}),
    )
    .await
    .unwrap();
    assert!(other.kinderen.is_empty());

    // --- Childcare: own referrals, waiting list and placements only ---
    let lrk1: ChildcareOverview = query(
        &client,
        &location(LRK1),
        queries::names::CHILDCARE,
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            lrk1.plaatsingen.len(),
            lrk1.wachtlijst.len(),
            lrk1.verwijzingen.len()
        ),
        (8, 0, 0)
    );
    assert!(lrk1.plaatsingen.iter().all(|p| p.kind_id != erased));
    let lrk2: ChildcareOverview = query(
        &client,
        &location(LRK2),
        queries::names::CHILDCARE,
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!((lrk2.plaatsingen.len(), lrk2.wachtlijst.len()), (4, 1));
    assert_disclosure(
        "vve.kinderopvang",
        OrganisationType::Kinderopvang,
        &serde_json::to_value(&lrk2).unwrap(),
        &FieldCategories::of::<ChildcareOverview>(),
    );

    // Every read of personal data was logged first, one entry per child shown.
    let log: Vec<(String, Option<Uuid>)> =
        sqlx::query_as("SELECT access_point, subject FROM privacy.access_log")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(log
        .iter()
        .any(|(point, s)| point == "vve.werklijst" && *s == Some(young)));
    assert!(log
        .iter()
        .all(|(point, s)| *s != Some(erased) || point != "vve.werklijst"));

    // A computed monitor is reused only while the read model is unchanged: one more indicated
    // child, and the next monitor counts it.
    let kid = Kid {
        birth: age3,
        district: A,
        criteria: vec!["thuistaal-niet-nederlands"],
        indicated: day(20),
    };
    register(&client, 99, &kid).await;
    eventually(
        Duration::from_secs(60),
        "the monitor to count the new child",
        || {
            let client = client.clone();
            async move {
                let r: MonitorReport = query(
                    &client,
                    &municipality(),
                    queries::names::MONITOR,
                    json!({ "jaar": q.year, "kwartaal": q.quarter }),
                )
                .await
                .ok()?;
                (r.geindiceerd == Some(16)).then_some(())
            }
        },
    )
    .await;

    shutdown.cancel();
    service.await.unwrap().unwrap();
}

/// The demo data set through the whole pipeline: the monitor of the last complete quarter at the
/// default (CBS) suppression shows a realistic picture and nothing small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_data_gives_a_realistic_monitor_with_nothing_small() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let shutdown = CancellationToken::new();
    let _privacy = start_privacy(&db, &nats, &shutdown).await;
    kansrijk_runtime::testing::serve_reference_districts(client.clone()).await;
    let service = tokio::spawn(kansrijk_vve_reach::run(
        kansrijk_vve_reach::Config::local(&db.url, &nats.url()),
        shutdown.clone(),
    ));
    let pool = kansrijk_runtime::db::connect(&db.url, "views", 10)
        .await
        .unwrap();
    kansrijk_runtime::db::migrate(&pool, Some(kansrijk_views::vve::migrations()))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();
    for p in kansrijk_views::vve::projections() {
        tokio::spawn(
            ProjectionRunner::new(pool.clone(), js.clone(), p, RunnerConfig::default())
                .run(shutdown.clone()),
        );
    }
    let views = Arc::new(VveViews::new(
        pool.clone(),
        client.clone(),
        kansrijk_vve_reach::handlers::service_actor("00000001002220647000"),
        MonitorConfig::default(),
    ));
    tokio::spawn(kansrijk_runtime::service::serve(
        client.clone(),
        "views-vve-demo",
        kansrijk_views::vve::endpoints(&views),
        16,
        shutdown.clone(),
    ));

    let today = Utc::now().date_naive();
    let mut cfg = kansrijk_vve_reach::demo::DemoConfig::leiden(2026, today);
    cfg.births_per_year = 500;
    let loaded = eventually(Duration::from_secs(120), "the demo to load", || {
        let client = client.clone();
        let cfg = cfg.clone();
        async move {
            match kansrijk_vve_reach::load_demo(&client, &cfg, 16).await {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!("demo load: {e:#}");
                    None
                }
            }
        }
    })
    .await;
    let placements: i64 = {
        let data = kansrijk_vve_reach::demo::generate(&cfg);
        data.children
            .iter()
            .flat_map(|c| &c.steps)
            .filter(|s| matches!(s, kansrijk_vve_reach::demo::Step::Start { .. }))
            .count() as i64
    };
    eventually(
        Duration::from_secs(120),
        "the projections to catch up",
        || {
            let pool = pool.clone();
            async move {
                let (children, p): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM vve_children), (SELECT count(*) FROM vve_placements)",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
                (children as usize == loaded.children && p == placements).then_some(())
            }
        },
    )
    .await;

    let q = Quarter::containing(today).previous();
    let report: MonitorReport = query(
        &client,
        &municipality(),
        queries::names::MONITOR,
        json!({ "jaar": q.year, "kwartaal": q.quarter }),
    )
    .await
    .unwrap();
    let indicated = report.geindiceerd.unwrap();
    let pct = report.bereik_percentage.unwrap();
    assert!(indicated > 100, "{indicated} indicated in the window");
    assert!((60.0..=90.0).contains(&pct), "reach {pct}%");
    assert_eq!(report.trend.rijen.len(), 8);
    // Nothing published is small (CBS: 0-7 suppressed), in any table.
    for t in [
        &report.per_wijk,
        &report.per_criterium,
        &report.per_locatie,
        &report.redenen_afzien,
        &report.trend,
    ] {
        let values = t
            .cellen
            .iter()
            .flatten()
            .chain(t.rijtotalen.iter().flatten())
            .chain(t.kolomtotalen.iter().flatten())
            .chain(std::iter::once(&t.totaal));
        for v in values.flatten() {
            assert!(*v > 7, "published small count {v}");
        }
    }
    let xlsx: ExportFile = query(
        &client,
        &municipality(),
        queries::names::MONITOR_EXPORT,
        json!({ "jaar": q.year, "kwartaal": q.quarter, "formaat": "xlsx" }),
    )
    .await
    .unwrap();
    assert!(xlsx.inhoud.len() > 1000);
    shutdown.cancel();
    service.await.unwrap().unwrap();
}

/// The same pipeline against the real privacy service: keys, pseudonyms and the access log come
/// from it, and its erasure empties the VVE read models and makes the record answer 410.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_by_the_real_privacy_service_empties_the_vve_views() {
    let db = TestDb::new().await;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let shutdown = CancellationToken::new();
    let privacy = start_privacy(&db, &nats, &shutdown).await;
    kansrijk_runtime::testing::serve_reference_districts(client.clone()).await;
    let service = tokio::spawn(kansrijk_vve_reach::run(
        kansrijk_vve_reach::Config::local(&db.url, &nats.url()),
        shutdown.clone(),
    ));
    let pool = kansrijk_runtime::db::connect(&db.url, "views", 10)
        .await
        .unwrap();
    kansrijk_runtime::db::migrate(&pool, Some(kansrijk_views::vve::migrations()))
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client.clone());
    kansrijk_runtime::nats::ensure_events_stream(&js, 1)
        .await
        .unwrap();
    for p in kansrijk_views::vve::projections() {
        tokio::spawn(
            ProjectionRunner::new(pool.clone(), js.clone(), p, RunnerConfig::default())
                .run(shutdown.clone()),
        );
    }
    let views = Arc::new(VveViews::new(
        pool.clone(),
        client.clone(),
        kansrijk_runtime::identity::service_actor("views", kansrijk_runtime::config::DEFAULT_OIN),
        MonitorConfig::default(),
    ));
    tokio::spawn(kansrijk_runtime::service::serve(
        client.clone(),
        "views-vve-privacy",
        kansrijk_views::vve::endpoints(&views),
        16,
        shutdown.clone(),
    ));

    let today = Utc::now().date_naive();
    let birth = today - Months::new(34);
    let body = json!({
        "bsn": "111222333", "voornaam": "Ilse", "achternaam": "Wissing", "geboortedatum": d(birth),
        "postcode": "2333 AA", "wijk": "Boerhaavedistrict", "gemeente": "0546"
    });
    let child = eventually(Duration::from_secs(30), "vve and privacy to answer", || {
        let client = client.clone();
        let body = body.clone();
        async move {
            let r: Result<CommandAccepted, Problem> = request(
                &client,
                api::command_subject(commands::REGISTER_CHILD),
                request_headers(&jgz(), Some(Uuid::from_u128(77)), None),
                &body,
                Duration::from_secs(5),
            )
            .await;
            r.ok()
        }
    })
    .await
    .stream_id;
    cmd(&client, &jgz(), commands::ISSUE_INDICATION,
        json!({ "kindId": child, "afgegevenOp": d(today - Days::new(10)), "criteria": ["taalachterstand"] })).await;
    let list: Worklist = eventually(Duration::from_secs(30), "the child in the worklist", || {
        let client = client.clone();
        async move {
            let w: Worklist = query(&client, &jgz(), queries::names::WORKLIST, json!({}))
                .await
                .ok()?;
            (w.kinderen.len() == 1).then_some(w)
        }
    })
    .await;
    assert_eq!(
        (
            list.kinderen[0].voornaam.as_str(),
            list.kinderen[0].geboortedatum
        ),
        ("Ilse", birth)
    );

    // The privacy officer erases the child.
    let officer = actor(
        OrganisationType::Privacyfunctionaris,
        "00000001002220647000",
        Purpose::Privacytoezicht,
    );
    let erased: Result<CommandAccepted, Problem> = request(
        &client,
        kansrijk_proto::privacy::subjects::ERASE.into(),
        request_headers(&officer, Some(Uuid::new_v4()), None),
        &json!({ "subject": child, "grounds": "verzoek-betrokkene" }),
        Duration::from_secs(10),
    )
    .await;
    erased.unwrap();
    eventually(Duration::from_secs(30), "the read models to drop the child", || {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM vve_children) + (SELECT count(*) FROM vve_indications)",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
            (n == 0).then_some(())
        }
    })
    .await;
    let list: Worklist = query(&client, &jgz(), queries::names::WORKLIST, json!({}))
        .await
        .unwrap();
    assert!(list.kinderen.is_empty());
    let gone = eventually(Duration::from_secs(30), "the record to answer 410", || {
        let client = client.clone();
        async move {
            let r: Result<CommandAccepted, Problem> = request(
                &client,
                api::command_subject(commands::RECORD_OUTREACH),
                request_headers(&jgz(), None, None),
                &json!({ "kindId": child, "datum": d(today), "kanaal": "brief", "uitkomst": "niet-bereikt" }),
                Duration::from_secs(5),
            )
            .await;
            match r {
                Err(p) if p.status == 410 => Some(p),
                _ => None,
            }
        }
    })
    .await;
    assert_eq!(gone.code.as_deref(), Some("gewist"));

    shutdown.cancel();
    service.await.unwrap().unwrap();
    privacy.await.unwrap().unwrap();
}

//! VVE reach end to end over HTTP, on the real stack (privacy, vve, views, gateway over a real
//! nats-server and PostgreSQL): two JGZ organisations in two districts register, indicate and
//! refer; two childcare locations place; the municipality's quarterly monitor equals the figures
//! computed by hand below, small-cell suppression included; each partner sees only its own.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use kansrijk_e2e::{Stack, StackOptions};
use kansrijk_gateway::client::{Client, ClientError};
use kansrijk_runtime::testing::eventually;
use kansrijk_views::vve::monitor::{MonitorConfig, Quarter};
use kansrijk_views::vve::queries::{ChildcareOverview, MonitorReport, Worklist};
use kansrijk_views::vve::suppression::SuppressionConfig;
use serde_json::{json, Value};
use uuid::Uuid;

const CHILDCARE_A: &str = "100000001";
const CHILDCARE_B: &str = "100000002";
const WAIT: Duration = Duration::from_secs(30);

/// A fictional BSN starting with 9 that passes the 11-proef.
fn bsn(n: u32) -> String {
    let mut seq = 0u32;
    loop {
        let body = format!("9{:07}", n * 13 + seq);
        let digits: Vec<u32> = body.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let sum: u32 = digits.iter().zip((2..=9).rev()).map(|(d, w)| d * w).sum();
        let check = sum % 11;
        if check < 10 {
            return format!("{body}{check}");
        }
        seq += 1;
    }
}

fn problem(e: &ClientError) -> (u16, String, Vec<String>) {
    let p = e
        .problem()
        .cloned()
        .unwrap_or_else(|| panic!("no problem: {e}"));
    let fields = p
        .invalid_params
        .iter()
        .map(|f| format!("{}:{}", f.name, f.code))
        .collect();
    (p.status, p.code.unwrap_or_default(), fields)
}

struct Scenario {
    quarter: Quarter,
    birth: NaiveDate,
    indicated_on: NaiveDate,
}

impl Scenario {
    fn new() -> Self {
        let quarter = Quarter::containing(Utc::now().date_naive()).previous();
        let r = quarter.reference_date();
        Scenario {
            quarter,
            birth: r.checked_sub_months(chrono::Months::new(36)).unwrap(),
            indicated_on: quarter.first_day() + Days::new(5),
        }
    }

    fn day(&self, n: u64) -> String {
        (self.indicated_on + Days::new(n)).to_string()
    }
}

/// Registers and indicates a child; returns its id.
async fn indicated_child(jgz: &Client, s: &Scenario, n: u32, district: &str) -> Uuid {
    let made = jgz
        .post(
            "/v1/kinderen",
            &json!({
                "bsn": bsn(n),
                "voornaam": format!("Kind{n}"),
                "achternaam": "Testfamilie",
                "geboortedatum": s.birth.to_string(),
                "postcode": "2311 AB",
                "wijk": district,
                "gemeente": "0546",
            }),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("register {n}: {e}"));
    assert_eq!(made.status, 201);
    let kind = made.accepted.stream_id;
    jgz.post(
        &format!("/v1/kinderen/{kind}/indicaties"),
        &json!({ "afgegevenOp": s.indicated_on.to_string(), "criteria": ["taalachterstand"] }),
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("indicate {n}: {e}"));
    kind
}

/// Refers a child to `location`; returns the referral id.
async fn refer(jgz: &Client, s: &Scenario, kind: Uuid, location: &str) -> Uuid {
    let referral = Uuid::new_v4();
    jgz.post(
        &format!("/v1/kinderen/{kind}/verwijzingen"),
        &json!({
            "doorverwezenOp": s.day(1),
            "locaties": [location],
            "verwijzingIds": [referral.to_string()],
        }),
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("refer: {e}"));
    referral
}

async fn place(childcare: &Client, s: &Scenario, kind: Uuid, referral: Uuid, hours: u8) -> Uuid {
    let placement = Uuid::new_v4();
    childcare
        .post(
            &format!("/v1/kinderen/{kind}/plaatsingen"),
            &json!({
                "plaatsingId": placement.to_string(),
                "startdatum": s.day(20),
                "urenPerWeek": hours,
                "verwijzingId": referral.to_string(),
            }),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("place: {e}"));
    placement
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quarterly_figures_worklists_and_api_rules_over_http() {
    // Threshold 2 with zeros published keeps the scenario small while every suppression rule
    // (primary, secondary in rows, columns and margins, linked tables) still has work to do.
    let stack = Stack::start_with(StackOptions {
        vve_monitor: MonitorConfig {
            suppression: SuppressionConfig {
                threshold: 2,
                suppress_zero: false,
            },
            min_denominator: 1,
            trend_quarters: 2,
            round_to: 1,
        },
        ..StackOptions::default()
    })
    .await;
    let s = Scenario::new();
    let jgz_a = stack.client("jgz-verpleegkundige").await;
    let jgz_b = stack.client("jgz-andere-organisatie").await;
    let childcare_a = stack.client("pedagogisch-medewerker").await;
    let childcare_b = stack.client("kinderopvang-andere-locatie").await;
    let gemeente = stack.client("beleidsadviseur").await;
    let other_gemeente = stack.client("beleidsadviseur-leidschendam-voorburg").await;

    // --- 400: every field error at once, from the service's own rules -------------------
    let mut wrong_bsn = bsn(900);
    let last = wrong_bsn.pop().unwrap().to_digit(10).unwrap();
    wrong_bsn.push(char::from_digit((last + 1) % 10, 10).unwrap());
    let e = jgz_a
        .post(
            "/v1/kinderen",
            &json!({
                "bsn": wrong_bsn,
                "voornaam": "Fout",
                "achternaam": "Invoer",
                "geboortedatum": "2099-01-01",
                "postcode": "0000",
                "wijk": "Binnenstad-Noord",
                "gemeente": "0546",
            }),
            None,
        )
        .await
        .expect_err("an invalid registration");
    // No personal data in the problem: not the BSN, not the name, not the birth date.
    let text = serde_json::to_string(e.problem().unwrap()).unwrap();
    for secret in [wrong_bsn.as_str(), "Fout", "Invoer", "2099-01-01"] {
        assert!(!text.contains(secret), "{secret} in a problem: {text}");
    }
    let (status, _, fields) = problem(&e);
    assert_eq!(status, 400);
    for f in [
        "bsn:bsn-elfproef",
        "postcode:postcode-ongeldig",
        "geboortedatum:datum-buiten-horizon",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing in {fields:?}");
    }

    // --- Noord (JGZ A): 4 reached with 16 hours at location A, 3 declined, 1 withdrawn -----
    let mut noord_placed = Vec::new();
    for n in 0..4 {
        let kind = indicated_child(&jgz_a, &s, n, "Binnenstad-Noord").await;
        let referral = refer(&jgz_a, &s, kind, CHILDCARE_A).await;
        let placement = place(&childcare_a, &s, kind, referral, 16).await;
        noord_placed.push((kind, placement));
    }
    let mut noord_declined = Vec::new();
    for n in 4..7 {
        let kind = indicated_child(&jgz_a, &s, n, "Binnenstad-Noord").await;
        jgz_a
            .post(
                &format!("/v1/kinderen/{kind}/afzien-meldingen"),
                &json!({ "datum": s.day(10), "reden": "opvoeden-thuis" }),
                None,
            )
            .await
            .unwrap();
        noord_declined.push(kind);
    }
    let withdrawn = indicated_child(&jgz_a, &s, 7, "Binnenstad-Noord").await;
    jgz_a
        .post(
            &format!("/v1/kinderen/{withdrawn}/indicatie-intrekkingen"),
            &json!({ "ingetrokkenOp": s.day(3), "reden": "onterecht" }),
            None,
        )
        .await
        .unwrap();

    // --- Zuid (JGZ B): 4 reached at location B, 1 moved away, 3 referrals pending ---------
    for n in 10..14 {
        let kind = indicated_child(&jgz_b, &s, n, "Binnenstad-Zuid").await;
        let referral = refer(&jgz_b, &s, kind, CHILDCARE_B).await;
        place(&childcare_b, &s, kind, referral, 16).await;
    }
    let moved = indicated_child(&jgz_b, &s, 14, "Binnenstad-Zuid").await;
    jgz_b
        .post(
            &format!("/v1/kinderen/{moved}/verhuizingen"),
            &json!({ "verhuisdOp": s.day(30) }),
            None,
        )
        .await
        .unwrap();
    let mut zuid_referred = Vec::new();
    for n in 15..18 {
        let kind = indicated_child(&jgz_b, &s, n, "Binnenstad-Zuid").await;
        let referral = refer(&jgz_b, &s, kind, CHILDCARE_B).await;
        zuid_referred.push((kind, referral));
    }

    // --- Idempotent retry: the same Idempotency-Key returns the first result -------------
    let key = Uuid::new_v4();
    let body = json!({
        "bsn": bsn(50), "voornaam": "Herhaal", "achternaam": "Verzoek",
        "geboortedatum": s.birth.to_string(), "postcode": "2312 CD", "wijk": "Stationsdistrict",
        "gemeente": "0546",
    });
    let first = jgz_a.post("/v1/kinderen", &body, Some(key)).await.unwrap();
    let again = jgz_a.post("/v1/kinderen", &body, Some(key)).await.unwrap();
    assert_eq!((first.status, again.status), (201, 200));
    assert_eq!(first.accepted.stream_id, again.accepted.stream_id);
    assert_eq!(again.idempotency_key, key);
    assert_eq!(first.accepted.version, again.accepted.version);
    // A new key for the same child is a new command: refused as a duplicate registration.
    let dup = jgz_a
        .post("/v1/kinderen", &body, None)
        .await
        .expect_err("a duplicate");
    assert_eq!(problem(&dup).0, 409);

    // --- 409: a second placement overlapping the first at the same location -------------
    let (kind0, _) = noord_placed[0];
    let e = childcare_a
        .post(
            &format!("/v1/kinderen/{kind0}/plaatsingen"),
            &json!({ "startdatum": s.day(25), "urenPerWeek": 8 }),
            None,
        )
        .await
        .expect_err("an overlapping placement");
    assert_eq!(problem(&e).0, 409);
    // And hours out of range with a broken date: both errors at once.
    let e = childcare_a
        .post(
            &format!("/v1/kinderen/{kind0}/plaatsingen"),
            &json!({ "startdatum": "31-02-2026", "urenPerWeek": 50 }),
            None,
        )
        .await
        .expect_err("invalid hours and date");
    let (status, _, fields) = problem(&e);
    assert_eq!(status, 400);
    assert!(
        fields.iter().any(|f| f.starts_with("urenPerWeek:")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("startdatum:")),
        "{fields:?}"
    );

    // --- Read-your-writes: right after the command, the worklist shows it ---------------
    let fresh = indicated_child(&jgz_b, &s, 19, "Binnenstad-Zuid").await;
    let outreach = jgz_b
        .post(
            &format!("/v1/kinderen/{fresh}/toeleidingspogingen"),
            &json!({ "datum": s.day(2), "kanaal": "huisbezoek", "uitkomst": "afspraak-gemaakt" }),
            None,
        )
        .await
        .unwrap();
    assert!(outreach.views_current, "the gateway waited for the views");
    let list: Worklist = jgz_b.get("/v1/jgz-werklijst").await.unwrap();
    let row = list
        .kinderen
        .iter()
        .find(|k| k.kind_id == fresh)
        .expect("the new child is on the worklist at once");
    assert_eq!(row.toeleidingspogingen.len(), 1);
    assert_eq!(row.toeleidingspogingen[0].kanaal, "huisbezoek");
    // It counts in the monitor too (column toeleiding loopt): withdraw it again so the
    // hand-computed figures below stay those of the scenario.
    jgz_b
        .post(
            &format!("/v1/kinderen/{fresh}/indicatie-intrekkingen"),
            &json!({ "ingetrokkenOp": s.day(3), "reden": "onterecht" }),
            None,
        )
        .await
        .unwrap();

    // --- Worklists: each JGZ organisation only its own children -------------------------
    let list_a: Worklist = jgz_a.get("/v1/jgz-werklijst").await.unwrap();
    let mut ids_a: Vec<Uuid> = list_a.kinderen.iter().map(|k| k.kind_id).collect();
    ids_a.sort();
    let mut expected_a = noord_declined.clone();
    expected_a.sort();
    assert_eq!(
        ids_a, expected_a,
        "JGZ A: its declined children, nothing of JGZ B"
    );
    assert!(list_a.kinderen.iter().all(|k| k.status == "ouders-zien-af"));
    let list_b: Worklist = jgz_b.get("/v1/jgz-werklijst").await.unwrap();
    let mut ids_b: Vec<Uuid> = list_b.kinderen.iter().map(|k| k.kind_id).collect();
    ids_b.sort();
    let mut expected_b: Vec<Uuid> = zuid_referred.iter().map(|(k, _)| *k).collect();
    expected_b.sort();
    assert_eq!(
        ids_b, expected_b,
        "JGZ B: its referred children (not the moved one)"
    );
    assert!(list_b.kinderen.iter().all(|k| k.verwijzingen.len() == 1));

    // --- Childcare: each location only its own -------------------------------------------
    let view_a: ChildcareOverview = childcare_a.get("/v1/kinderopvang-overzicht").await.unwrap();
    assert_eq!(view_a.lrk, CHILDCARE_A);
    let mut placed_a: Vec<Uuid> = view_a.plaatsingen.iter().map(|p| p.kind_id).collect();
    placed_a.sort();
    let mut expected: Vec<Uuid> = noord_placed.iter().map(|(k, _)| *k).collect();
    expected.sort();
    assert_eq!(placed_a, expected);
    assert!(view_a.verwijzingen.is_empty() && view_a.wachtlijst.is_empty());
    let view_b: ChildcareOverview = childcare_b.get("/v1/kinderopvang-overzicht").await.unwrap();
    assert_eq!(view_b.plaatsingen.len(), 4);
    assert!(view_b
        .plaatsingen
        .iter()
        .all(|p| !expected.contains(&p.kind_id)));
    let mut referred_b: Vec<Uuid> = view_b
        .verwijzingen
        .iter()
        .map(|r| r.verwijzing_id)
        .collect();
    referred_b.sort();
    let mut expected_refs: Vec<Uuid> = zuid_referred.iter().map(|(_, r)| *r).collect();
    expected_refs.sort();
    assert_eq!(referred_b, expected_refs);
    // A JGZ may not read a childcare overview, a childcare location not the monitor.
    assert_eq!(
        jgz_a
            .get::<Value>("/v1/kinderopvang-overzicht")
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    assert_eq!(
        childcare_a
            .get::<Value>("/v1/vve-monitor")
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );

    // --- The municipality's quarter ---------------------------------------------------------
    // Counted at the reference date (children in the window with a standing indication; the
    // withdrawn ones do not count; the moved child moved inside the quarter so it counts as
    // "verhuisd"). Columns: >=16h, <16h, verhuisd, ouders zien af, wachtlijst, verwijzing
    // loopt, onbereikbaar, toeleiding loopt, nog niet benaderd.
    // (Noord is the registry's Binnenstad-Noord, Zuid its Binnenstad-Zuid.)
    //   Noord: [4,0,0,3,0,0,0,0,0] = 7
    //   Zuid:  [4,0,1,0,0,3,0,0,0] = 8
    //   total: [8,0,1,3,0,3,0,0,0] = 15
    // Suppression (threshold 2, zeros published) is decided over every table of the quarter
    // together (ADR 0701): the one moved child (Zuid/verhuisd, 1) must stay as uncertain as the
    // threshold promises across the district, criterion, location and decline-reason tables and
    // the trend. Per call (before) the three decline reasons gave back the hidden "ouders zien af"
    // total, and with the criterion table the moved child. Linked, the district table and the
    // quarter's trend row are hidden whole (a district row of hidden cells is not published, label
    // included); what stays published cannot be combined into the small cell.
    let q = s.quarter;
    let path = format!("/v1/vve-monitor?jaar={}&kwartaal={}", q.year, q.quarter);
    let report: MonitorReport = eventually(WAIT, "the monitor to count every placement", || {
        let gemeente = gemeente.clone();
        let path = path.clone();
        async move {
            let r: MonitorReport = gemeente.get(&path).await.ok()?;
            (r.plaatsingen_gestart == Some(8)).then_some(r)
        }
    })
    .await;
    assert_eq!(report.gemeente, "0546");
    assert_eq!(report.peildatum, q.reference_date());
    assert_eq!(report.drempel, 2);
    assert_eq!(report.bereikt, Some(8));
    // Every placement started 20 days after the indication: the median is 20.
    assert_eq!(report.mediaan_dagen_indicatie_tot_plaatsing, Some(20.0));
    // Hidden with the district table: the totals that, with the published reach, would give
    // the non-reach columns back.
    assert_eq!(
        (
            report.geindiceerd,
            report.niet_bereikt,
            report.bereik_percentage
        ),
        (None, None, None)
    );
    let n = None;
    let w = &report.per_wijk;
    assert!(w.rijen.is_empty(), "no district row is published: {w:?}");
    assert_eq!(w.totaal, n);
    assert!(w.kolomtotalen.iter().flatten().all(Option::is_none));

    // By criterion: every counted child has "taalachterstand"; the moved child's column and the
    // columns that would give it back are hidden.
    let c = &report.per_criterium;
    assert_eq!(c.rijen, vec!["taalachterstand".to_owned()]);
    assert_eq!(
        c.cellen,
        vec![vec![
            Some(8),
            Some(0),
            n,
            n,
            Some(0),
            n,
            Some(0),
            Some(0),
            Some(0)
        ]]
    );
    // The hidden cells of the row: three, so the row's total does not give back any one of them.
    assert_eq!(c.cellen[0].iter().filter(|x| x.is_none()).count(), 3);

    // By location (reached only): 4 + 4 with 16 hours or more.
    let l = &report.per_locatie;
    assert_eq!(
        l.rijen,
        vec![CHILDCARE_A.to_owned(), CHILDCARE_B.to_owned()]
    );
    assert_eq!(
        l.cellen,
        vec![vec![Some(4), Some(0)], vec![Some(4), Some(0)]]
    );

    // Decline reasons: 3 x opvoeden-thuis; their total is hidden (it is the hidden
    // "ouders zien af" column).
    let r = &report.redenen_afzien;
    let i = r.rijen.iter().position(|x| x == "opvoeden-thuis").unwrap();
    assert_eq!(r.cellen[i], vec![Some(3)]);
    assert_eq!(r.kolomtotalen, Some(vec![n]));

    // Trend: the quarter before counts nobody; this quarter's row is hidden with its tables.
    let t = &report.trend;
    assert_eq!(t.rijen.last().unwrap(), &q.label());
    assert_eq!(t.cellen.last().unwrap(), &vec![n, n, n]);
    assert_eq!(t.cellen[0], vec![Some(0), Some(0), Some(0)]);

    // --- Another municipality sees none of this ------------------------------------------
    let other: MonitorReport = other_gemeente.get(&path).await.unwrap();
    assert_eq!(other.gemeente, "1916");
    assert_eq!(other.geindiceerd, Some(0));

    // --- The export: a CSV file of the same quarter --------------------------------------
    let export: Value = gemeente
        .get(&format!(
            "/v1/vve-monitor-exporten?jaar={}&kwartaal={}&formaat=csv",
            q.year, q.quarter
        ))
        .await
        .unwrap();
    assert_eq!(
        export["mediaType"].as_str().unwrap_or("").split(';').next(),
        Some("text/csv")
    );
    assert!(!export["inhoud"].as_str().unwrap_or("").is_empty());

    stack.shutdown().await;
}

/// The vve service asks the gateway's registry whether a location offers VVE before it accepts a
/// referral: both sides speak one contract (a mismatch once made every referral go through
/// unchecked, as "registry did not answer").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_answers_the_vve_services_location_question() {
    use kansrijk_vve_reach::api::{registry_subject, RegistryAnswer, RegistryQuery};
    let stack = Stack::start().await;
    let me = kansrijk_vve_reach::handlers::service_actor(kansrijk_runtime::config::DEFAULT_OIN);
    for (lrk, offers_vve) in [(CHILDCARE_A, true), ("999999999", false)] {
        let answer: Result<RegistryAnswer, kansrijk_proto::problem::Problem> =
            kansrijk_runtime::nats::request(
                &stack.nats_client,
                registry_subject(),
                kansrijk_runtime::nats::request_headers(&me, None, None),
                &RegistryQuery { lrk: lrk.into() },
                Duration::from_secs(10),
            )
            .await;
        assert_eq!(
            answer.expect("the registry answers").vve,
            offers_vve,
            "{lrk}"
        );
    }
    // The batch query the referral uses: one lookup for every location, in the order asked.
    use kansrijk_vve_reach::api::{
        registry_locations_subject, RegistryLocationsAnswer, RegistryLocationsQuery,
    };
    let answer: RegistryLocationsAnswer = kansrijk_runtime::nats::request(
        &stack.nats_client,
        registry_locations_subject(),
        kansrijk_runtime::nats::request_headers(&me, None, None),
        &RegistryLocationsQuery {
            lrks: vec![CHILDCARE_A.into(), "999999999".into(), CHILDCARE_B.into()],
        },
        Duration::from_secs(10),
    )
    .await
    .expect("the registry answers the batch");
    let got: Vec<(&str, bool)> = answer
        .locaties
        .iter()
        .map(|l| (l.lrk.as_str(), l.vve))
        .collect();
    assert_eq!(
        got,
        vec![
            (CHILDCARE_A, true),
            ("999999999", false),
            (CHILDCARE_B, true)
        ]
    );
}

//! End to end over real NATS and PostgreSQL: commands to the casework service's `run()`, events
//! through the relay and JetStream into the casework projections, queries to the views' NATS
//! endpoints. A case director, a consented participant, a participant without consent, an
//! outsider and the municipality each see exactly what they should; revoking or expiring a
//! consent removes access at the next query; no query path shows a non-consented part.

mod common;

use common::*;
use kansrijk_privacy::disclosure::{assert_disclosure, untested_disclosures, FieldCategories};
use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::casework::subjects as s;
use kansrijk_proto::casework::PlanPart;
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::privacy::subjects::subject_access_part;
use kansrijk_runtime::access_log::AccessEvent;
use kansrijk_views::casework::disclosure;
use kansrijk_views::casework::queries::{Access, CaseView, Caseload, Monitor, OwnActions};
use serde_json::{json, Value};
use uuid::Uuid;

const CONCERN: &str = "GEHEIM-ZORG: schulden en spanningen thuis";
const STRENGTH: &str = "STERK: grootouders helpen elke week";
const NETWORK: &str = "NETWERK: buurvrouw haalt het kind van school";
const GOAL: &str = "DOEL: het kind gaat elke dag naar school";
const SCHOOL_ACTION: &str = "ACTIE-SCHOOL: dagelijks contact over aanwezigheid";
const JGZ_ACTION: &str = "ACTIE-JGZ: groeicontrole plannen";
const MINUTES: &str = "VERSLAG: het gaat beter";
const REPORT: &str = "MELDING: ernstige zorgen over veiligheid";
const SAFETY: &str = "VEILIGHEID: vader woont tijdelijk elders";
const GIVEN: &str = "Aminaqx";
const FAMILY: &str = "Bakkaliqx";
const CHILD: &str = "Yusufqx";

/// Every plaintext of a part, to scan replies for.
fn part_texts(part: PlanPart) -> &'static [&'static str] {
    match part {
        PlanPart::Gezinsleden => &[GIVEN, FAMILY, CHILD],
        PlanPart::SterkePunten => &[STRENGTH],
        PlanPart::Zorgen => &[CONCERN],
        PlanPart::Netwerk => &[NETWORK],
        PlanPart::DoelenActies => &[GOAL, SCHOOL_ACTION, JGZ_ACTION],
        PlanPart::Evaluaties => &[MINUTES],
        PlanPart::Uren => &[],
        PlanPart::Veiligheid => &[REPORT, SAFETY],
    }
}

/// The JSON key of each part in a case view.
fn part_key(part: PlanPart) -> &'static str {
    match part {
        PlanPart::Gezinsleden => "gezinsleden",
        PlanPart::SterkePunten => "sterkePunten",
        PlanPart::Zorgen => "zorgen",
        PlanPart::Netwerk => "netwerk",
        PlanPart::DoelenActies => "doelen",
        PlanPart::Evaluaties => "evaluaties",
        PlanPart::Uren => "uren",
        PlanPart::Veiligheid => "veiligheid",
    }
}

/// Asserts that `reply` shows exactly `allowed` of the plan: no key and no plaintext of any other
/// part, anywhere in the JSON.
fn assert_only_parts(reply: &Value, allowed: &[PlanPart]) {
    let text = reply.to_string();
    for part in PlanPart::ALL {
        if allowed.contains(&part) {
            continue;
        }
        assert!(
            reply.get(part_key(part)).is_none(),
            "part {part:?} present in {text}"
        );
        for t in part_texts(part) {
            // Action texts are also in the goals part; an org's own actions view is checked apart.
            assert!(!text.contains(t), "{t:?} of {part:?} leaked in {text}");
        }
    }
}

async fn open_case(stack: &Stack) -> Uuid {
    let a = stack
        .send_seen(
            &director(),
            s::OPEN_CASE,
            &json!({
                "wijk": "Leiden-Noord",
                "geopendOp": days_ago(30),
                "gezinsleden": [
                    {"rol": "ouder", "voornaam": GIVEN, "achternaam": FAMILY},
                    {"rol": "kind", "voornaam": CHILD, "achternaam": FAMILY,
                     "geboortedatum": "2021-05-01",
                     "dossier": {"dienst": "vve", "streamId": Uuid::from_u128(0x5a5a)}}
                ]
            }),
        )
        .await;
    a.stream_id
}

/// Opens a case with a whole plan: school consented for strengths and goals/actions, JGZ joined
/// without consent, an action for each.
async fn case_with_plan(stack: &Stack) -> (Uuid, Uuid) {
    let case = open_case(stack).await;
    let d = director();
    for (org, t) in [(SCHOOL, "basisschool"), (JGZ, "jgz")] {
        stack
            .send_seen(
                &d,
                s::ADD_PARTICIPANT,
                &json!({"casusId": case, "organisatie": org, "organisatietype": t, "datum": days_ago(29)}),
            )
            .await;
    }
    let consent = Uuid::new_v4();
    stack
        .send_seen(
            &d,
            s::GRANT_CONSENT,
            &json!({"casusId": case, "toestemmingId": consent, "organisatie": SCHOOL,
                    "onderdelen": ["sterke-punten", "doelen-acties"],
                    "gegevenOp": days_ago(28), "geldigTot": days_ahead(300), "gegevenDoor": "ouders"}),
        )
        .await;
    stack
        .send_seen(
            &d,
            s::RECORD_STRENGTHS,
            &json!({"casusId": case, "sterkePunten": [STRENGTH], "vastgelegdOp": days_ago(27)}),
        )
        .await;
    let concern = Uuid::new_v4();
    stack
        .send_seen(&d, s::RECORD_CONCERN, &json!({"casusId": case, "zorgId": concern, "prioriteit": "hoog", "omschrijving": CONCERN, "vastgelegdOp": days_ago(27)}))
        .await;
    stack
        .send_seen(
            &d,
            s::RECORD_NETWORK,
            &json!({"casusId": case, "inzet": [NETWORK], "vastgelegdOp": days_ago(27)}),
        )
        .await;
    let goal = Uuid::new_v4();
    stack
        .send_seen(&d, s::SET_GOAL, &json!({"casusId": case, "doelId": goal, "zorgId": concern, "omschrijving": GOAL, "streefdatum": days_ahead(120), "gesteldOp": days_ago(26)}))
        .await;
    for (org, text) in [(SCHOOL, SCHOOL_ACTION), (JGZ, JGZ_ACTION)] {
        stack
            .send_seen(&d, s::ASSIGN_ACTION, &json!({"casusId": case, "doelId": goal, "organisatie": org, "omschrijving": text, "deadline": days_ahead(20), "toegewezenOp": days_ago(26)}))
            .await;
    }
    stack
        .send_seen(
            &d,
            s::ADOPT_PLAN,
            &json!({"casusId": case, "vastgesteldOp": days_ago(25)}),
        )
        .await;
    let review = Uuid::new_v4();
    stack
        .send_seen(
            &d,
            s::SCHEDULE_REVIEW,
            &json!({"casusId": case, "evaluatieId": review, "gepland": days_ahead(200)}),
        )
        .await;
    stack
        .send_seen(
            &d,
            s::RECORD_HOURS,
            &json!({"casusId": case, "datum": days_ago(20), "minuten": 660, "soort": "regie"}),
        )
        .await;
    stack
        .send_seen(&school(), s::RECORD_HOURS, &json!({"casusId": case, "datum": days_ago(20), "minuten": 45, "soort": "ondersteuning"}))
        .await;
    (case, consent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_party_sees_exactly_what_it_should_and_consent_is_checked_at_every_query() {
    let stack = Stack::start().await;
    let (case, school_consent) = case_with_plan(&stack).await;
    let q = json!({"casusId": case});

    // The case director: the caseload with the family, the whole plan.
    let load_json = stack
        .query_raw(&director(), s::QUERY_CASELOAD, &json!({}))
        .await
        .unwrap();
    let load: Caseload = serde_json::from_value(load_json.clone()).unwrap();
    assert_eq!(load.casussen.len(), 1);
    let item = &load.casussen[0];
    assert_eq!(item.casus_id, case);
    assert!(item.gezinsleden.iter().any(|m| m.voornaam == CHILD));
    assert_eq!(item.planversie, 1);
    assert!(!item.evaluatie_te_laat);
    assert_eq!(item.open_acties, 2);
    assert_eq!(item.urenbudget_regie, 10);
    assert_eq!(item.uren_regie, 11.0);
    assert!(item.budget_overschreden, "11 hours against a budget of 10");
    // A colleague in the same youth team directs nothing of this; covering, they see it.
    let mut colleague = director();
    colleague.person = "pseudoniem-collega".into();
    let own: Caseload = stack
        .query(&colleague, s::QUERY_CASELOAD, &json!({}))
        .await
        .unwrap();
    assert!(own.casussen.is_empty());
    let all: Caseload = stack
        .query(
            &colleague,
            s::QUERY_CASELOAD,
            &json!({"alleOrganisatie": true}),
        )
        .await
        .unwrap();
    assert_eq!(all.casussen.len(), 1);
    let full = stack
        .query_raw(&director(), s::QUERY_CASE, &q)
        .await
        .unwrap();
    let view: CaseView = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(view.toegang, Access::Regie);
    assert_eq!(view.zichtbare_onderdelen.len(), 8);
    for t in [
        GIVEN,
        STRENGTH,
        CONCERN,
        NETWORK,
        GOAL,
        SCHOOL_ACTION,
        JGZ_ACTION,
    ] {
        assert!(full.to_string().contains(t), "director misses {t}");
    }
    assert_eq!(view.deelnemers.as_ref().unwrap().len(), 2);
    let child = view
        .gezinsleden
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.voornaam == CHILD)
        .unwrap();
    assert_eq!(
        child.dossier.as_ref().unwrap().stream_id,
        Uuid::from_u128(0x5a5a)
    );

    // The consented school: strengths and goals/actions, nothing else of the plan.
    let school_view = stack.query_raw(&school(), s::QUERY_CASE, &q).await.unwrap();
    let parsed: CaseView = serde_json::from_value(school_view.clone()).unwrap();
    assert_eq!(parsed.toegang, Access::Toestemming);
    assert_eq!(
        parsed.zichtbare_onderdelen,
        vec![PlanPart::SterkePunten, PlanPart::DoelenActies]
    );
    assert_only_parts(
        &school_view,
        &[PlanPart::SterkePunten, PlanPart::DoelenActies],
    );
    assert!(school_view.to_string().contains(STRENGTH));
    assert!(school_view.to_string().contains(SCHOOL_ACTION));
    let actions_json = stack
        .query_raw(&school(), s::QUERY_ACTIONS, &json!({}))
        .await
        .unwrap();
    let actions: OwnActions = serde_json::from_value(actions_json.clone()).unwrap();
    assert_eq!(actions.acties.len(), 1);
    assert_eq!(actions.acties[0].omschrijving, SCHOOL_ACTION);
    assert_eq!(actions.acties[0].regie_organisatie, TEAM);

    // JGZ takes part without consent: only that the case exists and who directs it.
    let jgz_view = stack.query_raw(&jgz(), s::QUERY_CASE, &q).await.unwrap();
    let parsed: CaseView = serde_json::from_value(jgz_view.clone()).unwrap();
    assert_eq!(parsed.toegang, Access::AlleenBestaan);
    assert_eq!(parsed.regie_organisatie, TEAM);
    assert!(parsed.zichtbare_onderdelen.is_empty());
    assert!(parsed.deelnemers.is_none());
    assert_only_parts(&jgz_view, &[]);
    let jgz_actions = stack
        .query_raw(&jgz(), s::QUERY_ACTIONS, &json!({}))
        .await
        .unwrap();
    assert_eq!(jgz_actions, json!({"acties": []}), "no consent, no actions");

    // An outsider: the case does not exist; a youth team that does not direct has no caseload.
    let p = stack
        .query_raw(&other_team(), s::QUERY_CASE, &q)
        .await
        .unwrap_err();
    assert_eq!(p.status, 404);
    let other: Caseload = stack
        .query(&other_team(), s::QUERY_CASELOAD, &json!({}))
        .await
        .unwrap();
    assert!(other.casussen.is_empty());

    // The municipality: aggregates only, no case view, no caseload, nothing personal.
    for subj in [s::QUERY_CASE, s::QUERY_CASELOAD, s::QUERY_ACTIONS] {
        let p = stack
            .query_raw(&municipality(), subj, &q)
            .await
            .unwrap_err();
        assert_eq!(p.status, 403, "{subj}");
    }
    let monitor = stack
        .query_raw(&municipality(), s::QUERY_MONITOR, &json!({}))
        .await
        .unwrap();
    let m: Monitor = serde_json::from_value(monitor.clone()).unwrap();
    assert_eq!(m.gemeente, GEMEENTE);
    assert_eq!(m.wijken.len(), 1);
    assert_eq!(m.wijken[0].totaal, None, "one case is a small cell");
    assert_eq!(m.totaal.totaal, None);
    assert_eq!(m.totaal.uren_gebruikt, None);
    assert!(!monitor.to_string().contains(&case.to_string()));
    assert_only_parts(&monitor, &[]);
    // Partners may not read the monitor.
    assert_eq!(
        stack
            .query_raw(&school(), s::QUERY_MONITOR, &json!({}))
            .await
            .unwrap_err()
            .status,
        403
    );

    // Every read of personal data was logged, as the reader, before the data went out.
    let log = stack.peer().access_log();
    let reads = |org: &str, point: &str| {
        log.iter()
            .filter(|e| e.organisation == org && e.access_point == point && e.subject == Some(case))
            .count()
    };
    assert!(reads(TEAM, "casework.werklijst") >= 1);
    assert!(reads(TEAM, "casework.casus") >= 1);
    assert!(reads(SCHOOL, "casework.casus") >= 1);
    assert!(reads(SCHOOL, "casework.acties") >= 1);
    assert_eq!(
        reads(JGZ, "casework.casus"),
        0,
        "nothing personal was shown to JGZ"
    );

    // Revoking the school's consent: gone at its next query, on every path.
    stack
        .send_seen(
            &director(),
            s::REVOKE_CONSENT,
            &json!({"casusId": case, "toestemmingId": school_consent, "ingetrokkenOp": today()}),
        )
        .await;
    let after = stack.query_raw(&school(), s::QUERY_CASE, &q).await.unwrap();
    assert_eq!(after["toegang"], "alleen-bestaan");
    assert_only_parts(&after, &[]);
    let actions = stack
        .query_raw(&school(), s::QUERY_ACTIONS, &json!({}))
        .await
        .unwrap();
    assert_eq!(actions, json!({"acties": []}));
    let v: CaseView = stack.query(&director(), s::QUERY_CASE, &q).await.unwrap();
    let consents = v.toestemmingen.unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].status, "ingetrokken");
    assert_eq!(consents[0].onderdelen, ["sterke-punten", "doelen-acties"]);
    // Only the directing organisation sees the consents.
    assert!(school_view.get("toestemmingen").is_none());

    // Expiry: JGZ gets a consent for concerns valid for five more days; on day six it is gone
    // without any event.
    stack
        .send_seen(
            &director(),
            s::GRANT_CONSENT,
            &json!({"casusId": case, "organisatie": JGZ, "onderdelen": ["zorgen"],
                    "gegevenOp": today(), "geldigTot": days_ahead(5), "gegevenDoor": "ouder"}),
        )
        .await;
    let with = stack.query_raw(&jgz(), s::QUERY_CASE, &q).await.unwrap();
    assert_only_parts(&with, &[PlanPart::Zorgen]);
    assert!(with.to_string().contains(CONCERN));
    stack.advance_days(5);
    let last_day = stack.query_raw(&jgz(), s::QUERY_CASE, &q).await.unwrap();
    assert!(
        last_day.to_string().contains(CONCERN),
        "valid through its last day"
    );
    stack.advance_days(1);
    let expired = stack.query_raw(&jgz(), s::QUERY_CASE, &q).await.unwrap();
    assert_eq!(expired["toegang"], "alleen-bestaan");
    assert_only_parts(&expired, &[]);
    // The clock stays six days ahead: JGZ's consent remains expired below.

    // Escalation to Veilig Thuis with JGZ as a party: a legal hold, a break-glass entry, and the
    // safety part (only that) opens to JGZ without consent, each read logged as break-glass.
    stack
        .send_seen(
            &director(),
            s::RECORD_SAFETY_PLAN,
            &json!({"casusId": case, "veiligheidsplan": [SAFETY], "vastgelegdOp": today()}),
        )
        .await;
    let before = stack.peer().access_log().len();
    stack
        .send_seen(
            &director(),
            s::ESCALATE,
            &json!({"casusId": case, "gemeldOp": today(), "partijen": [JGZ],
                    "grondslag": "meldcode-afweging-5", "melding": REPORT}),
        )
        .await;
    {
        let st = stack.peer().state.lock().unwrap();
        assert_eq!(st.holds.len(), 1);
        assert_eq!(st.holds[0].subject, case);
        assert_eq!(st.holds[0].reason, "veilig-thuis-melding");
        let bg = &st.access_log[before..];
        assert!(bg.iter().any(|e| e.event == AccessEvent::BreakGlass
            && e.organisation == TEAM
            && e.subject == Some(case)
            && e.access_point == "casework.veilig-thuis-melden"));
    }
    let jgz_safety = stack.query_raw(&jgz(), s::QUERY_CASE, &q).await.unwrap();
    assert_eq!(jgz_safety["toegang"], "melding");
    assert_only_parts(&jgz_safety, &[PlanPart::Veiligheid]);
    assert!(jgz_safety.to_string().contains(REPORT));
    assert!(jgz_safety.to_string().contains(SAFETY));
    assert!(stack
        .peer()
        .access_log()
        .iter()
        .any(|e| e.event == AccessEvent::BreakGlass
            && e.organisation == JGZ
            && e.subject == Some(case)));
    // Disclosure policy: every field of every casework view's output (the fullest samples of
    // this scenario) has a category the policy allows for each organisation type it serves.
    let fields =
        |pairs: &[(&'static str, DataCategory)]| FieldCategories::from_pairs(pairs.iter().copied());
    let full = stack
        .query_raw(&director(), s::QUERY_CASE, &q)
        .await
        .unwrap();
    for part in PlanPart::ALL {
        assert!(
            full.get(part_key(part)).is_some(),
            "the sample lacks {part:?}"
        );
    }
    let mut checked = Vec::new();
    for t in [
        OrganisationType::Jgz,
        OrganisationType::Kinderopvang,
        OrganisationType::Basisschool,
        OrganisationType::VoortgezetOnderwijs,
        OrganisationType::Jeugdteam,
    ] {
        assert_disclosure("casework.casus", t, &full, &fields(disclosure::CASE));
        assert_disclosure(
            "casework.acties",
            t,
            &actions_json,
            &fields(disclosure::ACTIONS),
        );
        checked.push(("casework.casus", t));
        checked.push(("casework.acties", t));
    }
    assert_disclosure(
        "casework.werklijst",
        OrganisationType::Jeugdteam,
        &load_json,
        &fields(disclosure::CASELOAD),
    );
    checked.push(("casework.werklijst", OrganisationType::Jeugdteam));
    assert_disclosure(
        "casework.monitor",
        OrganisationType::Gemeente,
        &monitor,
        &fields(disclosure::MONITOR),
    );
    checked.push(("casework.monitor", OrganisationType::Gemeente));
    // The subject access part for the privacy officer: everything, opened, logged as an export.
    let part = stack
        .query_raw(
            &officer(),
            &subject_access_part("casework"),
            &json!({"subject": case}),
        )
        .await
        .unwrap();
    for t in [
        GIVEN, CHILD, CONCERN, STRENGTH, NETWORK, GOAL, REPORT, SAFETY,
    ] {
        assert!(
            part.to_string().contains(t),
            "subject access part lacks {t}"
        );
    }
    assert!(!part.to_string().contains("ciphertext"));
    assert_disclosure(
        "casework.inzage",
        OrganisationType::Privacyfunctionaris,
        &part,
        &fields(&[
            ("service", DataCategory::Administrative),
            ("subject", DataCategory::Administrative),
            ("sections", DataCategory::Administrative),
            ("sections.data", DataCategory::Safety),
        ]),
    );
    checked.push(("casework.inzage", OrganisationType::Privacyfunctionaris));
    assert!(stack
        .peer()
        .access_log()
        .iter()
        .any(|e| e.event == AccessEvent::Export
            && e.subject == Some(case)
            && e.access_point == "casework.inzage"));
    assert_eq!(untested_disclosures("casework.", &checked), vec![]);
    // Nobody else gets the subject access part.
    for a in [director(), school(), municipality()] {
        let p = stack
            .query_raw(
                &a,
                &subject_access_part("casework"),
                &json!({"subject": case}),
            )
            .await
            .unwrap_err();
        assert_eq!(p.status, 403);
    }

    // The school is no party and has no consent: still nothing.
    let school_after = stack.query_raw(&school(), s::QUERY_CASE, &q).await.unwrap();
    assert_only_parts(&school_after, &[]);

    // Closing registers the retention of the case with the privacy service.
    let closed = stack
        .send_seen(
            &director(),
            s::CLOSE_CASE,
            &json!({"casusId": case, "geslotenOp": today(), "uitkomst": "overgenomen-door-veilig-thuis"}),
        )
        .await;
    assert!(closed.first_time);
    {
        let st = stack.peer().state.lock().unwrap();
        assert_eq!(st.retention.len(), 1);
        assert_eq!(st.retention[0].subject, case);
        assert_eq!(st.retention[0].start_date, today());
    }
    let p = stack
        .send(&director(), s::ADD_PARTICIPANT, &json!({"casusId": case, "organisatie": "99ZZ00", "organisatietype": "basisschool", "datum": today()}))
        .await
        .unwrap_err();
    assert_eq!(p.status, 409);
    let v: CaseView = stack.query(&director(), s::QUERY_CASE, &q).await.unwrap();
    assert_eq!(v.status, "gesloten");
    assert_eq!(v.uitkomst.as_deref(), Some("overgenomen-door-veilig-thuis"));

    // Erasure: the rows go, the case is gone for everyone.
    stack.peer().erase(case).await;
    kansrijk_runtime::testing::eventually(
        std::time::Duration::from_secs(20),
        "erasure applied",
        || async {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM cw_cases WHERE case_id = $1")
                .bind(case)
                .fetch_one(&stack.views_pool)
                .await
                .unwrap();
            (n == 0).then_some(())
        },
    )
    .await;
    for t in [
        "cw_consents",
        "cw_actions",
        "cw_goals",
        "cw_concerns",
        "cw_escalations",
        "cw_participants",
        "cw_hours",
        "cw_reviews",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t} WHERE case_id = $1"))
            .bind(case)
            .fetch_one(&stack.views_pool)
            .await
            .unwrap();
        assert_eq!(n, 0, "{t} still holds rows");
    }
    assert_eq!(
        stack
            .query_raw(&director(), s::QUERY_CASE, &q)
            .await
            .unwrap_err()
            .status,
        404
    );
    // Commands on an erased family answer 410.
    let p = stack
        .send(
            &director(),
            s::RECORD_HOURS,
            &json!({"casusId": case, "datum": today(), "minuten": 30, "soort": "regie"}),
        )
        .await
        .unwrap_err();
    assert!(p.status == 410 || p.status == 409, "got {}", p.status);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_are_idempotent_authorised_and_refused_with_problems() {
    let stack = Stack::start().await;
    let case = open_case(&stack).await;

    // A retry with the same Idempotency-Key appends nothing and returns the first result.
    let key = Uuid::new_v4();
    let body = json!({"casusId": case, "organisatie": SCHOOL, "organisatietype": "basisschool", "datum": today()});
    let first = stack
        .send_with(&director(), s::ADD_PARTICIPANT, &body, key)
        .await
        .unwrap();
    let again = stack
        .send_with(&director(), s::ADD_PARTICIPANT, &body, key)
        .await
        .unwrap();
    assert!(first.first_time && !again.first_time);
    assert_eq!(
        (first.version, first.position),
        (again.version, again.position)
    );

    // Policy: a school cannot open a case or add participants; the municipality cannot either.
    let open = json!({"wijk": "Leiden-Noord", "geopendOp": today(), "gezinsleden": [{"rol": "kind", "voornaam": "A", "achternaam": "B"}]});
    assert_eq!(
        stack
            .send(&school(), s::OPEN_CASE, &open)
            .await
            .unwrap_err()
            .status,
        403
    );
    assert_eq!(
        stack
            .send(&municipality(), s::OPEN_CASE, &open)
            .await
            .unwrap_err()
            .status,
        403
    );
    let add_jgz =
        json!({"casusId": case, "organisatie": JGZ, "organisatietype": "jgz", "datum": today()});
    assert_eq!(
        stack
            .send(&school(), s::ADD_PARTICIPANT, &add_jgz)
            .await
            .unwrap_err()
            .status,
        403
    );
    // Another youth team is not the director of this case.
    assert_eq!(
        stack
            .send(&other_team(), s::ADD_PARTICIPANT, &add_jgz)
            .await
            .unwrap_err()
            .status,
        403
    );

    // Invalid input: every field error at once, no personal data in the problem.
    let p = stack
        .send(&director(), s::OPEN_CASE, &json!({"wijk": "Leiden-Noord", "geopendOp": today(), "gezinsleden": [{"rol": "ouder", "voornaam": " ", "achternaam": "Geheimnaam"}]}))
        .await
        .unwrap_err();
    assert_eq!(p.status, 400);
    let names: Vec<_> = p.invalid_params.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["gezinsleden", "gezinsleden[0].voornaam"]);
    assert!(!serde_json::to_string(&p).unwrap().contains("Geheimnaam"));

    // The request's own field errors and the domain's come together in one 400.
    let p = stack
        .send(
            &director(),
            s::SET_GOAL,
            &json!({"casusId": case, "omschrijving": "  ", "streefdatum": days_ago(400),
                    "gesteldOp": days_ahead(30)}),
        )
        .await
        .unwrap_err();
    assert_eq!(p.status, 400);
    let names: Vec<_> = p.invalid_params.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["omschrijving", "gesteldOp", "streefdatum"]);
    // A participant's refusal comes before its invalid input.
    let p = stack
        .send(
            &school(),
            s::SET_GOAL,
            &json!({"casusId": case, "omschrijving": "", "streefdatum": today(), "gesteldOp": today()}),
        )
        .await
        .unwrap_err();
    assert_eq!(p.status, 403);

    // A malformed body is a 400; an unknown case a 404.
    assert_eq!(
        stack
            .send(&director(), s::SET_GOAL, &json!({"casusId": 5}))
            .await
            .unwrap_err()
            .status,
        400
    );
    let unknown = json!({"casusId": Uuid::new_v4(), "organisatie": JGZ, "organisatietype": "jgz", "datum": today()});
    assert_eq!(
        stack
            .send(&director(), s::ADD_PARTICIPANT, &unknown)
            .await
            .unwrap_err()
            .status,
        404
    );

    // The privacy service not answering: the escalation is not stored, a retry works.
    stack.peer().state.lock().unwrap().unavailable = true;
    let esc = json!({"casusId": case, "gemeldOp": today(), "grondslag": "acute-onveiligheid", "melding": "x"});
    let key = Uuid::new_v4();
    assert_eq!(
        stack
            .send_with(&director(), s::ESCALATE, &esc, key)
            .await
            .unwrap_err()
            .status,
        503
    );
    stack.peer().state.lock().unwrap().unavailable = false;
    let a = stack
        .send_with(&director(), s::ESCALATE, &esc, key)
        .await
        .unwrap();
    assert!(a.first_time);
    assert_eq!(stack.peer().state.lock().unwrap().holds.len(), 1);

    // Closing while retention cannot be registered: 503, the retry registers it without
    // closing twice.
    stack.peer().state.lock().unwrap().unavailable = true;
    let close = json!({"casusId": case, "geslotenOp": today(), "uitkomst": "doelen-behaald"});
    let key = Uuid::new_v4();
    assert_eq!(
        stack
            .send_with(&director(), s::CLOSE_CASE, &close, key)
            .await
            .unwrap_err()
            .status,
        503
    );
    stack.peer().state.lock().unwrap().unavailable = false;
    let retried = stack
        .send_with(&director(), s::CLOSE_CASE, &close, key)
        .await
        .unwrap();
    assert!(!retried.first_time);
    assert_eq!(stack.peer().state.lock().unwrap().retention.len(), 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_the_privacy_service_an_escalated_family_is_held_logged_and_fully_accessible_to_the_officer(
) {
    let stack = Stack::start_with_privacy_service().await;
    let (case, _) = case_with_plan(&stack).await;
    let q = json!({"casusId": case});

    // Keys come from the privacy service: the views open what the school may see.
    let school_view = stack.query_raw(&school(), s::QUERY_CASE, &q).await.unwrap();
    assert!(school_view.to_string().contains(STRENGTH));
    assert_only_parts(
        &school_view,
        &[PlanPart::SterkePunten, PlanPart::DoelenActies],
    );

    // The escalation places a legal hold and logs break-glass; JGZ's read of the safety part
    // is logged as break-glass too.
    stack
        .send_seen(
            &director(),
            s::ESCALATE,
            &json!({"casusId": case, "gemeldOp": today(), "partijen": [JGZ],
                    "grondslag": "vermoeden-kindermishandeling", "melding": REPORT}),
        )
        .await;
    let jgz_view = stack.query_raw(&jgz(), s::QUERY_CASE, &q).await.unwrap();
    assert_eq!(jgz_view["toegang"], "melding");
    assert_only_parts(&jgz_view, &[PlanPart::Veiligheid]);
    let log = stack
        .query_raw(
            &officer(),
            kansrijk_proto::privacy::subjects::ACCESS_LOG_QUERY,
            &json!({"subject": case, "event": "break-glass"}),
        )
        .await
        .unwrap();
    let entries = log["entries"].as_array().unwrap();
    let orgs: Vec<&str> = entries
        .iter()
        .map(|e| e["organisation"].as_str().unwrap())
        .collect();
    assert!(orgs.contains(&TEAM) && orgs.contains(&JGZ), "{log}");

    // The family may not be erased while the hold is in place.
    let p = stack
        .send(
            &officer(),
            kansrijk_proto::privacy::subjects::ERASE,
            &json!({"subject": case, "grounds": "verzoek-betrokkene"}),
        )
        .await
        .unwrap_err();
    assert_eq!(p.status, 409, "{p:?}");

    // Closing registers the retention of the case.
    stack
        .send_seen(
            &director(),
            s::CLOSE_CASE,
            &json!({"casusId": case, "geslotenOp": today(), "uitkomst": "overgenomen-door-veilig-thuis",
                    "toelichting": "Veilig Thuis neemt het over"}),
        )
        .await;

    // The officer's subject access document holds the casework part, opened, and the privacy
    // service's own part shows the hold and the retention.
    let doc = stack
        .query_raw(
            &officer(),
            kansrijk_proto::privacy::subjects::SUBJECT_ACCESS,
            &json!({"subject": case}),
        )
        .await
        .unwrap();
    let parts = doc["document"]["parts"].as_array().unwrap();
    let casework = parts
        .iter()
        .find(|p| p["service"] == "casework")
        .expect("a casework part");
    for t in [GIVEN, CONCERN, GOAL, REPORT, "Veilig Thuis neemt het over"] {
        assert!(casework.to_string().contains(t), "casework part lacks {t}");
    }
    let privacy = parts
        .iter()
        .find(|p| p["service"] == "privacy")
        .expect("a privacy part")
        .to_string();
    assert!(privacy.contains("veilig-thuis-melding"), "{privacy}");
    assert!(privacy.contains("casus"), "{privacy}");
    stack.stop().await;
}

const NOORD: &str = "Leiden-Noord";
const ZUID: &str = "Binnenstad-Zuid";
const OOST: &str = "Morsdistrict";
const WEST: &str = "Stevenshofdistrict";

async fn planned_case(stack: &Stack, district: &str, opened: u64, adopted: u64) -> Uuid {
    let d = director();
    let a = stack
        .send_seen(
            &d,
            s::OPEN_CASE,
            &json!({"wijk": district, "geopendOp": days_ago(opened),
                    "gezinsleden": [{"rol": "kind", "voornaam": CHILD, "achternaam": FAMILY}]}),
        )
        .await;
    let case = a.stream_id;
    stack
        .send_seen(
            &d,
            s::SET_GOAL,
            &json!({"casusId": case, "omschrijving": GOAL,
            "streefdatum": days_ahead(60), "gesteldOp": days_ago(adopted)}),
        )
        .await;
    stack
        .send_seen(
            &d,
            s::ADOPT_PLAN,
            &json!({"casusId": case, "vastgesteldOp": days_ago(adopted)}),
        )
        .await;
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overdue_reviews_are_flagged_and_the_municipality_sees_suppressed_aggregates_only() {
    let stack = Stack::start().await;
    // Nine cases in Leiden-Noord whose plan is 320 days old (review overdue after 10 months),
    // ten in Binnenstad-Zuid with a fresh plan, four each in Morsdistrict and Stevenshofdistrict
    // (two small cells that together are no smaller than the threshold, so that the published
    // total minus the large cells does not narrow them: no other district needs secondary
    // suppression).
    let mut noord = Vec::new();
    for _ in 0..9 {
        noord.push(planned_case(&stack, NOORD, 340, 320).await);
    }
    for _ in 0..10 {
        planned_case(&stack, ZUID, 100, 90).await;
    }
    for _ in 0..4 {
        planned_case(&stack, OOST, 50, 45).await;
        planned_case(&stack, WEST, 50, 45).await;
    }

    let load: Caseload = stack
        .query(&director(), s::QUERY_CASELOAD, &json!({}))
        .await
        .unwrap();
    assert_eq!(load.casussen.len(), 27);
    let overdue: Vec<Uuid> = load
        .casussen
        .iter()
        .filter(|c| c.evaluatie_te_laat)
        .map(|c| c.casus_id)
        .collect();
    assert_eq!(overdue.len(), 9);
    assert!(overdue.iter().all(|c| noord.contains(c)));
    let view: CaseView = stack
        .query(&director(), s::QUERY_CASE, &json!({"casusId": noord[0]}))
        .await
        .unwrap();
    assert!(view.evaluaties.unwrap().te_laat);

    let raw = stack
        .query_raw(&municipality(), s::QUERY_MONITOR, &json!({}))
        .await
        .unwrap();
    let m: Monitor = serde_json::from_value(raw.clone()).unwrap();
    let row = |w: &str| m.wijken.iter().find(|r| r.wijk == w).unwrap().clone();
    let (n, z, o) = (row(NOORD), row(ZUID), row(OOST));
    assert_eq!(n.totaal, Some(9));
    assert_eq!(n.percentage_evaluatie_te_laat, Some(100.0));
    assert_eq!(n.mediaan_dagen_tot_eerste_plan, Some(20));
    assert_eq!(z.totaal, Some(10));
    assert_eq!(z.percentage_evaluatie_te_laat, Some(0.0));
    assert_eq!(z.mediaan_dagen_tot_eerste_plan, Some(10));
    // Morsdistrict is four families: nothing about it is published, and it cannot be recovered.
    assert_eq!(
        (
            o.totaal,
            o.lopend,
            o.mediaan_dagen_tot_eerste_plan,
            o.uren_gebruikt
        ),
        (None, None, None, None)
    );
    assert!(
        m.totaal.totaal.is_none() || m.wijken.iter().filter(|r| r.totaal.is_none()).count() >= 2
    );
    // Nothing in the monitor names or identifies a case or a person.
    let text = raw.to_string();
    assert!(!text.contains(CHILD) && !text.contains(FAMILY) && !text.contains(GOAL));
    for c in &noord {
        assert!(!text.contains(&c.to_string()));
    }
    stack.stop().await;
}

/// Events in the casework store.
async fn stored_events(stack: &Stack) -> i64 {
    let pool = stack.db.pool(kansrijk_casework::SCHEMA).await;
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_case_opens_only_in_a_district_of_the_registry_and_nothing_is_stored_otherwise() {
    let stack = Stack::start_without_registry().await;
    let open = |wijk: &str| {
        json!({"wijk": wijk, "geopendOp": days_ago(1),
               "gezinsleden": [{"rol": "kind", "voornaam": CHILD, "achternaam": FAMILY}]})
    };
    // No registry: fail closed (503), no key, no event.
    let p = stack
        .send(&director(), s::OPEN_CASE, &open(NOORD))
        .await
        .unwrap_err();
    assert_eq!(p.status, 503, "{p:?}");
    assert_eq!(
        (stack.peer().key_count(), stored_events(&stack).await),
        (0, 0)
    );

    start_districts_registry(stack.client.clone()).await;
    // A district the registry does not know: a 400 field error on `wijk`, with the other field
    // errors at once.
    let p = stack
        .send(&director(), s::OPEN_CASE, &open("Noord"))
        .await
        .unwrap_err();
    assert_eq!(p.status, 400);
    let codes: Vec<(&str, &str)> = p
        .invalid_params
        .iter()
        .map(|e| (e.name.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(codes, [("wijk", "wijk-onbekend")]);
    let mut bad = open("Bos en Gasthuisdistrict");
    bad["geopendOp"] = json!(days_ahead(10));
    let p = stack
        .send(&director(), s::OPEN_CASE, &bad)
        .await
        .unwrap_err();
    let names: Vec<&str> = p.invalid_params.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"wijk") && names.contains(&"geopendOp"),
        "{names:?}"
    );
    // Another municipality's district is unknown here.
    let p = stack
        .send(&director(), s::OPEN_CASE, &open("Voorburg"))
        .await
        .unwrap_err();
    assert_eq!(p.invalid_params[0].code, "wijk-onbekend");
    assert_eq!(
        (stack.peer().key_count(), stored_events(&stack).await),
        (0, 0)
    );

    // A registry district opens the case, stored in the registry's spelling.
    let a = stack
        .send_seen(&director(), s::OPEN_CASE, &open("bos- en gasthuisdistrict"))
        .await;
    let view: Value = stack
        .query_raw(&director(), s::QUERY_CASE, &json!({"casusId": a.stream_id}))
        .await
        .unwrap();
    assert_eq!(view["wijk"], "Bos- en Gasthuisdistrict", "{view}");
    assert_eq!(stack.peer().key_count(), 1);
    stack.stop().await;
}

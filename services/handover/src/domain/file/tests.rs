//! Given (events) / when (command) / then (events or error), and property tests of the file's
//! state machine.

use kansrijk_proto::handover::{Absence, VveProgramme};
use kansrijk_runtime::crypto::SubjectKey;
use proptest::prelude::*;

use super::*;

const LRK: &str = "123456789";
const OTHER_LRK: &str = "987654321";
const PO: &str = "12AB00";
const SCHOOL: &str = "34CD01";
const OTHER_SCHOOL: &str = "56EF00";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    d("2026-04-30")
}

fn key() -> SubjectKey {
    SubjectKey::from_bytes(Uuid::from_u128(9), 1, &[9; 32]).unwrap()
}

fn school(code: &str) -> SchoolId {
    parse_school_code(code).unwrap()
}

fn ctx<'a>(org: &'a str, key: &'a SubjectKey) -> Ctx<'a> {
    Ctx {
        today: today(),
        organisation: org,
        municipality: "0546",
        key: Some(key),
        system: false,
    }
}

fn content() -> PreschoolContent {
    PreschoolContent {
        socio_emotional: "Speelt graag samen.".into(),
        language: "Breidt de woordenschat snel uit.".into(),
        motor: "Leeftijdsadequaat.".into(),
        cognitive: "Telt tot tien.".into(),
        interests_and_talents: "Bouwen en tekenen.".into(),
        home_situation: None,
        approach: Some("Kleine groep bij taalactiviteiten.".into()),
        vve: Some(VveProgramme {
            programme: "Uk & Puk".into(),
            from: d("2024-09-01"),
            until: None,
            hours_per_week: Some(16),
        }),
        observation: None,
        support_needs: "Extra taalaanbod.".into(),
    }
}

fn child() -> ChildIdentity {
    ChildIdentity {
        given_name: "Sara".into(),
        family_name: "Test".into(),
        birth_date: d("2022-06-01"),
        bsn: None,
    }
}

fn pupil() -> ChildIdentity {
    ChildIdentity {
        given_name: "Noah".into(),
        family_name: "Test".into(),
        birth_date: d("2014-05-01"),
        bsn: Some("111222333".into()),
    }
}

fn oso() -> OsoContent {
    OsoContent {
        support: "Geen extra ondersteuning nodig.".into(),
        absence: Absence {
            authorised_days: 3,
            unauthorised_days: 0,
        },
        parents_wish: Some(AdviceLevel::Havo),
        pupil_wish: None,
        contact_wanted: true,
        school_history: None,
        vve_history: None,
        action_plans: None,
    }
}

fn advice(level: AdviceLevel) -> Advice {
    Advice {
        level,
        explanation: None,
    }
}

/// Runs commands in order (each must succeed) and returns the events.
fn given(cmds: Vec<(&str, Command)>) -> Vec<HandoverEvent> {
    let k = key();
    let mut events = Vec::new();
    for (org, cmd) in cmds {
        let f = File::from_events(&events);
        let new = decide(&f, cmd.clone(), &ctx(org, &k))
            .unwrap_or_else(|e| panic!("given {cmd:?} by {org}: {e:?}"));
        events.extend(new);
    }
    events
}

fn when(
    events: &[HandoverEvent],
    org: &str,
    cmd: Command,
) -> Result<Vec<HandoverEvent>, DomainError> {
    let k = key();
    decide(&File::from_events(events), cmd, &ctx(org, &k))
}

fn code(r: Result<Vec<HandoverEvent>, DomainError>) -> &'static str {
    r.err().map(|e| e.code()).unwrap_or("ok")
}

fn draft() -> (&'static str, Command) {
    (
        LRK,
        Command::DraftPreschool {
            child_id: None,
            drafted_on: d("2026-03-01"),
            warm_wanted: true,
            child: child(),
            content: content(),
        },
    )
}

fn inform() -> Command {
    Command::InformParents {
        on: d("2026-03-02"),
        how: InformedHow::Gesprek,
    }
}

fn enrol(code: &str) -> Command {
    Command::RecordEnrolment {
        on: d("2026-03-02"),
        school: school(code),
    }
}

fn send(code: &str) -> Command {
    Command::Send {
        on: d("2026-03-03"),
        school: school(code),
    }
}

fn preschool_ready() -> Vec<HandoverEvent> {
    given(vec![
        draft(),
        (LRK, inform()),
        (
            LRK,
            Command::GiveConsent {
                on: d("2026-03-02"),
            },
        ),
        (LRK, enrol(SCHOOL)),
    ])
}

fn create_oso() -> (&'static str, Command) {
    (
        PO,
        Command::CreateOso {
            child_id: None,
            school_year: "2025-2026".into(),
            created_on: d("2026-01-12"),
            pupil: pupil(),
            content: oso(),
        },
    )
}

fn oso_with_provisional(level: AdviceLevel) -> Vec<HandoverEvent> {
    given(vec![
        create_oso(),
        (
            PO,
            Command::ProvisionalAdvice {
                on: d("2026-01-20"),
                advice: advice(level),
            },
        ),
    ])
}

fn test_result(level: AdviceLevel) -> Command {
    Command::RecordTestResult {
        on: d("2026-03-05"),
        result: TestResult {
            test: "route-8".into(),
            level,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Preschool journey.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_drafted_form_seals_identity_and_content() {
    let events = given(vec![draft()]);
    let HandoverEvent::PreschoolDrafted(e) = &events[0] else {
        panic!("expected a draft")
    };
    let wire = serde_json::to_string(e).unwrap();
    assert!(!wire.contains("Sara") && !wire.contains("Uk & Puk") && !wire.contains("2022-06-01"));
    assert_eq!(key().open(&e.child).unwrap(), child());
    assert_eq!(e.location, LRK);
}

#[test]
fn only_a_childcare_location_drafts_a_form_without_bsn() {
    let k = key();
    let (_, cmd) = draft();
    assert_eq!(
        code(decide(&File::default(), cmd, &ctx(PO, &k))),
        "geen-kinderopvang"
    );
    let mut bad = child();
    bad.bsn = Some("111222333".into());
    bad.given_name = " ".into();
    let r = when(
        &[],
        LRK,
        Command::DraftPreschool {
            child_id: None,
            drafted_on: d("2026-03-01"),
            warm_wanted: false,
            child: bad,
            content: PreschoolContent {
                language: String::new(),
                ..content()
            },
        },
    );
    let Err(DomainError::Invalid(errors)) = r else {
        panic!("expected field errors")
    };
    let names: Vec<_> = errors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["kind.voornaam", "kind.bsn", "inhoud.taal"]);
}

#[test]
fn sending_before_the_parents_were_informed_is_refused() {
    let events = given(vec![draft(), (LRK, enrol(SCHOOL))]);
    assert_eq!(
        code(when(&events, LRK, send(SCHOOL))),
        "ouders-niet-geinformeerd"
    );
}

#[test]
fn sending_without_consent_is_refused() {
    let events = given(vec![draft(), (LRK, inform()), (LRK, enrol(SCHOOL))]);
    assert_eq!(code(when(&events, LRK, send(SCHOOL))), "geen-toestemming");
}

#[test]
fn a_file_goes_only_to_the_enrolment_school() {
    let events = given(vec![
        draft(),
        (LRK, inform()),
        (
            LRK,
            Command::GiveConsent {
                on: d("2026-03-02"),
            },
        ),
    ]);
    assert_eq!(code(when(&events, LRK, send(SCHOOL))), "geen-inschrijving");
    let events = preschool_ready();
    assert_eq!(
        code(when(&events, LRK, send(OTHER_SCHOOL))),
        "niet-de-inschrijvingsschool"
    );
    assert_eq!(
        code(when(&events, OTHER_LRK, send(SCHOOL))),
        "niet-afzender"
    );
    assert_eq!(code(when(&events, LRK, send(SCHOOL))), "ok");
}

#[test]
fn only_the_addressed_school_confirms_and_only_once() {
    let mut events = preschool_ready();
    let k = key();
    // Before sending, the school cannot even confirm.
    assert_eq!(
        code(when(
            &events,
            SCHOOL,
            Command::ConfirmReceipt {
                on: d("2026-03-04")
            }
        )),
        "niet-geadresseerd"
    );
    events.extend(when(&events, LRK, send(SCHOOL)).unwrap());
    let f = File::from_events(&events);
    assert!(f.visible_to_receiver(SCHOOL));
    assert!(!f.visible_to_receiver(OTHER_SCHOOL));
    assert_eq!(
        code(decide(
            &f,
            Command::ConfirmReceipt {
                on: d("2026-03-04")
            },
            &ctx(OTHER_SCHOOL, &k)
        )),
        "niet-geadresseerd"
    );
    events.extend(
        when(
            &events,
            SCHOOL,
            Command::ConfirmReceipt {
                on: d("2026-03-04"),
            },
        )
        .unwrap(),
    );
    let again = when(
        &events,
        SCHOOL,
        Command::ConfirmReceipt {
            on: d("2026-03-05"),
        },
    );
    assert_eq!(
        again.as_ref().err().map(|e| e.to_problem().status),
        Some(409)
    );
    assert_eq!(code(again), "al-bevestigd");
    let p = when(
        &events,
        OTHER_SCHOOL,
        Command::ConfirmReceipt {
            on: d("2026-03-05"),
        },
    )
    .unwrap_err()
    .to_problem();
    assert_eq!(
        (p.status, p.code.as_deref()),
        (403, Some("niet-geadresseerd"))
    );
}

#[test]
fn a_refusal_ends_the_file() {
    let events = given(vec![
        draft(),
        (LRK, inform()),
        (
            LRK,
            Command::RefuseConsent {
                on: d("2026-03-02"),
                reason: RefusalReason::ZelfOverdragen,
            },
        ),
    ]);
    let f = File::from_events(&events);
    assert_eq!(f.status(), Status::Refused);
    assert!(!f.visible_to_receiver(SCHOOL));
    for cmd in [
        enrol(SCHOOL),
        send(SCHOOL),
        Command::GiveConsent {
            on: d("2026-03-03"),
        },
    ] {
        assert_eq!(code(when(&events, LRK, cmd)), "toestemming-geweigerd");
    }
}

#[test]
fn parents_can_withdraw_consent_until_the_file_is_sent() {
    let events = preschool_ready();
    let refuse = Command::RefuseConsent {
        on: d("2026-03-03"),
        reason: RefusalReason::PrivacyBezwaar,
    };
    assert_eq!(code(when(&events, LRK, refuse.clone())), "ok");
    let mut sent = events.clone();
    sent.extend(when(&events, LRK, send(SCHOOL)).unwrap());
    assert_eq!(code(when(&sent, LRK, refuse)), "al-verzonden");
}

#[test]
fn the_form_is_fixed_once_parents_have_seen_it_and_their_view_needs_informing_first() {
    let events = given(vec![draft()]);
    let response = Command::AddParentsResponse {
        on: d("2026-03-02"),
        response: ParentsResponse {
            agrees: None,
            text: "Thuis spreekt zij vooral Arabisch.".into(),
        },
    };
    assert_eq!(
        code(when(&events, LRK, response.clone())),
        "ouders-niet-geinformeerd"
    );
    let events = given(vec![draft(), (LRK, inform())]);
    assert_eq!(code(when(&events, LRK, response)), "ok");
    let revise = Command::RevisePreschool {
        on: d("2026-03-03"),
        warm_wanted: false,
        content: content(),
    };
    assert_eq!(code(when(&events, LRK, revise)), "ouders-al-geinformeerd");
}

#[test]
fn warm_handover_follows_sending_and_is_held_once() {
    let mut events = preschool_ready();
    let plan = Command::PlanWarmHandover {
        on: d("2026-03-20"),
        participants: vec![Participant::PedagogischMedewerker, Participant::Leerkracht],
    };
    assert_eq!(code(when(&events, LRK, plan.clone())), "niet-verzonden");
    events.extend(when(&events, LRK, send(SCHOOL)).unwrap());
    events.extend(when(&events, SCHOOL, plan).unwrap());
    let hold = Command::HoldWarmHandover {
        on: d("2026-03-10"),
        participants: vec![
            Participant::PedagogischMedewerker,
            Participant::Leerkracht,
            Participant::Ouders,
        ],
    };
    assert_eq!(
        code(when(&events, OTHER_SCHOOL, hold.clone())),
        "niet-betrokken"
    );
    events.extend(when(&events, LRK, hold.clone()).unwrap());
    assert_eq!(
        code(when(&events, SCHOOL, hold)),
        "warme-overdracht-al-gehouden"
    );
    let empty = Command::PlanWarmHandover {
        on: d("2026-03-20"),
        participants: vec![],
    };
    assert_eq!(
        code(when(&events, LRK, empty)),
        "warme-overdracht-al-gehouden"
    );
}

#[test]
fn only_the_service_flags_an_unconfirmed_file_once() {
    let mut events = preschool_ready();
    events.extend(when(&events, LRK, send(SCHOOL)).unwrap());
    let flag = Command::FlagOverdue {
        on: d("2026-03-20"),
        days: 14,
    };
    assert_eq!(code(when(&events, LRK, flag.clone())), "alleen-dienst");
    let k = key();
    let system = Ctx {
        system: true,
        ..ctx("dienst", &k)
    };
    let new = decide(&File::from_events(&events), flag.clone(), &system).unwrap();
    events.extend(new);
    assert_eq!(
        code(decide(&File::from_events(&events), flag, &system)),
        "al-gesignaleerd"
    );
}

// ---------------------------------------------------------------------------------------------
// PO-VO journey.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_higher_test_result_requires_a_motivated_reconsideration() {
    let mut events = oso_with_provisional(AdviceLevel::VmboGt);
    events.extend(when(&events, PO, test_result(AdviceLevel::Havo)).unwrap());
    let HandoverEvent::TestResult(t) = events.last().unwrap() else {
        panic!()
    };
    assert!(t.reconsideration_due);
    assert_eq!(
        code(when(
            &events,
            PO,
            Command::FinalAdvice {
                on: d("2026-03-20"),
                advice: advice(AdviceLevel::VmboGt)
            }
        )),
        "heroverweging-vereist"
    );
    let no_motivation = Command::Reconsider {
        on: d("2026-03-18"),
        reconsideration: Reconsideration {
            level: AdviceLevel::Havo,
            motivation: " ".into(),
        },
    };
    assert_eq!(code(when(&events, PO, no_motivation)), "ongeldige-invoer");
    let raised = when(
        &events,
        PO,
        Command::Reconsider {
            on: d("2026-03-18"),
            reconsideration: Reconsideration {
                level: AdviceLevel::VmboGtHavo,
                motivation: "Toets en werkhouding.".into(),
            },
        },
    )
    .unwrap();
    let HandoverEvent::Reconsidered(r) = &raised[0] else {
        panic!()
    };
    assert_eq!(r.outcome, ReconsiderationOutcome::Verhoogd);
    events.extend(raised);
    // The final advice may not go below the reconsidered one.
    assert_eq!(
        code(when(
            &events,
            PO,
            Command::FinalAdvice {
                on: d("2026-03-20"),
                advice: advice(AdviceLevel::VmboGt)
            }
        )),
        "advies-verlaagd"
    );
    assert_eq!(
        code(when(
            &events,
            PO,
            Command::FinalAdvice {
                on: d("2026-03-20"),
                advice: advice(AdviceLevel::VmboGtHavo)
            }
        )),
        "ok"
    );
}

#[test]
fn a_lower_test_result_never_lowers_the_advice() {
    let mut events = oso_with_provisional(AdviceLevel::Havo);
    events.extend(when(&events, PO, test_result(AdviceLevel::VmboKb)).unwrap());
    let f = File::from_events(&events);
    assert!(!f.reconsideration_due);
    assert_eq!(
        code(when(
            &events,
            PO,
            Command::Reconsider {
                on: d("2026-03-18"),
                reconsideration: Reconsideration {
                    level: AdviceLevel::VmboKb,
                    motivation: "Toets lager.".into()
                },
            }
        )),
        "heroverweging-niet-nodig"
    );
    assert_eq!(
        code(when(
            &events,
            PO,
            Command::FinalAdvice {
                on: d("2026-03-20"),
                advice: advice(AdviceLevel::VmboKb)
            }
        )),
        "advies-verlaagd"
    );
}

#[test]
fn a_reconsideration_that_lowers_is_refused_and_one_that_keeps_is_recorded_as_such() {
    let mut events = oso_with_provisional(AdviceLevel::VmboGt);
    events.extend(when(&events, PO, test_result(AdviceLevel::Vwo)).unwrap());
    assert_eq!(
        code(when(
            &events,
            PO,
            Command::Reconsider {
                on: d("2026-03-18"),
                reconsideration: Reconsideration {
                    level: AdviceLevel::VmboKb,
                    motivation: "x".into()
                },
            }
        )),
        "advies-verlaagd"
    );
    let kept = when(
        &events,
        PO,
        Command::Reconsider {
            on: d("2026-03-18"),
            reconsideration: Reconsideration {
                level: AdviceLevel::VmboGt,
                motivation: "Werkhouding en motivatie blijven achter.".into(),
            },
        },
    )
    .unwrap();
    let HandoverEvent::Reconsidered(r) = &kept[0] else {
        panic!()
    };
    assert_eq!(r.outcome, ReconsiderationOutcome::Gehandhaafd);
}

fn oso_sent() -> Vec<HandoverEvent> {
    let mut events = oso_with_provisional(AdviceLevel::Havo);
    let more = given_from(
        &events,
        vec![
            (
                PO,
                Command::FinalAdvice {
                    on: d("2026-03-20"),
                    advice: advice(AdviceLevel::Havo),
                },
            ),
            (
                PO,
                Command::InformParents {
                    on: d("2026-03-21"),
                    how: InformedHow::Gesprek,
                },
            ),
            (
                PO,
                Command::AddParentsResponse {
                    on: d("2026-03-22"),
                    response: ParentsResponse {
                        agrees: Some(false),
                        text: "Wij zien eerder vwo.".into(),
                    },
                },
            ),
            (PO, enrol(SCHOOL)),
        ],
    );
    events.extend(more);
    events
}

fn given_from(base: &[HandoverEvent], cmds: Vec<(&str, Command)>) -> Vec<HandoverEvent> {
    let k = key();
    let mut events = base.to_vec();
    let start = events.len();
    for (org, cmd) in cmds {
        let today = d("2026-04-30");
        let c = Ctx {
            today,
            ..ctx(org, &k)
        };
        let new = decide(&File::from_events(&events), cmd.clone(), &c)
            .unwrap_or_else(|e| panic!("given {cmd:?}: {e:?}"));
        events.extend(new);
    }
    events.split_off(start)
}

#[test]
fn po_vo_needs_no_consent_but_parents_shown_and_a_final_advice() {
    let events = given(vec![create_oso(), (PO, enrol(SCHOOL))]);
    assert_eq!(
        code(when(&events, PO, send(SCHOOL))),
        "ouders-niet-geinformeerd"
    );
    let mut events = events;
    events.extend(when(&events, PO, inform()).unwrap());
    assert_eq!(
        code(when(&events, PO, send(SCHOOL))),
        "geen-definitief-advies"
    );
    assert_eq!(
        code(when(
            &events,
            PO,
            Command::GiveConsent {
                on: d("2026-03-02")
            }
        )),
        "niet-van-toepassing"
    );
}

#[test]
fn the_secondary_school_reports_year_three_once_after_confirming() {
    let mut events = oso_sent();
    let k = key();
    let later = |org: &'static str| Ctx {
        today: d("2029-07-01"),
        ..ctx(org, &k)
    };
    events.extend(
        decide(
            &File::from_events(&events),
            Command::Send {
                on: d("2026-03-25"),
                school: school(SCHOOL),
            },
            &later(PO),
        )
        .unwrap(),
    );
    let report = Command::ReportYear3 {
        on: d("2029-07-01"),
        position: Year3Position::Boven,
    };
    assert_eq!(
        code(decide(
            &File::from_events(&events),
            report.clone(),
            &later(SCHOOL)
        )),
        "niet-bevestigd"
    );
    assert_eq!(
        code(decide(
            &File::from_events(&events),
            report.clone(),
            &later(PO)
        )),
        "niet-geadresseerd"
    );
    events.extend(
        decide(
            &File::from_events(&events),
            Command::ConfirmReceipt {
                on: d("2026-03-26"),
            },
            &later(SCHOOL),
        )
        .unwrap(),
    );
    events.extend(decide(&File::from_events(&events), report.clone(), &later(SCHOOL)).unwrap());
    assert_eq!(File::from_events(&events).year3, Some(Year3Position::Boven));
    assert_eq!(
        code(decide(&File::from_events(&events), report, &later(SCHOOL))),
        "positie-al-gemeld"
    );
}

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

fn arb_level() -> impl Strategy<Value = AdviceLevel> {
    proptest::sample::select(AdviceLevel::ALL.to_vec())
}

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..40).prop_map(|n| d("2026-01-01") + chrono::Days::new(n * 3))
}

fn arb_org() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![LRK, OTHER_LRK, PO, SCHOOL, OTHER_SCHOOL, "system"])
}

fn arb_school() -> impl Strategy<Value = SchoolId> {
    proptest::sample::select(vec![school(SCHOOL), school(OTHER_SCHOOL)])
}

fn arb_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (arb_date(), any::<bool>()).prop_map(|(on, w)| Command::RevisePreschool {
            on,
            warm_wanted: w,
            content: content()
        }),
        arb_date().prop_map(|on| Command::UpdateOso { on, content: oso() }),
        (arb_date(), arb_level()).prop_map(|(on, l)| Command::ProvisionalAdvice {
            on,
            advice: advice(l)
        }),
        (arb_date(), arb_level()).prop_map(|(on, l)| test_result_on(on, l)),
        (arb_date(), arb_level()).prop_map(|(on, l)| Command::Reconsider {
            on,
            reconsideration: Reconsideration {
                level: l,
                motivation: "m".into()
            },
        }),
        (arb_date(), arb_level()).prop_map(|(on, l)| Command::FinalAdvice {
            on,
            advice: advice(l)
        }),
        arb_date().prop_map(|on| Command::InformParents {
            on,
            how: InformedHow::Brief
        }),
        arb_date().prop_map(|on| Command::AddParentsResponse {
            on,
            response: ParentsResponse {
                agrees: Some(true),
                text: "t".into()
            },
        }),
        arb_date().prop_map(|on| Command::GiveConsent { on }),
        arb_date().prop_map(|on| Command::RefuseConsent {
            on,
            reason: RefusalReason::Anders
        }),
        (arb_date(), arb_school()).prop_map(|(on, s)| Command::RecordEnrolment { on, school: s }),
        (arb_date(), arb_school()).prop_map(|(on, s)| Command::Send { on, school: s }),
        arb_date().prop_map(|on| Command::ConfirmReceipt { on }),
        arb_date().prop_map(|on| Command::PlanWarmHandover {
            on,
            participants: vec![Participant::Mentor]
        }),
        arb_date().prop_map(|on| Command::HoldWarmHandover {
            on,
            participants: vec![Participant::Mentor]
        }),
        arb_date().prop_map(|on| Command::FlagOverdue { on, days: 14 }),
        (
            arb_date(),
            proptest::sample::select(Year3Position::ALL.to_vec())
        )
            .prop_map(|(on, p)| Command::ReportYear3 { on, position: p }),
    ]
}

fn test_result_on(on: NaiveDate, level: AdviceLevel) -> Command {
    Command::RecordTestResult {
        on,
        result: TestResult {
            test: "iep".into(),
            level,
        },
    }
}

/// Checks the invariants of a stream after each accepted event.
fn check_invariants(events: &[HandoverEvent], k: &SubjectKey) -> Result<(), TestCaseError> {
    let f = File::from_events(events);
    // Never in an inbox without consent; never anywhere but the enrolment school.
    if let Some((_, to)) = &f.sent {
        prop_assert_eq!(Some(to), f.enrolled.as_ref());
        prop_assert!(f.informed_on.is_some());
        if f.kind == Some(FileKind::Voorschool) {
            prop_assert!(matches!(f.consent, Consent::Given(_)));
            prop_assert!(f.visible_to_receiver(&to.code()));
        }
        prop_assert!(!f.visible_to_receiver(LRK) && !f.visible_to_receiver(PO));
    } else {
        for s in [SCHOOL, OTHER_SCHOOL] {
            prop_assert!(!f.visible_to_receiver(s));
        }
    }
    if f.kind == Some(FileKind::PoVo) {
        prop_assert!(f.sent.is_none() || f.final_advice.is_some());
        // Advice never lowered: every later advice is at least the provisional one.
        let mut floor = None;
        for e in events {
            let level = match e {
                HandoverEvent::ProvisionalAdvice(a) => Some(k.open(&a.advice).unwrap().level),
                HandoverEvent::Reconsidered(r) => Some(k.open(&r.reconsideration).unwrap().level),
                HandoverEvent::FinalAdvice(a) => Some(k.open(&a.advice).unwrap().level),
                _ => None,
            };
            if let Some(l) = level {
                prop_assert!(floor.is_none_or(|f| l >= f), "advice lowered");
                floor = Some(l);
            }
        }
    }
    prop_assert!(f.confirmed_on.is_none() || f.sent.is_some());
    prop_assert!(f.year3.is_none() || f.confirmed_on.is_some());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_command_sequences_keep_the_invariants(
        preschool in any::<bool>(),
        steps in proptest::collection::vec((arb_org(), arb_command()), 1..40)
    ) {
        let k = key();
        let mut events = if preschool { given(vec![draft()]) } else { given(vec![create_oso()]) };
        let mut status = File::from_events(&events).status();
        for (org, cmd) in steps {
            let f = File::from_events(&events);
            let c = Ctx { system: org == "system", ..ctx(org, &k) };
            let before = (f.confirmed_on, f.sent.clone(), f.year3, f.warm_held_on, f.final_advice.clone());
            match decide(&f, cmd, &c) {
                Ok(new) => {
                    prop_assert_eq!(new.len(), 1);
                    events.extend(new);
                    check_invariants(&events, &k)?;
                    let now = File::from_events(&events);
                    // Final states move only forward: what was set stays set.
                    prop_assert!(before.0.is_none() || now.confirmed_on == before.0);
                    prop_assert!(before.1.is_none() || now.sent == before.1);
                    prop_assert!(before.2.is_none() || now.year3 == before.2);
                    prop_assert!(before.3.is_none() || now.warm_held_on == before.3);
                    prop_assert!(before.4.is_none() || now.final_advice == before.4);
                    let s = now.status();
                    prop_assert!(s >= status || (s == Status::Refused), "status went back: {:?} -> {:?}", status, s);
                    prop_assert!(status != Status::Refused || s == Status::Refused);
                    status = s;
                }
                Err(e) => {
                    // Every refusal is a clear problem with a stable code.
                    let p = e.to_problem();
                    prop_assert!(matches!(p.status, 400 | 403 | 404 | 409), "{:?}", p);
                    prop_assert!(p.code.is_some());
                }
            }
        }
    }

    #[test]
    fn a_reconsideration_is_due_exactly_when_the_test_is_higher(p in arb_level(), t in arb_level()) {
        let mut events = oso_with_provisional(p);
        events.extend(when(&events, PO, test_result(t)).unwrap());
        prop_assert_eq!(File::from_events(&events).reconsideration_due, t > p);
    }
}

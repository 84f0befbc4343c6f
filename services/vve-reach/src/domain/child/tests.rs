//! Given (events) / when (command) / then (events or error), and property tests of the state
//! machine.

use kansrijk_runtime::crypto::SubjectKey;
use proptest::prelude::*;

use super::*;

const JGZ: &str = "00000001234567890000";
const OTHER_JGZ: &str = "00000009999999990000";
const LRK: &str = "123456789";
const LRK2: &str = "987654321";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn birth() -> NaiveDate {
    d("2023-06-15")
}

fn today() -> NaiveDate {
    d("2026-03-01")
}

fn key() -> SubjectKey {
    SubjectKey::from_bytes(Uuid::from_u128(7), 1, &[7; 32]).unwrap()
}

fn registered() -> ChildEvent {
    let k = key();
    ChildRegistered {
        municipality: "0546".into(),
        district: "Leiden-Noord".into(),
        jgz_organisation: JGZ.into(),
        registered_on: d("2025-06-15"),
        personal: k
            .seal(&ChildPersonal {
                bsn: "111222333".into(),
                given_name: "Sara".into(),
                family_name: "Test".into(),
                postcode: "2312 AB".into(),
                bsn_pseudonym: "p".into(),
            })
            .unwrap(),
        birth_date: k.seal(&birth()).unwrap(),
    }
    .into()
}

fn indicated(on: &str) -> ChildEvent {
    IndicationIssued {
        indication_id: Uuid::from_u128(1),
        issued_on: d(on),
        definition_year: 2024,
        criteria: key()
            .seal(&vec!["thuistaal-niet-nederlands".to_string()])
            .unwrap(),
        issued_by: JGZ.into(),
    }
    .into()
}

fn referred(id: u128, lrk: &str) -> ChildEvent {
    ChildReferred {
        referral_id: Uuid::from_u128(id),
        location: lrk.into(),
        referred_on: d("2025-12-01"),
        registry_checked: true,
        referred_by: JGZ.into(),
    }
    .into()
}

fn started(id: u128, lrk: &str, on: &str) -> ChildEvent {
    PlacementStarted {
        placement_id: Uuid::from_u128(id),
        location: lrk.into(),
        start_on: d(on),
        hours_per_week: 16,
        referral_id: None,
    }
    .into()
}

struct Scenario {
    catalogue: Catalogue,
    given: Vec<ChildEvent>,
}

fn given(events: Vec<ChildEvent>) -> Scenario {
    Scenario {
        catalogue: Catalogue::builtin(),
        given: events,
    }
}

impl Scenario {
    fn when_by(&self, org: &str, cmd: Command) -> Result<Vec<ChildEvent>, DomainError> {
        let child = Child::from_events(&self.given);
        let ctx = Ctx {
            today: today(),
            birth_date: child.exists().then(birth),
            catalogue: &self.catalogue,
            organisation: org,
            municipality: "0546",
        };
        decide(&child, cmd, &ctx)
    }

    fn when(&self, cmd: Command) -> Result<Vec<ChildEvent>, DomainError> {
        self.when_by(JGZ, cmd)
    }
}

fn code(r: Result<Vec<ChildEvent>, DomainError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(DomainError::Conflict { code, .. }) => code.into(),
        Err(DomainError::Invalid(errors)) => errors
            .iter()
            .map(|e| format!("{}:{}", e.name, e.code))
            .collect::<Vec<_>>()
            .join(","),
        Err(DomainError::Forbidden(_)) => "403".into(),
        Err(DomainError::NotFound(_)) => "404".into(),
    }
}

fn issue(on: &str, criteria: &[&str]) -> Command {
    let criteria: Vec<String> = criteria.iter().map(|s| s.to_string()).collect();
    Command::IssueIndication {
        indication_id: Uuid::from_u128(9),
        issued_on: d(on),
        sealed_criteria: key().seal(&criteria).unwrap(),
        criteria,
    }
}

fn start(on: &str, hours: u8) -> Command {
    Command::StartPlacement {
        placement_id: Uuid::new_v4(),
        start_on: d(on),
        hours_per_week: hours,
        referral_id: None,
    }
}

#[test]
fn an_indication_cites_only_criteria_of_the_municipality_on_its_date() {
    let s = given(vec![registered()]);
    let events = s
        .when(issue("2025-12-01", &["thuistaal-niet-nederlands"]))
        .unwrap();
    assert!(matches!(&events[..], [ChildEvent::IndicationIssued(e)] if e.definition_year == 2024));
    assert_eq!(
        code(s.when(issue(
            "2025-12-01",
            &[
                "sociaal-emotioneel",
                "thuistaal-niet-nederlands",
                "thuistaal-niet-nederlands"
            ]
        ))),
        "criteria[0]:criterium-onbekend,criteria[2]:criterium-dubbel"
    );
    assert_eq!(code(s.when(issue("2025-12-01", &[]))), "criteria:verplicht");
}

#[test]
fn no_indication_outside_the_age_window() {
    let s = given(vec![registered()]);
    // Child born 2023-06-15: from 2 years (2025-06-15) until the fourth birthday.
    assert_eq!(
        code(s.when(issue("2025-06-14", &["taalachterstand"]))),
        "leeftijd-buiten-vve-venster"
    );
    assert_eq!(
        code(s.when(issue("2025-06-15", &["taalachterstand"]))),
        "ok"
    );
    // The far future is refused as a date first.
    assert_eq!(
        code(s.when(issue("2027-06-15", &["taalachterstand"]))),
        "afgegevenOp:datum-buiten-horizon"
    );
}

#[test]
fn one_indication_at_a_time_and_withdrawal_needs_one() {
    let s = given(vec![registered(), indicated("2025-11-01")]);
    assert_eq!(
        code(s.when(issue("2025-12-01", &["taalachterstand"]))),
        "indicatie-bestaat-al"
    );
    let s = given(vec![registered()]);
    assert_eq!(
        code(s.when(Command::WithdrawIndication {
            withdrawn_on: d("2026-01-01"),
            reason: WithdrawalReason::Onterecht
        })),
        "geen-indicatie"
    );
}

#[test]
fn only_the_childs_jgz_organisation_acts_for_it() {
    let s = given(vec![registered(), indicated("2025-11-01")]);
    let cmd = Command::RecordOutreach {
        attempted_on: d("2026-02-01"),
        channel: OutreachChannel::Telefoon,
        outcome: OutreachOutcome::NietBereikt,
    };
    assert_eq!(code(s.when_by(OTHER_JGZ, cmd.clone())), "403");
    assert_eq!(code(s.when(cmd)), "ok");
}

#[test]
fn referral_needs_an_indication_and_valid_distinct_lrk_numbers() {
    let refer = |locs: &[&str]| Command::Refer {
        referred_on: d("2026-01-10"),
        locations: locs
            .iter()
            .map(|l| (Uuid::new_v4(), l.to_string(), true))
            .collect(),
    };
    assert_eq!(
        code(given(vec![registered()]).when(refer(&[LRK]))),
        "geen-indicatie"
    );
    let s = given(vec![registered(), indicated("2025-11-01")]);
    assert_eq!(
        code(s.when(refer(&["12345", LRK, LRK]))),
        "locaties[0]:lrk-ongeldig,locaties[2]:locatie-dubbel"
    );
    assert_eq!(s.when(refer(&[LRK, LRK2])).unwrap().len(), 2);
    let s = given(vec![
        registered(),
        indicated("2025-11-01"),
        referred(1, LRK),
    ]);
    assert_eq!(code(s.when(refer(&[LRK]))), "al-doorverwezen");
}

#[test]
fn childcare_handles_only_referrals_to_its_own_location() {
    let s = given(vec![
        registered(),
        indicated("2025-11-01"),
        referred(1, LRK),
    ]);
    let accept = Command::AcceptReferral {
        referral_id: Uuid::from_u128(1),
        accepted_on: d("2026-01-12"),
    };
    assert_eq!(code(s.when_by(LRK2, accept.clone())), "403");
    assert_eq!(code(s.when_by(LRK, accept)), "ok");
    let wait = Command::PutOnWaitingList {
        referral_id: Uuid::from_u128(2),
        listed_on: d("2026-01-12"),
        expected_start: None,
    };
    assert_eq!(code(s.when_by(LRK, wait)), "404");
}

#[test]
fn placements_stay_in_the_window_and_do_not_overlap_at_one_location() {
    let s = given(vec![registered(), indicated("2025-11-01")]);
    // 2.5 years on 2025-12-15.
    assert_eq!(
        code(s.when_by(LRK, start("2025-12-14", 16))),
        "leeftijd-buiten-vve-venster"
    );
    assert_eq!(code(s.when_by(LRK, start("2025-12-15", 16))), "ok");
    assert_eq!(
        code(s.when_by(LRK, start("2026-01-05", 41))),
        "urenPerWeek:uren-buiten-bereik"
    );
    assert_eq!(
        code(s.when_by(LRK, start("2027-06-01", 16))),
        "startdatum:datum-buiten-horizon"
    );
    let s = given(vec![
        registered(),
        indicated("2025-11-01"),
        started(5, LRK, "2026-01-05"),
    ]);
    assert_eq!(
        code(s.when_by(LRK, start("2026-03-01", 8))),
        "overlappende-plaatsing"
    );
    // Another location at the same time is allowed.
    assert_eq!(code(s.when_by(LRK2, start("2026-03-01", 8))), "ok");
    // After the first placement ended, a new one at the same location may start the day after.
    let ended: ChildEvent = PlacementEnded {
        placement_id: Uuid::from_u128(5),
        end_on: d("2026-02-27"),
        reason: PlacementEndReason::Overig,
    }
    .into();
    let s = given(vec![
        registered(),
        indicated("2025-11-01"),
        started(5, LRK, "2026-01-05"),
        ended,
    ]);
    assert_eq!(
        code(s.when_by(LRK, start("2026-02-27", 8))),
        "overlappende-plaatsing"
    );
    assert_eq!(code(s.when_by(LRK, start("2026-02-28", 8))), "ok");
}

#[test]
fn a_placement_needs_an_indication() {
    let s = given(vec![registered()]);
    assert_eq!(
        code(s.when_by(LRK, start("2026-01-05", 16))),
        "geen-indicatie"
    );
}

#[test]
fn hours_and_ends_apply_to_open_placements_of_the_location() {
    let s = given(vec![
        registered(),
        indicated("2025-11-01"),
        started(5, LRK, "2026-01-05"),
    ]);
    let change = |h| Command::ChangeHours {
        placement_id: Uuid::from_u128(5),
        from_on: d("2026-02-01"),
        hours_per_week: h,
    };
    assert_eq!(code(s.when_by(LRK, change(12))), "ok");
    assert_eq!(
        code(s.when_by(LRK, change(50))),
        "urenPerWeek:uren-buiten-bereik"
    );
    assert_eq!(code(s.when_by(LRK2, change(12))), "403");
    let end = |on| Command::EndPlacement {
        placement_id: Uuid::from_u128(5),
        end_on: d(on),
        reason: PlacementEndReason::NaarBasisschool,
    };
    assert_eq!(
        code(s.when_by(LRK, end("2026-01-01"))),
        "einddatum:datum-voor-start"
    );
    assert_eq!(code(s.when_by(LRK, end("2026-06-12"))), "ok");
    let attend = |m: &str, h| Command::RecordAttendance {
        placement_id: Uuid::from_u128(5),
        month: m.into(),
        hours: h,
    };
    assert_eq!(code(s.when_by(LRK, attend("2026-01", 60))), "ok");
    assert_eq!(
        code(s.when_by(LRK, attend("2025-12", 60))),
        "maand-buiten-plaatsing"
    );
    assert_eq!(
        code(s.when_by(LRK, attend("2026-1", 201))),
        "maand:maand-ongeldig,uren:uren-buiten-bereik"
    );
}

#[test]
fn a_moved_child_is_closed() {
    let moved: ChildEvent = ChildMovedAway {
        moved_on: d("2026-01-01"),
    }
    .into();
    let s = given(vec![registered(), indicated("2025-11-01"), moved]);
    assert_eq!(
        code(s.when(Command::RecordDeclined {
            declined_on: d("2026-02-01"),
            reason: DeclineReason::Kosten
        })),
        "kind-verhuisd"
    );
}

#[test]
fn nothing_happens_to_an_unknown_child() {
    let s = given(vec![]);
    assert_eq!(
        code(s.when(issue("2025-12-01", &["taalachterstand"]))),
        "404"
    );
}

// ---- properties ----

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    // From before the child's birth to beyond the planning horizon.
    (0i64..1600).prop_map(|n| d("2023-01-01") + chrono::Duration::days(n))
}

fn arb_org() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(JGZ), Just(OTHER_JGZ), Just(LRK), Just(LRK2)]
}

fn arb_command(ids: Vec<Uuid>) -> impl Strategy<Value = Command> {
    let id = proptest::sample::select(ids);
    prop_oneof![
        (
            arb_date(),
            proptest::sample::subsequence(vec!["opleiding-ouders", "taalachterstand", "x"], 0..3)
        )
            .prop_map(|(on, c)| {
                let criteria: Vec<String> = c.into_iter().map(String::from).collect();
                Command::IssueIndication {
                    indication_id: Uuid::new_v4(),
                    issued_on: on,
                    sealed_criteria: key().seal(&criteria).unwrap(),
                    criteria,
                }
            }),
        arb_date().prop_map(|on| Command::WithdrawIndication {
            withdrawn_on: on,
            reason: WithdrawalReason::Overig
        }),
        (
            arb_date(),
            proptest::sample::subsequence(vec![LRK, LRK2], 1..3),
            id.clone()
        )
            .prop_map(|(on, l, rid)| Command::Refer {
                referred_on: on,
                locations: l
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| (
                        if i == 0 { rid } else { Uuid::new_v4() },
                        l.to_string(),
                        true
                    ))
                    .collect(),
            }),
        arb_date().prop_map(|on| Command::RecordOutreach {
            attempted_on: on,
            channel: OutreachChannel::Brief,
            outcome: OutreachOutcome::NietBereikt
        }),
        arb_date().prop_map(|on| Command::RecordDeclined {
            declined_on: on,
            reason: DeclineReason::Afstand
        }),
        arb_date().prop_map(|on| Command::RecordMovedAway { moved_on: on }),
        (arb_date(), id.clone()).prop_map(|(on, rid)| Command::AcceptReferral {
            referral_id: rid,
            accepted_on: on
        }),
        (arb_date(), id.clone()).prop_map(|(on, rid)| Command::PutOnWaitingList {
            referral_id: rid,
            listed_on: on,
            expected_start: None
        }),
        (arb_date(), 0u8..60, id.clone(), any::<bool>()).prop_map(|(on, h, pid, with_ref)| {
            Command::StartPlacement {
                placement_id: pid,
                start_on: on,
                hours_per_week: h,
                referral_id: with_ref.then_some(pid),
            }
        }),
        (arb_date(), 0u8..60, id.clone()).prop_map(|(on, h, pid)| Command::ChangeHours {
            placement_id: pid,
            from_on: on,
            hours_per_week: h
        }),
        (arb_date(), id.clone()).prop_map(|(on, pid)| Command::EndPlacement {
            placement_id: pid,
            end_on: on,
            reason: PlacementEndReason::Overig
        }),
        (arb_date(), 0u16..300, id).prop_map(|(on, h, pid)| Command::RecordAttendance {
            placement_id: pid,
            month: on.format("%Y-%m").to_string(),
            hours: h
        }),
    ]
}

fn ids() -> Vec<Uuid> {
    (1..=4).map(Uuid::from_u128).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_command_sequences_never_produce_an_invalid_state(
        steps in proptest::collection::vec((arb_org(), arb_command(ids())), 1..40)
    ) {
        let catalogue = Catalogue::builtin();
        let mut events = vec![registered()];
        let mut child = Child::from_events(&events);
        for (org, cmd) in steps {
            let ctx = Ctx { today: today(), birth_date: Some(birth()), catalogue: &catalogue, organisation: org, municipality: "0546" };
            let before = child.version;
            let was_moved = child.moved_on.is_some();
            match decide(&child, cmd, &ctx) {
                Ok(new) => {
                    prop_assert!(!new.is_empty());
                    prop_assert!(!was_moved, "nothing is decided for a closed record");
                    for e in &new {
                        child.apply(e);
                        events.push(e.clone());
                    }
                    prop_assert_eq!(child.version, before + new.len() as i64, "versions strictly increase by one per event");
                }
                Err(DomainError::Invalid(errors)) => prop_assert!(!errors.is_empty()),
                Err(_) => {}
            }
            prop_assert_eq!(child.version, events.len() as i64);
            // Invariants of the state.
            let horizon = today() + Days::new(PLANNING_HORIZON_DAYS);
            for (id, p) in &child.placements {
                prop_assert!(p.hours_per_week <= MAX_HOURS_PER_WEEK);
                prop_assert!(vve::in_window(birth(), p.start_on));
                prop_assert!(p.start_on <= horizon);
                prop_assert!(p.end_on.is_none_or(|e| e >= p.start_on));
                for (other_id, q) in &child.placements {
                    if id != other_id && p.location == q.location {
                        let p_end = p.end_on.unwrap_or(NaiveDate::MAX);
                        let q_end = q.end_on.unwrap_or(NaiveDate::MAX);
                        prop_assert!(p_end < q.start_on || q_end < p.start_on, "overlapping placements at one location");
                    }
                }
            }
            if let Some(ind) = child.indication {
                prop_assert!(ind.issued_on < vve::window_end(birth()));
                prop_assert!(ind.issued_on <= today() + Days::new(FACT_HORIZON_DAYS));
            }
            for r in child.referrals.values() {
                prop_assert!(check::is_lrk(&r.location));
            }
        }
        // Replaying the stored events gives the same state.
        prop_assert_eq!(Child::from_events(&events), child);
    }
}

//! Given (events) / when (command) / then (events or error), and property tests of the state
//! machines: the case (open → closed), participants, consents, goals, actions and reviews.

use kansrijk_proto::casework::{HouseholdMember, MemberRole, RecordLink};
use kansrijk_runtime::crypto::SubjectKey;
use proptest::prelude::*;

use super::*;

const TEAM: &str = "00000001823288444000";
const SCHOOL: &str = "12AB00";
const JGZ: &str = "00000001234567890000";
const STRANGER: &str = "99ZZ00";
const GEMEENTE: &str = "0546";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    d("2026-03-01")
}

fn key() -> SubjectKey {
    SubjectKey::from_bytes(Uuid::from_u128(7), 1, &[7; 32]).unwrap()
}

fn text(s: &str) -> Sealed<String> {
    key().seal(&s.to_string()).unwrap()
}

fn ctx(org: &str) -> Ctx<'_> {
    Ctx {
        today: today(),
        organisation: org,
        organisation_type: if org == TEAM {
            OrganisationType::Jeugdteam
        } else if org == JGZ {
            OrganisationType::Jgz
        } else {
            OrganisationType::Basisschool
        },
        person: "professional-1",
        municipality: GEMEENTE,
    }
}

fn household() -> Sealed<Household> {
    key()
        .seal(&Household {
            members: vec![
                HouseholdMember {
                    member_id: Uuid::from_u128(100),
                    role: MemberRole::Ouder,
                    given_name: "Amina".into(),
                    family_name: "Test".into(),
                    birth_date: None,
                    record: None,
                },
                HouseholdMember {
                    member_id: Uuid::from_u128(101),
                    role: MemberRole::Kind,
                    given_name: "Sam".into(),
                    family_name: "Test".into(),
                    birth_date: Some(d("2022-05-01")),
                    record: Some(RecordLink {
                        service: "vve".into(),
                        stream_id: Uuid::from_u128(555),
                    }),
                },
            ],
        })
        .unwrap()
}

fn open_cmd() -> Command {
    Command::Open {
        municipality: GEMEENTE.into(),
        district: "Leiden-Noord".into(),
        opened_on: d("2026-01-05"),
        direction_budget_hours: 10,
        household: household(),
    }
}

fn opened() -> Vec<CaseEvent> {
    decide(&Case::default(), open_cmd(), &ctx(TEAM)).unwrap()
}

/// Given `events`, when `org` sends `cmd`.
fn when(events: &[CaseEvent], org: &str, cmd: Command) -> Result<Vec<CaseEvent>, DomainError> {
    decide(&Case::from_events(events), cmd, &ctx(org))
}

/// Appends what `cmd` decides, panicking on refusal.
fn then_ok(events: &mut Vec<CaseEvent>, org: &str, cmd: Command) {
    let new = when(events, org, cmd).expect("accepted");
    events.extend(new);
}

fn join(org: &str) -> Command {
    Command::AddParticipant {
        organisation: org.into(),
        organisation_type: if org == JGZ {
            OrganisationType::Jgz
        } else {
            OrganisationType::Basisschool
        },
        joined_on: d("2026-01-06"),
    }
}

fn consent(id: u128, org: &str, scope: &[PlanPart]) -> Command {
    Command::GrantConsent {
        consent_id: Uuid::from_u128(id),
        organisation: org.into(),
        scope: scope.to_vec(),
        purpose: Purpose::Casusregie,
        granted_on: d("2026-01-07"),
        valid_until: d("2026-12-31"),
        granted_by: ConsentGiver::Ouders,
    }
}

fn goal(id: u128) -> Command {
    Command::SetGoal {
        goal_id: Uuid::from_u128(id),
        concern_id: None,
        description: text("Sam gaat elke dag naar school"),
        target_date: d("2026-07-01"),
        set_on: d("2026-01-10"),
    }
}

fn action(id: u128, goal: u128, org: &str) -> Command {
    Command::AssignAction {
        action_id: Uuid::from_u128(id),
        goal_id: Uuid::from_u128(goal),
        organisation: org.into(),
        description: text("Dagelijks contact over aanwezigheid"),
        due_on: d("2026-04-01"),
        assigned_on: d("2026-01-10"),
    }
}

fn conflict_code(r: Result<Vec<CaseEvent>, DomainError>) -> &'static str {
    match r {
        Err(DomainError::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn a_youth_team_opens_a_case_and_directs_it() {
    let events = opened();
    let [CaseEvent::Opened(e)] = events.as_slice() else {
        panic!("one opening event")
    };
    assert_eq!(e.director_organisation, TEAM);
    assert_eq!(e.director, "professional-1");
    assert_eq!(e.direction_budget_hours, 10);
    let case = Case::from_events(&events);
    assert!(case.is_director(TEAM));
    assert_eq!(case.budgets.get(TEAM), Some(&10));
}

#[test]
fn only_a_youth_team_of_the_municipality_opens_a_case_once() {
    assert!(matches!(
        decide(&Case::default(), open_cmd(), &ctx(SCHOOL)),
        Err(DomainError::Forbidden(_))
    ));
    let mut c = ctx(TEAM);
    c.municipality = "0599";
    assert!(matches!(
        decide(&Case::default(), open_cmd(), &c),
        Err(DomainError::Forbidden(_))
    ));
    assert_eq!(
        conflict_code(when(&opened(), TEAM, open_cmd())),
        "casus-bestaat-al"
    );
}

#[test]
fn invalid_opening_reports_every_field() {
    let r = decide(
        &Case::default(),
        Command::Open {
            municipality: GEMEENTE.into(),
            district: " ".into(),
            opened_on: d("2027-01-01"),
            direction_budget_hours: 0,
            household: household(),
        },
        &ctx(TEAM),
    );
    let Err(DomainError::Invalid(errors)) = r else {
        panic!("invalid")
    };
    let names: Vec<_> = errors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["geopendOp", "wijk", "urenbudgetRegie"]);
}

#[test]
fn another_municipality_does_not_see_the_case() {
    let events = opened();
    let mut c = ctx(TEAM);
    c.municipality = "0599";
    assert!(matches!(
        decide(&Case::from_events(&events), join(SCHOOL), &c),
        Err(DomainError::NotFound(_))
    ));
}

#[test]
fn participants_join_and_leave_and_the_municipality_never_joins() {
    let mut events = opened();
    then_ok(&mut events, TEAM, join(SCHOOL));
    assert_eq!(
        conflict_code(when(&events, TEAM, join(SCHOOL))),
        "deelnemer-bestaat-al"
    );
    assert!(matches!(
        when(&events, SCHOOL, join(JGZ)),
        Err(DomainError::Forbidden(_))
    ));
    let r = when(
        &events,
        TEAM,
        Command::AddParticipant {
            organisation: "00000001002220647000".into(),
            organisation_type: OrganisationType::Gemeente,
            joined_on: d("2026-01-06"),
        },
    );
    assert!(matches!(r, Err(DomainError::Invalid(_))));
    then_ok(
        &mut events,
        TEAM,
        Command::RemoveParticipant {
            organisation: SCHOOL.into(),
            left_on: d("2026-02-01"),
        },
    );
    let case = Case::from_events(&events);
    assert!(!case.is_active_participant(SCHOOL));
    // And may join again.
    then_ok(&mut events, TEAM, join(SCHOOL));
    assert!(Case::from_events(&events).is_active_participant(SCHOOL));
}

#[test]
fn consent_is_recorded_for_participants_and_opens_only_its_scope() {
    let mut events = opened();
    assert_eq!(
        conflict_code(when(&events, TEAM, consent(1, SCHOOL, &[PlanPart::Zorgen]))),
        "geen-deelnemer"
    );
    then_ok(&mut events, TEAM, join(SCHOOL));
    then_ok(&mut events, TEAM, join(JGZ));
    then_ok(
        &mut events,
        TEAM,
        consent(1, SCHOOL, &[PlanPart::Zorgen, PlanPart::DoelenActies]),
    );
    let case = Case::from_events(&events);
    let on = d("2026-02-01");
    assert_eq!(
        case.visible_parts(SCHOOL, Purpose::Casusregie, on),
        [PlanPart::Zorgen, PlanPart::DoelenActies]
            .into_iter()
            .collect()
    );
    // Without consent: nothing of the plan.
    assert!(case.visible_parts(JGZ, Purpose::Casusregie, on).is_empty());
    assert!(case
        .visible_parts(STRANGER, Purpose::Casusregie, on)
        .is_empty());
    // The director sees everything.
    assert_eq!(case.visible_parts(TEAM, Purpose::Casusregie, on).len(), 8);
    // Expired: nothing.
    assert!(case
        .visible_parts(SCHOOL, Purpose::Casusregie, d("2027-01-01"))
        .is_empty());
}

#[test]
fn revoking_consent_closes_the_plan_and_cannot_be_done_twice() {
    let mut events = opened();
    then_ok(&mut events, TEAM, join(SCHOOL));
    then_ok(&mut events, TEAM, consent(1, SCHOOL, &[PlanPart::Zorgen]));
    let revoke = Command::RevokeConsent {
        consent_id: Uuid::from_u128(1),
        revoked_on: d("2026-02-15"),
    };
    then_ok(&mut events, TEAM, revoke.clone());
    let case = Case::from_events(&events);
    assert!(case
        .visible_parts(SCHOOL, Purpose::Casusregie, d("2026-02-15"))
        .is_empty());
    assert_eq!(
        conflict_code(when(&events, TEAM, revoke)),
        "toestemming-al-ingetrokken"
    );
}

#[test]
fn a_participant_that_left_loses_its_consented_view() {
    let mut events = opened();
    then_ok(&mut events, TEAM, join(SCHOOL));
    then_ok(&mut events, TEAM, consent(1, SCHOOL, &[PlanPart::Zorgen]));
    then_ok(
        &mut events,
        TEAM,
        Command::RemoveParticipant {
            organisation: SCHOOL.into(),
            left_on: d("2026-02-01"),
        },
    );
    assert!(Case::from_events(&events)
        .visible_parts(SCHOOL, Purpose::Casusregie, d("2026-02-02"))
        .is_empty());
}

#[test]
fn consent_periods_and_scopes_are_checked() {
    let mut events = opened();
    then_ok(&mut events, TEAM, join(SCHOOL));
    let r = when(
        &events,
        TEAM,
        Command::GrantConsent {
            consent_id: Uuid::from_u128(1),
            organisation: SCHOOL.into(),
            scope: vec![PlanPart::Zorgen, PlanPart::Zorgen],
            purpose: Purpose::Casusregie,
            granted_on: d("2026-01-07"),
            valid_until: d("2029-01-01"),
            granted_by: ConsentGiver::Ouder,
        },
    );
    let Err(DomainError::Invalid(errors)) = r else {
        panic!("invalid")
    };
    let codes: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["onderdeel-dubbel", "geldigheid-ongeldig"]);
}

#[test]
fn goals_and_actions_follow_their_lifecycles() {
    let mut events = opened();
    then_ok(&mut events, TEAM, join(SCHOOL));
    then_ok(&mut events, TEAM, goal(10));
    // An action for an organisation outside the case is refused.
    assert_eq!(
        conflict_code(when(&events, TEAM, action(20, 10, STRANGER))),
        "geen-deelnemer"
    );
    then_ok(&mut events, TEAM, action(20, 10, SCHOOL));
    let status = |s| Command::ChangeActionStatus {
        action_id: Uuid::from_u128(20),
        status: s,
        on: d("2026-02-01"),
    };
    // Another participant may not change the school's action.
    then_ok(&mut events, TEAM, join(JGZ));
    assert!(matches!(
        when(&events, JGZ, status(ActionStatus::Afgerond)),
        Err(DomainError::Forbidden(_))
    ));
    then_ok(&mut events, SCHOOL, status(ActionStatus::InUitvoering));
    assert_eq!(
        conflict_code(when(&events, SCHOOL, status(ActionStatus::Open))),
        "statusovergang-ongeldig"
    );
    then_ok(&mut events, SCHOOL, status(ActionStatus::Afgerond));
    assert_eq!(
        conflict_code(when(&events, TEAM, status(ActionStatus::Vervallen))),
        "statusovergang-ongeldig"
    );
    let goal_status = |s| Command::ChangeGoalStatus {
        goal_id: Uuid::from_u128(10),
        status: s,
        on: d("2026-02-10"),
    };
    then_ok(&mut events, TEAM, goal_status(GoalStatus::Behaald));
    assert_eq!(
        conflict_code(when(&events, TEAM, goal_status(GoalStatus::Vervallen))),
        "doel-afgesloten"
    );
    // No new actions on a reached goal.
    assert!(matches!(
        when(&events, TEAM, action(21, 10, SCHOOL)),
        Err(DomainError::Invalid(_))
    ));
}

#[test]
fn a_plan_needs_a_running_goal_and_reviews_follow_every_6_to_10_months() {
    let mut events = opened();
    assert_eq!(
        conflict_code(when(
            &events,
            TEAM,
            Command::AdoptPlan {
                adopted_on: d("2026-01-20")
            }
        )),
        "plan-zonder-doelen"
    );
    then_ok(&mut events, TEAM, goal(10));
    let review = |id, on| Command::ScheduleReview {
        review_id: Uuid::from_u128(id),
        planned_on: d(on),
    };
    assert_eq!(
        conflict_code(when(&events, TEAM, review(30, "2026-08-01"))),
        "geen-plan"
    );
    then_ok(
        &mut events,
        TEAM,
        Command::AdoptPlan {
            adopted_on: d("2026-01-20"),
        },
    );
    let case = Case::from_events(&events);
    assert_eq!(case.plan_version, 1);
    assert_eq!(case.next_review_due(), Some(d("2026-11-20")));
    // Too early (under 6 months) and too late (over 10 months) are refused.
    assert!(matches!(
        when(&events, TEAM, review(30, "2026-05-01")),
        Err(DomainError::Invalid(_))
    ));
    assert!(matches!(
        when(&events, TEAM, review(30, "2026-12-01")),
        Err(DomainError::Invalid(_))
    ));
    then_ok(&mut events, TEAM, review(30, "2026-08-01"));
    assert_eq!(
        conflict_code(when(&events, TEAM, review(31, "2026-09-01"))),
        "evaluatie-al-gepland"
    );
    // Rescheduling the same review is fine.
    then_ok(&mut events, TEAM, review(30, "2026-09-01"));
}

#[test]
fn hours_are_recorded_by_involved_organisations_and_direction_only_by_the_director() {
    let mut events = opened();
    then_ok(&mut events, TEAM, join(SCHOOL));
    let hours = |kind| Command::RecordHours {
        on: d("2026-02-01"),
        minutes: 90,
        kind,
    };
    then_ok(&mut events, TEAM, hours(HoursKind::Regie));
    then_ok(&mut events, SCHOOL, hours(HoursKind::Ondersteuning));
    assert!(matches!(
        when(&events, SCHOOL, hours(HoursKind::Regie)),
        Err(DomainError::Invalid(_))
    ));
    assert!(matches!(
        when(&events, STRANGER, hours(HoursKind::Ondersteuning)),
        Err(DomainError::Forbidden(_))
    ));
    let case = Case::from_events(&events);
    assert_eq!(case.minutes.get(TEAM), Some(&90));
    assert_eq!(case.minutes.get(SCHOOL), Some(&90));
}

#[test]
fn an_escalation_opens_the_safety_part_to_its_parties_without_consent() {
    let mut events = opened();
    then_ok(&mut events, TEAM, join(SCHOOL));
    then_ok(&mut events, TEAM, join(JGZ));
    let escalate = Command::Escalate {
        escalation_id: Uuid::from_u128(40),
        reported_on: d("2026-02-20"),
        parties: vec![JGZ.into()],
        legal_ground: "meldcode-afweging-5".into(),
        report: text("Zorgen over de veiligheid thuis"),
    };
    let new = when(&events, SCHOOL, escalate).unwrap();
    let [CaseEvent::Escalated(e)] = new.as_slice() else {
        panic!("one escalation")
    };
    // Reporter and director are always parties.
    assert_eq!(
        e.parties,
        vec![SCHOOL.to_string(), JGZ.into(), TEAM.into()]
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    events.extend(new);
    let case = Case::from_events(&events);
    let on = d("2026-02-21");
    assert_eq!(
        case.visible_parts(JGZ, Purpose::Casusregie, on),
        [PlanPart::Veiligheid].into_iter().collect()
    );
    assert!(case
        .visible_parts(STRANGER, Purpose::Casusregie, on)
        .is_empty());
}

#[test]
fn an_escalation_names_a_legal_ground_and_involved_parties() {
    let events = opened();
    let r = when(
        &events,
        TEAM,
        Command::Escalate {
            escalation_id: Uuid::from_u128(40),
            reported_on: d("2026-02-20"),
            parties: vec![STRANGER.into()],
            legal_ground: "zomaar".into(),
            report: text("x"),
        },
    );
    let Err(DomainError::Invalid(errors)) = r else {
        panic!("invalid")
    };
    assert_eq!(errors.len(), 2);
}

#[test]
fn a_closed_case_takes_nothing_more() {
    let mut events = opened();
    then_ok(
        &mut events,
        TEAM,
        Command::Close {
            closed_on: d("2026-02-28"),
            outcome: CaseOutcome::DoelenBehaald,
            note: None,
        },
    );
    assert!(Case::from_events(&events).is_closed());
    assert_eq!(
        conflict_code(when(&events, TEAM, join(SCHOOL))),
        "casus-gesloten"
    );
    assert_eq!(
        conflict_code(when(
            &events,
            TEAM,
            Command::Close {
                closed_on: d("2026-02-28"),
                outcome: CaseOutcome::Overig,
                note: None
            }
        )),
        "casus-gesloten"
    );
}

#[test]
fn commands_on_a_case_that_does_not_exist_are_not_found() {
    assert!(matches!(
        decide(&Case::default(), join(SCHOOL), &ctx(TEAM)),
        Err(DomainError::NotFound(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Property tests: random command sequences by random organisations.
// ---------------------------------------------------------------------------------------------

fn arb_org() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(TEAM), Just(SCHOOL), Just(JGZ), Just(STRANGER)]
}

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..120).prop_map(|n| d("2026-01-01") + Days::new(n))
}

fn arb_part() -> impl Strategy<Value = PlanPart> {
    proptest::sample::select(PlanPart::ALL.to_vec())
}

fn id() -> impl Strategy<Value = Uuid> {
    (1u128..=4).prop_map(Uuid::from_u128)
}

fn arb_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (arb_org(), arb_date()).prop_map(|(o, on)| Command::AddParticipant {
            organisation: o.into(),
            organisation_type: OrganisationType::Basisschool,
            joined_on: on
        }),
        (arb_org(), arb_date()).prop_map(|(o, on)| Command::RemoveParticipant {
            organisation: o.into(),
            left_on: on
        }),
        (
            id(),
            arb_org(),
            proptest::collection::vec(arb_part(), 0..4),
            arb_date(),
            0u64..800
        )
            .prop_map(|(i, o, scope, on, len)| Command::GrantConsent {
                consent_id: i,
                organisation: o.into(),
                scope,
                purpose: Purpose::Casusregie,
                granted_on: on,
                valid_until: on + Days::new(len),
                granted_by: ConsentGiver::Ouders,
            }),
        (id(), arb_date()).prop_map(|(i, on)| Command::RevokeConsent {
            consent_id: i,
            revoked_on: on
        }),
        (id(), arb_date()).prop_map(|(i, on)| Command::SetGoal {
            goal_id: i,
            concern_id: None,
            description: text("doel"),
            target_date: on + Days::new(90),
            set_on: on,
        }),
        (
            id(),
            arb_date(),
            proptest::sample::select(vec![
                GoalStatus::Lopend,
                GoalStatus::Behaald,
                GoalStatus::NietBehaald,
                GoalStatus::Vervallen
            ])
        )
            .prop_map(|(i, on, status)| Command::ChangeGoalStatus {
                goal_id: i,
                status,
                on
            }),
        (id(), id(), arb_org(), arb_date()).prop_map(|(a, g, o, on)| Command::AssignAction {
            action_id: a,
            goal_id: g,
            organisation: o.into(),
            description: text("actie"),
            due_on: on + Days::new(30),
            assigned_on: on,
        }),
        (
            id(),
            arb_date(),
            proptest::sample::select(vec![
                ActionStatus::Open,
                ActionStatus::InUitvoering,
                ActionStatus::Afgerond,
                ActionStatus::Vervallen
            ])
        )
            .prop_map(|(a, on, status)| Command::ChangeActionStatus {
                action_id: a,
                status,
                on
            }),
        arb_date().prop_map(|on| Command::AdoptPlan { adopted_on: on }),
        (arb_date(), 0u32..900, any::<bool>()).prop_map(|(on, m, regie)| Command::RecordHours {
            on,
            minutes: m,
            kind: if regie {
                HoursKind::Regie
            } else {
                HoursKind::Ondersteuning
            },
        }),
        (id(), arb_date(), proptest::collection::vec(arb_org(), 0..3)).prop_map(|(i, on, p)| {
            Command::Escalate {
                escalation_id: i,
                reported_on: on,
                parties: p.into_iter().map(String::from).collect(),
                legal_ground: "meldcode-afweging-5".into(),
                report: text("melding"),
            }
        }),
        arb_date().prop_map(|on| Command::Close {
            closed_on: on,
            outcome: CaseOutcome::Overig,
            note: None
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever is sent by whomever, the invariants of every state machine hold after every
    /// accepted command.
    #[test]
    fn random_command_sequences_keep_every_invariant(
        steps in proptest::collection::vec((arb_org(), arb_command(), 0u64..200), 1..60)
    ) {
        let mut events = opened();
        let mut case = Case::from_events(&events);
        for (org, cmd, day) in steps {
            let mut c = ctx(org);
            c.today = d("2026-01-01") + Days::new(day);
            let before = case.clone();
            match decide(&case, cmd, &c) {
                Ok(new) => {
                    prop_assert!(!before.is_closed(), "a closed case accepted a command");
                    for e in &new {
                        // Only the director changes the plan's frame; others only their own
                        // action status, their own hours and escalations.
                        match e {
                            CaseEvent::ActionStatusChanged(a) => {
                                let action = &before.actions[&a.action_id];
                                prop_assert!(before.is_director(org) || action.organisation == org);
                                prop_assert!(action_transition_allowed(action.status, a.status));
                            }
                            CaseEvent::HoursRecorded(h) => {
                                prop_assert_eq!(&h.organisation, org);
                                prop_assert!(before.is_involved(org));
                            }
                            CaseEvent::Escalated(x) => {
                                prop_assert!(before.is_involved(org));
                                for p in &x.parties {
                                    prop_assert!(before.is_involved(p));
                                }
                            }
                            CaseEvent::GoalStatusChanged(g) => {
                                prop_assert!(!before.goals[&g.goal_id].is_final());
                                prop_assert!(before.is_director(org));
                            }
                            CaseEvent::ConsentGranted(g) => {
                                prop_assert!(before.is_active_participant(&g.organisation));
                                prop_assert!(!g.scope.is_empty());
                                prop_assert!(g.valid_until >= g.granted_on);
                            }
                            _ => prop_assert!(before.is_director(org)),
                        }
                    }
                    events.extend(new);
                    case = Case::from_events(&events);
                    prop_assert_eq!(case.version, events.len() as i64);
                }
                Err(_) => prop_assert_eq!(&case, &before),
            }
            // A final goal or action never changes again: checked by the transitions above.
            // Nobody but the director, consented participants and escalation parties sees a part.
            for who in [SCHOOL, JGZ, STRANGER] {
                let parts = case.visible_parts(who, Purpose::Casusregie, c.today);
                for p in &parts {
                    let by_consent = case.is_active_participant(who)
                        && case.consents.values().any(|k| k.organisation == who
                            && k.is_valid_on(c.today) && k.scope.contains(p));
                    let by_escalation = *p == PlanPart::Veiligheid && case.is_escalation_party(who);
                    prop_assert!(by_consent || by_escalation, "{who} sees {p:?} without grounds");
                }
            }
            prop_assert!(case.visible_parts(STRANGER, Purpose::Casusregie, c.today).is_empty()
                || case.is_involved(STRANGER) || case.is_escalation_party(STRANGER));
        }
    }

    /// Action statuses only move forward: from a final status nothing is allowed.
    #[test]
    fn final_action_statuses_are_terminal(
        from in proptest::sample::select(vec![ActionStatus::Afgerond, ActionStatus::Vervallen]),
        to in proptest::sample::select(vec![ActionStatus::Open, ActionStatus::InUitvoering, ActionStatus::Afgerond, ActionStatus::Vervallen]),
    ) {
        prop_assert!(!action_transition_allowed(from, to));
    }
}

//! Disclosure policy: every field each handover view returns, for each organisation type it
//! serves, has a data category the policy allows; the municipality's monitor holds no rows about
//! a child. Samples have every optional field filled that the view can fill for that type.

use chrono::NaiveDate;
use kansrijk_privacy::disclosure::{assert_disclosure, untested_disclosures, FieldCategories};
use kansrijk_proto::actor::OrganisationType as O;
use kansrijk_proto::handover::{
    Absence, Advice, AdviceLevel, Cell, ChildIdentity, FileKind, FileStatus, FileView, Inbox,
    InboxItem, Monitor, Observation, ObservationInstrument, OsoContent, Outbox, OutboxItem,
    PairRow, ParentsResponse, PositionRow, PreschoolContent, Reconsideration, RefusalReason,
    RefusalRow, SchoolId, TestResult, VveProgramme, Year3Position,
};
use kansrijk_views::handover::monitor::{compute, Fact};
use kansrijk_views::vve::suppression::SuppressionConfig;
use uuid::Uuid;

fn d() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
}

fn child() -> ChildIdentity {
    ChildIdentity {
        given_name: "Elif".into(),
        family_name: "Bakkal".into(),
        birth_date: NaiveDate::from_ymd_opt(2022, 5, 1).unwrap(),
        bsn: Some("111222333".into()),
    }
}

fn outbox(position: Option<Year3Position>, kind: FileKind) -> serde_json::Value {
    serde_json::to_value(Outbox {
        dossiers: vec![OutboxItem {
            dossier_id: Uuid::new_v4(),
            soort: kind,
            status: FileStatus::Afgerond,
            school: Some(SchoolId::new("34CD", "01")),
            opgesteld_op: d(),
            verzonden_op: Some(d()),
            bevestigd_op: Some(d()),
            bevestiging_uitgebleven: true,
            warme_overdracht_gepland_op: Some(d()),
            warme_overdracht_gehouden_op: Some(d()),
            positie_leerjaar3: position,
            kind: Some(child()),
        }],
    })
    .unwrap()
}

fn inbox() -> serde_json::Value {
    serde_json::to_value(Inbox {
        dossiers: vec![InboxItem {
            dossier_id: Uuid::new_v4(),
            soort: FileKind::Voorschool,
            afzender: "123456789".into(),
            verzonden_op: d(),
            bevestigd_op: Some(d()),
            bevestiging_uitgebleven: true,
            kind: Some(child()),
        }],
    })
    .unwrap()
}

fn file() -> serde_json::Value {
    let text = || "tekst".to_string();
    serde_json::to_value(FileView {
        dossier_id: Uuid::new_v4(),
        soort: FileKind::PoVo,
        status: FileStatus::Ontvangen,
        afzender: "12AB00".into(),
        school: Some(SchoolId::new("56EF", "00")),
        kind: child(),
        voorschool: Some(PreschoolContent {
            socio_emotional: text(),
            language: text(),
            motor: text(),
            cognitive: text(),
            interests_and_talents: text(),
            home_situation: Some(text()),
            approach: Some(text()),
            vve: Some(VveProgramme {
                programme: text(),
                from: d(),
                until: Some(d()),
                hours_per_week: Some(16),
            }),
            observation: Some(Observation {
                instrument: ObservationInstrument::Kijk,
                on: d(),
                outcome: text(),
            }),
            support_needs: text(),
        }),
        oso: Some(OsoContent {
            support: text(),
            absence: Absence {
                authorised_days: 1,
                unauthorised_days: 2,
            },
            parents_wish: Some(AdviceLevel::Havo),
            pupil_wish: Some(AdviceLevel::Vwo),
            contact_wanted: true,
            school_history: Some(text()),
            vve_history: Some(text()),
            action_plans: Some(text()),
        }),
        voorlopig_advies: Some(Advice {
            level: AdviceLevel::Havo,
            explanation: Some(text()),
        }),
        toetsuitslag: Some(TestResult {
            test: "iep".into(),
            level: AdviceLevel::Vwo,
        }),
        heroverweging: Some(Reconsideration {
            level: AdviceLevel::HavoVwo,
            motivation: text(),
        }),
        definitief_advies: Some(Advice {
            level: AdviceLevel::HavoVwo,
            explanation: Some(text()),
        }),
        reacties_ouders: vec![ParentsResponse {
            agrees: Some(false),
            text: text(),
        }],
        warme_overdracht_gewenst: true,
        verzonden_op: Some(d()),
        bevestigd_op: Some(d()),
        positie_leerjaar3: Some(Year3Position::Op),
    })
    .unwrap()
}

fn monitor() -> serde_json::Value {
    // Computed from facts, with every table non-empty.
    let facts: Vec<Fact> = (0..40)
        .map(|i| Fact {
            kind: if i % 2 == 0 {
                FileKind::Voorschool
            } else {
                FileKind::PoVo
            },
            sender: if i % 2 == 0 {
                "123456789".into()
            } else {
                "12AB00".into()
            },
            school: Some("34CD01".into()),
            consent: (i % 2 == 0).then_some(i % 4 == 0),
            refusal_reason: (i % 4 == 2).then_some(RefusalReason::ZelfOverdragen),
            sent_on: Some(d()),
            confirmed_on: Some(d()),
            warm_held: i % 3 == 0,
            year3: (i % 2 == 1).then_some(Year3Position::Op),
        })
        .collect();
    let m: Monitor = compute("0546", &facts, &SuppressionConfig::default(), 10);
    assert!(!m.koppels.is_empty() && !m.positie_leerjaar3.is_empty());
    // Keep the type names in use for the compiler (the rows are built by `compute`).
    let _: Option<(PairRow, PositionRow, RefusalRow, Cell)> = None;
    serde_json::to_value(m).unwrap()
}

#[test]
fn every_handover_view_discloses_only_what_its_policy_allows() {
    let mut checked = Vec::new();
    let mut check = |view: &'static str, t: O, sample: serde_json::Value, f: FieldCategories| {
        assert_disclosure(view, t, &sample, &f);
        checked.push((view, t));
    };
    check(
        "handover.uitgaand",
        O::Kinderopvang,
        outbox(None, FileKind::Voorschool),
        FieldCategories::of::<Outbox>(),
    );
    check(
        "handover.uitgaand",
        O::Basisschool,
        outbox(Some(Year3Position::Boven), FileKind::PoVo),
        FieldCategories::of::<Outbox>(),
    );
    for t in [O::Basisschool, O::VoortgezetOnderwijs] {
        check("handover.inbox", t, inbox(), FieldCategories::of::<Inbox>());
    }
    for t in [O::Kinderopvang, O::Basisschool, O::VoortgezetOnderwijs] {
        check(
            "handover.dossier",
            t,
            file(),
            FieldCategories::of::<FileView>(),
        );
    }
    check(
        "handover.monitor",
        O::Gemeente,
        monitor(),
        FieldCategories::of::<Monitor>(),
    );
    assert!(
        untested_disclosures("handover.", &checked).is_empty(),
        "untested: {:?}",
        untested_disclosures("handover.", &checked)
    );
}

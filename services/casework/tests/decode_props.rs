//! Property tests for the request body decoders of casework: every command body, decoded through
//! `Request::json` from arbitrary bytes and arbitrary JSON, is a value or a 400 problem, never a
//! panic; the text, list and household checks never panic.

use kansrijk_casework::api;
use kansrijk_proto::{Actor, OrganisationType, Purpose};
use kansrijk_runtime::service::Request;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

const FIELD_NAMES: &[&str] = &[
    "casusId",
    "gezinsleden",
    "rol",
    "voornaam",
    "achternaam",
    "geboortedatum",
    "dossier",
    "deelnemer",
    "organisatie",
    "toestemming",
    "onderdelen",
    "punten",
    "prioriteit",
    "doelId",
    "status",
    "actieId",
    "uren",
    "soort",
    "datum",
    "uitkomst",
    "toelichting",
    "geslotenOp",
    "streamId",
    "service",
];

macro_rules! BODIES {
    ($m:ident) => {
        $m!(
            api::MemberInput,
            api::OpenCase,
            api::AddParticipant,
            api::RemoveParticipant,
            api::GrantConsent,
            api::RevokeConsent,
            api::RecordStrengths,
            api::RecordConcern,
            api::RecordNetwork,
            api::SetGoal,
            api::ChangeGoalStatus,
            api::AssignAction,
            api::ChangeActionStatus,
            api::AdoptPlan,
            api::ScheduleReview,
            api::RecordReview,
            api::RecordHours,
            api::SetHoursBudget,
            api::Escalate,
            api::RecordSafetyPlan,
            api::CloseCase,
        )
    };
}

fn actor() -> Actor {
    Actor {
        person: "p-1".into(),
        organisation: "00000001234567890000".into(),
        organisation_type: OrganisationType::Gemeente,
        role: "regisseur".into(),
        municipality: "0363".into(),
        purpose: Purpose::Casusregie,
    }
}

fn request(body: Vec<u8>) -> Request {
    Request {
        actor: actor(),
        command_id: None,
        traceparent: None,
        body: body.into(),
    }
}

/// Arbitrary JSON with keys that often hit the real (camelCase Dutch) field names.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
        "[0-9]{9}".prop_map(Value::String),
        Just(Value::String("00000000-0000-0000-0000-000000000001".into())),
    ];
    leaf.prop_recursive(3, 40, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..10)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z]{1,10}",
        prop::sample::select(FIELD_NAMES.to_vec()).prop_map(str::to_owned),
    ]
}

/// Decodes `bytes` as every request body of the service: a value or a 400 problem, never a panic.
fn decode_every_body(bytes: &[u8]) -> Result<(), TestCaseError> {
    macro_rules! each {
        ($($t:ty),+ $(,)?) => {$(
            if let Err(p) = request(bytes.to_vec()).json::<$t>() {
                prop_assert_eq!(p.status, 400);
            }
        )+};
    }
    BODIES!(each);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn request_bodies_from_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_every_body(&bytes)?;
    }

    #[test]
    fn request_bodies_from_arbitrary_json(v in arb_json()) {
        decode_every_body(&serde_json::to_vec(&v).unwrap())?;
    }

    #[test]
    fn text_checks_collect_problems_never_panic(
        texts in prop::collection::vec(prop_oneof![".{0,40}", "\\s{0,4}", Just("x".repeat(5000))], 0..30),
        max in 0usize..100,
    ) {
        let mut errors = Vec::new();
        for t in &texts {
            api::check_text(&mut errors, "tekst", t, max);
        }
        api::check_list(&mut errors, "punten", &texts);
        for e in &errors {
            prop_assert!(!e.code.is_empty());
            // A field error names the field, never echoes the value.
            prop_assert!(texts.iter().all(|t| t.trim().len() < 4 || !e.reason.contains(t.as_str())));
        }
    }

    #[test]
    fn member_checks_never_panic(v in prop::collection::vec(arb_json(), 0..25)) {
        let members: Vec<api::MemberInput> = v
            .into_iter()
            .filter_map(|m| serde_json::from_value(m).ok())
            .collect();
        let mut errors = Vec::new();
        api::check_members(&mut errors, &members);
        if members.is_empty() {
            prop_assert!(!errors.is_empty());
        }
    }
}

//! Property tests for the request body decoders of vve-reach: every command and query body,
//! decoded through `Request::json` from arbitrary bytes and arbitrary JSON, is a value or a 400
//! problem, never a panic; the field checks collect problems and never panic.

use kansrijk_proto::{Actor, OrganisationType, Purpose};
use kansrijk_runtime::service::Request;
use kansrijk_vve_reach::api;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

const FIELD_NAMES: &[&str] = &[
    "bsn",
    "voornaam",
    "achternaam",
    "geboortedatum",
    "postcode",
    "wijk",
    "gemeente",
    "ingeschrevenOp",
    "kindId",
    "reden",
    "datum",
    "locatie",
    "uren",
    "aanwezig",
    "jaar",
    "criteria",
    "code",
    "waarde",
    "lrk",
    "organisatie",
    "toelichting",
    "afgegevenOp",
    "verwezenOp",
];

macro_rules! BODIES {
    ($m:ident) => {
        $m!(
            api::RegistryQuery,
            api::RegisterChild,
            api::IssueIndication,
            api::WithdrawIndication,
            api::Refer,
            api::RecordOutreach,
            api::RecordDeclined,
            api::RecordMovedAway,
            api::AcceptReferral,
            api::PutOnWaitingList,
            api::StartPlacement,
            api::ChangeHours,
            api::EndPlacement,
            api::RecordAttendance,
            api::CriterionBody,
            api::DefineTargetGroup,
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
    fn field_checks_collect_problems_never_panic(
        s in prop_oneof![".{0,40}", "[0-9]{4}-[0-9]{2}-[0-9]{2}", "[0-9]{4} ?[A-Za-z]{2}"],
        n in any::<i64>(),
    ) {
        let v = Some(s.clone());
        let mut f = api::Fields { errors: Vec::new() };
        let _ = f.text("a", &v);
        let _ = f.date("b", &v);
        let _ = f.optional_date("c", &v);
        let _ = f.uuid("d", &v);
        let _ = f.optional_uuid("e", &v);
        let _ = f.code::<kansrijk_proto::OrganisationType>("f", &v);
        let _ = f.number("g", Some(n));
        let _ = f.text("h", &None);
        if let Err(p) = f.finish() {
            prop_assert_eq!(p.status, 400);
            prop_assert!(!p.invalid_params.is_empty());
        }
        if let Some(pc) = api::normalise_postcode(&s) {
            prop_assert_eq!(api::normalise_postcode(&pc), Some(pc.clone()));
        }
        let _ = api::is_municipality_code(&s);
    }
}

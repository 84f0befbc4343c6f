//! Property tests for the runtime's decoders of untrusted input: request bodies
//! (`Request::json`), the actor and command-id headers, sealed values (`SubjectKey::open`), the
//! master key spec and wrapped subject keys. Arbitrary input never panics; it is a value or an
//! error, and a sealed value only opens with the key and context it was sealed with.

use async_nats::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use kansrijk_proto::actor::{ACTOR_HEADER, COMMAND_ID_HEADER};
use kansrijk_proto::{Actor, OrganisationType, Purpose, Sealed};
use kansrijk_runtime::crypto::{MasterKeyRing, SubjectKey, WrappedKey, ALG};
use kansrijk_runtime::nats::{actor_from_headers, command_id_from_headers, request_headers};
use kansrijk_runtime::service::Request;
use proptest::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

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
        body: Bytes::from(body),
    }
}

/// A typical command body shape: required strings, a nested list, an optional date.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct SampleCommand {
    kind_id: Uuid,
    naam: String,
    #[serde(default)]
    datum: Option<chrono::NaiveDate>,
    #[serde(default)]
    items: Vec<SampleItem>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct SampleItem {
    code: String,
    aantal: u32,
}

fn json_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,64}",
        "[{}\\[\\]\":,0-9a-zA-Z \\\\-]{0,64}",
        Just(r#"{"kindId":"00000000-0000-0000-0000-000000000001","naam":"x"}"#.to_owned()),
        Just(r#"{"kindId":1,"naam":null,"items":[{"code":1}]}"#.to_owned()),
        Just("[".repeat(200)),
        Just("{\"a\":".repeat(200)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn request_json_is_value_or_400(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        match request(bytes.clone()).json::<SampleCommand>() {
            Ok(_) => {}
            Err(p) => {
                prop_assert_eq!(p.status, 400);
                // The problem never echoes the input.
                let text = String::from_utf8_lossy(&bytes);
                if text.len() > 8 {
                    prop_assert!(!p.detail.unwrap_or_default().contains(text.as_ref()));
                }
            }
        }
        let _ = request(bytes.clone()).json::<serde_json::Value>();
        let _ = request(bytes).json::<Vec<Uuid>>();
    }

    #[test]
    fn request_json_of_json_like_text(text in json_text()) {
        if let Err(p) = request(text.into_bytes()).json::<SampleCommand>() {
            prop_assert_eq!(p.status, 400);
        }
    }

    #[test]
    fn actor_header_is_actor_or_401(raw in prop_oneof![
        "[ -~]{0,80}",
        Just(serde_json::to_string(&actor()).unwrap()),
        Just(r#"{"person":"x"}"#.to_owned()),
        Just(r#"{"person":1,"organisation":[],"organisationType":"gemeente"}"#.to_owned()),
    ]) {
        let mut h = HeaderMap::new();
        h.insert(ACTOR_HEADER, raw.as_str());
        match actor_from_headers(Some(&h)) {
            Ok(_) => {}
            Err(p) => prop_assert_eq!(p.status, 401),
        }
    }

    #[test]
    fn command_id_header_is_uuid_or_400(raw in "[ -~]{0,48}") {
        let mut h = HeaderMap::new();
        h.insert(COMMAND_ID_HEADER, raw.as_str());
        match command_id_from_headers(Some(&h)) {
            Ok(id) => prop_assert_eq!(id, raw.parse::<Uuid>().ok()),
            Err(p) => prop_assert_eq!(p.status, 400),
        }
    }

    #[test]
    fn sealed_open_of_arbitrary_fields_fails_cleanly(
        alg in prop_oneof![Just(ALG.to_owned()), ".{0,16}"],
        same_subject in any::<bool>(),
        key_version in prop_oneof![Just(1u32), any::<u32>()],
        nonce in prop_oneof![".{0,24}", prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| B64.encode(b))],
        ct in prop_oneof![".{0,64}", prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| B64.encode(b))],
    ) {
        let subject = Uuid::from_u128(7);
        let key = SubjectKey::generate(subject, 1);
        let other = if same_subject { subject } else { Uuid::from_u128(8) };
        let sealed: Sealed<String> = Sealed::new(alg, other, key_version, nonce, ct);
        // Random ciphertext never authenticates.
        prop_assert!(key.open(&sealed).is_err());
    }

    #[test]
    fn sealed_open_of_tampered_ciphertext_fails(
        value in ".{0,40}",
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = SubjectKey::generate(Uuid::from_u128(9), 3);
        let sealed = key.seal(&value).unwrap();
        prop_assert_eq!(key.open(&sealed).unwrap(), value.clone());
        let mut bytes = B64.decode(&sealed.ciphertext).unwrap();
        let i = flip.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let tampered: Sealed<String> = Sealed::new(
            sealed.alg.clone(), sealed.subject, sealed.key_version, sealed.nonce.clone(), B64.encode(bytes),
        );
        prop_assert!(key.open(&tampered).is_err());
        // A value sealed for one type does not open as another without an error or a value.
        let as_number: Sealed<u64> = Sealed::new(
            sealed.alg.clone(), sealed.subject, sealed.key_version, sealed.nonce.clone(), sealed.ciphertext.clone(),
        );
        let _ = key.open(&as_number);
    }

    #[test]
    fn sealed_wire_json_then_open_never_panics(v in ".{0,200}") {
        let key = SubjectKey::generate(Uuid::from_u128(10), 1);
        if let Ok(sealed) = serde_json::from_str::<Sealed<String>>(&v) {
            let _ = key.open(&sealed);
        }
    }

    #[test]
    fn master_key_spec_parse_never_panics(spec in prop_oneof![
        ".{0,80}",
        "[0-9]{1,3}:[A-Za-z0-9+/=]{0,48}(,[0-9]{1,3}:[A-Za-z0-9+/=]{0,48}){0,2}",
    ]) {
        let _ = MasterKeyRing::parse(&spec);
    }

    #[test]
    fn unwrap_of_arbitrary_bytes_fails_cleanly(
        id in prop_oneof![Just(1u32), any::<u32>()],
        bytes in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let ring = MasterKeyRing::parse(&MasterKeyRing::generate_spec(1)).unwrap();
        let wrapped = WrappedKey { master_key_id: id, bytes };
        prop_assert!(ring.unwrap_key(Uuid::from_u128(11), 1, &wrapped).is_err());
    }
}

#[test]
fn missing_headers_are_401_not_a_panic() {
    assert_eq!(actor_from_headers(None).unwrap_err().status, 401);
    assert_eq!(command_id_from_headers(None).unwrap(), None);
    let h = request_headers(&actor(), Some(Uuid::from_u128(1)), None);
    assert_eq!(actor_from_headers(Some(&h)).unwrap(), actor());
    assert_eq!(
        command_id_from_headers(Some(&h)).unwrap(),
        Some(Uuid::from_u128(1))
    );
}

#[test]
fn wrapped_key_roundtrip_and_wrong_subject() {
    let ring = MasterKeyRing::parse(&MasterKeyRing::generate_spec(4)).unwrap();
    let key = SubjectKey::generate(Uuid::from_u128(12), 2);
    let wrapped = ring.wrap(&key).unwrap();
    let back = ring.unwrap_key(Uuid::from_u128(12), 2, &wrapped).unwrap();
    assert_eq!(back.expose_bytes(), key.expose_bytes());
    assert!(ring.unwrap_key(Uuid::from_u128(13), 2, &wrapped).is_err());
    assert!(ring.unwrap_key(Uuid::from_u128(12), 3, &wrapped).is_err());
}

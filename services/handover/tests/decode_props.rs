//! Property tests for the OSO import (`oso::import`): an arbitrary JSON document, or a real export
//! with one field replaced or removed, gives an `OsoFile` or a list of field errors, never a panic;
//! the errors never echo the submitted values.

use kansrijk_handover::oso::{export, import};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A complete, valid OSO export to mutate, made by a round trip through the importer.
fn valid_doc() -> Value {
    let doc = json!({
        "osoVersie": "kansrijk-oso-json/1",
        "school": {"brin": "12AB", "vestiging": "00"},
        "schooljaar": "2025-2026",
        "leerling": {
            "bsn": "111222333",
            "voornaam": "Noah",
            "achternaam": "de Vries",
            "geboortedatum": "2014-05-01",
            "kansrijkKindId": "00000000-0000-0000-0000-000000000005"
        },
        "vveHistorie": {"omschrijving": "Peuterspeelzaal."},
        "schoolloopbaan": {"omschrijving": "Groep 3 gedoubleerd."},
        "advies": {
            "voorlopigAdvies": {"niveau": "vmbo-gt", "toelichting": "Werkt zelfstandig."},
            "definitiefAdvies": {"niveau": "havo"},
            "wensOuders": "havo",
            "contactGewenst": true
        },
        "zorg": {"ondersteuning": "Extra instructie rekenen."},
        "verzuim": {"geoorloofdDagen": 4, "ongeoorloofdDagen": 1},
        "toetsresultaten": [{"toets": "route-8", "toetsadvies": "havo"}],
        "inzageOuders": {"ingezien": true, "datum": "2026-03-21", "akkoord": false, "opmerkingen": "Wij zien havo."}
    });
    let file = import(&doc).expect("the base document is a valid OSO file");
    export(&file)
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
        Just(Value::String("havo".into())),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// All paths (as key lists) to values inside `v`.
fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(m) = v {
        for (k, child) in m {
            prefix.push(k.clone());
            out.push(prefix.clone());
            paths(child, prefix, out);
            prefix.pop();
        }
    }
}

fn replace(doc: &mut Value, path: &[String], with: Option<Value>) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut cur = doc;
    for p in parents {
        cur = &mut cur[p.as_str()];
    }
    if let Value::Object(m) = cur {
        match with {
            Some(v) => {
                m.insert(last.clone(), v);
            }
            None => {
                m.remove(last);
            }
        }
    }
}

#[test]
fn the_base_document_imports() {
    assert!(import(&valid_doc()).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn import_of_arbitrary_json_never_panics(v in arb_json()) {
        if let Err(errors) = import(&v) {
            prop_assert!(!errors.is_empty());
        }
    }

    #[test]
    fn import_of_a_mutated_export(
        idx in any::<prop::sample::Index>(),
        with in prop::option::of(arb_json()),
    ) {
        let mut doc = valid_doc();
        let mut all = Vec::new();
        paths(&doc, &mut Vec::new(), &mut all);
        let path = idx.get(&all).clone();
        let replaced = with.clone();
        replace(&mut doc, &path, with);
        match import(&doc) {
            Ok(f) => {
                // What imports exports to a document that imports to the same file.
                prop_assert_eq!(import(&export(&f)).unwrap(), f);
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                if let Some(Value::String(s)) = replaced {
                    if s.len() > 6 {
                        for e in &errors {
                            prop_assert!(!e.reason.contains(&s), "field error echoes the input");
                        }
                    }
                }
            }
        }
    }
}

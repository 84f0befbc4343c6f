//! Contract tests: the checked-in JSON Schemas are current, every field has a data category, and
//! the wire form of every event is pinned by a snapshot.

use std::path::PathBuf;

use kansrijk_proto::event::EventSet;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

#[test]
fn checked_in_schemas_are_current() {
    let bless = std::env::var_os("KANSRIJK_BLESS").is_some();
    let mut stale = Vec::new();
    let mut expected_files = Vec::new();
    for s in kansrijk_proto::all_event_schemas() {
        let path = schema_dir().join(s.file_name());
        expected_files.push(s.file_name());
        let text = serde_json::to_string_pretty(&s.schema).unwrap() + "\n";
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(s.file_name());
        }
    }
    let on_disk: Vec<String> = std::fs::read_dir(schema_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let orphans: Vec<_> = on_disk
        .iter()
        .filter(|n| !expected_files.contains(n))
        .collect();
    assert!(
        stale.is_empty() && orphans.is_empty(),
        "stale schemas {stale:?}, orphaned {orphans:?}: run KANSRIJK_BLESS=1 cargo test -p kansrijk-proto"
    );
}

#[test]
fn every_field_of_every_event_has_a_data_category() {
    for s in kansrijk_proto::all_event_schemas() {
        let missing = s.fields_without_category();
        assert!(
            missing.is_empty(),
            "{}: fields without x-data-category: {missing:?}",
            s.event_type
        );
        assert!(
            !s.field_categories().is_empty(),
            "{} declares no fields",
            s.event_type
        );
    }
}

fn snapshot_set<E: EventSet + std::fmt::Debug>(examples: Vec<E>) {
    let mut seen = std::collections::BTreeSet::new();
    for e in examples {
        let t = e.event_type();
        let data = e.to_data().unwrap();
        // Decoding what we encode gives back the same event.
        assert_eq!(
            format!("{:?}", E::decode(&t, data.clone()).unwrap()),
            format!("{e:?}")
        );
        insta::assert_json_snapshot!(t.to_string(), data);
        seen.insert(t.to_string());
    }
    let all: std::collections::BTreeSet<_> = E::schemas()
        .iter()
        .map(|s| s.event_type.to_string())
        .collect();
    assert_eq!(
        seen,
        all,
        "every event type of {} needs an example",
        E::STREAM_TYPE
    );
}

#[test]
fn wire_form_of_privacy_events() {
    snapshot_set(kansrijk_proto::privacy::examples());
}

#[test]
fn wire_form_of_vve_events() {
    snapshot_set(kansrijk_proto::vve::examples());
    snapshot_set(kansrijk_proto::vve::target_group_examples());
}

#[test]
fn wire_form_of_casework_events() {
    snapshot_set(kansrijk_proto::casework::examples());
}

#[test]
fn wire_form_of_handover_events() {
    snapshot_set(kansrijk_proto::handover::examples());
}

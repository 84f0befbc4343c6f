//! Malformed events injected into the JetStream events stream of the real stack: garbage bytes,
//! JSON that is not a CloudEvent, a CloudEvent of an unknown type, of a version newer than the
//! code, with a sequence that is not a version, and with a huge payload. Every projection (every
//! durable consumer on the stream) keeps running and catches up, parks what it cannot apply
//! (`kansrijk_runtime::projection::list_parked`), applies none of it, and applies the valid
//! events that come after.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream;
use chrono::Utc;
use futures::StreamExt;
use kansrijk_e2e::Stack;
use kansrijk_proto::subject;
use kansrijk_runtime::projection::{applied_version, list_parked, ParkedEvent};
use kansrijk_runtime::testing::eventually;
use serde_json::{json, Value};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(60);

/// The subjects the services publish on (service token, stream type).
const EVENT_SUBJECTS: &[(&str, &str)] = &[
    ("vve", "kind"),
    ("overdracht", "overdrachtsdossier"),
    ("casework", "casus"),
    ("privacy", "betrokkene"),
];

fn envelope(
    event_type: &str,
    stream_type: &str,
    subject: Uuid,
    sequence: &str,
    data: Value,
) -> Value {
    let mut env = json!({
        "specversion": "1.0",
        "id": Uuid::new_v4(),
        "source": "urn:nld:oin:00000001234567890000:systeem:bad-input-test",
        "type": event_type,
        "time": Utc::now(),
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": format!("https://kansrijk.nl/schemas/{event_type}.json"),
        "sequence": sequence,
        "gemeente": "0546",
        "streamtype": stream_type,
        "data": serde_json::Value::Null,
    });
    env["data"] = data;
    env
}

/// One injected message: what it is, where it goes, its id (`Nats-Msg-Id`), its stream id (if it
/// is a CloudEvent) and its bytes.
struct Injected {
    what: String,
    subject: String,
    id: Uuid,
    stream_id: Option<Uuid>,
    payload: Vec<u8>,
    /// Whether every projection must park it (it cannot even be read as an envelope).
    parked_everywhere: bool,
    /// Whether at least one projection must park it (the one that owns its stream type's read
    /// model). Projections that follow the privacy streams only for erasures apply the other
    /// privacy events as no-ops (runtime `erasure` module docs), so those need not be parked.
    parked_somewhere: bool,
}

fn injected() -> Vec<Injected> {
    let mut out = Vec::new();
    for (service, stream_type) in EVENT_SUBJECTS {
        let subject = subject::event(service, stream_type);
        out.push(Injected {
            what: format!("garbage on {subject}"),
            subject: subject.clone(),
            id: Uuid::new_v4(),
            stream_id: None,
            payload: vec![0xff, 0x00, 0x13, 0x37, b'{', b'"'],
            parked_everywhere: true,
            parked_somewhere: true,
        });
        out.push(Injected {
            what: format!("JSON that is not a CloudEvent on {subject}"),
            subject: subject.clone(),
            id: Uuid::new_v4(),
            stream_id: None,
            payload: br#"{"hello":"world","specversion":2,"data":[1,2,3]}"#.to_vec(),
            parked_everywhere: true,
            parked_somewhere: true,
        });
        let known = known_type(stream_type);
        let prefix = known.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        let typed: Vec<(String, String, String, Value)> = vec![
            (
                "unknown type".into(),
                format!("{prefix}.iets-onbekends-gebeurd.v1"),
                "1".into(),
                json!({"x": 1}),
            ),
            (
                "wrong data for a known type".into(),
                known_type(stream_type),
                "1".into(),
                json!({"kindId": 5, "onzin": [true]}),
            ),
            (
                "newer version than the code".into(),
                known_type(stream_type).replace(".v1", ".v99"),
                "1".into(),
                json!({}),
            ),
            (
                "sequence that is not a version".into(),
                known_type(stream_type),
                "een".into(),
                json!({}),
            ),
            (
                "huge payload".into(),
                known_type(stream_type),
                "1".into(),
                json!({"opvulling": "a".repeat(700 * 1024)}),
            ),
        ];
        for (what, event_type, sequence, data) in typed {
            // The privacy streams are followed only for erasures: see `erasure_cases`.
            if *service == "privacy" && what != "unknown type" {
                continue;
            }
            out.push(typed_case(
                &what,
                &subject,
                stream_type,
                &event_type,
                &sequence,
                data,
                *service != "privacy",
            ));
        }
    }
    out
}

fn typed_case(
    what: &str,
    subject: &str,
    stream_type: &str,
    event_type: &str,
    sequence: &str,
    data: Value,
    parked_somewhere: bool,
) -> Injected {
    let stream_id = Uuid::new_v4();
    let mut env = envelope(event_type, stream_type, stream_id, sequence, data);
    let id = Uuid::new_v4();
    env["id"] = json!(id);
    Injected {
        what: format!("{what} ({event_type}) on {subject}"),
        subject: subject.to_owned(),
        id,
        stream_id: Some(stream_id),
        payload: serde_json::to_vec(&env).unwrap(),
        parked_everywhere: false,
        parked_somewhere,
    }
}

/// Erasure events that no projection can read: a newer version, and the current version with
/// wrong data. Each must be parked (visible, replayable) by every projection that follows the
/// privacy streams, never taken as a no-op: that would lose the erasure in that read model.
fn erasure_cases() -> Vec<Injected> {
    use kansrijk_proto::Event;
    let subject = subject::event("privacy", "betrokkene");
    let name = kansrijk_proto::privacy::SubjectErased::NAME;
    let v = kansrijk_proto::privacy::SubjectErased::VERSION;
    vec![
        typed_case(
            "erasure of a newer version",
            &subject,
            "betrokkene",
            &format!("{name}.v{}", v + 1),
            "1",
            json!({"subject": Uuid::new_v4(), "nieuwVeld": true}),
            true,
        ),
        typed_case(
            "erasure with wrong data",
            &subject,
            "betrokkene",
            &format!("{name}.v{v}"),
            "1",
            json!({"subject": 42}),
            true,
        ),
    ]
}

/// A current event type of the stream type (from the contracts).
fn known_type(stream_type: &str) -> String {
    use kansrijk_proto::EventSet;
    let schemas = match stream_type {
        "kind" => kansrijk_proto::vve::ChildEvent::schemas(),
        "overdrachtsdossier" => kansrijk_proto::handover::HandoverEvent::schemas(),
        "casus" => kansrijk_proto::casework::CaseEvent::schemas(),
        _ => kansrijk_proto::privacy::PrivacyEvent::schemas(),
    };
    let t = &schemas[0].event_type;
    format!("{}.v1", t.name())
}

/// The durable consumers on the events stream (one per projection), with their filter subjects.
async fn projections(js: &jetstream::Context) -> BTreeMap<String, String> {
    let stream = js
        .get_stream(subject::EVENTS_STREAM)
        .await
        .expect("events stream");
    let names: Vec<String> = stream
        .consumer_names()
        .filter_map(|n| async move { n.ok() })
        .collect()
        .await;
    let mut out = BTreeMap::new();
    for n in names {
        let info = stream.consumer_info(&n).await.expect("consumer info");
        let filter = if info.config.filter_subject.is_empty() {
            subject::EVENTS_WILDCARD.to_owned()
        } else {
            info.config.filter_subject.clone()
        };
        out.insert(n, filter);
    }
    out
}

/// NATS subject matching with `*` and `>`.
fn matches(filter: &str, subject: &str) -> bool {
    let mut f = filter.split('.');
    let mut s = subject.split('.');
    loop {
        match (f.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Rows of any read model in `schema` that mention `id` (bookkeeping tables excluded).
async fn mentions(pool: &sqlx::PgPool, schema: &str, id: Uuid) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 AND table_type = 'BASE TABLE'
           AND table_name NOT IN ('projection_streams', 'projection_status', 'parked_events',
                                  '_sqlx_migrations', 'events', 'commands', 'relay_checkpoint')",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut found = Vec::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{schema}\".\"{t}\" r WHERE r::text LIKE '%' || $1 || '%'"
        ))
        .bind(id.to_string())
        .fetch_one(pool)
        .await
        .unwrap_or(0);
        if n > 0 {
            found.push(format!("{schema}.{t}"));
        }
    }
    found
}

/// Schemas that hold projection bookkeeping.
async fn projection_schemas(stack: &Stack) -> Vec<String> {
    let pool = stack.pool("public").await;
    sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'parked_events' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("schemas")
}

/// Everything `projection` parked, over every schema.
async fn parked(stack: &Stack, schemas: &[String], projection: &str) -> Vec<ParkedEvent> {
    let mut all = Vec::new();
    for s in schemas {
        let pool = stack.pool(s).await;
        all.extend(list_parked(&pool, projection).await.expect("list parked"));
        pool.close().await;
    }
    all
}

/// Whether every consumer has nothing pending and nothing unacknowledged.
async fn all_caught_up(js: &jetstream::Context, names: &BTreeMap<String, String>) -> Option<()> {
    let stream = js.get_stream(subject::EVENTS_STREAM).await.ok()?;
    for n in names.keys() {
        let info = stream.consumer_info(n).await.ok()?;
        if info.num_pending > 0 || info.num_ack_pending > 0 {
            return None;
        }
    }
    Some(())
}

async fn register_child(stack: &Stack, bsn: &str) -> Uuid {
    let jgz = stack.client("jgz-verpleegkundige").await;
    let made = jgz
        .post(
            "/v1/kinderen",
            &json!({
                "bsn": bsn,
                "voornaam": "Test",
                "achternaam": "Kind",
                "geboortedatum": "2023-01-15",
                "postcode": "2311 AB",
                "wijk": "Binnenstad-Noord",
                "gemeente": "0546",
            }),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("register a child: {e}"));
    made.accepted.stream_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_are_parked_and_later_events_still_apply() {
    inject_and_check(injected()).await;
}

/// An erasure that cannot be decoded (a newer version, data outside the contract) must not be
/// taken as a no-op: every erasure projection parks it, so it is replayed once the code can read
/// it, and is never silently lost (`kansrijk_runtime::erasure::decode_privacy_event`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_erasure_events_are_parked_by_every_erasure_projection() {
    let mut cases = erasure_cases();
    for c in &mut cases {
        c.parked_everywhere = true;
    }
    inject_and_check(cases).await;
}

/// Injects `bad` into the events stream of a fresh stack and checks that every projection keeps
/// running, parks what it must, keeps it out of the read models and applies later valid events.
async fn inject_and_check(bad: Vec<Injected>) {
    let stack = Stack::start().await;
    let js = jetstream::new(stack.nats_client.clone());

    // A real child first: every projection has run at least once.
    let first = register_child(&stack, "999990019").await;
    let names = projections(&js).await;
    assert!(
        !names.is_empty(),
        "no projection consumes the events stream"
    );
    let schemas = projection_schemas(&stack).await;
    let views = stack.pool("views").await;
    eventually(WAIT, "projections to see the first child", || async {
        all_caught_up(&js, &names).await
    })
    .await;
    let mut child_projections: Vec<String> = Vec::new();
    for n in names.keys() {
        if applied_version(&views, n, first).await.unwrap_or(0) >= 1 {
            child_projections.push(n.clone());
        }
    }
    assert!(
        !child_projections.is_empty(),
        "no projection in views applied the child's registration ({names:?})"
    );

    // Inject.
    for b in &bad {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            b.id.to_string().as_str(),
        );
        js.publish_with_headers(b.subject.clone(), headers, b.payload.clone().into())
            .await
            .expect("publish")
            .await
            .unwrap_or_else(|e| panic!("stream accepts {}: {e}", b.what));
    }

    // Every projection keeps running and works through all of it.
    eventually(
        WAIT,
        "every projection to work through the injected events",
        || async { all_caught_up(&js, &names).await },
    )
    .await;

    let mut report: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut parked_by: BTreeMap<String, Vec<Uuid>> = BTreeMap::new();
    for n in names.keys() {
        let ids = parked(&stack, &schemas, n)
            .await
            .iter()
            .map(|p| p.event_id)
            .collect();
        parked_by.insert(n.clone(), ids);
    }
    for b in &bad {
        // What cannot be read as an envelope is parked by every projection that receives it.
        if b.parked_everywhere {
            for (n, filter) in &names {
                if matches(filter, &b.subject) && !parked_by[n].contains(&b.id) {
                    report
                        .entry(n.clone())
                        .or_default()
                        .push(format!("did not park: {}", b.what));
                }
            }
        }
        // A readable envelope that no projection can apply is parked by at least one (the one
        // that owns the read model of its stream type) ...
        if b.parked_somewhere && !parked_by.values().any(|ids| ids.contains(&b.id)) {
            report
                .entry("(any projection)".into())
                .or_default()
                .push(format!("parked nowhere: {}", b.what));
        }
        // ... and nothing of it reaches a read model.
        if let Some(stream_id) = b.stream_id {
            for s in &schemas {
                let pool = stack.pool(s).await;
                let found = mentions(&pool, s, stream_id).await;
                pool.close().await;
                for t in found {
                    report
                        .entry(t)
                        .or_default()
                        .push(format!("read model holds: {}", b.what));
                }
            }
        }
    }
    // Parked entries carry no payload in their listing and name their error.
    for n in names.keys() {
        for p in parked(&stack, &schemas, n).await {
            assert!(
                !p.error.is_empty(),
                "{n} parked {} without an error",
                p.event_id
            );
            assert!(
                !p.error.contains("999990019"),
                "a parked error names personal data"
            );
        }
    }

    // Later valid events still apply, in every projection that applied the first one.
    let second = register_child(&stack, "999990032").await;
    for n in &child_projections {
        eventually(WAIT, &format!("{n} to apply the second child"), || async {
            (applied_version(&views, n, second).await.unwrap_or(0) >= 1).then_some(())
        })
        .await;
    }

    assert!(
        report.is_empty(),
        "projections mishandled injected events:\n{report:#?}"
    );
    views.close().await;
    stack.shutdown().await;
}

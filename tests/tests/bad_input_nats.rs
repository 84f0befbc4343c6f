//! Malformed messages to every NATS service endpoint of the real stack. The endpoints are
//! enumerated with the NATS service API (`$SRV.INFO`), so a new endpoint is covered without a
//! change here. Each endpoint gets: no headers, forged and malformed actor headers, a malformed
//! idempotency key, and, for an actor of every organisation type, empty, non-UTF-8, wrong-typed,
//! deeply nested and (once) huge bodies. Every request must be answered in time with a reply of
//! the contract's shape and never with a 5xx; afterwards every service still answers and no event
//! was appended by any of it.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::HeaderMap;
use futures::StreamExt;
use kansrijk_e2e::Stack;
use kansrijk_proto::actor::{ACTOR_HEADER, COMMAND_ID_HEADER};
use kansrijk_proto::command::Reply;
use kansrijk_proto::{Actor, OrganisationType, Purpose};
use serde_json::Value;

/// The bound on one answer: a request that takes longer counts as a hang.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// One service's endpoints as `$SRV.INFO` reports them.
#[derive(Debug)]
struct ServiceEndpoints {
    name: String,
    subjects: Vec<String>,
}

/// Asks every running NATS service for its info; collects answers until none came for a while
/// (bounded in total).
async fn service_infos(nc: &async_nats::Client) -> Vec<ServiceEndpoints> {
    let inbox = nc.new_inbox();
    let mut sub = nc.subscribe(inbox.clone()).await.expect("subscribe");
    nc.publish_with_reply("$SRV.INFO", inbox, "".into())
        .await
        .expect("publish $SRV.INFO");
    nc.flush().await.expect("flush");
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let quiet = tokio::time::Instant::now() + Duration::from_millis(1500);
        let until = quiet.min(deadline);
        match tokio::time::timeout_at(until, sub.next()).await {
            Ok(Some(msg)) => {
                let v: Value = serde_json::from_slice(&msg.payload).expect("service info JSON");
                let name = v["name"].as_str().unwrap_or_default().to_owned();
                let subjects = v["endpoints"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["subject"].as_str().map(str::to_owned));
                let entry = by_name.entry(name).or_default();
                for s in subjects {
                    if !entry.contains(&s) {
                        entry.push(s);
                    }
                }
            }
            _ => break,
        }
    }
    by_name
        .into_iter()
        .map(|(name, subjects)| ServiceEndpoints { name, subjects })
        .collect()
}

fn actor(t: OrganisationType) -> Actor {
    let (organisation, purpose) = match t {
        OrganisationType::Jgz => ("00000001821002193000", Purpose::Zorgverlening),
        OrganisationType::Kinderopvang => ("100000001", Purpose::Zorgverlening),
        OrganisationType::Basisschool => ("12AB00", Purpose::Overdracht),
        OrganisationType::VoortgezetOnderwijs => ("34CD00", Purpose::Overdracht),
        OrganisationType::Jeugdteam => ("00000001002306608000", Purpose::Casusregie),
        OrganisationType::Gemeente => ("00000001002220647000", Purpose::Beleidsmonitoring),
        OrganisationType::Privacyfunctionaris => ("00000001002564440000", Purpose::Privacytoezicht),
    };
    Actor {
        person: "bad-input-test".into(),
        organisation: organisation.into(),
        organisation_type: t,
        role: "medewerker".into(),
        municipality: "0546".into(),
        purpose,
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, *v);
    }
    h
}

/// One malformed request: what it is (for the report), its headers and its body.
struct Case {
    what: String,
    headers: Option<HeaderMap>,
    body: Vec<u8>,
    /// The status the problem must have, when the case decides it (e.g. 401 without an actor).
    expect_status: Option<u16>,
}

fn cases() -> Vec<Case> {
    let valid_actor = serde_json::to_string(&actor(OrganisationType::Jgz)).unwrap();
    let mut cases = vec![
        Case {
            what: "no headers".into(),
            headers: None,
            body: b"{}".to_vec(),
            expect_status: Some(401),
        },
        Case {
            what: "actor header not JSON".into(),
            headers: Some(headers(&[(ACTOR_HEADER, "not json at all")])),
            body: b"{}".to_vec(),
            expect_status: Some(401),
        },
        Case {
            what: "actor header with wrong types".into(),
            headers: Some(headers(&[(
                ACTOR_HEADER,
                r#"{"person":1,"organisation":[],"organisationType":"koning","role":null}"#,
            )])),
            body: b"{}".to_vec(),
            expect_status: Some(401),
        },
        Case {
            what: "empty actor header".into(),
            headers: Some(headers(&[(ACTOR_HEADER, "")])),
            body: b"{}".to_vec(),
            expect_status: Some(401),
        },
        Case {
            what: "idempotency key not a UUID".into(),
            headers: Some(headers(&[
                (ACTOR_HEADER, valid_actor.as_str()),
                (COMMAND_ID_HEADER, "123-not-a-uuid"),
            ])),
            body: b"{}".to_vec(),
            expect_status: Some(400),
        },
    ];
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", Vec::new()),
        ("non-UTF-8 bytes", vec![0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96]),
        ("JSON array", b"[]".to_vec()),
        ("JSON string", br#""x""#.to_vec()),
        ("JSON number", b"42".to_vec()),
        ("JSON null", b"null".to_vec()),
        (
            "object with wrong types",
            br#"{"kindId":12,"casusId":[],"streamId":{"a":1},"bsn":true,"datum":-1,"gemeente":null}"#
                .to_vec(),
        ),
        ("deeply nested", deep.into_bytes()),
        ("truncated JSON", br#"{"kindId":"0190"#.to_vec()),
    ];
    for t in OrganisationType::ALL {
        let a = serde_json::to_string(&actor(t)).unwrap();
        for (what, body) in &bodies {
            cases.push(Case {
                what: format!("{what} as {}", t.as_str()),
                headers: Some(headers(&[(ACTOR_HEADER, a.as_str())])),
                body: body.clone(),
                expect_status: None,
            });
        }
    }
    // Just under nats-server's default max payload (1 MiB).
    let huge = format!(r#"{{"x":"{}"}}"#, "a".repeat(900 * 1024));
    cases.push(Case {
        what: "huge body".into(),
        headers: Some(headers(&[(ACTOR_HEADER, valid_actor.as_str())])),
        body: huge.into_bytes(),
        expect_status: None,
    });
    cases
}

/// Sends one case to `subject`; returns a violation, if any.
async fn send(nc: &async_nats::Client, subject: &str, case: &Case) -> Option<String> {
    let mut req = async_nats::Request::new()
        .payload(case.body.clone().into())
        .timeout(Some(ANSWER_WITHIN));
    if let Some(h) = &case.headers {
        req = req.headers(h.clone());
    }
    let msg = match nc.send_request(subject.to_owned(), req).await {
        Ok(m) => m,
        Err(e) => return Some(format!("{subject} [{}]: no answer ({e})", case.what)),
    };
    let reply: Reply<Value> = match serde_json::from_slice(&msg.payload) {
        Ok(r) => r,
        Err(e) => {
            return Some(format!(
                "{subject} [{}]: reply is not a Reply ({e}): {}",
                case.what,
                String::from_utf8_lossy(&msg.payload[..msg.payload.len().min(200)])
            ))
        }
    };
    match reply {
        Reply::Problem(p) if p.status >= 500 => Some(format!(
            "{subject} [{}]: {} {} ({})",
            case.what,
            p.status,
            p.code.unwrap_or_default(),
            p.detail.unwrap_or_default()
        )),
        Reply::Problem(p) => match case.expect_status {
            Some(s) if s != p.status => Some(format!(
                "{subject} [{}]: expected {s}, got {} {}",
                case.what,
                p.status,
                p.code.unwrap_or_default()
            )),
            _ => None,
        },
        Reply::Ok(_) => case
            .expect_status
            .map(|s| format!("{subject} [{}]: expected {s}, got a value", case.what)),
    }
}

/// Events in every event store of the stack's database, by schema.
async fn event_counts(stack: &Stack) -> BTreeMap<String, i64> {
    let pool = stack.pool("public").await;
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'events' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("schemas with an event store");
    let mut counts = BTreeMap::new();
    for s in schemas {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{s}\".events"))
            .fetch_one(&pool)
            .await
            .expect("count events");
        counts.insert(s, n);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_to_every_endpoint_get_a_problem_and_change_nothing() {
    let stack = Stack::start().await;
    let nc = stack.nats_client.clone();

    // Some data first, so that "unchanged" means something.
    let jgz = stack.client("jgz-verpleegkundige").await;
    jgz.post(
        "/v1/kinderen",
        &serde_json::json!({
            "bsn": "999990019",
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
    .ok();

    let services = service_infos(&nc).await;
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    for expected in ["privacy", "vve", "overdracht", "casework", "views"] {
        assert!(
            names.iter().any(|n| n.contains(expected)),
            "service {expected} not found among {names:?}"
        );
    }
    let subjects: Vec<String> = services
        .iter()
        .flat_map(|s| s.subjects.iter().cloned())
        .collect();
    assert!(subjects.len() >= 20, "too few endpoints: {subjects:?}");

    let before = event_counts(&stack).await;
    let cases = cases();
    let work: Vec<(&String, &Case)> = subjects
        .iter()
        .flat_map(|s| cases.iter().map(move |c| (s, c)))
        .collect();
    let violations: Vec<String> = futures::stream::iter(work)
        .map(|(s, c)| {
            let nc = nc.clone();
            async move { send(&nc, s, c).await }
        })
        .buffer_unordered(16)
        .filter_map(|v| async move { v })
        .collect()
        .await;

    // Every service still answers (its endpoint loops did not stop).
    let after_services = service_infos(&nc).await;
    let after_subjects: usize = after_services.iter().map(|s| s.subjects.len()).sum();
    assert_eq!(
        after_subjects,
        subjects.len(),
        "a service or endpoint disappeared"
    );
    for s in &services {
        let first = &s.subjects[0];
        let reply = nc
            .send_request(
                first.clone(),
                async_nats::Request::new()
                    .payload("{}".into())
                    .timeout(Some(ANSWER_WITHIN)),
            )
            .await;
        assert!(reply.is_ok(), "{} stopped answering on {first}", s.name);
    }
    eprintln!(
        "{} services, {} endpoints, {} malformed requests, {} mishandled",
        services.len(),
        subjects.len(),
        subjects.len() * cases.len(),
        violations.len()
    );
    let after = event_counts(&stack).await;
    assert_eq!(before, after, "malformed requests changed an event store");
    assert!(
        violations.is_empty(),
        "{} of {} malformed requests were mishandled:\n{}",
        violations.len(),
        subjects.len() * cases.len(),
        violations.join("\n")
    );
    stack.shutdown().await;
}

//! The access log: durable appends over NATS from many requests at once form one linear chain,
//! and any tampering with the rows (change, delete, reorder, truncate) is detected.

use kansrijk_privacy::access_log::{
    purge_before, query, AccessLogPage, AccessLogQuery, ChainProblem,
};
use kansrijk_privacy::disclosure::{assert_disclosure, FieldCategories};
use kansrijk_privacy::handlers::Statistics;
use kansrijk_privacy::{verify_chain, verify_chain_sealed};
use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::privacy::subjects;
use kansrijk_proto::problem::Problem;
use kansrijk_proto::subject;
use kansrijk_runtime::access_log::{
    AccessEntriesAppended, AccessEntry, AccessEvent, AccessLogClient, AccessOutcome,
    AppendAccessEntries,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{municipality, nurse, officer, service, Stack};

fn entry(subject: Uuid, event: AccessEvent) -> AccessEntry {
    AccessEntry::new(
        &nurse(),
        event,
        "vve.werklijst",
        Some(subject),
        AccessOutcome::Success,
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    )
}

/// Runs SQL as a DBA who bypasses the append-only triggers.
async fn tamper(pool: &PgPool, sql: &str) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
}

/// Exchanges the positions of two rows.
async fn swap(pool: &PgPool, a: i64, b: i64) {
    tamper(
        pool,
        &format!("UPDATE access_log SET seq = -1 WHERE seq = {a}"),
    )
    .await;
    tamper(
        pool,
        &format!("UPDATE access_log SET seq = {a} WHERE seq = {b}"),
    )
    .await;
    tamper(
        pool,
        &format!("UPDATE access_log SET seq = {b} WHERE seq = -1"),
    )
    .await;
}

#[tokio::test]
async fn concurrent_appends_form_one_chain_and_tampering_is_detected() {
    let stack = Stack::start().await;
    let subjects_list: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    // 20 views' requests at once, 5 entries each.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let client = AccessLogClient::new(stack.nats.clone(), service("views"));
        let subjects_list = subjects_list.clone();
        tasks.push(tokio::spawn(async move {
            let entries: Vec<AccessEntry> = subjects_list
                .iter()
                .map(|s| {
                    entry(
                        *s,
                        if i % 2 == 0 {
                            AccessEvent::Read
                        } else {
                            AccessEvent::Search
                        },
                    )
                })
                .collect();
            client.append(entries).await
        }));
    }
    let mut ranges = Vec::new();
    for t in tasks {
        let r = t.await.unwrap().unwrap().unwrap();
        assert_eq!(r.last_seq - r.first_seq, 4);
        ranges.push((r.first_seq, r.last_seq));
    }
    // Every request got its own contiguous block; together they are 1..=100.
    ranges.sort();
    let mut next = 1;
    for (first, last) in ranges {
        assert_eq!(first, next);
        next = last + 1;
    }
    assert_eq!(next, 101);
    let report = verify_chain(&stack.pool).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries_checked, 100);
    assert_eq!(report.head_seq, 100);
    // A large list goes in chunks, each committed before the next; the ranges follow each other.
    let big = AccessLogClient::new(stack.nats.clone(), service("views"))
        .append(
            (0..1500)
                .map(|_| entry(subjects_list[0], AccessEvent::Read))
                .collect(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((big.first_seq, big.last_seq), (101, 1600));
    tamper(&stack.pool, "DELETE FROM access_log WHERE seq > 100").await;
    tamper(
        &stack.pool,
        "UPDATE access_log_head SET seq = 100, hash = (SELECT hash FROM access_log WHERE seq = 100)",
    )
    .await;
    assert!(verify_chain(&stack.pool).await.unwrap().ok);

    // The log refuses ordinary changes.
    let err = sqlx::query("UPDATE access_log SET role = 'x' WHERE seq = 1")
        .execute(&stack.pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"));
    let err = sqlx::query("DELETE FROM access_log WHERE seq = 1")
        .execute(&stack.pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"));

    // 1. A changed field.
    tamper(
        &stack.pool,
        "UPDATE access_log SET role = 'leerkracht' WHERE seq = 50",
    )
    .await;
    let r = verify_chain(&stack.pool).await.unwrap();
    assert!(!r.ok);
    assert_eq!(r.problems, vec![ChainProblem::HashMismatch { seq: 50 }]);
    tamper(
        &stack.pool,
        "UPDATE access_log SET role = 'jeugdverpleegkundige' WHERE seq = 50",
    )
    .await;
    assert!(verify_chain(&stack.pool).await.unwrap().ok);

    // 2. A changed field with its hash recomputed: the next row no longer links to it.
    let row_hash_before: Vec<u8> = sqlx::query_scalar("SELECT hash FROM access_log WHERE seq = 60")
        .fetch_one(&stack.pool)
        .await
        .unwrap();
    tamper(
        &stack.pool,
        "UPDATE access_log SET outcome = 'denied', hash = sha256(hash) WHERE seq = 60",
    )
    .await;
    let r = verify_chain(&stack.pool).await.unwrap();
    assert!(r.problems.contains(&ChainProblem::BrokenLink { seq: 61 }));
    let mut tx = stack.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE access_log SET outcome = 'success', hash = $1 WHERE seq = 60")
        .bind(&row_hash_before)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(verify_chain(&stack.pool).await.unwrap().ok);

    // 3. A deleted row.
    tamper(
        &stack.pool,
        "CREATE TABLE saved AS SELECT * FROM access_log WHERE seq = 30",
    )
    .await;
    tamper(&stack.pool, "DELETE FROM access_log WHERE seq = 30").await;
    let r = verify_chain(&stack.pool).await.unwrap();
    assert!(r.problems.contains(&ChainProblem::Gap {
        expected: 30,
        found: 31
    }));
    assert!(r.problems.contains(&ChainProblem::BrokenLink { seq: 31 }));
    tamper(&stack.pool, "INSERT INTO access_log SELECT * FROM saved").await;
    assert!(verify_chain(&stack.pool).await.unwrap().ok);

    // 4. Two rows swapped (their seq exchanged).
    swap(&stack.pool, 10, 11).await;
    let r = verify_chain(&stack.pool).await.unwrap();
    assert!(!r.ok);
    assert!(r.problems.contains(&ChainProblem::HashMismatch { seq: 10 }));
    swap(&stack.pool, 10, 11).await;
    assert!(verify_chain(&stack.pool).await.unwrap().ok);

    // 5. The tail cut off.
    tamper(&stack.pool, "DELETE FROM access_log WHERE seq > 97").await;
    let r = verify_chain(&stack.pool).await.unwrap();
    assert_eq!(
        r.problems,
        vec![ChainProblem::HeadMismatch {
            head_seq: 100,
            last_seq: 97
        }]
    );
    // A purge refuses to destroy the evidence.
    assert!(purge_before(&stack.pool, chrono::Utc::now(), None)
        .await
        .is_err());
    stack.stop().await;
}

#[tokio::test]
async fn two_replicas_appending_at_once_keep_one_chain() {
    let stack = Stack::start().await;
    // Two more writers on their own pools, as two more replicas of the service would have.
    let mut writers = Vec::new();
    for _ in 0..2 {
        let pool = kansrijk_runtime::db::connect(&stack.db.url, "privacy", 4)
            .await
            .unwrap();
        writers.push(kansrijk_privacy::access_log::AccessLogWriter::spawn(
            pool,
            Some(stack.config.pseudonymizer.clone()),
        ));
    }
    let s = Uuid::new_v4();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let w = writers[i % 2].clone();
        let client = AccessLogClient::new(stack.nats.clone(), service("views"));
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                client
                    .record(vec![entry(s, AccessEvent::Read)])
                    .await
                    .unwrap();
            } else {
                w.append(vec![
                    entry(s, AccessEvent::Read),
                    entry(s, AccessEvent::Search),
                ])
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = verify_chain_sealed(&stack.pool, &stack.config.pseudonymizer)
        .await
        .unwrap();
    assert!(r.ok && r.sealed, "{r:?}");
    assert_eq!(r.entries_checked, 20 + 40 * 2);
    stack.stop().await;
}

#[tokio::test]
async fn a_chain_rewritten_up_to_its_head_is_caught_by_the_seal() {
    let stack = Stack::start().await;
    let client = AccessLogClient::new(stack.nats.clone(), service("views"));
    let s = Uuid::new_v4();
    client
        .record((0..10).map(|_| entry(s, AccessEvent::Read)).collect())
        .await
        .unwrap();
    let sealer = &stack.config.pseudonymizer;
    assert!(verify_chain_sealed(&stack.pool, sealer).await.unwrap().ok);
    // Someone with write access to the database removes the last three entries and moves the
    // head back to entry 7: the chain itself is consistent again.
    tamper(&stack.pool, "DELETE FROM access_log WHERE seq > 7").await;
    tamper(
        &stack.pool,
        "UPDATE access_log_head SET seq = 7, hash = (SELECT hash FROM access_log WHERE seq = 7)",
    )
    .await;
    assert!(verify_chain(&stack.pool).await.unwrap().ok);
    // Without the key they cannot seal that head.
    let r = verify_chain_sealed(&stack.pool, sealer).await.unwrap();
    assert_eq!(
        r.problems,
        vec![ChainProblem::HeadSealMismatch { head_seq: 7 }]
    );
    // The officer's verification endpoint checks the seal.
    let via_nats: kansrijk_privacy::VerifyReport = stack
        .request(
            subjects::ACCESS_LOG_VERIFY,
            &officer(),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert!(!via_nats.ok && via_nats.sealed);
    stack.stop().await;
}

#[tokio::test]
async fn purging_old_entries_keeps_the_chain_verifiable() {
    let stack = Stack::start().await;
    let client = AccessLogClient::new(stack.nats.clone(), service("views"));
    let s = Uuid::new_v4();
    client
        .record((0..10).map(|_| entry(s, AccessEvent::Read)).collect())
        .await
        .unwrap();
    let cutoff = chrono::Utc::now();
    client
        .record((0..5).map(|_| entry(s, AccessEvent::Export)).collect())
        .await
        .unwrap();
    let purged = purge_before(&stack.pool, cutoff, Some(&stack.config.pseudonymizer))
        .await
        .unwrap();
    assert_eq!(purged.purged, 10);
    assert_eq!(purged.checkpoint_seq, Some(10));
    let r = verify_chain(&stack.pool).await.unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.from_seq, 10);
    assert_eq!(r.entries_checked, 5);
    client
        .record(vec![entry(s, AccessEvent::Read)])
        .await
        .unwrap();
    let r = verify_chain(&stack.pool).await.unwrap();
    assert!(r.ok && r.head_seq == 16, "{r:?}");
    // Deleting the first entry after the checkpoint is still detected.
    tamper(&stack.pool, "DELETE FROM access_log WHERE seq = 11").await;
    assert!(!verify_chain(&stack.pool).await.unwrap().ok);
    stack.stop().await;
}

#[tokio::test]
async fn the_officer_queries_the_log_and_every_query_is_logged() {
    let stack = Stack::start().await;
    let client = AccessLogClient::new(stack.nats.clone(), service("views"));
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    client
        .record(vec![
            entry(a, AccessEvent::Read),
            entry(b, AccessEvent::Read),
            entry(a, AccessEvent::Export),
        ])
        .await
        .unwrap();
    // Users may not write or read the log.
    let r: Result<AccessEntriesAppended, Problem> = stack
        .request(
            subject::privacy::ACCESS_LOG_APPEND,
            &nurse(),
            &AppendAccessEntries {
                entries: vec![entry(a, AccessEvent::Read)],
            },
        )
        .await;
    assert_eq!(r.unwrap_err().status, 403);
    let r: Result<AccessLogPage, Problem> = stack
        .request(
            subjects::ACCESS_LOG_QUERY,
            &nurse(),
            &AccessLogQuery::default(),
        )
        .await;
    assert_eq!(r.unwrap_err().status, 403);
    // Free text in a field is refused.
    let mut bad = entry(a, AccessEvent::Read);
    bad.role = "Noor Vermeulen".into();
    let r: Result<AccessEntriesAppended, Problem> = stack
        .request(
            subject::privacy::ACCESS_LOG_APPEND,
            &service("views"),
            &AppendAccessEntries { entries: vec![bad] },
        )
        .await;
    assert_eq!(r.unwrap_err().status, 400);

    let page: AccessLogPage = stack
        .request(
            subjects::ACCESS_LOG_QUERY,
            &officer(),
            &AccessLogQuery {
                subject: Some(a),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 2);
    assert!(page.entries.iter().all(|e| e.entry.subject == Some(a)));
    assert_eq!(page.entries[1].entry.event, AccessEvent::Export);
    assert_eq!(
        page.entries[0].entry.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    // The privacy officer of another municipality sees none of it.
    let mut other = officer();
    other.municipality = "0363".into();
    let theirs: AccessLogPage = stack
        .request(
            subjects::ACCESS_LOG_QUERY,
            &other,
            &AccessLogQuery {
                subject: Some(a),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(theirs.entries.is_empty());
    // The view's output passes the disclosure check for the privacy officer.
    assert_disclosure(
        "privacy.toegangslog",
        OrganisationType::Privacyfunctionaris,
        &serde_json::to_value(&page).unwrap(),
        &FieldCategories::from_pairs([
            ("entries", DataCategory::Administrative),
            ("nextAfterSeq", DataCategory::Administrative),
        ]),
    );
    // The nurse's refused query and the officer's query are in the log themselves.
    let searches = query(
        &stack.pool,
        &AccessLogQuery {
            event: Some("search".into()),
            access_point: Some("privacy.toegangslog".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let outcomes: Vec<_> = searches.entries.iter().map(|e| e.entry.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            AccessOutcome::Denied,
            AccessOutcome::Success,
            AccessOutcome::Success
        ]
    );
    // Paging.
    let first: AccessLogPage = stack
        .request(
            subjects::ACCESS_LOG_QUERY,
            &officer(),
            &AccessLogQuery {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(first.entries.len(), 2);
    assert_eq!(first.next_after_seq, Some(2));
    let verify: kansrijk_privacy::VerifyReport = stack
        .request(
            subjects::ACCESS_LOG_VERIFY,
            &officer(),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert!(verify.ok);

    // The municipality's statistics are aggregates only.
    let stats: Statistics = stack
        .request(
            &subject::query("privacy.statistiek"),
            &municipality(),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert_disclosure(
        "privacy.statistiek",
        OrganisationType::Gemeente,
        &serde_json::to_value(&stats).unwrap(),
        &FieldCategories::from_pairs([
            ("aantallen", DataCategory::Administrative),
            ("onderdrukkingsdrempel", DataCategory::Administrative),
        ]),
    );
    // Every privacy view is checked for every organisation type it serves (inzageverzoek in
    // subject_access.rs).
    assert_eq!(
        kansrijk_privacy::disclosure::untested_disclosures(
            "privacy.",
            &[
                ("privacy.toegangslog", OrganisationType::Privacyfunctionaris),
                ("privacy.statistiek", OrganisationType::Gemeente),
                ("privacy.statistiek", OrganisationType::Privacyfunctionaris),
                // The request register's lists are checked in requests.rs.
                (
                    "privacy.verwijderverzoeken",
                    OrganisationType::Privacyfunctionaris
                ),
                (
                    "privacy.inzageverzoeken",
                    OrganisationType::Privacyfunctionaris
                ),
                (
                    "privacy.inzageverzoek",
                    OrganisationType::Privacyfunctionaris
                ),
            ]
        ),
        vec![]
    );
    let officer_stats: Statistics = stack
        .request(
            &subject::query("privacy.statistiek"),
            &officer(),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert_disclosure(
        "privacy.statistiek",
        OrganisationType::Privacyfunctionaris,
        &serde_json::to_value(&officer_stats).unwrap(),
        &FieldCategories::from_pairs([
            ("aantallen", DataCategory::Administrative),
            ("onderdrukkingsdrempel", DataCategory::Administrative),
        ]),
    );
    // 1 to 4 are suppressed.
    assert_eq!(stats.aantallen.get("toegangslog-export"), Some(&None));
    stack.stop().await;
}

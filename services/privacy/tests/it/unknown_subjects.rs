//! Issue 16, defect 4: a retention period (or a hold, or an erasure) for a subject the privacy
//! service has no key of is refused with 404, from the privacy officer and from a service alike,
//! with the same command id again too, and nothing is stored: no subject row, no event, no period.
//! A retention period registered again with the same command id answers the first result.

use chrono::NaiveDate;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::privacy::{
    subjects, DataKind, EraseSubject, ErasureGrounds, PlaceLegalHold, RegisterRetention,
    SubjectKind,
};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::keys::KeyClient;
use std::time::Duration;
use uuid::Uuid;

use crate::common::{officer, service, Stack};

async fn stored(stack: &Stack) -> [i64; 4] {
    let mut counts = [0; 4];
    for (i, sql) in [
        "SELECT count(*) FROM subjects",
        "SELECT count(*) FROM subject_keys",
        "SELECT count(*) FROM events",
        "SELECT count(*) FROM retention_periods",
    ]
    .into_iter()
    .enumerate()
    {
        counts[i] = sqlx::query_scalar(sql)
            .fetch_one(&stack.pool)
            .await
            .unwrap();
    }
    counts
}

async fn send<B: serde::Serialize>(
    stack: &Stack,
    subject: &str,
    who: &kansrijk_proto::Actor,
    command_id: Uuid,
    body: &B,
) -> Result<CommandAccepted, Problem> {
    kansrijk_runtime::nats::request(
        &stack.nats,
        subject.into(),
        kansrijk_runtime::nats::request_headers(who, Some(command_id), None),
        body,
        Duration::from_secs(10),
    )
    .await
}

#[tokio::test]
async fn retention_of_a_subject_that_exists_nowhere_is_404_and_stores_nothing() {
    let stack = Stack::start().await;
    let known = Uuid::new_v4();
    KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_millis(1))
        .create(known, SubjectKind::Kind, "0546")
        .await
        .unwrap();
    let before = stored(&stack).await;
    let nowhere = Uuid::new_v4();
    let retention = RegisterRetention {
        subject: nowhere,
        data_kind: DataKind::Jgz,
        start_date: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
    };
    for who in [officer(), service("vve")] {
        let command_id = Uuid::new_v4();
        for _ in 0..2 {
            let r = send(
                &stack,
                subjects::REGISTER_RETENTION,
                &who,
                command_id,
                &retention,
            )
            .await;
            assert_eq!(r.unwrap_err().status, 404, "{}", who.person);
        }
        let r = send(
            &stack,
            subjects::PLACE_HOLD,
            &who,
            Uuid::new_v4(),
            &PlaceLegalHold {
                subject: nowhere,
                reason: "rechterlijke-procedure".into(),
            },
        )
        .await;
        assert_eq!(r.unwrap_err().status, 404, "{}", who.person);
        // And so its erasure is refused too (it was, alone; after a retention period it was not).
        let r = send(
            &stack,
            subjects::ERASE,
            &who,
            Uuid::new_v4(),
            &EraseSubject {
                subject: nowhere,
                grounds: ErasureGrounds::VerzoekBetrokkene,
            },
        )
        .await;
        assert_eq!(r.unwrap_err().status, 404, "{}", who.person);
    }
    assert_eq!(stored(&stack).await, before, "stored data untouched");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM subjects WHERE subject = $1")
        .bind(nowhere)
        .fetch_one(&stack.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);

    // A known subject's period, registered twice with one command id: one period, the first
    // result both times.
    let command_id = Uuid::new_v4();
    let body = RegisterRetention {
        subject: known,
        ..retention
    };
    let first = send(
        &stack,
        subjects::REGISTER_RETENTION,
        &service("vve"),
        command_id,
        &body,
    )
    .await
    .unwrap();
    let again = send(
        &stack,
        subjects::REGISTER_RETENTION,
        &service("vve"),
        command_id,
        &body,
    )
    .await
    .unwrap();
    assert!(first.first_time && !again.first_time);
    assert_eq!(
        (again.stream_id, again.version, again.position),
        (first.stream_id, first.version, first.position)
    );
    let periods: i64 =
        sqlx::query_scalar("SELECT count(*) FROM retention_periods WHERE subject = $1")
            .bind(known)
            .fetch_one(&stack.pool)
            .await
            .unwrap();
    assert_eq!(periods, 1);
    stack.stop().await;
}

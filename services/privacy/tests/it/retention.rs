//! Retention: the dry run lists exactly the subjects whose periods ran out, a legal hold keeps
//! its subject, and applying the policy erases and ends what the report said.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use kansrijk_privacy::retention::{apply_retention, HeldDue, KindDue};
use kansrijk_privacy::retention_report;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::privacy::{subjects, DataKind, PlaceLegalHold, RegisterRetention, SubjectKind};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::keys::{KeyClient, KeyError};
use uuid::Uuid;

use crate::common::{nurse, service, Stack};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn the_dry_run_lists_the_right_subjects_and_applying_it_does_that() {
    let stack = Stack::start().await;
    let keys = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_millis(1));
    let [a, b, c, d, e] = [(); 5].map(|_| Uuid::new_v4());
    for s in [a, b, c, e] {
        keys.create(s, SubjectKind::Kind, "0546").await.unwrap();
    }
    keys.create(d, SubjectKind::Gezin, "0546").await.unwrap();
    let today = Utc::now().date_naive();
    let register = |subject, data_kind, start_date, who: &str| {
        let who = service(who);
        let stack = &stack;
        async move {
            stack
                .request::<_, CommandAccepted>(
                    subjects::REGISTER_RETENTION,
                    &who,
                    &RegisterRetention {
                        subject,
                        data_kind,
                        start_date,
                    },
                )
                .await
        }
    };
    // a: JGZ care ended in 2000 (20 years ran out), handover confirmed 2020: erase.
    register(a, DataKind::Jgz, date(2000, 1, 1), "vve")
        .await
        .unwrap();
    register(a, DataKind::Overdracht, date(2020, 1, 1), "overdracht")
        .await
        .unwrap();
    // b: JGZ care ended last year; handover confirmed 2020 (12 months ran out): only the handover.
    register(b, DataKind::Jgz, today - chrono::Days::new(365), "vve")
        .await
        .unwrap();
    register(b, DataKind::Overdracht, date(2020, 1, 1), "overdracht")
        .await
        .unwrap();
    // c: like a, but under a legal hold.
    register(c, DataKind::Jgz, date(2000, 1, 1), "vve")
        .await
        .unwrap();
    let _: CommandAccepted = stack
        .request(
            subjects::PLACE_HOLD,
            &service("casework"),
            &PlaceLegalHold {
                subject: c,
                reason: "rechterlijke-procedure".into(),
            },
        )
        .await
        .unwrap();
    // d: a family case closed in 2010 (5 years ran out): erase.
    register(d, DataKind::Casus, date(2010, 1, 1), "casework")
        .await
        .unwrap();
    // e: only a handover confirmed yesterday: keep.
    register(
        e,
        DataKind::Overdracht,
        today - chrono::Days::new(1),
        "overdracht",
    )
    .await
    .unwrap();
    // Registering the same again changes nothing; users may not register.
    let again = register(a, DataKind::Jgz, date(2000, 1, 1), "vve")
        .await
        .unwrap();
    assert!(!again.first_time);
    let r: Result<CommandAccepted, Problem> = stack
        .request(
            subjects::REGISTER_RETENTION,
            &nurse(),
            &RegisterRetention {
                subject: a,
                data_kind: DataKind::Jgz,
                start_date: date(2000, 1, 1),
            },
        )
        .await;
    assert_eq!(r.unwrap_err().status, 403);
    // Unknown subjects are 404.
    let r = register(Uuid::new_v4(), DataKind::Jgz, date(2000, 1, 1), "vve").await;
    assert_eq!(r.unwrap_err().status, 404);

    let report = retention_report(&stack.pool, &stack.config.retention, Utc::now())
        .await
        .unwrap();
    let mut erase: Vec<Uuid> = report.erase.iter().map(|s| s.subject).collect();
    erase.sort();
    let mut expected = vec![a, d];
    expected.sort();
    assert_eq!(erase, expected);
    assert_eq!(
        report.end_kinds,
        vec![KindDue {
            subject: b,
            data_kind: DataKind::Overdracht,
            retained_until: date(2021, 1, 1),
        }]
    );
    assert_eq!(
        report.blocked_by_hold,
        vec![HeldDue {
            subject: c,
            hold_reason: "rechterlijke-procedure".into(),
            data_kinds: vec![DataKind::Jgz],
        }]
    );
    let a_due = report.erase.iter().find(|s| s.subject == a).unwrap();
    assert_eq!(a_due.retained_until, date(2021, 1, 1));
    let text = report.to_text();
    assert!(text.contains("Te wissen betrokkenen: 2"));
    assert!(text.contains(&format!("{c}  rechterlijke-procedure (jgz)")));
    // The dry run changed nothing.
    assert!(keys.get(a).await.is_ok());

    let outcome = apply_retention(&stack.privacy(), Utc::now()).await.unwrap();
    assert_eq!(outcome.erased, 2);
    assert_eq!(outcome.kinds_ended, 1);
    assert_eq!(outcome.blocked_by_hold, 1);
    assert_eq!(outcome.failed, 0);
    tokio::time::sleep(Duration::from_millis(5)).await;
    for s in [a, d] {
        assert!(matches!(keys.get(s).await, Err(KeyError::Erased)));
    }
    for s in [b, c, e] {
        assert!(keys.get(s).await.is_ok());
    }
    let grounds: String =
        sqlx::query_scalar("SELECT erasure_grounds FROM subjects WHERE subject = $1")
            .bind(a)
            .fetch_one(&stack.pool)
            .await
            .unwrap();
    assert_eq!(grounds, "bewaartermijn");
    // A second run has nothing left to do but the held subject.
    let report = retention_report(&stack.pool, &stack.config.retention, Utc::now())
        .await
        .unwrap();
    assert!(report.erase.is_empty() && report.end_kinds.is_empty());
    assert_eq!(report.blocked_by_hold.len(), 1);
    // The access log's retention: nothing is 5 years old here.
    assert_eq!(report.access_log_entries_due, 0);
    stack.stop().await;
}

#[tokio::test]
async fn the_scheduler_in_run_applies_the_policy() {
    let stack =
        Stack::start_with(|c| c.retention_interval = Some(Duration::from_millis(200))).await;
    let keys = KeyClient::new(stack.nats.clone(), service("vve"), Duration::from_millis(1));
    let child = Uuid::new_v4();
    keys.create(child, SubjectKind::Kind, "0546").await.unwrap();
    let _: CommandAccepted = stack
        .request(
            subjects::REGISTER_RETENTION,
            &service("vve"),
            &RegisterRetention {
                subject: child,
                data_kind: DataKind::Jgz,
                start_date: date(2001, 5, 1),
            },
        )
        .await
        .unwrap();
    kansrijk_runtime::testing::eventually(
        Duration::from_secs(10),
        "erasure by the scheduler",
        || {
            let keys = &keys;
            async move { matches!(keys.get(child).await, Err(KeyError::Erased)).then_some(()) }
        },
    )
    .await;
    stack.stop().await;
}

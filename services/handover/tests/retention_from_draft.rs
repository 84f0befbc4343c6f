//! Issue 17 item 10: a preschool file's retention starts when it is drafted, so that a file that
//! is never confirmed (a draft, consent still open, sent but never received) does not keep its
//! key forever. Against the real privacy service: the drafting registers one retention period,
//! and a retried draft (the same command id) registers no second one.

mod common;

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use common::*;
use kansrijk_proto::handover::{
    subjects as s, ChildIdentity, DraftPreschoolFile, PreschoolContent,
};
use kansrijk_runtime::testing::eventually;
use uuid::Uuid;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn draft() -> DraftPreschoolFile {
    DraftPreschoolFile {
        kind_id: Some(Uuid::new_v4()),
        opgesteld_op: today() - Days::new(3),
        warme_overdracht_gewenst: false,
        kind: ChildIdentity {
            given_name: "Nooit".into(),
            family_name: "Bevestigd".into(),
            birth_date: today() - Days::new(3 * 365 + 300),
            bsn: None,
        },
        inhoud: PreschoolContent {
            socio_emotional: "Speelt graag samen.".into(),
            language: "Vertelt in korte zinnen.".into(),
            motor: "Klimt en klautert.".into(),
            cognitive: "Telt tot vijf.".into(),
            interests_and_talents: "Zandbak.".into(),
            home_situation: None,
            approach: None,
            vve: None,
            observation: None,
            support_needs: "Geen.".into(),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_drafted_file_that_is_never_confirmed_has_a_retention_period_registered_once() {
    let st = Stack::start(Options {
        real_privacy: true,
        threshold: 0,
        // The scheduler does not run during the test: the drafting itself registers.
        scan: Duration::from_secs(300),
    })
    .await;
    let privacy = kansrijk_runtime::db::connect(&st.db.url, "privacy", 2)
        .await
        .unwrap();
    let kdv = childcare();
    let command = Uuid::new_v4();
    let first = st
        .cmd_with_id(s::DRAFT_PRESCHOOL, &kdv, command, &draft())
        .await
        .unwrap();
    let f = first.stream_id;

    // Only drafted: no consent, never sent, never confirmed. Its retention runs all the same.
    let (kind, start): (String, NaiveDate) = eventually(
        Duration::from_secs(10),
        "the draft's retention period",
        || {
            let privacy = privacy.clone();
            async move {
                sqlx::query_as(
                    "SELECT data_kind, start_date FROM retention_periods WHERE subject = $1",
                )
                .bind(f)
                .fetch_optional(&privacy)
                .await
                .unwrap()
            }
        },
    )
    .await;
    assert_eq!(kind, "overdracht");
    assert_eq!(start, today(), "it starts the day the file was drafted");

    // The same command again (a client's retry): the same file, and no second registration.
    let again = st
        .cmd_with_id(s::DRAFT_PRESCHOOL, &kdv, command, &draft())
        .await
        .unwrap();
    assert_eq!(again.stream_id, f);
    assert!(!again.first_time);
    // The scheduler's retry of the draft's registration uses the same derived command id.
    let svc = kansrijk_handover::Service::new(
        kansrijk_runtime::store::EventStore::new(st.store.clone()),
        st.client.clone(),
        &kansrijk_handover::Config::local(&st.db.url, &st.nats_server.url()),
        None,
    );
    sqlx::query("DELETE FROM privacy_requests_done WHERE subject = $1")
        .bind(f)
        .execute(&st.store)
        .await
        .unwrap();
    assert!(svc.follow_up_privacy().await.unwrap() >= 1);
    let started = format!("{}%", "nl.privacy.bewaartermijn-gestart");
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type LIKE $2",
    )
    .bind(kansrijk_privacy::subjects::stream_id(f))
    .bind(&started)
    .fetch_one(&privacy)
    .await
    .unwrap();
    assert_eq!(n, 1, "one retention period, however often it was asked for");
    let done: Vec<String> =
        sqlx::query_scalar("SELECT action FROM privacy_requests_done WHERE subject = $1")
            .bind(f)
            .fetch_all(&st.store)
            .await
            .unwrap();
    assert_eq!(done, vec!["retention-opgesteld".to_owned()]);
}

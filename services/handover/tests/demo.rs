//! The demo world loaded into the real handover service (with the real privacy service for the
//! files' keys and the handover views), twice: the second load appends nothing. The screens of
//! the personas show the world: each school's inbox with a receipt overdue, the mentor's
//! incoming files, each childcare location's outbox.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::*;
use kansrijk_handover::demo::{generate, load_demo, DemoConfig, DemoReport, Party};
use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::event::Event;
use kansrijk_proto::handover::{
    subjects as s, ConfirmationOverdue, FileKind, Inbox, InboxQuery, Outbox, OutboxQuery,
};
use kansrijk_runtime::testing::eventually;

fn persona(organisation: &str, organisation_type: OrganisationType) -> Party {
    Party {
        organisation: organisation.into(),
        organisation_type,
        role: "demo",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_world_loads_and_a_second_load_appends_nothing() {
    let st = Stack::start(Options {
        real_privacy: true,
        threshold: 0,
        // The scheduler flags the overdue receipts while the test watches.
        scan: Duration::from_millis(500),
    })
    .await;
    let cfg = DemoConfig::leiden(2026, Utc::now().date_naive());
    let data = generate(&cfg);

    let first = load_demo(&st.client, &cfg, 8)
        .await
        .unwrap_or_else(|e| panic!("the first load: {e:#}"));
    assert_eq!(
        first,
        DemoReport {
            files: data.files.len(),
            commands: data.commands(),
            replayed: 0,
        }
    );
    let overdue = format!(
        "{}.v{}",
        ConfirmationOverdue::NAME,
        ConfirmationOverdue::VERSION
    );
    let count = || {
        let store = st.store.clone();
        let overdue = overdue.clone();
        async move {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT count(*), count(DISTINCT stream_id) FROM events WHERE event_type <> $1",
            )
            .bind(overdue)
            .fetch_one(&store)
            .await
            .unwrap()
        }
    };
    let (events, files) = count().await;
    assert_eq!(files as usize, data.files.len());

    let second = load_demo(&st.client, &cfg, 8)
        .await
        .unwrap_or_else(|e| panic!("the second load: {e:#}"));
    assert_eq!(second.commands, first.commands);
    assert_eq!(second.replayed, second.commands, "{second:?}");
    assert_eq!(count().await, (events, files), "the second load appended");

    // Each primary school's inbox: the forms of both locations, a receipt overdue among them.
    for school in &cfg.primary_schools {
        let actor = persona(school, OrganisationType::Basisschool).actor(&cfg.municipality);
        eventually(Duration::from_secs(60), "the school's inbox", || {
            let st = &st;
            let actor = actor.clone();
            async move {
                let inbox: Inbox = st
                    .query(
                        s::Q_INBOX,
                        &actor,
                        &InboxQuery {
                            soort: Some(FileKind::Voorschool),
                        },
                    )
                    .await
                    .ok()?;
                let flagged = inbox
                    .dossiers
                    .iter()
                    .filter(|d| d.bevestiging_uitgebleven)
                    .count();
                let open = inbox
                    .dossiers
                    .iter()
                    .filter(|d| d.bevestigd_op.is_none())
                    .count();
                (inbox.dossiers.len() == 12
                    && flagged >= 2
                    && open > flagged
                    && inbox.dossiers.iter().all(|d| d.kind.is_some()))
                .then_some(())
            }
        })
        .await;
    }
    // The mentor's inbox: the OSO files of both schools.
    let mentor = persona(&cfg.secondary_school, OrganisationType::VoortgezetOnderwijs)
        .actor(&cfg.municipality);
    eventually(Duration::from_secs(60), "the mentor's inbox", || {
        let st = &st;
        let mentor = mentor.clone();
        async move {
            let inbox: Inbox = st
                .query(s::Q_INBOX, &mentor, &InboxQuery::default())
                .await
                .ok()?;
            let confirmed = inbox
                .dossiers
                .iter()
                .filter(|d| d.bevestigd_op.is_some())
                .count();
            (inbox.dossiers.len() == 12 && confirmed == 8).then_some(())
        }
    })
    .await;
    // Each childcare location's outbox: its forms to both schools (20), but the one the parents
    // refused: its key is destroyed and the views drop it (it stays in the monitor's facts).
    for lrk in &cfg.childcare {
        let actor = persona(lrk, OrganisationType::Kinderopvang).actor(&cfg.municipality);
        eventually(Duration::from_secs(60), "the location's outbox", || {
            let st = &st;
            let actor = actor.clone();
            async move {
                let outbox: Outbox = st
                    .query(s::Q_OUTBOX, &actor, &OutboxQuery::default())
                    .await
                    .ok()?;
                (outbox.dossiers.len() == 19).then_some(())
            }
        })
        .await;
    }
}

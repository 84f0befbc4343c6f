//! Issue 17 item 11: a child's erasure takes effect in the handover service as soon as its event
//! is seen. The linked preschool file's own key is destroyed by the erasure follow-up projection
//! at once, not at the scheduler's next scan (`KANSRIJK_OVERDRACHT_SCAN_SECONDEN`, here an hour,
//! so it cannot be what did it). Against the real privacy service; the test waits on the
//! privacy service's events, bounded, and says how long the file's key outlived the child's.

mod common;

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use common::*;
use futures::StreamExt;
use kansrijk_proto::actor::{OrganisationType, Purpose};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::envelope::CloudEvent;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::handover::{
    subjects as s, ChildIdentity, DraftPreschoolFile, PreschoolContent,
};
use kansrijk_proto::privacy::{
    subjects as privacy_subjects, EraseSubject, ErasureGrounds, PrivacyEvent, SubjectKind,
};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::keys::{KeyClient, KeyError};
use kansrijk_runtime::nats::{request, request_headers};
use uuid::Uuid;

const OIN: &str = "00000001002220647000";
/// Far below the scan interval: only the event can have done it.
const BOUND: Duration = Duration::from_secs(15);

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn draft(child: Uuid) -> DraftPreschoolFile {
    DraftPreschoolFile {
        kind_id: Some(child),
        opgesteld_op: today() - Days::new(3),
        warme_overdracht_gewenst: false,
        kind: ChildIdentity {
            given_name: "Wis".into(),
            family_name: "Direct".into(),
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
async fn a_childs_erasure_destroys_the_linked_files_key_at_once() {
    let st = Stack::start(Options {
        real_privacy: true,
        threshold: 0,
        scan: Duration::from_secs(3600),
    })
    .await;
    // The child as the VVE service registers it: a subject with its own key.
    let child = Uuid::new_v4();
    let vve_keys = KeyClient::new(
        st.client.clone(),
        kansrijk_runtime::identity::service_actor("vve", OIN),
        Duration::from_secs(1),
    );
    vve_keys
        .create(child, SubjectKind::Kind, MUNICIPALITY)
        .await
        .unwrap();
    // Two preschool files about the child (e.g. two locations), each with its own key.
    let mut files = Vec::new();
    for _ in 0..2 {
        let a = st
            .cmd(s::DRAFT_PRESCHOOL, &childcare(), &draft(child))
            .await
            .unwrap();
        files.push(a.stream_id);
    }
    for f in &files {
        vve_keys.get(*f).await.expect("the file's key exists");
    }

    // Watch the privacy service's events before the erasure.
    let mut events = st
        .client
        .subscribe(kansrijk_proto::subject::event(
            "privacy",
            PrivacyEvent::STREAM_TYPE,
        ))
        .await
        .unwrap();
    st.client.flush().await.unwrap();

    let officer = actor(
        "00000001002220647000",
        OrganisationType::Privacyfunctionaris,
        Purpose::Privacytoezicht,
    );
    let erased: Result<CommandAccepted, Problem> = request(
        &st.client,
        privacy_subjects::ERASE.into(),
        request_headers(&officer, Some(Uuid::new_v4()), None),
        &EraseSubject {
            subject: child,
            grounds: ErasureGrounds::VerzoekBetrokkene,
        },
        Duration::from_secs(10),
    )
    .await;
    erased.expect("the child's erasure is acknowledged");
    let acknowledged = Instant::now();

    // The files' own erasure events, each the moment its key was destroyed.
    let mut pending: Vec<Uuid> = files.clone();
    let mut took = Duration::ZERO;
    while !pending.is_empty() {
        let msg = tokio::time::timeout_at((acknowledged + BOUND).into(), events.next())
            .await
            .unwrap_or_else(|_| {
                panic!("the files' keys still exist {BOUND:?} after the child's erasure")
            })
            .expect("the event subscription ended");
        let ce: CloudEvent = serde_json::from_slice(&msg.payload).unwrap();
        if let Ok(Some(PrivacyEvent::Erased(e))) =
            kansrijk_runtime::erasure::decode_privacy_event(&ce)
        {
            if let Some(i) = pending.iter().position(|f| *f == e.subject) {
                pending.remove(i);
                took = acknowledged.elapsed();
            }
        }
    }
    eprintln!(
        "the linked files' keys were destroyed {took:?} after the child's erasure was acknowledged \
         (scan interval 3600 s)"
    );
    for f in &files {
        assert!(
            matches!(vve_keys.get(*f).await, Err(KeyError::Erased)),
            "file {f}'s key is gone"
        );
    }
    assert!(took < BOUND);
}

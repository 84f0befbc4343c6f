//! Both handover journeys end to end over a real nats-server and PostgreSQL: sender commands ->
//! sealed events -> relay -> projections -> the receiving school's inbox; the parents' say; the
//! receiver's confirmation and warm handover; the year-3 position flowing back; the
//! municipality's aggregates; refusal ending in crypto-shredding.

mod common;

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use common::*;
use kansrijk_proto::handover::{
    subjects as s, Absence, Advice, AdviceLevel, ChildIdentity, CreateOsoFile, DraftPreschoolFile,
    FileKind, FileRef, FileStatus, FileView, GiveAdvice, Inbox, InboxQuery, InformedHow, Monitor,
    MonitorQuery, OsoContent, Outbox, OutboxQuery, ParentsResponse, Participant, PreschoolContent,
    ReconsiderAdvice, Reconsideration, RecordConsent, RecordEnrolment, RecordParentsInformed,
    RecordTestResult, RefusalReason, RefuseConsent, ReportYear3Position, SchoolId, SendFile,
    TestResult, VveProgramme, WarmHandover, Year3Position,
};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::testing::eventually;
use uuid::Uuid;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_ago(n: u64) -> NaiveDate {
    today() - Days::new(n)
}

fn school_id(code: &str) -> SchoolId {
    SchoolId::new(&code[..4], &code[4..])
}

fn draft(name: &str) -> DraftPreschoolFile {
    DraftPreschoolFile {
        kind_id: Some(Uuid::new_v4()),
        opgesteld_op: days_ago(30),
        warme_overdracht_gewenst: true,
        kind: ChildIdentity {
            given_name: name.into(),
            family_name: "Bakkal".into(),
            birth_date: today() - Days::new(3 * 365 + 300),
            bsn: None,
        },
        inhoud: PreschoolContent {
            socio_emotional: "Zoekt steun bij de leidster bij nieuwe situaties.".into(),
            language: "Woordenschat groeit; thuistaal Turks.".into(),
            motor: "Knipt en plakt zelfstandig.".into(),
            cognitive: "Kent kleuren en telt tot tien.".into(),
            interests_and_talents: "Bouwhoek, prentenboeken.".into(),
            home_situation: Some("Grootmoeder woont in.".into()),
            approach: Some("Kleine kring voor taalactiviteiten.".into()),
            vve: Some(VveProgramme {
                programme: "Uk & Puk".into(),
                from: days_ago(500),
                until: None,
                hours_per_week: Some(16),
            }),
            observation: None,
            support_needs: "Extra taalaanbod in groep 1.".into(),
        },
    }
}

fn informed(id: Uuid, on: NaiveDate) -> RecordParentsInformed {
    RecordParentsInformed {
        dossier_id: id,
        datum: on,
        wijze: InformedHow::Gesprek,
    }
}

fn code(r: Result<impl std::fmt::Debug, Problem>) -> (u16, String) {
    let p = r.expect_err("expected a problem");
    (p.status, p.code.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn preschool_journey_with_consent_refusal_and_overdue_flag() {
    let st = Stack::start(Options {
        real_privacy: false,
        threshold: 0,
        scan: Duration::from_millis(300),
    })
    .await;
    let kdv = childcare();
    let school = school(PRIMARY);
    let other = common::school(OTHER_PRIMARY);

    // The childcare location drafts the form: stored sealed, from the first event.
    let a = st
        .cmd(s::DRAFT_PRESCHOOL, &kdv, &draft("Elif"))
        .await
        .unwrap();
    let f = a.stream_id;
    let stored: String = sqlx::query_scalar("SELECT data::text FROM events WHERE stream_id = $1")
        .bind(f)
        .fetch_one(&st.store)
        .await
        .unwrap();
    for secret in ["Elif", "Bakkal", "Uk & Puk", "Grootmoeder", "Turks"] {
        assert!(
            !stored.contains(secret),
            "plaintext {secret} in the stored event"
        );
    }
    // Only a childcare location drafts; a school may not.
    assert_eq!(
        code(st.cmd(s::DRAFT_PRESCHOOL, &school, &draft("X")).await).0,
        403
    );

    // Sending before the parents were informed is refused.
    let enrol = RecordEnrolment {
        dossier_id: f,
        datum: days_ago(25),
        school: school_id(PRIMARY),
    };
    st.cmd(s::ENROLMENT, &kdv, &enrol).await.unwrap();
    let send = SendFile {
        dossier_id: f,
        datum: days_ago(2),
        school: school_id(PRIMARY),
    };
    assert_eq!(
        code(st.cmd(s::SEND, &kdv, &send).await),
        (409, "ouders-niet-geinformeerd".into())
    );
    st.cmd(s::PARENTS_INFORMED, &kdv, &informed(f, days_ago(20)))
        .await
        .unwrap();
    st.cmd(
        s::PARENTS_RESPONSE,
        &kdv,
        &kansrijk_proto::handover::AddParentsResponse {
            dossier_id: f,
            datum: days_ago(19),
            reactie: ParentsResponse {
                agrees: Some(true),
                text: "Elif praat thuis veel over de bouwhoek.".into(),
            },
        },
    )
    .await
    .unwrap();
    // Without consent it does not go.
    assert_eq!(
        code(st.cmd(s::SEND, &kdv, &send).await),
        (409, "geen-toestemming".into())
    );
    // Nor to a school where the child is not enrolled.
    let wrong = SendFile {
        school: school_id(OTHER_PRIMARY),
        ..send.clone()
    };
    st.cmd(
        s::GIVE_CONSENT,
        &kdv,
        &RecordConsent {
            dossier_id: f,
            datum: days_ago(18),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        code(st.cmd(s::SEND, &kdv, &wrong).await),
        (409, "niet-de-inschrijvingsschool".into())
    );
    // Not in any inbox before it was sent.
    let last = st.cmd(s::ENROLMENT, &kdv, &enrol).await.unwrap();
    st.seen(&last).await;
    let inbox: Inbox = st
        .query(s::Q_INBOX, &school, &InboxQuery::default())
        .await
        .unwrap();
    assert!(inbox.dossiers.is_empty());

    let sent = st.cmd(s::SEND, &kdv, &send).await.unwrap();
    st.seen(&sent).await;

    // The school's inbox: only its own files, the child's name opened at query time.
    let inbox: Inbox = st
        .query(s::Q_INBOX, &school, &InboxQuery::default())
        .await
        .unwrap();
    assert_eq!(inbox.dossiers.len(), 1);
    assert_eq!(inbox.dossiers[0].dossier_id, f);
    assert_eq!(inbox.dossiers[0].kind.as_ref().unwrap().given_name, "Elif");
    let other_inbox: Inbox = st
        .query(s::Q_INBOX, &other, &InboxQuery::default())
        .await
        .unwrap();
    assert!(other_inbox.dossiers.is_empty());
    // Another school opening the file: 403; the addressed school: the whole file.
    let p: Result<FileView, Problem> = st
        .query(
            s::Q_FILE,
            &other,
            &FileRef {
                dossier_id: f,
                datum: None,
            },
        )
        .await;
    assert_eq!(code(p), (403, "niet-geadresseerd".into()));
    let view: FileView = st
        .query(
            s::Q_FILE,
            &school,
            &FileRef {
                dossier_id: f,
                datum: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        view.voorschool
            .as_ref()
            .unwrap()
            .vve
            .as_ref()
            .unwrap()
            .programme,
        "Uk & Puk"
    );
    assert_eq!(view.reacties_ouders.len(), 1);
    // Reads are logged before the data is returned.
    {
        let peer = st.peer.as_ref().unwrap().lock().unwrap();
        assert!(peer.access.iter().any(|e| e.subject == Some(f)
            && e.organisation == PRIMARY
            && e.access_point == "handover.dossier"));
    }

    // The school confirms, once; another school cannot.
    let confirm = FileRef {
        dossier_id: f,
        datum: Some(days_ago(1)),
    };
    assert_eq!(
        code(st.cmd(s::CONFIRM, &other, &confirm).await),
        (403, "niet-geadresseerd".into())
    );
    st.cmd(s::CONFIRM, &school, &confirm).await.unwrap();
    assert_eq!(
        code(st.cmd(s::CONFIRM, &school, &confirm).await),
        (409, "al-bevestigd".into())
    );
    // Retention starts at confirmation.
    eventually(Duration::from_secs(10), "retention registered", || {
        let peer = st.peer.clone();
        async move {
            peer.unwrap()
                .lock()
                .unwrap()
                .retention
                .contains(&f)
                .then_some(())
        }
    })
    .await;

    // Warm handover: planned and held with its participants.
    let warm = WarmHandover {
        dossier_id: f,
        datum: today(),
        deelnemers: vec![
            Participant::PedagogischMedewerker,
            Participant::Leerkracht,
            Participant::Ouders,
        ],
    };
    st.cmd(s::PLAN_WARM, &school, &warm).await.unwrap();
    let held = st.cmd(s::HOLD_WARM, &kdv, &warm).await.unwrap();
    st.seen(&held).await;
    let outbox: Outbox = st
        .query(s::Q_OUTBOX, &kdv, &OutboxQuery::default())
        .await
        .unwrap();
    let item = outbox.dossiers.iter().find(|i| i.dossier_id == f).unwrap();
    assert_eq!(item.status, FileStatus::Afgerond);
    assert_eq!(item.bevestigd_op, Some(days_ago(1)));

    // A second file: the parents refuse. Its key is destroyed and its rows go; the fact stays.
    let b = st
        .cmd(s::DRAFT_PRESCHOOL, &kdv, &draft("Daan"))
        .await
        .unwrap()
        .stream_id;
    st.cmd(s::PARENTS_INFORMED, &kdv, &informed(b, days_ago(10)))
        .await
        .unwrap();
    let refused = st
        .cmd(
            s::REFUSE_CONSENT,
            &kdv,
            &RefuseConsent {
                dossier_id: b,
                datum: days_ago(9),
                reden: RefusalReason::ZelfOverdragen,
            },
        )
        .await
        .unwrap();
    st.seen(&refused).await;
    eventually(
        Duration::from_secs(20),
        "the refused file's rows to go",
        || {
            let views = st.views.clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ho_files WHERE file_id = $1")
                    .bind(b)
                    .fetch_one(&views)
                    .await
                    .unwrap();
                (n == 0).then_some(())
            }
        },
    )
    .await;
    assert!(st
        .peer
        .as_ref()
        .unwrap()
        .lock()
        .unwrap()
        .erased
        .contains(&b));
    // The stored events of the refused file can no longer be opened: the key is gone.
    let p = st
        .cmd(
            s::SEND,
            &kdv,
            &SendFile {
                dossier_id: b,
                datum: today(),
                school: school_id(PRIMARY),
            },
        )
        .await;
    assert_eq!(code(p), (409, "toestemming-geweigerd".into()));
    let done: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM privacy_requests_done WHERE subject = $1 AND action = 'erase'",
    )
    .bind(b)
    .fetch_one(&st.store)
    .await
    .unwrap();
    assert_eq!(done, 1);

    // A third file, sent 20 days ago and never confirmed: flagged to sender and receiver.
    let c = st
        .cmd(s::DRAFT_PRESCHOOL, &kdv, &draft("Noor"))
        .await
        .unwrap()
        .stream_id;
    for (subject, body) in [
        (
            s::PARENTS_INFORMED,
            serde_json::to_value(informed(c, days_ago(25))).unwrap(),
        ),
        (
            s::GIVE_CONSENT,
            serde_json::to_value(RecordConsent {
                dossier_id: c,
                datum: days_ago(24),
            })
            .unwrap(),
        ),
        (
            s::ENROLMENT,
            serde_json::to_value(RecordEnrolment {
                dossier_id: c,
                datum: days_ago(24),
                school: school_id(PRIMARY),
            })
            .unwrap(),
        ),
        (
            s::SEND,
            serde_json::to_value(SendFile {
                dossier_id: c,
                datum: days_ago(20),
                school: school_id(PRIMARY),
            })
            .unwrap(),
        ),
    ] {
        st.cmd(subject, &kdv, &body).await.unwrap();
    }
    eventually(Duration::from_secs(20), "the overdue flag", || {
        let st = &st;
        let school = school.clone();
        async move {
            let inbox: Inbox = st
                .query(s::Q_INBOX, &school, &InboxQuery::default())
                .await
                .ok()?;
            inbox
                .dossiers
                .iter()
                .any(|i| i.dossier_id == c && i.bevestiging_uitgebleven)
                .then_some(())
        }
    })
    .await;
    let outbox: Outbox = st
        .query(s::Q_OUTBOX, &kdv, &OutboxQuery::default())
        .await
        .unwrap();
    assert!(outbox
        .dossiers
        .iter()
        .any(|i| i.dossier_id == c && i.bevestiging_uitgebleven));
    assert!(!outbox.dossiers.iter().any(|i| i.dossier_id == b));

    // The municipality: aggregates only (threshold 0 in this test, so the counts show).
    let m: Monitor = st
        .query(s::Q_MONITOR, &municipality(), &MonitorQuery::default())
        .await
        .unwrap();
    assert_eq!(m.voorschool_dossiers.aantal, Some(3));
    assert_eq!(m.toestemming_gegeven.aantal, Some(2));
    assert_eq!(m.toestemming_geweigerd.aantal, Some(1));
    let zelf = m
        .weigeringen_per_reden
        .iter()
        .find(|r| r.reden == RefusalReason::ZelfOverdragen)
        .unwrap();
    assert_eq!(zelf.aantal.aantal, Some(1));
    let pair = m
        .koppels
        .iter()
        .find(|k| k.afzender == LRK && k.school == PRIMARY && k.soort == FileKind::Voorschool)
        .unwrap();
    assert_eq!(pair.verzonden.aantal, Some(2));
    assert_eq!(pair.tijdig_bevestigd.aantal, Some(1));
    assert_eq!(pair.warme_overdracht.aantal, Some(1));
    let json = serde_json::to_string(&m).unwrap();
    for secret in ["Elif", "Daan", "Noor", &f.to_string(), &b.to_string()] {
        assert!(!json.contains(secret));
    }
    // The child of the first file is erased (AVG art. 17): the file's own key is destroyed too,
    // its rows go, and the file answers 410.
    let f_child: Uuid = sqlx::query_scalar(
        "SELECT (data->>'kindId')::uuid FROM events WHERE stream_id = $1 AND version = 1",
    )
    .bind(f)
    .fetch_one(&st.store)
    .await
    .unwrap();
    let officer = actor(
        "00000001001234567000",
        kansrijk_proto::actor::OrganisationType::Privacyfunctionaris,
        kansrijk_proto::actor::Purpose::Privacytoezicht,
    );
    let _: kansrijk_proto::command::CommandAccepted = st
        .query(
            kansrijk_proto::privacy::subjects::ERASE,
            &officer,
            &kansrijk_proto::privacy::EraseSubject {
                subject: f_child,
                grounds: kansrijk_proto::privacy::ErasureGrounds::VerzoekBetrokkene,
            },
        )
        .await
        .unwrap();
    eventually(
        Duration::from_secs(20),
        "the file key of the erased child",
        || {
            let peer = st.peer.clone().unwrap();
            async move { peer.lock().unwrap().erased.contains(&f).then_some(()) }
        },
    )
    .await;
    eventually(
        Duration::from_secs(20),
        "the erased child's file rows to go",
        || {
            let views = st.views.clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM ho_files WHERE file_id = $1")
                    .bind(f)
                    .fetch_one(&views)
                    .await
                    .unwrap();
                (n == 0).then_some(())
            }
        },
    )
    .await;
    let gone = st.cmd(s::PLAN_WARM, &school, &warm).await;
    assert_eq!(code(gone).0, 410);

    // A school may not see the monitor, the municipality no rows.
    assert_eq!(
        code(
            st.query::<_, Monitor>(s::Q_MONITOR, &school, &MonitorQuery::default())
                .await
        )
        .0,
        403
    );
    assert_eq!(
        code(
            st.query::<_, Inbox>(s::Q_INBOX, &municipality(), &InboxQuery::default())
                .await
        )
        .0,
        403
    );
}

fn oso_body() -> CreateOsoFile {
    CreateOsoFile {
        kind_id: None,
        schooljaar: {
            let y = chrono::Datelike::year(&days_ago(60));
            format!("{}-{}", y - 1, y)
        },
        aangemaakt_op: days_ago(60),
        leerling: ChildIdentity {
            given_name: "Sem".into(),
            family_name: "Jansen".into(),
            birth_date: today() - Days::new(12 * 365),
            bsn: Some("111222333".into()),
        },
        inhoud: OsoContent {
            support: "Extra begeleiding begrijpend lezen.".into(),
            absence: Absence {
                authorised_days: 5,
                unauthorised_days: 0,
            },
            parents_wish: Some(AdviceLevel::Havo),
            pupil_wish: Some(AdviceLevel::Havo),
            contact_wanted: true,
            school_history: None,
            vve_history: None,
            action_plans: None,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn po_vo_journey_with_reconsideration_year_three_and_oso_round_trip() {
    let st = Stack::start(Options {
        real_privacy: true,
        threshold: 0,
        scan: Duration::from_secs(300),
    })
    .await;
    let po = school(PO);
    let vo = secondary();

    // A retried create (same idempotency key) answers the first result and creates nothing.
    let id = Uuid::new_v4();
    let a = st
        .cmd_with_id(s::CREATE_OSO, &po, id, &oso_body())
        .await
        .unwrap();
    let again = st
        .cmd_with_id(s::CREATE_OSO, &po, id, &oso_body())
        .await
        .unwrap();
    assert!(a.first_time && !again.first_time);
    assert_eq!((again.stream_id, again.version), (a.stream_id, a.version));
    let f = a.stream_id;
    let files: i64 = sqlx::query_scalar("SELECT count(DISTINCT stream_id) FROM events")
        .fetch_one(&st.store)
        .await
        .unwrap();
    assert_eq!(files, 1);
    let stored: String =
        sqlx::query_scalar("SELECT string_agg(data::text, ' ') FROM events WHERE stream_id = $1")
            .bind(f)
            .fetch_one(&st.store)
            .await
            .unwrap();
    assert!(
        !stored.contains("Sem") && !stored.contains("111222333") && !stored.contains("begrijpend")
    );

    let advice = |level, on| GiveAdvice {
        dossier_id: f,
        datum: on,
        advies: Advice {
            level,
            explanation: None,
        },
    };
    st.cmd(
        s::PROVISIONAL_ADVICE,
        &po,
        &advice(AdviceLevel::VmboGt, days_ago(50)),
    )
    .await
    .unwrap();
    st.cmd(
        s::TEST_RESULT,
        &po,
        &RecordTestResult {
            dossier_id: f,
            datum: days_ago(30),
            uitslag: TestResult {
                test: "route-8".into(),
                level: AdviceLevel::Havo,
            },
        },
    )
    .await
    .unwrap();
    // A higher test result: no final advice before a motivated reconsideration.
    assert_eq!(
        code(
            st.cmd(
                s::FINAL_ADVICE,
                &po,
                &advice(AdviceLevel::VmboGt, days_ago(20))
            )
            .await
        ),
        (409, "heroverweging-vereist".into())
    );
    st.cmd(
        s::RECONSIDER,
        &po,
        &ReconsiderAdvice {
            dossier_id: f,
            datum: days_ago(25),
            heroverweging: Reconsideration {
                level: AdviceLevel::VmboGtHavo,
                motivation: "Toetsuitslag en werkhouding samen gewogen.".into(),
            },
        },
    )
    .await
    .unwrap();
    // Never lowered.
    assert_eq!(
        code(
            st.cmd(
                s::FINAL_ADVICE,
                &po,
                &advice(AdviceLevel::VmboGt, days_ago(20))
            )
            .await
        ),
        (409, "advies-verlaagd".into())
    );
    st.cmd(
        s::FINAL_ADVICE,
        &po,
        &advice(AdviceLevel::VmboGtHavo, days_ago(20)),
    )
    .await
    .unwrap();
    st.cmd(
        s::ENROLMENT,
        &po,
        &RecordEnrolment {
            dossier_id: f,
            datum: days_ago(15),
            school: school_id(VO),
        },
    )
    .await
    .unwrap();
    let send = SendFile {
        dossier_id: f,
        datum: days_ago(10),
        school: school_id(VO),
    };
    // Parents are shown the file first (no consent needed).
    assert_eq!(
        code(st.cmd(s::SEND, &po, &send).await),
        (409, "ouders-niet-geinformeerd".into())
    );
    st.cmd(s::PARENTS_INFORMED, &po, &informed(f, days_ago(12)))
        .await
        .unwrap();
    st.cmd(
        s::PARENTS_RESPONSE,
        &po,
        &kansrijk_proto::handover::AddParentsResponse {
            dossier_id: f,
            datum: days_ago(11),
            reactie: ParentsResponse {
                agrees: Some(false),
                text: "Wij zien havo als passend.".into(),
            },
        },
    )
    .await
    .unwrap();
    let sent = st.cmd(s::SEND, &po, &send).await.unwrap();
    st.seen(&sent).await;

    // The secondary school's inbox and the opened file.
    let inbox: Inbox = st
        .query(s::Q_INBOX, &vo, &InboxQuery::default())
        .await
        .unwrap();
    assert_eq!(inbox.dossiers.len(), 1);
    assert_eq!(inbox.dossiers[0].kind.as_ref().unwrap().given_name, "Sem");
    let view: FileView = st
        .query(
            s::Q_FILE,
            &vo,
            &FileRef {
                dossier_id: f,
                datum: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        view.definitief_advies.unwrap().level,
        AdviceLevel::VmboGtHavo
    );
    assert_eq!(view.heroverweging.unwrap().level, AdviceLevel::VmboGtHavo);
    assert_eq!(view.reacties_ouders[0].agrees, Some(false));
    // A primary school that did not send it cannot open it.
    let p: Result<FileView, Problem> = st
        .query(
            s::Q_FILE,
            &common::school(OTHER_PRIMARY),
            &FileRef {
                dossier_id: f,
                datum: None,
            },
        )
        .await;
    assert_eq!(code(p).0, 403);

    // Year 3 only after confirming; confirmation once.
    let report = ReportYear3Position {
        dossier_id: f,
        datum: today(),
        positie: Year3Position::Boven,
    };
    assert_eq!(
        code(st.cmd(s::YEAR3, &vo, &report).await),
        (409, "niet-bevestigd".into())
    );
    st.cmd(
        s::CONFIRM,
        &vo,
        &FileRef {
            dossier_id: f,
            datum: Some(days_ago(8)),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        code(
            st.cmd(
                s::CONFIRM,
                &vo,
                &FileRef {
                    dossier_id: f,
                    datum: None
                }
            )
            .await
        ),
        (409, "al-bevestigd".into())
    );
    st.cmd(
        s::HOLD_WARM,
        &vo,
        &WarmHandover {
            dossier_id: f,
            datum: days_ago(5),
            deelnemers: vec![Participant::Groep8Leerkracht, Participant::Mentor],
        },
    )
    .await
    .unwrap();
    let reported = st.cmd(s::YEAR3, &vo, &report).await.unwrap();
    st.seen(&reported).await;

    // The position flows back to the primary school's outbox and the municipality's aggregates.
    let outbox: Outbox = st
        .query(s::Q_OUTBOX, &po, &OutboxQuery::default())
        .await
        .unwrap();
    let item = outbox.dossiers.iter().find(|i| i.dossier_id == f).unwrap();
    assert_eq!(item.positie_leerjaar3, Some(Year3Position::Boven));
    assert_eq!(item.status, FileStatus::Afgerond);
    let m: Monitor = st
        .query(s::Q_MONITOR, &municipality(), &MonitorQuery::default())
        .await
        .unwrap();
    let row = m.positie_leerjaar3.iter().find(|r| r.school == PO).unwrap();
    assert_eq!(
        (row.boven.aantal, row.op.aantal, row.onder.aantal),
        (Some(1), Some(0), Some(0))
    );
    let pair = m
        .koppels
        .iter()
        .find(|k| k.afzender == PO && k.school == VO)
        .unwrap();
    assert_eq!(pair.warme_overdracht.aantal, Some(1));

    // OSO: export the file, import the document as a new file of the same school.
    let doc: serde_json::Value = st
        .cmd_json(
            s::EXPORT_OSO,
            &po,
            &FileRef {
                dossier_id: f,
                datum: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(doc["advies"]["definitiefAdvies"]["niveau"], "vmbo-gt-havo");
    assert_eq!(doc["leerling"]["voornaam"], "Sem");
    let imported = st
        .cmd(
            s::IMPORT_OSO,
            &po,
            &kansrijk_proto::handover::ImportOsoFile {
                datum: today(),
                document: doc.clone(),
            },
        )
        .await
        .unwrap();
    assert_ne!(imported.stream_id, f);
    assert!(imported.version >= 6);
    // Another school cannot import this school's document, and a broken one lists every error.
    assert_eq!(
        code(
            st.cmd(
                s::IMPORT_OSO,
                &common::school(OTHER_PRIMARY),
                &kansrijk_proto::handover::ImportOsoFile {
                    datum: today(),
                    document: doc.clone()
                },
            )
            .await
        )
        .0,
        403
    );
    let mut broken = doc;
    broken["leerling"]["achternaam"] = serde_json::json!("");
    broken["verzuim"]["geoorloofdDagen"] = serde_json::json!("veel");
    let p = st
        .cmd(
            s::IMPORT_OSO,
            &po,
            &kansrijk_proto::handover::ImportOsoFile {
                datum: today(),
                document: broken,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(p.status, 400);
    assert_eq!(p.invalid_params.len(), 2);

    // AVG art. 15: the privacy officer gets the file opened; nobody else.
    let officer = actor(
        "00000001001234567000",
        kansrijk_proto::actor::OrganisationType::Privacyfunctionaris,
        kansrijk_proto::actor::Purpose::Privacytoezicht,
    );
    let ask = kansrijk_proto::privacy::SubjectAccessRequest { subject: f };
    let part: kansrijk_proto::privacy::SubjectAccessPart =
        st.query(s::Q_SUBJECT_ACCESS, &officer, &ask).await.unwrap();
    assert_eq!(part.service, "overdracht");
    assert_eq!(part.sections.len(), 1);
    let text = part.sections[0].data.to_string();
    assert!(text.contains("Sem") && text.contains("vmbo-gt-havo") && !text.contains("ciphertext"));
    let denied: Result<kansrijk_proto::privacy::SubjectAccessPart, Problem> =
        st.query(s::Q_SUBJECT_ACCESS, &po, &ask).await;
    assert_eq!(code(denied).0, 403);
}

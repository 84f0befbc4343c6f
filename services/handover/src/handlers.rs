//! NATS endpoints: authorise (policy) -> read the request -> load the file's stream -> fetch the
//! file's key when the decision seals or opens something (410 when erased) -> decide -> append
//! with the loaded version and the command id -> reply [`CommandAccepted`].
//!
//! After a refusal the file's key is destroyed at the privacy service; when a file is drafted its
//! retention period is registered there (so that a file never confirmed still ends), and after a
//! confirmation it starts again from the confirmation date. Both are also retried by the scheduler
//! ([`Service::follow_up_privacy`]) until the privacy service has answered, so a refusal always
//! ends in crypto-shredding even when the privacy service was down at the time.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use chrono::{NaiveDate, Utc};
use kansrijk_proto::actor::Actor;
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::event::Event;
use kansrijk_proto::handover::{
    self as api, subjects, ConfirmationOverdue, ConsentRefused, HandoverEvent, ReceiptConfirmed,
    STREAM_FILE,
};
use kansrijk_proto::privacy::{
    subjects as privacy_subjects, DataKind, EraseSubject, ErasureGrounds, RegisterRetention,
    SubjectAccessPart, SubjectAccessRequest, SubjectAccessSection, SubjectKind,
};
use kansrijk_proto::problem::Problem;
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::crypto::{CryptoError, SubjectKey};
use kansrijk_runtime::keys::{KeyClient, KeyError};
use kansrijk_runtime::service::{handler, Endpoints, Request};
use kansrijk_runtime::store::{EventStore, ExpectedVersion, Metadata};
use sqlx::Row;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::config::Config;
use crate::domain::{decide, Command, Ctx, File};
use crate::oso;

/// The relay's service name, the subject token of commands and events.
pub const SERVICE: &str = api::SERVICE;

/// The identity this service uses towards the privacy service.
pub fn service_actor(oin: &str) -> Actor {
    kansrijk_runtime::identity::service_actor(SERVICE, oin)
}

/// The policy action of a command or query subject's last token.
pub fn action(name: &str) -> String {
    format!("handover.{name}")
}

fn internal<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> Problem {
    move |e| {
        tracing::error!(error = %e, "{what}");
        Problem::internal()
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct Service {
    store: EventStore,
    nats: Client,
    keys: KeyClient,
    access_log: AccessLogClient,
    me: Actor,
    confirm_within_days: u16,
    relay_wake: Option<Arc<Notify>>,
}

impl Service {
    pub fn new(
        store: EventStore,
        nats: Client,
        config: &Config,
        relay_wake: Option<Arc<Notify>>,
    ) -> Self {
        let me = service_actor(&config.common.oin);
        Service {
            keys: KeyClient::new(nats.clone(), me.clone(), config.key_ttl),
            access_log: AccessLogClient::new(nats.clone(), me.clone()),
            store,
            nats,
            me,
            confirm_within_days: config.confirm_within_days,
            relay_wake,
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Drops a cached key (after the subject's erasure).
    pub fn forget_key(&self, subject: Uuid) {
        self.keys.forget(subject);
    }

    /// The stored result of a command id seen before.
    async fn replayed(&self, command_id: Option<Uuid>) -> Result<Option<CommandAccepted>, Problem> {
        kansrijk_runtime::service::replayed(&self.store, command_id).await
    }

    async fn append(
        &self,
        metadata: Metadata,
        command_id: Option<Uuid>,
        stream_id: Uuid,
        municipality: &str,
        expected: ExpectedVersion,
        events: &[HandoverEvent],
    ) -> Result<CommandAccepted, Problem> {
        debug_assert_eq!(
            metadata.command_id, command_id,
            "the command id travels in the metadata"
        );
        kansrijk_runtime::service::append_decided(
            &self.store,
            Metadata {
                command_id,
                ..metadata
            },
            stream_id,
            municipality,
            expected,
            events,
            self.relay_wake.as_deref(),
        )
        .await
    }

    /// The file's state, or 404.
    pub async fn load(&self, file_id: Uuid) -> Result<File, Problem> {
        let stored = self
            .store
            .read_stream(file_id)
            .await
            .map_err(internal("reading stream"))?;
        let mut file = File::default();
        for s in &stored {
            if s.stream_type != STREAM_FILE {
                return Err(not_found());
            }
            let e: HandoverEvent = s.decode().map_err(internal("decoding event"))?;
            file.apply(&e);
        }
        if !file.exists() {
            return Err(not_found());
        }
        Ok(file)
    }

    /// The decoded events of a file (for the OSO export).
    pub async fn events(&self, file_id: Uuid) -> Result<Vec<HandoverEvent>, Problem> {
        let stored = self
            .store
            .read_stream(file_id)
            .await
            .map_err(internal("reading stream"))?;
        stored
            .iter()
            .filter(|s| s.stream_type == STREAM_FILE)
            .map(|s| s.decode().map_err(internal("decoding event")))
            .collect()
    }

    async fn key(&self, file_id: Uuid) -> Result<SubjectKey, Problem> {
        self.keys.get(file_id).await.map_err(|e| match e {
            KeyError::Erased => Problem::gone("De inhoud van dit dossier is vernietigd."),
            other => other.to_problem(),
        })
    }

    /// Creates a file: a new subject with its own key, then the events of `cmds` in order (the
    /// first creates the file; an import adds its advice and the parents' review).
    async fn create(&self, req: &Request, cmds: Vec<Command>) -> Result<CommandAccepted, Problem> {
        if let Some(done) = self.replayed(req.command_id).await? {
            return Ok(done);
        }
        if !is_municipality_code(&req.actor.municipality) {
            return Err(Problem::forbidden(
                "Uw account is niet aan een gemeente gekoppeld.",
            ));
        }
        // Derived from the command id: a retry of a try that crashed after the key was created
        // drafts the file under that key, not a second one (issue 16).
        let file_id = req.command_id.map_or_else(Uuid::new_v4, |c| {
            kansrijk_runtime::service::derived_id(c, "overdracht.dossier")
        });
        let key = self
            .keys
            .create(file_id, SubjectKind::Kind, &req.actor.municipality)
            .await
            .map_err(|e| e.to_problem())?;
        let ctx = Ctx {
            today: today(),
            organisation: &req.actor.organisation,
            municipality: &req.actor.municipality,
            key: Some(&key),
            system: false,
        };
        let mut file = File::default();
        let mut events = Vec::new();
        for cmd in cmds {
            for e in decide(&file, cmd, &ctx).map_err(|e| e.to_problem())? {
                file.apply(&e);
                events.push(e);
            }
        }
        let accepted = self
            .append(
                metadata(req),
                req.command_id,
                file_id,
                &req.actor.municipality,
                ExpectedVersion::NoStream,
                &events,
            )
            .await?;
        // Best effort now; the scheduler retries until the privacy service answered.
        self.register_retention_from_draft(file_id, today()).await;
        Ok(accepted)
    }

    /// Runs a command on an existing file.
    async fn on_file(
        &self,
        req: &Request,
        file_id: Uuid,
        cmd: Command,
    ) -> Result<CommandAccepted, Problem> {
        if let Some(done) = self.replayed(req.command_id).await? {
            return Ok(done);
        }
        let file = self.load(file_id).await?;
        if !file.is_refused() {
            self.ensure_not_erased(file_id, &file).await?;
        }
        let key = if needs_key(&cmd) && !file.is_refused() {
            Some(self.key(file_id).await?)
        } else {
            None
        };
        let ctx = Ctx {
            today: today(),
            organisation: &req.actor.organisation,
            municipality: &req.actor.municipality,
            key: key.as_ref(),
            system: false,
        };
        let events = decide(&file, cmd, &ctx).map_err(|e| e.to_problem())?;
        let accepted = self
            .append(
                metadata(req),
                req.command_id,
                file_id,
                &file.municipality,
                ExpectedVersion::Exact(file.version),
                &events,
            )
            .await?;
        for e in &events {
            match e {
                HandoverEvent::ConsentRefused(_) => {
                    // Best effort now; the scheduler retries until the privacy service answered.
                    self.erase_file_key(file_id, ErasureGrounds::WeigeringToestemming)
                        .await;
                }
                HandoverEvent::Confirmed(c) => {
                    self.register_retention(file_id, c.on).await;
                }
                _ => {}
            }
        }
        Ok(accepted)
    }

    async fn mark_done(&self, subject: Uuid, action: &str) {
        let r = sqlx::query(
            "INSERT INTO privacy_requests_done (subject, action) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(subject)
        .bind(action)
        .execute(self.store.pool())
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "recording privacy request");
        }
    }

    /// Asks the privacy service to destroy a file's key (refused, its child erased, or its
    /// retention ended). Returns whether it is gone.
    pub async fn erase_file_key(&self, file_id: Uuid, grounds: ErasureGrounds) -> bool {
        let r: Result<CommandAccepted, Problem> = kansrijk_runtime::nats::request(
            &self.nats,
            privacy_subjects::ERASE.into(),
            kansrijk_runtime::nats::request_headers(&self.me, None, None),
            &EraseSubject {
                subject: file_id,
                grounds,
            },
            Duration::from_secs(5),
        )
        .await;
        let done = match r {
            Ok(_) => true,
            // Already erased.
            Err(p) if p.status == 410 => true,
            Err(p) => {
                tracing::warn!(status = p.status, code = ?p.code, "erasing a file's key failed; will retry");
                false
            }
        };
        if done {
            self.keys.forget(file_id);
            self.mark_done(file_id, "erase").await;
            metrics::counter!("kansrijk_overdracht_files_shredded_total").increment(1);
        }
        done
    }

    /// Destroys the keys of `files` now, in the background (a child's erasure or the end of a
    /// file's retention, seen by [`crate::erasure::ErasureFollowUp`]); a file already done is
    /// skipped, and what fails the scheduler retries ([`Service::follow_up_privacy`]).
    pub fn erase_files_now(self: &Arc<Self>, files: Vec<Uuid>, grounds: ErasureGrounds) {
        let svc = self.clone();
        tokio::spawn(async move {
            let done: Vec<Uuid> = sqlx::query_scalar(
                "SELECT subject FROM privacy_requests_done WHERE subject = ANY($1) AND action = 'erase'",
            )
            .bind(&files)
            .fetch_all(svc.store.pool())
            .await
            .unwrap_or_default();
            for file_id in files.into_iter().filter(|f| !done.contains(f)) {
                svc.erase_file_key(file_id, grounds).await;
            }
        });
    }

    /// Registers the start of a confirmed file's retention period.
    pub async fn register_retention(&self, file_id: Uuid, start: NaiveDate) -> bool {
        self.request_retention(file_id, start, "retention", None)
            .await
    }

    /// Registers the start of a new file's retention period, the day it was drafted (or
    /// created, for a PO-VO file). Idempotent by the command id: the request's id is derived
    /// from the file's id, itself derived from the drafting command's id, so every retry (the
    /// command's, the scheduler's) registers one period.
    pub async fn register_retention_from_draft(&self, file_id: Uuid, start: NaiveDate) -> bool {
        let command_id =
            kansrijk_runtime::service::derived_id(file_id, "overdracht.bewaartermijn-opgesteld");
        self.request_retention(file_id, start, "retention-opgesteld", Some(command_id))
            .await
    }

    async fn request_retention(
        &self,
        file_id: Uuid,
        start: NaiveDate,
        done_as: &str,
        command_id: Option<Uuid>,
    ) -> bool {
        let r: Result<serde_json::Value, Problem> = kansrijk_runtime::nats::request(
            &self.nats,
            privacy_subjects::REGISTER_RETENTION.into(),
            kansrijk_runtime::nats::request_headers(&self.me, command_id, None),
            &RegisterRetention {
                subject: file_id,
                data_kind: DataKind::Overdracht,
                start_date: start,
            },
            Duration::from_secs(5),
        )
        .await;
        match r {
            Ok(_) | Err(Problem { status: 410, .. }) => {
                self.mark_done(file_id, done_as).await;
                true
            }
            Err(p) => {
                tracing::warn!(
                    status = p.status,
                    "registering retention failed; will retry"
                );
                false
            }
        }
    }

    /// Retries every privacy request that has not been answered yet (refusals whose key still
    /// exists, confirmations without a registered retention). Returns how many succeeded.
    pub async fn follow_up_privacy(&self) -> Result<u64, sqlx::Error> {
        let refused = format!("{}.v{}", ConsentRefused::NAME, ConsentRefused::VERSION);
        let confirmed = format!("{}.v{}", ReceiptConfirmed::NAME, ReceiptConfirmed::VERSION);
        let rows = sqlx::query(
            "SELECT e.stream_id, e.event_type, e.data->>'datum' AS on_date FROM events e
             WHERE e.event_type = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM privacy_requests_done d WHERE d.subject = e.stream_id
                   AND d.action = CASE WHEN e.event_type = $2 THEN 'erase' ELSE 'retention' END)
             ORDER BY e.position LIMIT 500",
        )
        .bind(vec![refused.clone(), confirmed])
        .bind(&refused)
        .fetch_all(self.store.pool())
        .await?;
        let mut ok = 0;
        for r in rows {
            let id: Uuid = r.try_get("stream_id")?;
            let t: String = r.try_get("event_type")?;
            let done = if t == refused {
                self.erase_file_key(id, ErasureGrounds::WeigeringToestemming)
                    .await
            } else {
                let on: Option<String> = r.try_get("on_date")?;
                match on.and_then(|d| d.parse().ok()) {
                    Some(d) => self.register_retention(id, d).await,
                    None => false,
                }
            };
            ok += u64::from(done);
        }
        // Files drafted without a registered retention (neither the draft's nor a confirmation's).
        let drafted = vec![
            format!(
                "{}.v{}",
                api::PreschoolFileDrafted::NAME,
                api::PreschoolFileDrafted::VERSION
            ),
            format!(
                "{}.v{}",
                api::OsoFileCreated::NAME,
                api::OsoFileCreated::VERSION
            ),
        ];
        let rows = sqlx::query(
            "SELECT e.stream_id, (e.recorded_at AT TIME ZONE 'UTC')::date AS on_date FROM events e
             WHERE e.stream_type = $1 AND e.event_type = ANY($2)
               AND NOT EXISTS (SELECT 1 FROM privacy_requests_done d WHERE d.subject = e.stream_id
                   AND d.action IN ('retention', 'retention-opgesteld'))
             ORDER BY e.position LIMIT 500",
        )
        .bind(STREAM_FILE)
        .bind(&drafted)
        .fetch_all(self.store.pool())
        .await?;
        for r in rows {
            let id: Uuid = r.try_get("stream_id")?;
            let on: NaiveDate = r.try_get("on_date")?;
            ok += u64::from(self.register_retention_from_draft(id, on).await);
        }
        // A child's erasure or the end of a file's retention.
        let requested = sqlx::query(
            "SELECT r.file_id, r.grounds FROM erase_requests r
             WHERE NOT EXISTS (SELECT 1 FROM privacy_requests_done d WHERE d.subject = r.file_id AND d.action = 'erase')
             ORDER BY r.requested_at LIMIT 500",
        )
        .fetch_all(self.store.pool())
        .await?;
        for r in requested {
            let id: Uuid = r.try_get("file_id")?;
            let grounds: String = r.try_get("grounds")?;
            let grounds = if grounds == "bewaartermijn" {
                ErasureGrounds::Bewaartermijn
            } else {
                ErasureGrounds::VerzoekBetrokkene
            };
            ok += u64::from(self.erase_file_key(id, grounds).await);
        }
        Ok(ok)
    }

    /// 410 when the file's subject, or the child it refers to, was erased.
    async fn ensure_not_erased(&self, file_id: Uuid, file: &File) -> Result<(), Problem> {
        let ids: Vec<Uuid> = std::iter::once(file_id).chain(file.child_id).collect();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM erased_subjects WHERE subject = ANY($1)")
                .bind(&ids)
                .fetch_one(self.store.pool())
                .await
                .map_err(internal("reading erasures"))?;
        if n > 0 {
            return Err(Problem::gone("De inhoud van dit dossier is vernietigd."));
        }
        Ok(())
    }

    /// Flags every sent file that was not confirmed within the configured number of days.
    pub async fn flag_overdue(&self, on: NaiveDate) -> Result<u64, Problem> {
        let sent = format!("{}.v1", api::FileSent::NAME);
        let closing = vec![
            format!("{}.v{}", ReceiptConfirmed::NAME, ReceiptConfirmed::VERSION),
            format!(
                "{}.v{}",
                ConfirmationOverdue::NAME,
                ConfirmationOverdue::VERSION
            ),
            format!("{}.v{}", ConsentRefused::NAME, ConsentRefused::VERSION),
        ];
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT s.stream_id FROM events s
             WHERE s.event_type = $1
               AND (s.data->>'datum')::date + $2::int <= $3::date
               AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = s.stream_id AND e.event_type = ANY($4))
             LIMIT 1000",
        )
        .bind(&sent)
        .bind(i32::from(self.confirm_within_days))
        .bind(on)
        .bind(&closing)
        .fetch_all(self.store.pool())
        .await
        .map_err(internal("finding overdue files"))?;
        let mut flagged = 0;
        for id in ids {
            let file = self.load(id).await?;
            let ctx = Ctx {
                today: on,
                organisation: &self.me.organisation,
                municipality: &file.municipality,
                key: None,
                system: true,
            };
            let cmd = Command::FlagOverdue {
                on,
                days: self.confirm_within_days,
            };
            let Ok(events) = decide(&file, cmd, &ctx) else {
                continue;
            };
            let meta = Metadata {
                command_id: None,
                actor: Some(self.me.person.clone()),
                organisation: Some(self.me.organisation.clone()),
                traceparent: None,
            };
            match self
                .append(
                    meta,
                    None,
                    id,
                    &file.municipality,
                    ExpectedVersion::Exact(file.version),
                    &events,
                )
                .await
            {
                Ok(_) => flagged += 1,
                Err(p) if p.status == 409 => {}
                Err(p) => return Err(p),
            }
        }
        if flagged > 0 {
            metrics::counter!("kansrijk_overdracht_overdue_flagged_total").increment(flagged);
        }
        Ok(flagged)
    }

    /// The file as an OSO JSON document, for its sender (the primary school). Logged as an export.
    async fn export_oso(&self, req: &Request, file_id: Uuid) -> Result<serde_json::Value, Problem> {
        let file = self.load(file_id).await?;
        if file.sender != req.actor.organisation {
            return Err(Problem::forbidden(
                "Alleen de school die het dossier opstelde mag het exporteren.",
            )
            .with_code("niet-afzender"));
        }
        if file.kind != Some(api::FileKind::PoVo) {
            return Err(Problem::conflict(
                "niet-van-toepassing",
                "Alleen een onderwijskundig rapport wordt als OSO-dossier geëxporteerd.",
            ));
        }
        let key = self.key(file_id).await?;
        let events = self.events(file_id).await?;
        let opened = oso::open_file(&events, &key).map_err(internal("opening file"))?;
        self.access_log
            .record(vec![AccessEntry::new(
                &req.actor,
                AccessEvent::Export,
                subjects::EXPORT_OSO,
                Some(file_id),
                AccessOutcome::Success,
                req.traceparent.as_deref(),
            )])
            .await
            .map_err(|_| Problem::unavailable("Het toegangslog kon niet worden bijgewerkt."))?;
        Ok(oso::export(&opened))
    }
    /// Everything the handover service holds about one subject, opened, for the privacy officer
    /// (AVG art. 15): the file whose own subject it is, or every file that refers to the child.
    /// Only files of the officer's own municipality. A file whose key is gone says so and shows
    /// nothing else. Logged as an export.
    pub async fn subject_access(&self, req: &Request) -> Result<SubjectAccessPart, Problem> {
        kansrijk_policy::require(&req.actor, &action("inzage"))?;
        kansrijk_runtime::subject_access::require_privacy_officer(&req.actor)?;
        let body: SubjectAccessRequest = req.json()?;
        let drafted = [
            format!("{}.v1", api::PreschoolFileDrafted::NAME),
            format!("{}.v1", api::OsoFileCreated::NAME),
        ];
        let files: Vec<Uuid> = sqlx::query_scalar(
            "SELECT DISTINCT stream_id FROM events
             WHERE stream_type = $1 AND municipality = $5
               AND (stream_id = $2 OR (event_type = ANY($3) AND data->>'kindId' = $4))",
        )
        .bind(STREAM_FILE)
        .bind(body.subject)
        .bind(&drafted[..])
        .bind(body.subject.to_string())
        .bind(&req.actor.municipality)
        .fetch_all(self.store.pool())
        .await
        .map_err(internal("finding files"))?;
        let mut sections = Vec::new();
        for file_id in files {
            let stored = self
                .store
                .read_stream(file_id)
                .await
                .map_err(internal("reading stream"))?;
            let key = match self.keys.get(file_id).await {
                Ok(k) => Some(k),
                Err(KeyError::Erased) => None,
                Err(e) => return Err(e.to_problem()),
            };
            let mut events = Vec::new();
            for s in &stored {
                let e: HandoverEvent = s.decode().map_err(internal("decoding event"))?;
                let data = match &key {
                    Some(k) => opened(&e, s.data.clone(), k).map_err(internal("opening event"))?,
                    None => strip_sealed(s.data.clone()),
                };
                events.push(serde_json::json!({
                    "gebeurtenis": s.event_type.name(),
                    "vastgelegdOp": s.recorded_at,
                    "gegevens": data,
                }));
            }
            sections.push(SubjectAccessSection {
                title: format!("Overdrachtsdossier {file_id}"),
                category: DataCategory::DevelopmentEducation,
                data: serde_json::json!({
                    "dossierId": file_id,
                    "inhoudVernietigd": key.is_none(),
                    "gebeurtenissen": events,
                }),
            });
        }
        self.access_log
            .record(vec![AccessEntry::new(
                &req.actor,
                AccessEvent::Export,
                subjects::Q_SUBJECT_ACCESS,
                Some(body.subject),
                AccessOutcome::Success,
                req.traceparent.as_deref(),
            )])
            .await
            .map_err(|_| Problem::unavailable("Het toegangslog kon niet worden bijgewerkt."))?;
        Ok(SubjectAccessPart {
            service: SERVICE.into(),
            subject: body.subject,
            sections,
        })
    }
}

/// An event's data with its sealed parts replaced by their opened values.
fn opened(
    e: &HandoverEvent,
    mut data: serde_json::Value,
    key: &SubjectKey,
) -> Result<serde_json::Value, CryptoError> {
    fn put<T: serde::Serialize>(data: &mut serde_json::Value, field: &str, v: T) {
        data[field] = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    }
    match e {
        HandoverEvent::PreschoolDrafted(d) => {
            put(&mut data, "kind", key.open(&d.child)?);
            put(&mut data, "inhoud", key.open(&d.content)?);
        }
        HandoverEvent::PreschoolRevised(r) => put(&mut data, "inhoud", key.open(&r.content)?),
        HandoverEvent::OsoCreated(c) => {
            put(&mut data, "leerling", key.open(&c.pupil)?);
            put(&mut data, "inhoud", key.open(&c.content)?);
        }
        HandoverEvent::OsoUpdated(u) => put(&mut data, "inhoud", key.open(&u.content)?),
        HandoverEvent::ProvisionalAdvice(a) => put(&mut data, "advies", key.open(&a.advice)?),
        HandoverEvent::TestResult(t) => put(&mut data, "uitslag", key.open(&t.result)?),
        HandoverEvent::Reconsidered(r) => {
            put(&mut data, "heroverweging", key.open(&r.reconsideration)?)
        }
        HandoverEvent::FinalAdvice(a) => put(&mut data, "advies", key.open(&a.advice)?),
        HandoverEvent::ParentsResponse(r) => put(&mut data, "reactie", key.open(&r.response)?),
        _ => {}
    }
    Ok(data)
}

/// An event's data without its (unreadable) sealed parts.
fn strip_sealed(mut data: serde_json::Value) -> serde_json::Value {
    if let Some(o) = data.as_object_mut() {
        o.retain(|_, v| v.get("ciphertext").is_none());
    }
    data
}

fn not_found() -> Problem {
    Problem::not_found("Dit overdrachtsdossier bestaat niet.")
}

fn metadata(req: &Request) -> Metadata {
    Metadata {
        command_id: req.command_id,
        actor: Some(req.actor.person.clone()),
        organisation: Some(req.actor.organisation.clone()),
        traceparent: req.traceparent.clone(),
    }
}

fn is_municipality_code(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a decision seals new content or opens earlier advice.
fn needs_key(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::RevisePreschool { .. }
            | Command::UpdateOso { .. }
            | Command::ProvisionalAdvice { .. }
            | Command::RecordTestResult { .. }
            | Command::Reconsider { .. }
            | Command::FinalAdvice { .. }
            | Command::AddParentsResponse { .. }
    )
}

/// Registers one command endpoint: policy check, body, command.
macro_rules! command {
    ($e:ident, $svc:ident, $subject:expr, |$req:ident, $body:ident : $ty:ty| $make:expr) => {{
        let s = $svc.clone();
        let subject: &str = $subject;
        let name = subject.rsplit('.').next().unwrap_or_default().to_owned();
        $e.insert(
            subject.to_owned(),
            handler(move |$req: Request| {
                let s = s.clone();
                let name = name.clone();
                async move {
                    kansrijk_policy::require(&$req.actor, &action(&name))?;
                    let $body: $ty = $req.body()?;
                    let (file, cmd): (Option<Uuid>, Command) = $make;
                    let result = match file {
                        None => s.create(&$req, vec![cmd]).await,
                        Some(id) => s.on_file(&$req, id, cmd).await,
                    };
                    kansrijk_runtime::service::settle(&s.store, $req.command_id, result).await
                }
            }),
        );
    }};
}

/// Every endpoint of the service, the refused reads logged
/// ([`kansrijk_runtime::access_log::log_refused_reads`]).
pub fn endpoints(svc: &Arc<Service>) -> Endpoints {
    let mut e = Endpoints::new();
    command!(
        e,
        svc,
        subjects::DRAFT_PRESCHOOL,
        |req, b: api::DraftPreschoolFile| (
            None,
            Command::DraftPreschool {
                child_id: b.kind_id,
                drafted_on: b.opgesteld_op,
                warm_wanted: b.warme_overdracht_gewenst,
                child: b.kind,
                content: b.inhoud,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::REVISE_PRESCHOOL,
        |req, b: api::RevisePreschoolFile| (
            Some(b.dossier_id),
            Command::RevisePreschool {
                on: b.datum,
                warm_wanted: b.warme_overdracht_gewenst,
                content: b.inhoud,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::CREATE_OSO,
        |req, b: api::CreateOsoFile| (
            None,
            Command::CreateOso {
                child_id: b.kind_id,
                school_year: b.schooljaar,
                created_on: b.aangemaakt_op,
                pupil: b.leerling,
                content: b.inhoud,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::UPDATE_OSO,
        |req, b: api::UpdateOsoFile| (
            Some(b.dossier_id),
            Command::UpdateOso {
                on: b.datum,
                content: b.inhoud,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::PROVISIONAL_ADVICE,
        |req, b: api::GiveAdvice| (
            Some(b.dossier_id),
            Command::ProvisionalAdvice {
                on: b.datum,
                advice: b.advies,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::TEST_RESULT,
        |req, b: api::RecordTestResult| (
            Some(b.dossier_id),
            Command::RecordTestResult {
                on: b.datum,
                result: b.uitslag,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::RECONSIDER,
        |req, b: api::ReconsiderAdvice| (
            Some(b.dossier_id),
            Command::Reconsider {
                on: b.datum,
                reconsideration: b.heroverweging,
            }
        )
    );
    command!(e, svc, subjects::FINAL_ADVICE, |req, b: api::GiveAdvice| (
        Some(b.dossier_id),
        Command::FinalAdvice {
            on: b.datum,
            advice: b.advies,
        }
    ));
    command!(
        e,
        svc,
        subjects::PARENTS_INFORMED,
        |req, b: api::RecordParentsInformed| (
            Some(b.dossier_id),
            Command::InformParents {
                on: b.datum,
                how: b.wijze,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::PARENTS_RESPONSE,
        |req, b: api::AddParentsResponse| (
            Some(b.dossier_id),
            Command::AddParentsResponse {
                on: b.datum,
                response: b.reactie,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::GIVE_CONSENT,
        |req, b: api::RecordConsent| (Some(b.dossier_id), Command::GiveConsent { on: b.datum })
    );
    command!(
        e,
        svc,
        subjects::REFUSE_CONSENT,
        |req, b: api::RefuseConsent| (
            Some(b.dossier_id),
            Command::RefuseConsent {
                on: b.datum,
                reason: b.reden,
            }
        )
    );
    command!(
        e,
        svc,
        subjects::ENROLMENT,
        |req, b: api::RecordEnrolment| (
            Some(b.dossier_id),
            Command::RecordEnrolment {
                on: b.datum,
                school: b.school,
            }
        )
    );
    command!(e, svc, subjects::SEND, |req, b: api::SendFile| (
        Some(b.dossier_id),
        Command::Send {
            on: b.datum,
            school: b.school,
        }
    ));
    command!(e, svc, subjects::CONFIRM, |req, b: api::FileRef| (
        Some(b.dossier_id),
        Command::ConfirmReceipt {
            on: b.datum.unwrap_or_else(today),
        }
    ));
    command!(e, svc, subjects::PLAN_WARM, |req, b: api::WarmHandover| (
        Some(b.dossier_id),
        Command::PlanWarmHandover {
            on: b.datum,
            participants: b.deelnemers,
        }
    ));
    command!(e, svc, subjects::HOLD_WARM, |req, b: api::WarmHandover| (
        Some(b.dossier_id),
        Command::HoldWarmHandover {
            on: b.datum,
            participants: b.deelnemers,
        }
    ));
    command!(
        e,
        svc,
        subjects::YEAR3,
        |req, b: api::ReportYear3Position| (
            Some(b.dossier_id),
            Command::ReportYear3 {
                on: b.datum,
                position: b.positie,
            }
        )
    );
    let s = svc.clone();
    e.insert(
        subjects::IMPORT_OSO.to_owned(),
        handler(move |req: Request| {
            let s = s.clone();
            async move {
                kansrijk_policy::require(&req.actor, &action("oso-dossier-importeren"))?;
                let b: api::ImportOsoFile = req.body()?;
                let f = oso::import(&b.document).map_err(Problem::invalid)?;
                if f.school.code() != req.actor.organisation {
                    return Err(Problem::forbidden(
                        "Dit OSO-dossier is van een andere school dan de uwe.",
                    )
                    .with_code("niet-afzender"));
                }
                s.create(&req, oso::import_commands(f, b.datum)).await
            }
        }),
    );
    let s = svc.clone();
    e.insert(
        subjects::Q_SUBJECT_ACCESS.to_owned(),
        handler(move |req: Request| {
            let s = s.clone();
            async move { s.subject_access(&req).await }
        }),
    );
    let s = svc.clone();
    e.insert(
        subjects::EXPORT_OSO.to_owned(),
        handler(move |req: Request| {
            let s = s.clone();
            async move {
                kansrijk_policy::require(&req.actor, &action("oso-dossier-exporteren"))?;
                let b: api::FileRef = req.json()?;
                s.export_oso(&req, b.dossier_id).await
            }
        }),
    );
    // A refused read (the subject access part, the OSO export) is in the access log.
    kansrijk_runtime::access_log::log_refused_reads(e, &svc.access_log, |subject| {
        kansrijk_runtime::access_log::is_query(subject) || subject == subjects::EXPORT_OSO
    })
}

//! The handover queries: the sender's outbox, the receiving school's inbox, one opened file, and
//! the municipality's monitor. Each checks the policy, scopes by the actor's organisation (or
//! municipality), opens sealed parts with the file's key at query time (a file whose key is gone
//! shows no identity and cannot be opened), and writes the NEN 7513 access-log entries before it
//! returns personal data.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use kansrijk_proto::actor::Actor;
use kansrijk_proto::handover::{
    subjects, Advice, ChildIdentity, FileKind, FileRef, FileStatus, FileView, Inbox, InboxItem,
    InboxQuery, Monitor, MonitorQuery, OsoContent, Outbox, OutboxItem, OutboxQuery,
    ParentsResponse, PreschoolContent, Reconsideration, RefusalReason, SchoolId, TestResult,
    Year3Position,
};
use kansrijk_proto::problem::Problem;
use kansrijk_proto::sealed::Sealed;
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::crypto::SubjectKey;
use kansrijk_runtime::keys::{KeyClient, KeyError};
use kansrijk_runtime::service::{handler, Endpoints, Request};
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::monitor::{self, Fact};
use crate::vve::suppression::SuppressionConfig;

/// Policy actions of the queries.
pub mod actions {
    pub const OUTBOX: &str = "handover.uitgaand";
    pub const INBOX: &str = "handover.inbox";
    pub const FILE: &str = "handover.dossier";
    pub const MONITOR: &str = "handover.monitor";
}

const KEY_CHUNK: usize = 500;

fn internal<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> Problem {
    move |e| {
        tracing::error!(error = %e, "{what}");
        Problem::internal()
    }
}

/// The handover views' state.
#[derive(Debug)]
pub struct HandoverViews {
    pool: PgPool,
    keys: KeyClient,
    access_log: AccessLogClient,
    suppression: SuppressionConfig,
    confirm_within_days: u16,
}

fn parse_code<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn school_of(code: Option<String>) -> Option<SchoolId> {
    code.filter(|c| c.len() == 6 && c.is_ascii())
        .map(|c| SchoolId::new(&c[..4], &c[4..]))
}

fn status_of(r: &PgRow) -> Result<FileStatus, sqlx::Error> {
    let consent: String = r.try_get("consent")?;
    let held: Option<chrono::NaiveDate> = r.try_get("warm_held_on")?;
    let planned: Option<chrono::NaiveDate> = r.try_get("warm_planned_on")?;
    let confirmed: Option<chrono::NaiveDate> = r.try_get("confirmed_on")?;
    let sent: Option<chrono::NaiveDate> = r.try_get("sent_on")?;
    let informed: Option<chrono::NaiveDate> = r.try_get("informed_on")?;
    Ok(if consent == "geweigerd" {
        FileStatus::Geweigerd
    } else if held.is_some() {
        FileStatus::Afgerond
    } else if planned.is_some() {
        FileStatus::WarmeOverdrachtGepland
    } else if confirmed.is_some() {
        FileStatus::Ontvangen
    } else if sent.is_some() {
        FileStatus::Verzonden
    } else if consent == "gegeven" {
        FileStatus::Toestemming
    } else if informed.is_some() {
        FileStatus::OudersGeinformeerd
    } else {
        FileStatus::Concept
    })
}

fn open<T: DeserializeOwned>(key: &SubjectKey, v: serde_json::Value) -> Option<T> {
    let sealed: Sealed<T> = serde_json::from_value(v).ok()?;
    key.open(&sealed).ok()
}

impl HandoverViews {
    pub fn new(
        pool: PgPool,
        nats: Client,
        service: Actor,
        suppression: SuppressionConfig,
        confirm_within_days: u16,
    ) -> Self {
        HandoverViews {
            keys: KeyClient::new(nats.clone(), service.clone(), Duration::from_secs(30)),
            access_log: AccessLogClient::new(nats, service),
            pool,
            suppression,
            confirm_within_days,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Keys of the given files; erased or unknown files are left out.
    async fn keys(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, SubjectKey>, Problem> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(KEY_CHUNK) {
            let got = self
                .keys
                .get_many(chunk)
                .await
                .map_err(|e| e.to_problem())?;
            out.extend(
                got.into_iter()
                    .filter_map(|(id, k)| k.ok().map(|k| (id, k))),
            );
        }
        Ok(out)
    }

    async fn log(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        view: &str,
        subjects: impl IntoIterator<Item = Uuid>,
    ) -> Result<(), Problem> {
        let entries: Vec<AccessEntry> = subjects
            .into_iter()
            .map(|s| {
                AccessEntry::new(
                    actor,
                    AccessEvent::Read,
                    view,
                    Some(s),
                    AccessOutcome::Success,
                    traceparent,
                )
            })
            .collect();
        if entries.is_empty() {
            return Ok(());
        }
        self.access_log
            .record(entries)
            .await
            .map_err(|_| Problem::unavailable("Het toegangslog kon niet worden bijgewerkt."))
    }

    /// The files the actor's organisation drew up, newest first, with their status.
    pub async fn outbox(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        q: OutboxQuery,
    ) -> Result<Outbox, Problem> {
        kansrijk_policy::require(actor, actions::OUTBOX)?;
        let rows = sqlx::query(
            "SELECT * FROM ho_files WHERE sender = $1 AND municipality = $2
               AND ($3::text IS NULL OR kind = $3)
             ORDER BY drafted_on DESC, file_id",
        )
        .bind(&actor.organisation)
        .bind(&actor.municipality)
        .bind(q.soort.map(|k| k.as_str()))
        .fetch_all(&self.pool)
        .await
        .map_err(internal("reading outbox"))?;
        let ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|r| r.try_get("file_id").ok())
            .collect();
        let keys = self.keys(&ids).await?;
        let mut items = Vec::new();
        let mut shown = Vec::new();
        for r in &rows {
            let item = self
                .outbox_item(r, &keys)
                .map_err(internal("decoding outbox"))?;
            if item.kind.is_some() {
                shown.push(item.dossier_id);
            }
            items.push(item);
        }
        self.log(actor, traceparent, actions::OUTBOX, shown).await?;
        Ok(Outbox { dossiers: items })
    }

    /// Whether a sent file's receipt is overdue: flagged by the handover service's scan, or, before
    /// the scan has run, sent longer ago than the confirmation period and not confirmed.
    fn receipt_overdue(
        &self,
        r: &PgRow,
        confirmed: Option<chrono::NaiveDate>,
    ) -> Result<bool, sqlx::Error> {
        if confirmed.is_some() {
            return Ok(false);
        }
        let sent: Option<chrono::NaiveDate> = r.try_get("sent_on")?;
        let due = sent.and_then(|s| {
            s.checked_add_days(chrono::Days::new(u64::from(self.confirm_within_days)))
        });
        Ok(r.try_get::<bool, _>("overdue")?
            || due.is_some_and(|d| d <= chrono::Utc::now().date_naive()))
    }

    fn outbox_item(
        &self,
        r: &PgRow,
        keys: &HashMap<Uuid, SubjectKey>,
    ) -> Result<OutboxItem, sqlx::Error> {
        let id: Uuid = r.try_get("file_id")?;
        let kind: String = r.try_get("kind")?;
        let child: serde_json::Value = r.try_get("child_sealed")?;
        let year3: Option<String> = r.try_get("year3")?;
        Ok(OutboxItem {
            dossier_id: id,
            soort: FileKind::parse(&kind).unwrap_or(FileKind::Voorschool),
            status: status_of(r)?,
            school: school_of(
                r.try_get::<Option<String>, _>("sent_to")?
                    .or(r.try_get("enrolled_school")?),
            ),
            opgesteld_op: r.try_get("drafted_on")?,
            verzonden_op: r.try_get("sent_on")?,
            bevestigd_op: r.try_get("confirmed_on")?,
            bevestiging_uitgebleven: self.receipt_overdue(r, r.try_get("confirmed_on")?)?,
            warme_overdracht_gepland_op: r.try_get("warm_planned_on")?,
            warme_overdracht_gehouden_op: r.try_get("warm_held_on")?,
            positie_leerjaar3: year3.as_deref().and_then(Year3Position::parse),
            kind: keys.get(&id).and_then(|k| open::<ChildIdentity>(k, child)),
        })
    }

    /// Files sent to the actor's school location (preschool files only with consent).
    pub async fn inbox(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        q: InboxQuery,
    ) -> Result<Inbox, Problem> {
        kansrijk_policy::require(actor, actions::INBOX)?;
        let rows = sqlx::query(
            "SELECT * FROM ho_files
             WHERE sent_to = $1 AND (kind = 'po-vo' OR consent = 'gegeven')
               AND ($2::text IS NULL OR kind = $2)
             ORDER BY sent_on DESC, file_id",
        )
        .bind(&actor.organisation)
        .bind(q.soort.map(|k| k.as_str()))
        .fetch_all(&self.pool)
        .await
        .map_err(internal("reading inbox"))?;
        let ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|r| r.try_get("file_id").ok())
            .collect();
        let keys = self.keys(&ids).await?;
        let mut items = Vec::new();
        for r in &rows {
            let item = (|| -> Result<InboxItem, sqlx::Error> {
                let id: Uuid = r.try_get("file_id")?;
                let kind: String = r.try_get("kind")?;
                let child: serde_json::Value = r.try_get("child_sealed")?;
                let confirmed: Option<chrono::NaiveDate> = r.try_get("confirmed_on")?;
                Ok(InboxItem {
                    dossier_id: id,
                    soort: FileKind::parse(&kind).unwrap_or(FileKind::Voorschool),
                    afzender: r.try_get("sender")?,
                    verzonden_op: r.try_get("sent_on")?,
                    bevestigd_op: confirmed,
                    bevestiging_uitgebleven: self.receipt_overdue(r, confirmed)?,
                    kind: keys.get(&id).and_then(|k| open::<ChildIdentity>(k, child)),
                })
            })()
            .map_err(internal("decoding inbox"))?;
            items.push(item);
        }
        let shown: Vec<Uuid> = items
            .iter()
            .filter(|i| i.kind.is_some())
            .map(|i| i.dossier_id)
            .collect();
        self.log(actor, traceparent, actions::INBOX, shown).await?;
        Ok(Inbox { dossiers: items })
    }

    /// One file, opened, for its sender or the school it was sent to (403 for anyone else).
    pub async fn file(
        &self,
        actor: &Actor,
        traceparent: Option<&str>,
        q: FileRef,
    ) -> Result<FileView, Problem> {
        kansrijk_policy::require(actor, actions::FILE)?;
        let row = sqlx::query("SELECT * FROM ho_files WHERE file_id = $1")
            .bind(q.dossier_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal("reading file"))?;
        let Some(r) = row else {
            return Err(Problem::not_found("Dit overdrachtsdossier bestaat niet."));
        };
        let get = |c: &str| -> Result<Option<String>, Problem> {
            r.try_get::<Option<String>, _>(c)
                .map_err(internal("decoding file"))
        };
        let sender = get("sender")?.unwrap_or_default();
        let sent_to = get("sent_to")?;
        let kind = get("kind")?
            .as_deref()
            .and_then(FileKind::parse)
            .unwrap_or(FileKind::Voorschool);
        let consent = get("consent")?.unwrap_or_default();
        let is_sender = sender == actor.organisation;
        let is_receiver = sent_to.as_deref() == Some(actor.organisation.as_str())
            && (kind == FileKind::PoVo || consent == "gegeven");
        if !is_sender && !is_receiver {
            let mut p = Problem::forbidden("Dit dossier is niet aan uw school gericht.");
            p = p.with_code("niet-geadresseerd");
            p.title = "Geen toegang".into();
            return Err(p);
        }
        let key = match self.keys.get(q.dossier_id).await {
            Ok(k) => k,
            Err(KeyError::Erased) => {
                return Err(Problem::gone("De inhoud van dit dossier is vernietigd."))
            }
            Err(e) => return Err(e.to_problem()),
        };
        let json = |c: &str| -> Result<serde_json::Value, Problem> {
            Ok(r.try_get::<Option<serde_json::Value>, _>(c)
                .map_err(internal("decoding file"))?
                .unwrap_or(serde_json::Value::Null))
        };
        let child: ChildIdentity =
            open(&key, json("child_sealed")?).ok_or_else(Problem::internal)?;
        let content = json("content_sealed")?;
        let responses: Vec<ParentsResponse> = match json("responses_sealed")? {
            serde_json::Value::Array(items) => items
                .into_iter()
                .filter_map(|v| open::<ParentsResponse>(&key, v))
                .collect(),
            _ => Vec::new(),
        };
        let year3: Option<String> = get("year3")?;
        let view = FileView {
            dossier_id: q.dossier_id,
            soort: kind,
            status: status_of(&r).map_err(internal("decoding file"))?,
            afzender: sender,
            school: school_of(sent_to.or(get("enrolled_school")?)),
            kind: child,
            voorschool: (kind == FileKind::Voorschool)
                .then(|| open::<PreschoolContent>(&key, content.clone()))
                .flatten(),
            oso: (kind == FileKind::PoVo)
                .then(|| open::<OsoContent>(&key, content.clone()))
                .flatten(),
            voorlopig_advies: open::<Advice>(&key, json("provisional_sealed")?),
            toetsuitslag: open::<TestResult>(&key, json("test_sealed")?),
            heroverweging: open::<Reconsideration>(&key, json("reconsideration_sealed")?),
            definitief_advies: open::<Advice>(&key, json("final_sealed")?),
            reacties_ouders: responses,
            warme_overdracht_gewenst: r
                .try_get("warm_wanted")
                .map_err(internal("decoding file"))?,
            verzonden_op: r.try_get("sent_on").map_err(internal("decoding file"))?,
            bevestigd_op: r
                .try_get("confirmed_on")
                .map_err(internal("decoding file"))?,
            positie_leerjaar3: year3.as_deref().and_then(Year3Position::parse),
        };
        self.log(actor, traceparent, actions::FILE, [q.dossier_id])
            .await?;
        Ok(view)
    }

    /// The municipality's monitor: aggregates of its own files, small cells suppressed.
    pub async fn monitor(&self, actor: &Actor, q: MonitorQuery) -> Result<Monitor, Problem> {
        kansrijk_policy::require(actor, actions::MONITOR)?;
        let rows = sqlx::query(
            // Every year: the partitions a user can ask for are suppressed together.
            "SELECT * FROM ho_facts WHERE municipality = $1",
        )
        .bind(&actor.municipality)
        .fetch_all(&self.pool)
        .await
        .map_err(internal("reading monitor facts"))?;
        let facts = rows
            .iter()
            .map(|r| -> Result<(i32, Fact), sqlx::Error> {
                let kind: String = r.try_get("kind")?;
                let consent: String = r.try_get("consent")?;
                let reason: Option<String> = r.try_get("refusal_reason")?;
                let year3: Option<String> = r.try_get("year3")?;
                let year: i32 = r.try_get("year")?;
                Ok((
                    year,
                    Fact {
                        kind: FileKind::parse(&kind).unwrap_or(FileKind::Voorschool),
                        sender: r.try_get("sender")?,
                        school: r.try_get("school")?,
                        consent: match consent.as_str() {
                            "gegeven" => Some(true),
                            "geweigerd" => Some(false),
                            _ => None,
                        },
                        refusal_reason: reason.as_deref().and_then(RefusalReason::parse),
                        sent_on: r.try_get("sent_on")?,
                        confirmed_on: r.try_get("confirmed_on")?,
                        warm_held: r.try_get("warm_held")?,
                        year3: year3.as_deref().and_then(parse_code),
                    },
                ))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal("decoding monitor facts"))?;
        Ok(monitor::compute_partition(
            &actor.municipality,
            &facts,
            q.jaar,
            &self.suppression,
            self.confirm_within_days,
        ))
    }
}

fn body<T: DeserializeOwned + Default>(req: &Request) -> Result<T, Problem> {
    if req.body.is_empty() {
        Ok(T::default())
    } else {
        req.json()
    }
}

/// The handover query endpoints, by subject, for the views service.
pub fn endpoints(views: &Arc<HandoverViews>) -> Endpoints {
    let mut e = Endpoints::new();
    let v = views.clone();
    e.insert(
        subjects::Q_OUTBOX.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move {
                let q: OutboxQuery = body(&req)?;
                v.outbox(&req.actor, req.traceparent.as_deref(), q).await
            }
        }),
    );
    let v = views.clone();
    e.insert(
        subjects::Q_INBOX.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move {
                let q: InboxQuery = body(&req)?;
                v.inbox(&req.actor, req.traceparent.as_deref(), q).await
            }
        }),
    );
    let v = views.clone();
    e.insert(
        subjects::Q_FILE.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move {
                let q: FileRef = req.json()?;
                v.file(&req.actor, req.traceparent.as_deref(), q).await
            }
        }),
    );
    let v = views.clone();
    e.insert(
        subjects::Q_MONITOR.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move {
                let q: MonitorQuery = body(&req)?;
                v.monitor(&req.actor, q).await
            }
        }),
    );
    e
}

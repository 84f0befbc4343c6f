//! NATS endpoints: authorise (policy) -> read the request (400 with every field error) -> load the
//! child's stream -> fetch the child's key (410 when erased) -> decide -> append with the loaded
//! version and the command id -> reply [`CommandAccepted`].

use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use chrono::{Datelike, NaiveDate, Utc};
use kansrijk_proto::actor::{Actor, OrganisationType, Purpose};
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::{PseudonymReply, PseudonymRequest, SubjectKind};
use kansrijk_proto::privacy::{SubjectAccessPart, SubjectAccessRequest, SubjectAccessSection};
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::subject;
use kansrijk_proto::vve::{
    ChildEvent, ChildPersonal, Criterion, TargetGroupDefined, TargetGroupEvent, STREAM_CHILD,
    STREAM_TARGET_GROUP,
};
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::crypto::SubjectKey;
use kansrijk_runtime::keys::{KeyClient, KeyError};
use kansrijk_runtime::service::{handler, Endpoints, Handler, Request};
use kansrijk_runtime::store::{EventStore, ExpectedVersion, Metadata, StoreError};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::api::{self, commands, queries, Fields};
use crate::config::{Config, RegistryMode};
use crate::domain::child::check;
use crate::domain::{decide, Bsn, BsnError, Catalogue, Child, Command, Ctx};

/// The pseudonymisation domain of BSNs (shared with the other services that match on BSN).
pub const BSN_DOMAIN: &str = "bsn";

/// The identity this service uses towards the privacy service and the registry.
pub fn service_actor(oin: &str) -> Actor {
    Actor {
        person: "dienst:vve".into(),
        organisation: oin.to_owned(),
        organisation_type: OrganisationType::Gemeente,
        role: "dienst".into(),
        municipality: "0000".into(),
        purpose: Purpose::Zorgverlening,
    }
}

/// The stream id of a municipality's target-group definitions.
pub fn target_group_stream(municipality: &str) -> Uuid {
    // A fixed prefix and the (four-digit) code: stable, and never a random child id's shape.
    let code = municipality
        .bytes()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(b));
    Uuid::from_u128((0x6b72_6a6b_d06e_8000_8000_u128 << 48) ^ (code & 0xffff_ffff_ffff))
}

pub use kansrijk_runtime::districts::districts_subject;
use kansrijk_runtime::districts::DistrictCheck;

/// Everything the handlers share.
#[derive(Debug)]
pub struct Service {
    store: EventStore,
    nats: Client,
    keys: KeyClient,
    access_log: AccessLogClient,
    me: Actor,
    registry_mode: RegistryMode,
    registry_timeout: Duration,
    relay_wake: Option<Arc<Notify>>,
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

fn already_registered() -> Problem {
    Problem::conflict(
        "kind-al-ingeschreven",
        "Er is in deze gemeente al een kind met dit BSN ingeschreven.",
    )
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
            registry_mode: config.registry_mode,
            registry_timeout: config.registry_timeout,
            relay_wake,
        }
    }

    /// Drops a cached subject key (after the subject's erasure).
    pub fn forget_key(&self, subject: Uuid) {
        self.keys.forget(subject);
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// The stored result of a command id seen before.
    async fn replayed(&self, command_id: Option<Uuid>) -> Result<Option<CommandAccepted>, Problem> {
        kansrijk_runtime::service::replayed(&self.store, command_id).await
    }

    async fn append<E: EventSet>(
        &self,
        req: &Request,
        stream_id: Uuid,
        municipality: &str,
        expected: ExpectedVersion,
        events: &[E],
    ) -> Result<CommandAccepted, Problem> {
        let metadata = Metadata::for_actor(&req.actor, req.command_id, req.traceparent.as_deref());
        kansrijk_runtime::service::append_decided(
            &self.store,
            metadata,
            stream_id,
            municipality,
            expected,
            events,
            self.relay_wake.as_deref(),
        )
        .await
    }

    async fn load_child(&self, child_id: Uuid) -> Result<Child, Problem> {
        let stored = self
            .store
            .read_stream(child_id)
            .await
            .map_err(internal("reading stream"))?;
        let mut child = Child::default();
        for s in &stored {
            if s.stream_type != STREAM_CHILD {
                return Err(Problem::not_found("Dit kind is niet bekend."));
            }
            let e: ChildEvent = s.decode().map_err(internal("decoding event"))?;
            child.apply(&e);
        }
        if !child.exists() {
            return Err(Problem::not_found("Dit kind is niet bekend."));
        }
        Ok(child)
    }

    /// The built-in definitions plus the municipality's own.
    pub async fn catalogue(&self, municipality: &str) -> Result<Catalogue, Problem> {
        let mut c = Catalogue::builtin();
        let stored = self
            .store
            .read_stream(target_group_stream(municipality))
            .await
            .map_err(internal("reading definitions"))?;
        for s in &stored {
            let TargetGroupEvent::Defined(e) =
                s.decode().map_err(internal("decoding definition"))?;
            c.apply(&e);
        }
        Ok(c)
    }

    /// Runs a command on an existing child.
    async fn on_child(
        &self,
        req: &Request,
        child_id: Uuid,
        make: impl FnOnce(&SubjectKey) -> Result<Command, Problem>,
    ) -> Result<CommandAccepted, Problem> {
        if let Some(done) = self.replayed(req.command_id).await? {
            return Ok(done);
        }
        let child = self.load_child(child_id).await?;
        let key = self.keys.get(child_id).await.map_err(|e| e.to_problem())?;
        let birth = child
            .birth_date
            .as_ref()
            .map(|s| key.open(s))
            .transpose()
            .map_err(internal("opening birth date"))?;
        let cmd = make(&key)?;
        let municipality = child
            .registration
            .as_ref()
            .map(|r| r.municipality.clone())
            .unwrap_or_default();
        let catalogue = if matches!(cmd, Command::IssueIndication { .. }) {
            self.catalogue(&municipality).await?
        } else {
            Catalogue::default()
        };
        let ctx = Ctx {
            today: today(),
            birth_date: birth,
            catalogue: &catalogue,
            organisation: &req.actor.organisation,
            municipality: &req.actor.municipality,
        };
        let events = decide(&child, cmd, &ctx).map_err(|e| e.to_problem())?;
        self.append(
            req,
            child_id,
            &municipality,
            ExpectedVersion::Exact(child.version),
            &events,
        )
        .await
    }

    async fn pseudonym(&self, bsn: &Bsn) -> Result<String, Problem> {
        let reply: PseudonymReply = kansrijk_runtime::nats::request(
            &self.nats,
            subject::privacy::PSEUDONYM.into(),
            kansrijk_runtime::nats::request_headers(&self.me, None, None),
            &PseudonymRequest {
                domain: BSN_DOMAIN.into(),
                values: vec![bsn.expose().to_owned()],
            },
            Duration::from_secs(5),
        )
        .await?;
        reply
            .pseudonyms
            .into_iter()
            .next()
            .ok_or_else(Problem::internal)
    }

    /// Registers the JGZ retention period of a new child with the privacy service. The VVE part
    /// of JGZ care ends when the child leaves the VVE age window (the fourth birthday, when
    /// primary school starts); the privacy service keeps the record 20 years after that (its
    /// `jgz` policy) and then erases the child's key.
    ///
    /// Idempotent by the registration's command id: the privacy service is asked with an id
    /// derived from it, so a retry gets the first answer (and the same period again with another
    /// command id changes nothing either).
    async fn register_retention(
        &self,
        child_id: Uuid,
        birth: NaiveDate,
        command_id: Option<Uuid>,
    ) -> Result<(), Problem> {
        let care_ends = birth
            .checked_add_months(chrono::Months::new(kansrijk_proto::vve::WINDOW_END_MONTHS))
            .ok_or_else(Problem::internal)?;
        kansrijk_runtime::nats::request::<_, serde_json::Value>(
            &self.nats,
            kansrijk_proto::privacy::subjects::REGISTER_RETENTION.into(),
            kansrijk_runtime::nats::request_headers(
                &self.me,
                command_id.map(|c| kansrijk_runtime::service::derived_id(c, "vve.retention-jgz")),
                None,
            ),
            &kansrijk_proto::privacy::RegisterRetention {
                subject: child_id,
                data_kind: kansrijk_proto::privacy::DataKind::Jgz,
                start_date: care_ends,
            },
            Duration::from_secs(5),
        )
        .await
        .map(|_| ())
        .map_err(|p| {
            tracing::warn!(status = p.status, "retention not registered");
            Problem::unavailable(
                "De bewaartermijn kon niet worden vastgelegd. Probeer het opnieuw.",
            )
        })
    }

    /// Asks the registry which of `lrks` are registered VVE locations, in one lookup
    /// (`registry.vve-locaties`); `None` when the registry did not answer.
    async fn registered_all(
        &self,
        lrks: &[String],
    ) -> Option<std::collections::HashMap<String, bool>> {
        if lrks.is_empty() {
            return Some(Default::default());
        }
        let answer: Result<api::RegistryLocationsAnswer, Problem> =
            kansrijk_runtime::nats::request(
                &self.nats,
                api::registry_locations_subject(),
                kansrijk_runtime::nats::request_headers(&self.me, None, None),
                &api::RegistryLocationsQuery {
                    lrks: lrks.to_vec(),
                },
                self.registry_timeout,
            )
            .await;
        match answer {
            Ok(a) => Some(a.locaties.into_iter().map(|l| (l.lrk, l.vve)).collect()),
            Err(p) => {
                tracing::warn!(
                    status = p.status,
                    "registry of VVE locations did not answer"
                );
                None
            }
        }
    }

    /// Asks the registry whether `district` is one of the municipality's (one lookup).
    async fn check_district(&self, municipality: &str, district: &str) -> DistrictCheck {
        kansrijk_runtime::districts::check_district(
            &self.nats,
            &self.me,
            municipality,
            district,
            self.registry_timeout,
        )
        .await
    }

    // ---- JGZ ----

    pub async fn register(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::REGISTER_CHILD))?;
        let body: api::RegisterChild = req.body()?;
        let now = today();
        let mut f = Fields::default();
        let bsn = f.text("bsn", &body.bsn).and_then(|s| match Bsn::parse(s) {
            Ok(b) => Some(b),
            Err(BsnError::Format) => {
                f.error("bsn", "bsn-formaat", "Een BSN bestaat uit negen cijfers.");
                None
            }
            Err(BsnError::ElevenTest) => {
                f.error(
                    "bsn",
                    "bsn-elfproef",
                    "Dit BSN voldoet niet aan de elfproef.",
                );
                None
            }
        });
        let given_name = f.text("voornaam", &body.voornaam).map(str::to_owned);
        let family_name = f.text("achternaam", &body.achternaam).map(str::to_owned);
        let birth = f.date("geboortedatum", &body.geboortedatum);
        if let Some(b) = birth {
            check::birth_date(&mut f.errors, "geboortedatum", b, now);
        }
        let postcode = f.text("postcode", &body.postcode).and_then(|p| {
            let n = api::normalise_postcode(p);
            if n.is_none() {
                f.error(
                    "postcode",
                    "postcode-ongeldig",
                    "Een postcode schrijft u als 1234 AB.",
                );
            }
            n
        });
        let district = f.text("wijk", &body.wijk).map(str::to_owned);
        let municipality = f.text("gemeente", &body.gemeente).and_then(|g| {
            if api::is_municipality_code(g) {
                Some(g.to_owned())
            } else {
                f.error(
                    "gemeente",
                    "gemeentecode-ongeldig",
                    "Een gemeentecode bestaat uit vier cijfers.",
                );
                None
            }
        });
        let registered_on = f
            .optional_date("ingeschrevenOp", &body.ingeschreven_op)
            .map(|d| d.unwrap_or(now));
        // The district must be one of the registry's (checked before anything is written, and
        // only for the actor's own municipality: another one is refused below).
        let mut districts_unanswered = false;
        let district = match (district, municipality.as_deref()) {
            (Some(d), Some(m)) if m == req.actor.municipality => {
                match self.check_district(m, &d).await {
                    DistrictCheck::Known(name) => Some(name),
                    DistrictCheck::Unknown => {
                        f.error(
                            "wijk",
                            "wijk-onbekend",
                            "Deze wijk staat niet in het register van uw gemeente. Kies een wijk \
                             uit de lijst.",
                        );
                        None
                    }
                    DistrictCheck::Unanswered => {
                        districts_unanswered = true;
                        Some(d)
                    }
                }
            }
            (d, _) => d,
        };
        f.finish()?;
        let (
            Some(bsn),
            Some(given_name),
            Some(family_name),
            Some(birth),
            Some(postcode),
            Some(district),
            Some(municipality),
            Some(registered_on),
        ) = (
            bsn,
            given_name,
            family_name,
            birth,
            postcode,
            district,
            municipality,
            registered_on,
        )
        else {
            return Err(Problem::internal());
        };
        if municipality != req.actor.municipality {
            return Err(Problem::forbidden(
                "U kunt alleen kinderen uit uw eigen gemeente inschrijven.",
            ));
        }
        if let Some(done) = self.replayed(req.command_id).await? {
            return Ok(done);
        }
        if districts_unanswered {
            // Fail closed: an unchecked district would count in the monitor as a district of
            // its own (there is no "unchecked" mark on a registration, as there is on a referral).
            return Err(Problem::unavailable(
                "Het register van wijken is niet bereikbaar. Probeer het later opnieuw.",
            ));
        }
        let pseudonym = self.pseudonym(&bsn).await?;
        // One command, one commit (issue 16): the child's id is reserved first (every try for this
        // child reuses it, so a retry asks for the same key and retention period), the key and the
        // retention period are idempotent steps, and the index row that makes the BSN "already
        // registered" commits with the child's first event or not at all.
        let mut child_id = self.reserve_child(&municipality, &pseudonym).await?;
        let key = match self
            .keys
            .create(child_id, SubjectKind::Kind, &municipality)
            .await
        {
            // The reserved subject was erased before any child was appended (the officer or the
            // retention scheduler shredded a crashed try's key): reserve a new id, once.
            Err(KeyError::Erased) => {
                self.release_reservation(child_id).await?;
                child_id = self.reserve_child(&municipality, &pseudonym).await?;
                self.keys
                    .create(child_id, SubjectKind::Kind, &municipality)
                    .await
            }
            other => other,
        }
        .map_err(|e| e.to_problem())?;
        let personal = key
            .seal(&ChildPersonal {
                bsn: bsn.expose().to_owned(),
                given_name,
                family_name,
                postcode,
                bsn_pseudonym: pseudonym.clone(),
            })
            .map_err(internal("sealing"))?;
        let sealed_birth = key.seal(&birth).map_err(internal("sealing"))?;
        self.register_retention(child_id, birth, req.command_id)
            .await?;
        crate::faults::hit(
            crate::faults::Point::BeforeRegistrationAppend,
            req.command_id,
        );
        let catalogue = Catalogue::default();
        let ctx = Ctx {
            today: now,
            birth_date: Some(birth),
            catalogue: &catalogue,
            organisation: &req.actor.organisation,
            municipality: &req.actor.municipality,
        };
        let events = decide(
            &Child::default(),
            Command::Register {
                municipality: municipality.clone(),
                district,
                registered_on,
                personal,
                birth_date: sealed_birth,
            },
            &ctx,
        )
        .map_err(|e| e.to_problem())?;
        let metadata = Metadata::for_actor(&req.actor, req.command_id, req.traceparent.as_deref());
        let index = {
            let municipality = municipality.clone();
            kansrijk_runtime::store::in_tx(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO vve_child_index (municipality, bsn_pseudonym, child_id)
                         VALUES ($1, $2, $3)",
                    )
                    .bind(&municipality)
                    .bind(&pseudonym)
                    .bind(child_id)
                    .execute(&mut *conn)
                    .await?;
                    // The reservation stays (until the child's erasure): a concurrent try that
                    // checked the index before this commit then reserves this same id, not a new
                    // one, so it cannot leave a key and a retention period of its own behind.
                    Ok(())
                })
            })
        };
        let appended = kansrijk_runtime::service::append_decided_with(
            &self.store,
            metadata,
            child_id,
            &municipality,
            ExpectedVersion::NoStream,
            &events,
            self.relay_wake.as_deref(),
            Some(index),
        )
        .await;
        match appended {
            Ok(a) => Ok(a),
            // Another command registered this child first: the same reserved id (a stream that
            // exists), or an index row of its own for the BSN.
            Err(StoreError::Concurrency { .. }) => Err(already_registered()),
            Err(StoreError::Database(e))
                if e.as_database_error().is_some_and(|d| {
                    d.is_unique_violation() && d.constraint() == Some("vve_child_index_pkey")
                }) =>
            {
                Err(already_registered())
            }
            Err(e) => Err(kansrijk_runtime::service::append_problem(e)),
        }
    }

    /// The id of the child a registration in `municipality` of the BSN with `pseudonym` creates:
    /// the one reserved by an earlier try (crashed or concurrent), or a new one. 409 when the
    /// child is registered.
    async fn reserve_child(&self, municipality: &str, pseudonym: &str) -> Result<Uuid, Problem> {
        let pool = self.store.pool();
        let indexed: Option<(Uuid, bool, bool)> = sqlx::query_as(
            "SELECT i.child_id,
                    EXISTS (SELECT 1 FROM events e WHERE e.stream_id = i.child_id),
                    i.registered_at < now() - interval '5 minutes'
             FROM vve_child_index i WHERE i.municipality = $1 AND i.bsn_pseudonym = $2",
        )
        .bind(municipality)
        .bind(pseudonym)
        .fetch_optional(pool)
        .await
        .map_err(internal("child index"))?;
        match indexed {
            None => {}
            Some((_, true, _)) => return Err(already_registered()),
            // An index row without a child, left by a version that committed the row on its own
            // and crashed before the append (issue 16). Younger than five minutes it may still be
            // such a version's try in flight (during an upgrade); older, it is taken over as this
            // registration's reservation, so the key it was given is used, not orphaned.
            Some((_, false, false)) => return Err(already_registered()),
            Some((orphan, false, true)) => {
                let mut tx = pool.begin().await.map_err(internal("child index"))?;
                sqlx::query(
                    "INSERT INTO vve_child_reservations (municipality, bsn_pseudonym, child_id)
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(municipality)
                .bind(pseudonym)
                .bind(orphan)
                .execute(&mut *tx)
                .await
                .map_err(internal("child reservation"))?;
                sqlx::query(
                    "DELETE FROM vve_child_index i WHERE i.child_id = $1
                       AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = i.child_id)",
                )
                .bind(orphan)
                .execute(&mut *tx)
                .await
                .map_err(internal("child index"))?;
                tx.commit().await.map_err(internal("child index"))?;
            }
        }
        sqlx::query(
            "INSERT INTO vve_child_reservations (municipality, bsn_pseudonym, child_id)
             VALUES ($1, $2, $3) ON CONFLICT (municipality, bsn_pseudonym) DO NOTHING",
        )
        .bind(municipality)
        .bind(pseudonym)
        .bind(Uuid::new_v4())
        .execute(pool)
        .await
        .map_err(internal("child reservation"))?;
        let reserved: Option<Uuid> = sqlx::query_scalar(
            "SELECT child_id FROM vve_child_reservations
             WHERE municipality = $1 AND bsn_pseudonym = $2",
        )
        .bind(municipality)
        .bind(pseudonym)
        .fetch_optional(pool)
        .await
        .map_err(internal("child reservation"))?;
        // Gone in between: the reserved subject was erased.
        reserved.ok_or_else(already_registered)
    }

    /// Drops the reservation of an id whose subject was erased before its child was appended.
    async fn release_reservation(&self, child_id: Uuid) -> Result<(), Problem> {
        sqlx::query("DELETE FROM vve_child_reservations WHERE child_id = $1")
            .bind(child_id)
            .execute(self.store.pool())
            .await
            .map_err(internal("child reservation"))?;
        Ok(())
    }

    pub async fn issue_indication(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::ISSUE_INDICATION))?;
        let body: api::IssueIndication = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let issued_on = f.date("afgegevenOp", &body.afgegeven_op);
        let criteria: Vec<String> = body
            .criteria
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.trim().to_owned())
            .collect();
        f.finish()?;
        let (Some(child_id), Some(issued_on)) = (child_id, issued_on) else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |key| {
            Ok(Command::IssueIndication {
                indication_id: Uuid::new_v4(),
                issued_on,
                sealed_criteria: key.seal(&criteria).map_err(internal("sealing"))?,
                criteria,
            })
        })
        .await
    }

    pub async fn withdraw_indication(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::WITHDRAW_INDICATION))?;
        let body: api::WithdrawIndication = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let on = f.date("ingetrokkenOp", &body.ingetrokken_op);
        let reason = f.code("reden", &body.reden);
        f.finish()?;
        let (Some(child_id), Some(withdrawn_on), Some(reason)) = (child_id, on, reason) else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::WithdrawIndication {
                withdrawn_on,
                reason,
            })
        })
        .await
    }

    pub async fn refer(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::REFER))?;
        let body: api::Refer = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let on = f.date("doorverwezenOp", &body.doorverwezen_op);
        let lrks: Vec<String> = body
            .locaties
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.trim().to_owned())
            .collect();
        if lrks.is_empty() {
            f.error("locaties", "verplicht", "Noem ten minste een VVE-locatie.");
        }
        let ids = body.verwijzing_ids.unwrap_or_default();
        if !ids.is_empty() && ids.len() != lrks.len() {
            f.error(
                "verwijzingIds",
                "aantal-ongelijk",
                "Geef voor elke locatie een verwijzing-id, of geen.",
            );
        }
        let ids: Vec<Option<Uuid>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| f.uuid(&format!("verwijzingIds[{i}]"), &Some(id.clone())))
            .collect();
        let mut locations = Vec::new();
        // One registry lookup for every well-formed number (never one per location).
        let well_formed: Vec<String> = lrks.iter().filter(|l| check::is_lrk(l)).cloned().collect();
        // (`Request::body` has refused more than `api::MAX_LOCATIONS` already.)
        let answers = self.registered_all(&well_formed).await;
        let unanswered = answers.is_none();
        for (i, lrk) in lrks.iter().enumerate() {
            let name = format!("locaties[{i}]");
            if !check::is_lrk(lrk) {
                check::lrk(&mut f.errors, &name, lrk);
                continue;
            }
            let checked = match answers
                .as_ref()
                .map(|a| a.get(lrk).copied().unwrap_or(false))
            {
                Some(true) => true,
                Some(false) => {
                    f.errors.push(FieldError::new(
                        name,
                        "lrk-niet-geregistreerd",
                        "Deze locatie staat niet als VVE-locatie in het register.",
                    ));
                    continue;
                }
                None => false,
            };
            let id = ids.get(i).copied().flatten().unwrap_or_else(Uuid::new_v4);
            locations.push((id, lrk.clone(), checked));
        }
        f.finish()?;
        if unanswered && self.registry_mode == RegistryMode::Strict {
            return Err(Problem::unavailable(
                "Het register van VVE-locaties is niet bereikbaar. Probeer het later opnieuw.",
            ));
        }
        let (Some(child_id), Some(referred_on)) = (child_id, on) else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::Refer {
                referred_on,
                locations,
            })
        })
        .await
    }

    pub async fn record_outreach(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::RECORD_OUTREACH))?;
        let body: api::RecordOutreach = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let on = f.date("datum", &body.datum);
        let channel = f.code("kanaal", &body.kanaal);
        let outcome = f.code("uitkomst", &body.uitkomst);
        f.finish()?;
        let (Some(child_id), Some(attempted_on), Some(channel), Some(outcome)) =
            (child_id, on, channel, outcome)
        else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::RecordOutreach {
                attempted_on,
                channel,
                outcome,
            })
        })
        .await
    }

    pub async fn record_declined(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::RECORD_DECLINED))?;
        let body: api::RecordDeclined = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let on = f.date("datum", &body.datum);
        let reason = f.code("reden", &body.reden);
        f.finish()?;
        let (Some(child_id), Some(declined_on), Some(reason)) = (child_id, on, reason) else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::RecordDeclined {
                declined_on,
                reason,
            })
        })
        .await
    }

    pub async fn record_moved_away(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::RECORD_MOVED_AWAY))?;
        let body: api::RecordMovedAway = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let on = f.date("verhuisdOp", &body.verhuisd_op);
        f.finish()?;
        let (Some(child_id), Some(moved_on)) = (child_id, on) else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::RecordMovedAway { moved_on })
        })
        .await
    }

    // ---- childcare ----

    pub async fn accept_referral(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::ACCEPT_REFERRAL))?;
        let body: api::AcceptReferral = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let referral_id = f.uuid("verwijzingId", &body.verwijzing_id);
        let on = f.date("datum", &body.datum);
        f.finish()?;
        let (Some(child_id), Some(referral_id), Some(accepted_on)) = (child_id, referral_id, on)
        else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::AcceptReferral {
                referral_id,
                accepted_on,
            })
        })
        .await
    }

    pub async fn put_on_waiting_list(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::WAITING_LIST))?;
        let body: api::PutOnWaitingList = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let referral_id = f.uuid("verwijzingId", &body.verwijzing_id);
        let on = f.date("datum", &body.datum);
        let expected = f.optional_date("verwachteStart", &body.verwachte_start);
        f.finish()?;
        let (Some(child_id), Some(referral_id), Some(listed_on), Some(expected_start)) =
            (child_id, referral_id, on, expected)
        else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::PutOnWaitingList {
                referral_id,
                listed_on,
                expected_start,
            })
        })
        .await
    }

    pub async fn start_placement(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::START_PLACEMENT))?;
        let body: api::StartPlacement = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let placement_id = f.optional_uuid("plaatsingId", &body.plaatsing_id);
        let start = f.date("startdatum", &body.startdatum);
        let hours = f.number("urenPerWeek", body.uren_per_week);
        if let Some(h) = hours {
            check::hours_per_week(&mut f.errors, "urenPerWeek", h);
        }
        let referral_id = f.optional_uuid("verwijzingId", &body.verwijzing_id);
        f.finish()?;
        let (Some(child_id), Some(placement_id), Some(start_on), Some(hours), Some(referral_id)) =
            (child_id, placement_id, start, hours, referral_id)
        else {
            return Err(Problem::internal());
        };
        let hours_per_week = u8::try_from(hours).map_err(|_| Problem::internal())?;
        self.on_child(&req, child_id, |_| {
            Ok(Command::StartPlacement {
                placement_id: placement_id.unwrap_or_else(Uuid::new_v4),
                start_on,
                hours_per_week,
                referral_id,
            })
        })
        .await
    }

    pub async fn change_hours(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::CHANGE_HOURS))?;
        let body: api::ChangeHours = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let placement_id = f.uuid("plaatsingId", &body.plaatsing_id);
        let from = f.date("perDatum", &body.per_datum);
        let hours = f.number("urenPerWeek", body.uren_per_week);
        if let Some(h) = hours {
            check::hours_per_week(&mut f.errors, "urenPerWeek", h);
        }
        f.finish()?;
        let (Some(child_id), Some(placement_id), Some(from_on), Some(hours)) =
            (child_id, placement_id, from, hours)
        else {
            return Err(Problem::internal());
        };
        let hours_per_week = u8::try_from(hours).map_err(|_| Problem::internal())?;
        self.on_child(&req, child_id, |_| {
            Ok(Command::ChangeHours {
                placement_id,
                from_on,
                hours_per_week,
            })
        })
        .await
    }

    pub async fn end_placement(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::END_PLACEMENT))?;
        let body: api::EndPlacement = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let placement_id = f.uuid("plaatsingId", &body.plaatsing_id);
        let end = f.date("einddatum", &body.einddatum);
        let reason = f.code("reden", &body.reden);
        f.finish()?;
        let (Some(child_id), Some(placement_id), Some(end_on), Some(reason)) =
            (child_id, placement_id, end, reason)
        else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::EndPlacement {
                placement_id,
                end_on,
                reason,
            })
        })
        .await
    }

    pub async fn record_attendance(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::RECORD_ATTENDANCE))?;
        let body: api::RecordAttendance = req.body()?;
        let mut f = Fields::default();
        let child_id = f.uuid("kindId", &body.kind_id);
        let placement_id = f.uuid("plaatsingId", &body.plaatsing_id);
        let month = f.text("maand", &body.maand).map(str::to_owned);
        let hours = f.number("uren", body.uren).and_then(|h| {
            let h = u16::try_from(h).ok();
            if h.is_none() {
                f.error(
                    "uren",
                    "uren-buiten-bereik",
                    "Het aantal uren in een maand ligt tussen 0 en 200.",
                );
            }
            h
        });
        f.finish()?;
        let (Some(child_id), Some(placement_id), Some(month), Some(hours)) =
            (child_id, placement_id, month, hours)
        else {
            return Err(Problem::internal());
        };
        self.on_child(&req, child_id, |_| {
            Ok(Command::RecordAttendance {
                placement_id,
                month,
                hours,
            })
        })
        .await
    }

    // ---- municipality ----

    pub async fn define_target_group(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(commands::DEFINE_TARGET_GROUP))?;
        let body: api::DefineTargetGroup = req.body()?;
        let mut f = Fields::default();
        let now = today();
        let year = f.number("geldigVanaf", body.geldig_vanaf.map(i64::from));
        if let Some(y) = year {
            if y < 2000 || y > i64::from(now.year()) + 1 {
                f.error(
                    "geldigVanaf",
                    "jaar-buiten-bereik",
                    "Een doelgroepdefinitie geldt vanaf een jaar tussen 2000 en volgend jaar.",
                );
            }
        }
        let raw = body.criteria.unwrap_or_default();
        if raw.is_empty() {
            f.error("criteria", "verplicht", "Noem ten minste een criterium.");
        }
        let mut criteria: Vec<Criterion> = Vec::new();
        for (i, c) in raw.iter().enumerate() {
            let code = f.text(&format!("criteria[{i}].code"), &c.code);
            let description = f.text(&format!("criteria[{i}].omschrijving"), &c.omschrijving);
            if let Some(code) = code {
                let kebab = code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !code.starts_with('-')
                    && !code.ends_with('-');
                if !kebab {
                    f.error(
                        format!("criteria[{i}].code"),
                        "code-ongeldig",
                        "Een code bestaat uit kleine letters, cijfers en koppeltekens.",
                    );
                } else if criteria.iter().any(|c| c.code == code) {
                    f.error(
                        format!("criteria[{i}].code"),
                        "criterium-dubbel",
                        "Deze code staat er al.",
                    );
                }
                if let Some(d) = description {
                    criteria.push(Criterion {
                        code: code.to_owned(),
                        description: d.to_owned(),
                    });
                }
            }
        }
        f.finish()?;
        let Some(year) = year else {
            return Err(Problem::internal());
        };
        if let Some(done) = self.replayed(req.command_id).await? {
            return Ok(done);
        }
        let municipality = req.actor.municipality.clone();
        let stream = target_group_stream(&municipality);
        let version = self
            .store
            .stream_version(stream)
            .await
            .map_err(internal("reading definitions"))?;
        let event: TargetGroupEvent = TargetGroupDefined {
            municipality: municipality.clone(),
            valid_from_year: i32::try_from(year).map_err(|_| Problem::internal())?,
            criteria,
            defined_at: Utc::now(),
        }
        .into();
        debug_assert_eq!(TargetGroupEvent::STREAM_TYPE, STREAM_TARGET_GROUP);
        self.append(
            &req,
            stream,
            &municipality,
            ExpectedVersion::Exact(version),
            &[event],
        )
        .await
    }

    pub async fn target_groups(
        self: Arc<Self>,
        req: Request,
    ) -> Result<api::TargetGroupDefinitions, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(queries::TARGET_GROUPS))?;
        let municipality = req.actor.municipality.clone();
        let catalogue = self.catalogue(&municipality).await?;
        Ok(api::TargetGroupDefinitions {
            definities: catalogue
                .of(&municipality)
                .into_iter()
                .map(|(year, criteria)| api::TargetGroupDefinition {
                    geldig_vanaf: year,
                    criteria: criteria
                        .iter()
                        .map(|c| api::CriterionOut {
                            code: c.code.clone(),
                            omschrijving: c.description.clone(),
                        })
                        .collect(),
                })
                .collect(),
            gemeente: municipality,
        })
    }
}

impl Service {
    /// Everything the VVE record holds about one child, opened, for the privacy officer (AVG
    /// art. 15). An erased child's record is unreadable: the part says so and holds nothing else.
    pub async fn subject_access(
        self: Arc<Self>,
        req: Request,
    ) -> Result<SubjectAccessPart, Problem> {
        kansrijk_policy::require(&req.actor, &api::action(queries::SUBJECT_ACCESS))?;
        let body: SubjectAccessRequest = req.json()?;
        let subject_id = body.subject;
        let mut part = SubjectAccessPart {
            service: api::SERVICE.into(),
            subject: subject_id,
            sections: Vec::new(),
        };
        let stored = self
            .store
            .read_stream(subject_id)
            .await
            .map_err(internal("reading stream"))?;
        if stored.is_empty() || stored.iter().any(|s| s.stream_type != STREAM_CHILD) {
            return Ok(part);
        }
        let key = match self.keys.get(subject_id).await {
            Ok(k) => k,
            Err(KeyError::Erased) => {
                part.sections.push(SubjectAccessSection {
                    title: "VVE-dossier".into(),
                    category: DataCategory::Administrative,
                    data: serde_json::json!({ "gewist": true }),
                });
                return Ok(part);
            }
            Err(e) => return Err(e.to_problem()),
        };
        let mut registration = serde_json::Value::Null;
        let (mut indications, mut course, mut placements) = (Vec::new(), Vec::new(), Vec::new());
        for s in &stored {
            let e: ChildEvent = s.decode().map_err(internal("decoding event"))?;
            let mut data = s.data.clone();
            let entry = |data: serde_json::Value| serde_json::json!({ "gebeurtenis": s.event_type.name(), "datum": s.recorded_at, "gegevens": data });
            match &e {
                ChildEvent::Registered(r) => {
                    let p = key.open(&r.personal).map_err(internal("opening"))?;
                    let b = key.open(&r.birth_date).map_err(internal("opening"))?;
                    data["persoonsgegevens"] =
                        serde_json::to_value(&p).map_err(internal("encoding"))?;
                    data["geboortedatum"] =
                        serde_json::to_value(b).map_err(internal("encoding"))?;
                    if let Some(o) = data["persoonsgegevens"].as_object_mut() {
                        o.remove("bsnPseudoniem");
                    }
                    registration = data;
                }
                ChildEvent::IndicationIssued(i) => {
                    let c = key.open(&i.criteria).map_err(internal("opening"))?;
                    data["criteria"] = serde_json::to_value(c).map_err(internal("encoding"))?;
                    indications.push(entry(data));
                }
                ChildEvent::IndicationWithdrawn(_) => indications.push(entry(data)),
                ChildEvent::Referred(_)
                | ChildEvent::Outreach(_)
                | ChildEvent::Declined(_)
                | ChildEvent::MovedAway(_)
                | ChildEvent::ReferralAccepted(_)
                | ChildEvent::WaitingListed(_) => course.push(entry(data)),
                ChildEvent::PlacementStarted(_)
                | ChildEvent::HoursChanged(_)
                | ChildEvent::PlacementEnded(_)
                | ChildEvent::Attendance(_) => placements.push(entry(data)),
            }
        }
        part.sections = vec![
            SubjectAccessSection {
                title: "Inschrijving".into(),
                category: DataCategory::Identifying,
                data: registration,
            },
            SubjectAccessSection {
                title: "VVE-indicaties".into(),
                category: DataCategory::Health,
                data: indications.into(),
            },
            SubjectAccessSection {
                title: "Toeleiding en verwijzingen".into(),
                category: DataCategory::Administrative,
                data: course.into(),
            },
            SubjectAccessSection {
                title: "Plaatsingen".into(),
                category: DataCategory::Administrative,
                data: placements.into(),
            },
        ];
        // The export is logged before the data leaves the service.
        self.access_log
            .record(vec![AccessEntry::new(
                &req.actor,
                AccessEvent::Export,
                &api::action(queries::SUBJECT_ACCESS),
                Some(subject_id),
                AccessOutcome::Success,
                req.traceparent.as_deref(),
            )])
            .await?;
        Ok(part)
    }
}

fn ep<T, F, Fut>(svc: &Arc<Service>, f: F) -> Handler
where
    T: serde::Serialize + 'static,
    F: Fn(Arc<Service>, Request) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, Problem>> + Send + 'static,
{
    let svc = svc.clone();
    handler(move |req| f(svc.clone(), req))
}

/// A command endpoint: its result settled against a first try that committed meanwhile.
fn cmd<F, Fut>(svc: &Arc<Service>, f: F) -> Handler
where
    F: Fn(Arc<Service>, Request) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<CommandAccepted, Problem>> + Send + 'static,
{
    kansrijk_runtime::service::command_endpoint(svc, |s| &s.store, f)
}

/// Every endpoint of the service, by subject.
pub fn endpoints(svc: &Arc<Service>) -> Endpoints {
    let mut e = Endpoints::new();
    let s = api::command_subject;
    e.insert(s(commands::REGISTER_CHILD), cmd(svc, Service::register));
    e.insert(
        s(commands::ISSUE_INDICATION),
        cmd(svc, Service::issue_indication),
    );
    e.insert(
        s(commands::WITHDRAW_INDICATION),
        cmd(svc, Service::withdraw_indication),
    );
    e.insert(s(commands::REFER), cmd(svc, Service::refer));
    e.insert(
        s(commands::RECORD_OUTREACH),
        cmd(svc, Service::record_outreach),
    );
    e.insert(
        s(commands::RECORD_DECLINED),
        cmd(svc, Service::record_declined),
    );
    e.insert(
        s(commands::RECORD_MOVED_AWAY),
        cmd(svc, Service::record_moved_away),
    );
    e.insert(
        s(commands::ACCEPT_REFERRAL),
        cmd(svc, Service::accept_referral),
    );
    e.insert(
        s(commands::WAITING_LIST),
        cmd(svc, Service::put_on_waiting_list),
    );
    e.insert(
        s(commands::START_PLACEMENT),
        cmd(svc, Service::start_placement),
    );
    e.insert(s(commands::CHANGE_HOURS), cmd(svc, Service::change_hours));
    e.insert(s(commands::END_PLACEMENT), cmd(svc, Service::end_placement));
    e.insert(
        s(commands::RECORD_ATTENDANCE),
        cmd(svc, Service::record_attendance),
    );
    e.insert(
        s(commands::DEFINE_TARGET_GROUP),
        cmd(svc, Service::define_target_group),
    );
    e.insert(
        api::query_subject(queries::TARGET_GROUPS),
        ep(svc, Service::target_groups),
    );
    e.insert(
        api::query_subject(queries::SUBJECT_ACCESS),
        ep(svc, Service::subject_access),
    );
    // A refused read (403/404 on a query) is in the access log (issue 17 item 9).
    kansrijk_runtime::access_log::log_refused_reads(
        e,
        &svc.access_log,
        kansrijk_runtime::access_log::is_query,
    )
}

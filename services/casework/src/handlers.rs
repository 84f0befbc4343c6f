//! The NATS endpoints of the casework service: load the case's stream, seal the personal parts
//! with the family's key, decide, append with the loaded version and the request's command id.
//!
//! Two commands reach the privacy service as well:
//! - `veilig-thuis-melden` places a legal hold on the family (`bewaarplicht-opleggen`) and writes
//!   a break-glass entry to the access log *before* the escalation is appended: an escalation
//!   that is stored is always under a hold and logged. Both calls are idempotent, so a retry with
//!   the same Idempotency-Key is safe.
//! - `casus-sluiten` registers the start of the case's retention (`bewaartermijn-registreren`)
//!   after the closing is appended; if the privacy service does not answer, the reply is a 503
//!   and a retry with the same Idempotency-Key registers it (the closing is not appended twice).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use chrono::{NaiveDate, Utc};
use kansrijk_proto::actor::{Actor, Purpose};
use kansrijk_proto::casework::{
    subjects, CaseEvent, Household, HouseholdMember, PlanPart, DEFAULT_DIRECTION_BUDGET_HOURS,
};
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::event::EventSet;
use kansrijk_proto::privacy::{
    subjects as privacy_subjects, DataKind, PlaceLegalHold, RegisterRetention, SubjectAccessPart,
    SubjectAccessRequest, SubjectAccessSection, SubjectKind,
};
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::sealed::Sealed;
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessLogClient, AccessOutcome};
use kansrijk_runtime::crypto::SubjectKey;
use kansrijk_runtime::keys::KeyClient;
use kansrijk_runtime::service::{handler, Endpoints, Handler, Request};
use kansrijk_runtime::store::{EventStore, ExpectedVersion, Metadata};
use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::api::{self, check_list, check_members, check_text, MAX_MINUTES_TEXT, MAX_TEXT};
use crate::config::Config;
use crate::domain::{decide, Case, Command, Ctx, DomainError};

/// The reason code of the legal hold an escalation places.
pub const HOLD_REASON: &str = "veilig-thuis-melding";
/// The access point recorded for the escalation's break-glass entry.
pub const ESCALATION_ACCESS_POINT: &str = "casework.veilig-thuis-melden";

pub use kansrijk_runtime::districts::districts_subject;
use kansrijk_runtime::districts::DistrictCheck;

/// The casework service's state shared by its endpoints.
#[derive(Debug)]
pub struct Service {
    store: EventStore,
    nats: Client,
    keys: KeyClient,
    access_log: AccessLogClient,
    /// The service's own identity towards the privacy service.
    actor: Actor,
    privacy_timeout: Duration,
    wake: Option<Arc<Notify>>,
}

/// A decided command, not yet appended.
struct Decided {
    case_id: Uuid,
    events: Vec<CaseEvent>,
    expected: ExpectedVersion,
    municipality: String,
}

/// What preparing a command led to.
enum Step {
    /// The command id was seen before: its first result, and the case as it is now.
    Replayed(CommandAccepted, Box<Case>),
    Decided(Box<Decided>),
}

fn internal<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> Problem {
    move |e| {
        tracing::error!(error = %e, what, "casework internal error");
        Problem::internal()
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The outcome of a decision, with the request's own field errors (free texts, lists) joined to
/// the domain's, so that a 400 lists every field error at once. A refusal (403, 404) comes
/// before invalid input; invalid input before a state conflict (409).
fn decided(
    result: Result<Vec<CaseEvent>, DomainError>,
    mut errors: Vec<FieldError>,
) -> Result<Vec<CaseEvent>, Problem> {
    match result {
        Err(e @ (DomainError::Forbidden(_) | DomainError::NotFound(_))) => Err(e.to_problem()),
        Err(DomainError::Invalid(mut more)) => {
            errors.append(&mut more);
            Err(Problem::invalid(errors))
        }
        _ if !errors.is_empty() => Err(Problem::invalid(errors)),
        Err(e) => Err(e.to_problem()),
        Ok(events) => Ok(events),
    }
}

impl Service {
    pub fn new(
        store: EventStore,
        nats: Client,
        config: &Config,
        wake: Option<Arc<Notify>>,
    ) -> Self {
        let actor =
            kansrijk_runtime::identity::service_actor(subjects::SERVICE, &config.common.oin);
        Service {
            store,
            keys: KeyClient::new(nats.clone(), actor.clone(), config.key_ttl),
            access_log: AccessLogClient::new(nats.clone(), actor.clone())
                .with_timeout(config.privacy_timeout),
            nats,
            actor,
            privacy_timeout: config.privacy_timeout,
            wake,
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Drops a cached family key (after an erasure).
    pub fn forget_key(&self, subject: Uuid) {
        self.keys.forget(subject);
    }

    /// The first result of a command id, if it was appended before.
    async fn replayed(&self, command_id: Option<Uuid>) -> Result<Option<CommandAccepted>, Problem> {
        kansrijk_runtime::service::replayed(&self.store, command_id).await
    }

    /// The case's state from its stream.
    pub async fn load(&self, case_id: Uuid) -> Result<Case, Problem> {
        let stored = self
            .store
            .read_stream(case_id)
            .await
            .map_err(internal("reading a case"))?;
        let mut case = Case::default();
        for e in &stored {
            let event: CaseEvent = e.decode().map_err(internal("decoding a case event"))?;
            case.apply(&event);
        }
        Ok(case)
    }

    fn ctx<'a>(actor: &'a Actor) -> Ctx<'a> {
        Ctx {
            today: today(),
            organisation: &actor.organisation,
            organisation_type: actor.organisation_type,
            person: &actor.person,
            municipality: &actor.municipality,
        }
    }

    /// Authorises, replays a known command id, loads the case, opens its key, builds the
    /// command (sealing with the key) and decides.
    async fn prepare(
        &self,
        req: &Request,
        mut errors: Vec<FieldError>,
        action: &str,
        case_id: Uuid,
        make: impl FnOnce(&Case, &SubjectKey) -> Result<Command, Problem>,
    ) -> Result<Step, Problem> {
        kansrijk_policy::require(&req.actor, action)?;
        if let Some(first) = self.replayed(req.command_id).await? {
            let case = self.load(first.stream_id).await?;
            return Ok(Step::Replayed(first, Box::new(case)));
        }
        let case = self.load(case_id).await?;
        let Some(opened) = &case.opened else {
            return Err(Problem::not_found("Deze casus is niet bekend."));
        };
        if opened.municipality != req.actor.municipality {
            return Err(Problem::not_found("Deze casus is niet bekend."));
        }
        let municipality = opened.municipality.clone();
        let key = self.keys.get(case_id).await.map_err(|e| e.to_problem())?;
        let cmd = make(&case, &key)?;
        let events = decided(
            decide(&case, cmd, &Self::ctx(&req.actor)),
            std::mem::take(&mut errors),
        )?;
        Ok(Step::Decided(Box::new(Decided {
            case_id,
            expected: ExpectedVersion::Exact(case.version),
            events,
            municipality,
        })))
    }

    /// Appends a decided command.
    /// Appends a decided command.
    async fn commit(&self, req: &Request, d: &Decided) -> Result<CommandAccepted, Problem> {
        let metadata = Metadata::for_actor(&req.actor, req.command_id, req.traceparent.as_deref());
        kansrijk_runtime::service::append_decided(
            &self.store,
            metadata,
            d.case_id,
            &d.municipality,
            d.expected,
            &d.events,
            self.wake.as_deref(),
        )
        .await
    }

    /// The common path of a command without side effects.
    async fn execute(
        &self,
        req: &Request,
        errors: Vec<FieldError>,
        action: &str,
        case_id: Uuid,
        make: impl FnOnce(&Case, &SubjectKey) -> Result<Command, Problem>,
    ) -> Result<CommandAccepted, Problem> {
        match self.prepare(req, errors, action, case_id, make).await? {
            Step::Replayed(first, _) => Ok(first),
            Step::Decided(d) => self.commit(req, &d).await,
        }
    }

    /// Asks the registry whether `district` is one of the municipality's (one lookup).
    async fn check_district(&self, municipality: &str, district: &str) -> DistrictCheck {
        kansrijk_runtime::districts::check_district(
            &self.nats,
            &self.actor,
            municipality,
            district,
            self.privacy_timeout,
        )
        .await
    }

    async fn privacy_request<B: Serialize>(&self, subject: &str, body: &B) -> Result<(), Problem> {
        kansrijk_runtime::nats::request::<B, serde_json::Value>(
            &self.nats,
            subject.to_owned(),
            kansrijk_runtime::nats::request_headers(&self.actor, None, None),
            body,
            self.privacy_timeout,
        )
        .await
        .map(|_| ())
    }

    // -----------------------------------------------------------------------------------------
    // Commands
    // -----------------------------------------------------------------------------------------

    pub async fn open_case(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        kansrijk_policy::require(&req.actor, "casework.casus-openen")?;
        let b: api::OpenCase = req.body()?;
        if let Some(first) = self.replayed(req.command_id).await? {
            return Ok(first);
        }
        let mut errors = Vec::new();
        check_members(&mut errors, &b.gezinsleden);
        // Derived from the command id when the client names none: a retry of a try that crashed
        // after the family's key was created opens the case under that key, not a second one.
        let case_id = b
            .casus_id
            .or_else(|| {
                req.command_id
                    .map(|c| kansrijk_runtime::service::derived_id(c, "casework.casus"))
            })
            .unwrap_or_else(Uuid::new_v4);
        let case = self.load(case_id).await?;
        if case.exists() {
            return Err(Problem::conflict(
                "casus-bestaat-al",
                "Deze casus bestaat al.",
            ));
        }
        let household = Household {
            members: b
                .gezinsleden
                .iter()
                .map(|m| HouseholdMember {
                    member_id: Uuid::new_v4(),
                    role: m.rol,
                    given_name: m.voornaam.trim().to_owned(),
                    family_name: m.achternaam.trim().to_owned(),
                    birth_date: m.geboortedatum,
                    record: m.dossier.clone(),
                })
                .collect(),
        };
        // The district must be one of the registry's for the actor's municipality (one lookup),
        // in the registry's spelling; an empty one is the domain's field error.
        let mut district = b.wijk.trim().to_owned();
        let mut districts_unanswered = false;
        if !district.is_empty() && district.len() <= 80 {
            match self
                .check_district(&req.actor.municipality, &district)
                .await
            {
                DistrictCheck::Known(name) => district = name,
                DistrictCheck::Unknown => errors.push(FieldError::new(
                    "wijk",
                    "wijk-onbekend",
                    "Deze wijk staat niet in het register van uw gemeente. Kies een wijk uit \
                     de lijst.",
                )),
                DistrictCheck::Unanswered => districts_unanswered = true,
            }
        }
        // Decide before the key exists: a refused opening creates no subject at the privacy service.
        let probe = SubjectKey::generate(case_id, 0);
        let cmd = |household| Command::Open {
            municipality: req.actor.municipality.clone(),
            district: district.clone(),
            opened_on: b.geopend_op,
            direction_budget_hours: b.urenbudget_regie.unwrap_or(DEFAULT_DIRECTION_BUDGET_HOURS),
            household,
        };
        let ctx = Self::ctx(&req.actor);
        let sealed_probe = probe.seal(&household).map_err(internal("sealing"))?;
        decided(decide(&case, cmd(sealed_probe), &ctx), errors)?;
        if districts_unanswered {
            // Fail closed: an unchecked district would be a district of its own in the figures.
            return Err(Problem::unavailable(
                "Het register van wijken is niet bereikbaar. Probeer het later opnieuw.",
            ));
        }
        let key = self
            .keys
            .create(case_id, SubjectKind::Gezin, &req.actor.municipality)
            .await
            .map_err(|e| e.to_problem())?;
        let sealed = key.seal(&household).map_err(internal("sealing"))?;
        let events = decide(&case, cmd(sealed), &ctx).map_err(|e| e.to_problem())?;
        self.commit(
            &req,
            &Decided {
                case_id,
                events,
                expected: ExpectedVersion::NoStream,
                municipality: req.actor.municipality.clone(),
            },
        )
        .await
    }

    pub async fn add_participant(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::AddParticipant = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.deelnemer-toevoegen",
            b.casus_id,
            |_, _| {
                Ok(Command::AddParticipant {
                    organisation: b.organisatie.trim().to_owned(),
                    organisation_type: b.organisatietype,
                    joined_on: b.datum,
                })
            },
        )
        .await
    }

    pub async fn remove_participant(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::RemoveParticipant = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.deelnemer-verwijderen",
            b.casus_id,
            |_, _| {
                Ok(Command::RemoveParticipant {
                    organisation: b.organisatie.trim().to_owned(),
                    left_on: b.datum,
                })
            },
        )
        .await
    }

    pub async fn grant_consent(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::GrantConsent = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.toestemming-registreren",
            b.casus_id,
            |_, _| {
                Ok(Command::GrantConsent {
                    consent_id: b.toestemming_id.unwrap_or_else(Uuid::new_v4),
                    organisation: b.organisatie.trim().to_owned(),
                    scope: b.onderdelen,
                    purpose: b.doel.unwrap_or(Purpose::Casusregie),
                    granted_on: b.gegeven_op,
                    valid_until: b.geldig_tot,
                    granted_by: b.gegeven_door,
                })
            },
        )
        .await
    }

    pub async fn revoke_consent(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::RevokeConsent = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.toestemming-intrekken",
            b.casus_id,
            |_, _| {
                Ok(Command::RevokeConsent {
                    consent_id: b.toestemming_id,
                    revoked_on: b.ingetrokken_op,
                })
            },
        )
        .await
    }

    pub async fn record_strengths(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::RecordStrengths = req.body()?;
        let mut errors = Vec::new();
        check_list(&mut errors, "sterkePunten", &b.sterke_punten);
        self.execute(
            &req,
            errors,
            "casework.sterke-punten-vastleggen",
            b.casus_id,
            |_, key| {
                Ok(Command::RecordStrengths {
                    strengths: key.seal(&b.sterke_punten).map_err(internal("sealing"))?,
                    recorded_on: b.vastgelegd_op,
                })
            },
        )
        .await
    }

    pub async fn record_concern(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::RecordConcern = req.body()?;
        let mut errors = Vec::new();
        check_text(&mut errors, "omschrijving", &b.omschrijving, MAX_TEXT);
        self.execute(
            &req,
            errors,
            "casework.zorg-vastleggen",
            b.casus_id,
            |_, key| {
                Ok(Command::RecordConcern {
                    concern_id: b.zorg_id.unwrap_or_else(Uuid::new_v4),
                    priority: b.prioriteit,
                    description: key.seal(&b.omschrijving).map_err(internal("sealing"))?,
                    recorded_on: b.vastgelegd_op,
                })
            },
        )
        .await
    }

    pub async fn record_network(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::RecordNetwork = req.body()?;
        let mut errors = Vec::new();
        check_list(&mut errors, "inzet", &b.inzet);
        self.execute(
            &req,
            errors,
            "casework.netwerk-vastleggen",
            b.casus_id,
            |_, key| {
                Ok(Command::RecordNetwork {
                    contributions: key.seal(&b.inzet).map_err(internal("sealing"))?,
                    recorded_on: b.vastgelegd_op,
                })
            },
        )
        .await
    }

    pub async fn set_goal(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::SetGoal = req.body()?;
        let mut errors = Vec::new();
        check_text(&mut errors, "omschrijving", &b.omschrijving, MAX_TEXT);
        self.execute(
            &req,
            errors,
            "casework.doel-stellen",
            b.casus_id,
            |_, key| {
                Ok(Command::SetGoal {
                    goal_id: b.doel_id.unwrap_or_else(Uuid::new_v4),
                    concern_id: b.zorg_id,
                    description: key.seal(&b.omschrijving).map_err(internal("sealing"))?,
                    target_date: b.streefdatum,
                    set_on: b.gesteld_op,
                })
            },
        )
        .await
    }

    pub async fn change_goal_status(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::ChangeGoalStatus = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.doelstatus-wijzigen",
            b.casus_id,
            |_, _| {
                Ok(Command::ChangeGoalStatus {
                    goal_id: b.doel_id,
                    status: b.status,
                    on: b.datum,
                })
            },
        )
        .await
    }

    pub async fn assign_action(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::AssignAction = req.body()?;
        let mut errors = Vec::new();
        check_text(&mut errors, "omschrijving", &b.omschrijving, MAX_TEXT);
        self.execute(
            &req,
            errors,
            "casework.actie-toewijzen",
            b.casus_id,
            |_, key| {
                Ok(Command::AssignAction {
                    action_id: b.actie_id.unwrap_or_else(Uuid::new_v4),
                    goal_id: b.doel_id,
                    organisation: b.organisatie.trim().to_owned(),
                    description: key.seal(&b.omschrijving).map_err(internal("sealing"))?,
                    due_on: b.deadline,
                    assigned_on: b.toegewezen_op,
                })
            },
        )
        .await
    }

    pub async fn change_action_status(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::ChangeActionStatus = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.actiestatus-wijzigen",
            b.casus_id,
            |_, _| {
                Ok(Command::ChangeActionStatus {
                    action_id: b.actie_id,
                    status: b.status,
                    on: b.datum,
                })
            },
        )
        .await
    }

    pub async fn adopt_plan(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::AdoptPlan = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.plan-vaststellen",
            b.casus_id,
            |_, _| {
                Ok(Command::AdoptPlan {
                    adopted_on: b.vastgesteld_op,
                })
            },
        )
        .await
    }

    pub async fn schedule_review(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::ScheduleReview = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.evaluatie-plannen",
            b.casus_id,
            |_, _| {
                Ok(Command::ScheduleReview {
                    review_id: b.evaluatie_id.unwrap_or_else(Uuid::new_v4),
                    planned_on: b.gepland,
                })
            },
        )
        .await
    }

    pub async fn record_review(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::RecordReview = req.body()?;
        let mut errors = Vec::new();
        check_text(&mut errors, "verslag", &b.verslag, MAX_MINUTES_TEXT);
        self.execute(
            &req,
            errors,
            "casework.evaluatie-vastleggen",
            b.casus_id,
            |_, key| {
                Ok(Command::RecordReview {
                    review_id: b.evaluatie_id,
                    held_on: b.gehouden_op,
                    minutes: key.seal(&b.verslag).map_err(internal("sealing"))?,
                })
            },
        )
        .await
    }

    pub async fn record_hours(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::RecordHours = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.uren-registreren",
            b.casus_id,
            |_, _| {
                Ok(Command::RecordHours {
                    on: b.datum,
                    minutes: b.minuten,
                    kind: b.soort,
                })
            },
        )
        .await
    }

    pub async fn set_hours_budget(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::SetHoursBudget = req.body()?;
        self.execute(
            &req,
            Vec::new(),
            "casework.urenbudget-vaststellen",
            b.casus_id,
            |_, _| {
                Ok(Command::SetHoursBudget {
                    organisation: b.organisatie.trim().to_owned(),
                    hours: b.uren,
                })
            },
        )
        .await
    }

    /// Decides, places the legal hold, logs the break-glass opening of the safety part, appends.
    pub async fn escalate(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::Escalate = req.body()?;
        let mut errors = Vec::new();
        check_text(&mut errors, "melding", &b.melding, MAX_MINUTES_TEXT);
        let step = self
            .prepare(
                &req,
                errors,
                "casework.veilig-thuis-melden",
                b.casus_id,
                |_, key| {
                    Ok(Command::Escalate {
                        escalation_id: b.melding_id.unwrap_or_else(Uuid::new_v4),
                        reported_on: b.gemeld_op,
                        parties: b.partijen.iter().map(|p| p.trim().to_owned()).collect(),
                        legal_ground: b.grondslag.clone(),
                        report: key.seal(&b.melding).map_err(internal("sealing"))?,
                    })
                },
            )
            .await?;
        let d = match step {
            Step::Replayed(first, _) => return Ok(first),
            Step::Decided(d) => d,
        };
        self.privacy_request(
            privacy_subjects::PLACE_HOLD,
            &PlaceLegalHold {
                subject: d.case_id,
                reason: HOLD_REASON.into(),
            },
        )
        .await
        .map_err(|p| {
            tracing::warn!(status = p.status, "legal hold not placed; escalation not recorded");
            Problem::unavailable(
                "De bewaarplicht kon niet worden vastgelegd; de melding is niet opgeslagen. Probeer het opnieuw.",
            )
        })?;
        self.access_log
            .record(vec![AccessEntry::new(
                &req.actor,
                AccessEvent::BreakGlass,
                ESCALATION_ACCESS_POINT,
                Some(d.case_id),
                AccessOutcome::Success,
                req.traceparent.as_deref(),
            )])
            .await
            .map_err(|p| {
                tracing::warn!(status = p.status, "access log unavailable; escalation not recorded");
                Problem::unavailable(
                    "Het toegangslog is niet bereikbaar; de melding is niet opgeslagen. Probeer het opnieuw.",
                )
            })?;
        self.commit(&req, &d).await
    }

    pub async fn record_safety_plan(
        self: Arc<Self>,
        req: Request,
    ) -> Result<CommandAccepted, Problem> {
        let b: api::RecordSafetyPlan = req.body()?;
        let mut errors = Vec::new();
        check_list(&mut errors, "veiligheidsplan", &b.veiligheidsplan);
        self.execute(
            &req,
            errors,
            "casework.veiligheidsplan-vastleggen",
            b.casus_id,
            |_, key| {
                Ok(Command::RecordSafetyPlan {
                    plan: key.seal(&b.veiligheidsplan).map_err(internal("sealing"))?,
                    recorded_on: b.vastgelegd_op,
                })
            },
        )
        .await
    }

    /// Appends the closing, then registers the start of the retention period.
    pub async fn close_case(self: Arc<Self>, req: Request) -> Result<CommandAccepted, Problem> {
        let b: api::CloseCase = req.body()?;
        let mut errors = Vec::new();
        if let Some(t) = &b.toelichting {
            check_text(&mut errors, "toelichting", t, MAX_TEXT);
        }
        let step = self
            .prepare(
                &req,
                errors,
                "casework.casus-sluiten",
                b.casus_id,
                |_, key| {
                    Ok(Command::Close {
                        closed_on: b.gesloten_op,
                        outcome: b.uitkomst,
                        note: b
                            .toelichting
                            .as_ref()
                            .map(|t| key.seal(t))
                            .transpose()
                            .map_err(internal("sealing"))?,
                    })
                },
            )
            .await?;
        let (accepted, closed_on) = match step {
            Step::Replayed(first, case) => {
                let Some((closed_on, _)) = case.closed else {
                    return Ok(first);
                };
                (first, closed_on)
            }
            Step::Decided(d) => (self.commit(&req, &d).await?, b.gesloten_op),
        };
        self.privacy_request(
            privacy_subjects::REGISTER_RETENTION,
            &RegisterRetention {
                subject: accepted.stream_id,
                data_kind: DataKind::Casus,
                start_date: closed_on,
            },
        )
        .await
        .map_err(|p| {
            tracing::warn!(status = p.status, "retention not registered yet");
            Problem::unavailable(
                "De casus is gesloten, maar de bewaartermijn is nog niet geregistreerd. Herhaal het verzoek met dezelfde Idempotency-Key.",
            )
        })?;
        Ok(accepted)
    }
}

impl Service {
    /// The casework part of an AVG art. 15 request (`kansrijk.qry.casework.inzage`), privacy
    /// officer only: every event of the family's case with its sealed parts opened, grouped by
    /// part of the plan. A subject without a case here gets an empty part (not a 404), so that
    /// the privacy service's document stays complete. Logged as an export before it returns.
    pub async fn subject_access(
        self: Arc<Self>,
        req: Request,
    ) -> Result<SubjectAccessPart, Problem> {
        kansrijk_policy::require(&req.actor, "casework.inzage")?;
        if req.actor.purpose != Purpose::Privacytoezicht {
            return Err(Problem::forbidden(
                "Deze handeling past alleen bij het doel privacytoezicht.",
            ));
        }
        let body: SubjectAccessRequest = req.json()?;
        let empty = SubjectAccessPart {
            service: subjects::SERVICE.into(),
            subject: body.subject,
            sections: Vec::new(),
        };
        let stored = self
            .store
            .read_stream(body.subject)
            .await
            .map_err(internal("reading a case"))?;
        let Some(first) = stored.first() else {
            return Ok(empty);
        };
        if first.municipality != req.actor.municipality {
            return Ok(empty);
        }
        let key = self
            .keys
            .get(body.subject)
            .await
            .map_err(|e| e.to_problem())?;
        self.access_log
            .record(vec![AccessEntry::new(
                &req.actor,
                AccessEvent::Export,
                "casework.inzage",
                Some(body.subject),
                AccessOutcome::Success,
                req.traceparent.as_deref(),
            )])
            .await?;
        let mut by_part: BTreeMap<Option<PlanPart>, Vec<serde_json::Value>> = BTreeMap::new();
        for e in &stored {
            let event: CaseEvent = e.decode().map_err(internal("decoding a case event"))?;
            let mut data = event.to_data().map_err(internal("encoding an event"))?;
            open_sealed(&key, &mut data)?;
            by_part
                .entry(event.plan_part())
                .or_default()
                .push(serde_json::json!({
                    "type": e.event_type.name(),
                    "datum": e.recorded_at,
                    "gegevens": data,
                }));
        }
        let sections = by_part
            .into_iter()
            .map(|(part, items)| {
                let (title, category) = section_of(part);
                SubjectAccessSection {
                    title: title.into(),
                    category,
                    data: serde_json::Value::Array(items),
                }
            })
            .collect();
        Ok(SubjectAccessPart { sections, ..empty })
    }
}

/// The title and most sensitive category of a part's section.
fn section_of(part: Option<PlanPart>) -> (&'static str, DataCategory) {
    match part {
        None => (
            "Casus, deelnemers en toestemmingen",
            DataCategory::DevelopmentEducation,
        ),
        Some(PlanPart::Gezinsleden) => ("Gezinsleden", DataCategory::Identifying),
        Some(PlanPart::SterkePunten) => ("Wat goed gaat", DataCategory::DevelopmentEducation),
        Some(PlanPart::Zorgen) => ("Zorgen", DataCategory::Health),
        Some(PlanPart::Netwerk) => ("Inzet gezin en netwerk", DataCategory::DevelopmentEducation),
        Some(PlanPart::DoelenActies) => ("Doelen en acties", DataCategory::DevelopmentEducation),
        Some(PlanPart::Evaluaties) => ("Evaluaties", DataCategory::DevelopmentEducation),
        Some(PlanPart::Uren) => ("Uren", DataCategory::Administrative),
        Some(PlanPart::Veiligheid) => ("Veiligheid", DataCategory::Safety),
    }
}

/// Replaces every sealed value inside `v` by its plaintext.
fn open_sealed(key: &SubjectKey, v: &mut serde_json::Value) -> Result<(), Problem> {
    let is_sealed = v.as_object().is_some_and(|o| {
        ["alg", "subject", "keyVersion", "nonce", "ciphertext"]
            .iter()
            .all(|k| o.contains_key(*k))
    });
    if is_sealed {
        let sealed: Sealed<serde_json::Value> =
            serde_json::from_value(v.clone()).map_err(internal("sealed value"))?;
        *v = key
            .open(&sealed)
            .map_err(internal("opening a sealed value"))?;
        return Ok(());
    }
    match v {
        serde_json::Value::Object(o) => o.values_mut().try_for_each(|x| open_sealed(key, x)),
        serde_json::Value::Array(a) => a.iter_mut().try_for_each(|x| open_sealed(key, x)),
        _ => Ok(()),
    }
}

fn ep<F, Fut>(svc: &Arc<Service>, f: F) -> Handler
where
    F: Fn(Arc<Service>, Request) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<CommandAccepted, Problem>> + Send + 'static,
{
    kansrijk_runtime::service::command_endpoint(svc, |s| &s.store, f)
}

/// Every command endpoint, by subject.
pub fn endpoints(svc: &Arc<Service>) -> Endpoints {
    let mut e = Endpoints::new();
    e.insert(subjects::OPEN_CASE.into(), ep(svc, Service::open_case));
    e.insert(
        subjects::ADD_PARTICIPANT.into(),
        ep(svc, Service::add_participant),
    );
    e.insert(
        subjects::REMOVE_PARTICIPANT.into(),
        ep(svc, Service::remove_participant),
    );
    e.insert(
        subjects::GRANT_CONSENT.into(),
        ep(svc, Service::grant_consent),
    );
    e.insert(
        subjects::REVOKE_CONSENT.into(),
        ep(svc, Service::revoke_consent),
    );
    e.insert(
        subjects::RECORD_STRENGTHS.into(),
        ep(svc, Service::record_strengths),
    );
    e.insert(
        subjects::RECORD_CONCERN.into(),
        ep(svc, Service::record_concern),
    );
    e.insert(
        subjects::RECORD_NETWORK.into(),
        ep(svc, Service::record_network),
    );
    e.insert(subjects::SET_GOAL.into(), ep(svc, Service::set_goal));
    e.insert(
        subjects::CHANGE_GOAL_STATUS.into(),
        ep(svc, Service::change_goal_status),
    );
    e.insert(
        subjects::ASSIGN_ACTION.into(),
        ep(svc, Service::assign_action),
    );
    e.insert(
        subjects::CHANGE_ACTION_STATUS.into(),
        ep(svc, Service::change_action_status),
    );
    e.insert(subjects::ADOPT_PLAN.into(), ep(svc, Service::adopt_plan));
    e.insert(
        subjects::SCHEDULE_REVIEW.into(),
        ep(svc, Service::schedule_review),
    );
    e.insert(
        subjects::RECORD_REVIEW.into(),
        ep(svc, Service::record_review),
    );
    e.insert(
        subjects::RECORD_HOURS.into(),
        ep(svc, Service::record_hours),
    );
    e.insert(
        subjects::SET_HOURS_BUDGET.into(),
        ep(svc, Service::set_hours_budget),
    );
    e.insert(subjects::ESCALATE.into(), ep(svc, Service::escalate));
    e.insert(
        subjects::RECORD_SAFETY_PLAN.into(),
        ep(svc, Service::record_safety_plan),
    );
    e.insert(subjects::CLOSE_CASE.into(), ep(svc, Service::close_case));
    let s = svc.clone();
    e.insert(
        privacy_subjects::subject_access_part(subjects::SERVICE),
        handler(move |req| s.clone().subject_access(req)),
    );
    // A refused read (403/404 on a query) is in the access log (issue 17 item 9).
    kansrijk_runtime::access_log::log_refused_reads(
        e,
        &svc.access_log,
        kansrijk_runtime::access_log::is_query,
    )
}

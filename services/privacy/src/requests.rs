//! The register of erasure requests (`verwijderverzoek`, AVG art. 17) and subject-access requests
//! (`inzageverzoek`, AVG art. 15) that wait for the privacy officer's decision.
//!
//! A request is filed by staff of an organisation that holds data of the subject (on behalf of the
//! parents, or of the child itself) or by the privacy officer, with who asked and the date it was
//! received; its legal deadline is one month later (AVG art. 12(3)). The officer executes it (the
//! erasure, or the subject-access document assembled from every service) or rejects it with a
//! reason code. Each request is a stream of its own (stream type `privacyverzoek`) in the privacy
//! service's event store; the events carry only the pseudonymous subject id, organisation ids and
//! codes, never personal data or free text. The table `requests` follows the events in the same
//! transaction, for the officer's list.
//!
//! A legal hold (bewaarplicht) blocks an erasure: executing the request is then refused (409
//! `bewaarplicht`), the refusal is recorded on the request (`nl.privacy.verzoek-uitvoering-geweigerd`,
//! shown in the list), and the request stays open. The officer can execute it again once the hold
//! is lifted, or reject it with the reason `bewaarplicht`. (Rejecting automatically would close a
//! request the law may require to be executed as soon as the proceedings end.)
//!
//! Executing an erasure request erases the subject in the same transaction as the request's
//! `nl.privacy.verzoek-uitgevoerd`: both commit or neither does. A subject that was erased already
//! (by another request, or at the end of retention) makes its open erasure request executed.

use chrono::{DateTime, Months, NaiveDate, Utc};
use kansrijk_proto::actor::{Actor, OrganisationType};
use kansrijk_proto::command::CommandAccepted;
use kansrijk_proto::event::{Event, EventSet};
use kansrijk_proto::privacy::ErasureGrounds;
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_runtime::store::{
    Append, Appended, EventStore, ExpectedVersion, Metadata, NewEvent, StoreError,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::domain::{self, Command, DomainError};
use crate::error::{db_problem, store_problem};
use crate::subjects::{self, metadata_for, Privacy};

/// NATS subjects of the register.
pub mod subjects_nats {
    /// `FileRequest` -> `CommandAccepted` (the stream id is the request's id).
    pub const FILE_ERASURE: &str = "kansrijk.cmd.privacy.verwijderverzoek-indienen";
    pub const FILE_ACCESS: &str = "kansrijk.cmd.privacy.inzageverzoek-indienen";
    /// `DecideRequest` -> `CommandAccepted`.
    pub const DECIDE_ERASURE: &str = "kansrijk.cmd.privacy.verwijderverzoek-besluiten";
    pub const DECIDE_ACCESS: &str = "kansrijk.cmd.privacy.inzageverzoek-besluiten";
    /// `RequestQuery` -> `RequestList`.
    pub const LIST_ERASURE: &str = "kansrijk.qry.privacy.verwijderverzoeken";
    pub const LIST_ACCESS: &str = "kansrijk.qry.privacy.inzageverzoeken";
}

// ------------------------------------------------------------------------------------------
// Wire types

/// What is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// Erasure (AVG art. 17).
    Verwijderverzoek,
    /// Subject access (AVG art. 15).
    Inzageverzoek,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Verwijderverzoek => "verwijderverzoek",
            RequestKind::Inzageverzoek => "inzageverzoek",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verwijderverzoek" => Some(RequestKind::Verwijderverzoek),
            "inzageverzoek" => Some(RequestKind::Inzageverzoek),
            _ => None,
        }
    }

    /// The policy action of filing, deciding and listing this kind.
    pub fn actions(self) -> (&'static str, &'static str, &'static str) {
        match self {
            RequestKind::Verwijderverzoek => (
                "privacy.verwijderverzoek-indienen",
                "privacy.verwijderverzoek-besluiten",
                "privacy.verwijderverzoeken",
            ),
            RequestKind::Inzageverzoek => (
                "privacy.inzageverzoek-indienen",
                "privacy.inzageverzoek-besluiten",
                "privacy.inzageverzoeken",
            ),
        }
    }
}

/// Who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Requester {
    /// A parent (with parental authority) on behalf of the child.
    Ouder,
    /// The data subject itself (a young person, or the family).
    Betrokkene,
    /// A professional passing on the parents' request.
    Medewerker,
}

impl Requester {
    pub fn as_str(self) -> &'static str {
        match self {
            Requester::Ouder => "ouder",
            Requester::Betrokkene => "betrokkene",
            Requester::Medewerker => "medewerker",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ouder" => Some(Requester::Ouder),
            "betrokkene" => Some(Requester::Betrokkene),
            "medewerker" => Some(Requester::Medewerker),
            _ => None,
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestStatus {
    /// Received, waiting for the officer's decision.
    #[default]
    Ontvangen,
    /// The erasure was executed, or the subject-access document produced.
    Uitgevoerd,
    /// Rejected, with a reason code.
    Afgewezen,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Ontvangen => "ontvangen",
            RequestStatus::Uitgevoerd => "uitgevoerd",
            RequestStatus::Afgewezen => "afgewezen",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ontvangen" => Some(RequestStatus::Ontvangen),
            "uitgevoerd" => Some(RequestStatus::Uitgevoerd),
            "afgewezen" => Some(RequestStatus::Afgewezen),
            _ => None,
        }
    }
}

/// Body of `*-indienen`: a request about one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileRequest {
    /// Pseudonymous id of the subject (a child or a family), never a BSN.
    pub subject: Uuid,
    /// Who asked: `ouder`, `betrokkene` or `medewerker` (on behalf of the parents).
    pub requester: Requester,
    /// The day the request was received (RFC 3339 full-date; default today). The legal deadline
    /// is one month later (AVG art. 12(3)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_on: Option<NaiveDate>,
}

/// The officer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Erase the subject, or produce the subject-access document.
    Uitvoeren,
    /// Reject the request (with a reason code).
    Afwijzen,
}

/// Body of `*-besluiten`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecideRequest {
    /// The request's id (the stream id its filing returned).
    pub request: Uuid,
    pub decision: Decision,
    /// With `afwijzen`: a reason code in kebab-case, e.g. `bewaarplicht`,
    /// `identiteit-niet-vastgesteld`, `kennelijk-ongegrond` (never free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Body of the list queries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestQuery {
    /// Only requests in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RequestStatus>,
    /// At most this many (1 to 500, default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// One request in the officer's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestRow {
    pub id: Uuid,
    pub kind: RequestKind,
    pub subject: Uuid,
    pub requester: Requester,
    pub received_on: NaiveDate,
    /// The last day of the legal period (one month after receipt).
    pub deadline: NaiveDate,
    pub status: RequestStatus,
    /// `true` when the request is open and its deadline has passed.
    pub overdue: bool,
    /// The reason code of a rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// While open: the legal hold's reason code under which the last execution was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_under_hold: Option<String>,
    /// The subject's current legal hold, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<String>,
    pub subject_erased: bool,
    /// Organisation id of who filed it.
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

/// Reply of the list queries: open requests first (earliest deadline first), then handled ones
/// (most recently decided first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestList {
    pub requests: Vec<RequestRow>,
    /// Open requests of this kind in the municipality (all, not only this page).
    pub open: i64,
    /// Of those, overdue.
    pub overdue: i64,
    /// The day `overdue` was judged on.
    pub today: NaiveDate,
}

// ------------------------------------------------------------------------------------------
// Events

/// A request was received and registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestFiled {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub request: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub kind: RequestKind,
    /// Pseudonymous subject id.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub requester: Requester,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub received_on: NaiveDate,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub deadline: NaiveDate,
    /// Organisation id of who filed it.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub filed_by: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub filed_at: DateTime<Utc>,
}

impl Event for RequestFiled {
    const NAME: &'static str = "nl.privacy.verzoek-ingediend";
    const VERSION: u16 = 1;
}

/// The officer executed the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestExecuted {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub request: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    /// Organisation id of the officer.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub decided_by: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub executed_at: DateTime<Utc>,
}

impl Event for RequestExecuted {
    const NAME: &'static str = "nl.privacy.verzoek-uitgevoerd";
    const VERSION: u16 = 1;
}

/// The officer rejected the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestRejected {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub request: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    /// A reason code, never free text.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub reason: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub decided_by: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub rejected_at: DateTime<Utc>,
}

impl Event for RequestRejected {
    const NAME: &'static str = "nl.privacy.verzoek-afgewezen";
    const VERSION: u16 = 1;
}

/// Executing the request was refused under a legal hold; the request stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestExecutionRefused {
    #[schemars(extend("x-data-category" = "administrative"))]
    pub request: Uuid,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub subject: Uuid,
    /// The hold's reason code.
    #[schemars(extend("x-data-category" = "administrative"))]
    pub hold_reason: String,
    #[schemars(extend("x-data-category" = "administrative"))]
    pub refused_at: DateTime<Utc>,
}

impl Event for RequestExecutionRefused {
    const NAME: &'static str = "nl.privacy.verzoek-uitvoering-geweigerd";
    const VERSION: u16 = 1;
}

kansrijk_proto::event_set! {
    /// Events of one request's stream in the privacy service.
    pub enum RequestEvent: "privacyverzoek" {
        Filed(RequestFiled),
        Executed(RequestExecuted),
        Rejected(RequestRejected),
        ExecutionRefused(RequestExecutionRefused),
    }
    upcasters = &[];
}

// ------------------------------------------------------------------------------------------
// Domain

/// What the register knows about one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestState {
    pub request: Uuid,
    pub version: i64,
    /// `None`: no such request.
    pub filed: Option<RequestFiled>,
    pub status: RequestStatus,
    pub reason: Option<String>,
    /// The hold under which the last execution was refused (cleared by a decision).
    pub refused_under_hold: Option<String>,
}

/// What someone asks of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCommand {
    File {
        kind: RequestKind,
        subject: Uuid,
        requester: Requester,
        received_on: NaiveDate,
        /// The day it is filed (a request cannot be received in the future).
        today: NaiveDate,
        by: String,
        at: DateTime<Utc>,
    },
    Execute {
        by: String,
        at: DateTime<Utc>,
    },
    Reject {
        reason: String,
        by: String,
        at: DateTime<Utc>,
    },
    RefuseUnderHold {
        hold_reason: String,
        at: DateTime<Utc>,
    },
}

/// Why a command on a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the request is unknown")]
    Unknown,
    #[error("the request was filed already")]
    AlreadyFiled,
    #[error("the request was decided already")]
    AlreadyDecided { status: RequestStatus },
    #[error("the request cannot have been received in the future")]
    ReceivedInFuture,
    #[error("a rejection needs a reason code")]
    InvalidReason,
}

impl RequestError {
    pub fn to_problem(&self) -> Problem {
        match self {
            RequestError::Unknown => Problem::not_found("Onbekend verzoek."),
            RequestError::AlreadyFiled => {
                Problem::conflict("al-ingediend", "Dit verzoek is al geregistreerd.")
            }
            RequestError::AlreadyDecided { status } => Problem::conflict(
                "al-besloten",
                match status {
                    RequestStatus::Uitgevoerd => "Over dit verzoek is al besloten: het is uitgevoerd.",
                    RequestStatus::Afgewezen => "Over dit verzoek is al besloten: het is afgewezen.",
                    RequestStatus::Ontvangen => "Over dit verzoek is al besloten.",
                },
            ),
            RequestError::ReceivedInFuture => Problem::invalid(vec![FieldError::new(
                "receivedOn",
                "datum-in-de-toekomst",
                "De datum van ontvangst kan niet in de toekomst liggen.",
            )]),
            RequestError::InvalidReason => Problem::invalid(vec![FieldError::new(
                "reason",
                "reden-code",
                "Geef bij afwijzen een redencode in kleine letters met koppeltekens, geen vrije tekst.",
            )]),
        }
    }
}

/// The last day of the legal period: one month after receipt (AVG art. 12(3)); from 31 January,
/// the last day of February.
pub fn deadline(received_on: NaiveDate) -> NaiveDate {
    received_on
        .checked_add_months(Months::new(1))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether a request is open past its deadline on `today` (the deadline day itself is in time).
pub fn is_overdue(status: RequestStatus, deadline: NaiveDate, today: NaiveDate) -> bool {
    status == RequestStatus::Ontvangen && deadline < today
}

impl RequestState {
    pub fn fold<'a>(request: Uuid, events: impl IntoIterator<Item = &'a RequestEvent>) -> Self {
        let mut s = RequestState {
            request,
            ..Default::default()
        };
        for e in events {
            s = apply(s, e);
        }
        s
    }
}

/// Applies one event (and counts the version).
pub fn apply(mut s: RequestState, e: &RequestEvent) -> RequestState {
    s.version += 1;
    match e {
        RequestEvent::Filed(f) => {
            s.filed = Some(f.clone());
            s.status = RequestStatus::Ontvangen;
        }
        RequestEvent::Executed(_) => {
            s.status = RequestStatus::Uitgevoerd;
            s.refused_under_hold = None;
        }
        RequestEvent::Rejected(r) => {
            s.status = RequestStatus::Afgewezen;
            s.reason = Some(r.reason.clone());
            s.refused_under_hold = None;
        }
        RequestEvent::ExecutionRefused(r) => s.refused_under_hold = Some(r.hold_reason.clone()),
    }
    s
}

/// Decides a command on a request. An empty list: already in effect.
pub fn decide(s: &RequestState, cmd: RequestCommand) -> Result<Vec<RequestEvent>, RequestError> {
    let request = s.request;
    if let RequestCommand::File {
        kind,
        subject,
        requester,
        received_on,
        today,
        by,
        at,
    } = cmd
    {
        if s.filed.is_some() {
            return Err(RequestError::AlreadyFiled);
        }
        if received_on > today {
            return Err(RequestError::ReceivedInFuture);
        }
        return Ok(vec![RequestFiled {
            request,
            kind,
            subject,
            requester,
            received_on,
            deadline: deadline(received_on),
            filed_by: by,
            filed_at: at,
        }
        .into()]);
    }
    let filed = s.filed.as_ref().ok_or(RequestError::Unknown)?;
    let subject = filed.subject;
    match cmd {
        RequestCommand::File { .. } => unreachable!("handled above"),
        RequestCommand::Execute { by, at } => match s.status {
            RequestStatus::Uitgevoerd => Ok(vec![]),
            RequestStatus::Afgewezen => Err(RequestError::AlreadyDecided { status: s.status }),
            RequestStatus::Ontvangen => Ok(vec![RequestExecuted {
                request,
                subject,
                decided_by: by,
                executed_at: at,
            }
            .into()]),
        },
        RequestCommand::Reject { reason, by, at } => {
            if !domain::is_reason_code(&reason) {
                return Err(RequestError::InvalidReason);
            }
            match s.status {
                RequestStatus::Afgewezen if s.reason.as_deref() == Some(reason.as_str()) => {
                    Ok(vec![])
                }
                RequestStatus::Ontvangen => Ok(vec![RequestRejected {
                    request,
                    subject,
                    reason,
                    decided_by: by,
                    rejected_at: at,
                }
                .into()]),
                status => Err(RequestError::AlreadyDecided { status }),
            }
        }
        RequestCommand::RefuseUnderHold { hold_reason, at } => {
            if s.status != RequestStatus::Ontvangen {
                return Err(RequestError::AlreadyDecided { status: s.status });
            }
            if s.refused_under_hold.as_deref() == Some(hold_reason.as_str()) {
                return Ok(vec![]);
            }
            Ok(vec![RequestExecutionRefused {
                request,
                subject,
                hold_reason,
                refused_at: at,
            }
            .into()])
        }
    }
}

// ------------------------------------------------------------------------------------------
// Service

/// The refusal of executing an erasure request under a hold (the request stays open).
pub fn on_hold_problem(reason: &str) -> Problem {
    Problem::conflict(
        "bewaarplicht",
        format!(
            "Op deze betrokkene rust een bewaarplicht (reden: {reason}). Er is niets gewist. \
             Het verzoek blijft open: voer het uit nadat de bewaarplicht is opgeheven, of wijs \
             het af met de reden bewaarplicht."
        ),
    )
}

/// The request's subject, kind and municipality, if it exists (no lock).
pub async fn lookup(
    p: &Privacy,
    request: Uuid,
) -> Result<Option<(Uuid, RequestKind, String)>, Problem> {
    let row = sqlx::query("SELECT subject, kind, municipality FROM requests WHERE request = $1")
        .bind(request)
        .fetch_optional(p.pool())
        .await
        .map_err(|e| db_problem(&e))?;
    let Some(r) = row else { return Ok(None) };
    let subject: Uuid = r.try_get("subject").map_err(|e| db_problem(&e))?;
    let kind: String = r.try_get("kind").map_err(|e| db_problem(&e))?;
    let municipality: String = r.try_get("municipality").map_err(|e| db_problem(&e))?;
    Ok(RequestKind::parse(&kind).map(|k| (subject, k, municipality)))
}

fn accepted_again(a: Appended) -> CommandAccepted {
    CommandAccepted {
        stream_id: a.stream_id,
        version: a.version,
        position: a.position,
        first_time: false,
    }
}

impl Privacy {
    /// Files a request about a subject of the actor's municipality. Unknown subjects (and, for
    /// staff, subjects their organisation holds no data of) are 404; an erased subject is 410.
    pub async fn file_request(
        &self,
        kind: RequestKind,
        body: &FileRequest,
        actor: &Actor,
        command_id: Option<Uuid>,
        traceparent: Option<&str>,
    ) -> Result<CommandAccepted, Problem> {
        let mut tx = self.pool.begin().await.map_err(|e| db_problem(&e))?;
        if let Some(id) = command_id {
            if let Some(a) = EventStore::command_result_in(&mut tx, id)
                .await
                .map_err(|e| store_problem(&e))?
            {
                return Ok(accepted_again(a));
            }
        }
        let row = sqlx::query(
            "SELECT municipality, erased_at IS NOT NULL AS erased FROM subjects
             WHERE subject = $1 FOR SHARE",
        )
        .bind(body.subject)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_problem(&e))?;
        let unknown = || Problem::not_found("Onbekende betrokkene.");
        let Some(row) = row else {
            return Err(unknown());
        };
        let municipality: String = row.try_get("municipality").map_err(|e| db_problem(&e))?;
        let erased: bool = row.try_get("erased").map_err(|e| db_problem(&e))?;
        if municipality != actor.municipality {
            return Err(unknown());
        }
        if actor.organisation_type != OrganisationType::Privacyfunctionaris {
            // Staff file only for subjects their organisation holds data of: it has worked
            // with the subject's data, which the access log shows.
            let holds: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM access_log WHERE subject = $1 AND organisation = $2
                 AND municipality = $3 AND outcome = 'success' AND event <> 'search')",
            )
            .bind(body.subject)
            .bind(&actor.organisation)
            .bind(&actor.municipality)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_problem(&e))?;
            if !holds {
                return Err(unknown());
            }
        }
        if erased {
            return Err(DomainError::Erased.to_problem());
        }
        let now = Utc::now();
        let today = now.date_naive();
        let request = Uuid::now_v7();
        let state = RequestState::fold(request, &[]);
        let events = decide(
            &state,
            RequestCommand::File {
                kind,
                subject: body.subject,
                requester: body.requester,
                received_on: body.received_on.unwrap_or(today),
                today,
                by: actor.organisation.clone(),
                at: now,
            },
        )
        .map_err(|e| e.to_problem())?;
        let appended = append_request(
            &mut tx,
            request,
            0,
            &municipality,
            command_id,
            &metadata_for(actor, command_id, traceparent),
            &events,
        )
        .await
        .map_err(|e| store_problem(&e))?;
        for e in &events {
            project(&mut tx, &municipality, e)
                .await
                .map_err(|e| db_problem(&e))?;
        }
        tx.commit().await.map_err(|e| db_problem(&e))?;
        self.wake_relay();
        metrics::counter!("kansrijk_privacy_requests_filed_total", "kind" => kind.as_str())
            .increment(1);
        Ok(appended.accepted_for(request))
    }

    /// Rejects a request with a reason code.
    pub async fn reject_request(
        &self,
        kind: RequestKind,
        request: Uuid,
        reason: &str,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        self.decide_on_request(
            kind,
            request,
            Action::Reject(reason.to_owned()),
            actor,
            command_id,
        )
        .await
    }

    /// Marks a subject-access request executed (the caller produced the document).
    pub async fn complete_access_request(
        &self,
        request: Uuid,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        self.decide_on_request(
            RequestKind::Inzageverzoek,
            request,
            Action::Execute,
            actor,
            command_id,
        )
        .await
    }

    /// Executes an erasure request: erases the subject and marks the request executed, in one
    /// transaction. Under a legal hold: the refusal is recorded on the request, which stays
    /// open, and the answer is 409 `bewaarplicht`.
    pub async fn execute_erasure_request(
        &self,
        request: Uuid,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        self.decide_on_request(
            RequestKind::Verwijderverzoek,
            request,
            Action::Execute,
            actor,
            command_id,
        )
        .await
    }

    /// Erases the request's subject inside `tx`, unless it is erased already; `Err(reason)` under
    /// a legal hold.
    async fn erase_for_request(
        &self,
        tx: &mut PgConnection,
        subject: Uuid,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<Result<(), String>, Problem> {
        let (subject_state, municipality) = subjects::load_locked(tx, subject).await?;
        if subject_state.erased {
            return Ok(Ok(()));
        }
        let erase = Command::Erase {
            grounds: ErasureGrounds::VerzoekBetrokkene,
            by: actor.organisation.clone(),
            at: Utc::now(),
        };
        let events = match domain::decide(&subject_state, erase) {
            Err(DomainError::OnHold { reason }) => return Ok(Err(reason)),
            Err(e) => return Err(e.to_problem()),
            Ok(events) => events,
        };
        subjects::append_in_tx(
            tx,
            subject,
            subject_state.version,
            &municipality,
            None,
            &metadata_for(actor, command_id, None),
            &events,
        )
        .await
        .map_err(|e| store_problem(&e))?;
        for e in &events {
            subjects::project(tx, e).await.map_err(|e| db_problem(&e))?;
        }
        metrics::counter!("kansrijk_privacy_erasures_total", "grounds" => "verzoek-betrokkene")
            .increment(1);
        Ok(Ok(()))
    }

    /// One decision on a request in one transaction: the command id is checked, the request row
    /// locked (404 for another kind or municipality), its stream folded, an erasure made in the
    /// same transaction, and the request's events appended with the command id. A refusal under
    /// a hold is appended without the command id (a retry with it tries again) and answered 409.
    async fn decide_on_request(
        &self,
        kind: RequestKind,
        request: Uuid,
        action: Action,
        actor: &Actor,
        command_id: Option<Uuid>,
    ) -> Result<CommandAccepted, Problem> {
        let mut tx = self.pool.begin().await.map_err(|e| db_problem(&e))?;
        if let Some(id) = command_id {
            if let Some(a) = EventStore::command_result_in(&mut tx, id)
                .await
                .map_err(|e| store_problem(&e))?
            {
                return Ok(accepted_again(a));
            }
        }
        let row =
            sqlx::query("SELECT kind, municipality FROM requests WHERE request = $1 FOR UPDATE")
                .bind(request)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| db_problem(&e))?;
        let Some(row) = row else {
            return Err(RequestError::Unknown.to_problem());
        };
        let row_kind: String = row.try_get("kind").map_err(|e| db_problem(&e))?;
        let municipality: String = row.try_get("municipality").map_err(|e| db_problem(&e))?;
        if row_kind != kind.as_str() || municipality != actor.municipality {
            return Err(RequestError::Unknown.to_problem());
        }
        let state = read_request(&mut tx, request).await?;
        let by = actor.organisation.clone();
        let mut refusal = None;
        let command = match action {
            Action::Reject(reason) => RequestCommand::Reject {
                reason,
                by,
                at: Utc::now(),
            },
            Action::Execute => {
                let open = state.status == RequestStatus::Ontvangen;
                if open && kind == RequestKind::Verwijderverzoek {
                    let subject = state.filed.as_ref().map(|f| f.subject).unwrap_or_default();
                    if let Err(hold) = self
                        .erase_for_request(&mut tx, subject, actor, command_id)
                        .await?
                    {
                        refusal = Some(hold);
                    }
                }
                match &refusal {
                    Some(hold) => RequestCommand::RefuseUnderHold {
                        hold_reason: hold.clone(),
                        at: Utc::now(),
                    },
                    None => RequestCommand::Execute { by, at: Utc::now() },
                }
            }
        };
        let events = decide(&state, command).map_err(|e| e.to_problem())?;
        let metadata = metadata_for(actor, command_id, None);
        let appended = if events.is_empty() {
            None
        } else {
            let id = if refusal.is_some() { None } else { command_id };
            let a = append_request(
                &mut tx,
                request,
                state.version,
                &municipality,
                id,
                &metadata,
                &events,
            )
            .await
            .map_err(|e| store_problem(&e))?;
            for e in &events {
                project(&mut tx, &municipality, e)
                    .await
                    .map_err(|e| db_problem(&e))?;
            }
            Some(a)
        };
        tx.commit().await.map_err(|e| db_problem(&e))?;
        if appended.is_some() {
            self.wake_relay();
        }
        if let Some(reason) = refusal {
            return Err(on_hold_problem(&reason));
        }
        Ok(match appended {
            Some(a) => a.accepted_for(request),
            None => CommandAccepted {
                stream_id: request,
                version: state.version,
                position: 0,
                first_time: false,
            },
        })
    }

    /// The officer's list of one kind of request in `municipality`.
    pub async fn list_requests(
        &self,
        kind: RequestKind,
        query: &RequestQuery,
        municipality: &str,
        today: NaiveDate,
    ) -> Result<RequestList, Problem> {
        let limit = query.limit.unwrap_or(100).clamp(1, 500);
        let rows = sqlx::query(
            "SELECT r.request, r.subject, r.requester, r.received_on, r.deadline, r.status,
                    r.reason, r.refused_under_hold, r.filed_by, r.filed_at, r.decided_at,
                    s.hold_reason, s.erased_at IS NOT NULL AS erased
             FROM requests r LEFT JOIN subjects s ON s.subject = r.subject
             WHERE r.municipality = $1 AND r.kind = $2 AND ($3::text IS NULL OR r.status = $3)
             ORDER BY (r.status = 'ontvangen') DESC,
                      CASE WHEN r.status = 'ontvangen' THEN r.deadline END ASC,
                      r.decided_at DESC NULLS LAST, r.filed_at DESC, r.request
             LIMIT $4",
        )
        .bind(municipality)
        .bind(kind.as_str())
        .bind(query.status.map(RequestStatus::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_problem(&e))?;
        let mut requests = Vec::with_capacity(rows.len());
        for r in rows {
            let get = |e: sqlx::Error| db_problem(&e);
            let status: String = r.try_get("status").map_err(get)?;
            let requester: String = r.try_get("requester").map_err(get)?;
            let (Some(status), Some(requester)) =
                (RequestStatus::parse(&status), Requester::parse(&requester))
            else {
                tracing::error!("a request row with an unknown status or requester");
                return Err(Problem::internal());
            };
            let deadline: NaiveDate = r.try_get("deadline").map_err(get)?;
            requests.push(RequestRow {
                id: r.try_get("request").map_err(get)?,
                kind,
                subject: r.try_get("subject").map_err(get)?,
                requester,
                received_on: r.try_get("received_on").map_err(get)?,
                deadline,
                status,
                overdue: is_overdue(status, deadline, today),
                reason: r.try_get("reason").map_err(get)?,
                refused_under_hold: r.try_get("refused_under_hold").map_err(get)?,
                hold: r.try_get("hold_reason").map_err(get)?,
                subject_erased: r
                    .try_get::<Option<bool>, _>("erased")
                    .map_err(get)?
                    .unwrap_or(false),
                filed_by: r.try_get("filed_by").map_err(get)?,
                filed_at: r.try_get("filed_at").map_err(get)?,
                decided_at: r.try_get("decided_at").map_err(get)?,
            });
        }
        let (open, overdue): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE deadline < $3) FROM requests
             WHERE municipality = $1 AND kind = $2 AND status = 'ontvangen'",
        )
        .bind(municipality)
        .bind(kind.as_str())
        .bind(today)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_problem(&e))?;
        Ok(RequestList {
            requests,
            open,
            overdue,
            today,
        })
    }
}

/// What the officer decided.
enum Action {
    Execute,
    Reject(String),
}

trait AcceptedFor {
    fn accepted_for(self, request: Uuid) -> CommandAccepted;
}

impl AcceptedFor for Appended {
    fn accepted_for(self, request: Uuid) -> CommandAccepted {
        CommandAccepted {
            stream_id: request,
            version: self.version,
            position: self.position,
            first_time: self.first_time,
        }
    }
}

async fn read_request(conn: &mut PgConnection, request: Uuid) -> Result<RequestState, Problem> {
    let rows =
        sqlx::query("SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY version")
            .bind(request)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| db_problem(&e))?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let t: String = r.try_get("event_type").map_err(|e| db_problem(&e))?;
        let data: serde_json::Value = r.try_get("data").map_err(|e| db_problem(&e))?;
        let decoded = t
            .parse()
            .ok()
            .and_then(|t| RequestEvent::decode(&t, data).ok());
        match decoded {
            Some(e) => events.push(e),
            None => {
                tracing::error!(event_type = %t, "undecodable event in a request stream");
                return Err(Problem::internal());
            }
        }
    }
    Ok(RequestState::fold(request, &events))
}

async fn append_request(
    conn: &mut PgConnection,
    request: Uuid,
    expected: i64,
    municipality: &str,
    command_id: Option<Uuid>,
    metadata: &Metadata,
    events: &[RequestEvent],
) -> Result<Appended, StoreError> {
    let new: Vec<NewEvent> = events
        .iter()
        .map(NewEvent::from_set)
        .collect::<Result<_, _>>()?;
    EventStore::append_in(
        conn,
        &Append {
            stream_id: request,
            stream_type: RequestEvent::STREAM_TYPE.into(),
            municipality: municipality.into(),
            expected: if expected == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(expected)
            },
            command_id,
            metadata: metadata.clone(),
            events: new,
        },
    )
    .await
}

/// Keeps `requests` in step with a request's events (same transaction).
async fn project(
    conn: &mut PgConnection,
    municipality: &str,
    e: &RequestEvent,
) -> Result<(), sqlx::Error> {
    match e {
        RequestEvent::Filed(f) => {
            sqlx::query(
                "INSERT INTO requests (request, kind, subject, municipality, requester,
                     received_on, deadline, status, filed_by, filed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'ontvangen', $8, $9)",
            )
            .bind(f.request)
            .bind(f.kind.as_str())
            .bind(f.subject)
            .bind(municipality)
            .bind(f.requester.as_str())
            .bind(f.received_on)
            .bind(f.deadline)
            .bind(&f.filed_by)
            .bind(f.filed_at)
            .execute(&mut *conn)
            .await?;
        }
        RequestEvent::Executed(x) => {
            sqlx::query(
                "UPDATE requests SET status = 'uitgevoerd', refused_under_hold = NULL,
                     decided_at = $2, decided_by = $3 WHERE request = $1",
            )
            .bind(x.request)
            .bind(x.executed_at)
            .bind(&x.decided_by)
            .execute(&mut *conn)
            .await?;
        }
        RequestEvent::Rejected(x) => {
            sqlx::query(
                "UPDATE requests SET status = 'afgewezen', reason = $2, refused_under_hold = NULL,
                     decided_at = $3, decided_by = $4 WHERE request = $1",
            )
            .bind(x.request)
            .bind(&x.reason)
            .bind(x.rejected_at)
            .bind(&x.decided_by)
            .execute(&mut *conn)
            .await?;
        }
        RequestEvent::ExecutionRefused(x) => {
            sqlx::query("UPDATE requests SET refused_under_hold = $2 WHERE request = $1")
                .bind(x.request)
                .bind(&x.hold_reason)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use kansrijk_proto::event::EventSchema;

    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const REQUEST: Uuid = Uuid::from_u128(42);
    const SUBJECT: Uuid = Uuid::from_u128(7);

    fn given(events: &[RequestEvent]) -> RequestState {
        RequestState::fold(REQUEST, events)
    }

    fn file(received_on: NaiveDate) -> RequestCommand {
        RequestCommand::File {
            kind: RequestKind::Verwijderverzoek,
            subject: SUBJECT,
            requester: Requester::Ouder,
            received_on,
            today: d(2026, 3, 2),
            by: "00000003123456780000".into(),
            at: at(),
        }
    }

    fn filed() -> RequestEvent {
        decide(&given(&[]), file(d(2026, 1, 31))).unwrap().remove(0)
    }

    fn execute() -> RequestCommand {
        RequestCommand::Execute {
            by: "officer".into(),
            at: at(),
        }
    }

    fn reject(reason: &str) -> RequestCommand {
        RequestCommand::Reject {
            reason: reason.into(),
            by: "officer".into(),
            at: at(),
        }
    }

    fn refuse(reason: &str) -> RequestCommand {
        RequestCommand::RefuseUnderHold {
            hold_reason: reason.into(),
            at: at(),
        }
    }

    #[test]
    fn given_nothing_when_filed_then_it_is_open_with_a_deadline_one_month_later() {
        let events = decide(&given(&[]), file(d(2026, 1, 31))).unwrap();
        let RequestEvent::Filed(f) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(f.deadline, d(2026, 2, 28), "31 January: end of February");
        assert_eq!(f.subject, SUBJECT);
        let s = given(&events);
        assert_eq!(s.status, RequestStatus::Ontvangen);
        assert_eq!(deadline(d(2026, 3, 2)), d(2026, 4, 2));
    }

    #[test]
    fn given_nothing_when_received_tomorrow_then_refused() {
        assert_eq!(
            decide(&given(&[]), file(d(2026, 3, 3))),
            Err(RequestError::ReceivedInFuture)
        );
        assert_eq!(
            decide(&given(&[filed()]), file(d(2026, 3, 1))),
            Err(RequestError::AlreadyFiled)
        );
    }

    #[test]
    fn given_an_open_request_when_executed_then_done_and_again_nothing() {
        let s = given(&[filed()]);
        let done = decide(&s, execute()).unwrap();
        assert!(matches!(done[0], RequestEvent::Executed(_)));
        let s = given(&[filed(), done[0].clone()]);
        assert_eq!(s.status, RequestStatus::Uitgevoerd);
        assert!(decide(&s, execute()).unwrap().is_empty(), "idempotent");
        assert_eq!(
            decide(&s, reject("kennelijk-ongegrond")),
            Err(RequestError::AlreadyDecided {
                status: RequestStatus::Uitgevoerd
            })
        );
    }

    #[test]
    fn given_an_open_request_when_rejected_then_with_a_code_never_free_text() {
        let s = given(&[filed()]);
        assert_eq!(
            decide(&s, reject("De moeder van Noor wil het niet")),
            Err(RequestError::InvalidReason)
        );
        let rejected = decide(&s, reject("bewaarplicht")).unwrap();
        let s = given(&[filed(), rejected[0].clone()]);
        assert_eq!(s.status, RequestStatus::Afgewezen);
        assert_eq!(s.reason.as_deref(), Some("bewaarplicht"));
        assert!(decide(&s, reject("bewaarplicht")).unwrap().is_empty());
        assert!(decide(&s, reject("iets-anders")).is_err());
        assert_eq!(
            decide(&s, execute()),
            Err(RequestError::AlreadyDecided {
                status: RequestStatus::Afgewezen
            })
        );
    }

    #[test]
    fn given_a_hold_when_execution_is_refused_then_the_request_stays_open_with_the_refusal() {
        let s = given(&[filed()]);
        let refused = decide(&s, refuse("rechterlijke-procedure")).unwrap();
        let s = given(&[filed(), refused[0].clone()]);
        assert_eq!(s.status, RequestStatus::Ontvangen);
        assert_eq!(
            s.refused_under_hold.as_deref(),
            Some("rechterlijke-procedure")
        );
        assert!(
            decide(&s, refuse("rechterlijke-procedure"))
                .unwrap()
                .is_empty(),
            "the same refusal is recorded once"
        );
        // The hold was lifted: executed, and the refusal is no longer shown.
        let done = decide(&s, execute()).unwrap();
        let s = given(&[filed(), refused[0].clone(), done[0].clone()]);
        assert_eq!(s.status, RequestStatus::Uitgevoerd);
        assert_eq!(s.refused_under_hold, None);
        assert_eq!(s.version, 3);
    }

    #[test]
    fn given_no_request_when_decided_then_unknown() {
        assert_eq!(decide(&given(&[]), execute()), Err(RequestError::Unknown));
        assert_eq!(
            decide(&given(&[]), reject("x-y")),
            Err(RequestError::Unknown)
        );
        assert_eq!(
            RequestError::Unknown.to_problem().status,
            404,
            "an unknown request is 404"
        );
    }

    #[test]
    fn overdue_is_open_past_the_deadline() {
        let dl = d(2026, 2, 28);
        assert!(!is_overdue(RequestStatus::Ontvangen, dl, d(2026, 2, 28)));
        assert!(is_overdue(RequestStatus::Ontvangen, dl, d(2026, 3, 1)));
        assert!(!is_overdue(RequestStatus::Uitgevoerd, dl, d(2026, 3, 1)));
        assert!(!is_overdue(RequestStatus::Afgewezen, dl, d(2026, 3, 1)));
    }

    #[test]
    fn events_round_trip_and_every_field_has_a_category() {
        let s = given(&[filed()]);
        let all = [
            filed(),
            decide(&s, execute()).unwrap().remove(0),
            decide(&s, reject("bewaarplicht")).unwrap().remove(0),
            decide(&s, refuse("rechterlijke-procedure"))
                .unwrap()
                .remove(0),
        ];
        for e in &all {
            let back = RequestEvent::decode(&e.event_type(), e.to_data().unwrap()).unwrap();
            assert_eq!(&back, e);
            assert!(e.event_type().name().starts_with("nl.privacy.verzoek-"));
        }
        for schema in RequestEvent::schemas() {
            assert_eq!(
                EventSchema::fields_without_category(&schema),
                Vec::<String>::new(),
                "{}",
                schema.event_type
            );
        }
        // The stream type differs from the subject streams', which erasure followers decode.
        assert_ne!(
            RequestEvent::STREAM_TYPE,
            kansrijk_proto::privacy::PrivacyEvent::STREAM_TYPE
        );
    }

    #[test]
    fn wire_names_are_dutch_codes() {
        assert_eq!(
            serde_json::to_value(Requester::Medewerker).unwrap(),
            "medewerker"
        );
        assert_eq!(
            serde_json::to_value(RequestKind::Inzageverzoek).unwrap(),
            "inzageverzoek"
        );
        let body: DecideRequest = serde_json::from_value(serde_json::json!({
            "request": REQUEST, "decision": "afwijzen", "reason": "bewaarplicht"
        }))
        .unwrap();
        assert_eq!(body.decision, Decision::Afwijzen);
        for s in ["ontvangen", "uitgevoerd", "afgewezen"] {
            assert_eq!(RequestStatus::parse(s).unwrap().as_str(), s);
        }
    }
}

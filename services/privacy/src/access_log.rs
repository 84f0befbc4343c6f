//! The NEN 7513 access log: an append-only, hash-chained table in schema `privacy`.
//!
//! - Each entry gets the next `seq` and `hash = SHA-256(domain tag, seq, logged_at, every field of
//!   the entry in a fixed order (length-prefixed), prev_hash)`, where `prev_hash` is the previous
//!   entry's hash (the genesis hash is 32 zero bytes). Changing, deleting, inserting or reordering
//!   a row breaks the chain at that row; truncating the tail no longer matches the head row.
//! - Appends serialise on the head row (`SELECT ... FOR UPDATE`), so every replica writes one
//!   linear chain. Within a process, [`AccessLogWriter`] group-commits: requests that arrive while
//!   a transaction is running are written together in the next one, and each request is answered
//!   only after the transaction holding its entries committed.
//! - The head row carries a keyed seal (HMAC-SHA256 with the pseudonym key, in its own domain)
//!   over `(seq, hash)`: the plain chain shows changed, removed and reordered rows to anyone;
//!   the seal also shows a chain rewritten from some row to the head by someone who can write
//!   the database but does not hold the key ([`verify_chain_sealed`]).
//! - Entries past their retention are purged as a prefix; the purge records a checkpoint (the seq
//!   and hash of the last removed entry) and [`verify_chain`] starts from the latest checkpoint.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt;
use kansrijk_proto::actor::{OrganisationType, Purpose};
use kansrijk_runtime::access_log::{AccessEntry, AccessEvent, AccessOutcome};
use kansrijk_runtime::crypto::Pseudonymizer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// A 32-byte SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash before the first entry.
pub const GENESIS: Hash = [0; 32];

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedAccess {
    pub seq: i64,
    pub logged_at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: AccessEntry,
}

/// Truncates to the microseconds PostgreSQL stores, so that what is hashed is what is stored.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn purpose_str(p: Purpose) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_purpose(s: &str) -> Option<Purpose> {
    serde_json::from_value(serde_json::Value::from(s)).ok()
}

/// The hash of one entry: every field in a fixed order, each prefixed with its length.
pub fn entry_hash(prev: &Hash, seq: i64, logged_at: DateTime<Utc>, e: &AccessEntry) -> Hash {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u32).to_be_bytes());
        h.update(b);
    };
    field(b"kansrijk-toegangslog-v1");
    field(seq.to_string().as_bytes());
    field(ts(logged_at).as_bytes());
    field(e.event.as_str().as_bytes());
    field(ts(e.occurred_at).as_bytes());
    field(e.user.as_bytes());
    field(e.organisation.as_bytes());
    field(e.municipality.as_bytes());
    field(e.organisation_type.as_str().as_bytes());
    field(e.role.as_bytes());
    field(purpose_str(e.purpose).as_bytes());
    field(
        e.subject
            .map(|s| s.to_string())
            .unwrap_or_default()
            .as_bytes(),
    );
    field(e.access_point.as_bytes());
    field(e.outcome.as_str().as_bytes());
    field(e.trace_id.as_deref().unwrap_or_default().as_bytes());
    field(prev);
    h.finalize().into()
}

/// Checks the fields of entries before they are logged: everything required is there and short,
/// and no field is free text that could carry personal data.
pub fn validate(entries: &[AccessEntry]) -> Result<(), Vec<kansrijk_proto::problem::FieldError>> {
    use kansrijk_proto::problem::FieldError;
    let mut errors = Vec::new();
    let token =
        |s: &str| !s.is_empty() && s.len() <= 200 && s.bytes().all(|b| b.is_ascii_graphic());
    for (i, e) in entries.iter().enumerate() {
        for (name, value) in [
            ("user", e.user.as_str()),
            ("organisation", e.organisation.as_str()),
            ("role", e.role.as_str()),
            ("accessPoint", e.access_point.as_str()),
        ] {
            if !token(value) {
                errors.push(FieldError::new(
                    format!("entries.{i}.{name}"),
                    "ongeldig",
                    "Verplicht: een code zonder spaties van hoogstens 200 tekens.",
                ));
            }
        }
        if !(e.municipality.len() == 4 && e.municipality.bytes().all(|b| b.is_ascii_digit())) {
            errors.push(FieldError::new(
                format!("entries.{i}.municipality"),
                "gemeentecode",
                "Een gemeentecode bestaat uit vier cijfers.",
            ));
        }
        if e.trace_id.as_deref().is_some_and(|t| !token(t)) {
            errors.push(FieldError::new(
                format!("entries.{i}.traceId"),
                "ongeldig",
                "Een trace-id is een code zonder spaties.",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The keyed seal of a head.
pub fn head_seal(sealer: &Pseudonymizer, seq: i64, hash: &[u8]) -> String {
    sealer.pseudonym("toegangslog-kop", &format!("{seq}:{}", hex(hash)))
}

/// Appends entries in one transaction under the head lock; returns the first and last seq.
/// With a `sealer`, the new head is sealed.
pub async fn append(
    pool: &PgPool,
    entries: &[AccessEntry],
    sealer: Option<&Pseudonymizer>,
) -> Result<(i64, i64), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let head = sqlx::query("SELECT seq, hash FROM access_log_head WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    let mut seq: i64 = head.try_get("seq")?;
    let head_hash: Vec<u8> = head.try_get("hash")?;
    let mut prev: Hash = head_hash.as_slice().try_into().unwrap_or(GENESIS);
    let first = seq + 1;
    let logged_at = to_micros(Utc::now());
    for chunk in entries.chunks(500) {
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "INSERT INTO access_log (seq, logged_at, event, occurred_at, user_pseudonym, organisation,
             municipality, organisation_type, role, purpose, subject, access_point, outcome, trace_id,
             prev_hash, hash) ",
        );
        let mut rows = Vec::with_capacity(chunk.len());
        for e in chunk {
            seq += 1;
            let mut e = e.clone();
            e.occurred_at = to_micros(e.occurred_at);
            let hash = entry_hash(&prev, seq, logged_at, &e);
            rows.push((seq, e, prev, hash));
            prev = hash;
        }
        qb.push_values(rows, |mut b, (seq, e, prev, hash)| {
            b.push_bind(seq)
                .push_bind(logged_at)
                .push_bind(e.event.as_str())
                .push_bind(e.occurred_at)
                .push_bind(e.user)
                .push_bind(e.organisation)
                .push_bind(e.municipality)
                .push_bind(e.organisation_type.as_str())
                .push_bind(e.role)
                .push_bind(purpose_str(e.purpose))
                .push_bind(e.subject)
                .push_bind(e.access_point)
                .push_bind(e.outcome.as_str())
                .push_bind(e.trace_id)
                .push_bind(prev.to_vec())
                .push_bind(hash.to_vec());
        });
        qb.build().execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE access_log_head SET seq = $1, hash = $2, seal = $3 WHERE id = 1")
        .bind(seq)
        .bind(prev.to_vec())
        .bind(sealer.map(|s| head_seal(s, seq, &prev)))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((first, seq))
}

struct Job {
    entries: Vec<AccessEntry>,
    done: oneshot::Sender<Result<(i64, i64), String>>,
}

/// Group commit of access-log appends: one writer task per process.
#[derive(Debug, Clone)]
pub struct AccessLogWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// Entries one group commit takes at most.
const GROUP_LIMIT: usize = 2000;

impl AccessLogWriter {
    /// Starts the writer task; it ends when the last writer handle is dropped.
    pub fn spawn(pool: PgPool, sealer: Option<Pseudonymizer>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(1024);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                let mut n = jobs[0].entries.len();
                while n < GROUP_LIMIT {
                    match rx.try_recv() {
                        Ok(j) => {
                            n += j.entries.len();
                            jobs.push(j);
                        }
                        Err(_) => break,
                    }
                }
                let all: Vec<AccessEntry> = jobs
                    .iter()
                    .flat_map(|j| j.entries.iter().cloned())
                    .collect();
                let result = append(&pool, &all, sealer.as_ref()).await;
                metrics::counter!("kansrijk_access_log_appended_total").increment(all.len() as u64);
                match result {
                    Ok((first_seq, _)) => {
                        let mut next = first_seq;
                        for j in jobs {
                            let len = j.entries.len() as i64;
                            let _ = j.done.send(Ok((next, next + len - 1)));
                            next += len;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "access log append failed");
                        for j in jobs {
                            let _ = j.done.send(Err("append failed".into()));
                        }
                    }
                }
            }
        });
        AccessLogWriter { jobs: tx }
    }

    /// Appends durably: returns once the entries are committed.
    pub async fn append(&self, entries: Vec<AccessEntry>) -> Result<(i64, i64), String> {
        if entries.is_empty() {
            return Err("no entries".into());
        }
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job { entries, done })
            .await
            .map_err(|_| "access log writer stopped".to_owned())?;
        wait.await
            .map_err(|_| "access log writer stopped".to_owned())?
    }
}

/// One way the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ChainProblem {
    /// A row's content does not match its hash (it was changed).
    HashMismatch { seq: i64 },
    /// A row does not link to the hash of the row before it (rows were removed, inserted or
    /// reordered, or the previous row was changed together with its hash).
    BrokenLink { seq: i64 },
    /// Sequence numbers jump: rows are missing between these.
    Gap { expected: i64, found: i64 },
    /// The last row is not the head the log recorded: the tail was removed or replaced.
    HeadMismatch { head_seq: i64, last_seq: i64 },
    /// A row holds a value that no append writes.
    Unreadable { seq: i64 },
    /// The head's keyed seal does not match: the chain was rewritten up to its head.
    HeadSealMismatch { head_seq: i64 },
}

/// The outcome of [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub ok: bool,
    /// The checkpoint verification started from (0 = the beginning).
    pub from_seq: i64,
    pub head_seq: i64,
    pub entries_checked: i64,
    /// Whether the head's keyed seal was checked too.
    pub sealed: bool,
    /// The first problems found (at most 100).
    pub problems: Vec<ChainProblem>,
}

fn row_to_logged(
    r: &sqlx::postgres::PgRow,
) -> Result<Option<(LoggedAccess, Hash, Hash)>, sqlx::Error> {
    let event: String = r.try_get("event")?;
    let org_type: String = r.try_get("organisation_type")?;
    let purpose: String = r.try_get("purpose")?;
    let outcome: String = r.try_get("outcome")?;
    let prev: Vec<u8> = r.try_get("prev_hash")?;
    let hash: Vec<u8> = r.try_get("hash")?;
    let (Some(event), Some(organisation_type), Some(purpose), Some(outcome), Ok(prev), Ok(hash)) = (
        AccessEvent::parse(&event),
        OrganisationType::parse(&org_type),
        parse_purpose(&purpose),
        AccessOutcome::parse(&outcome),
        <Hash>::try_from(prev.as_slice()),
        <Hash>::try_from(hash.as_slice()),
    ) else {
        return Ok(None);
    };
    Ok(Some((
        LoggedAccess {
            seq: r.try_get("seq")?,
            logged_at: r.try_get("logged_at")?,
            entry: AccessEntry {
                event,
                occurred_at: r.try_get("occurred_at")?,
                user: r.try_get("user_pseudonym")?,
                organisation: r.try_get("organisation")?,
                municipality: r.try_get("municipality")?,
                organisation_type,
                role: r.try_get("role")?,
                purpose,
                subject: r.try_get("subject")?,
                access_point: r.try_get("access_point")?,
                outcome,
                trace_id: r.try_get("trace_id")?,
            },
        },
        prev,
        hash,
    )))
}

const SELECT_LOG: &str = "SELECT seq, logged_at, event, occurred_at, user_pseudonym, organisation,
    municipality, organisation_type, role, purpose, subject, access_point, outcome, trace_id, prev_hash, hash
    FROM access_log";

/// Verifies the whole chain from the latest checkpoint to the head.
pub async fn verify_chain(pool: &PgPool) -> Result<VerifyReport, sqlx::Error> {
    verify(pool, None).await
}

/// [`verify_chain`] plus the head's keyed seal.
pub async fn verify_chain_sealed(
    pool: &PgPool,
    sealer: &Pseudonymizer,
) -> Result<VerifyReport, sqlx::Error> {
    verify(pool, Some(sealer)).await
}

async fn verify(
    pool: &PgPool,
    sealer: Option<&Pseudonymizer>,
) -> Result<VerifyReport, sqlx::Error> {
    // One snapshot for the checkpoint, the rows and the head.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (from_seq, mut prev): (i64, Hash) =
        match sqlx::query("SELECT seq, hash FROM access_log_checkpoints ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?
        {
            Some(r) => {
                let h: Vec<u8> = r.try_get("hash")?;
                (
                    r.try_get("seq")?,
                    h.as_slice().try_into().unwrap_or(GENESIS),
                )
            }
            None => (0, GENESIS),
        };
    let head = sqlx::query("SELECT seq, hash, seal FROM access_log_head WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: Vec<u8> = head.try_get("hash")?;
    let seal: Option<String> = head.try_get("seal")?;
    let seal_broken = match sealer {
        // The empty log has nothing to seal.
        Some(_) if head_seq == 0 => false,
        Some(k) => seal.as_deref() != Some(head_seal(k, head_seq, &head_hash).as_str()),
        None => false,
    };

    let mut problems = Vec::new();
    let push = |p: ChainProblem, problems: &mut Vec<ChainProblem>| {
        if problems.len() < 100 {
            problems.push(p);
        }
    };
    let mut expected = from_seq + 1;
    let mut checked = 0i64;
    let mut last_seq = from_seq;
    let mut last_hash = prev;
    {
        let sql = format!("{SELECT_LOG} WHERE seq > $1 ORDER BY seq");
        let mut rows = sqlx::query(&sql).bind(from_seq).fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let seq: i64 = r.try_get("seq")?;
            checked += 1;
            if seq != expected {
                push(
                    ChainProblem::Gap {
                        expected,
                        found: seq,
                    },
                    &mut problems,
                );
            }
            expected = seq + 1;
            last_seq = seq;
            match row_to_logged(&r)? {
                None => {
                    push(ChainProblem::Unreadable { seq }, &mut problems);
                    let h: Vec<u8> = r.try_get("hash")?;
                    prev = h.as_slice().try_into().unwrap_or(GENESIS);
                }
                Some((logged, stored_prev, stored_hash)) => {
                    if stored_prev != prev {
                        push(ChainProblem::BrokenLink { seq }, &mut problems);
                    }
                    let recomputed = entry_hash(&stored_prev, seq, logged.logged_at, &logged.entry);
                    if recomputed != stored_hash {
                        push(ChainProblem::HashMismatch { seq }, &mut problems);
                    }
                    prev = stored_hash;
                }
            }
            last_hash = prev;
        }
    }
    if last_seq != head_seq || last_hash.as_slice() != head_hash.as_slice() {
        push(
            ChainProblem::HeadMismatch { head_seq, last_seq },
            &mut problems,
        );
    }
    if seal_broken {
        push(ChainProblem::HeadSealMismatch { head_seq }, &mut problems);
    }
    tx.commit().await?;
    Ok(VerifyReport {
        ok: problems.is_empty(),
        from_seq,
        head_seq,
        entries_checked: checked,
        sealed: sealer.is_some(),
        problems,
    })
}

/// What a purge did.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct PurgeOutcome {
    pub purged: u64,
    /// The new checkpoint (the last purged entry), if anything was purged.
    pub checkpoint_seq: Option<i64>,
}

/// The number of entries logged before `before` (what a purge would remove).
pub async fn count_before(pool: &PgPool, before: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM access_log WHERE logged_at < $1")
        .bind(before)
        .fetch_one(pool)
        .await
}

/// Removes the prefix of the log logged before `before` and checkpoints the chain at its end.
/// Refuses (and removes nothing) when the chain up to the head does not verify: a purge must not
/// destroy the evidence of tampering.
pub async fn purge_before(
    pool: &PgPool,
    before: DateTime<Utc>,
    sealer: Option<&Pseudonymizer>,
) -> anyhow::Result<PurgeOutcome> {
    let report = verify(pool, sealer).await?;
    anyhow::ensure!(
        report.ok,
        "the access log does not verify; nothing is purged ({} problems)",
        report.problems.len()
    );
    let mut tx = pool.begin().await?;
    // Appends wait while the purge runs: the prefix it removes cannot grow under it.
    sqlx::query("SELECT seq FROM access_log_head WHERE id = 1 FOR UPDATE")
        .execute(&mut *tx)
        .await?;
    // The purge is a prefix: up to the first entry that must stay.
    let keep_from: Option<i64> =
        sqlx::query_scalar("SELECT min(seq) FROM access_log WHERE logged_at >= $1")
            .bind(before)
            .fetch_one(&mut *tx)
            .await?;
    let last: Option<(i64, Vec<u8>)> = match keep_from {
        Some(k) => {
            sqlx::query_as(
                "SELECT seq, hash FROM access_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(k)
            .fetch_optional(&mut *tx)
            .await?
        }
        None => {
            sqlx::query_as("SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?
        }
    };
    let Some((last_seq, last_hash)) = last else {
        tx.commit().await?;
        return Ok(PurgeOutcome::default());
    };
    sqlx::query("SET LOCAL kansrijk.access_log_purge = 'on'")
        .execute(&mut *tx)
        .await?;
    let purged = sqlx::query("DELETE FROM access_log WHERE seq <= $1")
        .bind(last_seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("INSERT INTO access_log_checkpoints (seq, hash, purged) VALUES ($1, $2, $3)")
        .bind(last_seq)
        .bind(&last_hash)
        .bind(purged as i64)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(purged, checkpoint = last_seq, "access log purged");
    Ok(PurgeOutcome {
        purged,
        checkpoint_seq: Some(last_seq),
    })
}

/// The privacy officer's filters on the log (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogQuery {
    #[serde(default)]
    pub subject: Option<Uuid>,
    /// The user's pseudonym.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    /// `create`, `read`, `update`, `delete`, `export`, `search` or `break-glass`.
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub access_point: Option<String>,
    /// `success`, `denied` or `failed`.
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Paging: entries after this seq.
    #[serde(default)]
    pub after_seq: Option<i64>,
    /// At most 1000; default 100.
    #[serde(default)]
    pub limit: Option<i64>,
}

/// One page of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogPage {
    pub entries: Vec<LoggedAccess>,
    /// Pass as `afterSeq` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after_seq: Option<i64>,
}

/// Queries the log; `municipality` limits it to one tenant's entries (the officer's own).
pub async fn query(
    pool: &PgPool,
    q: &AccessLogQuery,
    municipality: Option<&str>,
) -> Result<AccessLogPage, sqlx::Error> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(SELECT_LOG);
    qb.push(" WHERE seq > ").push_bind(q.after_seq.unwrap_or(0));
    if let Some(m) = municipality {
        qb.push(" AND municipality = ").push_bind(m.to_owned());
    }
    if let Some(s) = q.subject {
        qb.push(" AND subject = ").push_bind(s);
    }
    if let Some(u) = &q.user {
        qb.push(" AND user_pseudonym = ").push_bind(u.clone());
    }
    if let Some(o) = &q.organisation {
        qb.push(" AND organisation = ").push_bind(o.clone());
    }
    if let Some(e) = &q.event {
        qb.push(" AND event = ").push_bind(e.clone());
    }
    if let Some(a) = &q.access_point {
        qb.push(" AND access_point = ").push_bind(a.clone());
    }
    if let Some(o) = &q.outcome {
        qb.push(" AND outcome = ").push_bind(o.clone());
    }
    if let Some(f) = q.from {
        qb.push(" AND occurred_at >= ").push_bind(f);
    }
    if let Some(u) = q.until {
        qb.push(" AND occurred_at < ").push_bind(u);
    }
    qb.push(" ORDER BY seq LIMIT ").push_bind(limit + 1);
    let rows = qb.build().fetch_all(pool).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some((l, _, _)) = row_to_logged(r)? {
            entries.push(l);
        }
    }
    let next_after_seq = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(AccessLogPage {
        entries,
        next_after_seq,
    })
}

/// Every entry about one subject, oldest first (the data subject's extract).
pub async fn extract_for_subject(
    pool: &PgPool,
    subject: Uuid,
) -> Result<Vec<LoggedAccess>, sqlx::Error> {
    let rows = sqlx::query(&format!("{SELECT_LOG} WHERE subject = $1 ORDER BY seq"))
        .bind(subject)
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some((l, _, _)) = row_to_logged(r)? {
            out.push(l);
        }
    }
    Ok(out)
}

/// Hex of a hash, for reports.
pub fn hex(h: &[u8]) -> String {
    let mut s = String::with_capacity(h.len() * 2);
    for b in h {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(user: &str) -> AccessEntry {
        AccessEntry {
            event: AccessEvent::Read,
            occurred_at: DateTime::from_timestamp(1_770_000_000, 123_456_789).unwrap(),
            user: user.into(),
            organisation: "00000001002220647000".into(),
            municipality: "0546".into(),
            organisation_type: OrganisationType::Jgz,
            role: "jeugdverpleegkundige".into(),
            purpose: Purpose::Zorgverlening,
            subject: Some(Uuid::from_u128(1)),
            access_point: "vve.werklijst".into(),
            outcome: AccessOutcome::Success,
            trace_id: None,
        }
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let at = DateTime::from_timestamp(1_770_000_000, 0).unwrap();
        let base = entry("p1");
        let h = entry_hash(&GENESIS, 1, at, &base);
        let mut variants = Vec::new();
        let mut e = base.clone();
        e.event = AccessEvent::Export;
        variants.push(e);
        let mut e = base.clone();
        e.user = "p2".into();
        variants.push(e);
        let mut e = base.clone();
        e.subject = None;
        variants.push(e);
        let mut e = base.clone();
        e.outcome = AccessOutcome::Denied;
        variants.push(e);
        let mut e = base.clone();
        e.trace_id = Some("abc".into());
        variants.push(e);
        let mut e = base.clone();
        e.purpose = Purpose::Overdracht;
        variants.push(e);
        for v in &variants {
            assert_ne!(entry_hash(&GENESIS, 1, at, v), h);
        }
        assert_ne!(entry_hash(&GENESIS, 2, at, &base), h);
        assert_ne!(entry_hash(&[1; 32], 1, at, &base), h);
    }

    proptest! {
        /// Length prefixes: moving characters from one field to the next changes the hash.
        #[test]
        fn field_boundaries_matter(a in "[a-z]{1,8}", b in "[a-z]{1,8}") {
            let at = DateTime::from_timestamp(1_770_000_000, 0).unwrap();
            let mut x = entry(&a);
            x.organisation = b.clone();
            let mut y = entry(&format!("{a}{}", &b[..1]));
            y.organisation = b[1..].to_string();
            prop_assert_ne!(entry_hash(&GENESIS, 1, at, &x), entry_hash(&GENESIS, 1, at, &y));
        }
    }

    #[test]
    fn free_text_is_refused() {
        let mut e = entry("p1");
        e.role = "Fatima de Vries".into();
        assert!(validate(&[e]).is_err());
        assert!(validate(&[entry("p1")]).is_ok());
    }
}

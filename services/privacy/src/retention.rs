//! Retention: the configured policy applied to the retention periods the domain services
//! registered (`kansrijk.cmd.privacy.bewaartermijn-registreren`), and to the access log.
//!
//! [`retention_report`] is the dry run: what would go today and what a legal hold keeps.
//! [`apply_retention`] does it: for each subject whose every period ran out (its primary kind
//! included), erasure on the grounds `bewaartermijn`; for a kind that ran out while other data must
//! stay, `nl.privacy.bewaartermijn-verstreken` so its owner drops it; access-log entries older than
//! the log's retention are purged with a checkpoint. The scheduler in `run()` calls it
//! periodically; every step is idempotent, so replicas running it at once do no harm.

use std::collections::BTreeMap;

use chrono::{DateTime, Months as ChronoMonths, NaiveDate, Utc};
use kansrijk_proto::actor::Actor;
use kansrijk_proto::privacy::{DataKind, ErasureGrounds, SubjectKind};
use kansrijk_runtime::identity::service_actor;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::access_log;
use crate::config::RetentionPolicy;
use crate::domain::{self, Command, Retention, RetentionVerdict};
use crate::subjects::{metadata_for, parse_kind, Privacy};

/// A subject that would be erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectDue {
    pub subject: Uuid,
    pub subject_kind: SubjectKind,
    /// The last day its data had to be kept.
    pub retained_until: NaiveDate,
}

/// One kind of a subject's data that would go (the rest stays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindDue {
    pub subject: Uuid,
    pub data_kind: DataKind,
    pub retained_until: NaiveDate,
}

/// A subject whose data is due but kept by a legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldDue {
    pub subject: Uuid,
    pub hold_reason: String,
    pub data_kinds: Vec<DataKind>,
}

/// What retention would do today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionReport {
    pub generated_at: DateTime<Utc>,
    pub today: NaiveDate,
    pub erase: Vec<SubjectDue>,
    pub end_kinds: Vec<KindDue>,
    pub blocked_by_hold: Vec<HeldDue>,
    /// Access-log entries logged before this moment are past retention.
    pub access_log_purge_before: DateTime<Utc>,
    pub access_log_entries_due: i64,
}

impl RetentionReport {
    /// The report as text for the CLI (pseudonymous ids only).
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Bewaartermijnen per {} (proefdraai, er is niets gewijzigd)\n",
            self.today
        );
        out.push_str(&format!("\nTe wissen betrokkenen: {}\n", self.erase.len()));
        for s in &self.erase {
            out.push_str(&format!(
                "  {}  {:<6} bewaard tot {}\n",
                s.subject,
                crate::subjects::kind_str(s.subject_kind),
                s.retained_until
            ));
        }
        out.push_str(&format!(
            "\nVerlopen soorten gegevens (de rest blijft): {}\n",
            self.end_kinds.len()
        ));
        for k in &self.end_kinds {
            out.push_str(&format!(
                "  {}  {:<10} bewaard tot {}\n",
                k.subject,
                k.data_kind.as_str(),
                k.retained_until
            ));
        }
        out.push_str(&format!(
            "\nTegengehouden door een bewaarplicht: {}\n",
            self.blocked_by_hold.len()
        ));
        for h in &self.blocked_by_hold {
            let kinds: Vec<&str> = h.data_kinds.iter().map(|k| k.as_str()).collect();
            out.push_str(&format!(
                "  {}  {} ({})\n",
                h.subject,
                h.hold_reason,
                kinds.join(", ")
            ));
        }
        out.push_str(&format!(
            "\nToegangslog: {} regels van voor {} kunnen weg\n",
            self.access_log_entries_due,
            self.access_log_purge_before.format("%Y-%m-%d %H:%M UTC")
        ));
        out
    }
}

/// The dry run: what retention would do at `now`, changing nothing.
pub async fn retention_report(
    pool: &PgPool,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> anyhow::Result<RetentionReport> {
    let today = now.date_naive();
    let rows = sqlx::query(
        "SELECT s.subject, s.subject_kind, s.hold_reason, r.data_kind, r.start_date,
                r.ended_at IS NOT NULL AS ended
         FROM subjects s JOIN retention_periods r ON r.subject = s.subject
         WHERE s.erased_at IS NULL
         ORDER BY s.subject",
    )
    .fetch_all(pool)
    .await?;
    struct Subject {
        kind: SubjectKind,
        hold: Option<String>,
        periods: BTreeMap<DataKind, Retention>,
    }
    let mut subjects: BTreeMap<Uuid, Subject> = BTreeMap::new();
    for r in rows {
        let subject: Uuid = r.try_get("subject")?;
        let kind: String = r.try_get("subject_kind")?;
        let data_kind: String = r.try_get("data_kind")?;
        let (Some(kind), Some(data_kind)) = (parse_kind(&kind), DataKind::parse(&data_kind)) else {
            tracing::warn!("skipping a retention row with an unknown kind");
            continue;
        };
        let entry = subjects.entry(subject).or_insert_with(|| Subject {
            kind,
            hold: None,
            periods: BTreeMap::new(),
        });
        entry.hold = r.try_get("hold_reason")?;
        entry.periods.insert(
            data_kind,
            Retention {
                start_date: r.try_get("start_date")?,
                ended: r.try_get("ended")?,
            },
        );
    }
    let mut report = RetentionReport {
        generated_at: now,
        today,
        erase: Vec::new(),
        end_kinds: Vec::new(),
        blocked_by_hold: Vec::new(),
        access_log_purge_before: access_log_cutoff(policy, now),
        access_log_entries_due: 0,
    };
    for (subject, s) in subjects {
        match domain::evaluate(s.kind, s.hold.as_deref(), &s.periods, policy, today) {
            RetentionVerdict::Keep => {}
            RetentionVerdict::Erase { retained_until } => report.erase.push(SubjectDue {
                subject,
                subject_kind: s.kind,
                retained_until,
            }),
            RetentionVerdict::EndKinds(kinds) => {
                for (data_kind, retained_until) in kinds {
                    report.end_kinds.push(KindDue {
                        subject,
                        data_kind,
                        retained_until,
                    });
                }
            }
            RetentionVerdict::BlockedByHold { reason, due } => {
                report.blocked_by_hold.push(HeldDue {
                    subject,
                    hold_reason: reason,
                    data_kinds: if due.is_empty() {
                        s.periods.keys().copied().collect()
                    } else {
                        due.into_iter().map(|(k, _)| k).collect()
                    },
                })
            }
        }
    }
    report.access_log_entries_due =
        access_log::count_before(pool, report.access_log_purge_before).await?;
    Ok(report)
}

/// The moment before which access-log entries are past retention.
pub fn access_log_cutoff(policy: &RetentionPolicy, now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(ChronoMonths::new(policy.access_log.0))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// What [`apply_retention`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionOutcome {
    pub erased: usize,
    pub kinds_ended: usize,
    pub blocked_by_hold: usize,
    /// Steps that failed (counted; retried at the next run).
    pub failed: usize,
    pub access_log_purged: u64,
}

/// Applies the policy at `now`.
pub async fn apply_retention(
    privacy: &Privacy,
    now: DateTime<Utc>,
) -> anyhow::Result<RetentionOutcome> {
    let report = retention_report(privacy.pool(), &privacy.config().retention, now).await?;
    let actor: Actor = service_actor("privacy", &privacy.config().common.oin);
    let mut outcome = RetentionOutcome {
        blocked_by_hold: report.blocked_by_hold.len(),
        ..Default::default()
    };
    for due in &report.end_kinds {
        let r = privacy
            .execute(
                due.subject,
                Command::EndRetention {
                    data_kind: due.data_kind,
                    at: now,
                },
                None,
                &metadata_for(&actor, None, None),
            )
            .await;
        match r {
            Ok(_) => outcome.kinds_ended += 1,
            // Another replica's run got there first.
            Err(p) if p.status == 410 => {}
            Err(p) => {
                tracing::warn!(code = ?p.code, "ending a retention period failed");
                outcome.failed += 1;
            }
        }
    }
    for due in &report.erase {
        match privacy
            .erase(due.subject, ErasureGrounds::Bewaartermijn, &actor, None)
            .await
        {
            Ok(_) => outcome.erased += 1,
            Err(p) if p.status == 410 => {}
            Err(p) => {
                tracing::warn!(code = ?p.code, "erasure by retention failed");
                outcome.failed += 1;
            }
        }
    }
    if report.access_log_entries_due > 0 {
        match access_log::purge_before(
            privacy.pool(),
            report.access_log_purge_before,
            Some(&privacy.config().pseudonymizer),
        )
        .await
        {
            Ok(p) => outcome.access_log_purged = p.purged,
            Err(e) => {
                tracing::error!(error = %e, "access log purge refused");
                outcome.failed += 1;
            }
        }
    }
    tracing::info!(
        erased = outcome.erased,
        kinds_ended = outcome.kinds_ended,
        blocked = outcome.blocked_by_hold,
        failed = outcome.failed,
        purged = outcome.access_log_purged,
        "retention applied"
    );
    Ok(outcome)
}

/// Runs [`apply_retention`] and verifies the access log every `interval` until shutdown
/// (gauge `kansrijk_access_log_chain_ok`: 1 when the chain verifies).
pub async fn scheduler(
    privacy: Privacy,
    interval: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = apply_retention(&privacy, Utc::now()).await {
            tracing::error!(error = %e, "retention run failed");
        }
        // The access log is verified on every run, so tampering is noticed without anyone asking.
        match access_log::verify_chain_sealed(privacy.pool(), &privacy.config().pseudonymizer).await
        {
            Ok(r) => {
                metrics::gauge!("kansrijk_access_log_chain_ok").set(if r.ok { 1.0 } else { 0.0 });
                metrics::gauge!("kansrijk_access_log_head_seq").set(r.head_seq as f64);
                if !r.ok {
                    tracing::error!(
                        problems = r.problems.len(),
                        "the access log's hash chain does not verify"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "access log verification failed"),
        }
    }
}

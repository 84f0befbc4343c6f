//! The life of one data subject as the privacy service sees it, as pure decisions: a key is
//! created, legal holds come and go, retention periods start and end, and finally the subject is
//! erased. No I/O: `decide` takes the state folded from the subject's stream and a command, and
//! returns the events to append or why not.

use std::collections::BTreeMap;

use chrono::{DateTime, Months as ChronoMonths, NaiveDate, Utc};
use kansrijk_proto::privacy::{
    DataKind, ErasureGrounds, LegalHoldLifted, LegalHoldPlaced, PrivacyEvent, RetentionEnded,
    RetentionStarted, SubjectErased, SubjectKeyCreated, SubjectKind,
};
use uuid::Uuid;

use crate::config::{Months, RetentionPolicy};

/// The retention of one kind of a subject's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub start_date: NaiveDate,
    pub ended: bool,
}

/// What the privacy service knows about one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectState {
    pub subject: Uuid,
    /// The stream's version (0: no stream yet).
    pub version: i64,
    pub kind: Option<SubjectKind>,
    pub hold: Option<String>,
    pub retention: BTreeMap<DataKind, Retention>,
    pub erased: bool,
}

/// What someone asks of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    CreateKey {
        kind: SubjectKind,
        at: DateTime<Utc>,
    },
    Erase {
        grounds: ErasureGrounds,
        /// Organisation id of the privacy officer (or the operator for the scheduler).
        by: String,
        at: DateTime<Utc>,
    },
    PlaceHold {
        reason: String,
        at: DateTime<Utc>,
    },
    LiftHold {
        at: DateTime<Utc>,
    },
    StartRetention {
        data_kind: DataKind,
        start_date: NaiveDate,
        at: DateTime<Utc>,
    },
    EndRetention {
        data_kind: DataKind,
        at: DateTime<Utc>,
    },
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the subject was erased")]
    Erased,
    #[error("the subject is unknown")]
    Unknown,
    #[error("a legal hold blocks erasure")]
    OnHold { reason: String },
    #[error("there is no legal hold to lift")]
    NoHold,
    #[error("the reason is not a reason code")]
    InvalidReason,
    #[error("the retention of this kind has not started")]
    RetentionNotStarted,
}

impl SubjectState {
    pub fn new(subject: Uuid) -> Self {
        SubjectState {
            subject,
            ..Default::default()
        }
    }

    /// Folds a stream's events.
    pub fn fold<'a>(subject: Uuid, events: impl IntoIterator<Item = &'a PrivacyEvent>) -> Self {
        let mut s = SubjectState::new(subject);
        for e in events {
            s = apply(s, e);
        }
        s
    }

    fn known(&self) -> Result<SubjectKind, DomainError> {
        if self.erased {
            return Err(DomainError::Erased);
        }
        self.kind.ok_or(DomainError::Unknown)
    }
}

/// Applies one event (and counts the version).
pub fn apply(mut s: SubjectState, e: &PrivacyEvent) -> SubjectState {
    s.version += 1;
    match e {
        PrivacyEvent::KeyCreated(k) => s.kind = Some(k.subject_kind),
        PrivacyEvent::Erased(_) => {
            s.erased = true;
            s.hold = None;
        }
        PrivacyEvent::HoldPlaced(h) => s.hold = Some(h.reason.clone()),
        PrivacyEvent::HoldLifted(_) => s.hold = None,
        PrivacyEvent::RetentionStarted(r) => {
            s.retention.insert(
                r.data_kind,
                Retention {
                    start_date: r.start_date,
                    ended: false,
                },
            );
        }
        PrivacyEvent::RetentionEnded(r) => {
            if let Some(x) = s.retention.get_mut(&r.data_kind) {
                x.ended = true;
            }
        }
    }
    s
}

/// Decides a command. An empty list means: nothing to do (the command was already in effect).
pub fn decide(s: &SubjectState, cmd: Command) -> Result<Vec<PrivacyEvent>, DomainError> {
    let subject = s.subject;
    match cmd {
        Command::CreateKey { kind, at } => {
            if s.erased {
                return Err(DomainError::Erased);
            }
            if s.kind.is_some() {
                return Ok(vec![]);
            }
            Ok(vec![SubjectKeyCreated {
                subject,
                subject_kind: kind,
                created_at: at,
            }
            .into()])
        }
        Command::Erase { grounds, by, at } => {
            let kind = s.known()?;
            if let Some(reason) = &s.hold {
                return Err(DomainError::OnHold {
                    reason: reason.clone(),
                });
            }
            Ok(vec![SubjectErased {
                subject,
                subject_kind: kind,
                grounds,
                erased_by: by,
                erased_at: at,
            }
            .into()])
        }
        Command::PlaceHold { reason, at } => {
            s.known()?;
            if !is_reason_code(&reason) {
                return Err(DomainError::InvalidReason);
            }
            if s.hold.as_deref() == Some(reason.as_str()) {
                return Ok(vec![]);
            }
            Ok(vec![LegalHoldPlaced {
                subject,
                reason,
                placed_at: at,
            }
            .into()])
        }
        Command::LiftHold { at } => {
            s.known()?;
            if s.hold.is_none() {
                return Err(DomainError::NoHold);
            }
            Ok(vec![LegalHoldLifted {
                subject,
                lifted_at: at,
            }
            .into()])
        }
        Command::StartRetention {
            data_kind,
            start_date,
            at,
        } => {
            s.known()?;
            let same = s
                .retention
                .get(&data_kind)
                .is_some_and(|r| r.start_date == start_date && !r.ended);
            if same {
                return Ok(vec![]);
            }
            Ok(vec![RetentionStarted {
                subject,
                data_kind,
                start_date,
                registered_at: at,
            }
            .into()])
        }
        Command::EndRetention { data_kind, at } => {
            s.known()?;
            match s.retention.get(&data_kind) {
                None => Err(DomainError::RetentionNotStarted),
                Some(r) if r.ended => Ok(vec![]),
                Some(_) => Ok(vec![RetentionEnded {
                    subject,
                    data_kind,
                    ended_at: at,
                }
                .into()]),
            }
        }
    }
}

/// A reason code: kebab-case, 2 to 64 characters (never free text, which could hold personal data).
pub fn is_reason_code(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The last day the data must be kept: `start` plus the policy's months. Data may go the day after.
pub fn retain_until(start: NaiveDate, months: Months) -> NaiveDate {
    start
        .checked_add_months(ChronoMonths::new(months.0))
        .unwrap_or(NaiveDate::MAX)
}

/// The kind of data whose end means the end of the subject: JGZ sees a child from birth, and a
/// family exists for Kansrijk through its case.
pub fn primary_kind(kind: SubjectKind) -> DataKind {
    match kind {
        SubjectKind::Kind => DataKind::Jgz,
        SubjectKind::Gezin => DataKind::Casus,
    }
}

/// What retention asks for one subject today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetentionVerdict {
    /// Nothing is due.
    Keep,
    /// These kinds are due, other data must stay: their owners drop them.
    EndKinds(Vec<(DataKind, NaiveDate)>),
    /// Everything is due: erase the subject. Carries the latest retain-until date.
    Erase { retained_until: NaiveDate },
    /// Something is due, but a legal hold blocks it.
    BlockedByHold {
        reason: String,
        due: Vec<(DataKind, NaiveDate)>,
    },
}

/// Applies the policy to a subject's retention periods. A subject is erased only when its primary
/// kind's period has started and every period registered for it has run out.
pub fn evaluate(
    kind: SubjectKind,
    hold: Option<&str>,
    periods: &BTreeMap<DataKind, Retention>,
    policy: &RetentionPolicy,
    today: NaiveDate,
) -> RetentionVerdict {
    let mut due = Vec::new();
    let mut all_over = true;
    let mut latest = NaiveDate::MIN;
    for (k, r) in periods {
        let until = retain_until(r.start_date, policy.months(*k));
        latest = latest.max(until);
        let over = until < today;
        if over && !r.ended {
            due.push((*k, until));
        }
        all_over &= over || r.ended;
    }
    let erase = all_over && periods.contains_key(&primary_kind(kind));
    if !erase && due.is_empty() {
        return RetentionVerdict::Keep;
    }
    if let Some(reason) = hold {
        return RetentionVerdict::BlockedByHold {
            reason: reason.to_owned(),
            due,
        };
    }
    if erase {
        RetentionVerdict::Erase {
            retained_until: latest,
        }
    } else {
        RetentionVerdict::EndKinds(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T09:30:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn given(events: &[PrivacyEvent]) -> SubjectState {
        SubjectState::fold(Uuid::from_u128(7), events)
    }

    fn created() -> PrivacyEvent {
        SubjectKeyCreated {
            subject: Uuid::from_u128(7),
            subject_kind: SubjectKind::Kind,
            created_at: at(),
        }
        .into()
    }

    fn held() -> PrivacyEvent {
        LegalHoldPlaced {
            subject: Uuid::from_u128(7),
            reason: "veilig-thuis-melding".into(),
            placed_at: at(),
        }
        .into()
    }

    fn erase() -> Command {
        Command::Erase {
            grounds: ErasureGrounds::VerzoekBetrokkene,
            by: "org".into(),
            at: at(),
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn creating_a_key_twice_appends_once() {
        let s = given(&[]);
        let first = decide(
            &s,
            Command::CreateKey {
                kind: SubjectKind::Kind,
                at: at(),
            },
        )
        .unwrap();
        assert_eq!(first.len(), 1);
        let s = given(&first);
        let again = decide(
            &s,
            Command::CreateKey {
                kind: SubjectKind::Kind,
                at: at(),
            },
        )
        .unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn an_erased_subject_never_gets_a_key_again() {
        let s = given(&[created()]);
        let erased = decide(&s, erase()).unwrap();
        let s = given(&[created(), erased[0].clone()]);
        assert_eq!(
            decide(
                &s,
                Command::CreateKey {
                    kind: SubjectKind::Kind,
                    at: at()
                }
            ),
            Err(DomainError::Erased)
        );
        assert_eq!(decide(&s, erase()), Err(DomainError::Erased));
    }

    #[test]
    fn a_legal_hold_blocks_erasure_until_lifted() {
        let s = given(&[created(), held()]);
        assert_eq!(
            decide(&s, erase()),
            Err(DomainError::OnHold {
                reason: "veilig-thuis-melding".into()
            })
        );
        let lifted = decide(&s, Command::LiftHold { at: at() }).unwrap();
        let s = given(&[created(), held(), lifted[0].clone()]);
        assert_eq!(decide(&s, erase()).unwrap().len(), 1);
    }

    #[test]
    fn unknown_subjects_cannot_be_erased_or_held() {
        let s = given(&[]);
        assert_eq!(decide(&s, erase()), Err(DomainError::Unknown));
        assert_eq!(
            decide(
                &s,
                Command::PlaceHold {
                    reason: "x-y".into(),
                    at: at()
                }
            ),
            Err(DomainError::Unknown)
        );
    }

    #[test]
    fn hold_reasons_are_codes_not_free_text() {
        let s = given(&[created()]);
        assert_eq!(
            decide(
                &s,
                Command::PlaceHold {
                    reason: "Fatima de Vries meldde".into(),
                    at: at()
                }
            ),
            Err(DomainError::InvalidReason)
        );
        let s = given(&[created(), held()]);
        let again = decide(
            &s,
            Command::PlaceHold {
                reason: "veilig-thuis-melding".into(),
                at: at(),
            },
        )
        .unwrap();
        assert!(again.is_empty(), "placing the same hold again is a no-op");
        assert_eq!(
            decide(&given(&[created()]), Command::LiftHold { at: at() }),
            Err(DomainError::NoHold)
        );
    }

    #[test]
    fn retention_end_is_the_start_plus_the_policy() {
        assert_eq!(retain_until(d(2024, 1, 31), Months(1)), d(2024, 2, 29));
        assert_eq!(retain_until(d(2020, 6, 1), Months(240)), d(2040, 6, 1));
    }

    fn periods(list: &[(DataKind, NaiveDate, bool)]) -> BTreeMap<DataKind, Retention> {
        list.iter()
            .map(|(k, start, ended)| {
                (
                    *k,
                    Retention {
                        start_date: *start,
                        ended: *ended,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_child_is_erased_only_when_its_jgz_period_and_all_others_ran_out() {
        let policy = RetentionPolicy::default();
        let today = d(2030, 1, 1);
        // Handover due, JGZ care not ended yet: only the handover file goes.
        let p = periods(&[(DataKind::Overdracht, d(2028, 1, 1), false)]);
        assert_eq!(
            evaluate(SubjectKind::Kind, None, &p, &policy, today),
            RetentionVerdict::EndKinds(vec![(DataKind::Overdracht, d(2029, 1, 1))])
        );
        // JGZ over, handover already ended: erase.
        let p = periods(&[
            (DataKind::Overdracht, d(2008, 1, 1), true),
            (DataKind::Jgz, d(2009, 6, 1), false),
        ]);
        assert_eq!(
            evaluate(SubjectKind::Kind, None, &p, &policy, today),
            RetentionVerdict::Erase {
                retained_until: d(2029, 6, 1)
            }
        );
        // The same under a hold: blocked.
        assert!(matches!(
            evaluate(
                SubjectKind::Kind,
                Some("rechterlijke-procedure"),
                &p,
                &policy,
                today
            ),
            RetentionVerdict::BlockedByHold { .. }
        ));
        // JGZ over but a pupil file still running: only JGZ goes.
        let p = periods(&[
            (DataKind::Jgz, d(2009, 6, 1), false),
            (DataKind::Leerling, d(2029, 6, 1), false),
        ]);
        assert_eq!(
            evaluate(SubjectKind::Kind, None, &p, &policy, today),
            RetentionVerdict::EndKinds(vec![(DataKind::Jgz, d(2029, 6, 1))])
        );
        // The last day of retention is still kept.
        let p = periods(&[(DataKind::Jgz, d(2009, 12, 31), false)]);
        assert_eq!(
            evaluate(SubjectKind::Kind, None, &p, &policy, d(2029, 12, 31)),
            RetentionVerdict::Keep
        );
    }

    fn any_event() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(Command::CreateKey {
                kind: SubjectKind::Kind,
                at: at()
            }),
            Just(erase()),
            prop_oneof![Just("veilig-thuis-melding"), Just("rechterlijke-procedure")].prop_map(
                |r| Command::PlaceHold {
                    reason: r.into(),
                    at: at()
                }
            ),
            Just(Command::LiftHold { at: at() }),
            (0usize..4, 0i64..5000).prop_map(|(k, days)| Command::StartRetention {
                data_kind: DataKind::ALL[k],
                start_date: d(2010, 1, 1) + chrono::Days::new(days as u64),
                at: at()
            }),
            (0usize..4).prop_map(|k| Command::EndRetention {
                data_kind: DataKind::ALL[k],
                at: at()
            }),
        ]
    }

    proptest! {
        /// Whatever happens: nothing follows an erasure, an erasure never happens under a hold,
        /// and a subject without a key cannot be erased.
        #[test]
        fn erasure_is_final_and_respects_holds(cmds in proptest::collection::vec(any_event(), 0..30)) {
            let mut events: Vec<PrivacyEvent> = Vec::new();
            for cmd in cmds {
                let s = given(&events);
                let was_held = s.hold.is_some();
                let is_erase = matches!(cmd, Command::Erase { .. });
                match decide(&s, cmd) {
                    Ok(new) => {
                        prop_assert!(!s.erased || new.is_empty(), "events after erasure");
                        if is_erase {
                            prop_assert!(!was_held && s.kind.is_some());
                        }
                        events.extend(new);
                    }
                    Err(DomainError::Erased) => prop_assert!(s.erased),
                    Err(_) => {}
                }
            }
            let s = given(&events);
            prop_assert_eq!(s.version as usize, events.len());
        }
    }
}

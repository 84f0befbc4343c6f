//! The consent lifecycle, pure: a consent is granted for an organisation, some parts of the
//! plan, a purpose and a period; it ends when it is revoked or when its period has passed.
//! Whether an organisation may see a part is decided *on a given day*, so that a view asking
//! with today's date loses access the day after expiry or revocation without any event.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use kansrijk_proto::actor::Purpose;
use kansrijk_proto::casework::{ConsentGiver, PlanPart};
use uuid::Uuid;

/// Longest period one consent may cover (parents renew it at a review).
pub const MAX_CONSENT_MONTHS: u32 = 24;

/// Where a consent stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Granted for a later day.
    NotYetValid,
    Valid,
    Expired,
    Revoked,
}

/// One consent as the case holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: Uuid,
    pub organisation: String,
    pub scope: BTreeSet<PlanPart>,
    pub purpose: Purpose,
    pub granted_on: NaiveDate,
    /// The last valid day.
    pub valid_until: NaiveDate,
    pub granted_by: ConsentGiver,
    pub revoked_on: Option<NaiveDate>,
}

impl Consent {
    /// The state on `on`. A consent revoked on a day no longer counts on that day.
    pub fn state_on(&self, on: NaiveDate) -> ConsentState {
        match self.revoked_on {
            Some(r) if r <= on => ConsentState::Revoked,
            _ if on < self.granted_on => ConsentState::NotYetValid,
            _ if on > self.valid_until => ConsentState::Expired,
            _ => ConsentState::Valid,
        }
    }

    pub fn is_valid_on(&self, on: NaiveDate) -> bool {
        self.state_on(on) == ConsentState::Valid
    }
}

/// The parts of the plan `organisation` may see for `purpose` on `on`, by its consents.
pub fn consented_parts<'a>(
    consents: impl IntoIterator<Item = &'a Consent>,
    organisation: &str,
    purpose: Purpose,
    on: NaiveDate,
) -> BTreeSet<PlanPart> {
    consents
        .into_iter()
        .filter(|c| c.organisation == organisation && c.purpose == purpose && c.is_valid_on(on))
        .flat_map(|c| c.scope.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn consent(parts: &[PlanPart]) -> Consent {
        Consent {
            id: Uuid::from_u128(1),
            organisation: "school".into(),
            scope: parts.iter().copied().collect(),
            purpose: Purpose::Casusregie,
            granted_on: d("2026-01-10"),
            valid_until: d("2026-12-31"),
            granted_by: ConsentGiver::Ouders,
            revoked_on: None,
        }
    }

    #[test]
    fn a_consent_is_valid_from_its_grant_through_its_last_day() {
        let c = consent(&[PlanPart::Zorgen]);
        assert_eq!(c.state_on(d("2026-01-09")), ConsentState::NotYetValid);
        assert_eq!(c.state_on(d("2026-01-10")), ConsentState::Valid);
        assert_eq!(c.state_on(d("2026-12-31")), ConsentState::Valid);
        assert_eq!(c.state_on(d("2027-01-01")), ConsentState::Expired);
    }

    #[test]
    fn revocation_counts_from_its_day() {
        let mut c = consent(&[PlanPart::Zorgen]);
        c.revoked_on = Some(d("2026-03-01"));
        assert!(c.is_valid_on(d("2026-02-28")));
        assert_eq!(c.state_on(d("2026-03-01")), ConsentState::Revoked);
    }

    #[test]
    fn parts_come_only_from_valid_consents_of_the_organisation_for_the_purpose() {
        let a = consent(&[PlanPart::Zorgen, PlanPart::DoelenActies]);
        let mut other_org = consent(&[PlanPart::Veiligheid]);
        other_org.organisation = "jgz".into();
        let mut other_purpose = consent(&[PlanPart::Netwerk]);
        other_purpose.purpose = Purpose::Zorgverlening;
        let all = [a, other_org, other_purpose];
        let parts = consented_parts(&all, "school", Purpose::Casusregie, d("2026-05-01"));
        assert_eq!(
            parts,
            [PlanPart::Zorgen, PlanPart::DoelenActies]
                .into_iter()
                .collect()
        );
        assert!(consented_parts(&all, "school", Purpose::Casusregie, d("2027-05-01")).is_empty());
    }

    proptest! {
        /// Whatever the dates, a consent never opens anything outside its own scope, nothing
        /// outside its period, and nothing after its revocation.
        #[test]
        fn consent_never_opens_more_than_it_says(
            start in 0i64..400, len in 0i64..800, revoke in proptest::option::of(0i64..1200),
            ask in 0i64..1500, scope in proptest::sample::subsequence(PlanPart::ALL.to_vec(), 0..8)
        ) {
            let base = d("2025-01-01");
            let mut c = consent(&scope);
            c.granted_on = base + chrono::Days::new(start as u64);
            c.valid_until = c.granted_on + chrono::Days::new(len as u64);
            c.revoked_on = revoke.map(|r| base + chrono::Days::new(r as u64));
            let on = base + chrono::Days::new(ask as u64);
            let parts = consented_parts([&c], "school", Purpose::Casusregie, on);
            prop_assert!(parts.iter().all(|p| scope.contains(p)));
            if on < c.granted_on || on > c.valid_until || c.revoked_on.is_some_and(|r| r <= on) {
                prop_assert!(parts.is_empty());
            } else {
                prop_assert_eq!(parts.len(), scope.len());
            }
        }
    }
}

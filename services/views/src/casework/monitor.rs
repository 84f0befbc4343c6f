//! The municipality's casework monitor, pure: from facts per case to published aggregates.
//!
//! Counts (open and closed cases per district, with row, column and grand totals) go through the
//! shared small-cell suppression with secondary suppression ([`crate::vve::suppression`]), so a
//! suppressed count cannot be recovered from the totals. The other figures of a row are published
//! only when the row's own case count is published and their own denominator is above the
//! threshold: the median days to the first plan (over cases with a plan), the percentage of
//! overdue reviews (over open cases with a plan). Hours are published for a row only when its case
//! count is; the municipality's total hours are withheld when exactly one district's hours are,
//! so that a total minus the published districts never gives one small district's hours.

use chrono::NaiveDate;

use super::queries::{Monitor, MonitorRow};
use crate::vve::suppression::{publish, suppress, SuppressionConfig, Table};

/// What the monitor needs to know about one case (no personal data).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFacts {
    pub district: String,
    pub open: bool,
    /// Days from opening to the first adopted plan, if there is one.
    pub days_to_first_plan: Option<i64>,
    /// For open cases with a plan: whether the review is overdue today.
    pub review_overdue: Option<bool>,
    /// Minutes recorded by every organisation.
    pub minutes: i64,
    /// Hours budgeted for every organisation.
    pub budget_hours: i64,
}

/// The suppression settings of the casework monitor (CBS youth-care practice: 0-7).
pub fn config() -> SuppressionConfig {
    SuppressionConfig::default()
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Figures of a group of cases, before publication rules.
struct Figures {
    median_days: Option<i64>,
    planned: u64,
    overdue: u64,
    reviewable: u64,
    minutes: i64,
    budget_hours: i64,
}

fn figures<'a>(cases: impl Iterator<Item = &'a CaseFacts>) -> Figures {
    let mut days = Vec::new();
    let (mut overdue, mut reviewable, mut minutes, mut budget) = (0, 0, 0, 0);
    for c in cases {
        if let Some(d) = c.days_to_first_plan {
            days.push(d);
        }
        if let Some(o) = c.review_overdue {
            reviewable += 1;
            overdue += u64::from(o);
        }
        minutes += c.minutes;
        budget += c.budget_hours;
    }
    Figures {
        planned: days.len() as u64,
        median_days: median(days),
        overdue,
        reviewable,
        minutes,
        budget_hours: budget,
    }
}

fn row(
    name: &str,
    counts: [Option<u64>; 3],
    f: &Figures,
    cfg: &SuppressionConfig,
    show_hours: bool,
) -> MonitorRow {
    let published = counts[2].is_some();
    let enough = |n: u64| published && !cfg.is_small(n);
    MonitorRow {
        wijk: name.to_owned(),
        lopend: counts[0],
        gesloten: counts[1],
        totaal: counts[2],
        mediaan_dagen_tot_eerste_plan: f.median_days.filter(|_| enough(f.planned)),
        percentage_evaluatie_te_laat: enough(f.reviewable)
            .then(|| round1(100.0 * f.overdue as f64 / f.reviewable as f64)),
        uren_gebruikt: (published && show_hours).then(|| round1(f.minutes as f64 / 60.0)),
        uren_budget: (published && show_hours).then_some(f.budget_hours as f64),
    }
}

/// Builds the published monitor of `municipality` on `today`.
pub fn build(
    municipality: &str,
    today: NaiveDate,
    cases: &[CaseFacts],
    cfg: &SuppressionConfig,
) -> Monitor {
    let mut districts: Vec<String> = cases.iter().map(|c| c.district.clone()).collect();
    districts.sort();
    districts.dedup();
    let mut table = Table::new(
        districts.clone(),
        vec!["lopend".into(), "gesloten".into()],
        true,
        true,
    );
    for c in cases {
        let i = districts.iter().position(|d| *d == c.district).unwrap_or(0);
        table.cells[i][usize::from(!c.open)] += 1;
    }
    let pattern = suppress(&table, cfg, &[]);
    let published = publish(&table, &pattern);
    let row_totals = published.row_totals.clone().unwrap_or_default();
    let mut wijken = Vec::new();
    let mut hidden_hours = 0;
    for (i, d) in districts.iter().enumerate() {
        let counts = [
            published.cells[i][0],
            published.cells[i][1],
            row_totals.get(i).copied().flatten(),
        ];
        if counts[2].is_none() {
            hidden_hours += 1;
        }
        let f = figures(cases.iter().filter(|c| c.district == *d));
        wijken.push(row(d, counts, &f, cfg, true));
    }
    let col_totals = published.col_totals.clone().unwrap_or_default();
    let totals = [
        col_totals.first().copied().flatten(),
        col_totals.get(1).copied().flatten(),
        published.grand_total,
    ];
    let all = figures(cases.iter());
    Monitor {
        gemeente: municipality.to_owned(),
        peildatum: today,
        drempel: cfg.threshold,
        wijken,
        totaal: row("totaal", totals, &all, cfg, hidden_hours != 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(district: &str, open: bool, days: Option<i64>, overdue: Option<bool>) -> CaseFacts {
        CaseFacts {
            district: district.into(),
            open,
            days_to_first_plan: days,
            review_overdue: overdue,
            minutes: 600,
            budget_hours: 10,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }

    #[test]
    fn small_districts_are_suppressed_and_cannot_be_recovered_from_totals() {
        let mut cases = Vec::new();
        for _ in 0..20 {
            cases.push(facts("Noord", true, Some(30), Some(false)));
        }
        for _ in 0..15 {
            cases.push(facts("Zuid", false, Some(40), None));
        }
        for _ in 0..3 {
            cases.push(facts("Oost", true, Some(10), Some(true)));
        }
        let m = build("0546", today(), &cases, &config());
        let oost = m.wijken.iter().find(|r| r.wijk == "Oost").unwrap();
        assert_eq!(oost.totaal, None);
        assert_eq!(oost.lopend, None);
        assert_eq!(oost.mediaan_dagen_tot_eerste_plan, None);
        assert_eq!(oost.percentage_evaluatie_te_laat, None);
        assert_eq!(oost.uren_gebruikt, None);
        // Oost's row total is hidden and so is a second one (secondary suppression of the
        // totals column), so neither district's hours follow from the published total.
        let hidden_hours = m
            .wijken
            .iter()
            .filter(|r| r.uren_gebruikt.is_none())
            .count();
        assert!(hidden_hours >= 2 || m.totaal.uren_gebruikt.is_none());
        // The column of open cases cannot give Oost back: another cell of it is hidden too,
        // or its total is.
        let hidden_open = m.wijken.iter().filter(|r| r.lopend.is_none()).count();
        assert!(hidden_open >= 2 || m.totaal.lopend.is_none());
        let noord = m.wijken.iter().find(|r| r.wijk == "Noord").unwrap();
        assert_eq!(noord.mediaan_dagen_tot_eerste_plan, Some(30));
        assert_eq!(noord.percentage_evaluatie_te_laat, Some(0.0));
    }

    #[test]
    fn overdue_share_and_median_over_large_enough_groups() {
        let mut cases = Vec::new();
        for i in 0..10 {
            cases.push(facts("Noord", true, Some(i * 10), Some(i < 5)));
        }
        let m = build("0546", today(), &cases, &config());
        let noord = &m.wijken[0];
        assert_eq!(noord.totaal, Some(10));
        assert_eq!(noord.percentage_evaluatie_te_laat, Some(50.0));
        assert_eq!(noord.mediaan_dagen_tot_eerste_plan, Some(45));
        assert_eq!(noord.uren_gebruikt, Some(100.0));
        assert_eq!(m.totaal.uren_budget, Some(100.0));
    }

    fn arb_cases() -> impl Strategy<Value = Vec<CaseFacts>> {
        proptest::collection::vec(
            (
                proptest::sample::select(vec!["A", "B", "C", "D"]),
                any::<bool>(),
                proptest::option::of(0i64..400),
                proptest::option::of(any::<bool>()),
            )
                .prop_map(|(d, o, days, od)| facts(d, o, days, od)),
            0..120,
        )
    }

    proptest! {
        /// No published count is small; no line (a district's row, a column) with a published
        /// total has exactly one hidden part; every published count is exact; rates and medians
        /// only appear beside a published count.
        #[test]
        fn nothing_small_is_published_or_recoverable(cases in arb_cases()) {
            let cfg = config();
            let m = build("0546", today(), &cases, &cfg);
            let mut rows = m.wijken.clone();
            rows.push(m.totaal.clone());
            for r in &rows {
                for v in [r.lopend, r.gesloten, r.totaal].into_iter().flatten() {
                    prop_assert!(!cfg.is_small(v));
                }
                if r.totaal.is_none() {
                    prop_assert!(r.mediaan_dagen_tot_eerste_plan.is_none());
                    prop_assert!(r.percentage_evaluatie_te_laat.is_none());
                    prop_assert!(r.uren_gebruikt.is_none());
                }
            }
            for r in &m.wijken {
                let hidden = [r.lopend, r.gesloten].iter().filter(|v| v.is_none()).count();
                prop_assert!(r.totaal.is_none() || hidden != 1);
                let n = cases.iter().filter(|c| c.district == r.wijk).count() as u64;
                if let Some(t) = r.totaal { prop_assert_eq!(t, n); }
            }
            for col in 0..2 {
                let total = if col == 0 { m.totaal.lopend } else { m.totaal.gesloten };
                let hidden = m.wijken.iter()
                    .filter(|r| if col == 0 { r.lopend.is_none() } else { r.gesloten.is_none() })
                    .count();
                prop_assert!(total.is_none() || hidden != 1);
            }
            let hidden_hours = m.wijken.iter().filter(|r| r.uren_gebruikt.is_none()).count();
            prop_assert!(m.totaal.uren_gebruikt.is_none() || hidden_hours != 1);
        }
    }
}

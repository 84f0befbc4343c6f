//! The suppression audit (ADR 0701) over everything the municipality can fetch of the VVE
//! monitor: every quarter's report (district, criterion, location and decline-reason tables, the
//! totals, the trend) and its CSV and XLSX export; and the three differencing attacks of issue 17
//! item 1 on what the old per-call suppression published.
//!
//! The attacker's model is rebuilt here from the raw counts ([`compute`]) and what a reader knows
//! (every total the sum of its parts; the location table's margins are the district table's
//! reached columns; the decline reasons add up to the declined column; a trend row is its
//! quarter's margin; a criterion cell counts at most its column's children, and over all criteria
//! at least that many when every child has a criterion), independently of the suppression's own
//! bookkeeping. The published values come from the monitor's outputs.

use std::collections::BTreeMap;

use chrono::{Days, Months, NaiveDate};
use kansrijk_proto::vve::{DeclineReason, OutreachOutcome};
use kansrijk_views::audit;
use kansrijk_views::vve::export;
use kansrijk_views::vve::monitor::{
    compute, publish_quarter, Figures, IndicationRecord, MonitorChild, MonitorConfig,
    PlacementRecord, PublishedFigures, Quarter, ReferralRecord,
};
use kansrijk_views::vve::queries::{report, MonitorReport, TableOut};
use kansrijk_views::vve::suppression::{
    publish, suppress, Cmp, Linked, Pattern, Pos, Published, SuppressionConfig, Table, TableId,
};
use proptest::prelude::*;

const COL_DECLINED: usize = 3;

/// The attacker's model: relations over figures, which are published, which shown as suppressed.
#[derive(Default)]
struct Model {
    set: Linked,
    known: Vec<bool>,
    shown: Vec<bool>,
}

impl Model {
    fn grow(&mut self) {
        let n = self.set.values().len();
        self.known.resize(n, false);
        self.shown.resize(n, false);
    }

    /// Marks a figure as published with `v` (checked against the true value) or shown suppressed.
    fn mark(&mut self, f: usize, v: Option<u64>) {
        self.grow();
        match v {
            Some(v) => {
                assert_eq!(
                    v,
                    self.set.values()[f],
                    "a published value is the true value"
                );
                self.known[f] = true;
            }
            None => self.shown[f] = true,
        }
    }

    fn fig(&self, t: TableId, pos: Pos) -> usize {
        self.set.figure(t, pos).expect("a position of the table")
    }

    /// Adds a table with its published values.
    fn add(&mut self, t: &Table, p: &Published) -> TableId {
        let id = self.set.add(t);
        self.grow();
        let (r, c) = (t.rows.len(), t.cols.len());
        // Rows are found by label: a row of which nothing is published is left out.
        let at = |k: usize| {
            t.rows
                .iter()
                .position(|l| *l == p.rows[k])
                .expect("a published row is a row of the table")
        };
        for (k, row) in p.cells.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                self.mark(self.fig(id, (at(k), j)), *v);
            }
        }
        for (k, v) in p.row_totals.iter().flatten().enumerate() {
            self.mark(self.fig(id, (at(k), c)), *v);
        }
        for (j, v) in p.col_totals.iter().flatten().enumerate() {
            self.mark(self.fig(id, (r, j)), *v);
        }
        if let Some(g) = self.set.figure(id, (r, c)) {
            self.mark(g, p.grand_total);
        }
        id
    }

    fn audit(&self, config: &SuppressionConfig) -> Vec<audit::Finding> {
        audit::audit(
            self.set.values(),
            self.set.relations(),
            &self.known,
            &self.shown,
            config,
        )
    }

    /// The interval the attacker narrows figure `f` to.
    fn interval(&self, f: usize) -> audit::Interval {
        if self.known[f] {
            let v = self.set.values()[f] as f64;
            return audit::Interval { lo: v, hi: v };
        }
        audit::intervals(self.set.values(), self.set.relations(), &self.known, &[f])[0].interval
    }
}

/// What the attacker combines (all of it, unless a test leaves a link out to show which one an
/// attack needs).
#[derive(Clone, Copy)]
struct Links {
    criteria: bool,
    location_total: bool,
    trend: bool,
}

const ALL: Links = Links {
    criteria: true,
    location_total: true,
    trend: true,
};

/// One quarter's figures in the model.
struct QuarterIds {
    district: TableId,
    /// The quarter's own trend row: reached 16+, under 16, not reached | total.
    own: TableId,
}

/// Adds quarter `f`'s tables as `p` publishes them, with the relations a reader knows.
fn add_quarter(m: &mut Model, f: &Figures, p: &PublishedFigures, links: Links) -> QuarterIds {
    let d = &f.by_district;
    let sd = m.add(d, &p.by_district);
    let sc = m.add(&f.by_criterion, &p.by_criterion);
    let sl = m.add(&f.by_location, &p.by_location);
    let sr = m.add(&f.decline_reasons, &p.decline_reasons);
    let mut own = Table::new(vec![f.quarter.label()], f.trend.cols.clone(), true, false);
    own.cells[0] = vec![
        d.col_total(0),
        d.col_total(1),
        (2..d.cols.len()).map(|j| d.col_total(j)).sum(),
    ];
    // The quarter's own trend row is the last row of its report's trend.
    let last = p.trend.cells.len() - 1;
    let own_published = Published {
        rows: own.rows.clone(),
        cols: own.cols.clone(),
        cells: vec![p.trend.cells[last].clone()],
        row_totals: p.trend.row_totals.as_ref().map(|t| vec![t[last]]),
        col_totals: None,
        grand_total: None,
    };
    let st = m.add(&own, &own_published);
    let dcol = |m: &Model, j: usize| m.fig(sd, d.col_total_pos(j));
    let dgrand = m.fig(sd, d.grand_pos().unwrap());
    for j in 0..2 {
        let (a, b) = (dcol(m, j), m.fig(sl, f.by_location.col_total_pos(j)));
        m.set.same(a, b);
        let (a, b) = (dcol(m, j), m.fig(st, (0, j)));
        m.set.same(a, b);
    }
    let (a, b) = (
        dcol(m, COL_DECLINED),
        m.fig(sr, f.decline_reasons.col_total_pos(0)),
    );
    m.set.same(a, b);
    let rest: Vec<usize> = (2..d.cols.len()).map(|j| dcol(m, j)).collect();
    let nb = m.fig(st, (0, 2));
    m.set.relate(rest, nb, Cmp::Eq);
    let tg = m.fig(st, (0, 3));
    m.set.same(dgrand, tg);
    // The totals above the tables.
    m.mark(dgrand, p.indicated);
    let lg = m.fig(sl, f.by_location.grand_pos().unwrap());
    if links.location_total {
        m.mark(lg, p.reached);
    } else {
        // The attacker leaves the location table's total (and so `reached`) out.
        m.known[lg] = false;
    }
    m.mark(dcol(m, 1), p.reached_under_16);
    m.mark(nb, p.not_reached);
    if links.criteria {
        let crit = &f.by_criterion;
        for j in 0..crit.cols.len() {
            let cells: Vec<usize> = (0..crit.rows.len()).map(|i| m.fig(sc, (i, j))).collect();
            let total = dcol(m, j);
            for c in &cells {
                m.set.relate(vec![*c], total, Cmp::AtMost);
            }
            // Every child has a criterion (an indication names at least one).
            if !cells.is_empty() {
                m.set.relate(cells, total, Cmp::AtLeast);
            }
        }
    }
    m.grow();
    QuarterIds {
        district: sd,
        own: st,
    }
}

/// The model of every report of `quarters` (and of every quarter in their trends), as `publish`
/// publishes each; a trend row is its quarter's own row.
fn vve_model(
    children: &[MonitorChild],
    quarters: &[Quarter],
    config: &MonitorConfig,
    publish: &dyn Fn(&[MonitorChild], Quarter, &MonitorConfig) -> PublishedFigures,
    links: Links,
) -> (Model, BTreeMap<Quarter, QuarterIds>) {
    let mut all: BTreeMap<Quarter, ()> = BTreeMap::new();
    for q in quarters {
        let mut x = *q;
        for _ in 0..config.trend_quarters.max(1) {
            all.insert(x, ());
            x = x.previous();
        }
    }
    let mut m = Model::default();
    let mut ids = BTreeMap::new();
    let mut published = BTreeMap::new();
    for q in all.keys() {
        let f = compute(children, *q, &[], &[], config);
        let p = publish(children, *q, config);
        ids.insert(*q, add_quarter(&mut m, &f, &p, links));
        published.insert(*q, p);
    }
    if links.trend {
        for q in quarters {
            let p = &published[q];
            let mut x = *q;
            for i in (0..p.trend.rows.len()).rev() {
                assert_eq!(p.trend.rows[i], x.label());
                let own = ids[&x].own;
                for j in 0..3 {
                    let f = m.fig(own, (0, j));
                    m.mark(f, p.trend.cells[i][j]);
                }
                let f = m.fig(own, (0, 3));
                m.mark(f, p.trend.row_totals.as_ref().unwrap()[i]);
                x = x.previous();
            }
        }
    }
    m.grow();
    (m, ids)
}

fn new_publish(c: &[MonitorChild], q: Quarter, config: &MonitorConfig) -> PublishedFigures {
    publish_quarter(c, q, &[], &[], config)
}

// --- The old per-call suppression (before ADR 0701), as the attacks saw it ----------------------

/// What `publish_figures` published before ADR 0701: each table suppressed on its own, shared
/// margins forced back and forth, the criterion table linked to nothing, the location table's
/// total to nothing, and the whole trend suppressed per call (earlier rows without the cells
/// their own quarter forced).
fn old_publish(children: &[MonitorChild], q: Quarter, config: &MonitorConfig) -> PublishedFigures {
    let f = compute(children, q, &[], &[], config);
    let cfg = &config.suppression;
    let d = &f.by_district;
    let last = f.trend.rows.len().saturating_sub(1);
    let links_location: Vec<(Pos, Pos)> = (0..2)
        .map(|j| (d.col_total_pos(j), f.by_location.col_total_pos(j)))
        .collect();
    let links_trend: Vec<(Pos, Pos)> = vec![
        (d.col_total_pos(0), (last, 0)),
        (d.col_total_pos(1), (last, 1)),
        (d.grand_pos().unwrap(), (last, f.trend.cols.len())),
    ];
    let link_declined = (
        d.col_total_pos(COL_DECLINED),
        f.decline_reasons.col_total_pos(0),
    );
    let mut forced_d: Vec<Pos> = Vec::new();
    let (mut pd, mut pl, mut pr, mut pt);
    loop {
        pd = suppress(d, cfg, &forced_d);
        let forced_from = |links: &[(Pos, Pos)], p: &Pattern| -> Vec<Pos> {
            links
                .iter()
                .filter(|(dp, _)| p.is_suppressed(*dp))
                .map(|(_, op)| *op)
                .collect()
        };
        pl = suppress(&f.by_location, cfg, &forced_from(&links_location, &pd));
        pt = suppress(&f.trend, cfg, &forced_from(&links_trend, &pd));
        pr = suppress(&f.decline_reasons, cfg, &forced_from(&[link_declined], &pd));
        let mut more = Vec::new();
        for (dp, op) in links_location.iter().chain(&links_trend) {
            let other = if links_location.contains(&(*dp, *op)) {
                &pl
            } else {
                &pt
            };
            if other.is_suppressed(*op) && !pd.is_suppressed(*dp) {
                more.push(*dp);
            }
        }
        if pr.is_suppressed(link_declined.1) && !pd.is_suppressed(link_declined.0) {
            more.push(link_declined.0);
        }
        if more.is_empty() {
            break;
        }
        forced_d.extend(more);
    }
    let pc = suppress(&f.by_criterion, cfg, &[]);
    let by_district = publish(d, &pd);
    let col = |j: usize| by_district.col_totals.as_ref().and_then(|c| c[j]);
    let indicated = by_district.grand_total;
    let reached = col(0).zip(col(1)).map(|(a, b)| a + b);
    let by_location = publish(&f.by_location, &pl);
    let trend = publish(&f.trend, &pt);
    PublishedFigures {
        reached_under_16: col(1),
        by_criterion: publish(&f.by_criterion, &pc),
        reached: reached.or(by_location.grand_total),
        not_reached: indicated.zip(reached).map(|(t, r)| t - r),
        by_location,
        decline_reasons: publish(&f.decline_reasons, &pr),
        trend,
        by_district,
        indicated,
        reach_percentage: None,
        median_days_to_placement: None,
        placements_started: None,
    }
}

// --- Data --------------------------------------------------------------------------------------

const NOORD: &str = "Leiden-Noord";
const MORS: &str = "Morsdistrict";
const L1: &str = "100000001";
const L2: &str = "100000002";

/// A child counted in reach column `col` on `q`'s reference date (everything happened on `on`),
/// in the VVE age window from two quarters before `q` to the one after.
fn kid(q: Quarter, district: &str, col: usize, criteria: &[&str], loc: &str) -> MonitorChild {
    let r = q.reference_date();
    let on = q.previous().first_day() - Days::new(10);
    let mut c = MonitorChild {
        district: district.into(),
        birth_date: r - Months::new(36),
        indications: vec![IndicationRecord {
            issued_on: on - Days::new(30),
            withdrawn_on: None,
            criteria: criteria.iter().map(|s| (*s).to_owned()).collect(),
        }],
        placements: vec![],
        referrals: vec![],
        outreach: vec![],
        declined: None,
        moved_on: None,
    };
    match col {
        0 | 1 => c.placements.push(PlacementRecord {
            location: loc.into(),
            start_on: on,
            end_on: None,
            hours: vec![(on, if col == 0 { 16 } else { 10 })],
        }),
        2 => c.moved_on = Some(q.first_day() + Days::new(5)),
        3 => c.declined = Some((on, DeclineReason::Kosten)),
        4 | 5 => c.referrals.push(ReferralRecord {
            referred_on: on,
            waitlisted_on: (col == 4).then_some(on),
            accepted_on: None,
        }),
        6 => c.outreach.push((on, OutreachOutcome::NietBereikt)),
        7 => c.outreach.push((on, OutreachOutcome::Bereikt)),
        _ => {}
    }
    c
}

/// `n` children of each (district, column, location) in `spec`, all with criterion `taal`.
fn children(q: Quarter, spec: &[(&str, usize, &str, usize)]) -> Vec<MonitorChild> {
    spec.iter()
        .flat_map(|(d, col, loc, n)| (0..*n).map(move |_| kid(q, d, *col, &["taal"], loc)))
        .collect()
}

fn q() -> Quarter {
    Quarter::new(2026, 2).unwrap()
}

/// Threshold 7, zeros published (as `KANSRIJK_VVE_NULLEN_ONDERDRUKKEN=false`), two trend rows.
fn config() -> MonitorConfig {
    MonitorConfig {
        suppression: SuppressionConfig {
            threshold: 7,
            suppress_zero: false,
        },
        min_denominator: 20,
        trend_quarters: 2,
        round_to: 1,
    }
}

/// The reached/under-16/... scenario of the attacks: Noord 20 reached 16+ at L1, 3 under 16 at
/// L1, 15 not approached; Mors 20 reached 16+ at L2, 15 not approached.
fn scenario() -> Vec<MonitorChild> {
    children(
        q(),
        &[
            (NOORD, 0, L1, 20),
            (NOORD, 1, L1, 3),
            (NOORD, 8, L1, 15),
            (MORS, 0, L2, 20),
            (MORS, 8, L2, 15),
        ],
    )
}

// --- The attacks -------------------------------------------------------------------------------

/// The width of the interval of the district table's column total `j` of `q`, for an attacker
/// who combines `links` of the reports of `quarters` as `publish` published them.
fn margin_width(
    children: &[MonitorChild],
    quarters: &[Quarter],
    q: Quarter,
    j: usize,
    publish: &dyn Fn(&[MonitorChild], Quarter, &MonitorConfig) -> PublishedFigures,
    links: Links,
) -> f64 {
    let (m, ids) = vve_model(children, quarters, &config(), publish, links);
    let d = ids[&q].district;
    let rows = compute(children, q, &[], &[], &config())
        .by_district
        .rows
        .len();
    m.interval(m.fig(d, (rows, j))).width()
}

/// `perCriterium` combined with the other tables. Every child has criterion `taal`, so its row
/// is the district table's column totals. Per call, the location table's secondary suppression
/// hid the reached 16+ total in the district table (and a small district's 16+ cell hid the
/// column's cells), while the criterion row, suppressed on its own, published it: reached (the
/// location table's total) - perCriterium[taal][16+] = the children under 16 hours (3).
#[test]
fn the_criterion_table_gives_back_a_suppressed_district_margin_per_call_but_not_linked() {
    let mut children = scenario();
    children.extend(self::children(q(), &[("Stationsdistrict", 0, L2, 4)]));
    let config = config();
    let attack = |p: &PublishedFigures| -> Option<u64> {
        let taal = p.by_criterion.rows.iter().position(|r| r == "taal")?;
        Some(p.by_location.grand_total? - p.by_criterion.cells[taal][0]?)
    };
    let old = old_publish(&children, q(), &config);
    let margins = old.by_district.col_totals.clone().unwrap();
    assert_eq!((margins[0], margins[1]), (None, None), "{old:?}");
    assert_eq!(attack(&old), Some(3), "{old:?}");
    // The LP finds it too, and only through the criterion table.
    let without = Links {
        criteria: false,
        ..ALL
    };
    let protection = config.suppression.protection() as f64;
    assert!(margin_width(&children, &[q()], q(), 1, &old_publish, without) >= protection);
    assert_eq!(
        margin_width(&children, &[q()], q(), 1, &old_publish, ALL),
        0.0
    );
    // Linked: the criterion cell goes with the margin, and nothing is narrowed.
    let new = new_publish(&children, q(), &config);
    assert_eq!(attack(&new), None);
    let (m, _) = vve_model(&children, &[q()], &config, &new_publish, ALL);
    assert_eq!(m.audit(&config.suppression), vec![]);
}

/// `perLocatie.totaal` against the district margins: per call, with the reached 16+, under-16 and
/// declined column totals suppressed in the district table, the location table's total (reached
/// = 16+ plus under 16) closed the totals line: declined = indicated - the published column totals
/// - reached = 78 - 30 - 43 = 5.
#[test]
fn the_location_total_gives_back_a_suppressed_district_margin_per_call_but_not_linked() {
    let mut children = scenario();
    children.extend(self::children(q(), &[(NOORD, 3, L1, 2), (MORS, 3, L2, 3)]));
    let config = config();
    let attack = |p: &PublishedFigures| -> Option<u64> {
        let margins = p.by_district.col_totals.clone().unwrap();
        assert_eq!(margins[COL_DECLINED], None);
        let published: Option<Vec<u64>> = (0..margins.len())
            .filter(|j| ![0, 1, COL_DECLINED].contains(j))
            .map(|j| margins[j])
            .collect();
        let published: u64 = published?.iter().sum();
        Some(p.by_district.grand_total? - published - p.by_location.grand_total?)
    };
    let old = old_publish(&children, q(), &config);
    assert_eq!(attack(&old), Some(5), "{old:?}");
    let protection = config.suppression.protection() as f64;
    assert_eq!(
        margin_width(&children, &[q()], q(), COL_DECLINED, &old_publish, ALL),
        0.0
    );
    let new = new_publish(&children, q(), &config);
    assert_eq!(attack(&new), None, "{new:?}");
    let (m, _) = vve_model(&children, &[q()], &config, &new_publish, ALL);
    assert_eq!(m.audit(&config.suppression), vec![]);
    assert!(margin_width(&children, &[q()], q(), COL_DECLINED, &new_publish, ALL) >= protection);
}

/// A quarter's `trend` rows against the cells suppressed in that quarter's own report: the
/// previous quarter's own report hid reached 16+ and under 16 (published: not reached 30, total
/// 73), while the trend of the next report, suppressed per call, published its reached 16+ (40):
/// under 16 = 73 - 30 - 40 = 3.
#[test]
fn a_trend_row_gives_back_a_cell_suppressed_in_its_own_quarter_per_call_but_not_linked() {
    let (children, config) = (scenario(), config());
    let prev = q().previous();
    let attack =
        |publish: &dyn Fn(&[MonitorChild], Quarter, &MonitorConfig) -> PublishedFigures| {
            let own = publish(&children, prev, &config);
            let l = own.trend.cells.len() - 1;
            assert_eq!(own.by_district.col_totals.as_ref().unwrap()[1], None);
            let (own_row, own_total) = (
                &own.trend.cells[l],
                own.trend.row_totals.as_ref().unwrap()[l],
            );
            let next = publish(&children, q(), &config);
            let i = next
                .trend
                .rows
                .iter()
                .position(|r| *r == prev.label())
                .unwrap();
            Some(own_total? - own_row[2]? - next.trend.cells[i][0]?)
        };
    assert_eq!(attack(&old_publish), Some(3));
    let quarters = [prev, q()];
    assert_eq!(
        margin_width(&children, &quarters, prev, 1, &old_publish, ALL),
        0.0
    );
    assert_eq!(attack(&new_publish), None);
    let (m, _) = vve_model(&children, &quarters, &config, &new_publish, ALL);
    assert_eq!(m.audit(&config.suppression), vec![]);
}

// --- The audit: random data, the demo data, the exports ---------------------------------------

fn arb_child() -> impl Strategy<Value = MonitorChild> {
    let base = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let day = move |n: i64| base + chrono::Duration::days(n);
    (
        0i64..700,
        0usize..3,
        0i64..1000,
        proptest::option::of((0i64..1000, 0i64..400, 0u8..30, 0usize..3)),
        proptest::option::of((0i64..1000, any::<bool>())),
        proptest::option::of((0i64..1000, any::<bool>())),
        proptest::option::of((0i64..1000, 0usize..9)),
        proptest::option::of(0i64..1100),
        0usize..3,
    )
        .prop_map(
            move |(birth, district, ind, placement, referral, outreach, declined, moved, crit)| {
                MonitorChild {
                    district: [NOORD, MORS, "Stationsdistrict"][district].into(),
                    birth_date: day(birth - 900),
                    indications: vec![IndicationRecord {
                        issued_on: day(ind),
                        withdrawn_on: None,
                        criteria: [vec!["taal"], vec!["opleiding"], vec!["taal", "opleiding"]]
                            [crit]
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect(),
                    }],
                    placements: placement
                        .into_iter()
                        .map(|(start, len, hours, loc)| PlacementRecord {
                            location: [L1, L2, "100000003"][loc].into(),
                            start_on: day(start),
                            end_on: (len > 200).then(|| day(start + len)),
                            hours: vec![(day(start), hours)],
                        })
                        .collect(),
                    referrals: referral
                        .into_iter()
                        .map(|(on, wait)| ReferralRecord {
                            referred_on: day(on),
                            waitlisted_on: wait.then(|| day(on + 10)),
                            accepted_on: None,
                        })
                        .collect(),
                    outreach: outreach
                        .into_iter()
                        .map(|(on, ok)| {
                            let o = if ok {
                                OutreachOutcome::Bereikt
                            } else {
                                OutreachOutcome::NietBereikt
                            };
                            (day(on), o)
                        })
                        .collect(),
                    declined: declined.map(|(on, r)| (day(on), DeclineReason::ALL[r])),
                    moved_on: moved.map(day),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every small figure of two consecutive quarters' reports and their trends keeps the
    /// protection against a linear programme over all of them together.
    #[test]
    fn the_vve_monitor_passes_the_audit_over_quarters_and_trend(
        children in proptest::collection::vec(arb_child(), 0..90),
        threshold in 1u64..8,
        suppress_zero in any::<bool>(),
    ) {
        let config = MonitorConfig {
            suppression: SuppressionConfig { threshold, suppress_zero },
            min_denominator: 20,
            trend_quarters: 3,
            round_to: 1,
        };
        let quarters = [Quarter::new(2025, 3).unwrap(), Quarter::new(2025, 4).unwrap()];
        let (m, _) = vve_model(&children, &quarters, &config, &new_publish, ALL);
        let findings = m.audit(&config.suppression);
        prop_assert!(findings.is_empty(), "{findings:?}");
    }
}

/// The demo data set as the monitor reads it from the read model.
fn demo_children(today: NaiveDate) -> Vec<MonitorChild> {
    use kansrijk_vve_reach::demo::{generate, DemoConfig, Step};
    let data = generate(&DemoConfig::leiden(2026_0546, today));
    data.children
        .iter()
        .map(|c| {
            let mut m = MonitorChild {
                district: c.district.clone(),
                birth_date: c.birth_date,
                indications: vec![IndicationRecord {
                    issued_on: c.indicated_on,
                    withdrawn_on: None,
                    criteria: c.criteria.clone(),
                }],
                placements: vec![],
                referrals: vec![],
                outreach: vec![],
                declined: None,
                moved_on: None,
            };
            let mut referrals: BTreeMap<uuid::Uuid, usize> = BTreeMap::new();
            let mut placements: BTreeMap<uuid::Uuid, usize> = BTreeMap::new();
            for s in &c.steps {
                match s {
                    Step::Outreach { on, outcome, .. } => m.outreach.push((*on, *outcome)),
                    Step::Refer { on, referrals: rs } => {
                        for (id, _) in rs {
                            referrals.insert(*id, m.referrals.len());
                            m.referrals.push(ReferralRecord {
                                referred_on: *on,
                                waitlisted_on: None,
                                accepted_on: None,
                            });
                        }
                    }
                    Step::WaitingList { on, referral, .. } => {
                        if let Some(i) = referrals.get(referral) {
                            m.referrals[*i].waitlisted_on = Some(*on);
                        }
                    }
                    Step::Accept { on, referral, .. } => {
                        if let Some(i) = referrals.get(referral) {
                            m.referrals[*i].accepted_on = Some(*on);
                        }
                    }
                    Step::Start {
                        on,
                        placement,
                        lrk,
                        hours,
                        ..
                    } => {
                        placements.insert(*placement, m.placements.len());
                        m.placements.push(PlacementRecord {
                            location: lrk.clone(),
                            start_on: *on,
                            end_on: None,
                            hours: vec![(*on, *hours)],
                        });
                    }
                    Step::ChangeHours {
                        on,
                        placement,
                        hours,
                        ..
                    } => {
                        if let Some(i) = placements.get(placement) {
                            m.placements[*i].hours.push((*on, *hours));
                        }
                    }
                    Step::End { on, placement, .. } => {
                        if let Some(i) = placements.get(placement) {
                            m.placements[*i].end_on = Some(*on);
                        }
                    }
                    Step::Declined { on, reason } => m.declined = Some((*on, *reason)),
                    Step::MovedAway { on } => m.moved_on = Some(*on),
                    Step::Attendance { .. } => {}
                }
            }
            m
        })
        .collect()
}

/// The demo data for several dates: every quarter of the trend of the last complete quarter
/// passes the audit at the default (CBS) suppression and at threshold 2 with zeros published.
#[test]
fn the_demo_data_passes_the_audit_for_every_quarter_and_the_trend() {
    for today in ["2026-05-14", "2026-11-30", "2027-02-03"] {
        let today = NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap();
        let children = demo_children(today);
        assert!(children.len() > 100, "{}", children.len());
        let last = Quarter::containing(today).previous();
        for suppression in [
            SuppressionConfig::default(),
            SuppressionConfig {
                threshold: 2,
                suppress_zero: false,
            },
        ] {
            let config = MonitorConfig {
                suppression,
                ..MonitorConfig::default()
            };
            let mut quarters = vec![last];
            for _ in 1..config.trend_quarters {
                quarters.push(quarters.last().unwrap().previous());
            }
            let (m, _) = vve_model(&children, &quarters, &config, &new_publish, ALL);
            let findings = m.audit(&config.suppression);
            assert!(findings.is_empty(), "{today}: {findings:?}");
        }
    }
}

/// The CSV export is written from the published report: every figure in it is the report's (so
/// the audit of the report covers it), every suppressed figure is `x`, and nothing else is in it.
#[test]
fn the_csv_export_publishes_exactly_the_reports_figures() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let children = demo_children(today);
    let config = MonitorConfig::default();
    let q = Quarter::containing(today).previous();
    let r = report("0546", q, &children, &config);
    let csv = String::from_utf8(export::csv(&r).unwrap()).unwrap();
    let expected = report_figures(&r);
    let mut seen = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(';').collect();
        assert_eq!(f.len(), 6, "{line}");
        assert_eq!((f[0], f[1]), ("0546", r.peildatum.to_string().as_str()));
        let key = (f[2].to_owned(), f[3].to_owned(), f[4].to_owned());
        let want = expected
            .get(&key)
            .unwrap_or_else(|| panic!("not in the report: {line}"));
        assert_eq!(f[5], want, "{line}");
        seen += 1;
    }
    assert_eq!(seen, expected.len());
}

/// The XLSX export's cells are the report's figures too.
#[test]
fn the_xlsx_export_publishes_exactly_the_reports_figures() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let children = demo_children(today);
    let config = MonitorConfig::default();
    let q = Quarter::containing(today).previous();
    let r = report("0546", q, &children, &config);
    let expected = report_figures(&r);
    for sheet in export::report_sheets(&r) {
        for (i, row) in sheet.rows.iter().enumerate() {
            for (j, col) in sheet.cols.iter().enumerate() {
                let key = (sheet.name.clone(), row.clone(), col.clone());
                assert_eq!(
                    Some(&sheet.cells[i][j].to_string()),
                    expected.get(&key),
                    "{key:?}"
                );
            }
        }
    }
}

/// (table, row, column) -> the value as the exports write it, from the report's tables.
fn report_figures(r: &MonitorReport) -> BTreeMap<(String, String, String), String> {
    let cell = |v: Option<u64>| v.map_or_else(|| "x".to_owned(), |v| v.to_string());
    let mut out = BTreeMap::new();
    let mut put = |t: &str, row: &str, col: &str, v: String| {
        assert!(
            out.insert((t.to_owned(), row.to_owned(), col.to_owned()), v)
                .is_none(),
            "{t} {row} {col} twice"
        );
    };
    for (name, v) in [
        ("geindiceerd", r.geindiceerd),
        ("bereikt", r.bereikt),
        ("bereikt-minder-dan-16-uur", r.bereikt_minder_dan16_uur),
        ("niet-bereikt", r.niet_bereikt),
        ("plaatsingen-gestart", r.plaatsingen_gestart),
    ] {
        put("totalen", name, "aantal", cell(v));
    }
    put(
        "totalen",
        "bereik-percentage",
        "procent",
        r.bereik_percentage
            .map_or_else(|| "x".into(), |p| format!("{p:.1}")),
    );
    put(
        "totalen",
        "mediaan-dagen-indicatie-tot-plaatsing",
        "dagen",
        r.mediaan_dagen_indicatie_tot_plaatsing
            .map_or_else(|| "x".into(), |p| format!("{p:.1}")),
    );
    let tables: [(&str, &TableOut); 5] = [
        ("bereik-per-wijk", &r.per_wijk),
        ("bereik-per-criterium", &r.per_criterium),
        ("bereik-per-locatie", &r.per_locatie),
        ("redenen-ouders-zien-af", &r.redenen_afzien),
        ("trend", &r.trend),
    ];
    for (name, t) in tables {
        for (i, row) in t.rijen.iter().enumerate() {
            for (j, col) in t.kolommen.iter().enumerate() {
                put(name, row, col, cell(t.cellen[i][j]));
            }
            if let Some(rt) = &t.rijtotalen {
                put(name, row, "totaal", cell(rt[i]));
            }
        }
        if let Some(ct) = &t.kolomtotalen {
            for (j, col) in t.kolommen.iter().enumerate() {
                put(name, "totaal", col, cell(ct[j]));
            }
            if t.rijtotalen.is_some() {
                put(name, "totaal", "totaal", cell(t.totaal));
            }
        }
    }
    out
}

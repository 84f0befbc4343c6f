//! The municipality's quarterly VVE monitor, as a pure computation over opened child records.
//!
//! At the quarter's reference date (peildatum: the last day of the quarter) a child counts when it
//! has an indication in force (issued on or before, not withdrawn on or before), is in the VVE age
//! window (2.5 years until the fourth birthday), and did not move away before the quarter began.
//! It is *reached* when a placement runs on the reference date; *under 16 hours* when its hours per
//! week on that date (summed over locations) are below 16. Otherwise it is not reached, for the
//! first reason that applies: moved away in the quarter; parents declined; on a waiting list; a
//! referral is pending; outreach attempts that reached nobody; outreach in progress; not yet
//! approached.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Months, NaiveDate};
use kansrijk_proto::vve::{self, DeclineReason, OutreachOutcome};
use serde::{Deserialize, Serialize};

use super::suppression::{publish, Cmp, Linked, Pos, Published, SuppressionConfig, Table};

/// Hours per week from which a placement meets the offer (16 hours since 1 Aug 2020).
pub const FULL_OFFER_HOURS: u8 = 16;

/// Columns of the reach tables: two reached groups, then the non-reach reasons.
pub const REACH_COLUMNS: [&str; 9] = [
    "bereikt-16-uur-of-meer",
    "bereikt-minder-dan-16-uur",
    "niet-bereikt-verhuisd",
    "niet-bereikt-ouders-zien-af",
    "niet-bereikt-wachtlijst",
    "niet-bereikt-verwijzing-loopt",
    "niet-bereikt-onbereikbaar",
    "niet-bereikt-toeleiding-loopt",
    "niet-bereikt-nog-niet-benaderd",
];
const COL_DECLINED: usize = 3;

/// A quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Quarter {
    pub year: i32,
    /// 1-4.
    pub quarter: u32,
}

impl Quarter {
    pub fn new(year: i32, quarter: u32) -> Option<Self> {
        (1..=4)
            .contains(&quarter)
            .then_some(Quarter { year, quarter })
    }

    pub fn containing(d: NaiveDate) -> Self {
        Quarter {
            year: d.year(),
            quarter: (d.month() - 1) / 3 + 1,
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.quarter - 1) * 3 + 1, 1).unwrap_or_default()
    }

    /// The reference date: the quarter's last day.
    pub fn reference_date(self) -> NaiveDate {
        self.first_day()
            .checked_add_months(Months::new(3))
            .and_then(|d| d.pred_opt())
            .unwrap_or_default()
    }

    pub fn previous(self) -> Self {
        if self.quarter == 1 {
            Quarter {
                year: self.year - 1,
                quarter: 4,
            }
        } else {
            Quarter {
                year: self.year,
                quarter: self.quarter - 1,
            }
        }
    }

    pub fn label(self) -> String {
        format!("{}-K{}", self.year, self.quarter)
    }

    /// The first day of each month of the quarter.
    pub fn months(self) -> [NaiveDate; 3] {
        let f = self.first_day();
        [
            f,
            f.checked_add_months(Months::new(1)).unwrap_or(f),
            f.checked_add_months(Months::new(2)).unwrap_or(f),
        ]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndicationRecord {
    pub issued_on: NaiveDate,
    pub withdrawn_on: Option<NaiveDate>,
    pub criteria: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlacementRecord {
    pub location: String,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
    /// (from, hours per week), any order.
    pub hours: Vec<(NaiveDate, u8)>,
}

impl PlacementRecord {
    pub fn runs_on(&self, d: NaiveDate) -> bool {
        self.start_on <= d && self.end_on.is_none_or(|e| e >= d)
    }

    pub fn hours_on(&self, d: NaiveDate) -> u8 {
        self.hours
            .iter()
            .filter(|(from, _)| *from <= d)
            .max_by_key(|(from, _)| *from)
            .map_or(0, |(_, h)| *h)
    }

    /// Whether the placement runs on some day of the month starting `first`.
    pub fn runs_in_month(&self, first: NaiveDate) -> bool {
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(first);
        self.start_on <= last && self.end_on.is_none_or(|e| e >= first)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReferralRecord {
    pub referred_on: NaiveDate,
    pub waitlisted_on: Option<NaiveDate>,
    pub accepted_on: Option<NaiveDate>,
}

/// One child's record as the monitor needs it, with birth date and criteria opened.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorChild {
    pub district: String,
    pub birth_date: NaiveDate,
    pub indications: Vec<IndicationRecord>,
    pub placements: Vec<PlacementRecord>,
    pub referrals: Vec<ReferralRecord>,
    pub outreach: Vec<(NaiveDate, OutreachOutcome)>,
    pub declined: Option<(NaiveDate, DeclineReason)>,
    pub moved_on: Option<NaiveDate>,
}

/// Where one child stands on a reference date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing<'a> {
    /// Index into [`REACH_COLUMNS`].
    pub column: usize,
    pub criteria: &'a [String],
    pub district: &'a str,
    /// Main location when reached (most hours).
    pub location: Option<&'a str>,
    pub declined: Option<DeclineReason>,
}

/// The child's standing at the end of `q`, or `None` when it does not count.
pub fn standing(child: &MonitorChild, q: Quarter) -> Option<Standing<'_>> {
    let r = q.reference_date();
    let ind = child
        .indications
        .iter()
        .filter(|i| i.issued_on <= r && i.withdrawn_on.is_none_or(|w| w > r))
        .max_by_key(|i| i.issued_on)?;
    if !vve::in_window(child.birth_date, r) {
        return None;
    }
    if child.moved_on.is_some_and(|m| m < q.first_day()) {
        return None;
    }
    let running: Vec<&PlacementRecord> = child.placements.iter().filter(|p| p.runs_on(r)).collect();
    let moved = child.moved_on.is_some_and(|m| m <= r);
    let mut s = Standing {
        column: 0,
        criteria: &ind.criteria,
        district: &child.district,
        location: None,
        declined: None,
    };
    if !running.is_empty() && !moved {
        let hours: u32 = running.iter().map(|p| u32::from(p.hours_on(r))).sum();
        s.column = if hours >= u32::from(FULL_OFFER_HOURS) {
            0
        } else {
            1
        };
        s.location = running
            .iter()
            .max_by_key(|p| (p.hours_on(r), std::cmp::Reverse(p.location.as_str())))
            .map(|p| p.location.as_str());
        return Some(s);
    }
    let declined = child.declined.filter(|(on, _)| *on <= r);
    let attempts: Vec<OutreachOutcome> = child
        .outreach
        .iter()
        .filter(|(on, _)| *on <= r)
        .map(|(_, o)| *o)
        .collect();
    s.column = if moved {
        2
    } else if let Some((_, reason)) = declined {
        s.declined = Some(reason);
        COL_DECLINED
    } else if child
        .referrals
        .iter()
        .any(|x| x.waitlisted_on.is_some_and(|w| w <= r) && x.accepted_on.is_none_or(|a| a > r))
    {
        4
    } else if child.referrals.iter().any(|x| x.referred_on <= r) {
        5
    } else if !attempts.is_empty() && attempts.iter().all(|o| *o == OutreachOutcome::NietBereikt) {
        6
    } else if !attempts.is_empty() {
        7
    } else {
        8
    };
    Some(s)
}

/// The monitor's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonitorConfig {
    pub suppression: SuppressionConfig,
    /// Percentages are published only over at least this many children.
    pub min_denominator: u64,
    /// Quarters in the trend, the monitored one included.
    pub trend_quarters: usize,
    /// Published counts are rounded to a multiple of this (CBS also rounds to 5); 1 publishes
    /// exact counts. Rounding comes after suppression; percentages and the median are computed
    /// from exact counts.
    pub round_to: u64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            suppression: SuppressionConfig::default(),
            min_denominator: 20,
            trend_quarters: 8,
            round_to: 1,
        }
    }
}

impl MonitorConfig {
    /// From the environment: `KANSRIJK_VVE_DREMPEL` (counts up to it are suppressed, default 7),
    /// `KANSRIJK_VVE_NULLEN_ONDERDRUKKEN` (`true`/`false`, default `true`),
    /// `KANSRIJK_VVE_MIN_NOEMER` (smallest denominator of a percentage, default 20) and
    /// `KANSRIJK_VVE_TREND_KWARTALEN` (default 8) and `KANSRIJK_VVE_AFRONDEN` (round published
    /// counts to a multiple of this, default 1: exact).
    pub fn from_env() -> anyhow::Result<Self> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            match std::env::var(name).ok().filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|e| anyhow::anyhow!("{name}: {e}")),
            }
        }
        let d = MonitorConfig::default();
        Ok(MonitorConfig {
            suppression: SuppressionConfig {
                threshold: var("KANSRIJK_VVE_DREMPEL", d.suppression.threshold)?,
                suppress_zero: var(
                    "KANSRIJK_VVE_NULLEN_ONDERDRUKKEN",
                    d.suppression.suppress_zero,
                )?,
            },
            min_denominator: var("KANSRIJK_VVE_MIN_NOEMER", d.min_denominator)?,
            trend_quarters: var("KANSRIJK_VVE_TREND_KWARTALEN", d.trend_quarters)?,
            round_to: var("KANSRIJK_VVE_AFRONDEN", d.round_to)?.max(1),
        })
    }
}

/// The monitor's tables before suppression.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub quarter: Quarter,
    pub by_district: Table,
    pub by_criterion: Table,
    pub by_location: Table,
    pub decline_reasons: Table,
    pub trend: Table,
    /// Days from indication to the start of placements that started in the quarter.
    pub days_to_placement: Vec<i64>,
}

fn reach_columns() -> Vec<String> {
    REACH_COLUMNS.iter().map(|s| (*s).to_owned()).collect()
}

/// The row of children whose district, criterion or location is not a known one: such free text
/// is never published as a label (issue 17 item 7); the children still count, under this label.
pub const UNKNOWN_LABEL: &str = "onbekend";

/// The partner registry's districts (its reference data, which is every district the registry
/// has), for callers that pass none.
fn registry_districts() -> &'static BTreeSet<String> {
    static DISTRICTS: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    DISTRICTS.get_or_init(|| {
        kansrijk_runtime::reference::districts()
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    })
}

/// A code as the target-group definitions spell them (`thuistaal-niet-nederlands`).
fn is_code(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An LRK number (the national childcare register's location number).
fn is_lrk(s: &str) -> bool {
    (9..=12).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
}

/// The labels a row may carry: only the registry's districts and known codes.
struct Labels<'a> {
    districts: BTreeSet<&'a str>,
    criteria: BTreeSet<&'a str>,
}

impl<'a> Labels<'a> {
    fn new(districts: &'a [String], criteria: &'a [String]) -> Self {
        let districts = if districts.is_empty() {
            registry_districts().iter().map(String::as_str).collect()
        } else {
            districts.iter().map(String::as_str).collect()
        };
        Labels {
            districts,
            criteria: criteria.iter().map(String::as_str).collect(),
        }
    }

    fn district<'b>(&self, d: &'b str) -> &'b str {
        if self.districts.contains(d) {
            d
        } else {
            UNKNOWN_LABEL
        }
    }

    fn criterion<'b>(&self, c: &'b str) -> &'b str {
        let known = if self.criteria.is_empty() {
            is_code(c)
        } else {
            self.criteria.contains(c)
        };
        if known {
            c
        } else {
            UNKNOWN_LABEL
        }
    }

    fn location<'b>(&self, l: &'b str) -> &'b str {
        if is_lrk(l) {
            l
        } else {
            UNKNOWN_LABEL
        }
    }
}

/// Computes the figures of quarter `q`; `districts` and `criteria` name rows that must appear
/// even when empty (the municipality's districts from the registry, the definition's criteria).
/// Row labels are only the registry's districts (`districts`, or the registry's reference data
/// when empty), the criteria (`criteria`, or codes when empty) and LRK numbers; children under any
/// other label count in the row [`UNKNOWN_LABEL`].
pub fn compute(
    children: &[MonitorChild],
    q: Quarter,
    districts: &[String],
    criteria: &[String],
    config: &MonitorConfig,
) -> Figures {
    let labels = Labels::new(districts, criteria);
    let standings: Vec<Standing<'_>> = children
        .iter()
        .filter_map(|c| standing(c, q))
        .map(|mut s| {
            s.district = labels.district(s.district);
            s.location = s.location.map(|l| labels.location(l));
            s
        })
        .collect();
    let criteria_of = |s: &Standing<'_>| -> BTreeSet<String> {
        s.criteria
            .iter()
            .map(|c| labels.criterion(c).to_owned())
            .collect()
    };

    let district_rows: BTreeSet<String> = districts
        .iter()
        .cloned()
        .chain(standings.iter().map(|s| s.district.to_owned()))
        .collect();
    let mut by_district = Table::new(
        district_rows.into_iter().collect(),
        reach_columns(),
        true,
        true,
    );
    let criterion_rows: BTreeSet<String> = criteria
        .iter()
        .cloned()
        .chain(standings.iter().flat_map(criteria_of))
        .collect();
    let mut by_criterion = Table::new(
        criterion_rows.into_iter().collect(),
        reach_columns(),
        true,
        false,
    );
    let locations: BTreeSet<String> = standings
        .iter()
        .filter_map(|s| s.location.map(str::to_owned))
        .collect();
    let mut by_location = Table::new(
        locations.into_iter().collect(),
        reach_columns()[..2].to_vec(),
        true,
        true,
    );
    let mut decline_reasons = Table::new(
        DeclineReason::ALL
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        vec!["aantal".into()],
        false,
        true,
    );
    for s in &standings {
        let row = |t: &Table, key: &str| t.rows.iter().position(|r| r == key);
        if let Some(i) = row(&by_district, s.district) {
            by_district.cells[i][s.column] += 1;
        }
        for c in criteria_of(s) {
            if let Some(i) = row(&by_criterion, &c) {
                by_criterion.cells[i][s.column] += 1;
            }
        }
        if let (Some(loc), true) = (s.location, s.column < 2) {
            if let Some(i) = row(&by_location, loc) {
                by_location.cells[i][s.column] += 1;
            }
        }
        if let Some(reason) = s.declined {
            if let Some(i) = row(&decline_reasons, reason.as_str()) {
                decline_reasons.cells[i][0] += 1;
            }
        }
    }

    // Trend: oldest first, the monitored quarter last.
    let mut quarters = vec![q];
    while quarters.len() < config.trend_quarters.max(1) {
        let prev = quarters.last().copied().unwrap_or(q).previous();
        quarters.push(prev);
    }
    quarters.reverse();
    let mut trend = Table::new(
        quarters.iter().map(|x| x.label()).collect(),
        vec![
            REACH_COLUMNS[0].to_owned(),
            REACH_COLUMNS[1].to_owned(),
            "niet-bereikt".to_owned(),
        ],
        true,
        false,
    );
    for (i, quarter) in quarters.iter().enumerate() {
        for c in children {
            if let Some(s) = standing(c, *quarter) {
                trend.cells[i][s.column.min(2)] += 1;
            }
        }
    }

    let (first, r) = (q.first_day(), q.reference_date());
    let mut days_to_placement = Vec::new();
    for c in children {
        let Some(start) = c
            .placements
            .iter()
            .map(|p| p.start_on)
            .filter(|s| *s >= first && *s <= r)
            .min()
        else {
            continue;
        };
        // Only the child's first placement under an indication counts.
        if c.placements.iter().any(|p| p.start_on < start) {
            continue;
        }
        if let Some(ind) = c
            .indications
            .iter()
            .filter(|i| i.issued_on <= start)
            .max_by_key(|i| i.issued_on)
        {
            days_to_placement.push((start - ind.issued_on).num_days());
        }
    }
    days_to_placement.sort_unstable();

    Figures {
        quarter: q,
        by_district,
        by_criterion,
        by_location,
        decline_reasons,
        trend,
        days_to_placement,
    }
}

/// Rounds a count to the nearest multiple of `to` (halves up).
pub fn round_count(v: u64, to: u64) -> u64 {
    if to <= 1 {
        v
    } else {
        (v + to / 2) / to * to
    }
}

/// The median of sorted values.
pub fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0
    })
}

/// The tables as published, suppressed consistently across shared margins.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedFigures {
    pub by_district: Published,
    pub by_criterion: Published,
    pub by_location: Published,
    pub decline_reasons: Published,
    pub trend: Published,
    /// Children counted (the district table's grand total), if published.
    pub indicated: Option<u64>,
    pub reached: Option<u64>,
    pub reached_under_16: Option<u64>,
    pub not_reached: Option<u64>,
    /// Reached as a share of indicated, in percent with one decimal.
    pub reach_percentage: Option<f64>,
    pub median_days_to_placement: Option<f64>,
    pub placements_started: Option<u64>,
}

/// Suppresses a quarter's tables as one linked set ([`Linked`]): the district table, the
/// criterion table, the location table, the decline reasons and the quarter's own trend row
/// (reached 16+, under 16, not reached, total), with every relation between them a reader knows:
/// the location table's column totals are the district table's reached column totals (so its
/// grand total is their sum), the decline reasons add up to the declined column total, the trend
/// row is the district table's margin (not reached: the sum of the seven non-reach columns), and a
/// criterion cell counts at most the children of its column (at least once over all criteria,
/// when every child has a criterion). The trend's earlier rows are left suppressed here: they are
/// each quarter's own trend row, as that quarter's own suppression publishes it
/// ([`publish_quarter`]).
pub fn publish_figures(f: &Figures, config: &MonitorConfig) -> PublishedFigures {
    let cfg = &config.suppression;
    let d = &f.by_district;
    let mut set = Linked::default();
    let sd = set.add(d);
    let sc = set.add(&f.by_criterion);
    let sl = set.add(&f.by_location);
    let sr = set.add(&f.decline_reasons);
    let mut own = Table::new(vec![f.quarter.label()], f.trend.cols.clone(), true, false);
    own.cells[0] = vec![
        d.col_total(0),
        d.col_total(1),
        (2..d.cols.len()).map(|j| d.col_total(j)).sum(),
    ];
    let st = set.add(&own);
    let fig = |set: &Linked, t, pos: Pos| set.figure(t, pos).expect("a position of the table");
    let dcol = |set: &Linked, j: usize| fig(set, sd, d.col_total_pos(j));
    let dgrand = fig(&set, sd, d.grand_pos().unwrap_or_default());
    for j in 0..2 {
        let (a, b) = (dcol(&set, j), fig(&set, sl, f.by_location.col_total_pos(j)));
        set.same(a, b);
        let (a, b) = (dcol(&set, j), fig(&set, st, (0, j)));
        set.same(a, b);
    }
    let (a, b) = (
        dcol(&set, COL_DECLINED),
        fig(&set, sr, f.decline_reasons.col_total_pos(0)),
    );
    set.same(a, b);
    let rest: Vec<usize> = (2..d.cols.len()).map(|j| dcol(&set, j)).collect();
    let nb = fig(&set, st, (0, 2));
    set.relate(rest, nb, Cmp::Eq);
    let tg = fig(&set, st, (0, 3));
    set.same(dgrand, tg);
    let crit = &f.by_criterion;
    for j in 0..crit.cols.len().min(d.cols.len()) {
        let cells: Vec<usize> = (0..crit.rows.len())
            .map(|i| fig(&set, sc, (i, j)))
            .collect();
        let total = dcol(&set, j);
        for c in &cells {
            set.relate(vec![*c], total, Cmp::AtMost);
        }
        // Children counted under several criteria: at least once when every child has one.
        if crit.col_total(j) >= d.col_total(j) && !cells.is_empty() {
            set.relate(cells, total, Cmp::AtLeast);
        }
    }
    let s = set.suppress(cfg, &[]);
    let (pd, pc, pl, pr, pt) = (
        set.pattern(sd, &s),
        set.pattern(sc, &s),
        set.pattern(sl, &s),
        set.pattern(sr, &s),
        set.pattern(st, &s),
    );
    let own_row = publish(&own, &pt);
    let rows = f.trend.rows.len();
    let mut trend = Published {
        rows: f.trend.rows.clone(),
        cols: f.trend.cols.clone(),
        cells: vec![vec![None; f.trend.cols.len()]; rows],
        row_totals: Some(vec![None; rows]),
        col_totals: None,
        grand_total: None,
    };
    if rows > 0 {
        trend.cells[rows - 1] = own_row.cells[0].clone();
        if let (Some(t), Some(o)) = (trend.row_totals.as_mut(), own_row.row_totals.as_ref()) {
            t[rows - 1] = o[0];
        }
    }
    let by_location = publish(&f.by_location, &pl);

    let by_district = publish(d, &pd);
    let col = |j: usize| by_district.col_totals.as_ref().and_then(|c| c[j]);
    let indicated = by_district.grand_total;
    let reached = by_location.grand_total;
    let not_reached = own_row.cells[0][2];
    let reach_percentage = match (indicated, reached) {
        (Some(t), Some(r)) if t >= config.min_denominator && t > 0 => {
            Some((r as f64 * 1000.0 / t as f64).round() / 10.0)
        }
        _ => None,
    };
    let n = f.days_to_placement.len() as u64;
    let (median_days_to_placement, placements_started) = if cfg.is_small(n) {
        (None, None)
    } else {
        (median(&f.days_to_placement), Some(n))
    };
    PublishedFigures {
        reached_under_16: col(1),
        by_criterion: without_hidden_rows(publish(&f.by_criterion, &pc)),
        by_location: without_hidden_rows(by_location),
        decline_reasons: publish(&f.decline_reasons, &pr),
        trend,
        by_district: without_hidden_rows(by_district),
        indicated,
        reached,
        not_reached,
        reach_percentage,
        median_days_to_placement,
        placements_started,
    }
}

/// Leaves out every row of which every figure (its cells and its total) is suppressed, or
/// published as zero next to suppressed ones: its label (a district, criterion or location) would
/// still say that it has a few children, and its position in the sorted rows which label it is
/// (issue 17 item 7). It publishes nothing else, so the suppression of the rest is unchanged.
fn without_hidden_rows(mut p: Published) -> Published {
    let keep: Vec<bool> = (0..p.rows.len())
        .map(|i| {
            let total = p.row_totals.as_ref().map(|t| t[i]);
            let figures: Vec<Option<u64>> = p.cells[i].iter().copied().chain(total).collect();
            figures.iter().all(Option::is_some) || figures.iter().any(|v| v.is_some_and(|v| v > 0))
        })
        .collect();
    let mut k = keep.iter();
    p.rows.retain(|_| *k.next().unwrap_or(&true));
    let mut k = keep.iter();
    p.cells.retain(|_| *k.next().unwrap_or(&true));
    if let Some(t) = p.row_totals.as_mut() {
        let mut k = keep.iter();
        t.retain(|_| *k.next().unwrap_or(&true));
    }
    p
}

/// The published monitor of quarter `q`: [`publish_figures`], with each earlier row of the trend
/// taken from that quarter's own publication (its trend row, suppressed with its own tables), so
/// that the trend publishes nothing about a quarter that the quarter's own report does not.
pub fn publish_quarter(
    children: &[MonitorChild],
    q: Quarter,
    districts: &[String],
    criteria: &[String],
    config: &MonitorConfig,
) -> PublishedFigures {
    let f = compute(children, q, districts, criteria, config);
    let mut p = publish_figures(&f, config);
    let mut quarter = q;
    for i in (0..p.trend.rows.len().saturating_sub(1)).rev() {
        quarter = quarter.previous();
        let earlier = publish_figures(
            &compute(children, quarter, districts, criteria, config),
            config,
        );
        let last = earlier.trend.rows.len() - 1;
        p.trend.cells[i] = earlier.trend.cells[last].clone();
        if let (Some(t), Some(e)) = (p.trend.row_totals.as_mut(), earlier.trend.row_totals) {
            t[i] = e[last];
        }
    }
    p
}

/// Placements per month per location in a quarter (the providers' monitor): for each location and
/// month, children placed at some day of the month with at least / under 16 hours on the month's
/// last running day, and attended hours if recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMonth {
    pub full: u64,
    pub under_16: u64,
    pub attended_hours: u64,
}

/// (location -> three months) for placements of indicated children.
pub fn provider_months(
    placements: &[(PlacementRecord, BTreeMap<String, u64>)],
    q: Quarter,
) -> BTreeMap<String, [ProviderMonth; 3]> {
    let mut out: BTreeMap<String, [ProviderMonth; 3]> = BTreeMap::new();
    for (p, attendance) in placements {
        for (m, first) in q.months().into_iter().enumerate() {
            if !p.runs_in_month(first) {
                continue;
            }
            let last = first
                .checked_add_months(Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(first);
            let on = p.end_on.map_or(last, |e| e.min(last));
            let entry = out.entry(p.location.clone()).or_insert_with(|| {
                std::array::from_fn(|_| ProviderMonth {
                    full: 0,
                    under_16: 0,
                    attended_hours: 0,
                })
            });
            if p.hours_on(on) >= FULL_OFFER_HOURS {
                entry[m].full += 1;
            } else {
                entry[m].under_16 += 1;
            }
            entry[m].attended_hours += attendance
                .get(&first.format("%Y-%m").to_string())
                .copied()
                .unwrap_or(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn child(birth: &str, issued: &str) -> MonitorChild {
        MonitorChild {
            district: "Leiden-Noord".into(),
            birth_date: d(birth),
            indications: vec![IndicationRecord {
                issued_on: d(issued),
                withdrawn_on: None,
                criteria: vec!["taalachterstand".into()],
            }],
            placements: vec![],
            referrals: vec![],
            outreach: vec![],
            declined: None,
            moved_on: None,
        }
    }

    #[test]
    fn quarters_and_reference_dates() {
        let q = Quarter::new(2026, 1).unwrap();
        assert_eq!(q.reference_date(), d("2026-03-31"));
        assert_eq!(q.previous(), Quarter::new(2025, 4).unwrap());
        assert_eq!(
            Quarter::containing(d("2026-08-15")),
            Quarter::new(2026, 3).unwrap()
        );
        assert_eq!(
            Quarter::new(2026, 4).unwrap().reference_date(),
            d("2026-12-31")
        );
    }

    #[test]
    fn standing_follows_the_reasons_in_order() {
        let q = Quarter::new(2026, 1).unwrap();
        let mut c = child("2023-01-10", "2025-06-01");
        assert_eq!(standing(&c, q).unwrap().column, 8);
        c.outreach
            .push((d("2026-01-05"), OutreachOutcome::NietBereikt));
        assert_eq!(standing(&c, q).unwrap().column, 6);
        c.outreach.push((d("2026-01-06"), OutreachOutcome::Bereikt));
        assert_eq!(standing(&c, q).unwrap().column, 7);
        c.referrals.push(ReferralRecord {
            referred_on: d("2026-01-10"),
            waitlisted_on: None,
            accepted_on: None,
        });
        assert_eq!(standing(&c, q).unwrap().column, 5);
        c.referrals[0].waitlisted_on = Some(d("2026-02-01"));
        assert_eq!(standing(&c, q).unwrap().column, 4);
        c.declined = Some((d("2026-03-01"), DeclineReason::Kosten));
        assert_eq!(standing(&c, q).unwrap().column, 3);
        c.placements.push(PlacementRecord {
            location: "123456789".into(),
            start_on: d("2026-03-02"),
            end_on: None,
            hours: vec![(d("2026-03-02"), 12)],
        });
        let s = standing(&c, q).unwrap();
        assert_eq!((s.column, s.location), (1, Some("123456789")));
        c.placements[0].hours.push((d("2026-03-20"), 16));
        assert_eq!(standing(&c, q).unwrap().column, 0);
        c.moved_on = Some(d("2026-03-25"));
        assert_eq!(standing(&c, q).unwrap().column, 2);
        c.moved_on = Some(d("2025-12-31"));
        assert!(standing(&c, q).is_none());
    }

    #[test]
    fn only_indicated_children_in_the_window_count() {
        let q = Quarter::new(2026, 1).unwrap();
        // Turns 2.5 on 2026-04-10: not yet in the window on 2026-03-31.
        assert!(standing(&child("2023-10-10", "2025-10-01"), q).is_none());
        // Turned 4 on 2026-03-01.
        assert!(standing(&child("2022-03-01", "2024-10-01"), q).is_none());
        // Indication after the reference date.
        assert!(standing(&child("2023-01-10", "2026-04-01"), q).is_none());
        let mut withdrawn = child("2023-01-10", "2025-06-01");
        withdrawn.indications[0].withdrawn_on = Some(d("2026-03-31"));
        assert!(standing(&withdrawn, q).is_none());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn arb_child() -> impl Strategy<Value = MonitorChild> {
            let base = d("2023-01-01");
            let day = move |n: i64| base + chrono::Duration::days(n);
            (
                0i64..900,
                0usize..3,
                prop::option::of((0i64..1300, 0i64..200)),
                proptest::collection::vec(
                    (0i64..1300, prop::option::of(0i64..400), 0u8..30, 0usize..3),
                    0..3,
                ),
                proptest::collection::vec((0i64..1300, prop::option::of(0i64..60)), 0..2),
                proptest::collection::vec((0i64..1300, any::<bool>()), 0..3),
                prop::option::of((0i64..1300, 0usize..9)),
                prop::option::of(0i64..1300),
            )
                .prop_map(
                    move |(
                        birth,
                        district,
                        ind,
                        placements,
                        referrals,
                        outreach,
                        declined,
                        moved,
                    )| MonitorChild {
                        district: ["Noord", "Zuid", "Oost"][district].into(),
                        birth_date: day(birth - 900),
                        indications: ind
                            .map(|(on, len)| IndicationRecord {
                                issued_on: day(on),
                                withdrawn_on: (len > 150).then(|| day(on + len)),
                                criteria: vec!["taalachterstand".into()],
                            })
                            .into_iter()
                            .collect(),
                        placements: placements
                            .into_iter()
                            .map(|(start, len, hours, loc)| PlacementRecord {
                                location: ["100000001", "100000002", "100000003"][loc].into(),
                                start_on: day(start),
                                end_on: len.map(|l| day(start + l)),
                                hours: vec![(day(start), hours)],
                            })
                            .collect(),
                        referrals: referrals
                            .into_iter()
                            .map(|(on, wait)| ReferralRecord {
                                referred_on: day(on),
                                waitlisted_on: wait.map(|w| day(on + w)),
                                accepted_on: None,
                            })
                            .collect(),
                        outreach: outreach
                            .into_iter()
                            .map(|(on, ok)| {
                                (
                                    day(on),
                                    if ok {
                                        OutreachOutcome::Bereikt
                                    } else {
                                        OutreachOutcome::NietBereikt
                                    },
                                )
                            })
                            .collect(),
                        declined: declined.map(|(on, r)| (day(on), DeclineReason::ALL[r])),
                        moved_on: moved.map(day),
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// Shared margins are published (or suppressed) alike in every table, with the same
            /// value, and nothing small is published anywhere.
            #[test]
            fn linked_margins_agree_and_nothing_small_is_published(
                children in proptest::collection::vec(arb_child(), 0..120),
                threshold in 0u64..8,
                suppress_zero in any::<bool>(),
            ) {
                let config = MonitorConfig {
                    suppression: SuppressionConfig { threshold, suppress_zero },
                    min_denominator: 20,
                    trend_quarters: 4,
                    round_to: 1,
                };
                let q = Quarter::new(2025, 2).unwrap();
                let f = compute(&children, q, &[], &[], &config);
                let p = publish_figures(&f, &config);
                let dct = p.by_district.col_totals.clone().unwrap();
                let lct = p.by_location.col_totals.clone().unwrap();
                for j in 0..2 {
                    prop_assert_eq!(dct[j], lct[j]);
                    prop_assert_eq!(f.by_district.col_total(j), f.by_location.col_total(j));
                }
                prop_assert_eq!(dct[COL_DECLINED], p.decline_reasons.col_totals.clone().unwrap()[0]);
                let last = p.trend.cells.len() - 1;
                prop_assert_eq!(p.trend.cells[last][0], dct[0]);
                prop_assert_eq!(p.trend.cells[last][1], dct[1]);
                prop_assert_eq!(p.trend.row_totals.clone().unwrap()[last], p.by_district.grand_total);
                for t in [&p.by_district, &p.by_criterion, &p.by_location, &p.decline_reasons, &p.trend] {
                    let all = t.cells.iter().flatten()
                        .chain(t.row_totals.iter().flatten())
                        .chain(t.col_totals.iter().flatten())
                        .chain(std::iter::once(&t.grand_total));
                    for v in all.flatten() {
                        prop_assert!(!config.suppression.is_small(*v), "published small value {}", v);
                    }
                }
            }
        }
    }

    #[test]
    fn rounding_to_multiples() {
        assert_eq!(round_count(12, 1), 12);
        assert_eq!(round_count(12, 5), 10);
        assert_eq!(round_count(13, 5), 15);
        assert_eq!(round_count(0, 5), 0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3]), Some(3.0));
        assert_eq!(median(&[1, 2, 10, 20]), Some(6.0));
    }
}

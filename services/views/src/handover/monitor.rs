//! The municipality's handover monitor, pure: counts from the anonymous facts, then small-cell
//! suppression with secondary suppression (the VVE views' [`suppression`](crate::vve::suppression)
//! module, shared), so that no suppressed count can be recomputed from published totals.
//!
//! Tables and the lines that link them:
//! - consent: rows `gegeven`, `geweigerd`, `open`, column total = preschool files;
//! - refusals per reason: column total = refusals, the same number as the consent table's
//!   `geweigerd` cell: when either is suppressed, both are (iterated until stable);
//! - per pair ("koppel") of sender and school: `verzonden` split into confirmed in time / not,
//!   and into warm handover held / not; only the first part of each split is published, the
//!   complement is suppressed with it when it is small (it would otherwise be `verzonden - part`);
//! - year-3 positions per primary school: rows schools, columns boven/op/onder, with row, column
//!   and grand totals.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kansrijk_proto::handover::{
    Cell, FileKind, Monitor, PairRow, PositionRow, RefusalReason, RefusalRow, Year3Position,
};

use crate::vve::suppression::{publish, Cmp, Linked, Pos, SuppressionConfig, Table, TableId};

/// One file's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: FileKind,
    pub sender: String,
    pub school: Option<String>,
    /// `None` while open.
    pub consent: Option<bool>,
    pub refusal_reason: Option<RefusalReason>,
    pub sent_on: Option<NaiveDate>,
    pub confirmed_on: Option<NaiveDate>,
    pub warm_held: bool,
    pub year3: Option<Year3Position>,
}

fn cell(v: Option<u64>) -> Cell {
    Cell {
        aantal: v,
        onderdrukt: v.is_none(),
    }
}

fn one_column(rows: Vec<String>, counts: Vec<u64>) -> Table {
    let mut t = Table::new(rows, vec!["aantal".into()], false, true);
    for (i, c) in counts.into_iter().enumerate() {
        t.cells[i][0] = c;
    }
    t
}

/// A pair: kind, sender, school.
type PairKey = (FileKind, String, String);

/// The tables of one partition (one year, or all years) before suppression.
#[derive(Debug, Clone)]
struct Partition {
    consent: Table,
    reasons: Table,
    /// Per pair: rows the two splits of `verzonden` (confirmed in time, warm handover held),
    /// columns the part published and its complement (never shown), row totals `verzonden`.
    pairs: BTreeMap<PairKey, Table>,
    positions: Table,
}

fn partition(facts: &[&Fact], confirm_within_days: u16) -> Partition {
    // Consent and refusals (preschool files).
    let pre: Vec<&Fact> = facts
        .iter()
        .copied()
        .filter(|f| f.kind == FileKind::Voorschool)
        .collect();
    let given = pre.iter().filter(|f| f.consent == Some(true)).count() as u64;
    let refused = pre.iter().filter(|f| f.consent == Some(false)).count() as u64;
    let open = pre.len() as u64 - given - refused;
    let consent = one_column(
        vec!["gegeven".into(), "geweigerd".into(), "open".into()],
        vec![given, refused, open],
    );
    let per_reason: Vec<u64> = RefusalReason::ALL
        .iter()
        .map(|r| {
            pre.iter()
                .filter(|f| f.consent == Some(false) && f.refusal_reason == Some(*r))
                .count() as u64
        })
        .collect();
    let reasons = one_column(
        RefusalReason::ALL
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        per_reason,
    );

    let mut counts: BTreeMap<PairKey, (u64, u64, u64)> = BTreeMap::new();
    for f in facts {
        let (Some(school), Some(sent)) = (&f.school, f.sent_on) else {
            continue;
        };
        let e = counts
            .entry((f.kind, f.sender.clone(), school.clone()))
            .or_default();
        e.0 += 1;
        if f.confirmed_on
            .is_some_and(|c| (c - sent).num_days() <= i64::from(confirm_within_days))
        {
            e.1 += 1;
        }
        if f.warm_held {
            e.2 += 1;
        }
    }
    let pairs = counts
        .into_iter()
        .map(|(k, (sent, timely, warm))| {
            let mut t = Table::new(
                vec!["tijdig".into(), "warm".into()],
                vec!["ja".into(), "nee".into()],
                true,
                false,
            );
            t.cells[0] = vec![timely, sent - timely];
            t.cells[1] = vec![warm, sent - warm];
            (k, t)
        })
        .collect();

    let mut schools: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.kind == FileKind::PoVo) {
        if let Some(p) = f.year3 {
            let row = schools.entry(f.sender.clone()).or_default();
            let i = Year3Position::ALL.iter().position(|x| *x == p).unwrap_or(0);
            row[i] += 1;
        }
    }
    let mut positions = Table::new(
        schools.keys().cloned().collect(),
        Year3Position::ALL
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        true,
        true,
    );
    for (i, counts) in schools.values().enumerate() {
        positions.cells[i] = counts.to_vec();
    }
    Partition {
        consent,
        reasons,
        pairs,
        positions,
    }
}

/// Picks one table of a partition (with where it is in the linked set).
type Pick<'a> = dyn Fn(&Partition, &Placed) -> Option<(TableId, Table)> + 'a;

/// Where a partition's tables are in the linked set.
#[derive(Debug, Clone)]
struct Placed {
    consent: TableId,
    reasons: TableId,
    pairs: BTreeMap<PairKey, TableId>,
    positions: TableId,
}

/// Adds a partition's tables with the relations inside it: the refusals are the consent table's
/// `geweigerd`; a pair's two row totals are both `verzonden`.
fn place(set: &mut Linked, p: &Partition) -> Placed {
    let consent = set.add(&p.consent);
    let reasons = set.add(&p.reasons);
    let fig = |set: &Linked, t, pos| set.figure(t, pos).expect("a position of the table");
    let (a, b) = (
        fig(set, consent, (1, 0)),
        fig(set, reasons, p.reasons.col_total_pos(0)),
    );
    set.same(a, b);
    let mut pairs = BTreeMap::new();
    for (k, t) in &p.pairs {
        let id = set.add(t);
        let (a, b) = (fig(set, id, (0, 2)), fig(set, id, (1, 2)));
        set.same(a, b);
        pairs.insert(k.clone(), id);
    }
    let positions = set.add(&p.positions);
    Placed {
        consent,
        reasons,
        pairs,
        positions,
    }
}

/// Links a table of all years to the same table of each year: each figure of the all-years table
/// (matched by row and column label; totals by position) is the sum of that figure over the
/// years in which it exists.
fn link_years(set: &mut Linked, all: (TableId, &Table), years: &[(TableId, &Table)]) {
    let key = |t: &Table, (i, j): Pos| -> (Option<String>, Option<String>) {
        (t.rows.get(i).cloned(), t.cols.get(j).cloned())
    };
    let find = |t: &Table, k: &(Option<String>, Option<String>)| -> Option<Pos> {
        let i = match &k.0 {
            Some(r) => t.rows.iter().position(|x| x == r)?,
            None => t.rows.len(),
        };
        let j = match &k.1 {
            Some(c) => t.cols.iter().position(|x| x == c)?,
            None => t.cols.len(),
        };
        t.value((i, j)).map(|_| (i, j))
    };
    for pos in all.1.positions() {
        let Some(total) = set.figure(all.0, pos) else {
            continue;
        };
        let k = key(all.1, pos);
        let parts: Vec<usize> = years
            .iter()
            .filter_map(|(id, t)| find(t, &k).and_then(|p| set.figure(*id, p)))
            .collect();
        set.relate(parts, total, Cmp::Eq);
    }
}

/// Computes the monitor of one municipality over `facts` taken as one whole (no partitions).
pub fn compute(
    municipality: &str,
    facts: &[Fact],
    config: &SuppressionConfig,
    confirm_within_days: u16,
) -> Monitor {
    let dated: Vec<(i32, Fact)> = facts.iter().map(|f| (0, f.clone())).collect();
    compute_partition(municipality, &dated, None, config, confirm_within_days)
}

/// The monitor of `year` (all years when `None`) from all of the municipality's facts, each with
/// its year. Every partition a user can ask for (the all-years table and every year) is one
/// linked set, suppressed at once: each all-years figure is the sum of the same figure over the
/// years, so that no year, taken from the whole or from the other years, gives away a suppressed
/// figure of another (ADR 0701). The answer is the same partition whichever is asked for first.
pub fn compute_partition(
    municipality: &str,
    facts: &[(i32, Fact)],
    year: Option<i32>,
    config: &SuppressionConfig,
    confirm_within_days: u16,
) -> Monitor {
    let all_facts: Vec<&Fact> = facts.iter().map(|(_, f)| f).collect();
    let mut by_year: BTreeMap<i32, Vec<&Fact>> = BTreeMap::new();
    for (y, f) in facts {
        by_year.entry(*y).or_default().push(f);
    }
    let all = partition(&all_facts, confirm_within_days);
    let years: BTreeMap<i32, Partition> = by_year
        .iter()
        .map(|(y, fs)| (*y, partition(fs, confirm_within_days)))
        .collect();
    let mut set = Linked::default();
    let placed_all = place(&mut set, &all);
    let placed_years: BTreeMap<i32, Placed> = years
        .iter()
        .map(|(y, p)| (*y, place(&mut set, p)))
        .collect();
    {
        let each = |get: &Pick<'_>| {
            years
                .iter()
                .filter_map(|(y, p)| get(p, &placed_years[y]))
                .collect::<Vec<_>>()
        };
        let consent = each(&|p, pl| Some((pl.consent, p.consent.clone())));
        let reasons = each(&|p, pl| Some((pl.reasons, p.reasons.clone())));
        let positions = each(&|p, pl| Some((pl.positions, p.positions.clone())));
        fn refs(v: &[(TableId, Table)]) -> Vec<(TableId, &Table)> {
            v.iter().map(|(i, t)| (*i, t)).collect()
        }
        link_years(
            &mut set,
            (placed_all.consent, &all.consent),
            &refs(&consent),
        );
        link_years(
            &mut set,
            (placed_all.reasons, &all.reasons),
            &refs(&reasons),
        );
        link_years(
            &mut set,
            (placed_all.positions, &all.positions),
            &refs(&positions),
        );
        for (k, t) in &all.pairs {
            let per_year = each(&|p, pl| p.pairs.get(k).map(|t| (pl.pairs[k], t.clone())));
            link_years(&mut set, (placed_all.pairs[k], t), &refs(&per_year));
        }
    }
    let s = set.suppress(config, &[]);
    match year {
        None => render(municipality, config, &all, &placed_all, &set, &s),
        Some(y) => match (years.get(&y), placed_years.get(&y)) {
            (Some(p), Some(pl)) => render(municipality, config, p, pl, &set, &s),
            _ => {
                // A year without files: nothing to link, everything is zero (and suppressed).
                let p = partition(&[], confirm_within_days);
                let mut own = Linked::default();
                let pl = place(&mut own, &p);
                let s = own.suppress(config, &[]);
                render(municipality, config, &p, &pl, &own, &s)
            }
        },
    }
}

fn render(
    municipality: &str,
    config: &SuppressionConfig,
    p: &Partition,
    pl: &Placed,
    set: &Linked,
    s: &[bool],
) -> Monitor {
    let consent_pub = publish(&p.consent, &set.pattern(pl.consent, s));
    let reason_pub = publish(&p.reasons, &set.pattern(pl.reasons, s));
    let koppels = p
        .pairs
        .iter()
        .map(|((kind, sender, school), t)| {
            let out = publish(
                t,
                &set.pattern(pl.pairs[&(*kind, sender.clone(), school.clone())], s),
            );
            let sent = out.row_totals.as_ref().and_then(|r| r[0]);
            PairRow {
                soort: *kind,
                afzender: sender.clone(),
                school: school.clone(),
                verzonden: cell(sent),
                tijdig_bevestigd: cell(out.cells[0][0]),
                warme_overdracht: cell(out.cells[1][0]),
            }
        })
        .collect();
    let pp = publish(&p.positions, &set.pattern(pl.positions, s));
    let mut positions: Vec<PositionRow> = pp
        .rows
        .iter()
        .enumerate()
        .map(|(i, school)| PositionRow {
            school: school.clone(),
            boven: cell(pp.cells[i][0]),
            op: cell(pp.cells[i][1]),
            onder: cell(pp.cells[i][2]),
        })
        .collect();
    if let Some(totals) = &pp.col_totals {
        positions.push(PositionRow {
            school: "totaal".into(),
            boven: cell(totals[0]),
            op: cell(totals[1]),
            onder: cell(totals[2]),
        });
    }
    let consent_total = consent_pub.col_totals.as_ref().and_then(|t| t[0]);
    Monitor {
        gemeente: municipality.to_owned(),
        drempel: config.threshold,
        voorschool_dossiers: cell(consent_total),
        toestemming_gegeven: cell(consent_pub.cells[0][0]),
        toestemming_geweigerd: cell(consent_pub.cells[1][0]),
        weigeringen_per_reden: RefusalReason::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| RefusalRow {
                reden: *r,
                aantal: cell(reason_pub.cells[i][0]),
            })
            .collect(),
        koppels,
        positie_leerjaar3: positions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(n: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + chrono::Days::new(n)
    }

    fn pre(consent: Option<bool>, reason: Option<RefusalReason>) -> Fact {
        Fact {
            kind: FileKind::Voorschool,
            sender: "123456789".into(),
            school: None,
            consent,
            refusal_reason: reason,
            sent_on: None,
            confirmed_on: None,
            warm_held: false,
            year3: None,
        }
    }

    #[test]
    fn small_refusal_counts_are_suppressed_with_their_total() {
        let mut facts: Vec<Fact> = (0..30).map(|_| pre(Some(true), None)).collect();
        facts.extend((0..3).map(|_| pre(Some(false), Some(RefusalReason::PrivacyBezwaar))));
        facts.extend((0..9).map(|_| pre(Some(false), Some(RefusalReason::ZelfOverdragen))));
        facts.extend((0..10).map(|_| pre(None, None)));
        let m = compute("0546", &facts, &SuppressionConfig::default(), 10);
        assert_eq!(m.voorschool_dossiers.aantal, Some(52));
        assert_eq!(m.toestemming_gegeven.aantal, Some(30));
        let by = |r: RefusalReason| {
            m.weigeringen_per_reden
                .iter()
                .find(|x| x.reden == r)
                .unwrap()
                .aantal
        };
        // 3 is small; the zeros are small too. With 9 published, the suppressed reasons would
        // add up to 12 - 9 = 3: each of them at most 3. So 9 goes as well.
        assert!(by(RefusalReason::PrivacyBezwaar).onderdrukt);
        assert!(by(RefusalReason::ZelfOverdragen).onderdrukt);
        // Refusals total (12) is published in both places or in neither.
        assert_eq!(m.toestemming_geweigerd.aantal, Some(12));
    }

    #[test]
    fn a_pair_with_one_late_confirmation_does_not_reveal_it() {
        let facts: Vec<Fact> = (0..20)
            .map(|i| Fact {
                kind: FileKind::Voorschool,
                sender: "123456789".into(),
                school: Some("34CD01".into()),
                consent: Some(true),
                refusal_reason: None,
                sent_on: Some(d(0)),
                confirmed_on: Some(if i == 0 { d(30) } else { d(2) }),
                warm_held: i < 10,
                year3: None,
            })
            .collect();
        let m = compute("0546", &facts, &SuppressionConfig::default(), 10);
        let k = &m.koppels[0];
        // 19 of 20 in time: publishing 19 and 20 would reveal the one late file.
        assert!(k.tijdig_bevestigd.onderdrukt || k.verzonden.onderdrukt);
        assert_eq!(k.warme_overdracht.aantal, Some(10));
    }

    fn arb_fact() -> impl Strategy<Value = Fact> {
        (
            any::<bool>(),
            0usize..3,
            0usize..3,
            proptest::option::of(any::<bool>()),
            0usize..6,
            proptest::option::of(0u64..20),
            any::<bool>(),
            proptest::option::of(0usize..3),
        )
            .prop_map(|(pre, s, sch, consent, r, conf, warm, y3)| Fact {
                kind: if pre {
                    FileKind::Voorschool
                } else {
                    FileKind::PoVo
                },
                sender: format!("S{s}"),
                school: Some(format!("R{sch}")),
                consent: if pre { consent } else { None },
                refusal_reason: (pre && consent == Some(false)).then_some(RefusalReason::ALL[r]),
                sent_on: Some(d(0)),
                confirmed_on: conf.map(d),
                warm_held: warm,
                year3: if pre {
                    None
                } else {
                    y3.map(|i| Year3Position::ALL[i])
                },
            })
    }

    fn published(c: &Cell) -> Option<u64> {
        c.aantal
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn nothing_small_is_published_and_no_suppressed_cell_is_recoverable(
            facts in proptest::collection::vec(arb_fact(), 0..120)
        ) {
            let config = SuppressionConfig::default();
            let m = compute("0546", &facts, &config, 10);
            let mut all = vec![m.voorschool_dossiers, m.toestemming_gegeven, m.toestemming_geweigerd];
            all.extend(m.weigeringen_per_reden.iter().map(|r| r.aantal));
            for k in &m.koppels {
                all.extend([k.verzonden, k.tijdig_bevestigd, k.warme_overdracht]);
                // A published part with a published total reveals the complement: it must not be small.
                if let (Some(s), Some(t)) = (k.verzonden.aantal, k.tijdig_bevestigd.aantal) {
                    prop_assert!(!config.is_small(s - t));
                }
                if let (Some(s), Some(w)) = (k.verzonden.aantal, k.warme_overdracht.aantal) {
                    prop_assert!(!config.is_small(s - w));
                }
            }
            for p in &m.positie_leerjaar3 {
                all.extend([p.boven, p.op, p.onder]);
            }
            for c in &all {
                prop_assert_eq!(c.onderdrukt, c.aantal.is_none());
                if let Some(v) = c.aantal {
                    prop_assert!(!config.is_small(v), "published small value {}", v);
                }
            }
            // Consent line: total = given + refused + open; never exactly one unknown part.
            let open_known = m.toestemming_gegeven.aantal.is_some() && m.toestemming_geweigerd.aantal.is_some();
            if let Some(total) = published(&m.voorschool_dossiers) {
                let unknown = [m.toestemming_gegeven, m.toestemming_geweigerd].iter().filter(|c| c.onderdrukt).count();
                // `open` is never published on its own, so with both others known it would be
                // total - given - refused: it must then not be small.
                if open_known {
                    let open = total - m.toestemming_gegeven.aantal.unwrap() - m.toestemming_geweigerd.aantal.unwrap();
                    prop_assert!(!config.is_small(open));
                }
                prop_assert!(unknown != 1 || !open_known);
            }
            // Refusal reasons: their total is the published refusals; never exactly one unknown.
            if m.toestemming_geweigerd.aantal.is_some() {
                let unknown = m.weigeringen_per_reden.iter().filter(|r| r.aantal.onderdrukt).count();
                prop_assert!(unknown != 1);
            }
            // Positions: every published row/column total has zero or 2+ suppressed parts.
            let (rows, total): (Vec<&PositionRow>, Vec<&PositionRow>) =
                m.positie_leerjaar3.iter().partition(|p| p.school != "totaal");
            for r in &rows {
                let unknown = [r.boven, r.op, r.onder].iter().filter(|c| c.onderdrukt).count();
                // Row totals are not in the output, so rows are safe on their own; columns:
                let _ = unknown;
            }
            if let Some(t) = total.first() {
                for (j, tot) in [t.boven, t.op, t.onder].iter().enumerate() {
                    if tot.aantal.is_some() {
                        let unknown = rows
                            .iter()
                            .filter(|r| [r.boven, r.op, r.onder][j].onderdrukt)
                            .count();
                        prop_assert!(unknown != 1);
                    }
                }
            }
        }
    }
}

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

use crate::vve::suppression::{publish, suppress, Pattern, Pos, SuppressionConfig, Table};

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

/// Suppresses two one-column tables whose totals / cells are the same number (`a_pos` in `a`,
/// `b_pos` in `b`): when either is suppressed, both are.
fn suppress_linked(
    a: &Table,
    a_pos: Pos,
    b: &Table,
    b_pos: Pos,
    config: &SuppressionConfig,
) -> (Pattern, Pattern) {
    let mut fa = Vec::new();
    let mut fb = Vec::new();
    loop {
        let pa = suppress(a, config, &fa);
        let pb = suppress(b, config, &fb);
        let (sa, sb) = (pa.is_suppressed(a_pos), pb.is_suppressed(b_pos));
        if sa == sb {
            return (pa, pb);
        }
        if sa {
            fb.push(b_pos);
        } else {
            fa.push(a_pos);
        }
    }
}

/// Computes the monitor of one municipality.
pub fn compute(
    municipality: &str,
    facts: &[Fact],
    config: &SuppressionConfig,
    confirm_within_days: u16,
) -> Monitor {
    // Consent and refusals (preschool files).
    let pre: Vec<&Fact> = facts
        .iter()
        .filter(|f| f.kind == FileKind::Voorschool)
        .collect();
    let given = pre.iter().filter(|f| f.consent == Some(true)).count() as u64;
    let refused = pre.iter().filter(|f| f.consent == Some(false)).count() as u64;
    let open = pre.len() as u64 - given - refused;
    let consent = one_column(
        vec!["gegeven".into(), "geweigerd".into(), "open".into()],
        vec![given, refused, open],
    );
    let reasons = RefusalReason::ALL;
    let per_reason: Vec<u64> = reasons
        .iter()
        .map(|r| {
            pre.iter()
                .filter(|f| f.consent == Some(false) && f.refusal_reason == Some(*r))
                .count() as u64
        })
        .collect();
    let reason_table = one_column(
        reasons.iter().map(|r| r.as_str().to_owned()).collect(),
        per_reason,
    );
    let (pc, pr) = suppress_linked(
        &consent,
        (1, 0),
        &reason_table,
        reason_table.col_total_pos(0),
        config,
    );
    let consent_pub = publish(&consent, &pc);
    let reason_pub = publish(&reason_table, &pr);

    // Pairs.
    let mut pairs: BTreeMap<(FileKind, String, String), (u64, u64, u64)> = BTreeMap::new();
    for f in facts {
        let (Some(school), Some(sent)) = (&f.school, f.sent_on) else {
            continue;
        };
        let e = pairs
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
    let koppels = pairs
        .into_iter()
        .map(|((kind, sender, school), (sent, timely, warm))| {
            let (sent_c, timely_c, warm_c) = pair_cells(sent, timely, warm, config);
            PairRow {
                soort: kind,
                afzender: sender,
                school,
                verzonden: sent_c,
                tijdig_bevestigd: timely_c,
                warme_overdracht: warm_c,
            }
        })
        .collect();

    // Year-3 positions per primary school.
    let mut schools: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.kind == FileKind::PoVo) {
        if let Some(p) = f.year3 {
            let row = schools.entry(f.sender.clone()).or_default();
            let i = Year3Position::ALL.iter().position(|x| *x == p).unwrap_or(0);
            row[i] += 1;
        }
    }
    let mut pos_table = Table::new(
        schools.keys().cloned().collect(),
        Year3Position::ALL
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        true,
        true,
    );
    for (i, counts) in schools.values().enumerate() {
        pos_table.cells[i] = counts.to_vec();
    }
    let pp = publish(&pos_table, &suppress(&pos_table, config, &[]));
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
        weigeringen_per_reden: reasons
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

/// The cells of one pair: `sent` and the published parts of its two splits.
fn pair_cells(sent: u64, timely: u64, warm: u64, config: &SuppressionConfig) -> (Cell, Cell, Cell) {
    // Rows: the two splits of `sent`; columns: the part we publish and its complement.
    let mut t = Table::new(
        vec!["tijdig".into(), "warm".into()],
        vec!["ja".into(), "nee".into()],
        true,
        false,
    );
    t.cells[0] = vec![timely, sent - timely];
    t.cells[1] = vec![warm, sent - warm];
    // Both row totals are `sent`: suppress them together.
    let mut forced = Vec::new();
    let p = loop {
        let p = suppress(&t, config, &forced);
        let (a, b) = (p.is_suppressed((0, 2)), p.is_suppressed((1, 2)));
        if a == b {
            break p;
        }
        forced.push(if a { (1, 2) } else { (0, 2) });
    };
    let out = publish(&t, &p);
    let sent_pub = out.row_totals.as_ref().and_then(|r| r[0]);
    (cell(sent_pub), cell(out.cells[0][0]), cell(out.cells[1][0]))
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
        // 3 is small; the zeros are small too, 9 stays.
        assert!(by(RefusalReason::PrivacyBezwaar).onderdrukt);
        assert_eq!(by(RefusalReason::ZelfOverdragen).aantal, Some(9));
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

//! The suppression audit (ADR 0701) over everything the municipality can fetch, and the
//! differencing attacks of issue 17 item 1. An attacker's model of the published figures (every
//! total the sum of its parts, shared margins the same number, all unknowns >= 0) is rebuilt here
//! from the raw counts, independently of the suppression's own bookkeeping; the published values
//! come from the monitors' outputs.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kansrijk_proto::handover::{Cell, FileKind, Monitor, RefusalReason, Year3Position};
use kansrijk_views::audit;
use kansrijk_views::handover::monitor::{compute, compute_partition, Fact};
use kansrijk_views::vve::suppression::{Cmp, Linked, Published, SuppressionConfig, Table};
use proptest::prelude::*;

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

    fn add(
        &mut self,
        t: &Table,
        p: Option<&Published>,
    ) -> kansrijk_views::vve::suppression::TableId {
        let id = self.set.add(t);
        self.grow();
        if let Some(p) = p {
            let (r, c) = (t.rows.len(), t.cols.len());
            for (i, row) in p.cells.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    self.mark(self.set.figure(id, (i, j)).unwrap(), *v);
                }
            }
            for (i, v) in p.row_totals.iter().flatten().enumerate() {
                self.mark(self.set.figure(id, (i, c)).unwrap(), *v);
            }
            for (j, v) in p.col_totals.iter().flatten().enumerate() {
                self.mark(self.set.figure(id, (r, j)).unwrap(), *v);
            }
            if let Some(g) = self.set.figure(id, (r, c)) {
                self.mark(g, p.grand_total);
            }
        }
        id
    }

    /// The audit's findings: suppressed figures an attacker narrows below the protection.
    fn audit(&self, config: &SuppressionConfig) -> Vec<audit::Finding> {
        audit::audit(
            self.set.values(),
            self.set.relations(),
            &self.known,
            &self.shown,
            config,
        )
    }
}

// --- Handover ----------------------------------------------------------------------------------

fn d(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 1).unwrap() + chrono::Days::new(n)
}

type Key = (FileKind, String, String);

/// Raw counts of one partition, as the attacker models them.
struct Raw {
    consent: Table,
    reasons: Table,
    pairs: BTreeMap<Key, Table>,
    positions: Table,
}

fn raw(facts: &[&Fact], days: u16) -> Raw {
    let pre: Vec<&&Fact> = facts
        .iter()
        .filter(|f| f.kind == FileKind::Voorschool)
        .collect();
    let mut consent = Table::new(
        vec!["gegeven".into(), "geweigerd".into(), "open".into()],
        vec!["aantal".into()],
        false,
        true,
    );
    for f in &pre {
        let i = match f.consent {
            Some(true) => 0,
            Some(false) => 1,
            None => 2,
        };
        consent.cells[i][0] += 1;
    }
    let mut reasons = Table::new(
        RefusalReason::ALL
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        vec!["aantal".into()],
        false,
        true,
    );
    for f in pre.iter().filter(|f| f.consent == Some(false)) {
        if let Some(i) = RefusalReason::ALL
            .iter()
            .position(|r| Some(*r) == f.refusal_reason)
        {
            reasons.cells[i][0] += 1;
        }
    }
    let mut pairs: BTreeMap<Key, Table> = BTreeMap::new();
    for f in facts {
        let (Some(school), Some(sent)) = (&f.school, f.sent_on) else {
            continue;
        };
        let t = pairs
            .entry((f.kind, f.sender.clone(), school.clone()))
            .or_insert_with(|| {
                Table::new(
                    vec!["tijdig".into(), "warm".into()],
                    vec!["ja".into(), "nee".into()],
                    true,
                    false,
                )
            });
        let timely = f
            .confirmed_on
            .is_some_and(|c| (c - sent).num_days() <= i64::from(days));
        t.cells[0][usize::from(!timely)] += 1;
        t.cells[1][usize::from(!f.warm_held)] += 1;
    }
    let mut schools: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.kind == FileKind::PoVo) {
        if let Some(p) = f.year3 {
            schools.entry(f.sender.clone()).or_default()
                [Year3Position::ALL.iter().position(|x| *x == p).unwrap()] += 1;
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
    for (i, c) in schools.values().enumerate() {
        positions.cells[i] = c.to_vec();
    }
    Raw {
        consent,
        reasons,
        pairs,
        positions,
    }
}

/// Figure ids of one partition by a label key: (table, row label or total, column or total).
type Ids = BTreeMap<(String, Option<String>, Option<String>), usize>;

fn ids_of(
    m: &Model,
    name: &str,
    id: kansrijk_views::vve::suppression::TableId,
    t: &Table,
    ids: &mut Ids,
) {
    for pos in t.positions() {
        let k = (
            name.to_owned(),
            t.rows.get(pos.0).cloned(),
            t.cols.get(pos.1).cloned(),
        );
        ids.insert(k, m.set.figure(id, pos).unwrap());
    }
}

/// Adds one partition's published monitor to the model.
fn add_handover(m: &mut Model, r: &Raw, out: &Monitor) -> Ids {
    let mut ids = Ids::new();
    let c = m.add(&r.consent, None);
    ids_of(m, "consent", c, &r.consent, &mut ids);
    let fig = |m: &Model, id, pos| m.set.figure(id, pos).unwrap();
    m.mark(fig(m, c, (0, 0)), out.toestemming_gegeven.aantal);
    m.mark(fig(m, c, (1, 0)), out.toestemming_geweigerd.aantal);
    m.mark(fig(m, c, (3, 0)), out.voorschool_dossiers.aantal);
    let rs = m.add(&r.reasons, None);
    ids_of(m, "reasons", rs, &r.reasons, &mut ids);
    for (i, row) in out.weigeringen_per_reden.iter().enumerate() {
        m.mark(fig(m, rs, (i, 0)), row.aantal.aantal);
    }
    let (a, b) = (fig(m, c, (1, 0)), fig(m, rs, (r.reasons.rows.len(), 0)));
    m.set.same(a, b);
    for (k, t) in &r.pairs {
        let id = m.add(t, None);
        ids_of(m, &format!("{k:?}"), id, t, &mut ids);
        let row = out
            .koppels
            .iter()
            .find(|p| (p.soort, p.afzender.clone(), p.school.clone()) == *k)
            .expect("every pair with files is listed");
        let (s0, s1) = (fig(m, id, (0, 2)), fig(m, id, (1, 2)));
        m.set.same(s0, s1);
        m.mark(s0, row.verzonden.aantal);
        m.mark(s1, row.verzonden.aantal);
        m.mark(fig(m, id, (0, 0)), row.tijdig_bevestigd.aantal);
        m.mark(fig(m, id, (1, 0)), row.warme_overdracht.aantal);
    }
    let p = m.add(&r.positions, None);
    ids_of(m, "positions", p, &r.positions, &mut ids);
    let cells = |c: &Cell| c.aantal;
    for row in &out.positie_leerjaar3 {
        let i = if row.school == "totaal" {
            r.positions.rows.len()
        } else {
            r.positions
                .rows
                .iter()
                .position(|s| *s == row.school)
                .unwrap()
        };
        for (j, v) in [cells(&row.boven), cells(&row.op), cells(&row.onder)]
            .into_iter()
            .enumerate()
        {
            m.mark(fig(m, p, (i, j)), v);
        }
    }
    ids
}

/// The model of everything the municipality can fetch: the all-years monitor and every year's.
fn handover_model(facts: &[(i32, Fact)], config: &SuppressionConfig) -> Model {
    let mut m = Model::default();
    let all: Vec<&Fact> = facts.iter().map(|(_, f)| f).collect();
    let all_ids = add_handover(
        &mut m,
        &raw(&all, 10),
        &compute_partition("0546", facts, None, config, 10),
    );
    let mut years: BTreeMap<i32, Vec<&Fact>> = BTreeMap::new();
    for (y, f) in facts {
        years.entry(*y).or_default().push(f);
    }
    let mut parts: Vec<Ids> = Vec::new();
    for (y, fs) in &years {
        let out = compute_partition("0546", facts, Some(*y), config, 10);
        parts.push(add_handover(&mut m, &raw(fs, 10), &out));
    }
    for (k, total) in &all_ids {
        let ps: Vec<usize> = parts.iter().filter_map(|p| p.get(k).copied()).collect();
        m.set.relate(ps, *total, Cmp::Eq);
    }
    m.grow();
    m
}

fn pair_fact(year_offset: u64, timely: bool) -> Fact {
    Fact {
        kind: FileKind::Voorschool,
        sender: "123456789".into(),
        school: Some("34CD01".into()),
        consent: Some(true),
        refusal_reason: None,
        sent_on: Some(d(year_offset)),
        confirmed_on: Some(d(year_offset + if timely { 2 } else { 30 })),
        warm_held: true,
        year3: None,
    }
}

/// 2025: 12 files sent, 10 confirmed in time (2 late: small); 2026: 30 sent, 20 in time.
fn two_years() -> Vec<(i32, Fact)> {
    let mut facts: Vec<(i32, Fact)> = (0..12).map(|i| (2025, pair_fact(0, i < 10))).collect();
    facts.extend((0..30).map(|i| (2026, pair_fact(365, i < 20))));
    facts
}

#[test]
fn all_years_minus_the_other_years_gives_back_a_suppressed_pair_cell_per_call_but_not_linked() {
    let facts = two_years();
    let config = SuppressionConfig::default();
    let of = |y: i32| -> Vec<Fact> {
        facts
            .iter()
            .filter(|(fy, _)| *fy == y)
            .map(|(_, f)| f.clone())
            .collect()
    };
    let all: Vec<Fact> = facts.iter().map(|(_, f)| f.clone()).collect();
    // The attack: 2025's late files = sent(2025) - (timely(all) - timely(2026)).
    let attack = |all: &Monitor, y25: &Monitor, y26: &Monitor| -> Option<u64> {
        let (a, b, s) = (
            all.koppels[0].tijdig_bevestigd.aantal?,
            y26.koppels[0].tijdig_bevestigd.aantal?,
            y25.koppels[0].verzonden.aantal?,
        );
        assert!(y25.koppels[0].tijdig_bevestigd.onderdrukt);
        Some(s - (a - b))
    };
    // Suppressed per call (what the service did): the attack recovers the 2 late files.
    let per_call = attack(
        &compute("0546", &all, &config, 10),
        &compute("0546", &of(2025), &config, 10),
        &compute("0546", &of(2026), &config, 10),
    );
    assert_eq!(per_call, Some(2));
    // Suppressed over all partitions at once: it does not.
    let linked = |y| compute_partition("0546", &facts, y, &config, 10);
    assert_eq!(
        attack(&linked(None), &linked(Some(2025)), &linked(Some(2026))),
        None
    );
    assert_eq!(handover_model(&facts, &config).audit(&config), vec![]);
}

#[test]
fn refusal_reasons_and_year3_positions_are_not_recovered_across_years() {
    let config = SuppressionConfig::default();
    let mut facts = Vec::new();
    let refusal = |r: RefusalReason| Fact {
        kind: FileKind::Voorschool,
        sender: "123456789".into(),
        school: None,
        consent: Some(false),
        refusal_reason: Some(r),
        sent_on: None,
        confirmed_on: None,
        warm_held: false,
        year3: None,
    };
    let povo = |p: Year3Position| Fact {
        kind: FileKind::PoVo,
        sender: "12AB00".into(),
        school: None,
        consent: None,
        refusal_reason: None,
        sent_on: None,
        confirmed_on: None,
        warm_held: false,
        year3: Some(p),
    };
    for (year, privacy, own, op, onder) in [(2025, 3, 9, 20, 4), (2026, 12, 10, 30, 12)] {
        facts.extend((0..privacy).map(|_| (year, refusal(RefusalReason::PrivacyBezwaar))));
        facts.extend((0..own).map(|_| (year, refusal(RefusalReason::ZelfOverdragen))));
        facts.extend((0..op).map(|_| (year, povo(Year3Position::Op))));
        facts.extend((0..onder).map(|_| (year, povo(Year3Position::Onder))));
    }
    let reason = |m: &Monitor| {
        let i = RefusalReason::ALL
            .iter()
            .position(|r| *r == RefusalReason::PrivacyBezwaar);
        m.weigeringen_per_reden[i.unwrap()].aantal.aantal
    };
    let onder = |m: &Monitor| m.positie_leerjaar3[0].onder.aantal;
    // The attack: 2025 = all years - 2026 (privacy objections 15 - 12 = 3, onder 16 - 12 = 4).
    let linked = |y| compute_partition("0546", &facts, y, &config, 10);
    let (a, b) = (linked(None), linked(Some(2026)));
    assert_eq!(reason(&a).zip(reason(&b)), None);
    assert_eq!(onder(&a).zip(onder(&b)), None);
    assert_eq!(handover_model(&facts, &config).audit(&config), vec![]);
}

fn arb_fact() -> impl Strategy<Value = (i32, Fact)> {
    (
        2024i32..2027,
        any::<bool>(),
        0usize..2,
        0usize..2,
        proptest::option::of(any::<bool>()),
        0usize..6,
        proptest::option::of(0u64..20),
        any::<bool>(),
        proptest::option::of(0usize..3),
    )
        .prop_map(|(y, pre, s, sch, consent, r, conf, warm, y3)| {
            (
                y,
                Fact {
                    kind: if pre {
                        FileKind::Voorschool
                    } else {
                        FileKind::PoVo
                    },
                    sender: format!("S{s}"),
                    school: Some(format!("R{sch}")),
                    consent: if pre { consent } else { None },
                    refusal_reason: (pre && consent == Some(false))
                        .then_some(RefusalReason::ALL[r]),
                    sent_on: Some(d(0)),
                    confirmed_on: conf.map(d),
                    warm_held: warm,
                    year3: if pre {
                        None
                    } else {
                        y3.map(|i| Year3Position::ALL[i])
                    },
                },
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// Every suppressed figure of the all-years monitor and of every year keeps the protection
    /// against a linear programme over all of them together.
    #[test]
    fn the_handover_monitor_passes_the_audit_over_all_years(
        facts in proptest::collection::vec(arb_fact(), 0..150),
        threshold in 1u64..8,
    ) {
        let config = SuppressionConfig { threshold, suppress_zero: true };
        let findings = handover_model(&facts, &config).audit(&config);
        prop_assert!(findings.is_empty(), "{findings:?}");
    }
}

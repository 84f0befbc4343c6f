//! The suppression audit: how far can an attacker narrow a suppressed figure down?
//!
//! The attacker sees every figure published in a set of linked tables (every table a user can
//! fetch together, see [`Linked`]) and knows how they relate: every total is the sum of its parts,
//! a margin shown twice is the same number, a child counted under several criteria is counted at
//! least once. For each suppressed (or never shown) figure, a linear programme over all of it
//! gives the smallest interval the attacker can be sure of:
//!
//! > min and max of the figure subject to: every published figure equals its value, every
//! > unknown figure is >= 0, every relation holds.
//!
//! The rule ([`SuppressionConfig::protection`]): every suppressed figure keeps an interval at
//! least `threshold` wide (`threshold - 1` when zeros are published). A small count then stays as
//! uncertain as the threshold makes it: among at least as many whole numbers as `0..=threshold`.
//!
//! The LP is solved with `microlp` (pure Rust), per group of unknown figures linked by relations
//! (groups are independent: what is published is a constant), which keeps every programme small.
//! [`Linked::suppress`] uses it to suppress until the rule holds; the tests use it on what the
//! API, the CSV and the XLSX publish.

use microlp::{ComparisonOp, Error, LinearExpr, OptimizationDirection, Problem};

use crate::vve::suppression::{Cmp, Linked, Relation, SuppressionConfig};

/// The interval an attacker can narrow an unknown figure down to (`hi` may be infinite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }

    /// Whether it is at least `width` wide (with a margin for the solver's rounding).
    pub fn protects(&self, width: u64) -> bool {
        self.width() >= width as f64 - 1e-6
    }
}

/// The audit's finding about one figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub figure: usize,
    pub value: u64,
    pub interval: Interval,
}

/// Groups of unknown figures: two are in one group when a relation holds both.
fn groups(n: usize, relations: &[Relation], known: &[bool]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for r in relations {
        let mut unknown = r
            .parts
            .iter()
            .chain(std::iter::once(&r.total))
            .filter(|f| !known[**f]);
        if let Some(first) = unknown.next() {
            for other in unknown {
                let (a, b) = (find(&mut parent, *first), find(&mut parent, *other));
                parent[a] = b;
            }
        }
    }
    (0..n).map(|x| find(&mut parent, x)).collect()
}

/// One group's programme: its unknown figures and the relations through them.
struct Programme<'a> {
    vars: Vec<usize>,
    relations: Vec<&'a Relation>,
}

impl Programme<'_> {
    fn solve(
        &self,
        values: &[u64],
        known: &[bool],
        target: usize,
        dir: OptimizationDirection,
    ) -> f64 {
        let mut p = Problem::new(dir);
        let vars: Vec<_> = self
            .vars
            .iter()
            .map(|f| p.add_var(if *f == target { 1.0 } else { 0.0 }, (0.0, f64::INFINITY)))
            .collect();
        let var = |f: usize| self.vars.binary_search(&f).ok().map(|i| vars[i]);
        for r in &self.relations {
            let mut expr = LinearExpr::empty();
            let mut rhs = 0.0;
            for (f, coef) in r
                .parts
                .iter()
                .map(|f| (*f, 1.0))
                .chain(std::iter::once((r.total, -1.0)))
            {
                match var(f).filter(|_| !known[f]) {
                    Some(v) => expr.add(v, coef),
                    None => rhs -= coef * values[f] as f64,
                }
            }
            let op = match r.cmp {
                Cmp::Eq => ComparisonOp::Eq,
                Cmp::AtMost => ComparisonOp::Le,
                Cmp::AtLeast => ComparisonOp::Ge,
            };
            p.add_constraint(expr, op, rhs);
        }
        match p.solve() {
            Ok(outcome) => outcome.solution().map_or(f64::NAN, |s| s.objective()),
            Err(Error::Unbounded) => match dir {
                OptimizationDirection::Maximize => f64::INFINITY,
                OptimizationDirection::Minimize => 0.0,
            },
            // The published figures always have the true values as a solution.
            Err(_) => f64::NAN,
        }
    }
}

fn programmes<'a>(
    n: usize,
    relations: &'a [Relation],
    known: &[bool],
) -> (Vec<usize>, std::collections::BTreeMap<usize, Programme<'a>>) {
    let g = groups(n, relations, known);
    let mut out: std::collections::BTreeMap<usize, Programme<'a>> = Default::default();
    for f in (0..n).filter(|f| !known[*f]) {
        out.entry(g[f])
            .or_insert_with(|| Programme {
                vars: Vec::new(),
                relations: Vec::new(),
            })
            .vars
            .push(f);
    }
    for r in relations {
        if let Some(f) = r
            .parts
            .iter()
            .chain(std::iter::once(&r.total))
            .find(|f| !known[**f])
        {
            if let Some(p) = out.get_mut(&g[*f]) {
                p.relations.push(r);
            }
        }
    }
    (g, out)
}

/// Figures that the relations alone pin to zero, whatever is published: the total of a line
/// without parts (a table without rows), and what adds up to such a zero. They say nothing about
/// any child and are not protected.
pub fn structural_zeros(n: usize, relations: &[Relation]) -> Vec<bool> {
    let mut z = vec![false; n];
    loop {
        let mut changed = false;
        for r in relations {
            if r.cmp == Cmp::Eq && !z[r.total] && r.parts.iter().all(|p| z[*p]) {
                z[r.total] = true;
                changed = true;
            }
            if r.cmp != Cmp::AtLeast && z[r.total] {
                for p in &r.parts {
                    changed |= !z[*p];
                    z[*p] = true;
                }
            }
        }
        if !changed {
            return z;
        }
    }
}

/// The interval of every figure in `targets` (which must be unknown).
pub fn intervals(
    values: &[u64],
    relations: &[Relation],
    known: &[bool],
    targets: &[usize],
) -> Vec<Finding> {
    let (g, progs) = programmes(values.len(), relations, known);
    targets
        .iter()
        .filter(|f| !known[**f])
        .map(|&f| {
            let p = &progs[&g[f]];
            let hi = p.solve(values, known, f, OptimizationDirection::Maximize);
            let lo = p.solve(values, known, f, OptimizationDirection::Minimize);
            Finding {
                figure: f,
                value: values[f],
                interval: Interval { lo, hi },
            }
        })
        .collect()
}

/// The audit of a published set: `known[f]` when figure `f` is published; every small figure
/// that is not published (shown as suppressed or never shown) must keep the protection. Returns
/// the figures that do not.
///
/// A figure suppressed only to protect others (secondary: not small, in `shown_suppressed`) needs
/// no interval of its own: narrowing it down discloses a count that could have been published, and
/// whatever it would give away about a small figure is in that figure's own programme.
pub fn audit(
    values: &[u64],
    relations: &[Relation],
    known: &[bool],
    shown_suppressed: &[bool],
    config: &SuppressionConfig,
) -> Vec<Finding> {
    let width = config.protection();
    let zeros = structural_zeros(values.len(), relations);
    let targets: Vec<usize> = (0..values.len())
        .filter(|f| !known[*f] && !zeros[*f] && config.is_small(values[*f]))
        .collect();
    // Shown suppressed in one table and published in another is published: `known` decides.
    let _ = shown_suppressed;
    intervals(values, relations, known, &targets)
        .into_iter()
        .filter(|x| !x.interval.protects(width))
        .collect()
}

/// For [`Linked::suppress`]: the first small suppressed figure of each group that the published
/// rest narrows down to less than the protection, with the group's figures.
pub(crate) fn narrow_groups(
    set: &Linked,
    s: &[bool],
    config: &SuppressionConfig,
) -> Vec<(usize, Vec<usize>)> {
    let width = config.protection();
    if width == 0 {
        return Vec::new();
    }
    let values = set.values();
    let known: Vec<bool> = s.iter().map(|x| !x).collect();
    let (_, progs) = programmes(values.len(), set.relations(), &known);
    let zeros = structural_zeros(values.len(), set.relations());
    let mut out = Vec::new();
    for p in progs.values() {
        for &f in p
            .vars
            .iter()
            .filter(|f| !zeros[**f] && config.is_small(values[**f]))
        {
            let hi = p.solve(values, &known, f, OptimizationDirection::Maximize);
            if hi - values[f] as f64 >= width as f64 - 1e-6 {
                continue;
            }
            let lo = p.solve(values, &known, f, OptimizationDirection::Minimize);
            if !(Interval { lo, hi }).protects(width) {
                out.push((f, p.vars.clone()));
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vve::suppression::Table;

    #[test]
    fn a_row_of_two_small_cells_is_narrowed_to_their_sum() {
        // 3 + 2 + 50 = 55: with 50 and 55 published, 3 lies in [0, 5].
        let mut t = Table::new(
            vec!["r".into()],
            vec!["a".into(), "b".into(), "c".into()],
            true,
            false,
        );
        t.cells[0] = vec![3, 2, 50];
        let mut set = Linked::default();
        let id = set.add(&t);
        let known: Vec<bool> = (0..set.values().len())
            .map(|f| set.values()[f] > 7)
            .collect();
        let a = set.figure(id, (0, 0)).unwrap();
        let x = &intervals(set.values(), set.relations(), &known, &[a])[0];
        assert_eq!((x.interval.lo.round(), x.interval.hi.round()), (0.0, 5.0));
        // Suppression takes 50 as well: then 3 lies in [0, 55].
        let s = set.suppress(&SuppressionConfig::default(), &[]);
        let known: Vec<bool> = s.iter().map(|x| !x).collect();
        let x = &intervals(set.values(), set.relations(), &known, &[a])[0];
        assert!(x.interval.protects(7), "{x:?}");
    }
}

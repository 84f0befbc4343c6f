//! Small-cell suppression with secondary suppression, for tables of counts of children.
//!
//! A table is a grid of counts with (optionally) published row totals, column totals and a grand
//! total. Every row and every column with a published total is a *line*: its parts add up to its
//! total. The totals column and the totals row are lines too (their total is the grand total).
//!
//! 1. Primary: every count in `0..=threshold` (or `1..=threshold` without `suppress_zero`) is
//!    suppressed, totals included (CBS youth-care practice: 0-7).
//! 2. Secondary: while some line with a published total has exactly one suppressed part, that part
//!    could be recovered as total minus the others; so the smallest non-zero published part of
//!    that line is suppressed as well (a zero only when no other part is left; if there is none,
//!    the total itself). Repeat until no line has exactly one.
//!
//! Guarantees (property-tested): every primary cell is suppressed; no line with a published total
//! has exactly one suppressed part; every published value is the original value. Limits: this
//! protects against recovery from single lines; a determined attacker combining several lines
//! (linear programming over the whole table) can sometimes narrow a suppressed cell down to an
//! interval. Tables that share margins are linked by the caller with `forced` cells.

/// Suppression settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuppressionConfig {
    /// Counts up to and including this are suppressed.
    pub threshold: u64,
    /// Whether zero counts are suppressed too.
    pub suppress_zero: bool,
}

impl Default for SuppressionConfig {
    /// After CBS youth-care practice (DOMAIN.md): counts 0-7 are not published.
    fn default() -> Self {
        SuppressionConfig {
            threshold: 7,
            suppress_zero: true,
        }
    }
}

impl SuppressionConfig {
    pub fn is_small(&self, v: u64) -> bool {
        v <= self.threshold && (self.suppress_zero || v > 0)
    }

    /// The protection a suppressed figure keeps: an attacker who combines every published figure
    /// linearly must not narrow it to an interval narrower than this, so that it stays as
    /// uncertain as the threshold makes a small count (one of `0..=threshold`, or `1..=threshold`
    /// when zeros are published: as many values as the threshold hides).
    pub fn protection(&self) -> u64 {
        if self.suppress_zero {
            self.threshold
        } else {
            self.threshold.saturating_sub(1)
        }
    }
}

/// A table of counts before suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    /// `cells[row][col]`.
    pub cells: Vec<Vec<u64>>,
    /// Whether each row's total is published.
    pub row_totals: bool,
    /// Whether each column's total is published.
    pub col_totals: bool,
}

/// A position in the extended grid: rows `0..r` and columns `0..c` are cells, row `r` holds the
/// column totals, column `c` the row totals, `(r, c)` the grand total.
pub type Pos = (usize, usize);

impl Table {
    pub fn new(rows: Vec<String>, cols: Vec<String>, row_totals: bool, col_totals: bool) -> Self {
        let cells = vec![vec![0; cols.len()]; rows.len()];
        Table {
            rows,
            cols,
            cells,
            row_totals,
            col_totals,
        }
    }

    fn r(&self) -> usize {
        self.rows.len()
    }

    fn c(&self) -> usize {
        self.cols.len()
    }

    pub fn row_total(&self, i: usize) -> u64 {
        self.cells[i].iter().sum()
    }

    pub fn col_total(&self, j: usize) -> u64 {
        self.cells.iter().map(|row| row[j]).sum()
    }

    pub fn grand_total(&self) -> u64 {
        self.cells.iter().flatten().sum()
    }

    /// The position of the grand total, when it is published.
    pub fn grand_pos(&self) -> Option<Pos> {
        (self.row_totals && self.col_totals).then_some((self.r(), self.c()))
    }

    /// The position of column `j`'s total.
    pub fn col_total_pos(&self, j: usize) -> Pos {
        (self.r(), j)
    }

    /// The value at a position of the extended grid, if that position exists.
    pub fn value(&self, (i, j): Pos) -> Option<u64> {
        let (r, c) = (self.r(), self.c());
        match (i < r, j < c) {
            (true, true) => Some(self.cells[i][j]),
            (true, false) if j == c && self.row_totals => Some(self.row_total(i)),
            (false, true) if i == r && self.col_totals => Some(self.col_total(j)),
            (false, false) if i == r && j == c && self.row_totals && self.col_totals => {
                Some(self.grand_total())
            }
            _ => None,
        }
    }

    /// Every existing position.
    pub fn positions(&self) -> Vec<Pos> {
        let mut out = Vec::new();
        for i in 0..=self.r() {
            for j in 0..=self.c() {
                if self.value((i, j)).is_some() {
                    out.push((i, j));
                }
            }
        }
        out
    }

    /// Every line: (parts, total).
    pub fn lines(&self) -> Vec<(Vec<Pos>, Pos)> {
        let (r, c) = (self.r(), self.c());
        let mut lines = Vec::new();
        if self.row_totals {
            for i in 0..r {
                lines.push(((0..c).map(|j| (i, j)).collect(), (i, c)));
            }
        }
        if self.col_totals {
            for j in 0..c {
                lines.push(((0..r).map(|i| (i, j)).collect(), (r, j)));
            }
        }
        if self.row_totals && self.col_totals {
            lines.push(((0..c).map(|j| (r, j)).collect(), (r, c)));
            lines.push(((0..r).map(|i| (i, c)).collect(), (r, c)));
        }
        lines
    }
}

/// Which positions are suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    suppressed: Vec<Vec<bool>>,
}

impl Pattern {
    pub fn is_suppressed(&self, (i, j): Pos) -> bool {
        self.suppressed
            .get(i)
            .and_then(|row| row.get(j))
            .copied()
            .unwrap_or(false)
    }

    pub fn count(&self) -> usize {
        self.suppressed.iter().flatten().filter(|s| **s).count()
    }
}

/// Computes the suppression pattern of `table` on its own (a table that shares no figure with any
/// other); `forced` positions are suppressed regardless. See [`Linked`] for tables that do.
pub fn suppress(table: &Table, config: &SuppressionConfig, forced: &[Pos]) -> Pattern {
    let mut set = Linked::default();
    let id = set.add(table);
    let forced: Vec<usize> = forced.iter().filter_map(|p| set.figure(id, *p)).collect();
    let s = set.suppress(config, &forced);
    set.pattern(id, &s)
}

/// How the parts of a [`Relation`] compare with its total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// The parts add up to the total (a line of a table, or one figure shown in two places).
    Eq,
    /// The parts add up to at most the total.
    AtMost,
    /// The parts add up to at least the total (children counted under several criteria).
    AtLeast,
}

/// A linear relation between figures that anyone reading the tables knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub parts: Vec<usize>,
    pub total: usize,
    pub cmp: Cmp,
}

/// Which table of a [`Linked`] set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableId(usize);

/// A set of linked tables: every figure of every table a user can fetch together (a quarter's
/// tables with their trend row; the all-years table with every year), and every relation between
/// them. Suppression is decided over the whole set at once, so that no figure published anywhere
/// in it, combined linearly with any others, narrows a suppressed figure down (ADR 0701).
#[derive(Debug, Clone, Default)]
pub struct Linked {
    values: Vec<u64>,
    relations: Vec<Relation>,
    /// Per table: its figure at each position of its extended grid.
    tables: Vec<Vec<Vec<Option<usize>>>>,
}

impl Linked {
    /// A figure that is part of no table (e.g. a complement that is never shown).
    pub fn figure_of(&mut self, value: u64) -> usize {
        self.values.push(value);
        self.values.len() - 1
    }

    /// Adds a table: one figure per position, its lines as relations.
    pub fn add(&mut self, t: &Table) -> TableId {
        let mut grid = vec![vec![None; t.c() + 1]; t.r() + 1];
        for pos in t.positions() {
            let v = t.value(pos).unwrap_or(0);
            grid[pos.0][pos.1] = Some(self.figure_of(v));
        }
        for (parts, total) in t.lines() {
            let parts = parts.iter().filter_map(|p| grid[p.0][p.1]).collect();
            if let Some(total) = grid[total.0][total.1] {
                self.relate(parts, total, Cmp::Eq);
            }
        }
        self.tables.push(grid);
        TableId(self.tables.len() - 1)
    }

    /// The figure at `pos` of table `t`.
    pub fn figure(&self, t: TableId, (i, j): Pos) -> Option<usize> {
        self.tables.get(t.0)?.get(i)?.get(j).copied().flatten()
    }

    pub fn relate(&mut self, parts: Vec<usize>, total: usize, cmp: Cmp) {
        self.relations.push(Relation { parts, total, cmp });
    }

    /// Two figures that are the same number (a margin shown in two tables).
    pub fn same(&mut self, a: usize, b: usize) {
        self.relate(vec![a], b, Cmp::Eq);
    }

    pub fn values(&self) -> &[u64] {
        &self.values
    }

    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }

    /// The suppression of the whole set: `true` for every suppressed figure.
    ///
    /// 1. Primary: every small figure (and every `forced` one).
    /// 2. Secondary, per line: while a relation of equality with a published total has exactly
    ///    one suppressed part, or suppressed parts that add up to less than the protection (see
    ///    [`SuppressionConfig::protection`]), its smallest non-zero published part is suppressed
    ///    (a zero only when nothing else is left; if nothing is, the total). An equality of two
    ///    figures counts both ways.
    /// 3. Secondary, over the whole set: the audit's linear programme ([`crate::audit`]) computes
    ///    the interval an attacker can narrow each small suppressed figure to from everything
    ///    published (a secondary one protects, it needs no protection of its own); while one is
    ///    narrower than the protection, the smallest published figure of a relation
    ///    through it (or, failing that, through its group of linked suppressed figures) is
    ///    suppressed as well, and step 2 runs again.
    pub fn suppress(&self, config: &SuppressionConfig, forced: &[usize]) -> Vec<bool> {
        let n = self.values.len();
        let mut s = vec![false; n];
        for (i, v) in self.values.iter().enumerate() {
            s[i] = config.is_small(*v);
        }
        for &f in forced {
            if f < n {
                s[f] = true;
            }
        }
        let width = config.protection();
        loop {
            self.secondary_by_line(&mut s, width);
            let narrow = crate::audit::narrow_groups(self, &s, config);
            if narrow.is_empty() {
                return s;
            }
            let mut changed = false;
            for (figure, group) in narrow {
                if let Some(c) = self.partner(figure, &group, &s) {
                    changed |= !s[c];
                    s[c] = true;
                }
            }
            if !changed {
                return s;
            }
        }
    }

    /// Every equality as (parts, total), an equality of two figures both ways.
    fn lines(&self) -> Vec<(Vec<usize>, usize)> {
        let mut out = Vec::new();
        for r in self.relations.iter().filter(|r| r.cmp == Cmp::Eq) {
            out.push((r.parts.clone(), r.total));
            if let [one] = r.parts[..] {
                out.push((vec![r.total], one));
            }
        }
        out
    }

    fn secondary_by_line(&self, s: &mut [bool], width: u64) {
        let v = &self.values;
        let lines = self.lines();
        loop {
            let mut changed = false;
            for (parts, total) in &lines {
                if s[*total] {
                    continue;
                }
                let hidden = parts.iter().filter(|q| s[**q]).count();
                let sum: u64 = parts.iter().filter(|q| s[**q]).map(|q| v[*q]).sum();
                if hidden == 0 || (hidden > 1 && sum >= width) {
                    continue;
                }
                // The smallest non-zero published part: a zero partner protects nothing when a
                // zero total elsewhere pins it down. Zeros only when nothing else is left.
                let c = parts
                    .iter()
                    .copied()
                    .filter(|q| !s[*q])
                    .min_by_key(|q| (v[*q] == 0, v[*q], *q))
                    .unwrap_or(*total);
                changed |= !s[c];
                s[c] = true;
            }
            if !changed {
                return;
            }
        }
    }

    /// The published figure to suppress so that `figure` (narrow, in `group`) widens: the
    /// smallest non-zero one of a relation through `figure`, else through its group.
    fn partner(&self, figure: usize, group: &[usize], s: &[bool]) -> Option<usize> {
        let v = &self.values;
        let through = |f: usize| {
            self.relations
                .iter()
                .filter(move |r| r.total == f || r.parts.contains(&f))
                .flat_map(|r| r.parts.iter().copied().chain(std::iter::once(r.total)))
                .filter(|q| !s[*q])
        };
        let best = |it: &mut dyn Iterator<Item = usize>| it.min_by_key(|q| (v[*q] == 0, v[*q], *q));
        best(&mut through(figure)).or_else(|| best(&mut group.iter().flat_map(|g| through(*g))))
    }

    /// The pattern of one table.
    pub fn pattern(&self, t: TableId, s: &[bool]) -> Pattern {
        let grid = &self.tables[t.0];
        Pattern {
            suppressed: grid
                .iter()
                .map(|row| row.iter().map(|f| f.is_some_and(|f| s[f])).collect())
                .collect(),
        }
    }
}

/// A table as published: suppressed values are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub cells: Vec<Vec<Option<u64>>>,
    pub row_totals: Option<Vec<Option<u64>>>,
    pub col_totals: Option<Vec<Option<u64>>>,
    pub grand_total: Option<u64>,
}

/// Applies a pattern.
pub fn publish(table: &Table, pattern: &Pattern) -> Published {
    let show = |pos: Pos| table.value(pos).filter(|_| !pattern.is_suppressed(pos));
    let (r, c) = (table.r(), table.c());
    Published {
        rows: table.rows.clone(),
        cols: table.cols.clone(),
        cells: (0..r)
            .map(|i| (0..c).map(|j| show((i, j))).collect())
            .collect(),
        row_totals: table
            .row_totals
            .then(|| (0..r).map(|i| show((i, c))).collect()),
        col_totals: table
            .col_totals
            .then(|| (0..c).map(|j| show((r, j))).collect()),
        grand_total: show((r, c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(cells: Vec<Vec<u64>>, row_totals: bool, col_totals: bool) -> Table {
        let rows = (0..cells.len()).map(|i| format!("r{i}")).collect();
        let cols = (0..cells.first().map_or(0, Vec::len))
            .map(|j| format!("c{j}"))
            .collect();
        Table {
            rows,
            cols,
            cells,
            row_totals,
            col_totals,
        }
    }

    #[test]
    fn a_single_small_cell_takes_a_partner_in_its_row_and_column() {
        let cfg = SuppressionConfig::default();
        let t = table(
            vec![vec![20, 3, 30], vec![25, 40, 50], vec![60, 70, 80]],
            true,
            true,
        );
        let p = suppress(&t, &cfg, &[]);
        let pb = publish(&t, &p);
        assert_eq!(pb.cells[0][1], None);
        // Row 0: the smallest other part (20) goes too; column 1: 40 goes; then row 1 and column 0
        // each have one, so 25 closes both.
        assert_eq!(pb.cells[0][0], None);
        assert_eq!(pb.cells[1][1], None);
        assert_eq!(pb.cells[1][0], None);
        assert_eq!(pb.cells[2], vec![Some(60), Some(70), Some(80)]);
        assert_eq!(pb.grand_total, Some(t.grand_total()));
        assert_eq!(pb.row_totals.unwrap(), vec![Some(53), Some(115), Some(210)]);
    }

    #[test]
    fn a_one_column_table_suppresses_the_total_with_the_cell() {
        let t = table(vec![vec![5], vec![30]], true, false);
        let p = suppress(&t, &SuppressionConfig::default(), &[]);
        let pb = publish(&t, &p);
        assert_eq!(pb.cells, vec![vec![None], vec![Some(30)]]);
        assert_eq!(pb.row_totals.unwrap(), vec![None, Some(30)]);
    }

    #[test]
    fn zeros_are_published_when_configured() {
        let cfg = SuppressionConfig {
            threshold: 7,
            suppress_zero: false,
        };
        let t = table(vec![vec![0, 30], vec![30, 40]], true, true);
        assert_eq!(suppress(&t, &cfg, &[]).count(), 0);
        assert!(suppress(&t, &SuppressionConfig::default(), &[]).count() >= 4);
    }

    fn arb_table() -> impl Strategy<Value = Table> {
        (1usize..7, 1usize..7, any::<bool>(), any::<bool>()).prop_flat_map(|(r, c, rt, ct)| {
            proptest::collection::vec(
                proptest::collection::vec(prop_oneof![0u64..10, 0u64..60], c),
                r,
            )
            .prop_map(move |cells| table(cells, rt, ct))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn no_suppressed_cell_can_be_recovered_from_a_published_total(
            t in arb_table(),
            threshold in 0u64..9,
            suppress_zero in any::<bool>(),
            forced_seed in proptest::collection::vec((0usize..8, 0usize..8), 0..3),
        ) {
            let cfg = SuppressionConfig { threshold, suppress_zero };
            let forced: Vec<Pos> = forced_seed.into_iter().filter(|p| t.value(*p).is_some()).collect();
            let p = suppress(&t, &cfg, &forced);
            let published = publish(&t, &p);
            // Primary and forced cells are suppressed.
            for pos in t.positions() {
                if cfg.is_small(t.value(pos).unwrap()) || forced.contains(&pos) {
                    prop_assert!(p.is_suppressed(pos));
                }
            }
            // No line with a published total has exactly one suppressed part.
            for (parts, total) in t.lines() {
                if !p.is_suppressed(total) {
                    let n = parts.iter().filter(|q| p.is_suppressed(**q)).count();
                    prop_assert!(n != 1, "line with total {total:?} has one suppressed part");
                }
            }
            // Published values are the original values, totals included.
            for (i, row) in published.cells.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    if let Some(v) = v { prop_assert_eq!(*v, t.cells[i][j]); }
                }
            }
            if let Some(rt) = &published.row_totals {
                for (i, v) in rt.iter().enumerate() {
                    if let Some(v) = v { prop_assert_eq!(*v, t.row_total(i)); }
                }
            }
            if let Some(ct) = &published.col_totals {
                for (j, v) in ct.iter().enumerate() {
                    if let Some(v) = v { prop_assert_eq!(*v, t.col_total(j)); }
                }
            }
            if let Some(g) = published.grand_total { prop_assert_eq!(g, t.grand_total()); }
        }
    }
}

//! Exports of the monitor: CSV (long format, one published value a line) and an XLSX workbook in
//! the shape of the providers' quarterly monitor ("format monitor en verantwoording": placements
//! per month per provider location), followed by the monitor's tables. Suppressed cells are
//! written as `x`, never as a number. Both are written from the same published report
//! ([`MonitorReport`]), so the suppression audit of the report covers them.
//!
//! Every text cell is escaped against CSV (formula) injection after OWASP: a cell that starts
//! with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote, so that a
//! spreadsheet shows it as text instead of evaluating it ([`escape`]).

use std::collections::BTreeMap;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::monitor::{MonitorConfig, ProviderMonth, Quarter};
use super::queries::{MonitorReport, TableOut};
use super::suppression::{publish, suppress, Published, Table};

/// Written for a suppressed value.
pub const SUPPRESSED: &str = "x";

fn cell(v: Option<u64>) -> String {
    v.map_or_else(|| SUPPRESSED.to_owned(), |v| v.to_string())
}

/// A text cell as an export writes it: prefixed with `'` when a spreadsheet would take it for a
/// formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return; OWASP CSV injection).
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// One cell of a sheet of the workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetCell {
    Number(u64),
    /// Already escaped ([`escape`]).
    Text(String),
}

impl SheetCell {
    fn of(v: Option<u64>) -> Self {
        v.map_or_else(|| SheetCell::Text(SUPPRESSED.to_owned()), SheetCell::Number)
    }
}

impl std::fmt::Display for SheetCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SheetCell::Number(v) => write!(f, "{v}"),
            SheetCell::Text(s) => f.write_str(s),
        }
    }
}

/// One of the monitor's tables as a sheet of the workbook: row labels, column labels (with
/// `totaal` for the row totals and a `totaal` row for the column totals, where published) and
/// the cells, labels escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub cells: Vec<Vec<SheetCell>>,
}

/// The monitor's tables as the workbook's sheets (after the providers' sheet).
pub fn report_sheets(r: &MonitorReport) -> Vec<Sheet> {
    tables(r)
        .into_iter()
        .map(|(name, t)| {
            let label = |s: &String| escape(s).into_owned();
            let mut rows: Vec<String> = t.rijen.iter().map(label).collect();
            let mut cols: Vec<String> = t.kolommen.iter().map(label).collect();
            let mut cells: Vec<Vec<SheetCell>> = t
                .cellen
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    let mut out: Vec<SheetCell> = row.iter().map(|v| SheetCell::of(*v)).collect();
                    if let Some(rt) = &t.rijtotalen {
                        out.push(SheetCell::of(rt.get(i).copied().flatten()));
                    }
                    out
                })
                .collect();
            if t.rijtotalen.is_some() {
                cols.push("totaal".into());
            }
            if let Some(ct) = &t.kolomtotalen {
                rows.push("totaal".into());
                let mut out: Vec<SheetCell> = ct.iter().map(|v| SheetCell::of(*v)).collect();
                if t.rijtotalen.is_some() {
                    out.push(SheetCell::of(t.totaal));
                }
                cells.push(out);
            }
            Sheet {
                name: name.to_owned(),
                rows,
                cols,
                cells,
            }
        })
        .collect()
}

fn tables(r: &MonitorReport) -> [(&'static str, &TableOut); 5] {
    [
        ("bereik-per-wijk", &r.per_wijk),
        ("bereik-per-criterium", &r.per_criterium),
        ("bereik-per-locatie", &r.per_locatie),
        ("redenen-ouders-zien-af", &r.redenen_afzien),
        ("trend", &r.trend),
    ]
}

/// The monitor as CSV (`;`-separated, as Dutch spreadsheet software expects): `tabel;rij;kolom;waarde`.
pub fn csv(r: &MonitorReport) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record(["gemeente", "peildatum", "tabel", "rij", "kolom", "waarde"])?;
    let peildatum = r.peildatum.to_string();
    let mut line = |tabel: &str, rij: &str, kolom: &str, waarde: String| {
        w.write_record([
            escape(&r.gemeente).as_ref(),
            peildatum.as_str(),
            escape(tabel).as_ref(),
            escape(rij).as_ref(),
            escape(kolom).as_ref(),
            escape(&waarde).as_ref(),
        ])
    };
    for (name, v) in [
        ("geindiceerd", r.geindiceerd),
        ("bereikt", r.bereikt),
        ("bereikt-minder-dan-16-uur", r.bereikt_minder_dan16_uur),
        ("niet-bereikt", r.niet_bereikt),
        ("plaatsingen-gestart", r.plaatsingen_gestart),
    ] {
        line("totalen", name, "aantal", cell(v))?;
    }
    line(
        "totalen",
        "bereik-percentage",
        "procent",
        r.bereik_percentage
            .map_or_else(|| SUPPRESSED.into(), |p| format!("{p:.1}")),
    )?;
    line(
        "totalen",
        "mediaan-dagen-indicatie-tot-plaatsing",
        "dagen",
        r.mediaan_dagen_indicatie_tot_plaatsing
            .map_or_else(|| SUPPRESSED.into(), |m| format!("{m:.1}")),
    )?;
    for (name, t) in tables(r) {
        for (i, row) in t.rijen.iter().enumerate() {
            for (j, col) in t.kolommen.iter().enumerate() {
                line(name, row, col, cell(t.cellen[i][j]))?;
            }
            if let Some(rt) = &t.rijtotalen {
                line(name, row, "totaal", cell(rt[i]))?;
            }
        }
        if let Some(ct) = &t.kolomtotalen {
            for (j, col) in t.kolommen.iter().enumerate() {
                line(name, "totaal", col, cell(ct[j]))?;
            }
            if t.rijtotalen.is_some() {
                line(name, "totaal", "totaal", cell(t.totaal))?;
            }
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Placements per month per location, suppressed: counts by location (rows) and month x
/// (16 hours or more, under 16) (columns) with column totals; attended hours per location and
/// month are shown only where both counts of that month are shown, without totals (a total
/// would give a suppressed location's hours away).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSheet {
    pub quarter: Quarter,
    pub counts: Published,
    /// `hours[row][month]`.
    pub hours: Vec<[Option<u64>; 3]>,
}

pub fn provider_table(
    months: &BTreeMap<String, [ProviderMonth; 3]>,
    quarter: Quarter,
    config: &MonitorConfig,
) -> ProviderSheet {
    let mut cols = Vec::new();
    for m in quarter.months() {
        let label = m.format("%Y-%m").to_string();
        cols.push(format!("{label} 16 uur of meer"));
        cols.push(format!("{label} minder dan 16 uur"));
    }
    let mut t = Table::new(months.keys().cloned().collect(), cols, false, true);
    for (i, (_, ms)) in months.iter().enumerate() {
        for (m, pm) in ms.iter().enumerate() {
            t.cells[i][2 * m] = pm.full;
            t.cells[i][2 * m + 1] = pm.under_16;
        }
    }
    let p = suppress(&t, &config.suppression, &[]);
    let mut counts = publish(&t, &p);
    let round = |v: &mut Option<u64>| {
        if let Some(x) = v {
            *x = super::monitor::round_count(*x, config.round_to);
        }
    };
    counts.cells.iter_mut().flatten().for_each(round);
    if let Some(ct) = counts.col_totals.as_mut() {
        ct.iter_mut().for_each(round);
    }
    let hours = months
        .values()
        .enumerate()
        .map(|(i, ms)| {
            std::array::from_fn(|m| {
                let shown =
                    counts.cells[i][2 * m].is_some() && counts.cells[i][2 * m + 1].is_some();
                shown.then_some(ms[m].attended_hours)
            })
        })
        .collect();
    ProviderSheet {
        quarter,
        counts,
        hours,
    }
}

fn write_opt(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    v: Option<u64>,
) -> Result<(), XlsxError> {
    match v {
        Some(v) => ws.write_number(row, col, v as f64).map(|_| ()),
        None => ws.write_string(row, col, SUPPRESSED).map(|_| ()),
    }
}

/// The XLSX workbook.
pub fn xlsx(r: &MonitorReport, providers: &ProviderSheet) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    {
        let ws = wb.add_worksheet();
        ws.set_name("Plaatsingen per maand")?;
        ws.write_string_with_format(
            0,
            0,
            format!(
                "Monitor en verantwoording VVE, gemeente {}, {}e kwartaal {} (peildatum {})",
                escape(&r.gemeente),
                r.kwartaal,
                r.jaar,
                r.peildatum
            ),
            &bold,
        )?;
        ws.write_string(1, 0, "Aantal VVE-peuters met indicatie per maand per locatie; x = onderdrukt (kleine aantallen).")?;
        ws.write_string_with_format(3, 0, "LRK-nummer locatie", &bold)?;
        let c = &providers.counts;
        let mut col: u16 = 1;
        for (m, first) in providers.quarter.months().iter().enumerate() {
            let label = first.format("%Y-%m").to_string();
            ws.write_string_with_format(3, col, format!("{label} 16 uur of meer"), &bold)?;
            ws.write_string_with_format(3, col + 1, format!("{label} minder dan 16 uur"), &bold)?;
            ws.write_string_with_format(3, col + 2, format!("{label} uren aanwezig"), &bold)?;
            for (i, loc) in c.rows.iter().enumerate() {
                let row = 4 + i as u32;
                if m == 0 {
                    ws.write_string(row, 0, escape(loc))?;
                }
                write_opt(ws, row, col, c.cells[i][2 * m])?;
                write_opt(ws, row, col + 1, c.cells[i][2 * m + 1])?;
                write_opt(ws, row, col + 2, providers.hours[i][m])?;
            }
            col += 3;
        }
        let total_row = 4 + c.rows.len() as u32;
        ws.write_string_with_format(total_row, 0, "Totaal", &bold)?;
        if let Some(ct) = &c.col_totals {
            for m in 0..3u16 {
                write_opt(ws, total_row, 1 + 3 * m, ct[2 * m as usize])?;
                write_opt(ws, total_row, 2 + 3 * m, ct[2 * m as usize + 1])?;
            }
        }
        ws.set_column_width(0, 22)?;
    }
    for sheet in report_sheets(r) {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name)?;
        ws.write_string_with_format(0, 0, &sheet.name, &bold)?;
        for (j, col) in sheet.cols.iter().enumerate() {
            ws.write_string_with_format(1, 1 + j as u16, col, &bold)?;
        }
        for (i, row) in sheet.rows.iter().enumerate() {
            let r = 2 + i as u32;
            if row == "totaal" && i + 1 == sheet.rows.len() {
                ws.write_string_with_format(r, 0, row, &bold)?;
            } else {
                ws.write_string(r, 0, row)?;
            }
            for (j, c) in sheet.cells[i].iter().enumerate() {
                match c {
                    SheetCell::Number(v) => ws.write_number(r, 1 + j as u16, *v as f64)?,
                    SheetCell::Text(t) => ws.write_string(r, 1 + j as u16, t)?,
                };
            }
        }
        ws.set_column_width(0, 30)?;
    }
    wb.save_to_buffer()
}

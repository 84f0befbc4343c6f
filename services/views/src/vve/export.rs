//! Exports of the monitor: CSV (long format, one published value a line) and an XLSX workbook in
//! the shape of the providers' quarterly monitor ("format monitor en verantwoording": placements
//! per month per provider location), followed by the monitor's tables. Suppressed cells are
//! written as `x`, never as a number.

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
            r.gemeente.as_str(),
            peildatum.as_str(),
            tabel,
            rij,
            kolom,
            waarde.as_str(),
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
                r.gemeente, r.kwartaal, r.jaar, r.peildatum
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
                    ws.write_string(row, 0, loc)?;
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
    for (name, t) in tables(r) {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        ws.write_string_with_format(0, 0, name, &bold)?;
        for (j, col) in t.kolommen.iter().enumerate() {
            ws.write_string_with_format(1, 1 + j as u16, col, &bold)?;
        }
        let total_col = 1 + t.kolommen.len() as u16;
        if t.rijtotalen.is_some() {
            ws.write_string_with_format(1, total_col, "totaal", &bold)?;
        }
        for (i, row) in t.rijen.iter().enumerate() {
            let r = 2 + i as u32;
            ws.write_string(r, 0, row)?;
            for j in 0..t.kolommen.len() {
                write_opt(ws, r, 1 + j as u16, t.cellen[i][j])?;
            }
            if let Some(rt) = &t.rijtotalen {
                write_opt(ws, r, total_col, rt[i])?;
            }
        }
        if let Some(ct) = &t.kolomtotalen {
            let r = 2 + t.rijen.len() as u32;
            ws.write_string_with_format(r, 0, "totaal", &bold)?;
            for (j, v) in ct.iter().enumerate() {
                write_opt(ws, r, 1 + j as u16, *v)?;
            }
            if t.rijtotalen.is_some() {
                write_opt(ws, r, total_col, t.totaal)?;
            }
        }
        ws.set_column_width(0, 30)?;
    }
    wb.save_to_buffer()
}

